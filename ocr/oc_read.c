/* One page of one file: libmagic, Leptonica, Tesseract, poppler, libarchive
 * and libxml2 do the work; this file only drives them. */
#include "oc_read.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_errno.h"
#include "proto_status.h"

#include <archive.h>
#include <archive_entry.h>
#include <cairo.h>
#include <errno.h>
#include <leptonica/allheaders.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <magic.h>
#include <poppler.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tesseract/capi.h>

#define TEXT_MAX (8u << 20)     /* bytes of a born-digital text file or OFD part */
#define PDF_TEXT_MIN 10         /* characters that make a PDF page born-digital */
#define BLANK_INK 0.0015        /* share of dark pixels under which a page is blank */
#define RETRY_CONF 88           /* pages read with less mean confidence are read again cleaned up */

struct oc_engine {
    oc_opts o;
    magic_t pMagic;
    TessBaseAPI *pTess;
};

static const char *const azKind[] = {"unsupported", "image", "pdf", "text", "ofd", "empty"};

const char *oc_kind_name(oc_kind k)
{
    return (unsigned)k < sizeof azKind / sizeof azKind[0] ? azKind[k] : "unsupported";
}

oc_kind oc_kind_from_name(const char *z)
{
    for (size_t i = 0; i < sizeof azKind / sizeof azKind[0]; i++)
        if (z && strcmp(z, azKind[i]) == 0) return (oc_kind)i;
    return OC_UNSUPPORTED;
}

void oc_opts_default(oc_opts *o)
{
    memset(o, 0, sizeof *o);
    o->zLang = "chi_sim";
    o->maxPixels = 120L * 1000 * 1000;
    o->renderDpi = 300;
    o->webWidth = 1240;
    o->webQuality = 70;
    o->upscaleBelowDpi = 0; /* measured: enlarging 200 dpi scans triples the errors */
}

int oc_engine_new(const oc_opts *o, oc_engine **ppOut, char *zErr, size_t nErr)
{
    oc_engine *e = px_calloc(1, sizeof *e);
    if (!e) return PS_NOMEM;
    e->o = *o;
    setMsgSeverity(L_SEVERITY_NONE);
    e->pMagic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (!e->pMagic || magic_load(e->pMagic, NULL) != 0) {
        snprintf(zErr, nErr, "无法加载 libmagic 的文件类型数据库：%s",
                 e->pMagic ? magic_error(e->pMagic) : "内存不足");
        oc_engine_free(e);
        return PS_INTERNAL;
    }
    e->pTess = TessBaseAPICreate();
    if (!e->pTess || TessBaseAPIInit3(e->pTess, o->zDataPath, o->zLang) != 0) {
        snprintf(zErr, nErr, "Tesseract 无法加载识别语言数据“%s”（是否已安装 tesseract-ocr-%s？）",
                 o->zLang, strncmp(o->zLang, "chi_sim", 7) == 0 ? "chi-sim" : o->zLang);
        oc_engine_free(e);
        return PS_INTERNAL;
    }
    TessBaseAPISetPageSegMode(e->pTess, PSM_AUTO);
    *ppOut = e;
    return PS_OK;
}

void oc_engine_free(oc_engine *e)
{
    if (!e) return;
    if (e->pTess) {
        TessBaseAPIEnd(e->pTess);
        TessBaseAPIDelete(e->pTess);
    }
    if (e->pMagic) magic_close(e->pMagic);
    px_free(e);
}

/* ---- small helpers ---------------------------------------------------- */

static int read_file(const char *zPath, size_t nMax, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    FILE *f = fopen(zPath, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(zErr, nErr, "无法读取文件：%s", proto_errno_cn(errno));
        if (f) fclose(f);
        return PS_IO;
    }
    if ((unsigned long long)st.st_size > nMax) {
        fclose(f);
        snprintf(zErr, nErr, "文件大小为 %lld 字节，超过 %zu 字节的上限", (long long)st.st_size, nMax);
        return PS_TOO_BIG;
    }
    char *z = px_malloc((size_t)st.st_size + 1);
    if (!z) {
        fclose(f);
        return PS_NOMEM;
    }
    size_t n = fread(z, 1, (size_t)st.st_size, f);
    fclose(f);
    z[n] = 0;
    *pz = z;
    *pn = n;
    return PS_OK;
}

/* A text file read whole and converted to UTF-8 (*pz yours, px_free). */
static int read_utf8_file(const char *zPath, char **pz, size_t *pn, const char **pzEnc, char *zErr, size_t nErr)
{
    char *z = NULL;
    size_t n = 0;
    int rc = read_file(zPath, TEXT_MAX, &z, &n, zErr, nErr);
    if (rc != PS_OK) return rc;
    rc = proto_to_utf8(z, n, pz, pn, pzEnc, zErr, nErr);
    px_free(z);
    return rc;
}

/* A text file's pages (form feeds part them): *pnPages their number, and
 * page i (0-based; -1: none) into pPage. */
