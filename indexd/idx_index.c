#define _GNU_SOURCE /* renameat2 */
/* The index: shards, the write path and per-thread readers. */
#include "idx_index.h"
#include "idx_auth.h"
#include "idx_file.h"
#include "idx_log.h"
#include "idx_report.h"
#include "idx_text.h"
#include "idx_time.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_errno.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHARD_MAX 16
typedef struct {
    pthread_mutex_t mu;
    xw_wdb *pDb;
    unsigned nPending;
    double lastWriteMs;  /* monotonic time of the last change */
    unsigned long long firstPending; /* sequence number of the oldest uncommitted write, 0 none (muSeq) */
} idx_shard;

typedef struct thread_reader {
    xw_rdb *pDb;
    unsigned long gen;
    unsigned long liveGen;         /* the shards' state it was made for (remote) */
    double reopenMs;               /* read-only: when it last moved to the latest revision */
    double renewMs;                /* read-only: when it last opened every shard anew */
    struct thread_reader *pNext;
} thread_reader;

/* A remote shard's state (muState). */
typedef struct {
    int down;                      /* it did not answer: searches go on without it */
    double sinceMs;                /* monotonic, since when down */
    time_t since;                  /* the same, wall clock (for /healthz) */
    char zWhy[200];                /* why (the network error), for /healthz and the log */
    char zUuid[40];                /* the database's UUID, recorded when the index was made */
} shard_state;

struct idx_index {
    char *zDir;
    int nShard;
    int readOnly;
    unsigned commitEvery;
    idx_shard aShard[SHARD_MAX];
    char *azPath[SHARD_MAX];
    atomic_ulong gen;              /* bumped after every commit */
    pthread_key_t key;             /* the calling thread's reader */
    pthread_mutex_t muReaders;     /* guards pReaders */
    thread_reader *pReaders;       /* all readers, freed at close */
    unsigned commitDelayMs;
    pthread_t committer;           /* commits what writers left pending */
    int hasCommitter;
    pthread_mutex_t muStop;
    pthread_cond_t cvStop;
    int stop;
    pthread_mutex_t muSeq;         /* guards seq and the shards' firstPending */
    pthread_mutex_t muCommit;      /* group commit: committing, lastCommitMs */
    pthread_cond_t cvCommit;
    int committing;
    double lastCommitMs;
    unsigned long long seq;        /* the last write's number */
    long long epoch;               /* when the index was opened, microseconds (muSeq: it changes
                                    * when a remote shard's uncommitted writes are lost) */
    int remote;                    /* the shards are tcp: addresses (xapian-tcpsrv) */
    unsigned timeoutMs;            /* remote_timeout_ms */
    pthread_mutex_t muState;       /* guards aState and lastRetryMs */
    shard_state aState[SHARD_MAX];
    double lastRetryMs;            /* when down shards were last tried */
    atomic_ulong liveGen;          /* bumped when a shard goes down or comes back */
};


/* ---- documents ------------------------------------------------------ */

/* The terms of one document without position, with their counts, so that
 * each distinct term is handed to Xapian once (its per-call cost is a map
 * lookup); terms with a position are handed over as they come. */
typedef struct {
    char *zArena;       /* terms, each NUL-terminated */
    size_t nArena, nArenaAlloc;
    size_t *aOff;       /* slot -> offset in the arena + 1, 0 empty */
    unsigned *aWdf;
    size_t nSlot, nUsed;
    xw_doc *pDoc;       /* terms with a position go straight to it */
} term_bag;

static unsigned long bag_hash(const char *z, size_t n)
{
    unsigned long h = 1469598103934665603UL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)z[i]) * 1099511628211UL;
    return h;
}

static int bag_grow(term_bag *b)
{
    size_t nNew = b->nSlot ? b->nSlot * 2 : 4096;
    size_t *aOff = px_calloc(nNew, sizeof *aOff);
    unsigned *aWdf = px_calloc(nNew, sizeof *aWdf);
    if (!aOff || !aWdf) { px_free(aOff); px_free(aWdf); return PS_NOMEM; }
    for (size_t i = 0; i < b->nSlot; i++) {
        if (!b->aOff[i]) continue;
        const char *z = b->zArena + b->aOff[i] - 1;
        size_t k = bag_hash(z, strlen(z)) & (nNew - 1);
        while (aOff[k]) k = (k + 1) & (nNew - 1);
        aOff[k] = b->aOff[i];
        aWdf[k] = b->aWdf[i];
    }
    px_free(b->aOff);
    px_free(b->aWdf);
    b->aOff = aOff;
    b->aWdf = aWdf;
    b->nSlot = nNew;
    return PS_OK;
}

static int sink_term(void *ctx, const char *z, size_t n, unsigned pos)
{
    term_bag *b = ctx;
    if (pos) return xw_doc_add_posting(b->pDoc, z, n, pos);
    if ((b->nUsed + 1) * 2 > b->nSlot && bag_grow(b) != PS_OK) return PS_NOMEM;
    size_t k = bag_hash(z, n) & (b->nSlot - 1);
    while (b->aOff[k]) {
        const char *zHave = b->zArena + b->aOff[k] - 1;
        if (strncmp(zHave, z, n) == 0 && zHave[n] == 0) {
            b->aWdf[k]++;
            return 0;
        }
        k = (k + 1) & (b->nSlot - 1);
    }
    if (b->nArena + n + 1 > b->nArenaAlloc) {
        size_t nNew = b->nArenaAlloc ? b->nArenaAlloc * 2 : 65536;
        while (nNew < b->nArena + n + 1) nNew *= 2;
        char *zNew = px_realloc(b->zArena, nNew);
        if (!zNew) return PS_NOMEM;
        b->zArena = zNew;
        b->nArenaAlloc = nNew;
    }
    memcpy(b->zArena + b->nArena, z, n);
    b->zArena[b->nArena + n] = 0;
    b->aOff[k] = b->nArena + 1;
    b->aWdf[k] = 1;
    b->nArena += n + 1;
    b->nUsed++;
    return 0;
}

static int bag_flush(term_bag *b, xw_doc *pDoc)
{
    for (size_t i = 0; i < b->nSlot; i++) {
        if (!b->aOff[i]) continue;
        const char *z = b->zArena + b->aOff[i] - 1;
        int rc = xw_doc_add_term(pDoc, z, strlen(z), b->aWdf[i]);
        if (rc != PS_OK) return rc;
    }
    return PS_OK;
}

static void bag_clear(term_bag *b)
{
    px_free(b->zArena);
    px_free(b->aOff);
    px_free(b->aWdf);
    memset(b, 0, sizeof *b);
}

/* Index one catalog field or page both as free text and, when zPrefix is
 * set, under its prefix at the same positions. */
static int index_field(term_bag *pBag, unsigned *pPos, const char *z, const char *zPrefix)
{
    int rc;
    unsigned pos = *pPos;
    if (!z) return PS_OK;
    rc = idx_text_index(z, strlen(z), "", pPos, sink_term, pBag);
    if (rc == 0 && zPrefix) rc = idx_text_index(z, strlen(z), zPrefix, &pos, sink_term, pBag);
    return rc;
}

void idx_bool_term(char *zOut, size_t nOut, const char *zPrefix, const char *zValue)
{
    size_t nP = strlen(zPrefix), nV = strlen(zValue);
    if (nP + nV <= IDX_TERM_MAX) {
        snprintf(zOut, nOut, "%s%s", zPrefix, zValue);
        return;
    }
    /* FNV-1a of the whole value; the kept part ends on a character */
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < nV; i++) h = (h ^ (unsigned char)zValue[i]) * 1099511628211ULL;
    size_t nKeep = IDX_TERM_MAX - nP - 17;
    while (nKeep > 0 && ((unsigned char)zValue[nKeep] & 0xC0) == 0x80) nKeep--;
    snprintf(zOut, nOut, "%s%.*s#%016llx", zPrefix, (int)nKeep, zValue, h);
}

static int add_bool(xw_doc *pDoc, const char *zPrefix, const char *zVal)
{
    char zTerm[IDX_TERM_MAX + 32];
    if (!zVal) return PS_OK;
    idx_bool_term(zTerm, sizeof zTerm, zPrefix, zVal);
    return xw_doc_add_boolean(pDoc, zTerm);
}

static int set_value(xw_doc *pDoc, unsigned slot, const char *z)
{
    return z ? xw_doc_set_value(pDoc, slot, z, strlen(z)) : PS_OK;
}

