/* Walking a delivery folder, and the resume journal. */
#include "oc_delivery.h"
#include "oc_read.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_record.h"
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

/* A page number as a name writes it: 1-6 digits, ASCII or full-width.
 * Returns it, or -1. */
static int page_digits(const char *z, size_t n)
{
    int v = 0, nDigit = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)z[i];
        if (c >= '0' && c <= '9') {
            v = v * 10 + (c - '0');
            i++;
        } else if (c == 0xEF && i + 2 < n && (unsigned char)z[i + 1] == 0xBC && (unsigned char)z[i + 2] >= 0x90 &&
                   (unsigned char)z[i + 2] <= 0x99) {
            v = v * 10 + ((unsigned char)z[i + 2] - 0x90); /* ０-９ */
            i += 3;
        } else {
            return -1;
        }
        if (++nDigit > 6) return -1;
    }
    return nDigit ? v : -1;
}

/* <档号><sep><page>: the separator is the last '-', '_' or '－' of the stem
 * and only digits follow it.  Returns 1 with *pnCode (bytes before the
 * separator) and *pPage. */
static int page_suffix(const char *z, size_t n, size_t *pnCode, int *pPage)
{
    size_t iSep = 0, nSep = 0;
    for (size_t i = 0; i < n; i++) {
        if (z[i] == '-' || z[i] == '_') {
            iSep = i;
            nSep = 1;
        } else if (i + 2 < n && memcmp(z + i, "\xEF\xBC\x8D", 3) == 0) {
            iSep = i;
            nSep = 3;
        }
    }
    if (!nSep || iSep == 0) return 0;
    int page = page_digits(z + iSep + nSep, n - iSep - nSep);
    if (page < 0) return 0;
    *pnCode = iSep;
    *pPage = page;
    return 1;
}

/* z (n bytes) read as the catalog import reads a row's 档号: a record with
 * only its 档号, through proto_record_normalise.  Returns 2 when the strict
 * parser (proto_code_parse: look-alike separators only) accepts it as
 * written, 1 when only the lenient reading does, 0 when it names no item,
 * -1 when out of memory; zCode (PROTO_CODE_MAX) the canonical 档号. */
static int read_code(const char *z, size_t n, char *zCode)
{
    char zBuf[256], zErr[256];
    proto_finding aF[16];
    proto_record r;
    proto_code c;
    int nF = 0;
    if (n == 0 || n >= sizeof zBuf) return 0;
    memcpy(zBuf, z, n);
    zBuf[n] = 0;
    proto_record_init(&r);
    if (proto_record_set(&r, PF_CODE, zBuf, n) != PS_OK) return -1;
    int rc = proto_record_normalise(&r, aF, (int)(sizeof aF / sizeof aF[0]), &nF, NULL);
    int tier = 0;
    if (rc == PS_NOMEM) tier = -1;
    else if (rc == PS_OK && r.az[PF_CODE] && strlen(r.az[PF_CODE]) < PROTO_CODE_MAX) {
        memcpy(zCode, r.az[PF_CODE], strlen(r.az[PF_CODE]) + 1);
        tier = proto_code_parse(zBuf, &c, zErr, sizeof zErr) == PS_OK ? 2 : 1;
    }
    proto_record_clear(&r);
    return tier;
}

static void set_written(oc_name *p, const char *z, size_t n)
{
    if (n >= sizeof p->zWritten) n = sizeof p->zWritten - 1;
    memcpy(p->zWritten, z, n);
    p->zWritten[n] = 0;
    p->lenient = strcmp(p->zWritten, p->zCode) != 0;
}

int oc_name_read(const char *zDir, const char *zName, oc_name *p)
{
    const char *zDot = strrchr(zName, '.');
    size_t nStem = zDot && zDot != zName ? (size_t)(zDot - zName) : strlen(zName);
    size_t nCode = 0;
    int page = 0;
    memset(p, 0, sizeof *p);
    int hasPage = page_suffix(zName, nStem, &nCode, &page);
    int hasDir = zDir && *zDir;
    int dirPage = page_digits(zName, nStem);
    /* the three forms: <档号>.ext, <档号>-<page>.ext, <档号>/<page or any>.ext */
    char azCode[3][PROTO_CODE_MAX];
    memset(azCode, 0, sizeof azCode);
    int aTier[3] = {0, 0, 0};
    aTier[0] = read_code(zName, nStem, azCode[0]);
    if (hasPage) aTier[1] = read_code(zName, nCode, azCode[1]);
    if (hasDir) aTier[2] = read_code(zDir, strlen(zDir), azCode[2]);
    for (int k = 0; k < 3; k++)
        if (aTier[k] < 0) return -1;
    int pick = -1;
    /* a name the strict parser reads is read as it always was */
    for (int k = 0; k < 3 && pick < 0; k++)
        if (aTier[k] == 2) pick = k;
    if (pick < 0 && aTier[0] == 1 && aTier[1] == 1 && strcmp(azCode[0], azCode[1]) != 0) {
        /* two readings: the file is not guessed at */
        memcpy(p->zCode, azCode[0], PROTO_CODE_MAX);
        memcpy(p->zOther, azCode[1], PROTO_CODE_MAX);
        p->otherPage = page;
        set_written(p, zName, nStem);
        p->lenient = 1;
        return OC_NAME_AMBIGUOUS;
    }
    if (pick < 0) pick = aTier[1] == 1 ? 1 : aTier[0] == 1 ? 0 : aTier[2] == 1 ? 2 : -1;
    if (pick < 0) return OC_NAME_NONE;
    memcpy(p->zCode, azCode[pick], PROTO_CODE_MAX);
    switch (pick) {
    case 0: set_written(p, zName, nStem); break;
    case 1:
        p->page = page;
        set_written(p, zName, nCode);
        break;
    default:
        p->page = dirPage > 0 ? dirPage : 0;
        p->inDir = 1;
        set_written(p, zDir, strlen(zDir));
        break;
    }
    return OC_NAME_CODE;
}

