/* Unit tests of the ingest modules: names to 档号, the delivery walk, the
 * journal (a crash mid-line), file types by content, born-digital readers,
 * OCR of a rendered Chinese line, and the worker pool. */
#include "oc_delivery.h"
#include "oc_pool.h"
#include "oc_read.h"
#include "proto_errno.h"
#include "proto_status.h"
#include "px_test.h"

#include <archive.h>
#include <archive_entry.h>
#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <fontconfig/fontconfig.h>
#include <leptonica/allheaders.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char zDir[] = "/tmp/test_ocr_XXXXXX";

static const char *path_of(const char *zName)
{
    static char z[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(z[k], sizeof z[k], "%s/%s", zDir, zName);
    return z[k];
}

static void write_bytes(const char *zName, const void *p, size_t n)
{
    FILE *f = fopen(path_of(zName), "wb");
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

static void test_names(void)
{
    char zCode[96];
    int page;
    CHECK(oc_name_code("", "Z031-WS·2019-Y-BGS-0001.pdf", zCode, &page));
    CHECK_STR(zCode, "Z031-WS·2019-Y-BGS-0001");
    CHECK_INT(page, 0);
    /* look-alike separators mended; the page after the code */
    CHECK(oc_name_code("", "Z031-WS.2019-Y-BGS-0001-0003.jpg", zCode, &page));
    CHECK_STR(zCode, "Z031-WS·2019-Y-BGS-0001");
    CHECK_INT(page, 3);
    CHECK(oc_name_code("Z031-WS·2019-Y-BGS-0002", "0002.jpg", zCode, &page));
    CHECK_STR(zCode, "Z031-WS·2019-Y-BGS-0002");
    CHECK_INT(page, 2);
    CHECK(oc_name_code("Z031-WS·2019-Y-BGS-0002", "scan-a.jpg", zCode, &page));
    CHECK_INT(page, 0);
    CHECK(!oc_name_code("", "readme.txt", zCode, &page));
    CHECK(!oc_name_code("scans", "0001.jpg", zCode, &page));
    CHECK(!oc_name_code("", "Z031-WS·2019-Y-QQ.jpg", zCode, &page));
    /* the spellings the catalog import reads, read the same way */
    static const struct {
        const char *zDir, *zName, *zCode;
        int page;
    } aLenient[] = {
        {"", "Z808-WS·2017-Y-BGS-2.txt", "Z808-WS·2017-Y-BGS-0002", 0},                 /* 件号 without padding */
        {"", "z808-ws·2017-y-bgs-0003.pdf", "Z808-WS·2017-Y-BGS-0003", 0},              /* lower case */
        {"", "Ｚ８０８－ＷＳ·２０１７－Ｙ－ＢＧＳ－０００４.txt", "Z808-WS·2017-Y-BGS-0004", 0}, /* full width */
        {"", "Z808-WS-2017-Y-BGS-0005.tif", "Z808-WS·2017-Y-BGS-0005", 0},              /* '-' for '·' */
        {"", "Z808-WS-2017-Y-BGS-0006-0002.jpg", "Z808-WS·2017-Y-BGS-0006", 2},         /* and a page */
        {"", "Z808-WS·2017-Y-BGS-7_3.jpg", "Z808-WS·2017-Y-BGS-0007", 3},
        {"", "Ｚ８０８－ＷＳ·２０１７－Ｙ－ＢＧＳ－０００８－０００２.jpg", "Z808-WS·2017-Y-BGS-0008", 2},
        {"Z808-WS·2017-Y-BGS-9", "0001.txt", "Z808-WS·2017-Y-BGS-0009", 1},             /* a folder */
        {"z808-ws-2017-y-bgs-0010", "0002.jpg", "Z808-WS·2017-Y-BGS-0010", 2},
        {"", "Z808-WS·2017-Y-2.txt", "Z808-WS·2017-Y-0002", 0},                         /* no 机构 */
    };
    for (size_t i = 0; i < sizeof aLenient / sizeof aLenient[0]; i++) {
        oc_name n;
        int how = oc_name_read(aLenient[i].zDir, aLenient[i].zName, &n);
        CHECK_INT(how, OC_NAME_CODE);
        if (how != OC_NAME_CODE) {
            fprintf(stderr, "  name %s/%s\n", aLenient[i].zDir, aLenient[i].zName);
            continue;
        }
        CHECK_STR(n.zCode, aLenient[i].zCode);
        CHECK_INT(n.page, aLenient[i].page);
        CHECK_INT(n.lenient, 1);
        CHECK_INT(n.inDir, aLenient[i].zDir[0] != 0);
    }
    /* as written: not lenient; the written part of a page file is its 档号 */
    oc_name n;
    CHECK_INT(oc_name_read("", "Z031-WS·2019-Y-BGS-0001-0003.jpg", &n), OC_NAME_CODE);
    CHECK_INT(n.lenient, 0);
    CHECK_STR(n.zWritten, "Z031-WS·2019-Y-BGS-0001");
    CHECK_INT(oc_name_read("", "Z031-WS.2019-Y-BGS-0001.jpg", &n), OC_NAME_CODE);
    CHECK_INT(n.lenient, 1);
    CHECK_STR(n.zWritten, "Z031-WS.2019-Y-BGS-0001");
    /* names read strictly keep their old reading: 件号 0001, page 2 */
    CHECK_INT(oc_name_read("", "Z031-WS·2019-Y-0001-2.jpg", &n), OC_NAME_CODE);
    CHECK_STR(n.zCode, "Z031-WS·2019-Y-0001");
    CHECK_INT(n.page, 2);
    /* read leniently, a name that says two things is not guessed at */
    CHECK_INT(oc_name_read("", "z031-ws·2019-y-0001-2.jpg", &n), OC_NAME_AMBIGUOUS);
    CHECK_STR(n.zCode, "Z031-WS·2019-Y-0001-0002");
    CHECK_STR(n.zOther, "Z031-WS·2019-Y-0001");
    CHECK_INT(n.otherPage, 2);
}

static void test_walk(void)
{
    char zSub[1100];
    snprintf(zSub, sizeof zSub, "%s/walk", zDir);
    mkdir(zSub, 0700);
    snprintf(zSub, sizeof zSub, "%s/walk/Z031-WS·2019-Y-BGS-0002", zDir);
    mkdir(zSub, 0700);
    write_bytes("walk/Z031-WS·2019-Y-BGS-0002/0002.jpg", "x", 1);
    write_bytes("walk/Z031-WS·2019-Y-BGS-0002/0001.jpg", "x", 1);
    write_bytes("walk/Z031-WS·2019-Y-BGS-0001.tif", "x", 1);
    write_bytes("walk/notes.doc", "x", 1);
    write_bytes("walk/.hidden", "x", 1);
    const char zCsv[] = "\xEF\xBB\xBF档号,题名\r\nZ031-WS·2019-Y-BGS-0001,甲\r\n";
    write_bytes("walk/目录.csv", zCsv, sizeof zCsv - 1);
    oc_delivery d;
    char zErr[256];
    CHECK_INT(oc_delivery_scan(path_of("walk"), &d, zErr, sizeof zErr), PS_OK);
    CHECK_INT(d.n, 3);
    if (d.n == 3) {
        CHECK_STR(d.a[0].zRel, "Z031-WS·2019-Y-BGS-0001.tif");
        CHECK_STR(d.a[1].zRel, "Z031-WS·2019-Y-BGS-0002/0001.jpg");
        CHECK_INT(d.a[2].page, 2);
    }
    CHECK_INT(d.nCatalog, 1);
    CHECK_INT(d.nStray, 1);
    if (d.nStray == 1) CHECK_STR(d.azStray[0], "notes.doc");
    CHECK_INT(d.nLenient, 0);
    CHECK_INT(d.nAmbiguous, 0);
    oc_delivery_clear(&d);
    /* names in the catalog's lenient spellings: read, and each listed once
     * (a folder once, not once per page) */
    mkdir(path_of("walk2"), 0700);
    mkdir(path_of("walk2/Z808-WS·2017-Y-BGS-3"), 0700);
    write_bytes("walk2/Z808-WS·2017-Y-BGS-3/0001.txt", "x", 1);
    write_bytes("walk2/Z808-WS·2017-Y-BGS-3/0002.txt", "x", 1);
    write_bytes("walk2/Z808-WS·2017-Y-BGS-2.txt", "x", 1);
    write_bytes("walk2/z808-ws·2017-y-bgs-0004.txt", "x", 1);
    write_bytes("walk2/Z808-WS·2017-Y-BGS-0001.txt", "x", 1);
    write_bytes("walk2/z808-ws·2017-y-0001-2.jpg", "x", 1);
    CHECK_INT(oc_delivery_scan(path_of("walk2"), &d, zErr, sizeof zErr), PS_OK);
    CHECK_INT(d.n, 5);
    CHECK_INT(d.nStray, 0);
    CHECK_INT(d.nLenient, 3);
    if (d.nLenient == 3) {
        CHECK_STR(d.aLenient[0].zRel, "Z808-WS·2017-Y-BGS-2.txt");
        CHECK_STR(d.aLenient[0].zCode, "Z808-WS·2017-Y-BGS-0002");
        CHECK_STR(d.aLenient[0].zWritten, "Z808-WS·2017-Y-BGS-2");
        CHECK_CONTAINS(d.aLenient[0].zReason, "按 Z808-WS·2017-Y-BGS-0002 读取");
        CHECK_STR(d.aLenient[1].zRel, "Z808-WS·2017-Y-BGS-3");
        CHECK_CONTAINS(d.aLenient[1].zReason, "文件夹名");
        CHECK_STR(d.aLenient[2].zRel, "z808-ws·2017-y-bgs-0004.txt");
    }
    CHECK_INT(d.nAmbiguous, 1);
    if (d.nAmbiguous == 1) {
        CHECK_STR(d.aAmbiguous[0].zRel, "z808-ws·2017-y-0001-2.jpg");
        CHECK_CONTAINS(d.aAmbiguous[0].zReason, "Z808-WS·2017-Y-0001 的第 2 页");
    }
    if (d.n == 5) {
        CHECK_STR(d.a[2].zCode, "Z808-WS·2017-Y-BGS-0003");
        CHECK_INT(d.a[3].page, 2);
        CHECK_STR(d.a[4].zCode, "Z808-WS·2017-Y-BGS-0004");
    }
    oc_delivery_clear(&d);
    CHECK_INT(oc_delivery_scan(path_of("no-such-folder"), &d, zErr, sizeof zErr), PS_IO);
    CHECK_CONTAINS(zErr, "no-such-folder");
    oc_delivery_clear(&d);
}

static void test_journal(void)
{
    oc_journal *j;
    char zErr[256];
    const char *zPath = path_of("journal.ndjson");
    CHECK_INT(oc_journal_open(zPath, &j, zErr, sizeof zErr), PS_OK);
    json_t *v = json_pack("{s:i}", "pages", 3);
    CHECK_INT(oc_journal_put(j, "probe\ta.tif", v, zErr, sizeof zErr), PS_OK);
    json_decref(v);
    v = json_pack("{s:i}", "pages", 4);
    CHECK_INT(oc_journal_put(j, "probe\ta.tif", v, zErr, sizeof zErr), PS_OK); /* the last one wins */
    json_decref(v);
    v = json_pack("{s:b}", "blank", 1);
    CHECK_INT(oc_journal_put(j, "page\ta.tif\t0", v, zErr, sizeof zErr), PS_OK);
    json_decref(v);
    oc_journal_close(j);
    /* a crash in the middle of a line */
    FILE *f = fopen(zPath, "ab");
    fputs("{\"k\":\"page\\ta.tif\\t1\",\"v\":{\"bla", f);
    fclose(f);
    CHECK_INT(oc_journal_open(zPath, &j, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_integer_value(json_object_get(oc_journal_get(j, "probe\ta.tif"), "pages")), 4);
    CHECK(oc_journal_get(j, "page\ta.tif\t0") != NULL);
    CHECK(oc_journal_get(j, "page\ta.tif\t1") == NULL);
    v = json_pack("{s:b}", "blank", 0);
    CHECK_INT(oc_journal_put(j, "page\ta.tif\t1", v, zErr, sizeof zErr), PS_OK);
    json_decref(v);
    oc_journal_close(j);
    CHECK_INT(oc_journal_open(zPath, &j, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_object_size(oc_journal_all(j)), 3);
    oc_journal_close(j);
}

/* A line of Chinese drawn with cairo (fontconfig finds a CJK font). */
static void draw_text_png(const char *zName, const char *zText, int blank)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1400, 300);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (!blank) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_select_font_face(cr, "Noto Sans CJK SC", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, 64);
        cairo_move_to(cr, 60, 170);
        cairo_show_text(cr, zText);
    }
    cairo_destroy(cr);
    cairo_surface_write_to_png(s, path_of(zName));
    cairo_surface_destroy(s);
}

static void write_ofd(const char *zName)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, path_of(zName));
    const char *azPart[][2] = {
        {"OFD.xml", "<?xml version=\"1.0\"?><ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\"><ofd:DocBody>"
                    "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"},
        {"Doc_0/Document.xml", "<?xml version=\"1.0\"?><ofd:Document xmlns:ofd=\"http://www.ofdspec.org/2016\">"
                               "<ofd:Pages><ofd:Page ID=\"1\" BaseLoc=\"Pages/Page_0/Content.xml\"/>"
                               "<ofd:Page ID=\"2\" BaseLoc=\"Pages/Page_1/Content.xml\"/></ofd:Pages></ofd:Document>"},
        {"Doc_0/Pages/Page_0/Content.xml", "<ofd:Page xmlns:ofd=\"http://www.ofdspec.org/2016\"><ofd:Content><ofd:Layer>"
                                           "<ofd:TextObject><ofd:TextCode>第一页</ofd:TextCode></ofd:TextObject>"
                                           "</ofd:Layer></ofd:Content></ofd:Page>"},
        {"Doc_0/Pages/Page_1/Content.xml", "<ofd:Page xmlns:ofd=\"http://www.ofdspec.org/2016\"><ofd:Content><ofd:Layer>"
                                           "<ofd:TextObject><ofd:TextCode>精准扶贫</ofd:TextCode></ofd:TextObject>"
                                           "<ofd:TextObject><ofd:TextCode>档案</ofd:TextCode></ofd:TextObject>"
                                           "</ofd:Layer></ofd:Content></ofd:Page>"},
    };
    for (size_t i = 0; i < sizeof azPart / sizeof azPart[0]; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, azPart[i][0]);
        archive_entry_set_size(e, (la_int64_t)strlen(azPart[i][1]));
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_write_header(a, e);
        archive_write_data(a, azPart[i][1], strlen(azPart[i][1]));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static void test_read(void)
{
    oc_opts o;
    oc_engine *e = NULL;
    char zErr[512], zMime[128];
    oc_kind k;
    int n;
    json_t *pPage = NULL;
    oc_opts_default(&o);
    CHECK_INT(oc_engine_new(&o, &e, zErr, sizeof zErr), PS_OK);
    if (!e) return;

    write_bytes("empty.tif", "", 0);
    CHECK_INT(oc_probe(e, path_of("empty.tif"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_INVALID);
    CHECK_CONTAINS(zErr, "为空");
    write_bytes("garbage.jpg", "\x01\x02\x03\x04 not an image at all \xff\xfe\x00", 26);
    CHECK_INT(oc_probe(e, path_of("garbage.jpg"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_UNSUPPORTED);
    CHECK_CONTAINS(zErr, "不支持的文件类型");
    write_bytes("cut.jpg", "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01", 13);
    CHECK_INT(oc_probe(e, path_of("cut.jpg"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zMime, "image/jpeg");
    write_bytes("cut.pdf", "%PDF-1.4\n1 0 obj\n<< /Type /Catalog", 34);
    CHECK_INT(oc_probe(e, path_of("cut.pdf"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_INVALID);
    CHECK_CONTAINS(zErr, "PDF");

    /* plain text in GB18030, pages at form feeds */
    const char zGb[] = "\xbe\xab\xd7\xbc\xb7\xf6\xc6\xb6\x0c\xb5\xb5\xb0\xb8"; /* 精准扶贫\f档案 */
    write_bytes("note.txt", zGb, sizeof zGb - 1);
    CHECK_INT(oc_probe(e, path_of("note.txt"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_OK);
    CHECK_INT(k, OC_TEXT);
    CHECK_INT(n, 2);
    CHECK_INT(oc_read_page(e, path_of("note.txt"), k, 1, NULL, &pPage, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pPage, "text")), "档案");
    json_decref(pPage);

    /* GB18030 bytes that libmagic takes for a DOS program are still text */
    const char zMz[] = "MZ\xbe\xab\xd7\xbc\xb7\xf6\xc6\xb6\xb5\xb5\xb0\xb8\r\n";
    write_bytes("mz.txt", zMz, sizeof zMz - 1);
    CHECK_INT(oc_probe(e, path_of("mz.txt"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_OK);
    CHECK_INT(k, OC_TEXT);

    write_ofd("doc.ofd");
    CHECK_INT(oc_probe(e, path_of("doc.ofd"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_OK);
    CHECK_INT(k, OC_OFD);
    CHECK_INT(n, 2);
    CHECK_INT(oc_read_page(e, path_of("doc.ofd"), k, 1, NULL, &pPage, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pPage, "text")), "精准扶贫\n档案\n");
    json_decref(pPage);

    /* a scanned line, read by Tesseract: text, a box per character, a web copy */
    draw_text_png("line.png", "精准扶贫档案数字化", 0);
    CHECK_INT(oc_probe(e, path_of("line.png"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_OK);
    CHECK_INT(k, OC_IMAGE);
    CHECK_STR(zMime, "image/png");
    CHECK_INT(oc_read_page(e, path_of("line.png"), k, 0, path_of("line-web.jpg"), &pPage, zErr, sizeof zErr), PS_OK);
    const char *zText = json_string_value(json_object_get(pPage, "text"));
    /* OCR may miss a character here or there; the line as a whole is read */
    CHECK_CONTAINS(zText ? zText : "", "精准");
    CHECK_CONTAINS(zText ? zText : "", "档案数字化");
    CHECK(json_array_size(json_object_get(pPage, "boxes")) >= 8);
    CHECK(json_integer_value(json_object_get(pPage, "confidence")) > 50);
    CHECK(json_is_false(json_object_get(pPage, "blank")));
    CHECK(access(path_of("line-web.jpg"), R_OK) == 0);
    json_decref(pPage);

    draw_text_png("blank.png", "", 1);
    CHECK_INT(oc_read_page(e, path_of("blank.png"), OC_IMAGE, 0, NULL, &pPage, zErr, sizeof zErr), PS_OK);
    CHECK(json_is_true(json_object_get(pPage, "blank")));
    json_decref(pPage);

    /* an image over the pixel limit is refused before it is decoded */
    oc_engine_free(e);
    o.maxPixels = 100000;
    CHECK_INT(oc_engine_new(&o, &e, zErr, sizeof zErr), PS_OK);
    CHECK_INT(oc_probe(e, path_of("line.png"), &k, &n, zMime, sizeof zMime, zErr, sizeof zErr), PS_TOO_BIG);
    CHECK_CONTAINS(zErr, "1400 x 300");
    oc_engine_free(e);
}

static void test_pool(void)
{
    oc_pool_opts po;
    memset(&po, 0, sizeof po);
    po.nWorker = 2;
    po.memMb = 2048;
    po.timeoutS = 60;
    oc_opts_default(&po.o);
    oc_pool *p = NULL;
    char zErr[512];
    CHECK_INT(oc_pool_new(&po, &p, zErr, sizeof zErr), PS_OK);
    if (!p) return;
    json_t *pJob = json_pack("{s:s,s:s}", "op", "probe", "path", path_of("note.txt"));
    CHECK_INT(oc_pool_submit(p, pJob, (void *)1, zErr, sizeof zErr), PS_OK);
    json_decref(pJob);
    pJob = json_pack("{s:s,s:s}", "op", "probe", "path", path_of("empty.tif"));
    CHECK_INT(oc_pool_submit(p, pJob, (void *)2, zErr, sizeof zErr), PS_OK);
    json_decref(pJob);
    CHECK(!oc_pool_has_idle(p));
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        void *pTag = NULL;
        json_t *a = NULL;
        CHECK_INT(oc_pool_wait(p, 60000, &pTag, &a, zErr, sizeof zErr), 1);
        if (pTag == (void *)1) CHECK_INT(json_integer_value(json_object_get(a, "pages")), 2);
        if (pTag == (void *)2) CHECK_STR(json_string_value(json_object_get(a, "status")), "invalid");
        seen |= (int)(long)pTag;
        json_decref(a);
    }
    CHECK_INT(seen, 3);
    CHECK_INT(oc_pool_busy(p), 0);
    oc_pool_free(p);

    /* a worker that cannot start says why */
    po.nWorker = 1;
    po.o.zLang = "xx_none";
    CHECK_INT(oc_pool_new(&po, &p, zErr, sizeof zErr), PS_OK);
    pJob = json_pack("{s:s,s:s}", "op", "probe", "path", path_of("note.txt"));
    CHECK_INT(oc_pool_submit(p, pJob, NULL, zErr, sizeof zErr), PS_OK);
    json_decref(pJob);
    void *pTag;
    json_t *a = NULL;
    CHECK_INT(oc_pool_wait(p, 60000, &pTag, &a, zErr, sizeof zErr), PS_INTERNAL);
    CHECK_CONTAINS(zErr, "xx_none");
    json_decref(a);
    oc_pool_free(p);
}

/* System errors reach people in Chinese (proto_errno_cn), the rare ones with their number. */
static void test_errno(void)
{
    CHECK_STR(proto_errno_cn(ENOENT), "文件或文件夹不存在");
    CHECK_STR(proto_errno_cn(EACCES), "没有访问权限");
    CHECK_CONTAINS(proto_errno_cn(EXDEV), "系统错误 18");
    char zErr[256];
    oc_journal *j = NULL;
    CHECK_INT(oc_journal_open(path_of("no-such-folder/journal.ndjson"), &j, zErr, sizeof zErr), PS_IO);
    CHECK_CONTAINS(zErr, "文件或文件夹不存在");
    CHECK(strstr(zErr, "No such") == NULL);
}

int main(void)
{
    CHECK(mkdtemp(zDir) != NULL);
    setenv("OMP_THREAD_LIMIT", "1", 0);
    test_names();
    test_walk();
    test_errno();
    test_journal();
    test_read();
    test_pool();
    px_test_rmdir(zDir);
    /* the font caches cairo's text drawing filled */
    cairo_debug_reset_static_data();
    FcFini();
    return px_test_done();
}
