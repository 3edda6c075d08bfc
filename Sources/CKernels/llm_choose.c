// Choosing tokens from logits: the argmax for greedy decoding, the k best for sampling.
#include "llm_internal.h"

#include <math.h>

long tk_llm_argmax(const float *x, long n) {
    long best = 0;
    float top = -INFINITY;
    for (long i = 0; i < n; i++)
        if (x[i] > top) {
            top = x[i];
            best = i;
        }
    return best;
}

/// Heap order: the root is the worst kept candidate (smallest value; among equals, highest id).
static int worse(float va, int32_t ia, float vb, int32_t ib) { return va < vb || (va == vb && ia > ib); }

static void sift_down(int32_t *ids, float *values, long size, long i) {
    for (;;) {
        long child = 2 * i + 1, smallest = i;
        if (child < size && worse(values[child], ids[child], values[smallest], ids[smallest])) smallest = child;
        if (child + 1 < size && worse(values[child + 1], ids[child + 1], values[smallest], ids[smallest])) smallest = child + 1;
        if (smallest == i) return;
        const int32_t id = ids[i];
        const float value = values[i];
        ids[i] = ids[smallest];
        values[i] = values[smallest];
        ids[smallest] = id;
        values[smallest] = value;
        i = smallest;
    }
}

long tk_llm_top_k(const float *x, long n, long k, int32_t *ids, float *values) {
    if (k > n) k = n;
    if (k <= 0) return 0;
    long size = 0;
    for (long i = 0; i < n; i++) {
        const float v = isnan(x[i]) ? -INFINITY : x[i];
        if (size < k) {
            ids[size] = (int32_t)i;
            values[size] = v;
            size++;
            if (size == k)
                for (long j = k / 2 - 1; j >= 0; j--) sift_down(ids, values, k, j);
        } else if (worse(values[0], ids[0], v, (int32_t)i)) {
            ids[0] = (int32_t)i;
            values[0] = v;
            sift_down(ids, values, k, 0);
        }
    }
    if (size < k)
        for (long j = size / 2 - 1; j >= 0; j--) sift_down(ids, values, size, j);
    // Pop the worst to the end, one at a time: the array ends up best first.
    for (long end = size - 1; end > 0; end--) {
        const int32_t id = ids[0];
        const float value = values[0];
        ids[0] = ids[end];
        values[0] = values[end];
        ids[end] = id;
        values[end] = value;
        sift_down(ids, values, end, 0);
    }
    return size;
}
