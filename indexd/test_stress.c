/* Concurrency stress test of the whole daemon in one process: the HTTP
 * server on a loopback port, and client threads that search (empty
 * queries, filters only, NOT only, words, phrases), read records and pages,
 * and write records and pages at the same time, as archivists opening the
 * web client together do.  Built with ThreadSanitizer in the test suite
 * (build-tsan), where any data race fails it; in the other builds it checks
 * that every answer is a good one and that the daemon stays up.
 *
 * STRESS_SECONDS sets how long the clients run (default 5). */
#include "idx_access.h"
#include "idx_api.h"
#include "idx_auth.h"
#include "idx_config.h"
#include "idx_http.h"
#include "idx_index.h"
#include "idx_register.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned nPort;
static char zAdmin[128], zReader[128];
static atomic_int nStop;
static atomic_long nOk, nBad;
static atomic_long anKind[8];
static _Thread_local char zLast[512]; /* the start of the last answer, for a failure's message */

/* One request on a fresh connection: the HTTP status, or -1. */
static int http(const char *zMethod, const char *zPath, const char *zToken, const char *zBody)
{
    struct sockaddr_in sa;
    char zHead[2048], zBuf[8192];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)nPort);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    size_t nBody = zBody ? strlen(zBody) : 0;
    int n = snprintf(zHead, sizeof zHead,
                     "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     zMethod, zPath, zToken, nBody);
    int ok = write(fd, zHead, (size_t)n) == n && (!nBody || write(fd, zBody, nBody) == (ssize_t)nBody);
    size_t got = 0;
    ssize_t k;
    while (ok && (k = read(fd, zBuf + got, sizeof zBuf - 1 - got)) > 0) {
        got += (size_t)k;
        if (got >= sizeof zBuf - 1) got = 16; /* keep the status line, drop the rest */
    }
    close(fd);
    zBuf[got] = 0;
    const char *zAns = strstr(zBuf, "\r\n\r\n");
    zAns = zAns ? zAns + 4 : zBuf;
    size_t nAvail = got - (size_t)(zAns - zBuf);
    size_t nLast = nAvail < sizeof zLast - 1 ? nAvail : sizeof zLast - 1;
    memcpy(zLast, zAns, nLast);
    zLast[nLast] = 0;
    int status = -1;
    if (ok && sscanf(zBuf, "HTTP/1.1 %d", &status) != 1) status = -1;
    return status;
}

static void note(int kind, int status, int want1, int want2)
{
    atomic_fetch_add(&anKind[kind], 1);
    if (status == want1 || status == want2) {
        atomic_fetch_add(&nOk, 1);
    } else {
        atomic_fetch_add(&nBad, 1);
        fprintf(stderr, "request kind %d answered %d: %s\n", kind, status, zLast);
    }
}

/* %C2%B7 is the middle dot of a 档号. */
static void code_path(char *z, size_t n, int i, const char *zRest)
{
    snprintf(z, n, "/api/v1/records/Z031-%s%%C2%%B72017-Y-BGS-%04d%s", i % 5 == 0 ? "FH" : "WS", i % 100 + 1, zRest);
}

static void *reader(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    static const char *const azSearch[] = {
        "/api/v1/search?q=&facets=0&limit=1",
        "/api/v1/search?q=",
        "/api/v1/search?fonds=Z031&category=WS",
        "/api/v1/search?q=-%E6%89%B6%E8%B4%AB",                              /* NOT only: -扶贫 */
        "/api/v1/search?q=%E6%89%B6%E8%B4%AB",                               /* 扶贫 */
        "/api/v1/search?q=%22%E7%B2%BE%E5%87%86%E6%89%B6%E8%B4%AB%22",       /* "精准扶贫" */
        "/api/v1/search?q=%E7%B2%BE%E5%87%86%E6%89%B6%E8%B4%AB%E5%B7%A5",    /* 精准扶贫工 (near matches) */
        "/api/v1/search?year=2017&sort=-date",
    };
    char zPath[256];
    while (!atomic_load(&nStop)) {
        unsigned r = (unsigned)rand_r(&seed);
        const char *zTok = (r >> 8) % 2 ? zReader : zAdmin;
        switch (r % 4) {
        case 0:
        case 1:
            note(0, http("GET", azSearch[(r >> 4) % 8], zTok, NULL), 200, 200);
            break;
        case 2:
            code_path(zPath, sizeof zPath, (int)((r >> 4) % 100), "");
            note(1, http("GET", zPath, zTok, NULL), 200, 200);
            break;
        default:
            /* a household file's text needs an approval the reader lacks */
            code_path(zPath, sizeof zPath, (int)((r >> 4) % 100), "/pages/1?purpose=stress");
            note(2, http("GET", zPath, zTok, NULL), zTok == zReader && (r >> 4) % 100 % 5 == 0 ? 403 : 200, 200 + 1000);
            break;
        }
    }
    return NULL;
}

