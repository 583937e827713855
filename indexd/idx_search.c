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
/* Matches checked beyond the page when a decider checks them, so that small
 * totals are exact; more for the exact pass than for near matches. */
#define CHECK_EXTRA 400
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

/* A unit is what must occur in the form of a record: a word, a Chinese run
 * (unquoted text), or a phrase segment between two punctuation marks.  Near
 * variants of a run of 4+ characters: the run with one character taken out,
 * as the part before it and the part after it, both present. */
typedef struct {
    char *z;
    size_t n;
} lit;

typedef struct {
    lit exact;
    int nVar;
    lit *aLeft, *aRight;
    char **azTerm;      /* the index terms that the exact unit implies */
    int nTerm;
    int longTerm;       /* a term as long as the index keeps: longer words share it */
    char **azVarTerm;   /* per variant, its terms, NUL-separated in one string */
} unit;

typedef struct {
    char tag;           /* section of the form: 0 the whole record */
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

static void unit_clear(unit *u)
{
    px_free(u->exact.z);
    for (int i = 0; i < u->nVar; i++) {
        px_free(u->aLeft[i].z);
        px_free(u->aRight[i].z);
        px_free(u->azVarTerm[i]);
    }
    px_free(u->aLeft);
    px_free(u->aRight);
    px_free(u->azVarTerm);
    for (int i = 0; i < u->nTerm; i++) px_free(u->azTerm[i]);
    px_free(u->azTerm);
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

static int lit_set(lit *l, const char *z, size_t n)
{
    l->z = px_strndup(z, n);
    l->n = n;
    return l->z ? PS_OK : PS_NOMEM;
}

static int unit_add_term(unit *u, const char *zPrefix, const char *z, size_t n)
{
    char **a = px_realloc(u->azTerm, (size_t)(u->nTerm + 1) * sizeof *a);
    if (!a) return PS_NOMEM;
    u->azTerm = a;
    size_t nP = strlen(zPrefix);
    n = idx_term_cut(nP, z, n); /* as the index cut it */
    if (nP + n + 4 > IDX_TERM_MAX) u->longTerm = 1;
    char *zT = px_malloc(nP + n + 1);
    if (!zT) return PS_NOMEM;
    memcpy(zT, zPrefix, nP);
    memcpy(zT + nP, z, n);
    zT[nP + n] = 0;
    u->azTerm[u->nTerm++] = zT;
    return PS_OK;
}

/* Byte offsets of the characters of a Han run (up to nMax characters). */
static int char_offsets(const char *z, size_t n, size_t *ai, int nMax)
{
    int k = 0;
    size_t i = 0;
    while (i < n && k < nMax) {
        ai[k++] = i;
        proto_utf8_next(z, n, &i);
    }
    ai[k] = n;
    return k;
}

/* The terms of a Han run: its pairs, or the character when it is alone. */
static int run_terms(unit *u, const char *zPrefix, const char *z, size_t n)
{
    size_t ai[1026];
    int m = char_offsets(z, n, ai, 1024), rc = PS_OK;
    if (m == 1) return unit_add_term(u, zPrefix, z, n);
    for (int k = 0; k + 1 < m && rc == PS_OK; k++) rc = unit_add_term(u, zPrefix, z + ai[k], ai[k + 2] - ai[k]);
    return rc;
}

/* Terms of a part of a run, NUL-separated, appended to *pz. */
static int part_terms(char **pz, size_t *pn, const char *zPrefix, const char *z, size_t n)
{
    unit tmp;
    memset(&tmp, 0, sizeof tmp);
    int rc = n ? run_terms(&tmp, zPrefix, z, n) : PS_OK;
    for (int i = 0; i < tmp.nTerm && rc == PS_OK; i++) {
        size_t k = strlen(tmp.azTerm[i]);
        char *zNew = px_realloc(*pz, *pn + k + 2);
        if (!zNew) { rc = PS_NOMEM; break; }
        *pz = zNew;
        memcpy(*pz + *pn, tmp.azTerm[i], k + 1);
        *pn += k + 1;
        (*pz)[*pn] = 0;
    }
    unit_clear(&tmp);
    return rc;
}

static int run_variants(unit *u, const char *zPrefix, const char *z, size_t n)
{
    size_t ai[1026];
    int m = char_offsets(z, n, ai, 1024);
    int nPairs = m - 1, nNeed = (nPairs + 1) / 2;
    u->aLeft = px_calloc((size_t)m, sizeof(lit));
    u->aRight = px_calloc((size_t)m, sizeof(lit));
    u->azVarTerm = px_calloc((size_t)m, sizeof(char *));
    if (!u->aLeft || !u->aRight || !u->azVarTerm) return PS_NOMEM;
    for (int k = 0; k < m; k++) {
        int nLeft = k, nRight = m - k - 1;
        int kept = (nLeft > 1 ? nLeft - 1 : 0) + (nRight > 1 ? nRight - 1 : 0);
        if (kept < nNeed || kept == 0) continue;
        int v = u->nVar;
        size_t nT = 0;
        if (lit_set(&u->aLeft[v], z, ai[k]) || lit_set(&u->aRight[v], z + ai[k + 1], n - ai[k + 1]))
            return PS_NOMEM;
        u->nVar++;
        if (part_terms(&u->azVarTerm[v], &nT, zPrefix, z, ai[k]) ||
            part_terms(&u->azVarTerm[v], &nT, zPrefix, z + ai[k + 1], n - ai[k + 1]))
            return PS_NOMEM;
    }
    return PS_OK;
}

typedef struct {
    plan *pl;
    leaf *l;
    const char *zPrefix;
    int phrase;
    unit *pSeg;        /* phrase: the segment being built */
    char *zSeg;        /* its form */
    size_t nSeg;
} leaf_build;

static unit *leaf_new_unit(leaf *l)
{
    unit *a = px_realloc(l->aUnit, (size_t)(l->nUnit + 1) * sizeof *a);
    if (!a) return NULL;
    l->aUnit = a;
    memset(&a[l->nUnit], 0, sizeof a[0]);
    return &a[l->nUnit++];
}

static int seg_close(leaf_build *b)
{
    int rc = PS_OK;
    if (b->pSeg) {
        b->pSeg->exact.z = b->zSeg;
        b->pSeg->exact.n = b->nSeg;
        if (!b->zSeg) rc = PS_NOMEM;
    } else {
        px_free(b->zSeg);
    }
    b->pSeg = NULL;
    b->zSeg = NULL;
    b->nSeg = 0;
    return rc;
}

static int seg_append(leaf_build *b, const char *z, size_t n)
{
    char *zNew = px_realloc(b->zSeg, b->nSeg + n + 1);
    if (!zNew) return PS_NOMEM;
    b->zSeg = zNew;
    memcpy(b->zSeg + b->nSeg, z, n);
    b->nSeg += n;
    b->zSeg[b->nSeg] = 0;
    return PS_OK;
}

static int leaf_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                    size_t iStart, size_t iEnd)
{
    leaf_build *b = ctx;
    char zW[300];
    int rc;
    (void)iStart;
    (void)iEnd;
    if (kind == IDX_TOK_BREAK) return b->phrase ? seg_close(b) : 0;
    if (kind == IDX_TOK_WORD) snprintf(zW, sizeof zW, "\x01%.*s\x01", (int)(n < 290 ? n : 290), z);
    const char *zForm = kind == IDX_TOK_WORD ? zW : z;
    size_t nForm = kind == IDX_TOK_WORD ? strlen(zW) : n;
    if (b->phrase) {
        if (!b->pSeg && !(b->pSeg = leaf_new_unit(b->l))) return PS_NOMEM;
        if ((rc = seg_append(b, zForm, nForm)) != PS_OK) return rc;
        return kind == IDX_TOK_WORD ? unit_add_term(b->pSeg, b->zPrefix, z, n) : run_terms(b->pSeg, b->zPrefix, z, n);
    }
    unit *u = leaf_new_unit(b->l);
    if (!u || lit_set(&u->exact, zForm, nForm) != PS_OK) return PS_NOMEM;
    if (kind == IDX_TOK_WORD) return unit_add_term(u, b->zPrefix, z, n);
    if ((rc = run_terms(u, b->zPrefix, z, n)) != PS_OK) return rc;
    if (nChar >= FUZZY_MIN_CHARS && nChar <= IDX_NEAR_CHARS_MAX) {
        b->pl->hasNear = 1;
        return run_variants(u, b->zPrefix, z, n);
    }
    return PS_OK;
}

static char tag_of(const char *zPrefix)
{
    if (strcmp(zPrefix, IDX_PFX_TITLE) == 0) return IDX_TAG_TITLE[0];
    if (strcmp(zPrefix, IDX_PFX_AUTHOR) == 0) return IDX_TAG_AUTHOR[0];
    if (strcmp(zPrefix, IDX_PFX_DOCNO) == 0) return IDX_TAG_DOCNO[0];
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
    leaf_build b = {pl, l, p->zPrefix, p->kind == IQ_PHRASE, NULL, NULL, 0};
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
            n += (unsigned long)u->nTerm;
            for (int v = 0; v < u->nVar; v++)
                for (const char *t = u->azVarTerm[v]; t && *t; t += strlen(t) + 1) n++;
        }
    return n;
}

