/* Access decisions (see idx_access.h). */
#include "idx_access.h"
#include "idx_mask.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVEL_TOP 5 /* 绝密 */

struct idx_access {
    char *zCats;     /* ",FH,XX," */
    int classified;
    idx_register *pReg;
};

int idx_access_open(const idx_access_opts *o, idx_register *pReg, idx_access **ppOut)
{
    const char *zCats = o->zApprovalCategories ? o->zApprovalCategories : "";
    idx_access *p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    size_t n = strlen(zCats) + 3;
    if (!(p->zCats = px_malloc(n))) {
        px_free(p);
        return PS_NOMEM;
    }
    char *d = p->zCats;
    *d++ = ',';
    for (const char *s = zCats; *s; s++)
        if (*s != ' ') *d++ = *s;
    *d++ = ',';
    *d = 0;
    p->classified = o->approvalClassified != 0;
    p->pReg = pReg;
    *ppOut = p;
    return PS_OK;
}

void idx_access_close(idx_access *p)
{
    if (!p) return;
    px_free(p->zCats);
    px_free(p);
}

/* ---- seeing ------------------------------------------------------------ */

int idx_access_level_ok(const idx_caller *w, const char *zClassification)
{
    /* a 密级 that is no known level may be anything: only the top sees it,
     * to correct it */
    int level = idx_clearance_level(zClassification);
    if (level < 0) level = LEVEL_TOP;
    return level <= w->clearance;
}

int idx_access_sees_unlinked(const idx_caller *w)
{
    return (w->perms & IDX_CAN_IMPORT) != 0;
}

int idx_access_sees_stored(const idx_caller *w, const json_t *pData)
{
    if (json_object_get(pData, "u") && !idx_access_sees_unlinked(w)) return 0;
    return idx_access_sees(w, json_object_get(pData, "r"));
}

int idx_access_sees(const idx_caller *w, const json_t *pRec)
{
    const json_t *v = json_object_get(pRec, "classification");
    if (v && !json_is_string(v) && !json_is_null(v)) return 0;
    return idx_access_level_ok(w, json_string_value(v));
}

int idx_access_visible_levels(const idx_caller *w, const char **azOut)
{
    int n = 0;
    for (int lv = 0; lv <= LEVEL_TOP && lv <= w->clearance; lv++) azOut[n++] = idx_clearance_name(lv);
    return n;
}

/* ---- writing ----------------------------------------------------------- */

int idx_access_write(const idx_caller *w, int bOld, const char *zOld, const char *zNew)
{
    if (bOld) {
        /* unreadable stored data, or a 密级 that is no known level: it may
         * be anything, so only the top may overwrite (and so correct) it */
        int level = zOld ? idx_clearance_level(zOld) : -1;
        if (level < 0 && w->clearance < LEVEL_TOP) return IDX_WRITE_HIDDEN;
        if (level >= 0 && level > w->clearance) return IDX_WRITE_HIDDEN;
    }
    /* a new 密级 that is no known level (a catalog's own word, 一般) is kept
     * as written and closes the record to every reader until it is
     * corrected: nothing is disclosed by writing it, and the row is kept */
    if (zNew && idx_clearance_level(zNew) >= 0 && !idx_access_level_ok(w, zNew)) return IDX_WRITE_ABOVE;
    return IDX_WRITE_OK;
}

void idx_access_write_message(int decision, const char *zCode, char *z, size_t n)
{
    if (decision == IDX_WRITE_ABOVE) snprintf(z, n, "档案的密级不能设为高于您可查阅的密级");
    else snprintf(z, n, "没有档号为 %s 的档案", zCode);
}

/* ---- opening text, images and boxes ------------------------------------ */

static int needs_approval(const idx_access *p, const char *zCat, size_t nCat, const char *zCls, size_t nCls)
{
    if (p->classified && nCls && !(nCls == strlen("公开") && memcmp(zCls, "公开", nCls) == 0)) return 1;
    if (nCat && nCat < 64) {
        char zKey[80];
        snprintf(zKey, sizeof zKey, ",%.*s,", (int)nCat, zCat);
        if (strstr(p->zCats, zKey)) return 1;
    }
    return 0;
}

static const char *sv(const json_t *o, const char *zKey)
{
    const char *z = json_string_value(json_object_get(o, zKey));
    return z ? z : "";
}

int idx_access_needs_approval(const idx_access *p, const idx_caller *w, const json_t *pRec)
{
    if (w->perms & IDX_CAN_APPROVE) return 0;
    const char *zCat = sv(pRec, "category"), *zCls = sv(pRec, "classification");
    return needs_approval(p, zCat, strlen(zCat), zCls, strlen(zCls));
}

/* The state of the caller's latest request for zCode ("none" … "approved"). */
static const char *approval_state(const idx_access *p, const idx_caller *w, const char *zCode, long *pId)
{
    *pId = 0;
    return p->pReg ? idx_approval_status(p->pReg, w, zCode, pId) : "none";
}

void idx_access_open_page(const idx_access *p, const idx_caller *w, const char *zCode, const json_t *pRec, int kind,
                          idx_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (idx_access_needs_approval(p, w, pRec)) {
        const char *zState = approval_state(p, w, zCode, &v->approval);
        if (strcmp(zState, "approved") != 0) {
            const char *zCn = strcmp(zState, "pending") == 0   ? "待审批"
                              : strcmp(zState, "denied") == 0  ? "未批准"
                              : strcmp(zState, "expired") == 0 ? "已过期"
                                                                : "未申请";
            snprintf(v->zWhy, sizeof v->zWhy,
                     "档号为 %s 的档案须经管理员审批后才能查看页面文本或扫描件（您的审批申请：%s）；"
                     "请写明利用目的申请审批",
                     zCode, zCn);
            v->rc = PS_APPROVAL;
            v->approval = 0;
            return;
        }
    }
    if (idx_access_is_view(kind) && !w->zPurpose[0]) {
        snprintf(v->zWhy, sizeof v->zWhy, "请先填写利用目的（为本次会话填写，或在查看时附上 ?purpose=…）");
        v->rc = PS_PURPOSE;
        return;
    }
    v->rc = PS_OK;
}

