/* The HTTP transport on libmicrohttpd and the route table.
 *
 * One dispatcher, in the first callback of a request and before any byte of
 * its body is kept: it matches the route (404, or 405 with Allow from the
 * table), authenticates the caller of a route that is not open (401; a
 * change made with the session cookie needs the CSRF header, 403), checks
 * the caller's role against the route's rights (403), refuses a body the
 * route does not take or one over the route's own limit (413) and one the
 * daemon cannot hold now (503), and parses the path's parameters (400).
 * Only then is the body read, within its limit, and the route's handler
 * called with an idx_req; the idx_resp it fills goes out with the headers
 * every answer carries. */
#include "idx_http.h"
#include "idx_api.h"
#include "idx_log.h"
#include "idx_time.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- the route table ---------------------------------------------------- */

enum {
    R_OPEN = 1,   /* no caller needed */
    R_HEAD = 2,   /* HEAD is answered too (no side effects) */
    R_REPLICA = 4, /* a change a read-only replica takes (the caller's own session) */
};

#define KIB (1u << 10)
#define MIB (1u << 20)
#define BODY_CONFIG ((size_t)-1) /* the daemon's max_body_mb */
#define CONNECTION_IDLE_S 30u   /* a connection that sends nothing this long is closed */

typedef struct {
    const char *zMethod;
    const char *zPattern; /* segments; {code} {n} {id} {name} {file} take one */
    unsigned rights;      /* IDX_CAN_*: any one of them; 0: any caller */
    size_t nBodyMax;      /* 0: the route takes no body */
    unsigned flags;
    idx_handler xHandler;
} route;

/* Every route of proto/README.md; tests/test_routes.py checks the two agree. */
static const route aRoute[] = {
    {"GET", "/healthz", 0, 0, R_OPEN | R_HEAD, idx_h_health},
    {"POST", "/api/v1/login", 0, 4 * KIB, R_OPEN | R_REPLICA, idx_h_login},
    {"POST", "/api/v1/logout", 0, 0, R_REPLICA, idx_h_logout},
    {"GET", "/api/v1/me", 0, 0, 0, idx_h_me},
    {"PUT", "/api/v1/me/purpose", 0, 4 * KIB, R_REPLICA, idx_h_purpose},
    {"GET", "/api/v1/search", IDX_CAN_SEARCH, 0, 0, idx_h_search},
    {"POST", "/api/v1/catalog", IDX_CAN_IMPORT, BODY_CONFIG, 0, idx_h_catalog},
    {"POST", "/api/v1/records", IDX_CAN_IMPORT, BODY_CONFIG, 0, idx_h_records_bulk},
    {"GET", "/api/v1/records/{code}", IDX_CAN_SEARCH, 0, 0, idx_h_record_get},
    {"PUT", "/api/v1/records/{code}", IDX_CAN_IMPORT, 1 * MIB, 0, idx_h_record_put},
    {"DELETE", "/api/v1/records/{code}", IDX_CAN_IMPORT, 0, 0, idx_h_record_delete},
    {"GET", "/api/v1/records/{code}/pages/{n}", IDX_CAN_VIEW, 0, 0, idx_h_page_get},
    {"PUT", "/api/v1/records/{code}/pages/{n}", IDX_CAN_IMPORT, 1 * MIB, 0, idx_h_page_put},
    {"GET", "/api/v1/records/{code}/pages/{n}/image", IDX_CAN_VIEW, 0, 0, idx_h_image_get},
    {"PUT", "/api/v1/records/{code}/pages/{n}/image", IDX_CAN_IMPORT, 64 * MIB, 0, idx_h_image_put},
    {"GET", "/api/v1/records/{code}/pages/{n}/boxes", IDX_CAN_VIEW, 0, 0, idx_h_boxes},
    {"GET", "/api/v1/commit", IDX_CAN_IMPORT, 0, 0, idx_h_commit_get},
    {"POST", "/api/v1/commit", IDX_CAN_IMPORT, 0, 0, idx_h_commit_post},
    {"GET", "/api/v1/reports/coverage", IDX_CAN_VENDOR_REPORTS, 0, 0, idx_h_report_coverage},
    {"GET", "/api/v1/reports/acceptance", IDX_CAN_VENDOR_REPORTS, 0, 0, idx_h_report_acceptance},
    {"GET", "/api/v1/reports/catalog", IDX_CAN_REPORTS, 0, 0, idx_h_report_catalog},
    {"GET", "/api/v1/reports/ledger", IDX_CAN_REPORTS, 0, 0, idx_h_report_ledger},
    {"GET", "/api/v1/reports/timed-tests", IDX_CAN_REPORTS, 0, 0, idx_h_report_timed},
    {"PUT", "/api/v1/deliveries/{name}", IDX_CAN_IMPORT, 64 * MIB, 0, idx_h_delivery_put},
    {"GET", "/api/v1/register", IDX_CAN_REGISTER, 0, 0, idx_h_register},
    {"GET", "/api/v1/timed-tests/draw", IDX_CAN_REPORTS, 0, 0, idx_h_timed_draw},
    {"POST", "/api/v1/timed-tests", IDX_CAN_REPORTS, 1 * MIB, 0, idx_h_timed_post},
    {"POST", "/api/v1/timed-tests/{draw}/trials/{n}/start", IDX_CAN_REPORTS, 4 * KIB, 0, idx_h_timed_start},
    {"POST", "/api/v1/timed-tests/{draw}/trials/{n}/stop", IDX_CAN_REPORTS, 4 * KIB, 0, idx_h_timed_stop},
    {"GET", "/api/v1/approvals", IDX_CAN_REQUEST | IDX_CAN_APPROVE, 0, 0, idx_h_approvals_list},
    {"POST", "/api/v1/approvals", IDX_CAN_REQUEST, 16 * KIB, 0, idx_h_approvals_request},
    {"POST", "/api/v1/approvals/{id}/decision", IDX_CAN_APPROVE, 16 * KIB, 0, idx_h_approval_decide},
    {"GET", "/", 0, 0, R_OPEN | R_HEAD, idx_h_static},
    {"GET", "/{file}", 0, 0, R_OPEN | R_HEAD, idx_h_static},
};
#define N_ROUTE (sizeof aRoute / sizeof aRoute[0])

