#define _GNU_SOURCE /* memmem */
/* Search: query translation, the two passes, hits, pages, snippets, facets. */
#include "idx_search.h"
#include "idx_query.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIT_MAX 64        /* literals kept for pages and snippets */
#define FUZZY_MIN_CHARS 4 /* shortest unquoted Han run that also finds near matches */
#define SNIPPET_CONTEXT 40 /* characters each side of the first hit */

static const char *const azFilterName[IDX_F__COUNT] = {
    "fonds", "category", "year", "retention", "carrier", "classification", "org"};
static const char *const azFilterPrefix[IDX_F__COUNT] = {"XF", "XC", "Y", "XR", "XK", "XM", "XO"};
static const unsigned aFacetSlot[] = {IDX_SLOT_FONDS, IDX_SLOT_CATEGORY, IDX_SLOT_YEAR,
                                      IDX_SLOT_RETENTION, IDX_SLOT_CARRIER, IDX_SLOT_CLASSIFICATION};
static const char *const azFacetName[] = {"fonds", "category", "year", "retention", "carrier",
                                          "classification"};

const char *idx_filter_name(int f) { return f >= 0 && f < IDX_F__COUNT ? azFilterName[f] : "?"; }

int idx_filter_lookup(const char *z)
{
    for (int f = 0; f < IDX_F__COUNT; f++)
        if (strcmp(z, azFilterName[f]) == 0) return f;
    return -1;
}

/* ---- literals: what pages and snippets look for -------------------- */

/* A group is satisfied when nMin of its literals occur in a text.  A phrase
 * or word is a group of one; a near match of a run is the group of its
 * character pairs. */
typedef struct {
    int iFirst, nLit, nMin;
    int loose;       /* only for hits that are not exact */
} lit_group;

typedef struct {
    char *az[LIT_MAX];
    size_t an[LIT_MAX];
    int nLit;
    lit_group aGroup[LIT_MAX];
    int nGroup;
} lit_set;

static void lits_clear(lit_set *s)
{
    for (int i = 0; i < s->nLit; i++) px_free(s->az[i]);
    memset(s, 0, sizeof *s);
}

static int lits_add(lit_set *s, const char *z, size_t n)
{
    if (s->nLit >= LIT_MAX || n == 0) return PS_OK;
    if (!(s->az[s->nLit] = px_strndup(z, n))) return PS_NOMEM;
    s->an[s->nLit++] = n;
    return PS_OK;
}

static int lits_group(lit_set *s, const char *z, size_t n, int loose)
{
    if (s->nGroup >= LIT_MAX || s->nLit >= LIT_MAX) return PS_OK;
    lit_group *g = &s->aGroup[s->nGroup];
    g->iFirst = s->nLit;
    g->nMin = 1;
    g->loose = loose;
    int rc = lits_add(s, z, n);
    g->nLit = s->nLit - g->iFirst;
    if (g->nLit) s->nGroup++;
    return rc;
}

/* ---- translation to Xapian ----------------------------------------- */

typedef struct {
    int loose;       /* building the query with near matches */
    int hasLoose;    /* the query has a run that can be nearly matched */
    lit_set *pLits;  /* where positive literals go (NULL under NOT) */
    int rc;
} tr_state;

static xw_query *q_term2(tr_state *t, const char *zPrefix, const char *z, size_t n)
{
    char zTerm[4200];
    size_t nP = strlen(zPrefix);
    if (nP + n >= sizeof zTerm) n = sizeof zTerm - nP - 1;
    memcpy(zTerm, zPrefix, nP);
    memcpy(zTerm + nP, z, n);
    xw_query *q = xw_q_term(zTerm, nP + n);
    if (!q) t->rc = PS_NOMEM;
    return q;
}

typedef struct {
    xw_query **a;
    int n, nAlloc;
} qlist;

