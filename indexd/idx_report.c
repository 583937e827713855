/* Coverage and ledger: Xapian counts the distinct tally values
 * (idx_schema.h, IDX_SLOT_TALLY) over the matches of a query with a
 * ValueCountMatchSpy, and the counts are folded into the figures.  No
 * MatchDecider (a remote shard refuses one) and no document is read but
 * for the records listed on a page of the missing list; the records still
 * to digitize are found by their terms (IDX_TERM_IN_COVERAGE,
 * IDX_TERM_DIGITIZED) and paged in 档号 order by Xapian. */
#include "idx_report.h"
#include "idx_schema.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"
#include "xw.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *z;
    size_t n;
} val;

static unsigned long num(val v)
{
    char z[24];
    size_t n = v.n < sizeof z - 1 ? v.n : sizeof z - 1;
    memcpy(z, v.z, n);
    z[n] = 0;
    return strtoul(z, NULL, 10);
}

static int is(val v, const char *z)
{
    return v.n == strlen(z) && memcmp(v.z, z, v.n) == 0;
}

/* ---- the rules --------------------------------------------------------- */

int idx_report_carrier(const char *zCarrier)
{
    if (!zCarrier || !*zCarrier) return IDX_CARRIER_UNKNOWN;
    return strcmp(zCarrier, "纸质") == 0 || strcmp(zCarrier, "纸") == 0 ? IDX_CARRIER_PAPER : IDX_CARRIER_OTHER;
}

int idx_report_digitized(const char *zPages, unsigned nScanned, unsigned nStored)
{
    if (!zPages || !*zPages) return nStored > 0;
    unsigned long pages = strtoul(zPages, NULL, 10);
    return pages > 0 && nScanned >= pages;
}

int idx_report_scope(const char *zRet, size_t nRet, int carrier)
{
    val r = {zRet ? zRet : "", zRet ? nRet : 0};
    if (!is(r, "Y") && !is(r, "D30")) return IDX_SCOPE_D10;
    return carrier == IDX_CARRIER_OTHER ? IDX_SCOPE_NOT_PAPER : IDX_SCOPE_IN;
}

int idx_report_tally(const proto_record *r, unsigned nScanned, unsigned nStored, char *z, size_t n)
{
    const char *zPages = r->az[PF_PAGES];
    int known = zPages && *zPages;
    unsigned long pages = known ? strtoul(zPages, NULL, 10) : 0;
    unsigned long capped = !known ? 0 : nScanned > pages ? pages : nScanned; /* pages: over records with 页数 */
#define F(f) (r->az[f] ? r->az[f] : "")
    int k = snprintf(z, n, "%s%c%s%c%s%c%s%c%c%c%d%c%lu%c%lu%c%d", F(PF_FONDS), IDX_TALLY_SEP, F(PF_CATEGORY),
                     IDX_TALLY_SEP, F(PF_YEAR), IDX_TALLY_SEP, F(PF_RETENTION), IDX_TALLY_SEP,
                     idx_report_carrier(r->az[PF_CARRIER]), IDX_TALLY_SEP, known, IDX_TALLY_SEP, pages, IDX_TALLY_SEP,
                     capped, IDX_TALLY_SEP, idx_report_digitized(zPages, nScanned, nStored));
#undef F
    return k < 0 || (size_t)k >= n ? -1 : k;
}

/* A tally value back to its fields; -1 if it is not one. */
static int tally_split(const char *z, size_t n, val a[IDX_TALLY_FIELDS])
{
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && z[i] != IDX_TALLY_SEP) continue;
        if (k == IDX_TALLY_FIELDS) return -1;
        a[k].z = z + start;
        a[k].n = i - start;
        k++;
        start = i + 1;
    }
    return k == IDX_TALLY_FIELDS && a[4].n == 1 ? 0 : -1;
}

/* ---- queries ----------------------------------------------------------- */

static xw_query *term(const char *z)
{
    return xw_q_term(z, strlen(z));
}