static void *writer(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    char zPath[256], zBody[512];
    while (!atomic_load(&nStop)) {
        int i = rand_r(&seed) % 100;
        code_path(zPath, sizeof zPath, i, "/pages/1");
        snprintf(zBody, sizeof zBody, "{\"text\":\"精准扶贫工作第%d次修订，脱贫攻坚。\"}", rand_r(&seed));
        note(3, http("PUT", zPath, zAdmin, zBody), 200, 201);
        code_path(zPath, sizeof zPath, i, "");
        snprintf(zBody, sizeof zBody,
                 "{\"title\":\"关于精准扶贫的通知%d\",\"author\":\"县扶贫办\",\"date\":\"20170305\",\"pages\":1}", i);
        note(4, http("PUT", zPath, zAdmin, zBody), 200, 201);
    }
    return NULL;
}

int main(void)
{
    char zDir[] = "/tmp/test-stress-XXXXXX", zErr[512];
    idx_index *pIdx = NULL;
    idx_auth *pAuth = NULL;
    idx_register *pReg = NULL;
    idx_access *pAccess = NULL;
    idx_http *pHttp = NULL;
    idx_config cfg;
    px_install_json_allocator();
    CHECK(mkdtemp(zDir) != NULL);
    CHECK_INT(idx_users_add(zDir, "stress", "admin", NULL, -1, "stress-password-1", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_add(zDir, "reader", "archivist", NULL, -1, "reader-password-1", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "stress", "t", "压力测试", zAdmin, sizeof zAdmin, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "reader", "t", "压力测试", zReader, sizeof zReader, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_config_init(&cfg), PS_OK);
    CHECK_INT(idx_config_set(&cfg, "data_dir", zDir, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_config_set(&cfg, "port", "0", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_config_set(&cfg, "threads", "4", zErr, sizeof zErr), PS_OK);
    idx_index_opts io = {2, 50, 0, 100};
    CHECK_INT(idx_index_open(zDir, &io, &pIdx, zErr, sizeof zErr), PS_OK);
    idx_auth_opts ao = {.sessionHours = 8, .idleMinutes = 30};
    CHECK_INT(idx_auth_open(zDir, &ao, &pAuth, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_register_open(zDir, &pReg, zErr, sizeof zErr), PS_OK);
    idx_access_opts xo = {"FH", 1};
    CHECK_INT(idx_access_open(&xo, pReg, &pAccess), PS_OK);
    idx_srv srv = {pIdx, pAuth, pReg, pAccess, zDir, NULL, 2000, 8 * 3600, 0, 7};
    CHECK_INT(idx_http_start(&srv, &cfg, &pHttp, &nPort, zErr, sizeof zErr), PS_OK);
    if (px_nFail) return px_test_done();

    /* the records the clients read */
    char zPath[256], zBody[512];
    for (int i = 0; i < 100; i++) {
        code_path(zPath, sizeof zPath, i, "");
        snprintf(zBody, sizeof zBody, "{\"title\":\"关于精准扶贫的通知%d\",\"author\":\"县扶贫办\",\"date\":\"20170305\",\"pages\":1}", i);
        CHECK(http("PUT", zPath, zAdmin, zBody) / 100 == 2);
        code_path(zPath, sizeof zPath, i, "/pages/1");
        CHECK(http("PUT", zPath, zAdmin, "{\"text\":\"精准扶贫工作要求，脱贫攻坚。\"}") / 100 == 2);
    }

    const char *zSec = getenv("STRESS_SECONDS");
    int nSec = zSec ? atoi(zSec) : 5;
    enum { N_READER = 12, N_WRITER = 2 };
    pthread_t aT[N_READER + N_WRITER];
    for (int i = 0; i < N_READER; i++) pthread_create(&aT[i], NULL, reader, (void *)(size_t)(i + 1));
    for (int i = 0; i < N_WRITER; i++) pthread_create(&aT[N_READER + i], NULL, writer, (void *)(size_t)(100 + i));
    sleep((unsigned)(nSec > 0 ? nSec : 1));
    atomic_store(&nStop, 1);
    for (int i = 0; i < N_READER + N_WRITER; i++) pthread_join(aT[i], NULL);

    printf("%ld requests answered as expected, %ld not (searches %ld, records %ld, pages %ld, page writes %ld, record writes %ld)\n",
           atomic_load(&nOk), atomic_load(&nBad), atomic_load(&anKind[0]), atomic_load(&anKind[1]), atomic_load(&anKind[2]),
           atomic_load(&anKind[3]), atomic_load(&anKind[4]));
    CHECK(atomic_load(&anKind[0]) > 0 && atomic_load(&anKind[3]) > 0);
    CHECK_INT(atomic_load(&nBad), 0);
    CHECK_INT(http("GET", "/healthz", zAdmin, NULL), 200);

    idx_http_stop(pHttp, 10);
    idx_access_close(pAccess);
    idx_register_close(pReg);
    idx_auth_close(pAuth);
    idx_index_close(pIdx);
    idx_config_clear(&cfg);
    px_test_rmdir(zDir);
    return px_test_done();
}
