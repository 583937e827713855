/* Unit tests of catalog import: encodings, headers, bad rows, replacing,
 * wide headers, unterminated quotes, control characters, rows the index
 * refuses, and the hook that may refuse rows before they are written. */
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

static int gFlags = IDX_CSV_LIST; /* IDX_CSV_REPLACE added where a test replaces */

static json_t *import(const char *z, size_t n, int *pRc, long *pLine, char *zErr)
{
    json_t *pOut = NULL;
    *pRc = idx_csv_import(pIdx, z, n, gFlags, NULL, &pOut, pLine, zErr, 512);
    return pOut;
}

static long num(json_t *o, const char *zKey) { return (long)json_integer_value(json_object_get(o, zKey)); }

static json_t *item(json_t *o, const char *zList, size_t i) { return json_array_get(json_object_get(o, zList), i); }

static const char *str(json_t *o, const char *zKey) { return json_string_value(json_object_get(o, zKey)); }
/* The finding of rule zRule on line `line` of an import's answer, or NULL. */
static json_t *finding(json_t *r, long line, const char *zRule)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(r, "findings"), i, x)
        if (json_integer_value(json_object_get(x, "line")) == line && strcmp(json_string_value(json_object_get(x, "rule")), zRule) == 0)
            return x;
    return NULL;
}

/* The stored record's field zKey, or NULL when the record is absent. */
static char *stored(const char *zCode, const char *zKey)
{
    int rc;
    char zErr[256];
    json_t *pData = idx_index_get(pIdx, zCode, &rc, zErr, sizeof zErr);
    const char *z = json_string_value(json_object_get(json_object_get(pData, "r"), zKey));
    char *zOut = z ? strdup(z) : NULL;
    json_decref(pData);
    return zOut;
}

static int present(const char *zCode)
{
    char *z = stored(zCode, "code");
    free(z);
    return z != NULL;
}

/* L3: a header wider than 256 columns is read up to its 256th column, with
 * one warning; what lies beyond is neither read nor taken. */
static void test_wide_header(void)
{
    char *z = malloc(64 * 1024), *w = z;
    int rc;
    long line;
    char zErr[512];
    w += sprintf(w, "档号,题名,责任者,日期,页数");
    for (int i = 6; i <= 300; i++) w += sprintf(w, ",%s", i == 258 ? "全宗号" : i == 260 ? "档号" : "");
    w += sprintf(w, "\n");
    /* column 65 (no name) and 258 (全宗号 beyond the 256th) hold a wrong 全宗号 */
    for (int row = 1; row <= 2; row++) {
        w += sprintf(w, "Z041-WS·2019-Y-WID-%04d,宽表%d,县扶贫办,20190101,1", row, row);
        for (int i = 6; i <= 300; i++) w += sprintf(w, ",%s", i == 65 || i == 258 ? "ZZZ9" : i == 260 ? "Z041-WS·2019-Y-WID-0099" : "");
        w += sprintf(w, "\n");
    }
    /* data after the header's last column */
    w += sprintf(w, "Z041-WS·2019-Y-WID-0003,太宽,县扶贫办,20190101,1");
    for (int i = 6; i <= 301; i++) w += sprintf(w, ",%s", i == 301 ? "多余" : "");
    w += sprintf(w, "\n");
    json_t *r = import(z, (size_t)(w - z), &rc, &line, zErr);
    free(z);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 2);
    CHECK_INT(num(r, "rejected_count"), 1);
    CHECK_INT(num(item(r, "rejected", 0), "line"), 4);
    CHECK_CONTAINS(str(item(r, "rejected", 0), "reason"), "该行有 301 个字段，多于表头的 300 个");
    int nWide = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(r, "warnings")); i++) {
        const char *zWhy = str(item(r, "warnings", i), "reason");
        if (zWhy && strstr(zWhy, "第 256 列之后的列已忽略")) {
            nWide++;
            CHECK_INT(num(item(r, "warnings", i), "line"), 1);
            CHECK_CONTAINS(zWhy, "表头有 300 列");
        }
    }
    CHECK_INT(nWide, 1);
    json_decref(r);
    char *zFonds = stored("Z041-WS·2019-Y-WID-0001", "fonds");
    CHECK_STR(zFonds, "Z041");
    free(zFonds);
    CHECK(!present("Z041-WS·2019-Y-WID-0099"));
}

