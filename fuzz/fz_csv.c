/* Catalog files as a vendor or an attacker sends them: the encoding
 * detection and conversion shared with the OCR pipeline (proto_to_utf8)
 * and the CSV reader (idx_csv_scan, which the import shares row for row;
 * the import itself writes to an index, too slow to fuzz).
 *
 * Checked: the conversion's promises (UTF-8 out, no BOM left, UTF-8 input
 * kept byte for byte, the same text back from UTF-16 with and without BOM
 * and from GB18030), and the reader's: rows in file order within the file's
 * lines, every field clean text (no NUL or control character: nothing cut
 * short), a report that is valid JSON with lines and reasons. */
#include "fz_check.h"
#include "idx_csv.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <iconv.h>
#include <stdint.h>
#include <string.h>

static const char *const azEncoding[] = {"utf-8", "utf-8-bom", "gb18030", "utf-16", "utf-16le", "utf-16be", NULL};

static int known_encoding(const char *z)
{
    for (int i = 0; z && azEncoding[i]; i++)
        if (strcmp(z, azEncoding[i]) == 0) return 1;
    return 0;
}

/* Lines as the reader counts them: ended by LF, CR LF or a lone CR; one
 * more for a last line without an end. */
static long count_lines(const char *z, size_t n)
{
    long nLine = 1;
    for (size_t i = 0; i < n; i++)
        if (z[i] == '\n' || (z[i] == '\r' && (i + 1 == n || z[i + 1] != '\n'))) nLine++;
    return nLine;
}

/* z (UTF-8) in zEnc, into a new buffer (free); NULL if iconv can't. */
static char *encode(const char *zEnc, const char *z, size_t n, size_t *pn)
{
    iconv_t cd = iconv_open(zEnc, "UTF-8");
    if (cd == (iconv_t)-1) return NULL;
    size_t nIn = n, nOut = n * 4 + 16;
    char *zOut = malloc(nOut), *pIn = (char *)z, *pOut = zOut;
    if (zOut && iconv(cd, &pIn, &nIn, &pOut, &nOut) == (size_t)-1) {
        free(zOut);
        zOut = NULL;
    }
    iconv_close(cd);
    if (zOut) *pn = (size_t)(pOut - zOut);
    return zOut;
}

/* proto_to_utf8 on z; returns the text (px_free) or NULL when refused. */
static char *check_convert(const uint8_t *z, size_t n, size_t *pnOut, const char **pzEnc)
{
    char *zOut = NULL, zErr[256];
    const char *zEnc = NULL;
    zErr[0] = 0;
    int rc = proto_to_utf8((const char *)z, n, &zOut, pnOut, &zEnc, zErr, sizeof zErr);
    FZ_CHECK(rc == PS_OK || rc == PS_ENCODING || rc == PS_NOMEM);
    if (rc != PS_OK) {
        FZ_CHECK(zOut == NULL);
        FZ_CHECK(rc == PS_NOMEM || (zErr[0] && proto_utf8_valid(zErr, strlen(zErr))));
        return NULL;
    }
    FZ_CHECK(known_encoding(zEnc));
    FZ_CHECK(zOut[*pnOut] == 0);
    FZ_CHECK(proto_utf8_valid(zOut, *pnOut));
    FZ_CHECK(*pnOut < 3 || memcmp(zOut, "\xEF\xBB\xBF", 3) != 0);
    if (strcmp(zEnc, "utf-8") == 0) {
        FZ_CHECK(*pnOut == n && memcmp(zOut, z, n) == 0);
    } else if (strcmp(zEnc, "utf-8-bom") == 0) {
        size_t k = 0;
        while (n - k >= 3 && memcmp(z + k, "\xEF\xBB\xBF", 3) == 0) k += 3;
        FZ_CHECK(k > 0 && *pnOut == n - k && memcmp(zOut, z + k, *pnOut) == 0);
    }
    *pzEnc = zEnc;
    return zOut;
}

