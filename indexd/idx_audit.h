/* The catalog audit (evaluation item 9): the file-level catalog as it was
 * imported, checked row by row.
 *
 * A catalog is kept as it came (<data_dir>/catalogs/, in import order;
 * importing the same file again moves it last) when its import wrote at
 * least one record: a file of which nothing was imported says nothing about
 * the archive's catalog.  A row is current unless a later catalog holds its
 * 档号 (a corrected catalog replaces the rows of the one before, as the
 * import replaces records).
 * Rules: each of proto_record_audit's; "shape" (a row with more or fewer
 * fields than the header, or one that cannot be read as written: an
 * unterminated quote, a control character in a cell); "duplicate" (a 档号
 * again in the same file);
 * "item_gap" (a warning: 件号 missing within 全宗-门类-年度-保管期限-机构).
 * entry_rate = rows with every mandatory field / rows; score = 5 x
 * entry_rate - 0.2 per error, not below 0.  Item 9 judges the catalog
 * alone: what has been scanned (item 22, the acceptance check) never
 * counts here.
 *
 * Each kept file is parsed once: its rows stay in memory (up to
 * IDX_AUDIT_CACHE_MAX bytes in all) under its name, size and modification
 * time, shared by the HTTP worker threads; the rules across files and
 * against the index are worked out again for every report. */
#ifndef IDX_AUDIT_H
#define IDX_AUDIT_H

#include "idx_index.h"
#include "idx_report.h"

#include <jansson.h>
#include <stddef.h>

#define IDX_CATALOG_FILE_MAX (64u << 20)       /* bytes of one kept catalog */
#define IDX_CATALOG_COUNT_MAX 1000             /* catalogs kept */
#define IDX_CATALOG_TOTAL_MAX (1024ull << 20)  /* bytes of all kept catalogs */
#define IDX_AUDIT_CACHE_MAX ((size_t)256 << 20) /* bytes of parsed rows held in memory */

/* Is there room to keep the catalog z[0..n)?  Asked before an import writes
 * anything, so that a catalog the audit could not keep is refused whole.
 * PS_OK; PS_TOO_BIG over IDX_CATALOG_FILE_MAX; PS_CONFLICT when the kept
 * catalogs are IDX_CATALOG_COUNT_MAX or would pass IDX_CATALOG_TOTAL_MAX
 * (the same file again always fits: it replaces itself); PS_IO.  zErr says
 * which bound and how to make room. */
int idx_catalog_room(const char *zDataDir, const char *z, size_t n, char *zErr, size_t nErr);

/* Keep a catalog as imported, durably, when nAccepted (the records its
 * import wrote) is at least 1; *pKept 1 when it is kept (0: nothing
 * accepted, or an error).  The bounds of idx_catalog_room apply.  PS_OK,
 * PS_TOO_BIG, PS_CONFLICT or PS_IO (zErr; nothing is kept). */
int idx_catalog_store(const char *zDataDir, const char *z, size_t n, long long nAccepted, int *pKept, char *zErr,
                      size_t nErr);

/* {"scope":…,"catalogs":[{"file","rows"[,"error"]}],"rows":N,"complete":C,"entry_rate":R,
 *  "errors":E,"warnings":W,"score":S,"irregular_total":T,
 *  "irregular":[{"file","line","code","rule","field","key","reason","severity"}],
 *  "offset","limit"}; the list sorted by file and line, paged by o.
 * An entry about a record that o->xHidden hides still counts and is listed
 * with its file, line, rule and field, but with "code": "" and "reason":
 * "（密级档案，不显示）" (IDX_AUDIT_HIDDEN): the evaluator can still match
 * every deduction to a line of the catalog.  xHidden is asked only about
 * the entries listed.  PS_OK, PS_NOMEM, PS_IO or the index's error. */
int idx_report_catalog(idx_index *p, const char *zDataDir, const idx_report_opts *o, json_t **ppOut,
                       char *zErr, size_t nErr);

#define IDX_AUDIT_HIDDEN "（密级档案，不显示）"

/* Drop every parsed catalog held in memory (reports still running keep
 * theirs until they finish).  For the end of the program and for tests. */
void idx_audit_cache_clear(void);

/* `indexd catalogs list | delete FILE | prune --keep N [--data-dir D]`: the
 * kept catalogs, on the server only.  Prints to stdout and stderr; returns
 * the exit status (0, 1 on failure, 2 on a usage error). */
int idx_catalogs_main(const char *zDataDir, int argc, char **argv);

#endif
