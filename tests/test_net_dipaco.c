/*
 * DiPaCo over the wire, end to end, as separate processes on loopback:
 * `loco coordinator --algo dipaco` and `loco worker`s write the module files
 * of `loco train --algo dipaco --reset-inner 1` byte for byte, with two
 * workers for four paths, and still do when workers are killed with
 * SIGKILL again and again during the run (no task lost, none applied
 * twice); bad usage gets one line and exit status 2.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "loco/net.h"
#include "test.h"
#include "proc.h"
#include "util.h"

#define DP_TINY "--layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --log-every 1000 --threads 1 " \
                "--lr 3e-3 --algo dipaco --modules 1x2,1x2 --reset-inner 1"
#define DP_SECRET "dipaco-test-secret-0123456789abcdef"
static const char *dp_modules[] = {"base", "level0_module0", "level0_module1", "level1_module0", "level1_module1",
                                   "dipaco"};

/* The number after "key": in the last line of DIR/net/metrics.jsonl, or NAN. */
static double dp_last_metric(const char *d, const char *key) {
    static char buf[1 << 18];
    char path[256], pat[64];
    snprintf(path, sizeof path, "%s/net/metrics.jsonl", d);
    long n = loco_test_slurp(path, buf, sizeof buf);
    if (n <= 0) return NAN;
    while (n > 0 && buf[n - 1] == '\n') buf[--n] = 0;
    const char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *q = strstr(line, pat);
    return q ? strtod(q + strlen(pat), NULL) : NAN;
}

/* Runs the simulator into DIR/sim; returns its exit status. */
static int dp_simulate(const char *d, const char *flags) {
    char cmd[2048], err[2048];
    snprintf(cmd, sizeof cmd, "train " DP_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s --out %s/sim",
             d, d, flags, d);
    int rc = loco_test_run(cmd, err, sizeof err);
    if (rc) fprintf(stderr, "  simulator: %s", err);
    return rc;
}

/* Starts the DiPaCo coordinator on listen (its default security: the MAC
 * on ipc://, CURVE on tcp://), writing DIR/net and its endpoint to
 * DIR/c.ep. */
static pid_t dp_coordinator_on(const char *d, const char *flags, const char *listen) {
    char cmd[2048], log[256], sec[512];
    snprintf(cmd, sizeof cmd, "coordinator " DP_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--listen '%s' %s --endpoint-file %s/c.ep --out %s/net --verbose 1", d, d, flags, listen,
             loco_test_net_security(sec, sizeof sec, d, listen, 1), d, d);
    snprintf(log, sizeof log, "%s/coord.log", d);
    return loco_test_start(cmd, log);
}

/* Starts the DiPaCo coordinator on ipc://DIR/c.sock, writing DIR/net. */
static pid_t dp_coordinator(const char *d, const char *flags) {
    char listen[128];
    snprintf(listen, sizeof listen, "ipc://%s/c.sock", d);
    return dp_coordinator_on(d, flags, listen);
}

/* Starts worker number i of the coordinator at ep (its log DIR/wI.log). */
static pid_t dp_worker_at(const char *d, const char *ep, int i, const char *extra) {
    char cmd[2048], log[256], sec[512];
    snprintf(cmd, sizeof cmd, "worker --connect %s %s --train-shard %s/s.train.bin --threads 1 --timeout 30 "
             "--give-up-after 120 --verbose 1 %s", ep, loco_test_net_security(sec, sizeof sec, d, ep, 0), d, extra);
    snprintf(log, sizeof log, "%s/w%d.log", d, i);
    return loco_test_start(cmd, log);
}

/* Starts worker number i of the coordinator on ipc://DIR/c.sock. */
static pid_t dp_worker(const char *d, int i, const char *extra) {
    char ep[128];
    snprintf(ep, sizeof ep, "ipc://%s/c.sock", d);
    return dp_worker_at(d, ep, i, extra);
}

/* 1 if every module file and dipaco.json of DIR/net are DIR/sim's, byte
 * for byte; names the first that differs. */
static int dp_same_modules(const char *d) {
    for (size_t i = 0; i < sizeof dp_modules / sizeof dp_modules[0]; i++) {
        char a[256], b[256];
        const char *ext = strcmp(dp_modules[i], "dipaco") ? "safetensors" : "json";
        snprintf(a, sizeof a, "%s/sim/%s.%s", d, dp_modules[i], ext);
        snprintf(b, sizeof b, "%s/net/%s.%s", d, dp_modules[i], ext);
        if (!loco_test_same_file(a, b)) {
            fprintf(stderr, "  %s differs from %s\n", b, a);
            return 0;
        }
    }
    return 1;
}

