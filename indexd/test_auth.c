/* Unit tests of access control (roles, clearance, users file,
 * passwords, tokens, uid and gen, sessions and their file, failed-login
 * limiting, the client address behind a proxy) and of the use register
 * and approvals (append, torn lines, replay, exports, keyed by uid). */
#include "idx_auth.h"
#include "idx_config.h"
#include "idx_export.h"
#include "idx_register.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_roles(void)
{
    CHECK_INT(idx_role_lookup("archivist"), IDX_ROLE_ARCHIVIST);
    CHECK_INT(idx_role_lookup("评估员"), IDX_ROLE_EVALUATOR);
    CHECK_INT(idx_role_lookup("root"), -1);
    CHECK(idx_role_perms(IDX_ROLE_VENDOR) == IDX_CAN_VENDOR_REPORTS);
    CHECK(!(idx_role_perms(IDX_ROLE_EVALUATOR) & IDX_CAN_IMPORT));
    CHECK(!(idx_role_perms(IDX_ROLE_ARCHIVIST) & IDX_CAN_APPROVE));
    CHECK(idx_role_perms(IDX_ROLE_ADMIN) & IDX_CAN_APPROVE);
    CHECK_INT(idx_clearance_level(""), 0);
    CHECK_INT(idx_clearance_level(NULL), 0);
    CHECK_INT(idx_clearance_level("公开"), 0);
    CHECK_INT(idx_clearance_level("秘密"), 3);
    CHECK_INT(idx_clearance_level("绝密"), 5);
    CHECK_INT(idx_clearance_level("top"), -1);
    CHECK(idx_user_name_ok("李明"));
    CHECK(idx_user_name_ok("li.ming-2"));
    CHECK(!idx_user_name_ok(""));
    CHECK(!idx_user_name_ok("a b"));
    CHECK(!idx_user_name_ok("a<b"));
    CHECK(!idx_user_name_ok("\xff\xfe"));
}

