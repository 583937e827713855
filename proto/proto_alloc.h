/* The one allocation wrapper.  Every allocation of the project goes through
 * it so that a test can make the Nth allocation fail (as curl's torture mode
 * does) and check that the failure is reported, not crashed on. */
#ifndef PROTO_ALLOC_H
#define PROTO_ALLOC_H

#include <stddef.h>

/* Return NULL on failure, like their libc namesakes. */
void *px_malloc(size_t n);
void *px_calloc(size_t nmemb, size_t size);
void *px_realloc(void *p, size_t n);
char *px_strdup(const char *z);
char *px_strndup(const char *z, size_t n);
void px_free(void *p);

/* Fault injection for tests: the nth allocation from now on (1 = the next
 * one) and every later one fail until px_fail_reset().  0 disables. */
void px_fail_after(long n);
void px_fail_reset(void);
/* Number of allocations that were made to fail since the last reset. */
long px_failed_count(void);

/* Route jansson's allocations through the wrapper.  Call once at start-up. */
void px_install_json_allocator(void);

#endif
