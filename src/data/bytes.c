/* The byte-level corpus behind the training demo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/data.h"
#include "core/file.h"

/* Splits the corpus into a training head and a validation tail of val_frac;
 * returns LOCO_EINVAL when val_frac is outside (0, 1) or either part would
 * hold fewer than min_split bytes. */
static int split(loco_bytes_dataset *d, double val_frac, size_t min_split) {
    if (!(val_frac > 0 && val_frac < 1)) return LOCO_EINVAL;
    size_t n_val = (size_t)(d->n * val_frac);
    d->n_train = d->n - n_val;
    return (d->n_train < min_split || n_val < min_split) ? LOCO_EINVAL : LOCO_OK;
}

int loco_dataset_load(loco_bytes_dataset *d, const char *path, double val_frac,
                      size_t min_split, char *msg, size_t msglen) {
    memset(d, 0, sizeof *d);
    FILE *f = loco_file_open_input(path, msg, msglen);
    if (!f) return LOCO_EIO;
    size_t cap = 1 << 20;
    d->bytes = malloc(cap);
    for (;;) {
        if (!d->bytes) {
            fclose(f);
            snprintf(msg, msglen, "%s: out of memory reading the file", path);
            return LOCO_ENOMEM;
        }
        d->n += fread(d->bytes + d->n, 1, cap - d->n, f);
        if (d->n < cap) break;
        uint8_t *grown = realloc(d->bytes, cap * 2);
        if (!grown) free(d->bytes);
        d->bytes = grown;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(msg, msglen, "%s: read error", path);
        loco_dataset_free(d);
        return LOCO_EIO;
    }
    if (split(d, val_frac, min_split) != LOCO_OK) {
        snprintf(msg, msglen, "%s: %zu bytes is too small: each of the train and validation "
                 "splits needs at least %zu bytes (seq_len + 1)", path, d->n, min_split);
        loco_dataset_free(d);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

int loco_dataset_synthetic(loco_bytes_dataset *d, size_t n_bytes, uint64_t seed, double val_frac) {
    memset(d, 0, sizeof *d);
    d->bytes = malloc(n_bytes + 16);
    if (!d->bytes) return LOCO_ENOMEM;
    loco_rng rng;
    loco_rng_seed(&rng, seed);
    while (d->n < n_bytes) {
        int a = (int)(loco_rng_u64(&rng) % 100), b = (int)(loco_rng_u64(&rng) % 100);
        char line[16];
        int k = snprintf(line, sizeof line, "%d+%d=%d\n", a, b, a + b);
        size_t take = d->n + k <= n_bytes ? (size_t)k : n_bytes - d->n;
        memcpy(d->bytes + d->n, line, take);
        d->n += take;
    }
    if (split(d, val_frac, 1) != LOCO_OK) {
        loco_dataset_free(d);
        return LOCO_EINVAL;
    }
    return LOCO_OK;
}

void loco_dataset_free(loco_bytes_dataset *d) {
    free(d->bytes);
    memset(d, 0, sizeof *d);
}

void loco_dataset_batch(const loco_bytes_dataset *d, int which, loco_rng *rng,
                        int B, int T, int *tokens, int *targets) {
    size_t lo = which ? d->n_train : 0, hi = which ? d->n : d->n_train;
    size_t span = hi - lo - (size_t)T;   /* number of valid window starts */
    for (int b = 0; b < B; b++) {
        size_t s = lo + (size_t)(loco_rng_u64(rng) % span);
        for (int t = 0; t < T; t++) {
            tokens[b * T + t] = d->bytes[s + t];
            targets[b * T + t] = d->bytes[s + t + 1];
        }
    }
}
