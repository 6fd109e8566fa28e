/* `loco eval --per-doc | --dipaco`: perplexity per document after a routing
 * prefix (src/cli/eval_docs.c). */
#ifndef LOCO_CLI_EVAL_DOCS_H
#define LOCO_CLI_EVAL_DOCS_H

typedef struct {
    const char *checkpoint;   /* a dense model, or NULL with dipaco */
    const char *dipaco;       /* a DiPaCo directory, or NULL */
    const char *router;       /* DiPaCo: the router (default: the one dipaco.json names) */
    const char *val_shard;
    int prefix;               /* the routing tokens at each document's start, not scored */
    int block;                /* W: targets per block (0: the window length) */
    int reroute;              /* 1: choose the path again for every block */
    int B, T;                 /* windows per forward pass, window length (0: the model's) */
    int max_docs;             /* 0: all */
} eval_docs_args;

/* Prints the loss and perplexity; returns the exit status (1 failure, 2 bad
 * usage), with a one-line reason on stderr. */
int loco_cli_eval_docs(const eval_docs_args *a);

#endif
