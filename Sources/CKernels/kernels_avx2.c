// AVX2+FMA versions of the kernels; only called after tk_vector_unit() said the CPU has both.
#if defined(__x86_64__)
#include "kernels_internal.h"

#include <immintrin.h>
#include <math.h>

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float hsum(__m256 v) {
    __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
    sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
    return _mm_cvtss_f32(sum);
}

/// e^x to about 1 ulp over [-87.3, 88.3] (clamped outside): Cephes' expf, range reduction by
/// ln 2 in two parts, a degree-6 polynomial, and the power of two built in the exponent bits.
AVX2 static inline __m256 exp256(__m256 x) {
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

/// GELU(v) = v · Φ(v) = ½ · v · (1 + erf(v / √2)), with erf by Abramowitz and Stegun 7.1.26
/// (absolute error below 1.5e-7). For v < 0, 1 + erf is computed directly as the tail, not as
/// 1 − (1 − tail), so small negative outputs keep their precision.
AVX2 static inline __m256 gelu256(__m256 v) {
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 z = _mm256_mul_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), v), _mm256_set1_ps(0.70710678118654752f));
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(z, _mm256_set1_ps(0.3275911f), one));
    __m256 poly = _mm256_set1_ps(1.061405429f);
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
    poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
    poly = _mm256_mul_ps(poly, t);
    // tail = 1 − erf(|v| / √2)
    const __m256 tail = _mm256_mul_ps(poly, exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(z, z))));
    const __m256 negative = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
    const __m256 twice_phi = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), tail), tail, negative);
    return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), twice_phi);
}

AVX2 void tk_bias_add_avx2(float *x, const float *bias, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        long c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(row + c, _mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(bias + c)));
        for (; c < cols; c++) row[c] += bias[c];
    }
}

AVX2 void tk_bias_gelu_avx2(float *x, const float *bias, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        long c = 0;
        for (; c + 8 <= cols; c += 8)
            _mm256_storeu_ps(row + c, gelu256(_mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(bias + c))));
        for (; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
        }
    }
}

AVX2 void tk_residual_layernorm_avx2(float *x, const float *residual, const float *scale, const float *shift, long rows,
                                     long cols, float eps) {
    const long whole = cols - cols % 8;
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        if (residual) {
            const float *add = residual + r * cols;
            long c = 0;
            for (; c < whole; c += 8)
                _mm256_storeu_ps(row + c, _mm256_add_ps(_mm256_loadu_ps(row + c), _mm256_loadu_ps(add + c)));
            for (; c < cols; c++) row[c] += add[c];
        }
        __m256 acc = _mm256_setzero_ps();
        float rest = 0;
        for (long c = 0; c < whole; c += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(row + c));
        for (long c = whole; c < cols; c++) rest += row[c];
        const float mean = (hsum(acc) + rest) / (float)cols;
        const __m256 meanv = _mm256_set1_ps(mean);
        acc = _mm256_setzero_ps();
        rest = 0;
        for (long c = 0; c < whole; c += 8) {
            const __m256 centred = _mm256_sub_ps(_mm256_loadu_ps(row + c), meanv);
            acc = _mm256_fmadd_ps(centred, centred, acc);
        }
        for (long c = whole; c < cols; c++) rest += (row[c] - mean) * (row[c] - mean);
        const float inverse = 1.0f / sqrtf((hsum(acc) + rest) / (float)cols + eps);
        const __m256 inversev = _mm256_set1_ps(inverse);
        long c = 0;
        for (; c < whole; c += 8) {
            const __m256 normal = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + c), meanv), inversev);
            _mm256_storeu_ps(row + c, _mm256_fmadd_ps(normal, _mm256_loadu_ps(scale + c), _mm256_loadu_ps(shift + c)));
        }
        for (; c < cols; c++) row[c] = (row[c] - mean) * inverse * scale[c] + shift[c];
    }
}

AVX2 void tk_attention_avx2(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale, float *out,
                            long out_stride, float *scratch) {
    const long width = heads * head_size;
    for (long h = 0; h < heads; h++) {
        const float *keys = qkv + width + h * head_size, *values = qkv + 2 * width + h * head_size;
        for (long i = 0; i < n; i++) {
            const float *q = qkv + i * qkv_stride + h * head_size;
            float top = -INFINITY;
            for (long j = 0; j < n; j++) {
                const float *k = keys + j * qkv_stride;
                __m256 acc = _mm256_setzero_ps();
                for (long e = 0; e < head_size; e += 8)
                    acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + e), _mm256_loadu_ps(k + e), acc);
                const float s = hsum(acc) * scale;
                scratch[j] = s;
                top = s > top ? s : top;
            }
            const __m256 topv = _mm256_set1_ps(top);
            __m256 sums = _mm256_setzero_ps();
            float rest = 0;
            long j = 0;
            for (; j + 8 <= n; j += 8) {
                const __m256 p = exp256(_mm256_sub_ps(_mm256_loadu_ps(scratch + j), topv));
                _mm256_storeu_ps(scratch + j, p);
                sums = _mm256_add_ps(sums, p);
            }
            for (; j < n; j++) {
                scratch[j] = expf(scratch[j] - top);
                rest += scratch[j];
            }
            const __m256 inverse = _mm256_set1_ps(1.0f / (hsum(sums) + rest));
            float *o = out + i * out_stride + h * head_size;
            for (long e = 0; e < head_size; e += 8) {
                __m256 acc = _mm256_setzero_ps();
                for (long t = 0; t < n; t++)
                    acc = _mm256_fmadd_ps(_mm256_set1_ps(scratch[t]), _mm256_loadu_ps(values + t * qkv_stride + e), acc);
                _mm256_storeu_ps(o + e, _mm256_mul_ps(acc, inverse));
            }
        }
    }
}

AVX2 static inline int32_t hsum_epi32(__m256i v) {
    __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(1, 0, 3, 2)));
    sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(sum);
}

/// Sixteen codes at a time: sign-extended to int16 (one shuffle), multiplied by the int16 query
/// and summed in pairs into int32 (vpmaddwd). Two rows per pass share the query loads.
AVX2 void tk_dot_i8_avx2(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows, long d,
                         float *out) {
    long r = 0;
    for (; r + 2 <= rows; r += 2) {
        const int8_t *a = codes + r * d, *b = a + d;
        __m256i sa = _mm256_setzero_si256(), sb = _mm256_setzero_si256();
        for (long i = 0; i < d; i += 16) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(query + i));
            sa = _mm256_add_epi32(sa, _mm256_madd_epi16(q, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)))));
            sb = _mm256_add_epi32(sb, _mm256_madd_epi16(q, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)))));
        }
        out[r] = (float)hsum_epi32(sa) * (scales[r] * query_scale);
        out[r + 1] = (float)hsum_epi32(sb) * (scales[r + 1] * query_scale);
    }
    for (; r < rows; r++) {
        const int8_t *a = codes + r * d;
        __m256i sa = _mm256_setzero_si256();
        for (long i = 0; i < d; i += 16) {
            const __m256i q = _mm256_loadu_si256((const __m256i *)(query + i));
            sa = _mm256_add_epi32(sa, _mm256_madd_epi16(q, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)))));
        }
        out[r] = (float)hsum_epi32(sa) * (scales[r] * query_scale);
    }
}
#endif
