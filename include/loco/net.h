/*
 * The wire protocol of the networked engine (`loco coordinator`, `loco
 * worker`): versioned, authenticated, length-checked binary messages carried
 * over ZeroMQ.  docs/protocol.md gives the format byte by byte.
 *
 * A message is two ZeroMQ frames: a header of LOCO_NET_HEADER_BYTES bytes
 * and a payload of header.payload_len bytes (possibly empty).  Everything is
 * little-endian whatever the host.  The header:
 *    0  magic        4 bytes "LOCO"
 *    4  version      u16, LOCO_NET_VERSION
 *    6  type         u16, loco_net_type
 *    8  sender       u32, a worker id, LOCO_NET_COORDINATOR or LOCO_NET_ANON
 *   12  reserved     u32, 0
 *   16  seq          u64, the sender's sequence number, strictly increasing
 *   24  run_id       u64, the run (0 in HELLO: the worker does not know it yet)
 *   32  session      u64, the worker's session (0 in HELLO), given by WELCOME
 *   40  payload_len  u64
 *   48  reserved     u64, 0 (version 2's FNV-1a checksum: the MAC covers every byte)
 *   56  mac          32 bytes, over the header's first 56 bytes and the payload
 * The key K is SHA-256("loco-net-1" || secret), the secret being the contents
 * of the run's secret file.  The MAC (docs/protocol.md, "MAC") is keyed
 * BLAKE2b over the header and a digest of the payload; the digest is keyed
 * BLAKE2b over the Poly1305 tags of the payload's 1 MiB chunks, each under
 * its own key derived from K.  The chunks are hashed in parallel, and a
 * message broadcast to many workers digests its payload once: the sealer
 * keeps the digest for each recipient's header.
 *
 * Replay protection: a receiver accepts a message only if its seq is above
 * the last one accepted from that sender in that session; HELLO (which opens
 * a session) carries a random nonce and a wall-clock timestamp, and a HELLO
 * whose timestamp is outside the allowed skew, or whose nonce was seen
 * before, is rejected.  WELCOME echoes the nonce, binding it to that HELLO.
 *
 * Every decoder here validates every field and the exact length before
 * trusting anything: the bytes come from the network (fuzz/fuzz_proto.c).
 */
#ifndef LOCO_NET_H
#define LOCO_NET_H

#include <stddef.h>
#include <stdint.h>
#include "loco/codec.h"
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOCO_NET_VERSION 3
#define LOCO_NET_MAC_CHUNK ((size_t)1 << 20)   /* bytes per chunk of the payload MAC (fixed: part of the format) */
#define LOCO_NET_HEADER_BYTES 88
#define LOCO_NET_MAC_BYTES 32
#define LOCO_NET_NONCE_BYTES 16
#define LOCO_NET_COORDINATOR 0xffffffffu   /* sender id of the coordinator */
#define LOCO_NET_ANON 0xfffffffeu          /* sender id of a worker before WELCOME */
#define LOCO_NET_MIN_SECRET 16             /* bytes a secret must have at least */
#define LOCO_NET_MAX_TEXT 256              /* longest ERROR text */

/* Every message type of the protocol, DiLoCo's, asynchronous DiLoCo's and
 * DiPaCo's, in one place: the ids are part of the format (never renumber
 * one).  loco_net_type_info() gives each one's name and payload size. */
typedef enum {
    LOCO_NET_HELLO = 1,   /* worker -> coordinator: join (nonce, timestamp) */
    LOCO_NET_WELCOME = 2, /* coordinator -> worker: worker id, session, run configuration, data split */
    LOCO_NET_TASK = 3,    /* coordinator -> worker: round, shard, inner steps, first schedule step */
    LOCO_NET_THETA = 4,   /* coordinator -> worker: theta's version and parameters (fp32) */
    LOCO_NET_PUSH = 5,    /* worker -> coordinator: round, base version, losses, encoded contribution */
    LOCO_NET_HEARTBEAT = 6, /* either way: still alive (round, inner steps done) */
    LOCO_NET_BYE = 7,     /* either way: leaving / the run is over */
    LOCO_NET_ERROR = 8,   /* either way: a refusal, with a code and a line of text */
    /* Asynchronous DiLoCo and the compressed download (below). */
    LOCO_NET_ATASK = 9,   /* coordinator -> worker: a task with its shard's data stream */
    LOCO_NET_OSYNC = 10,  /* coordinator -> worker: the outer optimizer's state (resync) */
    LOCO_NET_DOWN = 11,   /* coordinator -> worker: the mean pseudo-gradient of an outer step */
    /* DiPaCo (below). */
    LOCO_NET_DPASK = 20,  /* worker -> coordinator: asks for a path to train */
    LOCO_NET_DPTASK = 21, /* coordinator -> worker: a lease on a path, with its parameters */
    LOCO_NET_DPPUSH = 22  /* worker -> coordinator: the path's parameters after the lease */
} loco_net_type;

