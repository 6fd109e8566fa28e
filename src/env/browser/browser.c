/*
 * The browser backend (loco/browser.h): one chromedriver + Chromium per
 * loco_browser, MiniWoB++ pages driven as the MiniWoB++ Python package
 * drives them (miniwob/selenium_instance.py):
 *
 *   reset:  core.endEpisode(0); Math.seedrandom(seed); core.setDataMode("train");
 *           core.startEpisodeReal(); wait for WOB_TASK_READY (50 ms polls, 1 s)
 *   step:   the action (W3C input sources, or core.elementClick(ref)), then one
 *           script reading WOB_DONE_GLOBAL, WOB_REWARD_GLOBAL,
 *           WOB_RAW_REWARD_GLOBAL, WOB_REWARD_REASON, core.getUtterance() and
 *           core.getDOMInfo() in a single round trip
 *
 * Fields are computed once per episode, as the package caches them: from the
 * page when core.getUtterance() returns {utterance, fields}, else by the
 * checkout's miniwob/fields.py in a python3 process that lives as long as
 * the browser, else none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "env/browser/internal.h"
#include "env/browser/wd.h"

struct loco_browser {
    loco_browser_config cfg;
    char dir[512], chromium[512], driver[512], python[512], fields_py[600];
    loco__wd wd;
    int  up;                  /* the browser is running */
    char page[64];            /* the task page loaded, "" for none */
    int  restarts;
    pid_t fpid;               /* the fields.py helper, or -1 */
    FILE *fin, *fout;         /* its stdin and stdout */
    loco_env_obs last;        /* fields, for TYPE_FIELD */
    int  steps, done;
    uint64_t seed;
    int  task;
    double t0;
    float cx, cy;
};

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int is_file(const char *p) {
    struct stat st;
    return !stat(p, &st) && S_ISREG(st.st_mode);
}

/* Finds an executable: an absolute or relative path as given, else on PATH. */
static int find_exe(const char *name, char *out, size_t cap) {
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, X_OK) == 0 && is_file(out);
    }
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(out, cap, "%.*s/%s", (int)n, path, name);
        if (access(out, X_OK) == 0 && is_file(out)) return 1;
        path += n + (path[n] == ':');
    }
    return 0;
}

int loco_browser_page_path(const char *dir, const char *task, char *out, size_t cap) {
    static const char *const sub[] = {"miniwob/html/miniwob", "html/miniwob", "miniwob", "."};
    for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) {
        snprintf(out, cap, "%s/%s/%s.html", dir, sub[i], task);
        if (is_file(out)) return LOCO_OK;
    }
    out[0] = 0;
    return LOCO_EIO;
}

/* ---------------------------------------------------------------- fields */

static const char fields_script[] =
    "import sys, json, importlib.util\n"
    "s = importlib.util.spec_from_file_location('miniwob_fields', sys.argv[1])\n"
    "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
    "for line in sys.stdin:\n"
    "    q = json.loads(line)\n"
    "    try: f = [[str(k), str(v)] for k, v in m.get_field_extractor(q[0])(q[1])]\n"
    "    except Exception: f = None\n"
    "    sys.stdout.write(json.dumps(f) + '\\n'); sys.stdout.flush()\n";

static void fields_stop(loco_browser *b) {
    if (b->fin) fclose(b->fin);
    if (b->fout) fclose(b->fout);
    b->fin = b->fout = NULL;
    if (b->fpid > 0) { kill(b->fpid, SIGKILL); waitpid(b->fpid, NULL, 0); }
    b->fpid = -1;
}

static void fields_start(loco_browser *b) {
    b->fpid = -1;
    if (!b->fields_py[0] || !b->python[0]) return;
    int in[2], out[2];
    if (pipe(in)) return;
    if (pipe(out)) { close(in[0]); close(in[1]); return; }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl(b->python, b->python, "-c", fields_script, b->fields_py, (char *)NULL);
        _exit(127);
    }
    close(in[0]); close(out[1]);
    if (pid < 0) { close(in[1]); close(out[0]); return; }
    b->fpid = pid;
    b->fin = fdopen(in[1], "w");
    b->fout = fdopen(out[0], "r");
    if (!b->fin || !b->fout) fields_stop(b);
}

