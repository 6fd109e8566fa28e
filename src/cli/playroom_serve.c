/*
 * `loco playroom serve`: a person takes the setter's or the solver's seat in
 * a browser, against the scripted partner; every episode is recorded.  The
 * HTTP server is libmicrohttpd with one internal thread, so requests are
 * handled one at a time and the room needs no lock.  It listens on
 * 127.0.0.1 unless told otherwise.
 *
 *   GET  /               the page (playroom_page.c)
 *   POST /state          the state as JSON
 *   POST /say?text=...   queue words (tokens of the vocabulary) to type
 *   POST /step?motor=M   one step: the person's motor action and next queued
 *                        token, the partner's scripted action; then the state
 *
 * After each episode the file --out is rewritten (atomically) with every
 * episode so far; after --episodes episodes the server exits.
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
#include "cli/playroom_cmd.h"
#include "cli/out_buf.h"
#include "loco/file.h"
#include "loco/loco.h"
#include "loco/playroom.h"

#define CMD "loco playroom serve"

typedef struct {
    loco_playroom_env *env;
    loco_playroom_episode *eps, cur;   /* finished episodes; the one being played */
    int n_eps, want, seat, split, family, max_steps;
    uint64_t seed;
    const char *out;
    uint8_t say[LOCO_PLAYROOM_MSG_MAX + 1];   /* the person's queued tokens, EOM last */
    int n_say, pos_say;
    volatile sig_atomic_t finished;
    int failed;
} server;

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void start_episode(server *s) {
    int family = s->family;
    loco_playroom_env_reset(s->env, s->seed + (uint64_t)s->n_eps, s->split, family, s->max_steps);
    memset(&s->cur, 0, sizeof s->cur);
    s->n_say = s->pos_say = 0;
}


static void add_b64(out_buf *o, const uint8_t *d, size_t n) {
    size_t need = 4 * ((n + 2) / 3);
    if (o->n + need + 1 > o->cap) return;
    o->n += loco__playroom_base64(d, n, o->p + o->n);
    o->p[o->n] = 0;
}

/* The chat text is words of the vocabulary, "setter:"/"solver:" and
 * newlines, so it needs no JSON escaping beyond what this refuses. */
static void state_json(server *s, out_buf *o, const char *error) {
    static uint8_t view[LOCO_PLAYROOM_VIEW_W * LOCO_PLAYROOM_VIEW_H], map[LOCO_PLAYROOM_MAP_W * LOCO_PLAYROOM_MAP_H];
    static char chat[8192];
    const loco_playroom_env *e = s->env;
    loco_cli_buf_add(o, "{\"seat\":\"%s\",\"episode\":%d,\"episodes\":%d,\"step\":%d,", s->seat ? "solver" : "setter",
        s->n_eps < s->want ? s->n_eps : s->want - 1, s->want, loco_playroom_env_steps(e));
    int term = s->cur.n_steps > 0 && (s->cur.terminated || s->cur.n_steps >= s->max_steps);
    loco_cli_buf_add(o, "\"done\":%d,\"success\":%d,\"finished\":%d,", term, loco_playroom_env_success(e), (int)s->finished);
    char prompt[160] = "";
    if (s->seat == LOCO_PLAYROOM_SETTER) loco_playroom_prompt_text(loco_playroom_env_prompt(e), prompt, sizeof prompt);
    loco_cli_buf_add(o, "\"prompt\":\"%s\",\"chat\":[", prompt);
    loco_playroom_env_chat(e, chat, sizeof chat);
    int first = 1;
    for (char *line = chat; *line;) {
        char *nl = strchr(line, '\n'), *colon = strchr(line, ':');
        if (!nl || !colon || colon > nl) break;
        loco_cli_buf_add(o, "%s[\"%.*s\",\"%.*s\"]", first ? "" : ",", (int)(colon - line), line, (int)(nl - colon - 2), colon + 2);
        first = 0;
        line = nl + 1;
    }
    loco_cli_buf_add(o, "],\"palette\":[");
    int np;
    const uint8_t *pal = loco_playroom_palette(&np);
    for (int i = 0; i < np; i++) loco_cli_buf_add(o, "%s[%d,%d,%d]", i ? "," : "", pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]);
    loco_playroom_env_render(e, s->seat, view);
    loco_playroom_env_render(e, LOCO_PLAYROOM_NOBODY, map);
    loco_cli_buf_add(o, "],\"view\":\"");
    add_b64(o, view, sizeof view);
    loco_cli_buf_add(o, "\",\"map\":\"");
    add_b64(o, map, sizeof map);
    loco_cli_buf_add(o, "\"");
    if (error) loco_cli_buf_add(o, ",\"error\":\"%s\"", error);
    loco_cli_buf_add(o, "}");
}

