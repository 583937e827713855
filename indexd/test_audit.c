/* Unit tests of the catalog audit and what it keeps: catalogs kept only when
 * a row was imported, within their bounds; parsed rows held in memory and
 * shared by threads; entries about records above the reader's 密级 listed
 * without their 档号; `indexd catalogs`; delivery accounts within their
 * bounds, and their folder for vendors. */
#include "idx_audit.h"
#include "idx_csv.h"
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

/* ---- the catalogs merged as the archive holds them ---------------------- */

/* The audit of a data dir of its own. */
static json_t *audit_in(const char *zData, const char *zFonds)
{
    char zErr[256];
    json_t *r = NULL;
    idx_report_opts o = {.zFonds = zFonds};
    CHECK_INT(idx_report_catalog(pIdx, zData, &o, &r, zErr, sizeof zErr), PS_OK);
    return r;
}

/* The listed lines of rule zRule, as "3,5". */
static void lines_of(const json_t *r, const char *zRule, char *z, size_t n)
{
    size_t i, k = 0;
    json_t *x;
    z[0] = 0;
    json_array_foreach(json_object_get(r, "irregular"), i, x) {
        if (strcmp(json_string_value(json_object_get(x, "rule")), zRule) != 0) continue;
        k += (size_t)snprintf(z + k, k < n ? n - k : 0, "%s%lld", k ? "," : "", num(x, "line"));
        if (k >= n) break;
    }
}

/* The name of the kept catalog number i (0: the first), or "". */
static void kept_name(const json_t *r, size_t i, char *z, size_t n)
{
    const char *zF = json_string_value(json_object_get(json_array_get(json_object_get(r, "catalogs"), i), "file"));
    snprintf(z, n, "%s", zF ? zF : "");
}

/* Out of memory anywhere in parsing and merging the catalogs of zData: a
 * clean failure, and then the same report as before. */
