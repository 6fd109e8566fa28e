/*
 * The browser backend against the protocol pages of tests/data/miniwob_like
 * (written for these tests; they follow MiniWoB++'s page protocol): seeded
 * instances, the observation, the screenshot, the native demonstrator winning
 * on the real browser, element actions, browsers in parallel, and a browser
 * killed or frozen mid-episode (restarted, the episode truncated).
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/agent.h"
#include "loco/browser.h"
#include "test.h"
#include "proc.h"
#include "util.h"

#define PAGES "tests/data/miniwob_like"

static int have_chromium(void) { return !access("/usr/bin/chromium", X_OK) && !access("/usr/bin/chromedriver", X_OK); }

static const loco_env_elem *by_id(const loco_env_obs *o, const char *id) {
    for (int k = 0; k < o->n_elems; k++)
        if (!strcmp(o->elems[k].id, id)) return &o->elems[k];
    return NULL;
}

/* Runs the native demonstrator for one episode; 1 on success. */
static int demo_episode(loco_browser *b, loco_env_demo *d, const char *task, uint64_t seed, loco_env_obs *o,
                        int *steps, char *msg, size_t msglen) {
    if (loco_browser_reset(b, task, seed, o, NULL, msg, msglen)) return -1;
    loco_env_demo_reset(d, 0, seed ^ 0xD3A0ull);
    for (*steps = 0; *steps < 60; (*steps)++) {
        loco_env_action a;
        float r;
        uint8_t te, tr, su;
        loco_env_demo_act(d, 0, o, &a);
        if (loco_browser_step(b, &a, o, NULL, &r, &te, &tr, &su)) return -1;
        if (te || tr) return su;
    }
    return 0;
}

LOCO_TEST(browser_missing_chromium) {
    loco_browser_config c = {.miniwob_dir = PAGES, .chromium = "/nonexistent/chromium"};
    loco_browser *b;
    char msg[256];
    int r = loco_browser_create(&b, &c, msg, sizeof msg);
    CHECK(r == LOCO_ENOTSUP && strstr(msg, "apt-get install chromium"), "r %d: %s", r, msg);
    c.chromium = NULL;
    c.chromedriver = "/nonexistent/chromedriver";
    r = loco_browser_create(&b, &c, msg, sizeof msg);
    CHECK(r == LOCO_ENOTSUP && strstr(msg, "chromium-driver"), "r %d: %s", r, msg);
    c.chromedriver = NULL;
    c.miniwob_dir = "/nonexistent";
    r = loco_browser_create(&b, &c, msg, sizeof msg);
    CHECK(r == LOCO_EINVAL && strstr(msg, "not a directory"), "r %d: %s", r, msg);
}

