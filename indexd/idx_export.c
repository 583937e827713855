/* CSV through libcsv's quoting, GB18030 through iconv, HTML and SVG by
 * hand (text is escaped; nothing is parsed). */
#include "idx_export.h"
#include "proto_record.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void esc(FILE *f, const char *z);
static void esc_json(FILE *f, const json_t *v);

/* ---- CSV -------------------------------------------------------------------- */

/* Set when a cell could not be written for want of memory; the export then
 * fails as a whole rather than leave a cell out.  Per thread: reports are
 * written on several HTTP workers at once. */
static _Thread_local int csvNomem;

/* A number this file formatted: written as it is, so that -3 stays a number. */
static void cell_num(FILE *f, int first, const char *z)
{
    if (!first) fputc(',', f);
    /* quoted (by libcsv) only where a spreadsheet needs it */
    if (z[strcspn(z, ",\"\r\n")] || z[0] == ' ' || (*z && z[strlen(z) - 1] == ' ')) csv_fwrite(f, z, strlen(z));
    else fputs(z, f);
}

/* Text.  A spreadsheet runs a cell starting with = + - @ TAB or CR as a
 * formula (=HYPERLINK(…) can send other cells away when clicked), so such a
 * cell gets a leading ' (OWASP's advice): it is then shown as text. */
static void cell(FILE *f, int first, const char *z)
{
    if (!z[0] || !strchr("=+-@\t\r", z[0])) {
        cell_num(f, first, z);
        return;
    }
    size_t n = strlen(z);
    char *zGuarded = px_malloc(n + 2);
    if (!zGuarded) {
        csvNomem = 1;
        return;
    }
    zGuarded[0] = '\'';
    memcpy(zGuarded + 1, z, n + 1);
    cell_num(f, first, zGuarded);
    px_free(zGuarded);
}

/* A JSON value: strings as text, numbers as numbers. */
static void cell_json(FILE *f, int first, const json_t *v)
{
    char z[64];
    if (json_is_string(v)) {
        cell(f, first, json_string_value(v));
        return;
    }
    if (json_is_integer(v)) snprintf(z, sizeof z, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(z, sizeof z, "%.4f", json_real_value(v));
    else z[0] = 0;
    cell_num(f, first, z);
}

static void row(FILE *f, const char *const *az, int n)
{
    for (int i = 0; i < n; i++) cell(f, i == 0, az[i]);
    fputs("\r\n", f);
}

static void percent(char *z, size_t n, double r)
{
    snprintf(z, n, "%.2f%%", r * 100.0);
}

static void coverage_csv(FILE *f, const json_t *r)
{
    static const char *const azHead[] = {"范围", "分组", "应数字化件数", "已数字化件数", "数字化率", "页数", "已扫描页数"};
    static const struct { const char *zKey, *zName; } aGroup[] = {
        {"by_fonds", "全宗"}, {"by_category", "门类"}, {"by_year", "年度"}};
    char zRate[32];
    row(f, azHead, 7);
    percent(zRate, sizeof zRate, json_real_value(json_object_get(r, "rate")));
    cell(f, 1, "合计");
    cell(f, 0, "");
    cell_json(f, 0, json_object_get(r, "total"));
    cell_json(f, 0, json_object_get(r, "digitized"));
    cell_num(f, 0, zRate);
    cell_json(f, 0, json_object_get(json_object_get(r, "pages"), "total"));
    cell_json(f, 0, json_object_get(json_object_get(r, "pages"), "scanned"));
    fputs("\r\n", f);
    for (size_t g = 0; g < sizeof aGroup / sizeof aGroup[0]; g++) {
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(r, aGroup[g].zKey), i, o) {
            percent(zRate, sizeof zRate, json_real_value(json_object_get(o, "rate")));
            cell(f, 1, aGroup[g].zName);
            cell_json(f, 0, json_object_get(o, "key"));
            cell_json(f, 0, json_object_get(o, "total"));
            cell_json(f, 0, json_object_get(o, "digitized"));
            cell_num(f, 0, zRate);
            cell_json(f, 0, json_object_get(o, "pages"));
            cell_json(f, 0, json_object_get(o, "scanned_pages"));
            fputs("\r\n", f);
        }
    }
    fputs("\r\n", f);
    static const char *const azMiss[] = {"待数字化档号", "题名", "存放位置", "页数", "已扫描页数"};
    row(f, azMiss, 5);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "missing"), i, o) {
        cell_json(f, 1, json_object_get(o, "code"));
        cell_json(f, 0, json_object_get(o, "title"));
        cell_json(f, 0, json_object_get(o, "location"));
        cell_json(f, 0, json_object_get(o, "pages"));
        cell_json(f, 0, json_object_get(o, "scanned"));
        fputs("\r\n", f);
    }
    json_int_t nHidden = json_integer_value(json_object_get(r, "missing_hidden"));
    if (nHidden > 0) {
        char zNote[160];
        snprintf(zNote, sizeof zNote, IDX_EXPORT_HIDDEN_NOTE, (long long)nHidden);
        cell(f, 1, zNote);
        fputs("\r\n", f);
    }
}

static void ledger_csv(FILE *f, const json_t *r)
{
    static const char *const azHead[] = {"全宗号", "门类", "年度", "保管期限", "件数", "页数", "已数字化件数", "已扫描页数"};
    static const char *const azKey[] = {"fonds", "category", "year", "retention", "items", "pages",
                                        "digitized_items", "scanned_pages"};
    row(f, azHead, 8);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "rows"), i, o) {
        for (int k = 0; k < 8; k++) cell_json(f, k == 0, json_object_get(o, azKey[k]));
        fputs("\r\n", f);
    }
    const json_t *t = json_object_get(r, "totals");
    cell(f, 1, "合计");
    cell(f, 0, "");
    cell(f, 0, "");
    cell(f, 0, "");
    for (int k = 4; k < 8; k++) cell_json(f, 0, json_object_get(t, azKey[k]));
    fputs("\r\n", f);
}

