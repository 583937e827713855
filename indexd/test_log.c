/* Unit tests of the log's bound on lines a client can cause: at most
 * perSec in one second, counted lines held back, a new second starts over. */
#include "idx_log.h"
#include "px_test.h"

#include <time.h>
#include <unistd.h>

/* Wait for the start of a new second, so that a burst stays within one. */
static void next_second(void)
{
    time_t t = time(NULL);
    while (time(NULL) == t) usleep(1000);
}

int main(void)
{
    static idx_log_rate rate = IDX_LOG_RATE_INIT, other = IDX_LOG_RATE_INIT;
    next_second();
    int nKept = 0;
    for (int i = 0; i < 50; i++) nKept += idx_log_allow(&rate, 5, "test");
    CHECK_INT(nKept, 5);
    CHECK_INT(rate.nDropped, 45);
    /* another kind has its own bound */
    CHECK(idx_log_allow(&other, 1, "other"));
    CHECK(!idx_log_allow(&other, 1, "other"));
    /* the next second starts over (and logs that 45 were held back) */
    next_second();
    CHECK(idx_log_allow(&rate, 5, "test"));
    CHECK_INT(rate.nDropped, 0);
    CHECK_INT(rate.nInWindow, 1);
    return px_test_done();
}
