/*
 * The agent on the web-task environment: observations encoded as the
 * network's inputs, actions mapped both ways and chosen from the heads,
 * the behavioural-cloning data set (failed episodes dropped, no-op runs
 * shortened, replays checked against their digests, tasks drawn
 * uniformly), and `loco agent train|eval` end to end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "loco/agent_env.h"
#include "test.h"
#include "util.h"
#include "proc.h"

static void small_cfg(loco_agent_config *c) {
    loco_agent_config_small(c);
    c->obs = LOCO_OBS_DOM;
    c->d_model = 32;
    c->mmt_heads = 2;
    c->lstm_hidden = 32;
    c->word_dim = 16;
    c->str_heads = 2;
}

/* Runs the demonstrator on `task` for one episode of instance seed, with
 * `noops` no-ops first; records actions and digests into ep (arrays of cap). */
static void record(int task, uint64_t seed, int noops, loco_env_episode *ep, loco_env_action *acts,
                   uint64_t *dig, int cap) {
    loco_env_obs *obs = malloc(sizeof *obs);
    loco_env_action act;
    float rew;
    uint8_t term = 0, trunc = 0, succ = 0;
    int32_t err;
    loco_env_buffers buf = {obs, NULL, &act, &rew, &term, &trunc, &succ, &err};
    loco_env_config ec = {.num_envs = 1, .task = task, .threads = 1, .step_ms = 100};
    loco_env *env;
    loco_env_demo *demo;
    char msg[256];
    if (loco_env_create(&env, &ec, &buf, msg, sizeof msg) || loco_env_demo_create(&demo, 1)) abort();
    loco_env_reset_one(env, 0, seed);
    loco_env_demo_reset(demo, 0, seed);
    *ep = (loco_env_episode){.seed = seed, .step_ms = 100, .actions = acts, .digests = dig};
    snprintf(ep->task, sizeof ep->task, "%s", loco_env_task_name(task));
    int k = 0;
    for (; k < cap; k++) {
        if (k < noops) act = (loco_env_action){LOCO_ENV_NONE, 0, 0, 0, 0, 0};
        else loco_env_demo_act(demo, 0, obs, &act);
        acts[k] = act;
        loco_env_step(env);
        dig[k] = loco_env_obs_digest(obs);
        ep->ret += rew;
        if (term || trunc) { ep->success = succ; k++; break; }
    }
    ep->n_steps = k;
    loco_env_demo_free(demo);
    loco_env_free(env);
    free(obs);
}