static void catalog_csv(FILE *f, const json_t *r)
{
    char z[64];
    static const char *const azSum[] = {"项目", "值"};
    row(f, azSum, 2);
    cell(f, 1, "条目数");
    cell_json(f, 0, json_object_get(r, "rows"));
    fputs("\r\n", f);
    cell(f, 1, "必填项完整条目数");
    cell_json(f, 0, json_object_get(r, "complete"));
    fputs("\r\n", f);
    percent(z, sizeof z, json_real_value(json_object_get(r, "entry_rate")));
    cell(f, 1, "录入率");
    cell_num(f, 0, z);
    fputs("\r\n", f);
    cell(f, 1, "不规范处");
    cell_json(f, 0, json_object_get(r, "errors"));
    fputs("\r\n", f);
    cell(f, 1, "警告");
    cell_json(f, 0, json_object_get(r, "warnings"));
    fputs("\r\n", f);
    snprintf(z, sizeof z, "%.2f", json_real_value(json_object_get(r, "score")));
    cell(f, 1, "得分（满分5分）");
    cell_num(f, 0, z);
    fputs("\r\n\r\n", f);
    static const char *const azHead[] = {"目录文件", "行", "档号", "规则", "字段", "说明", "严重程度"};
    row(f, azHead, 7);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "irregular"), i, o) {
        cell_json(f, 1, json_object_get(o, "file"));
        cell_json(f, 0, json_object_get(o, "line"));
        cell_json(f, 0, json_object_get(o, "code"));
        cell(f, 0, proto_rule_cn(json_string_value(json_object_get(o, "rule"))));
        cell_json(f, 0, json_object_get(o, "field"));
        cell_json(f, 0, json_object_get(o, "reason"));
        cell(f, 0, strcmp(json_string_value(json_object_get(o, "severity")), "warning") == 0 ? "警告" : "不规范");
        fputs("\r\n", f);
    }
    json_int_t nListed = (json_int_t)json_array_size(json_object_get(r, "irregular"));
    json_int_t nAll = json_integer_value(json_object_get(r, "irregular_total"));
    if (nListed < nAll) {
        char zMore[128];
        snprintf(zMore, sizeof zMore, "仅列出前 %lld 处，另有 %lld 处", (long long)nListed, (long long)(nAll - nListed));
        cell(f, 1, zMore);
        fputs("\r\n", f);
    }
}

/* One line per problem of an acceptance check. */
static void acceptance_item(FILE *f, int csvOut, const json_t *o)
{
    const char *azKey[] = {"code", "file", "page", "file_page"};
    char zWhy[512] = "";
    const char *zReason = json_string_value(json_object_get(o, "reason"));
    if (zReason) snprintf(zWhy, sizeof zWhy, "%s", zReason);
    else if (json_object_get(o, "catalog_pages"))
        snprintf(zWhy, sizeof zWhy, "目录 %lld 页，扫描 %lld 页", (long long)json_integer_value(json_object_get(o, "catalog_pages")),
                 (long long)json_integer_value(json_object_get(o, "scanned_pages")));
    else if (json_object_get(o, "dpi") || json_object_get(o, "confidence"))
        snprintf(zWhy, sizeof zWhy, "%lld dpi，偏斜 %.2f°，可信度 %lld", (long long)json_integer_value(json_object_get(o, "dpi")),
                 json_number_value(json_object_get(o, "skew")), (long long)json_integer_value(json_object_get(o, "confidence")));
    for (int k = 0; k < 3; k++) {
        const json_t *v = json_object_get(o, azKey[k]);
        if (k == 2 && !v) v = json_object_get(o, azKey[3]);
        if (csvOut) cell_json(f, 0, v);
        else {
            fputs(k == 2 ? "<td class=\"n\">" : "<td>", f);
            esc_json(f, v);
            fputs("</td>", f);
        }
    }
    if (csvOut) {
        cell(f, 0, zWhy);
        fputs("\r\n", f);
    } else {
        fputs("<td>", f);
        esc(f, zWhy);
        fputs("</td></tr>", f);
    }
}

static void acceptance_csv(FILE *f, const json_t *r)
{
    static const char *const azHead[] = {"检查项", "结论", "数量"};
    row(f, azHead, 3);
    size_t i;
    json_t *c;
    char z[32];
    json_array_foreach(json_object_get(r, "checks"), i, c) {
        int fail = strcmp(json_string_value(json_object_get(c, "severity")), "fail") == 0;
        json_int_t n = json_integer_value(json_object_get(c, "count"));
        cell_json(f, 1, json_object_get(c, "title"));
        cell(f, 0, n == 0 ? "通过" : fail ? "不通过" : "提示");
        snprintf(z, sizeof z, "%lld", (long long)n);
        cell_num(f, 0, z);
        fputs("\r\n", f);
    }
    fputs("\r\n", f);
    static const char *const azItem[] = {"检查项", "档号", "文件", "页", "说明"};
    row(f, azItem, 5);
    json_array_foreach(json_object_get(r, "checks"), i, c) {
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(c, "items"), k, o) {
            cell_json(f, 1, json_object_get(c, "title"));
            acceptance_item(f, 1, o);
        }
    }
}

static int is_fulltext(const json_t *t)
{
    const char *z = json_string_value(json_object_get(t, "kind"));
    return z && strcmp(z, "fulltext") == 0;
}

/* Whether a timed-test run scores: a run by an evaluator on a draw
 * ("scored"), practice by another role, or kept before draws existed. */
