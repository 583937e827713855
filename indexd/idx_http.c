/* HTTP server: request bodies, routing, JSON answers. */
#include "idx_http.h"
#include "idx_audit.h"
#include "idx_auth.h"
#include "idx_register.h"
#include "idx_csv.h"
#include "idx_timed.h"
#include "idx_delivery.h"
#include "idx_export.h"
#include "idx_report.h"
#include "idx_log.h"
#include "idx_mask.h"
#include "idx_pages.h"
#include "idx_search.h"
#include "idx_time.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_msg.h"
#include "proto_status.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE_TEXT_MAX (1u << 20)  /* bytes of one page's JSON */
#define SEARCH_LIMIT_MAX 100
#define SEARCH_OFFSET_MAX 100000

struct idx_http {
    struct MHD_Daemon *pDaemon;
    idx_index *pIdx;
    size_t maxBody;
    unsigned facetCheck;
    atomic_int nInFlight;
    char *zWebDir;
    char *zDataDir;
    idx_auth *pAuth;
    idx_register *pReg;
    char *zApprovalCats;   /* ",FH,XX," */
    int approvalClassified;
    long approvalDays;
    long sessionSec;
    int cookieSecure;
};

typedef struct {
    char *z;
    size_t n, nAlloc;
    int tooBig;
    int answered;  /* refused before the body was read: drop the body */
    size_t cap;    /* largest body of this route */
    double t0;
} req_ctx;


static enum MHD_Result method_not_allowed(struct MHD_Connection *c, const char *zAllow);

/* ---- answers -------------------------------------------------------- */

static enum MHD_Result send_body(struct MHD_Connection *c, unsigned http, char *z, size_t n,
                                 const char *zType)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(n, z, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(z);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, zType);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(c, http, r);
    MHD_destroy_response(r);
    return ret;
}

/* A JSON answer (releases o), not cached, for the caller to add headers
 * to and queue; NULL when out of memory. */
static struct MHD_Response *json_response(json_t *o)
{
    char *z = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!z) return NULL;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(z), z, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(z);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    return r;
}

/* Sends and releases o. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned http, json_t *o)
{
    char *z = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4)) : NULL;
    json_decref(o);
    if (!z) {
        static const char zOom[] = "{\"error\":{\"status\":\"nomem\",\"code\":1,\"message\":\"out of memory\"}}";
        char *zCopy = malloc(sizeof zOom);
        if (!zCopy) return MHD_NO;
        memcpy(zCopy, zOom, sizeof zOom);
        return send_body(c, 500, zCopy, sizeof zOom - 1, "application/json; charset=utf-8");
    }
    return send_body(c, http, z, strlen(z), "application/json; charset=utf-8");
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *zMsg,
                                  const char *zField, long line, const char *zParam, unsigned offset)
{
    return send_json(c, (unsigned)proto_status_http(status),
                     proto_error_body(status, zMsg, zField, line, zParam, offset));
}

/* ---- helpers -------------------------------------------------------- */

/* Canonical 档号 from a path segment, or an error answer. */
static int path_code(struct MHD_Connection *c, const char *z, size_t n, proto_code *pCode,
                     enum MHD_Result *pRet)
{
    char zCode[PROTO_CODE_MAX * 2], zMsg[256];
    if (n >= sizeof zCode) {
        *pRet = send_error(c, PS_INVALID, "档号 in the path is too long", NULL, 0, "code", 0);
        return -1;
    }
    memcpy(zCode, z, n);
    zCode[n] = 0;
    if (!proto_utf8_valid(zCode, n)) {
        *pRet = send_error(c, PS_ENCODING, "档号 in the path is not UTF-8 (percent-encode its UTF-8 bytes)", NULL, 0, "code", 0);
        return -1;
    }
    if (proto_code_parse(zCode, pCode, zMsg, sizeof zMsg) != PS_OK) {
        *pRet = send_error(c, PS_INVALID, zMsg, "档号", 0, "code", 0);
        return -1;
    }
    return 0;
}

static json_t *load_body(struct MHD_Connection *c, req_ctx *r, enum MHD_Result *pRet)
{
    json_error_t je;
    char zMsg[300];
    json_t *o = json_loadb(r->z ? r->z : "", r->n, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(zMsg, sizeof zMsg, "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        *pRet = send_error(c, PS_INVALID, zMsg, NULL, je.line, "body", 0);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        *pRet = send_error(c, PS_INVALID, "the body must be a JSON object", NULL, 0, "body", 0);
        return NULL;
    }
    return o;
}

static int commit(idx_http *h, struct MHD_Connection *c, enum MHD_Result *pRet)
{
    char zErr[256];
    int rc = idx_index_commit(h->pIdx, zErr, sizeof zErr);
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "commit failed: %s", zErr);
        *pRet = send_error(c, rc, zErr, NULL, 0, NULL, 0);
        return -1;
    }
    return 0;
}

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
    json_t *o = json_object();
    if (!o) return PS_NOMEM;
    if (!json_is_array(a)) {
        snprintf(zErr, nErr, "page_texts must be an array of {\"n\":…,\"text\":…}");
        json_decref(o);
        return PS_INVALID;
    }
    json_array_foreach(a, i, pPage) {
        json_t *pN = json_object_get(pPage, "n"), *pT = json_object_get(pPage, "text");
        if (!json_is_integer(pN) || json_integer_value(pN) < 1 || json_integer_value(pN) > IDX_PAGE_MAX || !json_is_string(pT)) {
            snprintf(zErr, nErr, "page_texts[%zu] needs \"n\" (1-%u) and \"text\" (a string)", i, IDX_PAGE_MAX);
            json_decref(o);
            return PS_INVALID;
        }
        char zKey[16];
        snprintf(zKey, sizeof zKey, "%lld", (long long)json_integer_value(pN));
        json_t *pCopy = json_deep_copy(pPage);
        if (!pCopy) { json_decref(o); return PS_NOMEM; }
        json_object_del(pCopy, "n");
        json_object_set_new(o, zKey, pCopy);
    }
    *ppOut = o;
    return PS_OK;
}

/* ---- access ------------------------------------------------------- */

static const char zCookie[] = "indexd_session";

/* An answer of status rc with the headers a refusal needs. */
static enum MHD_Result send_refusal(struct MHD_Connection *c, int rc, const char *zMsg, long retryAfter)
{
    struct MHD_Response *r = json_response(proto_error_body(rc, zMsg, NULL, 0, NULL, 0));
    if (!r) return MHD_NO;
    if (rc == PS_UNAUTHORIZED) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"indexd\"");
    if (retryAfter > 0) {
        char zS[24];
        snprintf(zS, sizeof zS, "%ld", retryAfter);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, zS);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)proto_status_http(rc), r);
    MHD_destroy_response(r);
    return ret;
}

/* Who is calling: a Bearer token or the session cookie.  Writes made with
 * the cookie must carry the session's CSRF token. */
static int authenticate(idx_http *h, struct MHD_Connection *c, const char *zMethod, idx_caller *w,
                        enum MHD_Result *pRet)
{
    const char *zAuth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    int rc;
    if (zAuth) {
        rc = strncasecmp(zAuth, "Bearer ", 7) == 0 ? idx_auth_token(h->pAuth, zAuth + 7, w) : PS_UNAUTHORIZED;
        if (rc != PS_OK) {
            *pRet = send_refusal(c, PS_UNAUTHORIZED, "the API token is not valid (revoked, or mistyped)", 0);
            return -1;
        }
        return 0;
    }
    const char *zSid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, zCookie);
    if (!zSid || idx_auth_session(h->pAuth, zSid, w) != PS_OK) {
        *pRet = send_refusal(c, PS_UNAUTHORIZED, zSid ? "the session has ended: log in again" : "log in, or give an API token (Authorization: Bearer …)", 0);
        return -1;
    }
    if (strcmp(zMethod, "GET") != 0 && strcmp(zMethod, "HEAD") != 0 &&
        !idx_caller_csrf_ok(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"))) {
        *pRet = send_refusal(c, PS_FORBIDDEN, "a change made from a browser session needs the session's X-CSRF-Token header", 0);
        return -1;
    }
    return 0;
}

/* Refuse (403) unless the caller's role has one of the rights in perms. */
static int allowed(struct MHD_Connection *c, const idx_caller *w, unsigned perms, enum MHD_Result *pRet)
{
    if (w->perms & perms) return 1;
    char zMsg[160];
    snprintf(zMsg, sizeof zMsg, "the role %s (%s) may not do this", idx_role_name(w->role), idx_role_cn(w->role));
    *pRet = send_refusal(c, PS_FORBIDDEN, zMsg, 0);
    return 0;
}

/* Is the record hidden from the caller by its 密级? */
static int hidden(const idx_caller *w, const json_t *pRec)
{
    int level = idx_clearance_level(json_string_value(json_object_get(pRec, "classification")));
    return level < 0 || level > w->clearance;  /* an unknown 密级: hidden */
}

/* hidden() by 档号, as the reports ask it (idx_hidden_fn). */
typedef struct {
    idx_http *h;
    const idx_caller *w;
} hidden_ctx;

static int hidden_code(void *ctx, const char *zCode)
{
    hidden_ctx *x = ctx;
    int rcGet;
    char zE[256];
    json_t *pData = idx_index_get(x->h->pIdx, zCode, &rcGet, zE, sizeof zE);
    int hide = pData && hidden(x->w, json_object_get(pData, "r"));
    json_decref(pData);
    return hide;
}

