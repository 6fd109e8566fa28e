/* The loco command against a hostile or careless user: FIFOs, devices and
 * directories where files belong, outputs that must not replace a special
 * file, configuration files with a byte order mark, out-of-range ports.
 * Every case must end within seconds with one line on stderr and a non-zero
 * exit; each runs under timeout(1), so a hang fails instead of blocking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "proc.h"
#include "util.h"

#define TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --eval-every 0 --log-every 1000 " \
             "--eval-batches 1 --threads 2"

/* loco_test_run under timeout(1): a command that hangs exits 124. */
static int run_t(const char *args, char *err, size_t n) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "-k 2 20 %s %s", loco_test_bin(), args);
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
        "data prepare --input %s/c.txt --bytes 1 --val-frac 0.2 --out %s/fifo/../fifo",
    };
    snprintf(a, sizeof a, "train " TINY " --steps 2 --out %s/run", d);
    CHECK(run_t(a, a + 512, 512) == 0, "setup run");
    snprintf(a, sizeof a, "route fit --train-shard %s/s.train.bin --method random --paths 2 --out %s/r.json", d, d);
    CHECK(run_t(a, a + 512, 512) == 0, "setup router");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strstr(cases[i], "data prepare")) continue;   /* below, on its shard names */
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
