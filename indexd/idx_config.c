/* Config table, JSON config file and flags. */
#include "idx_config.h"
#include "proto_alloc.h"
#include "proto_msg.h"
#include "proto_record.h"
#include "proto_status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    T_INT, T_STR, T_ENUM,
    T_ADDRS,   /* comma-separated IPv4 or IPv6 addresses */
    T_CATNAMES, /* a unit's 门类 names: in force for the whole process once read */
    T_SHARDS,   /* comma-separated tcp:HOST:PORT, at most 16, none twice */
    T_BOOL      /* 0 or 1; a bare --flag on the command line is 1 */
};

static const struct {
    const char *zName;
    int type;
    long min, max;
    const char *zDefault;
    size_t offset;
    const char *zEnum; /* allowed values, '|' separated */
    const char *zHelp;
} aKey[] = {
    {"listen", T_STR, 0, 0, "127.0.0.1", offsetof(idx_config, zListen), NULL, "监听地址（IPv4 或 IPv6）"},
    {"port", T_INT, 0, 65535, "8080", offsetof(idx_config, port), NULL, "TCP 端口；0 表示自动选用一个空闲端口"},
    {"data_dir", T_STR, 0, 0, "var/index", offsetof(idx_config, zDataDir), NULL, "索引所在目录"},
    {"shards", T_INT, 1, 16, "2", offsetof(idx_config, shards), NULL, "索引分片数，各分片并行写入（建立索引时确定，此后不能更改）"},
    {"threads", T_INT, 1, 256, "4", offsetof(idx_config, threads), NULL, "HTTP 工作线程数"},
    {"max_body_mb", T_INT, 1, 4096, "512", offsetof(idx_config, maxBodyMb), NULL, "请求体的上限，MiB"},
    {"commit_every", T_INT, 1, 1000000, "500", offsetof(idx_config, commitEvery), NULL, "分片中未提交的更改达到此数即提交"},
    {"commit_delay_ms", T_INT, 10, 600000, "1000", offsetof(idx_config, commitDelayMs), NULL, "未立即提交的写入（批量写入 ?commit=0），在此毫秒数内没有新写入时提交"},
    {"facet_check", T_INT, 0, 100000000, "2000", offsetof(idx_config, facetCheck), NULL, "分面统计至少查看的命中数"},
    {"log_level", T_ENUM, 0, 0, "info", offsetof(idx_config, zLogLevel), "error|warn|info|debug", "日志级别：error、warn、info 或 debug"},
    {"web_dir", T_STR, 0, 0, "", offsetof(idx_config, zWebDir), NULL, "Web 客户端文件所在目录（留空：使用内置路径）"},
    {"session_hours", T_INT, 1, 72, "8", offsetof(idx_config, sessionHours), NULL, "浏览器会话在登录此小时数后结束"},
    {"session_idle_minutes", T_INT, 1, 1440, "30", offsetof(idx_config, idleMinutes), NULL, "……或在最后一次请求此分钟数后结束"},
    {"approval_categories", T_STR, 0, 0, "FH", offsetof(idx_config, zApprovalCategories), NULL, "查看页面前须经审批的门类代码（以英文逗号分隔；留空：无）"},
    {"approval_classified", T_INT, 0, 1, "1", offsetof(idx_config, approvalClassified), NULL, "1：密级不是“公开”的档案，查看页面前须经审批"},
    {"cookie_secure", T_INT, 0, 1, "0", offsetof(idx_config, cookieSecure), NULL, "1：会话 Cookie 加 Secure 标记（客户端经 HTTPS 反向代理访问 indexd 时使用）"},
    {"approval_days", T_INT, 1, 365, "7", offsetof(idx_config, approvalDays), NULL, "审批通过后的有效天数"},
    {"max_buffered_mb", T_INT, 1, 65536, "2048", offsetof(idx_config, maxBufferedMb), NULL, "所有请求同时保留在内存中的请求体合计上限，MiB（超过时答复 503）"},
    {"per_ip_connections", T_INT, 0, 100000, "256", offsetof(idx_config, perIpConnections), NULL, "同一客户端地址的最大连接数（0：不限）"},
    {"category_names", T_CATNAMES, 0, 0, "", offsetof(idx_config, zCategoryNames), NULL, "本单位目录中 DA/T 22 以外的门类名称，写作 名称=代码（以英文逗号分隔，如 扶贫档案=WS,扶贫项目=KJ）"},
    {"trusted_proxies", T_ADDRS, 0, 0, "", offsetof(idx_config, zTrustedProxies), NULL, "可信反向代理的地址，由其 X-Forwarded-For 请求头确定客户端地址（以英文逗号分隔；留空：无）"},
    {"remote_shards", T_SHARDS, 0, 0, "", offsetof(idx_config, zRemoteShards), NULL, "其他机器上的分片，写作 tcp:主机:端口（以英文逗号分隔，至多 16 个；各由 xapian-tcpsrv --writable 提供），代替数据目录中的本机分片；顺序即路由，建立索引后不能更改（地址可以改；留空：本机分片）"},
    {"remote_timeout_ms", T_INT, 100, 600000, "5000", offsetof(idx_config, remoteTimeoutMs), NULL, "远程分片的超时（毫秒）：连接和每次读写至多等这么久，超时的分片视为暂时无法访问"},
    {"changesets", T_INT, 0, 1000000, "0", offsetof(idx_config, changesets), NULL, "本机分片保留的变更集个数，供 xapian-replicate 增量复制到只读副本（设为 XAPIAN_MAX_CHANGESETS；0：不保留）；远程分片的变更集由其 xapian-tcpsrv 的环境变量决定"},
    {"read_only", T_BOOL, 0, 1, "0", offsetof(idx_config, readOnly), NULL, "1：以只读方式打开索引（如 xapian-replicate 复制来的副本），拒绝一切写入；命令行写 --read-only 即可"},
};
#define N_KEY (sizeof aKey / sizeof aKey[0])

