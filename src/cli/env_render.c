/*
 * `loco env render`: one episode as PNG frames (libpng) and a self-contained
 * HTML replay (the frames inlined as data URIs, with the instruction, each
 * action and the reward), so that a person can watch what happened.
 */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/agent_cmd.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/env_cmd.h"

#define CMD "loco env render"
#define FRAME (LOCO_ENV_H * LOCO_ENV_W * 3)

typedef struct { uint8_t *p; size_t n, cap; int oom; } membuf;

static void mem_write(png_structp png, png_bytep data, png_size_t len) {
    membuf *m = png_get_io_ptr(png);
    if (m->oom) return;
    if (m->n + len > m->cap) {
        size_t cap = (m->n + len) * 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p) { m->oom = 1; return; }
        m->p = p; m->cap = cap;
    }
    memcpy(m->p + m->n, data, len);
    m->n += len;
}
static void mem_flush(png_structp png) { (void)png; }

/* Encodes a 210x160 RGB frame as PNG into m; 0 or -1. */
static int png_encode(const uint8_t *rgb, membuf *m) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) { png_destroy_write_struct(&png, NULL); return -1; }
    if (setjmp(png_jmpbuf(png))) { png_destroy_write_struct(&png, &info); return -1; }
    png_set_write_fn(png, m, mem_write, mem_flush);
    png_set_IHDR(png, info, LOCO_ENV_W, LOCO_ENV_H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < LOCO_ENV_H; y++) png_write_row(png, (png_bytep)(rgb + (size_t)y * LOCO_ENV_W * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m->oom ? -1 : 0;
}

/* Writes bytes to path through a temporary file and a rename. */
static int save(const char *path, const void *data, size_t n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, n, f) == n;
    if (fclose(f)) ok = 0;
    if (!ok || rename(tmp, path)) { remove(tmp); return -1; }
    return 0;
}

static void b64(FILE *f, const uint8_t *p, size_t n) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        fputc(t[v >> 18 & 63], f); fputc(t[v >> 12 & 63], f);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', f); fputc(i + 2 < n ? t[v & 63] : '=', f);
    }
}

static void html_text(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else if (*s == '&') fputs("&amp;", f);
        else if (*s == '"') fputs("&quot;", f);
        else fputc(*s, f);
    }
}

static const char *const type_names[] = {"NONE", "MOVE", "CLICK", "DBLCLICK", "MOUSEDOWN", "MOUSEUP", "SCROLL_UP",
                                         "SCROLL_DOWN", "PRESS_KEY", "TYPE_FIELD", "CLICK_ELEMENT", "FOCUS_AND_TYPE_FIELD"};

static void describe(const loco_env_action *a, char *out, size_t n) {
    const char *t = a->type >= 0 && a->type < LOCO_ENV_NUM_ACTION_TYPES ? type_names[a->type] : "?";
    if (a->type >= LOCO_ENV_MOVE_COORDS && a->type <= LOCO_ENV_SCROLL_DOWN_COORDS)
        snprintf(out, n, "%s (%d, %d) = (%.0f, %.0f) px", t, a->x, a->y, loco_env_bin_x(a->x), loco_env_bin_y(a->y));
    else if (a->type == LOCO_ENV_PRESS_KEY) snprintf(out, n, "%s %s", t, loco_env_key_name(a->key));
    else if (a->type == LOCO_ENV_TYPE_FIELD) snprintf(out, n, "%s %d", t, a->field);
    else if (a->type >= LOCO_ENV_CLICK_ELEMENT) snprintf(out, n, "%s ref %d", t, a->ref);
    else snprintf(out, n, "%s", t);
}