static void dp_show(const char *d, const char *name) {
    static char buf[1 << 14];
    char path[256];
    snprintf(path, sizeof path, "%s/%s", d, name);
    if (loco_test_slurp(path, buf, sizeof buf) > 0) fprintf(stderr, "  --- %s:\n%s\n", name, buf);
}

LOCO_TEST(net_dipaco_matches_simulator) {
    /* Two workers, four paths: each round's tasks go to whichever worker
     * asks first, and the modules are still the simulator's, over ipc://
     * and over tcp:// with CURVE. */
    char d[64];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--steps 12 --inner-steps 3";
    CHECK(dp_simulate(d, flags) == 0, "simulator failed");
    /* Both workers join before round 1: on a loaded machine the first
     * could otherwise finish all 16 tiny tasks before the second joins,
     * which would then look for a coordinator that has gone. */
    /* Over ipc:// (the MAC), then over tcp:// (CURVE, the default there). */
    for (int t = 0; t < 2; t++) {
        char listen[128], ep[256], path[256];
        snprintf(listen, sizeof listen, t ? "tcp://127.0.0.1:*" : "ipc://%s/c.sock", d);
        snprintf(path, sizeof path, "%s/c.ep", d);
        unlink(path);
        pid_t c = dp_coordinator_on(d, "--steps 12 --inner-steps 3 --workers 2 --min-workers 2", listen);
        CHECK(loco_test_endpoint_of(path, ep, sizeof ep) == 0, "no endpoint from the coordinator");
        pid_t w0 = dp_worker_at(d, ep, 0, ""), w1 = dp_worker_at(d, ep, 1, "");
        int rc = loco_test_finish(c, 180);
        CHECK(rc == 0, "coordinator exited with %d (%s)", rc, listen);
        CHECK(loco_test_finish(w0, 30) == 0 && loco_test_finish(w1, 30) == 0, "a worker did not end cleanly on BYE");
        CHECK(dp_same_modules(d), "the modules differ from the simulator's (%s)", listen);
        CHECK(dp_last_metric(d, "tasks_done") == 16, "tasks_done %g, want 4 rounds x 4 paths",
              dp_last_metric(d, "tasks_done"));
        CHECK(dp_last_metric(d, "duplicates") == 0 && dp_last_metric(d, "requeued") == 0, "a fault-free run requeued");
        CHECK(dp_last_metric(d, "bytes_in") > 16 * 4 * 30000.0, "bytes_in %g: less than 16 paths' parameters",
              dp_last_metric(d, "bytes_in"));
        if (*loco_test_failed_) dp_show(d, "coord.log");
    }
    loco_test_rmdir(d);
}

LOCO_TEST(net_dipaco_kill9_workers) {
    /* Workers are killed with SIGKILL every 0.6 s (24 times at most) and
     * replaced at once, 2
     * alive at a time; the coordinator takes back the dead ones' leases
     * (worker timeout 1.5 s) and gives them to the others.  The run must
     * end with the simulator's modules byte for byte, and must have
     * requeued at least one lease, or the test proved nothing. */
    char d[64];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--steps 60 --inner-steps 3";
    CHECK(dp_simulate(d, flags) == 0, "simulator failed");
    pid_t c = dp_coordinator(d, "--steps 60 --inner-steps 3 --heartbeat 0.2 --worker-timeout 1.5 --workers 2 "
                                "--ckpt-every 5");
    pid_t w[2];
    int started = 0, kills = 0;
    for (int i = 0; i < 2; i++) w[i] = dp_worker(d, started++, "--slowdown 0.04");
    unsigned seed = 12345;
    int rc = -2;
    const double t_end = 240;   /* seconds: generous, the machine is shared */
    for (int tick = 0; tick < t_end * 20 && (rc = loco_test_ended(c)) == -2; tick++) {
        usleep(50000);
        /* Every 0.6 s after the first second, while the run lasts. */
        if (tick < 20 || tick % 12 || kills >= 24) continue;
        seed = seed * 1103515245u + 12345u;
        int v = (int)((seed >> 16) % 2);
        kill(w[v], SIGKILL);
        waitpid(w[v], NULL, 0);
        kills++;
        w[v] = dp_worker(d, started++, "--slowdown 0.04");
    }
    if (rc == -2) rc = loco_test_finish(c, 1);
    CHECK(rc == 0, "coordinator exited with %d after %d kills", rc, kills);
    for (int i = 0; i < 2; i++) {
        /* A replacement started just before the end may never have joined. */
        kill(w[i], SIGKILL);
        waitpid(w[i], NULL, 0);
    }
    CHECK(kills >= 3, "only %d workers were killed: the run was too short to test anything", kills);
    CHECK(dp_same_modules(d), "the modules differ from the simulator's after %d kills", kills);
    double requeued = dp_last_metric(d, "requeued"), done = dp_last_metric(d, "tasks_done");
    CHECK(requeued >= 1, "no lease was requeued in %d kills", kills);
    CHECK(done == 80, "tasks_done %g, want 20 rounds x 4 paths", done);
    fprintf(stderr, "  %d kills, %g leases requeued, %g duplicates, %g late accepted\n", kills, requeued,
            dp_last_metric(d, "duplicates"), dp_last_metric(d, "late_accepted"));
    if (*loco_test_failed_) dp_show(d, "coord.log");
    loco_test_rmdir(d);
}

