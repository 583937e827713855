/* Unit tests of the access decisions (idx_access): every role × 密级
 * (unknown included) × approval state × kind of read or write, against a
 * table written out here, plus the search scope and masking. */
#include "idx_access.h"
#include "idx_auth.h"
#include "idx_register.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The 密级 a record can carry, with the level the rule gives each: -1 for
 * one that is not a 密级 (hidden from everyone, the top included). */
static const struct {
    const char *z;
    int level;
} aCls[] = {{"", 0}, {"公开", 0}, {"内部", 1}, {"限制", 2}, {"秘密", 3}, {"机密", 4}, {"绝密", 5}, {"核心", -1}, {"secret", -1}};
#define N_CLS (sizeof aCls / sizeof aCls[0])

/* callers: each role with its default clearance, and an archivist cleared for 秘密 */
typedef struct {
    const char *zName, *zRole;
    int clearance, approver;
} who;
static const who aWho[] = {
    {"ad", "admin", 5, 1}, {"li", "archivist", 0, 0}, {"ping", "evaluator", 0, 0}, {"ven", "vendor", 0, 0},
    {"wang", "archivist", 3, 0},
};
#define N_WHO (sizeof aWho / sizeof aWho[0])

static void caller(const who *p, idx_caller *w, const char *zPurpose)
{
    memset(w, 0, sizeof *w);
    snprintf(w->zUser, sizeof w->zUser, "%s", p->zName);
    snprintf(w->zUid, sizeof w->zUid, "uid-%s", p->zName);
    w->role = idx_role_lookup(p->zRole);
    w->perms = idx_role_perms(w->role);
    w->clearance = p->clearance;
    w->ids = p->approver;
    snprintf(w->zPurpose, sizeof w->zPurpose, "%s", zPurpose);
}

static json_t *rec(const char *zCode, const char *zCat, const char *zCls)
{
    json_t *o = json_pack("{s:s,s:s}", "code", zCode, "category", zCat);
    if (*zCls) json_object_set_new(o, "classification", json_string(zCls));
    return o;
}

static void test_seeing_and_writing(void)
{
    for (size_t k = 0; k < N_WHO; k++) {
        idx_caller w;
        caller(&aWho[k], &w, "核对");
        for (size_t i = 0; i < N_CLS; i++) {
            /* a 密级 that is no known level counts as the top */
            int sees = (aCls[i].level >= 0 ? aCls[i].level : 5) <= aWho[k].clearance;
            json_t *r = rec("Z031-WS·2017-Y-BGS-0001", "WS", aCls[i].z);
            CHECK_INT(idx_access_sees(&w, r), sees);
            CHECK_INT(idx_access_level_ok(&w, aCls[i].z), sees);
            json_decref(r);
            /* a new record at this 密级; one that is no known level (a
             * catalog's own word) is kept, closed to every reader */
            int unknown = aCls[i].level < 0;
            CHECK_INT(idx_access_write(&w, 0, NULL, aCls[i].z), sees || unknown ? IDX_WRITE_OK : IDX_WRITE_ABOVE);
            for (size_t j = 0; j < N_CLS; j++) {
                /* over a stored record of 密级 j, leaving it at i (lowering and raising included);
                 * a stored unknown level is as the top: only the top may overwrite (correct) it */
                int seesOld = aCls[j].level >= 0 ? aCls[j].level <= aWho[k].clearance : aWho[k].clearance == 5;
                int want = !seesOld ? IDX_WRITE_HIDDEN : !sees && !unknown ? IDX_WRITE_ABOVE : IDX_WRITE_OK;
                CHECK_INT(idx_access_write(&w, 1, aCls[j].z, aCls[i].z), want);
            }
            /* a page, an image or a deletion leaves the 密级 as it is */
            int seesNow = unknown ? aWho[k].clearance == 5 : sees;
            CHECK_INT(idx_access_write(&w, 1, aCls[i].z, NULL), seesNow ? IDX_WRITE_OK : IDX_WRITE_HIDDEN);
        }
        /* stored data that cannot be read: only the top clearance may overwrite it */
        CHECK_INT(idx_access_write(&w, 1, NULL, "公开"), aWho[k].clearance == 5 ? IDX_WRITE_OK : IDX_WRITE_HIDDEN);
        int nLevel;
        const char *az[6];
        nLevel = idx_access_visible_levels(&w, az);
        CHECK_INT(nLevel, aWho[k].clearance + 1);
        CHECK_STR(az[0], "公开");
    }
    char zA[200], zB[200];
    idx_access_write_message(IDX_WRITE_HIDDEN, "Z031-WS·2017-Y-BGS-0001", zA, sizeof zA);
    CHECK_STR(zA, "没有档号为 Z031-WS·2017-Y-BGS-0001 的档案");
    idx_access_write_message(IDX_WRITE_ABOVE, "Z031-WS·2017-Y-BGS-0001", zB, sizeof zB);
    CHECK(strstr(zB, "不能设为高于您可查阅的密级") != NULL);
}

