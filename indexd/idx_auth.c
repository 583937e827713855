/* Users, passwords, tokens, sessions and failed-login limiting. */
#include "idx_auth.h"
#include "idx_file.h"
#include "idx_log.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* ---- roles, clearance, names ------------------------------------------ */

static const struct {
    const char *zName, *zCn;
    unsigned perms;
    int clearance, ids;  /* defaults for new users */
} aRole[IDX_ROLE__COUNT] = {
    [IDX_ROLE_ADMIN] = {"admin", "管理员", 0xFFu, 5, 1},
    [IDX_ROLE_ARCHIVIST] = {"archivist", "档案员",
                            IDX_CAN_SEARCH | IDX_CAN_VIEW | IDX_CAN_IMPORT | IDX_CAN_VENDOR_REPORTS | IDX_CAN_REPORTS |
                                IDX_CAN_REGISTER | IDX_CAN_REQUEST, 0, 0},
    [IDX_ROLE_EVALUATOR] = {"evaluator", "评估员",
                            IDX_CAN_SEARCH | IDX_CAN_VIEW | IDX_CAN_VENDOR_REPORTS | IDX_CAN_REPORTS |
                                IDX_CAN_REGISTER | IDX_CAN_REQUEST, 0, 0},
    [IDX_ROLE_VENDOR] = {"vendor", "数字化厂商", IDX_CAN_VENDOR_REPORTS, 0, 0},
};

static const char *const azLevel[] = {"公开", "内部", "限制", "秘密", "机密", "绝密"};

const char *idx_role_name(int r) { return r >= 0 && r < IDX_ROLE__COUNT ? aRole[r].zName : "?"; }
const char *idx_role_cn(int r) { return r >= 0 && r < IDX_ROLE__COUNT ? aRole[r].zCn : "?"; }
unsigned idx_role_perms(int r) { return r >= 0 && r < IDX_ROLE__COUNT ? aRole[r].perms : 0; }

int idx_role_lookup(const char *z)
{
    for (int r = 0; z && r < IDX_ROLE__COUNT; r++)
        if (strcmp(z, aRole[r].zName) == 0 || strcmp(z, aRole[r].zCn) == 0) return r;
    return -1;
}

int idx_clearance_level(const char *z)
{
    if (!z || !*z) return 0;
    for (int i = 0; i < 6; i++)
        if (strcmp(z, azLevel[i]) == 0) return i;
    return -1;
}

const char *idx_clearance_name(int level) { return level >= 0 && level < 6 ? azLevel[level] : "?"; }

int idx_user_name_ok(const char *z)
{
    size_t n = z ? strlen(z) : 0;
    if (n == 0 || n > IDX_USER_MAX || !proto_utf8_valid(z, n)) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)z[i];
        if (ch <= ' ' || ch == 0x7F || strchr("\"'<>&/\\:", ch)) return 0;
    }
    return 1;
}

void idx_iso_time(time_t t, char *z, size_t n)
{
    struct tm tm;
    char zOff[8];
    localtime_r(&t, &tm);
    strftime(zOff, sizeof zOff, "%z", &tm);
    if (strlen(zOff) != 5) snprintf(zOff, sizeof zOff, "+0000");
    char zBase[32];
    strftime(zBase, sizeof zBase, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(z, n, "%s%.3s:%.2s", zBase, zOff, zOff + 3);
}

static const char *sv(const json_t *v, const char *zDefault)
{
    return json_is_string(v) ? json_string_value(v) : zDefault;
}

/* ---- users.json ------------------------------------------------------- */

#define USERS_FILE_MAX (16u << 20)     /* bytes of users.json */
#define SESSIONS_FILE_MAX (16u << 20)  /* bytes of sessions.json */

static void users_path(const char *zDataDir, const char *zSuffix, char *z, size_t n)
{
    snprintf(z, n, "%s/users.json%s", zDataDir, zSuffix);
}

static int hex_ok(const char *z, size_t n)
{
    if (!z || strlen(z) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", z[i]) || !z[i]) return 0;
    return 1;
}

/* nHex random hex characters (at most 64) and a NUL into z. */
static void random_hex(char *z, size_t nHex)
{
    unsigned char r[32];
    randombytes_buf(r, nHex / 2);
    sodium_bin2hex(z, nHex + 1, r, nHex / 2);
    sodium_memzero(r, sizeof r);
}

/* The users file parsed from its text ({"version":1,"users":[…]}); an
 * empty list when z is NULL (no file yet). */
static json_t *users_parse(const char *z, size_t n, const char *zPath, char *zErr, size_t nErr)
{
    json_error_t je;
    if (!z) return json_pack("{s:i,s:[]}", "version", 1, "users");
    json_t *o = json_loadb(z, n, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(zErr, nErr, "%s 不是有效的 JSON（第 %d 行第 %d 列）", zPath, je.line, je.column);
        return NULL;
    }
    if (!json_is_array(json_object_get(o, "users"))) {
        snprintf(zErr, nErr, "%s 中缺少 \"users\" 数组", zPath);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The text of users.json into *pz (px_free; NULL when there is no file). */
static int users_read(const char *zDataDir, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    char zPath[4200];
    users_path(zDataDir, "", zPath, sizeof zPath);
    int rc = idx_file_read(zPath, USERS_FILE_MAX, pz, pn, zErr, nErr);
    return rc == PS_NOT_FOUND ? PS_OK : rc;
}

/* A uid or gen for a user written before they existed: a hash of what the
 * entry holds (name, creation time, password hash, whose salt is random),
 * so that it is the same on every read and differs for a re-created name. */
static void derive_id(const json_t *u, const char *zLabel, char *zHex /* IDX_UID_LEN + 1 */)
{
    unsigned char h[IDX_UID_LEN / 2];
    crypto_generichash_state st;
    const char *az[3] = {sv(json_object_get(u, "name"), ""), sv(json_object_get(u, "created"), ""),
                         sv(json_object_get(u, "password"), "")};
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)zLabel, strlen(zLabel) + 1);
    for (int i = 0; i < 3; i++) crypto_generichash_update(&st, (const unsigned char *)az[i], strlen(az[i]) + 1);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(zHex, IDX_UID_LEN + 1, h, sizeof h);
}

/* Give every user without a valid uid or gen the derived ones. */
static void users_fill_ids(json_t *pUsers)
{
    size_t i;
    json_t *u;
    char zHex[IDX_UID_LEN + 1];
    json_array_foreach(json_object_get(pUsers, "users"), i, u) {
        if (!hex_ok(json_string_value(json_object_get(u, "uid")), IDX_UID_LEN)) {
            derive_id(u, "indexd uid", zHex);
            json_object_set_new(u, "uid", json_string(zHex));
        }
        if (!hex_ok(json_string_value(json_object_get(u, "gen")), IDX_UID_LEN)) {
            derive_id(u, "indexd gen", zHex);
            json_object_set_new(u, "gen", json_string(zHex));
        }
    }
}

/* The users file for a change from the command line, with every uid and
 * gen filled in (so that the write stores them). */
static json_t *users_load(const char *zDataDir, char *zErr, size_t nErr)
{
    char zPath[4200], *z = NULL;
    size_t n = 0;
    users_path(zDataDir, "", zPath, sizeof zPath);
    if (users_read(zDataDir, &z, &n, zErr, nErr) != PS_OK) return NULL;
    json_t *o = users_parse(z, n, zPath, zErr, nErr);
    if (z) sodium_memzero(z, n);
    px_free(z);
    if (o) users_fill_ids(o);
    return o;
}

static int users_save(const char *zDataDir, json_t *o, char *zErr, size_t nErr)
{
    char zPath[4200];
    users_path(zDataDir, "", zPath, sizeof zPath);
    char *z = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!z) return PS_NOMEM;
    size_t n = strlen(z);
    char *zNl = px_malloc(n + 2);
    int rc = PS_NOMEM;
    if (zNl) {
        memcpy(zNl, z, n);
        zNl[n] = '\n';
        rc = idx_file_replace(zPath, zNl, n + 1, 0600, zErr, nErr);
        sodium_memzero(zNl, n + 1);
        px_free(zNl);
    }
    sodium_memzero(z, n);
    free(z);
    return rc;
}

static json_t *user_find(json_t *pUsers, const char *zName, size_t *pIdx)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(pUsers, "users"), i, u) {
        const char *z = json_string_value(json_object_get(u, "name"));
        if (z && strcmp(z, zName) == 0) {
            if (pIdx) *pIdx = i;
            return u;
        }
    }
    return NULL;
}

