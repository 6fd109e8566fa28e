/* Whole-model properties: determinism, no allocation in a step, input
 * validation, and the loco command's handling of bad configuration. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alloc_count.h"
#include "loco/data.h"
#include "loco/loco.h"
#include "test.h"
#include "util.h"

/* Trains a tiny model for `steps` steps on the synthetic corpus and stores
 * each step's loss; returns 0 on success. */
static int train_losses(int threads, int steps, float *losses) {
    loco_threads_set(threads);
    loco_gpt_config cfg = {.max_seq_len = 32, .vocab_size = 256, .n_layer = 2, .n_head = 4, .channels = 64};
    enum { B = 4, T = 32 };
    loco_gpt *m;
    if (loco_gpt_create(&m, &cfg, B, T, 99, NULL, 0) != LOCO_OK) return -1;
    loco_bytes_dataset d;
    if (loco_dataset_synthetic(&d, 1 << 16, 5, 0.1) != LOCO_OK) return -1;
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, steps);
    oc.lr = 1e-3f;
    oc.warmup_steps = 5;
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    int tok[B * T], tgt[B * T];
    for (int s = 0; s < steps; s++) {
        loco_dataset_batch(&d, 0, &rng, B, T, tok, tgt);
        loco_gpt_forward(m, tok, tgt, B, T);
        losses[s] = loco_gpt_loss(m);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, &oc, s, NULL);
    }
    loco_gpt_free(m);
    loco_dataset_free(&d);
    return 0;
}

LOCO_TEST(train_deterministic) {
    float a[20], b[20], c[20];
    CHECK(train_losses(2, 20, a) == 0, "training failed");
    CHECK(train_losses(2, 20, b) == 0, "training failed");
    CHECK(memcmp(a, b, sizeof a) == 0, "two runs with the same seed and threads differ");
    CHECK(a[19] < a[0] - 0.5f, "loss did not fall: %.4f -> %.4f", a[0], a[19]);
    /* Every reduction's order is fixed by the shapes alone, and loco cuts
     * every matrix product into tiles fixed by the shapes, one single-threaded
     * BLAS call each (src/nn/gemm.c), so one thread gives the same bits as two
     * or three, whatever BLAS kernel the CPU selects. */
    CHECK(train_losses(1, 20, c) == 0, "training failed");
    CHECK(memcmp(a, c, sizeof a) == 0, "1 thread and 2 threads differ");
    CHECK(train_losses(3, 20, c) == 0, "training failed");
    CHECK(memcmp(a, c, sizeof a) == 0, "3 threads and 2 threads differ");
    loco_threads_set(2);
}

LOCO_TEST(train_step_allocates_nothing) {
    loco_gpt_config cfg = {.max_seq_len = 16, .vocab_size = 50, .n_layer = 2, .n_head = 2, .channels = 32};
    enum { B = 2, T = 16 };
    loco_gpt *m;
    CHECK(loco_gpt_create(&m, &cfg, B, T, 1, NULL, 0) == LOCO_OK, "create");
    long at_create = loco_test_allocs;
    CHECK(at_create >= 4, "the allocation counter is not wired in (%ld calls seen)", at_create);
    loco_adamw_config oc;
    loco_adamw_config_default(&oc, 10);
    int tok[B * T], tgt[B * T];
    for (int i = 0; i < B * T; i++) { tok[i] = i % 50; tgt[i] = (i * 7) % 50; }
    long before = loco_test_allocs;
    for (int s = 0; s < 3; s++) {
        loco_gpt_forward(m, tok, tgt, B, T);
        loco_gpt_zero_grad(m);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, &oc, s, NULL);
    }
    CHECK(loco_test_allocs == before, "%ld allocations inside 3 training steps", loco_test_allocs - before);
    loco_gpt_free(m);
}