/* Is zVal not a list of remote shards?  Then zErr says why. */
static int shards_bad(const char *zKey, const char *zVal, char *zErr, size_t nErr)
{
    char azSeen[16][128];
    int n = 0;
    for (const char *s = zVal; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s), i = strspn(s, " \t"), j = len;
        while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\t')) j--;
        const char *z = s + i;
        size_t nz = j > i ? j - i : 0;
        s += len + (e != NULL);
        if (nz == 0) continue;
        char zOne[128];
        const char *zPort = NULL;
        int ok = nz < sizeof zOne && nz > 4 && strncmp(z, "tcp:", 4) == 0;
        if (ok) {
            snprintf(zOne, sizeof zOne, "%.*s", (int)nz, z);
            zPort = strrchr(zOne, ':');
            const char *zHost = zOne + 4;
            size_t nHost = (size_t)(zPort - zHost);
            ok = zPort > zHost && nHost > 0 && zPort[1] && strspn(zPort + 1, "0123456789") == strlen(zPort + 1) &&
                 strlen(zPort + 1) <= 5 && atol(zPort + 1) >= 1 && atol(zPort + 1) <= 65535;
            if (ok && zHost[0] == '[') ok = nHost > 2 && zHost[nHost - 1] == ']';
            else if (ok) ok = memchr(zHost, ':', nHost) == NULL &&
                              strspn(zHost, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") >= nHost;
        }
        if (!ok) {
            snprintf(zErr, nErr, "%s：“%.*s”不是 tcp:主机:端口 形式的分片地址（IPv6 地址写在方括号中）", zKey,
                     (int)(nz > 80 ? 80 : nz), z);
            return 1;
        }
        for (int k = 0; k < n; k++)
            if (strcmp(azSeen[k], zOne) == 0) {
                snprintf(zErr, nErr, "%s：%s 写了两次", zKey, zOne);
                return 1;
            }
        if (n == 16) {
            snprintf(zErr, nErr, "%s：至多 16 个分片", zKey);
            return 1;
        }
        snprintf(azSeen[n++], sizeof azSeen[0], "%s", zOne);
    }
    return 0;
}

static int find_key(const char *zName)
{
    char z[64];
    size_t n = strlen(zName);
    if (n >= sizeof z) return -1;
    for (size_t i = 0; i <= n; i++) z[i] = zName[i] == '-' ? '_' : zName[i];
    for (size_t i = 0; i < N_KEY; i++)
        if (strcmp(z, aKey[i].zName) == 0) return (int)i;
    return -1;
}

