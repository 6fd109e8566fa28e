/*
 * `loco agent act` over a pipe, as a harness around the MiniWoB++ Python
 * package drives it: the native engine's observations written in the
 * package's form (numbers as one-element lists as numpy's tolist() gives,
 * colours as RGBA floats, flags as integers, a checkbox's value "True" or
 * ""), the answers parsed back into actions and stepped.  The demonstrator
 * behind the pipe must choose exactly what it chooses in-process, and win.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "loco/agent.h"
#include "loco/agent_env.h"
#include "loco/browser.h"
#include "loco/env.h"
#include "test.h"
#include "util.h"

static cJSON *num1(double v) {   /* np.array([v], dtype=np.float32).tolist() */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(v));
    return a;
}

static cJSON *rgba(const uint8_t c[4]) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 4; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(c[i] / 255.0));
    return a;
}

/* One observation as the package's dict, serialised as one line. */
static char *obs_json(const loco_env_obs *o, int with_step) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "utterance", o->utterance);
    cJSON *f = cJSON_AddArrayToObject(j, "fields");
    for (int k = 0; k < o->n_fields; k++) {
        cJSON *p = cJSON_CreateArray();
        cJSON_AddItemToArray(p, cJSON_CreateString(o->field_key[k]));
        cJSON_AddItemToArray(p, cJSON_CreateString(o->field_value[k]));
        cJSON_AddItemToArray(f, p);
    }
    cJSON *d = cJSON_AddArrayToObject(j, "dom_elements");
    for (int k = 0; k < o->n_elems; k++) {
        const loco_env_elem *e = &o->elems[k];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddNumberToObject(x, "ref", e->ref);
        cJSON_AddNumberToObject(x, "parent", e->parent);
        cJSON_AddItemToObject(x, "left", num1(e->left));
        cJSON_AddItemToObject(x, "top", num1(e->top));
        cJSON_AddItemToObject(x, "width", num1(e->width));
        cJSON_AddItemToObject(x, "height", num1(e->height));
        cJSON_AddStringToObject(x, "tag", e->tag);
        cJSON_AddStringToObject(x, "text", e->text);
        int box = !strcmp(e->tag, "INPUT_checkbox") || !strcmp(e->tag, "INPUT_radio");
        cJSON_AddStringToObject(x, "value", box ? (!strcmp(e->value, "true") ? "True" : "") : e->value);
        cJSON_AddStringToObject(x, "id", e->id);
        cJSON_AddStringToObject(x, "classes", e->classes);
        cJSON_AddItemToObject(x, "bg_color", rgba(e->bg));
        cJSON_AddItemToObject(x, "fg_color", rgba(e->fg));
        int fl[4] = {!!(e->flags & LOCO_ENV_FOCUSED), !!(e->flags & LOCO_ENV_TAMPERED), !!(e->flags & LOCO_ENV_TARGETED),
                     !!(e->flags & LOCO_ENV_LEAF)};
        cJSON_AddItemToObject(x, "flags", cJSON_CreateIntArray(fl, 4));
        cJSON_AddItemToArray(d, x);
    }
    if (with_step) cJSON_AddNumberToObject(j, "step", o->step);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

/* The humphreys22 dictionary back into an action. */
static int parse_action(const char *line, loco_env_action *a) {
    memset(a, 0, sizeof *a);
    cJSON *j = cJSON_Parse(line);
    cJSON *t = cJSON_GetObjectItem(j, "action_type"), *c = cJSON_GetObjectItem(j, "coords");
    int ok = cJSON_IsNumber(t) && cJSON_GetArraySize(c) == 2;
    if (ok) {
        a->type = t->valueint;
        a->x = cJSON_GetArrayItem(c, 0)->valueint;
        a->y = cJSON_GetArrayItem(c, 1)->valueint;
        a->key = cJSON_GetObjectItem(j, "key")->valueint;
        a->field = cJSON_GetObjectItem(j, "field")->valueint;
        const cJSON *n = cJSON_GetObjectItem(j, "action_type_name");
        ok = cJSON_IsString(n) && !strcmp(n->valuestring, loco_browser_action_name(a->type));
    }
    cJSON_Delete(j);
    return ok;
}

