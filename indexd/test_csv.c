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

/* The stored record's field zKey is zWant (CHECK_STR's report on failure). */
#define check_stored(zCode, zKey, zWant)   \
    do {                                   \
        char *zGot_ = stored(zCode, zKey); \
        CHECK_STR(zGot_, zWant);           \
        free(zGot_);                       \
    } while (0)

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
    CHECK_INT(num(r, "imported"), 3); /* the row with a field too many names an item: kept */
    CHECK_INT(num(r, "rejected_count"), 0);
    json_t *pX = finding(r, 4, "extra_fields");
    CHECK(pX != NULL);
    CHECK_CONTAINS(str(pX, "reason"), "该行有 301 个字段，多于表头的 300 个");
    CHECK_STR(str(pX, "written"), "多余");
    CHECK_STR(str(pX, "severity"), "warning");
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
    check_stored("Z042-WS·2019-Y-CSV-0002", "title", "unterminated");
    check_stored("Z042-WS·2019-Y-CSV-0002", "author", "x");
    check_stored("Z042-WS·2019-Y-CSV-0005", "title", "两行\n题名");
    check_stored("Z042-WS·2019-Y-CSV-0005", "note", "又一个");
    check_stored("Z042-WS·2019-Y-CSV-0007", "author", "县扶贫办");
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
    idx_guard g = {allow_row, &c, "li", "目录.csv"};
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

/* A repeated header and 合计/总计/小计 rows are no catalog entries in the
 * audit's scan either: skipped and counted as in an import. */
static int nScanEx;
static char zScanExRules[256];
static int scan_row_ex(void *ctx, long line, const proto_record *r, int nFields, const proto_finding *aF, int nF)
{
    (void)ctx;
    (void)nFields;
    nScanEx++;
    CHECK(r != NULL);
    for (int i = 0; i < nF; i++) {
        size_t k = strlen(zScanExRules);
        snprintf(zScanExRules + k, sizeof zScanExRules - k, "%ld:%s:%s;", line, aF[i].zRule,
                 aF[i].severity == PROTO_FINDING_ERROR ? "error" : "warning");
    }
    return 0;
}

