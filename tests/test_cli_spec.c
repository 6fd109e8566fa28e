/*
 * The run spec (src/cli/run_spec.c), the one table of the options of `loco
 * train`, `loco coordinator` and `loco worker`: docs/cli.md is what the
 * table generates, the table's accepted values are the library's names,
 * and an option set where it does not apply is refused with one line that
 * names it, on the command line and in a --config file alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/async.h"
#include "loco/codec.h"
#include "loco/outer.h"
#include "loco/sim.h"
#include "test.h"
#include "util.h"

/* The whole stdout of `loco args` (malloc'd, NUL-terminated), or NULL. */
static char *stdout_of(const char *args, size_t *len) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", loco_test_bin(), args);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t n = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *more = realloc(buf, cap *= 2);
            if (!more) { free(buf); buf = NULL; }
            buf = more;
        }
    }
    int st = pclose(p);
    if (!buf || st != 0) { free(buf); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* docs/cli.md is exactly what the binary generates, so that --help, the
 * reference and the parser cannot drift apart. */
LOCO_TEST(cli_reference_is_generated) {
    size_t n = 0, m = 0;
    char *gen = stdout_of("help --markdown", &n);
    CHECK(gen != NULL, "loco help --markdown failed");
    FILE *f = fopen("docs/cli.md", "rb");
    CHECK(f != NULL, "docs/cli.md is missing (./loco help --markdown > docs/cli.md)");
    char *doc = malloc(n + 2);
    if (f && doc) {
        m = fread(doc, 1, n + 1, f);
        fclose(f);
    } else if (f) {
        fclose(f);
    }
    if (gen && doc) {
        size_t k = 0;
        while (k < n && k < m && gen[k] == doc[k]) k++;
        size_t line = 1;
        for (size_t i = 0; i < k; i++) line += gen[i] == '\n';
        CHECK(m == n && k == n, "docs/cli.md differs from `loco help --markdown` at line %zu: regenerate it with "
              "./loco help --markdown > docs/cli.md", line);
        CHECK(strstr(gen, "| `--inner-steps` | `100` |") && strstr(gen, "### loco tokenizer train"),
              "the reference lacks the run spec's rows or the other commands' flags");
    }
    free(gen);
    free(doc);
}

/* Reads the accepted values of --name from `loco train --help` ("  --name
 * a|b|c: help") into buf; returns 0 or -1. */
static int choices_in_help(const char *help, const char *name, char *buf, size_t n) {
    char key[64];
    snprintf(key, sizeof key, "\n  --%s ", name);
    const char *p = strstr(help, key);
    if (!p) return -1;
    p += strlen(key);
    p += strspn(p, " ");
    size_t len = strcspn(p, ": \n");
    if (p[len] != ':' || len + 1 > n) return -1;
    memcpy(buf, p, len);
    buf[len] = 0;
    return 0;
}

/* 1 if name is one of the '|'-separated values of list. */
static int listed(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *c = list; *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && !strncmp(c, name, n)) return 1;
        c += len + (c[len] == '|');
    }
    return 0;
}

/* Each enumerated option's values (the table's, for --help and the parser)
 * are the library's names: every one parses, and every name the library
 * has is offered. */
LOCO_TEST(cli_spec_choices_are_the_library_names) {
    size_t n;
    char *help = stdout_of("train --help", &n);
    CHECK(help != NULL, "loco train --help failed");
    if (!help) return;
    char list[256];
    CHECK(choices_in_help(help, "outer-opt", list, sizeof list) == 0, "no values for --outer-opt");
    for (int k = 0; strcmp(loco_outer_name((loco_outer_kind)k), "unknown"); k++)
        CHECK(listed(list, loco_outer_name((loco_outer_kind)k)), "--outer-opt lacks %s", loco_outer_name(k));
    for (char *t = strtok(list, "|"); t; t = strtok(NULL, "|")) {
        loco_outer_kind o;
        CHECK(loco_outer_parse(t, &o) == LOCO_OK, "--outer-opt offers %s, which the library refuses", t);
    }
    CHECK(choices_in_help(help, "compress", list, sizeof list) == 0, "no values for --compress");
    for (int k = 0; strcmp(loco_codec_name((loco_codec)k), "unknown"); k++)
        CHECK(listed(list, loco_codec_name((loco_codec)k)), "--compress lacks %s", loco_codec_name(k));
    for (char *t = strtok(list, "|"); t; t = strtok(NULL, "|")) {
        loco_codec c;
        CHECK(loco_codec_parse(t, &c) == LOCO_OK, "--compress offers %s, which the library refuses", t);
    }
    CHECK(choices_in_help(help, "schedule", list, sizeof list) == 0, "no values for --schedule");
    for (int k = 0; strcmp(loco_schedule_name((loco_schedule)k), "unknown"); k++)
        CHECK(listed(list, loco_schedule_name((loco_schedule)k)), "--schedule lacks %s", loco_schedule_name(k));
    for (char *t = strtok(list, "|"); t; t = strtok(NULL, "|")) {
        loco_schedule s;
        CHECK(loco_schedule_parse(t, &s) == LOCO_OK, "--schedule offers %s, which the library refuses", t);
    }
    CHECK(choices_in_help(help, "rule", list, sizeof list) == 0, "no values for --rule");
    for (int k = 0; strcmp(loco_async_rule_name((loco_async_rule)k), "unknown"); k++)
        CHECK(listed(list, loco_async_rule_name((loco_async_rule)k)), "--rule lacks %s", loco_async_rule_name(k));
    for (char *t = strtok(list, "|"); t; t = strtok(NULL, "|")) {
        loco_async_rule r;
        CHECK(loco_async_rule_parse(t, &r) == LOCO_OK, "--rule offers %s, which the library refuses", t);
    }
    CHECK(choices_in_help(help, "stale", list, sizeof list) == 0, "no values for --stale");
    for (int k = 0; strcmp(loco_stale_name((loco_stale_kind)k), "unknown"); k++)
        CHECK(listed(list, loco_stale_name((loco_stale_kind)k)), "--stale lacks %s", loco_stale_name(k));
    for (char *t = strtok(list, "|"); t; t = strtok(NULL, "|")) {
        loco_stale_kind s;
        CHECK(loco_stale_parse(t, &s) == LOCO_OK, "--stale offers %s, which the library refuses", t);
    }
    free(help);
}

