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

#define FULLTEXT_S 60.0
#define PAPER_S 180.0

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

/* The paper trial: a clock until Enter.  *pSec the time; -1 if cancelled. */
static int paper_clock(FILE *fIn, FILE *fOut, double *pSec)
{
    int fd = fileno(fIn);
    if (raw_tty(fd) != 0) return PS_IO;
    double t0 = now_s();
    int rc = PS_OK;
    for (;;) {
        double t = now_s() - t0;
        int min = (int)(t / 60);
        fprintf(fOut, "\r  用时 %02d:%04.1f  %s", min, t - min * 60,
                t <= PAPER_S ? "取到档案后按回车键 (Enter when the file is in hand)" : "已超过3分钟 (over 3 minutes)  ");
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
        if (ch == '\n' || ch == '\r') {
            *pSec = now_s() - t0;
            break;
        }
    }
    restore_tty();
    fputs("\n", fOut);
    return rc;
}

int qc_timed_run(qc_client *c, const qc_args *a, FILE *fIn, FILE *fOut, int *pPassed, char *zErr, size_t nErr)
{
    int interactive = !a->timedAuto && isatty(fileno(fIn));
    qc_buf path;
    qc_answer ans, post;
    json_t *pTrials = json_array();
    int rc;
    qc_buf_init(&path, 0);
    qc_answer_init(&ans);
    qc_answer_init(&post);
    *pPassed = 0;
    if (!pTrials) return PS_NOMEM;
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
    if (!json_array_size(pRecs)) {
        rc = qc_invalid(zErr, nErr, "no record to test: the index has no page text yet");
        goto out;
    }
    fprintf(fOut, "timed retrieval test: %zu records, %s\n", json_array_size(pRecs),
            interactive ? "full text and paper trials" : "full-text trials only");
    size_t i;
    json_t *r;
    json_array_foreach(pRecs, i, r) {
        const char *zCode = json_string_value(json_object_get(r, "code"));
        const char *zPhrase = json_string_value(json_object_get(r, "phrase"));
        const char *zLoc = json_string_value(json_object_get(r, "location"));
        const char *zTitle = json_string_value(json_object_get(r, "title"));
        char zTyped[256];
        fprintf(fOut, "\n[%zu/%zu] %s\n", i + 1, json_array_size(pRecs), zCode ? zCode : "?");
        if (interactive) {
            fprintf(fOut, "  full text: phrase [%s] (Enter to keep it, or type another): ", zPhrase ? zPhrase : "");
            fflush(fOut);
            if (fgets(zTyped, sizeof zTyped, fIn)) {
                zTyped[strcspn(zTyped, "\r\n")] = 0;
                if (zTyped[0]) zPhrase = zTyped;
            }
        }
        if (zCode && zPhrase && *zPhrase) {
            int found;
            double sec;
            if ((rc = search(c, zPhrase, zCode, &found, &sec, zErr, nErr)) != PS_OK) goto out;
            fprintf(fOut, "  full text \"%s\": %s in %.3f s — %s\n", zPhrase, found ? "found" : "NOT found", sec,
                    found && sec <= FULLTEXT_S ? "pass" : "FAIL");
            json_array_append_new(pTrials, json_pack("{s:s,s:s,s:f,s:b,s:s}", "code", zCode, "kind", "fulltext",
                                                     "seconds", sec, "found", found, "phrase", zPhrase));
        } else {
            fprintf(fOut, "  full text: no phrase to search (the record has no text)\n");
        }
        if (interactive && zCode) {
            banner(fOut, zLoc ? zLoc : "（未登记存放位置）", zCode, zTitle);
            double sec = 0;
            if ((rc = paper_clock(fIn, fOut, &sec)) != PS_OK) {
                snprintf(zErr, nErr, "the terminal was closed during the paper trial");
                goto out;
            }
            fprintf(fOut, "  paper: in hand after %.1f s — %s\n", sec, sec <= PAPER_S ? "pass" : "FAIL");
            json_array_append_new(pTrials, json_pack("{s:s,s:s,s:f,s:s}", "code", zCode, "kind", "paper", "seconds", sec,
                                                     "location", zLoc ? zLoc : ""));
        }
    }
    json_t *pRun = json_pack("{s:s?,s:O}", "evaluator", a->zEvaluator, "trials", pTrials);
    char *zBody = pRun ? json_dumps(pRun, JSON_COMPACT) : NULL;
    json_decref(pRun);
    FILE *fb = zBody ? fmemopen(zBody, strlen(zBody), "rb") : NULL;
    rc = fb ? qc_client_call(c, "POST", "/api/v1/timed-tests", "application/json", fb, &post, zErr, nErr) : PS_NOMEM;
    if (fb) fclose(fb);
    free(zBody);
    if (rc != PS_OK) goto out;
    *pPassed = json_is_true(json_object_get(post.pJson, "passed"));
    fprintf(fOut, "\nitem 7 (利用高效便捷): %s — %lld points; run %s kept by indexd\n",
            *pPassed ? "every trial passed" : "a trial failed", (long long)json_integer_value(json_object_get(post.pJson, "points")),
            json_string_value(json_object_get(post.pJson, "id")) ? json_string_value(json_object_get(post.pJson, "id")) : "?");
out:
    restore_tty();
    json_decref(pTrials);
    qc_answer_clear(&ans);
    qc_answer_clear(&post);
    qc_buf_release(&path);
    return rc;
}
