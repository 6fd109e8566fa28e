/* `loco plot LOG... --out FILE.svg`: loss curves of one or more runs. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "loco/metrics.h"

int loco_cmd_plot(int argc, char **argv) {
    const char *logs[256], *out = "loss.svg";
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: loco plot METRICS.jsonl... [--out FILE.svg]\n\n"
                   "Draws train and eval loss against step for each metrics log (default out: loss.svg).\n");
            return 0;
        }
        if (!strcmp(argv[i], "--out")) {
            if (++i == argc) { fprintf(stderr, "loco plot: --out needs a value\n"); return 2; }
            out = argv[i];
        } else if (!strncmp(argv[i], "--", 2)) {
            fprintf(stderr, "loco plot: unknown flag '%s' (see --help)\n", argv[i]);
            return 2;
        } else if (n == 256) {
            fprintf(stderr, "loco plot: at most 256 metrics logs\n");
            return 2;
        } else {
            logs[n++] = argv[i];
        }
    }
    if (n == 0) { fprintf(stderr, "loco plot: give at least one metrics log\n"); return 2; }
    char msg[512];
    if (loco_plot_svg(logs, n, out, msg, sizeof msg)) { fprintf(stderr, "loco plot: %s\n", msg); return 1; }
    printf("loco plot: wrote %s\n", out);
    return 0;
}
