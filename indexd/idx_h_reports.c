/* Handlers of the reports resource (coverage, catalog audit, ledger,
 * acceptance, timed tests) and of the delivery accounts vendors' ingest
 * sends for the acceptance report.  JSON, or CSV and printable HTML; every
 * export is written in the use register first. */
#include "idx_api.h"
#include "idx_audit.h"
#include "idx_delivery.h"
#include "idx_export.h"
#include "idx_log.h"
#include "idx_report.h"
#include "idx_timed.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int idx_send_export(idx_srv *s, idx_req *r, int kind, const char *zName, const char *zFonds, json_t *pRep, int fmt,
                    int gb, idx_resp *o)
{
    char zWhat[96];
    snprintf(zWhat, sizeof zWhat, "%s%s%s.%s", zName, zFonds && *zFonds ? "-" : "", zFonds && *zFonds ? zFonds : "",
             fmt == 1 ? "csv" : "html");
    idx_use use = {zWhat, NULL, "export", 0, 0, NULL};
    if (idx_register_use(s, r->pCaller, &use, o) != 0) {
        json_decref(pRep);
        return PS_OK;
    }
    char *z = NULL;
    size_t n = 0;
    int rc = fmt == 1 ? idx_export_csv((idx_report_kind)kind, pRep, gb, &z, &n) : idx_export_html((idx_report_kind)kind, pRep, &z, &n);
    json_decref(pRep);
    if (rc != PS_OK) return idx_resp_error(o, rc, NULL, NULL, 0, NULL, 0);
    idx_resp_buffer(o, 200, z, n,
                    fmt == 2 ? "text/html; charset=utf-8" : gb ? "text/csv; charset=gb18030" : "text/csv; charset=utf-8");
    if (fmt == 1) {
        char zDisp[160];
        snprintf(zDisp, sizeof zDisp, "attachment; filename=\"%s\"", zWhat);
        return idx_resp_header(o, "Content-Disposition", zDisp);
    }
    return PS_OK;
}

/* The options every report takes; -1 after an error answer.  Records above
 * the caller's 密级 are counted, never described (pHidden lives as long as
 * the report is made). */