static const char *run_mode_cn(const json_t *run)
{
    const char *z = json_string_value(json_object_get(run, "mode"));
    return !z ? "未核实（不计分）" : strcmp(z, "scored") == 0 ? "计分" : strcmp(z, "practice") == 0 ? "练习（不计分）"
                                                                                            : "未核实（不计分）";
}

static const char *timed_by_cn(const json_t *t)
{
    const char *z = json_string_value(json_object_get(t, "timed_by"));
    return !z ? "申报（未核实）" : strcmp(z, "indexd") == 0 ? "服务器计时" : "申报";
}

static void timed_csv(FILE *f, const json_t *r)
{
    static const char *const azHead[] = {"测试编号", "时间", "抽取编号", "评估人", "角色", "性质", "档号", "类别",
                                         "用时（秒）", "限时（秒）", "计时", "结果", "检索词", "存放位置"};
    row(f, azHead, 14);
    size_t i, k;
    json_t *run, *t;
    char z[64];
    json_array_foreach(json_object_get(r, "runs"), i, run) {
        const json_t *pSrv = json_object_get(run, "server");
        json_array_foreach(json_object_get(run, "trials"), k, t) {
            int full = is_fulltext(t);
            cell_json(f, 1, json_object_get(run, "id"));
            cell_json(f, 0, json_object_get(run, "at"));
            cell_json(f, 0, json_object_get(run, "draw"));
            cell_json(f, 0, json_object_get(run, "evaluator"));
            cell_json(f, 0, json_object_get(run, "role_cn"));
            cell(f, 0, run_mode_cn(run));
            cell_json(f, 0, json_object_get(t, "code"));
            cell(f, 0, full ? "全文检索" : "纸质调阅");
            snprintf(z, sizeof z, "%.2f", json_number_value(json_object_get(t, "seconds")));
            cell_num(f, 0, z);
            snprintf(z, sizeof z, "%.0f", json_number_value(json_object_get(t, "limit_seconds")));
            cell_num(f, 0, z);
            cell(f, 0, timed_by_cn(t));
            cell(f, 0, json_is_true(json_object_get(t, "passed")) ? "通过" : "未通过");
            cell_json(f, 0, full ? json_object_get(t, "phrase") : NULL);
            cell_json(f, 0, full ? NULL : json_object_get(t, "location"));
            fputs("\r\n", f);
        }
        cell_json(f, 1, json_object_get(run, "id"));
        cell_json(f, 0, json_object_get(run, "at"));
        cell_json(f, 0, json_object_get(run, "draw"));
        cell_json(f, 0, json_object_get(run, "evaluator"));
        cell_json(f, 0, json_object_get(run, "role_cn"));
        cell(f, 0, run_mode_cn(run));
        cell(f, 0, "得分");
        snprintf(z, sizeof z, "%lld", (long long)json_integer_value(json_object_get(run, "points")));
        cell_num(f, 0, z);
        cell(f, 0, "");
        cell(f, 0, "");
        cell(f, 0, "服务器观测");
        if (pSrv) {
            snprintf(z, sizeof z, "抽取至提交%.1f秒", json_number_value(json_object_get(pSrv, "elapsed_seconds")));
            cell(f, 0, z);
            cell_json(f, 0, json_object_get(pSrv, "drawn_at"));
            cell_json(f, 0, json_object_get(pSrv, "received_at"));
        } else {
            cell(f, 0, "无（未经抽取）");
        }
        fputs("\r\n", f);
    }
}

static const char *use_kind_cn(const char *z)
{
    return !z ? "" : strcmp(z, "text") == 0 ? "查阅全文" : strcmp(z, "image") == 0 ? "查看扫描件"
         : strcmp(z, "export") == 0 ? "导出" : z;
}

/* The use register, one line per entry. */
static void register_csv(FILE *f, const json_t *r)
{
    static const char *const azHead[] = {"序号", "时间", "利用者", "角色", "档号/导出", "题名", "利用方式", "页", "利用目的", "审批号"};
    row(f, azHead, 10);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(r, "entries"), i, e) {
        cell_json(f, 1, json_object_get(e, "seq"));
        cell_json(f, 0, json_object_get(e, "time"));
        cell_json(f, 0, json_object_get(e, "user"));
        cell_json(f, 0, json_object_get(e, "role"));
        cell_json(f, 0, json_object_get(e, "code"));
        cell_json(f, 0, json_object_get(e, "title"));
        cell(f, 0, use_kind_cn(json_string_value(json_object_get(e, "kind"))));
        cell_json(f, 0, json_object_get(e, "page"));
        cell_json(f, 0, json_object_get(e, "purpose"));
        cell_json(f, 0, json_object_get(e, "approval"));
        fputs("\r\n", f);
    }
}

static int to_gb18030(char **pz, size_t *pn)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    if (cd == (iconv_t)-1) return PS_INTERNAL;
    /* one byte more for a NUL, as the UTF-8 form has */
    size_t nOut = *pn * 2 + 16, nLeft = nOut, nIn = *pn;
    char *zOut = malloc(nOut + 1), *pIn = *pz, *pOut = zOut;
    if (!zOut) {
        iconv_close(cd);
        return PS_NOMEM;
    }
    size_t r = iconv(cd, &pIn, &nIn, &pOut, &nLeft);
    iconv_close(cd);
    if (r == (size_t)-1) {
        free(zOut);
        return errno == E2BIG ? PS_NOMEM : PS_ENCODING;
    }
    free(*pz);
    *pz = zOut;
    *pn = nOut - nLeft;
    zOut[*pn] = 0;
    return PS_OK;
}

