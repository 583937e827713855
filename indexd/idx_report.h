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

/* The records with pages stored (term IDX_TERM_HAS_PAGES), of 全宗 zFonds
 * (NULL or "": every 全宗), none waiting for its catalog row, in index
 * order: how many (*pn, exact), and the k-th of them (0-based): its stored
 * data parsed (a new reference) and its 档号 (zCode, PROTO_CODE_MAX bytes),
 * or NULL with *pRc: PS_NOT_FOUND when there is no k-th (the index
 * changed), PS_INDEX when its data cannot be read (zCode set).  Only that
 * record's document is read. */
int idx_report_scanned_count(idx_index *p, const char *zFonds, unsigned long *pn, char *zErr, size_t nErr);
json_t *idx_report_scanned_nth(idx_index *p, const char *zFonds, unsigned long k, char *zCode, int *pRc,
                               char *zErr, size_t nErr);

/* ---- the rules, one place each: the indexer (doc_build) keeps their
 * answers in the record's document, the reports count them ----------- */

/* Carrier classes: 载体 纸质 or 纸, another 载体, none given. */
#define IDX_CARRIER_PAPER 'P'
#define IDX_CARRIER_OTHER 'N'
#define IDX_CARRIER_UNKNOWN 'U'
int idx_report_carrier(const char *zCarrier);
/* Digitized: pages 1..页数 all stored (nScanned: pages stored without a gap
 * from page 1); a record without 页数 (zPages NULL or ""): any page stored
 * (nStored). */
int idx_report_digitized(const char *zPages, unsigned nScanned, unsigned nStored);
/* What the coverage report does with a record of 保管期限 zRet (nRet bytes)
 * and carrier class: counts it, or excludes it as 10 years (any 保管期限
 * but 永久 and 30年) or as not paper. */
enum { IDX_SCOPE_IN, IDX_SCOPE_D10, IDX_SCOPE_NOT_PAPER };
int idx_report_scope(const char *zRet, size_t nRet, int carrier);
/* The tally value of a record (idx_schema.h, IDX_SLOT_TALLY) into z (n
 * bytes): its length, or -1 when it does not fit. */
#define IDX_TALLY_MAX 512
int idx_report_tally(const proto_record *r, unsigned nScanned, unsigned nStored, char *z, size_t n);

#endif
