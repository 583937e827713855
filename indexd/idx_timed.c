/* Timed retrieval test: drawing records and phrases, keeping draws, timing
 * trials, keeping runs (see idx_timed.h). */
#include "idx_timed.h"
#include "idx_access.h"
#include "idx_dir.h"
#include "idx_file.h"
#include "idx_report.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A draw holds at most 100 records of a few KiB each; a run two trials
 * per record.  Anything larger in those folders was not written here. */
#define DRAW_FILE_MAX (4u << 20)
#define RUN_FILE_MAX (4u << 20)
#define DRAW_N_MAX 100
/* A draw at random reads one record a try, and gives up after this many
 * tries: n x DRAW_TRIES_PER_RECORD + DRAW_TRIES_MIN (every record with
 * pages when there are fewer). */
#define DRAW_TRIES_PER_RECORD 10
#define DRAW_TRIES_MIN 100

/* Draw files are read, checked and rewritten under this lock, so that two
 * requests cannot both start a trial or both use a draw. */
static pthread_mutex_t gLock = PTHREAD_MUTEX_INITIALIZER;

double idx_timed_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int idx_timed_kind(const char *z)
{
    if (z && strcmp(z, "fulltext") == 0) return IDX_TRIAL_FULLTEXT;
    if (z && strcmp(z, "paper") == 0) return IDX_TRIAL_PAPER;
    return -1;
}

static const char *kind_name(int kind)
{
    return kind == IDX_TRIAL_FULLTEXT ? "fulltext" : "paper";
}

/* The kind as the messages name it. */
static const char *kind_cn(int kind)
{
    return kind == IDX_TRIAL_FULLTEXT ? "全文检索" : "纸质调阅";
}

static double kind_limit(int kind)
{
    return kind == IDX_TRIAL_FULLTEXT ? IDX_TIMED_FULLTEXT_S : IDX_TIMED_PAPER_S;
}

/* "20261123T020102Z": UTC, so that names sort in time order. */
static void stamp(double t, char *z, size_t n)
{
    time_t s = (time_t)t;
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(z, n, "%Y%m%dT%H%M%SZ", &tm);
}

/* The time at the start of a draw's or run's name; -1 if none. */
static double stamp_time(const char *z)
{
    int a[6];
    char cT, cZ;
    if (strlen(z) < 16 || sscanf(z, "%4d%2d%2d%c%2d%2d%2d%c", &a[0], &a[1], &a[2], &cT, &a[3], &a[4], &a[5], &cZ) != 8 ||
        cT != 'T' || cZ != 'Z')
        return -1;
    for (int i = 0; i < 16; i++)
        if (i != 8 && i != 15 && (z[i] < '0' || z[i] > '9')) return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = a[0] - 1900, tm.tm_mon = a[1] - 1, tm.tm_mday = a[2];
    tm.tm_hour = a[3], tm.tm_min = a[4], tm.tm_sec = a[5];
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (double)t;
}

int idx_timed_id_ok(const char *z)
{
    if (!z || strlen(z) != IDX_TIMED_ID_LEN || stamp_time(z) < 0 || z[16] != '-') return 0;
    for (int i = 17; i < IDX_TIMED_ID_LEN; i++)
        if (!strchr("0123456789abcdef", z[i]) || !z[i]) return 0;
    return 1;
}

static void iso(double t, char *z, size_t n)
{
    idx_iso_time((time_t)t, z, n);
}

static double round_ms(double s)
{
    return round(s * 1000) / 1000;
}

/* ---- drawing ------------------------------------------------------------ */

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

static int drawn_already(const json_t *pList, const char *zCode)
{
    size_t i;
    json_t *o;
    json_array_foreach(pList, i, o)
        if (strcmp(json_string_value(json_object_get(o, "code")), zCode) == 0) return 1;
    return 0;
}

/* Positions 0..n-1 in a random order without repeats, one at a time: a
 * Fisher-Yates shuffle that keeps only the positions it moved (one a step,
 * in a small hash table), so that a draw among a million records costs its
 * few steps, not a list of a million. */
typedef struct {
    unsigned long n, i;          /* positions; steps taken */
    unsigned long *aKey, *aVal;  /* a moved position + 1 (0: empty slot) and what it holds */
    size_t nSlot;                /* a power of two, over twice the steps */
} shuffle;

static int shuffle_init(shuffle *sh, unsigned long n, size_t nStepMax)
{
    memset(sh, 0, sizeof *sh);
    sh->n = n;
    sh->nSlot = 16;
    while (sh->nSlot < 2 * nStepMax + 2) sh->nSlot *= 2;
    sh->aKey = px_calloc(sh->nSlot, sizeof *sh->aKey);
    sh->aVal = px_calloc(sh->nSlot, sizeof *sh->aVal);
    return sh->aKey && sh->aVal ? PS_OK : PS_NOMEM;
}

static void shuffle_clear(shuffle *sh)
{
    px_free(sh->aKey);
    px_free(sh->aVal);
    memset(sh, 0, sizeof *sh);
}

/* The slot of position pos: the one holding it, or the empty one where it goes. */
static size_t shuffle_slot(const shuffle *sh, unsigned long pos)
{
    size_t k = (size_t)(((unsigned long long)pos * 11400714819323198485ull) >> 20) & (sh->nSlot - 1);
    while (sh->aKey[k] && sh->aKey[k] != pos + 1) k = (k + 1) & (sh->nSlot - 1);
    return k;
}

/* The next position; 0 when every one was given. */
static int shuffle_next(shuffle *sh, unsigned long long *pSeed, unsigned long *pOut)
{
    if (sh->i >= sh->n) return 0;
    unsigned long j = sh->i + (unsigned long)(next_rand(pSeed) % (sh->n - sh->i));
    size_t ki = shuffle_slot(sh, sh->i), kj = shuffle_slot(sh, j);
    unsigned long vi = sh->aKey[ki] ? sh->aVal[ki] : sh->i, vj = sh->aKey[kj] ? sh->aVal[kj] : j;
    /* position i is never looked at again: only j keeps what i held */
    sh->aKey[kj] = j + 1;
    sh->aVal[kj] = vi;
    sh->i++;
    *pOut = vj;
    return 1;
}

