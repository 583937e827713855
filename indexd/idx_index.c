/* The index: shards, the write path and per-thread readers. */
#include "idx_index.h"
#include "idx_auth.h"
#include "idx_file.h"
#include "idx_log.h"
#include "idx_text.h"
#include "idx_time.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <errno.h>
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
    struct thread_reader *pNext;
} thread_reader;

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
    long long epoch;               /* when the index was opened, microseconds */
};


/* ---- documents ------------------------------------------------------ */

/* The terms of one document with their counts, so that each distinct term
 * is handed to Xapian once (its per-call cost is a map lookup). */
typedef struct {
    char *zArena;       /* terms, each NUL-terminated */
    size_t nArena, nArenaAlloc;
    size_t *aOff;       /* slot -> offset in the arena + 1, 0 empty */
    unsigned *aWdf;
    size_t nSlot, nUsed;
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

static int sink_term(void *ctx, const char *z, size_t n)
{
    term_bag *b = ctx;
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

/* Index one catalog field both as free text and under its prefix, and add
 * its section to the search form. */
static int index_field(term_bag *pBag, idx_form *pForm, const char *z, const char *zPrefix,
                       const char *zSep)
{
    int rc;
    if (!z) return PS_OK;
    rc = idx_text_index(z, strlen(z), "", sink_term, pBag);
    if (rc == 0 && zPrefix) rc = idx_text_index(z, strlen(z), zPrefix, sink_term, pBag);
    if (rc == 0) rc = idx_form_append(pForm, zSep, z, strlen(z));
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
    idx_form form;
    term_bag bag;
    int rc = PS_NOMEM;
    memset(&form, 0, sizeof form);
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

    if ((rc = index_field(&bag, &form, r->az[PF_TITLE], IDX_PFX_TITLE, "\x1E" IDX_TAG_TITLE)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &form, r->az[PF_AUTHOR], IDX_PFX_AUTHOR, "\x1E" IDX_TAG_AUTHOR)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &form, r->az[PF_DOC_NO], IDX_PFX_DOCNO, "\x1E" IDX_TAG_DOCNO)) != PS_OK) goto out;
    if ((rc = index_field(&bag, &form, r->az[PF_NOTE], IDX_PFX_NOTE, "\x1E" IDX_TAG_NOTE)) != PS_OK) goto out;
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
    }
    if (pPages) {
        const char *zKey;
        json_t *pPage;
        json_object_foreach((json_t *)pPages, zKey, pPage) {
            unsigned long n = strtoul(zKey, NULL, 10);
            json_t *pText = json_object_get(pPage, "text");
            if (n < 1 || n > IDX_PAGE_MAX || !json_is_string(pText)) continue;
            char zSep[24];
            snprintf(zSep, sizeof zSep, "\x1E" IDX_TAG_PAGE "%lu\x1D", n);
            if ((rc = index_field(&bag, &form, json_string_value(pText), NULL, zSep)) != PS_OK) goto out;
        }
    }
    if ((rc = bag_flush(&bag, pDoc)) != PS_OK) goto out;
    if ((rc = xw_doc_set_value(pDoc, IDX_SLOT_FORM, form.z ? form.z : "", form.n)) != PS_OK) goto out;
    *ppDoc = pDoc;
    pDoc = NULL;
    rc = PS_OK;
out:
    if (rc == PS_INVALID && zErr) snprintf(zErr, nErr, "无法生成索引文档：有索引词超过索引的 245 字节上限");
    else if (rc != PS_OK && zErr) snprintf(zErr, nErr, "无法生成索引文档：%s", proto_strerror(rc));
    free(zData);
    json_decref(pData);
    idx_form_clear(&form);
    bag_clear(&bag);
    xw_doc_free(pDoc);
    return rc;
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
    if (pthread_key_create(&p->key, reader_forget) != 0) {
        px_free(p->zDir);
        px_free(p);
        return PS_NOMEM;
    }
    if (!p->zDir) { rc = PS_NOMEM; goto fail; }
    if ((rc = check_shards(zDir, o->nShard ? o->nShard : 2, o->readOnly, &p->nShard, zErr, nErr)) != PS_OK)
        goto fail;
    for (int i = 0; i < p->nShard; i++) {
        char zPath[4096];
        snprintf(zPath, sizeof zPath, "%s/shard-%d", zDir, i);
        if (!(p->azPath[i] = px_strdup(zPath))) { rc = PS_NOMEM; goto fail; }
        pthread_mutex_init(&p->aShard[i].mu, NULL);
        if (!p->readOnly && (rc = xw_wdb_open(zPath, &p->aShard[i].pDb, zErr, nErr)) != PS_OK)
            goto fail;
    }
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
    px_free(p->zDir);
    px_free(p);
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
    return p->epoch;
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

