/*
 * `loco train --algo ddp|diloco`: M simulated workers (include/loco/sim.h)
 * on shards of the training data, with the global model evaluated, logged
 * and saved like a plain run's.  The metrics log adds the bytes communicated
 * and the simulated time to every event, so runs can be compared by either.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/train_dist.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/metrics.h"
#include "loco/sim.h"
#include "loco/split.h"

void train_dist_defaults(train_dist_args *d) {
    memset(d, 0, sizeof *d);
    loco_outer_config oc;
    loco_outer_config_default(&oc);
    d->workers = 1;
    d->inner_steps = 100;
    d->outer_opt = "nesterov";
    d->outer_lr = oc.lr;
    d->outer_momentum = oc.momentum;
    d->outer_beta2 = oc.beta2;
    d->split = "iid";
    d->compress = "fp32";
    d->route_topk = 1;
    d->schedule = "constant";
    d->prune = 1.0f;
    d->screen_k = LOCO_SCREEN_K_DEFAULT;
    d->fault_worker = -1;
    d->sim_flops = 100e12f;
    d->net_gbps = 1.0f;
    d->net_latency_ms = 50.0f;
    d->rule = "dn";
    d->stale = "constant";
    d->stale_power = 0.5f;
    d->hetero = "none";
}

int train_dist_specs(train_dist_args *d, arg_spec *s) {
    const arg_spec t[] = {
        {"algo", ARG_STR, &d->algo, 0, 0, "single (plain training), or simulated workers: ddp, diloco, async, dipaco"},
        {"workers", ARG_INT, &d->workers, -1e9, 1e9, "simulated workers M (ddp, diloco)"},
        {"inner-steps", ARG_INT, &d->inner_steps, -1e9, 1e9, "DiLoCo: inner steps H between outer steps"},
        {"outer-opt", ARG_STR, &d->outer_opt, 0, 0, "DiLoCo outer optimizer: nesterov, sgd or adam"},
        {"outer-lr", ARG_FLOAT, &d->outer_lr, -1e9, 1e9, "DiLoCo outer learning rate"},
        {"outer-momentum", ARG_FLOAT, &d->outer_momentum, -1e9, 1e9, "DiLoCo outer momentum (Adam: beta1)"},
        {"outer-beta2", ARG_FLOAT, &d->outer_beta2, 0, 0.999999, "DiLoCo outer Adam beta2"},
        {"split", ARG_STR, &d->split, 0, 0, "data across workers: iid, kmeans or label (with --labels)"},
        {"labels", ARG_STR, &d->labels, 0, 0, "file with one label per training document (--split label)"},
        {"compress", ARG_STR, &d->compress, 0, 0, "pseudo-gradients: fp32, fp16, bf16, int8 (per row), int8-tensor"},
        {"prune", ARG_FLOAT, &d->prune, -1e9, 1e9, "keep this fraction of each pseudo-gradient tensor (top |x|)"},
        {"error-feedback", ARG_INT, &d->error_feedback, 0, 1, "1: carry what compression lost into the next round"},
        {"drop", ARG_FLOAT, &d->drop, -1e9, 1e9, "probability that a worker's pseudo-gradient is lost"},
        {"screen-k", ARG_FLOAT, &d->screen_k, 0, 1e30, "drop a contribution whose norm is over this many times the "
         "others' median (0: only non-finite ones; docs/diloco.md)"},
        {"fault-worker", ARG_INT, &d->fault_worker, -1, 1e6, "testing aid: this simulated worker (-1: none) sends "
         "parameters all equal to --fault-value, as a faulty accelerator would"},
        {"fault-value", ARG_FLOAT, &d->fault_value, -3.4e38, 3.4e38, "testing aid: see --fault-worker"},
        {"schedule", ARG_STR, &d->schedule, 0, 0, "active workers: constant, doubling, halving, ramp-up, ramp-down"},
        {"init", ARG_STR, &d->init, 0, 0, "warm start: parameters (and model shape) from this checkpoint or Hugging Face GPT-2 folder"},
        {"sim-step-time", ARG_FLOAT, &d->sim_step_time, 0, 1e9, "simulated seconds per inner step (0: from --sim-flops)"},
        {"sim-flops", ARG_FLOAT, &d->sim_flops, 1, 1e30, "simulated FLOP/s of a worker (step time = 6 P B T / this)"},
        {"net-gbps", ARG_FLOAT, &d->net_gbps, 1e-9, 1e9, "simulated link bandwidth per worker and direction, Gbit/s"},
        {"net-latency-ms", ARG_FLOAT, &d->net_latency_ms, 0, 1e9, "simulated one-way latency, milliseconds"},
        {"rule", ARG_STR, &d->rule, 0, 0, "async server rule: sync, naive, buffer or dn (Delayed Nesterov)"},
        {"period", ARG_INT, &d->period, -1e9, 1e9, "async: buffer size / DN momentum period N (0: --workers)"},
        {"stale", ARG_STR, &d->stale, 0, 0, "async staleness weighting: constant or poly ((1+s)^-power)"},
        {"stale-power", ARG_FLOAT, &d->stale_power, -1e9, 1e9, "async: the power of --stale poly"},
        {"dylu", ARG_INT, &d->dylu, 0, 1, "async: 1 = Dynamic Local Updates (H scaled by measured speed)"},
        {"grace", ARG_FLOAT, &d->grace, -1e9, 1e9, "async: pushes within this many simulated seconds apply together"},
        {"shards", ARG_INT, &d->shards, -1e9, 1e9, "async: data shards, tasks take the least visited (0: --workers)"},
        {"hetero", ARG_STR, &d->hetero, 0, 0, "async worker speeds: none, slight, moderate or very (docs/async.md)"},
        {"speeds", ARG_STR, &d->speeds, 0, 0, "async: seconds per inner step per worker, e.g. 0.58,0.75,1.51,3.33"},
        {"jitter", ARG_FLOAT, &d->jitter, -1e9, 1e9, "async: task time times exp(jitter N(0,1))"},
        {"preempt-prob", ARG_FLOAT, &d->preempt_prob, -1e9, 1e9, "async: chance a task starts with a preemption"},
        {"preempt-seconds", ARG_FLOAT, &d->preempt_seconds, -1e9, 1e9, "async: length of a preemption"},
        {"modules", ARG_STR, &d->modules, 0, 0, "dipaco: levels as BLOCKSxMODULES, e.g. 1x4,1x4 (16 paths)"},
        {"router", ARG_STR, &d->router, 0, 0, "dipaco: router file (loco route fit) giving each document a path"},
        {"private-base", ARG_INT, &d->private_base, 0, 1, "dipaco: 1 = embeddings and final norm per path"},
        {"reset-inner", ARG_INT, &d->reset_inner, 0, 1, "dipaco: 1 = every (path, round) task starts afresh"},
        {"em-round", ARG_INT, &d->em_round, 0, 1e9, "dipaco: after this round, re-route by the paths' losses (0: never)"},
        {"route-topk", ARG_INT, &d->route_topk, 1, 256, "dipaco: give each document to its K best paths (overlapping "
         "shards; default 1)"},
    };
    memcpy(s, t, sizeof t);
    return (int)(sizeof t / sizeof t[0]);
}

int train_dist_requested(const train_dist_args *d) {
    train_dist_args z;
    train_dist_defaults(&z);
    return d->workers != z.workers || d->inner_steps != z.inner_steps ||
           strcmp(d->outer_opt, z.outer_opt) || d->outer_lr != z.outer_lr ||
           d->outer_momentum != z.outer_momentum || strcmp(d->split, z.split) || d->labels ||
           strcmp(d->compress, z.compress) || d->prune != z.prune || d->error_feedback ||
           d->drop != z.drop || strcmp(d->schedule, z.schedule) || d->init || strcmp(d->rule, z.rule) ||
           d->period != z.period || strcmp(d->stale, z.stale) || d->stale_power != z.stale_power || d->dylu ||
           d->grace != z.grace || d->shards != z.shards || strcmp(d->hetero, z.hetero) || d->speeds ||
           d->jitter != z.jitter || d->preempt_prob != z.preempt_prob || d->preempt_seconds != z.preempt_seconds ||
           d->modules || d->router || d->private_base || d->reset_inner || d->em_round || d->route_topk != z.route_topk;
}

/* Parameters of a configuration: V C + T_max C, then per block 12 C^2 + 13 C
 * (qkv 3C^2+3C, projection C^2+C, MLP 8C^2+5C, two LayerNorms 4C), then the
 * final LayerNorm 2 C. */