int idx_timed_draw(idx_index *p, unsigned n, unsigned long seed, const json_t *pCodes, const char *zFonds,
                   idx_draw_fn xMay, void *pMayCtx, json_t **ppOut, char *zErr, size_t nErr)
{
    json_t *pList = NULL, *pOut = NULL;
    const char **azPick = NULL;
    size_t nPick = 0;
    shuffle sh;
    unsigned long long s = seed ? seed : (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    if (!s) s = 88172645463325252ull;
    int rc = PS_NOMEM;
    *ppOut = NULL;
    memset(&sh, 0, sizeof sh);
    if (!(pList = json_array())) goto out;
    if (json_array_size(pCodes)) {
        nPick = json_array_size(pCodes);
        if (nPick > DRAW_N_MAX) {
            snprintf(zErr, nErr, "一次抽取至多指定 %d 个档号", DRAW_N_MAX);
            rc = PS_INVALID;
            goto out;
        }
        if (!(azPick = px_malloc(nPick * sizeof *azPick))) goto out;
        for (size_t i = 0; i < nPick; i++) azPick[i] = json_string_value(json_array_get(pCodes, i));
    } else {
        /* the records with pages, in a random order (the same for the same
         * seed and index): each try reads one record; records above the
         * caller's clearance, or with no phrase, are passed over, and the
         * tries are bounded so that a draw stays quick when most are */
        unsigned long nAll = 0;
        if ((rc = idx_report_scanned_count(p, zFonds, &nAll, zErr, nErr)) != PS_OK) goto out;
        rc = PS_NOMEM;
        size_t nTries = (size_t)n * DRAW_TRIES_PER_RECORD + DRAW_TRIES_MIN;
        nPick = nAll < nTries ? (size_t)nAll : nTries;
        if (shuffle_init(&sh, nAll, nPick) != PS_OK) goto out;
    }
    int drawn = !json_array_size(pCodes);
    for (size_t i = 0; i < nPick && (!drawn || json_array_size(pList) < n); i++) {
        int rcGet;
        char zE[256], zCode[PROTO_CODE_MAX];
        json_t *pData;
        if (drawn) {
            unsigned long k;
            if (!shuffle_next(&sh, &s, &k)) break;
            pData = idx_report_scanned_nth(p, zFonds, k, zCode, &rcGet, zE, sizeof zE);
            if (!pData && rcGet == PS_NOT_FOUND) continue; /* the index changed since the count */
            if (!pData) {
                if (*zCode) snprintf(zErr, nErr, "没有档号为 %s 的档案", zCode);
                else snprintf(zErr, nErr, "%s", zE);
                rc = rcGet;
                goto out;
            }
            if (drawn_already(pList, zCode)) {
                /* met again when the index changed during the draw */
                json_decref(pData);
                continue;
            }
        } else {
            proto_code code;
            if (!azPick[i] || proto_code_parse(azPick[i], &code, zE, sizeof zE) != PS_OK) {
                snprintf(zErr, nErr, "“%.100s”不是档号：%s", azPick[i] ? azPick[i] : "", zE);
                rc = PS_INVALID;
                goto out;
            }
            snprintf(zCode, sizeof zCode, "%s", code.zCanonical);
            if (drawn_already(pList, zCode)) {
                /* one record, one pair of trials: a run cannot count it twice */
                snprintf(zErr, nErr, "档号 %s 重复指定", zCode);
                rc = PS_INVALID;
                goto out;
            }
            pData = idx_index_get(p, zCode, &rcGet, zE, sizeof zE);
            if (!pData) {
                snprintf(zErr, nErr, "没有档号为 %s 的档案", zCode);
                rc = rcGet == PS_NOT_FOUND ? PS_NOT_FOUND : rcGet;
                goto out;
            }
        }
        json_t *r = json_object_get(pData, "r"), *pP = json_object_get(pData, "p");
        int rcMay = xMay ? xMay(pMayCtx, zCode, r) : PS_OK;
        if (rcMay != PS_OK) {
            json_decref(pData);
            if (drawn) continue;
            if (rcMay == PS_NOT_FOUND) snprintf(zErr, nErr, "没有档号为 %s 的档案", zCode);
            else snprintf(zErr, nErr, "档号为 %s 的档案须经审批才能查看文本，不能抽取", zCode);
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
        if (!pPhrase && drawn) {
            /* a drawn record serves both trials: one with no phrase to
             * search is passed over (a named one keeps its paper trial) */
            json_decref(pData);
            continue;
        }
        json_t *o = json_pack("{s:s,s:O,s:O,s:o,s:I}", "code", zCode,
                              "title", json_object_get(r, "title") ? json_object_get(r, "title") : json_null(),
                              "location", json_object_get(r, "location") ? json_object_get(r, "location") : json_null(),
                              "phrase", pPhrase ? pPhrase : json_null(), "page", page);
        /* kept with the run, so that its report hides the phrase from those below the record's 密级 */
        const char *zCls = json_string_value(json_object_get(r, "classification"));
        if (o && zCls && *zCls && json_object_set_new(o, "classification", json_string(zCls)) != 0) {
            json_decref(o);
            o = NULL;
        }
        json_decref(pData);
        if (!o || json_array_append_new(pList, o) != 0) goto out;
    }
    pOut = json_pack("{s:O}", "records", pList);
    rc = pOut ? PS_OK : PS_NOMEM;
out:
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    px_free((void *)azPick);
    shuffle_clear(&sh);
    json_decref(pList);
    *ppOut = pOut;
    return rc;
}

/* ---- the files ------------------------------------------------------------ */

static void runs_dir(const char *zDataDir, char *z, size_t n)
{
    snprintf(z, n, "%s/timed-tests", zDataDir);
}

static void draws_dir(const char *zDataDir, char *z, size_t n)
{
    snprintf(z, n, "%s/timed-tests/draws", zDataDir);
}

/* A JSON object from a file of at most nMax bytes: PS_OK, PS_NOT_FOUND,
 * PS_NOMEM, or PS_IO for anything else (too big, not an object). */
static int load(const char *zPath, size_t nMax, json_t **ppOut)
{
    char *z = NULL, zE[64];
    size_t n = 0;
    *ppOut = NULL;
    int rc = idx_file_read(zPath, nMax, &z, &n, zE, sizeof zE);
    if (rc != PS_OK) return rc == PS_NOT_FOUND || rc == PS_NOMEM ? rc : PS_IO;
    json_t *o = json_loadb(z, n, 0, NULL);
    px_free(z);
    if (!json_is_object(o)) {
        json_decref(o);
        return PS_IO;
    }
    *ppOut = o;
    return PS_OK;
}

/* Write o to zPath durably, replacing it or (create) only as a new file.
 * The message never names the server's folders. */
static int save(const char *zPath, const json_t *o, int create, const char *zWhat, char *zErr, size_t nErr)
{
    char zE[512];
    char *z = json_dumps(o, JSON_COMPACT);
    if (!z) {
        snprintf(zErr, nErr, "内存不足");
        return PS_NOMEM;
    }
    int rc = create ? idx_file_create(zPath, z, strlen(z), 0640, zE, sizeof zE)
                    : idx_file_replace(zPath, z, strlen(z), 0640, zE, sizeof zE);
    px_free(z);
    if (rc != PS_OK) snprintf(zErr, nErr, "无法保存%s（检索服务的数据文件夹无法写入）", zWhat);
    return rc;
}

/* ---- draws ---------------------------------------------------------------- */

/* Remove draw files a day past their expiry, and expired ones too (oldest
 * first) while IDX_TIMED_DRAWS_MAX files or more are kept; count the open
 * draws (unused, unexpired) of all users and of user zUser.  Only draws
 * that have not expired by their name's time are read. */
static int tidy_draws(const char *zDir, const char *zUser, double now, size_t *pnOpen, size_t *pnMine)
{
    char **az = NULL, zPath[4400];
    size_t n = 0, nFiles = 0, nOpen = 0, nMine = 0;
    int rc = idx_dir_list(zDir, ".json", &az, &n);
    if (rc != PS_OK) return rc;
    for (size_t i = 0; i < n; i++) {
        double t = stamp_time(az[i]);
        if (t < 0) continue; /* not a draw */
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, az[i]);
        /* names hold the second of the draw: +1 covers its fraction */
        if (t + 1 + IDX_TIMED_DRAW_TTL_S + IDX_TIMED_DRAW_KEEP_S < now) {
            char zE[256];
            idx_file_remove(zPath, zE, sizeof zE);
            continue;
        }
        nFiles++;
        if (t + 1 + IDX_TIMED_DRAW_TTL_S < now) continue; /* expired */
        json_t *d = NULL;
        if (load(zPath, DRAW_FILE_MAX, &d) != PS_OK) continue;
        if (json_is_null(json_object_get(d, "run")) && json_number_value(json_object_get(d, "expires")) > now) {
            nOpen++;
            const char *zWho = json_string_value(json_object_get(d, "user"));
            if (zWho && strcmp(zWho, zUser) == 0) nMine++;
        }
        json_decref(d);
    }
    /* full: the expired ones go, oldest first (names sort by time) */
    for (size_t i = 0; i < n && nFiles >= IDX_TIMED_DRAWS_MAX; i++) {
        double t = stamp_time(az[i]);
        if (t < 0 || t + 1 + IDX_TIMED_DRAW_TTL_S >= now || t + 1 + IDX_TIMED_DRAW_TTL_S + IDX_TIMED_DRAW_KEEP_S < now)
            continue;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, az[i]);
        char zE[256];
        if (idx_file_remove(zPath, zE, sizeof zE) == PS_OK) nFiles--;
    }
    idx_dir_free(az, n);
    *pnOpen = nOpen;
    *pnMine = nMine;
    return PS_OK;
}

