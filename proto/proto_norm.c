/* A catalog row as office software writes it, read leniently: what is
 * unambiguous is normalised and recorded, what is irregular is recorded
 * and kept (proto_record_normalise in proto_record.h). */
#include "proto_record.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DA/T 22 门类 names and their codes (a unit's own names come on top). */
static const struct {
    const char *zName, *zCode;
} aCategory[] = {
    {"文书", "WS"}, {"文书档案", "WS"}, {"科技", "KJ"}, {"科技档案", "KJ"}, {"项目", "KJ"},
    {"会计", "KU"}, {"会计档案", "KU"}, {"照片", "ZP"}, {"照片档案", "ZP"}, {"录音", "LY"},
    {"录音档案", "LY"}, {"录像", "LX"}, {"录像档案", "LX"}, {"实物", "SW"}, {"实物档案", "SW"},
    {"分户", "FH"}, {"分户档案", "FH"}, {"一户一档", "FH"}, {"电子", "DZ"}, {"电子档案", "DZ"},
};

/* A unit's own names (config): set once at start-up, before any thread
 * reads them, and then only read. */
#define UNIT_NAMES_MAX 64
typedef struct {
    char zName[64];
    char zCode[9];
} unit_name;
static unit_name aUnitName[UNIT_NAMES_MAX];
static int nUnitName;

int proto_category_names_set(const char *zSpec, char *zErr, size_t nErr)
{
    unit_name a[UNIT_NAMES_MAX];
    int n = 0;
    const char *z = zSpec ? zSpec : "";
    while (*z) {
        const char *zEnd = strchr(z, ',');
        size_t len = zEnd ? (size_t)(zEnd - z) : strlen(z);
        const char *zEq = memchr(z, '=', len);
        while (len > 0 && z[0] == ' ') z++, len--;
        if (!zEq || zEq == z) {
            snprintf(zErr, nErr, "“%.*s”应写成 名称=代码（如 扶贫档案=WS），多项以英文逗号分隔", (int)len, z);
            return PS_CONFIG;
        }
        size_t nName = (size_t)(zEq - z), nCode = len - nName - 1;
        while (nName > 0 && z[nName - 1] == ' ') nName--;
        const char *zC = zEq + 1;
        while (nCode > 0 && *zC == ' ') zC++, nCode--;
        while (nCode > 0 && zC[nCode - 1] == ' ') nCode--;
        int ok = nCode >= 1 && nCode <= 8;
        for (size_t i = 0; ok && i < nCode; i++) ok = zC[i] >= 'A' && zC[i] <= 'Z';
        if (!ok) {
            snprintf(zErr, nErr, "门类名称“%.*s”对应的代码“%.*s”不是 1 到 8 个大写字母", (int)nName, z, (int)nCode, zC);
            return PS_CONFIG;
        }
        if (nName >= sizeof a[0].zName || !proto_utf8_valid(z, nName)) {
            snprintf(zErr, nErr, "门类名称过长（至多 %zu 字节）或不是 UTF-8", sizeof a[0].zName - 1);
            return PS_CONFIG;
        }
        if (n == UNIT_NAMES_MAX) {
            snprintf(zErr, nErr, "门类名称至多 %d 个", UNIT_NAMES_MAX);
            return PS_CONFIG;
        }
        memcpy(a[n].zName, z, nName);
        a[n].zName[nName] = 0;
        memcpy(a[n].zCode, zC, nCode);
        a[n].zCode[nCode] = 0;
        n++;
        z = zEnd ? zEnd + 1 : z + len;
    }
    memcpy(aUnitName, a, (size_t)n * sizeof a[0]);
    nUnitName = n;
    return PS_OK;
}

const char *proto_category_code(const char *z)
{
    if (!z) return NULL;
    for (int i = 0; i < nUnitName; i++)
        if (strcmp(z, aUnitName[i].zName) == 0) return aUnitName[i].zCode;
    for (size_t i = 0; i < sizeof aCategory / sizeof aCategory[0]; i++)
        if (strcmp(z, aCategory[i].zName) == 0) return aCategory[i].zCode;
    return NULL;
}

/* ---- findings ----------------------------------------------------------- */

