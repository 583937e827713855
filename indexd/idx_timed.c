/* Timed retrieval test: drawing records and phrases, keeping runs. */
#include "idx_timed.h"
#include "idx_dir.h"
#include "idx_report.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long long next_rand(unsigned long long *s)
{
    /* xorshift64*: enough to draw records fairly */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* A phrase of 4-6 Chinese characters from z, none across punctuation
 * (white space between two characters is a line break: skipped). */
static json_t *phrase_of(const char *z, unsigned long long *pSeed)
{
    size_t n = strlen(z);
    unsigned *aC = px_malloc((n + 1) * sizeof *aC);
    if (!aC) return NULL;
    size_t nC = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = proto_utf8_next(z, n, &i);
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0x3000) continue;
        aC[nC++] = proto_is_han(c) ? c : 0;
    }
    /* starts of runs of at least 4 */
    size_t nStart = 0;
    for (size_t i = 0; i + 4 <= nC; i++)
        if (aC[i] && aC[i + 1] && aC[i + 2] && aC[i + 3]) nStart++;
    json_t *o = NULL;
    if (nStart) {
        size_t pick = (size_t)(next_rand(pSeed) % nStart), k = 0, i = 0;
        for (; i + 4 <= nC; i++)
            if (aC[i] && aC[i + 1] && aC[i + 2] && aC[i + 3] && k++ == pick) break;
        size_t len = 4 + (size_t)(next_rand(pSeed) % 3);
        char zOut[32];
        size_t m = 0;
        for (size_t j = i; j < i + len && j < nC && aC[j]; j++) m += idx_utf8_put(zOut + m, aC[j]);
        o = json_stringn(zOut, m);
    }
    px_free(aC);
    return o;
}

int idx_timed_draw(idx_index *p, unsigned n, unsigned long seed, const json_t *pCodes, const char *zFonds,
                   idx_draw_fn xMay, void *pMayCtx, json_t **ppOut, char *zErr, size_t nErr)
{
    json_t *pScanned = NULL, *pList = NULL, *pOut = NULL;
    const char **azPick = NULL;
    size_t nPick = 0;
    unsigned long long s = seed ? seed : (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    if (!s) s = 88172645463325252ull;
    int rc = PS_NOMEM;
    *ppOut = NULL;
    if (!(pList = json_array())) goto out;
    if (json_array_size(pCodes)) {
        nPick = json_array_size(pCodes);
        if (!(azPick = px_malloc(nPick * sizeof *azPick))) goto out;
        for (size_t i = 0; i < nPick; i++) azPick[i] = json_string_value(json_array_get(pCodes, i));
    } else {
        if ((rc = idx_report_scanned(p, &pScanned, zErr, nErr)) != PS_OK) goto out;
        rc = PS_NOMEM;
        size_t nAll = json_object_size(pScanned), k = 0;
        const char **az = px_malloc((nAll + 1) * sizeof *az);
        if (!az) goto out;
        const char *zKey;
        json_t *v;
        size_t nF = zFonds ? strlen(zFonds) : 0;
        json_object_foreach(pScanned, zKey, v) {
            if (nF && (strncmp(zKey, zFonds, nF) != 0 || zKey[nF] != '-')) continue;
            az[k++] = zKey;
        }
        /* a Fisher-Yates shuffle, done as the draw goes: records above the
         * caller's clearance are passed over */
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)(next_rand(&s) % (k - i));
            const char *t = az[i];
            az[i] = az[j];
            az[j] = t;
        }
        azPick = az;
        nPick = k;
    }
    int drawn = !json_array_size(pCodes);
    for (size_t i = 0; i < nPick && (!drawn || json_array_size(pList) < n); i++) {
        int rcGet;
        char zE[256];
        proto_code code;
        if (!azPick[i] || proto_code_parse(azPick[i], &code, zE, sizeof zE) != PS_OK) {
            snprintf(zErr, nErr, "'%.100s' is not a 档号: %s", azPick[i] ? azPick[i] : "", zE);
            rc = PS_INVALID;
            goto out;
        }
        json_t *pData = idx_index_get(p, code.zCanonical, &rcGet, zE, sizeof zE);
        if (!pData) {
            snprintf(zErr, nErr, "no record with 档号 %s", code.zCanonical);
            rc = rcGet == PS_NOT_FOUND ? PS_NOT_FOUND : rcGet;
            goto out;
        }
        json_t *r = json_object_get(pData, "r"), *pP = json_object_get(pData, "p");
        int rcMay = xMay ? xMay(pMayCtx, code.zCanonical, r) : PS_OK;
        if (rcMay != PS_OK) {
            json_decref(pData);
            if (drawn) continue;
            if (rcMay == PS_NOT_FOUND) snprintf(zErr, nErr, "no record with 档号 %s", code.zCanonical);
            else snprintf(zErr, nErr, "record %s needs an approval before its text is opened; it cannot be drawn", code.zCanonical);
            rc = rcMay;
            goto out;
        }
        json_t *pPhrase = NULL;
        json_int_t page = 0;
        /* a page with text, at random */
        size_t nPages = json_object_size(pP);
        if (nPages) {
            size_t want = (size_t)(next_rand(&s) % nPages), k = 0;
            const char *zKey;
            json_t *pg;
            json_object_foreach(pP, zKey, pg) {
                if (k++ < want) continue;
                const char *zText = json_string_value(json_object_get(pg, "text"));
                if (zText && (pPhrase = phrase_of(zText, &s)) != NULL) page = atoll(zKey);
                break;
            }
        }
        if (!pPhrase && json_string_value(json_object_get(r, "title")))
            pPhrase = phrase_of(json_string_value(json_object_get(r, "title")), &s);
        json_t *o = json_pack("{s:s,s:O,s:O,s:o,s:I}", "code", code.zCanonical,
                              "title", json_object_get(r, "title") ? json_object_get(r, "title") : json_null(),
                              "location", json_object_get(r, "location") ? json_object_get(r, "location") : json_null(),
                              "phrase", pPhrase ? pPhrase : json_null(), "page", page);
        json_decref(pData);
        if (!o || json_array_append_new(pList, o) != 0) goto out;
    }
    pOut = json_pack("{s:O}", "records", pList);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "out of memory");
    px_free((void *)azPick);
    json_decref(pScanned);
    json_decref(pList);
    *ppOut = pOut;
    return rc;
}