static int needs_approval(const idx_http *h, const json_t *pRec)
{
    const char *zCat = json_string_value(json_object_get(pRec, "category"));
    const char *zCls = json_string_value(json_object_get(pRec, "classification"));
    if (h->approvalClassified && zCls && *zCls && strcmp(zCls, "公开") != 0) return 1;
    if (zCat && *zCat && h->zApprovalCats) {
        char zKey[80];
        snprintf(zKey, sizeof zKey, ",%s,", zCat);
        if (strstr(h->zApprovalCats, zKey)) return 1;
    }
    return 0;
}

static void mask_for(const idx_caller *w, json_t *o)
{
    if (!w->ids) idx_mask_json(o);
}

/* Searching by a full ID number would let a caller who may not see ID
 * numbers confirm them one guess at a time: refused for them. */
static int id_query_refused(struct MHD_Connection *c, const idx_caller *w, const char *zQ, enum MHD_Result *pRet)
{
    if (w->ids || !zQ || !*zQ || !idx_mask_query_refused(zQ)) return 0;
    *pRet = send_refusal(c, PS_FORBIDDEN, "searching by 身份证号 needs the right to see ID numbers; search by name or 档号", 0);
    return 1;
}

/* A purpose given with the request (?purpose=…) replaces the session's. */
static int take_purpose(struct MHD_Connection *c, idx_caller *w, enum MHD_Result *pRet)
{
    const char *z = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "purpose");
    if (!z || !*z) return 0;
    size_t n = strlen(z);
    if (n > IDX_PURPOSE_MAX || !proto_utf8_valid(z, n) || proto_utf8_count(z, n) > 100) {
        *pRet = send_error(c, PS_INVALID, "purpose is 1-100 characters of UTF-8", NULL, 0, "purpose", 0);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)z[i] < ' ') {
            *pRet = send_error(c, PS_INVALID, "purpose has a control character", NULL, 0, "purpose", 0);
            return -1;
        }
    snprintf(w->zPurpose, sizeof w->zPurpose, "%s", z);
    return 0;
}

/* May the caller open this record's text and images?  *pApproval gets the
 * approval that allows it (0: none needed). */
static int view_ok(idx_http *h, struct MHD_Connection *c, const idx_caller *w, const json_t *pRec,
                   const char *zCode, int needPurpose, long *pApproval, enum MHD_Result *pRet)
{
    char zMsg[300];
    *pApproval = 0;
    if (!allowed(c, w, IDX_CAN_VIEW, pRet)) return 0;
    if (needs_approval(h, pRec) && !(w->perms & IDX_CAN_APPROVE)) {
        const char *zState = idx_approval_status(h->pReg, w->zUser, zCode, pApproval);
        if (strcmp(zState, "approved") != 0) {
            snprintf(zMsg, sizeof zMsg, "record %s needs an approval before viewing (yours: %s); request one with POST /api/v1/approvals",
                     zCode, zState);
            *pRet = send_refusal(c, PS_APPROVAL, zMsg, 0);
            return 0;
        }
    }
    if (needPurpose && !w->zPurpose[0]) {
        *pRet = send_refusal(c, PS_PURPOSE, "give the purpose of use first (PUT /api/v1/me/purpose, or ?purpose=…)", 0);
        return 0;
    }
    return 1;
}

/* Write the use to the register; refuse the view if it cannot be kept. */
static int registered(idx_http *h, struct MHD_Connection *c, const idx_caller *w, const idx_use *u,
                      enum MHD_Result *pRet)
{
    char zErr[512];
    int rc = idx_register_append(h->pReg, w, u, zErr, sizeof zErr);
    if (rc == PS_OK) return 1;
    IDX_LOG(IDX_LOG_ERROR, 0, "use register: %s", zErr);
    *pRet = send_error(c, rc, "the use register cannot be written; the view is refused", NULL, 0, NULL, 0);
    return 0;
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

static enum MHD_Result send_with_cookie(struct MHD_Connection *c, json_t *o, const char *zCookieVal)
{
    struct MHD_Response *r = json_response(o);
    if (!r) return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, zCookieVal);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static void client_addr(struct MHD_Connection *c, char *z, size_t n)
{
    const union MHD_ConnectionInfo *pI = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    z[0] = 0;
    if (!pI || !pI->client_addr) return;
    const struct sockaddr *sa = pI->client_addr;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, z, (socklen_t)n);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, z, (socklen_t)n);
}

static enum MHD_Result h_login(idx_http *h, struct MHD_Connection *c, req_ctx *r)
{
    enum MHD_Result ret;
    char zAddr[64], zSid[IDX_SID_LEN + 1], zSet[256];
    json_t *o = load_body(c, r, &ret);
    if (!o) return ret;
    const char *zUser = json_string_value(json_object_get(o, "user"));
    const char *zPass = json_string_value(json_object_get(o, "password"));
    if (!zUser || !zPass || !*zUser || strlen(zUser) > IDX_USER_MAX || strlen(zPass) > 1024) {
        json_decref(o);
        return send_error(c, PS_INVALID, "log in with {\"user\": \"…\", \"password\": \"…\"}", "user", 0, "body", 0);
    }
    idx_caller w;
    long wait = 0;
    client_addr(c, zAddr, sizeof zAddr);
    int rc = idx_auth_login(h->pAuth, zUser, zPass, zAddr, &w, zSid, &wait);
    if (rc == PS_TOO_MANY) {
        IDX_LOG(IDX_LOG_WARN, 0, "login refused: too many failures (name or address locked for %ld s)", wait);
        json_decref(o);
        return send_refusal(c, rc, "too many failed logins: wait before trying again", wait);
    }
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_WARN, 0, "login failed for a user name from %s", zAddr);
        json_decref(o);
        return send_refusal(c, PS_UNAUTHORIZED, "wrong user name or password", 0);
    }
    json_decref(o);
    IDX_LOG(IDX_LOG_INFO, 0, "login: %s (%s) from %s", w.zUser, idx_role_name(w.role), zAddr);
    snprintf(zSet, sizeof zSet, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s", zCookie, zSid, h->sessionSec,
             h->cookieSecure ? "; Secure" : "");
    return send_with_cookie(c, me_json(&w), zSet);
}

static enum MHD_Result h_logout(idx_http *h, struct MHD_Connection *c, const idx_caller *w)
{
    char zSet[128];
    if (w->session) idx_auth_logout(h->pAuth, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, zCookie));
    snprintf(zSet, sizeof zSet, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s", zCookie, h->cookieSecure ? "; Secure" : "");
    return send_with_cookie(c, json_pack("{s:b}", "logged_out", 1), zSet);
}

static enum MHD_Result h_purpose(idx_http *h, struct MHD_Connection *c, req_ctx *r, const idx_caller *w)
{
    enum MHD_Result ret;
    if (!w->session)
        return send_error(c, PS_INVALID, "an API token carries its purpose (indexd users token --purpose) or pass ?purpose=… with a view",
                          NULL, 0, NULL, 0);
    json_t *o = load_body(c, r, &ret);
    if (!o) return ret;
    const char *z = json_string_value(json_object_get(o, "purpose"));
    size_t n = z ? strlen(z) : 0;
    int bad = !n || n > IDX_PURPOSE_MAX || proto_utf8_count(z, n) > 100;
    for (size_t i = 0; !bad && i < n; i++) bad = (unsigned char)z[i] < ' ';
    if (bad) {
        json_decref(o);
        return send_error(c, PS_INVALID, "purpose is 1-100 characters without control characters", "purpose", 0, "body", 0);
    }
    int rc = idx_auth_set_purpose(h->pAuth, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, zCookie), z);
    json_t *pOut = rc == PS_OK ? json_pack("{s:s}", "purpose", z) : NULL;
    json_decref(o);
    if (rc != PS_OK) return send_refusal(c, rc, "the session has ended: log in again", 0);
    return send_json(c, 200, pOut);
}

/* The record of a 档号 as the caller may see it (catalog fields), or NULL
 * after a 404 (absent, or above the caller's clearance). */
static json_t *visible_record(idx_http *h, struct MHD_Connection *c, const idx_caller *w, const proto_code *code,
                              enum MHD_Result *pRet)
{
    char zErr[512];
    int rc;
    json_t *pData = idx_index_get(h->pIdx, code->zCanonical, &rc, zErr, sizeof zErr);
    if (pData && hidden(w, json_object_get(pData, "r"))) {
        json_decref(pData);
        pData = NULL;
        rc = PS_NOT_FOUND;
    }
    if (!pData) {
        if (rc == PS_NOT_FOUND) snprintf(zErr, sizeof zErr, "no record with 档号 %s", code->zCanonical);
        *pRet = send_error(c, rc, zErr, NULL, 0, NULL, 0);
    }
    return pData;
}