int idx_timed_draw_room(const char *zDataDir, const idx_caller *w, double now, char *zErr, size_t nErr)
{
    char zDir[4096];
    size_t nOpen = 0, nMine = 0;
    int rc;
    draws_dir(zDataDir, zDir, sizeof zDir);
    pthread_mutex_lock(&gLock);
    rc = tidy_draws(zDir, w->zUser, now, &nOpen, &nMine);
    pthread_mutex_unlock(&gLock);
    if (rc != PS_OK) {
        snprintf(zErr, nErr, "无法保存抽取结果（检索服务的数据文件夹无法读取）");
        return rc == PS_NOMEM ? PS_NOMEM : PS_IO;
    }
    if (nMine >= IDX_TIMED_OPEN_PER_USER) {
        snprintf(zErr, nErr, "您已有 %d 次尚未使用的抽取：请用其中一次进行测试，或等其过期（抽取后 2 小时）",
                 IDX_TIMED_OPEN_PER_USER);
        return PS_TOO_MANY;
    }
    if (nOpen >= IDX_TIMED_DRAWS_MAX) {
        snprintf(zErr, nErr, "已有 %d 次尚未使用的抽取（2 小时内抽取而未使用），已达检索服务保存的上限：请使用这些抽取，或等其过期",
                 IDX_TIMED_DRAWS_MAX);
        return PS_TOO_MANY;
    }
    return PS_OK;
}