/* ---- checking a record against the plan ------------------------------ */

static const unsigned aFilterSlot[IDX_F__COUNT + 1] = {
    IDX_SLOT_FONDS, IDX_SLOT_CATEGORY, IDX_SLOT_YEAR, IDX_SLOT_RETENTION, IDX_SLOT_CARRIER,
    IDX_SLOT_CLASSIFICATION, IDX_SLOT_ORG, IDX_SLOT_CODE};

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

/* The catalog sections of a form: everything before the first page. */
static size_t catalog_part(const char *z, size_t n)
{
    static const char zPage[] = "\x1E" IDX_TAG_PAGE;
    const char *e = memmem(z, n, zPage, 2);
    return e ? (size_t)(e - z) : n;
}

/* catOnly: the record's text is closed to the caller; a leaf over the whole
 * record looks at its catalog fields only. */
static int leaf_holds(const leaf *l, const char *z, size_t n, int near, int catOnly)
{
    const char *zSec;
    size_t nSec;
    if (catOnly && !l->tag) n = catalog_part(z, n);
    section(l->tag, z, n, &zSec, &nSec);
    for (int i = 0; i < l->nUnit; i++)
        if (!unit_holds(&l->aUnit[i], zSec, nSec, near)) return 0;
    return 1;
}

static int eval(const plan *pl, const iq_node *p, xw_docview *v, int near, int catOnly)
{
    const char *z;
    size_t n;
    if (!p) return 1;
    switch (p->kind) {
    case IQ_AND: return eval(pl, p->pA, v, near, catOnly) && eval(pl, p->pB, v, near, catOnly);
    case IQ_OR: return eval(pl, p->pA, v, near, catOnly) || eval(pl, p->pB, v, near, catOnly);
    case IQ_NOT: return eval(pl, p->pA, v, near, catOnly) && !eval(pl, p->pB, v, 0, catOnly);
    case IQ_WORDS:
    case IQ_PHRASE:
        if (xw_docview_value(v, IDX_SLOT_FORM, &z, &n) != PS_OK) return 0;
        return leaf_holds(&pl->aLeaf[p->iLeaf], z, n, near, catOnly);
    case IQ_FILTER:
        if (xw_docview_value(v, aFilterSlot[p->filter], &z, &n) != PS_OK) return 0;
        return n == strlen(p->z) && memcmp(z, p->z, n) == 0;
    case IQ_RANGE:
        if (xw_docview_value(v, IDX_SLOT_YEAR, &z, &n) != PS_OK || n != 4) return 0;
        return memcmp(z, p->z, 4) >= 0 && memcmp(z, p->zHi, 4) <= 0;
    }
    return 0;
}

