/* Unit tests of access control (roles, clearance, users file,
 * passwords, tokens, sessions, failed-login limiting) and of the use
 * register and approvals (append, torn lines, replay, exports). */
#include "idx_auth.h"
#include "idx_export.h"
#include "idx_register.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <fcntl.h>
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
    CHECK_CONTAINS(zErr, "role 'boss'");
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "秘密", 1, "short", zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "top", 1, "wang-password", zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(idx_users_add(zDir, "wang", "archivist", "秘密", 1, "wang-password", zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "li", "script", "核对", zTok, sizeof zTok, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_users_token(zDir, "nobody", NULL, NULL, zTok2, sizeof zTok2, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK(strncmp(zTok, "ixt_", 4) == 0 && strlen(zTok) == 47);

    /* the file: hashes only, mode 0600 */
    char zPath[600];
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
    idx_auth_opts o = {8, 30};
    CHECK_INT(idx_auth_open(zDir, &o, &p, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_auth_token(p, zTok, &c), PS_OK);
    CHECK_STR(c.zUser, "li");
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

    /* five failures lock the name (from any address); twenty lock the address */
    for (int i = 0; i < IDX_LOGIN_FAILS; i++)
        CHECK_INT(idx_auth_login(p, "li", "wrong-password", "10.0.0.2", &c, zSid, &wait), PS_UNAUTHORIZED);
    CHECK_INT(idx_auth_login(p, "li", "li-password", "10.0.0.3", &c, zSid, &wait), PS_TOO_MANY);
    CHECK(wait > 800 && wait <= IDX_LOGIN_WINDOW);
    CHECK_INT(idx_auth_login(p, "wang", "wang-password", "10.0.0.2", &c, zSid, &wait), PS_OK);
    for (int i = IDX_LOGIN_FAILS; i < IDX_LOGIN_FAILS_ADDR; i++) {
        char zName[16];
        snprintf(zName, sizeof zName, "guess%d", i);
        CHECK_INT(idx_auth_login(p, zName, "wrong-password", "10.0.0.2", &c, zSid, &wait), PS_UNAUTHORIZED);
    }
    CHECK_INT(idx_auth_login(p, "wang", "wang-password", "10.0.0.2", &c, zSid, &wait), PS_TOO_MANY);
    CHECK_INT(idx_auth_login(p, "wang", "wang-password", "10.0.0.4", &c, zSid, &wait), PS_OK);
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

static void test_register(const char *zDir)
{
    char zErr[512];
    idx_register *p;
    idx_caller li = {.zUser = "li", .role = IDX_ROLE_ARCHIVIST, .zPurpose = "核实"};
    idx_caller ad = {.zUser = "ad", .role = IDX_ROLE_ADMIN, .zPurpose = "管理"};
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
    CHECK_STR(idx_approval_status(p, "li", u1.zCode, &id), "none");
    CHECK_INT(idx_approval_request(p, &li, u1.zCode, u1.zTitle, "核实", &a, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(a, "status")), "pending");
    long aid = (long)json_integer_value(json_object_get(a, "id"));
    CHECK_STR(idx_approval_status(p, "li", u1.zCode, &id), "pending");
    CHECK_INT(id, aid);
    CHECK_INT(idx_approval_decide(p, &ad, aid, 1, "同意", 7, &d, zErr, sizeof zErr), PS_OK);
    CHECK_STR(json_string_value(json_object_get(d, "status")), "approved");
    json_decref(d);
    d = NULL;
    CHECK_INT(idx_approval_decide(p, &ad, aid, 0, NULL, 7, &d, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_INT(idx_approval_decide(p, &ad, 999, 0, NULL, 7, &d, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_STR(idx_approval_status(p, "li", u1.zCode, &id), "approved");
    CHECK_STR(idx_approval_status(p, "ad", u1.zCode, &id), "none");
    json_decref(a);
    idx_register_close(p);

    /* a crash mid-line: the torn line is skipped, appending goes on */
    char zPath[600];
    snprintf(zPath, sizeof zPath, "%s/register/uses.ndjson", zDir);
    int fd = open(zPath, O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "{\"seq\":4,\"user\":\"torn", 21) == 21);
    if (fd >= 0) close(fd);
    CHECK_INT(idx_register_open(zDir, &p, zErr, sizeof zErr), PS_OK);
    idx_use u4 = {"Z031-WS·2017-Y-BGS-0002", "通知", "text", 3, aid, NULL};
    CHECK_INT(idx_register_append(p, &li, &u4, zErr, sizeof zErr), PS_OK);
    CHECK_STR(idx_approval_status(p, "li", u1.zCode, &id), "approved");  /* replayed */
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
    test_roles();
    test_users_and_sessions(zDir);
    test_register(zDir);
    px_test_rmdir(zDir);
    return px_test_done();
}
