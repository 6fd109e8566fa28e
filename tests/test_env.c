/*
 * The web-task environment: every task's seeded instances, its demonstrator
 * (100% over many seeds), its wrong answers (never above 0), bit-for-bit
 * replay from (task, seed, actions), invalid actions, auto-reset, threads,
 * no allocation inside a step, and the demonstration file format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "alloc_count.h"
#include "loco/env.h"
#include "test.h"
#include "util.h"

#define ORACLE_SEEDS 100
#define MAX_EP_STEPS 200

/* N envs with their own buffers. */
typedef struct {
    loco_env *env;
    loco_env_obs *obs;
    uint8_t *pixels;
    loco_env_action *act;
    float *rew;
    uint8_t *term, *trunc, *succ;
    int32_t *err;
    loco_env_buffers b;
} rig;

static int rig_open(rig *r, int n, int task, const int *tasks, int pixels, int threads, int reward) {
    memset(r, 0, sizeof *r);
    r->obs = calloc((size_t)n, sizeof *r->obs);
    r->pixels = pixels ? calloc((size_t)n, LOCO_ENV_H * LOCO_ENV_W * 3) : NULL;
    r->act = calloc((size_t)n, sizeof *r->act);
    r->rew = calloc((size_t)n, sizeof *r->rew);
    r->term = calloc((size_t)n, 1); r->trunc = calloc((size_t)n, 1); r->succ = calloc((size_t)n, 1);
    r->err = calloc((size_t)n, sizeof *r->err);
    r->b = (loco_env_buffers){r->obs, r->pixels, r->act, r->rew, r->term, r->trunc, r->succ, r->err};
    loco_env_config c = {.num_envs = n, .task = task, .task_ids = tasks, .seed = 7, .threads = threads,
                         .pixels = pixels, .reward = reward};
    char msg[256];
    return loco_env_create(&r->env, &c, &r->b, msg, sizeof msg);
}

static void rig_close(rig *r) {
    loco_env_free(r->env);
    free(r->obs); free(r->pixels); free(r->act); free(r->rew); free(r->term); free(r->trunc); free(r->succ); free(r->err);
}

static uint64_t frame_digest(const uint8_t *px) {
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < (size_t)LOCO_ENV_H * LOCO_ENV_W * 3; k++) { h ^= px[k]; h *= 1099511628211ull; }
    return h;
}

static int have_fonts(void) {
    return access("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", R_OK) == 0;
}

LOCO_TEST(env_tasks_and_keys_are_named) {
    CHECK(loco_env_task_count() >= 20, "only %d tasks", loco_env_task_count());
    for (int t = 0; t < loco_env_task_count(); t++)
        CHECK(loco_env_task_find(loco_env_task_name(t)) == t, "task %d", t);
    CHECK(loco_env_task_find("no-such-task") == -1, "unknown task found");
    CHECK(!strcmp(loco_env_key_name(0), "<Enter>") && !strcmp(loco_env_key_name(74), "C-a") &&
          !strcmp(loco_env_key_name(103), "Z") && loco_env_key_name(104) == NULL, "key list order");
    CHECK(loco_env_key_find("C-v") == 77 && loco_env_key_find("<NumpadEnter>") == 47, "key lookup");
    /* MiniWoB++'s compute_raw_coords: x = (bx + 0.5) * 160/51 */
    CHECK(loco_env_bin_x(0) > 1.56f && loco_env_bin_x(0) < 1.57f && loco_env_x_bin(loco_env_bin_x(50)) == 50 &&
          loco_env_y_bin(loco_env_bin_y(17)) == 17, "bins");
}

/* The same seed gives the same page (across envs and thread counts); seeds
 * give different pages. */
