/* Files the daemon keeps beside the index (users, sessions, catalogs,
 * deliveries, page images, timed tests): one way to write them durably.
 * A crash leaves the old content or the new, never a mix or a torn file. */
#ifndef IDX_FILE_H
#define IDX_FILE_H

#include <stddef.h>

/* Replace (or create) zPath with z[0..n): a temporary file beside it is
 * written and fsync()ed, renamed over zPath, and the folder fsync()ed.
 * mode applies to a new file.  PS_OK, or PS_IO with zErr (zPath is then
 * unchanged and no temporary file is left). */
int idx_file_replace(const char *zPath, const void *z, size_t n, int mode, char *zErr, size_t nErr);

/* Create zPath with z[0..n), durably, only if it does not exist yet:
 * PS_CONFLICT if it does (nothing written). */
int idx_file_create(const char *zPath, const void *z, size_t n, int mode, char *zErr, size_t nErr);

/* Rename zOld to zNew (in the same folder) durably: the folder is fsync()ed. */
int idx_file_rename(const char *zOld, const char *zNew, char *zErr, size_t nErr);
/* Remove zPath durably (the folder is fsync()ed).  PS_NOT_FOUND if absent. */
int idx_file_remove(const char *zPath, char *zErr, size_t nErr);

/* Read a whole file of at most nMax bytes: *pz (px_free; NUL-terminated)
 * and *pn.  PS_NOT_FOUND, PS_TOO_BIG or PS_IO (zErr). */
int idx_file_read(const char *zPath, size_t nMax, char **pz, size_t *pn, char *zErr, size_t nErr);

/* Create a folder (and the folders above it) with mode if missing. */
int idx_file_mkdirs(const char *zDir, int mode, char *zErr, size_t nErr);

/* The reason in one of this module's messages ("无法写入 <path>：<reason>"),
 * after its last colon, full-width or not, so that a message for a caller
 * leaves the server's path out.  NULL when there is none. */
const char *idx_file_reason(const char *zErr);

#endif
