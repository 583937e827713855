/* Command-line parsing of query. */
#include "qc_args.h"
#include "qc_text.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const azFilterParam[QC_F__COUNT] = {
    [QC_F_FONDS] = "fonds", [QC_F_CATEGORY] = "category", [QC_F_YEAR] = "year",
    [QC_F_RETENTION] = "retention", [QC_F_CARRIER] = "carrier",
    [QC_F_CLASSIFICATION] = "classification", [QC_F_ORG] = "org",
};

const char *qc_filter_param(qc_filter f)
{
    return (unsigned)f < QC_F__COUNT ? azFilterParam[f] : "?";
}

static const struct {
    const char *zName;
    qc_cmd cmd;
    int nPos; /* arguments it takes; -1: any number of words */
} aCmd[] = {
    {"search", QC_CMD_SEARCH, -1}, {"get", QC_CMD_GET, 1},         {"import", QC_CMD_IMPORT, 1},
    {"page", QC_CMD_PAGE, 2},      {"put-page", QC_CMD_PUT_PAGE, 3}, {"health", QC_CMD_HEALTH, 0},
    {"report", QC_CMD_REPORT, 1},  {"timed-test", QC_CMD_TIMED, 0},
};

typedef enum {
    O_SERVER, O_JSON, O_HELP, O_FILTER, O_YEAR_FROM, O_YEAR_TO, O_SORT, O_PAGE, O_LIMIT, O_NO_FACETS,
    O_FORMAT, O_GB18030, O_OUT, O_DELIVERY, O_N, O_CODES, O_SEED, O_EVALUATOR, O_AUTO, O_REPLACE
} opt_kind;

#define S (1u << QC_CMD_SEARCH)
#define R (1u << QC_CMD_REPORT)
#define T (1u << QC_CMD_TIMED)
#define I (1u << QC_CMD_IMPORT)

static const struct {
    const char *zName;
    opt_kind kind;
    int hasValue;
    unsigned cmds; /* the commands it belongs to; 0: global */
    qc_filter filter;
} aOpt[] = {
    {"server", O_SERVER, 1, 0, 0},
    {"json", O_JSON, 0, 0, 0},
    {"help", O_HELP, 0, 0, 0},
    {"year", O_FILTER, 1, S, QC_F_YEAR},
    {"fonds", O_FILTER, 1, S | R | T, QC_F_FONDS},
    {"category", O_FILTER, 1, S, QC_F_CATEGORY},
    {"retention", O_FILTER, 1, S, QC_F_RETENTION},
    {"carrier", O_FILTER, 1, S, QC_F_CARRIER},
    {"classification", O_FILTER, 1, S, QC_F_CLASSIFICATION},
    {"org", O_FILTER, 1, S, QC_F_ORG},
    {"year-from", O_YEAR_FROM, 1, S, 0},
    {"year-to", O_YEAR_TO, 1, S, 0},
    {"sort", O_SORT, 1, S, 0},
    {"page", O_PAGE, 1, S, 0},
    {"limit", O_LIMIT, 1, S, 0},
    {"no-facets", O_NO_FACETS, 0, S, 0},
    {"format", O_FORMAT, 1, R, 0},
    {"gb18030", O_GB18030, 0, R, 0},
    {"out", O_OUT, 1, R, 0},
    {"delivery", O_DELIVERY, 1, R, 0},
    {"n", O_N, 1, T, 0},
    {"codes", O_CODES, 1, T, 0},
    {"seed", O_SEED, 1, T, 0},
    {"evaluator", O_EVALUATOR, 1, T, 0},
    {"auto", O_AUTO, 0, T, 0},
    {"replace", O_REPLACE, 0, I, 0},
};

#undef S
#undef R
#undef T
#undef I