static int text_page(const char *zPath, int i, json_t *pPage, int *pnPages, char *zErr, size_t nErr)
{
    char *zU = NULL;
    size_t nU = 0;
    const char *zEnc;
    int rc = read_utf8_file(zPath, &zU, &nU, &zEnc, zErr, nErr);
    if (rc != PS_OK) return rc;
    int nPage = 1;
    for (size_t k = 0; k < nU; k++) nPage += zU[k] == '\f' && k + 1 < nU;
    if (pnPages) *pnPages = nPage;
    if (i >= 0 && pPage) {
        size_t a = 0;
        for (int k = 0; k < i && a < nU; k++) {
            const char *f = memchr(zU + a, '\f', nU - a);
            a = f ? (size_t)(f - zU) + 1 : nU;
        }
        const char *f = memchr(zU + a, '\f', nU - a);
        size_t b = f ? (size_t)(f - zU) : nU;
        json_object_set_new(pPage, "text", json_stringn(zU + a, b - a));
        json_object_set_new(pPage, "source", json_string("text"));
        json_object_set_new(pPage, "encoding", json_string(zEnc));
    }
    px_free(zU);
    return PS_OK;
}

/* CJK characters and punctuation, between which OCR's spaces are noise. */
static int is_cjk(unsigned c)
{
    return proto_is_han(c) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFFEF);
}

static unsigned last_char(const char *z, size_t n)
{
    size_t i = n;
    while (i > 0 && ((unsigned char)z[i - 1] & 0xC0) == 0x80) i--;
    if (i == 0) return 0;
    i--;
    size_t k = i;
    return proto_utf8_next(z, n, &k);
}

/* The Chinese form of ASCII punctuation OCR reads after a CJK character
 * (Chinese text uses ，：；？！（）, and the models often answer ,:;?!()). */
static const char *fullwidth(char c)
{
    switch (c) {
    case ',': return "，";
    case ':': return "：";
    case ';': return "；";
    case '?': return "？";
    case '!': return "！";
    case '(': return "（";
    case ')': return "）";
    default: return NULL;
    }
}

typedef struct {
    char *z;
    size_t n, nAlloc;
} sbuf;

static int sb_add(sbuf *b, const char *z, size_t n)
{
    if (b->n + n + 1 > b->nAlloc) {
        size_t nNew = b->nAlloc ? b->nAlloc * 2 : 4096;
        while (nNew < b->n + n + 1) nNew *= 2;
        char *zNew = px_realloc(b->z, nNew);
        if (!zNew) return PS_NOMEM;
        b->z = zNew;
        b->nAlloc = nNew;
    }
    memcpy(b->z + b->n, z, n);
    b->n += n;
    b->z[b->n] = 0;
    return PS_OK;
}

/* ---- what the file is ------------------------------------------------- */

static int is_tiff(l_int32 fmt)
{
    return fmt == IFF_TIFF || fmt == IFF_TIFF_G4 || fmt == IFF_TIFF_G3 || fmt == IFF_TIFF_LZW ||
           fmt == IFF_TIFF_ZIP || fmt == IFF_TIFF_PACKBITS || fmt == IFF_TIFF_RLE || fmt == IFF_TIFF_JPEG;
}

/* An OFD package: a zip with OFD.xml at its root. */
static int is_ofd(const char *zPath)
{
    struct archive *a = archive_read_new();
    struct archive_entry *pEnt;
    int found = 0;
    if (!a) return 0;
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, zPath, 65536) == ARCHIVE_OK) {
        for (int i = 0; i < 10000 && archive_read_next_header(a, &pEnt) == ARCHIVE_OK; i++) {
            const char *zName = archive_entry_pathname(pEnt);
            if (zName && (strcmp(zName, "OFD.xml") == 0 || strcmp(zName, "/OFD.xml") == 0)) {
                found = 1;
                break;
            }
        }
    }
    archive_read_free(a);
    return found;
}

/* Whether a file libmagic did not recognise decodes (UTF-8, UTF-16 with
 * BOM, GB18030) to mostly printable text. */
