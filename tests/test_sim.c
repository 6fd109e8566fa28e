/*
 * The many-worker simulator: DiLoCo's invariants (one worker, one inner
 * step, outer lr 1 and no momentum is plain training, bit for bit), DDP
 * against one large batch, the outer step as the algorithm states it,
 * determinism, byte and time accounting, and bad configurations.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/checkpoint.h"
#include "loco/sim.h"
#include "loco/split.h"
#include "test.h"
#include "proc.h"
#include "util.h"

enum { N_DOCS = 24, DOC_LEN = 90, V = 50 };

/* A small corpus of N_DOCS documents of DOC_LEN tokens: a noisy counting
 * pattern, so that there is something to learn. */
typedef struct {
    uint16_t tok[N_DOCS * DOC_LEN];
    uint64_t off[N_DOCS + 1];
    loco_docs docs;
} corpus;

static void corpus_make(corpus *c, uint64_t seed) {
    loco_rng r;
    loco_rng_seed(&r, seed);
    for (int i = 0; i < N_DOCS * DOC_LEN; i++)
        c->tok[i] = (uint16_t)((i % 7 + (loco_rng_u64(&r) % 4 == 0 ? loco_rng_u64(&r) % V : 0)) % V);
    for (int d = 0; d <= N_DOCS; d++) c->off[d] = (uint64_t)d * DOC_LEN;
    c->docs = (loco_docs){c->tok, 2, c->off, N_DOCS};
}

static const loco_gpt_config tiny = {.max_seq_len = 16, .vocab_size = V, .n_layer = 2, .n_head = 2, .channels = 16};

static loco_split *split_iid(const corpus *c, int M) {
    int assign[N_DOCS];
    loco_split *s = NULL;
    if (loco_split_iid(N_DOCS, M, 7, assign, NULL, 0) || loco_split_create(&s, &c->docs, assign, M, NULL, 0))
        return NULL;
    return s;
}

static void sim_config(loco_sim_config *c, loco_algo algo, int M, int H, long steps, int B) {
    loco_sim_config_default(c);
    c->algo = algo;
    c->workers = M;
    c->inner_steps = H;
    c->steps = steps;
    c->batch = B;
    c->seq_len = 16;
    loco_adamw_config_default(&c->inner, (int)steps);
    c->inner.lr = 3e-3f;
    c->inner.warmup_steps = 2;
    c->step_seconds = 0.25;
    c->seed = 42;
}

/* Runs a simulator to the end; returns its error. */
static int run_all(loco_sim *s) {
    char msg[256];
    while (loco_sim_get_stats(s)->round < loco_sim_get_stats(s)->n_rounds) {
        int e = loco_sim_round(s, msg, sizeof msg);
        if (e) return e;
    }
    return LOCO_OK;
}

