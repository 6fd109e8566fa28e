/* The JSON Lines metrics log and the progress line. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include "loco/metrics.h"
#include "core/fail.h"
#include "core/file.h"

struct loco_metrics {
    FILE *f;
};


/* Returns LOCO_EIO (naming the file) or LOCO_ENOMEM. */
static int open_mode(loco_metrics **out, const char *path, const char *mode,
                     char *msg, size_t msglen) {
    *out = NULL;
    if (!path) return loco__fail(msg, msglen, LOCO_EINVAL, "metrics: no log path");
    /* A FIFO or a device at path would block the open or swallow the log. */
    if (loco_file_check_output(path, msg, msglen) != LOCO_OK) return LOCO_EIO;
    loco_metrics *m = malloc(sizeof *m);
    if (!m) return loco__fail(msg, msglen, LOCO_ENOMEM, "metrics: out of memory");
    m->f = fopen(path, mode);
    if (!m->f) {
        int e = errno;
        free(m);
        return loco__fail(msg, msglen, LOCO_EIO, "%s: %s", path, strerror(e));
    }
    /* Line buffering, plus an explicit flush per event: a crash loses at most
     * the line being written. */
    setvbuf(m->f, NULL, _IOLBF, 0);
    *out = m;
    return LOCO_OK;
}

/* Returns LOCO_EIO (naming the file) or LOCO_ENOMEM. */
int loco_metrics_open(loco_metrics **m, const char *path, char *msg, size_t msglen) {
    return open_mode(m, path, "w", msg, msglen);
}

/* Returns LOCO_EIO (naming the file) or LOCO_ENOMEM. */
int loco_metrics_open_append(loco_metrics **m, const char *path, char *msg, size_t msglen) {
    return open_mode(m, path, "a", msg, msglen);
}

/* Writes s as a JSON string: quotes, backslashes and control characters
 * escaped; other bytes (UTF-8 included) as they are. */
static void put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

/* The shortest %.Ng (N = 1..17) that reads back as exactly v: 0.0006, not
 * 0.00059999999999999995.  17 significant digits always round-trip. */
static void put_json_number(FILE *f, double v) {
    if (!isfinite(v)) {
        fputs("null", f);
        return;
    }
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, f);
}

/* Returns LOCO_EINVAL for bad arguments, LOCO_EIO if writing fails. */
int loco_metrics_log(loco_metrics *m, const char *kind, long step,
                     const char *const *keys, const double *vals, int n) {
    if (!m || !kind || n < 0 || (n > 0 && (!keys || !vals))) return LOCO_EINVAL;
    for (int i = 0; i < n; i++)
        if (!keys[i]) return LOCO_EINVAL;
    fputs("{\"kind\":", m->f);
    put_json_string(m->f, kind);
    fprintf(m->f, ",\"step\":%ld", step);
    for (int i = 0; i < n; i++) {
        fputc(',', m->f);
        put_json_string(m->f, keys[i]);
        fputc(':', m->f);
        put_json_number(m->f, vals[i]);
    }
    fputs("}\n", m->f);
    return fflush(m->f) == 0 && !ferror(m->f) ? LOCO_OK : LOCO_EIO;
}

void loco_metrics_close(loco_metrics *m) {
    if (!m) return;
    fclose(m->f);
    free(m);
}

/* Formats seconds as "45s", "12m03s" or "3h07m". */
static void fmt_duration(char *buf, size_t n, double s) {
    if (!(s >= 0) || !isfinite(s)) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(buf, n, "%lds", t);
    else if (t < 3600) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

void loco_progress_print(FILE *f, int is_tty, long step, long total, double loss,
                         double tok_per_s, double eta_s) {
    char eta[32];
    fmt_duration(eta, sizeof eta, eta_s);
    char counter[64];
    if (total > 0) snprintf(counter, sizeof counter, "step %ld/%ld", step, total);
    else snprintf(counter, sizeof counter, "step %ld", step);
    if (!is_tty) {
        fprintf(f, "%s | loss %.4f | %.0f tok/s | eta %s\n", counter, loss, tok_per_s, eta);
        fflush(f);
        return;
    }
    /* Carriage return, then the line, then "erase to end of line" (ESC [ K)
     * so that a shorter line leaves no tail of the previous one. */
    fputc('\r', f);
    if (total > 0) {
        enum { WIDTH = 24 };
        double frac = step >= total ? 1.0 : step <= 0 ? 0.0 : (double)step / total;
        int full = (int)(frac * WIDTH);
        fputc('[', f);
        for (int i = 0; i < WIDTH; i++) fputc(i < full ? '=' : i == full ? '>' : ' ', f);
        fprintf(f, "] %3d%% ", (int)(frac * 100));
    }
    fprintf(f, "%s | loss %.4f | %.0f tok/s | eta %s\033[K", counter, loss, tok_per_s, eta);
    if (total > 0 && step >= total) fputc('\n', f);
    fflush(f);
}

/* Rewrites path keeping the lines whose "step" is at most `step` (and lines
 * without a step), through a temporary file and a rename, so that a resumed
 * run appends after its checkpoint instead of after whatever the stopped run
 * logged past it.  A missing file is fine.  Returns LOCO_EIO naming the file. */
int loco_metrics_truncate_after(const char *path, long step, char *msg, size_t msglen) {
    if (access(path, F_OK) != 0 && errno == ENOENT) return LOCO_OK;
    FILE *in = loco_file_open_input(path, msg, msglen);
    if (!in) return LOCO_EIO;
    size_t tlen = strlen(path) + 8;
    char *tmp = malloc(tlen);
    if (!tmp) { fclose(in); snprintf(msg, msglen, "%s: out of memory", path); return LOCO_ENOMEM; }
    snprintf(tmp, tlen, "%s.tmp", path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        snprintf(msg, msglen, "%s: cannot create %s: %s", path, tmp, strerror(errno));
        fclose(in);
        free(tmp);
        return LOCO_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        const char *k = strstr(line, "\"step\":");
        if (k && strtol(k + 7, NULL, 10) > step) continue;
        fwrite(line, 1, (size_t)n, out);
    }
    free(line);
    int bad = ferror(in);
    fclose(in);
    bad |= fflush(out) != 0 || ferror(out);
    bad |= fclose(out) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(msg, msglen, "%s: cannot rewrite the log: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return LOCO_EIO;
    }
    free(tmp);
    return LOCO_OK;
}