/* The user of uid zUid whose gen is zGen, or NULL. */
static json_t *user_by_uid(json_t *pUsers, const char *zUid, const char *zGen)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(pUsers, "users"), i, u) {
        const char *zU = json_string_value(json_object_get(u, "uid"));
        if (zU && strcmp(zU, zUid) == 0)
            return zGen && strcmp(sv(json_object_get(u, "gen"), ""), zGen) == 0 ? u : NULL;
    }
    return NULL;
}

/* Fill a caller from a user object; -1 if the object is not usable. */
static int caller_from_user(const json_t *u, idx_caller *c)
{
    const char *zName = json_string_value(json_object_get(u, "name"));
    const char *zUid = json_string_value(json_object_get(u, "uid"));
    int role = idx_role_lookup(json_string_value(json_object_get(u, "role")));
    int level = idx_clearance_level(json_string_value(json_object_get(u, "clearance")));
    if (!zName || strlen(zName) > IDX_USER_MAX || !hex_ok(zUid, IDX_UID_LEN) || role < 0 || level < 0) return -1;
    memset(c, 0, sizeof *c);
    snprintf(c->zUser, sizeof c->zUser, "%s", zName);
    memcpy(c->zUid, zUid, IDX_UID_LEN + 1);
    c->role = role;
    c->perms = idx_role_perms(role);
    c->clearance = level;
    c->ids = json_is_true(json_object_get(u, "ids"));
    return 0;
}

static void hash_token(const char *zToken, char *zHex /* 65 */)
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)zToken, strlen(zToken), NULL, 0);
    sodium_bin2hex(zHex, 65, h, sizeof h);
}