/* a op b, both freed; NULL (out of memory) when either is NULL */
static xw_query *q2(int op, xw_query *a, xw_query *b)
{
    xw_query *ap[2] = {a, b};
    xw_query *q = a && b ? xw_q_combine(op, ap, 2) : NULL;
    xw_q_free(a);
    xw_q_free(b);
    return q;
}

/* a op b, b freed, a kept */
static xw_query *qf(int op, const xw_query *a, xw_query *b)
{
    xw_query *ap[2] = {(xw_query *)a, b};
    xw_query *q = a && b ? xw_q_combine(op, ap, 2) : NULL;
    xw_q_free(b);
    return q;
}

/* The records of 全宗 zFonds (NULL or "": all). */
static xw_query *fonds_query(const char *zFonds)
{
    if (!zFonds || !*zFonds) return xw_q_all();
    char zTerm[IDX_TERM_MAX + 32];
    idx_bool_term(zTerm, sizeof zTerm, IDX_PFX_FONDS, zFonds);
    return term(zTerm);
}

/* Search q, looking at every match (checkAtLeast: the document count), with
 * the values of slot counted (slot < 0: none); *pn: the matches, exact. */
static int count_all(xw_rdb *pDb, const xw_query *q, int slot, xw_mset **ppOut, unsigned long *pn, char *zErr,
                     size_t nErr)
{
    unsigned aSlot[1] = {slot < 0 ? 0u : (unsigned)slot};
    *ppOut = NULL;
    for (int attempt = 0;; attempt++) {
        unsigned long nDoc = xw_rdb_doccount(pDb);
        xw_search_opts o;
        memset(&o, 0, sizeof o);
        o.sortSlot = -1;
        o.valueSlot = -1;
        o.checkAtLeast = nDoc >= UINT_MAX ? UINT_MAX : (unsigned)nDoc + 1;
        o.aFacetSlot = aSlot;
        o.nFacet = slot < 0 ? 0 : 1;
        xw_mset *m = NULL;
        int rc = xw_search(pDb, q, &o, &m, zErr, nErr);
        if (rc != PS_OK) return rc;
        /* every match seen: the count is exact, the spy saw each one */
        if (xw_mset_exact(m) && (slot < 0 || xw_mset_facet_seen(m) == xw_mset_estimated(m))) {
            *pn = xw_mset_estimated(m);
            *ppOut = m;
            return PS_OK;
        }
        xw_mset_free(m);
        if (attempt == 2) {
            snprintf(zErr, nErr, "统计期间索引一直在变化，未能数尽全部档案，请稍后再试");
            return PS_INDEX;
        }
    }
}

/* ---- folding the tally counts ------------------------------------------ */

typedef struct {
    int coverage;        /* 1: coverage, 0: ledger */
    json_t *pGroups[3];  /* coverage: by fonds, category, year; ledger: [0] by the 4 keys */
    unsigned long total, digitized, pagesTotal, pagesScanned;
    unsigned long d10, notPaper, carrierUnknown, pagesUnknown;
    unsigned long unlinked;  /* records of scans waiting for their catalog row */
    int rc;
} fold_ctx;

/* Add to the counters of group key (an object of counters in pMap). */
static void bump(fold_ctx *c, json_t *pMap, const char *zKey, size_t nKey, const char *const *azName,
                 const unsigned long *aAdd, int nAdd)
{
    char zK[256];
    snprintf(zK, sizeof zK, "%.*s", (int)(nKey < 255 ? nKey : 255), zKey);
    json_t *g = json_object_get(pMap, zK);
    if (!g) {
        g = json_object();
        if (!g || json_object_set_new(pMap, zK, g) != 0) {
            c->rc = PS_NOMEM;
            return;
        }
    }
    for (int i = 0; i < nAdd; i++) {
        json_t *v = json_object_get(g, azName[i]);
        json_int_t n = (v ? json_integer_value(v) : 0) + (json_int_t)aAdd[i];
        if (json_object_set_new(g, azName[i], json_integer(n)) != 0) c->rc = PS_NOMEM;
    }
}

static const char *const azCov[] = {"total", "digitized", "pages", "scanned_pages"};
static const char *const azLedger[] = {"items", "pages", "digitized_items", "scanned_pages"};

