/* `loco plot`: one field against another (loss against step by default) from
 * JSONL metrics logs, as one SVG, on linear or logarithmic axes. */
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
#include "core/file.h"

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

/* Values beyond this magnitude are left out of a plot: the axis arithmetic
 * (a tick step of 10^ceil(log10 range), ranges padded by 10%) must stay
 * finite. */
#define LOCO__PLOT_MAX 1e300

/* Reads a whole file into a NUL-terminated buffer; returns NULL on failure
 * with the reason in msg. */
static char *read_all(const char *path, size_t *len, char *msg, size_t msglen) {
    FILE *f = loco_file_open_input(path, msg, msglen);
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
    if (!buf) return loco__fail(msg, msglen, 0, "%s: out of memory", path), NULL;
    if (bad) { free(buf); loco__fail(msg, msglen, 0, "%s: read error", path); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* The options with every default filled in. */
typedef struct {
    const char *x_key, *y_key, *x_label, *y_label, *title;
    const char *const *labels;
    int eval_only, log_x, log_y;
} plot_cfg;

/* Returns the number under key in the event j (the line's step for "step"),
 * or NAN if it is missing, not a number, or not finite. */
static double field(const cJSON *j, const cJSON *step, const char *key) {
    const cJSON *v = strcmp(key, "step") == 0 ? step : cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* Parses one log into its train and eval series of (x, y) points, stored as
 * log10 of the value on a log axis so that drawing is linear.  Returns
 * LOCO_EIO (file unreadable), LOCO_EINVAL (file:line of a bad line, or no
 * point to draw), or LOCO_ENOMEM; the reason is in msg. */
static int parse_log(const char *path, const plot_cfg *c, log_data *out, char *msg, size_t msglen) {
    size_t len;
    char *text = read_all(path, &len, msg, msglen);
    if (!text) return LOCO_EIO;
    int err = LOCO_OK;
    long line_no = 0, events = 0, not_positive = 0, too_large = 0;
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
            events++;
            const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
            const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
            if (!cJSON_IsObject(j)) {
                err = loco__fail(msg, msglen, LOCO_EINVAL, "%s:%ld: not a JSON object", path, line_no);
            } else if (!cJSON_IsNumber(step) || !isfinite(step->valuedouble)) {
                err = loco__fail(msg, msglen, LOCO_EINVAL, "%s:%ld: no numeric \"step\"", path, line_no);
            } else if (cJSON_IsString(kind)) {
                int is_eval = strcmp(kind->valuestring, "eval") == 0;
                series *s = is_eval ? &out->eval
                          : !c->eval_only && strcmp(kind->valuestring, "train") == 0 ? &out->train : NULL;
                double x = field(j, step, c->x_key), y = field(j, step, c->y_key);
                /* Eval events of older logs name their loss "val_loss". */
                if (is_eval && isnan(y) && strcmp(c->y_key, "loss") == 0) y = field(j, step, "val_loss");
                if (!s || isnan(x) || isnan(y)) {
                    /* not drawn: another kind, or a field missing */
                } else if ((c->log_x && x <= 0) || (c->log_y && y <= 0)) {
                    not_positive++;
                } else if (fabs(x) > LOCO__PLOT_MAX || fabs(y) > LOCO__PLOT_MAX) {
                    /* A diverged run's loss of 1e308: an axis that reaches it
                     * overflows its tick arithmetic (Inf, then NaN in the SVG). */
                    too_large++;
                } else if (push(s, c->log_x ? log10(x) : x, c->log_y ? log10(y) : y) != 0) {
                    err = loco__fail(msg, msglen, LOCO_ENOMEM, "%s: out of memory", path);
                }
            }
            cJSON_Delete(j);
        }
        p = end + 1;
    }
    free(text);
    if (!err && out->train.n + out->eval.n == 0)
        err = loco__fail(msg, msglen, LOCO_EINVAL, "%s: %sno %s against %s%s", path,
                         events ? "" : "empty log: ", c->y_key, c->x_key,
                         not_positive ? " (values <= 0 cannot go on a log axis)"
                                      : too_large ? " (values beyond 1e300 are not drawn)" : "");
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

static const char si_prefix[] = "kMGTPE";   /* 1e3 ... 1e18 */

/* Writes the tick value v of a linear axis whose ticks are `step` apart and
 * reach `mag` in absolute value: with `decimals(step)` decimals below 10000,
 * and above that scaled by an SI prefix (250k, 1.5G) without trailing zeros,
 * since counts of bytes or tokens are unreadable as a row of digits. */
static void linear_label(char *buf, size_t n, double v, double step, double mag) {
    if (fabs(v) < step * 1e-9) v = 0;   /* not "-0.00" from rounding */
    int e = mag >= 1e4 && mag < 1e21 ? (int)floor(log10(mag) / 3) : 0;
    if (e == 0) {
        if (mag >= 1e21) snprintf(buf, n, "%.3g", v);
        else snprintf(buf, n, "%.*f", decimals(step), v);
        return;
    }
    double scale = pow(10, 3 * e);
    snprintf(buf, n, "%.*f", decimals(step / scale), v / scale);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *z = buf + strlen(buf);
        while (z[-1] == '0') *--z = 0;
        if (z[-1] == '.') z[-1] = 0;
    }
    if (strcmp(buf, "0") != 0) snprintf(buf + strlen(buf), n - strlen(buf), "%c", si_prefix[e - 1]);
}

/* Writes m * 10^d (m in 1..9), a tick of a log axis: 1k ... 100E with SI
 * prefixes, plain below 1000 and down to 0.0001, else like 2e-7 or 1e24. */
static void log_label(char *buf, size_t n, int m, int d) {
    if (d >= 3 && d < 21) snprintf(buf, n, "%g%c", m * pow(10, d % 3), si_prefix[d / 3 - 1]);
    else if (d >= -4 && d < 3) snprintf(buf, n, "%g", m * pow(10, d));
    else snprintf(buf, n, "%de%d", m, d);
}

enum { MAX_TICKS = 128 };
typedef struct { double at; char label[24]; int minor; } tick;

/* Fills t with the ticks of one axis over [*lo, *hi] (in log10 units on a
 * log axis), widening the range to whole ticks; returns how many.  A log
 * axis gets a tick per decade (every few decades when it spans many), faint
 * unlabelled ticks at 2..9 times each decade when it spans at most 8, and
 * labels at 2 and 5 times each decade when it spans at most 2. */
static int axis_ticks(double *lo, double *hi, int log_axis, int target, tick *t) {
    int n = 0;
    if (!log_axis) {
        double step = nice_ticks(lo, hi, target), mag = fmax(fabs(*lo), fabs(*hi));
        /* Ticks are counted, not stepped by adding, so that a step below the
         * resolution of a huge coordinate (a crafted log) cannot loop forever. */
        for (int i = 0; i <= 50 && *lo + i * step <= *hi + step * 1e-6; i++) {
            t[n].at = *lo + i * step;
            t[n].minor = 0;
            linear_label(t[n].label, sizeof t[n].label, t[n].at, step, mag);
            n++;
        }
        return n;
    }
    double a = floor(*lo + 1e-9), b = ceil(*hi - 1e-9);
    if (b <= a) { a -= 1; b += 1; }   /* one decade value: centre it */
    double every = ceil((b - a) / target);
    a = floor(a / every) * every;
    b = ceil(b / every) * every;
    *lo = a;
    *hi = b;
    int decades = (int)(b - a), sub = every == 1 && decades <= 8;
    for (int i = 0; i <= 50 && a + i * every <= b; i++) {
        int d = (int)(a + i * every);
        for (int m = 1; m <= (sub && d < b ? 9 : 1); m++) {
            t[n].at = d + log10(m);
            t[n].minor = m > 1;
            t[n].label[0] = 0;
            if (m == 1 || (decades <= 2 && (m == 2 || m == 5)))
                log_label(t[n].label, sizeof t[n].label, m, d);
            n++;
        }
    }
    return n;
}

enum { PL = 80, PT = 50, PB = 60, PW = 630, PH = 450 };   /* margins, plot area */
/* Twenty colours that stay apart (matplotlib's tab10, then darker and
 * lighter ones); after twenty, the colours repeat with dashes. */
enum { N_COLOURS = 20 };
static const char *const palette[N_COLOURS] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#000000",
    "#5254a3", "#b5cf6b", "#e7969c", "#de9ed6"};