static void test_users_and_sessions(const char *zDir)
{
    char zErr[512], zTok[128], zTok2[128], zSid[IDX_SID_LEN + 1], zSid2[IDX_SID_LEN + 1];
    long wait;
    idx_caller c;
    CHECK_INT(idx_users_add(zDir, "li", "archivist", NULL, -1, "li-password", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_add(zDir, "li", "archivist", NULL, -1, "li-password", zErr, sizeof zErr), PS_CONFLICT);
    CHECK_INT(idx_users_add(zDir, "wang", "boss", NULL, -1, "wang-password", zErr, sizeof zErr), PS_INVALID);
    CHECK_CONTAINS(zErr, "角色“boss”不是");
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "秘密", 1, "short", zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "top", 1, "wang-password", zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "秘密", 1, "wang-password", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "li", "script", "核对", zTok, sizeof zTok, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "nobody", NULL, NULL, zTok2, sizeof zTok2, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK(strncmp(zTok, "ixt_", 4) == 0 && strlen(zTok) == 47);

    /* the file: hashes only, mode 0600 */
    char zPath[1024];
    snprintf(zPath, sizeof zPath, "%s/users.json", zDir);
    struct stat st;
    CHECK(stat(zPath, &st) == 0 && (st.st_mode & 0777) == 0600);
    FILE *f = fopen(zPath, "r");
    char zFile[8192] = "";
    size_t n = f ? fread(zFile, 1, sizeof zFile - 1, f) : 0;
    zFile[n] = 0;
    if (f) fclose(f);
    CHECK(strstr(zFile, "li-password") == NULL);
    CHECK(strstr(zFile, zTok + 4) == NULL);
    CHECK_CONTAINS(zFile, "$argon2id$");

    idx_auth *p;
    idx_auth_opts o = {.sessionHours = 8, .idleMinutes = 30};
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_token(p, zTok, &c), PS_OK);
    CHECK_STR(c.zUser, "li");
    CHECK_INT((int)strlen(c.zUid), IDX_UID_LEN);
    CHECK_STR(c.zPurpose, "核对");
    CHECK_INT(c.session, 0);
    CHECK_INT(c.clearance, 0);
    CHECK_INT(c.ids, 0);
    zTok[10] ^= 1;
    CHECK_INT(idx_auth_token(p, zTok, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_token(p, "", &c), PS_UNAUTHORIZED);

    CHECK_INT(idx_auth_login(p, "wang", "wang-password", "10.0.0.1", &c, zSid, &wait), PS_OK);
    CHECK_INT(c.clearance, 3);
    CHECK_INT(c.ids, 1);
    CHECK_INT(c.session, 1);
    CHECK_INT((int)strlen(zSid), IDX_SID_LEN);
    char zCsrf[IDX_SID_LEN + 1];
    memcpy(zCsrf, c.zCsrf, sizeof zCsrf);
    CHECK(idx_caller_csrf_ok(&c, zCsrf));
    CHECK(!idx_caller_csrf_ok(&c, "00"));
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_STR(c.zUser, "wang");
    CHECK_STR(c.zPurpose, "");
    CHECK_INT(idx_auth_set_purpose(p, zSid, "审计"), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_STR(c.zPurpose, "审计");
    CHECK_INT(idx_auth_login(p, "wang", "wang-password", "10.0.0.1", &c, zSid2, &wait), PS_OK);
    CHECK(strcmp(zSid, zSid2) != 0);
    idx_auth_logout(p, zSid);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_session(p, zSid2, &c), PS_OK);
    CHECK_INT(idx_auth_session(p, "nonsense", &c), PS_UNAUTHORIZED);

    /* unknown names fail like wrong passwords */
    CHECK_INT(idx_auth_login(p, "nobody", "whatever-pass", "10.0.0.5", &c, zSid, &wait), PS_UNAUTHORIZED);

    /* a change on disk is seen without a restart */
    CHECK_INT(idx_users_add(zDir, "ping", "evaluator", NULL, -1, "ping-password", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_login(p, "ping", "ping-password", "10.0.0.6", &c, zSid, &wait), PS_OK);
    CHECK_INT(c.role, IDX_ROLE_EVALUATOR);

    /* a damaged users file keeps the users read before */
    f = fopen(zPath, "w");
    if (f) { fputs("{not json", f); fclose(f); }
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    idx_auth_close(p);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_CONFIG);
    CHECK_CONTAINS(zErr, "users.json");
}

/* ---- helpers --------------------------------------------------------------- */

static time_t tNow = 1800000000;
static time_t fake_now(void) { return tNow; }

/* The whole of a small file ("" if it cannot be read); free() it. */
static char *slurp(const char *zPath)
{
    FILE *f = fopen(zPath, "rb");
    char *z = calloc(1, 1 << 20);
    size_t n = f && z ? fread(z, 1, (1 << 20) - 1, f) : 0;
    if (z) z[n] = 0;
    if (f) fclose(f);
    return z;
}

static void write_file(const char *zDir, const char *zName, const char *z)
{
    char zPath[1024];
    snprintf(zPath, sizeof zPath, "%s/%s", zDir, zName);
    FILE *f = fopen(zPath, "wb");
    CHECK(f != NULL);
    if (f) {
        fputs(z, f);
        fclose(f);
    }
}

static void sub_dir(const char *zDir, const char *zName, char *zOut, size_t n)
{
    snprintf(zOut, n, "%s/%s", zDir, zName);
    CHECK(mkdir(zOut, 0700) == 0);
}

/* A field of a user in users.json ("" when absent); into z. */
static void user_field(const char *zDir, const char *zName, const char *zKey, char *z, size_t n)
{
    char zPath[1024];
    snprintf(zPath, sizeof zPath, "%s/users.json", zDir);
    json_t *o = json_load_file(zPath, 0, NULL);
    size_t i;
    json_t *u;
    z[0] = 0;
    json_array_foreach(json_object_get(o, "users"), i, u) {
        if (strcmp(json_string_value(json_object_get(u, "name")), zName) == 0) {
            json_t *v = json_object_get(u, zKey);
            if (json_is_string(v)) snprintf(z, n, "%s", json_string_value(v));
            else if (json_is_array(v)) snprintf(z, n, "%zu", json_array_size(v));
        }
    }
    json_decref(o);
}

/* Give a user a password hashed at libsodium's lowest cost, so that a test
 * may fail hundreds of logins quickly (users get the interactive cost). */
static void cheap_password(const char *zDir, const char *zName, const char *zPassword)
{
    char zPath[1024], zHash[crypto_pwhash_STRBYTES];
    snprintf(zPath, sizeof zPath, "%s/users.json", zDir);
    json_t *o = json_load_file(zPath, 0, NULL);
    size_t i;
    json_t *u;
    CHECK(crypto_pwhash_str(zHash, zPassword, strlen(zPassword), crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0);
    json_array_foreach(json_object_get(o, "users"), i, u)
        if (strcmp(json_string_value(json_object_get(u, "name")), zName) == 0)
            json_object_set_new(u, "password", json_string(zHash));
    CHECK(json_dump_file(o, zPath, 0) == 0);
    json_decref(o);
}

/* Capture what is logged to stderr between the two calls. */
static char zCapture[600];
static int capture_begin(void)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(zCapture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && dup2(fd, 2) == 2);
    if (fd >= 0) close(fd);
    return saved;
}

static char *capture_end(int saved)
{
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return slurp(zCapture);
}

static void hash_hex(const char *zSid, char *zHex /* 65 */)
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)zSid, strlen(zSid), NULL, 0);
    sodium_bin2hex(zHex, 65, h, sizeof h);
}

/* ---- uid and gen: every change ends sessions and tokens (M9) -------------- */