enum { DECIDE_STRICT, DECIDE_NEAR_ONLY };

typedef struct {
    const plan *pl;
    const iq_node *pAst;
    int mode;
} decide_ctx;

/* Is the record's text closed to the caller (it needs an approval they lack)? */
static int text_closed(const idx_scope *pScope, xw_docview *v)
{
    const char *zCat = "", *zCls = "", *zCode = "";
    size_t nCat = 0, nCls = 0, nCode = 0;
    if (!pScope || !pScope->restrict_) return 0;
    xw_docview_value(v, IDX_SLOT_CATEGORY, &zCat, &nCat);
    xw_docview_value(v, IDX_SLOT_CLASSIFICATION, &zCls, &nCls);
    xw_docview_value(v, IDX_SLOT_CODE, &zCode, &nCode);
    return idx_scope_restricted(pScope, zCat, nCat, zCls, nCls, zCode, nCode) == 1;
}

static int decide(void *ctx, xw_docview *v)
{
    decide_ctx *d = ctx;
    int closed = d->pl->hasText && text_closed(d->pl->pScope, v);
    if (d->mode == DECIDE_STRICT) return eval(d->pl, d->pAst, v, 0, closed);
    return eval(d->pl, d->pAst, v, 1, closed) && !eval(d->pl, d->pAst, v, 0, closed);
}