static const char zUsage[] =
    "usage: query [--server URL] [--json] <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  search [WORDS...] [options]  search the archive; no words: every record\n"
    "      --year Y                 年度 Y (repeat for several years)\n"
    "      --year-from Y, --year-to Y   a range of years\n"
    "      --fonds F                全宗号 (repeatable, as are the next four)\n"
    "      --category C             门类代码, e.g. WS\n"
    "      --retention R            保管期限: Y, D30, D10 (or 永久, 30年, 10年)\n"
    "      --carrier X              载体, e.g. 纸质\n"
    "      --classification M       密级;  --org O: 机构（问题）代码\n"
    "      --sort relevance|date|-date\n"
    "      --page N, --limit N      page N (from 1) of N hits (1-100, default 20)\n"
    "      --no-facets              leave out the counts per year, fonds, ...\n"
    "  get CODE                     a record with its store location (存放位置)\n"
    "  import FILE.csv              import a catalog, UTF-8 or GB18030 ('-': stdin)\n"
    "      --replace                rows that differ from the archive's replace them (the old\n"
    "                               values go into each record's history); without it they\n"
    "                               are conflicts and the archive's rows are kept\n"
    "  page CODE N                  the text of page N of a record\n"
    "  put-page CODE N FILE.txt     store the text of page N ('-': stdin)\n"
    "  health                       check that indexd answers\n"
    "  report coverage|catalog|ledger|acceptance|register   digitization rate (permanent\n"
    "                               and 30-year paper records), catalog audit, statistics\n"
    "                               ledger, a delivery's acceptance check (DA/T 31), or\n"
    "                               the use register (利用登记簿; --format html prints it)\n"
    "      --delivery NAME          acceptance: one delivery (default: the list of them)\n"
    "  timed-test                   the timed retrieval test (item 7) at the archivist's desk:\n"
    "                               full-text search within 60 s, paper file within 180 s;\n"
    "                               indexd draws the records and times each trial; the user\n"
    "                               of the token is recorded as the evaluator, and only the\n"
    "                               evaluator role scores (other roles' runs are practice)\n"
    "      --n N                    records drawn at random (default 5); --codes A,B: these\n"
    "      --evaluator NAME         a note kept with the run (not who ran it);  --fonds F:\n"
    "                               draw from one 全宗\n"
    "      --auto                   full-text trials only, no questions (for scripts)\n"
    "      --fonds F                one 全宗 (default: all)\n"
    "      --format text|csv|html   csv for spreadsheets (UTF-8 with BOM; --gb18030 for\n"
    "                               Chinese spreadsheet tools), html to print\n"
    "      --out FILE               write CSV or HTML there (default: standard output)\n"
    "\n"
    "CODE is a 档号 such as Z031-WS·2017-Y-BGS-0001 ('.' or '・' for '·' will do).\n"
    "Search syntax: \"quoted phrase\", AND, OR, NOT, -word, 题名:扶贫, 年度:2016..2018\n"
    "\n"
    "options:\n"
    "  --server URL   indexd's address; default $INDEXD_URL, else " QC_DEFAULT_SERVER "\n"
    "  --json         print the daemon's JSON answer as it is\n"
    "  -h, --help     this text\n"
    "\n"
    "exit status: 0 done, 1 error, 2 usage error, 3 import with rejected or conflicting rows, or a failed trial\n";

const char *qc_args_usage(void) { return zUsage; }

static int is_year(const char *z)
{
    if (strlen(z) != 4) return 0;
    for (int i = 0; i < 4; i++)
        if (z[i] < '0' || z[i] > '9') return 0;
    return 1;
}

/* A decimal number lo..hi, nothing else; -1 otherwise. */
static long number(const char *z, long lo, long hi)
{
    char *e;
    if (*z < '0' || *z > '9' || strlen(z) > 9) return -1;
    long v = strtol(z, &e, 10);
    return *e || v < lo || v > hi ? -1 : v;
}

