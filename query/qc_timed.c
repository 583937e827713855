/* The timed retrieval test at the terminal. */
#include "qc_timed.h"
#include "qc_buf.h"
#include "qc_path.h"
#include "qc_text.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAPER_S 180.0

/* The Chinese name of a role code, as indexd names the roles. */
static const char *role_cn(const char *zRole)
{
    static const char *const az[][2] = {
        {"admin", "管理员"}, {"archivist", "档案员"}, {"evaluator", "评估员"}, {"vendor", "数字化厂商"}};
    for (size_t i = 0; zRole && i < sizeof az / sizeof az[0]; i++)
        if (strcmp(zRole, az[i][0]) == 0) return az[i][1];
    return zRole ? zRole : "?";
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static struct termios gSaved;
static int gRaw = -1;

static void restore_tty(void)
{
    if (gRaw >= 0) {
        tcsetattr(gRaw, TCSANOW, &gSaved);
        gRaw = -1;
    }
}

static void on_signal(int sig)
{
    restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Keys come one by one, unechoed, while the clock runs. */
static int raw_tty(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &gSaved) != 0) return -1;
    t = gSaved;
    t.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &t) != 0) return -1;
    gRaw = fd;
    return 0;
}

/* Search zPhrase as a quoted phrase; *pFound whether zCode is among the hits. */
static int search(qc_client *c, const char *zPhrase, const char *zCode, int *pFound, double *pSec, char *zErr,
                  size_t nErr)
{
    qc_buf path, q;
    qc_answer a;
    qc_buf_init(&path, 0);
    qc_buf_init(&q, 0);
    qc_answer_init(&a);
    qc_buf_addf(&q, "\"%s\"", zPhrase);
    qc_buf_adds(&path, "/api/v1/search?limit=100&facets=0&q=");
    qc_path_escape(&path, qc_buf_str(&q));
    int rc = path.rc;
    double t0 = now_s();
    if (rc == PS_OK) rc = qc_client_call(c, "GET", qc_buf_str(&path), NULL, NULL, &a, zErr, nErr);
    *pSec = now_s() - t0;
    *pFound = 0;
    if (rc == PS_OK) {
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(a.pJson, "hits"), i, h) {
            const char *z = json_string_value(json_object_get(h, "code"));
            if (z && strcmp(z, zCode) == 0) *pFound = 1;
        }
    }
    qc_answer_clear(&a);
    qc_buf_release(&path);
    qc_buf_release(&q);
    return rc;
}

/* The store location, as large as the terminal can show it. */
static void banner(FILE *f, const char *zLoc, const char *zCode, const char *zTitle)
{
    const char *zTerm = getenv("TERM");
    int fancy = zTerm && strcmp(zTerm, "dumb") != 0 && !getenv("NO_COLOR");
    fputs("\n", f);
    fprintf(f, "  档号 %s  %s\n\n", zCode, zTitle ? zTitle : "");
    if (fancy) {
        /* DEC double-height, double-width lines (xterm, VTE, most emulators) */
        fprintf(f, "\033#3  存放位置：%s\n\033#4  存放位置：%s\n", zLoc, zLoc);
    } else {
        fprintf(f, "  ==============================================\n"
                   "    存放位置：%s\n"
                   "  ==============================================\n", zLoc);
    }
    fputs("\n", f);
}

/* The paper trial's clock, shown while indexd times the trial: until
 * Enter (*pFound 1: the file is in hand) or n (0: given up). */
static int paper_clock(FILE *fIn, FILE *fOut, int *pFound)
{
    int fd = fileno(fIn);
    if (raw_tty(fd) != 0) return PS_IO;
    double t0 = now_s();
    int rc = PS_OK;
    for (;;) {
        double t = now_s() - t0;
        int min = (int)(t / 60);
        /* the second text is padded to cover the first */
        fprintf(fOut, "\r  用时 %02d:%04.1f  %s", min, t - min * 60,
                t <= PAPER_S ? "取到档案后按回车键，找不到按 n"
                             : "已超过3分钟                   ");
        fflush(fOut);
        fd_set set;
        FD_ZERO(&set);
        FD_SET(fd, &set);
        struct timeval tv = {0, 100000};
        int r = select(fd + 1, &set, NULL, NULL, &tv);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = PS_IO;
            break;
        }
        if (r == 0) continue;
        char ch;
        ssize_t k = read(fd, &ch, 1);
        if (k <= 0) {
            rc = PS_IO;
            break;
        }
        if (ch == '\n' || ch == '\r' || ch == 'n' || ch == 'N') {
            *pFound = ch != 'n' && ch != 'N';
            break;
        }
    }
    restore_tty();
    fputs("\n", fOut);
    return rc;
}

