/* `loco route fit|assign`: the DiPaCo document router (docs/routing.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/checkpoint.h"
#include "loco/file.h"
#include "loco/route.h"
#include "loco/shard.h"
#include "loco/split.h"

/* Opens the shard and loads the feature model (if ckpt is not NULL) with
 * capacity B x prefix; returns 0, 1 (bad file) or 2 (bad usage), with a
 * reason in msg. */
static int open_inputs(const char *shard_path, const char *ckpt, int B, int prefix, loco_shard *sh,
                       loco_docs *docs, loco_gpt **model, char *msg, size_t msglen) {
    *model = NULL;
    int vocab = 0;
    if (ckpt) {
        loco_gpt_config cfg;
        if (loco_checkpoint_read_config(ckpt, &cfg, msg, msglen)) return 1;
        if (prefix > cfg.max_seq_len) {
            snprintf(msg, msglen, "--prefix %d exceeds the feature model's context %d (%s)", prefix,
                     cfg.max_seq_len, ckpt);
            return 2;
        }
        vocab = cfg.vocab_size;
    }
    if (loco_shard_open(sh, shard_path, vocab, 1, msg, msglen)) return 1;
    if (sh->n_docs < 1 || sh->n_docs > 0x7fffffff) {
        snprintf(msg, msglen, "%s: %llu documents (need 1 to 2^31-1)", shard_path, (unsigned long long)sh->n_docs);
        loco_shard_close(sh);
        return 1;
    }
    *docs = (loco_docs){sh->tokens, sh->token_bytes, sh->doc_offsets, (int)sh->n_docs};
    if (ckpt && loco_checkpoint_load(ckpt, model, B, prefix, NULL, msg, msglen)) {
        loco_shard_close(sh);
        return 1;
    }
    return 0;
}

