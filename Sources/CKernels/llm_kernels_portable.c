// The portable LLM kernels: plain C that defines what every vector version must compute (the
// tests hold the AVX2 ones to these), and what runs on CPUs without AVX2.
#include "llm_internal.h"

#include <math.h>
#include <string.h>

// No fused multiply-adds: `a * b + c` rounds twice here, as the reference decoder does.
#pragma STDC FP_CONTRACT OFF

float tk_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    const uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            // Subnormal: value = mantissa · 2^−24.
            const float value = (float)mantissa * 5.9604644775390625e-8f;
            memcpy(&bits, &value, 4);
            bits |= sign;
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float out;
    memcpy(&out, &bits, 4);
    return out;
}

uint16_t tk_float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000, exponent = (x >> 23) & 0xff;
    uint32_t mantissa = x & 0x7fffff;
    if (exponent == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >> 13) : 0));
    const int e = (int)exponent - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        // A subnormal half (or zero): the 24-bit significand shifted down, rounded to even.
        if (e < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        const int shift = 14 - e;
        uint32_t half = mantissa >> shift;
        const uint32_t rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mantissa >> 13);
    const uint32_t rest = mantissa & 0x1fff;
    // A carry out of the mantissa rounds into the exponent, up to infinity: what rounding wants.
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

static uint16_t half_at(const uint16_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

static void matvec_q4_1_f32(const void *w, long rows, long blocks, const float *x, const float *block_sums, float *out) {
    const tk_block_q4_1 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q4_1 *b = row + i;
            const float *xb = x + i * TK_BLOCK;
            float dot = 0;
            for (int j = 0; j < 16; j++) dot += (float)(b->qs[j] & 15) * xb[j] + (float)(b->qs[j] >> 4) * xb[j + 16];
            acc += tk_half_to_float(half_at(&b->d)) * dot + tk_half_to_float(half_at(&b->m)) * block_sums[i];
        }
        out[r] = acc;
    }
}

static void matvec_q4_1_q8(const void *w, long rows, long blocks, const int8_t *q, const float *d, const float *block_sums,
                           float *out) {
    const tk_block_q4_1 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q4_1 *b = row + i;
            const int8_t *qb = q + i * TK_BLOCK;
            int32_t dot = 0;
            for (int j = 0; j < 16; j++) dot += (int32_t)(b->qs[j] & 15) * qb[j] + (int32_t)(b->qs[j] >> 4) * qb[j + 16];
            acc += tk_half_to_float(half_at(&b->d)) * d[i] * (float)dot + tk_half_to_float(half_at(&b->m)) * block_sums[i];
        }
        out[r] = acc;
    }
}

static void matvec_q8_0_f32(const void *w, long rows, long blocks, const float *x, float *out) {
    const tk_block_q8_0 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q8_0 *b = row + i;
            const float *xb = x + i * TK_BLOCK;
            float dot = 0;
            for (int j = 0; j < TK_BLOCK; j++) dot += (float)b->qs[j] * xb[j];
            acc += tk_half_to_float(half_at(&b->d)) * dot;
        }
        out[r] = acc;
    }
}

static void matvec_q8_0_q8(const void *w, long rows, long blocks, const int8_t *q, const float *d, float *out) {
    const tk_block_q8_0 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q8_0 *b = row + i;
            const int8_t *qb = q + i * TK_BLOCK;
            int32_t dot = 0;
            for (int j = 0; j < TK_BLOCK; j++) dot += (int32_t)b->qs[j] * qb[j];
            acc += tk_half_to_float(half_at(&b->d)) * d[i] * (float)dot;
        }
        out[r] = acc;
    }
}

