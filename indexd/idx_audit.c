/* Catalog audit: the kept catalogs read with the import's own CSV reader
 * (idx_csv_scan), rules from proto_record_audit plus the rules across rows.
 * A file's rows are parsed once and held in memory; a report then walks
 * them, and only the page of the irregular list it answers becomes JSON
 * (a junk catalog can have millions of findings). */
#include "idx_audit.h"
#include "idx_csv.h"
#include "idx_dir.h"
#include "idx_file.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIND_MAX 16

static unsigned long long fnv64(const char *z, size_t n)
{
    unsigned long long h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)z[i]) * 1099511628211ull;
    return h;
}

static void catalog_dir(const char *zDataDir, char *z, size_t n)
{
    snprintf(z, n, "%s/catalogs", zDataDir);
}

/* ---- keeping catalogs ------------------------------------------------------- */

/* The kept catalogs as a folder listing shows them. */
typedef struct {
    char **azName;
    size_t nName;
    unsigned long long nBytes; /* all of them */
    unsigned long seq;         /* the highest sequence number */
    const char *zSame;         /* the one with the same content hash, or NULL */
} kept;

static void kept_clear(kept *k)
{
    idx_dir_free(k->azName, k->nName);
    memset(k, 0, sizeof *k);
}

static int kept_read(const char *zDir, const char *zHash, kept *k, char *zErr, size_t nErr)
{
    char zPath[4400];
    memset(k, 0, sizeof *k);
    int rc = idx_dir_list(zDir, ".csv", &k->azName, &k->nName);
    if (rc != PS_OK) {
        snprintf(zErr, nErr, "无法读取留存目录文件的文件夹");
        return rc;
    }
    for (size_t i = 0; i < k->nName; i++) {
        struct stat st;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, k->azName[i]);
        if (stat(zPath, &st) == 0) k->nBytes += (unsigned long long)st.st_size;
        unsigned long s = strtoul(k->azName[i], NULL, 10);
        if (s > k->seq) k->seq = s;
        const char *zDash = strchr(k->azName[i], '-');
        if (zHash && zDash && strncmp(zDash + 1, zHash, 16) == 0) k->zSame = k->azName[i];
    }
    return PS_OK;
}

static int room(const kept *k, size_t n, char *zErr, size_t nErr)
{
    if (n > IDX_CATALOG_FILE_MAX) {
        snprintf(zErr, nErr, "目录文件不得超过 %u MiB（检索服务要留存它供目录检查使用）；请拆分为几个较小的文件",
                 IDX_CATALOG_FILE_MAX >> 20);
        return PS_TOO_BIG;
    }
    if (k->zSame) return PS_OK; /* it replaces itself */
    if (k->nName >= IDX_CATALOG_COUNT_MAX) {
        snprintf(zErr, nErr, "检索服务已为目录检查留存 %zu 个目录文件，已达上限；管理员可在服务器上删除旧的目录文件"
                             "（indexd catalogs prune --keep N）", k->nName);
        return PS_CONFLICT;
    }
    if (k->nBytes + n > IDX_CATALOG_TOTAL_MAX) {
        snprintf(zErr, nErr, "为目录检查留存的目录文件合计将超过 %llu MiB；管理员可在服务器上删除旧的目录文件"
                             "（indexd catalogs prune --keep N）", IDX_CATALOG_TOTAL_MAX >> 20);
        return PS_CONFLICT;
    }
    return PS_OK;
}

int idx_catalog_room(const char *zDataDir, const char *z, size_t n, char *zErr, size_t nErr)
{
    char zDir[4096], zHash[24];
    kept k;
    if (n > IDX_CATALOG_FILE_MAX) return room(&(kept){0}, n, zErr, nErr);
    catalog_dir(zDataDir, zDir, sizeof zDir);
    snprintf(zHash, sizeof zHash, "%016llx", fnv64(z, n));
    int rc = kept_read(zDir, zHash, &k, zErr, nErr);
    if (rc == PS_OK) rc = room(&k, n, zErr, nErr);
    kept_clear(&k);
    return rc;
}

/* One writer at a time, so that two imports never take the same number. */
static pthread_mutex_t storeLock = PTHREAD_MUTEX_INITIALIZER;

