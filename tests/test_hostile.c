/* The loco command against a hostile or careless user: FIFOs, devices and
 * directories where files belong, outputs that must not replace a special
 * file, configuration files with a byte order mark, out-of-range ports.
 * Every case must end within seconds with one line on stderr and a non-zero
 * exit; each runs under timeout(1), so a hang fails instead of blocking. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "proc.h"
#include "util.h"

#define TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
             "--eval-batches 1 --threads 2"

/* loco_test_run under timeout(1): a command that hangs exits 124 (after a
 * minute, which a loaded machine's tiny runs stay far below). */
static int run_t(const char *args, char *err, size_t n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "-k 2 60 %s %s", loco_test_bin(), args);
    char full[4200];
    snprintf(full, sizeof full, "timeout %s 2>&1 >/dev/null", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -2;
    size_t k = fread(err, 1, n - 1, p);
    err[k] = 0;
    while (fgetc(p) != EOF) {}
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Checks that `loco args` exits with want (or any failure for want < 0)
 * and says one line holding word. */
#define EXPECT_ONE_LINE(args, want, word)                                                             \
    do {                                                                                              \
        char e_[4096];                                                                                \
        int st_ = run_t(args, e_, sizeof e_);                                                         \
        CHECK((want) < 0 ? st_ > 0 && st_ != 124 : st_ == (want), "'loco %s' exited with %d (want %d): %s", \
              args, st_, want, e_);                                                                   \
        const char *nl_ = strchr(e_, '\n');                                                           \
        CHECK(nl_ && nl_[1] == 0, "'loco %s': stderr is not one line: '%s'", args, e_);               \
        CHECK(strstr(e_, word) != NULL, "'loco %s': '%s' does not say '%s'", args, e_, word);         \
    } while (0)

/* A scratch directory with a small text corpus, a byte-level shard pair
 * s.{train,val}.bin, a 300-token tokenizer tok.json, a FIFO and a secret. */
static int setup(char *d) {
    strcpy(d, "/tmp/loco_hostile_XXXXXX");
    if (!mkdtemp(d)) return -1;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "for i in $(seq 1 200); do echo \"line $i of a small corpus, number $i\"; "
             "done > %s/c.txt && mkfifo %s/fifo && printf 'a secret of enough bytes here' > %s/secret && "
             "%s data prepare --input %s/c.txt --bytes 1 --val-frac 0.2 --out %s/s > /dev/null && "
             "%s tokenizer train --input %s/c.txt --vocab-size 300 --out %s/tok.json > /dev/null",
             d, d, d, loco_test_bin(), d, d, loco_test_bin(), d, d);
    return system(cmd) == 0 ? 0 : -1;
}

