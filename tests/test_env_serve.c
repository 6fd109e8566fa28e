/*
 * `loco env serve`: a person's clicks, drags, wheel and keys, sent through
 * the page in headless Chromium (W3C WebDriver input, as a person's would
 * arrive), reach the native engine; the recorded episodes replay bit for bit
 * (loco env demos --check); the server refuses bad flags in one line and
 * survives a stream of garbage and malformed requests.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "env/browser/wd.h"
#include "loco/env.h"
#include "proc.h"
#include "test.h"
#include "util.h"

static int have_chromium(void) { return !access("/usr/bin/chromium", X_OK) && !access("/usr/bin/chromedriver", X_OK); }

static int pick_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int port = -1;
    if (s >= 0 && !bind(s, (struct sockaddr *)&a, sizeof a) && !getsockname(s, (struct sockaddr *)&a, &n)) port = ntohs(a.sin_port);
    if (s >= 0) close(s);
    return port;
}

/* Sends raw bytes to 127.0.0.1:port and reads the answer (up to cap). */
static long raw_request(int port, const void *req, size_t n, char *ans, size_t cap) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a)) { if (s >= 0) close(s); return -1; }
    struct timeval tv = {3, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(s, (const char *)req + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    shutdown(s, SHUT_WR);
    long got = 0;
    for (;;) {
        ssize_t r = recv(s, ans + got, cap - 1 - (size_t)got, 0);
        if (r <= 0 || (size_t)(got + r) >= cap - 1) { if (r > 0) got += r; break; }
        got += r;
    }
    ans[got < 0 ? 0 : got] = 0;
    close(s);
    return got;
}

static int wait_serving(int port) {
    char ans[256];
    for (int k = 0; k < 100; k++) {
        if (raw_request(port, "GET /nothing HTTP/1.0\r\n\r\n", 25, ans, sizeof ans) > 0) return 1;
        usleep(50000);
    }
    return 0;
}

LOCO_TEST(env_serve_bad_flags) {
    struct { const char *args; int code; } bad[] = {
        {"env serve --task no-such-task", 2}, {"env serve --listen localhost", 2},
        {"env serve --out /dev/null", 1}, {"env serve --port 0", 2}, {"env serve --episodes 0", 2},
    };
    char err[1024];
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int rc = loco_test_run(bad[k].args, err, sizeof err), lines = 0;
        for (char *p = err; *p; p++) lines += *p == '\n';
        CHECK(rc == bad[k].code && lines == 1, "'%s': exit %d, %d lines: %s", bad[k].args, rc, lines, err);
    }
}

/* Garbage, malformed HTTP and malformed actions: refused, and the server
 * still answers; SIGTERM then stops it with one line. */