static int doc_build(const proto_record *r, const json_t *pPages, const json_t *pExtra, xw_doc **ppDoc, char *zErr,
                  size_t nErr)
{
    json_t *pData = NULL;
    char *zData = NULL;
    term_bag bag;
    unsigned pos = 1;  /* the position of the next unit of text */
    int rc = PS_NOMEM;
    memset(&bag, 0, sizeof bag);
    xw_doc *pDoc = xw_doc_new();
    *ppDoc = NULL;
    if (!pDoc) goto out;

    pData = json_object();
    if (!pData || json_object_set_new(pData, "r", proto_record_to_json(r)) != 0 ||
        json_object_set_new(pData, "p", pPages ? json_incref((json_t *)pPages) : json_object()) != 0 ||
        (json_array_size(json_object_get(pExtra, "h")) && json_object_set(pData, "h", json_object_get(pExtra, "h")) != 0) ||
        (json_array_size(json_object_get(pExtra, "f")) && json_object_set(pData, "f", json_object_get(pExtra, "f")) != 0) ||
        (json_object_get(pExtra, "u") && json_object_set(pData, "u", json_object_get(pExtra, "u")) != 0))
        goto out;
    zData = json_dumps(pData, JSON_COMPACT);
    if (!zData) goto out;
    if ((rc = xw_doc_set_data(pDoc, zData, strlen(zData))) != PS_OK) goto out;

    char zId[PROTO_CODE_MAX + 8];
    snprintf(zId, sizeof zId, IDX_PFX_ID "%s", r->az[PF_CODE]);
    if ((rc = xw_doc_add_boolean(pDoc, zId)) != PS_OK) goto out;
    if (json_object_get(pExtra, "u") && (rc = xw_doc_add_boolean(pDoc, IDX_TERM_UNLINKED)) != PS_OK) goto out;
    static const struct { int f; const char *zPrefix; } aBool[] = {
        {PF_FONDS, IDX_PFX_FONDS}, {PF_CATEGORY, IDX_PFX_CATEGORY}, {PF_YEAR, IDX_PFX_YEAR},
        {PF_RETENTION, IDX_PFX_RETENTION}, {PF_ORG, IDX_PFX_ORG}, {PF_CARRIER, IDX_PFX_CARRIER},
        {PF_CLASSIFICATION, IDX_PFX_CLASSIFICATION}, {PF_PARENT, IDX_PFX_PARENT},
    };
    for (size_t i = 0; i < sizeof aBool / sizeof aBool[0]; i++)
        if ((rc = add_bool(pDoc, aBool[i].zPrefix, r->az[aBool[i].f])) != PS_OK) goto out;
    static const struct { int slot, f; } aVal[] = {
        {IDX_SLOT_DATE, PF_DATE}, {IDX_SLOT_YEAR, PF_YEAR}, {IDX_SLOT_FONDS, PF_FONDS},
        {IDX_SLOT_CATEGORY, PF_CATEGORY}, {IDX_SLOT_RETENTION, PF_RETENTION},
        {IDX_SLOT_CARRIER, PF_CARRIER}, {IDX_SLOT_CLASSIFICATION, PF_CLASSIFICATION},
        {IDX_SLOT_ORG, PF_ORG}, {IDX_SLOT_CODE, PF_CODE},
    };
    for (size_t i = 0; i < sizeof aVal / sizeof aVal[0]; i++)
        if ((rc = set_value(pDoc, aVal[i].slot, r->az[aVal[i].f])) != PS_OK) goto out;

    bag.pDoc = pDoc;
    if ((rc = index_field(&bag, &pos, r->az[PF_TITLE], IDX_PFX_TITLE)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &pos, r->az[PF_AUTHOR], IDX_PFX_AUTHOR)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &pos, r->az[PF_DOC_NO], IDX_PFX_DOCNO)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &pos, r->az[PF_NOTE], IDX_PFX_NOTE)) != PS_OK) goto out;
    /* Pages stored, and how many from page 1 without a gap: a record is
     * digitized when these reach its 页数 (reports). */
    {
        char zN[16];
        unsigned nStored = (unsigned)json_object_size(pPages), nRun = 0;
        for (; nRun < nStored; nRun++) {
            snprintf(zN, sizeof zN, "%u", nRun + 1);
            if (!json_object_get(pPages, zN)) break;
        }
        if ((rc = set_value(pDoc, IDX_SLOT_PAGES, r->az[PF_PAGES])) != PS_OK) goto out;
        snprintf(zN, sizeof zN, "%u", nRun);
        if ((rc = set_value(pDoc, IDX_SLOT_SCANNED, zN)) != PS_OK) goto out;
        snprintf(zN, sizeof zN, "%u", nStored);
        if ((rc = set_value(pDoc, IDX_SLOT_STORED, zN)) != PS_OK) goto out;
        /* what the record counts for in the reports, so that they count
         * without reading documents (idx_schema.h, idx_report.h) */
        char zTally[IDX_TALLY_MAX];
        int nTally = idx_report_tally(r, nRun, nStored, zTally, sizeof zTally);
        if (nTally < 0) {
            rc = PS_INVALID;
            goto out;
        }
        if ((rc = xw_doc_set_value(pDoc, IDX_SLOT_TALLY, zTally, (size_t)nTally)) != PS_OK) goto out;
        if (idx_report_digitized(r->az[PF_PAGES], nRun, nStored) &&
            (rc = xw_doc_add_boolean(pDoc, IDX_TERM_DIGITIZED)) != PS_OK)
            goto out;
        if (nStored && (rc = xw_doc_add_boolean(pDoc, IDX_TERM_HAS_PAGES)) != PS_OK) goto out;
        const char *zRet = r->az[PF_RETENTION] ? r->az[PF_RETENTION] : "";
        if (idx_report_scope(zRet, strlen(zRet), idx_report_carrier(r->az[PF_CARRIER])) == IDX_SCOPE_IN &&
            (rc = xw_doc_add_boolean(pDoc, IDX_TERM_IN_COVERAGE)) != PS_OK)
            goto out;
    }
    if (pPages) {
        const char *zKey;
        json_t *pPage;
        json_object_foreach((json_t *)pPages, zKey, pPage) {
            unsigned long n = strtoul(zKey, NULL, 10);
            json_t *pText = json_object_get(pPage, "text");
            if (n < 1 || n > IDX_PAGE_MAX || !json_is_string(pText)) continue;
            if ((rc = index_field(&bag, &pos, json_string_value(pText), NULL)) != PS_OK) goto out;
        }
    }
    if ((rc = bag_flush(&bag, pDoc)) != PS_OK) goto out;
    *ppDoc = pDoc;
    pDoc = NULL;
    rc = PS_OK;
out:
    if (rc == PS_INVALID && zErr) snprintf(zErr, nErr, "无法生成索引文档：有索引词超过索引的 245 字节上限");
    else if (rc != PS_OK && zErr) snprintf(zErr, nErr, "无法生成索引文档：%s", proto_strerror(rc));
    free(zData);
    json_decref(pData);
    bag_clear(&bag);
    xw_doc_free(pDoc);
    return rc;
}

/* ---- remote shards -------------------------------------------------- */

#define REMOTE_FILE "remote_shards"

static int shard_down(idx_index *p, int i)
{
    if (!p->remote) return 0;
    pthread_mutex_lock(&p->muState);
    int down = p->aState[i].down;
    pthread_mutex_unlock(&p->muState);
    return down;
}

/* Shard i did not answer: searches go on without it until it is tried
 * again (IDX_RETRY_MS). */
static void mark_down(idx_index *p, int i, const char *zWhy)
{
    pthread_mutex_lock(&p->muState);
    shard_state *st = &p->aState[i];
    int was = st->down;
    snprintf(st->zWhy, sizeof st->zWhy, "%s", zWhy ? zWhy : "");
    if (!was) {
        st->down = 1;
        st->sinceMs = idx_now_ms();
        st->since = time(NULL);
        p->lastRetryMs = st->sinceMs;
        atomic_fetch_add(&p->liveGen, 1);
    }
    pthread_mutex_unlock(&p->muState);
    if (!was) IDX_LOG(IDX_LOG_WARN, 0, "shard %d (%s) is down, searches go on without it: %s", i, p->azPath[i], zWhy);
}

static void mark_up(idx_index *p, int i)
{
    pthread_mutex_lock(&p->muState);
    int was = p->aState[i].down;
    p->aState[i].down = 0;
    p->aState[i].zWhy[0] = 0;
    if (was) atomic_fetch_add(&p->liveGen, 1);
    pthread_mutex_unlock(&p->muState);
    if (was) IDX_LOG(IDX_LOG_INFO, 0, "shard %d (%s) answers again", i, p->azPath[i]);
}

/* The answer for a record or write on a down shard. */
static int shard_unavailable(idx_index *p, int i, char *zErr, size_t nErr)
{
    char zAt[40] = "", zSince[64] = "";
    pthread_mutex_lock(&p->muState);
    if (p->aState[i].down) idx_iso_time(p->aState[i].since, zAt, sizeof zAt);
    pthread_mutex_unlock(&p->muState);
    if (*zAt) snprintf(zSince, sizeof zSince, "自 %s 起", zAt);
    snprintf(zErr, nErr, "分片 %s %s暂时无法访问：其上的档案现在不能读写；indexd 每隔 %d 秒再试连接，分片恢复后即可使用",
             p->azPath[i], zSince, (int)(IDX_RETRY_MS / 1000));
    return PS_UNAVAILABLE;
}

/* The mask of the shards that are up (xw's xLive). */
static unsigned live_mask(void *ctx)
{
    idx_index *p = ctx;
    unsigned m = 0;
    pthread_mutex_lock(&p->muState);
    for (int i = 0; i < p->nShard; i++)
        if (!p->aState[i].down) m |= 1u << i;
    pthread_mutex_unlock(&p->muState);
    return m;
}

static void reader_lost(void *ctx, int i, const char *zWhy)
{
    mark_down(ctx, i, zWhy);
}

/* Connect to shard i and check that it is the database recorded for it:
 * PS_OK, PS_UNAVAILABLE, or PS_CONFIG for another database (zErr). */
static int shard_verify(idx_index *p, int i, char *zErr, size_t nErr)
{
    char zUuid[40] = "";
    int rc = xw_probe(p->azPath[i], p->timeoutMs, zUuid, sizeof zUuid, NULL, zErr, nErr);
    if (rc != PS_OK) return PS_UNAVAILABLE;
    pthread_mutex_lock(&p->muState);
    int same = !p->aState[i].zUuid[0] || strcmp(p->aState[i].zUuid, zUuid) == 0;
    pthread_mutex_unlock(&p->muState);
    if (!same) {
        snprintf(zErr, nErr, "%s 上现在是另一个数据库（UUID %s），不是本索引的第 %d 个分片：不读写它", p->azPath[i], zUuid,
                 i + 1);
        return PS_CONFIG;
    }
    return PS_OK;
}

/* Down shards are tried again, by the request that comes at least
 * IDX_RETRY_MS after the last try (one request at a time). */
static void maybe_retry(idx_index *p)
{
    if (!p->remote) return;
    double now = idx_now_ms();
    unsigned down = 0;
    pthread_mutex_lock(&p->muState);
    for (int i = 0; i < p->nShard; i++)
        if (p->aState[i].down) down |= 1u << i;
    if (!down || now - p->lastRetryMs < IDX_RETRY_MS) down = 0;
    else p->lastRetryMs = now;
    pthread_mutex_unlock(&p->muState);
    for (int i = 0; i < p->nShard; i++) {
        if (!(down & (1u << i))) continue;
        char zWhy[200];
        int rc = shard_verify(p, i, zWhy, sizeof zWhy);
        if (rc == PS_OK) {
            mark_up(p, i);
        } else {
            pthread_mutex_lock(&p->muState);
            snprintf(p->aState[i].zWhy, sizeof p->aState[i].zWhy, "%s", zWhy);
            pthread_mutex_unlock(&p->muState);
            if (rc == PS_CONFIG) IDX_LOG(IDX_LOG_ERROR, 0, "shard %d: %s", i, zWhy);
        }
    }
}

/* The writer of shard i lost its connection (the shard's lock held): its
 * uncommitted changes are gone.  Loaders learn it from the epoch, which
 * changes: what they were told was written and never saw durable they
 * send again.  1 if changes were lost. */
static int writer_lost_locked(idx_index *p, int i, const char *zWhy)
{
    idx_shard *s = &p->aShard[i];
    int lost = s->nPending > 0;
    if (s->pDb) xw_wdb_close(s->pDb);
    s->pDb = NULL;
    if (lost) {
        IDX_LOG(IDX_LOG_ERROR, 0, "shard %d (%s): connection lost with %u uncommitted changes, which are lost (the epoch "
                "changes so that loaders send them again): %s", i, p->azPath[i], s->nPending, zWhy);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        pthread_mutex_lock(&p->muSeq);
        s->firstPending = 0;
        long long e = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        p->epoch = e > p->epoch ? e : p->epoch + 1;
        pthread_mutex_unlock(&p->muSeq);
        s->nPending = 0;
    }
    return lost;
}

/* Make sure shard i has a writer (its lock held): PS_OK, or
 * PS_UNAVAILABLE naming the shard. */