LOCO_TEST(env_seeded_instances) {
    for (int t = 0; t < loco_env_task_count(); t++) {
        rig a, b;
        CHECK(!rig_open(&a, 4, t, NULL, 0, 1, 0) && !rig_open(&b, 4, t, NULL, 0, 2, 0), "create %d", t);
        uint64_t seeds[4] = {11, 12, 13, 11};
        loco_env_reset(a.env, seeds);
        uint64_t rev[4] = {11, 13, 12, 11};
        loco_env_reset(b.env, rev);
        uint64_t d0 = loco_env_obs_digest(&a.obs[0]);
        CHECK(d0 == loco_env_obs_digest(&a.obs[3]) && d0 == loco_env_obs_digest(&b.obs[0]) &&
              loco_env_obs_digest(&a.obs[1]) == loco_env_obs_digest(&b.obs[2]),
              "%s: the same seed gave different pages", loco_env_task_name(t));
        int distinct = 0;
        uint64_t seen[12];
        for (int s = 0; s < 12; s++) {
            loco_env_reset_one(a.env, 0, 100 + (uint64_t)s);
            seen[s] = loco_env_obs_digest(&a.obs[0]);
            int dup = 0;
            for (int q = 0; q < s; q++) dup |= seen[q] == seen[s];
            distinct += !dup;
        }
        CHECK(distinct >= 2, "%s: 12 seeds gave %d distinct pages", loco_env_task_name(t), distinct);
        CHECK(a.obs[0].n_elems > 1 && a.obs[0].utterance[0], "%s: empty page", loco_env_task_name(t));
        rig_close(&a); rig_close(&b);
    }
}

/* Runs the demonstrator on env 0 of r from the current observation until the
 * episode ends; records actions and digests if asked.  Returns steps. */
static int run_demo(rig *r, loco_env_demo *d, loco_env_action *acts, uint64_t *digs, int *ended) {
    *ended = 0;
    for (int s = 0; s < MAX_EP_STEPS; s++) {
        loco_env_demo_act(d, 0, &r->obs[0], &r->act[0]);
        if (acts) acts[s] = r->act[0];
        loco_env_step(r->env);
        if (digs) digs[s] = loco_env_obs_digest(&r->obs[0]) ^ (r->pixels ? frame_digest(r->pixels) : 0);
        if (r->term[0] || r->trunc[0]) { *ended = 1; return s + 1; }
    }
    return MAX_EP_STEPS;
}

/* Whether an instance can be won with CC-Net's actions, read from its first
 * observation: click-scroll-list's two entries only when they are neighbours
 * (choosing entries apart needs a held Ctrl, which the key list lacks). */
static int solvable(const loco_env_obs *o) {
    if (strcmp(loco_env_task_name(o->task), "click-scroll-list")) return 1;
    char t[LOCO_ENV_STR];
    memcpy(t, o->field_value[0], sizeof t);
    char *second = strstr(t, ", ");
    if (!second) return 1;
    *second = 0;
    second += 2;
    int a = -1, b = -1, k = 0;
    for (int e = 0; e < o->n_elems; e++) {
        if (strcmp(o->elems[e].tag, "OPTION")) continue;
        if (!strcmp(o->elems[e].text, t)) a = k;
        if (!strcmp(o->elems[e].text, second)) b = k;
        k++;
    }
    return a >= 0 && b >= 0 && (a - b == 1 || b - a == 1);
}

LOCO_TEST(env_oracle_solves_every_task) {
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, 1), "demo create");
    for (int t = 0; t < loco_env_task_count(); t++) {
        rig r;
        CHECK(!rig_open(&r, 1, t, NULL, 0, 1, LOCO_ENV_REWARD_RAW), "create");
        int wins = 0, can = 0, wrong = 0;
        for (int s = 0; s < ORACLE_SEEDS; s++) {
            loco_env_reset_one(r.env, 0, (uint64_t)s);
            loco_env_demo_reset(d, 0, 5000 + (uint64_t)s);
            int ok = solvable(&r.obs[0]), ended;
            can += ok;
            run_demo(&r, d, NULL, NULL, &ended);
            int won = ended && r.succ[0] && r.rew[0] == 1.0f && r.term[0];
            wins += won;
            wrong += won != ok;
        }
        CHECK(wrong == 0 && can >= ORACLE_SEEDS / 2, "%s: the demonstrator won %d of %d (%d winnable)",
              loco_env_task_name(t), wins, ORACLE_SEEDS, can);
        rig_close(&r);
    }
    loco_env_demo_free(d);
}

