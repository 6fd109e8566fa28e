/*
 * `loco env serve --task T`: a person plays a native task in their browser,
 * as CC-Net's human demonstrators did, and every episode is recorded in the
 * demonstration format (docs/env.md) so that it replays bit for bit.  The
 * page (env_serve_page.c) draws the engine's 160x210 frame, turns the
 * person's mouse and keys into CC-Net actions and sends them one at a time;
 * the engine steps once per action (its clock advances --step-ms per step).
 *
 * libmicrohttpd with one internal thread, so requests are handled one at a
 * time and the engine needs no lock; 127.0.0.1 unless told otherwise.
 *
 *   GET  /              the page
 *   POST /state         the state as JSON
 *   POST /step          body "TYPE X Y KEY" (loco_browser_action_parse): one step
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/args.h"
#include "cli/env_cmd.h"
#include "cli/playroom_cmd.h"
#include "cli/out_buf.h"
#include "loco/browser.h"
#include "loco/file.h"

#define CMD "loco env serve"
#define BODY_MAX 256

extern const char *loco__env_serve_page;

typedef struct {
    loco_env *env;
    loco_env_obs obs;
    uint8_t frame[LOCO_ENV_H * LOCO_ENV_W * 3];
    loco_env_action act;
    float rew;
    uint8_t term, trunc, succ;
    int32_t err;
    int task, want, n_eps, max_steps, cur_steps, done;
    float step_ms, last_ret;
    uint64_t seed;
    const char *out;
    loco_env_episode *eps;
    loco_env_action *acts;   /* (want, max_steps) */
    uint64_t *digs;          /* (want, max_steps) */
    volatile sig_atomic_t finished;
    int failed;
} server;

typedef struct { char body[BODY_MAX]; size_t n; int too_big; } request;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }


/* A JSON string: quotes, backslashes and control bytes escaped. */
static void add_str(out_buf *o, const char *s) {
    loco_cli_buf_add(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') loco_cli_buf_add(o, "\\%c", c);
        else if (c < 32) loco_cli_buf_add(o, "\\u%04x", c);
        else loco_cli_buf_add(o, "%c", c);
    }
    loco_cli_buf_add(o, "\"");
}

/* Base64 through the encoder `loco playroom` uses, 3 KiB of input at a time. */
static void add_b64(out_buf *o, const uint8_t *d, size_t n) {
    char chunk[4 * 1024];
    for (size_t i = 0; i < n; i += 3 * 1024) {
        size_t k = n - i < 3 * 1024 ? n - i : 3 * 1024;
        loco_cli_buf_add(o, "%.*s", (int)loco__playroom_base64(d + i, k, chunk), chunk);
    }
}

static void state_json(server *s, out_buf *o, const char *error) {
    const loco_env_obs *b = &s->obs;
    loco_cli_buf_add(o, "{");
    if (error) { loco_cli_buf_add(o, "\"error\":"); add_str(o, error); loco_cli_buf_add(o, ","); }   /* first: a client may read only the head */
    loco_cli_buf_add(o, "\"task\":");
    add_str(o, loco_env_task_name(s->task));
    loco_cli_buf_add(o, ",\"utterance\":");
    add_str(o, b->utterance);
    loco_cli_buf_add(o, ",\"episode\":%d,\"episodes\":%d,\"step\":%d,\"finished\":%d,\"last_return\":%.3f,\"fields\":[",
        s->n_eps, s->want, s->cur_steps, (int)s->finished, s->last_ret);
    for (int k = 0; k < b->n_fields; k++) {
        loco_cli_buf_add(o, "%s[", k ? "," : "");
        add_str(o, b->field_key[k]);
        loco_cli_buf_add(o, ",");
        add_str(o, b->field_value[k]);
        loco_cli_buf_add(o, "]");
    }
    loco_cli_buf_add(o, "],\"elems\":[");
    for (int k = 0; k < b->n_elems; k++) {
        const loco_env_elem *e = &b->elems[k];
        loco_cli_buf_add(o, "%s{\"ref\":%d,\"tag\":", k ? "," : "", e->ref);
        add_str(o, e->tag);
        loco_cli_buf_add(o, ",\"id\":");
        add_str(o, e->id);
        loco_cli_buf_add(o, ",\"text\":");
        add_str(o, e->text);
        loco_cli_buf_add(o, ",\"value\":");
        add_str(o, e->value);
        loco_cli_buf_add(o, ",\"left\":%.2f,\"top\":%.2f,\"width\":%.2f,\"height\":%.2f}", e->left, e->top, e->width, e->height);
    }
    loco_cli_buf_add(o, "],\"keys\":[");
    for (int k = 0; k < LOCO_ENV_NUM_KEYS; k++) {
        if (k) loco_cli_buf_add(o, ",");
        add_str(o, loco_env_key_name(k));
    }
    loco_cli_buf_add(o, "],\"frame\":\"");
    add_b64(o, s->frame, sizeof s->frame);
    loco_cli_buf_add(o, "\"}");
}

