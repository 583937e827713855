/* Unit tests of the timed retrieval test's draws, trials and runs, on a
 * clock the test sets: verdicts at the limits, the daemon's timings winning
 * over what a run says, refusals of foreign, used, expired and unknown
 * draws, of records and phrases not drawn and of more time than passed,
 * practice runs, the bounds on draws and runs, and the report. */
#include "idx_timed.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define T0 1800000000.0 /* a clock of the test's own */

static char zData[64];
static char zErr[512];

static idx_caller who(const char *zUser, int role, int clearance)
{
    idx_caller w;
    memset(&w, 0, sizeof w);
    snprintf(w.zUser, sizeof w.zUser, "%s", zUser);
    w.role = role;
    w.clearance = clearance;
    return w;
}

/* Three records as idx_timed_draw picks them: one with a phrase, one
 * without text, one 机密. */
static json_t *picks(void)
{
    return json_pack("{s:[{s:s,s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:n,s:i},{s:s,s:s,s:s,s:s,s:i,s:s}]}", "records",
                     "code", "Z031-WS·2017-Y-BGS-0001", "title", "通知", "location", "1号库-01列", "phrase", "扶贫对象识别",
                     "page", 1,
                     "code", "Z031-WS·2017-Y-BGS-0002", "title", "名单", "location", "1号库-02列", "phrase", "page", 0,
                     "code", "Z031-WS·2017-Y-BGS-0003", "title", "审计", "location", "2号库-01列", "phrase", "资金专项审计",
                     "page", 1, "classification", "机密");
}

/* A new draw of w at now: its id into zId (IDX_TIMED_ID_LEN + 1 bytes). */
static int draw(const char *zDir, const idx_caller *w, double now, char *zId)
{
    json_t *p = picks(), *pOut = NULL;
    int rc = idx_timed_keep_draw(zDir, w, p, now, &pOut, zErr, sizeof zErr);
    json_decref(p);
    zId[0] = 0;
    if (rc == PS_OK) snprintf(zId, IDX_TIMED_ID_LEN + 1, "%s", json_string_value(json_object_get(pOut, "draw")));
    json_decref(pOut);
    return rc;
}

static int start(const idx_caller *w, const char *zId, unsigned n, int kind, double now)
{
    json_t *pOut = NULL;
    int rc = idx_timed_start(zData, w, zId, n, kind, now, &pOut, zErr, sizeof zErr);
    json_decref(pOut);
    return rc;
}

/* Stop a trial: its status, and *pPassed / *pSec from the answer. */
static int stop(const idx_caller *w, const char *zId, unsigned n, int kind, int found, double now, int *pPassed,
                double *pSec)
{
    json_t *pOut = NULL;
    int rc = idx_timed_stop(zData, w, zId, n, kind, found, NULL, NULL, now, &pOut, zErr, sizeof zErr);
    if (pPassed) *pPassed = json_is_true(json_object_get(pOut, "passed"));
    if (pSec) *pSec = json_number_value(json_object_get(pOut, "seconds"));
    json_decref(pOut);
    return rc;
}

/* Post a run given as JSON text (%s: the draw id); *ppOut the run or NULL. */
static int put(const char *zDir, const idx_caller *w, const char *zFmt, const char *zId, double now, json_t **ppOut,
               const char **pzField)
{
    char zBody[2048];
    const char *zField = NULL;
    snprintf(zBody, sizeof zBody, zFmt, zId);
    json_t *pRun = json_loads(zBody, 0, NULL), *pOut = NULL;
    CHECK(pRun != NULL);
    int rc = idx_timed_put(zDir, w, pRun, now, &pOut, &zField, zErr, sizeof zErr);
    json_decref(pRun);
    if (ppOut) *ppOut = pOut;
    else json_decref(pOut);
    if (pzField) *pzField = zField;
    return rc;
}

static const json_t *trial(const json_t *pRun, size_t i)
{
    return json_array_get(json_object_get(pRun, "trials"), i);
}

static int search_misses(void *ctx, const char *zCode, const char *zPhrase)
{
    (void)ctx;
    return zCode && zPhrase ? 0 : -1;
}

static int search_finds(void *ctx, const char *zCode, const char *zPhrase)
{
    (void)ctx;
    return zCode && zPhrase && strcmp(zPhrase, "资金专项审计") == 0 ? 1 : -1;
}