/* Random element clicks, field typing and keys: every episode that ends
 * without the success predicate must score <= 0, every success exactly 1. */
LOCO_TEST(env_wrong_answers_never_pay) {
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    for (int t = 0; t < loco_env_task_count(); t++) {
        rig r;
        CHECK(!rig_open(&r, 1, t, NULL, 0, 1, LOCO_ENV_REWARD_RAW), "create");
        loco_env_reset(r.env, NULL);
        int ended = 0, bad = 0;
        for (int s = 0; s < 3000 && ended < 150; s++) {
            loco_env_action *a = &r.act[0];
            memset(a, 0, sizeof *a);
            float u = loco_rng_uniform(&rng);
            const loco_env_obs *o = &r.obs[0];
            if (u < 0.6f && o->n_elems) {
                a->type = LOCO_ENV_CLICK_ELEMENT;
                a->ref = o->elems[loco_rng_u64(&rng) % (uint64_t)o->n_elems].ref;
            } else if (u < 0.8f) {
                a->type = LOCO_ENV_TYPE_FIELD; a->field = (int)(loco_rng_u64(&rng) % 4);
            } else {
                a->type = LOCO_ENV_PRESS_KEY; a->key = (int)(loco_rng_u64(&rng) % LOCO_ENV_NUM_KEYS);
            }
            int err = loco_env_step(r.env);
            if (err == LOCO_ERANGE) continue;   /* a ref that is hidden right now */
            if (r.term[0] || r.trunc[0]) {
                ended++;
                if (r.succ[0] ? r.rew[0] != 1.0f : r.rew[0] > 0.0f) bad++;
            }
        }
        CHECK(bad == 0, "%s: %d of %d ended episodes paid against the predicate", loco_env_task_name(t), bad, ended);
        rig_close(&r);
    }
}

/* (task, seed, actions) -> the same observations and frames, bit for bit. */
LOCO_TEST(env_replay_is_bit_for_bit) {
    int pixels = have_fonts();
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, 1), "demo create");
    static loco_env_action acts[MAX_EP_STEPS];
    static uint64_t digs[MAX_EP_STEPS];
    for (int t = 0; t < loco_env_task_count(); t++) {
        for (int s = 0; s < 3; s++) {
            rig r, q;
            /* one of the three replays runs over two threads */
            CHECK(!rig_open(&r, 1, t, NULL, pixels, 1, 0) && !rig_open(&q, 2, t, NULL, pixels, s == 0 ? 2 : 1, 0), "create");
            loco_env_reset_one(r.env, 0, 40 + (uint64_t)s);
            loco_env_demo_reset(d, 0, (uint64_t)s);
            int ended, n = run_demo(&r, d, acts, digs, &ended);
            /* replay in env 1 of a two-env rig whose env 0 does other things */
            loco_env_reset_one(q.env, 1, 40 + (uint64_t)s);
            loco_env_reset_one(q.env, 0, 99);
            int same = 1;
            for (int k = 0; k < n; k++) {
                q.act[1] = acts[k];
                q.act[0] = (loco_env_action){LOCO_ENV_CLICK_COORDS, k % 51, (k * 7) % 51, 0, 0, 0};
                loco_env_step(q.env);
                uint64_t dg = loco_env_obs_digest(&q.obs[1]) ^
                              (pixels ? frame_digest(q.pixels + LOCO_ENV_H * LOCO_ENV_W * 3) : 0);
                same &= dg == digs[k];
            }
            CHECK(same && ended, "%s seed %d: the replay differs", loco_env_task_name(t), s);
            rig_close(&r); rig_close(&q);
        }
    }
    loco_env_demo_free(d);
}