/* ---- translation to Xapian: a superset of the matches ----------------- */

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

static xw_query *terms_and(int *pRc, char *const *az, int n)
{
    qlist l = {0};
    for (int i = 0; i < n; i++)
        if (ql_push(&l, xw_q_term(az[i], strlen(az[i]))) != PS_OK) *pRc = PS_NOMEM;
    return ql_combine(pRc, &l, XW_AND);
}

static xw_query *unit_query(int *pRc, const unit *u, int near, int *pExact)
{
    xw_query *q = terms_and(pRc, u->azTerm, u->nTerm);
    if (u->nTerm != 1 || u->longTerm) *pExact = 0;
    if (!near || u->nVar == 0) return q;
    qlist alt = {0};
    *pExact = 0;
    if (q) ql_push(&alt, q);
    for (int v = 0; v < u->nVar; v++) {
        char *az[64];
        int n = 0;
        for (const char *s = u->azVarTerm[v]; s && *s && n < 64; s += strlen(s) + 1) az[n++] = (char *)s;
        xw_query *qv = terms_and(pRc, az, n);
        if (qv) ql_push(&alt, qv);
    }
    return ql_combine(pRc, &alt, XW_OR);
}

/* The same unit looked for in the catalog fields only: each field's
 * prefixed terms, any field. */
static const char *const azCatalogPrefix[] = {IDX_PFX_TITLE, IDX_PFX_AUTHOR, IDX_PFX_DOCNO, IDX_PFX_NOTE};

static xw_query *terms_and_prefixed(int *pRc, const char *zPfx, char *const *az, int n)
{
    qlist l = {0};
    char zT[IDX_TERM_MAX + 64];
    for (int i = 0; i < n; i++) {
        snprintf(zT, sizeof zT, "%s%s", zPfx, az[i]);
        if (ql_push(&l, xw_q_term(zT, strlen(zT))) != PS_OK) *pRc = PS_NOMEM;
    }
    return ql_combine(pRc, &l, XW_AND);
}