static const char *const dashes[3] = {"8,4", "2,3", "8,3,2,3"};

typedef struct { double x0, x1, y0, y1; int w, h; } frame;

static double px(const frame *f, double x) { return PL + (x - f->x0) / (f->x1 - f->x0) * PW; }
static double py(const frame *f, double y) { return PT + PH - (y - f->y0) / (f->y1 - f->y0) * PH; }

/* Appends the stroke attributes of log i: its colour, and a dash pattern
 * once the colours have all been used. */
static void sb_stroke(sbuf *b, int i) {
    sb_printf(b, "stroke=\"%s\"", palette[i % N_COLOURS]);
    if (i >= N_COLOURS) sb_printf(b, " stroke-dasharray=\"%s\"", dashes[(i / N_COLOURS - 1) % 3]);
}

/* Draws log i's series as one polyline.  Long train curves are averaged over
 * runs of consecutive points (at most ~1500 drawn): that smooths the
 * per-batch noise and keeps the file small. */
static void draw_series(sbuf *b, const frame *f, const series *s, int i, double width,
                        double opacity, int markers) {
    if (s->n == 0) return;
    long per = s->n > 1500 ? (s->n + 1499) / 1500 : 1;
    sb_printf(b, "<polyline fill=\"none\" ");
    sb_stroke(b, i);
    sb_printf(b, " stroke-width=\"%.1f\" stroke-opacity=\"%.2f\" stroke-linejoin=\"round\" points=\"",
              width, opacity);
    for (long k = 0; k < s->n; k += per) {
        double sx = 0, sy = 0;
        long m = 0;
        for (; m < per && k + m < s->n; m++) { sx += s->x[k + m]; sy += s->y[k + m]; }
        sb_printf(b, "%.1f,%.1f ", px(f, sx / m), py(f, sy / m));
    }
    sb_printf(b, "\"/>\n");
    if (markers && s->n <= 300)
        for (long k = 0; k < s->n; k++)
            sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                      px(f, s->x[k]), py(f, s->y[k]), palette[i % N_COLOURS]);
}

