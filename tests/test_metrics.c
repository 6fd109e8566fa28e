/* The JSONL metrics log, the SVG plot of logs, and the progress line. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/metrics.h"
#include "test.h"

/* Reads a whole small file into a static buffer; returns its length or -1. */
static long slurp(const char *path, char *buf, long cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    long n = (long)fread(buf, 1, (size_t)cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return n;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

LOCO_TEST(metrics_round_trip) {
    char dir[] = "/tmp/loco_metrics_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256], msg[256];
    snprintf(path, sizeof path, "%s/run.jsonl", dir);
    loco_metrics *m;
    CHECK(loco_metrics_open(&m, path, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (!m) return;
    const char *keys[] = {"loss", "lr", "tok_per_s", "time_s", "odd \"key\"\n", "bad"};
    double vals[][6] = {{2.31, 0.0006, 1234.5, 12.3, 1.0 / 3.0, NAN},
                        {1e-300, -0.0, 5e300, 123456789.123456789, M_PI, INFINITY}};
    CHECK(loco_metrics_log(m, "train", 100, keys, vals[0], 6) == LOCO_OK, "log");
    CHECK(loco_metrics_log(m, "eval", 200, keys, vals[1], 6) == LOCO_OK, "log");
    CHECK(loco_metrics_log(m, "train", 1, NULL, NULL, 0) == LOCO_OK, "log with no values");
    CHECK(loco_metrics_log(m, NULL, 1, keys, vals[0], 1) == LOCO_EINVAL, "NULL kind accepted");
    /* Flushed per line: the file holds every line before the log is closed. */
    static char text[1 << 14];
    CHECK(slurp(path, text, sizeof text) > 0 && count(text, "\n") == 3, "lines before close:\n%s", text);
    loco_metrics_close(m);
    CHECK(strstr(text, "{\"kind\":\"train\",\"step\":100,\"loss\":2.31,\"lr\":0.0006,") == text,
          "shortest round-trip numbers expected, got %.80s", text);

    char *line = text;
    const char *kinds[] = {"train", "eval", "train"};
    long steps[] = {100, 200, 1};
    for (int l = 0; l < 3; l++) {
        char *nl = strchr(line, '\n');
        if (!nl) { FAIL("line %d missing", l); break; }
        *nl = 0;
        cJSON *j = cJSON_Parse(line);
        CHECK(cJSON_IsObject(j), "line %d is not a JSON object: %s", l, line);
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "kind")), kinds[l]) == 0, "kind");
        CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "step")) == steps[l], "step");
        for (int k = 0; l < 2 && k < 6; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
            double want = vals[l][k];
            if (isfinite(want))
                CHECK(cJSON_IsNumber(v) && v->valuedouble == want && signbit(v->valuedouble) == signbit(want),
                      "line %d key %s: %.17g read back as %.17g", l, keys[k], want, cJSON_GetNumberValue(v));
            else
                CHECK(cJSON_IsNull(v), "line %d key %s: a non-finite value must be null", l, keys[k]);
        }
        cJSON_Delete(j);
        line = nl + 1;
    }
    /* Append mode keeps earlier lines (a resumed run). */
    CHECK(loco_metrics_open_append(&m, path, msg, sizeof msg) == LOCO_OK, "%s", msg);
    if (m) {
        double v = 1.5;
        loco_metrics_log(m, "train", 300, keys, &v, 1);
        loco_metrics_close(m);
    }
    CHECK(slurp(path, text, sizeof text) > 0 && count(text, "\n") == 4, "append:\n%s", text);

    snprintf(path, sizeof path, "%s/no/such/dir/run.jsonl", dir);
    CHECK(loco_metrics_open(&m, path, msg, sizeof msg) == LOCO_EIO, "a missing directory accepted");
    CHECK(strstr(msg, "no/such/dir") != NULL, "message names the file: %s", msg);
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");
}

/* Writes a log with a decaying train loss every 10 steps and an eval loss
 * every 100, offset by `shift`. */
static void write_log(const char *path, double shift, int steps) {
    loco_metrics *m;
    if (loco_metrics_open(&m, path, NULL, 0) != LOCO_OK) return;
    const char *keys[] = {"loss", "lr"};
    for (int s = 0; s <= steps; s += 10) {
        double v[2] = {shift + 1.2 + 4.3 * exp(-s / 300.0) + 0.08 * sin(s * 0.7), 6e-4};
        loco_metrics_log(m, "train", s, keys, v, 2);
        if (s % 100 == 0) {
            double e[1] = {shift + 1.3 + 4.2 * exp(-s / 300.0)};
            loco_metrics_log(m, "eval", s, keys, e, 1);
        }
    }
    loco_metrics_close(m);
}

