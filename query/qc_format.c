/* Human-readable answers: search hits, records with the store-location
 * banner, import reports, pages. */
#include "qc_format.h"
#include "proto_alloc.h"
#include "proto_record.h"
#include "proto_status.h"
#include "qc_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIT_LABEL_COLS 10    /* "存放位置" and two spaces */
#define RECORD_LABEL_COLS 14 /* "机构（问题）" and two spaces */

static const char zNone[] = "—";
static const char zNoLocation[] = "（未登记）";

/* The string at key k of o, or NULL (absent, null or not a string). */
static const char *str_at(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The number at key k of o as an integer, or dflt. */
static long long int_at(const json_t *o, const char *k, long long dflt)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return (long long)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18)
        return (long long)json_real_value(v);
    return dflt;
}

static void add_clean(qc_buf *b, const char *z)
{
    if (z) qc_text_add_clean(b, z, strlen(z), QC_TEXT_ONE_LINE);
}

/* "题名      " */
static void add_label(qc_buf *b, const char *zIndent, const char *zLabel, size_t nCols)
{
    qc_buf_adds(b, zIndent);
    qc_text_add_padded(b, zLabel, nCols);
}

/* Any JSON value on one line: strings cleaned, numbers as numbers, arrays
 * joined with ", ", objects as compact JSON, null or absent as "—". */
static void add_value(qc_buf *b, const json_t *v)
{
    if (!v || json_is_null(v)) {
        qc_buf_adds(b, zNone);
    } else if (json_is_string(v)) {
        if (json_string_length(v) == 0) qc_buf_adds(b, zNone);
        else qc_text_add_clean(b, json_string_value(v), json_string_length(v), QC_TEXT_ONE_LINE);
    } else if (json_is_integer(v)) {
        qc_buf_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        qc_buf_addf(b, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        qc_buf_adds(b, json_is_true(v) ? "是" : "否");
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        const json_t *x;
        json_array_foreach(v, i, x) {
            if (i) qc_buf_adds(b, ", ");
            if (json_is_array(x) || json_is_object(x)) qc_buf_adds(b, "…");
            else add_value(b, x);
        }
    } else if (json_is_array(v)) {
        qc_buf_adds(b, zNone);
    } else {
        char *z = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!z) {
            b->rc = PS_NOMEM;
            return;
        }
        add_clean(b, z);
        px_free(z);
    }
}

static int cmp_long(const void *x, const void *y)
{
    long long a = *(const long long *)x, c = *(const long long *)y;
    return a < c ? -1 : a > c;
}

/* Page numbers as ranges: "1-3, 5".  Entries that are not numbers are
 * skipped; "—" when none is left. */
static void add_page_list(qc_buf *b, const json_t *a)
{
    size_t n = json_array_size(a), m = 0;
    long long *aN = n ? px_malloc(n * sizeof *aN) : NULL;
    if (n && !aN) {
        b->rc = PS_NOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (json_is_integer(json_array_get(a, i))) aN[m++] = (long long)json_integer_value(json_array_get(a, i));
    qsort(aN, m, sizeof *aN, cmp_long);
    if (m == 0) qc_buf_adds(b, zNone);
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j + 1 < m && aN[j + 1] <= aN[j] + 1) j++;
        qc_buf_addf(b, "%s%lld", i ? ", " : "", aN[i]);
        if (aN[j] != aN[i]) qc_buf_addf(b, "%s%lld", aN[j] == aN[i] + 1 ? ", " : "-", aN[j]);
        i = j + 1;
    }
    px_free(aN);
}

/* ---- search --------------------------------------------------------- */

static void add_ms(qc_buf *b, double ms)
{
    if (ms < 1) qc_buf_addf(b, "%.2f", ms);
    else if (ms < 10) qc_buf_addf(b, "%.1f", ms);
    else qc_buf_addf(b, "%.0f", ms);
}

typedef struct {
    const char *zKey;
    long long n;
} facet_val;

static int year_order(const void *x, const void *y)
{
    return strcmp(((const facet_val *)x)->zKey, ((const facet_val *)y)->zKey);
}

static int count_order(const void *x, const void *y)
{
    const facet_val *a = x, *c = y;
    if (a->n != c->n) return a->n > c->n ? -1 : 1;
    return strcmp(a->zKey, c->zKey);
}