/* An exclusive lock on users.json.lock for a change from the command line. */
static int users_lock(const char *zDataDir, char *zErr, size_t nErr)
{
    char zPath[4200];
    users_path(zDataDir, ".lock", zPath, sizeof zPath);
    int fd = open(zPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        snprintf(zErr, nErr, "无法锁定 %s：%s", zPath, proto_errno_cn(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* ---- the daemon's state --------------------------------------------- */

typedef struct {
    int used;
    unsigned char aHash[32];  /* BLAKE2b of the session id: the id itself is never kept */
    char zUid[IDX_UID_LEN + 1], zGen[IDX_UID_LEN + 1];
    char zCsrf[IDX_SID_LEN + 1];
    char zPurpose[IDX_PURPOSE_MAX + 1];
    time_t created, expires, last;
    time_t lastSaved;  /* last use as the file has it */
} session;

/* One entry of a failed-login table.  Each table is an open-addressing
 * hash table of its own key with its own bound. */
typedef struct {
    uint64_t h;            /* from k, with LT_USED; 0: a free slot */
    unsigned char k[16];   /* keyed BLAKE2b of the key (no name or address is kept) */
    time_t last;           /* the last failure counted: the oldest is evicted first */
    time_t until;          /* refused until then; never evicted before */
    unsigned busy;         /* attempts being checked; never evicted meanwhile */
} lhead;

typedef struct {
    lhead hd;
    unsigned n;  /* failures within the window */
} pair_ent;

typedef struct {
    lhead hd;
    unsigned n;                          /* failures ever; aT[n % …] is the next */
    time_t aT[IDX_LOGIN_FAILS_ADDR];     /* the times of the last ones */
} addr_ent;

typedef struct {
    lhead hd;
    time_t first;     /* the window starts */
    unsigned nAddr;   /* addresses that failed for the name within it */
    int warned;
} name_ent;

typedef struct {
    unsigned char *a;
    size_t szEnt, nSlot, nMax, nUsed;
} ltab;

#define LT_USED (UINT64_C(1) << 63)  /* set in every used slot's h (the low bits pick the slot) */

#define SESSION_MAX 4096
#define SESSION_PER_USER 16
#define SESSION_LAZY 60      /* seconds between writes of a session's last use */
#define PAIR_MAX 16384
#define ADDR_MAX 4096
#define NAME_MAX_ 1024

struct idx_auth {
    pthread_mutex_t mu;       /* everything below but the writes of sessions.json */
    pthread_mutex_t muWrite;  /* the writes of sessions.json, in order */
    char *zDataDir;
    time_t (*xNow)(void);
    json_t *pUsers;           /* uid and gen filled in */
    struct stat st;           /* of users.json when read */
    unsigned char aUsersHash[32]; /* of its text */
    int racy;                 /* read within a second of its change: stat cannot tell a next one */
    long sessionSec, idleSec;
    session *aSession;
    int dirty;                /* the sessions differ from sessions.json */
    time_t failedAt;          /* the last write of it failed then (0: it did not) */
    unsigned long nDumpSeq, nWrittenSeq;
    ltab pairs, addrs, names;
    unsigned char aKey[crypto_generichash_KEYBYTES]; /* for the tables' keys */
    time_t fullWarnedAt;
    char zDummy[crypto_pwhash_STRBYTES]; /* verified for unknown names */
};

static time_t now_of(const idx_auth *p) { return p->xNow ? p->xNow() : time(NULL); }

/* ---- failed-login tables ---------------------------------------------- */

static int lt_init(ltab *t, size_t szEnt, size_t nMax)
{
    size_t nSlot = 16;
    while (nSlot < 2 * nMax) nSlot *= 2;
    t->a = px_calloc(nSlot, szEnt);
    t->szEnt = szEnt;
    t->nSlot = nSlot;
    t->nMax = nMax;
    t->nUsed = 0;
    return t->a ? PS_OK : PS_NOMEM;
}

static lhead *lt_at(const ltab *t, size_t i) { return (lhead *)(void *)(t->a + i * t->szEnt); }

static lhead *lt_find(const ltab *t, const unsigned char k[16])
{
    uint64_t h;
    memcpy(&h, k, sizeof h);
    h |= LT_USED;
    for (size_t i = h & (t->nSlot - 1);; i = (i + 1) & (t->nSlot - 1)) {
        lhead *e = lt_at(t, i);
        if (!e->h) return NULL;
        if (e->h == h && memcmp(e->k, k, 16) == 0) return e;
    }
}

/* Remove an entry; the ones after it in its run move back (so no lookup
 * stops early).  Pointers into the table are stale afterwards. */
static void lt_del(ltab *t, lhead *e)
{
    size_t mask = t->nSlot - 1, i = (size_t)((unsigned char *)e - t->a) / t->szEnt, j = i;
    for (;;) {
        j = (j + 1) & mask;
        lhead *f = lt_at(t, j);
        if (!f->h) break;
        size_t k = f->h & mask;  /* where f would like to be */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
        memcpy(lt_at(t, i), f, t->szEnt);
        i = j;
    }
    memset(lt_at(t, i), 0, t->szEnt);
    t->nUsed--;
}

/* The entry of k, made if needed.  A full table gives up the entry whose
 * last failure is oldest among those that block nothing; NULL when every
 * entry blocks (the failure then goes uncounted: failing open, since
 * failing closed would let anyone with enough addresses lock everyone). */
static lhead *lt_get(ltab *t, const unsigned char k[16], time_t now)
{
    lhead *e = lt_find(t, k);
    if (e) return e;
    if (t->nUsed >= t->nMax) {
        lhead *pOld = NULL;
        for (size_t i = 0; i < t->nSlot; i++) {
            lhead *f = lt_at(t, i);
            if (f->h && f->until <= now && !f->busy && (!pOld || f->last < pOld->last)) pOld = f;
        }
        if (!pOld) return NULL;
        lt_del(t, pOld);
    }
    uint64_t h;
    memcpy(&h, k, sizeof h);
    h |= LT_USED;
    size_t i = h & (t->nSlot - 1);
    while (lt_at(t, i)->h) i = (i + 1) & (t->nSlot - 1);
    e = lt_at(t, i);
    memset(e, 0, t->szEnt);
    e->h = h;
    memcpy(e->k, k, 16);
    t->nUsed++;
    return e;
}

/* The key of a table entry: a tag, then NUL-separated parts. */
static void lt_key(const idx_auth *p, char cTag, const char *zA, const char *zB, unsigned char k[16])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, p->aKey, sizeof p->aKey, 16);
    crypto_generichash_update(&st, (const unsigned char *)&cTag, 1);
    crypto_generichash_update(&st, (const unsigned char *)zA, strlen(zA) + 1);
    if (zB) crypto_generichash_update(&st, (const unsigned char *)zB, strlen(zB) + 1);
    crypto_generichash_final(&st, k, 16);
}

/* The wait after the n-th failure of a pair: 2^(n-3) s, at most the window. */
static long pair_delay(unsigned n)
{
    if (n < IDX_LOGIN_FREE) return 0;
    unsigned e = n - IDX_LOGIN_FREE;
    return e >= 20 || (1L << e) > IDX_LOGIN_WINDOW ? IDX_LOGIN_WINDOW : 1L << e;
}

/* A pair whose last failure is older than the window starts again. */
static void pair_fresh(pair_ent *e, time_t now)
{
    if (e->n && now - e->hd.last > IDX_LOGIN_WINDOW && e->hd.until <= now) e->n = 0, e->hd.until = 0;
}

static void warn_full(idx_auth *p, const char *zWhat, time_t now)
{
    if (now - p->fullWarnedAt < 60) return;
    p->fullWarnedAt = now;
    IDX_LOG(IDX_LOG_WARN, 0, "login: the table of %s with failed logins is full of blocked entries; further failures go uncounted "
            "(the per-address limit still applies)", zWhat);
}

/* A failed login (caller holds mu).  zName is given only when it is a
 * user's: only then is a name under attack worth a warning. */
static void note_failure(idx_auth *p, const unsigned char kPair[16], const unsigned char kAddr[16], const char *zName,
                         time_t now)
{
    int newPair = 0;
    pair_ent *pr = (pair_ent *)(void *)lt_get(&p->pairs, kPair, now);
    if (pr) {
        pair_fresh(pr, now);
        newPair = pr->n == 0;
        pr->n++;
        pr->hd.last = now;
        long d = pair_delay(pr->n);
        if (d) pr->hd.until = now + d;
    } else {
        warn_full(p, "(name, address) pairs", now);
    }
    addr_ent *a = (addr_ent *)(void *)lt_get(&p->addrs, kAddr, now);
    if (a) {
        a->aT[a->n % IDX_LOGIN_FAILS_ADDR] = now;
        a->n++;
        a->hd.last = now;
        unsigned nRecent = 0;
        for (unsigned i = 0; i < IDX_LOGIN_FAILS_ADDR && i < a->n; i++) nRecent += now - a->aT[i] < IDX_LOGIN_WINDOW;
        if (nRecent >= IDX_LOGIN_FAILS_ADDR && a->hd.until <= now) {
            a->hd.until = now + IDX_LOGIN_WINDOW;
            IDX_LOG(IDX_LOG_WARN, 0, "login: a client address had %d failed logins within %d minutes; it is refused for %d minutes",
                    IDX_LOGIN_FAILS_ADDR, IDX_LOGIN_WINDOW / 60, IDX_LOGIN_WINDOW / 60);
        }
    } else {
        warn_full(p, "addresses", now);
    }
    if (!zName) return;
    unsigned char kName[16];
    lt_key(p, 'n', zName, NULL, kName);
    name_ent *nm = (name_ent *)(void *)lt_get(&p->names, kName, now);
    if (!nm) return;
    if (now - nm->first > IDX_LOGIN_WINDOW) nm->first = now, nm->nAddr = 0, nm->warned = 0;
    nm->hd.last = now;
    nm->nAddr += newPair;
    if (nm->nAddr >= IDX_LOGIN_ATTACK_ADDRS && !nm->warned) {
        nm->warned = 1;
        IDX_LOG(IDX_LOG_WARN, 0, "login: user %s failed to log in from %u client addresses within %d minutes: "
                "a password-guessing attack? (the user is not locked out; each address is slowed down)",
                zName, nm->nAddr, IDX_LOGIN_WINDOW / 60);
    }
}

/* ---- addresses ---------------------------------------------------------- */

typedef struct {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char a[16];
} addr_bin;

/* Parse one address of a list (spaces around it, [v6] brackets and an
 * IPv4 ":port" allowed); an IPv4-mapped IPv6 address becomes IPv4. */
static int addr_parse(const char *z, size_t n, addr_bin *pOut)
{
    char zBuf[64];
    while (n && (*z == ' ' || *z == '\t')) z++, n--;
    while (n && (z[n - 1] == ' ' || z[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof zBuf) return 0;
    memcpy(zBuf, z, n);
    zBuf[n] = 0;
    char *zA = zBuf;
    if (zA[0] == '[') {
        char *e = strchr(zA, ']');
        if (!e || (e[1] && e[1] != ':')) return 0;
        *e = 0;
        zA++;
    } else {
        char *c = strchr(zA, ':');
        if (c && !strchr(c + 1, ':')) *c = 0;  /* one colon: IPv4 with a port */
    }
    memset(pOut, 0, sizeof *pOut);
    if (inet_pton(AF_INET, zA, pOut->a) == 1) {
        pOut->family = AF_INET;
        return 1;
    }
    if (inet_pton(AF_INET6, zA, pOut->a) != 1) return 0;
    static const unsigned char aMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (memcmp(pOut->a, aMapped, 12) == 0) {
        memmove(pOut->a, pOut->a + 12, 4);
        memset(pOut->a + 4, 0, 12);
        pOut->family = AF_INET;
    } else {
        pOut->family = AF_INET6;
    }
    return 1;
}

static void addr_text(const addr_bin *a, char *z, size_t n)
{
    char zBuf[INET6_ADDRSTRLEN];
    if (!inet_ntop(a->family, a->a, zBuf, sizeof zBuf)) zBuf[0] = 0;
    snprintf(z, n, "%s", zBuf);
}

static int addr_trusted(const addr_bin *a, const char *zTrusted)
{
    for (const char *s = zTrusted; s && *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        addr_bin t;
        if (addr_parse(s, n, &t) && t.family == a->family && memcmp(t.a, a->a, 16) == 0) return 1;
        s += n + (e != NULL);
    }
    return 0;
}

void idx_client_addr(const char *zPeer, const char *zForwardedFor, const char *zTrusted, char *zOut, size_t nOut)
{
    addr_bin peer, a;
    if (!nOut) return;
    zOut[0] = 0;
    if (!zPeer) return;
    if (!addr_parse(zPeer, strlen(zPeer), &peer)) {
        snprintf(zOut, nOut, "%.*s", IDX_ADDR_MAX - 1, zPeer);
        return;
    }
    addr_text(&peer, zOut, nOut);
    if (!zForwardedFor || !addr_trusted(&peer, zTrusted)) return;
    /* Right to left: each trusted proxy appended the address it saw; the
     * first one no proxy of ours wrote is the client (anything left of
     * it the client may have made up). */
    const char *zEnd = zForwardedFor + strlen(zForwardedFor);
    while (zEnd > zForwardedFor) {
        const char *zStart = zEnd;
        while (zStart > zForwardedFor && zStart[-1] != ',') zStart--;
        size_t n = (size_t)(zEnd - zStart);
        if (strspn(zStart, " \t") < n) {
            if (!addr_parse(zStart, n, &a)) return;  /* not an address: the peer it is */
            if (!addr_trusted(&a, zTrusted)) {
                addr_text(&a, zOut, nOut);
                return;
            }
        }
        zEnd = zStart > zForwardedFor ? zStart - 1 : zForwardedFor;
    }
}

/* What failed logins are counted by: the address, or an IPv6 address's
 * /64 (one host may hold all of it). */
static void addr_limit_key(const char *zAddr, char *z, size_t n)
{
    addr_bin a;
    if (!zAddr || !addr_parse(zAddr, strlen(zAddr), &a)) {
        snprintf(z, n, "%.*s", IDX_ADDR_MAX - 1, zAddr ? zAddr : "");
        return;
    }
    if (a.family == AF_INET6) memset(a.a + 8, 0, 8);
    addr_text(&a, z, n);
    if (a.family == AF_INET6) snprintf(z + strlen(z), n - strlen(z), "/64");
}

/* ---- sessions ------------------------------------------------------------ */

static void sessions_path(const idx_auth *p, char *z, size_t n) { snprintf(z, n, "%s/sessions.json", p->zDataDir); }

static void sid_hash(const char *zSid, unsigned char h[32])
{
    crypto_generichash(h, 32, (const unsigned char *)zSid, strlen(zSid), NULL, 0);
}

static int session_dead(const idx_auth *p, const session *s, time_t now)
{
    return s->expires <= now || now - s->last > p->idleSec;
}

/* End a session (caller holds mu); the file follows at the next save. */
static void session_end(idx_auth *p, session *s)
{
    sodium_memzero(s, sizeof *s);
    p->dirty = 1;
}

/* End the sessions that are over or whose user changed (caller holds mu). */
static void sessions_sweep(idx_auth *p, time_t now)
{
    for (size_t i = 0; i < SESSION_MAX; i++) {
        session *s = &p->aSession[i];
        if (s->used && (session_dead(p, s, now) || !user_by_uid(p->pUsers, s->zUid, s->zGen))) session_end(p, s);
    }
}

/* The text of sessions.json (caller holds mu); the sessions count as
 * saved.  NULL when out of memory. */
static char *sessions_dump(idx_auth *p, size_t *pn)
{
    json_t *a = json_array(), *o = NULL;
    char *z = NULL;
    int ok = a != NULL;
    for (size_t i = 0; ok && i < SESSION_MAX; i++) {
        const session *s = &p->aSession[i];
        char zHash[65];
        if (!s->used) continue;
        sodium_bin2hex(zHash, sizeof zHash, s->aHash, sizeof s->aHash);
        json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "hash", zHash, "uid", s->zUid, "gen", s->zGen,
                              "csrf", s->zCsrf, "purpose", s->zPurpose, "created", (json_int_t)s->created,
                              "expires", (json_int_t)s->expires, "last", (json_int_t)s->last);
        ok = e && json_array_append_new(a, e) == 0;
    }
    if (ok) {
        o = json_pack("{s:i,s:O}", "version", 1, "sessions", a);
        z = o ? json_dumps(o, JSON_COMPACT) : NULL;
    }
    json_decref(o);
    json_decref(a);
    if (!z) return NULL;
    *pn = strlen(z);
    for (size_t i = 0; i < SESSION_MAX; i++) p->aSession[i].lastSaved = p->aSession[i].last;
    return z;
}

/* Release mu, then write sessions.json if the sessions changed: always
 * when force, else unless a write failed less than a minute ago.  The
 * write happens outside mu (it waits for the disk); dumps are numbered so
 * that an older one never replaces a newer. */
static void unlock_save(idx_auth *p, time_t now, int force)
{
    char *z = NULL;
    size_t n = 0;
    unsigned long seq = 0;
    if (p->dirty && (force || !p->failedAt || now - p->failedAt >= SESSION_LAZY) && (z = sessions_dump(p, &n)) != NULL) {
        seq = ++p->nDumpSeq;
        p->dirty = 0;
    }
    pthread_mutex_unlock(&p->mu);
    if (!z) return;
    char zPath[4200], zErr[512];
    int rc = PS_OK;
    sessions_path(p, zPath, sizeof zPath);
    pthread_mutex_lock(&p->muWrite);
    if (seq > p->nWrittenSeq) {
        rc = idx_file_replace(zPath, z, n, 0600, zErr, sizeof zErr);
        if (rc == PS_OK) p->nWrittenSeq = seq;
    }
    pthread_mutex_unlock(&p->muWrite);
    sodium_memzero(z, n);
    free(z);
    pthread_mutex_lock(&p->mu);
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "sessions: %s; they will not survive a restart until it can be written", zErr);
        p->dirty = 1;
        p->failedAt = now;
    } else if (seq >= p->nDumpSeq) {
        p->failedAt = 0;
    }
    pthread_mutex_unlock(&p->mu);
}

/* One session of the file into s; 0 if it is not well formed. */
static int session_parse(const json_t *e, session *s)
{
    const char *zHash = json_string_value(json_object_get(e, "hash"));
    const char *zUid = json_string_value(json_object_get(e, "uid"));
    const char *zGen = json_string_value(json_object_get(e, "gen"));
    const char *zCsrf = json_string_value(json_object_get(e, "csrf"));
    const char *zPurpose = json_string_value(json_object_get(e, "purpose"));
    json_t *pC = json_object_get(e, "created"), *pE = json_object_get(e, "expires"), *pL = json_object_get(e, "last");
    if (!hex_ok(zHash, 64) || !hex_ok(zUid, IDX_UID_LEN) || !hex_ok(zGen, IDX_UID_LEN) || !hex_ok(zCsrf, IDX_SID_LEN) ||
        !zPurpose || (*zPurpose && !idx_purpose_ok(zPurpose)) ||
        !json_is_integer(pC) || !json_is_integer(pE) || !json_is_integer(pL))
        return 0;
    memset(s, 0, sizeof *s);
    if (sodium_hex2bin(s->aHash, sizeof s->aHash, zHash, 64, NULL, NULL, NULL) != 0) return 0;
    memcpy(s->zUid, zUid, sizeof s->zUid);
    memcpy(s->zGen, zGen, sizeof s->zGen);
    memcpy(s->zCsrf, zCsrf, sizeof s->zCsrf);
    snprintf(s->zPurpose, sizeof s->zPurpose, "%s", zPurpose);
    s->created = (time_t)json_integer_value(pC);
    s->expires = (time_t)json_integer_value(pE);
    s->last = s->lastSaved = (time_t)json_integer_value(pL);
    s->used = 1;
    return 1;
}

/* The sessions kept by the last run.  Nothing here is fatal: a file that
 * cannot be read is logged and everyone logs in again. */
static void sessions_load(idx_auth *p, time_t now)
{
    char zPath[4200], zErr[512], *z = NULL;
    size_t n = 0, nBad = 0, nKept = 0;
    sessions_path(p, zPath, sizeof zPath);
    int rc = idx_file_read(zPath, SESSIONS_FILE_MAX, &z, &n, zErr, sizeof zErr);
    if (rc == PS_NOT_FOUND) return;
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_WARN, 0, "sessions: %s; earlier sessions are ignored (everyone logs in again)", zErr);
        return;
    }
    json_error_t je;
    json_t *o = json_loadb(z, n, 0, &je);
    json_t *a = json_object_get(o, "sessions");
    if (!json_is_array(a)) {
        IDX_LOG(IDX_LOG_WARN, 0, "sessions: %s is damaged (%s); earlier sessions are ignored (everyone logs in again)", zPath,
                o ? "no \"sessions\" array" : je.text);
        p->dirty = 1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        session s;
        if (nKept >= SESSION_MAX || !session_parse(e, &s)) {
            nBad++;
            continue;
        }
        /* a shorter session_hours applies to the sessions made before */
        if (s.expires > s.created + p->sessionSec) s.expires = s.created + p->sessionSec;
        if (session_dead(p, &s, now)) {
            p->dirty = 1;
        } else {
            p->aSession[nKept++] = s;
        }
        sodium_memzero(&s, sizeof s);
    }
    if (nBad) {
        IDX_LOG(IDX_LOG_WARN, 0, "sessions: %zu damaged entries of %s are ignored", nBad, zPath);
        p->dirty = 1;
    }
    json_decref(o);
    sodium_memzero(z, n);
    px_free(z);
}

