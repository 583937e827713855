// xw: C wrapper over libxapian.  Every extern "C" function catches all
// exceptions and reports them as a proto_status with a message.
#include "xw.h"

extern "C" {
#include "proto_alloc.h"
#include "proto_status.h"
}

#include <xapian.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct xw_wdb { Xapian::WritableDatabase db; };
struct xw_rdb {
    Xapian::Database db;
    // With shards (xw_rdb_open_shards): each one's own handle, so that the
    // reader can be made again over another set of them.
    std::vector<std::string> shards;
    std::vector<Xapian::Database> sub;
    std::vector<char> have;             // sub[i] is open
    unsigned timeoutMs = 0;
    xw_shard_cb cb{};
    bool hasCb = false;
    bool remote = false;  // a shard is remote: Xapian runs no MatchDecider
    unsigned live = 0;    // the shards db reads
};
struct xw_doc { Xapian::Document doc; };
struct xw_query { Xapian::Query q; };
struct xw_docview {
    const Xapian::Document *pDoc;
    std::string aValue[16];
    unsigned loaded = 0;  // bit per slot
};

namespace {
// Calls the C decider; the matcher copies nothing, so one view is reused.
class CDecider : public Xapian::MatchDecider {
  public:
    CDecider(xw_decide_fn x, void *ctx) : xDecide(x), pCtx(ctx) {}
    bool operator()(const Xapian::Document &doc) const override
    {
        xw_docview v;
        v.pDoc = &doc;
        return xDecide(pCtx, &v) != 0;
    }

  private:
    xw_decide_fn xDecide;
    void *pCtx;
};
} // namespace

struct xw_mset {
    Xapian::MSet mset;
    std::vector<std::string> data;
    std::vector<std::string> values;
    std::vector<std::vector<std::pair<std::string, unsigned long>>> facets;
    unsigned long facetSeen = 0;
    bool own = false;          // counts below, not the Xapian MSet's
    unsigned long estimated = 0;
    bool exact = false;
};

namespace {

void set_err(char *zErr, size_t nErr, const std::string &s)
{
    if (zErr && nErr) std::snprintf(zErr, nErr, "%s", s.c_str());
}

// Turn the exception in flight into a status and a message.
int from_exception(char *zErr, size_t nErr)
{
    try {
        throw;
    } catch (const Xapian::DatabaseLockError &e) {
        set_err(zErr, nErr, "索引正被另一个 indexd 进程使用（同一数据目录只能运行一个 indexd）：" + e.get_msg());
        return PS_CONFLICT;
    } catch (const Xapian::DocNotFoundError &e) {
        set_err(zErr, nErr, e.get_msg());
        return PS_NOT_FOUND;
    } catch (const Xapian::NetworkError &e) {
        // a remote shard that does not answer (or answers too late)
        set_err(zErr, nErr, std::string("远程分片无法访问（") + e.get_type() + "）：" + e.get_msg());
        return PS_UNAVAILABLE;
    } catch (const Xapian::Error &e) {
        set_err(zErr, nErr, std::string("检索索引出错（") + e.get_type() + "）：" + e.get_msg());
        return PS_INDEX;
    } catch (const std::bad_alloc &) {
        set_err(zErr, nErr, "内存不足");
        return PS_NOMEM;
    } catch (const std::exception &e) {
        set_err(zErr, nErr, e.what());
        return PS_INTERNAL;
    } catch (...) {
        set_err(zErr, nErr, "内部错误（未知异常）");
        return PS_INTERNAL;
    }
}

int copy_out(const std::string &s, char **pz, size_t *pn)
{
    char *z = px_strndup(s.data(), s.size());
    if (!z) return PS_NOMEM;
    *pz = z;
    if (pn) *pn = s.size();
    return PS_OK;
}

// Data of the first document indexed by unique term zId, or PS_NOT_FOUND.
int get_by_term(const Xapian::Database &db, const char *zId, char **pz, size_t *pn)
{
    Xapian::PostingIterator it = db.postlist_begin(zId);
    if (it == db.postlist_end(zId)) return PS_NOT_FOUND;
    return copy_out(db.get_document(*it).get_data(), pz, pn);
}

// Run f() on a reader; a commit by the writer between our reads can make the
// revision we hold disappear: then reopen and try again.  Under a steady
// stream of small writes (each committed) that happens again and again, so
// try well beyond what one commit can cause before giving up.
template <typename F> int with_reopen(Xapian::Database &db, char *zErr, size_t nErr, F f)
{
    for (int attempt = 0;; attempt++) {
        try {
            return f();
        } catch (const Xapian::DatabaseModifiedError &) {
            if (attempt >= 50) return from_exception(zErr, nErr);
            // Reopening can meet a commit in progress too: that is one more
            // attempt, not a failure.
            try {
                db.reopen();
            } catch (const Xapian::DatabaseModifiedError &) {
            } catch (...) {
                return from_exception(zErr, nErr);
            }
        } catch (const Xapian::DatabaseCorruptError &) {
            // A reader two commits behind can meet a block the writer has
            // reused, which reads as corruption: only a reader that is
            // behind tries again, on the latest revision.
            bool moved = false;
            try {
                moved = db.reopen();
            } catch (...) {
            }
            if (!moved || attempt >= 50) return from_exception(zErr, nErr);
        } catch (...) {
            return from_exception(zErr, nErr);
        }
    }
}


// ---- shards on other machines ------------------------------------------

bool is_remote(const std::string &z) { return z.compare(0, 4, "tcp:") == 0; }

bool parse_remote(const std::string &z, std::string &host, unsigned &port)
{
    if (!is_remote(z)) return false;
    std::string rest = z.substr(4);
    size_t colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 >= rest.size()) return false;
    host = rest.substr(0, colon);
    std::string p = rest.substr(colon + 1);
    if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
    unsigned long v = std::strtoul(p.c_str(), nullptr, 10);
    if (v < 1 || v > 65535) return false;
    port = (unsigned)v;
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return false;
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
        return false;  // an IPv6 address goes in brackets
    }
    return true;
}

