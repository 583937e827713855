/* Walking a delivery folder, and the resume journal. */
#include "oc_delivery.h"
#include "oc_read.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEPTH_MAX 8

static int all_digits(const char *z, size_t n)
{
    if (n == 0 || n > 6) return 0;
    for (size_t i = 0; i < n; i++)
        if (z[i] < '0' || z[i] > '9') return 0;
    return 1;
}

static int parse_code(const char *z, size_t n, char *zCode)
{
    char zBuf[256];
    char zErr[128];
    proto_code c;
    if (n == 0 || n >= sizeof zBuf) return 0;
    memcpy(zBuf, z, n);
    zBuf[n] = 0;
    if (proto_code_parse(zBuf, &c, zErr, sizeof zErr) != PS_OK) return 0;
    memcpy(zCode, c.zCanonical, PROTO_CODE_MAX);
    return 1;
}

int oc_name_code(const char *zDir, const char *zName, char *zCode, int *pPage)
{
    const char *zDot = strrchr(zName, '.');
    size_t nStem = zDot && zDot != zName ? (size_t)(zDot - zName) : strlen(zName);
    *pPage = 0;
    if (parse_code(zName, nStem, zCode)) return 1;
    /* <档号>-0001: the page after the last separator */
    for (size_t i = nStem; i-- > 1;) {
        if (zName[i] != '-' && zName[i] != '_') continue;
        if (all_digits(zName + i + 1, nStem - i - 1) && parse_code(zName, i, zCode)) {
            *pPage = atoi(zName + i + 1);
            return 1;
        }
        break;
    }
    /* <档号>/0001.jpg */
    if (zDir && *zDir && parse_code(zDir, strlen(zDir), zCode)) {
        *pPage = all_digits(zName, nStem) ? atoi(zName) : 0;
        return 1;
    }
    return 0;
}

static int add_string(char ***paz, size_t *pn, const char *z)
{
    char **a = px_realloc(*paz, (*pn + 1) * sizeof *a);
    if (!a) return PS_NOMEM;
    *paz = a;
    if (!(a[*pn] = px_strdup(z))) return PS_NOMEM;
    (*pn)++;
    return PS_OK;
}

/* A top-level text file whose first line names the 档号 column. */
static int is_catalog(const char *zPath)
{
    char zHead[4096];
    FILE *f = fopen(zPath, "rb");
    if (!f) return 0;
    size_t n = fread(zHead, 1, sizeof zHead - 1, f);
    fclose(f);
    char *zU = NULL;
    size_t nU = 0;
    const char *zEnc;
    char zErr[128];
    /* Cut at the last line end so that no character is cut in two. */
    while (n > 0 && zHead[n - 1] != '\n') n--;
    if (n == 0 || proto_to_utf8(zHead, n, &zU, &nU, &zEnc, zErr, sizeof zErr) != PS_OK) return 0;
    char *zEol = strchr(zU, '\n');
    if (zEol) *zEol = 0;
    int yes = strstr(zU, "档号") != NULL || strstr(zU, "code") != NULL;
    px_free(zU);
    return yes;
}

