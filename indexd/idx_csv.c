/* Catalog CSV import on libcsv, with encoding detection through iconv. */
#include "idx_csv.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"
#include "idx_text.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COL_MAX 64
#define BATCH 4096 /* rows written together, each shard's share by its own thread */

/* ---- rows ----------------------------------------------------------- */

typedef struct {
    char *z;
    size_t n;
} cell;

/* The codes seen in this file, to tell a repeated row from a replaced
 * record: open addressing over string hashes. */
typedef struct {
    char **az;
    long *aLine;
    size_t nSlot, nUsed;
} code_set;

static unsigned long hash_str(const char *z)
{
    unsigned long h = 5381;
    while (*z) h = h * 33 + (unsigned char)*z++;
    return h;
}

static void set_clear(code_set *s)
{
    for (size_t i = 0; i < s->nSlot; i++) px_free(s->az[i]);
    px_free(s->az);
    px_free(s->aLine);
    memset(s, 0, sizeof *s);
}

/* Insert z; returns the line it was seen on before, 0 if new, -1 on OOM. */
static long set_add(code_set *s, const char *z, long line)
{
    if ((s->nUsed + 1) * 2 > s->nSlot) {
        code_set t = {0};
        t.nSlot = s->nSlot ? s->nSlot * 2 : 1024;
        t.az = px_calloc(t.nSlot, sizeof(char *));
        t.aLine = px_calloc(t.nSlot, sizeof(long));
        if (!t.az || !t.aLine) { px_free(t.az); px_free(t.aLine); return -1; }
        for (size_t i = 0; i < s->nSlot; i++) {
            if (!s->az[i]) continue;
            size_t k = hash_str(s->az[i]) & (t.nSlot - 1);
            while (t.az[k]) k = (k + 1) & (t.nSlot - 1);
            t.az[k] = s->az[i];
            t.aLine[k] = s->aLine[i];
        }
        t.nUsed = s->nUsed;
        px_free(s->az);
        px_free(s->aLine);
        *s = t;
    }
    size_t k = hash_str(z) & (s->nSlot - 1);
    while (s->az[k]) {
        if (strcmp(s->az[k], z) == 0) {
            long prev = s->aLine[k];
            s->aLine[k] = line;
            return prev;
        }
        k = (k + 1) & (s->nSlot - 1);
    }
    if (!(s->az[k] = px_strdup(z))) return -1;
    s->aLine[k] = line;
    s->nUsed++;
    return 0;
}

typedef struct {
    idx_index *pIdx;
    const idx_guard *pGuard; /* the writer's rules, per row */
    int rc;                 /* a fatal error stops the import */
    char *zErr;
    size_t nErr;
    long fatalLine;
    long line;              /* line being fed to the parser */
    long rowLine;           /* line where the current row started */
    int rowStarted;
    cell aCell[COL_MAX + 1];
    int nCell;
    int nHeader;
    int aColField[COL_MAX]; /* proto_field per column, -1 ignored */
    int haveHeader;
    unsigned long nImported, nReplaced;
    json_t *pRejected, *pWarnings;
    json_t *pList;          /* good rows {code, pages, line}, when asked for */
    idx_csv_row_fn xRow;    /* scan mode: rows go here, nothing is written */
    void *pRowCtx;
    unsigned long nRejected, nWarnings;
    code_set seen;
    proto_record aRec[BATCH];
    int aDup[BATCH];
    long aLine[BATCH];
    idx_put_item aItem[BATCH];
    int nBatch;
} import_state;

static void report(json_t *pList, unsigned long *pCount, long line, int field, const char *zReason);

/* Write the rows collected so far.  A row the guard or the index refuses
 * is rejected with its own line; the others are written. */
static void flush_batch(import_state *s)
{
    char zMsg[256];
    if (s->nBatch == 0) return;
    for (int i = 0; i < s->nBatch; i++) {
        memset(&s->aItem[i], 0, sizeof s->aItem[i]);
        s->aItem[i].r = &s->aRec[i];
    }
    int rc = idx_index_put_batch(s->pIdx, s->aItem, (size_t)s->nBatch, 0, s->pGuard, zMsg, sizeof zMsg);
    for (int i = 0; i < s->nBatch; i++) {
        if (s->aItem[i].rc == PS_NOMEM && rc == PS_OK) {
            rc = PS_NOMEM;
            snprintf(zMsg, sizeof zMsg, "out of memory");
        }
        if (s->aItem[i].rc != PS_OK) {
            report(s->pRejected, &s->nRejected, s->aLine[i], s->aItem[i].rc == PS_FORBIDDEN ? PF_CLASSIFICATION : -1,
                   s->aItem[i].zErr);
            continue;
        }
        if (s->aDup[i]) continue;
        s->nImported++;
        s->nReplaced += s->aItem[i].replaced != 0;
    }
    if (rc != PS_OK) {
        /* not one row's fault: stop, say so */
        snprintf(s->zErr, s->nErr, "line %ld: %s (%lu rows were written before)", s->aLine[0], zMsg, s->nImported);
        s->rc = rc;
        s->fatalLine = s->aLine[0];
    }
    for (int i = 0; i < s->nBatch; i++) proto_record_clear(&s->aRec[i]);
    s->nBatch = 0;
}