/* "年度: 2017 (12), 2018 (3)"; nothing for an empty facet. */
static void add_facet(qc_buf *b, const char *zLabel, const char *zName, const json_t *o)
{
    size_t n = json_object_size(o), m = 0;
    const char *zKey;
    json_t *v;
    if (!json_is_object(o) || n == 0) return;
    facet_val *a = px_malloc(n * sizeof *a);
    if (!a) {
        b->rc = PS_NOMEM;
        return;
    }
    json_object_foreach((json_t *)o, zKey, v) {
        a[m].zKey = zKey;
        a[m++].n = int_at(o, zKey, 0);
    }
    qsort(a, m, sizeof *a, strcmp(zName, "year") == 0 ? year_order : count_order);
    add_clean(b, zLabel);
    qc_buf_adds(b, ":");
    for (size_t i = 0; i < m && i < QC_FACET_SHOW; i++) {
        qc_buf_adds(b, i ? ", " : " ");
        add_clean(b, a[i].zKey);
        qc_buf_addf(b, " (%lld)", a[i].n);
    }
    if (m > QC_FACET_SHOW) qc_buf_addf(b, ", … 另有 %zu 项", m - QC_FACET_SHOW);
    qc_buf_adds(b, "\n");
    px_free(a);
}

static void add_facets(qc_buf *b, const json_t *pAns)
{
    static const struct {
        const char *zName, *zLabel;
    } aFacet[] = {
        {"year", "年度"},         {"fonds", "全宗号"}, {"category", "门类"},
        {"retention", "保管期限"}, {"carrier", "载体"}, {"classification", "密级"},
        {"org", "机构（问题）"},
    };
    const json_t *pF = json_object_get(pAns, "facets");
    const char *zName;
    json_t *v;
    size_t nFacet = sizeof aFacet / sizeof aFacet[0];
    int any = 0;
    if (!json_is_object(pF)) return;
    json_object_foreach((json_t *)pF, zName, v) any |= json_object_size(v) > 0;
    if (!any) return;
    qc_buf_adds(b, "\n");
    for (size_t k = 0; k < nFacet; k++) add_facet(b, aFacet[k].zLabel, aFacet[k].zName, json_object_get(pF, aFacet[k].zName));
    json_object_foreach((json_t *)pF, zName, v) { /* facets this client does not know yet */
        size_t k = 0;
        while (k < nFacet && strcmp(aFacet[k].zName, zName) != 0) k++;
        if (k == nFacet) add_facet(b, zName, zName, v);
    }
    if (json_is_false(json_object_get(pAns, "facets_complete")))
        qc_buf_adds(b, "（以上计数只统计了前面一部分检索结果）\n");
}

static void add_hit(qc_buf *b, long long nr, const json_t *h, int markStyle)
{
    const char *zLoc = str_at(h, "location");
    const json_t *pPages = json_object_get(h, "pages");
    const char *zSnip = str_at(h, "snippet");
    const json_t *pTitle = json_object_get(h, "title");
    qc_buf_addf(b, "\n%3lld. ", nr);
    add_value(b, json_object_get(h, "code"));
    /* scans that no catalog row names yet: not a catalogued record */
    if (json_is_true(json_object_get(h, "unlinked"))) qc_buf_adds(b, "  【待挂接】");
    if (json_is_false(json_object_get(h, "exact"))) qc_buf_adds(b, "  （近似匹配：有一个字不同）");
    qc_buf_adds(b, "\n");
    add_label(b, "     ", "题名", HIT_LABEL_COLS);
    if (pTitle && !json_is_null(pTitle) && !(json_is_string(pTitle) && json_string_length(pTitle) == 0)) {
        add_value(b, pTitle);
    } else {
        /* no 题名 (a record waiting for its row has none): the 档号 stands in */
        add_value(b, json_object_get(h, "code"));
        qc_buf_adds(b, "（未著录题名）");
    }
    qc_buf_adds(b, "\n");
    add_label(b, "     ", "日期", HIT_LABEL_COLS);
    add_value(b, json_object_get(h, "date"));
    qc_buf_adds(b, "\n");
    add_label(b, "     ", "存放位置", HIT_LABEL_COLS);
    if (zLoc && *zLoc) add_clean(b, zLoc);
    else qc_buf_adds(b, zNoLocation);
    qc_buf_adds(b, "\n");
    add_label(b, "     ", "匹配页", HIT_LABEL_COLS);
    if (json_array_size(pPages) > 0) add_page_list(b, pPages);
    else qc_buf_adds(b, "（无：在著录项中检出）");
    qc_buf_adds(b, "\n");
    if (zSnip && *zSnip) {
        qc_buf_adds(b, "     ");
        qc_text_add_snippet(b, zSnip, strlen(zSnip), markStyle);
        qc_buf_adds(b, "\n");
    }
}

