/* WELCOME from the run spec, for both coordinators (src/cli/coord_welcome.h). */
#include <stdio.h>
#include <stdlib.h>
#include "cli/coord_welcome.h"
#include "loco/net_engine.h"

int coord_key_outer(run_spec *s, loco_net_key *key, loco_net_security *sec, loco_outer_config *outer, char *msg,
                    size_t msglen) {
    if (net_security_load(&s->sec, 1, s->listen, key, sec, msg, msglen)) return 1;
    loco_outer_config_default(outer);
    /* A run spec choice, checked when parsed (the async rules ignore it). */
    if (loco_outer_parse(s->dist.outer_opt, &outer->kind)) {
        snprintf(msg, msglen, "unknown --outer-opt '%s'", s->dist.outer_opt);
        return 2;
    }
    outer->lr = s->dist.outer_lr;
    outer->momentum = s->dist.outer_momentum;
    outer->beta2 = s->dist.outer_beta2;
    return 0;
}

void coord_welcome_fill(loco_net_welcome *r, const run_spec *s) {
    r->model = s->cfg;
    r->batch = s->B;
    r->seq_len = s->T;
    r->inner_steps = s->dist.inner_steps;
    r->steps = s->steps;
    r->inner = s->oc;
    r->inner.max_steps = s->steps;
    r->inner.min_lr = s->oc.lr * s->min_lr_frac;
    r->seed = s->seed;
    r->heartbeat_ms = (uint32_t)(s->heartbeat * 1000 + 0.5);
    if (r->heartbeat_ms < 1) r->heartbeat_ms = 1;
    r->data_kind = s->train_shard ? LOCO_NET_DATA_SHARDS : s->data ? LOCO_NET_DATA_BYTES : LOCO_NET_DATA_EMBEDDED;
}

int coord_welcome_assign(loco_net_welcome *r, const train_shards *ts, int n, int seq_len, const char *what,
                         uint8_t **assign, char *msg, size_t msglen) {
    for (int k = 0; k < n; k++)
        if (loco_split_worker_tokens(ts->split, k) < (uint64_t)seq_len + 1) {
            snprintf(msg, msglen, "%s %d's shard holds %llu tokens, fewer than --seq-len + 1 = %d", what, k,
                     (unsigned long long)loco_split_worker_tokens(ts->split, k), seq_len + 1);
            return 2;
        }
    uint8_t *a = *assign = malloc(4 * (size_t)ts->docs.n_docs);
    if (!a) {
        snprintf(msg, msglen, "out of memory for the split");
        return 1;
    }
    /* Little-endian shard ids, as the protocol carries them. */
    for (int k = 0; k < n; k++) {
        const int *list = loco_split_worker_doc_list(ts->split, k);
        for (long i = 0; i < loco_split_worker_docs(ts->split, k); i++)
            for (int b = 0; b < 4; b++) a[4 * (size_t)list[i] + b] = (uint8_t)((unsigned)k >> (8 * b));
    }
    r->data_docs = r->n_assign = (uint64_t)ts->docs.n_docs;
    r->data_tokens = ts->docs.offsets[ts->docs.n_docs];
    r->data_fingerprint = loco_net_docs_fingerprint(&ts->docs);
    r->assign = a;
    return 0;
}
