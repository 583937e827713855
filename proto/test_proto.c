/* Unit tests of the wire contract: 档号 parser, record checks, JSON, text
 * encodings. */
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_msg.h"
#include "proto_record.h"
#include "proto_status.h"
#include "px_test.h"

#include <iconv.h>
#include <stdlib.h>

static const char *code_err(const char *z)
{
    static char zErr[256];
    proto_code c;
    if (proto_code_parse(z, &c, zErr, sizeof zErr) == PS_OK) return "OK";
    return zErr;
}

static void test_code(void)
{
    proto_code c;
    char zErr[256];
    /* A message cut to a small buffer is cut between characters (found by
     * fuzz/fz_code): it goes out in JSON, which must be UTF-8. */
    char zLong[200];
    snprintf(zLong, sizeof zLong, "Z1-WS\xE3\x83\xBB" "2017-%s-BGS00", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBI");
    for (size_t n = 1; n < 80; n++) {
        CHECK_INT(proto_code_parse(zLong, &c, zErr, n), PS_INVALID);
        CHECK(proto_utf8_valid(zErr, strlen(zErr)));
        CHECK_INT(proto_code_parse("全宗号码-WS·2017-Y-0001-00001", &c, zErr, n), PS_INVALID);
        CHECK(proto_utf8_valid(zErr, strlen(zErr)));
    }
    CHECK_INT(proto_code_parse("Z031-WS·2017-Y-BGS-0001", &c, zErr, sizeof zErr), PS_OK);
    CHECK_STR(c.zFonds, "Z031");
    CHECK_STR(c.zCategory, "WS");
    CHECK_INT(c.year, 2017);
    CHECK_STR(c.zRetention, "Y");
    CHECK_STR(c.zOrg, "BGS");
    CHECK_INT(c.itemNo, 1);
    CHECK_STR(c.zCanonical, "Z031-WS·2017-Y-BGS-0001");
    /* without 机构, and look-alike separators from spreadsheets and IMEs */
    CHECK_INT(proto_code_parse("Z031-KJ.2016-D30-0012", &c, zErr, sizeof zErr), PS_OK);
    CHECK_STR(c.zCanonical, "Z031-KJ·2016-D30-0012");
    CHECK_STR(c.zOrg, "");
    CHECK_INT(proto_code_parse(" Z031－WS・2017－D10－0100 ", &c, zErr, sizeof zErr), PS_OK);
    CHECK_STR(c.zCanonical, "Z031-WS·2017-D10-0100");
    CHECK_INT(proto_code_parse("A1-ZP•2020-Y-0009", &c, zErr, sizeof zErr), PS_OK);
    CHECK_STR(c.zCanonical, "A1-ZP·2020-Y-0009");

    CHECK_STR(code_err(""), "档号为空");
    CHECK_STR(code_err("Z031-WS2017-Y-0001"), "“WS2017”的门类代码与年度之间缺少“·”");
    CHECK_STR(code_err("Z031-WS·17-Y-0001"), "年度“17”应为 4 位数字");
    CHECK_CONTAINS(code_err("Z031-WS·2017-D5-0001"), "保管期限代码“D5”不是 Y（永久）、D30（30年）、D10（10年）之一");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y-12"), "件号“12”应为 4 位数字");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y-00a1"), "件号“00a1”含字符“a”");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y-0000"), "件号不能为 0000");
    CHECK_CONTAINS(code_err("Z031-ws·2017-Y-0001"), "门类代码“ws”含字符“w”");
    CHECK_CONTAINS(code_err("Z 31-WS·2017-Y-0001"), "全宗号“Z 31”含字符“ ”");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y"), "档号只有 3 级");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y-A-B-0001"), "档号有 6 级；至多 5 级");
    CHECK_CONTAINS(code_err("Z031--WS·2017-Y-0001"), "档号第 2 级为空");
    CHECK_CONTAINS(code_err("Z031-WS·2017-Y-bgs-0001"), "机构（问题）代码“bgs”含字符“b”");
    CHECK_CONTAINS(code_err("Z031-·2017-Y-0001"), "“·”前缺少门类代码");
    CHECK_CONTAINS(code_err("Z031-WS·1850-Y-0001"), "年度 1850 不在 1900 至 2099 之间");
    CHECK_STR(proto_retention_code("永久"), "Y");
    CHECK_STR(proto_retention_code("30年"), "D30");
    CHECK(proto_retention_code("长期") == NULL);
}

static void set(proto_record *r, proto_field f, const char *z) { proto_record_set(r, f, z, strlen(z)); }

