/* Unit tests of the masking of personal numbers (idx_mask). */
#include "idx_mask.h"
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static char zOut[4096];
static unsigned nLast;

/* z masked (html or not); the count in nLast.  Checks on the way that the
 * length is kept and that masking again changes nothing. */
static const char *masked(const char *z, int html)
{
    size_t n = strlen(z);
    snprintf(zOut, sizeof zOut, "%s", z);
    nLast = idx_mask_text(zOut, n, html);
    CHECK_INT(strlen(zOut), n);
    char zAgain[4096];
    snprintf(zAgain, sizeof zAgain, "%s", zOut);
    CHECK_INT(idx_mask_text(zAgain, n, html), 0);
    CHECK_STR(zAgain, zOut);
    return zOut;
}

#define MASKS(in, want, count) do { CHECK_STR(masked(in, 0), want); CHECK_INT(nLast, count); } while (0)
#define KEEPS(in) MASKS(in, in, 0)

/* A full-width form of an ASCII string (digits, X, x, '-' and ' ' as U+3000). */
static const char *fw(const char *z)
{
    static char zBuf[4][512];
    static int k;
    char *o = zBuf[k++ & 3];
    size_t n = 0;
    for (; *z; z++) {
        unsigned c = (unsigned char)*z;
        unsigned u = c == ' ' ? 0x3000 : c - 0x20 + 0xFF00;
        o[n++] = (char)(0xE0 | (u >> 12));
        o[n++] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[n++] = (char)(0x80 | (u & 0x3F));
    }
    o[n] = 0;
    return o;
}

