/* In-process tests of the index and search: exact phrase semantics, near
 * matches, filters, facets, paging, pages and snippets, replace by 档号. */
#include "idx_file.h"
#include "idx_index.h"
#include "idx_search.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static idx_index *pIdx;

static void put(const char *zCode, const char *zTitle, const char *zDate, const char *zPage1,
                const char *zPage2)
{
    proto_record r;
    proto_problem err;
    char zErr[256];
    int replaced;
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    proto_record_set(&r, PF_TITLE, zTitle, strlen(zTitle));
    proto_record_set(&r, PF_DATE, zDate, strlen(zDate));
    proto_record_set(&r, PF_LOCATION, "1号库-3列", strlen("1号库-3列"));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    json_t *pPages = json_object();
    if (zPage1) json_object_set_new(pPages, "1", json_pack("{s:s}", "text", zPage1));
    if (zPage2) json_object_set_new(pPages, "2", json_pack("{s:s}", "text", zPage2));
    CHECK_INT(idx_index_put(pIdx, &r, pPages, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    json_decref(pPages);
    proto_record_clear(&r);
}

static json_t *search_req(idx_search_req *q)
{
    json_t *pOut = NULL;
    const char *zParam;
    unsigned off;
    char zErr[256];
    if (!q->limit) q->limit = 50;
    int rc = idx_search(pIdx, q, &pOut, &zParam, &off, zErr, sizeof zErr);
    if (rc != PS_OK) fprintf(stderr, "search failed: %s\n", zErr);
    return pOut;
}

static json_t *search(const char *zQ)
{
    idx_search_req q;
    memset(&q, 0, sizeof q);
    q.zQuery = zQ;
    q.facets = 1;
    q.facetCheck = 1000;
    return search_req(&q);
}

/* The item numbers of the hits, in order, "-" marking near (not exact) hits. */
static char zCodes[1024];
static const char *codes(json_t *o)
{
    size_t i;
    json_t *h;
    zCodes[0] = 0;
    json_array_foreach(json_object_get(o, "hits"), i, h) {
        const char *z = json_string_value(json_object_get(h, "code"));
        size_t n = strlen(zCodes);
        snprintf(zCodes + n, sizeof zCodes - n, "%s%s%s", n ? "," : "",
                 json_is_true(json_object_get(h, "exact")) ? "" : "-", z + strlen(z) - 2);
    }
    json_decref(o);
    return zCodes;
}

static char *sorted(const char *z)
{
    /* Relevance order among equals is not part of the contract: compare sets. */
    static char zOut[1024];
    char a[64][8];
    int n = 0;
    const char *s = z;
    while (*s && n < 64) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        snprintf(a[n++], sizeof a[0], "%.*s", (int)len, s);
        s += len + (e != NULL);
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(a[j - 1], a[j]) > 0; j--) {
            char t[8];
            memcpy(t, a[j], 8); memcpy(a[j], a[j - 1], 8); memcpy(a[j - 1], t, 8);
        }
    zOut[0] = 0;
    for (int i = 0; i < n; i++) {
        strcat(zOut, i ? "," : "");
        strcat(zOut, a[i]);
    }
    return zOut;
}

/* The guard sees what is stored: remembered here. */
static int nGuard, guardOld;
static const char *zGuardOld;
static int guard_probe(void *ctx, const char *zCode, int bOld, const char *zOld, const char *zNew, char *zErr, size_t nErr)
{
    (void)ctx, (void)zCode, (void)zNew;
    nGuard++;
    guardOld = bOld;
    zGuardOld = zOld;
    if (zOld && strcmp(zOld, "秘密") == 0) {
        snprintf(zErr, nErr, "refused");
        return PS_FORBIDDEN;
    }
    return PS_OK;
}

/* Stored data that cannot be read (written by an older version, a disk
 * fault): searches leave the record out instead of failing, its write
 * guard sees an unknown 密级, and it can be written again, the unreadable
 * data kept aside. */
static void test_damaged(void)
{
    char zDir[] = "/tmp/test_index_dmg_XXXXXX", zPath[256], zErr[256];
    const char *zCode = "Z031-WS·2017-Y-0042";
    int rc, replaced;
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts o = {1, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    put("Z031-WS·2017-Y-0041", "完好的扶贫记录", "20170101", "扶贫正文", NULL);
    idx_index_close(pIdx);
    xw_wdb *pW = NULL;
    snprintf(zPath, sizeof zPath, "%s/shard-0", zDir);
    CHECK_INT(xw_wdb_open(zPath, &pW, zErr, sizeof zErr), PS_OK);
    xw_doc *pDoc = xw_doc_new();
    static const char zBroken[] = "{\"r\":{\"code\":\"Z031-WS·2017-Y-0042\",\"title\":";
    xw_doc_set_data(pDoc, zBroken, strlen(zBroken));
    xw_doc_add_term(pDoc, "扶贫", strlen("扶贫"), 1);
    char zId[64];
    snprintf(zId, sizeof zId, IDX_PFX_ID "%s", zCode);
    CHECK_INT(xw_doc_add_boolean(pDoc, zId), PS_OK);
    CHECK_INT(xw_wdb_replace(pW, zId, pDoc, &replaced, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_commit(pW, zErr, sizeof zErr), PS_OK);
    xw_doc_free(pDoc);
    xw_wdb_close(pW);

    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    json_t *pOut = search("扶贫");
    CHECK(pOut != NULL);
    CHECK_INT(json_integer_value(json_object_get(pOut, "total")), 2);
    CHECK_STR(codes(pOut), "41"); /* listed: the readable one; the other left out (codes releases pOut) */
    CHECK(idx_index_get(pIdx, zCode, &rc, zErr, sizeof zErr) == NULL);
    CHECK_INT(rc, PS_INDEX);
    /* a page cannot be added to it, but the record can be written again */
    json_t *pPage = json_pack("{s:s}", "text", "新页");
    idx_guard g = {guard_probe, NULL, NULL, NULL};
    CHECK_INT(idx_index_put_page(pIdx, zCode, 1, pPage, &g, &replaced, zErr, sizeof zErr), PS_INDEX);
    CHECK_INT(guardOld, 1);
    CHECK(zGuardOld == NULL);
    json_decref(pPage);
    proto_record r;
    proto_problem err;
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    proto_record_set(&r, PF_TITLE, "重写的扶贫记录", strlen("重写的扶贫记录"));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    CHECK_INT(idx_index_put(pIdx, &r, NULL, &g, &replaced, zErr, sizeof zErr), PS_OK);
    CHECK(replaced);
    proto_record_clear(&r);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    json_t *pData = idx_index_get(pIdx, zCode, &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "重写的扶贫记录");
    json_decref(pData);
    /* the unreadable data is kept, not lost */
    char zCmd[512];
    snprintf(zCmd, sizeof zCmd, "grep -qF '\"title\":' %s/damaged/*.json", zDir);
    CHECK(system(zCmd) == 0);
    /* a guard refuses by the stored 密级, under the lock */
    put("Z031-WS·2017-Y-0043", "秘密记录", "20170101", NULL, NULL);
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, "Z031-WS·2017-Y-0043", strlen("Z031-WS·2017-Y-0043"));
    proto_record_set(&r, PF_TITLE, "秘密记录", strlen("秘密记录"));
    proto_record_set(&r, PF_CLASSIFICATION, "秘密", strlen("秘密"));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    CHECK_INT(idx_index_put(pIdx, &r, NULL, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    nGuard = 0;
    CHECK_INT(idx_index_put(pIdx, &r, NULL, &g, &replaced, zErr, sizeof zErr), PS_FORBIDDEN);
    CHECK_INT(idx_index_delete(pIdx, "Z031-WS·2017-Y-0043", &g, zErr, sizeof zErr), PS_FORBIDDEN);
    CHECK_INT(nGuard, 2);
    proto_record_clear(&r);
    /* the commit sequence */
    unsigned long long seq = idx_index_seq(pIdx);
    CHECK_INT(seq, 3); /* since the index was opened: the rewrite and two writes; refused ones are not writes */
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_durable(pIdx), seq);
    put("Z031-WS·2017-Y-0044", "未提交", "20170101", NULL, NULL);
    CHECK_INT(idx_index_seq(pIdx), seq + 1);
    CHECK_INT(idx_index_durable(pIdx), seq);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_durable(pIdx), seq + 1);
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
}

/* An index of an older format (pairs without positions, no format file)
 * is rebuilt from its stored data when a writer opens it: a phrase then
 * finds its records, and an unreadable one is kept as it was. */
static void test_format(void)
{
    char zDir[] = "/tmp/test_index_fmt_XXXXXX", zPath[256], zErr[256];
    int replaced;
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts o = {1, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    idx_index_close(pIdx);
    snprintf(zPath, sizeof zPath, "%s/format", zDir);
    CHECK_INT(unlink(zPath), 0);
    xw_wdb *pW = NULL;
    snprintf(zPath, sizeof zPath, "%s/shard-0", zDir);
    CHECK_INT(xw_wdb_open(zPath, &pW, zErr, sizeof zErr), PS_OK);
    static const char *const azData[] = {
        "{\"r\":{\"code\":\"Z031-WS·2017-Y-0071\",\"title\":\"旧格式\",\"year\":2017},\"p\":{\"1\":{\"text\":\"开展精准扶贫工作\"}}}",
        "{\"r\":{\"code\":\"Z031-WS·2017-Y-0072\",\"title\":"};
    for (int i = 0; i < 2; i++) {
        xw_doc *pDoc = xw_doc_new();
        char zId[64];
        snprintf(zId, sizeof zId, IDX_PFX_ID "Z031-WS·2017-Y-007%d", i + 1);
        xw_doc_set_data(pDoc, azData[i], strlen(azData[i]));
        xw_doc_add_term(pDoc, "扶贫", strlen("扶贫"), 1);
        CHECK_INT(xw_doc_add_boolean(pDoc, zId), PS_OK);
        CHECK_INT(xw_wdb_replace(pW, zId, pDoc, &replaced, zErr, sizeof zErr), PS_OK);
        xw_doc_free(pDoc);
    }
    CHECK_INT(xw_wdb_commit(pW, zErr, sizeof zErr), PS_OK);
    xw_wdb_close(pW);
    /* read-only, it is refused: only a writer rebuilds */
    idx_index_opts ro = {1, 1000, 1, 50};
    CHECK_INT(idx_index_open(zDir, &ro, &pIdx, zErr, sizeof zErr), PS_CONFIG);
    CHECK(strstr(zErr, "重建") != NULL);
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes(search("\"精准扶贫工作\"")), "71");
    CHECK_STR(codes(search("题名:旧格式")), "71");
    json_t *pAll = search("扶贫");
    CHECK_INT(json_integer_value(json_object_get(pAll, "total")), 2); /* the damaged one, as it was */
    json_decref(pAll);
    idx_index_close(pIdx);
    char *z = NULL;
    size_t n = 0;
    snprintf(zPath, sizeof zPath, "%s/format", zDir);
    CHECK_INT(idx_file_read(zPath, 64, &z, &n, zErr, sizeof zErr), PS_OK);
    CHECK_STR(z, "2\n");
    px_free(z);
    px_test_rmdir(zDir);
}

/* Compaction: refused while the index is open; afterwards smaller, and
 * every search answers as before. */
static void line_cb(void *ctx, const char *z)
{
    (*(int *)ctx)++;
    CHECK(strstr(z, "MB") != NULL);
}

static void test_compact(void)
{
    char zDir[] = "/tmp/test_index_cmp_XXXXXX", zErr[256], zCode[64], zText[256];
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts o = {2, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    for (int i = 0; i < 300; i++) {
        snprintf(zCode, sizeof zCode, "Z031-WS·2017-Y-%04d", i + 1);
        snprintf(zText, sizeof zText, "第%d件：开展精准扶贫工作，落实帮扶措施%s。", i, i % 3 ? "到户" : "到村");
        put(zCode, "扶贫工作记录", "20170101", zText, NULL);
    }
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_compact(zDir, NULL, NULL, zErr, sizeof zErr), PS_CONFLICT);
    idx_index_close(pIdx);
    int nLines = 0;
    CHECK_INT(idx_index_compact(zDir, line_cb, &nLines, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nLines, 2);
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    json_t *pOut = search("\"帮扶措施到村\"");
    CHECK_INT(json_integer_value(json_object_get(pOut, "total")), 100);
    json_decref(pOut);
    CHECK_STR(codes(search("\"第7件\"")), "08"); /* i = 7: the 8th */
    put("Z031-WS·2017-Y-0999", "压缩后写入", "20170101", "仍可写入", NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes(search("\"仍可写入\"")), "99");
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
}

int main(void)
{
    json_t *pOut;
    char zDir[] = "/tmp/test_index_XXXXXX";
    char zErr[256];
    int rc;
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts o = {2, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);

    put("Z031-WS·2017-Y-0001", "关于印发工作方案的通知", "20170305", "封面", "我们要开展精准扶\n贫工作，落实帮扶措施。");
    put("Z031-WS·2017-Y-0002", "会议纪要", "20170101", "坚持精准，扶贫到户。", NULL);
    put("Z031-WS·2016-D30-0003", "扶贫精准台账", "20160601", "贫扶准精", NULL);
    put("Z031-WS·2018-Y-0004", "精准扶贫工作总结", "20181231", NULL, NULL);
    put("Z031-KJ·2018-D10-0005", "项目验收报告", "20180704", "推进精准扶贪工作。", NULL);  /* 贫 misread */
    put("Z031-WS·2019-Y-0006", "哈哈", "20190101", "哈哈", NULL);
    put("Z031-WS·2019-Y-0007", "哈哈哈", "20190102", "哈哈哈", NULL);
    put("Z031-WS·2020-D10-0008", "GB2312编码说明", "20200101", "采用GB2312编码。文号12号", NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_count(pIdx), 8);

    /* A quoted phrase matches exactly the records containing it: across a
     * line break yes, across punctuation or scattered no. */
    CHECK_STR(sorted(codes(search("\"精准扶贫\""))), "01,04");
    CHECK_STR(sorted(codes(search("\"扶贫工作\""))), "01,04");  /* 04 by its title */
    CHECK_STR(codes(search("\"哈哈哈\"")), "07");
    CHECK_STR(sorted(codes(search("\"哈哈\""))), "06,07");
    CHECK_STR(codes(search("\"gb2312编码\"")), "08");
    CHECK_STR(codes(search("\"2312编码\"")), "");
    CHECK_STR(codes(search("\"12号\"")), "08");
    CHECK_STR(codes(search("\"文号12\"")), "08");
    CHECK_STR(codes(search("\"号12\"")), "08");

    /* An unquoted run: exact matches first, then the near ones. */
    CHECK_STR(sorted(codes(search("精准扶贫工作"))), "-05,01,04");
    pOut = search("精准扶贫工作");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(pOut, "hits"), 2), "code")), "Z031-KJ·2018-D10-0005");
    CHECK(json_is_false(json_object_get(json_array_get(json_object_get(pOut, "hits"), 2), "exact")));
    CHECK_INT(json_integer_value(json_object_get(pOut, "total")), 3);
    json_decref(pOut);
    CHECK_STR(sorted(codes(search("\"精准扶贫工作\""))), "01,04");
    CHECK_STR(codes(search("精准")), codes(search("\"精准\"")));

    /* Phrases under NOT and OR are checked exactly too: 02 and 03 hold the
     * characters of 精准扶贫 but not the phrase. */
    CHECK_STR(sorted(codes(search("精准 NOT \"精准扶贫\""))), "02,03,05");
    CHECK_STR(sorted(codes(search("精准 -\"精准扶贫\""))), "02,03,05");
    CHECK_STR(sorted(codes(search("\"坚持精准\" OR \"扶贫工作\""))), "01,02,04");
    CHECK_STR(sorted(codes(search("题名:\"扶贫精准\""))), "03");
    CHECK_STR(codes(search("题名:\"精准扶贫\" 年度:2017")), "");
    CHECK_STR(sorted(codes(search("(\"精准扶贫\" OR 年度:2016) 门类:WS 保管期限:Y"))), "01,04");

    /* Fields, boolean operators, filters. */
    CHECK_STR(codes(search("题名:精准")), "03,04");
    CHECK_STR(sorted(codes(search("精准 NOT 题名:总结"))), "01,02,03,05");
    CHECK_STR(sorted(codes(search("\"哈哈哈\" OR 编码"))), "07,08");
    CHECK_STR(sorted(codes(search("年度:2018"))), "04,05");
    CHECK_STR(sorted(codes(search("年度:2016..2017"))), "01,02,03");
    CHECK_STR(sorted(codes(search("保管期限:30年"))), "03");
    CHECK_STR(sorted(codes(search("门类:KJ"))), "05");
    CHECK_STR(codes(search("档号:Z031-WS.2019-Y-0007")), "07");

    idx_search_req q;
    memset(&q, 0, sizeof q);
    q.zQuery = "精准";
    q.azFilter[IDX_F_YEAR][0] = "2017";
    q.azFilter[IDX_F_YEAR][1] = "2018";
    q.anFilter[IDX_F_YEAR] = 2;
    CHECK_STR(sorted(codes(search_req(&q))), "01,02,04,05");
    memset(&q, 0, sizeof q);
    q.zYearFrom = "2019";
    q.sort = IDX_SORT_DATE_DESC;
    CHECK_STR(codes(search_req(&q)), "08,07,06");
    q.sort = IDX_SORT_DATE;
    CHECK_STR(codes(search_req(&q)), "06,07,08");
    q.offset = 1;
    q.limit = 1;
    pOut = search_req(&q);
    CHECK_INT(json_integer_value(json_object_get(pOut, "total")), 3);
    CHECK_STR(codes(pOut), "07");

    /* Pages, snippet, facets of one answer. */
    pOut = search("\"精准扶贫\"");
    json_t *pFacets = json_object_get(pOut, "facets");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(pFacets, "year"), "2017")), 1);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(pFacets, "year"), "2018")), 1);
    CHECK(json_is_true(json_object_get(pOut, "facets_complete")));
    json_t *pHits = json_object_get(pOut, "hits");
    for (size_t i = 0; i < json_array_size(pHits); i++) {
        json_t *h = json_array_get(pHits, i);
        const char *zCode = json_string_value(json_object_get(h, "code"));
        json_t *pPages = json_object_get(h, "pages");
        if (strcmp(zCode, "Z031-WS·2017-Y-0001") == 0) {
            CHECK_INT(json_array_size(pPages), 1);
            CHECK_INT(json_integer_value(json_array_get(pPages, 0)), 2);
            CHECK_CONTAINS(json_string_value(json_object_get(h, "snippet")), "<mark>精准扶 贫</mark>工作");
            CHECK_STR(json_string_value(json_object_get(h, "location")), "1号库-3列");
        } else {
            CHECK_INT(json_array_size(pPages), 0);  /* title hit */
            CHECK_CONTAINS(json_string_value(json_object_get(h, "snippet")), "<mark>精准扶贫</mark>");
        }
    }
    json_decref(pOut);
    pOut = search("精准扶贫工作");
    json_t *pNear = json_array_get(json_object_get(pOut, "hits"), 2);
    CHECK_CONTAINS(json_string_value(json_object_get(pNear, "snippet")), "<mark>精准</mark>");
    CHECK_INT(json_integer_value(json_array_get(json_object_get(pNear, "pages"), 0)), 1);
    json_decref(pOut);
    pOut = search("\"《》\"");
    CHECK_INT(json_integer_value(json_object_get(pOut, "total")), 8);  /* punctuation only: all */
    json_decref(pOut);

    /* A bad query says where. */
    const char *zParam;
    unsigned off;
    memset(&q, 0, sizeof q);
    q.zQuery = "扶贫 (脱贫";
    pOut = NULL;
    CHECK_INT(idx_search(pIdx, &q, &pOut, &zParam, &off, zErr, sizeof zErr), PS_BAD_QUERY);
    CHECK_STR(zParam, "q");
    CHECK_INT(off, 4);

    /* Re-importing the catalog row replaces it and keeps its page texts. */
    put("Z031-WS·2017-Y-0001", "关于印发工作方案的通知（修订）", "20170306", NULL, NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_count(pIdx), 8);
    CHECK_STR(sorted(codes(search("\"精准扶贫\""))), "01,04");
    json_t *pData = idx_index_get(pIdx, "Z031-WS·2017-Y-0001", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "date")), "20170306");
    CHECK(json_object_get(json_object_get(pData, "p"), "2") != NULL);
    json_decref(pData);

    /* Pages: replace one, a missing record is refused. */
    json_t *pPage = json_pack("{s:s,s:f}", "text", "新的第二页：易地扶贫搬迁", "confidence", 91.5);
    int replaced = 0;
    CHECK_INT(idx_index_put_page(pIdx, "Z031-WS·2017-Y-0001", 2, pPage, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    CHECK(replaced);
    CHECK_INT(idx_index_put_page(pIdx, "Z031-WS·2017-Y-0999", 1, pPage, NULL, &replaced, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(idx_index_put_page(pIdx, "Z031-WS·2017-Y-0001", 0, pPage, NULL, &replaced, zErr, sizeof zErr), PS_INVALID);
    json_decref(pPage);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes(search("\"易地扶贫搬迁\"")), "01");
    CHECK_STR(sorted(codes(search("\"精准扶贫\""))), "04");

    /* Left uncommitted, a write becomes visible once the writes stop. */
    put("Z031-WS·2020-Y-0099", "延迟提交的记录", "20200101", NULL, NULL);
    CHECK_INT(idx_index_count(pIdx), 8);
    for (int i = 0; i < 100 && idx_index_count(pIdx) == 8; i++) usleep(20000);
    CHECK_INT(idx_index_count(pIdx), 9);
    CHECK_INT(idx_index_delete(pIdx, "Z031-WS·2020-Y-0099", NULL, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);

    CHECK_INT(idx_index_delete(pIdx, "Z031-WS·2019-Y-0006", NULL, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_delete(pIdx, "Z031-WS·2019-Y-0006", NULL, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes(search("\"哈哈\"")), "07");

    /* A word over Xapian's term limit (OCR noise, a long digit run) in the
     * text or the title is indexed, cut; the whole word finds its record,
     * its beginning does not (a word matches whole). */
    char zLong[301], zDigits[301], zTitle[400], zText[1200];
    memset(zLong, 'l', 300);
    zLong[300] = 0;
    memset(zDigits, '7', 300);
    zDigits[300] = 0;
    snprintf(zTitle, sizeof zTitle, "长词%s", zLong);
    snprintf(zText, sizeof zText, "OCR噪声 %s 数字%s 户主110101 19900307 1233，电话138 1234 5678", zLong, zDigits);
    put("Z031-WS·2021-Y-0291", zTitle, "20210101", zText, NULL);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes(search(zLong)), "91");
    CHECK_STR(codes(search(zDigits)), "91");
    char zQ[400];
    snprintf(zQ, sizeof zQ, "题名:%s", zLong);
    CHECK_STR(codes(search(zQ)), "91");
    snprintf(zQ, sizeof zQ, "%.200s", zLong);
    CHECK_STR(codes(search(zQ)), "");
    snprintf(zQ, sizeof zQ, "%.240s", zLong); /* the term itself: the form tells the words apart */
    CHECK_STR(codes(search(zQ)), "");
    /* A number written with separators is one word: found whole, in any
     * notation, never by its hidden part. */
    CHECK_STR(codes(search("110101199003071233")), "91");
    CHECK_STR(codes(search("110101 19900307 1233")), "91");
    CHECK_STR(codes(search("\"110101-19900307-1233\"")), "91");
    CHECK_STR(codes(search("１１０１０１１９９００３０７１２３３")), "91");
    CHECK_STR(codes(search("19900307")), "");
    CHECK_STR(codes(search("13812345678")), "91");
    CHECK_STR(codes(search("1234")), "");
    CHECK_INT(idx_index_delete(pIdx, "Z031-WS·2021-Y-0291", NULL, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    idx_index_close(pIdx);

    /* The shard count is fixed at creation; read-only opening sees the data. */
    o.nShard = 3;
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_CONFIG);
    CHECK_CONTAINS(zErr, "有 2 个分片，不能按 3 个分片打开");
    o.nShard = 0;
    o.readOnly = 1;
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_count(pIdx), 7);
    CHECK_STR(codes(search("\"易地扶贫搬迁\"")), "01");
    idx_index_close(pIdx);

    px_test_rmdir(zDir);
    test_damaged();
    test_format();
    test_compact();
    return px_test_done();
}
