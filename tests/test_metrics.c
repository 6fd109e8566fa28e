/* The JSONL metrics log, the SVG plot of logs, and the progress line. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/metrics.h"
#include "test.h"
#include "util.h"

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

/* Writes a DiLoCo-like log: train events with a loss and no "ppl", then
 * eval events at steps 100, 200 ... with "ppl" and "bytes" (quadrupling from
 * 1e5), the first with bytes 0 and then one with negative bytes (neither can
 * go on a log axis), and one eval event without "ppl".  Returns the number of
 * eval events that can be drawn with x = bytes on a log axis: n_evals - 1. */
static int write_dist_log(const char *path, int n_evals, double shift) {
    loco_metrics *m;
    if (loco_metrics_open(&m, path, NULL, 0) != LOCO_OK) return -1;
    const char *keys[] = {"loss", "ppl", "bytes", "sim_s"};
    for (int k = 0; k < n_evals; k++) {
        double t[3] = {5.0 - 0.3 * k, 1.5 * k + 0.75, 1e5 * pow(4, k)};
        const char *tk[] = {"loss", "sim_s", "bytes"};
        loco_metrics_log(m, "train", 100 * k + 50, tk, t, 3);
        double bytes = k == 0 ? 0.0 : 2.5e4 * pow(4, k);
        double e[4] = {5.5 - 0.3 * k + shift, exp(5.5 - 0.3 * k + shift), bytes, 1.5 * k};
        loco_metrics_log(m, "eval", 100 * k, keys, e, 4);
        if (k == 1) {
            double neg[4] = {5.0, 150.0, -1.0, 1.0};
            loco_metrics_log(m, "eval", 100 * k, keys, neg, 4);
            loco_metrics_log(m, "eval", 100 * k, keys, neg, 1);   /* loss only */
        }
    }
    loco_metrics_close(m);
    return n_evals - 1;
}

/* Returns the number of "x,y" points of the i-th polyline of svg, or -1;
 * the x coordinates go into xs (up to 64). */
static int polyline_points(const char *svg, int i, double *xs) {
    const char *p = svg;
    for (int k = 0; k <= i; k++) {
        p = strstr(p, "<polyline");
        if (!p) return -1;
        p++;
    }
    p = strstr(p, "points=\"");
    if (!p) return -1;
    p += 8;
    int n = 0;
    while (*p && *p != '"') {
        double x, y;
        int used;
        if (sscanf(p, "%lf,%lf %n", &x, &y, &used) != 2) return -1;
        if (n < 64) xs[n] = x;
        n++;
        p += used;
    }
    return n;
}