static void test_ids(void)
{
    CHECK(idx_timed_id_ok("20270115T080000Z-0123456789abcdef"));
    CHECK(!idx_timed_id_ok("20270115T080000Z-0123456789ABCDEF"));
    CHECK(!idx_timed_id_ok("20270115T080000Z-0123456789abcde"));
    CHECK(!idx_timed_id_ok("../../../../etc/passwd-0123456789"));
    CHECK(!idx_timed_id_ok("2027011xT080000Z-0123456789abcdef"));
    CHECK(!idx_timed_id_ok(""));
    CHECK(!idx_timed_id_ok(NULL));
    CHECK_INT(idx_timed_kind("fulltext"), IDX_TRIAL_FULLTEXT);
    CHECK_INT(idx_timed_kind("paper"), IDX_TRIAL_PAPER);
    CHECK_INT(idx_timed_kind("walk"), -1);
}

/* Trials the daemon times: their verdicts at the limits and the refusals. */
static void test_trials(void)
{
    idx_caller ev = who("王评估", IDX_ROLE_EVALUATOR, 0), li = who("li", IDX_ROLE_ARCHIVIST, 0);
    char zId[IDX_TIMED_ID_LEN + 1];
    int passed = -1;
    double sec = -1;
    json_t *pRun = NULL;
    CHECK_INT(draw(zData, &ev, T0, zId), PS_OK);
    CHECK(idx_timed_id_ok(zId));
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, T0 + 1), PS_OK);
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_PAPER, T0 + 1.2), PS_CONFLICT);  /* one at a time */
    CHECK_CONTAINS(zErr, "第 1 件档案的全文检索测试仍在计时");
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_FULLTEXT, 1, T0 + 61, &passed, &sec), PS_OK);
    CHECK(passed == 1 && sec == 60.0); /* 60 s is within the minute */
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, T0 + 62), PS_CONFLICT); /* no second go */
    CHECK_CONTAINS(zErr, "第 1 件档案的全文检索测试已经开始过");
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_FULLTEXT, 1, T0 + 62, NULL, NULL), PS_CONFLICT);
    CHECK_INT(stop(&ev, zId, 2, IDX_TRIAL_PAPER, 1, T0 + 62, NULL, NULL), PS_CONFLICT); /* not started */
    CHECK_INT(start(&ev, zId, 2, IDX_TRIAL_FULLTEXT, T0 + 62), PS_CONFLICT);           /* no text to search */
    CHECK_INT(start(&ev, zId, 4, IDX_TRIAL_PAPER, T0 + 62), PS_NOT_FOUND);
    CHECK_INT(start(&ev, zId, 0, IDX_TRIAL_PAPER, T0 + 62), PS_NOT_FOUND);
    CHECK_INT(start(&li, zId, 1, IDX_TRIAL_PAPER, T0 + 62), PS_FORBIDDEN); /* another user's draw */
    CHECK_INT(start(&ev, "20270115T080000Z-0123456789abcdef", 1, IDX_TRIAL_PAPER, T0 + 62), PS_NOT_FOUND);
    CHECK_INT(start(&ev, "../draws/x", 1, IDX_TRIAL_PAPER, T0 + 62), PS_NOT_FOUND);
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_PAPER, T0 + 100), PS_OK);
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_PAPER, 1, T0 + 280, &passed, &sec), PS_OK);
    CHECK(passed == 1 && sec == 180.0);
    CHECK_INT(start(&ev, zId, 2, IDX_TRIAL_PAPER, T0 + 300), PS_OK);
    CHECK_INT(stop(&ev, zId, 2, IDX_TRIAL_PAPER, 1, T0 + 480.5, &passed, &sec), PS_OK);
    CHECK(passed == 0 && sec == 180.5); /* over 3 minutes */
    /* the run: the daemon's three trials, and record 3 timed by the client */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"evaluator\":\"伪造的评估组\",\"trials\":["
                              "{\"code\":\"Z031-WS·2017-Y-BGS-0003\",\"kind\":\"fulltext\",\"seconds\":10,\"found\":true}]}",
                  zId, T0 + 500, &pRun, NULL), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pRun, "evaluator")), "王评估");
    CHECK_STR(json_string_value(json_object_get(pRun, "role")), "evaluator");
    CHECK_STR(json_string_value(json_object_get(pRun, "note")), "伪造的评估组");
    /* a trial the client timed: kept, shown, and the run does not score */
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "unverified");
    CHECK_STR(json_string_value(json_object_get(pRun, "draw")), zId);
    CHECK_INT(json_array_size(json_object_get(pRun, "trials")), 4);
    CHECK_STR(json_string_value(json_object_get(trial(pRun, 0), "timed_by")), "indexd");
    CHECK_STR(json_string_value(json_object_get(trial(pRun, 3), "timed_by")), "client");
    CHECK_STR(json_string_value(json_object_get(trial(pRun, 3), "code")), "Z031-WS·2017-Y-BGS-0003");
    CHECK(json_is_false(json_object_get(trial(pRun, 2), "passed")));
    CHECK(json_is_false(json_object_get(pRun, "passed")));
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    CHECK(json_number_value(json_object_get(json_object_get(pRun, "server"), "elapsed_seconds")) == 500.0);
    CHECK(json_number_value(json_object_get(json_object_get(pRun, "server"), "trial_seconds")) == 430.5);
    json_decref(pRun);
    /* used up: no second run, no more trials */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, T0 + 501, NULL, NULL), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "一次抽取只能用于一次测试");
    CHECK_INT(start(&ev, zId, 3, IDX_TRIAL_PAPER, T0 + 502), PS_CONFLICT);
}

