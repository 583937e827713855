/* The catalog record model: names, validation and JSON. */
#include "proto_record.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *zKey, *zCn;
    const char *azAlias[6];
} aField[PF__COUNT] = {
    [PF_CODE] = {"code", "档号", {"档号", "code", NULL}},
    [PF_FONDS] = {"fonds", "全宗号", {"全宗号", "全宗", "fonds", NULL}},
    [PF_CATEGORY] = {"category", "门类", {"门类", "门类代码", "category", NULL}},
    [PF_YEAR] = {"year", "年度", {"年度", "year", NULL}},
    [PF_RETENTION] = {"retention", "保管期限", {"保管期限", "retention", NULL}},
    [PF_ORG] = {"org", "机构（问题）", {"机构（问题）", "机构(问题)", "机构（问题）代码", "机构问题", "机构", "org"}},
    [PF_ITEM_NO] = {"item_no", "件号", {"件号", "item_no", NULL}},
    [PF_TITLE] = {"title", "题名", {"题名", "title", NULL}},
    [PF_AUTHOR] = {"author", "责任者", {"责任者", "author", NULL}},
    [PF_DOC_NO] = {"doc_no", "文号", {"文号", "文件编号", "doc_no", NULL}},
    [PF_DATE] = {"date", "日期", {"日期", "成文日期", "date", NULL}},
    [PF_PAGES] = {"pages", "页数", {"页数", "pages", NULL}},
    [PF_CLASSIFICATION] = {"classification", "密级", {"密级", "classification", NULL}},
    [PF_CARRIER] = {"carrier", "载体", {"载体", "载体形态", "carrier", NULL}},
    [PF_LOCATION] = {"location", "存放位置", {"存放位置", "location", NULL}},
    [PF_NOTE] = {"note", "备注", {"备注", "note", NULL}},
    [PF_PARENT] = {"parent", "所属案卷", {"所属案卷", "案卷档号", "parent", NULL}},
};

const char *proto_field_key(proto_field f) { return (unsigned)f < PF__COUNT ? aField[f].zKey : "?"; }
const char *proto_field_cn(proto_field f) { return (unsigned)f < PF__COUNT ? aField[f].zCn : "?"; }

int proto_field_lookup(const char *z)
{
    for (int f = 0; f < PF__COUNT; f++)
        for (int i = 0; i < 6 && aField[f].azAlias[i]; i++)
            if (strcmp(z, aField[f].azAlias[i]) == 0) return f;
    return -1;
}

void proto_record_init(proto_record *r) { memset(r, 0, sizeof(*r)); }

void proto_record_clear(proto_record *r)
{
    for (int f = 0; f < PF__COUNT; f++) px_free(r->az[f]);
    memset(r, 0, sizeof(*r));
}

int proto_record_set(proto_record *r, proto_field f, const char *z, size_t n)
{
    /* Trim ASCII and ideographic (U+3000) spaces at both ends. */
    for (;;) {
        if (n && (*z == ' ' || *z == '\t' || *z == '\r' || *z == '\n')) { z++; n--; }
        else if (n >= 3 && memcmp(z, "\xE3\x80\x80", 3) == 0) { z += 3; n -= 3; }
        else break;
    }
    for (;;) {
        if (n && (z[n - 1] == ' ' || z[n - 1] == '\t' || z[n - 1] == '\r' || z[n - 1] == '\n')) n--;
        else if (n >= 3 && memcmp(z + n - 3, "\xE3\x80\x80", 3) == 0) n -= 3;
        else break;
    }
    px_free(r->az[f]);
    r->az[f] = NULL;
    if (n == 0) return PS_OK;
    r->az[f] = px_strndup(z, n);
    return r->az[f] ? PS_OK : PS_NOMEM;
}

