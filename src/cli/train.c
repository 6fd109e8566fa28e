/*
 * `loco train`: trains a GPT on a token source, either bytes (a text file with
 * --data, or by default an embedded addition corpus that a small model learns
 * in minutes) or token shards from `loco data prepare`, alone or as the
 * simulated workers of --algo ddp, diloco, async or dipaco.  With --out DIR
 * it writes DIR/model.safetensors, DIR/metrics.jsonl and DIR/loss.svg.
 *
 * The options are the run spec's (src/cli/run_spec.c); this file parses
 * them, checks them, prepares the data and the model's shape
 * (src/cli/run_setup.c) and hands the run to its algorithm's driver.
 */
#include <stdio.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/net_cmd.h"
#include "cli/run_setup.h"
#include "cli/run_spec.h"
#include "cli/train_dist.h"

int loco_cmd_train(int argc, char **argv) {
    /* --launch local: a coordinator and --workers worker processes (src/cli/launch.c). */
    if (loco_cli_wants_launch(argc, argv)) return loco_cli_launch(argc, argv);
    run_spec s;
    train_resumed r = {0};
    loco_source src;
    char msg[512];
    int st = run_spec_parse(&s, RUN_TRAIN, argc, argv, msg, sizeof msg);
    if (st < 0) return 0;   /* --help */
    const int algo = run_spec_algo(&s, RUN_TRAIN);
    if (!st) st = run_spec_check(&s, RUN_TRAIN, msg, sizeof msg);
    if (!st && s.resume) st = train_plain_resume(&s, &r, msg, sizeof msg);
    if (!st) st = run_prepare(&s, s.resume != NULL, &src, msg, sizeof msg);
    if (st) {
        fprintf(stderr, "loco train: %s\n", msg);
        loco_gpt_free(r.m);
        args_free_config();
        return st;
    }
    if (algo == ALGO_SINGLE) {
        st = train_plain_run(&s, &r, &src);
        args_free_config();
        return st;
    }
    train_common c = run_common(&s);
    /* Only the workers' inner steps move to the device: evaluation, the
     * outer steps and every message stay on the host. */
    if (s.cuda) printf("loco train: --device cuda: %s (the workers' inner steps)\n", s.device_name);
    st = algo == ALGO_ASYNC    ? train_async_run(&s.dist, &c, &src)
         : algo == ALGO_DIPACO ? train_dipaco_run(&s.dist, &c, &src)
                               : train_dist_run(&s.dist, &c, &src);
    loco_source_close(&src);
    args_free_config();
    return st;
}
