/*
 * The embedding layer on the device: out = wte[token] + wpe[position], and
 * its backward, which scatters the output gradient into the rows of dwte
 * and dwpe.  Twin of loco__encoder_forward / _backward (src/nn/layers.c).
 *
 * The backward is deterministic and equal to the CPU's bit for bit: for each
 * (token, channel) the CPU adds the gradients of the positions holding that
 * token in increasing position order, starting from the old dwte value.  Here
 * the positions are first grouped by token on the host (a stable counting
 * sort, loco__cuda_encoder_buckets, done when the tokens arrive in forward);
 * then one thread per (token, channel) runs over its group in the same
 * order.  No atomics, no dependence on scheduling.
 */
#include <string.h>
#include "cuda/kernels.cuh"

/* out (B, T, C) = wte[inp] (V, C) + wpe[t] (T, C) */
__global__ void loco__k_encoder_forward(float *out, const int *inp, const float *wte, const float *wpe,
                                        int T, int C, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t bt = i / C;
        int c = (int)(i % C);
        int t = (int)(bt % T);
        out[i] = wte[(size_t)inp[bt] * C + c] + wpe[(size_t)t * C + c];
    }
}

/* dwte[token] (C) += sum over the token's positions, in increasing order:
 * block x = one group of order[seg[u] .. seg[u+1]), threads = channels. */
__global__ void loco__k_encoder_backward_wte(float *dwte, const float *dout, const int *inp, const int *order,
                                             const int *seg, int C) {
    const int u = blockIdx.x;
    const int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C) return;
    const int lo = seg[u], hi = seg[u + 1];
    float *dst = dwte + (size_t)inp[order[lo]] * C + c;
    float acc = *dst;
    for (int j = lo; j < hi; j++) acc += dout[(size_t)order[j] * C + c];
    *dst = acc;
}

/* dwpe[t] (C) += sum over b = 0..B-1 of dout[b, t] (C), in increasing b. */
__global__ void loco__k_encoder_backward_wpe(float *dwpe, const float *dout, int B, int T, int C) {
    const size_t n = (size_t)T * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float acc = dwpe[i];
        for (int b = 0; b < B; b++) acc += dout[(size_t)b * n + i];
        dwpe[i] = acc;
    }
}

int loco__cuda_encoder_buckets(const int *inp, int N, int V, int *count, int *order, int *seg) {
    /* count[v] = occurrences of v, then the start of v's group in order. */
    memset(count, 0, (size_t)V * sizeof(int));
    for (int i = 0; i < N; i++) count[inp[i]]++;
    int run = 0;
    for (int v = 0; v < V; v++) {
        int c = count[v];
        count[v] = run;
        run += c;
    }
    /* Stable: positions enter their group in increasing order. */
    for (int i = 0; i < N; i++) order[count[inp[i]]++] = i;
    int U = 0;
    for (int j = 0; j < N; j++)
        if (j == 0 || inp[order[j]] != inp[order[j - 1]]) seg[U++] = j;
    seg[U] = N;
    return U;
}

int loco__cuda_encoder_forward(loco__cuda_ctx *ctx, float *out, const int *inp, const float *wte,
                               const float *wpe, int B, int T, int C) {
    const size_t n = (size_t)B * T * C;
    loco__k_encoder_forward<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(out, inp, wte, wpe, T, C, n);
    return loco__cuda_check_launch(ctx, "encoder_forward");
}

int loco__cuda_encoder_backward(loco__cuda_ctx *ctx, float *dwte, float *dwpe, const float *dout, const int *inp,
                                const int *order, const int *seg, int U, int B, int T, int C) {
    if (U > 0) {
        dim3 grid((unsigned)U, (unsigned)((C + LOCO__THREADS - 1) / LOCO__THREADS));
        loco__k_encoder_backward_wte<<<grid, LOCO__THREADS, 0, ctx->stream>>>(dwte, dout, inp, order, seg, C);
        LOCO__TRY(loco__cuda_check_launch(ctx, "encoder_backward (wte)"));
    }
    const size_t n = (size_t)T * C;
    loco__k_encoder_backward_wpe<<<loco__blocks_for(n), LOCO__THREADS, 0, ctx->stream>>>(dwpe, dout, B, T, C);
    return loco__cuda_check_launch(ctx, "encoder_backward (wpe)");
}
