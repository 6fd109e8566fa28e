/*
 * The session layer (src/net/session.h) as a worker meets it, against a
 * scripted coordinator in a thread of this process: one refusal rule for
 * every worker ("the run is full" is waited out, any other refusal is
 * final, joining first or again), and joining again after the coordinator
 * forgets the worker, into the same run only.  DiLoCo's and DiPaCo's
 * workers serve through the same layer and must behave alike.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loco/net_engine.h"
#include "net/link.h"
#include "test.h"

enum { WELCOME_A, WELCOME_B, REFUSE_FULL, REFUSE_FINAL };

/* The scripted coordinator: the k-th HELLO gets act[k] (then REFUSE_FINAL);
 * the first message of its first session is answered "unknown session"
 * (as a restarted coordinator answers), that of any later session BYE. */
typedef struct {
    char ep[128];
    loco_net_key key;
    uint32_t run_kind;
    int act[4], n_act;
    volatile int stop, ready;
    int hellos, sessions;
} fake;

static const char *fake_secret = "session-test-secret-0123456789";

/* The WELCOME of a tiny run; run B differs from A in its seed only. */
static size_t fake_welcome(const fake *f, int b, const uint8_t *nonce, uint8_t *out, size_t cap) {
    static const uint8_t assign[4] = {0, 0, 0, 0};
    loco_net_welcome w = {.workers = 1,
                          .model = {16, 50, 1, 2, 16},
                          .batch = 2,
                          .seq_len = 16,
                          .inner_steps = 3,
                          .steps = 9,
                          .codec = LOCO_CODEC_FP32,
                          .keep = 1.0f,
                          .seed = b ? 43 : 42,
                          .heartbeat_ms = 100,
                          .data_kind = LOCO_NET_DATA_EMBEDDED,
                          .data_docs = 1,
                          .n_assign = 1,
                          .assign = assign,
                          .run_kind = f->run_kind};
    memcpy(w.nonce, nonce, LOCO_NET_NONCE_BYTES);
    loco_adamw_config_default(&w.inner, 9);
    return loco_net_encode_welcome(&w, out, cap);
}

static void *fake_run(void *arg) {
    fake *f = arg;
    loco__link l;
    char msg[256];
    if (loco__link_open(&l, 1, f->ep, &f->key, NULL, 1 << 20, msg, sizeof msg) != LOCO_OK) {
        f->ready = -1;
        return NULL;
    }
    l.self = LOCO_NET_COORDINATOR;
    l.run_id = 0x5151;
    f->ready = 1;
    uint64_t session = 0;
    uint8_t buf[512];
    while (!f->stop) {
        loco__msg m;
        if (loco__link_recv(&l, 50, &m) != LOCO_OK) continue;
        loco_net_hello h;
        if (m.h.type == LOCO_NET_HELLO && loco_net_decode_hello(m.data, m.n, &h) == LOCO_OK) {
            const int act = f->hellos < f->n_act ? f->act[f->hellos] : REFUSE_FINAL;
            f->hellos++;
            if (act == REFUSE_FULL || act == REFUSE_FINAL) {
                size_t n = act == REFUSE_FULL ? loco_net_encode_error((uint32_t)-LOCO_ERANGE, "the run is full", buf,
                                                                      sizeof buf)
                                              : loco_net_encode_error((uint32_t)-LOCO_EINVAL, "closed for repairs",
                                                                      buf, sizeof buf);
                loco__link_send(&l, m.ident, m.ident_len, LOCO_NET_ERROR, 0, buf, n, NULL, 0);
            } else {
                session = 0x1000 + 2 * (uint64_t)++f->sessions + 1;
                size_t n = fake_welcome(f, act == WELCOME_B, h.nonce, buf, sizeof buf);
                loco__link_send(&l, m.ident, m.ident_len, LOCO_NET_WELCOME, session, buf, n, NULL, 0);
            }
        } else if (session && m.h.session == session && m.h.type != LOCO_NET_BYE && m.h.type != LOCO_NET_ERROR) {
            if (f->sessions == 1) {
                size_t n = loco_net_encode_error((uint32_t)-LOCO_EINVAL, "unknown session: join again", buf,
                                                 sizeof buf);
                loco__link_send(&l, m.ident, m.ident_len, LOCO_NET_ERROR, session, buf, n, NULL, 0);
            } else {
                loco__link_send(&l, m.ident, m.ident_len, LOCO_NET_BYE, session, NULL, 0, NULL, 0);
            }
            session = 0;
        }
        loco__msg_close(&m);
    }
    loco__link_close(&l);
    return NULL;
}

/* Starts a scripted coordinator on a fresh ipc endpoint. */
static int fake_start(fake *f, pthread_t *t, uint32_t run_kind, const int *act, int n_act) {
    static int serial;
    memset(f, 0, sizeof *f);
    snprintf(f->ep, sizeof f->ep, "ipc:///tmp/loco_session_%d_%d.sock", (int)getpid(), serial++);
    loco_net_key_from_secret(&f->key, (const uint8_t *)fake_secret, strlen(fake_secret), NULL, 0);
    f->run_kind = run_kind;
    memcpy(f->act, act, (size_t)n_act * sizeof *act);
    f->n_act = n_act;
    if (pthread_create(t, NULL, fake_run, f)) return -1;
    for (int i = 0; i < 200 && !f->ready; i++) usleep(10000);
    return f->ready == 1 ? 0 : -1;
}

static void fake_stop(fake *f, pthread_t t) {
    f->stop = 1;
    pthread_join(t, NULL);
    unlink(f->ep + 6);
}