static void start_episode(server *s) {
    loco_env_reset_one(s->env, 0, s->seed + (uint64_t)s->n_eps);   /* writes obs and frame */
    s->cur_steps = 0;
}

/* One step with the person's action; records it; ends and saves episodes. */
static const char *step(server *s, const loco_env_action *a) {
    if (s->finished) return "all episodes are recorded";
    if (loco_env_action_check(a, &s->obs)) return "invalid action";
    if (s->cur_steps >= s->max_steps) return "episode too long";
    size_t base = (size_t)s->n_eps * (size_t)s->max_steps;
    s->act = *a;
    s->acts[base + (size_t)s->cur_steps] = *a;
    loco_env_step(s->env);
    s->digs[base + (size_t)s->cur_steps] = loco_env_obs_digest(&s->obs);
    s->cur_steps++;
    if (!s->term && !s->trunc) return NULL;
    loco_env_episode *ep = &s->eps[s->n_eps];
    snprintf(ep->task, sizeof ep->task, "%s", loco_env_task_name(s->task));
    ep->seed = s->seed + (uint64_t)s->n_eps;
    ep->step_ms = s->step_ms;
    ep->ret = s->rew;
    ep->success = s->succ;
    ep->n_steps = s->cur_steps;
    ep->actions = s->acts + base;
    ep->digests = s->digs + base;
    s->last_ret = s->rew;
    s->n_eps++;
    char msg[512];
    if (loco_env_demos_write(s->out, s->eps, s->n_eps, msg, sizeof msg)) {
        fprintf(stderr, CMD ": %s\n", msg);
        s->failed = 1;
        s->finished = 1;
        return "cannot save the episode";
    }
    printf("episode %d: %s, return %.3f after %d steps (recorded in %s)\n", s->n_eps,
           ep->success ? "success" : "no success", ep->ret, ep->n_steps, s->out);
    fflush(stdout);
    if (s->n_eps >= s->want) s->finished = 1;
    else start_episode(s);
    return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *c, int code, const char *type, const char *body, size_t n) {
    struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    return ret;
}