static enum MHD_Result h_approvals(idx_http *h, struct MHD_Connection *c, req_ctx *r, const idx_caller *w,
                                   const char *zMethod, const char *zRest)
{
    enum MHD_Result ret;
    char zErr[512];
    json_t *pOut = NULL;
    int rc;
    int get = strcmp(zMethod, "GET") == 0, post = strcmp(zMethod, "POST") == 0;
    if (!*zRest) {
        if (get) {
            if (!allowed(c, w, IDX_CAN_REQUEST | IDX_CAN_APPROVE, &ret)) return ret;
            const char *zStatus = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
            if (zStatus && *zStatus && strcmp(zStatus, "pending") != 0 && strcmp(zStatus, "approved") != 0 &&
                strcmp(zStatus, "denied") != 0 && strcmp(zStatus, "expired") != 0)
                return send_error(c, PS_INVALID, "status must be pending, approved, denied or expired", NULL, 0, "status", 0);
            json_t *a = idx_approval_list(h->pReg, (w->perms & IDX_CAN_APPROVE) ? NULL : w->zUser, zStatus);
            if (a) mask_for(w, a);
            return send_json(c, 200, a ? json_pack("{s:o}", "approvals", a) : NULL);
        }
        if (!post) return method_not_allowed(c, "GET, POST");
        if (!allowed(c, w, IDX_CAN_REQUEST, &ret)) return ret;
        json_t *o = load_body(c, r, &ret);
        if (!o) return ret;
        const char *zCode = json_string_value(json_object_get(o, "code"));
        const char *zPurpose = json_string_value(json_object_get(o, "purpose"));
        if (!zPurpose || !*zPurpose) zPurpose = w->zPurpose;
        proto_code code;
        if (!zCode || path_code(c, zCode, strlen(zCode), &code, &ret) != 0) {
            json_decref(o);
            return zCode ? ret : send_error(c, PS_INVALID, "an approval request needs \"code\" (a 档号)", "code", 0, "body", 0);
        }
        if (!*zPurpose || strlen(zPurpose) > IDX_PURPOSE_MAX || proto_utf8_count(zPurpose, strlen(zPurpose)) > 100) {
            json_decref(o);
            return send_error(c, PS_INVALID, "an approval request needs \"purpose\" (1-100 characters)", "purpose", 0, "body", 0);
        }
        json_t *pData = visible_record(h, c, w, &code, &ret);
        if (!pData) { json_decref(o); return ret; }
        json_t *pRec = json_object_get(pData, "r");
        if (!needs_approval(h, pRec)) {
            json_decref(o);
            json_decref(pData);
            snprintf(zErr, sizeof zErr, "record %s needs no approval", code.zCanonical);
            return send_error(c, PS_INVALID, zErr, "code", 0, "body", 0);
        }
        long id;
        const char *zState = idx_approval_status(h->pReg, w->zUser, code.zCanonical, &id);
        if (strcmp(zState, "pending") == 0 || strcmp(zState, "approved") == 0) {
            /* the open request stands: no second one */
            json_t *a = idx_approval_list(h->pReg, w->zUser, NULL);
            size_t i;
            json_t *x;
            json_array_foreach(a, i, x) if (json_integer_value(json_object_get(x, "id")) == id) pOut = json_incref(x);
            json_decref(a);
            json_decref(o);
            json_decref(pData);
            if (pOut) mask_for(w, pOut);
            return send_json(c, 200, pOut);
        }
        rc = idx_approval_request(h->pReg, w, code.zCanonical, json_string_value(json_object_get(pRec, "title")), zPurpose,
                                  &pOut, zErr, sizeof zErr);
        json_decref(o);
        json_decref(pData);
        if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
        IDX_LOG(IDX_LOG_INFO, 0, "approval %lld requested by %s", (long long)json_integer_value(json_object_get(pOut, "id")), w->zUser);
        mask_for(w, pOut);
        return send_json(c, 201, pOut);
    }
    /* /{id}/decision */
    char *e;
    long id = strtol(zRest + 1, &e, 10);
    if (zRest[0] != '/' || id <= 0 || strcmp(e, "/decision") != 0) return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
    if (!post) return method_not_allowed(c, "POST");
    if (!allowed(c, w, IDX_CAN_APPROVE, &ret)) return ret;
    json_t *o = load_body(c, r, &ret);
    if (!o) return ret;
    json_t *pA = json_object_get(o, "approve");
    const char *zNote = json_string_value(json_object_get(o, "note"));
    if (!json_is_boolean(pA) || (zNote && strlen(zNote) > 1000)) {
        json_decref(o);
        return send_error(c, PS_INVALID, "a decision is {\"approve\": true|false, \"note\": \"…\"}", "approve", 0, "body", 0);
    }
    rc = idx_approval_decide(h->pReg, w, id, json_is_true(pA), zNote, h->approvalDays, &pOut, zErr, sizeof zErr);
    json_decref(o);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    IDX_LOG(IDX_LOG_INFO, 0, "approval %ld %s by %s", id, json_is_true(pA) ? "approved" : "denied", w->zUser);
    mask_for(w, pOut);
    return send_json(c, 200, pOut);
}

/* A write to a record the caller may not see (its 密级 above theirs)
 * answers 404 as a read would; a record written with a 密级 above the
 * caller's clearance is refused.  1 when an answer was queued. */
static int write_refused(idx_http *h, struct MHD_Connection *c, const idx_caller *w, req_ctx *r,
                         const proto_code *code, int putRecord, enum MHD_Result *pRet)
{
    char zErr[512];
    int rc;
    json_t *pData = idx_index_get(h->pIdx, code->zCanonical, &rc, zErr, sizeof zErr);
    int hide = pData && hidden(w, json_object_get(pData, "r"));
    json_decref(pData);
    if (hide) {
        snprintf(zErr, sizeof zErr, "no record with 档号 %s", code->zCanonical);
        *pRet = send_error(c, PS_NOT_FOUND, zErr, NULL, 0, NULL, 0);
        return 1;
    }
    if (putRecord && r->z) {
        json_t *o = json_loadb(r->z, r->n, 0, NULL);
        int above = o && hidden(w, o);
        json_decref(o);
        if (above) {
            *pRet = send_refusal(c, PS_FORBIDDEN, "a record's 密级 cannot be set above your clearance", 0);
            return 1;
        }
    }
    return 0;
}

/* ---- handlers ------------------------------------------------------- */

static enum MHD_Result h_health(idx_http *h, struct MHD_Connection *c)
{
    json_t *o = json_pack("{s:s,s:I,s:s}", "status", "ok", "records",
                          (json_int_t)idx_index_count(h->pIdx), "version", "0.1.0");
    return send_json(c, 200, o);
}

static enum MHD_Result h_catalog(idx_http *h, struct MHD_Connection *c, req_ctx *r)
{
    char zErr[512];
    long line = 0;
    json_t *pOut = NULL;
    const char *zList = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "list");
    int list = zList && strcmp(zList, "0") != 0;
    /* a catalog the audit could not keep is refused before anything is written */
    int rc = idx_catalog_room(h->zDataDir, r->z ? r->z : "", r->n, zErr, sizeof zErr);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, "body", 0);
    rc = idx_csv_import(h->pIdx, r->z ? r->z : "", r->n, list, &pOut, &line, zErr, sizeof zErr);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, line, "body", 0);
    /* kept as it came, for the catalog audit, when a row of it was imported */
    int kept = 0;
    if (idx_catalog_store(h->zDataDir, r->z ? r->z : "", r->n, json_integer_value(json_object_get(pOut, "imported")),
                          &kept, zErr, sizeof zErr) != PS_OK) {
        IDX_LOG(IDX_LOG_WARN, 0, "catalog import: %s", zErr);
        json_object_set_new(pOut, "kept_error", json_string(zErr));
    }
    json_object_set_new(pOut, "kept", json_boolean(kept));
    IDX_LOG(IDX_LOG_INFO, 0, "catalog import: %lld imported, %lld rejected",
            (long long)json_integer_value(json_object_get(pOut, "imported")),
            (long long)json_integer_value(json_object_get(pOut, "rejected_count")));
    return send_json(c, 200, pOut);
}

/* A bulk write: every line checked first, the good ones written together
 * (each shard's share by its own thread), then committed. */
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

static enum MHD_Result h_bulk(idx_http *h, struct MHD_Connection *c, req_ctx *r)
{
    json_t *pRejected = json_array();
    unsigned long nImported = 0, nReplaced = 0, nRejected = 0;
    bulk_row *aRow = NULL;
    idx_put_item *aItem = NULL;
    size_t nRow = 0, nAlloc = 0;
    char zErr[512];
    long line = 0;
    size_t i = 0;
    int rc = PS_OK;
    if (!pRejected) return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    while (i < r->n && rc == PS_OK) {
        const char *z = r->z + i;
        const char *e = memchr(z, '\n', r->n - i);
        size_t len = e ? (size_t)(e - z) : r->n - i;
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
        json_t *o = json_loadb(z, len, JSON_REJECT_DUPLICATES, &je);
        if (!o || !json_is_object(o)) {
            snprintf(zErr, sizeof zErr, o ? "the line is not a JSON object" : "not valid JSON: %s (column %d)", je.text, je.column);
            report_row(pRejected, line, -1, zErr);
            nRejected++;
            json_decref(o);
            continue;
        }
        json_t *pTexts = json_object_get(o, "page_texts");
        int rcRow = PS_OK;
        if (pTexts) {
            rcRow = pages_from_array(pTexts, &b->pPages, prob.zReason, sizeof prob.zReason);
            prob.field = -1;
            json_object_del(o, "page_texts");
        }
        if (rcRow == PS_OK) rcRow = proto_record_from_json(&b->rec, o, &prob);
        if (rcRow == PS_OK) rcRow = proto_record_check(&b->rec, &prob, NULL, 0, NULL);
        json_decref(o);
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
    if (rc == PS_OK && nRow > 0) {
        for (size_t k = 0; k < nRow; k++) {
            aItem[k].r = &aRow[k].rec;
            aItem[k].pPages = aRow[k].pPages;
        }
        /* ?commit=0: the loader does not need to read its writes at once;
         * they are committed in larger groups (commit_every) or when the
         * writes stop (commit_delay_ms). */
        const char *zCommit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "commit");
        int now = !(zCommit && strcmp(zCommit, "0") == 0);
        rc = idx_index_put_batch(h->pIdx, aItem, nRow, now, zErr, sizeof zErr);
        for (size_t k = 0; k < nRow && rc == PS_OK; k++) {
            nImported++;
            nReplaced += aItem[k].replaced != 0;
        }
    }
    bulk_free(aRow, aItem, nRow);
    if (rc != PS_OK) {
        json_decref(pRejected);
        if (rc == PS_NOMEM) snprintf(zErr, sizeof zErr, "out of memory");
        IDX_LOG(IDX_LOG_ERROR, 0, "bulk write failed: %s", zErr);
        return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    }
    return send_json(c, 200, json_pack("{s:I,s:I,s:I,s:o}", "imported", (json_int_t)nImported,
                                       "replaced", (json_int_t)nReplaced, "rejected_count",
                                       (json_int_t)nRejected, "rejected", pRejected));
}

