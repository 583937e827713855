/* Access control: users and roles, passwords (argon2id from libsodium),
 * API tokens (kept as BLAKE2b hashes), browser sessions with a CSRF token,
 * and the limiting of failed logins.
 *
 * Users live in <data_dir>/users.json (mode 0600), written whole to a
 * temporary file and renamed, under an advisory lock; the daemon re-reads
 * the file when it changes, so `indexd users …` works while it runs.
 * Sessions live in the daemon's memory only (a restart logs everyone out). */
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
#define IDX_LOGIN_FAILS 5    /* failures within IDX_LOGIN_WINDOW that lock a name */
#define IDX_LOGIN_FAILS_ADDR 20 /* … that lock a client address (an office may share one) */
#define IDX_LOGIN_WINDOW 900 /* seconds */

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


/* The caller of one request. */
typedef struct {
    char zUser[IDX_USER_MAX + 1];
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
} idx_auth_opts;

int idx_auth_open(const char *zDataDir, const idx_auth_opts *o, idx_auth **ppOut, char *zErr, size_t nErr);
void idx_auth_close(idx_auth *p);

/* Log in.  On PS_OK, *pCaller is filled and zSid (IDX_SID_LEN + 1 bytes)
 * receives the new session id.  PS_UNAUTHORIZED for a wrong name or
 * password (the same answer for both), PS_TOO_MANY with *pRetryAfter
 * seconds when the name or the address zAddr is locked out. */
int idx_auth_login(idx_auth *p, const char *zUser, const char *zPassword, const char *zAddr,
                   idx_caller *pCaller, char *zSid, long *pRetryAfter);
/* The caller of a session id or an API token; PS_UNAUTHORIZED if none. */
int idx_auth_session(idx_auth *p, const char *zSid, idx_caller *pCaller);
int idx_auth_token(idx_auth *p, const char *zToken, idx_caller *pCaller);
void idx_auth_logout(idx_auth *p, const char *zSid);
/* Does z match the session's CSRF token (constant time)? */
int idx_caller_csrf_ok(const idx_caller *c, const char *z);
int idx_auth_set_purpose(idx_auth *p, const char *zSid, const char *zPurpose);

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

/* "2026-11-23T10:01:02+08:00" in local time. */
void idx_iso_time(time_t t, char *z, size_t n);

#endif