LOCO_TEST(env_invalid_actions_are_refused) {
    loco_env_action bad[] = {
        {99, 0, 0, 0, 0, 0}, {-1, 0, 0, 0, 0, 0},
        {LOCO_ENV_CLICK_COORDS, 51, 0, 0, 0, 0}, {LOCO_ENV_MOVE_COORDS, 0, -1, 0, 0, 0},
        {LOCO_ENV_PRESS_KEY, 0, 0, 104, 0, 0}, {LOCO_ENV_TYPE_FIELD, 0, 0, 0, 20, 0},
        {LOCO_ENV_CLICK_ELEMENT, 0, 0, 0, 0, 123456}, {LOCO_ENV_CLICK_ELEMENT, 0, 0, 0, 0, 0},
        {LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD, 0, 0, 0, -3, 1}};
    int want[] = {LOCO_EINVAL, LOCO_EINVAL, LOCO_ERANGE, LOCO_ERANGE, LOCO_ERANGE, LOCO_ERANGE,
                  LOCO_ERANGE, LOCO_ERANGE, LOCO_ERANGE};
    for (int t = 0; t < loco_env_task_count(); t++) {
        rig r;
        CHECK(!rig_open(&r, 1, t, NULL, 0, 1, 0), "create");
        loco_env_reset_one(r.env, 0, 5);
        uint64_t before = loco_env_obs_digest(&r.obs[0]);
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            r.act[0] = bad[k];
            int err = loco_env_step(r.env);
            CHECK(err == want[k] && r.err[0] == want[k], "%s: action %zu gave %d", loco_env_task_name(t), k, err);
        }
        CHECK(loco_env_obs_digest(&r.obs[0]) == before && r.obs[0].step == 0 && r.obs[0].time_ms == 0,
              "%s: a refused action changed the page", loco_env_task_name(t));
        rig_close(&r);
    }
}

/* Idle steps until the clock: truncated with -1 at 10 s, then the next step
 * returns a fresh instance with reward 0 (NEXT_STEP auto-reset), and the log
 * counts the episode. */
LOCO_TEST(env_timeout_and_autoreset) {
    rig r;
    CHECK(!rig_open(&r, 1, loco_env_task_find("click-test"), NULL, 0, 1, 0), "create");
    loco_env_reset(r.env, NULL);
    uint64_t first = r.obs[0].seed;
    int steps = 0;
    do { r.act[0].type = LOCO_ENV_NONE; loco_env_step(r.env); steps++; } while (!r.trunc[0] && steps < 500);
    CHECK(steps == 101 && r.trunc[0] && !r.term[0] && r.rew[0] == -1.0f && !r.succ[0],
          "timeout after %d steps, trunc %d term %d reward %g", steps, r.trunc[0], r.term[0], r.rew[0]);
    loco_env_step(r.env);
    CHECK(r.obs[0].step == 0 && r.rew[0] == 0 && !r.trunc[0] && r.obs[0].seed != first, "auto-reset");
    loco_env_log log;
    loco_env_log_take(r.env, &log);
    CHECK(log.n == 1 && log.episode_length == 101 && log.episode_return == -1.0f && log.timeout == 1, "log");
    loco_env_log_take(r.env, &log);
    CHECK(log.n == 0, "log not cleared");
    rig_close(&r);
}

/* The tasks at once over 2 threads, demonstrators acting, pixels on:
 * thousands of steps and auto-resets, not one allocation. */
LOCO_TEST(env_step_allocates_nothing) {
    /* every task but click-scroll-list, whose demonstrator loses its unwinnable instances */
    int n = 0, *tasks = malloc((size_t)loco_env_task_count() * sizeof *tasks);
    for (int t = 0; t < loco_env_task_count(); t++)
        if (strcmp(loco_env_task_name(t), "click-scroll-list")) tasks[n++] = t;
    rig r;
    CHECK(!rig_open(&r, n, 0, tasks, have_fonts(), 2, 0), "create");
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, n), "demo");
    loco_env_reset(r.env, NULL);
    long before = loco_test_allocs;
    for (int s = 0; s < 300; s++) {
        for (int i = 0; i < n; i++) loco_env_demo_act(d, i, &r.obs[i], &r.act[i]);
        loco_env_step(r.env);
    }
    long used = loco_test_allocs - before;
    loco_env_log log;
    loco_env_log_take(r.env, &log);
    CHECK(used == 0, "%ld allocations in 300 steps", used);
    CHECK(log.n >= n && log.success == log.n, "%g episodes, %g successes", log.n, log.success);
    loco_env_demo_free(d);
    rig_close(&r);
    free(tasks);
}