/* Writes the legend name of log i into name (n >= 8 bytes): its label, or
 * the file's base name, or, since runs all write "metrics.jsonl", its
 * directory and base name; cut to n - 1 bytes with "..." on a UTF-8
 * character boundary, so the SVG stays valid UTF-8. */
static void legend_name(char *name, size_t n, const plot_cfg *c, const char *path, int i) {
    const char *base = c->labels && c->labels[i] ? c->labels[i] : NULL;
    if (!base) {
        base = strrchr(path, '/');
        if (base && !strcmp(base + 1, "metrics.jsonl")) {
            const char *dir = base;
            while (dir > path && dir[-1] != '/') dir--;
            base = dir;                     /* "run/metrics.jsonl" */
        } else {
            base = base ? base + 1 : path;
        }
    }
    snprintf(name, n, "%s", base);
    if (strlen(base) >= n) {
        size_t k = n - 4;
        while (k > 0 && ((unsigned char)name[k] & 0xC0) == 0x80) k--;
        strcpy(name + k, "...");
    }
}

/* Renders the whole SVG into b. */
static void render(sbuf *b, const char *const *paths, const log_data *logs, int n_logs, const plot_cfg *c) {
    frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY, 0, 0};
    int has_train = 0, has_eval = 0;
    for (int i = 0; i < n_logs; i++) {
        has_train |= logs[i].train.n > 0;
        has_eval |= logs[i].eval.n > 0;
        for (int e = 0; e < 2; e++) {
            const series *s = e ? &logs[i].eval : &logs[i].train;
            for (long k = 0; k < s->n; k++) {
                f.x0 = fmin(f.x0, s->x[k]); f.x1 = fmax(f.x1, s->x[k]);
                f.y0 = fmin(f.y0, s->y[k]); f.y1 = fmax(f.y1, s->y[k]);
            }
        }
    }
    tick xt[MAX_TICKS], yt[MAX_TICKS];
    int nx = axis_ticks(&f.x0, &f.x1, c->log_x, 8, xt), ny = axis_ticks(&f.y0, &f.y1, c->log_y, 6, yt);
    /* The legend column is as wide as its longest name (about 7 pixels a
     * character) and the canvas as tall as the legend, so no name is cut. */
    enum { NAME = 48 };
    size_t longest = 0;
    char name[NAME];
    for (int i = 0; i < n_logs; i++) {
        legend_name(name, sizeof name, c, paths[i], i);
        longest = strlen(name) > longest ? strlen(name) : longest;
    }
    int legend_w = 16 + 32 + 7 * (int)longest + 16;
    f.w = PL + PW + (legend_w > 250 ? legend_w : 250);
    f.h = PT + PH + PB;
    if (PT + 34 + 22 * n_logs > f.h - 10) f.h = PT + 34 + 22 * n_logs + 10;
    int mid_x = PL + PW / 2, mid_y = PT + PH / 2;
    sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
              "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", f.w, f.h, f.w, f.h);
    sb_printf(b, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", f.w, f.h);
    sb_printf(b, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"17\" font-weight=\"bold\">",
              mid_x);
    if (c->title) {
        sb_xml(b, c->title);
    } else {   /* "Loss vs step", capitalised as a title */
        char first[2] = {c->y_label[0], 0};
        if (first[0] >= 'a' && first[0] <= 'z') first[0] = (char)(first[0] - 'a' + 'A');
        sb_xml(b, first);
        sb_xml(b, c->y_label + (first[0] != 0));
        sb_printf(b, " vs ");
        sb_xml(b, c->x_label);
        if (has_train && has_eval) sb_printf(b, " (thin: train, thick with dots: eval)");
    }
    sb_printf(b, "</text>\n");
    /* Grid and tick labels; minor ticks of a log axis are fainter. */
    for (int i = 0; i < nx; i++) {
        double x = px(&f, xt[i].at);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\"/>\n",
                  x, PT, x, PT + PH, xt[i].minor ? "#f3f3f3" : "#e4e4e4");
        if (xt[i].label[0])
            sb_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                      x, PT + PH + 18, xt[i].label);
    }
    for (int i = 0; i < ny; i++) {
        double y = py(&f, yt[i].at);
        sb_printf(b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                  PL, y, PL + PW, y, yt[i].minor ? "#f3f3f3" : "#e4e4e4");
        if (yt[i].label[0])
            sb_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PL - 8, y + 4, yt[i].label);
    }
    sb_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
              PL, PT, PW, PH);
    sb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\">", mid_x, PT + PH + PB - 16);
    sb_xml(b, c->x_label);
    sb_printf(b, "</text>\n<text x=\"22\" y=\"%d\" text-anchor=\"middle\" font-size=\"14\" "
              "transform=\"rotate(-90 22 %d)\">", mid_y, mid_y);
    sb_xml(b, c->y_label);
    sb_printf(b, "</text>\n");
    /* Curves: train under eval, each log in its own colour. */
    for (int i = 0; i < n_logs; i++) draw_series(b, &f, &logs[i].train, i, 1.0, 0.55, 0);
    for (int i = 0; i < n_logs; i++) draw_series(b, &f, &logs[i].eval, i, 2.5, 1.0, 1);
    /* Legend: one entry per log, with its line's colour and dashes. */
    int lx = PL + PW + 16;
    sb_printf(b, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">logs</text>\n", lx, PT + 12);
    for (int i = 0; i < n_logs; i++) {
        int y = PT + 34 + 22 * i;
        legend_name(name, sizeof name, c, paths[i], i);
        sb_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" ", lx, y - 4, lx + 24, y - 4);
        sb_stroke(b, i);
        sb_printf(b, " stroke-width=\"3\"/>\n<text x=\"%d\" y=\"%d\">", lx + 32, y);
        sb_xml(b, name);
        sb_printf(b, "</text>\n");
    }
    sb_printf(b, "</svg>\n");
}