int idx_export_csv(idx_report_kind k, const json_t *pRep, int gb18030, char **pz, size_t *pn)
{
    char *z = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&z, &n);
    if (!f) return PS_NOMEM;
    csvNomem = 0;
    if (!gb18030) fputs("\xEF\xBB\xBF", f);
    if (k == IDX_REPORT_COVERAGE) coverage_csv(f, pRep);
    else if (k == IDX_REPORT_CATALOG) catalog_csv(f, pRep);
    else if (k == IDX_REPORT_ACCEPTANCE) acceptance_csv(f, pRep);
    else if (k == IDX_REPORT_TIMED) timed_csv(f, pRep);
    else if (k == IDX_REPORT_REGISTER) register_csv(f, pRep);
    else ledger_csv(f, pRep);
    if (fclose(f) != 0 || csvNomem) {
        free(z);
        return PS_NOMEM;
    }
    if (gb18030) {
        int rc = to_gb18030(&z, &n);
        if (rc != PS_OK) {
            free(z);
            return rc;
        }
    }
    *pz = z;
    *pn = n;
    return PS_OK;
}

/* ---- HTML ------------------------------------------------------------------- */

static void esc(FILE *f, const char *z)
{
    for (; z && *z; z++) {
        switch (*z) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*z, f);
        }
    }
}

static void esc_json(FILE *f, const json_t *v)
{
    if (json_is_string(v)) esc(f, json_string_value(v));
    else if (json_is_integer(v)) fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) fprintf(f, "%.4f", json_real_value(v));
}

/* One table row of o's values under azKey; columns from iNum on are numbers. */
static void html_row(FILE *f, const json_t *o, const char *const *azKey, int n, int iNum)
{
    fputs("<tr>", f);
    for (int k = 0; k < n; k++) {
        fputs(k >= iNum ? "<td class=\"n\">" : "<td>", f);
        esc_json(f, json_object_get(o, azKey[k]));
        fputs("</td>", f);
    }
    fputs("</tr>", f);
}

static const char zStyle[] =
    "<style>@page{size:A4;margin:15mm}body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;"
    "color:#111;margin:0 auto;max-width:190mm;font-size:11pt}h1{font-size:16pt;margin:0 0 4mm}"
    "h2{font-size:12pt;margin:6mm 0 2mm}table{border-collapse:collapse;width:100%;font-size:10pt}"
    "th,td{border:1px solid #999;padding:1mm 2mm;text-align:left}td.n{text-align:right}"
    "thead{display:table-header-group}tr{page-break-inside:avoid}.big{font-size:20pt;font-weight:bold}"
    ".meta{color:#444;font-size:9pt}svg{display:block;margin:2mm 0}"
    "@media print{a{color:inherit;text-decoration:none}}</style>";

static void head(FILE *f, const char *zTitle, const json_t *pRep)
{
    fprintf(f, "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    esc(f, zTitle);
    fprintf(f, "</title>%s</head><body><h1>", zStyle);
    esc(f, zTitle);
    fputs("</h1><p class=\"meta\">范围：", f);
    const json_t *pF = json_object_get(json_object_get(pRep, "scope"), "fonds");
    if (json_is_string(pF)) {
        fputs("全宗 ", f);
        esc(f, json_string_value(pF));
    } else {
        fputs("全部全宗", f);
    }
    fputs("</p>", f);
}

/* Horizontal bars of rate (0..1) per group, with a line at 60%. */
static void bars(FILE *f, const json_t *a, const char *zTitle)
{
    size_t n = json_array_size(a);
    if (!n) return;
    int w = 640, rowH = 18, left = 120, barW = 440;
    int h = (int)n * rowH + 24;
    fprintf(f, "<h2>");
    esc(f, zTitle);
    fprintf(f, "</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" font-size=\"11\">", w, h, w, h);
    size_t i;
    json_t *o;
    json_array_foreach((json_t *)a, i, o) {
        double r = json_real_value(json_object_get(o, "rate"));
        int y = (int)i * rowH + 4;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 12);
        esc_json(f, json_object_get(o, "key"));
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#e5e5e5\"/>"
                   "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
                   "<text x=\"%d\" y=\"%d\">%.1f%%</text>",
                left, y, barW, rowH - 4, left, y, (int)(barW * (r > 1 ? 1 : r)), rowH - 4,
                r >= 0.6 ? "#2e7d32" : "#c62828", left + barW + 6, y + 12, r * 100);
    }
    int x60 = left + (int)(barW * 0.6);
    fprintf(f, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-dasharray=\"3,3\"/>"
               "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">60%%</text></svg>",
            x60, x60, h - 14, x60, h - 2);
}

/* Horizontal bars of counts: azLabel[i] with aValue[i], scaled to the
 * largest (or to max when given, with a dashed line at mark). */
static void count_bars(FILE *f, const char *zTitle, const char *const *azLabel, const double *aValue, size_t n,
                       double max, double mark, const char *zUnit)
{
    if (!n) return;
    int w = 640, rowH = 18, left = 200, barW = 340;
    int h = (int)n * rowH + (mark > 0 ? 24 : 8);
    double top = max;
    for (size_t i = 0; i < n; i++)
        if (aValue[i] > top) top = aValue[i];
    if (top <= 0) top = 1;
    fputs("<h2>", f);
    esc(f, zTitle);
    fprintf(f, "</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" font-size=\"11\">", w, h, w, h);
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * rowH + 4;
        int bw = (int)(barW * aValue[i] / top);
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 12);
        esc(f, azLabel[i]);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
                   "<text x=\"%d\" y=\"%d\">%g%s</text>",
                left, y, bw > 0 ? bw : 1, rowH - 4, mark > 0 && aValue[i] > mark ? "#c62828" : "#1565c0",
                left + bw + 6, y + 12, aValue[i], zUnit);
    }
    if (mark > 0) {
        int xm = left + (int)(barW * mark / top);
        fprintf(f, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-dasharray=\"3,3\"/>"
                   "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%g%s</text>", xm, xm, h - 14, xm, h - 2, mark, zUnit);
    }
    fputs("</svg>", f);
}