LOCO_TEST(plot_svg_draws_every_log) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char a[256], b[256], out[256], msg[256];
    snprintf(a, sizeof a, "%s/iid_M4.jsonl", dir);
    snprintf(b, sizeof b, "%s/kmeans_<M4>&.jsonl", dir);
    snprintf(out, sizeof out, "%s/loss.svg", dir);
    write_log(a, 0.0, 2000);
    write_log(b, 0.25, 1500);
    const char *logs[] = {a, b};
    CHECK(loco_plot_svg(logs, 2, out, msg, sizeof msg) == LOCO_OK, "%s", msg);
    static char svg[1 << 20];
    long n = slurp(out, svg, sizeof svg);
    CHECK(n > 0 && strncmp(svg, "<svg", 4) == 0, "does not start with <svg");
    CHECK(n > 0 && strstr(svg, "</svg>\n") == svg + n - 7, "does not end with </svg>");
    CHECK(count(svg, "<polyline") == 4, "%d polylines, want 2 logs x (train, eval)", count(svg, "<polyline"));
    CHECK(count(svg, "<circle") == 21 + 16, "%d eval markers", count(svg, "<circle"));
    CHECK(strstr(svg, ">iid_M4.jsonl<") != NULL, "legend lacks the first file name");
    CHECK(strstr(svg, ">kmeans_&lt;M4&gt;&amp;.jsonl<") != NULL, "legend lacks the escaped second name");
    CHECK(strstr(svg, ">step<") && strstr(svg, ">loss<") && strstr(svg, "Loss vs step"), "axis labels, title");
    CHECK(strstr(svg, ">2000<") != NULL && strstr(svg, ">0<") != NULL, "x ticks 0..2000");
    /* Every element is closed: as many '<' as '>' (the escaped names hold none). */
    CHECK(count(svg, "<") == count(svg, ">"), "unbalanced angle brackets");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp >/dev/null", dir);
    CHECK(system(cmd) != 0, "a temporary file was left behind");
    /* For a look at it: rendered to PNG when ImageMagick or rsvg is present. */
    snprintf(cmd, sizeof cmd, "(command -v rsvg-convert >/dev/null && rsvg-convert '%s' -o /tmp/loco_plot_test.png) "
             "|| (command -v convert >/dev/null && convert '%s' /tmp/loco_plot_test.png) 2>/dev/null", out, out);
    if (system(cmd) == 0) printf("  rendered to /tmp/loco_plot_test.png\n");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

LOCO_TEST(plot_svg_rejects_bad_logs) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char p[256], out[256], msg[256], want[300];
    snprintf(p, sizeof p, "%s/bad.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.svg", dir);
    const char *logs[] = {p};
    write_file(out, "old");

    write_file(p, "{\"kind\":\"train\",\"step\":1,\"loss\":3}\n\nnot json\n");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EINVAL, "bad JSON accepted");
    snprintf(want, sizeof want, "%s:3:", p);
    CHECK(strstr(msg, want) != NULL, "message should name %s: %s", want, msg);

    write_file(p, "{\"kind\":\"train\",\"step\":1,\"loss\":3}\n{\"kind\":\"train\",\"loss\":2}\n");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EINVAL, "missing step accepted");
    snprintf(want, sizeof want, "%s:2: no numeric \"step\"", p);
    CHECK(strstr(msg, want) != NULL, "message: %s", msg);

    write_file(p, "[1, 2]\n");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EINVAL, "an array accepted");
    CHECK(strstr(msg, ":1: not a JSON object") != NULL, "message: %s", msg);

    write_file(p, "");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EINVAL, "empty log accepted");
    CHECK(strstr(msg, "empty log") != NULL, "message: %s", msg);
    write_file(p, "{\"kind\":\"note\",\"step\":1}\n");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EINVAL, "log without losses accepted");

    static char text[64];
    CHECK(slurp(out, text, sizeof text) == 3 && strcmp(text, "old") == 0, "a failed plot touched the output");

    snprintf(want, sizeof want, "%s/missing.jsonl", dir);
    logs[0] = want;
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_EIO, "missing file accepted");
    CHECK(strstr(msg, "missing.jsonl") != NULL, "message: %s", msg);
    CHECK(loco_plot_svg(logs, 0, out, msg, sizeof msg) == LOCO_EINVAL, "no logs accepted");

    /* A last line torn by a crash (no newline, not JSON) is dropped. */
    logs[0] = p;
    write_file(p, "{\"kind\":\"train\",\"step\":1,\"loss\":3}\n{\"kind\":\"eval\",\"step\":1,\"val_loss\":2.5}\n"
                  "{\"kind\":\"train\",\"st");
    CHECK(loco_plot_svg(logs, 1, out, msg, sizeof msg) == LOCO_OK, "torn last line: %s", msg);
    static char svg[1 << 16];
    CHECK(slurp(out, svg, sizeof svg) > 0 && count(svg, "<polyline") == 2, "train + eval (val_loss) drawn");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

LOCO_TEST(metrics_progress_line) {
    static char buf[4096];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    loco_progress_print(f, 0, 50, 200, 2.3456, 1234.4, 125);
    fclose(f);
    CHECK(strcmp(buf, "step 50/200 | loss 2.3456 | 1234 tok/s | eta 2m05s\n") == 0, "plain: '%s'", buf);

    memset(buf, 0, sizeof buf);
    f = fmemopen(buf, sizeof buf, "w");
    loco_progress_print(f, 1, 50, 200, 2.3456, 1234.4, 7300);
    fflush(f);
    long first = (long)strlen(buf);
    loco_progress_print(f, 1, 200, 200, 1.5, 1000, 0);
    fclose(f);
    CHECK(buf[0] == '\r' && strchr(buf, '\n') == buf + strlen(buf) - 1, "tty: redrawn in place, newline at the end");
    CHECK(strncmp(buf, "\r[======>                 ]  25% step 50/200", 43) == 0, "tty bar: '%.50s'", buf + 1);
    CHECK(strstr(buf, "eta 2h01m\033[K") != NULL, "tty: eta and erase-to-end");
    CHECK(strstr(buf + first, "[========================] 100%") != NULL, "full bar: '%s'", buf + first + 1);
}
