/*
 * bench_net: the networked engine's cost per outer step, for a model shape
 * (default GPT-2 124M: L12 C768 NH12 V50257, 1024 positions), over ZeroMQ on
 * loopback TCP, in one process with the protocol's own code (src/net/link.c:
 * sealing, MAC checks; src/algo/diloco_msg.c: encoding and reduction;
 * src/optim/outer.c: the outer step).  Per round it measures:
 *   - THETA: theta encoded, sealed once, sent to M workers, each opening it
 *     (MAC) and decoding it;
 *   - PUSH: each worker encoding its contribution into the frame it sends
 *     (no copy), sealing and sending it; the coordinator opening each (MAC)
 *     and adding it to the reduction;
 *   - the target and the outer step (Nesterov);
 * and prints bytes on the wire per worker and round against the theoretical
 * payload, the latency, and the overhead against H inner steps whose time is
 * measured on this machine (forward, backward, AdamW of B x T tokens).
 * The workers' parameters are theta plus a fixed perturbation, which stands
 * for training and is not timed: only what happens between inner steps is.
 * A profile line splits the round into its passes.
 *
 * usage: bench_net [--workers M] [--rounds R] [--codec fp32|int8|...] [--layers L] [--channels C]
 *                  [--heads NH] [--vocab V] [--max-seq-len T] [--batch B] [--seq T] [--inner H]
 *                  [--warmup W]
 * --warmup W runs W untimed rounds first, whose page faults (the first touch
 * of the bench's own arrays) a long run pays once; the default 0 times every
 * round, as the figures of docs/distributed.md before version 3 did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "loco/diloco_msg.h"
#include "loco/outer.h"
#include "net/link.h"
#include "net/wire.h"

static const char *usage =
    "usage: bench_net [--workers M] [--rounds R] [--codec fp32|fp16|bf16|int8|int8-tensor] [--layers L]\n"
    "                 [--channels C] [--heads NH] [--vocab V] [--max-seq-len T] [--batch B] [--seq T] [--inner H]\n"
    "                 [--warmup W]\n";

/* Returns the exit status after one line on stderr. */
static int fail(const char *what) {
    fprintf(stderr, "bench_net: %s\n", what);
    return 1;
}

