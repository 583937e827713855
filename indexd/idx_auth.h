/* Access control: users and roles, passwords (argon2id from libsodium),
 * API tokens (kept as BLAKE2b hashes), browser sessions with a CSRF token,
 * and the limiting of failed logins.
 *
 * Users live in <data_dir>/users.json (mode 0600), written whole to a
 * temporary file and renamed, under an advisory lock; the daemon re-reads
 * the file when it changes, so `indexd users …` works while it runs and
 * takes effect on the next request.  Each user has a random uid (new at
 * `users add`: a name deleted and added again is another user) and a
 * generation, gen, that every change of password, role, clearance or ids
 * (and `users revoke NAME --sessions`) replaces; such a change also removes
 * the user's API tokens.  A user written before uids existed gets a uid and
 * gen derived from its stored entry (the same on every read, so the daemon
 * needs to write nothing); the next change by `indexd users` stores them.
 *
 * Sessions carry the uid and gen they were made for and end when the user
 * no longer has both.  They are kept in <data_dir>/sessions.json (mode
 * 0600) so that they survive a restart: the session id only as its BLAKE2b
 * hash, the uid, gen, CSRF token, purpose, expiry and last use.  The file
 * is replaced durably on login, logout, a purpose change and when sessions
 * end; the last use alone is written lazily (at most once a minute per
 * session, and at close), so after a crash a session may end up to a
 * minute early.  A damaged file is logged and ignored: everyone logs in
 * again.
 *
 * Failed logins are limited so that no outsider can lock a user out: per
 * (user name, client address) pair, from the 4th failure within 15 minutes
 * on, each attempt must wait 2^(k-3) seconds after the k-th failure (at
 * most 15 minutes); a correct password from an address without recent
 * failures for that name is never delayed.  A client address with 20 failures within 15 minutes (any names)
 * is refused for 15 minutes.  An IPv6 client counts by its /64 (one host
 * holds a whole /64).  A user name failing from many addresses is logged,
 * never locked. */
#ifndef IDX_AUTH_H
#define IDX_AUTH_H

#include <stddef.h>
#include <time.h>

typedef enum { IDX_ROLE_ADMIN, IDX_ROLE_ARCHIVIST, IDX_ROLE_EVALUATOR, IDX_ROLE_VENDOR, IDX_ROLE__COUNT } idx_role;

/* What a role may do (see the table in proto/README.md). */
enum {
    IDX_CAN_SEARCH = 1 << 0,   /* search, a record's catalog fields */
    IDX_CAN_VIEW = 1 << 1,     /* page text, boxes and images */
    IDX_CAN_IMPORT = 1 << 2,   /* catalogs, records, pages, images, deliveries */
    IDX_CAN_VENDOR_REPORTS = 1 << 3, /* coverage and acceptance */
    IDX_CAN_REPORTS = 1 << 4,  /* catalog audit, ledger, timed tests */
    IDX_CAN_REGISTER = 1 << 5, /* read and export the use register */
    IDX_CAN_REQUEST = 1 << 6,  /* ask for an approval */
    IDX_CAN_APPROVE = 1 << 7,  /* decide approvals; needs none itself */
};

#define IDX_USER_MAX 64      /* bytes of a user name */
#define IDX_PURPOSE_MAX 400  /* bytes of a purpose of use (100 characters) */
#define IDX_SID_LEN 64       /* hex characters of a session id or CSRF token */
#define IDX_UID_LEN 32       /* hex characters of a user's uid or gen */
#define IDX_ADDR_MAX 46      /* bytes of a client address as text (INET6_ADDRSTRLEN) */
#define IDX_LOGIN_FREE 3     /* failures of one (name, address) pair before delays start */
#define IDX_LOGIN_FAILS_ADDR 20 /* failures within IDX_LOGIN_WINDOW that lock a client address */
#define IDX_LOGIN_WINDOW 900 /* seconds: the window, the longest delay, an address's lock */
#define IDX_LOGIN_ATTACK_ADDRS 10 /* addresses failing for one name that make a warning */

const char *idx_role_name(int role);    /* "archivist" */
const char *idx_role_cn(int role);      /* "档案员" */
int idx_role_lookup(const char *z);     /* by either name; -1 if none */
unsigned idx_role_perms(int role);

/* 密级 levels: "" or 公开 0, 内部 1, 限制 2, 秘密 3, 机密 4, 绝密 5; -1 if
 * not one of them.  A user sees records whose level is at most theirs. */
int idx_clearance_level(const char *z);
const char *idx_clearance_name(int level);

/* Is zName acceptable as a user name: 1-64 bytes of UTF-8 without spaces,
 * control characters or any of "'<>&/\:; */
int idx_user_name_ok(const char *zName);


/* Is z a purpose of use (利用目的): 1-100 characters of UTF-8 without
 * control characters or line breaks?  The one rule for sessions, tokens,
 * ?purpose= and approval requests. */
int idx_purpose_ok(const char *z);

