/* Allocation wrapper with a fault-injection counter for tests. */
#include "proto_alloc.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long nFailAfter;   /* 0: no injection */
static atomic_long nFailed;

static int should_fail(void)
{
    long n = atomic_load(&nFailAfter);
    if (n == 0) return 0;
    if (n == 1) {
        atomic_fetch_add(&nFailed, 1);
        return 1;
    }
    atomic_fetch_sub(&nFailAfter, 1);
    return 0;
}

void *px_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *px_calloc(size_t nmemb, size_t size)
{
    return should_fail() ? NULL : calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *px_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *px_strndup(const char *z, size_t n)
{
    char *p = px_malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, z, n);
    p[n] = 0;
    return p;
}

char *px_strdup(const char *z) { return px_strndup(z, strlen(z)); }

void px_free(void *p) { free(p); }

void px_fail_after(long n)
{
    atomic_store(&nFailed, 0);
    atomic_store(&nFailAfter, n);
}

void px_fail_reset(void) { atomic_store(&nFailAfter, 0); }

long px_failed_count(void) { return atomic_load(&nFailed); }

void px_install_json_allocator(void) { json_set_alloc_funcs(px_malloc, px_free); }
