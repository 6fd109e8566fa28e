/*
 * `loco playroom render`: one episode as a self-contained HTML page, the
 * room from above and both players' egocentric views frame by frame, with
 * the chat beside them and a slider to step through.  Frames are palette
 * images, each XORed with the one before and run-length coded (pairs of run
 * length 1-255 and byte), base64'd into the page; a few lines of JavaScript
 * decode and draw them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/playroom_cmd.h"
#include "loco/file.h"
#include "loco/loco.h"
#include "loco/playroom.h"

#define CMD "loco playroom render"
#define MAP_PX (LOCO_PLAYROOM_MAP_W * LOCO_PLAYROOM_MAP_H)
#define VIEW_PX (LOCO_PLAYROOM_VIEW_W * LOCO_PLAYROOM_VIEW_H)
#define FRAME_PX (MAP_PX + 2 * VIEW_PX)

typedef struct { char *p; size_t n, cap; int oom; } sbuf;

static void put(sbuf *s, const void *d, size_t n) {
    if (s->oom) return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1 << 16;
        while (cap < s->n + n + 1) cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) { s->oom = 1; return; }
        s->p = p, s->cap = cap;
    }
    memcpy(s->p + s->n, d, n);
    s->n += n;
    s->p[s->n] = 0;
}
static void puts_(sbuf *s, const char *t) { put(s, t, strlen(t)); }

static void put_escaped(sbuf *s, const char *t) {
    for (; *t; t++) {
        if (*t == '<') puts_(s, "&lt;");
        else if (*t == '>') puts_(s, "&gt;");
        else if (*t == '&') puts_(s, "&amp;");
        else if (*t == '"') puts_(s, "&quot;");
        else put(s, t, 1);
    }
}

size_t loco__playroom_base64(const uint8_t *d, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63], out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=', out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    return o;
}

static void put_base64(sbuf *s, const uint8_t *d, size_t n) {
    char chunk[4 * 1024];   /* 3 * 1024 bytes at a time */
    for (size_t i = 0; i < n; i += 3 * 1024) {
        size_t k = n - i < 3 * 1024 ? n - i : 3 * 1024;
        put(s, chunk, loco__playroom_base64(d + i, k, chunk));
    }
}

/* Appends frame's run-length code to rle. */
static void put_rle(sbuf *rle, const uint8_t *px, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < 255 && px[j] == px[i]) j++;
        uint8_t pair[2] = {(uint8_t)(j - i), px[i]};
        put(rle, pair, 2);
        i = j;
    }
}

/* Frame k is coded as its XOR with frame k - 1 (frame 0 with zeros): most
 * pixels do not change from one step to the next, so runs are long. */
static void frame(const loco_playroom_env *e, sbuf *rle, size_t *offsets, int k) {
    static uint8_t px[FRAME_PX], prev[FRAME_PX], diff[FRAME_PX];
    loco_playroom_env_render(e, LOCO_PLAYROOM_NOBODY, px);
    loco_playroom_env_render(e, LOCO_PLAYROOM_SOLVER, px + MAP_PX);
    loco_playroom_env_render(e, LOCO_PLAYROOM_SETTER, px + MAP_PX + VIEW_PX);
    if (k == 0) memset(prev, 0, sizeof prev);
    for (int i = 0; i < FRAME_PX; i++) diff[i] = px[i] ^ prev[i];
    memcpy(prev, px, sizeof prev);
    offsets[k] = rle->n;
    put_rle(rle, diff, FRAME_PX);
}

static int count_lines(const char *t) {
    int n = 0;
    for (; *t; t++) n += *t == '\n';
    return n;
}

/* The n-th line of t (0-based) into out. */
static void nth_line(const char *t, int n, char *out, size_t cap) {
    for (; n > 0 && *t; t++) n -= *t == '\n';
    size_t k = 0;
    while (t[k] && t[k] != '\n' && k + 1 < cap) k++;
    memcpy(out, t, k);
    out[k] = 0;
}