static int ql_push(qlist *l, xw_query *q)
{
    if (!q) return PS_NOMEM;
    if (l->n == l->nAlloc) {
        int nNew = l->nAlloc ? l->nAlloc * 2 : 8;
        xw_query **a = px_realloc(l->a, (size_t)nNew * sizeof *a);
        if (!a) { xw_q_free(q); return PS_NOMEM; }
        l->a = a;
        l->nAlloc = nNew;
    }
    l->a[l->n++] = q;
    return PS_OK;
}

static void ql_clear(qlist *l)
{
    for (int i = 0; i < l->n; i++) xw_q_free(l->a[i]);
    px_free(l->a);
    memset(l, 0, sizeof *l);
}

/* Combine and free the list; a list of one is that query; empty is NULL. */
static xw_query *ql_combine(tr_state *t, qlist *l, int op, int phrase)
{
    xw_query *q = NULL;
    if (l->n == 1) {
        q = l->a[0];
        l->n = 0;
    } else if (l->n > 1) {
        q = phrase ? xw_q_phrase(l->a, l->n) : xw_q_combine(op, l->a, l->n);
        if (!q) t->rc = PS_NOMEM;
    }
    ql_clear(l);
    return q;
}

/* Byte offsets of the characters of a Han run (n chars, up to 1024). */
static int char_offsets(const char *z, size_t n, size_t *ai, int nMax)
{
    int k = 0;
    size_t i = 0;
    while (i < n && k < nMax) {
        ai[k++] = i;
        idx_utf8_next(z, n, &i);
    }
    ai[k] = n;
    return k;
}

/* Phrase of the pairs of characters [from, to) of a run. */
static xw_query *pairs_phrase(tr_state *t, const char *zPrefix, const char *z, const size_t *ai,
                              int from, int to)
{
    qlist l = {0};
    for (int k = from; k + 1 < to + 1 && k < to; k++)
        if (ql_push(&l, q_term2(t, zPrefix, z + ai[k], ai[k + 2] - ai[k])) != PS_OK) t->rc = PS_NOMEM;
    return ql_combine(t, &l, XW_AND, 1);
}

/* An unquoted Han run: the run as a phrase; in loose mode also the records
 * where it is there but for one character (misread, dropped): the pairs on
 * each side of that character, each a phrase, both present.  Only variants
 * that keep at least half of the pairs count. */
static xw_query *tr_run(tr_state *t, const char *zPrefix, const char *z, size_t n, unsigned nChar)
{
    size_t ai[1026];
    int m = char_offsets(z, n, ai, 1024);
    if (t->pLits) t->rc |= lits_group(t->pLits, z, n, 0);
    if (m == 1) return q_term2(t, zPrefix, z, n);
    xw_query *pExact = pairs_phrase(t, zPrefix, z, ai, 0, m - 1);
    if (nChar < FUZZY_MIN_CHARS) return pExact;
    t->hasLoose = 1;
    if (t->pLits && t->pLits->nGroup < LIT_MAX) {
        lit_set *s = t->pLits;
        lit_group *g = &s->aGroup[s->nGroup];
        g->iFirst = s->nLit;
        for (int k = 0; k + 1 < m; k++) t->rc |= lits_add(s, z + ai[k], ai[k + 2] - ai[k]);
        g->nLit = s->nLit - g->iFirst;
        g->nMin = (g->nLit + 1) / 2;
        g->loose = 1;
        if (g->nLit) s->nGroup++;
    }
    if (!t->loose) return pExact;
    qlist lAlt = {0};
    int nPairs = m - 1, nNeed = (nPairs + 1) / 2;
    ql_push(&lAlt, pExact);
    for (int k = 0; k < m; k++) {
        /* character k unreliable: pairs k-1 and k are lost */
        int leftTo = k - 1 > 0 ? k - 1 : 0;      /* pairs [0, k-1) */
        int rightFrom = k + 1;                   /* pairs [k+1, nPairs) */
        int nLeft = leftTo, nRight = nPairs - rightFrom > 0 ? nPairs - rightFrom : 0;
        if (nLeft + nRight < nNeed || nLeft + nRight == 0) continue;
        qlist lBoth = {0};
        if (nLeft) ql_push(&lBoth, pairs_phrase(t, zPrefix, z, ai, 0, leftTo));
        if (nRight) ql_push(&lBoth, pairs_phrase(t, zPrefix, z, ai, rightFrom, nPairs));
        ql_push(&lAlt, ql_combine(t, &lBoth, XW_AND, 0));
    }
    return ql_combine(t, &lAlt, XW_OR, 0);
}

