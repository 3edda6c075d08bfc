// The attention driver: the KV cache's f16 rows, and causal attention over them cut into work
// items for the pool (a KV head per item when decoding, a query head and chunk of queries when
// running a prompt).
#include "llm_internal.h"

#include <math.h>

#define QUERY_CHUNK 32

void tk_llm_kv_store(tk_pool *pool, const float *k, const float *v, long stride, long tokens, long first_position,
                     long kv_heads, long head_size, uint16_t *k_cache, uint16_t *v_cache, long head_stride) {
    const tk_llm_kernels *kernels = tk_pool_kernels(pool);
    for (long t = 0; t < tokens; t++)
        for (long h = 0; h < kv_heads; h++) {
            const size_t at = (size_t)h * head_stride + (size_t)(first_position + t) * head_size;
            kernels->to_half(k + t * stride + h * head_size, head_size, k_cache + at);
            kernels->to_half(v + t * stride + h * head_size, head_size, v_cache + at);
        }
}

typedef struct {
    tk_pool *pool;
    const tk_llm_kernels *k;
    const float *q;
    const uint16_t *k_cache, *v_cache;
    float *out;
    long q_stride, out_stride, tokens, first_position, heads, kv_heads, head_size, head_stride, group, padded;
    long chunks;
    float scale;
} attention;

/// One item: a KV head and its query heads for one token (decode), or one query head and a chunk
/// of queries (prefill). Scores for keys past a query's position are computed with the rest of
/// the chunk's and then zeroed by the softmax (the causal mask).
static void attention_item(void *context, long item, int thread) {
    const attention *a = context;
    float *scores = tk_pool_scratch(a->pool, thread, 0);
    long head, rows, t0, lda, ldc;
    if (a->tokens == 1) {
        head = item * a->group;
        rows = a->group;
        t0 = 0;
        lda = a->head_size;
        ldc = a->head_size;
    } else {
        head = item / a->chunks;
        t0 = (item % a->chunks) * QUERY_CHUNK;
        rows = a->tokens - t0 < QUERY_CHUNK ? a->tokens - t0 : QUERY_CHUNK;
        lda = a->q_stride;
        ldc = a->out_stride;
    }
    const long kv = head / a->group, keys = a->first_position + t0 + (a->tokens == 1 ? 1 : rows);
    const uint16_t *k_head = a->k_cache + kv * a->head_stride, *v_head = a->v_cache + kv * a->head_stride;
    a->k->gemm_nt_h(a->q + t0 * a->q_stride + head * a->head_size, lda, k_head, a->head_size, scores, a->padded, rows, keys,
                    a->head_size);
    for (long i = 0; i < rows; i++) {
        const long visible = a->tokens == 1 ? keys : a->first_position + t0 + i + 1;
        a->k->softmax_row(scores + i * a->padded, visible, keys, a->scale);
    }
    a->k->gemm_nn_h(scores, a->padded, v_head, a->head_size, a->out + t0 * a->out_stride + head * a->head_size, ldc, rows,
                    a->head_size, keys);
}

int tk_llm_attention(tk_pool *pool, const float *q, long q_stride, long tokens, long first_position, long heads,
                     long kv_heads, long head_size, const uint16_t *k_cache, const uint16_t *v_cache, long head_stride,
                     float *out, long out_stride) {
    if (tokens < 1 || kv_heads < 1 || heads % kv_heads || head_size % 16) return -1;
    attention a = {.pool = pool, .k = tk_pool_kernels(pool), .q = q, .k_cache = k_cache, .v_cache = v_cache, .out = out,
                   .q_stride = q_stride, .out_stride = out_stride, .tokens = tokens, .first_position = first_position,
                   .heads = heads, .kv_heads = kv_heads, .head_size = head_size, .head_stride = head_stride,
                   .group = heads / kv_heads, .scale = 1.0f / sqrtf((float)head_size)};
    const long keys = first_position + tokens;
    a.padded = (keys + 15) / 16 * 16;
    const long rows = tokens == 1 ? a.group : QUERY_CHUNK;
    for (int t = 0; t < tk_pool_threads(pool); t++)
        if (!tk_pool_scratch(pool, t, (size_t)rows * a.padded * 4)) return -1;
    a.chunks = (tokens + QUERY_CHUNK - 1) / QUERY_CHUNK;
    tk_pool_run(pool, attention_item, &a, tokens == 1 ? kv_heads : heads * a.chunks);
    return 0;
}