int idx_catalog_store(const char *zDataDir, const char *z, size_t n, long long nAccepted, int *pKept, char *zErr,
                      size_t nErr)
{
    char zDir[4096], zPath[4400], zOld[4400], zHash[24];
    kept k = {0};
    *pKept = 0;
    if (nAccepted < 1) return PS_OK;
    catalog_dir(zDataDir, zDir, sizeof zDir);
    snprintf(zHash, sizeof zHash, "%016llx", fnv64(z, n));
    pthread_mutex_lock(&storeLock);
    int rc = idx_file_mkdirs(zDir, 0750, zErr, nErr);
    if (rc != PS_OK) snprintf(zErr, nErr, "无法创建留存目录文件的文件夹");
    if (rc == PS_OK) rc = kept_read(zDir, zHash, &k, zErr, nErr);
    if (rc == PS_OK) rc = room(&k, n, zErr, nErr);
    if (rc == PS_OK) {
        snprintf(zPath, sizeof zPath, "%s/%06lu-%s.csv", zDir, k.seq + 1, zHash);
        if (k.zSame) {
            /* the same file again: it is the latest now */
            snprintf(zOld, sizeof zOld, "%s/%s", zDir, k.zSame);
            char zE[512];
            if (idx_file_rename(zOld, zPath, zE, sizeof zE) != PS_OK) {
                /* the reason without the server's path: it goes to the client */
                snprintf(zErr, nErr, "无法留存目录文件：%s", strerror(errno));
                rc = PS_IO;
            }
        } else {
            /* the reason without the server's path: it goes to the client */
            char zE[512];
            rc = idx_file_replace(zPath, z, n, 0640, zE, sizeof zE);
            const char *zWhy = idx_file_reason(zE);
            if (rc != PS_OK) snprintf(zErr, nErr, "无法留存目录文件%s%s", zWhy ? "：" : "", zWhy ? zWhy : "");
        }
    }
    *pKept = rc == PS_OK;
    pthread_mutex_unlock(&storeLock);
    kept_clear(&k);
    return rc;
}

/* ---- parsed catalogs, held in memory ----------------------------------------- */

#define NONE ((size_t)-1)

/* A row as written; strings in the file's arena (offsets: it grows). */
typedef struct {
    long line;
    size_t oCode;   /* canonical 档号, NONE when it cannot be read */
    size_t oGroup;  /* 全宗-门类·年度-保管期限-机构, for gaps (with oCode) */
    size_t oFonds;  /* NONE when unknown */
    int item;       /* 件号, 0 unknown */
    long pages;     /* -1 unknown or bad */
    int complete;
    unsigned nFind;
    size_t iFind;   /* its first finding in the file's aFind */
} cat_row;

typedef struct {
    int field;
    const char *zRule; /* a string literal (proto_record_audit's or ours) */
    size_t oReason;
} cat_find;

typedef struct cat_file cat_file;
struct cat_file {
    char *zPath;
    long long size, mtimeNs;
    unsigned long long ino;
    cat_row *aRow;
    size_t nRow, nRowAlloc;
    cat_find *aFind;
    size_t nFind, nFindAlloc;
    char *zArena;
    size_t nArena, nArenaAlloc;
    char zError[256]; /* "" or why the file was not read whole */
    int noCache;      /* a read error: try again next time */
    size_t nBytes;    /* memory held */
    int nRef;         /* the cache and each report using it */
    cat_file *pNext;
};

/* Every report's files go through here; entries are immutable once in. */
static struct {
    pthread_mutex_t lock;
    cat_file *pFirst;
    size_t nBytes;
} cache = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static void cat_free(cat_file *p)
{
    if (!p) return;
    px_free(p->zPath);
    px_free(p->aRow);
    px_free(p->aFind);
    px_free(p->zArena);
    px_free(p);
}

static int grow(void **pa, size_t *pnAlloc, size_t nWant, size_t nSize)
{
    if (nWant <= *pnAlloc) return PS_OK;
    size_t nNew = *pnAlloc ? *pnAlloc : 256;
    while (nNew < nWant) nNew *= 2;
    void *a = px_realloc(*pa, nNew * nSize);
    if (!a) return PS_NOMEM;
    *pa = a;
    *pnAlloc = nNew;
    return PS_OK;
}

/* Copy z into the arena: *po its offset.  PS_OK or PS_NOMEM. */
static int arena_add(cat_file *p, const char *z, size_t *po)
{
    size_t n = strlen(z) + 1;
    void *a = p->zArena;
    if (grow(&a, &p->nArenaAlloc, p->nArena + n, 1) != PS_OK) return PS_NOMEM;
    p->zArena = a;
    memcpy(p->zArena + p->nArena, z, n);
    *po = p->nArena;
    p->nArena += n;
    return PS_OK;
}

static const char *arena(const cat_file *p, size_t o)
{
    return o == NONE ? NULL : p->zArena + o;
}