static void oom_sweep(const char *zData)
{
    char zErr[256];
    idx_report_opts o = {.zFonds = NULL};
    json_t *pWant = audit_in(zData, NULL);
    for (long k = 1; k < 400; k += 3) {
        json_t *r = NULL;
        idx_audit_cache_clear();
        px_fail_after(k);
        int rc = idx_report_catalog(pIdx, zData, &o, &r, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        if (rc == PS_OK) CHECK(json_equal(r, pWant));
        json_decref(r);
    }
    idx_audit_cache_clear();
    json_t *r = audit_in(zData, NULL);
    CHECK(json_equal(r, pWant));
    json_decref(r);
    json_decref(pWant);
}

/* Rows that name no item are never entered, whatever later catalogs hold:
 * a later catalog that repeats one of the file's 档号 changes nothing. */
static void test_audit_unnamed_rows_stay(void)
{
    char zData[] = "/tmp/test_audit_unnamed_XXXXXX", zLines[256];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    static const char zA[] =
        "档号,全宗号,题名,责任者,日期,页数\n"
        "Z090-WS·2019-Y-BGS-0001,Z090,一,县扶贫办,20190101,2\n"  /* 2 */
        "见附件,Z090,附件,县扶贫办,20190101,1\n"                  /* 3 code: names no item */
        "Z090-WS·2019-Y-BGS-0002,Z090,二,县扶贫办,20190101,2\n"  /* 4 */
        ",Z090,无档号,县扶贫办,20190101,1\n";                     /* 5 mandatory: no 档号 */
    static const char zB[] = "档号,全宗号,题名,责任者,日期,页数\n"
                             "Z090-WS·2019-Y-BGS-0002,Z090,二,县扶贫办,20190101,2\n";
    CHECK_INT(store(zData, zA, 2, &kept), PS_OK);
    /* line 3: a 档号 that cannot be read, line 5: none (and so no 保管期限 either) */
    json_t *r = audit_in(zData, "Z090");
    CHECK_INT(num(r, "rows"), 4);
    CHECK_INT(num(r, "complete"), 2);
    CHECK_INT(num(r, "errors"), 4);
    lines_of(r, "code", zLines, sizeof zLines);
    CHECK_STR(zLines, "3");
    lines_of(r, "mandatory", zLines, sizeof zLines);
    CHECK_STR(zLines, "3,5,5");
    json_decref(r);
    CHECK_INT(store(zData, zB, 1, &kept), PS_OK);
    r = audit_in(zData, "Z090");
    CHECK_INT(json_array_size(json_object_get(r, "catalogs")), 2);
    CHECK_INT(num(r, "rows"), 4);
    CHECK_INT(num(r, "complete"), 2);
    CHECK_INT(num(r, "errors"), 4);
    CHECK(json_real_value(json_object_get(r, "score")) > 1.69 && json_real_value(json_object_get(r, "score")) < 1.71);
    lines_of(r, "code", zLines, sizeof zLines);
    CHECK_STR(zLines, "3");
    lines_of(r, "mandatory", zLines, sizeof zLines);
    CHECK_STR(zLines, "3,5,5");
    json_decref(r);
    /* the same whatever the order */
    char zData2[] = "/tmp/test_audit_unnamed2_XXXXXX";
    CHECK(mkdtemp(zData2) != NULL);
    CHECK_INT(store(zData2, zB, 1, &kept), PS_OK);
    CHECK_INT(store(zData2, zA, 2, &kept), PS_OK);
    r = audit_in(zData2, "Z090");
    CHECK_INT(num(r, "rows"), 4);
    CHECK_INT(num(r, "errors"), 4);
    json_decref(r);
    px_test_rmdir(zData);
    px_test_rmdir(zData2);
}

/* A later catalog replaces only the fields it has a column for: a thin
 * catalog (档号 and 题名) leaves 责任者/日期/页数 as they were, and their
 * findings stay at the line that gave them; an empty cell of a column it
 * has empties the field, as the import does. */
static void test_audit_thin_catalog(void)
{
    char zData[] = "/tmp/test_audit_thin_XXXXXX", zSum[1024], zA[256], zB[256], zC[256];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    static const char zFull[] = "档号,题名,责任者,日期,页数,全宗号\n"
                                "Z091-WS·2019-Y-BGS-0001,一,县扶贫办,2019-1-1,2,Z091\n" /* 2 date_form */
                                "Z091-WS·2019-Y-BGS-0002,二,县扶贫办,20190101,2,Z097\n" /* 3 code_parts */
                                "Z091-WS·2019-Y-BGS-0003,三,县扶贫办,20190101,2,Z091\n";
    static const char zThin[] = "档号,题名\n"
                                "Z091-WS·2019-Y-BGS-0001,一（修订）\n"
                                "Z091-WS·2019-Y-BGS-0002,二\n"
                                "Z091-WS·2019-Y-BGS-003,三\n"; /* 4 code_form */
    CHECK_INT(store(zData, zFull, 3, &kept), PS_OK);
    json_t *r = audit_in(zData, NULL);
    CHECK_INT(num(r, "complete"), 3);
    CHECK_INT(num(r, "errors"), 2);
    json_decref(r);
    CHECK_INT(store(zData, zThin, 3, &kept), PS_OK);
    r = audit_in(zData, NULL);
    kept_name(r, 0, zA, sizeof zA);
    kept_name(r, 1, zB, sizeof zB);
    CHECK_INT(num(r, "rows"), 3);
    CHECK_INT(num(r, "complete"), 3); /* 责任者, 日期, 页数 as the archive holds them */
    /* the 日期 is still the one line 2 of the full catalog gave; 全宗号
     * now comes from the 档号 (as the import makes it): line 3's disagreement is gone */
    CHECK_INT(num(r, "errors"), 2);
    summary(r, zSum, sizeof zSum);
    CHECK_STR(zSum, "2 date_form date|4 code_form code|");
    json_t *pIrr = json_object_get(r, "irregular");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 0), "file")), zA);
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 1), "file")), zB);
    CHECK(json_real_value(json_object_get(r, "score")) > 4.59 && json_real_value(json_object_get(r, "score")) < 4.61);
    json_decref(r);
    /* a column with an empty cell empties the field: 0002 has no 责任者 now */
    CHECK_INT(store(zData, "档号,责任者\nZ091-WS·2019-Y-BGS-0002,\n", 1, &kept), PS_OK);
    r = audit_in(zData, NULL);
    kept_name(r, 2, zC, sizeof zC);
    CHECK_INT(num(r, "rows"), 3);
    CHECK_INT(num(r, "complete"), 2);
    summary(r, zSum, sizeof zSum);
    CHECK_STR(zSum, "2 date_form date|4 code_form code|2 mandatory author|");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(r, "irregular"), 2), "file")), zC);
    json_decref(r);
    oom_sweep(zData);
    px_test_rmdir(zData);
}

