/* The Playroom's episode file, replay, held-out set, vectorised API, Python
 * binding and command line: bit-for-bit replay, a reader that refuses every
 * kind of damage, held-out combinations never recorded, auto-reset, no
 * allocation inside a step, and bad input answered with one line. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include "alloc_count.h"
#include "env/playroom/internal.h"
#include "loco/playroom.h"
#include "test.h"
#include "util.h"

#define N_EP 60

static void put_crc(uint8_t *buf, size_t len) {
    uint32_t c = (uint32_t)crc32_z(0L, buf, len - 4);
    for (int i = 0; i < 4; i++) buf[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

LOCO_TEST(playroom_file_replays_bit_for_bit) {
    loco_playroom_env *e;
    static loco_playroom_episode a[N_EP], b[N_EP], c[N_EP];
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (int i = 0; i < N_EP; i++) {
        loco_playroom_play(e, &a[i], 500u + (unsigned)i, LOCO_PLAYROOM_SPLIT_ALL, i % 2 ? -1 : i % 9, 200);
        loco_playroom_play(e, &c[i], 500u + (unsigned)i, LOCO_PLAYROOM_SPLIT_ALL, i % 2 ? -1 : i % 9, 200);
    }
    size_t n = loco_playroom_file_size(a, N_EP);
    uint8_t *buf = malloc(n), *again = malloc(n), *twice = malloc(n);
    CHECK(buf && again && twice, "malloc");
    CHECK(loco_playroom_file_encode(a, N_EP, buf, n) == n, "encode");
    CHECK(loco_playroom_file_encode(a, N_EP, buf, n - 1) == 0, "a short buffer is refused");
    CHECK(loco_playroom_file_encode(c, N_EP, twice, n) == n && !memcmp(buf, twice, n),
          "playing the same seeds twice records different bytes");
    int got;
    char msg[256];
    CHECK(loco_playroom_file_decode(buf, n, b, N_EP, &got, msg, sizeof msg) == LOCO_OK && got == N_EP, "decode: %s", msg);
    CHECK(loco_playroom_file_encode(b, N_EP, again, n) == n && !memcmp(buf, again, n), "decode + encode is not the identity");
    for (int i = 0; i < N_EP; i++) {
        CHECK(loco_playroom_replay(e, &b[i], msg, sizeof msg) == LOCO_OK, "episode %d: %s", i, msg);
        loco_playroom_episode t = b[i];
        t.hash ^= 1;
        CHECK(loco_playroom_replay(e, &t, msg, sizeof msg) == LOCO_ERANGE, "a wrong hash replays");
        t = b[i];
        t.seed++;
        CHECK(loco_playroom_replay(e, &t, msg, sizeof msg) == LOCO_ERANGE, "another seed replays");
        t = b[i];
        t.n_steps--;   /* the episode has not ended */
        CHECK(t.n_steps == 0 || loco_playroom_replay(e, &t, msg, sizeof msg) == LOCO_ERANGE, "a cut episode replays");
    }
    /* Through a file, atomically written. */
    char dir[] = "/tmp/loco_playroom_XXXXXX", path[128];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/ep.bin", dir);
    CHECK(loco_playroom_file_write(path, a, N_EP, msg, sizeof msg) == LOCO_OK, "write: %s", msg);
    loco_playroom_episode *r;
    CHECK(loco_playroom_file_read(path, &r, &got, msg, sizeof msg) == LOCO_OK && got == N_EP, "read: %s", msg);
    if (got == N_EP) {
        CHECK(loco_playroom_file_encode(r, N_EP, again, n) == n && !memcmp(buf, again, n), "the file differs");
        free(r);
    }
    /* Refusals: a directory, a FIFO, a missing file. */
    CHECK(loco_playroom_file_read(dir, &r, &got, msg, sizeof msg) != LOCO_OK && strstr(msg, "not a regular file"),
          "a directory: %s", msg);
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo");
    CHECK(loco_playroom_file_read(path, &r, &got, msg, sizeof msg) != LOCO_OK, "a FIFO is read");
    CHECK(loco_playroom_file_write(path, a, 1, msg, sizeof msg) != LOCO_OK, "a FIFO is replaced");
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");
    free(buf), free(again), free(twice);
    loco_playroom_env_free(e);
}

