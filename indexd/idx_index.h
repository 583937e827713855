/* The index: a set of Xapian shards, each with its own writer and lock, so
 * that writes use every core; readers see all shards as one database.
 * This module is the only writer.  A record is placed in the shard chosen by
 * a hash of its 档号, so replacing by 档号 never makes a duplicate.
 *
 * Stored document data is JSON: {"r":{record},"p":{"1":{page},...}} where a
 * page object holds at least "text" (and what OCR adds: confidence, ...). */
#ifndef IDX_INDEX_H
#define IDX_INDEX_H

#include "idx_schema.h"
#include "proto_record.h"
#include "xw.h"

#include <jansson.h>

typedef struct idx_index idx_index;


typedef struct {
    int nShard;          /* 1..16 */
    unsigned commitEvery; /* commit a shard after this many pending changes */
    int readOnly;        /* 1: no writers (another process may be writing) */
    unsigned commitDelayMs; /* uncommitted changes are committed after this
                             * long without a write to their shard (0: 1000) */
} idx_index_opts;

/* Open or create the index in directory zDir (shards in zDir/shard-N).  The
 * shard count is fixed when the index is created: a different nShard later is
 * PS_CONFIG. */
int idx_index_open(const char *zDir, const idx_index_opts *pOpts, idx_index **ppOut,
                   char *zErr, size_t nErr);
/* Shards on other machines, each served by `xapian-tcpsrv --writable`
 * (README.md, 多台机器).  This process stays the only writer and places a
 * record by the same hash of its 档号; the list is written in
 * zDir/remote_shards with each shard's UUID when the index is made, so that
 * another list (count or order: the routing would change) is refused with
 * PS_CONFIG, while the same shards at other addresses are accepted once
 * their UUIDs say so.  Readers read the same servers (each connection is a
 * process of xapian-tcpsrv's own, and it takes the write lock only for the
 * connection that asks to write).  A shard that does not answer within
 * timeoutMs is down: searches go on over the others and say so, reads and
 * writes of its records are PS_UNAVAILABLE naming it, and it is tried again
 * at most every IDX_RETRY_MS by the next request. */
typedef struct {
    const char *zShards;  /* "tcp:HOST:PORT,…" (NULL or "": local shards in zDir) */
    unsigned timeoutMs;   /* Xapian's timeout and connect timeout (0: 5000) */
} idx_remote_opts;
#define IDX_RETRY_MS 3000.0
int idx_index_open_remote(const char *zDir, const idx_index_opts *pOpts, const idx_remote_opts *pRemote,
                          idx_index **ppOut, char *zErr, size_t nErr);
/* Commit what is pending and close. */
void idx_index_close(idx_index *p);
/* 1 when the index was opened read-only (a replica): every write is
 * PS_UNAVAILABLE ("只读副本…"). */
int idx_index_read_only(const idx_index *p);
/* The shards and their state for /healthz: [{"shard","state":"up"|"down",
 * "since","error"}] (a new reference; "since" and "error" when down), and
 * in *pnDown how many are down. */
json_t *idx_index_health(idx_index *p, int *pnDown);
/* After a search by the calling thread: when its reader could not read
 * every shard, set "degraded": true, "missing_shards": ["tcp:…"] and a
 * "notice" for people in pOut. */
void idx_index_note_degraded(idx_index *p, json_t *pOut);
/* What needs every record (the reports, the timed test's draws): PS_OK when
 * the calling thread's reader reads every shard, else PS_UNAVAILABLE with
 * zErr naming the missing ones.  Call it before and after the work. */
int idx_index_complete(idx_index *p, char *zErr, size_t nErr);

/* A check made under the shard's lock together with the write, so that no
 * other write slips between them: the caller's rules (idx_access_write) on
 * the stored record.  bOld: a record with this 档号 is stored; zOld its
 * 密级 ("" none; NULL when its stored data cannot be read); zNew the 密级
 * the write leaves (NULL: unchanged).  Returns PS_OK to write, or the
 * status the write then returns (PS_NOT_FOUND, PS_FORBIDDEN) with zErr. */
typedef struct {
    int (*xAllow)(void *ctx, const char *zCode, int bOld, const char *zOld, const char *zNew, char *zErr,
                  size_t nErr);
    void *pCtx;
    const char *zBy;   /* who writes, for the record's history (NULL: not known) */
    const char *zFrom; /* what the write comes from (a catalog's name), for the history (NULL: not said) */
} idx_guard;

/* A record that replaces one with other catalog values keeps them in its
 * stored data's history: "h": [{"at","source","old":{record},"changed":
 * [{"field","key","kept","offered"}]}], oldest first. */
/* Write one checked record (proto_record_check() passed).  Page texts stored
 * for it are kept; pPages (may be NULL) is an object {"n":{page},...} of
 * pages to set as well.  *pReplaced: whether the record existed.  pGuard
 * may be NULL (no check).  Stored data that cannot be read is kept aside
 * in <dir>/damaged/ before it is replaced, never lost. */
int idx_index_put(idx_index *p, const proto_record *r, const json_t *pPages, const idx_guard *pGuard,
                  int *pReplaced, char *zErr, size_t nErr);