int qc_format_search(qc_buf *b, const json_t *pAns, int markStyle, char *zErr, size_t nErr)
{
    const json_t *pHits = json_object_get(pAns, "hits");
    const json_t *h;
    size_t i;
    if (!json_is_array(pHits)) return qc_invalid(zErr, nErr, "indexd 的检索应答中没有结果列表");
    long long total = int_at(pAns, "total", (long long)json_array_size(pHits));
    long long offset = int_at(pAns, "offset", 0), limit = int_at(pAns, "limit", 0);
    long long nHits = (long long)json_array_size(pHits);
    const json_t *pMs = json_object_get(pAns, "took_ms");
    qc_buf_addf(b, "%s %lld 件", json_is_false(json_object_get(pAns, "total_exact")) ? "约" : "共", total);
    if (json_is_number(pMs)) {
        qc_buf_adds(b, "，用时 ");
        add_ms(b, json_number_value(pMs));
        qc_buf_adds(b, " 毫秒");
    }
    qc_buf_adds(b, "\n");
    if (nHits > 0 && (offset > 0 || nHits < total)) {
        qc_buf_addf(b, "显示第 %lld-%lld 件", offset + 1, offset + nHits);
        if (offset + nHits < total && limit > 0) qc_buf_addf(b, "；下一页：--page %lld", offset / limit + 2);
        qc_buf_adds(b, "\n");
    } else if (nHits == 0 && total > 0) {
        qc_buf_addf(b, "第 %lld 件及以后没有结果\n", offset + 1);
    }
    json_array_foreach(pHits, i, h) {
        if (json_is_object(h)) add_hit(b, offset + (long long)i + 1, h, markStyle);
    }
    add_facets(b, pAns);
    return b->rc;
}

/* ---- record --------------------------------------------------------- */

int qc_format_banner(qc_buf *b, const char *zLabel, const char *zValue)
{
    qc_buf line;
    const char *z = zValue ? zValue : "";
    while (*z == ' ' || *z == '\t') z++;
    qc_buf_init(&line, 0);
    qc_buf_adds(&line, " ");
    add_clean(&line, zLabel);
    qc_buf_adds(&line, "  ");
    if (*z) add_clean(&line, z);
    else qc_buf_adds(&line, zNoLocation);
    qc_buf_adds(&line, " ");
    if (line.rc != PS_OK) {
        b->rc = line.rc;
    } else {
        size_t w = qc_text_width(line.z, line.n);
        qc_buf_adds(b, "┏");
        qc_buf_repeat(b, "━", w);
        qc_buf_adds(b, "┓\n┃");
        qc_buf_add(b, line.z, line.n);
        qc_buf_adds(b, "┃\n┗");
        qc_buf_repeat(b, "━", w);
        qc_buf_adds(b, "┛\n");
    }
    qc_buf_release(&line);
    return b->rc;
}

/* The parts of a record's answer that are not catalog fields: whether it
 * waits to be linked to a catalog row, what the caller may open, what its
 * catalog row held irregular, and what imports and edits changed. */
static void add_record_extras(qc_buf *b, const json_t *pAns)
{
    static const char *const azAp[][2] = {
        {"none", "未申请"}, {"pending", "待审批"}, {"approved", "已批准"}, {"denied", "未批准"}};
    size_t i;
    const json_t *x;
    if (json_is_true(json_object_get(pAns, "unlinked"))) {
        const json_t *pU = json_object_get(pAns, "unlinked_from");
        add_label(b, "", "挂接", RECORD_LABEL_COLS);
        qc_buf_adds(b, "待挂接：扫描件已读入");
        if (str_at(pU, "source")) {
            qc_buf_adds(b, "（");
            add_clean(b, str_at(pU, "source"));
            qc_buf_adds(b, "，");
            add_clean(b, str_at(pU, "at"));
            qc_buf_adds(b, "）");
        }
        qc_buf_adds(b, "，目录中尚无此档号的条目\n");
    }
    const json_t *pAcc = json_object_get(pAns, "access");
    if (json_is_object(pAcc)) {
        const json_t *pAp = json_object_get(pAcc, "approval");
        const char *zSt = str_at(pAp, "status");
        add_label(b, "", "查阅", RECORD_LABEL_COLS);
        if (json_is_true(json_object_get(pAp, "required"))) {
            const char *zCn = zSt ? zSt : "";
            for (size_t k = 0; zSt && k < sizeof azAp / sizeof azAp[0]; k++)
                if (strcmp(zSt, azAp[k][0]) == 0) zCn = azAp[k][1];
            qc_buf_addf(b, "页面须经管理员审批后查看（审批状态：%s）", zCn);
        } else {
            qc_buf_adds(b, json_is_true(json_object_get(pAcc, "text")) ? "可查看页面" : "当前账号无权查看页面");
        }
        qc_buf_adds(b, "\n");
    }
    json_array_foreach(json_object_get(pAns, "findings"), i, x) {
        add_label(b, "", i ? "" : "著录问题", RECORD_LABEL_COLS);
        long long line = int_at(x, "line", 0);
        if (line > 0) qc_buf_addf(b, "目录第 %lld 行 ", line);
        add_clean(b, str_at(x, "field"));
        qc_buf_adds(b, "【");
        qc_buf_adds(b, proto_rule_cn(str_at(x, "rule")));
        qc_buf_adds(b, "】");
        add_clean(b, str_at(x, "reason"));
        const char *zW = str_at(x, "written");
        if (zW && *zW) {
            qc_buf_adds(b, "（原著录“");
            add_clean(b, zW);
            qc_buf_adds(b, "”）");
        }
        qc_buf_adds(b, "\n");
    }
    json_array_foreach(json_object_get(pAns, "history"), i, x) {
        add_label(b, "", i ? "" : "修改记录", RECORD_LABEL_COLS);
        add_clean(b, str_at(x, "at"));
        qc_buf_adds(b, " ");
        add_clean(b, str_at(x, "source"));
        if (str_at(x, "by")) {
            qc_buf_adds(b, "（");
            add_clean(b, str_at(x, "by"));
            qc_buf_adds(b, "）");
        }
        if (json_is_true(json_object_get(x, "hidden"))) {
            qc_buf_adds(b, "：原著录的密级高于当前账号，内容不显示\n");
            continue;
        }
        size_t k;
        const json_t *c;
        json_array_foreach(json_object_get(x, "changed"), k, c) {
            qc_buf_adds(b, k ? "；" : "：");
            add_clean(b, str_at(c, "field"));
            qc_buf_adds(b, " “");
            add_value(b, json_object_get(c, "kept"));
            qc_buf_adds(b, "” → “");
            add_value(b, json_object_get(c, "offered"));
            qc_buf_adds(b, "”");
        }
        qc_buf_adds(b, "\n");
    }
}