// One shard, for reading: a directory, or a connection to xapian-tcpsrv.
Xapian::Database open_shard(const std::string &z, unsigned timeoutMs)
{
    std::string host;
    unsigned port;
    if (!is_remote(z)) return Xapian::Database(z);
    if (!parse_remote(z, host, port)) throw Xapian::InvalidArgumentError("不是 tcp:主机:端口 形式的分片地址：" + z);
    return Xapian::Remote::open(host, port, timeoutMs, timeoutMs);
}

std::string why_of(const Xapian::Error &e) { return std::string(e.get_type()) + "：" + e.get_msg(); }

// Make the reader again over the shards that are up: each shard's handle is
// kept, and made anew when fresh; a remote shard that does not open is
// down.  A local shard that does not open is an error (thrown).
void rdb_build(xw_rdb *p, bool fresh)
{
    unsigned want = p->hasCb ? p->cb.xLive(p->cb.pCtx) : ~0u;
    Xapian::Database db;
    unsigned got = 0;
    for (size_t i = 0; i < p->shards.size() && i < 32; i++) {
        bool remote = is_remote(p->shards[i]);
        if (!(want & (1u << i)) || (fresh && remote)) {
            p->sub[i] = Xapian::Database();
            p->have[i] = 0;
        }
        if (!(want & (1u << i))) continue;
        if (!p->have[i]) {
            try {
                p->sub[i] = open_shard(p->shards[i], p->timeoutMs);
                p->have[i] = 1;
            } catch (const Xapian::Error &e) {
                if (!remote || !p->hasCb) throw;
                p->cb.xDown(p->cb.pCtx, (int)i, why_of(e).c_str());
                continue;
            }
        }
        db.add_database(p->sub[i]);
        got |= 1u << i;
    }
    p->db = db;
    p->live = got;
}

