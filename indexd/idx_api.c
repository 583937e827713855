/* Requests and answers as handlers see them (see idx_api.h). */
#include "idx_api.h"
#include "idx_log.h"
#include "proto_alloc.h"
#include "proto_msg.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *idx_req_arg(const idx_req *r, const char *zName)
{
    return r->pIo ? r->pIo->xArg(r->pT, zName) : NULL;
}

void idx_req_args(const idx_req *r, int (*xEach)(void *ctx, const char *zKey, const char *zVal), void *ctx)
{
    if (r->pIo) r->pIo->xArgs(r->pT, xEach, ctx);
}

const char *idx_req_header(const idx_req *r, const char *zName)
{
    return r->pIo ? r->pIo->xHeader(r->pT, zName) : NULL;
}

const char *idx_req_cookie(const idx_req *r, const char *zName)
{
    return r->pIo ? r->pIo->xCookie(r->pT, zName) : NULL;
}

void idx_resp_init(idx_resp *o)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
}

void idx_resp_clear(idx_resp *o)
{
    free(o->zBody);
    if (o->fd >= 0) close(o->fd);
    for (int i = 0; i < o->nHeader; i++) px_free(o->azValue[i]);
    idx_resp_init(o);
}

/* Start a new answer: whatever was there before goes. */
static void reset(idx_resp *o)
{
    free(o->zBody);
    o->zBody = NULL;
    o->nBody = 0;
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
}

int idx_resp_buffer(idx_resp *o, unsigned http, char *z, size_t n, const char *zType)
{
    reset(o);
    o->status = http;
    o->zBody = z;
    o->nBody = n;
    o->zType = zType;
    return PS_OK;
}

int idx_resp_file(idx_resp *o, unsigned http, int fd, uint64_t n, const char *zType)
{
    reset(o);
    o->status = http;
    o->fd = fd;
    o->nFile = n;
    o->zType = zType;
    return PS_OK;
}

static const char zJson[] = "application/json; charset=utf-8";

int idx_resp_json(idx_resp *o, unsigned http, json_t *pBody)
{
    char *z = pBody ? json_dumps(pBody, JSON_COMPACT | JSON_REAL_PRECISION(4)) : NULL;
    json_decref(pBody);
    if (!z) {
        static const char zOom[] = "{\"error\":{\"status\":\"nomem\",\"code\":1,\"message\":\"内存不足\"}}";
        char *zCopy = malloc(sizeof zOom);
        if (zCopy) memcpy(zCopy, zOom, sizeof zOom);
        idx_resp_buffer(o, 500, zCopy, zCopy ? sizeof zOom - 1 : 0, zJson);
        return PS_NOMEM;
    }
    return idx_resp_buffer(o, http, z, strlen(z), zJson);
}

int idx_resp_error(idx_resp *o, int rc, const char *zMsg, const char *zField, long line, const char *zParam,
                   unsigned offset)
{
    if (rc == PS_OK) rc = PS_INTERNAL;
    if (!zMsg || !*zMsg) zMsg = proto_strerror(rc);
    return idx_resp_json(o, (unsigned)proto_status_http(rc), proto_error_body(rc, zMsg, zField, line, zParam, offset));
}

int idx_resp_refuse(idx_resp *o, int rc, const char *zMsg, long retryAfter)
{
    idx_resp_error(o, rc, zMsg, NULL, 0, NULL, 0);
    if (rc == PS_UNAUTHORIZED) idx_resp_header(o, "WWW-Authenticate", "Bearer realm=\"indexd\"");
    if (retryAfter > 0) {
        char zS[24];
        snprintf(zS, sizeof zS, "%ld", retryAfter);
        idx_resp_header(o, "Retry-After", zS);
    }
    return PS_OK;
}

int idx_resp_header(idx_resp *o, const char *zName, const char *zValue)
{
    if (o->nHeader >= IDX_RESP_HEADERS) return PS_INTERNAL;
    char *z = px_strdup(zValue);
    if (!z) return PS_NOMEM;
    o->azName[o->nHeader] = zName;
    o->azValue[o->nHeader++] = z;
    return PS_OK;
}

int idx_json_text_check(const json_t *o, const char **pzKey, size_t *pOffset)
{
    const char *zKey;
    json_t *v;
    size_t i;
    int rc;
    if (json_is_string(o)) return proto_text_check(json_string_value(o), json_string_length(o), pOffset);
    if (json_is_object(o)) {
        json_object_foreach((json_t *)o, zKey, v) {
            *pzKey = zKey;
            if ((rc = proto_text_check(zKey, strlen(zKey), pOffset)) != PS_OK) return rc;
            if ((rc = idx_json_text_check(v, pzKey, pOffset)) != PS_OK) return rc;
        }
    } else if (json_is_array(o)) {
        json_array_foreach((json_t *)o, i, v)
            if ((rc = idx_json_text_check(v, pzKey, pOffset)) != PS_OK) return rc;
    }
    return PS_OK;
}


