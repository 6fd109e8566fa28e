/*
 * A minimal W3C WebDriver client: one chromedriver process (in its own
 * process group, so that it and the Chromium it starts die together), one
 * session, requests over libcurl with a timeout, JSON through cJSON.
 */
#ifndef LOCO_ENV_BROWSER_WD_H
#define LOCO_ENV_BROWSER_WD_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;               /* chromedriver; also the process group id */
    int   port;
    char  session[64];
    char  tmp[256];          /* a fresh directory: the profile and Chromium's TMPDIR */
    void *curl;              /* CURL *, reused so the connection stays open */
    struct curl_slist *headers;
    int   timeout_ms;
    char  err[256];          /* the last failure */
    char *resp;              /* response body buffer */
    size_t resp_n, resp_cap;
} loco__wd;

/* Starts chromedriver and a headless Chromium session.  0, or -1 with wd->err. */
int   loco__wd_start(loco__wd *wd, const char *chromedriver, const char *chromium, int timeout_ms);
/* Ends the session and kills the process group; removes wd->tmp. */
void  loco__wd_stop(loco__wd *wd);
/* One command: method "GET"/"POST"/"DELETE", path under the session
 * ("" for the session itself) and a body (consumed; NULL for none).
 * Returns the response's "value" (free with cJSON_Delete), or NULL with
 * wd->err on a transport failure, a timeout or a WebDriver error. */
cJSON *loco__wd_cmd(loco__wd *wd, const char *method, const char *path, cJSON *body);
/* Runs a script in the page (execute/sync) with no arguments. */
cJSON *loco__wd_exec(loco__wd *wd, const char *script);
/* Performs a list of W3C input sources ({"actions": sources}); 0 or -1. */
int   loco__wd_actions(loco__wd *wd, cJSON *sources);

#endif