int proto_utf8_valid(const char *zIn, size_t n)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t i = 0;
    while (i < n) {
        unsigned c = z[i];
        size_t k;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; c &= 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { k = 2; c &= 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { k = 3; c &= 0x07; min = 0x10000; }
        else return 0;
        if (i + k >= n) return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (z[i + j] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (z[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += k + 1;
    }
    return 1;
}

int proto_text_check(const char *zIn, size_t n, size_t *pOffset)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t i = 0;
    while (i < n) {
        unsigned c = z[i];
        size_t k = 0;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
                if (pOffset) *pOffset = i;
                return PS_INVALID;
            }
            i++;
            continue;
        }
        /* one multi-byte character: the same rules as proto_utf8_valid */
        k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n || !proto_utf8_valid((const char *)z + i, k)) {
            if (pOffset) *pOffset = i;
            return PS_ENCODING;
        }
        i += k;
    }
    return PS_OK;
}

#define PROBLEM(p, f, ...) do { (p)->field = (f); snprintf((p)->zReason, sizeof (p)->zReason, __VA_ARGS__); \
                                   utf8_end((p)->zReason); } while (0)

/* A reason cut to its buffer ends between characters, not inside one. */
static void utf8_end(char *z)
{
    size_t n = strlen(z), k = n;
    while (k > 0 && n - k < 4 && !proto_utf8_valid(z, k)) k--;
    if (proto_utf8_valid(z, k)) z[k] = 0;
}

static int parse_uint(const char *z, long max, long *pOut)
{
    char *e;
    if (!z || !isdigit((unsigned char)*z)) return -1;
    long v = strtol(z, &e, 10);
    if (*e || v > max) return -1;
    *pOut = v;
    return 0;
}

static int check_date(const char *z)
{
    static const int anDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(z) != 8) return -1;
    for (int i = 0; i < 8; i++)
        if (!isdigit((unsigned char)z[i])) return -1;
    int y = (z[0] - '0') * 1000 + (z[1] - '0') * 100 + (z[2] - '0') * 10 + (z[3] - '0');
    int m = (z[4] - '0') * 10 + (z[5] - '0');
    int d = (z[6] - '0') * 10 + (z[7] - '0');
    if (y < 1900 || y > 2099 || m > 12) return -1;
    if (m == 0) return d == 0 ? 0 : -1;
    if (d > anDays[m - 1]) return -1;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    return 0;
}

static int set_str(proto_record *r, proto_field f, const char *z)
{
    return proto_record_set(r, f, z, strlen(z));
}

/* The part from the 档号 must agree with the column, when the column is set. */
static int agree(proto_record *r, proto_field f, const char *zPart, proto_problem *pErr)
{
    if (!r->az[f]) return set_str(r, f, zPart);
    if (strcmp(r->az[f], zPart) != 0) {
        PROBLEM(pErr, f, "%s“%s”与档号不符，档号为“%s”", aField[f].zCn, r->az[f], zPart);
        return PS_INVALID;
    }
    return PS_OK;
}

