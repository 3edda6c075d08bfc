// AVX2 + FMA + F16C versions of the LLM kernels; the pool uses them only when
// tk_llm_best_level() found all three. Each computes what its portable twin does, up to the
// order of Float32 additions (integer sums are exact in both).
#if defined(__x86_64__)
#include "llm_internal.h"

#include "llm_avx2.h"

// MARK: Matrix-vector products (one token)

/// Σ_j q_j x_j of one Q4_1 block against Float32 activations, as 8 partial sums.
INLINE __m256 q4_1_dot_f32(const tk_block_q4_1 *b, __m256 x0, __m256 x1, __m256 x2, __m256 x3) {
    const __m256i low = _mm256_set1_epi32(15);
    const __m128i q = _mm_loadu_si128((const __m128i *)b->qs);
    const __m256i a = _mm256_cvtepu8_epi32(q), c = _mm256_cvtepu8_epi32(_mm_srli_si128(q, 8));
    __m256 dot = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, low)), x0);
    dot = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(c, low)), x1, dot);
    dot = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 4)), x2, dot);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(c, 4)), x3, dot);
}

// Four rows at a time: they share the activation loads and one f16 conversion for their
// scales, and their accumulators form independent dependency chains. Row counts are multiples
// of 16 (the caller checks), so there is no remainder.
AVX2 static void matvec_q4_1_f32(const void *w, long rows, long blocks, const float *x, const float *block_sums,
                                 float *out) {
    const tk_block_q4_1 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q4_1);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q4_1 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, low = acc0;
        for (long i = 0; i < blocks; i++) {
            const float *xb = x + i * TK_BLOCK;
            const __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8), x2 = _mm256_loadu_ps(xb + 16),
                         x3 = _mm256_loadu_ps(xb + 24);
            const __m256 dm = scales4_q4_1(b0 + i, b1 + i, b2 + i, b3 + i);
            low = _mm256_fmadd_ps(dm, _mm256_set1_ps(block_sums[i]), low);
            acc0 = _mm256_fmadd_ps(q4_1_dot_f32(b0 + i, x0, x1, x2, x3), LANE(dm, 0), acc0);
            acc1 = _mm256_fmadd_ps(q4_1_dot_f32(b1 + i, x0, x1, x2, x3), LANE(dm, 2), acc1);
            acc2 = _mm256_fmadd_ps(q4_1_dot_f32(b2 + i, x0, x1, x2, x3), LANE(dm, 4), acc2);
            acc3 = _mm256_fmadd_ps(q4_1_dot_f32(b3 + i, x0, x1, x2, x3), LANE(dm, 6), acc3);
        }
        float lows[8];
        _mm256_storeu_ps(lows, low);
        out[r] = hsum(acc0) + lows[1];
        out[r + 1] = hsum(acc1) + lows[3];
        out[r + 2] = hsum(acc2) + lows[5];
        out[r + 3] = hsum(acc3) + lows[7];
    }
}

/// Σ_j q_j a_j of one Q4_1 block against int8 activations, as 8 int32 partial sums (exact:
/// each pair of products is at most 2 · 15 · 127 in magnitude, well inside int16).
INLINE __m256i q4_1_dot_q8(const tk_block_q4_1 *b, __m256i a) {
    const __m128i q = _mm_loadu_si128((const __m128i *)b->qs);
    const __m256i u = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(15));
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, a), _mm256_set1_epi16(1));
}

