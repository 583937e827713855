#define _GNU_SOURCE /* memmem */
/* Search: query translation, the two passes, hits, pages, snippets, facets. */
#include "idx_search.h"
#include "idx_log.h"
#include "idx_schema.h"
#include "idx_mask.h"
#include "idx_query.h"
#include "idx_text.h"
#include "idx_time.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FUZZY_MIN_CHARS 4 /* shortest unquoted Han run that also finds near matches */
#define SNIPPET_CONTEXT 40 /* characters each side of the first hit */
/* Matches looked at beyond the page, so that small totals are exact (a
 * phrase's positions are checked per record); more for the exact pass than
 * for near matches. */
#define CHECK_EXTRA 300
#define CHECK_EXTRA_NEAR 100
/* Seconds after which a search stops looking beyond its page (counting
 * totals and facets exactly costs the most; the page is always filled). */
#define SEARCH_TIME_LIMIT 2.0

static const char *const azFilterName[IDX_F__COUNT] = {
    "fonds", "category", "year", "retention", "carrier", "classification", "org"};
static const char *const azFilterPrefix[IDX_F__COUNT] = {IDX_PFX_FONDS, IDX_PFX_CATEGORY, IDX_PFX_YEAR, IDX_PFX_RETENTION,
                                                        IDX_PFX_CARRIER, IDX_PFX_CLASSIFICATION, IDX_PFX_ORG};
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

/* ---- the plan: what each text leaf of the query must find ------------ */

/* A unit is what must occur in a record: a word, a Chinese run (unquoted
 * text), or a phrase segment between two punctuation marks.  The index
 * finds it exactly (idx_text.h): one term, or its pair terms at
 * consecutive positions.  Its form (idx_text.h) finds the pages that hold
 * it and marks it in snippets.  Near variants of an unquoted run of 4+
 * characters: the run with one character taken out, as the part before it
 * and the part after it, both present. */
typedef struct {
    char *z;
    size_t n;
} lit;

/* Index terms: one term, or n > 1 pair terms at consecutive positions. */
typedef struct {
    char **az;
    int n;
} tseq;

typedef struct {
    lit exact;
    tseq t;
    int longTerm;       /* a term as long as the index keeps: longer words share it */
    int nVar;
    lit *aLeft, *aRight;
    tseq *aVarL, *aVarR;
} unit;

typedef struct {
    char tag;           /* 0: the whole record; else the field (its term prefix's first letter) */
    int positive;       /* not under NOT: its hits show pages and snippets */
    unit *aUnit;
    int nUnit;
} leaf;

typedef struct {
    leaf *aLeaf;
    int nLeaf, nAlloc;
    int hasNear;        /* a run that can be nearly matched */
    int hasText;        /* a leaf looks at the whole record (page text too) */
    int rc;
    int maskIds;        /* hide personal numbers before snippets are cut */
    const idx_scope *pScope;
} plan;

static void tseq_clear(tseq *t)
{
    for (int i = 0; i < t->n; i++) px_free(t->az[i]);
    px_free(t->az);
    memset(t, 0, sizeof *t);
}

static void unit_clear(unit *u)
{
    px_free(u->exact.z);
    tseq_clear(&u->t);
    for (int i = 0; i < u->nVar; i++) {
        px_free(u->aLeft[i].z);
        px_free(u->aRight[i].z);
        tseq_clear(&u->aVarL[i]);
        tseq_clear(&u->aVarR[i]);
    }
    px_free(u->aLeft);
    px_free(u->aRight);
    px_free(u->aVarL);
    px_free(u->aVarR);
}

static void plan_clear(plan *p)
{
    for (int i = 0; i < p->nLeaf; i++) {
        for (int k = 0; k < p->aLeaf[i].nUnit; k++) unit_clear(&p->aLeaf[i].aUnit[k]);
        px_free(p->aLeaf[i].aUnit);
    }
    px_free(p->aLeaf);
    memset(p, 0, sizeof *p);
}

static int tseq_add(tseq *t, int *pLong, const char *zPrefix, const char *z, size_t n)
{
    char **a = px_realloc(t->az, (size_t)(t->n + 1) * sizeof *a);
    if (!a) return PS_NOMEM;
    t->az = a;
    size_t nP = strlen(zPrefix);
    n = idx_term_cut(nP, z, n); /* as the index cut it */
    if (nP + n + 4 > IDX_TERM_MAX) *pLong = 1;
    char *zT = px_malloc(nP + n + 1);
    if (!zT) return PS_NOMEM;
    memcpy(zT, zPrefix, nP);
    memcpy(zT + nP, z, n);
    zT[nP + n] = 0;
    t->az[t->n++] = zT;
    return PS_OK;
}

/* The units of a stretch of text: words and Han characters (idx_text.h). */
typedef struct {
    size_t off, n;
    int han;
} piece;

typedef struct {
    char *z;            /* the pieces' text, one after the other */
    size_t n, nAlloc;
    piece *a;
    int nPiece, nPieceAlloc;
} pieces;

static int pieces_add(pieces *p, const char *z, size_t n, int han)
{
    if (p->n + n + 1 > p->nAlloc) {
        size_t nNew = (p->nAlloc + n + 1) * 2;
        char *zNew = px_realloc(p->z, nNew);
        if (!zNew) return PS_NOMEM;
        p->z = zNew;
        p->nAlloc = nNew;
    }
    if (p->nPiece == p->nPieceAlloc) {
        int nNew = p->nPieceAlloc ? p->nPieceAlloc * 2 : 16;
        piece *a = px_realloc(p->a, (size_t)nNew * sizeof *a);
        if (!a) return PS_NOMEM;
        p->a = a;
        p->nPieceAlloc = nNew;
    }
    memcpy(p->z + p->n, z, n);
    p->a[p->nPiece++] = (piece){p->n, n, han};
    p->n += n;
    return PS_OK;
}