// Run f() on the reader; when a remote shard failed (PS_UNAVAILABLE), find
// which by connecting to each again, and run f() again over the others.
// *pUnsafe set by f() means it must not run twice (a decider saw documents).
template <typename F> int with_rdb(xw_rdb *p, char *zErr, size_t nErr, const bool *pUnsafe, F f)
{
    int rc = with_reopen(p->db, zErr, nErr, f);
    for (int attempt = 0; rc == PS_UNAVAILABLE && p->hasCb && attempt < 2 && !(pUnsafe && *pUnsafe); attempt++) {
        try {
            rdb_build(p, true);
        } catch (...) {
            return from_exception(zErr, nErr);
        }
        rc = with_reopen(p->db, zErr, nErr, f);
    }
    return rc;
}

} // namespace

extern "C" {

int xw_wdb_open(const char *zPath, xw_wdb **ppOut, char *zErr, size_t nErr)
{
    *ppOut = nullptr;
    try {
        *ppOut = new xw_wdb{Xapian::WritableDatabase(zPath, Xapian::DB_CREATE_OR_OPEN)};
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_wdb_replace(xw_wdb *p, const char *zId, const xw_doc *pDoc, int *pReplaced,
                   char *zErr, size_t nErr)
{
    try {
        int had = p->db.term_exists(zId);
        p->db.replace_document(zId, pDoc->doc);
        if (pReplaced) *pReplaced = had;
        return PS_OK;
    } catch (const Xapian::InvalidArgumentError &e) {
        // The document, not the index, is at fault (a term over the length
        // limit): callers writing many reject this one and go on.
        set_err(zErr, nErr, std::string("检索索引拒绝此件（") + e.get_type() + "）：" + e.get_msg());
        return PS_INVALID;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_wdb_delete(xw_wdb *p, const char *zId, char *zErr, size_t nErr)
{
    try {
        if (!p->db.term_exists(zId)) {
            set_err(zErr, nErr, "no such document");
            return PS_NOT_FOUND;
        }
        p->db.delete_document(zId);
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_wdb_get_data(xw_wdb *p, const char *zId, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    try {
        int rc = get_by_term(p->db, zId, pz, pn);
        if (rc == PS_NOT_FOUND) set_err(zErr, nErr, "no such document");
        return rc;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_wdb_commit(xw_wdb *p, char *zErr, size_t nErr)
{
    try {
        p->db.commit();
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

unsigned long xw_wdb_doccount(xw_wdb *p)
{
    try {
        return p->db.get_doccount();
    } catch (...) {
        return 0;
    }
}

int xw_wdb_each_term(xw_wdb *p, const char *zPrefix, xw_term_each_fn x, void *ctx, char *zErr, size_t nErr)
{
    try {
        for (Xapian::TermIterator t = p->db.allterms_begin(zPrefix); t != p->db.allterms_end(zPrefix); ++t) {
            const std::string &s = *t;
            int rc = x(ctx, s.data(), s.size());
            if (rc) return rc;
        }
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_compact(const char *zSrc, const char *zDst, char *zErr, size_t nErr)
{
    try {
        Xapian::Database db(zSrc);
        db.compact(zDst, Xapian::DBCOMPACT_NO_RENUMBER | Xapian::Compactor::FULL);
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

void xw_wdb_close(xw_wdb *p)
{
    if (!p) return;
    try {
        p->db.close();
    } catch (...) {
    }
    delete p;
}

xw_doc *xw_doc_new(void)
{
    try {
        return new xw_doc;
    } catch (...) {
        return nullptr;
    }
}

int xw_doc_set_data(xw_doc *p, const char *z, size_t n)
{
    try {
        p->doc.set_data(std::string(z, n));
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

// Xapian refuses a longer term only when the document is written, and then
// drops every uncommitted change of that database with it: such a term is
// refused here, while the document is built, so the index never sees it.
static const size_t XW_TERM_MAX = 245;

int xw_doc_add_posting(xw_doc *p, const char *zTerm, size_t n, unsigned pos)
{
    if (n > XW_TERM_MAX || n == 0) return PS_INVALID;
    try {
        p->doc.add_posting(std::string(zTerm, n), pos);
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

int xw_doc_add_term(xw_doc *p, const char *zTerm, size_t n, unsigned wdf)
{
    if (n > XW_TERM_MAX || n == 0) return PS_INVALID;
    try {
        p->doc.add_term(std::string(zTerm, n), wdf);
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

int xw_doc_add_boolean(xw_doc *p, const char *zTerm)
{
    size_t n = std::strlen(zTerm);
    if (n > XW_TERM_MAX || n == 0) return PS_INVALID;
    try {
        p->doc.add_boolean_term(zTerm);
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

int xw_doc_set_value(xw_doc *p, unsigned slot, const char *z, size_t n)
{
    try {
        p->doc.add_value(slot, std::string(z, n));
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

void xw_doc_free(xw_doc *p) { delete p; }

int xw_rdb_open(const char *const *azPath, int nPath, xw_rdb **ppOut, char *zErr, size_t nErr)
{
    return xw_rdb_open_shards(azPath, nPath, 10000, nullptr, ppOut, zErr, nErr);
}

int xw_rdb_reopen(xw_rdb *p, char *zErr, size_t nErr)
{
    try {
        try {
            p->db.reopen();
        } catch (const Xapian::NetworkError &) {
            if (!p->hasCb) throw;
            rdb_build(p, true);  // the shards that fail are told down
        }
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

unsigned long xw_rdb_doccount(xw_rdb *p)
{
    unsigned long n = 0;
    char zErr[8];
    with_rdb(p, zErr, sizeof zErr, nullptr, [&]() {
        n = p->db.get_doccount();
        return (int)PS_OK;
    });
    return n;
}

unsigned long xw_rdb_termfreq(xw_rdb *p, const char *zTerm)
{
    unsigned long n = 0;
    char zErr[8];
    with_rdb(p, zErr, sizeof zErr, nullptr, [&]() {
        n = p->db.get_termfreq(zTerm);
        return (int)PS_OK;
    });
    return n;
}

int xw_rdb_get_data(xw_rdb *p, const char *zId, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    return with_rdb(p, zErr, nErr, nullptr, [&]() {
        int rc = get_by_term(p->db, zId, pz, pn);
        if (rc == PS_NOT_FOUND) set_err(zErr, nErr, "no such document");
        return rc;
    });
}

int xw_rdb_get_value(xw_rdb *p, const char *zId, unsigned slot, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    return with_rdb(p, zErr, nErr, nullptr, [&]() {
        Xapian::PostingIterator it = p->db.postlist_begin(zId);
        if (it == p->db.postlist_end(zId)) {
            set_err(zErr, nErr, "no such document");
            return (int)PS_NOT_FOUND;
        }
        return copy_out(p->db.get_document(*it).get_value(slot), pz, pn);
    });
}

void xw_rdb_close(xw_rdb *p) { delete p; }

int xw_shard_is_remote(const char *zShard) { return zShard && std::strncmp(zShard, "tcp:", 4) == 0; }

int xw_remote_parse(const char *zShard, char *zHost, size_t nHost, unsigned *pPort)
{
    try {
        std::string host;
        unsigned port = 0;
        if (!parse_remote(zShard, host, port) || host.size() >= nHost) return PS_INVALID;
        std::snprintf(zHost, nHost, "%s", host.c_str());
        *pPort = port;
        return PS_OK;
    } catch (...) {
        return from_exception(nullptr, 0);
    }
}

int xw_wdb_open_shard(const char *zShard, unsigned timeoutMs, xw_wdb **ppOut, char *zErr, size_t nErr)
{
    std::string host;
    unsigned port = 0;
    *ppOut = nullptr;
    if (!xw_shard_is_remote(zShard)) return xw_wdb_open(zShard, ppOut, zErr, nErr);
    try {
        if (!parse_remote(zShard, host, port)) {
            set_err(zErr, nErr, std::string("不是 tcp:主机:端口 形式的分片地址：") + zShard);
            return PS_INVALID;
        }
        *ppOut = new xw_wdb{Xapian::Remote::open_writable(host, port, timeoutMs, timeoutMs)};
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_wdb_uuid(xw_wdb *p, char *z, size_t n, char *zErr, size_t nErr)
{
    try {
        std::snprintf(z, n, "%s", p->db.get_uuid().c_str());
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_probe(const char *zShard, unsigned timeoutMs, char *zUuid, size_t nUuid, unsigned long *pDocs, char *zErr,
             size_t nErr)
{
    try {
        Xapian::Database db = open_shard(zShard, timeoutMs);
        if (zUuid && nUuid) std::snprintf(zUuid, nUuid, "%s", db.get_uuid().c_str());
        if (pDocs) *pDocs = db.get_doccount();
        db.close();
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_rdb_open_shards(const char *const *azShard, int nShard, unsigned timeoutMs, const xw_shard_cb *pCb,
                       xw_rdb **ppOut, char *zErr, size_t nErr)
{
    *ppOut = nullptr;
    if (nShard < 0 || nShard > 32) {
        set_err(zErr, nErr, "分片数须为 0 至 32");
        return PS_INVALID;
    }
    try {
        std::unique_ptr<xw_rdb> p(new xw_rdb);
        for (int i = 0; i < nShard; i++) {
            p->shards.push_back(azShard[i]);
            if (is_remote(azShard[i])) p->remote = true;
        }
        p->sub.resize((size_t)nShard);
        p->have.assign((size_t)nShard, 0);
        p->timeoutMs = timeoutMs;
        if (pCb) {
            p->cb = *pCb;
            p->hasCb = true;
        }
        rdb_build(p.get(), false);
        *ppOut = p.release();
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

unsigned xw_rdb_live(const xw_rdb *p) { return p->live; }

int xw_rdb_renew(xw_rdb *p, char *zErr, size_t nErr)
{
    try {
        for (size_t i = 0; i < p->sub.size(); i++) {
            p->sub[i] = Xapian::Database();
            p->have[i] = 0;
        }
        rdb_build(p, false);
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

int xw_rdb_refresh(xw_rdb *p, char *zErr, size_t nErr)
{
    if (!p->hasCb || p->cb.xLive(p->cb.pCtx) == p->live) return PS_OK;
    try {
        rdb_build(p, false);
        return PS_OK;
    } catch (...) {
        return from_exception(zErr, nErr);
    }
}

xw_query *xw_q_term(const char *zTerm, size_t n)
{
    try {
        return new xw_query{Xapian::Query(std::string(zTerm, n))};
    } catch (...) {
        return nullptr;
    }
}

static xw_query *combine(Xapian::Query::op op, xw_query *const *apSub, int n, unsigned window)
{
    try {
        std::vector<Xapian::Query> v;
        v.reserve(n);
        for (int i = 0; i < n; i++) v.push_back(apSub[i]->q);
        return new xw_query{Xapian::Query(op, v.begin(), v.end(), window)};
    } catch (...) {
        return nullptr;
    }
}

xw_query *xw_q_phrase(xw_query *const *apSub, int n)
{
    if (n == 1) return combine(Xapian::Query::OP_AND, apSub, n, 0);
    return combine(Xapian::Query::OP_PHRASE, apSub, n, (unsigned)n);
}

xw_query *xw_q_combine(int op, xw_query *const *apSub, int n)
{
    Xapian::Query::op xop;
    switch (op) {
    case XW_AND: xop = Xapian::Query::OP_AND; break;
    case XW_OR: xop = Xapian::Query::OP_OR; break;
    case XW_AND_NOT: xop = Xapian::Query::OP_AND_NOT; break;
    case XW_FILTER: xop = Xapian::Query::OP_FILTER; break;
    case XW_AND_MAYBE: xop = Xapian::Query::OP_AND_MAYBE; break;
    default: return nullptr;
    }
    return combine(xop, apSub, n, 0);
}

xw_query *xw_q_value_range(unsigned slot, const char *zLo, const char *zHi)
{
    try {
        return new xw_query{Xapian::Query(Xapian::Query::OP_VALUE_RANGE, slot, zLo, zHi)};
    } catch (...) {
        return nullptr;
    }
}

xw_query *xw_q_scale(const xw_query *pSub, double factor)
{
    try {
        return new xw_query{Xapian::Query(Xapian::Query::OP_SCALE_WEIGHT, pSub->q, factor)};
    } catch (...) {
        return nullptr;
    }
}

// Every query is built fresh for its request.  Xapian's reference counts are
// not atomic, so copying a Query object that another thread also copies (the
// static Xapian::Query::MatchAll, say) corrupts its count and crashes the
// daemon: no Xapian object is ever shared between threads here.
xw_query *xw_q_all(void)
{
    try {
        return new xw_query{Xapian::Query(std::string())};  // Xapian's match-all, made here
    } catch (...) {
        return nullptr;
    }
}

xw_query *xw_q_none(void)
{
    try {
        return new xw_query{Xapian::Query()};
    } catch (...) {
        return nullptr;
    }
}

xw_query *xw_q_wildcard(const char *zPrefix)
{
    try {
        return new xw_query{Xapian::Query(Xapian::Query::OP_WILDCARD, std::string(zPrefix))};
    } catch (...) {
        return nullptr;
    }
}

int xw_q_is_none(const xw_query *p) { return p->q.empty(); }

char *xw_q_describe(const xw_query *p)
{
    try {
        std::string s = p->q.get_description();
        return px_strndup(s.data(), s.size());
    } catch (...) {
        return nullptr;
    }
}

void xw_q_free(xw_query *p) { delete p; }

int xw_docview_value(xw_docview *p, unsigned slot, const char **pz, size_t *pn)
{
    if (slot >= 16) return PS_INVALID;
    // Exceptions here travel up through the matcher to xw_search's handler.
    if (!(p->loaded & (1u << slot))) {
        p->aValue[slot] = p->pDoc->get_value(slot);
        p->loaded |= 1u << slot;
    }
    *pz = p->aValue[slot].data();
    *pn = p->aValue[slot].size();
    return PS_OK;
}

// Unranked matches with a decider: Xapian's matcher checks every candidate
// when a decider is set, even in index order; here candidates come in chunks
// and the decider stops being asked once the page and checkAtLeast are full.
static xw_mset *search_unranked(Xapian::Database &db, const xw_query *pQuery,
                                const xw_search_opts *o)
{
    const Xapian::doccount chunk = 256;
    std::unique_ptr<xw_mset> r(new xw_mset);
    r->own = true;
    Xapian::Enquire enq(db);
    enq.set_query(pQuery->q);
    enq.set_weighting_scheme(Xapian::BoolWeight());
    enq.set_docid_order(Xapian::Enquire::ASCENDING);
    CDecider decider(o->xDecide, o->pDecideCtx);
    unsigned long need = (unsigned long)o->offset + o->limit;
    if (need < o->checkAtLeast) need = o->checkAtLeast;
    unsigned long accepted = 0, examined = 0, candidates = 0;
    bool exhausted = false;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    for (Xapian::doccount first = 0;; first += chunk) {
        Xapian::MSet m = enq.get_mset(first, chunk);
        candidates = m.get_matches_estimated();
        for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
            Xapian::Document doc = it.get_document();
            examined++;
            if (!decider(doc)) continue;
            if (accepted >= o->offset && accepted < (unsigned long)o->offset + o->limit) {
                r->data.push_back(doc.get_data());
                if (o->valueSlot >= 0) r->values.push_back(doc.get_value((Xapian::valueno)o->valueSlot));
            }
            accepted++;
        }
        if (m.size() < chunk) {
            exhausted = true;
            break;
        }
        if (accepted >= need) break;
        // past the time limit, stop looking once the page is full
        if (o->timeLimit > 0 && accepted >= (unsigned long)o->offset + o->limit &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > o->timeLimit)
            break;
    }
    r->exact = exhausted;
    if (exhausted || examined == 0 || candidates <= examined) {
        r->estimated = accepted;
    } else {
        r->estimated = accepted + (unsigned long)((double)(candidates - examined) * accepted / examined);
    }
    return r.release();
}

// A search with a decider over remote shards: Xapian 1.4 runs no
// MatchDecider there (UnimplementedError), so the matches come in chunks in
// the order asked (twice as many each time), their documents fetched
// together, and the decider and the facet counts run here on each one until
// the page and checkAtLeast are full.
static xw_mset *search_filtered(Xapian::Database &db, const xw_query *pQuery, const xw_search_opts *o)
{
    std::unique_ptr<xw_mset> r(new xw_mset);
    r->own = true;
    std::vector<std::map<std::string, unsigned long>> counts((size_t)(o->nFacet > 0 ? o->nFacet : 0));
    Xapian::Enquire enq(db);
    enq.set_query(pQuery->q);
    if (o->unranked) {
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_docid_order(Xapian::Enquire::ASCENDING);
    } else if (o->sortSlot >= 0) {
        enq.set_sort_by_value_then_relevance((Xapian::valueno)o->sortSlot, o->sortReverse != 0);
    }
    CDecider decider(o->xDecide, o->pDecideCtx);
    unsigned long need = (unsigned long)o->offset + o->limit;
    if (need < o->checkAtLeast) need = o->checkAtLeast;
    unsigned long accepted = 0, examined = 0, candidates = 0;
    bool exhausted = false;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    Xapian::doccount first = 0, chunk = 256;
    const Xapian::doccount batch = 64;  // documents fetched at once
    for (;;) {
        Xapian::MSet m = enq.get_mset(first, chunk);
        candidates = m.get_matches_estimated();
        for (Xapian::doccount i = 0; i < m.size(); i += batch) {
            Xapian::MSetIterator b = m[i], e = i + batch < m.size() ? m[i + batch] : m.end();
            m.fetch(b, e);
            for (Xapian::MSetIterator it = b; it != e; ++it) {
                Xapian::Document doc = it.get_document();
                examined++;
                if (!decider(doc)) continue;
                if (accepted >= o->offset && accepted < (unsigned long)o->offset + o->limit) {
                    r->data.push_back(doc.get_data());
                    if (o->valueSlot >= 0) r->values.push_back(doc.get_value((Xapian::valueno)o->valueSlot));
                }
                for (int k = 0; k < o->nFacet; k++) {
                    std::string v = doc.get_value(o->aFacetSlot[k]);
                    if (!v.empty()) counts[(size_t)k][v]++;  // as Xapian's ValueCountMatchSpy counts
                }
                accepted++;
            }
        }
        first += m.size();
        if (m.size() < chunk) {
            exhausted = true;
            break;
        }
        if (accepted >= need) break;
        if (o->timeLimit > 0 && accepted >= (unsigned long)o->offset + o->limit &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() > o->timeLimit)
            break;
        if (chunk < (1u << 20)) chunk *= 2;
    }
    r->exact = exhausted;
    if (exhausted || examined == 0 || candidates <= examined) {
        r->estimated = accepted;
    } else {
        r->estimated = accepted + (unsigned long)((double)(candidates - examined) * accepted / examined);
    }
    r->facets.resize(counts.size());
    for (size_t k = 0; k < counts.size(); k++) {
        r->facetSeen = accepted;
        for (const auto &kv : counts[k]) r->facets[k].emplace_back(kv.first, kv.second);
    }
    return r.release();
}

// The ranked (or sorted) search, Xapian's matcher doing all the work.
static xw_mset *search_ranked(Xapian::Database &db, const xw_query *pQuery, const xw_search_opts *o)
{
    std::unique_ptr<xw_mset> r(new xw_mset);
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    Xapian::Enquire enq(db);
    enq.set_query(pQuery->q);
    if (o->unranked) {
        enq.set_weighting_scheme(Xapian::BoolWeight());
        enq.set_docid_order(Xapian::Enquire::ASCENDING);
    } else if (o->sortSlot >= 0) {
        // Ties (same date) fall back to relevance.
        enq.set_sort_by_value_then_relevance((Xapian::valueno)o->sortSlot, o->sortReverse != 0);
    }
    if (o->timeLimit > 0) enq.set_time_limit(o->timeLimit);
    for (int k = 0; k < o->nFacet; k++) {
        spies.emplace_back(new Xapian::ValueCountMatchSpy(o->aFacetSlot[k]));
        enq.add_matchspy(spies.back().get());
    }
    if (o->xDecide) {
        CDecider decider(o->xDecide, o->pDecideCtx);
        r->mset = enq.get_mset(o->offset, o->limit, o->checkAtLeast, nullptr, &decider);
    } else {
        r->mset = enq.get_mset(o->offset, o->limit, o->checkAtLeast);
    }
    r->data.reserve(r->mset.size());
    for (Xapian::MSetIterator it = r->mset.begin(); it != r->mset.end(); ++it) {
        Xapian::Document doc = it.get_document();
        r->data.push_back(doc.get_data());
        if (o->valueSlot >= 0) r->values.push_back(doc.get_value((Xapian::valueno)o->valueSlot));
    }
    r->facets.resize(spies.size());
    for (size_t k = 0; k < spies.size(); k++) {
        r->facetSeen = spies[k]->get_total();
        for (Xapian::TermIterator t = spies[k]->values_begin(); t != spies[k]->values_end(); ++t)
            r->facets[k].emplace_back(*t, t.get_termfreq());
    }
    return r.release();
}

typedef struct {
    xw_decide_fn x;
    void *ctx;
    bool *pCalled;
} decide_hook;

static int decide_hooked(void *ctx, xw_docview *v)
{
    decide_hook *h = (decide_hook *)ctx;
    *h->pCalled = true;
    return h->x(h->ctx, v);
}

int xw_search(xw_rdb *p, const xw_query *pQuery, const xw_search_opts *o, xw_mset **ppOut,
              char *zErr, size_t nErr)
{
    *ppOut = nullptr;
    // a decider that has seen documents may have kept count of them: such a
    // search is not run again after a shard failed
    bool decided = false;
    decide_hook hook = {o->xDecide, o->pDecideCtx, &decided};
    xw_search_opts oh = *o;
    if (o->xDecide) {
        oh.xDecide = decide_hooked;
        oh.pDecideCtx = &hook;
    }
    return with_rdb(p, zErr, nErr, &decided, [&]() {
        if (p->remote && oh.xDecide) *ppOut = search_filtered(p->db, pQuery, &oh);
        else if (oh.unranked && oh.xDecide && oh.nFacet == 0) *ppOut = search_unranked(p->db, pQuery, &oh);
        else *ppOut = search_ranked(p->db, pQuery, &oh);
        return PS_OK;
    });
}

unsigned xw_mset_size(const xw_mset *p) { return (unsigned)p->data.size(); }

unsigned long xw_mset_estimated(const xw_mset *p)
{
    return p->own ? p->estimated : p->mset.get_matches_estimated();
}

int xw_mset_exact(const xw_mset *p)
{
    if (p->own) return p->exact;
    return p->mset.get_matches_lower_bound() == p->mset.get_matches_upper_bound();
}

int xw_mset_data(const xw_mset *p, unsigned i, const char **pz, size_t *pn)
{
    if (i >= p->data.size()) return PS_NOT_FOUND;
    *pz = p->data[i].data();
    *pn = p->data[i].size();
    return PS_OK;
}

int xw_mset_value(const xw_mset *p, unsigned i, const char **pz, size_t *pn)
{
    if (i >= p->values.size()) return PS_NOT_FOUND;
    *pz = p->values[i].data();
    *pn = p->values[i].size();
    return PS_OK;
}

unsigned xw_mset_facet_size(const xw_mset *p, int k)
{
    if (k < 0 || (size_t)k >= p->facets.size()) return 0;
    return (unsigned)p->facets[k].size();
}

void xw_mset_facet_get(const xw_mset *p, int k, unsigned j, const char **pz, size_t *pn,
                       unsigned long *pCount)
{
    const auto &e = p->facets[k][j];
    *pz = e.first.data();
    *pn = e.first.size();
    *pCount = e.second;
}

unsigned long xw_mset_facet_seen(const xw_mset *p) { return p->facetSeen; }

void xw_mset_free(xw_mset *p) { delete p; }

} // extern "C"