static void coverage_html(FILE *f, const json_t *r)
{
    head(f, "档案数字化率（纸质永久、30年）", r);
    double rate = json_real_value(json_object_get(r, "rate"));
    fprintf(f, "<p><span class=\"big\">%.2f%%</span>　已数字化 %lld / %lld 件，得分 %.2f / 2 分</p>", rate * 100,
            (long long)json_integer_value(json_object_get(r, "digitized")),
            (long long)json_integer_value(json_object_get(r, "total")),
            json_real_value(json_object_get(r, "points")));
    const json_t *pg = json_object_get(r, "pages");
    fprintf(f, "<p>页数：已扫描 %lld / %lld 页（%.2f%%）。10年期 %lld 件、非纸质 %lld 件不计入；未填载体 %lld 件按纸质计。</p>",
            (long long)json_integer_value(json_object_get(pg, "scanned")),
            (long long)json_integer_value(json_object_get(pg, "total")),
            json_real_value(json_object_get(pg, "rate")) * 100,
            (long long)json_integer_value(json_object_get(json_object_get(r, "excluded"), "d10")),
            (long long)json_integer_value(json_object_get(json_object_get(r, "excluded"), "not_paper")),
            (long long)json_integer_value(json_object_get(r, "carrier_unknown")));
    bars(f, json_object_get(r, "by_fonds"), "按全宗");
    bars(f, json_object_get(r, "by_category"), "按门类");
    bars(f, json_object_get(r, "by_year"), "按年度");
    json_int_t nHidden = json_integer_value(json_object_get(r, "missing_hidden"));
    fprintf(f, "<h2>待数字化（%lld 件）</h2><table><thead><tr><th>档号</th><th>题名</th><th>存放位置</th>"
               "<th>页数</th><th>已扫描</th></tr></thead><tbody>",
            (long long)(json_integer_value(json_object_get(r, "missing_total")) + nHidden));
    size_t i;
    json_t *o;
    static const char *const azMiss[] = {"code", "title", "location", "pages", "scanned"};
    json_array_foreach(json_object_get(r, "missing"), i, o) html_row(f, o, azMiss, 5, 3);
    fputs("</tbody></table>", f);
    if ((json_int_t)json_array_size(json_object_get(r, "missing")) < json_integer_value(json_object_get(r, "missing_total")))
        fprintf(f, "<p class=\"meta\">仅列出前 %zu 件；完整清单请导出 CSV。</p>", json_array_size(json_object_get(r, "missing")));
    if (nHidden > 0) {
        fputs("<p class=\"meta\">", f);
        fprintf(f, IDX_EXPORT_HIDDEN_NOTE, (long long)nHidden);
        fputs("</p>", f);
    }
    fputs("</body></html>\n", f);
}

static void ledger_html(FILE *f, const json_t *r)
{
    static const char *const azKey[] = {"fonds", "category", "year", "retention", "items", "pages",
                                        "digitized_items", "scanned_pages"};
    head(f, "精准扶贫档案统计台账", r);
    {
        /* items per 年度, all 全宗 and 门类 of the scope */
        const char *azY[64];
        double aN[64];
        char azBuf[64][8];
        size_t nY = 0, j;
        json_t *g;
        json_array_foreach(json_object_get(r, "rows"), j, g) {
            char zY[8];
            snprintf(zY, sizeof zY, "%lld", (long long)json_integer_value(json_object_get(g, "year")));
            size_t k = 0;
            while (k < nY && strcmp(azY[k], zY) != 0) k++;
            if (k == nY && nY < 64) {
                snprintf(azBuf[nY], sizeof azBuf[nY], "%s", zY);
                azY[nY] = azBuf[nY];
                aN[nY++] = 0;
            }
            if (k < nY) aN[k] += (double)json_integer_value(json_object_get(g, "items"));
        }
        count_bars(f, "按年度件数", azY, aN, nY, 0, 0, "");
    }
    fputs("<table><thead><tr><th>全宗号</th><th>门类</th><th>年度</th><th>保管期限</th><th>件数</th><th>页数</th>"
          "<th>已数字化件数</th><th>已扫描页数</th></tr></thead><tbody>", f);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "rows"), i, o) html_row(f, o, azKey, 8, 4);
    const json_t *t = json_object_get(r, "totals");
    fputs("<tr><th colspan=\"4\">合计</th>", f);
    for (int k = 4; k < 8; k++) {
        fputs("<td class=\"n\">", f);
        esc_json(f, json_object_get(t, azKey[k]));
        fputs("</td>", f);
    }
    fputs("</tr></tbody></table></body></html>\n", f);
}