/* The n records of one tally value a. */
static void fold(fold_ctx *c, const val *a, unsigned long n)
{
    int carrier = (unsigned char)a[4].z[0];
    int known = is(a[5], "1"), digitized = is(a[8], "1");
    unsigned long pages = num(a[6]), scannedCapped = num(a[7]);
    unsigned long nDig = digitized ? n : 0;
    const val *fonds = &a[0], *cat = &a[1], *year = &a[2], *ret = &a[3];
    if (!c->coverage) {
        char zKey[256];
        int k = snprintf(zKey, sizeof zKey, "%.*s\t%.*s\t%.*s\t%.*s", (int)fonds->n, fonds->z, (int)cat->n, cat->z,
                         (int)year->n, year->z, (int)ret->n, ret->z);
        unsigned long aAdd[4] = {n, pages * n, nDig, scannedCapped * n};
        bump(c, c->pGroups[0], zKey, k < 0 ? 0 : (size_t)k, azLedger, aAdd, 4);
        return;
    }
    switch (idx_report_scope(ret->z, ret->n, carrier)) {
    case IDX_SCOPE_D10: c->d10 += n; return;
    case IDX_SCOPE_NOT_PAPER: c->notPaper += n; return;
    default: break;
    }
    c->carrierUnknown += carrier == IDX_CARRIER_UNKNOWN ? n : 0;
    c->pagesUnknown += known ? 0 : n;
    c->total += n;
    c->digitized += nDig;
    c->pagesTotal += pages * n;
    c->pagesScanned += scannedCapped * n;
    unsigned long aAdd[4] = {n, nDig, pages * n, scannedCapped * n};
    bump(c, c->pGroups[0], fonds->z, fonds->n, azCov, aAdd, 4);
    bump(c, c->pGroups[1], cat->z, cat->n, azCov, aAdd, 4);
    bump(c, c->pGroups[2], year->z, year->n, azCov, aAdd, 4);
}

/* The records of the scope (pKept: 全宗 filter, no record waiting for its
 * catalog row) counted into c, and those waiting apart. */
static int tally(xw_rdb *pDb, const xw_query *pKept, const xw_query *pOnlyU, fold_ctx *c, char *zErr, size_t nErr)
{
    xw_mset *m = NULL;
    unsigned long nSeen = 0, nFolded = 0;
    int rc = count_all(pDb, pKept, IDX_SLOT_TALLY, &m, &nSeen, zErr, nErr);
    if (rc != PS_OK) return rc;
    unsigned nVal = xw_mset_facet_size(m, 0);
    for (unsigned j = 0; j < nVal && c->rc == PS_OK; j++) {
        const char *z;
        size_t n;
        unsigned long nRec;
        val a[IDX_TALLY_FIELDS];
        xw_mset_facet_get(m, 0, j, &z, &n, &nRec);
        if (tally_split(z, n, a) != 0) continue;
        fold(c, a, nRec);
        nFolded += nRec;
    }
    xw_mset_free(m);
    if (c->rc != PS_OK) {
        snprintf(zErr, nErr, "内存不足");
        return c->rc;
    }
    if (nFolded != nSeen) {
        /* written before the tally existed: counting them as nothing would be wrong */
        snprintf(zErr, nErr, "有 %lu 件档案的索引缺少报表统计值（由旧版本写入），须重新写入后才能统计",
                 nSeen - nFolded);
        return PS_INDEX;
    }
    /* records of scans that wait for their catalog row (待挂接) are no
     * catalog entries: not in the ledger, the rate or the draws; they are
     * counted apart */
    if ((rc = count_all(pDb, pOnlyU, -1, &m, &c->unlinked, zErr, nErr)) != PS_OK) return rc;
    xw_mset_free(m);
    return PS_OK;
}