static double param_count(const loco_gpt_config *g) {
    double C = g->channels;
    return (double)g->vocab_size * C + (double)g->max_seq_len * C + g->n_layer * (12 * C * C + 13 * C) + 2 * C;
}

/* Reads one label per line (documents in shard order).  Returns a malloc'd
 * array of n_docs strings in one block, or NULL with a reason in msg. */
static char **read_labels(const char *path, int n_docs, char *msg, size_t msglen) {
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return NULL;
    size_t n;
    uint8_t *text = loco_cli_read_all(f, &n);
    fclose(f);
    char **lab = text ? malloc(sizeof(char *) * (size_t)n_docs + n + 1) : NULL;
    if (!lab) {
        free(text);
        snprintf(msg, msglen, "%s: cannot read labels", path);
        return NULL;
    }
    char *buf = (char *)(lab + n_docs);
    memcpy(buf, text, n);
    buf[n] = 0;
    free(text);
    int k = 0;
    for (char *p = buf, *nl; *p && k <= n_docs; p = nl + 1) {
        nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (k < n_docs) lab[k] = p;
        k++;
        if (!nl) break;
    }
    if (k != n_docs) {
        snprintf(msg, msglen, "%s: %d labels for %d training documents", path, k, n_docs);
        free(lab);
        return NULL;
    }
    return lab;
}