LOCO_TEST(env_serve_garbage) {
    char d[] = "/tmp/loco_serve_XXXXXX", args[512], log[300], ans[4096];
    CHECK(mkdtemp(d) != NULL, "mkdtemp");
    int port = pick_port();
    snprintf(args, sizeof args, "env serve --task click-test --port %d --out %s/h.demos", port, d);
    snprintf(log, sizeof log, "%s/log", d);
    pid_t pid = loco_test_start(args, log);
    CHECK(wait_serving(port), "the server did not come up");
    uint64_t x = 0x9E3779B97F4A7C15ull;
    static char junk[70000];
    for (int round = 0; round < 40; round++) {
        size_t n = 1 + (size_t)(round * 1777 % (sizeof junk - 1));
        for (size_t i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; junk[i] = (char)x; }
        if (round % 4 == 1) memcpy(junk, "POST /step HTTP/1.1\r\n", 21);   /* a request line, then noise */
        raw_request(port, junk, n, ans, sizeof ans);
    }
    static const char *const bodies[] = {"", "2", "2 10 10", "2 10 10 0 0", "99 0 0 0", "2 51 0 0", "2 -1 0 0",
                                          "8 0 0 104", "2  10 10 0", "2 10 10 0\n\n", "10 0 0 0", "2 0x1 0 0",
                                          "2 1000000000000 0 0"};
    int refused = 0;
    for (size_t k = 0; k < sizeof bodies / sizeof *bodies; k++) {
        char req[512];
        int n = snprintf(req, sizeof req, "POST /step HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s", strlen(bodies[k]), bodies[k]);
        raw_request(port, req, (size_t)n, ans, sizeof ans);
        refused += strstr(ans, " 400 ") && strstr(ans, "malformed action");
    }
    CHECK(refused == (int)(sizeof bodies / sizeof *bodies), "%d of %zu malformed actions refused", refused,
          sizeof bodies / sizeof *bodies);
    /* a body past the limit, other methods and paths */
    static char big[300000];
    int n = snprintf(big, sizeof big, "POST /step HTTP/1.0\r\nContent-Length: 200000\r\n\r\n");
    memset(big + n, '1', 200000);
    raw_request(port, big, (size_t)n + 200000, ans, sizeof ans);
    raw_request(port, "DELETE / HTTP/1.0\r\n\r\n", 21, ans, sizeof ans);
    CHECK(strstr(ans, " 405 ") != NULL, "DELETE: %.80s", ans);
    raw_request(port, "GET /../../etc/passwd HTTP/1.0\r\n\r\n", 34, ans, sizeof ans);
    CHECK(strstr(ans, " 404 ") != NULL, "GET /../..: %.80s", ans);
    raw_request(port, "POST /state HTTP/1.0\r\n\r\n", 24, ans, sizeof ans);
    CHECK(strstr(ans, " 200 ") && strstr(ans, "\"step\":0"), "the server after the garbage: %.120s", ans);
    CHECK(loco_test_ended(pid) == -2, "the server exited");
    kill(pid, SIGTERM);
    int rc = loco_test_finish(pid, 10);
    long len = loco_test_slurp(log, ans, sizeof ans);
    CHECK(rc == 1 && len > 0 && strstr(ans, "stopped after 0 episodes"), "exit %d: %s", rc, ans);
    loco_test_rmdir(d);
}

/* The canvas point of a page pixel, through the page's own geometry. */
static int click_at(loco__wd *wd, float px, float py, int kind) {
    cJSON *r = loco__wd_exec(wd, "var r = document.getElementById('page').getBoundingClientRect();"
                                 "return [r.left, r.top, r.width / 160, r.height / 210];");
    if (!cJSON_IsArray(r)) { cJSON_Delete(r); return -1; }
    double L = cJSON_GetArrayItem(r, 0)->valuedouble, T = cJSON_GetArrayItem(r, 1)->valuedouble;
    double sx = cJSON_GetArrayItem(r, 2)->valuedouble, sy = cJSON_GetArrayItem(r, 3)->valuedouble;
    cJSON_Delete(r);
    /* the bin's centre, so that the page and the engine agree on the bin */
    double cx = loco_env_bin_x(loco_env_x_bin(px)), cy = loco_env_bin_y(loco_env_y_bin(py));
    char js[1024];
    int x = (int)(L + cx * sx), y = (int)(T + cy * sy);
    if (kind == 0)   /* a click */
        snprintf(js, sizeof js, "{\"actions\":[{\"type\":\"pointer\",\"id\":\"m\",\"actions\":["
                 "{\"type\":\"pointerMove\",\"origin\":\"viewport\",\"x\":%d,\"y\":%d},"
                 "{\"type\":\"pointerDown\",\"button\":0},{\"type\":\"pointerUp\",\"button\":0}]}]}", x, y);
    else if (kind == 1)   /* a drag of 30 px to the right and down */
        snprintf(js, sizeof js, "{\"actions\":[{\"type\":\"pointer\",\"id\":\"m\",\"actions\":["
                 "{\"type\":\"pointerMove\",\"origin\":\"viewport\",\"x\":%d,\"y\":%d},{\"type\":\"pointerDown\",\"button\":0},"
                 "{\"type\":\"pointerMove\",\"origin\":\"viewport\",\"x\":%d,\"y\":%d,\"duration\":50},"
                 "{\"type\":\"pointerMove\",\"origin\":\"viewport\",\"x\":%d,\"y\":%d,\"duration\":50},"
                 "{\"type\":\"pointerUp\",\"button\":0}]}]}", x, y, x + 45, y + 45, x + 90, y + 90);
    else   /* the wheel */
        snprintf(js, sizeof js, "{\"actions\":[{\"type\":\"wheel\",\"id\":\"w\",\"actions\":["
                 "{\"type\":\"scroll\",\"origin\":\"viewport\",\"x\":%d,\"y\":%d,\"deltaX\":0,\"deltaY\":100}]}]}", x, y);
    cJSON *b = cJSON_Parse(js);
    cJSON *v = loco__wd_cmd(wd, "POST", "actions", b);
    cJSON_Delete(v);
    return v ? 0 : -1;
}