static int looks_like_text(const char *zPath)
{
    char *zU = NULL;
    size_t nU = 0, nChar = 0, nGood = 0;
    const char *zEnc;
    char zErr[128];
    if (read_utf8_file(zPath, &zU, &nU, &zEnc, zErr, sizeof zErr) != PS_OK) return 0;
    for (size_t i = 0; i < nU;) {
        unsigned c = proto_utf8_next(zU, nU, &i);
        nChar++;
        nGood += (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\r' || c == '\t' || c == '\f' || is_cjk(c) ||
                 (c >= 0x2000 && c <= 0x206F);
    }
    px_free(zU);
    return nChar > 0 && nGood * 100 >= nChar * 95;
}

static int ofd_pages(const char *zPath, char ***pazPage, int *pnPage, char *zErr, size_t nErr);
static void free_strings(char **az, int n);

static PopplerDocument *open_pdf(const char *zPath, char *zErr, size_t nErr)
{
    GError *pErr = NULL;
    char *zUri = g_filename_to_uri(zPath, NULL, &pErr);
    PopplerDocument *d = zUri ? poppler_document_new_from_file(zUri, NULL, &pErr) : NULL;
    g_free(zUri);
    if (!d) {
        /* poppler's few errors in words a person reads */
        const char *zWhy = !pErr ? "原因不明" : pErr->domain == G_FILE_ERROR ? "无法打开文件"
                         : pErr->domain != POPPLER_ERROR ? pErr->message
                         : pErr->code == POPPLER_ERROR_ENCRYPTED ? "文件已加密"
                         : pErr->code == POPPLER_ERROR_DAMAGED ? "文件已损坏"
                         : pErr->code == POPPLER_ERROR_BAD_CATALOG ? "无法读取其文档结构（Catalog）"
                         : "无法加载";
        snprintf(zErr, nErr, "不是可读取的 PDF 文件：%s", zWhy);
        if (pErr) g_error_free(pErr);
    }
    return d;
}

int oc_probe(oc_engine *e, const char *zPath, oc_kind *pKind, int *pnPages, char *zMime,
             size_t nMime, char *zErr, size_t nErr)
{
    struct stat st;
    *pKind = OC_UNSUPPORTED;
    *pnPages = 0;
    snprintf(zMime, nMime, "?");
    if (stat(zPath, &st) != 0) {
        snprintf(zErr, nErr, "无法读取文件");
        return PS_IO;
    }
    if (st.st_size == 0) {
        *pKind = OC_EMPTY;
        snprintf(zMime, nMime, "inode/x-empty");
        snprintf(zErr, nErr, "文件为空（0 字节）");
        return PS_INVALID;
    }
    const char *zType = magic_file(e->pMagic, zPath);
    if (!zType) {
        snprintf(zErr, nErr, "无法判断文件类型：%s", magic_error(e->pMagic));
        return PS_IO;
    }
    snprintf(zMime, nMime, "%s", zType);
    if (strncmp(zType, "image/", 6) == 0) {
        l_int32 fmt = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
        if (pixReadHeader(zPath, &fmt, &w, &h, &bps, &spp, &cmap) != 0 || fmt == IFF_UNKNOWN) {
            snprintf(zErr, nErr, "无法解码的 %s 文件（文件损坏、不完整，或为 Leptonica 不能读取的格式）", zType);
            return strcmp(zType, "image/jpeg") == 0 || strcmp(zType, "image/png") == 0 ||
                   strcmp(zType, "image/tiff") == 0 ? PS_INVALID : PS_UNSUPPORTED;
        }
        if ((long)w * (long)h > e->o.maxPixels || w <= 0 || h <= 0) {
            snprintf(zErr, nErr, "图像为 %d x %d 像素，超过 %ld 百万像素的上限", w, h,
                     e->o.maxPixels / 1000000);
            return PS_TOO_BIG;
        }
        int n = 1;
        if (is_tiff(fmt)) {
            FILE *f = fopen(zPath, "rb");
            l_int32 nT = 0;
            if (!f || tiffGetCount(f, &nT) != 0 || nT < 1) {
                if (f) fclose(f);
                snprintf(zErr, nErr, "无法统计页数的 TIFF 文件（文件损坏或不完整）");
                return PS_INVALID;
            }
            fclose(f);
            n = nT;
        }
        *pKind = OC_IMAGE;
        *pnPages = n;
        return PS_OK;
    }
    if (strcmp(zType, "application/pdf") == 0) {
        PopplerDocument *d = open_pdf(zPath, zErr, nErr);
        if (!d) return PS_INVALID;
        int n = poppler_document_get_n_pages(d);
        g_object_unref(d);
        if (n < 1) {
            snprintf(zErr, nErr, "PDF 文件中没有页面");
            return PS_INVALID;
        }
        *pKind = OC_PDF;
        *pnPages = n;
        return PS_OK;
    }
    int isText = strncmp(zType, "text/", 5) == 0 && strcmp(zType, "text/html") != 0 && strcmp(zType, "text/xml") != 0;
    if (!isText && strcmp(zType, "application/zip") != 0 && strcmp(zType, "application/pdf") != 0 &&
        looks_like_text(zPath)) {
        /* GB18030 text has no magic, and its bytes can pass for anything
         * (an "MZ" executable, say): decoded, it is text. */
        isText = 1;
        snprintf(zMime, nMime, "text/plain");
    }
    if (isText) {
        int nPage = 0;
        int rc = text_page(zPath, -1, NULL, &nPage, zErr, nErr);
        if (rc != PS_OK) return rc;
        *pKind = OC_TEXT;
        *pnPages = nPage;
        return PS_OK;
    }
    if ((strcmp(zType, "application/zip") == 0 || strcmp(zType, "application/octet-stream") == 0) &&
        is_ofd(zPath)) {
        char **az = NULL;
        int n = 0;
        int rc = ofd_pages(zPath, &az, &n, zErr, nErr);
        free_strings(az, n);
        if (rc != PS_OK) return rc;
        *pKind = OC_OFD;
        *pnPages = n;
        return PS_OK;
    }
    snprintf(zErr, nErr, "不支持的文件类型 %s（扫描件须为 JPEG、PNG、TIFF 或 PDF；电子文件须为文本、PDF 或 OFD）", zType);
    return PS_UNSUPPORTED;
}

/* ---- OFD -------------------------------------------------------------- */

static void free_strings(char **az, int n)
{
    for (int i = 0; i < n; i++) px_free(az[i]);
    px_free(az);
}

/* The entries of a zip, by name, read into memory (each up to TEXT_MAX). */
typedef struct {
    char **azName, **azData;
    size_t *anData;
    int n, nAlloc;
} zip_parts;

static void parts_clear(zip_parts *p)
{
    free_strings(p->azName, p->n);
    free_strings(p->azData, p->n);
    px_free(p->anData);
}

static int read_parts(const char *zPath, zip_parts *p, char *zErr, size_t nErr)
{
    struct archive *a = archive_read_new();
    struct archive_entry *pEnt;
    int rc = PS_OK;
    if (!a) return PS_NOMEM;
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, zPath, 65536) != ARCHIVE_OK) {
        snprintf(zErr, nErr, "不是可读取的 OFD 文件包：%s", archive_error_string(a));
        archive_read_free(a);
        return PS_INVALID;
    }
    int r;
    while ((r = archive_read_next_header(a, &pEnt)) == ARCHIVE_OK) {
        const char *zName = archive_entry_pathname(pEnt);
        size_t nLen = zName ? strlen(zName) : 0;
        if (nLen < 5 || strcmp(zName + nLen - 4, ".xml") != 0) continue;
        la_int64_t size = archive_entry_size(pEnt);
        if (size < 0 || size > (la_int64_t)TEXT_MAX) {
            snprintf(zErr, nErr, "OFD 文件包中的 %s 超过 %u 字节", zName, TEXT_MAX);
            rc = PS_TOO_BIG;
            break;
        }
        if (p->n == p->nAlloc || p->n > 100000) {
            int nNew = p->nAlloc ? p->nAlloc * 2 : 16;
            char **a1 = px_realloc(p->azName, (size_t)nNew * sizeof *a1);
            if (a1) p->azName = a1;
            char **a2 = px_realloc(p->azData, (size_t)nNew * sizeof *a2);
            if (a2) p->azData = a2;
            size_t *a3 = px_realloc(p->anData, (size_t)nNew * sizeof *a3);
            if (a3) p->anData = a3;
            if (!a1 || !a2 || !a3) { rc = PS_NOMEM; break; }
            p->nAlloc = nNew;
        }
        char *zData = px_malloc((size_t)size + 1);
        char *zCopy = px_strdup(zName[0] == '/' ? zName + 1 : zName);
        la_ssize_t got = zData ? archive_read_data(a, zData, (size_t)size) : -1;
        if (!zData || !zCopy || got != size) {
            px_free(zData);
            px_free(zCopy);
            if (!zData || !zCopy) rc = PS_NOMEM;
            else {
                snprintf(zErr, nErr, "无法读取 OFD 文件包中的 %s：%s", zName, archive_error_string(a));
                rc = PS_INVALID;
            }
            break;
        }
        zData[size] = 0;
        p->azName[p->n] = zCopy;
        p->azData[p->n] = zData;
        p->anData[p->n] = (size_t)size;
        p->n++;
    }
    if (rc == PS_OK && r != ARCHIVE_EOF) {
        snprintf(zErr, nErr, "OFD 文件包已损坏：%s", archive_error_string(a));
        rc = PS_INVALID;
    }
    archive_read_free(a);
    return rc;
}

