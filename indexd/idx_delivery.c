/* Deliveries kept as JSON files; the acceptance report read from them. */
#include "idx_delivery.h"
#include "idx_dir.h"
#include "idx_file.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The checks of DA/T 31 acceptance, from ingest's problem lists: those
 * that fail a delivery, and those an archivist looks at. */
static const struct { const char *zKey, *zTitle; int fail; } aCheck[] = {
    {"page_count_mismatch", "页数与扫描页数不符（缺页、多页）", 1},
    {"missing_pages", "缺页（页号不连续）", 1},
    {"page_conflicts", "页号重复的扫描件", 1},
    {"scans_without_catalog_row", "扫描件无对应目录条目（已读入，待挂接）", 1},
    {"catalog_rows_without_scans", "目录条目无扫描件", 1},
    {"unreadable_files", "无法读取或不支持的文件", 1},
    {"unrecognised_files", "未按档号命名的文件", 1},
    {"catalog_rejected", "目录中不合格的条目", 1},
    {"catalog_conflicts", "目录条目与档案中已有著录不符（保留原著录）", 1},
    {"scans_held_back", "目录条目冲突、未写入的扫描件（保留档案中的页面）", 1},
    {"low_dpi", "分辨率低于200dpi", 1},
    {"skewed", "偏斜超过3°", 1},
    {"blank_pages", "空白页", 0},
    {"low_confidence", "识别可信度低的页", 0},
    {"unknown_dpi", "文件未注明分辨率的页", 0},
    {"names_read_leniently", "文件名中的档号写法不规范（已按规范档号读取）", 0},
};

int idx_delivery_name_ok(const char *z)
{
    size_t n = z ? strlen(z) : 0;
    if (n == 0 || n > 100 || z[0] == '.' || !proto_utf8_valid(z, n)) return 0;
    for (size_t i = 0; i < n;) {
        unsigned c = proto_utf8_next(z, n, &i);
        int ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
                 c == '_' || c == '-' || proto_is_han(c) || c == 0xB7;
        if (!ok) return 0;
    }
    return 1;
}

static void dir_of(const char *zDataDir, char *z, size_t n)
{
    snprintf(z, n, "%s/deliveries", zDataDir);
}

/* The length of z's first nMax bytes or fewer that ends between characters. */
static int name_cut(const char *z, size_t nMax)
{
    size_t n = strnlen(z, nMax);
    if (n == nMax && z[n] != 0)
        while (n > 0 && ((unsigned char)z[n] & 0xC0) == 0x80) n--;
    return (int)n;
}

/* One writer at a time: the count and the write go together. */
static pthread_mutex_t putLock = PTHREAD_MUTEX_INITIALIZER;

int idx_delivery_put(const char *zDataDir, const char *zName, const json_t *pAccount, char *zErr,
                     size_t nErr)
{
    char zDir[4096], zPath[4400], zFile[200], zNow[32];
    char **az = NULL;
    size_t nName = 0, n = 0;
    char *z = NULL;
    json_t *o = NULL;
    dir_of(zDataDir, zDir, sizeof zDir);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(zNow, sizeof zNow, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int rc = PS_NOMEM;
    if (!(o = json_deep_copy(pAccount)) || json_object_set_new(o, "received_at", json_string(zNow)) != 0 ||
        json_object_set_new(o, "name", json_string(zName)) != 0)
        goto out;
    /* numbers can come out longer than they went in: the bound is on what is kept */
    n = json_dumpb(o, NULL, 0, JSON_COMPACT);
    if (n == 0) goto out;
    if (n > IDX_DELIVERY_MAX) {
        snprintf(zErr, nErr, "一个交付批次的记录留存时不得超过 %u MiB", IDX_DELIVERY_MAX >> 20);
        rc = PS_TOO_BIG;
        goto out;
    }
    if (!(z = px_malloc(n)) || json_dumpb(o, z, n, JSON_COMPACT) != n) goto out;
    pthread_mutex_lock(&putLock);
    rc = idx_file_mkdirs(zDir, 0750, zErr, nErr);
    if (rc != PS_OK) snprintf(zErr, nErr, "无法创建交付记录的文件夹");
    if (rc == PS_OK && (rc = idx_dir_list(zDir, ".json", &az, &nName)) != PS_OK)
        snprintf(zErr, nErr, "无法读取交付记录");
    if (rc == PS_OK) {
        int found = 0;
        snprintf(zFile, sizeof zFile, "%s.json", zName);
        for (size_t i = 0; i < nName && !found; i++) found = strcmp(az[i], zFile) == 0;
        if (!found && nName >= IDX_DELIVERY_COUNT_MAX) {
            snprintf(zErr, nErr, "检索服务已留存 %zu 个交付批次的记录，已达上限；请用先前某一批次的名称重新提交以替换它，"
                                 "或请管理员从数据文件夹的 deliveries/ 中删除旧的记录", nName);
            rc = PS_CONFLICT;
        }
    }
    if (rc == PS_OK) {
        /* the reason without the server's path: it goes to the client */
        char zE[512];
        snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zName);
        rc = idx_file_replace(zPath, z, n, 0640, zE, sizeof zE);
        const char *zWhy = idx_file_reason(zE);
        if (rc != PS_OK) snprintf(zErr, nErr, "无法留存交付记录%s%s", zWhy ? "：" : "", zWhy ? zWhy : "");
    }
    pthread_mutex_unlock(&putLock);
out:
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    idx_dir_free(az, nName);
    px_free(z);
    json_decref(o);
    return rc;
}