int train_shards_open(train_shards *ts, const train_dist_args *d, int M, const loco_source *src, uint64_t seed,
                      char *msg, size_t msglen) {
    memset(ts, 0, sizeof *ts);
    loco_docs *docs = &ts->docs;
    if (src->is_shards) {
        *docs = (loco_docs){src->train.tokens, src->train.token_bytes, src->train.doc_offsets,
                            (int)src->train.n_docs};
    } else {
        size_t n = src->bytes.n_train, chunk = 1024, nd = (n + chunk - 1) / chunk;
        ts->ids = malloc(n * sizeof *ts->ids);
        ts->offsets = malloc((nd + 1) * sizeof *ts->offsets);
        if (!ts->ids || !ts->offsets) {
            snprintf(msg, msglen, "out of memory for the documents");
            return 1;
        }
        for (size_t i = 0; i < n; i++) ts->ids[i] = src->bytes.bytes[i];
        for (size_t k = 0; k <= nd; k++) ts->offsets[k] = k * chunk < n ? k * chunk : n;
        *docs = (loco_docs){ts->ids, 2, ts->offsets, (int)nd};
    }
    int e;
    int *assign = malloc(sizeof(int) * (size_t)docs->n_docs);
    if (!assign) {
        snprintf(msg, msglen, "out of memory for the split");
        return 1;
    }
    if (!strcmp(d->split, "iid")) {
        e = loco_split_iid_tokens(docs, M, seed, assign, msg, msglen);
    } else if (!strcmp(d->split, "kmeans")) {
        e = loco_split_kmeans(docs, M, seed, 1 << 16, 30, assign, NULL, msg, msglen);
    } else if (!strcmp(d->split, "label")) {
        char **labels = d->labels ? read_labels(d->labels, docs->n_docs, msg, msglen) : NULL;
        if (!d->labels) snprintf(msg, msglen, "--split label needs --labels FILE");
        e = labels ? loco_split_by_label((const char *const *)labels, docs->n_docs, M, assign, NULL, msg, msglen)
                   : LOCO_EINVAL;
        free(labels);
    } else {
        snprintf(msg, msglen, "--split must be iid, kmeans or label (got '%s')", d->split);
        e = LOCO_EINVAL;
    }
    if (e == LOCO_OK) e = loco_split_create(&ts->split, docs, assign, M, msg, msglen);
    free(assign);
    return e == LOCO_OK ? 0 : e == LOCO_EINVAL ? 2 : 1;
}

