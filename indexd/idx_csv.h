/* Catalog import: a CSV file as vendors export it (Chinese headers of
 * DA/T 22, or the English keys), in UTF-8 with or without BOM, GB18030 or
 * UTF-16 with BOM, told apart automatically.  Every row is checked; a bad row
 * is reported with its line, field and reason, every good row is written. */
#ifndef IDX_CSV_H
#define IDX_CSV_H

#include "idx_index.h"

#include <jansson.h>
#include <stddef.h>

#define IDX_CSV_REPORT_MAX 10000 /* rejected rows and warnings listed in full */

/* Import a catalog into the index and commit.  *ppResult: {"imported":N,
 * "replaced":M,"encoding":"…","rejected":[…],"warnings":[…]} (yours).  A file
 * With listRecords, "records":[{"code","pages","line"}] lists the good
 * rows (pages absent when the row has no 页数).  A file
 * that can't be read at all (no 档号 column, bad encoding) is an error with
 * zErr set and *pLine the line at fault (0 if none). */
int idx_csv_import(idx_index *p, const char *z, size_t n, int listRecords, const idx_guard *pGuard, json_t **ppResult,
                   long *pLine, char *zErr, size_t nErr);

/* Scan mode, for the catalog audit: every data row as written (its fields
 * set from the columns, nothing checked, completed or stored) goes to xRow
 * with the line it starts on; r is NULL for a row with more fields than the
 * header, nShort the number of fields of a row with fewer (0 otherwise).
 * xRow returns non-zero when out of memory.  *ppResult as for an import
 * (rejected: only rows of the wrong shape; warnings: the header's). */
typedef int (*idx_csv_row_fn)(void *ctx, long line, const proto_record *r, int nFields);
int idx_csv_scan(const char *z, size_t n, idx_csv_row_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                 char *zErr, size_t nErr);

#endif