int idx_timed_keep_draw(const char *zDataDir, const idx_caller *w, const json_t *pPicked, double now, json_t **ppOut,
                        char *zErr, size_t nErr)
{
    char zDir[4096], zPath[4400], zId[IDX_TIMED_ID_LEN + 1], zAt[40], zExp[40];
    unsigned char aRand[8];
    size_t nOpen = 0, nMine = 0;
    json_t *pDraw = NULL;
    int rc;
    *ppOut = NULL;
    if (sodium_init() < 0) {
        snprintf(zErr, nErr, "没有可用的随机数来源");
        return PS_INTERNAL;
    }
    draws_dir(zDataDir, zDir, sizeof zDir);
    pthread_mutex_lock(&gLock);
    if ((rc = idx_file_mkdirs(zDir, 0750, zErr, nErr)) != PS_OK ||
        (rc = tidy_draws(zDir, w->zUser, now, &nOpen, &nMine)) != PS_OK) {
        snprintf(zErr, nErr, "无法保存抽取结果（检索服务的数据文件夹无法写入）");
        rc = rc == PS_NOMEM ? PS_NOMEM : PS_IO;
        goto out;
    }
    if (nMine >= IDX_TIMED_OPEN_PER_USER) {
        snprintf(zErr, nErr, "您已有 %d 次尚未使用的抽取：请用其中一次进行测试，或等其过期（抽取后 2 小时）",
                 IDX_TIMED_OPEN_PER_USER);
        rc = PS_TOO_MANY;
        goto out;
    }
    if (nOpen >= IDX_TIMED_DRAWS_MAX) {
        snprintf(zErr, nErr, "已有 %d 次尚未使用的抽取（2 小时内抽取而未使用），已达检索服务保存的上限：请使用这些抽取，或等其过期",
                 IDX_TIMED_DRAWS_MAX);
        rc = PS_TOO_MANY;
        goto out;
    }
    stamp(now, zId, sizeof zId);
    randombytes_buf(aRand, sizeof aRand);
    zId[16] = '-';
    sodium_bin2hex(zId + 17, sizeof zId - 17, aRand, sizeof aRand);
    iso(now, zAt, sizeof zAt);
    iso(now + IDX_TIMED_DRAW_TTL_S, zExp, sizeof zExp);
    pDraw = json_pack("{s:s,s:s,s:s,s:f,s:s,s:f,s:s,s:O,s:[],s:n}", "id", zId, "user", w->zUser, "role",
                      idx_role_name(w->role), "drawn", now, "drawn_at", zAt, "expires", now + IDX_TIMED_DRAW_TTL_S,
                      "expires_at", zExp, "records", json_object_get(pPicked, "records"), "timed", "run");
    if (!pDraw) {
        rc = PS_NOMEM;
        snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zId);
    if ((rc = save(zPath, pDraw, 1, "抽取结果", zErr, nErr)) != PS_OK) goto out;
    *ppOut = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:O}", "draw", zId, "user", w->zUser, "role", idx_role_name(w->role),
                       "drawn_at", zAt, "expires_at", zExp, "lifetime_seconds", IDX_TIMED_DRAW_TTL_S, "records",
                       json_object_get(pPicked, "records"));
    if (!*ppOut) {
        /* the draw stays kept, unused, until it expires */
        rc = PS_NOMEM;
        snprintf(zErr, nErr, "内存不足");
    }
out:
    pthread_mutex_unlock(&gLock);
    json_decref(pDraw);
    return rc;
}

/* Draw zDraw, open for caller w at now, into *ppDraw (yours) with its
 * file's path; else the refusal.  Called under the lock. */
static int open_draw(const char *zDataDir, const idx_caller *w, const char *zDraw, double now, char *zPath,
                     size_t nPath, json_t **ppDraw, char *zErr, size_t nErr)
{
    char zDir[4096];
    json_t *d = NULL;
    *ppDraw = NULL;
    if (!idx_timed_id_ok(zDraw)) {
        snprintf(zErr, nErr, "没有这个抽取：抽取编号是抽取时答复中的 \"draw\"（如 20261123T020102Z-0123456789abcdef）");
        return PS_NOT_FOUND;
    }
    draws_dir(zDataDir, zDir, sizeof zDir);
    snprintf(zPath, nPath, "%s/%s.json", zDir, zDraw);
    int rc = load(zPath, DRAW_FILE_MAX, &d);
    if (rc == PS_NOT_FOUND) {
        snprintf(zErr, nErr, "没有编号为 %s 的抽取：编号有误，或已在过期一天后删除", zDraw);
        return rc;
    }
    if (rc != PS_OK) {
        snprintf(zErr, nErr, "编号为 %s 的抽取无法读取", zDraw);
        return rc;
    }
    const char *zUser = json_string_value(json_object_get(d, "user"));
    const char *zRun = json_string_value(json_object_get(d, "run"));
    double expires = json_number_value(json_object_get(d, "expires"));
    if (!zUser || strcmp(zUser, w->zUser) != 0) {
        snprintf(zErr, nErr, "抽取 %s 由其他用户进行：计时和提交测试只能由抽取者本人进行", zDraw);
        rc = PS_FORBIDDEN;
    } else if (zRun) {
        snprintf(zErr, nErr, "抽取 %s 已用于测试 %s：一次抽取只能用于一次测试，请重新抽取", zDraw, zRun);
        rc = PS_CONFLICT;
    } else if (!(now < expires)) {
        snprintf(zErr, nErr, "抽取 %s 已于 %s 过期（抽取的有效期为 2 小时）：请重新抽取", zDraw,
                 json_string_value(json_object_get(d, "expires_at")) ? json_string_value(json_object_get(d, "expires_at")) : "?");
        rc = PS_CONFLICT;
    }
    if (rc != PS_OK) {
        json_decref(d);
        return rc;
    }
    *ppDraw = d;
    return PS_OK;
}

/* The daemon's timing of trial (n, kind) in draw d, or NULL. */
static json_t *timing_of(const json_t *d, unsigned n, int kind)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(d, "timed"), i, t)
        if ((unsigned)json_integer_value(json_object_get(t, "n")) == n &&
            idx_timed_kind(json_string_value(json_object_get(t, "kind"))) == kind)
            return t;
    return NULL;
}

