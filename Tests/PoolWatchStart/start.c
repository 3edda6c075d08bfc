#include "PoolWatchStart.h"
#include <pthread.h>
#include <stdlib.h>

// Defined in Swift (PoolWatch.swift, `@_cdecl`): watches Swift's cooperative pool until the
// process ends, on the thread that calls it.
extern void troupe_pool_watch_run(const char *report);

static void *watch(void *report) {
    troupe_pool_watch_run((const char *)report);
    return NULL;
}

// Test bundles have no hook that runs before every suite, so the watch starts with the process:
// on a thread of its own, only when asked for (Scripts/test's one-thread pass sets the variable).
__attribute__((constructor)) static void troupe_pool_watch_start(void) {
    const char *report = getenv("TROUPE_POOL_WATCH");
    if (report == NULL || report[0] == '\0') return;
    pthread_t thread;
    if (pthread_create(&thread, NULL, watch, (void *)report) == 0) pthread_detach(thread);
}