/* POST pBody (not taken) as JSON to zPath. */
static int post_json(qc_client *c, const char *zPath, const json_t *pBody, qc_answer *pAns, char *zErr, size_t nErr)
{
    char *zBody = json_dumps(pBody, JSON_COMPACT);
    FILE *fb = zBody ? fmemopen(zBody, strlen(zBody), "rb") : NULL;
    int rc = fb ? qc_client_call(c, "POST", zPath, "application/json", fb, pAns, zErr, nErr) : PS_NOMEM;
    if (fb) fclose(fb);
    px_free(zBody);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    return rc;
}

/* Start (found < 0) or stop trial n of draw zDraw on indexd, which keeps
 * the time; the answer in *pAns. */
static int trial_call(qc_client *c, const char *zDraw, size_t n, const char *zKind, int found, qc_answer *pAns,
                      char *zErr, size_t nErr)
{
    qc_buf path;
    qc_buf_init(&path, 0);
    qc_buf_adds(&path, "/api/v1/timed-tests/");
    qc_path_escape(&path, zDraw);
    qc_buf_addf(&path, "/trials/%zu/%s", n, found < 0 ? "start" : "stop");
    json_t *pBody = found < 0 ? json_pack("{s:s}", "kind", zKind) : json_pack("{s:s,s:b}", "kind", zKind, "found", found);
    int rc = path.rc;
    if (rc == PS_OK && !pBody) rc = PS_NOMEM;
    if (rc == PS_OK) rc = post_json(c, qc_buf_str(&path), pBody, pAns, zErr, nErr);
    else snprintf(zErr, nErr, "内存不足");
    json_decref(pBody);
    qc_buf_release(&path);
    return rc;
}