static int apply(qc_args *a, int k, const char *zVal, char *zErr, size_t nErr)
{
    const char *zName = aOpt[k].zName;
    if (aOpt[k].hasValue && !*zVal) return qc_invalid(zErr, nErr, "--%s needs a value", zName);
    switch (aOpt[k].kind) {
    case O_SERVER: a->zServer = zVal; break;
    case O_JSON: a->json = 1; break;
    case O_HELP: a->help = 1; break;
    case O_NO_FACETS: a->noFacets = 1; break;
    case O_FILTER: {
        qc_filter f = aOpt[k].filter;
        if (f == QC_F_YEAR && !is_year(zVal))
            return qc_invalid(zErr, nErr, "--year '%s' must be 4 digits (e.g. 2017)", zVal);
        if (a->anFilter[f] >= QC_FILTER_MAX)
            return qc_invalid(zErr, nErr, "at most %d values of --%s", QC_FILTER_MAX, zName);
        a->azFilter[f][a->anFilter[f]++] = zVal;
        break;
    }
    case O_YEAR_FROM:
    case O_YEAR_TO:
        if (!is_year(zVal)) return qc_invalid(zErr, nErr, "--%s '%s' must be 4 digits (e.g. 2017)", zName, zVal);
        *(aOpt[k].kind == O_YEAR_FROM ? &a->zYearFrom : &a->zYearTo) = zVal;
        break;
    case O_SORT:
        if (strcmp(zVal, "relevance") != 0 && strcmp(zVal, "date") != 0 && strcmp(zVal, "-date") != 0)
            return qc_invalid(zErr, nErr, "--sort '%s' must be relevance, date or -date", zVal);
        a->zSort = zVal;
        break;
    case O_PAGE:
        if ((a->page = number(zVal, 1, QC_OFFSET_MAX + 1)) < 0)
            return qc_invalid(zErr, nErr, "--page '%s' must be a number from 1", zVal);
        break;
    case O_FORMAT:
        if (strcmp(zVal, "text") != 0 && strcmp(zVal, "csv") != 0 && strcmp(zVal, "html") != 0)
            return qc_invalid(zErr, nErr, "--format '%s' must be text, csv or html", zVal);
        a->zFormat = strcmp(zVal, "text") == 0 ? NULL : zVal;
        break;
    case O_GB18030: a->gb18030 = 1; break;
    case O_OUT: a->zOut = zVal; break;
    case O_DELIVERY: a->zDelivery = zVal; break;
    case O_N:
        if ((a->timedN = number(zVal, 1, 100)) < 0) return qc_invalid(zErr, nErr, "--n '%s' must be a number from 1 to 100", zVal);
        break;
    case O_CODES: a->zTimedCodes = zVal; break;
    case O_SEED:
        if (number(zVal, 0, 999999999) < 0) return qc_invalid(zErr, nErr, "--seed '%s' must be a number", zVal);
        a->zTimedSeed = zVal;
        break;
    case O_EVALUATOR: a->zEvaluator = zVal; break;
    case O_AUTO: a->timedAuto = 1; break;
    case O_REPLACE: a->replace = 1; break;
    case O_LIMIT:
        if ((a->limit = number(zVal, 1, QC_LIMIT_MAX)) < 0)
            return qc_invalid(zErr, nErr, "--limit '%s' must be a number from 1 to %d", zVal, QC_LIMIT_MAX);
        break;
    }
    return PS_OK;
}

/* An option "--name" or "--name=value" at argv[*pi]; may take the next
 * argument as its value. */
static int option(qc_args *a, int argc, char **argv, int *pi, char *zErr, size_t nErr)
{
    const char *z = argv[*pi] + 2;
    const char *zEq = strchr(z, '=');
    size_t nName = zEq ? (size_t)(zEq - z) : strlen(z);
    for (int k = 0; k < (int)(sizeof aOpt / sizeof aOpt[0]); k++) {
        if (strlen(aOpt[k].zName) != nName || memcmp(aOpt[k].zName, z, nName) != 0) continue;
        if (aOpt[k].cmds && !(aOpt[k].cmds & (1u << a->cmd))) {
            const char *zOf = aOpt[k].cmds == (1u << QC_CMD_REPORT) ? "report"
                            : aOpt[k].cmds == (1u << QC_CMD_TIMED) ? "timed-test"
                            : aOpt[k].cmds == (1u << QC_CMD_SEARCH) ? "search" : "search, report and timed-test";
            return qc_invalid(zErr, nErr, "--%s is an option of %s%s", aOpt[k].zName, zOf,
                        a->cmd == QC_CMD_NONE ? " and goes after it" : "");
        }
        const char *zVal = "";
        if (aOpt[k].hasValue) {
            if (zEq) zVal = zEq + 1;
            else if (*pi + 1 < argc) zVal = argv[++*pi];
            else return qc_invalid(zErr, nErr, "--%s needs a value", aOpt[k].zName);
        } else if (zEq) {
            return qc_invalid(zErr, nErr, "--%s takes no value", aOpt[k].zName);
        }
        return apply(a, k, zVal, zErr, nErr);
    }
    return qc_invalid(zErr, nErr, "unknown option '%s'", argv[*pi]);
}