static void test_id(void)
{
    /* check digit right (…1233, …1237), wrong but a real birth date
     * (…1234: an OCR misread of one digit), X and x */
    MASKS("户主身份证号110101199003071233，", "户主身份证号110101********1233，", 1);
    MASKS("户主身份证号110101199003071234，电话", "户主身份证号110101********1234，电话", 1);
    MASKS("11010120000229123X and 11010120000229123x.", "110101********123X and 110101********123x.", 2);
    /* the check digit holds though the date does not: still an ID */
    MASKS("号码110101199013011234。", "号码110101********1234。", 1);
    /* neither the check digit nor the date: not an ID number */
    KEEPS("号码110101199013011235。");
    /* 6-8-4 with a space, U+3000, '-', '－', or one separator left out */
    MASKS("110101 19900307 1233", "110101 ******** 1233", 1);
    MASKS("110101　19900307　1233", "110101　********　1233", 1);
    MASKS("证号:110101-19900307-123X;", "证号:110101-********-123X;", 1);
    MASKS("110101－19900101－1237", "110101－********－1237", 1);
    MASKS("110101 199001011237", "110101 ********1237", 1);
    MASKS("11010119900101 1237", "110101******** 1237", 1);
    /* as people and OCR also write them: runs of up to five separators, a
     * line break where the line ended, tabs, no-break spaces, dots and
     * middle dots, slashes, dashes, list punctuation */
    MASKS("110101  19900307  1233", "110101  ********  1233", 1);
    MASKS("身份证号110101199\n001011237", "身份证号110101***\n*****1237", 1);
    MASKS("110101\r\n19900101\r\n1237", "110101\r\n********\r\n1237", 1);
    MASKS("110101\t19900101\t1237", "110101\t********\t1237", 1);
    MASKS("110101\xC2\xA0" "19900101\xC2\xA0" "1237", "110101\xC2\xA0********\xC2\xA0" "1237", 1);
    MASKS("110101.19900101.1237", "110101.********.1237", 1);
    MASKS("110101/19900101/1237", "110101/********/1237", 1);
    MASKS("110101·" "19900101·" "1237", "110101·********·" "1237", 1);
    MASKS("110101・19900101・1237", "110101・********・1237", 1);
    MASKS("110101•19900101•1237", "110101•********•1237", 1);
    MASKS("110101,19900101,1237", "110101,********,1237", 1);
    MASKS("110101，19900101，1237", "110101，********，1237", 1);
    MASKS("110101:19900101~1237", "110101:********~1237", 1);
    MASKS("110101 . 19900101 . 1237", "110101 . ******** . 1237", 1);
    MASKS("110101    19900307    1233", "110101    ********    1233", 1);
    MASKS("110101 \t - 19900307\n1233", "110101 \t - ********\n1233", 1);
    MASKS("110101\xE2\x80\x94" "19900101\xE2\x80\x94" "1237", "110101\xE2\x80\x94********\xE2\x80\x94" "1237", 1);
    /* in other groups (4-4-4-4-2, a space out of place): both checks must hold */
    MASKS("1101 0119 9001 0112 37", "1101 01** **** **12 37", 1);
    MASKS("11010119 9001011237", "110101** ******1237", 1);
    MASKS("110 101 1990 0101 1237", "110 101 **** **** 1237", 1);
    MASKS("11 0101 1990 0101 12 37", "11 0101 **** **** 12 37", 1);
    KEEPS("1 1 0 101 1990 0101 1237"); /* seven groups */
    /* invisible characters, the wave dash and the bar between groups */
    MASKS("110101\xC2\xAD" "19900101\xE2\x81\xA0" "1237", "110101\xC2\xAD********\xE2\x81\xA0" "1237", 1);
    MASKS("110101\xE2\x80\x8D" "19900101\xEF\xBB\xBF" "1237", "110101\xE2\x80\x8D********\xEF\xBB\xBF" "1237", 1);
    MASKS("110101〜19900101〜1237", "110101〜********〜1237", 1);
    MASKS("110101|19900101|1237", "110101|********|1237", 1);
    /* X as OCR and keyboards write it */
    MASKS("11010120000229123× 11010120000229123Ⅹ", "110101********123× 110101********123Ⅹ", 2);
    MASKS("11010120000229123Х 11010120000229123Χ", "110101********123Х 110101********123Χ", 2);
    KEEPS("尺寸 2×3，面积 12×30");
    /* the 15-digit numbers of before 1999: the birth date YYMMDD */
    MASKS("老身份证110101900307123。", "老身份证110101******123。", 1);
    MASKS("110101 900307 123", "110101 ****** 123", 1);
    KEEPS("流水号110101901307123"); /* no month 13 */
    KEEPS("1101 0119 9001 0112 38");      /* check digit wrong */
    KEEPS("1101 0119 9013 0112 35");      /* no such date */
    /* six separators end a number */
    KEEPS("110101      19900307      1233");
    /* full width, with Ｘ and ｘ (U+FF38, U+FF58), masked with ＊ */
    char zWant[512];
    snprintf(zWant, sizeof zWant, "全角%s%s%s。", fw("110101"), "＊＊＊＊＊＊＊＊", fw("123X"));
    MASKS("全角１１０１０１２００００２２９１２３Ｘ。", zWant, 1);
    snprintf(zWant, sizeof zWant, "%s＊＊＊＊＊＊＊＊%s", fw("110101"), "１２３ｘ");
    MASKS("１１０１０１２００００２２９１２３ｘ", zWant, 1);
    snprintf(zWant, sizeof zWant, "%s　＊＊＊＊＊＊＊＊　%s", fw("110101"), fw("1233"));
    MASKS(fw("110101 19900307 1233"), zWant, 1);
    /* half and full width mixed in one number */
    MASKS("11010119900307１２３３", "110101********１２３３", 1);
    /* bounded by non-digits: letters and Han count, a longer run does not */
    MASKS("ID110101199003071233号", "ID110101********1233号", 1);
    KEEPS("6222021101019900307123 11010119900307123X9");
    KEEPS("1110101199003071233");
}

static void test_card(void)
{
    /* Luhn, contiguous and in fours (the last group 1-3) */
    MASKS("卡4563510012345673止", "卡456351******5673止", 1);
    MASKS("4563 5100 1234 5673", "4563 51** **** 5673", 1);
    MASKS("5300-0012-3456-7890-127", "5300-00**-****-***0-127", 1);
    /* UnionPay (62…) without the Luhn check */
    MASKS("工资卡6228480012345678901。", "工资卡622848*********8901。", 1);
    MASKS("6228 4800 1234 5678 901", "6228 48** **** ***8 901", 1);
    MASKS(fw("6228 4800 1234 5678 901"), "６２２８　４８＊＊　＊＊＊＊　＊＊＊８　９０１", 1);
    /* near misses: 19 and 17 digits failing Luhn, not 62, no keyword; a
     * card-like number in other groups */
    KEEPS("编号1234567890123456789号");
    KEEPS("编号98765432109876543号");
    KEEPS("4563510012345678");
    KEEPS("45635 10012 345673");
    /* years in a row pass Luhn but start as no card does */
    KEEPS("2017 2018 2019 2020");
    /* UnionPay numbers in any grouping */
    MASKS("卡 622848 0012345678901", "卡 622848 *********8901", 1);
    MASKS("62284 80012 34567 8901", "62284 8**** ***** 8901", 1);
    MASKS("2221 0012 3456 7896", "2221 00** **** 7896", 1);
}