LOCO_TEST(browser_protocol_pages) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    loco_browser_config c = {.miniwob_dir = PAGES, .pixels = 1};
    loco_browser *b;
    char msg[512];
    int r = loco_browser_create(&b, &c, msg, sizeof msg);
    CHECK(r == LOCO_OK, "create: %s", msg);
    if (r) return;
    static loco_env_obs o1, o2;
    static uint8_t px[LOCO_ENV_H * LOCO_ENV_W * 3];
    /* the same seed gives the same instance and refs; another seed another */
    CHECK(!loco_browser_reset(b, "click-test", 7, &o1, px, msg, sizeof msg), "reset: %s", msg);
    CHECK(!loco_browser_reset(b, "click-test", 7, &o2, px, msg, sizeof msg), "reset: %s", msg);
    const loco_env_elem *b1 = by_id(&o1, "subbtn"), *b2 = by_id(&o2, "subbtn");
    CHECK(b1 && b2 && b1->ref == b2->ref && b1->left == b2->left && b1->top == b2->top && b1->width == b2->width,
          "seed 7 twice: different instances");
    CHECK(!strcmp(o1.utterance, "Click the button.") && o1.task == loco_env_task_find("click-test"), "utterance '%s'",
          o1.utterance);
    CHECK(!strcmp(o1.elems[0].tag, "BODY") && o1.elems[0].parent == 0 && o1.elems[0].ref == 1, "root %s",
          o1.elems[0].tag);
    CHECK(b1 && !strcmp(b1->tag, "BUTTON") && !strcmp(b1->text, "Click Me!") && (b1->flags & LOCO_ENV_LEAF) &&
          b1->top >= 50, "button");
    int differ = 0;
    for (uint64_t s = 8; s < 12; s++) {
        CHECK(!loco_browser_reset(b, "click-test", s, &o2, px, msg, sizeof msg), "reset: %s", msg);
        const loco_env_elem *e = by_id(&o2, "subbtn");
        differ += b1 && e && (e->left != b1->left || e->width != b1->width);
    }
    CHECK(differ >= 3, "seeds 8..11: %d of 4 instances differ from seed 7's", differ);
    /* the screenshot: the yellow instruction bar at the top left, the dark
     * cover (#111) nowhere in the task area while an episode runs */
    CHECK(px[0] == 255 && px[1] == 255 && px[2] == 0, "pixel (0, 0) = %d %d %d", px[0], px[1], px[2]);
    int dark = 0;
    for (int i = 60 * LOCO_ENV_W * 3; i < LOCO_ENV_H * LOCO_ENV_W * 3; i += 3) dark += px[i] == 0x11 && px[i + 1] == 0x11;
    CHECK(dark == 0, "%d cover pixels in a running episode", dark);

    /* the native demonstrator, unchanged, on the browser: clicks, keys, fields */
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, 1), "demo");
    const char *tasks[] = {"click-test", "enter-text"};
    for (int t = 0; t < 2; t++) {
        int wins = 0, steps;
        for (uint64_t s = 0; s < 4; s++) wins += demo_episode(b, d, tasks[t], s, &o1, &steps, msg, sizeof msg) == 1;
        CHECK(wins == 4, "%s: %d/4 demonstrator wins (%s)", tasks[t], wins, msg);
    }
    /* fields from the page ({utterance, fields}); TYPE_FIELD past them types "" */
    CHECK(!loco_browser_reset(b, "enter-text", 3, &o1, NULL, msg, sizeof msg), "reset: %s", msg);
    CHECK(o1.n_fields == 1 && !strcmp(o1.field_key[0], "target") && strstr(o1.utterance, o1.field_value[0]),
          "fields %d '%s'", o1.n_fields, o1.field_key[0]);
    /* element actions: focus the input and type the field, click Submit by ref */
    const loco_env_elem *in = by_id(&o1, "tt"), *sub = by_id(&o1, "subbtn");
    CHECK(in && sub, "form elements");
    if (in && sub) {
        loco_env_action a = {.type = LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD, .ref = in->ref, .field = 0};
        int sref = sub->ref;
        float rw;
        uint8_t te, tr, su;
        CHECK(!loco_browser_step(b, &a, &o1, NULL, &rw, &te, &tr, &su) && !te, "focus and type");
        in = by_id(&o1, "tt");
        CHECK(in && !strcmp(in->value, o1.field_value[0]) && (in->flags & LOCO_ENV_FOCUSED), "typed '%s'",
              in ? in->value : "?");
        a = (loco_env_action){.type = LOCO_ENV_CLICK_ELEMENT, .ref = sref};
        CHECK(!loco_browser_step(b, &a, &o1, NULL, &rw, &te, &tr, &su) && te && su && rw > 0.5f && rw <= 1,
              "submit: te %d su %d r %g", te, su, rw);
    }
    /* a step after the end is refused until the next reset, and restarts nothing */
    {
        loco_env_action none = {.type = LOCO_ENV_NONE};
        float rw;
        uint8_t te, tr, su;
        CHECK(loco_browser_step(b, &none, &o1, NULL, &rw, &te, &tr, &su) == LOCO_EINVAL, "a step after the end");
        CHECK(!loco_browser_reset(b, "enter-text", 4, &o1, NULL, msg, sizeof msg), "reset: %s", msg);
    }
    /* invalid actions are refused, not performed */
    loco_env_action bad = {.type = LOCO_ENV_CLICK_COORDS, .x = 51};
    float rw;
    uint8_t te, tr, su;
    CHECK(loco_browser_step(b, &bad, &o1, NULL, &rw, &te, &tr, &su) == LOCO_ERANGE, "bin 51 accepted");
    CHECK(loco_browser_restarts(b) == 0, "%d restarts", loco_browser_restarts(b));
    loco_env_demo_free(d);
    loco_browser_free(b);
}

