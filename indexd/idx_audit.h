/* The catalog audit (evaluation item 9): the file-level catalog as it was
 * imported, checked row by row.
 *
 * Every catalog imported is kept as it came (<data_dir>/catalogs/, in
 * import order; importing the same file again moves it last).  A row is
 * current unless a later catalog holds its 档号 (a corrected catalog
 * replaces the rows of the one before, as the import replaces records).
 * Rules: each of proto_record_audit's; "shape" (a row with more or fewer
 * fields than the header, or one that cannot be read as written: an
 * unterminated quote, a control character in a cell); "duplicate" (a 档号
 * again in the same file);
 * "pages_scanned" (页数 differs from the pages scanned for the record);
 * "item_gap" (a warning: 件号 missing within 全宗-门类-年度-保管期限-机构).
 * entry_rate = rows with every mandatory field / rows; score = 5 x
 * entry_rate - 0.2 per error, not below 0. */
#ifndef IDX_AUDIT_H
#define IDX_AUDIT_H

#include "idx_index.h"
#include "idx_report.h"

#include <jansson.h>
#include <stddef.h>

/* Keep a catalog as imported.  PS_OK or PS_IO (zErr). */
int idx_catalog_store(const char *zDataDir, const char *z, size_t n, char *zErr, size_t nErr);

/* {"scope":…,"catalogs":[{"file","rows"}],"rows":N,"complete":C,"entry_rate":R,
 *  "errors":E,"warnings":W,"score":S,"irregular_total":T,
 *  "irregular":[{"file","line","code","rule","field","key","reason","severity"}],
 *  "offset","limit"}; the list sorted by file and line. */
int idx_report_catalog(idx_index *p, const char *zDataDir, const idx_report_opts *o, json_t **ppOut,
                       char *zErr, size_t nErr);

#endif
