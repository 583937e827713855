/* What a handler sees of a request and how it answers, with no
 * libmicrohttpd in sight: the transport (idx_http.c) matches the route,
 * authenticates the caller, checks the route's rights and body limit, reads
 * the body, fills an idx_req, calls the route's handler and sends the
 * idx_resp it filled.  Handlers live one file per resource (idx_h_*.c) and
 * all have one signature. */
#ifndef IDX_API_H
#define IDX_API_H

#include "idx_access.h"
#include "idx_auth.h"
#include "idx_index.h"
#include "idx_register.h"
#include "proto_code.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The daemon's shared state, made by main() and handed to every handler. */
typedef struct {
    idx_index *pIdx;
    idx_auth *pAuth;
    idx_register *pReg;
    idx_access *pAccess;
    const char *zDataDir;
    const char *zWebDir;   /* NULL: no web client */
    unsigned facetCheck;
    long sessionSec;       /* Max-Age of the session cookie */
    int cookieSecure;
    long approvalDays;
} idx_srv;

/* How a handler reads what the transport holds. */
typedef struct {
    const char *(*xArg)(void *pT, const char *zName);  /* query parameter or NULL */
    /* every query parameter, in order, until xEach returns non-zero */
    void (*xArgs)(void *pT, int (*xEach)(void *ctx, const char *zKey, const char *zVal), void *ctx);
    const char *(*xHeader)(void *pT, const char *zName);
    const char *(*xCookie)(void *pT, const char *zName);
} idx_req_io;

typedef struct {
    const char *zMethod;      /* as sent; HEAD runs the GET handler */
    const char *zPath;
    proto_code code;          /* {code} of the path, canonical */
    unsigned page;            /* {n} */
    long id;                  /* {id} */
    const char *zName;        /* {name} or {file} */
    const char *zBody;        /* the body, NUL-terminated ("" when none) */
    size_t nBody;
    idx_caller *pCaller;      /* NULL on an open route */
    const char *zClient;      /* the client's address */
    const idx_req_io *pIo;
    void *pT;
} idx_req;

const char *idx_req_arg(const idx_req *r, const char *zName);
void idx_req_args(const idx_req *r, int (*xEach)(void *ctx, const char *zKey, const char *zVal), void *ctx);
const char *idx_req_header(const idx_req *r, const char *zName);
const char *idx_req_cookie(const idx_req *r, const char *zName);

#define IDX_RESP_HEADERS 6

/* An answer.  status 0: not answered yet. */
typedef struct {
    unsigned status;
    char *zBody;              /* malloc()ed, released by the transport */
    size_t nBody;
    int fd;                   /* >= 0: send this file instead (closed by the transport) */
    uint64_t nFile;
    const char *zType;        /* a static string */
    int nHeader;
    const char *azName[IDX_RESP_HEADERS]; /* static strings */
    char *azValue[IDX_RESP_HEADERS];      /* px_malloc()ed */
} idx_resp;

void idx_resp_init(idx_resp *o);
void idx_resp_clear(idx_resp *o);
/* JSON answer; takes pBody (NULL: out of memory, answered as such). */
int idx_resp_json(idx_resp *o, unsigned http, json_t *pBody);
/* The error body of proto/README.md, its HTTP status from rc.  An empty or
 * NULL message becomes the status's own sentence: an error answer never
 * carries a buffer that nothing wrote. */
int idx_resp_error(idx_resp *o, int rc, const char *zMsg, const char *zField, long line, const char *zParam,
                   unsigned offset);
/* A refusal (401 with WWW-Authenticate, 429 with Retry-After, 403, 428). */
int idx_resp_refuse(idx_resp *o, int rc, const char *zMsg, long retryAfter);
/* Takes z (malloc()ed). */
int idx_resp_buffer(idx_resp *o, unsigned http, char *z, size_t n, const char *zType);
/* Takes fd. */
int idx_resp_file(idx_resp *o, unsigned http, int fd, uint64_t n, const char *zType);
/* Adds a header (zName static, zValue copied); PS_NOMEM or PS_INTERNAL when full. */
int idx_resp_header(idx_resp *o, const char *zName, const char *zValue);