/* The caller of one request. */
typedef struct {
    char zUser[IDX_USER_MAX + 1];
    char zUid[IDX_UID_LEN + 1];         /* the user's uid: approvals are keyed by it */
    int role;
    unsigned perms;
    int clearance;
    int ids;                            /* may see ID numbers */
    int session;                        /* 1: browser session, 0: API token */
    char zCsrf[IDX_SID_LEN + 1];        /* sessions only */
    char zPurpose[IDX_PURPOSE_MAX + 1]; /* "" when none given yet */
    time_t expires;                     /* sessions only */
} idx_caller;

typedef struct idx_auth idx_auth;

typedef struct {
    long sessionHours;  /* a session ends this long after login */
    long idleMinutes;   /* … or this long after its last request */
    /* For tests; 0 or NULL: the defaults. */
    time_t (*xNow)(void);  /* the clock (time(NULL)) */
    size_t nPairMax;       /* (name, address) pairs with recent failures kept (16384) */
    size_t nAddrMax;       /* addresses with recent failures kept (4096) */
} idx_auth_opts;

/* Read users.json (PS_CONFIG with zErr if it is damaged) and the sessions
 * of sessions.json (a damaged file is logged and ignored; expired sessions
 * and those of changed users are dropped). */
int idx_auth_open(const char *zDataDir, const idx_auth_opts *o, idx_auth **ppOut, char *zErr, size_t nErr);
/* Writes the sessions' last use if it changed, then frees everything. */
void idx_auth_close(idx_auth *p);

/* Log in from the client address zAddr (see idx_client_addr; NULL or ""
 * when unknown).  On PS_OK, *pCaller is filled and zSid (IDX_SID_LEN + 1
 * bytes) receives the new session id: the daemon keeps only its hash, and
 * the caller must sodium_memzero() zSid, and any cookie text made from it,
 * once the answer is built.  PS_UNAUTHORIZED for a wrong name or password
 * (the same answer, in the same time, for both), PS_TOO_MANY with
 * *pRetryAfter seconds when the (name, address) pair must wait or the
 * address is locked (the password is then not checked), or when every
 * session slot is held by live sessions. */
int idx_auth_login(idx_auth *p, const char *zUser, const char *zPassword, const char *zAddr,
                   idx_caller *pCaller, char *zSid, long *pRetryAfter);
/* The caller of a session id or an API token; PS_UNAUTHORIZED if none.  A
 * session whose user was deleted or changed since the login (another uid or
 * gen) ends here, as does one past its expiry or idle time. */
int idx_auth_session(idx_auth *p, const char *zSid, idx_caller *pCaller);
int idx_auth_token(idx_auth *p, const char *zToken, idx_caller *pCaller);
void idx_auth_logout(idx_auth *p, const char *zSid);
/* Does z match the session's CSRF token (constant time)? */
int idx_caller_csrf_ok(const idx_caller *c, const char *z);
int idx_auth_set_purpose(idx_auth *p, const char *zSid, const char *zPurpose);

/* The client's address: zPeer (the TCP peer), or, when zPeer is one of the
 * trusted proxies (comma-separated list, may be NULL), the right-most
 * address of X-Forwarded-For that is not itself a trusted proxy.
 * zForwardedFor is the header's value (several headers joined by commas, in
 * order; may be NULL).  Addresses are written in their canonical form
 * (inet_ntop; an IPv4-mapped IPv6 address as IPv4) so that one client has
 * one key.  When the header is absent, holds only trusted proxies, or its
 * chosen entry is not an address, the answer is zPeer.  nOut should be at
 * least IDX_ADDR_MAX; zOut is "" when zPeer is NULL. */
void idx_client_addr(const char *zPeer, const char *zForwardedFor, const char *zTrusted, char *zOut, size_t nOut);

/* `indexd users …` on the server: argv[0] is "users".  Prints to stdout and
 * stderr; returns the exit status. */
int idx_users_main(const char *zDataDir, int argc, char **argv);

/* The same operations for programs and tests (the password in clear is
 * only hashed, never kept).  zClearance may be NULL (the role's default),
 * ids < 0 the role's default. */
int idx_users_add(const char *zDataDir, const char *zName, const char *zRole, const char *zClearance, int ids,
                  const char *zPassword, char *zErr, size_t nErr);
/* A new token for user zName into zToken (at least 64 bytes). */
int idx_users_token(const char *zDataDir, const char *zName, const char *zLabel, const char *zPurpose,
                    char *zToken, size_t nToken, char *zErr, size_t nErr);
/* Change a user: zRole, zClearance NULL and ids < 0 leave them; zPassword
 * NULL keeps the password.  When something changed (a password always
 * does) the user gets a new gen, which ends their sessions, and loses
 * their API tokens: their number in *pnRevoked (may be NULL). */
int idx_users_set(const char *zDataDir, const char *zName, const char *zRole, const char *zClearance, int ids,
                  const char *zPassword, int *pnRevoked, char *zErr, size_t nErr);
/* Delete a user (sessions end, tokens go with it: their number in
 * *pnRevoked, may be NULL). */
int idx_users_delete(const char *zDataDir, const char *zName, int *pnRevoked, char *zErr, size_t nErr);
/* End a user's sessions (a new gen) and nothing else. */
int idx_users_end_sessions(const char *zDataDir, const char *zName, char *zErr, size_t nErr);

/* "2026-11-23T10:01:02+08:00" in local time. */
void idx_iso_time(time_t t, char *z, size_t n);

#endif