static void report(json_t *pList, unsigned long *pCount, long line, int field,
                   const char *zReason)
{
    (*pCount)++;
    if (json_array_size(pList) >= IDX_CSV_REPORT_MAX) return;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s}", "line", (json_int_t)line, "field",
                          field >= 0 ? proto_field_cn(field) : "", "key",
                          field >= 0 ? proto_field_key(field) : "", "reason", zReason);
    if (o) json_array_append_new(pList, o);
}

static void header_row(import_state *s)
{
    char zMsg[300];
    int seen[PF__COUNT] = {0};
    s->nHeader = s->nCell;
    for (int i = 0; i < s->nCell && i < COL_MAX; i++) {
        /* Tolerate spaces and the '*' some templates put on mandatory columns. */
        char zName[128];
        size_t n = 0;
        for (size_t k = 0; k < s->aCell[i].n && n + 1 < sizeof zName; k++) {
            char c = s->aCell[i].z[k];
            if (c == ' ' || c == '*' || c == '\t') continue;
            zName[n++] = c;
        }
        zName[n] = 0;
        int f = proto_field_lookup(zName);
        if (f >= 0 && seen[f]) {
            snprintf(zMsg, sizeof zMsg, "column %d '%s' repeats the column of %s; it is ignored", i + 1, zName, proto_field_cn(f));
            report(s->pWarnings, &s->nWarnings, s->rowLine, f, zMsg);
            f = -1;
        } else if (f < 0 && n > 0) {
            snprintf(zMsg, sizeof zMsg, "column %d '%.100s' is not a catalog field; it is ignored", i + 1, zName);
            report(s->pWarnings, &s->nWarnings, s->rowLine, -1, zMsg);
        }
        if (f >= 0) seen[f] = 1;
        s->aColField[i] = f;
    }
    if (!seen[PF_CODE] && !(seen[PF_FONDS] && seen[PF_CATEGORY] && seen[PF_YEAR] &&
                            seen[PF_RETENTION] && seen[PF_ITEM_NO])) {
        snprintf(s->zErr, s->nErr, "no 档号 column (nor 全宗号, 门类, 年度, 保管期限 and 件号 to make it from); "
                 "the first row must hold the column names");
        s->rc = PS_INVALID;
        s->fatalLine = s->rowLine;
    }
    s->haveHeader = 1;
}

/* Make the 档号 from its parts when the catalog has no 档号 column. */
static int compose_code(proto_record *r)
{
    char z[PROTO_CODE_MAX * 2];
    if (r->az[PF_CODE] || !r->az[PF_FONDS] || !r->az[PF_CATEGORY] || !r->az[PF_YEAR] ||
        !r->az[PF_RETENTION] || !r->az[PF_ITEM_NO])
        return PS_OK;
    const char *zRet = proto_retention_code(r->az[PF_RETENTION]);
    long item = strtol(r->az[PF_ITEM_NO], NULL, 10);
    snprintf(z, sizeof z, "%s-%s\xC2\xB7%s-%s%s%s-%04ld", r->az[PF_FONDS], r->az[PF_CATEGORY],
             r->az[PF_YEAR], zRet ? zRet : r->az[PF_RETENTION], r->az[PF_ORG] ? "-" : "",
             r->az[PF_ORG] ? r->az[PF_ORG] : "", item);
    return proto_record_set(r, PF_CODE, z, strlen(z));
}