/* Is zVal not a list of addresses?  Then zErr names the first bad one.
 * Only single addresses: a proxy is a machine of one's own, and a range
 * trusted by mistake would let its clients choose their address. */
static int addrs_bad(const char *zKey, const char *zVal, char *zErr, size_t nErr)
{
    for (const char *s = zVal; *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        char z[64];
        unsigned char a[16];
        size_t i = strspn(s, " \t"), j = n;
        while (j > i && (s[j - 1] == ' ' || s[j - 1] == '\t')) j--;
        snprintf(z, sizeof z, "%.*s", (int)(j - i), s + i);
        if (j - i >= sizeof z || (inet_pton(AF_INET, z, a) != 1 && inet_pton(AF_INET6, z, a) != 1)) {
            snprintf(zErr, nErr, "%s：“%.*s”不是 IPv4 或 IPv6 地址", zKey, (int)(j - i > 60 ? 60 : j - i), s + i);
            return 1;
        }
        s += n + (e != NULL);
    }
    return 0;
}

int idx_config_set(idx_config *c, const char *zKey, const char *zVal, char *zErr, size_t nErr)
{
    int k = find_key(zKey);
    if (k < 0) {
        snprintf(zErr, nErr, "没有配置项“%s”（见 --help）", zKey);
        return PS_CONFIG;
    }
    void *pField = (char *)c + aKey[k].offset;
    if (aKey[k].type == T_INT || aKey[k].type == T_BOOL) {
        char *e;
        errno = 0;
        long v = strtol(zVal, &e, 10);
        if (!*zVal || *e || errno) {
            snprintf(zErr, nErr, "%s：“%s”不是整数", aKey[k].zName, zVal);
            return PS_CONFIG;
        }
        if (v < aKey[k].min || v > aKey[k].max) {
            snprintf(zErr, nErr, "%s：%ld 超出 %ld 至 %ld 的范围", aKey[k].zName, v, aKey[k].min, aKey[k].max);
            return PS_CONFIG;
        }
        *(long *)pField = v;
        return PS_OK;
    }
    if (aKey[k].type == T_ENUM) {
        size_t n = strlen(zVal);
        const char *s = aKey[k].zEnum;
        int ok = 0;
        while (*s) {
            const char *e = strchr(s, '|');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            if (len == n && strncmp(s, zVal, n) == 0) ok = 1;
            s += len + (e != NULL);
        }
        if (!ok) {
            snprintf(zErr, nErr, "%s：“%s”不是 %s 之一", aKey[k].zName, zVal, aKey[k].zEnum);
            return PS_CONFIG;
        }
    }
    if (aKey[k].type == T_ADDRS && addrs_bad(aKey[k].zName, zVal, zErr, nErr)) return PS_CONFIG;
    if (aKey[k].type == T_SHARDS && shards_bad(aKey[k].zName, zVal, zErr, nErr)) return PS_CONFIG;
    if (aKey[k].type == T_CATNAMES) {
        char zWhy[200];
        if (proto_category_names_set(zVal, zWhy, sizeof zWhy) != PS_OK) {
            snprintf(zErr, nErr, "%s：%s", aKey[k].zName, zWhy);
            return PS_CONFIG;
        }
    }
    char *zCopy = px_strdup(zVal);
    if (!zCopy) return PS_NOMEM;
    px_free(*(char **)pField);
    *(char **)pField = zCopy;
    return PS_OK;
}

int idx_config_init(idx_config *c)
{
    char zErr[128];
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < N_KEY; i++)
        if (idx_config_set(c, aKey[i].zName, aKey[i].zDefault, zErr, sizeof zErr) != PS_OK) return PS_NOMEM;
    return PS_OK;
}

void idx_config_clear(idx_config *c)
{
    for (size_t i = 0; i < N_KEY; i++)
        if (aKey[i].type != T_INT && aKey[i].type != T_BOOL) px_free(*(char **)((char *)c + aKey[i].offset));
    memset(c, 0, sizeof *c);
}