/* Which way a message goes. */
#define LOCO_NET_TO_COORDINATOR 1u
#define LOCO_NET_TO_WORKER 2u

typedef struct {
    int type;             /* loco_net_type */
    const char *name;     /* "HELLO", ... */
    uint32_t fixed;       /* bytes of the payload's fixed part */
    uint8_t exact;        /* 1: the payload is exactly `fixed` bytes; 0: at least, a variable part following */
    uint8_t dirs;         /* LOCO_NET_TO_COORDINATOR | LOCO_NET_TO_WORKER */
} loco_net_type_desc;

/* The whole table, in id order; *n (if not NULL) gets its length. */
const loco_net_type_desc *loco_net_types(int *n);
/* The entry of one type; NULL for an id that is not a type. */
const loco_net_type_desc *loco_net_type_info(int type);
/* The name of a message type ("HELLO", ...); "unknown" otherwise. */
const char *loco_net_type_name(int type);

typedef struct {
    uint16_t version, type;
    uint32_t sender;
    uint64_t seq, run_id, session, payload_len;
    uint64_t checksum;   /* always 0 since version 3 (the field is reserved on the wire); kept for the API */
} loco_net_header;

/* The network engines print nothing.  Each event line ("loco coordinator:
 * worker 2 joined", "loco worker: dropped a message: bad MAC ...") goes,
 * without a newline, to the caller's log function; with fn NULL it is
 * dropped.  The command line prints them on stderr. */
typedef void (*loco_net_log_fn)(void *ctx, const char *line);
typedef struct {
    loco_net_log_fn fn;
    void *ctx;
} loco_net_log;

/* The MAC key derived from a run's secret. */
typedef struct {
    uint8_t k[32];
} loco_net_key;

/* Derives the key from n bytes of secret.  Returns LOCO_EINVAL (reason in
 * msg) if the secret has fewer than LOCO_NET_MIN_SECRET bytes, LOCO_EIO if
 * libsodium cannot start. */
int loco_net_key_from_secret(loco_net_key *key, const uint8_t *secret, size_t n, char *msg, size_t msglen);

/* Checks an endpoint before ZeroMQ sees it (ZeroMQ takes "tcp://h:99999"
 * and binds port 99999 mod 65536): tcp://HOST:PORT with PORT in 1..65535,
 * or "*" when binding (any free port); ipc://PATH with a path that fits a
 * socket address.  Returns LOCO_OK, or LOCO_EINVAL with one line in msg. */
int loco_net_endpoint_check(const char *endpoint, int bind, char *msg, size_t msglen);

/* Reads a secret file (its bytes, without one trailing newline) and derives
 * the key.  Returns LOCO_EIO naming the file if it cannot be read,
 * LOCO_EINVAL naming it if it is too short or over 4096 bytes. */
int loco_net_key_load(loco_net_key *key, const char *path, char *msg, size_t msglen);

/* Fills buf with n random bytes from the operating system (libsodium's
 * randombytes).  Returns LOCO_EIO if libsodium cannot start. */
int loco_net_random(void *buf, size_t n);

/* Milliseconds since the Unix epoch (the wall clock, for HELLO). */
uint64_t loco_net_wall_ms(void);

/* The digest of one payload, ready to be finished with any number of headers
 * (a broadcast hashes its payload once).  Opaque: the key and the payload's
 * digest.  checksum is always 0 (version 2's FNV-1a is gone). */
typedef struct {
    uint64_t checksum, n;
    _Alignas(16) unsigned char state[256];
} loco_net_sealer;

/* Starts a sealer over payload (n bytes; NULL when n is 0): hashes its 1 MiB
 * chunks in parallel (OpenMP; the result does not depend on the thread
 * count).  Returns LOCO_EINVAL for a NULL argument, LOCO_EIO if libsodium
 * cannot start. */
int loco_net_seal_begin(loco_net_sealer *s, const loco_net_key *key, const void *payload, size_t n);

