/*
 * The vectorised API: N pages, caller-owned buffers, NEXT_STEP auto-reset,
 * a simulated clock, MiniWoB++'s reward processors and a float-only log.
 *
 * Time is simulated: every step (valid action) advances the page clock by
 * step_ms before the action runs; a step that would pass the task's limit
 * (10 s as core.EPISODE_MAX_TIME; 15 s for a few tasks, as upstream) ends the
 * episode as MiniWoB++'s timer does, with endEpisode(-1, false), reported as
 * truncated.  An invalid action is refused with an error code and costs no
 * time, so a buggy agent cannot shorten its episodes silently.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "core/fail.h"
#include "env/web/web.h"
#include "env/web/raster.h"

struct loco_env {
    loco_env_config cfg;
    loco_env_buffers buf;
    loco__page *pages;     /* (N) */
    int *tasks;            /* (N) */
    uint8_t *ended;        /* (N) the last step ended the episode: reset on the next */
    uint64_t *episodes;    /* (N) episodes started, for seed derivation */
    float *ret;            /* (N) return of the running episode */
    loco_env_log *logs;    /* (N) per env, summed by loco_env_log_take */
    loco__font *font;      /* glyph cache, shared read-only by all envs (pixels only) */
    loco__frame *frames;   /* (N) each env's last frame without the pointer (pixels only) */
};

int loco_env_task_count(void) { return loco__n_tasks; }
const char *loco_env_task_name(int t) { return t >= 0 && t < loco__n_tasks ? loco__tasks[t]->name : NULL; }
int loco_env_task_find(const char *name) {
    for (int t = 0; t < loco__n_tasks; t++)
        if (!strcmp(loco__tasks[t]->name, name)) return t;
    return -1;
}