/* Re-read users.json if it changed (caller holds mu); the sessions of
 * users who changed end.  A file replaced within the same second as it
 * was last read cannot be told by stat alone (same size, an inode number
 * used again, a coarse clock), so its text is compared then. */
static void maybe_reload(idx_auth *p)
{
    char zPath[4200], zErr[512], *z = NULL;
    size_t n = 0;
    struct stat st;
    users_path(p->zDataDir, "", zPath, sizeof zPath);
    if (stat(zPath, &st) != 0) memset(&st, 0, sizeof st);
    if (p->pUsers && !p->racy && st.st_ino == p->st.st_ino && st.st_size == p->st.st_size &&
        st.st_mtim.tv_sec == p->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == p->st.st_mtim.tv_nsec)
        return;
    int rc = users_read(p->zDataDir, &z, &n, zErr, sizeof zErr);
    if (rc != PS_OK) {
        IDX_LOG(IDX_LOG_ERROR, 0, "users: %s; keeping the users read before", zErr);
        p->st = st;
        p->racy = 0;
        return;
    }
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)(z ? z : ""), n, NULL, 0);
    p->st = st;
    p->racy = time(NULL) - st.st_mtim.tv_sec <= 1;
    if (p->pUsers && memcmp(h, p->aUsersHash, sizeof h) == 0) {
        if (z) sodium_memzero(z, n);
        px_free(z);
        return;
    }
    memcpy(p->aUsersHash, h, sizeof h);
    json_t *o = users_parse(z, n, zPath, zErr, sizeof zErr);
    if (z) sodium_memzero(z, n);
    px_free(z);
    if (!o) {
        IDX_LOG(IDX_LOG_ERROR, 0, "users: %s; keeping the users read before", zErr);
        return;
    }
    users_fill_ids(o);
    json_decref(p->pUsers);
    p->pUsers = o;
    sessions_sweep(p, now_of(p));
}