/* Every string in o (keys too, at any depth) is text a caller may hand
 * over (proto_text_check)?  0, or the status with the offending key in
 * *pzKey and the byte in *pOffset. */
int idx_json_text_check(const json_t *o, const char **pzKey, size_t *pOffset);
/* The body as a JSON object, or NULL after a 400 answer in o. */
json_t *idx_req_json(const idx_req *r, idx_resp *o);
/* Query parameter zName as a number lo..hi (dflt when absent or empty):
 * 0, or -1 when it is not one. */
int idx_req_uint(const idx_req *r, const char *zName, unsigned lo, unsigned hi, unsigned dflt, unsigned *pOut);

typedef int (*idx_handler)(idx_srv *s, idx_req *r, idx_resp *o);

/* ---- the handlers, one file per resource ------------------------------- */

/* idx_h_session.c: the health check, logging in and out, the caller */
int idx_h_health(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_login(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_logout(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_me(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_purpose(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_search.c */
int idx_h_search(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_records.c: catalog records, bulk writes, catalog import, commits */
int idx_h_record_get(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_record_put(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_record_delete(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_records_bulk(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_catalog(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_commit_get(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_commit_post(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_pages.c: page text, images and hit boxes */
int idx_h_page_get(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_page_put(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_image_get(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_image_put(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_boxes(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_reports.c: reports and vendors' delivery accounts */
int idx_h_report_coverage(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_report_catalog(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_report_ledger(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_report_acceptance(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_report_timed(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_delivery_put(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_register.c: the use register */
int idx_h_register(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_timed.c: the timed retrieval test ({name}: the draw, {n}: the trial) */
int idx_h_timed_draw(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_timed_start(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_timed_stop(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_timed_post(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_approvals.c */
int idx_h_approvals_list(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_approvals_request(idx_srv *s, idx_req *r, idx_resp *o);
int idx_h_approval_decide(idx_srv *s, idx_req *r, idx_resp *o);
/* idx_h_web.c: the web client's files */
int idx_h_static(idx_srv *s, idx_req *r, idx_resp *o);

/* ---- shared by handlers ------------------------------------------------ */

/* The stored data ({"r":…,"p":…}) of the record of the path as the caller
 * may see it, or NULL after a 404 (absent or above the caller's 密级) or
 * another error answer in o. */
json_t *idx_visible_record(idx_srv *s, idx_req *r, idx_resp *o);
/* Is the record with this canonical 档号 above the caller's 密级 (an
 * idx_hidden_fn for the reports and the register)?  An absent record is
 * not; one whose 密级 cannot be read is. */
typedef struct {
    idx_srv *s;
    const idx_caller *w;
} idx_hidden_ctx;
int idx_code_hidden(void *ctx, const char *zCode);
/* The guard of a write by the caller: idx_access_write on the stored
 * record, under the index's lock (idx_index.h). */
void idx_write_guard(const idx_caller *w, idx_guard *pOut);
/* Write a use to the register; 0, or -1 after an error answer in o (the
 * view is then refused: a view that cannot be registered is not made). */
int idx_register_use(idx_srv *s, const idx_caller *w, const idx_use *u, idx_resp *o);
/* ?format=json|csv|html (0, 1, 2) and ?encoding=utf-8|gb18030 of a report
 * or the register; -1 after an error answer in o. */
int idx_export_format(const idx_req *r, int *pFmt, int *pGb, idx_resp *o);
/* A report or the register as CSV or printable HTML, written to the use
 * register first.  Releases pRep. */
int idx_send_export(idx_srv *s, idx_req *r, int kind, const char *zName, const char *zFonds, json_t *pRep, int fmt,
                    int gb, idx_resp *o);

#endif