/* What a run may claim, and who scores. */
static void test_runs(void)
{
    idx_caller ev = who("王评估", IDX_ROLE_EVALUATOR, 0), li = who("li", IDX_ROLE_ARCHIVIST, 0);
    idx_caller ad = who("admin", IDX_ROLE_ADMIN, 5);
    char zId[IDX_TIMED_ID_LEN + 1];
    const char *zField = NULL;
    json_t *pRun = NULL;
    double t = T0 + 1000;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    /* no draw, an unknown one */
    CHECK_INT(put(zData, &ev, "{\"trials\":[]}", zId, t + 5, NULL, &zField), PS_INVALID);
    CHECK_STR(zField, "draw");
    CHECK_INT(put(zData, &ev, "{\"draw\":\"20270115T080000Z-0123456789abcdef\"}", zId, t + 5, NULL, &zField),
              PS_NOT_FOUND);
    /* a record that was not drawn, a phrase that was not, a kind that is none */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0999\",\"kind\":\"fulltext\","
                              "\"seconds\":1,\"found\":true}]}", zId, t + 5, NULL, &zField), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "Z031-WS·2017-Y-BGS-0999 不在抽取");
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"fulltext\","
                              "\"seconds\":1,\"found\":true,\"phrase\":\"扶贫\"}]}", zId, t + 5, NULL, NULL), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "扶贫对象识别");
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"walk\","
                              "\"seconds\":1}]}", zId, t + 5, NULL, &zField), PS_INVALID);
    CHECK_STR(zField, "trials");
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\"}]}",
                  zId, t + 5, NULL, NULL), PS_INVALID); /* not timed by the daemon, no seconds */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[]}", zId, t + 5, NULL, NULL), PS_INVALID); /* no trial */
    /* more time than has passed since the draw (5 s, and 2 s allowed) */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\","
                              "\"seconds\":7.5}]}", zId, t + 5, NULL, &zField), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "各项测试用时合计 7.5 秒，但抽取以来只过了 5.0 秒");
    /* none of that used the draw up */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\","
                              "\"seconds\":3},{\"code\":\"Z031-WS.2017-Y-BGS-0001\",\"kind\":\"fulltext\",\"seconds\":3.9,"
                              "\"found\":true,\"phrase\":\"扶贫对象识别\"}]}", zId, t + 5, &pRun, NULL), PS_OK);
    /* passed, but timed by the client: kept as unverified, no points */
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "unverified");
    CHECK(json_is_true(json_object_get(pRun, "passed")));
    CHECK_INT(json_array_size(json_object_get(pRun, "untested")), 2);
    CHECK_STR(json_string_value(json_object_get(trial(pRun, 0), "kind")), "fulltext"); /* in the draw's order */
    json_decref(pRun);
    /* the same trials by an archivist or an admin: practice, no points */
    const idx_caller *aw[] = {&li, &ad};
    for (int i = 0; i < 2; i++) {
        CHECK_INT(draw(zData, aw[i], t + 10, zId), PS_OK);
        CHECK_INT(put(zData, aw[i], "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\","
                                   "\"seconds\":3}]}", zId, t + 15, &pRun, NULL), PS_OK);
        CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "practice");
        CHECK(json_is_true(json_object_get(pRun, "passed")));
        CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
        json_decref(pRun);
    }
    /* an archivist cannot post on an evaluator's draw */
    CHECK_INT(draw(zData, &ev, t + 20, zId), PS_OK);
    CHECK_INT(put(zData, &li, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\","
                              "\"seconds\":1}]}", zId, t + 22, NULL, NULL), PS_FORBIDDEN);
    /* a failed trial the daemon timed stays in, whatever the run says */
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, t + 21), PS_OK);
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_FULLTEXT, 0, t + 21.5, NULL, NULL), PS_OK);
    CHECK_INT(start(&ev, zId, 3, IDX_TRIAL_PAPER, t + 22), PS_OK); /* left running */
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"fulltext\","
                              "\"seconds\":0.1,\"found\":true}]}", zId, t + 30, &pRun, NULL), PS_OK);
    CHECK_INT(json_array_size(json_object_get(pRun, "trials")), 2);
    CHECK(json_is_false(json_object_get(trial(pRun, 0), "found")));
    CHECK(json_number_value(json_object_get(trial(pRun, 0), "seconds")) == 0.5);
    CHECK(json_is_true(json_object_get(trial(pRun, 1), "unfinished")));
    CHECK(json_number_value(json_object_get(trial(pRun, 1), "seconds")) == 8.0);
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "incomplete"); /* record 2 untried */
    json_decref(pRun);
    /* every trial passed, but a record was left untried: incomplete */
    t += 100;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, t + 1), PS_OK);
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_FULLTEXT, 1, t + 2, NULL, NULL), PS_OK);
    CHECK_INT(start(&ev, zId, 3, IDX_TRIAL_PAPER, t + 3), PS_OK);
    CHECK_INT(stop(&ev, zId, 3, IDX_TRIAL_PAPER, 1, t + 4, NULL, NULL), PS_OK);
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, t + 5, &pRun, NULL), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "incomplete");
    CHECK(json_is_true(json_object_get(pRun, "passed")));
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    CHECK_STR(json_string_value(json_array_get(json_object_get(pRun, "untested"), 0)), "Z031-WS·2017-Y-BGS-0002");
    json_decref(pRun);
    /* every record tried, but paper trials only: incomplete */
    t += 100;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    for (unsigned n = 1; n <= 3; n++) {
        CHECK_INT(start(&ev, zId, n, IDX_TRIAL_PAPER, t + n), PS_OK);
        CHECK_INT(stop(&ev, zId, n, IDX_TRIAL_PAPER, 1, t + n + 0.5, NULL, NULL), PS_OK);
    }
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, t + 5, &pRun, NULL), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "incomplete");
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    json_decref(pRun);
    /* a full-text trial said found is checked by a search: one that does
     * not find the record is not found, whatever the client says */
    t += 100;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, t + 1), PS_OK);
    json_t *pOut = NULL;
    CHECK_INT(idx_timed_stop(zData, &ev, zId, 1, IDX_TRIAL_FULLTEXT, 1, search_misses, NULL, t + 2, &pOut, zErr,
                             sizeof zErr), PS_OK);
    CHECK(json_is_false(json_object_get(pOut, "found")) && json_is_false(json_object_get(pOut, "search_found")));
    CHECK(json_is_false(json_object_get(pOut, "passed")));
    json_decref(pOut);
    CHECK_INT(start(&ev, zId, 3, IDX_TRIAL_FULLTEXT, t + 3), PS_OK);
    CHECK_INT(idx_timed_stop(zData, &ev, zId, 3, IDX_TRIAL_FULLTEXT, 1, search_finds, NULL, t + 4, &pOut, zErr,
                             sizeof zErr), PS_OK);
    CHECK(json_is_true(json_object_get(pOut, "found")) && json_is_true(json_object_get(pOut, "search_found")));
    json_decref(pOut);
    /* a whole run that passed: scored, 3 points */
    for (unsigned n = 1; n <= 3; n++) {
        CHECK_INT(start(&ev, zId, n, IDX_TRIAL_PAPER, t + 5 + n), PS_OK);
        CHECK_INT(stop(&ev, zId, n, IDX_TRIAL_PAPER, 1, t + 5.5 + n, NULL, NULL), PS_OK);
    }
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, t + 10, &pRun, NULL), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "scored");
    CHECK(json_is_false(json_object_get(pRun, "passed"))); /* record 1's search did not find it */
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 0);
    CHECK(json_is_false(json_object_get(trial(pRun, 0), "search_found")));
    json_decref(pRun);
    t += 100;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_FULLTEXT, t + 1), PS_OK);
    CHECK_INT(stop(&ev, zId, 1, IDX_TRIAL_FULLTEXT, 1, t + 2, NULL, NULL), PS_OK);
    for (unsigned n = 1; n <= 3; n++) {
        CHECK_INT(start(&ev, zId, n, IDX_TRIAL_PAPER, t + 2 + n), PS_OK);
        CHECK_INT(stop(&ev, zId, n, IDX_TRIAL_PAPER, 1, t + 2.5 + n, NULL, NULL), PS_OK);
    }
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, t + 10, &pRun, NULL), PS_OK);
    CHECK_STR(json_string_value(json_object_get(pRun, "mode")), "scored");
    CHECK(json_is_true(json_object_get(pRun, "passed")));
    CHECK_INT(json_integer_value(json_object_get(pRun, "points")), 3);
    json_decref(pRun);
}