/* A row repeated exactly (the same once read, as the import tells it) is
 * one entry and one irregularity (the duplicate); a row that differs is an
 * entry of its own, with its findings. */
static void test_audit_exact_duplicate(void)
{
    char zData[] = "/tmp/test_audit_dup_XXXXXX", zSum[1024];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    static const char zCat[] = "序号,档号,题名,责任者,日期,页数\n"
                               "1,Z092-WS·2019-Y-BGS-0001,一,县扶贫办,2019-1-1,2\n"      /* 2 date_form */
                               "2,Z092-WS·2019-Y-BGS-0001,一,县扶贫办,2019-1-1,2\n"      /* 3 the same: duplicate */
                               "3,Z092-WS·2019-Y-BGS-0001,一（另）,县扶贫办,2019-1-1,2\n" /* 4 differs */
                               "4,Z092-WS·2019-Y-BGS-0001,一（另）,县扶贫办,2019-1-1,2\n" /* 5 the same as 4 */
                               "5,Z092-WS·2019-Y-BGS-0002,二,县扶贫办,20190101,2\n"
                               "6,Z092-WS·2019-Y-BGS-0002, 二,县扶贫办,2019-01-01,2页\n"; /* 7 the same once read */
    CHECK_INT(store(zData, zCat, 2, &kept), PS_OK);
    json_t *r = audit_in(zData, NULL);
    CHECK_INT(num(r, "rows"), 3);
    CHECK_INT(num(r, "complete"), 3);
    CHECK_INT(num(r, "errors"), 6);
    summary(r, zSum, sizeof zSum);
    CHECK_STR(zSum, "2 date_form date|3 duplicate code|4 date_form date|4 duplicate code|5 duplicate code|"
                    "7 duplicate code|");
    json_t *pIrr = json_object_get(r, "irregular");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 1), "reason")),
              "档号 Z092-WS·2019-Y-BGS-0001 与第 2 行完全相同（重复的行，计为一条）");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 3), "reason")),
              "档号 Z092-WS·2019-Y-BGS-0001 与第 2 行重复（重号）");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 4), "reason")),
              "档号 Z092-WS·2019-Y-BGS-0001 与第 4 行完全相同（重复的行，计为一条）");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 5), "reason")),
              "档号 Z092-WS·2019-Y-BGS-0002 与第 6 行完全相同（重复的行，计为一条）");
    json_decref(r);
    oom_sweep(zData);
    px_test_rmdir(zData);
}

/* What the reader finds in a row as written is listed as the import lists
 * it: a cell in another encoding, cells past the header; such rows are
 * entries with their 档号, not rows that cannot be read. */
static void test_audit_reader_findings(void)
{
    char zData[] = "/tmp/test_audit_rdr_XXXXXX", zSum[1024];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    static const char zCat[] = "档号,题名,责任者,日期,页数\n"
                               "Z093-WS·2019-Y-BGS-0001,\xB7\xF6贫通知,县扶贫办,20190101,2\n" /* 2: a GB18030 cell */
                               "Z093-WS·2019-Y-BGS-0002,二,县扶贫办,20190101,1,多出,一列\n";  /* 3: extra cells */
    CHECK_INT(store(zData, zCat, 2, &kept), PS_OK);
    json_t *r = audit_in(zData, NULL);
    CHECK_INT(num(r, "rows"), 2);
    CHECK_INT(num(r, "complete"), 2);
    summary(r, zSum, sizeof zSum);
    CHECK_STR(zSum, "2 encoding title|3 extra_fields |");
    json_decref(r);
    px_test_rmdir(zData);
}