/* Text t, written out in another encoding, must come back as t. */
static void check_round_trip(const char *t, size_t n, unsigned which)
{
    size_t nAscii = 0, nUnit = 0, nLow0 = 0, i = 0;
    if (n == 0 || proto_text_check(t, n, NULL) != PS_OK) return;
    if (n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0) return;  /* a BOM is dropped, by design */
    /* U+FFFE first would read as a BOM of the other byte order */
    if (n >= 3 && memcmp(t, "\xEF\xBF\xBE", 3) == 0) return;
    while (i < n) {
        unsigned c = proto_utf8_next(t, n, &i);
        nAscii += c < 0x80;
        if (c < 0x10000) {
            nUnit++;
            nLow0 += c >= 0x80 && (c & 0xFF) == 0;  /* 一 U+4E00 */
        } else {
            unsigned hi = 0xD800 + ((c - 0x10000) >> 10), lo = 0xDC00 + ((c - 0x10000) & 0x3FF);
            nUnit += 2;
            nLow0 += ((hi & 0xFF) == 0) + ((lo & 0xFF) == 0);
        }
    }
    static const char *const azEnc[] = {"UTF-16LE", "UTF-16BE", "UTF-16", "GB18030"};
    const char *zEnc = azEnc[which % 4];
    /* Without a BOM, UTF-16 is told by the NULs of ASCII characters: only
     * text with plenty of them is promised to be recognised. */
    if (which % 4 < 2 && (nAscii * 2 < nUnit || nLow0 > 0)) return;
    size_t nEnc = 0, nBack = 0;
    char *zEncoded = encode(zEnc, t, n, &nEnc);
    if (!zEncoded) return;
    const char *zGot = NULL;
    char *zBack = check_convert((const uint8_t *)zEncoded, nEnc, &nBack, &zGot);
    if (zBack && !(which % 4 == 3 && strcmp(zGot, "gb18030") != 0)) {
        /* (GB18030 bytes may happen to be valid UTF-8 too: then read as such) */
        FZ_CHECK(nBack == n && memcmp(zBack, t, n) == 0);
        if (which % 4 == 0) FZ_CHECK(strcmp(zGot, "utf-16le") == 0);
        if (which % 4 == 1) FZ_CHECK(strcmp(zGot, "utf-16be") == 0);
        if (which % 4 == 2) FZ_CHECK(strcmp(zGot, "utf-16") == 0);
    } else if (which % 4 != 3) {
        FZ_CHECK(zBack != NULL);
    }
    px_free(zBack);
    free(zEncoded);
}

typedef struct {
    long nLine;     /* lines of the converted text */
    long lastLine;
} scan_ctx;

static int on_row(void *ctx, long line, const proto_record *r, int nFields)
{
    scan_ctx *c = ctx;
    FZ_CHECK(line >= 2 && line >= c->lastLine && line <= c->nLine);
    FZ_CHECK(nFields >= -1); /* -1: a row re-read after a quote never closed */
    c->lastLine = line;
    for (int f = 0; r && f < PF__COUNT; f++) {
        const char *z = r->az[f];
        if (!z) continue;
        size_t n = strlen(z);
        FZ_CHECK(n > 0);
        /* whole UTF-8 text (a NUL became another control character, which
         * the lenient reading removes with a finding), trimmed */
        FZ_CHECK(proto_text_check(z, n, NULL) != PS_ENCODING);
        FZ_CHECK(z[0] != ' ' && z[n - 1] != ' ' && z[n - 1] != '\n');
    }
    if (r) {
        /* the lenient reading of the row: it never fails but for memory,
         * leaves clean text, and names an item only with a canonical 档号 */
        proto_record c;
        proto_finding aF[8];
        int nF = 0;
        proto_record_init(&c);
        for (int f = 0; f < PF__COUNT; f++)
            if (r->az[f]) FZ_CHECK(proto_record_set(&c, f, r->az[f], strlen(r->az[f])) == PS_OK);
        int rc = proto_record_normalise(&c, aF, 8, &nF, NULL);
        FZ_CHECK(rc == PS_OK || rc == PS_INVALID);
        for (int f = 0; f < PF__COUNT; f++)
            if (c.az[f]) FZ_CHECK(proto_text_check(c.az[f], strlen(c.az[f]), NULL) == PS_OK);
        for (int k = 0; k < nF && k < 8; k++)
            FZ_CHECK(proto_utf8_valid(aF[k].zReason, strlen(aF[k].zReason)) && proto_utf8_valid(aF[k].zWritten, strlen(aF[k].zWritten)));
        if (rc == PS_OK) {
            proto_code code;
            char zE[200];
            FZ_CHECK(proto_code_parse(c.az[PF_CODE], &code, zE, sizeof zE) == PS_OK && strcmp(code.zCanonical, c.az[PF_CODE]) == 0);
        }
        proto_record_clear(&c);
    }
    return 0;
}

