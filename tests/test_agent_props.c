/*
 * Properties of the whole agent (tests/agent_fixture.c's tiny model):
 * nothing allocated inside a training step; bitwise determinism for a seed,
 * on one thread and two; checkpoints that resume bit for bit and refuse
 * damaged files; the LSTM state carried across calls; bad batches refused
 * with a reason; and a fixed batch learned (the loss goes to ~0).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/agent.h"
#include "test.h"
#include "alloc_count.h"
#include "agent_fixture.h"

static loco_agent *make(int *loco_test_failed_, const loco_agent_config *c, int B, int T, uint64_t seed) {
    loco_agent *m = NULL;
    char msg[256];
    int err = loco_agent_create(&m, c, B, T, seed, msg, sizeof msg);
    CHECK(err == LOCO_OK, "create: %s", msg);
    return m;
}

static int step(loco_agent *m, const loco_agent_batch *b, const loco_adamw_config *oc, int s) {
    char msg[256];
    if (loco_agent_forward(m, b, msg, sizeof msg)) return -1;
    loco_agent_zero_grad(m);
    if (loco_agent_backward(m)) return -1;
    return loco_agent_adamw_step(m, oc, s, NULL);
}

static void opt(loco_adamw_config *oc) {
    loco_adamw_config_default(oc, 100);
    oc->lr = 3e-3f;
    oc->warmup_steps = 2;
}

LOCO_TEST(agent_step_allocates_nothing) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    long before_create = loco_test_allocs;
    loco_agent *m = make(loco_test_failed_, &c, 2, 3, 1);
    if (!m) return;
    CHECK(loco_test_allocs > before_create, "the allocation counter is not wired in");
    agent_fixture f;
    agent_fixture_batch(&f, &c, 2, 3, 5);
    loco_adamw_config oc;
    opt(&oc);
    CHECK(step(m, &f.b, &oc, 0) == 0, "warm-up step failed");   /* OpenMP's and BLAS's own first-use setup */
    long before = loco_test_allocs;
    for (int s = 1; s <= 3; s++) CHECK(step(m, &f.b, &oc, s) == 0, "step %d failed", s);
    CHECK(loco_test_allocs == before, "%ld allocations inside 3 training steps", loco_test_allocs - before);
    agent_fixture_free(&f);
    loco_agent_free(m);
}

/* Trains `steps` steps on two alternating batches from seed 3 and returns the parameters. */
static float *train(int *loco_test_failed_, int threads, int steps, size_t *n) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    int prev = loco_threads_set(threads);
    loco_agent *m = make(loco_test_failed_, &c, 2, 4, 3);
    agent_fixture f[2];
    agent_fixture_batch(&f[0], &c, 2, 4, 10);
    agent_fixture_batch(&f[1], &c, 2, 4, 11);
    loco_adamw_config oc;
    opt(&oc);
    for (int s = 0; m && s < steps; s++) CHECK(step(m, &f[s % 2].b, &oc, s) == 0, "step %d", s);
    float *p = NULL;
    if (m) {
        *n = loco_agent_num_params(m);
        p = malloc(*n * sizeof(float));
        memcpy(p, loco_agent_params(m), *n * sizeof(float));
    }
    agent_fixture_free(&f[0]);
    agent_fixture_free(&f[1]);
    loco_agent_free(m);
    loco_threads_set(prev);
    return p;
}

LOCO_TEST(agent_deterministic) {
    size_t n1 = 0, n2 = 0, n3 = 0;
    float *a = train(loco_test_failed_, 1, 4, &n1);
    float *b = train(loco_test_failed_, 1, 4, &n2);
    float *c = train(loco_test_failed_, 2, 4, &n3);
    CHECK(a && b && c && n1 == n2 && n1 == n3, "runs failed");
    if (a && b && c) {
        CHECK(memcmp(a, b, n1 * sizeof(float)) == 0, "two runs with the same seed differ");
        CHECK(memcmp(a, c, n1 * sizeof(float)) == 0, "one thread and two threads differ");
    }
    free(a); free(b); free(c);
}

