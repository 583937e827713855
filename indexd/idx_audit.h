/* The catalog audit (evaluation item 9): the file-level catalog as it was
 * imported, checked row by row.
 *
 * A catalog is kept as it came (<data_dir>/catalogs/, in import order;
 * importing the same file again moves it last) when its import wrote at
 * least one record: a file of which nothing was imported says nothing about
 * the archive's catalog.  Its original name is not kept (the import route
 * does not receive one): reports cite the kept file's name.
 *
 * The entries are judged as the archive holds them across catalogs, as the
 * import writes them with ?replace=1:
 * - a 档号 held by several catalogs is one entry, from the last catalog that
 *   holds it; its row there replaces only the fields for which that catalog
 *   has a column (an empty cell of such a column empties the field; a 密级
 *   only when given, as the import keeps one), the fields it has no column
 *   for keep the earlier catalog's value.  The mandatory check sees the
 *   values so merged, and a finding about a field is cited at the file and
 *   line of the row that gave its value (once, however many entries hold
 *   that value); a finding about the row as written (shape, unclosed_quote)
 *   counts only for the entry's own row;
 * - a row that names no item (no 档号, or one that cannot be read) is an
 *   entry that was not entered, in every report, whatever later catalogs
 *   hold (delete its catalog with `indexd catalogs delete` once it is
 *   corrected and imported again);
 * - in the last catalog holding a 档号, a row the same as an earlier row of
 *   that catalog once read (every catalog field normalised, as the import
 *   tells a repeated row) is one irregularity, "duplicate", and no entry of
 *   its own (its findings are the earlier row's); a row that differs is an
 *   entry of its own with its findings, and a "duplicate" too.
 * Rules: each of proto_record_audit's; "shape" (a row with more or fewer
 * fields than the header, or a cell that is not text); "unclosed_quote" (a
 * quote never closed: the line and the column where it opened, as the
 * import says it; a row read again around it is still an entry);
 * "duplicate"; "item_gap" (件号 missing within 全宗-门类-年度-保管期限-机构).
 * Severity here says whether an entry deducts: "error" for every irregular
 * entry, "warning" only for item_gap.  So unclosed_quote and length, which
 * the import calls warnings (the row was written all the same), are errors
 * here: the catalog as written is irregular (目录不规范).
 * entry_rate = entries with every mandatory field / entries; score = 5 x
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
 * kept catalogs, on the server only.  Prints to stdout and stderr, in
 * Chinese (command and option names aside); returns the exit status (0, 1
 * on failure, 2 on a usage error). */
int idx_catalogs_main(const char *zDataDir, int argc, char **argv);

#endif
