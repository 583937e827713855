/* Users, passwords, tokens, sessions and failed-login limiting. */
#include "idx_auth.h"
#include "idx_log.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
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

static void users_path(const char *zDataDir, const char *zSuffix, char *z, size_t n)
{
    snprintf(z, n, "%s/users.json%s", zDataDir, zSuffix);
}

/* The users file as JSON ({"version":1,"users":[…]}), or an empty one when
 * it does not exist. */
static json_t *users_load(const char *zDataDir, char *zErr, size_t nErr)
{
    char zPath[4200];
    json_error_t je;
    users_path(zDataDir, "", zPath, sizeof zPath);
    if (access(zPath, F_OK) != 0 && errno == ENOENT) return json_pack("{s:i,s:[]}", "version", 1, "users");
    json_t *o = json_load_file(zPath, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(zErr, nErr, "%s: %s (line %d)", zPath, je.text, je.line);
        return NULL;
    }
    if (!json_is_array(json_object_get(o, "users"))) {
        snprintf(zErr, nErr, "%s: no \"users\" array", zPath);
        json_decref(o);
        return NULL;
    }
    return o;
}

static int users_save(const char *zDataDir, json_t *o, char *zErr, size_t nErr)
{
    char zPath[4200], zTmp[4200];
    users_path(zDataDir, "", zPath, sizeof zPath);
    users_path(zDataDir, ".tmp", zTmp, sizeof zTmp);
    char *z = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!z) return PS_NOMEM;
    int fd = open(zTmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t n = strlen(z);
    int ok = fd >= 0 && write(fd, z, n) == (ssize_t)n && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    free(z);
    if (fd >= 0 && close(fd) != 0) ok = 0;
    if (!ok || rename(zTmp, zPath) != 0) {
        snprintf(zErr, nErr, "cannot write %s: %s", zPath, strerror(errno));
        unlink(zTmp);
        return PS_IO;
    }
    int dfd = open(zDataDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { fsync(dfd); close(dfd); }
    return PS_OK;
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

/* Fill a caller from a user object; -1 if the object is not usable. */
static int caller_from_user(const json_t *u, idx_caller *c)
{
    const char *zName = json_string_value(json_object_get(u, "name"));
    int role = idx_role_lookup(json_string_value(json_object_get(u, "role")));
    int level = idx_clearance_level(json_string_value(json_object_get(u, "clearance")));
    if (!zName || strlen(zName) > IDX_USER_MAX || role < 0 || level < 0) return -1;
    memset(c, 0, sizeof *c);
    snprintf(c->zUser, sizeof c->zUser, "%s", zName);
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
        snprintf(zErr, nErr, "cannot lock %s: %s", zPath, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

/* ---- the daemon's state --------------------------------------------- */

typedef struct {
    char zSid[IDX_SID_LEN + 1];
    char zUser[IDX_USER_MAX + 1];
    char zCsrf[IDX_SID_LEN + 1];
    char zPurpose[IDX_PURPOSE_MAX + 1];
    time_t expires, last;
} session;

typedef struct {
    char zKey[IDX_USER_MAX + 64];
    int n;
    time_t first, until;
} fail;

#define SESSION_MAX 4096
#define FAIL_MAX 512
#define SESSION_PER_USER 16

struct idx_auth {
    pthread_mutex_t mu;
    char *zDataDir;
    json_t *pUsers;
    struct stat st;  /* of users.json when read */
    long sessionSec, idleSec;
    session *aSession;
    size_t nSession;
    fail aFail[FAIL_MAX];
    char zDummy[crypto_pwhash_STRBYTES]; /* verified for unknown names */
};

/* Re-read users.json if it changed (caller holds mu). */
static void maybe_reload(idx_auth *p)
{
    char zPath[4200], zErr[512];
    struct stat st;
    users_path(p->zDataDir, "", zPath, sizeof zPath);
    if (stat(zPath, &st) != 0) memset(&st, 0, sizeof st);
    if (p->pUsers && st.st_ino == p->st.st_ino && st.st_size == p->st.st_size &&
        st.st_mtim.tv_sec == p->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == p->st.st_mtim.tv_nsec)
        return;
    json_t *o = users_load(p->zDataDir, zErr, sizeof zErr);
    if (!o) {
        IDX_LOG(IDX_LOG_ERROR, 0, "users: %s; keeping the users read before", zErr);
        p->st = st;
        return;
    }
    json_decref(p->pUsers);
    p->pUsers = o;
    p->st = st;
}

int idx_auth_open(const char *zDataDir, const idx_auth_opts *o, idx_auth **ppOut, char *zErr, size_t nErr)
{
    if (sodium_init() < 0) {
        snprintf(zErr, nErr, "libsodium cannot start");
        return PS_INTERNAL;
    }
    idx_auth *p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    p->zDataDir = px_strdup(zDataDir);
    p->sessionSec = o->sessionHours * 3600;
    p->idleSec = o->idleMinutes * 60;
    p->aSession = px_calloc(SESSION_MAX, sizeof *p->aSession);
    char zRand[33];
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(zRand, sizeof zRand, r, sizeof r);
    if (!p->zDataDir || !p->aSession ||
        crypto_pwhash_str(p->zDummy, zRand, strlen(zRand), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        px_free(p->zDataDir);
        px_free(p->aSession);
        px_free(p);
        return PS_NOMEM;
    }
    char zPath[4200];
    users_path(zDataDir, "", zPath, sizeof zPath);
    json_t *u = users_load(zDataDir, zErr, nErr);
    if (!u) {
        idx_auth_close(p);
        return PS_CONFIG;
    }
    p->pUsers = u;
    if (stat(zPath, &p->st) != 0) memset(&p->st, 0, sizeof p->st);
    if (json_array_size(json_object_get(u, "users")) == 0)
        IDX_LOG(IDX_LOG_WARN, 0, "no users yet: create the first admin with `indexd users add NAME --role admin --data-dir %s`", zDataDir);
    pthread_mutex_init(&p->mu, NULL);
    *ppOut = p;
    return PS_OK;
}

void idx_auth_close(idx_auth *p)
{
    if (!p) return;
    if (p->pUsers) pthread_mutex_destroy(&p->mu);
    json_decref(p->pUsers);
    if (p->aSession) sodium_memzero(p->aSession, SESSION_MAX * sizeof *p->aSession);
    px_free(p->aSession);
    px_free(p->zDataDir);
    px_free(p);
}

static fail *fail_slot(idx_auth *p, const char *zKey, int create, time_t now)
{
    fail *pOld = &p->aFail[0];
    for (int i = 0; i < FAIL_MAX; i++) {
        fail *f = &p->aFail[i];
        if (f->zKey[0] && strcmp(f->zKey, zKey) == 0) return f;
        if (!f->zKey[0] || (f->until < now && f->first < pOld->first)) pOld = f;
    }
    if (!create) return NULL;
    memset(pOld, 0, sizeof *pOld);
    snprintf(pOld->zKey, sizeof pOld->zKey, "%s", zKey);
    pOld->first = now;
    return pOld;
}

static long locked_for(idx_auth *p, const char *zKey, time_t now)
{
    fail *f = fail_slot(p, zKey, 0, now);
    return f && f->until > now ? (long)(f->until - now) : 0;
}

static void note_failure(idx_auth *p, const char *zKey, int max, time_t now)
{
    fail *f = fail_slot(p, zKey, 1, now);
    if (now - f->first > IDX_LOGIN_WINDOW) f->first = now, f->n = 0;
    if (++f->n >= max) f->until = now + IDX_LOGIN_WINDOW;
}

static void random_hex(char *z /* IDX_SID_LEN + 1 */)
{
    unsigned char r[IDX_SID_LEN / 2];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(z, IDX_SID_LEN + 1, r, sizeof r);
}

int idx_auth_login(idx_auth *p, const char *zUser, const char *zPassword, const char *zAddr,
                   idx_caller *pCaller, char *zSid, long *pRetryAfter)
{
    char zKeyU[IDX_USER_MAX + 64], zKeyA[96], zHash[crypto_pwhash_STRBYTES];
    time_t now = time(NULL);
    snprintf(zKeyU, sizeof zKeyU, "u:%.64s", zUser);
    snprintf(zKeyA, sizeof zKeyA, "a:%.80s", zAddr ? zAddr : "");
    *pRetryAfter = 0;
    pthread_mutex_lock(&p->mu);
    maybe_reload(p);
    long wait = locked_for(p, zKeyU, now), waitA = locked_for(p, zKeyA, now);
    if (waitA > wait) wait = waitA;
    if (wait > 0) {
        pthread_mutex_unlock(&p->mu);
        *pRetryAfter = wait;
        return PS_TOO_MANY;
    }
    json_t *u = user_find(p->pUsers, zUser, NULL);
    const char *zStored = json_string_value(json_object_get(u, "password"));
    idx_caller c;
    int usable = u && zStored && strlen(zStored) < sizeof zHash && caller_from_user(u, &c) == 0;
    snprintf(zHash, sizeof zHash, "%s", usable ? zStored : p->zDummy);
    pthread_mutex_unlock(&p->mu);

    /* The slow part, outside the lock; unknown names cost the same. */
    int ok = crypto_pwhash_str_verify(zHash, zPassword, strlen(zPassword)) == 0 && usable;

    pthread_mutex_lock(&p->mu);
    if (!ok) {
        note_failure(p, zKeyU, IDX_LOGIN_FAILS, now);
        note_failure(p, zKeyA, IDX_LOGIN_FAILS_ADDR, now);
        pthread_mutex_unlock(&p->mu);
        return PS_UNAUTHORIZED;
    }
    fail *f = fail_slot(p, zKeyU, 0, now);
    if (f) memset(f, 0, sizeof *f);
    /* A free or expired slot; a user with SESSION_PER_USER sessions gives
     * up their own idlest one (so no one can crowd the others out). */
    session *s = NULL, *pOwn = NULL;
    unsigned nOwn = 0;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        session *t = &p->aSession[i];
        int dead = !t->zSid[0] || t->expires <= now || now - t->last > p->idleSec;
        if (dead && !s) s = t;
        if (!dead && strcmp(t->zUser, c.zUser) == 0) {
            nOwn++;
            if (!pOwn || t->last < pOwn->last) pOwn = t;
        }
    }
    if (nOwn >= SESSION_PER_USER || !s) s = pOwn;
    if (!s) {
        pthread_mutex_unlock(&p->mu);
        *pRetryAfter = 60;
        return PS_TOO_MANY;  /* every slot held by other users' live sessions */
    }
    memset(s, 0, sizeof *s);
    random_hex(s->zSid);
    random_hex(s->zCsrf);
    snprintf(s->zUser, sizeof s->zUser, "%s", c.zUser);
    s->last = now;
    s->expires = now + p->sessionSec;
    c.session = 1;
    memcpy(c.zCsrf, s->zCsrf, sizeof c.zCsrf);
    c.expires = s->expires;
    memcpy(zSid, s->zSid, IDX_SID_LEN + 1);
    pthread_mutex_unlock(&p->mu);
    *pCaller = c;
    return PS_OK;
}

static session *session_find(idx_auth *p, const char *zSid, time_t now)
{
    if (!zSid || strlen(zSid) != IDX_SID_LEN) return NULL;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        session *s = &p->aSession[i];
        if (s->zSid[0] && sodium_memcmp(s->zSid, zSid, IDX_SID_LEN) == 0) {
            if (s->expires <= now || now - s->last > p->idleSec) {
                memset(s, 0, sizeof *s);
                return NULL;
            }
            return s;
        }
    }
    return NULL;
}

int idx_auth_session(idx_auth *p, const char *zSid, idx_caller *pCaller)
{
    time_t now = time(NULL);
    pthread_mutex_lock(&p->mu);
    maybe_reload(p);
    session *s = session_find(p, zSid, now);
    json_t *u = s ? user_find(p->pUsers, s->zUser, NULL) : NULL;
    int rc = PS_UNAUTHORIZED;
    if (u && caller_from_user(u, pCaller) == 0) {
        s->last = now;
        pCaller->session = 1;
        memcpy(pCaller->zCsrf, s->zCsrf, sizeof pCaller->zCsrf);
        memcpy(pCaller->zPurpose, s->zPurpose, sizeof pCaller->zPurpose);
        pCaller->expires = s->expires;
        rc = PS_OK;
    } else if (s) {
        memset(s, 0, sizeof *s);  /* the user was deleted */
    }
    pthread_mutex_unlock(&p->mu);
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
    pthread_mutex_lock(&p->mu);
    session *s = session_find(p, zSid, time(NULL));
    if (s) memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&p->mu);
}

int idx_auth_set_purpose(idx_auth *p, const char *zSid, const char *zPurpose)
{
    pthread_mutex_lock(&p->mu);
    session *s = session_find(p, zSid, time(NULL));
    if (s) snprintf(s->zPurpose, sizeof s->zPurpose, "%s", zPurpose);
    pthread_mutex_unlock(&p->mu);
    return s ? PS_OK : PS_UNAUTHORIZED;
}

/* ---- changes from the command line ----------------------------------- */

static int check_password(const char *z, char *zErr, size_t nErr)
{
    size_t n = strlen(z);
    if (n < 8 || n > 1024 || !proto_utf8_valid(z, n)) {
        snprintf(zErr, nErr, "a password needs 8 to 1024 characters (UTF-8)");
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
    if (mkdir(zDataDir, 0700) != 0 && errno != EEXIST) {
        snprintf(zErr, nErr, "cannot create %s: %s", zDataDir, strerror(errno));
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
} change;

static int apply_fields(json_t *u, const change *c, char *zErr, size_t nErr)
{
    int role = idx_role_lookup(json_string_value(json_object_get(u, "role")));
    if (c->zRole) {
        if ((role = idx_role_lookup(c->zRole)) < 0) {
            snprintf(zErr, nErr, "role '%s' is not admin, archivist, evaluator or vendor", c->zRole);
            return PS_INVALID;
        }
        json_object_set_new(u, "role", json_string(idx_role_name(role)));
    }
    if (c->zClearance) {
        int level = idx_clearance_level(c->zClearance);
        if (level < 0 || !*c->zClearance) {
            snprintf(zErr, nErr, "clearance '%s' is not one of 公开, 内部, 限制, 秘密, 机密, 绝密", c->zClearance);
            return PS_INVALID;
        }
        json_object_set_new(u, "clearance", json_string(idx_clearance_name(level)));
    } else if (c->add) {
        json_object_set_new(u, "clearance", json_string(idx_clearance_name(aRole[role].clearance)));
    }
    if (c->ids >= 0) json_object_set_new(u, "ids", json_boolean(c->ids));
    else if (c->add) json_object_set_new(u, "ids", json_boolean(aRole[role].ids));
    if (c->zPassword) {
        char zHash[crypto_pwhash_STRBYTES];
        int rc = check_password(c->zPassword, zErr, nErr);
        if (rc == PS_OK && (rc = hash_password(c->zPassword, zHash)) != PS_OK) snprintf(zErr, nErr, "cannot hash the password");
        if (rc != PS_OK) return rc;
        json_object_set_new(u, "password", json_string(zHash));
    }
    return PS_OK;
}

static int ch_add(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    if (!idx_user_name_ok(c->zName)) {
        snprintf(zErr, nErr, "a user name is 1-64 bytes without spaces or any of \"'<>&/\\:");
        return PS_INVALID;
    }
    if (user_find(pUsers, c->zName, NULL)) {
        snprintf(zErr, nErr, "user '%s' exists (use passwd or set)", c->zName);
        return PS_CONFLICT;
    }
    if (!c->zRole) {
        snprintf(zErr, nErr, "a new user needs --role admin|archivist|evaluator|vendor");
        return PS_INVALID;
    }
    char zNow[40];
    idx_iso_time(time(NULL), zNow, sizeof zNow);
    json_t *u = json_pack("{s:s,s:s,s:[]}", "name", c->zName, "created", zNow, "tokens");
    if (!u) return PS_NOMEM;
    int rc = apply_fields(u, c, zErr, nErr);
    if (rc == PS_OK) json_array_append(json_object_get(pUsers, "users"), u);
    json_decref(u);
    return rc;
}

/* The user a change names, or NULL with zErr saying there is none. */
static json_t *named_user(json_t *pUsers, const change *c, size_t *pIdx, char *zErr, size_t nErr)
{
    json_t *u = user_find(pUsers, c->zName, pIdx);
    if (!u) snprintf(zErr, nErr, "no user '%s'", c->zName);
    return u;
}

static int ch_set(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    return apply_fields(u, c, zErr, nErr);
}

static int ch_delete(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    size_t i;
    if (!named_user(pUsers, c, &i, zErr, nErr)) return PS_NOT_FOUND;
    json_array_remove(json_object_get(pUsers, "users"), i);
    return PS_OK;
}

static int ch_token(json_t *pUsers, void *ctx, char *zErr, size_t nErr)
{
    change *c = ctx;
    json_t *u = named_user(pUsers, c, NULL, zErr, nErr);
    if (!u) return PS_NOT_FOUND;
    if (c->zPurpose && (strlen(c->zPurpose) > IDX_PURPOSE_MAX || !proto_utf8_valid(c->zPurpose, strlen(c->zPurpose)))) {
        snprintf(zErr, nErr, "a purpose is at most 100 characters of UTF-8");
        return PS_INVALID;
    }
    unsigned char r[32];
    char zB64[64], zHex[65], zNow[40];
    randombytes_buf(r, sizeof r);
    sodium_bin2base64(zB64, sizeof zB64, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(c->zToken, c->nToken, "ixt_%s", zB64);
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
        json_array_clear(a);
        return PS_OK;
    }
    for (size_t i = 0; i < json_array_size(a); i++)
        if (strcmp(sv(json_object_get(json_array_get(a, i), "id"), ""), c->zTokenId) == 0) {
            json_array_remove(a, i);
            return PS_OK;
        }
    snprintf(zErr, nErr, "user '%s' has no token %s", c->zName, c->zTokenId);
    return PS_NOT_FOUND;
}

int idx_users_add(const char *zDataDir, const char *zName, const char *zRole, const char *zClearance, int ids,
                  const char *zPassword, char *zErr, size_t nErr)
{
    change c = {zName, zRole, zClearance, zPassword, NULL, NULL, NULL, ids, 1, NULL, 0};
    return users_change(zDataDir, ch_add, &c, zErr, nErr);
}

int idx_users_token(const char *zDataDir, const char *zName, const char *zLabel, const char *zPurpose,
                    char *zToken, size_t nToken, char *zErr, size_t nErr)
{
    change c = {zName, NULL, NULL, NULL, zLabel, zPurpose, NULL, -1, 0, zToken, nToken};
    return users_change(zDataDir, ch_token, &c, zErr, nErr);
}

/* A password from the terminal (twice, not echoed) or one line of stdin. */
static int read_password(char *z, size_t n)
{
    int tty = isatty(STDIN_FILENO);
    for (int round = 0; round < (tty ? 2 : 1); round++) {
        char zLine[1100];
        struct termios old, quiet;
        if (tty) {
            fprintf(stderr, round ? "again: " : "password: ");
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
            fprintf(stderr, "the two passwords differ\n");
            return -1;
        }
        sodium_memzero(zLine, sizeof zLine);
    }
    return 0;
}

static void users_usage(void)
{
    fprintf(stderr,
            "usage: indexd users add NAME --role admin|archivist|evaluator|vendor [--clearance 秘密] [--ids|--no-ids]\n"
            "       indexd users set NAME [--role R] [--clearance C] [--ids|--no-ids]\n"
            "       indexd users passwd NAME\n"
            "       indexd users list\n"
            "       indexd users delete NAME\n"
            "       indexd users token NAME [--label TEXT] [--purpose TEXT]   (prints the token once)\n"
            "       indexd users revoke NAME [TOKEN_ID]                       (all the user's tokens without an id)\n"
            "  every command takes --data-dir DIR (default var/index); passwords are read from the\n"
            "  terminal, or as one line on stdin\n");
}

static void users_list(const char *zDataDir)
{
    char zErr[512];
    json_t *o = users_load(zDataDir, zErr, sizeof zErr);
    if (!o) {
        fprintf(stderr, "indexd users: %s\n", zErr);
        return;
    }
    size_t i, j;
    json_t *u, *t;
    printf("%-16s %-10s %-6s %-4s %s\n", "name", "role", "密级", "ids", "tokens (id label)");
    json_array_foreach(json_object_get(o, "users"), i, u) {
        int role = idx_role_lookup(json_string_value(json_object_get(u, "role")));
        printf("%-16s %-10s %-6s %-4s", sv(json_object_get(u, "name"), "?"), idx_role_name(role),
               sv(json_object_get(u, "clearance"), "?"), json_is_true(json_object_get(u, "ids")) ? "yes" : "no");
        json_array_foreach(json_object_get(u, "tokens"), j, t) {
            printf(" %s%s%s", sv(json_object_get(t, "id"), "?"),
                   *(sv(json_object_get(t, "label"), "")) ? ":" : "",
                   sv(json_object_get(t, "label"), ""));
        }
        printf("\n");
    }
    json_decref(o);
}

int idx_users_main(const char *zDataDir, int argc, char **argv)
{
    change c = {0};
    char zErr[512], zPassword[1100] = "", zToken[128];
    const char *zCmd = argc > 1 ? argv[1] : NULL;
    const char *azPos[2] = {NULL, NULL};
    int nPos = 0;
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
        else if (a[0] == '-' || nPos == 2) {
            fprintf(stderr, "indexd users: unexpected '%s'\n", a);
            users_usage();
            return 2;
        } else {
            azPos[nPos++] = a;
            continue;
        }
        if (++i >= argc) {
            fprintf(stderr, "indexd users: %s needs a value\n", a);
            return 2;
        }
        *pz = argv[i];
    }
    c.zName = azPos[0];
    c.zTokenId = azPos[1];
    if (!zCmd || (strcmp(zCmd, "list") != 0 && !c.zName)) {
        users_usage();
        return 2;
    }
    int rc;
    if (strcmp(zCmd, "list") == 0) {
        users_list(zDataDir);
        return 0;
    } else if (strcmp(zCmd, "add") == 0 || strcmp(zCmd, "passwd") == 0) {
        if (read_password(zPassword, sizeof zPassword) != 0) {
            fprintf(stderr, "indexd users: no password given\n");
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
            fprintf(stderr, "the token of %s (shown once; keep it like a password):\n", c.zName);
            printf("%s\n", zToken);
        }
    } else if (strcmp(zCmd, "revoke") == 0) {
        rc = users_change(zDataDir, ch_revoke, &c, zErr, sizeof zErr);
    } else {
        users_usage();
        return 2;
    }
    if (rc != PS_OK) {
        fprintf(stderr, "indexd users %s: %s\n", zCmd, zErr);
        return 1;
    }
    if (strcmp(zCmd, "token") != 0) fprintf(stderr, "indexd users %s %s: done\n", zCmd, c.zName);
    return 0;
}

int idx_caller_csrf_ok(const idx_caller *c, const char *z)
{
    return c->session && z && strlen(z) == IDX_SID_LEN && strlen(c->zCsrf) == IDX_SID_LEN &&
           sodium_memcmp(c->zCsrf, z, IDX_SID_LEN) == 0;
}