int qc_format_record(qc_buf *b, const json_t *pAns, char *zErr, size_t nErr)
{
    static const proto_field aOrder[] = {
        PF_CODE,   PF_TITLE,  PF_AUTHOR,   PF_DOC_NO, PF_DATE, PF_PAGES,
        PF_CLASSIFICATION, PF_CARRIER, PF_RETENTION, PF_NOTE, PF_PARENT,
        PF_FONDS,  PF_CATEGORY, PF_YEAR, PF_ORG, PF_ITEM_NO,
    };
    static const char *const azRetention[][2] = {{"Y", "永久"}, {"D30", "30年"}, {"D10", "10年"}};
    const char *zKey;
    json_t *v;
    if (!json_is_object(pAns) || !str_at(pAns, "code"))
        return qc_invalid(zErr, nErr, "indexd 的应答不是一件档案（没有档号）");
    for (size_t k = 0; k < sizeof aOrder / sizeof aOrder[0]; k++) {
        const json_t *pVal = json_object_get(pAns, proto_field_key(aOrder[k]));
        add_label(b, "", proto_field_cn(aOrder[k]), RECORD_LABEL_COLS);
        add_value(b, pVal);
        for (size_t r = 0; aOrder[k] == PF_RETENTION && r < 3; r++)
            if (json_is_string(pVal) && strcmp(json_string_value(pVal), azRetention[r][0]) == 0)
                qc_buf_addf(b, " (%s)", azRetention[r][1]);
        qc_buf_adds(b, "\n");
    }
    /* what the caller may open, the catalog row's findings, the history */
    add_record_extras(b, pAns);
    /* Keys this client does not know yet, so that nothing stored is hidden. */
    json_object_foreach((json_t *)pAns, zKey, v) {
        int f = proto_field_lookup(zKey);
        if ((f >= 0 && strcmp(proto_field_key(f), zKey) == 0) || strcmp(zKey, "stored_pages") == 0 ||
            strcmp(zKey, "access") == 0 || strcmp(zKey, "findings") == 0 || strcmp(zKey, "history") == 0 ||
            strcmp(zKey, "unlinked") == 0 || strcmp(zKey, "unlinked_from") == 0)
            continue;
        add_label(b, "", zKey, RECORD_LABEL_COLS);
        add_value(b, v);
        qc_buf_adds(b, "\n");
    }
    const json_t *pStored = json_object_get(pAns, "stored_pages");
    add_label(b, "", "已录全文页", RECORD_LABEL_COLS);
    if (json_array_size(pStored) > 0) {
        add_page_list(b, pStored);
        qc_buf_addf(b, "（共 %zu 页）", json_array_size(pStored));
    } else {
        qc_buf_adds(b, "无");
    }
    qc_buf_adds(b, "\n\n");
    return qc_format_banner(b, proto_field_cn(PF_LOCATION), str_at(pAns, proto_field_key(PF_LOCATION)));
}