/* L4 (a): a quote left open does not swallow the rows after it; a field
 * that legitimately spans lines still reads. */
static void test_quotes(void)
{
    int rc;
    long line;
    char zErr[512];
    const char *zCsv =
        "档号,题名,责任者,日期,页数,备注\n"
        "Z042-WS·2019-Y-CSV-0001,正常,县扶贫办,20190101,1,\n"
        "Z042-WS·2019-Y-CSV-0002,\"unterminated,x,20190101,1,\n"          /* line 3 */
        "Z042-WS·2019-Y-CSV-0003,ok,县扶贫办,20190101,1,\n"
        "Z042-WS·2019-Y-CSV-0004,多段备注,县扶贫办,20190101,2,\"第一段\n"  /* line 5 */
        "第二段，含逗号,和\"\"引号\"\",\n"
        "Z042-WS·2019-Y-CSV-0009 同卷\n"
        "第三段\"\n"
        "Z042-WS·2019-Y-CSV-0005,\"两行\n题名\",县扶贫办,20190101,1,\"又一个\n"  /* line 9 */
        "Z042-WS·2019-Y-CSV-0006,ok,县扶贫办,20190101,1,\n"                /* line 11 */
        "Z042-WS·2019-Y-CSV-0007,\"到文件尾,县扶贫办,20190101,1,\n";       /* line 12 */
    json_t *r = import(zCsv, strlen(zCsv), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    /* every row names an item: each is kept, the open quote read as a
     * plain character and listed as the row's finding */
    CHECK_INT(num(r, "imported"), 7);
    CHECK_INT(num(r, "rejected_count"), 0);
    json_t *x = finding(r, 3, "unclosed_quote");
    CHECK(x != NULL);
    CHECK_STR(str(x, "field"), "题名");
    CHECK_STR(str(x, "severity"), "warning");
    CHECK_STR(str(x, "written"), "\"unterminated,x,20190101,1,");
    CHECK_STR(str(x, "understood"), "unterminated");
    CHECK_CONTAINS(str(x, "reason"), "第 3 行“题名”开头的引号没有闭合");
    x = finding(r, 9, "unclosed_quote");
    CHECK(x != NULL);
    CHECK_STR(str(x, "field"), "备注");
    CHECK_CONTAINS(str(x, "reason"), "第 10 行“备注”开头的引号没有闭合");
    x = finding(r, 12, "unclosed_quote");
    CHECK(x != NULL);
    CHECK_STR(str(x, "understood"), "到文件尾");
    CHECK(finding(r, 11, "unclosed_quote") == NULL);
    json_decref(r);
    CHECK(present("Z042-WS·2019-Y-CSV-0003"));
    CHECK(present("Z042-WS·2019-Y-CSV-0006"));
    char *zT = stored("Z042-WS·2019-Y-CSV-0002", "title");
    CHECK_STR(zT, "unterminated");
    free(zT);
    zT = stored("Z042-WS·2019-Y-CSV-0002", "author");
    CHECK_STR(zT, "x");
    free(zT);
    zT = stored("Z042-WS·2019-Y-CSV-0005", "title");
    CHECK_STR(zT, "两行\n题名");
    free(zT);
    zT = stored("Z042-WS·2019-Y-CSV-0005", "note");
    CHECK_STR(zT, "又一个");
    free(zT);
    zT = stored("Z042-WS·2019-Y-CSV-0007", "author");
    CHECK_STR(zT, "县扶贫办");
    free(zT);
    char *zNote = stored("Z042-WS·2019-Y-CSV-0004", "note");
    CHECK_STR(zNote, "第一段\n第二段，含逗号,和\"引号\",\nZ042-WS·2019-Y-CSV-0009 同卷\n第三段");
    free(zNote);
    CHECK(!present("Z042-WS·2019-Y-CSV-0009"));

    /* lines ended by CR alone (spreadsheets on old Macs) are counted too */
    const char *zCr = "档号,题名,责任者,日期\rZ042-WS·2019-Y-CSV-0010,甲,县扶贫办,20190101\r"
                      "Z042-WS·2019-Y-CSV-0011,乙,县扶贫办,2019-01-01\r";
    r = import(zCr, strlen(zCr), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 2); /* the date as people write it is read, and recorded */
    CHECK(finding(r, 3, "date_form") != NULL);
    json_decref(r);
}

/* L4 (b, c): two BOMs; UTF-16 without a BOM, either byte order. */
static void test_encodings(void)
{
    int rc;
    long line;
    char zErr[512];
    const char *zTwo = "\xEF\xBB\xBF\xEF\xBB\xBF档号,题名,责任者,日期\nZ043-WS·2019-Y-ENC-0001,两个BOM,县扶贫办,20190101\n";
    json_t *r = import(zTwo, strlen(zTwo), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(str(r, "encoding"), "utf-8-bom");
    CHECK_INT(num(r, "imported"), 1);
    json_decref(r);
    static const struct { const char *zEnc, *zName, *zCode; } a[] = {
        {"UTF-16LE", "utf-16le", "Z043-WS·2019-Y-ENC-0002"},
        {"UTF-16BE", "utf-16be", "Z043-WS·2019-Y-ENC-0003"},
    };
    for (int i = 0; i < 2; i++) {
        char zCsv[512];
        size_t n;
        snprintf(zCsv, sizeof zCsv, "档号,题名,责任者,日期\r\n%s,无BOM的%s,县扶贫办,20190101\r\n", a[i].zCode, a[i].zEnc);
        char *z = to_enc(a[i].zEnc, zCsv, &n);
        r = import(z, n, &rc, &line, zErr);
        free(z);
        CHECK_INT(rc, PS_OK);
        CHECK_STR(str(r, "encoding"), a[i].zName);
        CHECK_INT(num(r, "imported"), 1);
        json_decref(r);
        char *zTitle = stored(a[i].zCode, "title");
        snprintf(zCsv, sizeof zCsv, "无BOM的%s", a[i].zEnc);
        CHECK_STR(zTitle, zCsv);
        free(zTitle);
    }
}

static int nScanNull, nScanRows;
static char zScanTitle[64];

static int scan_row(void *ctx, long line, const proto_record *r, int nFields)
{
    (void)ctx;
    (void)line;
    (void)nFields;
    nScanRows++;
    if (!r) nScanNull++;
    else if (r->az[PF_TITLE]) snprintf(zScanTitle, sizeof zScanTitle, "%s", r->az[PF_TITLE]);
    return 0;
}

/* H3: a NUL or another control character in a cell is removed, with a
 * finding that names the column; the row is kept, nothing else is cut
 * short.  TAB, LF and CR stay. */
static void test_control_chars(void)
{
    int rc;
    long line;
    char zErr[512];
    static const char zCsv[] =
        "档号,题名,责任者,日期,备注\n"
        "Z044-WS·2019-Y-NUL-0001,NUL\0标题,县扶贫办,20190101,\n"
        "Z044-WS·2019-Y-NUL-0002,正常,县\x01扶贫办,20190101,\n"
        "Z044-WS·2019-Y-NUL-0003,正常,县扶贫办,20190101,删除\x7F符\n"
        "Z044-WS·2019-Y-NUL-0004,制表\t符,县扶贫办,20190101,\"回车\r\n换行\"\n"
        "Z044-WS·2019-Y-NUL-0005,正常,县扶贫办,20190101,\n";
    json_t *r = import(zCsv, sizeof zCsv - 1, &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 5);
    CHECK_INT(num(r, "rejected_count"), 0);
    const char *azField[] = {"题名", "责任者", "备注"};
    for (int k = 0; k < 3; k++) {
        json_t *f = finding(r, k + 2, "control");
        CHECK(f && strcmp(str(f, "field"), azField[k]) == 0);
    }
    json_decref(r);
    char *zTitle = stored("Z044-WS·2019-Y-NUL-0001", "title");
    CHECK_STR(zTitle, "NUL标题"); /* not cut at the NUL */
    free(zTitle);
    zTitle = stored("Z044-WS·2019-Y-NUL-0004", "title");
    CHECK_STR(zTitle, "制表\t符");
    free(zTitle);
    char *zNote = stored("Z044-WS·2019-Y-NUL-0004", "note");
    CHECK_STR(zNote, "回车\r\n换行");
    free(zNote);

    /* The audit's scan hands such a row on whole: its NUL is a control
     * character the audit lists, never a cut */
    json_t *pRes = NULL;
    nScanNull = nScanRows = 0;
    zScanTitle[0] = 0;
    static const char zOne[] = "档号,题名\nZ044-WS·2019-Y-NUL-0006,截断\0之后\n";
    CHECK_INT(idx_csv_scan(zOne, sizeof zOne - 1, scan_row, NULL, &pRes, &line, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanRows, 1);
    CHECK_INT(nScanNull, 0);
    CHECK_STR(zScanTitle, "截断\x1A之后");
    CHECK_INT(num(pRes, "rejected_count"), 0);
    json_decref(pRes);
}

/* M5: a row the index refuses is rejected with its own line, the others are
 * written and counted; an error of the index as a whole (here: memory)
 * stops the import and says how many rows were written before it. */
static void test_index_refusal(void)
{
    int rc;
    long line;
    char zErr[512], zLong[400];
    char zCsv[2048];
    memset(zLong, 'l', 300);
    zLong[300] = 0;
    snprintf(zCsv, sizeof zCsv,
             "档号,题名,责任者,日期\n"
             "Z045-WS·2019-Y-LNG-0001,正常一,县扶贫办,20190101\n"
             "Z045-WS·2019-Y-LNG-0002,正常二,县扶贫办,20190101\n"
             "Z045-WS·2019-Y-LNG-0003,OCR噪声 %s,县扶贫办,20190101\n"
             "Z045-WS·2019-Y-LNG-0004,正常四,县扶贫办,20190101\n"
             "Z045-WS·2019-Y-LNG-0005,正常五,县扶贫办,20190101\n", zLong);
    json_t *r = import(zCsv, strlen(zCsv), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    for (int i = 1; i <= 5; i++) {
        char zCode[64];
        snprintf(zCode, sizeof zCode, "Z045-WS·2019-Y-LNG-%04d", i);
        if (i != 3) CHECK(present(zCode));
    }
    if (present("Z045-WS·2019-Y-LNG-0003")) {
        /* an index that takes long words: the row is simply written */
        CHECK_INT(num(r, "imported"), 5);
        CHECK_INT(num(r, "rejected_count"), 0);
    } else {
        CHECK_INT(num(r, "imported"), 4);
        CHECK_INT(num(r, "rejected_count"), 1);
        CHECK_INT(num(item(r, "rejected", 0), "line"), 4);
        CHECK_CONTAINS(str(item(r, "rejected", 0), "reason"), "检索索引拒绝写入此行：");
        CHECK_CONTAINS(str(item(r, "rejected", 0), "reason"), "245");
        CHECK_INT(json_array_size(json_object_get(r, "records")), 4);
    }
    json_decref(r);

    /* Out of memory while writing: the import stops at that row and says how
     * many rows of the file were written, which is what the index holds. */
    int nStoppedAfterWrites = 0;
    for (long k = 1; k < 2000; k += 2) {
        char zFile[2048], *w = zFile;
        w += sprintf(w, "档号,题名,责任者,日期\n");
        for (int i = 1; i <= 6; i++) w += sprintf(w, "Z%03ld-WS·2019-Y-OOM-%04d,内存%d,县扶贫办,20190101\n", 100 + k, i, i);
        json_t *pOut = NULL;
        zErr[0] = 0;
        px_fail_after(k);
        rc = idx_csv_import(pIdx, zFile, (size_t)(w - zFile), 0, NULL, &pOut, &line, zErr, sizeof zErr);
        px_fail_reset();
        json_decref(pOut);
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        if (rc == PS_OK) break;  /* past the import's last allocation */
        const char *zN = strstr(zErr, "导入在此停止，此前已写入 ");
        if (rc != PS_NOMEM || !zN || strstr(zErr, "提交")) continue;
        zN += strlen("导入在此停止，此前已写入 ");
        CHECK(*zN >= '0' && *zN <= '9' && strstr(zN, " 行") != NULL);
        long nSaid = atol(zN);
        CHECK(idx_index_commit(pIdx, zErr, sizeof zErr) == PS_OK);
        long nHeld = 0;
        for (int i = 1; i <= 6; i++) {
            char zCode[64];
            snprintf(zCode, sizeof zCode, "Z%03ld-WS·2019-Y-OOM-%04d", 100 + k, i);
            nHeld += present(zCode);
        }
        CHECK_INT(nHeld, nSaid);
        CHECK(line >= 1 && line <= 7);  /* a line of the file */
        if (line >= 2) {                /* the row it stopped at is not written */
            char zCode[64];
            snprintf(zCode, sizeof zCode, "Z%03ld-WS·2019-Y-OOM-%04ld", 100 + k, line - 1);
            CHECK(!present(zCode));
        }
        nStoppedAfterWrites += nSaid > 0;
    }
    CHECK(nStoppedAfterWrites > 0);
}

/* C2: the writer's guard decides, row by row, under the index's lock. */
typedef struct {
    int nCalls;
    char zSeen[64];
} allow_ctx;

static int allow_row(void *ctx, const char *zCode, int bOld, const char *zOld, const char *zNew, char *zErr, size_t nErr)
{
    allow_ctx *c = ctx;
    (void)zOld;
    c->nCalls++;
    if (strcmp(zCode, "Z046-WS·2019-Y-ACC-0002") == 0) snprintf(c->zSeen, sizeof c->zSeen, "%s", zCode);
    if (zNew && strcmp(zNew, "机密") == 0) {
        snprintf(zErr, nErr, "密级“机密”高于您的查阅权限");
        return PS_FORBIDDEN;
    }
    if (bOld && strcmp(zCode, "Z046-WS·2019-Y-ACC-0009") == 0) {
        snprintf(zErr, nErr, "您无权写入此档案");
        return PS_NOT_FOUND;
    }
    return PS_OK;
}

static void test_allow_hook(void)
{
    int rc;
    long line;
    char zErr[512];
    const char *zFirst = "档号,题名,责任者,日期\nZ046-WS·2019-Y-ACC-0009,原有题名,县扶贫办,20190101\n";
    json_t *r = import(zFirst, strlen(zFirst), &rc, &line, zErr);
    CHECK_INT(num(r, "imported"), 1);
    json_decref(r);

    const char *zCsv =
        "档号,题名,责任者,日期,密级\n"
        "Z046-WS·2019-Y-ACC-0001,公开的,县扶贫办,20190101,公开\n"
        "Z046-WS.2019-Y-ACC-0002,机密的,县扶贫办,20190101,机密\n"
        "Z046-WS·2019-Y-ACC-0009,覆盖,县扶贫办,20190101,公开\n"
        "Z046-WS·2019-Y-ACC-0003,日期错,县扶贫办,2019-01-01,公开\n"
        "Z046-WS·2019-Y-ACC-0004,内部的,县扶贫办,20190101,内部\n";
    allow_ctx c = {0, ""};
    idx_guard g = {allow_row, &c, "li"};
    json_t *pOut = NULL;
    rc = idx_csv_import(pIdx, zCsv, strlen(zCsv), 1, &g, &pOut, &line, zErr, sizeof zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(c.nCalls, 5);  /* every row names an item (the date as written is read) */
    CHECK_STR(c.zSeen, "Z046-WS·2019-Y-ACC-0002");  /* canonical */
    CHECK_INT(num(pOut, "imported"), 3);
    CHECK_INT(num(pOut, "replaced"), 0);
    CHECK_INT(num(pOut, "rejected_count"), 2);
    /* the guard's refusals, when the batch is written */
    CHECK_INT(num(item(pOut, "rejected", 0), "line"), 3);
    CHECK_STR(str(item(pOut, "rejected", 0), "field"), "密级");
    CHECK_STR(str(item(pOut, "rejected", 0), "reason"), "密级“机密”高于您的查阅权限");
    CHECK_INT(num(item(pOut, "rejected", 1), "line"), 4);
    CHECK_STR(str(item(pOut, "rejected", 1), "field"), "");
    CHECK_STR(str(item(pOut, "rejected", 1), "reason"), "您无权写入此档案");
    CHECK_INT(json_array_size(json_object_get(pOut, "records")), 3);
    json_decref(pOut);
    CHECK(!present("Z046-WS·2019-Y-ACC-0002"));
    char *zTitle = stored("Z046-WS·2019-Y-ACC-0009", "title");
    CHECK_STR(zTitle, "原有题名");
    free(zTitle);
    CHECK(present("Z046-WS·2019-Y-ACC-0004"));
}

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
    /* every row that names an item is kept; what is irregular is listed */
    CHECK_INT(num(r, "imported"), 7);  /* 0001-0006, 0008 */
    CHECK_INT(num(r, "replaced"), 0);
    CHECK_INT(num(r, "rejected_count"), 1);
    /* The rows listed, a repeated 档号 on each of its lines. */
    CHECK_INT(json_array_size(json_object_get(r, "records")), 7);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 0), "code")), "Z031-WS·2017-Y-BGS-0001");
    CHECK_INT(num(item(r, "records", 0), "pages"), 3);
    CHECK_INT(num(item(r, "records", 0), "line"), 2);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 3), "code")), "Z031-WS·2017-Y-BGS-0004");
    CHECK_INT(num(item(r, "records", 3), "line"), 7);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 6), "code")), "Z031-WS·2017-Y-BGS-0008");
    /* line 10 differs from line 2, written before it: the row kept is the
     * first, the second is a conflict, field by field */
    CHECK_INT(num(r, "conflicts_count"), 1);
    json_t *pC = item(r, "conflicts", 0);
    CHECK_INT(num(pC, "line"), 10);
    CHECK_STR(str(item(pC, "fields", 0), "key"), "title");
    CHECK_STR(str(item(pC, "fields", 0), "kept"), "关于开展精准扶贫工作的通知");
    CHECK_STR(str(item(pC, "fields", 0), "offered"), "重复的行");
    json_t *x = finding(r, 5, "date_form"); /* the quoted field spans lines 3-4 */
    CHECK(x && strcmp(str(x, "written"), "2017-03-07") == 0 && strcmp(str(x, "understood"), "20170307") == 0);
    x = finding(r, 7, "code_form");
    CHECK(x && strcmp(str(x, "understood"), "Z031-WS·2017-Y-BGS-0004") == 0);
    x = finding(r, 8, "mandatory");
    CHECK(x && strcmp(str(x, "key"), "author") == 0);
    x = finding(r, 9, "code_parts");
    CHECK(x && strcmp(str(x, "key"), "org") == 0 && strcmp(str(x, "written"), "XYZ") == 0);
    CHECK_INT(num(r, "findings_count"), 4);
    CHECK_INT(num(item(r, "rejected", 0), "line"), 11);
    CHECK_CONTAINS(json_string_value(json_object_get(item(r, "rejected", 0), "reason")), "该行有 11 个字段，多于表头的 10 个");
    CHECK_INT(num(r, "warnings_count"), 1);
    CHECK_INT(num(item(r, "warnings", 0), "line"), 10);
    CHECK_CONTAINS(json_string_value(json_object_get(item(r, "warnings", 0), "reason")), "已见于本文件第 2 行");
    json_decref(r);
    CHECK_INT(idx_index_count(pIdx), 7);
    json_t *pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0001", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "关于开展精准扶贫工作的通知");
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "doc_no")), "扶办发〔2017〕1号");
    json_decref(pData);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "贫困户脱贫审核表，\n含附件");
    json_decref(pData);

    /* GB18030, headers in English, a record that differs: kept by default,
     * a conflict; replaced when asked, its old values in its history */
    const char *zGbKeep = "code,title,author,date\nZ031-WS·2017-Y-BGS-0002,另一个题名,县扶贫办,20170306\n";
    r = import(zGbKeep, strlen(zGbKeep), &rc, &line, zErr);
    CHECK_INT(num(r, "imported"), 0);
    CHECK_INT(num(r, "conflicts_count"), 1);
    json_decref(r);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    json_t *pBefore = json_deep_copy(json_object_get(pData, "r"));
    json_decref(pData);
    gFlags = IDX_CSV_LIST | IDX_CSV_REPLACE;
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
    CHECK_INT(idx_index_count(pIdx), 8);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "贫困户脱贫审核表（GB18030）");
    json_t *pH = json_array_get(json_object_get(pData, "h"), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pH, "old"), "title")), "贫困户脱贫审核表，\n含附件");
    CHECK_STR(json_string_value(json_object_get(pH, "source")), "目录导入（替换）");
    CHECK(json_string_value(json_object_get(pH, "at")) != NULL);
    /* what this catalog has no column for stays as the archive holds it */
    const char *zK;
    json_t *pV;
    int nKept = 0;
    json_object_foreach(pBefore, zK, pV) {
        if (strcmp(zK, "title") == 0 || strcmp(zK, "date") == 0 || strcmp(zK, "author") == 0) continue;
        CHECK(json_equal(pV, json_object_get(json_object_get(pData, "r"), zK)));
        nKept++;
    }
    CHECK(nKept >= 8);
    CHECK(json_integer_value(json_object_get(json_object_get(pData, "r"), "pages")) > 0);
    json_decref(pBefore);
    json_decref(pData);
    /* the same rows again change nothing: imported, none replaced */
    z = to_enc("GB18030", zGb, &n);
    r = import(z, n, &rc, &line, zErr);
    free(z);
    CHECK_INT(num(r, "imported"), 2);
    CHECK_INT(num(r, "replaced"), 0);
    json_decref(r);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_INT(json_array_size(json_object_get(pData, "h")), 1);
    json_decref(pData);
    gFlags = IDX_CSV_LIST;

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
    CHECK_CONTAINS(zErr, "第 2 行既不是 UTF-8 也不是 GB18030 编码（第 ");
    const char *zBomBad = "\xEF\xBB\xBF档号,题名\nZ031-WS·2017-Y-0001,\xB7\xF6\n";
    r = import(zBomBad, strlen(zBomBad), &rc, &line, zErr);
    CHECK_INT(rc, PS_ENCODING);
    CHECK_STR(zErr, "文件以 UTF-8 BOM 开头，但第 2 行不是 UTF-8");
    const char *zNoCode = "题名,日期\n通知,20170101\n";
    r = import(zNoCode, strlen(zNoCode), &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_CONTAINS(zErr, "目录没有档号列（也没有可组成档号的全宗号、门类、年度、保管期限、件号列）");
    r = import("", 0, &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_STR(zErr, "目录为空：没有表头行");
    CHECK_INT(idx_index_count(pIdx), 9);

    /* Running out of memory at any point fails cleanly. */
    for (long k = 1; k < 200; k += 7) {
        json_t *pOut = NULL;
        px_fail_after(k);
        rc = idx_csv_import(pIdx, zGb, strlen(zGb), 1, NULL, &pOut, &line, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM || rc == PS_INDEX);
        json_decref(pOut);
    }

    test_wide_header();
    test_quotes();
    test_encodings();
    test_control_chars();
    test_index_refusal();
    test_allow_hook();
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