static void test_account(void)
{
    /* after a keyword, within a few characters, in groups of up to 6 */
    MASKS("开户行账号：6228 4800 1234 567", "开户行账号：6228 48** ***4 567", 1);
    MASKS("存折号码 1234567890", "存折号码 ******7890", 1);
    MASKS("银行卡（农商行）：98765432109876543", "银行卡（农商行）：987654*******6543", 1);
    MASKS("帐户123456789012", "帐户123456**9012", 1);
    MASKS("账户:12345678", "账户:****5678", 1);
    /* too far from the keyword, a digit in between, too short, no keyword */
    KEEPS("账号开户的银行是县农村信用合作联社城关营业部的98765432109876543");
    MASKS("银行账号（河口乡农村信用合作社）：12345678901234", "银行账号（河口乡农村信用合作社）：123456****1234", 1);
    MASKS("账　　号：123456789012", "账　　号：123456**9012", 1);
    MASKS("賬號 123456789012、帳戶 123456789012", "賬號 123456**9012、帳戶 123456**9012", 2);
    MASKS("一卡通 12345678901", "一卡通 123456*8901", 1);
    /* an amount after an account keyword is no account */
    KEEPS("资金账户拨付12340000元");
    KEEPS("账户余额 12340000 元，12345678万元");
    KEEPS("账号2个：98765432109876543");
    KEEPS("账号：1234567");
    KEEPS("编号98765432109876543");
    /* dots, line breaks and tabs do not join an account: an amount, a
     * table's columns */
    KEEPS("账户余额 365000.00元");
    KEEPS("账户余额 123.45678901");
    KEEPS("账号 622848\n0012345678"); /* a wrapped account: columns are commoner */
    KEEPS("账号\t1234\t5678");
    /* a group over 6 digits ends an account written in groups */
    MASKS("账号 1234 5678 13812345678", "账号 **** 5678 138****5678", 2);
    /* masking what was masked finds nothing more: the digits after a mask
     * character are the tail of a masked number (found by fuzz/fz_mask) */
    MASKS("账号 061750067-0013-8", "账号 *****0067-0013-8", 1);
    KEEPS("账号 *****0067-0013-8");
}

static void test_phone(void)
{
    MASKS("电话13812345678。", "电话138****5678。", 1);
    MASKS("手机 138 1234 5678", "手机 138 **** 5678", 1);
    MASKS("手机 138-1234-5678", "手机 138-****-5678", 1);
    MASKS("+86 138 1234 5678", "+86 138 **** 5678", 1);
    MASKS("+8613812345678", "+86138****5678", 1);
    MASKS("电话 138 12345678、1381234-5678", "电话 138 ****5678、138****-5678", 2);
    MASKS("86-13812345678", "86-138****5678", 1);
    MASKS(fw("138 1234 5678"), "１３８　＊＊＊＊　５６７８", 1);
    /* landlines, 12 digits, a number not starting 1[3-9], other groupings */
    KEEPS("办公电话0571-88888888，传真010 6512 3456");
    KEEPS("138123456789 12345678901 11812345678");
    /* other splits are counts as often as phones; dots join, and middle
     * dots; line breaks and tabs do not (a table's columns) */
    KEEPS("1381 2345 678");
    KEEPS("手机13812 345678");
    KEEPS("合计 1381 2345 678 户");
    MASKS("138.1234.5678", "138.****.5678", 1);
    MASKS("138·" "1234·" "5678", "138·****·" "5678", 1);
    KEEPS("13 81 23 45 678");
    KEEPS("138\n1234\n5678");
    KEEPS("户数\t138\t1234\t5678");
    KEEPS("138, 1234, 5678");
}

static void test_ordinary(void)
{
    /* dates, 档号, amounts, years, document numbers: never masked */
    KEEPS("日期20170305，档号Z031-WS·2017-Y-BGS-0001，文号扶贫办〔2017〕12号");
    KEEPS("金额1,234,567.89元，补助150000元，3000.00元");
    KEEPS("2017年至2019年共帮扶1200户3600人");
    KEEPS("Z031-WS·2017-Y-BGS-0001 2017 0305");
    KEEPS("");
}