static int write_record(idx_index *p, const char *zCode, const idx_guard *pGuard, const char *zNew, merge_fn xMerge,
                        void *ctx, int *pReplaced, char *zErr, size_t nErr)
{
    if (p->readOnly) {
        snprintf(zErr, nErr, "索引以只读方式打开，不能写入");
        return PS_CONFLICT;
    }
    idx_shard *s = &p->aShard[shard_of(p, zCode)];
    pthread_mutex_lock(&s->mu);
    int rc = write_locked(p, s, zCode, pGuard, zNew, xMerge, ctx, pReplaced, zErr, nErr);
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

static void *batch_run(void *arg)
{
    batch_part *b = arg;
    pthread_mutex_lock(&b->s->mu);
    for (size_t i = 0; i < b->n; i++) {
        idx_put_item *it = &b->a[i];
        if (shard_of(b->p, it->r->az[PF_CODE]) != (unsigned)b->iShard) continue;
        put_ctx c = {it->r, it->pPages, it->keep, it->pFindings, it->zSource, &it->pConflict, it->absent,
                     b->pGuard ? b->pGuard->zBy : NULL, &it->changed, &it->linked, &it->filled};
        const char *zNew = it->r->az[PF_CLASSIFICATION];
        it->rc = write_locked(b->p, b->s, it->r->az[PF_CODE], b->pGuard, zNew, merge_put, &c, &it->replaced,
                              it->zErr, sizeof it->zErr);
    }
    /* what was written is committed, whatever became of the other rows */
    if (b->commit) b->rc = shard_commit_locked(b->p, b->s, b->zErr, sizeof b->zErr);
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
    if (p->readOnly) {
        snprintf(zErr, nErr, "索引以只读方式打开，不能写入");
        return PS_CONFLICT;
    }
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

int idx_index_delete(idx_index *p, const char *zCode, const idx_guard *pGuard, char *zErr, size_t nErr)
{
    char zId[PROTO_CODE_MAX + 8];
    if (p->readOnly) {
        snprintf(zErr, nErr, "索引以只读方式打开，不能写入");
        return PS_CONFLICT;
    }
    id_term(zId, sizeof zId, zCode);
    idx_shard *s = &p->aShard[shard_of(p, zCode)];
    pthread_mutex_lock(&s->mu);
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
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int commit_all(idx_index *p, char *zErr, size_t nErr)
{
    int rc = PS_OK;
    for (int i = 0; i < p->nShard && !p->readOnly; i++) {
        pthread_mutex_lock(&p->aShard[i].mu);
        int rc2 = shard_commit_locked(p, &p->aShard[i], zErr, nErr);
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

int idx_index_reader(idx_index *p, xw_rdb **ppOut, char *zErr, size_t nErr)
{
    thread_reader *t = pthread_getspecific(p->key);
    unsigned long gen = atomic_load(&p->gen);
    int rc;
    if (!t) {
        t = px_calloc(1, sizeof *t);
        if (!t) return PS_NOMEM;
        rc = xw_rdb_open((const char *const *)p->azPath, p->nShard, &t->pDb, zErr, nErr);
        if (rc != PS_OK) {
            px_free(t);
            return rc;
        }
        t->gen = gen;
        pthread_mutex_lock(&p->muReaders);
        t->pNext = p->pReaders;
        p->pReaders = t;
        pthread_mutex_unlock(&p->muReaders);
        pthread_setspecific(p->key, t);
    } else if (t->gen != gen) {
        if ((rc = xw_rdb_reopen(t->pDb, zErr, nErr)) != PS_OK) return rc;
        t->gen = gen;
    }
    *ppOut = t->pDb;
    return PS_OK;
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