LOCO_TEST(sim_ddp_matches_one_big_batch) {
    /* DDP over M = 2 workers of B = 2 against one model on the B = 4 batch
     * made of the same windows: the mean of the workers' mean losses is the
     * mean loss of the big batch, so the two runs differ only by the order of
     * fp32 sums. */
    corpus c;
    corpus_make(&c, 1);
    loco_split *split = split_iid(&c, 2);
    loco_sim_config sc;
    sim_config(&sc, LOCO_ALGO_DDP, 2, 1, 5, 2);
    loco_sim *sim = NULL;
    char msg[256];
    CHECK(split && loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!sim) { loco_split_free(split); return; }
    CHECK(run_all(sim) == LOCO_OK, "ddp run");

    loco_gpt *big = NULL, *half = NULL;
    loco_gpt_create(&big, &tiny, 4, 16, 42, NULL, 0);
    loco_gpt_create(&half, &tiny, 4, 16, 42, NULL, 0);
    loco_rng rng[2];
    for (int w = 0; w < 2; w++) loco_rng_seed(&rng[w], loco_sim_worker_seed(42, w));
    int tok[64], tgt[64];
    for (int step = 0; step < 5; step++) {
        for (int w = 0; w < 2; w++) loco_worker_batch(split, w, &rng[w], 2, 16, tok + 32 * w, tgt + 32 * w);
        loco_gpt_forward(big, tok, tgt, 4, 16);
        loco_gpt_zero_grad(big);
        loco_gpt_backward(big);
        loco_gpt_adamw_step(big, &sc.inner, step, NULL);
        /* A wrong baseline, to show the comparison can fail: worker 0's
         * windows alone. */
        loco_gpt_forward(half, tok, tgt, 2, 16);
        loco_gpt_zero_grad(half);
        loco_gpt_backward(half);
        loco_gpt_adamw_step(half, &sc.inner, step, NULL);
    }
    size_t P = loco_gpt_num_params(big);
    const float *p = loco_gpt_params(loco_sim_model(sim));
    double err = 0, wrong = 0;
    for (size_t i = 0; i < P; i++) {
        err = fmax(err, fabs((double)p[i] - loco_gpt_params(big)[i]));
        wrong = fmax(wrong, fabs((double)p[i] - loco_gpt_params(half)[i]));
    }
    /* Five AdamW steps of lr 3e-3 move a parameter by up to 1.5e-2; a
     * rounding difference in a gradient changes m / sqrt(v) by a relative
     * 1e-6 or so, except where the gradient is tiny and Adam amplifies it. */
    CHECK(err < 1e-5, "DDP vs one big batch: max |diff| %.3g", err);
    CHECK(wrong > 1e-3, "the half batch should differ clearly (%.3g)", wrong);
    printf("    ddp M=2 B=2 vs B=4: max |diff| %.3g (half batch: %.3g)\n", err, wrong);
    loco_gpt_free(big);
    loco_gpt_free(half);
    loco_sim_free(sim);
    loco_split_free(split);
}

LOCO_TEST(sim_diloco_is_the_algorithm) {
    /* Two workers, three inner steps, two rounds, outer Nesterov: the
     * simulator's theta against the algorithm written out here with two
     * models, the average and the outer formula in double, and theta
     * rounded to float after each round as the workers receive it. */
    corpus c;
    corpus_make(&c, 2);
    loco_split *split = split_iid(&c, 2);
    loco_sim_config sc;
    sim_config(&sc, LOCO_ALGO_DILOCO, 2, 3, 6, 2);
    loco_sim *sim = NULL;
    char msg[256];
    CHECK(split && loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!sim) { loco_split_free(split); return; }
    CHECK(run_all(sim) == LOCO_OK, "diloco run");

    loco_gpt *w[2];
    loco_rng rng[2];
    for (int i = 0; i < 2; i++) {
        loco_gpt_create(&w[i], &tiny, 2, 16, 42, NULL, 0);
        loco_rng_seed(&rng[i], loco_sim_worker_seed(42, i));
    }
    size_t P = loco_gpt_num_params(w[0]);
    float *theta = malloc(P * sizeof(float));
    double *b = calloc(P, sizeof(double));
    memcpy(theta, loco_gpt_params(w[0]), P * sizeof(float));
    int tok[32], tgt[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 2; i++) {
            memcpy(loco_gpt_params(w[i]), theta, P * sizeof(float));
            for (int h = 0; h < 3; h++) {
                loco_worker_batch(split, i, &rng[i], 2, 16, tok, tgt);
                loco_gpt_forward(w[i], tok, tgt, 2, 16);
                loco_gpt_zero_grad(w[i]);
                loco_gpt_backward(w[i]);
                loco_gpt_adamw_step(w[i], &sc.inner, round * 3 + h, NULL);
            }
        }
        for (size_t j = 0; j < P; j++) {
            double delta = theta[j] - 0.5 * ((double)loco_gpt_params(w[0])[j] + loco_gpt_params(w[1])[j]);
            b[j] = 0.9 * b[j] + delta;
            theta[j] = (float)(theta[j] - 0.7 * (delta + 0.9 * b[j]));
        }
    }
    const float *p = loco_gpt_params(loco_sim_model(sim));
    double err = 0, scale = 0;
    for (size_t j = 0; j < P; j++) {
        err = fmax(err, fabs(p[j] - theta[j]));
        scale = fmax(scale, fabs(theta[j]));
    }
    /* The simulator evaluates the outer step in float: delta, b, u and theta
     * each round by up to half an ulp of numbers up to theta's scale (an ulp
     * is 2^-23 relative), and round 2's workers start from thetas that may
     * differ by those.  A wrong average (one worker's parameters, say) is off
     * by the size of an inner update, 1e-3 and more. */
    CHECK(err <= 4 * scale * 0x1p-23, "simulator vs the algorithm: max |diff| %.3g (scale %.3g)", err, scale);
    free(theta);
    free(b);
    for (int i = 0; i < 2; i++) loco_gpt_free(w[i]);
    loco_sim_free(sim);
    loco_split_free(split);
}

