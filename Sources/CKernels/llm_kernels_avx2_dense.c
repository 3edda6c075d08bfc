// AVX2 + FMA versions of the LLM's Float32 kernels: the two matrix-product shapes (weight panels
// and attention scores as dot products, attention's weighted sum of values as outer products),
// and the element-wise steps.
#if defined(__x86_64__)
#include "llm_avx2.h"

/// c[0], c[1] = the horizontal sums of a and b.
INLINE void store_sums2(__m256 a, __m256 b, float *c) {
    const __m256 pairs = _mm256_hadd_ps(a, b);
    __m128 halves = _mm_add_ps(_mm256_castps256_ps128(pairs), _mm256_extractf128_ps(pairs, 1));
    halves = _mm_hadd_ps(halves, halves);
    _mm_storel_pi((__m64 *)c, halves);
}

/// Eight values of b from Float32 or f16 storage.
INLINE __m256 load8(const void *b, long at, const int HALF) {
    return HALF ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)b + at))) : _mm256_loadu_ps((const float *)b + at);
}

/// An M × N tile (M ≤ 6 rows of a, N ≤ 2 rows of b) of c = a · bᵀ: 12 accumulators, and per
/// 8 values of k 8 loads for 12 FMAs, so the FMA units, not the loads, set the pace.
INLINE void nt_tile(const float *a, long lda, const void *b, long ldb, float *c, long ldc, long k, const int M, const int N,
                    const int HALF) {
    __m256 acc[6][2];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) acc[i][j] = _mm256_setzero_ps();
    for (long l = 0; l < k; l += 8) {
        const __m256 b0 = load8(b, l, HALF), b1 = N > 1 ? load8(b, ldb + l, HALF) : b0;
        for (int i = 0; i < M; i++) {
            const __m256 av = _mm256_loadu_ps(a + i * lda + l);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            if (N > 1) acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < M; i++) {
        if (N > 1) store_sums2(acc[i][0], acc[i][1], c + i * ldc);
        else c[i * ldc] = hsum(acc[i][0]);
    }
}

#define NT_CASE(M, N)                                                                                                  \
    case (M) * 2 + (N) - 1: nt_tile(ap, lda, bp, ldb, cp, ldc, k, M, N, HALF); break;

INLINE void gemm_nt(const float *a, long lda, const void *b, long ldb, float *c, long ldc, long m, long n, long k, const int HALF) {
    for (long i = 0; i < m; i += 6) {
        const long rows = m - i < 6 ? m - i : 6;
        for (long j = 0; j < n; j += 2) {
            const long cols = n - j < 2 ? n - j : 2;
            const float *ap = a + i * lda;
            const void *bp = HALF ? (const void *)((const uint16_t *)b + j * ldb) : (const void *)((const float *)b + j * ldb);
            float *cp = c + i * ldc + j;
            switch (rows * 2 + cols - 1) {
                NT_CASE(1, 1) NT_CASE(1, 2) NT_CASE(2, 1) NT_CASE(2, 2) NT_CASE(3, 1) NT_CASE(3, 2)
                NT_CASE(4, 1) NT_CASE(4, 2) NT_CASE(5, 1) NT_CASE(5, 2) NT_CASE(6, 1) NT_CASE(6, 2)
            }
        }
    }
}

AVX2 void tk_avx2_gemm_nt(const float *a, long lda, const float *b, long ldb, float *c, long ldc, long m, long n, long k) {
    gemm_nt(a, lda, b, ldb, c, ldc, m, n, k, 0);
}

AVX2 void tk_avx2_gemm_nt_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k) {
    gemm_nt(a, lda, b, ldb, c, ldc, m, n, k, 1);
}