static void test_expiry(void)
{
    idx_caller ev = who("王评估", IDX_ROLE_EVALUATOR, 0);
    char zId[IDX_TIMED_ID_LEN + 1];
    double t = T0 + 5000;
    CHECK_INT(draw(zData, &ev, t, zId), PS_OK);
    CHECK_INT(start(&ev, zId, 2, IDX_TRIAL_PAPER, t + IDX_TIMED_DRAW_TTL_S - 10), PS_OK);
    CHECK_INT(stop(&ev, zId, 2, IDX_TRIAL_PAPER, 1, t + IDX_TIMED_DRAW_TTL_S - 1, NULL, NULL), PS_OK);
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, t + IDX_TIMED_DRAW_TTL_S, NULL, NULL), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "过期（抽取的有效期为 2 小时）");
    CHECK_INT(start(&ev, zId, 1, IDX_TRIAL_PAPER, t + IDX_TIMED_DRAW_TTL_S + 1), PS_CONFLICT);
    /* a day after that the file is gone: unknown */
    char zOther[IDX_TIMED_ID_LEN + 1];
    double later = t + IDX_TIMED_DRAW_TTL_S + IDX_TIMED_DRAW_KEEP_S + 10;
    CHECK_INT(draw(zData, &ev, later, zOther), PS_OK);
    CHECK_INT(put(zData, &ev, "{\"draw\":\"%s\"}", zId, later, NULL, NULL), PS_NOT_FOUND);
}