int main(int argc, char **argv) {
    loco_gpt_config cfg = {1024, 50257, 12, 12, 768};
    int M = 2, R = 3, B = 1, T = 64, H = 100, W = 0;
    const char *codec_name = "fp32";
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *ip = !strcmp(f, "--workers") ? &M : !strcmp(f, "--rounds") ? &R : !strcmp(f, "--layers") ? &cfg.n_layer
                  : !strcmp(f, "--channels") ? &cfg.channels : !strcmp(f, "--heads") ? &cfg.n_head
                  : !strcmp(f, "--vocab") ? &cfg.vocab_size : !strcmp(f, "--max-seq-len") ? &cfg.max_seq_len
                  : !strcmp(f, "--batch") ? &B : !strcmp(f, "--seq") ? &T : !strcmp(f, "--inner") ? &H
                  : !strcmp(f, "--warmup") ? &W : NULL;
        if (!v || (!ip && strcmp(f, "--codec"))) {
            fputs(usage, stderr);
            return 2;
        }
        if (ip) *ip = atoi(v);
        else codec_name = v;
        i++;
    }
    loco_codec codec;
    char msg[256];
    if (M < 1 || R < 1 || W < 0 || B < 1 || T < 1 || H < 1 || loco_codec_parse(codec_name, &codec)) {
        fputs(usage, stderr);
        return 2;
    }
    loco_gpt *m = NULL;
    if (loco_gpt_create(&m, &cfg, B, T, 1337, msg, sizeof msg)) return fail(msg);
    loco_diloco_layout lay;
    if (loco_diloco_layout_init(&lay, m, codec, 1.0f, msg, sizeof msg)) return fail(msg);
    const size_t P = lay.P;
    float *theta = loco_gpt_params(m);
    float *wp = malloc((size_t)M * P * sizeof(float)), *dec = malloc(P * sizeof(float));
    float *avg = malloc(P * sizeof(float)), *target = malloc(P * sizeof(float));
    float *ostate = calloc(P, sizeof(float)), *ef = calloc(P, sizeof(float));
    double *sum = malloc(P * sizeof(double));
    uint8_t *wire = malloc(lay.msg_bytes);
    if (!wp || !dec || !avg || !target || !ostate || !ef || !sum || !wire) return fail("out of memory");

    /* One ROUTER (the coordinator) and M DEALERs (the workers) on loopback. */
    loco_net_key key;
    const char secret[] = "bench-net-secret-0123456789abcdef";
    if (loco_net_key_from_secret(&key, (const uint8_t *)secret, sizeof secret - 1, msg, sizeof msg)) return fail(msg);
    loco__link co, *wk = calloc((size_t)M, sizeof *wk);
    char ep[256];
    if (!wk) return fail("out of memory");
    /* The MAC alone: what is measured here is the protocol's own cost
     * (scripts/bench_curve.sh measures CURVE's). */
    const loco_net_security mac = {.mode = LOCO_NET_SEC_MAC};
    if (loco__link_open(&co, 1, "tcp://127.0.0.1:*", &key, &mac, (size_t)1 << 40, msg, sizeof msg)) return fail(msg);
    loco__link_endpoint(&co, ep, sizeof ep);
    for (int w = 0; w < M; w++) {
        if (loco__link_open(&wk[w], 0, ep, &key, &mac, (size_t)1 << 40, msg, sizeof msg)) return fail(msg);
        wk[w].self = (uint32_t)w;
    }
    /* Each worker says hello so that the ROUTER learns its identity. */
    uint8_t ident[64][LOCO__IDENT_MAX];
    size_t ident_len[64];
    if (M > 64) return fail("at most 64 workers");
    for (int w = 0; w < M; w++) loco__link_send(&wk[w], NULL, 0, LOCO_NET_HEARTBEAT, 0, NULL, 0, NULL, 0);
    for (int got = 0; got < M;) {
        loco__msg mm;
        if (loco__link_recv(&co, 5000, &mm)) return fail("a worker did not connect");
        memcpy(ident[mm.h.sender], mm.ident, mm.ident_len);
        ident_len[mm.h.sender] = mm.ident_len;
        loco__msg_close(&mm);
        got++;
    }
    loco_outer_config oc;
    loco_outer_config_default(&oc);
    const size_t theta_bytes = loco_net_theta_bytes(P);
    double t_theta = 0, t_push = 0, t_outer = 0;
    /* The profile: seconds per round in each pass, summed over the workers
     * where each does its own (the workers run one after the other here). */
    enum { P_TENC, P_TSEAL, P_TSEND, P_TRECV, P_TDEC, P_PENC, P_PSEAL, P_PSEND, P_PRECV, P_PACC, P_NPHASE };
    static const char *const phase[P_NPHASE] = {"THETA encode", "THETA seal", "THETA send", "THETA recv+open",
                                                "THETA decode", "PUSH encode", "PUSH seal", "PUSH send",
                                                "PUSH recv+open", "PUSH accumulate"};
    double prof[P_NPHASE] = {0};
    const size_t push_bytes = loco_net_push_bytes((uint32_t)(H < 1024 ? H : 1024), lay.msg_bytes);
    double in0 = co.bytes_in, out0 = co.bytes_out;
    for (int r = 0; r < W + R; r++) {
        if (r == W) {
            /* The warm-up is over: start the clocks and counters afresh. */
            t_theta = t_push = t_outer = 0;
            memset(prof, 0, sizeof prof);
            in0 = co.bytes_in;
            out0 = co.bytes_out;
        }
        double t0 = loco__now(), a = t0, b;
#define LAP(k) (b = loco__now(), prof[k] += b - a, a = b)
        zmq_msg_t th;
        if (zmq_msg_init_size(&th, theta_bytes)) return fail("out of memory");
        uint8_t *d = zmq_msg_data(&th);
        loco_net_encode_theta_head((uint64_t)r, P, d, LOCO_NET_THETA_FIXED);
        loco_codec_encode(LOCO_CODEC_FP32, 1.0f, theta, 1, P, d + LOCO_NET_THETA_FIXED, NULL);
        LAP(P_TENC);
        loco_net_sealer s;
        loco_net_seal_begin(&s, &key, d, theta_bytes);
        LAP(P_TSEAL);
        for (int w = 0; w < M; w++)
            loco__link_send_sealed(&co, ident[w], ident_len[w], LOCO_NET_THETA, 0, &s, &th);
        zmq_msg_close(&th);
        LAP(P_TSEND);
        double t_train = 0;
        for (int w = 0; w < M; w++) {
            loco__msg mm;
            loco_net_theta tv;
            if (loco__link_recv(&wk[w], 60000, &mm)) return fail("THETA did not arrive");
            LAP(P_TRECV);
            if (loco_net_decode_theta(mm.data, mm.n, &tv) ||
                loco_codec_decode(LOCO_CODEC_FP32, 1.0f, tv.params, 4 * P, 1, P, wp + (size_t)w * P))
                return fail("THETA did not decode");
            loco__msg_close(&mm);
            LAP(P_TDEC);
            /* The worker "trained": a fixed small move per parameter.  This
             * stands for the inner steps, so it is not timed. */
            for (size_t j = 0; j < P; j++) wp[(size_t)w * P + j] += 1e-4f * (float)((j * 2654435761u + w) % 17) - 8e-4f;
            b = loco__now();
            t_train += b - a;
            a = b;
        }
        double t1 = loco__now();
        memset(sum, 0, P * sizeof(double));
        for (int w = 0; w < M; w++) {
            float losses[1024] = {0};
            int hn = H < 1024 ? H : 1024;
            a = loco__now();
            /* The worker encodes its PUSH straight into the frame it sends:
             * fixed part and losses, then the contribution, no copy. */
            zmq_msg_t pm;
            if (zmq_msg_init_size(&pm, push_bytes)) return fail("out of memory");
            uint8_t *pd = zmq_msg_data(&pm);
            loco_net_push pu = {(uint64_t)r, (uint64_t)r, (uint32_t)w, (uint32_t)hn, NULL, lay.msg_bytes, NULL};
            for (int i = 0; i < hn; i++) loco__putf(pd + LOCO_NET_PUSH_FIXED + 4 * i, losses[i]);
            pu.losses = pd + LOCO_NET_PUSH_FIXED;
            size_t n = loco_net_encode_push_head(&pu, pd, push_bytes);
            if (loco_diloco_encode(&lay, theta, wp + (size_t)w * P, NULL, dec, pd + n)) return fail("not finite");
            LAP(P_PENC);
            loco_net_sealer ps;
            loco_net_seal_begin(&ps, &key, pd, push_bytes);
            LAP(P_PSEAL);
            loco__link_send_sealed(&wk[w], NULL, 0, LOCO_NET_PUSH, 0, &ps, &pm);
            zmq_msg_close(&pm);
            LAP(P_PSEND);
            loco__msg mm;
            loco_net_push got;
            if (loco__link_recv(&co, 60000, &mm)) return fail("PUSH did not arrive");
            LAP(P_PRECV);
            if (loco_net_decode_push(mm.data, mm.n, &got) ||
                loco_diloco_accumulate(&lay, got.contrib, (size_t)got.contrib_len, sum, dec))
                return fail("PUSH did not decode");
            loco__msg_close(&mm);
            LAP(P_PACC);
        }
#undef LAP
        double t2 = loco__now();
        if (loco_diloco_target(&lay, sum, M, theta, avg, wire, target)) return fail("not finite");
        loco_outer_step(&oc, theta, target, ostate, P, r + 1);
        double t3 = loco__now();
        t_theta += t1 - t0 - t_train;
        t_push += t2 - t1;
        t_outer += t3 - t2;
    }
    const double per_in = (co.bytes_in - in0) / R / M, per_out = (co.bytes_out - out0) / R / M;
    const double round_s = (t_theta + t_push + t_outer) / R;
    /* The inner compute: median-free mean of a few full steps of B x T. */
    int *tok = malloc(sizeof(int) * B * T), *tgt = malloc(sizeof(int) * B * T);
    if (!tok || !tgt) return fail("out of memory");
    for (int i = 0; i < B * T; i++) tok[i] = tgt[i] = (i * 7919) % cfg.vocab_size;
    loco_adamw_config ac;
    loco_adamw_config_default(&ac, 100);
    double ts = 0;
    const int steps = 2;
    for (int i = 0; i < steps + 1; i++) {
        double a = loco__now();
        loco_gpt_zero_grad(m);
        loco_gpt_forward(m, tok, tgt, B, T);
        loco_gpt_backward(m);
        loco_gpt_adamw_step(m, &ac, i, NULL);
        if (i) ts += loco__now() - a;   /* the first step warms up */
    }
    ts /= steps;
    printf("bench_net: P=%zu (L%d C%d V%d), M=%d workers, %d rounds (after %d untimed), codec %s, loopback TCP\n", P,
           cfg.n_layer, cfg.channels, cfg.vocab_size, M, R, W, codec_name);
    printf("  bytes per worker and round: in (PUSH) %.0f, theoretical %zu (+%.0f overhead); out (THETA) %.0f, "
           "theoretical %zu (+%.0f)\n", per_in, lay.msg_bytes, per_in - (double)lay.msg_bytes, per_out,
           (size_t)4 * P, per_out - 4.0 * (double)P);
    printf("  outer-step latency: %.3f s per round = THETA to %d workers %.3f s + PUSH and reduce %.3f s + "
           "target and outer step %.3f s\n", round_s, M, t_theta / R, t_push / R, t_outer / R);
    printf("  profile per round (s):");
    for (int k = 0; k < P_NPHASE; k++) printf("%s %s %.3f", k ? "," : "", phase[k], prof[k] / R);
    printf("\n");
    printf("  inner step (B=%d, T=%d): %.3f s; H=%d inner steps: %.1f s; communication overhead %.2f%% "
           "(latency / (latency + H steps))\n", B, T, ts, H, H * ts, 100 * round_s / (round_s + H * ts));
    for (int w = 0; w < M; w++) loco__link_close(&wk[w]);
    loco__link_close(&co);
    loco_gpt_free(m);
    free(wk);
    free(wp);
    free(dec);
    free(avg);
    free(target);
    free(ostate);
    free(ef);
    free(sum);
    free(wire);
    free(tok);
    free(tgt);
    return 0;
}