static loco_netw_config worker_config(const fake *f, double join_timeout) {
    loco_netw_config c;
    memset(&c, 0, sizeof c);
    c.connect = f->ep;
    c.key = f->key;
    c.want_id = LOCO_NET_ANON;
    c.join_timeout = join_timeout;
    c.coordinator_timeout = 5;
    c.give_up_after = 10;
    return c;
}

/* Joins f's run and serves it as the WELCOME says (DiLoCo or DiPaCo).
 * Returns what serving returned (or joining, if it failed). */
static int join_and_serve(const fake *f, char *msg, size_t msglen) {
    loco_netw_config c = worker_config(f, 5);
    loco_netw *w = NULL;
    loco_net_welcome wel;
    int e = loco_netw_join(&w, &c, &wel, msg, msglen);
    if (e) return e;
    e = wel.run_kind == LOCO_NET_RUN_DIPACO ? loco_dpw_serve(w, NULL, NULL, msg, msglen)
                                            : loco_netw_serve(w, NULL, msg, msglen);
    loco_netw_free(w);
    return e;
}

LOCO_TEST(net_session_refusals_one_rule) {
    /* "The run is full" is waited out until the join's deadline, and the
     * timeout says so; any other refusal ends the join at once. */
    fake f;
    pthread_t t;
    char msg[512];
    const int full[] = {REFUSE_FULL, REFUSE_FULL, REFUSE_FULL, REFUSE_FULL};
    if (fake_start(&f, &t, LOCO_NET_RUN_DILOCO, full, 4)) { FAIL("no scripted coordinator"); return; }
    loco_netw_config c = worker_config(&f, 1.0);
    loco_netw *w = NULL;
    loco_net_welcome wel;
    double t0 = loco__now();
    int e = loco_netw_join(&w, &c, &wel, msg, sizeof msg);
    double took = loco__now() - t0;
    fake_stop(&f, t);
    CHECK(e == LOCO_ERANGE && strstr(msg, "is full") && took >= 1.0, "a full run: %d after %.2f s, '%s'", e, took,
          msg);
    CHECK(f.hellos >= 2, "the full run was asked %d times: not waited out", f.hellos);
    const int final[] = {REFUSE_FINAL};
    if (fake_start(&f, &t, LOCO_NET_RUN_DILOCO, final, 1)) { FAIL("no scripted coordinator"); return; }
    c = worker_config(&f, 5.0);
    t0 = loco__now();
    e = loco_netw_join(&w, &c, &wel, msg, sizeof msg);
    took = loco__now() - t0;
    fake_stop(&f, t);
    CHECK(e == LOCO_EINVAL && strstr(msg, "closed for repairs") && took < 2.0 && f.hellos == 1,
          "a final refusal: %d after %.2f s and %d HELLOs, '%s'", e, took, f.hellos, msg);
    loco_netw_free(w);
}

LOCO_TEST(net_session_refused_rejoin_alike) {
    /* Joined, then forgotten by the coordinator, then refused when joining
     * again: a DiLoCo and a DiPaCo worker both stop at once with the
     * coordinator's words (a DiPaCo worker used to wait for as long as it
     * would wait for a coordinator to come back). */
    const uint32_t kinds[2] = {LOCO_NET_RUN_DILOCO, LOCO_NET_RUN_DIPACO};
    for (int k = 0; k < 2; k++) {
        fake f;
        pthread_t t;
        char msg[512] = "";
        const int act[] = {WELCOME_A, REFUSE_FINAL};
        if (fake_start(&f, &t, kinds[k], act, 2)) { FAIL("no scripted coordinator"); return; }
        const double t0 = loco__now();
        int e = join_and_serve(&f, msg, sizeof msg);
        const double took = loco__now() - t0;
        fake_stop(&f, t);
        CHECK(e == LOCO_EINVAL && strstr(msg, "closed for repairs") && took < 3.0 && f.hellos == 2,
              "%s worker: %d after %.2f s and %d HELLOs, '%s'", k ? "DiPaCo" : "DiLoCo", e, took, f.hellos, msg);
    }
}

LOCO_TEST(net_session_rejoin_same_run_only) {
    /* After "unknown session" (the coordinator restarted) a worker joins
     * again and serves on if the new WELCOME is the same run, until BYE;
     * if the coordinator now runs another configuration, it stops. */
    const uint32_t kinds[2] = {LOCO_NET_RUN_DILOCO, LOCO_NET_RUN_DIPACO};
    for (int k = 0; k < 2; k++) {
        const char *who = k ? "DiPaCo" : "DiLoCo";
        fake f;
        pthread_t t;
        char msg[512] = "";
        const int same[] = {WELCOME_A, WELCOME_A};
        if (fake_start(&f, &t, kinds[k], same, 2)) { FAIL("no scripted coordinator"); return; }
        int e = join_and_serve(&f, msg, sizeof msg);
        fake_stop(&f, t);
        CHECK(e == LOCO_OK && f.hellos == 2 && f.sessions == 2, "%s worker, same run: %d after %d HELLOs, '%s'", who,
              e, f.hellos, msg);
        const int other[] = {WELCOME_A, WELCOME_B};
        if (fake_start(&f, &t, kinds[k], other, 2)) { FAIL("no scripted coordinator"); return; }
        e = join_and_serve(&f, msg, sizeof msg);
        fake_stop(&f, t);
        CHECK(e == LOCO_EINVAL && strstr(msg, "another configuration"), "%s worker, another run: %d, '%s'", who, e,
              msg);
    }
}