LOCO_TEST(agent_checkpoint_resumes_exactly) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    agent_fixture f[2];
    agent_fixture_batch(&f[0], &c, 2, 4, 20);
    agent_fixture_batch(&f[1], &c, 2, 4, 21);
    loco_adamw_config oc;
    opt(&oc);
    loco_agent *a = make(loco_test_failed_, &c, 2, 4, 8), *b = make(loco_test_failed_, &c, 2, 4, 8), *r = NULL;
    if (!a || !b) return;
    for (int s = 0; s < 4; s++) step(a, &f[s % 2].b, &oc, s);
    for (int s = 0; s < 2; s++) step(b, &f[s % 2].b, &oc, s);
    char dir[] = "/tmp/loco_agent_ckpt_XXXXXX", path[128], msg[512];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/a.safetensors", dir);
    loco_agent_ckpt_meta meta = {.step = 2, .rng_state = {1, 2, 3, 0xffffffffffffffffULL}, .opt = oc, .seed = 8};
    CHECK(loco_agent_save(path, b, &meta, 1, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    loco_agent_ckpt_meta got;
    CHECK(loco_agent_load(path, &r, 2, 4, &got, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (r) {
        CHECK(got.step == 2 && got.rng_state[3] == meta.rng_state[3] && got.seed == 8 && got.has_optimizer == 1 &&
              got.opt.lr == oc.lr && got.opt.beta2 == oc.beta2 && got.opt.warmup_steps == oc.warmup_steps &&
              got.opt.min_lr == oc.min_lr, "metadata did not round-trip");
        CHECK(memcmp(loco_agent_get_config(r), &c, sizeof c) == 0, "configuration did not round-trip");
        for (int s = 2; s < 4; s++) step(r, &f[s % 2].b, &oc, s);
        CHECK(memcmp(loco_agent_params(r), loco_agent_params(a), loco_agent_num_params(a) * sizeof(float)) == 0,
              "2 steps + save + load + 2 steps differ from 4 steps");
        loco_agent_free(r);
        r = NULL;
    }
    /* damaged files */
    struct stat st;
    stat(path, &st);
    FILE *fp = fopen(path, "rb");
    char *buf = malloc(st.st_size);
    CHECK(fp && fread(buf, 1, st.st_size, fp) == (size_t)st.st_size, "read back");
    if (fp) fclose(fp);
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    struct { const char *what; long len; long flip; int err; } cases[] = {
        {"truncated", st.st_size - 4, -1, LOCO_EINVAL},
        {"empty", 0, -1, LOCO_EINVAL},
        {"header length byte", st.st_size, 3, LOCO_EINVAL},
        {"header text", st.st_size, 20, LOCO_EINVAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *w = fopen(bad, "wb");
        fwrite(buf, 1, cases[i].len, w);
        fclose(w);
        if (cases[i].flip >= 0) {
            w = fopen(bad, "r+b");
            fseek(w, cases[i].flip, SEEK_SET);
            fputc(buf[cases[i].flip] ^ 0x5a, w);
            fclose(w);
        }
        msg[0] = 0;
        int e = loco_agent_load(bad, &r, 2, 4, NULL, msg, sizeof msg);
        CHECK(e == cases[i].err && r == NULL && strstr(msg, bad), "%s file: error %d (%s)", cases[i].what, e, msg);
        loco_agent_free(r);
        r = NULL;
    }
    /* a NaN parameter: the last 4 bytes of the file are adam.v's last value */
    {
        FILE *w = fopen(bad, "wb");
        fwrite(buf, 1, st.st_size, w);
        fclose(w);
        w = fopen(bad, "r+b");
        float nan = NAN;
        fseek(w, st.st_size - 4, SEEK_SET);
        fwrite(&nan, 4, 1, w);
        fclose(w);
        int e = loco_agent_load(bad, &r, 2, 4, NULL, msg, sizeof msg);
        CHECK(e == LOCO_ENONFINITE && !r, "NaN in the file: error %d (%s)", e, msg);
    }
    CHECK(loco_agent_load(dir, &r, 2, 4, NULL, msg, sizeof msg) == LOCO_EIO && !r, "a directory: %s", msg);
    CHECK(loco_agent_load("/dev/null", &r, 2, 4, NULL, msg, sizeof msg) == LOCO_EIO && !r, "a device: %s", msg);
    /* without optimizer state: parameters only, the moments start at zero */
    CHECK(loco_agent_save(path, b, &meta, 0, msg, sizeof msg) == LOCO_OK, "save: %s", msg);
    CHECK(loco_agent_load(path, &r, 1, 1, &got, msg, sizeof msg) == LOCO_OK, "load: %s", msg);
    if (r) {
        CHECK(!got.has_optimizer, "has_optimizer set without optimizer state");
        CHECK(memcmp(loco_agent_params(r), loco_agent_params(b), loco_agent_num_params(b) * sizeof(float)) == 0,
              "parameters differ after a round trip");
    }
    loco_agent_free(r);
    unlink(bad);
    unlink(path);
    rmdir(dir);
    free(buf);
    loco_agent_free(a);
    loco_agent_free(b);
    agent_fixture_free(&f[0]);
    agent_fixture_free(&f[1]);
}

/* T steps at once equal T/2 steps twice with the state carried (one
 * sequence, so that the batch splits by pointer offsets). */
LOCO_TEST(agent_state_carries) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    const int T = 6;
    loco_agent *m = make(loco_test_failed_, &c, 1, T, 4);
    if (!m) return;
    agent_fixture f;
    agent_fixture_batch(&f, &c, 1, T, 30);
    f.first[3] = 0;   /* the state must cross the split */
    char msg[256];
    float whole[6][LOCO_ACT_NUM_TYPES], parts[6][LOCO_ACT_NUM_TYPES];
    loco_agent_reset_state(m);
    CHECK(loco_agent_forward(m, &f.b, msg, sizeof msg) == 0, "%s", msg);
    for (int t = 0; t < T; t++) {
        loco_agent_logits lg;
        loco_agent_get_logits(m, 0, t, &lg);
        memcpy(whole[t], lg.type, sizeof whole[t]);
    }
    const loco_agent_config *cc = &c;
    int NS = loco_agent_num_strings(cc), h = T / 2;
    loco_agent_reset_state(m);
    for (int k = 0; k < 2; k++) {
        int o = k * h;
        loco_agent_batch b = {1, h, f.frames + (size_t)o * c.frame_h * c.frame_w * 3,
                              f.words + (size_t)o * NS * c.max_words, f.nwords + (size_t)o * NS,
                              f.geom + (size_t)o * c.max_dom * c.geom_dim, f.n_dom + o, f.n_fields + o,
                              f.first + o, f.prev + o, NULL, NULL};
        CHECK(loco_agent_forward(m, &b, msg, sizeof msg) == 0, "%s", msg);
        loco_agent_carry_state(m);
        for (int t = 0; t < h; t++) {
            loco_agent_logits lg;
            loco_agent_get_logits(m, 0, t, &lg);
            memcpy(parts[o + t], lg.type, sizeof parts[o + t]);
        }
    }
    double err = 0;
    for (int t = 0; t < T; t++)
        for (int j = 0; j < LOCO_ACT_NUM_TYPES; j++) err = fmax(err, fabs(whole[t][j] - parts[t][j]));
    /* the same arithmetic in products of other shapes: float round-off only */
    CHECK(err < 1e-5, "logits differ by %.3e between one call and two", err);
    agent_fixture_free(&f);
    loco_agent_free(m);
}

LOCO_TEST(agent_rejects_bad_batches) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    loco_agent *m = make(loco_test_failed_, &c, 2, 3, 1);
    if (!m) return;
    char msg[256];
    for (int k = 0; k < 7; k++) {
        agent_fixture f;
        agent_fixture_batch(&f, &c, 2, 3, 40);
        const char *what = "";
        switch (k) {
        case 0: f.words[0] = c.vocab_words + c.hash_buckets; f.nwords[0] = c.max_words; what = "word id"; break;
        case 1: f.nwords[0] = 0; what = "empty instruction"; break;
        case 2: f.n_dom[1] = c.max_dom + 1; what = "n_dom"; break;
        case 3: f.n_fields[2] = -1; what = "n_fields"; break;
        case 4: f.target[0] = (loco_agent_action){LOCO_ACT_CLICK, c.x_bins, 0, -1, -1}; what = "target x"; break;
        case 5: f.target[0] = (loco_agent_action){LOCO_ACT_TYPE_FIELD, -1, -1, -1, f.n_fields[0]}; what = "field"; break;
        case 6: f.b.B = 3; what = "capacity"; break;
        }
        msg[0] = 0;
        CHECK(loco_agent_forward(m, &f.b, msg, sizeof msg) == LOCO_EINVAL && msg[0], "bad %s accepted", what);
        agent_fixture_free(&f);
    }
    CHECK(loco_agent_backward(m) == LOCO_EINVAL, "backward without a forward accepted");
    loco_agent_config bad = c;
    bad.d_model = 15;   /* not a multiple of the heads */
    loco_agent *x = NULL;
    CHECK(loco_agent_create(&x, &bad, 1, 1, 0, msg, sizeof msg) == LOCO_ECONFIG && !x && msg[0], "bad config accepted");
    loco_agent_free(m);
}

/* Behavioural cloning can fit: a fixed batch's loss falls to near zero. */
LOCO_TEST(agent_learns_a_batch) {
    loco_agent_config c;
    agent_fixture_config(&c, LOCO_OBS_BOTH);
    loco_agent *m = make(loco_test_failed_, &c, 2, 4, 2);
    if (!m) return;
    agent_fixture f;
    agent_fixture_batch(&f, &c, 2, 4, 50);
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 60);
    oc.lr = 1e-2f;
    oc.weight_decay = 0;
    char msg[256];
    loco_agent_forward(m, &f.b, msg, sizeof msg);
    float first = loco_agent_loss(m);
    for (int s = 0; s < 60; s++) step(m, &f.b, &oc, s);
    loco_agent_forward(m, &f.b, msg, sizeof msg);
    float last = loco_agent_loss(m);
    if (getenv("LOCO_TEST_VERBOSE")) fprintf(stderr, "    loss %.4f -> %.4f\n", first, last);
    CHECK(last < 0.05f * first, "loss %.4f -> %.4f after 60 steps", first, last);
    agent_fixture_free(&f);
    loco_agent_free(m);
}
