// The LLM kernels' drivers: they cut each product and each attention into work items for the
// pool and run the kernel table of the pool's vector unit on them.
#include "llm_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>

/// AVX2, FMA and F16C in the CPU, and YMM state saved by the OS (XCR0 bits 1 and 2).
static int detect_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return TK_LEVEL_PORTABLE;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return TK_LEVEL_PORTABLE;
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 6) != 6) return TK_LEVEL_PORTABLE;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return TK_LEVEL_PORTABLE;
    return ((b >> 5) & 1) ? TK_LEVEL_AVX2 : TK_LEVEL_PORTABLE;
}
#else
static int detect_level(void) { return TK_LEVEL_PORTABLE; }
#endif

int tk_llm_best_level(void) {
    // -1 until the first call; racing threads compute and store the same value.
    static int known = -1;
    int value = __atomic_load_n(&known, __ATOMIC_RELAXED);
    if (value < 0) {
        value = detect_level();
        __atomic_store_n(&known, value, __ATOMIC_RELAXED);
    }
    return value;
}

size_t tk_llm_row_bytes(int type, long cols) {
    switch (type) {
    case TK_TYPE_F32: return (size_t)cols * 4;
    case TK_TYPE_F16: return (size_t)cols * 2;
    case TK_TYPE_Q4_1: return (size_t)(cols / TK_BLOCK) * sizeof(tk_block_q4_1);
    case TK_TYPE_Q8_0: return (size_t)(cols / TK_BLOCK) * sizeof(tk_block_q8_0);
    default: return 0;
    }
}

void tk_llm_dequantize(int type, const void *src, long count, float *dst) {
    tk_llm_portable_kernels.dequantize(type, src, count, dst);
}

// MARK: Products

#define MAX_PROJECTIONS 8
#define PANEL_ROWS 16
#define MATVEC_ROWS 32

typedef struct {
    tk_pool *pool;
    const tk_llm_kernels *k;
    const tk_projection *projections;
    int count;
    long cols, blocks;
    const float *x;
    long x_stride, tokens;
    // The single-token path: Float32 x with its block sums, or x quantised to int8 or int16.
    int mode;
    const int8_t *q;
    const int16_t *q16;
    const float *d, *block_sums;
    // The item where each projection's items begin (one more entry: the total).
    long first_item[MAX_PROJECTIONS + 1];
    long chunk_tokens, chunks;
    // Which panel each thread holds dequantised (projection · 2^32 + panel, or −1).
    long held[64];
} product;

static int projection_of(const product *p, long item) {
    int j = 0;
    while (item >= p->first_item[j + 1]) j++;
    return j;
}

static void matvec_item(void *context, long item, int thread) {
    (void)thread;
    const product *p = context;
    const int j = projection_of(p, item);
    const tk_projection *proj = &p->projections[j];
    const long r0 = (item - p->first_item[j]) * MATVEC_ROWS;
    const long rows = proj->rows - r0 < MATVEC_ROWS ? proj->rows - r0 : MATVEC_ROWS;
    const char *w = (const char *)proj->weights + (size_t)r0 * tk_llm_row_bytes(proj->type, p->cols);
    float *out = proj->out + r0;
    const int q4_1 = proj->type == TK_TYPE_Q4_1;
    switch (p->mode) {
    case TK_MATMUL_VECTOR_INT8:
        if (q4_1) p->k->matvec_q4_1_q8(w, rows, p->blocks, p->q, p->d, p->block_sums, out);
        else p->k->matvec_q8_0_q8(w, rows, p->blocks, p->q, p->d, out);
        break;
    case TK_MATMUL_VECTOR_INT16:
        if (q4_1) p->k->matvec_q4_1_q16(w, rows, p->blocks, p->q16, p->d, p->block_sums, out);
        else p->k->matvec_q8_0_q16(w, rows, p->blocks, p->q16, p->d, out);
        break;
    default:
        if (q4_1) p->k->matvec_q4_1_f32(w, rows, p->blocks, p->x, p->block_sums, out);
        else p->k->matvec_q8_0_f32(w, rows, p->blocks, p->x, out);
        break;
    }
}