typedef struct { pid_t pid; FILE *to, *from; } child;

static int spawn(child *c, const char *const *argv) {
    int in[2], out[2];
    if (pipe(in) || pipe(out)) return -1;
    c->pid = fork();
    if (c->pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]); close(out[1]);
    c->to = fdopen(in[1], "w");
    c->from = fdopen(out[0], "r");
    return c->pid > 0 && c->to && c->from ? 0 : -1;
}

static int finish(child *c) {
    fclose(c->to);
    fclose(c->from);
    int st;
    waitpid(c->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

LOCO_TEST(agent_act_oracle_roundtrip) {
    const char *tasks[] = {"click-checkboxes", "enter-text", "drag-box"};
    for (int ti = 0; ti < 3; ti++) {
        int t = loco_env_task_find(tasks[ti]);
        CHECK(t >= 0, "task %s", tasks[ti]);
        if (t < 0) continue;
        const char *argv[] = {loco_test_bin(), "agent", "act", "--policy", "oracle", "--task", tasks[ti], "--seed", "11", NULL};
        child c = {0};
        if (spawn(&c, argv)) { FAIL("spawn"); continue; }
        static loco_env_obs obs, mirror;
        loco_env_action act;
        float rew;
        uint8_t te, tr, su;
        int32_t er;
        loco_env_buffers b = {&obs, NULL, &act, &rew, &te, &tr, &su, &er};
        loco_env_config cfg = {.num_envs = 1, .task = t};
        loco_env *e;
        char msg[256];
        CHECK(!loco_env_create(&e, &cfg, &b, msg, sizeof msg), "%s", msg);
        loco_env_demo *d;
        CHECK(!loco_env_demo_create(&d, 1), "demo");
        int wins = 0, same = 1, steps = 0;
        static char line[1 << 16];
        for (int ep = 0; ep < 3; ep++) {
            loco_env_reset_one(e, 0, 100 + (uint64_t)ep);
            loco_env_demo_reset(d, 0, 11 + (uint64_t)ep);
            for (int k = 0; k < 300; k++) {
                /* the first episode's lines carry no "step": act counts them */
                char *s = obs_json(&obs, ep > 0);
                fprintf(c.to, "%s\n", s);
                fflush(c.to);
                free(s);
                if (!fgets(line, sizeof line, c.from) || !parse_action(line, &act)) { same = 0; break; }
                /* in-process, on the observation as the pipe carried it */
                loco_env_action want;
                mirror = obs;
                loco_env_demo_act(d, 0, &mirror, &want);
                same &= !memcmp(&want, &act, sizeof act);
                loco_env_step(e);
                steps++;
                if (te || tr) { wins += su; break; }
            }
        }
        CHECK(same && wins == 3, "%s: %d/3 wins through the pipe, same actions as in-process: %d (%d steps)", tasks[ti],
              wins, same, steps);
        /* a malformed line: an error line, the session goes on, exit 1 */
        fprintf(c.to, "{\"utterance\": 3}\nnot json\n");
        fflush(c.to);
        int errs = 0;
        for (int k = 0; k < 2 && fgets(line, sizeof line, c.from); k++) errs += !strncmp(line, "{\"error\": ", 10);
        CHECK(errs == 2, "%d error lines for 2 bad lines", errs);
        char *s = obs_json(&obs, 1);
        fprintf(c.to, "%s\n", s);
        free(s);
        fflush(c.to);
        CHECK(fgets(line, sizeof line, c.from) && strstr(line, "action_type"), "no action after the errors: %s", line);
        CHECK(finish(&c) == 1, "exit status after bad lines");
        loco_env_demo_free(d);
        loco_env_free(e);
    }
}

LOCO_TEST(agent_act_flags) {
    char err[1024];
    struct { const char *args; int code; } bad[] = {
        {"agent act", 2}, {"agent act --policy oracle", 2}, {"agent act --policy oracle --task nope", 2},
        {"agent act --policy random --task click-test", 2}, {"agent act --checkpoint /nonexistent.safetensors", 1},
        {"agent act --checkpoint x --policy oracle --task click-test", 2},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int rc = loco_test_run(bad[k].args, err, sizeof err), lines = 0;
        for (char *p = err; *p; p++) lines += *p == '\n';
        CHECK(rc == bad[k].code && lines == 1, "'%s': exit %d, %d lines: %s", bad[k].args, rc, lines, err);
    }
}

/* A trained agent behind the pipe (a small untrained network saved as a
 * checkpoint): its actions are those the same network chooses in-process
 * on the same observations, with its recurrent state carried across lines. */
LOCO_TEST(agent_act_checkpoint) {
    loco_agent_config cfg;
    loco_agent_config_small(&cfg);
    cfg.obs = LOCO_OBS_DOM; cfg.d_model = 32; cfg.mmt_heads = 2; cfg.lstm_hidden = 32; cfg.word_dim = 16; cfg.str_heads = 2;
    loco_agent *m;
    char msg[256], path[] = "/tmp/loco_act_XXXXXX.safetensors";
    int fd = mkstemps(path, 12);
    CHECK(fd >= 0, "mkstemps");
    close(fd);
    CHECK(!loco_agent_create(&m, &cfg, 1, 1, 5, msg, sizeof msg), "create: %s", msg);
    loco_agent_ckpt_meta meta = {0};
    CHECK(!loco_agent_save(path, m, &meta, 0, msg, sizeof msg), "save: %s", msg);
    const char *argv[] = {loco_test_bin(), "agent", "act", "--checkpoint", path, NULL};
    child c = {0};
    if (spawn(&c, argv)) { FAIL("spawn"); loco_agent_free(m); return; }
    int t = loco_env_task_find("enter-text");
    static loco_env_obs obs;
    loco_env_action act;
    float rew;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &rew, &te, &tr, &su, &er};
    loco_env_config ec = {.num_envs = 1, .task = t};
    loco_env *e;
    CHECK(!loco_env_create(&e, &ec, &b, msg, sizeof msg), "%s", msg);
    loco_agent_batch_buf bb = {0};
    CHECK(!loco_agent_batch_buf_alloc(&bb, &cfg, 1, 1), "batch");
    loco_env_reset_one(e, 0, 3);
    loco_agent_reset_state(m);
    int same = 1, valid = 1, n = 0;
    static char line[1 << 16];
    while (n < 12) {
        char *s = obs_json(&obs, 1);
        fprintf(c.to, "%s\n", s);
        fflush(c.to);
        free(s);
        loco_env_action got;
        if (!fgets(line, sizeof line, c.from) || !parse_action(line, &got)) { same = 0; break; }
        valid &= loco_env_action_check(&got, &obs) == LOCO_OK;
        if (obs.step == 0) loco_agent_reset_state(m);
        loco_agent_encode_obs(&cfg, &obs, NULL, &bb, 0);
        bb.first[0] = obs.step == 0;
        bb.valid[0] = 1;
        bb.view.target = NULL;
        CHECK(!loco_agent_forward(m, &bb.view, msg, sizeof msg), "forward: %s", msg);
        loco_agent_carry_state(m);
        loco_agent_action ch;
        loco_agent_choose(m, 0, NULL, &ch);
        loco_env_action want;
        loco_agent_action_to_env(&ch, &want);
        same &= !memcmp(&want, &got, sizeof got);
        act = got;
        loco_env_step(e);
        n++;
        if (te || tr) loco_env_reset_one(e, 0, 3 + (uint64_t)n);   /* a new episode: step 0 again */
    }
    CHECK(same && valid && n == 12, "%d steps: same actions %d, valid %d", n, same, valid);
    CHECK(finish(&c) == 0, "exit status");
    loco_agent_batch_buf_free(&bb);
    loco_env_free(e);
    loco_agent_free(m);
    unlink(path);
}
