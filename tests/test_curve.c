/*
 * CURVE, the default security of tcp:// (include/loco/net_security.h): key
 * files parse strictly and match ZeroMQ's Z85; `loco keygen` writes them
 * atomically and refuses bad paths; a worker whose key is not in the
 * allow-list is refused at once, with one line, and the run goes on to the
 * simulator's parameters bit for bit; and a relay between a worker and the
 * coordinator records every byte both ways: under CURVE no pair of
 * consecutive parameters of the model sent to the worker appears in them,
 * while under the MAC alone (sent in clear) they all do.  A coordinator's
 * socket and its ZAP thread leave no thread or descriptor behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "loco/net_security.h"
#include "net/link.h"
#include "test.h"
#include "proc.h"
#include "util.h"

#define CURVE_TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
                   "--eval-batches 1 --threads 1 --lr 3e-3"
#define CURVE_SECRET "curve-test-secret-0123456789abcdef"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* ------------------------------------------------------------ key files */

LOCO_TEST(curve_keyfile_parser) {
    loco_net_curve_key pub, sec, p2, s2, keys[4];
    CHECK(loco_net_curve_keypair(&pub, &sec) == LOCO_OK, "keypair");
    /* Our Z85 is ZeroMQ's. */
    char z[LOCO_NET_Z85_BYTES + 1], zz[LOCO_NET_Z85_BYTES + 1];
    loco_net_curve_z85(&pub, z);
    CHECK(zmq_z85_encode(zz, pub.k, sizeof pub.k) && !strcmp(z, zz), "Z85 %s, ZeroMQ's %s", z, zz);
    /* And ZeroMQ derives the same public key from the secret one. */
    char zs[LOCO_NET_Z85_BYTES + 1], zp[LOCO_NET_Z85_BYTES + 1];
    loco_net_curve_z85(&sec, zs);
    CHECK(zmq_curve_public(zp, zs) == 0 && !strcmp(zp, z), "zmq_curve_public disagrees");
    char text[512], msg[256];
    size_t n = loco_net_keyfile_format(&pub, &sec, text, sizeof text), count = 0;
    CHECK(n > 0 && loco_net_keypair_parse(text, n, &p2, &s2, msg, sizeof msg) == LOCO_OK, "round trip: %s", msg);
    CHECK(!memcmp(p2.k, pub.k, 32) && !memcmp(s2.k, sec.k, 32), "round trip changed the keys");
    CHECK(loco_net_pubkeys_parse(text, n, keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "secret key"), "a key file as an allow-list: %s", msg);
    n = loco_net_keyfile_format(&pub, NULL, text, sizeof text);
    CHECK(loco_net_pubkeys_parse(text, n, keys, 4, &count, msg, sizeof msg) == LOCO_OK && count == 1 &&
          !memcmp(keys[0].k, pub.k, 32), "a .pub: %s", msg);
    /* Refusals, each with the line it is on. */
    char good[LOCO_NET_Z85_BYTES + 1], other[LOCO_NET_Z85_BYTES + 1];
    loco_net_curve_key op, os;
    loco_net_curve_keypair(&op, &os);
    loco_net_curve_z85(&sec, good);
    loco_net_curve_z85(&op, other);
    static const struct { const char *fmt; const char *says; } bad[] = {
        {"public-key = %s\nsecret-key = %s\n", "not the secret key's"},           /* two pairs pasted */
        {"public-key = %s\r\nsecret-key = %s\n", "line 1: a key is 40"},         /* CRLF */
        {"public-key =  %s\nsecret-key = %s\n", "line 1"},                      /* two spaces */
        {"Public-key = %s\nsecret-key = %s\n", "line 1: expected"},
        {"public-key = %s\nsecret-key = %s\nsecret-key = %s\n", "line 3: a second secret key"},
        {"# c\n\npublic-key = %s\n", "one public-key and one secret-key"},
        {"public-key = %s\nsecret-key = %s\nx\n", "line 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, bad[i].fmt, other, good, good);
        msg[0] = 0;
        int e = loco_net_keypair_parse(text, strlen(text), &p2, &s2, msg, sizeof msg);
        CHECK(e == LOCO_EINVAL && strstr(msg, bad[i].says), "case %zu: %d '%s'", i, e, msg);
    }
    /* Z85: a character outside the alphabet, a group above 2^32 - 1. */
    snprintf(text, sizeof text, "public-key = %s\n", z);
    text[13] = '"';
    CHECK(loco_net_pubkeys_parse(text, strlen(text), keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "not a Z85 key"), "bad character: %s", msg);
    snprintf(text, sizeof text, "public-key = %s\n", z);
    memcpy(text + 13, "#####", 5);   /* 85^5 - 1 > 2^32 - 1 */
    CHECK(loco_net_pubkeys_parse(text, strlen(text), keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL,
          "a group above 2^32 - 1 was taken");
    /* An allow-list: keys sorted, a duplicate and an overflow refused. */
    snprintf(text, sizeof text, "public-key = %s\n# w2\npublic-key = %s\n", z, other);
    CHECK(loco_net_pubkeys_parse(text, strlen(text), keys, 4, &count, msg, sizeof msg) == LOCO_OK && count == 2 &&
          memcmp(keys[0].k, keys[1].k, 32) < 0, "allow-list of 2: %s", msg);
    CHECK(loco_net_pubkeys_parse(text, strlen(text), keys, 1, &count, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "line 3"), "cap 1: %s", msg);
    snprintf(text, sizeof text, "public-key = %s\npublic-key = %s\n", z, z);
    CHECK(loco_net_pubkeys_parse(text, strlen(text), keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL &&
          strstr(msg, "twice"), "duplicate: %s", msg);
    CHECK(loco_net_pubkeys_parse("", 0, keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL, "empty allow-list taken");
    CHECK(loco_net_pubkeys_parse("public-key = \0", 14, keys, 4, &count, msg, sizeof msg) == LOCO_EINVAL, "NUL");
}

/* ------------------------------------------------------------ keygen */

/* Runs a loco command; 1 if it exits with rc and says `says` in one line. */
static int one_line(const char *args, int rc, const char *says, char *err, size_t n) {
    int r = loco_test_run(args, err, n);
    return r == rc && strstr(err, says) && strchr(err, '\n') == strrchr(err, '\n');
}

LOCO_TEST(curve_keygen_refuses_bad_paths) {
    char d[] = "/tmp/loco_curve_XXXXXX", a[1024], err[2048], p[512];
    if (!mkdtemp(d)) { FAIL("mkdtemp"); return; }
    snprintf(a, sizeof a, "keygen --out %s/k", d);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "keygen: %s", err);
    struct stat st;
    snprintf(p, sizeof p, "%s/k", d);
    CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) == 0, "the key file is mode %o",
          (unsigned)(st.st_mode & 0777));
    loco_net_curve_key pub, sec, pub2, sec2;
    char msg[512];
    CHECK(loco_net_keypair_load(p, &pub, &sec, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    /* An existing pair is kept; --force 1 replaces it with a new one. */
    CHECK(one_line(a, 1, "exists; not replaced", err, sizeof err), "second keygen: %s", err);
    snprintf(a, sizeof a, "keygen --out %s/k --force 1", d);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "--force: %s", err);
    CHECK(loco_net_keypair_load(p, &pub2, &sec2, msg, sizeof msg) == LOCO_OK && memcmp(pub.k, pub2.k, 32),
          "--force kept the old key");
    /* Whatever is not a regular file is never replaced, --force or not. */
    snprintf(a, sizeof a, "mkfifo %s/fifo.pub && mkdir %s/dir", d, d);
    CHECK(system(a) == 0, "setup");
    static const struct { const char *out; int rc; const char *says; } bad[] = {
        {"/dev/null", 1, "not a regular file"},
        {"%s/dir", 1, "not a regular file (a directory)"},
        {"%s/fifo", 1, "not a regular file (a FIFO)"},     /* its .pub is the FIFO */
        {"%s/none/k", 1, "No such file or directory"},
        {"", 2, "--out FILE is required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[256];
        snprintf(out, sizeof out, bad[i].out, d);
        snprintf(a, sizeof a, "keygen --force 1 --out '%s'", out);
        CHECK(one_line(a, bad[i].rc, bad[i].says, err, sizeof err), "keygen --out '%s': %s", out, err);
    }
    CHECK(one_line("keygen", 2, "--out FILE is required", err, sizeof err), "no --out: %s", err);
    /* Nothing was left behind by the refusals. */
    snprintf(a, sizeof a, "test $(ls -A %s | wc -l) -eq 4", d);
    CHECK(system(a) == 0, "stray files in %s", d);
    /* A key file others may read is refused when loaded. */
    chmod(p, 0640);
    CHECK(loco_net_keypair_load(p, &pub, &sec, msg, sizeof msg) == LOCO_EIO && strstr(msg, "chmod 600"),
          "a group-readable key: %s", msg);
    loco_test_rmdir(d);
}

LOCO_TEST(curve_usage_refusals) {
    char d[64], a[2048], err[2048];
    if (loco_test_net_scratch(d, "/tmp/loco_curve_XXXXXX", CURVE_SECRET)) { FAIL("setup"); return; }
    snprintf(a, sizeof a, "printf 'public-key = short\\n' > %s/badallow", d);
    CHECK(system(a) == 0, "setup");
    static const struct { const char *fmt; int rc; const char *says; } bad[] = {
        {"coordinator --listen tcp://127.0.0.1:* --workers 1", 2, "--key-file FILE and --allow-file FILE"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --secret-file %s/secret", 2,
         "--security mac uses --secret-file alone"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --security curve --secret-file %s/secret "
         "--key-file %s/c.key --allow-file %s/allow", 2, "this run uses curve"},
        {"coordinator --listen ipc://%s/x.sock --workers 1 --secret-file %s/secret --key-file %s/c.key", 2,
         "--key-file and --allow-file are for"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --security both --key-file %s/c.key "
         "--allow-file %s/allow", 2, "--secret-file FILE is required"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --security tls", 2, "mac, curve or both"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --key-file %s/c.key --allow-file %s/badallow", 1,
         "line 1: a key is 40"},
        {"coordinator --listen tcp://127.0.0.1:* --workers 1 --key-file %s/c.key.pub --allow-file %s/allow", 1,
         "one public-key and one secret-key"},
        {"worker --connect tcp://127.0.0.1:9 --secret-file %s/secret", 2, "--key-file FILE and --server-key FILE"},
        {"worker --connect tcp://127.0.0.1:9 --key-file %s/w.key --server-key %s/allow --security mac "
         "--secret-file %s/secret", 2, "are for --security curve or both"},
        {"worker --connect tcp://127.0.0.1:9 --key-file %s/w.key --server-key %s/nonexistent", 1, "nonexistent"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char args[900];
        snprintf(args, sizeof args, bad[i].fmt, d, d, d, d);
        snprintf(a, sizeof a, "%s " CURVE_TINY " --steps 3", args);
        if (!strncmp(args, "worker", 6)) snprintf(a, sizeof a, "%s", args);
        CHECK(one_line(a, bad[i].rc, bad[i].says, err, sizeof err), "'%s': %s", args, err);
    }
    loco_test_rmdir(d);
}

/* ------------------------------------------------------------ refusal */

LOCO_TEST(curve_unknown_key_refused_run_exact) {
    char d[64], a[2048], err[2048], ep[256], path[256], log[256];
    if (loco_test_net_scratch(d, "/tmp/loco_curve_XXXXXX", CURVE_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--algo diloco --workers 2 --inner-steps 3 --steps 12";
    snprintf(a, sizeof a, "train " CURVE_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s --out %s/sim",
             d, d, flags, d);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "simulator: %s", err);
    snprintf(a, sizeof a, "keygen --out %s/x.key", d);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "keygen: %s", err);
    /* No --security: CURVE, the default on tcp://. */
    snprintf(a, sizeof a, "coordinator " CURVE_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--listen 'tcp://127.0.0.1:*' --endpoint-file %s/c.ep --key-file %s/c.key --allow-file %s/allow "
             "--out %s/net --verbose 1", d, d, flags, d, d, d, d);
    snprintf(log, sizeof log, "%s/c.log", d);
    pid_t c = loco_test_start(a, log);
    snprintf(path, sizeof path, "%s/c.ep", d);
    CHECK(loco_test_endpoint_of(path, ep, sizeof ep) == 0, "no endpoint from the coordinator");
    /* A key pair the coordinator does not know: refused at once, in one
     * line, long before its join timeout. */
    snprintf(a, sizeof a, "worker --connect %s --key-file %s/x.key --server-key %s/c.key.pub --train-shard "
             "%s/s.train.bin --join-timeout 30", ep, d, d, d);
    double t0 = now_s();
    CHECK(one_line(a, 1, "is not in the coordinator's allow-list", err, sizeof err), "unknown key: %s", err);
    double refused_in = now_s() - t0;
    CHECK(refused_in < 10, "the refusal took %.1f s", refused_in);
    /* A worker given another server key cannot complete the handshake:
     * silence, then a line naming the flag to check. */
    snprintf(a, sizeof a, "worker --connect %s --key-file %s/w.key --server-key %s/x.key.pub --train-shard "
             "%s/s.train.bin --join-timeout 1", ep, d, d, d);
    CHECK(one_line(a, 1, "--server-key", err, sizeof err) && strstr(err, "no answer"), "wrong server key: %s", err);
    /* A plain ZeroMQ client (no CURVE) gets no message through. */
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, got = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    CHECK(zmq_connect(s, ep) == 0, "connect");
    zmq_send(s, "LOCO", 4, ZMQ_DONTWAIT);
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    got = zmq_poll(&it, 1, 300);
    CHECK(got == 0, "the coordinator answered a client without CURVE");
    zmq_close(s);
    zmq_ctx_term(ctx);
    CHECK(loco_test_ended(c) == -2, "the coordinator ended after the refusals");
    /* The coordinator is unaffected: two workers with allowed keys run
     * the simulator's run, bit for bit. */
    pid_t w[2];
    for (int i = 0; i < 2; i++) {
        char wl[256];
        snprintf(a, sizeof a, "worker --connect %s --key-file %s/w.key --server-key %s/c.key.pub --train-shard "
                 "%s/s.train.bin --threads 1 --timeout 60", ep, d, d, d);
        snprintf(wl, sizeof wl, "%s/w%d.log", d, i);
        w[i] = loco_test_start(a, wl);
    }
    CHECK(loco_test_finish(c, 60) == 0, "the coordinator failed");
    for (int i = 0; i < 2; i++) CHECK(loco_test_finish(w[i], 10) == 0, "worker %d failed", i);
    char sa[256], sb[256], out[8192];
    snprintf(sa, sizeof sa, "%s/sim/model.safetensors", d);
    snprintf(sb, sizeof sb, "%s/net/model.safetensors", d);
    CHECK(loco_test_same_params(sa, sb), "the CURVE run's parameters differ from the simulator's");
    CHECK(loco_test_slurp(log, out, sizeof out) > 0 && strstr(out, "is not in the allow-list (1 refused so far)"),
          "the coordinator did not log the refusal: %s", out);
    printf("    unknown key refused in %.3f s; the run after it equals the simulator's bit for bit\n", refused_in);
    loco_test_rmdir(d);
}

/* ------------------------------------------------------------ the wire */

/* A TCP relay on 127.0.0.1 in front of the coordinator, recording every
 * byte that passes, both ways, into one buffer. */
typedef struct {
    int lfd, port, upstream_port;
    volatile int stop;
    uint8_t *buf;
    size_t n, cap;
    int failed;
    pthread_t th;
} relay;

static void relay_keep(relay *r, const uint8_t *p, size_t n) {
    if (r->n + n > r->cap) {
        size_t cap = (r->n + n) * 2;
        uint8_t *b = realloc(r->buf, cap);
        if (!b) {
            r->failed = 1;
            return;
        }
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->n, p, n);
    r->n += n;
}

/* Copies what one side has to the other; 0 at its end. */
static int relay_pump(relay *r, int from, int to) {
    uint8_t b[65536];
    ssize_t k = read(from, b, sizeof b);
    if (k <= 0) return 0;
    relay_keep(r, b, (size_t)k);
    for (ssize_t off = 0; off < k;) {
        ssize_t w = write(to, b + off, (size_t)(k - off));
        if (w <= 0) return 0;
        off += w;
    }
    return 1;
}

static void *relay_main(void *arg) {
    relay *r = arg;
    int a = -1, b = -1;
    while (!r->stop) {
        struct pollfd p[3] = {{r->lfd, POLLIN, 0}, {a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll(p, 3, 50) <= 0) continue;
        if (p[0].revents & POLLIN) {
            int c = accept(r->lfd, NULL, NULL);
            if (c >= 0 && a >= 0) close(c);   /* one connection at a time */
            else if (c >= 0) {
                struct sockaddr_in up = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->upstream_port)};
                up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                b = socket(AF_INET, SOCK_STREAM, 0);
                if (b < 0 || connect(b, (struct sockaddr *)&up, sizeof up) != 0) {
                    close(c);
                    if (b >= 0) close(b);
                    b = -1;
                } else {
                    a = c;
                }
            }
        }
        int open = 1;
        if (a >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) open = relay_pump(r, a, b);
        if (open && b >= 0 && (p[2].revents & (POLLIN | POLLHUP | POLLERR))) open = relay_pump(r, b, a);
        if (!open) {
            close(a);
            close(b);
            a = b = -1;
        }
    }
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    return NULL;
}

static int relay_start(relay *r, int upstream_port) {
    memset(r, 0, sizeof *r);
    r->upstream_port = upstream_port;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = 0};
    s.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof s;
    if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&s, sizeof s) || listen(r->lfd, 4) ||
        getsockname(r->lfd, (struct sockaddr *)&s, &sl))
        return -1;
    r->port = ntohs(s.sin_port);
    return pthread_create(&r->th, NULL, relay_main, r) == 0 ? 0 : -1;
}

