/* What every harness shares: an invariant that does not hold is a crash
 * with the reason, so libFuzzer keeps the input that broke it. */
#ifndef FZ_CHECK_H
#define FZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FZ_CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
        abort(); \
    } \
} while (0)

#endif
