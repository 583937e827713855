/* Unit tests of the catalog audit and what it keeps: catalogs kept only when
 * a row was imported, within their bounds; parsed rows held in memory and
 * shared by threads; entries about records above the reader's 密级 listed
 * without their 档号; `indexd catalogs`; delivery accounts within their
 * bounds, and their folder for vendors. */
#include "idx_audit.h"
#include "idx_delivery.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static idx_index *pIdx;
static char zDir[] = "/tmp/test_audit_XXXXXX";

static const char zAudit[] =
    "档号,全宗号,题名,责任者,日期,页数\n"
    "Z098-WS·2019-Y-BGS-0001,Z098,正常,县扶贫办,20190101,2\n"    /* 2 */
    "Z098-WS·2019-Y-BGS-0002,Z098,没有责任者,,20190101,2\n"      /* 3 mandatory */
    "Z098-WS·2019-Y-BGS-0005,Z098,日期错,县扶贫办,2019-1-1,2\n"  /* 4 date; 0003-0004 missing */
    "Z098-WS·2019-Y-BGS-0001,Z098,重复,县扶贫办,20190101,2\n"    /* 5 duplicate */
    "Z098-WS·2019-Y-BGS-006,Z098,件号错,县扶贫办,20190101,2\n"   /* 6 code, mandatory */
    "Z098-WS·2019-Y-BGS-0007,Z098,页数为零,县扶贫办,20190101,0\n" /* 7 pages; 0006 missing */
    "Z098-WS·2019-Y-BGS-0008,Z097,全宗不符,县扶贫办,20190101,1\n"; /* 8 code_parts */

static json_t *audit(const idx_report_opts *o)
{
    char zErr[256];
    json_t *r = NULL;
    CHECK_INT(idx_report_catalog(pIdx, zDir, o, &r, zErr, sizeof zErr), PS_OK);
    return r;
}

static long long num(const json_t *o, const char *zKey)
{
    return json_integer_value(json_object_get(o, zKey));
}

static void path_of(char *z, size_t n, const char *zDataDir, const char *zName)
{
    snprintf(z, n, "%s/catalogs/%s", zDataDir, zName);
}

static size_t n_catalogs(const char *zDataDir)
{
    char zCmd[600];
    snprintf(zCmd, sizeof zCmd, "ls %s/catalogs/*.csv 2>/dev/null | wc -l", zDataDir);
    FILE *f = popen(zCmd, "r");
    unsigned long n = 0;
    if (f) {
        if (fscanf(f, "%lu", &n) != 1) n = 0;
        pclose(f);
    }
    return n;
}

static int store(const char *zDataDir, const char *z, long long nAccepted, int *pKept)
{
    char zErr[512];
    return idx_catalog_store(zDataDir, z, strlen(z), nAccepted, pKept, zErr, sizeof zErr);
}

/* ---- what is kept --------------------------------------------------------- */

