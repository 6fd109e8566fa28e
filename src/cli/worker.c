/*
 * `loco worker --connect ENDPOINT [security flags] [data flags]`: joins a
 * coordinator's DiLoCo run and trains the tasks it sends (include/loco/net_engine.h).
 * The run's configuration (model, optimizer, codec, seed, the split of the
 * documents among workers) comes from the coordinator; the data itself is
 * this host's copy, named by the same flags as `loco train`'s (--train-shard,
 * --data, or neither for the embedded corpus), and must be the coordinator's
 * to the byte: WELCOME carries its fingerprint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/common.h"
#include "cli/cluster_env.h"
#include "cli/net_cmd.h"
#include "cli/run_setup.h"
#include "cli/run_spec.h"
#include "loco/data.h"
#include "loco/net_engine.h"
#include "loco/source.h"

static const char *env(const char *name) { return getenv(name); }

static const char *kind_name(uint32_t k) {
    return k == LOCO_NET_DATA_SHARDS ? "token shards (--train-shard)"
           : k == LOCO_NET_DATA_BYTES ? "a text file (--data)"
                                      : "the embedded addition corpus (no data flag)";
}

/* Opens this host's copy of the run's training data.  Returns 0, or 1 with
 * a reason in msg. */
static int open_data(const loco_net_welcome *w, const char *data, const char *shard, loco_source *src, char *msg,
                     size_t msglen) {
    uint32_t mine = shard ? LOCO_NET_DATA_SHARDS : data ? LOCO_NET_DATA_BYTES : LOCO_NET_DATA_EMBEDDED;
    memset(src, 0, sizeof *src);
    if (mine != w->data_kind) {
        snprintf(msg, msglen, "the run trains on %s, this worker was given %s", kind_name(w->data_kind),
                 kind_name(mine));
        return 1;
    }
    if (shard) {
        /* Only the training split: the coordinator validates. */
        if (loco_shard_open(&src->train, shard, 0, 1, msg, msglen) != LOCO_OK) return 1;
        src->is_shards = 1;
        src->vocab_size = src->train.vocab_size;
        return 0;
    }
    loco_bytes_dataset d;
    if (data) {
        if (loco_dataset_load(&d, data, 0.1, (size_t)w->seq_len + 1, msg, msglen) != LOCO_OK) return 1;
    } else if (loco_dataset_synthetic(&d, 1 << 20, w->seed, 0.1) != LOCO_OK) {
        snprintf(msg, msglen, "cannot build the default corpus");
        return 1;
    }
    loco_source_from_bytes(src, &d);
    return 0;
}