static int on_row(void *ctx, long line, const proto_record *r, int nFields)
{
    cat_file *p = ctx;
    void *a = p->aRow;
    if (grow(&a, &p->nRowAlloc, p->nRow + 1, sizeof *p->aRow) != PS_OK) return -1;
    p->aRow = a;
    cat_row *w = &p->aRow[p->nRow];
    memset(w, 0, sizeof *w);
    w->line = line;
    w->pages = -1;
    w->oCode = w->oGroup = w->oFonds = NONE;
    proto_finding aF[FIND_MAX];
    int nF = 0;
    if (!r) {
        memset(&aF[0], 0, sizeof aF[0]);
        aF[0].field = -1;
        aF[0].zRule = "shape";
        aF[0].severity = PROTO_FINDING_ERROR;
        if (nFields > 0) snprintf(aF[0].zReason, sizeof aF[0].zReason, "该行字段数（%d）多于表头", nFields);
        else snprintf(aF[0].zReason, sizeof aF[0].zReason, "该行无法读取：引号未闭合");
        nF = 1;
    } else {
        /* the row read as the import reads it: the findings, and the 档号
         * (leniently read) for duplicates and gaps */
        proto_record c;
        proto_record_init(&c);
        int rcN = PS_NOMEM;
        for (int f = 0; f < PF__COUNT; f++)
            if (r->az[f] && proto_record_set(&c, f, r->az[f], strlen(r->az[f])) != PS_OK) goto oom;
        rcN = proto_record_normalise(&c, aF, FIND_MAX, &nF, &w->complete);
    oom:
        if (rcN == PS_NOMEM) {
            proto_record_clear(&c);
            return -1;
        }
        if (nF > FIND_MAX) nF = FIND_MAX;
        /* notes (a 门类 by its name) are no irregular entries */
        int kept = 0;
        for (int k = 0; k < nF; k++)
            if (aF[k].severity != PROTO_FINDING_NOTE) aF[kept++] = aF[k];
        nF = kept;
        if (nFields != 0 && nF < FIND_MAX) {
            memset(&aF[nF], 0, sizeof aF[nF]);
            aF[nF].field = -1;
            aF[nF].zRule = "shape";
            aF[nF].severity = PROTO_FINDING_ERROR;
            if (nFields > 0) snprintf(aF[nF].zReason, sizeof aF[nF].zReason, "该行字段数（%d）少于表头", nFields);
            else snprintf(aF[nF].zReason, sizeof aF[nF].zReason, "该行的引号没有闭合：已按普通字符去掉引号，按逗号分列读入");
            nF++;
        }
        proto_code code;
        char zE[160];
        const char *zCode = rcN == PS_OK ? c.az[PF_CODE] : NULL;
        char zFonds[17] = "";
        int rcA = PS_OK;
        if (zCode && proto_code_parse(zCode, &code, zE, sizeof zE) == PS_OK) {
            char zGroup[96];
            snprintf(zGroup, sizeof zGroup, "%s-%s\xC2\xB7%04d-%s%s%s", code.zFonds, code.zCategory, code.year,
                     code.zRetention, code.zOrg[0] ? "-" : "", code.zOrg);
            if (arena_add(p, code.zCanonical, &w->oCode) != PS_OK || arena_add(p, zGroup, &w->oGroup) != PS_OK) rcA = -1;
            snprintf(zFonds, sizeof zFonds, "%s", code.zFonds);
            w->item = code.itemNo;
        } else if (r->az[PF_FONDS]) {
            snprintf(zFonds, sizeof zFonds, "%s", r->az[PF_FONDS]);
        }
        if (rcA == PS_OK && *zFonds && arena_add(p, zFonds, &w->oFonds) != PS_OK) rcA = -1;
        if (c.az[PF_PAGES]) w->pages = strtol(c.az[PF_PAGES], NULL, 10);
        proto_record_clear(&c);
        if (rcA != PS_OK) return -1;
    }
    a = p->aFind;
    if (grow(&a, &p->nFindAlloc, p->nFind + (size_t)nF, sizeof *p->aFind) != PS_OK) return -1;
    p->aFind = a;
    w->iFind = p->nFind;
    for (int k = 0; k < nF; k++) {
        cat_find *f = &p->aFind[p->nFind + (size_t)k];
        f->field = aF[k].field;
        f->zRule = aF[k].zRule;
        if (arena_add(p, aF[k].zReason, &f->oReason) != PS_OK) return -1;
    }
    p->nFind += (size_t)nF;
    w->nFind = (unsigned)nF;
    p->nRow++;
    return 0;
}