/* The scope of a report: kept (its records) and waiting (待挂接), or PS_NOMEM. */
static int scope_queries(const char *zFonds, xw_query **ppKept, xw_query **ppOnlyU)
{
    *ppKept = q2(XW_AND_NOT, fonds_query(zFonds), term(IDX_TERM_UNLINKED));
    *ppOnlyU = q2(XW_FILTER, fonds_query(zFonds), term(IDX_TERM_UNLINKED));
    if (*ppKept && *ppOnlyU) return PS_OK;
    xw_q_free(*ppKept);
    xw_q_free(*ppOnlyU);
    *ppKept = *ppOnlyU = NULL;
    return PS_NOMEM;
}

/* Points of item 22 for a rate (0..1). */
static double coverage_points(double rate)
{
    double r = rate / 0.6;
    return 2.0 * (r > 1.0 ? 1.0 : r);
}

static double ratio(unsigned long a, unsigned long b)
{
    return b ? (double)a / (double)b : 0.0;
}

/* Rates rounded to 4 decimals, points to 3: what a report prints. */
static json_t *real4(double v)
{
    return json_real(round(v * 10000.0) / 10000.0);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "key")),
                  json_string_value(json_object_get(*(json_t *const *)b, "key")));
}

/* {key: counters} to a list sorted by key, with rates. */
static json_t *group_list(json_t *pMap, int withRate)
{
    json_t *a = json_array();
    const char *zKey;
    json_t *g;
    json_object_foreach(pMap, zKey, g) {
        json_t *o = json_deep_copy(g);
        json_object_set_new(o, "key", json_string(zKey));
        if (withRate) {
            unsigned long t = (unsigned long)json_integer_value(json_object_get(g, "total"));
            unsigned long dg = (unsigned long)json_integer_value(json_object_get(g, "digitized"));
            json_object_set_new(o, "rate", real4(ratio(dg, t)));
        }
        json_array_append_new(a, o);
    }
    size_t n = json_array_size(a);
    json_t **ap = px_malloc((n + 1) * sizeof *ap);
    if (ap) {
        for (size_t i = 0; i < n; i++) ap[i] = json_incref(json_array_get(a, i));
        qsort(ap, n, sizeof *ap, cmp_key);
        json_array_clear(a);
        for (size_t i = 0; i < n; i++) json_array_append_new(a, ap[i]);
        px_free(ap);
    }
    return a;
}

static json_t *scope(const idx_report_opts *o)
{
    return json_pack("{s:o}", "fonds", o->zFonds && *o->zFonds ? json_string(o->zFonds) : json_null());
}

/* The records still to digitize (pMiss) that the reader may not see: *ppOr
 * the OR of their id terms (NULL: none), *pn how many.  xHidden is asked
 * about each whose 密级 is set and above 公开 (every reader sees 公开, the
 * lowest: no need to ask); they are found by their terms and their 档号
 * counted from the value slot, so no document is read. */
static int hidden_ids(xw_rdb *pDb, const xw_query *pMiss, const idx_report_opts *o, xw_query **ppOr,
                      unsigned long *pn, char *zErr, size_t nErr)
{
    char zPublic[64];
    xw_mset *m = NULL;
    unsigned long nCand = 0;
    *ppOr = NULL;
    *pn = 0;
    snprintf(zPublic, sizeof zPublic, IDX_PFX_CLASSIFICATION "%s", "公开");
    xw_query *pCand = qf(XW_FILTER, pMiss, q2(XW_AND_NOT, xw_q_wildcard(IDX_PFX_CLASSIFICATION), term(zPublic)));
    if (!pCand) return PS_NOMEM;
    int rc = count_all(pDb, pCand, IDX_SLOT_CODE, &m, &nCand, zErr, nErr);
    xw_q_free(pCand);
    if (rc != PS_OK) return rc;
    unsigned nVal = xw_mset_facet_size(m, 0);
    xw_query **ap = px_malloc((nVal + 1) * sizeof *ap);
    int nId = 0;
    rc = ap ? PS_OK : PS_NOMEM;
    for (unsigned j = 0; j < nVal && rc == PS_OK; j++) {
        const char *z;
        size_t n;
        unsigned long nRec;
        char zCode[PROTO_CODE_MAX + 32], zId[PROTO_CODE_MAX + 40];
        xw_mset_facet_get(m, 0, j, &z, &n, &nRec);
        if (n >= sizeof zCode) continue; /* no 档号 */
        snprintf(zCode, sizeof zCode, "%.*s", (int)n, z);
        if (!o->xHidden(o->pHiddenCtx, zCode)) continue;
        snprintf(zId, sizeof zId, IDX_PFX_ID "%s", zCode);
        if (!(ap[nId] = term(zId))) rc = PS_NOMEM;
        else nId++;
        *pn += nRec;
    }
    if (rc == PS_OK && nId && !(*ppOr = xw_q_combine(XW_OR, ap, nId))) rc = PS_NOMEM;
    for (int i = 0; i < nId; i++) xw_q_free(ap[i]);
    px_free(ap);
    xw_mset_free(m);
    return rc;
}