/* Two browsers in two threads run their episodes independently. */
LOCO_TEST(browser_parallel) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    int wins[2] = {0, 0}, ok[2] = {0, 0};
#pragma omp parallel for num_threads(2)
    for (int i = 0; i < 2; i++) {
        loco_browser_config c = {.miniwob_dir = PAGES};
        loco_browser *b;
        char msg[512];
        loco_env_demo *d;
        static loco_env_obs obs[2];
        if (loco_browser_create(&b, &c, msg, sizeof msg) || loco_env_demo_create(&d, 1)) continue;
        ok[i] = 1;
        int steps;
        for (uint64_t s = 0; s < 3; s++) wins[i] += demo_episode(b, d, i ? "enter-text" : "click-test", 10 * i + s, &obs[i],
                                                                &steps, msg, sizeof msg) == 1;
        loco_env_demo_free(d);
        loco_browser_free(b);
    }
    CHECK(ok[0] && ok[1] && wins[0] == 3 && wins[1] == 3, "wins %d %d", wins[0], wins[1]);
}

/* A browser killed (SIGKILL) or frozen (SIGSTOP, past the command timeout)
 * mid-episode: the episode ends truncated and unscored, the browser comes
 * back, and the next episode runs. */
LOCO_TEST(browser_fault_restart) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    loco_browser_config c = {.miniwob_dir = PAGES, .timeout_ms = 1500};
    loco_browser *b;
    char msg[512];
    int r = loco_browser_create(&b, &c, msg, sizeof msg);
    CHECK(r == LOCO_OK, "create: %s", msg);
    if (r) return;
    static loco_env_obs o;
    loco_env_demo *d;
    CHECK(!loco_env_demo_create(&d, 1), "demo");
    for (int fault = 0; fault < 2; fault++) {
        CHECK(!loco_browser_reset(b, "click-test", 1, &o, NULL, msg, sizeof msg), "reset: %s", msg);
        int pg = loco_browser_pgid(b);
        CHECK(pg > 0, "pgid");
        if (pg > 0) kill(-pg, fault ? SIGSTOP : SIGKILL);
        const loco_env_elem *e = by_id(&o, "subbtn");
        loco_env_action a = {.type = LOCO_ENV_CLICK_COORDS, .x = e ? loco_env_x_bin(e->left + e->width / 2) : 0,
                             .y = e ? loco_env_y_bin(e->top + e->height / 2) : 0};
        float rw;
        uint8_t te, tr, su;
        CHECK(!loco_browser_step(b, &a, &o, NULL, &rw, &te, &tr, &su), "step");
        CHECK(tr == 1 && te == 0 && su == 0 && rw == 0, "fault %d: te %d tr %d su %d r %g", fault, te, tr, su, rw);
        CHECK(loco_browser_restarts(b) == fault + 1, "%d restarts", loco_browser_restarts(b));
        int steps;
        CHECK(demo_episode(b, d, "click-test", 2, &o, &steps, msg, sizeof msg) == 1, "after the fault: %s", msg);
    }
    loco_env_demo_free(d);
    loco_browser_free(b);
}

/* loco env run --backend: the same demonstrator on both backends, and its
 * refusals in one line. */
