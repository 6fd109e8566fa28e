/*
 * `loco eval --per-doc` and `loco eval --dipaco DIR`: perplexity document by
 * document, with the first `prefix` tokens of every document used for
 * routing and not scored, so that a dense model and a DiPaCo model are
 * scored on exactly the same tokens.
 *
 * Document x[0..n) is scored on the targets j in [prefix, n) (x[j] predicted
 * from x[<j]), in blocks of W consecutive targets.  Block [j0, j1) is scored
 * by one forward pass over the window x[a .. j1 - 1), a = max(0, j1 - 1 - T),
 * so that every target sees up to T tokens of context; the window is padded
 * at its end to T tokens, which a causal model never looks at.  The block's
 * path is chosen from the document's first `prefix` tokens, or, with
 * --reroute, from the `prefix` tokens just before the block (x[j0 - prefix ..
 * j0)), as a model that switches path every W tokens would.  Windows of one
 * path are batched together and the losses are summed in double, block by
 * block in document order, so the result does not depend on the batching.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/eval_docs.h"
#include "loco/checkpoint.h"
#include "loco/dipaco.h"
#include "loco/route.h"
#include "loco/shard.h"

typedef struct {
    int doc, j0, j1, path;
} block;

/* Routes the `len` tokens at x through the router (with features from fm
 * unless random); returns the path or a negative loco_err. */
static int route_tokens(const loco_router *r, loco_gpt *fm, const int *x, int len, float *feat) {
    int p;
    if (loco_router_kind_of(r) != LOCO_ROUTER_RANDOM && loco_route_features(fm, x, 1, len, feat) != LOCO_OK)
        return LOCO_EINVAL;
    int e = loco_router_route(r, feat, x, len, 1, &p, NULL);
    return e ? e : p;
}

static void tokens_of(const loco_shard *s, uint64_t from, int n, int *out) {
    for (int i = 0; i < n; i++)
        out[i] = s->token_bytes == 2 ? ((const uint16_t *)s->tokens)[from + i]
                                     : (int)((const uint32_t *)s->tokens)[from + i];
}