/* Writes len bytes to path atomically (src/core/file.c), so the old file
 * (if any) is replaced whole or not at all.  Returns LOCO_EIO. */
static int write_atomic(const char *path, const char *data, size_t len, char *msg, size_t msglen) {
    loco__chunk c = {data, len};
    return loco__write_atomic(path, &c, 1, msg, msglen);
}

void loco_plot_opts_default(loco_plot_opts *o) {
    memset(o, 0, sizeof *o);
    o->x_key = "step";
    o->y_key = "loss";
}

/* Returns LOCO_EINVAL / LOCO_EIO / LOCO_ENOMEM with the reason in msg. */
int loco_plot_svg_opts(const char *const *metric_logs, int n_logs, const char *out_svg,
                       const loco_plot_opts *o, char *msg, size_t msglen) {
    if (n_logs < 1 || !metric_logs || !out_svg)
        return loco__fail(msg, msglen, LOCO_EINVAL, "plot: no metrics logs given");
    loco_plot_opts d;
    loco_plot_opts_default(&d);
    if (!o) o = &d;
    plot_cfg c = {o->x_key ? o->x_key : "step", o->y_key ? o->y_key : "loss", o->x_label, o->y_label,
                  o->title, o->labels, o->eval_only, o->log_x, o->log_y};
    if (!c.x_key[0] || !c.y_key[0])
        return loco__fail(msg, msglen, LOCO_EINVAL, "plot: empty %s key", c.x_key[0] ? "y" : "x");
    if (!c.x_label) c.x_label = c.x_key;
    if (!c.y_label) c.y_label = c.y_key;
    log_data *logs = calloc((size_t)n_logs, sizeof *logs);
    if (!logs) return loco__fail(msg, msglen, LOCO_ENOMEM, "plot: out of memory");
    int err = LOCO_OK;
    for (int i = 0; i < n_logs && !err; i++) err = parse_log(metric_logs[i], &c, &logs[i], msg, msglen);
    if (!err) {
        sbuf b = {0};
        render(&b, metric_logs, logs, n_logs, &c);
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

/* Returns what loco_plot_svg_opts returns. */
int loco_plot_svg(const char *const *metric_logs, int n_logs, const char *out_svg,
                  char *msg, size_t msglen) {
    return loco_plot_svg_opts(metric_logs, n_logs, out_svg, NULL, msg, msglen);
}