static void test_store(void)
{
    char zData[] = "/tmp/test_audit_store_XXXXXX", zErr[512], zPath[600];
    int kept = -1;
    CHECK(mkdtemp(zData) != NULL);
    /* nothing accepted: nothing kept */
    CHECK_INT(store(zData, "junk\n1,2\n", 0, &kept), PS_OK);
    CHECK_INT(kept, 0);
    CHECK_INT(n_catalogs(zData), 0);
    CHECK_INT(store(zData, zAudit, 5, &kept), PS_OK);
    CHECK_INT(kept, 1);
    CHECK_INT(n_catalogs(zData), 1);
    /* the same file again moves last */
    CHECK_INT(store(zData, "档号\nZ001-WS·2019-Y-0001\n", 1, &kept), PS_OK);
    CHECK_INT(store(zData, zAudit, 5, &kept), PS_OK);
    CHECK_INT(kept, 1);
    CHECK_INT(n_catalogs(zData), 2);
    path_of(zPath, sizeof zPath, zData, "000003-");
    char zCmd[700];
    snprintf(zCmd, sizeof zCmd, "test -f %s*.csv", zPath);
    CHECK_INT(system(zCmd), 0);

    /* at most 64 MiB a file: refused before the import and by the store */
    size_t nBig = IDX_CATALOG_FILE_MAX + 1;
    char *zBig = malloc(nBig);
    CHECK(zBig != NULL);
    if (zBig) {
        memset(zBig, 'x', nBig);
        CHECK_INT(idx_catalog_room(zData, zBig, nBig, zErr, sizeof zErr), PS_TOO_BIG);
        CHECK_STR(zErr, "目录文件不得超过 64 MiB（检索服务要留存它供目录检查使用）；请拆分为几个较小的文件");
        CHECK_INT(idx_catalog_store(zData, zBig, nBig, 1, &kept, zErr, sizeof zErr), PS_TOO_BIG);
        CHECK_INT(kept, 0);
        CHECK_INT(idx_catalog_room(zData, zBig, IDX_CATALOG_FILE_MAX, zErr, sizeof zErr), PS_OK);
        free(zBig);
    }
    CHECK_INT(n_catalogs(zData), 2);

    /* at most 1 GiB in all (a sparse file takes no disk) */
    path_of(zPath, sizeof zPath, zData, "000004-00000000000000ff.csv");
    int fd = open(zPath, O_WRONLY | O_CREAT, 0640);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)(IDX_CATALOG_TOTAL_MAX - 100)) == 0);
    if (fd >= 0) close(fd);
    const char *zNew = "档号\nZ002-WS·2019-Y-0001\n";
    CHECK_INT(idx_catalog_room(zData, zNew, strlen(zNew), zErr, sizeof zErr), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "为目录检查留存的目录文件合计将超过 1024 MiB");
    CHECK_CONTAINS(zErr, "indexd catalogs prune");
    CHECK_INT(store(zData, zNew, 1, &kept), PS_CONFLICT);
    CHECK_INT(kept, 0);
    /* the same file again still fits: it replaces itself */
    CHECK_INT(idx_catalog_room(zData, zAudit, strlen(zAudit), zErr, sizeof zErr), PS_OK);
    CHECK_INT(store(zData, zAudit, 5, &kept), PS_OK);
    CHECK_INT(kept, 1);
    unlink(zPath);

    /* at most IDX_CATALOG_COUNT_MAX files (hard links: quick to make) */
    char zBase[600];
    snprintf(zBase, sizeof zBase, "%s/empty", zData);
    FILE *f = fopen(zBase, "w");
    CHECK(f != NULL);
    if (f) fclose(f);
    for (int i = 0; i < IDX_CATALOG_COUNT_MAX; i++) {
        char zName[64];
        snprintf(zName, sizeof zName, "%06d-%016x.csv", 100 + i, i);
        path_of(zPath, sizeof zPath, zData, zName);
        CHECK_INT(link(zBase, zPath), 0);
    }
    CHECK_INT(idx_catalog_room(zData, zNew, strlen(zNew), zErr, sizeof zErr), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "检索服务已为目录检查留存 1002 个目录文件，已达上限");
    CHECK_INT(store(zData, zNew, 1, &kept), PS_CONFLICT);
    CHECK_INT(n_catalogs(zData), IDX_CATALOG_COUNT_MAX + 2);
    CHECK_INT(store(zData, zAudit, 5, &kept), PS_OK);

    /* indexd catalogs prune: the latest N stay */
    char *azPrune[] = {"catalogs", "prune", "--keep", "2", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 6, azPrune), 0);
    CHECK_INT(n_catalogs(zData), 2);
    CHECK_INT(idx_catalog_room(zData, zNew, strlen(zNew), zErr, sizeof zErr), PS_OK);
    path_of(zPath, sizeof zPath, zData, "");
    snprintf(zCmd, sizeof zCmd, "ls %s | tail -1 | grep -q '^%06d-'", zPath, 100 + IDX_CATALOG_COUNT_MAX);
    CHECK_INT(system(zCmd), 0); /* the one the last store moved last */
    px_test_rmdir(zData);
}

