/* Handlers of the session resource: the health check, logging in and out,
 * who the caller is and their purpose of use. */
#include "idx_api.h"
#include "idx_log.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Lines about failed and refused logins, at most this many a second. */
#define LOGIN_LOG_PER_S 5

static const char zCookie[] = "indexd_session";

int idx_h_health(idx_srv *s, idx_req *r, idx_resp *o)
{
    (void)r;
    /* the shards and their state: "degraded" while one does not answer */
    int nDown = 0;
    json_t *pShards = idx_index_health(s->pIdx, &nDown);
    return idx_resp_json(o, 200, json_pack("{s:s,s:I,s:s,s:o,s:b}", "status", nDown ? "degraded" : "ok", "records",
                                           (json_int_t)idx_index_count(s->pIdx), "version", "0.1.0", "shards",
                                           pShards ? pShards : json_array(), "read_only",
                                           idx_index_read_only(s->pIdx)));
}

static json_t *me_json(const idx_caller *w)
{
    static const char *const azCan[] = {"search", "view", "import", "vendor_reports", "reports", "register", "request", "approve"};
    char zExp[40];
    json_t *pCan = json_array();
    for (int i = 0; i < 8; i++)
        if (w->perms & (1u << i)) json_array_append_new(pCan, json_string(azCan[i]));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:o,s:o}", "user", w->zUser, "role", idx_role_name(w->role), "role_cn",
                          idx_role_cn(w->role), "clearance", idx_clearance_name(w->clearance), "ids", w->ids,
                          "purpose", w->zPurpose[0] ? json_string(w->zPurpose) : json_null(), "can", pCan);
    if (o && w->session) {
        idx_iso_time(w->expires, zExp, sizeof zExp);
        json_object_set_new(o, "csrf", json_string(w->zCsrf));
        json_object_set_new(o, "expires", json_string(zExp));
    }
    return o;
}

int idx_h_me(idx_srv *s, idx_req *r, idx_resp *o)
{
    (void)s;
    return idx_resp_json(o, 200, me_json(r->pCaller));
}

int idx_h_login(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zSid[IDX_SID_LEN + 1], zSet[256];
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    const char *zUser = json_string_value(json_object_get(pBody, "user"));
    const char *zPass = json_string_value(json_object_get(pBody, "password"));
    if (!zUser || !zPass || !*zUser || strlen(zUser) > IDX_USER_MAX || strlen(zPass) > 1024) {
        json_decref(pBody);
        return idx_resp_error(o, PS_INVALID, "登录须提交 {\"user\": \"用户名\", \"password\": \"密码\"}", "user", 0, "body", 0);
    }
    idx_caller w;
    long wait = 0;
    int rc = idx_auth_login(s->pAuth, zUser, zPass, r->zClient, &w, zSid, &wait);
    json_decref(pBody);
    /* a client that guesses passwords must not flood the log */
    static idx_log_rate rate = IDX_LOG_RATE_INIT;
    if (rc == PS_TOO_MANY) {
        if (idx_log_allow(&rate, LOGIN_LOG_PER_S, "login"))
            IDX_LOG(IDX_LOG_WARN, 0, "login refused: too many failures (wait %ld s)", wait);
        return idx_resp_refuse(o, rc, "登录失败次数过多，请稍后再试", wait);
    }
    if (rc != PS_OK) {
        if (idx_log_allow(&rate, LOGIN_LOG_PER_S, "login"))
            IDX_LOG(IDX_LOG_WARN, 0, "login failed for a user name from %s", r->zClient);
        return idx_resp_refuse(o, PS_UNAUTHORIZED, "用户名或密码错误", 0);
    }
    IDX_LOG(IDX_LOG_INFO, 0, "login: %s (%s) from %s", w.zUser, idx_role_name(w.role), r->zClient);
    snprintf(zSet, sizeof zSet, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", zCookie, zSid, s->sessionSec,
             s->cookieSecure ? "; Secure" : "");
    idx_resp_json(o, 200, me_json(&w));
    rc = idx_resp_header(o, "Set-Cookie", zSet);
    /* the session id lives on in the answer only */
    sodium_memzero(zSid, sizeof zSid);
    sodium_memzero(zSet, sizeof zSet);
    sodium_memzero(&w, sizeof w);
    return rc;
}

int idx_h_logout(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zSet[128];
    if (r->pCaller->session) idx_auth_logout(s->pAuth, idx_req_cookie(r, zCookie));
    snprintf(zSet, sizeof zSet, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", zCookie,
             s->cookieSecure ? "; Secure" : "");
    idx_resp_json(o, 200, json_pack("{s:b}", "logged_out", 1));
    return idx_resp_header(o, "Set-Cookie", zSet);
}

int idx_h_purpose(idx_srv *s, idx_req *r, idx_resp *o)
{
    if (!r->pCaller->session)
        return idx_resp_error(o, PS_INVALID, "API 令牌的利用目的在生成令牌时用 --purpose 写明，或在查看时附上 ?purpose=…",
                              NULL, 0, NULL, 0);
    json_t *pBody = idx_req_json(r, o);
    if (!pBody) return PS_OK;
    const char *z = json_string_value(json_object_get(pBody, "purpose"));
    if (!idx_purpose_ok(z)) {
        json_decref(pBody);
        return idx_resp_error(o, PS_INVALID, "利用目的（purpose）须为 1 至 100 个字符，不含控制字符", "purpose", 0, "body", 0);
    }
    int rc = idx_auth_set_purpose(s->pAuth, idx_req_cookie(r, zCookie), z);
    json_t *pOut = rc == PS_OK ? json_pack("{s:s}", "purpose", z) : NULL;
    json_decref(pBody);
    if (rc != PS_OK) return idx_resp_refuse(o, rc, "会话已结束，请重新登录", 0);
    return idx_resp_json(o, 200, pOut);
}