/* ---- open, close, login, callers ----------------------------------------- */

int idx_auth_open(const char *zDataDir, const idx_auth_opts *o, idx_auth **ppOut, char *zErr, size_t nErr)
{
    if (sodium_init() < 0) {
        snprintf(zErr, nErr, "libsodium 无法初始化");
        return PS_INTERNAL;
    }
    idx_auth *p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    p->zDataDir = px_strdup(zDataDir);
    p->xNow = o->xNow;
    p->sessionSec = o->sessionHours * 3600;
    p->idleSec = o->idleMinutes * 60;
    p->aSession = px_calloc(SESSION_MAX, sizeof *p->aSession);
    randombytes_buf(p->aKey, sizeof p->aKey);
    char zRand[33];
    random_hex(zRand, 32);
    int rc = PS_NOMEM;
    if (!p->zDataDir || !p->aSession || lt_init(&p->pairs, sizeof(pair_ent), o->nPairMax ? o->nPairMax : PAIR_MAX) ||
        lt_init(&p->addrs, sizeof(addr_ent), o->nAddrMax ? o->nAddrMax : ADDR_MAX) ||
        lt_init(&p->names, sizeof(name_ent), NAME_MAX_) ||
        crypto_pwhash_str(p->zDummy, zRand, strlen(zRand), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        goto fail;
    char zPath[4200], *z = NULL;
    size_t n = 0;
    users_path(zDataDir, "", zPath, sizeof zPath);
    if (stat(zPath, &p->st) != 0) memset(&p->st, 0, sizeof p->st);
    rc = users_read(zDataDir, &z, &n, zErr, nErr);
    if (rc == PS_OK) {
        crypto_generichash(p->aUsersHash, sizeof p->aUsersHash, (const unsigned char *)(z ? z : ""), n, NULL, 0);
        p->pUsers = users_parse(z, n, zPath, zErr, nErr);
        rc = p->pUsers ? PS_OK : PS_CONFIG;
    } else if (rc == PS_IO || rc == PS_TOO_BIG) {
        rc = PS_CONFIG;
    }
    if (z) sodium_memzero(z, n);
    px_free(z);
    if (rc != PS_OK) goto fail;
    p->racy = time(NULL) - p->st.st_mtim.tv_sec <= 1;
    users_fill_ids(p->pUsers);
    if (json_array_size(json_object_get(p->pUsers, "users")) == 0)
        IDX_LOG(IDX_LOG_WARN, 0, "no users yet: create the first admin with `indexd users add NAME --role admin --data-dir %s`", zDataDir);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->muWrite, NULL);
    time_t now = now_of(p);
    pthread_mutex_lock(&p->mu);
    sessions_load(p, now);
    sessions_sweep(p, now);
    unlock_save(p, now, 1);
    *ppOut = p;
    return PS_OK;
fail:
    json_decref(p->pUsers);
    px_free(p->pairs.a);
    px_free(p->addrs.a);
    px_free(p->names.a);
    px_free(p->aSession);
    px_free(p->zDataDir);
    px_free(p);
    return rc;
}

void idx_auth_close(idx_auth *p)
{
    if (!p) return;
    time_t now = now_of(p);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < SESSION_MAX; i++)
        if (p->aSession[i].used && p->aSession[i].last != p->aSession[i].lastSaved) p->dirty = 1;
    unlock_save(p, now, 1);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->muWrite);
    json_decref(p->pUsers);
    sodium_memzero(p->aSession, SESSION_MAX * sizeof *p->aSession);
    px_free(p->aSession);
    px_free(p->pairs.a);
    px_free(p->addrs.a);
    px_free(p->names.a);
    px_free(p->zDataDir);
    sodium_memzero(p, sizeof *p);
    px_free(p);
}

int idx_auth_login(idx_auth *p, const char *zUser, const char *zPassword, const char *zAddr,
                   idx_caller *pCaller, char *zSid, long *pRetryAfter)
{
    char zA[IDX_ADDR_MAX + 8], zHash[crypto_pwhash_STRBYTES], zGen[IDX_UID_LEN + 1] = "", zNew[IDX_SID_LEN + 1];
    unsigned char kPair[16], kAddr[16];
    time_t now = now_of(p);
    long wait = 0;
    int marked = 0;
    *pRetryAfter = 0;
    addr_limit_key(zAddr, zA, sizeof zA);
    lt_key(p, 'p', zUser, zA, kPair);
    lt_key(p, 'a', zA, NULL, kAddr);
    pthread_mutex_lock(&p->mu);
    maybe_reload(p);
    /* Refusals touch no table (so that they cost an attacker nothing and
     * make no entry churn); only attempts whose password is checked do. */
    lhead *a = lt_find(&p->addrs, kAddr);
    if (a && a->until > now) wait = (long)(a->until - now);
    pair_ent *pr = (pair_ent *)(void *)lt_find(&p->pairs, kPair);
    if (pr && !wait) {
        pair_fresh(pr, now);
        if (pr->hd.until > now) wait = (long)(pr->hd.until - now);
        else if (pr->hd.busy && pr->n + pr->hd.busy >= IDX_LOGIN_FREE) wait = 1;
    }
    if (!wait) {
        /* The attempt is marked as under way: concurrent guesses from one
         * pair cannot all slip through before the first one fails. */
        if (!pr) pr = (pair_ent *)(void *)lt_get(&p->pairs, kPair, now);
        if (pr) pr->hd.busy++, marked = 1;
        else warn_full(p, "(name, address) pairs", now);
    }
    if (wait) {
        pthread_mutex_unlock(&p->mu);
        *pRetryAfter = wait;
        return PS_TOO_MANY;
    }
    json_t *u = user_find(p->pUsers, zUser, NULL);
    const char *zStored = json_string_value(json_object_get(u, "password"));
    idx_caller c;
    memset(&c, 0, sizeof c);
    int usable = u && zStored && strlen(zStored) < sizeof zHash && caller_from_user(u, &c) == 0;
    snprintf(zHash, sizeof zHash, "%s", usable ? zStored : p->zDummy);
    if (usable) snprintf(zGen, sizeof zGen, "%s", sv(json_object_get(u, "gen"), ""));
    pthread_mutex_unlock(&p->mu);

    /* The slow part, outside the lock; unknown names cost the same. */
    int ok = crypto_pwhash_str_verify(zHash, zPassword, strlen(zPassword)) == 0 && usable;
    sodium_memzero(zHash, sizeof zHash);

    now = now_of(p);  /* a failure counts from when it is known */
    pthread_mutex_lock(&p->mu);
    pr = (pair_ent *)(void *)lt_find(&p->pairs, kPair);
    if (pr && marked && pr->hd.busy) pr->hd.busy--;
    if (!ok) {
        note_failure(p, kPair, kAddr, usable ? c.zUser : NULL, now);
        pthread_mutex_unlock(&p->mu);
        return PS_UNAUTHORIZED;
    }
    if (pr && !pr->hd.busy) lt_del(&p->pairs, &pr->hd);
    else if (pr) pr->n = 0, pr->hd.until = 0;
    /* The user may have changed while the password was checked. */
    maybe_reload(p);
    if (!user_by_uid(p->pUsers, c.zUid, zGen)) {
        pthread_mutex_unlock(&p->mu);
        return PS_UNAUTHORIZED;
    }
    /* A free or ended slot; a user with SESSION_PER_USER sessions gives
     * up their own idlest one (so no one can crowd the others out). */
    session *s = NULL, *pOwn = NULL;
    unsigned nOwn = 0;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        session *t = &p->aSession[i];
        if (t->used && session_dead(p, t, now)) session_end(p, t);
        if (!t->used && !s) s = t;
        if (t->used && strcmp(t->zUid, c.zUid) == 0) {
            nOwn++;
            if (!pOwn || t->last < pOwn->last) pOwn = t;
        }
    }
    if (nOwn >= SESSION_PER_USER || !s) s = pOwn;
    if (!s) {
        unlock_save(p, now, 1);
        *pRetryAfter = 60;
        return PS_TOO_MANY;  /* every slot held by other users' live sessions */
    }
    sodium_memzero(s, sizeof *s);
    random_hex(zNew, IDX_SID_LEN);
    sid_hash(zNew, s->aHash);
    random_hex(s->zCsrf, IDX_SID_LEN);
    memcpy(s->zUid, c.zUid, sizeof s->zUid);
    memcpy(s->zGen, zGen, sizeof s->zGen);
    s->created = s->last = s->lastSaved = now;
    s->expires = now + p->sessionSec;
    s->used = 1;
    p->dirty = 1;
    c.session = 1;
    memcpy(c.zCsrf, s->zCsrf, sizeof c.zCsrf);
    c.expires = s->expires;
    memcpy(zSid, zNew, IDX_SID_LEN + 1);
    sodium_memzero(zNew, sizeof zNew);
    unlock_save(p, now, 1);
    *pCaller = c;
    return PS_OK;
}