static void test_catalogs_command(void)
{
    char zData[] = "/tmp/test_audit_cmd_XXXXXX", zPath[600];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    CHECK_INT(store(zData, "档号\nZ001-WS·2019-Y-0001\n", 1, &kept), PS_OK);
    CHECK_INT(store(zData, zAudit, 1, &kept), PS_OK);
    char *azList[] = {"catalogs", "list", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 4, azList), 0);
    /* delete: only a name the folder lists */
    path_of(zPath, sizeof zPath, zData, "../users.json");
    FILE *f = fopen(zPath, "w");
    if (f) fclose(f);
    char *azBad[] = {"catalogs", "delete", "../users.json", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 5, azBad), 1);
    CHECK(access(zPath, F_OK) == 0);
    char zName[64] = "";
    snprintf(zPath, sizeof zPath, "ls %s/catalogs | head -1", zData);
    f = popen(zPath, "r");
    if (f) {
        if (!fgets(zName, sizeof zName, f)) zName[0] = 0;
        pclose(f);
    }
    zName[strcspn(zName, "\n")] = 0;
    CHECK(strncmp(zName, "000001-", 7) == 0);
    char *azDel[] = {"catalogs", "delete", zName, "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 5, azDel), 0);
    CHECK_INT(n_catalogs(zData), 1);
    CHECK_INT(idx_catalogs_main("var/none", 5, azDel), 1); /* gone */
    char *azUsage1[] = {"catalogs", "prune", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 4, azUsage1), 2);
    char *azUsage2[] = {"catalogs", "prune", "--keep", "-1", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 6, azUsage2), 2);
    char *azUsage3[] = {"catalogs", "rename", "--data-dir", zData};
    CHECK_INT(idx_catalogs_main("var/none", 4, azUsage3), 2);
    CHECK_INT(n_catalogs(zData), 1);
    px_test_rmdir(zData);
}

/* ---- the audit, held in memory ------------------------------------------- */

static void put_pages(const char *zCode, const char *zPages, int nStored)
{
    proto_record r;
    proto_problem err;
    char zErr[256];
    int replaced;
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    proto_record_set(&r, PF_TITLE, "题名", strlen("题名"));
    proto_record_set(&r, PF_PAGES, zPages, strlen(zPages));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    json_t *pPages = json_object();
    for (int i = 1; i <= nStored; i++) {
        char zN[16];
        snprintf(zN, sizeof zN, "%d", i);
        json_object_set_new(pPages, zN, json_pack("{s:s}", "text", "扫描页"));
    }
    CHECK_INT(idx_index_put(pIdx, &r, pPages, NULL, &replaced, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_index_commit(pIdx, zErr, sizeof zErr), PS_OK);
    json_decref(pPages);
    proto_record_clear(&r);
}

/* The irregular list as "line rule key" lines. */
static void summary(const json_t *r, char *z, size_t n)
{
    size_t i, k = 0;
    json_t *x;
    z[0] = 0;
    json_array_foreach(json_object_get(r, "irregular"), i, x) {
        k += (size_t)snprintf(z + k, k < n ? n - k : 0, "%lld %s %s|", num(x, "line"),
                              json_string_value(json_object_get(x, "rule")), json_string_value(json_object_get(x, "key")));
        if (k >= n) break;
    }
}

typedef struct {
    const char *zHide;
    int nCalls;
} hide_ctx;

static int hide(void *ctx, const char *zCode)
{
    hide_ctx *h = ctx;
    h->nCalls++;
    return strcmp(zCode, h->zHide) == 0;
}

static void test_audit_rules(void)
{
    int kept;
    char zSum[2048];
    CHECK_INT(store(zDir, zAudit, 6, &kept), PS_OK);
    idx_report_opts o = {.zFonds = "Z098"};
    json_t *r = audit(&o);
    CHECK_INT(num(r, "rows"), 7);
    CHECK_INT(num(r, "complete"), 5);
    CHECK_INT(num(r, "errors"), 6);
    CHECK_INT(num(r, "warnings"), 1);
    CHECK_INT(num(r, "irregular_total"), 7);
    CHECK(json_real_value(json_object_get(r, "score")) > 2.369 && json_real_value(json_object_get(r, "score")) < 2.371);
    summary(r, zSum, sizeof zSum);
    CHECK_STR(zSum, "3 mandatory author|4 date_form date|4 item_gap item_no|5 duplicate code|6 code_form code|"
                    "7 pages pages|8 code_parts fonds|");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "irregular"), 2), "reason")),
              "Z098-WS·2019-Y-BGS 缺件号 0003-0004（断号）");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "irregular"), 3), "reason")),
              "档号 Z098-WS·2019-Y-BGS-0001 与第 2 行重复（重号）");
    json_decref(r);
    /* paged: the same entries, a window at a time */
    for (unsigned off = 0; off < 8; off += 4) {
        idx_report_opts oP = {.zFonds = "Z098", .offset = off, .limit = 4};
        r = audit(&oP);
        char zPage[512];
        summary(r, zPage, sizeof zPage);
        CHECK_INT(num(r, "irregular_total"), 7);
        CHECK_INT(json_array_size(json_object_get(r, "irregular")), off + 4 <= 7 ? 4 : 7 - off);
        const char *zAt = zSum;
        for (unsigned k = 0; k < off; k++) zAt = strchr(zAt, '|') + 1;
        CHECK(strncmp(zAt, zPage, strlen(zPage)) == 0);
        json_decref(r);
    }

    /* a record above the reader's 密级: still counted and listed by line,
     * never by 档号 or reason */
    hide_ctx hc = {"Z098-WS·2019-Y-BGS-0001", 0};
    idx_report_opts oH = {.zFonds = "Z098", .xHidden = hide, .pHiddenCtx = &hc};
    r = audit(&oH);
    CHECK_INT(num(r, "errors"), 6);
    CHECK_INT(num(r, "irregular_total"), 7);
    summary(r, zSum, sizeof zSum);
    CHECK_CONTAINS(zSum, "5 duplicate code|");
    json_t *x = json_array_get(json_object_get(r, "irregular"), 3);
    CHECK_INT(num(x, "line"), 5);
    CHECK_STR(json_string_value(json_object_get(x, "code")), "");
    CHECK_STR(json_string_value(json_object_get(x, "reason")), IDX_AUDIT_HIDDEN);
    CHECK_STR(json_string_value(json_object_get(x, "rule")), "duplicate");
    CHECK_STR(json_string_value(json_object_get(x, "severity")), "error");
    CHECK(json_string_value(json_object_get(x, "file")) != NULL);
    /* the others as they are */
    x = json_array_get(json_object_get(r, "irregular"), 1);
    CHECK_STR(json_string_value(json_object_get(x, "code")), "Z098-WS·2019-Y-BGS-0005");
    size_t i;
    json_array_foreach(json_object_get(r, "irregular"), i, x) {
        const char *zR = json_string_value(json_object_get(x, "reason"));
        if (strstr(zR, "BGS-0001") && strcmp(zR, IDX_AUDIT_HIDDEN) != 0) fprintf(stderr, "%s\n", zR);
        CHECK(!strstr(zR, "BGS-0001") || strcmp(zR, IDX_AUDIT_HIDDEN) == 0);
    }
    CHECK(hc.nCalls > 0 && hc.nCalls <= 7); /* once per row listed */
    json_decref(r);
}

