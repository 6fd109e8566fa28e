/*
 * N rooms stepped together, writing into caller-owned buffers (PufferLib /
 * EnvPool style).  One allocation holds every room and its log; a step reads
 * the caller's actions for its seat, asks the scripted player for the other
 * seat, and writes observations, rewards and the two done flags.  An env
 * that finished on the previous step resets instead of stepping (Gymnasium's
 * NEXT_STEP auto-reset).  Rooms are independent, so OpenMP splits them over
 * threads with no shared writes (each has its own log slot).
 */
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "env/playroom/internal.h"

struct loco_playroom_vec {
    loco_playroom_config cfg;
    loco_playroom_buffers buf;
    loco_playroom_env *envs;     /* (N) */
    loco_playroom_log *logs;     /* (N) sums since the last loco_playroom_vec_log_take */
    uint64_t *episodes;          /* (N) episodes started per env, for their seeds */
    float *returns;              /* (N) the running episode's return */
};

void loco_playroom_config_default(loco_playroom_config *cfg) {
    *cfg = (loco_playroom_config){1, LOCO_PLAYROOM_SOLVER, 128, LOCO_PLAYROOM_SPLIT_TRAIN, -1, 1, 1};
}

static uint64_t mix(uint64_t z) {   /* splitmix64's finaliser */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Episode k of env i: a seed that depends on (seed, i, k) alone. */
static uint64_t episode_seed(uint64_t seed, int i, uint64_t k) {
    return mix(mix(seed ^ mix((uint64_t)i + 0x9e3779b97f4a7c15ULL)) + k);
}

int loco_playroom_vec_create(loco_playroom_vec **out, const loco_playroom_config *cfg, const loco_playroom_buffers *buf,
                             char *msg, size_t msglen) {
    *out = NULL;
    if (cfg->n_envs < 1 || cfg->n_envs > (1 << 20))
        return loco__fail(msg, msglen, LOCO_EINVAL, "n_envs %d is not in [1, 1048576]", cfg->n_envs);
    if (cfg->agent < LOCO_PLAYROOM_SETTER || cfg->agent > LOCO_PLAYROOM_NOBODY)
        return loco__fail(msg, msglen, LOCO_EINVAL, "agent %d is not setter (0), solver (1) or nobody (2)", cfg->agent);
    if (cfg->max_steps < 1 || cfg->max_steps > LOCO_PLAYROOM_MAX_STEPS)
        return loco__fail(msg, msglen, LOCO_EINVAL, "max_steps %d is not in [1, %d]", cfg->max_steps, LOCO_PLAYROOM_MAX_STEPS);
    if (cfg->split < LOCO_PLAYROOM_SPLIT_ALL || cfg->split > LOCO_PLAYROOM_SPLIT_TEST)
        return loco__fail(msg, msglen, LOCO_EINVAL, "split %d is not all (0), train (1) or test (2)", cfg->split);
    if (cfg->family < -1 || cfg->family >= LOCO_PLAYROOM_N_FAMILY)
        return loco__fail(msg, msglen, LOCO_EINVAL, "family %d is not -1 (any) or in [0, %d)", cfg->family, LOCO_PLAYROOM_N_FAMILY);
    if (cfg->split == LOCO_PLAYROOM_SPLIT_TEST && cfg->family == LOCO_PLAYROOM_GO)
        return loco__fail(msg, msglen, LOCO_EINVAL, "the test split has no GO prompts (GO names no object)");
    if (!buf->rewards || !buf->terminals || !buf->truncations || (cfg->agent != LOCO_PLAYROOM_NOBODY && !buf->actions))
        return loco__fail(msg, msglen, LOCO_EINVAL, "the actions, rewards, terminals and truncations buffers are required");
    size_t n = (size_t)cfg->n_envs;
    size_t bytes = sizeof(loco_playroom_vec) + n * (sizeof(loco_playroom_env) + sizeof(loco_playroom_log) + 8 + 4) + 64;
    loco_playroom_vec *v = calloc(1, bytes);
    if (!v) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for %zu rooms", n);
    v->cfg = *cfg, v->buf = *buf;
    uint8_t *p = (uint8_t *)(v + 1);
    p += (64 - (uintptr_t)p % 64) % 64;
    v->envs = (loco_playroom_env *)p, p += n * sizeof(loco_playroom_env);
    v->logs = (loco_playroom_log *)p, p += n * sizeof(loco_playroom_log);
    v->episodes = (uint64_t *)p, p += n * 8;
    v->returns = (float *)p;
    *out = v;
    loco_playroom_vec_reset(v, cfg->seed);
    return LOCO_OK;
}

void loco_playroom_vec_free(loco_playroom_vec *v) { free(v); }

loco_playroom_env *loco_playroom_vec_env(loco_playroom_vec *v, int i) {
    return i >= 0 && i < v->cfg.n_envs ? &v->envs[i] : NULL;
}

static int seat_seen(const loco_playroom_vec *v) {
    return v->cfg.agent == LOCO_PLAYROOM_NOBODY ? LOCO_PLAYROOM_SOLVER : v->cfg.agent;
}

static void begin(loco_playroom_vec *v, int i) {
    loco_playroom_env *e = &v->envs[i];
    /* The config was checked at create, so reset cannot fail. */
    loco_playroom_env_reset(e, episode_seed(v->cfg.seed, i, v->episodes[i]++), v->cfg.split, v->cfg.family,
                            v->cfg.max_steps);
    v->returns[i] = 0.0f;
    v->buf.rewards[i] = 0.0f;
    v->buf.terminals[i] = v->buf.truncations[i] = 0;
}

static void observe(loco_playroom_vec *v, int i) {
    int seat = seat_seen(v);
    if (v->buf.obs) loco_playroom_env_observe(&v->envs[i], seat, v->buf.obs + (size_t)i * LOCO_PLAYROOM_OBS_BYTES);
    if (v->buf.pixels)
        loco_playroom_env_render_rgb(&v->envs[i], seat, v->buf.pixels + (size_t)i * LOCO_PLAYROOM_PIXEL_BYTES);
}

void loco_playroom_vec_reset(loco_playroom_vec *v, uint64_t seed) {
    v->cfg.seed = seed;
    int n = v->cfg.n_envs, threads = v->cfg.threads > 1 ? v->cfg.threads : 1;
    memset(v->logs, 0, (size_t)n * sizeof *v->logs);
    memset(v->episodes, 0, (size_t)n * sizeof *v->episodes);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int i = 0; i < n; i++) {
        begin(v, i);
        observe(v, i);
    }
}

