/* Table-driven flag parsing for the loco command: every flag is --name VALUE
 * or --name=VALUE, numbers are parsed strictly (the whole string, in range),
 * and any problem becomes a one-line message naming the flag. */
#ifndef LOCO_CLI_ARGS_H
#define LOCO_CLI_ARGS_H

#include <stddef.h>

typedef enum { ARG_INT, ARG_FLOAT, ARG_STR, ARG_U64 } arg_kind;

typedef struct {
    const char *name;    /* without the leading "--" */
    arg_kind kind;
    void *dst;           /* int*, float*, const char**, or uint64_t* */
    double lo, hi;       /* accepted range for numbers (inclusive) */
    const char *help;
} arg_spec;

/* Parses argv[0..argc) against specs, after applying any --config FILE.  Returns 0 on success, 1 if --help was
 * given (usage printed to stdout, unless usage_head is NULL: the caller prints its own), -1 on an error (written
 * to err). */
int args_parse(const arg_spec *specs, int nspecs, int argc, char **argv,
               const char *usage_head, char *err, size_t errlen);

/* args_parse, where choices[k] ("a|b|c", or NULL for any) lists the values
 * that the string flag specs[k] accepts, on the command line and in a
 * --config file. */
int args_parse_choices(const arg_spec *specs, const char *const *choices, int nspecs, int argc, char **argv,
                       const char *usage_head, char *err, size_t errlen);

/* Applies a config file of "name = value" lines ('#' starts a comment) with
 * the same flag names.  Returns 0, or -1 with "file:line: reason" in err. */
int args_parse_file(const arg_spec *specs, int nspecs, const char *path, char *err, size_t errlen);

/* Frees the strings that config files supplied; string flags set from a
 * config file are invalid afterwards. */
void args_free_config(void);

/* 1 if the last args_parse set the flag whose destination is dst (on the
 * command line or in a --config file), 0 if it kept its default. */
int args_given(const void *dst);

/* 1 if v is one of choices ("a|b|c"). */
int args_choice(const char *choices, const char *v);
/* choices as prose, "a, b or c", into buf. */
const char *args_choices_text(const char *choices, char *buf, size_t n);

/* Prints the flags and their current (default) values. */
void args_usage(const arg_spec *specs, int nspecs, const char *usage_head);

#endif