/* Rewrite a kept catalog in place with the same size and times. */
static void rewrite_same_stat(const char *zPath, const char *zFrom, const char *zTo)
{
    struct stat st;
    CHECK(stat(zPath, &st) == 0);
    FILE *f = fopen(zPath, "r+");
    char *z = malloc((size_t)st.st_size + 1);
    CHECK(f && z && fread(z, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
    if (!f || !z) return;
    z[st.st_size] = 0;
    char *p = strstr(z, zFrom);
    CHECK(p != NULL && strlen(zFrom) == strlen(zTo));
    if (p) memcpy(p, zTo, strlen(zTo));
    fseek(f, 0, SEEK_SET);
    fwrite(z, 1, (size_t)st.st_size, f);
    fclose(f);
    free(z);
    struct timespec at[2] = {st.st_atim, st.st_mtim};
    CHECK(utimensat(AT_FDCWD, zPath, at, 0) == 0);
}

static void test_audit_cache(void)
{
    char zPath[600], zName[64] = "", zCmd[700];
    /* the file test_audit_rules kept */
    snprintf(zCmd, sizeof zCmd, "ls %s/catalogs | tail -1", zDir);
    FILE *f = popen(zCmd, "r");
    if (f) {
        if (!fgets(zName, sizeof zName, f)) zName[0] = 0;
        pclose(f);
    }
    zName[strcspn(zName, "\n")] = 0;
    path_of(zPath, sizeof zPath, zDir, zName);
    idx_report_opts o = {.zFonds = "Z098"};
    json_t *r = audit(&o);
    CHECK_INT(num(r, "errors"), 6);
    json_decref(r);
    /* the rows come from memory: a change that keeps size and times is not seen */
    rewrite_same_stat(zPath, "2019-1-1", "20190101");
    r = audit(&o);
    CHECK_INT(num(r, "errors"), 6);
    json_decref(r);
    /* a new modification time: read again */
    struct stat st;
    CHECK(stat(zPath, &st) == 0);
    struct timespec at[2] = {st.st_atim, {st.st_mtim.tv_sec + 1, st.st_mtim.tv_nsec}};
    CHECK(utimensat(AT_FDCWD, zPath, at, 0) == 0);
    r = audit(&o);
    CHECK_INT(num(r, "errors"), 5);
    json_decref(r);
    /* the rule against the index is worked out every time */
    idx_report_opts oAll = {.zFonds = NULL};
    r = audit(&oAll);
    long long nErr = num(r, "errors");
    json_decref(r);
    /* item 9 judges the catalog alone: pages scanned, fewer or more than
     * 页数, change nothing in it */
    put_pages("Z098-WS·2019-Y-BGS-0008", "1", 1);  /* 页数 1 in the catalog: agrees */
    put_pages("Z098-WS·2019-Y-BGS-0001", "2", 1);  /* 页数 2 in the catalog (twice), 1 scanned */
    r = audit(&oAll);
    CHECK_INT(num(r, "errors"), nErr);
    char zSum[2048];
    summary(r, zSum, sizeof zSum);
    CHECK(!strstr(zSum, "pages_scanned"));
    json_decref(r);
    put_pages("Z098-WS·2019-Y-BGS-0001", "2", 2);
    r = audit(&oAll);
    CHECK_INT(num(r, "errors"), nErr);
    json_decref(r);
    /* a deleted catalog leaves the audit */
    char *azDel[] = {"catalogs", "delete", zName, "--data-dir", zDir};
    CHECK_INT(idx_catalogs_main("var/none", 5, azDel), 0);
    r = audit(&oAll);
    CHECK_INT(num(r, "rows"), 0);
    CHECK_INT(json_array_size(json_object_get(r, "catalogs")), 0);
    json_decref(r);
    /* one kept before the limit, larger than 64 MiB: named, not read */
    path_of(zPath, sizeof zPath, zDir, "000009-00000000000000aa.csv");
    int fd = open(zPath, O_WRONLY | O_CREAT, 0640);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)IDX_CATALOG_FILE_MAX + 1) == 0);
    if (fd >= 0) close(fd);
    r = audit(&oAll);
    json_t *c = json_array_get(json_object_get(r, "catalogs"), 0);
    CHECK_STR(json_string_value(json_object_get(c, "file")), "000009-00000000000000aa.csv");
    CHECK_INT(num(c, "rows"), 0);
    CHECK_STR(json_string_value(json_object_get(c, "error")), "超过 64 MiB，未读取");
    json_decref(r);
    unlink(zPath);
}

