/* 档号 parser. */
#include "proto_code.h"
#include "proto_status.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Separators that stand in for '·' between parts of one level. */
static const char *const azDot[] = {"\xC2\xB7", "\xE3\x83\xBB", "\xE2\x80\xA2",
                                    "\xEF\xBC\x8E", ".", "\xE2\x8B\x85", NULL};
/* Separators that stand in for '-' between levels. */
static const char *const azDash[] = {"-", "\xEF\xBC\x8D", "\xE2\x80\x90",
                                     "\xE2\x80\x93", NULL};

static size_t match_any(const char *z, const char *const *az)
{
    for (int i = 0; az[i]; i++) {
        size_t n = strlen(az[i]);
        if (strncmp(z, az[i], n) == 0) return n;
    }
    return 0;
}

/* Rewrite z into zOut with canonical separators: levels by '-' (0x1F marks
 * them internally so that a '-' can't be confused) and parts by '.'. */
static int normalise(const char *z, char *zOut, size_t nOut)
{
    size_t j = 0;
    while (*z == ' ' || *z == '\t') z++;
    size_t len = strlen(z);
    while (len > 0 && (z[len - 1] == ' ' || z[len - 1] == '\t' ||
                       z[len - 1] == '\r' || z[len - 1] == '\n'))
        len--;
    for (size_t i = 0; i < len;) {
        size_t n;
        char c;
        if ((n = match_any(z + i, azDash)) != 0) c = '-';
        else if ((n = match_any(z + i, azDot)) != 0) c = '.';
        else { c = z[i]; n = 1; }
        if (j + 1 >= nOut) return -1;
        zOut[j++] = c;
        i += n;
    }
    zOut[j] = 0;
    return 0;
}

static int all_of(const char *z, size_t n, int (*pred)(int))
{
    for (size_t i = 0; i < n; i++)
        if (!pred((unsigned char)z[i])) return 0;
    return 1;
}

static int is_upper_alnum(int c) { return isupper(c) || isdigit(c); }
static int is_upper(int c) { return isupper(c); }
static int is_digit(int c) { return isdigit(c); }
static int is_alnum(int c) { return isalnum(c); }

/* Print the first byte that breaks pred, for the message. */
static void bad_char(const char *z, size_t n, int (*pred)(int), char *zBad, size_t nBad)
{
    for (size_t i = 0; i < n; i++)
        if (!pred((unsigned char)z[i])) {
            if ((unsigned char)z[i] < 0x80 && isprint((unsigned char)z[i]))
                snprintf(zBad, nBad, "字符“%c”", z[i]);
            else
                snprintf(zBad, nBad, "非 ASCII 字符");
            return;
        }
    snprintf(zBad, nBad, "?");
}

/* The message into zErr; cut to fit, it is cut between characters, not
 * inside one, so that it stays UTF-8 (it goes out in JSON). */
static void fail_msg(char *zErr, size_t nErr, const char *zFmt, ...) __attribute__((format(printf, 3, 4)));

static void fail_msg(char *zErr, size_t nErr, const char *zFmt, ...)
{
    va_list ap;
    if (!zErr || nErr == 0) return;
    va_start(ap, zFmt);
    int n = vsnprintf(zErr, nErr, zFmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n < nErr) return;
    size_t k = nErr - 1;  /* cut: zErr[k] is the NUL; drop a character left incomplete */
    size_t i = k;
    while (i > 0 && ((unsigned char)zErr[i - 1] & 0xC0) == 0x80) i--;
    if (i > 0 && ((unsigned char)zErr[i - 1] & 0xC0) == 0xC0) {
        unsigned char c = (unsigned char)zErr[i - 1];
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (k - (i - 1) < need) zErr[i - 1] = 0;
    }
}

#define FAIL(...) do { fail_msg(zErr, nErr, __VA_ARGS__); return PS_INVALID; } while (0)