/* What a path's parameters held. */
typedef struct {
    const char *zCode;
    size_t nCode;
    const char *zPage, *zId, *zName;
    size_t nPage, nId, nName;
} path_args;

/* Does zPath match zPattern?  Fills a with the parameters' spans. */
static int path_match(const char *zPattern, const char *zPath, path_args *a)
{
    memset(a, 0, sizeof *a);
    const char *p = zPattern, *s = zPath;
    if (strcmp(zPattern, "/") == 0) return strcmp(zPath, "/") == 0;
    while (*p && *s) {
        if (*p != '/' || *s != '/') return 0;
        p++, s++;
        const char *pe = strchr(p, '/'), *se = strchr(s, '/');
        size_t np = pe ? (size_t)(pe - p) : strlen(p), ns = se ? (size_t)(se - s) : strlen(s);
        if (np > 2 && p[0] == '{') {
            if (ns == 0) return 0;
            if (strncmp(p, "{code}", np) == 0) a->zCode = s, a->nCode = ns;
            else if (strncmp(p, "{n}", np) == 0) a->zPage = s, a->nPage = ns;
            else if (strncmp(p, "{id}", np) == 0) a->zId = s, a->nId = ns;
            else a->zName = s, a->nName = ns;
        } else if (np != ns || strncmp(p, s, np) != 0) {
            return 0;
        }
        p += np, s += ns;
    }
    return !*p && !*s;
}

/* ---- a request in progress ------------------------------------------------ */

/* Large bodies (imports) held at once, per caller: one importer may not
 * take the whole of max_buffered_mb from the others. */
#define SMALL_BODY (1u * MIB) /* bodies up to this are not counted */
#define HOLDERS 64

typedef struct {
    char zUser[IDX_USER_MAX + 1];
    size_t n;
} holder;

struct idx_http {
    struct MHD_Daemon *pDaemon;
    idx_srv *pSrv;
    char *zTrusted;           /* trusted_proxies */
    pthread_mutex_t muHold;
    holder aHold[HOLDERS];
    size_t maxBody;
    size_t maxBuffered;
    atomic_size_t nBuffered;  /* bytes of bodies held, all requests */
    atomic_int nInFlight;
};

typedef struct {
    const route *pRoute;
    idx_caller who;
    int haveCaller;
    path_args args;
    char *z;           /* the body */
    size_t n, nAlloc, cap;
    size_t nReserved;  /* counted in nBuffered (and in the caller's holder) */
    int iHolder;       /* -1: none */
    int answered;      /* refused in the first callback: the body is dropped */
    int tooBig;        /* a body without a length grew past its limit (1) or past what may be
                        * held now (2): dropped, 413 or 503 at its end */
    char zBusy[256];   /* why, for 2 */
    size_t nSeen;      /* bytes of the body received, kept or not */
    double t0;
    char zName[256];   /* {name} / {file}, NUL-terminated */
    char zClient[IDX_ADDR_MAX];
} req_ctx;