/* Bounds: open draws per user, draws kept, runs kept. */
static void test_bounds(void)
{
    char zDir[] = "/tmp/test_timed_b_XXXXXX", zId[IDX_TIMED_ID_LEN + 1], zPath[512], zName[64];
    CHECK(mkdtemp(zDir) != NULL);
    idx_caller ev = who("赵评估", IDX_ROLE_EVALUATOR, 0), li = who("li", IDX_ROLE_ARCHIVIST, 0);
    for (int i = 0; i < IDX_TIMED_OPEN_PER_USER; i++) CHECK_INT(draw(zDir, &ev, T0 + i, zId), PS_OK);
    CHECK_INT(draw(zDir, &ev, T0 + 30, zId), PS_TOO_MANY);
    CHECK_CONTAINS(zErr, "您已有 20 次尚未使用的抽取");
    CHECK_INT(draw(zDir, &li, T0 + 30, zId), PS_OK); /* others are not held up */
    CHECK_INT(draw(zDir, &ev, T0 + 30 + IDX_TIMED_DRAW_TTL_S, zId), PS_OK); /* expired ones do not count */
    /* the store of draws: full of used ones (they do not count), of open
     * ones (they do), then of expired ones */
    snprintf(zPath, sizeof zPath, "%s/timed-tests/draws", zDir);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < IDX_TIMED_DRAWS_MAX; i++) {
            time_t s = (time_t)(T0 + 20000);
            struct tm tm;
            gmtime_r(&s, &tm);
            strftime(zName, sizeof zName, "%Y%m%dT%H%M%SZ", &tm);
            char zFile[700];
            snprintf(zFile, sizeof zFile, "%s/%s-%016x.json", zPath, zName, i);
            FILE *f = fopen(zFile, "w");
            CHECK(f != NULL);
            if (f) {
                fprintf(f, "{\"user\":\"u%d\",\"run\":%s,\"expires\":%.0f}", i, pass ? "null" : "\"r\"",
                        T0 + 20000 + IDX_TIMED_DRAW_TTL_S);
                fclose(f);
            }
        }
        if (pass == 0) CHECK_INT(draw(zDir, &li, T0 + 20001, zId), PS_OK);
    }
    CHECK_INT(draw(zDir, &li, T0 + 20001, zId), PS_TOO_MANY);
    CHECK_CONTAINS(zErr, "已有 1000 次尚未使用的抽取");
    CHECK_INT(draw(zDir, &li, T0 + 20010 + IDX_TIMED_DRAW_TTL_S, zId), PS_OK); /* expired: removed to make room */
    /* runs */
    char zRuns[128];
    CHECK_INT(draw(zDir, &li, T0 + 40000, zId), PS_OK);
    snprintf(zRuns, sizeof zRuns, "%s/timed-tests", zDir);
    for (int i = 0; i < IDX_TIMED_RUNS_MAX; i++) {
        char zFile[700];
        snprintf(zFile, sizeof zFile, "%s/20000101T000000Z-%05d.json", zRuns, i);
        FILE *f = fopen(zFile, "w");
        CHECK(f != NULL);
        if (f) fclose(f);
    }
    const char *zBody = "{\"draw\":\"%s\",\"trials\":[{\"code\":\"Z031-WS·2017-Y-BGS-0001\",\"kind\":\"paper\",\"seconds\":1}]}";
    CHECK_INT(put(zDir, &li, zBody, zId, T0 + 40001, NULL, NULL), PS_TOO_BIG);
    CHECK_CONTAINS(zErr, "已保存 10000 次利用时效测试记录");
    snprintf(zPath, sizeof zPath, "%s/20000101T000000Z-00000.json", zRuns);
    CHECK(remove(zPath) == 0);
    CHECK_INT(put(zDir, &li, zBody, zId, T0 + 40001, NULL, NULL), PS_OK);
    px_test_rmdir(zDir);
}