void train_shards_close(train_shards *ts) {
    loco_split_free(ts->split);
    free(ts->ids);
    free(ts->offsets);
    memset(ts, 0, sizeof *ts);
}

/* Parses the names into a simulator configuration; returns 0 or 2 (bad
 * usage) with a reason in msg. */
static int make_config(const train_dist_args *d, const train_common *c, loco_sim_config *sc,
                       char *msg, size_t msglen) {
    loco_sim_config_default(sc);
    if (!strcmp(d->algo, "ddp")) sc->algo = LOCO_ALGO_DDP;
    else if (!strcmp(d->algo, "diloco")) sc->algo = LOCO_ALGO_DILOCO;
    else {
        snprintf(msg, msglen, "--algo must be single, ddp, diloco, async or dipaco (got '%s')", d->algo);
        return 2;
    }
    if (loco_outer_parse(d->outer_opt, &sc->outer.kind)) {
        snprintf(msg, msglen, "--outer-opt must be nesterov, sgd or adam (got '%s')", d->outer_opt);
        return 2;
    }
    if (loco_codec_parse(d->compress, &sc->codec)) {
        snprintf(msg, msglen, "--compress must be fp32, fp16, bf16, int8, int8-row or int8-tensor (got '%s')",
                 d->compress);
        return 2;
    }
    if (loco_schedule_parse(d->schedule, &sc->schedule)) {
        snprintf(msg, msglen, "--schedule must be constant, doubling, halving, ramp-up or ramp-down (got '%s')",
                 d->schedule);
        return 2;
    }
    sc->workers = d->workers;
    sc->inner_steps = d->inner_steps;
    sc->steps = c->steps;
    sc->batch = c->B;
    sc->seq_len = c->T;
    sc->inner = c->oc;
    sc->outer.lr = d->outer_lr;
    sc->outer.momentum = d->outer_momentum;
    sc->outer.beta2 = d->outer_beta2;
    sc->keep = d->prune;
    sc->error_feedback = d->error_feedback;
    sc->drop_prob = d->drop;
    sc->screen_k = d->screen_k;
    sc->fault_worker = d->fault_worker;
    sc->fault_value = d->fault_value;
    sc->step_seconds = d->sim_step_time > 0 ? d->sim_step_time
                                            : 6.0 * param_count(&c->cfg) * c->B * c->T / d->sim_flops;
    sc->bandwidth = d->net_gbps * 1e9 / 8;
    sc->latency = d->net_latency_ms * 1e-3;
    sc->seed = c->seed;
    sc->cuda = c->cuda;
    return loco_sim_config_check(sc, sc->workers, msg, msglen) ? 2 : 0;
}

const char *train_fmt_bytes(double b, char *buf, size_t n) {
    const char *u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int i = 0;
    while (b >= 1000 && i < 5) { b /= 1000; i++; }
    snprintf(buf, n, i ? "%.2f %s" : "%.0f %s", b, u[i]);
    return buf;
}

static void log_event(loco_metrics *log, const char *kind, long step, float loss, const loco_sim_stats *st,
                      double t) {
    if (!log) return;
    const char *k[] = {"loss", "ppl", "bytes", "bytes_up", "bytes_down", "sim_s", "time_s", "active", "received",
                       "screened"};
    double v[] = {loss, exp(loss), st->bytes_up + st->bytes_down, st->bytes_up, st->bytes_down,
                  st->sim_seconds, t, st->active, st->received, st->screened_total};
    loco_metrics_log(log, kind, step, k, v, (int)(sizeof v / sizeof v[0]));
}