/* Writes the LOCO_NET_HEADER_BYTES bytes of header h for the sealer's
 * payload into out, after setting h->version, h->payload_len and
 * h->checksum (0).  Returns LOCO_EINVAL for a NULL argument. */
int loco_net_seal_header(const loco_net_sealer *s, loco_net_header *h, uint8_t *out);

/* Checks a received message: payload_max first (LOCO_ERANGE if the payload
 * is longer), then the version of any header starting with the magic
 * ("protocol version V, but this build speaks version 3..."), then the
 * header's length, magic, payload length, reserved fields and MAC
 * (LOCO_EINVAL for any of them), in that order, and fills h.  msg receives a one-line reason.  Nothing here knows sequence numbers
 * or sessions: the receiver checks those against its own state. */
int loco_net_open(const loco_net_key *key, const uint8_t *hdr, size_t hdr_len, const uint8_t *payload, size_t n,
                  size_t payload_max, loco_net_header *h, char *msg, size_t msglen);

/* ------------------------------------------------------------ payloads */

typedef struct {
    uint8_t nonce[LOCO_NET_NONCE_BYTES];
    uint64_t time_ms;        /* the worker's wall clock */
    uint32_t want_id;        /* the worker id asked for, or LOCO_NET_ANON for any */
} loco_net_hello;
#define LOCO_NET_HELLO_BYTES 32

/* The data a run trains on; workers open their own copy and must match. */
typedef enum { LOCO_NET_DATA_EMBEDDED = 0, LOCO_NET_DATA_BYTES = 1, LOCO_NET_DATA_SHARDS = 2 } loco_net_data_kind;

/* What a worker needs to train its part of the run. */
typedef struct {
    uint32_t worker_id, workers;          /* this worker's id (= its shard), M */
    uint8_t nonce[LOCO_NET_NONCE_BYTES];  /* the HELLO's */
    loco_gpt_config model;
    int32_t batch, seq_len, inner_steps;
    int64_t steps;                        /* inner steps per worker over the run */
    loco_adamw_config inner;
    loco_codec codec;
    float keep;
    int32_t error_feedback;
    uint64_t seed;
    uint32_t heartbeat_ms;                /* how often the worker says it is alive */
    uint32_t data_kind;                   /* loco_net_data_kind */
    uint64_t data_docs, data_tokens, data_fingerprint;
    uint64_t n_assign;                    /* documents; assign[d] = the shard of document d */
    uint32_t ckpt_every;                  /* the coordinator checkpoints every this many rounds (0: never);
                                             workers keep their state as of those rounds to redo them */
    const uint8_t *assign;                /* n_assign u32, little-endian; borrowed from the payload */
    uint32_t run_kind;                    /* LOCO_NET_RUN_DILOCO or LOCO_NET_RUN_DIPACO (the field that was
                                             reserved, 0, before DiPaCo) */
} loco_net_welcome;

/* What a WELCOME's run is.  DiLoCo (0): worker_id < workers is the worker's
 * shard.  DiPaCo (1): workers is the number of paths P (the assignment maps
 * documents to paths), worker_id is only the worker's slot, and the tasks
 * come as leases (DPTASK, below). */
#define LOCO_NET_RUN_DILOCO 0u
#define LOCO_NET_RUN_DIPACO 1u
#define LOCO_NET_WELCOME_FIXED 168        /* bytes before the assignment */

/* WELCOME's first fields (docs/protocol.md, "WELCOME"): the worker id at 0,
 * the workers at 4, the HELLO's nonce at 8, and from byte 24 on the run's
 * configuration and data split.  What identifies a run is every byte of
 * its WELCOME but the two per-worker fields, the id and the nonce: the
 * coordinator's state file and a worker joining again both recognise the
 * run by these bytes, and by nothing else. */
#define LOCO_NET_WELCOME_AT_ID 0
#define LOCO_NET_WELCOME_AT_WORKERS 4
#define LOCO_NET_WELCOME_AT_NONCE 8
#define LOCO_NET_WELCOME_AT_RUN 24

/* 1 if the WELCOME payloads a (na bytes) and b (nb bytes) describe the same
 * run (equal but for the worker id and the nonce), 0 otherwise. */
int loco_net_welcome_same_run(const uint8_t *a, size_t na, const uint8_t *b, size_t nb);
/* A 64-bit FNV-1a digest of the same bytes, folded into h: two WELCOMEs of
 * one run give one digest whoever they were sent to. */
uint64_t loco_net_welcome_identity(uint64_t h, const uint8_t *p, size_t n);

