/* Use register and approvals: append-only NDJSON files, fsync per line. */
#include "idx_register.h"
#include "idx_log.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct idx_register {
    pthread_mutex_t mu;
    char *zUses, *zApprovals;  /* file paths */
    int fdUses, fdApprovals;
    long nextSeq, nextId;
    json_t *pApprovals;        /* state of every request, by id order */
};

/* Open an append-only file; close off a torn last line. */
static int open_log(const char *zPath, int *pFd, char *zErr, size_t nErr)
{
    int fd = open(zPath, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(zErr, nErr, "无法打开 %s：%s", zPath, strerror(errno));
        return PS_IO;
    }
    struct stat st;
    char ch;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &ch, 1, st.st_size - 1) == 1 && ch != '\n') {
        IDX_LOG(IDX_LOG_WARN, 0, "%s: the last line was cut short by a crash; it is skipped", zPath);
        if (write(fd, "\n", 1) != 1 || fdatasync(fd) != 0) {
            snprintf(zErr, nErr, "无法写入 %s：%s", zPath, strerror(errno));
            close(fd);
            return PS_IO;
        }
    }
    *pFd = fd;
    return PS_OK;
}

typedef int (*line_fn)(void *ctx, json_t *o);

/* Call xLine for every whole line of a log that parses as an object. */
static int read_log(const char *zPath, line_fn xLine, void *ctx, char *zErr, size_t nErr)
{
    FILE *f = fopen(zPath, "rb");
    if (!f) {
        if (errno == ENOENT) return PS_OK;
        snprintf(zErr, nErr, "无法读取 %s：%s", zPath, strerror(errno));
        return PS_IO;
    }
    char *zLine = NULL;
    size_t nAlloc = 0;
    ssize_t n;
    long line = 0;
    int rc = PS_OK;
    while (rc == PS_OK && (n = getline(&zLine, &nAlloc, f)) > 0) {
        line++;
        if (zLine[n - 1] != '\n') break;  /* torn: never answered */
        json_error_t je;
        je.text[0] = 0;
        json_t *o = json_loadb(zLine, (size_t)n, 0, &je);
        /* no message: jansson could not even start (out of memory) */
        if (!o && (!je.text[0] || json_error_code(&je) == json_error_out_of_memory)) {
            snprintf(zErr, nErr, "内存不足");
            rc = PS_NOMEM;
            break;
        }
        if (!json_is_object(o)) {
            if (n > 1) IDX_LOG(IDX_LOG_WARN, 0, "%s line %ld is not a JSON object; skipped", zPath, line);
            json_decref(o);
            continue;
        }
        rc = xLine(ctx, o);
        json_decref(o);
    }
    free(zLine);
    fclose(f);
    return rc;
}