static void relay_stop(relay *r) {
    r->stop = 1;
    pthread_join(r->th, NULL);
    close(r->lfd);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Of the P - 1 windows of two consecutive parameters (8 bytes, as fp32
 * goes on the wire) that are not all zero bytes, how many occur anywhere
 * in the capture; *windows gets how many were looked for. */
static size_t windows_found(const uint8_t *cap, size_t n, const float *p, size_t P, size_t *windows) {
    size_t m = n >= 8 ? n - 7 : 0, found = 0;
    uint64_t *all = malloc((m ? m : 1) * sizeof *all);
    if (!all) return (size_t)-1;
    for (size_t i = 0; i < m; i++) memcpy(&all[i], cap + i, 8);
    qsort(all, m, sizeof *all, cmp_u64);
    *windows = 0;
    for (size_t i = 0; i + 1 < P; i++) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (!w) continue;
        ++*windows;
        found += bsearch(&w, all, m, sizeof w, cmp_u64) != NULL;
    }
    free(all);
    return found;
}

/* One run through the relay under security `sec` ("curve" or "mac"), from
 * the model in d/init; returns the captured bytes (malloc'ed) in *cap. */
static int relayed_run(const char *d, const char *sec, uint8_t **cap, size_t *n) {
    char a[2048], ep[256], path[256], log[256];
    const int curve = !strcmp(sec, "curve");
    const char *flags = "--algo diloco --workers 1 --inner-steps 3 --steps 6";
    char secflags[512];
    if (curve) snprintf(secflags, sizeof secflags, "--key-file %s/c.key --allow-file %s/allow", d, d);
    else snprintf(secflags, sizeof secflags, "--security mac --secret-file %s/secret", d);
    snprintf(a, sizeof a, "coordinator " CURVE_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--init %s/init/model.safetensors --listen 'tcp://127.0.0.1:*' --endpoint-file %s/%s.ep %s "
             "--out %s/%s", d, d, flags, d, d, sec, secflags, d, sec);
    snprintf(log, sizeof log, "%s/%s.log", d, sec);
    pid_t c = loco_test_start(a, log);
    snprintf(path, sizeof path, "%s/%s.ep", d, sec);
    const char *port = loco_test_endpoint_of(path, ep, sizeof ep) == 0 ? strrchr(ep, ':') : NULL;
    relay r;
    if (!port || relay_start(&r, atoi(port + 1))) {
        loco_test_finish(c, 0);
        return -1;
    }
    if (curve) snprintf(secflags, sizeof secflags, "--key-file %s/w.key --server-key %s/c.key.pub", d, d);
    snprintf(a, sizeof a, "worker --connect tcp://127.0.0.1:%d %s --train-shard %s/s.train.bin --threads 1 "
             "--timeout 60", r.port, secflags, d);
    snprintf(path, sizeof path, "%s/%s.w.log", d, sec);
    pid_t w = loco_test_start(a, path);
    int rc = loco_test_finish(c, 60), rw = loco_test_finish(w, 10);
    relay_stop(&r);
    *cap = r.buf;
    *n = r.n;
    if (rc || rw) fprintf(stderr, "  %s: coordinator exit %d, worker exit %d\n", sec, rc, rw);
    return rc || rw || r.failed ? -1 : 0;
}

