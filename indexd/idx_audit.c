/* Catalog audit: the stored catalogs re-read with the import's own CSV
 * reader (idx_csv_scan), rules from proto_record_audit plus the rules
 * across rows. */
#include "idx_audit.h"
#include "idx_dir.h"
#include "idx_csv.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIND_MAX 16

static unsigned long long fnv64(const char *z, size_t n)
{
    unsigned long long h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)z[i]) * 1099511628211ull;
    return h;
}

static int list_catalogs(const char *zDir, char ***pazName, size_t *pn)
{
    return idx_dir_list(zDir, ".csv", pazName, pn);
}

static void free_names(char **az, size_t n)
{
    idx_dir_free(az, n);
}

int idx_catalog_store(const char *zDataDir, const char *z, size_t n, char *zErr, size_t nErr)
{
    char zDir[4096], zPath[4400], zTmp[4500], zHash[24];
    char **az;
    size_t nName;
    snprintf(zDir, sizeof zDir, "%s/catalogs", zDataDir);
    if (mkdir(zDir, 0750) != 0 && errno != EEXIST) {
        snprintf(zErr, nErr, "cannot keep the catalog: %s", strerror(errno));
        return PS_IO;
    }
    int rc = list_catalogs(zDir, &az, &nName);
    if (rc != PS_OK) {
        snprintf(zErr, nErr, "cannot read the catalog folder");
        return rc;
    }
    snprintf(zHash, sizeof zHash, "%016llx", fnv64(z, n));
    unsigned long seq = 0;
    const char *zSame = NULL;
    for (size_t i = 0; i < nName; i++) {
        unsigned long s = strtoul(az[i], NULL, 10);
        if (s > seq) seq = s;
        const char *zDash = strchr(az[i], '-');
        if (zDash && strncmp(zDash + 1, zHash, 16) == 0) zSame = az[i];
    }
    snprintf(zPath, sizeof zPath, "%s/%06lu-%s.csv", zDir, seq + 1, zHash);
    if (zSame) {
        /* the same file again: it is the latest now */
        snprintf(zTmp, sizeof zTmp, "%s/%s", zDir, zSame);
        rc = rename(zTmp, zPath) == 0 ? PS_OK : PS_IO;
    } else {
        snprintf(zTmp, sizeof zTmp, "%s/.%06lu.tmp", zDir, seq + 1);
        int fd = open(zTmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        size_t off = 0;
        while (fd >= 0 && off < n) {
            ssize_t k = write(fd, z + off, n - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            off += (size_t)k;
        }
        int ok = fd >= 0 && off == n && fsync(fd) == 0;
        if (fd >= 0) ok = close(fd) == 0 && ok;
        rc = ok && rename(zTmp, zPath) == 0 ? PS_OK : PS_IO;
        if (rc != PS_OK) unlink(zTmp);
    }
    if (rc != PS_OK) snprintf(zErr, nErr, "cannot keep the catalog: %s", strerror(errno));
    free_names(az, nName);
    return rc;
}

/* ---- the audit ------------------------------------------------------------ */

typedef struct {
    int file;
    long line;
    char *zCode;       /* canonical, NULL when the 档号 cannot be read */
    char *zGroup;      /* 全宗-门类·年度-保管期限-机构, for gaps */
    char zFonds[17];
    int item;          /* 件号, 0 unknown */
    long pages;        /* -1 unknown or bad */
    int complete;
    int nFind;
    proto_finding *aFind;
    int current;
} row;

typedef struct {
    row *a;
    size_t n, nAlloc;
    int file;
} rows;

static int on_row(void *ctx, long line, const proto_record *r, int nFields)
{
    rows *p = ctx;
    if (p->n == p->nAlloc) {
        size_t nNew = p->nAlloc ? p->nAlloc * 2 : 1024;
        row *a = px_realloc(p->a, nNew * sizeof *a);
        if (!a) return -1;
        p->a = a;
        p->nAlloc = nNew;
    }
    row *w = &p->a[p->n];
    memset(w, 0, sizeof *w);
    w->file = p->file;
    w->line = line;
    w->pages = -1;
    proto_finding aF[FIND_MAX];
    int nF = 0;
    if (!r) {
        aF[0].field = -1;
        aF[0].zRule = "shape";
        if (nFields > 0) snprintf(aF[0].zReason, sizeof aF[0].zReason, "the row has %d fields, more than the header", nFields);
        else snprintf(aF[0].zReason, sizeof aF[0].zReason, "the row cannot be read: an unterminated quote or a control character in a cell");
        nF = 1;
    } else {
        nF = proto_record_audit(r, aF, FIND_MAX, &w->complete);
        if (nF > FIND_MAX) nF = FIND_MAX;
        if (nFields > 0 && nF < FIND_MAX) {
            aF[nF].field = -1;
            aF[nF].zRule = "shape";
            snprintf(aF[nF].zReason, sizeof aF[nF].zReason, "the row has %d fields, fewer than the header", nFields);
            nF++;
        }
        proto_code c;
        char zE[160], zMade[PROTO_CODE_MAX * 2];
        const char *zCode = r->az[PF_CODE];
        if (!zCode && r->az[PF_FONDS] && r->az[PF_CATEGORY] && r->az[PF_YEAR] && r->az[PF_RETENTION] && r->az[PF_ITEM_NO]) {
            const char *zRet = proto_retention_code(r->az[PF_RETENTION]);
            snprintf(zMade, sizeof zMade, "%s-%s\xC2\xB7%s-%s%s%s-%04ld", r->az[PF_FONDS], r->az[PF_CATEGORY],
                     r->az[PF_YEAR], zRet ? zRet : r->az[PF_RETENTION], r->az[PF_ORG] ? "-" : "",
                     r->az[PF_ORG] ? r->az[PF_ORG] : "", strtol(r->az[PF_ITEM_NO], NULL, 10));
            zCode = zMade;
        }
        if (zCode && proto_code_parse(zCode, &c, zE, sizeof zE) == PS_OK) {
            char zGroup[96];
            snprintf(zGroup, sizeof zGroup, "%s-%s\xC2\xB7%04d-%s%s%s", c.zFonds, c.zCategory, c.year, c.zRetention,
                     c.zOrg[0] ? "-" : "", c.zOrg);
            w->zCode = px_strdup(c.zCanonical);
            w->zGroup = px_strdup(zGroup);
            if (!w->zCode || !w->zGroup) return -1;
            snprintf(w->zFonds, sizeof w->zFonds, "%s", c.zFonds);
            w->item = c.itemNo;
        } else if (r->az[PF_FONDS]) {
            snprintf(w->zFonds, sizeof w->zFonds, "%s", r->az[PF_FONDS]);
        }
        char *e;
        if (r->az[PF_PAGES]) {
            long v = strtol(r->az[PF_PAGES], &e, 10);
            if (!*e && v > 0) w->pages = v;
        }
    }
    if (nF) {
        w->aFind = px_malloc((size_t)nF * sizeof *w->aFind);
        if (!w->aFind) return -1;
        memcpy(w->aFind, aF, (size_t)nF * sizeof *aF);
        w->nFind = nF;
    }
    p->n++;
    return 0;
}

static void rows_clear(rows *p)
{
    for (size_t i = 0; i < p->n; i++) {
        px_free(p->a[i].zCode);
        px_free(p->a[i].zGroup);
        px_free(p->a[i].aFind);
    }
    px_free(p->a);
}

static int add_irregular(json_t *pList, const char *zFile, const row *w, int field, const char *zRule,
                         const char *zReason, int warning)
{
    json_t *o = json_pack("{s:s,s:I,s:o,s:s,s:s,s:s,s:s,s:s}", "file", zFile, "line", (json_int_t)w->line,
                          "code", w->zCode ? json_string(w->zCode) : json_null(), "rule", zRule,
                          "field", field >= 0 ? proto_field_cn(field) : "", "key", field >= 0 ? proto_field_key(field) : "",
                          "reason", zReason, "severity", warning ? "warning" : "error");
    return o && json_array_append_new(pList, o) == 0 ? PS_OK : PS_NOMEM;
}

/* Rows of the same group by 件号, for gaps. */
static int cmp_group(const void *a, const void *b)
{
    const row *x = *(row *const *)a, *y = *(row *const *)b;
    int c = strcmp(x->zGroup, y->zGroup);
    return c ? c : x->item - y->item;
}

static int cmp_irregular(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(json_string_value(json_object_get(x, "file")), json_string_value(json_object_get(y, "file")));
    if (c) return c;
    json_int_t lx = json_integer_value(json_object_get(x, "line")), ly = json_integer_value(json_object_get(y, "line"));
    if (lx != ly) return lx < ly ? -1 : 1;
    c = strcmp(json_string_value(json_object_get(x, "rule")), json_string_value(json_object_get(y, "rule")));
    return c ? c : strcmp(json_string_value(json_object_get(x, "key")), json_string_value(json_object_get(y, "key")));
}

int idx_report_catalog(idx_index *p, const char *zDataDir, const idx_report_opts *o, json_t **ppOut,
                       char *zErr, size_t nErr)
{
    char zDir[4096], zPath[4400];
    char **azName = NULL;
    size_t nName = 0;
    rows rs = {0};
    json_t *pCatalogs = NULL, *pLast = NULL, *pScanned = NULL, *pList = NULL, *pOut = NULL, *pSeen = NULL;
    row **apGroup = NULL;
    int rc;
    snprintf(zDir, sizeof zDir, "%s/catalogs", zDataDir);
    if ((rc = list_catalogs(zDir, &azName, &nName)) != PS_OK) {
        snprintf(zErr, nErr, "cannot read the kept catalogs");
        return rc;
    }
    rc = PS_NOMEM;
    if (!(pCatalogs = json_array()) || !(pLast = json_object()) || !(pList = json_array()) || !(pSeen = json_object()))
        goto out;
    for (size_t i = 0; i < nName; i++) {
        char *z = NULL;
        size_t n = 0;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, azName[i]);
        FILE *f = fopen(zPath, "rb");
        struct stat st;
        if (!f || fstat(fileno(f), &st) != 0 || !(z = px_malloc((size_t)st.st_size + 1)) ||
            fread(z, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
            if (f) fclose(f);
            px_free(z);
            snprintf(zErr, nErr, "cannot read the kept catalog %s", azName[i]);
            rc = PS_IO;
            goto out;
        }
        fclose(f);
        n = (size_t)st.st_size;
        size_t nBefore = rs.n;
        rs.file = (int)i;
        json_t *pRes = NULL;
        long line = 0;
        char zE[256];
        int rcScan = idx_csv_scan(z, n, on_row, &rs, &pRes, &line, zE, sizeof zE);
        px_free(z);
        json_decref(pRes);
        if (rcScan == PS_NOMEM) goto out;
        json_t *c = json_pack("{s:s,s:I}", "file", azName[i], "rows", (json_int_t)(rs.n - nBefore));
        if (rcScan != PS_OK && c) json_object_set_new(c, "error", json_string(zE));
        if (!c || json_array_append_new(pCatalogs, c) != 0) goto out;
    }
    /* the last file holding each 档号 */
    for (size_t i = 0; i < rs.n; i++)
        if (rs.a[i].zCode && json_object_set_new(pLast, rs.a[i].zCode, json_integer(rs.a[i].file)) != 0) goto out;
    /* a file that a later one overlaps is replaced: its rows without a
     * readable 档号 go with it */
    int *aOverlapped = px_calloc(nName + 1, sizeof *aOverlapped);
    if (!aOverlapped) goto out;
    for (size_t i = 0; i < rs.n; i++)
        if (rs.a[i].zCode && json_integer_value(json_object_get(pLast, rs.a[i].zCode)) != rs.a[i].file)
            aOverlapped[rs.a[i].file] = 1;
    for (size_t i = 0; i < rs.n; i++)
        if (!rs.a[i].zCode && aOverlapped[rs.a[i].file]) rs.a[i].file = -1 - rs.a[i].file; /* marked replaced */
    px_free(aOverlapped);
    if ((rc = idx_report_scanned(p, &pScanned, zErr, nErr)) != PS_OK) goto out;
    rc = PS_NOMEM;
    size_t nRows = 0, nComplete = 0, nErrors = 0, nWarnings = 0, nGroup = 0;
    char zMsg[256];
    for (size_t i = 0; i < rs.n; i++) {
        row *w = &rs.a[i];
        if (w->file < 0 || (w->zCode && json_integer_value(json_object_get(pLast, w->zCode)) != w->file))
            continue; /* replaced by a later catalog */
        if (o->zFonds && *o->zFonds && strcmp(w->zFonds, o->zFonds) != 0) continue;
        w->current = 1;
        nRows++;
        nComplete += (size_t)w->complete;
        const char *zFile = azName[w->file];
        for (int k = 0; k < w->nFind; k++) {
            if (add_irregular(pList, zFile, w, w->aFind[k].field, w->aFind[k].zRule, w->aFind[k].zReason, 0) != PS_OK)
                goto out;
            nErrors++;
        }
        if (w->zCode) {
            json_t *pPrev = json_object_get(pSeen, w->zCode);
            if (pPrev) {
                snprintf(zMsg, sizeof zMsg, "档号 %s is already on line %lld", w->zCode, (long long)json_integer_value(pPrev));
                if (add_irregular(pList, zFile, w, PF_CODE, "duplicate", zMsg, 0) != PS_OK) goto out;
                nErrors++;
            } else if (json_object_set_new(pSeen, w->zCode, json_integer(w->line)) != 0) {
                goto out;
            } else {
                nGroup++;
            }
            json_t *pS = json_object_get(pScanned, w->zCode);
            if (pS && w->pages > 0 && json_integer_value(pS) != w->pages) {
                snprintf(zMsg, sizeof zMsg, "页数 is %ld but %lld pages are scanned", w->pages,
                         (long long)json_integer_value(pS));
                if (add_irregular(pList, zFile, w, PF_PAGES, "pages_scanned", zMsg, 0) != PS_OK) goto out;
                nErrors++;
            }
        }
    }
    /* gaps in 件号 within a group (first rows of each 档号 only) */
    if (nGroup && !(apGroup = px_malloc(nGroup * sizeof *apGroup))) goto out;
    size_t k = 0;
    json_object_clear(pSeen);
    for (size_t i = 0; i < rs.n; i++) {
        row *w = &rs.a[i];
        if (!w->current || !w->zCode || json_object_get(pSeen, w->zCode)) continue;
        if (json_object_set_new(pSeen, w->zCode, json_true()) != 0) goto out;
        apGroup[k++] = w;
    }
    if (k) qsort(apGroup, k, sizeof *apGroup, cmp_group);
    for (size_t i = 1; i < k; i++) {
        row *a = apGroup[i - 1], *b = apGroup[i];
        if (strcmp(a->zGroup, b->zGroup) != 0 || b->item <= a->item + 1) continue;
        if (b->item == a->item + 2) snprintf(zMsg, sizeof zMsg, "件号 %04d is missing in %s", a->item + 1, b->zGroup);
        else snprintf(zMsg, sizeof zMsg, "件号 %04d-%04d are missing in %s", a->item + 1, b->item - 1, b->zGroup);
        if (add_irregular(pList, azName[b->file], b, PF_ITEM_NO, "item_gap", zMsg, 1) != PS_OK) goto out;
        nWarnings++;
    }
    /* sorted by file and line; paged */
    size_t nIrr = json_array_size(pList);
    json_t **ap = nIrr ? px_malloc(nIrr * sizeof *ap) : NULL;
    if (nIrr && !ap) goto out;
    for (size_t i = 0; i < nIrr; i++) ap[i] = json_incref(json_array_get(pList, i));
    if (nIrr) qsort(ap, nIrr, sizeof *ap, cmp_irregular);
    json_t *pPage = json_array();
    size_t end = o->limit ? (size_t)o->offset + o->limit : nIrr;
    for (size_t i = 0; i < nIrr; i++) {
        if (pPage && i >= o->offset && i < end) json_array_append(pPage, ap[i]);
        json_decref(ap[i]);
    }
    px_free(ap);
    if (!pPage) goto out;
    double rate = nRows ? (double)nComplete / (double)nRows : 0.0;
    double score = 5.0 * rate - 0.2 * (double)nErrors;
    if (score < 0) score = 0;
    pOut = json_pack("{s:{s:o},s:s,s:O,s:I,s:I,s:f,s:I,s:I,s:f,s:I,s:o,s:I,s:I}",
                     "scope", "fonds", o->zFonds && *o->zFonds ? json_string(o->zFonds) : json_null(),
                     "rule", "entry_rate = rows with 档号, 题名, 责任者, 日期, 页数, 保管期限 / rows; "
                             "score = 5 x entry_rate - 0.2 per error, not below 0",
                     "catalogs", pCatalogs, "rows", (json_int_t)nRows, "complete", (json_int_t)nComplete,
                     "entry_rate", round(rate * 10000.0) / 10000.0, "errors", (json_int_t)nErrors,
                     "warnings", (json_int_t)nWarnings, "score", round(score * 100.0) / 100.0,
                     "irregular_total", (json_int_t)nIrr, "irregular", pPage, "offset", (json_int_t)o->offset,
                     "limit", (json_int_t)o->limit);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "out of memory");
    px_free(apGroup);
    rows_clear(&rs);
    free_names(azName, nName);
    json_decref(pCatalogs);
    json_decref(pLast);
    json_decref(pScanned);
    json_decref(pList);
    json_decref(pSeen);
    *ppOut = rc == PS_OK ? pOut : NULL;
    return rc;
}