/// One row's nibbles at a time: for rows longer than the paired kernel's stack copy (8192 columns).
AVX2 static void matvec_q4_1_q8_rows(const void *w, long rows, long blocks, const int8_t *q, const float *d,
                                     const float *block_sums, float *out) {
    const tk_block_q4_1 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q4_1);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q4_1 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, low = acc0;
        for (long i = 0; i < blocks; i++) {
            const __m256i a = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK));
            const __m256 dm = scales4_q4_1(b0 + i, b1 + i, b2 + i, b3 + i);
            const __m256 scaled = _mm256_mul_ps(dm, _mm256_set1_ps(d[i]));
            low = _mm256_fmadd_ps(dm, _mm256_set1_ps(block_sums[i]), low);
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_1_dot_q8(b0 + i, a)), LANE(scaled, 0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_1_dot_q8(b1 + i, a)), LANE(scaled, 2), acc1);
            acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_1_dot_q8(b2 + i, a)), LANE(scaled, 4), acc2);
            acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_1_dot_q8(b3 + i, a)), LANE(scaled, 6), acc3);
        }
        float lows[8];
        _mm256_storeu_ps(lows, low);
        out[r] = hsum(acc0) + lows[1];
        out[r + 1] = hsum(acc1) + lows[3];
        out[r + 2] = hsum(acc2) + lows[5];
        out[r + 3] = hsum(acc3) + lows[7];
    }
}

/// Σ q·a of one block of two rows at once: low nibbles (values 0…15) against the activations'
/// first 16 codes, high nibbles (16…31) against the last 16, both copied into each lane. Returns
/// row a's four partial sums in the low lane, row b's in the high one (exact: each int16 lane
/// sums at most 4 · 15 · 127).
INLINE __m256i q4_1_dot2_q8(__m256i v, __m256i first, __m256i last) {
    const __m256i low = _mm256_set1_epi8(15);
    const __m256i sums = _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(v, low), first),
                                          _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), low), last));
    return _mm256_madd_epi16(sums, _mm256_set1_epi16(1));
}

/// Rows in pairs sharing one nibble unpack (a quarter fewer instructions than one row at a
/// time), four rows per pass sharing the scales' conversion. Up to 256 blocks (8192 columns); the
/// activations' halves are copied into both lanes once per call.
AVX2 static void matvec_q4_1_q8(const void *w, long rows, long blocks, const int8_t *q, const float *d,
                                const float *block_sums, float *out) {
    if (blocks > 256) return matvec_q4_1_q8_rows(w, rows, blocks, q, d, block_sums, out);
    __m256i first[256], last[256];
    for (long i = 0; i < blocks; i++) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK));
        first[i] = _mm256_permute2x128_si256(a, a, 0x00);
        last[i] = _mm256_permute2x128_si256(a, a, 0x11);
    }
    const tk_block_q4_1 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q4_1);
    const __m256i lanes01 = _mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2), lanes23 = _mm256_setr_epi32(4, 4, 4, 4, 6, 6, 6, 6);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q4_1 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc01 = _mm256_setzero_ps(), acc23 = acc01, low = acc01;
        for (long i = 0; i < blocks; i++) {
            const __m256 dm = scales4_q4_1(b0 + i, b1 + i, b2 + i, b3 + i);
            const __m256 scaled = _mm256_mul_ps(dm, _mm256_set1_ps(d[i]));
            low = _mm256_fmadd_ps(dm, _mm256_set1_ps(block_sums[i]), low);
            const __m256i p01 = q4_1_dot2_q8(nibbles2(b0 + i, b1 + i), first[i], last[i]);
            const __m256i p23 = q4_1_dot2_q8(nibbles2(b2 + i, b3 + i), first[i], last[i]);
            acc01 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p01), _mm256_permutevar8x32_ps(scaled, lanes01), acc01);
            acc23 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p23), _mm256_permutevar8x32_ps(scaled, lanes23), acc23);
        }
        float lows[8];
        _mm256_storeu_ps(lows, low);
        out[r] = hsum128(_mm256_castps256_ps128(acc01)) + lows[1];
        out[r + 1] = hsum128(_mm256_extractf128_ps(acc01, 1)) + lows[3];
        out[r + 2] = hsum128(_mm256_castps256_ps128(acc23)) + lows[5];
        out[r + 3] = hsum128(_mm256_extractf128_ps(acc23, 1)) + lows[7];
    }
}