typedef struct {
    tr_state *t;
    const char *zPrefix;
    qlist *pOut;
    int phrase;
    /* phrase mode: the current segment */
    qlist seg;
    int lastKind;
    char zTail[8];
    size_t nTail;
    size_t iSegStart;
    const char *zText;
} tok_state;

static void seg_flush(tok_state *s, size_t iEnd)
{
    if (s->seg.n == 0) return;
    xw_query *q = ql_combine(s->t, &s->seg, XW_AND, 1);
    if (q && ql_push(s->pOut, q) != PS_OK) s->t->rc = PS_NOMEM;
    if (s->t->pLits && iEnd > s->iSegStart) {
        idx_form f;
        if (idx_form_build(&f, s->zText + s->iSegStart, iEnd - s->iSegStart, 0) == 0) {
            s->t->rc |= lits_group(s->t->pLits, f.z, f.n, 0);
            idx_form_clear(&f);
        }
    }
}

static int tr_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                  size_t iStart, size_t iEnd)
{
    tok_state *s = ctx;
    tr_state *t = s->t;
    if (!s->phrase) {
        if (kind == IDX_TOK_WORD) {
            ql_push(s->pOut, q_term2(t, s->zPrefix, z, n));
            if (t->pLits) {
                char zW[300];
                snprintf(zW, sizeof zW, "\x01%.*s\x01", (int)(n < 290 ? n : 290), z);
                t->rc |= lits_group(t->pLits, zW, strlen(zW), 0);
            }
        } else if (kind == IDX_TOK_HAN) {
            xw_query *q = tr_run(t, s->zPrefix, z, n, nChar);
            if (q) ql_push(s->pOut, q);
        }
        return t->rc == PS_OK ? 0 : t->rc;
    }
    /* A phrase: consecutive positions within a segment (see idx_text.h). */
    if (kind == IDX_TOK_BREAK) {
        seg_flush(s, iStart);
        s->lastKind = IDX_TOK_BREAK;
        return 0;
    }
    if (s->seg.n == 0) s->iSegStart = iStart;
    if (kind == IDX_TOK_WORD) {
        if (s->lastKind == IDX_TOK_HAN && s->nTail) ql_push(&s->seg, q_term2(t, s->zPrefix, s->zTail, s->nTail));
        ql_push(&s->seg, q_term2(t, s->zPrefix, z, n));
    } else {
        size_t ai[1026];
        int m = char_offsets(z, n, ai, 1024);
        if (m == 1) ql_push(&s->seg, q_term2(t, s->zPrefix, z, n));
        for (int k = 0; k + 1 < m; k++) ql_push(&s->seg, q_term2(t, s->zPrefix, z + ai[k], ai[k + 2] - ai[k]));
        /* The last character of a longer run has no term of its own at its
         * position yet: a word right after it needs it (see idx_text.h). */
        s->nTail = m > 1 ? ai[m] - ai[m - 1] : 0;
        memcpy(s->zTail, z + ai[m - 1], ai[m] - ai[m - 1]);
    }
    s->lastKind = kind;
    (void)iEnd;
    return t->rc == PS_OK ? 0 : t->rc;
}

