#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "loco/file.h"

/* The destinations that the last args_parse set (args_given). */
#define ARGS_MAX_GIVEN 256
static const void *given[ARGS_MAX_GIVEN];
static int n_given;

int args_given(const void *dst) {
    for (int i = 0; i < n_given; i++)
        if (given[i] == dst) return 1;
    return 0;
}

/* The choices of the specs that args_parse_choices is parsing. */
static const arg_spec *choice_specs;
static const char *const *choice_list;
static int n_choice;

static const char *choices_of(const arg_spec *s) {
    return choice_list && s >= choice_specs && s < choice_specs + n_choice ? choice_list[s - choice_specs] : NULL;
}

int args_parse_choices(const arg_spec *specs, const char *const *choices, int nspecs, int argc, char **argv,
                       const char *usage_head, char *err, size_t errlen) {
    choice_specs = specs;
    choice_list = choices;
    n_choice = nspecs;
    int r = args_parse(specs, nspecs, argc, argv, usage_head, err, errlen);
    choice_list = NULL;
    return r;
}

int args_choice(const char *choices, const char *v) {
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        size_t len = strcspn(c, "|");
        if (len == n && !strncmp(c, v, n)) return 1;
        c += len + (c[len] == '|');
    }
    return 0;
}

const char *args_choices_text(const char *choices, char *buf, size_t n) {
    /* "a|b|c" -> "a, b or c" */
    size_t k = 0, items = 1;
    for (const char *c = choices; *c; c++) items += *c == '|';
    buf[0] = 0;
    size_t i = 0;
    for (const char *c = choices; *c && k + 1 < n; i++) {
        size_t len = strcspn(c, "|");
        const char *sep = i == 0 ? "" : i + 1 == items ? " or " : ", ";
        k += (size_t)snprintf(buf + k, n - k, "%s%.*s", sep, (int)len, c);
        c += len + (c[len] == '|');
    }
    return buf;
}

/* Returns 0 and stores the value, or -1 with a reason in err. */
static int parse_value(const arg_spec *s, const char *v, char *err, size_t errlen) {
    if (!args_given(s->dst) && n_given < ARGS_MAX_GIVEN) given[n_given++] = s->dst;
    char *end;
    errno = 0;
    if (s->kind == ARG_STR) {
        const char *choices = choices_of(s);
        if (choices && !args_choice(choices, v)) {
            char list[256];
            snprintf(err, errlen, "--%s must be %s (got '%s')", s->name, args_choices_text(choices, list, sizeof list),
                     v);
            return -1;
        }
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
    if (s->kind == ARG_U64) {
        /* strtoull would accept and negate a leading '-'. */
        unsigned long long u = (*v >= '0' && *v <= '9') ? strtoull(v, &end, 10) : 0;
        if (*v < '0' || *v > '9' || *end || errno) {
            snprintf(err, errlen, "--%s: '%s' is not an unsigned integer", s->name, v);
            return -1;
        }
        *(uint64_t *)s->dst = (uint64_t)u;
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
    n_given = 0;
    /* A --config file is applied first, so that flags on the command line
     * override it wherever they appear. */
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--config=", 9) && args_parse_file(specs, nspecs, a + 9, err, errlen)) return -1;
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a value");
                return -1;
            }
            if (args_parse_file(specs, nspecs, argv[i + 1], err, errlen)) return -1;
        }
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) { i++; continue; }
        if (!strncmp(argv[i], "--config=", 9)) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            if (usage_head) args_usage(specs, nspecs, usage_head);
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

/* Strings read from config files, owned here until args_free_config(). */
static char **config_strings;
static size_t n_config_strings, cap_config_strings;

/* Keeps v for the caller; returns -1 (and frees v) when out of memory. */
static int keep_string(char *v) {
    if (n_config_strings == cap_config_strings) {
        size_t cap = cap_config_strings ? 2 * cap_config_strings : 16;
        char **grown = realloc(config_strings, cap * sizeof *grown);
        if (!grown) { free(v); return -1; }
        config_strings = grown;
        cap_config_strings = cap;
    }
    config_strings[n_config_strings++] = v;
    return 0;
}

void args_free_config(void) {
    for (size_t i = 0; i < n_config_strings; i++) free(config_strings[i]);
    free(config_strings);
    config_strings = NULL;
    n_config_strings = cap_config_strings = 0;
}

int args_parse_file(const arg_spec *specs, int nspecs, const char *path, char *err, size_t errlen) {
    char why[512];
    FILE *f = loco_file_open_input(path, why, sizeof why);
    if (!f) {
        snprintf(err, errlen, "--config %s", why);
        return -1;
    }
    /* A UTF-8 byte order mark, which some editors put at the start of a
     * file, is not part of the first key: skipped before any line is read
     * (the file is regular, so it can be read again from the start). */
    unsigned char bom[3];
    if (fread(bom, 1, 3, f) != 3 || memcmp(bom, "\xEF\xBB\xBF", 3) != 0) rewind(f);
    /* String values must outlive this call (string flags point to them), so
     * they are copied and owned by this module until args_free_config(). */
    char line[1024];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        /* '#' starts a comment at the start of a line or after whitespace, so
         * values such as paths may contain it. */
        for (char *h = line; (h = strchr(h, '#')) != NULL; h++)
            if (h == line || h[-1] == ' ' || h[-1] == '\t') { *h = 0; break; }
        char *key = line + strspn(line, " \t\r\n");
        if (!*key) continue;
        char *end = key + strcspn(key, " \t=\r\n");
        /* "name = value", "name=value" or "name value": at most one '='. */
        char *val = end + strspn(end, " \t");
        if (*val == '=') val++;
        val += strspn(val, " \t");
        *end = 0;
        val[strcspn(val, "\r\n")] = 0;
        for (char *t = val + strlen(val); t > val && (t[-1] == ' ' || t[-1] == '\t'); t--) t[-1] = 0;
        const arg_spec *s = NULL;
        for (int k = 0; k < nspecs; k++)
            if (!strcmp(specs[k].name, key)) s = &specs[k];
        if (!s) {
            snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
            rc = -1;
        } else if (!*val) {
            snprintf(err, errlen, "%s:%d: '%s' needs a value", path, lineno, key);
            rc = -1;
        } else {
            char *v = strdup(val);
            if (v && keep_string(v)) v = NULL;
            if (!v || parse_value(s, v, err, errlen)) {
                char inner[200];
                snprintf(inner, sizeof inner, "%s", v ? err : "out of memory");
                snprintf(err, errlen, "%s:%d: %s", path, lineno, inner);
                rc = -1;
            }
        }
    }
    /* fgets() stops at an error as at the end: a file that cannot be read
     * (an I/O error) must not pass for an empty one. */
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "--config %s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

void args_usage(const arg_spec *specs, int nspecs, const char *usage_head) {
    printf("%s\n\nFlags (default in brackets):\n", usage_head);
    printf("  --%-16s %s\n", "config FILE", "read flags from FILE, one 'name = value' per line; the command line wins");
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