/* Give back what the growth left over: the rows stay for long. */
static void shrink(cat_file *p)
{
    void *a;
    if (p->nRow < p->nRowAlloc && p->nRow && (a = px_realloc(p->aRow, p->nRow * sizeof *p->aRow))) {
        p->aRow = a;
        p->nRowAlloc = p->nRow;
    }
    if (p->nFind < p->nFindAlloc && p->nFind && (a = px_realloc(p->aFind, p->nFind * sizeof *p->aFind))) {
        p->aFind = a;
        p->nFindAlloc = p->nFind;
    }
    if (p->nArena < p->nArenaAlloc && p->nArena && (a = px_realloc(p->zArena, p->nArena))) {
        p->zArena = a;
        p->nArenaAlloc = p->nArena;
    }
    p->nBytes = sizeof *p + strlen(p->zPath) + p->nRowAlloc * sizeof *p->aRow + p->nFindAlloc * sizeof *p->aFind +
                p->nArenaAlloc;
}

/* Read and parse one kept catalog (outside the cache's lock). */
static int cat_parse(const char *zPath, const struct stat *st, cat_file **ppF, char *zErr, size_t nErr)
{
    char *z = NULL, zE[256];
    size_t n = 0;
    cat_file *p = px_calloc(1, sizeof *p);
    *ppF = NULL;
    if (!p || !(p->zPath = px_strdup(zPath))) {
        cat_free(p);
        return PS_NOMEM;
    }
    p->size = (long long)st->st_size;
    p->mtimeNs = (long long)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec;
    p->ino = (unsigned long long)st->st_ino;
    p->nRef = 1;
    int rc = idx_file_read(zPath, IDX_CATALOG_FILE_MAX, &z, &n, zE, sizeof zE);
    if (rc == PS_TOO_BIG) {
        /* kept before the limit existed */
        snprintf(p->zError, sizeof p->zError, "超过 %u MiB，未读取", IDX_CATALOG_FILE_MAX >> 20);
    } else if (rc == PS_NOT_FOUND || rc == PS_IO) {
        snprintf(p->zError, sizeof p->zError, "无法读取");
        p->noCache = 1;
    } else if (rc != PS_OK) {
        cat_free(p);
        snprintf(zErr, nErr, "内存不足");
        return rc;
    } else {
        json_t *pRes = NULL;
        long line = 0;
        int rcScan = idx_csv_scan(z, n, on_row, p, &pRes, &line, zE, sizeof zE);
        px_free(z);
        json_decref(pRes);
        if (rcScan == PS_NOMEM) {
            cat_free(p);
            snprintf(zErr, nErr, "内存不足");
            return PS_NOMEM;
        }
        if (rcScan != PS_OK) snprintf(p->zError, sizeof p->zError, "%s", zE);
    }
    shrink(p);
    *ppF = p;
    return PS_OK;
}

static int same_file(const cat_file *p, const char *zPath, const struct stat *st)
{
    return p->size == (long long)st->st_size &&
           p->mtimeNs == (long long)st->st_mtim.tv_sec * 1000000000ll + st->st_mtim.tv_nsec &&
           p->ino == (unsigned long long)st->st_ino && strcmp(p->zPath, zPath) == 0;
}

/* Take an entry out of the cache (lock held); it is freed when its last
 * report lets it go. */
static void cache_unlink(cat_file **pp)
{
    cat_file *p = *pp;
    *pp = p->pNext;
    cache.nBytes -= p->nBytes;
    if (--p->nRef == 0) cat_free(p);
}

/* The parsed rows of zPath as it is now: *ppF (cat_release()), NULL when the
 * file is gone.  PS_OK, PS_NOMEM or PS_IO. */
static int cat_acquire(const char *zPath, cat_file **ppF, char *zErr, size_t nErr)
{
    struct stat st;
    *ppF = NULL;
    if (stat(zPath, &st) != 0) {
        if (errno == ENOENT) return PS_OK; /* pruned meanwhile */
        snprintf(zErr, nErr, "无法读取留存的目录文件 %s：%s", strrchr(zPath, '/') + 1, strerror(errno));
        return PS_IO;
    }
    pthread_mutex_lock(&cache.lock);
    for (cat_file *p = cache.pFirst; p; p = p->pNext) {
        if (same_file(p, zPath, &st)) {
            p->nRef++;
            pthread_mutex_unlock(&cache.lock);
            *ppF = p;
            return PS_OK;
        }
    }
    pthread_mutex_unlock(&cache.lock);
    cat_file *pNew;
    int rc = cat_parse(zPath, &st, &pNew, zErr, nErr);
    if (rc != PS_OK) return rc;
    pthread_mutex_lock(&cache.lock);
    cat_file **pp = &cache.pFirst;
    while (*pp) {
        if (same_file(*pp, zPath, &st)) {
            /* another report parsed it meanwhile */
            cat_file *p = *pp;
            p->nRef++;
            pthread_mutex_unlock(&cache.lock);
            cat_free(pNew);
            *ppF = p;
            return PS_OK;
        }
        if (strcmp((*pp)->zPath, zPath) == 0) cache_unlink(pp); /* an older version */
        else pp = &(*pp)->pNext;
    }
    if (!pNew->noCache && cache.nBytes + pNew->nBytes <= IDX_AUDIT_CACHE_MAX) {
        pNew->nRef++;
        pNew->pNext = cache.pFirst;
        cache.pFirst = pNew;
        cache.nBytes += pNew->nBytes;
    }
    pthread_mutex_unlock(&cache.lock);
    *ppF = pNew;
    return PS_OK;
}