int qc_args_parse(qc_args *a, int argc, char **argv, char *zErr, size_t nErr)
{
    int nPosWanted = 0, endOpts = 0;
    memset(a, 0, sizeof *a);
    a->page = 1;
    zErr[0] = 0;
    a->azWord = px_calloc((size_t)(argc > 0 ? argc : 1), sizeof *a->azWord);
    if (!a->azWord) return PS_NOMEM;
    for (int i = 1; i < argc; i++) {
        const char *z = argv[i];
        int rc;
        if (!endOpts && strcmp(z, "--") == 0) {
            endOpts = 1;
            continue;
        }
        if (!endOpts && strcmp(z, "-h") == 0) {
            a->help = 1;
            continue;
        }
        if (!endOpts && z[0] == '-' && z[1] == '-') {
            if ((rc = option(a, argc, argv, &i, zErr, nErr)) != PS_OK) return rc;
            continue;
        }
        if (a->cmd == QC_CMD_NONE) {
            for (size_t k = 0; k < sizeof aCmd / sizeof aCmd[0]; k++)
                if (strcmp(z, aCmd[k].zName) == 0) {
                    a->cmd = aCmd[k].cmd;
                    nPosWanted = aCmd[k].nPos;
                }
            if (a->cmd == QC_CMD_NONE) {
                if (z[0] == '-') return qc_invalid(zErr, nErr, "unknown option '%s'", z);
                return qc_invalid(zErr, nErr, "unknown command '%s'", z);
            }
            continue;
        }
        if (a->cmd == QC_CMD_SEARCH) { /* "-word" is a query word: NOT word */
            a->azWord[a->nWord++] = z;
            continue;
        }
        if (!endOpts && z[0] == '-' && z[1])
            return qc_invalid(zErr, nErr, "unknown option '%s'", z);
        if (a->nPos >= nPosWanted)
            return qc_invalid(zErr, nErr, "too many arguments: '%s'", z);
        a->azPos[a->nPos++] = z;
    }
    if (a->help) return PS_OK;
    if (a->cmd == QC_CMD_NONE) return qc_invalid(zErr, nErr, "no command given");
    if (nPosWanted >= 0 && a->nPos < nPosWanted) {
        static const char *const azWhat[] = {
            [QC_CMD_GET] = "get needs the 档号 of a record",
            [QC_CMD_IMPORT] = "import needs a catalog file (CSV), or '-' for stdin",
            [QC_CMD_PAGE] = "page needs a 档号 and a page number",
            [QC_CMD_PUT_PAGE] = "put-page needs a 档号, a page number and a text file",
            [QC_CMD_REPORT] = "report needs its name: coverage, catalog, ledger, acceptance or register",
        };
        return qc_invalid(zErr, nErr, "%s", azWhat[a->cmd]);
    }
    if (a->cmd == QC_CMD_GET || a->cmd == QC_CMD_PAGE || a->cmd == QC_CMD_PUT_PAGE) {
        if (!*a->azPos[0]) return qc_invalid(zErr, nErr, "the 档号 is empty");
        /* The daemon sees the path decoded: a '/' would split it. */
        if (strchr(a->azPos[0], '/'))
            return qc_invalid(zErr, nErr, "the 档号 '%s' has a '/'; write it as Z031-WS·2017-Y-BGS-0001", a->azPos[0]);
    }
    if ((a->cmd == QC_CMD_PAGE || a->cmd == QC_CMD_PUT_PAGE) && number(a->azPos[1], 1, QC_PAGE_NO_MAX) < 0)
        return qc_invalid(zErr, nErr, "page number '%s' must be a number from 1 to %d", a->azPos[1], QC_PAGE_NO_MAX);
    if ((a->cmd == QC_CMD_IMPORT || a->cmd == QC_CMD_PUT_PAGE) && !*a->azPos[nPosWanted - 1])
        return qc_invalid(zErr, nErr, "the file name is empty");
    if (a->cmd == QC_CMD_REPORT) {
        if (strcmp(a->azPos[0], "coverage") != 0 && strcmp(a->azPos[0], "ledger") != 0 &&
            strcmp(a->azPos[0], "catalog") != 0 && strcmp(a->azPos[0], "acceptance") != 0 &&
            strcmp(a->azPos[0], "register") != 0)
            return qc_invalid(zErr, nErr, "unknown report '%s' (coverage, catalog, ledger, acceptance, register)", a->azPos[0]);
        if (a->zDelivery && strcmp(a->azPos[0], "acceptance") != 0)
            return qc_invalid(zErr, nErr, "--delivery goes with the acceptance report");
        if (!a->zDelivery && a->zFormat && strcmp(a->azPos[0], "acceptance") == 0)
            return qc_invalid(zErr, nErr, "--format %s needs --delivery NAME", a->zFormat);
        if (a->anFilter[QC_F_FONDS] > 1) return qc_invalid(zErr, nErr, "a report covers one --fonds, or all");
        if (a->gb18030 && (!a->zFormat || strcmp(a->zFormat, "csv") != 0))
            return qc_invalid(zErr, nErr, "--gb18030 goes with --format csv");
        if (a->zFormat && a->json) return qc_invalid(zErr, nErr, "--json and --format exclude each other");
    }
    if (a->cmd == QC_CMD_TIMED && a->anFilter[QC_F_FONDS] > 1) return qc_invalid(zErr, nErr, "draw from one --fonds, or all");
    if (a->zYearFrom && a->zYearTo && strcmp(a->zYearFrom, a->zYearTo) > 0)
        return qc_invalid(zErr, nErr, "--year-from %s is after --year-to %s", a->zYearFrom, a->zYearTo);
    if (qc_args_offset(a) > QC_OFFSET_MAX)
        return qc_invalid(zErr, nErr, "--page %ld is too far: the daemon serves hits up to number %d",
                    a->page, QC_OFFSET_MAX);
    return PS_OK;
}