static int is_fifo(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* --out naming a FIFO or a device: refused, and the special file is still
 * there (an atomic rename would have replaced it with a regular file). */
LOCO_TEST(hostile_out_keeps_special_files) {
    char d[64], a[1024], p[256];
    if (setup(d)) { FAIL("setup"); return; }
    snprintf(p, sizeof p, "%s/fifo", d);
    const char *cases[] = {
        "tokenizer train --input %s/c.txt --vocab-size 280 --out %s/fifo",
        "plot %s/run/metrics.jsonl --out %s/fifo",
        "route fit --train-shard %s/s.train.bin --method random --paths 2 --out %s/fifo",
        "route assign --router %s/r.json --train-shard %s/s.train.bin --out %s/fifo",
    };
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/run", d);
    CHECK(run_t(a, a + 512, 512) == 0, "setup run");
    snprintf(a, sizeof a, "route fit --train-shard %s/s.train.bin --method random --paths 2 --out %s/r.json", d, d);
    CHECK(run_t(a, a + 512, 512) == 0, "setup router");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(a, sizeof a, cases[i], d, d, d);
        EXPECT_ONE_LINE(a, 1, "not a regular file");
        CHECK(is_fifo(p), "'loco %s' replaced the FIFO", a);
    }
    /* Files a command writes inside a directory: the checkpoint, the shards. */
    char q[256];
    snprintf(q, sizeof q, "%s/o", d);
    mkdir(q, 0777);
    snprintf(q, sizeof q, "%s/o/model.safetensors", d);
    CHECK(mkfifo(q, 0666) == 0, "mkfifo");
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/o", d);
    EXPECT_ONE_LINE(a, 1, "not a regular file");
    CHECK(is_fifo(q), "train replaced a FIFO at model.safetensors");
    snprintf(q, sizeof q, "%s/x.train.bin", d);
    CHECK(mkfifo(q, 0666) == 0, "mkfifo");
    snprintf(a, sizeof a, "data prepare --input %s/c.txt --bytes 1 --val-frac 0.2 --out %s/x", d, d);
    EXPECT_ONE_LINE(a, 1, "not a regular file");
    CHECK(is_fifo(q), "data prepare replaced a FIFO at its shard");
    /* A device node (root can make one; /dev/null's numbers): kept. */
    snprintf(q, sizeof q, "%s/null", d);
    if (mknod(q, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        snprintf(a, sizeof a, "tokenizer train --input %s/c.txt --vocab-size 280 --out %s", d, q);
        EXPECT_ONE_LINE(a, 1, "character device");
        struct stat st;
        CHECK(lstat(q, &st) == 0 && S_ISCHR(st.st_mode), "the device node was replaced");
    }
    loco_test_rmdir(d);
}

/* A FIFO, a directory and a device at every kind of input path: one line
 * and exit 1 or 2, at once (a blocking open on the FIFO used to hang). */
LOCO_TEST(hostile_inputs_fifo_dir_device) {
    char d[64], a[1024];
    if (setup(d)) { FAIL("setup"); return; }
    const char *cases[] = {
        "train " TINY " --steps 2 --data %s",
        "train " TINY " --steps 2 --train-shard %s --val-shard %s",
        "train " TINY " --resume %s",
        "train --config %s",
        "eval --checkpoint %s --val-shard %s",
        "sample --checkpoint %s --tokens 2",
        "tokenizer encode --tokenizer %s",
        "tokenizer train --input %s --vocab-size 280 --out %s.json",
        "data prepare --input %s --bytes 1 --out %s.x",
        "plot %s --out %s.svg",
        "route fit --train-shard %s --method random --paths 2 --out %s.json",
        "worker --connect ipc:///nonexistent/x.sock --secret-file %s",
        "coordinator --listen ipc:///nonexistent/x.sock --secret-file %s",
    };
    char dir[64];
    snprintf(dir, sizeof dir, "%s/adir", d);
    mkdir(dir, 0777);
    char fifo[80];
    snprintf(fifo, sizeof fifo, "%s/fifo", d);
    const char *targets[] = {fifo, dir, "/dev/zero"};
    for (size_t t = 0; t < 3; t++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const char *x = targets[t];
            /* Outputs beside an input that is /dev/zero go to the scratch directory. */
            char o[128];
            snprintf(o, sizeof o, "%s/out%zu", d, i);
            snprintf(a, sizeof a, cases[i], x, strstr(cases[i], "%s.") ? o : x);
            EXPECT_ONE_LINE(a, -1, "not a regular file");
        }
    /* Standard input stays an input where a command reads it. */
    snprintf(a, sizeof a, "echo hi | %s tokenizer encode --tokenizer %s/tok.json > /dev/null", loco_test_bin(), d);
    CHECK(system(a) == 0, "tokenizer encode from standard input failed");
    /* A FIFO where a run appends its log. */
    snprintf(a, sizeof a, "%s/o", d);
    mkdir(a, 0777);
    snprintf(a, sizeof a, "%s/o/metrics.jsonl", d);
    CHECK(mkfifo(a, 0666) == 0, "mkfifo");
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/o", d);
    EXPECT_ONE_LINE(a, 1, "not a regular file");
    loco_test_rmdir(d);
}

/* --config: a directory is refused with exit 2 (it was read as an empty
 * file, starting the default 3000-step run); a UTF-8 byte order mark is not
 * part of the first key. */
LOCO_TEST(hostile_config_dir_and_bom) {
    char d[64], a[1024], e[2048];
    if (setup(d)) { FAIL("setup"); return; }
    snprintf(a, sizeof a, "train --config %s", d);
    EXPECT_ONE_LINE(a, 2, "not a regular file");
    snprintf(a, sizeof a, "printf '\\357\\273\\277layers = 2\\nchannels = 32\\nheads = 2\\nseq-len = 16\\nbatch = 4\\n"
             "steps = 2\\neval-batches = 1\\n' > %s/bom.conf", d);
    CHECK(system(a) == 0, "setup");
    snprintf(a, sizeof a, "train --config %s/bom.conf --out %s/r", d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "a config file with a byte order mark: %s", e);
    loco_test_rmdir(d);
}

/* train --tokenizer is loaded and checked against the data before the run:
 * a missing file, a directory, a tokenizer of another vocabulary. */
LOCO_TEST(hostile_train_tokenizer_checked) {
    char d[64], a[1024], e[2048];
    if (setup(d)) { FAIL("setup"); return; }
    const char *shards = "--train-shard %s/s.train.bin --val-shard %s/s.val.bin";
    char base[512];
    snprintf(base, sizeof base, shards, d, d);
    snprintf(a, sizeof a, "train " TINY " --steps 2 %s --tokenizer %s/missing.json --out %s/r", base, d, d);
    EXPECT_ONE_LINE(a, 1, "missing.json");
    snprintf(a, sizeof a, "train " TINY " --steps 2 %s --tokenizer %s --out %s/r", base, d, d);
    EXPECT_ONE_LINE(a, 1, "not a regular file");
    /* 300 tokens against byte-level shards of 256. */
    snprintf(a, sizeof a, "train " TINY " --steps 2 %s --tokenizer %s/tok.json --out %s/r", base, d, d);
    EXPECT_ONE_LINE(a, 2, "300 tokens");
    snprintf(a, sizeof a, "%s/r/model.safetensors", d);
    CHECK(access(a, F_OK) != 0, "a refused run wrote a checkpoint");
    /* The tokenizer that made the shards is accepted. */
    snprintf(a, sizeof a, "data prepare --input %s/c.txt --tokenizer %s/tok.json --val-frac 0.2 --out %s/t", d, d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "data prepare: %s", e);
    snprintf(a, sizeof a, "train " TINY " --steps 2 --train-shard %s/t.train.bin --val-shard %s/t.val.bin "
             "--tokenizer %s/tok.json --out %s/r", d, d, d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "the shards' own tokenizer: %s", e);
    loco_test_rmdir(d);
}

/* Ports outside 1..65535 are refused (ZeroMQ took 99999 as 34463). */
LOCO_TEST(hostile_ports_in_range) {
    char d[64], a[1024];
    if (setup(d)) { FAIL("setup"); return; }
    const char *bad[] = {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:70000", "tcp://127.0.0.1:0", "tcp://127.0.0.1:",
                         "tcp://127.0.0.1:80x", "udp://127.0.0.1:5555"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(a, sizeof a, "coordinator --listen %s --secret-file %s/secret --workers 1", bad[i], d);
        EXPECT_ONE_LINE(a, 2, bad[i]);
        snprintf(a, sizeof a, "worker --connect %s --secret-file %s/secret", bad[i], d);
        EXPECT_ONE_LINE(a, 2, bad[i]);
    }
    loco_test_rmdir(d);
}

/* Messages that used to mislead now name the cause. */
LOCO_TEST(hostile_messages_name_the_cause) {
    char d[64], a[6000], e[2048];
    if (setup(d)) { FAIL("setup"); return; }
    /* The task times overflowed: "no task in flight". */
    snprintf(a, sizeof a, "train " TINY " --algo async --workers 2 --inner-steps 2 --steps 4 --jitter 1000");
    EXPECT_ONE_LINE(a, 2, "--jitter");
    /* The outer learning rate: it said to lower --lr. */
    snprintf(a, sizeof a, "train " TINY " --algo diloco --workers 2 --inner-steps 2 --steps 8 --outer-lr 1e9");
    EXPECT_ONE_LINE(a, 1, "--outer-lr");
    /* An empty --out: ": cannot create directory". */
    EXPECT_ONE_LINE("train --steps 1 --out ''", 1, "--out is empty");
    /* A 4084-byte --out wrote its log as metrics.js. */
    char longdir[4200];
    int n = snprintf(longdir, sizeof longdir, "%s/", d);
    memset(longdir + n, 'x', 4084 - (size_t)n);
    longdir[4084] = 0;
    snprintf(a, sizeof a, "train --steps 1 --out %s", longdir);
    EXPECT_ONE_LINE(a, 1, "path too long");
    /* A long path keeps the reason after it. */
    snprintf(a, sizeof a, "sample --tokens 1 --checkpoint %s/model.safetensors", longdir + 3000);
    EXPECT_ONE_LINE(a, 1, "cannot open: File name too long");
    /* Train and validation shards of different vocabularies: both named. */
    snprintf(a, sizeof a, "data prepare --input %s/c.txt --tokenizer %s/tok.json --val-frac 0.2 --out %s/t", d, d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "data prepare: %s", e);
    snprintf(a, sizeof a, "train " TINY " --steps 2 --train-shard %s/t.train.bin --val-shard %s/s.val.bin", d, d);
    EXPECT_ONE_LINE(a, 1, "different tokenizers");
    /* A wrong secret: the coordinator stays silent, and the worker says
     * what that silence can mean. */
    snprintf(a, sizeof a, "printf 'another secret, also long enough' > %s/other", d);
    CHECK(system(a) == 0, "setup");
    snprintf(a, sizeof a, "coordinator " TINY " --steps 2 --algo diloco --workers 1 --listen ipc://%s/c.sock "
             "--secret-file %s/secret --endpoint-file %s/c.ep", d, d, d);
    snprintf(e, sizeof e, "%s/c.log", d);
    pid_t c = loco_test_start(a, e);
    snprintf(a, sizeof a, "%s/c.ep", d);
    for (int i = 0; i < 100 && access(a, F_OK) != 0; i++) usleep(50000);
    snprintf(a, sizeof a, "worker --connect ipc://%s/c.sock --secret-file %s/other --join-timeout 2", d, d);
    EXPECT_ONE_LINE(a, -1, "--secret-file");
    kill(c, SIGTERM);
    loco_test_finish(c, 10);
    loco_test_rmdir(d);
}

/* Flips one byte of a shard's token data (after its 64-byte header). */
static int corrupt(const char *path) {
    FILE *f = fopen(path, "r+b");
    if (!f) return -1;
    int ok = fseek(f, 100, SEEK_SET) == 0;
    int c = ok ? fgetc(f) : EOF;
    ok = c != EOF && fseek(f, 100, SEEK_SET) == 0 && fputc(c ^ 1, f) != EOF;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The smaller defects: --init overriding explicit shape flags, stale
 * temporary checkpoints, shard checksums skipped, dipaco.json's path count,
 * NaN in a plot, a slow usage error from --launch local, a fresh run over
 * an earlier one's directory. */
LOCO_TEST(hostile_smaller_defects) {
    char d[64], a[2048], e[2048];
    if (setup(d)) { FAIL("setup"); return; }
    /* --init gives the shape; a differing --layers is refused. */
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/i", d);
    CHECK(run_t(a, e, sizeof e) == 0, "%s", e);
    snprintf(a, sizeof a, "train --heads 2 --seq-len 16 --batch 4 --threads 2 --steps 2 --algo diloco --workers 2 "
             "--inner-steps 1 --init %s/i/model.safetensors --layers 4", d);
    EXPECT_ONE_LINE(a, 2, "--layers 4 differs");
    /* A run killed mid-save left model.safetensors.tmp.PID: the next save
     * removes it (a dead pid), and keeps a live writer's. */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[256], live[256];
    snprintf(stale, sizeof stale, "%s/i/model.safetensors.tmp.%d", d, (int)dead);
    snprintf(live, sizeof live, "%s/i/model.safetensors.tmp.%d", d, (int)getpid());
    FILE *f = fopen(stale, "w");
    if (f) fclose(f);
    f = fopen(live, "w");
    if (f) fclose(f);
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/i", d);
    CHECK(run_t(a, e, sizeof e) == 0, "%s", e);
    CHECK(strstr(e, "holds an earlier run"), "a fresh run over an earlier one said nothing: '%s'", e);
    CHECK(access(stale, F_OK) != 0, "the stale temporary checkpoint is still there");
    CHECK(access(live, F_OK) == 0, "a live writer's temporary file was removed");
    unlink(live);
    /* eval --per-doc and route fit verify the shard's checksum. */
    snprintf(a, sizeof a, "%s/s.train.bin", d);
    CHECK(corrupt(a) == 0, "corrupt");
    snprintf(a, sizeof a, "route fit --train-shard %s/s.train.bin --method random --paths 2 --out %s/r.json", d, d);
    EXPECT_ONE_LINE(a, 1, "checksum");
    snprintf(a, sizeof a, "%s/s.val.bin", d);
    CHECK(corrupt(a) == 0, "corrupt");
    snprintf(a, sizeof a, "eval --per-doc 1 --checkpoint %s/i/model.safetensors --val-shard %s/s.val.bin", d, d);
    EXPECT_ONE_LINE(a, 1, "checksum");
    /* A loss of 1.7e308 is not drawn (the axis overflowed into NaN). */
    snprintf(a, sizeof a, "printf '{\"kind\":\"train\",\"step\":1,\"loss\":1.7e308}\\n{\"kind\":\"train\",\"step\":2,"
             "\"loss\":2.5}\\n{\"kind\":\"train\",\"step\":3,\"loss\":2.4}\\n' > %s/m.jsonl", d);
    CHECK(system(a) == 0, "setup");
    snprintf(a, sizeof a, "plot %s/m.jsonl --out %s/m.svg", d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "plot: %s", e);
    snprintf(a, sizeof a, "grep -qi nan %s/m.svg", d);
    CHECK(system(a) != 0, "NaN in the SVG");
    /* dipaco.json's path count must match its levels. */
    snprintf(a, sizeof a, "for i in $(seq 1 40); do echo \"{\\\"text\\\": \\\"document $i: a cat and a dog $i\\\"}\"; "
             "done > %s/docs.jsonl", d);
    CHECK(system(a) == 0, "setup");
    snprintf(a, sizeof a, "data prepare --input %s/docs.jsonl --bytes 1 --val-frac 0.2 --out %s/g", d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "%s", e);
    snprintf(a, sizeof a, "train --train-shard %s/g.train.bin --val-shard %s/g.val.bin --layers 2 --channels 16 "
             "--heads 2 --seq-len 16 --batch 2 --steps 2 --inner-steps 1 --eval-every 0 --threads 2 --algo dipaco "
             "--modules 1x2,1x2 --out %s/dp", d, d, d);
    CHECK(run_t(a, e, sizeof e) == 0, "dipaco: %s", e);
    snprintf(a, sizeof a, "sed -i 's/\"paths\":[[:space:]]*4/\"paths\":\t9/' %s/dp/dipaco.json && grep -q '\"paths\":"
             "\t9' %s/dp/dipaco.json", d, d);
    CHECK(system(a) == 0, "edit dipaco.json");
    snprintf(a, sizeof a, "eval --dipaco %s/dp --val-shard %s/g.val.bin", d, d);
    EXPECT_ONE_LINE(a, 1, "paths is 9");
    /* --launch local reports the coordinator's usage error at once (it
     * waited 10 s for workers that had nothing to leave). */
    double t0 = (double)time(NULL);
    snprintf(a, sizeof a, "train --launch local --algo dipaco --workers 2 --modules 1x2 --steps 4 --data %s/c.txt", d);
    EXPECT_ONE_LINE(a, 2, "--reset-inner");
    CHECK((double)time(NULL) - t0 < 8, "the usage error took %.0f s", (double)time(NULL) - t0);
    loco_test_rmdir(d);
}
