// Inside the LLM kernels: GGML's block layouts, the per-level kernel table, and the pool's job
// interface (llm_pool.c) that the drivers in llm_kernels.c hand their work to.
#ifndef TROUPE_LLM_INTERNAL_H
#define TROUPE_LLM_INTERNAL_H

#include "llm_kernels.h"

#include <stddef.h>
#include <stdint.h>

#define TK_BLOCK 32

/// Q4_1: x[j] = d · (qs[j] & 15) + m and x[j + 16] = d · (qs[j] >> 4) + m, d and m in f16.
typedef struct {
    uint16_t d, m;
    uint8_t qs[16];
} tk_block_q4_1;

/// Q8_0: x[j] = d · qs[j], d in f16.
typedef struct {
    uint16_t d;
    int8_t qs[32];
} tk_block_q8_0;

_Static_assert(sizeof(tk_block_q4_1) == 20, "Q4_1 block is 20 bytes");
_Static_assert(sizeof(tk_block_q8_0) == 34, "Q8_0 block is 34 bytes");

float tk_half_to_float(uint16_t h);
/// Round to nearest, ties to even (as F16C's vcvtps2ph with rounding mode 0).
uint16_t tk_float_to_half(float f);

/// The kernels one vector unit provides. Row kernels work on one row; the drivers split rows
/// between threads. The int8 activations of a row of cols values are codes q[cols], a scale d
/// per block of 32 and the exact Float32 sum of each block (for Q4_1's offset term).
typedef struct {
    void (*matvec_q4_1_f32)(const void *w, long rows, long blocks, const float *x, const float *block_sums, float *out);
    void (*matvec_q4_1_q8)(const void *w, long rows, long blocks, const int8_t *q, const float *d,
                           const float *block_sums, float *out);
    void (*matvec_q8_0_f32)(const void *w, long rows, long blocks, const float *x, float *out);
    void (*matvec_q8_0_q8)(const void *w, long rows, long blocks, const int8_t *q, const float *d, float *out);
    void (*quantize_q8)(const float *x, long cols, int8_t *q, float *d, float *block_sums);
    /// The int16 activations: codes, a scale per block of 32 (max |x| / 32767), the block sums.
    void (*matvec_q4_1_q16)(const void *w, long rows, long blocks, const int16_t *q, const float *d,
                            const float *block_sums, float *out);
    void (*matvec_q8_0_q16)(const void *w, long rows, long blocks, const int16_t *q, const float *d, float *out);
    void (*quantize_q16)(const float *x, long cols, int16_t *q, float *d, float *block_sums);
    void (*dequantize)(int type, const void *src, long count, float *dst);
    /// c[i·ldc + j] = a_i · b_j over k values (k a multiple of 8), i < m, j < n.
    void (*gemm_nt)(const float *a, long lda, const float *b, long ldb, float *c, long ldc, long m, long n, long k);
    /// gemm_nt with b in f16 (attention scores against the KV cache's keys).
    void (*gemm_nt_h)(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k);
    /// c[i·ldc + j] = Σ_l a[i·lda + l] · b[l·ldb + j], i < m, j < n (n a multiple of 16), l < k, b in
    /// f16 (attention's weighted sum of the cache's values).
    void (*gemm_nn_h)(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k);
    void (*to_half)(const float *x, long count, uint16_t *out);
    void (*rmsnorm_row)(const float *x, const float *w, long cols, float eps, float *out);
    void (*rope_row)(float *x, long heads, long head_size, const float *table);
    void (*swiglu_row)(float *gate, const float *up, long count);
    void (*add_row)(float *x, const float *y, long count);
    /// x[0..<n] = softmax(scale · x[0..<n]); x[n..<len] = 0.
    void (*softmax_row)(float *x, long n, long len, float scale);
} tk_llm_kernels;

extern const tk_llm_kernels tk_llm_portable_kernels;
#if defined(__x86_64__)
extern const tk_llm_kernels tk_llm_avx2_kernels;
#endif

const tk_llm_kernels *tk_pool_kernels(const tk_pool *pool);

/// Work item `item` of a job, run by pool thread `thread` (0 is the caller).
typedef void (*tk_task)(void *context, long item, int thread);

/// Runs task(context, i, thread) for every i < items across the pool and returns when all are
/// done. Items are claimed one at a time, so a thread the OS has not scheduled yet leaves its
/// share to the others.
void tk_pool_run(tk_pool *pool, tk_task task, void *context, long items);

/// Per-thread scratch of at least `bytes` (grown before a job; NULL when memory fails). Valid
/// until the next call for the same thread.
void *tk_pool_scratch(tk_pool *pool, int thread, size_t bytes);

/// Shared scratch for the caller (e.g. quantised activations), grown as needed.
void *tk_pool_shared(tk_pool *pool, size_t bytes);

#endif
