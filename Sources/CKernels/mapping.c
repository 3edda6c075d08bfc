// Growing an anonymous mapping for PageBuffer (Sources/TroupeRetrieval): Swift cannot see
// mremap, which glibc declares only under _GNU_SOURCE.
#define _GNU_SOURCE
#include "CKernels.h"

#include <string.h>
#include <sys/mman.h>

void *tk_grow_mapping(void *old, size_t old_size, size_t new_size) {
#if defined(__linux__)
    void *moved = mremap(old, old_size, new_size, MREMAP_MAYMOVE);
    return moved == MAP_FAILED ? NULL : moved;
#else
    void *fresh = mmap(NULL, new_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0);
    if (fresh == MAP_FAILED) return NULL;
    memcpy(fresh, old, old_size < new_size ? old_size : new_size);
    munmap(old, old_size);
    return fresh;
#endif
}
