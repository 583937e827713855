/* One logging macro: the level is checked before the arguments are
 * evaluated; errno travels separately (0 for none).  Logs go to stderr and
 * never carry personal data: no query text, no record content. */
#ifndef IDX_LOG_H
#define IDX_LOG_H

enum { IDX_LOG_ERROR, IDX_LOG_WARN, IDX_LOG_INFO, IDX_LOG_DEBUG };

extern int idx_log_level;

#define IDX_LOG(level, err, ...) \
    do { if ((level) <= idx_log_level) idx_log_write((level), (err), __VA_ARGS__); } while (0)

void idx_log_write(int level, int err, const char *zFmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