LOCO_TEST(browser_env_run_cli) {
    char out[4096];
    struct { const char *args; int code; } bad[] = {
        {"env run --backend browser --task click-test", 2},
        {"env run --backend chrome --task click-test", 2},
        {"env run --backend browser --task click-test --miniwob-dir /nonexistent-dir", 1},
        {"env run --backend both --task no-such-task --miniwob-dir " PAGES, 2},
        {"env run --backend browser --task click-test --miniwob-dir " PAGES " --chromium /nonexistent/chromium", 1},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int rc = loco_test_run(bad[k].args, out, sizeof out), lines = 0;
        for (char *p = out; *p; p++) lines += *p == '\n';
        CHECK(rc == bad[k].code && lines == 1, "'%s': exit %d, %d lines: %s", bad[k].args, rc, lines, out);
    }
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s env run --backend both --miniwob-dir " PAGES " --task enter-text --episodes 3 --envs 2",
             loco_test_bin());
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    int rc = f ? pclose(f) : -1;
    CHECK(rc == 0 && strstr(out, "native   enter-text                 3/3") && strstr(out, "browser  enter-text                 3/3"),
          "exit %d:\n%s", rc, out);
}

/* loco env bench --miniwob-dir times the task's page loop in Chromium beside
 * the native engine and prints the ratio; a folder without the page is one
 * line and exit 1. */
LOCO_TEST(browser_env_bench_ratio) {
    char out[4096];
    int rc = loco_test_run("env bench --task click-test --seconds 0.01 --repeats 1 --miniwob-dir /nonexistent-dir", out,
                           sizeof out), lines = 0;
    for (char *p = out; *p; p++) lines += *p == '\n';
    CHECK(rc == 1 && lines == 1 && strstr(out, "no page"), "exit %d, %d lines: %s", rc, lines, out);
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s env bench --task click-test --seconds 0.05 --repeats 1 --miniwob-dir " PAGES,
             loco_test_bin());
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    rc = f ? pclose(f) : -1;
    const char *r = strstr(out, "native / Chromium = ");
    double ratio = r ? atof(r + strlen("native / Chromium = ")) : 0;
    /* The page loop costs milliseconds a step and the native step about a
     * microsecond: anything under 100x means one of the two was not timed. */
    CHECK(rc == 0 && ratio > 100, "exit %d, ratio %.0f:\n%s", rc, ratio, out);
}

/* A trained agent runs unchanged on both backends (--policy agent): a small
 * network saved as a checkpoint plays two short episodes on each. */
LOCO_TEST(browser_env_run_agent) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    loco_agent_config cfg;
    loco_agent_config_small(&cfg);
    cfg.obs = LOCO_OBS_BOTH; cfg.d_model = 32; cfg.mmt_heads = 2; cfg.lstm_hidden = 32; cfg.word_dim = 16; cfg.str_heads = 2;
    char msg[256], path[] = "/tmp/loco_brw_XXXXXX.safetensors", cmd[700], out[4096];
    int fd = mkstemps(path, 12);
    CHECK(fd >= 0, "mkstemps");
    close(fd);
    loco_agent *m;
    CHECK(!loco_agent_create(&m, &cfg, 1, 1, 9, msg, sizeof msg), "create: %s", msg);
    loco_agent_ckpt_meta meta = {0};
    CHECK(!loco_agent_save(path, m, &meta, 0, msg, sizeof msg), "save: %s", msg);
    loco_agent_free(m);
    /* one thread: a batch of one gains nothing from more, and a loaded machine loses much */
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s env run --backend both --miniwob-dir " PAGES " --task click-test --episodes 2 "
             "--max-steps 4 --policy agent --checkpoint %s 2>&1", loco_test_bin(), path);
    FILE *f = popen(cmd, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = 0;
    int rc = f ? pclose(f) : -1;
    CHECK(rc == 0 && strstr(out, "native   click-test") && strstr(out, "browser  click-test") && strstr(out, "/2 "),
          "exit %d:\n%s", rc, out);
    unlink(path);
}

