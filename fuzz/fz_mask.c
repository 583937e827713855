/* Personal-number masking (idx_mask.h) and the text scanner it reads text
 * with, on any bytes: page texts, titles, snippets with <mark>, queries.
 * Written against the header alone.
 *
 * Checked: masking keeps the length, changes digits only (an ASCII digit
 * to '*', a full-width one to '＊'), exactly the characters idx_mask_find
 * reports, keeps valid UTF-8 valid, and masking the masked text changes
 * nothing; the query check and the scanner never fail on any input and the
 * scanner's tokens lie in order inside the text. */
#include "fz_check.h"
#include "idx_mask.h"
#include "idx_text.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    const char *z;
    size_t n;
    unsigned char *aHidden; /* per byte: 1 where a hidden character starts, 2 inside */
    unsigned nChar;
} find_ctx;

static int is_fullwidth_digit(const char *z, size_t n)
{
    return n == 3 && (unsigned char)z[0] == 0xEF && (unsigned char)z[1] == 0xBC &&
           (unsigned char)z[2] >= 0x90 && (unsigned char)z[2] <= 0x99;
}

static void on_hide(void *ctx, size_t a, size_t b, int kind)
{
    find_ctx *c = ctx;
    FZ_CHECK(a < b && b <= c->n);
    /* the kinds of every number hiding the character, OR'ed (a card number
     * after 账号 is an account number too) */
    FZ_CHECK(kind != 0 && (kind & ~(IDX_PII_ID | IDX_PII_CARD | IDX_PII_ACCOUNT | IDX_PII_PHONE)) == 0);
    FZ_CHECK((b - a == 1 && c->z[a] >= '0' && c->z[a] <= '9') || is_fullwidth_digit(c->z + a, b - a));
    for (size_t i = a; i < b; i++) {
        FZ_CHECK(c->aHidden[i] == 0);  /* each character reported once */
        c->aHidden[i] = i == a ? 1 : 2;
    }
    c->nChar++;
}

typedef struct {
    size_t n;
    size_t lastStart;
} scan_ctx;

static int on_token(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar, size_t iStart,
                    size_t iEnd)
{
    scan_ctx *c = ctx;
    FZ_CHECK(iStart <= iEnd && iEnd <= c->n);
    FZ_CHECK(iStart >= c->lastStart);
    c->lastStart = iStart;
    FZ_CHECK(kind == IDX_TOK_WORD || kind == IDX_TOK_HAN || kind == IDX_TOK_BREAK);
    if (kind == IDX_TOK_BREAK) return 0;
    FZ_CHECK(n > 0 && nChar > 0 && iStart < iEnd);
    FZ_CHECK(proto_utf8_valid(z, n));
    FZ_CHECK(proto_utf8_count(z, n) == nChar);
    size_t i = 0;
    while (i < n) {
        unsigned ch = proto_utf8_next(z, n, &i);
        if (kind == IDX_TOK_HAN) FZ_CHECK(proto_is_han(ch));
        else FZ_CHECK(!(ch >= 'A' && ch <= 'Z') && !proto_is_han(ch));  /* folded words */
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t nIn)
{
    if (nIn < 1) return 0;
    int html = d[0] & 1;
    size_t n = nIn - 1;
    char *z = malloc(n + 1), *zMasked = malloc(n + 1), *zTwice = malloc(n + 1);
    unsigned char *aHidden = calloc(n + 1, 1);
    if (!z || !zMasked || !zTwice || !aHidden) goto out;
    memcpy(z, d + 1, n);
    z[n] = 0;

    find_ctx c = {z, n, aHidden, 0};
    unsigned nFound = idx_mask_find(z, n, html, on_hide, &c);
    FZ_CHECK(idx_mask_find(z, n, html, NULL, NULL) == nFound);
    FZ_CHECK((nFound == 0) == (c.nChar == 0));

    memcpy(zMasked, z, n + 1);
    FZ_CHECK(idx_mask_text(zMasked, n, html) == nFound);
    FZ_CHECK(zMasked[n] == 0);  /* the length is kept: not a byte past it */
    for (size_t i = 0; i < n;) {
        if (aHidden[i] == 0) {
            FZ_CHECK(zMasked[i] == z[i]);  /* only what find reported changes */
            i++;
        } else if (z[i] >= '0' && z[i] <= '9') {
            FZ_CHECK(zMasked[i] == '*');
            i++;
        } else {
            FZ_CHECK(memcmp(zMasked + i, "\xEF\xBC\x8A", 3) == 0);  /* ＊ */
            i += 3;
        }
    }
    if (proto_utf8_valid(z, n)) FZ_CHECK(proto_utf8_valid(zMasked, n));

    memcpy(zTwice, zMasked, n + 1);
    idx_mask_text(zTwice, n, html);
    FZ_CHECK(memcmp(zTwice, zMasked, n + 1) == 0);  /* idempotent */

    /* The query check reads a C string; it answers 0 or 1. */
    int refused = idx_mask_query_refused(z);
    FZ_CHECK(refused == 0 || refused == 1);

    scan_ctx s = {n, 0};
    int rc = idx_text_scan(z, n, on_token, &s);
    FZ_CHECK(rc == 0 || rc == PS_NOMEM || rc == PS_TOO_BIG);
out:
    free(z);
    free(zMasked);
    free(zTwice);
    free(aHidden);
    return 0;
}