static void check_list(const json_t *pRes, const char *zList, const char *zCount, long nLine)
{
    const json_t *a = json_object_get(pRes, zList);
    FZ_CHECK(json_is_array(a));
    FZ_CHECK(json_integer_value(json_object_get(pRes, zCount)) >= (json_int_t)json_array_size(a));
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        json_int_t line = json_integer_value(json_object_get(o, "line"));
        const char *zField = json_string_value(json_object_get(o, "field"));
        const char *zKey = json_string_value(json_object_get(o, "key"));
        const char *zWhy = json_string_value(json_object_get(o, "reason"));
        FZ_CHECK(line >= 1 && line <= nLine);
        FZ_CHECK(zField && zKey && (zField[0] == 0) == (zKey[0] == 0));
        FZ_CHECK(zWhy && zWhy[0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    size_t nText = 0;
    const char *zEnc = NULL;
    char *zText = check_convert(d, n, &nText, &zEnc);
    if (zText) check_round_trip(zText, nText, (unsigned)n);
    /* the catalog reads leniently: lines another encoding holds are kept */
    char *zLen = NULL, zLErr[256];
    size_t nLen = 0, nKept = 0;
    const char *zLEnc = NULL;
    long *aKept = NULL, badLine = 0;
    int rcL = proto_to_utf8_lenient((const char *)d, n, &zLen, &nLen, &zLEnc, &aKept, &nKept, &badLine, zLErr,
                                    sizeof zLErr);
    FZ_CHECK(rcL == PS_OK || rcL == PS_ENCODING || rcL == PS_NOMEM);
    if (rcL == PS_OK && zText) {
        /* a file that reads whole reads the same, nothing kept apart */
        FZ_CHECK(nKept == 0 && nLen == nText && memcmp(zLen, zText, nText) == 0 && strcmp(zLEnc, zEnc) == 0);
    }
    for (size_t k = 0; k < nKept; k++) FZ_CHECK(aKept[k] >= 1 && (k == 0 || aKept[k] > aKept[k - 1]));
    px_free(aKept);

    scan_ctx c = {zLen ? count_lines(zLen, nLen) : 0, 0};
    json_t *pRes = NULL;
    long line = -1;
    char zErr[512];
    zErr[0] = 0;
    int rc = idx_csv_scan((const char *)d, n, on_row, &c, &pRes, &line, zErr, sizeof zErr);
    FZ_CHECK(rc == PS_OK || rc == PS_INVALID || rc == PS_ENCODING || rc == PS_NOMEM);
    FZ_CHECK((rc == PS_OK) == (pRes != NULL));
    FZ_CHECK(rc == PS_NOMEM || rcL == PS_NOMEM || (rc == PS_ENCODING) == (rcL == PS_ENCODING));
    if (rc == PS_OK && rcL == PS_OK) {
        FZ_CHECK(strcmp(json_string_value(json_object_get(pRes, "encoding")), zLEnc) == 0);
        check_list(pRes, "rejected", "rejected_count", c.nLine);
        check_list(pRes, "warnings", "warnings_count", c.nLine);
        char *zJson = json_dumps(pRes, JSON_COMPACT);
        FZ_CHECK(zJson != NULL);
        free(zJson);
    } else if (rc != PS_OK) {
        /* the message goes out in a JSON error body */
        FZ_CHECK(zErr[0] && proto_utf8_valid(zErr, strlen(zErr)));
        FZ_CHECK(line >= 0 && (zLen == NULL || line <= c.nLine));
    }
    json_decref(pRes);
    px_free(zText);
    px_free(zLen);
    return 0;
}