static int walk(const char *zRoot, const char *zRel, const char *zDirName, int depth, oc_delivery *p,
                char *zErr, size_t nErr)
{
    char zPath[4096];
    snprintf(zPath, sizeof zPath, "%s%s%s", zRoot, *zRel ? "/" : "", zRel);
    DIR *d = opendir(zPath);
    if (!d) {
        snprintf(zErr, nErr, "无法读取文件夹 %s：%s", *zRel ? zRel : zRoot, oc_strerror(errno));
        return PS_IO;
    }
    struct dirent *e;
    int rc = PS_OK;
    while (rc == PS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char zChildRel[4096], zChild[8192];
        snprintf(zChildRel, sizeof zChildRel, "%s%s%s", zRel, *zRel ? "/" : "", e->d_name);
        snprintf(zChild, sizeof zChild, "%s/%s", zRoot, zChildRel);
        struct stat st;
        if (stat(zChild, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < DEPTH_MAX) rc = walk(zRoot, zChildRel, e->d_name, depth + 1, p, zErr, nErr);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        char zCode[PROTO_CODE_MAX];
        int page;
        if (oc_name_code(zDirName, e->d_name, zCode, &page)) {
            if (p->n == p->nAlloc) {
                size_t nNew = p->nAlloc ? p->nAlloc * 2 : 256;
                oc_file *a = px_realloc(p->a, nNew * sizeof *a);
                if (!a) { rc = PS_NOMEM; break; }
                p->a = a;
                p->nAlloc = nNew;
            }
            oc_file *f = &p->a[p->n];
            f->zRel = px_strdup(zChildRel);
            f->zCode = px_strdup(zCode);
            if (!f->zRel || !f->zCode) {
                px_free(f->zRel);
                px_free(f->zCode);
                rc = PS_NOMEM;
                break;
            }
            f->page = page;
            f->size = (long long)st.st_size;
            f->mtimeNs = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
            p->n++;
        } else if (depth == 0 && is_catalog(zChild)) {
            rc = add_string(&p->azCatalog, &p->nCatalog, zChildRel);
        } else {
            rc = add_string(&p->azStray, &p->nStray, zChildRel);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_file(const void *a, const void *b)
{
    const oc_file *x = a, *y = b;
    int c = strcmp(x->zCode, y->zCode);
    if (c) return c;
    if (x->page != y->page) return x->page < y->page ? -1 : 1;
    return strcmp(x->zRel, y->zRel);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int oc_delivery_scan(const char *zRoot, oc_delivery *p, char *zErr, size_t nErr)
{
    memset(p, 0, sizeof *p);
    int rc = walk(zRoot, "", "", 0, p, zErr, nErr);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    if (p->n) qsort(p->a, p->n, sizeof *p->a, cmp_file);
    if (p->nCatalog) qsort(p->azCatalog, p->nCatalog, sizeof *p->azCatalog, cmp_str);
    if (p->nStray) qsort(p->azStray, p->nStray, sizeof *p->azStray, cmp_str);
    return rc;
}

void oc_delivery_clear(oc_delivery *p)
{
    for (size_t i = 0; i < p->n; i++) {
        px_free(p->a[i].zRel);
        px_free(p->a[i].zCode);
    }
    px_free(p->a);
    for (size_t i = 0; i < p->nCatalog; i++) px_free(p->azCatalog[i]);
    px_free(p->azCatalog);
    for (size_t i = 0; i < p->nStray; i++) px_free(p->azStray[i]);
    px_free(p->azStray);
    memset(p, 0, sizeof *p);
}

/* ---- journal -------------------------------------------------------------- */

struct oc_journal {
    int fd;
    json_t *pAll;
};

int oc_journal_open(const char *zPath, oc_journal **ppOut, char *zErr, size_t nErr)
{
    oc_journal *j = px_calloc(1, sizeof *j);
    if (!j) return PS_NOMEM;
    j->pAll = json_object();
    j->fd = open(zPath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (!j->pAll || j->fd < 0) {
        snprintf(zErr, nErr, "无法打开断点记录 %s：%s", zPath, oc_strerror(errno));
        oc_journal_close(j);
        return PS_IO;
    }
    FILE *f = fdopen(dup(j->fd), "r");
    char *zLine = NULL;
    size_t nLine = 0;
    ssize_t got;
    off_t good = 0;
    while (f && (got = getline(&zLine, &nLine, f)) > 0) {
        if (zLine[got - 1] != '\n') break; /* cut short by a crash */
        json_error_t je;
        json_t *o = json_loads(zLine, 0, &je);
        const char *zKey = json_string_value(json_object_get(o, "k"));
        json_t *v = json_object_get(o, "v");
        if (zKey && v) json_object_set(j->pAll, zKey, v);
        json_decref(o);
        good += got;
    }
    free(zLine);
    if (f) fclose(f);
    /* Drop a half-written last line so the next one starts clean. */
    if (ftruncate(j->fd, good) != 0 || lseek(j->fd, good, SEEK_SET) < 0) {
        snprintf(zErr, nErr, "无法修复断点记录 %s：%s", zPath, oc_strerror(errno));
        oc_journal_close(j);
        return PS_IO;
    }
    *ppOut = j;
    return PS_OK;
}

json_t *oc_journal_get(oc_journal *j, const char *zKey)
{
    return json_object_get(j->pAll, zKey);
}

json_t *oc_journal_all(oc_journal *j)
{
    return j->pAll;
}

int oc_journal_put(oc_journal *j, const char *zKey, json_t *pVal, char *zErr, size_t nErr)
{
    json_t *o = json_pack("{s:s,s:O}", "k", zKey, "v", pVal);
    char *z = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!z) return PS_NOMEM;
    size_t n = strlen(z), off = 0;
    z[n] = '\n';
    while (off < n + 1) {
        ssize_t k = write(j->fd, z + off, n + 1 - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    free(z);
    if (off != n + 1 || fdatasync(j->fd) != 0) {
        snprintf(zErr, nErr, "无法写入断点记录：%s", oc_strerror(errno));
        return PS_IO;
    }
    return json_object_set(j->pAll, zKey, pVal) == 0 ? PS_OK : PS_NOMEM;
}

void oc_journal_close(oc_journal *j)
{
    if (!j) return;
    if (j->fd >= 0) close(j->fd);
    json_decref(j->pAll);
    px_free(j);
}