/* Write one line and make it durable. */
static int append_line(int fd, const json_t *o, const char *zPath, char *zErr, size_t nErr)
{
    char *z = json_dumps(o, JSON_COMPACT);
    if (!z) return PS_NOMEM;
    size_t n = strlen(z);
    off_t at = lseek(fd, 0, SEEK_END);  /* to take back a partial write */
    z[n] = '\n';  /* json_dumps leaves room: replace the NUL, write n + 1 */
    size_t done = 0;
    int ok = 1;
    while (done < n + 1) {
        ssize_t w = write(fd, z + done, n + 1 - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { ok = 0; break; }
        done += (size_t)w;
    }
    free(z);
    if (!ok || fdatasync(fd) != 0) {
        int e = errno;
        /* no half line left for the next entry to be glued onto */
        if (at >= 0 && ftruncate(fd, at) != 0) IDX_LOG(IDX_LOG_ERROR, 0, "%s: cannot take back a partial line", zPath);
        snprintf(zErr, nErr, "无法写入 %s：%s", zPath, strerror(e));
        return PS_IO;
    }
    return PS_OK;
}

static int max_seq(void *ctx, json_t *o)
{
    long *p = ctx;
    long s = (long)json_integer_value(json_object_get(o, "seq"));
    if (s >= *p) *p = s + 1;
    return PS_OK;
}

static json_t *approval_by_id(json_t *a, long id)
{
    size_t i;
    json_t *o;
    json_array_foreach(a, i, o)
        if (json_integer_value(json_object_get(o, "id")) == id) return o;
    return NULL;
}

static int replay_approval(void *ctx, json_t *o)
{
    idx_register *p = ctx;
    const char *zEvent = json_string_value(json_object_get(o, "event"));
    long id = (long)json_integer_value(json_object_get(o, "id"));
    if (id <= 0 || !zEvent) return PS_OK;
    if (id >= p->nextId) p->nextId = id + 1;
    if (strcmp(zEvent, "request") == 0) {
        json_t *c = json_deep_copy(o);
        if (!c) return PS_NOMEM;
        json_object_del(c, "event");
        return json_array_append_new(p->pApprovals, c) == 0 ? PS_OK : PS_NOMEM;
    }
    json_t *pReq = approval_by_id(p->pApprovals, id);
    if (!pReq) return PS_OK;
    const char *zKey;
    json_t *v;
    json_object_foreach(o, zKey, v)
        if (strcmp(zKey, "event") != 0 && strcmp(zKey, "id") != 0) json_object_set(pReq, zKey, v);
    return PS_OK;
}

int idx_register_open(const char *zDataDir, idx_register **ppOut, char *zErr, size_t nErr)
{
    char zDir[4200];
    snprintf(zDir, sizeof zDir, "%s/register", zDataDir);
    if (mkdir(zDir, 0700) != 0 && errno != EEXIST) {
        snprintf(zErr, nErr, "无法创建 %s：%s", zDir, strerror(errno));
        return PS_IO;
    }
    idx_register *p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    p->fdUses = p->fdApprovals = -1;
    p->nextSeq = p->nextId = 1;
    size_t n = strlen(zDir) + 32;
    p->zUses = px_malloc(n);
    p->zApprovals = px_malloc(n);
    p->pApprovals = json_array();
    int rc = PS_NOMEM;
    if (!p->zUses || !p->zApprovals || !p->pApprovals) goto fail;
    snprintf(p->zUses, n, "%s/uses.ndjson", zDir);
    snprintf(p->zApprovals, n, "%s/approvals.ndjson", zDir);
    if ((rc = open_log(p->zUses, &p->fdUses, zErr, nErr)) != PS_OK) goto fail;
    if ((rc = open_log(p->zApprovals, &p->fdApprovals, zErr, nErr)) != PS_OK) goto fail;
    if ((rc = read_log(p->zUses, max_seq, &p->nextSeq, zErr, nErr)) != PS_OK) goto fail;
    if ((rc = read_log(p->zApprovals, replay_approval, p, zErr, nErr)) != PS_OK) goto fail;
    pthread_mutex_init(&p->mu, NULL);
    *ppOut = p;
    return PS_OK;
fail:
    if (p->fdUses >= 0) close(p->fdUses);
    if (p->fdApprovals >= 0) close(p->fdApprovals);
    json_decref(p->pApprovals);
    px_free(p->zUses);
    px_free(p->zApprovals);
    px_free(p);
    return rc;
}

void idx_register_close(idx_register *p)
{
    if (!p) return;
    pthread_mutex_destroy(&p->mu);
    close(p->fdUses);
    close(p->fdApprovals);
    json_decref(p->pApprovals);
    px_free(p->zUses);
    px_free(p->zApprovals);
    px_free(p);
}

int idx_register_append(idx_register *p, const idx_caller *c, const idx_use *u, char *zErr, size_t nErr)
{
    char zNow[40];
    idx_iso_time(time(NULL), zNow, sizeof zNow);
    pthread_mutex_lock(&p->mu);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)p->nextSeq, "time", zNow,
                          "user", c->zUser, "role", idx_role_name(c->role), "code", u->zCode ? u->zCode : "",
                          "title", u->zTitle ? u->zTitle : "", "kind", u->zKind, "purpose", c->zPurpose);
    int rc = PS_NOMEM;
    if (o) {
        if (u->page) json_object_set_new(o, "page", json_integer(u->page));
        if (u->approval) json_object_set_new(o, "approval", json_integer(u->approval));
        if (u->zClassification) json_object_set_new(o, "classification", json_string(u->zClassification));
        rc = append_line(p->fdUses, o, p->zUses, zErr, nErr);
        if (rc == PS_OK) p->nextSeq++;
        json_decref(o);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

typedef struct {
    const idx_register_filter *f;
    json_t *pList;
    unsigned long total, hidden;
    char zFrom[11], zTo[11];  /* YYYY-MM-DD */
    idx_entry_hidden_fn xHidden;
    void *pHiddenCtx;
} list_ctx;

static int list_line(void *ctx, json_t *o)
{
    list_ctx *l = ctx;
    const idx_register_filter *f = l->f;
    const char *zT = json_string_value(json_object_get(o, "time"));
    if (!zT || strlen(zT) < 10) return PS_OK;
    if (f->zUser && *f->zUser && strcmp(f->zUser, json_string_value(json_object_get(o, "user")) ? json_string_value(json_object_get(o, "user")) : "") != 0) return PS_OK;
    if (f->zCode && *f->zCode && strcmp(f->zCode, json_string_value(json_object_get(o, "code")) ? json_string_value(json_object_get(o, "code")) : "") != 0) return PS_OK;
    if (l->zFrom[0] && strncmp(zT, l->zFrom, 10) < 0) return PS_OK;
    if (l->zTo[0] && strncmp(zT, l->zTo, 10) > 0) return PS_OK;
    if (l->xHidden) {
        const char *zC = json_string_value(json_object_get(o, "code"));
        if (l->xHidden(l->pHiddenCtx, zC ? zC : "", json_string_value(json_object_get(o, "classification")))) {
            /* asked about one record, a count would tell a hidden one from an absent one */
            if (!(f->zCode && *f->zCode)) l->hidden++;
            return PS_OK;
        }
    }
    l->total++;
    if (l->total <= f->offset || (f->limit && l->total > (unsigned long)f->offset + f->limit)) return PS_OK;
    return json_array_append(l->pList, o) == 0 ? PS_OK : PS_NOMEM;
}

static void dashed(const char *z, char *zOut)
{
    zOut[0] = 0;
    if (z && strlen(z) == 8) snprintf(zOut, 11, "%.4s-%.2s-%.2s", z, z + 4, z + 6);
}

int idx_register_list(idx_register *p, const idx_register_filter *f, idx_entry_hidden_fn xHidden, void *pHiddenCtx,
                      json_t **ppOut, char *zErr, size_t nErr)
{
    list_ctx l = {f, json_array(), 0, 0, "", "", xHidden, pHiddenCtx};
    if (!l.pList) return PS_NOMEM;
    dashed(f->zFrom, l.zFrom);
    dashed(f->zTo, l.zTo);
    /* Lines are whole once written; reading needs no lock. */
    int rc = read_log(p->zUses, list_line, &l, zErr, nErr);
    if (rc != PS_OK) {
        json_decref(l.pList);
        return rc;
    }
    *ppOut = json_pack("{s:I,s:o,s:I}", "total", (json_int_t)l.total, "entries", l.pList, "hidden_total",
                       (json_int_t)l.hidden);
    return *ppOut ? PS_OK : PS_NOMEM;
}

/* ---- approvals --------------------------------------------------------- */

static const char *state_of(const json_t *o, time_t now)
{
    const char *z = json_string_value(json_object_get(o, "status"));
    if (!z) return "pending";
    if (strcmp(z, "approved") == 0 && json_integer_value(json_object_get(o, "expires_at")) <= (json_int_t)now) return "expired";
    return z;
}

/* A copy for the answer, with the current state. */
static json_t *view(const json_t *o, time_t now)
{
    json_t *c = json_deep_copy(o);
    if (c) {
        json_object_set_new(c, "status", json_string(state_of(o, now)));
        json_object_del(c, "expires_at");
        json_object_del(c, "uid");
    }
    return c;
}

int idx_approval_request(idx_register *p, const idx_caller *c, const char *zCode, const char *zTitle,
                         const char *zPurpose, json_t **ppOut, char *zErr, size_t nErr)
{
    char zNow[40];
    time_t now = time(NULL);
    idx_iso_time(now, zNow, sizeof zNow);
    pthread_mutex_lock(&p->mu);
    json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "event", "request", "id", (json_int_t)p->nextId,
                          "code", zCode, "title", zTitle ? zTitle : "", "user", c->zUser, "uid", c->zUid,
                          "purpose", zPurpose, "requested", zNow, "status", "pending");
    int rc = o ? append_line(p->fdApprovals, o, p->zApprovals, zErr, nErr) : PS_NOMEM;
    if (rc == PS_OK) {
        p->nextId++;
        json_object_del(o, "event");
        if (json_array_append(p->pApprovals, o) != 0) rc = PS_NOMEM;
        else *ppOut = view(o, now);
    }
    json_decref(o);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int idx_approval_decide(idx_register *p, const idx_caller *c, long id, int approve, const char *zNote, long days,
                        json_t **ppOut, char *zErr, size_t nErr)
{
    char zNow[40], zExp[40];
    time_t now = time(NULL), exp = now + days * 86400;
    idx_iso_time(now, zNow, sizeof zNow);
    idx_iso_time(exp, zExp, sizeof zExp);
    pthread_mutex_lock(&p->mu);
    json_t *pReq = approval_by_id(p->pApprovals, id);
    int rc = PS_OK;
    if (!pReq) {
        snprintf(zErr, nErr, "没有编号为 %ld 的审批申请", id);
        rc = PS_NOT_FOUND;
    } else if (strcmp(state_of(pReq, now), "pending") != 0) {
        const char *zState = state_of(pReq, now);
        snprintf(zErr, nErr, "编号为 %ld 的审批申请已审批（%s）", id,
                 strcmp(zState, "approved") == 0 ? "已批准"
                 : strcmp(zState, "denied") == 0 ? "未批准"
                 : strcmp(zState, "expired") == 0 ? "已过期" : zState);
        rc = PS_CONFLICT;
    }
    if (rc == PS_OK) {
        json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s}", "event", "decision", "id", (json_int_t)id, "status",
                              approve ? "approved" : "denied", "decided_by", c->zUser, "decided", zNow, "note",
                              zNote ? zNote : "");
        if (o && approve) {
            json_object_set_new(o, "expires", json_string(zExp));
            json_object_set_new(o, "expires_at", json_integer((json_int_t)exp));
        }
        rc = o ? append_line(p->fdApprovals, o, p->zApprovals, zErr, nErr) : PS_NOMEM;
        if (rc == PS_OK) {
            replay_approval(p, o);
            *ppOut = view(pReq, now);
        }
        json_decref(o);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Is request o c's?  Requests without a uid (written before uids were
 * recorded) are no one's. */