int oc_name_code(const char *zDir, const char *zName, char *zCode, int *pPage)
{
    oc_name n;
    *pPage = 0;
    if (oc_name_read(zDir, zName, &n) != OC_NAME_CODE) return 0;
    memcpy(zCode, n.zCode, PROTO_CODE_MAX);
    *pPage = n.page;
    return 1;
}

static int add_note(oc_name_note **pa, size_t *pn, const char *zRel, const char *zWritten, const char *zCode,
                    const char *zReason)
{
    oc_name_note *a = px_realloc(*pa, (*pn + 1) * sizeof *a);
    if (!a) return PS_NOMEM;
    *pa = a;
    oc_name_note *x = &a[*pn];
    x->zRel = px_strdup(zRel);
    x->zWritten = px_strdup(zWritten);
    x->zCode = px_strdup(zCode);
    x->zReason = px_strdup(zReason);
    if (!x->zRel || !x->zWritten || !x->zCode || !x->zReason) {
        px_free(x->zRel);
        px_free(x->zWritten);
        px_free(x->zCode);
        px_free(x->zReason);
        return PS_NOMEM;
    }
    (*pn)++;
    return PS_OK;
}

static void free_notes(oc_name_note *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        px_free(a[i].zRel);
        px_free(a[i].zWritten);
        px_free(a[i].zCode);
        px_free(a[i].zReason);
    }
    px_free(a);
}

static int cmp_note(const void *a, const void *b)
{
    return strcmp(((const oc_name_note *)a)->zRel, ((const oc_name_note *)b)->zRel);
}

/* Sort by zRel and drop repeats (a folder's files may come apart). */
static void sort_notes(oc_name_note *a, size_t *pn)
{
    size_t n = *pn, j = 0;
    if (n < 2) return;
    qsort(a, n, sizeof *a, cmp_note);
    for (size_t i = 0; i < n; i++) {
        if (j > 0 && strcmp(a[j - 1].zRel, a[i].zRel) == 0) {
            px_free(a[i].zRel);
            px_free(a[i].zWritten);
            px_free(a[i].zCode);
            px_free(a[i].zReason);
            continue;
        }
        a[j++] = a[i];
    }
    *pn = j;
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
    /* read as the catalog import reads it: a line in another encoding does
     * not make a catalog unknown */
    long *aKept = NULL, bad = 0;
    size_t nKept = 0;
    if (n == 0 || proto_to_utf8_lenient(zHead, n, &zU, &nU, &zEnc, &aKept, &nKept, &bad, zErr, sizeof zErr) != PS_OK)
        return 0;
    px_free(aKept);
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
        snprintf(zErr, nErr, "无法读取文件夹 %s：%s", *zRel ? zRel : zRoot, proto_errno_cn(errno));
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
        oc_name nm;
        int how = oc_name_read(zDirName, e->d_name, &nm);
        if (how < 0) {
            rc = PS_NOMEM;
            break;
        }
        if (how == OC_NAME_AMBIGUOUS) {
            char zWhy[1024];
            snprintf(zWhy, sizeof zWhy, "文件名“%s”中的档号写法不规范，且可有两种读法：档号 %s，或档号 %s 的第 %d 页；"
                     "为免挂接错误，此文件未读取，请按规范档号重新命名（件号为 4 位数字，如 档号-0001）",
                     nm.zWritten, nm.zCode, nm.zOther, nm.otherPage);
            rc = add_note(&p->aAmbiguous, &p->nAmbiguous, zChildRel, nm.zWritten, nm.zCode, zWhy);
            continue;
        }
        if (how == OC_NAME_CODE && nm.lenient) {
            /* read as the catalog import reads it, and said so: once for a folder */
            const char *zNoteRel = nm.inDir ? zRel : zChildRel;
            if (!p->nLenient || strcmp(p->aLenient[p->nLenient - 1].zRel, zNoteRel) != 0) {
                char zWhy[1024];
                snprintf(zWhy, sizeof zWhy, "%s中的档号“%s”写法不规范，按 %s 读取（与目录导入的读法相同）",
                         nm.inDir ? "文件夹名" : "文件名", nm.zWritten, nm.zCode);
                rc = add_note(&p->aLenient, &p->nLenient, zNoteRel, nm.zWritten, nm.zCode, zWhy);
                if (rc != PS_OK) break;
            }
        }
        const char *zCode = nm.zCode;
        int page = nm.page;
        if (how == OC_NAME_CODE) {
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
    sort_notes(p->aLenient, &p->nLenient);
    sort_notes(p->aAmbiguous, &p->nAmbiguous);
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
    free_notes(p->aLenient, p->nLenient);
    free_notes(p->aAmbiguous, p->nAmbiguous);
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
        snprintf(zErr, nErr, "无法打开断点记录 %s：%s", zPath, proto_errno_cn(errno));
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
        snprintf(zErr, nErr, "无法修复断点记录 %s：%s", zPath, proto_errno_cn(errno));
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
        snprintf(zErr, nErr, "无法写入断点记录：%s", proto_errno_cn(errno));
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