static void test_html(void)
{
    /* a snippet's <mark> does not break a number */
    CHECK_STR(masked("号<mark>110101</mark>199003071234<mark>户</mark>", 1),
              "号<mark>110101</mark>********1234<mark>户</mark>");
    CHECK_INT(nLast, 1);
    CHECK_STR(masked("<mark>138</mark> 1234 <mark>5678</mark>", 1), "<mark>138</mark> **** <mark>5678</mark>");
    CHECK_STR(masked("账<mark>号</mark>：<mark>6228</mark> 4800 1234 567", 1),
              "账<mark>号</mark>：<mark>6228</mark> 48** ***4 567");
    /* entities hold no digits and are not separators */
    CHECK_STR(masked("&#49;38&#49;2345678 &amp;13812345678&lt;", 1), "&#49;38&#49;2345678 &amp;138****5678&lt;");
    /* not HTML: tags are text */
    CHECK_STR(masked("<b>110101</b>199003071234", 0), "<b>110101</b>199003071234");
    /* a '<' without its '>' */
    CHECK_STR(masked("<<< 13812345678 <", 1), "<<< 138****5678 <");
}

typedef struct {
    size_t a[64], b[64];
    int kind[64];
    int n;
} spans;

static void collect(void *ctx, size_t a, size_t b, int kind)
{
    spans *s = ctx;
    if (s->n < 64) {
        s->a[s->n] = a;
        s->b[s->n] = b;
        s->kind[s->n] = kind;
        s->n++;
    }
}

static void test_find(void)
{
    /* the characters hidden, their bytes and kinds, in order */
    spans s = {{0}, {0}, {0}, 0};
    const char *z = "身份证１１０１０１１９９００３０７１２３３，电话13812345678";
    CHECK_INT(idx_mask_find(z, strlen(z), 0, collect, &s), 2);
    CHECK_INT(s.n, 12);
    CHECK_INT(s.a[0], strlen("身份证１１０１０１"));
    CHECK_INT(s.b[0] - s.a[0], 3);
    CHECK_INT(s.kind[0], IDX_PII_ID);
    CHECK_INT(s.a[8], strlen("身份证１１０１０１１９９００３０７１２３３，电话138"));
    CHECK_INT(s.b[8] - s.a[8], 1);
    CHECK_INT(s.kind[8], IDX_PII_PHONE);
    /* overlapping readings: one number, the kinds of both */
    memset(&s, 0, sizeof s);
    z = "账号6228480012345678901";
    CHECK_INT(idx_mask_find(z, strlen(z), 0, collect, &s), 1);
    CHECK_INT(s.kind[0], IDX_PII_CARD | IDX_PII_ACCOUNT);
    CHECK_INT(idx_mask_find(z, strlen(z), 0, NULL, NULL), 1);

    /* the numbers written with separators, for the tokenizer */
    idx_mask_iter it;
    size_t a, b;
    z = "甲110101 19900307 1233乙13812345678丙138 1234 5678 9丁+86 138 1234 5678";
    idx_mask_iter_init(&it, z, strlen(z));
    CHECK(idx_mask_iter_next(&it, &a, &b));
    CHECK_INT(a, strlen("甲"));
    CHECK_INT(b, strlen("甲110101 19900307 1233"));
    CHECK(idx_mask_iter_next(&it, &a, &b));
    CHECK_INT(a, strlen("甲110101 19900307 1233乙13812345678丙"));
    CHECK_INT(b, strlen("甲110101 19900307 1233乙13812345678丙138 1234 5678"));
    CHECK(idx_mask_iter_next(&it, &a, &b));
    CHECK_INT(a, strlen("甲110101 19900307 1233乙13812345678丙138 1234 5678 9丁+"));
    CHECK_INT(b, strlen(z));
    CHECK(!idx_mask_iter_next(&it, &a, &b));
    CHECK(!idx_mask_iter_next(&it, &a, &b));
}