int loco_cmd_worker(int argc, char **argv) {
    run_spec s;
    char err[512];
    int st = run_spec_parse(&s, RUN_WORKER, argc, argv, err, sizeof err);
    if (st < 0) return 0;   /* --help */
    const char *data = s.data, *shard = s.train_shard;
    int id = s.id;
    const int verbose = s.verbose;
    /* Under a cluster launcher the rank and the coordinator's address come
     * from the environment (src/cli/cluster_env.c); flags given win. */
    cluster_env ce;
    const int id_given = id >= 0;
    if (!st && (!s.connect || !id_given)) {
        st = cluster_env_read(&ce, env, err, sizeof err) ? 2 : 0;
        if (!st && !s.connect && ce.connect[0]) s.connect = ce.connect;
        if (!st && id < 0) id = ce.id;
        if (!st && verbose && !id_given && ce.id_from) fprintf(stderr, "loco worker: --id %d from %s\n", id, ce.id_from);
        if (!st && verbose && s.connect == ce.connect)
            fprintf(stderr, "loco worker: --connect %s from %s\n", s.connect, ce.connect_from);
    }
    if (!st) st = run_spec_check(&s, RUN_WORKER, err, sizeof err);
    if (st) {
        fprintf(stderr, "loco worker: %s\n", err);
        args_free_config();
        return st;
    }
    if (s.cuda && verbose) fprintf(stderr, "loco worker: --device cuda: %s\n", s.device_name);
    const char *connect = s.connect;
    loco_netw_config wc;
    memset(&wc, 0, sizeof wc);
    char msg[512];
    if (net_security_load(&s.sec, 0, connect, &wc.key, &wc.security, msg, sizeof msg)) {
        fprintf(stderr, "loco worker: %s\n", msg);
        net_security_free(&s.sec);
        args_free_config();
        return 1;
    }
    wc.connect = connect;
    wc.want_id = id < 0 ? LOCO_NET_ANON : (uint32_t)id;
    wc.join_timeout = s.join_timeout;
    wc.coordinator_timeout = s.timeout;
    wc.give_up_after = s.give_up_after;
    wc.verbose = verbose;
    wc.step_sleep = s.slowdown;
    wc.fault_value = s.dist.fault_value;
    wc.cuda = s.cuda;
    wc.log.fn = loco_cli_net_log;
    wc.threads = loco_threads_set(s.threads);
    loco_netw *w = NULL;
    loco_net_welcome wel;
    int e = loco_netw_join(&w, &wc, &wel, msg, sizeof msg);
    if (e) {
        /* Silence: the library says what it may mean, the flags to check
         * are ours to name. */
        if (e == LOCO_ERANGE) fprintf(stderr, "loco worker: %s (%s)\n", msg, net_security_flags_hint(&s.sec, connect));
        else fprintf(stderr, "loco worker: %s\n", msg);
        net_security_free(&s.sec);
        args_free_config();
        return 1;
    }
    if (verbose)
        fprintf(stderr, "loco worker: joined %s as worker %u of %u\n", connect, wel.worker_id, wel.workers);
    loco_source src;
    train_shards ts = {0};
    loco_split *split = NULL;
    int status = open_data(&wel, data, shard, &src, msg, sizeof msg);
    if (!status) {
        /* The documents, cut exactly as the coordinator cut them (the iid
         * split it also returns is not used: the run's split comes from the
         * coordinator). */
        run_spec iid;
        run_spec_defaults(&iid, RUN_WORKER);
        status = train_shards_open(&ts, &iid.dist, (int)wel.workers, &src, wel.seed, msg, sizeof msg) ? 1 : 0;
    }
    if (!status && (ts.docs.n_docs != (int)wel.data_docs ||
                    loco_net_docs_fingerprint(&ts.docs) != wel.data_fingerprint)) {
        snprintf(msg, sizeof msg, "this host's data (%d documents) is not the coordinator's (%llu documents): "
                 "fingerprints differ", ts.docs.n_docs, (unsigned long long)wel.data_docs);
        status = 1;
    }
    if (!status && loco_net_split_from_assign(&split, &ts.docs, wel.assign, wel.n_assign, (int)wel.workers, msg,
                                              sizeof msg) != LOCO_OK)
        status = 1;
    long tasks = 0;
    if (status) {
        loco_netw_leave(w, msg);
    } else if (wel.run_kind == LOCO_NET_RUN_DIPACO) {
        /* A DiPaCo coordinator leases tasks instead of giving this worker a
         * shard: the same session serves its task queue. */
        int e = loco_dpw_serve(w, split, &tasks, msg, sizeof msg);
        if (e != LOCO_OK) loco_cli_hint(e, msg, sizeof msg), status = 1;
    } else {
        int e = loco_netw_serve(w, split, msg, sizeof msg);
        if (e != LOCO_OK) loco_cli_hint(e, msg, sizeof msg), status = 1;
    }
    if (status) fprintf(stderr, "loco worker: %s\n", msg);
    else if (verbose && wel.run_kind == LOCO_NET_RUN_DIPACO)
        fprintf(stderr, "loco worker: done after %ld DiPaCo tasks\n", tasks);
    else if (verbose) fprintf(stderr, "loco worker: done after %ld rounds\n", loco_netw_rounds(w));
    loco_netw_free(w);
    net_security_free(&s.sec);
    loco_split_free(split);
    train_shards_close(&ts);
    if (src.is_shards) loco_shard_close(&src.train);
    else loco_dataset_free(&src.bytes);
    args_free_config();
    return status;
}