static int writer_ready_locked(idx_index *p, int i, char *zErr, size_t nErr)
{
    idx_shard *s = &p->aShard[i];
    if (!p->remote) return PS_OK;
    if (shard_down(p, i)) {
        if (s->pDb) writer_lost_locked(p, i, "shard down");
        return shard_unavailable(p, i, zErr, nErr);
    }
    if (s->pDb) return PS_OK;
    char zWhy[256], zUuid[40] = "";
    int rc = xw_wdb_open_shard(p->azPath[i], p->timeoutMs, &s->pDb, zWhy, sizeof zWhy);
    if (rc == PS_OK && xw_wdb_uuid(s->pDb, zUuid, sizeof zUuid, zWhy, sizeof zWhy) != PS_OK) rc = PS_UNAVAILABLE;
    if (rc == PS_OK) {
        pthread_mutex_lock(&p->muState);
        int same = !p->aState[i].zUuid[0] || strcmp(p->aState[i].zUuid, zUuid) == 0;
        pthread_mutex_unlock(&p->muState);
        if (same) return PS_OK;
        snprintf(zWhy, sizeof zWhy, "%s 上现在是另一个数据库（UUID %s），不是本索引的第 %d 个分片：不读写它", p->azPath[i],
                 zUuid, i + 1);
        IDX_LOG(IDX_LOG_ERROR, 0, "shard %d: %s", i, zWhy);
        rc = PS_CONFIG;
    }
    if (s->pDb) xw_wdb_close(s->pDb);
    s->pDb = NULL;
    if (rc == PS_CONFLICT) {
        /* another writer holds it: the shard still answers readers */
        snprintf(zErr, nErr, "分片 %s 的写锁已被占用（另一个 indexd 在写它，或其旧连接尚未结束）：%s", p->azPath[i], zWhy);
        IDX_LOG(IDX_LOG_ERROR, 0, "shard %d (%s): its write lock is taken", i, p->azPath[i]);
        return PS_UNAVAILABLE;
    }
    mark_down(p, i, zWhy);
    return shard_unavailable(p, i, zErr, nErr);
}

/* "K ADDRESS UUID" lines of zDir/remote_shards. */
static int remote_file_parse(const char *z, char azAddr[][256], char azUuid[][40], int *pn)
{
    int n = 0;
    for (const char *s = z; *s;) {
        const char *e = strchr(s, '\n');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char zLine[400];
        if (len && s[0] != '#') {
            int k;
            char zA[256], zU[40];
            if (len >= sizeof zLine) return PS_IO;
            memcpy(zLine, s, len);
            zLine[len] = 0;
            if (sscanf(zLine, "%d %255s %39s", &k, zA, zU) != 3 || k != n || n >= SHARD_MAX) return PS_IO;
            snprintf(azAddr[n], 256, "%s", zA);
            snprintf(azUuid[n], 40, "%s", zU);
            n++;
        }
        s += len + (e != NULL);
    }
    *pn = n;
    return n ? PS_OK : PS_IO;
}

static int remote_file_write(idx_index *p, char *zErr, size_t nErr)
{
    char zPath[4096];
    char z[SHARD_MAX * 320 + 512];
    size_t n = (size_t)snprintf(z, sizeof z,
                                "# indexd 的远程分片：第几行即第几个分片（档号散列到的位置），地址可以改，顺序和数据库（UUID）不能改。\n");
    for (int i = 0; i < p->nShard && n < sizeof z; i++)
        n += (size_t)snprintf(z + n, sizeof z - n, "%d %s %s\n", i, p->azPath[i], p->aState[i].zUuid);
    snprintf(zPath, sizeof zPath, "%s/" REMOTE_FILE, p->zDir);
    return idx_file_replace(zPath, z, strlen(z), 0640, zErr, nErr);
}

/* The configured list against the recorded one, each shard probed; then
 * the writers of those that answer. */
static int remote_open(idx_index *p, const idx_remote_opts *r, char *zErr, size_t nErr)
{
    char zPath[4096], zHost[256];
    char azOld[SHARD_MAX][256], azOldUuid[SHARD_MAX][40];
    int nOld = 0, have = 0, changed = 0, rc;
    unsigned port;
    p->remote = 1;
    p->timeoutMs = r->timeoutMs ? r->timeoutMs : 5000;
    snprintf(zPath, sizeof zPath, "%s/shards", p->zDir);
    if (access(zPath, F_OK) == 0) {
        snprintf(zErr, nErr, "remote_shards：数据目录 %s 中是本机分片的索引（见 %s）：不能改用远程分片，远程分片请用另一个数据目录",
                 p->zDir, zPath);
        return PS_CONFIG;
    }
    for (const char *s = r->zShards; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s), i = 0, j = len;
        const char *z = s;
        while (i < len && (z[i] == ' ' || z[i] == '\t')) i++;
        while (j > i && (z[j - 1] == ' ' || z[j - 1] == '\t')) j--;
        s += len + (e != NULL);
        if (j == i) continue;
        if (p->nShard >= SHARD_MAX) {
            snprintf(zErr, nErr, "remote_shards：至多 %d 个分片", SHARD_MAX);
            return PS_CONFIG;
        }
        if (!(p->azPath[p->nShard] = px_strndup(z + i, j - i))) return PS_NOMEM;
        pthread_mutex_init(&p->aShard[p->nShard].mu, NULL);
        p->nShard++;
        if (xw_remote_parse(p->azPath[p->nShard - 1], zHost, sizeof zHost, &port) != PS_OK) {
            snprintf(zErr, nErr, "remote_shards：“%s”不是 tcp:主机:端口 形式的分片地址", p->azPath[p->nShard - 1]);
            return PS_CONFIG;
        }
    }
    if (p->nShard == 0) {
        snprintf(zErr, nErr, "remote_shards 中没有分片地址");
        return PS_CONFIG;
    }
    snprintf(zPath, sizeof zPath, "%s/" REMOTE_FILE, p->zDir);
    char *zRec = NULL;
    size_t nRec = 0;
    rc = idx_file_read(zPath, 65536, &zRec, &nRec, zErr, nErr);
    if (rc == PS_OK) {
        have = 1;
        rc = remote_file_parse(zRec, azOld, azOldUuid, &nOld);
        px_free(zRec);
        if (rc != PS_OK) {
            snprintf(zErr, nErr, "%s 已损坏：其中每行应为“序号 地址 UUID”", zPath);
            return PS_IO;
        }
    } else if (rc != PS_NOT_FOUND) {
        return rc;
    }
    if (have && nOld != p->nShard) {
        snprintf(zErr, nErr,
                 "remote_shards：本索引由 %d 个远程分片组成（见 %s），现在配置了 %d 个：档案按档号散列到各分片，分片数改变后"
                 "档案会找不到或重复写入，因此拒绝启动；请按该文件中的顺序配置这 %d 个分片（地址可以改）",
                 nOld, zPath, p->nShard, nOld);
        return PS_CONFIG;
    }
    for (int i = 0; i < p->nShard; i++) {
        char zUuid[40] = "", zWhy[200] = "";
        int up = xw_probe(p->azPath[i], p->timeoutMs, zUuid, sizeof zUuid, NULL, zWhy, sizeof zWhy) == PS_OK;
        shard_state *st = &p->aState[i];
        if (have) {
            int same = strcmp(azOld[i], p->azPath[i]) == 0;
            if (up && strcmp(zUuid, azOldUuid[i]) != 0) {
                int other = -1;
                for (int k = 0; k < nOld; k++)
                    if (strcmp(zUuid, azOldUuid[k]) == 0) other = k;
                char zHint[160] = "";
                if (other >= 0) snprintf(zHint, sizeof zHint, "（它是记录中的第 %d 个分片：顺序变了）", other + 1);
                snprintf(zErr, nErr,
                         "remote_shards：第 %d 个分片 %s 上的数据库（UUID %s）不是本索引的第 %d 个分片（UUID %s，记录的地址 "
                         "%s）%s：档案按档号散列到各分片，换了分片或顺序，路由就会改变，因此拒绝启动；请按 %s 中的顺序配置",
                         i + 1, p->azPath[i], zUuid, i + 1, azOldUuid[i], azOld[i], zHint, zPath);
                return PS_CONFIG;
            }
            if (!up && !same) {
                snprintf(zErr, nErr,
                         "remote_shards：第 %d 个分片的地址由 %s 改为 %s，而 %s 现在无法连接（%s）：无法确认它是同一个分片"
                         "（路由会改变），因此拒绝启动；请待其可以连接后再启动",
                         i + 1, azOld[i], p->azPath[i], p->azPath[i], zWhy);
                return PS_CONFIG;
            }
            changed |= !same;
            memcpy(st->zUuid, azOldUuid[i], sizeof st->zUuid); /* both 40 bytes, NUL-terminated */
        } else {
            if (!up && !p->readOnly) {
                snprintf(zErr, nErr, "remote_shards：建立索引时每个远程分片都须可以连接，而 %s 无法连接：%s", p->azPath[i],
                         zWhy);
                return PS_UNAVAILABLE;
            }
            snprintf(st->zUuid, sizeof st->zUuid, "%s", zUuid);
        }
        if (!up) {
            st->down = 1;
            st->sinceMs = idx_now_ms();
            st->since = time(NULL);
            snprintf(st->zWhy, sizeof st->zWhy, "%s", zWhy);
            IDX_LOG(IDX_LOG_WARN, 0, "shard %d (%s) does not answer at start-up; searches go on without it: %s", i,
                    p->azPath[i], zWhy);
        }
    }
    for (int i = 0; i < p->nShard; i++)
        for (int k = i + 1; k < p->nShard; k++)
            if (p->aState[i].zUuid[0] && strcmp(p->aState[i].zUuid, p->aState[k].zUuid) == 0) {
                snprintf(zErr, nErr, "remote_shards：第 %d 个分片 %s 和第 %d 个分片 %s 是同一个数据库（UUID %s）", i + 1,
                         p->azPath[i], k + 1, p->azPath[k], p->aState[i].zUuid);
                return PS_CONFIG;
            }
    if (!p->readOnly && (!have || changed) && (rc = remote_file_write(p, zErr, nErr)) != PS_OK) return rc;
    if (changed) IDX_LOG(IDX_LOG_INFO, 0, "remote shards at new addresses, the same databases: %s updated", zPath);
    p->lastRetryMs = idx_now_ms();
    for (int i = 0; i < p->nShard && !p->readOnly; i++) {
        if (p->aState[i].down) continue;
        char zWhy[512];
        rc = writer_ready_locked(p, i, zWhy, sizeof zWhy);
        if (rc == PS_UNAVAILABLE && !p->aState[i].down) {
            /* its write lock is taken: another indexd writes it */
            snprintf(zErr, nErr, "remote_shards：%s", zWhy);
            return PS_CONFLICT;
        }
    }
    return PS_OK;
}

/* ---- opening -------------------------------------------------------- */

static void reader_forget(void *p) { (void)p; /* readers are freed at close */ }

static int make_dir(const char *z, char *zErr, size_t nErr)
{
    if (mkdir(z, 0750) == 0 || errno == EEXIST) return PS_OK;
    snprintf(zErr, nErr, "无法创建目录 %s：%s", z, strerror(errno));
    return PS_IO;
}

/* The shard count is written once, in zDir/shards, when the index is made. */
static int check_format(idx_index *p, char *zErr, size_t nErr);

