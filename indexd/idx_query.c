/* Recursive-descent parser of the archivists' query language. */
#include "idx_query.h"
#include "idx_mask.h"
#include "idx_schema.h"
#include "idx_search.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <stdio.h>
#include <string.h>

#define DEPTH_MAX 32
#define QUERY_MAX 4096 /* bytes of a query */
#define NUM_MAX 64     /* numbers written with spaces kept whole in a query */

typedef struct {
    const char *z;
    size_t n, i;
    int depth;
    int rc;
    unsigned errOffset;
    char *zErr;
    size_t nErr;
    size_t aNum[NUM_MAX][2]; /* numbers written with separators: one word */
    unsigned nNum;
} parser;

static const struct {
    const char *zName;
    const char *zPrefix;
    int filter;
} aFieldName[] = {
    {"题名", IDX_PFX_TITLE, -1}, {"title", IDX_PFX_TITLE, -1},
    {"责任者", IDX_PFX_AUTHOR, -1}, {"author", IDX_PFX_AUTHOR, -1},
    {"文号", IDX_PFX_DOCNO, -1}, {"文件编号", IDX_PFX_DOCNO, -1}, {"doc_no", IDX_PFX_DOCNO, -1},
    {"全文", "", -1}, {"text", "", -1},
    {"年度", IDX_PFX_YEAR, IDX_F_YEAR}, {"year", IDX_PFX_YEAR, IDX_F_YEAR},
    {"全宗", IDX_PFX_FONDS, IDX_F_FONDS}, {"全宗号", IDX_PFX_FONDS, IDX_F_FONDS}, {"fonds", IDX_PFX_FONDS, IDX_F_FONDS},
    {"门类", IDX_PFX_CATEGORY, IDX_F_CATEGORY}, {"category", IDX_PFX_CATEGORY, IDX_F_CATEGORY},
    {"保管期限", IDX_PFX_RETENTION, IDX_F_RETENTION}, {"retention", IDX_PFX_RETENTION, IDX_F_RETENTION},
    {"载体", IDX_PFX_CARRIER, IDX_F_CARRIER}, {"carrier", IDX_PFX_CARRIER, IDX_F_CARRIER},
    {"密级", IDX_PFX_CLASSIFICATION, IDX_F_CLASSIFICATION}, {"classification", IDX_PFX_CLASSIFICATION, IDX_F_CLASSIFICATION},
    {"机构", IDX_PFX_ORG, IDX_F_ORG}, {"org", IDX_PFX_ORG, IDX_F_ORG},
    {"档号", IDX_PFX_ID, IDX_F__COUNT}, {"code", IDX_PFX_ID, IDX_F__COUNT},
};

/* Character position (1-based) of byte i. */
static unsigned char_pos(const parser *p, size_t i)
{
    unsigned n = 1;
    for (size_t k = 0; k < i && k < p->n; k++)
        if (((unsigned char)p->z[k] & 0xC0) != 0x80) n++;
    return n;
}

static void *fail(parser *p, size_t i, const char *zFmt, const char *zArg)
{
    if (p->rc == PS_OK) {
        p->rc = PS_BAD_QUERY;
        p->errOffset = char_pos(p, i);
        snprintf(p->zErr, p->nErr, zFmt, zArg ? zArg : "");
    }
    return NULL;
}

static void *nomem(parser *p)
{
    if (p->rc == PS_OK) {
        p->rc = PS_NOMEM;
        snprintf(p->zErr, p->nErr, "内存不足");
    }
    return NULL;
}

static iq_node *node_new(parser *p, iq_kind kind, size_t i)
{
    iq_node *n = px_calloc(1, sizeof *n);
    if (!n) return nomem(p);
    n->kind = kind;
    n->filter = -1;
    n->zPrefix = "";
    n->offset = char_pos(p, i);
    return n;
}

void idx_query_free(iq_node *p)
{
    if (!p) return;
    idx_query_free(p->pA);
    idx_query_free(p->pB);
    px_free(p->z);
    px_free(p->zHi);
    px_free(p);
}

/* Code point at byte i, and its length in *pLen. */
static unsigned peek(const parser *p, size_t i, size_t *pLen)
{
    size_t k = i;
    if (i >= p->n) { *pLen = 0; return 0; }
    unsigned c = proto_utf8_next(p->z, p->n, &k);
    *pLen = k - i;
    return c;
}