static int cmd_fit(int argc, char **argv) {
    const char *ckpt = NULL, *shard = NULL, *levels = NULL, *method = "kmeans", *out = NULL;
    int paths = 0, prefix = LOCO_ROUTER_DEFAULT_PREFIX, max_iter = 50, B = 8, threads = 0;
    float balance = 0;
    uint64_t seed = 1;
    const arg_spec specs[] = {
        {"feature-model", ARG_STR, &ckpt, 0, 0, "checkpoint whose mean final hidden state is the feature (not for random)"},
        {"train-shard", ARG_STR, &shard, 0, 0, "token shard: every document is a training example"},
        {"method", ARG_STR, &method, 0, 0, "random, kmeans or product"},
        {"paths", ARG_INT, &paths, 1, LOCO_ROUTER_MAX_PATHS, "number of paths P (random, kmeans)"},
        {"levels", ARG_STR, &levels, 0, 0, "product k-means: K per level, comma-separated (P = their product)"},
        {"prefix", ARG_INT, &prefix, 1, LOCO_MAX_SEQ_LEN, "route on each document's first N tokens"},
        {"balance", ARG_FLOAT, &balance, 0, 1e6, "0: plain k-means; >= 1: at most ceil(balance n / P) docs per cluster while fitting"},
        {"seed", ARG_U64, &seed, 0, 1.8e19, "seed of the hash (random) or of k-means++"},
        {"max-iter", ARG_INT, &max_iter, 1, 100000, "Lloyd iterations per restart"},
        {"batch", ARG_INT, &B, 1, 4096, "documents per forward pass of the feature model"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"out", ARG_STR, &out, 0, 0, "router JSON to write"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco route fit --train-shard X.train.bin --method random|kmeans|product\n"
                       "         (--paths P | --levels K0,K1,...) [--feature-model CKPT] --out router.json\n\n"
                       "Fits a DiPaCo document router on the documents of a shard and prints the documents per path.",
                       err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco route fit: %s\n", err); return 2; }
    if (!shard || !out) { fprintf(stderr, "loco route fit: --train-shard and --out are required\n"); return 2; }
    int is_random = !strcmp(method, "random"), is_product = !strcmp(method, "product");
    if (!is_random && !is_product && strcmp(method, "kmeans")) {
        fprintf(stderr, "loco route fit: --method must be random, kmeans or product (got '%s')\n", method);
        return 2;
    }
    int K[LOCO_ROUTER_MAX_LEVELS], n_levels = 0;
    if (is_product) {
        if (!levels || paths) { fprintf(stderr, "loco route fit: --method product takes --levels K0,K1,... and no --paths\n"); return 2; }
        char *copy = strdup(levels);
        const char *items[LOCO_ROUTER_MAX_LEVELS];
        n_levels = copy ? loco_cli_split_list(copy, items, LOCO_ROUTER_MAX_LEVELS) : -1;
        for (int l = 0; l < n_levels; l++) {
            char *end;
            long v = strtol(items[l], &end, 10);
            if (!*items[l] || *end || v < 1 || v > LOCO_ROUTER_MAX_PATHS) n_levels = -1;
            else K[l] = (int)v;
            if (n_levels < 0) break;
        }
        free(copy);
        if (n_levels < 1) {
            fprintf(stderr, "loco route fit: --levels must be 1 to %d positive integers, comma-separated (got '%s')\n",
                    LOCO_ROUTER_MAX_LEVELS, levels);
            return 2;
        }
    } else {
        if (levels || !paths) { fprintf(stderr, "loco route fit: --method %s takes --paths P and no --levels\n", method); return 2; }
    }
    if (!is_random && !ckpt) { fprintf(stderr, "loco route fit: --method %s needs --feature-model\n", method); return 2; }
    if (balance != 0 && balance < 1) { fprintf(stderr, "loco route fit: --balance must be 0 or >= 1 (got %g)\n", balance); return 2; }
    loco_threads_set(threads);

    loco_shard sh;
    loco_docs docs;
    loco_gpt *model = NULL;
    int st = open_inputs(shard, is_random ? NULL : ckpt, B, prefix, &sh, &docs, &model, msg, sizeof msg);
    if (st) { fprintf(stderr, "loco route fit: %s\n", msg); return st; }
    const int n = docs.n_docs;
    loco_router *router = NULL;
    int *assign = malloc(sizeof(int) * (size_t)n);
    long *sizes = NULL;
    float *X = NULL;
    double t0 = loco_cli_now();
    int e = assign ? LOCO_OK : LOCO_ENOMEM;
    if (e) snprintf(msg, sizeof msg, "out of memory");
    if (!e && is_random) {
        e = loco_router_random(&router, paths, seed, msg, sizeof msg);
    } else if (!e) {
        int C = loco_gpt_get_config(model)->channels;
        X = malloc(sizeof(float) * (size_t)n * (size_t)C);
        e = X ? loco_route_doc_features(model, &docs, NULL, n, prefix, X, msg, sizeof msg) : LOCO_ENOMEM;
        if (!X) snprintf(msg, sizeof msg, "out of memory for %d x %d features", n, C);
        if (!e) printf("loco route fit: features of %d documents (first %d tokens, d = %d) in %.1f s\n", n, prefix,
                       C, loco_cli_now() - t0);
        if (!e && is_product)
            e = loco_router_fit_product(&router, X, n, C, n_levels, K, seed, max_iter, balance, msg, sizeof msg);
        else if (!e)
            e = loco_router_fit_kmeans(&router, X, n, C, paths, seed, max_iter, balance, msg, sizeof msg);
    }
    if (!e) {
        loco_router_set_prefix(router, prefix);
        e = loco_router_set_feature_model(router, is_random ? "" : ckpt);
        if (e) snprintf(msg, sizeof msg, "out of memory");
    }
    /* Route every document as training and inference will: nearest centroid. */
    if (!e && is_random) e = loco_router_assign_docs(router, NULL, &docs, 1, assign, msg, sizeof msg);
    for (int i = 0; !e && !is_random && i < n; i++) {
        e = loco_router_route(router, X + (size_t)i * loco_router_dim(router), NULL, 0, 1, assign + i, NULL);
        if (e) snprintf(msg, sizeof msg, "routing document %d failed", i);
    }
    if (!e) e = loco_router_save(router, out, msg, sizeof msg);
    if (!e) {
        const int P = loco_router_paths(router);
        sizes = malloc(sizeof(long) * (size_t)P);
        if (sizes) {
            loco_split_count(assign, n, P, sizes);
            size_t need = (size_t)loco_split_sizes_format(NULL, 0, "path", "docs", sizes, P) + 1;
            char *line = malloc(need);
            if (line) {
                loco_split_sizes_format(line, need, "path", "docs", sizes, P);
                printf("loco route fit: %s router, %d paths, %d documents in %.1f s -> %s\n",
                       loco_router_kind_name(loco_router_kind_of(router)), P, n, loco_cli_now() - t0, out);
                printf("  %s\n", line);
            }
            free(line);
        }
    }
    if (e) fprintf(stderr, "loco route fit: %s\n", msg);
    free(sizes);
    free(X);
    free(assign);
    loco_router_free(router);
    loco_gpt_free(model);
    loco_shard_close(&sh);
    return e == LOCO_OK ? 0 : 1;
}

static int cmd_assign(int argc, char **argv) {
    const char *rpath = NULL, *shard = NULL, *out = NULL, *ckpt = NULL;
    int topk = 1, B = 8, threads = 0;
    const arg_spec specs[] = {
        {"router", ARG_STR, &rpath, 0, 0, "router JSON written by loco route fit"},
        {"train-shard", ARG_STR, &shard, 0, 0, "token shard whose documents are routed"},
        {"feature-model", ARG_STR, &ckpt, 0, 0, "feature model (default: the path stored in the router)"},
        {"topk", ARG_INT, &topk, 1, LOCO_ROUTER_MAX_PATHS, "paths per document, best first"},
        {"batch", ARG_INT, &B, 1, 4096, "documents per forward pass of the feature model"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"out", ARG_STR, &out, 0, 0, "text file: one line per document, its paths separated by spaces"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco route assign --router R.json --train-shard X.bin --out assign.txt [--topk K]\n\n"
                       "Routes every document of a shard; writes one line of paths per document.", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco route assign: %s\n", err); return 2; }
    if (!rpath || !shard || !out) {
        fprintf(stderr, "loco route assign: --router, --train-shard and --out are required\n");
        return 2;
    }
    loco_threads_set(threads);
    loco_router *router;
    if (loco_router_load(&router, rpath, msg, sizeof msg)) { fprintf(stderr, "loco route assign: %s\n", msg); return 1; }
    if (topk > loco_router_paths(router)) {
        fprintf(stderr, "loco route assign: --topk %d exceeds the router's %d paths\n", topk, loco_router_paths(router));
        loco_router_free(router);
        return 2;
    }
    int is_random = loco_router_kind_of(router) == LOCO_ROUTER_RANDOM;
    if (!ckpt) ckpt = loco_router_feature_model(router);
    if (!is_random && !*ckpt) {
        fprintf(stderr, "loco route assign: %s names no feature model; give --feature-model\n", rpath);
        loco_router_free(router);
        return 2;
    }
    loco_shard sh;
    loco_docs docs;
    loco_gpt *model = NULL;
    int st = open_inputs(shard, is_random ? NULL : ckpt, B, loco_router_prefix(router), &sh, &docs, &model, msg,
                         sizeof msg);
    if (st) {
        fprintf(stderr, "loco route assign: %s\n", msg);
        loco_router_free(router);
        return st;
    }
    int *paths = malloc(sizeof(int) * (size_t)docs.n_docs * (size_t)topk);
    int e = paths ? loco_router_assign_docs(router, model, &docs, topk, paths, msg, sizeof msg) : LOCO_ENOMEM;
    if (!paths) snprintf(msg, sizeof msg, "out of memory");
    if (!e) {
        /* Written whole to memory, then atomically to out. */
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        for (int i = 0; f && i < docs.n_docs; i++)
            for (int j = 0; j < topk; j++) fprintf(f, "%d%c", paths[(size_t)i * topk + j], j + 1 < topk ? ' ' : '\n');
        if (!f || fclose(f) != 0) {
            snprintf(msg, sizeof msg, "%s: out of memory", out);
            e = LOCO_ENOMEM;
        } else {
            e = loco_file_write(out, text, tl, msg, sizeof msg);
        }
        free(text);
        if (!e) {
            long *sizes = calloc((size_t)loco_router_paths(router), sizeof(long));
            if (sizes) {
                for (int i = 0; i < docs.n_docs; i++) sizes[paths[(size_t)i * topk]]++;
                printf("loco route assign: %d documents -> %s; documents per path (best):", docs.n_docs, out);
                for (int p = 0; p < loco_router_paths(router); p++) printf(" %ld", sizes[p]);
                printf("\n");
            }
            free(sizes);
        }
    }
    if (e) fprintf(stderr, "loco route assign: %s\n", msg);
    free(paths);
    loco_gpt_free(model);
    loco_shard_close(&sh);
    loco_router_free(router);
    return e ? 1 : 0;
}

int loco_cmd_route(int argc, char **argv) {
    if (argc >= 1 && !strcmp(argv[0], "fit")) return cmd_fit(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "assign")) return cmd_assign(argc - 1, argv + 1);
    if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("usage: loco route fit|assign [flags]  (--help on each)\n\n"
               "DiPaCo document routing: fit a router on a shard's documents, or route them with one.\n");
        return 0;
    }
    fprintf(stderr, "loco route: expected fit or assign (see loco route --help)\n");
    return 2;
}