INLINE __m256 q8_0_dot_f32(const tk_block_q8_0 *b, const float *xb) {
    const __m128i q0 = _mm_loadu_si128((const __m128i *)b->qs), q1 = _mm_loadu_si128((const __m128i *)(b->qs + 16));
    __m256 dot = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q0)), _mm256_loadu_ps(xb));
    dot = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q0, 8))), _mm256_loadu_ps(xb + 8), dot);
    dot = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q1)), _mm256_loadu_ps(xb + 16), dot);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(q1, 8))), _mm256_loadu_ps(xb + 24), dot);
}

AVX2 static void matvec_q8_0_f32(const void *w, long rows, long blocks, const float *x, float *out) {
    const tk_block_q8_0 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q8_0);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q8_0 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (long i = 0; i < blocks; i++) {
            const float *xb = x + i * TK_BLOCK;
            const __m256 s = scales4_q8_0(b0 + i, b1 + i, b2 + i, b3 + i);
            acc0 = _mm256_fmadd_ps(q8_0_dot_f32(b0 + i, xb), LANE(s, 0), acc0);
            acc1 = _mm256_fmadd_ps(q8_0_dot_f32(b1 + i, xb), LANE(s, 2), acc1);
            acc2 = _mm256_fmadd_ps(q8_0_dot_f32(b2 + i, xb), LANE(s, 4), acc2);
            acc3 = _mm256_fmadd_ps(q8_0_dot_f32(b3 + i, xb), LANE(s, 6), acc3);
        }
        out[r] = hsum(acc0);
        out[r + 1] = hsum(acc1);
        out[r + 2] = hsum(acc2);
        out[r + 3] = hsum(acc3);
    }
}

/// Σ_j q_j a_j of one Q8_0 block against int8 activations: maddubs wants an unsigned operand,
/// so the weights' signs move onto the activations (|q| ≤ 128, |a| ≤ 127: pairs fit int16).
INLINE __m256i q8_0_dot_q8(const tk_block_q8_0 *b, __m256i a) {
    const __m256i q = _mm256_loadu_si256((const __m256i *)b->qs);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(a, q)), _mm256_set1_epi16(1));
}

AVX2 static void matvec_q8_0_q8(const void *w, long rows, long blocks, const int8_t *q, const float *d, float *out) {
    const tk_block_q8_0 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q8_0);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q8_0 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (long i = 0; i < blocks; i++) {
            const __m256i a = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK));
            const __m256 s = _mm256_mul_ps(scales4_q8_0(b0 + i, b1 + i, b2 + i, b3 + i), _mm256_set1_ps(d[i]));
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q8(b0 + i, a)), LANE(s, 0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q8(b1 + i, a)), LANE(s, 2), acc1);
            acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q8(b2 + i, a)), LANE(s, 4), acc2);
            acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q8(b3 + i, a)), LANE(s, 6), acc3);
        }
        out[r] = hsum(acc0);
        out[r + 1] = hsum(acc1);
        out[r + 2] = hsum(acc2);
        out[r + 3] = hsum(acc3);
    }
}

AVX2 static void quantize_q8(const float *x, long cols, int8_t *q, float *d, float *block_sums) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (long i = 0; i < cols / TK_BLOCK; i++) {
        const float *xb = x + i * TK_BLOCK;
        __m256 v[4];
        __m256 largest = _mm256_setzero_ps(), sum = _mm256_setzero_ps();
        for (int j = 0; j < 4; j++) {
            v[j] = _mm256_loadu_ps(xb + 8 * j);
            largest = _mm256_max_ps(largest, _mm256_andnot_ps(sign, v[j]));
            sum = _mm256_add_ps(sum, v[j]);
        }
        const float scale = hmax(largest) / 127.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
        __m256i codes[4];
        for (int j = 0; j < 4; j++) {
            __m256 scaled = _mm256_round_ps(_mm256_mul_ps(v[j], _mm256_set1_ps(inverse)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            scaled = _mm256_min_ps(_mm256_set1_ps(127.0f), _mm256_max_ps(_mm256_set1_ps(-127.0f), scaled));
            codes[j] = _mm256_cvtps_epi32(scaled);
        }
        // Packing works within 128-bit lanes; the permute puts the 32 bytes back in order.
        const __m256i words = _mm256_packs_epi32(codes[0], codes[1]), words2 = _mm256_packs_epi32(codes[2], codes[3]);
        const __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(words, words2), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + i * TK_BLOCK), bytes);
        d[i] = scale;
        block_sums[i] = hsum(sum);
    }
}

