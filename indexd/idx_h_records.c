/* Handlers of the records resource: one record's catalog fields (read,
 * write, delete), bulk writes of NDJSON lines, catalog import, and the
 * commit sequence a bulk loader waits on.  Every write goes through the
 * caller's guard (idx_access_write under the index's lock). */
#include "idx_api.h"
#include "idx_audit.h"
#include "idx_csv.h"
#include "idx_log.h"
#include "idx_pages.h"
#include "proto_alloc.h"
#include "proto_msg.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

int idx_h_record_get(idx_srv *s, idx_req *r, idx_resp *o)
{
    json_t *pData = idx_visible_record(s, r, o);
    if (!pData) return PS_OK;
    json_t *pRec = json_object_get(pData, "r");
    json_t *pOut = json_deep_copy(pRec);
    json_t *pAccess = idx_access_record_json(s->pAccess, r->pCaller, r->code.zCanonical, pRec);
    json_t *pNums = json_array();
    json_t *pPages = json_object_get(pData, "p");
    size_t nPage = json_object_size(pPages), k = 0;
    long *aN = px_malloc((nPage + 1) * sizeof *aN);
    if (!pOut || !pAccess || !pNums || !aN) {
        json_decref(pOut);
        json_decref(pAccess);
        json_decref(pNums);
        json_decref(pData);
        px_free(aN);
        return idx_resp_error(o, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    }
    const char *zKey;
    json_t *v;
    json_object_foreach(pPages, zKey, v) aN[k++] = strtol(zKey, NULL, 10);
    qsort(aN, k, sizeof *aN, cmp_int);
    for (size_t i = 0; i < k; i++) json_array_append_new(pNums, json_integer(aN[i]));
    px_free(aN);
    json_object_set_new(pOut, "access", pAccess);
    json_object_set_new(pOut, "stored_pages", pNums);
    /* its history: the values that imports and edits replaced, oldest
     * first; an entry whose old 密级 is above the reader's says only when */
    json_t *pHist = json_array(), *h;
    size_t i;
    json_array_foreach(json_object_get(pData, "h"), i, h) {
        json_t *x = idx_access_sees(r->pCaller, json_object_get(h, "old"))
                        ? json_deep_copy(h)
                        : json_pack("{s:O,s:O,s:b}", "at", json_object_get(h, "at"), "source",
                                    json_object_get(h, "source"), "hidden", 1);
        if (x) json_array_append_new(pHist, x);
    }
    if (pHist) json_object_set_new(pOut, "history", pHist);
    /* made of scans that no catalog row names yet: since when, from where */
    const json_t *pU = json_object_get(pData, "u");
    json_object_set_new(pOut, "unlinked", json_boolean(pU != NULL));
    if (pU) json_object_set(pOut, "unlinked_from", (json_t *)pU);
    /* what the catalog row that wrote it held irregular, until a corrected row comes */
    json_t *pFind = json_object_get(pData, "f");
    json_object_set_new(pOut, "findings", json_is_array(pFind) ? json_deep_copy(pFind) : json_array());
    json_decref(pData);
    idx_access_mask(r->pCaller, pOut);
    return idx_resp_json(o, 200, pOut);
}

static int commit(idx_srv *s, idx_resp *o)
{
    char zErr[256] = "";
    int rc = idx_index_commit(s->pIdx, zErr, sizeof zErr);
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "commit failed: %s", zErr);
        idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
        return -1;
    }
    return 0;
}