static xw_query *tr_text(tr_state *t, const iq_node *p, lit_set *pLits)
{
    qlist l = {0};
    tok_state s = {0};
    lit_set *pSave = t->pLits;
    /* Literals only come from free text: a title hit has no page. */
    if (p->zPrefix[0]) t->pLits = NULL; else if (!pLits) t->pLits = NULL;
    s.t = t;
    s.zPrefix = p->zPrefix;
    s.pOut = &l;
    s.phrase = p->kind == IQ_PHRASE;
    s.lastKind = -1;
    s.zText = p->z;
    int rc = idx_text_scan(p->z, strlen(p->z), tr_tok, &s);
    if (s.phrase) seg_flush(&s, strlen(p->z));
    ql_clear(&s.seg);
    if (rc != 0 && t->rc == PS_OK) t->rc = rc < 0 ? PS_INTERNAL : rc;
    t->pLits = pSave;
    return ql_combine(t, &l, XW_AND, 0);
}

static xw_query *weightless(tr_state *t, xw_query *q)
{
    if (!q) return NULL;
    xw_query *r = xw_q_scale(q, 0.0);
    xw_q_free(q);
    if (!r) t->rc = PS_NOMEM;
    return r;
}

/* NULL means "no constraint" (an empty text, or a NOT with nothing before). */
static xw_query *tr(tr_state *t, const iq_node *p, lit_set *pLits)
{
    xw_query *a, *b, *r = NULL;
    if (!p || t->rc != PS_OK) return NULL;
    switch (p->kind) {
    case IQ_WORDS:
    case IQ_PHRASE: {
        lit_set *pSave = t->pLits;
        t->pLits = pLits;
        r = tr_text(t, p, pLits);
        t->pLits = pSave;
        return r;
    }
    case IQ_FILTER:
        return weightless(t, q_term2(t, p->zPrefix, p->z, strlen(p->z)));
    case IQ_RANGE:
        r = xw_q_value_range(IDX_SLOT_YEAR, p->z, p->zHi);
        if (!r) t->rc = PS_NOMEM;
        return r;
    case IQ_AND:
    case IQ_OR:
        a = tr(t, p->pA, pLits);
        b = tr(t, p->pB, pLits);
        if (!a) return b;
        if (!b) return a;
        {
            xw_query *ab[2] = {a, b};
            r = xw_q_combine(p->kind == IQ_AND ? XW_AND : XW_OR, ab, 2);
        }
        xw_q_free(a);
        xw_q_free(b);
        if (!r) t->rc = PS_NOMEM;
        return r;
    case IQ_NOT:
        a = tr(t, p->pA, pLits);
        b = tr(t, p->pB, NULL);
        if (!b) return a;
        if (!a && !(a = xw_q_all())) { xw_q_free(b); t->rc = PS_NOMEM; return NULL; }
        {
            xw_query *ab[2] = {a, b};
            r = xw_q_combine(XW_AND_NOT, ab, 2);
        }
        xw_q_free(a);
        xw_q_free(b);
        if (!r) t->rc = PS_NOMEM;
        return r;
    }
    return NULL;
}

/* ---- filters from parameters --------------------------------------- */

static xw_query *param_filters(const idx_search_req *r, int *pRc)
{
    qlist all = {0};
    for (int f = 0; f < IDX_F__COUNT; f++) {
        if (r->anFilter[f] == 0) continue;
        qlist any = {0};
        for (int i = 0; i < r->anFilter[f]; i++) {
            char zTerm[300];
            snprintf(zTerm, sizeof zTerm, "%s%s", azFilterPrefix[f], r->azFilter[f][i]);
            ql_push(&any, xw_q_term(zTerm, strlen(zTerm)));
        }
        tr_state t = {0};
        ql_push(&all, ql_combine(&t, &any, XW_OR, 0));
    }
    if (r->zYearFrom || r->zYearTo)
        ql_push(&all, xw_q_value_range(IDX_SLOT_YEAR, r->zYearFrom ? r->zYearFrom : "0000",
                                       r->zYearTo ? r->zYearTo : "9999"));
    tr_state t = {0};
    xw_query *q = ql_combine(&t, &all, XW_AND, 0);
    *pRc = t.rc;
    return q;
}

/* ---- hits ------------------------------------------------------------ */