const char *proto_rule_cn(const char *zRule)
{
    static const char *const az[][2] = {
        {"unclosed_quote", "引号未闭合"}, {"control", "控制字符"}, {"length", "内容超长"},
        {"trimmed", "首尾空格已去除"}, {"encoding", "编码不一致"}, {"extra_fields", "字段数多于表头"},
        {"category_name", "门类按名称著录"}, {"retention", "保管期限不规范"}, {"code_form", "档号写法不规范"},
        {"code", "档号不规范"}, {"code_parts", "档号与各项不一致"}, {"date_form", "日期写法不规范"},
        {"date", "日期不规范"}, {"pages_form", "页数写法不规范"}, {"pages", "页数不规范"},
        {"classification", "密级不规范"}, {"mandatory", "必填项缺失"}, {"year", "年度不规范"},
        {"item_no", "件号不规范"}, {"duplicate", "档号重复"}, {"item_gap", "件号不连续"},
        {"shape", "行格式不规范"}, {"pages_scanned", "页数与扫描页数不符"},
    };
    for (size_t i = 0; zRule && i < sizeof az / sizeof az[0]; i++)
        if (strcmp(zRule, az[i][0]) == 0) return az[i][1];
    return zRule ? zRule : "";
}

/* ---- findings (the rest) ----------------------------------------------------------- */

/* Copy z into a buffer of n bytes, cut between characters ("…" when cut). */
static void cut_copy(char *zOut, size_t n, const char *z)
{
    size_t len = z ? strlen(z) : 0;
    if (len < n) {
        memcpy(zOut, z ? z : "", len + 1);
        return;
    }
    size_t k = n - 4; /* room for "…" and the NUL */
    while (k > 0 && ((unsigned char)z[k] & 0xC0) == 0x80) k--;
    memcpy(zOut, z, k);
    memcpy(zOut + k, "\xE2\x80\xA6", 4);
}

static void add(proto_finding *a, int nMax, int *pn, int f, const char *zRule, int severity, const char *zWritten,
                const char *zUnderstood, const char *zFmt, ...) __attribute__((format(printf, 9, 10)));

static void add(proto_finding *a, int nMax, int *pn, int f, const char *zRule, int severity, const char *zWritten,
                const char *zUnderstood, const char *zFmt, ...)
{
    if (*pn < nMax) {
        proto_finding *x = &a[*pn];
        va_list ap;
        va_start(ap, zFmt);
        x->field = f;
        x->zRule = zRule;
        x->severity = severity;
        vsnprintf(x->zReason, sizeof x->zReason, zFmt, ap);
        va_end(ap);
        /* a reason cut to its buffer ends between characters */
        size_t n = strlen(x->zReason);
        while (n > 0 && !proto_utf8_valid(x->zReason, n)) n--;
        x->zReason[n] = 0;
        cut_copy(x->zWritten, sizeof x->zWritten, zWritten);
        cut_copy(x->zUnderstood, sizeof x->zUnderstood, zUnderstood);
    }
    (*pn)++;
}

/* ---- text ----------------------------------------------------------------- */

/* Fold full-width ASCII (！-～) and the ideographic space to ASCII, in a new
 * string (NULL when out of memory). */
static char *fold_ascii(const char *z)
{
    size_t n = strlen(z), i = 0, j = 0;
    char *zOut = px_malloc(n + 1);
    if (!zOut) return NULL;
    while (i < n) {
        size_t i0 = i;
        unsigned c = proto_utf8_next(z, n, &i);
        if (c >= 0xFF01 && c <= 0xFF5E) zOut[j++] = (char)(c - 0xFEE0);
        else if (c == 0x3000) zOut[j++] = ' ';
        else {
            memcpy(zOut + j, z + i0, i - i0);
            j += i - i0;
        }
    }
    zOut[j] = 0;
    return zOut;
}

static int set(proto_record *r, proto_field f, const char *z)
{
    return proto_record_set(r, f, z, strlen(z));
}

int proto_record_set_as_written(proto_record *r, proto_field f, const char *z, size_t n)
{
    px_free(r->az[f]);
    r->az[f] = NULL;
    if (n == 0) return PS_OK;
    r->az[f] = px_strndup(z, n);
    return r->az[f] ? PS_OK : PS_NOMEM;
}