/* ---- import --------------------------------------------------------- */

#define IMPORT_LABEL_COLS 10 /* "著录问题" and two spaces */

/* "未导入    第 5 行：日期：reason" for each entry of the list; zMore names
 * what is left out ("行未导入，"). */
static void add_rows(qc_buf *b, const char *zWhat, const char *zMore, const json_t *pList, long long nCount)
{
    size_t i;
    const json_t *r;
    json_array_foreach(pList, i, r) {
        const char *zField = str_at(r, "field"), *zReason = str_at(r, "reason");
        long long line = int_at(r, "line", 0);
        if (!zField || !*zField) zField = str_at(r, "key");
        add_label(b, "", zWhat, IMPORT_LABEL_COLS);
        if (line > 0) qc_buf_addf(b, "第 %lld 行：", line);
        if (zField && *zField) {
            add_clean(b, zField);
            qc_buf_adds(b, "：");
        }
        add_clean(b, zReason ? zReason : "（未说明原因）");
        qc_buf_adds(b, "\n");
    }
    if (nCount > (long long)json_array_size(pList))
        qc_buf_addf(b, "… 另有 %lld %s未列出\n", nCount - (long long)json_array_size(pList), zMore);
}

int qc_format_import(qc_buf *b, const json_t *pAns, long long *pnRejected, char *zErr, size_t nErr)
{
    const json_t *pRej = json_object_get(pAns, "rejected"), *pWarn = json_object_get(pAns, "warnings");
    *pnRejected = 0;
    if (!json_is_integer(json_object_get(pAns, "imported")))
        return qc_invalid(zErr, nErr, "indexd 的导入应答没有说明导入了多少件档案");
    long long nRej = int_at(pAns, "rejected_count", (long long)json_array_size(pRej));
    long long nWarn = int_at(pAns, "warnings_count", (long long)json_array_size(pWarn));
    const char *zEnc = str_at(pAns, "encoding");
    if (nRej < (long long)json_array_size(pRej)) nRej = (long long)json_array_size(pRej);
    if (nWarn < (long long)json_array_size(pWarn)) nWarn = (long long)json_array_size(pWarn);
    *pnRejected = nRej;
    qc_buf_addf(b, "导入 %lld 件（其中替换 %lld 件", int_at(pAns, "imported", 0), int_at(pAns, "replaced", 0));
    if (int_at(pAns, "linked", 0) > 0) qc_buf_addf(b, "，挂接待挂接件 %lld 件", int_at(pAns, "linked", 0));
    qc_buf_addf(b, "），未导入 %lld 行，警告 %lld 条", nRej, nWarn);
    if (zEnc) {
        qc_buf_adds(b, "，编码 ");
        add_clean(b, zEnc);
    }
    qc_buf_adds(b, "\n");
    add_rows(b, "未导入", "行未导入，", pRej, nRej);
    add_rows(b, "警告", "条警告", pWarn, nWarn);
    const json_t *pFind = json_object_get(pAns, "findings"), *pConf = json_object_get(pAns, "conflicts");
    /* irregular entries apart from notes (read as the rules say: a 门类 by
     * its name, spaces trimmed), which are no irregularity */
    json_t *pIrr = json_array(), *pNotes = json_array();
    size_t j;
    const json_t *x;
    json_array_foreach(pFind, j, x) {
        const char *zSev = str_at(x, "severity");
        json_array_append((zSev && strcmp(zSev, "note") == 0) ? pNotes : pIrr, (json_t *)x);
    }
    long long nAll = int_at(pAns, "findings_count", (long long)json_array_size(pFind));
    add_rows(b, "著录问题", "条著录问题", pIrr, nAll - (long long)json_array_size(pNotes));
    add_rows(b, "说明", "条说明", pNotes, (long long)json_array_size(pNotes));
    json_decref(pIrr);
    json_decref(pNotes);
    /* a row that differs from the archive's: kept out, field by field */
    size_t i, k;
    const json_t *c, *f;
    json_array_foreach(pConf, i, c) {
        add_label(b, "", "冲突", IMPORT_LABEL_COLS);
        qc_buf_addf(b, "第 %lld 行：", int_at(c, "line", 0));
        add_clean(b, str_at(c, "code") ? str_at(c, "code") : "?");
        qc_buf_adds(b, " 保留档案中的著录（加 --replace 则以本行替换）：");
        json_array_foreach(json_object_get(c, "fields"), k, f) {
            char *zKept = json_dumps(json_object_get(f, "kept"), JSON_ENCODE_ANY);
            char *zOffered = json_dumps(json_object_get(f, "offered"), JSON_ENCODE_ANY);
            qc_buf_adds(b, " ");
            add_clean(b, str_at(f, "field") ? str_at(f, "field") : "?");
            qc_buf_adds(b, " ");
            add_clean(b, zKept ? zKept : "?");
            qc_buf_adds(b, " → ");
            add_clean(b, zOffered ? zOffered : "?");
            qc_buf_adds(b, "；");
            free(zKept);
            free(zOffered);
        }
        qc_buf_adds(b, "\n");
    }
    *pnRejected = nRej + int_at(pAns, "conflicts_count", (long long)json_array_size(pConf));
    return b->rc;
}

