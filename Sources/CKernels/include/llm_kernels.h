// The embedded chat model's kernels (TroupeLLM): matrix products against GGML-quantised weights
// (Q4_1, Q8_0, F16, F32 rows), RMSNorm, RoPE, SwiGLU, causal attention over a KV cache, and the
// small thread pool that splits each product between threads.
//
// Every kernel takes the pool it runs on; the pool fixes the vector unit (portable C, or
// AVX2+FMA+F16C when the CPU has them), so a test can run the same work at each level and hold
// the vector versions to the portable one. A pool is driven by one thread at a time (the model's
// generation thread); its workers only ever run the work that thread hands them.
//
// Only TroupeLLM imports these, `internal`ly; every argument is a plain pointer or integer.
#ifndef TROUPE_LLM_KERNELS_H
#define TROUPE_LLM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// GGML tensor types, with GGML's numbers.
enum { TK_TYPE_F32 = 0, TK_TYPE_F16 = 1, TK_TYPE_Q4_1 = 3, TK_TYPE_Q8_0 = 8 };

/// Vector units: 0 portable C, 1 AVX2 + FMA + F16C.
enum { TK_LEVEL_PORTABLE = 0, TK_LEVEL_AVX2 = 1 };

/// The best vector unit this CPU (and OS) offers.
int tk_llm_best_level(void);

typedef struct tk_pool tk_pool;

/// A pool of `threads` threads, the caller's included (so `threads − 1` workers), whose kernels
/// use vector unit `level` (−1 for the best one; a level the CPU lacks is lowered to one it has).
/// NULL when a thread or memory cannot be had.
tk_pool *tk_pool_create(int threads, int level);
void tk_pool_destroy(tk_pool *pool);
int tk_pool_threads(const tk_pool *pool);
int tk_pool_level(const tk_pool *pool);

/// Bytes of one row of `cols` values of `type` (cols a multiple of the type's block).
size_t tk_llm_row_bytes(int type, long cols);

/// Dequantises `count` values (a multiple of the type's block) of `type` at `src` into `dst`.
void tk_llm_dequantize(int type, const void *src, long count, float *dst);

/// One weight matrix of a product: `rows` rows (a multiple of 16) of `type`, and where its
/// outputs go (row t of the output starts at out + t · out_stride).
typedef struct {
    int type;
    const void *weights;
    long rows;
    float *out;
    long out_stride;
} tk_projection;

/// How a product computes. Batch arithmetic dequantises panels of weight rows to Float32 and
/// multiplies every token row by them, so a row's result does not depend on how many tokens
/// share the batch (a prompt gives the same cache however it is cut). The single-token modes read
/// each quantised weight once, with Float32 activations, or with activations quantised per block
/// of 32 to int16 (integer products; within about 1e-5 of Float32) or to int8 (as llama.cpp does:
/// fastest, but logits move by a few tenths). They apply to Q4_1 and Q8_0 weights and one token;
/// anything else runs as a batch.
enum { TK_MATMUL_BATCH = 0, TK_MATMUL_VECTOR_F32 = 1, TK_MATMUL_VECTOR_INT8 = 2, TK_MATMUL_VECTOR_INT16 = 3 };

/// out_p[t][r] = W_p[r] · x[t] for each projection p, token t < tokens and row r, over `cols`
/// columns (a multiple of 32). Several projections of the same input (Q, K and V) share one
/// hand-off to the pool. Returns 0, or −1 when scratch memory fails.
int tk_llm_matmul(tk_pool *pool, const tk_projection *projections, int count, long cols, const float *x, long x_stride,
                  long tokens, int mode);

/// out[r] = x[r] / sqrt(mean(x[r]²) + eps) · weight, for rows × cols values (out may be x).
void tk_llm_rmsnorm(tk_pool *pool, const float *x, const float *weight, long rows, long cols, float eps, float *out);

/// cos and sin of RoPE's angles for `count` positions from `first_position`: table[p][2i] =
/// cos(pos · θ^(−2i/head_size)), table[p][2i+1] = sin(…), i < head_size / 2, angles in double.
void tk_llm_rope_table(long first_position, long count, long head_size, double theta, float *table);

/// Rotates the adjacent pairs (x[2i], x[2i+1]) of every head of `tokens` rows (stride `stride`)
/// by row t's angles in `table` (as tk_llm_rope_table writes them, one row per token).
void tk_llm_rope(tk_pool *pool, float *x, long tokens, long stride, long heads, long head_size, const float *table);

/// gate[i] = silu(gate[i]) · up[i] for `rows` rows of `count` values (strides in floats).
void tk_llm_swiglu(tk_pool *pool, float *gate, long gate_stride, const float *up, long up_stride, long rows, long count);

/// x[t][i] += y[t][i] for `rows` rows of `count` values.
void tk_llm_add(tk_pool *pool, float *x, long x_stride, const float *y, long y_stride, long rows, long count);

/// Stores `tokens` rows of keys and values (stride `stride` floats, kv_heads × head_size wide) at
/// positions first_position… of a KV cache in f16 (rounded to nearest even), head by head: head
/// h's row for position p starts at cache + h · head_stride + p · head_size.
void tk_llm_kv_store(tk_pool *pool, const float *k, const float *v, long stride, long tokens, long first_position,
                     long kv_heads, long head_size, uint16_t *k_cache, uint16_t *v_cache, long head_stride);

/// Causal attention of `tokens` queries at positions first_position… over the cache's first
/// first_position + tokens positions (laid out as tk_llm_kv_store writes them, RoPE already
/// applied to the keys). Row t of q (stride q_stride) holds `heads` heads of head_size (a
/// multiple of 16); query head h reads KV head h / (heads / kv_heads). Row t of out (stride
/// out_stride) receives the heads side by side. Returns 0, or −1 when scratch memory fails.
int tk_llm_attention(tk_pool *pool, const float *q, long q_stride, long tokens, long first_position, long heads,
                     long kv_heads, long head_size, const uint16_t *k_cache, const uint16_t *v_cache, long head_stride,
                     float *out, long out_stride);

/// The index of the largest of n values (the lowest index among equals; NaN never wins).
long tk_llm_argmax(const float *x, long n);

/// The k largest of n values, largest first (equal values: lower index first), into ids/values.
/// Returns how many were written (min(k, n)).
long tk_llm_top_k(const float *x, long n, long k, int32_t *ids, float *values);

#ifdef __cplusplus
}
#endif

#endif