int proto_record_check(proto_record *r, proto_problem *pErr,
                       proto_problem *aWarn, int nWarnMax, int *pnWarn)
{
    static const char *const azLevel[] = {"公开", "内部", "限制", "秘密", "机密", "绝密", NULL};
    proto_code code;
    char zBuf[24]; /* a long in decimal, sign included */
    char zMsg[200];
    long v;
    int rc;
    int nWarn = 0;

    if (pnWarn) *pnWarn = 0;
    for (int f = 0; f < PF__COUNT; f++) {
        if (!r->az[f]) continue;
        size_t n = strlen(r->az[f]);
        if (n > PROTO_FIELD_MAX) {
            PROBLEM(pErr, f, "%s长 %zu 字节，超过 %d 字节的上限", aField[f].zCn, n, PROTO_FIELD_MAX);
            return PS_TOO_BIG;
        }
        size_t at = 0;
        int rcText = proto_text_check(r->az[f], n, &at);
        if (rcText == PS_ENCODING) {
            PROBLEM(pErr, f, "%s在第 %zu 字节处不是有效的 UTF-8", aField[f].zCn, at + 1);
            return PS_ENCODING;
        }
        if (rcText != PS_OK) {
            PROBLEM(pErr, f, "%s在第 %zu 字节处含控制字符 0x%02X（只允许制表符和换行）", aField[f].zCn, at + 1,
                    (unsigned char)r->az[f][at]);
            return PS_INVALID;
        }
    }
    if (!r->az[PF_CODE]) {
        PROBLEM(pErr, PF_CODE, "缺少档号（DA/T 18 规定的必填项）");
        return PS_INVALID;
    }
    if (proto_code_parse(r->az[PF_CODE], &code, zMsg, sizeof zMsg) != PS_OK) {
        PROBLEM(pErr, PF_CODE, "%s", zMsg);
        return PS_INVALID;
    }
    if ((rc = set_str(r, PF_CODE, code.zCanonical)) != PS_OK) goto nomem;

    if (r->az[PF_RETENTION]) {
        const char *zRet = proto_retention_code(r->az[PF_RETENTION]);
        if (!zRet) {
            PROBLEM(pErr, PF_RETENTION, "保管期限“%s”不是 永久（Y）、30年（D30）、10年（D10）之一", r->az[PF_RETENTION]);
            return PS_INVALID;
        }
        if ((rc = set_str(r, PF_RETENTION, zRet)) != PS_OK) goto nomem;
    }
    if (r->az[PF_YEAR] && (parse_uint(r->az[PF_YEAR], 9999, &v) != 0 || strlen(r->az[PF_YEAR]) != 4)) {
        PROBLEM(pErr, PF_YEAR, "年度“%s”应为 4 位数字", r->az[PF_YEAR]);
        return PS_INVALID;
    }
    if (r->az[PF_ITEM_NO]) {
        /* Catalogs often drop the zero padding of 件号: "1" means 0001. */
        if (parse_uint(r->az[PF_ITEM_NO], 9999, &v) != 0) {
            PROBLEM(pErr, PF_ITEM_NO, "件号“%s”应为 1 至 9999 的数字", r->az[PF_ITEM_NO]);
            return PS_INVALID;
        }
        snprintf(zBuf, sizeof zBuf, "%04ld", v);
        if ((rc = set_str(r, PF_ITEM_NO, zBuf)) != PS_OK) goto nomem;
    }
    if ((rc = agree(r, PF_FONDS, code.zFonds, pErr)) != PS_OK) return rc;
    if ((rc = agree(r, PF_CATEGORY, code.zCategory, pErr)) != PS_OK) return rc;
    snprintf(zBuf, sizeof zBuf, "%04d", code.year);
    if ((rc = agree(r, PF_YEAR, zBuf, pErr)) != PS_OK) return rc;
    if ((rc = agree(r, PF_RETENTION, code.zRetention, pErr)) != PS_OK) return rc;
    if (code.zOrg[0] && (rc = agree(r, PF_ORG, code.zOrg, pErr)) != PS_OK) return rc;
    snprintf(zBuf, sizeof zBuf, "%04d", code.itemNo);
    if ((rc = agree(r, PF_ITEM_NO, zBuf, pErr)) != PS_OK) return rc;

    if (!r->az[PF_TITLE]) {
        PROBLEM(pErr, PF_TITLE, "缺少题名（DA/T 18 规定的必填项）");
        return PS_INVALID;
    }
    if (r->az[PF_DATE]) {
        if (check_date(r->az[PF_DATE]) != 0) {
            PROBLEM(pErr, PF_DATE, "日期“%s”应为实有日期的 8 位数字 YYYYMMDD（未知月日写00）", r->az[PF_DATE]);
            return PS_INVALID;
        }
    } else if (nWarn < nWarnMax) {
        PROBLEM(&aWarn[nWarn], PF_DATE, "缺少日期（DA/T 18 规定的必填项）");
        nWarn++;
    }
    if (!r->az[PF_AUTHOR] && nWarn < nWarnMax) {
        PROBLEM(&aWarn[nWarn], PF_AUTHOR, "缺少责任者（DA/T 18 规定的必填项）");
        nWarn++;
    }
    if (r->az[PF_PAGES]) {
        if (parse_uint(r->az[PF_PAGES], 100000, &v) != 0) {
            PROBLEM(pErr, PF_PAGES, "页数“%s”应为 0 至 100000 的整数", r->az[PF_PAGES]);
            return PS_INVALID;
        }
        snprintf(zBuf, sizeof zBuf, "%ld", v);
        if ((rc = set_str(r, PF_PAGES, zBuf)) != PS_OK) goto nomem;
    }
    if (r->az[PF_CLASSIFICATION]) {
        int ok = 0;
        for (int i = 0; azLevel[i]; i++) ok |= strcmp(r->az[PF_CLASSIFICATION], azLevel[i]) == 0;
        if (!ok) {
            PROBLEM(pErr, PF_CLASSIFICATION, "密级“%s”不是 公开、内部、限制、秘密、机密、绝密 之一", r->az[PF_CLASSIFICATION]);
            return PS_INVALID;
        }
    }
    if (r->az[PF_PARENT] && r->az[PF_PARENT][0] == 0) { px_free(r->az[PF_PARENT]); r->az[PF_PARENT] = NULL; }
    if (pnWarn) *pnWarn = nWarn;
    return PS_OK;
nomem:
    PROBLEM(pErr, -1, "内存不足");
    return rc;
}