int loco_cli_eval_docs(const eval_docs_args *a) {
    char msg[512];
    int status = 1;
    loco_shard sh;
    memset(&sh, 0, sizeof sh);
    loco_dipaco_layout lay;
    loco_router *router = NULL;
    loco_gpt *m = NULL, *fm = NULL;
    block *blocks = NULL;
    int *x = NULL, *y = NULL, *buf = NULL;
    float *feat = NULL;
    double *path_tokens = NULL;
    int P = 1;
    char tokenizer[256] = "", router_path[256] = "";
    loco_gpt_config cfg;

    if (a->dipaco) {
        if (loco_dipaco_load_layout(a->dipaco, &lay, tokenizer, router_path, msg, sizeof msg)) goto fail;
        cfg = lay.g;
        P = lay.n_paths;
        const char *rp = a->router ? a->router : router_path;
        if (!rp[0]) {
            snprintf(msg, sizeof msg, "%s has no router: give --router FILE", a->dipaco);
            status = 2;
            goto fail;
        }
        if (loco_router_load(&router, rp, msg, sizeof msg)) goto fail;
        if (loco_router_paths(router) != P) {
            snprintf(msg, sizeof msg, "router %s has %d paths but %s has %d", rp, loco_router_paths(router),
                     a->dipaco, P);
            goto fail;
        }
    } else if (loco_checkpoint_read_config(a->checkpoint, &cfg, msg, sizeof msg)) {
        goto fail;
    }
    const int T = a->T > 0 && a->T < cfg.max_seq_len ? a->T : cfg.max_seq_len, B = a->B;
    const int prefix = a->prefix, W = a->block > 0 && a->block <= T ? a->block : T;
    if (a->reroute && !router) {
        snprintf(msg, sizeof msg, "--reroute needs a DiPaCo model (--dipaco)");
        status = 2;
        goto fail;
    }
    if (router && prefix != loco_router_prefix(router)) {
        snprintf(msg, sizeof msg, "--prefix %d differs from the router's %d", prefix, loco_router_prefix(router));
        status = 2;
        goto fail;
    }
    if (loco_shard_open(&sh, a->val_shard, cfg.vocab_size, 1, msg, sizeof msg)) goto fail;
    if ((int)sh.vocab_size != cfg.vocab_size) {
        snprintf(msg, sizeof msg, "%s has vocabulary %d but the model %d", a->val_shard, (int)sh.vocab_size,
                 cfg.vocab_size);
        goto fail;
    }
    if (a->dipaco) {
        if (loco_gpt_create(&m, &cfg, B, T, 0, msg, sizeof msg)) goto fail;
    } else if (loco_checkpoint_load(a->checkpoint, &m, B, T, NULL, msg, sizeof msg)) {
        goto fail;
    }
    if (router && loco_router_kind_of(router) != LOCO_ROUTER_RANDOM) {
        const char *fp = loco_router_feature_model(router);
        if (loco_checkpoint_load(fp, &fm, 1, prefix, NULL, msg, sizeof msg)) goto fail;
        if (loco_gpt_get_config(fm)->channels != loco_router_dim(router)) {
            snprintf(msg, sizeof msg, "feature model %s has width %d, the router %d", fp,
                     loco_gpt_get_config(fm)->channels, loco_router_dim(router));
            goto fail;
        }
    }

    /* Blocks: every document's targets from prefix on, W at a time. */
    int n_docs = (int)sh.n_docs;
    if (a->max_docs > 0 && a->max_docs < n_docs) n_docs = a->max_docs;
    size_t n_blocks = 0, cap = 0;
    feat = malloc(sizeof(float) * (size_t)(fm ? loco_gpt_get_config(fm)->channels : 1));
    buf = malloc(sizeof(int) * (size_t)(T + 1 > prefix ? T + 1 : prefix));   /* a window or a prefix */
    path_tokens = calloc((size_t)P, sizeof(double));
    if (!feat || !buf || !path_tokens) goto oom;
    long skipped = 0;
    for (int d = 0; d < n_docs; d++) {
        uint64_t off = sh.doc_offsets[d];
        int n = (int)(sh.doc_offsets[d + 1] - off);
        if (n <= prefix) {
            skipped++;
            continue;
        }
        int p0 = 0;
        if (router) {
            tokens_of(&sh, off, prefix, buf);
            if ((p0 = route_tokens(router, fm, buf, prefix, feat)) < 0) goto bad_token;
        }
        for (int j0 = prefix; j0 < n; j0 += W) {
            int p = p0;
            if (a->reroute && j0 > prefix) {
                tokens_of(&sh, off + (uint64_t)(j0 - prefix), prefix, buf);
                if ((p = route_tokens(router, fm, buf, prefix, feat)) < 0) goto bad_token;
            }
            if (n_blocks == cap) {
                cap = cap ? 2 * cap : 1024;
                block *nb = realloc(blocks, cap * sizeof *blocks);
                if (!nb) goto oom;
                blocks = nb;
            }
            blocks[n_blocks++] = (block){d, j0, j0 + W < n ? j0 + W : n, p};
        }
    }
    if (n_blocks == 0) {
        snprintf(msg, sizeof msg, "%s holds no document longer than --prefix %d", a->val_shard, prefix);
        goto fail;
    }

    /* Score the blocks path by path; each block's loss goes to its own slot
     * so that the final sum runs in block order. */
    double *block_nats = calloc(n_blocks, sizeof(double));
    size_t *idx = malloc(sizeof(size_t) * (size_t)B);
    x = malloc(sizeof(int) * (size_t)B * T);
    y = malloc(sizeof(int) * (size_t)B * T);
    if (!block_nats || !idx || !x || !y) {
        free(block_nats);
        free(idx);
        goto oom;
    }
    double t0 = loco_cli_now();
    int paths_used = 0;
    for (int p = 0; p < P; p++) {
        size_t first = 0;
        while (first < n_blocks && blocks[first].path != p) first++;
        if (first == n_blocks) continue;
        paths_used++;
        if (a->dipaco && loco_dipaco_load_path(a->dipaco, &lay, p, loco_gpt_params(m), msg, sizeof msg)) {
            free(block_nats);
            free(idx);
            goto fail;
        }
        for (size_t k = first; k < n_blocks;) {
            int b = 0;
            for (; k < n_blocks && b < B; k++) {
                if (blocks[k].path != p) continue;
                const block *bl = &blocks[k];
                uint64_t off = sh.doc_offsets[bl->doc];
                int start = bl->j1 - 1 - T > 0 ? bl->j1 - 1 - T : 0, len = bl->j1 - start;
                tokens_of(&sh, off + (uint64_t)start, len, buf);
                for (int t = 0; t < T; t++) {
                    x[b * T + t] = t < len - 1 ? buf[t] : 0;
                    y[b * T + t] = t < len - 1 ? buf[t + 1] : 0;
                }
                idx[b++] = k;
            }
            if (b == 0) break;
            if (loco_gpt_forward(m, x, y, b, T) != LOCO_OK) {
                free(block_nats);
                free(idx);
                goto bad_token;
            }
            const float *losses = loco_gpt_losses(m);
            for (int i = 0; i < b; i++) {
                const block *bl = &blocks[idx[i]];
                int start = bl->j1 - 1 - T > 0 ? bl->j1 - 1 - T : 0;
                double s = 0;
                /* Input position t predicts target start + t + 1. */
                for (int j = bl->j0; j < bl->j1; j++) s += losses[(size_t)i * T + (j - 1 - start)];
                block_nats[idx[i]] = s;
            }
        }
    }
    double nats = 0, scored = 0;
    for (size_t k = 0; k < n_blocks; k++) {
        nats += block_nats[k];
        scored += blocks[k].j1 - blocks[k].j0;
        path_tokens[blocks[k].path] += blocks[k].j1 - blocks[k].j0;
    }
    free(block_nats);
    free(idx);
    double loss = nats / scored;
    size_t touched = a->dipaco ? lay.path_params : loco_gpt_num_params(m);
    printf("loco eval: %s on %s: %d documents (%ld shorter than %d skipped), %.0f tokens scored after the "
           "first %d of each, windows of %d, blocks of %d%s, in %.1f s\n",
           a->dipaco ? a->dipaco : a->checkpoint, a->val_shard, n_docs, skipped, prefix + 1, scored, prefix, T,
           W, a->reroute ? ", re-routed every block" : "", loco_cli_now() - t0);
    if (a->dipaco) {
        printf("paths used %d of %d; tokens per path:", paths_used, P);
        for (int p = 0; p < P; p++) printf(" %.0f", path_tokens[p]);
        printf("\n");
    }
    printf("parameters per token: %zu\n", touched);
    printf("val_loss %.4f\nval_ppl %.3f\n", loss, exp(loss));
    status = 0;
    goto done;
bad_token:
    snprintf(msg, sizeof msg, "%s holds a token outside the model's vocabulary", a->val_shard);
    goto fail;
oom:
    snprintf(msg, sizeof msg, "out of memory");
fail:
    fprintf(stderr, "loco eval: %s\n", msg);
done:
    free(blocks);
    free(x);
    free(y);
    free(buf);
    free(feat);
    free(path_tokens);
    loco_gpt_free(m);
    loco_gpt_free(fm);
    loco_router_free(router);
    loco_shard_close(&sh);
    return status;
}
