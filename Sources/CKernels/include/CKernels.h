// Small C pieces for retrieval: the element-wise steps of a
// transformer layer, attention for short sentences, an int8 pre-screen for vector search, and
// growing a memory mapping (for the index's page buffers).
//
// SwiftPM compiles for baseline x86-64 (SSE2), where Swift cannot reach AVX2 or FMA, and the
// scalar `erff` alone was a tenth of the encoder's time. Each kernel has an AVX2+FMA version,
// chosen at run time when the CPU has it, and a portable one. Only TroupeRetrieval imports this
// module, `internal`ly; every argument is a plain pointer or integer. The embedded chat model's
// kernels (TroupeLLM) are declared in llm_kernels.h.
#ifndef TROUPE_CKERNELS_H
#define TROUPE_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "llm_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the AVX2+FMA kernels run, 0 when the portable ones do.
int tk_vector_unit(void);

/// x[r][c] += bias[c] for every row of a rows × cols matrix.
void tk_bias_add(float *x, const float *bias, long rows, long cols);

/// x[r][c] = gelu(x[r][c] + bias[c]), the exact (erf) GELU to within about 2e-7 absolute.
void tk_bias_gelu(float *x, const float *bias, long rows, long cols);

/// x = LayerNorm(x + residual) row by row (residual may be NULL): mean and variance over the
/// row, then scale and shift per column.
void tk_residual_layernorm(float *x, const float *residual, const float *scale, const float *shift,
                           long rows, long cols, float eps);

/// Scaled dot-product attention of one sentence of `n` tokens, all heads. Row t of `qkv` (stride
/// `qkv_stride` floats) holds Q, K and V side by side, each `heads × head_size` wide; row t of
/// `out` (stride `out_stride`) receives the heads' outputs side by side. `scratch` holds n floats.
/// head_size must be a multiple of 8.
void tk_attention(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale,
                  float *out, long out_stride, float *scratch);

/// Quantises each row of a rows × d matrix to int8 with a per-row scale (max |x| / 127):
/// codes[r][i] = round(x[r][i] / scales[r]). errors[r] receives the L2 norm of the row's rounding
/// error, ||x_r − scales[r]·codes_r||, which bounds how far a quantised dot product can stray.
void tk_quantize_rows(const float *x, long rows, long d, int8_t *codes, float *scales, float *errors);

/// out[r] = query_scale · scales[r] · (query · codes_r) for `rows` int8 rows of width d (a multiple
/// of 16), with the query quantised to int16 (its scale is query_scale). Sums are kept in int32:
/// the caller keeps |query[i]| ≤ (2³¹ − 1) / (127 · d), so they cannot overflow.
void tk_dot_i8(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows, long d,
               float *out);

// The portable versions, whatever the CPU; for tests that hold the vector kernels to them.
void tk_portable_bias_gelu(float *x, const float *bias, long rows, long cols);
void tk_portable_residual_layernorm(float *x, const float *residual, const float *scale, const float *shift,
                                   long rows, long cols, float eps);
void tk_portable_attention(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale,
                           float *out, long out_stride, float *scratch);
void tk_portable_dot_i8(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows,
                        long d, float *out);

/// Grows an anonymous private mapping of `old_size` bytes to `new_size` (mremap on Linux, where
/// the pages move without copying; elsewhere a new mapping, a copy and an unmap). Returns the
/// new address, or NULL with errno set, in which case the old mapping is untouched.
void *tk_grow_mapping(void *old, size_t old_size, size_t new_size);

#ifdef __cplusplus
}
#endif

#endif
