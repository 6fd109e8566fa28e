/*
 * The W3C WebDriver client (wd.h).  chromedriver listens on a port chosen
 * here (bound once to port 0 to learn a free one); Chromium is started by it
 * with the flags that keep a headless browser quiet and self-contained, and
 * a fresh profile in a directory of its own that is removed afterwards.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "env/browser/wd.h"
#include "loco/browser.h"

/* Live chromedriver process groups, so that a signal handler can end them
 * (they are in groups of their own: a Ctrl-C at the terminal does not reach
 * them).  Slots are claimed and cleared atomically. */
#define MAX_LIVE 256
static volatile sig_atomic_t live[MAX_LIVE];

static void live_add(pid_t pg) {
    for (int i = 0; i < MAX_LIVE; i++)
        if (__sync_bool_compare_and_swap(&live[i], 0, (sig_atomic_t)pg)) return;
}
static void live_del(pid_t pg) {
    for (int i = 0; i < MAX_LIVE; i++) __sync_bool_compare_and_swap(&live[i], (sig_atomic_t)pg, 0);
}

void loco_browser_kill_all(void) {
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) kill(-(pid_t)live[i], SIGKILL);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_start(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    int port = -1;
    if (!bind(s, (struct sockaddr *)&a, sizeof a) && !getsockname(s, (struct sockaddr *)&a, &n)) port = ntohs(a.sin_port);
    close(s);
    return port;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ud) {
    loco__wd *wd = ud;
    size_t n = sz * nm;
    if (wd->resp_n + n + 1 > wd->resp_cap) {
        size_t cap = (wd->resp_n + n + 1) * 2;
        char *q = realloc(wd->resp, cap);
        if (!q) return 0;
        wd->resp = q; wd->resp_cap = cap;
    }
    memcpy(wd->resp + wd->resp_n, p, n);
    wd->resp_n += n;
    wd->resp[wd->resp_n] = 0;
    return n;
}

/* One HTTP request to chromedriver; the parsed body, or NULL with err. */
static cJSON *http(loco__wd *wd, const char *method, const char *url, const char *body, int timeout_ms) {
    CURL *c = wd->curl;
    wd->resp_n = 0;
    if (wd->resp) wd->resp[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (!strcmp(method, "POST")) {   /* WebDriver wants a JSON body on every POST */
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "{}");
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
    }
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(wd->err, sizeof wd->err, "%s %s: %s", method, url, curl_easy_strerror(rc));
        return NULL;
    }
    cJSON *j = wd->resp ? cJSON_Parse(wd->resp) : NULL;
    if (!j) snprintf(wd->err, sizeof wd->err, "%s %s: the answer is not JSON", method, url);
    return j;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st; (void)flag; (void)f;
    remove(p);
    return 0;
}

/* Starts chromedriver on wd->port and waits until it answers (*ready) or
 * 15 s pass.  Returns 0 once started (ready or not), 1 if it exited at start
 * (reason in wd->err), -1 on another failure. */