/* The live session of a session id, or NULL (caller holds mu). */
static session *session_find(idx_auth *p, const char *zSid, time_t now)
{
    unsigned char h[32];
    if (!zSid || strlen(zSid) != IDX_SID_LEN) return NULL;
    sid_hash(zSid, h);
    /* What is compared is a hash of the secret, so the time the
     * comparison takes tells an attacker nothing worth having. */
    for (size_t i = 0; i < SESSION_MAX; i++) {
        session *s = &p->aSession[i];
        if (!s->used || memcmp(s->aHash, h, sizeof h) != 0) continue;
        if (session_dead(p, s, now)) {
            session_end(p, s);
            return NULL;
        }
        return s;
    }
    return NULL;
}

int idx_auth_session(idx_auth *p, const char *zSid, idx_caller *pCaller)
{
    time_t now = now_of(p);
    int rc = PS_UNAUTHORIZED;
    pthread_mutex_lock(&p->mu);
    maybe_reload(p);
    session *s = session_find(p, zSid, now);
    json_t *u = s ? user_by_uid(p->pUsers, s->zUid, s->zGen) : NULL;
    if (u && caller_from_user(u, pCaller) == 0) {
        s->last = now;
        if (now - s->lastSaved >= SESSION_LAZY) p->dirty = 1;
        pCaller->session = 1;
        memcpy(pCaller->zCsrf, s->zCsrf, sizeof pCaller->zCsrf);
        memcpy(pCaller->zPurpose, s->zPurpose, sizeof pCaller->zPurpose);
        pCaller->expires = s->expires;
        rc = PS_OK;
    } else if (s) {
        session_end(p, s);  /* the user was deleted or changed */
    }
    unlock_save(p, now, 0);
    return rc;
}

