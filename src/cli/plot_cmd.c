/* `loco plot LOG... --out FILE.svg [--x KEY] [--y KEY] ...`: curves of one or
 * more runs, one field against another, as one SVG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "loco/metrics.h"

enum { MAX_LOGS = 256 };

static void usage(void) {
    printf("usage: loco plot METRICS.jsonl... [--out FILE.svg] [--x KEY] [--y KEY] [--eval-only]\n"
           "                 [--logx] [--logy] [--title TEXT] [--labels A,B,...]\n\n"
           "Draws one field of the metrics logs against another, one colour per log: \"train\"\n"
           "events as a thin line, \"eval\" events as a thick line with dots.  Events without\n"
           "both fields are skipped.\n\n"
           "  --out FILE.svg   where to write the plot (default loss.svg)\n"
           "  --x KEY          field for the x axis: step (default, the line's step), or any\n"
           "                   numeric field such as bytes, sim_s, time_s\n"
           "  --y KEY          field for the y axis (default loss; eval events without \"loss\"\n"
           "                   use \"val_loss\"), e.g. ppl\n"
           "  --eval-only      draw only the eval events\n"
           "  --logx, --logy   logarithmic x or y axis, with decade ticks (10k, 1M, 1G);\n"
           "                   values <= 0 are skipped there\n"
           "  --title TEXT     the title (default \"<y> vs <x>\")\n"
           "  --labels A,B,... legend names, one per log in order (default: the file names)\n");
}

/* Matches argv[*i] against the flag --name VALUE or --name=VALUE; returns 1
 * with *val set (and *i moved past a separate value), 0 if it is another
 * flag, or -1 (the error printed) if the value is missing. */
static int flag_value(int argc, char **argv, int *i, const char *name, const char **val) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return 0;
    if (argv[*i][n] == '=') { *val = argv[*i] + n + 1; return 1; }
    if (argv[*i][n] != 0) return 0;
    if (*i + 1 == argc) { fprintf(stderr, "loco plot: %s needs a value\n", name); return -1; }
    *val = argv[++*i];
    return 1;
}

/* Splits a comma-separated list in place into at most max items; returns
 * how many there are (max + 1 if there are more). */
static int split_labels(char *s, const char **items, int max) {
    int n = 0;
    for (char *p = s;; p++) {
        char *comma = strchr(p, ',');
        if (n == max) return max + 1;
        items[n++] = p;
        if (!comma) return n;
        *comma = 0;
        p = comma;
    }
}

int loco_cmd_plot(int argc, char **argv) {
    const char *logs[MAX_LOGS], *out = "loss.svg", *labels_arg = NULL;
    int n = 0;
    loco_plot_opts o;
    loco_plot_opts_default(&o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int r = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(); return 0; }
        if (!strcmp(a, "--eval-only")) { o.eval_only = 1; continue; }
        if (!strcmp(a, "--logx")) { o.log_x = 1; continue; }
        if (!strcmp(a, "--logy")) { o.log_y = 1; continue; }
        if ((r = flag_value(argc, argv, &i, "--out", &out)) ||
            (r = flag_value(argc, argv, &i, "--x", &o.x_key)) ||
            (r = flag_value(argc, argv, &i, "--y", &o.y_key)) ||
            (r = flag_value(argc, argv, &i, "--title", &o.title)) ||
            (r = flag_value(argc, argv, &i, "--labels", &labels_arg))) {
            if (r < 0) return 2;
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            fprintf(stderr, "loco plot: unknown flag '%s' (see --help)\n", a);
            return 2;
        }
        if (n == MAX_LOGS) { fprintf(stderr, "loco plot: at most %d metrics logs\n", MAX_LOGS); return 2; }
        logs[n++] = a;
    }
    if (n == 0) { fprintf(stderr, "loco plot: give at least one metrics log\n"); return 2; }
    if (!o.x_key[0] || !o.y_key[0]) {
        fprintf(stderr, "loco plot: --%s needs a field name\n", o.x_key[0] ? "y" : "x");
        return 2;
    }
    const char *labels[MAX_LOGS];
    char *copy = NULL;
    if (labels_arg) {
        /* Split a copy: argv stays as given. */
        copy = strdup(labels_arg);
        if (!copy) { fprintf(stderr, "loco plot: out of memory\n"); return 1; }
        int k = split_labels(copy, labels, MAX_LOGS);
        if (k != n) {
            fprintf(stderr, "loco plot: --labels has %s%d name%s for %d log%s\n", k > MAX_LOGS ? "over " : "",
                    k > MAX_LOGS ? MAX_LOGS : k, k == 1 ? "" : "s", n, n == 1 ? "" : "s");
            free(copy);
            return 2;
        }
        o.labels = labels;
    }
    char msg[512];
    int err = loco_plot_svg_opts(logs, n, out, &o, msg, sizeof msg);
    free(copy);
    if (err) { fprintf(stderr, "loco plot: %s\n", msg); return 1; }
    printf("loco plot: wrote %s\n", out);
    return 0;
}
