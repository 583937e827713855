/* bench-inproc: search latency in process, without HTTP.
 *
 *   bench-inproc <data-dir> <queries.jsonl> <shards>
 *
 * Opens the index read-only (the daemon must have stopped or be another
 * process) and runs each query of the file, one JSON object a line:
 *   {"kind":"phrase2","q":"\"扶贫\"","year":2017,"year_from":2015,"year_to":2017}
 *   {"kind":"code","code":"Z031-WS·2017-Y-BGS-0001"}
 * A query runs once to warm up, then three times timed: idx_search() with
 * the daemon's defaults (limit 20, facets on), or for a "code" the 档号
 * parsed and idx_index_get().  Prints {kind: {"p50_ms":..,"p99_ms":..,"n":..,"errors":..}, ...}
 * on stdout, kinds in the order they first appear; the first errors on
 * stderr.  Exit 0, or 2 on bad usage, an unreadable file or index. */
#include "idx_index.h"
#include "idx_search.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_status.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIMED_RUNS 3
#define FACET_CHECK 2000 /* the daemon's default facet_check */
#define KIND_MAX 32
#define ERR_SHOW 5

typedef struct {
    char zName[32];
    double *a;      /* latencies, ms */
    size_t n, nAlloc;
    unsigned nErr;
} kind_stat;

static kind_stat aKind[KIND_MAX];
static int nKind;
static unsigned nErrShown;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static kind_stat *kind_get(const char *z)
{
    for (int i = 0; i < nKind; i++)
        if (strcmp(aKind[i].zName, z) == 0) return &aKind[i];
    if (nKind == KIND_MAX) return NULL;
    kind_stat *k = &aKind[nKind++];
    snprintf(k->zName, sizeof k->zName, "%s", z);
    return k;
}

static int kind_add(kind_stat *k, double ms)
{
    if (k->n == k->nAlloc) {
        size_t nNew = k->nAlloc ? 2 * k->nAlloc : 256;
        double *a = realloc(k->a, nNew * sizeof *a);
        if (!a) return -1;
        k->a = a;
        k->nAlloc = nNew;
    }
    k->a[k->n++] = ms;
    return 0;
}