static void test_identity(const char *zTop)
{
    char zDir[600], zErr[512], zTok[128], zSid[IDX_SID_LEN + 1], zOld[IDX_SID_LEN + 1];
    char zUid0[64], zUid[64], zGen[64], azGen[8][64], z[64];
    int nGen = 0, nRevoked = -1;
    long wait;
    idx_caller c;
    idx_auth *p;
    idx_auth_opts o = {.sessionHours = 8, .idleMinutes = 30};
    sub_dir(zTop, "identity", zDir, sizeof zDir);
    CHECK_INT(idx_users_add(zDir, "zhao", "archivist", NULL, -1, "zhao-password", zErr, sizeof zErr), PS_OK);
    user_field(zDir, "zhao", "uid", zUid0, sizeof zUid0);
    user_field(zDir, "zhao", "gen", azGen[nGen], sizeof azGen[0]);
    nGen++;
    CHECK_INT((int)strlen(zUid0), IDX_UID_LEN);
    CHECK_INT((int)strlen(azGen[0]), IDX_UID_LEN);
    CHECK(strcmp(zUid0, azGen[0]) != 0);
    /* a token, or a set that changes nothing, keeps uid and gen */
    CHECK_INT(idx_users_token(zDir, "zhao", NULL, NULL, zTok, sizeof zTok, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_set(zDir, "zhao", "archivist", NULL, -1, NULL, &nRevoked, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRevoked, 0);
    user_field(zDir, "zhao", "gen", zGen, sizeof zGen);
    CHECK_STR(zGen, azGen[0]);

    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_login(p, "zhao", "zhao-password", "10.1.0.1", &c, zSid, &wait), PS_OK);
    CHECK_STR(c.zUid, zUid0);
    CHECK_INT(idx_auth_token(p, zTok, &c), PS_OK);
    CHECK_STR(c.zUid, zUid0);

    /* each change: a new gen (never one seen before), the same uid, the
     * session ends on its very next request, the tokens are gone */
    for (int k = 0; k < 5; k++) {
        if (k > 0) {
            CHECK_INT(idx_auth_login(p, "zhao", k >= 2 ? "zhao-password-2" : "zhao-password", "10.1.0.1", &c, zSid, &wait), PS_OK);
            CHECK_INT(idx_users_token(zDir, "zhao", NULL, NULL, zTok, sizeof zTok, zErr, sizeof zErr), PS_OK);
            CHECK_INT(idx_auth_token(p, zTok, &c), PS_OK);
        }
        CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
        nRevoked = -1;
        if (k == 0) CHECK_INT(idx_users_set(zDir, "zhao", "evaluator", NULL, -1, NULL, &nRevoked, zErr, sizeof zErr), PS_OK);
        if (k == 1) CHECK_INT(idx_users_set(zDir, "zhao", NULL, NULL, -1, "zhao-password-2", &nRevoked, zErr, sizeof zErr), PS_OK);
        if (k == 2) CHECK_INT(idx_users_set(zDir, "zhao", NULL, "秘密", -1, NULL, &nRevoked, zErr, sizeof zErr), PS_OK);
        if (k == 3) CHECK_INT(idx_users_set(zDir, "zhao", NULL, NULL, 1, NULL, &nRevoked, zErr, sizeof zErr), PS_OK);
        if (k == 4) {
            CHECK_INT(idx_users_end_sessions(zDir, "zhao", zErr, sizeof zErr), PS_OK);
            nRevoked = 1;
        }
        CHECK_INT(nRevoked, 1);
        CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
        CHECK_INT(idx_auth_token(p, zTok, &c), k == 4 ? PS_OK : PS_UNAUTHORIZED);  /* --sessions keeps tokens */
        user_field(zDir, "zhao", "uid", zUid, sizeof zUid);
        CHECK_STR(zUid, zUid0);
        user_field(zDir, "zhao", "gen", azGen[nGen], sizeof azGen[0]);
        for (int j = 0; j < nGen; j++) CHECK(strcmp(azGen[j], azGen[nGen]) != 0);
        nGen++;
    }
    user_field(zDir, "zhao", "tokens", z, sizeof z);
    CHECK_STR(z, "1");  /* the one made before --sessions */
    CHECK_INT(idx_auth_login(p, "zhao", "zhao-password", "10.1.0.2", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "zhao", "zhao-password-2", "10.1.0.2", &c, zSid, &wait), PS_OK);
    CHECK_INT(c.role, IDX_ROLE_EVALUATOR);
    CHECK_INT(c.clearance, 3);
    CHECK_INT(c.ids, 1);

    /* deleted and added again before the daemon looks: another user */
    CHECK_INT(idx_users_delete(zDir, "zhao", &nRevoked, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRevoked, 1);
    CHECK_INT(idx_users_add(zDir, "zhao", "admin", NULL, -1, "zhao-password-3", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_token(p, zTok, &c), PS_UNAUTHORIZED);
    user_field(zDir, "zhao", "uid", zUid, sizeof zUid);
    CHECK(strlen(zUid) == IDX_UID_LEN && strcmp(zUid, zUid0) != 0);
    CHECK_INT(idx_auth_login(p, "zhao", "zhao-password-3", "10.1.0.2", &c, zSid, &wait), PS_OK);
    CHECK_STR(c.zUid, zUid);
    CHECK_INT(idx_users_delete(zDir, "zhao", NULL, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_users_delete(zDir, "zhao", NULL, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(idx_users_end_sessions(zDir, "zhao", zErr, sizeof zErr), PS_NOT_FOUND);
    idx_auth_close(p);

    /* a user written before uids existed: the daemon derives them (the same
     * on every read), the next change from the command line stores them */
    char zHash[crypto_pwhash_STRBYTES], zJson[1024];
    CHECK(crypto_pwhash_str(zHash, "old-password", 12, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0);
    snprintf(zJson, sizeof zJson,
             "{\"version\":1,\"users\":[{\"name\":\"old\",\"role\":\"archivist\",\"clearance\":\"公开\",\"ids\":false,"
             "\"created\":\"2026-01-01T00:00:00+08:00\",\"password\":\"%s\",\"tokens\":[]}]}\n", zHash);
    write_file(zDir, "users.json", zJson);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_login(p, "old", "old-password", "10.1.0.3", &c, zSid, &wait), PS_OK);
    char zLegacy[IDX_UID_LEN + 1];
    snprintf(zLegacy, sizeof zLegacy, "%s", c.zUid);
    CHECK_INT((int)strlen(zLegacy), IDX_UID_LEN);
    idx_auth_close(p);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);  /* derived again, the same */
    CHECK_STR(c.zUid, zLegacy);
    CHECK_INT(idx_users_token(zDir, "old", NULL, NULL, zTok, sizeof zTok, zErr, sizeof zErr), PS_OK);
    user_field(zDir, "old", "uid", zUid, sizeof zUid);
    CHECK_STR(zUid, zLegacy);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);  /* storing them changed nothing */
    snprintf(zOld, sizeof zOld, "%s", zSid);
    CHECK_INT(idx_users_set(zDir, "old", NULL, NULL, -1, "new-password", &nRevoked, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRevoked, 1);
    CHECK_INT(idx_auth_session(p, zOld, &c), PS_UNAUTHORIZED);
    idx_auth_close(p);
}

/* ---- sessions kept in sessions.json ---------------------------------------- */

static long file_last(const char *zDir)
{
    char zPath[1024];
    snprintf(zPath, sizeof zPath, "%s/sessions.json", zDir);
    json_t *o = json_load_file(zPath, 0, NULL);
    long t = (long)json_integer_value(json_object_get(json_array_get(json_object_get(o, "sessions"), 0), "last"));
    json_decref(o);
    return t;
}

static void test_sessions_persist(const char *zTop)
{
    char zDir[600], zErr[512], zSid[IDX_SID_LEN + 1], zSid2[IDX_SID_LEN + 1], zHex[65], zCsrf[IDX_SID_LEN + 1];
    long wait;
    idx_caller c;
    idx_auth *p;
    idx_auth_opts o = {.sessionHours = 8, .idleMinutes = 30, .xNow = fake_now};
    sub_dir(zTop, "sessions", zDir, sizeof zDir);
    CHECK_INT(idx_users_add(zDir, "qian", "archivist", NULL, -1, "qian-password", zErr, sizeof zErr), PS_OK);
    cheap_password(zDir, "qian", "qian-password");
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    time_t t0 = tNow;
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid, &wait), PS_OK);
    memcpy(zCsrf, c.zCsrf, sizeof zCsrf);
    CHECK_INT(idx_auth_set_purpose(p, zSid, "档案核查"), PS_OK);

    /* on disk: the hash of the id, never the id; mode 0600 */
    char zPath[700];
    struct stat st;
    snprintf(zPath, sizeof zPath, "%s/sessions.json", zDir);
    CHECK(stat(zPath, &st) == 0 && (st.st_mode & 0777) == 0600);
    char *zFile = slurp(zPath);
    hash_hex(zSid, zHex);
    CHECK(strstr(zFile, zSid) == NULL);
    CHECK_CONTAINS(zFile, zHex);
    CHECK_CONTAINS(zFile, "档案核查");
    free(zFile);
    CHECK_INT(file_last(zDir), (long)t0);

    /* the last use is written lazily: not within a minute, then once */
    tNow += 30;
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_INT(file_last(zDir), (long)t0);
    tNow += 31;
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_INT(file_last(zDir), (long)t0 + 61);
    tNow += 10;
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_INT(file_last(zDir), (long)t0 + 61);
    idx_auth_close(p);  /* … and at close */
    CHECK_INT(file_last(zDir), (long)t0 + 71);

    /* a restart keeps the session, its CSRF token and purpose */
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    CHECK_STR(c.zUser, "qian");
    CHECK_STR(c.zCsrf, zCsrf);
    CHECK_STR(c.zPurpose, "档案核查");
    CHECK_INT((long)c.expires, (long)t0 + 8 * 3600);
    /* logout lasts too */
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid2, &wait), PS_OK);
    idx_auth_logout(p, zSid2);
    idx_auth_close(p);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid2, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    idx_auth_close(p);

    /* idle sessions are dropped when read */
    tNow += 31 * 60;
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    zFile = slurp(zPath);
    CHECK(strstr(zFile, zHex) == NULL);
    free(zFile);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    /* and sessions end session_hours after login however busy */
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid, &wait), PS_OK);
    for (int i = 0; i < 17; i++) {
        tNow += 29 * 60;
        CHECK_INT(idx_auth_session(p, zSid, &c), i < 16 ? PS_OK : PS_UNAUTHORIZED);
    }
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid, &wait), PS_OK);
    idx_auth_close(p);

    /* a user changed while the daemon was down: the session is over */
    CHECK_INT(idx_users_end_sessions(zDir, "qian", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid, &wait), PS_OK);
    idx_auth_close(p);

    /* a damaged file: logged, ignored, never fatal; the next write mends it */
    write_file(zDir, "sessions.json", "{\"version\":1,\"sessions\":[{\"hash\":");
    int saved = capture_begin();
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    char *zLog = capture_end(saved);
    CHECK_CONTAINS(zLog, "sessions.json is damaged");
    free(zLog);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "qian", "qian-password", "10.2.0.1", &c, zSid, &wait), PS_OK);
    idx_auth_close(p);
    json_t *pJ = json_load_file(zPath, 0, NULL);
    CHECK_INT((long)json_array_size(json_object_get(pJ, "sessions")), 1);
    json_decref(pJ);
    /* one bad entry among good ones costs only itself */
    zFile = slurp(zPath);
    char *zAt = strstr(zFile, "\"sessions\":[");
    CHECK(zAt != NULL);
    if (zAt) {
        size_t nHead = (size_t)(zAt - zFile) + strlen("\"sessions\":[");
        char *zNew = malloc(strlen(zFile) + 64);
        snprintf(zNew, strlen(zFile) + 64, "%.*s{\"hash\":\"zz\"},%s", (int)nHead, zFile, zFile + nHead);
        write_file(zDir, "sessions.json", zNew);
        free(zNew);
    }
    free(zFile);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_session(p, zSid, &c), PS_OK);
    idx_auth_close(p);
}