LOCO_TEST(curve_wire_carries_no_parameters) {
    char d[64], a[2048], err[2048], path[256];
    if (loco_test_net_scratch(d, "/tmp/loco_curve_XXXXXX", CURVE_SECRET)) { FAIL("setup"); return; }
    /* The model the coordinator starts from (--init) and sends to the
     * worker whole in its first THETA: one step of training, so that its
     * parameters are not the initialisation's round numbers. */
    snprintf(a, sizeof a, "train " CURVE_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin --steps 1 "
             "--out %s/init", d, d, d);
    CHECK(loco_test_run(a, err, sizeof err) == 0, "init: %s", err);
    size_t P = 0;
    snprintf(path, sizeof path, "%s/init/model.safetensors", d);
    float *theta = loco_test_params_of(path, &P);
    CHECK(theta && P > 1000, "no initial model");
    if (!theta) { loco_test_rmdir(d); return; }
    static const char *const secs[2] = {"mac", "curve"};
    size_t found[2] = {0, 0}, windows[2] = {0, 0}, bytes[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        uint8_t *cap = NULL;
        size_t n = 0;
        CHECK(relayed_run(d, secs[k], &cap, &n) == 0, "the %s run through the relay failed", secs[k]);
        found[k] = windows_found(cap, n, theta, P, &windows[k]);
        bytes[k] = n;
        free(cap);
    }
    /* The search works: in clear, every window of theta is on the wire. */
    CHECK(bytes[0] > P * 4 && found[0] == windows[0], "MAC alone: %zu of %zu windows found in %zu bytes", found[0],
          windows[0], bytes[0]);
    /* Under CURVE, none is. */
    CHECK(bytes[1] > P * 4 && found[1] == 0, "CURVE: %zu of %zu windows of theta found in %zu captured bytes",
          found[1], windows[1], bytes[1]);
    printf("    %zu parameters: in clear (mac) %zu of %zu windows found in %zu bytes; CURVE %zu in %zu bytes\n", P,
           found[0], windows[0], bytes[0], found[1], bytes[1]);
    free(theta);
    loco_test_rmdir(d);
}