static void test_scan_furniture(void)
{
    long line;
    char zErr[512];
    json_t *pRes = NULL;
    static const char zCsv[] = "档号,题名,页数\n"
                               "Z047-WS·2019-Y-FUR-0001,甲,1\n"
                               "档号,题名,页数\n"
                               "Z047-WS·2019-Y-FUR-0002,乙,2\n"
                               ",合计,3\n"
                               "小计：2 件,,\n";
    nScanNull = nScanRows = 0;
    CHECK_INT(idx_csv_scan(zCsv, sizeof zCsv - 1, scan_row, NULL, &pRes, &line, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanRows, 2); /* the two items, nothing else */
    CHECK_INT(nScanNull, 0);
    CHECK_INT(num(pRes, "furniture_rows"), 3);
    json_decref(pRes);
    /* the import skips the same rows */
    int rc;
    json_t *r = import(zCsv, sizeof zCsv - 1, &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 2);
    CHECK_INT(num(r, "furniture_rows"), 3);
    json_decref(r);
}

/* One cell in another encoding does not cost the catalog, nor its row:
 * read as GB18030 (a warning), or kept with U+FFFD for what reads in
 * neither (an error), each with its line and field. */
static void test_encoding_cells(void)
{
    int rc;
    long line;
    char zErr[512];
    size_t nGb;
    char *zGb = to_enc("GB18030", "扶贫通知", &nGb);
    char zCsv[1024];
    int k = snprintf(zCsv, sizeof zCsv, "档号,题名,责任者,日期\n"
                                        "Z048-WS·2019-Y-ENC-0001,关于精准扶贫的通知,县扶贫办,20190101\n"
                                        "Z048-WS·2019-Y-ENC-0002,");
    memcpy(zCsv + k, zGb, nGb);
    k += (int)nGb;
    k += snprintf(zCsv + k, sizeof zCsv - (size_t)k, ",县扶贫办,20190101\n"
                                                     "Z048-WS·2019-Y-ENC-0003,Caf\xE9,县扶贫办,20190101\n"
                                                     "Z048-WS·2019-Y-ENC-0004,正常,县扶贫办,20190101\n");
    free(zGb);
    json_t *r = import(zCsv, (size_t)k, &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(str(r, "encoding"), "utf-8");
    CHECK_INT(num(r, "imported"), 4);
    CHECK_INT(num(r, "rejected_count"), 0);
    json_t *x = finding(r, 3, "encoding");
    CHECK(x != NULL);
    if (x) {
        CHECK_STR(str(x, "severity"), "warning");
        CHECK_STR(str(x, "key"), "title");
        CHECK_STR(str(x, "written"), "\\xB7\\xF6\\xC6\\xB6\\xCD\\xA8\\xD6\\xAA");
        CHECK_STR(str(x, "understood"), "扶贫通知");
        CHECK_CONTAINS(str(x, "reason"), "第 3 行“题名”不是 UTF-8 编码，按 GB18030 读作“扶贫通知”");
    }
    x = finding(r, 4, "encoding");
    CHECK(x != NULL);
    if (x) {
        CHECK_STR(str(x, "severity"), "error");
        CHECK_STR(str(x, "written"), "Caf\\xE9");
        CHECK_STR(str(x, "understood"), "Caf\xEF\xBF\xBD");
        CHECK_CONTAINS(str(x, "reason"), "第 4 行“题名”有 1 个字节既不是 UTF-8 也不是 GB18030 编码");
    }
    CHECK(finding(r, 2, "encoding") == NULL && finding(r, 5, "encoding") == NULL);
    json_decref(r);
    check_stored("Z048-WS·2019-Y-ENC-0002", "title", "扶贫通知");
    check_stored("Z048-WS·2019-Y-ENC-0003", "title", "Caf\xEF\xBF\xBD");
    check_stored("Z048-WS·2019-Y-ENC-0001", "title", "关于精准扶贫的通知"); /* the UTF-8 rows as they are */

    /* the audit's scan reads them the same, its findings with them */
    nScanEx = 0;
    zScanExRules[0] = 0;
    json_t *pRes = NULL;
    CHECK_INT(idx_csv_scan_ex(zCsv, (size_t)k, scan_row_ex, NULL, &pRes, &line, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanEx, 4);
    CHECK_STR(zScanExRules, "3:encoding:warning;4:encoding:error;");
    CHECK_INT(num(pRes, "rejected_count"), 0);
    json_decref(pRes);
    nScanNull = nScanRows = 0;
    zScanTitle[0] = 0;
    CHECK_INT(idx_csv_scan(zCsv, (size_t)k, scan_row, NULL, &pRes, &line, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nScanRows, 4);
    CHECK_INT(nScanNull, 0);
    json_decref(pRes);

    /* a UTF-8 BOM with a GB18030 cell after it */
    const char *zBom = "\xEF\xBB\xBF档号,题名\nZ048-WS·2019-Y-ENC-0005,\xB7\xF6\n";
    r = import(zBom, strlen(zBom), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(str(r, "encoding"), "utf-8-bom");
    CHECK_INT(num(r, "imported"), 1);
    x = finding(r, 2, "encoding");
    CHECK(x && strcmp(str(x, "understood"), "扶") == 0);
    json_decref(r);

    /* GB18030 with one UTF-8 line and one byte that reads in neither */
    size_t nG, nG2;
    char *zG = to_enc("GB18030", "档号,题名,责任者\nZ048-WS·2019-Y-ENC-0006,脱贫审核表,县扶贫办\n"
                                 "Z048-WS·2019-Y-ENC-0007,帮扶日志,县扶贫办\n", &nG);
    char *zG3 = to_enc("GB18030", "Z048-WS·2019-Y-ENC-0009,坏~字节,县扶贫办\n", &nG2);
    char zG2[1024];
    memcpy(zG2, zG, nG);
    free(zG);
    int k2 = (int)nG + snprintf(zG2 + nG, sizeof zG2 - nG, "Z048-WS·2019-Y-ENC-0008,易地搬迁,乡政府\n");
    memcpy(zG2 + k2, zG3, nG2);
    /* a byte 0xFF in place of the ~ */
    char *zY = memchr(zG2 + k2, '~', nG2);
    CHECK(zY != NULL);
    if (zY) *zY = '\xFF';
    k2 += (int)nG2;
    free(zG3);
    r = import(zG2, (size_t)k2, &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_STR(str(r, "encoding"), "gb18030");
    CHECK_INT(num(r, "imported"), 4);
    CHECK(finding(r, 2, "encoding") == NULL && finding(r, 3, "encoding") == NULL);
    x = finding(r, 4, "encoding"); /* one for the row: the whole line is UTF-8 */
    CHECK(x && strcmp(str(x, "key"), "") == 0 && strcmp(str(x, "severity"), "warning") == 0);
    if (x) CHECK_CONTAINS(str(x, "reason"), "第 4 行不是本文件的 GB18030 编码，而是 UTF-8：其中的档号、题名、责任者按 UTF-8 读取");
    x = finding(r, 5, "encoding"); /* 坏 and a byte that reads in neither */
    CHECK(x && strcmp(str(x, "severity"), "error") == 0 && strcmp(str(x, "key"), "title") == 0);
    if (x) {
        CHECK_STR(str(x, "written"), "\\xBB\\xB5\\xFF\\xD7\\xD6\\xBD\\xDA"); /* 坏, the byte, 字节 */
        CHECK_STR(str(x, "understood"), "坏\xEF\xBF\xBD字节");
    }
    CHECK_INT(num(r, "findings_count"), 2 + 4 * 2); /* and each row's missing 日期 and 页数 */
    json_decref(r);
    check_stored("Z048-WS·2019-Y-ENC-0007", "title", "帮扶日志");
    check_stored("Z048-WS·2019-Y-ENC-0008", "title", "易地搬迁");
    check_stored("Z048-WS·2019-Y-ENC-0009", "author", "县扶贫办"); /* the rest of the line, read as GB18030 */
}

/* An exact duplicate is one record and one warning, citing the first
 * identical row; a row that differs is a conflict, once. */
static void test_duplicates(void)
{
    int rc;
    long line;
    char zErr[512];
    const char *zCsv = "档号,题名,责任者,日期,页数\n"
                       "Z049-WS·2019-Y-DUP-0001,通知,县扶贫办,2019-1-5,1\n"     /* 2: date_form */
                       "Z049-WS·2019-Y-DUP-0002,另一件,县扶贫办,20190105,1\n"  /* 3 */
                       "Z049-WS·2019-Y-DUP-0001,通知,县扶贫办,2019/01/05,1\n"  /* 4: the same as 2, read */
                       "Z049-WS·2019-Y-DUP-0001,通知（修订）,县扶贫办,20190105,1\n" /* 5: differs */
                       "Z049-WS·2019-Y-DUP-0001,通知（修订）,县扶贫办,20190105,1\n" /* 6: the same as 5 */
                       "Z049-WS·2019-Y-DUP-0001,通知,县扶贫办,2019-1-5,1\n";    /* 7: the same as 2 */
    json_t *r = import(zCsv, strlen(zCsv), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 2);
    CHECK_INT(num(r, "conflicts_count"), 1);
    CHECK_INT(num(item(r, "conflicts", 0), "line"), 5);
    /* the findings of line 2 alone: not listed again for 4 and 7 */
    CHECK_INT(num(r, "findings_count"), 1);
    CHECK(finding(r, 2, "date_form") != NULL);
    CHECK_INT(num(r, "warnings_count"), 4);
    static const long aLine[] = {4, 5, 6, 7}, aCited[] = {2, 2, 5, 2};
    for (size_t i = 0; i < 4; i++) {
        json_t *w = item(r, "warnings", i);
        char zWant[64];
        snprintf(zWant, sizeof zWant, "第 %ld 行", aCited[i]);
        CHECK_INT(num(w, "line"), aLine[i]);
        CHECK_CONTAINS(str(w, "reason"), zWant);
        CHECK_STR(str(w, "key"), "code");
    }
    CHECK_CONTAINS(str(item(r, "warnings", 0), "reason"), "与本文件第 2 行完全相同");
    CHECK_CONTAINS(str(item(r, "warnings", 1), "reason"), "著录不同");
    /* one record listed, with its first line */
    json_t *pRec = json_object_get(r, "records");
    CHECK_INT(json_array_size(pRec), 2);
    CHECK_INT(num(json_array_get(pRec, 0), "line"), 2);
    json_decref(r);
    /* the record keeps the first row's findings and line */
    json_t *pData = idx_index_get(pIdx, "Z049-WS·2019-Y-DUP-0001", &rc, zErr, sizeof zErr);
    json_t *pF = json_object_get(pData, "f");
    CHECK_INT(json_array_size(pF), 1);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(pF, 0), "line")), 2);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "通知");
    json_decref(pData);
}

/* Spaces at a cell's ends are removed, with a note that shows them. */
static void test_trimmed(void)
{
    int rc;
    long line;
    char zErr[512];
    const char *zCsv = "档号,题名,责任者,日期,页数\n"
                       " Z050-WS·2019-Y-TRM-0001,\xE3\x80\x80关于扶贫的通知 ,县扶贫办,20190101,1\n";
    json_t *r = import(zCsv, strlen(zCsv), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 1);
    CHECK_INT(num(r, "findings_count"), 2);
    json_t *x = NULL;
    size_t i;
    json_array_foreach(json_object_get(r, "findings"), i, x) {
        CHECK_STR(str(x, "rule"), "trimmed");
        CHECK_STR(str(x, "severity"), "note");
        if (strcmp(str(x, "key"), "title") == 0) {
            CHECK_STR(str(x, "written"), "\xE3\x80\x80关于扶贫的通知 "); /* as written: libcsv keeps the space */
            CHECK_STR(str(x, "understood"), "关于扶贫的通知");
        } else {
            CHECK_STR(str(x, "key"), "code");
            CHECK_STR(str(x, "written"), " Z050-WS·2019-Y-TRM-0001");
        }
    }
    json_decref(r);
    check_stored("Z050-WS·2019-Y-TRM-0001", "title", "关于扶贫的通知");

    /* spaces outside a cell's quotes are no part of it: the quotes still
     * hold the cell, and nothing is trimmed in it */
    const char *zQ = "档号,题名,责任者,日期,页数\n"
                     "Z050-WS·2019-Y-TRM-0002,\"引号后有空格\" ,县扶贫办,20190101,1\n"
                     "Z050-WS·2019-Y-TRM-0003, \"引号前有空格, 含逗号\",县扶贫办,20190101,1\n"
                     "Z050-WS·2019-Y-TRM-0004,正文 \"引号\" 在中间,县扶贫办\t,20190101,1\n";
    r = import(zQ, strlen(zQ), &rc, &line, zErr);
    CHECK_INT(rc, PS_OK);
    CHECK_INT(num(r, "imported"), 3);
    CHECK_INT(num(r, "findings_count"), 1);
    json_t *pT = finding(r, 4, "trimmed");
    CHECK(pT && strcmp(str(pT, "key"), "author") == 0 && strcmp(str(pT, "written"), "县扶贫办\t") == 0);
    json_decref(r);
    check_stored("Z050-WS·2019-Y-TRM-0002", "title", "引号后有空格");
    check_stored("Z050-WS·2019-Y-TRM-0003", "title", "引号前有空格, 含逗号");
    check_stored("Z050-WS·2019-Y-TRM-0004", "title", "正文 \"引号\" 在中间");
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
    CHECK_INT(num(r, "imported"), 8);  /* 0001-0008 */
    CHECK_INT(num(r, "replaced"), 0);
    CHECK_INT(num(r, "rejected_count"), 0);
    /* The rows listed, a repeated 档号 on each of its lines. */
    CHECK_INT(json_array_size(json_object_get(r, "records")), 8);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 0), "code")), "Z031-WS·2017-Y-BGS-0001");
    CHECK_INT(num(item(r, "records", 0), "pages"), 3);
    CHECK_INT(num(item(r, "records", 0), "line"), 2);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 3), "code")), "Z031-WS·2017-Y-BGS-0004");
    CHECK_INT(num(item(r, "records", 3), "line"), 7);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 6), "code")), "Z031-WS·2017-Y-BGS-0007");
    CHECK_INT(num(item(r, "records", 6), "line"), 11);
    CHECK_STR(json_string_value(json_object_get(item(r, "records", 7), "code")), "Z031-WS·2017-Y-BGS-0008");
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
    /* more fields than the header: the header's columns read, the rest listed */
    x = finding(r, 11, "extra_fields");
    CHECK(x && strcmp(str(x, "written"), "额外") == 0 && strcmp(str(x, "key"), "") == 0);
    if (x) CHECK_CONTAINS(str(x, "reason"), "该行有 11 个字段，多于表头的 10 个");
    CHECK_INT(num(r, "findings_count"), 5);
    CHECK_INT(num(r, "warnings_count"), 1);
    CHECK_INT(num(item(r, "warnings", 0), "line"), 10);
    CHECK_CONTAINS(json_string_value(json_object_get(item(r, "warnings", 0), "reason")), "已见于本文件第 2 行");
    json_decref(r);
    CHECK_INT(idx_index_count(pIdx), 8);
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
    CHECK_INT(idx_index_count(pIdx), 9);
    pData = idx_index_get(pIdx, "Z031-WS·2017-Y-BGS-0002", &rc, zErr, sizeof zErr);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pData, "r"), "title")), "贫困户脱贫审核表（GB18030）");
    json_t *pH = json_array_get(json_object_get(pData, "h"), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(pH, "old"), "title")), "贫困户脱贫审核表，\n含附件");
    CHECK_STR(json_string_value(json_object_get(pH, "source")), "目录导入（替换）：第 2 行");
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

    /* Files that can't be read at all: mostly not text */
    const char *zBad = "档号,题名\nZ031-WS·2017-Y-0001,\xFF\xFF\xFF\n\xFF\xFF\n";
    r = import(zBad, strlen(zBad), &rc, &line, zErr);
    CHECK_INT(rc, PS_ENCODING);
    CHECK(r == NULL);
    CHECK_INT(line, 2);
    CHECK_CONTAINS(zErr, "第 2 行既不是 UTF-8 也不是 GB18030 编码（第 ");
    const char *zNoCode = "题名,日期\n通知,20170101\n";
    r = import(zNoCode, strlen(zNoCode), &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_CONTAINS(zErr, "目录没有档号列（也没有可组成档号的全宗号、门类、年度、保管期限、件号列）");
    r = import("", 0, &rc, &line, zErr);
    CHECK_INT(rc, PS_INVALID);
    CHECK_STR(zErr, "目录为空：没有表头行");
    CHECK_INT(idx_index_count(pIdx), 10);

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
    test_scan_furniture();
    test_encoding_cells();
    test_duplicates();
    test_trimmed();
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
