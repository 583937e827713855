/* indexd: the search daemon.  The only writer of the index; serves the
 * HTTP/JSON API and the web client.  SIGTERM or SIGINT: finish the requests
 * in flight, commit, exit.  `indexd users …` manages the users and tokens
 * (see idx_auth.h), `indexd catalogs …` the catalogs kept for the audit
 * (idx_audit.h), `indexd routes` the route table, `indexd compact` compacts
 * a stopped index after a bulk load. */
#include "idx_access.h"
#include "idx_api.h"
#include "idx_audit.h"
#include "idx_auth.h"
#include "idx_config.h"
#include "idx_http.h"
#include "idx_index.h"
#include "idx_log.h"
#include "idx_register.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IDX_WEB_DIR
#define IDX_WEB_DIR ""
#endif

static void print_line(void *ctx, const char *zLine)
{
    (void)ctx;
    printf("%s\n", zLine);
}

/* indexd compact [--data-dir DIR]: compact the stopped index's shards. */
static int compact_main(int argc, char **argv)
{
    const char *zDir = "var/index";
    char zErr[512];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc) zDir = argv[++i];
        else if (strncmp(argv[i], "--data-dir=", 11) == 0) zDir = argv[i] + 11;
        else {
            fprintf(stderr, "用法：indexd compact [--data-dir 数据目录]\n"
                            "压缩已停止的 indexd 的索引分片（批量导入后体积可减半）\n");
            return 2;
        }
    }
    int rc = idx_index_compact(zDir, print_line, NULL, zErr, sizeof zErr);
    if (rc != PS_OK) {
        fprintf(stderr, "indexd compact：%s\n", zErr);
        return 1;
    }
    printf("索引已压缩：%s\n", zDir);
    return 0;
}

int main(int argc, char **argv)
{
    idx_config cfg;
    idx_index *pIdx = NULL;
    idx_http *pHttp = NULL;
    idx_auth *pAuth = NULL;
    idx_register *pReg = NULL;
    idx_access *pAccess = NULL;
    char zErr[512];
    unsigned port = 0;
    sigset_t set;
    int sig, rc;

    px_install_json_allocator();
    if (argc > 1 && strcmp(argv[1], "users") == 0) return idx_users_main("var/index", argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "routes") == 0) {
        /* the route table, as proto/README.md lists it */
        idx_http_routes(print_line, NULL);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "catalogs") == 0) return idx_catalogs_main("var/index", argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "compact") == 0) return compact_main(argc - 1, argv + 1);
    if (idx_config_init(&cfg) != PS_OK) {
        fprintf(stderr, "indexd：内存不足\n");
        return 1;
    }
    rc = idx_config_load(&cfg, argc, argv, zErr, sizeof zErr);
    if (rc == -1) {
        idx_config_clear(&cfg);
        return 0;
    }
    if (rc != PS_OK) {
        fprintf(stderr, "indexd：配置有误：%s\n", zErr);
        idx_config_clear(&cfg);
        return 2;
    }
    if (!*cfg.zWebDir && idx_config_set(&cfg, "web_dir", IDX_WEB_DIR, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "indexd：%s\n", zErr);
        return 2;
    }
    static const char *const azLevel[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(cfg.zLogLevel, azLevel[i]) == 0) idx_log_level = i;

    /* Block the stop signals before any thread starts so that only the
     * sigwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    idx_index_opts o = {(int)cfg.shards, (unsigned)cfg.commitEvery, (int)cfg.readOnly, (unsigned)cfg.commitDelayMs};
    idx_remote_opts ro = {cfg.zRemoteShards, (unsigned)cfg.remoteTimeoutMs};
    /* changesets for xapian-replicate: Xapian reads the count from the
     * environment when a writer opens a local database; remote shards keep
     * those their xapian-tcpsrv's environment asks for */
    if (cfg.changesets > 0 && !*cfg.zRemoteShards && !cfg.readOnly) {
        char zN[24];
        snprintf(zN, sizeof zN, "%ld", cfg.changesets);
        setenv("XAPIAN_MAX_CHANGESETS", zN, 1);
    } else if (cfg.changesets > 0) {
        IDX_LOG(IDX_LOG_WARN, 0, "changesets has no effect %s", cfg.readOnly ? "read-only" :
                "with remote shards: set XAPIAN_MAX_CHANGESETS in each xapian-tcpsrv's environment");
    }
    rc = idx_index_open_remote(cfg.zDataDir, &o, &ro, &pIdx, zErr, sizeof zErr);
    if (rc != PS_OK) {
        fprintf(stderr, "indexd：无法打开 %s 中的索引：%s\n", cfg.zDataDir, zErr);
        idx_config_clear(&cfg);
        return 1;
    }
    /* the users and sessions, the use register and approvals, and the access
     * rules made of them: one of each, handed to every request */
    idx_auth_opts ao = {.sessionHours = cfg.sessionHours, .idleMinutes = cfg.idleMinutes};
    idx_access_opts xo = {cfg.zApprovalCategories, (int)cfg.approvalClassified};
    rc = idx_auth_open(cfg.zDataDir, &ao, &pAuth, zErr, sizeof zErr);
    if (rc == PS_OK) rc = idx_register_open(cfg.zDataDir, &pReg, zErr, sizeof zErr);
    if (rc == PS_OK && (rc = idx_access_open(&xo, pReg, &pAccess)) != PS_OK) snprintf(zErr, sizeof zErr, "内存不足");
    idx_srv srv = {pIdx, pAuth, pReg, pAccess, cfg.zDataDir, *cfg.zWebDir ? cfg.zWebDir : NULL,
                   (unsigned)cfg.facetCheck, cfg.sessionHours * 3600, cfg.cookieSecure != 0, cfg.approvalDays};
    if (rc == PS_OK) rc = idx_http_start(&srv, &cfg, &pHttp, &port, zErr, sizeof zErr);
    if (rc != PS_OK) {
        fprintf(stderr, "indexd：%s\n", zErr);
        idx_access_close(pAccess);
        idx_register_close(pReg);
        idx_auth_close(pAuth);
        idx_index_close(pIdx);
        idx_config_clear(&cfg);
        return 1;
    }
    const char *zHost = cfg.zListen;
    int v6 = strchr(zHost, ':') != NULL;
    /* scripts read the address at the end of this line */
    printf("indexd：检索服务已启动，共 %lu 件档案，数据目录 %s，地址 http://%s%s%s:%u/\n", idx_index_count(pIdx),
           cfg.zDataDir, v6 ? "[" : "", zHost, v6 ? "]" : "", port);
    fflush(stdout);
    IDX_LOG(IDX_LOG_INFO, 0, "listening on port %u with %ld threads, %s shards%s", port, cfg.threads,
            *cfg.zRemoteShards ? "remote" : "local", cfg.readOnly ? ", read-only" : "");

    sigwait(&set, &sig);
    IDX_LOG(IDX_LOG_INFO, 0, "%s: finishing requests in flight", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    idx_http_stop(pHttp, 30);
    idx_access_close(pAccess);
    idx_register_close(pReg);
    idx_auth_close(pAuth);
    idx_index_close(pIdx);
    idx_audit_cache_clear();
    IDX_LOG(IDX_LOG_INFO, 0, "index committed; stopped");
    idx_config_clear(&cfg);
    return 0;
}