static void cat_release(cat_file *p)
{
    if (!p) return;
    pthread_mutex_lock(&cache.lock);
    int last = --p->nRef == 0;
    pthread_mutex_unlock(&cache.lock);
    if (last) cat_free(p);
}

/* Drop the entries of folder zDir that this report did not use: files
 * deleted or pruned since. */
static void cache_forget_others(const char *zDir, cat_file *const *ap, size_t n)
{
    size_t nDir = strlen(zDir);
    pthread_mutex_lock(&cache.lock);
    cat_file **pp = &cache.pFirst;
    while (*pp) {
        const char *zP = (*pp)->zPath;
        int inDir = strncmp(zP, zDir, nDir) == 0 && zP[nDir] == '/' && !strchr(zP + nDir + 1, '/');
        int used = 0;
        for (size_t i = 0; inDir && !used && i < n; i++) used = ap[i] == *pp;
        if (inDir && !used) cache_unlink(pp);
        else pp = &(*pp)->pNext;
    }
    pthread_mutex_unlock(&cache.lock);
}

void idx_audit_cache_clear(void)
{
    pthread_mutex_lock(&cache.lock);
    while (cache.pFirst) cache_unlink(&cache.pFirst);
    pthread_mutex_unlock(&cache.lock);
}

/* ---- the audit ------------------------------------------------------------ */

/* What a report works out about one row (rows of all files, in order). */
typedef struct {
    const cat_row *w;
    int file;          /* index in the listing */
    int current;       /* not replaced by a later catalog, in scope */
    long dupLine;      /* 0, or the line of the first row with this 档号 */
    int gapFrom, gapTo; /* 件号 missing just before this row (0: none) */
} row_state;

/* One entry of the irregular list of a row, before it becomes JSON. */
typedef struct {
    const char *zRule;
    int field;
    int kind;          /* 0 a finding, 1 duplicate, 3 item_gap */
    const cat_find *f; /* kind 0 */
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->zRule, y->zRule);
    if (c) return c;
    return strcmp(x->field >= 0 ? proto_field_key(x->field) : "", y->field >= 0 ? proto_field_key(y->field) : "");
}

/* Rows of the same group by 件号, for gaps. */
typedef struct {
    const char *zGroup;
    int item;
    size_t iRow;
} gap_key;

static int cmp_gap(const void *a, const void *b)
{
    const gap_key *x = a, *y = b;
    int c = strcmp(x->zGroup, y->zGroup);
    return c ? c : x->item - y->item;
}

/* The JSON of one entry of row s (of file pF, listed as zFile). */
static json_t *entry_json(const entry *e, const row_state *s, const cat_file *pF, const char *zFile, int hidden)
{
    char zMsg[256];
    const char *zCode = arena(pF, s->w->oCode), *zReason = zMsg;
    if (e->kind == 0) zReason = arena(pF, e->f->oReason);
    else if (e->kind == 1) snprintf(zMsg, sizeof zMsg, "档号 %s 与第 %ld 行重复（重号）", zCode, s->dupLine);
    else if (s->gapTo == s->gapFrom)
        snprintf(zMsg, sizeof zMsg, "%s 缺件号 %04d（断号）", arena(pF, s->w->oGroup), s->gapFrom);
    else snprintf(zMsg, sizeof zMsg, "%s 缺件号 %04d-%04d（断号）", arena(pF, s->w->oGroup), s->gapFrom, s->gapTo);
    if (hidden) zCode = "", zReason = IDX_AUDIT_HIDDEN;
    return json_pack("{s:s,s:I,s:o,s:s,s:s,s:s,s:s,s:s}", "file", zFile, "line", (json_int_t)s->w->line,
                     "code", zCode ? json_string(zCode) : json_null(), "rule", e->zRule,
                     "field", e->field >= 0 ? proto_field_cn(e->field) : "",
                     "key", e->field >= 0 ? proto_field_key(e->field) : "", "reason", zReason,
                     "severity", e->kind == 3 ? "warning" : "error");
}

