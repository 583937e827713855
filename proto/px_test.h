/* A minimal test harness: CHECK records a failure with file and line and
 * goes on; px_test_done() prints "N passed, M failed" and gives the exit
 * status, so meson and CI both read the outcome. */
#ifndef PX_TEST_H
#define PX_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int px_nPass, px_nFail;

#define CHECK(cond) do { \
    if (cond) px_nPass++; \
    else { px_nFail++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(a, b) do { \
    const char *px_a = (a), *px_b = (b); \
    if (px_a && px_b && strcmp(px_a, px_b) == 0) px_nPass++; \
    else { px_nFail++; fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
                               px_a ? px_a : "(null)", px_b ? px_b : "(null)"); } \
} while (0)

#define CHECK_INT(a, b) do { \
    long long px_a = (long long)(a), px_b = (long long)(b); \
    if (px_a == px_b) px_nPass++; \
    else { px_nFail++; fprintf(stderr, "%s:%d: %s is %lld, want %lld\n", __FILE__, __LINE__, #a, px_a, px_b); } \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
    const char *px_h = (hay), *px_n = (needle); \
    if (px_h && px_n && strstr(px_h, px_n)) px_nPass++; \
    else { px_nFail++; fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__, \
                               px_h ? px_h : "(null)", px_n ? px_n : "(null)"); } \
} while (0)

/* Remove a test's temporary directory (made with mkdtemp). */
static inline void px_test_rmdir(const char *zDir)
{
    char zCmd[512];
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", zDir);
    CHECK(system(zCmd) == 0);
}

static inline int px_test_done(void)
{
    printf("%d passed, %d failed\n", px_nPass, px_nFail);
    return px_nFail ? 1 : 0;
}

#endif
