/*
 * The rules between the run spec's options that no row of its table can
 * state (src/cli/run_spec.h): --train-shard goes with --val-shard, --quorum
 * is at most --workers, the security options fit the endpoint, and so on,
 * and --device cuda's availability.  Each refusal is one line that names
 * the options, as the table's own refusals do.
 */
#include <stdio.h>
#include <string.h>
#include "cli/net_security.h"
#include "cli/run_spec.h"
#include "loco/cuda.h"
#include "loco/net.h"

/* The rules of the networked commands (cmd is RUN_COORD or RUN_WORKER). */
static const char *check_net(const run_spec *s, run_cmd cmd, int algo, char *buf, size_t n) {
    const char *ep = cmd == RUN_COORD ? s->listen : s->connect;
    if (cmd == RUN_COORD && !ep) return "--listen ENDPOINT is required (e.g. tcp://0.0.0.0:5555)";
    if (ep && loco_net_endpoint_check(ep, cmd == RUN_COORD, buf, n)) {
        if (cmd == RUN_COORD) return buf;
        char why[300];
        snprintf(why, sizeof why, "%.290s", buf);
        snprintf(buf, n, "--connect %s", why);
        return buf;
    }
    if (cmd == RUN_WORKER && !ep) return "--connect ENDPOINT (or LOCO_COORDINATOR) is required";
    if (net_security_check(&s->sec, cmd == RUN_COORD, ep, buf, n)) return buf;
    if (cmd == RUN_WORKER) return NULL;
    const train_dist_args *d = &s->dist;
    if (algo == ALGO_DIPACO && d->modules && d->reset_inner != 1)
        return "--algo dipaco over the network needs --reset-inner 1: a task must be a function of the modules "
               "and (seed, path, round), so that any worker can take it";
    if (algo == ALGO_ASYNC && d->rule && !strcmp(d->rule, "sync"))
        return "--rule must be naive, buffer or dn over the network (got 'sync'; sync is --algo diloco)";
    if (algo == ALGO_ASYNC && d->shards && d->shards != d->workers)
        return "over the network, --algo async has one shard per worker (--shards = --workers)";
    if (s->quorum > d->workers || s->min_workers > d->workers) return "--quorum and --min-workers cannot exceed --workers";
    if (s->ckpt_every && !s->out) return "--ckpt-every needs --out DIR, where the state is written";
    return NULL;
}

/* The rules of every command. */
static const char *check_all(const run_spec *s, run_cmd cmd, int algo) {
    const train_dist_args *d = &s->dist;
    if (s->launch) return "--launch goes on the command line (loco train --launch local ...), not in a --config file";
    if (cmd == RUN_WORKER) return s->data && s->train_shard ? "give either --data or --train-shard, not both" : NULL;
    if ((s->train_shard != NULL) != (s->val_shard != NULL)) return "--train-shard and --val-shard go together";
    if (s->data && s->train_shard) return "give either --data or --train-shard/--val-shard, not both";
    if (d->init && s->resume) return "--init starts a new run; --resume continues one: give one of them";
    if (d->prune <= 0) return "--prune keeps a fraction in (0, 1]";
    if ((algo & ALGO_OUTER) && !(d->outer_lr > 0)) return "--outer-lr must be positive";
    if ((algo & ALGO_PSEUDO) && d->error_feedback && !strcmp(d->compress, "fp32") && d->prune >= 1)
        return "--error-feedback needs a lossy --compress codec or --prune";
    if (algo == ALGO_ASYNC && !strcmp(d->rule, "sync") && d->grace > 0)
        return "--grace applies to asynchronous rules, not --rule sync";
    if (algo == ALGO_ASYNC && !strcmp(d->rule, "sync") && d->period && d->period != d->workers)
        return "--rule sync averages one push per worker (--period = --workers)";
    if (algo == ALGO_DIPACO && !d->modules) return "--algo dipaco needs --modules, e.g. 1x4,1x4";
    if (algo == ALGO_DIPACO && d->route_topk != 1 && (!d->router || d->em_round))
        return "--route-topk needs a --router and does not combine with --em-round (which gives each document one "
               "path)";
    if (algo == ALGO_DIPACO && d->em_round && !d->router)
        return "--em-round re-routes documents: it needs a --router with a feature model";
    return NULL;
}

int run_spec_check(run_spec *s, run_cmd cmd, char *msg, size_t msglen) {
    const int algo = run_spec_algo(s, cmd);
    char buf[320];
    const char *why = cmd == RUN_TRAIN ? NULL : check_net(s, cmd, algo, buf, sizeof buf);
    if (!why) why = check_all(s, cmd, algo);
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return 2;
    }
    /* --device: checked before anything is loaded, trained or joined. */
    s->cuda = s->device && !strcmp(s->device, "cuda");
    if (s->cuda) {
        int e = loco_cuda_available(s->device_name, sizeof s->device_name);
        if (e != LOCO_OK) {
            snprintf(msg, msglen, "--device cuda: %s", s->device_name);
            return e == LOCO_ENOTSUP ? 2 : 1;
        }
        /* DDP's workers share one replica and sum their gradients on the
         * host every step, which the device model does not do (docs/cuda.md). */
        if (algo == ALGO_DDP) {
            snprintf(msg, msglen, "--device cuda runs the workers of --algo diloco, async and dipaco; --algo ddp runs "
                     "on the CPU only");
            return 2;
        }
    }
    return 0;
}