int proto_code_parse(const char *zIn, proto_code *p, char *zErr, size_t nErr)
{
    char z[PROTO_CODE_MAX * 2];
    char zBad[40];
    const char *aLevel[8];
    size_t anLevel[8];
    int nLevel = 0;

    memset(p, 0, sizeof(*p));
    if (!zIn || !*zIn) FAIL("档号为空");
    if (normalise(zIn, z, sizeof(z)) != 0)
        FAIL("档号超过 %d 字节", PROTO_CODE_MAX - 1);
    if (!*z) FAIL("档号为空");

    const char *s = z;
    for (;;) {
        const char *e = strchr(s, '-');
        if (nLevel == 8) FAIL("档号以“-”分隔的层级多于 5 级");
        aLevel[nLevel] = s;
        anLevel[nLevel] = e ? (size_t)(e - s) : strlen(s);
        nLevel++;
        if (!e) break;
        s = e + 1;
    }
    for (int i = 0; i < nLevel; i++)
        if (anLevel[i] == 0) FAIL("档号第 %d 级为空（两个“-”相连，或“-”在首尾）", i + 1);
    if (nLevel < 4)
        FAIL("档号只有 %d 级；应为 全宗号-门类代码·年度-保管期限-[机构-]件号", nLevel);
    if (nLevel > 5)
        FAIL("档号有 %d 级；至多 5 级（全宗号-门类代码·年度-保管期限-机构-件号）", nLevel);

    /* 全宗号 */
    if (anLevel[0] > 16) FAIL("全宗号“%.*s”超过 16 个字符", (int)anLevel[0], aLevel[0]);
    if (!all_of(aLevel[0], anLevel[0], is_alnum)) {
        bad_char(aLevel[0], anLevel[0], is_alnum, zBad, sizeof zBad);
        FAIL("全宗号“%.*s”含%s；只允许字母和数字", (int)anLevel[0], aLevel[0], zBad);
    }
    memcpy(p->zFonds, aLevel[0], anLevel[0]);

    /* 门类代码·年度 */
    const char *dot = memchr(aLevel[1], '.', anLevel[1]);
    if (!dot) FAIL("“%.*s”的门类代码与年度之间缺少“·”", (int)anLevel[1], aLevel[1]);
    size_t nCat = (size_t)(dot - aLevel[1]);
    size_t nYear = anLevel[1] - nCat - 1;
    const char *zYear = dot + 1;
    if (nCat == 0) FAIL("“·”前缺少门类代码");
    if (nCat > 8) FAIL("门类代码“%.*s”超过 8 个字母", (int)nCat, aLevel[1]);
    if (!all_of(aLevel[1], nCat, is_upper)) {
        bad_char(aLevel[1], nCat, is_upper, zBad, sizeof zBad);
        FAIL("门类代码“%.*s”含%s；只允许大写字母（如 WS、ZP、KJ）", (int)nCat, aLevel[1], zBad);
    }
    memcpy(p->zCategory, aLevel[1], nCat);
    if (memchr(zYear, '.', nYear)) FAIL("“%.*s”含不止一个“·”", (int)anLevel[1], aLevel[1]);
    if (nYear != 4 || !all_of(zYear, nYear, is_digit))
        FAIL("年度“%.*s”应为 4 位数字", (int)nYear, zYear);
    p->year = (zYear[0] - '0') * 1000 + (zYear[1] - '0') * 100 + (zYear[2] - '0') * 10 + (zYear[3] - '0');
    if (p->year < 1900 || p->year > 2099) FAIL("年度 %d 不在 1900 至 2099 之间", p->year);

    /* 保管期限代码 */
    if (memchr(aLevel[2], '.', anLevel[2])) FAIL("保管期限代码“%.*s”不应含“·”", (int)anLevel[2], aLevel[2]);
    if (!((anLevel[2] == 1 && aLevel[2][0] == 'Y') ||
          (anLevel[2] == 3 && strncmp(aLevel[2], "D30", 3) == 0) ||
          (anLevel[2] == 3 && strncmp(aLevel[2], "D10", 3) == 0)))
        FAIL("保管期限代码“%.*s”不是 Y（永久）、D30（30年）、D10（10年）之一", (int)anLevel[2], aLevel[2]);
    memcpy(p->zRetention, aLevel[2], anLevel[2]);

    /* 机构（问题）代码, optional */
    if (nLevel == 5) {
        if (anLevel[3] > 16) FAIL("机构（问题）代码“%.*s”超过 16 个字符", (int)anLevel[3], aLevel[3]);
        if (!all_of(aLevel[3], anLevel[3], is_upper_alnum)) {
            bad_char(aLevel[3], anLevel[3], is_upper_alnum, zBad, sizeof zBad);
            FAIL("机构（问题）代码“%.*s”含%s；只允许大写字母和数字", (int)anLevel[3], aLevel[3], zBad);
        }
        memcpy(p->zOrg, aLevel[3], anLevel[3]);
    }

    /* 件号 */
    const char *zItem = aLevel[nLevel - 1];
    size_t nItem = anLevel[nLevel - 1];
    if (!all_of(zItem, nItem, is_digit)) {
        bad_char(zItem, nItem, is_digit, zBad, sizeof zBad);
        FAIL("件号“%.*s”含%s；应为 4 位数字", (int)nItem, zItem, zBad);
    }
    if (nItem != 4) FAIL("件号“%.*s”应为 4 位数字，不足 4 位前面补 0（如 0001）", (int)nItem, zItem);
    p->itemNo = (zItem[0] - '0') * 1000 + (zItem[1] - '0') * 100 + (zItem[2] - '0') * 10 + (zItem[3] - '0');
    if (p->itemNo == 0) FAIL("件号不能为 0000，应从 0001 起编");

    snprintf(p->zCanonical, sizeof p->zCanonical, "%s-%s\xC2\xB7%04d-%s%s%s-%04d",
             p->zFonds, p->zCategory, p->year, p->zRetention,
             p->zOrg[0] ? "-" : "", p->zOrg, p->itemNo);
    return PS_OK;
}

const char *proto_retention_code(const char *z)
{
    static const struct { const char *zIn, *zCode; } a[] = {
        {"Y", "Y"}, {"D30", "D30"}, {"D10", "D10"}, {"永久", "Y"},
        {"30年", "D30"}, {"10年", "D10"}, {"y", "Y"}, {"d30", "D30"}, {"d10", "D10"},
    };
    if (!z) return NULL;
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (strcmp(z, a[i].zIn) == 0) return a[i].zCode;
    return NULL;
}