static int load_file(idx_config *c, const char *zPath, char *zErr, size_t nErr)
{
    json_error_t je;
    json_t *o = json_load_file(zPath, 0, &je);
    int e = errno;
    const char *zKey;
    json_t *v;
    int rc = PS_OK;
    char zMsg[512];
    if (!o && je.line < 1) {
        snprintf(zErr, nErr, "无法读取配置文件 %s：%s", zPath, strerror(e));
        return PS_CONFIG;
    }
    if (!o) {
        snprintf(zErr, nErr, "配置文件 %s 第 %d 行：不是有效的 JSON（%s）", zPath, je.line, proto_json_why(&je));
        return PS_CONFIG;
    }
    if (!json_is_object(o)) {
        snprintf(zErr, nErr, "配置文件 %s：须为由配置项组成的 JSON 对象", zPath);
        json_decref(o);
        return PS_CONFIG;
    }
    json_object_foreach(o, zKey, v) {
        char zVal[4096];
        if (json_is_string(v)) snprintf(zVal, sizeof zVal, "%s", json_string_value(v));
        else if (json_is_integer(v)) snprintf(zVal, sizeof zVal, "%lld", (long long)json_integer_value(v));
        else if (json_is_boolean(v)) snprintf(zVal, sizeof zVal, "%d", json_is_true(v));
        else {
            snprintf(zErr, nErr, "配置文件 %s：%s 的值须为字符串或数字", zPath, zKey);
            rc = PS_CONFIG;
            break;
        }
        if ((rc = idx_config_set(c, zKey, zVal, zMsg, sizeof zMsg)) != PS_OK) {
            snprintf(zErr, nErr, "配置文件 %s：%s", zPath, zMsg);
            break;
        }
    }
    json_decref(o);
    return rc;
}

static void config_usage(void)
{
    printf("用法：indexd [--config 配置文件] [--配置项 值]...\n"
           "      indexd users add|set|passwd|list|delete|token|revoke …  （管理用户与令牌；indexd users 显示帮助）\n"
           "      indexd catalogs list|delete 文件|prune --keep N [--data-dir 目录]  （管理为目录检查留存的目录文件）\n\n"
           "配置项（命令行参数或 JSON 配置文件）：\n");
    for (size_t i = 0; i < N_KEY; i++)
        printf("  --%-14s %s（默认：%s）\n", aKey[i].zName, aKey[i].zHelp,
               *aKey[i].zDefault ? aKey[i].zDefault : "\"\"");
}

int idx_config_load(idx_config *c, int argc, char **argv, char *zErr, size_t nErr)
{
    int rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_usage();
            return -1;
        }
        if (strncmp(argv[i], "--config", 8) == 0 && (argv[i][8] == 0 || argv[i][8] == '=')) {
            const char *zPath = argv[i][8] == '=' ? argv[i] + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!zPath) {
                snprintf(zErr, nErr, "--config 后须写配置文件名");
                return PS_CONFIG;
            }
            if ((rc = load_file(c, zPath, zErr, nErr)) != PS_OK) return rc;
        }
    }
    for (int i = 1; i < argc; i++) {
        char zKey[64];
        const char *zVal;
        if (strncmp(argv[i], "--", 2) != 0) {
            snprintf(zErr, nErr, "“%s”不是命令行参数（参数写作 --配置项 值）", argv[i]);
            return PS_CONFIG;
        }
        const char *zEq = strchr(argv[i], '=');
        size_t n = zEq ? (size_t)(zEq - argv[i] - 2) : strlen(argv[i] + 2);
        snprintf(zKey, sizeof zKey, "%.*s", (int)n, argv[i] + 2);
        if (strcmp(zKey, "config") == 0) {
            if (!zEq) i++;
            continue;
        }
        int k = find_key(zKey);
        if (zEq) zVal = zEq + 1;
        else if (k >= 0 && aKey[k].type == T_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
            zVal = "1"; /* a bare --read-only */
        else if (i + 1 < argc) zVal = argv[++i];
        else {
            snprintf(zErr, nErr, "--%s 后须写值", zKey);
            return PS_CONFIG;
        }
        if ((rc = idx_config_set(c, zKey, zVal, zErr, nErr)) != PS_OK) return rc;
    }
    return PS_OK;
}