/* A token's units: a word, or each character of a Han run. */
static int pieces_tok(pieces *p, idx_tok_kind kind, const char *z, size_t n)
{
    if (kind == IDX_TOK_WORD) return pieces_add(p, z, n, 0);
    size_t i = 0;
    while (i < n) {
        size_t i0 = i;
        proto_utf8_next(z, n, &i);
        if (pieces_add(p, z + i0, i - i0, 1) != PS_OK) return PS_NOMEM;
    }
    return PS_OK;
}

static void pieces_clear(pieces *p)
{
    px_free(p->z);
    px_free(p->a);
    memset(p, 0, sizeof *p);
}

/* The terms of the units a[0..n): the unit alone, or the pairs of
 * neighbours (to be found at consecutive positions). */
static int tseq_build(tseq *t, int *pLong, const char *zPrefix, const pieces *p, int from, int to)
{
    char zPair[600];
    if (to - from == 1) return tseq_add(t, pLong, zPrefix, p->z + p->a[from].off, p->a[from].n);
    for (int k = from; k + 1 < to; k++) {
        const piece *x = &p->a[k], *y = &p->a[k + 1];
        size_t n = idx_pair_term(zPair, sizeof zPair, p->z + x->off, x->n, x->han, p->z + y->off, y->n, y->han);
        if (n == 0) {
            *pLong = 1; /* two over-long words: the first one alone stands for the pair */
            n = idx_pair_term(zPair, sizeof zPair, p->z + x->off, x->n > 290 ? 290 : x->n, x->han, "", 0, 1);
        }
        if (tseq_add(t, pLong, zPrefix, zPair, n) != PS_OK) return PS_NOMEM;
    }
    return PS_OK;
}

/* The form of units a[from..to) (words wrapped in \x01, as idx_text.h). */
static int form_of(lit *l, const pieces *p, int from, int to)
{
    size_t n = 0;
    for (int k = from; k < to; k++) n += p->a[k].n + (p->a[k].han ? 0 : 2);
    char *z = px_malloc(n + 1);
    if (!z) return PS_NOMEM;
    n = 0;
    for (int k = from; k < to; k++) {
        if (!p->a[k].han) z[n++] = '\x01';
        memcpy(z + n, p->z + p->a[k].off, p->a[k].n);
        n += p->a[k].n;
        if (!p->a[k].han) z[n++] = '\x01';
    }
    z[n] = 0;
    l->z = z;
    l->n = n;
    return PS_OK;
}

/* Near variants of a run of m characters: one character left out. */
static int run_variants(unit *u, const char *zPrefix, const pieces *p)
{
    int m = p->nPiece;
    int nPairs = m - 1, nNeed = (nPairs + 1) / 2;
    u->aLeft = px_calloc((size_t)m, sizeof(lit));
    u->aRight = px_calloc((size_t)m, sizeof(lit));
    u->aVarL = px_calloc((size_t)m, sizeof(tseq));
    u->aVarR = px_calloc((size_t)m, sizeof(tseq));
    if (!u->aLeft || !u->aRight || !u->aVarL || !u->aVarR) return PS_NOMEM;
    for (int k = 0; k < m; k++) {
        int nLeft = k, nRight = m - k - 1;
        int kept = (nLeft > 1 ? nLeft - 1 : 0) + (nRight > 1 ? nRight - 1 : 0);
        if (kept < nNeed || kept == 0) continue;
        int v = u->nVar++;
        if (form_of(&u->aLeft[v], p, 0, k) || form_of(&u->aRight[v], p, k + 1, m)) return PS_NOMEM;
        if ((nLeft && tseq_build(&u->aVarL[v], &u->longTerm, zPrefix, p, 0, k)) ||
            (nRight && tseq_build(&u->aVarR[v], &u->longTerm, zPrefix, p, k + 1, m)))
            return PS_NOMEM;
    }
    return PS_OK;
}

typedef struct {
    plan *pl;
    leaf *l;
    const char *zPrefix;
    int phrase;
    pieces seg;        /* phrase: the units of the segment being built */
} leaf_build;

static unit *leaf_new_unit(leaf *l)
{
    unit *a = px_realloc(l->aUnit, (size_t)(l->nUnit + 1) * sizeof *a);
    if (!a) return NULL;
    l->aUnit = a;
    memset(&a[l->nUnit], 0, sizeof a[0]);
    return &a[l->nUnit++];
}

/* A unit of the units p holds; near: with its near variants. */
static int leaf_add_unit(leaf_build *b, const pieces *p, int near)
{
    unit *u = leaf_new_unit(b->l);
    if (!u || form_of(&u->exact, p, 0, p->nPiece) != PS_OK ||
        tseq_build(&u->t, &u->longTerm, b->zPrefix, p, 0, p->nPiece) != PS_OK)
        return PS_NOMEM;
    if (!near) return PS_OK;
    b->pl->hasNear = 1;
    return run_variants(u, b->zPrefix, p);
}

static int seg_close(leaf_build *b)
{
    int rc = b->seg.nPiece ? leaf_add_unit(b, &b->seg, 0) : PS_OK;
    pieces_clear(&b->seg);
    return rc;
}

static int leaf_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                    size_t iStart, size_t iEnd)
{
    leaf_build *b = ctx;
    (void)iStart;
    (void)iEnd;
    if (kind == IDX_TOK_BREAK) return b->phrase ? seg_close(b) : 0;
    if (b->phrase) return pieces_tok(&b->seg, kind, z, n);
    /* unquoted: each word and each Han run on its own */
    pieces one;
    memset(&one, 0, sizeof one);
    int rc = pieces_tok(&one, kind, z, n);
    if (rc == PS_OK)
        rc = leaf_add_unit(b, &one, kind == IDX_TOK_HAN && nChar >= FUZZY_MIN_CHARS && nChar <= IDX_NEAR_CHARS_MAX);
    pieces_clear(&one);
    return rc;
}

/* Sections of a record's form (record_form), one per field a query can
 * name, and the pages; each "\x1E" + its tag (upper case, which no form
 * holds, so nothing matches across sections). */