/// An M × 16 tile (M ≤ 6) of c = a · b, b in f16: per value of k, two loads of b and M broadcasts
/// of a for 2·M FMAs.
INLINE void nn_tile(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long k, const int M) {
    __m256 acc[6][2];
    for (int i = 0; i < M; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (long l = 0; l < k; l++) {
        const __m256 b0 = load8(b, l * ldb, 1), b1 = load8(b, l * ldb + 8, 1);
        for (int i = 0; i < M; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + l);
            acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    for (int i = 0; i < M; i++) {
        _mm256_storeu_ps(c + i * ldc, acc[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    }
}

AVX2 void tk_avx2_gemm_nn_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k) {
    for (long i = 0; i < m; i += 6) {
        const long rows = m - i < 6 ? m - i : 6;
        for (long j = 0; j < n; j += 16) {
            const float *ap = a + i * lda;
            const uint16_t *bp = b + j;
            float *cp = c + i * ldc + j;
            switch (rows) {
            case 1: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 1); break;
            case 2: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 2); break;
            case 3: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 3); break;
            case 4: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 4); break;
            case 5: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 5); break;
            default: nn_tile(ap, lda, bp, ldb, cp, ldc, k, 6); break;
            }
        }
    }
}

AVX2 void tk_avx2_to_half(const float *x, long count, uint16_t *out) {
    long i = 0;
    for (; i + 8 <= count; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < count; i++) {
        const uint16_t h = tk_float_to_half(x[i]);
        memcpy(out + i, &h, 2);
    }
}

// MARK: Element-wise steps

AVX2 void tk_avx2_rmsnorm_row(const float *x, const float *w, long cols, float eps, float *out) {
    __m256 squares = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= cols; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        squares = _mm256_fmadd_ps(v, v, squares);
    }
    double total = hsum(squares);
    for (; i < cols; i++) total += (double)x[i] * x[i];
    const float inverse = (float)(1.0 / sqrt(total / (double)cols + eps));
    const __m256 scale = _mm256_set1_ps(inverse);
    for (i = 0; i + 8 <= cols; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale), _mm256_loadu_ps(w + i)));
    for (; i < cols; i++) out[i] = x[i] * inverse * w[i];
}

/// Pairs (x0, x1) become (x0·c − x1·s, x0·s + x1·c): products first, then one add or subtract,
/// the portable version's roundings.
AVX2 void tk_avx2_rope_row(float *x, long heads, long head_size, const float *table) {
    for (long h = 0; h < heads; h++) {
        float *v = x + h * head_size;
        for (long i = 0; i < head_size; i += 8) {
            const __m256 value = _mm256_loadu_ps(v + i), angles = _mm256_loadu_ps(table + i);
            const __m256 swapped = _mm256_permute_ps(value, 0xB1);
            const __m256 rotated = _mm256_addsub_ps(_mm256_mul_ps(value, _mm256_moveldup_ps(angles)),
                                                    _mm256_mul_ps(swapped, _mm256_movehdup_ps(angles)));
            _mm256_storeu_ps(v + i, rotated);
        }
    }
}

AVX2 void tk_avx2_swiglu_row(float *gate, const float *up, long count) {
    const __m256 one = _mm256_set1_ps(1.0f);
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 g = _mm256_loadu_ps(gate + i);
        const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
    }
    for (; i < count; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

AVX2 void tk_avx2_add_row(float *x, const float *y, long count) {
    long i = 0;
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < count; i++) x[i] += y[i];
}

AVX2 void tk_avx2_softmax_row(float *x, long n, long len, float scale) {
    const __m256 factor = _mm256_set1_ps(scale);
    __m256 top8 = _mm256_set1_ps(-INFINITY);
    long i = 0;
    for (; i + 8 <= n; i += 8) top8 = _mm256_max_ps(top8, _mm256_mul_ps(_mm256_loadu_ps(x + i), factor));
    float top = hmax(top8);
    for (; i < n; i++) top = fmaxf(top, x[i] * scale);
    const __m256 shift = _mm256_set1_ps(top);
    __m256 sum8 = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp256(_mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), factor), shift));
        _mm256_storeu_ps(x + i, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    float sum = hsum(sum8);
    for (; i < n; i++) {
        x[i] = expf(x[i] * scale - top);
        sum += x[i];
    }
    const __m256 inverse = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inverse));
    for (; i < n; i++) x[i] *= 1.0f / sum;
    for (i = n; i < len; i++) x[i] = 0;
}
#endif
