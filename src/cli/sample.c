/*
 * `loco sample`: generates text from a checkpoint, one token at a time, with
 * temperature and top-k sampling from an explicit, seeded RNG.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "loco/checkpoint.h"
#include "loco/dipaco.h"
#include "loco/route.h"

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Draws a token from logits z (V) at temperature temp among the top k:
 * p_i proportional to exp((z_i - max z) / temp) for z_i at or above the k-th
 * largest logit.  scratch holds V floats. */
static int sample_token(const float *z, int V, float temp, int k, float *scratch, loco_rng *rng) {
    float mx = z[0];
    for (int v = 1; v < V; v++) mx = z[v] > mx ? z[v] : mx;
    if (temp <= 0) {   /* greedy */
        for (int v = 0; v < V; v++) if (z[v] == mx) return v;
    }
    float cut = -INFINITY;
    if (k > 0 && k < V) {
        memcpy(scratch, z, sizeof(float) * V);
        qsort(scratch, V, sizeof(float), cmp_desc);
        cut = scratch[k - 1];
    }
    double sum = 0;
    for (int v = 0; v < V; v++) sum += z[v] >= cut ? exp((z[v] - mx) / temp) : 0;
    double u = loco_rng_uniform(rng) * sum, acc = 0;
    int last = 0;
    for (int v = 0; v < V; v++) {
        if (z[v] < cut) continue;
        acc += exp((z[v] - mx) / temp);
        last = v;
        if (acc > u) return v;
    }
    return last;
}

/* DiPaCo: routes the prompt's first tokens (up to the router's prefix) and
 * loads that one path into m.  Returns 0, or 1 with a reason in msg. */
static int sample_route(loco_gpt *m, const char *dir, const loco_dipaco_layout *lay, const char *router_file,
                        const int *ids, int n, char *msg, size_t msglen) {
    loco_router *r = NULL;
    loco_gpt *fm = NULL;
    float *feat = NULL;
    int path = -1, e;
    if (!router_file || !router_file[0]) {
        snprintf(msg, msglen, "%s names no router: give --router FILE", dir);
        return 1;
    }
    if ((e = loco_router_load(&r, router_file, msg, msglen)) != LOCO_OK) return 1;
    int len = n < loco_router_prefix(r) ? n : loco_router_prefix(r);
    if (loco_router_paths(r) != lay->n_paths) {
        snprintf(msg, msglen, "router %s has %d paths, %s has %d", router_file, loco_router_paths(r), dir,
                 lay->n_paths);
        e = LOCO_EINVAL;
    } else if (loco_router_kind_of(r) != LOCO_ROUTER_RANDOM) {
        e = loco_checkpoint_load(loco_router_feature_model(r), &fm, 1, len, NULL, msg, msglen);
        if (!e && !(feat = malloc(sizeof(float) * (size_t)loco_gpt_get_config(fm)->channels))) e = LOCO_ENOMEM;
        if (!e && loco_route_features(fm, ids, 1, len, feat) != LOCO_OK) {
            snprintf(msg, msglen, "the prompt holds a token outside the feature model's vocabulary");
            e = LOCO_EINVAL;
        }
    }
    if (!e && (e = loco_router_route(r, feat, ids, len, 1, &path, NULL)) != LOCO_OK)
        snprintf(msg, msglen, "cannot route the prompt");
    if (!e) e = loco_dipaco_load_path(dir, lay, path, loco_gpt_params(m), msg, msglen);
    if (!e)
        fprintf(stderr, "loco sample: %s router chose path %d of %d from the prompt's first %d tokens\n",
                loco_router_kind_name(loco_router_kind_of(r)), path, lay->n_paths, len);
    if (e == LOCO_ENOMEM) snprintf(msg, msglen, "out of memory");
    free(feat);
    loco_gpt_free(fm);
    loco_router_free(r);
    return e ? 1 : 0;
}

