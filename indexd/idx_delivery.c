/* Deliveries kept as JSON files; the acceptance report read from them. */
#include "idx_delivery.h"
#include "idx_dir.h"
#include "proto_alloc.h"
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
#include <time.h>
#include <unistd.h>

/* The checks of DA/T 31 acceptance, from ingest's problem lists: those
 * that fail a delivery, and those an archivist looks at. */
static const struct { const char *zKey, *zTitle; int fail; } aCheck[] = {
    {"page_count_mismatch", "页数与扫描页数不符（缺页、多页）", 1},
    {"missing_pages", "缺页（页号不连续）", 1},
    {"page_conflicts", "页号重复的扫描件", 1},
    {"scans_without_catalog_row", "扫描件无对应目录条目", 1},
    {"catalog_rows_without_scans", "目录条目无扫描件", 1},
    {"unreadable_files", "无法读取或不支持的文件", 1},
    {"unrecognised_files", "未按档号命名的文件", 1},
    {"catalog_rejected", "目录中不合格的条目", 1},
    {"low_dpi", "分辨率低于200dpi", 1},
    {"skewed", "偏斜超过3°", 1},
    {"blank_pages", "空白页", 0},
    {"low_confidence", "识别可信度低的页", 0},
    {"unknown_dpi", "文件未注明分辨率的页", 0},
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

int idx_delivery_put(const char *zDataDir, const char *zName, const json_t *pAccount, char *zErr,
                     size_t nErr)
{
    char zDir[4096], zPath[4400], zTmp[4500], zNow[32];
    dir_of(zDataDir, zDir, sizeof zDir);
    if (mkdir(zDir, 0750) != 0 && errno != EEXIST) {
        snprintf(zErr, nErr, "cannot keep the delivery: %s", strerror(errno));
        return PS_IO;
    }
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(zNow, sizeof zNow, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_deep_copy(pAccount);
    if (!o) return PS_NOMEM;
    json_object_set_new(o, "received_at", json_string(zNow));
    json_object_set_new(o, "name", json_string(zName));
    snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zName);
    snprintf(zTmp, sizeof zTmp, "%s/.%s.%ld.tmp", zDir, zName, (long)getpid());
    int rc = json_dump_file(o, zTmp, JSON_COMPACT) == 0 ? PS_OK : PS_IO;
    json_decref(o);
    if (rc == PS_OK) {
        int fd = open(zTmp, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) rc = PS_IO;
        if (fd >= 0) close(fd);
    }
    if (rc == PS_OK && rename(zTmp, zPath) != 0) rc = PS_IO;
    if (rc != PS_OK) {
        snprintf(zErr, nErr, "cannot keep the delivery: %s", strerror(errno));
        unlink(zTmp);
    }
    return rc;
}

static json_t *load(const char *zDir, const char *zFile)
{
    char zPath[4400];
    json_error_t je;
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zFile);
    return json_load_file(zPath, 0, &je);
}

static int failed_checks(const json_t *pAcc)
{
    int n = 0;
    const json_t *pP = json_object_get(pAcc, "problems");
    for (size_t i = 0; i < sizeof aCheck / sizeof aCheck[0]; i++)
        n += aCheck[i].fail && json_array_size(json_object_get(pP, aCheck[i].zKey)) > 0;
    return n;
}

int idx_report_acceptance(const char *zDataDir, const char *zName, json_t **ppOut, char *zErr, size_t nErr)
{
    char zDir[4096], zFile[200];
    dir_of(zDataDir, zDir, sizeof zDir);
    *ppOut = NULL;
    if (zName && *zName) {
        if (!idx_delivery_name_ok(zName)) {
            snprintf(zErr, nErr, "'%.100s' is not a delivery name", zName);
            return PS_INVALID;
        }
        snprintf(zFile, sizeof zFile, "%s.json", zName);
        json_t *pAcc = load(zDir, zFile);
        if (!pAcc) {
            snprintf(zErr, nErr, "no delivery named %s", zName);
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
        *ppOut = json_pack("{s:s,s:O,s:O,s:b,s:O,s:O,s:o}", "delivery", zName,
                           "folder", json_object_get(pAcc, "folder") ? json_object_get(pAcc, "folder") : json_null(),
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
        snprintf(zErr, nErr, "cannot read the deliveries");
        return PS_IO;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *pAcc = load(zDir, az[i]);
        if (pAcc && pList) {
            json_t *s = json_object_get(pAcc, "scans");
            az[i][strlen(az[i]) - 5] = 0;
            json_array_append_new(pList, json_pack("{s:s,s:O,s:O,s:O,s:O,s:i,s:b}", "name", az[i],
                                                   "folder", json_object_get(pAcc, "folder") ? json_object_get(pAcc, "folder") : json_null(),
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
