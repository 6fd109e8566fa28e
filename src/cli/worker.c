/*
 * `loco worker --connect ENDPOINT --secret-file FILE [data flags]`: joins a
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
#include "cli/cluster_env.h"
#include "cli/net_security.h"
#include "cli/net_cmd.h"
#include "cli/train_dist.h"
#include "loco/cuda.h"
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
    const char *connect = NULL, *data = NULL, *shard = NULL, *val = NULL, *device = "cpu";
    int threads = 0, id = -1, verbose = 0;
    float join_timeout = 0, timeout = 30, give_up = 600, slowdown = 0, fault = 0;
    net_security_args sa = {0};
    arg_spec specs[32 + NET_SECURITY_SPECS];
    const arg_spec base[] = {
        {"connect", ARG_STR, &connect, 0, 0, "the coordinator's endpoint: tcp://HOST:PORT or ipc://PATH (default: "
         "LOCO_COORDINATOR, or under srun the allocation's first node, port LOCO_COORDINATOR_PORT or 5555)"},
        {"train-shard", ARG_STR, &shard, 0, 0, "this host's copy of the run's training shard"},
        {"val-shard", ARG_STR, &val, 0, 0, "accepted and ignored (the coordinator validates)"},
        {"data", ARG_STR, &data, 0, 0, "this host's copy of the run's text file (byte level)"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"id", ARG_INT, &id, -1, 1e6, "worker id (= shard) to ask for (default: the launcher's rank, SLURM_PROCID, "
         "OMPI_COMM_WORLD_RANK or JOB_COMPLETION_INDEX; else -1, any free one)"},
        {"join-timeout", ARG_FLOAT, &join_timeout, 0, 1e9, "seconds to keep trying to join (0: forever)"},
        {"timeout", ARG_FLOAT, &timeout, 0, 1e9, "seconds of silence from the coordinator before joining again "
         "(0: never)"},
        {"give-up-after", ARG_FLOAT, &give_up, 0, 1e9, "seconds without any coordinator before exiting (0: never)"},
        {"verbose", ARG_INT, &verbose, 0, 1, "1: say when joining, rejoining and leaving"},
        {"slowdown", ARG_FLOAT, &slowdown, 0, 60, "testing aid: seconds to sleep after each inner step, to make "
         "a slow worker (DyLU, stragglers)"},
        {"fault-value", ARG_FLOAT, &fault, -3.4e38, 3.4e38, "testing aid: send parameters all equal to this value "
         "(0: off), as a faulty accelerator or a hostile worker would; the coordinator's screen drops them"},
        {"device", ARG_STR, &device, 0, 0, "cpu, or cuda: take the inner steps of DiLoCo, async and DiPaCo tasks on "
         "the GPU (a make CUDA=1 build; docs/cuda.md)"},
    };
    _Static_assert(sizeof base / sizeof base[0] <= 32, "specs holds base");
    memcpy(specs, base, sizeof base);
    int ns = (int)(sizeof base / sizeof base[0]);
    ns += net_security_specs(&sa, 0, specs + ns);
    char err[512];
    int r = args_parse(specs, ns, argc, argv,
                       "usage: loco worker --connect ENDPOINT [security flags] [--train-shard F | --data F]\n\n"
                       "Joins a `loco coordinator` and trains the tasks it sends (docs/distributed.md);\n"
                       "with --device cuda, their inner steps on the GPU (docs/cuda.md).  On tcp:// the\n"
                       "connection is encrypted with CURVE: --key-file (this worker's key pair) and\n"
                       "--server-key (the coordinator's public key), from `loco keygen`; on ipc:// every\n"
                       "message carries a MAC keyed by --secret-file.  --security changes either.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) {
        fprintf(stderr, "loco worker: %s\n", err);
        return 2;
    }
    /* Under a cluster launcher the rank and the coordinator's address come
     * from the environment (src/cli/cluster_env.c); flags given win. */
    cluster_env ce;
    const int id_given = id >= 0;
    if (!connect || !id_given) {
        if (cluster_env_read(&ce, env, err, sizeof err)) {
            fprintf(stderr, "loco worker: %s\n", err);
            return 2;
        }
        if (!connect && ce.connect[0]) connect = ce.connect;
        if (id < 0) id = ce.id;
        if (verbose && !id_given && ce.id_from) fprintf(stderr, "loco worker: --id %d from %s\n", id, ce.id_from);
        if (verbose && connect == ce.connect)
            fprintf(stderr, "loco worker: --connect %s from %s\n", connect, ce.connect_from);
    }
    char why[320];
    if (connect && loco_net_endpoint_check(connect, 0, why, sizeof why)) {
        fprintf(stderr, "loco worker: --connect %s\n", why);
        return 2;
    }
    if (!connect) {
        fprintf(stderr, "loco worker: --connect ENDPOINT (or LOCO_COORDINATOR) is required\n");
        return 2;
    }
    if (net_security_check(&sa, 0, connect, why, sizeof why)) {
        fprintf(stderr, "loco worker: %s\n", why);
        return 2;
    }
    if (data && shard) {
        fprintf(stderr, "loco worker: give either --data or --train-shard, not both\n");
        return 2;
    }
    /* --device: checked before anything is loaded or joined. */
    const int use_cuda = strcmp(device, "cuda") == 0;
    if (!use_cuda && strcmp(device, "cpu") != 0) {
        fprintf(stderr, "loco worker: --device must be cpu or cuda (got '%s')\n", device);
        return 2;
    }
    if (use_cuda) {
        char why[512];
        int ce = loco_cuda_available(why, sizeof why);
        if (ce != LOCO_OK) {
            fprintf(stderr, "loco worker: --device cuda: %s\n", why);
            return ce == LOCO_ENOTSUP ? 2 : 1;
        }
        if (verbose) fprintf(stderr, "loco worker: --device cuda: %s\n", why);
    }
    loco_netw_config wc;
    memset(&wc, 0, sizeof wc);
    char msg[512];
    if (net_security_load(&sa, 0, connect, &wc.key, &wc.security, msg, sizeof msg)) {
        fprintf(stderr, "loco worker: %s\n", msg);
        args_free_config();
        return 1;
    }
    wc.connect = connect;
    wc.want_id = id < 0 ? LOCO_NET_ANON : (uint32_t)id;
    wc.join_timeout = join_timeout;
    wc.coordinator_timeout = timeout;
    wc.give_up_after = give_up;
    wc.verbose = verbose;
    wc.step_sleep = slowdown;
    wc.fault_value = fault;
    wc.cuda = use_cuda;
    wc.threads = loco_threads_set(threads);
    loco_netw *w = NULL;
    loco_net_welcome wel;
    int e = loco_netw_join(&w, &wc, &wel, msg, sizeof msg);
    if (e) {
        /* Silence: the library says what it may mean, the flags to check
         * are ours to name. */
        if (e == LOCO_ERANGE) fprintf(stderr, "loco worker: %s (%s)\n", msg, net_security_flags_hint(&sa, connect));
        else fprintf(stderr, "loco worker: %s\n", msg);
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
        train_dist_args d;
        train_dist_defaults(&d);
        status = train_shards_open(&ts, &d, (int)wel.workers, &src, wel.seed, msg, sizeof msg) ? 1 : 0;
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
         * shard: give the slot back and serve its task queue.  wel (and the
         * assignment it borrows from w) stays valid until loco_netw_free. */
        loco_netw_leave(w, "dipaco: serving the task queue");
        if (loco_dpw_serve(&wc, &wel, split, &tasks, msg, sizeof msg) != LOCO_OK) status = 1;
    } else if (loco_netw_serve(w, split, msg, sizeof msg) != LOCO_OK) {
        status = 1;
    }
    if (status) fprintf(stderr, "loco worker: %s\n", msg);
    else if (verbose && wel.run_kind == LOCO_NET_RUN_DIPACO)
        fprintf(stderr, "loco worker: done after %ld DiPaCo tasks\n", tasks);
    else if (verbose) fprintf(stderr, "loco worker: done after %ld rounds\n", loco_netw_rounds(w));
    loco_netw_free(w);
    loco_split_free(split);
    train_shards_close(&ts);
    if (src.is_shards) loco_shard_close(&src.train);
    else loco_dataset_free(&src.bytes);
    args_free_config();
    return status;
}