static int requester_is(const json_t *o, const idx_caller *c)
{
    const char *zU = json_string_value(json_object_get(o, "uid"));
    return zU && c->zUid[0] && strcmp(zU, c->zUid) == 0;
}

json_t *idx_approval_list(idx_register *p, const idx_caller *c, const char *zStatus)
{
    time_t now = time(NULL);
    json_t *a = json_array();
    if (!a) return NULL;
    pthread_mutex_lock(&p->mu);
    for (size_t i = json_array_size(p->pApprovals); i-- > 0;) {
        json_t *o = json_array_get(p->pApprovals, i);
        if (c && !requester_is(o, c)) continue;
        if (zStatus && *zStatus && strcmp(state_of(o, now), zStatus) != 0) continue;
        if (json_array_append_new(a, view(o, now)) != 0) {
            json_decref(a);
            a = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return a;
}

const char *idx_approval_status(idx_register *p, const idx_caller *c, const char *zCode, long *pId)
{
    const char *z = "none";
    time_t now = time(NULL);
    *pId = 0;
    pthread_mutex_lock(&p->mu);
    for (size_t i = json_array_size(p->pApprovals); i-- > 0;) {
        json_t *o = json_array_get(p->pApprovals, i);
        const char *zC = json_string_value(json_object_get(o, "code"));
        if (!zC || strcmp(zC, zCode) != 0 || !requester_is(o, c)) continue;
        z = state_of(o, now);  /* static strings or the stored status */
        if (strcmp(z, "approved") == 0) z = "approved";
        else if (strcmp(z, "denied") == 0) z = "denied";
        else if (strcmp(z, "expired") != 0) z = "pending";
        *pId = (long)json_integer_value(json_object_get(o, "id"));
        break;
    }
    pthread_mutex_unlock(&p->mu);
    return z;
}