/* Reports on several threads while the file changes under them. */
typedef struct {
    int nBad;
} thread_res;

static void *reporter(void *arg)
{
    thread_res *t = arg;
    idx_report_opts o = {.zFonds = "Z098"};
    for (int i = 0; i < 30; i++) {
        char zErr[256];
        json_t *r = NULL;
        if (idx_report_catalog(pIdx, zDir, &o, &r, zErr, sizeof zErr) != PS_OK) t->nBad++;
        else if (num(r, "rows") != 7 || (num(r, "errors") != 6 && num(r, "errors") != 5)) t->nBad++;
        json_decref(r);
    }
    return NULL;
}

static void test_audit_threads(void)
{
    int kept;
    char zFixed[sizeof zAudit];
    memcpy(zFixed, zAudit, sizeof zAudit);
    memcpy(strstr(zFixed, "2019-1-1"), "20190101", 8);
    CHECK_INT(store(zDir, zAudit, 6, &kept), PS_OK);
    pthread_t a[4];
    thread_res res[4] = {{0}};
    for (int i = 0; i < 4; i++) CHECK_INT(pthread_create(&a[i], NULL, reporter, &res[i]), 0);
    /* the corrected catalog, then the first again, while they run */
    for (int i = 0; i < 10; i++) {
        CHECK_INT(store(zDir, i % 2 ? zFixed : zAudit, 6, &kept), PS_OK);
        usleep(20000);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(a[i], NULL);
        CHECK_INT(res[i].nBad, 0);
    }
    idx_audit_cache_clear();
    idx_report_opts o = {.zFonds = "Z098"};
    json_t *r = audit(&o);
    CHECK_INT(num(r, "errors"), 5); /* the last one stored: the corrected one */
    json_decref(r);
}

/* ---- deliveries ----------------------------------------------------------- */