static enum MHD_Result h_record_get(idx_http *h, struct MHD_Connection *c, const idx_caller *w,
                                    const proto_code *code)
{
    enum MHD_Result ret;
    json_t *pData = visible_record(h, c, w, code, &ret);
    if (!pData) return ret;
    json_t *pOut = json_deep_copy(json_object_get(pData, "r"));
    if (!pOut) {
        json_decref(pData);
        return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    }
    mask_for(w, pOut);
    {
        /* what the caller may open */
        int need = needs_approval(h, pOut) && !(w->perms & IDX_CAN_APPROVE);
        long id = 0;
        const char *zState = need ? idx_approval_status(h->pReg, w->zUser, code->zCanonical, &id) : "none";
        int text = (w->perms & IDX_CAN_VIEW) && (!need || strcmp(zState, "approved") == 0);
        json_t *pA = json_pack("{s:b,s:s}", "required", need, "status", zState);
        if (pA && id) json_object_set_new(pA, "id", json_integer(id));
        json_object_set_new(pOut, "access", json_pack("{s:b,s:o}", "text", text, "approval", pA ? pA : json_null()));
    }
    json_t *pNums = json_array();
    const char *zKey;
    json_t *v;
    json_object_foreach(json_object_get(pData, "p"), zKey, v) {
        json_array_append_new(pNums, json_integer(strtol(zKey, NULL, 10)));
    }
    /* Page keys come in insertion order; sort for the client. */
    size_t n = json_array_size(pNums);
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && json_integer_value(json_array_get(pNums, b - 1)) > json_integer_value(json_array_get(pNums, b)); b--) {
            json_t *x = json_incref(json_array_get(pNums, b - 1));
            json_array_set(pNums, b - 1, json_array_get(pNums, b));
            json_array_set_new(pNums, b, x);
        }
    json_object_set_new(pOut, "stored_pages", pNums);
    json_decref(pData);
    return send_json(c, 200, pOut);
}

static enum MHD_Result h_record_put(idx_http *h, struct MHD_Connection *c, req_ctx *r,
                                    const proto_code *code)
{
    enum MHD_Result ret;
    proto_record rec;
    proto_problem prob;
    char zErr[512];
    int replaced = 0;
    json_t *o = load_body(c, r, &ret);
    if (!o) return ret;
    proto_record_init(&rec);
    int rc = proto_record_from_json(&rec, o, &prob);
    json_decref(o);
    if (rc == PS_OK && rec.az[PF_CODE]) {
        proto_code other;
        if (proto_code_parse(rec.az[PF_CODE], &other, zErr, sizeof zErr) != PS_OK ||
            strcmp(other.zCanonical, code->zCanonical) != 0) {
            proto_record_clear(&rec);
            return send_error(c, PS_INVALID, "the code in the body is not the 档号 of the path", "code", 0, NULL, 0);
        }
    }
    if (rc == PS_OK) rc = proto_record_set(&rec, PF_CODE, code->zCanonical, strlen(code->zCanonical));
    if (rc == PS_OK) rc = proto_record_check(&rec, &prob, NULL, 0, NULL);
    if (rc != PS_OK) {
        proto_record_clear(&rec);
        return send_error(c, rc, prob.zReason, prob.field >= 0 ? proto_field_key(prob.field) : NULL, 0, NULL, 0);
    }
    rc = idx_index_put(h->pIdx, &rec, NULL, &replaced, zErr, sizeof zErr);
    proto_record_clear(&rec);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    if (commit(h, c, &ret) != 0) return ret;
    return send_json(c, replaced ? 200 : 201, json_pack("{s:s,s:b}", "code", code->zCanonical, "replaced", replaced));
}

static enum MHD_Result h_record_delete(idx_http *h, struct MHD_Connection *c, const proto_code *code)
{
    char zErr[256];
    enum MHD_Result ret;
    int rc = idx_index_delete(h->pIdx, code->zCanonical, zErr, sizeof zErr);
    if (rc == PS_NOT_FOUND) snprintf(zErr, sizeof zErr, "no record with 档号 %s", code->zCanonical);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    if (commit(h, c, &ret) != 0) return ret;
    idx_page_image_remove_all(h->zDataDir, code->zCanonical);
    return send_json(c, 200, json_pack("{s:s,s:b}", "code", code->zCanonical, "deleted", 1));
}

/* "3", "3/image" or "3/boxes": the number, and the rest in *pzRest. */
static int parse_page_no(const char *z, unsigned *pN, const char **pzRest)
{
    char *e;
    if (!*z || *z < '0' || *z > '9') return -1;
    unsigned long v = strtoul(z, &e, 10);
    if ((*e && *e != '/') || v < 1 || v > IDX_PAGE_MAX) return -1;
    *pN = (unsigned)v;
    *pzRest = e;
    return 0;
}

/* The stored JSON of page n of a record (yours), or NULL after an error answer. */
static json_t *stored_page(idx_http *h, struct MHD_Connection *c, const idx_caller *w, const proto_code *code,
                           unsigned n, int needPurpose, idx_use *pUse, json_t **ppData, enum MHD_Result *pRet)
{
    char zErr[512];
    json_t *pData = visible_record(h, c, w, code, pRet);
    if (!pData) return NULL;
    json_t *pRec = json_object_get(pData, "r");
    memset(pUse, 0, sizeof *pUse);
    if (!view_ok(h, c, w, pRec, code->zCanonical, needPurpose, &pUse->approval, pRet)) {
        json_decref(pData);
        return NULL;
    }
    pUse->zCode = code->zCanonical;
    pUse->page = n;
    char zKey[16];
    *ppData = NULL;
    snprintf(zKey, sizeof zKey, "%u", n);
    json_t *pPage = json_object_get(json_object_get(pData, "p"), zKey);
    if (!pPage) {
        json_decref(pData);
        snprintf(zErr, sizeof zErr, "record %s has no text for page %u", code->zCanonical, n);
        *pRet = send_error(c, PS_NOT_FOUND, zErr, NULL, 0, "page", 0);
        return NULL;
    }
    json_incref(pPage);
    /* the record stays with the caller while the use is written (its title) */
    pUse->zTitle = json_string_value(json_object_get(pRec, "title"));
    *ppData = pData;
    return pPage;
}

static enum MHD_Result h_page_image(idx_http *h, struct MHD_Connection *c, req_ctx *r, const idx_caller *w, int put,
                                    const proto_code *code, unsigned n)
{
    char zErr[512], zPath[4400];
    const char *zType;
    int rc;
    enum MHD_Result ret;
    if (put && !allowed(c, w, IDX_CAN_IMPORT, &ret)) return ret;
    if (put) {
        json_t *pData = idx_index_get(h->pIdx, code->zCanonical, &rc, zErr, sizeof zErr);
        if (!pData) {
            if (rc == PS_NOT_FOUND) snprintf(zErr, sizeof zErr, "no record with 档号 %s", code->zCanonical);
            return send_error(c, rc, zErr, NULL, 0, NULL, 0);
        }
        json_decref(pData);
        rc = idx_page_image_put(h->zDataDir, code->zCanonical, n, r->z ? r->z : "", r->n, zErr, sizeof zErr);
        if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, "body", 0);
        return send_json(c, 200, json_pack("{s:s,s:i,s:I}", "code", code->zCanonical, "page", (int)n,
                                           "bytes", (json_int_t)r->n));
    }
    json_t *pData = visible_record(h, c, w, code, &ret);
    if (!pData) return ret;
    idx_use use = {code->zCanonical, NULL, "image", n, 0};
    if (!view_ok(h, c, w, json_object_get(pData, "r"), code->zCanonical, 1, &use.approval, &ret)) {
        json_decref(pData);
        return ret;
    }
    if (idx_page_image_path(h->zDataDir, code->zCanonical, n, zPath, sizeof zPath, &zType) != PS_OK) {
        json_decref(pData);
        snprintf(zErr, sizeof zErr, "record %s has no image of page %u", code->zCanonical, n);
        return send_error(c, PS_NOT_FOUND, zErr, NULL, 0, "page", 0);
    }
    use.zTitle = json_string_value(json_object_get(json_object_get(pData, "r"), "title"));
    char *zRedacted = NULL;
    size_t nRedacted = 0;
    if (!w->ids) {
        /* ID numbers the page's text holds are blacked out on the scan too */
        char zKey[16];
        snprintf(zKey, sizeof zKey, "%u", n);
        rc = idx_page_image_redacted(zPath, json_object_get(json_object_get(pData, "p"), zKey), &zRedacted, &nRedacted);
        if (rc != PS_OK) {
            json_decref(pData);
            return send_error(c, rc, "cannot prepare the page image", NULL, 0, NULL, 0);
        }
    }
    int ok = registered(h, c, w, &use, &ret);
    json_decref(pData);
    if (!ok) {
        free(zRedacted);
        return ret;
    }
    if (zRedacted) return send_body(c, 200, zRedacted, nRedacted, zType);
    int fd = open(zPath, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return send_error(c, PS_IO, "cannot read the page image", NULL, 0, NULL, 0);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, zType);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* not cached: every view comes here and is written to the register */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result h_page_boxes(idx_http *h, struct MHD_Connection *c, const idx_caller *w,
                                    const proto_code *code, unsigned n)
{
    idx_use use;
    enum MHD_Result ret;
    char zErr[512];
    int rc;
    unsigned offset = 0;
    const char *zQ = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    if (!zQ || !*zQ) return send_error(c, PS_INVALID, "boxes need a query: ?q=…", NULL, 0, "q", 0);
    if (id_query_refused(c, w, zQ, &ret)) return ret;
    json_t *pData;
    json_t *pPage = stored_page(h, c, w, code, n, 0, &use, &pData, &ret);
    if (!pPage) return ret;
    json_decref(pData);
    json_t *pOut = idx_page_boxes(pPage, zQ, &rc, &offset, zErr, sizeof zErr);
    json_decref(pPage);
    if (!pOut) return send_error(c, rc, rc == PS_NOMEM ? NULL : zErr, NULL, 0, "q", offset);
    json_object_set_new(pOut, "code", json_string(code->zCanonical));
    json_object_set_new(pOut, "page", json_integer(n));
    return send_json(c, 200, pOut);
}