/* Words to the person's queue; returns NULL or a reason. */
static const char *queue_words(server *s, const char *text, char *why, size_t n) {
    if (s->pos_say < s->n_say) return "still typing the last message";
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    int k = 0;
    for (char *w = strtok(buf, " \t"); w; w = strtok(NULL, " \t")) {
        for (char *c = w; *c; c++) if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        int t = loco_playroom_token_id(w);
        if (t <= LOCO_PLAYROOM_EOM) {
            snprintf(why, n, "'%.40s' is not a word the room knows", w);
            for (char *c = why; *c; c++) if (*c == '"' || *c == '\\' || (unsigned char)*c < 32) *c = '?';
            return why;
        }
        if (k == LOCO_PLAYROOM_MSG_MAX) return "too many words";
        s->say[k++] = (uint8_t)t;
    }
    if (!k) return "nothing to say";
    s->say[k++] = LOCO_PLAYROOM_EOM;
    s->n_say = k, s->pos_say = 0;
    return NULL;
}

static void step(server *s, int motor) {
    if (s->finished) return;
    loco_playroom_env *e = s->env;
    if (s->cur.n_steps && (s->cur.terminated || s->cur.n_steps >= s->max_steps)) start_episode(s);
    int32_t acts[2][2];
    acts[s->seat][0] = motor >= 0 && motor < LOCO_PLAYROOM_N_MOTOR ? motor : 0;
    acts[s->seat][1] = s->pos_say < s->n_say ? s->say[s->pos_say++] : LOCO_PLAYROOM_SILENT;
    loco_playroom_env_scripted(e, 1 - s->seat, acts[1 - s->seat]);
    uint8_t *a = s->cur.acts[s->cur.n_steps];
    a[0] = (uint8_t)acts[0][0], a[1] = (uint8_t)acts[0][1], a[2] = (uint8_t)acts[1][0], a[3] = (uint8_t)acts[1][1];
    int term, trunc;
    loco_playroom_env_step(e, (const int32_t (*)[2])acts, &term, &trunc);
    s->cur.n_steps++;
    if (!term && !trunc) return;
    const loco_playroom_prompt *p = loco_playroom_env_prompt(e);
    s->cur.seed = s->seed + (uint64_t)s->n_eps, s->cur.split = (uint8_t)s->split;
    s->cur.family_filter = (uint8_t)(s->family < 0 ? 255 : s->family), s->cur.family = p->family, s->cur.prompt = *p;
    s->cur.success = (uint8_t)loco_playroom_env_success(e), s->cur.terminated = (uint8_t)term;
    s->cur.max_steps = (uint16_t)s->max_steps, s->cur.hash = loco_playroom_env_hash(e);
    s->eps[s->n_eps++] = s->cur;
    char msg[512];
    if (loco_playroom_file_write(s->out, s->eps, s->n_eps, msg, sizeof msg)) {
        fprintf(stderr, CMD ": %s\n", msg);
        s->failed = 1, s->finished = 1;
        return;
    }
    char prompt[160];
    loco_playroom_prompt_text(p, prompt, sizeof prompt);
    printf("episode %d: %s, %s after %d steps (recorded in %s)\n", s->n_eps, prompt,
           s->cur.success ? "success" : "no success", s->cur.n_steps, s->out);
    fflush(stdout);
    if (s->n_eps >= s->want) s->finished = 1;
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **req) {
    server *s = cls;
    static int marker;
    if (*req == NULL) { *req = &marker; return MHD_YES; }   /* headers only, so far */
    if (*upload_size) { *upload_size = 0; return MHD_YES; } /* bodies are not used */
    if (!strcmp(method, "GET") && !strcmp(url, "/"))
        return reply(c, 200, "text/html; charset=utf-8", loco__playroom_page, strlen(loco__playroom_page));
    if (!strcmp(method, "GET")) return reply(c, 404, "text/plain", "not found\n", 10);
    if (strcmp(method, "POST")) return reply(c, 405, "text/plain", "method not allowed\n", 19);
    static char body[64 * 1024];
    out_buf o = {body, 0, sizeof body};
    char why[128];
    const char *error = NULL;
    if (!strcmp(url, "/step")) {
        const char *m = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "motor");
        step(s, m ? atoi(m) : 0);
    } else if (!strcmp(url, "/say")) {
        const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "text");
        error = queue_words(s, t ? t : "", why, sizeof why);
    } else if (strcmp(url, "/state")) {
        return reply(c, 404, "text/plain", "not found\n", 10);
    }
    state_json(s, &o, error);
    return reply(c, error ? 400 : 200, "application/json", body, o.n);
}

