/* Unit tests of page images (idx_pages): what an upload must be, the
 * personal numbers blacked out on the scan, and the redacted copy kept. */
#include "idx_pages.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char zData[64];
static const char *zCode = "Z031-WS·2017-Y-BGS-0001";

/* A w x h image of one grey level, encoded as PNG or JPEG (lept_free). */
static l_uint8 *image(int w, int h, int depth, int png, size_t *pn)
{
    PIX *pix = pixCreate(w, h, depth);
    l_uint8 *p = NULL;
    if (depth == 8) pixSetAllArbitrary(pix, 255);
    if (png) pixWriteMemPng(&p, pn, pix, 0.0);
    else pixWriteMemJpeg(&p, pn, pix, 90, 0);
    pixDestroy(&pix);
    return p;
}

static int put(unsigned n, const void *z, size_t len, char *zErr)
{
    return idx_page_image_put(zData, zCode, n, z, len, zErr, 512);
}

static void test_upload(void)
{
    char zErr[512], zPath[4400];
    const char *zType;
    size_t n;

    /* 12000 x 12000 (144 megapixels) in a few hundred KB: refused from its
     * header, before anything is decoded */
    l_uint8 *p = image(12000, 12000, 1, 1, &n);
    CHECK(p != NULL && n < 1000000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_INT(put(1, p, n, zErr), PS_TOO_BIG);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(zErr, "12000 x 12000");
    CHECK(t1.tv_sec - t0.tv_sec < 2);
    lept_free(p);
    /* a side over 30000 pixels, though few pixels in all */
    p = image(30001, 2, 8, 1, &n);
    CHECK_INT(put(1, p, n, zErr), PS_TOO_BIG);
    lept_free(p);
    CHECK_INT(idx_page_image_path(zData, zCode, 1, zPath, sizeof zPath, &zType), PS_NOT_FOUND);

    /* the first bytes of a JPEG, then anything: not an image */
    static const char zFake[] = "\xFF\xD8\xFF<script>alert(1)</script>";
    CHECK_INT(put(1, zFake, sizeof zFake - 1, zErr), PS_UNSUPPORTED);
    CHECK_INT(put(1, "GIF89a....", 10, zErr), PS_UNSUPPORTED);
    /* a good header on broken data: the full decode finds it */
    p = image(200, 100, 8, 1, &n);
    CHECK_INT(put(1, p, n - 20, zErr), PS_UNSUPPORTED);
    lept_free(p);
    CHECK_INT(idx_page_image_path(zData, zCode, 1, zPath, sizeof zPath, &zType), PS_NOT_FOUND);

    /* good ones are stored; a PNG replaces the page's JPEG */
    p = image(200, 100, 8, 0, &n);
    CHECK_INT(put(1, p, n, zErr), PS_OK);
    CHECK_INT(idx_page_image_path(zData, zCode, 1, zPath, sizeof zPath, &zType), PS_OK);
    CHECK_STR(zType, "image/jpeg");
    lept_free(p);
    p = image(200, 100, 8, 1, &n);
    CHECK_INT(put(1, p, n, zErr), PS_OK);
    CHECK_INT(idx_page_image_path(zData, zCode, 1, zPath, sizeof zPath, &zType), PS_OK);
    CHECK_STR(zType, "image/png");
    lept_free(p);
}

/* A page: text, one 20 x 20 cell per character on a 40-pixel-high line. */
static json_t *page(const char *zText, int w, int h)
{
    json_t *pBoxes = json_array();
    size_t i = 0, k = 0, n = strlen(zText);
    while (i < n) {
        json_array_append_new(pBoxes, json_pack("[i,i,i,i,I]", (int)(k * 20 + 1), 10, 18, 20, (json_int_t)i));
        unsigned char c = (unsigned char)zText[i];
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        k++;
    }
    return json_pack("{s:s,s:o,s:i,s:i}", "text", zText, "boxes", pBoxes, "width", w, "height", h);
}

/* The grey level at the middle of character cell k of an image file. */
static int cell(const char *zPath, int k)
{
    PIX *pix = pixRead(zPath);
    l_uint32 v = 0;
    if (!pix) return -1;
    PIX *g = pixGetDepth(pix) == 8 ? pixClone(pix) : pixConvertTo8(pix, 0);
    pixGetPixel(g, k * 20 + 10, 20, &v);
    pixDestroy(&g);
    pixDestroy(&pix);
    return (int)v;
}

static void read_file(const char *zPath, char *z, size_t n)
{
    FILE *f = fopen(zPath, "rb");
    memset(z, 0, n);
    if (f) {
        size_t k = fread(z, 1, n - 1, f);
        (void)k;
        fclose(f);
    }
}

static void test_view(void)
{
    char zErr[512], zPath[4400], zOrig[4400], zCopy[4400], zCopy2[4400];
    const char *zType;
    size_t n;
    l_uint8 *p = image(480, 40, 8, 1, &n);
    CHECK_INT(put(2, p, n, zErr), PS_OK);
    lept_free(p);
    CHECK_INT(idx_page_image_path(zData, zCode, 2, zOrig, sizeof zOrig, &zType), PS_OK);

    /* a full-width ID written 6-8-4 with U+3000: its 8 birth-date digits
     * (cells 4+7 .. 4+14, counting the separator) are black, the rest not */
    const char *zText = "身份证号１１０１０１　１９９００３０７　１２３３";
    json_t *pPage = page(zText, 480, 40);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 0, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zPath, zOrig);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zCopy, sizeof zCopy, &zType, zErr, sizeof zErr), PS_OK);
    CHECK(strcmp(zCopy, zOrig) != 0);
    CHECK_STR(zType, "image/png");
    for (int k = 0; k < 4 + 6 + 1 + 8 + 1 + 4; k++) {
        int hidden = k >= 4 + 7 && k < 4 + 15;
        int v = cell(zCopy, k);
        if ((v < 50) != hidden) fprintf(stderr, "cell %d: %d\n", k, v);
        CHECK_INT(v < 50, hidden);
    }
    CHECK_INT(cell(zOrig, 12), 255); /* the original is untouched */

    /* the second view sends the copy made by the first: not made again
     * (marked here, the mark stays), not even decoded (no slot free) */
    FILE *f = fopen(zCopy, "ab");
    CHECK(f != NULL);
    if (f) {
        fputs("MARK", f);
        fclose(f);
    }
    CHECK_INT(idx_page_decode_begin(0), PS_OK);
    CHECK_INT(idx_page_decode_begin(0), PS_OK);
    CHECK_INT(idx_page_decode_begin(50), PS_UNAVAILABLE);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    idx_page_decode_end();
    idx_page_decode_end();
    CHECK_STR(zPath, zCopy);
    static char zBuf[1 << 16];
    read_file(zPath, zBuf, sizeof zBuf);
    struct stat st;
    CHECK(stat(zPath, &st) == 0 && st.st_size > 4 && memcmp(zBuf + st.st_size - 4, "MARK", 4) == 0);

    /* new page text hides other boxes: a new copy, the old one removed */
    json_decref(pPage);
    pPage = page("电话13812345678，身份证号１１０１０１　１９９００３０７　１２３３", 480, 40);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zCopy2, sizeof zCopy2, &zType, zErr, sizeof zErr), PS_OK);
    CHECK(strcmp(zCopy2, zCopy) != 0);
    CHECK(stat(zCopy, &st) != 0);
    CHECK(cell(zCopy2, 2 + 3) < 50);      /* 138 then **** */
    CHECK(cell(zCopy2, 2 + 2) > 200);
    CHECK(cell(zCopy2, 14 + 4 + 7) < 50); /* the ID after it */
    /* nothing hidden, or nothing with boxes: the original */
    json_decref(pPage);
    pPage = page("精准扶贫 2017年 20170305", 480, 40);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zPath, zOrig);
    json_decref(pPage);
    pPage = json_pack("{s:s}", "text", "电话13812345678");
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zPath, zOrig);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, NULL, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zPath, zOrig);
    CHECK_INT(idx_page_image_view(zData, zCode, 9, NULL, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr),
              PS_NOT_FOUND);
    json_decref(pPage);
    /* boxes far outside the image are cut to it */
    pPage = json_pack("{s:s,s:[[f,f,f,f,i]],s:i,s:i}", "text", "13812345678", "boxes", 1e300, -1e300, 1e300, 1e300, 5,
                      "width", 480, "height", 40);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK(strcmp(zPath, zOrig) != 0);
    json_decref(pPage);

    /* a new image: its copies are gone, the next view makes a new one */
    p = image(480, 40, 8, 0, &n);
    CHECK_INT(put(2, p, n, zErr), PS_OK);
    lept_free(p);
    CHECK(stat(zCopy2, &st) != 0);
    pPage = page("电话13812345678，身份证号１１０１０１　１９９００３０７　１２３３", 480, 40);
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zType, "image/jpeg");
    CHECK(strcmp(zPath, zCopy2) != 0 && strstr(zPath, ".r") != NULL);
    CHECK(cell(zPath, 2 + 3) < 60);
    CHECK(cell(zPath, 2 + 2) > 190);
    /* a copy that cannot be made is an error, never the original */
    strcpy(zCopy, zPath);
    unlink(zCopy);
    CHECK_INT(idx_page_image_path(zData, zCode, 2, zOrig, sizeof zOrig, &zType), PS_OK);
    f = fopen(zOrig, "wb");
    if (f) {
        fputs("\xFF\xD8\xFF not a JPEG any more", f);
        fclose(f);
    }
    CHECK_INT(idx_page_image_view(zData, zCode, 2, pPage, 1, zPath, sizeof zPath, &zType, zErr, sizeof zErr), PS_IO);
    json_decref(pPage);

    /* deleting the record removes the images and their copies */
    idx_page_image_remove_all(zData, zCode);
    CHECK_INT(idx_page_image_path(zData, zCode, 2, zPath, sizeof zPath, &zType), PS_NOT_FOUND);
    CHECK_INT(idx_page_image_path(zData, zCode, 1, zPath, sizeof zPath, &zType), PS_NOT_FOUND);
}

int main(void)
{
    snprintf(zData, sizeof zData, "/tmp/test_pages_XXXXXX");
    CHECK(mkdtemp(zData) != NULL);
    test_upload();
    test_view();
    px_test_rmdir(zData);
    return px_test_done();
}