static int is_space(unsigned c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000; }
static int is_open_quote(unsigned c) { return c == '"' || c == 0x201C || c == 0xFF02; }
static int is_close_quote(unsigned c) { return c == '"' || c == 0x201D || c == 0xFF02; }
static int is_colon(unsigned c) { return c == ':' || c == 0xFF1A; }
static int is_delim(unsigned c) { return is_space(c) || c == '(' || c == ')' || c == 0xFF08 || c == 0xFF09 || is_open_quote(c); }

static void skip_space(parser *p)
{
    size_t len;
    while (p->i < p->n && is_space(peek(p, p->i, &len))) p->i += len;
}

/* End of the bare chunk starting at i. */
static size_t chunk_end(parser *p, size_t i)
{
    size_t len;
    while (i < p->n) {
        int inNum = 0;
        for (unsigned k = 0; k < p->nNum && !inNum; k++)
            if (p->aNum[k][0] <= i && i < p->aNum[k][1]) {
                i = p->aNum[k][1]; /* 110101 19900101 1234 is one word, as in the index */
                inNum = 1;
            }
        if (inNum) continue;
        if (is_delim(peek(p, i, &len))) break;
        i += len;
    }
    return i;
}

static int chunk_is(parser *p, size_t i, size_t e, const char *zWord)
{
    return e - i == strlen(zWord) && memcmp(p->z + i, zWord, e - i) == 0;
}

static iq_node *parse_or(parser *p);

/* "…" at p->i: returns the phrase text (without quotes). */
static char *read_phrase(parser *p)
{
    size_t len, start = p->i;
    peek(p, p->i, &len);
    p->i += len;
    size_t s = p->i;
    for (;;) {
        if (p->i >= p->n) return fail(p, start, "引号未闭合", NULL);
        unsigned c = peek(p, p->i, &len);
        if (is_close_quote(c)) break;
        p->i += len;
    }
    char *z = px_strndup(p->z + s, p->i - s);
    p->i += len;
    if (!z) return nomem(p);
    return z;
}

static iq_node *make_filter(parser *p, int f, const char *zPrefix, const char *z, size_t n, size_t at)
{
    char zVal[256];
    char zMsg[300];
    if (n == 0) return fail(p, at, "检索项后须写检索值", NULL);
    if (n >= sizeof zVal) return fail(p, at, "检索值过长", NULL);
    memcpy(zVal, z, n);
    zVal[n] = 0;
    iq_node *r;
    if (f == IDX_F_YEAR) {
        const char *zDots = strstr(zVal, "..");
        const char *zLo = zVal, *zHi = NULL;
        if (zDots) {
            zVal[zDots - zVal] = 0;
            zHi = zDots + 2;
        }
        for (const char *s = zLo; *s; s++)
            if (*s < '0' || *s > '9') return fail(p, at, "年度须为 4 位数字的年份或 2016..2018 这样的范围，不能是“%s”", z ? zVal : "");
        if (strlen(zLo) != 4 && !(zDots && strlen(zLo) == 0))
            return fail(p, at, "年度须为 4 位数字的年份，不能是“%s”", zLo);
        if (zHi) {
            for (const char *s = zHi; *s; s++)
                if (*s < '0' || *s > '9') return fail(p, at, "年度范围的终止年须为 4 位数字的年份，不能是“%s”", zHi);
            if (strlen(zHi) != 4 && strlen(zHi) != 0)
                return fail(p, at, "年度范围的终止年须为 4 位数字的年份，不能是“%s”", zHi);
            if (*zLo && *zHi && strcmp(zLo, zHi) > 0) {
                snprintf(zMsg, sizeof zMsg, "%s..%s", zLo, zHi);
                return fail(p, at, "年度范围 %s 为空：起始年晚于终止年", zMsg);
            }
            if (!(r = node_new(p, IQ_RANGE, at))) return NULL;
            r->z = px_strdup(*zLo ? zLo : "0000");
            r->zHi = px_strdup(*zHi ? zHi : "9999");
            if (!r->z || !r->zHi) { idx_query_free(r); return nomem(p); }
            return r;
        }
    }
    const char *zTermVal = zVal;
    proto_code code;
    if (f == IDX_F_RETENTION) {
        zTermVal = proto_retention_code(zVal);
        if (!zTermVal) return fail(p, at, "保管期限“%s”不是 永久（Y）、30年（D30）、10年（D10）之一", zVal);
    } else if (f == IDX_F__COUNT) {
        if (proto_code_parse(zVal, &code, zMsg, sizeof zMsg) != PS_OK) return fail(p, at, "%s", zMsg);
        zTermVal = code.zCanonical;
    }
    if (!(r = node_new(p, IQ_FILTER, at))) return NULL;
    r->filter = f;
    r->zPrefix = zPrefix;
    r->z = px_strdup(zTermVal);
    if (!r->z) { idx_query_free(r); return nomem(p); }
    return r;
}