/* Fields of the episode: the page's own, else fields.py's, else none. */
static void episode_fields(loco_browser *b, const cJSON *u, loco_env_obs *o) {
    o->n_fields = 0;
    if (cJSON_IsObject(u)) { loco__obs_fields(o, cJSON_GetObjectItem(u, "fields")); return; }
    if (!b->fin) return;
    cJSON *q = cJSON_CreateArray();
    cJSON_AddItemToArray(q, cJSON_CreateString(b->page));
    cJSON_AddItemToArray(q, cJSON_CreateString(o->utterance));
    char *line = cJSON_PrintUnformatted(q);
    cJSON_Delete(q);
    static __thread char ans[16384];
    /* A helper that died must not take this process with it: SIGPIPE is
     * blocked around the write (and a pending one taken), and the answer is
     * awaited no longer than a browser command. */
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    int sent = line && fprintf(b->fin, "%s\n", line) > 0 && !fflush(b->fin);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) > 0) {}
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    struct pollfd pf = {.fd = fileno(b->fout), .events = POLLIN};
    if (sent && poll(&pf, 1, b->cfg.timeout_ms) == 1 && fgets(ans, sizeof ans, b->fout)) {
        cJSON *f = cJSON_Parse(ans);
        loco__obs_fields(o, f);
        cJSON_Delete(f);
    } else {
        fields_stop(b);   /* the helper died: go on without it */
    }
    free(line);
}

/* ---------------------------------------------------------------- browser */

static int up(loco_browser *b) {
    if (b->up) return 0;
    if (loco__wd_start(&b->wd, b->driver, b->chromium, b->cfg.timeout_ms)) {
        loco__wd_stop(&b->wd);
        return -1;
    }
    b->up = 1;
    b->page[0] = 0;
    return 0;
}

static void down(loco_browser *b, int graceful) {
    if (!graceful) b->wd.session[0] = 0;   /* a broken browser is killed without a goodbye */
    loco__wd_stop(&b->wd);
    b->up = 0;
    b->page[0] = 0;
}

int loco_browser_create(loco_browser **out, const loco_browser_config *cfg, char *msg, size_t msglen) {
    *out = NULL;
    if (!cfg->miniwob_dir) { snprintf(msg, msglen, "no MiniWoB++ directory given (miniwob_dir)"); return LOCO_EINVAL; }
    loco_browser *b = calloc(1, sizeof *b);
    if (!b) return LOCO_ENOMEM;
    b->cfg = *cfg;
    if (b->cfg.timeout_ms <= 0) b->cfg.timeout_ms = 20000;
    b->fpid = -1;
    snprintf(b->dir, sizeof b->dir, "%s", cfg->miniwob_dir);
    struct stat st;
    if (stat(b->dir, &st) || !S_ISDIR(st.st_mode)) {
        snprintf(msg, msglen, "%s: not a directory (a MiniWoB++ checkout: scripts/fetch_miniwob.sh)", b->dir);
        free(b);
        return LOCO_EINVAL;
    }
    if (!find_exe(cfg->chromium ? cfg->chromium : "chromium", b->chromium, sizeof b->chromium)) {
        snprintf(msg, msglen, "no chromium (apt-get install chromium chromium-driver)");
        free(b);
        return LOCO_ENOTSUP;
    }
    if (!find_exe(cfg->chromedriver ? cfg->chromedriver : "chromedriver", b->driver, sizeof b->driver)) {
        snprintf(msg, msglen, "no chromedriver (apt-get install chromium-driver)");
        free(b);
        return LOCO_ENOTSUP;
    }
    if (!find_exe(cfg->python ? cfg->python : "/usr/bin/python3", b->python, sizeof b->python)) b->python[0] = 0;
    static const char *const fsub[] = {"miniwob/fields.py", "../../fields.py", "../fields.py"};
    for (size_t i = 0; i < sizeof fsub / sizeof *fsub && !b->fields_py[0]; i++) {
        snprintf(b->fields_py, sizeof b->fields_py, "%s/%s", b->dir, fsub[i]);
        if (!is_file(b->fields_py)) b->fields_py[0] = 0;
    }
    if (up(b)) {
        snprintf(msg, msglen, "chromium did not start: %s (chromium and chromium-driver must be the same version)", b->wd.err);
        free(b);
        return LOCO_EIO;
    }
    fields_start(b);
    *out = b;
    return LOCO_OK;
}

void loco_browser_free(loco_browser *b) {
    if (!b) return;
    down(b, 1);
    fields_stop(b);
    free(b);
}

int loco_browser_restarts(const loco_browser *b) { return b->restarts; }
int loco_browser_pgid(const loco_browser *b) { return b->up ? (int)b->wd.pid : -1; }