int qc_timed_run(qc_client *c, const qc_args *a, FILE *fIn, FILE *fOut, int *pPassed, char *zErr, size_t nErr)
{
    int interactive = !a->timedAuto && isatty(fileno(fIn));
    qc_buf path;
    qc_answer ans, step, post;
    json_t *pRun = NULL;
    int rc;
    qc_buf_init(&path, 0);
    qc_answer_init(&ans);
    qc_answer_init(&step);
    qc_answer_init(&post);
    *pPassed = 0;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    qc_buf_addf(&path, "/api/v1/timed-tests/draw?n=%ld", a->timedN > 0 ? a->timedN : 5);
    if (a->zTimedCodes) {
        qc_buf_adds(&path, "&codes=");
        qc_path_escape(&path, a->zTimedCodes);
    }
    if (a->anFilter[QC_F_FONDS]) {
        qc_buf_adds(&path, "&fonds=");
        qc_path_escape(&path, a->azFilter[QC_F_FONDS][0]);
    }
    if (a->zTimedSeed) qc_buf_addf(&path, "&seed=%s", a->zTimedSeed);
    rc = path.rc;
    if (rc == PS_OK) rc = qc_client_call(c, "GET", qc_buf_str(&path), NULL, NULL, &ans, zErr, nErr);
    if (rc != PS_OK) goto out;
    json_t *pRecs = json_object_get(ans.pJson, "records");
    const char *zDraw = json_string_value(json_object_get(ans.pJson, "draw"));
    const char *zRole = json_string_value(json_object_get(ans.pJson, "role"));
    if (!zDraw) {
        rc = qc_invalid(zErr, nErr, "indexd 的抽取应答中没有抽取编号：indexd 的版本比本客户端旧");
        goto out;
    }
    if (!json_array_size(pRecs)) {
        rc = qc_invalid(zErr, nErr, "没有可测试的档案：索引中尚无页面全文");
        goto out;
    }
    fprintf(fOut, "利用时效测试：抽取编号 %s，共 %zu 件档案，%s；每项测试由 indexd 计时\n", zDraw,
            json_array_size(pRecs), interactive ? "做全文检索和纸质调阅测试" : "只做全文检索测试");
    if (!zRole || strcmp(zRole, "evaluator") != 0)
        fprintf(fOut, "练习：%s（%s）的测试不计分；只有评估员角色的用户的测试计入第 7 项得分\n",
                json_string_value(json_object_get(ans.pJson, "user")) ? json_string_value(json_object_get(ans.pJson, "user")) : "?",
                role_cn(zRole));
    size_t i;
    json_t *r;
    json_array_foreach(pRecs, i, r) {
        const char *zCode = json_string_value(json_object_get(r, "code"));
        const char *zPhrase = json_string_value(json_object_get(r, "phrase"));
        const char *zLoc = json_string_value(json_object_get(r, "location"));
        const char *zTitle = json_string_value(json_object_get(r, "title"));
        char zLine[256];
        fprintf(fOut, "\n[%zu/%zu] %s\n", i + 1, json_array_size(pRecs), zCode ? zCode : "?");
        if (zCode && zPhrase && *zPhrase) {
            int found;
            double sec;
            if (interactive) {
                /* the phrase is the drawn one: indexd refuses another */
                fprintf(fOut, "  全文检索：检索词【%s】——按回车键开始计时并检索：", zPhrase);
                fflush(fOut);
                if (!fgets(zLine, sizeof zLine, fIn)) {
                    rc = qc_invalid(zErr, nErr, "全文检索测试开始前终端已关闭");
                    goto out;
                }
            }
            if ((rc = trial_call(c, zDraw, i + 1, "fulltext", -1, &step, zErr, nErr)) != PS_OK ||
                (rc = search(c, zPhrase, zCode, &found, &sec, zErr, nErr)) != PS_OK ||
                (rc = trial_call(c, zDraw, i + 1, "fulltext", found, &step, zErr, nErr)) != PS_OK)
                goto out;
            sec = json_number_value(json_object_get(step.pJson, "seconds"));
            fprintf(fOut, "  全文检索“%s”：%s，用时 %.3f 秒——%s\n", zPhrase, found ? "已检出" : "未检出", sec,
                    json_is_true(json_object_get(step.pJson, "passed")) ? "通过" : "未通过");
        } else {
            fprintf(fOut, "  全文检索：没有检索词（本件没有全文）\n");
        }
        if (interactive && zCode) {
            int found = 0;
            if ((rc = trial_call(c, zDraw, i + 1, "paper", -1, &step, zErr, nErr)) != PS_OK) goto out;
            banner(fOut, zLoc ? zLoc : "（未登记存放位置）", zCode, zTitle);
            if ((rc = paper_clock(fIn, fOut, &found)) != PS_OK) {
                snprintf(zErr, nErr, "纸质调阅测试中终端已关闭");
                goto out;
            }
            if ((rc = trial_call(c, zDraw, i + 1, "paper", found, &step, zErr, nErr)) != PS_OK) goto out;
            fprintf(fOut, "  纸质调阅：%s，用时 %.1f 秒——%s\n", found ? "已取到" : "未找到",
                    json_number_value(json_object_get(step.pJson, "seconds")),
                    json_is_true(json_object_get(step.pJson, "passed")) ? "通过" : "未通过");
        }
    }
    /* the trials are on indexd already; the run names the draw */
    pRun = json_pack("{s:s,s:s?}", "draw", zDraw, "note", a->zEvaluator);
    rc = pRun ? post_json(c, "/api/v1/timed-tests", pRun, &post, zErr, nErr) : PS_NOMEM;
    if (rc != PS_OK) {
        if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    *pPassed = json_is_true(json_object_get(post.pJson, "passed"));
    const char *zId = json_string_value(json_object_get(post.pJson, "id"));
    const char *zMode = json_string_value(json_object_get(post.pJson, "mode"));
    if (zMode && strcmp(zMode, "scored") == 0)
        fprintf(fOut, "\n第 7 项（利用高效便捷）：%s——得 %lld 分；测试记录 %s 已由 indexd 保存\n",
                *pPassed ? "全部通过" : "有测试未通过",
                (long long)json_integer_value(json_object_get(post.pJson, "points")), zId ? zId : "?");
    else if (zMode && strcmp(zMode, "incomplete") == 0)
        fprintf(fOut, "\n第 7 项（利用高效便捷）：%s——测试不完整（计分的测试须对抽取的每件档案都做全文检索和"
                "纸质调阅），不计分；测试记录 %s 已由 indexd 保存\n",
                *pPassed ? "全部通过" : "有测试未通过", zId ? zId : "?");
    else
        fprintf(fOut, "\n第 7 项（利用高效便捷）：%s——%s（%s）的练习，不计分；测试记录 %s 已由 indexd 保存\n",
                *pPassed ? "全部通过" : "有测试未通过",
                json_string_value(json_object_get(post.pJson, "evaluator")) ? json_string_value(json_object_get(post.pJson, "evaluator")) : "?",
                json_string_value(json_object_get(post.pJson, "role_cn")) ? json_string_value(json_object_get(post.pJson, "role_cn")) : "?",
                zId ? zId : "?");
out:
    restore_tty();
    json_decref(pRun);
    qc_answer_clear(&ans);
    qc_answer_clear(&step);
    qc_answer_clear(&post);
    qc_buf_release(&path);
    return rc;
}
