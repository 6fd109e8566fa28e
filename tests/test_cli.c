/* The loco command end to end: resuming is exact, and bad files give one
 * line naming the file and a non-zero exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "test.h"
#include "util.h"

#define TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
             "--eval-batches 1 --threads 2"

/* Makes a fresh scratch directory; returns 0 on success. */
static int scratch(char *dir) {
    strcpy(dir, "/tmp/loco_cli_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

LOCO_TEST(cli_resume_is_exact) {
    char d[64], cmd[1024], err[2048], a[128], b[128];
    if (scratch(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "train " TINY " --seed 7 --steps 20 --out %s/a", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "straight run failed: %s", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --seed 7 --steps 20 --stop-after 10 --out %s/b", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "first half failed: %s", err);
    snprintf(a, sizeof a, "%s/a/model.safetensors", d);
    snprintf(b, sizeof b, "%s/b/model.safetensors", d);
    CHECK(!loco_test_same_file(a, b), "a checkpoint at step 10 equals one at step 20");
    snprintf(cmd, sizeof cmd, "train " TINY " --resume %s --out %s/b", b, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resumed run failed: %s", err);
    /* Parameters, AdamW moments, step, data-order RNG: every byte equal. */
    CHECK(loco_test_same_file(a, b), "20 steps straight differ from 10 + resume + 10");

    /* A crash after the last checkpoint: the run logged steps past it (here,
     * to step 15), then resumes from the step-10 checkpoint; the log must
     * not keep the lost steps. */
    snprintf(cmd, sizeof cmd, "train " TINY " --seed 7 --steps 20 --stop-after 10 --out %s/c", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "%s", err);
    snprintf(cmd, sizeof cmd, "cp %s/c/model.safetensors %s/c10.safetensors", d, d);
    CHECK(system(cmd) == 0, "copy the step-10 checkpoint");
    snprintf(cmd, sizeof cmd, "train " TINY " --resume %s/c/model.safetensors --stop-after 15 --log-every 5 --out %s/c",
             d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "to step 15: %s", err);
    snprintf(cmd, sizeof cmd, "grep -c '\"step\":15,' %s/c/metrics.jsonl > /dev/null", d);
    CHECK(system(cmd) == 0, "the log has no step 15 before the simulated crash");
    snprintf(cmd, sizeof cmd, "train " TINY " --resume %s/c10.safetensors --out %s/c", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resume after the crash: %s", err);
    snprintf(cmd, sizeof cmd, "grep -q '\"step\":15,' %s/c/metrics.jsonl", d);
    CHECK(system(cmd) != 0, "steps lost in the crash are still in the log");
    snprintf(cmd, sizeof cmd, "%s/c/model.safetensors", d);
    CHECK(loco_test_same_file(a, cmd), "resuming after the crash is not exact either");
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

LOCO_TEST(cli_bad_files_one_line_errors) {
    char d[64], cmd[1024], err[2048];
    if (scratch(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "printf 'not a checkpoint at all' > %s/bad.safetensors && "
             "head -c 5000 /dev/urandom > %s/garbage.bin && : > %s/empty.txt && "
             "printf '{\"text\": \"hello\"}\\n{broken\\n' > %s/broken.jsonl && "
             "printf 'not json' > %s/tok.json", d, d, d, d, d);
    CHECK(system(cmd) == 0, "setup");
    struct { const char *fmt; const char *word; } cases[] = {
        {"eval --checkpoint %s/bad.safetensors --data %s/empty.txt", "bad.safetensors"},
        {"eval --checkpoint %s/missing.safetensors --data %s/empty.txt", "missing.safetensors"},
        {"sample --checkpoint %s/garbage.bin%s", "garbage.bin"},
        {"train --train-shard %s/garbage.bin --val-shard %s/garbage.bin", "garbage.bin"},
        {"train --resume %s/bad.safetensors%s", "bad.safetensors"},
        {"tokenizer train --input %s/empty.txt --vocab-size 300 --out %s/t.json", "empty"},
        {"tokenizer encode --tokenizer %s/tok.json --input %s/empty.txt", "tok.json"},
        {"data prepare --input %s/broken.jsonl --bytes 1 --out %s/x", "broken.jsonl"},
        {"data prepare --input %s/empty.txt --bytes 1 --out /nonexistent-dir/x%s", "/nonexistent-dir/x"},
        {"plot %s/garbage.bin --out %s/p.svg", "garbage.bin"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[1024];
        snprintf(args, sizeof args, cases[i].fmt, d, strstr(cases[i].fmt, "%s%s") ? "" : d);
        int st = loco_test_run(args, err, sizeof err);
        CHECK(st > 0, "'loco %s' exited with %d (want non-zero, not a crash)", args, st);
        char *nl = strchr(err, '\n');
        CHECK(nl && nl[1] == 0, "'loco %s': stderr is not one line: '%s'", args, err);
        CHECK(strstr(err, cases[i].word) != NULL, "'loco %s': '%s' does not name '%s'", args, err, cases[i].word);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* Bytes in, shards, training, checkpoint, eval, sample, plot: the pipeline a
 * user runs, on a small generated corpus. */
LOCO_TEST(cli_pipeline_bytes) {
    char d[64], cmd[2048], err[2048];
    if (scratch(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "for i in $(seq 1 300); do echo \"document $i: the quick brown fox $i\"; done > %s/c.txt && "
             "for i in $(seq 1 300); do echo \"{\\\"text\\\": \\\"line $i of many lines $i\\\"}\"; done > %s/c.jsonl", d, d);
    CHECK(system(cmd) == 0, "setup");
    snprintf(cmd, sizeof cmd, "tokenizer train --input %s/c.txt,%s/c.jsonl --vocab-size 320 --out %s/tok.json", d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "tokenizer train: %s", err);
    snprintf(cmd, sizeof cmd, "data prepare --input %s/c.jsonl --tokenizer %s/tok.json --val-frac 0.2 --out %s/s", d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "data prepare: %s", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --steps 8 --stop-after 5 --train-shard %s/s.train.bin "
             "--val-shard %s/s.val.bin --tokenizer %s/tok.json --out %s/run", d, d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "train: %s", err);
    snprintf(cmd, sizeof cmd, "eval --checkpoint %s/run/model.safetensors --val-shard %s/s.val.bin", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "eval: %s", err);
    snprintf(cmd, sizeof cmd, "sample --checkpoint %s/run/model.safetensors --prompt line --tokens 5", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "sample: %s", err);
    /* A prompt of many bytes and few tokens: its bytes were once appended
     * after its tokens, overrunning the id buffer. */
    snprintf(cmd, sizeof cmd, "sample --checkpoint %s/run/model.safetensors --prompt 'line line line line line "
             "line line line line line' --tokens 20", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "sample with a long prompt: %s", err);
    snprintf(cmd, sizeof cmd, "plot %s/run/metrics.jsonl --out %s/p.svg", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "plot: %s", err);
    snprintf(cmd, sizeof cmd, "%s/run/loss.svg", d);
    CHECK(access(cmd, R_OK) == 0, "train wrote no loss.svg");
    /* A byte-level shard cannot continue a model with the BPE vocabulary. */
    snprintf(cmd, sizeof cmd, "data prepare --input %s/c.jsonl --bytes 1 --val-frac 0.2 --out %s/b", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "bytes prepare: %s", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --train-shard %s/b.train.bin --val-shard %s/b.val.bin "
             "--resume %s/run/model.safetensors", d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 1 && strstr(err, "vocabulary"), "vocabulary mismatch: '%s'", err);
    /* A different schedule, or a run already finished, is refused. */
    snprintf(cmd, sizeof cmd, "train " TINY " --steps 9 --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "--resume %s/run/model.safetensors", d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "--steps 9 differs"), "other schedule: '%s'", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "--resume %s/run/model.safetensors --out %s/run", d, d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resume: %s", err);
    snprintf(cmd, sizeof cmd, "train " TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin "
             "--resume %s/run/model.safetensors", d, d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "already at step 8"), "finished run: '%s'", err);
    /* The resumed run kept the tokenizer: sampling needs no --tokenizer. */
    snprintf(cmd, sizeof cmd, "sample --checkpoint %s/run/model.safetensors --prompt line --tokens 3", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "sample after resume: %s", err);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* Each fuzz target (shard reader, corpus reader, checkpoint reader, tokenizer
 * loaders, config parser) built with ASan + UBSan and run for a few seconds. */
LOCO_TEST(fuzz_targets_short_run) {
    int st = system("sh tests/fuzz_smoke.sh 4");
    CHECK(st == 0, "a fuzz target failed or could not be built (status %d)", st);
}

/* What scripts/fetch_c4.sh downloads, made locally: gzip-compressed JSON
 * Lines named like the Hub's shards, with C4's fields (text, timestamp, url),
 * read by `loco data prepare` as they are. */
LOCO_TEST(cli_reads_c4_download_layout) {
    char d[64], cmd[1024], err[2048];
    if (scratch(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd,
             "for i in $(seq 1 40); do printf '{\"text\":\"Document %%d says \\\\u00e9t\\\\u00e9 and \\\\\"quotes\\\\\".\\\\nLine two.\","
             "\"timestamp\":\"2019-04-25T12:57:54Z\",\"url\":\"https://example.com/%%d\"}\\n' $i $i; done "
             "| gzip > %s/c4-train.00000-of-01024.json.gz", d);
    CHECK(system(cmd) == 0, "setup");
    snprintf(cmd, sizeof cmd, "data prepare --input %s/c4-train.00000-of-01024.json.gz --bytes 1 --val-frac 0.25 "
             "--out %s/c4", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "data prepare: %s", err);
    /* 30 + 10 documents; each decodes to its text, whose bytes are counted
     * here from the JSON escapes: "Document N says " + UTF-8 "été" (5 bytes)
     * + " and \"quotes\".\nLine two." */
    snprintf(cmd, sizeof cmd, "%s/c4.train.bin", d);
    FILE *f = fopen(cmd, "rb");
    CHECK(f != NULL, "no train shard");
    if (f) {
        unsigned char h[64];
        CHECK(fread(h, 1, 64, f) == 64, "short shard");
        unsigned long long ntok, ndocs;
        memcpy(&ntok, h + 24, 8);
        memcpy(&ndocs, h + 32, 8);
        CHECK(ndocs == 30, "train shard has %llu documents, want 30", ndocs);
        unsigned long long want = 0;
        for (int i = 1; i <= 30; i++) want += strlen("Document  says ") + (i < 10 ? 1 : 2) + 5 + strlen(" and \"quotes\".\nLine two.");
        CHECK(ntok == want, "train shard has %llu tokens, want %llu", ntok, want);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* --config: "name = value" lines, '#' comments, the command line wins, and a
 * bad line is reported as file:line. */
LOCO_TEST(cli_config_file) {
    char d[64], cmd[1024], err[2048];
    if (scratch(d)) { FAIL("mkdtemp"); return; }
    snprintf(cmd, sizeof cmd, "printf '# a tiny run\\nlayers = 2\\nchannels=32   # comment\\nheads 2\\nseq-len = 16\\n"
             "batch = 4\\nsteps = 3\\neval-batches = 1\\n' > %s/ok.conf && printf 'layers = 2\\nbogus = 1\\n' > %s/bad.conf && "
             "printf 'channels = 30\\nheads = 4\\n' > %s/shape.conf", d, d, d);
    CHECK(system(cmd) == 0, "setup");
    snprintf(cmd, sizeof cmd, "./loco train --config %s/ok.conf --out %s/new/nested/r > %s/log 2>&1 && "
             "grep -q 'L=2 C=32 NH=2' %s/log && grep -q 'B=4 T=16 steps=0..3 of 3' %s/log && "
             "test -f %s/new/nested/r/model.safetensors", d, d, d, d, d, d);
    CHECK(system(cmd) == 0, "the config file's values were not used, or --out's parents were not created");
    snprintf(cmd, sizeof cmd, "./loco train --config %s/ok.conf --steps 2 > %s/log 2>&1 && grep -q 'steps=0..2 of 2' %s/log",
             d, d, d);
    CHECK(system(cmd) == 0, "a command-line flag did not override the config file");
    snprintf(cmd, sizeof cmd, "train --config %s/bad.conf", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "bad.conf:2: unknown key 'bogus'"), "bad key: '%s'", err);
    snprintf(cmd, sizeof cmd, "train --config %s/shape.conf", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "divisible"), "bad shape: '%s'", err);
    snprintf(cmd, sizeof cmd, "train --config %s/missing.conf", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "missing.conf"), "missing file: '%s'", err);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}