static void dir_of(const char *zDataDir, char *z, size_t n)
{
    snprintf(z, n, "%s/timed-tests", zDataDir);
}

int idx_timed_put(const char *zDataDir, const json_t *pRun, json_t **ppOut, char *zErr, size_t nErr)
{
    const json_t *pTrials = json_object_get(pRun, "trials");
    *ppOut = NULL;
    if (!json_is_array(pTrials) || json_array_size(pTrials) == 0 || json_array_size(pTrials) > 1000) {
        snprintf(zErr, nErr, "a run needs \"trials\": 1 to 1000 of them");
        return PS_INVALID;
    }
    json_t *pOut = json_object(), *pList = json_array();
    if (!pOut || !pList) {
        json_decref(pOut);
        json_decref(pList);
        return PS_NOMEM;
    }
    int all = 1;
    size_t i;
    json_t *t;
    json_array_foreach((json_t *)pTrials, i, t) {
        const char *zKind = json_string_value(json_object_get(t, "kind"));
        const char *zCode = json_string_value(json_object_get(t, "code"));
        json_t *pSec = json_object_get(t, "seconds");
        int full = zKind && strcmp(zKind, "fulltext") == 0, paper = zKind && strcmp(zKind, "paper") == 0;
        if (!zCode || (!full && !paper) || !json_is_number(pSec) || json_number_value(pSec) < 0) {
            snprintf(zErr, nErr, "trial %zu needs \"code\", \"kind\" (fulltext or paper) and \"seconds\" (0 or more)", i + 1);
            json_decref(pOut);
            json_decref(pList);
            return PS_INVALID;
        }
        double sec = json_number_value(pSec);
        int passed = full ? json_is_true(json_object_get(t, "found")) && sec <= IDX_TIMED_FULLTEXT_S
                          : sec <= IDX_TIMED_PAPER_S;
        all &= passed;
        json_t *c = json_pack("{s:s,s:s,s:f,s:b,s:f}", "code", zCode, "kind", zKind, "seconds", round(sec * 1000) / 1000,
                              "passed", passed, "limit_seconds", full ? IDX_TIMED_FULLTEXT_S : IDX_TIMED_PAPER_S);
        if (c && full) {
            json_object_set_new(c, "found", json_boolean(json_is_true(json_object_get(t, "found"))));
            if (json_is_string(json_object_get(t, "phrase"))) json_object_set(c, "phrase", json_object_get(t, "phrase"));
        }
        if (c && json_is_string(json_object_get(t, "location"))) json_object_set(c, "location", json_object_get(t, "location"));
        json_array_append_new(pList, c);
    }
    char zDir[4096], zPath[4300], zId[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(zId, sizeof zId, "%Y%m%dT%H%M%SZ", &tm);
    char zAt[32];
    strftime(zAt, sizeof zAt, "%Y-%m-%dT%H:%M:%SZ", &tm);
    dir_of(zDataDir, zDir, sizeof zDir);
    mkdir(zDir, 0750);
    /* a new file per run; never one overwritten */
    int fd = -1;
    for (int k = 0; k < 1000 && fd < 0; k++) {
        snprintf(zPath, sizeof zPath, "%s/%s-%03d.json", zDir, zId, k);
        fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0 && errno != EEXIST) break;
        if (fd >= 0) snprintf(zId + strlen(zId), sizeof zId - strlen(zId), "-%03d", k);
    }
    const char *zEval = json_string_value(json_object_get(pRun, "evaluator"));
    json_object_set_new(pOut, "id", json_string(zId));
    json_object_set_new(pOut, "at", json_string(zAt));
    json_object_set_new(pOut, "evaluator", zEval ? json_string(zEval) : json_null());
    json_object_set_new(pOut, "trials", pList);
    json_object_set_new(pOut, "passed", json_boolean(all));
    json_object_set_new(pOut, "points", json_integer(all ? 3 : 0));
    char *z = json_dumps(pOut, JSON_COMPACT);
    int rc = PS_IO;
    if (fd >= 0 && z) {
        size_t n = strlen(z), off = 0;
        while (off < n) {
            ssize_t k = write(fd, z + off, n - off);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            off += (size_t)k;
        }
        if (off == n && fsync(fd) == 0) rc = PS_OK;
    }
    if (fd >= 0) close(fd);
    free(z);
    if (rc != PS_OK) {
        if (fd >= 0) unlink(zPath);
        snprintf(zErr, nErr, "cannot keep the run: %s", strerror(errno));
        json_decref(pOut);
        return rc;
    }
    *ppOut = pOut;
    return PS_OK;
}