json_t *idx_req_json(const idx_req *r, idx_resp *o)
{
    json_error_t je;
    char zMsg[400];
    json_t *p = json_loadb(r->zBody ? r->zBody : "", r->nBody, JSON_REJECT_DUPLICATES, &je);
    if (!p) {
        snprintf(zMsg, sizeof zMsg, "请求体不是有效的 JSON：%s（第 %d 行第 %d 列）", proto_json_why(&je), je.line, je.column);
        idx_resp_error(o, PS_INVALID, zMsg, NULL, je.line, "body", 0);
        return NULL;
    }
    if (!json_is_object(p)) {
        json_decref(p);
        idx_resp_error(o, PS_INVALID, "请求体必须是 JSON 对象", NULL, 0, "body", 0);
        return NULL;
    }
    return p;
}

int idx_req_uint(const idx_req *r, const char *zName, unsigned lo, unsigned hi, unsigned dflt, unsigned *pOut)
{
    const char *z = idx_req_arg(r, zName);
    char *e;
    if (!z || !*z) {
        *pOut = dflt;
        return 0;
    }
    if (*z < '0' || *z > '9') return -1;
    unsigned long v = strtoul(z, &e, 10);
    if (*e || v < lo || v > hi) return -1;
    *pOut = (unsigned)v;
    return 0;
}

/* ---- shared by handlers ------------------------------------------------ */

json_t *idx_visible_record(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    int rc;
    json_t *pData = idx_index_get(s->pIdx, r->code.zCanonical, &rc, zErr, sizeof zErr);
    if (pData && !idx_access_sees_stored(r->pCaller, pData)) {
        json_decref(pData);
        pData = NULL;
        rc = PS_NOT_FOUND;
    }
    if (!pData) {
        if (rc == PS_NOT_FOUND) snprintf(zErr, sizeof zErr, "没有档号为 %s 的档案", r->code.zCanonical);
        else IDX_LOG(IDX_LOG_ERROR, 0, "reading %s: %s", r->code.zCanonical, zErr);
        idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    }
    return pData;
}

int idx_code_hidden(void *ctx, const char *zCode)
{
    idx_hidden_ctx *h = ctx;
    char zCls[64], zErr[256];
    int rc = idx_index_classification(h->s->pIdx, zCode, zCls, sizeof zCls, zErr, sizeof zErr);
    if (rc == PS_NOT_FOUND) return 0;
    return rc != PS_OK || !idx_access_level_ok(h->w, zCls);
}

static int guard_allow(void *ctx, const char *zCode, int bOld, const char *zOld, const char *zNew, char *zErr,
                       size_t nErr)
{
    const idx_caller *w = ctx;
    int d = idx_access_write(w, bOld, zOld, zNew);
    if (d != IDX_WRITE_OK) {
        idx_access_write_message(d, zCode, zErr, nErr);
        return d == IDX_WRITE_HIDDEN ? PS_NOT_FOUND : PS_FORBIDDEN;
    }
    if (bOld && zOld && zNew && strcmp(zOld, zNew) != 0)
        IDX_LOG(IDX_LOG_INFO, 0, "密级 of %s changed from '%s' to '%s' by %s", zCode, zOld, zNew, w->zUser);
    return PS_OK;
}

void idx_write_guard(const idx_caller *w, idx_guard *pOut)
{
    pOut->xAllow = guard_allow;
    pOut->pCtx = (void *)w;
    pOut->zBy = w && w->zUser[0] ? w->zUser : NULL;
    pOut->zFrom = NULL; /* a route that knows it says so */
}

int idx_register_use(idx_srv *s, const idx_caller *w, const idx_use *u, idx_resp *o)
{
    char zErr[512] = "";
    int rc = idx_register_append(s->pReg, w, u, zErr, sizeof zErr);
    if (rc == PS_OK) return 0;
    IDX_LOG(IDX_LOG_ERROR, 0, "use register: %s", zErr);
    idx_resp_error(o, rc, "利用登记簿无法写入，本次查看不予提供", NULL, 0, NULL, 0);
    return -1;
}

int idx_export_format(const idx_req *r, int *pFmt, int *pGb, idx_resp *o)
{
    const char *zFormat = idx_req_arg(r, "format");
    const char *zEnc = idx_req_arg(r, "encoding");
    *pFmt = !zFormat || !*zFormat || strcmp(zFormat, "json") == 0 ? 0 : strcmp(zFormat, "csv") == 0 ? 1
          : strcmp(zFormat, "html") == 0 ? 2 : -1;
    if (*pFmt < 0) {
        idx_resp_error(o, PS_INVALID, "format 只能是 json、csv 或 html", NULL, 0, "format", 0);
        return -1;
    }
    *pGb = zEnc && (strcmp(zEnc, "gb18030") == 0 || strcmp(zEnc, "GB18030") == 0);
    if (zEnc && *zEnc && !*pGb && strcmp(zEnc, "utf-8") != 0 && strcmp(zEnc, "UTF-8") != 0) {
        idx_resp_error(o, PS_INVALID, "encoding 只能是 utf-8 或 gb18030", NULL, 0, "encoding", 0);
        return -1;
    }
    return 0;
}