#define TAG_TITLE 'S'
#define TAG_AUTHOR 'A'
#define TAG_DOCNO 'N'
#define TAG_NOTE 'O'
#define TAG_PAGE 'P'

static char tag_of(const char *zPrefix)
{
    if (strcmp(zPrefix, IDX_PFX_TITLE) == 0) return TAG_TITLE;
    if (strcmp(zPrefix, IDX_PFX_AUTHOR) == 0) return TAG_AUTHOR;
    if (strcmp(zPrefix, IDX_PFX_DOCNO) == 0) return TAG_DOCNO;
    return 0;
}

/* Give every text leaf its checks. */
static void plan_build(plan *pl, iq_node *p, int positive)
{
    if (!p || pl->rc != PS_OK) return;
    if (p->kind == IQ_AND || p->kind == IQ_OR) {
        plan_build(pl, p->pA, positive);
        plan_build(pl, p->pB, positive);
        return;
    }
    if (p->kind == IQ_NOT) {
        plan_build(pl, p->pA, positive);
        plan_build(pl, p->pB, 0);
        return;
    }
    if (p->kind != IQ_WORDS && p->kind != IQ_PHRASE) return;
    if (pl->nLeaf == pl->nAlloc) {
        int nNew = pl->nAlloc ? pl->nAlloc * 2 : 8;
        leaf *a = px_realloc(pl->aLeaf, (size_t)nNew * sizeof *a);
        if (!a) { pl->rc = PS_NOMEM; return; }
        pl->aLeaf = a;
        pl->nAlloc = nNew;
    }
    leaf *l = &pl->aLeaf[pl->nLeaf];
    memset(l, 0, sizeof *l);
    p->iLeaf = pl->nLeaf++;
    l->tag = tag_of(p->zPrefix);
    l->positive = positive;
    if (!l->tag) pl->hasText = 1;
    leaf_build b;
    memset(&b, 0, sizeof b);
    b.pl = pl;
    b.l = l;
    b.zPrefix = p->zPrefix;
    b.phrase = p->kind == IQ_PHRASE;
    int rc = idx_text_scan(p->z, strlen(p->z), leaf_tok, &b);
    int rc2 = seg_close(&b);
    if (rc != 0 || rc2 != 0) pl->rc = rc ? (rc < 0 ? PS_INTERNAL : rc) : rc2;
}

/* How many index terms the plan looks for, near variants included. */
static unsigned long plan_terms(const plan *pl)
{
    unsigned long n = 0;
    for (int i = 0; i < pl->nLeaf; i++)
        for (int k = 0; k < pl->aLeaf[i].nUnit; k++) {
            const unit *u = &pl->aLeaf[i].aUnit[k];
            n += (unsigned long)u->t.n;
            for (int v = 0; v < u->nVar; v++) n += (unsigned long)(u->aVarL[v].n + u->aVarR[v].n);
        }
    return n;
}

/* ---- a page's hits ---------------------------------------------------- */

static int has(const char *z, size_t n, const lit *l)
{
    return l->n == 0 || memmem(z, n, l->z, l->n) != NULL;
}

static int unit_holds(const unit *u, const char *z, size_t n, int near)
{
    if (has(z, n, &u->exact)) return 1;
    for (int v = 0; near && v < u->nVar; v++)
        if (has(z, n, &u->aLeft[v]) && has(z, n, &u->aRight[v])) return 1;
    return 0;
}

/* ---- checking a hit, when the index could not be exact ------------------ */

static const char *str_of(const json_t *o, const char *zKey)
{
    const char *z = json_string_value(json_object_get(o, zKey));
    return z ? z : "";
}


/* The form of a record's catalog fields and page texts, section by section. */
static int record_form(idx_form *f, const json_t *pData, int catOnly)
{
    static const struct { const char *zKey; char tag; } aField[] = {
        {"title", TAG_TITLE}, {"author", TAG_AUTHOR}, {"doc_no", TAG_DOCNO}, {"note", TAG_NOTE}};
    const json_t *pRec = json_object_get(pData, "r");
    char zSep[24];
    int rc = 0;
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < sizeof aField / sizeof aField[0] && rc == 0; i++) {
        const json_t *v = json_object_get(pRec, aField[i].zKey);
        snprintf(zSep, sizeof zSep, "\x1E%c", aField[i].tag);
        if (json_is_string(v)) rc = idx_form_append(f, zSep, json_string_value(v), json_string_length(v));
    }
    const char *zKey;
    json_t *pPage;
    if (!catOnly)
        json_object_foreach((json_t *)json_object_get(pData, "p"), zKey, pPage) {
            const json_t *t = json_object_get(pPage, "text");
            snprintf(zSep, sizeof zSep, "\x1E%c", TAG_PAGE);
            if (rc == 0 && json_is_string(t)) rc = idx_form_append(f, zSep, json_string_value(t), json_string_length(t));
        }
    return rc;
}

/* The part of the form that a leaf looks at. */
static void section(char tag, const char *z, size_t n, const char **pz, size_t *pn)
{
    char zTag[2] = {'\x1E', tag};
    *pz = z;
    *pn = n;
    if (!tag) return;
    const char *s = memmem(z, n, zTag, 2);
    if (!s) { *pn = 0; return; }
    s += 2;
    const char *e = memchr(s, '\x1E', n - (size_t)(s - z));
    *pz = s;
    *pn = e ? (size_t)(e - s) : n - (size_t)(s - z);
}

static const char *const azFilterKey[IDX_F__COUNT] = {"fonds", "category", "year", "retention", "carrier",
                                                      "classification", "org"};

/* The record's value of a field as text ("" none). */
static void field_text(const json_t *pRec, const char *zKey, char *zOut, size_t nOut)
{
    const json_t *v = json_object_get(pRec, zKey);
    if (json_is_string(v)) snprintf(zOut, nOut, "%s", json_string_value(v));
    else if (json_is_integer(v)) snprintf(zOut, nOut, "%lld", (long long)json_integer_value(v));
    else zOut[0] = 0;
}