/* ---- pages and health ----------------------------------------------- */

int qc_format_page(qc_buf *b, const json_t *pAns, int tty, char *zErr, size_t nErr)
{
    const json_t *pText = json_object_get(pAns, "text");
    if (!json_is_string(pText)) return qc_invalid(zErr, nErr, "indexd 的应答中没有页面全文");
    const char *z = json_string_value(pText);
    size_t n = json_string_length(pText);
    if (!tty) return qc_buf_add(b, z, n);
    add_value(b, json_object_get(pAns, "code"));
    qc_buf_addf(b, "，第 %lld 页", int_at(pAns, "page", 0));
    const json_t *pConf = json_object_get(pAns, "confidence"), *pDpi = json_object_get(pAns, "dpi");
    if (json_is_number(pConf)) qc_buf_addf(b, "，识别可信度 %g", json_number_value(pConf));
    if (json_is_number(pDpi)) qc_buf_addf(b, "，%g dpi", json_number_value(pDpi));
    qc_buf_adds(b, "\n\n");
    if (n == 0) qc_buf_adds(b, "（本页全文为空）");
    qc_text_add_clean(b, z, n, QC_TEXT_KEEP_LINES);
    if (n == 0 || z[n - 1] != '\n') qc_buf_adds(b, "\n");
    return b->rc;
}

int qc_format_page_stored(qc_buf *b, const json_t *pAns, char *zErr, size_t nErr)
{
    if (!json_is_object(pAns) || !json_is_integer(json_object_get(pAns, "page")))
        return qc_invalid(zErr, nErr, "indexd 的应答没有说明录入的是哪一页");
    qc_buf_adds(b, "已录入 ");
    add_value(b, json_object_get(pAns, "code"));
    qc_buf_addf(b, " 第 %lld 页的全文", int_at(pAns, "page", 0));
    qc_buf_adds(b, json_is_true(json_object_get(pAns, "replaced")) ? "（替换了原有全文）\n" : "（新录入）\n");
    return b->rc;
}

int qc_format_health(qc_buf *b, const json_t *pAns, const char *zServer, char *zErr, size_t nErr)
{
    const char *zStatus = str_at(pAns, "status");
    if (!zStatus) return qc_invalid(zErr, nErr, "indexd 的运行状态应答中没有状态（status）");
    qc_buf_addf(b, "indexd（%s）：", zServer);
    add_clean(b, zStatus);
    if (json_is_integer(json_object_get(pAns, "records")))
        qc_buf_addf(b, "，档案 %lld 件", int_at(pAns, "records", 0));
    if (str_at(pAns, "version")) {
        qc_buf_adds(b, "，版本 ");
        add_clean(b, str_at(pAns, "version"));
    }
    qc_buf_adds(b, "\n");
    return b->rc;
}