static const char *part(const zip_parts *p, const char *zName, size_t *pn)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->azName[i], zName) == 0) {
            *pn = p->anData[i];
            return p->azData[i];
        }
    return NULL;
}

static xmlDocPtr parse_xml(const char *z, size_t n)
{
    return xmlReadMemory(z, (int)n, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static xmlNodePtr find_elem(xmlNodePtr p, const char *zName)
{
    for (; p; p = p->next) {
        if (p->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)p->name, zName) == 0) return p;
        xmlNodePtr q = find_elem(p->children, zName);
        if (q) return q;
    }
    return NULL;
}

/* Text of a page's content: each TextObject's TextCodes, a line per object. */
static int collect_text(xmlNodePtr p, sbuf *b)
{
    for (; p; p = p->next) {
        if (p->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)p->name, "TextCode") == 0) {
            xmlChar *z = xmlNodeGetContent(p);
            int rc = z ? sb_add(b, (const char *)z, strlen((const char *)z)) : PS_OK;
            xmlFree(z);
            if (rc != PS_OK) return rc;
            continue;
        }
        size_t nBefore = b->n;
        if (collect_text(p->children, b) != PS_OK) return PS_NOMEM;
        if (strcmp((const char *)p->name, "TextObject") == 0 && b->n > nBefore && sb_add(b, "\n", 1) != PS_OK)
            return PS_NOMEM;
    }
    return PS_OK;
}

static void join_path(char *zOut, size_t nOut, const char *zBase, const char *zRel)
{
    if (zRel[0] == '/') {
        snprintf(zOut, nOut, "%s", zRel + 1);
        return;
    }
    const char *zSlash = strrchr(zBase, '/');
    int nDir = zSlash ? (int)(zSlash - zBase) + 1 : 0;
    snprintf(zOut, nOut, "%.*s%s", nDir, zBase, zRel);
}