static void test_record(void)
{
    proto_record r;
    proto_problem err, aWarn[4];
    int nWarn;

    proto_record_init(&r);
    set(&r, PF_CODE, "Z031-WS.2017-Y-BGS-0001");
    set(&r, PF_TITLE, "　关于开展精准扶贫工作的通知 ");
    set(&r, PF_RETENTION, "永久");
    set(&r, PF_ITEM_NO, "1");
    set(&r, PF_DATE, "20170229");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    CHECK_INT(err.field, PF_DATE);
    set(&r, PF_DATE, "20160229");  /* 2016 is a leap year; 年度 need not match */
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_OK);
    CHECK_STR(r.az[PF_CODE], "Z031-WS·2017-Y-BGS-0001");
    CHECK_STR(r.az[PF_TITLE], "关于开展精准扶贫工作的通知");
    CHECK_STR(r.az[PF_FONDS], "Z031");
    CHECK_STR(r.az[PF_YEAR], "2017");
    CHECK_STR(r.az[PF_RETENTION], "Y");
    CHECK_STR(r.az[PF_ITEM_NO], "0001");
    CHECK_INT(nWarn, 1);  /* no 责任者 */
    CHECK_INT(aWarn[0].field, PF_AUTHOR);

    json_t *o = proto_record_to_json(&r);
    CHECK(json_integer_value(json_object_get(o, "year")) == 2017);
    CHECK_STR(json_string_value(json_object_get(o, "org")), "BGS");
    proto_record r2;
    proto_record_init(&r2);
    CHECK_INT(proto_record_from_json(&r2, o, &err), PS_OK);
    CHECK_STR(r2.az[PF_TITLE], r.az[PF_TITLE]);
    CHECK_STR(r2.az[PF_YEAR], "2017");
    json_object_set_new(o, "titel", json_string("typo"));
    proto_record_clear(&r2);
    CHECK_INT(proto_record_from_json(&r2, o, &err), PS_INVALID);
    CHECK_CONTAINS(err.zReason, "未知的键“titel”");
    json_decref(o);
    proto_record_clear(&r2);

    set(&r, PF_YEAR, "2016");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    CHECK_INT(err.field, PF_YEAR);
    CHECK_STR(err.zReason, "年度“2016”与档号不符，档号为“2017”");
    set(&r, PF_YEAR, "2017");
    set(&r, PF_PAGES, "three");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    CHECK_INT(err.field, PF_PAGES);
    CHECK_STR(err.zReason, "页数“three”应为 0 至 100000 的整数");
    set(&r, PF_PAGES, "3");
    set(&r, PF_CLASSIFICATION, "top secret");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    CHECK_INT(err.field, PF_CLASSIFICATION);
    CHECK_STR(err.zReason, "密级“top secret”不是 公开、内部、限制、秘密、机密、绝密 之一");
    set(&r, PF_CLASSIFICATION, "秘密");
    set(&r, PF_DATE, "20171300");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    set(&r, PF_DATE, "20170000");  /* unknown month and day */
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_OK);
    proto_record_set(&r, PF_TITLE, "", 0);
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_INVALID);
    CHECK_INT(err.field, PF_TITLE);
    CHECK_STR(err.zReason, "缺少题名（DA/T 18 规定的必填项）");
    set(&r, PF_TITLE, "bad \xC3\x28 utf8");
    CHECK_INT(proto_record_check(&r, &err, aWarn, 4, &nWarn), PS_ENCODING);
    proto_record_clear(&r);

    CHECK_INT(proto_field_lookup("机构(问题)"), PF_ORG);
    CHECK_INT(proto_field_lookup("文件编号"), PF_DOC_NO);
    CHECK_INT(proto_field_lookup("doc_no"), PF_DOC_NO);
    CHECK_INT(proto_field_lookup("作者"), -1);
}

static void test_status_and_alloc(void)
{
    CHECK_INT(proto_status_http(PS_NOT_FOUND), 404);
    CHECK_INT(proto_status_http(PS_BAD_QUERY), 400);
    CHECK_INT(proto_status_http(PS_TOO_BIG), 413);
    CHECK_INT(proto_status_http(999), 500);
    CHECK_STR(proto_status_name(PS_ENCODING), "encoding");
    CHECK_INT(proto_status_from_name("conflict"), PS_CONFLICT);
    json_t *e = proto_error_body(PS_INVALID, "bad", "date", 12, NULL, 0);
    json_t *inner = json_object_get(e, "error");
    CHECK_STR(json_string_value(json_object_get(inner, "status")), "invalid");
    CHECK_INT(json_integer_value(json_object_get(inner, "line")), 12);
    CHECK(json_object_get(inner, "param") == NULL);
    json_decref(e);
    /* the default message is the status's, in Chinese; a message cut
     * inside a character loses that character, not the body */
    CHECK_STR(proto_strerror(PS_NOMEM), "内存不足");
    CHECK_STR(proto_strerror(PS_CONFLICT), "与已保存的内容冲突");
    e = proto_error_body(PS_NOT_FOUND, NULL, NULL, 0, NULL, 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "error"), "message")), "未找到");
    json_decref(e);
    e = proto_error_body(PS_INVALID, "档号\xE4\xB8", NULL, 0, NULL, 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(e, "error"), "message")), "档号");
    json_decref(e);

    CHECK(proto_utf8_valid("扶贫", strlen("扶贫")));
    CHECK(!proto_utf8_valid("\xE6\x89", 2));        /* truncated */
    CHECK(!proto_utf8_valid("\xC0\xAF", 2));        /* overlong */
    CHECK(!proto_utf8_valid("\xED\xA0\x80", 3));    /* surrogate */

    /* Every allocation failure in a record write is reported, never crashes. */
    for (long n = 1; n < 40; n++) {
        proto_record r;
        proto_problem err;
        proto_record_init(&r);
        px_fail_after(n);
        int rc = proto_record_set(&r, PF_CODE, "Z031-WS·2017-Y-0001", strlen("Z031-WS·2017-Y-0001"));
        if (rc == PS_OK) rc = proto_record_set(&r, PF_TITLE, "题名", 6);
        if (rc == PS_OK) rc = proto_record_check(&r, &err, NULL, 0, NULL);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        if (px_failed_count() == 0) CHECK_INT(rc, PS_OK);
        proto_record_clear(&r);
    }
}