/* Runs "$LOCO_BIN ARGS"; 1 if it exits 2 with exactly one line on stderr. */
static int dp_refuses(const char *args) {
    char err[4096];
    int rc = loco_test_run(args, err, sizeof err);
    const char *nl = strchr(err, '\n');
    int one_line = nl && nl[1] == 0;
    if (rc != 2 || !one_line) fprintf(stderr, "  %s: exit %d, stderr:\n%s", args, rc, err);
    return rc == 2 && one_line;
}

LOCO_TEST(net_dipaco_bad_usage) {
    char d[64], a[2048];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *base = "coordinator --layers 2 --channels 32 --heads 2 --seq-len 16 --batch 4 --algo dipaco";
    snprintf(a, sizeof a, "%s --modules 1x2,1x2 --listen ipc://%s/c.sock --secret-file %s/secret "
             "--train-shard %s/s.train.bin --val-shard %s/s.val.bin", base, d, d, d, d);
    CHECK(dp_refuses(a), "no --reset-inner 1");
    snprintf(a, sizeof a, "%s --modules 1x2,1xq --reset-inner 1 --listen ipc://%s/c.sock --secret-file %s/secret",
             base, d, d);
    CHECK(dp_refuses(a), "malformed --modules");
    snprintf(a, sizeof a, "%s --modules 1x2,2x2 --reset-inner 1 --listen ipc://%s/c.sock --secret-file %s/secret "
             "--train-shard %s/s.train.bin --val-shard %s/s.val.bin", base, d, d, d, d);
    CHECK(dp_refuses(a), "--modules whose blocks do not sum to --layers");
    snprintf(a, sizeof a, "%s --reset-inner 1 --listen ipc://%s/c.sock --secret-file %s/secret", base, d, d);
    CHECK(dp_refuses(a), "no --modules");
    snprintf(a, sizeof a, "%s --modules 1x2,1x2 --reset-inner 1 --compress int8 --listen ipc://%s/c.sock "
             "--secret-file %s/secret", base, d, d);
    CHECK(dp_refuses(a), "--compress with dipaco");
    loco_test_rmdir(d);
}

LOCO_TEST(net_dipaco_launch_local_kill9) {
    /* `loco train --launch local --algo dipaco`: the launcher restarts the
     * workers the test kills with SIGKILL (up to 4 of its 3 M = 6), and the
     * run ends with the simulator's modules byte for byte. */
    char d[64], cmd[2048], log[256];
    static char text[1 << 16];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--channels 64 --seq-len 32 --batch 8 --steps 150 --inner-steps 3";
    CHECK(dp_simulate(d, flags) == 0, "simulator failed");
    snprintf(cmd, sizeof cmd, "train " DP_TINY " --train-shard %s/s.train.bin --val-shard %s/s.val.bin %s "
             "--launch local --workers 2 --heartbeat 0.2 --worker-timeout 1.5 --out %s/net", d, d, flags, d);
    snprintf(log, sizeof log, "%s/launch.log", d);
    pid_t l = loco_test_start(cmd, log);
    int kills = 0, rc = -2;
    for (int tick = 0; tick < 240 * 20 && (rc = loco_test_ended(l)) == -2; tick++) {
        usleep(50000);
        if (tick < 10 || tick % 10 || kills >= 4) continue;
        pid_t v = loco_test_child(l, "loco worker ");
        if (v > 0 && kill(v, SIGKILL) == 0) kills++;
    }
    if (rc == -2) rc = loco_test_finish(l, 1);
    CHECK(rc == 0, "the launched run exited with %d", rc);
    CHECK(kills >= 1, "no worker was killed: the run was too short");
    CHECK(dp_same_modules(d), "the modules differ from the simulator's after %d kills", kills);
    loco_test_slurp(log, text, sizeof text);
    CHECK(strstr(text, "killed by signal 9"), "the launcher saw no killed worker");
    if (*loco_test_failed_) fprintf(stderr, "%s\n", text);
    loco_test_rmdir(d);
}