static int check_shards(const char *zDir, int nShard, int readOnly, int *pnShard, char *zErr,
                        size_t nErr)
{
    char zPath[4096];
    snprintf(zPath, sizeof zPath, "%s/shards", zDir);
    FILE *f = fopen(zPath, "r");
    if (f) {
        int n = 0;
        int ok = fscanf(f, "%d", &n) == 1 && n >= 1 && n <= SHARD_MAX;
        fclose(f);
        if (!ok) {
            snprintf(zErr, nErr, "%s 已损坏：其中应写有分片数", zPath);
            return PS_IO;
        }
        if (nShard > 0 && n != nShard && !readOnly) {
            snprintf(zErr, nErr, "shards：%s 中的索引有 %d 个分片，不能按 %d 个分片打开", zDir, n, nShard);
            return PS_CONFIG;
        }
        *pnShard = n;
        return PS_OK;
    }
    if (readOnly) {
        snprintf(zErr, nErr, "%s 中没有索引", zDir);
        return PS_NOT_FOUND;
    }
    char zN[16];
    snprintf(zN, sizeof zN, "%d\n", nShard);
    if (idx_file_create(zPath, zN, strlen(zN), 0640, zErr, nErr) != PS_OK) return PS_IO;
    *pnShard = nShard;
    return PS_OK;
}

static int shard_commit_locked(idx_index *p, idx_shard *s, char *zErr, size_t nErr);

/* Bulk writers may leave changes uncommitted (many small commits are what
 * makes a large Xapian index slow to build); this thread commits a shard
 * once nobody has written to it for commitDelayMs. */
static void *committer_run(void *arg)
{
    idx_index *p = arg;
    char zErr[256];
    pthread_mutex_lock(&p->muStop);
    while (!p->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&p->cvStop, &p->muStop, &ts);
        if (p->stop) break;
        pthread_mutex_unlock(&p->muStop);
        for (int i = 0; i < p->nShard; i++) {
            idx_shard *s = &p->aShard[i];
            if (pthread_mutex_trylock(&s->mu) != 0) continue;  /* a writer is at it */
            if (s->pDb && p->remote && shard_down(p, i)) writer_lost_locked(p, i, "shard down");
            if (s->nPending > 0 && idx_now_ms() - s->lastWriteMs >= p->commitDelayMs &&
                shard_commit_locked(p, s, zErr, sizeof zErr) != PS_OK)
                fprintf(stderr, "indexd: background commit of shard %d failed: %s\n", i, zErr);
            pthread_mutex_unlock(&s->mu);
        }
        pthread_mutex_lock(&p->muStop);
    }
    pthread_mutex_unlock(&p->muStop);
    return NULL;
}

int idx_index_open(const char *zDir, const idx_index_opts *o, idx_index **ppOut, char *zErr,
                   size_t nErr)
{
    return idx_index_open_remote(zDir, o, NULL, ppOut, zErr, nErr);
}

int idx_index_open_remote(const char *zDir, const idx_index_opts *o, const idx_remote_opts *pRemote,
                          idx_index **ppOut, char *zErr, size_t nErr)
{
    int rc;
    idx_index *p;
    *ppOut = NULL;
    if (o->nShard < 0 || o->nShard > SHARD_MAX) {
        snprintf(zErr, nErr, "shards 须为 1 至 %d", SHARD_MAX);
        return PS_CONFIG;
    }
    if (!o->readOnly && (rc = make_dir(zDir, zErr, nErr)) != PS_OK) return rc;
    p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    p->zDir = px_strdup(zDir);
    p->readOnly = o->readOnly;
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        p->epoch = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    p->commitEvery = o->commitEvery ? o->commitEvery : 2000;
    p->commitDelayMs = o->commitDelayMs ? o->commitDelayMs : 1000;
    pthread_mutex_init(&p->muReaders, NULL);
    pthread_mutex_init(&p->muStop, NULL);
    pthread_mutex_init(&p->muSeq, NULL);
    pthread_mutex_init(&p->muCommit, NULL);
    pthread_cond_init(&p->cvCommit, NULL);
    pthread_cond_init(&p->cvStop, NULL);
    pthread_mutex_init(&p->muState, NULL);
    if (pthread_key_create(&p->key, reader_forget) != 0) {
        px_free(p->zDir);
        px_free(p);
        return PS_NOMEM;
    }
    if (!p->zDir) { rc = PS_NOMEM; goto fail; }
    if (pRemote && pRemote->zShards && *pRemote->zShards) {
        if ((rc = remote_open(p, pRemote, zErr, nErr)) != PS_OK) goto fail;
    } else {
        char zRemote[4096];
        snprintf(zRemote, sizeof zRemote, "%s/" REMOTE_FILE, zDir);
        if (access(zRemote, F_OK) == 0) {
            snprintf(zErr, nErr, "数据目录 %s 中的索引由远程分片组成（见 %s）：须以 remote_shards 配置启动", zDir, zRemote);
            rc = PS_CONFIG;
            goto fail;
        }
        if ((rc = check_shards(zDir, o->nShard ? o->nShard : 2, o->readOnly, &p->nShard, zErr, nErr)) != PS_OK)
            goto fail;
    }
    for (int i = 0; i < p->nShard && !p->remote; i++) {
        char zPath[4096];
        snprintf(zPath, sizeof zPath, "%s/shard-%d", zDir, i);
        if (!(p->azPath[i] = px_strdup(zPath))) { rc = PS_NOMEM; goto fail; }
        pthread_mutex_init(&p->aShard[i].mu, NULL);
        if (!p->readOnly && (rc = xw_wdb_open(zPath, &p->aShard[i].pDb, zErr, nErr)) != PS_OK)
            goto fail;
    }
    if ((rc = check_format(p, zErr, nErr)) != PS_OK) goto fail;
    if (!p->readOnly) p->hasCommitter = pthread_create(&p->committer, NULL, committer_run, p) == 0;
    *ppOut = p;
    return PS_OK;
fail:
    idx_index_close(p);
    return rc;
}

void idx_index_close(idx_index *p)
{
    char zErr[256];
    if (!p) return;
    if (p->hasCommitter) {
        pthread_mutex_lock(&p->muStop);
        p->stop = 1;
        pthread_cond_signal(&p->cvStop);
        pthread_mutex_unlock(&p->muStop);
        pthread_join(p->committer, NULL);
    }
    for (int i = 0; i < p->nShard; i++) {
        if (p->aShard[i].pDb) {
            if (xw_wdb_commit(p->aShard[i].pDb, zErr, sizeof zErr) != PS_OK)
                fprintf(stderr, "indexd: commit of shard %d at close failed: %s\n", i, zErr);
            xw_wdb_close(p->aShard[i].pDb);
        }
        pthread_mutex_destroy(&p->aShard[i].mu);
        px_free(p->azPath[i]);
    }
    for (thread_reader *t = p->pReaders, *n; t; t = n) {
        n = t->pNext;
        xw_rdb_close(t->pDb);
        px_free(t);
    }
    pthread_key_delete(p->key);
    pthread_mutex_destroy(&p->muReaders);
    pthread_mutex_destroy(&p->muStop);
    pthread_mutex_destroy(&p->muSeq);
    pthread_mutex_destroy(&p->muCommit);
    pthread_cond_destroy(&p->cvCommit);
    pthread_cond_destroy(&p->cvStop);
    pthread_mutex_destroy(&p->muState);
    px_free(p->zDir);
    px_free(p);
}

int idx_index_read_only(const idx_index *p)
{
    return p->readOnly;
}

/* ---- writing -------------------------------------------------------- */

static unsigned shard_of(const idx_index *p, const char *zCode)
{
    /* FNV-1a: stable across versions, so a record never changes shard. */
    unsigned h = 2166136261u;
    for (const unsigned char *z = (const unsigned char *)zCode; *z; z++) h = (h ^ *z) * 16777619u;
    return h % (unsigned)p->nShard;
}

static void id_term(char *zId, size_t nId, const char *zCode)
{
    snprintf(zId, nId, IDX_PFX_ID "%s", zCode);
}

static int shard_commit_locked(idx_index *p, idx_shard *s, char *zErr, size_t nErr)
{
    if (s->nPending == 0) return PS_OK;
    int rc = xw_wdb_commit(s->pDb, zErr, nErr);
    if (rc == PS_UNAVAILABLE && p->remote) {
        /* the connection broke: what was pending is lost */
        int i = (int)(s - p->aShard);
        char zWhy[256];
        snprintf(zWhy, sizeof zWhy, "%s", zErr);
        writer_lost_locked(p, i, zWhy);
        snprintf(zErr, nErr, "分片 %s 的连接中断，其未提交的写入已丢失（须重新写入）：%s", p->azPath[i], zWhy);
        return rc;
    }
    if (rc == PS_OK) {
        s->nPending = 0;
        pthread_mutex_lock(&p->muSeq);
        s->firstPending = 0;
        pthread_mutex_unlock(&p->muSeq);
        atomic_fetch_add(&p->gen, 1);
    }
    return rc;
}

/* A change was made to shard s (its lock held): number it. */
static void note_write(idx_index *p, idx_shard *s)
{
    s->lastWriteMs = idx_now_ms();
    s->nPending++;
    pthread_mutex_lock(&p->muSeq);
    p->seq++;
    if (!s->firstPending) s->firstPending = p->seq;
    pthread_mutex_unlock(&p->muSeq);
}

unsigned long long idx_index_seq(idx_index *p)
{
    pthread_mutex_lock(&p->muSeq);
    unsigned long long n = p->seq;
    pthread_mutex_unlock(&p->muSeq);
    return n;
}

unsigned long long idx_index_durable(idx_index *p)
{
    pthread_mutex_lock(&p->muSeq);
    unsigned long long n = p->seq;
    for (int i = 0; i < p->nShard; i++)
        if (p->aShard[i].firstPending && p->aShard[i].firstPending - 1 < n) n = p->aShard[i].firstPending - 1;
    pthread_mutex_unlock(&p->muSeq);
    return n;
}

long long idx_index_epoch(idx_index *p)
{
    pthread_mutex_lock(&p->muSeq); /* a remote shard's lost writes change it */
    long long e = p->epoch;
    pthread_mutex_unlock(&p->muSeq);
    return e;
}

json_t *idx_index_parse(const char *z, size_t n)
{
    return json_loadb(z, n, JSON_ALLOW_NUL, NULL);
}

/* Keep stored data that cannot be read before it is replaced: an archive
 * loses nothing, even what it cannot read. */
static void keep_damaged(idx_index *p, const char *zCode, const char *z, size_t n)
{
    char zDir[4200], zPath[4400], zErr[256];
    snprintf(zDir, sizeof zDir, "%s/damaged", p->zDir);
    if (idx_file_mkdirs(zDir, 0750, zErr, sizeof zErr) != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "%s", zErr);
        return;
    }
    snprintf(zPath, sizeof zPath, "%s/%s.%lld.json", zDir, zCode, (long long)time(NULL));
    if (idx_file_create(zPath, z, n, 0640, zErr, sizeof zErr) != PS_OK) IDX_LOG(IDX_LOG_ERROR, 0, "%s", zErr);
    else IDX_LOG(IDX_LOG_WARN, 0, "the unreadable stored data of %s was kept in %s", zCode, zPath);
}

/* Replace the document under the shard lock; the pages stored before are
 * read under the same lock so that concurrent page writes are never lost.
 * pOld is NULL when no record is stored, or when bDamaged its data cannot
 * be read. */
typedef int (*merge_fn)(void *ctx, json_t *pOld, int bDamaged, proto_record *pRec, json_t **ppPages,
                        json_t *pExtra, char *zErr, size_t nErr);