typedef struct {
    uint64_t round, version;              /* the round, and theta's version it starts from */
    uint32_t shard, inner_steps;          /* the data shard, and h inner steps */
    uint64_t first_step;                  /* the schedule step of the first of them */
} loco_net_task;
#define LOCO_NET_TASK_BYTES 32

typedef struct {
    uint64_t version, n_params;
    const uint8_t *params;                /* n_params fp32, little-endian; borrowed */
} loco_net_theta;
#define LOCO_NET_THETA_FIXED 16

typedef struct {
    uint64_t round, base_version;
    uint32_t shard, n_losses;             /* n_losses = the h inner steps' losses */
    const uint8_t *losses;                /* n_losses fp32; borrowed */
    uint64_t contrib_len;
    const uint8_t *contrib;               /* the encoded contribution (diloco_msg.h); borrowed */
} loco_net_push;
#define LOCO_NET_PUSH_FIXED 32

typedef struct {
    uint64_t round, steps_done;
} loco_net_heartbeat;
#define LOCO_NET_HEARTBEAT_BYTES 16

typedef struct {
    uint32_t code;                        /* a loco_err, negated, or 0 */
    char text[LOCO_NET_MAX_TEXT + 1];     /* printable ASCII, NUL-terminated */
} loco_net_error;
#define LOCO_NET_ERROR_FIXED 8            /* code and length, before the text */

/* Bytes of each payload. */
size_t loco_net_welcome_bytes(uint64_t n_assign);
size_t loco_net_theta_bytes(uint64_t n_params);
size_t loco_net_push_bytes(uint32_t n_losses, uint64_t contrib_len);
size_t loco_net_error_bytes(const char *text);

/* Encoders: write the payload into out, which holds cap bytes; return the
 * bytes written, or 0 if cap is too small or an argument is NULL.  The
 * borrowed pointers of theta, push and welcome are copied from. */
size_t loco_net_encode_hello(const loco_net_hello *x, uint8_t *out, size_t cap);
size_t loco_net_encode_welcome(const loco_net_welcome *x, uint8_t *out, size_t cap);
size_t loco_net_encode_task(const loco_net_task *x, uint8_t *out, size_t cap);
/* Writes THETA's fixed part only; the parameters follow as a second buffer
 * (the caller encodes them with loco_codec_encode fp32, or sends them as
 * they are on a little-endian host). */
size_t loco_net_encode_theta_head(uint64_t version, uint64_t n_params, uint8_t *out, size_t cap);
size_t loco_net_encode_push(const loco_net_push *x, uint8_t *out, size_t cap);
/* PUSH's fixed part and losses only (x->contrib is not read; its
 * x->contrib_len bytes are to follow as a second buffer). */
size_t loco_net_encode_push_head(const loco_net_push *x, uint8_t *out, size_t cap);
size_t loco_net_encode_heartbeat(const loco_net_heartbeat *x, uint8_t *out, size_t cap);
/* text longer than LOCO_NET_MAX_TEXT is cut; bytes outside printable ASCII
 * become '?'. */
size_t loco_net_encode_error(uint32_t code, const char *text, uint8_t *out, size_t cap);

/* Decoders: parse exactly n bytes of payload into x.  Each returns
 * LOCO_EINVAL for a wrong length or any field out of its range (documented
 * in docs/protocol.md), never reading outside p[0..n). */
int loco_net_decode_hello(const uint8_t *p, size_t n, loco_net_hello *x);
int loco_net_decode_welcome(const uint8_t *p, size_t n, loco_net_welcome *x);
int loco_net_decode_task(const uint8_t *p, size_t n, loco_net_task *x);
int loco_net_decode_theta(const uint8_t *p, size_t n, loco_net_theta *x);
int loco_net_decode_push(const uint8_t *p, size_t n, loco_net_push *x);
int loco_net_decode_heartbeat(const uint8_t *p, size_t n, loco_net_heartbeat *x);
int loco_net_decode_error(const uint8_t *p, size_t n, loco_net_error *x);

/* ------------------------------------------------- asynchronous DiLoCo, compressed downloads */