LOCO_TEST(net_dipaco_coordinator_restart) {
    /* The coordinator saves its state every 4 rounds, is killed with
     * SIGKILL during the run and started again with the same command line:
     * it resumes from the last state, the workers join it again by
     * themselves, and the modules are the simulator's byte for byte. */
    char d[64];
    static char text[1 << 14];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--steps 60 --inner-steps 3";
    CHECK(dp_simulate(d, flags) == 0, "simulator failed");
    const char *cflags = "--steps 60 --inner-steps 3 --heartbeat 0.2 --workers 2 --min-workers 2 --ckpt-every 4";
    pid_t c = dp_coordinator(d, cflags);
    pid_t w0 = dp_worker(d, 0, "--slowdown 0.03 --timeout 3"), w1 = dp_worker(d, 1, "--slowdown 0.03 --timeout 3");
    char state[256];
    snprintf(state, sizeof state, "%s/net/dipaco_coord.state", d);
    /* Until the first state is written (round 4), then a little more. */
    for (int i = 0; i < 2400 && access(state, F_OK) != 0 && loco_test_ended(c) == -2; i++) usleep(50000);
    usleep(300000);
    CHECK(loco_test_ended(c) == -2, "the run ended before it could be interrupted");
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
    c = dp_coordinator(d, cflags);
    int rc = loco_test_finish(c, 240);
    CHECK(rc == 0, "the restarted coordinator exited with %d", rc);
    CHECK(loco_test_finish(w0, 30) == 0 && loco_test_finish(w1, 30) == 0, "a worker did not end cleanly on BYE");
    CHECK(dp_same_modules(d), "the modules differ from the simulator's");
    char path[256];
    snprintf(path, sizeof path, "%s/coord.log", d);
    loco_test_slurp(path, text, sizeof text);
    CHECK(strstr(text, "resuming at round"), "the coordinator did not resume:\n%s", text);
    loco_test_rmdir(d);
}

LOCO_TEST(net_dipaco_payloads) {
    /* DPASK, DPTASK and DPPUSH read back what was written, and refuse
     * every truncation, a zero lease and a loss that is not finite. */
    uint8_t buf[256];
    float params[5] = {1, -2, 3.5f, 0, 1e-3f}, losses[2] = {2.5f, 2.25f};
    uint64_t done = 0;
    CHECK(loco_net_encode_dpask(7, buf, sizeof buf) == LOCO_NET_DPASK_BYTES &&
          loco_net_decode_dpask(buf, LOCO_NET_DPASK_BYTES, &done) == LOCO_OK && done == 7, "dpask");
    CHECK(loco_net_decode_dpask(buf, 7, &done) == LOCO_EINVAL, "a short dpask accepted");
    loco_net_dptask t = {9, 3, 2, 4, 12, 60000, 5, NULL}, t2;
    size_t n = loco_net_encode_dptask_head(&t, buf, sizeof buf);
    memcpy(buf + n, params, sizeof params);   /* little-endian hosts only; the test runs on one */
    n += sizeof params;
    CHECK(n == loco_net_dptask_bytes(5) && loco_net_decode_dptask(buf, n, &t2) == LOCO_OK && t2.lease == 9 &&
          t2.round == 3 && t2.path == 2 && t2.inner_steps == 4 && t2.first_step == 12 && t2.n_params == 5 &&
          !memcmp(t2.params, params, sizeof params), "dptask");
    int accepted = 0;
    for (size_t k = 0; k < n; k++) accepted += loco_net_decode_dptask(buf, k, &t2) == LOCO_OK;
    CHECK(accepted == 0, "%d truncated dptasks accepted", accepted);
    buf[0] = 0;   /* lease 0 */
    CHECK(loco_net_decode_dptask(buf, n, &t2) == LOCO_EINVAL, "lease 0 accepted");
    loco_net_dppush p = {9, 3, 2, 2, 5, (const uint8_t *)losses, NULL}, p2;
    n = loco_net_encode_dppush_head(&p, buf, sizeof buf);
    memcpy(buf + n, params, sizeof params);
    n += sizeof params;
    CHECK(n == loco_net_dppush_bytes(2, 5) && loco_net_decode_dppush(buf, n, &p2) == LOCO_OK && p2.lease == 9 &&
          p2.n_losses == 2 && p2.n_params == 5 && !memcmp(p2.params, params, sizeof params), "dppush");
    accepted = 0;
    for (size_t k = 0; k < n; k++) accepted += loco_net_decode_dppush(buf, k, &p2) == LOCO_OK;
    CHECK(accepted == 0, "%d truncated dppushes accepted", accepted);
    float nan = NAN;
    memcpy(buf + LOCO_NET_DPPUSH_FIXED, &nan, 4);
    CHECK(loco_net_decode_dppush(buf, n, &p2) == LOCO_EINVAL, "a NaN loss accepted");
}