static void catalog_html(FILE *f, const json_t *r)
{
    head(f, "文件级目录检查", r);
    fprintf(f, "<p><span class=\"big\">%.2f%%</span>　录入率（必填项完整 %lld / %lld 条），"
               "不规范 %lld 处，警告 %lld 处，得分 %.2f / 5 分</p>",
            json_real_value(json_object_get(r, "entry_rate")) * 100,
            (long long)json_integer_value(json_object_get(r, "complete")),
            (long long)json_integer_value(json_object_get(r, "rows")),
            (long long)json_integer_value(json_object_get(r, "errors")),
            (long long)json_integer_value(json_object_get(r, "warnings")),
            json_real_value(json_object_get(r, "score")));
    {
        const char *azR[16];
        double aN[16];
        size_t nR = 0, j;
        json_t *x;
        json_array_foreach(json_object_get(r, "irregular"), j, x) {
            const char *zR = proto_rule_cn(json_string_value(json_object_get(x, "rule")));
            size_t k = 0;
            while (k < nR && strcmp(azR[k], zR) != 0) k++;
            if (k == nR && nR < 16) {
                azR[nR] = zR;
                aN[nR++] = 0;
            }
            if (k < nR) aN[k] += 1;
        }
        count_bars(f, "按规则", azR, aN, nR, 0, 0, "");
    }
    fputs("<p class=\"meta\">必填项：档号、题名、责任者、日期、页数、保管期限。每处不规范扣0.2分。</p>"
          "<table><thead><tr><th>目录文件</th><th>行</th><th>档号</th><th>规则</th><th>字段</th><th>说明</th>"
          "<th>严重程度</th></tr></thead><tbody>", f);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(r, "irregular"), i, o) {
        /* the rule and the severity in Chinese, the rest as they are */
        json_t *v = json_pack("{s:O,s:O,s:O,s:s,s:O,s:O,s:s}", "file", json_object_get(o, "file"),
                              "line", json_object_get(o, "line"), "code", json_object_get(o, "code"),
                              "rule", proto_rule_cn(json_string_value(json_object_get(o, "rule"))),
                              "field", json_object_get(o, "field"), "reason", json_object_get(o, "reason"),
                              "severity", strcmp(json_string_value(json_object_get(o, "severity")), "warning") == 0 ? "警告" : "不规范");
        static const char *const azIrr[] = {"file", "line", "code", "rule", "field", "reason", "severity"};
        if (v) html_row(f, v, azIrr, 7, 7);
        json_decref(v);
    }
    fputs("</tbody></table>", f);
    if ((json_int_t)json_array_size(json_object_get(r, "irregular")) < json_integer_value(json_object_get(r, "irregular_total")))
        fprintf(f, "<p class=\"meta\">仅列出前 %zu 处；完整清单请导出 CSV。</p>", json_array_size(json_object_get(r, "irregular")));
    fputs("</body></html>\n", f);
}

static void acceptance_html(FILE *f, const json_t *r)
{
    head(f, "数字化成果验收报告（DA/T 31）", r);
    fputs("<p>批次：", f);
    esc_json(f, json_object_get(r, "delivery"));
    fputs("　接收时间：", f);
    esc_json(f, json_object_get(r, "received_at"));
    const json_t *s = json_object_get(r, "scans");
    fprintf(f, "　文件 %lld 个，页 %lld</p><p><span class=\"big\">%s</span></p>",
            (long long)json_integer_value(json_object_get(s, "files")), (long long)json_integer_value(json_object_get(s, "pages")),
            json_is_true(json_object_get(r, "passed")) ? "验收通过" : "验收不通过");
    size_t i;
    json_t *c;
    {
        const char *azT[16];
        double aN[16];
        size_t nT = 0;
        json_array_foreach(json_object_get(r, "checks"), i, c) {
            if (nT < 16) {
                azT[nT] = json_string_value(json_object_get(c, "title"));
                aN[nT++] = (double)json_integer_value(json_object_get(c, "count"));
            }
        }
        count_bars(f, "问题数量", azT, aN, nT, 0, 0, "");
    }
    fputs("<table><thead><tr><th>检查项</th><th>结论</th><th>数量</th></tr></thead><tbody>", f);
    json_array_foreach(json_object_get(r, "checks"), i, c) {
        int fail = strcmp(json_string_value(json_object_get(c, "severity")), "fail") == 0;
        json_int_t n = json_integer_value(json_object_get(c, "count"));
        fputs("<tr><td>", f);
        esc_json(f, json_object_get(c, "title"));
        fprintf(f, "</td><td>%s</td><td class=\"n\">%lld</td></tr>", n == 0 ? "通过" : fail ? "不通过" : "提示", (long long)n);
    }
    fputs("</tbody></table>", f);
    json_array_foreach(json_object_get(r, "checks"), i, c) {
        if (!json_array_size(json_object_get(c, "items"))) continue;
        fputs("<h2>", f);
        esc_json(f, json_object_get(c, "title"));
        fputs("</h2><table><thead><tr><th>档号</th><th>文件</th><th>页</th><th>说明</th></tr></thead><tbody>", f);
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(c, "items"), k, o) {
            fputs("<tr>", f);
            acceptance_item(f, 0, o);
        }
        fputs("</tbody></table>", f);
    }
    fputs("</body></html>\n", f);
}