int idx_h_record_put(idx_srv *s, idx_req *r, idx_resp *o)
{
    proto_record rec;
    proto_problem prob;
    idx_guard guard;
    char zErr[512] = "";
    int replaced = 0;
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    proto_record_init(&rec);
    memset(&prob, 0, sizeof prob);
    int rc = proto_record_from_json(&rec, pBody, &prob);
    json_decref(pBody);
    if (rc == PS_OK && rec.az[PF_CODE]) {
        proto_code other;
        if (proto_code_parse(rec.az[PF_CODE], &other, zErr, sizeof zErr) != PS_OK ||
            strcmp(other.zCanonical, r->code.zCanonical) != 0) {
            proto_record_clear(&rec);
            return idx_resp_error(o, PS_INVALID, "请求体中的 code 与路径中的档号不一致", "code", 0, NULL, 0);
        }
    }
    if (rc == PS_OK) rc = proto_record_set(&rec, PF_CODE, r->code.zCanonical, strlen(r->code.zCanonical));
    if (rc == PS_OK) rc = proto_record_check(&rec, &prob, NULL, 0, NULL);
    if (rc != PS_OK) {
        proto_record_clear(&rec);
        return idx_resp_error(o, rc, prob.zReason, prob.field >= 0 ? proto_field_key(prob.field) : NULL, 0, NULL, 0);
    }
    idx_write_guard(r->pCaller, &guard);
    rc = idx_index_put(s->pIdx, &rec, NULL, &guard, &replaced, zErr, sizeof zErr);
    proto_record_clear(&rec);
    if (rc == PS_FORBIDDEN) return idx_resp_refuse(o, rc, zErr, 0);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    if (commit(s, o) != 0) return PS_OK;
    return idx_resp_json(o, replaced ? 200 : 201, json_pack("{s:s,s:b}", "code", r->code.zCanonical, "replaced", replaced));
}

int idx_h_record_delete(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[256] = "";
    idx_guard guard;
    idx_write_guard(r->pCaller, &guard);
    int rc = idx_index_delete(s->pIdx, r->code.zCanonical, &guard, zErr, sizeof zErr);
    if (rc == PS_NOT_FOUND) snprintf(zErr, sizeof zErr, "没有档号为 %s 的档案", r->code.zCanonical);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    if (commit(s, o) != 0) return PS_OK;
    idx_page_image_remove_all(s->zDataDir, r->code.zCanonical);
    return idx_resp_json(o, 200, json_pack("{s:s,s:b}", "code", r->code.zCanonical, "deleted", 1));
}

/* ---- bulk writes ------------------------------------------------------ */

static void report_row(json_t *pList, long line, int field, const char *zReason)
{
    if (json_array_size(pList) >= IDX_CSV_REPORT_MAX) return;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s}", "line", (json_int_t)line, "field",
                          field >= 0 ? proto_field_cn(field) : "", "key",
                          field >= 0 ? proto_field_key(field) : "", "reason", zReason);
    if (o) json_array_append_new(pList, o);
}


/* Page texts of a bulk line, [{"n":1,"text":"…"},…] → {"1":{"text":"…"},…}. */
static int pages_from_array(const json_t *a, json_t **ppOut, char *zErr, size_t nErr)
{
    size_t i;
    json_t *pPage;
    if (!json_is_array(a)) {
        snprintf(zErr, nErr, "page_texts 须为 {\"n\":…,\"text\":…} 组成的数组");
        return PS_INVALID;
    }
    json_t *o = json_object();
    if (!o) return PS_NOMEM;
    json_array_foreach(a, i, pPage) {
        json_t *pN = json_object_get(pPage, "n"), *pT = json_object_get(pPage, "text");
        size_t at = 0;
        if (!json_is_integer(pN) || json_integer_value(pN) < 1 || json_integer_value(pN) > IDX_PAGE_MAX || !json_is_string(pT)) {
            snprintf(zErr, nErr, "page_texts[%zu] 须有 \"n\"（页号，1 至 %u）和 \"text\"（字符串）", i, IDX_PAGE_MAX);
            json_decref(o);
            return PS_INVALID;
        }
        const char *zBad = "text";
        if (idx_json_text_check(pPage, &zBad, &at) != PS_OK) {
            snprintf(zErr, nErr, "page_texts[%zu]：\"%.60s\" 第 %zu 字节是控制字符或无效的 UTF-8", i, zBad,
                     at + 1);
            json_decref(o);
            return PS_INVALID;
        }
        char zKey[16];
        snprintf(zKey, sizeof zKey, "%lld", (long long)json_integer_value(pN));
        json_t *pCopy = json_deep_copy(pPage);
        if (!pCopy) {
            json_decref(o);
            return PS_NOMEM;
        }
        json_object_del(pCopy, "n");
        json_object_set_new(o, zKey, pCopy);
    }
    *ppOut = o;
    return PS_OK;
}

typedef struct {
    proto_record rec;
    json_t *pPages;
    long line;
} bulk_row;

static void bulk_free(bulk_row *a, idx_put_item *aItem, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        proto_record_clear(&a[i].rec);
        json_decref(a[i].pPages);
    }
    px_free(a);
    px_free(aItem);
}

/* A bulk write: every line checked first, the good ones written together
 * (each shard's share by its own thread), then committed.  Each row's fate
 * is told: written, or rejected with its line and why. */