int loco_cmd_playroom_serve(int argc, char **argv) {
    const char *listen = "127.0.0.1", *seat_s = "solver", *split_s = "train", *family_s = "any", *out = "playroom_human.bin";
    int port = 8080, episodes = 1, max_steps = 500;
    uint64_t seed = 1;
    arg_spec specs[] = {
        {"listen", ARG_STR, &listen, 0, 0, "the IPv4 address to listen on (127.0.0.1: this machine only)"},
        {"port", ARG_INT, &port, 1, 65535, "the TCP port"},
        {"seat", ARG_STR, &seat_s, 0, 0, "the person's seat: setter or solver (the other is scripted)"},
        {"episodes", ARG_INT, &episodes, 1, 100000, "episodes to play and record; then the server exits"},
        {"seed", ARG_U64, &seed, 0, 0, "episode i uses seed + i"},
        {"split", ARG_STR, &split_s, 0, 0, "train, test or all"},
        {"family", ARG_STR, &family_s, 0, 0, "any or a family name"},
        {"max-steps", ARG_INT, &max_steps, 1, LOCO_PLAYROOM_MAX_STEPS, "truncation (a step every 150 ms)"},
        {"out", ARG_STR, &out, 0, 0, "the episode file, rewritten after each episode"},
    };
    char err[512];
    int r = args_parse(specs, 9, argc, argv,
                       "usage: " CMD " [--port 8080] [--seat setter|solver] [--episodes N] [--out FILE]\n\n"
                       "Serves the Playroom to a person in a browser (http://127.0.0.1:PORT/): they take one seat,\n"
                       "the scripted setter or solver the other, and every episode is recorded to --out.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, CMD ": %s\n", err); return 2; }
    server s = {0};
    s.seat = !strcmp(seat_s, "setter") ? LOCO_PLAYROOM_SETTER : !strcmp(seat_s, "solver") ? LOCO_PLAYROOM_SOLVER : -1;
    if (s.seat < 0) { fprintf(stderr, CMD ": --seat must be setter or solver, not '%s'\n", seat_s); return 2; }
    if (loco__playroom_choice(split_s, family_s, &s.split, &s.family)) return 2;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET, addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, listen, &addr.sin_addr) != 1) {
        fprintf(stderr, CMD ": --listen '%s' is not an IPv4 address\n", listen);
        return 2;
    }
    s.want = episodes, s.max_steps = max_steps, s.seed = seed, s.out = out;
    char msg[512];
    /* Refuse a bad --out now rather than after the first episode. */
    if (loco_file_check_output(out, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    s.eps = malloc((size_t)episodes * sizeof *s.eps);
    if (!s.eps || loco_playroom_env_create(&s.env)) { fprintf(stderr, CMD ": out of memory\n"); free(s.eps); return 1; }
    start_episode(&s);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, handle, &s,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, CMD ": cannot listen on %s:%d (in use, or not allowed)\n", listen, port);
        loco_playroom_env_free(s.env), free(s.eps);
        return 1;
    }
    signal(SIGINT, on_signal), signal(SIGTERM, on_signal);
    printf("serving the Playroom on http://%s:%d/ (you are the %s; %d episode%s to %s)\n", listen, port, seat_s,
           episodes, episodes == 1 ? "" : "s", out);
    fflush(stdout);
    while (!s.finished && !stop) usleep(50000);
    usleep(300000);   /* let the page fetch the last state */
    MHD_stop_daemon(d);
    loco_playroom_env_free(s.env), free(s.eps);
    if (stop && !s.finished) { fprintf(stderr, CMD ": stopped after %d episodes\n", s.n_eps); return 1; }
    return s.failed;
}