LOCO_TEST(playroom_file_bad_input) {
    loco_playroom_env *e;
    static loco_playroom_episode a[4], out[4];
    CHECK(loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (int i = 0; i < 4; i++) loco_playroom_play(e, &a[i], 9u + (unsigned)i, LOCO_PLAYROOM_SPLIT_TRAIN, -1, 100);
    size_t n = loco_playroom_file_size(a, 4);
    uint8_t *good = malloc(n), *bad = malloc(n + 16);
    loco_playroom_file_encode(a, 4, good, n);
    int got;
    char msg[256];
    /* Every truncation is refused. */
    for (size_t len = 0; len < n; len++)
        CHECK(loco_playroom_file_decode(good, len, out, 4, &got, msg, sizeof msg) != LOCO_OK, "truncated to %zu read", len);
    /* Any flipped byte: the checksum catches it. */
    for (size_t i = 0; i < n; i += 7) {
        memcpy(bad, good, n);
        bad[i] ^= 0x40;
        CHECK(loco_playroom_file_decode(bad, n, out, 4, &got, msg, sizeof msg) != LOCO_OK, "byte %zu flipped read", i);
    }
    /* Out-of-range fields with a valid checksum: the field checks catch them. */
    const size_t ep0 = 16;
    struct { size_t at; uint8_t v; const char *what; } fields[] = {
        {ep0 + 8, 3, "split"}, {ep0 + 9, 9, "family filter"}, {ep0 + 10, 9, "family"}, {ep0 + 11, 2, "success"},
        {ep0 + 13, 9, "prompt family"}, {ep0 + 14, 10, "category"}, {ep0 + 16, 2, "relation"},
        {ep0 + 21, 0, "max_steps"}, {ep0 + 24, 0xFF, "n_steps"}, {ep0 + 33, 7, "a motor action"},
        {ep0 + 34, 0xFF, "a token"}, {12, 5, "the episode count"}, {8, 2, "the version"}, {0, 'X', "the magic"},
    };
    for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
        memcpy(bad, good, n);
        bad[fields[k].at] = fields[k].v;
        put_crc(bad, n);
        CHECK(loco_playroom_file_decode(bad, n, out, 4, &got, msg, sizeof msg) != LOCO_OK, "%s out of range read",
              fields[k].what);
    }
    /* Bytes after the last episode. */
    memcpy(bad, good, n - 4);
    memset(bad + n - 4, 0, 8);
    put_crc(bad, n + 4);
    CHECK(loco_playroom_file_decode(bad, n + 4, out, 4, &got, msg, sizeof msg) != LOCO_OK, "trailing bytes read");
    /* Room for fewer episodes than the file holds. */
    CHECK(loco_playroom_file_decode(good, n, out, 3, &got, msg, sizeof msg) == LOCO_ERANGE && got == 3, "max");
    CHECK(loco_playroom_file_decode(good, n, out, 4, &got, msg, sizeof msg) == LOCO_OK && got == 4, "the good file");
    /* Bad arguments to reset. */
    CHECK(loco_playroom_env_reset(e, 1, 3, -1, 100) == LOCO_EINVAL, "split 3");
    CHECK(loco_playroom_env_reset(e, 1, 0, 9, 100) == LOCO_EINVAL, "family 9");
    CHECK(loco_playroom_env_reset(e, 1, 0, -1, 0) == LOCO_EINVAL, "max_steps 0");
    CHECK(loco_playroom_env_reset(e, 1, LOCO_PLAYROOM_SPLIT_TEST, LOCO_PLAYROOM_GO, 10) == LOCO_EINVAL, "test GO");
    free(good), free(bad);
    loco_playroom_env_free(e);
}

/* 1 if the words hold a held-out colour right before a held-out category word
 * of that pair (any synonym or plural). */
static int names_heldout_object(const uint8_t *tok, int n) {
    for (int i = 0; i + 1 < n; i++)
        for (int c = 0; c < LOCO_PLAYROOM_N_COLOUR; c++) {
            if (tok[i] != loco_playroom_token_id(loco_playroom_colour_name(c))) continue;
            int k = loco__pr_tok_category(tok[i + 1], NULL);
            if (k >= 0 && loco_playroom_heldout_object(c, k)) return 1;
        }
    return 0;
}

