/* Monotonic milliseconds, for timings and delays. */
#ifndef IDX_TIME_H
#define IDX_TIME_H

#include <time.h>

static inline double idx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