/* Entries offset.. (limit of them) of the missing list (pList) in 档号
 * order, appended to pMissing: only these records' documents are read. */
static int missing_page(xw_rdb *pDb, const xw_query *pList, unsigned offset, unsigned limit, json_t *pMissing,
                        char *zErr, size_t nErr)
{
    xw_search_opts so;
    xw_mset *m = NULL;
    memset(&so, 0, sizeof so);
    so.offset = offset;
    so.limit = limit;
    so.sortSlot = IDX_SLOT_CODE;
    so.valueSlot = IDX_SLOT_CODE;
    int rc = xw_search(pDb, pList, &so, &m, zErr, nErr);
    for (unsigned i = 0; rc == PS_OK && i < xw_mset_size(m); i++) {
        const char *zCode = "", *zData = "";
        size_t nCode = 0, nData = 0;
        xw_mset_value(m, i, &zCode, &nCode);
        xw_mset_data(m, i, &zData, &nData);
        json_t *pData = idx_index_parse(zData, nData);
        json_t *r = json_object_get(pData, "r");
        json_t *pP = json_object_get(pData, "p");
        unsigned nRun = 0;
        char zN[16];
        for (;; nRun++) {
            snprintf(zN, sizeof zN, "%u", nRun + 1);
            if (!json_object_get(pP, zN)) break;
        }
        json_t *e = json_pack("{s:s%,s:O,s:O,s:O,s:i}", "code", zCode, nCode,
                              "title", json_object_get(r, "title") ? json_object_get(r, "title") : json_null(),
                              "location", json_object_get(r, "location") ? json_object_get(r, "location") : json_null(),
                              "pages", json_object_get(r, "pages") ? json_object_get(r, "pages") : json_null(),
                              "scanned", (int)nRun);
        json_decref(pData);
        if (!e || json_array_append_new(pMissing, e) != 0) rc = PS_NOMEM;
    }
    xw_mset_free(m);
    return rc;
}

