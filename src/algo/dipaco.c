/*
 * DiPaCo's module layout and module merge (include/loco/dipaco.h): pure
 * functions over arrays, shared by the simulator and the drivers.
 *
 * A path's parameters are an ordinary loco_gpt block, whose per-layer tensors
 * are stacked over layers: tensor i of layer j lies at off_i + j * s_i, with
 * s_i the size of one layer's slice.  The blocks [l0, l0 + n) of a level are
 * therefore one contiguous run per stacked tensor, so a level module is the
 * concatenation of 12 runs and a base module of 4 (wte, wpe, lnfw, lnfb).
 * Gathering a path and reducing into modules are copies and sums over these
 * runs, nothing more.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/dipaco.h"

/* Returns LOCO_EINVAL with a reason for malformed text. */
int loco_dipaco_parse(const char *text, loco_dipaco_config *out, char *msg, size_t msglen) {
    loco_dipaco_config d;
    memset(&d, 0, sizeof d);
    d.shared_base = 1;
    const char *p = text;
    if (!p || !*p) goto bad;
    for (;;) {
        char *end;
        long n = strtol(p, &end, 10);
        if (end == p || (*end != 'x' && *end != 'X')) goto bad;
        p = end + 1;
        long k = strtol(p, &end, 10);
        if (end == p || n < 1 || k < 1 || n > 1024 || k > LOCO_DIPACO_MAX_PATHS) goto bad;
        if (d.n_levels == LOCO_DIPACO_MAX_LEVELS) {
            snprintf(msg, msglen, "'%s': at most %d levels", text, LOCO_DIPACO_MAX_LEVELS);
            return LOCO_EINVAL;
        }
        d.layers[d.n_levels] = (int)n;
        d.modules[d.n_levels++] = (int)k;
        p = end;
        if (!*p) break;
        if (*p++ != ',') goto bad;
    }
    *out = d;
    return LOCO_OK;
bad:
    snprintf(msg, msglen, "'%s': expected levels like 1x4,1x4 (blocks x modules per level)",
             text ? text : "");
    return LOCO_EINVAL;
}

static const int base_tensors[] = {LOCO_P_WTE, LOCO_P_WPE, LOCO_P_LNFW, LOCO_P_LNFB};

/* Sizes of parameter tensor i under g: the whole tensor, and (for tensors
 * stacked over layers) one layer's slice. */
static size_t tensor_size(const loco_gpt_config *g, int i) {
    const size_t C = (size_t)g->channels, L = (size_t)g->n_layer;
    switch (i) {
    case LOCO_P_WTE: return (size_t)g->vocab_size * C;
    case LOCO_P_WPE: return (size_t)g->max_seq_len * C;
    case LOCO_P_QKVW: return L * 3 * C * C;
    case LOCO_P_QKVB: return L * 3 * C;
    case LOCO_P_ATTPROJW: return L * C * C;
    case LOCO_P_FCW: case LOCO_P_FCPROJW: return L * 4 * C * C;
    case LOCO_P_FCB: return L * 4 * C;
    case LOCO_P_LNFW: case LOCO_P_LNFB: return C;
    default: return L * C;   /* ln1w, ln1b, attprojb, ln2w, ln2b, fcprojb */
    }
}

/* Returns LOCO_ECONFIG with a reason when d does not fit g. */
int loco_dipaco_layout_init(loco_dipaco_layout *l, const loco_gpt_config *g, const loco_dipaco_config *d,
                            char *msg, size_t msglen) {
    memset(l, 0, sizeof *l);
    if (loco_gpt_config_check(g, msg, msglen) != LOCO_OK) return LOCO_ECONFIG;
    if (d->n_levels < 1 || d->n_levels > LOCO_DIPACO_MAX_LEVELS) {
        snprintf(msg, msglen, "DiPaCo needs 1 to %d levels, not %d", LOCO_DIPACO_MAX_LEVELS, d->n_levels);
        return LOCO_ECONFIG;
    }
    long blocks = 0, paths = 1;
    for (int v = 0; v < d->n_levels; v++) {
        if (d->layers[v] < 1 || d->modules[v] < 1) {
            snprintf(msg, msglen, "level %d needs at least one block and one module", v);
            return LOCO_ECONFIG;
        }
        blocks += d->layers[v];
        paths *= d->modules[v];
        if (paths > LOCO_DIPACO_MAX_PATHS) {
            snprintf(msg, msglen, "more than %d paths", LOCO_DIPACO_MAX_PATHS);
            return LOCO_ECONFIG;
        }
    }
    if (blocks != g->n_layer) {
        snprintf(msg, msglen, "the levels hold %ld blocks but the model has %d layers", blocks, g->n_layer);
        return LOCO_ECONFIG;
    }
    l->d = *d;
    l->g = *g;
    l->n_paths = (int)paths;

    /* Offsets of the tensors in a path's block, in canonical order. */
    size_t off[LOCO_NUM_PARAM_TENSORS], o = 0;
    for (int i = 0; i < LOCO_NUM_PARAM_TENSORS; i++) {
        off[i] = o;
        o += tensor_size(g, i);
    }
    l->path_params = o;

    size_t mo = 0;
    for (int k = 0; k < 4; k++) {
        int i = base_tensors[k];
        l->seg[0][k] = (loco_dipaco_segment){off[i], mo, tensor_size(g, i)};
        mo += tensor_size(g, i);
    }
    l->n_seg[0] = 4;
    l->base_size = mo;
    int l0 = 0;
    for (int v = 0; v < d->n_levels; v++) {
        size_t m = 0;
        int ns = 0;
        for (int i = LOCO_P_LN1W; i <= LOCO_P_FCPROJB; i++) {
            size_t per = tensor_size(g, i) / (size_t)g->n_layer;
            l->seg[v + 1][ns++] = (loco_dipaco_segment){off[i] + (size_t)l0 * per, m, (size_t)d->layers[v] * per};
            m += (size_t)d->layers[v] * per;
        }
        l->n_seg[v + 1] = ns;
        l->level_size[v] = m;
        l0 += d->layers[v];
    }

    int n_base = d->shared_base ? 1 : l->n_paths;
    l->first[0] = n_base;
    for (int v = 0; v < d->n_levels; v++) l->first[v + 1] = l->first[v] + d->modules[v];
    l->n_modules = l->first[d->n_levels];
    l->total = (size_t)n_base * l->base_size;
    for (int v = 0; v < d->n_levels; v++) l->total += (size_t)d->modules[v] * l->level_size[v];
    return LOCO_OK;
}