int proto_record_audit(const proto_record *r, proto_finding *a, int nMax, int *pComplete)
{
    proto_record c;
    proto_record_init(&c);
    for (int f = 0; f < PF__COUNT; f++)
        if (r->az[f] && proto_record_set(&c, f, r->az[f], strlen(r->az[f])) != PS_OK) {
            proto_record_clear(&c);
            return -1;
        }
    int n = 0;
    int rc = proto_record_normalise(&c, a, nMax, &n, pComplete);
    proto_record_clear(&c);
    return rc == PS_NOMEM ? -1 : n;
}

static int is_int_field(int f) { return f == PF_YEAR || f == PF_ITEM_NO || f == PF_PAGES; }

json_t *proto_record_to_json(const proto_record *r)
{
    json_t *o = json_object();
    if (!o) return NULL;
    for (int f = 0; f < PF__COUNT; f++) {
        json_t *v;
        if (!r->az[f]) {
            if (f == PF_PARENT) continue;
            v = is_int_field(f) ? json_null() : json_string("");
        } else if (is_int_field(f)) {
            v = json_integer(strtol(r->az[f], NULL, 10));
        } else {
            v = json_string(r->az[f]);
        }
        if (!v || json_object_set_new(o, aField[f].zKey, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int proto_record_from_json(proto_record *r, const json_t *pObj, proto_problem *pErr)
{
    const char *zKey;
    json_t *v;
    char zBuf[32];

    if (!json_is_object(pObj)) {
        PROBLEM(pErr, -1, "一条档案著录须为 JSON 对象");
        return PS_INVALID;
    }
    json_object_foreach((json_t *)pObj, zKey, v) {
        int f = -1;
        for (int i = 0; i < PF__COUNT; i++)
            if (strcmp(zKey, aField[i].zKey) == 0) f = i;
        if (f < 0) {
            int nKey = 60; /* cut between characters */
            while (nKey > 0 && strlen(zKey) > (size_t)nKey && ((unsigned char)zKey[nKey] & 0xC0) == 0x80) nKey--;
            PROBLEM(pErr, -1, "未知的键“%.*s”", nKey, zKey);
            return PS_INVALID;
        }
        int rc;
        if (json_is_null(v)) continue;
        if (json_is_string(v)) {
            rc = proto_record_set(r, f, json_string_value(v), json_string_length(v));
        } else if (json_is_integer(v) && is_int_field(f)) {
            snprintf(zBuf, sizeof zBuf, "%lld", (long long)json_integer_value(v));
            rc = proto_record_set(r, f, zBuf, strlen(zBuf));
        } else {
            PROBLEM(pErr, f, "%s（%s）须为%s", aField[f].zKey, aField[f].zCn, is_int_field(f) ? "数字" : "字符串");
            return PS_INVALID;
        }
        if (rc != PS_OK) {
            PROBLEM(pErr, -1, "内存不足");
            return rc;
        }
    }
    return PS_OK;
}
