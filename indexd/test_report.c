/* Unit tests of the coverage and ledger reports on records with known
 * answers, and of their CSV and HTML forms. */
#include "idx_audit.h"
#include "idx_export.h"
#include "idx_report.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static idx_index *pIdx;

/* A record with 页数 zPages (NULL: none) and the stored pages listed in zStored ("1,2"). */
static void put(const char *zCode, const char *zCarrier, const char *zPages, const char *zStored)
{
    proto_record r;
    proto_problem err;
    char zErr[256];
    int replaced;
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    proto_record_set(&r, PF_TITLE, "题名", strlen("题名"));
    proto_record_set(&r, PF_LOCATION, "1号库-3列", strlen("1号库-3列"));
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

static double num(const json_t *o, const char *zKey)
{
    return json_number_value(json_object_get(o, zKey));
}

int main(void)
{
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

    idx_report_opts o = {NULL, 0, 0};
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
    idx_report_opts o2 = {"Z032", 1, 1};
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

    /* The catalog audit lists rows the reader cannot take as they are (an
     * unterminated quote, a NUL in a cell) as of the wrong shape, with
     * their lines, and never cut short. */
    static const char zCat[] =
        "档号,题名,责任者,日期,页数\n"
        "Z033-WS·2019-Y-AUD-0001,\"没有结束的引号,县扶贫办,20190101,1\n"
        "Z033-WS·2019-Y-AUD-0002,正常,县扶贫办,20190101,1\n"
        "Z033-WS·2019-Y-AUD-0003,NUL\0标题,县扶贫办,20190101,1\n";
    CHECK_INT(idx_catalog_store(zDir, zCat, sizeof zCat - 1, zErr, sizeof zErr), PS_OK);
    idx_report_opts oc = {NULL, 0, 100};
    CHECK_INT(idx_report_catalog(pIdx, zDir, &oc, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(num(r, "rows"), 3);
    int nShape = 0;
    json_t *pIrr = json_object_get(r, "irregular");
    for (size_t i = 0; i < json_array_size(pIrr); i++) {
        json_t *x = json_array_get(pIrr, i);
        if (strcmp(json_string_value(json_object_get(x, "rule")), "shape") != 0) continue;
        nShape++;
        CHECK(num(x, "line") == 2 || num(x, "line") == 4);
        CHECK_CONTAINS(json_string_value(json_object_get(x, "reason")), "cannot be read");
    }
    CHECK_INT(nShape, 2);
    json_decref(r);

    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