/* ---- failed logins (M8) ------------------------------------------------------ */

typedef struct {
    idx_auth *p;
    int rc;
} racer;

static void *race_login(void *v)
{
    racer *r = v;
    char zSid[IDX_SID_LEN + 1];
    long wait;
    idx_caller c;
    r->rc = idx_auth_login(r->p, "racer", "wrong-password", "10.6.0.1", &c, zSid, &wait);
    return NULL;
}

static void test_lockout(const char *zTop)
{
    char zDir[600], zErr[512], zSid[IDX_SID_LEN + 1], zAddr[64], zName[32];
    long wait = 0;
    idx_caller c;
    idx_auth *p;
    idx_auth_opts o = {.sessionHours = 8, .idleMinutes = 30, .xNow = fake_now, .nPairMax = 8, .nAddrMax = 8};
    sub_dir(zTop, "lockout", zDir, sizeof zDir);
    /* sun and twenty more users with cheap hashes, written directly: each
     * failure here costs microseconds, not the 0.2 s of a real hash */
    json_t *pU = json_array();
    for (int i = -1; i < IDX_LOGIN_FAILS_ADDR; i++) {
        char zHash[crypto_pwhash_STRBYTES];
        snprintf(zName, sizeof zName, i < 0 ? "sun" : "guess%d", i);
        CHECK(crypto_pwhash_str(zHash, "sun-password", 12, crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN) == 0);
        json_array_append_new(pU, json_pack("{s:s,s:s,s:s,s:b,s:s,s:[]}", "name", zName, "role", i < 0 ? "admin" : "archivist",
                                            "clearance", "公开", "ids", 0, "password", zHash, "tokens"));
    }
    json_t *pFile = json_pack("{s:i,s:o}", "version", 1, "users", pU);
    char *zUsers = json_dumps(pFile, 0);
    write_file(zDir, "users.json", zUsers);
    free(zUsers);
    json_decref(pFile);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);

    /* three failures are free; then each attempt waits 2^(k-3) s after the
     * k-th failure, the password unchecked meanwhile */
    for (int i = 0; i < IDX_LOGIN_FREE; i++)
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    for (int k = IDX_LOGIN_FREE; k < 14; k++) {
        long want = k - IDX_LOGIN_FREE >= 10 ? IDX_LOGIN_WINDOW : 1L << (k - IDX_LOGIN_FREE);
        CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.3.0.1", &c, zSid, &wait), PS_TOO_MANY);
        CHECK_INT(wait, want);
        /* the owner, from an address without failures, is let in */
        CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.3.0.2", &c, zSid, &wait), PS_OK);
        tNow += want - 1;
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_TOO_MANY);
        CHECK_INT(wait, 1);
        tNow += 1;
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.3.0.1", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(wait, IDX_LOGIN_WINDOW);  /* capped */

    /* concurrent guesses from one pair: the last free one is checked once,
     * the others wait (an unknown name: 0.2 s of checking to overlap in) */
    for (int i = 0; i < IDX_LOGIN_FREE - 1; i++)
        CHECK_INT(idx_auth_login(p, "racer", "wrong-password", "10.6.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    racer aR[4];
    pthread_t aT[4];
    int nUnauth = 0, nTooMany = 0;
    for (int i = 0; i < 4; i++) {
        aR[i].p = p;
        CHECK(pthread_create(&aT[i], NULL, race_login, &aR[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(aT[i], NULL);
        nUnauth += aR[i].rc == PS_UNAUTHORIZED;
        nTooMany += aR[i].rc == PS_TOO_MANY;
    }
    CHECK_INT(nUnauth, 1);
    CHECK_INT(nTooMany, 3);

    /* unknown names are delayed alike (no way to tell them apart) */
    for (int i = 0; i < IDX_LOGIN_FREE; i++)
        CHECK_INT(idx_auth_login(p, "nobody", "wrong-password", "10.3.0.3", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "nobody", "wrong-password", "10.3.0.3", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(wait, 1);
    /* an IPv6 host is one /64 */
    for (int i = 0; i < IDX_LOGIN_FREE; i++)
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "2001:db8::1", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "2001:db8::ffff:2", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "2001:db8:0:1::1", &c, zSid, &wait), PS_OK);

    /* 600 addresses churning the 8-entry tables (and telling of an attack
     * on the name) unlock neither the delayed pair nor, later, a locked
     * address */
    int saved = capture_begin();
    for (int i = 0; i < 600; i++) {
        snprintf(zAddr, sizeof zAddr, "10.9.%d.%d", i / 200, i % 200 + 1);
        CHECK_INT(idx_auth_login(p, "sun", "guess-password", zAddr, &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    char *zLog = capture_end(saved);
    CHECK_CONTAINS(zLog, "user sun failed to log in from");
    CHECK(strstr(zLog, "10.9.") == NULL && strstr(zLog, "guess-password") == NULL);
    free(zLog);
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.3.0.1", &c, zSid, &wait), PS_TOO_MANY);
    CHECK(wait > 0 && wait <= IDX_LOGIN_WINDOW);

    /* twenty failures from one address, any names (known or not): it is
     * refused for 15 minutes, even with a right password; others are not */
    for (int i = 0; i < IDX_LOGIN_FAILS_ADDR; i++) {
        snprintf(zName, sizeof zName, "guess%d", i);
        CHECK_INT(idx_auth_login(p, zName, "wrong-password", "10.4.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.4.0.1", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(wait, IDX_LOGIN_WINDOW);
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.4.0.2", &c, zSid, &wait), PS_OK);
    for (int i = 0; i < 600; i++) {
        snprintf(zAddr, sizeof zAddr, "10.8.%d.%d", i / 200, i % 200 + 1);
        CHECK_INT(idx_auth_login(p, "sun", "guess-password", zAddr, &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.4.0.1", &c, zSid, &wait), PS_TOO_MANY);
    tNow += IDX_LOGIN_WINDOW;
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.4.0.1", &c, zSid, &wait), PS_OK);

    /* a pair's delay ends with a right password; 15 quiet minutes start it
     * over */
    tNow += IDX_LOGIN_WINDOW;
    CHECK_INT(idx_auth_login(p, "sun", "sun-password", "10.3.0.1", &c, zSid, &wait), PS_OK);
    for (int i = 0; i < IDX_LOGIN_FREE; i++)
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_TOO_MANY);
    tNow += IDX_LOGIN_WINDOW + 1;
    for (int i = 0; i < IDX_LOGIN_FREE; i++)
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.3.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);

    /* a table full of blocked entries: a new pair goes uncounted (failing
     * open: the address limit still holds) but no blocked one is let go */
    tNow += IDX_LOGIN_WINDOW + 1;
    for (int a = 0; a < 8; a++)
        for (int i = 0; i < IDX_LOGIN_FREE; i++) {
            snprintf(zAddr, sizeof zAddr, "10.5.0.%d", a + 1);
            CHECK_INT(idx_auth_login(p, "sun", "wrong-password", zAddr, &c, zSid, &wait), PS_UNAUTHORIZED);
        }
    saved = capture_begin();
    for (int i = 0; i < IDX_LOGIN_FREE + 2; i++)
        CHECK_INT(idx_auth_login(p, "sun", "wrong-password", "10.5.1.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    zLog = capture_end(saved);
    CHECK_CONTAINS(zLog, "full of blocked entries");
    free(zLog);
    for (int a = 0; a < 8; a++) {
        snprintf(zAddr, sizeof zAddr, "10.5.0.%d", a + 1);
        CHECK_INT(idx_auth_login(p, "sun", "sun-password", zAddr, &c, zSid, &wait), PS_TOO_MANY);
    }

    /* refusals make no entries: a locked address trying 600 new names
     * churns no pair out.  With fresh tables: an address locked, then the
     * pair table filled with seven blocked pairs and guess0's, past its
     * wait but counting (4 failures) and so the one to evict. */
    idx_auth_close(p);
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    for (int i = 0; i < IDX_LOGIN_FAILS_ADDR; i++) {
        snprintf(zName, sizeof zName, "guess%d", i);
        CHECK_INT(idx_auth_login(p, zName, "wrong-password", "10.4.1.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    tNow += 1;
    for (int round = 0; round < 3; round++) {
        for (int k = round == 2; k < 8; k++)
            for (int i = 0; i < (round ? 1 : IDX_LOGIN_FREE); i++) {
                snprintf(zName, sizeof zName, "guess%d", k);
                snprintf(zAddr, sizeof zAddr, "10.7.0.%d", k + 1);
                CHECK_INT(idx_auth_login(p, zName, "wrong-password", zAddr, &c, zSid, &wait), PS_UNAUTHORIZED);
            }
        tNow += round + 1;  /* past the wait of the 3rd failure, then of the 4th */
    }
    for (int i = 0; i < 600; i++) {
        snprintf(zName, sizeof zName, "spam%d", i);
        CHECK_INT(idx_auth_login(p, zName, "wrong-password", "10.4.1.1", &c, zSid, &wait), PS_TOO_MANY);
    }
    CHECK_INT(idx_auth_login(p, "guess0", "wrong-password", "10.7.0.1", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "guess0", "wrong-password", "10.7.0.1", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(wait, 4);  /* the 5th failure's */
    idx_auth_close(p);
}

/* ---- the client's address behind a proxy ------------------------------------ */

static void test_client_addr(void)
{
    char z[IDX_ADDR_MAX];
    idx_client_addr("10.0.0.9", "1.2.3.4", NULL, z, sizeof z);
    CHECK_STR(z, "10.0.0.9");
    /* an untrusted peer's header is its own invention */
    idx_client_addr("10.0.0.9", "1.2.3.4", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "10.0.0.9");
    idx_client_addr("10.0.0.1", "1.2.3.4", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "1.2.3.4");
    /* the client may send its own header: only the right-most entry counts */
    idx_client_addr("10.0.0.1", "6.6.6.6, 1.2.3.4", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "1.2.3.4");
    /* a chain of trusted proxies */
    idx_client_addr("10.0.0.1", "6.6.6.6,1.2.3.4 , 10.0.0.2", " 10.0.0.1 , 10.0.0.2 ", z, sizeof z);
    CHECK_STR(z, "1.2.3.4");
    /* nothing but proxies, no header, junk: the peer */
    idx_client_addr("10.0.0.1", "10.0.0.2", "10.0.0.1,10.0.0.2", z, sizeof z);
    CHECK_STR(z, "10.0.0.1");
    idx_client_addr("10.0.0.1", NULL, "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "10.0.0.1");
    idx_client_addr("10.0.0.1", "1.2.3.4, unknown", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "10.0.0.1");
    idx_client_addr("10.0.0.1", "", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "10.0.0.1");
    /* ports, brackets, IPv6 and IPv4-mapped forms are one address each */
    idx_client_addr("::ffff:10.0.0.1", "[2001:DB8:0::1]:443", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "2001:db8::1");
    idx_client_addr("::1", "1.2.3.4:5678", "::1", z, sizeof z);
    CHECK_STR(z, "1.2.3.4");
    idx_client_addr("2001:0db8::0001", NULL, NULL, z, sizeof z);
    CHECK_STR(z, "2001:db8::1");
    idx_client_addr("::ffff:192.0.2.7", NULL, NULL, z, sizeof z);
    CHECK_STR(z, "192.0.2.7");
    idx_client_addr(NULL, "1.2.3.4", "10.0.0.1", z, sizeof z);
    CHECK_STR(z, "");

    /* the key that names the proxies */
    idx_config cfg;
    char zErr[256];
    CHECK_INT(idx_config_init(&cfg), PS_OK);
    CHECK_STR(cfg.zTrustedProxies, "");
    CHECK_INT(idx_config_set(&cfg, "trusted_proxies", "10.0.0.1, ::1", zErr, sizeof zErr), PS_OK);
    CHECK_STR(cfg.zTrustedProxies, "10.0.0.1, ::1");
    CHECK_INT(idx_config_set(&cfg, "trusted-proxies", "10.0.0.0/8", zErr, sizeof zErr), PS_CONFIG);
    CHECK_CONTAINS(zErr, "trusted_proxies：“10.0.0.0/8”不是 IPv4 或 IPv6 地址");
    CHECK_INT(idx_config_set(&cfg, "trusted_proxies", "10.0.0.1,,::1", zErr, sizeof zErr), PS_CONFIG);
    idx_config_clear(&cfg);
}

static void test_register(const char *zDir)
{
    char zErr[512];
    idx_register *p;
    idx_caller li = {.zUser = "li", .zUid = "0123456789abcdef0123456789abcdef", .role = IDX_ROLE_ARCHIVIST, .zPurpose = "核实"};
    idx_caller ad = {.zUser = "ad", .zUid = "fedcba9876543210fedcba9876543210", .role = IDX_ROLE_ADMIN, .zPurpose = "管理"};
    /* li deleted and added again: the same name, another uid */
    idx_caller li2 = {.zUser = "li", .zUid = "00000000000000000000000000000002", .role = IDX_ROLE_ARCHIVIST, .zPurpose = "核实"};
    CHECK_INT(idx_register_open(zDir, &p, zErr, sizeof zErr), PS_OK);
    idx_use u1 = {"Z031-FH·2017-Y-BGS-0001", "张三家庭档案", "text", 1, 0, NULL};
    idx_use u2 = {"Z031-FH·2017-Y-BGS-0001", "张三家庭档案", "image", 2, 0, NULL};
    idx_use u3 = {"coverage.csv", NULL, "export", 0, 0, NULL};
    CHECK_INT(idx_register_append(p, &li, &u1, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_register_append(p, &li, &u2, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_register_append(p, &ad, &u3, zErr, sizeof zErr), PS_OK);

    /* approvals */
    json_t *a = NULL, *d = NULL;
    long id;
    CHECK_STR(idx_approval_status(p, &li, u1.zCode, &id), "none");
    CHECK_INT(idx_approval_request(p, &li, u1.zCode, u1.zTitle, "核实", &a, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(a, "status")), "pending");
    long aid = (long)json_integer_value(json_object_get(a, "id"));
    CHECK_STR(idx_approval_status(p, &li, u1.zCode, &id), "pending");
    CHECK_INT(id, aid);
    CHECK_INT(idx_approval_decide(p, &ad, aid, 1, "同意", 7, &d, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(d, "status")), "approved");
    json_decref(d);
    d = NULL;
    CHECK_INT(idx_approval_decide(p, &ad, aid, 0, NULL, 7, &d, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_INT(idx_approval_decide(p, &ad, 999, 0, NULL, 7, &d, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_STR(idx_approval_status(p, &li, u1.zCode, &id), "approved");
    CHECK_STR(idx_approval_status(p, &ad, u1.zCode, &id), "none");
    /* keyed by uid: a re-created name inherits nothing */
    CHECK_STR(idx_approval_status(p, &li2, u1.zCode, &id), "none");
    CHECK_INT(id, 0);
    json_t *pL = idx_approval_list(p, &li2, NULL);
    CHECK_INT((long)json_array_size(pL), 0);
    json_decref(pL);
    pL = idx_approval_list(p, &li, NULL);
    CHECK_INT((long)json_array_size(pL), 1);
    CHECK(json_object_get(json_array_get(pL, 0), "uid") == NULL);  /* kept inside */
    CHECK_STR(json_string_value(json_object_get(json_array_get(pL, 0), "user")), "li");
    json_decref(pL);
    json_decref(a);
    idx_register_close(p);

    /* a request written before uids were recorded is no one's (it runs out
     * within approval_days); an admin still sees it */
    char zAp[600];
    snprintf(zAp, sizeof zAp, "%s/register/approvals.ndjson", zDir);
    FILE *fA = fopen(zAp, "a");
    CHECK(fA != NULL);
    if (fA) {
        fputs("{\"event\":\"request\",\"id\":50,\"code\":\"Z031-FH·2017-Y-BGS-0009\",\"title\":\"\",\"user\":\"li\","
              "\"purpose\":\"x\",\"requested\":\"2026-01-01T00:00:00+08:00\",\"status\":\"pending\"}\n"
              "{\"event\":\"decision\",\"id\":50,\"status\":\"approved\",\"decided_by\":\"ad\",\"expires_at\":4000000000}\n", fA);
        fclose(fA);
    }
    CHECK_INT(idx_register_open(zDir, &p, zErr, sizeof zErr), PS_OK);
    CHECK_STR(idx_approval_status(p, &li, "Z031-FH·2017-Y-BGS-0009", &id), "none");
    pL = idx_approval_list(p, &li, NULL);
    CHECK_INT((long)json_array_size(pL), 1);
    json_decref(pL);
    pL = idx_approval_list(p, NULL, "approved");
    CHECK_INT((long)json_array_size(pL), 2);
    json_decref(pL);
    idx_register_close(p);

    /* a crash mid-line: the torn line is skipped, appending goes on */
    char zPath[1024];
    snprintf(zPath, sizeof zPath, "%s/register/uses.ndjson", zDir);
    int fd = open(zPath, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "{\"seq\":4,\"user\":\"torn", 21) == 21);
    if (fd >= 0) close(fd);
    CHECK_INT(idx_register_open(zDir, &p, zErr, sizeof zErr), PS_OK);
    idx_use u4 = {"Z031-WS·2017-Y-BGS-0002", "通知", "text", 3, aid, NULL};
    CHECK_INT(idx_register_append(p, &li, &u4, zErr, sizeof zErr), PS_OK);
    CHECK_STR(idx_approval_status(p, &li, u1.zCode, &id), "approved");  /* replayed */
    json_t *pList = NULL;
    idx_register_filter f = {NULL, NULL, NULL, NULL, 0, 0};
    CHECK_INT(idx_register_list(p, &f, NULL, NULL, &pList, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_integer_value(json_object_get(pList, "total")), 4);
    json_t *pE = json_object_get(pList, "entries");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(pE, 3), "seq")), 4);
    CHECK_INT(json_integer_value(json_object_get(json_array_get(pE, 3), "approval")), aid);
    CHECK_STR(json_string_value(json_object_get(json_array_get(pE, 0), "purpose")), "核实");

    /* CSV and the printed register: one row per user, record, day, purpose */
    char *z = NULL;
    size_t n = 0;
    CHECK_INT(idx_export_csv(IDX_REPORT_REGISTER, pList, 0, &z, &n), PS_OK);
    CHECK(z && strncmp(z, "\xEF\xBB\xBF序号,时间,利用者", 3 + strlen("序号,时间,利用者")) == 0);
    CHECK_CONTAINS(z, ",li,archivist,Z031-FH·2017-Y-BGS-0001,张三家庭档案,查阅全文,1,核实,\r\n");
    CHECK_CONTAINS(z, ",ad,admin,coverage.csv,,导出,,管理,\r\n");
    free(z);
    CHECK_INT(idx_export_html(IDX_REPORT_REGISTER, pList, &z, &n), PS_OK);
    CHECK_CONTAINS(z, "<h1>档案利用登记簿</h1>");
    CHECK_CONTAINS(z, "<td>张三家庭档案</td><td>查阅全文、查看扫描件</td><td>1、2</td><td>核实</td>");
    CHECK_CONTAINS(z, "共 3 条登记（4 次查阅或导出）");
    free(z);
    json_decref(pList);

    f.zUser = "ad";
    CHECK_INT(idx_register_list(p, &f, NULL, NULL, &pList, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_integer_value(json_object_get(pList, "total")), 1);
    json_decref(pList);
    f.zUser = NULL;
    f.zFrom = "20000101";
    f.zTo = "20000102";
    CHECK_INT(idx_register_list(p, &f, NULL, NULL, &pList, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_integer_value(json_object_get(pList, "total")), 0);
    json_decref(pList);
    f.zFrom = f.zTo = NULL;
    f.offset = 1;
    f.limit = 2;
    CHECK_INT(idx_register_list(p, &f, NULL, NULL, &pList, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_integer_value(json_object_get(pList, "total")), 4);
    CHECK_INT((long)json_array_size(json_object_get(pList, "entries")), 2);
    json_decref(pList);

    /* out of memory: a clean failure, never a crash */
    for (long k = 1; k < 40; k += 2) {
        px_fail_after(k);
        int rc = idx_register_append(p, &li, &u1, zErr, sizeof zErr);
        pList = NULL;
        int rc2 = idx_register_list(p, &f, NULL, NULL, &pList, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        CHECK(rc2 == PS_OK || rc2 == PS_NOMEM);
        json_decref(pList);
    }
    idx_register_close(p);
}

int main(void)
{
    char zDir[] = "/tmp/test-auth-XXXXXX";
    px_install_json_allocator();
    CHECK(mkdtemp(zDir) != NULL);
    snprintf(zCapture, sizeof zCapture, "%s/stderr.txt", zDir);
    test_roles();
    test_users_and_sessions(zDir);
    test_identity(zDir);
    test_sessions_persist(zDir);
    test_lockout(zDir);
    test_client_addr();
    test_register(zDir);
    px_test_rmdir(zDir);
    return px_test_done();
}