static const char zCsp[] = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* Send an answer with the headers every answer carries. */
static enum MHD_Result send_resp(struct MHD_Connection *c, idx_resp *o)
{
    struct MHD_Response *r;
    if (o->status == 0) idx_resp_error(o, PS_INTERNAL, "处理程序未给出应答", NULL, 0, NULL, 0);
    if (o->fd >= 0) {
        r = MHD_create_response_from_fd(o->nFile, o->fd);
        if (r) o->fd = -1; /* MHD closes it */
    } else {
        r = MHD_create_response_from_buffer(o->nBody, o->zBody ? o->zBody : (char *)"", o->zBody ? MHD_RESPMEM_MUST_FREE
                                                                                             : MHD_RESPMEM_PERSISTENT);
        if (r) o->zBody = NULL; /* MHD frees it */
    }
    if (!r) {
        idx_resp_clear(o);
        return MHD_NO;
    }
    if (o->zType) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, o->zType);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Content-Security-Policy", zCsp);
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    /* not cached: data changes, and every view comes here to be registered */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (int i = 0; i < o->nHeader; i++) MHD_add_response_header(r, o->azName[i], o->azValue[i]);
    enum MHD_Result ret = MHD_queue_response(c, o->status, r);
    MHD_destroy_response(r);
    idx_resp_clear(o);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int rc, const char *zMsg, const char *zParam)
{
    idx_resp o;
    idx_resp_init(&o);
    idx_resp_error(&o, rc, zMsg, NULL, 0, zParam, 0);
    return send_resp(c, &o);
}

static enum MHD_Result send_refusal(struct MHD_Connection *c, int rc, const char *zMsg)
{
    idx_resp o;
    idx_resp_init(&o);
    idx_resp_refuse(&o, rc, zMsg, 0);
    return send_resp(c, &o);
}

/* ---- what handlers read through the transport ----------------------------- */

static const char *io_arg(void *pT, const char *zName)
{
    return MHD_lookup_connection_value(pT, MHD_GET_ARGUMENT_KIND, zName);
}

typedef struct {
    int (*xEach)(void *ctx, const char *zKey, const char *zVal);
    void *ctx;
} each_ctx;

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *zKey, const char *zVal)
{
    each_ctx *e = cls;
    (void)kind;
    return e->xEach(e->ctx, zKey, zVal) ? MHD_NO : MHD_YES;
}

static void io_args(void *pT, int (*xEach)(void *ctx, const char *zKey, const char *zVal), void *ctx)
{
    each_ctx e = {xEach, ctx};
    MHD_get_connection_values(pT, MHD_GET_ARGUMENT_KIND, each_arg, &e);
}

static const char *io_header(void *pT, const char *zName)
{
    return MHD_lookup_connection_value(pT, MHD_HEADER_KIND, zName);
}

static const char *io_cookie(void *pT, const char *zName)
{
    return MHD_lookup_connection_value(pT, MHD_COOKIE_KIND, zName);
}

static const idx_req_io aIo = {io_arg, io_args, io_header, io_cookie};

/* ---- the dispatcher -------------------------------------------------------- */

typedef struct {
    char *z;
    size_t n, nMax;
} xff_buf;

/* Every X-Forwarded-For header, joined in order as one list. */
static enum MHD_Result each_xff(void *cls, enum MHD_ValueKind kind, const char *zKey, const char *zVal)
{
    xff_buf *b = cls;
    (void)kind;
    if (strcasecmp(zKey, "X-Forwarded-For") != 0 || !zVal) return MHD_YES;
    int k = snprintf(b->z + b->n, b->nMax - b->n, "%s%s", b->n ? "," : "", zVal);
    if (k > 0) b->n = b->n + (size_t)k < b->nMax ? b->n + (size_t)k : b->nMax - 1;
    return MHD_YES;
}

/* The client's address: the TCP peer, or behind a trusted proxy the
 * address its X-Forwarded-For names (idx_client_addr decides). */
static void client_addr(idx_http *h, struct MHD_Connection *c, char *z, size_t n)
{
    char zPeer[INET6_ADDRSTRLEN + 1] = "", zXff[2048] = "";
    const union MHD_ConnectionInfo *pI = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (pI && pI->client_addr) {
        const struct sockaddr *sa = pI->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, zPeer, sizeof zPeer);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, zPeer, sizeof zPeer);
    }
    xff_buf b = {zXff, 0, sizeof zXff};
    if (h->zTrusted && *h->zTrusted) MHD_get_connection_values(c, MHD_HEADER_KIND, each_xff, &b);
    idx_client_addr(zPeer, zXff[0] ? zXff : NULL, h->zTrusted, z, n);
}

/* Who is calling: a Bearer token or the session cookie.  A change made with
 * the cookie must carry the session's CSRF token.  0, or -1 after a refusal. */
static int authenticate(idx_http *h, struct MHD_Connection *c, const char *zMethod, idx_caller *w, enum MHD_Result *pRet)
{
    const char *zAuth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (zAuth) {
        if (strncasecmp(zAuth, "Bearer ", 7) != 0 || idx_auth_token(h->pSrv->pAuth, zAuth + 7, w) != PS_OK) {
            *pRet = send_refusal(c, PS_UNAUTHORIZED, "API 令牌无效（已吊销或输入有误）");
            return -1;
        }
        return 0;
    }
    const char *zSid = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "indexd_session");
    if (!zSid || idx_auth_session(h->pSrv->pAuth, zSid, w) != PS_OK) {
        *pRet = send_refusal(c, PS_UNAUTHORIZED,
                             zSid ? "会话已结束，请重新登录" : "请先登录，或提供 API 令牌（Authorization: Bearer …）");
        return -1;
    }
    if (strcmp(zMethod, "GET") != 0 && strcmp(zMethod, "HEAD") != 0 &&
        !idx_caller_csrf_ok(w, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token"))) {
        *pRet = send_refusal(c, PS_FORBIDDEN, "从浏览器会话提交的修改须带本会话的 X-CSRF-Token 请求头");
        return -1;
    }
    return 0;
}

