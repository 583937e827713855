#define _GNU_SOURCE /* memmem */
/* Page images on disk, their redacted copies, and the boxes of a query's
 * hits on a page. */
#include "idx_pages.h"
#include "idx_file.h"
#include "idx_mask.h"
#include "idx_query.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <leptonica/allheaders.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* Decodes in the process: at most IDX_DECODE_MAX at once (each may hold
 * IDX_IMAGE_PIXELS_MAX * 4 bytes). */
static pthread_once_t gOnce = PTHREAD_ONCE_INIT;
static pthread_mutex_t gDecodeMutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gDecodeCond;
static unsigned gDecoding;

static void init_once(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC); /* a clock change neither shortens nor prolongs a wait */
    pthread_cond_init(&gDecodeCond, &a);
    pthread_condattr_destroy(&a);
    setMsgSeverity(L_SEVERITY_NONE); /* Leptonica reports through return values here, never on stderr */
}

int idx_page_decode_begin(unsigned msWait)
{
    struct timespec t;
    int rc = PS_OK;
    pthread_once(&gOnce, init_once);
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(msWait / 1000);
    t.tv_nsec += (long)(msWait % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&gDecodeMutex);
    while (gDecoding >= IDX_DECODE_MAX && rc == PS_OK)
        if (pthread_cond_timedwait(&gDecodeCond, &gDecodeMutex, &t) == ETIMEDOUT && gDecoding >= IDX_DECODE_MAX)
            rc = PS_UNAVAILABLE;
    if (rc == PS_OK) gDecoding++;
    pthread_mutex_unlock(&gDecodeMutex);
    return rc;
}

void idx_page_decode_end(void)
{
    pthread_mutex_lock(&gDecodeMutex);
    gDecoding--;
    pthread_cond_signal(&gDecodeCond);
    pthread_mutex_unlock(&gDecodeMutex);
}

/* Refuse what is not a JPEG or PNG within the pixel bounds: the header
 * first, then a full decode (a header can be followed by anything). */
static int check_image(const char *z, size_t len, const char **pzExt, char *zErr, size_t nErr)
{
    l_int32 fmt = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
    pthread_once(&gOnce, init_once);
    if (pixReadHeaderMem((const l_uint8 *)z, len, &fmt, &w, &h, &bps, &spp, &cmap) != 0 ||
        (fmt != IFF_JFIF_JPEG && fmt != IFF_PNG) || w <= 0 || h <= 0) {
        snprintf(zErr, nErr, "扫描件须为可读取的 JPEG 或 PNG 文件");
        return PS_UNSUPPORTED;
    }
    if (w > IDX_IMAGE_SIDE_MAX || h > IDX_IMAGE_SIDE_MAX || (uint64_t)w * (uint64_t)h > IDX_IMAGE_PIXELS_MAX) {
        snprintf(zErr, nErr, "扫描件至多 %u 百万像素、每边至多 %u 像素；本图为 %d x %d 像素",
                 (unsigned)(IDX_IMAGE_PIXELS_MAX / 1000000u), (unsigned)IDX_IMAGE_SIDE_MAX, (int)w, (int)h);
        return PS_TOO_BIG;
    }
    if (idx_page_decode_begin(IDX_DECODE_WAIT_MS) != PS_OK) {
        snprintf(zErr, nErr, "正在读取的扫描件过多，请稍后再试");
        return PS_UNAVAILABLE;
    }
    PIX *pix = pixReadMem((const l_uint8 *)z, len);
    idx_page_decode_end();
    int ok = pix && pixGetWidth(pix) == w && pixGetHeight(pix) == h;
    pixDestroy(&pix);
    if (!ok) {
        snprintf(zErr, nErr, "扫描件须为可读取的 JPEG 或 PNG 文件；本文件无法解码");
        return PS_UNSUPPORTED;
    }
    *pzExt = fmt == IFF_PNG ? "png" : "jpg";
    return PS_OK;
}

