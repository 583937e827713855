/* The query language as anyone with a session types it: the parser, its
 * description and release, and the search it plans, run against a small
 * index of a few catalog rows and pages made at start-up.
 *
 * Checked: the parser's tree is well formed with offsets inside the query
 * (and its text UTF-8 when the query was, as the HTTP handler requires),
 * parsing is deterministic, an error names a position inside the query and
 * a message that can go out in JSON, and the search agrees with the parser
 * and answers a well-formed page of hits (no more than asked for, valid
 * UTF-8 snippets, totals that cover the hits). */
#include "fz_check.h"
#include "idx_csv.h"
#include "idx_index.h"
#include "idx_query.h"
#include "idx_search.h"
#include "proto_alloc.h"
#include "proto_enc.h"
#include "proto_record.h"
#include "proto_status.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define LIMIT 5

static idx_index *pIdx;
static char zDir[] = "/tmp/fz_query_XXXXXX";

static const char zCatalog[] =
    "档号,题名,责任者,文号,日期,页数,密级,存放位置,备注\n"
    "Z031-WS·2017-Y-BGS-0001,关于开展精准扶贫工作的通知,县扶贫办,扶办发〔2017〕1号,20170305,2,,1号库-3列-2节-4层-015盒,\n"
    "Z031-WS·2017-Y-BGS-0002,贫困户脱贫审核表,县扶贫办,,20170306,1,内部,,一户一档\n"
    "Z031-WS·2018-D30-BGS-0001,易地扶贫搬迁安置点建设项目验收报告,县发改局,,20180915,3,,,\n"
    "Z031-WS·2018-D30-BGS-0002,Poverty alleviation report 2018,County office,,20181108,1,机密,,\n"
    "Z032-KJ·2019-D10-0012,雨露计划职业教育补助申报,县扶贫办,扶办发〔2019〕13号,20190309,1,,,身份证号110101199001011234\n"
    "Z031-FH·2017-Y-BGS-0001,张三家庭档案,河口乡,,20170307,1,,,\n";

static const struct { const char *zCode; const char *zText; } aPage[] = {
    {"Z031-WS·2017-Y-BGS-0001", "各乡镇：为深入开展精准扶贫工作，现将有关事项通知如下。\n一、建档立卡贫困户识别"},
    {"Z031-WS·2017-Y-BGS-0002", "贫困户脱贫审核表 户主 张三 身份证号 110101199001011234 联系电话 13800138000"},
    {"Z031-WS·2018-D30-BGS-0001", "易地扶贫搬迁安置点 验收合格 OCR noise lllll 2018年9月15日"},
    {"Z031-FH·2017-Y-BGS-0001", "户主张三 隐私正文 年收入贰仟元 精准扶贫 易地扶贫搬迁 脱贫审核"},
};

static void drop_index(void)
{
    char zCmd[128];
    idx_index_close(pIdx);
    snprintf(zCmd, sizeof zCmd, "rm -rf '%s'", zDir);
    if (system(zCmd) != 0) fprintf(stderr, "fz_query: could not remove %s\n", zDir);
}

int LLVMFuzzerInitialize(int *pArgc, char ***pArgv)
{
    char zErr[512];
    json_t *pOut = NULL;
    long line;
    (void)pArgc;
    (void)pArgv;
    idx_index_opts o = {2, 1000, 0, 50};
    FZ_CHECK(mkdtemp(zDir) != NULL);
    FZ_CHECK(idx_index_open(zDir, &o, &pIdx, zErr, sizeof zErr) == PS_OK);
    atexit(drop_index);
    FZ_CHECK(idx_csv_import(pIdx, zCatalog, sizeof zCatalog - 1, 0, NULL, &pOut, &line, zErr, sizeof zErr) == PS_OK);
    json_decref(pOut);
    for (size_t i = 0; i < sizeof aPage / sizeof aPage[0]; i++) {
        json_t *pPage = json_pack("{s:s}", "text", aPage[i].zText);
        FZ_CHECK(pPage && idx_index_put_page(pIdx, aPage[i].zCode, 1, pPage, NULL, NULL, zErr, sizeof zErr) == PS_OK);
        json_decref(pPage);
    }
    FZ_CHECK(idx_index_commit(pIdx, zErr, sizeof zErr) == PS_OK);
    return 0;
}

/* Every node where the parser documents it; offsets inside the query. */
static int check_tree(const iq_node *p, unsigned nChar, int utf8, int depth)
{
    if (!p) return 0;
    FZ_CHECK(depth < 1000);
    FZ_CHECK(p->offset >= 1 && p->offset <= nChar + 1);
    FZ_CHECK(p->zPrefix != NULL);
    switch (p->kind) {
    case IQ_AND:
    case IQ_OR:
        FZ_CHECK(p->pA && p->pB);
        break;
    case IQ_NOT:
        FZ_CHECK(p->pB != NULL);
        break;
    case IQ_WORDS:
    case IQ_PHRASE:
    case IQ_FILTER:
        FZ_CHECK(p->z != NULL && !p->pA && !p->pB);
        if (utf8) FZ_CHECK(proto_utf8_valid(p->z, strlen(p->z)));
        break;
    case IQ_RANGE:
        FZ_CHECK(p->z && p->zHi && !p->pA && !p->pB);
        break;
    default:
        FZ_CHECK(!"a node of no known kind");
    }
    return 1 + check_tree(p->pA, nChar, utf8, depth + 1) + check_tree(p->pB, nChar, utf8, depth + 1);
}

