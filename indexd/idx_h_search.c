/* Handler of the search resource: parameters to an idx_search_req in the
 * caller's scope, and the hits that show approved text written in the use
 * register. */
#include "idx_api.h"
#include "idx_search.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdio.h>
#include <string.h>

#define SEARCH_LIMIT_MAX 100
#define SEARCH_OFFSET_MAX 100000

typedef struct {
    idx_search_req *pReq;
    const char *zBadParam;
    char zWhy[200];
} arg_state;

static int collect_arg(void *ctx, const char *zKey, const char *zVal)
{
    arg_state *a = ctx;
    int f = idx_filter_lookup(zKey);
    if (f < 0 || !zVal || !*zVal) return 0;
    if (a->pReq->anFilter[f] >= IDX_FILTER_MAX) {
        a->zBadParam = zKey;
        snprintf(a->zWhy, sizeof a->zWhy, "%s 至多 %d 个值", zKey, IDX_FILTER_MAX);
        return 1;
    }
    a->pReq->azFilter[f][a->pReq->anFilter[f]++] = zVal;
    return 0;
}

static int valid_year(const char *z)
{
    return z && strlen(z) == 4 && strspn(z, "0123456789") == 4;
}

/* Write the views of approved text the hits show; -1 after an error answer. */
static int register_hits(idx_srv *s, idx_req *r, json_t *pHits, idx_resp *o)
{
    size_t i;
    json_t *h;
    json_array_foreach(pHits, i, h) {
        json_t *pView = json_object_get(h, "_view");
        if (!pView) continue;
        const char *zCls = json_string_value(json_object_get(h, "classification"));
        idx_use u = {json_string_value(json_object_get(h, "code")), json_string_value(json_object_get(h, "title")),
                     "search", (unsigned)json_integer_value(pView), 0, zCls ? zCls : ""};
        if (u.zCode) idx_approval_status(s->pReg, r->pCaller, u.zCode, &u.approval);
        if (idx_register_use(s, r->pCaller, &u, o) != 0) return -1;
        json_object_del(h, "_view");
    }
    return 0;
}

int idx_h_search(idx_srv *s, idx_req *r, idx_resp *o)
{
    idx_search_req req;
    idx_scope scope;
    arg_state as;
    char zErr[512] = "";
    memset(&req, 0, sizeof req);
    memset(&as, 0, sizeof as);
    as.pReq = &req;
    idx_req_args(r, collect_arg, &as);
    if (as.zBadParam) return idx_resp_error(o, PS_INVALID, as.zWhy, NULL, 0, as.zBadParam, 0);
    req.zQuery = idx_req_arg(r, "q");
    if (req.zQuery && !proto_utf8_valid(req.zQuery, strlen(req.zQuery)))
        return idx_resp_error(o, PS_ENCODING, "q（检索词）不是 UTF-8 编码", NULL, 0, "q", 0);
    if (idx_access_query_refused(r->pCaller, req.zQuery))
        return idx_resp_refuse(o, PS_FORBIDDEN,
                               "按身份证号、银行账号或电话号码检索，须有查看这些号码的权限；请按姓名或档号检索",
                               0);
    for (int f = 0; f < IDX_F__COUNT; f++)
        for (int i = 0; i < req.anFilter[f]; i++) {
            if (!proto_utf8_valid(req.azFilter[f][i], strlen(req.azFilter[f][i])))
                return idx_resp_error(o, PS_ENCODING, "筛选值不是 UTF-8 编码", NULL, 0, idx_filter_name(f), 0);
            if (idx_access_query_refused(r->pCaller, req.azFilter[f][i]))
                return idx_resp_refuse(o, PS_FORBIDDEN,
                                       "按身份证号、银行账号或电话号码筛选，须有查看这些号码的权限",
                                       0);
            if (f == IDX_F_YEAR && !valid_year(req.azFilter[f][i]))
                return idx_resp_error(o, PS_INVALID, "year（年度）须为 4 位数字", NULL, 0, "year", 0);
            if (f == IDX_F_RETENTION) {
                const char *zCode = proto_retention_code(req.azFilter[f][i]);
                if (!zCode) return idx_resp_error(o, PS_INVALID, "retention（保管期限）须为 Y、D30 或 D10（永久、30年、10年）", NULL, 0, "retention", 0);
                req.azFilter[f][i] = zCode;
            }
        }
    req.zYearFrom = idx_req_arg(r, "year_from");
    req.zYearTo = idx_req_arg(r, "year_to");
    if (req.zYearFrom && !*req.zYearFrom) req.zYearFrom = NULL;
    if (req.zYearTo && !*req.zYearTo) req.zYearTo = NULL;
    if (req.zYearFrom && !valid_year(req.zYearFrom))
        return idx_resp_error(o, PS_INVALID, "year_from（起始年度）须为 4 位数字", NULL, 0, "year_from", 0);
    if (req.zYearTo && !valid_year(req.zYearTo))
        return idx_resp_error(o, PS_INVALID, "year_to（截止年度）须为 4 位数字", NULL, 0, "year_to", 0);
    const char *zSort = idx_req_arg(r, "sort");
    if (!zSort || !*zSort || strcmp(zSort, "relevance") == 0) req.sort = IDX_SORT_RELEVANCE;
    else if (strcmp(zSort, "date") == 0) req.sort = IDX_SORT_DATE;
    else if (strcmp(zSort, "-date") == 0) req.sort = IDX_SORT_DATE_DESC;
    else return idx_resp_error(o, PS_INVALID, "sort（排序）须为 relevance（相关度）、date（日期升序）或 -date（日期降序）", NULL, 0, "sort", 0);
    if (idx_req_uint(r, "offset", 0, SEARCH_OFFSET_MAX, 0, &req.offset) != 0)
        return idx_resp_error(o, PS_INVALID, "offset 须为 0 至 100000 的数字", NULL, 0, "offset", 0);
    if (idx_req_uint(r, "limit", 1, SEARCH_LIMIT_MAX, 20, &req.limit) != 0)
        return idx_resp_error(o, PS_INVALID, "limit 须为 1 至 100 的数字", NULL, 0, "limit", 0);
    unsigned facets;
    if (idx_req_uint(r, "facets", 0, 1, 1, &facets) != 0)
        return idx_resp_error(o, PS_INVALID, "facets（分面统计）须为 0 或 1", NULL, 0, "facets", 0);
    req.facets = (int)facets;
    req.facetCheck = s->facetCheck;
    req.maskIds = idx_access_masks(r->pCaller);
    int rc = idx_access_scope(s->pAccess, r->pCaller, &scope);
    if (rc != PS_OK) return idx_resp_error(o, rc, NULL, NULL, 0, NULL, 0);
    req.pScope = &scope;
    json_t *pOut = NULL;
    const char *zParam = NULL;
    unsigned offset = 0;
    rc = idx_search(s->pIdx, &req, &pOut, &zParam, &offset, zErr, sizeof zErr);
    idx_scope_clear(&scope);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, zParam, offset);
    if (register_hits(s, r, json_object_get(pOut, "hits"), o) != 0) {
        json_decref(pOut);
        return PS_OK;
    }
    idx_access_mask(r->pCaller, pOut); /* hits, and the facets' values */
    return idx_resp_json(o, 200, pOut);
}
