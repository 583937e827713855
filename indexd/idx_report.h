/* Reports computed from the index, as the evaluation rows ask for them
 * (see ../shared/DOMAIN.md):
 *
 * coverage (item 22): paper records (载体 纸质, or no 载体 given) kept
 * 永久 or 30年; digitized when pages 1..页数 are all stored (a record
 * without 页数: when it has any page); rate = digitized / total; points =
 * 2 x min(rate / 60%, 1).  Overall, per 全宗, 门类 and 年度, pages as well
 * as items, and the records still to digitize with their store locations.
 * 10-year and non-paper records are counted apart and change nothing.
 *
 * ledger (item 12): items and pages by 全宗 x 门类 x 年度 x 保管期限, with
 * digitized items and scanned pages, and totals. */
#ifndef IDX_REPORT_H
#define IDX_REPORT_H

#include "idx_index.h"

#include <jansson.h>

/* 1 when the reader may not see the record with this canonical 档号 (its
 * 密级 is above theirs).  The rule itself belongs to the caller. */
typedef int (*idx_hidden_fn)(void *ctx, const char *zCode);

typedef struct {
    const char *zFonds;  /* NULL or "": every 全宗 */
    unsigned offset;     /* of the missing list */
    unsigned limit;      /* of the missing list; 0: all */
    idx_hidden_fn xHidden; /* NULL: the reader may see every record */
    void *pHiddenCtx;      /* passed to xHidden */
} idx_report_opts;

/* {"scope":{"fonds":…},"total":N,"digitized":M,"rate":R,"points":P,
 *  "pages":{"total":…,"scanned":…,"rate":…},
 *  "excluded":{"d10":…,"not_paper":…},"carrier_unknown":…,"pages_unknown":…,
 *  "by_fonds":[{"key":…,"total":…,"digitized":…,"rate":…,"pages":…,"scanned_pages":…}],
 *  "by_category":[…],"by_year":[…],
 *  "missing_total":…,"missing_hidden":…,"missing":[{"code","title","location","pages","scanned"}],
 *  "offset":…,"limit":…}
 * Records that o->xHidden hides are counted in every total and rate (the
 * digitization rate is the archive's) but never listed: missing_total
 * counts the records the list pages through, missing_hidden the others.
 * xHidden is asked once about each record not yet digitized whose 密级 is
 * set and above 公开 (every reader sees a 公开 record). */
int idx_report_coverage(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                        size_t nErr);

/* {"scope":{…},"rows":[{"fonds","category","year","retention","items","pages",
 *  "digitized_items","scanned_pages"}],"totals":{…}} sorted by the four keys. */
int idx_report_ledger(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                      size_t nErr);

/* {档号: pages stored} of the records with pages (yours). */
int idx_report_scanned(idx_index *p, json_t **ppOut, char *zErr, size_t nErr);

#endif