size_t proto_trim_span(const char *z, size_t n, size_t *pStart)
{
    size_t a = 0;
    for (;;) {
        if (a < n && (z[a] == ' ' || z[a] == '\t' || z[a] == '\r' || z[a] == '\n')) a++;
        else if (n - a >= 3 && memcmp(z + a, "\xE3\x80\x80", 3) == 0) a += 3;
        else break;
    }
    for (;;) {
        if (n > a && (z[n - 1] == ' ' || z[n - 1] == '\t' || z[n - 1] == '\r' || z[n - 1] == '\n')) n--;
        else if (n - a >= 3 && memcmp(z + n - 3, "\xE3\x80\x80", 3) == 0) n -= 3;
        else break;
    }
    *pStart = a;
    return n - a;
}

/* z for a finding, both ends shown (what was cut off them matters): whole
 * when it fits nOut, else its head, "…" and its tail, cut between
 * characters. */
static void ends_copy(char *zOut, size_t nOut, const char *z)
{
    size_t n = strlen(z);
    if (n < nOut) {
        memcpy(zOut, z, n + 1);
        return;
    }
    size_t nHalf = (nOut - 4) / 2, h = nHalf, t = n - nHalf;
    while (h > 0 && ((unsigned char)z[h] & 0xC0) == 0x80) h--;
    while (t < n && ((unsigned char)z[t] & 0xC0) == 0x80) t++;
    memcpy(zOut, z, h);
    memcpy(zOut + h, "\xE2\x80\xA6", 3);
    memcpy(zOut + h + 3, z + t, n - t + 1);
}

/* ---- 档号 ------------------------------------------------------------------ */

/* The 档号 as written, read leniently: full-width letters and digits, lower
 * case, a '-' where the '·' between 门类 and 年度 belongs, a 件号 without its
 * zero padding or with too much of it (00015: its number, 1-9999,
 * decides).  PS_OK with *pOut, PS_INVALID (zErr from the strict parser),
 * PS_NOMEM. */
static int code_lenient(const char *zWritten, proto_code *pOut, char *zErr, size_t nErr)
{
    if (proto_code_parse(zWritten, pOut, zErr, nErr) == PS_OK) return PS_OK;
    if (strlen(zWritten) > 4 * PROTO_CODE_MAX) return PS_INVALID; /* no 档号 is that long */
    char zStrictErr[256];
    snprintf(zStrictErr, sizeof zStrictErr, "%s", zErr);
    char *z = fold_ascii(zWritten);
    if (!z) return PS_NOMEM;
    /* upper case, and the levels split on any dash */
    for (char *q = z; *q; q++)
        if (*q >= 'a' && *q <= 'z') *q = (char)(*q - 32);
    char zTry[PROTO_CODE_MAX * 2];
    int rc = PS_INVALID;
    if (proto_code_parse(z, pOut, zErr, nErr) == PS_OK) {
        rc = PS_OK;
        goto out;
    }
    /* levels and parts, with '-' '.' '·' and their look-alikes as written */
    const char *azLevel[8];
    size_t anLevel[8];
    int nLevel = 0;
    char zSplit[PROTO_CODE_MAX * 2];
    size_t j = 0;
    size_t nZ = strlen(z);
    for (size_t i = 0; i < nZ && j + 1 < sizeof zSplit;) {
        size_t i0 = i;
        unsigned c = proto_utf8_next(z, nZ, &i);
        int sep = c == '-' || c == 0x2010 || c == 0x2013 || c == 0x2014 || c == 0x2212 || c == '.' || c == 0xB7 ||
                  c == 0x30FB || c == 0x2022 || c == 0x22C5 || c == 0xFF65;
        if (sep) zSplit[j++] = 0;
        else if (c != ' ' && c != '\t') {
            if (j + (i - i0) + 1 >= sizeof zSplit) break;
            memcpy(zSplit + j, z + i0, i - i0);
            j += i - i0;
        }
    }
    zSplit[j] = 0;
    for (size_t i = 0; i <= j && nLevel < 8;) {
        azLevel[nLevel] = zSplit + i;
        anLevel[nLevel] = strlen(zSplit + i);
        nLevel++;
        i += strlen(zSplit + i) + 1;
    }
    /* 全宗号 门类 年度 保管期限 [机构] 件号: five or six parts, the year the
     * third, the 件号 digits: unambiguous */
    if (nLevel == 5 || nLevel == 6) {
        /* the 件号 with too few zeros, or too many (00015): its number 1-9999 */
        const char *zItem = azLevel[nLevel - 1];
        size_t nItem = anLevel[nLevel - 1];
        while (nItem > 1 && *zItem == '0') zItem++, nItem--;
        int ok = anLevel[2] == 4 && strspn(azLevel[2], "0123456789") == 4 && anLevel[nLevel - 1] >= 1 &&
                 strspn(azLevel[nLevel - 1], "0123456789") == anLevel[nLevel - 1] && nItem <= 4;
        for (int k = 0; k < nLevel && ok; k++) ok = anLevel[k] > 0;
        if (ok) {
            long item = strtol(zItem, NULL, 10);
            if (nLevel == 6)
                snprintf(zTry, sizeof zTry, "%s-%s\xC2\xB7%s-%s-%s-%04ld", azLevel[0], azLevel[1], azLevel[2], azLevel[3],
                         azLevel[4], item);
            else
                snprintf(zTry, sizeof zTry, "%s-%s\xC2\xB7%s-%s-%04ld", azLevel[0], azLevel[1], azLevel[2], azLevel[3], item);
            if (proto_code_parse(zTry, pOut, zErr, nErr) == PS_OK) rc = PS_OK;
        }
    }
    if (rc != PS_OK) snprintf(zErr, nErr, "%s", zStrictErr);
out:
    px_free(z);
    return rc;
}