/* The text of every page of an OFD, in document order. */
static int ofd_pages(const char *zPath, char ***pazPage, int *pnPage, char *zErr, size_t nErr)
{
    zip_parts zp = {0};
    char **az = NULL;
    int n = 0, rc = read_parts(zPath, &zp, zErr, nErr);
    xmlDocPtr pRoot = NULL, pDoc = NULL;
    if (rc != PS_OK) goto out;
    size_t nX;
    const char *zX = part(&zp, "OFD.xml", &nX);
    rc = PS_INVALID;
    if (!zX || !(pRoot = parse_xml(zX, nX))) {
        snprintf(zErr, nErr, "OFD 文件包中没有可读取的 OFD.xml");
        goto out;
    }
    xmlNodePtr pDocRoot = find_elem(xmlDocGetRootElement(pRoot), "DocRoot");
    xmlChar *zDocRoot = pDocRoot ? xmlNodeGetContent(pDocRoot) : NULL;
    char zDocPath[1024];
    snprintf(zDocPath, sizeof zDocPath, "%s", zDocRoot ? (const char *)zDocRoot : "");
    xmlFree(zDocRoot);
    const char *zD = part(&zp, zDocPath[0] == '/' ? zDocPath + 1 : zDocPath, &nX);
    if (!zD || !(pDoc = parse_xml(zD, nX))) {
        snprintf(zErr, nErr, "OFD.xml 指向的文档“%s”不存在或不是 XML", zDocPath);
        goto out;
    }
    xmlNodePtr pPages = find_elem(xmlDocGetRootElement(pDoc), "Pages");
    int nAlloc = 0;
    rc = PS_OK;
    for (xmlNodePtr pg = pPages ? pPages->children : NULL; pg && rc == PS_OK; pg = pg->next) {
        if (pg->type != XML_ELEMENT_NODE || strcmp((const char *)pg->name, "Page") != 0) continue;
        xmlChar *zLoc = xmlGetProp(pg, (const xmlChar *)"BaseLoc");
        char zPagePath[2048];
        join_path(zPagePath, sizeof zPagePath, zDocPath[0] == '/' ? zDocPath + 1 : zDocPath,
                  zLoc ? (const char *)zLoc : "");
        xmlFree(zLoc);
        sbuf b = {0};
        size_t nC;
        const char *zC = part(&zp, zPagePath, &nC);
        if (zC) {
            xmlDocPtr pC = parse_xml(zC, nC);
            if (!pC) {
                snprintf(zErr, nErr, "OFD 页面 %s 不是 XML", zPagePath);
                rc = PS_INVALID;
            } else {
                rc = collect_text(xmlDocGetRootElement(pC), &b);
                xmlFreeDoc(pC);
            }
        }
        if (rc == PS_OK && !b.z) rc = sb_add(&b, "", 0);
        if (rc == PS_OK && n == nAlloc) {
            nAlloc = nAlloc ? nAlloc * 2 : 8;
            char **a = px_realloc(az, (size_t)nAlloc * sizeof *a);
            if (!a) rc = PS_NOMEM;
            else az = a;
        }
        if (rc != PS_OK) {
            px_free(b.z);
            break;
        }
        az[n++] = b.z;
    }
    if (rc == PS_OK && n == 0) {
        snprintf(zErr, nErr, "OFD 文档中没有页面");
        rc = PS_INVALID;
    }
out:
    if (pRoot) xmlFreeDoc(pRoot);
    if (pDoc) xmlFreeDoc(pDoc);
    parts_clear(&zp);
    if (rc != PS_OK) {
        free_strings(az, n);
        az = NULL;
        n = 0;
    }
    *pazPage = az;
    *pnPage = n;
    return rc;
}

/* ---- images ------------------------------------------------------------ */

/* A cairo surface painted on white, as a 32 bpp Pix. */
static PIX *pix_from_surface(cairo_surface_t *s)
{
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    if (w <= 0 || h <= 0) return NULL;
    cairo_surface_t *t = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(t) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(t);
        return NULL;
    }
    cairo_t *cr = cairo_create(t);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_flush(t);
    PIX *p = pixCreate(w, h, 32);
    if (p) {
        const unsigned char *zData = cairo_image_surface_get_data(t);
        int stride = cairo_image_surface_get_stride(t), wpl = pixGetWpl(p);
        l_uint32 *pLine = pixGetData(p);
        for (int y = 0; y < h; y++, pLine += wpl) {
            const uint32_t *pSrc = (const uint32_t *)(zData + (size_t)y * (size_t)stride);
            for (int x = 0; x < w; x++) {
                uint32_t v = pSrc[x];
                pLine[x] = ((v >> 16 & 0xFF) << L_RED_SHIFT) | ((v >> 8 & 0xFF) << L_GREEN_SHIFT) |
                           ((v & 0xFF) << L_BLUE_SHIFT);
            }
        }
    }
    cairo_surface_destroy(t);
    return p;
}

/* A PDF page rendered on white, w x h pixels at dpi. */
static PIX *render_page(PopplerPage *pg, int w, int h, double dpi)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_scale(cr, dpi / 72, dpi / 72);
    poppler_page_render(pg, cr);
    cairo_destroy(cr);
    PIX *p = pix_from_surface(s);
    cairo_surface_destroy(s);
    return p;
}