int idx_access_is_view(int kind)
{
    return kind == IDX_READ_TEXT || kind == IDX_READ_IMAGE;
}

json_t *idx_access_record_json(const idx_access *p, const idx_caller *w, const char *zCode, const json_t *pRec)
{
    int need = idx_access_needs_approval(p, w, pRec);
    long id = 0;
    const char *zState = need ? approval_state(p, w, zCode, &id) : "none";
    int text = (w->perms & IDX_CAN_VIEW) && (!need || strcmp(zState, "approved") == 0);
    json_t *pA = json_pack("{s:b,s:s}", "required", need, "status", zState);
    if (pA && id) json_object_set_new(pA, "id", json_integer(id));
    return pA ? json_pack("{s:b,s:o}", "text", text, "approval", pA) : NULL;
}

/* ---- masking ----------------------------------------------------------- */

const idx_caller *idx_access_approvals_of(const idx_caller *w)
{
    return (w->perms & IDX_CAN_APPROVE) ? NULL : w;
}

int idx_access_sees_all(const idx_caller *w)
{
    return w->clearance >= LEVEL_TOP;
}

int idx_access_server_paths(const idx_caller *w)
{
    return w->role == IDX_ROLE_ADMIN || w->role == IDX_ROLE_ARCHIVIST;
}

int idx_access_masks(const idx_caller *w)
{
    return !w->ids;
}

void idx_access_mask(const idx_caller *w, json_t *o)
{
    if (idx_access_masks(w)) idx_mask_json(o);
}

int idx_access_query_refused(const idx_caller *w, const char *zQuery)
{
    return idx_access_masks(w) && zQuery && *zQuery && idx_mask_query_refused(zQuery);
}

/* ---- what a search may match -------------------------------------------- */

int idx_access_scope(const idx_access *p, const idx_caller *w, idx_scope *pOut)
{
    memset(pOut, 0, sizeof *pOut);
    pOut->nLevel = idx_access_visible_levels(w, pOut->azLevel);
    pOut->hideUnlinked = !idx_access_sees_unlinked(w);
    pOut->allLevels = w->clearance >= LEVEL_TOP;
    if (w->perms & IDX_CAN_APPROVE) return PS_OK;
    /* categories named in the configuration */
    for (const char *s = p->zCats + 1; *s;) {
        const char *e = strchr(s, ',');
        if (!e) break;
        if (e > s) {
            char **a = px_realloc(pOut->azCategory, (size_t)(pOut->nCategory + 1) * sizeof *a);
            if (!a) goto nomem;
            pOut->azCategory = a;
            if (!(a[pOut->nCategory] = px_strndup(s, (size_t)(e - s)))) goto nomem;
            pOut->nCategory++;
        }
        s = e + 1;
    }
    if (p->classified)
        for (int i = 0; i < pOut->nLevel; i++)
            if (strcmp(pOut->azLevel[i], "公开") != 0) pOut->azClsLevel[pOut->nClsLevel++] = pOut->azLevel[i];
    pOut->restrict_ = pOut->nCategory > 0 || pOut->nClsLevel > 0;
    /* an approval opens text in search only together with a purpose: the
     * view is written in the register with it */
    if (pOut->restrict_ && p->pReg && w->zPurpose[0]) {
        json_t *a = idx_approval_list(p->pReg, w, "approved");
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x) {
            const char *zCode = json_string_value(json_object_get(x, "code"));
            if (!zCode) continue;
            char **az = px_realloc(pOut->azApproved, (size_t)(pOut->nApproved + 1) * sizeof *az);
            if (!az) {
                json_decref(a);
                goto nomem;
            }
            pOut->azApproved = az;
            if (!(az[pOut->nApproved] = px_strdup(zCode))) {
                json_decref(a);
                goto nomem;
            }
            pOut->nApproved++;
        }
        json_decref(a);
    }
    return PS_OK;
nomem:
    idx_scope_clear(pOut);
    return PS_NOMEM;
}

void idx_scope_clear(idx_scope *p)
{
    for (int i = 0; i < p->nCategory; i++) px_free(p->azCategory[i]);
    for (int i = 0; i < p->nApproved; i++) px_free(p->azApproved[i]);
    px_free(p->azCategory);
    px_free(p->azApproved);
    memset(p, 0, sizeof *p);
}

static int in_list(char *const *az, int n, const char *z, size_t nz)
{
    for (int i = 0; i < n; i++)
        if (strlen(az[i]) == nz && memcmp(az[i], z, nz) == 0) return 1;
    return 0;
}

int idx_scope_restricted(const idx_scope *p, const char *zCat, size_t nCat, const char *zCls, size_t nCls,
                         const char *zCode, size_t nCode)
{
    if (!p || !p->restrict_) return 0;
    int need = in_list(p->azCategory, p->nCategory, zCat, nCat) ||
               in_list((char *const *)p->azClsLevel, p->nClsLevel, zCls, nCls);
    if (!need) return 0;
    return in_list(p->azApproved, p->nApproved, zCode, nCode) ? 2 : 1;
}