/* Several records at once, each shard's share written by a thread of its
 * own.  Each item gets its own status (a row the index or the guard
 * refuses does not stop the others); every shard is committed at the end
 * when commit is set, whatever its items' fate.  Returns PS_OK, or the
 * status of a failure that is no row's own (a commit that failed), with
 * zErr set. */
typedef struct {
    const proto_record *r;  /* checked */
    const json_t *pPages;   /* may be NULL */
    int keep;               /* 1: a stored record that differs in a catalog field is kept,
                             * and the item is a conflict (rc PS_CONFLICT, pConflict) */
    const char *zSource;    /* what the write comes from, for the record's history */
    const json_t *pFindings; /* the findings of the row (NULL: none), kept with the record as
                              * "f" until a row without them replaces it */
    unsigned absent;        /* 1 << proto_field of each field the row does not carry (its
                             * catalog has no such column): the stored value stays */
    int rc;                 /* out */
    int replaced;           /* out: a record with this 档号 was stored before */
    int changed;            /* out: the stored record's catalog values changed (history kept) */
    int linked;             /* out: it linked a record of scans that waited for its row (待挂接) */
    unsigned filled;        /* out: fields of `absent` that the stored record's values filled */
    json_t *pConflict;      /* out, with keep: [{"field","key","kept","offered"}] (yours) */
    char zErr[160];         /* out, when rc != PS_OK */
} idx_put_item;

int idx_index_put_batch(idx_index *p, idx_put_item *a, size_t n, int commit, const idx_guard *pGuard, char *zErr,
                        size_t nErr);

/* Set page n of an existing record (PS_NOT_FOUND if the record is absent).
 * pPage must hold "text" (a string). */
int idx_index_put_page(idx_index *p, const char *zCode, unsigned n, const json_t *pPage, const idx_guard *pGuard,
                       int *pReplaced, char *zErr, size_t nErr);
/* The same, but a record absent is made from the 档号's parts and marked
 * as waiting for its catalog row (待挂接: data "u" {"at", "source"}, term
 * IDX_TERM_UNLINKED), zSource (not NULL) saying where its scans came
 * from.  The first catalog row or edit that writes it links it: no
 * conflict, a history entry, the mark gone. */
int idx_index_put_page_unlinked(idx_index *p, const char *zCode, unsigned n, const json_t *pPage, const char *zSource,
                                const idx_guard *pGuard, int *pReplaced, char *zErr, size_t nErr);
int idx_index_delete(idx_index *p, const char *zCode, const idx_guard *pGuard, char *zErr, size_t nErr);
/* Commit every shard with pending changes; readers see them afterwards. */
int idx_index_commit(idx_index *p, char *zErr, size_t nErr);
/* Every write gets the next number of a sequence: idx_index_seq() is the
 * last one given, idx_index_durable() the highest number up to which every
 * write is committed (a loader writing with commit=0 knows from these
 * which of its writes a crash can no longer lose). */
unsigned long long idx_index_seq(idx_index *p);
unsigned long long idx_index_durable(idx_index *p);
/* The numbers count from the opening of the index; this tells one opening
 * from another (a loader whose writes were acknowledged under another
 * epoch and never seen durable must send them again). */
long long idx_index_epoch(idx_index *p);

/* The calling thread's reader, moved to the latest commit if needed.  It
 * belongs to the thread and lives until the thread ends or the index closes. */
int idx_index_reader(idx_index *p, xw_rdb **ppOut, char *zErr, size_t nErr);
/* Stored data of a record, parsed: a new reference, or NULL with the status
 * in *pRc (PS_NOT_FOUND if absent, PS_INDEX if the data cannot be read,
 * PS_UNAVAILABLE naming the shard when the remote shard its 档号 is placed
 * on does not answer; the same for idx_index_classification()). */
json_t *idx_index_get(idx_index *p, const char *zCode, int *pRc, char *zErr, size_t nErr);
unsigned long idx_index_count(idx_index *p);
/* The 密级 of a stored record ("" when it has none) from its value slot,
 * which reads fast and stays readable when the stored data does not:
 * PS_OK, PS_NOT_FOUND, or another error with zErr. */
int idx_index_classification(idx_index *p, const char *zCode, char *zOut, size_t nOut, char *zErr, size_t nErr);
/* Parse stored document data (NUL bytes written by older versions are
 * accepted): a new reference or NULL. */
json_t *idx_index_parse(const char *z, size_t n);

/* The boolean (filter) term of a field's value: prefix + value, or, for a
 * value too long for a term, prefix + its first bytes + "#" + a hash of the
 * whole, so that the same value always makes the same term.  Used by the
 * indexer and by every query that filters. */
void idx_bool_term(char *zOut, size_t nOut, const char *zPrefix, const char *zValue);

/* Compact the local shards of the index in zDir, for an index loaded in
 * bulk and then mostly read (half the size or less): each shard is copied
 * compacted beside itself, swapped in atomically, the old copy removed.
 * No indexd may have the index open (PS_CONFLICT, taken from the shards'
 * write locks, held throughout).  Remote shards are compacted on their own
 * machines (xapian-compact): PS_CONFIG.  pLine (may be NULL) is told each
 * shard's sizes, in Chinese, for people. */
int idx_index_compact(const char *zDir, void (*xLine)(void *ctx, const char *zLine), void *pLineCtx, char *zErr,
                      size_t nErr);


#endif