static void step_one(loco_playroom_vec *v, int i) {
    loco_playroom_env *e = &v->envs[i];
    if (e->done) {
        begin(v, i);
        observe(v, i);
        return;
    }
    int32_t acts[2][2];
    for (int p = 0; p < 2; p++) {
        if (p == v->cfg.agent) acts[p][0] = v->buf.actions[2 * i], acts[p][1] = v->buf.actions[2 * i + 1];
        else loco_playroom_env_scripted(e, p, acts[p]);
    }
    int term, trunc;
    float r = loco_playroom_env_step(e, (const int32_t (*)[2])acts, &term, &trunc);
    v->returns[i] += r;
    v->buf.rewards[i] = r;
    v->buf.terminals[i] = (uint8_t)term, v->buf.truncations[i] = (uint8_t)trunc;
    if (term || trunc) {
        loco_playroom_log *l = &v->logs[i];
        int f = e->prompt.family;
        l->episode_return += v->returns[i];
        l->episode_length += (float)e->steps;
        l->score += (float)e->success, l->perf += (float)e->success;
        l->family_success[f] += (float)e->success, l->family_n[f] += 1.0f;
        l->n += 1.0f;
    }
    observe(v, i);
}

void loco_playroom_vec_step(loco_playroom_vec *v) {
    int n = v->cfg.n_envs, threads = v->cfg.threads > 1 ? v->cfg.threads : 1;
    /* One thread skips the OpenMP runtime altogether: even a parallel region
     * with a false if() costs more than a step. */
    if (threads == 1) {
        for (int i = 0; i < n; i++) step_one(v, i);
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int i = 0; i < n; i++) step_one(v, i);
}

void loco_playroom_vec_log_take(loco_playroom_vec *v, loco_playroom_log *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < v->cfg.n_envs; i++) {
        const loco_playroom_log *l = &v->logs[i];
        out->episode_return += l->episode_return, out->episode_length += l->episode_length;
        out->score += l->score, out->perf += l->perf, out->n += l->n;
        for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++)
            out->family_success[f] += l->family_success[f], out->family_n[f] += l->family_n[f];
    }
    if (out->n > 0) {
        out->episode_return /= out->n, out->episode_length /= out->n;
        out->score /= out->n, out->perf /= out->n;
    }
    for (int f = 0; f < LOCO_PLAYROOM_N_FAMILY; f++)
        if (out->family_n[f] > 0) out->family_success[f] /= out->family_n[f];
    memset(v->logs, 0, (size_t)v->cfg.n_envs * sizeof *v->logs);
}
