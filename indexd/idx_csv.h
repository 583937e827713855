/* Catalog import: a CSV file as vendors export it (Chinese headers of
 * DA/T 22, or the English keys), in UTF-8 with or without BOM, GB18030 or
 * UTF-16 with or without BOM, told apart automatically.  Every row is
 * checked; a bad row is reported with its line, field and reason, every good
 * row is written.  The first 256 columns are read; a wider header is
 * warned about and the columns after the 256th are ignored. */
#ifndef IDX_CSV_H
#define IDX_CSV_H

#include "idx_index.h"

#include <jansson.h>
#include <stddef.h>

#define IDX_CSV_REPORT_MAX 10000 /* rejected rows and warnings listed in full */

/* Import a catalog into the index and commit.  *ppResult: {"imported":N,
 * "replaced":M,"encoding":"…","rejected":[…],"warnings":[…],"findings":
 * […],"findings_count","furniture_rows","conflicts":[{"line","code",
 * "fields":[{"field","key","kept","offered"}],"reason"}],"conflicts_count"}
 * (yours).  Flags: IDX_CSV_LIST, "records":[{"code","pages","line"}] lists
 * the rows written (pages absent when the row has no 页数); IDX_CSV_REPLACE,
 * a row that differs from the record already kept replaces it (its old
 * values go into the record's history); without it the archive's row is
 * kept and the row is a conflict.
 *
 * Every row that names an item is read leniently (proto_record_normalise)
 * and written with its findings listed; only a row whose 档号 cannot be
 * read even so is rejected.  Repeated header rows and 合计/总计/小计 rows are
 * spreadsheet furniture, skipped and counted.
 *
 * A row is rejected, with the line it starts on, when it has more fields
 * than the header, a cell of a catalog column holds a NUL or another
 * control character than TAB/LF/CR (the column and the byte offset are
 * named), a quoted field is never closed (it runs into a line that reads as
 * a row of its own, or to the end of the file: parsing resumes at that
 * line), proto_record_check() fails, the writer's guard refuses it (pGuard,
 * may be NULL: the 密级 rules of idx_access, checked with the write under
 * the index's lock; the row is then neither written nor counted as
 * replaced), or the index refuses it (a term over its limit); the other
 * rows are written.
 *
 * A file that can't be read at all (no 档号 column, bad encoding) is an
 * error with zErr set and *pLine the line at fault (0 if none).  So is an
 * error of the index as a whole or running out of memory: the import stops
 * at that row, *pLine is its line, and zErr says how many rows were written
 * before it (they stay written and are committed). */
enum { IDX_CSV_LIST = 1, IDX_CSV_REPLACE = 2 };
int idx_csv_import(idx_index *p, const char *z, size_t n, int flags, const idx_guard *pGuard, json_t **ppResult,
                   long *pLine, char *zErr, size_t nErr);

/* Scan mode, for the catalog audit: every data row as written (its fields
 * set from the columns, nothing checked, completed or stored) goes to xRow
 * with the line it starts on, as r with nFields the number of fields of a
 * row with fewer than the header (0 otherwise; -1 for a row whose quote was
 * never closed, read again with the quote as a plain character).  r is NULL for a row that
 * cannot be read as written: nFields is its number of fields when it has
 * more than the header, 0 for an unterminated quote or a control character
 * in a cell (the result's "rejected" says which).
 * xRow returns non-zero when out of memory.  *ppResult as for an import
 * (rejected: only the rows that cannot be read; warnings: the header's). */
typedef int (*idx_csv_row_fn)(void *ctx, long line, const proto_record *r, int nFields);
int idx_csv_scan(const char *z, size_t n, idx_csv_row_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                 char *zErr, size_t nErr);

#endif