static int type_keys(loco__wd *wd, const char *s) {
    cJSON *list = cJSON_CreateArray(), *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "type", "key");
    cJSON_AddStringToObject(src, "id", "k");
    cJSON *acts = cJSON_AddArrayToObject(src, "actions");
    for (; *s; s++) {
        char ch[2] = {*s, 0};
        for (int up = 0; up < 2; up++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddStringToObject(a, "type", up ? "keyUp" : "keyDown");
            cJSON_AddStringToObject(a, "value", ch);
            cJSON_AddItemToArray(acts, a);
        }
    }
    cJSON_AddItemToArray(list, src);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "actions", list);
    cJSON *v = loco__wd_cmd(wd, "POST", "actions", b);
    cJSON_Delete(v);
    return v ? 0 : -1;
}

/* Waits until the page has sent every queued action and has the answer. */
static cJSON *settled(loco__wd *wd) {
    for (int k = 0; k < 200; k++) {
        cJSON *v = loco__wd_exec(wd, "return window.locoState && window.locoSent === window.locoDone ? "
                                     "{episode: locoState.episode, step: locoState.step, finished: locoState.finished,"
                                     " elems: locoState.elems, fields: locoState.fields, ret: locoState.last_return} : null;");
        if (cJSON_IsObject(v)) return v;
        cJSON_Delete(v);
        usleep(20000);
    }
    return NULL;
}

static int find(const cJSON *st, const char *tag, const char *text, float *x, float *y) {
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "elems")) {
        if (strcmp(cJSON_GetObjectItem(e, "tag")->valuestring, tag)) continue;
        if (text && strcmp(cJSON_GetObjectItem(e, "text")->valuestring, text)) continue;
        *x = (float)(cJSON_GetObjectItem(e, "left")->valuedouble + cJSON_GetObjectItem(e, "width")->valuedouble / 2);
        *y = (float)(cJSON_GetObjectItem(e, "top")->valuedouble + cJSON_GetObjectItem(e, "height")->valuedouble / 2);
        return 1;
    }
    return 0;
}