/* Live (not zombie) processes in process group pg, read from /proc. */
static int group_alive(pid_t pg) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = 0;
        char *p = strrchr(buf, ')');   /* "pid (comm) state ppid pgrp ..." */
        char st;
        int ppid, pgrp;
        if (p && sscanf(p + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pg && st != 'Z') n++;
    }
    if (d) closedir(d);
    return n;
}

/* Ctrl-C (SIGINT) or SIGTERM to `loco env run --backend browser` ends its
 * browsers too, though they sit in process groups of their own. */
LOCO_TEST(browser_signal_kills_browsers) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    int sigs[2] = {SIGINT, SIGTERM};
    for (int s = 0; s < 2; s++) {
        pid_t pid = loco_test_start("env run --backend browser --miniwob-dir " PAGES " --task click-test --episodes 100000",
                                    "/dev/null");
        pid_t drv = -1;
        for (int k = 0; k < 200 && drv < 0; k++) {
            drv = loco_test_child(pid, "chromedriver");
            if (drv < 0) usleep(50000);
        }
        CHECK(drv > 0, "no chromedriver under loco");
        usleep(1500000);   /* Chromium is up and running episodes */
        int before = drv > 0 ? group_alive(drv) : 0;
        kill(pid, sigs[s]);
        int rc = loco_test_finish(pid, 10);
        usleep(300000);
        int after = drv > 0 ? group_alive(drv) : 0;
        CHECK(before >= 2 && after == 0, "signal %d: %d processes in the browser's group before, %d after (exit %d)",
              sigs[s], before, after, rc);
    }
}

/* Fields from the checkout's miniwob/fields.py (run by python3), as the
 * package computes them; a fields.py that dies at once costs the fields,
 * not the process (no SIGPIPE death) and not the episode. */
LOCO_TEST(browser_fields_py) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    if (access(LOCO_TEST_PYTHON, X_OK)) SKIP("no " LOCO_TEST_PYTHON);
    static const char *const scripts[2] = {
        "import re\n"
        "def get_field_extractor(task):\n"
        "    if task != 'click-test': raise KeyError(task)\n"
        "    return lambda u: [('first', u.split()[0]), ('task', task)]\n",
        "import os\nos._exit(0)\n",
    };
    for (int k = 0; k < 2; k++) {
        char d[] = "/tmp/loco_fields_XXXXXX", cmd[600], msg[512];
        CHECK(mkdtemp(d) != NULL, "mkdtemp");
        snprintf(cmd, sizeof cmd, "cp -r " PAGES "/core " PAGES "/miniwob %s/", d);
        CHECK(system(cmd) == 0, "copy the pages");
        snprintf(cmd, sizeof cmd, "%s/miniwob/fields.py", d);
        FILE *f = fopen(cmd, "w");
        if (f) { fputs(scripts[k], f); fclose(f); }
        loco_browser_config c = {.miniwob_dir = d};
        loco_browser *b;
        int r = loco_browser_create(&b, &c, msg, sizeof msg);
        CHECK(r == LOCO_OK, "create: %s", msg);
        if (r == LOCO_OK) {
            static loco_env_obs o;
            loco_env_demo *dm;
            int steps;
            CHECK(!loco_env_demo_create(&dm, 1), "demo");
            for (int e = 0; e < 2; e++) {
                CHECK(demo_episode(b, dm, "click-test", (uint64_t)e, &o, &steps, msg, sizeof msg) == 1, "episode: %s", msg);
                CHECK(!loco_browser_reset(b, "click-test", 5, &o, NULL, msg, sizeof msg), "reset: %s", msg);
                if (k == 0)
                    CHECK(o.n_fields == 2 && !strcmp(o.field_key[0], "first") && !strcmp(o.field_value[0], "Click") &&
                          !strcmp(o.field_value[1], "click-test"), "fields.py: %d fields", o.n_fields);
                else
                    CHECK(o.n_fields == 0, "%d fields from a dead helper", o.n_fields);
            }
            loco_env_demo_free(dm);
            loco_browser_free(b);
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s", d);
        if (system(cmd)) FAIL("cleanup");
    }
}