/* Page i of a PDF as an image: its one scanned image when the page is
 * that (the scan's own resolution kept), else rendered at renderDpi. */
static PIX *pdf_page_image(oc_engine *e, PopplerPage *pg, int *pDpi, char *zErr, size_t nErr)
{
    double wPt, hPt;
    poppler_page_get_size(pg, &wPt, &hPt);
    GList *pMap = poppler_page_get_image_mapping(pg);
    PIX *p = NULL;
    if (pMap && !pMap->next) {
        PopplerImageMapping *m = pMap->data;
        double aw = m->area.x2 - m->area.x1, ah = m->area.y2 - m->area.y1;
        if (aw < 0) aw = -aw;
        if (ah < 0) ah = -ah;
        if (aw * ah >= 0.8 * wPt * hPt) {
            cairo_surface_t *s = poppler_page_get_image(pg, m->image_id);
            if (s && cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
                long w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
                if (w * h > e->o.maxPixels) {
                    snprintf(zErr, nErr, "页面图像为 %ld x %ld 像素，超过 %ld 百万像素的上限", w, h,
                             e->o.maxPixels / 1000000);
                    cairo_surface_destroy(s);
                    poppler_page_free_image_mapping(pMap);
                    return NULL;
                }
                p = pix_from_surface(s);
                *pDpi = (int)(w / (aw / 72.0) + 0.5);
            }
            if (s) cairo_surface_destroy(s);
        }
    }
    poppler_page_free_image_mapping(pMap);
    if (p) return p;
    double dpi = e->o.renderDpi;
    while ((wPt / 72 * dpi) * (hPt / 72 * dpi) > (double)e->o.maxPixels && dpi > 50) dpi *= 0.8;
    int w = (int)(wPt / 72 * dpi + 0.5), h = (int)(hPt / 72 * dpi + 0.5);
    if (w < 1 || h < 1 || (double)w * h > (double)e->o.maxPixels) {
        snprintf(zErr, nErr, "PDF 页面尺寸为 %.0f x %.0f 磅，无法渲染", wPt, hPt);
        return NULL;
    }
    p = render_page(pg, w, h, dpi);
    *pDpi = (int)(dpi + 0.5);
    return p;
}

static int write_web_copy(oc_engine *e, PIX *p, const char *zWebPath, json_t *pPage)
{
    PIX *q = NULL;
    int w = pixGetWidth(p);
    if (pixGetColormap(p)) q = pixRemoveColormap(p, REMOVE_CMAP_BASED_ON_SRC);
    else q = pixClone(p);
    if (q && pixGetDepth(q) != 8 && pixGetDepth(q) != 32) {
        PIX *t = pixConvertTo8(q, 0);
        pixDestroy(&q);
        q = t;
    }
    if (q && w > e->o.webWidth) {
        /* Grey scaling of a bilevel scan keeps it legible when small. */
        PIX *t = pixScale(q, (float)e->o.webWidth / (float)w, (float)e->o.webWidth / (float)w);
        pixDestroy(&q);
        q = t;
    }
    int ok = q && pixWriteJpeg(zWebPath, q, e->o.webQuality, 1) == 0;
    if (ok) json_object_set_new(pPage, "web_width", json_integer(pixGetWidth(q)));
    pixDestroy(&q);
    return ok ? PS_OK : PS_IO;
}

/* Recognise p (8 bpp) and put text, boxes and confidence into pPage. */
static int recognise(oc_engine *e, PIX *p, int dpi, json_t *pPage, char *zErr, size_t nErr)
{
    TessBaseAPI *t = e->pTess;
    TessBaseAPISetImage2(t, p);
    TessBaseAPISetSourceResolution(t, dpi > 0 ? dpi : 300);
    if (TessBaseAPIRecognize(t, NULL) != 0) {
        snprintf(zErr, nErr, "Tesseract 未能识别此页");
        TessBaseAPIClear(t);
        return PS_INVALID;
    }
    sbuf b = {0};
    json_t *pBoxes = json_array();
    int rc = pBoxes ? sb_add(&b, "", 0) : PS_NOMEM;
    TessResultIterator *ri = rc == PS_OK ? TessBaseAPIGetIterator(t) : NULL;
    if (ri) {
        TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
        int first = 1;
        do {
            char *zSym = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);
            if (!zSym) continue;
            size_t nSym = strlen(zSym);
            size_t k = 0;
            const char *zFull = nSym == 1 && is_cjk(last_char(b.z, b.n)) ? fullwidth(zSym[0]) : NULL;
            if (zFull) nSym = strlen(zFull);
            const char *zUse = zFull ? zFull : zSym;
            unsigned c = nSym ? proto_utf8_next(zUse, nSym, &k) : 0;
            if (!first && TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) rc = sb_add(&b, "\n", 1);
            else if (!first && TessPageIteratorIsAtBeginningOf(pi, RIL_WORD) &&
                     !(is_cjk(c) && is_cjk(last_char(b.z, b.n))))
                rc = sb_add(&b, " ", 1);
            int l, tp, r, bt;
            if (rc == PS_OK && nSym && TessPageIteratorBoundingBox(pi, RIL_SYMBOL, &l, &tp, &r, &bt)) {
                json_t *a = json_pack("[i,i,i,i,I]", l, tp, r - l, bt - tp, (json_int_t)b.n);
                if (!a || json_array_append_new(pBoxes, a) != 0) rc = PS_NOMEM;
            }
            if (rc == PS_OK) rc = sb_add(&b, zUse, nSym);
            TessDeleteText(zSym);
            first = 0;
        } while (rc == PS_OK && TessResultIteratorNext(ri, RIL_SYMBOL));
        TessResultIteratorDelete(ri);
    }
    int conf = TessBaseAPIMeanTextConf(t);
    TessBaseAPIClear(t);
    if (rc != PS_OK) {
        px_free(b.z);
        json_decref(pBoxes);
        return rc;
    }
    json_object_set_new(pPage, "text", json_stringn(b.z, b.n));
    json_object_set_new(pPage, "confidence", json_integer(conf < 0 ? 0 : conf));
    json_object_set_new(pPage, "boxes", pBoxes);
    px_free(b.z);
    return PS_OK;
}

