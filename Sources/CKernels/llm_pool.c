// The LLM kernels' thread pool: persistent workers that spin briefly between jobs (a decode step
// hands over a job every ~50 µs), then spin yielding the core, and sleep on a condition variable
// after 300 µs without work.
//
// A job is a count of items that threads claim one at a time with a compare-and-swap on one word
// holding (job generation << 32 | next item). A worker that wakes late sees a newer generation
// and cannot claim an item of a job it did not read (each job first closes the one before under a
// generation of its own, see tk_pool_run), and the caller never waits for a worker that has not
// started: it runs every item nobody else has claimed, then waits only for the items in progress
// elsewhere.
#include "llm_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPIN_NANOSECONDS 300000L
#define MAX_THREADS 64

typedef struct {
    void *memory;
    size_t size;
} scratch;

typedef struct {
    struct tk_pool *pool;
    int index;
} worker_arg;

struct tk_pool {
    int threads, level;
    const tk_llm_kernels *kernels;
    pthread_t workers[MAX_THREADS];
    worker_arg args[MAX_THREADS];
    int started;
    // The current job; written by the caller before it publishes a new generation in `claim`.
    tk_task task;
    void *context;
    long items;
    uint64_t claim;
    long done;
    uint32_t generation;  // the caller's own copy
    int stop, sleepers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    scratch per_thread[MAX_THREADS];
    scratch shared;
};

static inline void cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

static long nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