/* A purpose given with the request (?purpose=…) replaces the caller's. */
static int take_purpose(struct MHD_Connection *c, idx_caller *w, enum MHD_Result *pRet)
{
    const char *z = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "purpose");
    if (!z || !*z) return 0;
    if (!idx_purpose_ok(z)) {
        *pRet = send_error(c, PS_INVALID, "利用目的（purpose）须为 1 至 100 个 UTF-8 字符，不含控制字符", "purpose");
        return -1;
    }
    snprintf(w->zPurpose, sizeof w->zPurpose, "%s", z);
    return 0;
}

static int method_is(const route *p, const char *zMethod)
{
    return strcmp(p->zMethod, zMethod) == 0 || (strcmp(zMethod, "HEAD") == 0 && (p->flags & R_HEAD));
}

/* The methods of the routes of a path, for Allow. */
static void allowed_methods(const char *zPath, char *z, size_t n, int *pOpen)
{
    path_args a;
    z[0] = 0;
    *pOpen = 1;
    for (size_t i = 0; i < N_ROUTE; i++) {
        if (!path_match(aRoute[i].zPattern, zPath, &a)) continue;
        if (!(aRoute[i].flags & R_OPEN)) *pOpen = 0;
        if (strstr(z, aRoute[i].zMethod)) continue;
        snprintf(z + strlen(z), n - strlen(z), "%s%s", z[0] ? ", " : "", aRoute[i].zMethod);
        if (aRoute[i].flags & R_HEAD) snprintf(z + strlen(z), n - strlen(z), ", HEAD");
    }
}

static enum MHD_Result method_not_allowed(struct MHD_Connection *c, const char *zAllow)
{
    idx_resp o;
    idx_resp_init(&o);
    idx_resp_error(&o, PS_METHOD, "此路径不支持该请求方法", NULL, 0, NULL, 0);
    idx_resp_header(&o, "Allow", zAllow);
    return send_resp(c, &o);
}

static int digits(const char *z, size_t n)
{
    if (n == 0 || n > 9) return 0;
    for (size_t i = 0; i < n; i++)
        if (z[i] < '0' || z[i] > '9') return 0;
    return 1;
}

/* The path's parameters into r; -1 after a 400 or 404 answer. */
static int path_params(struct MHD_Connection *c, req_ctx *x, idx_req *r, enum MHD_Result *pRet)
{
    char zMsg[300];
    const path_args *a = &x->args;
    if (a->zCode) {
        char zCode[PROTO_CODE_MAX * 2];
        if (a->nCode >= sizeof zCode) {
            *pRet = send_error(c, PS_INVALID, "路径中的档号过长", "code");
            return -1;
        }
        memcpy(zCode, a->zCode, a->nCode);
        zCode[a->nCode] = 0;
        if (!proto_utf8_valid(zCode, a->nCode)) {
            *pRet = send_error(c, PS_ENCODING, "路径中的档号不是 UTF-8 编码（请对其 UTF-8 字节作百分号编码）", "code");
            return -1;
        }
        if (proto_code_parse(zCode, &r->code, zMsg, sizeof zMsg) != PS_OK) {
            *pRet = send_error(c, PS_INVALID, zMsg, "code");
            return -1;
        }
    }
    if (a->zPage) {
        unsigned long v = digits(a->zPage, a->nPage) ? strtoul(a->zPage, NULL, 10) : 0;
        if (v < 1 || v > IDX_PAGE_MAX) {
            snprintf(zMsg, sizeof zMsg, "页号须为 1 至 %u 的数字", IDX_PAGE_MAX);
            *pRet = send_error(c, PS_INVALID, zMsg, "page");
            return -1;
        }
        r->page = (unsigned)v;
    }
    if (a->zId) {
        long v = digits(a->zId, a->nId) ? strtol(a->zId, NULL, 10) : 0;
        if (v < 1) {
            *pRet = send_error(c, PS_NOT_FOUND, "没有这个接口", NULL);
            return -1;
        }
        r->id = v;
    }
    if (a->zName) {
        if (a->nName >= sizeof x->zName) {
            *pRet = send_error(c, PS_NOT_FOUND, "没有这个接口", NULL);
            return -1;
        }
        memcpy(x->zName, a->zName, a->nName);
        x->zName[a->nName] = 0;
        r->zName = x->zName;
    }
    return 0;
}

/* Count n more bytes of a large body, the daemon's and the caller's; -1
 * (zWhy) when either would pass its bound (nothing is counted then). */