static int trial_passed(int kind, double sec, int found)
{
    return found && sec <= kind_limit(kind);
}

/* The answer about a timed trial. */
static json_t *trial_json(const char *zDraw, unsigned n, int kind, const json_t *pRec, const json_t *t)
{
    char zAt[40];
    iso(json_number_value(json_object_get(t, "started")), zAt, sizeof zAt);
    json_t *o = json_pack("{s:s,s:i,s:s,s:O,s:s,s:f}", "draw", zDraw, "n", (int)n, "kind", kind_name(kind), "code",
                          json_object_get(pRec, "code"), "started_at", zAt, "limit_seconds", kind_limit(kind));
    const json_t *pStop = json_object_get(t, "stopped");
    if (o && pStop) {
        double sec = round_ms(json_number_value(pStop) - json_number_value(json_object_get(t, "started")));
        int found = json_is_true(json_object_get(t, "found"));
        iso(json_number_value(pStop), zAt, sizeof zAt);
        json_object_set_new(o, "stopped_at", json_string(zAt));
        json_object_set_new(o, "seconds", json_real(sec));
        json_object_set_new(o, "found", json_boolean(found));
        json_object_set_new(o, "passed", json_boolean(trial_passed(kind, sec, found)));
        if (json_is_boolean(json_object_get(t, "search_found")))
            json_object_set(o, "search_found", json_object_get(t, "search_found"));
    }
    return o;
}

/* Start (stop 0) or stop a trial; see idx_timed.h. */
static int time_trial(const char *zDataDir, const idx_caller *w, const char *zDraw, unsigned n, int kind, int stop,
                      int found, idx_found_fn xFound, void *pFoundCtx, double now, json_t **ppOut, char *zErr, size_t nErr)
{
    char zPath[4400];
    json_t *d = NULL;
    *ppOut = NULL;
    if (kind != IDX_TRIAL_FULLTEXT && kind != IDX_TRIAL_PAPER) {
        snprintf(zErr, nErr, "kind 须为 fulltext（全文检索）或 paper（纸质调阅）");
        return PS_INVALID;
    }
    pthread_mutex_lock(&gLock);
    int rc = open_draw(zDataDir, w, zDraw, now, zPath, sizeof zPath, &d, zErr, nErr);
    if (rc != PS_OK) goto out;
    const json_t *pRecs = json_object_get(d, "records");
    const json_t *pRec = json_array_get(pRecs, n >= 1 ? n - 1 : (size_t)-1);
    json_t *pTimed = json_object_get(d, "timed"), *t = timing_of(d, n, kind);
    rc = PS_CONFLICT;
    if (!pRec || !json_is_array(pTimed)) {
        snprintf(zErr, nErr, "抽取 %s 共有 %zu 件档案：测试的档案序号为 1 至 %zu", zDraw, json_array_size(pRecs),
                 json_array_size(pRecs));
        rc = PS_NOT_FOUND;
        goto out;
    }
    if (!stop) {
        if (kind == IDX_TRIAL_FULLTEXT && !json_is_string(json_object_get(pRec, "phrase"))) {
            snprintf(zErr, nErr, "第 %u 件档案没有可检索的文本：只能进行纸质调阅测试", n);
            goto out;
        }
        if (t) {
            snprintf(zErr, nErr, "第 %u 件档案的%s测试已经开始过：每项测试只计时一次", n, kind_cn(kind));
            goto out;
        }
        size_t i;
        json_t *x;
        json_array_foreach(pTimed, i, x) {
            if (json_object_get(x, "stopped")) continue;
            snprintf(zErr, nErr, "第 %lld 件档案的%s测试仍在计时：请先结束该项（一次只进行一项测试）",
                     (long long)json_integer_value(json_object_get(x, "n")),
                     kind_cn(idx_timed_kind(json_string_value(json_object_get(x, "kind")))));
            goto out;
        }
        t = json_pack("{s:i,s:s,s:f}", "n", (int)n, "kind", kind_name(kind), "started", now);
        if (!t || json_array_append_new(pTimed, t) != 0) {
            rc = PS_NOMEM;
            goto out;
        }
    } else {
        if (!t) {
            snprintf(zErr, nErr, "第 %u 件档案的%s测试尚未开始", n, kind_cn(kind));
            goto out;
        }
        if (json_object_get(t, "stopped")) {
            snprintf(zErr, nErr, "第 %u 件档案的%s测试已经结束", n, kind_cn(kind));
            goto out;
        }
        double t0 = json_number_value(json_object_get(t, "started"));
        /* "found" in a full-text trial is checked: the drawn phrase, searched
         * quoted as the caller, must find the record (the time is the
         * stop's, not the check's) */
        int searched = -1;
        if (kind == IDX_TRIAL_FULLTEXT && found && xFound) {
            searched = xFound(pFoundCtx, json_string_value(json_object_get(pRec, "code")),
                              json_string_value(json_object_get(pRec, "phrase")));
            if (searched == 0) found = 0;
        }
        /* a clock set back never makes a negative time */
        if (json_object_set_new(t, "stopped", json_real(now > t0 ? now : t0)) != 0 ||
            json_object_set_new(t, "found", json_boolean(found)) != 0 ||
            (searched >= 0 && json_object_set_new(t, "search_found", json_boolean(searched)) != 0)) {
            rc = PS_NOMEM;
            goto out;
        }
    }
    if ((rc = save(zPath, d, 0, "测试用时", zErr, nErr)) != PS_OK) goto out;
    if (!(*ppOut = trial_json(zDraw, n, kind, pRec, t))) rc = PS_NOMEM;
out:
    pthread_mutex_unlock(&gLock);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    json_decref(d);
    return rc;
}

int idx_timed_start(const char *zDataDir, const idx_caller *w, const char *zDraw, unsigned n, int kind, double now,
                    json_t **ppOut, char *zErr, size_t nErr)
{
    return time_trial(zDataDir, w, zDraw, n, kind, 0, 0, NULL, NULL, now, ppOut, zErr, nErr);
}