static int eval(const plan *pl, const iq_node *p, const idx_form *f, const json_t *pRec, int near)
{
    char z[256];
    if (!p) return 1;
    switch (p->kind) {
    case IQ_AND: return eval(pl, p->pA, f, pRec, near) && eval(pl, p->pB, f, pRec, near);
    case IQ_OR: return eval(pl, p->pA, f, pRec, near) || eval(pl, p->pB, f, pRec, near);
    case IQ_NOT: return eval(pl, p->pA, f, pRec, near) && !eval(pl, p->pB, f, pRec, 0);
    case IQ_WORDS:
    case IQ_PHRASE: {
        const leaf *l = &pl->aLeaf[p->iLeaf];
        const char *zSec;
        size_t nSec;
        section(l->tag, f->z ? f->z : "", f->n, &zSec, &nSec);
        for (int i = 0; i < l->nUnit; i++)
            if (!unit_holds(&l->aUnit[i], zSec, nSec, near)) return 0;
        return 1;
    }
    case IQ_FILTER:
        if (p->filter < 0 || p->filter >= IDX_F__COUNT) return 0;
        field_text(pRec, azFilterKey[p->filter], z, sizeof z);
        return strcmp(z, p->z) == 0;
    case IQ_RANGE:
        field_text(pRec, "year", z, sizeof z);
        return strlen(z) == 4 && strcmp(z, p->z) >= 0 && strcmp(z, p->zHi) <= 0;
    }
    return 0;
}

/* Does the record really match?  Asked only when the index's answer is a
 * superset (an over-long word).  A record that cannot be read is kept: the
 * hit reports it. */
static int hit_holds(const plan *pl, const iq_node *pAst, const char *zData, size_t nData, int near)
{
    json_t *pData = idx_index_parse(zData, nData);
    if (!pData) return 1;
    const json_t *pRec = json_object_get(pData, "r");
    const char *zCat = str_of(pRec, "category"), *zCls = str_of(pRec, "classification"), *zCode = str_of(pRec, "code");
    int catOnly = idx_scope_restricted(pl->pScope, zCat, strlen(zCat), zCls, strlen(zCls), zCode, strlen(zCode)) == 1;
    idx_form f;
    int ok = 1;
    if (record_form(&f, pData, catOnly) == 0)
        ok = eval(pl, pAst, &f, pRec, near) && (!near || !eval(pl, pAst, &f, pRec, 0));
    idx_form_clear(&f);
    json_decref(pData);
    return ok;
}

/* ---- translation to Xapian ---------------------------------------------- */

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
static xw_query *ql_combine(int *pRc, qlist *l, int op)
{
    xw_query *q = NULL;
    if (l->n == 1) {
        q = l->a[0];
        l->n = 0;
    } else if (l->n > 1) {
        q = xw_q_combine(op, l->a, l->n);
        if (!q) *pRc = PS_NOMEM;
    }
    ql_clear(l);
    return q;
}

static xw_query *pair(int *pRc, int op, xw_query *a, xw_query *b);

/* The records holding a tseq: its term, or its pairs at consecutive
 * positions; every term prefixed by zPfx ("" none).  NULL: no constraint. */
static xw_query *tseq_query(int *pRc, const char *zPfx, const tseq *t)
{
    qlist l = {0};
    char zT[IDX_TERM_MAX + 64];
    for (int i = 0; i < t->n; i++) {
        snprintf(zT, sizeof zT, "%s%s", zPfx, t->az[i]);
        if (ql_push(&l, xw_q_term(zT, strlen(zT))) != PS_OK) *pRc = PS_NOMEM;
    }
    if (l.n <= 1) return ql_combine(pRc, &l, XW_AND);
    xw_query *q = xw_q_phrase(l.a, l.n);
    if (!q) *pRc = PS_NOMEM;
    ql_clear(&l);
    return q;
}

static xw_query *both(int *pRc, xw_query *a, xw_query *b)
{
    if (!a || !b) return a ? a : b;
    return pair(pRc, XW_AND, a, b);
}

/* A unit in the text under its prefix, or, with zPfx, in a catalog field. */
static xw_query *unit_query_in(int *pRc, const char *zPfx, const unit *u, int near)
{
    xw_query *q = tseq_query(pRc, zPfx, &u->t);
    if (!near || u->nVar == 0) return q;
    qlist alt = {0};
    if (q) ql_push(&alt, q);
    for (int v = 0; v < u->nVar; v++) {
        xw_query *qv = both(pRc, tseq_query(pRc, zPfx, &u->aVarL[v]), tseq_query(pRc, zPfx, &u->aVarR[v]));
        if (qv) ql_push(&alt, qv);
    }
    return ql_combine(pRc, &alt, XW_OR);
}

static xw_query *unit_query(int *pRc, const unit *u, int near, int *pExact)
{
    if (u->longTerm) *pExact = 0;
    return unit_query_in(pRc, "", u, near);
}

/* The same unit looked for in the catalog fields only: each field's
 * prefixed terms, any field. */
static const char *const azCatalogPrefix[] = {IDX_PFX_TITLE, IDX_PFX_AUTHOR, IDX_PFX_DOCNO, IDX_PFX_NOTE};

static xw_query *unit_query_catalog(int *pRc, const unit *u, int near, int *pExact)
{
    qlist any = {0};
    if (u->longTerm) *pExact = 0;
    for (size_t f = 0; f < sizeof azCatalogPrefix / sizeof azCatalogPrefix[0]; f++) {
        xw_query *q = unit_query_in(pRc, azCatalogPrefix[f], u, near);
        if (q) ql_push(&any, q);
    }
    return ql_combine(pRc, &any, XW_OR);
}

static xw_query *weightless(int *pRc, xw_query *q)
{
    if (!q) return NULL;
    xw_query *r = xw_q_scale(q, 0.0);
    xw_q_free(q);
    if (!r) *pRc = PS_NOMEM;
    return r;
}