static void data_row(import_state *s)
{
    proto_record rec;
    proto_problem err, aWarn[4];
    int nWarn = 0;
    char zMsg[512];
    int rc;

    int nonEmpty = 0;
    for (int i = 0; i < s->nCell; i++) nonEmpty |= s->aCell[i].n > 0;
    if (!nonEmpty) return;  /* blank rows are common at the end of exports */
    if (s->nCell > s->nHeader) {
        int extra = 0;
        for (int i = s->nHeader; i < s->nCell; i++) extra |= s->aCell[i].n > 0;
        if (extra) {
            snprintf(zMsg, sizeof zMsg, "the row has %d fields but the header has %d", s->nCell, s->nHeader);
            report(s->pRejected, &s->nRejected, s->rowLine, -1, zMsg);
            if (s->xRow && s->xRow(s->pRowCtx, s->rowLine, NULL, s->nCell) != 0) s->rc = PS_NOMEM;
            return;
        }
    }
    proto_record_init(&rec);
    for (int i = 0; i < s->nCell && i < s->nHeader; i++) {
        int f = s->aColField[i];
        if (f < 0) continue;
        if ((rc = proto_record_set(&rec, f, s->aCell[i].z, s->aCell[i].n)) != PS_OK) goto oom;
    }
    if (s->xRow) {
        /* the row as written, before any check or completion */
        if (s->xRow(s->pRowCtx, s->rowLine, &rec, s->nCell < s->nHeader ? s->nCell : 0) != 0) {
            s->rc = PS_NOMEM;
            snprintf(s->zErr, s->nErr, "out of memory at line %ld", s->rowLine);
        }
        proto_record_clear(&rec);
        return;
    }
    if ((rc = compose_code(&rec)) != PS_OK) goto oom;
    rc = proto_record_check(&rec, &err, aWarn, 4, &nWarn);
    if (rc == PS_NOMEM) goto oom;
    if (rc != PS_OK) {
        report(s->pRejected, &s->nRejected, s->rowLine, err.field, err.zReason);
        proto_record_clear(&rec);
        return;
    }
    for (int i = 0; i < nWarn; i++) report(s->pWarnings, &s->nWarnings, s->rowLine, aWarn[i].field, aWarn[i].zReason);
    long prev = set_add(&s->seen, rec.az[PF_CODE], s->rowLine);
    if (prev < 0) { rc = PS_NOMEM; goto oom; }
    if (prev > 0) {
        snprintf(zMsg, sizeof zMsg, "档号 %s was already on line %ld of this file; this row replaces it", rec.az[PF_CODE], prev);
        report(s->pWarnings, &s->nWarnings, s->rowLine, PF_CODE, zMsg);
    }
    if (s->pList) {
        json_t *o = json_pack("{s:s,s:I}", "code", rec.az[PF_CODE], "line", (json_int_t)s->rowLine);
        if (o && rec.az[PF_PAGES]) json_object_set_new(o, "pages", json_integer(atoll(rec.az[PF_PAGES])));
        if (!o || json_array_append_new(s->pList, o) != 0) { rc = PS_NOMEM; goto oom; }
    }
    s->aRec[s->nBatch] = rec;  /* the batch owns its strings now */
    s->aDup[s->nBatch] = prev > 0;
    s->aLine[s->nBatch] = s->rowLine;
    if (++s->nBatch == BATCH) flush_batch(s);
    return;
oom:
    proto_record_clear(&rec);
    s->rc = PS_NOMEM;
    snprintf(s->zErr, s->nErr, "out of memory at line %ld", s->rowLine);
}

static void on_field(void *zField, size_t n, void *ctx)
{
    import_state *s = ctx;
    if (s->rc != PS_OK) return;
    if (!s->rowStarted) {
        s->rowStarted = 1;
    }
    if (s->nCell > COL_MAX) return;  /* counted, not kept */
    cell *c = &s->aCell[s->nCell++];
    px_free(c->z);
    c->z = px_strndup(zField ? zField : "", n);
    c->n = c->z ? n : 0;
    if (!c->z) s->rc = PS_NOMEM;
}

static void on_row(int term, void *ctx)
{
    import_state *s = ctx;
    (void)term;
    if (s->rc == PS_OK) {
        if (!s->haveHeader) header_row(s);
        else data_row(s);
    }
    s->nCell = 0;
    s->rowStarted = 0;
    s->rowLine = s->line + 1;  /* the next row starts on the next line */
}

static int parse_csv(idx_index *p, const char *zIn, size_t nIn, int listRecords, const idx_guard *pGuard,
                     idx_csv_row_fn xRow, void *pRowCtx, json_t **ppResult, long *pLine, char *zErr, size_t nErr);