/* ------------------------------------------------------------ lifetimes */

/* Entries of a /proc/self directory (threads, file descriptors). */
static int proc_entries(const char *dir) {
    char cmd[128], out[32];
    snprintf(cmd, sizeof cmd, "ls /proc/%d/%s | wc -l", (int)getpid(), dir);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int n = fgets(out, sizeof out, p) ? atoi(out) : -1;
    pclose(p);
    return n;
}

/* A CURVE coordinator socket with its ZAP thread, and a worker socket that
 * it refuses, opened and closed 40 times in this process: every time the
 * worker's link reports the refusal, and afterwards no thread and no file
 * descriptor is left over (the ZAP thread ends with its context). */
LOCO_TEST(curve_link_open_close_leaves_nothing) {
    loco_net_curve_key allowed, allowed_sec, stranger, stranger_sec;
    loco_net_security srv, cli;
    memset(&srv, 0, sizeof srv);
    memset(&cli, 0, sizeof cli);
    srv.mode = cli.mode = LOCO_NET_SEC_CURVE;
    loco_net_curve_keypair(&srv.pub, &srv.sec);
    loco_net_curve_keypair(&allowed, &allowed_sec);
    loco_net_curve_keypair(&stranger, &stranger_sec);
    srv.allow = &allowed;
    srv.n_allow = 1;
    cli.pub = stranger;
    cli.sec = stranger_sec;
    cli.server = srv.pub;
    loco_net_key key = {{0}};
    char msg[512], ep[256];
    int threads0 = -1, fds0 = -1, refused = 0;
    const int rounds = 40;
    /* The coordinator's line per refusal goes to /dev/null meanwhile. */
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 2);
    for (int i = 0; i < rounds; i++) {
        loco__link c, w;
        if (loco__link_open(&c, 1, "tcp://127.0.0.1:*", &key, &srv, 1 << 20, msg, sizeof msg)) {
            FAIL("coordinator link: %s", msg);
            break;
        }
        loco__link_endpoint(&c, ep, sizeof ep);
        if (loco__link_open(&w, 0, ep, &key, &cli, 1 << 20, msg, sizeof msg)) {
            FAIL("worker link: %s", msg);
            loco__link_close(&c);
            break;
        }
        loco__msg m;
        int e = LOCO_ERANGE;
        for (int t = 0; t < 50 && e == LOCO_ERANGE; t++) e = loco__link_recv(&w, 100, &m);
        refused += e == LOCO_EIO && strstr(loco__link_error(&w), "allow-list") != NULL;
        loco__link_close(&w);
        loco__link_close(&c);
        /* The first round starts ZeroMQ's and libsodium's lasting state. */
        if (i == 0) {
            threads0 = proc_entries("task");
            fds0 = proc_entries("fd");
        }
    }
    const int threads = proc_entries("task"), fds = proc_entries("fd");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    if (null >= 0) close(null);
    CHECK(refused == rounds, "the worker's link reported %d refusals of %d", refused, rounds);
    CHECK(threads == threads0 && fds == fds0, "after %d rounds: %d threads (%d after the first), %d fds (%d)",
          rounds, threads, threads0, fds, fds0);
}