static void test_report(void)
{
    idx_caller pub = who("li", IDX_ROLE_ARCHIVIST, 0), sec = who("admin", IDX_ROLE_ADMIN, 5);
    char zPath[256];
    json_t *pRep = NULL;
    /* a run kept before draws existed */
    snprintf(zPath, sizeof zPath, "%s/timed-tests/20000101T000000Z-000.json", zData);
    FILE *f = fopen(zPath, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"id\":\"20000101T000000Z-000\",\"evaluator\":\"x\",\"trials\":[],\"passed\":true,\"points\":3}", f);
        fclose(f);
    }
    CHECK_INT(idx_report_timed(zData, &pub, &pRep, zErr, sizeof zErr), PS_OK);
    const json_t *pRuns = json_object_get(pRep, "runs");
    CHECK_STR(json_string_value(json_object_get(json_array_get(pRuns, 0), "mode")), "unverified");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(pRuns, 0), "points")), 0);
    /* the latest scored run counts (test_runs' last evaluator run: 3),
     * not an earlier one, a practice run, an incomplete or unverified one */
    const char *zScored = json_string_value(json_object_get(pRep, "scored_run"));
    CHECK(zScored != NULL);
    CHECK_INT(json_integer_value(json_object_get(pRep, "points")), 3);
    size_t i, nPractice = 0;
    json_t *r;
    json_array_foreach(pRuns, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "mode")), "practice") == 0) nPractice++;
        if (i + 1 == json_array_size(pRuns)) CHECK_STR(json_string_value(json_object_get(r, "id")), zScored);
    }
    CHECK_INT(nPractice, 2);
    /* the 机密 record's phrase is not shown to a 公开 reader */
    char *z = json_dumps(pRep, 0);
    CHECK(z && !strstr(z, "资金专项审计") && !strstr(z, "2号库") && strstr(z, "密级档案"));
    /* nor its 档号 where a trial names it (an untried record's 档号 is
     * closed by the handler, which looks the record up) */
    json_array_foreach(pRuns, i, r) {
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(r, "trials"), k, t)
            CHECK(!strstr(json_string_value(json_object_get(t, "code")), "BGS-0003"));
    }
    px_free(z);
    json_decref(pRep);
    CHECK_INT(idx_report_timed(zData, &sec, &pRep, zErr, sizeof zErr), PS_OK);
    z = json_dumps(pRep, 0);
    CHECK(z && strstr(z, "资金专项审计"));
    px_free(z);
    json_decref(pRep);
}

/* ---- draws at random, through queries --------------------------------------- */

/* A record with nPage pages of text zText. */
static void put_rec(idx_index *p, const char *zCode, const char *zTitle, const char *zClass, const char *zText,
                    int nPage)
{
    proto_record r;
    proto_problem err;
    int replaced;
    char zE[256];
    proto_record_init(&r);
    proto_record_set(&r, PF_CODE, zCode, strlen(zCode));
    proto_record_set(&r, PF_TITLE, zTitle, strlen(zTitle));
    proto_record_set(&r, PF_LOCATION, "1号库-01列", strlen("1号库-01列"));
    if (zClass) proto_record_set(&r, PF_CLASSIFICATION, zClass, strlen(zClass));
    CHECK_INT(proto_record_check(&r, &err, NULL, 0, NULL), PS_OK);
    json_t *pPages = json_object();
    for (int i = 1; i <= nPage; i++) {
        char zN[16];
        snprintf(zN, sizeof zN, "%d", i);
        json_object_set_new(pPages, zN, json_pack("{s:s}", "text", zText));
    }
    CHECK_INT(idx_index_put(p, &r, pPages, NULL, &replaced, zE, sizeof zE), PS_OK);
    json_decref(pPages);
    proto_record_clear(&r);
}

