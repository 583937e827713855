/* Text encodings of files from the field, told apart and converted with iconv. */
#include "proto_enc.h"
#include "proto_alloc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#define SNIFF_MAX 65536 /* bytes looked at to tell UTF-16 without a BOM */

static long line_of(const char *z, size_t i)
{
    long n = 1;
    for (size_t k = 0; k < i; k++) n += z[k] == '\n';
    return n;
}

static int convert(const char *zFrom, const char *z, size_t n, char **pzOut, size_t *pnOut,
                   size_t *piBad)
{
    iconv_t cd = iconv_open("UTF-8", zFrom);
    if (cd == (iconv_t)-1) return PS_INTERNAL;
    size_t nAlloc = n * 2 + 16;
    char *zOut = px_malloc(nAlloc);
    if (!zOut) { iconv_close(cd); return PS_NOMEM; }
    char *pIn = (char *)z, *pOut = zOut;
    size_t nIn = n, nLeft = nAlloc - 1;
    int rc = PS_OK;
    while (nIn > 0) {
        if (iconv(cd, &pIn, &nIn, &pOut, &nLeft) != (size_t)-1) continue;
        if (errno == E2BIG) {
            size_t used = (size_t)(pOut - zOut);
            nAlloc *= 2;
            char *zNew = px_realloc(zOut, nAlloc);
            if (!zNew) { rc = PS_NOMEM; break; }
            zOut = zNew;
            pOut = zOut + used;
            nLeft = nAlloc - used - 1;
            continue;
        }
        *piBad = (size_t)(pIn - z);
        rc = PS_ENCODING;
        break;
    }
    iconv_close(cd);
    if (rc != PS_OK) { px_free(zOut); return rc; }
    *pOut = 0;
    *pzOut = zOut;
    *pnOut = (size_t)(pOut - zOut);
    return PS_OK;
}

/* A file without a BOM whose bytes hold NULs in one position of each pair
 * is UTF-16: every ASCII character (digits, commas, line ends, which a
 * catalog or a page has plenty of) is a NUL and its byte.  UTF-8 and
 * GB18030 text holds no NUL at all; a stray one or two must not tip it. */
static const char *utf16_without_bom(const char *zIn, size_t n)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t nPair = (n < SNIFF_MAX ? n : SNIFF_MAX) / 2, aZero[2] = {0, 0};
    if (nPair == 0) return NULL;
    for (size_t i = 0; i < nPair * 2; i++) aZero[i & 1] += z[i] == 0;
    if (aZero[1] * 8 >= nPair && aZero[0] * 4 < aZero[1]) return "UTF-16LE";
    if (aZero[0] * 8 >= nPair && aZero[1] * 4 < aZero[0]) return "UTF-16BE";
    return NULL;
}

/* Text that is not UTF-8 but holds NULs (Chinese in UTF-16 whose only ASCII
 * characters are its line ends, too few for the test above; 一 U+4E00 puts
 * NULs on the other side too) is UTF-16 in the byte order that decodes it
 * into lines free of control characters.  GB18030 never holds a NUL.
 * PS_OK with *pzOut (yours) and *pzFrom set, PS_ENCODING when it is not
 * UTF-16, PS_NOMEM. */
static int utf16_sparse(const char *zIn, size_t n, char **pzOut, size_t *pnOut, const char **pzFrom)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t aZero[2] = {0, 0}, iBad = 0;
    if (n < 2 || n % 2) return PS_ENCODING;
    for (size_t i = 0; i < n && i < SNIFF_MAX; i++) aZero[i & 1] += z[i] == 0;
    if (!aZero[0] && !aZero[1]) return PS_ENCODING;
    const char *azTry[2] = {"UTF-16LE", "UTF-16BE"};
    if (aZero[0] > aZero[1]) { azTry[0] = "UTF-16BE"; azTry[1] = "UTF-16LE"; }
    for (int k = 0; k < 2; k++) {
        int rc = convert(azTry[k], zIn, n, pzOut, pnOut, &iBad);
        if (rc == PS_NOMEM) return rc;
        if (rc != PS_OK) continue;
        if (memchr(*pzOut, '\n', *pnOut) && proto_text_check(*pzOut, *pnOut, NULL) == PS_OK) {
            *pzFrom = azTry[k];
            return PS_OK;
        }
        px_free(*pzOut);
        *pzOut = NULL;
    }
    return PS_ENCODING;
}

/* Files saved by tools that add a BOM to a file that already has one. */
static void strip_boms(char *z, size_t *pn)
{
    size_t k = 0;
    while (*pn - k >= 3 && memcmp(z + k, "\xEF\xBB\xBF", 3) == 0) k += 3;
    if (k == 0) return;
    memmove(z, z + k, *pn - k + 1);
    *pn -= k;
}