int loco__env_render(int argc, char **argv) {
    const char *task = "click-checkboxes", *out = "render", *policy = "oracle", *ckpt = NULL;
    uint64_t seed = 0;
    int max_steps = 101;
    arg_spec specs[] = {
        {"task", ARG_STR, &task, 0, 0, "task name"},
        {"seed", ARG_U64, &seed, 0, 0, "instance seed"},
        {"policy", ARG_STR, &policy, 0, 0, "oracle, random or agent (a trained agent: --checkpoint)"},
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "agent checkpoint (loco agent train) for --policy agent"},
        {"out", ARG_STR, &out, 0, 0, "directory for frame_NNN.png and replay.html"},
        {"max-steps", ARG_INT, &max_steps, 1, 1000, "stop after this many steps"},
    };
    int r = loco__env_parse(specs, 6, argc, argv, "usage: " CMD " [flags]\n\nWrites one episode as PNG frames and an HTML replay.");
    if (r) return r == 1 ? 0 : r;
    int t = loco_env_task_find(task), oracle = !strcmp(policy, "oracle"), agent = !strcmp(policy, "agent");
    if (t < 0) { fprintf(stderr, CMD ": unknown task '%s' (see loco env list)\n", task); return 2; }
    if (!oracle && !agent && strcmp(policy, "random")) {
        fprintf(stderr, CMD ": --policy must be oracle, random or agent\n");
        return 2;
    }
    if (agent != (ckpt != NULL)) { fprintf(stderr, CMD ": --checkpoint goes with --policy agent, and only with it\n"); return 2; }
    char msg[512];
    struct stat st;
    if (!stat(out, &st) && !S_ISDIR(st.st_mode)) { fprintf(stderr, CMD ": %s exists and is not a directory\n", out); return 1; }
    if (loco_cli_mkdir(out, msg, sizeof msg)) { fprintf(stderr, CMD ": %s\n", msg); return 1; }
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te = 0, tr = 0, su = 0;
    int32_t er;
    uint8_t *frames = malloc((size_t)(max_steps + 2) * FRAME);   /* frame 0: the reset page; last: scratch */
    loco_env_action *acts = calloc((size_t)max_steps + 1, sizeof *acts);
    if (!frames || !acts) { free(frames); free(acts); fprintf(stderr, CMD ": out of memory\n"); return 1; }
    uint8_t *scratch = frames + (size_t)(max_steps + 1) * FRAME;
    loco_env_buffers b = {&obs, scratch, &act, &rew, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = t, .pixels = 1};
    loco_env *e = NULL;
    loco_env_demo *d = NULL;
    if (loco_env_create(&e, &c, &b, msg, sizeof msg) || loco_env_demo_create(&d, 1)) {
        fprintf(stderr, CMD ": %s\n", msg); loco_env_free(e); free(frames); free(acts); return 1;
    }
    /* The agent acts on one environment, one step at a time, its recurrent
     * state reset at the episode's first step (loco__agent_step). */
    loco_agent *m = NULL;
    loco_agent_batch_buf bb = {0};
    if (agent && (loco_agent_load(ckpt, &m, 1, 1, NULL, msg, sizeof msg) ||
                  loco_agent_env_check(loco_agent_get_config(m), msg, sizeof msg) ||
                  loco_agent_batch_buf_alloc(&bb, loco_agent_get_config(m), 1, 1))) {
        fprintf(stderr, CMD ": %s\n", msg);
        loco_agent_free(m); loco_env_demo_free(d); loco_env_free(e); free(frames); free(acts);
        return 1;
    }
    loco_env_reset_one(e, 0, seed);
    loco_env_demo_reset(d, 0, seed);
    memcpy(frames, scratch, FRAME);
    char utter[LOCO_ENV_UTTERANCE];
    memcpy(utter, obs.utterance, sizeof utter);
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    int n = 0;
    while (n < max_steps && !te && !tr) {
        if (oracle) loco_env_demo_act(d, 0, &obs, &act);
        else if (!agent) loco__env_random_action(&rng, &obs, &act);
        else if (loco__agent_step(m, &bb, &obs, scratch, NULL, &act, msg, sizeof msg)) {
            fprintf(stderr, CMD ": %s\n", msg);   /* the episode ends here; what was rendered is written */
            break;
        }
        acts[n] = act;
        loco_env_step(e);
        memcpy(frames + (size_t)(n + 1) * FRAME, scratch, FRAME);
        n++;
    }
    loco_env_demo_free(d);
    loco_env_free(e);
    loco_agent_batch_buf_free(&bb);
    loco_agent_free(m);
    /* the PNGs, then one HTML page that inlines them */
    int err = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/replay.html", out);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *h = fopen(tmp, "w");
    if (!h) { fprintf(stderr, CMD ": cannot write %s\n", tmp); free(frames); free(acts); return 1; }
    fprintf(h, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s seed %llu</title>\n"
               "<style>body{font-family:sans-serif;background:#eee}img{image-rendering:pixelated;width:320px;"
               "height:420px;border:1px solid #888}#info{margin:8px 0}</style></head><body>\n<h3>",
            task, (unsigned long long)seed);
    html_text(h, task);
    fprintf(h, " &mdash; seed %llu &mdash; %s</h3>\n<p>", (unsigned long long)seed, policy);
    html_text(h, utter);
    fprintf(h, "</p>\n<img id=\"f\"><div id=\"info\"></div>\n<button onclick=\"go(-1)\">&larr;</button>"
               "<button onclick=\"play()\">play</button><button onclick=\"go(1)\">&rarr;</button>\n<script>\nvar F=[\n");
    for (int k = 0; k <= n && !err; k++) {
        membuf m = {0};
        if (png_encode(frames + (size_t)k * FRAME, &m)) { err = 1; free(m.p); break; }
        snprintf(path, sizeof path, "%s/frame_%03d.png", out, k);
        if (save(path, m.p, m.n)) { fprintf(stderr, CMD ": cannot write %s\n", path); err = 1; }
        fputs("\"data:image/png;base64,", h);
        b64(h, m.p, m.n);
        fputs("\",\n", h);
        free(m.p);
    }
    fputs("];\nvar A=[\"reset\",\n", h);
    for (int k = 0; k < n; k++) {
        char dsc[128];
        describe(&acts[k], dsc, sizeof dsc);
        fprintf(h, "\"step %d: ", k + 1);
        html_text(h, dsc);
        fputs("\",\n", h);
    }
    fprintf(h, "];\nvar i=0,T=null;function show(){document.getElementById('f').src=F[i];"
               "document.getElementById('info').textContent=A[i]+(i==F.length-1?' | reward %.3f, %s':'');}\n"
               "function go(d){i=Math.max(0,Math.min(F.length-1,i+d));show();}\n"
               "function play(){if(T){clearInterval(T);T=null;return;}i=0;show();"
               "T=setInterval(function(){if(i>=F.length-1){clearInterval(T);T=null;return;}go(1);},400);}\nshow();\n"
               "</script></body></html>\n",
            rew, su ? "success" : tr ? "timed out" : "failure");
    if (fclose(h)) err = 1;
    snprintf(path, sizeof path, "%s/replay.html", out);
    if (err || rename(tmp, path)) { remove(tmp); fprintf(stderr, CMD ": cannot write the replay\n"); err = 1; }
    else printf("%s: %d frames (frame_000.png .. frame_%03d.png) and replay.html; reward %.3f, %s\n", out, n + 1, n,
                rew, su ? "success" : tr ? "timed out" : "failure");
    free(frames); free(acts);
    return err;
}