static int cmp_double(const void *pA, const void *pB)
{
    double a = *(const double *)pA, b = *(const double *)pB;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile (p in 1..100) of the sorted a[0..n), rounded to
 * a microsecond. */
static double percentile(const double *a, size_t n, unsigned p)
{
    if (n == 0) return 0.0;
    size_t k = (p * n + 99) / 100;  /* ceil(p/100 * n), 1-based */
    if (k < 1) k = 1;
    if (k > n) k = n;
    return (double)(long long)(a[k - 1] * 1000.0 + 0.5) / 1000.0;
}

static void report_error(unsigned lineNo, const char *zWhat, const char *zErr)
{
    if (nErrShown++ < ERR_SHOW)
        fprintf(stderr, "bench-inproc: line %u: %s: %s\n", lineNo, zWhat, zErr);
}

/* Run one query once; returns its latency in ms, or -1 on failure. */
static double run_once(idx_index *pIdx, const json_t *pQ, unsigned lineNo)
{
    char zErr[512] = "";
    char zYear[16], zFrom[16], zTo[16];
    const char *zCode = json_string_value(json_object_get(pQ, "code"));
    const char *zKind = json_string_value(json_object_get(pQ, "kind"));
    double t0, t1;
    int rc;

    if (zKind && strcmp(zKind, "code") == 0 && zCode) {
        /* As the daemon does: parse the 档号 (look-alike separators are
         * accepted), then fetch by its canonical form. */
        proto_code code;
        t0 = now_ms();
        rc = proto_code_parse(zCode, &code, zErr, sizeof zErr);
        json_t *pRec = rc == PS_OK ? idx_index_get(pIdx, code.zCanonical, &rc, zErr, sizeof zErr)
                                   : NULL;
        t1 = now_ms();
        if (!pRec) {
            report_error(lineNo, proto_status_name(rc), zErr);
            return -1;
        }
        json_decref(pRec);
        return t1 - t0;
    }

    idx_search_req req;
    memset(&req, 0, sizeof req);
    req.zQuery = json_string_value(json_object_get(pQ, "q"));
    json_t *pYear = json_object_get(pQ, "year");
    if (json_is_integer(pYear)) {
        snprintf(zYear, sizeof zYear, "%lld", (long long)json_integer_value(pYear));
        req.azFilter[IDX_F_YEAR][0] = zYear;
        req.anFilter[IDX_F_YEAR] = 1;
    }
    json_t *pFrom = json_object_get(pQ, "year_from"), *pTo = json_object_get(pQ, "year_to");
    if (json_is_integer(pFrom)) {
        snprintf(zFrom, sizeof zFrom, "%lld", (long long)json_integer_value(pFrom));
        req.zYearFrom = zFrom;
    }
    if (json_is_integer(pTo)) {
        snprintf(zTo, sizeof zTo, "%lld", (long long)json_integer_value(pTo));
        req.zYearTo = zTo;
    }
    req.sort = IDX_SORT_RELEVANCE;
    req.offset = 0;
    req.limit = 20;
    req.facets = 1;
    req.facetCheck = FACET_CHECK;

    json_t *pOut = NULL;
    const char *zParam = NULL;
    unsigned offset = 0;
    t0 = now_ms();
    rc = idx_search(pIdx, &req, &pOut, &zParam, &offset, zErr, sizeof zErr);
    t1 = now_ms();
    if (rc != PS_OK) {
        report_error(lineNo, proto_status_name(rc), zErr);
        return -1;
    }
    json_decref(pOut);
    return t1 - t0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench-inproc <data-dir> <queries.jsonl> <shards>\n");
        return 2;
    }
    int nShard = atoi(argv[3]);
    if (nShard < 1 || nShard > 16) {
        fprintf(stderr, "bench-inproc: shards must be 1 to 16\n");
        return 2;
    }
    px_install_json_allocator();

    FILE *pIn = fopen(argv[2], "r");
    if (!pIn) {
        perror(argv[2]);
        return 2;
    }
    idx_index_opts o;
    memset(&o, 0, sizeof o);
    o.nShard = nShard;
    o.readOnly = 1;
    idx_index *pIdx = NULL;
    char zErr[512] = "";
    int rc = idx_index_open(argv[1], &o, &pIdx, zErr, sizeof zErr);
    if (rc != PS_OK) {
        fprintf(stderr, "bench-inproc: cannot open the index in %s: %s\n", argv[1], zErr);
        fclose(pIn);
        return 2;
    }

    char *zLine = NULL;
    size_t nLine = 0;
    unsigned lineNo = 0;
    int status = 0;
    while (getline(&zLine, &nLine, pIn) != -1) {
        lineNo++;
        if (zLine[strspn(zLine, " \t\r\n")] == 0) continue;
        json_error_t jerr;
        json_t *pQ = json_loads(zLine, 0, &jerr);
        const char *zKind = pQ ? json_string_value(json_object_get(pQ, "kind")) : NULL;
        if (!json_is_object(pQ) || !zKind) {
            fprintf(stderr, "bench-inproc: line %u: not a query object: %s\n", lineNo,
                    pQ ? "no \"kind\"" : jerr.text);
            json_decref(pQ);
            status = 2;
            break;
        }
        kind_stat *k = kind_get(zKind);
        if (!k) {
            fprintf(stderr, "bench-inproc: more than %d kinds\n", KIND_MAX);
            json_decref(pQ);
            status = 2;
            break;
        }
        if (run_once(pIdx, pQ, lineNo) < 0) {  /* warm-up; a failure counts once */
            k->nErr++;
        } else {
            for (int i = 0; i < TIMED_RUNS; i++) {
                double ms = run_once(pIdx, pQ, lineNo);
                if (ms < 0) {
                    k->nErr++;
                    break;
                }
                if (kind_add(k, ms) != 0) {
                    fprintf(stderr, "bench-inproc: out of memory\n");
                    json_decref(pQ);
                    status = 2;
                    goto done;
                }
            }
        }
        json_decref(pQ);
    }
done:
    free(zLine);
    fclose(pIn);
    idx_index_close(pIdx);
    if (status != 0) return status;

    json_t *pRes = json_object();
    for (int i = 0; i < nKind; i++) {
        kind_stat *k = &aKind[i];
        qsort(k->a, k->n, sizeof *k->a, cmp_double);
        json_t *pK = json_pack("{s:f, s:f, s:I, s:I}",
                               "p50_ms", percentile(k->a, k->n, 50),
                               "p99_ms", percentile(k->a, k->n, 99),
                               "n", (json_int_t)k->n, "errors", (json_int_t)k->nErr);
        json_object_set_new(pRes, k->zName, pK);
        free(k->a);
    }
    char *zOut = json_dumps(pRes, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(pRes);
    if (!zOut) {
        fprintf(stderr, "bench-inproc: out of memory\n");
        return 2;
    }
    printf("%s\n", zOut);
    px_free(zOut);
    return 0;
}