LOCO_TEST(agent_env_encode) {
    loco_agent_config c;
    small_cfg(&c);
    char msg[256];
    CHECK(loco_agent_env_check(&c, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_agent_config bad = c;
    bad.x_bins = 50;
    CHECK(loco_agent_env_check(&bad, msg, sizeof msg) == LOCO_ECONFIG, "50 bins accepted");
    int task = loco_env_task_find("enter-text");
    CHECK(task >= 0, "no enter-text task");
    if (task < 0) return;
    loco_env_obs *obs = malloc(sizeof *obs);
    loco_env_action act;
    float rew;
    uint8_t term, trunc, succ;
    int32_t err;
    loco_env_buffers buf = {obs, NULL, &act, &rew, &term, &trunc, &succ, &err};
    loco_env_config ec = {.num_envs = 1, .task = task, .threads = 1};
    loco_env *env;
    CHECK(loco_env_create(&env, &ec, &buf, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_env_reset_one(env, 0, 5);
    loco_agent_batch_buf bb;
    CHECK(loco_agent_batch_buf_alloc(&bb, &c, 1, 2) == LOCO_OK, "alloc");
    loco_agent_encode_obs(&c, obs, NULL, &bb, 0);
    const int S = c.max_words, NS = loco_agent_num_strings(&c);
    /* the instruction: word 0, then its words in order ("Enter" is in the vocabulary, the name is hashed) */
    CHECK(bb.words[0] == 0 && bb.words[1] == loco_agent_word_id(&c, "enter", 5), "instruction starts %d %d",
          bb.words[0], bb.words[1]);
    CHECK(loco_agent_word_id(&c, "Enter", 5) == loco_agent_word_id(&c, "enter", 5), "vocabulary is case-sensitive");
    CHECK(loco_agent_word_id(&c, "Yetta", 5) >= c.vocab_words &&
          loco_agent_word_id(&c, "Yetta", 5) != loco_agent_word_id(&c, "yetta", 5), "hashed words: range or case");
    CHECK(bb.nwords[0] >= 2 && bb.nwords[0] <= S, "instruction of %d words", bb.nwords[0]);
    CHECK(bb.n_fields[0] == obs->n_fields && bb.n_dom[0] == (obs->n_elems < c.max_dom ? obs->n_elems : c.max_dom),
          "counts %d/%d %d/%d", bb.n_fields[0], obs->n_fields, bb.n_dom[0], obs->n_elems);
    for (int e = 0; e < bb.n_dom[0]; e++) {
        const float *g = bb.geom + (size_t)e * c.geom_dim;
        CHECK(bb.nwords[1 + c.max_fields + e] >= 2, "element %d has no tag word", e);
        CHECK(g[0] >= 0 && g[0] <= 1 && g[1] >= 0 && g[1] <= 1 && g[2] >= 0 && g[3] >= 0, "element %d box", e);
        CHECK(g[4] == ((obs->elems[e].flags & LOCO_ENV_FOCUSED) != 0), "element %d focus flag", e);
    }
    for (int s = 1 + bb.n_fields[0]; s <= c.max_fields; s++) CHECK(bb.nwords[s] == 0, "absent field %d has words", s);
    CHECK(bb.prev[0].type == -1, "first step's previous action is not 'none'");
    /* after a click, the previous action is that click */
    act = (loco_env_action){LOCO_ENV_CLICK_COORDS, 10, 20, 0, 0, 0};
    loco_env_step(env);
    loco_agent_encode_obs(&c, obs, NULL, &bb, 1);
    CHECK(bb.prev[1].type == LOCO_ACT_CLICK && bb.prev[1].x == 10 && bb.prev[1].y == 20 && bb.prev[1].key == -1,
          "previous action (%d %d %d %d)", bb.prev[1].type, bb.prev[1].x, bb.prev[1].y, bb.prev[1].key);
    (void)NS;
    /* actions both ways */
    loco_agent_action a;
    for (int t = 0; t < LOCO_ENV_NUM_CCNET_TYPES; t++) {
        loco_env_action e = {t, 3, 4, 5, 0, 0}, back;
        CHECK(loco_agent_action_from_env(&e, 1, &a) == 0, "type %d refused", t);
        loco_agent_action_to_env(&a, &back);
        CHECK(back.type == t && (!loco_act_uses_xy(t) || (back.x == 3 && back.y == 4)) &&
              (!loco_act_uses_key(t) || back.key == 5) && (!loco_act_uses_field(t) || back.field == 0),
              "type %d does not round-trip", t);
        CHECK(loco_act_uses_xy(t) == (a.x >= 0) && loco_act_uses_key(t) == (a.key >= 0), "type %d arguments", t);
    }
    loco_env_action el = {LOCO_ENV_CLICK_ELEMENT, 0, 0, 0, 0, 1}, far = {LOCO_ENV_TYPE_FIELD, 0, 0, 0, 3, 0};
    CHECK(loco_agent_action_from_env(&el, 1, &a) != 0, "an element action mapped");
    CHECK(loco_agent_action_from_env(&far, 1, &a) != 0, "a field past n_fields mapped");
    /* choosing: greedy is the argmax of each head used, and valid */
    loco_agent *m;
    CHECK(loco_agent_create(&m, &c, 1, 1, 3, msg, sizeof msg) == LOCO_OK, "%s", msg);
    bb.view.B = 1;
    bb.view.T = 1;
    bb.view.target = NULL;
    bb.first[0] = 1;
    CHECK(loco_agent_forward(m, &bb.view, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_agent_logits lg;
    loco_agent_get_logits(m, 0, 0, &lg);
    loco_agent_choose(m, 0, NULL, &a);
    int best = 0;
    for (int j = 1; j < LOCO_ACT_NUM_TYPES; j++) if (lg.type[j] > lg.type[best]) best = j;
    CHECK(a.type == best, "greedy type %d, argmax %d", a.type, best);
    loco_rng rng;
    loco_rng_seed(&rng, 1);
    for (int k = 0; k < 50; k++) {
        loco_agent_choose(m, 0, &rng, &a);
        loco_env_action e;
        loco_agent_action_to_env(&a, &e);
        CHECK(loco_env_action_check(&e, obs) == LOCO_OK, "sampled action %d invalid", a.type);
        CHECK(!loco_act_uses_field(a.type) || (a.field >= 0 && a.field < bb.n_fields[0]), "field %d", a.field);
    }
    loco_agent_free(m);
    loco_agent_batch_buf_free(&bb);
    loco_env_free(env);
    free(obs);
}

LOCO_TEST(agent_demos_hygiene) {
    char dir[] = "/tmp/loco_agent_demos_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    int t1 = loco_env_task_find("click-test"), t2 = loco_env_task_find("enter-text");
    enum { CAP = 200 };
    loco_env_episode eps[6];
    loco_env_action *acts = calloc(6 * CAP, sizeof *acts);
    uint64_t *dig = calloc(6 * CAP, sizeof *dig);
    for (int i = 0; i < 5; i++) record(t2, 100 + i, 0, &eps[i], acts + i * CAP, dig + i * CAP, CAP);
    record(t1, 7, 15, &eps[5], acts + 5 * CAP, dig + 5 * CAP, CAP);   /* 15 no-ops, then the click */
    CHECK(eps[5].success, "click-test after 15 no-ops failed");
    eps[1].success = 0;                                                 /* dropped as failed */
    eps[2].digests[0] ^= 1;                                             /* dropped: replay differs */
    char path[160], msg[512];
    snprintf(path, sizeof path, "%s/a.demos", dir);
    CHECK(loco_env_demos_write(path, eps, 6, msg, sizeof msg) == LOCO_OK, "%s", msg);
    snprintf(path, sizeof path, "%s/notes.txt", dir);   /* not a demonstration file: skipped */
    FILE *f = fopen(path, "w");
    fputs("hello", f);
    fclose(f);
    loco_agent_config c;
    small_cfg(&c);
    loco_agent_demos *d;
    loco_agent_demos_stats st;
    CHECK(loco_agent_demos_load(&d, dir, &c, 0, 10, &st, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!d) return;
    long want = eps[0].n_steps + eps[3].n_steps + eps[4].n_steps + (eps[5].n_steps - 5);
    CHECK(st.files == 1 && st.episodes == 6 && st.failed == 1 && st.mismatched == 1 && st.kept == 4 && st.tasks == 2,
          "stats: files %d episodes %d failed %d mismatched %d kept %d tasks %d", st.files, st.episodes, st.failed,
          st.mismatched, st.kept, st.tasks);
    CHECK(st.noops_cut == 5 && st.steps == want, "no-ops cut %ld (want 5), steps %ld (want %ld)", st.noops_cut,
          st.steps, want);
    CHECK(loco_agent_demos_count(d, t1) == 1 && loco_agent_demos_count(d, t2) == 3, "per task %d %d",
          loco_agent_demos_count(d, t1), loco_agent_demos_count(d, t2));
    /* sampling: rows start episodes, every step counts, tasks are drawn uniformly */
    loco_agent_batch_buf bb;
    loco_agent_batch_buf_alloc(&bb, &c, 50, 4);
    loco_rng rng;
    loco_rng_seed(&rng, 3);
    long n_click = 0, rows = 0;
    for (int k = 0; k < 40; k++) {
        loco_agent_demos_sample(d, &rng, &bb);
        for (int b = 0; b < 50; b++) {
            CHECK(bb.first[b * 4] == 1, "row %d does not start an episode", b);
            rows++;
            /* click-test's only episode is 1 + 10 kept no-ops + its click: an instruction about "the button" */
            n_click += bb.words[(size_t)b * 4 * loco_agent_num_strings(&c) * c.max_words + 1] ==
                       loco_agent_word_id(&c, "click", 5);
            for (int t = 0; t < 4; t++) CHECK(bb.valid[b * 4 + t], "padding in a packed row");
        }
    }
    double share = (double)n_click / rows;
    CHECK(share > 0.45 && share < 0.55, "click-test drawn for %.3f of rows, expected 1/2 (uniform over tasks)", share);
    loco_agent_batch_buf_free(&bb);
    loco_agent_demos_free(d);
    CHECK(loco_agent_demos_load(&d, "/nonexistent", &c, 0, 10, &st, msg, sizeof msg) == LOCO_EIO && !d, "%s", msg);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    free(acts);
    free(dig);
}

LOCO_TEST(agent_cli_end_to_end) {
    char dir[] = "/tmp/loco_agent_cli_XXXXXX", cmd[1024], err[4096], msg[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    enum { CAP = 200 };
    loco_env_episode eps[4];
    loco_env_action *acts = calloc(4 * CAP, sizeof *acts);
    uint64_t *dig = calloc(4 * CAP, sizeof *dig);
    for (int i = 0; i < 4; i++)
        record(loco_env_task_find(i % 2 ? "enter-text" : "click-test"), i, 0, &eps[i], acts + i * CAP, dig + i * CAP, CAP);
    snprintf(cmd, sizeof cmd, "%s/demos", dir);
    CHECK(mkdir(cmd, 0777) == 0, "mkdir");
    snprintf(cmd, sizeof cmd, "%s/demos/d.demos", dir);
    CHECK(loco_env_demos_write(cmd, eps, 4, msg, sizeof msg) == LOCO_OK, "%s", msg);
    free(acts);
    free(dig);
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/run --obs dom --steps 3 --batch 2 "
             "--unroll 4 --log-every 1 --threads 1", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "train: %s", err);
    char path[256], buf[8192];
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    long n = loco_test_slurp(path, buf, sizeof buf);
    CHECK(n > 0 && strstr(buf, "\"step\":3") && strstr(buf, "\"loss\""), "metrics: %s", n > 0 ? buf : "missing");
    snprintf(path, sizeof path, "%s/run/loss.svg", dir);
    CHECK(access(path, R_OK) == 0, "no loss.svg");
    snprintf(cmd, sizeof cmd, "agent eval --checkpoint %s/run/agent.safetensors --episodes 3 --tasks click-test "
             "--threads 1 --out %s/eval.md", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "eval: %s", err);
    snprintf(path, sizeof path, "%s/eval.md", dir);
    n = loco_test_slurp(path, buf, sizeof buf);
    CHECK(n > 0 && strstr(buf, "| click-test | 3 |") && strstr(buf, "mean over 1 tasks"), "table: %s",
          n > 0 ? buf : "missing");
    /* the trained agent's episode rendered as frames and a replay page */
    snprintf(cmd, sizeof cmd, "env render --policy agent --checkpoint %s/run/agent.safetensors --task click-test "
             "--max-steps 3 --out %s/render", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "render: %s", err);
    snprintf(path, sizeof path, "%s/render/replay.html", dir);
    n = loco_test_slurp(path, buf, sizeof buf);
    snprintf(cmd, sizeof cmd, "%s/render/frame_001.png", dir);
    CHECK(n > 0 && strstr(buf, "agent</h3>") && access(cmd, R_OK) == 0, "replay: %.200s", n > 0 ? buf : "missing");
    CHECK(loco_test_run("env render --policy agent --task click-test", err, sizeof err) == 2 && strstr(err, "--checkpoint"),
          "agent without a checkpoint: %s", err);
    /* usage errors exit 2, run-time errors 1, each with one line */
    snprintf(cmd, sizeof cmd, "agent train --demos %s/demos --out %s/x", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "--bc"), "train without --bc: %s", err);
    CHECK(loco_test_run("agent eval --checkpoint /nonexistent.safetensors", err, sizeof err) == 1 &&
          strstr(err, "/nonexistent"), "eval of a missing file: %s", err);
    snprintf(cmd, sizeof cmd, "agent eval --checkpoint %s/run/agent.safetensors --tasks no-such-task", dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2, "unknown task: %s", err);
    CHECK(loco_test_run("agent frobnicate", err, sizeof err) == 2, "unknown subcommand: %s", err);
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s --out %s/y --steps 1", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 1 && strstr(err, "no demonstration files"), "no demos: %s", err);
    /* --size names the network; --config stays the flags file, whose values the command line overrides */
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/z --size tiny", dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 2 && strstr(err, "--size"), "bad --size: %s", err);
    snprintf(path, sizeof path, "%s/flags.conf", dir);
    FILE *cf = fopen(path, "w");
    CHECK(cf != NULL, "flags file");
    fprintf(cf, "size = paper\nobs = dom\nsteps = 1\nbatch = 1\nunroll = 2\nthreads = 1\n");
    fclose(cf);
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/z --config %s --size small", dir, dir, path);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "train with --config FILE: %s", err);
    snprintf(path, sizeof path, "%s/z/agent.safetensors", dir);
    loco_agent *zm = NULL;
    loco_agent_ckpt_meta zmeta;
    CHECK(loco_agent_load(path, &zm, 1, 2, &zmeta, msg, sizeof msg) == LOCO_OK, "%s", msg);
    loco_agent_config small;
    loco_agent_config_small(&small);
    small.obs = LOCO_OBS_DOM;
    loco_agent *sm = NULL;
    CHECK(loco_agent_create(&sm, &small, 1, 2, 1, msg, sizeof msg) == LOCO_OK, "%s", msg);
    CHECK(loco_agent_num_params(zm) == loco_agent_num_params(sm), "--size small did not override the file's paper: "
          "%zu parameters, small has %zu", loco_agent_num_params(zm), loco_agent_num_params(sm));
    loco_agent_free(zm);
    loco_agent_free(sm);
    /* 4 steps straight = 2 steps, stop, resume for 2 more: the same file, byte for byte */
    const char *common = "--obs dom --steps 4 --batch 2 --unroll 4 --threads 1";
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/straight %s", dir, dir, common);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "straight: %s", err);
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/halves %s --stop-after 2", dir, dir, common);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "first half: %s", err);
    snprintf(cmd, sizeof cmd, "agent train --bc --demos %s/demos --out %s/halves --resume %s/halves/agent.safetensors "
             "--batch 2 --unroll 4 --threads 1", dir, dir, dir);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "resumed: %s", err);
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/straight/agent.safetensors", dir);
    snprintf(b, sizeof b, "%s/halves/agent.safetensors", dir);
    CHECK(loco_test_same_file(a, b), "resumed run differs from the straight one");
    snprintf(b, sizeof b, "%s/halves/metrics.jsonl", dir);
    n = loco_test_slurp(b, buf, sizeof buf);
    CHECK(n > 0 && strstr(buf, "\"step\":2,") && strstr(buf, "\"step\":4,"), "resumed log: %s", n > 0 ? buf : "missing");
    loco_test_rmdir(dir);
}