static void timed_html(FILE *f, const json_t *r)
{
    head(f, "档案利用时效测试记录", r);
    fputs("<p class=\"meta\">全文检索1分钟内检出、纸质档案3分钟内调出，全部通过得3分，否则0分。只有评估员（评估员角色的用户）"
          "对本系统抽取的档案所做的测试计分，以最近一次为准；档案员等其他角色的测试为练习，不计分。"
          "“服务器计时”的用时由检索服务器从开始到结束计得；“申报”的用时由测试者填报，服务器只核对其总和不超过抽取至提交的时间。</p>", f);
    const json_t *pPoints = json_object_get(r, "points");
    fputs("<p class=\"big\">本项得分：", f);
    if (json_is_integer(pPoints)) fprintf(f, "%lld / 3", (long long)json_integer_value(pPoints));
    else fputs("尚无计分测试", f);
    fputs("</p>", f);
    {
        const json_t *pRuns = json_object_get(r, "runs");
        const json_t *pLast = json_array_get(pRuns, json_array_size(pRuns) ? json_array_size(pRuns) - 1 : 0);
        const char *azL[64];
        char azBuf[64][160];
        double aS[64];
        size_t nT = 0, j;
        json_t *t;
        json_array_foreach(json_object_get(pLast, "trials"), j, t) {
            if (nT >= 64) break;
            snprintf(azBuf[nT], sizeof azBuf[nT], "%s %s", is_fulltext(t) ? "检索" : "调阅",
                     json_string_value(json_object_get(t, "code")) ? json_string_value(json_object_get(t, "code")) : "");
            azL[nT] = azBuf[nT];
            aS[nT++] = round(json_number_value(json_object_get(t, "seconds")) * 10) / 10;
        }
        count_bars(f, "最近一次测试用时（秒，虚线为3分钟）", azL, aS, nT, 180, 180, "秒");
    }
    size_t i, k;
    json_t *run, *t;
    json_array_foreach(json_object_get(r, "runs"), i, run) {
        const json_t *pSrv = json_object_get(run, "server");
        fputs("<h2>", f);
        esc_json(f, json_object_get(run, "at"));
        fputs("　评估人：", f);
        esc_json(f, json_object_get(run, "evaluator"));
        if (json_is_string(json_object_get(run, "role_cn"))) {
            fputs("（", f);
            esc_json(f, json_object_get(run, "role_cn"));
            fputs("）", f);
        }
        fprintf(f, "　%s　得分：%lld</h2><p class=\"meta\">", run_mode_cn(run),
                (long long)json_integer_value(json_object_get(run, "points")));
        if (pSrv) {
            fputs("抽取编号 ", f);
            esc_json(f, json_object_get(run, "draw"));
            fputs("；服务器时钟：抽取于 ", f);
            esc_json(f, json_object_get(pSrv, "drawn_at"));
            fputs("，提交于 ", f);
            esc_json(f, json_object_get(pSrv, "received_at"));
            fprintf(f, "，其间 %.1f 秒；各项用时合计 %.1f 秒", json_number_value(json_object_get(pSrv, "elapsed_seconds")),
                    json_number_value(json_object_get(pSrv, "trial_seconds")));
        } else {
            fputs("未经服务器抽取，用时为自行填报，未核实", f);
        }
        if (json_is_string(json_object_get(run, "note")) && json_string_length(json_object_get(run, "note"))) {
            fputs("；备注：", f);
            esc_json(f, json_object_get(run, "note"));
        }
        if (json_array_size(json_object_get(run, "untested"))) {
            fputs("；抽取而未测试：", f);
            json_t *c;
            json_array_foreach(json_object_get(run, "untested"), k, c) {
                if (k) fputs("、", f);
                esc_json(f, c);
            }
        }
        fputs("</p><table><thead><tr><th>档号</th><th>类别</th><th>用时（秒）</th><th>计时</th><th>结果</th>"
              "<th>检索词 / 存放位置</th></tr></thead><tbody>", f);
        json_array_foreach(json_object_get(run, "trials"), k, t) {
            int full = is_fulltext(t);
            fputs("<tr><td>", f);
            esc_json(f, json_object_get(t, "code"));
            fprintf(f, "</td><td>%s</td><td class=\"n\">%.2f</td><td>%s</td><td>%s%s</td><td>", full ? "全文检索" : "纸质调阅",
                    json_number_value(json_object_get(t, "seconds")), timed_by_cn(t),
                    json_is_true(json_object_get(t, "passed")) ? "通过" : "未通过",
                    json_is_true(json_object_get(t, "unfinished")) ? "（未完成）" : "");
            esc_json(f, json_object_get(t, full ? "phrase" : "location"));
            fputs("</td></tr>", f);
        }
        fputs("</tbody></table>", f);
    }
    fputs("</body></html>\n", f);
}

/* One row of the printable register: the entries of one user, record, day
 * and purpose. */
typedef struct {
    size_t iFirst;      /* the entry that opens it */
    int text, image, exported;
    char *zPages;       /* pages in the order first seen, "、" between them */
    size_t nPages, nLen, nAlloc;
} reg_group;

#define REG_PAGES_MAX 512 /* bytes of a row's page list (with its NUL); later pages are left out */

/* Add page pg to g's list unless it is there already; PS_OK or PS_NOMEM. */
static int group_page(reg_group *g, json_int_t pg)
{
    char zOne[24];
    int nOne = snprintf(zOne, sizeof zOne, "%lld", (long long)pg);
    for (const char *s = g->zPages; s && *s;) {
        size_t k = strcspn(s, "、");
        if (k == (size_t)nOne && strncmp(s, zOne, k) == 0) return PS_OK;
        s += k;
        if (*s) s += strlen("、");
    }
    size_t nSep = g->nPages ? strlen("、") : 0;
    if (g->nLen + (size_t)nOne + 4 >= REG_PAGES_MAX) return PS_OK; /* the cell is full */
    if (g->nLen + nSep + (size_t)nOne + 1 > g->nAlloc) {
        size_t nNew = g->nAlloc ? g->nAlloc * 2 : 32;
        char *z = px_realloc(g->zPages, nNew);
        if (!z) return PS_NOMEM;
        g->zPages = z;
        g->nAlloc = nNew;
    }
    g->nLen += (size_t)snprintf(g->zPages + g->nLen, g->nAlloc - g->nLen, "%s%s", nSep ? "、" : "", zOne);
    g->nPages++;
    return PS_OK;
}

/* The printable 利用登记簿: one row per user, record, day and purpose (the
 * pages seen listed in it), with blank columns for the effect of the use
 * and a signature, as on the paper register.  Rows are found through a hash
 * map (jansson's object) keyed by the four, so a long register prints in
 * linear time; the first IDX_EXPORT_HTML_ROWS rows are printed, the CSV
 * export gives every entry.  PS_OK or PS_NOMEM. */