static enum MHD_Result h_page(idx_http *h, struct MHD_Connection *c, req_ctx *r, const idx_caller *w,
                              const char *zMethod, const proto_code *code, const char *zPage)
{
    unsigned n;
    char zErr[512];
    enum MHD_Result ret;
    int rc;
    const char *zRest = "";
    if (parse_page_no(zPage, &n, &zRest) != 0) {
        snprintf(zErr, sizeof zErr, "the page number must be a number from 1 to %u", IDX_PAGE_MAX);
        return send_error(c, PS_INVALID, zErr, NULL, 0, "page", 0);
    }
    int get = strcmp(zMethod, "GET") == 0;
    if (strcmp(zRest, "/image") == 0) {
        if (!get && strcmp(zMethod, "PUT") != 0) return method_not_allowed(c, "GET, PUT");
        return h_page_image(h, c, r, w, !get, code, n);
    }
    if (strcmp(zRest, "/boxes") == 0) return get ? h_page_boxes(h, c, w, code, n) : method_not_allowed(c, "GET");
    if (*zRest) return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
    if (!get && strcmp(zMethod, "PUT") != 0) return method_not_allowed(c, "GET, PUT");
    if (get) {
        idx_use use;
        json_t *pData;
        json_t *pPage = stored_page(h, c, w, code, n, 1, &use, &pData, &ret);
        if (!pPage) return ret;
        json_t *pOut = json_deep_copy(pPage);
        json_decref(pPage);
        if (!pOut) {
            json_decref(pData);
            return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
        }
        json_object_set_new(pOut, "code", json_string(code->zCanonical));
        json_object_set_new(pOut, "page", json_integer(n));
        use.zKind = "text";
        int ok = registered(h, c, w, &use, &ret);
        json_decref(pData);
        if (!ok) {
            json_decref(pOut);
            return ret;
        }
        mask_for(w, pOut);
        return send_json(c, 200, pOut);
    }
    if (!allowed(c, w, IDX_CAN_IMPORT, &ret)) return ret;
    if (r->n > PAGE_TEXT_MAX) {
        snprintf(zErr, sizeof zErr, "a page is limited to %u bytes; this one has %zu", PAGE_TEXT_MAX, r->n);
        return send_error(c, PS_TOO_BIG, zErr, NULL, 0, "body", 0);
    }
    const char *zType = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    json_t *pPage;
    if (zType && strncmp(zType, "text/plain", 10) == 0) {
        if (!proto_utf8_valid(r->z ? r->z : "", r->n))
            return send_error(c, PS_ENCODING, "the page text is not UTF-8", NULL, 0, "body", 0);
        pPage = json_object();
        if (pPage) json_object_set_new(pPage, "text", json_stringn(r->z ? r->z : "", r->n));
    } else {
        if (!(pPage = load_body(c, r, &ret))) return ret;
        json_t *pText = json_object_get(pPage, "text");
        if (!json_is_string(pText)) {
            json_decref(pPage);
            return send_error(c, PS_INVALID, "the page needs \"text\", a string", "text", 0, NULL, 0);
        }
        json_object_del(pPage, "code");
        json_object_del(pPage, "page");
    }
    if (!pPage) return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    int replaced = 0;
    rc = idx_index_put_page(h->pIdx, code->zCanonical, n, pPage, &replaced, zErr, sizeof zErr);
    json_decref(pPage);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    if (commit(h, c, &ret) != 0) return ret;
    return send_json(c, replaced ? 200 : 201,
                     json_pack("{s:s,s:i,s:b}", "code", code->zCanonical, "page", (int)n, "replaced", replaced));
}

typedef struct {
    idx_search_req *pReq;
    const char *zBadParam;
    char zWhy[200];
} arg_state;

static enum MHD_Result collect_arg(void *ctx, enum MHD_ValueKind kind, const char *zKey, const char *zVal)
{
    arg_state *s = ctx;
    (void)kind;
    int f = idx_filter_lookup(zKey);
    if (f < 0) return MHD_YES;
    if (!zVal || !*zVal) return MHD_YES;
    if (s->pReq->anFilter[f] >= IDX_FILTER_MAX) {
        s->zBadParam = zKey;
        snprintf(s->zWhy, sizeof s->zWhy, "at most %d values of %s", IDX_FILTER_MAX, zKey);
        return MHD_NO;
    }
    s->pReq->azFilter[f][s->pReq->anFilter[f]++] = zVal;
    return MHD_YES;
}

static int param_uint(struct MHD_Connection *c, const char *zName, unsigned lo, unsigned hi,
                      unsigned dflt, unsigned *pOut)
{
    const char *z = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, zName);
    char *e;
    if (!z || !*z) { *pOut = dflt; return 0; }
    unsigned long v = strtoul(z, &e, 10);
    if (*e || *z == '-' || v < lo || v > hi) return -1;
    *pOut = (unsigned)v;
    return 0;
}

static int valid_year(const char *z)
{
    return z && strlen(z) == 4 && z[0] >= '0' && z[0] <= '9' && z[1] >= '0' && z[1] <= '9' &&
           z[2] >= '0' && z[2] <= '9' && z[3] >= '0' && z[3] <= '9';
}

static enum MHD_Result h_search(idx_http *h, struct MHD_Connection *c, const idx_caller *w)
{
    idx_search_req req;
    arg_state as;
    char zErr[512];
    memset(&req, 0, sizeof req);
    memset(&as, 0, sizeof as);
    as.pReq = &req;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &as);
    if (as.zBadParam) return send_error(c, PS_INVALID, as.zWhy, NULL, 0, as.zBadParam, 0);
    req.zQuery = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
    if (req.zQuery && !proto_utf8_valid(req.zQuery, strlen(req.zQuery)))
        return send_error(c, PS_ENCODING, "q is not UTF-8", NULL, 0, "q", 0);
    enum MHD_Result ret;
    if (id_query_refused(c, w, req.zQuery, &ret)) return ret;
    for (int f = 0; f < IDX_F__COUNT; f++)
        for (int i = 0; i < req.anFilter[f]; i++) {
            if (!proto_utf8_valid(req.azFilter[f][i], strlen(req.azFilter[f][i])))
                return send_error(c, PS_ENCODING, "a filter value is not UTF-8", NULL, 0, idx_filter_name(f), 0);
            if (f == IDX_F_YEAR && !valid_year(req.azFilter[f][i]))
                return send_error(c, PS_INVALID, "year must be 4 digits", NULL, 0, "year", 0);
            if (f == IDX_F_RETENTION) {
                const char *zCode = proto_retention_code(req.azFilter[f][i]);
                if (!zCode) return send_error(c, PS_INVALID, "retention must be Y, D30 or D10 (永久, 30年, 10年)", NULL, 0, "retention", 0);
                req.azFilter[f][i] = zCode;
            }
        }
    req.zYearFrom = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "year_from");
    req.zYearTo = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "year_to");
    if (req.zYearFrom && !*req.zYearFrom) req.zYearFrom = NULL;
    if (req.zYearTo && !*req.zYearTo) req.zYearTo = NULL;
    if (req.zYearFrom && !valid_year(req.zYearFrom))
        return send_error(c, PS_INVALID, "year_from must be 4 digits", NULL, 0, "year_from", 0);
    if (req.zYearTo && !valid_year(req.zYearTo))
        return send_error(c, PS_INVALID, "year_to must be 4 digits", NULL, 0, "year_to", 0);
    const char *zSort = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sort");
    if (!zSort || !*zSort || strcmp(zSort, "relevance") == 0) req.sort = IDX_SORT_RELEVANCE;
    else if (strcmp(zSort, "date") == 0) req.sort = IDX_SORT_DATE;
    else if (strcmp(zSort, "-date") == 0) req.sort = IDX_SORT_DATE_DESC;
    else return send_error(c, PS_INVALID, "sort must be relevance, date or -date", NULL, 0, "sort", 0);
    if (param_uint(c, "offset", 0, SEARCH_OFFSET_MAX, 0, &req.offset) != 0)
        return send_error(c, PS_INVALID, "offset must be a number from 0 to 100000", NULL, 0, "offset", 0);
    if (param_uint(c, "limit", 1, SEARCH_LIMIT_MAX, 20, &req.limit) != 0)
        return send_error(c, PS_INVALID, "limit must be a number from 1 to 100", NULL, 0, "limit", 0);
    unsigned facets;
    if (param_uint(c, "facets", 0, 1, 1, &facets) != 0)
        return send_error(c, PS_INVALID, "facets must be 0 or 1", NULL, 0, "facets", 0);
    req.facets = (int)facets;
    req.facetCheck = h->facetCheck;
    req.restricted = 1;
    req.clearance = w->clearance;
    req.maskIds = !w->ids;
    json_t *pOut = NULL;
    const char *zParam = NULL;
    unsigned offset = 0;
    int rc = idx_search(h->pIdx, &req, &pOut, &zParam, &offset, zErr, sizeof zErr);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, zParam, offset);
    mask_for(w, json_object_get(pOut, "hits"));
    return send_json(c, 200, pOut);
}