int idx_report_coverage(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                        size_t nErr)
{
    fold_ctx c;
    xw_rdb *pDb = NULL;
    xw_query *pKept = NULL, *pOnlyU = NULL, *pMiss = NULL, *pHide = NULL;
    json_t *pOut = NULL, *pMissing = NULL;
    unsigned long nHidden = 0, nShown = 0;
    memset(&c, 0, sizeof c);
    c.coverage = 1;
    for (int i = 0; i < 3; i++) c.pGroups[i] = json_object();
    int rc = c.pGroups[0] && c.pGroups[1] && c.pGroups[2] ? PS_OK : PS_NOMEM;
    if (rc == PS_OK) rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc == PS_OK) rc = scope_queries(o->zFonds, &pKept, &pOnlyU);
    if (rc == PS_OK) rc = tally(pDb, pKept, pOnlyU, &c, zErr, nErr);
    if (rc != PS_OK) goto out;
    rc = PS_NOMEM;
    if (!(pMissing = json_array())) goto out;
    unsigned long nNotDigitized = c.total - c.digitized;
    if (nNotDigitized) {
        /* the records counted above and not digitized: found by their terms */
        pMiss = qf(XW_FILTER, pKept, q2(XW_AND_NOT, term(IDX_TERM_IN_COVERAGE), term(IDX_TERM_DIGITIZED)));
        if (!pMiss) goto out;
        /* records the reader may not see: counted above, left out of the list */
        if (o->xHidden && (rc = hidden_ids(pDb, pMiss, o, &pHide, &nHidden, zErr, nErr)) != PS_OK) goto out;
        rc = PS_NOMEM;
        if (pHide) {
            pMiss = q2(XW_AND_NOT, pMiss, pHide);
            pHide = NULL;
            if (!pMiss) goto out;
        }
        nShown = nHidden < nNotDigitized ? nNotDigitized - nHidden : 0;
        if (o->offset < nShown) {
            unsigned long nPage = nShown - o->offset;
            if (o->limit && o->limit < nPage) nPage = o->limit;
            if ((rc = missing_page(pDb, pMiss, o->offset, (unsigned)nPage, pMissing, zErr, nErr)) != PS_OK) goto out;
            rc = PS_NOMEM;
        }
    }
    double rate = ratio(c.digitized, c.total);
    pOut = json_pack("{s:o,s:s,s:I,s:I,s:o,s:o,s:{s:I,s:I,s:o},s:{s:I,s:I},s:I,s:I,s:o,s:o,s:o,s:I,s:I,s:O,s:I,s:I}",
                     "scope", scope(o),
                     "rule", "范围：保管期限为永久、30年的纸质档案；每页均已扫描并挂接的为已数字化；"
                             "得分 = 2 × min(数字化率 / 60%, 1)",
                     "total", (json_int_t)c.total, "digitized", (json_int_t)c.digitized, "rate", real4(rate),
                     "points", json_real(round(coverage_points(rate) * 1000.0) / 1000.0),
                     "pages", "total", (json_int_t)c.pagesTotal, "scanned", (json_int_t)c.pagesScanned, "rate",
                     real4(ratio(c.pagesScanned, c.pagesTotal)),
                     "excluded", "d10", (json_int_t)c.d10, "not_paper", (json_int_t)c.notPaper,
                     "carrier_unknown", (json_int_t)c.carrierUnknown, "pages_unknown", (json_int_t)c.pagesUnknown,
                     "by_fonds", group_list(c.pGroups[0], 1), "by_category", group_list(c.pGroups[1], 1),
                     "by_year", group_list(c.pGroups[2], 1), "missing_total", (json_int_t)nShown,
                     "missing_hidden", (json_int_t)nHidden, "missing", pMissing, "offset", (json_int_t)o->offset,
                     "limit", (json_int_t)o->limit);
    /* scans read that wait for their catalog row: not in the rate, said apart */
    if (pOut && json_object_set_new(pOut, "unlinked", json_integer((json_int_t)c.unlinked)) != 0) {
        json_decref(pOut);
        pOut = NULL;
    }
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    json_decref(pMissing);
    for (int i = 0; i < 3; i++) json_decref(c.pGroups[i]);
    xw_q_free(pKept);
    xw_q_free(pOnlyU);
    xw_q_free(pMiss);
    xw_q_free(pHide);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