static const char *page_script =
    "const bytes=Uint8Array.from(atob(F),c=>c.charCodeAt(0));\n"
    "const W=[[128,96],[96,72],[96,72]],ids=['map','solver','setter'];\n"
    "const N=128*96+2*96*72,frames=[];\n"
    "for(let k=0;k<O.length;k++){const px=k?frames[k-1].slice():new Uint8Array(N);let o=0,i=O[k];\n"
    " while(o<N){const n=bytes[i],v=bytes[i+1];for(let j=o;j<o+n;j++)px[j]^=v;o+=n;i+=2;}frames.push(px);}\n"
    "function draw(k){const px=frames[k];\n"
    " let at=0;for(let c=0;c<3;c++){const cv=document.getElementById(ids[c]),cx=cv.getContext('2d'),"
    "im=cx.createImageData(W[c][0],W[c][1]);\n"
    "  for(let p=0;p<W[c][0]*W[c][1];p++){const q=P[px[at+p]];im.data.set([q[0],q[1],q[2],255],4*p);}\n"
    "  cx.putImageData(im,0,0);at+=W[c][0]*W[c][1];}\n"
    " document.getElementById('chat').innerHTML=C.filter(m=>m[0]<=k).map(m=>'<p class='+m[1]+'><b>'+m[1]+"
    "'</b> '+m[2]+'</p>').join('');\n"
    " document.getElementById('step').textContent='step '+k+' / '+(O.length-1);}\n"
    "const t=document.getElementById('t');t.max=O.length-1;t.oninput=()=>draw(+t.value);\n"
    "let timer=null;document.getElementById('play').onclick=()=>{if(timer){clearInterval(timer);timer=null;return;}\n"
    " timer=setInterval(()=>{if(+t.value>=O.length-1){clearInterval(timer);timer=null;return;}t.value=+t.value+1;"
    "draw(+t.value);},150);};\n"
    "draw(0);\n";

