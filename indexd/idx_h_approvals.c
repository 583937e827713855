/* Handlers of approvals of use (利用审批): requests by readers, decisions
 * by admins. */
#include "idx_api.h"
#include "idx_log.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdio.h>
#include <string.h>

int idx_h_approvals_list(idx_srv *s, idx_req *r, idx_resp *o)
{
    const idx_caller *w = r->pCaller;
    const char *zStatus = idx_req_arg(r, "status");
    if (zStatus && *zStatus && strcmp(zStatus, "pending") != 0 && strcmp(zStatus, "approved") != 0 &&
        strcmp(zStatus, "denied") != 0 && strcmp(zStatus, "expired") != 0)
        return idx_resp_error(o, PS_INVALID, "status 只能是 pending（待审批）、approved（已批准）、denied（未批准）或 expired（已过期）", NULL, 0, "status", 0);
    /* an admin sees every request, others their own */
    json_t *a = idx_approval_list(s->pReg, idx_access_approvals_of(w), zStatus);
    if (a) idx_access_mask(w, a);
    return idx_resp_json(o, 200, a ? json_pack("{s:o}", "approvals", a) : NULL);
}

int idx_h_approvals_request(idx_srv *s, idx_req *r, idx_resp *o)
{
    const idx_caller *w = r->pCaller;
    char zErr[512] = "";
    json_t *pOut = NULL;
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    const char *zCode = json_string_value(json_object_get(pBody, "code"));
    const char *zPurpose = json_string_value(json_object_get(pBody, "purpose"));
    if (!zPurpose || !*zPurpose) zPurpose = w->zPurpose;
    if (!zCode || proto_code_parse(zCode, &r->code, zErr, sizeof zErr) != PS_OK) {
        json_decref(pBody);
        return idx_resp_error(o, PS_INVALID, zCode ? zErr : "审批申请须写明 \"code\"（档号）", "code", 0, "body", 0);
    }
    if (!idx_purpose_ok(zPurpose)) {
        json_decref(pBody);
        return idx_resp_error(o, PS_INVALID, "审批申请须写明 \"purpose\"（利用目的，1 至 100 个字符）", "purpose", 0, "body", 0);
    }
    json_t *pData = idx_visible_record(s, r, o);
    if (!pData) {
        json_decref(pBody);
        return PS_OK;
    }
    json_t *pRec = json_object_get(pData, "r");
    if (!idx_access_needs_approval(s->pAccess, w, pRec)) {
        json_decref(pBody);
        json_decref(pData);
        snprintf(zErr, sizeof zErr, "档号为 %s 的档案无须审批", r->code.zCanonical);
        return idx_resp_error(o, PS_INVALID, zErr, "code", 0, "body", 0);
    }
    long id;
    const char *zState = idx_approval_status(s->pReg, w, r->code.zCanonical, &id);
    if (strcmp(zState, "pending") == 0 || strcmp(zState, "approved") == 0) {
        /* the open request stands: no second one */
        json_t *a = idx_approval_list(s->pReg, w, NULL);
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x) if (json_integer_value(json_object_get(x, "id")) == id) pOut = json_incref(x);
        json_decref(a);
        json_decref(pBody);
        json_decref(pData);
        if (pOut) idx_access_mask(w, pOut);
        return idx_resp_json(o, 200, pOut);
    }
    int rc = idx_approval_request(s->pReg, w, r->code.zCanonical, json_string_value(json_object_get(pRec, "title")),
                                  zPurpose, &pOut, zErr, sizeof zErr);
    json_decref(pBody);
    json_decref(pData);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    IDX_LOG(IDX_LOG_INFO, 0, "approval %lld requested by %s", (long long)json_integer_value(json_object_get(pOut, "id")), w->zUser);
    idx_access_mask(w, pOut);
    return idx_resp_json(o, 201, pOut);
}

int idx_h_approval_decide(idx_srv *s, idx_req *r, idx_resp *o)
{
    const idx_caller *w = r->pCaller;
    char zErr[512] = "";
    json_t *pOut = NULL;
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    json_t *pA = json_object_get(pBody, "approve");
    const char *zNote = json_string_value(json_object_get(pBody, "note"));
    if (!json_is_boolean(pA) || (zNote && (strlen(zNote) > 1000 || proto_text_check(zNote, strlen(zNote), NULL) != PS_OK))) {
        json_decref(pBody);
        return idx_resp_error(o, PS_INVALID, "审批意见的写法为 {\"approve\": true|false, \"note\": \"…\"}（note 至多 1000 字节，不含控制字符）", "approve", 0, "body", 0);
    }
    int approve = json_is_true(pA);
    int rc = idx_approval_decide(s->pReg, w, r->id, approve, zNote, s->approvalDays, &pOut, zErr, sizeof zErr);
    json_decref(pBody);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    IDX_LOG(IDX_LOG_INFO, 0, "approval %ld %s by %s", r->id, approve ? "approved" : "denied", w->zUser);
    idx_access_mask(w, pOut);
    return idx_resp_json(o, 200, pOut);
}