int loco_cmd_sample(int argc, char **argv) {
    const char *ckpt = NULL, *tokenizer = NULL, *prompt = "\n", *dipaco = NULL, *router_file = NULL;
    int n_tokens = 200, top_k = 40, threads = 0;
    float temp = 0.8f;
    uint64_t seed = 1;
    const arg_spec specs[] = {
        {"checkpoint", ARG_STR, &ckpt, 0, 0, "model checkpoint (.safetensors)"},
        {"tokenizer", ARG_STR, &tokenizer, 0, 0, "tokenizer (default: the checkpoint's; none for bytes)"},
        {"prompt", ARG_STR, &prompt, 0, 0, "text to continue"},
        {"tokens", ARG_INT, &n_tokens, 1, 1e7, "tokens to generate"},
        {"temperature", ARG_FLOAT, &temp, 0, 100, "sampling temperature (0: greedy)"},
        {"top-k", ARG_INT, &top_k, 0, 1e9, "sample among the k most likely tokens (0: all)"},
        {"seed", ARG_U64, &seed, 0, 1.8e19, "sampling seed"},
        {"threads", ARG_INT, &threads, 0, 1024, "threads (0: OMP_NUM_THREADS or all cores)"},
        {"dipaco", ARG_STR, &dipaco, 0, 0, "a DiPaCo model directory: the prompt chooses the path"},
        {"router", ARG_STR, &router_file, 0, 0, "DiPaCo: the router (default: the one the model names)"},
    };
    char err[512], msg[512];
    int r = args_parse(specs, sizeof specs / sizeof specs[0], argc, argv,
                       "usage: loco sample (--checkpoint FILE | --dipaco DIR) [flags]\n\nGenerates text from a model (DiPaCo: "
                       "from the one path the prompt is routed to).", err, sizeof err);
    if (r == 1) return 0;
    if (r < 0) { fprintf(stderr, "loco sample: %s\n", err); return 2; }
    if (!ckpt == !dipaco) { fprintf(stderr, "loco sample: give one of --checkpoint or --dipaco\n"); return 2; }
    loco_threads_set(threads);
    loco_gpt_config cfg;
    loco_checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    loco_dipaco_layout lay;
    char dp_router[256] = "";
    if (dipaco) {
        if (loco_dipaco_load_layout(dipaco, &lay, meta.tokenizer, dp_router, msg, sizeof msg)) {
            fprintf(stderr, "loco sample: %s\n", msg);
            return 1;
        }
        cfg = lay.g;
    } else if (loco_checkpoint_read_config(ckpt, &cfg, msg, sizeof msg)) {
        fprintf(stderr, "loco sample: %s\n", msg);
        return 1;
    }
    loco_gpt *m;
    const int T = cfg.max_seq_len, V = cfg.vocab_size;
    if (dipaco ? loco_gpt_create(&m, &cfg, 1, T, 0, msg, sizeof msg)
               : loco_checkpoint_load(ckpt, &m, 1, T, &meta, msg, sizeof msg)) {
        fprintf(stderr, "loco sample: %s\n", msg);
        return 1;
    }
    if (dipaco && !router_file) router_file = dp_router;
    loco_tokenizer *tok = NULL;
    const char *tspec = tokenizer ? tokenizer : (meta.tokenizer[0] ? meta.tokenizer : NULL);
    if (!tspec && V != 256) {
        fprintf(stderr, "loco sample: %s has vocabulary %d and records no tokenizer: give --tokenizer\n", ckpt, V);
        loco_gpt_free(m);
        return 2;
    }
    if (tspec && loco_cli_model_tokenizer(&tok, tokenizer, ckpt, meta.tokenizer, dipaco, msg, sizeof msg)) {
        fprintf(stderr, "loco sample: %s\n", msg);
        loco_gpt_free(m);
        return 1;
    }
    if (tok && loco_tokenizer_vocab_size(tok) != V) {
        fprintf(stderr, "loco sample: tokenizer %s has vocabulary %d, the model %d\n", tspec,
                loco_tokenizer_vocab_size(tok), V);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return 1;
    }
    size_t plen = strlen(prompt);
    size_t cap = plen + (size_t)n_tokens + 1;
    int *ids = malloc(sizeof(int) * cap);
    float *scratch = malloc(sizeof(float) * V);
    long n = 0;
    if (!ids || !scratch) {
        fprintf(stderr, "loco sample: out of memory\n");
        free(ids); free(scratch);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return 1;
    }
    if (tok) n = loco_tokenizer_encode(tok, (const uint8_t *)prompt, plen, ids, cap);
    if (n < 0) {
        fprintf(stderr, "loco sample: cannot encode the prompt (%s)\n", loco_strerror((int)n));
        free(ids); free(scratch);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return 1;
    }
    if (!tok) for (size_t i = 0; i < plen; i++) ids[n++] = (unsigned char)prompt[i];
    if (n <= 0) {
        /* An empty prompt starts from a document boundary (or a newline). */
        ids[0] = tok ? loco_tokenizer_eot(tok) : '\n';
        n = 1;
    }
    if (dipaco && sample_route(m, dipaco, &lay, router_file, ids, (int)n, msg, sizeof msg)) {
        fprintf(stderr, "loco sample: %s\n", msg);
        free(ids); free(scratch);
        loco_tokenizer_free(tok);
        loco_gpt_free(m);
        return 1;
    }
    fwrite(prompt, 1, plen, stdout);
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    for (int i = 0; i < n_tokens; i++) {
        /* The context is the last T tokens: learned positions end at T. */
        long ctx = n < T ? n : T;
        if (loco_gpt_forward(m, ids + n - ctx, NULL, 1, (int)ctx) != LOCO_OK) {
            fprintf(stderr, "loco sample: the prompt holds a token outside the model's vocabulary\n");
            free(ids); free(scratch);
            loco_tokenizer_free(tok);
            loco_gpt_free(m);
            return 1;
        }
        int next = sample_token(loco_gpt_logits(m) + (size_t)(ctx - 1) * V, V, temp, top_k, scratch, &rng);
        ids[n++] = next;
        if (tok) {
            size_t len;
            const uint8_t *b = loco_tokenizer_token(tok, next, &len);
            fwrite(b, 1, len, stdout);
        } else {
            putchar(next);
        }
        fflush(stdout);
    }
    putchar('\n');
    free(ids);
    free(scratch);
    loco_tokenizer_free(tok);
    loco_gpt_free(m);
    return 0;
}