int loco_cmd_playroom_render(int argc, char **argv) {
    const char *in = NULL, *out = "playroom.html", *split_s = "train", *family_s = "any";
    int episode = 0, max_steps = 200;
    uint64_t seed = 1;
    arg_spec specs[] = {
        {"in", ARG_STR, &in, 0, 0, "an episode file (else a fresh scripted episode from --seed)"},
        {"episode", ARG_INT, &episode, 0, 1e9, "which episode of --in"},
        {"seed", ARG_U64, &seed, 0, 0, "without --in: the episode's seed"},
        {"split", ARG_STR, &split_s, 0, 0, "without --in: train, test or all"},
        {"family", ARG_STR, &family_s, 0, 0, "without --in: any or a family name"},
        {"max-steps", ARG_INT, &max_steps, 1, LOCO_PLAYROOM_MAX_STEPS, "without --in: truncation"},
        {"out", ARG_STR, &out, 0, 0, "the HTML file to write (FILE.gif: an animated GIF of the views)"},
    };
    char err[512];
    int r = args_parse(specs, 7, argc, argv,
                       "usage: " CMD " [--in FILE --episode K | --seed S --family F] [--out FILE.html]\n\n"
                       "Writes one episode as a self-contained HTML replay: the room from above, the solver's\n"
                       "and the setter's egocentric views, and the chat beside them, with a slider.  With\n"
                       "--out FILE.gif: an animated GIF of the room and the solver's view (no chat).",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, CMD ": %s\n", err); return 2; }
    loco_playroom_env *e;
    if (loco_playroom_env_create(&e)) { fprintf(stderr, CMD ": out of memory\n"); return 1; }
    static loco_playroom_episode one;
    loco_playroom_episode *eps = NULL;
    const loco_playroom_episode *ep = &one;
    if (in) {
        int n;
        if (loco_playroom_file_read(in, &eps, &n, err, sizeof err)) {
            fprintf(stderr, CMD ": %s\n", err);
            loco_playroom_env_free(e);
            return 1;
        }
        if (episode >= n) {
            fprintf(stderr, CMD ": --episode %d: %s holds %d episodes\n", episode, in, n);
            free(eps), loco_playroom_env_free(e);
            return 2;
        }
        ep = &eps[episode];
    } else {
        int split, family;
        if (loco__playroom_choice(split_s, family_s, &split, &family)) {
            loco_playroom_env_free(e);
            return 2;
        }
        loco_playroom_play(e, &one, seed, split, family, max_steps);
    }
    size_t len = strlen(out);
    if (len > 4 && !strcmp(out + len - 4, ".gif")) {
        int rc = loco__playroom_gif(e, ep, out, err, sizeof err);
        if (rc) fprintf(stderr, CMD ": %s\n", err);
        else printf("wrote %s (%d frames)\n", out, ep->n_steps + 1);
        free(eps), loco_playroom_env_free(e);
        return rc ? 1 : 0;
    }
    /* Replay it, one frame per step, noting when each chat line appears. */
    int family = ep->family_filter == 255 ? -1 : ep->family_filter;
    loco_playroom_env_reset(e, ep->seed, ep->split, family, ep->max_steps);
    size_t *offsets = malloc(((size_t)ep->n_steps + 1) * sizeof *offsets);
    sbuf rle = {0}, chat = {0}, page = {0};
    static char text[8192], line[1024];
    int lines = 0;
    if (!offsets) { fprintf(stderr, CMD ": out of memory\n"); free(eps), loco_playroom_env_free(e); return 1; }
    frame(e, &rle, offsets, 0);
    for (int t = 0; t < ep->n_steps; t++) {
        const uint8_t *a = ep->acts[t];
        const int32_t acts[2][2] = {{a[0], a[1]}, {a[2], a[3]}};
        int term, trunc;
        loco_playroom_env_step(e, acts, &term, &trunc);
        frame(e, &rle, offsets, t + 1);
        loco_playroom_env_chat(e, text, sizeof text);
        for (int now = count_lines(text); lines < now; lines++) {
            nth_line(text, lines, line, sizeof line);
            char *colon = strchr(line, ':');
            if (!colon) continue;
            *colon = 0;
            char head[64];
            snprintf(head, sizeof head, "%s[%d,'%.16s','", chat.n ? "," : "", t + 1, line);
            puts_(&chat, head);
            put_escaped(&chat, colon + 2);
            puts_(&chat, "']");
        }
    }
    char prompt[160], buf[512];
    loco_playroom_prompt_text(&ep->prompt, prompt, sizeof prompt);
    puts_(&page, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Playroom: ");
    put_escaped(&page, prompt);
    puts_(&page, "</title>\n<style>body{font-family:sans-serif;margin:1em}canvas{image-rendering:pixelated;"
                 "border:1px solid #888}#map{width:512px}#solver,#setter{width:288px}.row{display:flex;gap:1em;"
                 "align-items:flex-start}#chat{min-width:20em}#chat p{margin:.2em 0}.setter b{color:#009696}"
                 ".solver b{color:#aa005a}</style></head><body>\n<h2>");
    put_escaped(&page, prompt);
    snprintf(buf, sizeof buf, "</h2>\n<p>seed %llu &middot; %s after %d steps</p>\n",
             (unsigned long long)ep->seed, ep->success ? "success" : ep->terminated ? "wrong answer" : "truncated",
             ep->n_steps);
    puts_(&page, buf);
    puts_(&page, "<div class=\"row\"><div><canvas id=\"map\" width=\"128\" height=\"96\"></canvas><br>the room</div>\n"
                 "<div><canvas id=\"solver\" width=\"96\" height=\"72\"></canvas><br>the solver's view<br>"
                 "<canvas id=\"setter\" width=\"96\" height=\"72\"></canvas><br>the setter's view</div>\n"
                 "<div id=\"chat\"></div></div>\n<p><input type=\"range\" id=\"t\" min=\"0\" value=\"0\" "
                 "style=\"width:512px\"> <button id=\"play\">play</button> <span id=\"step\"></span></p>\n<script>\n"
                 "const P=[");
    int np;
    const uint8_t *pal = loco_playroom_palette(&np);
    for (int i = 0; i < np; i++) {
        snprintf(buf, sizeof buf, "%s[%d,%d,%d]", i ? "," : "", pal[3 * i], pal[3 * i + 1], pal[3 * i + 2]);
        puts_(&page, buf);
    }
    puts_(&page, "];\nconst O=[");
    for (int k = 0; k <= ep->n_steps; k++) {
        snprintf(buf, sizeof buf, "%s%zu", k ? "," : "", offsets[k]);
        puts_(&page, buf);
    }
    puts_(&page, "];\nconst C=[");
    if (chat.n) put(&page, chat.p, chat.n);
    puts_(&page, "];\nconst F=\"");
    put_base64(&page, (const uint8_t *)rle.p, rle.n);
    puts_(&page, "\";\n");
    puts_(&page, page_script);
    puts_(&page, "</script></body></html>\n");
    int rc = 0;
    if (page.oom || rle.oom || chat.oom) {
        fprintf(stderr, CMD ": out of memory\n");
        rc = 1;
    } else if (loco_file_write(out, page.p, page.n, err, sizeof err)) {
        fprintf(stderr, CMD ": %s\n", err);
        rc = 1;
    } else {
        printf("wrote %s (%d frames, %zu bytes): %s, %s\n", out, ep->n_steps + 1, page.n, prompt,
               ep->success ? "success" : "failure");
    }
    free(rle.p), free(chat.p), free(page.p), free(offsets), free(eps);
    loco_playroom_env_free(e);
    return rc;
}