static void done_cb(void *cls, struct MHD_Connection *c, void **req, enum MHD_RequestTerminationCode toe) {
    (void)cls; (void)c; (void)toe;
    free(*req);
    *req = NULL;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **req) {
    server *s = cls;
    if (*req == NULL) {   /* headers only, so far */
        request *q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        *req = q;
        return MHD_YES;
    }
    request *q = *req;
    if (*upload_size) {   /* a body arrives in pieces; more than BODY_MAX bytes is refused */
        if (q->n + *upload_size >= BODY_MAX) q->too_big = 1;
        else { memcpy(q->body + q->n, upload, *upload_size); q->n += *upload_size; }
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/"))
        return reply(c, 200, "text/html; charset=utf-8", loco__env_serve_page, strlen(loco__env_serve_page));
    if (!strcmp(method, "GET")) return reply(c, 404, "text/plain", "not found\n", 10);
    if (strcmp(method, "POST")) return reply(c, 405, "text/plain", "method not allowed\n", 19);
    static char body[256 * 1024];
    out_buf o = {body, 0, sizeof body};
    const char *error = NULL;
    if (!strcmp(url, "/step")) {
        loco_env_action a;
        if (q->too_big) error = "request body too large";
        else if (loco_browser_action_parse(q->body, q->n, &a)) error = "malformed action (want: TYPE X Y KEY)";
        else error = step(s, &a);
    } else if (strcmp(url, "/state")) {
        return reply(c, 404, "text/plain", "not found\n", 10);
    }
    state_json(s, &o, error);
    return reply(c, error ? 400 : 200, "application/json", body, o.n);
}

int loco__env_serve(int argc, char **argv) {
    const char *listen = "127.0.0.1", *task = "click-test", *out = "human.demos";
    int port = 8080, episodes = 1;
    float step_ms = 100;
    uint64_t seed = 1000000;
    arg_spec specs[] = {
        {"task", ARG_STR, &task, 0, 0, "the task to play (loco env list)"},
        {"listen", ARG_STR, &listen, 0, 0, "the IPv4 address to listen on (127.0.0.1: this machine only)"},
        {"port", ARG_INT, &port, 1, 65535, "the TCP port"},
        {"episodes", ARG_INT, &episodes, 1, 10000, "episodes to play and record; then the server exits"},
        {"seed", ARG_U64, &seed, 0, 0, "episode i plays instance seed + i"},
        {"step-ms", ARG_FLOAT, &step_ms, 1, 10000, "simulated milliseconds per action"},
        {"out", ARG_STR, &out, 0, 0, "the demonstration file, rewritten (atomically) after each episode"},
    };
    int r = loco__env_parse(specs, (int)(sizeof specs / sizeof *specs), argc, argv,
                            "usage: " CMD " --task T [--port 8080] [--episodes N] [--out FILE]\n\n"
                            "Serves a task to a person in a browser (http://127.0.0.1:PORT/): their mouse and keys\n"
                            "become CC-Net actions on the native engine; every episode is recorded to --out\n"
                            "(replay-check it with loco env demos --check FILE).");
    if (r) return r == 1 ? 0 : r;
    server *s = calloc(1, sizeof *s);
    if (!s) return 1;
    s->task = loco_env_task_find(task);
    if (s->task < 0) { fprintf(stderr, CMD ": unknown task '%s' (see loco env list)\n", task); free(s); return 2; }
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, listen, &addr.sin_addr) != 1) {
        fprintf(stderr, CMD ": --listen '%s' is not an IPv4 address\n", listen);
        free(s);
        return 2;
    }
    char msg[512];
    if (loco_file_check_output(out, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); free(s); return 1; }
    /* the engine's clock ends an episode after 10 s: that many steps at most */
    s->max_steps = (int)(LOCO_ENV_EPISODE_MS / step_ms) + 2;
    s->want = episodes; s->seed = seed; s->out = out; s->step_ms = step_ms;
    s->eps = calloc((size_t)episodes, sizeof *s->eps);
    s->acts = calloc((size_t)episodes * (size_t)s->max_steps, sizeof *s->acts);
    s->digs = calloc((size_t)episodes * (size_t)s->max_steps, sizeof *s->digs);
    loco_env_buffers buf = {&s->obs, s->frame, &s->act, &s->rew, &s->term, &s->trunc, &s->succ, &s->err};
    loco_env_config cfg = {.num_envs = 1, .task = s->task, .seed = seed, .pixels = 1, .step_ms = step_ms};
    if (!s->eps || !s->acts || !s->digs || loco_env_create(&s->env, &cfg, &buf, msg, sizeof msg)) {
        fprintf(stderr, CMD ": %s\n", s->eps && s->acts && s->digs ? msg : "out of memory");
        free(s->eps); free(s->acts); free(s->digs); free(s);
        return 1;
    }
    start_episode(s);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handle, s,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                            MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    int rc = 0;
    if (!d) {
        fprintf(stderr, CMD ": cannot listen on %s:%d (in use, or not allowed)\n", listen, port);
        rc = 1;
    } else {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGPIPE, SIG_IGN);
        printf("serving %s on http://%s:%d/ (%d episode%s to %s)\n", task, listen, port, episodes,
               episodes == 1 ? "" : "s", out);
        fflush(stdout);
        while (!s->finished && !stop) usleep(50000);
        usleep(300000);   /* let the page fetch the last state */
        MHD_stop_daemon(d);
        if (stop && !s->finished) { fprintf(stderr, CMD ": stopped after %d episodes\n", s->n_eps); rc = 1; }
        else rc = s->failed;
    }
    loco_env_free(s->env);
    free(s->eps); free(s->acts); free(s->digs); free(s);
    return rc;
}