static void test_audit(void)
{
    proto_record r;
    proto_finding a[8];
    int complete = -1;
    proto_record_init(&r);
    const char *azSet[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0003"}, {"题名", "题名"}, {"日期", "2017-03-07"},
                              {"页数", "0"}, {"机构(问题)", "XYZ"}, {"保管期限", "30年"}};
    for (size_t i = 0; i < sizeof azSet / sizeof azSet[0]; i++)
        proto_record_set(&r, proto_field_lookup(azSet[i][0]), azSet[i][1], strlen(azSet[i][1]));
    int n = proto_record_audit(&r, a, 8, &complete);
    CHECK_INT(n, 5);
    CHECK_INT(complete, 0);
    CHECK_STR(a[0].zRule, "code_parts"); /* 保管期限 30年 against Y */
    CHECK_INT(a[0].field, PF_RETENTION);
    CHECK_STR(a[1].zRule, "code_parts"); /* 机构 */
    CHECK_CONTAINS(a[1].zReason, "XYZ");
    CHECK_STR(a[1].zWritten, "XYZ");
    CHECK_STR(a[1].zUnderstood, "BGS");
    CHECK_STR(a[2].zRule, "date_form");
    CHECK_STR(a[2].zUnderstood, "20170307");
    CHECK_STR(a[3].zRule, "pages");
    CHECK_STR(a[4].zRule, "mandatory"); /* 责任者 */
    CHECK_INT(a[4].field, PF_AUTHOR);
    CHECK_INT(proto_record_audit(&r, a, 2, NULL), 5); /* counted past the room */
    proto_record_clear(&r);
    /* a complete, regular row; the 档号 made of its parts */
    const char *azOk[][2] = {{"全宗号", "Z031"}, {"门类", "WS"}, {"年度", "2017"}, {"保管期限", "永久"}, {"件号", "12"},
                             {"题名", "题名"}, {"责任者", "县扶贫办"}, {"日期", "20170307"}, {"页数", "3"}};
    for (size_t i = 0; i < sizeof azOk / sizeof azOk[0]; i++)
        proto_record_set(&r, proto_field_lookup(azOk[i][0]), azOk[i][1], strlen(azOk[i][1]));
    CHECK_INT(proto_record_audit(&r, a, 8, &complete), 0);
    CHECK_INT(complete, 1);
    proto_record_set(&r, PF_CODE, "Z031-WS·2017-Y-BGS-12", strlen("Z031-WS·2017-Y-BGS-12"));
    CHECK_INT(proto_record_audit(&r, a, 8, &complete), 1);
    CHECK_STR(a[0].zRule, "code_form"); /* read as 0012 */
    CHECK_STR(a[0].zUnderstood, "Z031-WS·2017-Y-BGS-0012");
    proto_record_set(&r, PF_CODE, "Z031-WS·2017-Q-BGS-12", strlen("Z031-WS·2017-Q-BGS-12"));
    CHECK_INT(proto_record_audit(&r, a, 8, &complete), 1);
    CHECK_STR(a[0].zRule, "code");
    proto_record_clear(&r);
}

/* One row read leniently: what it becomes, and the findings it gives. */
static int norm(const char *const (*az)[2], size_t n, proto_record *r, proto_finding *a, int *pn)
{
    proto_record_init(r);
    for (size_t i = 0; i < n; i++) proto_record_set(r, proto_field_lookup(az[i][0]), az[i][1], strlen(az[i][1]));
    return proto_record_normalise(r, a, 16, pn, NULL);
}

static const proto_finding *find_rule(const proto_finding *a, int n, const char *zRule, int field)
{
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(a[i].zRule, zRule) == 0 && (field < 0 || a[i].field == field)) return &a[i];
    return NULL;
}

