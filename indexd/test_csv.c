/* Unit tests of catalog import: encodings, headers, bad rows, replacing. */
#include "idx_csv.h"
#include "idx_search.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static idx_index *pIdx;

static char *to_enc(const char *zEnc, const char *z, size_t *pn)
{
    iconv_t cd = iconv_open(zEnc, "UTF-8");
    size_t nIn = strlen(z), nOut = nIn * 4 + 8;
    char *zOut = malloc(nOut), *pIn = (char *)z, *pOut = zOut;
    iconv(cd, &pIn, &nIn, &pOut, &nOut);
    iconv_close(cd);
    *pn = (size_t)(pOut - zOut);
    return zOut;
}

static json_t *import(const char *z, size_t n, int *pRc, long *pLine, char *zErr)
{
    json_t *pOut = NULL;
    *pRc = idx_csv_import(pIdx, z, n, 1, NULL, &pOut, pLine, zErr, 512);
    return pOut;
}

static long num(json_t *o, const char *zKey) { return (long)json_integer_value(json_object_get(o, zKey)); }

static json_t *item(json_t *o, const char *zList, size_t i) { return json_array_get(json_object_get(o, zList), i); }

int main(void)
{
    char zDir[] = "/tmp/test_csv_XXXXXX";
    char zErr[512];
    long line;
    int rc;
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts o = {2, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr), PS_OK);

    const char *zCsv =
        "\xEF\xBB\xBF档号,*题名,责任者,文件编号,日期,页数,密级,机构(问题),存放位置,备注\r\n"
        "Z031-WS·2017-Y-BGS-0001,关于开展精准扶贫工作的通知,县扶贫办,扶办发〔2017〕1号,20170305,3,,BGS,1号库-3列-2节-4层-015盒,\r\n"
        "Z031-WS·2017-Y-BGS-0002,\"贫困户脱贫审核表，\n含附件\",县扶贫办,,20170306,2,,,,\r\n"
        "Z031-WS·2017-Y-BGS-0003,日期错了,县扶贫办,,2017-03-07,1,,,,\r\n"
        ",,,,,,,,,\r\n"
        "Z031-WS·2017-Y-BGS-004,件号错了,县扶贫办,,20170308,1,,,,\r\n"
        "Z031-WS·2017-Y-BGS-0005,没有责任者,,,20170309,1,,,,\r\n"
        "Z031-WS·2017-Y-BGS-0006,机构不符,县扶贫办,,20170309,1,,XYZ,,\r\n"
        "Z031-WS·2017-Y-BGS-0001,重复的行,县扶贫办,,20170305,3,,,,\r\n"
        "Z031-WS·2017-Y-BGS-0007,多了字段,县扶贫办,,20170305,3,,,,,额外\r\n"
        "Z031-WS·2017-Y-BGS-0008,最后一行没有换行,县扶贫办,,20170310,1,秘密,,,";
    json_t *r = import(zCsv, strlen(zCsv), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "encoding")), "utf-8-bom");
    CHECK_INT(num(r, "imported"), 4);  /* 0001, 0002, 0005, 0008 */
    CHECK_INT(num(r, "replaced"), 0);
    CHECK_INT(num(r, "rejected_count"), 4);
    /* The good rows listed, a repeated 档号 on each of its lines. */
    CHECK_INT(json_array_size(json_object_get(r, "records")), 5);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 0), "code")), "Z031-WS·2017-Y-BGS-0001");
    CHECK_INT(num(item(r, "records", 0), "pages"), 3);
    CHECK_INT(num(item(r, "records", 0), "line"), 2);
    CHECK_INT(num(item(r, "records", 3), "line"), 10);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 4), "code")), "Z031-WS·2017-Y-BGS-0008");
    CHECK_INT(num(item(r, "rejected", 0), "line"), 5);  /* the quoted field spans lines 3-4 */
    CHECK_STR(json_string_value(json_object_get(item(r, "rejected", 0), "key")), "date");
    CHECK_INT(num(item(r, "rejected", 1), "line"), 7);
    CHECK_STR(json_string_value(json_object_get(item(r, "rejected", 1), "field")), "档号");
    CHECK_INT(num(item(r, "rejected", 2), "line"), 9);
    CHECK_STR(json_string_value(json_object_get(item(r, "rejected", 2), "key")), "org");
    CHECK_INT(num(item(r, "rejected", 3), "line"), 11);
    CHECK_CONTAINS(json_string_value(json_object_get(item(r, "rejected", 3), "reason")), "has 11 fields but the header has 10");
    CHECK_INT(num(r, "warnings_count"), 2);
    CHECK_INT(num(item(r, "warnings", 0), "line"), 8);
    CHECK_STR(json_string_value(json_object_get(item(r, "warnings", 0), "key")), "author");
    CHECK_INT(num(item(r, "warnings", 1), "line"), 10);
    CHECK_CONTAINS(json_string_value(json_object_get(item(r, "warnings", 1), "reason")), "already on line 2");
    json_decref(r);
    CHECK_INT(idx_index_count(pIdx), 4);
    json_t *pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0001", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "重复的行");
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "doc_no")), "");
    json_decref(pData);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "贫困户脱贫审核表，\n含附件");
    json_decref(pData);

    /* GB18030, headers in English, the same records: replaced, no duplicates. */
    const char *zGb = "code,title,author,date\n"
                      "Z031-WS·2017-Y-BGS-0002,贫困户脱贫审核表（GB18030）,县扶贫办,20170306\n"
                      "Z031-WS·2017-Y-BGS-0009,新增记录,乡政府,20170401\n";
    size_t n;
    char *z = to_enc("GB18030", zGb, &n);
    r = import(z, n, &rc, &line, zErr);
    free(z);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "encoding")), "gb18030");
    CHECK_INT(num(r, "imported"), 2);
    CHECK_INT(num(r, "replaced"), 1);
    json_decref(r);
    CHECK_INT(idx_index_count(pIdx), 5);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "贫困户脱贫审核表（GB18030）");
    json_decref(pData);

    /* UTF-16 with BOM (some spreadsheet exports), 档号 made from its parts. */
    const char *zParts = "\xEF\xBB\xBF全宗号,门类,年度,保管期限,机构,件号,题名\n"
                         "Z032,KJ,2018,30年,,12,项目档案\n";
    z = to_enc("UTF-16", zParts, &n);
    r = import(z, n, &rc, &line, zErr);
    free(z);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "encoding")), "utf-16");
    CHECK_INT(num(r, "imported"), 1);
    json_decref(r);
    pData = idx_index_get(pIdx, "Z032-KJ·2018-D30-0012", &rc, zErr, sizeof zErr);
    CHECK(pData != NULL);
    json_decref(pData);

    /* Files that can't be read at all. */
    const char *zBad = "档号,题名\nZ031-WS·2017-Y-0001,\xFF\xFF\xFF\n";
    r = import(zBad, strlen(zBad), &rc, &line, zErr);
    CHECK_INT(rc, PS_ENCODING);
    CHECK_CONTAINS(zErr, "line 2");
    const char *zBomBad = "\xEF\xBB\xBF档号,题名\nZ031-WS·2017-Y-0001,\xB7\xF6\n";
    r = import(zBomBad, strlen(zBomBad), &rc, &line, zErr);
    CHECK_INT(rc, PS_ENCODING);
    CHECK_CONTAINS(zErr, "UTF-8 BOM but line 2");
    const char *zNoCode = "题名,日期\n通知,20170101\n";
    r = import(zNoCode, strlen(zNoCode), &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_CONTAINS(zErr, "no 档号 column");
    r = import("", 0, &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_CONTAINS(zErr, "empty");
    CHECK_INT(idx_index_count(pIdx), 6);

    /* Running out of memory at any point fails cleanly. */
    for (long k = 1; k < 200; k += 7) {
        json_t *pOut = NULL;
        px_fail_after(k);
        rc = idx_csv_import(pIdx, zGb, strlen(zGb), 1, NULL, &pOut, &line, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM || rc == PS_INDEX);
        json_decref(pOut);
    }
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