LOCO_TEST(plot_opts_ppl_against_bytes_log_x) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char a[256], b[256], out[256], msg[256];
    snprintf(a, sizeof a, "%s/diloco/metrics.jsonl", dir);
    snprintf(b, sizeof b, "%s/sync.jsonl", dir);
    snprintf(out, sizeof out, "%s/ppl.svg", dir);
    snprintf(msg, sizeof msg, "mkdir %s/diloco", dir);
    CHECK(system(msg) == 0, "mkdir");
    int na = write_dist_log(a, 9, 0.0), nb = write_dist_log(b, 6, 0.3);
    const char *logs[] = {a, b};
    const char *labels[] = {"DiLoCo H=50", "sync <every step> & \xc3\xa9"};
    loco_plot_opts o;
    loco_plot_opts_default(&o);
    o.x_key = "bytes";
    o.y_key = "ppl";
    o.log_x = 1;
    o.labels = labels;
    CHECK(loco_plot_svg_opts(logs, 2, out, &o, msg, sizeof msg) == LOCO_OK, "%s", msg);
    static char svg[1 << 20];
    long n = slurp(out, svg, sizeof svg);
    CHECK(n > 0 && strncmp(svg, "<svg", 4) == 0 && strstr(svg, "</svg>\n") == svg + n - 7, "not a whole SVG");
    CHECK(strstr(svg, ">DiLoCo H=50<") != NULL, "legend lacks the first label");
    CHECK(strstr(svg, ">sync &lt;every step&gt; &amp; \xc3\xa9<") != NULL, "legend lacks the escaped second label");
    CHECK(strstr(svg, "metrics.jsonl") == NULL, "file names shown despite labels");
    /* Train events have no "ppl": only the two eval lines. */
    CHECK(count(svg, "<polyline") == 2, "%d polylines, want 2 eval lines", count(svg, "<polyline"));
    double xs[64];
    CHECK(polyline_points(svg, 0, xs) == na, "first line: %d points, want %d", polyline_points(svg, 0, xs), na);
    /* Bytes quadruple from one eval to the next, so on a log axis the points
     * are evenly spaced. */
    for (int k = 2; k < na; k++)
        CHECK(fabs((xs[k] - xs[k - 1]) - (xs[1] - xs[0])) < 0.25, "uneven log spacing at %d: %.1f %.1f %.1f",
              k, xs[k - 2], xs[k - 1], xs[k]);
    CHECK(polyline_points(svg, 1, xs) == nb, "second line: %d points, want %d", polyline_points(svg, 1, xs), nb);
    CHECK(count(svg, "<circle") == na + nb, "%d markers, want %d", count(svg, "<circle"), na + nb);
    /* Decade ticks from 100k (the axis widened to decades) to 10G. */
    CHECK(strstr(svg, ">100k<") && strstr(svg, ">1M<") && strstr(svg, ">1G<") && strstr(svg, ">10G<"),
          "decade tick labels");
    CHECK(strstr(svg, ">bytes<") && strstr(svg, ">ppl<") && strstr(svg, ">Ppl vs bytes<"), "axis labels, title");
    CHECK(count(svg, "<") == count(svg, ">"), "unbalanced angle brackets");

    /* The same on a log y axis, eval only, with a title and axis labels. */
    o.log_y = 1;
    o.eval_only = 1;
    o.title = "C4: perplexity <vs> traffic";
    o.x_label = "bytes sent";
    o.y_label = "val ppl";
    CHECK(loco_plot_svg_opts(logs, 2, out, &o, msg, sizeof msg) == LOCO_OK, "%s", msg);
    n = slurp(out, svg, sizeof svg);
    CHECK(strstr(svg, ">C4: perplexity &lt;vs&gt; traffic<") && strstr(svg, ">bytes sent<") &&
          strstr(svg, ">val ppl<"), "title and axis labels");
    CHECK(polyline_points(svg, 0, xs) == na && polyline_points(svg, 1, xs) == nb, "log-log point counts");
    /* ppl spans 22..245, within two decades: 2 and 5 times each are labelled. */
    CHECK(strstr(svg, ">10<") && strstr(svg, ">20<") && strstr(svg, ">50<") && strstr(svg, ">1k<"), "y ticks");

    /* Linear bytes: SI suffixes instead of rows of digits. */
    loco_plot_opts_default(&o);
    o.x_key = "bytes";
    o.y_key = "ppl";
    CHECK(loco_plot_svg_opts(logs, 2, out, &o, msg, sizeof msg) == LOCO_OK, "%s", msg);
    n = slurp(out, svg, sizeof svg);
    CHECK(strstr(svg, ">0<") && strstr(svg, ">0.4G<") && strstr(svg, ">1G<") && !strstr(svg, "000000<"),
          "linear SI tick labels");
    /* On a linear axis bytes 0 and -1 are drawn; the eval without "ppl" is not. */
    CHECK(polyline_points(svg, 0, xs) == na + 2, "linear: %d points, want %d", polyline_points(svg, 0, xs), na + 2);

    /* Another numeric field for x, and a train line against it. */
    loco_plot_opts_default(&o);
    o.x_key = "sim_s";
    CHECK(loco_plot_svg_opts(logs, 2, out, &o, msg, sizeof msg) == LOCO_OK, "%s", msg);
    n = slurp(out, svg, sizeof svg);
    CHECK(count(svg, "<polyline") == 4 && strstr(svg, "(thin: train, thick with dots: eval)"),
          "train and eval loss against sim_s");
    snprintf(msg, sizeof msg, "rm -rf %s", dir);
    CHECK(system(msg) == 0, "cleanup");
}