// MARK: Dequantising (the several-token path multiplies Float32 panels)

AVX2 static void dequantize(int type, const void *src, long count, float *dst) {
    switch (type) {
    case TK_TYPE_Q4_1: {
        const tk_block_q4_1 *b = src;
        const __m256i low = _mm256_set1_epi32(15);
        for (long i = 0; i < count / TK_BLOCK; i++, b++, dst += TK_BLOCK) {
            // Multiply, then add (not one FMA): the same two roundings as the portable version.
            const __m256 scale = _mm256_set1_ps(half(&b->d)), offset = _mm256_set1_ps(half(&b->m));
            const __m128i q = _mm_loadu_si128((const __m128i *)b->qs);
            const __m256i a = _mm256_cvtepu8_epi32(q), c = _mm256_cvtepu8_epi32(_mm_srli_si128(q, 8));
            _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(a, low)), scale), offset));
            _mm256_storeu_ps(dst + 8, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(c, low)), scale), offset));
            _mm256_storeu_ps(dst + 16, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(a, 4)), scale), offset));
            _mm256_storeu_ps(dst + 24, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(c, 4)), scale), offset));
        }
        break;
    }
    case TK_TYPE_Q8_0: {
        const tk_block_q8_0 *b = src;
        for (long i = 0; i < count / TK_BLOCK; i++, b++, dst += TK_BLOCK) {
            const __m256 scale = _mm256_set1_ps(half(&b->d));
            for (int j = 0; j < 4; j++) {
                const __m128i q = _mm_loadl_epi64((const __m128i *)(b->qs + 8 * j));
                _mm256_storeu_ps(dst + 8 * j, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), scale));
            }
        }
        break;
    }
    case TK_TYPE_F16: {
        const uint16_t *h = src;
        long i = 0;
        for (; i + 8 <= count; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
        for (; i < count; i++) dst[i] = half(h + i);
        break;
    }
    default: tk_llm_portable_kernels.dequantize(type, src, count, dst); break;
    }
}

const tk_llm_kernels tk_llm_avx2_kernels = {
    .matvec_q4_1_f32 = matvec_q4_1_f32,
    .matvec_q4_1_q8 = matvec_q4_1_q8,
    .matvec_q8_0_f32 = matvec_q8_0_f32,
    .matvec_q8_0_q8 = matvec_q8_0_q8,
    .quantize_q8 = quantize_q8,
    .matvec_q4_1_q16 = tk_avx2_matvec_q4_1_q16,
    .matvec_q8_0_q16 = tk_avx2_matvec_q8_0_q16,
    .quantize_q16 = tk_avx2_quantize_q16,
    .dequantize = dequantize,
    .gemm_nt = tk_avx2_gemm_nt,
    .gemm_nt_h = tk_avx2_gemm_nt_h,
    .gemm_nn_h = tk_avx2_gemm_nn_h,
    .to_half = tk_avx2_to_half,
    .rmsnorm_row = tk_avx2_rmsnorm_row,
    .rope_row = tk_avx2_rope_row,
    .swiglu_row = tk_avx2_swiglu_row,
    .add_row = tk_avx2_add_row,
    .softmax_row = tk_avx2_softmax_row,
};
#endif