/* ---- dates and numbers ------------------------------------------------------ */

static int real_date(int y, int m, int d)
{
    static const int anDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2099 || m < 0 || m > 12 || d < 0) return 0;
    if (m == 0) return d == 0;
    if (d > anDays[m - 1]) return 0;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* A date as people write it: 20170307, 2017-3-7, 2017/3/7, 2017.03.07,
 * 2017年3月7日 (also 2017年3月, 2017-03, 2017), full-width digits too, into
 * YYYYMMDD (00 for a month or day not given).  0, or -1. */
static int parse_date(const char *zIn, char *zOut)
{
    if (strlen(zIn) > 64) return -1;
    char *z = fold_ascii(zIn);
    if (!z) return -1;
    int a[3] = {0, 0, 0}, n = 0, rc = -1;
    size_t len = strlen(z);
    if (len == 8 && strspn(z, "0123456789") == 8) {
        a[0] = atoi((char[]){z[0], z[1], z[2], z[3], 0});
        a[1] = atoi((char[]){z[4], z[5], 0});
        a[2] = atoi((char[]){z[6], z[7], 0});
        n = 3;
    } else {
        const char *p = z;
        while (*p && n < 3) {
            size_t k = strspn(p, "0123456789");
            if (!k || k > 4 || (n > 0 && k > 2) || (n == 0 && k != 4)) goto out;
            char zNum[8];
            memcpy(zNum, p, k);
            zNum[k] = 0;
            a[n++] = atoi(zNum);
            p += k;
            if (!*p) break;
            /* the separator after this number */
            if (*p == '-' || *p == '/' || *p == '.') {
                p++;
                if (!*p) goto out;
            } else if (n == 1 && strncmp(p, "年", 3) == 0) {
                p += 3;
            } else if (n == 2 && strncmp(p, "月", 3) == 0) {
                p += 3;
            } else if (n == 3 && strncmp(p, "日", 3) == 0) {
                p += 3;
            } else {
                goto out;
            }
        }
        if (*p) goto out;
    }
    if (n < 1 || !real_date(a[0], a[1], a[2])) goto out;
    unsigned y = (unsigned)a[0] % 10000u, m = (unsigned)a[1] % 100u, d = (unsigned)a[2] % 100u;
    snprintf(zOut, 12, "%04u%02u%02u", y, m, d);
    rc = 0;
out:
    px_free(z);
    return rc;
}

/* 页数 as written: digits, with a unit (页, 张, p) after them. */
static int parse_pages(const char *zIn, long *pOut)
{
    if (strlen(zIn) > 64) return -1;
    char *z = fold_ascii(zIn);
    if (!z) return -1;
    int rc = -1;
    size_t k = strspn(z, "0123456789");
    const char *rest = z + k;
    while (*rest == ' ') rest++;
    if (k >= 1 && k <= 6 &&
        (!*rest || strcmp(rest, "页") == 0 || strcmp(rest, "张") == 0 || strcmp(rest, "p") == 0 || strcmp(rest, "P") == 0)) {
        *pOut = strtol(z, NULL, 10);
        rc = 0;
    }
    px_free(z);
    return rc;
}

