// The AVX2+FMA kernels, called by the dispatchers in kernels.c only when the CPU has both.
#ifndef TROUPE_CKERNELS_INTERNAL_H
#define TROUPE_CKERNELS_INTERNAL_H

#include <stdint.h>

#if defined(__x86_64__)
void tk_bias_add_avx2(float *x, const float *bias, long rows, long cols);
void tk_bias_gelu_avx2(float *x, const float *bias, long rows, long cols);
void tk_residual_layernorm_avx2(float *x, const float *residual, const float *scale, const float *shift,
                                long rows, long cols, float eps);
void tk_attention_avx2(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale,
                       float *out, long out_stride, float *scratch);
void tk_dot_i8_avx2(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows, long d,
                    float *out);
#endif

#endif