static void test_normalise(void)
{
    proto_record r;
    proto_finding a[16];
    int n = 0;
    /* names for codes, a dash for the '·', no zero padding, a date and
     * 页数 as people write them: one item, every change recorded */
    const char *const az1[][2] = {{"档号", "z031－ws-2017-y-bgs-7"}, {"门类", "文书"}, {"保管期限", "永久"}, {"题名", "通知"},
                                  {"责任者", "县扶贫办"}, {"日期", "2017年3月7日"}, {"页数", "３页"}, {"件号", "7"}};
    CHECK_INT(norm(az1, 8, &r, a, &n), PS_OK);
    CHECK_STR(r.az[PF_CODE], "Z031-WS·2017-Y-BGS-0007");
    CHECK_STR(r.az[PF_CATEGORY], "WS");
    CHECK_STR(r.az[PF_DATE], "20170307");
    CHECK_STR(r.az[PF_PAGES], "3");
    CHECK_STR(r.az[PF_ITEM_NO], "0007");
    CHECK_INT(n, 4);
    CHECK(find_rule(a, n, "category_name", PF_CATEGORY) && find_rule(a, n, "category_name", PF_CATEGORY)->severity == PROTO_FINDING_NOTE);
    CHECK(find_rule(a, n, "code_form", PF_CODE) && strcmp(find_rule(a, n, "code_form", PF_CODE)->zWritten, "z031－ws-2017-y-bgs-7") == 0);
    CHECK(find_rule(a, n, "date_form", PF_DATE) && strcmp(find_rule(a, n, "date_form", PF_DATE)->zWritten, "2017年3月7日") == 0);
    CHECK(find_rule(a, n, "pages_form", PF_PAGES));
    proto_record_clear(&r);
    /* the five date spellings, full-width digits too, and a month alone */
    const char *const azDates[][2] = {{"20170307", "20170307"}, {"2017-03-07", "20170307"}, {"2017/3/7", "20170307"},
                                      {"2017.03.07", "20170307"}, {"2017年3月7日", "20170307"}, {"２０１７－３－７", "20170307"},
                                      {"2017年3月", "20170300"}, {"2017", "20170000"}};
    for (size_t i = 0; i < sizeof azDates / sizeof azDates[0]; i++) {
        const char *const az[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0001"}, {"题名", "通知"}, {"责任者", "县"},
                                     {"页数", "1"}, {"日期", azDates[i][0]}};
        CHECK_INT(norm(az, 5, &r, a, &n), PS_OK);
        CHECK_STR(r.az[PF_DATE], azDates[i][1]);
        CHECK_INT(n, strcmp(azDates[i][0], azDates[i][1]) != 0);
        proto_record_clear(&r);
    }
    /* irregular, kept and listed once each: a date that cannot be read, a
     * 件号 column against the 档号, no 题名, an unknown 密级, a NUL's
     * neighbours (control characters) */
    const char *const az2[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0002"}, {"件号", "3"}, {"日期", "2017-13-45"},
                                  {"责任者", "县\x01扶贫办"}, {"页数", "两页"}, {"密级", "普通"}};
    CHECK_INT(norm(az2, 6, &r, a, &n), PS_OK);
    CHECK_INT(n, 6);
    CHECK(find_rule(a, n, "code_parts", PF_ITEM_NO) && strcmp(find_rule(a, n, "code_parts", PF_ITEM_NO)->zWritten, "3") == 0);
    CHECK(find_rule(a, n, "date", PF_DATE) && !find_rule(a, n, "mandatory", PF_DATE));
    CHECK(find_rule(a, n, "pages", PF_PAGES) && !find_rule(a, n, "mandatory", PF_PAGES));
    CHECK(find_rule(a, n, "mandatory", PF_TITLE));
    CHECK(find_rule(a, n, "control", PF_AUTHOR));
    CHECK(find_rule(a, n, "classification", PF_CLASSIFICATION));
    CHECK_STR(r.az[PF_AUTHOR], "县扶贫办");
    CHECK_STR(r.az[PF_ITEM_NO], "0002"); /* the 档号 indexes */
    CHECK_STR(r.az[PF_CLASSIFICATION], "普通"); /* kept: closed to all until corrected */
    CHECK(r.az[PF_DATE] == NULL);
    proto_record_clear(&r);
    /* a row that names no item */
    const char *const az3[][2] = {{"档号", "合计"}, {"题名", "共 40 件"}};
    CHECK_INT(norm(az3, 2, &r, a, &n), PS_INVALID);
    CHECK(find_rule(a, n, "code", PF_CODE));
    proto_record_clear(&r);
    const char *const az4[][2] = {{"题名", "无档号"}};
    CHECK_INT(norm(az4, 1, &r, a, &n), PS_INVALID);
    CHECK(find_rule(a, n, "mandatory", PF_CODE));
    proto_record_clear(&r);
    CHECK_STR(proto_category_code("会计"), "KU");
    CHECK(proto_category_code("杂项") == NULL);

    /* a unit's own names come on top of DA/T 22's; a bad list changes nothing */
    char zErr[200];
    CHECK_INT(proto_category_names_set("扶贫档案=WS, 扶贫项目 = KJ,文书=FH", zErr, sizeof zErr), PS_OK);
    CHECK_STR(proto_category_code("扶贫档案"), "WS");
    CHECK_STR(proto_category_code("扶贫项目"), "KJ");
    CHECK_STR(proto_category_code("文书"), "FH"); /* the unit's word wins */
    CHECK_STR(proto_category_code("会计"), "KU");
    CHECK_INT(proto_category_names_set("杂项=ZX,坏=ws", zErr, sizeof zErr), PS_CONFIG);
    CHECK_CONTAINS(zErr, "“坏”对应的代码“ws”不是 1 到 8 个大写字母");
    CHECK(proto_category_code("杂项") == NULL);
    CHECK_STR(proto_category_code("扶贫档案"), "WS");
    CHECK_INT(proto_category_names_set("扶贫档案", zErr, sizeof zErr), PS_CONFIG);
    CHECK_CONTAINS(zErr, "应写成 名称=代码");
    /* and a record written with the name reads as the code, with its note */
    proto_record rn;
    proto_finding aF[8];
    int nF = 0;
    proto_record_init(&rn);
    CHECK_INT(proto_record_set(&rn, PF_CODE, "Z031-WS·2017-Y-0001", strlen("Z031-WS·2017-Y-0001")), PS_OK);
    CHECK_INT(proto_record_set(&rn, PF_CATEGORY, "扶贫档案", strlen("扶贫档案")), PS_OK);
    CHECK_INT(proto_record_normalise(&rn, aF, 8, &nF, NULL), PS_OK);
    CHECK_STR(rn.az[PF_CATEGORY], "WS");
    int seen = 0;
    for (int i = 0; i < nF && i < 8; i++) seen += strcmp(aF[i].zRule, "category_name") == 0;
    CHECK_INT(seen, 1);
    proto_record_clear(&rn);
    CHECK_INT(proto_category_names_set("", zErr, sizeof zErr), PS_OK);
    CHECK_STR(proto_category_code("文书"), "WS");
    CHECK(proto_category_code("扶贫档案") == NULL);
}