/* A kept account (at most IDX_DELIVERY_MAX bytes), or NULL. */
static json_t *load(const char *zDir, const char *zFile)
{
    char zPath[4400], zErr[256];
    char *z = NULL;
    size_t n = 0;
    json_error_t je;
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zFile);
    if (idx_file_read(zPath, IDX_DELIVERY_MAX, &z, &n, zErr, sizeof zErr) != PS_OK) return NULL;
    json_t *o = json_loadb(z, n, 0, &je);
    px_free(z);
    return o;
}

/* The folder as the caller may see it: whole, or its last component. */
static json_t *folder(const json_t *pAcc, int full)
{
    const char *z = json_string_value(json_object_get(pAcc, "folder"));
    if (!z) return json_null();
    if (full) return json_string(z);
    size_t n = strlen(z);
    while (n > 1 && (z[n - 1] == '/' || z[n - 1] == '\\')) n--;
    size_t i = n;
    while (i > 0 && z[i - 1] != '/' && z[i - 1] != '\\') i--;
    return json_stringn(z + i, n - i);
}

static int failed_checks(const json_t *pAcc)
{
    int n = 0;
    const json_t *pP = json_object_get(pAcc, "problems");
    for (size_t i = 0; i < sizeof aCheck / sizeof aCheck[0]; i++)
        n += aCheck[i].fail && json_array_size(json_object_get(pP, aCheck[i].zKey)) > 0;
    return n;
}

int idx_report_acceptance(const char *zDataDir, const char *zName, int fullFolder, json_t **ppOut, char *zErr,
                          size_t nErr)
{
    char zDir[4096], zFile[200];
    dir_of(zDataDir, zDir, sizeof zDir);
    *ppOut = NULL;
    if (zName && *zName) {
        if (!idx_delivery_name_ok(zName)) {
            snprintf(zErr, nErr, "“%.*s”不是有效的交付批次名称", name_cut(zName, 100), zName);
            return PS_INVALID;
        }
        snprintf(zFile, sizeof zFile, "%s.json", zName);
        json_t *pAcc = load(zDir, zFile);
        if (!pAcc) {
            snprintf(zErr, nErr, "没有名为 %s 的交付批次", zName);
            return PS_NOT_FOUND;
        }
        json_t *pChecks = json_array();
        const json_t *pP = json_object_get(pAcc, "problems");
        for (size_t i = 0; pChecks && i < sizeof aCheck / sizeof aCheck[0]; i++) {
            json_t *a = json_object_get(pP, aCheck[i].zKey);
            json_array_append_new(pChecks, json_pack("{s:s,s:s,s:s,s:I,s:o}", "check", aCheck[i].zKey, "title",
                                                     aCheck[i].zTitle, "severity", aCheck[i].fail ? "fail" : "note",
                                                     "count", (json_int_t)json_array_size(a), "items",
                                                     a ? json_incref(a) : json_array()));
        }
        json_t *pScans = json_object_get(pAcc, "scans");
        *ppOut = json_pack("{s:s,s:o,s:O,s:b,s:O,s:O,s:o}", "delivery", zName,
                           "folder", folder(pAcc, fullFolder),
                           "received_at", json_object_get(pAcc, "received_at") ? json_object_get(pAcc, "received_at") : json_null(),
                           "passed", failed_checks(pAcc) == 0,
                           "scans", pScans ? pScans : json_null(),
                           "catalog", json_object_get(pAcc, "catalog") ? json_object_get(pAcc, "catalog") : json_null(),
                           "checks", pChecks);
        json_decref(pAcc);
        return *ppOut ? PS_OK : PS_NOMEM;
    }
    json_t *pList = json_array();
    char **az = NULL;
    size_t n = 0;
    if (idx_dir_list(zDir, ".json", &az, &n) != PS_OK) {
        json_decref(pList);
        snprintf(zErr, nErr, "无法读取交付记录");
        return PS_IO;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pAcc = load(zDir, az[i]);
        if (pAcc && pList) {
            json_t *s = json_object_get(pAcc, "scans");
            az[i][strlen(az[i]) - 5] = 0;
            json_array_append_new(pList, json_pack("{s:s,s:o,s:O,s:O,s:O,s:i,s:b}", "name", az[i],
                                                   "folder", folder(pAcc, fullFolder),
                                                   "received_at", json_object_get(pAcc, "received_at") ? json_object_get(pAcc, "received_at") : json_null(),
                                                   "pages", json_object_get(s, "pages") ? json_object_get(s, "pages") : json_null(),
                                                   "files", json_object_get(s, "files") ? json_object_get(s, "files") : json_null(),
                                                   "failed_checks", failed_checks(pAcc), "passed", failed_checks(pAcc) == 0));
        }
        json_decref(pAcc);
    }
    idx_dir_free(az, n);
    *ppOut = pList ? json_pack("{s:o}", "deliveries", pList) : NULL;
    return *ppOut ? PS_OK : PS_NOMEM;
}