int idx_report_catalog(idx_index *p, const char *zDataDir, const idx_report_opts *o, json_t **ppOut,
                       char *zErr, size_t nErr)
{
    (void)p; /* the catalog alone is judged: scanning is item 22's and the acceptance check's */
    char zDir[4096], zPath[4400];
    char **azName = NULL;
    size_t nName = 0, nAll = 0;
    cat_file **apF = NULL;
    row_state *aS = NULL;
    gap_key *aGap = NULL;
    int *aOverlapped = NULL;
    json_t *pCatalogs = NULL, *pLast = NULL, *pPage = NULL, *pOut = NULL, *pSeen = NULL;
    int rc;
    catalog_dir(zDataDir, zDir, sizeof zDir);
    /* A file imported again meanwhile is renamed (it moves last): list
     * again rather than leave it out. */
    for (int nTry = 0;; nTry++) {
        if ((rc = idx_dir_list(zDir, ".csv", &azName, &nName)) != PS_OK) {
            snprintf(zErr, nErr, "无法读取留存的目录文件");
            return rc;
        }
        rc = PS_NOMEM;
        if (!(apF = px_calloc(nName + 1, sizeof *apF))) goto out;
        int nGone = 0;
        for (size_t i = 0; i < nName; i++) {
            snprintf(zPath, sizeof zPath, "%s/%s", zDir, azName[i]);
            if ((rc = cat_acquire(zPath, &apF[i], zErr, nErr)) != PS_OK) goto out;
            nGone += !apF[i];
        }
        if (!nGone || nTry == 2) break;
        for (size_t i = 0; i < nName; i++) cat_release(apF[i]);
        px_free(apF);
        apF = NULL;
        idx_dir_free(azName, nName);
        azName = NULL;
        nName = 0;
    }
    for (size_t i = 0; i < nName; i++) nAll += apF[i] ? apF[i]->nRow : 0;
    cache_forget_others(zDir, apF, nName);
    rc = PS_NOMEM;
    if (!(aOverlapped = px_calloc(nName + 1, sizeof *aOverlapped))) goto out;
    rc = PS_NOMEM;
    if (!(pCatalogs = json_array()) || !(pLast = json_object()) || !(pPage = json_array()) || !(pSeen = json_object()))
        goto out;
    if (!(aS = px_calloc(nAll + 1, sizeof *aS))) goto out;
    size_t nS = 0;
    for (size_t i = 0; i < nName; i++) {
        if (!apF[i]) continue;
        json_t *c = json_pack("{s:s,s:I}", "file", azName[i], "rows", (json_int_t)apF[i]->nRow);
        if (c && *apF[i]->zError) json_object_set_new(c, "error", json_string(apF[i]->zError));
        if (!c || json_array_append_new(pCatalogs, c) != 0) goto out;
        for (size_t j = 0; j < apF[i]->nRow; j++) {
            aS[nS].w = &apF[i]->aRow[j];
            aS[nS].file = (int)i;
            /* the last file holding each 档号 */
            const char *zCode = arena(apF[i], aS[nS].w->oCode);
            if (zCode && json_object_set_new(pLast, zCode, json_integer((json_int_t)i)) != 0) goto out;
            nS++;
        }
    }
    /* a file that a later one overlaps is replaced: its rows without a
     * readable 档号 go with it */
    for (size_t i = 0; i < nS; i++) {
        const char *zCode = arena(apF[aS[i].file], aS[i].w->oCode);
        if (zCode && json_integer_value(json_object_get(pLast, zCode)) != aS[i].file) aOverlapped[aS[i].file] = 1;
    }
    rc = PS_NOMEM;
    size_t nRows = 0, nComplete = 0, nErrors = 0, nWarnings = 0, nIrr = 0, nGap = 0;
    for (size_t i = 0; i < nS; i++) {
        row_state *s = &aS[i];
        const cat_file *pF = apF[s->file];
        const char *zCode = arena(pF, s->w->oCode), *zFonds = arena(pF, s->w->oFonds);
        if (zCode ? json_integer_value(json_object_get(pLast, zCode)) != s->file : aOverlapped[s->file])
            continue; /* replaced by a later catalog */
        if (o->zFonds && *o->zFonds && strcmp(zFonds ? zFonds : "", o->zFonds) != 0) continue;
        s->current = 1;
        nRows++;
        nComplete += (size_t)s->w->complete;
        nErrors += s->w->nFind;
        nIrr += s->w->nFind;
        if (!zCode) continue;
        json_t *pPrev = json_object_get(pSeen, zCode);
        if (pPrev) {
            s->dupLine = (long)json_integer_value(pPrev);
            nErrors++;
            nIrr++;
        } else {
            if (json_object_set_new(pSeen, zCode, json_integer(s->w->line)) != 0) goto out;
            nGap++;
        }
    }
    /* gaps in 件号 within a group (first rows of each 档号 only) */
    if (nGap && !(aGap = px_malloc(nGap * sizeof *aGap))) goto out;
    size_t k = 0;
    for (size_t i = 0; i < nS && k < nGap; i++) {
        const cat_file *pF = apF[aS[i].file];
        if (!aS[i].current || aS[i].w->oCode == NONE || aS[i].dupLine) continue;
        aGap[k++] = (gap_key){arena(pF, aS[i].w->oGroup), aS[i].w->item, i};
    }
    if (k) qsort(aGap, k, sizeof *aGap, cmp_gap);
    for (size_t i = 1; i < k; i++) {
        const gap_key *a = &aGap[i - 1], *b = &aGap[i];
        if (strcmp(a->zGroup, b->zGroup) != 0 || b->item <= a->item + 1) continue;
        aS[b->iRow].gapFrom = a->item + 1;
        aS[b->iRow].gapTo = b->item - 1;
        nWarnings++;
        nIrr++;
    }
    /* the page of the list, sorted by file and line (the order of aS) and,
     * within a row, by rule and key */
    size_t iEntry = 0, end = o->limit ? (size_t)o->offset + o->limit : nIrr;
    for (size_t i = 0; i < nS && iEntry < end; i++) {
        const row_state *s = &aS[i];
        if (!s->current) continue;
        const cat_file *pF = apF[s->file];
        entry aE[FIND_MAX + 3];
        size_t nE = 0;
        for (unsigned f = 0; f < s->w->nFind; f++) {
            const cat_find *pFind = &pF->aFind[s->w->iFind + f];
            aE[nE++] = (entry){pFind->zRule, pFind->field, 0, pFind};
        }
        if (s->dupLine) aE[nE++] = (entry){"duplicate", PF_CODE, 1, NULL};
        if (s->gapFrom) aE[nE++] = (entry){"item_gap", PF_ITEM_NO, 3, NULL};
        if (iEntry + nE <= o->offset) {
            iEntry += nE;
            continue;
        }
        qsort(aE, nE, sizeof *aE, cmp_entry);
        int hidden = -1; /* asked once per row, and only for rows listed */
        for (size_t j = 0; j < nE; j++, iEntry++) {
            if (iEntry < o->offset || iEntry >= end) continue;
            if (hidden < 0) {
                const char *zCode = arena(pF, s->w->oCode);
                hidden = zCode && o->xHidden && o->xHidden(o->pHiddenCtx, zCode);
            }
            json_t *x = entry_json(&aE[j], s, pF, azName[s->file], hidden);
            if (!x || json_array_append_new(pPage, x) != 0) goto out;
        }
    }
    double rate = nRows ? (double)nComplete / (double)nRows : 0.0;
    double score = 5.0 * rate - 0.2 * (double)nErrors;
    if (score < 0) score = 0;
    pOut = json_pack("{s:{s:o},s:s,s:O,s:I,s:I,s:f,s:I,s:I,s:f,s:I,s:O,s:I,s:I}",
                     "scope", "fonds", o->zFonds && *o->zFonds ? json_string(o->zFonds) : json_null(),
                     "rule", "录入率 = 档号、题名、责任者、日期、页数、保管期限齐全的条目数 / 条目数；"
                             "得分 = 5 × 录入率 − 0.2 × 不规范处数，最低 0 分",
                     "catalogs", pCatalogs, "rows", (json_int_t)nRows, "complete", (json_int_t)nComplete,
                     "entry_rate", round(rate * 10000.0) / 10000.0, "errors", (json_int_t)nErrors,
                     "warnings", (json_int_t)nWarnings, "score", round(score * 100.0) / 100.0,
                     "irregular_total", (json_int_t)nIrr, "irregular", pPage, "offset", (json_int_t)o->offset,
                     "limit", (json_int_t)o->limit);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    for (size_t i = 0; apF && i < nName; i++) cat_release(apF[i]);
    px_free(apF);
    px_free(aS);
    px_free(aGap);
    px_free(aOverlapped);
    idx_dir_free(azName, nName);
    json_decref(pCatalogs);
    json_decref(pLast);
    json_decref(pPage);
    json_decref(pSeen);
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

/* ---- indexd catalogs ------------------------------------------------------ */

static void catalogs_usage(void)
{
    fprintf(stderr, "usage: indexd catalogs list [--data-dir D]\n"
                    "       indexd catalogs delete FILE [--data-dir D]\n"
                    "       indexd catalogs prune --keep N [--data-dir D]   (keeps the N latest)\n");
}

static int catalogs_list(const char *zDir)
{
    kept k;
    char zErr[512], zPath[4400], zWhen[32];
    if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "indexd catalogs: %s\n", zErr);
        return 1;
    }
    for (size_t i = 0; i < k.nName; i++) {
        struct stat st;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, k.azName[i]);
        if (stat(zPath, &st) != 0) continue;
        struct tm tm;
        localtime_r(&st.st_mtime, &tm);
        strftime(zWhen, sizeof zWhen, "%Y-%m-%d %H:%M", &tm);
        printf("%s  %12lld bytes  %s\n", k.azName[i], (long long)st.st_size, zWhen);
    }
    printf("%zu catalogs, %llu bytes (limits: %u catalogs, %llu MiB)\n", k.nName, k.nBytes, IDX_CATALOG_COUNT_MAX,
           IDX_CATALOG_TOTAL_MAX >> 20);
    kept_clear(&k);
    return 0;
}