/* Evaluates a script; a boolean answer. */
static int exec_true(loco_browser *b, const char *script) {
    cJSON *v = loco__wd_exec(&b->wd, script);
    int t = cJSON_IsTrue(v);
    cJSON_Delete(v);
    return t;
}

static int load(loco_browser *b, const char *task, char *msg, size_t msglen) {
    char path[1024];
    if (loco_browser_page_path(b->dir, task, path, sizeof path)) {
        snprintf(msg, msglen, "no page for task '%s' under %s", task, b->dir);
        return LOCO_EINVAL;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) { snprintf(msg, msglen, "%s: %s", path, strerror(errno)); return LOCO_EINVAL; }
    cJSON *body = cJSON_CreateObject();
    char url[PATH_MAX + 16];
    snprintf(url, sizeof url, "file://%s", real);
    cJSON_AddStringToObject(body, "url", url);
    cJSON *v = loco__wd_cmd(&b->wd, "POST", "url", body);
    if (!v) { snprintf(msg, msglen, "%s", b->wd.err); return LOCO_EIO; }
    cJSON_Delete(v);
    for (int k = 0; k < 100; k++) {   /* the page's sync cover means core.js ran (5 s) */
        if (exec_true(b, "return typeof core !== 'undefined' && !!document.getElementById('sync-task-cover');")) {
            snprintf(b->page, sizeof b->page, "%s", task);
            return LOCO_OK;
        }
        if (!b->wd.session[0]) break;
        usleep(50000);
    }
    snprintf(msg, msglen, "%s: the page did not load (no core.js or no #sync-task-cover)", url);
    return LOCO_EIO;
}

static const char observe_js[] =
    "var u = core.getUtterance();"
    "return {done: !!WOB_DONE_GLOBAL, reward: +WOB_REWARD_GLOBAL, raw: +WOB_RAW_REWARD_GLOBAL,"
    " reason: WOB_REWARD_REASON == null ? '' : String(WOB_REWARD_REASON), u: u,"
    " dom: WOB_DONE_GLOBAL ? null : core.getDOMInfo()};";

/* Reads the page into obs; the metadata's object (caller frees), or NULL. */
static cJSON *observe(loco_browser *b, loco_env_obs *o, uint8_t *pixels, int new_episode) {
    cJSON *v = loco__wd_exec(&b->wd, observe_js);
    if (!cJSON_IsObject(v)) { cJSON_Delete(v); return NULL; }
    const cJSON *u = cJSON_GetObjectItem(v, "u"), *dom = cJSON_GetObjectItem(v, "dom");
    loco__obs_set_utterance(o, u);
    if (new_episode) episode_fields(b, u, o);
    else {
        o->n_fields = b->last.n_fields;
        memcpy(o->field_key, b->last.field_key, sizeof o->field_key);
        memcpy(o->field_value, b->last.field_value, sizeof o->field_value);
    }
    o->n_elems = 0;
    if (cJSON_IsObject(dom)) loco__obs_from_dom(dom, o);
    if (pixels) {
        cJSON *s = loco__wd_cmd(&b->wd, "GET", "screenshot", NULL);
        int ok = cJSON_IsString(s) && !loco__png_crop(s->valuestring, pixels);
        cJSON_Delete(s);
        if (!ok) { cJSON_Delete(v); return NULL; }
    }
    o->task = b->task;
    o->step = b->steps;
    o->seed = b->seed;
    o->time_ms = (float)(now_ms() - b->t0);
    o->cursor_x = b->cx;
    o->cursor_y = b->cy;
    b->last.n_fields = o->n_fields;
    memcpy(b->last.field_key, o->field_key, sizeof o->field_key);
    memcpy(b->last.field_value, o->field_value, sizeof o->field_value);
    return v;
}