static void matvec_q4_1_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d, const float *block_sums,
                            float *out) {
    const tk_block_q4_1 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q4_1 *b = row + i;
            const int16_t *qb = q + i * TK_BLOCK;
            int32_t dot = 0;
            for (int j = 0; j < 16; j++) dot += (int32_t)(b->qs[j] & 15) * qb[j] + (int32_t)(b->qs[j] >> 4) * qb[j + 16];
            acc += tk_half_to_float(half_at(&b->d)) * d[i] * (float)dot + tk_half_to_float(half_at(&b->m)) * block_sums[i];
        }
        out[r] = acc;
    }
}

static void matvec_q8_0_q16(const void *w, long rows, long blocks, const int16_t *q, const float *d, float *out) {
    const tk_block_q8_0 *row = w;
    for (long r = 0; r < rows; r++, row += blocks) {
        float acc = 0;
        for (long i = 0; i < blocks; i++) {
            const tk_block_q8_0 *b = row + i;
            const int16_t *qb = q + i * TK_BLOCK;
            int32_t dot = 0;
            for (int j = 0; j < TK_BLOCK; j++) dot += (int32_t)b->qs[j] * qb[j];
            acc += tk_half_to_float(half_at(&b->d)) * d[i] * (float)dot;
        }
        out[r] = acc;
    }
}

static void quantize_q16(const float *x, long cols, int16_t *q, float *d, float *block_sums) {
    for (long i = 0; i < cols / TK_BLOCK; i++) {
        const float *xb = x + i * TK_BLOCK;
        float largest = 0, sum = 0;
        for (int j = 0; j < TK_BLOCK; j++) {
            largest = fmaxf(largest, fabsf(xb[j]));
            sum += xb[j];
        }
        const float scale = largest / 32767.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
        for (int j = 0; j < TK_BLOCK; j++)
            q[i * TK_BLOCK + j] = (int16_t)fminf(32767.0f, fmaxf(-32767.0f, nearbyintf(xb[j] * inverse)));
        d[i] = scale;
        block_sums[i] = sum;
    }
}

static void quantize_q8(const float *x, long cols, int8_t *q, float *d, float *block_sums) {
    for (long i = 0; i < cols / TK_BLOCK; i++) {
        const float *xb = x + i * TK_BLOCK;
        float largest = 0, sum = 0;
        for (int j = 0; j < TK_BLOCK; j++) {
            largest = fmaxf(largest, fabsf(xb[j]));
            sum += xb[j];
        }
        // The same scalar steps as the vector versions, so the codes are identical.
        const float scale = largest / 127.0f, inverse = scale != 0 ? 1.0f / scale : 0.0f;
        for (int j = 0; j < TK_BLOCK; j++) q[i * TK_BLOCK + j] = (int8_t)fminf(127.0f, fmaxf(-127.0f, nearbyintf(xb[j] * inverse)));
        d[i] = scale;
        block_sums[i] = sum;
    }
}

static void dequantize(int type, const void *src, long count, float *dst) {
    switch (type) {
    case TK_TYPE_F32: memcpy(dst, src, (size_t)count * 4); break;
    case TK_TYPE_F16: {
        const uint16_t *h = src;
        for (long i = 0; i < count; i++) dst[i] = tk_half_to_float(half_at(h + i));
        break;
    }
    case TK_TYPE_Q4_1: {
        const tk_block_q4_1 *b = src;
        for (long i = 0; i < count / TK_BLOCK; i++, b++, dst += TK_BLOCK) {
            const float scale = tk_half_to_float(half_at(&b->d)), low = tk_half_to_float(half_at(&b->m));
            for (int j = 0; j < 16; j++) {
                dst[j] = scale * (float)(b->qs[j] & 15) + low;
                dst[j + 16] = scale * (float)(b->qs[j] >> 4) + low;
            }
        }
        break;
    }
    case TK_TYPE_Q8_0: {
        const tk_block_q8_0 *b = src;
        for (long i = 0; i < count / TK_BLOCK; i++, b++, dst += TK_BLOCK) {
            const float scale = tk_half_to_float(half_at(&b->d));
            for (int j = 0; j < TK_BLOCK; j++) dst[j] = scale * (float)b->qs[j];
        }
        break;
    }
    default: break;
    }
}