static xw_query *pair(int *pRc, int op, xw_query *a, xw_query *b)
{
    xw_query *ab[2] = {a, b};
    xw_query *r = xw_q_combine(op, ab, 2);
    xw_q_free(a);
    xw_q_free(b);
    if (!r) *pRc = PS_NOMEM;
    return r;
}

/* NULL means "no constraint".  *pExact is cleared when the query is a
 * superset (an over-long word shares its term with longer ones).  catOnly:
 * for records whose text is closed to the caller, free text is looked for
 * in the catalog fields. */
static xw_query *tr(int *pRc, const plan *pl, const iq_node *p, int near, int catOnly, int *pExact)
{
    xw_query *a, *b;
    if (!p || *pRc != PS_OK) return NULL;
    switch (p->kind) {
    case IQ_WORDS:
    case IQ_PHRASE: {
        const leaf *l = &pl->aLeaf[p->iLeaf];
        qlist all = {0};
        for (int i = 0; i < l->nUnit; i++) {
            xw_query *q = catOnly && !l->tag ? unit_query_catalog(pRc, &l->aUnit[i], near, pExact)
                                             : unit_query(pRc, &l->aUnit[i], near, pExact);
            if (q) ql_push(&all, q);
        }
        return ql_combine(pRc, &all, XW_AND);
    }
    case IQ_FILTER: {
        char zTerm[IDX_TERM_MAX + 32];
        idx_bool_term(zTerm, sizeof zTerm, p->zPrefix, p->z);
        xw_query *q = xw_q_term(zTerm, strlen(zTerm));
        if (!q) *pRc = PS_NOMEM;
        return weightless(pRc, q);
    }
    case IQ_RANGE:
        a = xw_q_value_range(IDX_SLOT_YEAR, p->z, p->zHi);
        if (!a) *pRc = PS_NOMEM;
        return a;
    case IQ_AND:
    case IQ_OR:
        a = tr(pRc, pl, p->pA, near, catOnly, pExact);
        b = tr(pRc, pl, p->pB, near, catOnly, pExact);
        if (!a || !b) {
            /* An empty side of OR matches everything. */
            if (p->kind == IQ_OR && (a || b)) { xw_q_free(a); xw_q_free(b); return NULL; }
            return a ? a : b;
        }
        return pair(pRc, p->kind == IQ_AND ? XW_AND : XW_OR, a, b);
    case IQ_NOT: {
        int exactNeg = 1;
        a = tr(pRc, pl, p->pA, near, catOnly, pExact);
        b = tr(pRc, pl, p->pB, 0, catOnly, &exactNeg);
        if (!exactNeg) *pExact = 0; /* a superset subtracted: a few records too few */
        if (!b) return a;
        if (!a && !(a = xw_q_all())) { xw_q_free(b); *pRc = PS_NOMEM; return NULL; }
        return pair(pRc, XW_AND_NOT, a, b);
    }
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
            char zTerm[IDX_TERM_MAX + 32];
            idx_bool_term(zTerm, sizeof zTerm, azFilterPrefix[f], r->azFilter[f][i]);
            if (ql_push(&any, xw_q_term(zTerm, strlen(zTerm))) != PS_OK) *pRc = PS_NOMEM;
        }
        xw_query *q = ql_combine(pRc, &any, XW_OR);
        if (q) ql_push(&all, q);
    }
    if (r->zYearFrom || r->zYearTo)
        if (ql_push(&all, xw_q_value_range(IDX_SLOT_YEAR, r->zYearFrom ? r->zYearFrom : "0000",
                                           r->zYearTo ? r->zYearTo : "9999")) != PS_OK)
            *pRc = PS_NOMEM;
    return ql_combine(pRc, &all, XW_AND);
}

/* q kept to the records of a 密级 the caller may see: a filter of the
 * levels shown and of the records with no 密级, so that a record of an
 * unknown level is never shown (fail closed).  The others are neither hits
 * nor counted in totals and facets. */
static xw_query *cleared(xw_query *q, const idx_search_req *r, int *pRc)
{
    if (!q || !r->pScope) return q;
    qlist l = {0};
    xw_query *pAll = xw_q_all(), *pAny = xw_q_wildcard(IDX_PFX_CLASSIFICATION);
    xw_query *a[2] = {pAll, pAny};
    xw_query *pNone = pAll && pAny ? xw_q_combine(XW_AND_NOT, a, 2) : NULL;
    xw_q_free(pAll);
    xw_q_free(pAny);
    if (ql_push(&l, pNone) != PS_OK) *pRc = PS_NOMEM;
    for (int i = 0; i < r->pScope->nLevel; i++) {
        char zTerm[64];
        snprintf(zTerm, sizeof zTerm, IDX_PFX_CLASSIFICATION "%s", r->pScope->azLevel[i]);
        if (ql_push(&l, xw_q_term(zTerm, strlen(zTerm))) != PS_OK) *pRc = PS_NOMEM;
    }
    xw_query *pShown = ql_combine(pRc, &l, XW_OR);
    xw_query *pOut;
    if (r->pScope->allLevels) {
        /* cleared for the top: every 密级, one that is no known level too */
        xw_q_free(pShown);
        pOut = q;
        q = NULL;
        pShown = NULL;
    } else {
        xw_query *b[2] = {q, pShown};
        pOut = pShown ? xw_q_combine(XW_FILTER, b, 2) : NULL;
    }
    if (!pOut) *pRc = PS_NOMEM;
    xw_q_free(q);
    xw_q_free(pShown);
    /* records waiting for their catalog row, for those who link them only */
    if (pOut && r->pScope->hideUnlinked) {
        xw_query *pU = xw_q_term(IDX_TERM_UNLINKED, strlen(IDX_TERM_UNLINKED));
        xw_query *c[2] = {pOut, pU};
        xw_query *pKept = pU ? xw_q_combine(XW_AND_NOT, c, 2) : NULL;
        if (!pKept) *pRc = PS_NOMEM;
        xw_q_free(pOut);
        xw_q_free(pU);
        pOut = pKept;
    }
    return pOut;
}

/* The records whose text is closed to the caller: those that need an
 * approval, but for the ones approved.  NULL: none. */
