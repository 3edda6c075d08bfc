// Helpers shared by the AVX2 LLM kernels (llm_kernels_avx2*.c), and the dense kernels those
// files share out between them.
#ifndef TROUPE_LLM_AVX2_H
#define TROUPE_LLM_AVX2_H
#if defined(__x86_64__)
#include "llm_internal.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE AVX2 static inline __attribute__((always_inline))

INLINE float hsum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

INLINE float hmax(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/// The f16 at p, widened to 32 bits (for a vector conversion of several).
INLINE int half_bits(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return (int)h;
}

INLINE float half(const uint16_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/// e^x to about 1 ulp over [-87.3, 88.3] (clamped outside): Cephes' expf, as in kernels_avx2.c.
INLINE __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i power = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(power));
}

INLINE float hsum128(__m128 s) {
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// The f16 pairs (d, m) of block i of four rows as Float32: (d0, m0, d1, m1, d2, m2, d3, m3), in
/// one conversion instead of eight.
INLINE __m256 scales4_q4_1(const tk_block_q4_1 *b0, const tk_block_q4_1 *b1, const tk_block_q4_1 *b2,
                          const tk_block_q4_1 *b3) {
    uint32_t h0, h1, h2, h3;
    memcpy(&h0, b0, 4);
    memcpy(&h1, b1, 4);
    memcpy(&h2, b2, 4);
    memcpy(&h3, b3, 4);
    return _mm256_cvtph_ps(_mm_setr_epi32((int)h0, (int)h1, (int)h2, (int)h3));
}

/// The f16 scales of block i of four rows as Float32, in lanes 0, 2, 4 and 6.
INLINE __m256 scales4_q8_0(const tk_block_q8_0 *b0, const tk_block_q8_0 *b1, const tk_block_q8_0 *b2,
                          const tk_block_q8_0 *b3) {
    return _mm256_cvtph_ps(_mm_setr_epi32(half_bits(b0), half_bits(b1), half_bits(b2), half_bits(b3)));
}

#define LANE(v, i) _mm256_permutevar8x32_ps((v), _mm256_set1_epi32(i))

/// Asks for the next group of four rows (`bytes` of them, which follow `group`'s) while this
/// group computes: the hardware prefetcher alone leaves a decode step's loads waiting on memory
/// (measured: 6 GB/s without, 12 with, on one Zen 3 core).
INLINE void prefetch_group(const void *group, long bytes) {
    const char *next = (const char *)group + bytes;
    for (long at = 0; at < bytes; at += 64) _mm_prefetch(next + at, _MM_HINT_T0);
}

/// Two rows' nibbles of block i, side by side: row a's 16 bytes in the low lane, row b's in the high.
INLINE __m256i nibbles2(const tk_block_q4_1 *a, const tk_block_q4_1 *b) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)a->qs)),
                                   _mm_loadu_si128((const __m128i *)b->qs), 1);
}

void tk_avx2_matvec_q4_1_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d,
                             const float *block_sums, float *out);
void tk_avx2_matvec_q8_0_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d, float *out);
void tk_avx2_quantize_q16(const float *x, long cols, int16_t *q, float *d, float *block_sums);
void tk_avx2_gemm_nt(const float *a, long lda, const float *b, long ldb, float *c, long ldc, long m, long n, long k);
void tk_avx2_gemm_nt_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k);
void tk_avx2_gemm_nn_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k);
void tk_avx2_to_half(const float *x, long count, uint16_t *out);
void tk_avx2_rmsnorm_row(const float *x, const float *w, long cols, float eps, float *out);
void tk_avx2_rope_row(float *x, long heads, long head_size, const float *table);
void tk_avx2_swiglu_row(float *gate, const float *up, long count);
void tk_avx2_add_row(float *x, const float *y, long count);
void tk_avx2_softmax_row(float *x, long n, long len, float scale);

#endif
#endif
