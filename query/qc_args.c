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
    "用法：query [--server URL] [--json] <命令> [参数]\n"
    "\n"
    "命令：\n"
    "  search [检索词...] [选项]    检索档案；不给检索词时列出全部档案\n"
    "      --year Y                 年度 Y（可重复，以检索多个年度）\n"
    "      --year-from Y, --year-to Y   年度范围\n"
    "      --fonds F                全宗号（可重复，以下四项同）\n"
    "      --category C             门类代码，如 WS\n"
    "      --retention R            保管期限：Y、D30、D10（或 永久、30年、10年）\n"
    "      --carrier X              载体，如 纸质\n"
    "      --classification M       密级；  --org O：机构（问题）代码\n"
    "      --sort relevance|date|-date   按相关度、日期或日期倒序排列\n"
    "      --page N, --limit N      第 N 页（从 1 起），每页 N 件（1-100，默认 20）\n"
    "      --no-facets              不列出按年度、全宗等的分组计数\n"
    "  get 档号                     一件档案的著录项及其存放位置\n"
    "  import 目录.csv              导入文件级目录，UTF-8 或 GB18030（'-'：标准输入）\n"
    "      --replace                与档案中已有著录不同的条目替换原著录（原值记入\n"
    "                               该件的修改历史）；不加此项时这些条目作为冲突\n"
    "                               列出，保留档案中的著录\n"
    "  page 档号 页号               一件档案某一页的全文\n"
    "  put-page 档号 页号 文件.txt  录入一件档案某一页的全文（'-'：标准输入）\n"
    "  health                       检查 indexd 是否应答\n"
    "  report coverage|catalog|ledger|acceptance|register\n"
    "                               coverage：数字化率（保管期限为永久、30年的纸质\n"
    "                               档案）；catalog：文件级目录检查；ledger：统计\n"
    "                               台账；acceptance：数字化成果验收（DA/T 31）；\n"
    "                               register：利用登记簿（--format html 可打印）\n"
    "      --fonds F                只统计一个全宗（默认：全部全宗）\n"
    "      --delivery NAME          acceptance：一个交付批次的验收（默认：列出\n"
    "                               全部批次）\n"
    "      --format text|csv|html   csv 供电子表格使用（UTF-8，带 BOM；中文电子\n"
    "                               表格软件请加 --gb18030），html 供打印\n"
    "      --out FILE               CSV 或 HTML 写入该文件（默认：标准输出）\n"
    "  timed-test                   在档案员桌前进行利用时效测试（第 7 项）：全文\n"
    "                               检索须 60 秒内检出，纸质档案须 180 秒内调出；\n"
    "                               由 indexd 抽取档案并为每项测试计时；令牌的用户\n"
    "                               记为评估人，只有评估员角色的测试计分（其他角色\n"
    "                               的测试为练习）\n"
    "      --n N                    随机抽取 N 件档案（默认 5）；--codes A,B：抽取\n"
    "                               指定的档案\n"
    "      --evaluator NAME         随测试记录保存的备注（不改变评估人）\n"
    "      --fonds F                只从一个全宗抽取（默认：全部全宗）\n"
    "      --auto                   只做全文检索测试，不提问（供脚本使用）\n"
    "\n"
    "档号形如 Z031-WS·2017-Y-BGS-0001（'·' 也可写作 '.' 或 '・'）。\n"
    "检索语法：\"带引号的短语\"、AND、OR、NOT、-词、题名:扶贫、年度:2016..2018\n"
    "\n"
    "全局选项：\n"
    "  --server URL   indexd 的地址；默认取 $INDEXD_URL，否则为 " QC_DEFAULT_SERVER "\n"
    "  --json         原样输出 indexd 应答的 JSON\n"
    "  -h, --help     显示本说明\n"
    "\n"
    "退出状态：0 完成；1 出错；2 命令行有误；3 导入时有条目未导入或与已有著录\n"
    "          冲突，或利用时效测试有未通过的项目\n";

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
    if (aOpt[k].hasValue && !*zVal) return qc_invalid(zErr, nErr, "--%s 需要一个值", zName);
    switch (aOpt[k].kind) {
    case O_SERVER: a->zServer = zVal; break;
    case O_JSON: a->json = 1; break;
    case O_HELP: a->help = 1; break;
    case O_NO_FACETS: a->noFacets = 1; break;
    case O_FILTER: {
        qc_filter f = aOpt[k].filter;
        if (f == QC_F_YEAR && !is_year(zVal))
            return qc_invalid(zErr, nErr, "--year '%s' 应为 4 位数字的年度（如 2017）", zVal);
        if (a->anFilter[f] >= QC_FILTER_MAX)
            return qc_invalid(zErr, nErr, "--%s 最多给 %d 个值", zName, QC_FILTER_MAX);
        a->azFilter[f][a->anFilter[f]++] = zVal;
        break;
    }
    case O_YEAR_FROM:
    case O_YEAR_TO:
        if (!is_year(zVal)) return qc_invalid(zErr, nErr, "--%s '%s' 应为 4 位数字的年度（如 2017）", zName, zVal);
        *(aOpt[k].kind == O_YEAR_FROM ? &a->zYearFrom : &a->zYearTo) = zVal;
        break;
    case O_SORT:
        if (strcmp(zVal, "relevance") != 0 && strcmp(zVal, "date") != 0 && strcmp(zVal, "-date") != 0)
            return qc_invalid(zErr, nErr, "--sort '%s' 应为 relevance、date 或 -date", zVal);
        a->zSort = zVal;
        break;
    case O_PAGE:
        if ((a->page = number(zVal, 1, QC_OFFSET_MAX + 1)) < 0)
            return qc_invalid(zErr, nErr, "--page '%s' 应为从 1 起的数字", zVal);
        break;
    case O_FORMAT:
        if (strcmp(zVal, "text") != 0 && strcmp(zVal, "csv") != 0 && strcmp(zVal, "html") != 0)
            return qc_invalid(zErr, nErr, "--format '%s' 应为 text、csv 或 html", zVal);
        a->zFormat = strcmp(zVal, "text") == 0 ? NULL : zVal;
        break;
    case O_GB18030: a->gb18030 = 1; break;
    case O_OUT: a->zOut = zVal; break;
    case O_DELIVERY: a->zDelivery = zVal; break;
    case O_N:
        if ((a->timedN = number(zVal, 1, 100)) < 0) return qc_invalid(zErr, nErr, "--n '%s' 应为 1 到 100 之间的数字", zVal);
        break;
    case O_CODES: a->zTimedCodes = zVal; break;
    case O_SEED:
        if (number(zVal, 0, 999999999) < 0) return qc_invalid(zErr, nErr, "--seed '%s' 应为数字", zVal);
        a->zTimedSeed = zVal;
        break;
    case O_EVALUATOR: a->zEvaluator = zVal; break;
    case O_AUTO: a->timedAuto = 1; break;
    case O_REPLACE: a->replace = 1; break;
    case O_LIMIT:
        if ((a->limit = number(zVal, 1, QC_LIMIT_MAX)) < 0)
            return qc_invalid(zErr, nErr, "--limit '%s' 应为 1 到 %d 之间的数字", zVal, QC_LIMIT_MAX);
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
                            : aOpt[k].cmds == (1u << QC_CMD_SEARCH) ? "search" : "search、report 和 timed-test";
            return qc_invalid(zErr, nErr, "--%s 是 %s 命令的选项%s", aOpt[k].zName, zOf,
                        a->cmd == QC_CMD_NONE ? "，应写在命令之后" : "");
        }
        const char *zVal = "";
        if (aOpt[k].hasValue) {
            if (zEq) zVal = zEq + 1;
            else if (*pi + 1 < argc) zVal = argv[++*pi];
            else return qc_invalid(zErr, nErr, "--%s 需要一个值", aOpt[k].zName);
        } else if (zEq) {
            return qc_invalid(zErr, nErr, "--%s 不带值", aOpt[k].zName);
        }
        return apply(a, k, zVal, zErr, nErr);
    }
    return qc_invalid(zErr, nErr, "未知选项 '%s'", argv[*pi]);
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
                if (z[0] == '-') return qc_invalid(zErr, nErr, "未知选项 '%s'", z);
                return qc_invalid(zErr, nErr, "未知命令 '%s'", z);
            }
            continue;
        }
        if (a->cmd == QC_CMD_SEARCH) { /* "-word" is a query word: NOT word */
            a->azWord[a->nWord++] = z;
            continue;
        }
        if (!endOpts && z[0] == '-' && z[1])
            return qc_invalid(zErr, nErr, "未知选项 '%s'", z);
        if (a->nPos >= nPosWanted)
            return qc_invalid(zErr, nErr, "参数过多：'%s'", z);
        a->azPos[a->nPos++] = z;
    }
    if (a->help) return PS_OK;
    if (a->cmd == QC_CMD_NONE) return qc_invalid(zErr, nErr, "未给出命令");
    if (nPosWanted >= 0 && a->nPos < nPosWanted) {
        static const char *const azWhat[] = {
            [QC_CMD_GET] = "get 需要一件档案的档号",
            [QC_CMD_IMPORT] = "import 需要一个目录文件（CSV），或用 '-' 表示标准输入",
            [QC_CMD_PAGE] = "page 需要档号和页号",
            [QC_CMD_PUT_PAGE] = "put-page 需要档号、页号和一个文本文件",
            [QC_CMD_REPORT] = "report 需要报告名：coverage、catalog、ledger、acceptance 或 register",
        };
        return qc_invalid(zErr, nErr, "%s", azWhat[a->cmd]);
    }
    if (a->cmd == QC_CMD_GET || a->cmd == QC_CMD_PAGE || a->cmd == QC_CMD_PUT_PAGE) {
        if (!*a->azPos[0]) return qc_invalid(zErr, nErr, "档号为空");
        /* The daemon sees the path decoded: a '/' would split it. */
        if (strchr(a->azPos[0], '/'))
            return qc_invalid(zErr, nErr, "档号 '%s' 含有 '/'；应写作 Z031-WS·2017-Y-BGS-0001 的形式", a->azPos[0]);
    }
    if ((a->cmd == QC_CMD_PAGE || a->cmd == QC_CMD_PUT_PAGE) && number(a->azPos[1], 1, QC_PAGE_NO_MAX) < 0)
        return qc_invalid(zErr, nErr, "页号 '%s' 应为 1 到 %d 之间的数字", a->azPos[1], QC_PAGE_NO_MAX);
    if ((a->cmd == QC_CMD_IMPORT || a->cmd == QC_CMD_PUT_PAGE) && !*a->azPos[nPosWanted - 1])
        return qc_invalid(zErr, nErr, "文件名为空");
    if (a->cmd == QC_CMD_REPORT) {
        if (strcmp(a->azPos[0], "coverage") != 0 && strcmp(a->azPos[0], "ledger") != 0 &&
            strcmp(a->azPos[0], "catalog") != 0 && strcmp(a->azPos[0], "acceptance") != 0 &&
            strcmp(a->azPos[0], "register") != 0)
            return qc_invalid(zErr, nErr, "未知报告 '%s'（可用 coverage、catalog、ledger、acceptance、register）", a->azPos[0]);
        if (a->zDelivery && strcmp(a->azPos[0], "acceptance") != 0)
            return qc_invalid(zErr, nErr, "--delivery 只用于 acceptance 报告");
        if (!a->zDelivery && a->zFormat && strcmp(a->azPos[0], "acceptance") == 0)
            return qc_invalid(zErr, nErr, "--format %s 须同时给出 --delivery 批次名", a->zFormat);
        if (a->anFilter[QC_F_FONDS] > 1) return qc_invalid(zErr, nErr, "一份报告只统计一个全宗（--fonds）或全部全宗");
        if (a->gb18030 && (!a->zFormat || strcmp(a->zFormat, "csv") != 0))
            return qc_invalid(zErr, nErr, "--gb18030 只能与 --format csv 同用");
        if (a->zFormat && a->json) return qc_invalid(zErr, nErr, "--json 与 --format 不能同时使用");
    }
    if (a->cmd == QC_CMD_TIMED && a->anFilter[QC_F_FONDS] > 1) return qc_invalid(zErr, nErr, "只能从一个全宗（--fonds）或全部全宗中抽取");
    if (a->zYearFrom && a->zYearTo && strcmp(a->zYearFrom, a->zYearTo) > 0)
        return qc_invalid(zErr, nErr, "--year-from %s 晚于 --year-to %s", a->zYearFrom, a->zYearTo);
    if (qc_args_offset(a) > QC_OFFSET_MAX)
        return qc_invalid(zErr, nErr, "--page %ld 超出范围：indexd 最多只给出到第 %d 件的结果",
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
    const char *zFrom = a->zServer ? "--server" : zEnv && *zEnv ? "INDEXD_URL" : "默认值";
    size_t n = strlen(z);
    while (n > 0 && z[n - 1] == '/') n--;
    size_t nScheme = strncmp(z, "http://", 7) == 0 ? 7 : strncmp(z, "https://", 8) == 0 ? 8 : 0;
    if (nScheme == 0 || n <= nScheme)
        return qc_invalid(zErr, nErr, "服务器地址 '%s'（来自 %s）应为 URL，如 %s", z, zFrom,
                    QC_DEFAULT_SERVER);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)z[i] <= ' ' || z[i] == 0x7F || z[i] == '?' || z[i] == '#')
            return qc_invalid(zErr, nErr, "服务器地址 '%s'（来自 %s）含有空格、控制字符、'?' 或 '#'",
                        z, zFrom);
    if (n >= nOut) return qc_invalid(zErr, nErr, "服务器地址（来自 %s）过长", zFrom);
    memcpy(zOut, z, n);
    zOut[n] = 0;
    return PS_OK;
}