static xw_query *closed_records(const idx_scope *pScope, int *pRc)
{
    char zTerm[PROTO_CODE_MAX + 64];
    qlist need = {0}, open = {0};
    if (!pScope || !pScope->restrict_) return NULL;
    for (int i = 0; i < pScope->nCategory; i++) {
        idx_bool_term(zTerm, sizeof zTerm, IDX_PFX_CATEGORY, pScope->azCategory[i]);
        if (ql_push(&need, xw_q_term(zTerm, strlen(zTerm))) != PS_OK) *pRc = PS_NOMEM;
    }
    for (int i = 0; i < pScope->nClsLevel; i++) {
        snprintf(zTerm, sizeof zTerm, IDX_PFX_CLASSIFICATION "%s", pScope->azClsLevel[i]);
        if (ql_push(&need, xw_q_term(zTerm, strlen(zTerm))) != PS_OK) *pRc = PS_NOMEM;
    }
    for (int i = 0; i < pScope->nApproved; i++) {
        snprintf(zTerm, sizeof zTerm, IDX_PFX_ID "%s", pScope->azApproved[i]);
        if (ql_push(&open, xw_q_term(zTerm, strlen(zTerm))) != PS_OK) *pRc = PS_NOMEM;
    }
    xw_query *pNeed = ql_combine(pRc, &need, XW_OR), *pOpen = ql_combine(pRc, &open, XW_OR);
    if (!pNeed || !pOpen) {
        xw_q_free(pOpen);
        return pNeed;
    }
    xw_query *a[2] = {pNeed, pOpen};
    xw_query *pOut = xw_q_combine(XW_AND_NOT, a, 2);
    if (!pOut) *pRc = PS_NOMEM;
    xw_q_free(pNeed);
    xw_q_free(pOpen);
    return pOut;
}

/* The query with records whose text is closed matched by their catalog
 * fields only: (full AND_NOT closed) OR (catalog-only FILTER closed). */
static xw_query *split_closed(xw_query *pFull, xw_query *pCat, const idx_scope *pScope, int *pRc)
{
    xw_query *pClosed = closed_records(pScope, pRc);
    if (!pClosed) {
        xw_q_free(pCat);
        return pFull;
    }
    xw_query *a[2] = {pFull, pClosed}, *b[2] = {pCat, pClosed};
    xw_query *pOpenPart = xw_q_combine(XW_AND_NOT, a, 2), *pClosedPart = xw_q_combine(XW_FILTER, b, 2);
    xw_query *c[2] = {pOpenPart, pClosedPart};
    xw_query *pOut = pOpenPart && pClosedPart ? xw_q_combine(XW_OR, c, 2) : NULL;
    if (!pOut) *pRc = PS_NOMEM;
    xw_q_free(pFull);
    xw_q_free(pCat);
    xw_q_free(pClosed);
    xw_q_free(pOpenPart);
    xw_q_free(pClosedPart);
    return pOut;
}

/* ---- hits ------------------------------------------------------------ */

/* Does a page's form hold what the positive free-text leaves look for? */
static int page_matches(const plan *pl, const char *z, size_t n, int near)
{
    for (int i = 0; i < pl->nLeaf; i++) {
        const leaf *l = &pl->aLeaf[i];
        if (!l->positive || l->tag) continue;
        for (int k = 0; k < l->nUnit; k++)
            if (unit_holds(&l->aUnit[k], z, n, near)) return 1;
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
        proto_utf8_next(z, n, &i);
        k--;
    }
    return i;
}

/* HTML snippet of text around the first literal, literals in <mark>. */
static void mark_lit(const idx_form *f, const lit *l, span *aSpan, int *pnSpan, int nMax)
{
    const char *zHit = f->z;
    if (l->n == 0) return;
    while (*pnSpan < nMax && (zHit = memmem(zHit, f->n - (size_t)(zHit - f->z), l->z, l->n))) {
        size_t k = (size_t)(zHit - f->z);
        /* Skip the \x01 word markers at either end of a literal. */
        size_t kA = k, kB = k + l->n - 1;
        while (kA < kB && f->z[kA] == '\x01') kA++;
        while (kB > kA && f->z[kB] == '\x01') kB--;
        aSpan[*pnSpan].a = f->aiOrig[kA];
        aSpan[*pnSpan].b = f->aiOrigEnd[kB];
        (*pnSpan)++;
        zHit += l->n;
    }
}

