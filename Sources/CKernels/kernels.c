// Portable kernels and the run-time choice between them and the AVX2+FMA ones (kernels_avx2.c).
#include "CKernels.h"
#include "kernels_internal.h"

#include <math.h>
#include <stddef.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// AVX2 and FMA in the CPU, and YMM state saved by the OS (XCR0 bits 1 and 2).
static int detect_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!(fma && osxsave && avx)) return 0;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 6) != 6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}
#else
static int detect_avx2_fma(void) { return 0; }
#endif

int tk_vector_unit(void) {
    // -1 until the first call; every thread that races here computes and stores the same value.
    static int known = -1;
    int value = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect_avx2_fma();
        __atomic_store_n(&known, value, __ATOMIC_RELAXED);
    }
    return value;
}

// MARK: Portable versions

static void bias_add_portable(float *x, const float *bias, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (long c = 0; c < cols; c++) row[c] += bias[c];
    }
}

void tk_portable_bias_gelu(float *x, const float *bias, long rows, long cols) {
    const float inv_sqrt2 = 0.70710678118654752f;
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (long c = 0; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = 0.5f * v * (1.0f + erff(v * inv_sqrt2));
        }
    }
}

void tk_portable_residual_layernorm(float *x, const float *residual, const float *scale, const float *shift,
                                        long rows, long cols, float eps) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * cols;
        if (residual) {
            const float *add = residual + r * cols;
            for (long c = 0; c < cols; c++) row[c] += add[c];
        }
        double mean = 0;
        for (long c = 0; c < cols; c++) mean += row[c];
        mean /= (double)cols;
        double variance = 0;
        for (long c = 0; c < cols; c++) {
            const double centred = row[c] - mean;
            variance += centred * centred;
        }
        const double inverse = 1.0 / sqrt(variance / (double)cols + eps);
        for (long c = 0; c < cols; c++) row[c] = (float)((row[c] - mean) * inverse) * scale[c] + shift[c];
    }
}

void tk_portable_attention(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale,
                               float *out, long out_stride, float *scratch) {
    const long width = heads * head_size;
    for (long h = 0; h < heads; h++) {
        for (long i = 0; i < n; i++) {
            const float *q = qkv + i * qkv_stride + h * head_size;
            float top = -INFINITY;
            for (long j = 0; j < n; j++) {
                const float *k = qkv + j * qkv_stride + width + h * head_size;
                float dot = 0;
                for (long e = 0; e < head_size; e++) dot += q[e] * k[e];
                scratch[j] = dot * scale;
                if (scratch[j] > top) top = scratch[j];
            }
            float sum = 0;
            for (long j = 0; j < n; j++) {
                scratch[j] = expf(scratch[j] - top);
                sum += scratch[j];
            }
            const float inverse = 1.0f / sum;
            float *o = out + i * out_stride + h * head_size;
            for (long e = 0; e < head_size; e++) o[e] = 0;
            for (long j = 0; j < n; j++) {
                const float *v = qkv + j * qkv_stride + 2 * width + h * head_size;
                const float p = scratch[j] * inverse;
                for (long e = 0; e < head_size; e++) o[e] += p * v[e];
            }
        }
    }
}

void tk_portable_dot_i8(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows,
                            long d, float *out) {
    for (long r = 0; r < rows; r++) {
        const int8_t *row = codes + r * d;
        int64_t dot = 0;
        for (long i = 0; i < d; i++) dot += (int32_t)query[i] * row[i];
        out[r] = (float)dot * (scales[r] * query_scale);
    }
}

// MARK: Dispatch

void tk_bias_add(float *x, const float *bias, long rows, long cols) {
#if defined(__x86_64__)
    if (tk_vector_unit()) return tk_bias_add_avx2(x, bias, rows, cols);
#endif
    bias_add_portable(x, bias, rows, cols);
}

void tk_bias_gelu(float *x, const float *bias, long rows, long cols) {
#if defined(__x86_64__)
    if (tk_vector_unit()) return tk_bias_gelu_avx2(x, bias, rows, cols);
#endif
    tk_portable_bias_gelu(x, bias, rows, cols);
}

void tk_residual_layernorm(float *x, const float *residual, const float *scale, const float *shift, long rows, long cols,
                           float eps) {
#if defined(__x86_64__)
    if (tk_vector_unit()) return tk_residual_layernorm_avx2(x, residual, scale, shift, rows, cols, eps);
#endif
    tk_portable_residual_layernorm(x, residual, scale, shift, rows, cols, eps);
}

void tk_attention(const float *qkv, long qkv_stride, long n, long heads, long head_size, float scale, float *out,
                  long out_stride, float *scratch) {
#if defined(__x86_64__)
    if (tk_vector_unit() && head_size % 8 == 0)
        return tk_attention_avx2(qkv, qkv_stride, n, heads, head_size, scale, out, out_stride, scratch);
#endif
    tk_portable_attention(qkv, qkv_stride, n, heads, head_size, scale, out, out_stride, scratch);
}

void tk_dot_i8(const int16_t *query, float query_scale, const int8_t *codes, const float *scales, long rows, long d,
               float *out) {
#if defined(__x86_64__)
    if (tk_vector_unit() && d % 16 == 0) return tk_dot_i8_avx2(query, query_scale, codes, scales, rows, d, out);
#endif
    tk_portable_dot_i8(query, query_scale, codes, scales, rows, d, out);
}

void tk_quantize_rows(const float *x, long rows, long d, int8_t *codes, float *scales, float *errors) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * d;
        int8_t *code = codes + r * d;
        float largest = 0;
        for (long i = 0; i < d; i++) largest = fmaxf(largest, fabsf(row[i]));
        if (!(largest > 0) || !isfinite(largest)) {
            // A zero row (or a broken one) scores 0; its error is its whole length.
            double length = 0;
            for (long i = 0; i < d; i++) {
                code[i] = 0;
                if (isfinite(row[i])) length += (double)row[i] * row[i];
            }
            scales[r] = 0;
            errors[r] = isfinite(largest) ? (float)sqrt(length) : INFINITY;
            continue;
        }
        const float scale = largest / 127.0f, inverse = 127.0f / largest;
        double error = 0;
        for (long i = 0; i < d; i++) {
            float q = nearbyintf(row[i] * inverse);
            q = fminf(127.0f, fmaxf(-127.0f, q));
            code[i] = (int8_t)q;
            const double residual = (double)row[i] - (double)scale * q;
            error += residual * residual;
        }
        scales[r] = scale;
        errors[r] = (float)sqrt(error);
    }
}