/* Occurrences of the literals of satisfied groups in a text form. */
static int groups_match(const lit_set *s, const idx_form *f, int loose)
{
    for (int g = 0; g < s->nGroup; g++) {
        const lit_group *pg = &s->aGroup[g];
        if (pg->loose && !loose) continue;
        int nFound = 0;
        for (int i = 0; i < pg->nLit; i++)
            if (memmem(f->z, f->n, s->az[pg->iFirst + i], s->an[pg->iFirst + i])) nFound++;
        if (nFound >= pg->nMin) return 1;
    }
    return 0;
}

typedef struct { size_t a, b; } span;

static int span_cmp(const void *x, const void *y)
{
    const span *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

static int buf_put(char **pz, size_t *pn, size_t *pAlloc, const char *z, size_t n)
{
    if (*pn + n + 1 > *pAlloc) {
        size_t nNew = (*pAlloc + n + 1) * 2;
        char *zNew = px_realloc(*pz, nNew);
        if (!zNew) return PS_NOMEM;
        *pz = zNew;
        *pAlloc = nNew;
    }
    memcpy(*pz + *pn, z, n);
    *pn += n;
    (*pz)[*pn] = 0;
    return PS_OK;
}

static int put_escaped(char **pz, size_t *pn, size_t *pAlloc, const char *z, size_t n)
{
    int rc = PS_OK;
    for (size_t i = 0; i < n && rc == PS_OK; i++) {
        const char *zRep = NULL;
        switch (z[i]) {
        case '<': zRep = "&lt;"; break;
        case '>': zRep = "&gt;"; break;
        case '&': zRep = "&amp;"; break;
        case '"': zRep = "&quot;"; break;
        case '\'': zRep = "&#39;"; break;
        case '\n': case '\r': case '\t': zRep = " "; break;
        }
        rc = zRep ? buf_put(pz, pn, pAlloc, zRep, strlen(zRep)) : buf_put(pz, pn, pAlloc, z + i, 1);
    }
    return rc;
}

/* Start of the character that holds byte i, and the byte after k characters. */
static size_t back_chars(const char *z, size_t i, int k)
{
    while (i > 0 && k > 0) {
        i--;
        while (i > 0 && ((unsigned char)z[i] & 0xC0) == 0x80) i--;
        k--;
    }
    return i;
}

static size_t fwd_chars(const char *z, size_t n, size_t i, int k)
{
    while (i < n && k > 0) {
        idx_utf8_next(z, n, &i);
        k--;
    }
    return i;
}

/* HTML snippet of text around the first literal, literals in <mark>. */
static char *make_snippet(const lit_set *s, const char *zText, size_t nText, int loose)
{
    idx_form f;
    span aSpan[128];
    int nSpan = 0;
    char *zOut = NULL;
    size_t nOut = 0, nAlloc = 0;

    if (idx_form_build(&f, zText, nText, 1) != 0) return NULL;
    for (int g = 0; g < s->nGroup; g++) {
        const lit_group *pg = &s->aGroup[g];
        if (pg->loose && !loose) continue;
        for (int i = 0; i < pg->nLit; i++) {
            const char *zL = s->az[pg->iFirst + i];
            size_t nL = s->an[pg->iFirst + i];
            const char *zHit = f.z;
            while (nSpan < 128 && (zHit = memmem(zHit, f.n - (size_t)(zHit - f.z), zL, nL))) {
                size_t k = (size_t)(zHit - f.z);
                /* Skip the \x01 word markers at either end of a literal. */
                size_t kA = k, kB = k + nL - 1;
                while (kA < kB && f.z[kA] == '\x01') kA++;
                while (kB > kA && f.z[kB] == '\x01') kB--;
                aSpan[nSpan].a = f.aiOrig[kA];
                aSpan[nSpan].b = f.aiOrigEnd[kB];
                nSpan++;
                zHit += nL;
            }
        }
    }
    size_t from = 0, to = nText;
    if (nSpan > 0) {
        qsort(aSpan, (size_t)nSpan, sizeof aSpan[0], span_cmp);
        from = back_chars(zText, aSpan[0].a, SNIPPET_CONTEXT);
        to = fwd_chars(zText, nText, aSpan[0].b, SNIPPET_CONTEXT * 2);
    } else {
        to = fwd_chars(zText, nText, 0, SNIPPET_CONTEXT * 3);
    }
    int rc = PS_OK;
    if (from > 0) rc |= buf_put(&zOut, &nOut, &nAlloc, "\xE2\x80\xA6", 3);
    size_t i = from;
    for (int k = 0; k < nSpan && rc == PS_OK; k++) {
        if (aSpan[k].a < i || aSpan[k].a >= to) continue;  /* overlaps the last, or outside */
        size_t b = aSpan[k].b < to ? aSpan[k].b : to;
        rc |= put_escaped(&zOut, &nOut, &nAlloc, zText + i, aSpan[k].a - i);
        rc |= buf_put(&zOut, &nOut, &nAlloc, "<mark>", 6);
        rc |= put_escaped(&zOut, &nOut, &nAlloc, zText + aSpan[k].a, b - aSpan[k].a);
        rc |= buf_put(&zOut, &nOut, &nAlloc, "</mark>", 7);
        i = b;
    }
    rc |= put_escaped(&zOut, &nOut, &nAlloc, zText + i, to - i);
    if (to < nText) rc |= buf_put(&zOut, &nOut, &nAlloc, "\xE2\x80\xA6", 3);
    idx_form_clear(&f);
    if (rc != PS_OK || !zOut) {
        px_free(zOut);
        return px_strdup("");
    }
    return zOut;
}

static int page_num_cmp(const void *x, const void *y)
{
    long a = *(const long *)x, b = *(const long *)y;
    return a < b ? -1 : a > b;
}

/* One hit of the answer from the stored data of a record. */
static json_t *make_hit(const char *zData, size_t nData, const lit_set *pLits, int exact)
{
    static const char *const azKey[] = {"code", "title", "author", "date", "year", "doc_no",
                                        "location", "retention", "classification", NULL};
    json_t *pData = json_loadb(zData, nData, 0, NULL);
    json_t *pHit = json_object();
    json_t *pPages = json_array();
    if (!pData || !pHit || !pPages) goto fail;
    json_t *pRec = json_object_get(pData, "r");
    for (int i = 0; azKey[i]; i++) {
        json_t *v = json_object_get(pRec, azKey[i]);
        if (v && json_object_set(pHit, azKey[i], v) != 0) goto fail;
    }
    /* Pages in order; the first matching one gives the snippet. */
    json_t *pP = json_object_get(pData, "p");
    long aNum[1024];
    int nNum = 0;
    const char *zKey;
    json_t *pPage;
    json_object_foreach(pP, zKey, pPage) {
        if (nNum < 1024) aNum[nNum++] = strtol(zKey, NULL, 10);
    }
    qsort(aNum, (size_t)nNum, sizeof aNum[0], page_num_cmp);
    const char *zSnip = NULL;
    size_t nSnip = 0;
    for (int k = 0; k < nNum; k++) {
        char zK[24];
        snprintf(zK, sizeof zK, "%ld", aNum[k]);
        json_t *pText = json_object_get(json_object_get(pP, zK), "text");
        if (!json_is_string(pText)) continue;
        idx_form f;
        if (pLits->nGroup == 0) continue;
        if (idx_form_build(&f, json_string_value(pText), json_string_length(pText), 0) != 0) goto fail;
        int m = groups_match(pLits, &f, !exact);
        idx_form_clear(&f);
        if (!m) continue;
        if (json_array_append_new(pPages, json_integer(aNum[k])) != 0) goto fail;
        if (!zSnip) {
            zSnip = json_string_value(pText);
            nSnip = json_string_length(pText);
        }
    }
    if (!zSnip) {  /* no page matched: the title tells why it is here */
        json_t *pTitle = json_object_get(pRec, "title");
        zSnip = json_is_string(pTitle) ? json_string_value(pTitle) : "";
        nSnip = strlen(zSnip);
    }
    char *zS = make_snippet(pLits, zSnip, nSnip, !exact);
    if (!zS) goto fail;
    json_object_set_new(pHit, "snippet", json_string(zS));
    px_free(zS);
    json_object_set_new(pHit, "pages", pPages);
    pPages = NULL;
    json_object_set_new(pHit, "exact", json_boolean(exact));
    json_decref(pData);
    return pHit;
fail:
    json_decref(pData);
    json_decref(pHit);
    json_decref(pPages);
    return NULL;
}

static int append_hits(json_t *pHits, const xw_mset *m, const lit_set *pLits, int exact)
{
    for (unsigned i = 0; i < xw_mset_size(m); i++) {
        const char *z;
        size_t n;
        xw_mset_data(m, i, &z, &n);
        json_t *h = make_hit(z, n, pLits, exact);
        if (!h || json_array_append_new(pHits, h) != 0) return PS_NOMEM;
    }
    return PS_OK;
}

static json_t *facet_json(const xw_mset *m)
{
    json_t *o = json_object();
    if (!o) return NULL;
    for (int k = 0; k < (int)(sizeof aFacetSlot / sizeof aFacetSlot[0]); k++) {
        json_t *f = json_object();
        for (unsigned j = 0; f && j < xw_mset_facet_size(m, k); j++) {
            const char *z;
            size_t n;
            unsigned long c;
            char zKey[300];
            xw_mset_facet_get(m, k, j, &z, &n, &c);
            snprintf(zKey, sizeof zKey, "%.*s", (int)(n < 290 ? n : 290), z);
            json_object_set_new(f, zKey, json_integer((json_int_t)c));
        }
        if (!f || json_object_set_new(o, azFacetName[k], f) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static xw_query *filtered(xw_query *q, xw_query *pFilter, int *pRc)
{
    if (!pFilter) return q;
    xw_query *a[2] = {q, pFilter};
    xw_query *r = q ? xw_q_combine(XW_FILTER, a, 2) : xw_q_combine(XW_AND, &pFilter, 1);
    if (!r) *pRc = PS_NOMEM;
    xw_q_free(q);
    return r;
}

int idx_search(idx_index *p, const idx_search_req *r, json_t **ppOut, const char **pzParam,
               unsigned *pOffset, char *zErr, size_t nErr)
{
    double t0 = now_ms();
    iq_node *pAst = NULL;
    lit_set lits;
    xw_query *pFilter = NULL, *pStrict = NULL, *pLoose = NULL, *pRest = NULL, *pUnion = NULL;
    xw_mset *m1 = NULL, *m2 = NULL, *mF = NULL;
    json_t *pOut = NULL, *pHits = NULL;
    xw_rdb *pDb;
    int rc;

    memset(&lits, 0, sizeof lits);
    *ppOut = NULL;
    *pzParam = NULL;
    *pOffset = 0;
    rc = idx_query_parse(r->zQuery, &pAst, pOffset, zErr, nErr);
    if (rc != PS_OK) {
        *pzParam = "q";
        goto out;
    }
    pFilter = param_filters(r, &rc);
    if (rc != PS_OK) goto out;

    tr_state t = {0, 0, NULL, PS_OK};
    pStrict = tr(&t, pAst, &lits);
    if (t.rc == PS_OK && t.hasLoose) {
        tr_state t2 = {1, 0, NULL, PS_OK};
        pLoose = tr(&t2, pAst, NULL);
        t.rc = t2.rc;
    }
    if ((rc = t.rc) != PS_OK) goto out;
    if (!pStrict && !(pStrict = xw_q_all())) { rc = PS_NOMEM; goto out; }
    if (pLoose) {
        xw_query *a[2] = {pLoose, pStrict};
        if (!(pRest = xw_q_combine(XW_AND_NOT, a, 2))) { rc = PS_NOMEM; goto out; }
        if (r->facets && !(pUnion = filtered(xw_q_combine(XW_OR, a, 2), pFilter, &rc))) goto out;
        if (!(pRest = filtered(pRest, pFilter, &rc))) goto out;
    }
    if (!(pStrict = filtered(pStrict, pFilter, &rc))) goto out;

    if ((rc = idx_index_reader(p, &pDb, zErr, nErr)) != PS_OK) goto out;
    unsigned limit = r->limit ? r->limit : 20;
    unsigned check = r->offset + limit + 100;
    xw_search_opts o = {r->offset, limit, -1, 0, check, NULL, 0};
    if (r->sort == IDX_SORT_DATE || r->sort == IDX_SORT_DATE_DESC) {
        o.sortSlot = IDX_SLOT_DATE;
        o.sortReverse = r->sort == IDX_SORT_DATE_DESC;
    }
    int nFacet = (int)(sizeof aFacetSlot / sizeof aFacetSlot[0]);
    if (r->facets && !pLoose) {
        o.aFacetSlot = aFacetSlot;
        o.nFacet = nFacet;
        if (o.checkAtLeast < r->facetCheck) o.checkAtLeast = r->facetCheck;
    }
    if ((rc = xw_search(pDb, pStrict, &o, &m1, zErr, nErr)) != PS_OK) goto out;
    unsigned long total1 = xw_mset_estimated(m1), total = total1;
    int exactTotal = xw_mset_exact(m1);
    if (!(pHits = json_array())) { rc = PS_NOMEM; goto out; }
    if ((rc = append_hits(pHits, m1, &lits, 1)) != PS_OK) goto out;
    if (pLoose) {
        xw_search_opts o2 = o;
        o2.offset = r->offset > total1 ? r->offset - (unsigned)total1 : 0;
        o2.limit = limit - xw_mset_size(m1);
        o2.checkAtLeast = o2.offset + o2.limit + 100;
        if ((rc = xw_search(pDb, pRest, &o2, &m2, zErr, nErr)) != PS_OK) goto out;
        total += xw_mset_estimated(m2);
        exactTotal = exactTotal && xw_mset_exact(m2);
        if ((rc = append_hits(pHits, m2, &lits, 0)) != PS_OK) goto out;
        if (r->facets) {
            xw_search_opts oF = {0, 0, -1, 0, r->facetCheck, aFacetSlot, nFacet};
            if ((rc = xw_search(pDb, pUnion, &oF, &mF, zErr, nErr)) != PS_OK) goto out;
        }
    }
    pOut = json_object();
    if (!pOut) { rc = PS_NOMEM; goto out; }
    json_object_set_new(pOut, "total", json_integer((json_int_t)total));
    json_object_set_new(pOut, "total_exact", json_boolean(exactTotal));
    json_object_set_new(pOut, "offset", json_integer(r->offset));
    json_object_set_new(pOut, "limit", json_integer(limit));
    json_object_set_new(pOut, "hits", pHits);
    pHits = NULL;
    if (r->facets) {
        const xw_mset *mFacet = mF ? mF : m1;
        json_t *pF = facet_json(mFacet);
        if (!pF) { rc = PS_NOMEM; goto out; }
        json_object_set_new(pOut, "facets", pF);
        json_object_set_new(pOut, "facets_complete",
                            json_boolean(exactTotal && xw_mset_facet_seen(mFacet) >= total));
    }
    json_object_set_new(pOut, "took_ms", json_real((double)(long)((now_ms() - t0) * 100) / 100));
    *ppOut = pOut;
    pOut = NULL;
out:
    json_decref(pOut);
    json_decref(pHits);
    xw_mset_free(m1);
    xw_mset_free(m2);
    xw_mset_free(mF);
    xw_q_free(pFilter);
    xw_q_free(pStrict);
    xw_q_free(pLoose);
    xw_q_free(pRest);
    xw_q_free(pUnion);
    idx_query_free(pAst);
    lits_clear(&lits);
    return rc;
}