int loco_dipaco_module(const loco_dipaco_layout *l, int p, int level) {
    if (level < 0) return l->d.shared_base ? 0 : p;
    /* Digit `level` of p in mixed radix, level 0 the most significant. */
    int below = 1;
    for (int v = level + 1; v < l->d.n_levels; v++) below *= l->d.modules[v];
    return l->first[level] + (p / below) % l->d.modules[level];
}

int loco_dipaco_module_level(const loco_dipaco_layout *l, int m) {
    for (int v = l->d.n_levels - 1; v >= 0; v--)
        if (m >= l->first[v]) return v;
    return -1;
}

size_t loco_dipaco_module_size(const loco_dipaco_layout *l, int m) {
    int v = loco_dipaco_module_level(l, m);
    return v < 0 ? l->base_size : l->level_size[v];
}

size_t loco_dipaco_module_offset(const loco_dipaco_layout *l, int m) {
    int n_base = l->first[0];
    if (m < n_base) return (size_t)m * l->base_size;
    size_t o = (size_t)n_base * l->base_size;
    for (int v = 0; v < l->d.n_levels; v++) {
        if (m < l->first[v + 1]) return o + (size_t)(m - l->first[v]) * l->level_size[v];
        o += (size_t)l->d.modules[v] * l->level_size[v];
    }
    return o;
}

int loco_dipaco_module_paths(const loco_dipaco_layout *l, int m) {
    int v = loco_dipaco_module_level(l, m);
    if (v < 0) return l->d.shared_base ? l->n_paths : 1;
    return l->n_paths / l->d.modules[v];
}

size_t loco_dipaco_state_floats(const loco_dipaco_layout *l, const loco_outer_config *c) {
    return loco_outer_state_floats(c, l->total);
}

/* Calls fn on each (path run, module run) pair of path p: the base's segments
 * and every level's. */
#define FOR_PATH_SEGMENTS(l, p, BODY)                                              \
    for (int v_ = -1; v_ < (l)->d.n_levels; v_++) {                                \
        int m_ = loco_dipaco_module(l, p, v_);                                     \
        size_t mo_ = loco_dipaco_module_offset(l, m_);                             \
        for (int s_ = 0; s_ < (l)->n_seg[v_ + 1]; s_++) {                          \
            const loco_dipaco_segment *g_ = &(l)->seg[v_ + 1][s_];                 \
            size_t po = g_->path_off, mo = mo_ + g_->mod_off, len = g_->len;       \
            (void)m_;                                                              \
            BODY                                                                   \
        }                                                                          \
    }

void loco_dipaco_gather(const loco_dipaco_layout *l, const float *modules, int p, float *path) {
    FOR_PATH_SEGMENTS(l, p, { memcpy(path + po, modules + mo, len * sizeof(float)); })
}

void loco_dipaco_scatter(const loco_dipaco_layout *l, const float *path, float *modules) {
    /* Every module of every level is some path's module; paths 0..P-1 cover
     * them all, and copies of the same slice of `path` are idempotent. */
    for (int p = 0; p < l->n_paths; p++)
        FOR_PATH_SEGMENTS(l, p, { memcpy(modules + mo, path + po, len * sizeof(float)); })
}

void loco_dipaco_accumulate(const loco_dipaco_layout *l, int p, double w, const float *path, double *sum,
                            double *wsum) {
    for (int v = -1; v < l->d.n_levels; v++) wsum[loco_dipaco_module(l, p, v)] += w;
    FOR_PATH_SEGMENTS(l, p, {
        double *s = sum + mo;
        const float *x = path + po;
        for (size_t j = 0; j < len; j++) s[j] += w * (double)x[j];
    })
}

/* Returns the modules stepped, or LOCO_ENONFINITE. */
int loco_dipaco_merge(const loco_dipaco_layout *l, const loco_outer_config *c, float *modules, float *state,
                      long *t, const double *sum, const double *wsum, float *target) {
    int stepped = 0;
    size_t per = loco_outer_state_floats(c, 1);
    for (int m = 0; m < l->n_modules; m++) {
        if (!(wsum[m] > 0)) continue;
        size_t o = loco_dipaco_module_offset(l, m), n = loco_dipaco_module_size(l, m);
        for (size_t j = 0; j < n; j++) {
            target[o + j] = (float)(sum[o + j] / wsum[m]);
            if (!isfinite(target[o + j])) return LOCO_ENONFINITE;
        }
        /* Adam's state is m then v for the same n parameters; a module's
         * slice of state is therefore 2n floats starting at 2o. */
        loco_outer_step(c, modules + o, target + o, state + per * o, n, ++t[m]);
        stepped++;
    }
    return stepped;
}