/* A row set exactly as written (untrimmed), read leniently. */
static int norm_written(const char *const (*az)[2], size_t n, proto_record *r, proto_finding *a, int *pn)
{
    proto_record_init(r);
    for (size_t i = 0; i < n; i++)
        proto_record_set_as_written(r, proto_field_lookup(az[i][0]), az[i][1], strlen(az[i][1]));
    return proto_record_normalise(r, a, 16, pn, NULL);
}

/* Spaces at a field's ends are removed with a note each, showing them;
 * a field over 4096 bytes is a note, not an irregular entry. */
static void test_trimmed_and_length(void)
{
    proto_record r;
    proto_finding a[16];
    int n = 0;
    const char *const az[][2] = {{"档号", " Z031-WS·2017-Y-BGS-0001"}, {"题名", "\xE3\x80\x80通知 "}, {"责任者", "县扶贫办"},
                                 {"日期", "20170307"}, {"页数", "1"}, {"保管期限", "永久"}, {"备注", "   "}};
    CHECK_INT(norm_written(az, 7, &r, a, &n), PS_OK);
    CHECK_INT(n, 3);
    const proto_finding *f = find_rule(a, n, "trimmed", PF_TITLE);
    CHECK(f && f->severity == PROTO_FINDING_NOTE);
    if (f) {
        CHECK_STR(f->zWritten, "\xE3\x80\x80通知 "); /* the spaces shown as written */
        CHECK_STR(f->zUnderstood, "通知");
        CHECK_CONTAINS(f->zReason, "题名首尾的 2 个空白字符");
    }
    f = find_rule(a, n, "trimmed", PF_CODE);
    CHECK(f && strcmp(f->zWritten, " Z031-WS·2017-Y-BGS-0001") == 0);
    CHECK(!find_rule(a, n, "code_form", PF_CODE)); /* trimmed, the 档号 is regular */
    f = find_rule(a, n, "trimmed", PF_NOTE);
    CHECK(f && strcmp(f->zWritten, "   ") == 0 && f->zUnderstood[0] == 0);
    CHECK_STR(r.az[PF_TITLE], "通知");
    CHECK(r.az[PF_NOTE] == NULL);
    proto_record_clear(&r);
    /* a long field: trimmed at both ends, both ends shown */
    char *zLong = malloc(5000 + 3);
    memset(zLong, 'x', 5002);
    zLong[0] = ' ';
    zLong[5001] = ' ';
    zLong[5002] = 0;
    const char *const azL[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0001"}, {"题名", "通知"}, {"责任者", "县扶贫办"},
                                  {"日期", "20170307"}, {"页数", "1"}, {"保管期限", "永久"}, {"备注", zLong}};
    CHECK_INT(norm_written(azL, 7, &r, a, &n), PS_OK);
    CHECK_INT(n, 2);
    f = find_rule(a, n, "length", PF_NOTE);
    CHECK(f && f->severity == PROTO_FINDING_NOTE); /* kept whole: no irregular entry */
    f = find_rule(a, n, "trimmed", PF_NOTE);
    CHECK(f && f->zWritten[0] == ' ' && f->zWritten[strlen(f->zWritten) - 1] == ' ' && strstr(f->zWritten, "…"));
    CHECK_INT(strlen(r.az[PF_NOTE]), 5000);
    proto_record_clear(&r);
    free(zLong);
    /* proto_record_set trims before: no note then (the audit copies so) */
    CHECK_INT(norm(az, 7, &r, a, &n), PS_OK);
    CHECK(!find_rule(a, n, "trimmed", -1));
    proto_record_clear(&r);
}

/* A column against its part of the 档号: shown as written, compared as
 * read; a 件号 padded with too many zeros is read by its number. */