LOCO_TEST(env_demo_file_round_trip_and_corruption) {
    loco_env_action acts[3] = {{LOCO_ENV_CLICK_COORDS, 3, 4, 0, 0, 0}, {LOCO_ENV_PRESS_KEY, 0, 0, 74, 0, 0},
                               {LOCO_ENV_TYPE_FIELD, 0, 0, 0, 1, 0}};
    uint64_t digs[3] = {1, 2, 0xFFFFFFFFFFFFFFFFull};
    loco_env_episode eps[2] = {{"click-test", 5, 100, 0.97f, 1, 3, acts, digs},
                               {"enter-text", 6, 50, -1, 0, 0, acts, digs}};
    char path[] = "/tmp/loco_test_demoXXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char msg[256];
    CHECK(!loco_env_demos_write(path, eps, 2, msg, sizeof msg), "write: %s", msg);
    loco_env_episode *got;
    int n;
    CHECK(!loco_env_demos_read(path, &got, &n, msg, sizeof msg), "read: %s", msg);
    if (n == 2) {
        CHECK(!strcmp(got[0].task, "click-test") && got[0].seed == 5 && got[0].n_steps == 3 &&
              got[1].n_steps == 0 && got[0].ret == 0.97f && got[0].success == 1 &&
              !memcmp(got[0].actions, acts, sizeof acts) && !memcmp(got[0].digests, digs, sizeof digs),
              "round trip");
        free(got);
    } else FAIL("read %d episodes", n);
    /* every single-byte change is caught (checksum or validation) */
    FILE *f = fopen(path, "rb");
    uint8_t buf[512];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    int caught = 0;
    for (size_t k = 0; k < len; k++) {
        buf[k] ^= 0x41;
        caught += loco_env_demos_parse(buf, len, &got, &n, msg, sizeof msg) != 0;
        buf[k] ^= 0x41;
    }
    CHECK(caught == (int)len, "%d of %zu corruptions caught", caught, len);
    CHECK(loco_env_demos_parse(buf, len - 1, &got, &n, msg, sizeof msg) != 0, "truncation accepted");
    CHECK(loco_env_demos_read("/tmp", &got, &n, msg, sizeof msg) != 0, "a directory was read");
    unlink(path);
}

/* python/loco_env.py from Debian's python3 with numpy alone (tests/env_gym.py). */
LOCO_TEST(env_python_binding) {
    char lib[512], cmd[1200];
    snprintf(lib, sizeof lib, "%s/libloco_env.so", getenv("BUILD") ? getenv("BUILD") : "build");
    if (access(lib, R_OK)) { FAIL("%s is missing (make builds it with the test binary)", lib); return; }
    if (system(LOCO_TEST_PYTHON " -c 'import numpy' 2>/dev/null")) SKIP("numpy is missing (apt-get install python3-numpy)");
    snprintf(cmd, sizeof cmd, "LOCO_ENV_LIB=%s " LOCO_TEST_PYTHON " tests/env_gym.py", lib);
    CHECK(system(cmd) == 0, "tests/env_gym.py failed");
}

