#define _GNU_SOURCE /* memmem */
/* Page images on disk and the boxes of a query's hits on a page. */
#include "idx_pages.h"
#include "idx_mask.h"
#include "idx_query.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <dirent.h>
#include <leptonica/allheaders.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- images ---------------------------------------------------------- */

static unsigned hash_code(const char *z)
{
    unsigned h = 2166136261u;
    for (; *z; z++) h = (h ^ (unsigned char)*z) * 16777619u;
    return h;
}

static void record_dir(const char *zDataDir, const char *zCode, char *zOut, size_t nOut)
{
    snprintf(zOut, nOut, "%s/images/%02x/%s", zDataDir, hash_code(zCode) & 0xFF, zCode);
}

static int mkdir_p(char *zPath)
{
    for (char *p = zPath + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        int rc = mkdir(zPath, 0750);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return mkdir(zPath, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

int idx_page_image_put(const char *zDataDir, const char *zCode, unsigned n, const char *z,
                       size_t len, char *zErr, size_t nErr)
{
    const char *zExt, *zOther;
    if (len > IDX_IMAGE_MAX) {
        snprintf(zErr, nErr, "a page image is limited to %u MiB", IDX_IMAGE_MAX >> 20);
        return PS_TOO_BIG;
    }
    if (len >= 3 && memcmp(z, "\xFF\xD8\xFF", 3) == 0) {
        zExt = "jpg";
        zOther = "png";
    } else if (len >= 8 && memcmp(z, "\x89PNG\r\n\x1A\n", 8) == 0) {
        zExt = "png";
        zOther = "jpg";
    } else {
        snprintf(zErr, nErr, "a page image must be JPEG or PNG");
        return PS_UNSUPPORTED;
    }
    char zDir[4096], zPath[4200], zTmp[4300];
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    if (mkdir_p(zDir) != 0) {
        snprintf(zErr, nErr, "cannot create the image folder: %s", strerror(errno));
        return PS_IO;
    }
    snprintf(zPath, sizeof zPath, "%s/%u.%s", zDir, n, zExt);
    snprintf(zTmp, sizeof zTmp, "%s/.%u.%s.%ld.tmp", zDir, n, zExt, (long)getpid());
    int fd = open(zTmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(zErr, nErr, "cannot write the page image: %s", strerror(errno));
        return PS_IO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, z + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        off += (size_t)k;
    }
    int ok = off == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(zTmp, zPath) != 0) {
        snprintf(zErr, nErr, "cannot write the page image: %s", strerror(errno));
        unlink(zTmp);
        return PS_IO;
    }
    /* A page stored before as the other type is gone now. */
    snprintf(zPath, sizeof zPath, "%s/%u.%s", zDir, n, zOther);
    unlink(zPath);
    return PS_OK;
}

int idx_page_image_path(const char *zDataDir, const char *zCode, unsigned n, char *zPath,
                        size_t nPath, const char **pzType)
{
    char zDir[4096];
    struct stat st;
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    snprintf(zPath, nPath, "%s/%u.jpg", zDir, n);
    if (stat(zPath, &st) == 0 && S_ISREG(st.st_mode)) {
        *pzType = "image/jpeg";
        return PS_OK;
    }
    snprintf(zPath, nPath, "%s/%u.png", zDir, n);
    if (stat(zPath, &st) == 0 && S_ISREG(st.st_mode)) {
        *pzType = "image/png";
        return PS_OK;
    }
    return PS_NOT_FOUND;
}

void idx_page_image_remove_all(const char *zDataDir, const char *zCode)
{
    char zDir[4096], zPath[4400];
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    DIR *d = opendir(zDir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
        unlink(zPath);
    }
    closedir(d);
    rmdir(zDir);
}

/* ---- boxes of hits --------------------------------------------------- */

typedef struct {
    char **az;  /* the forms to look for, each with its query text */
    char **azTerm;
    size_t n, nAlloc;
} needles;

static int needle_add(needles *p, const char *z, size_t n)
{
    idx_form f = {0};
    if (idx_form_build(&f, z, n, 0) != PS_OK) return PS_NOMEM;
    if (f.n == 0) {
        idx_form_clear(&f);
        return PS_OK;
    }
    if (p->n == p->nAlloc) {
        size_t nNew = p->nAlloc ? p->nAlloc * 2 : 8;
        char **a = px_realloc(p->az, nNew * sizeof *a);
        if (!a) goto oom;
        p->az = a;
        a = px_realloc(p->azTerm, nNew * sizeof *a);
        if (!a) goto oom;
        p->azTerm = a;
        p->nAlloc = nNew;
    }
    p->az[p->n] = px_strndup(f.z, f.n);
    p->azTerm[p->n] = px_strndup(z, n);
    idx_form_clear(&f);
    if (!p->az[p->n] || !p->azTerm[p->n]) {
        px_free(p->az[p->n]);
        px_free(p->azTerm[p->n]);
        return PS_NOMEM;
    }
    p->n++;
    return PS_OK;
oom:
    idx_form_clear(&f);
    return PS_NOMEM;
}

typedef struct {
    needles *p;
    const char *zBase;
} words_ctx;

static int on_word(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                   size_t iStart, size_t iEnd)
{
    words_ctx *w = ctx;
    (void)z, (void)n, (void)nChar;
    if (kind == IDX_TOK_BREAK) return 0;
    return needle_add(w->p, w->zBase + iStart, iEnd - iStart);
}

/* The full-text leaves of the query, not under a NOT. */
static int collect(const iq_node *q, needles *p)
{
    int rc = PS_OK;
    if (!q) return PS_OK;
    switch (q->kind) {
    case IQ_AND:
    case IQ_OR:
        rc = collect(q->pA, p);
        return rc == PS_OK ? collect(q->pB, p) : rc;
    case IQ_NOT:
        return collect(q->pA, p);
    case IQ_PHRASE:
        return *q->zPrefix ? PS_OK : needle_add(p, q->z, strlen(q->z));
    case IQ_WORDS:
        if (*q->zPrefix) return PS_OK;
        words_ctx w = {p, q->z};
        return idx_text_scan(q->z, strlen(q->z), on_word, &w);
    default:
        return PS_OK;
    }
}

static void needles_clear(needles *p)
{
    for (size_t i = 0; i < p->n; i++) {
        px_free(p->az[i]);
        px_free(p->azTerm[i]);
    }
    px_free(p->az);
    px_free(p->azTerm);
}

static long num_at(const json_t *a, size_t i)
{
    return (long)json_integer_value(json_array_get(a, i));
}

/* Add the boxes of the characters in text bytes [iFrom, iTo) to pOut, one
 * per line: neighbouring character boxes that overlap vertically merge. */
static int flush_box(json_t *pOut, const long *r, const char *zTerm)
{
    json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:s}", "x", (json_int_t)r[0], "y", (json_int_t)r[1],
                          "w", (json_int_t)(r[2] - r[0]), "h", (json_int_t)(r[3] - r[1]), "term", zTerm);
    return o && json_array_append_new(pOut, o) == 0 ? PS_OK : PS_NOMEM;
}

