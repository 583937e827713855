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

/* Bytes of the line at z: up to and with its end, LF, CR LF or a lone CR
 * (the lines as the catalog reader counts them). */
static size_t line_len(const char *z, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (z[i] == '\n') return i + 1;
        if (z[i] == '\r') return i + 1 < n && z[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

size_t proto_utf8_prefix(const char *zIn, size_t n)
{
    const unsigned char *z = (const unsigned char *)zIn;
    size_t i = 0;
    while (i < n) {
        if (z[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = (z[i] & 0xE0) == 0xC0 ? 2 : (z[i] & 0xF0) == 0xE0 ? 3 : (z[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (!k || i + k > n || !proto_utf8_valid(zIn + i, k)) return i;
        i += k;
    }
    return n;
}

/* Where GB18030 cannot read z[0..n) (n when it reads it all), with cd
 * (GB18030 to UTF-8) and a scratch buffer for what it writes. */
static size_t gb18030_bad_at(iconv_t cd, const char *z, size_t n, char *zScratch, size_t nScratch)
{
    char *pIn = (char *)z;
    size_t nIn = n;
    iconv(cd, NULL, NULL, NULL, NULL);
    while (nIn > 0) {
        char *pOut = zScratch;
        size_t nLeft = nScratch;
        if (iconv(cd, &pIn, &nIn, &pOut, &nLeft) != (size_t)-1) continue;
        if (errno == E2BIG) continue;
        return (size_t)(pIn - z);
    }
    return n;
}

int proto_from_gb18030(const char *z, size_t n, char **pzOut, size_t *pnOut)
{
    size_t iBad = 0;
    *pzOut = NULL;
    *pnOut = 0;
    return convert("GB18030", z, n, pzOut, pnOut, &iBad);
}

int proto_decode_lossy(const char *z, size_t n, int gb, char **pzOut, size_t *pnOut, size_t *pnBad)
{
    size_t nAlloc = n * 3 + 16, nOut = 0, nBad = 0;
    char *zOut = px_malloc(nAlloc);
    *pzOut = NULL;
    *pnOut = *pnBad = 0;
    if (!zOut) return PS_NOMEM;
    if (!gb) {
        /* at most 3 bytes out for each byte in */
        for (size_t i = 0; i < n;) {
            size_t k = proto_utf8_prefix(z + i, n - i);
            memcpy(zOut + nOut, z + i, k);
            nOut += k;
            i += k;
            if (i < n) {
                memcpy(zOut + nOut, "\xEF\xBF\xBD", 3);
                nOut += 3;
                nBad++;
                i++;
            }
        }
    } else {
        iconv_t cd = iconv_open("UTF-8", "GB18030");
        if (cd == (iconv_t)-1) {
            px_free(zOut);
            return PS_INTERNAL;
        }
        char *pIn = (char *)z;
        size_t nIn = n;
        while (nIn > 0) {
            if (nAlloc - nOut < 16) {
                char *zNew = px_realloc(zOut, nAlloc * 2);
                if (!zNew) {
                    iconv_close(cd);
                    px_free(zOut);
                    return PS_NOMEM;
                }
                zOut = zNew;
                nAlloc *= 2;
            }
            char *pOut = zOut + nOut;
            size_t nLeft = nAlloc - nOut - 4;
            size_t r = iconv(cd, &pIn, &nIn, &pOut, &nLeft);
            nOut = (size_t)(pOut - zOut);
            if (r != (size_t)-1 || errno == E2BIG) continue;
            /* a byte GB18030 cannot read: U+FFFD for it, and on */
            memcpy(zOut + nOut, "\xEF\xBF\xBD", 3);
            nOut += 3;
            nBad++;
            pIn++;
            nIn--;
            iconv(cd, NULL, NULL, NULL, NULL);
        }
        iconv_close(cd);
    }
    zOut[nOut] = 0;
    *pzOut = zOut;
    *pnOut = nOut;
    *pnBad = nBad;
    return PS_OK;
}

/* What each encoding makes of a file's lines (after its UTF-8 BOMs).  A
 * line of ASCII alone reads in both and is not counted. */
typedef struct {
    long nLine;      /* lines in all */
    long nUtf8;      /* lines with other bytes than ASCII that are UTF-8 */
    long nGbOnly;    /* those that only GB18030 reads */
    long nNeither;   /* those that neither reads */
    long lineNotUtf8, lineNotGb, lineNeither; /* the first of each (0: none) */
    size_t offNotUtf8, offNotGb, offNeither;  /* its first byte either cannot read (in z) */
} enc_lines;

static int enc_analyse(const char *z, size_t n, enc_lines *e)
{
    char zScratch[4096];
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) return PS_INTERNAL;
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < n;) {
        size_t len = line_len(z + i, n - i), k = 0;
        e->nLine++;
        while (k < len && (unsigned char)z[i + k] < 0x80) k++;
        if (k < len) {
            size_t u = proto_utf8_prefix(z + i, len), g = gb18030_bad_at(cd, z + i, len, zScratch, sizeof zScratch);
            if (u == len) e->nUtf8++;
            else if (g == len) e->nGbOnly++;
            else e->nNeither++;
            if (u < len && !e->lineNotUtf8) e->lineNotUtf8 = e->nLine, e->offNotUtf8 = i + u;
            if (g < len && !e->lineNotGb) e->lineNotGb = e->nLine, e->offNotGb = i + g;
            if (u < len && g < len && !e->lineNeither) e->lineNeither = e->nLine, e->offNeither = i + (u < g ? u : g);
        }
        i += len;
    }
    iconv_close(cd);
    return PS_OK;
}

/* The encoding that reads most lines.  A line that is UTF-8 counts for
 * UTF-8 even when GB18030 reads it too: Chinese in UTF-8 often reads as
 * (other) GB18030 characters, Chinese in GB18030 almost never as UTF-8. */
static int enc_utf8_wins(const enc_lines *e)
{
    return e->nUtf8 >= e->nGbOnly;
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
    enc_lines e;
    if (zBody != z) {
        /* A BOM says UTF-8: a bad byte after it is an error, not GB18030. */
        if ((rc = enc_analyse(zBody, nBody, &e)) != PS_OK) return rc;
        snprintf(zErr, nErr, "文件以 UTF-8 BOM 开头，但第 %ld 行不是 UTF-8", e.lineNotUtf8);
        return PS_ENCODING;
    }
    if ((rc = utf16_sparse(z, n, pzOut, pnOut, &zUtf16)) != PS_ENCODING) {
        if (rc == PS_OK) {
            strip_boms(*pzOut, pnOut);
            *pzEncoding = strcmp(zUtf16, "UTF-16LE") == 0 ? "utf-16le" : "utf-16be";
        }
        return rc;
    }
    if ((rc = enc_analyse(z, n, &e)) != PS_OK) return rc;
    if (!enc_utf8_wins(&e) && !e.lineNotGb) {
        *pzEncoding = "gb18030";
        rc = convert("GB18030", z, n, pzOut, pnOut, &iBad);
        if (rc == PS_OK) strip_boms(*pzOut, pnOut);
        if (rc == PS_ENCODING) /* not seen line by line: a file cut inside a character */
            snprintf(zErr, nErr, "文件按 GB18030 读取，但第 %zu 字节附近有无法转换的字符", iBad + 1);
        return rc;
    }
    /* the first line that the encoding of most lines cannot read */
    int utf8 = enc_utf8_wins(&e);
    long line = utf8 ? e.lineNotUtf8 : e.lineNotGb;
    size_t off = utf8 ? e.offNotUtf8 : e.offNotGb;
    if (line == e.lineNeither)
        snprintf(zErr, nErr, "第 %ld 行既不是 UTF-8 也不是 GB18030 编码（第 %zu 字节）", line, off + 1);
    else
        snprintf(zErr, nErr, "文件的大多数行是 %s 编码，但第 %ld 行不是（第 %zu 字节）", utf8 ? "UTF-8" : "GB18030", line,
                 off + 1);
    return PS_ENCODING;
}

int proto_to_utf8_lenient(const char *z, size_t n, char **pzOut, size_t *pnOut, const char **pzEncoding,
                          long **paKept, size_t *pnKept, long *pBadLine, char *zErr, size_t nErr)
{
    *paKept = NULL;
    *pnKept = 0;
    *pBadLine = 0;
    /* UTF-16, and whatever reads whole, as proto_to_utf8 reads it */
    int utf16 = (n >= 2 && (((unsigned char)z[0] == 0xFF && (unsigned char)z[1] == 0xFE) ||
                            ((unsigned char)z[0] == 0xFE && (unsigned char)z[1] == 0xFF))) ||
                utf16_without_bom(z, n) != NULL;
    const char *zBody = z;
    size_t nBody = n;
    while (nBody >= 3 && memcmp(zBody, "\xEF\xBB\xBF", 3) == 0) zBody += 3, nBody -= 3;
    int bom = zBody != z;
    if (utf16 || proto_utf8_valid(zBody, nBody)) return proto_to_utf8(z, n, pzOut, pnOut, pzEncoding, zErr, nErr);
    int rc;
    const char *zUtf16 = NULL;
    if (!bom && (rc = utf16_sparse(z, n, pzOut, pnOut, &zUtf16)) != PS_ENCODING) {
        if (rc == PS_OK) {
            strip_boms(*pzOut, pnOut);
            *pzEncoding = strcmp(zUtf16, "UTF-16LE") == 0 ? "utf-16le" : "utf-16be";
        }
        return rc;
    }
    enc_lines e;
    if ((rc = enc_analyse(zBody, nBody, &e)) != PS_OK) return rc;
    if (e.nNeither * 2 > e.nLine) {
        snprintf(zErr, nErr, "第 %ld 行既不是 UTF-8 也不是 GB18030 编码（第 %zu 字节）；文件的 %ld 行中有 %ld 行如此，不像是文本文件",
                 e.lineNeither, (size_t)(zBody - z) + e.offNeither + 1, e.nLine, e.nNeither);
        *pBadLine = e.lineNeither;
        return PS_ENCODING;
    }
    /* a BOM says UTF-8: the lines that are not are kept for the reader */
    int utf8 = bom || enc_utf8_wins(&e);
    if (!utf8 && !e.lineNotGb) return proto_to_utf8(z, n, pzOut, pnOut, pzEncoding, zErr, nErr);
    *pzEncoding = utf8 ? (bom ? "utf-8-bom" : "utf-8") : "gb18030";
    size_t nAlloc = (utf8 ? nBody : nBody + nBody / 2) + 16, nOut = 0, nKept = 0, nKeptAlloc = 0;
    long *aKept = NULL;
    char *zOut = px_malloc(nAlloc), zScratch[4096];
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    rc = zOut ? (cd == (iconv_t)-1 ? PS_INTERNAL : PS_OK) : PS_NOMEM;
    long line = 0;
    for (size_t i = 0; i < nBody && rc == PS_OK;) {
        size_t len = line_len(zBody + i, nBody - i);
        line++;
        int kept = utf8 ? proto_utf8_prefix(zBody + i, len) < len
                        : gb18030_bad_at(cd, zBody + i, len, zScratch, sizeof zScratch) < len;
        if (kept && nKept == nKeptAlloc) {
            size_t nNew = nKeptAlloc ? nKeptAlloc * 2 : 16;
            long *a = px_realloc(aKept, nNew * sizeof *a);
            if (!a) {
                rc = PS_NOMEM;
                break;
            }
            aKept = a;
            nKeptAlloc = nNew;
        }
        if (kept) aKept[nKept++] = line;
        /* room for the line as it is, or converted (3 bytes for 2 at most) */
        size_t nNeed = nOut + (utf8 || kept ? len : len * 2) + 16;
        if (nNeed > nAlloc) {
            size_t nNew = nNeed * 2;
            char *zNew = px_realloc(zOut, nNew);
            if (!zNew) {
                rc = PS_NOMEM;
                break;
            }
            zOut = zNew;
            nAlloc = nNew;
        }
        if (utf8 || kept) {
            memcpy(zOut + nOut, zBody + i, len);
            nOut += len;
        } else {
            char *pIn = (char *)zBody + i, *pOut = zOut + nOut;
            size_t nIn = len, nLeft = nAlloc - nOut - 1;
            iconv(cd, NULL, NULL, NULL, NULL);
            if (iconv(cd, &pIn, &nIn, &pOut, &nLeft) == (size_t)-1) rc = PS_INTERNAL; /* read whole above */
            nOut = (size_t)(pOut - zOut);
        }
        i += len;
    }
    if (cd != (iconv_t)-1) iconv_close(cd);
    if (rc != PS_OK) {
        px_free(zOut);
        px_free(aKept);
        return rc;
    }
    zOut[nOut] = 0;
    if (!utf8) strip_boms(zOut, &nOut);
    *pzOut = zOut;
    *pnOut = nOut;
    *paKept = aKept;
    *pnKept = nKept;
    return PS_OK;
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
