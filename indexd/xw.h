/* xw: the thin C layer over libxapian, the only C++ in the project.  Handles
 * are opaque; every function catches Xapian::Error, std::exception and
 * anything else at the boundary and turns it into a proto_status plus a
 * message in zErr.  Nothing C++ leaks through this header. */
#ifndef XW_H
#define XW_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xw_wdb xw_wdb;     /* one writable database (a shard) */
typedef struct xw_rdb xw_rdb;     /* a reader over one or more shards */
typedef struct xw_doc xw_doc;     /* a document being built */
typedef struct xw_query xw_query; /* a query tree node */
typedef struct xw_mset xw_mset;   /* the result of a search */

/* ---- writer ---------------------------------------------------------- */
/* Open (creating it if needed) the database in directory zPath.  Only one
 * writer may hold a database at a time: PS_CONFLICT if another has it. */
int xw_wdb_open(const char *zPath, xw_wdb **ppOut, char *zErr, size_t nErr);
/* Replace the document indexed by unique term zId (a new one if none), so
 * that writing the same record twice never makes a duplicate.  *pReplaced
 * says whether one existed.  The doc stays owned by the caller.  PS_INVALID
 * when the index cannot hold this document (a term over Xapian's length
 * limit); PS_INDEX and the others are failures of the index. */
int xw_wdb_replace(xw_wdb *p, const char *zId, const xw_doc *pDoc,
                   int *pReplaced, char *zErr, size_t nErr);
/* Delete the document with unique term zId; PS_NOT_FOUND if none. */
int xw_wdb_delete(xw_wdb *p, const char *zId, char *zErr, size_t nErr);
/* The data of the document with unique term zId, as written so far by this
 * writer (committed or not).  PS_NOT_FOUND if none.  *pz is yours: free it
 * with px_free(). */
int xw_wdb_get_data(xw_wdb *p, const char *zId, char **pz, size_t *pn,
                    char *zErr, size_t nErr);
int xw_wdb_commit(xw_wdb *p, char *zErr, size_t nErr);
unsigned long xw_wdb_doccount(xw_wdb *p);
/* Every term starting with zPrefix (committed or not), in order, handed to
 * x (a non-zero return stops: it is returned). */
typedef int (*xw_term_each_fn)(void *ctx, const char *zTerm, size_t n);
int xw_wdb_each_term(xw_wdb *p, const char *zPrefix, xw_term_each_fn x, void *ctx, char *zErr, size_t nErr);
/* Close without committing what is pending (call xw_wdb_commit first). */
void xw_wdb_close(xw_wdb *p);
/* Write a compacted copy of the database in zSrc to the new directory
 * zDst (document numbers kept): every block full, for an index that is
 * read far more than written. */
int xw_compact(const char *zSrc, const char *zDst, char *zErr, size_t nErr);

/* ---- documents ------------------------------------------------------- */
xw_doc *xw_doc_new(void);                       /* NULL if out of memory */
int xw_doc_set_data(xw_doc *p, const char *z, size_t n);
/* Terms of 1 to 245 bytes (Xapian's limit); a longer or empty one is
 * PS_INVALID and not added. */
/* A term at a position (positions start at 1). */
int xw_doc_add_posting(xw_doc *p, const char *zTerm, size_t n, unsigned pos);
/* A term without position; its within-document frequency grows by wdf. */
int xw_doc_add_term(xw_doc *p, const char *zTerm, size_t n, unsigned wdf);
/* A filter term: no weight, no position. */
int xw_doc_add_boolean(xw_doc *p, const char *zTerm);
int xw_doc_set_value(xw_doc *p, unsigned slot, const char *z, size_t n);
void xw_doc_free(xw_doc *p);

/* ---- readers --------------------------------------------------------- */
/* A reader over the nPath databases (shards) as one. */
int xw_rdb_open(const char *const *azPath, int nPath, xw_rdb **ppOut,
                char *zErr, size_t nErr);
/* Move to the latest committed revision. */
int xw_rdb_reopen(xw_rdb *p, char *zErr, size_t nErr);
unsigned long xw_rdb_doccount(xw_rdb *p);
/* Data of the document with unique term zId; PS_NOT_FOUND if none. *pz is
 * yours (px_free). */
int xw_rdb_get_data(xw_rdb *p, const char *zId, char **pz, size_t *pn,
                    char *zErr, size_t nErr);
/* Value in slot of the document with unique term zId; PS_NOT_FOUND if
 * none.  *pz is yours (px_free). */
int xw_rdb_get_value(xw_rdb *p, const char *zId, unsigned slot, char **pz, size_t *pn, char *zErr, size_t nErr);
/* Number of documents holding the term. */
unsigned long xw_rdb_termfreq(xw_rdb *p, const char *zTerm);
void xw_rdb_close(xw_rdb *p);

/* ---- shards on other machines ---------------------------------------- */
/* A shard is a directory, or "tcp:HOST:PORT": a database that
 * `xapian-tcpsrv --writable` serves on another machine (HOST a name, an
 * IPv4 address or [an IPv6 address]).  Every call on a remote shard waits
 * at most timeoutMs for an answer (and as long to connect).  A remote shard
 * that cannot be reached or stops answering is PS_UNAVAILABLE (Xapian's
 * NetworkError), never a hang. */
int xw_shard_is_remote(const char *zShard);
/* Split "tcp:HOST:PORT" (brackets of an IPv6 HOST removed): PS_OK or
 * PS_INVALID. */
int xw_remote_parse(const char *zShard, char *zHost, size_t nHost, unsigned *pPort);
/* The writer of one shard, a directory or a remote one. */
int xw_wdb_open_shard(const char *zShard, unsigned timeoutMs, xw_wdb **ppOut, char *zErr, size_t nErr);
/* The UUID Xapian gave the database when it was made (36 characters, into
 * z of at least 37 bytes): what tells one shard from another whatever its
 * address. */