LOCO_TEST(net_dipaco_short_leases_duplicates) {
    /* Leases of 0.1 s for tasks of at least 0.15 s: every lease expires,
     * its task is leased again, and both workers push it.  The first push
     * of each task is applied and the rest are counted and dropped, so
     * the modules are still the simulator's byte for byte. */
    char d[64];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    const char *flags = "--steps 30 --inner-steps 3";
    CHECK(dp_simulate(d, flags) == 0, "simulator failed");
    pid_t c = dp_coordinator(d, "--steps 30 --inner-steps 3 --heartbeat 0.2 --lease-timeout 0.1 --workers 2 "
                                "--min-workers 2");
    pid_t w0 = dp_worker(d, 0, "--slowdown 0.05"), w1 = dp_worker(d, 1, "--slowdown 0.05");
    int rc = loco_test_finish(c, 240);
    CHECK(rc == 0, "coordinator exited with %d", rc);
    CHECK(loco_test_finish(w0, 30) == 0 && loco_test_finish(w1, 30) == 0, "a worker did not end cleanly on BYE");
    CHECK(dp_same_modules(d), "the modules differ from the simulator's");
    double dup = dp_last_metric(d, "duplicates"), late = dp_last_metric(d, "late_accepted");
    CHECK(dp_last_metric(d, "tasks_done") == 40, "tasks_done %g, want 10 rounds x 4 paths",
          dp_last_metric(d, "tasks_done"));
    CHECK(dp_last_metric(d, "expired") >= 1 && late >= 1 && dup >= 1,
          "expected expired leases, late pushes accepted and duplicates dropped (late %g, duplicates %g)", late,
          dup);
    if (*loco_test_failed_) dp_show(d, "coord.log");
    loco_test_rmdir(d);
}

LOCO_TEST(net_dipaco_worker_joins_once) {
    /* A DiPaCo worker joins once and serves in the session it joined (it
     * used to join as a DiLoCo worker, leave and join again): one join,
     * no departure, and the simulator's modules. */
    char d[64];
    static char text[1 << 14];
    if (loco_test_net_scratch(d, "/tmp/loco_dpnet_XXXXXX", DP_SECRET)) { FAIL("setup"); return; }
    CHECK(dp_simulate(d, "--steps 6 --inner-steps 3") == 0, "simulator failed");
    pid_t c = dp_coordinator(d, "--steps 6 --inner-steps 3 --workers 1 --min-workers 1");
    pid_t w = dp_worker(d, 0, "");
    CHECK(loco_test_finish(c, 120) == 0, "coordinator failed");
    CHECK(loco_test_finish(w, 30) == 0, "the worker did not end cleanly on BYE");
    CHECK(dp_same_modules(d), "the modules differ from the simulator's");
    CHECK(dp_last_metric(d, "joins") == 1, "%g joins for one worker", dp_last_metric(d, "joins"));
    char path[256];
    snprintf(path, sizeof path, "%s/coord.log", d);
    loco_test_slurp(path, text, sizeof text);
    int joined = 0;
    for (const char *q = strstr(text, " joined"); q; q = strstr(q + 1, " joined")) joined++;
    CHECK(joined == 1 && !strstr(text, " left"), "the coordinator saw %d joins%s:\n%s", joined,
          strstr(text, " left") ? " and a departure" : "", text);
    loco_test_rmdir(d);
}