int proto_to_utf8(const char *z, size_t n, char **pzOut, size_t *pnOut, const char **pzEncoding,
                char *zErr, size_t nErr)
{
    size_t iBad = 0;
    int rc;
    const char *zUtf16 = NULL;
    if (n >= 2 && (((unsigned char)z[0] == 0xFF && (unsigned char)z[1] == 0xFE) ||
                   ((unsigned char)z[0] == 0xFE && (unsigned char)z[1] == 0xFF))) {
        *pzEncoding = "utf-16";
        zUtf16 = "UTF-16";
    } else if ((zUtf16 = utf16_without_bom(z, n)) != NULL) {
        *pzEncoding = strcmp(zUtf16, "UTF-16LE") == 0 ? "utf-16le" : "utf-16be";
    }
    if (zUtf16) {
        rc = convert(zUtf16, z, n, pzOut, pnOut, &iBad);
        if (rc == PS_OK) strip_boms(*pzOut, pnOut);
        if (rc == PS_ENCODING && strcmp(zUtf16, "UTF-16") == 0)
            snprintf(zErr, nErr, "文件以 UTF-16 开头，但第 %zu 字节附近有无法转换的字符", iBad + 1);
        else if (rc == PS_ENCODING)
            snprintf(zErr, nErr, "文件按不带 BOM 的 %s 读取，但第 %zu 字节附近有无法转换的字符", zUtf16, iBad + 1);
        return rc;
    }
    const char *zBody = z;
    size_t nBody = n;
    *pzEncoding = "utf-8";
    while (nBody >= 3 && memcmp(zBody, "\xEF\xBB\xBF", 3) == 0) {
        zBody += 3;
        nBody -= 3;
        *pzEncoding = "utf-8-bom";
    }
    if (proto_utf8_valid(zBody, nBody)) {
        *pzOut = px_strndup(zBody, nBody);
        if (!*pzOut) return PS_NOMEM;
        *pnOut = nBody;
        return PS_OK;
    }
    if (zBody != z) {
        /* A BOM says UTF-8: a bad byte after it is an error, not GB18030. */
        size_t i = 0;
        while (i < nBody) { /* the first line that is not UTF-8 */
            const char *zEol = memchr(zBody + i, '\n', nBody - i);
            size_t k = zEol ? (size_t)(zEol - zBody) + 1 : nBody;
            if (!proto_utf8_valid(zBody + i, k - i)) break;
            i = k;
        }
        snprintf(zErr, nErr, "文件以 UTF-8 BOM 开头，但第 %ld 行不是 UTF-8", line_of(zBody, i));
        return PS_ENCODING;
    }
    if ((rc = utf16_sparse(z, n, pzOut, pnOut, &zUtf16)) != PS_ENCODING) {
        if (rc == PS_OK) {
            strip_boms(*pzOut, pnOut);
            *pzEncoding = strcmp(zUtf16, "UTF-16LE") == 0 ? "utf-16le" : "utf-16be";
        }
        return rc;
    }
    *pzEncoding = "gb18030";
    rc = convert("GB18030", z, n, pzOut, pnOut, &iBad);
    if (rc == PS_OK) strip_boms(*pzOut, pnOut);
    if (rc == PS_ENCODING)
        snprintf(zErr, nErr, "第 %ld 行既不是 UTF-8 也不是 GB18030 编码（第 %zu 字节）", line_of(z, iBad), iBad + 1);
    return rc;
}

size_t proto_utf8_count(const char *z, size_t n)
{
    size_t i = 0, k = 0;
    while (i < n) {
        proto_utf8_next(z, n, &i);
        k++;
    }
    return k;
}

unsigned proto_utf8_next(const char *zIn, size_t n, size_t *pi)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t i = *pi;
    unsigned c = z[i];
    size_t k;
    unsigned min;
    if (c < 0x80) { *pi = i + 1; return c; }
    if ((c & 0xE0) == 0xC0) { k = 1; c &= 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { k = 2; c &= 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { k = 3; c &= 0x07; min = 0x10000; }
    else { *pi = i + 1; return 0xFFFD; }
    if (i + k >= n) { *pi = i + 1; return 0xFFFD; }
    for (size_t j = 1; j <= k; j++) {
        if ((z[i + j] & 0xC0) != 0x80) { *pi = i + 1; return 0xFFFD; }
        c = (c << 6) | (z[i + j] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) { *pi = i + 1; return 0xFFFD; }
    *pi = i + k + 1;
    return c;
}

int proto_is_han(unsigned c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2FA1F) || (c >= 0xF900 && c <= 0xFAFF) ||
           c == 0x3007; /* 〇, as in 二〇一七年 */
}