int xw_wdb_uuid(xw_wdb *p, char *z, size_t n, char *zErr, size_t nErr);
/* Connect to one shard, read its UUID and document count, disconnect:
 * PS_OK, or PS_UNAVAILABLE (it does not answer) or another status. */
int xw_probe(const char *zShard, unsigned timeoutMs, char *zUuid, size_t nUuid, unsigned long *pDocs, char *zErr,
             size_t nErr);

/* A reader over shards some of which may fail.  It reads the shards that
 * xLive says are up (bit i: azShard[i]); when a remote one fails during a
 * call (Xapian 1.4 throws NetworkError for the whole multi-database, not
 * saying which), the reader connects to each live shard again, tells
 * xDown of each one that does not answer, and runs the call again over
 * those that do (twice at most; a call whose decider already saw documents
 * is not run again).  Callbacks come from the reader's own thread. */
typedef struct {
    unsigned (*xLive)(void *ctx);
    void (*xDown)(void *ctx, int iShard, const char *zWhy);
    void *pCtx;
} xw_shard_cb;
int xw_rdb_open_shards(const char *const *azShard, int nShard, unsigned timeoutMs, const xw_shard_cb *pCb,
                       xw_rdb **ppOut, char *zErr, size_t nErr);
/* The shards the reader reads now (bit i: shard i). */
unsigned xw_rdb_live(const xw_rdb *p);
/* Open every shard anew, in place (the handle stays valid): a replica
 * whose database xapian-replicate copied anew is read from its new copy. */
int xw_rdb_renew(xw_rdb *p, char *zErr, size_t nErr);
/* Read the shards xLive gives now, if they are not those read: the ones
 * that went down are dropped, those that came back are connected to. */
int xw_rdb_refresh(xw_rdb *p, char *zErr, size_t nErr);

/* ---- queries --------------------------------------------------------- */
/* Query constructors return NULL only when out of memory.  They copy what
 * they are given: the caller still frees each argument with xw_q_free(). */
enum { XW_AND, XW_OR, XW_AND_NOT, XW_FILTER, XW_AND_MAYBE };
xw_query *xw_q_term(const char *zTerm, size_t n);
/* The terms of apSub at consecutive positions, in order. */
xw_query *xw_q_phrase(xw_query *const *apSub, int n);
xw_query *xw_q_combine(int op, xw_query *const *apSub, int n);
/* Documents whose value in slot lies in [zLo, zHi] (string order). */
xw_query *xw_q_value_range(unsigned slot, const char *zLo, const char *zHi);
xw_query *xw_q_scale(const xw_query *pSub, double factor);
xw_query *xw_q_all(void);
xw_query *xw_q_none(void);
/* Documents holding any term that starts with zPrefix. */
xw_query *xw_q_wildcard(const char *zPrefix);
int xw_q_is_none(const xw_query *p);
/* Xapian's description of the query, for tests and debugging.  px_free it. */
char *xw_q_describe(const xw_query *p);
void xw_q_free(xw_query *p);

/* ---- search ---------------------------------------------------------- */
/* A document offered to a decider during a search. */
typedef struct xw_docview xw_docview;
/* The value in slot (0-15) of that document ("" if none).  Valid until the
 * decider returns.  PS_OK, or PS_INVALID for a slot out of range. */
int xw_docview_value(xw_docview *p, unsigned slot, const char **pz, size_t *pn);
/* Return 1 to keep the document among the matches, 0 to drop it. */
typedef int (*xw_decide_fn)(void *ctx, xw_docview *p);

typedef struct {
    unsigned offset, limit;
    int sortSlot;           /* -1: relevance; else the value slot */
    int sortReverse;        /* 1: descending */
    unsigned checkAtLeast;  /* look at this many matches at least (counts) */
    const unsigned *aFacetSlot; /* value slots to count over the matches */
    int nFacet;
    xw_decide_fn xDecide;   /* NULL: every match counts */
    void *pDecideCtx;
    int valueSlot;          /* >= 0: also fetch this value of each hit */
    int unranked;           /* 1: no weights, in index order; the match stops
                             * as soon as it has enough (sortSlot ignored) */
    double timeLimit;       /* seconds (0: none) after which the match stops
                             * looking beyond the page (checkAtLeast) */
} xw_search_opts;

int xw_search(xw_rdb *p, const xw_query *pQuery, const xw_search_opts *pOpts,
              xw_mset **ppOut, char *zErr, size_t nErr);
unsigned xw_mset_size(const xw_mset *p);
unsigned long xw_mset_estimated(const xw_mset *p);
/* 1 if the total is exact (lower bound == upper bound). */
int xw_mset_exact(const xw_mset *p);
/* Data of the i-th hit: the pointer stays valid until xw_mset_free(). */
int xw_mset_data(const xw_mset *p, unsigned i, const char **pz, size_t *pn);
/* The value (valueSlot of the options) of the i-th hit; valid until
 * xw_mset_free(). */
int xw_mset_value(const xw_mset *p, unsigned i, const char **pz, size_t *pn);
/* Facet k (the k-th slot of aFacetSlot): number of distinct values, and the
 * j-th value with its count.  Pointers valid until xw_mset_free(). */
unsigned xw_mset_facet_size(const xw_mset *p, int k);
void xw_mset_facet_get(const xw_mset *p, int k, unsigned j, const char **pz,
                       size_t *pn, unsigned long *pCount);
/* How many matches the facet counts looked at. */
unsigned long xw_mset_facet_seen(const xw_mset *p);
void xw_mset_free(xw_mset *p);

#ifdef __cplusplus
}
#endif
#endif