static int add_hit(json_t *pOut, const json_t *pBoxes, size_t iFrom, size_t iTo, const char *zTerm)
{
    long r[4] = {0, 0, 0, 0}; /* x0, y0, x1, y1 of the line's box so far */
    int open = 0;
    for (size_t i = 0; i < json_array_size(pBoxes); i++) {
        const json_t *b = json_array_get(pBoxes, i);
        long off = json_array_size(b) >= 5 ? num_at(b, 4) : -1;
        if (off < (long)iFrom || off >= (long)iTo) continue;
        long x = num_at(b, 0), y = num_at(b, 1), w = num_at(b, 2), h = num_at(b, 3);
        if (open) {
            long ov = (y + h < r[3] ? y + h : r[3]) - (y > r[1] ? y : r[1]);
            long hMin = h < r[3] - r[1] ? h : r[3] - r[1];
            if (ov * 2 >= hMin && x + w > r[0]) { /* the same line, further right */
                if (x < r[0]) r[0] = x;
                if (x + w > r[2]) r[2] = x + w;
                if (y < r[1]) r[1] = y;
                if (y + h > r[3]) r[3] = y + h;
                continue;
            }
            if (flush_box(pOut, r, zTerm) != PS_OK) return PS_NOMEM;
        }
        r[0] = x, r[1] = y, r[2] = x + w, r[3] = y + h;
        open = 1;
    }
    return open ? flush_box(pOut, r, zTerm) : PS_OK;
}