/* ---- the timed retrieval test ----------------------------------------- */

/* GET /api/v1/timed-tests/draw?n=5&seed=…&codes=A,B&fonds=…; POST /api/v1/timed-tests */
static enum MHD_Result h_timed(idx_http *h, struct MHD_Connection *c, req_ctx *r, const idx_caller *w,
                               const char *zRest, int post)
{
    char zErr[512];
    enum MHD_Result ret;
    json_t *pOut = NULL;
    int rc;
    if (post) {
        if (*zRest) return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
        json_t *pRun = load_body(c, r, &ret);
        if (!pRun) return ret;
        rc = idx_timed_put(h->zDataDir, pRun, &pOut, zErr, sizeof zErr);
        json_decref(pRun);
        if (rc != PS_OK) return send_error(c, rc, zErr, rc == PS_INVALID ? "trials" : NULL, 0, NULL, 0);
        return send_json(c, 201, pOut);
    }
    if (strcmp(zRest, "/draw") != 0) return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
    unsigned n, seed;
    if (param_uint(c, "n", 1, 100, 5, &n) != 0)
        return send_error(c, PS_INVALID, "n must be a number from 1 to 100", NULL, 0, "n", 0);
    if (param_uint(c, "seed", 0, 4000000000u, 0, &seed) != 0)
        return send_error(c, PS_INVALID, "seed must be a number", NULL, 0, "seed", 0);
    const char *zCodes = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "codes");
    json_t *pCodes = json_array();
    if (!pCodes) return send_error(c, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    for (const char *z = zCodes; z && *z;) {
        size_t k = strcspn(z, ",");
        if (k) json_array_append_new(pCodes, json_stringn(z, k));
        z += k + (z[k] == ',');
    }
    rc = idx_timed_draw(h->pIdx, n, seed, pCodes, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fonds"), w->clearance, &pOut,
                        zErr, sizeof zErr);
    json_decref(pCodes);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, rc == PS_NOMEM ? NULL : "codes", 0);
    mask_for(w, pOut);
    return send_json(c, 200, pOut);
}

/* ---- deliveries and reports ------------------------------------------ */

static enum MHD_Result h_delivery(idx_http *h, struct MHD_Connection *c, req_ctx *r, const char *zName)
{
    char zErr[512];
    enum MHD_Result ret;
    if (!idx_delivery_name_ok(zName))
        return send_error(c, PS_INVALID, "a delivery name is 1-100 letters, digits, Chinese characters, '.', '_' or '-'",
                          NULL, 0, "name", 0);
    if (r->n > IDX_DELIVERY_MAX) return send_error(c, PS_TOO_BIG, "a delivery's account is limited to 64 MiB", NULL, 0, "body", 0);
    json_t *pAcc = load_body(c, r, &ret);
    if (!pAcc) return ret;
    if (!json_is_object(json_object_get(pAcc, "problems")) || !json_is_object(json_object_get(pAcc, "scans"))) {
        json_decref(pAcc);
        return send_error(c, PS_INVALID, "a delivery's account needs \"problems\" and \"scans\" objects (as ingest writes it)",
                          "problems", 0, NULL, 0);
    }
    int rc = idx_delivery_put(h->zDataDir, zName, pAcc, zErr, sizeof zErr);
    json_decref(pAcc);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    return send_json(c, 200, json_pack("{s:s,s:b}", "name", zName, "stored", 1));
}


/* GET /api/v1/reports/{coverage,catalog,ledger}?fonds=…&offset=…&limit=…&format=json|csv|html&encoding=utf-8|gb18030 */
static enum MHD_Result send_export(idx_http *h, struct MHD_Connection *c, const idx_caller *w, idx_report_kind k,
                                   const char *zName, const char *zFonds, json_t *pRep, int fmt, int gb);

/* ?format=json|csv|html (0, 1, 2) and ?encoding=utf-8|gb18030 of a report
 * or the register; -1 after an error answer. */
static int export_format(struct MHD_Connection *c, int *pFmt, int *pGb, enum MHD_Result *pRet)
{
    const char *zFormat = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    const char *zEnc = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "encoding");
    *pFmt = !zFormat || strcmp(zFormat, "json") == 0 ? 0 : strcmp(zFormat, "csv") == 0 ? 1
          : strcmp(zFormat, "html") == 0 ? 2 : -1;
    if (*pFmt < 0) {
        *pRet = send_error(c, PS_INVALID, "format must be json, csv or html", NULL, 0, "format", 0);
        return -1;
    }
    *pGb = zEnc && (strcmp(zEnc, "gb18030") == 0 || strcmp(zEnc, "GB18030") == 0);
    if (zEnc && !*pGb && strcmp(zEnc, "utf-8") != 0 && strcmp(zEnc, "UTF-8") != 0) {
        *pRet = send_error(c, PS_INVALID, "encoding must be utf-8 or gb18030", NULL, 0, "encoding", 0);
        return -1;
    }
    return 0;
}

static enum MHD_Result h_report(idx_http *h, struct MHD_Connection *c, const idx_caller *w, const char *zName)
{
    char zErr[512];
    enum MHD_Result ret;
    idx_report_kind k;
    if (strcmp(zName, "coverage") == 0) k = IDX_REPORT_COVERAGE;
    else if (strcmp(zName, "ledger") == 0) k = IDX_REPORT_LEDGER;
    else if (strcmp(zName, "catalog") == 0) k = IDX_REPORT_CATALOG;
    else if (strcmp(zName, "acceptance") == 0) k = IDX_REPORT_ACCEPTANCE;
    else if (strcmp(zName, "timed-tests") == 0) k = IDX_REPORT_TIMED;
    else return send_error(c, PS_NOT_FOUND, "no such report (coverage, catalog, ledger, acceptance, timed-tests)", NULL, 0, NULL, 0);
    if (!allowed(c, w, k == IDX_REPORT_COVERAGE || k == IDX_REPORT_ACCEPTANCE ? IDX_CAN_VENDOR_REPORTS : IDX_CAN_REPORTS, &ret))
        return ret;
    /* records above the caller's clearance are counted, never described */
    hidden_ctx hc = {h, w};
    idx_report_opts o = {MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fonds"), 0, 0,
                         w->clearance < 5 ? hidden_code : NULL, &hc};
    int fmt, gb;
    if (export_format(c, &fmt, &gb, &ret) != 0) return ret;
    if (o.zFonds && (strlen(o.zFonds) > 16 || strspn(o.zFonds, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != strlen(o.zFonds)))
        return send_error(c, PS_INVALID, "fonds must be a 全宗号: 1-16 letters and digits", NULL, 0, "fonds", 0);
    /* JSON pages the list of records still to digitize; CSV gives it whole, HTML the first 5000. */
    if (param_uint(c, "offset", 0, 100000000, 0, &o.offset) != 0)
        return send_error(c, PS_INVALID, "offset must be a number", NULL, 0, "offset", 0);
    if (param_uint(c, "limit", 1, 100000, 1000, &o.limit) != 0)
        return send_error(c, PS_INVALID, "limit must be a number from 1 to 100000", NULL, 0, "limit", 0);
    /* CSV gives every row; a printed page the first 5000 (with a note). */
    if (fmt != 0) o.offset = 0, o.limit = fmt == 2 ? 5000 : 0;
    json_t *pRep = NULL;
    int rc;
    if (k == IDX_REPORT_ACCEPTANCE) {
        const char *zDel = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "delivery");
        if (fmt != 0 && (!zDel || !*zDel))
            return send_error(c, PS_INVALID, "CSV and HTML need one delivery: ?delivery=…", NULL, 0, "delivery", 0);
        rc = idx_report_acceptance(h->zDataDir, zDel, w->role == IDX_ROLE_ADMIN || w->role == IDX_ROLE_ARCHIVIST, &pRep,
                                   zErr, sizeof zErr);
        if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, rc == PS_NOMEM ? NULL : "delivery", 0);
    } else if (k == IDX_REPORT_TIMED) {
        rc = idx_report_timed(h->zDataDir, &pRep, zErr, sizeof zErr);
        if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    } else {
        rc = k == IDX_REPORT_COVERAGE ? idx_report_coverage(h->pIdx, &o, &pRep, zErr, sizeof zErr)
           : k == IDX_REPORT_CATALOG ? idx_report_catalog(h->pIdx, h->zDataDir, &o, &pRep, zErr, sizeof zErr)
                                     : idx_report_ledger(h->pIdx, &o, &pRep, zErr, sizeof zErr);
        if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    }
    mask_for(w, pRep);
    if (fmt == 0) return send_json(c, 200, pRep);
    return send_export(h, c, w, k, zName, o.zFonds, pRep, fmt, gb);
}