/* Remove the redacted copies of page n ("<n>.r<key>.<ext>") but zKeep. */
static void remove_copies(const char *zDir, unsigned n, const char *zKeep)
{
    char zPrefix[32], zPath[4400];
    snprintf(zPrefix, sizeof zPrefix, "%u.r", n);
    size_t nPrefix = strlen(zPrefix);
    DIR *d = opendir(zDir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, zPrefix, nPrefix) != 0 || (zKeep && strcmp(e->d_name, zKeep) == 0)) continue;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
        char zErr[256];
        idx_file_remove(zPath, zErr, sizeof zErr);
    }
    closedir(d);
}

int idx_page_image_put(const char *zDataDir, const char *zCode, unsigned n, const char *z,
                       size_t len, char *zErr, size_t nErr)
{
    const char *zExt = NULL;
    if (len > IDX_IMAGE_MAX) {
        snprintf(zErr, nErr, "扫描件至多 %u MiB", IDX_IMAGE_MAX >> 20);
        return PS_TOO_BIG;
    }
    int rc = check_image(z, len, &zExt, zErr, nErr);
    if (rc != PS_OK) return rc;
    char zDir[4096], zPath[4200];
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    if ((rc = idx_file_mkdirs(zDir, 0750, zErr, nErr)) != PS_OK) return rc;
    snprintf(zPath, sizeof zPath, "%s/%u.%s", zDir, n, zExt);
    if ((rc = idx_file_replace(zPath, z, len, 0640, zErr, nErr)) != PS_OK) return rc;
    /* A page stored before as the other type is gone now, and so are the
     * redacted copies of the old image. */
    snprintf(zPath, sizeof zPath, "%s/%u.%s", zDir, n, strcmp(zExt, "png") == 0 ? "jpg" : "png");
    idx_file_remove(zPath, zErr, nErr); /* usually absent: nothing to say */
    remove_copies(zDir, n, NULL);
    return PS_OK;
}

