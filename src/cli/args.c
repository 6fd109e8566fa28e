#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"

/* Returns 0 and stores the value, or -1 with a reason in err. */
static int parse_value(const arg_spec *s, const char *v, char *err, size_t errlen) {
    char *end;
    errno = 0;
    if (s->kind == ARG_STR) {
        *(const char **)s->dst = v;
        return 0;
    }
    if (s->kind == ARG_FLOAT) {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x)) {
            snprintf(err, errlen, "--%s: '%s' is not a number", s->name, v);
            return -1;
        }
        if (x < s->lo || x > s->hi) {
            snprintf(err, errlen, "--%s: %s is out of range [%g, %g]", s->name, v, s->lo, s->hi);
            return -1;
        }
        *(float *)s->dst = (float)x;
        return 0;
    }
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno) {
        snprintf(err, errlen, "--%s: '%s' is not an integer", s->name, v);
        return -1;
    }
    if ((double)x < s->lo || (double)x > s->hi) {
        snprintf(err, errlen, "--%s: %s is out of range [%.0f, %.0f]", s->name, v, s->lo, s->hi);
        return -1;
    }
    if (s->kind == ARG_INT) *(int *)s->dst = (int)x;
    else *(uint64_t *)s->dst = (uint64_t)x;
    return 0;
}

int args_parse(const arg_spec *specs, int nspecs, int argc, char **argv,
               const char *usage_head, char *err, size_t errlen) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args_usage(specs, nspecs, usage_head);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (flags start with --; see --help)", a);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const arg_spec *s = NULL;
        for (int k = 0; k < nspecs; k++)
            if (strlen(specs[k].name) == len && !strncmp(specs[k].name, name, len)) s = &specs[k];
        if (!s) {
            snprintf(err, errlen, "unknown flag '--%.*s' (see --help)", (int)len, name);
            return -1;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            snprintf(err, errlen, "--%s needs a value", s->name);
            return -1;
        }
        if (parse_value(s, v, err, errlen)) return -1;
    }
    return 0;
}

void args_usage(const arg_spec *specs, int nspecs, const char *usage_head) {
    printf("%s\n\nFlags (default in brackets):\n", usage_head);
    for (int k = 0; k < nspecs; k++) {
        const arg_spec *s = &specs[k];
        char def[64];
        switch (s->kind) {
        case ARG_INT: snprintf(def, sizeof def, "%d", *(int *)s->dst); break;
        case ARG_U64: snprintf(def, sizeof def, "%llu", (unsigned long long)*(uint64_t *)s->dst); break;
        case ARG_FLOAT: snprintf(def, sizeof def, "%g", *(float *)s->dst); break;
        case ARG_STR: snprintf(def, sizeof def, "%s", *(const char **)s->dst ? *(const char **)s->dst : "none"); break;
        }
        printf("  --%-16s %s [%s]\n", s->name, s->help, def);
    }
}