int idx_timed_stop(const char *zDataDir, const idx_caller *w, const char *zDraw, unsigned n, int kind, int found,
                   idx_found_fn xFound, void *pFoundCtx, double now, json_t **ppOut, char *zErr, size_t nErr)
{
    return time_trial(zDataDir, w, zDraw, n, kind, 1, found, xFound, pFoundCtx, now, ppOut, zErr, nErr);
}

/* ---- runs ---------------------------------------------------------------- */

/* The record of the draw with 档号 zCode (any spelling proto_code reads):
 * its index, or -1. */
static long record_of(const json_t *pRecs, const char *zCode)
{
    proto_code code;
    char zE[200];
    if (!zCode || proto_code_parse(zCode, &code, zE, sizeof zE) != PS_OK) return -1;
    size_t i;
    json_t *r;
    json_array_foreach(pRecs, i, r)
        if (strcmp(json_string_value(json_object_get(r, "code")), code.zCanonical) == 0) return (long)i;
    return -1;
}

/* A trial of the run: the daemon's timing t, or the body's trial b. */
static json_t *run_trial(unsigned n, int kind, const json_t *pRec, const json_t *t, const json_t *b, double now)
{
    double sec;
    int found, unfinished = 0;
    if (t) {
        double t0 = json_number_value(json_object_get(t, "started"));
        const json_t *pStop = json_object_get(t, "stopped");
        unfinished = !pStop;
        sec = (pStop ? json_number_value(pStop) : now > t0 ? now : t0) - t0;
        found = !unfinished && json_is_true(json_object_get(t, "found"));
    } else {
        sec = json_number_value(json_object_get(b, "seconds"));
        /* a paper trial said to take so long was in hand unless said otherwise */
        found = kind == IDX_TRIAL_PAPER && !json_object_get(b, "found") ? 1 : json_is_true(json_object_get(b, "found"));
    }
    sec = round_ms(sec);
    json_t *o = json_pack("{s:i,s:O,s:s,s:f,s:f,s:b,s:b,s:s}", "n", (int)n, "code", json_object_get(pRec, "code"), "kind",
                          kind_name(kind), "seconds", sec, "limit_seconds", kind_limit(kind), "found", found, "passed",
                          trial_passed(kind, sec, found), "timed_by", t ? "indexd" : "client");
    if (!o) return NULL;
    const char *zField = kind == IDX_TRIAL_FULLTEXT ? "phrase" : "location";
    if (json_is_string(json_object_get(pRec, zField))) json_object_set(o, zField, json_object_get(pRec, zField));
    if (json_is_string(json_object_get(pRec, "classification")))
        json_object_set(o, "classification", json_object_get(pRec, "classification"));
    if (t && json_is_boolean(json_object_get(t, "search_found")))
        json_object_set(o, "search_found", json_object_get(t, "search_found"));
    if (t) {
        char zAt[40];
        iso(json_number_value(json_object_get(t, "started")), zAt, sizeof zAt);
        json_object_set_new(o, "started_at", json_string(zAt));
        if (!unfinished) {
            iso(json_number_value(json_object_get(t, "stopped")), zAt, sizeof zAt);
            json_object_set_new(o, "stopped_at", json_string(zAt));
        } else {
            json_object_set_new(o, "unfinished", json_true());
        }
    }
    return o;
}

/* Check the body's trials against draw d and sort them into aBody[2 * n +
 * kind]; 0, or -1 with the refusal in *pRc and zErr. */
static int match_body(const json_t *pTrials, const json_t *d, const json_t **aBody, int *pRc, char *zErr, size_t nErr)
{
    const json_t *pRecs = json_object_get(d, "records");
    const char *zDraw = json_string_value(json_object_get(d, "id"));
    size_t i;
    json_t *b;
    json_array_foreach(pTrials, i, b) {
        const char *zCode = json_string_value(json_object_get(b, "code"));
        int kind = idx_timed_kind(json_string_value(json_object_get(b, "kind")));
        const json_t *pSec = json_object_get(b, "seconds"), *pPhrase = json_object_get(b, "phrase");
        *pRc = PS_INVALID;
        if (!json_is_object(b) || !zCode || kind < 0 || (pSec && (!json_is_number(pSec) || json_number_value(pSec) < 0)) ||
            (pPhrase && !json_is_string(pPhrase) && !json_is_null(pPhrase))) {
            snprintf(zErr, nErr, "第 %zu 项测试须有 \"code\"（档号）和 \"kind\"（fulltext 或 paper），\"seconds\"（用时）须为 0 或以上", i + 1);
            return -1;
        }
        long k = record_of(pRecs, zCode);
        *pRc = PS_CONFLICT;
        if (k < 0) {
            snprintf(zErr, nErr, "第 %zu 项测试：档号 %.100s 不在抽取 %s 中", i + 1, zCode, zDraw);
            return -1;
        }
        const json_t *pRec = json_array_get(pRecs, (size_t)k);
        const char *zDrawn = json_string_value(json_object_get(pRec, "phrase"));
        if (kind == IDX_TRIAL_FULLTEXT && !zDrawn) {
            snprintf(zErr, nErr, "第 %zu 项测试：档号为 %s 的档案没有可检索的文本，只能进行纸质调阅测试", i + 1,
                     json_string_value(json_object_get(pRec, "code")));
            return -1;
        }
        if (kind == IDX_TRIAL_FULLTEXT && json_is_string(pPhrase) && strcmp(json_string_value(pPhrase), zDrawn) != 0) {
            snprintf(zErr, nErr, "第 %zu 项测试：检索词须为抽取时为 %s 给出的检索词（%s）", i + 1,
                     json_string_value(json_object_get(pRec, "code")), zDrawn);
            return -1;
        }
        size_t slot = 2 * (size_t)k + (size_t)kind;
        if (aBody[slot]) {
            *pRc = PS_INVALID;
            snprintf(zErr, nErr, "第 %zu 项测试：档号为 %s 的档案有两项%s测试", i + 1,
                     json_string_value(json_object_get(pRec, "code")), kind_cn(kind));
            return -1;
        }
        if (!timing_of(d, (unsigned)k + 1, kind) && !pSec) {
            *pRc = PS_INVALID;
            snprintf(zErr, nErr, "第 %zu 项测试：未经检索服务计时，须填写 \"seconds\"（用时）", i + 1);
            return -1;
        }
        aBody[slot] = b;
    }
    return 0;
}