/* With the shard's lock held.  zNew: the 密级 the write leaves (for the guard). */
static int write_locked(idx_index *p, idx_shard *s, const char *zCode, const idx_guard *pGuard, const char *zNew,
                        merge_fn xMerge, void *ctx, int *pReplaced, char *zErr, size_t nErr)
{
    char zId[PROTO_CODE_MAX + 8];
    char *zOld = NULL;
    size_t nOld = 0;
    json_t *pOld = NULL, *pPages = NULL, *pExtra = NULL;
    proto_record rec;
    xw_doc *pDoc = NULL;
    int rc, bOld = 0, bDamaged = 0;

    proto_record_init(&rec);
    id_term(zId, sizeof zId, zCode);
    rc = xw_wdb_get_data(s->pDb, zId, &zOld, &nOld, zErr, nErr);
    if (rc == PS_OK) {
        bOld = 1;
        if (!(pOld = idx_index_parse(zOld, nOld))) bDamaged = 1;
    } else if (rc != PS_NOT_FOUND) {
        goto out;
    }
    if (pGuard && pGuard->xAllow) {
        const char *zOldCls = NULL;
        if (pOld) {
            zOldCls = json_string_value(json_object_get(json_object_get(pOld, "r"), "classification"));
            if (!zOldCls) zOldCls = "";
        }
        if ((rc = pGuard->xAllow(pGuard->pCtx, zCode, bOld, zOldCls, zNew, zErr, nErr)) != PS_OK) goto out;
    }
    /* the record's history ("h") and the findings of its catalog row ("f")
     * go on with it; a merge may change them */
    const json_t *pOldHist = pOld ? json_object_get(pOld, "h") : NULL, *pOldFind = pOld ? json_object_get(pOld, "f") : NULL;
    if (!(pExtra = json_pack("{s:o,s:o}", "h", json_is_array(pOldHist) ? json_deep_copy(pOldHist) : json_array(), "f",
                             json_is_array(pOldFind) ? json_deep_copy(pOldFind) : json_array()))) {
        rc = PS_NOMEM;
        goto out;
    }
    /* and so does the mark of a record still waiting for its catalog row */
    if (pOld && json_is_object(json_object_get(pOld, "u")) &&
        json_object_set_new(pExtra, "u", json_deep_copy(json_object_get(pOld, "u"))) != 0) {
        rc = PS_NOMEM;
        goto out;
    }
    if ((rc = xMerge(ctx, pOld, bDamaged, &rec, &pPages, pExtra, zErr, nErr)) != PS_OK) goto out;
    if ((rc = doc_build(&rec, pPages, pExtra, &pDoc, zErr, nErr)) != PS_OK) goto out;
    if (bDamaged) keep_damaged(p, zCode, zOld, nOld);
    if ((rc = xw_wdb_replace(s->pDb, zId, pDoc, pReplaced, zErr, nErr)) != PS_OK) goto out;
    note_write(p, s);
    if (s->nPending >= p->commitEvery) rc = shard_commit_locked(p, s, zErr, nErr);
out:
    xw_doc_free(pDoc);
    json_decref(pOld);
    json_decref(pPages);
    json_decref(pExtra);
    px_free(zOld);
    proto_record_clear(&rec);
    return rc;
}

/* A replica opened read-only takes no write. */
static int read_only_refused(char *zErr, size_t nErr)
{
    snprintf(zErr, nErr, "只读副本：本 indexd 以只读方式打开索引（read_only），不能写入；请在主 indexd 上写入，"
             "复制会把写入的内容送到副本");
    return PS_UNAVAILABLE;
}

/* A remote shard's write failed on its connection (the shard restarted, or
 * closed an idle connection): once more on a new connection; still failing,
 * the shard is down. */
static int write_failed_locked(idx_index *p, int k, int attempt, char *zErr, size_t nErr)
{
    writer_lost_locked(p, k, zErr);
    if (attempt == 0) return PS_OK; /* try again */
    mark_down(p, k, zErr);
    return shard_unavailable(p, k, zErr, nErr);
}