/* The caller's rule: 机密 unseen, 秘密 needs an approval. */
static int may(void *ctx, const char *zCode, const json_t *pRec)
{
    const char *zCls = json_string_value(json_object_get(pRec, "classification"));
    (void)zCode;
    (*(int *)ctx)++;
    if (zCls && strcmp(zCls, "机密") == 0) return PS_NOT_FOUND;
    if (zCls && strcmp(zCls, "秘密") == 0) return PS_APPROVAL;
    return PS_OK;
}

/* The 档号 of a draw's records, joined by spaces. */
static const char *codes_of(const json_t *pDraw, char *z, size_t n)
{
    size_t k = 0, i;
    json_t *o;
    z[0] = 0;
    json_array_foreach(json_object_get(pDraw, "records"), i, o)
        k += (size_t)snprintf(z + k, k < n ? n - k : 0, "%s%s", i ? " " : "", json_string_value(json_object_get(o, "code")));
    return z;
}

static void test_draw(void)
{
    char zDir[] = "/tmp/test_timed_draw_XXXXXX", zCode[64], zA[4096], zB[4096];
    idx_index *p = NULL;
    idx_index_opts io = {2, 1000, 0, 50};
    CHECK(mkdtemp(zDir) != NULL);
    CHECK_INT(idx_index_open(zDir, &io, &p, zErr, sizeof zErr), PS_OK);
    for (int i = 1; i <= 20; i++) {
        snprintf(zCode, sizeof zCode, "Z031-WS·2017-Y-BGS-%04d", i);
        put_rec(p, zCode, "关于扶贫工作的通知", NULL, "精准扶贫对象识别工作", 2);
    }
    for (int i = 1; i <= 8; i++) {
        snprintf(zCode, sizeof zCode, "Z032-WS·2018-Y-BGS-%04d", i);
        put_rec(p, zCode, "关于扶贫工作的通知", NULL, "精准扶贫对象识别工作", 1);
    }
    for (int i = 21; i <= 25; i++) { /* no pages: never drawn at random */
        snprintf(zCode, sizeof zCode, "Z031-WS·2017-Y-BGS-%04d", i);
        put_rec(p, zCode, "关于扶贫工作的通知", NULL, NULL, 0);
    }
    put_rec(p, "Z031-WS·2017-Y-BGS-0030", "关于扶贫工作的通知", "机密", "精准扶贫对象识别工作", 1);
    put_rec(p, "Z031-WS·2017-Y-BGS-0031", "关于扶贫工作的通知", "秘密", "精准扶贫对象识别工作", 1);
    put_rec(p, "Z031-WS·2017-Y-BGS-0032", "AB", NULL, "ok", 1); /* no phrase */
    for (int i = 1; i <= 300; i++) { /* a 全宗 the caller sees nothing of */
        snprintf(zCode, sizeof zCode, "Z033-WS·2019-Y-BGS-%04d", i);
        put_rec(p, zCode, "关于扶贫工作的通知", "机密", "精准扶贫对象识别工作", 1);
    }
    int replaced;
    json_t *pPage = json_pack("{s:s}", "text", "精准扶贫对象识别工作");
    CHECK_INT(idx_index_put_page_unlinked(p, "Z031-WS·2017-Y-BGS-0040", 1, pPage, "批次1", NULL, &replaced, zErr,
                                          sizeof zErr), PS_OK); /* waits for its catalog row: never drawn */
    json_decref(pPage);
    CHECK_INT(idx_index_commit(p, zErr, sizeof zErr), PS_OK);

    /* every record one may draw, once, when fewer than asked */
    int nCalls = 0;
    json_t *a = NULL, *b = NULL, *o;
    size_t i;
    CHECK_INT(idx_timed_draw(p, 100, 7, NULL, "Z031", may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(a, "records")), 20);
    CHECK_INT(nCalls, 23); /* 20, 0030, 0031, 0032 (no phrase) */
    codes_of(a, zA, sizeof zA);
    for (int k = 1; k <= 20; k++) {
        snprintf(zCode, sizeof zCode, "Z031-WS·2017-Y-BGS-%04d", k);
        char *z = strstr(zA, zCode);
        CHECK(z != NULL && strstr(z + 1, zCode) == NULL);
    }
    json_array_foreach(json_object_get(a, "records"), i, o) {
        CHECK(json_is_string(json_object_get(o, "phrase")));
        json_int_t pg = json_integer_value(json_object_get(o, "page"));
        CHECK(pg == 1 || pg == 2);
        CHECK(json_object_get(o, "classification") == NULL);
    }
    /* the same seed and index: the same draw; n of them: its first n */
    nCalls = 0;
    CHECK_INT(idx_timed_draw(p, 100, 7, NULL, "Z031", may, &nCalls, &b, zErr, sizeof zErr), PS_OK);
    CHECK(json_equal(a, b));
    json_decref(b);
    CHECK_INT(idx_timed_draw(p, 5, 7, NULL, "Z031", may, &nCalls, &b, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(b, "records")), 5);
    codes_of(b, zB, sizeof zB);
    CHECK(strncmp(zA, zB, strlen(zB)) == 0);
    json_decref(b);
    /* another seed: another order */
    CHECK_INT(idx_timed_draw(p, 100, 8, NULL, "Z031", may, &nCalls, &b, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(b, "records")), 20);
    CHECK(strcmp(zA, codes_of(b, zB, sizeof zB)) != 0);
    json_decref(b);
    json_decref(a);
    /* every 全宗 */
    CHECK_INT(idx_timed_draw(p, 30, 3, NULL, NULL, may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(a, "records")), 28);
    CHECK(strstr(codes_of(a, zA, sizeof zA), "Z032-WS·2018-Y-BGS-0008") != NULL);
    CHECK(strstr(zA, "-0040") == NULL && strstr(zA, "Z033") == NULL);
    json_decref(a);
    CHECK_INT(idx_timed_draw(p, 100, 3, NULL, "Z032", may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(a, "records")), 8);
    CHECK(strstr(codes_of(a, zA, sizeof zA), "Z031") == NULL);
    json_decref(a);
    CHECK_INT(idx_timed_draw(p, 5, 3, NULL, "Z099", may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(a, "records")), 0);
    json_decref(a);
    /* tries are bounded: 10 a record asked for and 100, or every record */
    nCalls = 0;
    CHECK_INT(idx_timed_draw(p, 1, 3, NULL, "Z033", may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(json_array_size(json_object_get(a, "records")), 0);
    CHECK_INT(nCalls, 110);
    json_decref(a);
    nCalls = 0;
    CHECK_INT(idx_timed_draw(p, 20, 3, NULL, "Z033", may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nCalls, 300);
    json_decref(a);

    /* named records: as before */
    json_t *pCodes = json_pack("[s]", "Z031-WS·2017-Y-BGS-0030");
    CHECK_INT(idx_timed_draw(p, 1, 0, pCodes, NULL, may, &nCalls, &a, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_STR(zErr, "没有档号为 Z031-WS·2017-Y-BGS-0030 的档案");
    json_decref(pCodes);
    pCodes = json_pack("[s]", "Z031-WS·2017-Y-BGS-0031");
    CHECK_INT(idx_timed_draw(p, 1, 0, pCodes, NULL, may, &nCalls, &a, zErr, sizeof zErr), PS_APPROVAL);
    CHECK_STR(zErr, "档号为 Z031-WS·2017-Y-BGS-0031 的档案须经审批才能查看文本，不能抽取");
    json_decref(pCodes);
    pCodes = json_pack("[s,s]", "Z031-WS·2017-Y-BGS-0021", "Z031-WS·2017-Y-BGS-0021");
    CHECK_INT(idx_timed_draw(p, 1, 0, pCodes, NULL, may, &nCalls, &a, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "档号 Z031-WS·2017-Y-BGS-0021 重复指定");
    json_decref(pCodes);
    pCodes = json_pack("[s,s]", "Z031-WS·2017-Y-BGS-0021", "Z031-WS·2017-Y-BGS-0032");
    CHECK_INT(idx_timed_draw(p, 1, 0, pCodes, NULL, may, &nCalls, &a, zErr, sizeof zErr), PS_OK);
    CHECK_STR(codes_of(a, zA, sizeof zA), "Z031-WS·2017-Y-BGS-0021 Z031-WS·2017-Y-BGS-0032");
    CHECK(json_is_string(json_object_get(json_array_get(json_object_get(a, "records"), 0), "phrase"))); /* its title */
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(a, "records"), 1), "phrase")));
    json_decref(a);
    json_decref(pCodes);

    /* out of memory anywhere: a clean failure */
    for (long k = 1; k < 200; k += 7) {
        px_fail_after(k);
        int rc = idx_timed_draw(p, 10, 5, NULL, NULL, may, &nCalls, &a, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM || rc == PS_INDEX);
        if (rc == PS_OK) json_decref(a);
    }
    idx_index_close(p);
    px_test_rmdir(zDir);
}

int main(void)
{
    px_install_json_allocator();
    snprintf(zData, sizeof zData, "/tmp/test_timed_XXXXXX");
    CHECK(mkdtemp(zData) != NULL);
    test_ids();
    test_trials();
    test_runs();
    test_expiry();
    test_bounds();
    test_report();
    test_draw();
    px_test_rmdir(zData);
    return px_test_done();
}