/* Final parameters and stats of a DiLoCo run with every variant on. */
static int variant_run(uint64_t seed, float *out, size_t *P, loco_sim_stats *st) {
    corpus c;
    corpus_make(&c, 3);
    loco_split *split = split_iid(&c, 4);
    loco_sim_config sc;
    sim_config(&sc, LOCO_ALGO_DILOCO, 4, 2, 8, 2);
    sc.seed = seed;
    sc.codec = LOCO_CODEC_INT8_ROW;
    sc.keep = 0.5f;
    sc.error_feedback = 1;
    sc.drop_prob = 0.3f;
    sc.schedule = LOCO_SCHED_RAMP_UP;
    loco_sim *sim = NULL;
    int e = split ? loco_sim_create(&sim, &sc, &tiny, NULL, split, NULL, 0) : LOCO_ENOMEM;
    if (!e) e = run_all(sim);
    if (!e) {
        *P = loco_gpt_num_params(loco_sim_model(sim));
        if (out) memcpy(out, loco_gpt_params(loco_sim_model(sim)), *P * sizeof(float));
        *st = *loco_sim_get_stats(sim);
    }
    loco_sim_free(sim);
    loco_split_free(split);
    return e;
}

LOCO_TEST(sim_deterministic) {
    size_t P = 0;
    loco_sim_stats a, b, c;
    CHECK(variant_run(5, NULL, &P, &a) == LOCO_OK, "first run");
    float *pa = malloc(P * sizeof(float)), *pb = malloc(P * sizeof(float)), *pc = malloc(P * sizeof(float));
    CHECK(variant_run(5, pa, &P, &a) == LOCO_OK && variant_run(5, pb, &P, &b) == LOCO_OK, "runs");
    CHECK(memcmp(pa, pb, P * sizeof(float)) == 0, "same seed, different parameters");
    CHECK(memcmp(&a, &b, sizeof a) == 0, "same seed, different stats");
    CHECK(variant_run(6, pc, &P, &c) == LOCO_OK, "run");
    CHECK(memcmp(pa, pc, P * sizeof(float)) != 0, "another seed gave the same parameters");
    free(pa);
    free(pb);
    free(pc);
}