int idx_timed_put(const char *zDataDir, const idx_caller *w, const json_t *pRun, double now, json_t **ppOut,
                  const char **pzField, char *zErr, size_t nErr)
{
    const char *zDraw = json_string_value(json_object_get(pRun, "draw"));
    const json_t *pTrials = json_object_get(pRun, "trials");
    const json_t *pNote = json_object_get(pRun, "note");
    char zDir[4096], zDrawPath[4400], zPath[4400], zId[64], zAt[40], zDrawnAt[40];
    char **az = NULL;
    size_t nRuns = 0;
    const json_t **aBody = NULL;
    json_t *d = NULL, *pOut = NULL, *pList = NULL, *pUntested = NULL;
    int rc = PS_INVALID;
    *ppOut = NULL;
    *pzField = NULL;
    if (!pNote || json_is_null(pNote)) pNote = json_object_get(pRun, "evaluator");
    if (!zDraw) {
        *pzField = "draw";
        snprintf(zErr, nErr, "测试须写明所用的抽取：\"draw\"，即抽取时答复的编号");
        return PS_INVALID;
    }
    if (pTrials && (!json_is_array(pTrials) || json_array_size(pTrials) > 2 * DRAW_N_MAX)) {
        *pzField = "trials";
        snprintf(zErr, nErr, "\"trials\" 须为列表，至多 %d 项测试", 2 * DRAW_N_MAX);
        return PS_INVALID;
    }
    if (pNote && !json_is_null(pNote) && (!json_is_string(pNote) || json_string_length(pNote) > 400)) {
        *pzField = "note";
        snprintf(zErr, nErr, "\"note\"（备注）须为文本，至多 400 字节");
        return PS_INVALID;
    }
    runs_dir(zDataDir, zDir, sizeof zDir);
    pthread_mutex_lock(&gLock);
    if ((rc = idx_dir_list(zDir, ".json", &az, &nRuns)) != PS_OK) {
        snprintf(zErr, nErr, "无法读取利用时效测试记录");
        goto out;
    }
    idx_dir_free(az, nRuns);
    if (nRuns >= IDX_TIMED_RUNS_MAX) {
        snprintf(zErr, nErr, "已保存 %d 次利用时效测试记录，达到检索服务保存的上限：须由管理员将旧记录移出"
                 "数据文件夹的 timed-tests/，才能保存新的测试记录", IDX_TIMED_RUNS_MAX);
        rc = PS_TOO_BIG;
        goto out;
    }
    if ((rc = open_draw(zDataDir, w, zDraw, now, zDrawPath, sizeof zDrawPath, &d, zErr, nErr)) != PS_OK) {
        if (rc == PS_NOT_FOUND) *pzField = "draw";
        goto out;
    }
    const json_t *pRecs = json_object_get(d, "records");
    size_t nRec = json_array_size(pRecs);
    rc = PS_NOMEM;
    if (!(aBody = px_calloc(2 * nRec + 1, sizeof *aBody)) || !(pList = json_array()) || !(pUntested = json_array()))
        goto out;
    if (match_body(pTrials, d, aBody, &rc, zErr, nErr) != 0) {
        *pzField = "trials";
        goto out;
    }
    rc = PS_NOMEM;
    double total = 0;
    int all = 1, nDaemon = 0, nClient = 0, nKind[2] = {0, 0};
    for (size_t k = 0; k < nRec; k++) {
        const json_t *pRec = json_array_get(pRecs, k);
        int tested = 0;
        for (int kind = IDX_TRIAL_FULLTEXT; kind <= IDX_TRIAL_PAPER; kind++) {
            const json_t *t = timing_of(d, (unsigned)k + 1, kind), *b = aBody[2 * k + (size_t)kind];
            if (!t && !b) continue;
            json_t *o = run_trial((unsigned)k + 1, kind, pRec, t, b, now);
            if (!o || json_array_append_new(pList, o) != 0) goto out;
            total += json_real_value(json_object_get(o, "seconds"));
            all &= json_is_true(json_object_get(o, "passed"));
            tested = 1;
            nKind[kind]++;
            if (t) nDaemon++;
            else nClient++;
        }
        if (!tested && json_array_append(pUntested, json_object_get(pRec, "code")) != 0) goto out;
    }
    if (json_array_size(pList) == 0) {
        rc = PS_INVALID;
        *pzField = "trials";
        snprintf(zErr, nErr, "测试至少须有一项：用抽取的开始、结束计时接口计时，或在 \"trials\" 中列出");
        goto out;
    }
    double drawn = json_number_value(json_object_get(d, "drawn")), elapsed = now - drawn;
    if (total > elapsed + IDX_TIMED_ALLOWANCE_S) {
        rc = PS_CONFLICT;
        *pzField = "trials";
        snprintf(zErr, nErr, "各项测试用时合计 %.1f 秒，但抽取以来只过了 %.1f 秒（抽取编号 %s）", total,
                 elapsed > 0 ? elapsed : 0, zDraw);
        goto out;
    }
    /* only an evaluator's run scores, and only when indexd timed every
     * trial: a time the client reports is kept and shown, never scored */
    int scored = w->role == IDX_ROLE_EVALUATOR && nClient == 0;
    /* and only a whole run: every drawn record tried, with at least one
     * full-text and one paper trial (a run of the easy trials alone, or of
     * the records that went well, proves nothing) */
    int complete = json_array_size(pUntested) == 0 && nKind[IDX_TRIAL_FULLTEXT] > 0 && nKind[IDX_TRIAL_PAPER] > 0;
    const char *zMode = w->role != IDX_ROLE_EVALUATOR ? "practice" : nClient ? "unverified" : complete ? "scored" : "incomplete";
    scored = scored && complete;
    /* the run's id: the second it arrived, and the draw's random part
     * (a draw serves one run, so ids never collide) */
    stamp(now, zId, sizeof zId);
    snprintf(zId + strlen(zId), sizeof zId - strlen(zId), "%s", zDraw + 16);
    iso(now, zAt, sizeof zAt);
    iso(drawn, zDrawnAt, sizeof zDrawnAt);
    pOut = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:O,s:{s:s,s:s,s:f,s:f,s:f,s:f,s:i,s:i},s:O,s:O,s:b,s:i}", "id", zId,
                     "at", zAt, "draw", zDraw, "evaluator", w->zUser, "role", idx_role_name(w->role), "role_cn",
                     idx_role_cn(w->role), "mode", zMode, "note",
                     pNote ? pNote : json_null(), "server", "drawn_at", zDrawnAt, "received_at", zAt,
                     "received", now, "elapsed_seconds",
                     round_ms(elapsed), "trial_seconds", round_ms(total), "allowance_seconds", IDX_TIMED_ALLOWANCE_S,
                     "timed_by_indexd", nDaemon, "timed_by_client", nClient, "trials", pList, "untested", pUntested,
                     "passed", all, "points", scored && all ? IDX_TIMED_POINTS : 0);
    if (!pOut) goto out;
    /* used up before the run is written: a crash between the two loses the
     * run (draw again), never lets one draw serve two */
    if (json_object_set_new(d, "run", json_string(zId)) != 0) goto out;
    if ((rc = save(zDrawPath, d, 0, "测试记录", zErr, nErr)) != PS_OK) goto out;
    snprintf(zPath, sizeof zPath, "%s/%s.json", zDir, zId);
    if ((rc = save(zPath, pOut, 1, "测试记录", zErr, nErr)) != PS_OK) {
        char zE[64];
        json_object_set_new(d, "run", json_null());
        save(zDrawPath, d, 0, "抽取结果", zE, sizeof zE);
        goto out;
    }
    *ppOut = pOut;
    pOut = NULL;