/*
 * The message that asynchronous DiLoCo over the wire adds (docs/protocol.md,
 * "ATASK").
 *
 * ATASK (type 9, coordinator -> worker, 64 bytes) follows a THETA and asks
 * the worker to train on a shard the coordinator chose, from the shard's
 * own data stream, because in the asynchronous engine (as in the
 * simulator, src/sim/async_sim.c) a data shard and its stream belong to
 * the task queue, not to a worker:
 *    0  task         u64, the coordinator's task counter (echoed as PUSH's round)
 *    8  version      u64, the version of the THETA it starts from (echoed as PUSH's base_version)
 *   16  shard        u32, the data shard, < the run's workers (= shards)
 *   20  inner_steps  u32, h >= 1 (Dynamic Local Updates may make it less than H)
 *   24  first_step   u64, the schedule step of the first of them (the shard's step count)
 *   32  rng          4 x u64, the shard's xoshiro256** state at the task's start
 * The PUSH that answers it carries the pseudo-gradient theta - theta_local
 * as fp32 (4P bytes), not the worker's parameters, since the coordinator's
 * theta has moved on by the time it arrives.
 */
/*
 * Two more carry the compressed download of synchronous DiLoCo with a lossy
 * codec (fp16, bf16, int8, pruning): instead of theta in fp32, a worker
 * that holds the previous theta and the outer optimizer's state receives
 * the round's mean pseudo-gradient in the upload's encoding and takes the
 * same outer step itself (the simulator's "target, re-encoded download",
 * src/algo/diloco_msg.c), reaching the coordinator's theta bit for bit:
 *
 * OSYNC (type 10, coordinator -> worker) follows a THETA of the same
 * version: the outer optimizer and its state, so that the worker can apply
 * later DOWNs.
 *    0  version      u64, theta's version (= outer steps taken)
 *    8  kind         u32, loco_outer_kind (0 nesterov, 1 sgd, 2 adam)
 *   12  lr, momentum, beta2, eps   4 x f32
 *   28  reserved     u32, 0
 *   32  n_state      u64, loco_outer_state_floats() of the model
 *   40  state        n_state fp32
 *
 * DOWN (type 11, coordinator -> worker) replaces THETA for a worker that
 * holds version base = version - 1:
 *    0  version      u64, the new version (the outer step's count t)
 *    8  base         u64, version - 1
 *   16  bytes        u64, the encoded mean pseudo-gradient's length
 *   24  wire         the mean pseudo-gradient, encoded tensor by tensor
 *                    with the run's codec (diloco_msg.h's layout)
 */
#define LOCO_NET_ATASK_BYTES 64

typedef struct {
    uint64_t task, version;
    uint32_t shard, inner_steps;
    uint64_t first_step;
    loco_rng rng;
} loco_net_atask;

/* Writes the 64 bytes of x into out (cap bytes); returns 64, or 0 if cap is
 * too small or an argument is NULL. */
size_t loco_net_encode_atask(const loco_net_atask *x, uint8_t *out, size_t cap);

/* Parses exactly n bytes; returns LOCO_EINVAL for a wrong length, zero inner
 * steps, or an all-zero rng state (which xoshiro never leaves). */
int loco_net_decode_atask(const uint8_t *p, size_t n, loco_net_atask *x);

#define LOCO_NET_OSYNC_FIXED 40
#define LOCO_NET_DOWN_FIXED 24

typedef struct {
    uint64_t version;
    uint32_t kind;
    float lr, momentum, beta2, eps;
    uint64_t n_state;
    const uint8_t *state;     /* n_state fp32, little-endian; borrowed */
} loco_net_osync;

typedef struct {
    uint64_t version, base, bytes;
    const uint8_t *wire;      /* borrowed */
} loco_net_down;

/* Fixed parts only (the state or wire follows as a second buffer); return
 * the bytes written, or 0 if cap is too small or an argument is NULL. */
size_t loco_net_encode_osync_head(const loco_net_osync *x, uint8_t *out, size_t cap);
size_t loco_net_encode_down_head(const loco_net_down *x, uint8_t *out, size_t cap);
/* Exactly n bytes; LOCO_EINVAL for a wrong length, an unknown optimizer
 * kind, a non-zero reserved field or non-finite hyper-parameters (OSYNC),
 * or base + 1 != version (DOWN). */
int loco_net_decode_osync(const uint8_t *p, size_t n, loco_net_osync *x);
int loco_net_decode_down(const uint8_t *p, size_t n, loco_net_down *x);

/* ------------------------------------------------------------ DiPaCo */