int train_load_init(const char *path, const train_common *c, float **out, char *msg, size_t msglen) {
    loco_gpt *w = NULL;
    *out = NULL;
    if (loco_cli_init_load(path, &w, 1, 1, msg, msglen) != LOCO_OK) return 1;
    size_t P = loco_gpt_num_params(w);
    *out = malloc(P * sizeof(float));
    if (*out) memcpy(*out, loco_gpt_params(w), P * sizeof(float));
    loco_gpt_free(w);
    if (!*out) snprintf(msg, msglen, "out of memory for the parameters of %s", path);
    return *out ? 0 : 1;
}

int train_open_log(const char *out, loco_metrics **log, char *msg, size_t msglen) {
    *log = NULL;
    if (!out) return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.jsonl", out);
    return loco_metrics_open(log, path, msg, msglen) == LOCO_OK ? 0 : 1;
}

int train_save_global(const char *out, const char *who, loco_gpt *m, long step, const loco_adamw_config *oc,
                      uint64_t seed, const char *tokenizer, loco_metrics **log, char *msg, size_t msglen) {
    if (!out) return 0;
    char ckpt[4096], logp[4096], svg[4096];
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", out);
    snprintf(logp, sizeof logp, "%s/metrics.jsonl", out);
    snprintf(svg, sizeof svg, "%s/loss.svg", out);
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = step;
    meta.opt = *oc;
    meta.seed = seed;
    snprintf(meta.tokenizer, sizeof meta.tokenizer, "%s", tokenizer ? tokenizer : "");
    char *tok_json = NULL;   /* embedded, so that the checkpoint works wherever it is copied */
    if (loco_cli_tokenizer_json(NULL, tokenizer, &tok_json, msg, msglen) != LOCO_OK) return 1;
    meta.tokenizer_json = tok_json;
    /* The global model alone: the workers' AdamW states and the server's
     * outer state do not fit one model's checkpoint. */
    int e = loco_checkpoint_save(ckpt, m, &meta, 0, msg, msglen);
    free(tok_json);
    if (e != LOCO_OK) return 1;
    loco_metrics_close(*log);
    *log = NULL;
    const char *logs[] = {logp};
    char pmsg[512];
    if (loco_plot_svg(logs, 1, svg, pmsg, sizeof pmsg) != LOCO_OK)
        fprintf(stderr, "%s: warning: no plot: %s\n", who, pmsg);
    return 0;
}