static void gemm_nt(const float *a, long lda, const float *b, long ldb, float *c, long ldc, long m, long n, long k) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float dot = 0;
            for (long l = 0; l < k; l++) dot += a[i * lda + l] * b[j * ldb + l];
            c[i * ldc + j] = dot;
        }
}

static void gemm_nt_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            float dot = 0;
            for (long l = 0; l < k; l++) dot += a[i * lda + l] * tk_half_to_float(half_at(b + j * ldb + l));
            c[i * ldc + j] = dot;
        }
}

static void gemm_nn_h(const float *a, long lda, const uint16_t *b, long ldb, float *c, long ldc, long m, long n, long k) {
    for (long i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (long j = 0; j < n; j++) row[j] = 0;
        for (long l = 0; l < k; l++) {
            const float weight = a[i * lda + l];
            const uint16_t *brow = b + l * ldb;
            for (long j = 0; j < n; j++) row[j] += weight * tk_half_to_float(half_at(brow + j));
        }
    }
}

static void to_half(const float *x, long count, uint16_t *out) {
    for (long i = 0; i < count; i++) {
        const uint16_t h = tk_float_to_half(x[i]);
        memcpy(out + i, &h, 2);
    }
}

static void rmsnorm_row(const float *x, const float *w, long cols, float eps, float *out) {
    double squares = 0;
    for (long i = 0; i < cols; i++) squares += (double)x[i] * x[i];
    const float inverse = (float)(1.0 / sqrt(squares / (double)cols + eps));
    for (long i = 0; i < cols; i++) out[i] = x[i] * inverse * w[i];
}

static void rope_row(float *x, long heads, long head_size, const float *table) {
    for (long h = 0; h < heads; h++) {
        float *v = x + h * head_size;
        for (long i = 0; i < head_size / 2; i++) {
            const float x0 = v[2 * i], x1 = v[2 * i + 1], c = table[2 * i], s = table[2 * i + 1];
            v[2 * i] = x0 * c - x1 * s;
            v[2 * i + 1] = x0 * s + x1 * c;
        }
    }
}

static void swiglu_row(float *gate, const float *up, long count) {
    for (long i = 0; i < count; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

static void add_row(float *x, const float *y, long count) {
    for (long i = 0; i < count; i++) x[i] += y[i];
}

static void softmax_row(float *x, long n, long len, float scale) {
    float top = -INFINITY;
    for (long i = 0; i < n; i++) top = fmaxf(top, x[i] * scale);
    float sum = 0;
    for (long i = 0; i < n; i++) {
        x[i] = expf(x[i] * scale - top);
        sum += x[i];
    }
    const float inverse = 1.0f / sum;
    for (long i = 0; i < n; i++) x[i] *= inverse;
    for (long i = n; i < len; i++) x[i] = 0;
}

const tk_llm_kernels tk_llm_portable_kernels = {
    .matvec_q4_1_f32 = matvec_q4_1_f32,
    .matvec_q4_1_q8 = matvec_q4_1_q8,
    .matvec_q8_0_f32 = matvec_q8_0_f32,
    .matvec_q8_0_q8 = matvec_q8_0_q8,
    .quantize_q8 = quantize_q8,
    .matvec_q4_1_q16 = matvec_q4_1_q16,
    .matvec_q8_0_q16 = matvec_q8_0_q16,
    .quantize_q16 = quantize_q16,
    .dequantize = dequantize,
    .gemm_nt = gemm_nt,
    .gemm_nt_h = gemm_nt_h,
    .gemm_nn_h = gemm_nn_h,
    .to_half = to_half,
    .rmsnorm_row = rmsnorm_row,
    .rope_row = rope_row,
    .swiglu_row = swiglu_row,
    .add_row = add_row,
    .softmax_row = softmax_row,
};