static void gemm_item(void *context, long item, int thread) {
    product *p = context;
    const int j = projection_of(p, item);
    const tk_projection *proj = &p->projections[j];
    const long local = item - p->first_item[j], panel = local / p->chunks, chunk = local % p->chunks;
    const long r0 = panel * PANEL_ROWS, t0 = chunk * p->chunk_tokens;
    const long tokens = p->tokens - t0 < p->chunk_tokens ? p->tokens - t0 : p->chunk_tokens;
    // Reserved by the caller before the job: PANEL_ROWS · cols floats per thread.
    float *dequantized = tk_pool_scratch(p->pool, thread, 0);
    const long tag = (long)j << 32 | panel;
    if (p->held[thread] != tag) {
        const char *w = (const char *)proj->weights + (size_t)r0 * tk_llm_row_bytes(proj->type, p->cols);
        p->k->dequantize(proj->type, w, PANEL_ROWS * p->cols, dequantized);
        p->held[thread] = tag;
    }
    p->k->gemm_nt(p->x + t0 * p->x_stride, p->x_stride, dequantized, p->cols, proj->out + t0 * proj->out_stride + r0,
                  proj->out_stride, tokens, PANEL_ROWS, p->cols);
}

int tk_llm_matmul(tk_pool *pool, const tk_projection *projections, int count, long cols, const float *x, long x_stride,
                  long tokens, int mode) {
    if (count < 1 || count > MAX_PROJECTIONS || cols % TK_BLOCK || tokens < 1) return -1;
    product p = {.pool = pool, .k = tk_pool_kernels(pool), .projections = projections, .count = count, .cols = cols,
                 .blocks = cols / TK_BLOCK, .x = x, .x_stride = x_stride, .tokens = tokens, .mode = mode};
    int quantised = 1;
    for (int j = 0; j < count; j++) {
        if (projections[j].rows % PANEL_ROWS) return -1;
        quantised &= projections[j].type == TK_TYPE_Q4_1 || projections[j].type == TK_TYPE_Q8_0;
    }
    if (tokens == 1 && quantised && mode != TK_MATMUL_BATCH) {
        // One token: a matrix-vector product per projection, which reads each weight once.
        float *scratch = tk_pool_shared(pool, (size_t)cols * 2 + (size_t)p.blocks * 8);
        if (!scratch) return -1;
        float *sums = scratch, *d = scratch + p.blocks;
        if (mode == TK_MATMUL_VECTOR_INT8) {
            int8_t *q = (int8_t *)(scratch + 2 * p.blocks);
            p.k->quantize_q8(x, cols, q, d, sums);
            p.q = q;
            p.d = d;
        } else if (mode == TK_MATMUL_VECTOR_INT16) {
            int16_t *q = (int16_t *)(scratch + 2 * p.blocks);
            p.k->quantize_q16(x, cols, q, d, sums);
            p.q16 = q;
            p.d = d;
        } else {
            for (long i = 0; i < p.blocks; i++) {
                float sum = 0;
                for (int l = 0; l < TK_BLOCK; l++) sum += x[i * TK_BLOCK + l];
                sums[i] = sum;
            }
        }
        p.block_sums = sums;
        p.first_item[0] = 0;
        for (int j = 0; j < count; j++) p.first_item[j + 1] = p.first_item[j] + (projections[j].rows + MATVEC_ROWS - 1) / MATVEC_ROWS;
        tk_pool_run(pool, matvec_item, &p, p.first_item[count]);
        return 0;
    }
    // Several tokens: each item dequantises a panel of 16 weight rows to Float32 (once per
    // thread, kept while that thread's next item is the same panel) and multiplies a chunk of
    // tokens by it. A chunk's activations stay within about 192 KB, so they stay in L2.
    long chunk = (192 * 1024) / (cols * 4);
    chunk = chunk < 6 ? 6 : chunk - chunk % 3;
    p.chunk_tokens = tokens < chunk ? tokens : chunk;
    p.chunks = (tokens + p.chunk_tokens - 1) / p.chunk_tokens;
    for (int t = 0; t < tk_pool_threads(pool); t++) {
        if (!tk_pool_scratch(pool, t, (size_t)PANEL_ROWS * cols * 4)) return -1;
        p.held[t] = -1;
    }
    p.first_item[0] = 0;
    for (int j = 0; j < count; j++) p.first_item[j + 1] = p.first_item[j] + projections[j].rows / PANEL_ROWS * p.chunks;
    tk_pool_run(pool, gemm_item, &p, p.first_item[count]);
    return 0;
}