/* A quote never closed: the rule and the field the import names, listed
 * as an irregular entry (it deducts). */
static void test_audit_unclosed_quote(void)
{
    char zData[] = "/tmp/test_audit_quote_XXXXXX", zErr[256];
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    static const char zCat[] = "档号,题名,责任者,日期,页数,备注\n"
                               "Z093-WS·2019-Y-BGS-0001,\"没有结束的引号,县扶贫办,20190101,1,\n" /* 2 */
                               "Z093-WS·2019-Y-BGS-0002,正常,县扶贫办,20190101,1,\n"             /* 3 */
                               "Z093-WS·2019-Y-BGS-0003,正常,县扶贫办,20190101,1,\"两段\n的备注\"\n" /* 4-5 */
                               "Z093-WS·2019-Y-BGS-0004,正常,\"县扶贫办,20190101,1,\n";           /* 6 at the end */
    json_t *pImp = NULL;
    long line = 0;
    CHECK_INT(idx_csv_import(pIdx, zCat, sizeof zCat - 1, 0, NULL, &pImp, &line, zErr, sizeof zErr), PS_OK);
    CHECK_INT(store(zData, zCat, num(pImp, "imported"), &kept), PS_OK);
    json_t *r = audit_in(zData, NULL);
    CHECK_INT(num(r, "rows"), 4);
    CHECK_INT(num(r, "errors"), 2);
    json_t *pIrr = json_object_get(r, "irregular");
    CHECK_INT(json_array_size(pIrr), 2);
    const long aLine[] = {2, 6};
    const char *azKey[] = {"title", "author"};
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_array_get(pIrr, i);
        CHECK_INT(num(x, "line"), aLine[i]);
        CHECK_STR(json_string_value(json_object_get(x, "rule")), "unclosed_quote");
        CHECK_STR(json_string_value(json_object_get(x, "key")), azKey[i]);
        CHECK_STR(json_string_value(json_object_get(x, "severity")), "error");
        CHECK_CONTAINS(json_string_value(json_object_get(x, "reason")), "的引号没有闭合");
        /* the same rule and field as the import's finding */
        size_t j;
        json_t *y;
        int found = 0;
        json_array_foreach(json_object_get(pImp, "findings"), j, y) {
            if (num(y, "line") != aLine[i]) continue;
            found = 1;
            CHECK_STR(json_string_value(json_object_get(y, "rule")), "unclosed_quote");
            CHECK_STR(json_string_value(json_object_get(y, "key")), azKey[i]);
        }
        CHECK(found);
    }
    CHECK_STR(json_string_value(json_object_get(json_array_get(pIrr, 0), "reason")),
              "第 2 行“题名”开头的引号没有闭合：该引号已按普通字符去掉，此行按逗号分列读入，请核对各列");
    json_decref(r);
    json_decref(pImp);
    oom_sweep(zData);
    px_test_rmdir(zData);
}

/* Run idx_catalogs_main with its standard output and error in *pzOut and
 * *pzErr (free). */
static int catalogs_run(int argc, char **argv, char **pzOut, char **pzErr)
{
    char azPath[2][64] = {"/tmp/test_audit_out_XXXXXX", "/tmp/test_audit_err_XXXXXX"};
    int aFd[2], aSaved[2];
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        aFd[i] = mkstemp(azPath[i]);
        aSaved[i] = dup(i + 1);
        dup2(aFd[i], i + 1);
    }
    int rc = idx_catalogs_main("var/none", argc, argv);
    fflush(stdout);
    fflush(stderr);
    char **apz[2] = {pzOut, pzErr};
    for (int i = 0; i < 2; i++) {
        dup2(aSaved[i], i + 1);
        close(aSaved[i]);
        off_t n = lseek(aFd[i], 0, SEEK_END);
        *apz[i] = calloc(1, (size_t)n + 1);
        if (*apz[i] && pread(aFd[i], *apz[i], (size_t)n, 0) != n) (*apz[i])[0] = 0;
        close(aFd[i]);
        unlink(azPath[i]);
    }
    return rc;
}

