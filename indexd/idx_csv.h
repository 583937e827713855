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
int idx_csv_import(idx_index *p, const char *z, size_t n, int listRecords, json_t **ppResult, long *pLine,
                   char *zErr, size_t nErr);

#endif