static void test_deliveries(void)
{
    char zData[] = "/tmp/test_audit_del_XXXXXX", zErr[512], zPath[600];
    CHECK(mkdtemp(zData) != NULL);
    json_t *pAcc = json_pack("{s:s,s:{s:i,s:i},s:{}}", "folder", "/srv/vendor/批次1/scans/", "scans", "files", 3,
                             "pages", 5, "problems");
    CHECK_INT(idx_delivery_put(zData, "批次1", pAcc, zErr, sizeof zErr), PS_OK);
    json_t *r = NULL;
    /* a vendor sees the folder's name, not the server's path */
    CHECK_INT(idx_report_acceptance(zData, "批次1", 0, &r, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "folder")), "scans");
    json_decref(r);
    CHECK_INT(idx_report_acceptance(zData, NULL, 0, &r, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "deliveries"), 0), "folder")), "scans");
    json_decref(r);
    CHECK_INT(idx_report_acceptance(zData, "批次1", 1, &r, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "folder")), "/srv/vendor/批次1/scans/");
    json_decref(r);
    json_object_set_new(pAcc, "folder", json_string("D:\\交付\\scans"));
    CHECK_INT(idx_delivery_put(zData, "批次2", pAcc, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_report_acceptance(zData, "批次2", 0, &r, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "folder")), "scans");
    json_decref(r);

    /* at most 64 MiB as kept */
    json_t *pBig = json_deep_copy(pAcc);
    size_t nNote = IDX_DELIVERY_MAX;
    char *zNote = malloc(nNote);
    CHECK(zNote != NULL);
    if (zNote) memset(zNote, 'x', nNote);
    json_object_set_new(pBig, "note", zNote ? json_stringn(zNote, nNote) : json_null());
    free(zNote);
    CHECK_INT(idx_delivery_put(zData, "批次3", pBig, zErr, sizeof zErr), PS_TOO_BIG);
    json_decref(pBig);
    snprintf(zPath, sizeof zPath, "%s/deliveries/批次3.json", zData);
    CHECK(access(zPath, F_OK) != 0);

    /* at most IDX_DELIVERY_COUNT_MAX deliveries (hard links: quick to make) */
    char zBase[600];
    snprintf(zBase, sizeof zBase, "%s/empty.json", zData);
    FILE *f = fopen(zBase, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{}", f);
        fclose(f);
    }
    int nLinked = 0;
    for (int i = 2; i < IDX_DELIVERY_COUNT_MAX; i++) {
        snprintf(zPath, sizeof zPath, "%s/deliveries/d%05d.json", zData, i);
        nLinked += link(zBase, zPath) == 0;
    }
    CHECK_INT(nLinked, IDX_DELIVERY_COUNT_MAX - 2);
    CHECK_INT(idx_delivery_put(zData, "批次4", pAcc, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "检索服务已留存 10000 个交付批次的记录，已达上限");
    snprintf(zPath, sizeof zPath, "%s/deliveries/批次4.json", zData);
    CHECK(access(zPath, F_OK) != 0);
    /* sent again under its name: replaced */
    json_object_set_new(pAcc, "folder", json_string("/srv/b"));
    CHECK_INT(idx_delivery_put(zData, "批次1", pAcc, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_report_acceptance(zData, "批次1", 1, &r, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(r, "folder")), "/srv/b");
    json_decref(r);
    json_decref(pAcc);
    px_test_rmdir(zData);
}

int main(void)
{
    char zErr[256];
    px_install_json_allocator();
    CHECK(mkdtemp(zDir) != NULL);
    idx_index_opts io = {2, 1000, 0, 50};
    CHECK_INT(idx_index_open(zDir, &io, &pIdx, zErr, sizeof zErr), PS_OK);

    test_store();
    test_catalogs_command();
    test_audit_rules();
    test_audit_cache();
    test_audit_threads();
    test_deliveries();

    /* out of memory anywhere: a clean failure */
    idx_audit_cache_clear();
    idx_report_opts o = {.zFonds = NULL};
    for (long k = 1; k < 200; k += 7) {
        json_t *r = NULL;
        idx_audit_cache_clear();
        px_fail_after(k);
        int rc = idx_report_catalog(pIdx, zDir, &o, &r, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM || rc == PS_INDEX);
        json_decref(r);
    }
    idx_audit_cache_clear();
    idx_index_close(pIdx);
    px_test_rmdir(zDir);
    return px_test_done();
}