/* A report or the register as CSV or printable HTML; the export is written
 * to the use register first.  Releases pRep. */
static enum MHD_Result send_export(idx_http *h, struct MHD_Connection *c, const idx_caller *w, idx_report_kind k,
                                   const char *zName, const char *zFonds, json_t *pRep, int fmt, int gb)
{
    enum MHD_Result ret;
    char zWhat[96];
    snprintf(zWhat, sizeof zWhat, "%s%s%s.%s", zName, zFonds && *zFonds ? "-" : "", zFonds && *zFonds ? zFonds : "",
             fmt == 1 ? "csv" : "html");
    idx_use use = {zWhat, NULL, "export", 0, 0};
    if (!registered(h, c, w, &use, &ret)) {
        json_decref(pRep);
        return ret;
    }
    char *z = NULL;
    size_t n = 0;
    int rc = fmt == 1 ? idx_export_csv(k, pRep, gb, &z, &n) : idx_export_html(k, pRep, &z, &n);
    json_decref(pRep);
    if (rc != PS_OK) return send_error(c, rc, NULL, NULL, 0, NULL, 0);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, z, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(z);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            fmt == 2 ? "text/html; charset=utf-8" : gb ? "text/csv; charset=gb18030" : "text/csv; charset=utf-8");
    if (fmt == 1) {
        char zDisp[128];
        snprintf(zDisp, sizeof zDisp, "attachment; filename=\"%s\"", zWhat);
        MHD_add_response_header(resp, "Content-Disposition", zDisp);
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* GET /api/v1/register?format=json|csv|html&encoding=&user=&code=&from=&to=&offset=&limit= */
static enum MHD_Result h_register(idx_http *h, struct MHD_Connection *c, const idx_caller *w)
{
    enum MHD_Result ret;
    char zErr[512];
    if (!allowed(c, w, IDX_CAN_REGISTER, &ret)) return ret;
    idx_register_filter f = {MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user"),
                             MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "code"),
                             MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "from"),
                             MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to"), 0, 0};
    const char *azDate[2] = {f.zFrom, f.zTo};
    for (int i = 0; i < 2; i++)
        if (azDate[i] && *azDate[i] && (strlen(azDate[i]) != 8 || strspn(azDate[i], "0123456789") != 8))
            return send_error(c, PS_INVALID, "from and to are dates YYYYMMDD", NULL, 0, i ? "to" : "from", 0);
    int fmt, gb;
    if (export_format(c, &fmt, &gb, &ret) != 0) return ret;
    if (param_uint(c, "offset", 0, 100000000, 0, &f.offset) != 0)
        return send_error(c, PS_INVALID, "offset must be a number", NULL, 0, "offset", 0);
    if (param_uint(c, "limit", 1, 10000, 100, &f.limit) != 0)
        return send_error(c, PS_INVALID, "limit must be a number from 1 to 10000", NULL, 0, "limit", 0);
    if (fmt != 0) f.offset = 0, f.limit = 0;
    json_t *pOut = NULL;
    int rc = idx_register_list(h->pReg, &f, &pOut, zErr, sizeof zErr);
    if (rc != PS_OK) return send_error(c, rc, zErr, NULL, 0, NULL, 0);
    if (w->clearance < 5) {
        /* views of records above the caller's 密级: counted, not described */
        json_t *pSeen = json_object();
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(pOut, "entries"), i, e) {
            const char *zC = json_string_value(json_object_get(e, "code"));
            if (!zC || !*zC || !pSeen) continue;
            json_t *pKnown = json_object_get(pSeen, zC);
            if (!pKnown) {
                int rcGet;
                char zE[256];
                json_t *pData = idx_index_get(h->pIdx, zC, &rcGet, zE, sizeof zE);
                pKnown = json_boolean(pData && hidden(w, json_object_get(pData, "r")));
                json_decref(pData);
                json_object_set_new(pSeen, zC, pKnown);
            }
            if (json_is_true(pKnown)) json_object_set_new(e, "title", json_string("（密级档案，题名不显示）"));
        }
        json_decref(pSeen);
    }
    mask_for(w, pOut);
    if (fmt == 0) return send_json(c, 200, pOut);
    return send_export(h, c, w, IDX_REPORT_REGISTER, "register", NULL, pOut, fmt, gb);
}

/* ---- static files of the web client --------------------------------- */

