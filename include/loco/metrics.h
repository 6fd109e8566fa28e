/*
 * Training metrics: a JSON Lines log (one object per event), an SVG plot of
 * one or more logs (`loco plot`), and the progress line printed while
 * training.
 *
 * A log line looks like
 *   {"kind":"train","step":100,"loss":2.31,"lr":0.0006,"tok_per_s":1234.5,"time_s":12.3}
 * Each line is flushed as it is written, so a crash loses at most the line
 * being written; the plotter skips such a torn last line.
 */
#ifndef LOCO_METRICS_H
#define LOCO_METRICS_H

#include <stdio.h>
#include "loco/loco.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct loco_metrics loco_metrics;

/* Creates (truncates) the log at path.  Returns LOCO_EIO (reason in msg,
 * naming the file) if it cannot be opened, LOCO_ENOMEM. */
int loco_metrics_open(loco_metrics **m, const char *path, char *msg, size_t msglen);

/* As loco_metrics_open, but appends to an existing log (a resumed run). */
int loco_metrics_open_append(loco_metrics **m, const char *path, char *msg, size_t msglen);

/* Rewrites the log at path (atomically) without the lines whose "step" is
 * above `step`: a resumed run then continues the log where its checkpoint
 * was taken.  A missing file is not an error.  Returns LOCO_EIO naming the
 * file, or LOCO_ENOMEM. */
int loco_metrics_truncate_after(const char *path, long step, char *msg, size_t msglen);

/* Writes one line {"kind":kind,"step":step,keys[0]:vals[0],...} and flushes
 * it.  Numbers are written in the shortest form that reads back to the same
 * double; NaN and infinities (not JSON numbers) are written as null.  Returns
 * LOCO_EINVAL for a NULL log, kind or key, or n < 0; LOCO_EIO if the write
 * fails. */
int loco_metrics_log(loco_metrics *m, const char *kind, long step,
                     const char *const *keys, const double *vals, int n);

/* Flushes and closes the log; NULL is allowed. */
void loco_metrics_close(loco_metrics *m);

/* What loco_plot_svg_opts draws.  Start from loco_plot_opts_default and
 * change the fields needed; every pointer may be NULL for its default. */
typedef struct {
    const char *x_key;   /* x: "step" (the line's step; the default) or any numeric field: "bytes", "sim_s" */
    const char *y_key;   /* y: default "loss"; with "loss", eval events lacking it use "val_loss" */
    int eval_only;       /* 1: only "eval" events, one line with markers per log; 0: "train" too, thinner */
    int log_x, log_y;    /* 1: base-10 axis with decade ticks (10k, 1M, 1G); values <= 0 are skipped */
    const char *title;   /* NULL: "<y> vs <x>" from the labels */
    const char *x_label; /* NULL: x_key */
    const char *y_label; /* NULL: y_key */
    const char *const *labels;   /* n_logs legend entries; NULL: the file names */
} loco_plot_opts;

/* Fills o with the defaults: loss against step, train and eval, linear axes. */
void loco_plot_opts_default(loco_plot_opts *o);

/* Reads one or more JSONL logs and writes an SVG of o->y_key against
 * o->x_key (o NULL: the defaults).  Log i is drawn in the i-th colour (20
 * distinct ones, then dashed): its "train" events as a thin line, unless
 * o->eval_only, and its "eval" events as a thick line with markers.  Events
 * lacking either field, or with a non-finite value, or a value <= 0 on a log
 * axis, are skipped.  Numbers on the axes are written with SI suffixes (2k,
 * 10M, 1G) once they reach 10000.  The SVG is written to a temporary file and
 * renamed onto out_svg, so readers never see half a plot.  Empty lines are
 * skipped, and so is a last line without its newline that does not parse (a
 * write torn by a crash).  Returns LOCO_EINVAL (reason in msg) for n_logs < 1,
 * an empty key, a line that is not a JSON object or lacks a numeric "step"
 * (naming file:line), or a log with no point to draw ("FILE: no <y_key>
 * against <x_key>"); LOCO_EIO if a file cannot be read or written;
 * LOCO_ENOMEM. */
int loco_plot_svg_opts(const char *const *metric_logs, int n_logs, const char *out_svg,
                       const loco_plot_opts *o, char *msg, size_t msglen);

/* loco_plot_svg_opts with the defaults: for log i, its "train" events'
 * "loss" as a thin line and its "eval" events' "loss" (or "val_loss") as a
 * thick line with markers, against step, in the i-th colour; with axes,
 * ticks, labels, a legend of the file names and a title.  Returns what
 * loco_plot_svg_opts returns; a log with no loss at all gives LOCO_EINVAL
 * with "empty log" in msg when the file has no events at all. */
int loco_plot_svg(const char *const *metric_logs, int n_logs, const char *out_svg,
                  char *msg, size_t msglen);

/* Prints training progress to f.  On a terminal (is_tty), one line redrawn in
 * place with '\r': a bar, step/total, loss, tokens/s and the remaining time;
 * a newline is printed once step reaches total.  Otherwise one plain line per
 * call, for logs.  total <= 0 means unknown (no bar, no percentage); a
 * negative eta_s means unknown. */
void loco_progress_print(FILE *f, int is_tty, long step, long total, double loss,
                         double tok_per_s, double eta_s);

#ifdef __cplusplus
}
#endif
#endif
