/* `loco plot`: loss against step from JSONL metrics logs, as one SVG. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/metrics.h"
#include "core/fail.h"

typedef struct { double *x, *y; long n, cap; } series;
typedef struct { series train, eval; } log_data;

/* A growable string; `oom` records a failed allocation. */
typedef struct { char *s; size_t n, cap; int oom; } sbuf;


/* Appends printf output; on allocation failure sets oom and appends nothing. */
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) { b->oom = 1; return; }
        b->s = s;
        b->cap = cap;
    }
}

/* Appends s with &, <, >, " escaped for XML text and attributes. */
static void sb_xml(sbuf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_printf(b, "&amp;"); break;
        case '<': sb_printf(b, "&lt;"); break;
        case '>': sb_printf(b, "&gt;"); break;
        case '"': sb_printf(b, "&quot;"); break;
        default: sb_printf(b, "%c", *s);
        }
    }
}

/* Returns 0, or -1 if the point cannot be stored. */
static int push(series *s, double x, double y) {
    if (s->n == s->cap) {
        long cap = s->cap ? 2 * s->cap : 256;
        double *nx = realloc(s->x, sizeof(double) * (size_t)cap);
        if (!nx) return -1;
        s->x = nx;
        double *ny = realloc(s->y, sizeof(double) * (size_t)cap);
        if (!ny) return -1;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

/* Reads a whole file into a NUL-terminated buffer; returns NULL on failure
 * (errno says why). */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *g = realloc(buf, cap * 2);
        if (!g) { free(buf); buf = NULL; errno = ENOMEM; break; }
        buf = g;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf) return NULL;
    if (bad) { free(buf); errno = EIO; return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Parses one log into its train and eval loss series.  Returns LOCO_EIO (file
 * unreadable), LOCO_EINVAL (file:line of a bad line, or no loss at all), or
 * LOCO_ENOMEM; the reason is in msg. */
static int parse_log(const char *path, log_data *out, char *msg, size_t msglen) {
    size_t len;
    char *text = read_all(path, &len);
    if (!text) return loco__fail(msg, msglen, LOCO_EIO, "%s: %s", path, strerror(errno));
    int err = LOCO_OK;
    long line_no = 0;
    for (char *p = text; p < text + len && !err;) {
        char *end = memchr(p, '\n', (size_t)(text + len - p));
        int torn = end == NULL;   /* the last line, without its newline */
        if (!end) end = text + len;
        line_no++;
        size_t n = (size_t)(end - p);
        if (n > 0 && p[n - 1] == '\r') n--;
        size_t blank = 0;
        while (blank < n && (p[blank] == ' ' || p[blank] == '\t')) blank++;
        if (blank < n) {
            cJSON *j = cJSON_ParseWithLength(p, n);
            if (!j && torn) {   /* a write cut short by a crash: drop it */
                cJSON_Delete(j);
                break;
            }
            const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
            const cJSON *loss = cJSON_GetObjectItemCaseSensitive(j, "loss");
            if (!cJSON_IsObject(j)) {
                err = loco__fail(msg, msglen, LOCO_EINVAL, "%s:%ld: not a JSON object", path, line_no);
            } else if (!cJSON_IsNumber(step) || !isfinite(step->valuedouble)) {
                err = loco__fail(msg, msglen, LOCO_EINVAL, "%s:%ld: no numeric \"step\"", path, line_no);
            } else if (cJSON_IsString(kind)) {
                int is_eval = strcmp(kind->valuestring, "eval") == 0;
                if (is_eval && !cJSON_IsNumber(loss))
                    loss = cJSON_GetObjectItemCaseSensitive(j, "val_loss");
                series *s = is_eval ? &out->eval
                          : strcmp(kind->valuestring, "train") == 0 ? &out->train : NULL;
                if (s && cJSON_IsNumber(loss) && isfinite(loss->valuedouble) &&
                    push(s, step->valuedouble, loss->valuedouble) != 0)
                    err = loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
            }
            cJSON_Delete(j);
        }
        p = end + 1;
    }
    free(text);
    if (!err && out->train.n + out->eval.n == 0)
        err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: empty log (no train or eval loss)", path);
    return err;
}

/* Tick spacing: 1, 2 or 5 times a power of ten, giving about `target` ticks
 * over [lo, hi]; lo and hi are widened to multiples of it. */
static double nice_ticks(double *lo, double *hi, int target) {
    if (!(*hi > *lo)) {   /* one value: give it some room */
        double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1.0;
        *lo -= pad;
        *hi += pad;
    }
    double raw = (*hi - *lo) / target, p = pow(10, floor(log10(raw))), r = raw / p;
    double step = (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
    *lo = floor(*lo / step + 1e-9) * step;
    *hi = ceil(*hi / step - 1e-9) * step;
    return step;
}

/* Decimals needed to print multiples of step exactly enough. */
static int decimals(double step) {
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

enum { W = 960, H = 560, PL = 80, PR = 250, PT = 50, PB = 60 };   /* canvas, plot margins */
static const char *const palette[10] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

typedef struct { double x0, x1, y0, y1; } frame;

static double px(const frame *f, double x) { return PL + (x - f->x0) / (f->x1 - f->x0) * (W - PL - PR); }
static double py(const frame *f, double y) { return H - PB - (y - f->y0) / (f->y1 - f->y0) * (H - PT - PB); }

/* Draws a series as one polyline.  Long train curves are averaged over runs
 * of consecutive points (at most ~1500 drawn): that smooths the per-batch
 * noise and keeps the file small. */
static void draw_series(sbuf *b, const frame *f, const series *s, const char *colour,
                        double width, double opacity, int markers) {
    if (s->n == 0) return;
    long per = s->n > 1500 ? (s->n + 1499) / 1500 : 1;
    sb_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-opacity=\"%.2f\" "
              "stroke-linejoin=\"round\" points=\"", colour, width, opacity);
    for (long i = 0; i < s->n; i += per) {
        double sx = 0, sy = 0;
        long k = 0;
        for (; k < per && i + k < s->n; k++) { sx += s->x[i + k]; sy += s->y[i + k]; }
        sb_printf(b, "%.1f,%.1f ", px(f, sx / k), py(f, sy / k));
    }
    sb_printf(b, "\"/>\n");
    if (markers && s->n <= 300)
        for (long i = 0; i < s->n; i++)
            sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                      px(f, s->x[i]), py(f, s->y[i]), colour);
}

/* Renders the whole SVG into b. */
static void render(sbuf *b, const char *const *paths, const log_data *logs, int n_logs) {
    frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (int i = 0; i < n_logs; i++)
        for (int e = 0; e < 2; e++) {
            const series *s = e ? &logs[i].eval : &logs[i].train;
            for (long k = 0; k < s->n; k++) {
                f.x0 = fmin(f.x0, s->x[k]); f.x1 = fmax(f.x1, s->x[k]);
                f.y0 = fmin(f.y0, s->y[k]); f.y1 = fmax(f.y1, s->y[k]);
            }
        }
    double xs = nice_ticks(&f.x0, &f.x1, 8), ys = nice_ticks(&f.y0, &f.y1, 6);
    sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    sb_printf(b, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    sb_printf(b, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">"
              "Loss vs step (thin: train, thick with dots: eval)</text>\n", (W - PR + PL) / 2);
    /* Grid and tick labels. */
    int dx = decimals(xs), dy = decimals(ys);
    /* Ticks are counted, not stepped by adding, so that a step below the
     * resolution of a huge coordinate (a crafted log) cannot loop forever. */
    for (int i = 0; i <= 50 && f.x0 + i * xs <= f.x1 + xs * 1e-6; i++) {
        double x = f.x0 + i * xs;
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n",
                  px(&f, x), PT, px(&f, x), H - PB);
        sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f</text>\n",
                  px(&f, x), H - PB + 18, dx, fabs(x) < xs * 1e-9 ? 0.0 : x);
    }
    for (int i = 0; i <= 50 && f.y0 + i * ys <= f.y1 + ys * 1e-6; i++) {
        double y = f.y0 + i * ys;
        sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n",
                  PL, py(&f, y), W - PR, py(&f, y));
        sb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                  PL - 8, py(&f, y) + 4, dy, fabs(y) < ys * 1e-9 ? 0.0 : y);
    }
    sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
              PL, PT, W - PL - PR, H - PT - PB);
    sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\">step</text>\n",
              (W - PR + PL) / 2, H - 16);
    sb_printf(b, "<text x=\"22\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" "
              "transform=\"rotate(-90 22 %d)\">loss</text>\n", (H - PB + PT) / 2, (H - PB + PT) / 2);
    /* Curves: train under eval, each log in its own colour. */
    for (int i = 0; i < n_logs; i++)
        draw_series(b, &f, &logs[i].train, palette[i % 10], 1.0, 0.55, 0);
    for (int i = 0; i < n_logs; i++)
        draw_series(b, &f, &logs[i].eval, palette[i % 10], 2.5, 1.0, 1);
    /* Legend: one entry per log, named by the file's base name, or, since
     * runs all write "metrics.jsonl", by its directory and base name. */
    int lx = W - PR + 16;
    sb_printf(b, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">logs</text>\n", lx, PT + 12);
    for (int i = 0; i < n_logs; i++) {
        int y = PT + 34 + 22 * i;
        const char *base = strrchr(paths[i], '/');
        if (base && !strcmp(base + 1, "metrics.jsonl")) {
            const char *dir = base;
            while (dir > paths[i] && dir[-1] != '/') dir--;
            base = dir;                     /* "run/metrics.jsonl" */
        } else {
            base = base ? base + 1 : paths[i];
        }
        char name[40];
        snprintf(name, sizeof name, "%s", base);
        if (strlen(base) >= sizeof name) strcpy(name + sizeof name - 4, "...");
        sb_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n",
                  lx, y - 4, lx + 24, y - 4, palette[i % 10]);
        sb_printf(b, "<text x=\"%d\" y=\"%d\">", lx + 32, y);
        sb_xml(b, name);
        sb_printf(b, "</text>\n");
    }
    sb_printf(b, "</svg>\n");
}