LOCO_TEST(playroom_heldout_never_recorded) {
    enum { N = 400 };
    loco_playroom_env *e;
    loco_playroom_episode *eps = malloc(N * sizeof *eps), *back;
    uint8_t o[LOCO_PLAYROOM_OBS_BYTES], said[2][LOCO_PLAYROOM_MAX_STEPS];
    CHECK(eps && loco_playroom_env_create(&e) == LOCO_OK, "create");
    for (int i = 0; i < N; i++) loco_playroom_play(e, &eps[i], 31337u + (unsigned)i, LOCO_PLAYROOM_SPLIT_TRAIN, -1, 200);
    char dir[] = "/tmp/loco_playroom_XXXXXX", path[128], msg[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/train.bin", dir);
    CHECK(loco_playroom_file_write(path, eps, N, msg, sizeof msg) == LOCO_OK, "%s", msg);
    int got = 0, objects = 0;
    CHECK(loco_playroom_file_read(path, &back, &got, msg, sizeof msg) == LOCO_OK && got == N, "%s", msg);
    for (int i = 0; i < got; i++) {
        const loco_playroom_episode *ep = &back[i];
        const loco_playroom_prompt *p = &ep->prompt;
        /* Objects never change, so the room at reset shows every one. */
        loco_playroom_env_reset(e, ep->seed, ep->split, -1, ep->max_steps);
        loco_playroom_env_observe(e, LOCO_PLAYROOM_SOLVER, o);
        for (int k = 0; k < LOCO_PLAYROOM_W * LOCO_PLAYROOM_H; k++)
            if (o[4 * k + 2] >= 1 && o[4 * k + 2] <= 10) {
                objects++;
                CHECK(!loco_playroom_heldout_object(o[4 * k + 3] - 1, o[4 * k + 2] - 1), "episode %d: a held-out object", i);
            }
        CHECK(ep->split == LOCO_PLAYROOM_SPLIT_TRAIN, "split");
        CHECK(!loco_playroom_heldout_prompt(p->family, p->x_cat) && !loco_playroom_heldout_prompt(p->family, p->y_cat),
              "episode %d: a held-out prompt", i);
        CHECK(!(p->x_colour < 10 && loco_playroom_heldout_object(p->x_colour, p->x_cat)), "episode %d: held-out X", i);
        /* Nothing either player typed names a held-out object. */
        int n[2] = {0, 0};
        for (int t = 0; t < ep->n_steps; t++)
            for (int s = 0; s < 2; s++)
                if (ep->acts[t][2 * s + 1] > 1) said[s][n[s]++] = ep->acts[t][2 * s + 1];
        CHECK(!names_heldout_object(said[0], n[0]) && !names_heldout_object(said[1], n[1]), "episode %d: said", i);
    }
    CHECK(objects > 5 * N, "rooms hold objects");
    /* The test split: every prompt holds a held-out combination. */
    for (int i = 0; i < 200; i++) {
        loco_playroom_env_reset(e, 5000u + (unsigned)i, LOCO_PLAYROOM_SPLIT_TEST, -1, 100);
        const loco_playroom_prompt *p = loco_playroom_env_prompt(e);
        int held = loco_playroom_heldout_prompt(p->family, p->x_cat) ||
                   (p->family != LOCO_PLAYROOM_COUNT && p->x_colour < 10 && loco_playroom_heldout_object(p->x_colour, p->x_cat)) ||
                   (p->family == LOCO_PLAYROOM_POSITION && loco_playroom_heldout_object(p->y_colour, p->y_cat));
        CHECK(held && p->family != LOCO_PLAYROOM_GO, "test episode %d holds nothing held out", i);
    }
    snprintf(path, sizeof path, "rm -rf %s", dir);
    CHECK(system(path) == 0, "cleanup");
    free(back), free(eps);
    loco_playroom_env_free(e);
}

typedef struct {
    uint8_t obs[8][LOCO_PLAYROOM_OBS_BYTES], px[8][LOCO_PLAYROOM_PIXEL_BYTES], term[8], trunc[8];
    int32_t act[8][2];
    float rew[8];
} bufs;

static int make(loco_playroom_vec **v, bufs *b, int n, int threads, int pixels, char *msg) {
    loco_playroom_config c;
    loco_playroom_config_default(&c);
    c.n_envs = n, c.max_steps = 15, c.threads = threads, c.seed = 42;
    loco_playroom_buffers bb = {b->obs[0], pixels ? b->px[0] : NULL, b->act[0], b->rew, b->term, b->trunc};
    return loco_playroom_vec_create(v, &c, &bb, msg, 256);
}

LOCO_TEST(playroom_vec_api) {
    static bufs a, b;
    loco_playroom_vec *va, *vb;
    char msg[256];
    CHECK(make(&va, &a, 8, 1, 1, msg) == LOCO_OK, "%s", msg);
    CHECK(make(&vb, &b, 8, 2, 1, msg) == LOCO_OK, "%s", msg);
    loco_rng rng;
    loco_rng_seed(&rng, 5);
    int done[8] = {0}, dones = 0, wins = 0;
    long allocs = loco_test_allocs;
    for (int t = 0; t < 500; t++) {
        for (int i = 0; i < 8; i++) {
            uint64_t u = loco_rng_u64(&rng);
            /* Mostly the solver's next step, sometimes random. */
            if (u % 4) loco_playroom_env_scripted(loco_playroom_vec_env(va, i), LOCO_PLAYROOM_SOLVER, a.act[i]);
            else a.act[i][0] = (int32_t)(u % 7), a.act[i][1] = (int32_t)((u >> 8) % 200) - 10;   /* some out of range */
            b.act[i][0] = a.act[i][0], b.act[i][1] = a.act[i][1];
        }
        /* Two threads must give the same bytes; a few dozen steps show it
         * (on a loaded machine each parallel step waits for a free core). */
        int both = t < 40;
        loco_playroom_vec_step(va);
        if (both) loco_playroom_vec_step(vb);
        for (int i = 0; i < 8; i++) {
            int steps = a.obs[i][780] | a.obs[i][781] << 8;
            if (done[i]) CHECK(steps == 0 && !a.term[i] && !a.trunc[i] && a.rew[i] == 0, "env %d: no auto-reset", i);
            else CHECK(steps >= 1, "env %d: step not counted", i);
            CHECK(!(a.term[i] && a.trunc[i]), "both flags");
            CHECK(!a.trunc[i] || steps == 15, "truncated at %d steps", steps);
            CHECK(a.rew[i] == (a.term[i] ? a.rew[i] : 0.0f) && (a.rew[i] == 0 || a.rew[i] == 1), "reward");
            done[i] = a.term[i] || a.trunc[i];
            dones += done[i], wins += a.rew[i] > 0;
        }
        if (both) CHECK(!memcmp(&a, &b, sizeof a), "step %d: one thread and two threads differ", t);
    }
    CHECK(loco_test_allocs == allocs, "%ld allocations inside the steps", loco_test_allocs - allocs);
    loco_playroom_log log;
    loco_playroom_vec_log_take(va, &log);
    CHECK(log.n == (float)dones && dones > 100 && wins > 0, "log counts %g episodes, flags %d", log.n, dones);
    CHECK(log.score > 0 && log.score < 1 && log.perf == log.score, "score %g", log.score);
    static uint8_t rgb[LOCO_PLAYROOM_PIXEL_BYTES];
    loco_playroom_env_render_rgb(loco_playroom_vec_env(va, 3), LOCO_PLAYROOM_SOLVER, rgb);
    CHECK(!memcmp(rgb, a.px[3], sizeof rgb), "the pixel buffer is not the solver's view");
    /* Reset with the same seed replays the same episodes. */
    loco_playroom_vec_reset(va, 42);
    loco_playroom_vec_reset(vb, 42);
    CHECK(!memcmp(a.obs, b.obs, sizeof a.obs), "reset");
    loco_playroom_vec_free(va), loco_playroom_vec_free(vb);
    /* Bad configurations. */
    loco_playroom_config c;
    loco_playroom_buffers none = {0};
    loco_playroom_config_default(&c);
    c.n_envs = 0;
    CHECK(loco_playroom_vec_create(&va, &c, &none, msg, sizeof msg) == LOCO_EINVAL && va == NULL, "n_envs 0");
    loco_playroom_config_default(&c);
    CHECK(loco_playroom_vec_create(&va, &c, &none, msg, sizeof msg) == LOCO_EINVAL && strstr(msg, "buffers"), "no buffers");
    c.agent = 7;
    CHECK(loco_playroom_vec_create(&va, &c, &none, msg, sizeof msg) == LOCO_EINVAL, "agent 7");
}

LOCO_TEST(playroom_python_binding) {
    char lib[512], cmd[1200];
    const char *bin = loco_test_bin(), *slash = strrchr(bin, '/');
    if (getenv("LOCO_BIN") && slash) snprintf(lib, sizeof lib, "%.*s/libloco_playroom.so", (int)(slash - bin), bin);
    else snprintf(lib, sizeof lib, "%s/libloco_playroom.so", getenv("BUILD") ? getenv("BUILD") : "build");
    if (access(lib, R_OK)) { FAIL("%s is missing (make builds it with the test binary)", lib); return; }
    if (system(LOCO_TEST_PYTHON " -c 'import numpy' 2>/dev/null")) SKIP("numpy is missing (apt-get install python3-numpy)");
    snprintf(cmd, sizeof cmd, "LOCO_PLAYROOM_LIB=%s " LOCO_TEST_PYTHON " tests/playroom_gym.py", lib);
    CHECK(system(cmd) == 0, "tests/playroom_gym.py failed");
}

LOCO_TEST(playroom_cli) {
    char d[] = "/tmp/loco_playroom_XXXXXX", cmd[512], err[2048];
    CHECK(mkdtemp(d) != NULL, "mkdtemp");
    snprintf(cmd, sizeof cmd, "%s playroom run --episodes 300 > %s/run.txt", loco_test_bin(), d);
    CHECK(system(cmd) == 0, "run");
    snprintf(cmd, sizeof cmd, "grep -c '%%]' %s/run.txt | grep -qx 10", d);
    CHECK(system(cmd) == 0, "run prints nine families and the total");
    snprintf(cmd, sizeof cmd, "playroom record --episodes 40 --seed 3 --out %s/ep.bin", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "record: %s", err);
    snprintf(cmd, sizeof cmd, "playroom replay --in %s/ep.bin", d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "replay: %s", err);
    snprintf(cmd, sizeof cmd, "playroom render --in %s/ep.bin --episode 39 --out %s/r.html", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "render: %s", err);
    snprintf(cmd, sizeof cmd, "grep -q 'canvas id=\"solver\"' %s/r.html && grep -q 'const C=\\[\\[' %s/r.html", d, d);
    CHECK(system(cmd) == 0, "the replay page has the views and the chat");
    /* The GIF: a frame (graphic control extension, then image) per step
     * and one for the start. */
    snprintf(cmd, sizeof cmd, "playroom render --in %s/ep.bin --episode 39 --out %s/r.gif", d, d);
    CHECK(loco_test_run(cmd, err, sizeof err) == 0, "render gif: %s", err);
    loco_playroom_episode *eps;
    int n_eps = 0;
    snprintf(cmd, sizeof cmd, "%s/ep.bin", d);
    if (loco_playroom_file_read(cmd, &eps, &n_eps, err, sizeof err) == LOCO_OK && n_eps == 40) {
        static char gif[1 << 22];
        snprintf(cmd, sizeof cmd, "%s/r.gif", d);
        FILE *f = fopen(cmd, "rb");
        size_t len = f ? fread(gif, 1, sizeof gif, f) : 0, frames = 0;
        if (f) fclose(f);
        for (size_t i = 0; i + 9 < len; i++) frames += !memcmp(gif + i, "\x21\xF9\x04", 3) && gif[i + 7] == 0 && gif[i + 8] == 0x2C;
        CHECK(len > 6 && !memcmp(gif, "GIF89a", 6) && frames == (size_t)eps[39].n_steps + 1, "GIF: %zu bytes, %zu frames, %d steps",
              len, frames, eps[39].n_steps);
        free(eps);
    } else FAIL("read back: %s", err);
    /* Bad input: one line on stderr, exit 2 for usage and 1 at run time. */
    struct { const char *args; int code; } bad[] = {
        {"playroom", 2}, {"playroom dance", 2}, {"playroom run --family juggle", 2}, {"playroom run --split dev", 2},
        {"playroom run --episodes 0", 2}, {"playroom record", 2}, {"playroom record --out /dev/null --episodes 2", 1},
        {"playroom replay --in /nonexistent.bin", 1}, {"playroom replay --in /tmp", 1}, {"playroom run --bogus 1", 2},
        {"playroom render --in /etc/hostname", 1}, {"playroom run --split test --family go", 2},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int rc = loco_test_run(bad[k].args, err, sizeof err);
        int lines = 0;
        for (char *p = err; *p; p++) lines += *p == '\n';
        CHECK(rc == bad[k].code && lines == 1, "'%s': exit %d (want %d), %d lines: %s", bad[k].args, rc, bad[k].code,
              lines, err);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    CHECK(system(cmd) == 0, "cleanup");
}

/* A person at the page in headless Chromium (tests/playroom_serve.py): as the
 * setter they read the prompt and type it, and the scripted solver carries it
 * out; as the solver they answer the setter's question; both episodes are
 * recorded and replay bit for bit. */
LOCO_TEST(playroom_serve_chromium) {
    char d[] = "/tmp/loco_playroom_XXXXXX", cmd[1024], err[1024];
    CHECK(mkdtemp(d) != NULL, "mkdtemp");
    struct { const char *args; int code; } bad[] = {
        {"playroom serve --seat referee", 2}, {"playroom serve --listen localhost:80", 2},
        {"playroom serve --out /dev/null", 1}, {"playroom serve --port 0", 2}, {"playroom serve --family nap", 2},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        int rc = loco_test_run(bad[k].args, err, sizeof err), lines = 0;
        for (char *p = err; *p; p++) lines += *p == '\n';
        CHECK(rc == bad[k].code && lines == 1, "'%s': exit %d, %d lines: %s", bad[k].args, rc, lines, err);
    }
    snprintf(cmd, sizeof cmd, LOCO_TEST_PYTHON " tests/playroom_serve.py %s %s > %s/log 2>&1", loco_test_bin(), d, d);
    int rc = system(cmd);
    rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    snprintf(cmd, sizeof cmd, "%s/log", d);
    FILE *f = fopen(cmd, "r");
    size_t n = f ? fread(err, 1, sizeof err - 1, f) : 0;
    err[n] = 0;
    if (f) fclose(f);
    snprintf(cmd, sizeof cmd, "rm -rf %s", d);
    if (system(cmd)) FAIL("cleanup");
    if (rc == 3) SKIP("no chromium or chromedriver (apt-get install chromium chromium-driver)");
    CHECK(rc == 0, "tests/playroom_serve.py: %s", err);
}

/* The caller in the setter's seat: it reads the prompt from its observation
 * and types the instruction token by token; the scripted solver must do it. */
LOCO_TEST(playroom_vec_setter_seat) {
    enum { N = 16 };
    static uint8_t obs[N][LOCO_PLAYROOM_OBS_BYTES], term[N], trunc[N];
    static int32_t act[N][2];
    static float rew[N];
    loco_playroom_config c;
    loco_playroom_config_default(&c);
    c.n_envs = N, c.agent = LOCO_PLAYROOM_SETTER, c.family = LOCO_PLAYROOM_LIFT, c.max_steps = 200, c.seed = 9;
    loco_playroom_buffers b = {obs[0], NULL, act[0], rew, term, trunc};
    loco_playroom_vec *v;
    char msg[256];
    CHECK(loco_playroom_vec_create(&v, &c, &b, msg, sizeof msg) == LOCO_OK, "%s", msg);
    int words[N][6], n[N], pos[N] = {0}, done[N] = {0}, wins = 0;
    for (int i = 0; i < N; i++) {
        const uint8_t *p = obs[i] + LOCO_PLAYROOM_OBS_PROMPT;
        CHECK(p[0] == LOCO_PLAYROOM_LIFT + 1 && obs[i][LOCO_PLAYROOM_OBS_SELF + 11] == p[0], "env %d: the prompt", i);
        words[i][0] = loco_playroom_token_id("lift"), words[i][1] = loco_playroom_token_id("the");
        words[i][2] = loco_playroom_token_id(loco_playroom_colour_name(p[2] - 1));
        words[i][3] = loco_playroom_token_id(loco_playroom_category_name(p[1] - 1));
        words[i][4] = LOCO_PLAYROOM_EOM, n[i] = 5;
    }
    for (int t = 0; t < 200; t++) {
        for (int i = 0; i < N; i++) act[i][0] = 0, act[i][1] = pos[i] < n[i] ? words[i][pos[i]++] : 0;
        loco_playroom_vec_step(v);
        for (int i = 0; i < N; i++)
            if (!done[i] && (term[i] || trunc[i])) done[i] = 1, wins += rew[i] > 0;
    }
    CHECK(wins >= N - 3, "the scripted solver did %d of %d instructions typed by the caller", wins, N);
    /* A caller that says nothing never gets anything done. */
    loco_playroom_vec_reset(v, 10);
    int any = 0;
    for (int t = 0; t < 200; t++) {
        for (int i = 0; i < N; i++) act[i][0] = (t + i) % 7, act[i][1] = 0;
        loco_playroom_vec_step(v);
        for (int i = 0; i < N; i++) any |= rew[i] > 0;
    }
    CHECK(!any, "a silent setter was rewarded");
    loco_playroom_vec_free(v);
}