/* The table's refusals: one line, exit 2, naming the option and where it
 * applies; a default value is accepted anywhere; --config FILE goes through
 * the same table. */
LOCO_TEST(cli_spec_refuses_what_does_not_apply) {
    char d[64] = "/tmp/loco_spec_XXXXXX", a[1024], err[1024];
    if (!mkdtemp(d)) { FAIL("mkdtemp"); return; }
    static const struct { const char *args, *says; } bad[] = {
        {"train --listen tcp://127.0.0.1:5555", "--listen applies to loco coordinator, not loco train"},
        {"train --connect ipc:///tmp/x", "--connect applies to loco worker, not loco train"},
        {"worker --steps 5 --connect ipc:///tmp/x", "--steps applies to loco train or loco coordinator, not loco worker"},
        {"train --algo diloco --rule naive", "--rule applies to --algo async, not diloco"},
        {"train --algo dipaco --workers 4", "--workers applies to --algo ddp, diloco or async, not dipaco"},
        {"train --algo ddp --inner-steps 5", "--inner-steps applies to --algo diloco, async or dipaco, not ddp"},
        {"train --algo async --outer-opt adam", "--outer-opt applies to --algo diloco or dipaco, not async"},
        {"train --resume x --algo diloco", "--resume applies to --algo single, not diloco"},
        {"coordinator --algo dipaco --quorum 2", "--quorum applies to --algo diloco or async, not dipaco"},
        {"coordinator --algo ddp", "--algo must be diloco, async or dipaco (got 'ddp')"},
        {"coordinator --em-round 2 --algo dipaco", "--em-round applies to loco train, not loco coordinator"},
        {"train --algo diloco --workers 0", "--workers: 0 is out of range [1, 1000000]"},
        {"train --algo async --hetero wild", "--hetero must be none, slight, moderate or very (got 'wild')"},
        {"train --algo dipaco", "--algo dipaco needs --modules"},
        {"train --algo diloco --prune 0", "--prune keeps a fraction in (0, 1]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = loco_test_run(bad[i].args, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[i].says) && strchr(err, '\n') == strrchr(err, '\n'),
              "'loco %s': exit %d, '%s' (want '%s')", bad[i].args, rc, err, bad[i].says);
    }
    /* A config file: the same names, the same refusals with file:line. */
    snprintf(a, sizeof a, "printf 'algo = diloco\\nworkers = 2\\ncompress = int9\\n' > %s/a.conf && "
             "printf 'steps = 2\\nhetero = very\\n' > %s/b.conf", d, d);
    CHECK(system(a) == 0, "setup");
    snprintf(a, sizeof a, "train --config %s/a.conf", d);
    CHECK(loco_test_run(a, err, sizeof err) == 2 && strstr(err, "a.conf:3: --compress must be fp32"), "%s", err);
    snprintf(a, sizeof a, "train --config %s/b.conf", d);
    CHECK(loco_test_run(a, err, sizeof err) == 2 && strstr(err, "--hetero applies to --algo async, not single"), "%s",
          err);
    /* Set to their defaults, options that do not apply are accepted (one
     * config file may serve several commands). */
    snprintf(a, sizeof a, "train --layers 1 --channels 16 --heads 2 --seq-len 8 --batch 2 --steps 2 --eval-batches 1 "
             "--hetero none --rule dn --listen-free 1");
    CHECK(loco_test_run(a, err, sizeof err) == 2 && strstr(err, "unknown flag '--listen-free'"), "%s", err);
    snprintf(a, sizeof a, "train --layers 1 --channels 16 --heads 2 --seq-len 8 --batch 2 --steps 2 --eval-batches 1 "
             "--hetero none --rule dn --quorum 0 --threads 1");
    CHECK(loco_test_run(a, err, sizeof err) == 0, "defaults of other algorithms and commands: %s", err);
    /* --help shows each command its own options, and where they apply. */
    size_t n;
    char *help = stdout_of("worker --help", &n);
    CHECK(help && strstr(help, "--connect") && !strstr(help, "--steps") && !strstr(help, "--listen"),
          "loco worker --help: %s", help ? help : "(failed)");
    free(help);
    help = stdout_of("coordinator --help", &n);
    CHECK(help && strstr(help, "--lease-timeout") && strstr(help, "(--algo dipaco)") && !strstr(help, "--hetero"),
          "loco coordinator --help: %s", help ? help : "(failed)");
    free(help);
    snprintf(a, sizeof a, "rm -rf %s", d);
    CHECK(system(a) == 0, "cleanup");
}
