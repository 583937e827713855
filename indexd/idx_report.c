/* Coverage and ledger: one pass over the records' values (no stored JSON
 * read but for the records listed as missing). */
#include "idx_report.h"
#include "idx_schema.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"
#include "xw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *z;
    size_t n;
} val;

/* A record still to digitize. */
typedef struct {
    char *zCode;
    int classified; /* a 密级 above 公开: the reader may not see it */
} missing;

typedef struct {
    int coverage;        /* 1: coverage, 0: ledger, -1: stored pages per record */
    json_t *pScanned;    /* -1: 档号 -> pages stored */
    json_t *pGroups[3];  /* coverage: by fonds, category, year; ledger: [0] by the 4 keys */
    unsigned long total, digitized, pagesTotal, pagesScanned;
    unsigned long d10, notPaper, carrierUnknown, pagesUnknown;
    unsigned long unlinked;  /* records of scans waiting for their catalog row */
    missing *aMissing;
    size_t nMissing, nAlloc;
    int rc;
} scan_ctx;

static val value(xw_docview *d, unsigned slot)
{
    val v = {"", 0};
    if (xw_docview_value(d, slot, &v.z, &v.n) != PS_OK) v.n = 0;
    return v;
}

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

/* Add to the counters of group key (an object of counters in pMap). */
static void bump(scan_ctx *c, json_t *pMap, const char *zKey, size_t nKey, const char *const *azName,
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

static int on_doc(void *ctx, xw_docview *d)
{
    scan_ctx *c = ctx;
    if (c->rc != PS_OK) return 0;
    val ret = value(d, IDX_SLOT_RETENTION), carrier = value(d, IDX_SLOT_CARRIER);
    val pagesV = value(d, IDX_SLOT_PAGES);
    unsigned long pages = num(pagesV), scanned = num(value(d, IDX_SLOT_SCANNED));
    unsigned long stored = num(value(d, IDX_SLOT_STORED));
    int digitized = pagesV.n ? pages > 0 && scanned >= pages : stored > 0;
    unsigned long scannedCapped = !pagesV.n ? 0 : scanned > pages ? pages : scanned; /* pages: over records with 页数 */
    val fonds = value(d, IDX_SLOT_FONDS), cat = value(d, IDX_SLOT_CATEGORY), year = value(d, IDX_SLOT_YEAR);
    if (c->coverage < 0) {
        if (stored > 0) {
            val code = value(d, IDX_SLOT_CODE);
            char zK[PROTO_CODE_MAX];
            snprintf(zK, sizeof zK, "%.*s", (int)(code.n < sizeof zK - 1 ? code.n : sizeof zK - 1), code.z);
            if (json_object_set_new(c->pScanned, zK, json_integer((json_int_t)stored)) != 0) c->rc = PS_NOMEM;
        }
        return 0;
    }
    if (!c->coverage) {
        char zKey[256];
        int n = snprintf(zKey, sizeof zKey, "%.*s\t%.*s\t%.*s\t%.*s", (int)fonds.n, fonds.z, (int)cat.n, cat.z,
                         (int)year.n, year.z, (int)ret.n, ret.z);
        unsigned long aAdd[4] = {1, pages, (unsigned long)digitized, scannedCapped};
        bump(c, c->pGroups[0], zKey, (size_t)n, azLedger, aAdd, 4);
        return 0;
    }
    if (!is(ret, "Y") && !is(ret, "D30")) {
        c->d10++;
        return 0;
    }
    if (carrier.n && !is(carrier, "纸质") && !is(carrier, "纸")) {
        c->notPaper++;
        return 0;
    }
    c->carrierUnknown += carrier.n == 0;
    c->pagesUnknown += pagesV.n == 0;
    c->total++;
    c->digitized += (unsigned long)digitized;
    c->pagesTotal += pages;
    c->pagesScanned += scannedCapped;
    unsigned long aAdd[4] = {1, (unsigned long)digitized, pages, scannedCapped};
    bump(c, c->pGroups[0], fonds.z, fonds.n, azCov, aAdd, 4);
    bump(c, c->pGroups[1], cat.z, cat.n, azCov, aAdd, 4);
    bump(c, c->pGroups[2], year.z, year.n, azCov, aAdd, 4);
    if (!digitized) {
        val code = value(d, IDX_SLOT_CODE);
        if (c->nMissing == c->nAlloc) {
            size_t nNew = c->nAlloc ? c->nAlloc * 2 : 1024;
            missing *a = px_realloc(c->aMissing, nNew * sizeof *a);
            if (!a) {
                c->rc = PS_NOMEM;
                return 0;
            }
            c->aMissing = a;
            c->nAlloc = nNew;
        }
        val cls = value(d, IDX_SLOT_CLASSIFICATION);
        c->aMissing[c->nMissing].classified = cls.n && !is(cls, "公开");
        if (!(c->aMissing[c->nMissing].zCode = px_strndup(code.z, code.n))) c->rc = PS_NOMEM;
        else c->nMissing++;
    }
    return 0;
}

static int count_doc(void *ctx, xw_docview *d)
{
    (void)d;
    ((scan_ctx *)ctx)->unlinked++;
    return 0;
}

static int scan(idx_index *p, const char *zFonds, scan_ctx *c, char *zErr, size_t nErr)
{
    xw_rdb *pDb;
    xw_mset *m = NULL;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc != PS_OK) return rc;
    xw_query *q = NULL;
    if (zFonds && *zFonds) {
        char zTerm[64];
        snprintf(zTerm, sizeof zTerm, IDX_PFX_FONDS "%s", zFonds);
        q = xw_q_term(zTerm, strlen(zTerm));
    } else {
        q = xw_q_all();
    }
    if (!q) return PS_NOMEM;
    /* records of scans that wait for their catalog row (待挂接) are no
     * catalog entries: not in the ledger, the rate or the draws; they are
     * counted apart */
    xw_query *pU = xw_q_term(IDX_TERM_UNLINKED, strlen(IDX_TERM_UNLINKED));
    xw_query *a[2] = {q, pU};
    xw_query *pKept = pU ? xw_q_combine(XW_AND_NOT, a, 2) : NULL;
    xw_query *pOnlyU = pU ? xw_q_combine(XW_FILTER, a, 2) : NULL;
    xw_q_free(q);
    xw_q_free(pU);
    if (!pKept || !pOnlyU) {
        xw_q_free(pKept);
        xw_q_free(pOnlyU);
        return PS_NOMEM;
    }
    /* Every record goes past the decider once; it keeps none. */
    unsigned long n = xw_rdb_doccount(pDb);
    unsigned nMax = n > 0xFFFFFFF0ul ? 0xFFFFFFF0u : (unsigned)n + 1;
    xw_search_opts o = {0, 1, -1, 0, nMax, NULL, 0, on_doc, c, -1, 0, 0};
    rc = xw_search(pDb, pKept, &o, &m, zErr, nErr);
    xw_mset_free(m);
    m = NULL;
    xw_search_opts ou = {0, 1, -1, 0, nMax, NULL, 0, count_doc, c, -1, 0, 0};
    if (rc == PS_OK) rc = xw_search(pDb, pOnlyU, &ou, &m, zErr, nErr);
    xw_mset_free(m);
    xw_q_free(pKept);
    xw_q_free(pOnlyU);
    if (rc == PS_OK && c->rc != PS_OK) {
        rc = c->rc;
        snprintf(zErr, nErr, "内存不足");
    }
    return rc;
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

static int cmp_missing(const void *a, const void *b)
{
    return strcmp(((const missing *)a)->zCode, ((const missing *)b)->zCode);
}

static json_t *scope(const idx_report_opts *o)
{
    return json_pack("{s:o}", "fonds", o->zFonds && *o->zFonds ? json_string(o->zFonds) : json_null());
}

int idx_report_coverage(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                        size_t nErr)
{
    scan_ctx c;
    memset(&c, 0, sizeof c);
    c.coverage = 1;
    for (int i = 0; i < 3; i++) c.pGroups[i] = json_object();
    int rc = c.pGroups[0] && c.pGroups[1] && c.pGroups[2] ? scan(p, o->zFonds, &c, zErr, nErr) : PS_NOMEM;
    json_t *pOut = NULL, *pMissing = NULL;
    if (rc != PS_OK) goto out;
    qsort(c.aMissing, c.nMissing, sizeof *c.aMissing, cmp_missing);
    /* records the reader may not see: counted above, left out of the list
     * (every reader sees 公开, the lowest 密级: no need to ask) */
    size_t nHidden = 0, nShown = 0;
    for (size_t i = 0; i < c.nMissing; i++) {
        if (o->xHidden && c.aMissing[i].classified && o->xHidden(o->pHiddenCtx, c.aMissing[i].zCode)) {
            px_free(c.aMissing[i].zCode);
            nHidden++;
        } else {
            c.aMissing[nShown++] = c.aMissing[i];
        }
    }
    c.nMissing = nShown;
    rc = PS_NOMEM;
    if (!(pMissing = json_array())) goto out;
    size_t end = o->limit ? (size_t)o->offset + o->limit : c.nMissing;
    for (size_t i = o->offset; i < end && i < c.nMissing; i++) {
        int rcGet;
        char zE[256];
        json_t *pData = idx_index_get(p, c.aMissing[i].zCode, &rcGet, zE, sizeof zE);
        json_t *r = json_object_get(pData, "r");
        json_t *pP = json_object_get(pData, "p");
        unsigned nRun = 0;
        char zN[16];
        for (;; nRun++) {
            snprintf(zN, sizeof zN, "%u", nRun + 1);
            if (!json_object_get(pP, zN)) break;
        }
        json_t *m = json_pack("{s:s,s:O,s:O,s:O,s:i}", "code", c.aMissing[i].zCode,
                              "title", json_object_get(r, "title") ? json_object_get(r, "title") : json_null(),
                              "location", json_object_get(r, "location") ? json_object_get(r, "location") : json_null(),
                              "pages", json_object_get(r, "pages") ? json_object_get(r, "pages") : json_null(),
                              "scanned", (int)nRun);
        json_decref(pData);
        if (!m || json_array_append_new(pMissing, m) != 0) goto out;
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
                     "by_year", group_list(c.pGroups[2], 1), "missing_total", (json_int_t)c.nMissing,
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
    for (size_t i = 0; i < c.nMissing; i++) px_free(c.aMissing[i].zCode);
    px_free(c.aMissing);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

int idx_report_ledger(idx_index *p, const idx_report_opts *o, json_t **ppOut, char *zErr,
                      size_t nErr)
{
    scan_ctx c;
    memset(&c, 0, sizeof c);
    c.pGroups[0] = json_object();
    int rc = c.pGroups[0] ? scan(p, o->zFonds, &c, zErr, nErr) : PS_NOMEM;
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
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

int idx_report_scanned(idx_index *p, json_t **ppOut, char *zErr, size_t nErr)
{
    scan_ctx c;
    memset(&c, 0, sizeof c);
    c.coverage = -1;
    c.pScanned = json_object();
    int rc = c.pScanned ? scan(p, NULL, &c, zErr, nErr) : PS_NOMEM;
    if (rc != PS_OK) {
        json_decref(c.pScanned);
        c.pScanned = NULL;
    }
    *ppOut = c.pScanned;
    return rc;
}