static int try_reset(loco_browser *b, const char *task, uint64_t seed, loco_env_obs *o, uint8_t *pixels,
                     char *msg, size_t msglen) {
    if (up(b)) { snprintf(msg, msglen, "chromium did not start: %s", b->wd.err); return LOCO_EIO; }
    if (strcmp(b->page, task)) {
        int r = load(b, task, msg, msglen);
        if (r) return r;
    }
    char js[256];
    snprintf(js, sizeof js,
             "core.endEpisode(0); Math.seedrandom(%llu); core.setDataMode('train'); core.startEpisodeReal(); return true;",
             (unsigned long long)seed);
    if (!exec_true(b, js)) { snprintf(msg, msglen, "reset: %s", b->wd.err); return LOCO_EIO; }
    int ready = 0;
    for (int k = 0; k < 20 && !ready; k++) {   /* as the package: 50 ms polls, 1 s in all */
        ready = exec_true(b, "return !!WOB_TASK_READY;");
        if (!ready) usleep(50000);
    }
    if (!ready) { snprintf(msg, msglen, "%s: WOB_TASK_READY stayed false for 1 s", task); return LOCO_EIO; }
    memset(o, 0, sizeof *o);
    b->steps = 0; b->done = 0; b->seed = seed; b->cx = b->cy = 0;
    b->task = loco_env_task_find(task);
    b->t0 = now_ms();
    cJSON *v = observe(b, o, pixels, 1);
    if (!v) { snprintf(msg, msglen, "observe: %s", b->wd.err); return LOCO_EIO; }
    cJSON_Delete(v);
    return LOCO_OK;
}

int loco_browser_reset(loco_browser *b, const char *task, uint64_t seed, loco_env_obs *o, uint8_t *pixels,
                       char *msg, size_t msglen) {
    if (strlen(task) >= sizeof b->page) { snprintf(msg, msglen, "task name too long"); return LOCO_EINVAL; }
    int r = try_reset(b, task, seed, o, pixels, msg, msglen);
    if (r != LOCO_EIO) return r;
    /* a browser that fails a reset is restarted once before giving up */
    down(b, 0);
    b->restarts++;
    return try_reset(b, task, seed, o, pixels, msg, msglen);
}

/* A fault in the middle of an episode: restart, end the episode truncated. */
static void fault(loco_browser *b, loco_env_obs *o, float *reward, uint8_t *term, uint8_t *trunc, uint8_t *succ) {
    down(b, 0);
    b->restarts++;
    b->done = 1;
    o->n_elems = 0;
    *reward = 0; *term = 0; *trunc = 1; *succ = 0;
}

int loco_browser_step(loco_browser *b, const loco_env_action *a, loco_env_obs *o, uint8_t *pixels,
                      float *reward, uint8_t *term, uint8_t *trunc, uint8_t *succ) {
    *reward = 0; *term = *trunc = *succ = 0;
    int r = loco_env_action_check(a, NULL);
    if (r) return r;
    if (b->done) return LOCO_EINVAL;   /* the episode has ended: reset first */
    if (!b->up) { fault(b, o, reward, term, trunc, succ); return LOCO_OK; }
    int ok = 1;
    if (a->type == LOCO_ENV_CLICK_ELEMENT || a->type == LOCO_ENV_FOCUS_ELEMENT_AND_TYPE_FIELD) {
        char js[96];
        snprintf(js, sizeof js, "return core.elementClick(%d);", (int)a->ref);
        cJSON *v = loco__wd_exec(&b->wd, js);
        ok = v != NULL;   /* a ref that is not on the page answers false: not a fault */
        cJSON_Delete(v);
    }
    float x = b->cx, y = b->cy;
    cJSON *acts = ok ? loco__w3c_actions(a, &b->last, &x, &y) : NULL;
    if (acts) ok = !loco__wd_actions(&b->wd, acts);
    b->cx = x; b->cy = y;
    b->steps++;
    cJSON *v = ok ? observe(b, o, pixels, 0) : NULL;
    if (!v) { fault(b, o, reward, term, trunc, succ); return LOCO_OK; }
    o->prev_action = *a;
    int done = cJSON_IsTrue(cJSON_GetObjectItem(v, "done"));
    float env_r = (float)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "reward"));
    float raw = (float)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "raw"));
    const cJSON *why = cJSON_GetObjectItem(v, "reason");
    int timed_out = cJSON_IsString(why) && strstr(why->valuestring, "timed out");
    if (done) {
        *reward = b->cfg.reward == LOCO_ENV_REWARD_RAW ? raw
                : b->cfg.reward == LOCO_ENV_REWARD_BINARY ? (raw == 1.0f ? 1.0f : -1.0f) : env_r;
        *succ = raw == 1.0f;   /* miniwob.reward.get_binary_reward's predicate */
        if (timed_out) *trunc = 1; else *term = 1;
        b->done = 1;
    } else if (b->cfg.max_steps > 0 && b->steps >= b->cfg.max_steps) {
        *trunc = 1;
        b->done = 1;
    }
    cJSON_Delete(v);
    return LOCO_OK;
}