static char *make_snippet(const plan *pl, const char *zText, size_t nText, int near)
{
    idx_form f;
    span aSpan[128];
    int nSpan = 0;
    char *zOut = NULL;
    size_t nOut = 0, nAlloc = 0;

    if (idx_form_build(&f, zText, nText, 1) != 0) return NULL;
    for (int i = 0; i < pl->nLeaf; i++) {
        const leaf *l = &pl->aLeaf[i];
        if (!l->positive) continue;
        for (int k = 0; k < l->nUnit; k++) {
            const unit *u = &l->aUnit[k];
            mark_lit(&f, &u->exact, aSpan, &nSpan, 128);
            for (int v = 0; near && v < u->nVar; v++) {
                if (u->aLeft[v].n > 3) mark_lit(&f, &u->aLeft[v], aSpan, &nSpan, 128);
                if (u->aRight[v].n > 3) mark_lit(&f, &u->aRight[v], aSpan, &nSpan, 128);
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


/* Pages in their order: keys of "p" sorted by number. */
static int page_cmp(const void *x, const void *y)
{
    unsigned long a = *(const unsigned long *)x, b = *(const unsigned long *)y;
    return a < b ? -1 : a > b;
}

/* One hit of the answer from the stored data of a record: the pages whose
 * text holds what the query's free text looks for, and a snippet from the
 * first of them (or from the title when only the catalog fields match, or
 * when the record's text is closed to the caller).  *pDamaged is set (and
 * NULL returned) when the stored data cannot be read. */
static json_t *make_hit(const char *zData, size_t nData, const plan *pl, int exact, int *pDamaged)
{
    static const char *const azKey[] = {"code", "title", "author", "date", "year", "doc_no",
                                        "location", "retention", "classification", NULL};
    json_t *pData = idx_index_parse(zData, nData);
    json_t *pHit = json_object();
    json_t *pPages = json_array();
    unsigned long viewPage = 0, *aPage = NULL;
    *pDamaged = 0;
    if (!pData || !json_is_object(json_object_get(pData, "r"))) {
        *pDamaged = pHit && pPages;
        goto fail;
    }
    if (!pHit || !pPages) goto fail;
    json_t *pRec = json_object_get(pData, "r");
    const char *zCat = str_of(pRec, "category"), *zCls = str_of(pRec, "classification"), *zCode = str_of(pRec, "code");
    int closed = idx_scope_restricted(pl->pScope, zCat, strlen(zCat), zCls, strlen(zCls), zCode, strlen(zCode));
    for (int i = 0; azKey[i]; i++) {
        json_t *v = json_object_get(pRec, azKey[i]);
        if (v && json_object_set(pHit, azKey[i], v) != 0) goto fail;
    }
    /* scans waiting for their catalog row (待挂接) */
    if (json_object_get(pData, "u") && json_object_set_new(pHit, "unlinked", json_true()) != 0) goto fail;
    const char *zSnip = NULL;
    size_t nSnip = 0, nPage = 0;
    json_t *pP = json_object_get(pData, "p");
    /* a record whose text is closed shows its catalog line only */
    if (closed != 1 && pl->hasText && json_object_size(pP)) {
        const char *zKey;
        json_t *v;
        if (!(aPage = px_malloc(json_object_size(pP) * sizeof *aPage))) goto fail;
        json_object_foreach(pP, zKey, v) {
            unsigned long n = strtoul(zKey, NULL, 10);
            if (n >= 1 && n <= IDX_PAGE_MAX) aPage[nPage++] = n;
        }
        qsort(aPage, nPage, sizeof *aPage, page_cmp);
    }
    for (size_t k = 0; k < nPage; k++) {
        char zK[24];
        idx_form f;
        snprintf(zK, sizeof zK, "%lu", aPage[k]);
        json_t *pText = json_object_get(json_object_get(pP, zK), "text");
        if (!json_is_string(pText)) continue;
        if (idx_form_build(&f, json_string_value(pText), json_string_length(pText), 0) != 0) goto fail;
        int hit = page_matches(pl, f.z, f.n, !exact);
        idx_form_clear(&f);
        if (!hit) continue;
        if (json_array_append_new(pPages, json_integer((json_int_t)aPage[k])) != 0) goto fail;
        if (!zSnip) {
            zSnip = json_string_value(pText);
            nSnip = json_string_length(pText);
            if (closed == 2) viewPage = aPage[k];  /* approved: shown, so registered */
        }
    }
    if (!zSnip) {
        json_t *pTitle = json_object_get(pRec, "title");
        zSnip = json_is_string(pTitle) ? json_string_value(pTitle) : "";
        nSnip = strlen(zSnip);
    }
    char *zMasked = NULL;
    if (pl->maskIds && (zMasked = px_malloc(nSnip + 1)) != NULL) {
        /* before the window is cut, or half a number would show */
        memcpy(zMasked, zSnip, nSnip);
        zMasked[nSnip] = 0;
        idx_mask_text(zMasked, nSnip, 0);
        zSnip = zMasked;
    } else if (pl->maskIds) {
        goto fail;
    }
    char *zS = make_snippet(pl, zSnip, nSnip, !exact);
    px_free(zMasked);
    if (!zS) goto fail;
    json_object_set_new(pHit, "snippet", json_string(zS));
    px_free(zS);
    json_object_set_new(pHit, "pages", pPages);
    pPages = NULL;
    json_object_set_new(pHit, "exact", json_boolean(exact));
    if (viewPage) json_object_set_new(pHit, "_view", json_integer((json_int_t)viewPage));
    json_decref(pData);
    px_free(aPage);
    return pHit;
fail:
    px_free(aPage);
    json_decref(pData);
    json_decref(pHit);
    json_decref(pPages);
    return NULL;
}

/* check: the index's answer is a superset; hits that do not hold are left out. */
static int append_hits(json_t *pHits, const xw_mset *m, const plan *pl, const iq_node *pAst, int exact, int check)
{
    for (unsigned i = 0; i < xw_mset_size(m); i++) {
        const char *z;
        size_t n;
        int damaged;
        xw_mset_data(m, i, &z, &n);
        if (check && !hit_holds(pl, pAst, z, n, !exact)) continue;
        json_t *h = make_hit(z, n, pl, exact, &damaged);
        if (!h && damaged) {
            /* one unreadable record must not break every search that finds it */
            IDX_LOG(IDX_LOG_ERROR, 0, "a hit's stored data cannot be read; it is left out (rewrite its record)");
            continue;
        }
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
    double t0 = idx_now_ms();
    iq_node *pAst = NULL;
    plan pl;
    xw_query *pFilter = NULL, *pStrict = NULL, *pNear = NULL, *pNearOnly = NULL;
    xw_mset *m1 = NULL, *m2 = NULL;
    json_t *pOut = NULL, *pHits = NULL;
    xw_rdb *pDb;
    int rc;

    memset(&pl, 0, sizeof pl);
    *ppOut = NULL;
    *pzParam = NULL;
    *pOffset = 0;
    rc = idx_query_parse(r->zQuery, &pAst, pOffset, zErr, nErr);
    if (rc != PS_OK) {
        *pzParam = "q";
        goto out;
    }
    plan_build(&pl, pAst, 1);
    pl.maskIds = r->maskIds;
    pl.pScope = r->pScope;
    if ((rc = pl.rc) != PS_OK) goto out;
    if (plan_terms(&pl) > IDX_QUERY_TERMS_MAX) {
        snprintf(zErr, nErr, "检索式过于复杂（须查找的索引词超过 %d 个）："
                 "请减少检索词或缩短检索词，或把短语加上引号", IDX_QUERY_TERMS_MAX);
        *pzParam = "q";
        rc = PS_BAD_QUERY;
        goto out;
    }
    pFilter = param_filters(r, &rc);
    if (rc != PS_OK) goto out;

    int strictExact = 1, nearExact = 1;
    int split = pl.hasText && r->pScope && r->pScope->restrict_;
    pStrict = tr(&rc, &pl, pAst, 0, 0, &strictExact);
    if (rc == PS_OK && pl.hasNear) pNear = tr(&rc, &pl, pAst, 1, 0, &nearExact);
    if (rc != PS_OK) goto out;
    if (!pStrict && !(pStrict = xw_q_all())) { rc = PS_NOMEM; goto out; }
    if (split) {
        /* records whose text is closed to the caller match by their catalog fields */
        xw_query *pCat = tr(&rc, &pl, pAst, 0, 1, &strictExact);
        if (rc == PS_OK && !pCat && !(pCat = xw_q_all())) rc = PS_NOMEM;
        if (rc == PS_OK) pStrict = split_closed(pStrict, pCat, r->pScope, &rc);
        else xw_q_free(pCat);
        if (rc == PS_OK && pNear) {
            xw_query *pNearCat = tr(&rc, &pl, pAst, 1, 1, &nearExact);
            if (rc == PS_OK && !pNearCat && !(pNearCat = xw_q_all())) rc = PS_NOMEM;
            if (rc == PS_OK) pNear = split_closed(pNear, pNearCat, r->pScope, &rc);
            else xw_q_free(pNearCat);
        }
        if (rc != PS_OK || !pStrict) { if (rc == PS_OK) rc = PS_NOMEM; goto out; }
    }
    if (pNear) {
        if (strictExact) {
            xw_query *a[2] = {pNear, pStrict};
            if (!(pNearOnly = xw_q_combine(XW_AND_NOT, a, 2))) { rc = PS_NOMEM; goto out; }
        } else if (!(pNearOnly = xw_q_combine(XW_AND, &pNear, 1))) {
            rc = PS_NOMEM;
            goto out;
        }
        if (!(pNearOnly = filtered(pNearOnly, pFilter, &rc))) goto out;
        if (!(pNearOnly = cleared(pNearOnly, r, &rc))) goto out;
    }
    if (!(pStrict = filtered(pStrict, pFilter, &rc))) goto out;
    if (!(pStrict = cleared(pStrict, r, &rc))) goto out;

    if ((rc = idx_index_reader(p, &pDb, zErr, nErr)) != PS_OK) goto out;
    unsigned limit = r->limit ? r->limit : 20;
    /* With a check, look far enough that small answers are counted exactly. */
    xw_search_opts o = {r->offset, limit, -1, 0, r->offset + limit + CHECK_EXTRA,
                        NULL, 0, NULL, NULL, -1, 0, SEARCH_TIME_LIMIT};
    if (r->sort == IDX_SORT_DATE || r->sort == IDX_SORT_DATE_DESC) {
        o.sortSlot = IDX_SLOT_DATE;
        o.sortReverse = r->sort == IDX_SORT_DATE_DESC;
    }
    int nFacet = (int)(sizeof aFacetSlot / sizeof aFacetSlot[0]);
    /* Facets count the exact matches: counting the near ones too would mean
     * checking thousands of candidates, for counts an archivist reads the
     * same way. */
    if (r->facets) {
        o.aFacetSlot = aFacetSlot;
        o.nFacet = nFacet;
        if (o.checkAtLeast < r->facetCheck) o.checkAtLeast = r->facetCheck;
    }
    if ((rc = xw_search(pDb, pStrict, &o, &m1, zErr, nErr)) != PS_OK) goto out;
    unsigned long total1 = xw_mset_estimated(m1), total = total1;
    int exactTotal = xw_mset_exact(m1) && strictExact;
    if (!(pHits = json_array())) { rc = PS_NOMEM; goto out; }
    if ((rc = append_hits(pHits, m1, &pl, pAst, 1, !strictExact)) != PS_OK) goto out;
    if (pNear) {
        xw_search_opts o2 = o;
        o2.offset = r->offset > total1 ? r->offset - (unsigned)total1 : 0;
        o2.limit = limit - xw_mset_size(m1);
        o2.checkAtLeast = o2.offset + o2.limit + CHECK_EXTRA_NEAR;
        o2.aFacetSlot = NULL;
        o2.nFacet = 0;
        /* Near matches come after the exact ones in index order: ranking
         * them would mean weighing every candidate of a loose query. */
        o2.unranked = r->sort == IDX_SORT_RELEVANCE;
        if ((rc = xw_search(pDb, pNearOnly, &o2, &m2, zErr, nErr)) != PS_OK) goto out;
        total += xw_mset_estimated(m2);
        exactTotal = exactTotal && xw_mset_exact(m2) && nearExact;
        if ((rc = append_hits(pHits, m2, &pl, pAst, 0, !nearExact || !strictExact)) != PS_OK) goto out;
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
        json_t *pF = facet_json(m1);
        if (!pF) { rc = PS_NOMEM; goto out; }
        json_object_set_new(pOut, "facets", pF);
        json_object_set_new(pOut, "facets_complete",
                            json_boolean(xw_mset_exact(m1) && xw_mset_facet_seen(m1) >= total1));
    }
    json_object_set_new(pOut, "took_ms", json_real((double)(long)((idx_now_ms() - t0) * 100) / 100));
    idx_index_note_degraded(p, pOut); /* shards that did not answer: "degraded", "missing_shards", "notice" */
    *ppOut = pOut;
    pOut = NULL;
out:
    json_decref(pOut);
    json_decref(pHits);
    xw_mset_free(m1);
    xw_mset_free(m2);
    xw_q_free(pFilter);
    xw_q_free(pStrict);
    xw_q_free(pNear);
    xw_q_free(pNearOnly);
    idx_query_free(pAst);
    plan_clear(&pl);
    return rc;
}