static void test_code_parts_written(void)
{
    proto_record r;
    proto_finding a[16];
    int n = 0;
    const char *const az[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0015"}, {"题名", "通知"}, {"责任者", "县扶贫办"},
                                 {"日期", "20170307"}, {"页数", "1"}, {"保管期限", "30年"}, {"门类", "照片"},
                                 {"件号", "16"}, {"年度", "2016"}};
    CHECK_INT(norm(az, 9, &r, a, &n), PS_OK);
    const proto_finding *f = find_rule(a, n, "code_parts", PF_RETENTION);
    CHECK(f && strcmp(f->zWritten, "30年") == 0 && strcmp(f->zUnderstood, "Y") == 0);
    if (f) CHECK_CONTAINS(f->zReason, "保管期限“30年”与档号不符，档号为“Y”");
    f = find_rule(a, n, "code_parts", PF_CATEGORY);
    CHECK(f && strcmp(f->zWritten, "照片") == 0 && strcmp(f->zUnderstood, "WS") == 0);
    f = find_rule(a, n, "code_parts", PF_ITEM_NO);
    CHECK(f && strcmp(f->zWritten, "16") == 0 && strcmp(f->zUnderstood, "0015") == 0);
    if (f) CHECK_CONTAINS(f->zReason, "件号“16”与档号不符");
    f = find_rule(a, n, "code_parts", PF_YEAR);
    CHECK(f && strcmp(f->zWritten, "2016") == 0);
    CHECK_STR(r.az[PF_RETENTION], "Y");
    CHECK_STR(r.az[PF_ITEM_NO], "0015");
    proto_record_clear(&r);
    /* 永久 is Y, 15 is 0015: no disagreement */
    const char *const azSame[][2] = {{"档号", "Z031-WS·2017-Y-BGS-0015"}, {"保管期限", "永久"}, {"件号", "15"}};
    CHECK_INT(norm(azSame, 3, &r, a, &n), PS_OK);
    CHECK(!find_rule(a, n, "code_parts", -1));
    proto_record_clear(&r);
    /* 00015: too many zeros, read by its number */
    const char *const azPad[][2] = {{"档号", "Z031-WS·2017-Y-BGS-00015"}, {"题名", "通知"}};
    CHECK_INT(norm(azPad, 2, &r, a, &n), PS_OK);
    CHECK_STR(r.az[PF_CODE], "Z031-WS·2017-Y-BGS-0015");
    f = find_rule(a, n, "code_form", PF_CODE);
    CHECK(f && strcmp(f->zWritten, "Z031-WS·2017-Y-BGS-00015") == 0 && strcmp(f->zUnderstood, "Z031-WS·2017-Y-BGS-0015") == 0);
    proto_record_clear(&r);
    const char *const azPad2[][2] = {{"档号", "Z031-WS·2017-Y-000000009"}};
    CHECK_INT(norm(azPad2, 1, &r, a, &n), PS_OK);
    CHECK_STR(r.az[PF_CODE], "Z031-WS·2017-Y-0009");
    proto_record_clear(&r);
    /* out of range: no item */
    const char *const azZero[][2] = {{"档号", "Z031-WS·2017-Y-BGS-00000"}};
    CHECK_INT(norm(azZero, 1, &r, a, &n), PS_INVALID);
    CHECK(find_rule(a, n, "code", PF_CODE));
    proto_record_clear(&r);
    const char *const azBig[][2] = {{"档号", "Z031-WS·2017-Y-BGS-10000"}};
    CHECK_INT(norm(azBig, 1, &r, a, &n), PS_INVALID);
    proto_record_clear(&r);
    /* a 档号 made of long parts is kept whole, never cut inside a character */
    char zYear[301] = "";
    for (int i = 0; i < 100; i++) strcat(zYear, "年");
    const char *const azLong[][2] = {{"全宗号", "Z032"}, {"门类", "KJ"}, {"年度", zYear}, {"保管期限", "永久"}, {"件号", "1"}};
    CHECK_INT(norm(azLong, 5, &r, a, &n), PS_INVALID);
    CHECK(r.az[PF_CODE] && proto_text_check(r.az[PF_CODE], strlen(r.az[PF_CODE]), NULL) == PS_OK);
    CHECK(r.az[PF_CODE] && strstr(r.az[PF_CODE], zYear) != NULL);
    f = find_rule(a, n, "code", PF_CODE);
    CHECK(f && proto_utf8_valid(f->zWritten, strlen(f->zWritten)));
    proto_record_clear(&r);
}

/* z (UTF-8) in encoding zEnc: a new buffer (free), *pn its bytes. */
static char *encode(const char *zEnc, const char *z, size_t *pn)
{
    iconv_t cd = iconv_open(zEnc, "UTF-8");
    size_t nIn = strlen(z), nOut = nIn * 4 + 8;
    char *zOut = malloc(nOut), *pIn = (char *)z, *pOut = zOut;
    CHECK(cd != (iconv_t)-1 && iconv(cd, &pIn, &nIn, &pOut, &nOut) != (size_t)-1);
    iconv_close(cd);
    *pn = (size_t)(pOut - zOut);
    return zOut;
}

/* Converts z (n bytes) and checks the text and the encoding named. */
static void check_utf8(const char *z, size_t n, const char *zWant, const char *zEncWant)
{
    char *zOut = NULL, zErr[200] = "";
    size_t nOut = 0;
    const char *zEnc = NULL;
    int rc = proto_to_utf8(z, n, &zOut, &nOut, &zEnc, zErr, sizeof zErr);
    CHECK_INT(rc, PS_OK);
    if (rc != PS_OK) fprintf(stderr, "  %s\n", zErr);
    CHECK_STR(zEnc, zEncWant);
    CHECK_INT(nOut, strlen(zWant));
    CHECK(zOut && memcmp(zOut, zWant, strlen(zWant) + 1) == 0);
    px_free(zOut);
}