static void check_hits(const json_t *pOut)
{
    const json_t *pHits = json_object_get(pOut, "hits");
    FZ_CHECK(json_is_array(pHits) && json_array_size(pHits) <= LIMIT);
    FZ_CHECK(json_integer_value(json_object_get(pOut, "total")) >= (json_int_t)json_array_size(pHits));
    for (size_t i = 0; i < json_array_size(pHits); i++) {
        const json_t *h = json_array_get(pHits, i);
        const char *zCode = json_string_value(json_object_get(h, "code"));
        FZ_CHECK(zCode != NULL);
        /* restricted to 内部: the 机密 record never shows */
        FZ_CHECK(strcmp(zCode, "Z031-WS·2018-D30-BGS-0002") != 0);
        const char *zSnippet = json_string_value(json_object_get(h, "snippet"));
        FZ_CHECK(!zSnippet || !strstr(zSnippet, "19900101"));  /* masked */
        /* the household file's text is closed: its catalog line only */
        FZ_CHECK(!zSnippet || (!strstr(zSnippet, "隐私") && !strstr(zSnippet, "贰仟")));
        if (strcmp(zCode, "Z031-FH·2017-Y-BGS-0001") == 0) FZ_CHECK(json_array_size(json_object_get(h, "pages")) == 0);
        FZ_CHECK(!json_object_get(h, "_view"));
    }
    char *zJson = json_dumps(pOut, JSON_COMPACT);  /* valid UTF-8 all through */
    FZ_CHECK(zJson != NULL);
    free(zJson);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *z = malloc(n + 1);
    if (!z) return 0;
    memcpy(z, d, n);
    z[n] = 0;
    size_t len = strlen(z);
    unsigned nChar = (unsigned)proto_utf8_count(z, len);
    int utf8 = proto_utf8_valid(z, len);  /* what the HTTP handler lets through */

    iq_node *pA = NULL, *pB = NULL;
    unsigned off = 0, off2 = 0;
    char zErr[512], zErr2[512];
    zErr[0] = 0;
    int rc = idx_query_parse(z, &pA, &off, zErr, sizeof zErr);
    FZ_CHECK(rc == PS_OK || rc == PS_BAD_QUERY || rc == PS_TOO_BIG);
    int rc2 = idx_query_parse(z, &pB, &off2, zErr2, sizeof zErr2);
    FZ_CHECK(rc2 == rc && off2 == off);
    if (rc == PS_OK) {
        FZ_CHECK(off == 0);
        FZ_CHECK(check_tree(pA, nChar, utf8, 0) >= 0);
        FZ_CHECK((pA == NULL) == (pB == NULL));
        char *zDescA = idx_query_describe(pA), *zDescB = idx_query_describe(pB);
        FZ_CHECK(zDescA && zDescB && strcmp(zDescA, zDescB) == 0);
        px_free(zDescA);
        px_free(zDescB);
    } else {
        FZ_CHECK(pA == NULL);
        FZ_CHECK(zErr[0] && strcmp(zErr, zErr2) == 0);
        FZ_CHECK(rc == PS_TOO_BIG || (off >= 1 && off <= nChar + 1));
        if (utf8) FZ_CHECK(proto_utf8_valid(zErr, strlen(zErr)));
    }
    idx_query_free(pA);
    idx_query_free(pB);

    /* The search, as the HTTP handler asks for it: only UTF-8 gets there. */
    if (utf8) {
        idx_search_req req;
        json_t *pOut = NULL;
        const char *zParam = NULL;
        unsigned offS = 0;
        memset(&req, 0, sizeof req);
        req.zQuery = z;
        req.limit = LIMIT;
        req.facets = 1;
        req.facetCheck = 2000;
        /* a caller cleared for 内部, as idx_access_scope makes it; household
         * files (FH) closed to them but matched by their catalog fields */
        idx_scope scope;
        char zFh[] = "FH";
        char *azCat[] = {zFh};
        memset(&scope, 0, sizeof scope);
        scope.azLevel[0] = "公开";
        scope.azLevel[1] = "内部";
        scope.nLevel = 2;
        scope.restrict_ = 1;
        scope.azCategory = azCat;
        scope.nCategory = 1;
        req.pScope = &scope;
        req.maskIds = 1;
        req.sort = (int)(n % 3);
        int rcS = idx_search(pIdx, &req, &pOut, &zParam, &offS, zErr, sizeof zErr);
        FZ_CHECK((rcS == PS_OK) == (pOut != NULL));
        if (rc != PS_OK) FZ_CHECK(rcS == rc && offS == off);
        if (rcS == PS_OK) check_hits(pOut);
        else FZ_CHECK(rcS == PS_BAD_QUERY || rcS == PS_TOO_BIG || rcS == PS_INVALID);
        json_decref(pOut);
    }
    free(z);
    return 0;
}