/* loco env list | run | demos | render | bench through the command. */
LOCO_TEST(env_cli) {
    char d[] = "/tmp/loco_env_cli_XXXXXX", cmd[1024], err[2048];
    CHECK(mkdtemp(d) != NULL, "mkdtemp");
    snprintf(cmd, sizeof cmd, "%s env list > %s/list.txt", loco_test_bin(), d);
    CHECK(system(cmd) == 0, "list");
    snprintf(cmd, sizeof cmd, "test $(grep -c . %s/list.txt) -eq %d", d, loco_env_task_count() + 1);
    CHECK(system(cmd) == 0, "list prints every task");
    snprintf(cmd, sizeof cmd, "%s env run --task all --episodes 5 --policy oracle > %s/run.txt", loco_test_bin(), d);
    CHECK(system(cmd) == 0, "run");
    snprintf(cmd, sizeof cmd, "test $(wc -l < %s/run.txt) -eq %d && test -z \"$(awk 'NR > 1 && $1 != \"all\" && "
             "$1 != \"click-scroll-list\" && $3 != \"100.0%%\"' %s/run.txt)\"", d, loco_env_task_count() + 2, d);
    CHECK(system(cmd) == 0, "run: a line per task and the total, every winnable task at 100%%");
    snprintf(cmd, sizeof cmd, "env demos --task click-checkboxes --episodes 6 --out %s/d.bin", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "demos: %s", err);
    snprintf(cmd, sizeof cmd, "env demos --check %s/d.bin", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "demos --check: %s", err);
    /* a flipped byte is caught */
    snprintf(cmd, sizeof cmd, "printf 'X' | dd of=%s/d.bin bs=1 seek=40 conv=notrunc 2>/dev/null", d);
    CHECK(system(cmd) == 0, "corrupt");
    snprintf(cmd, sizeof cmd, "env demos --check %s/d.bin", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 1 && strstr(err, "checksum"), "corrupt file: %s", err);
    if (have_fonts()) {
        snprintf(cmd, sizeof cmd, "env render --task enter-text --seed 2 --out %s/r", d);
        CHECK(loco_test_run(cmd, err, sizeof err) == 0, "render: %s", err);
        snprintf(cmd, sizeof cmd, "test -s %s/r/frame_000.png && grep -q 'data:image/png;base64,iVBOR' %s/r/replay.html", d, d);
        CHECK(system(cmd) == 0, "render writes PNGs and an HTML replay");
        snprintf(cmd, sizeof cmd, "env bench --task click-test --seconds 0.02 --repeats 1");
        CHECK(loco_test_run(cmd, err, sizeof err) == 0, "bench: %s", err);
    }
    CHECK(loco_test_run("env run --task no-such-task", err, sizeof err) == 2 && strstr(err, "unknown task"), "bad task: %s", err);
    CHECK(loco_test_run("env run --policy smart", err, sizeof err) == 2, "bad policy");
    CHECK(loco_test_run("env frobnicate", err, sizeof err) == 2, "bad subcommand");
    CHECK(loco_test_run("env demos --check /nonexistent/x.bin", err, sizeof err) == 1, "missing file");
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* The frame cache (a page is redrawn only when what it shows changed) must
 * give the frame a fresh drawing gives, at every step of every task. */
LOCO_TEST(env_frame_cache_matches_fresh_render) {
    if (!have_fonts()) SKIP("DejaVu Sans is missing (apt-get install fonts-dejavu-core)");
    static uint8_t fresh[LOCO_ENV_H * LOCO_ENV_W * 3];
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, 1), "demo");
    loco_rng rng;
    loco_rng_seed(&rng, 9);
    for (int t = 0; t < loco_env_task_count(); t++) {
        rig r;
        CHECK(!rig_open(&r, 1, t, NULL, 1, 1, 0), "create");
        int diff = 0, steps = 0;
        for (int s = 0; s < 4; s++) {
            loco_env_reset_one(r.env, 0, 70 + (uint64_t)s);
            loco_env_demo_reset(d, 0, (uint64_t)s);
            for (int k = 0; k < 60 && !r.term[0] && !r.trunc[0]; k++) {
                /* half the episodes demonstrated, half random clicks and keys */
                if (s % 2 == 0) loco_env_demo_act(d, 0, &r.obs[0], &r.act[0]);
                else r.act[0] = (loco_env_action){(int)(loco_rng_u64(&rng) % 10), (int)(loco_rng_u64(&rng) % 51),
                                                  (int)(loco_rng_u64(&rng) % 51), (int)(loco_rng_u64(&rng) % 104), 0, 0};
                loco_env_step(r.env);
                loco_env_render(r.env, 0, fresh);
                diff += memcmp(fresh, r.pixels, sizeof fresh) != 0;
                steps++;
            }
        }
        CHECK(diff == 0, "%s: %d of %d cached frames differ from a fresh drawing", loco_env_task_name(t), diff, steps);
        rig_close(&r);
    }
    loco_env_demo_free(d);
}