// MARK: Element-wise steps (one token: on the caller's thread; a prompt's rows: across the pool)

#define ROWS_PER_ITEM 8

typedef struct {
    const tk_llm_kernels *k;
    int kind;
    const float *x, *y;
    float *out;
    long rows, x_stride, y_stride, out_stride, cols, heads, head_size;
    float eps;
} rows_job;

enum { ROWS_RMSNORM, ROWS_ROPE, ROWS_SWIGLU, ROWS_ADD };

static void rows_item(void *context, long item, int thread) {
    (void)thread;
    const rows_job *j = context;
    for (long r = item * ROWS_PER_ITEM; r < (item + 1) * ROWS_PER_ITEM && r < j->rows; r++) {
        switch (j->kind) {
        case ROWS_RMSNORM: j->k->rmsnorm_row(j->x + r * j->x_stride, j->y, j->cols, j->eps, j->out + r * j->out_stride); break;
        case ROWS_ROPE: j->k->rope_row(j->out + r * j->out_stride, j->heads, j->head_size, j->y + r * j->head_size); break;
        case ROWS_SWIGLU: j->k->swiglu_row(j->out + r * j->out_stride, j->y + r * j->y_stride, j->cols); break;
        default: j->k->add_row(j->out + r * j->out_stride, j->y + r * j->y_stride, j->cols); break;
        }
    }
}

static void run_rows(tk_pool *pool, rows_job *job, long rows) {
    job->rows = rows;
    if (rows == 1) rows_item(job, 0, 0);
    else tk_pool_run(pool, rows_item, job, (rows + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM);
}

void tk_llm_rmsnorm(tk_pool *pool, const float *x, const float *weight, long rows, long cols, float eps, float *out) {
    rows_job j = {.k = tk_pool_kernels(pool), .kind = ROWS_RMSNORM, .x = x, .y = weight, .out = out, .x_stride = cols,
                  .out_stride = cols, .cols = cols, .eps = eps};
    run_rows(pool, &j, rows);
}

void tk_llm_rope_table(long first_position, long count, long head_size, double theta, float *table) {
    for (long p = 0; p < count; p++) {
        const double position = (double)(first_position + p);
        for (long i = 0; i < head_size / 2; i++) {
            const double angle = position * pow(theta, -(double)(2 * i) / (double)head_size);
            table[p * head_size + 2 * i] = (float)cos(angle);
            table[p * head_size + 2 * i + 1] = (float)sin(angle);
        }
    }
}

void tk_llm_rope(tk_pool *pool, float *x, long tokens, long stride, long heads, long head_size, const float *table) {
    rows_job j = {.k = tk_pool_kernels(pool), .kind = ROWS_ROPE, .y = table, .out = x, .out_stride = stride, .heads = heads,
                  .head_size = head_size};
    run_rows(pool, &j, tokens);
}

void tk_llm_swiglu(tk_pool *pool, float *gate, long gate_stride, const float *up, long up_stride, long rows, long count) {
    rows_job j = {.k = tk_pool_kernels(pool), .kind = ROWS_SWIGLU, .y = up, .out = gate, .y_stride = up_stride,
                  .out_stride = gate_stride, .cols = count};
    run_rows(pool, &j, rows);
}

void tk_llm_add(tk_pool *pool, float *x, long x_stride, const float *y, long y_stride, long rows, long count) {
    rows_job j = {.k = tk_pool_kernels(pool), .kind = ROWS_ADD, .y = y, .out = x, .y_stride = y_stride, .out_stride = x_stride,
                  .cols = count};
    run_rows(pool, &j, rows);
}