/* Remove one kept catalog, durably; zName must be one the folder lists. */
static int catalogs_remove(const char *zDir, const char *zName)
{
    char zPath[4400], zErr[512];
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zName);
    if (idx_file_remove(zPath, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "indexd catalogs: cannot delete %s: %s\n", zName, zErr);
        return 1;
    }
    return 0;
}

int idx_catalogs_main(const char *zDataDir, int argc, char **argv)
{
    const char *zCmd = argc > 1 ? argv[1] : NULL, *zArg = NULL, *zKeep = NULL;
    char zDir[4096], zErr[512];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **pz = NULL;
        if (strcmp(a, "--data-dir") == 0 || strcmp(a, "--data_dir") == 0) pz = &zDataDir;
        else if (strncmp(a, "--data-dir=", 11) == 0) { zDataDir = a + 11; continue; }
        else if (strcmp(a, "--keep") == 0) pz = &zKeep;
        else if (a[0] == '-' || zArg) {
            fprintf(stderr, "indexd catalogs: unexpected '%s'\n", a);
            catalogs_usage();
            return 2;
        } else {
            zArg = a;
            continue;
        }
        if (++i >= argc) {
            fprintf(stderr, "indexd catalogs: %s needs a value\n", a);
            return 2;
        }
        *pz = argv[i];
    }
    catalog_dir(zDataDir, zDir, sizeof zDir);
    if (zCmd && strcmp(zCmd, "list") == 0 && !zArg && !zKeep) return catalogs_list(zDir);
    kept k;
    if (zCmd && strcmp(zCmd, "delete") == 0 && zArg && !zKeep) {
        if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
            fprintf(stderr, "indexd catalogs: %s\n", zErr);
            return 1;
        }
        /* only a name the folder lists: never a path elsewhere */
        int found = 0;
        for (size_t i = 0; i < k.nName && !found; i++) found = strcmp(k.azName[i], zArg) == 0;
        kept_clear(&k);
        if (!found) {
            fprintf(stderr, "indexd catalogs: no kept catalog named '%s' (indexd catalogs list shows them)\n", zArg);
            return 1;
        }
        if (catalogs_remove(zDir, zArg) != 0) return 1;
        printf("deleted %s\n", zArg);
        return 0;
    }
    if (zCmd && strcmp(zCmd, "prune") == 0 && zKeep && !zArg) {
        char *e;
        long nKeep = strtol(zKeep, &e, 10);
        if (*e || e == zKeep || nKeep < 0) {
            fprintf(stderr, "indexd catalogs: --keep needs a number (0 or more)\n");
            return 2;
        }
        if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
            fprintf(stderr, "indexd catalogs: %s\n", zErr);
            return 1;
        }
        /* names sort by their import number: the oldest come first */
        size_t nDrop = k.nName > (size_t)nKeep ? k.nName - (size_t)nKeep : 0;
        int rc = 0;
        for (size_t i = 0; i < nDrop && rc == 0; i++) rc = catalogs_remove(zDir, k.azName[i]);
        if (rc == 0) printf("deleted %zu catalogs, kept %zu\n", nDrop, k.nName - nDrop);
        kept_clear(&k);
        return rc;
    }
    catalogs_usage();
    return 2;
}
