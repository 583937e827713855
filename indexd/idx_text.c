/* Tokenizer, term generation and the search form of text. */
#include "idx_text.h"
#include "idx_mask.h"
#include "idx_schema.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <string.h>

/* Bytes of one folded word: longer ones are cut (the rest of the word is
 * skipped).  Above IDX_TERM_MAX, so that the index term, not the word,
 * is what Xapian's limit cuts (idx_term_cut). */
#define WORD_MAX 256
#define RUN_MAX 4096   /* bytes of a Han run handled at once */

size_t idx_utf8_put(char *z, unsigned c)
{
    if (c < 0x80) { z[0] = (char)c; return 1; }
    if (c < 0x800) { z[0] = (char)(0xC0 | (c >> 6)); z[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        z[0] = (char)(0xE0 | (c >> 12)); z[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        z[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    z[0] = (char)(0xF0 | (c >> 18)); z[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    z[2] = (char)(0x80 | ((c >> 6) & 0x3F)); z[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

enum { C_SPACE, C_BREAK, C_HAN, C_WORD };

/* Fold full-width ASCII to ASCII and ASCII letters to lower case. */
static unsigned fold(unsigned c)
{
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;
    if (c >= 'A' && c <= 'Z') c += 32;
    return c;
}

static int char_class(unsigned c)
{
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
        c == 0x3000 || c == 0xA0 || (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF)
        return C_SPACE;
    if (proto_is_han(c)) return C_HAN;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) return C_WORD;
    if (c < 0x80) return C_BREAK;
    if (c == 0xFFFD) return C_BREAK;
    /* General and CJK punctuation, symbols, arrows, box drawing, shapes,
     * full-width forms that are not letters or digits. */
    if ((c >= 0x2010 && c <= 0x2BFF) || (c >= 0x3001 && c <= 0x303F) ||
        (c >= 0xFE10 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFFEF) ||
        (c >= 0x00A1 && c <= 0x00BF) || c == 0xD7 || c == 0xF7 ||
        (c >= 0x3200 && c <= 0x33FF) || (c >= 0x1F000 && c <= 0x1FAFF))
        return C_BREAK;
    return C_WORD; /* letters of other scripts, kana, hangul */
}

/* A number written with separators (idx_mask.h) as one word: its digits
 * (and X), folded, the separators dropped. */
static int number_tok(const char *z, size_t n, size_t a, size_t b, char *zBuf, idx_tok_fn xTok, void *ctx)
{
    size_t k = a, nBuf = 0;
    unsigned nChar = 0;
    while (k < b) {
        unsigned d = fold(proto_utf8_next(z, n, &k));
        if (char_class(d) != C_WORD || nBuf + 4 > WORD_MAX) continue;
        nBuf += idx_utf8_put(zBuf + nBuf, d);
        nChar++;
    }
    zBuf[nBuf] = 0;
    return xTok(ctx, IDX_TOK_WORD, zBuf, nBuf, nChar, a, b);
}

int idx_text_scan(const char *z, size_t n, idx_tok_fn xTok, void *ctx)
{
    char zBuf[RUN_MAX + 8];
    size_t i = 0, spanA = 0, spanB = 0;
    int rc;
    /* the numbers that masking sees are the words that search sees */
    idx_mask_iter it;
    idx_mask_iter_init(&it, z, n);
    int span = idx_mask_iter_next(&it, &spanA, &spanB);

    while (i < n) {
        size_t iStart = i;
        while (span && spanA < iStart) span = idx_mask_iter_next(&it, &spanA, &spanB);
        if (span && spanA == iStart) {
            if ((rc = number_tok(z, n, spanA, spanB, zBuf, xTok, ctx)) != 0) return rc;
            i = spanB;
            span = idx_mask_iter_next(&it, &spanA, &spanB);
            continue;
        }
        unsigned c = fold(proto_utf8_next(z, n, &i));
        int cls = char_class(c);
        if (cls == C_SPACE) continue;
        if (cls == C_BREAK) {
            if ((rc = xTok(ctx, IDX_TOK_BREAK, "", 0, 0, iStart, i)) != 0) return rc;
            continue;
        }
        size_t nBuf = 0, iEnd = i;
        unsigned nChar = 0;
        nBuf += idx_utf8_put(zBuf, c);
        nChar++;
        for (;;) {
            size_t j = i;
            /* A Han run goes on across white space; a word does not. */
            if (cls == C_HAN) {
                while (j < n) {
                    size_t k = j;
                    unsigned d = fold(proto_utf8_next(z, n, &k));
                    if (char_class(d) != C_SPACE) break;
                    j = k;
                }
            }
            if (j >= n) break;
            if (span && j == spanA) break; /* a number written with separators starts */
            size_t k = j;
            unsigned d = fold(proto_utf8_next(z, n, &k));
            if (char_class(d) != cls) break;
            if (nBuf + 4 > (cls == C_HAN ? RUN_MAX : WORD_MAX)) {
                if (cls == C_HAN) break;  /* emit this part; the rest follows */
                i = k;                    /* cut an over-long word */
                iEnd = k;
                continue;
            }
            nBuf += idx_utf8_put(zBuf + nBuf, d);
            nChar++;
            i = k;
            iEnd = k;
        }
        zBuf[nBuf] = 0;
        rc = xTok(ctx, cls == C_HAN ? IDX_TOK_HAN : IDX_TOK_WORD, zBuf, nBuf, nChar, iStart, iEnd);
        if (rc != 0) return rc;
    }
    return 0;
}

size_t idx_term_cut(size_t nPrefix, const char *z, size_t n)
{
    if (nPrefix >= IDX_TERM_MAX) return 0;
    if (nPrefix + n <= IDX_TERM_MAX) return n;
    n = IDX_TERM_MAX - nPrefix;
    while (n > 0 && ((unsigned char)z[n] & 0xC0) == 0x80) n--; /* z[n] starts the first byte left out */
    return n;
}

/* ---- index terms ---------------------------------------------------- */

size_t idx_pair_term(char *zOut, size_t nOut, const char *zA, size_t nA, int hanA, const char *zB, size_t nB,
                     int hanB)
{
    int sep = !(hanA && hanB);
    size_t n = nA + (size_t)sep + nB;
    if (n + 1 > nOut) return 0;
    memcpy(zOut, zA, nA);
    if (sep) zOut[nA] = ' ';
    memcpy(zOut + nA + sep, zB, nB);
    zOut[n] = 0;
    return n;
}

typedef struct {
    const char *zPrefix;
    size_t nPrefix;
    idx_term_fn xTerm;
    void *ctx;
    unsigned pos;          /* the position of the next unit */
    int hasLast;           /* a unit precedes in this segment (no break since) */
    int lastHan;
    char zLast[WORD_MAX + 8]; /* that unit */
    size_t nLast;
    char zTerm[2 * WORD_MAX + 64];
} index_state;

static int emit(index_state *s, const char *z, size_t n, unsigned pos)
{
    n = idx_term_cut(s->nPrefix, z, n);
    if (n == 0 || s->nPrefix + n >= sizeof s->zTerm) return 0;
    memcpy(s->zTerm, s->zPrefix, s->nPrefix);
    memcpy(s->zTerm + s->nPrefix, z, n);
    return s->xTerm(s->ctx, s->zTerm, s->nPrefix + n, pos);
}

/* One unit (a word or a Han character) of the stream. */
static int index_unit(index_state *s, const char *z, size_t n, int han)
{
    char zPair[2 * WORD_MAX + 16];
    int rc;
    unsigned pos = s->pos++;
    if ((rc = emit(s, z, n, IDX_POSITIONS_ON_PAIRS ? 0 : pos)) != 0) return rc;
    if (s->hasLast) {
        size_t nPair = idx_pair_term(zPair, sizeof zPair, s->zLast, s->nLast, s->lastHan, z, n, han);
        if (nPair && (rc = emit(s, zPair, nPair, IDX_POSITIONS_ON_PAIRS ? pos - 1 : 0)) != 0) return rc;
    }
    if (n > WORD_MAX) n = WORD_MAX;
    memcpy(s->zLast, z, n);
    s->nLast = n;
    s->lastHan = han;
    s->hasLast = 1;
    return 0;
}

static int index_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                     size_t iStart, size_t iEnd)
{
    index_state *s = ctx;
    int rc;
    (void)nChar;
    (void)iStart;
    (void)iEnd;
    if (kind == IDX_TOK_BREAK) {
        /* no pair across punctuation; a gap so that no phrase spans it */
        if (s->hasLast) s->pos++;
        s->hasLast = 0;
        return 0;
    }
    if (kind == IDX_TOK_WORD) return index_unit(s, z, n, 0);
    size_t i = 0;
    while (i < n) {
        size_t iChar = i;
        proto_utf8_next(z, n, &i);
        if ((rc = index_unit(s, z + iChar, i - iChar, 1)) != 0) return rc;
    }
    return 0;
}

int idx_text_index(const char *z, size_t n, const char *zPrefix, unsigned *pPos, idx_term_fn xTerm, void *ctx)
{
    index_state *s = px_malloc(sizeof *s);
    if (!s) return PS_NOMEM;
    s->zPrefix = zPrefix;
    s->nPrefix = strlen(zPrefix);
    s->xTerm = xTerm;
    s->ctx = ctx;
    s->pos = pPos && *pPos ? *pPos : 1;
    s->hasLast = 0;
    s->nLast = 0;
    int rc = idx_text_scan(z, n, index_tok, s);
    /* the next text starts apart: no phrase joins two fields or pages */
    if (pPos) *pPos = s->pos + 2;
    px_free(s);
    return rc;
}

/* ---- search form ---------------------------------------------------- */

typedef struct {
    idx_form *p;
    int withMap;
    int rc;
    const char *zOrig;
} form_state;

static int form_push(form_state *s, const char *z, size_t n, size_t iOrig, size_t iOrigEnd)
{
    idx_form *p = s->p;
    if (p->n + n + 1 > p->nAlloc) {
        size_t nNew = (p->nAlloc ? p->nAlloc * 2 : 256);
        while (nNew < p->n + n + 1) nNew *= 2;
        char *zNew = px_realloc(p->z, nNew);
        if (!zNew) return PS_NOMEM;
        p->z = zNew;
        if (s->withMap) {
            size_t *a = px_realloc(p->aiOrig, nNew * sizeof(size_t));
            if (!a) return PS_NOMEM;
            p->aiOrig = a;
            a = px_realloc(p->aiOrigEnd, nNew * sizeof(size_t));
            if (!a) return PS_NOMEM;
            p->aiOrigEnd = a;
        }
        p->nAlloc = nNew;
    }
    memcpy(p->z + p->n, z, n);
    if (s->withMap)
        for (size_t k = 0; k < n; k++) {
            p->aiOrig[p->n + k] = iOrig;
            p->aiOrigEnd[p->n + k] = iOrigEnd;
        }
    p->n += n;
    p->z[p->n] = 0;
    return 0;
}

static int form_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                    size_t iStart, size_t iEnd)
{
    form_state *s = ctx;
    int rc;
    (void)nChar;
    if (kind == IDX_TOK_BREAK) return form_push(s, "\x1F", 1, iStart, iEnd);
    if (kind == IDX_TOK_WORD) {
        if ((rc = form_push(s, "\x01", 1, iStart, iStart)) != 0) return rc;
        if ((rc = form_push(s, z, n, iStart, iEnd)) != 0) return rc;
        return form_push(s, "\x01", 1, iEnd, iEnd);
    }
    /* Han run: map each character back to its own bytes in the original,
     * skipping the white space the run absorbed. */
    size_t i = 0, o = iStart;
    while (i < n) {
        size_t i0 = i;
        proto_utf8_next(z, n, &i);
        size_t oStart;
        for (;;) {  /* find the next Han character in the original */
            oStart = o;
            unsigned c = proto_utf8_next(s->zOrig, iEnd, &o);
            if (char_class(fold(c)) == C_HAN) break;
            if (o >= iEnd) break;
        }
        if ((rc = form_push(s, z + i0, i - i0, oStart, o)) != 0) return rc;
    }
    return 0;
}

int idx_form_build(idx_form *p, const char *z, size_t n, int withMap)
{
    form_state s = {p, withMap, 0, z};
    memset(p, 0, sizeof *p);
    int rc = idx_text_scan(z, n, form_tok, &s);
    if (rc == 0 && !p->z) rc = form_push(&s, "", 0, 0, 0);
    if (rc != 0) idx_form_clear(p);
    return rc;
}

int idx_form_append(idx_form *p, const char *zSep, const char *z, size_t n)
{
    form_state s = {p, 0, 0, z};
    int rc = form_push(&s, zSep, strlen(zSep), 0, 0);
    return rc ? rc : idx_text_scan(z, n, form_tok, &s);
}

void idx_form_clear(idx_form *p)
{
    px_free(p->z);
    px_free(p->aiOrig);
    px_free(p->aiOrigEnd);
    memset(p, 0, sizeof *p);
}
