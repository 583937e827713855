/* Unit tests of the query parser. */
#include "idx_query.h"
#include "proto_alloc.h"
#include "proto_record.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdlib.h>

static char zDesc[2048];

static const char *parse(const char *z)
{
    iq_node *p;
    unsigned off;
    char zErr[300];
    int rc = idx_query_parse(z, &p, &off, zErr, sizeof zErr);
    if (rc != PS_OK) {
        snprintf(zDesc, sizeof zDesc, "ERR@%u %s", off, zErr);
        return zDesc;
    }
    char *d = idx_query_describe(p);
    snprintf(zDesc, sizeof zDesc, "%s", d ? d : "ALL");
    px_free(d);
    idx_query_free(p);
    return zDesc;
}

int main(void)
{
    CHECK_STR(parse(""), "ALL");
    CHECK_STR(parse("   "), "ALL");
    CHECK_STR(parse("精准扶贫"), "WORDS(:精准扶贫)");
    CHECK_STR(parse("精准扶贫 脱贫"), "AND(WORDS(:精准扶贫),WORDS(:脱贫))");
    CHECK_STR(parse("精准扶贫　脱贫"), "AND(WORDS(:精准扶贫),WORDS(:脱贫))"); /* ideographic space */
    /* a number written with spaces is one word, as the index holds it */
    CHECK_STR(parse("户主 138 1234 5678 电话"), "AND(AND(WORDS(:户主),WORDS(:138 1234 5678)),WORDS(:电话))");
    CHECK_STR(parse("110101　19900307　1233"), "WORDS(:110101　19900307　1233)");
    CHECK_STR(parse("2017 0305"), "AND(WORDS(:2017),WORDS(:0305))");
    CHECK_STR(parse("\"精准 扶贫\""), "PHRASE(:精准 扶贫)");
    CHECK_STR(parse("“精准扶贫”"), "PHRASE(:精准扶贫)");
    CHECK_STR(parse("a OR b c"), "OR(WORDS(:a),AND(WORDS(:b),WORDS(:c)))");
    CHECK_STR(parse("(a OR b) AND c"), "AND(OR(WORDS(:a),WORDS(:b)),WORDS(:c))");
    CHECK_STR(parse("扶贫 NOT 搬迁"), "NOT(WORDS(:扶贫),WORDS(:搬迁))");
    CHECK_STR(parse("扶贫 -搬迁 -教育"), "NOT(WORDS(:扶贫),OR(WORDS(:搬迁),WORDS(:教育)))");
    CHECK_STR(parse("NOT 搬迁"), "NOT(ALL,WORDS(:搬迁))");
    CHECK_STR(parse("扶贫 -\"易地 搬迁\""), "NOT(WORDS(:扶贫),PHRASE(:易地 搬迁))");
    CHECK_STR(parse("扶贫 -(a OR b)"), "NOT(WORDS(:扶贫),OR(WORDS(:a),WORDS(:b)))");
    CHECK_STR(parse("题名:扶贫"), "WORDS(S:扶贫)");
    CHECK_STR(parse("题名：\"扶贫 工作\""), "PHRASE(S:扶贫 工作)");
    CHECK_STR(parse("责任者:县扶贫办 文号:2017"), "AND(WORDS(A:县扶贫办),WORDS(XN:2017))");
    CHECK_STR(parse("年度:2017"), "FILTER(Y2017)");
    CHECK_STR(parse("年度:2016..2018 扶贫"), "AND(RANGE(2016..2018),WORDS(:扶贫))");
    CHECK_STR(parse("year:2016.."), "RANGE(2016..9999)");
    CHECK_STR(parse("保管期限:永久"), "FILTER(XRY)");
    CHECK_STR(parse("档号:Z031-WS.2017-Y-0001"), "FILTER(QZ031-WS·2017-Y-0001)");
    CHECK_STR(parse("全宗:Z031 门类:WS"), "AND(FILTER(XFZ031),FILTER(XCWS))");
    CHECK_STR(parse("12:30"), "WORDS(:12:30)");  /* not a field name: plain text */
    CHECK_STR(parse("a AND AND"), "ERR@3 AND 后须有检索词");

    /* Errors say where. */
    CHECK_STR(parse("\"精准扶贫"), "ERR@1 引号未闭合");
    CHECK_STR(parse("扶贫 (脱贫"), "ERR@4 括号未闭合");
    CHECK_STR(parse("扶贫)"), "ERR@3 “)”没有与之配对的“(”");
    CHECK_STR(parse("AND 扶贫"), "ERR@1 AND 前须有检索词");
    CHECK_STR(parse("扶贫 OR"), "ERR@4 OR 后须有检索词");
    CHECK_CONTAINS(parse("作者:张三"), "ERR@1 没有检索项“作者”（可用的检索项：题名 ");
    /* a long field name is quoted cut between characters (found by fuzz/fz_query) */
    for (int n = 90; n < 100; n++) {
        char zLong[300];
        snprintf(zLong, sizeof zLong, "%.*s档号号号:Z", n, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
        const char *zErr = parse(zLong);
        CHECK_CONTAINS(zErr, "没有检索项");
        CHECK(proto_utf8_valid(zErr, strlen(zErr)));
    }
    CHECK_CONTAINS(parse("年度:17"), "年度须为 4 位数字的年份，不能是“17”");
    CHECK_STR(parse("年度:2018..2016"), "ERR@1 年度范围 2018..2016 为空：起始年晚于终止年");
    CHECK_CONTAINS(parse("保管期限:长期"), "保管期限“长期”不是 永久（Y）、30年（D30）、10年（D10）之一");
    CHECK_CONTAINS(parse("档号:Z031-WS2017-Y-0001"), "缺少“·”");
    CHECK_CONTAINS(parse("题名:"), "检索项后须写检索值");
    char zDeep[200];
    memset(zDeep, '(', 100);
    zDeep[100] = 'a';
    zDeep[101] = 0;
    CHECK_CONTAINS(parse(zDeep), "括号嵌套层数过多");

    /* Out of memory anywhere in the parse is reported, not crashed on. */
    for (long n = 1; n < 60; n++) {
        iq_node *p = NULL;
        unsigned off;
        char zErr[200];
        px_fail_after(n);
        int rc = idx_query_parse("(题名:扶贫 OR \"精准 扶贫\") -搬迁 年度:2016..2018", &p, &off, zErr, sizeof zErr);
        px_fail_reset();
        CHECK(rc == PS_OK || rc == PS_NOMEM);
        idx_query_free(p);
    }
    return px_test_done();
}
