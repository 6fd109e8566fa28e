/*
 * libFuzzer target for the demonstration reader (src/env/web/record.c):
 * every input goes to loco_env_demos_parse, as it is and with its checksum
 * made right.  A rejected input leaves no
 * episodes; an accepted one must hold valid tasks, action types and step
 * counts, and must serialise back to the same bytes (the format has one
 * encoding), and every episode must replay without a crash.
 *
 * Seeds: LLVMFuzzerInitialize writes a file of two demonstrator episodes
 * into each corpus directory on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "loco/env.h"

/* Runs the demonstrator on task t from seed s; fills one episode. */
static int record(int t, uint64_t s, loco_env_episode *ep, loco_env_action *acts, uint64_t *digs, int cap) {
    static loco_env_obs obs;
    loco_env_action act;
    float r;
    uint8_t te = 0, tr = 0, su = 0;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &r, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = t};
    loco_env *e;
    loco_env_demo *d;
    if (loco_env_create(&e, &c, &b, NULL, 0)) return -1;
    if (loco_env_demo_create(&d, 1)) { loco_env_free(e); return -1; }
    loco_env_reset_one(e, 0, s);
    int n = 0;
    while (n < cap && !te && !tr) {
        loco_env_demo_act(d, 0, &obs, &act);
        acts[n] = act;
        loco_env_step(e);
        digs[n++] = loco_env_obs_digest(&obs);
    }
    snprintf(ep->task, sizeof ep->task, "%s", loco_env_task_name(t));
    ep->seed = s; ep->step_ms = 100; ep->ret = r; ep->success = su; ep->n_steps = n;
    ep->actions = acts; ep->digests = digs;
    loco_env_demo_free(d);
    loco_env_free(e);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    for (int i = 1; i < *argc; i++) {
        struct stat st;
        if ((*argv)[i][0] == '-' || stat((*argv)[i], &st) || !S_ISDIR(st.st_mode)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/seed.demo", (*argv)[i]);
        if (!access(path, F_OK)) continue;
        static loco_env_action acts[2][128];
        static uint64_t digs[2][128];
        loco_env_episode eps[2];
        if (record(loco_env_task_find("click-checkboxes"), 3, &eps[0], acts[0], digs[0], 128) ||
            record(loco_env_task_find("enter-text"), 4, &eps[1], acts[1], digs[1], 128))
            continue;
        loco_env_demos_write(path, eps, 2, NULL, 0);
    }
    return 0;
}

static void replay(const loco_env_episode *ep) {
    static loco_env_obs obs;
    loco_env_action act;
    float r;
    uint8_t te, tr, su;
    int32_t er;
    loco_env_buffers b = {&obs, NULL, &act, &r, &te, &tr, &su, &er};
    loco_env_config c = {.num_envs = 1, .task = loco_env_task_find(ep->task), .step_ms = ep->step_ms};
    loco_env *e;
    if (loco_env_create(&e, &c, &b, NULL, 0)) abort();   /* the reader accepted the task and step */
    loco_env_reset_one(e, 0, ep->seed);
    for (int s = 0; s < ep->n_steps && s < 300; s++) {
        act = ep->actions[s];
        loco_env_step(e);
    }
    loco_env_free(e);
}

static int one(const uint8_t *data, size_t size) {
    loco_env_episode *eps = NULL;
    int n = -1;
    char msg[256];
    int err = loco_env_demos_parse(data, size, &eps, &n, msg, sizeof msg);
    if (err) {
        if (eps || n != 0 || !msg[0] || strchr(msg, '\n')) abort();
        return 0;
    }
    for (int k = 0; k < n; k++) {
        if (loco_env_task_find(eps[k].task) < 0 || eps[k].n_steps < 0) abort();
        for (int s = 0; s < eps[k].n_steps; s++)
            if (eps[k].actions[s].type < 0 || eps[k].actions[s].type >= LOCO_ENV_NUM_ACTION_TYPES) abort();
    }
    /* the one encoding: writing the episodes back gives the input */
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_demo_%d.bin", (int)getpid());
    if (loco_env_demos_write(path, eps, n, msg, sizeof msg) == 0) {
        FILE *f = fopen(path, "rb");
        uint8_t *back = malloc(size + 1);
        size_t got = f && back ? fread(back, 1, size + 1, f) : 0;
        if (f) fclose(f);
        if (got != size || memcmp(back, data, size)) abort();
        free(back);
        unlink(path);
    }
    for (int k = 0; k < n && k < 4; k++) replay(&eps[k]);
    free(eps);
    return 0;
}

/* Each input twice: as it is (the checksum rejects almost every mutation)
 * and with its last four bytes replaced by the right CRC-32, so that the
 * structure behind the checksum is fuzzed too. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    one(data, size);
    if (size >= 4 && size < (1u << 20)) {
        uint8_t *fixed = malloc(size);
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
        memcpy(fixed + size - 4, &crc, 4);
        one(fixed, size);
        free(fixed);
    }
    return 0;
}