/* Does z hold a run of four or more Latin letters outside the option and
 * command names it may quote? */
static int has_english(const char *z)
{
    static const char *const azOk[] = {"indexd", "catalogs", "list", "delete", "prune", "keep", "data", "dir", "MiB",
                                       "csv", NULL};
    for (const char *p = z; *p;) {
        size_t n = 0;
        while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z')) n++;
        if (n >= 4) {
            int ok = 0;
            for (int i = 0; azOk[i] && !ok; i++) ok = strlen(azOk[i]) == n && strncmp(azOk[i], p, n) == 0;
            if (!ok) {
                fprintf(stderr, "English in: %s\n", z);
                return 1;
            }
        }
        p += n ? n : 1;
    }
    return 0;
}

/* `indexd catalogs` speaks Chinese (its command and option names aside). */
static void test_catalogs_chinese(void)
{
    char zData[] = "/tmp/test_audit_cn_XXXXXX";
    char *zOut, *zErr;
    int kept;
    CHECK(mkdtemp(zData) != NULL);
    CHECK_INT(store(zData, "档号\nZ001-WS·2019-Y-0001\n", 1, &kept), PS_OK);
    CHECK_INT(store(zData, "档号\nZ001-WS·2019-Y-0002\n", 1, &kept), PS_OK);
    struct {
        int argc;
        char *argv[6];
        int rc;
        const char *zWant; /* in stdout or stderr */
    } a[] = {
        {4, {"catalogs", "list", "--data-dir", zData}, 0, "共 2 个目录文件，"},
        {5, {"catalogs", "delete", "无此文件", "--data-dir", zData}, 1, "没有名为“无此文件”的留存目录文件"},
        {6, {"catalogs", "prune", "--keep", "x", "--data-dir", zData}, 2, "--keep 后面应为一个数"},
        {4, {"catalogs", "list", "extra", "--data-dir"}, 2, "--data-dir 后面应有一个值"},
        {5, {"catalogs", "list", "-x", "--data-dir", zData}, 2, "多余的参数“-x”"},
        {4, {"catalogs", "rename", "--data-dir", zData}, 2, "用法：indexd catalogs list"},
        {6, {"catalogs", "prune", "--keep", "1", "--data-dir", zData}, 0, "已删除 1 个目录文件，保留 1 个"},
    };
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        CHECK_INT(catalogs_run(a[i].argc, a[i].argv, &zOut, &zErr), a[i].rc);
        CHECK(zOut && zErr);
        if (!zOut || !zErr) break;
        CHECK(strstr(zOut, a[i].zWant) || strstr(zErr, a[i].zWant));
        if (!strstr(zOut, a[i].zWant) && !strstr(zErr, a[i].zWant)) fprintf(stderr, "%s%s", zOut, zErr);
        /* the kept files' names aside */
        for (char *q = strstr(zOut, ".csv"); q; q = strstr(q + 1, ".csv"))
            for (char *b = q; b > zOut && b[-1] != '\n'; b--) b[-1] = ' ';
        CHECK(!has_english(zOut));
        CHECK(!has_english(zErr));
        free(zOut);
        free(zErr);
    }
    char zName[64] = "", zCmd[700];
    snprintf(zCmd, sizeof zCmd, "ls %s/catalogs | head -1", zData);
    FILE *f = popen(zCmd, "r");
    if (f) {
        if (!fgets(zName, sizeof zName, f)) zName[0] = 0;
        pclose(f);
    }
    zName[strcspn(zName, "\n")] = 0;
    char *azDel[] = {"catalogs", "delete", zName, "--data-dir", zData};
    CHECK_INT(catalogs_run(5, azDel, &zOut, &zErr), 0);
    CHECK(zOut && strncmp(zOut, "已删除 ", strlen("已删除 ")) == 0);
    free(zOut);
    free(zErr);
    px_test_rmdir(zData);
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
    test_audit_unnamed_rows_stay();
    test_audit_thin_catalog();
    test_audit_exact_duplicate();
    test_audit_reader_findings();
    test_audit_unclosed_quote();
    test_catalogs_chinese();
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