static int write_record(idx_index *p, const char *zCode, const idx_guard *pGuard, const char *zNew, merge_fn xMerge,
                        void *ctx, int *pReplaced, char *zErr, size_t nErr)
{
    if (p->readOnly) return read_only_refused(zErr, nErr);
    int k = (int)shard_of(p, zCode), rc;
    idx_shard *s = &p->aShard[k];
    maybe_retry(p);
    pthread_mutex_lock(&s->mu);
    for (int attempt = 0;; attempt++) {
        if ((rc = writer_ready_locked(p, k, zErr, nErr)) != PS_OK) break;
        rc = write_locked(p, s, zCode, pGuard, zNew, xMerge, ctx, pReplaced, zErr, nErr);
        if (rc != PS_UNAVAILABLE || !p->remote) break;
        if ((rc = write_failed_locked(p, k, attempt, zErr, nErr)) != PS_OK) break;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Copy a record from its JSON form (stored data is trusted: it was checked
 * when written). */
static int record_from_stored(const json_t *pRec, proto_record *r, char *zErr, size_t nErr)
{
    proto_problem prob;
    if (proto_record_from_json(r, pRec, &prob) != PS_OK) {
        snprintf(zErr, nErr, "所存的档案记录已损坏：%s", prob.zReason);
        return PS_INDEX;
    }
    return PS_OK;
}

static int copy_record(proto_record *pDst, const proto_record *pSrc)
{
    for (int f = 0; f < PF__COUNT; f++)
        if (pSrc->az[f] && proto_record_set(pDst, f, pSrc->az[f], strlen(pSrc->az[f])) != PS_OK)
            return PS_NOMEM;
    return PS_OK;
}

/* ---- the index format ---------------------------------------------- */

/* What the documents hold changes with the index design: format 2 gives
 * pair terms positions (idx_text.h) and no search form slot.  An index
 * of an older format is rebuilt from its own stored data when a writer
 * opens it, record by record, before it serves: nothing is lost, and no
 * search meets records of two designs. */
#define INDEX_FORMAT 2

typedef struct {
    char **az;
    size_t n, nAlloc;
} id_list;

static int collect_id(void *ctx, const char *z, size_t n)
{
    id_list *l = ctx;
    if (l->n == l->nAlloc) {
        size_t nNew = l->nAlloc ? l->nAlloc * 2 : 1024;
        char **a = px_realloc(l->az, nNew * sizeof *a);
        if (!a) return PS_NOMEM;
        l->az = a;
        l->nAlloc = nNew;
    }
    if (!(l->az[l->n] = px_strndup(z, n))) return PS_NOMEM;
    l->n++;
    return 0;
}

/* Write every document of shard s again from its stored data. */
static int rebuild_shard(idx_shard *s, unsigned long *pDone, char *zErr, size_t nErr)
{
    id_list l = {0};
    int rc = xw_wdb_each_term(s->pDb, IDX_PFX_ID, collect_id, &l, zErr, nErr);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    for (size_t i = 0; i < l.n && rc == PS_OK; i++) {
        char *z = NULL;
        size_t n = 0;
        xw_doc *pDoc = NULL;
        proto_record rec;
        proto_record_init(&rec);
        if ((rc = xw_wdb_get_data(s->pDb, l.az[i], &z, &n, zErr, nErr)) == PS_NOT_FOUND) rc = PS_OK;
        json_t *pOld = z ? idx_index_parse(z, n) : NULL;
        /* unreadable data keeps its document as it is: the record stays
         * found by what it was indexed with, and GET reports it damaged */
        if (rc == PS_OK && pOld && record_from_stored(json_object_get(pOld, "r"), &rec, zErr, nErr) == PS_OK &&
            (rc = doc_build(&rec, json_object_get(pOld, "p"), pOld, &pDoc, zErr, nErr)) == PS_OK &&
            (rc = xw_wdb_replace(s->pDb, l.az[i], pDoc, NULL, zErr, nErr)) == PS_OK) {
            if (++*pDone % 10000 == 0) {
                IDX_LOG(IDX_LOG_INFO, 0, "index format %d: %lu records rebuilt", INDEX_FORMAT, *pDone);
                rc = xw_wdb_commit(s->pDb, zErr, nErr);
            }
        } else if (rc == PS_OK && z) {
            IDX_LOG(IDX_LOG_WARN, 0, "index format %d: a record's stored data cannot be read; its document is kept as it was",
                    INDEX_FORMAT);
        }
        xw_doc_free(pDoc);
        json_decref(pOld);
        px_free(z);
        proto_record_clear(&rec);
    }
    for (size_t i = 0; i < l.n; i++) px_free(l.az[i]);
    px_free(l.az);
    return rc == PS_OK ? xw_wdb_commit(s->pDb, zErr, nErr) : rc;
}

/* The format file in the data folder: written when the index is made or
 * rebuilt; an index without it (or older) is rebuilt. */
static int check_format(idx_index *p, char *zErr, size_t nErr)
{
    char zPath[4096], zN[16];
    char *z = NULL;
    size_t n = 0;
    snprintf(zPath, sizeof zPath, "%s/format", p->zDir);
    int rc = idx_file_read(zPath, 64, &z, &n, zErr, nErr);
    int have = rc == PS_OK ? atoi(z) : 0;
    px_free(z);
    if (rc != PS_OK && rc != PS_NOT_FOUND) return rc;
    if (have == INDEX_FORMAT) return PS_OK;
    if (have > INDEX_FORMAT) {
        snprintf(zErr, nErr, "%s 中的索引格式为 %d，本程序只认得格式 %d 及更早的：请使用更新版本的 indexd", p->zDir,
                 have, INDEX_FORMAT);
        return PS_CONFIG;
    }
    unsigned long nDocs = 0, nDone = 0;
    if (p->readOnly) {
        snprintf(zErr, nErr, "%s 中的索引格式较旧（%d），须先由可写的 indexd 打开一次以重建", p->zDir, have);
        return PS_CONFIG;
    }
    for (int i = 0; i < p->nShard; i++)
        if (!p->aShard[i].pDb) return shard_unavailable(p, i, zErr, nErr); /* a remote shard down: no rebuild now */
    for (int i = 0; i < p->nShard; i++) nDocs += xw_wdb_doccount(p->aShard[i].pDb);
    if (nDocs) {
        double t0 = idx_now_ms();
        IDX_LOG(IDX_LOG_INFO, 0, "index format %d -> %d: rebuilding %lu records from their stored data", have,
                INDEX_FORMAT, nDocs);
        for (int i = 0; i < p->nShard; i++)
            if ((rc = rebuild_shard(&p->aShard[i], &nDone, zErr, nErr)) != PS_OK) return rc;
        IDX_LOG(IDX_LOG_INFO, 0, "index format %d: %lu records rebuilt in %.1f s", INDEX_FORMAT, nDone,
                (idx_now_ms() - t0) / 1000);
    }
    snprintf(zN, sizeof zN, "%d\n", INDEX_FORMAT);
    return idx_file_replace(zPath, zN, strlen(zN), 0640, zErr, nErr);
}

typedef struct {
    const proto_record *r;
    const json_t *pPages;
    int keep;             /* a stored record that differs is kept: PS_CONFLICT */
    const json_t *pFindings; /* of the row written (NULL: none): they replace the old ones */
    const char *zSource;  /* for the history */
    json_t **ppConflict;  /* out, with keep */
    unsigned absent;      /* fields the write does not carry: the stored values stay */
    const char *zBy;      /* who writes, for the history (NULL: not known) */
    int *pChanged;        /* out (may be NULL): catalog values changed */
    int *pLinked;         /* out (may be NULL): it linked a record of scans waiting for its row */
    unsigned *pFilled;    /* out (may be NULL): absent fields the stored values filled */
} put_ctx;

/* The catalog fields in which stored record pOldR and pNew differ:
 * [{"field","key","kept","offered"}], or an empty array (NULL: memory). */
static json_t *record_diff(const json_t *pOldR, const proto_record *pNew)
{
    json_t *pNewR = proto_record_to_json(pNew), *pDiff = json_array();
    if (!pNewR || !pDiff) {
        json_decref(pNewR);
        json_decref(pDiff);
        return NULL;
    }
    for (int f = 0; f < PF__COUNT; f++) {
        const char *zKey = proto_field_key((proto_field)f);
        json_t *a = json_object_get(pOldR, zKey), *b = json_object_get(pNewR, zKey);
        json_t *na = a && !json_is_null(a) && !(json_is_string(a) && !json_string_length(a)) ? a : NULL;
        json_t *nb = b && !json_is_null(b) && !(json_is_string(b) && !json_string_length(b)) ? b : NULL;
        if ((!na && !nb) || (na && nb && json_equal(na, nb))) continue;
        json_t *o = json_pack("{s:s,s:s,s:O,s:O}", "field", proto_field_cn((proto_field)f), "key", zKey, "kept",
                              na ? na : json_null(), "offered", nb ? nb : json_null());
        if (!o || json_array_append_new(pDiff, o) != 0) {
            json_decref(pNewR);
            json_decref(pDiff);
            return NULL;
        }
    }
    json_decref(pNewR);
    return pDiff;
}

static int merge_put(void *ctx, json_t *pOld, int bDamaged, proto_record *pRec, json_t **ppPages, json_t *pExtra,
                     char *zErr, size_t nErr)
{
    put_ctx *c = ctx;
    json_t *pPages = pOld ? json_object_get(pOld, "p") : NULL;
    (void)bDamaged; /* the record is written anew; the unreadable data is kept aside */
    if (copy_record(pRec, c->r) != PS_OK) return PS_NOMEM;
    /* a write that gives no 密级 keeps the stored one: a catalog without a
     * 密级 column must not declassify what it overwrites */
    const char *zOldCls = pOld ? json_string_value(json_object_get(json_object_get(pOld, "r"), "classification")) : NULL;
    if (!pRec->az[PF_CLASSIFICATION] && zOldCls && *zOldCls &&
        proto_record_set(pRec, PF_CLASSIFICATION, zOldCls, strlen(zOldCls)) != PS_OK)
        return PS_NOMEM;
    /* nor does a catalog without some other column erase what is stored in
     * that field: an archive loses nothing */
    const json_t *pStoredR = pOld ? json_object_get(pOld, "r") : NULL;
    unsigned filled = 0; /* fields the archive's values fill */
    for (int f = 0; c->absent && json_is_object(pStoredR) && f < PF__COUNT; f++) {
        if (!(c->absent & (1u << f)) || pRec->az[f]) continue;
        const json_t *v = json_object_get(pStoredR, proto_field_key((proto_field)f));
        char zNum[32];
        const char *z = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v)) {
            snprintf(zNum, sizeof zNum, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            z = zNum;
        }
        if (z && *z) {
            if (proto_record_set(pRec, f, z, strlen(z)) != PS_OK) return PS_NOMEM;
            filled |= 1u << f;
        }
    }
    /* a record made of scans that waited for their catalog row (待挂接) is
     * linked by the first row or edit that writes it: no conflict, and the
     * history says when and from where */
    int linking = json_object_get(pExtra, "u") != NULL;
    if (linking) json_object_del(pExtra, "u");
    if (linking && c->pLinked) *c->pLinked = 1;
    /* nothing changes behind a user's back: a row that differs from the
     * stored record is kept out (a conflict) unless replacing was asked
     * for, and a replaced record's old values go into its history */
    const json_t *pOldR = pOld ? json_object_get(pOld, "r") : NULL;
    if (json_is_object(pOldR)) {
        json_t *pDiff = record_diff(pOldR, pRec);
        if (!pDiff) return PS_NOMEM;
        if (json_array_size(pDiff) && c->keep && !linking) {
            if (c->ppConflict) *c->ppConflict = pDiff;
            else json_decref(pDiff);
            snprintf(zErr, nErr, "与档案中已有的著录不同（%zu 项）：保留档案中的著录；确认更改时请选择替换",
                     json_array_size(pDiff));
            return PS_CONFLICT;
        }
        if (json_array_size(pDiff)) {
            char zAt[40];
            idx_iso_time(time(NULL), zAt, sizeof zAt);
            char zSrc[320]; /* a source is at most 256 bytes (idx_csv) */
            snprintf(zSrc, sizeof zSrc, "%s%s", linking ? "挂接：" : "", c->zSource ? c->zSource : "");
            size_t nSrc = strlen(zSrc);
            while (nSrc > 0 && !proto_utf8_valid(zSrc, nSrc)) zSrc[--nSrc] = 0; /* never a cut character */
            json_t *o = json_pack("{s:s,s:s,s:O,s:O}", "at", zAt, "source", zSrc, "old", pOldR, "changed", pDiff);
            if (o && c->zBy && *c->zBy && json_object_set_new(o, "by", json_string(c->zBy)) != 0) {
                json_decref(o);
                o = NULL;
            }
            if (!o || json_array_append_new(json_object_get(pExtra, "h"), o) != 0) {
                json_decref(pDiff);
                return PS_NOMEM;
            }
            if (c->pChanged && !linking) *c->pChanged = 1;
        }
        json_decref(pDiff);
    }
    /* the row written brings its own findings: a corrected row clears them;
     * a field it lacked that the archive's value fills is no longer missing */
    json_t *pF = json_array();
    size_t i;
    const json_t *x;
    if (!pF) return PS_NOMEM;
    json_array_foreach(c->pFindings, i, x) {
        const char *zRule = json_string_value(json_object_get(x, "rule"));
        const char *zKey = json_string_value(json_object_get(x, "key"));
        int f = zKey ? proto_field_lookup(zKey) : -1;
        if (zRule && strcmp(zRule, "mandatory") == 0 && f >= 0 && (filled & (1u << f))) continue;
        if (json_array_append(pF, (json_t *)x) != 0) {
            json_decref(pF);
            return PS_NOMEM;
        }
    }
    if (json_object_set_new(pExtra, "f", pF) != 0) return PS_NOMEM;
    if (c->pFilled) *c->pFilled = filled;
    *ppPages = json_is_object(pPages) ? json_deep_copy(pPages) : json_object();
    if (!*ppPages) return PS_NOMEM;
    if (c->pPages && json_object_update(*ppPages, (json_t *)c->pPages) != 0) return PS_NOMEM;
    return PS_OK;
}

int idx_index_put(idx_index *p, const proto_record *r, const json_t *pPages, const idx_guard *pGuard,
                  int *pReplaced, char *zErr, size_t nErr)
{
    put_ctx c = {r, pPages, 0, NULL, "著录修改", NULL, 0, pGuard ? pGuard->zBy : NULL, NULL, NULL, NULL};
    const char *zNew = r->az[PF_CLASSIFICATION]; /* NULL: kept as stored */
    return write_record(p, r->az[PF_CODE], pGuard, zNew, merge_put, &c, pReplaced, zErr, nErr);
}

/* One shard's part of a batch, run in a thread of its own. */
typedef struct {
    idx_index *p;
    idx_shard *s;
    idx_put_item *a;
    size_t n;
    int iShard;
    int commit;
    const idx_guard *pGuard;
    int rc;
    char zErr[256];
} batch_part;

/* A remote shard's connection broke: the rows of this part written since
 * its last commit (from..to) were lost with it. */
static void batch_lost(batch_part *b, size_t from, size_t to)
{
    for (size_t j = from; j < to; j++) {
        idx_put_item *it = &b->a[j];
        if (it->rc != PS_OK || shard_of(b->p, it->r->az[PF_CODE]) != (unsigned)b->iShard) continue;
        it->rc = PS_UNAVAILABLE;
        snprintf(it->zErr, sizeof it->zErr, "分片 %.60s 的连接中断，本行未能提交，须重新写入", b->p->azPath[b->iShard]);
    }
}

static void *batch_run(void *arg)
{
    batch_part *b = arg;
    idx_index *p = b->p;
    char zDown[512];
    size_t from = 0; /* rows before this one are committed (or failed) */
    pthread_mutex_lock(&b->s->mu);
    int ready = writer_ready_locked(p, b->iShard, zDown, sizeof zDown);
    for (size_t i = 0; i < b->n; i++) {
        idx_put_item *it = &b->a[i];
        if (shard_of(p, it->r->az[PF_CODE]) != (unsigned)b->iShard) continue;
        put_ctx c = {it->r, it->pPages, it->keep, it->pFindings, it->zSource, &it->pConflict, it->absent,
                     b->pGuard ? b->pGuard->zBy : NULL, &it->changed, &it->linked, &it->filled};
        const char *zNew = it->r->az[PF_CLASSIFICATION];
        for (int attempt = 0; ready == PS_OK; attempt++) {
            it->rc = write_locked(p, b->s, it->r->az[PF_CODE], b->pGuard, zNew, merge_put, &c, &it->replaced,
                                  it->zErr, sizeof it->zErr);
            if (it->rc != PS_UNAVAILABLE || !p->remote || attempt > 0) break;
            batch_lost(b, from, i);
            from = i;
            writer_lost_locked(p, b->iShard, it->zErr);
            ready = writer_ready_locked(p, b->iShard, zDown, sizeof zDown);
        }
        if (ready != PS_OK) {
            /* the shard is down: its rows wait, the others' go on */
            it->rc = PS_UNAVAILABLE;
            snprintf(it->zErr, sizeof it->zErr, "分片 %.60s 暂时无法访问，本行未写入", p->azPath[b->iShard]);
            continue;
        }
        if (b->s->nPending == 0) from = i + 1; /* committed with it */
    }
    /* what was written is committed, whatever became of the other rows */
    if (b->commit && ready == PS_OK) {
        b->rc = shard_commit_locked(p, b->s, b->zErr, sizeof b->zErr);
        if (b->rc == PS_UNAVAILABLE && p->remote) {
            batch_lost(b, from, b->n); /* each row says it */
            b->rc = PS_OK;
        }
    }
    pthread_mutex_unlock(&b->s->mu);
    return NULL;
}

int idx_index_put_batch(idx_index *p, idx_put_item *a, size_t n, int commit, const idx_guard *pGuard, char *zErr,
                        size_t nErr)
{
    batch_part aPart[SHARD_MAX];
    pthread_t aThread[SHARD_MAX];
    int aStarted[SHARD_MAX] = {0};
    int rc = PS_OK;
    if (p->readOnly) return read_only_refused(zErr, nErr);
    maybe_retry(p);
    for (int k = 0; k < p->nShard; k++) {
        aPart[k] = (batch_part){p, &p->aShard[k], a, n, k, commit, pGuard, PS_OK, ""};
        /* Shard 0 runs here; the others in threads, so that every core works. */
        if (k > 0) aStarted[k] = pthread_create(&aThread[k], NULL, batch_run, &aPart[k]) == 0;
        if (k > 0 && !aStarted[k]) batch_run(&aPart[k]);
    }
    batch_run(&aPart[0]);
    for (int k = 0; k < p->nShard; k++) {
        if (aStarted[k]) pthread_join(aThread[k], NULL);
        if (aPart[k].rc != PS_OK && rc == PS_OK) {
            rc = aPart[k].rc;
            snprintf(zErr, nErr, "%s", aPart[k].zErr);
        }
    }
    return rc;
}

typedef struct {
    const char *zCode;
    unsigned n;
    const json_t *pPage;
    int had;
    const char *zUnlinked; /* non-NULL: an absent record is made, 待挂接, from this source */
} page_ctx;

/* A record of scans that no catalog row names yet: its catalog fields are
 * the parts of its 档号, and "u" marks it until a row links it. */
static int unlinked_record(const char *zCode, const char *zSource, proto_record *pRec, json_t *pExtra, char *zErr,
                           size_t nErr)
{
    proto_code code;
    char z[24], zAt[40];
    if (proto_code_parse(zCode, &code, zErr, nErr) != PS_OK) return PS_INVALID;
    if (proto_record_set(pRec, PF_CODE, code.zCanonical, strlen(code.zCanonical)) != PS_OK ||
        proto_record_set(pRec, PF_FONDS, code.zFonds, strlen(code.zFonds)) != PS_OK ||
        proto_record_set(pRec, PF_CATEGORY, code.zCategory, strlen(code.zCategory)) != PS_OK ||
        proto_record_set(pRec, PF_RETENTION, code.zRetention, strlen(code.zRetention)) != PS_OK ||
        (code.zOrg[0] && proto_record_set(pRec, PF_ORG, code.zOrg, strlen(code.zOrg)) != PS_OK))
        return PS_NOMEM;
    snprintf(z, sizeof z, "%d", code.year);
    if (proto_record_set(pRec, PF_YEAR, z, strlen(z)) != PS_OK) return PS_NOMEM;
    snprintf(z, sizeof z, "%d", code.itemNo);
    if (proto_record_set(pRec, PF_ITEM_NO, z, strlen(z)) != PS_OK) return PS_NOMEM;
    idx_iso_time(time(NULL), zAt, sizeof zAt);
    json_t *u = json_pack("{s:s,s:s}", "at", zAt, "source", zSource);
    if (!u || json_object_set_new(pExtra, "u", u) != 0) return PS_NOMEM;
    return PS_OK;
}

static int merge_page(void *ctx, json_t *pOld, int bDamaged, proto_record *pRec, json_t **ppPages, json_t *pExtra,
                      char *zErr, size_t nErr)
{
    page_ctx *c = ctx; /* a page leaves the record's history and findings as they are */
    char zKey[16];
    if (bDamaged) {
        snprintf(zErr, nErr, "档号为 %s 的档案所存数据无法读取：请先重新写入其目录条目", c->zCode);
        return PS_INDEX;
    }
    if (!pOld && !c->zUnlinked) {
        snprintf(zErr, nErr, "没有档号为 %s 的档案", c->zCode);
        return PS_NOT_FOUND;
    }
    int rc = pOld ? record_from_stored(json_object_get(pOld, "r"), pRec, zErr, nErr)
                  : unlinked_record(c->zCode, c->zUnlinked, pRec, pExtra, zErr, nErr);
    if (rc != PS_OK) return rc;
    json_t *pPages = json_object_get(pOld, "p");
    *ppPages = json_is_object(pPages) ? json_deep_copy(pPages) : json_object();
    if (!*ppPages) return PS_NOMEM;
    snprintf(zKey, sizeof zKey, "%u", c->n);
    const json_t *pHad = json_object_get(*ppPages, zKey);
    c->had = pHad != NULL;
    /* a scan that its delivery's catalog does not name, for a record the
     * archive has catalogued: it may add a page, never replace one */
    if (c->zUnlinked && pOld && !json_object_get(pOld, "u") && pHad &&
        !json_equal(json_object_get(pHad, "text"), json_object_get(c->pPage, "text"))) {
        snprintf(zErr, nErr,
                 "档案中已有档号 %s 的目录条目和第 %u 页，而本批目录未列此档号：扫描件未写入，保留档案中的页面；"
                 "确属此件时请将其目录条目列入本批目录后以替换方式重新导入",
                 c->zCode, c->n);
        return PS_CONFLICT;
    }
    if (json_object_set_new(*ppPages, zKey, json_deep_copy(c->pPage)) != 0) return PS_NOMEM;
    return PS_OK;
}

int idx_index_put_page(idx_index *p, const char *zCode, unsigned n, const json_t *pPage, const idx_guard *pGuard,
                       int *pReplaced, char *zErr, size_t nErr)
{
    return idx_index_put_page_unlinked(p, zCode, n, pPage, NULL, pGuard, pReplaced, zErr, nErr);
}

int idx_index_put_page_unlinked(idx_index *p, const char *zCode, unsigned n, const json_t *pPage, const char *zSource,
                                const idx_guard *pGuard, int *pReplaced, char *zErr, size_t nErr)
{
    page_ctx c = {zCode, n, pPage, 0, zSource};
    if (n < 1 || n > IDX_PAGE_MAX) {
        snprintf(zErr, nErr, "页号 %u 超出 1 至 %u 的范围", n, IDX_PAGE_MAX);
        return PS_INVALID;
    }
    int rc = write_record(p, zCode, pGuard, NULL, merge_page, &c, NULL, zErr, nErr);
    if (pReplaced) *pReplaced = c.had;
    return rc;
}

static int delete_locked(idx_index *p, idx_shard *s, const char *zCode, const idx_guard *pGuard, char *zErr,
                         size_t nErr);

int idx_index_delete(idx_index *p, const char *zCode, const idx_guard *pGuard, char *zErr, size_t nErr)
{
    if (p->readOnly) return read_only_refused(zErr, nErr);
    int k = (int)shard_of(p, zCode), rc;
    idx_shard *s = &p->aShard[k];
    maybe_retry(p);
    pthread_mutex_lock(&s->mu);
    for (int attempt = 0;; attempt++) {
        if ((rc = writer_ready_locked(p, k, zErr, nErr)) != PS_OK) break;
        rc = delete_locked(p, s, zCode, pGuard, zErr, nErr);
        if (rc != PS_UNAVAILABLE || !p->remote) break;
        if ((rc = write_failed_locked(p, k, attempt, zErr, nErr)) != PS_OK) break;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int delete_locked(idx_index *p, idx_shard *s, const char *zCode, const idx_guard *pGuard, char *zErr,
                         size_t nErr)
{
    char zId[PROTO_CODE_MAX + 8];
    id_term(zId, sizeof zId, zCode);
    int rc = PS_OK;
    if (pGuard && pGuard->xAllow) {
        char *zOld = NULL;
        size_t nOld = 0;
        rc = xw_wdb_get_data(s->pDb, zId, &zOld, &nOld, zErr, nErr);
        if (rc == PS_OK) {
            json_t *pOld = idx_index_parse(zOld, nOld);
            const char *zCls = pOld ? json_string_value(json_object_get(json_object_get(pOld, "r"), "classification")) : NULL;
            rc = pGuard->xAllow(pGuard->pCtx, zCode, 1, pOld ? (zCls ? zCls : "") : NULL, NULL, zErr, nErr);
            json_decref(pOld);
        }
        px_free(zOld);
    }
    if (rc == PS_OK) rc = xw_wdb_delete(s->pDb, zId, zErr, nErr);
    if (rc == PS_OK) note_write(p, s);
    return rc;
}

static int commit_all(idx_index *p, char *zErr, size_t nErr)
{
    int rc = PS_OK;
    for (int i = 0; i < p->nShard && !p->readOnly; i++) {
        pthread_mutex_lock(&p->aShard[i].mu);
        int rc2 = PS_OK;
        /* a shard down: what its writer held uncommitted is lost (the epoch
         * says so), and this commit cannot say it is durable */
        if (p->remote && p->aShard[i].pDb && shard_down(p, i) && writer_lost_locked(p, i, "shard down")) {
            snprintf(zErr, nErr, "分片 %s 暂时无法访问，其未提交的写入已丢失（须重新写入）", p->azPath[i]);
            rc2 = PS_UNAVAILABLE;
        }
        if (rc2 == PS_OK) rc2 = shard_commit_locked(p, &p->aShard[i], zErr, nErr);
        pthread_mutex_unlock(&p->aShard[i].mu);
        if (rc2 != PS_OK && rc == PS_OK) rc = rc2;
    }
    return rc;
}

/* Group commit: the writes of requests that arrive together are committed
 * together.  One caller commits (the leader) while the others wait for a
 * commit that covers their writes; commits come at most every
 * COMMIT_INTERVAL_MS, so a stream of small writes costs a few commits a
 * second rather than one each (every commit syncs the disk, and a reader
 * whose revision two commits have passed must start again). */
#define COMMIT_INTERVAL_MS 20.0

int idx_index_commit(idx_index *p, char *zErr, size_t nErr)
{
    unsigned long long target = idx_index_seq(p);
    int rc = PS_OK;
    if (p->readOnly) return PS_OK;
    pthread_mutex_lock(&p->muCommit);
    while (rc == PS_OK && idx_index_durable(p) < target) {
        if (p->committing) {
            pthread_cond_wait(&p->cvCommit, &p->muCommit);
            continue;
        }
        p->committing = 1;
        double wait = p->lastCommitMs + COMMIT_INTERVAL_MS - idx_now_ms();
        pthread_mutex_unlock(&p->muCommit);
        if (wait > 0) usleep((useconds_t)(wait * 1000));
        rc = commit_all(p, zErr, nErr);
        pthread_mutex_lock(&p->muCommit);
        p->committing = 0;
        p->lastCommitMs = idx_now_ms();
        pthread_cond_broadcast(&p->cvCommit);
    }
    pthread_mutex_unlock(&p->muCommit);
    return rc;
}

/* ---- reading -------------------------------------------------------- */

/* A read-only index is written by another process (xapian-replicate, a
 * writer elsewhere): its readers move to the latest revision this often. */
#define READ_ONLY_REOPEN_MS 500.0
/* … and open every shard anew this often (xapian-replicate may switch a
 * replica to a new full copy, which reopening does not follow) */
#define READ_ONLY_RENEW_MS 5000.0

static int reader_open(idx_index *p, xw_rdb **ppDb, char *zErr, size_t nErr)
{
    if (!p->remote) return xw_rdb_open((const char *const *)p->azPath, p->nShard, ppDb, zErr, nErr);
    xw_shard_cb cb = {live_mask, reader_lost, p};
    return xw_rdb_open_shards((const char *const *)p->azPath, p->nShard, p->timeoutMs, &cb, ppDb, zErr, nErr);
}

int idx_index_reader(idx_index *p, xw_rdb **ppOut, char *zErr, size_t nErr)
{
    thread_reader *t = pthread_getspecific(p->key);
    unsigned long gen = atomic_load(&p->gen);
    int rc;
    maybe_retry(p);
    unsigned long liveGen = atomic_load(&p->liveGen);
    if (!t) {
        t = px_calloc(1, sizeof *t);
        if (!t) return PS_NOMEM;
        rc = reader_open(p, &t->pDb, zErr, nErr);
        if (rc != PS_OK) {
            px_free(t);
            return rc;
        }
        t->gen = gen;
        t->liveGen = liveGen;
        t->reopenMs = t->renewMs = idx_now_ms();
        pthread_mutex_lock(&p->muReaders);
        t->pNext = p->pReaders;
        p->pReaders = t;
        pthread_mutex_unlock(&p->muReaders);
        pthread_setspecific(p->key, t);
    } else {
        /* shards that went down or came back since */
        if (t->liveGen != liveGen) {
            if ((rc = xw_rdb_refresh(t->pDb, zErr, nErr)) != PS_OK) return rc;
            t->liveGen = liveGen;
        }
        if (p->readOnly && !p->remote && idx_now_ms() - t->renewMs >= READ_ONLY_RENEW_MS) {
            if ((rc = xw_rdb_renew(t->pDb, zErr, nErr)) != PS_OK) return rc;
            t->renewMs = t->reopenMs = idx_now_ms();
        }
        if (t->gen != gen || (p->readOnly && idx_now_ms() - t->reopenMs >= READ_ONLY_REOPEN_MS)) {
            rc = xw_rdb_reopen(t->pDb, zErr, nErr);
            /* a replica whose database was copied anew: open it again */
            if (rc != PS_OK && p->readOnly && !p->remote) rc = xw_rdb_renew(t->pDb, zErr, nErr);
            if (rc != PS_OK) return rc;
            t->gen = gen;
            t->reopenMs = idx_now_ms();
        }
    }
    *ppOut = t->pDb;
    return PS_OK;
}

/* The shards the calling thread's reader could not read (a mask; 0 when
 * local or when it read all). */
static unsigned reader_missing(idx_index *p)
{
    thread_reader *t = pthread_getspecific(p->key);
    unsigned all = p->nShard >= 32 ? ~0u : (1u << p->nShard) - 1;
    if (!p->remote) return 0;
    if (!t) return live_mask(p) ^ all;
    return ~xw_rdb_live(t->pDb) & all;
}

/* A record was not found, or could not be read: when its shard is one the
 * reader could not read, that is what the caller learns. */
static int record_shard_check(idx_index *p, const char *zCode, int rc, char *zErr, size_t nErr)
{
    if (!p->remote || (rc != PS_NOT_FOUND && rc != PS_UNAVAILABLE)) return rc;
    int k = (int)shard_of(p, zCode);
    if (!(reader_missing(p) & (1u << k))) return rc;
    return shard_unavailable(p, k, zErr, nErr);
}

json_t *idx_index_health(idx_index *p, int *pnDown)
{
    json_t *a = json_array();
    int nDown = 0;
    if (!a) return NULL;
    maybe_retry(p);
    pthread_mutex_lock(&p->muState);
    for (int i = 0; i < p->nShard; i++) {
        const shard_state *st = &p->aState[i];
        const char *zName = p->azPath[i];
        if (!p->remote) zName = strrchr(zName, '/') ? strrchr(zName, '/') + 1 : zName;
        json_t *o = json_pack("{s:s,s:s}", "shard", zName, "state", p->remote && st->down ? "down" : "up");
        if (o && p->remote && st->down) {
            char zAt[40];
            idx_iso_time(st->since, zAt, sizeof zAt);
            json_object_set_new(o, "since", json_string(zAt));
            json_object_set_new(o, "error", json_string(st->zWhy));
            nDown++;
        }
        if (o) json_array_append_new(a, o);
    }
    pthread_mutex_unlock(&p->muState);
    if (pnDown) *pnDown = nDown;
    return a;
}

void idx_index_note_degraded(idx_index *p, json_t *pOut)
{
    unsigned miss = reader_missing(p);
    if (!miss || !pOut) return;
    json_t *a = json_array();
    char zList[SHARD_MAX * 80] = "";
    size_t n = 0;
    for (int i = 0; i < p->nShard && a; i++) {
        if (!(miss & (1u << i))) continue;
        json_array_append_new(a, json_string(p->azPath[i]));
        n += (size_t)snprintf(zList + n, n < sizeof zList ? sizeof zList - n : 0, "%s%.70s", n ? "、" : "",
                              p->azPath[i]);
        if (n >= sizeof zList) n = sizeof zList - 1;
    }
    char zNotice[sizeof zList + 300];
    snprintf(zNotice, sizeof zNotice,
             "部分分片暂时无法访问（%s）：本次结果只含其余分片中的档案，总数和分面统计偏少；分片恢复后结果即完整", zList);
    json_object_set_new(pOut, "degraded", json_true());
    json_object_set_new(pOut, "missing_shards", a);
    json_object_set_new(pOut, "notice", json_string(zNotice));
}

int idx_index_complete(idx_index *p, char *zErr, size_t nErr)
{
    xw_rdb *pDb;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc != PS_OK) return rc;
    unsigned miss = reader_missing(p);
    if (!miss) return PS_OK;
    char zList[SHARD_MAX * 80] = "";
    size_t n = 0;
    for (int i = 0; i < p->nShard; i++) {
        if (!(miss & (1u << i))) continue;
        n += (size_t)snprintf(zList + n, n < sizeof zList ? sizeof zList - n : 0, "%s%.70s", n ? "、" : "",
                              p->azPath[i]);
        if (n >= sizeof zList) n = sizeof zList - 1;
    }
    snprintf(zErr, nErr, "分片 %s 暂时无法访问：此项须统计全部档案，分片恢复后再试（indexd 每隔 %d 秒再试连接）", zList,
             (int)(IDX_RETRY_MS / 1000));
    return PS_UNAVAILABLE;
}

json_t *idx_index_get(idx_index *p, const char *zCode, int *pRc, char *zErr, size_t nErr)
{
    char zId[PROTO_CODE_MAX + 8];
    xw_rdb *pDb;
    char *z = NULL;
    size_t n = 0;
    json_t *pOut = NULL;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc == PS_OK) {
        id_term(zId, sizeof zId, zCode);
        rc = xw_rdb_get_data(pDb, zId, &z, &n, zErr, nErr);
        rc = record_shard_check(p, zCode, rc, zErr, nErr);
    }
    if (rc == PS_OK) {
        pOut = idx_index_parse(z, n);
        if (!pOut) {
            snprintf(zErr, nErr, "档号为 %s 的档案所存数据已损坏", zCode);
            rc = PS_INDEX;
        }
    }
    px_free(z);
    *pRc = rc;
    return pOut;
}

int idx_index_classification(idx_index *p, const char *zCode, char *zOut, size_t nOut, char *zErr, size_t nErr)
{
    char zId[PROTO_CODE_MAX + 8];
    xw_rdb *pDb;
    char *z = NULL;
    size_t n = 0;
    int rc = idx_index_reader(p, &pDb, zErr, nErr);
    if (rc != PS_OK) return rc;
    id_term(zId, sizeof zId, zCode);
    rc = xw_rdb_get_value(pDb, zId, IDX_SLOT_CLASSIFICATION, &z, &n, zErr, nErr);
    rc = record_shard_check(p, zCode, rc, zErr, nErr);
    if (rc == PS_OK) snprintf(zOut, nOut, "%.*s", (int)n, z);
    px_free(z);
    return rc;
}

unsigned long idx_index_count(idx_index *p)
{
    xw_rdb *pDb;
    char zErr[64];
    if (idx_index_reader(p, &pDb, zErr, sizeof zErr) != PS_OK) return 0;
    return xw_rdb_doccount(pDb);
}

/* ---- compaction ----------------------------------------------------- */

/* Bytes of the files in a folder (a Xapian shard has no sub-folders). */
static unsigned long long dir_bytes(const char *zDir)
{
    unsigned long long n = 0;
    DIR *d = opendir(zDir);
    struct dirent *e;
    char zPath[4096];
    struct stat st;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL) {
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
        if (e->d_name[0] != '.' && stat(zPath, &st) == 0 && S_ISREG(st.st_mode)) n += (unsigned long long)st.st_size;
    }
    closedir(d);
    return n;
}