/* ---- the row --------------------------------------------------------------- */

enum { SEV_NOTE = PROTO_FINDING_NOTE, SEV_WARN = PROTO_FINDING_WARNING, SEV_ERR = PROTO_FINDING_ERROR };

/* Remove control characters (but TAB and line breaks) from field f. */
static int clean_controls(proto_record *r, int f, proto_finding *a, int nMax, int *pn)
{
    char *z = r->az[f];
    size_t n = strlen(z), at = 0;
    if (proto_text_check(z, n, &at) != PS_INVALID) return PS_OK;
    /* what was written, each control character shown as its picture
     * (U+2400 + c: ␚, U+2421 for DEL), so that people see where it was */
    char zShown[200];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < sizeof zShown; i++) {
        unsigned char c = (unsigned char)z[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            unsigned u = c == 0x7F ? 0x2421 : 0x2400 + c;
            zShown[k++] = (char)(0xE0 | (u >> 12));
            zShown[k++] = (char)(0x80 | ((u >> 6) & 0x3F));
            zShown[k++] = (char)(0x80 | (u & 0x3F));
        } else {
            zShown[k++] = (char)c;
        }
    }
    while (k > 0 && ((unsigned char)zShown[k - 1] & 0xC0) == 0x80 && !proto_utf8_valid(zShown, k)) k--;
    while (k > 0 && !proto_utf8_valid(zShown, k)) k--;
    zShown[k] = 0;
    size_t j = 0, nRemoved = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)z[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            nRemoved++;
            continue;
        }
        z[j++] = z[i];
    }
    z[j] = 0;
    add(a, nMax, pn, f, "control", SEV_ERR, zShown, z, "%s含 %zu 个控制字符（第 %zu 字节起），已删除", proto_field_cn(f),
        nRemoved, at + 1);
    if (!j) {
        px_free(r->az[f]);
        r->az[f] = NULL;
    }
    return PS_OK;
}