static xw_query *unit_query_catalog(int *pRc, const unit *u, int near, int *pExact)
{
    qlist any = {0};
    /* a prefixed term is exact for its field as the plain one is for the record */
    if (u->nTerm != 1 || (near && u->nVar)) *pExact = 0;
    for (size_t f = 0; f < sizeof azCatalogPrefix / sizeof azCatalogPrefix[0]; f++) {
        xw_query *q = terms_and_prefixed(pRc, azCatalogPrefix[f], u->azTerm, u->nTerm);
        if (q) ql_push(&any, q);
        for (int v = 0; near && v < u->nVar; v++) {
            char *az[64];
            int n = 0;
            for (const char *t = u->azVarTerm[v]; t && *t && n < 64; t += strlen(t) + 1) az[n++] = (char *)t;
            xw_query *qv = terms_and_prefixed(pRc, azCatalogPrefix[f], az, n);
            if (qv) ql_push(&any, qv);
        }
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
 * superset that the decider must check.  catOnly: for records whose text is
 * closed to the caller, free text is looked for in the catalog fields. */
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
        if (!exactNeg) {  /* can't subtract a superset: the decider will */
            *pExact = 0;
            xw_q_free(b);
            return a;
        }
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

static const char *str_of(const json_t *o, const char *zKey)
{
    const char *z = json_string_value(json_object_get(o, zKey));
    return z ? z : "";
}

/* One hit of the answer from the stored data of a record and its form:
 * the pages whose section of the form matches, and a snippet from the
 * first of them (or from the title when only the catalog fields match,
 * or when the record's text is closed to the caller).  *pDamaged is set
 * (and NULL returned) when the stored data cannot be read. */
static json_t *make_hit(const char *zData, size_t nData, const char *zForm, size_t nForm,
                        const plan *pl, int exact, int *pDamaged)
{
    static const char *const azKey[] = {"code", "title", "author", "date", "year", "doc_no",
                                        "location", "retention", "classification", NULL};
    static const char zPage[] = "\x1E" IDX_TAG_PAGE;
    json_t *pData = idx_index_parse(zData, nData);
    json_t *pHit = json_object();
    json_t *pPages = json_array();
    unsigned long viewPage = 0;
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
    size_t nSnip = 0;
    const char *s = zForm, *e = zForm + nForm;
    /* a record whose text is closed shows its catalog line only */
    while (closed != 1 && pl->nLeaf && s < e && (s = memmem(s, (size_t)(e - s), zPage, 2)) != NULL) {
        char *zEnd;
        unsigned long n = strtoul(s + 2, &zEnd, 10);
        if (zEnd >= e || *zEnd != '\x1D') break;  /* not a page tag: damaged form */
        const char *zSec = zEnd + 1;
        const char *zNext = memchr(zSec, '\x1E', (size_t)(e - zSec));
        size_t nSec = zNext ? (size_t)(zNext - zSec) : (size_t)(e - zSec);
        s = zSec + nSec;
        if (!page_matches(pl, zSec, nSec, !exact)) continue;
        if (json_array_append_new(pPages, json_integer((json_int_t)n)) != 0) goto fail;
        if (!zSnip) {
            char zK[24];
            snprintf(zK, sizeof zK, "%lu", n);
            json_t *pText = json_object_get(json_object_get(json_object_get(pData, "p"), zK), "text");
            if (json_is_string(pText)) {
                zSnip = json_string_value(pText);
                nSnip = json_string_length(pText);
                if (closed == 2) viewPage = n;  /* approved: shown, so registered */
            }
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
    return pHit;
fail:
    json_decref(pData);
    json_decref(pHit);
    json_decref(pPages);
    return NULL;
}

static int append_hits(json_t *pHits, const xw_mset *m, const plan *pl, int exact)
{
    for (unsigned i = 0; i < xw_mset_size(m); i++) {
        const char *z, *zForm = "";
        size_t n, nForm = 0;
        int damaged;
        xw_mset_data(m, i, &z, &n);
        xw_mset_value(m, i, &zForm, &nForm);
        json_t *h = make_hit(z, n, zForm, nForm, pl, exact, &damaged);
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
    decide_ctx dStrict = {&pl, pAst, DECIDE_STRICT}, dNearOnly = {&pl, pAst, DECIDE_NEAR_ONLY};
    xw_search_opts o = {r->offset, limit, -1, 0, r->offset + limit + (strictExact ? 100 : CHECK_EXTRA),
                        NULL, 0, strictExact ? NULL : decide, &dStrict, IDX_SLOT_FORM, 0, SEARCH_TIME_LIMIT};
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
    int exactTotal = xw_mset_exact(m1);
    if (!(pHits = json_array())) { rc = PS_NOMEM; goto out; }
    if ((rc = append_hits(pHits, m1, &pl, 1)) != PS_OK) goto out;
    if (pNear) {
        xw_search_opts o2 = o;
        o2.offset = r->offset > total1 ? r->offset - (unsigned)total1 : 0;
        o2.limit = limit - xw_mset_size(m1);
        o2.checkAtLeast = o2.offset + o2.limit + CHECK_EXTRA_NEAR;
        o2.aFacetSlot = NULL;
        o2.nFacet = 0;
        o2.xDecide = decide;
        o2.pDecideCtx = &dNearOnly;
        /* Near matches come after the exact ones in index order: ranking
         * them would mean weighing every candidate of a loose query. */
        o2.unranked = r->sort == IDX_SORT_RELEVANCE;
        if ((rc = xw_search(pDb, pNearOnly, &o2, &m2, zErr, nErr)) != PS_OK) goto out;
        total += xw_mset_estimated(m2);
        exactTotal = exactTotal && xw_mset_exact(m2);
        if ((rc = append_hits(pHits, m2, &pl, 0)) != PS_OK) goto out;
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