static enum MHD_Result h_static(idx_http *h, struct MHD_Connection *c, const char *zUrl)
{
    static const struct { const char *zExt, *zType; } aType[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    char zPath[4096];
    const char *zName = strcmp(zUrl, "/") == 0 ? "/index.html" : zUrl;
    const char *zType = NULL;
    if (!h->zWebDir || strstr(zName, "..") || strchr(zName + 1, '/'))
        return send_error(c, PS_NOT_FOUND, "no such page", NULL, 0, NULL, 0);
    for (size_t i = 0; i < sizeof aType / sizeof aType[0]; i++) {
        size_t n = strlen(zName), m = strlen(aType[i].zExt);
        if (n > m && strcmp(zName + n - m, aType[i].zExt) == 0) zType = aType[i].zType;
    }
    if (!zType) return send_error(c, PS_NOT_FOUND, "no such page", NULL, 0, NULL, 0);
    snprintf(zPath, sizeof zPath, "%s%s", h->zWebDir, zName);
    FILE *f = fopen(zPath, "rb");
    if (!f) return send_error(c, PS_NOT_FOUND, "no such page", NULL, 0, NULL, 0);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *z = n >= 0 && n < (1 << 24) ? malloc((size_t)n + 1) : NULL;
    if (!z || fread(z, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(z);
        return send_error(c, PS_IO, "cannot read the page", NULL, 0, NULL, 0);
    }
    fclose(f);
    return send_body(c, 200, z, (size_t)n, zType);
}

/* ---- dispatch ------------------------------------------------------- */

static enum MHD_Result method_not_allowed(struct MHD_Connection *c, const char *zAllow)
{
    struct MHD_Response *r = json_response(proto_error_body(PS_METHOD, "method not allowed on this path", NULL, 0, NULL, 0));
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, zAllow);
    enum MHD_Result ret = MHD_queue_response(c, 405, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route(idx_http *h, struct MHD_Connection *c, const char *zUrl,
                             const char *zMethod, req_ctx *r)
{
    static const char zRecords[] = "/api/v1/records/";
    int get = strcmp(zMethod, "GET") == 0, post = strcmp(zMethod, "POST") == 0;
    int put = strcmp(zMethod, "PUT") == 0, del = strcmp(zMethod, "DELETE") == 0;
    enum MHD_Result ret;

    if (r->tooBig) {
        char zMsg[128];
        if (r->cap < h->maxBody) snprintf(zMsg, sizeof zMsg, "the body is larger than the limit of %zu bytes", r->cap);
        else snprintf(zMsg, sizeof zMsg, "the body is larger than the limit of %zu MiB (max_body_mb)", h->maxBody >> 20);
        return send_error(c, PS_TOO_BIG, zMsg, NULL, 0, "body", 0);
    }
    if (strcmp(zUrl, "/healthz") == 0) return get ? h_health(h, c) : method_not_allowed(c, "GET");
    if (strncmp(zUrl, "/api/", 5) != 0) {
        /* the web client's files hold no data: served to anyone */
        if (get) return h_static(h, c, zUrl);
        return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
    }
    if (strcmp(zUrl, "/api/v1/login") == 0) return post ? h_login(h, c, r) : method_not_allowed(c, "POST");
    idx_caller who, *w = &who;
    if (authenticate(h, c, zMethod, w, &ret) != 0) return ret;
    if (take_purpose(c, w, &ret) != 0) return ret;
    if (strcmp(zUrl, "/api/v1/logout") == 0) return post ? h_logout(h, c, w) : method_not_allowed(c, "POST");
    if (strcmp(zUrl, "/api/v1/me") == 0) return get ? send_json(c, 200, me_json(w)) : method_not_allowed(c, "GET");
    if (strcmp(zUrl, "/api/v1/me/purpose") == 0) return put ? h_purpose(h, c, r, w) : method_not_allowed(c, "PUT");
    if (strcmp(zUrl, "/api/v1/register") == 0) return get ? h_register(h, c, w) : method_not_allowed(c, "GET");
    if (strncmp(zUrl, "/api/v1/approvals", 17) == 0 && (zUrl[17] == 0 || zUrl[17] == '/'))
        return h_approvals(h, c, r, w, zMethod, zUrl + 17);
    if (strcmp(zUrl, "/api/v1/search") == 0) {
        if (!get) return method_not_allowed(c, "GET");
        return allowed(c, w, IDX_CAN_SEARCH, &ret) ? h_search(h, c, w) : ret;
    }
    if (strcmp(zUrl, "/api/v1/catalog") == 0) {
        if (!post) return method_not_allowed(c, "POST");
        return allowed(c, w, IDX_CAN_IMPORT, &ret) ? h_catalog(h, c, r) : ret;
    }
    if (strcmp(zUrl, "/api/v1/records") == 0) {
        if (!post) return method_not_allowed(c, "POST");
        return allowed(c, w, IDX_CAN_IMPORT, &ret) ? h_bulk(h, c, r) : ret;
    }
    if (strcmp(zUrl, "/api/v1/timed-tests") == 0 || strcmp(zUrl, "/api/v1/timed-tests/draw") == 0) {
        int draw = zUrl[19] == '/';
        if (draw ? !get : !post) return method_not_allowed(c, draw ? "GET" : "POST");
        return allowed(c, w, IDX_CAN_REPORTS, &ret) ? h_timed(h, c, r, w, draw ? "/draw" : "", !draw) : ret;
    }
    if (strncmp(zUrl, "/api/v1/deliveries/", 19) == 0) {
        if (!put) return method_not_allowed(c, "PUT");
        return allowed(c, w, IDX_CAN_IMPORT, &ret) ? h_delivery(h, c, r, zUrl + 19) : ret;
    }
    if (strncmp(zUrl, "/api/v1/reports/", 16) == 0) return get ? h_report(h, c, w, zUrl + 16) : method_not_allowed(c, "GET");
    if (strncmp(zUrl, zRecords, sizeof zRecords - 1) == 0) {
        const char *zRest = zUrl + sizeof zRecords - 1;
        const char *zPages = strstr(zRest, "/pages/");
        proto_code code;
        size_t nCode = zPages ? (size_t)(zPages - zRest) : strlen(zRest);
        if (!zPages && strchr(zRest, '/'))
            return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
        if (path_code(c, zRest, nCode, &code, &ret) != 0) return ret;
        if (zPages && put && write_refused(h, c, w, r, &code, 0, &ret)) return ret;
        if (zPages) return h_page(h, c, r, w, zMethod, &code, zPages + 7);
        if (get) return allowed(c, w, IDX_CAN_SEARCH, &ret) ? h_record_get(h, c, w, &code) : ret;
        if ((put || del) && !allowed(c, w, IDX_CAN_IMPORT, &ret)) return ret;
        if ((put || del) && write_refused(h, c, w, r, &code, put, &ret)) return ret;
        if (put) return h_record_put(h, c, r, &code);
        if (del) return h_record_delete(h, c, &code);
        return method_not_allowed(c, "GET, PUT, DELETE");
    }
    return send_error(c, PS_NOT_FOUND, "no such route", NULL, 0, NULL, 0);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *zUrl,
                                  const char *zMethod, const char *zVersion, const char *zData,
                                  size_t *pnData, void **ppCtx)
{
    idx_http *h = cls;
    req_ctx *r = *ppCtx;
    (void)zVersion;
    if (!r) {
        r = px_calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->t0 = idx_now_ms();
        *ppCtx = r;
        atomic_fetch_add(&h->nInFlight, 1);
        /* Refuse an announced oversized body before reading it. */
        const char *zLen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        r->cap = strcmp(zUrl, "/api/v1/login") == 0 ? 4096 : h->maxBody;
        if (zLen && strtoull(zLen, NULL, 10) > r->cap) {
            r->tooBig = 1;
            r->answered = 1;
            return route(h, c, zUrl, zMethod, r);
        }
        /* a write from an unknown caller is refused before its body is read */
        if (strncmp(zUrl, "/api/", 5) == 0 && r->cap == h->maxBody && strcmp(zMethod, "GET") != 0 &&
            strcmp(zMethod, "HEAD") != 0) {
            idx_caller tmp;
            enum MHD_Result ret;
            if (authenticate(h, c, zMethod, &tmp, &ret) != 0) {
                r->answered = 1;
                return ret;
            }
        }
        return MHD_YES;
    }
    if (*pnData) {
        if (!r->tooBig && !r->answered) {
            if (r->n + *pnData > r->cap) {
                r->tooBig = 1;
                px_free(r->z);
                r->z = NULL;
                r->n = r->nAlloc = 0;
            } else {
                if (r->n + *pnData + 1 > r->nAlloc) {
                    size_t nNew = r->nAlloc ? r->nAlloc : 65536;
                    while (nNew < r->n + *pnData + 1) nNew *= 2;
                    char *z = px_realloc(r->z, nNew);
                    if (!z) return MHD_NO;
                    r->z = z;
                    r->nAlloc = nNew;
                }
                memcpy(r->z + r->n, zData, *pnData);
                r->n += *pnData;
                r->z[r->n] = 0;
            }
        }
        *pnData = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    return route(h, c, zUrl, zMethod, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ppCtx,
                         enum MHD_RequestTerminationCode toe)
{
    idx_http *h = cls;
    req_ctx *r = *ppCtx;
    (void)c;
    if (!r) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        IDX_LOG(IDX_LOG_DEBUG, 0, "request ended early (%d) after %.1f ms", (int)toe, idx_now_ms() - r->t0);
    px_free(r->z);
    px_free(r);
    *ppCtx = NULL;
    atomic_fetch_sub(&h->nInFlight, 1);
}

static void on_log(void *cls, const char *zFmt, va_list ap)
{
    char zMsg[512];
    (void)cls;
    vsnprintf(zMsg, sizeof zMsg, zFmt, ap);
    size_t n = strlen(zMsg);
    while (n && zMsg[n - 1] == '\n') zMsg[--n] = 0;
    IDX_LOG(IDX_LOG_WARN, 0, "http: %s", zMsg);
}

int idx_http_start(idx_index *pIdx, const idx_config *cfg, idx_http **ppOut, unsigned *pPort,
                   char *zErr, size_t nErr)
{
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *pSa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_AUTO;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (inet_pton(AF_INET, cfg->zListen, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((unsigned short)cfg->port);
        pSa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, cfg->zListen, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((unsigned short)cfg->port);
        pSa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(zErr, nErr, "listen: '%s' is not an IPv4 or IPv6 address", cfg->zListen);
        return PS_CONFIG;
    }
    idx_http *h = px_calloc(1, sizeof *h);
    if (!h) return PS_NOMEM;
    h->pIdx = pIdx;
    h->maxBody = (size_t)cfg->maxBodyMb << 20;
    h->facetCheck = (unsigned)cfg->facetCheck;
    h->zWebDir = cfg->zWebDir && *cfg->zWebDir ? px_strdup(cfg->zWebDir) : NULL;
    h->zDataDir = px_strdup(cfg->zDataDir);
    h->approvalClassified = cfg->approvalClassified != 0;
    h->approvalDays = cfg->approvalDays;
    h->sessionSec = cfg->sessionHours * 3600;
    h->cookieSecure = cfg->cookieSecure != 0;
    {
        const char *zCats = cfg->zApprovalCategories ? cfg->zApprovalCategories : "";
        size_t n = strlen(zCats) + 3;
        if ((h->zApprovalCats = px_malloc(n)) != NULL) {
            char *d = h->zApprovalCats;
            *d++ = ',';
            for (const char *s = zCats; *s; s++)
                if (*s != ' ') *d++ = *s;
            *d++ = ',';
            *d = 0;
        }
    }
    idx_auth_opts ao = {cfg->sessionHours, cfg->idleMinutes};
    int rcA = h->zDataDir && h->zApprovalCats ? idx_auth_open(cfg->zDataDir, &ao, &h->pAuth, zErr, nErr) : PS_NOMEM;
    if (rcA == PS_OK) rcA = idx_register_open(cfg->zDataDir, &h->pReg, zErr, nErr);
    if (rcA != PS_OK) {
        idx_auth_close(h->pAuth);
        px_free(h->zApprovalCats);
        px_free(h->zWebDir);
        px_free(h->zDataDir);
        px_free(h);
        return rcA;
    }
    h->pDaemon = MHD_start_daemon(flags, (unsigned short)cfg->port, NULL, NULL, on_request, h,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
                                  MHD_OPTION_SOCK_ADDR, pSa,
                                  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                                  MHD_OPTION_END);
    if (!h->pDaemon) {
        snprintf(zErr, nErr, "cannot listen on %s port %ld (in use, or not allowed)", cfg->zListen, cfg->port);
        idx_auth_close(h->pAuth);
        idx_register_close(h->pReg);
        px_free(h->zApprovalCats);
        px_free(h->zWebDir);
        px_free(h->zDataDir);
        px_free(h);
        return PS_IO;
    }
    const union MHD_DaemonInfo *pInfo = MHD_get_daemon_info(h->pDaemon, MHD_DAEMON_INFO_BIND_PORT);
    *pPort = pInfo ? pInfo->port : (unsigned)cfg->port;
    *ppOut = h;
    return PS_OK;
}

void idx_http_stop(idx_http *h, int waitSec)
{
    if (!h) return;
    MHD_socket s = MHD_quiesce_daemon(h->pDaemon);
    if (s != MHD_INVALID_SOCKET) close(s);
    for (int i = 0; i < waitSec * 20 && atomic_load(&h->nInFlight) > 0; i++) usleep(50000);
    if (atomic_load(&h->nInFlight) > 0)
        IDX_LOG(IDX_LOG_WARN, 0, "%d requests still running at shutdown", atomic_load(&h->nInFlight));
    MHD_stop_daemon(h->pDaemon);
    idx_auth_close(h->pAuth);
    idx_register_close(h->pReg);
    px_free(h->zApprovalCats);
    px_free(h->zWebDir);
    px_free(h->zDataDir);
    px_free(h);
}