int idx_page_image_path(const char *zDataDir, const char *zCode, unsigned n, char *zPath,
                        size_t nPath, const char **pzType)
{
    char zDir[4096];
    struct stat st;
    /* also tells an -O2 sanitizer build that zPath is never NULL below */
    if (!zPath || nPath == 0) return PS_NOT_FOUND;
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    static const char *const azExt[2] = {"jpg", "png"}, *const azType[2] = {"image/jpeg", "image/png"};
    for (int k = 0; k < 2; k++) {
        snprintf(zPath, nPath, "%s/%u.%s", zDir, n, azExt[k]);
        if (stat(zPath, &st) == 0 && S_ISREG(st.st_mode)) {
            *pzType = azType[k];
            return PS_OK;
        }
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
        char zErr[256];
        idx_file_remove(zPath, zErr, sizeof zErr);
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

/* Look for the form of z[0..n), reported as zTerm[0..nTerm). */
static int needle_add(needles *p, const char *z, size_t n, const char *zTerm, size_t nTerm)
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
    p->azTerm[p->n] = px_strndup(zTerm, nTerm);
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
    (void)nChar;
    if (kind == IDX_TOK_BREAK) return 0;
    /* a word as the tokenizer read it in the whole query: a number written
     * with separators after an account keyword is one word only there */
    if (kind == IDX_TOK_WORD) return needle_add(w->p, z, n, w->zBase + iStart, iEnd - iStart);
    return needle_add(w->p, w->zBase + iStart, iEnd - iStart, w->zBase + iStart, iEnd - iStart);
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
        return *q->zPrefix ? PS_OK : needle_add(p, q->z, strlen(q->z), q->z, strlen(q->z));
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

/* ---- personal numbers on the image ------------------------------------ */

/* The character boxes [x, y, w, h] of the page that hold hidden digits
 * (idx_mask_find), in pixels of the page's width x height. */
typedef struct {
    double *a;  /* 4 per box */
    size_t n;
} hidden_boxes;

static void flag_hidden(void *ctx, size_t a, size_t b, int kind)
{
    (void)b, (void)kind;
    ((unsigned char *)ctx)[a] = 1;
}

static int find_hidden(const json_t *pPage, hidden_boxes *pOut, double *pW, double *pH)
{
    const json_t *pText = json_object_get(pPage, "text"), *pBoxes = json_object_get(pPage, "boxes");
    *pW = json_number_value(json_object_get(pPage, "width"));
    *pH = json_number_value(json_object_get(pPage, "height"));
    pOut->a = NULL;
    pOut->n = 0;
    if (!json_is_string(pText) || !json_array_size(pBoxes) || *pW <= 0 || *pH <= 0) return PS_OK;
    size_t nText = json_string_length(pText);
    unsigned char *aFlag = px_calloc(nText + 1, 1);
    if (!aFlag) return PS_NOMEM;
    if (!idx_mask_find(json_string_value(pText), nText, 0, flag_hidden, aFlag)) {
        px_free(aFlag);
        return PS_OK;
    }
    size_t i;
    const json_t *b;
    json_array_foreach(pBoxes, i, b) {
        json_int_t off = json_integer_value(json_array_get(b, 4));
        if (json_array_size(b) < 5 || off < 0 || (size_t)off >= nText || !aFlag[off]) continue;
        if (!pOut->a && !(pOut->a = px_malloc(json_array_size(pBoxes) * 4 * sizeof(double)))) {
            px_free(aFlag);
            return PS_NOMEM;
        }
        for (int k = 0; k < 4; k++) pOut->a[4 * pOut->n + k] = json_number_value(json_array_get(b, (size_t)k));
        pOut->n++;
    }
    px_free(aFlag);
    return PS_OK;
}

/* The name of the redacted copy: what it depends on, hashed.  A new image
 * is a new file (another inode, size or time) and new page text gives
 * other boxes, so neither can meet a stale copy. */
static void copy_name(const struct stat *st, double w, double h, const hidden_boxes *pB, unsigned n,
                      const char *zExt, char *zOut, size_t nOut)
{
    crypto_generichash_state g;
    unsigned char aKey[16];
    const char zVersion[] = "redact-1";
    int64_t aFile[5] = {(int64_t)st->st_dev, (int64_t)st->st_ino, (int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                        (int64_t)st->st_mtim.tv_nsec};
    double aSize[2] = {w, h};
    crypto_generichash_init(&g, NULL, 0, sizeof aKey);
    crypto_generichash_update(&g, (const unsigned char *)zVersion, sizeof zVersion);
    crypto_generichash_update(&g, (const unsigned char *)aFile, sizeof aFile);
    crypto_generichash_update(&g, (const unsigned char *)aSize, sizeof aSize);
    crypto_generichash_update(&g, (const unsigned char *)pB->a, pB->n * 4 * sizeof(double));
    crypto_generichash_final(&g, aKey, sizeof aKey);
    char zHex[2 * sizeof aKey + 1];
    sodium_bin2hex(zHex, sizeof zHex, aKey, sizeof aKey);
    snprintf(zOut, nOut, "%u.r%s.%s", n, zHex, zExt);
}

/* A coordinate of a box the caller gave, as an int that cannot overflow. */
static l_int32 pixel(double v)
{
    return v < -(2 * IDX_IMAGE_SIDE_MAX) ? -(2 * IDX_IMAGE_SIDE_MAX)
                                         : v > 2 * IDX_IMAGE_SIDE_MAX ? 2 * IDX_IMAGE_SIDE_MAX : (l_int32)v;
}

/* Decode zPath, black out the boxes (opaque, a little wider than each
 * character so that anti-aliased edges go too), encode it in its own
 * format into *pz (lept_free) and *pn. */
static int redact(const char *zPath, double w, double h, const hidden_boxes *pB, l_uint8 **pz, size_t *pn,
                  char *zErr, size_t nErr)
{
    l_int32 fmt = 0, iw = 0, ih = 0, bps = 0, spp = 0, cmap = 0;
    /* images stored before the upload checks may be over the bounds */
    if (pixReadHeader(zPath, &fmt, &iw, &ih, &bps, &spp, &cmap) != 0 || (fmt != IFF_JFIF_JPEG && fmt != IFF_PNG) ||
        iw <= 0 || ih <= 0 || iw > IDX_IMAGE_SIDE_MAX || ih > IDX_IMAGE_SIDE_MAX ||
        (uint64_t)iw * (uint64_t)ih > IDX_IMAGE_PIXELS_MAX) {
        snprintf(zErr, nErr, "扫描件无法读取或超过 %u 百万像素，无法遮盖其中的个人号码",
                 (unsigned)(IDX_IMAGE_PIXELS_MAX / 1000000u));
        return PS_IO;
    }
    PIX *pix = pixRead(zPath);
    if (pix && pixGetColormap(pix)) {
        PIX *q = pixRemoveColormap(pix, REMOVE_CMAP_BASED_ON_SRC);
        pixDestroy(&pix);
        pix = q;
    }
    if (!pix) {
        snprintf(zErr, nErr, "扫描件无法解码，无法遮盖其中的个人号码");
        return PS_IO;
    }
    int depth = pixGetDepth(pix);
    double sx = pixGetWidth(pix) / w, sy = pixGetHeight(pix) / h;
    for (size_t i = 0; i < pB->n; i++) {
        const double *r = pB->a + 4 * i;
        BOX *pBox = boxCreate(pixel(r[0] * sx) - 2, pixel(r[1] * sy) - 2, pixel(r[2] * sx + 0.999) + 4,
                              pixel(r[3] * sy + 0.999) + 4);
        if (!pBox) continue;
        /* black: 1 bpp sets, grey clears, RGB(A) sets the value with alpha 255 */
        if (depth == 1) pixSetInRect(pix, pBox);
        else if (depth == 32) pixSetInRectArbitrary(pix, pBox, 0x000000FFu);
        else pixClearInRect(pix, pBox);
        boxDestroy(&pBox);
    }
    *pz = NULL;
    *pn = 0;
    int bad = fmt == IFF_PNG ? pixWriteMemPng(pz, pn, pix, 0.0) : pixWriteMemJpeg(pz, pn, pix, 85, 0);
    pixDestroy(&pix);
    if (bad || !*pz) {
        if (*pz) lept_free(*pz);
        snprintf(zErr, nErr, "遮盖个人号码后扫描件无法重新编码");
        return PS_IO;
    }
    return PS_OK;
}

int idx_page_image_view(const char *zDataDir, const char *zCode, unsigned n, const json_t *pPage, int mask,
                        char *zPath, size_t nPath, const char **pzType, char *zErr, size_t nErr)
{
    hidden_boxes hb = {NULL, 0};
    double w = 0, h = 0;
    struct stat st;
    char zName[128], zDir[4096], zCopy[4400];
    l_uint8 *pData = NULL;
    size_t nData = 0;
    int slot = 0;
    const char *zExt;
    int rc = idx_page_image_path(zDataDir, zCode, n, zPath, nPath, pzType);
    if (rc != PS_OK || !mask) return rc;
    if ((rc = find_hidden(pPage, &hb, &w, &h)) != PS_OK) {
        snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    if (hb.n == 0) goto out; /* nothing hidden, or the numbers have no boxes: the original */
    if (stat(zPath, &st) != 0) {
        snprintf(zErr, nErr, "无法读取扫描件：%s", strerror(errno));
        rc = PS_IO;
        goto out;
    }
    zExt = strcmp(*pzType, "image/png") == 0 ? "png" : "jpg";
    copy_name(&st, w, h, &hb, n, zExt, zName, sizeof zName);
    record_dir(zDataDir, zCode, zDir, sizeof zDir);
    snprintf(zCopy, sizeof zCopy, "%s/%s", zDir, zName);
    if (stat(zCopy, &st) != 0) {
        if ((rc = idx_page_decode_begin(IDX_DECODE_WAIT_MS)) != PS_OK) {
            snprintf(zErr, nErr, "正在生成的扫描件过多，请稍后再试");
            goto out;
        }
        slot = 1;
        /* another view may have made it while this one waited */
        if (stat(zCopy, &st) != 0) {
            if ((rc = redact(zPath, w, h, &hb, &pData, &nData, zErr, nErr)) != PS_OK) goto out;
            if ((rc = idx_file_replace(zCopy, pData, nData, 0640, zErr, nErr)) != PS_OK) goto out;
            remove_copies(zDir, n, zName); /* made for earlier page text */
        }
    }
    if ((size_t)snprintf(zPath, nPath, "%s", zCopy) >= nPath) {
        snprintf(zErr, nErr, "扫描件的路径过长");
        rc = PS_IO;
    }
out:
    if (slot) idx_page_decode_end();
    if (pData) lept_free(pData);
    px_free(hb.a);
    return rc;
}
