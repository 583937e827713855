/* Handlers of the timed retrieval test (evaluation item 7): draws kept by
 * the daemon, trials it times, and runs kept with their verdict.  The
 * evaluator of a run is always the caller. */
#include "idx_api.h"
#include "idx_search.h"
#include "idx_timed.h"
#include "proto_status.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    idx_srv *s;
    const idx_caller *w;
} draw_ctx;

/* A record is drawn only when the caller could open its text: a phrase
 * from closed text would show it without approval or register entry. */
static int may_draw(void *ctx, const char *zCode, const json_t *pRec)
{
    draw_ctx *d = ctx;
    idx_verdict v;
    if (!idx_access_sees(d->w, pRec)) return PS_NOT_FOUND;
    if (!idx_access_needs_approval(d->s->pAccess, d->w, pRec)) return PS_OK;
    idx_access_open_page(d->s->pAccess, d->w, zCode, pRec, IDX_READ_BOXES, &v);
    return v.rc == PS_OK ? PS_OK : PS_APPROVAL;
}

int idx_h_timed_draw(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    json_t *pPicked = NULL, *pOut = NULL;
    unsigned n, seed;
    if (idx_req_uint(r, "n", 1, 100, 5, &n) != 0)
        return idx_resp_error(o, PS_INVALID, "n（抽取件数）须为 1 至 100 的数字", NULL, 0, "n", 0);
    if (idx_req_uint(r, "seed", 0, 4000000000u, 0, &seed) != 0)
        return idx_resp_error(o, PS_INVALID, "seed（随机种子）须为数字", NULL, 0, "seed", 0);
    const char *zCodes = idx_req_arg(r, "codes");
    json_t *pCodes = json_array();
    if (!pCodes) return idx_resp_error(o, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    for (const char *z = zCodes; z && *z;) {
        size_t k = strcspn(z, ",");
        if (k) json_array_append_new(pCodes, json_stringn(z, k));
        z += k + (z[k] == ',');
    }
    /* a draw refused for its bounds costs nothing: asked before the pick;
     * a draw is made from every record (none while a shard is down) */
    int rc = idx_timed_draw_room(s->zDataDir, r->pCaller, idx_timed_now(), zErr, sizeof zErr);
    if (rc == PS_OK) rc = idx_index_complete(s->pIdx, zErr, sizeof zErr);
    if (rc != PS_OK) {
        json_decref(pCodes);
        return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    }
    draw_ctx d = {s, r->pCaller};
    rc = idx_timed_draw(s->pIdx, n, seed, pCodes, idx_req_arg(r, "fonds"), may_draw, &d, &pPicked, zErr, sizeof zErr);
    json_decref(pCodes);
    if (rc == PS_APPROVAL) return idx_resp_refuse(o, rc, zErr, 0);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, rc == PS_NOMEM ? NULL : "codes", 0);
    rc = idx_timed_keep_draw(s->zDataDir, r->pCaller, pPicked, idx_timed_now(), &pOut, zErr, sizeof zErr);
    json_decref(pPicked);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    idx_access_mask(r->pCaller, pOut);
    return idx_resp_json(o, 200, pOut);
}

/* Does the drawn phrase, searched quoted as the caller, find record zCode?
 * 1, 0, or -1 when the search could not be run.  Nothing of the record is
 * shown, so nothing goes in the use register. */
static int found_by_search(void *ctx, const char *zCode, const char *zPhrase)
{
    draw_ctx *d = ctx;
    char zQuery[512], zErr[256];
    if (!zCode || !zPhrase || snprintf(zQuery, sizeof zQuery, "\"%s\" 档号:%s", zPhrase, zCode) >= (int)sizeof zQuery)
        return -1;
    idx_search_req req;
    idx_scope scope;
    memset(&req, 0, sizeof req);
    req.zQuery = zQuery;
    req.limit = 1;
    req.maskIds = 1;
    if (idx_access_scope(d->s->pAccess, d->w, &scope) != PS_OK) return -1;
    req.pScope = &scope;
    json_t *pOut = NULL;
    const char *zParam = NULL;
    unsigned offset = 0;
    int rc = idx_search(d->s->pIdx, &req, &pOut, &zParam, &offset, zErr, sizeof zErr);
    idx_scope_clear(&scope);
    int found = rc == PS_OK ? json_integer_value(json_object_get(pOut, "total")) > 0 : -1;
    json_decref(pOut);
    return found;
}

/* Start or stop trial {n} of draw {draw}: body {"kind"} (and "found" to stop). */
static int trial(idx_srv *s, idx_req *r, idx_resp *o, int stop)
{
    char zErr[512] = "";
    json_t *pOut = NULL;
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    int kind = idx_timed_kind(json_string_value(json_object_get(pBody, "kind")));
    const json_t *pFound = json_object_get(pBody, "found");
    int found = json_is_true(pFound), saidFound = json_is_boolean(pFound);
    json_decref(pBody);
    if (kind < 0) return idx_resp_error(o, PS_INVALID, "\"kind\" 须为 fulltext（全文检索）或 paper（纸质调阅）", "kind", 0, NULL, 0);
    if (stop && !saidFound)
        return idx_resp_error(o, PS_INVALID,
                              "\"found\" 须为 true（检索结果中已有该件，或纸质档案已取到）或 false（放弃）",
                              "found", 0, NULL, 0);
    draw_ctx d = {s, r->pCaller};
    int rc = stop ? idx_timed_stop(s->zDataDir, r->pCaller, r->zName, r->page, kind, found, found_by_search, &d,
                                   idx_timed_now(), &pOut, zErr, sizeof zErr)
                  : idx_timed_start(s->zDataDir, r->pCaller, r->zName, r->page, kind, idx_timed_now(), &pOut, zErr,
                                    sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    return idx_resp_json(o, 200, pOut);
}

int idx_h_timed_start(idx_srv *s, idx_req *r, idx_resp *o)
{
    return trial(s, r, o, 0);
}

int idx_h_timed_stop(idx_srv *s, idx_req *r, idx_resp *o)
{
    return trial(s, r, o, 1);
}

int idx_h_timed_post(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    const char *zField = NULL;
    json_t *pOut = NULL;
    json_t *pRun = idx_req_json(r, o);
    if (!pRun) return PS_OK;
    int rc = idx_timed_put(s->zDataDir, r->pCaller, pRun, idx_timed_now(), &pOut, &zField, zErr, sizeof zErr);
    json_decref(pRun);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, zField, 0, NULL, 0);
    idx_access_mask(r->pCaller, pOut);
    return idx_resp_json(o, 201, pOut);
}