static int reserve(idx_http *h, req_ctx *x, size_t n, char *zWhy, size_t nWhy)
{
    const char *zUser = x->haveCaller ? x->who.zUser : "";
    int rc = 0;
    pthread_mutex_lock(&h->muHold);
    if (x->iHolder < 0) {
        int iFree = -1;
        for (int i = 0; i < HOLDERS && x->iHolder < 0; i++) {
            if (h->aHold[i].n && strcmp(h->aHold[i].zUser, zUser) == 0) x->iHolder = i;
            else if (!h->aHold[i].n && iFree < 0) iFree = i;
        }
        if (x->iHolder < 0 && iFree >= 0) {
            x->iHolder = iFree;
            snprintf(h->aHold[iFree].zUser, sizeof h->aHold[iFree].zUser, "%s", zUser);
        }
    }
    if (x->iHolder < 0 || h->aHold[x->iHolder].n + n > h->maxBody) {
        snprintf(zWhy, nWhy, "您正在同时上传其他大文件（合计不得超过 max_body_mb）：请等其传完再试");
        rc = -1;
    } else if (atomic_load(&h->nBuffered) + n > h->maxBuffered) {
        snprintf(zWhy, nWhy, "检索服务正在同时接收过多的大文件上传，请稍后再试");
        rc = -1;
    } else {
        h->aHold[x->iHolder].n += n;
        atomic_fetch_add(&h->nBuffered, n);
        x->nReserved += n;
    }
    pthread_mutex_unlock(&h->muHold);
    return rc;
}

static void release(idx_http *h, req_ctx *x)
{
    if (!x->nReserved) return;
    pthread_mutex_lock(&h->muHold);
    atomic_fetch_sub(&h->nBuffered, x->nReserved);
    if (x->iHolder >= 0) h->aHold[x->iHolder].n -= x->nReserved;
    x->nReserved = 0;
    pthread_mutex_unlock(&h->muHold);
}

/* A header's name is a token: no white space or control character (a
 * space before the colon hides a Content-Length from us but not from every
 * proxy), and its value holds no control character but tab (a folded line,
 * obs-fold, is read differently by different servers). */