static void remove_dir(const char *zDir)
{
    DIR *d = opendir(zDir);
    struct dirent *e;
    char zPath[4096];
    if (!d) return;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(zPath, sizeof zPath, "%s/%s", zDir, e->d_name);
            unlink(zPath);
        }
    closedir(d);
    rmdir(zDir);
}

int idx_index_compact(const char *zDir, void (*xLine)(void *ctx, const char *zLine), void *pLineCtx, char *zErr,
                      size_t nErr)
{
    char zPath[4096], zNew[4200], zLine[600];
    xw_wdb *apLock[SHARD_MAX] = {0};
    int nShard = 0, rc;
    snprintf(zPath, sizeof zPath, "%s/remote_shards", zDir);
    if (access(zPath, F_OK) == 0) {
        snprintf(zErr, nErr, "%s 的索引分片在其他机器上：请在各分片机器上停下 xapian-tcpsrv 后用 xapian-compact 压缩", zDir);
        return PS_CONFIG;
    }
    if ((rc = check_shards(zDir, 0, 1, &nShard, zErr, nErr)) != PS_OK) return rc;
    /* the write locks keep indexd out while the copies are made and swapped */
    for (int i = 0; i < nShard && rc == PS_OK; i++) {
        snprintf(zPath, sizeof zPath, "%s/shard-%d", zDir, i);
        rc = xw_wdb_open(zPath, &apLock[i], zErr, nErr);
    }
    for (int i = 0; i < nShard && rc == PS_OK; i++) {
        snprintf(zPath, sizeof zPath, "%s/shard-%d", zDir, i);
        snprintf(zNew, sizeof zNew, "%s.compact", zPath);
        remove_dir(zNew); /* what an interrupted run left */
        unsigned long long nBefore = dir_bytes(zPath);
        double t0 = idx_now_ms();
        if ((rc = xw_compact(zPath, zNew, zErr, nErr)) != PS_OK) {
            remove_dir(zNew);
            break;
        }
        unsigned long long nAfter = dir_bytes(zNew);
        /* one atomic exchange: the shard is whole at every instant */
        if (renameat2(AT_FDCWD, zNew, AT_FDCWD, zPath, RENAME_EXCHANGE) != 0) {
            snprintf(zErr, nErr, "无法换入压缩后的分片 %s：%s", zPath, proto_errno_cn(errno));
            remove_dir(zNew);
            rc = PS_IO;
            break;
        }
        int fd = open(zDir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync(fd);
            close(fd);
        }
        remove_dir(zNew);
        snprintf(zLine, sizeof zLine, "分片 %d：%.1f MB → %.1f MB（%.1f 秒）", i, (double)nBefore / 1e6,
                 (double)nAfter / 1e6, (idx_now_ms() - t0) / 1000);
        if (xLine) xLine(pLineCtx, zLine);
    }
    for (int i = 0; i < nShard; i++) xw_wdb_close(apLock[i]);
    return rc;
}