static void test_json(void)
{
    json_t *o = json_pack("{s:s,s:[s,{s:s}],s:s}", "title", "户主１１０１０１１９９００３０７１２３３", "list",
                          "电话13812345678", "snippet", "<mark>138</mark>12345678", "n", "2017");
    idx_mask_json(o);
    char zWant[256];
    snprintf(zWant, sizeof zWant, "户主%s＊＊＊＊＊＊＊＊%s", fw("110101"), fw("1233"));
    CHECK_STR(json_string_value(json_object_get(o, "title")), zWant);
    CHECK_STR(json_string_value(json_array_get(json_object_get(o, "list"), 0)), "电话138****5678");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "list"), 1), "snippet")),
              "<mark>138</mark>****5678");
    CHECK_STR(json_string_value(json_object_get(o, "n")), "2017");
    json_decref(o);
    /* the daemon's own ids come back as they were: random hex may hold a
     * run of digits shaped like a phone number */
    o = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "draw", "20261202T151005Z-13812345678abcde", "scored_run",
                  "20261202T151006Z-13812345678abcde", "runs", "id", "20261202T151006Z-13812345678abcde", "note",
                  "电话13812345678");
    idx_mask_json(o);
    CHECK_STR(json_string_value(json_object_get(o, "draw")), "20261202T151005Z-13812345678abcde");
    CHECK_STR(json_string_value(json_object_get(o, "scored_run")), "20261202T151006Z-13812345678abcde");
    json_t *pRun = json_array_get(json_object_get(o, "runs"), 0);
    CHECK_STR(json_string_value(json_object_get(pRun, "id")), "20261202T151006Z-13812345678abcde");
    CHECK_STR(json_string_value(json_object_get(pRun, "note")), "电话138****5678");
    json_decref(o);
}

static void test_query(void)
{
    /* every kind, in every notation the index reads as the same number */
    static const char *azRefused[] = {
        "110101199003071233", "11010119900307123X", "11010119900307123x", "１１０１０１２００００２２９１２３Ｘ",
        "１１０１０１２００００２２９１２３ｘ", "110101 19900307 1233", "110101-19900307-1233", "110101　19900307　1233",
        "\"110101 19900307 1233\"", "户主 110101199003071234", "题名:110101199003071233", "ID110101199003071233",
        "4563510012345673", "4563 5100 1234 5673", "6228480012345678901", "账号 12345678", "开户行账号：6228 4800 1234 567",
        "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８",
        /* a long run: an account number, though the query has no keyword */
        "98765432109876543", "12345678901",
    };
    for (size_t i = 0; i < sizeof azRefused / sizeof azRefused[0]; i++) {
        if (!idx_mask_query_refused(azRefused[i])) fprintf(stderr, "not refused: %s\n", azRefused[i]);
        CHECK(idx_mask_query_refused(azRefused[i]));
    }
    static const char *azAllowed[] = {
        "精准扶贫", "2017", "脱贫 2019", "20170305", "110101", "19900307", "11010119", "138 1234",
        "Z031-WS·2017-Y-BGS-0001", "扶贫办〔2017〕12号", "110101      19900307      1233", "0571-88888888", "",
        "1234567890123456789012345678901234",
    };
    for (size_t i = 0; i < sizeof azAllowed / sizeof azAllowed[0]; i++) {
        if (idx_mask_query_refused(azAllowed[i])) fprintf(stderr, "refused: %s\n", azAllowed[i]);
        CHECK(!idx_mask_query_refused(azAllowed[i]));
    }
    CHECK(!idx_mask_query_refused(NULL));
    /* out of memory: refused, never let through */
    px_fail_after(1);
    CHECK(idx_mask_query_refused("精准扶贫"));
    px_fail_reset();
}

/* A 1 MiB page of Chinese text with a few numbers: masked in time linear
 * in the text (measured, printed; the bound is generous for ASan). */
static void test_speed(void)
{
    size_t n = 1u << 20, k = 0;
    char *z = px_malloc(n + 1);
    static const char *azText[] = {"精准扶贫建档立卡贫困户入户调查，", "2017年人均纯收入3650元；", "档号Z031-WS·2017-Y-BGS-0001\n"};
    static const char *azNumber[] = {"户主身份证号110101199003071233，", "联系电话138 1234 5678，", "开户行账号：6228 4800 1234 567。"};
    unsigned nNumber = 0;
    for (unsigned nPart = 0;; nPart++) {
        /* one number in every 100 pieces of text: about 400 in all */
        const char *p = nPart % 100 == 99 ? azNumber[(nPart / 100) % 3] : azText[nPart % 3];
        size_t m = strlen(p);
        if (k + m > n) break;
        memcpy(z + k, p, m);
        k += m;
        nNumber += nPart % 100 == 99;
    }
    z[k] = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned nFound = idx_mask_text(z, k, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("masked %zu bytes (%u numbers) in %.1f ms\n", k, nFound, ms);
    CHECK_INT(nFound, nNumber);
    CHECK(strstr(z, "19900307") == NULL);
    CHECK(ms < 2000);
    px_free(z);
}

int main(void)
{
    test_id();
    test_card();
    test_account();
    test_phone();
    test_ordinary();
    test_html();
    test_find();
    test_json();
    test_query();
    test_speed();
    return px_test_done();
}