static int report_opts(idx_srv *s, idx_req *r, idx_report_opts *p, idx_hidden_ctx *pHidden, int *pFmt, int *pGb,
                       idx_resp *o)
{
    memset(p, 0, sizeof *p);
    pHidden->s = s;
    pHidden->w = r->pCaller;
    p->xHidden = idx_access_sees_all(r->pCaller) ? NULL : idx_code_hidden;
    p->pHiddenCtx = pHidden;
    p->zFonds = idx_req_arg(r, "fonds");
    if (idx_export_format(r, pFmt, pGb, o) != 0) return -1;
    if (p->zFonds && (strlen(p->zFonds) > 16 ||
                      strspn(p->zFonds, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(p->zFonds))) {
        idx_resp_error(o, PS_INVALID, "fonds 须为全宗号：1 至 16 个字母或数字", NULL, 0, "fonds", 0);
        return -1;
    }
    /* JSON pages the list of records still to digitize; CSV gives it whole, HTML the first 5000. */
    if (idx_req_uint(r, "offset", 0, 100000000, 0, &p->offset) != 0) {
        idx_resp_error(o, PS_INVALID, "offset 须为数字", NULL, 0, "offset", 0);
        return -1;
    }
    if (idx_req_uint(r, "limit", 1, 100000, 1000, &p->limit) != 0) {
        idx_resp_error(o, PS_INVALID, "limit 须为 1 至 100000 的数字", NULL, 0, "limit", 0);
        return -1;
    }
    if (*pFmt != 0) p->offset = 0, p->limit = *pFmt == 2 ? 5000 : 0;
    return 0;
}

/* A report counts every record: with a shard down it would count too few,
 * so it is refused (503 naming the shard), checked before it is made and
 * after (a shard lost on the way). */
static int whole_after(idx_srv *s, int rc, json_t **ppRep, char *zErr, size_t nErr)
{
    if (rc == PS_OK && (rc = idx_index_complete(s->pIdx, zErr, nErr)) != PS_OK) {
        json_decref(*ppRep);
        *ppRep = NULL;
    }
    return rc;
}

static int answer(idx_srv *s, idx_req *r, idx_report_kind k, const char *zName, const char *zFonds, json_t *pRep,
                  int fmt, int gb, idx_resp *o)
{
    idx_access_mask(r->pCaller, pRep);
    if (fmt == 0) return idx_resp_json(o, 200, pRep);
    return idx_send_export(s, r, k, zName, zFonds, pRep, fmt, gb, o);
}

int idx_h_report_coverage(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_report_opts opt;
    idx_hidden_ctx hc;
    int fmt, gb;
    char zErr[512] = "";
    json_t *pRep = NULL;
    if (report_opts(s, r, &opt, &hc, &fmt, &gb, o) != 0) return PS_OK;
    int rc = idx_index_complete(s->pIdx, zErr, sizeof zErr);
    if (rc == PS_OK) rc = whole_after(s, idx_report_coverage(s->pIdx, &opt, &pRep, zErr, sizeof zErr), &pRep, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    return answer(s, r, IDX_REPORT_COVERAGE, "coverage", opt.zFonds, pRep, fmt, gb, o);
}

/* Irregular entries a CSV of the catalog audit lists at most: a junk
 * catalog can hold millions, and each costs the score 0.2 points, so the
 * first tens of thousands say all an evaluator needs (JSON pages on). */
#define CATALOG_CSV_MAX 50000u
/* and a JSON page of it: each entry is an object of its own */
#define CATALOG_PAGE_MAX 10000u

int idx_h_report_catalog(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_report_opts opt;
    idx_hidden_ctx hc;
    int fmt, gb;
    char zErr[512] = "";
    json_t *pRep = NULL;
    if (report_opts(s, r, &opt, &hc, &fmt, &gb, o) != 0) return PS_OK;
    if (fmt == 0 && opt.limit > CATALOG_PAGE_MAX)
        return idx_resp_error(o, PS_INVALID, "目录检查的 limit 须为 1 至 10000 的数字（用 offset 翻页）",
                              NULL, 0, "limit", 0);
    if (fmt == 1) opt.limit = CATALOG_CSV_MAX;
    int rc = idx_index_complete(s->pIdx, zErr, sizeof zErr);
    if (rc == PS_OK)
        rc = whole_after(s, idx_report_catalog(s->pIdx, s->zDataDir, &opt, &pRep, zErr, sizeof zErr), &pRep, zErr,
                         sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    return answer(s, r, IDX_REPORT_CATALOG, "catalog", opt.zFonds, pRep, fmt, gb, o);
}

int idx_h_report_ledger(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_report_opts opt;
    idx_hidden_ctx hc;
    int fmt, gb;
    char zErr[512] = "";
    json_t *pRep = NULL;
    if (report_opts(s, r, &opt, &hc, &fmt, &gb, o) != 0) return PS_OK;
    int rc = idx_index_complete(s->pIdx, zErr, sizeof zErr);
    if (rc == PS_OK) rc = whole_after(s, idx_report_ledger(s->pIdx, &opt, &pRep, zErr, sizeof zErr), &pRep, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    return answer(s, r, IDX_REPORT_LEDGER, "ledger", opt.zFonds, pRep, fmt, gb, o);
}

int idx_h_report_acceptance(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_report_opts opt;
    idx_hidden_ctx hc;
    int fmt, gb;
    char zErr[512] = "";
    json_t *pRep = NULL;
    if (report_opts(s, r, &opt, &hc, &fmt, &gb, o) != 0) return PS_OK;
    const char *zDel = idx_req_arg(r, "delivery");
    if (fmt != 0 && (!zDel || !*zDel))
        return idx_resp_error(o, PS_INVALID, "导出 CSV 或 HTML 须指定一个交付批次：?delivery=…", NULL, 0, "delivery", 0);
    /* a vendor is told the delivery's folder name, not the server's path */
    int full = idx_access_server_paths(r->pCaller);
    int rc = idx_report_acceptance(s->zDataDir, zDel, full, &pRep, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, rc == PS_NOMEM ? NULL : "delivery", 0);
    return answer(s, r, IDX_REPORT_ACCEPTANCE, "acceptance", opt.zFonds, pRep, fmt, gb, o);
}

/* What the reader may know of record zCode now: 0 open, 1 its text
 * closed, 2 hidden, 3 deleted (memoised in pSeen, which may be NULL). */
static json_int_t record_state(idx_srv *s, const idx_caller *w, json_t *pSeen, const char *zCode)
{
    json_t *pKnown = pSeen ? json_object_get(pSeen, zCode) : NULL;
    if (pKnown) return json_integer_value(pKnown);
    char zErr[256];
    int rc;
    json_int_t state;
    json_t *pData = idx_index_get(s->pIdx, zCode, &rc, zErr, sizeof zErr);
    json_t *pRec = json_object_get(pData, "r");
    if (pData && !idx_access_sees_stored(w, pData)) {
        state = 2;
    } else if (pData) {
        idx_verdict v;
        idx_access_open_page(s->pAccess, w, zCode, pRec, IDX_READ_BOXES, &v);
        state = v.rc == PS_OK ? 0 : 1;
    } else {
        state = rc == PS_NOT_FOUND ? 3 : 2; /* deleted: unknown now; unreadable: closed */
    }
    json_decref(pData);
    if (pSeen) json_object_set_new(pSeen, zCode, json_integer(state));
    return state;
}

/* A trial's phrase comes from its record's text, its location from the
 * catalog: a record above the reader's 密级 now (raised since the run,
 * say) shows neither, nor its 档号 (in the trials and the untried
 * records); one whose text needs an approval the reader lacks
 * does not show its phrase. */
static void close_phrases(idx_srv *s, const idx_caller *w, json_t *pRep)
{
    json_t *pSeen = json_object();
    size_t i, k;
    json_t *run, *t;
    json_array_foreach(json_object_get(pRep, "runs"), i, run) {
        json_array_foreach(json_object_get(run, "trials"), k, t) {
            /* kept for this check; the reader needs no 密级 of a record */
            json_object_del(t, "classification");
            const char *zCode = json_string_value(json_object_get(t, "code"));
            if (!zCode) continue;
            json_int_t state = record_state(s, w, pSeen, zCode);
            if (state == 2) {
                if (json_object_get(t, "phrase")) json_object_set_new(t, "phrase", json_string("（密级档案，不显示）"));
                if (json_object_get(t, "location")) json_object_set_new(t, "location", json_string("（密级档案，不显示）"));
                json_object_set_new(t, "code", json_string("（密级档案）"));
            } else if (state == 1 && json_is_string(json_object_get(t, "phrase"))) {
                json_object_set_new(t, "phrase", json_string("（需审批，不显示）"));
            } else if (state == 3 && json_is_string(json_object_get(t, "phrase")) && !idx_access_sees_all(w)) {
                /* deleted: whether its text needed an approval is unknown now */
                json_object_set_new(t, "phrase", json_string("（档案已删除，不显示）"));
            }
        }
        json_array_foreach(json_object_get(run, "untested"), k, t) {
            const char *zCode = json_string_value(t);
            /* a trial keeps the 密级 its record had (the report hid it by
             * that); an untried record's 档号 does not, so a deleted one
             * is shown only to those who see every level */
            json_int_t state = zCode ? record_state(s, w, pSeen, zCode) : 0;
            if (state == 2 || (state == 3 && !idx_access_sees_all(w)))
                json_array_set_new(json_object_get(run, "untested"), k, json_string("（密级档案）"));
        }
    }
    json_decref(pSeen);
}

int idx_h_report_timed(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_report_opts opt;
    idx_hidden_ctx hc;
    int fmt, gb;
    char zErr[512] = "";
    json_t *pRep = NULL;
    if (report_opts(s, r, &opt, &hc, &fmt, &gb, o) != 0) return PS_OK;
    int rc = idx_report_timed(s->zDataDir, r->pCaller, &pRep, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    close_phrases(s, r->pCaller, pRep);
    return answer(s, r, IDX_REPORT_TIMED, "timed-tests", opt.zFonds, pRep, fmt, gb, o);
}

int idx_h_delivery_put(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    if (!idx_delivery_name_ok(r->zName))
        return idx_resp_error(o, PS_INVALID, "交付批次名称须为 1 至 100 个字母、数字、汉字或“.”“_”“-”",
                              NULL, 0, "name", 0);
    json_t *pAcc = idx_req_json(r, o);
    if (!pAcc) return PS_OK;
    if (!json_is_object(json_object_get(pAcc, "problems")) || !json_is_object(json_object_get(pAcc, "scans"))) {
        json_decref(pAcc);
        return idx_resp_error(o, PS_INVALID, "交付记录须含 \"problems\" 和 \"scans\" 两个对象（即 ingest 写出的格式）",
                              "problems", 0, NULL, 0);
    }
    int rc = idx_delivery_put(s->zDataDir, r->zName, pAcc, zErr, sizeof zErr);
    json_decref(pAcc);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    return idx_resp_json(o, 200, json_pack("{s:s,s:b}", "name", r->zName, "stored", 1));
}