out:
    pthread_mutex_unlock(&gLock);
    if (rc == PS_NOMEM) snprintf(zErr, nErr, "内存不足");
    px_free((void *)aBody);
    json_decref(d);
    json_decref(pList);
    json_decref(pUntested);
    json_decref(pOut);
    return rc;
}

/* ---- the report ------------------------------------------------------------ */

int idx_report_timed(const char *zDataDir, const idx_caller *w, json_t **ppOut, char *zErr, size_t nErr)
{
    char zDir[4096], zPath[4400];
    runs_dir(zDataDir, zDir, sizeof zDir);
    json_t *pRuns = json_array();
    char **az = NULL;
    size_t n = 0;
    *ppOut = NULL;
    if (!pRuns) {
        snprintf(zErr, nErr, "内存不足");
        return PS_NOMEM;
    }
    if (idx_dir_list(zDir, ".json", &az, &n) != PS_OK) {
        json_decref(pRuns);
        snprintf(zErr, nErr, "无法读取利用时效测试记录");
        return PS_IO;
    }
    const json_t *pLast = NULL;
    double tLast = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *o = NULL;
        snprintf(zPath, sizeof zPath, "%s/%s", zDir, az[i]);
        if (load(zPath, RUN_FILE_MAX, &o) != PS_OK) continue;
        if (!json_is_string(json_object_get(o, "draw"))) {
            /* kept before runs were tied to draws: what it says was never checked */
            json_object_set_new(o, "mode", json_string("unverified"));
            json_object_set_new(o, "points", json_integer(0));
        }
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(o, "trials"), k, t) {
            if (!w || idx_access_level_ok(w, json_string_value(json_object_get(t, "classification")))) continue;
            if (json_object_get(t, "phrase")) json_object_set_new(t, "phrase", json_string("（密级档案，不显示）"));
            if (json_object_get(t, "location")) json_object_set_new(t, "location", json_string("（密级档案，不显示）"));
            json_object_set_new(t, "code", json_string("（密级档案）"));
        }
        if (json_array_append_new(pRuns, o) != 0) continue;
        /* the latest by the time it arrived (ids sort by the second only) */
        const char *zMode = json_string_value(json_object_get(o, "mode"));
        double at = json_number_value(json_object_get(json_object_get(o, "server"), "received"));
        if (zMode && strcmp(zMode, "scored") == 0 && (!pLast || at >= tLast)) pLast = o, tLast = at;
    }
    idx_dir_free(az, n);
    *ppOut = json_pack("{s:s,s:O,s:O,s:O}", "rule",
                       "每项测试都做到全文检索 60 秒内检出、纸质档案 180 秒内调出，得 3 分，否则 0 分；"
                       "只有评估员角色的用户对 indexd 抽取的档案所做的测试计分，且须每项都由 indexd 计时、"
                       "抽取的每件档案都已测试、全文检索和纸质调阅各至少一项（以最近一次为准）；"
                       "其他角色的测试为练习（practice），有用时由客户端填报的为未核实（unverified），"
                       "有档案未测试或缺少一类测试的为不完整（incomplete），这些都不计分",
                       "points", pLast ? json_object_get(pLast, "points") : json_null(), "scored_run",
                       pLast ? json_object_get(pLast, "id") : json_null(), "runs", pRuns);
    json_decref(pRuns);
    if (!*ppOut) snprintf(zErr, nErr, "内存不足");
    return *ppOut ? PS_OK : PS_NOMEM;
}