int train_dist_run(const train_dist_args *d, train_common *c, loco_source *src) {
    if (!strcmp(d->algo, "async")) return train_async_run(d, c, src);
    if (!strcmp(d->algo, "dipaco")) return train_dipaco_run(d, c, src);
    if (d->modules || d->router || d->private_base || d->reset_inner || d->em_round || d->route_topk != 1) {
        fprintf(stderr, "loco train: --modules, --router, --private-base, --reset-inner, --em-round and "
                "--route-topk apply to --algo dipaco\n");
        return 2;
    }
    char msg[512], b1[32], b2[32], b3[32];
    train_dist_args z;
    train_dist_defaults(&z);
    if (strcmp(d->rule, z.rule) || d->period || strcmp(d->stale, z.stale) || d->stale_power != z.stale_power ||
        d->dylu || d->grace || d->shards || strcmp(d->hetero, z.hetero) || d->speeds || d->jitter ||
        d->preempt_prob || d->preempt_seconds) {
        fprintf(stderr, "loco train: --rule, --period, --stale*, --dylu, --grace, --shards, --hetero, --speeds, "
                "--jitter and --preempt-* apply to --algo async\n");
        return 2;
    }
    loco_sim_config sc;
    int status = make_config(d, c, &sc, msg, sizeof msg);
    if (status) {
        fprintf(stderr, "loco train: %s\n", msg);
        return status;
    }
    train_shards ts = {0};
    float *init = NULL;
    loco_sim *sim = NULL;
    loco_metrics *log = NULL;
    int *tok = malloc(sizeof(int) * c->B * c->T), *tgt = malloc(sizeof(int) * c->B * c->T);
    status = tok && tgt ? train_shards_open(&ts, d, d->workers, src, c->seed, msg, sizeof msg) : 1;
    if (status) {
        fprintf(stderr, "loco train: %s\n", tok && tgt ? msg : "out of memory");
        goto done;
    }
    if (d->init && (status = train_load_init(d->init, c, &init, msg, sizeof msg)) != 0) {
        fprintf(stderr, "loco train: %s\n", msg);
        goto done;
    }
    int e = loco_sim_create(&sim, &sc, &c->cfg, init, ts.split, msg, sizeof msg);
    if (e) {
        /* A device's shortage of memory comes with its own reason. */
        fprintf(stderr, "loco train: %s\n", e == LOCO_ENOMEM && !c->cuda ? "out of memory" : msg);
        status = e == LOCO_EINVAL ? 2 : 1;
        goto done;
    }
    const loco_sim_stats *st = loco_sim_get_stats(sim);
    loco_gpt *m = loco_sim_model(sim);
    const int M = sc.workers;
    const int diloco = sc.algo == LOCO_ALGO_DILOCO;

    printf("loco train: data=%s (%d documents; %llu train / %llu val tokens, vocabulary %d)\n", c->data_name,
           ts.docs.n_docs, (unsigned long long)loco_source_tokens(src, 0),
           (unsigned long long)loco_source_tokens(src, 1), src->vocab_size);
    printf("  model  L=%d C=%d NH=%d V=%d max_seq_len=%d params=%zu (%.2f M)%s%s\n", c->cfg.n_layer,
           c->cfg.channels, c->cfg.n_head, c->cfg.vocab_size, c->cfg.max_seq_len, loco_gpt_num_params(m),
           loco_gpt_num_params(m) / 1e6, d->init ? " warm start from " : "", d->init ? d->init : "");
    printf("  algo   %s M=%d%s", d->algo, M, diloco ? "" : "\n");
    if (diloco)
        printf(" H=%d rounds=%ld outer=%s(lr %g, momentum %g) compress=%s prune=%g error_feedback=%d "
               "drop=%g schedule=%s\n", sc.inner_steps, st->n_rounds, loco_outer_name(sc.outer.kind),
               sc.outer.lr, sc.outer.momentum, loco_codec_name(sc.codec), sc.keep, sc.error_feedback,
               sc.drop_prob, loco_schedule_name(sc.schedule));
    printf("  split  %s:", d->split);
    for (int w = 0; w < M; w++) printf(" %ld", loco_split_worker_docs(ts.split, w));
    printf(" docs;");
    for (int w = 0; w < M; w++) printf(" %llu", (unsigned long long)loco_split_worker_tokens(ts.split, w));
    printf(" tokens\n");
    printf("  train  B=%d T=%d per worker, steps=%d per worker, seed=%llu threads=%d\n", c->B, c->T, c->steps,
           (unsigned long long)c->seed, c->threads);
    printf("  adamw  lr=%g min_lr=%g warmup=%d betas=(%g, %g) weight_decay=%g grad_clip=%g\n", c->oc.lr,
           c->oc.min_lr, c->oc.warmup_steps, c->oc.beta1, c->oc.beta2, c->oc.weight_decay, c->oc.grad_clip);
    printf("  wire   per worker and sync: up %s, down %s; simulated step %.3g s, links %g Gbit/s, %g ms\n",
           train_fmt_bytes((double)loco_sim_message_bytes(sim, 0), b1, sizeof b1),
           train_fmt_bytes((double)loco_sim_message_bytes(sim, 1), b2, sizeof b2), sc.step_seconds, d->net_gbps,
           d->net_latency_ms);
    if (c->out) printf("  output %s/{model.safetensors,metrics.jsonl,loss.svg}\n", c->out);
    fflush(stdout);

    if (train_open_log(c->out, &log, msg, sizeof msg)) {
        fprintf(stderr, "loco train: %s\n", msg);
        status = 1;
        goto done;
    }
    const int tty = isatty(STDOUT_FILENO);
    const double tokens_per_round = (double)c->B * c->T * (diloco ? sc.inner_steps : 1);
    double t0 = loco_cli_now(), tlog = t0, tokens_since = 0;
    float vl = NAN;
    long next_log = c->log_every, next_eval = c->eval_every;
    while (st->round < st->n_rounds) {
        if ((e = loco_sim_round(sim, msg, sizeof msg)) != LOCO_OK) {
            fprintf(stderr, "loco train: %s\n", msg);
            status = 1;
            goto done;
        }
        if (st->screened)
            fprintf(stderr, "loco train: round %ld: dropped %d contribution%s whose norm was far outside the "
                    "others' (--screen-k %g)\n", st->round, st->screened, st->screened > 1 ? "s" : "",
                    (double)d->screen_k);
        tokens_since += tokens_per_round * st->active;
        long step = st->inner_step;
        int last = st->round == st->n_rounds;
        double t = loco_cli_now();
        if (step >= next_log || last || st->round == 1) {
            double tps = tokens_since / (t - tlog);
            double eta = (t - t0) / st->round * (st->n_rounds - st->round);
            loco_progress_print(stdout, tty, step, c->steps, st->train_loss, tps, eta);
            log_event(log, "train", step, st->train_loss, st, t - t0);
            tlog = t;
            tokens_since = 0;
            while (next_log <= step) next_log += c->log_every;
        }
        if ((c->eval_every && step >= next_eval) || last) {
            vl = loco_cli_eval_loss(m, src, c->B, c->T, c->eval_batches, tok, tgt);
            if (tty) printf("\n");
            printf("step %5ld/%d  val_loss %.4f  val_ppl %.3f  sent %s  simulated %.1f s\n", step, c->steps, vl,
                   exp(vl), train_fmt_bytes(st->bytes_up + st->bytes_down, b3, sizeof b3), st->sim_seconds);
            fflush(stdout);
            log_event(log, "eval", step, vl, st, loco_cli_now() - t0);
            while (c->eval_every && next_eval <= step) next_eval += c->eval_every;
        }
    }
    if (train_save_global(c->out, "loco train", m, st->inner_step, &c->oc, c->seed,
                          c->tokenizer, &log, msg, sizeof msg)) {
        fprintf(stderr, "loco train: %s\n", msg);
        status = 1;
        goto done;
    }
    printf("done: %s M=%d, %ld rounds, %ld steps per worker in %.1f s (simulated %.1f s); val_loss %.4f, "
           "val_ppl %.3f; sent %s up + %s down (%ld contributions dropped, %ld screened out)%s%s\n",
           d->algo, M, st->round, st->inner_step, loco_cli_now() - t0, st->sim_seconds, vl, exp(vl),
           train_fmt_bytes(st->bytes_up, b1, sizeof b1), train_fmt_bytes(st->bytes_down, b2, sizeof b2), st->dropped_total,
           st->screened_total, c->out ? "; wrote " : "", c->out ? c->out : "");
    printf("  per worker, sent / received:");
    for (int w = 0; w < M; w++)
        printf(" %s / %s", train_fmt_bytes(loco_sim_worker_bytes(sim, w, 0), b1, sizeof b1),
               train_fmt_bytes(loco_sim_worker_bytes(sim, w, 1), b2, sizeof b2));
    printf("\n");
done:
    loco_metrics_close(log);
    loco_sim_free(sim);
    train_shards_close(&ts);
    free(init);
    free(tok);
    free(tgt);
    return status;
}