static double real_at(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void add_groups(qc_buf *b, const char *zTitle, const json_t *a)
{
    size_t i;
    json_t *g;
    if (!json_array_size(a)) return;
    qc_buf_addf(b, "\n%s\n", zTitle);
    json_array_foreach((json_t *)a, i, g) {
        qc_buf_adds(b, "  ");
        add_clean(b, str_at(g, "key") ? str_at(g, "key") : "");
        qc_buf_addf(b, "  %lld / %lld  %.2f%%\n", int_at(g, "digitized", 0), int_at(g, "total", 0),
                    real_at(g, "rate") * 100);
    }
}

int qc_format_report(qc_buf *b, const char *zName, const json_t *pAns, char *zErr, size_t nErr)
{
    if (strcmp(zName, "coverage") == 0) {
        if (!json_is_integer(json_object_get(pAns, "total")))
            return qc_invalid(zErr, nErr, "indexd 的数字化率报告中没有总件数");
        const json_t *pg = json_object_get(pAns, "pages"), *ex = json_object_get(pAns, "excluded");
        qc_buf_addf(b, "数字化率（保管期限为永久、30年的纸质档案）：%.2f%%（已数字化 %lld / %lld 件）\n",
                    real_at(pAns, "rate") * 100, int_at(pAns, "digitized", 0), int_at(pAns, "total", 0));
        qc_buf_addf(b, "得分（第 22 项）：%.2f / 2 分\n", real_at(pAns, "points"));
        qc_buf_addf(b, "页数：已扫描 %lld / %lld 页（%.2f%%）\n", int_at(pg, "scanned", 0), int_at(pg, "total", 0),
                    real_at(pg, "rate") * 100);
        qc_buf_addf(b, "不计入：10年期 %lld 件、非纸质 %lld 件；未填载体按纸质计：%lld 件\n",
                    int_at(ex, "d10", 0), int_at(ex, "not_paper", 0), int_at(pAns, "carrier_unknown", 0));
        add_groups(b, "按全宗", json_object_get(pAns, "by_fonds"));
        add_groups(b, "按门类", json_object_get(pAns, "by_category"));
        add_groups(b, "按年度", json_object_get(pAns, "by_year"));
        long long nMissing = int_at(pAns, "missing_total", 0), nHidden = int_at(pAns, "missing_hidden", 0);
        qc_buf_addf(b, "\n待数字化：%lld 件\n", nMissing + nHidden);
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(pAns, "missing"), i, m) {
            qc_buf_adds(b, "  ");
            add_clean(b, str_at(m, "code") ? str_at(m, "code") : "");
            qc_buf_adds(b, "  ");
            add_clean(b, str_at(m, "location") ? str_at(m, "location") : zNone);
            qc_buf_addf(b, "  已扫描 %lld / %lld 页  ", int_at(m, "scanned", 0), int_at(m, "pages", 0));
            add_clean(b, str_at(m, "title") ? str_at(m, "title") : "");
            qc_buf_adds(b, "\n");
        }
        if ((long long)json_array_size(json_object_get(pAns, "missing")) < nMissing)
            qc_buf_adds(b, "  … 完整清单请用 --format csv 或 --format html\n");
        if (nHidden > 0) qc_buf_addf(b, "  （另有 %lld 件档案的密级高于您的查阅权限，未列出）\n", nHidden);
        return b->rc;
    }
    if (strcmp(zName, "acceptance") == 0) {
        size_t i;
        json_t *x;
        if (json_is_array(json_object_get(pAns, "deliveries"))) {
            json_array_foreach(json_object_get(pAns, "deliveries"), i, x) {
                add_clean(b, str_at(x, "name") ? str_at(x, "name") : "");
                qc_buf_addf(b, "  %s  文件 %lld 个，%lld 页  接收时间 ",
                            json_is_true(json_object_get(x, "passed")) ? "验收通过" : "验收不通过", int_at(x, "files", 0),
                            int_at(x, "pages", 0));
                add_clean(b, str_at(x, "received_at") ? str_at(x, "received_at") : zNone);
                qc_buf_adds(b, "\n");
            }
            if (!json_array_size(json_object_get(pAns, "deliveries"))) qc_buf_adds(b, "尚无交付批次（由 ingest 提交）\n");
            return b->rc;
        }
        if (!json_is_array(json_object_get(pAns, "checks")))
            return qc_invalid(zErr, nErr, "indexd 的验收报告中没有检查项");
        qc_buf_adds(b, "交付批次 ");
        add_clean(b, str_at(pAns, "delivery") ? str_at(pAns, "delivery") : "");
        qc_buf_addf(b, "：%s\n", json_is_true(json_object_get(pAns, "passed")) ? "验收通过" : "验收不通过");
        json_array_foreach(json_object_get(pAns, "checks"), i, x) {
            long long n = int_at(x, "count", 0);
            int fail = str_at(x, "severity") && strcmp(str_at(x, "severity"), "fail") == 0;
            add_label(b, "  ", n == 0 ? "通过" : fail ? "不通过" : "提示", 7);
            qc_buf_addf(b, "%6lld  ", n);
            add_clean(b, str_at(x, "title") ? str_at(x, "title") : "");
            qc_buf_adds(b, "\n");
        }
        return b->rc;
    }
    if (strcmp(zName, "register") == 0) {
        if (!json_is_array(json_object_get(pAns, "entries")))
            return qc_invalid(zErr, nErr, "indexd 的利用登记簿中没有登记条目");
        size_t i;
        json_t *x;
        long long nTotal = int_at(pAns, "total", 0);
        qc_buf_addf(b, "利用登记簿：共 %lld 条\n", nTotal);
        json_array_foreach(json_object_get(pAns, "entries"), i, x) {
            const char *zKind = str_at(x, "kind") ? str_at(x, "kind") : "";
            qc_buf_addf(b, "  %5lld  ", int_at(x, "seq", 0));
            add_clean(b, str_at(x, "time") ? str_at(x, "time") : "");
            qc_buf_adds(b, "  ");
            add_clean(b, str_at(x, "user") ? str_at(x, "user") : "");
            qc_buf_addf(b, "  %s  ", strcmp(zKind, "text") == 0 ? "全文" : strcmp(zKind, "image") == 0 ? "扫描件" : "导出");
            add_clean(b, str_at(x, "code") ? str_at(x, "code") : "");
            if (int_at(x, "page", 0)) qc_buf_addf(b, " 第 %lld 页", int_at(x, "page", 0));
            qc_buf_adds(b, "  ");
            add_clean(b, str_at(x, "purpose") ? str_at(x, "purpose") : "");
            if (int_at(x, "approval", 0)) qc_buf_addf(b, "  （审批第 %lld 号）", int_at(x, "approval", 0));
            qc_buf_adds(b, "\n");
        }
        if ((long long)json_array_size(json_object_get(pAns, "entries")) < nTotal)
            qc_buf_adds(b, "  … 完整的登记簿请用 --format csv 或 --format html\n");
        return b->rc;
    }
    if (strcmp(zName, "catalog") == 0) {
        if (!json_is_integer(json_object_get(pAns, "rows")))
            return qc_invalid(zErr, nErr, "indexd 的目录检查报告中没有条目数");
        qc_buf_addf(b, "录入率（必填项完整的条目）：%.2f%%（%lld / %lld 条）\n",
                    real_at(pAns, "entry_rate") * 100, int_at(pAns, "complete", 0), int_at(pAns, "rows", 0));
        qc_buf_addf(b, "不规范 %lld 处，警告 %lld 处\n得分（第 9 项）：%.2f / 5 分\n", int_at(pAns, "errors", 0),
                    int_at(pAns, "warnings", 0), real_at(pAns, "score"));
        size_t i;
        json_t *x;
        /* with several catalogs, a line is told by its file: a heading
         * wherever the file changes (its name as imported when known) */
        int several = json_array_size(json_object_get(pAns, "catalogs")) > 1;
        const char *zFileAt = NULL;
        json_array_foreach(json_object_get(pAns, "irregular"), i, x) {
            const char *zFile = str_at(x, "name") ? str_at(x, "name") : str_at(x, "file");
            if (several && zFile && (!zFileAt || strcmp(zFile, zFileAt) != 0)) {
                qc_buf_adds(b, "  目录文件 ");
                add_clean(b, zFile);
                qc_buf_adds(b, "\n");
                zFileAt = zFile;
            }
            int warn = strcmp(str_at(x, "severity") ? str_at(x, "severity") : "", "warning") == 0;
            add_label(b, "  ", warn ? "警告" : "不规范", 7);
            qc_buf_addf(b, "第 %lld 行  ", int_at(x, "line", 0));
            add_clean(b, str_at(x, "code") ? str_at(x, "code") : zNone);
            qc_buf_adds(b, "  ");
            add_clean(b, proto_rule_cn(str_at(x, "rule")));
            qc_buf_adds(b, "：");
            add_clean(b, str_at(x, "reason") ? str_at(x, "reason") : "");
            qc_buf_adds(b, "\n");
        }
        if ((long long)json_array_size(json_object_get(pAns, "irregular")) < int_at(pAns, "irregular_total", 0))
            qc_buf_adds(b, "  … 完整清单请用 --format csv 或 --format html\n");
        return b->rc;
    }
    const json_t *pRows = json_object_get(pAns, "rows");
    if (!json_is_array(pRows)) return qc_invalid(zErr, nErr, "indexd 的统计台账中没有数据行");
    qc_buf_adds(b, "全宗号  门类  年度  保管期限      件数      页数  已数字化件数  已扫描页数\n");
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)pRows, i, r) {
        qc_buf_adds(b, "");
        add_clean(b, str_at(r, "fonds") ? str_at(r, "fonds") : "");
        qc_buf_adds(b, "  ");
        add_clean(b, str_at(r, "category") ? str_at(r, "category") : "");
        qc_buf_addf(b, "  %lld  ", int_at(r, "year", 0));
        add_clean(b, str_at(r, "retention") ? str_at(r, "retention") : "");
        qc_buf_addf(b, "  %10lld %9lld %13lld %11lld\n", int_at(r, "items", 0), int_at(r, "pages", 0),
                    int_at(r, "digitized_items", 0), int_at(r, "scanned_pages", 0));
    }
    const json_t *t = json_object_get(pAns, "totals");
    qc_buf_addf(b, "合计                  %10lld %9lld %13lld %11lld\n", int_at(t, "items", 0), int_at(t, "pages", 0),
                int_at(t, "digitized_items", 0), int_at(t, "scanned_pages", 0));
    return b->rc;
}
