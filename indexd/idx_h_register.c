/* Handler of the use register (利用登记簿): JSON, CSV or the printable
 * register.  Entries about records above the reader's 密级 are counted,
 * never described. */
#include "idx_api.h"
#include "idx_export.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    idx_hidden_ctx h;
    json_t *pSeen;  /* 档号 → hidden, for entries written without the 密级 */
} hidden_ctx;

/* The record's 密级 now decides (a record raised since the view is not
 * described any more); for a record since deleted, its 密级 when viewed. */
static int entry_hidden(void *ctx, const char *zCode, const char *zClassification)
{
    hidden_ctx *h = ctx;
    proto_code code;
    char zErr[256], zNow[64];
    if (proto_code_parse(zCode, &code, zErr, sizeof zErr) != PS_OK) return 0; /* an export */
    json_t *pKnown = h->pSeen ? json_object_get(h->pSeen, code.zCanonical) : NULL;
    if (pKnown) return json_is_true(pKnown);
    int hidden, rc = idx_index_classification(h->h.s->pIdx, code.zCanonical, zNow, sizeof zNow, zErr, sizeof zErr);
    if (rc == PS_OK) hidden = !idx_access_level_ok(h->h.w, zNow);
    else if (rc == PS_NOT_FOUND) hidden = zClassification && !idx_access_level_ok(h->h.w, zClassification);
    else hidden = 1; /* cannot tell: fail closed */
    if (h->pSeen) json_object_set_new(h->pSeen, code.zCanonical, json_boolean(hidden));
    return hidden;
}

int idx_h_register(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    idx_register_filter f = {idx_req_arg(r, "user"), idx_req_arg(r, "code"), idx_req_arg(r, "from"), idx_req_arg(r, "to"), 0, 0};
    const char *azDate[2] = {f.zFrom, f.zTo};
    for (int i = 0; i < 2; i++)
        if (azDate[i] && *azDate[i] && (strlen(azDate[i]) != 8 || strspn(azDate[i], "0123456789") != 8))
            return idx_resp_error(o, PS_INVALID, "from 和 to 须为 8 位数字日期 YYYYMMDD", NULL, 0, i ? "to" : "from", 0);
    int fmt, gb;
    if (idx_export_format(r, &fmt, &gb, o) != 0) return PS_OK;
    if (idx_req_uint(r, "offset", 0, 100000000, 0, &f.offset) != 0)
        return idx_resp_error(o, PS_INVALID, "offset 须为数字", NULL, 0, "offset", 0);
    if (idx_req_uint(r, "limit", 1, 10000, 100, &f.limit) != 0)
        return idx_resp_error(o, PS_INVALID, "limit 须为 1 至 10000 的数字", NULL, 0, "limit", 0);
    /* CSV gives every entry; the printed register its groups from offset on
     * (it lists 5000 and says how many more: ?offset= prints the rest) */
    if (fmt == 1) f.offset = 0;
    if (fmt != 0) f.limit = 0;
    json_t *pOut = NULL;
    hidden_ctx h = {{s, r->pCaller}, json_object()};
    int rc = idx_register_list(s->pReg, &f, entry_hidden, &h, &pOut, zErr, sizeof zErr);
    json_decref(h.pSeen);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    idx_access_mask(r->pCaller, pOut);
    if (fmt == 0) return idx_resp_json(o, 200, pOut);
    return idx_send_export(s, r, IDX_REPORT_REGISTER, "register", NULL, pOut, fmt, gb, o);
}