/* Writes len bytes to path through a temporary file and rename(2), so the
 * old file (if any) is replaced whole or not at all.  Returns LOCO_EIO. */
static int write_atomic(const char *path, const char *data, size_t len, char *msg, size_t msglen) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;
    if (f) ok = (fclose(f) == 0) && ok;
    int e = errno;
    if (ok && rename(tmp, path) != 0) { ok = 0; e = errno; }
    if (!ok) remove(tmp);
    free(tmp);
    return ok ? LOCO_OK : loco__fail(msg, msglen, LOCO_EIO, "%s: %s", path, strerror(e));
}

/* Returns LOCO_EINVAL / LOCO_EIO / LOCO_ENOMEM with the reason in msg. */
int loco_plot_svg(const char *const *metric_logs, int n_logs, const char *out_svg,
                  char *msg, size_t msglen) {
    if (n_logs < 1 || !metric_logs || !out_svg)
        return loco__fail(msg, msglen, LOCO_EINVAL, "plot: no metrics logs given");
    log_data *logs = calloc((size_t)n_logs, sizeof *logs);
    if (!logs) return loco__fail(msg, msglen, LOCO_ENOMEM, "plot: out of memory");
    int err = LOCO_OK;
    for (int i = 0; i < n_logs && !err; i++) err = parse_log(metric_logs[i], &logs[i], msg, msglen);
    if (!err) {
        sbuf b = {0};
        render(&b, metric_logs, logs, n_logs);
        err = b.oom ? loco__fail(msg, msglen, LOCO_ENOMEM, "plot: out of memory")
                    : write_atomic(out_svg, b.s, b.n, msg, msglen);
        free(b.s);
    }
    for (int i = 0; i < n_logs; i++) {
        free(logs[i].train.x); free(logs[i].train.y);
        free(logs[i].eval.x); free(logs[i].eval.y);
    }
    free(logs);
    return err;
}