LOCO_TEST(gpt_rejects_bad_input) {
    loco_gpt_config cfg = {.max_seq_len = 8, .vocab_size = 10, .n_layer = 1, .n_head = 2, .channels = 8};
    loco_gpt *m;
    CHECK(loco_gpt_create(&m, &cfg, 2, 8, 1, NULL, 0) == LOCO_OK, "create");
    int tok[16] = {0}, tgt[16] = {0};
    CHECK(loco_gpt_backward(m) == LOCO_EINVAL, "backward before forward");
    tok[5] = 10;
    CHECK(loco_gpt_forward(m, tok, tgt, 2, 8) == LOCO_EINVAL, "token == V accepted");
    tok[5] = -1;
    CHECK(loco_gpt_forward(m, tok, tgt, 2, 8) == LOCO_EINVAL, "negative token accepted");
    tok[5] = 0;
    tgt[3] = 11;
    CHECK(loco_gpt_forward(m, tok, tgt, 2, 8) == LOCO_EINVAL, "target > V accepted");
    tgt[3] = 0;
    CHECK(loco_gpt_forward(m, tok, tgt, 3, 8) == LOCO_EINVAL, "B above capacity accepted");
    CHECK(loco_gpt_forward(m, tok, tgt, 2, 9) == LOCO_EINVAL, "T above capacity accepted");
    CHECK(loco_gpt_forward(m, tok, tgt, 2, 5) == LOCO_OK, "shorter T rejected");
    CHECK(loco_gpt_forward(m, tok, NULL, 2, 8) == LOCO_OK, "forward without targets");
    CHECK(loco_gpt_backward(m) == LOCO_EINVAL, "backward after a forward without targets");
    loco_gpt_free(m);

    struct { loco_gpt_config c; const char *word; } bad[] = {
        {{8, 10, 1, 3, 8}, "divisible"},
        {{8, 10, 0, 2, 8}, "n_layer"},
        {{8, 10, 1, -2, 8}, "n_head"},
        {{8, 10, 1, 2, 0}, "channels"},
        {{8, 0, 1, 2, 8}, "vocab_size"},
        {{-1, 10, 1, 2, 8}, "max_seq_len"},
        {{LOCO_MAX_SEQ_LEN + 1, 10, 1, 2, 8}, "max_seq_len"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[200] = "";
        loco_gpt *x = NULL;
        CHECK(loco_gpt_create(&x, &bad[i].c, 1, 1, 1, msg, sizeof msg) == LOCO_ECONFIG, "case %zu accepted", i);
        CHECK(x == NULL, "case %zu returned a model", i);
        CHECK(strstr(msg, bad[i].word) != NULL, "case %zu: message '%s' does not name '%s'", i, msg, bad[i].word);
    }
    char msg[200] = "";
    CHECK(loco_gpt_create(&m, &cfg, 1, 9, 1, msg, sizeof msg) == LOCO_ECONFIG && strstr(msg, "max_seq_len"),
          "T above max_seq_len: '%s'", msg);
    CHECK(loco_gpt_create(&m, &cfg, 0, 8, 1, msg, sizeof msg) == LOCO_ECONFIG && strstr(msg, "batch"),
          "B = 0: '%s'", msg);
}

LOCO_TEST(cli_rejects_bad_configuration) {
    struct { const char *args; const char *word; } cases[] = {
        {"train --channels 30 --heads 4", "divisible"},
        {"train --layers 0", "n_layer"},
        {"train --layers -3", "n_layer"},
        {"train --heads 0", "n_head"},
        {"train --channels -8", "channels"},
        {"train --batch 0", "--batch"},
        {"train --seq-len 0", "--seq-len"},
        {"train --seq-len 70000 --max-seq-len 70000", "exceeds the maximum"},
        {"train --max-seq-len 70000", "max_seq_len 70000 exceeds"},
        {"train --seq-len 128 --max-seq-len 64", "--seq-len"},
        {"train --bogus 1", "unknown flag '--bogus'"},
        {"train --steps abc", "--steps"},
        {"train --steps 0", "--steps"},
        {"train --lr nan", "--lr"},
        {"train --lr", "needs a value"},
        {"train stray", "unexpected argument"},
        {"frobnicate", "unknown command"},
        {"train --data /nonexistent/corpus.txt", "/nonexistent/corpus.txt"},
    };
    if (access("./loco", X_OK) != 0) {
        FAIL("./loco not built (run make first, from the repo root)");
        return;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[1024];
        int st = loco_test_run(cases[i].args, err, sizeof err);
        CHECK(st > 0, "'loco %s' exited with %d (want a non-zero exit, not a crash)", cases[i].args, st);
        char *nl = strchr(err, '\n');
        CHECK(nl && nl[1] == 0, "'loco %s' stderr is not exactly one line: '%s'", cases[i].args, err);
        CHECK(strstr(err, cases[i].word) != NULL, "'loco %s': '%s' does not mention '%s'", cases[i].args,
              err, cases[i].word);
    }
    char out[64];
    CHECK(loco_test_run("train --help", out, sizeof out) == 0, "--help must exit 0");
}