static const loco_env_elem *elem_by_tag(const loco_env_obs *o, const char *tag) {
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].tag, tag)) return &o->elems[k];
    return NULL;
}

static void press(rig *r, const char *key) {
    r->act[0] = (loco_env_action){LOCO_ENV_PRESS_KEY, 0, 0, loco_env_key_find(key), 0, 0};
    loco_env_step(r->env);
}

/* The editing model through copy-paste's page: select all and copy in the
 * text area, paste twice into the field, then Backspace, arrows, Delete,
 * Ctrl+X, typing over a selection; focus and tampered flags follow. */
LOCO_TEST(env_events_typing_and_clipboard) {
    rig r;
    CHECK(!rig_open(&r, 1, loco_env_task_find("copy-paste"), NULL, 0, 1, 0), "create");
    loco_env_reset_one(r.env, 0, 3);
    const loco_env_elem *ta = elem_by_tag(&r.obs[0], "TEXTAREA"), *in = elem_by_tag(&r.obs[0], "INPUT_text");
    char text[LOCO_ENV_STR];
    memcpy(text, ta->value, sizeof text);
    int ta_ref = ta->ref, in_ref = in->ref;
    CHECK(!(in->flags & (LOCO_ENV_FOCUSED | LOCO_ENV_TAMPERED)), "fresh field flags %u", in->flags);
    r.act[0] = (loco_env_action){LOCO_ENV_CLICK_ELEMENT, 0, 0, 0, 0, ta_ref};
    loco_env_step(r.env);
    press(&r, "C-a");
    press(&r, "C-c");
    r.act[0] = (loco_env_action){LOCO_ENV_CLICK_ELEMENT, 0, 0, 0, 0, in_ref};
    loco_env_step(r.env);
    press(&r, "C-v");
    press(&r, "C-v");
    in = elem_by_tag(&r.obs[0], "INPUT_text");
    char want[2 * LOCO_ENV_STR];
    snprintf(want, sizeof want, "%s%s", text, text);
    want[LOCO_ENV_STR - 1] = 0;   /* a value holds at most 63 characters */
    CHECK(!strcmp(in->value, want), "paste twice: '%s' want '%s'", in->value, want);
    CHECK((in->flags & LOCO_ENV_FOCUSED) && (in->flags & LOCO_ENV_TAMPERED) && (in->flags & LOCO_ENV_TARGETED),
          "field flags %u", in->flags);
    /* clear, then type "abc", Backspace, Left, Delete: "a" */
    press(&r, "C-a");
    press(&r, "<Backspace>");
    press(&r, "a"); press(&r, "b"); press(&r, "c");
    press(&r, "<Backspace>");
    press(&r, "<ArrowLeft>");
    press(&r, "<Delete>");
    in = elem_by_tag(&r.obs[0], "INPUT_text");
    CHECK(!strcmp(in->value, "a"), "editing: '%s' want 'a'", in->value);
    /* Ctrl+X then Ctrl+V round trip; typing replaces a selection */
    press(&r, "Z");
    press(&r, "C-a"); press(&r, "C-x");
    CHECK(elem_by_tag(&r.obs[0], "INPUT_text")->value[0] == 0, "cut left text");
    press(&r, "C-v"); press(&r, "C-a"); press(&r, "q");
    CHECK(!strcmp(elem_by_tag(&r.obs[0], "INPUT_text")->value, "q"), "typing over a selection: '%s'",
          elem_by_tag(&r.obs[0], "INPUT_text")->value);
    /* Tab moves the focus on (to Submit); a key there types nothing */
    press(&r, "<Tab>");
    press(&r, "x");
    in = elem_by_tag(&r.obs[0], "INPUT_text");
    CHECK(!(in->flags & LOCO_ENV_FOCUSED) && !strcmp(in->value, "q"), "tab: flags %u value '%s'", in->flags, in->value);
    rig_close(&r);
}