static int driver_start(loco__wd *wd, const char *driver, int *ready) {
    char port_arg[32];
    snprintf(port_arg, sizeof port_arg, "--port=%d", wd->port);
    pid_t pid = fork();
    if (pid < 0) { snprintf(wd->err, sizeof wd->err, "fork: %s", strerror(errno)); return -1; }
    if (pid == 0) {
        setpgid(0, 0);
        int dn = open("/dev/null", O_RDWR);
        if (dn >= 0) { dup2(dn, 0); dup2(dn, 1); dup2(dn, 2); }
        setenv("TMPDIR", wd->tmp, 1);   /* Chromium's org.chromium.Chromium.* leftovers land here */
        execlp(driver, driver, port_arg, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    wd->pid = pid;
    live_add(pid);

    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/status", wd->port);
    *ready = 0;
    for (int waited = 0; waited < 15000 && !*ready; waited += 50) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            live_del(pid);
            wd->pid = -1;
            snprintf(wd->err, sizeof wd->err, "%s exited at start (status %d)", driver, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
            return 1;
        }
        cJSON *j = http(wd, "GET", url, NULL, 1000);
        cJSON *v = j ? cJSON_GetObjectItem(j, "value") : NULL;
        *ready = v && cJSON_IsTrue(cJSON_GetObjectItem(v, "ready"));
        cJSON_Delete(j);
        if (!*ready) sleep_ms(50);
    }
    return 0;
}

int loco__wd_start(loco__wd *wd, const char *driver, const char *chromium, int timeout_ms) {
    memset(wd, 0, sizeof *wd);
    wd->pid = -1;
    wd->timeout_ms = timeout_ms;
    snprintf(wd->tmp, sizeof wd->tmp, "%s/loco-browser-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(wd->tmp)) {
        snprintf(wd->err, sizeof wd->err, "cannot make a temporary directory: %s", strerror(errno));
        wd->tmp[0] = 0;
        return -1;
    }
    pthread_once(&curl_once, curl_start);   /* curl_global_init is not thread-safe; browsers start in threads */
    wd->curl = curl_easy_init();
    if (!wd->curl) { snprintf(wd->err, sizeof wd->err, "no libcurl handle"); return -1; }
    curl_easy_setopt(wd->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(wd->curl, CURLOPT_WRITEDATA, wd);
    curl_easy_setopt(wd->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(wd->curl, CURLOPT_PROXY, "");
    wd->headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(wd->curl, CURLOPT_HTTPHEADER, wd->headers);

    /* The port is free when free_port() closes it, but another process may
     * take it before chromedriver binds it, and then chromedriver exits at
     * once: such a start is tried again on another port, three times in all. */
    int ready = 0;
    for (int attempt = 0;; attempt++) {
        wd->port = free_port();
        if (wd->port <= 0) { snprintf(wd->err, sizeof wd->err, "no socket for chromedriver's port"); return -1; }
        const int e = driver_start(wd, driver, &ready);
        if (e == 0) break;                       /* running, ready or not */
        if (e < 0 || attempt == 2) return -1;    /* wd->err says how */
    }
    if (!ready) { snprintf(wd->err, sizeof wd->err, "%s did not answer on port %d", driver, wd->port); return -1; }

    /* The session: headless Chromium with a fresh profile (docs/browser.md). */
    char prof[300];
    snprintf(prof, sizeof prof, "--user-data-dir=%s/profile", wd->tmp);
    const char *args[] = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--disable-dev-shm-usage", "--window-size=800,600", "--hide-scrollbars", prof};
    cJSON *caps = cJSON_CreateObject(), *am = cJSON_AddObjectToObject(cJSON_AddObjectToObject(caps, "capabilities"), "alwaysMatch");
    cJSON_AddStringToObject(am, "browserName", "chrome");
    cJSON *opt = cJSON_AddObjectToObject(am, "goog:chromeOptions");
    cJSON_AddStringToObject(opt, "binary", chromium);
    cJSON *arr = cJSON_AddArrayToObject(opt, "args");
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(args[i]));
    char *body = cJSON_PrintUnformatted(caps);
    cJSON_Delete(caps);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/session", wd->port);
    cJSON *j = body ? http(wd, "POST", url, body, timeout_ms > 30000 ? timeout_ms : 30000) : NULL;
    free(body);
    cJSON *v = j ? cJSON_GetObjectItem(j, "value") : NULL;
    cJSON *sid = v ? cJSON_GetObjectItem(v, "sessionId") : NULL;
    if (!cJSON_IsString(sid) || strlen(sid->valuestring) >= sizeof wd->session) {
        cJSON *m = v ? cJSON_GetObjectItem(v, "message") : NULL;
        if (j) snprintf(wd->err, sizeof wd->err, "no session: %.200s", cJSON_IsString(m) ? m->valuestring : "?");
        cJSON_Delete(j);
        return -1;
    }
    snprintf(wd->session, sizeof wd->session, "%s", sid->valuestring);
    cJSON_Delete(j);
    return 0;
}

void loco__wd_stop(loco__wd *wd) {
    if (wd->pid > 0 && wd->session[0]) {
        int t = wd->timeout_ms;
        wd->timeout_ms = 3000;
        cJSON_Delete(loco__wd_cmd(wd, "DELETE", "", NULL));
        wd->timeout_ms = t;
    }
    if (wd->pid > 0) {
        kill(-wd->pid, SIGKILL);
        kill(wd->pid, SIGKILL);
        waitpid(wd->pid, NULL, 0);
        live_del(wd->pid);
        wd->pid = -1;
    }
    if (wd->curl) curl_easy_cleanup(wd->curl);
    wd->curl = NULL;
    curl_slist_free_all(wd->headers);
    wd->headers = NULL;
    free(wd->resp);
    wd->resp = NULL; wd->resp_n = wd->resp_cap = 0;
    if (wd->tmp[0]) nftw(wd->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    wd->tmp[0] = 0;
    wd->session[0] = 0;
}

cJSON *loco__wd_cmd(loco__wd *wd, const char *method, const char *path, cJSON *body) {
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/session/%s%s%s", wd->port, wd->session, *path ? "/" : "", path);
    char *b = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!wd->curl || wd->pid <= 0) { free(b); snprintf(wd->err, sizeof wd->err, "no browser"); return NULL; }
    cJSON *j = http(wd, method, url, b, wd->timeout_ms);
    free(b);
    if (!j) return NULL;
    cJSON *v = cJSON_DetachItemFromObject(j, "value");
    cJSON_Delete(j);
    cJSON *e = v && cJSON_IsObject(v) ? cJSON_GetObjectItem(v, "error") : NULL;
    if (cJSON_IsString(e)) {
        cJSON *m = cJSON_GetObjectItem(v, "message");
        snprintf(wd->err, sizeof wd->err, "%s: %.200s", e->valuestring, cJSON_IsString(m) ? m->valuestring : "");
        cJSON_Delete(v);
        return NULL;
    }
    if (!v) { snprintf(wd->err, sizeof wd->err, "%s %s: no value", method, path); return NULL; }
    return v;
}

cJSON *loco__wd_exec(loco__wd *wd, const char *script) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "script", script);
    cJSON_AddArrayToObject(b, "args");
    return loco__wd_cmd(wd, "POST", "execute/sync", b);
}

int loco__wd_actions(loco__wd *wd, cJSON *sources) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "actions", sources);
    cJSON *v = loco__wd_cmd(wd, "POST", "actions", b);
    int ok = v != NULL;
    cJSON_Delete(v);
    return ok ? 0 : -1;
}