LOCO_TEST(env_serve_chromium) {
    if (!have_chromium()) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    char d[] = "/tmp/loco_serve_XXXXXX", args[512], log[300], ans[4096], url[128];
    CHECK(mkdtemp(d) != NULL, "mkdtemp");
    int port = pick_port();
    snprintf(args, sizeof args, "env serve --task enter-text --port %d --episodes 2 --seed 5 --out %s/h.demos", port, d);
    snprintf(log, sizeof log, "%s/log", d);
    pid_t pid = loco_test_start(args, log);
    CHECK(wait_serving(port), "the server did not come up");
    loco__wd wd;
    if (loco__wd_start(&wd, "chromedriver", "/usr/bin/chromium", 20000)) {
        FAIL("chromium: %s", wd.err);
        loco__wd_stop(&wd);
        kill(pid, SIGKILL);
        loco_test_finish(pid, 5);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    cJSON_AddStringToObject(b, "url", url);
    cJSON_Delete(loco__wd_cmd(&wd, "POST", "url", b));
    cJSON *st = settled(&wd);
    /* the whole task area in the 800x600 window */
    cJSON_Delete(loco__wd_exec(&wd, "window.scrollTo(0, document.getElementById('page').offsetTop); return 1;"));
    float ix, iy, sx, sy;
    const char *word = NULL;
    CHECK(st && find(st, "INPUT_text", NULL, &ix, &iy) && find(st, "BUTTON", "Submit", &sx, &sy), "the page's state");
    const cJSON *f0 = st ? cJSON_GetArrayItem(cJSON_GetObjectItem(st, "fields"), 0) : NULL;
    word = f0 ? cJSON_GetArrayItem(f0, 1)->valuestring : NULL;
    char target[64];
    snprintf(target, sizeof target, "%s", word ? word : "?");
    cJSON_Delete(st);
    /* episode 1: a wheel turn and a drag (recorded, harmless), then click
     * the field, type the word key by key, click Submit: success */
    CHECK(!click_at(&wd, 80, 150, 2) && !click_at(&wd, 20, 120, 1), "wheel and drag: %s", wd.err);
    CHECK(!click_at(&wd, ix, iy, 0) && !type_keys(&wd, target) && (st = settled(&wd)) != NULL, "type");
    {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "elems"))
            if (!strcmp(cJSON_GetObjectItem(e, "tag")->valuestring, "INPUT_text"))
                CHECK(!strcmp(cJSON_GetObjectItem(e, "value")->valuestring, target), "typed '%s', the field holds '%s'",
                      target, cJSON_GetObjectItem(e, "value")->valuestring);
    }
    int steps_before = st ? cJSON_GetObjectItem(st, "step")->valueint : 0;
    cJSON_Delete(st);
    CHECK(steps_before >= 1 + 3 + 1 + (int)strlen(target), "%d steps for a wheel, a drag, a click and %zu keys",
          steps_before, strlen(target));
    CHECK(!click_at(&wd, sx, sy, 0) && (st = settled(&wd)) != NULL, "submit");
    CHECK(st && cJSON_GetObjectItem(st, "episode")->valueint == 1 && cJSON_GetObjectItem(st, "ret")->valuedouble > 0,
          "episode 1 did not end in a success");
    /* episode 2: a wrong word, then Submit: recorded as a failure */
    if (st && find(st, "INPUT_text", NULL, &ix, &iy) && find(st, "BUTTON", "Submit", &sx, &sy)) {
        cJSON_Delete(st);
        CHECK(!click_at(&wd, ix, iy, 0) && !type_keys(&wd, "zz") && !click_at(&wd, sx, sy, 0) && (st = settled(&wd)),
              "episode 2");
    }
    CHECK(st && cJSON_GetObjectItem(st, "finished")->valueint == 1 && cJSON_GetObjectItem(st, "episode")->valueint == 2,
          "after two episodes the server is not finished");
    cJSON_Delete(st);
    loco__wd_stop(&wd);
    int rc = loco_test_finish(pid, 10);
    loco_test_slurp(log, ans, sizeof ans);
    CHECK(rc == 0 && strstr(ans, "episode 1: success") && strstr(ans, "episode 2: no success"), "exit %d: %s", rc, ans);
    /* the recorded episodes replay bit for bit */
    snprintf(args, sizeof args, "env demos --check %s/h.demos", d);
    char err[1024];
    rc = loco_test_run(args, err, sizeof err);
    CHECK(rc == 0, "replay check: exit %d: %s", rc, err);
    loco_env_episode *eps;
    int n;
    char path[300], msg[256];
    snprintf(path, sizeof path, "%s/h.demos", d);
    CHECK(!loco_env_demos_read(path, &eps, &n, msg, sizeof msg) && n == 2, "read: %s", msg);
    if (n == 2) {
        int has[LOCO_ENV_NUM_ACTION_TYPES] = {0};
        for (int i = 0; i < eps[0].n_steps; i++) has[eps[0].actions[i].type]++;
        CHECK(eps[0].success && !eps[1].success && eps[0].seed == 5 && eps[1].seed == 6, "successes %d %d seeds %llu %llu",
              eps[0].success, eps[1].success, (unsigned long long)eps[0].seed, (unsigned long long)eps[1].seed);
        CHECK(has[LOCO_ENV_SCROLL_DOWN_COORDS] && has[LOCO_ENV_MOUSEDOWN_COORDS] && has[LOCO_ENV_MOVE_COORDS] &&
              has[LOCO_ENV_MOUSEUP_COORDS] && has[LOCO_ENV_CLICK_COORDS] == 2 && has[LOCO_ENV_PRESS_KEY] == (int)strlen(target),
              "action types in episode 1: scroll %d down %d move %d up %d click %d key %d", has[LOCO_ENV_SCROLL_DOWN_COORDS],
              has[LOCO_ENV_MOUSEDOWN_COORDS], has[LOCO_ENV_MOVE_COORDS], has[LOCO_ENV_MOUSEUP_COORDS],
              has[LOCO_ENV_CLICK_COORDS], has[LOCO_ENV_PRESS_KEY]);
        free(eps);
    }
    loco_test_rmdir(d);
}