int proto_record_normalise(proto_record *r, proto_finding *a, int nMax, int *pn, int *pComplete)
{
    static const char *const azLevel[] = {"公开", "内部", "限制", "秘密", "机密", "绝密", NULL};
    char zBuf[32], zErr[256];
    int rc = PS_OK, named = 1;
    unsigned char flagged[PF__COUNT]; /* fields with a finding already: listed once */
    memset(flagged, 0, sizeof flagged);
    *pn = 0;
    for (int f = 0; f < PF__COUNT; f++) {
        if (!r->az[f]) continue;
        if (clean_controls(r, f, a, nMax, pn) != PS_OK) return PS_NOMEM;
        if (!r->az[f]) continue;
        /* spaces at the ends: the one place they are trimmed, and said so */
        size_t n = strlen(r->az[f]), at = 0, m = proto_trim_span(r->az[f], n, &at);
        if (m < n) {
            char *zTrim = px_strndup(r->az[f] + at, m), zShow[sizeof a[0].zWritten];
            if (!zTrim) return PS_NOMEM;
            ends_copy(zShow, sizeof zShow, r->az[f]);
            add(a, nMax, pn, f, "trimmed", SEV_NOTE, zShow, zTrim, "%s首尾的 %zu 个空白字符（空格、全角空格、制表符或换行）已去除",
                proto_field_cn(f), proto_utf8_count(r->az[f], at) + proto_utf8_count(r->az[f] + at + m, n - at - m));
            px_free(r->az[f]);
            r->az[f] = zTrim;
            if (!m) {
                px_free(r->az[f]);
                r->az[f] = NULL;
                continue;
            }
        }
        /* kept whole: a long field is no irregular entry */
        if (strlen(r->az[f]) > PROTO_FIELD_MAX)
            add(a, nMax, pn, f, "length", SEV_NOTE, r->az[f], "全文保留", "%s长 %zu 字节，超过 %d 字节；全文保留",
                proto_field_cn(f), strlen(r->az[f]), PROTO_FIELD_MAX);
    }
    /* the columns the 档号 has parts for, as written, for code_parts */
    static const int aPartField[] = {PF_FONDS, PF_CATEGORY, PF_YEAR, PF_RETENTION, PF_ORG, PF_ITEM_NO};
    char azPartWritten[sizeof aPartField / sizeof aPartField[0]][sizeof a[0].zWritten];
    for (size_t i = 0; i < sizeof aPartField / sizeof aPartField[0]; i++)
        cut_copy(azPartWritten[i], sizeof azPartWritten[i], r->az[aPartField[i]]);
    /* 门类 by its name */
    if (r->az[PF_CATEGORY] && proto_category_code(r->az[PF_CATEGORY])) {
        const char *zCode = proto_category_code(r->az[PF_CATEGORY]);
        add(a, nMax, pn, PF_CATEGORY, "category_name", SEV_NOTE, r->az[PF_CATEGORY], zCode, "门类按名称“%s”著录，按代码 %s 读取",
            r->az[PF_CATEGORY], zCode);
        if (set(r, PF_CATEGORY, zCode) != PS_OK) return PS_NOMEM;
    }
    /* 保管期限 as a name or code */
    if (r->az[PF_RETENTION]) {
        const char *zRet = proto_retention_code(r->az[PF_RETENTION]);
        if (!zRet) {
            add(a, nMax, pn, PF_RETENTION, "retention", SEV_ERR, r->az[PF_RETENTION], NULL,
                "保管期限“%s”不是 永久（Y）、30年（D30）、10年（D10）之一", r->az[PF_RETENTION]);
            flagged[PF_RETENTION] = 1;
        } else if (set(r, PF_RETENTION, zRet) != PS_OK) {
            return PS_NOMEM;
        }
    }
    /* 档号: as written, or made of its parts */
    proto_code code;
    int composed = 0;
    if (!r->az[PF_CODE] && r->az[PF_FONDS] && r->az[PF_CATEGORY] && r->az[PF_YEAR] && r->az[PF_RETENTION] &&
        r->az[PF_ITEM_NO]) {
        /* whole, however long the parts: a cut could split a character */
        size_t n = strlen(r->az[PF_FONDS]) + strlen(r->az[PF_CATEGORY]) + strlen(r->az[PF_YEAR]) +
                   strlen(r->az[PF_RETENTION]) + (r->az[PF_ORG] ? strlen(r->az[PF_ORG]) : 0) + strlen(r->az[PF_ITEM_NO]) + 16;
        char *z = px_malloc(n);
        if (!z) return PS_NOMEM;
        snprintf(z, n, "%s-%s\xC2\xB7%s-%s%s%s-%s", r->az[PF_FONDS], r->az[PF_CATEGORY], r->az[PF_YEAR],
                 r->az[PF_RETENTION], r->az[PF_ORG] ? "-" : "", r->az[PF_ORG] ? r->az[PF_ORG] : "", r->az[PF_ITEM_NO]);
        rc = set(r, PF_CODE, z);
        px_free(z);
        if (rc != PS_OK) return PS_NOMEM;
        composed = 1;
    }
    if (!r->az[PF_CODE]) {
        named = 0;
        add(a, nMax, pn, PF_CODE, "mandatory", SEV_ERR, NULL, NULL, "缺少档号（也无全宗号、门类、年度、保管期限、件号可组成档号）");
    } else {
        rc = code_lenient(r->az[PF_CODE], &code, zErr, sizeof zErr);
        if (rc == PS_NOMEM) return rc;
        if (rc != PS_OK) {
            named = 0;
            add(a, nMax, pn, PF_CODE, "code", SEV_ERR, r->az[PF_CODE], NULL, "档号无法读取：%s", zErr);
        } else {
            if (strcmp(code.zCanonical, r->az[PF_CODE]) != 0 && !composed)
                add(a, nMax, pn, PF_CODE, "code_form", SEV_ERR, r->az[PF_CODE], code.zCanonical,
                    "档号写法不规范，按 %s 读取", code.zCanonical);
            if (set(r, PF_CODE, code.zCanonical) != PS_OK) return PS_NOMEM;
        }
    }
    /* the columns against the 档号's parts: both kept, the 档号 indexes */
    if (named) {
        char zYear[8], zItem[8];
        snprintf(zYear, sizeof zYear, "%04d", code.year);
        snprintf(zItem, sizeof zItem, "%04d", code.itemNo);
        const char *azPart[] = {code.zFonds, code.zCategory, zYear, code.zRetention, code.zOrg, zItem};
        for (size_t i = 0; i < sizeof aPartField / sizeof aPartField[0]; i++) {
            int f = aPartField[i];
            const char *zCol = r->az[f];
            if (f == PF_ORG && !code.zOrg[0]) continue;
            if (zCol && f == PF_ITEM_NO) {
                long v;
                char *e;
                v = strtol(zCol, &e, 10);
                if (!*e && v >= 1 && v <= 9999) {
                    snprintf(zBuf, sizeof zBuf, "%04ld", v); /* 件号 with or without its zero padding */
                    if (set(r, f, zBuf) != PS_OK) return PS_NOMEM;
                    zCol = r->az[f];
                }
            }
            /* compared as read (30年 as D30, 照片 as ZP, 16 as 0016), shown as written */
            if (zCol && strcmp(zCol, azPart[i]) != 0 && !flagged[f])
                add(a, nMax, pn, f, "code_parts", SEV_ERR, azPartWritten[i], azPart[i], "%s“%s”与档号不符，档号为“%s”",
                    proto_field_cn(f), azPartWritten[i], azPart[i]);
            if (set(r, f, azPart[i]) != PS_OK) return PS_NOMEM;
        }
    }
    /* 日期 */
    if (r->az[PF_DATE]) {
        char zDate[12];
        if (parse_date(r->az[PF_DATE], zDate) != 0) {
            add(a, nMax, pn, PF_DATE, "date", SEV_ERR, r->az[PF_DATE], NULL,
                "日期“%s”无法读取（应为8位数字 YYYYMMDD，未知月日写00）", r->az[PF_DATE]);
            px_free(r->az[PF_DATE]);
            r->az[PF_DATE] = NULL;
            flagged[PF_DATE] = 1;
        } else {
            if (strcmp(zDate, r->az[PF_DATE]) != 0)
                add(a, nMax, pn, PF_DATE, "date_form", SEV_ERR, r->az[PF_DATE], zDate, "日期写法不规范，按 %s 读取", zDate);
            if (set(r, PF_DATE, zDate) != PS_OK) return PS_NOMEM;
        }
    }
    /* 页数 */
    if (r->az[PF_PAGES]) {
        long v;
        if (parse_pages(r->az[PF_PAGES], &v) != 0 || v < 1) {
            add(a, nMax, pn, PF_PAGES, "pages", SEV_ERR, r->az[PF_PAGES], NULL, "页数“%s”不是正整数", r->az[PF_PAGES]);
            px_free(r->az[PF_PAGES]);
            r->az[PF_PAGES] = NULL;
            flagged[PF_PAGES] = 1;
        } else {
            snprintf(zBuf, sizeof zBuf, "%ld", v);
            if (strcmp(zBuf, r->az[PF_PAGES]) != 0)
                add(a, nMax, pn, PF_PAGES, "pages_form", SEV_ERR, r->az[PF_PAGES], zBuf, "页数写法不规范，按 %s 读取", zBuf);
            if (set(r, PF_PAGES, zBuf) != PS_OK) return PS_NOMEM;
        }
    }
    /* 密级: an unknown level is kept as written, and closed to every reader */
    if (r->az[PF_CLASSIFICATION]) {
        int ok = 0;
        for (int i = 0; azLevel[i]; i++) ok |= strcmp(r->az[PF_CLASSIFICATION], azLevel[i]) == 0;
        if (!ok)
            add(a, nMax, pn, PF_CLASSIFICATION, "classification", SEV_ERR, r->az[PF_CLASSIFICATION], NULL,
                "密级“%s”不是 公开、内部、限制、秘密、机密、绝密 之一；在更正前无人可查阅", r->az[PF_CLASSIFICATION]);
    }
    /* the fields DA/T 18 makes mandatory */
    int complete = named;
    static const int aMand[] = {PF_TITLE, PF_AUTHOR, PF_DATE, PF_PAGES, PF_RETENTION};
    for (size_t i = 0; i < sizeof aMand / sizeof aMand[0]; i++) {
        int f = aMand[i];
        if (r->az[f]) continue;
        complete = 0;
        if (flagged[f]) continue; /* written, but unreadable: listed as such */
        add(a, nMax, pn, f, "mandatory", SEV_ERR, NULL, NULL, "缺少%s（必填项）", proto_field_cn(f));
    }
    if (pComplete) *pComplete = complete;
    return named ? PS_OK : PS_INVALID;
}
