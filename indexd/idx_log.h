/* One logging macro: the level is checked before the arguments are
 * evaluated; errno travels separately (0 for none).  Logs go to stderr and
 * never carry personal data: no query text, no record content. */
#ifndef IDX_LOG_H
#define IDX_LOG_H

#include <pthread.h>

enum { IDX_LOG_ERROR, IDX_LOG_WARN, IDX_LOG_INFO, IDX_LOG_DEBUG };

extern int idx_log_level;

#define IDX_LOG(level, err, ...) \
    do { if ((level) <= idx_log_level) idx_log_write((level), (err), __VA_ARGS__); } while (0)

void idx_log_write(int level, int err, const char *zFmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A bound on lines of one kind that a client can cause (failed logins,
 * libmicrohttpd's complaints): at most perSec a second.  Declare one per
 * kind with IDX_LOG_RATE_INIT; idx_log_allow() says whether this line may
 * be written, and logs how many the last second held back. */
typedef struct {
    pthread_mutex_t mu;
    long tWindow;
    unsigned nInWindow, nDropped;
} idx_log_rate;
#define IDX_LOG_RATE_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}
int idx_log_allow(idx_log_rate *p, unsigned perSec, const char *zKind);

#endif
