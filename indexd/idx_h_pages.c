/* Handlers of the pages resource: a record's page text, page images and the
 * boxes of a query's hits on a page.  Opening text or an image needs what
 * idx_access_open_page asks (approval, purpose) and is a view written in
 * the use register before the answer goes out. */
#include "idx_api.h"
#include "idx_log.h"
#include "idx_pages.h"
#include "proto_record.h"
#include "proto_status.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE_TEXT_MAX (1u << 20) /* bytes of one page's body */

/* The stored page of the path, for a caller allowed to open it (kind), or
 * NULL after an answer in o.  *ppData receives the record's stored data
 * (its title is written with the use). */
static json_t *open_page(idx_srv *s, idx_req *r, int kind, long *pApproval, json_t **ppData, idx_resp *o)
{
    char zErr[320];
    idx_verdict v;
    *ppData = NULL;
    json_t *pData = idx_visible_record(s, r, o);
    if (!pData) return NULL;
    idx_access_open_page(s->pAccess, r->pCaller, r->code.zCanonical, json_object_get(pData, "r"), kind, &v);
    if (v.rc != PS_OK) {
        json_decref(pData);
        idx_resp_refuse(o, v.rc, v.zWhy, 0);
        return NULL;
    }
    *pApproval = v.approval;
    char zKey[16];
    snprintf(zKey, sizeof zKey, "%u", r->page);
    json_t *pPage = json_object_get(json_object_get(pData, "p"), zKey);
    if (!pPage && kind != IDX_READ_IMAGE) {
        json_decref(pData);
        snprintf(zErr, sizeof zErr, "档号为 %s 的档案没有第 %u 页的文本", r->code.zCanonical, r->page);
        idx_resp_error(o, PS_NOT_FOUND, zErr, NULL, 0, "page", 0);
        return NULL;
    }
    *ppData = pData;
    return pPage ? pPage : json_null();
}

static const char *title_of(const json_t *pData)
{
    return json_string_value(json_object_get(json_object_get(pData, "r"), "title"));
}

static const char *cls_of(const json_t *pData)
{
    const char *z = json_string_value(json_object_get(json_object_get(pData, "r"), "classification"));
    return z ? z : "";
}

int idx_h_page_get(idx_srv *s, idx_req *r, idx_resp *o)
{
    json_t *pData;
    long approval = 0;
    json_t *pPage = open_page(s, r, IDX_READ_TEXT, &approval, &pData, o);
    if (!pPage) return PS_OK;
    json_t *pOut = json_deep_copy(pPage);
    if (!pOut) {
        json_decref(pData);
        return idx_resp_error(o, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    }
    json_object_set_new(pOut, "code", json_string(r->code.zCanonical));
    json_object_set_new(pOut, "page", json_integer(r->page));
    idx_use use = {r->code.zCanonical, title_of(pData), "text", r->page, approval, cls_of(pData)};
    int ok = idx_register_use(s, r->pCaller, &use, o) == 0;
    json_decref(pData);
    if (!ok) {
        json_decref(pOut);
        return PS_OK;
    }
    idx_access_mask(r->pCaller, pOut);
    return idx_resp_json(o, 200, pOut);
}

/* A missing or hidden record gets the same answer from every write. */
static int no_record(idx_req *r, idx_resp *o)
{
    char zErr[300];
    snprintf(zErr, sizeof zErr, "没有档号为 %s 的档案（请先导入其目录条目）", r->code.zCanonical);
    return idx_resp_error(o, PS_NOT_FOUND, zErr, NULL, 0, NULL, 0);
}

int idx_h_page_put(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    size_t at = 0;
    int rc;
    if (r->nBody > PAGE_TEXT_MAX) {
        snprintf(zErr, sizeof zErr, "每页至多 %u 字节，本页有 %zu 字节", PAGE_TEXT_MAX, r->nBody);
        return idx_resp_error(o, PS_TOO_BIG, zErr, NULL, 0, "body", 0);
    }
    const char *zType = idx_req_header(r, "Content-Type");
    json_t *pPage;
    if (zType && strncmp(zType, "text/plain", 10) == 0) {
        rc = proto_text_check(r->zBody, r->nBody, &at);
        if (rc != PS_OK) {
            snprintf(zErr, sizeof zErr, rc == PS_ENCODING ? "页面文本不是 UTF-8 编码（第 %zu 字节）"
                                                          : "页面文本第 %zu 字节是控制字符"
                                                            "（只保留制表符和换行；是否为 UTF-16 编码？）",
                     at + 1);
            return idx_resp_error(o, rc, zErr, NULL, 0, "body", 0);
        }
        pPage = json_object();
        if (pPage) json_object_set_new(pPage, "text", json_stringn(r->zBody, r->nBody));
    } else {
        if (!(pPage = idx_req_json(r, o))) return PS_OK;
        json_t *pText = json_object_get(pPage, "text");
        if (!json_is_string(pText)) {
            json_decref(pPage);
            return idx_resp_error(o, PS_INVALID, "页面须有字符串 \"text\"（页面文本）", "text", 0, NULL, 0);
        }
        const char *zKey = "text";
        if ((rc = idx_json_text_check(pPage, &zKey, &at)) != PS_OK) {
            snprintf(zErr, sizeof zErr, "页面的 \"%.60s\" 第 %zu 字节是控制字符或无效的 UTF-8", zKey, at + 1);
            json_decref(pPage); /* zKey was in it */
            return idx_resp_error(o, PS_INVALID, zErr, "text", 0, NULL, 0);
        }
        json_object_del(pPage, "code");
        json_object_del(pPage, "page");
    }
    if (!pPage) return idx_resp_error(o, PS_NOMEM, NULL, NULL, 0, NULL, 0);
    int replaced = 0;
    idx_guard guard;
    idx_write_guard(r->pCaller, &guard);
    /* ?unlinked=NAME: the page of a scan that no catalog row names yet; an
     * absent record is made, waiting for its row (待挂接), NAME saying
     * where the scan came from (the delivery) */
    const char *zUnl = idx_req_arg(r, "unlinked");
    char zSource[160];
    if (zUnl) {
        if (!*zUnl || strlen(zUnl) > 100 || !proto_utf8_valid(zUnl, strlen(zUnl))) {
            json_decref(pPage);
            return idx_resp_error(o, PS_INVALID, "unlinked 须为 1 至 100 字节的来源名称（如交付批次名）", NULL, 0, "unlinked", 0);
        }
        snprintf(zSource, sizeof zSource, "扫描件（%s）", zUnl);
    }
    rc = idx_index_put_page_unlinked(s->pIdx, r->code.zCanonical, r->page, pPage, zUnl ? zSource : NULL, &guard, &replaced,
                                     zErr, sizeof zErr);
    json_decref(pPage);
    if (rc == PS_NOT_FOUND) return no_record(r, o);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    if ((rc = idx_index_commit(s->pIdx, zErr, sizeof zErr)) != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "commit failed: %s", zErr);
        return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    }
    return idx_resp_json(o, replaced ? 200 : 201,
                         json_pack("{s:s,s:i,s:b}", "code", r->code.zCanonical, "page", (int)r->page, "replaced", replaced));
}