int idx_report_timed(const char *zDataDir, json_t **ppOut, char *zErr, size_t nErr)
{
    char zDir[4096], zPath[4400];
    dir_of(zDataDir, zDir, sizeof zDir);
    json_t *pRuns = json_array();
    char **az = NULL;
    size_t n = 0;
    if (idx_dir_list(zDir, ".json", &az, &n) != PS_OK) {
        json_decref(pRuns);
        snprintf(zErr, nErr, "cannot read the timed-test runs");
        return PS_IO;
    }
    json_t *pLast = NULL;
    for (size_t i = 0; i < n; i++) {
        json_error_t je;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, az[i]);
        json_t *o = json_load_file(zPath, 0, &je);
        if (o && pRuns) {
            json_array_append_new(pRuns, o);
            pLast = o;
        } else {
            json_decref(o);
        }
    }
    idx_dir_free(az, n);
    *ppOut = pRuns ? json_pack("{s:s,s:O,s:O}", "rule",
                               "full text found within 60 s and paper file in hand within 180 s, every trial: 3 points, else 0",
                               "points", pLast ? json_object_get(pLast, "points") : json_null(), "runs", pRuns)
                   : NULL;
    json_decref(pRuns);
    if (!*ppOut) snprintf(zErr, nErr, "out of memory");
    return *ppOut ? PS_OK : PS_NOMEM;
}