/// Claims and runs items until none is left. A claim takes a share of what remains (guided
/// scheduling: half of it split between the threads, at least one item), so a job costs a few
/// claims, not one per item: each claim moves the claim word's cache line between cores.
///
/// The job's task, context and count are read after the claim word and before a fence: if they
/// are already the next job's (the caller closed this generation and wrote them while this thread
/// was descheduled), the fence makes the closing visible to the compare-and-swap below, which then
/// fails; so an item is only ever run with its own job's task, context and count.
static void run_items(tk_pool *pool, uint32_t generation, int thread) {
    uint64_t word = __atomic_load_n(&pool->claim, __ATOMIC_SEQ_CST);
    tk_task task = __atomic_load_n(&pool->task, __ATOMIC_RELAXED);
    void *context = __atomic_load_n(&pool->context, __ATOMIC_RELAXED);
    long items = __atomic_load_n(&pool->items, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (;;) {
        if ((uint32_t)(word >> 32) != generation) return;
        long next = (long)(uint32_t)word;
        if (next >= items) return;
        long chunk = (items - next) / (2 * pool->threads);
        if (chunk < 1) chunk = 1;
        // Success means items from `next` of this generation were unclaimed, so the job is not
        // over and the task, context and count read above are this job's.
        if (__atomic_compare_exchange_n(&pool->claim, &word, word + (uint64_t)chunk, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            for (long i = next; i < next + chunk; i++) task(context, i, thread);
            __atomic_fetch_add(&pool->done, chunk, __ATOMIC_RELEASE);
            word = __atomic_load_n(&pool->claim, __ATOMIC_ACQUIRE);
        }
    }
}

static void *worker_main(void *raw) {
    worker_arg *arg = raw;
    tk_pool *pool = arg->pool;
    uint32_t seen = 0;
    for (;;) {
        uint64_t word;
        long spin_start = nanoseconds();
        int spins = 0;
        for (;;) {
            word = __atomic_load_n(&pool->claim, __ATOMIC_SEQ_CST);
            if ((uint32_t)(word >> 32) != seen || __atomic_load_n(&pool->stop, __ATOMIC_SEQ_CST)) break;
            cpu_relax();
            if (++spins % 256) continue;
            if (nanoseconds() - spin_start < SPIN_NANOSECONDS) {
                // Past a short spin, offer the core to whoever waits for it (on a busy machine:
                // our own caller, often): spinning against it made two threads slower than one.
                if (spins > 4096) sched_yield();
                continue;
            }
            pthread_mutex_lock(&pool->lock);
            __atomic_fetch_add(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
            while ((uint32_t)(__atomic_load_n(&pool->claim, __ATOMIC_SEQ_CST) >> 32) == seen &&
                   !__atomic_load_n(&pool->stop, __ATOMIC_SEQ_CST))
                pthread_cond_wait(&pool->wake, &pool->lock);
            __atomic_fetch_sub(&pool->sleepers, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&pool->lock);
            spin_start = nanoseconds();
        }
        if (__atomic_load_n(&pool->stop, __ATOMIC_SEQ_CST)) return NULL;
        seen = (uint32_t)(word >> 32);
        run_items(pool, seen, arg->index);
    }
}

tk_pool *tk_pool_create(int threads, int level) {
    if (threads < 1) threads = 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    tk_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    const int best = tk_llm_best_level();
    pool->level = (level < 0 || level > best) ? best : level;
#if defined(__x86_64__)
    pool->kernels = pool->level >= TK_LEVEL_AVX2 ? &tk_llm_avx2_kernels : &tk_llm_portable_kernels;
#else
    pool->kernels = &tk_llm_portable_kernels;
#endif
    pool->threads = threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    for (int i = 1; i < threads; i++) {
        pool->args[i] = (worker_arg){pool, i};
        if (pthread_create(&pool->workers[i], NULL, worker_main, &pool->args[i]) != 0) {
            tk_pool_destroy(pool);
            return NULL;
        }
        pool->started = i;
    }
    return pool;
}

void tk_pool_destroy(tk_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    __atomic_store_n(&pool->stop, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i <= pool->started; i++) pthread_join(pool->workers[i], NULL);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    for (int i = 0; i < MAX_THREADS; i++) free(pool->per_thread[i].memory);
    free(pool->shared.memory);
    free(pool);
}

int tk_pool_threads(const tk_pool *pool) { return pool->threads; }
int tk_pool_level(const tk_pool *pool) { return pool->level; }
const tk_llm_kernels *tk_pool_kernels(const tk_pool *pool) { return pool->kernels; }

void tk_pool_run(tk_pool *pool, tk_task task, void *context, long items) {
    if (items <= 0) return;
    if (pool->threads == 1 || items == 1) {
        for (long i = 0; i < items; i++) task(context, i, 0);
        return;
    }
    // Close the last job first: a generation of its own with no item left to claim. A worker
    // that read the last job's generation and was descheduled before claiming could otherwise
    // claim "items left" of it against this job's count, with this job's task or context, and
    // add to this job's `done` (a crash in the suite on a busy machine: a call through a torn
    // task pointer).
    __atomic_store_n(&pool->claim, ((uint64_t)++pool->generation << 32) | UINT32_MAX, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    __atomic_store_n(&pool->task, task, __ATOMIC_RELAXED);
    __atomic_store_n(&pool->context, context, __ATOMIC_RELAXED);
    __atomic_store_n(&pool->items, items, __ATOMIC_RELAXED);
    __atomic_store_n(&pool->done, 0, __ATOMIC_RELAXED);
    const uint32_t generation = ++pool->generation;
    __atomic_store_n(&pool->claim, (uint64_t)generation << 32, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool->sleepers, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    run_items(pool, generation, 0);
    // Items others claimed are in progress; when one is slow (its thread descheduled), yield the
    // core rather than spin against it.
    long spins = 0;
    while (__atomic_load_n(&pool->done, __ATOMIC_ACQUIRE) < items) {
        cpu_relax();
        if (++spins > 20000) sched_yield();
    }
}

static void *grow(scratch *s, size_t bytes) {
    if (s->size >= bytes) return s->memory;
    size_t size = bytes + bytes / 4 + 4096;
    void *memory = NULL;
    if (posix_memalign(&memory, 64, size) != 0) return NULL;
    free(s->memory);
    s->memory = memory;
    s->size = size;
    return memory;
}

void *tk_pool_scratch(tk_pool *pool, int thread, size_t bytes) { return grow(&pool->per_thread[thread], bytes); }
void *tk_pool_shared(tk_pool *pool, size_t bytes) { return grow(&pool->shared, bytes); }