int idx_h_records_bulk(idx_srv *s, idx_req *r, idx_resp *o)
{
    json_t *pRejected = json_array();
    unsigned long nImported = 0, nReplaced = 0, nRejected = 0;
    bulk_row *aRow = NULL;
    idx_put_item *aItem = NULL;
    size_t nRow = 0, nAlloc = 0, i = 0;
    char zErr[512] = "";
    long line = 0;
    int rc = PS_OK;
    idx_guard guard;
    if (!pRejected) return idx_resp_error(o, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    while (i < r->nBody && rc == PS_OK) {
        const char *z = r->zBody + i;
        const char *e = memchr(z, '\n', r->nBody - i);
        size_t len = e ? (size_t)(e - z) : r->nBody - i;
        i += len + (e != NULL);
        line++;
        int blank = 1;
        for (size_t k = 0; k < len; k++) blank &= z[k] == ' ' || z[k] == '\t' || z[k] == '\r';
        if (blank) continue;
        if (nRow == nAlloc) {
            size_t nNew = nAlloc ? nAlloc * 2 : 256;
            bulk_row *a = px_realloc(aRow, nNew * sizeof *a);
            if (!a) { rc = PS_NOMEM; break; }
            aRow = a;
            nAlloc = nNew;
        }
        bulk_row *b = &aRow[nRow];
        proto_record_init(&b->rec);
        b->pPages = NULL;
        b->line = line;
        json_error_t je;
        proto_problem prob;
        memset(&prob, 0, sizeof prob);
        json_t *pLine = json_loadb(z, len, JSON_REJECT_DUPLICATES, &je);
        if (!pLine || !json_is_object(pLine)) {
            snprintf(zErr, sizeof zErr, pLine ? "该行不是 JSON 对象" : "该行不是有效的 JSON：%s（第 %d 列）", proto_json_why(&je),
                     je.column);
            report_row(pRejected, line, -1, zErr);
            nRejected++;
            json_decref(pLine);
            continue;
        }
        json_t *pTexts = json_object_get(pLine, "page_texts");
        int rcRow = PS_OK;
        if (pTexts) {
            rcRow = pages_from_array(pTexts, &b->pPages, prob.zReason, sizeof prob.zReason);
            prob.field = -1;
            json_object_del(pLine, "page_texts");
        }
        if (rcRow == PS_OK) rcRow = proto_record_from_json(&b->rec, pLine, &prob);
        if (rcRow == PS_OK) rcRow = proto_record_check(&b->rec, &prob, NULL, 0, NULL);
        json_decref(pLine);
        if (rcRow == PS_NOMEM) {
            rc = PS_NOMEM;
        } else if (rcRow != PS_OK) {
            report_row(pRejected, line, prob.field, prob.zReason);
            nRejected++;
        } else {
            nRow++;
            continue;
        }
        proto_record_clear(&b->rec);
        json_decref(b->pPages);
    }
    if (rc == PS_OK && nRow > 0 && !(aItem = px_calloc(nRow, sizeof *aItem))) rc = PS_NOMEM;
    /* ?commit=0: the loader does not need to read its writes at once; they
     * are committed in larger groups (commit_every) or when the writes stop
     * (commit_delay_ms); the answer's seq and GET /commit tell it when. */
    const char *zCommit = idx_req_arg(r, "commit");
    int now = !(zCommit && strcmp(zCommit, "0") == 0);
    int rcBatch = PS_OK;
    if (rc == PS_OK && nRow > 0) {
        for (size_t k = 0; k < nRow; k++) {
            aItem[k].r = &aRow[k].rec;
            aItem[k].pPages = aRow[k].pPages;
        }
        idx_write_guard(r->pCaller, &guard);
        rcBatch = idx_index_put_batch(s->pIdx, aItem, nRow, now, &guard, zErr, sizeof zErr);
        for (size_t k = 0; k < nRow; k++) {
            if (aItem[k].rc == PS_OK) {
                nImported++;
                nReplaced += aItem[k].replaced != 0;
            } else {
                report_row(pRejected, aRow[k].line, aItem[k].rc == PS_FORBIDDEN ? PF_CLASSIFICATION : -1, aItem[k].zErr);
                nRejected++;
            }
        }
    }
    bulk_free(aRow, aItem, nRow);
    if (rc != PS_OK) {
        json_decref(pRejected);
        return idx_resp_error(o, rc, "内存不足：未写入任何档案", NULL, 0, NULL, 0);
    }
    unsigned long long seq = idx_index_seq(s->pIdx);
    if (rcBatch != PS_OK) {
        /* the rows were written but the commit failed: say what is where */
        IDX_LOG(IDX_LOG_ERROR, 0, "bulk write: commit failed: %s", zErr);
        json_t *pBody = proto_error_body(rcBatch, zErr, NULL, 0, NULL, 0);
        json_t *pE = json_object_get(pBody, "error");
        if (pE) {
            json_object_set_new(pE, "imported", json_integer((json_int_t)nImported));
            json_object_set_new(pE, "committed", json_false());
            json_object_set_new(pE, "seq", json_integer((json_int_t)seq));
        }
        json_decref(pRejected);
        return idx_resp_json(o, 500, pBody);
    }
    return idx_resp_json(o, 200, json_pack("{s:I,s:I,s:I,s:o,s:b,s:I,s:I}", "imported", (json_int_t)nImported, "replaced",
                                           (json_int_t)nReplaced, "rejected_count", (json_int_t)nRejected, "rejected",
                                           pRejected, "committed", now, "seq", (json_int_t)seq, "epoch",
                                           (json_int_t)idx_index_epoch(s->pIdx)));
}

/* ---- catalog import ---------------------------------------------------- */

int idx_h_catalog(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    long line = 0;
    json_t *pOut = NULL;
    idx_guard guard;
    const char *zList = idx_req_arg(r, "list"), *zReplace = idx_req_arg(r, "replace");
    int flags = (zList && strcmp(zList, "0") != 0 ? IDX_CSV_LIST : 0) |
                (zReplace && strcmp(zReplace, "0") != 0 ? IDX_CSV_REPLACE : 0);
    /* a catalog the audit could not keep is refused before anything is written */
    int rc = idx_catalog_room(s->zDataDir, r->zBody, r->nBody, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, "body", 0);
    idx_write_guard(r->pCaller, &guard);
    /* ?name=: the catalog's file (or delivery) name, for each record's history */
    const char *zName = idx_req_arg(r, "name");
    if (zName && *zName) {
        size_t n = strlen(zName), at = 0;
        if (n > 200 || proto_text_check(zName, n, &at) != PS_OK || strpbrk(zName, "\n\r\t"))
            return idx_resp_error(o, PS_INVALID, "name 须为 1 至 200 字节的文件名（UTF-8，不含控制字符）", NULL, 0, "name", 0);
        guard.zFrom = zName;
    }
    rc = idx_csv_import(s->pIdx, r->zBody, r->nBody, flags, &guard, &pOut, &line, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, line, "body", 0);
    /* kept as it came, for the catalog audit, when a row of it was imported */
    int kept = 0;
    if (idx_catalog_store(s->zDataDir, r->zBody, r->nBody, json_integer_value(json_object_get(pOut, "imported")), &kept,
                          zErr, sizeof zErr) != PS_OK) {
        IDX_LOG(IDX_LOG_WARN, 0, "catalog import: %s", zErr);
        json_object_set_new(pOut, "kept_error", json_string(zErr));
    }
    json_object_set_new(pOut, "kept", json_boolean(kept));
    IDX_LOG(IDX_LOG_INFO, 0, "catalog import: %lld imported, %lld rejected",
            (long long)json_integer_value(json_object_get(pOut, "imported")),
            (long long)json_integer_value(json_object_get(pOut, "rejected_count")));
    return idx_resp_json(o, 200, pOut);
}

/* ---- the commit sequence ----------------------------------------------- */

static json_t *seq_json(idx_srv *s)
{
    return json_pack("{s:I,s:I,s:I}", "seq", (json_int_t)idx_index_seq(s->pIdx), "durable_seq",
                     (json_int_t)idx_index_durable(s->pIdx), "epoch", (json_int_t)idx_index_epoch(s->pIdx));
}

int idx_h_commit_get(idx_srv *s, idx_req *r, idx_resp *o)
{
    (void)r;
    return idx_resp_json(o, 200, seq_json(s));
}

int idx_h_commit_post(idx_srv *s, idx_req *r, idx_resp *o)
{
    (void)r;
    if (commit(s, o) != 0) return PS_OK;
    return idx_resp_json(o, 200, seq_json(s));
}