/* Clean up and read a page image p (consumed). */
static int read_image(oc_engine *e, PIX *p, int dpi, const char *zWebPath, json_t *pPage, char *zErr,
                      size_t nErr)
{
    int rc = PS_OK;
    l_float32 angle = 0, conf = 0;
    if (dpi <= 1) dpi = 0; /* "1 dot per unit": the file does not say */
    json_object_set_new(pPage, "dpi", json_integer(dpi));
    /* Deskew (the measured angle kept), then grey for Tesseract. */
    PIX *d = pixFindSkewAndDeskew(p, 2, &angle, &conf);
    if (!d) d = pixClone(p);
    pixDestroy(&p);
    if (!d) return PS_NOMEM;
    json_object_set_new(pPage, "skew", json_real(conf >= 2.5 ? (double)((int)(angle * 100)) / 100 : 0.0));
    PIX *g = pixConvertTo8(d, 0);
    if (!g) {
        pixDestroy(&d);
        return PS_NOMEM;
    }
    /* A page with (almost) no ink is blank: no OCR. */
    PIX *bw = pixConvertTo1(g, 128);
    l_int32 nInk = 0;
    if (bw) pixCountPixels(bw, &nInk, NULL);
    pixDestroy(&bw);
    double ink = (double)nInk / ((double)pixGetWidth(g) * pixGetHeight(g));
    /* Low-resolution scans read better enlarged to about 300 dpi. */
    double scale = 1.0;
    if (dpi > 0 && dpi < e->o.upscaleBelowDpi) scale = 300.0 / dpi > 2.0 ? 2.0 : 300.0 / dpi;
    PIX *o = scale > 1.0 ? pixScale(g, (float)scale, (float)scale) : pixClone(g);
    json_object_set_new(pPage, "width", json_integer(pixGetWidth(o ? o : g)));
    json_object_set_new(pPage, "height", json_integer(pixGetHeight(o ? o : g)));
    if (zWebPath && write_web_copy(e, d, zWebPath, pPage) != PS_OK) {
        snprintf(zErr, nErr, "无法写入此页供浏览的图像");
        rc = PS_IO;
    }
    if (rc == PS_OK && !o) rc = PS_NOMEM;
    if (rc == PS_OK && ink < BLANK_INK) {
        json_object_set_new(pPage, "text", json_string(""));
        json_object_set_new(pPage, "confidence", json_integer(0));
        json_object_set_new(pPage, "blank", json_true());
    } else if (rc == PS_OK) {
        rc = recognise(e, o, (int)(dpi * scale + 0.5), pPage, zErr, nErr);
        /* A page read with low confidence is read again cleaned up (a 3x3
         * median against speckle and JPEG noise; a global threshold against
         * a grey background), and the most confident reading is kept. */
        for (int v = 0; v < 2 && rc == PS_OK && json_integer_value(json_object_get(pPage, "confidence")) < RETRY_CONF; v++) {
            PIX *alt = v == 0 ? pixMedianFilter(o, 3, 3) : pixThresholdToBinary(o, 150);
            json_t *pAlt = alt ? json_object() : NULL;
            if (pAlt && recognise(e, alt, (int)(dpi * scale + 0.5), pAlt, zErr, nErr) == PS_OK &&
                json_integer_value(json_object_get(pAlt, "confidence")) > json_integer_value(json_object_get(pPage, "confidence"))) {
                json_object_update(pPage, pAlt);
                json_object_set_new(pPage, "cleanup", json_string(v == 0 ? "median" : "threshold"));
            }
            json_decref(pAlt);
            pixDestroy(&alt);
        }
        const char *zT = json_string_value(json_object_get(pPage, "text"));
        size_t nNon = 0;
        for (const char *q = zT ? zT : ""; *q; q++) nNon += (unsigned char)*q > ' ';
        json_object_set_new(pPage, "blank", json_boolean(rc == PS_OK && nNon == 0));
    }
    json_object_set_new(pPage, "source", json_string("ocr"));
    pixDestroy(&o);
    pixDestroy(&g);
    pixDestroy(&d);
    return rc;
}

/* ---- a page --------------------------------------------------------------- */