static int header_malformed(const char *zKey, const char *zVal)
{
    if (!zKey || !*zKey) return 1;
    for (const unsigned char *z = (const unsigned char *)zKey; *z; z++)
        if (*z <= ' ' || *z == 0x7F || *z == ':') return 1;
    for (const unsigned char *z = (const unsigned char *)(zVal ? zVal : ""); *z; z++)
        if ((*z < ' ' && *z != '\t') || *z == 0x7F) return 1;
    return 0;
}

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *zKey, const char *zVal)
{
    unsigned *pn = cls;
    (void)kind;
    if (header_malformed(zKey, zVal)) pn[2]++;
    /* libmicrohttpd 0.9.75 appends a folded line to the header's name
     * ("Content-Length: 27\r\n 5" becomes "Content-Length5: 27") */
    if (zKey && ((strncasecmp(zKey, "Content-Length", 14) == 0 && zKey[14]) ||
                 (strncasecmp(zKey, "Transfer-Encoding", 17) == 0 && zKey[17])))
        pn[2]++;
    if (zKey && strcasecmp(zKey, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) pn[0]++;
    if (zKey && strcasecmp(zKey, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) pn[1]++;
    return MHD_YES;
}

/* Can the end of the body be read two ways: a malformed header, two
 * Content-Length headers, one that is not all digits, two
 * Transfer-Encodings, or both kinds?  2 when the only Transfer-Encoding
 * is one we do not implement (only chunked is), 1 ambiguous, 0 clear. */
static int framing_ambiguous(struct MHD_Connection *c, const char *zLen, const char *zTe)
{
    unsigned an[3] = {0, 0, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, an);
    if (an[2] || an[0] > 1 || an[1] > 1 || (an[0] && an[1]) || (zLen && zTe)) return 1;
    if (zTe && strcasecmp(zTe, "chunked") != 0) return 2;
    return zLen && (!*zLen || strspn(zLen, "0123456789") != strlen(zLen) || strlen(zLen) > 19);
}

/* Decide about the request before its body: 0 to go on and read it, -1
 * after an answer. */
static int dispatch(idx_http *h, struct MHD_Connection *c, const char *zUrl, const char *zMethod, req_ctx *x,
                    enum MHD_Result *pRet)
{
    char zMsg[200];
    path_args a;
    const route *pRoute = NULL;
    int pathKnown = 0;
    const char *zLen = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *zTe = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    int framing = framing_ambiguous(c, zLen, zTe);
    if (framing) {
        /* a proxy in front may read the body's end elsewhere than we do
         * (request smuggling): such a request is refused, never guessed,
         * and its connection closed, so that nothing after it is read as
         * a request */
        idx_resp o;
        idx_resp_init(&o);
        if (framing == 2) {
            idx_resp_error(&o, PS_INVALID, "Transfer-Encoding 只支持 chunked", NULL, 0, "body", 0);
            o.status = 501;
        } else {
            idx_resp_error(&o, PS_INVALID,
                           "请求头格式有误，或请求体长度不明确：请发送格式正确的请求头，并只给出一个由数字组成的 "
                           "Content-Length，或只给出 Transfer-Encoding: chunked",
                           NULL, 0, "body", 0);
        }
        idx_resp_header(&o, MHD_HTTP_HEADER_CONNECTION, "close");
        *pRet = send_resp(c, &o);
        return -1;
    }
    for (size_t i = 0; i < N_ROUTE && !pRoute; i++) {
        if (!path_match(aRoute[i].zPattern, zUrl, &a)) continue;
        pathKnown = 1;
        if (method_is(&aRoute[i], zMethod)) pRoute = &aRoute[i], x->args = a;
    }
    int api = strncmp(zUrl, "/api/", 5) == 0;
    if (!pRoute) {
        char zAllow[64];
        int open = 1;
        if (pathKnown) allowed_methods(zUrl, zAllow, sizeof zAllow, &open);
        /* say nothing more than 401 to a caller who is not one, on the API */
        if ((api || !open) && authenticate(h, c, zMethod, &x->who, pRet) != 0) return -1;
        *pRet = pathKnown ? method_not_allowed(c, zAllow) : send_error(c, PS_NOT_FOUND, "没有这个接口", NULL);
        return -1;
    }
    x->pRoute = pRoute;
    if (!(pRoute->flags & R_OPEN)) {
        if (authenticate(h, c, zMethod, &x->who, pRet) != 0) return -1;
        x->haveCaller = 1;
        if (pRoute->rights && !(x->who.perms & pRoute->rights)) {
            snprintf(zMsg, sizeof zMsg, "当前角色%s（%s）无权进行此操作", idx_role_cn(x->who.role), idx_role_name(x->who.role));
            *pRet = send_refusal(c, PS_FORBIDDEN, zMsg);
            return -1;
        }
    }
    /* a read-only replica changes nothing but the caller's own session */
    if (strcmp(zMethod, "GET") != 0 && strcmp(zMethod, "HEAD") != 0 && !(pRoute->flags & R_REPLICA) &&
        idx_index_read_only(h->pSrv->pIdx)) {
        *pRet = send_error(c, PS_UNAVAILABLE,
                           "只读副本：本 indexd 以只读方式提供复制来的索引，不接受写入和其他更改；请在主 indexd 上操作",
                           NULL);
        return -1;
    }
    /* the body: none where the route takes none, never past its limit */
    x->cap = pRoute->nBodyMax == BODY_CONFIG ? h->maxBody : pRoute->nBodyMax;
    unsigned long long nLen = zLen ? strtoull(zLen, NULL, 10) : 0;
    if ((x->cap == 0 && (nLen > 0 || zTe)) || nLen > x->cap) {
        if (x->cap == 0) snprintf(zMsg, sizeof zMsg, "%s %s 不接受请求体", pRoute->zMethod, pRoute->zPattern);
        else snprintf(zMsg, sizeof zMsg, "请求体超过本请求的上限 %zu 字节", x->cap);
        *pRet = send_error(c, PS_TOO_BIG, zMsg, "body");
        return -1;
    }
    if (nLen > SMALL_BODY && reserve(h, x, (size_t)nLen, zMsg, sizeof zMsg) != 0) {
        *pRet = send_error(c, PS_UNAVAILABLE, zMsg, "body");
        return -1;
    }
    if (x->haveCaller && take_purpose(c, &x->who, pRet) != 0) return -1;
    return 0;
}

/* Past its limit, a body without a length is read on and dropped, so that
 * its sender gets the 413 (an answer cannot be queued in the middle of an
 * upload); this much more of it, and the connection is closed. */
#define DROP_MAX (16u * MIB)

/* Keep a piece of the body; -1 when the connection must be closed. */
static int keep_body(idx_http *h, req_ctx *x, const char *z, size_t n)
{
    x->nSeen += n;
    int why = x->tooBig ? x->tooBig : x->n + n > x->cap ? 1 : 0;
    /* without a length: counted as it grows */
    if (!why && x->n + n > SMALL_BODY && x->n + n > x->nReserved &&
        reserve(h, x, x->n + n - x->nReserved, x->zBusy, sizeof x->zBusy) != 0)
        why = 2;
    if (why) {
        if (!x->tooBig) {
            x->tooBig = why;
            px_free(x->z);
            x->z = NULL;
            x->n = x->nAlloc = 0;
            release(h, x);
        }
        /* a body refused for the daemon's budget is drained to its limit
         * (its sender gets the 503); past the limit it is too big as well */
        if (x->tooBig == 2 && x->nSeen > x->cap) x->tooBig = 1;
        return x->tooBig == 1 && x->nSeen - x->cap > DROP_MAX ? -1 : 0;
    }
    if (x->n + n + 1 > x->nAlloc) {
        size_t nNew = x->nAlloc ? x->nAlloc * 2 : 65536;
        if (nNew < x->nReserved + 1) nNew = x->nReserved + 1;
        while (nNew < x->n + n + 1) nNew *= 2;
        if (nNew > x->cap + 1) nNew = x->cap + 1;
        char *zNew = px_realloc(x->z, nNew);
        if (!zNew) return -1;
        x->z = zNew;
        x->nAlloc = nNew;
    }
    memcpy(x->z + x->n, z, n);
    x->n += n;
    x->z[x->n] = 0;
    return 0;
}

static enum MHD_Result run_handler(idx_http *h, struct MHD_Connection *c, const char *zUrl, const char *zMethod,
                                   req_ctx *x)
{
    idx_req r;
    idx_resp o;
    enum MHD_Result ret;
    memset(&r, 0, sizeof r);
    idx_resp_init(&o);
    r.zMethod = zMethod;
    r.zPath = zUrl;
    r.zBody = x->z ? x->z : "";
    r.nBody = x->n;
    r.pCaller = x->haveCaller ? &x->who : NULL;
    r.zClient = x->zClient;
    r.pIo = &aIo;
    r.pT = c;
    if (path_params(c, x, &r, &ret) != 0) return ret;
    int rc = x->pRoute->xHandler(h->pSrv, &r, &o);
    if (o.status == 0) idx_resp_error(&o, rc == PS_OK ? PS_INTERNAL : rc, NULL, NULL, 0, NULL, 0);
    return send_resp(c, &o);
}

/* A query string of thousands of tiny parameters fills the connection's
 * memory pool while libmicrohttpd 0.9.75 parses it, after which it can
 * write no answer at all (not even its 431) and the client waits.  The URI
 * is seen here first, in the request line's own (writable) buffer, before
 * the parameters are parsed from it: past URI_PARAMS_MAX they are cut off
 * and the request is answered 414 at once. */
#define URI_PARAMS_MAX 1000
/* No request of the API or the web client needs a longer URI. */
#define URI_MAX (64u * KIB)
static char cUriCut;  /* *ppCtx of a request whose parameters were cut */
static char cUriLong; /* and of one whose URI was too long */

static void *on_uri(void *cls, const char *zUri, struct MHD_Connection *c)
{
    (void)cls, (void)c;
    if (!zUri) return NULL;
    char *zQ = strchr(zUri, '?'); /* the buffer is libmicrohttpd's request line, not constant */
    if (strlen(zUri) > URI_MAX) {
        if (zQ) zQ[1] = 0;
        return &cUriLong;
    }
    if (!zQ) return NULL;
    unsigned nParam = 1;
    for (const char *z = zQ; *z && nParam <= URI_PARAMS_MAX; z++) nParam += *z == '&';
    if (nParam <= URI_PARAMS_MAX) return NULL;
    zQ[1] = 0;
    return &cUriCut;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *zUrl, const char *zMethod,
                                  const char *zVersion, const char *zData, size_t *pnData, void **ppCtx)
{
    idx_http *h = cls;
    int cut = *ppCtx == &cUriCut ? 1 : *ppCtx == &cUriLong ? 2 : 0;
    req_ctx *x = cut ? NULL : *ppCtx;
    (void)zVersion;
    if (!x) {
        enum MHD_Result ret = MHD_YES;
        x = px_calloc(1, sizeof *x);
        if (!x) return MHD_NO;
        x->t0 = idx_now_ms();
        x->iHolder = -1;
        *ppCtx = x;
        atomic_fetch_add(&h->nInFlight, 1);
        client_addr(h, c, x->zClient, sizeof x->zClient);
        if (cut) {
            char zMsg[128];
            if (cut == 1) snprintf(zMsg, sizeof zMsg, "请求的查询参数超过 %d 个", URI_PARAMS_MAX);
            else snprintf(zMsg, sizeof zMsg, "请求的 URI 超过 %u 字节", URI_MAX);
            idx_resp o;
            idx_resp_init(&o);
            idx_resp_error(&o, PS_TOO_BIG, zMsg, NULL, 0, NULL, 0);
            o.status = 414;
            x->answered = 1;
            return send_resp(c, &o);
        }
        if (dispatch(h, c, zUrl, zMethod, x, &ret) != 0) x->answered = 1;
        return ret;
    }
    if (*pnData) {
        if (!x->answered && keep_body(h, x, zData, *pnData) != 0) {
            IDX_LOG(IDX_LOG_WARN, 0, "a request body without a length grew past its limit; the connection is closed");
            return MHD_NO;
        }
        *pnData = 0;
        return MHD_YES;
    }
    if (x->answered) return MHD_YES;
    x->answered = 1;
    if (x->tooBig == 2) return send_error(c, PS_UNAVAILABLE, x->zBusy, "body");
    if (x->tooBig) {
        char zMsg[128];
        snprintf(zMsg, sizeof zMsg, "请求体超过本请求的上限 %zu 字节", x->cap);
        return send_error(c, PS_TOO_BIG, zMsg, "body");
    }
    return run_handler(h, c, zUrl, zMethod, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **ppCtx, enum MHD_RequestTerminationCode toe)
{
    idx_http *h = cls;
    req_ctx *x = *ppCtx == &cUriCut || *ppCtx == &cUriLong ? NULL : *ppCtx;
    (void)c;
    if (!x) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        IDX_LOG(IDX_LOG_DEBUG, 0, "request ended early (%d) after %.1f ms", (int)toe, idx_now_ms() - x->t0);
    release(h, x);
    px_free(x->z);
    if (x->haveCaller) memset(&x->who, 0, sizeof x->who);
    px_free(x);
    *ppCtx = NULL;
    atomic_fetch_sub(&h->nInFlight, 1);
}

/* libmicrohttpd's messages, at most LOG_PER_S a second: a client that opens
 * connection after connection past the limit must not flood the log. */
#define LOG_PER_S 10

static void on_log(void *cls, const char *zFmt, va_list ap)
{
    static idx_log_rate rate = IDX_LOG_RATE_INIT;
    char zMsg[512];
    (void)cls;
    if (!idx_log_allow(&rate, LOG_PER_S, "http")) return;
    vsnprintf(zMsg, sizeof zMsg, zFmt, ap);
    size_t n = strlen(zMsg);
    while (n && zMsg[n - 1] == '\n') zMsg[--n] = 0;
    IDX_LOG(IDX_LOG_WARN, 0, "http: %s", zMsg);
}

int idx_http_start(idx_srv *pSrv, const idx_config *cfg, idx_http **ppOut, unsigned *pPort, char *zErr, size_t nErr)
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
        snprintf(zErr, nErr, "listen：“%s”不是 IPv4 或 IPv6 地址", cfg->zListen);
        return PS_CONFIG;
    }
    idx_http *h = px_calloc(1, sizeof *h);
    if (!h) return PS_NOMEM;
    h->pSrv = pSrv;
    h->zTrusted = px_strdup(cfg->zTrustedProxies ? cfg->zTrustedProxies : "");
    if (!h->zTrusted) {
        px_free(h);
        return PS_NOMEM;
    }
    h->maxBody = (size_t)cfg->maxBodyMb << 20;
    pthread_mutex_init(&h->muHold, NULL);
    h->maxBuffered = (size_t)cfg->maxBufferedMb << 20;
    /* A request's headers and arguments live in its connection's memory
     * pool: large enough for long queries (thousands of parameters get an
     * answer), bounded per connection.  Past it libmicrohttpd 0.9.75 cannot
     * even write its 431 and leaves the connection: it is closed when idle,
     * after CONNECTION_IDLE_S, like any client that stops talking. */
    h->pDaemon = MHD_start_daemon(flags, (unsigned short)cfg->port, NULL, NULL, on_request, h,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL,
                                  MHD_OPTION_SOCK_ADDR, pSa,
                                  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
                                  MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                  MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_IDLE_S,
                                  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(512 * KIB),
                                  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->perIpConnections,
                                  MHD_OPTION_END);
    if (!h->pDaemon) {
        snprintf(zErr, nErr, "无法在 %s 的 %ld 端口监听（端口已被占用或无权使用）", cfg->zListen, cfg->port);
        px_free(h->zTrusted);
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
    pthread_mutex_destroy(&h->muHold);
    px_free(h->zTrusted);
    px_free(h);
}

void idx_http_routes(void (*xEach)(void *ctx, const char *zLine), void *ctx)
{
    static const char *const azRight[] = {"search", "view", "import", "vendor_reports", "reports", "register", "request", "approve"};
    char zLine[300], zWho[160], zBody[32];
    for (size_t i = 0; i < N_ROUTE; i++) {
        const route *p = &aRoute[i];
        zWho[0] = 0;
        if (p->flags & R_OPEN) snprintf(zWho, sizeof zWho, "open");
        else if (!p->rights) snprintf(zWho, sizeof zWho, "any caller");
        for (int k = 0; k < 8; k++)
            if (p->rights & (1u << k))
                snprintf(zWho + strlen(zWho), sizeof zWho - strlen(zWho), "%s%s", zWho[0] ? ", " : "", azRight[k]);
        if (p->nBodyMax == BODY_CONFIG) snprintf(zBody, sizeof zBody, "max_body_mb");
        else if (!p->nBodyMax) snprintf(zBody, sizeof zBody, "none");
        else if (p->nBodyMax >= MIB) snprintf(zBody, sizeof zBody, "%zu MiB", p->nBodyMax / MIB);
        else snprintf(zBody, sizeof zBody, "%zu KiB", p->nBodyMax / KIB);
        snprintf(zLine, sizeof zLine, "%s %s | %s | %s%s", p->zMethod, p->zPattern, zWho, zBody,
                 (p->flags & R_HEAD) ? " | HEAD" : "");
        xEach(ctx, zLine);
    }
}