LOCO_TEST(sim_accounting) {
    corpus c;
    corpus_make(&c, 4);
    loco_split *split = split_iid(&c, 4);
    char msg[256];
    const double lat = 0.05, bw = 1e9 / 8;
    /* DiLoCo fp32: 4 rounds of 5 steps; every worker sends and receives 4P
     * bytes per round; a round takes 5 step times plus two transfers. */
    loco_sim_config sc;
    sim_config(&sc, LOCO_ALGO_DILOCO, 4, 5, 20, 2);
    loco_sim *sim = NULL;
    CHECK(split && loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    if (!sim) { loco_split_free(split); return; }
    CHECK(run_all(sim) == LOCO_OK, "run");
    const loco_sim_stats *st = loco_sim_get_stats(sim);
    double P = (double)loco_gpt_num_params(loco_sim_model(sim));
    CHECK(st->n_rounds == 4 && st->inner_step == 20, "rounds %ld, steps %ld", st->n_rounds, st->inner_step);
    CHECK(st->bytes_up == 4 * 4 * 4 * P && st->bytes_down == st->bytes_up, "fp32 bytes %g / %g, want %g",
          st->bytes_up, st->bytes_down, 64 * P);
    CHECK(loco_sim_worker_bytes(sim, 3, 0) == 4 * 4 * P, "worker 3 sent %g", loco_sim_worker_bytes(sim, 3, 0));
    double want_t = 4 * (5 * 0.25 + 2 * (lat + 4 * P / bw));
    CHECK(fabs(st->sim_seconds - want_t) < 1e-9 * want_t, "simulated %.9g s, want %.9g", st->sim_seconds, want_t);
    loco_sim_free(sim);

    /* int8 per tensor: n + 4 bytes per tensor of n values. */
    sc.codec = LOCO_CODEC_INT8_TENSOR;
    CHECK(loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    CHECK(loco_sim_message_bytes(sim, 0) == (size_t)P + 4 * LOCO_NUM_PARAM_TENSORS, "int8 message %zu, want %zu",
          loco_sim_message_bytes(sim, 0), (size_t)P + 4 * LOCO_NUM_PARAM_TENSORS);
    loco_sim_free(sim);

    /* DDP: every step, 4P each way per worker. */
    sim_config(&sc, LOCO_ALGO_DDP, 4, 1, 20, 2);
    CHECK(loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    CHECK(run_all(sim) == LOCO_OK, "run");
    st = loco_sim_get_stats(sim);
    CHECK(st->bytes_up == 20 * 4 * 4 * P && st->bytes_down == st->bytes_up, "ddp bytes %g", st->bytes_up);
    loco_sim_free(sim);

    /* Drops: every contribution drawn, the lost ones counted; with p = 1
     * nothing arrives and theta never moves. */
    sim_config(&sc, LOCO_ALGO_DILOCO, 4, 2, 8, 2);
    sc.drop_prob = 1.0f;
    CHECK(loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    float *theta0 = malloc(P * sizeof(float));
    memcpy(theta0, loco_gpt_params(loco_sim_model(sim)), P * sizeof(float));
    CHECK(run_all(sim) == LOCO_OK, "run");
    st = loco_sim_get_stats(sim);
    CHECK(st->dropped_total == 16 && st->bytes_down == 0, "dropped %ld, down %g", st->dropped_total, st->bytes_down);
    CHECK(memcmp(theta0, loco_gpt_params(loco_sim_model(sim)), P * sizeof(float)) == 0, "theta moved");
    free(theta0);
    loco_sim_free(sim);
    loco_split_free(split);
}

LOCO_TEST(sim_schedules) {
    /* M = 8 over 10 rounds. */
    static const int want[5][10] = {
        {8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
        {4, 4, 4, 4, 4, 8, 8, 8, 8, 8},
        {8, 8, 8, 8, 8, 4, 4, 4, 4, 4},
        {1, 1, 2, 3, 4, 4, 5, 6, 7, 8},
        {8, 8, 7, 6, 5, 5, 4, 3, 2, 1},
    };
    for (int s = 0; s < 5; s++)
        for (int r = 0; r < 10; r++) {
            int k = loco_schedule_active((loco_schedule)s, 8, r, 10);
            CHECK(k == want[s][r], "%s round %d: %d workers, want %d", loco_schedule_name((loco_schedule)s), r, k,
                  want[s][r]);
        }
    loco_schedule s;
    CHECK(loco_schedule_parse("ramp-up", &s) == LOCO_OK && s == LOCO_SCHED_RAMP_UP, "parse ramp-up");
    CHECK(loco_schedule_parse("sometimes", &s) == LOCO_EINVAL, "parse garbage");
    /* Adaptive compute in a run: the ramp's worker counts are what ran. */
    corpus c;
    corpus_make(&c, 5);
    loco_split *split = split_iid(&c, 4);
    loco_sim_config sc;
    sim_config(&sc, LOCO_ALGO_DILOCO, 4, 1, 4, 2);
    sc.schedule = LOCO_SCHED_RAMP_DOWN;
    loco_sim *sim = NULL;
    char msg[256];
    CHECK(split && loco_sim_create(&sim, &sc, &tiny, NULL, split, msg, sizeof msg) == LOCO_OK, "create: %s", msg);
    for (int r = 0; sim && r < 4; r++) {
        CHECK(loco_sim_round(sim, msg, sizeof msg) == LOCO_OK, "round %d: %s", r, msg);
        CHECK(loco_sim_get_stats(sim)->active == 4 - r, "round %d ran %d workers", r, loco_sim_get_stats(sim)->active);
    }
    loco_sim_free(sim);
    loco_split_free(split);
}

/* The CLI end to end on a small byte-level shard. */
#define SIM_TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
                 "--eval-batches 1 --threads 2 --lr 3e-3"

LOCO_TEST(sim_cli_one_worker_is_plain_training) {
    char d[64] = "/tmp/loco_sim_XXXXXX", cmd[2048], err[2048], path[256];
    if (!mkdtemp(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "for i in $(seq 1 200); do echo \"{\\\"text\\\": \\\"doc $i: %d $i plus $i\\\"}\"; done "
             "> %s/c.jsonl", 7, d);
    CHECK(system(cmd) == 0, "setup");
    snprintf(cmd, sizeof cmd, "data prepare --input %s/c.jsonl --bytes 1 --val-frac 0.2 --out %s/s", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "prepare: %s", err);
    const char *runs[] = {
        "",                                                                                  /* plain */
        "--algo diloco --workers 1 --inner-steps 1 --outer-lr 1 --outer-momentum 0",         /* == plain */
        "--algo ddp --workers 1",                                                            /* == plain */
        "--algo diloco --workers 1 --inner-steps 1 --outer-lr 0.7 --outer-momentum 0.9",     /* != plain */
    };
    float *p[4] = {0};
    size_t P = 0;
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "train " SIM_TINY " --steps 12 --train-shard %s/s.train.bin --val-shard "
                 "%s/s.val.bin %s --out %s/run%d", d, d, runs[i], d, i);
        CHECK(loco_test_run(cmd, err, sizeof err) == 0, "train %s: %s", runs[i], err);
        snprintf(path, sizeof path, "%s/run%d/model.safetensors", d, i);
        p[i] = loco_test_params_of(path, &P);
        CHECK(p[i] != NULL, "cannot read %s", path);
    }
    if (p[0] && p[1] && p[2] && p[3]) {
        CHECK(memcmp(p[0], p[1], P * sizeof(float)) == 0, "DiLoCo M=1 H=1 lr 1 mu 0 differs from plain training");
        CHECK(memcmp(p[0], p[2], P * sizeof(float)) == 0, "DDP M=1 differs from plain training");
        CHECK(memcmp(p[0], p[3], P * sizeof(float)) != 0, "outer Nesterov 0.7/0.9 should differ from plain");
    }
    for (int i = 0; i < 4; i++) free(p[i]);

    /* Impossible combinations: one line, exit 2, before any training. */
    static const struct { const char *flags, *want; } bad[] = {
        {"--algo diloco --workers 2 --inner-steps 0", "--inner-steps"},
        {"--algo diloco --workers 0", "--workers"},
        {"--algo ddp --workers 0", "--workers"},
        {"--algo diloco --workers 2 --drop 1.5", "--drop"},
        {"--algo diloco --workers 2 --drop -0.1", "--drop"},
        {"--algo diloco --workers 2 --prune 0", "--prune"},
        {"--algo ddp --workers 2 --compress int8", "ddp"},
        {"--algo diloco --workers 2 --compress int4", "--compress"},
        {"--algo diloco --workers 2 --error-feedback 1", "--error-feedback"},
        {"--algo diloco --workers 2 --outer-opt lion", "--outer-opt"},
        {"--algo diloco --workers 2 --outer-momentum 1", "--outer-momentum"},
        {"--algo diloco --workers 2 --schedule sometimes", "--schedule"},
        {"--algo diloco --workers 100000", "workers"},
        {"--algo diloco --workers 2 --split label", "--labels"},
        {"--algo diloco --workers 2 --split random", "--split"},
        {"--algo gossip --workers 2", "--algo"},
        {"--workers 2", "--algo"},
        {"--algo diloco --workers 2 --resume x.safetensors", "--resume"},
        {"--algo diloco --workers 2 --rule naive", "--algo async"},
        {"--algo single --workers 2", "--algo"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "train " SIM_TINY " --steps 4 --train-shard %s/s.train.bin --val-shard "
                 "%s/s.val.bin %s --out %s/bad", d, d, bad[i].flags, d);
        int rc = loco_test_run(cmd, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[i].want) && strchr(err, '\n') == strrchr(err, '\n'),
              "'%s': exit %d, '%s'", bad[i].flags, rc, err);
        snprintf(path, sizeof path, "%s/bad/metrics.jsonl", d);
        CHECK(access(path, F_OK) != 0, "'%s' started training", bad[i].flags);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}