int idx_h_image_put(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    int rc;
    json_t *pData = idx_index_get(s->pIdx, r->code.zCanonical, &rc, zErr, sizeof zErr);
    int ok = pData && idx_access_write(r->pCaller, 1, json_string_value(json_object_get(json_object_get(pData, "r"), "classification")),
                                       NULL) == IDX_WRITE_OK;
    json_decref(pData);
    if (!ok) return rc == PS_OK || rc == PS_NOT_FOUND ? no_record(r, o) : idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
    rc = idx_page_image_put(s->zDataDir, r->code.zCanonical, r->page, r->zBody, r->nBody, zErr, sizeof zErr);
    if (rc != PS_OK) return idx_resp_error(o, rc, zErr, NULL, 0, "body", 0);
    return idx_resp_json(o, 200, json_pack("{s:s,s:i,s:I}", "code", r->code.zCanonical, "page", (int)r->page, "bytes",
                                           (json_int_t)r->nBody));
}

int idx_h_image_get(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "", zPath[4400];
    const char *zType = NULL;
    json_t *pData;
    long approval = 0;
    json_t *pPage = open_page(s, r, IDX_READ_IMAGE, &approval, &pData, o);
    if (!pPage) return PS_OK;
    /* the original, or (for a caller who may not see personal numbers) the
     * copy with the numbers its page text holds blacked out */
    int rc = idx_page_image_view(s->zDataDir, r->code.zCanonical, r->page, json_is_object(pPage) ? pPage : NULL,
                                 idx_access_masks(r->pCaller), zPath, sizeof zPath, &zType, zErr, sizeof zErr);
    if (rc != PS_OK) {
        json_decref(pData);
        if (rc == PS_NOT_FOUND) {
            snprintf(zErr, sizeof zErr, "档号为 %s 的档案没有第 %u 页的扫描件", r->code.zCanonical, r->page);
            return idx_resp_error(o, PS_NOT_FOUND, zErr, NULL, 0, "page", 0);
        }
        if (rc == PS_UNAVAILABLE) return idx_resp_error(o, rc, zErr, NULL, 0, NULL, 0);
        IDX_LOG(IDX_LOG_ERROR, 0, "page image of %s page %u: %s", r->code.zCanonical, r->page, zErr);
        return idx_resp_error(o, rc, "无法生成该页扫描件", NULL, 0, NULL, 0);
    }
    int fd = open(zPath, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        json_decref(pData);
        return idx_resp_error(o, PS_IO, "无法读取该页扫描件", NULL, 0, NULL, 0);
    }
    idx_use use = {r->code.zCanonical, title_of(pData), "image", r->page, approval, cls_of(pData)};
    int ok = idx_register_use(s, r->pCaller, &use, o) == 0;
    json_decref(pData);
    if (!ok) {
        close(fd);
        return PS_OK;
    }
    return idx_resp_file(o, 200, fd, (uint64_t)st.st_size, zType);
}

int idx_h_boxes(idx_srv *s, idx_req *r, idx_resp *o)
{
    char zErr[512] = "";
    int rc = PS_OK;
    unsigned offset = 0;
    const char *zQ = idx_req_arg(r, "q");
    if (!zQ || !*zQ) return idx_resp_error(o, PS_INVALID, "查询命中位置须给出检索词：?q=…", NULL, 0, "q", 0);
    if (idx_access_query_refused(r->pCaller, zQ))
        return idx_resp_refuse(o, PS_FORBIDDEN, "按身份证号、银行账号或电话号码检索，须有查看这些号码的权限", 0);
    json_t *pData;
    long approval = 0;
    json_t *pPage = open_page(s, r, IDX_READ_BOXES, &approval, &pData, o);
    if (!pPage) return PS_OK;
    json_t *pOut = idx_page_boxes(pPage, zQ, &rc, &offset, zErr, sizeof zErr);
    json_decref(pData);
    if (!pOut) return idx_resp_error(o, rc, rc == PS_NOMEM ? NULL : zErr, NULL, 0, "q", offset);
    json_object_set_new(pOut, "code", json_string(r->code.zCanonical));
    json_object_set_new(pOut, "page", json_integer(r->page));
    return idx_resp_json(o, 200, pOut);
}
