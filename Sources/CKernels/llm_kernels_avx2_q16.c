// AVX2 products of one token against Q4_1 and Q8_0 rows with the activations quantised to
// int16 per block of 32: integer sums as exact as int8's, with quantisation 256 times finer.
#if defined(__x86_64__)
#include "llm_avx2.h"

AVX2 void tk_avx2_quantize_q16(const float *x, long cols, int16_t *q, float *d, float *block_sums) {
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
        // The portable version's scalar steps, so the codes are identical.
        const float scale = hmax(largest) / 32767.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
        __m256i codes[4];
        for (int j = 0; j < 4; j++) {
            __m256 scaled = _mm256_round_ps(_mm256_mul_ps(v[j], _mm256_set1_ps(inverse)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            scaled = _mm256_min_ps(_mm256_set1_ps(32767.0f), _mm256_max_ps(_mm256_set1_ps(-32767.0f), scaled));
            codes[j] = _mm256_cvtps_epi32(scaled);
        }
        // packs works within 128-bit lanes; the permute restores the order.
        const __m256i first = _mm256_permute4x64_epi64(_mm256_packs_epi32(codes[0], codes[1]), 0xD8);
        const __m256i last = _mm256_permute4x64_epi64(_mm256_packs_epi32(codes[2], codes[3]), 0xD8);
        _mm256_storeu_si256((__m256i *)(q + i * TK_BLOCK), first);
        _mm256_storeu_si256((__m256i *)(q + i * TK_BLOCK + 16), last);
        d[i] = scale;
        block_sums[i] = hsum(sum);
    }
}

/// The int16 codes of a block split into bytes, code = 256 · high + low (high signed, low
/// unsigned), each half of the block's 32 copied into both lanes, so that maddubs can multiply
/// them by Q4_1 nibbles: 4 vectors per block.
typedef struct {
    __m256i high_first, high_last, low_first, low_last;
} split_block;

/// Σ q·a of one block of two rows at once (row a's partial sums in the low lane, row b's in the
/// high): 256 · Σ q·high + Σ q·low, every step exact (an int16 lane of the high part sums at
/// most 4 · 15 · 128, of the low part 4 · 15 · 255).
INLINE __m256i q4_1_dot2_q16(__m256i v, const split_block *a) {
    const __m256i mask = _mm256_set1_epi8(15);
    const __m256i first = _mm256_and_si256(v, mask), last = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask);
    const __m256i high = _mm256_add_epi16(_mm256_maddubs_epi16(first, a->high_first), _mm256_maddubs_epi16(last, a->high_last));
    const __m256i low = _mm256_add_epi16(_mm256_maddubs_epi16(a->low_first, first), _mm256_maddubs_epi16(a->low_last, last));
    return _mm256_add_epi32(_mm256_madd_epi16(high, _mm256_set1_epi16(256)), _mm256_madd_epi16(low, _mm256_set1_epi16(1)));
}

/// As the int8 kernel: rows in pairs sharing a nibble unpack, four per pass sharing the scales'
/// conversion; the split activations are built once per call, on the stack (up to 8192 columns;
/// the driver never passes more, see tk_llm_matmul).
AVX2 void tk_avx2_matvec_q4_1_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d,
                                  const float *block_sums, float *out) {
    if (blocks > 256) return tk_llm_portable_kernels.matvec_q4_1_q16(w, rows, blocks, q, d, block_sums, out);
    split_block split[256];
    for (long i = 0; i < blocks; i++) {
        const __m256i c0 = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK));
        const __m256i c1 = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK + 16));
        const __m256i byte = _mm256_set1_epi16(0xFF);
        const __m256i high = _mm256_permute4x64_epi64(_mm256_packs_epi16(_mm256_srai_epi16(c0, 8), _mm256_srai_epi16(c1, 8)), 0xD8);
        const __m256i low = _mm256_permute4x64_epi64(_mm256_packus_epi16(_mm256_and_si256(c0, byte), _mm256_and_si256(c1, byte)), 0xD8);
        split[i].high_first = _mm256_permute2x128_si256(high, high, 0x00);
        split[i].high_last = _mm256_permute2x128_si256(high, high, 0x11);
        split[i].low_first = _mm256_permute2x128_si256(low, low, 0x00);
        split[i].low_last = _mm256_permute2x128_si256(low, low, 0x11);
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
            const __m256i p01 = q4_1_dot2_q16(nibbles2(b0 + i, b1 + i), split + i);
            const __m256i p23 = q4_1_dot2_q16(nibbles2(b2 + i, b3 + i), split + i);
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

/// Σ q·a of one Q8_0 block against int16 codes: sign-extended weights, madd (exact: a pair is
/// at most 2 · 128 · 32767 in magnitude).
INLINE __m256i q8_0_dot_q16(const tk_block_q8_0 *b, __m256i first, __m256i last) {
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)b->qs));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b->qs + 16)));
    return _mm256_add_epi32(_mm256_madd_epi16(w0, first), _mm256_madd_epi16(w1, last));
}

AVX2 void tk_avx2_matvec_q8_0_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d, float *out) {
    const tk_block_q8_0 *base = w;
    const long ahead = 4 * blocks * (long)sizeof(tk_block_q8_0);
    for (long r = 0; r + 4 <= rows; r += 4) {
        const tk_block_q8_0 *b0 = base + r * blocks, *b1 = b0 + blocks, *b2 = b1 + blocks, *b3 = b2 + blocks;
        prefetch_group(b0, ahead);
        __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (long i = 0; i < blocks; i++) {
            const __m256i first = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK));
            const __m256i last = _mm256_loadu_si256((const __m256i *)(q + i * TK_BLOCK + 16));
            const __m256 s = _mm256_mul_ps(scales4_q8_0(b0 + i, b1 + i, b2 + i, b3 + i), _mm256_set1_ps(d[i]));
            acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q16(b0 + i, first, last)), LANE(s, 0), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q16(b1 + i, first, last)), LANE(s, 2), acc1);
            acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q16(b2 + i, first, last)), LANE(s, 4), acc2);
            acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_0_dot_q16(b3 + i, first, last)), LANE(s, 6), acc3);
        }
        out[r] = hsum(acc0);
        out[r + 1] = hsum(acc1);
        out[r + 2] = hsum(acc2);
        out[r + 3] = hsum(acc3);
    }
}
#endif