static int read_pdf_page(oc_engine *e, const char *zPath, int i, const char *zWebPath, json_t *pPage,
                         char *zErr, size_t nErr)
{
    PopplerDocument *d = open_pdf(zPath, zErr, nErr);
    if (!d) return PS_INVALID;
    int rc = PS_OK;
    PopplerPage *pg = poppler_document_get_page(d, i);
    if (!pg) {
        snprintf(zErr, nErr, "PDF 第 %d 页无法读取", i + 1);
        g_object_unref(d);
        return PS_INVALID;
    }
    char *zText = poppler_page_get_text(pg);
    size_t nNon = 0;
    for (const char *q = zText ? zText : ""; *q; q++) nNon += ((unsigned char)*q & 0xC0) != 0x80 && (unsigned char)*q > ' ';
    if (nNon >= PDF_TEXT_MIN) {
        /* Born digital: its own text, with a box per character. */
        double wPt, hPt, dpi = 150;
        poppler_page_get_size(pg, &wPt, &hPt);
        PopplerRectangle *aR = NULL;
        guint nR = 0;
        json_t *pBoxes = json_array();
        if (pBoxes && poppler_page_get_text_layout(pg, &aR, &nR)) {
            size_t off = 0, nT = strlen(zText);
            for (guint k = 0; k < nR && off < nT; k++) {
                size_t at = off;
                proto_utf8_next(zText, nT, &off);
                if ((unsigned char)zText[at] <= ' ') continue;
                double s = dpi / 72;
                json_array_append_new(pBoxes, json_pack("[i,i,i,i,I]", (int)(aR[k].x1 * s), (int)(aR[k].y1 * s),
                                                        (int)((aR[k].x2 - aR[k].x1) * s + 0.5),
                                                        (int)((aR[k].y2 - aR[k].y1) * s + 0.5), (json_int_t)at));
            }
            g_free(aR);
        }
        json_object_set_new(pPage, "text", json_string(zText));
        json_object_set_new(pPage, "source", json_string("pdf-text"));
        json_object_set_new(pPage, "boxes", pBoxes ? pBoxes : json_array());
        json_object_set_new(pPage, "width", json_integer((int)(wPt / 72 * dpi + 0.5)));
        json_object_set_new(pPage, "height", json_integer((int)(hPt / 72 * dpi + 0.5)));
        if (zWebPath) {
            int w = (int)(wPt / 72 * dpi + 0.5), h = (int)(hPt / 72 * dpi + 0.5);
            PIX *p = render_page(pg, w, h, dpi);
            if (!p || write_web_copy(e, p, zWebPath, pPage) != PS_OK) {
                snprintf(zErr, nErr, "无法写入 PDF 第 %d 页供浏览的图像", i + 1);
                rc = PS_IO;
            }
            pixDestroy(&p);
        }
    } else {
        int dpi = 0;
        PIX *p = pdf_page_image(e, pg, &dpi, zErr, nErr);
        if (!p) rc = PS_TOO_BIG;
        else rc = read_image(e, p, dpi, zWebPath, pPage, zErr, nErr);
    }
    g_free(zText);
    g_object_unref(pg);
    g_object_unref(d);
    return rc;
}


int oc_read_page(oc_engine *e, const char *zPath, oc_kind k, int i, const char *zWebPath,
                 json_t **ppPage, char *zErr, size_t nErr)
{
    json_t *pPage = json_object();
    int rc;
    *ppPage = NULL;
    if (!pPage) return PS_NOMEM;
    switch (k) {
    case OC_IMAGE: {
        l_int32 fmt = IFF_UNKNOWN;
        findFileFormat(zPath, &fmt);
        PIX *p = is_tiff(fmt) ? pixReadTiff(zPath, i) : i == 0 ? pixRead(zPath) : NULL;
        if (!p) {
            snprintf(zErr, nErr, "图像第 %d 页无法解码（文件损坏或不完整）", i + 1);
            rc = PS_INVALID;
            break;
        }
        rc = read_image(e, p, pixGetXRes(p), zWebPath, pPage, zErr, nErr);
        break;
    }
    case OC_PDF:
        rc = read_pdf_page(e, zPath, i, zWebPath, pPage, zErr, nErr);
        break;
    case OC_TEXT:
        rc = text_page(zPath, i, pPage, NULL, zErr, nErr);
        break;
    case OC_OFD: {
        char **az = NULL;
        int n = 0;
        rc = ofd_pages(zPath, &az, &n, zErr, nErr);
        if (rc == PS_OK && i >= n) {
            snprintf(zErr, nErr, "OFD 文件共 %d 页，没有第 %d 页", n, i + 1);
            rc = PS_INVALID;
        }
        if (rc == PS_OK) {
            json_object_set_new(pPage, "text", json_string(az[i]));
            json_object_set_new(pPage, "source", json_string("ofd"));
        }
        free_strings(az, n);
        break;
    }
    default:
        snprintf(zErr, nErr, "不支持的文件类型");
        rc = PS_UNSUPPORTED;
    }
    if (rc != PS_OK) {
        json_decref(pPage);
        return rc;
    }
    if (!json_object_get(pPage, "text")) json_object_set_new(pPage, "text", json_string(""));
    *ppPage = pPage;
    return PS_OK;
}
