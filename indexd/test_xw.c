/* Unit tests of the Xapian wrapper: errors become statuses, queries and
 * result sets behave as the header says. */
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"
#include "xw.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int keep_2019(void *ctx, xw_docview *v)
{
    const char *z;
    size_t n;
    (void)ctx;
    CHECK_INT(xw_docview_value(v, 99, &z, &n), PS_INVALID);
    return xw_docview_value(v, 1, &z, &n) == PS_OK && n == 4 && memcmp(z, "2019", 4) == 0;
}

/* ---- a remote shard: xapian-tcpsrv --writable in a child process ---- */

static unsigned free_port(void)
{
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &n) != 0) {
        if (fd >= 0) close(fd);
        return 0;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static int port_open(unsigned port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* xapian-tcpsrv in a process group of its own (it forks one process per
 * connection), or -1 when it is not installed. */
static pid_t tcpsrv_start(const char *zDb, unsigned port)
{
    char zPort[16];
    snprintf(zPort, sizeof zPort, "%u", port);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(126);
        execlp("xapian-tcpsrv", "xapian-tcpsrv", "--writable", "--quiet", "--interface", "127.0.0.1", "--port", zPort,
               zDb, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 200; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return -1;
        if (port_open(port)) return pid;
        usleep(20000);
    }
    return -1;
}

static void tcpsrv_stop(pid_t pid)
{
    kill(-pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

typedef struct {
    unsigned live;
    int nDown, lastDown;
} shard_ctx;

static unsigned cb_live(void *ctx) { return ((shard_ctx *)ctx)->live; }

static void cb_down(void *ctx, int i, const char *zWhy)
{
    shard_ctx *c = ctx;
    (void)zWhy;
    c->live &= ~(1u << i);
    c->nDown++;
    c->lastDown = i;
}

static int keep_odd(void *ctx, xw_docview *v)
{
    const char *z;
    size_t n;
    (void)ctx;
    return xw_docview_value(v, 0, &z, &n) == PS_OK && n == 1 && (z[0] - '0') % 2 == 1;
}

static void put_docs(xw_wdb *w, const char *zPrefix, int n)
{
    char zErr[256];
    for (int i = 0; i < n; i++) {
        char zId[32], zV[2] = {(char)('0' + i % 10), 0};
        snprintf(zId, sizeof zId, "Q%s%d", zPrefix, i);
        xw_doc *d = xw_doc_new();
        xw_doc_add_boolean(d, zId);
        xw_doc_add_posting(d, "all", 3, 1);
        xw_doc_set_value(d, 0, zV, 1);
        xw_doc_set_data(d, zId, strlen(zId));
        CHECK_INT(xw_wdb_replace(w, zId, d, NULL, zErr, sizeof zErr), PS_OK);
        xw_doc_free(d);
    }
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
}

/* A local shard and a remote one as one reader: writes through the remote
 * writer, the UUID that tells a shard from another, a decider over the
 * remote shard (which Xapian does not run there), and the remote shard
 * lost: the reader goes on with the local one and says which it lost. */
static void test_remote(const char *zDir)
{
    char zErr[256], zLocal[300], zRemoteDb[300], zAddr[64], zHost[64], zU1[40], zU2[40];
    unsigned port = free_port(), p2 = 0;
    xw_wdb *w = NULL, *wl = NULL;
    xw_rdb *r = NULL;
    xw_mset *m = NULL;
    unsigned long nDocs = 0;

    CHECK(xw_shard_is_remote("tcp:a:1"));
    CHECK(!xw_shard_is_remote("/var/index/shard-0"));
    CHECK_INT(xw_remote_parse("tcp:[::1]:9101", zHost, sizeof zHost, &p2), PS_OK);
    CHECK_STR(zHost, "::1");
    CHECK_INT(p2, 9101);
    CHECK_INT(xw_remote_parse("tcp:::1:9101", zHost, sizeof zHost, &p2), PS_INVALID);
    CHECK_INT(xw_remote_parse("tcp:host:0", zHost, sizeof zHost, &p2), PS_INVALID);
    CHECK_INT(xw_remote_parse("tcp:host:", zHost, sizeof zHost, &p2), PS_INVALID);

    snprintf(zLocal, sizeof zLocal, "%s/local", zDir);
    snprintf(zRemoteDb, sizeof zRemoteDb, "%s/remote", zDir);
    snprintf(zAddr, sizeof zAddr, "tcp:127.0.0.1:%u", port);
    /* nothing listens yet: unavailable at once, not a hang */
    CHECK_INT(xw_probe(zAddr, 1000, zU1, sizeof zU1, NULL, zErr, sizeof zErr), PS_UNAVAILABLE);
    CHECK_INT(xw_wdb_open_shard(zAddr, 1000, &w, zErr, sizeof zErr), PS_UNAVAILABLE);
    pid_t pid = port ? tcpsrv_start(zRemoteDb, port) : -1;
    if (pid < 0) {
        printf("test_xw: xapian-tcpsrv not found or not started: remote shards not tested\n");
        return;
    }
    CHECK_INT(xw_wdb_open_shard(zAddr, 2000, &w, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_open_shard(zLocal, 2000, &wl, zErr, sizeof zErr), PS_OK);
    put_docs(w, "r", 10);
    put_docs(wl, "l", 10);
    CHECK_INT(xw_wdb_uuid(w, zU1, sizeof zU1, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_probe(zAddr, 2000, zU2, sizeof zU2, &nDocs, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zU1, zU2);
    CHECK_INT(strlen(zU1), 36);
    CHECK_INT(nDocs, 10);
    /* a second writer is refused: the lock is the server's */
    xw_wdb *w2 = NULL;
    CHECK_INT(xw_wdb_open_shard(zAddr, 2000, &w2, zErr, sizeof zErr), PS_CONFLICT);

    shard_ctx c = {3, 0, -1};
    xw_shard_cb cb = {cb_live, cb_down, &c};
    const char *az[2] = {zLocal, zAddr};
    CHECK_INT(xw_rdb_open_shards(az, 2, 2000, &cb, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_live(r), 3);
    CHECK_INT(xw_rdb_doccount(r), 20);
    char *z = NULL;
    size_t n = 0;
    CHECK_INT(xw_rdb_get_data(r, "Qr3", &z, &n, zErr, sizeof zErr), PS_OK);
    px_free(z);
    /* a decider with a remote shard: run here, counted as the local matcher would */
    xw_query *q = xw_q_term("all", 3);
    unsigned slot = 0;
    xw_search_opts o = {0, 4, -1, 0, 100, &slot, 1, keep_odd, NULL, 0, 0, 0};
    CHECK_INT(xw_search(r, q, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 4);
    CHECK_INT(xw_mset_estimated(m), 10);
    CHECK(xw_mset_exact(m));
    CHECK_INT(xw_mset_facet_size(m, 0), 5); /* 1 3 5 7 9 */
    xw_mset_free(m);
    o.unranked = 1;
    o.nFacet = 0;
    CHECK_INT(xw_search(r, q, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_estimated(m), 10);
    xw_mset_free(m);

    /* the machine goes away: the reader finds which shard, goes on without it */
    tcpsrv_stop(pid);
    o.unranked = 0;
    o.xDecide = NULL;
    o.nFacet = 0;
    CHECK_INT(xw_search(r, q, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_estimated(m), 10);
    xw_mset_free(m);
    CHECK_INT(c.nDown, 1);
    CHECK_INT(c.lastDown, 1);
    CHECK_INT(xw_rdb_live(r), 1);
    CHECK_INT(xw_rdb_get_data(r, "Qr3", &z, &n, zErr, sizeof zErr), PS_NOT_FOUND);
    /* the writer's connection is gone too */
    put_docs(wl, "l2", 1);
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK); /* nothing pending: nothing sent */
    xw_doc *d = xw_doc_new();
    CHECK(xw_wdb_replace(w, "Qx", d, NULL, zErr, sizeof zErr) == PS_UNAVAILABLE);
    xw_doc_free(d);
    xw_wdb_close(w);
    /* it comes back: refreshed, the reader reads it again */
    pid = tcpsrv_start(zRemoteDb, port);
    CHECK(pid > 0);
    c.live = 3;
    CHECK_INT(xw_rdb_refresh(r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_live(r), 3);
    CHECK_INT(xw_rdb_reopen(r, zErr, sizeof zErr), PS_OK); /* the local shard's new revision */
    CHECK_INT(xw_rdb_doccount(r), 21);
    if (pid > 0) tcpsrv_stop(pid);
    xw_q_free(q);
    xw_rdb_close(r);
    xw_wdb_close(wl);
}

int main(void)
{
    char zDir[] = "/tmp/test_xw_XXXXXX";
    char zErr[256], zPath[300];
    xw_wdb *w = NULL, *w2 = NULL;
    xw_rdb *r = NULL;
    CHECK(mkdtemp(zDir) != NULL);
    snprintf(zPath, sizeof zPath, "%s/db", zDir);

    /* A path that is a file, not a database: an error with a message. */
    char zFile[300];
    snprintf(zFile, sizeof zFile, "%s/file", zDir);
    FILE *f = fopen(zFile, "w");
    fputs("not a database", f);
    fclose(f);
    CHECK(xw_wdb_open(zFile, &w, zErr, sizeof zErr) != PS_OK);
    CHECK(w == NULL);
    CHECK(strlen(zErr) > 0);
    const char *azBad[] = {zFile};
    CHECK(xw_rdb_open(azBad, 1, &r, zErr, sizeof zErr) != PS_OK);

    CHECK_INT(xw_wdb_open(zPath, &w, zErr, sizeof zErr), PS_OK);
    /* A second writer on the same database is refused, not crashed. */
    CHECK_INT(xw_wdb_open(zPath, &w2, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "locked");

    const char *azWords[][3] = {{"red", "apple", "2017"}, {"green", "apple", "2018"}, {"red", "car", "2019"}};
    for (int i = 0; i < 3; i++) {
        xw_doc *d = xw_doc_new();
        char zId[16], zData[32];
        snprintf(zId, sizeof zId, "Q%d", i);
        snprintf(zData, sizeof zData, "doc%d", i);
        xw_doc_add_boolean(d, zId);
        xw_doc_add_posting(d, azWords[i][0], strlen(azWords[i][0]), 1);
        xw_doc_add_posting(d, azWords[i][1], strlen(azWords[i][1]), 2);
        xw_doc_set_value(d, 1, azWords[i][2], 4);
        xw_doc_set_data(d, zData, strlen(zData));
        int replaced = -1;
        CHECK_INT(xw_wdb_replace(w, zId, d, &replaced, zErr, sizeof zErr), PS_OK);
        CHECK_INT(replaced, 0);
        if (i == 0) {
            CHECK_INT(xw_wdb_replace(w, zId, d, &replaced, zErr, sizeof zErr), PS_OK);
            CHECK_INT(replaced, 1);
        }
        xw_doc_free(d);
    }
    char *z;
    size_t n;
    CHECK_INT(xw_wdb_get_data(w, "Q1", &z, &n, zErr, sizeof zErr), PS_OK);  /* uncommitted */
    CHECK_STR(z, "doc1");
    px_free(z);
    CHECK_INT(xw_wdb_get_data(w, "Q9", &z, &n, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_doccount(w), 3);

    const char *azPath[] = {zPath};
    CHECK_INT(xw_rdb_open(azPath, 1, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 3);
    CHECK_INT(xw_rdb_termfreq(r, "apple"), 2);

    /* Phrase: in order and adjacent. */
    xw_query *a[2] = {xw_q_term("red", 3), xw_q_term("apple", 5)};
    xw_query *pPhrase = xw_q_phrase(a, 2);
    xw_query *b[2] = {a[1], a[0]};
    xw_query *pRev = xw_q_phrase(b, 2);
    xw_search_opts o = {0, 10, -1, 0, 10, NULL, 0, NULL, NULL, 1, 0, 0};
    xw_mset *m = NULL;
    CHECK_INT(xw_search(r, pPhrase, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    const char *zD;
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(n == 4 && memcmp(zD, "doc0", 4) == 0);
    CHECK_INT(xw_mset_data(m, 5, &zD, &n), PS_NOT_FOUND);
    CHECK_INT(xw_mset_value(m, 0, &zD, &n), PS_OK);
    CHECK(n == 4 && memcmp(zD, "2017", 4) == 0);
    xw_mset_free(m);
    CHECK_INT(xw_search(r, pRev, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 0);
    xw_mset_free(m);

    /* Value range, sort, facets. */
    xw_query *pRange = xw_q_value_range(1, "2018", "2019");
    unsigned aSlot[] = {1};
    xw_search_opts o2 = {0, 10, 1, 1, 10, aSlot, 1, NULL, NULL, -1, 0, 0};
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_estimated(m), 2);
    CHECK(xw_mset_exact(m));
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(memcmp(zD, "doc2", 4) == 0);  /* 2019 first, descending */
    CHECK_INT(xw_mset_facet_size(m, 0), 2);
    unsigned long c;
    xw_mset_facet_get(m, 0, 0, &zD, &n, &c);
    CHECK(n == 4 && memcmp(zD, "2018", 4) == 0 && c == 1);
    CHECK_INT(xw_mset_facet_seen(m), 2);
    xw_mset_free(m);

    /* A decider sees each candidate's values and drops what it refuses; the
     * facets count only what it keeps. */
    o2.xDecide = keep_2019;
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(memcmp(zD, "doc2", 4) == 0);
    CHECK_INT(xw_mset_facet_size(m, 0), 1);
    xw_mset_free(m);

    /* The same, unranked: candidates in index order, checked in chunks. */
    o2.nFacet = 0;
    o2.unranked = 1;
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    CHECK_INT(xw_mset_estimated(m), 1);
    CHECK(xw_mset_exact(m));
    xw_mset_free(m);

    char *zDesc = xw_q_describe(pPhrase);
    CHECK_CONTAINS(zDesc, "PHRASE 2");
    px_free(zDesc);
    CHECK(!xw_q_is_none(pPhrase));
    xw_query *pNone = xw_q_none();
    CHECK(xw_q_is_none(pNone));

    /* The reader follows the writer after reopen. */
    CHECK_INT(xw_wdb_delete(w, "Q0", zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_delete(w, "Q0", zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 3);
    CHECK_INT(xw_rdb_reopen(r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 2);
    CHECK_INT(xw_rdb_get_data(r, "Q0", &z, &n, zErr, sizeof zErr), PS_NOT_FOUND);

    xw_q_free(a[0]);
    xw_q_free(a[1]);
    xw_q_free(pPhrase);
    xw_q_free(pRev);
    xw_q_free(pRange);
    xw_q_free(pNone);
    xw_rdb_close(r);
    xw_wdb_close(w);
    test_remote(zDir);
    px_test_rmdir(zDir);
    return px_test_done();
}