LOCO_TEST(plot_opts_rejects_missing_fields) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char a[256], b[256], out[256], msg[512], want[400];
    snprintf(a, sizeof a, "%s/good.jsonl", dir);
    snprintf(b, sizeof b, "%s/no_bytes.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.svg", dir);
    write_dist_log(a, 4, 0.0);
    write_file(b, "{\"kind\":\"train\",\"step\":1,\"loss\":3}\n{\"kind\":\"eval\",\"step\":1,\"loss\":2.5,\"ppl\":12}\n");
    write_file(out, "old");
    const char *logs[] = {a, b};
    loco_plot_opts o;
    loco_plot_opts_default(&o);
    o.x_key = "bytes";
    o.y_key = "ppl";
    CHECK(loco_plot_svg_opts(logs, 2, out, &o, msg, sizeof msg) == LOCO_EINVAL, "a log without bytes accepted");
    snprintf(want, sizeof want, "%s: no ppl against bytes", b);
    CHECK(strstr(msg, want) != NULL, "message should say '%s': %s", want, msg);

    o.y_key = "accuracy";
    CHECK(loco_plot_svg_opts(logs, 1, out, &o, msg, sizeof msg) == LOCO_EINVAL, "a missing y key accepted");
    snprintf(want, sizeof want, "%s: no accuracy against bytes", a);
    CHECK(strstr(msg, want) != NULL, "message should say '%s': %s", want, msg);

    /* Every byte count <= 0: nothing for a log axis, and the message says why. */
    write_file(b, "{\"kind\":\"eval\",\"step\":1,\"ppl\":12,\"bytes\":0}\n{\"kind\":\"eval\",\"step\":2,\"ppl\":11,\"bytes\":-3}\n");
    o.y_key = "ppl";
    o.log_x = 1;
    CHECK(loco_plot_svg_opts(logs + 1, 1, out, &o, msg, sizeof msg) == LOCO_EINVAL, "no positive bytes accepted");
    CHECK(strstr(msg, "no_bytes.jsonl: no ppl against bytes") && strstr(msg, "log axis"), "message: %s", msg);
    o.log_x = 0;
    CHECK(loco_plot_svg_opts(logs + 1, 1, out, &o, msg, sizeof msg) == LOCO_OK, "linear axis: %s", msg);
    write_file(out, "old");

    /* Train events do not count with eval_only. */
    write_file(b, "{\"kind\":\"train\",\"step\":1,\"loss\":3}\n");
    loco_plot_opts_default(&o);
    o.eval_only = 1;
    CHECK(loco_plot_svg_opts(logs + 1, 1, out, &o, msg, sizeof msg) == LOCO_EINVAL, "eval-only without evals");
    CHECK(strstr(msg, "no_bytes.jsonl: no loss against step") != NULL, "message: %s", msg);
    o.x_key = "";
    CHECK(loco_plot_svg_opts(logs, 1, out, &o, msg, sizeof msg) == LOCO_EINVAL, "an empty key accepted");

    static char text[64];
    CHECK(slurp(out, text, sizeof text) == 3 && strcmp(text, "old") == 0, "a failed plot touched the output");
    snprintf(msg, sizeof msg, "rm -rf %s", dir);
    CHECK(system(msg) == 0, "cleanup");
}

