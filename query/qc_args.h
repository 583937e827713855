/* The command line of query: global options, the command, its arguments
 * and the search options, checked before anything goes on the wire.
 * Strings point into argv; nothing here prints. */
#ifndef QC_ARGS_H
#define QC_ARGS_H

#include <stddef.h>

#define QC_DEFAULT_SERVER "http://127.0.0.1:8080"
#define QC_FILTER_MAX 16       /* values of one filter (the daemon's limit) */
#define QC_LIMIT_MAX 100       /* hits per page (the daemon's limit) */
#define QC_LIMIT_DEFAULT 20
#define QC_OFFSET_MAX 100000   /* the daemon's limit */
#define QC_PAGE_NO_MAX 65535   /* page numbers of a record */

typedef enum {
    QC_CMD_NONE,
    QC_CMD_SEARCH,
    QC_CMD_GET,
    QC_CMD_IMPORT,
    QC_CMD_PAGE,
    QC_CMD_PUT_PAGE,
    QC_CMD_HEALTH,
    QC_CMD_REPORT,
    QC_CMD_TIMED,
} qc_cmd;

/* Search filters; the names are the query parameters of /api/v1/search. */
typedef enum {
    QC_F_FONDS, QC_F_CATEGORY, QC_F_YEAR, QC_F_RETENTION, QC_F_CARRIER,
    QC_F_CLASSIFICATION, QC_F_ORG,
    QC_F__COUNT
} qc_filter;

const char *qc_filter_param(qc_filter f);

typedef struct {
    int help;              /* --help or -h was given: print the usage, nothing else */
    int json;              /* --json */
    const char *zServer;   /* --server, NULL when not given */
    qc_cmd cmd;
    const char *azPos[3];  /* the command's arguments (档号, page number, file) */
    int nPos;
    /* search */
    const char **azWord;   /* query words, nWord of them; owned (px_free via qc_args_clear) */
    int nWord;
    const char *azFilter[QC_F__COUNT][QC_FILTER_MAX];
    int anFilter[QC_F__COUNT];
    const char *zYearFrom, *zYearTo;
    const char *zSort;     /* NULL: the daemon's default (relevance) */
    long page;             /* 1-based */
    long limit;            /* 0: not given */
    int noFacets;
    /* report */
    const char *zFormat;   /* --format: NULL (text), csv, html */
    int gb18030;           /* --gb18030: CSV for Chinese spreadsheet tools */
    const char *zOut;      /* --out FILE: CSV or HTML goes there */
    const char *zDelivery; /* --delivery NAME: the acceptance report of one delivery */
    /* timed-test */
    long timedN;           /* --n: records to draw */
    const char *zTimedCodes; /* --codes A,B: these records instead */
    const char *zTimedSeed;  /* --seed: a reproducible draw */
    const char *zEvaluator;  /* --evaluator NAME */
    int timedAuto;         /* --auto: full-text trials only, no questions */
    int replace;           /* import --replace */
} qc_args;

/* Parse argv.  Returns PS_OK; PS_INVALID with a message for people in zErr
 * (the caller prints it with the usage and exits 2); PS_NOMEM.  When
 * a->help is set the rest may be incomplete.  Call qc_args_clear() in every
 * case. */
int qc_args_parse(qc_args *a, int argc, char **argv, char *zErr, size_t nErr);

void qc_args_clear(qc_args *a);

/* The daemon's address: --server, else zEnv (the value of INDEXD_URL, may
 * be NULL or empty), else QC_DEFAULT_SERVER, without trailing slashes, in
 * zOut.  PS_INVALID with a message in zErr when it is not an http:// or
 * https:// URL or does not fit. */
int qc_args_server(const qc_args *a, const char *zEnv, char *zOut, size_t nOut, char *zErr,
                   size_t nErr);

/* Offset of the first hit asked for: (page - 1) * limit. */
long qc_args_offset(const qc_args *a);

/* The usage text, ending with a newline. */
const char *qc_args_usage(void);

#endif