static void test_enc(void)
{
    const char *zCsv = "档号,题名,责任者\r\nZ031-WS·2017-Y-BGS-0001,关于开展精准扶贫工作的通知,县扶贫办\r\n";
    size_t n;
    char *z;
    /* UTF-16 without a BOM, told by the NULs of its ASCII characters */
    z = encode("UTF-16LE", zCsv, &n);
    check_utf8(z, n, zCsv, "utf-16le");
    free(z);
    z = encode("UTF-16BE", zCsv, &n);
    check_utf8(z, n, zCsv, "utf-16be");
    free(z);
    /* a page of Chinese whose only ASCII characters are its line ends */
    const char *zHan = "精准扶贫档案，一户一档，贫困户脱贫审核表\n帮扶措施证明，易地扶贫搬迁\n";
    z = encode("UTF-16LE", zHan, &n);
    check_utf8(z, n, zHan, "utf-16le");
    free(z);
    z = encode("UTF-16BE", zHan, &n);
    check_utf8(z, n, zHan, "utf-16be");
    free(z);
    /* with a BOM, as before; a second BOM inside is dropped too */
    char zBom[512];
    snprintf(zBom, sizeof zBom, "\xEF\xBB\xBF%s", zCsv);
    z = encode("UTF-16", zBom, &n);
    check_utf8(z, n, zCsv, "utf-16");
    free(z);
    /* every leading UTF-8 BOM */
    snprintf(zBom, sizeof zBom, "\xEF\xBB\xBF\xEF\xBB\xBF\xEF\xBB\xBF%s", zCsv);
    check_utf8(zBom, strlen(zBom), zCsv, "utf-8-bom");
    /* GB18030 with its own BOM (U+FEFF) */
    snprintf(zBom, sizeof zBom, "\xEF\xBB\xBF%s", zCsv);
    z = encode("GB18030", zBom, &n);
    check_utf8(z, n, zCsv, "gb18030");
    free(z);
    /* a stray NUL does not make UTF-8 text UTF-16: it is kept for the
     * caller's text check, not dropped or cut */
    static const char zNul[] = "档号,题名\nZ031-WS·2017-Y-BGS-0001,NUL\0标题\n";
    char *zOut = NULL, zErr[200];
    size_t nOut = 0;
    const char *zEnc = NULL;
    CHECK_INT(proto_to_utf8(zNul, sizeof zNul - 1, &zOut, &nOut, &zEnc, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zEnc, "utf-8");
    CHECK_INT(nOut, sizeof zNul - 1);
    CHECK(zOut && memcmp(zOut, zNul, sizeof zNul) == 0);
    px_free(zOut);
    /* UTF-16 cut in the middle of a character: an error naming the byte */
    z = encode("UTF-16LE", zCsv, &n);
    zOut = NULL;
    CHECK_INT(proto_to_utf8(z, n - 1, &zOut, &nOut, &zEnc, zErr, sizeof zErr), PS_ENCODING);
    CHECK_CONTAINS(zErr, "按不带 BOM 的 UTF-16LE 读取");
    CHECK(zOut == NULL);
    free(z);
    /* a UTF-8 file with one GB18030 line: the line at fault is named (not
     * the first line, where GB18030 would fail on the UTF-8) */
    {
        size_t nGb;
        char *zGb = encode("GB18030", "扶贫通知", &nGb);
        char zMixed[512];
        int k = snprintf(zMixed, sizeof zMixed, "档号,题名,责任者\nZ031-WS·2017-Y-BGS-0001,关于开展精准扶贫工作的通知,县扶贫办\n"
                                                "Z031-WS·2017-Y-BGS-0002,");
        memcpy(zMixed + k, zGb, nGb);
        k += (int)nGb;
        k += snprintf(zMixed + k, sizeof zMixed - (size_t)k, ",县扶贫办\nZ031-WS·2017-Y-BGS-0003,通知,县\n");
        free(zGb);
        zOut = NULL;
        CHECK_INT(proto_to_utf8(zMixed, (size_t)k, &zOut, &nOut, &zEnc, zErr, sizeof zErr), PS_ENCODING);
        CHECK_CONTAINS(zErr, "大多数行是 UTF-8 编码，但第 3 行不是");
        CHECK(zOut == NULL);
        /* the lenient reading keeps it, the line as written, and says which */
        long *aKept = NULL, badLine = -1;
        size_t nKept = 0;
        CHECK_INT(proto_to_utf8_lenient(zMixed, (size_t)k, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr, sizeof zErr),
                  PS_OK);
        CHECK_STR(zEnc, "utf-8");
        CHECK_INT(nOut, k);
        CHECK(zOut && memcmp(zOut, zMixed, (size_t)k) == 0);
        CHECK_INT(nKept, 1);
        CHECK(aKept && aKept[0] == 3);
        px_free(zOut);
        px_free(aKept);
        /* the same in GB18030 with one UTF-8 line: GB18030 reads the most lines */
        size_t nG;
        char *zG = encode("GB18030", "档号,题名\nZ031-WS·2017-Y-BGS-0001,精准扶贫通知\nZ031-WS·2017-Y-BGS-0002,脱贫审核表\n", &nG);
        char zG2[512];
        memcpy(zG2, zG, nG);
        int k2 = (int)nG + snprintf(zG2 + nG, sizeof zG2 - nG, "Z031-WS·2017-Y-BGS-0003,帮扶日志\xFF\n");
        free(zG);
        CHECK_INT(proto_to_utf8_lenient(zG2, (size_t)k2, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr, sizeof zErr),
                  PS_OK);
        CHECK_STR(zEnc, "gb18030");
        CHECK_INT(nKept, 1);
        CHECK(aKept && aKept[0] == 4);
        CHECK(zOut && strstr(zOut, "Z031-WS·2017-Y-BGS-0002,脱贫审核表\n") != NULL);
        CHECK(zOut && strstr(zOut, "帮扶日志\xFF\n") != NULL); /* kept as written */
        px_free(zOut);
        px_free(aKept);
        zOut = NULL;
        CHECK_INT(proto_to_utf8(zG2, (size_t)k2, &zOut, &nOut, &zEnc, zErr, sizeof zErr), PS_ENCODING);
        CHECK_CONTAINS(zErr, "第 4 行既不是 UTF-8 也不是 GB18030 编码");
        /* a BOM says UTF-8: the line that is not is kept */
        char zB[512];
        int kb = snprintf(zB, sizeof zB, "\xEF\xBB\xBF档号,题名\nZ031-WS·2017-Y-0001,\xB7\xF6\n");
        CHECK_INT(proto_to_utf8_lenient(zB, (size_t)kb, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr, sizeof zErr),
                  PS_OK);
        CHECK_STR(zEnc, "utf-8-bom");
        CHECK(nKept == 1 && aKept[0] == 2);
        CHECK(zOut && memcmp(zOut, zB + 3, (size_t)kb - 3) == 0);
        px_free(zOut);
        px_free(aKept);
        /* mostly not text: refused, the first such line named */
        static const char zBin[] = "档号,题名\n\xFF\xFE\x80\x81\x82\n\x80\x80\n\x01\xFF\n";
        zOut = NULL;
        CHECK_INT(proto_to_utf8_lenient(zBin, sizeof zBin - 1, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr,
                                        sizeof zErr),
                  PS_ENCODING);
        CHECK_CONTAINS(zErr, "第 2 行既不是 UTF-8 也不是 GB18030 编码（第 15 字节）");
        CHECK_CONTAINS(zErr, "文件的 4 行中有 3 行如此");
        CHECK_INT(badLine, 2);
        CHECK(zOut == NULL && aKept == NULL);
        /* lines ended by CR alone are counted as the reader counts them */
        static const char zCr[] = "a,b\r\xFF\xFE\xFD\rc,d\r";
        CHECK_INT(proto_to_utf8_lenient(zCr, sizeof zCr - 1, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr,
                                        sizeof zErr),
                  PS_OK);
        CHECK(nKept == 1 && aKept[0] == 2);
        px_free(zOut);
        px_free(aKept);
        /* out of memory: a clean failure */
        for (long f = 1; f < 6; f++) {
            zOut = NULL;
            aKept = NULL;
            px_fail_after(f);
            int rc = proto_to_utf8_lenient(zG2, (size_t)k2, &zOut, &nOut, &zEnc, &aKept, &nKept, &badLine, zErr, sizeof zErr);
            px_fail_reset();
            CHECK(rc == PS_OK || rc == PS_NOMEM);
            CHECK((rc == PS_OK) == (zOut != NULL));
            px_free(zOut);
            px_free(aKept);
        }
        /* one cell, read as GB18030 */
        char *zCell = NULL;
        size_t nCell = 0;
        CHECK_INT(proto_from_gb18030("\xB7\xF6", 2, &zCell, &nCell), PS_OK);
        CHECK_STR(zCell, "扶");
        px_free(zCell);
        zCell = NULL;
        CHECK_INT(proto_from_gb18030("a\xFF", 2, &zCell, &nCell), PS_ENCODING);
        CHECK(zCell == NULL);
        CHECK_INT(proto_utf8_prefix("ab\xE6\x89", 4), 2);
        CHECK_INT(proto_utf8_prefix("ab\xE6\x89\xB6", 5), 5);
    }
    /* out of memory at any allocation: a clean failure */
    z = encode("UTF-16BE", zCsv, &n);
    for (long k = 1; k < 4; k++) {
        zOut = NULL;
        px_fail_after(k);
        int rc = proto_to_utf8(z, n, &zOut, &nOut, &zEnc, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        CHECK((rc == PS_OK) == (zOut != NULL));
        px_free(zOut);
    }
    free(z);
}

/* jansson's complaints, in the words of the messages */
static void test_json_why(void)
{
    json_error_t je;
    json_t *o = json_loads("{\"a\": 1, \"a\": 2}", JSON_REJECT_DUPLICATES, &je);
    CHECK(o == NULL);
    CHECK_STR(proto_json_why(&je), "有重复的键");
    CHECK(json_loads("{\"a\": ", 0, &je) == NULL);
    CHECK_STR(proto_json_why(&je), "内容不完整");
    CHECK(json_loads("{} x", 0, &je) == NULL);
    CHECK_STR(proto_json_why(&je), "结尾之后还有内容");
    CHECK(json_loads("{\"a\": tru}", 0, &je) == NULL);
    CHECK_STR(proto_json_why(&je), "语法错误");
}

int main(void)
{
    test_json_why();
    test_code();
    test_record();
    test_status_and_alloc();
    test_audit();
    test_normalise();
    test_trimmed_and_length();
    test_code_parts_written();
    test_enc();
    return px_test_done();
}