int idx_report_ledger(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                      size_t nErr)
{
    fold_ctx c;
    xw_rdb *pDb = NULL;
    xw_query *pKept = NULL, *pOnlyU = NULL;
    memset(&c, 0, sizeof c);
    c.pGroups[0] = json_object();
    int rc = c.pGroups[0] ? PS_OK : PS_NOMEM;
    if (rc == PS_OK) rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc == PS_OK) rc = scope_queries(o->zFonds, &pKept, &pOnlyU);
    if (rc == PS_OK) rc = tally(pDb, pKept, pOnlyU, &c, zErr, nErr);
    json_t *pOut = NULL, *pRows = NULL;
    if (rc != PS_OK) goto out;
    rc = PS_NOMEM;
    pRows = group_list(c.pGroups[0], 0);
    unsigned long aTot[4] = {0, 0, 0, 0};
    size_t i;
    json_t *g;
    json_array_foreach(pRows, i, g) {
        /* "Z031\tWS\t2017\tY" back to its four keys */
        char zK[256];
        snprintf(zK, sizeof zK, "%s", json_string_value(json_object_get(g, "key")));
        char *az[4] = {zK, NULL, NULL, NULL};
        for (int k = 1; k < 4; k++) {
            az[k] = az[k - 1] ? strchr(az[k - 1], '\t') : NULL;
            if (az[k]) *az[k]++ = 0;
        }
        json_object_del(g, "key");
        json_object_set_new(g, "fonds", json_string(az[0]));
        json_object_set_new(g, "category", json_string(az[1] ? az[1] : ""));
        json_object_set_new(g, "year", az[2] && *az[2] ? json_integer(atoi(az[2])) : json_null());
        json_object_set_new(g, "retention", json_string(az[3] ? az[3] : ""));
        for (int k = 0; k < 4; k++) aTot[k] += (unsigned long)json_integer_value(json_object_get(g, azLedger[k]));
    }
    pOut = json_pack("{s:o,s:O,s:{s:I,s:I,s:I,s:I}}", "scope", scope(o), "rows", pRows, "totals", "items",
                     (json_int_t)aTot[0], "pages", (json_int_t)aTot[1], "digitized_items", (json_int_t)aTot[2],
                     "scanned_pages", (json_int_t)aTot[3]);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    json_decref(pRows);
    json_decref(c.pGroups[0]);
    xw_q_free(pKept);
    xw_q_free(pOnlyU);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

/* ---- the records with pages, for the timed test's draws ---------------- */

static xw_query *pages_query(const char *zFonds)
{
    xw_query *q = term(IDX_TERM_HAS_PAGES);
    if (zFonds && *zFonds) q = q2(XW_FILTER, q, fonds_query(zFonds));
    return q2(XW_AND_NOT, q, term(IDX_TERM_UNLINKED));
}

int idx_report_scanned_count(idx_index *p, const char *zFonds, unsigned long *pn, char *zErr, size_t nErr)
{
    xw_rdb *pDb;
    xw_mset *m = NULL;
    *pn = 0;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc != PS_OK) return rc;
    xw_query *q = pages_query(zFonds);
    if (!q) {
        snprintf(zErr, nErr, "内存不足");
        return PS_NOMEM;
    }
    rc = count_all(pDb, q, -1, &m, pn, zErr, nErr);
    xw_mset_free(m);
    xw_q_free(q);
    return rc;
}

json_t *idx_report_scanned_nth(idx_index *p, const char *zFonds, unsigned long k, char *zCode, int *pRc,
                               char *zErr, size_t nErr)
{
    xw_rdb *pDb;
    xw_mset *m = NULL;
    xw_query *q = NULL;
    json_t *pOut = NULL;
    zCode[0] = 0;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc == PS_OK && !(q = pages_query(zFonds))) {
        snprintf(zErr, nErr, "内存不足");
        rc = PS_NOMEM;
    }
    if (rc == PS_OK) {
        /* index (docid) order: the k-th match without weighing any */
        xw_search_opts so;
        memset(&so, 0, sizeof so);
        so.offset = k > UINT_MAX ? UINT_MAX : (unsigned)k;
        so.limit = 1;
        so.sortSlot = -1;
        so.valueSlot = IDX_SLOT_CODE;
        so.unranked = 1;
        rc = xw_search(pDb, q, &so, &m, zErr, nErr);
    }
    if (rc == PS_OK && xw_mset_size(m) == 0) {
        snprintf(zErr, nErr, "没有第 %lu 件有扫描页的档案", k + 1);
        rc = PS_NOT_FOUND;
    }
    if (rc == PS_OK) {
        const char *z = "", *zData = "";
        size_t n = 0, nData = 0;
        xw_mset_value(m, 0, &z, &n);
        snprintf(zCode, PROTO_CODE_MAX, "%.*s", (int)n, z);
        if (xw_mset_data(m, 0, &zData, &nData) != PS_OK || !(pOut = idx_index_parse(zData, nData))) {
            snprintf(zErr, nErr, "档号为 %s 的档案所存数据已损坏", zCode);
            rc = PS_INDEX;
        }
    }
    xw_mset_free(m);
    xw_q_free(q);
    *pRc = rc;
    return pOut;
}