static uint64_t splitmix(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* The seed of env i's k-th episode: a hash of (base, i, k), so that every
 * env draws its own stream of instances whatever the thread count. */
static uint64_t derive(uint64_t base, int i, uint64_t k) {
    return splitmix(base ^ splitmix(((uint64_t)i << 40) ^ k));
}

int loco_env_create(loco_env **out, const loco_env_config *cfg, const loco_env_buffers *buf,
                    char *msg, size_t msglen) {
    *out = NULL;
    int n = cfg->num_envs;
    if (n < 1 || n > (1 << 20)) return loco__fail(msg, msglen, LOCO_EINVAL, "num_envs must be in [1, 2^20]");
    if (!buf->obs || !buf->actions || !buf->rewards || !buf->terminated || !buf->truncated ||
        !buf->success || !buf->errors)
        return loco__fail(msg, msglen, LOCO_EINVAL, "every buffer except pixels is required");
    if (cfg->pixels && !buf->pixels)
        return loco__fail(msg, msglen, LOCO_EINVAL, "pixels asked for without a pixel buffer");
    if (cfg->reward < 0 || cfg->reward > LOCO_ENV_REWARD_BINARY)
        return loco__fail(msg, msglen, LOCO_EINVAL, "unknown reward kind %d", cfg->reward);
    for (int i = 0; i < n; i++) {
        int t = cfg->task_ids ? cfg->task_ids[i] : cfg->task;
        if (t < 0 || t >= loco__n_tasks)
            return loco__fail(msg, msglen, LOCO_EINVAL, "env %d: task %d out of range [0, %d)", i, t, loco__n_tasks);
    }
    loco_env *e = calloc(1, sizeof *e);
    if (!e) return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory");
    e->cfg = *cfg;
    e->cfg.task_ids = NULL;
    if (e->cfg.step_ms <= 0) e->cfg.step_ms = 100.0f;
    if (e->cfg.threads < 1) e->cfg.threads = 1;
    e->buf = *buf;
    e->pages = calloc((size_t)n, sizeof *e->pages);
    e->tasks = calloc((size_t)n, sizeof *e->tasks);
    e->ended = calloc((size_t)n, 1);
    e->episodes = calloc((size_t)n, sizeof *e->episodes);
    e->ret = calloc((size_t)n, sizeof *e->ret);
    e->logs = calloc((size_t)n, sizeof *e->logs);
    if (!e->pages || !e->tasks || !e->ended || !e->episodes || !e->ret || !e->logs) {
        loco_env_free(e);
        return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for %d envs", n);
    }
    for (int i = 0; i < n; i++) e->tasks[i] = cfg->task_ids ? cfg->task_ids[i] : cfg->task;
    /* a step before any reset resets (the pages hold nothing yet) */
    memset(e->ended, 1, (size_t)n);
    if (cfg->pixels) {
        int err = loco__font_load(&e->font, msg, msglen);
        if (err) { loco_env_free(e); return err; }
        e->frames = calloc((size_t)n, sizeof *e->frames);
        if (!e->frames) { loco_env_free(e); return loco__fail(msg, msglen, LOCO_ENOMEM, "out of memory for frames"); }
    }
    *out = e;
    return LOCO_OK;
}

void loco_env_free(loco_env *e) {
    if (!e) return;
    loco__font_free(e->font);
    free(e->frames); free(e->pages); free(e->tasks); free(e->ended); free(e->episodes);
    free(e->ret); free(e->logs);
    free(e);
}

static void write_out(loco_env *e, int i) {
    loco__page *p = &e->pages[i];
    loco__write_obs(p, &e->buf.obs[i]);
    if (e->cfg.pixels)
        loco__render(e->font, p, e->buf.pixels + (size_t)i * LOCO_ENV_H * LOCO_ENV_W * 3, &e->frames[i]);
}

static void reset_page(loco_env *e, int i, uint64_t seed) {
    loco__page *p = &e->pages[i];
    p->task = e->tasks[i];
    p->seed = seed;
    loco_rng_seed(&p->rng, seed);
    loco__page_clear(p);
    loco__tasks[p->task]->gen(p);
    loco__layout(p);
    e->ended[i] = 0;
    e->ret[i] = 0;
    e->buf.rewards[i] = 0;
    e->buf.terminated[i] = e->buf.truncated[i] = e->buf.success[i] = 0;
    e->buf.errors[i] = 0;
    write_out(e, i);
}

void loco_env_reset_one(loco_env *e, int i, uint64_t seed) {
    if (i < 0 || i >= e->cfg.num_envs) return;
    reset_page(e, i, seed);
}

void loco_env_reset(loco_env *e, const uint64_t *seeds) {
    int n = e->cfg.num_envs;
#pragma omp parallel for num_threads(e->cfg.threads) schedule(static) if (e->cfg.threads > 1)
    for (int i = 0; i < n; i++)
        reset_page(e, i, seeds ? seeds[i] : derive(e->cfg.seed, i, e->episodes[i]++));
}

static float processed(const loco_env *e, const loco__page *p) {
    switch (e->cfg.reward) {
    case LOCO_ENV_REWARD_RAW: return p->raw;
    case LOCO_ENV_REWARD_BINARY: return p->raw == 1.0f ? 1.0f : -1.0f;
    default: return p->discounted;
    }
}

static void step_one(loco_env *e, int i) {
    loco__page *p = &e->pages[i];
    if (e->ended[i]) {
        reset_page(e, i, derive(e->cfg.seed, i, e->episodes[i]++));
        return;
    }
    const loco_env_action *a = &e->buf.actions[i];
    e->buf.rewards[i] = 0;
    e->buf.terminated[i] = e->buf.truncated[i] = e->buf.success[i] = 0;
    int err = loco_env_action_check(a, NULL);
    e->buf.errors[i] = err;
    if (err) return;   /* refused: nothing happened, the observation stands */
    p->time_ms += e->cfg.step_ms;
    p->steps++;
    int timeout = p->time_ms > p->max_ms;
    if (!timeout) {
        err = loco__apply(p, a);
        if (err) {   /* a ref that is not on the page: refused, no time passes */
            p->time_ms -= e->cfg.step_ms;
            p->steps--;
            e->buf.errors[i] = err;
            return;
        }
        if (loco__tasks[p->task]->tick && !p->done) loco__tasks[p->task]->tick(p);
    }
    p->prev = *a;
    int truncated = 0;
    if (!p->done && timeout) { loco__end(p, -1.0f, 0, 0); truncated = 1; }
    if (!p->done && e->cfg.max_steps > 0 && p->steps >= e->cfg.max_steps) {
        truncated = 1;
        p->done = 1; p->raw = p->discounted = 0; p->success = 0;
    }
    if (p->done) {
        float r = truncated && !timeout ? 0.0f : processed(e, p);
        e->buf.rewards[i] = r;
        e->ret[i] += r;
        e->buf.terminated[i] = (uint8_t)!truncated;
        e->buf.truncated[i] = (uint8_t)truncated;
        e->buf.success[i] = (uint8_t)(p->success && !truncated);
        e->ended[i] = 1;
        loco_env_log *l = &e->logs[i];
        l->episode_return += e->ret[i];
        l->episode_length += (float)p->steps;
        l->success += (float)e->buf.success[i];
        l->timeout += (float)truncated;
        l->n += 1.0f;
    }
    write_out(e, i);
}

int loco_env_step(loco_env *e) {
    int n = e->cfg.num_envs;
#pragma omp parallel for num_threads(e->cfg.threads) schedule(static) if (e->cfg.threads > 1)
    for (int i = 0; i < n; i++) step_one(e, i);
    for (int i = 0; i < n; i++)
        if (e->buf.errors[i]) return e->buf.errors[i];
    return LOCO_OK;
}

void loco_env_log_take(loco_env *e, loco_env_log *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < e->cfg.num_envs; i++) {
        out->episode_return += e->logs[i].episode_return;
        out->episode_length += e->logs[i].episode_length;
        out->success += e->logs[i].success;
        out->timeout += e->logs[i].timeout;
        out->n += e->logs[i].n;
    }
    memset(e->logs, 0, (size_t)e->cfg.num_envs * sizeof *e->logs);
}

int loco_env_render(loco_env *e, int i, uint8_t *rgb) {
    if (i < 0 || i >= e->cfg.num_envs) return LOCO_EINVAL;
    if (!e->font) return LOCO_ENOTSUP;
    loco__render(e->font, &e->pages[i], rgb, NULL);
    return LOCO_OK;
}

void loco_env_layout(size_t out[5]) {
    out[0] = sizeof(loco_env_obs);
    out[1] = sizeof(loco_env_elem);
    out[2] = sizeof(loco_env_action);
    out[3] = offsetof(loco_env_obs, elems);
    out[4] = offsetof(loco_env_obs, seed);
}
