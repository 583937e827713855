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
 * spreadsheet furniture, skipped and counted ("furniture_rows").
 *
 * The reader's own findings, listed with the others: a quoted field never
 * closed (it runs into a line that reads as a row of its own, or to the end
 * of the file) is read with its quote as a plain character
 * ("unclosed_quote"); a row with more fields than the header is read by the
 * header's columns, the fields beyond listed as written ("extra_fields");
 * a cell that is not in the file's encoding (a line proto_to_utf8_lenient
 * kept as written) is read as GB18030, or as UTF-8 in a GB18030 file
 * ("encoding", a warning), or keeps its item with each unreadable byte
 * replaced by U+FFFD ("encoding", an error).  A NUL or another control
 * character in a cell is removed ("control").  A row the same, once
 * normalised, as an earlier row of the file is one record and one warning
 * citing that row's line: it is not written again and its findings are not
 * listed again.  A later row with the same 档号 that differs is a conflict
 * (or replaces the record, with IDX_CSV_REPLACE).
 *
 * A row is rejected, with the line it starts on, when its 档号 cannot be
 * read, the writer's guard refuses it (pGuard, may be NULL: the 密级 rules
 * of idx_access, checked with the write under the index's lock; the row is
 * then neither written nor counted as replaced), or the index refuses it
 * (a term over its limit); the other rows are written.
 *
 * A file that can't be read at all (no 档号 column; mostly not text: more
 * than half of its lines neither UTF-8 nor GB18030) is an error with zErr
 * set and *pLine the line at fault (0 if none).  So is an error of the
 * index as a whole or running out of memory: the import stops at that row,
 * *pLine is its line, and zErr says how many rows were written before it
 * (they stay written and are committed). */
enum { IDX_CSV_LIST = 1, IDX_CSV_REPLACE = 2 };
int idx_csv_import(idx_index *p, const char *z, size_t n, int flags, const idx_guard *pGuard, json_t **ppResult,
                   long *pLine, char *zErr, size_t nErr);

/* Scan mode, for the catalog audit: every data row as written (its fields
 * set from the columns, trimmed, nothing else checked, completed or
 * stored; furniture skipped and counted as in an import) goes to xRow with
 * the line it starts on, as r with nFields the number of fields of a row
 * with fewer than the header (0 otherwise; -1 for a row whose quote was
 * never closed, read again with the quote as a plain character).  Cells
 * not in the file's encoding are read as an import reads them.  r is NULL
 * for a row with more fields than the header: nFields is its number of
 * fields (the result's "rejected" says so).  xRow returns non-zero when
 * out of memory.  *ppResult as for an import (rejected: only the rows
 * handed on without a record; warnings: the header's). */
typedef int (*idx_csv_row_fn)(void *ctx, long line, const proto_record *r, int nFields);
int idx_csv_scan(const char *z, size_t n, idx_csv_row_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                 char *zErr, size_t nErr);

/* The same, every row with a record, as an import reads it, and the
 * reader's findings on it (aF, nF; valid during the call): "encoding" for
 * each cell read in another encoding or with bytes replaced, and
 * "extra_fields" for a row with more fields than the header (r holds the
 * header's columns, nFields is 0; nothing goes to "rejected").  A row whose
 * quote was never closed comes with nFields -1, as above, and no finding
 * of its own. */
typedef int (*idx_csv_row_ex_fn)(void *ctx, long line, const proto_record *r, int nFields, const proto_finding *aF,
                                 int nF);
int idx_csv_scan_ex(const char *z, size_t n, idx_csv_row_ex_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                    char *zErr, size_t nErr);

#endif