json_t *idx_page_boxes(const json_t *pPage, const char *zQuery, int *pRc, unsigned *pOffset,
                       char *zErr, size_t nErr)
{
    iq_node *q = NULL;
    needles nd = {0};
    idx_form f = {0};
    json_t *pOut = NULL, *pList = NULL;
    const char *zText = json_string_value(json_object_get(pPage, "text"));
    const json_t *pBoxes = json_object_get(pPage, "boxes");
    int rc = idx_query_parse(zQuery ? zQuery : "", &q, pOffset, zErr, nErr);
    if (rc != PS_OK) goto out;
    rc = PS_NOMEM;
    if (!(pList = json_array())) goto out;
    if (zText && json_is_array(pBoxes) && json_array_size(pBoxes) > 0) {
        if ((rc = collect(q, &nd)) != PS_OK) goto out;
        size_t nText = json_string_length(json_object_get(pPage, "text"));
        if (nd.n && (rc = idx_form_build(&f, zText, nText, 1)) != PS_OK) goto out;
        for (size_t i = 0; i < nd.n; i++) {
            size_t nNeedle = strlen(nd.az[i]);
            const char *zAt = f.z, *zEnd = f.z + f.n;
            while (zAt && (size_t)(zEnd - zAt) >= nNeedle) {
                const char *zHit = memmem(zAt, (size_t)(zEnd - zAt), nd.az[i], nNeedle);
                if (!zHit) break;
                size_t k = (size_t)(zHit - f.z);
                if ((rc = add_hit(pList, pBoxes, f.aiOrig[k], f.aiOrigEnd[k + nNeedle - 1], nd.azTerm[i])) != PS_OK)
                    goto out;
                zAt = zHit + nNeedle;
            }
        }
    }
    pOut = json_pack("{s:O,s:O,s:O}", "width", json_object_get(pPage, "width") ? json_object_get(pPage, "width") : json_null(),
                     "height", json_object_get(pPage, "height") ? json_object_get(pPage, "height") : json_null(),
                     "boxes", pList);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    idx_form_clear(&f);
    needles_clear(&nd);
    idx_query_free(q);
    json_decref(pList);
    *pRc = rc;
    return pOut;
}

/* ---- ID numbers on the image ------------------------------------------------ */

int idx_page_image_redacted(const char *zPath, const json_t *pPage, char **pz, size_t *pn)
{
    *pz = NULL;
    *pn = 0;
    const json_t *pText = json_object_get(pPage, "text"), *pBoxes = json_object_get(pPage, "boxes");
    double w = json_number_value(json_object_get(pPage, "width")), hgt = json_number_value(json_object_get(pPage, "height"));
    if (!json_is_string(pText) || !json_array_size(pBoxes) || w <= 0 || hgt <= 0) return PS_OK;
    size_t n = json_string_length(pText);
    const char *z = json_string_value(pText);
    char *zMasked = px_malloc(n + 1);
    if (!zMasked) return PS_NOMEM;
    memcpy(zMasked, z, n + 1);
    if (!idx_mask_text(zMasked, n, 0)) {
        px_free(zMasked);
        return PS_OK;
    }
    PIX *pix = pixRead(zPath);
    if (!pix) {
        px_free(zMasked);
        return PS_IO;
    }
    int fmt = pixGetInputFormat(pix);
    if (pixGetColormap(pix)) {
        PIX *q = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
        pixDestroy(&pix);
        if (!(pix = q)) {
            px_free(zMasked);
            return PS_IO;
        }
    }
    int depth = pixGetDepth(pix);
    double sx = pixGetWidth(pix) / w, sy = pixGetHeight(pix) / hgt;
    size_t i;
    json_t *b;
    unsigned nHidden = 0;
    json_array_foreach(pBoxes, i, b) {
        json_int_t off = json_integer_value(json_array_get(b, 4));
        if (off < 0 || (size_t)off >= n || zMasked[off] != '*' || z[off] == '*') continue;
        /* a little wider than the character: anti-aliased edges too */
        double x = json_number_value(json_array_get(b, 0)), y = json_number_value(json_array_get(b, 1));
        double bw = json_number_value(json_array_get(b, 2)), bh = json_number_value(json_array_get(b, 3));
        BOX *pBox = boxCreate((l_int32)(x * sx) - 2, (l_int32)(y * sy) - 2, (l_int32)(bw * sx + 0.999) + 4,
                              (l_int32)(bh * sy + 0.999) + 4);
        if (pBox) {
            /* black, opaque: 1 bpp sets, grey clears, RGB(A) sets the value */
            if (depth == 1) pixSetInRect(pix, pBox);
            else if (depth == 32) pixSetInRectArbitrary(pix, pBox, 0x000000FFu);
            else pixClearInRect(pix, pBox);
            boxDestroy(&pBox);
            nHidden++;
        }
    }
    px_free(zMasked);
    if (!nHidden) {  /* the number has no boxes (text not from this image) */
        pixDestroy(&pix);
        return PS_OK;
    }
    l_uint8 *pData = NULL;
    size_t nData = 0;
    int rc = fmt == IFF_PNG ? pixWriteMemPng(&pData, &nData, pix, 0.0) : pixWriteMemJpeg(&pData, &nData, pix, 85, 0);
    pixDestroy(&pix);
    if (rc != 0 || !pData) return PS_IO;
    *pz = (char *)pData;
    *pn = nData;
    return PS_OK;
}