int idx_csv_import(idx_index *p, const char *zIn, size_t nIn, int listRecords, const idx_guard *pGuard, json_t **ppResult,
                   long *pLine, char *zErr, size_t nErr)
{
    return parse_csv(p, zIn, nIn, listRecords, pGuard, NULL, NULL, ppResult, pLine, zErr, nErr);
}

int idx_csv_scan(const char *zIn, size_t nIn, idx_csv_row_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                 char *zErr, size_t nErr)
{
    return parse_csv(NULL, zIn, nIn, 0, NULL, xRow, pCtx, ppResult, pLine, zErr, nErr);
}

static int parse_csv(idx_index *p, const char *zIn, size_t nIn, int listRecords, const idx_guard *pGuard,
                     idx_csv_row_fn xRow, void *pRowCtx, json_t **ppResult, long *pLine, char *zErr, size_t nErr)
{
    struct csv_parser csv;
    char *z = NULL;
    size_t n = 0;
    const char *zEnc = NULL;
    import_state *pS = px_calloc(1, sizeof *pS);  /* large: not on the stack */
    int rc;

    *ppResult = NULL;
    *pLine = 0;
    if (!pS) return PS_NOMEM;
    if ((rc = proto_to_utf8(zIn, nIn, &z, &n, &zEnc, zErr, nErr)) != PS_OK) {
        px_free(pS);
        return rc;
    }
    if (csv_init(&csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        px_free(z);
        px_free(pS);
        return PS_NOMEM;
    }
    csv_set_realloc_func(&csv, px_realloc);
    csv_set_free_func(&csv, px_free);
    pS->pIdx = p;
    pS->pGuard = pGuard;
    pS->xRow = xRow;
    pS->pRowCtx = pRowCtx;
    pS->rc = PS_OK;
    pS->zErr = zErr;
    pS->nErr = nErr;
    pS->line = 1;
    pS->rowLine = 1;
    pS->pRejected = json_array();
    pS->pWarnings = json_array();
    if (listRecords) pS->pList = json_array();
    if (!pS->pRejected || !pS->pWarnings || (listRecords && !pS->pList)) { rc = PS_NOMEM; goto out; }

    /* Feed one line at a time so that each row knows the line it starts on. */
    size_t i = 0;
    while (i < n && pS->rc == PS_OK) {
        const char *e = memchr(z + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (z + i)) + 1 : n - i;
        if (csv_parse(&csv, z + i, len, on_field, on_row, pS) != len) {
            snprintf(zErr, nErr, "line %ld: %s", pS->line, csv_strerror(csv_error(&csv)));
            pS->rc = PS_INVALID;
            pS->fatalLine = pS->line;
            break;
        }
        i += len;
        pS->line++;
    }
    if (pS->rc == PS_OK) {
        pS->line--;  /* a row ending without a newline ends on the last line */
        csv_fini(&csv, on_field, on_row, pS);
    }
    if (pS->rc == PS_OK) flush_batch(pS);
    if (pS->rc == PS_OK && !pS->haveHeader) {
        snprintf(zErr, nErr, "the catalog is empty: no header row");
        pS->rc = PS_INVALID;
    }
    rc = pS->rc;
    char zCommitErr[256];
    int rcCommit = p ? idx_index_commit(p, zCommitErr, sizeof zCommitErr) : PS_OK;
    if (rc == PS_OK && rcCommit != PS_OK) {
        snprintf(zErr, nErr, "commit failed: %s", zCommitErr);
        rc = rcCommit;
    }
    if (rc != PS_OK) {
        *pLine = pS->fatalLine;
        goto out;
    }
    *ppResult = json_pack("{s:I,s:I,s:s,s:I,s:O,s:I,s:O}", "imported", (json_int_t)pS->nImported,
                          "replaced", (json_int_t)pS->nReplaced, "encoding", zEnc,
                          "rejected_count", (json_int_t)pS->nRejected, "rejected", pS->pRejected,
                          "warnings_count", (json_int_t)pS->nWarnings, "warnings", pS->pWarnings);
    if (*ppResult && pS->pList) json_object_set(*ppResult, "records", pS->pList);
    if (!*ppResult) rc = PS_NOMEM;
out:
    csv_free(&csv);
    for (int k = 0; k <= COL_MAX; k++) px_free(pS->aCell[k].z);
    set_clear(&pS->seen);
    json_decref(pS->pRejected);
    json_decref(pS->pWarnings);
    json_decref(pS->pList);
    for (int k = 0; k < pS->nBatch; k++) proto_record_clear(&pS->aRec[k]);
    px_free(z);
    px_free(pS);
    return rc;
}