LOCO_TEST(plot_opts_many_logs_distinct_styles) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    enum { N = 23 };
    static char paths[N][256];
    const char *logs[N];
    char out[256], msg[256];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/run_%02d_with_a_rather_long_name_for_its_legend.jsonl", dir, i);
        write_dist_log(paths[i], 3, 0.05 * i);
        logs[i] = paths[i];
    }
    snprintf(out, sizeof out, "%s/many.svg", dir);
    loco_plot_opts o;
    loco_plot_opts_default(&o);
    o.y_key = "ppl";
    o.eval_only = 1;
    CHECK(loco_plot_svg_opts(logs, N, out, &o, msg, sizeof msg) == LOCO_OK, "%s", msg);
    static char svg[1 << 20];
    CHECK(slurp(out, svg, sizeof svg) > 0, "no SVG");
    CHECK(count(svg, "<polyline") == N, "%d polylines", count(svg, "<polyline"));
    /* The first 20 lines have 20 different colours; the rest are dashed. */
    char colours[N][16];
    const char *p = svg;
    for (int i = 0; i < N; i++) {
        p = strstr(p, "<polyline");
        const char *st = p ? strstr(p, "stroke=\"") : NULL;
        if (!st) { FAIL("polyline %d has no stroke", i); break; }
        snprintf(colours[i], sizeof colours[i], "%.7s", st + 8);
        const char *end = strchr(p, '>');
        int dashed = end && strstr(p, "stroke-dasharray") && strstr(p, "stroke-dasharray") < end;
        CHECK(dashed == (i >= 20), "polyline %d: dashed %d", i, dashed);
        for (int j = 0; j < i && i < 20; j++)
            CHECK(strcmp(colours[i], colours[j]) != 0, "logs %d and %d share colour %s", i, j, colours[i]);
        p++;
    }
    CHECK(count(svg, "stroke-dasharray") == 2 * (N - 20), "legend lines dashed as their curves");
    /* Every legend entry fits on the canvas: named, and above its bottom. */
    int h = 0;
    sscanf(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%*d\" height=\"%d\"", &h);
    CHECK(h >= 50 + 34 + 22 * (N - 1), "canvas height %d too small for %d legend entries", h, N);
    CHECK(strstr(svg, ">run_22_with_a_rather_long_name_for_its_legen...<") != NULL, "long names cut with ...");
    snprintf(msg, sizeof msg, "rm -rf %s", dir);
    CHECK(system(msg) == 0, "cleanup");
}

/* `loco plot` flags: needs ./loco built from this tree (make test does). */
LOCO_TEST(plot_cli_flags) {
    char dir[] = "/tmp/loco_plot_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char a[256], b[256], args[1024], err[2048];
    snprintf(a, sizeof a, "%s/a.jsonl", dir);
    snprintf(b, sizeof b, "%s/b.jsonl", dir);
    write_dist_log(a, 5, 0.0);
    write_dist_log(b, 4, 0.2);
    snprintf(args, sizeof args, "plot %s %s --out %s/p.svg --x bytes --y=ppl --eval-only --logx --logy "
             "--title 'ppl vs bytes' --labels DiLoCo,sync", a, b, dir);
    CHECK(loco_test_run(args, err, sizeof err) == 0, "'loco %s': %s", args, err);
    static char svg[1 << 18];
    snprintf(args, sizeof args, "%s/p.svg", dir);
    CHECK(slurp(args, svg, sizeof svg) > 0 && strstr(svg, ">DiLoCo<") && strstr(svg, ">sync<") &&
          strstr(svg, ">ppl vs bytes<"), "the SVG lacks the labels or title");
    const char *bad[] = {"--labels one", "--labels a,b,c", "--logz", "--x", "--x ''", "--eval-only=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, "plot %s %s --out %s/q.svg %s", a, b, dir, bad[i]);
        int st = loco_test_run(args, err, sizeof err);
        char *nl = strchr(err, '\n');
        CHECK(st == 2 && nl && nl[1] == 0, "'loco %s': exit %d, stderr '%s' (want 2 and one line)", args, st, err);
    }
    snprintf(args, sizeof args, "plot %s --out %s/q.svg --y accuracy", a, dir);
    CHECK(loco_test_run(args, err, sizeof err) == 1 && strstr(err, "a.jsonl: no accuracy against step"),
          "missing field: '%s'", err);
    snprintf(args, sizeof args, "%s/q.svg", dir);
    CHECK(access(args, F_OK) != 0, "a failed plot wrote its output");
    snprintf(args, sizeof args, "rm -rf %s", dir);
    CHECK(system(args) == 0, "cleanup");
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