static int register_html(FILE *f, const json_t *r)
{
    const json_t *a = json_object_get(r, "entries");
    size_t n = json_array_size(a), nGroup = 0;
    reg_group *aGroup = px_calloc(n ? n : 1, sizeof *aGroup);
    json_t *pIndex = json_object(); /* key -> group number */
    char *zKey = NULL;
    size_t nKeyAlloc = 0;
    int rc = PS_NOMEM;
    if (!aGroup || !pIndex) goto out;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(a, i);
        const char *zUser = json_string_value(json_object_get(e, "user"));
        const char *zCode = json_string_value(json_object_get(e, "code"));
        const char *zTime = json_string_value(json_object_get(e, "time"));
        const char *zPurpose = json_string_value(json_object_get(e, "purpose"));
        if (!zUser || !zCode || !zTime) {
            /* an entry lacking one of the keys stands alone, as it always did */
            aGroup[nGroup++].iFirst = i;
            continue;
        }
        if (!zPurpose) zPurpose = "";
        /* user, code, day, purpose with NULs between: no two differ only in
         * where one ends */
        size_t nU = strlen(zUser), nC = strlen(zCode), nD = strnlen(zTime, 10), nP = strlen(zPurpose);
        size_t nKey = nU + nC + nD + nP + 3;
        if (nKey > nKeyAlloc) {
            char *z = px_realloc(zKey, nKey);
            if (!z) goto out;
            zKey = z;
            nKeyAlloc = nKey;
        }
        char *w = zKey;
        memcpy(w, zUser, nU + 1);
        w += nU + 1;
        memcpy(w, zCode, nC + 1);
        w += nC + 1;
        memcpy(w, zTime, nD);
        w[nD] = 0;
        w += nD + 1;
        memcpy(w, zPurpose, nP);
        reg_group *g;
        json_t *pNo = json_object_getn(pIndex, zKey, nKey);
        if (pNo) {
            g = &aGroup[json_integer_value(pNo)];
        } else {
            if (json_object_setn_new_nocheck(pIndex, zKey, nKey, json_integer((json_int_t)nGroup)) != 0) goto out;
            g = &aGroup[nGroup++];
            g->iFirst = i;
        }
        const char *zK = json_string_value(json_object_get(e, "kind"));
        g->text |= zK && strcmp(zK, "text") == 0;
        g->image |= zK && strcmp(zK, "image") == 0;
        g->exported |= zK && strcmp(zK, "export") == 0;
        json_int_t pg = json_integer_value(json_object_get(e, "page"));
        if (pg && group_page(g, pg) != PS_OK) goto out;
    }

    fprintf(f, "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>档案利用登记簿</title>%s"
               "<style>@page{size:A4 landscape;margin:12mm}body{max-width:none}td.w{width:22mm}</style></head><body>"
               "<h1>档案利用登记簿</h1>", zStyle);
    fputs("<table><thead><tr><th>序号</th><th>日期</th><th>利用者</th><th>档号</th><th>题名</th><th>利用方式</th>"
          "<th>页次</th><th>利用目的</th><th>审批号</th><th class=\"w\">利用效果</th><th class=\"w\">签字</th></tr></thead><tbody>", f);
    size_t nShown = nGroup < IDX_EXPORT_HTML_ROWS ? nGroup : IDX_EXPORT_HTML_ROWS;
    for (size_t k = 0; k < nShown; k++) {
        const reg_group *g = &aGroup[k];
        const json_t *e = json_array_get(a, g->iFirst);
        const char *zTime = json_string_value(json_object_get(e, "time"));
        fprintf(f, "<tr><td class=\"n\">%zu</td><td>", k + 1);
        fprintf(f, "%.10s</td><td>", zTime ? zTime : "");
        esc(f, json_string_value(json_object_get(e, "user")));
        fputs("</td><td>", f);
        esc(f, json_string_value(json_object_get(e, "code")));
        fputs("</td><td>", f);
        esc_json(f, json_object_get(e, "title"));
        fputs("</td><td>", f);
        fprintf(f, "%s%s%s%s%s", g->text ? "查阅全文" : "", g->text && g->image ? "、" : "", g->image ? "查看扫描件" : "",
                (g->text || g->image) && g->exported ? "、" : "", g->exported ? "导出" : "");
        fprintf(f, "</td><td>%s</td><td>", g->zPages ? g->zPages : "");
        esc(f, json_string_value(json_object_get(e, "purpose")));
        fputs("</td><td>", f);
        esc_json(f, json_object_get(e, "approval"));
        fputs("</td><td></td><td></td></tr>", f);
    }
    fprintf(f, "</tbody></table><p class=\"meta\">共 %zu 条登记（%zu 次查阅或导出）。</p>", nGroup, n);
    if (nShown < nGroup)
        fprintf(f, "<p class=\"meta\">仅列出前 %zu 条登记，另有 %zu 条未列出；导出 CSV 可得每一次查阅或导出。</p>", nShown,
                nGroup - nShown);
    fputs("</body></html>\n", f);
    rc = PS_OK;
out:
    for (size_t k = 0; aGroup && k < nGroup; k++) px_free(aGroup[k].zPages);
    px_free(aGroup);
    px_free(zKey);
    json_decref(pIndex);
    return rc;
}

int idx_export_html(idx_report_kind k, const json_t *pRep, char **pz, size_t *pn)
{
    char *z = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&z, &n);
    if (!f) return PS_NOMEM;
    int rc = PS_OK;
    if (k == IDX_REPORT_COVERAGE) coverage_html(f, pRep);
    else if (k == IDX_REPORT_CATALOG) catalog_html(f, pRep);
    else if (k == IDX_REPORT_ACCEPTANCE) acceptance_html(f, pRep);
    else if (k == IDX_REPORT_TIMED) timed_html(f, pRep);
    else if (k == IDX_REPORT_REGISTER) rc = register_html(f, pRep);
    else ledger_html(f, pRep);
    if (fclose(f) != 0 || rc != PS_OK) {
        free(z);
        return PS_NOMEM;
    }
    *pz = z;
    *pn = n;
    return PS_OK;
}