/* Approval states a caller can hold for a record, made in a real register. */
enum { ST_NONE, ST_PENDING, ST_APPROVED, ST_DENIED, ST_EXPIRED, ST__COUNT };

static void test_reading(const char *zDir)
{
    char zErr[512], zCode[64];
    idx_register *pReg = NULL;
    idx_access *pAcc = NULL;
    idx_access_opts o = {"FH, XX", 1};
    CHECK_INT(idx_register_open(zDir, &pReg, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_access_open(&o, pReg, &pAcc), PS_OK);
    idx_caller adm;
    caller(&aWho[0], &adm, "审批");
    static const char *const azCat[] = {"WS", "FH", "XX", ""};
    for (size_t k = 0; k < N_WHO; k++) {
        for (int st = 0; st < ST__COUNT; st++) {
            for (size_t c = 0; c < 4; c++) {
                for (size_t i = 0; i < N_CLS; i++) {
                    for (int purpose = 0; purpose < 2; purpose++) {
                        idx_caller w;
                        caller(&aWho[k], &w, purpose ? "核对" : "");
                        snprintf(zCode, sizeof zCode, "Z031-%s·2017-Y-BGS-%04d", *azCat[c] ? azCat[c] : "WS",
                                 (int)(st * 100 + c * 10 + i + 1));
                        json_t *r = rec(zCode, azCat[c], aCls[i].z);
                        /* the caller's request for this record, in the state st */
                        long id = 0;
                        if (st != ST_NONE && !aWho[k].approver) {
                            json_t *pReq = NULL;
                            CHECK_INT(idx_approval_request(pReg, &w, zCode, "t", "核对", &pReq, zErr, sizeof zErr), PS_OK);
                            id = (long)json_integer_value(json_object_get(pReq, "id"));
                            json_decref(pReq);
                            if (st != ST_PENDING) {
                                json_t *pDec = NULL;
                                CHECK_INT(idx_approval_decide(pReg, &adm, id, st != ST_DENIED, NULL, st == ST_EXPIRED ? -1 : 7,
                                                              &pDec, zErr, sizeof zErr), PS_OK);
                                json_decref(pDec);
                            }
                        }
                        int need = !aWho[k].approver &&
                                   (strcmp(azCat[c], "FH") == 0 || strcmp(azCat[c], "XX") == 0 ||
                                    (*aCls[i].z && strcmp(aCls[i].z, "公开") != 0));
                        CHECK_INT(idx_access_needs_approval(pAcc, &w, r), need);
                        int approved = need && st == ST_APPROVED;
                        for (int kind = IDX_READ_TEXT; kind <= IDX_READ_BOXES; kind++) {
                            idx_verdict v;
                            idx_access_open_page(pAcc, &w, zCode, r, kind, &v);
                            int view = kind != IDX_READ_BOXES;
                            int want = need && !approved ? PS_APPROVAL : view && !purpose ? PS_PURPOSE : PS_OK;
                            if (v.rc != want)
                                fprintf(stderr, "who %s st %d cat %s cls %s purpose %d kind %d: %d, want %d\n",
                                        aWho[k].zName, st, azCat[c], aCls[i].z, purpose, kind, v.rc, want);
                            CHECK_INT(v.rc, want);
                            CHECK_INT(v.approval, approved ? id : 0);
                            CHECK_INT(idx_access_is_view(kind), view);
                        }
                        json_t *pA = idx_access_record_json(pAcc, &w, zCode, r);
                        CHECK_INT(json_is_true(json_object_get(pA, "text")),
                                  (w.perms & IDX_CAN_VIEW) && (!need || approved));
                        static const char *const azState[] = {"none", "pending", "approved", "denied", "expired"};
                        CHECK_STR(json_string_value(json_object_get(json_object_get(pA, "approval"), "status")),
                                  need ? azState[st] : "none");
                        json_decref(pA);
                        json_decref(r);
                    }
                }
            }
        }
    }
    idx_access_close(pAcc);
    idx_register_close(pReg);
}

static void test_scope(const char *zDir)
{
    char zErr[512];
    idx_register *pReg = NULL;
    idx_access *pAcc = NULL;
    idx_access_opts o = {"FH", 1};
    CHECK_INT(idx_register_open(zDir, &pReg, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_access_open(&o, pReg, &pAcc), PS_OK);
    idx_caller w, adm;
    caller(&aWho[4], &w, "核对"); /* wang: archivist, 秘密 */
    caller(&aWho[0], &adm, "审批");
    json_t *pReq = NULL, *pDec = NULL;
    const char *zHouse = "Z031-FH·2019-Y-BGS-0007";
    CHECK_INT(idx_approval_request(pReg, &w, zHouse, "t", "核对", &pReq, zErr, sizeof zErr), PS_OK);
    CHECK_INT(idx_approval_decide(pReg, &adm, (long)json_integer_value(json_object_get(pReq, "id")), 1, NULL, 7, &pDec, zErr,
                                  sizeof zErr), PS_OK);
    json_decref(pReq);
    json_decref(pDec);
    idx_scope s;
    CHECK_INT(idx_access_scope(pAcc, &w, &s), PS_OK);
    CHECK_INT(s.nLevel, 4);
    CHECK_INT(s.allLevels, 0);
    CHECK_INT(s.restrict_, 1);
    CHECK_INT(s.nCategory, 1);
    CHECK_STR(s.azCategory[0], "FH");
    CHECK_INT(s.nClsLevel, 3); /* 内部, 限制, 秘密: the levels shown that need approval */
    CHECK_INT(s.nApproved, 1);
    CHECK_STR(s.azApproved[0], zHouse);
#define R(cat, cls, code) idx_scope_restricted(&s, cat, strlen(cat), cls, strlen(cls), code, strlen(code))
    CHECK_INT(R("WS", "", "Z031-WS·2019-Y-BGS-0001"), 0);
    CHECK_INT(R("WS", "公开", "Z031-WS·2019-Y-BGS-0001"), 0);
    CHECK_INT(R("WS", "秘密", "Z031-WS·2019-Y-BGS-0001"), 1);
    CHECK_INT(R("FH", "", "Z031-FH·2019-Y-BGS-0008"), 1);
    CHECK_INT(R("FH", "", zHouse), 2);
    idx_scope_clear(&s);
    /* without a purpose an approval opens nothing in search (the view could not be registered) */
    w.zPurpose[0] = 0;
    CHECK_INT(idx_access_scope(pAcc, &w, &s), PS_OK);
    CHECK_INT(s.nApproved, 0);
    CHECK_INT(R("FH", "", zHouse), 1);
    idx_scope_clear(&s);
    /* an admin: every level, nothing closed */
    CHECK_INT(idx_access_scope(pAcc, &adm, &s), PS_OK);
    CHECK_INT(s.nLevel, 6);
    CHECK_INT(s.allLevels, 1);     /* a 密级 that is no known level too */
    CHECK_INT(s.hideUnlinked, 0);
    CHECK_INT(s.restrict_, 0);
    CHECK_INT(R("FH", "绝密", zHouse), 0);
#undef R
    idx_scope_clear(&s);
    idx_access_close(pAcc);
    idx_register_close(pReg);
}

static void test_masking(void)
{
    idx_caller w, ids;
    caller(&aWho[1], &w, "");
    caller(&aWho[0], &ids, "");
    json_t *o = json_pack("{s:s,s:[s]}", "title", "户主身份证110101199003071234", "list", "110101199003071234");
    json_t *o2 = json_deep_copy(o);
    idx_access_mask(&w, o);
    CHECK_STR(json_string_value(json_object_get(o, "title")), "户主身份证110101********1234");
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "list"), 0)), "110101********1234");
    idx_access_mask(&ids, o2);
    CHECK_STR(json_string_value(json_object_get(o2, "title")), "户主身份证110101199003071234");
    json_decref(o);
    json_decref(o2);
    CHECK_INT(idx_access_query_refused(&w, "110101199003071234"), 1);
    CHECK_INT(idx_access_query_refused(&ids, "110101199003071234"), 0);
    CHECK_INT(idx_access_query_refused(&w, "精准扶贫 2017"), 0);
}

int main(void)
{
    char zDir[] = "/tmp/test-access-XXXXXX", zSub[64];
    px_install_json_allocator();
    CHECK(mkdtemp(zDir) != NULL);
    test_seeing_and_writing();
    snprintf(zSub, sizeof zSub, "%s/a", zDir);
    CHECK(mkdir(zSub, 0700) == 0);
    test_reading(zSub);
    snprintf(zSub, sizeof zSub, "%s/b", zDir);
    CHECK(mkdir(zSub, 0700) == 0);
    test_scope(zSub);
    test_masking();
    px_test_rmdir(zDir);
    return px_test_done();
}