static iq_node *parse_primary(parser *p)
{
    size_t len;
    skip_space(p);
    if (p->i >= p->n) return fail(p, p->i, "检索式不完整：此处应有检索词或短语", NULL);
    size_t at = p->i;
    unsigned c = peek(p, p->i, &len);
    if (c == '(' || c == 0xFF08) {
        p->i += len;
        if (++p->depth > DEPTH_MAX) return fail(p, at, "括号嵌套层数过多", NULL);
        iq_node *n = parse_or(p);
        p->depth--;
        if (!n) return NULL;
        skip_space(p);
        c = peek(p, p->i, &len);
        if (c != ')' && c != 0xFF09) {
            idx_query_free(n);
            return fail(p, at, "括号未闭合", NULL);
        }
        p->i += len;
        return n;
    }
    if (c == ')' || c == 0xFF09) return fail(p, at, "“)”没有与之配对的“(”", NULL);
    if (is_open_quote(c)) {
        char *z = read_phrase(p);
        if (!z) return NULL;
        iq_node *n = node_new(p, IQ_PHRASE, at);
        if (!n) { px_free(z); return NULL; }
        n->z = z;
        return n;
    }
    size_t e = chunk_end(p, p->i);
    /* field:value? */
    for (size_t k = p->i; k < e;) {
        unsigned d = peek(p, k, &len);
        if (!is_colon(d)) { k += len; continue; }
        size_t nName = k - p->i;
        int found = -1;
        for (size_t j = 0; j < sizeof aFieldName / sizeof aFieldName[0]; j++)
            if (strlen(aFieldName[j].zName) == nName && memcmp(aFieldName[j].zName, p->z + p->i, nName) == 0)
                found = (int)j;
        if (found < 0) {
            /* Letters before the colon look like a field name: say so. */
            int letters = nName > 0;
            for (size_t j = p->i; j < k;) {
                unsigned x = peek(p, j, &len);
                if (!((x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || x == '_' || proto_is_han(x))) letters = 0;
                j += len;
            }
            if (letters) {
                /* quoted up to 100 bytes, cut between characters: the
                 * message goes out in JSON */
                char zName[128];
                size_t nCut = nName < 100 ? nName : 100;
                while (nCut > 0 && nCut < nName && ((unsigned char)p->z[p->i + nCut] & 0xC0) == 0x80) nCut--;
                snprintf(zName, sizeof zName, "%.*s", (int)nCut, p->z + p->i);
                return fail(p, at, "没有检索项“%s”（可用的检索项：题名 责任者 文号 全文 年度 全宗 门类 保管期限 载体 密级 机构 档号）", zName);
            }
            break;
        }
        size_t vStart = k + len;
        p->i = vStart;
        if (vStart == e) {  /* value is a phrase right after the colon */
            unsigned v = peek(p, vStart, &len);
            if (!is_open_quote(v)) return fail(p, at, "检索项后须写检索值", NULL);
            char *z = read_phrase(p);
            if (!z) return NULL;
            iq_node *n;
            if (aFieldName[found].filter >= 0) {
                n = make_filter(p, aFieldName[found].filter, aFieldName[found].zPrefix, z, strlen(z), at);
                px_free(z);
                return n;
            }
            if (!(n = node_new(p, IQ_PHRASE, at))) { px_free(z); return NULL; }
            n->z = z;
            n->zPrefix = aFieldName[found].zPrefix;
            return n;
        }
        p->i = e;
        if (aFieldName[found].filter >= 0)
            return make_filter(p, aFieldName[found].filter, aFieldName[found].zPrefix, p->z + vStart, e - vStart, at);
        iq_node *n = node_new(p, IQ_WORDS, at);
        if (!n) return NULL;
        n->zPrefix = aFieldName[found].zPrefix;
        if (!(n->z = px_strndup(p->z + vStart, e - vStart))) { idx_query_free(n); return nomem(p); }
        return n;
    }
    iq_node *n = node_new(p, IQ_WORDS, at);
    if (!n) return NULL;
    if (!(n->z = px_strndup(p->z + p->i, e - p->i))) { idx_query_free(n); return nomem(p); }
    p->i = e;
    return n;
}

static iq_node *parse_unary(parser *p)
{
    size_t len;
    skip_space(p);
    size_t at = p->i;
    size_t e = chunk_end(p, p->i);
    int neg = 0;
    if (chunk_is(p, p->i, e, "NOT")) {
        p->i = e;
        neg = 1;
    } else if (p->i + 1 < p->n && peek(p, p->i, &len) == '-' &&
               (e > p->i + 1 || is_open_quote(peek(p, p->i + 1, &len)) || p->z[p->i + 1] == '(')) {
        p->i += 1;
        neg = 1;
    }
    if (neg) {
        if (++p->depth > DEPTH_MAX) return fail(p, at, "连续的 NOT 过多", NULL);
        iq_node *x = parse_unary(p);
        p->depth--;
        if (!x) return NULL;
        iq_node *n = node_new(p, IQ_NOT, at);
        if (!n) { idx_query_free(x); return NULL; }
        n->pB = x;
        return n;
    }
    return parse_primary(p);
}

/* AND of positives; each negative applies to them all. */
static iq_node *parse_and(parser *p)
{
    iq_node *pPos = NULL, *pNeg = NULL;
    size_t len;
    int first = 1;
    for (;;) {
        skip_space(p);
        if (p->i >= p->n) break;
        unsigned c = peek(p, p->i, &len);
        if (c == ')' || c == 0xFF09) break;
        size_t e = chunk_end(p, p->i);
        if (chunk_is(p, p->i, e, "OR")) break;
        size_t at = p->i;
        if (chunk_is(p, p->i, e, "AND")) {
            if (first) { fail(p, at, "AND 前须有检索词", NULL); goto err; }
            p->i = e;
            skip_space(p);
            size_t e2 = chunk_end(p, p->i);
            if (p->i >= p->n || chunk_is(p, p->i, e2, "AND") || chunk_is(p, p->i, e2, "OR")) {
                fail(p, at, "AND 后须有检索词", NULL);
                goto err;
            }
            continue;
        }
        iq_node *x = parse_unary(p);
        if (!x) goto err;
        first = 0;
        iq_node **pp = &pPos;
        if (x->kind == IQ_NOT && !x->pA) {  /* a negative: collect its operand */
            iq_node *y = x->pB;
            x->pB = NULL;
            idx_query_free(x);
            x = y;
            pp = &pNeg;
        }
        if (!*pp) {
            *pp = x;
        } else {
            iq_node *n = node_new(p, pp == &pNeg ? IQ_OR : IQ_AND, at);
            if (!n) { idx_query_free(x); goto err; }
            n->pA = *pp;
            n->pB = x;
            *pp = n;
        }
    }
    if (first) return fail(p, p->i, "此处应有检索词或短语", NULL);
    if (!pNeg) return pPos;
    iq_node *n = node_new(p, IQ_NOT, 0);
    if (!n) goto err;
    n->pA = pPos;
    n->pB = pNeg;
    return n;
err:
    idx_query_free(pPos);
    idx_query_free(pNeg);
    return NULL;
}

static iq_node *parse_or(parser *p)
{
    iq_node *pLeft = parse_and(p);
    size_t len;
    if (!pLeft) return NULL;
    for (;;) {
        skip_space(p);
        if (p->i >= p->n) return pLeft;
        unsigned c = peek(p, p->i, &len);
        if (c == ')' || c == 0xFF09) return pLeft;
        size_t at = p->i, e = chunk_end(p, p->i);
        if (!chunk_is(p, p->i, e, "OR")) return pLeft;
        p->i = e;
        skip_space(p);
        if (p->i >= p->n) {
            idx_query_free(pLeft);
            return fail(p, at, "OR 后须有检索词", NULL);
        }
        iq_node *pRight = parse_and(p);
        if (!pRight) { idx_query_free(pLeft); return NULL; }
        iq_node *n = node_new(p, IQ_OR, at);
        if (!n) { idx_query_free(pLeft); idx_query_free(pRight); return NULL; }
        n->pA = pLeft;
        n->pB = pRight;
        pLeft = n;
    }
}

int idx_query_parse(const char *zQuery, iq_node **ppOut, unsigned *pOffset, char *zErr, size_t nErr)
{
    parser p = {zQuery ? zQuery : "", 0, 0, 0, PS_OK, 0, zErr, nErr, {{0}}, 0};
    *ppOut = NULL;
    *pOffset = 0;
    p.n = strlen(p.z);
    if (p.n > QUERY_MAX) {
        snprintf(zErr, nErr, "检索式超过 %d 字节", QUERY_MAX);
        return PS_TOO_BIG;
    }
    idx_mask_iter it;
    idx_mask_iter_init(&it, p.z, p.n);
    while (p.nNum < NUM_MAX && idx_mask_iter_next(&it, &p.aNum[p.nNum][0], &p.aNum[p.nNum][1])) p.nNum++;
    skip_space(&p);
    if (p.i >= p.n) return PS_OK;
    iq_node *n = parse_or(&p);
    if (n && p.rc == PS_OK) {
        skip_space(&p);
        if (p.i < p.n) fail(&p, p.i, "“)”没有与之配对的“(”", NULL);
    }
    if (p.rc != PS_OK) {
        idx_query_free(n);
        *pOffset = p.errOffset;
        return p.rc;
    }
    *ppOut = n;
    return PS_OK;
}

static void describe(const iq_node *p, char **pz, size_t *pn, size_t *pAlloc)
{
    char zBuf[512];
    const char *azKind[] = {"AND", "OR", "NOT", "WORDS", "PHRASE", "FILTER", "RANGE"};
    size_t k;
    if (!p) {
        snprintf(zBuf, sizeof zBuf, "ALL");
    } else if (p->kind == IQ_WORDS || p->kind == IQ_PHRASE) {
        snprintf(zBuf, sizeof zBuf, "%s(%s:%s)", azKind[p->kind], p->zPrefix, p->z);
    } else if (p->kind == IQ_FILTER) {
        snprintf(zBuf, sizeof zBuf, "FILTER(%s%s)", p->zPrefix, p->z);
    } else if (p->kind == IQ_RANGE) {
        snprintf(zBuf, sizeof zBuf, "RANGE(%s..%s)", p->z, p->zHi);
    } else {
        snprintf(zBuf, sizeof zBuf, "%s(", azKind[p->kind]);
    }
    k = strlen(zBuf);
    if (*pn + k + 2 > *pAlloc) {
        size_t nNew = (*pAlloc + k + 2) * 2;
        char *z = px_realloc(*pz, nNew);
        if (!z) return;
        *pz = z;
        *pAlloc = nNew;
    }
    memcpy(*pz + *pn, zBuf, k + 1);
    *pn += k;
    if (p && (p->kind == IQ_AND || p->kind == IQ_OR || p->kind == IQ_NOT)) {
        describe(p->pA, pz, pn, pAlloc);
        if (*pn + 2 < *pAlloc) { (*pz)[(*pn)++] = ','; (*pz)[*pn] = 0; }
        describe(p->pB, pz, pn, pAlloc);
        if (*pn + 2 > *pAlloc) {
            char *z = px_realloc(*pz, *pAlloc + 16);
            if (!z) return;
            *pz = z;
            *pAlloc += 16;
        }
        (*pz)[(*pn)++] = ')';
        (*pz)[*pn] = 0;
    }
}

char *idx_query_describe(const iq_node *p)
{
    char *z = NULL;
    size_t n = 0, nAlloc = 0;
    describe(p, &z, &n, &nAlloc);
    return z;
}
