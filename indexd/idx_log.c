/* Log lines: time, level, message, and the errno text when there is one. */
#include "idx_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int idx_log_level = IDX_LOG_INFO;

void idx_log_write(int level, int err, const char *zFmt, ...)
{
    static const char *const azLevel[] = {"error", "warn", "info", "debug"};
    char zMsg[1024], zTime[32];
    struct tm tm;
    time_t now = time(NULL);
    va_list ap;
    va_start(ap, zFmt);
    vsnprintf(zMsg, sizeof zMsg, zFmt, ap);
    va_end(ap);
    gmtime_r(&now, &tm);
    strftime(zTime, sizeof zTime, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (err)
        fprintf(stderr, "%s indexd %s: %s: %s\n", zTime, azLevel[level & 3], zMsg, strerror(err));
    else
        fprintf(stderr, "%s indexd %s: %s\n", zTime, azLevel[level & 3], zMsg);
}

int idx_log_allow(idx_log_rate *p, unsigned perSec, const char *zKind)
{
    long now = (long)time(NULL);
    unsigned nWasDropped = 0;
    pthread_mutex_lock(&p->mu);
    if (now != p->tWindow) {
        nWasDropped = p->nDropped;
        p->tWindow = now;
        p->nInWindow = p->nDropped = 0;
    }
    int keep = ++p->nInWindow <= perSec;
    if (!keep) p->nDropped++;
    pthread_mutex_unlock(&p->mu);
    if (nWasDropped) IDX_LOG(IDX_LOG_WARN, 0, "%s: %u more such lines in the last second were not logged", zKind, nWasDropped);
    return keep;
}