int idx_auth_token(idx_auth *p, const char *zToken, idx_caller *pCaller)
{
    char zHex[65];
    int rc = PS_UNAUTHORIZED;
    if (!zToken || strlen(zToken) < 20 || strlen(zToken) > 200) return rc;
    hash_token(zToken, zHex);
    pthread_mutex_lock(&p->mu);
    maybe_reload(p);
    size_t i, j;
    json_t *u, *t;
    json_array_foreach(json_object_get(p->pUsers, "users"), i, u) {
        json_array_foreach(json_object_get(u, "tokens"), j, t) {
            const char *zH = json_string_value(json_object_get(t, "hash"));
            if (!zH || strlen(zH) != 64 || sodium_memcmp(zH, zHex, 64) != 0) continue;
            if (caller_from_user(u, pCaller) == 0) {
                const char *zP = json_string_value(json_object_get(t, "purpose"));
                if (zP) snprintf(pCaller->zPurpose, sizeof pCaller->zPurpose, "%s", zP);
                rc = PS_OK;
            }
            goto done;
        }
    }
done:
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void idx_auth_logout(idx_auth *p, const char *zSid)
{
    time_t now = now_of(p);
    pthread_mutex_lock(&p->mu);
    session *s = session_find(p, zSid, now);
    if (s) session_end(p, s);
    unlock_save(p, now, 1);
}

int idx_auth_set_purpose(idx_auth *p, const char *zSid, const char *zPurpose)
{
    time_t now = now_of(p);
    pthread_mutex_lock(&p->mu);
    session *s = session_find(p, zSid, now);
    if (s && strcmp(s->zPurpose, zPurpose) != 0) {
        snprintf(s->zPurpose, sizeof s->zPurpose, "%s", zPurpose);
        p->dirty = 1;
    }
    int rc = s ? PS_OK : PS_UNAUTHORIZED;
    unlock_save(p, now, 1);
    return rc;
}

/* ---- changes from the command line ----------------------------------- */

static int check_password(const char *z, char *zErr, size_t nErr)
{
    size_t n = strlen(z);
    if (n < 8 || n > 1024 || !proto_utf8_valid(z, n)) {
        snprintf(zErr, nErr, "密码须为 8 至 1024 字节的 UTF-8 文本");
        return PS_INVALID;
    }
    return PS_OK;
}

static int hash_password(const char *zPassword, char *zOut /* crypto_pwhash_STRBYTES */)
{
    if (sodium_init() < 0) return PS_INTERNAL;
    return crypto_pwhash_str(zOut, zPassword, strlen(zPassword), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? PS_OK : PS_NOMEM;
}

/* Apply one change under the lock: xChange edits the loaded users. */
typedef int (*change_fn)(json_t *pUsers, void *ctx, char *zErr, size_t nErr);

static int users_change(const char *zDataDir, change_fn xChange, void *ctx, char *zErr, size_t nErr)
{
    if (sodium_init() < 0) {
        snprintf(zErr, nErr, "libsodium 无法初始化");
        return PS_INTERNAL;
    }
    if (mkdir(zDataDir, 0700) != 0 && errno != EEXIST) {
        snprintf(zErr, nErr, "无法创建 %s：%s", zDataDir, proto_errno_cn(errno));
        return PS_IO;
    }
    int fd = users_lock(zDataDir, zErr, nErr);
    if (fd < 0) return PS_IO;
    json_t *o = users_load(zDataDir, zErr, nErr);
    int rc = o ? xChange(o, ctx, zErr, nErr) : PS_CONFIG;
    if (rc == PS_OK) rc = users_save(zDataDir, o, zErr, nErr);
    json_decref(o);
    close(fd);
    return rc;
}

typedef struct {
    const char *zName, *zRole, *zClearance, *zPassword, *zLabel, *zPurpose, *zTokenId;
    int ids, add;
    char *zToken;
    size_t nToken;
    int changed;   /* out: something changed (so sessions end) */
    int nRevoked;  /* out: API tokens removed */
} change;

/* A new generation: the user's sessions end at their next request. */
static void new_gen(json_t *u)
{
    char zGen[IDX_UID_LEN + 1];
    random_hex(zGen, IDX_UID_LEN);
    json_object_set_new(u, "gen", json_string(zGen));
}

/* Remove all the user's API tokens; their number. */
static int drop_tokens(json_t *u)
{
    json_t *a = json_object_get(u, "tokens");
    int n = (int)json_array_size(a);
    if (json_is_array(a)) json_array_clear(a);
    else json_object_set_new(u, "tokens", json_array());
    return n;
}

static int apply_fields(json_t *u, change *c, char *zErr, size_t nErr)
{
    int role0 = idx_role_lookup(json_string_value(json_object_get(u, "role")));
    int level0 = idx_clearance_level(json_string_value(json_object_get(u, "clearance")));
    int ids0 = json_is_true(json_object_get(u, "ids"));
    int role = role0;
    if (c->zRole) {
        if ((role = idx_role_lookup(c->zRole)) < 0) {
            snprintf(zErr, nErr, "角色“%s”不是 admin（管理员）、archivist（档案员）、evaluator（评估员）、vendor（数字化厂商）之一", c->zRole);
            return PS_INVALID;
        }
        json_object_set_new(u, "role", json_string(idx_role_name(role)));
    }
    int level = level0;
    if (c->zClearance) {
        level = idx_clearance_level(c->zClearance);
        if (level < 0 || !*c->zClearance) {
            snprintf(zErr, nErr, "密级“%s”不是 公开、内部、限制、秘密、机密、绝密 之一", c->zClearance);
            return PS_INVALID;
        }
    } else if (c->add) {
        level = aRole[role].clearance;
    }
    if (c->zClearance || c->add) json_object_set_new(u, "clearance", json_string(idx_clearance_name(level)));
    int ids = c->ids >= 0 ? c->ids : c->add ? aRole[role].ids : ids0;
    json_object_set_new(u, "ids", json_boolean(ids));
    c->changed = role != role0 || level != level0 || ids != ids0;
    if (c->zPassword) {
        char zHash[crypto_pwhash_STRBYTES];
        int rc = check_password(c->zPassword, zErr, nErr);
        if (rc == PS_OK && (rc = hash_password(c->zPassword, zHash)) != PS_OK) snprintf(zErr, nErr, "无法计算密码的散列值");
        if (rc != PS_OK) return rc;
        json_object_set_new(u, "password", json_string(zHash));
        c->changed = 1;
    }
    return PS_OK;
}

static int ch_add(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    if (!idx_user_name_ok(c->zName)) {
        snprintf(zErr, nErr, "用户名须为 1 至 64 字节，不含空格及 \"'<>&/\\: 这些字符");
        return PS_INVALID;
    }
    if (user_find(pUsers, c->zName, NULL)) {
        snprintf(zErr, nErr, "用户“%s”已存在（修改请用 passwd 或 set）", c->zName);
        return PS_CONFLICT;
    }
    if (!c->zRole) {
        snprintf(zErr, nErr, "新用户须用 --role 指定角色：admin|archivist|evaluator|vendor");
        return PS_INVALID;
    }
    char zNow[40], zUid[IDX_UID_LEN + 1];
    idx_iso_time(time(NULL), zNow, sizeof zNow);
    random_hex(zUid, IDX_UID_LEN);
    json_t *u = json_pack("{s:s,s:s,s:s,s:[]}", "name", c->zName, "uid", zUid, "created", zNow, "tokens");
    if (!u) return PS_NOMEM;
    new_gen(u);
    int rc = apply_fields(u, c, zErr, nErr);
    if (rc == PS_OK && json_array_append(json_object_get(pUsers, "users"), u) != 0) rc = PS_NOMEM;
    json_decref(u);
    return rc;
}

/* The user a change names, or NULL with zErr saying there is none. */
static json_t *named_user(json_t *pUsers, const change *c, size_t *pIdx, char *zErr, size_t nErr)
{
    json_t *u = user_find(pUsers, c->zName, pIdx);
    if (!u) snprintf(zErr, nErr, "没有用户“%s”", c->zName);
    return u;
}

/* set and passwd: a change ends the user's sessions and revokes their
 * tokens, so that nothing made under the old rights or password goes on. */
static int ch_set(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    int rc = apply_fields(u, c, zErr, nErr);
    if (rc == PS_OK && c->changed) {
        new_gen(u);
        c->nRevoked = drop_tokens(u);
    }
    return rc;
}

static int ch_delete(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    size_t i;
    json_t *u = named_user(pUsers, c, &i, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    c->nRevoked = (int)json_array_size(json_object_get(u, "tokens"));
    c->changed = 1;
    json_array_remove(json_object_get(pUsers, "users"), i);
    return PS_OK;
}

static int ch_sessions(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    new_gen(u);
    c->changed = 1;
    return PS_OK;
}

static int ch_token(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    if (c->zPurpose && !idx_purpose_ok(c->zPurpose)) {
        snprintf(zErr, nErr, "利用目的须为 1 至 100 个 UTF-8 字符，不含控制字符和换行");
        return PS_INVALID;
    }
    unsigned char r[32];
    char zB64[64], zHex[65], zNow[40];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(zB64, sizeof zB64, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(c->zToken, c->nToken, "ixt_%s", zB64);
    sodium_memzero(r, sizeof r);
    sodium_memzero(zB64, sizeof zB64);
    hash_token(c->zToken, zHex);
    idx_iso_time(time(NULL), zNow, sizeof zNow);
    json_t *t = json_pack("{s:s%,s:s,s:s,s:s}", "id", zHex, (size_t)8, "hash", zHex, "created", zNow, "label",
                          c->zLabel ? c->zLabel : "");
    if (!t) return PS_NOMEM;
    if (c->zPurpose) json_object_set_new(t, "purpose", json_string(c->zPurpose));
    json_t *a = json_object_get(u, "tokens");
    if (!json_is_array(a)) json_object_set_new(u, "tokens", a = json_array());
    json_array_append_new(a, t);
    return PS_OK;
}

static int ch_revoke(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    json_t *a = json_object_get(u, "tokens");
    if (!c->zTokenId) {
        c->nRevoked = drop_tokens(u);
        return PS_OK;
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        if (strcmp(sv(json_object_get(json_array_get(a, i), "id"), ""), c->zTokenId) == 0) {
            json_array_remove(a, i);
            c->nRevoked = 1;
            return PS_OK;
        }
    snprintf(zErr, nErr, "用户“%s”没有编号为 %s 的令牌", c->zName, c->zTokenId);
    return PS_NOT_FOUND;
}

int idx_users_add(const char *zDataDir, const char *zName, const char *zRole, const char *zClearance, int ids,
                  const char *zPassword, char *zErr, size_t nErr)
{
    change c = {.zName = zName, .zRole = zRole, .zClearance = zClearance, .zPassword = zPassword, .ids = ids, .add = 1};
    return users_change(zDataDir, ch_add, &c, zErr, nErr);
}

int idx_users_token(const char *zDataDir, const char *zName, const char *zLabel, const char *zPurpose,
                    char *zToken, size_t nToken, char *zErr, size_t nErr)
{
    change c = {.zName = zName, .zLabel = zLabel, .zPurpose = zPurpose, .ids = -1, .zToken = zToken, .nToken = nToken};
    return users_change(zDataDir, ch_token, &c, zErr, nErr);
}

int idx_users_set(const char *zDataDir, const char *zName, const char *zRole, const char *zClearance, int ids,
                  const char *zPassword, int *pnRevoked, char *zErr, size_t nErr)
{
    change c = {.zName = zName, .zRole = zRole, .zClearance = zClearance, .zPassword = zPassword, .ids = ids};
    int rc = users_change(zDataDir, ch_set, &c, zErr, nErr);
    if (pnRevoked) *pnRevoked = rc == PS_OK ? c.nRevoked : 0;
    return rc;
}

int idx_users_delete(const char *zDataDir, const char *zName, int *pnRevoked, char *zErr, size_t nErr)
{
    change c = {.zName = zName, .ids = -1};
    int rc = users_change(zDataDir, ch_delete, &c, zErr, nErr);
    if (pnRevoked) *pnRevoked = rc == PS_OK ? c.nRevoked : 0;
    return rc;
}

int idx_users_end_sessions(const char *zDataDir, const char *zName, char *zErr, size_t nErr)
{
    change c = {.zName = zName, .ids = -1};
    return users_change(zDataDir, ch_sessions, &c, zErr, nErr);
}

/* A password from the terminal (twice, not echoed) or one line of stdin. */
static int read_password(char *z, size_t n)
{
    int tty = isatty(STDIN_FILENO);
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char zLine[1100];
        struct termios old, quiet;
        if (tty) {
            fprintf(stderr, round ? "再输入一次：" : "密码：");
            tcgetattr(STDIN_FILENO, &old);
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        char *r = fgets(zLine, sizeof zLine, stdin);
        if (tty) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
            fputc('\n', stderr);
        }
        if (!r) return -1;
        zLine[strcspn(zLine, "\r\n")] = 0;
        if (round == 0) snprintf(z, n, "%s", zLine);
        else if (strcmp(z, zLine) != 0) {
            fprintf(stderr, "两次输入的密码不一致\n");
            sodium_memzero(zLine, sizeof zLine);
            return -1;
        }
        sodium_memzero(zLine, sizeof zLine);
    }
    return 0;
}

static void users_usage(void)
{
    fprintf(stderr,
            "用法：indexd users add 用户名 --role admin|archivist|evaluator|vendor [--clearance 秘密] [--ids|--no-ids]\n"
            "      indexd users set 用户名 [--role 角色] [--clearance 密级] [--ids|--no-ids]\n"
            "      indexd users passwd 用户名\n"
            "      indexd users list\n"
            "      indexd users delete 用户名\n"
            "      indexd users token 用户名 [--label 标注] [--purpose 利用目的]   （生成 API 令牌，令牌只显示一次）\n"
            "      indexd users revoke 用户名 [令牌编号]                           （不写编号：吊销该用户的全部令牌）\n"
            "      indexd users revoke 用户名 --sessions                           （只结束该用户的浏览器会话）\n"
            "  角色：admin 管理员，archivist 档案员，evaluator 评估员，vendor 数字化厂商；\n"
            "  --ids：可查看身份证号、银行账号、电话号码等个人号码；--no-ids：这些号码遮盖显示。\n"
            "  set（有所更改时）、passwd 和 delete 会结束该用户的浏览器会话，并同时吊销其全部 API 令牌；\n"
            "  以旧用户名重新添加的用户是新用户。\n"
            "  各命令都可加 --data-dir 目录（默认 var/index）；密码从终端读取，或从标准输入读取一行。\n");
}

static void users_list(const char *zDataDir)
{
    char zErr[512];
    json_t *o = users_load(zDataDir, zErr, sizeof zErr);
    if (!o) {
        fprintf(stderr, "indexd users：%s\n", zErr);
        return;
    }
    size_t i, j;
    json_t *u, *t;
    /* the header is written out: printf pads by bytes, a Chinese word takes 3 a character and 2 columns */
    printf("用户名           角色       密级 个人号码 用户编号 令牌（编号:标注）\n");
    json_array_foreach(json_object_get(o, "users"), i, u) {
        int role = idx_role_lookup(json_string_value(json_object_get(u, "role")));
        printf("%-16s %-10s %-6s %s %-8.8s", sv(json_object_get(u, "name"), "?"), idx_role_name(role),
               sv(json_object_get(u, "clearance"), "?"), json_is_true(json_object_get(u, "ids")) ? "可见    " : "遮盖    ",
               sv(json_object_get(u, "uid"), "?"));
        json_array_foreach(json_object_get(u, "tokens"), j, t) {
            printf(" %s%s%s", sv(json_object_get(t, "id"), "?"),
                   *(sv(json_object_get(t, "label"), "")) ? ":" : "",
                   sv(json_object_get(t, "label"), ""));
        }
        printf("\n");
    }
    json_decref(o);
}

/* What a change did to the user's sessions and tokens, for the operator. */
static void say_revoked(const char *zCmd, const change *c)
{
    if (strcmp(zCmd, "delete") == 0) {
        fprintf(stderr, "indexd users delete %s：已删除；该用户的浏览器会话在其下一次请求时结束，"
                        "已吊销 %d 个 API 令牌\n", c->zName, c->nRevoked);
    } else if (!c->changed && strcmp(zCmd, "set") == 0) {
        fprintf(stderr, "indexd users set %s：没有需要更改的内容\n", c->zName);
    } else if (strcmp(zCmd, "revoke") == 0 && !c->changed) {
        fprintf(stderr, "indexd users revoke %s：已吊销 %d 个 API 令牌；生成新令牌请用 `indexd users token %s`\n",
                c->zName, c->nRevoked, c->zName);
    } else if (strcmp(zCmd, "revoke") == 0) {
        fprintf(stderr, "indexd users revoke %s --sessions：完成；该用户的浏览器会话在其下一次请求时结束"
                        "（API 令牌保留）\n", c->zName);
    } else {
        fprintf(stderr, "indexd users %s %s：完成；该用户的浏览器会话在其下一次请求时结束；"
                        "已吊销 %d 个 API 令牌，生成新令牌请用 `indexd users token %s`\n",
                zCmd, c->zName, c->nRevoked, c->zName);
    }
}

int idx_users_main(const char *zDataDir, int argc, char **argv)
{
    change c = {0};
    char zErr[512], zPassword[1100] = "", zToken[128];
    const char *zCmd = argc > 1 ? argv[1] : NULL;
    const char *azPos[2] = {NULL, NULL};
    int nPos = 0, sessions = 0;
    c.ids = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **pz = NULL;
        if (strcmp(a, "--role") == 0) pz = &c.zRole;
        else if (strcmp(a, "--clearance") == 0) pz = &c.zClearance;
        else if (strcmp(a, "--label") == 0) pz = &c.zLabel;
        else if (strcmp(a, "--purpose") == 0) pz = &c.zPurpose;
        else if (strcmp(a, "--data-dir") == 0 || strcmp(a, "--data_dir") == 0) pz = &zDataDir;
        else if (strncmp(a, "--data-dir=", 11) == 0) { zDataDir = a + 11; continue; }
        else if (strcmp(a, "--ids") == 0) { c.ids = 1; continue; }
        else if (strcmp(a, "--no-ids") == 0) { c.ids = 0; continue; }
        else if (strcmp(a, "--sessions") == 0) { sessions = 1; continue; }
        else if (a[0] == '-' || nPos == 2) {
            fprintf(stderr, "indexd users：无法识别的参数“%s”\n", a);
            users_usage();
            return 2;
        } else {
            azPos[nPos++] = a;
            continue;
        }
        if (++i >= argc) {
            fprintf(stderr, "indexd users：%s 后须写值\n", a);
            return 2;
        }
        *pz = argv[i];
    }
    c.zName = azPos[0];
    c.zTokenId = azPos[1];
    if (!zCmd || (strcmp(zCmd, "list") != 0 && !c.zName) ||
        (sessions && (strcmp(zCmd, "revoke") != 0 || c.zTokenId))) {
        users_usage();
        return 2;
    }
    int rc;
    if (strcmp(zCmd, "list") == 0) {
        users_list(zDataDir);
        return 0;
    } else if (strcmp(zCmd, "add") == 0 || strcmp(zCmd, "passwd") == 0) {
        if (read_password(zPassword, sizeof zPassword) != 0) {
            fprintf(stderr, "indexd users：未输入密码\n");
            sodium_memzero(zPassword, sizeof zPassword);
            return 2;
        }
        c.zPassword = zPassword;
        c.add = zCmd[0] == 'a';
        rc = users_change(zDataDir, c.add ? ch_add : ch_set, &c, zErr, sizeof zErr);
        sodium_memzero(zPassword, sizeof zPassword);
    } else if (strcmp(zCmd, "set") == 0) {
        rc = users_change(zDataDir, ch_set, &c, zErr, sizeof zErr);
    } else if (strcmp(zCmd, "delete") == 0) {
        rc = users_change(zDataDir, ch_delete, &c, zErr, sizeof zErr);
    } else if (strcmp(zCmd, "token") == 0) {
        c.zToken = zToken;
        c.nToken = sizeof zToken;
        rc = users_change(zDataDir, ch_token, &c, zErr, sizeof zErr);
        if (rc == PS_OK) {
            fprintf(stderr, "用户 %s 的 API 令牌（只显示这一次，请像密码一样妥善保管）：\n", c.zName);
            printf("%s\n", zToken);
            fflush(stdout);
        }
        sodium_memzero(zToken, sizeof zToken);
    } else if (strcmp(zCmd, "revoke") == 0) {
        rc = users_change(zDataDir, sessions ? ch_sessions : ch_revoke, &c, zErr, sizeof zErr);
    } else {
        users_usage();
        return 2;
    }
    if (rc != PS_OK) {
        fprintf(stderr, "indexd users %s：%s\n", zCmd, zErr);
        return 1;
    }
    if (strcmp(zCmd, "add") == 0) fprintf(stderr, "indexd users add %s：已添加\n", c.zName);
    else if (strcmp(zCmd, "token") != 0) say_revoked(zCmd, &c);
    return 0;
}

int idx_purpose_ok(const char *z)
{
    size_t n = z ? strlen(z) : 0;
    return n > 0 && n <= IDX_PURPOSE_MAX && proto_text_check(z, n, NULL) == PS_OK && !strpbrk(z, "\t\r\n") &&
           proto_utf8_count(z, n) <= 100;
}

int idx_caller_csrf_ok(const idx_caller *c, const char *z)
{
    return c->session && z && strlen(z) == IDX_SID_LEN && strlen(c->zCsrf) == IDX_SID_LEN &&
           sodium_memcmp(c->zCsrf, z, IDX_SID_LEN) == 0;
}
