/* Catalog audit: the kept catalogs read with the import's own CSV reader
 * (idx_csv_scan), rules from proto_record_audit plus the rules across rows.
 * A file's rows are parsed once and held in memory; a report then merges
 * the rows of each 档号 across catalogs as the archive holds them (a later
 * catalog's row over the fields it has a column for), and only the page of
 * the irregular list it answers becomes JSON (a junk catalog can have
 * millions of findings). */
#include "idx_audit.h"
#include "idx_csv.h"
#include "idx_dir.h"
#include "idx_file.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <csv.h>
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
                snprintf(zErr, nErr, "无法留存目录文件：%s", proto_errno_cn(errno));
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
    int complete;
    unsigned have;  /* bit f: field f holds a value once the row is read (proto_record_normalise) */
    unsigned long long hash; /* the row once read (its catalog fields normalised), for duplicates */
    unsigned nFind;
    size_t iFind;   /* its first finding in the file's aFind */
} cat_row;

/* What a finding is about: a field, or the row as written. */
enum { FIND_FIELD, FIND_ROW };
/* Findings worked out once the scan is over (cat_resolve). */
enum { FIX_NONE, FIX_OPEN_QUOTE, FIX_UNREADABLE };

typedef struct {
    int field;
    const char *zRule; /* a string literal (proto_record_audit's or ours) */
    size_t oReason;
    unsigned char about; /* FIND_*: a row's own findings count only where the row is the entry */
    unsigned char fix;   /* FIX_* */
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
    unsigned cols;    /* bit f: the catalog has a column for field f */
    char zError[256]; /* "" or why the file was not read whole */
    int noCache;      /* a read error: try again next time */
    size_t nBytes;    /* memory held */
    int nRef;         /* the cache and each report using it */
    cat_file *pNext;
    const proto_finding *aReaderF; /* the reader's findings on the row being read */
    int nReaderF;
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

/* A row once read (normalised), for telling a row repeated from one that
 * differs, as the import does: every catalog field, set or not. */
static unsigned long long row_hash(const proto_record *r)
{
    unsigned long long h = 14695981039346656037ull;
    for (int f = 0; f < PF__COUNT; f++) {
        const char *z = r->az[f];
        h = (h ^ (unsigned char)(z ? f + 1 : 0)) * 1099511628211ull;
        for (; z && *z; z++) h = (h ^ (unsigned char)*z) * 1099511628211ull;
        h = (h ^ 0xFFu) * 1099511628211ull;
    }
    return h;
}

static void finding_set(proto_finding *f, int field, const char *zRule)
{
    memset(f, 0, sizeof *f);
    f->field = field;
    f->zRule = zRule;
    f->severity = PROTO_FINDING_ERROR;
}

/* The reason of a row whose quote was never closed, until cat_resolve
 * finds the line and the column where it opened. */
#define OPEN_QUOTE_REASON "该行有引号没有闭合：该引号已按普通字符去掉，此行按逗号分列读入，请核对各列"

static int on_row(void *ctx, long line, const proto_record *r, int nFields);

/* Every row as the import reads it, with the reader's own findings. */
static int on_row_ex(void *ctx, long line, const proto_record *r, int nFields, const proto_finding *aF, int nF)
{
    cat_file *p = ctx;
    p->aReaderF = aF;
    p->nReaderF = nF;
    int rc = on_row(ctx, line, r, nFields);
    p->aReaderF = NULL;
    p->nReaderF = 0;
    return rc;
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
    w->oCode = w->oGroup = w->oFonds = NONE;
    proto_finding aF[FIND_MAX];
    unsigned char aAbout[FIND_MAX] = {0}, aFix[FIND_MAX] = {0};
    int nF = 0;
    if (!r) {
        /* a row that cannot be read as written: names no item */
        if (nFields > 0) {
            finding_set(&aF[0], -1, "shape");
            snprintf(aF[0].zReason, sizeof aF[0].zReason, "该行字段数（%d）多于表头", nFields);
        } else {
            /* an open quote it could not be read around, or a cell that is
             * not text: the scan's account says which (cat_resolve) */
            finding_set(&aF[0], -1, "shape");
            snprintf(aF[0].zReason, sizeof aF[0].zReason, "该行无法读取");
            aFix[0] = FIX_UNREADABLE;
        }
        aAbout[0] = FIND_ROW;
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
        for (int k = 0; k < nF; k++) aAbout[k] = aF[k].field < 0 ? FIND_ROW : FIND_FIELD;
        if (nFields != 0 && nF < FIND_MAX) {
            /* the row as written: fewer fields than the header, or a quote
             * never closed (as the import says: unclosed_quote) */
            if (nFields > 0) {
                finding_set(&aF[nF], -1, "shape");
                snprintf(aF[nF].zReason, sizeof aF[nF].zReason, "该行字段数（%d）少于表头", nFields);
            } else {
                finding_set(&aF[nF], -1, "unclosed_quote");
                snprintf(aF[nF].zReason, sizeof aF[nF].zReason, "%s", OPEN_QUOTE_REASON);
                aFix[nF] = FIX_OPEN_QUOTE;
            }
            aAbout[nF] = FIND_ROW;
            nF++;
        }
        /* what the reader found in the row as written: a cell in another
         * encoding, cells past the header's columns */
        for (int k = 0; k < p->nReaderF && nF < FIND_MAX; k++) {
            if (p->aReaderF[k].severity == PROTO_FINDING_NOTE) continue;
            aF[nF] = p->aReaderF[k];
            aAbout[nF] = aF[nF].field < 0 ? FIND_ROW : FIND_FIELD;
            nF++;
        }
        for (int f = 0; rcN == PS_OK && f < PF__COUNT; f++)
            if (c.az[f]) w->have |= 1u << f;
        if (rcN == PS_OK) w->hash = row_hash(&c);
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
        f->about = aAbout[k];
        f->fix = aFix[k];
        if (arena_add(p, aF[k].zReason, &f->oReason) != PS_OK) return -1;
    }
    p->nFind += (size_t)nF;
    w->nFind = (unsigned)nF;
    p->nRow++;
    return 0;
}

/* ---- what the scan does not hand on: the columns, where a quote opened ----- */

/* Bytes of the line at z: up to and with its end, LF, CR LF or a lone CR,
 * as the import counts lines. */
static size_t line_len(const char *z, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (z[i] == '\n') return i + 1;
        if (z[i] == '\r') return i + 1 < n && z[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

typedef struct {
    int nField, nRow;
    int nLast;      /* fields of the row ended last */
    int atQuote;    /* fields of the row before the quote that opened last, -1 none */
} quote_state;

static void q_field(void *z, size_t n, void *ctx)
{
    (void)z;
    (void)n;
    ((quote_state *)ctx)->nField++;
}

static void q_row(int c, void *ctx)
{
    (void)c;
    quote_state *q = ctx;
    q->nLast = q->nField;
    q->nField = 0;
    q->nRow++;
}

/* The first row of z[0..n) as the import reads its header: *pEnd the bytes
 * up to its end, *pnField its fields.  0, or -1 when the text holds no whole
 * row (or out of memory). */
static int header_end(const char *z, size_t n, size_t *pEnd, int *pnField)
{
    struct csv_parser csv;
    quote_state q = {0, 0, 0, -1};
    if (csv_init(&csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) return -1;
    csv_set_realloc_func(&csv, px_realloc);
    csv_set_free_func(&csv, px_free);
    size_t i = 0;
    /* a row ends with its line: fed a line at a time, it ends a feed */
    while (i < n && !q.nRow) {
        size_t len = line_len(z + i, n - i);
        if (csv_parse(&csv, z + i, len, q_field, q_row, &q) != len) break;
        i += len;
    }
    csv_free(&csv);
    if (!q.nRow) return -1;
    *pEnd = i;
    *pnField = q.nLast;
    return 0;
}

/* Which field each column is: the import's own header reading, asked with a
 * row that names its columns. */
typedef struct {
    int *aCol;     /* proto_field per column, -1 */
    int nCol;
    unsigned cols;
    int nRow;
} col_probe;

static int on_probe(void *ctx, long line, const proto_record *r, int nFields)
{
    col_probe *c = ctx;
    (void)line;
    (void)nFields;
    if (!r || c->nRow++) return 0;
    for (int f = 0; f < PF__COUNT; f++) {
        int k;
        if (!r->az[f] || sscanf(r->az[f], "c%d", &k) != 1 || k < 0 || k >= c->nCol) continue;
        c->aCol[k] = f;
        c->cols |= 1u << f;
    }
    return 0;
}

/* The columns of the catalog t[0..n) (as the import decodes it): p->cols,
 * and *paCol (px_free) the field of each of its *pnCol columns.  PS_OK
 * (nothing known when the text has no whole header), PS_NOMEM. */
static int catalog_columns(cat_file *p, const char *t, size_t n, int **paCol, int *pnCol)
{
    size_t nHead;
    int nField;
    *paCol = NULL;
    *pnCol = 0;
    if (header_end(t, n, &nHead, &nField) != 0) return PS_OK;
    /* the header as written, then a row of "c0,c1,…" */
    size_t nProbe = nHead + 2 + (size_t)nField * 12;
    char *z = px_malloc(nProbe);
    int *aCol = px_malloc((size_t)nField * sizeof *aCol);
    if (!z || !aCol) {
        px_free(z);
        px_free(aCol);
        return PS_NOMEM;
    }
    memcpy(z, t, nHead);
    size_t k = nHead;
    if (!k || (t[k - 1] != '\n' && t[k - 1] != '\r')) z[k++] = '\n';
    for (int i = 0; i < nField; i++) {
        aCol[i] = -1;
        k += (size_t)snprintf(z + k, nProbe - k, "%sc%d", i ? "," : "", i);
    }
    z[k++] = '\n';
    col_probe c = {aCol, nField, 0, 0};
    json_t *pRes = NULL;
    long line = 0;
    char zE[256];
    int rc = idx_csv_scan(z, k, on_probe, &c, &pRes, &line, zE, sizeof zE);
    json_decref(pRes);
    px_free(z);
    if (rc == PS_NOMEM) {
        px_free(aCol);
        return PS_NOMEM;
    }
    p->cols = c.cols;
    *paCol = aCol;
    *pnCol = nField;
    return PS_OK;
}

/* Where the quote left open in the row z[0..n) begins, as the import finds
 * it (the last field that starts quoted): *pField the column, *pnLine the
 * lines before it.  0, or -1 when none is found. */
static int open_quote(const char *z, size_t n, int *pField, long *pnLine)
{
    struct csv_parser csv;
    quote_state q = {0, 0, 0, -1};
    size_t at = n;
    if (csv_init(&csv, 0) != 0) return -1;
    csv_set_realloc_func(&csv, px_realloc);
    csv_set_free_func(&csv, px_free);
    for (size_t i = 0; i < n; i++) {
        int was = csv.quoted;
        if (csv_parse(&csv, z + i, 1, q_field, q_row, &q) != 1) break;
        if (!was && csv.quoted) {
            at = i;
            q.atQuote = q.nField;
        }
    }
    csv_free(&csv);
    if (at >= n) return -1;
    long nLine = 0;
    for (size_t i = 0; i < at;) {
        size_t len = line_len(z + i, at - i);
        if (i + len > at || (z[i + len - 1] != '\n' && z[i + len - 1] != '\r')) break;
        i += len;
        nLine++;
    }
    *pField = q.atQuote;
    *pnLine = nLine;
    return 0;
}

/* What the scan's callback cannot say, from the text t[0..n) the import
 * reads and from its account pRes: the catalog's columns (p->cols); for a
 * row whose quote was never closed, the line and the column where it
 * opened; for a row that cannot be read at all, why.  PS_OK or PS_NOMEM. */
static int cat_resolve(cat_file *p, const char *t, size_t n, const json_t *pRes)
{
    int *aCol = NULL, nCol = 0;
    char zMsg[300];
    if (catalog_columns(p, t, n, &aCol, &nCol) != PS_OK) return PS_NOMEM;
    const json_t *pRej = json_object_get(pRes, "rejected");
    size_t iRej = 0, off = 0;
    long lineAt = 1; /* the line that starts at t + off */
    int rc = PS_OK;
    for (size_t i = 0; i < p->nRow && rc == PS_OK; i++) {
        cat_row *w = &p->aRow[i];
        for (unsigned k = 0; k < w->nFind && rc == PS_OK; k++) {
            cat_find *f = &p->aFind[w->iFind + k];
            if (f->fix == FIX_UNREADABLE) {
                /* the account lists the rows it could not read, in order */
                const json_t *x = NULL;
                while ((x = json_array_get(pRej, iRej)) && json_integer_value(json_object_get(x, "line")) < w->line) iRej++;
                if (x && json_integer_value(json_object_get(x, "line")) != w->line) x = NULL;
                const char *zKey = x ? json_string_value(json_object_get(x, "key")) : NULL;
                const char *zWhy = x ? json_string_value(json_object_get(x, "reason")) : NULL;
                int field = zKey && *zKey ? proto_field_lookup(zKey) : -1;
                f->field = field;
                if (zWhy && *zWhy) {
                    /* in scan mode, a quote left open that the row could not
                     * be read around */
                    if (strstr(zWhy, "引号")) f->zRule = "unclosed_quote";
                    rc = arena_add(p, zWhy, &f->oReason);
                } else if (x) {
                    snprintf(zMsg, sizeof zMsg, "%s%s不是有效的文字（UTF-8），此行无法读取", field >= 0 ? "" : "该行",
                             field >= 0 ? proto_field_cn(field) : "");
                    rc = arena_add(p, zMsg, &f->oReason);
                } else {
                    rc = arena_add(p, "该行无法读取：引号没有闭合，或单元格不是有效的文字", &f->oReason);
                }
            } else if (f->fix == FIX_OPEN_QUOTE) {
                /* the row runs to the line of the next one the scan handed on */
                long lineEnd = i + 1 < p->nRow ? p->aRow[i + 1].line : 0;
                while (off < n && lineAt < w->line) {
                    off += line_len(t + off, n - off);
                    lineAt++;
                }
                size_t end = off;
                for (long l = lineAt; end < n && (!lineEnd || l < lineEnd); l++) end += line_len(t + end, n - end);
                int col;
                long nLine;
                if (lineAt != w->line || open_quote(t + off, end - off, &col, &nLine) != 0) continue;
                int field = col >= 0 && col < nCol ? aCol[col] : -1;
                f->field = field;
                snprintf(zMsg, sizeof zMsg, "第 %ld 行%s%s%s的引号没有闭合：该引号已按普通字符去掉，此行按逗号分列读入，请核对各列",
                         w->line + nLine, field >= 0 ? "“" : "", field >= 0 ? proto_field_cn(field) : "",
                         field >= 0 ? "”开头" : "");
                rc = arena_add(p, zMsg, &f->oReason);
            }
        }
    }
    px_free(aCol);
    return rc;
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

/* Read and parse one kept catalog (outside the cache's lock): *ppF, NULL
 * when the file is gone meanwhile. */
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
    if (rc == PS_NOT_FOUND) {
        /* renamed (imported again) or pruned since it was listed: gone, not
         * unreadable (the report lists the folder again) */
        cat_free(p);
        return PS_OK;
    }
    if (rc == PS_TOO_BIG) {
        /* kept before the limit existed */
        snprintf(p->zError, sizeof p->zError, "超过 %u MiB，未读取", IDX_CATALOG_FILE_MAX >> 20);
    } else if (rc == PS_IO) {
        snprintf(p->zError, sizeof p->zError, "无法读取");
        p->noCache = 1;
    } else if (rc != PS_OK) {
        cat_free(p);
        snprintf(zErr, nErr, "内存不足");
        return rc;
    } else {
        json_t *pRes = NULL;
        long line = 0;
        int rcScan = idx_csv_scan_ex(z, n, on_row_ex, p, &pRes, &line, zE, sizeof zE);
        if (rcScan != PS_NOMEM) {
            /* the text as the scan read it, for what its callback cannot say */
            char *t = NULL, zEncErr[160];
            size_t nT = 0;
            const char *zEnc;
            long *aKept = NULL, bad = 0;
            size_t nKept = 0;
            int rcT = proto_to_utf8_lenient(z, n, &t, &nT, &zEnc, &aKept, &nKept, &bad, zEncErr, sizeof zEncErr);
            if (rcT == PS_NOMEM || (rcT == PS_OK && cat_resolve(p, t, nT, pRes) != PS_OK)) rcScan = PS_NOMEM;
            px_free(t);
            px_free(aKept);
        }
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
        snprintf(zErr, nErr, "无法读取留存的目录文件 %s：%s", strrchr(zPath, '/') + 1, proto_errno_cn(errno));
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
    if (rc != PS_OK || !pNew) return rc;
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

/* What a report makes of a row (rows of all files, in order). */
enum {
    ROLE_NONE,  /* not an entry: a later catalog holds its 档号, or out of scope */
    ROLE_ENTRY, /* an entry of the archive's catalog (the last row given for its 档号, a row that
                 * differs from it in the same catalog, or a row that names no item) */
    ROLE_SAME   /* the same row again, in the catalog that holds its 档号 last: only the duplicate */
};
#define USED_ROW (1u << 31) /* the row's findings about itself count */

typedef struct {
    const cat_row *w;
    int file;          /* index in the listing */
    unsigned char role;
    unsigned char same; /* its duplicate is the same row once read */
    unsigned used;     /* bit f: its value of field f is the one an entry holds (its findings on f
                        * count); USED_ROW */
    long dupLine;      /* 0, or the line of the row of the same file it repeats */
    int gapFrom, gapTo; /* 件号 missing just before this row (0: none) */
    size_t prev;       /* the row of its 档号 in the catalog before, whose values stand where this
                        * row's catalog has no column (NONE) */
    size_t iCode;      /* its 档号 in the report's table */
} row_state;

/* One 档号 of the catalogs. */
typedef struct {
    const char *z;
    int file;          /* the last catalog holding it so far */
    size_t first;      /* its first row in that catalog */
    size_t last;       /* the first row of the catalog before (the chain of values) */
} code_state;

/* Open addressing: 档号 to code_state, and (catalog, row once read) to the
 * line it was first written on.  Keys are never 0. */
typedef struct {
    unsigned long long *aKey;
    size_t *aVal;
    size_t nMask;
} hmap;

static int hmap_init(hmap *m, size_t nKeys)
{
    size_t n = 16;
    while (n < 2 * nKeys + 1) n *= 2;
    m->nMask = n - 1;
    m->aKey = px_calloc(n, sizeof *m->aKey);
    m->aVal = px_malloc(n * sizeof *m->aVal);
    return m->aKey && m->aVal ? PS_OK : PS_NOMEM;
}

static void hmap_free(hmap *m)
{
    px_free(m->aKey);
    px_free(m->aVal);
}

static unsigned long long key_of(unsigned long long h)
{
    return h ? h : 1;
}

/* The slot of 档号 z: *pNew 1 when it was not there (its value is then to
 * be set). */
static size_t code_slot(hmap *m, const code_state *aC, const char *z, int *pNew)
{
    unsigned long long k = key_of(fnv64(z, strlen(z)));
    size_t j = (size_t)k & m->nMask;
    while (m->aKey[j] && (m->aKey[j] != k || strcmp(aC[m->aVal[j]].z, z) != 0)) j = (j + 1) & m->nMask;
    *pNew = !m->aKey[j];
    m->aKey[j] = k;
    return j;
}

/* The line row hash h of catalog iFile was first written on, or 0 (it is
 * then recorded as written on `line`). */
static long same_row(hmap *m, int iFile, unsigned long long h, long line)
{
    unsigned long long k = key_of((h ^ ((unsigned long long)(unsigned)iFile * 0x9E3779B97F4A7C15ull)) *
                                  1099511628211ull);
    size_t j = (size_t)k & m->nMask;
    while (m->aKey[j] && m->aKey[j] != k) j = (j + 1) & m->nMask;
    if (m->aKey[j]) return (long)m->aVal[j];
    m->aKey[j] = k;
    m->aVal[j] = (size_t)line;
    return 0;
}

/* One entry of the irregular list of a row, before it becomes JSON. */
typedef struct {
    const char *zRule;
    int field;
    int kind;          /* 0 a finding, 1 duplicate, 3 item_gap */
    const cat_find *f; /* kind 0 */
} entry;

/* Does finding f of row s count? */
static int find_counts(const row_state *s, const cat_find *f)
{
    if (f->about == FIND_ROW || f->field < 0 || f->field >= PF__COUNT) return (s->used & USED_ROW) != 0;
    return (s->used & (1u << f->field)) != 0;
}

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
    else if (e->kind == 1 && s->same)
        snprintf(zMsg, sizeof zMsg, "档号 %s 与第 %ld 行完全相同（重复的行，计为一条）", zCode, s->dupLine);
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
    code_state *aC = NULL;
    hmap mCode = {0}, mSame = {0};
    json_t *pCatalogs = NULL, *pPage = NULL, *pOut = NULL;
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
    if (!(pCatalogs = json_array()) || !(pPage = json_array())) goto out;
    if (!(aS = px_calloc(nAll + 1, sizeof *aS)) || !(aC = px_malloc((nAll + 1) * sizeof *aC))) goto out;
    if (hmap_init(&mCode, nAll) != PS_OK || hmap_init(&mSame, nAll) != PS_OK) goto out;
    /* every row in import order: the rows of each 档号 chained from one
     * catalog to the next (a later catalog's row replaces the fields it has
     * a column for), and within a catalog the rows that repeat it */
    size_t nS = 0, nC = 0;
    for (size_t i = 0; i < nName; i++) {
        if (!apF[i]) continue;
        json_t *c = json_pack("{s:s,s:I}", "file", azName[i], "rows", (json_int_t)apF[i]->nRow);
        if (c && *apF[i]->zError) json_object_set_new(c, "error", json_string(apF[i]->zError));
        if (!c || json_array_append_new(pCatalogs, c) != 0) goto out;
        for (size_t j = 0; j < apF[i]->nRow; j++, nS++) {
            row_state *s = &aS[nS];
            s->w = &apF[i]->aRow[j];
            s->file = (int)i;
            s->prev = s->iCode = NONE;
            const char *zCode = arena(apF[i], s->w->oCode);
            if (!zCode) continue;
            int isNew;
            size_t k = code_slot(&mCode, aC, zCode, &isNew);
            if (isNew) {
                mCode.aVal[k] = nC;
                aC[nC++] = (code_state){zCode, -1, NONE, NONE};
            }
            code_state *c = &aC[mCode.aVal[k]];
            s->iCode = mCode.aVal[k];
            long sameLine = same_row(&mSame, (int)i, s->w->hash, s->w->line);
            if (c->file != (int)i) {
                /* its first row in this catalog: over the values before */
                s->prev = c->first;
                c->last = c->first;
                c->first = nS;
                c->file = (int)i;
            } else {
                /* again in the same catalog: the same row, or one that differs */
                s->prev = c->last;
                s->dupLine = sameLine ? sameLine : aS[c->first].w->line;
                s->same = sameLine != 0;
            }
        }
    }
    /* the entries: rows of the catalog that holds their 档号 last, and every
     * row that names no item (never entered, whatever came later) */
    size_t nRows = 0, nComplete = 0, nErrors = 0, nWarnings = 0, nIrr = 0, nGap = 0;
    const unsigned allFields = (1u << PF__COUNT) - 1;
    const unsigned mandatory = 1u << PF_TITLE | 1u << PF_AUTHOR | 1u << PF_DATE | 1u << PF_PAGES | 1u << PF_RETENTION;
    for (size_t i = 0; i < nS; i++) {
        row_state *s = &aS[i];
        const cat_file *pF = apF[s->file];
        const char *zFonds = arena(pF, s->w->oFonds);
        if (s->iCode != NONE && aC[s->iCode].file != s->file) continue; /* replaced by a later catalog */
        if (o->zFonds && *o->zFonds && strcmp(zFonds ? zFonds : "", o->zFonds) != 0) continue;
        if (s->same) {
            s->role = ROLE_SAME;
            continue;
        }
        s->role = ROLE_ENTRY;
        nRows++;
        if (s->iCode == NONE || s->prev == NONE) {
            /* one row gives it all */
            s->used |= allFields | USED_ROW;
            nComplete += (size_t)s->w->complete;
            continue;
        }
        /* each field from the last row that gives it: a row whose catalog
         * has the column (an empty cell empties it; a 密级 only when
         * given, as the import keeps one), or that holds a value (a column
         * of the 档号's parts, made from the 档号) */
        unsigned left = allFields, have = 0;
        for (size_t r = i; r != NONE && left; r = aS[r].prev) {
            unsigned gives = (aS[r].w->have | (apF[aS[r].file]->cols & ~(1u << PF_CLASSIFICATION))) & left;
            aS[r].used |= gives;
            have |= aS[r].w->have & gives;
            left &= ~gives;
        }
        s->used |= left | USED_ROW; /* no row gives it: the entry's own row says it is missing */
        nComplete += (have & mandatory) == mandatory;
    }
    /* what counts: the findings about the values the entries hold, each
     * once, at the row that gave the value; the duplicates */
    for (size_t i = 0; i < nS; i++) {
        const row_state *s = &aS[i];
        const cat_file *pF = apF[s->file];
        for (unsigned f = 0; s->used && f < s->w->nFind; f++) {
            size_t n = (size_t)find_counts(s, &pF->aFind[s->w->iFind + f]);
            nErrors += n;
            nIrr += n;
        }
        if (s->dupLine && s->role != ROLE_NONE) {
            nErrors++;
            nIrr++;
        }
        if (s->role == ROLE_ENTRY && s->iCode != NONE && !s->dupLine) nGap++;
    }
    /* gaps in 件号 within a group (first rows of each 档号 only) */
    rc = PS_NOMEM;
    if (nGap && !(aGap = px_malloc(nGap * sizeof *aGap))) goto out;
    size_t k = 0;
    for (size_t i = 0; i < nS && k < nGap; i++) {
        const cat_file *pF = apF[aS[i].file];
        if (aS[i].role != ROLE_ENTRY || aS[i].iCode == NONE || aS[i].dupLine) continue;
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
        const cat_file *pF = apF[s->file];
        entry aE[FIND_MAX + 3];
        size_t nE = 0;
        for (unsigned f = 0; s->used && f < s->w->nFind; f++) {
            const cat_find *pFind = &pF->aFind[s->w->iFind + f];
            if (find_counts(s, pFind)) aE[nE++] = (entry){pFind->zRule, pFind->field, 0, pFind};
        }
        if (s->dupLine && s->role != ROLE_NONE) aE[nE++] = (entry){"duplicate", PF_CODE, 1, NULL};
        if (s->gapFrom) aE[nE++] = (entry){"item_gap", PF_ITEM_NO, 3, NULL};
        if (!nE) continue;
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
    px_free(aC);
    px_free(aGap);
    hmap_free(&mCode);
    hmap_free(&mSame);
    idx_dir_free(azName, nName);
    json_decref(pCatalogs);
    json_decref(pPage);
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}

/* ---- indexd catalogs ------------------------------------------------------ */

static void catalogs_usage(void)
{
    fprintf(stderr, "用法：indexd catalogs list [--data-dir 数据目录]            列出为目录检查留存的目录文件\n"
                    "      indexd catalogs delete 文件名 [--data-dir 数据目录]   删除一个留存的目录文件\n"
                    "      indexd catalogs prune --keep N [--data-dir 数据目录]  只保留最近导入的 N 个\n");
}

static int catalogs_list(const char *zDir)
{
    kept k;
    char zErr[512], zPath[4400], zWhen[32];
    if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "indexd catalogs：%s\n", zErr);
        return 1;
    }
    for (size_t i = 0; i < k.nName; i++) {
        struct stat st;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, k.azName[i]);
        if (stat(zPath, &st) != 0) continue;
        struct tm tm;
        localtime_r(&st.st_mtime, &tm);
        strftime(zWhen, sizeof zWhen, "%Y-%m-%d %H:%M", &tm);
        printf("%s  %12lld 字节  %s\n", k.azName[i], (long long)st.st_size, zWhen);
    }
    printf("共 %zu 个目录文件，%llu 字节（上限：%u 个，%llu MiB）\n", k.nName, k.nBytes, IDX_CATALOG_COUNT_MAX,
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
        fprintf(stderr, "indexd catalogs：%s\n", zErr); /* on the server: its path may be shown */
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
            fprintf(stderr, "indexd catalogs：多余的参数“%s”\n", a);
            catalogs_usage();
            return 2;
        } else {
            zArg = a;
            continue;
        }
        if (++i >= argc) {
            fprintf(stderr, "indexd catalogs：%s 后面应有一个值\n", a);
            return 2;
        }
        *pz = argv[i];
    }
    catalog_dir(zDataDir, zDir, sizeof zDir);
    if (zCmd && strcmp(zCmd, "list") == 0 && !zArg && !zKeep) return catalogs_list(zDir);
    kept k;
    if (zCmd && strcmp(zCmd, "delete") == 0 && zArg && !zKeep) {
        if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
            fprintf(stderr, "indexd catalogs：%s\n", zErr);
            return 1;
        }
        /* only a name the folder lists: never a path elsewhere */
        int found = 0;
        for (size_t i = 0; i < k.nName && !found; i++) found = strcmp(k.azName[i], zArg) == 0;
        kept_clear(&k);
        if (!found) {
            fprintf(stderr, "indexd catalogs：没有名为“%s”的留存目录文件（indexd catalogs list 列出全部）\n", zArg);
            return 1;
        }
        if (catalogs_remove(zDir, zArg) != 0) return 1;
        printf("已删除 %s\n", zArg);
        return 0;
    }
    if (zCmd && strcmp(zCmd, "prune") == 0 && zKeep && !zArg) {
        char *e;
        long nKeep = strtol(zKeep, &e, 10);
        if (*e || e == zKeep || nKeep < 0) {
            fprintf(stderr, "indexd catalogs：--keep 后面应为一个数（0 或更大）\n");
            return 2;
        }
        if (kept_read(zDir, NULL, &k, zErr, sizeof zErr) != PS_OK) {
            fprintf(stderr, "indexd catalogs：%s\n", zErr);
            return 1;
        }
        /* names sort by their import number: the oldest come first */
        size_t nDrop = k.nName > (size_t)nKeep ? k.nName - (size_t)nKeep : 0;
        int rc = 0;
        for (size_t i = 0; i < nDrop && rc == 0; i++) rc = catalogs_remove(zDir, k.azName[i]);
        if (rc == 0) printf("已删除 %zu 个目录文件，保留 %zu 个\n", nDrop, k.nName - nDrop);
        kept_clear(&k);
        return rc;
    }
    catalogs_usage();
    return 2;
}