/*
 * The three messages that DiPaCo's task queue adds (docs/protocol.md,
 * "DiPaCo").
 *
 * A DiPaCo run's WELCOME says run_kind = LOCO_NET_RUN_DIPACO; its `workers`
 * is the number of paths P and its assignment maps documents to paths.
 * From then on a worker holds no shard: it asks for work, and trains the
 * (path, round) task it is leased.
 *
 * DPASK (type 20, worker -> coordinator, 8 bytes): the worker is idle and
 * wants a task.
 *    0  done         u64, tasks this worker pushed so far (informational)
 * The coordinator remembers the request and answers it with a DPTASK when a
 * task is in the queue (at once, or when one is given back or the next
 * round begins).  A DPASK from a worker that holds a lease says the worker
 * does not have it (it never arrived): the lease goes back to the queue.
 *
 * DPTASK (type 21, coordinator -> worker): a lease and the path's
 * parameters, gathered from the modules at the start of the round.
 *    0  lease        u64, the lease's id, unique in the coordinator's run, > 0
 *    8  round        u64, the round r
 *   16  path         u32, the path p, < P
 *   20  inner_steps  u32, h >= 1
 *   24  first_step   u64, the schedule step of the first of them, r H
 *   32  timeout_ms   u32, the lease's duration (informational: the
 *                    coordinator's clock decides)
 *   36  reserved     u32, 0
 *   40  n_params     u64, the path's parameters, > 0
 *   48  params       n_params fp32, little-endian
 *
 * DPPUSH (type 22, worker -> coordinator): the task's result.
 *    0  lease        u64, echoed
 *    8  round        u64, echoed
 *   16  path         u32, echoed
 *   20  n_losses     u32, = h, the inner steps' losses
 *   24  n_params     u64, the path's parameters
 *   32  losses       n_losses fp32, finite
 *   ...  params      n_params fp32, the path's parameters after h steps
 */
#define LOCO_NET_DPASK_BYTES 8
#define LOCO_NET_DPTASK_FIXED 48
#define LOCO_NET_DPPUSH_FIXED 32

typedef struct {
    uint64_t lease, round;
    uint32_t path, inner_steps;
    uint64_t first_step;
    uint32_t timeout_ms;
    uint64_t n_params;
    const uint8_t *params;    /* n_params fp32; borrowed */
} loco_net_dptask;

typedef struct {
    uint64_t lease, round;
    uint32_t path, n_losses;
    uint64_t n_params;
    const uint8_t *losses;    /* n_losses fp32; borrowed */
    const uint8_t *params;    /* n_params fp32; borrowed */
} loco_net_dppush;

/* Bytes of a whole DPTASK / DPPUSH payload (0 if it would overflow). */
size_t loco_net_dptask_bytes(uint64_t n_params);
size_t loco_net_dppush_bytes(uint32_t n_losses, uint64_t n_params);

/* Writers: return the bytes written, or 0 if cap is too small or an
 * argument is NULL.  The _head writers write the fixed part only (DPPUSH's
 * with its losses), the parameters following as a second buffer. */
size_t loco_net_encode_dpask(uint64_t done, uint8_t *out, size_t cap);
size_t loco_net_encode_dptask_head(const loco_net_dptask *x, uint8_t *out, size_t cap);
size_t loco_net_encode_dppush_head(const loco_net_dppush *x, uint8_t *out, size_t cap);

/* Readers: parse exactly n bytes.  LOCO_EINVAL for a wrong length, a zero
 * lease, no inner steps or losses, no parameters, a non-zero reserved field
 * or a loss that is not finite.  The parameters are checked by whoever
 * decodes them (loco_codec_decode fp32 refuses non-finite values). */
int loco_net_decode_dpask(const uint8_t *p, size_t n, uint64_t *done);
int loco_net_decode_dptask(const uint8_t *p, size_t n, loco_net_dptask *x);
int loco_net_decode_dppush(const uint8_t *p, size_t n, loco_net_dppush *x);

/* ------------------------------------------------------------ replay */

#define LOCO_NET_NONCE_CACHE 1024

/* The nonces of the last LOCO_NET_NONCE_CACHE accepted HELLOs. */
typedef struct {
    uint8_t nonce[LOCO_NET_NONCE_CACHE][LOCO_NET_NONCE_BYTES];
    int n, next;
} loco_net_nonces;

/* Accepts a HELLO if its timestamp is within max_skew_ms of now_ms and its
 * nonce is not in the cache, and then records the nonce.  Returns LOCO_ERANGE
 * for a timestamp out of the window, LOCO_EINVAL for a nonce seen before. */
int loco_net_hello_accept(loco_net_nonces *c, const loco_net_hello *h, uint64_t now_ms, uint64_t max_skew_ms);

#ifdef __cplusplus
}
#endif
#endif