void qc_args_clear(qc_args *a)
{
    px_free(a->azWord);
    a->azWord = NULL;
    a->nWord = 0;
}

long qc_args_offset(const qc_args *a)
{
    long limit = a->limit ? a->limit : QC_LIMIT_DEFAULT;
    return (a->page > 1 ? a->page - 1 : 0) * limit;
}

int qc_args_server(const qc_args *a, const char *zEnv, char *zOut, size_t nOut, char *zErr,
                   size_t nErr)
{
    const char *z = a->zServer ? a->zServer : zEnv && *zEnv ? zEnv : QC_DEFAULT_SERVER;
    const char *zFrom = a->zServer ? "--server" : zEnv && *zEnv ? "INDEXD_URL" : "the default";
    size_t n = strlen(z);
    while (n > 0 && z[n - 1] == '/') n--;
    size_t nScheme = strncmp(z, "http://", 7) == 0 ? 7 : strncmp(z, "https://", 8) == 0 ? 8 : 0;
    if (nScheme == 0 || n <= nScheme)
        return qc_invalid(zErr, nErr, "the server address '%s' (%s) must be a URL such as %s", z, zFrom,
                    QC_DEFAULT_SERVER);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)z[i] <= ' ' || z[i] == 0x7F || z[i] == '?' || z[i] == '#')
            return qc_invalid(zErr, nErr, "the server address '%s' (%s) has a space, control character, '?' or '#'",
                        z, zFrom);
    if (n >= nOut) return qc_invalid(zErr, nErr, "the server address (%s) is too long", zFrom);
    memcpy(zOut, z, n);
    zOut[n] = 0;
    return PS_OK;
}
