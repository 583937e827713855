/* Unit tests of the client: command line, API paths with percent-encoded
 * 档号, display width, cleaning and snippets, formatting of canned answers,
 * error bodies, allocation failures, and the HTTP layer against a forked
 * one-shot server that sends canned (also broken) answers. */
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_status.h"
#include "qc_args.h"
#include "qc_buf.h"
#include "qc_client.h"
#include "qc_format.h"
#include "qc_path.h"
#include "qc_text.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int nCheck, nFail;

static void fail_at(const char *zFile, int line, const char *zWhat)
{
    nFail++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", zFile, line, zWhat);
}

#define CHECK(c) \
    do { \
        nCheck++; \
        if (!(c)) fail_at(__FILE__, __LINE__, #c); \
    } while (0)

#define CHECK_INT(a, b) \
    do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        nCheck++; \
        if (a_ != b_) { \
            fail_at(__FILE__, __LINE__, #a " == " #b); \
            fprintf(stderr, "    got %lld, want %lld\n", a_, b_); \
        } \
    } while (0)

#define CHECK_STR(a, b) \
    do { \
        const char *a_ = (a), *b_ = (b); \
        nCheck++; \
        if (!a_ || strcmp(a_, b_) != 0) { \
            fail_at(__FILE__, __LINE__, #a " == " #b); \
            fprintf(stderr, "    got  [%s]\n    want [%s]\n", a_ ? a_ : "(null)", b_); \
        } \
    } while (0)

#define CHECK_HAS(hay, needle) \
    do { \
        const char *h_ = (hay), *n_ = (needle); \
        nCheck++; \
        if (!h_ || !strstr(h_, n_)) { \
            fail_at(__FILE__, __LINE__, #hay " contains " #needle); \
            fprintf(stderr, "    [%s]\n    lacks [%s]\n", h_ ? h_ : "(null)", n_); \
        } \
    } while (0)

#define CHECK_LACKS(hay, needle) \
    do { \
        const char *h_ = (hay), *n_ = (needle); \
        nCheck++; \
        if (h_ && strstr(h_, n_)) { \
            fail_at(__FILE__, __LINE__, #hay " lacks " #needle); \
            fprintf(stderr, "    [%s]\n    has [%s]\n", h_, n_); \
        } \
    } while (0)

static const char zCode[] = "Z031-WS·2017-Y-BGS-0001";
static const char zCodeEsc[] = "Z031-WS%C2%B72017-Y-BGS-0001";
static const char zLoc[] = "1号库-3列-2节-4层-015盒";

static json_t *load(const char *z)
{
    json_error_t je;
    json_t *o = json_loads(z, 0, &je);
    if (!o) fprintf(stderr, "test JSON does not parse: %s\n", je.text);
    return o;
}

/* ---- command line --------------------------------------------------- */

#define MAX_ARGV 64

static int parse(qc_args *a, char *zErr, size_t nErr, ...)
{
    static char *azArgv[MAX_ARGV];
    va_list ap;
    int argc = 0;
    azArgv[argc++] = "query";
    va_start(ap, nErr);
    for (char *z; argc < MAX_ARGV - 1 && (z = va_arg(ap, char *)) != NULL;) azArgv[argc++] = z;
    va_end(ap);
    azArgv[argc] = NULL;
    return qc_args_parse(a, argc, azArgv, zErr, nErr);
}

/* The parse error of a command line, or "OK". */
#define PARSE_ERR(...) parse_err(__VA_ARGS__, (char *)NULL)
static const char *parse_err(const char *z0, ...)
{
    static char zErr[256];
    char *azArgv[MAX_ARGV];
    va_list ap;
    int argc = 0;
    qc_args a;
    azArgv[argc++] = "query";
    azArgv[argc++] = (char *)z0;
    va_start(ap, z0);
    for (char *z; argc < MAX_ARGV - 1 && (z = va_arg(ap, char *)) != NULL;) azArgv[argc++] = z;
    va_end(ap);
    azArgv[argc] = NULL;
    int rc = qc_args_parse(&a, argc, azArgv, zErr, sizeof zErr);
    qc_args_clear(&a);
    if (rc == PS_OK) return "OK";
    if (rc != PS_INVALID) return "not PS_INVALID";
    return zErr;
}

static void test_args(void)
{
    qc_args a;
    char zErr[256], zServer[256];

    CHECK_INT(parse(&a, zErr, sizeof zErr, "--server", "http://x:1/", "--json", "search", "精准", "扶贫",
                    "--year", "2017", "--year=2018", "--fonds", "Z031", "--sort", "-date", "--page", "3",
                    "--limit", "10", "-脱贫", "--no-facets", "--retention", "永久", (char *)NULL),
              PS_OK);
    CHECK_INT(a.cmd, QC_CMD_SEARCH);
    CHECK_INT(a.json, 1);
    CHECK_INT(a.help, 0);
    CHECK_STR(a.zServer, "http://x:1/");
    CHECK_INT(a.nWord, 3);
    CHECK_STR(a.azWord[2], "-脱贫"); /* NOT 脱贫, not an option */
    CHECK_INT(a.anFilter[QC_F_YEAR], 2);
    CHECK_STR(a.azFilter[QC_F_YEAR][1], "2018");
    CHECK_STR(a.azFilter[QC_F_FONDS][0], "Z031");
    CHECK_STR(a.azFilter[QC_F_RETENTION][0], "永久");
    CHECK_STR(a.zSort, "-date");
    CHECK_INT(a.page, 3);
    CHECK_INT(a.limit, 10);
    CHECK_INT(qc_args_offset(&a), 20);
    CHECK_INT(a.noFacets, 1);
    qc_args_clear(&a);

    /* --json after the command; "--" makes the rest words */
    CHECK_INT(parse(&a, zErr, sizeof zErr, "search", "--json", "--", "--year", "x", (char *)NULL), PS_OK);
    CHECK_INT(a.json, 1);
    CHECK_INT(a.nWord, 2);
    CHECK_STR(a.azWord[0], "--year");
    CHECK_INT(a.anFilter[QC_F_YEAR], 0);
    CHECK_INT(qc_args_offset(&a), 0);
    qc_args_clear(&a);

    CHECK_INT(parse(&a, zErr, sizeof zErr, "put-page", zCode, "7", "-", (char *)NULL), PS_OK);
    CHECK_INT(a.cmd, QC_CMD_PUT_PAGE);
    CHECK_INT(a.nPos, 3);
    CHECK_STR(a.azPos[0], zCode);
    CHECK_STR(a.azPos[2], "-");
    qc_args_clear(&a);

    CHECK_INT(parse(&a, zErr, sizeof zErr, "search", "-h", (char *)NULL), PS_OK);
    CHECK_INT(a.help, 1);
    qc_args_clear(&a);
    CHECK_INT(parse(&a, zErr, sizeof zErr, "--help", (char *)NULL), PS_OK);
    CHECK_INT(a.help, 1);
    qc_args_clear(&a);

    CHECK_STR(PARSE_ERR("health"), "OK");
    CHECK_STR(PARSE_ERR("--json"), "未给出命令");
    CHECK_STR(PARSE_ERR("find", "x"), "未知命令 'find'");
    CHECK_STR(PARSE_ERR("-x"), "未知选项 '-x'");
    CHECK_STR(PARSE_ERR("--bogus", "health"), "未知选项 '--bogus'");
    CHECK_STR(PARSE_ERR("get"), "get 需要一件档案的档号");
    CHECK_STR(PARSE_ERR("get", ""), "档号为空");
    CHECK_STR(PARSE_ERR("get", "A", "B"), "参数过多：'B'");
    CHECK_HAS(PARSE_ERR("page", "Z031/WS·2017-Y-0001", "1"), "档号 'Z031/WS·2017-Y-0001' 含有 '/'");
    CHECK_STR(PARSE_ERR("get", "-x"), "未知选项 '-x'");
    CHECK_STR(PARSE_ERR("get", "--year", "2017", zCode), "--year 是 search 命令的选项");
    CHECK_STR(PARSE_ERR("--year", "2017", "search"), "--year 是 search 命令的选项，应写在命令之后");
    CHECK_STR(PARSE_ERR("import"), "import 需要一个目录文件（CSV），或用 '-' 表示标准输入");
    CHECK_STR(PARSE_ERR("page", zCode), "page 需要档号和页号");
    CHECK_STR(PARSE_ERR("page", zCode, "0"), "页号 '0' 应为 1 到 65535 之间的数字");
    CHECK_STR(PARSE_ERR("page", zCode, "65536"), "页号 '65536' 应为 1 到 65535 之间的数字");
    CHECK_STR(PARSE_ERR("page", zCode, "3a"), "页号 '3a' 应为 1 到 65535 之间的数字");
    CHECK_STR(PARSE_ERR("page", zCode, "65535"), "OK");
    CHECK_STR(PARSE_ERR("put-page", zCode, "1"), "put-page 需要档号、页号和一个文本文件");
    CHECK_STR(PARSE_ERR("search", "--year", "17"), "--year '17' 应为 4 位数字的年度（如 2017）");
    CHECK_STR(PARSE_ERR("search", "--year"), "--year 需要一个值");
    CHECK_STR(PARSE_ERR("search", "--fonds="), "--fonds 需要一个值");
    CHECK_STR(PARSE_ERR("search", "--json=1"), "--json 不带值");
    CHECK_STR(PARSE_ERR("search", "--sort", "newest"), "--sort 'newest' 应为 relevance、date 或 -date");
    CHECK_STR(PARSE_ERR("search", "--limit", "0"), "--limit '0' 应为 1 到 100 之间的数字");
    CHECK_STR(PARSE_ERR("search", "--limit", "101"), "--limit '101' 应为 1 到 100 之间的数字");
    CHECK_STR(PARSE_ERR("search", "--page", "-1"), "--page '-1' 应为从 1 起的数字");
    CHECK_STR(PARSE_ERR("search", "--year-from", "2019", "--year-to", "2017"),
              "--year-from 2019 晚于 --year-to 2017");
    CHECK_HAS(PARSE_ERR("search", "--page", "1002", "--limit", "100"), "--page 1002 超出范围：indexd 最多只给出到第 100000 件的结果");
    CHECK_STR(PARSE_ERR("search", "--page", "1001", "--limit", "100"), "OK"); /* offset 100000 */
    {
        char *az[40];
        int n = 0;
        az[n++] = "query";
        az[n++] = "search";
        for (int i = 0; i < QC_FILTER_MAX + 1; i++) {
            az[n++] = "--fonds";
            az[n++] = "Z031";
        }
        az[n] = NULL;
        CHECK_INT(qc_args_parse(&a, n, az, zErr, sizeof zErr), PS_INVALID);
        CHECK_STR(zErr, "--fonds 最多给 16 个值");
        qc_args_clear(&a);
    }

    /* the server address: --server, else INDEXD_URL, else the default */
    CHECK_INT(parse(&a, zErr, sizeof zErr, "--server", "http://a:1//", "health", (char *)NULL), PS_OK);
    CHECK_INT(qc_args_server(&a, "http://env:2", zServer, sizeof zServer, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zServer, "http://a:1");
    qc_args_clear(&a);
    CHECK_INT(parse(&a, zErr, sizeof zErr, "health", (char *)NULL), PS_OK);
    CHECK_INT(qc_args_server(&a, "https://env:2/prefix/", zServer, sizeof zServer, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zServer, "https://env:2/prefix");
    CHECK_INT(qc_args_server(&a, "", zServer, sizeof zServer, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zServer, QC_DEFAULT_SERVER);
    CHECK_INT(qc_args_server(&a, NULL, zServer, sizeof zServer, zErr, sizeof zErr), PS_OK);
    CHECK_STR(zServer, "http://127.0.0.1:8080");
    CHECK_INT(qc_args_server(&a, "localhost:8080", zServer, sizeof zServer, zErr, sizeof zErr), PS_INVALID);
    CHECK_HAS(zErr, "'localhost:8080'（来自 INDEXD_URL）应为 URL");
    CHECK_INT(qc_args_server(&a, "ftp://h", zServer, sizeof zServer, zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(qc_args_server(&a, "http://", zServer, sizeof zServer, zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(qc_args_server(&a, "http://h:1/?x", zServer, sizeof zServer, zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(qc_args_server(&a, "http://a b", zServer, sizeof zServer, zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(qc_args_server(&a, "http://host:1", zServer, 8, zErr, sizeof zErr), PS_INVALID);
    qc_args_clear(&a);

    {
        /* a message cut short ends between characters */
        char zShort[12];
        CHECK_INT(qc_invalid(zShort, sizeof zShort, "档号为空：%s", "x"), PS_INVALID);
        CHECK_STR(zShort, "档号为");
        CHECK_INT(qc_invalid(zShort, sizeof zShort, "ab档号为空"), PS_INVALID);
        CHECK_STR(zShort, "ab档号为"); /* 11 bytes fit */
        CHECK_INT(qc_invalid(zShort, sizeof zShort, "abc档号为空"), PS_INVALID);
        CHECK_STR(zShort, "abc档号");
    }
    CHECK_HAS(qc_args_usage(), "  put-page 档号 页号 文件.txt  录入一件档案某一页的全文");
    CHECK_HAS(qc_args_usage(), "      --replace                与档案中已有著录不同的条目替换原著录");
    {
        /* every line fits a terminal of 80 columns (a Chinese character takes two) */
        const char *z = qc_args_usage();
        size_t wMax = 0;
        while (*z) {
            size_t n = strcspn(z, "\n"), w = qc_text_width(z, n);
            if (w > wMax) wMax = w;
            z += n + (z[n] != 0);
        }
        CHECK_INT(wMax <= 80, 1);
    }
}

/* ---- paths ---------------------------------------------------------- */

static void test_path(void)
{
    qc_buf b;
    qc_args a;
    char zErr[256];
    qc_buf_init(&b, 0);

    CHECK_INT(qc_path_record(&b, zCode), PS_OK);
    CHECK_STR(qc_buf_str(&b), "/api/v1/records/Z031-WS%C2%B72017-Y-BGS-0001");
    qc_buf_reset(&b);
    CHECK_INT(qc_path_page(&b, "Z031-WS.2017-Y-BGS-0001", "3"), PS_OK);
    CHECK_STR(qc_buf_str(&b), "/api/v1/records/Z031-WS.2017-Y-BGS-0001/pages/3");
    qc_buf_reset(&b);
    CHECK_INT(qc_path_escape(&b, "a&b=c d/é?#%"), PS_OK);
    CHECK_STR(qc_buf_str(&b), "a%26b%3Dc%20d%2F%C3%A9%3F%23%25");
    qc_buf_reset(&b);

    CHECK_INT(parse(&a, zErr, sizeof zErr, "search", "精准", "扶贫", "-脱贫", "--year", "2017", "--fonds", "Z031",
                    "--year", "2018", "--sort", "-date", "--page", "3", "--limit", "10", "--no-facets",
                    "--year-from", "2016", "--carrier", "纸质", (char *)NULL),
              PS_OK);
    CHECK_INT(qc_path_search(&b, &a), PS_OK);
    CHECK_STR(qc_buf_str(&b), "/api/v1/search?q=%E7%B2%BE%E5%87%86%20%E6%89%B6%E8%B4%AB%20-%E8%84%B1%E8%B4%AB"
                              "&fonds=Z031&year=2017&year=2018&carrier=%E7%BA%B8%E8%B4%A8&year_from=2016"
                              "&sort=-date&offset=20&limit=10&facets=0");
    qc_args_clear(&a);
    qc_buf_reset(&b);

    CHECK_INT(parse(&a, zErr, sizeof zErr, "search", (char *)NULL), PS_OK);
    CHECK_INT(qc_path_search(&b, &a), PS_OK);
    CHECK_STR(qc_buf_str(&b), "/api/v1/search");
    qc_args_clear(&a);
    qc_buf_reset(&b);

    CHECK_INT(parse(&a, zErr, sizeof zErr, "search", "--page", "2", "\"精准扶贫\"", (char *)NULL), PS_OK);
    CHECK_INT(qc_path_search(&b, &a), PS_OK);
    CHECK_STR(qc_buf_str(&b), "/api/v1/search?q=%22%E7%B2%BE%E5%87%86%E6%89%B6%E8%B4%AB%22&offset=20");
    qc_args_clear(&a);
    qc_buf_release(&b);
}

/* ---- buffer, width, cleaning, snippets ------------------------------ */

static void test_buf(void)
{
    qc_buf b;
    char zLong[600];
    memset(zLong, 'x', sizeof zLong - 1);
    zLong[sizeof zLong - 1] = 0;
    qc_buf_init(&b, 0);
    CHECK_STR(qc_buf_str(&b), "");
    CHECK_INT(qc_buf_addf(&b, "%s|%d", zLong, 7), PS_OK); /* longer than the small buffer */
    CHECK_INT(b.n, 601);
    CHECK_STR(b.z + 599, "|7");
    qc_buf_release(&b);

    qc_buf_init(&b, 10);
    CHECK_INT(qc_buf_adds(&b, "0123456789"), PS_OK);
    CHECK_INT(qc_buf_adds(&b, "a"), PS_TOO_BIG);
    CHECK_INT(qc_buf_adds(&b, ""), PS_TOO_BIG); /* sticky */
    CHECK_STR(qc_buf_str(&b), "0123456789");
    qc_buf_reset(&b);
    CHECK_INT(qc_buf_repeat(&b, "ab", 3), PS_OK);
    CHECK_STR(qc_buf_str(&b), "ababab");
    qc_buf_release(&b);
}

static void test_width(void)
{
#define W(z) qc_text_width(z, strlen(z))
    CHECK_INT(W("存放位置"), 8);
    CHECK_INT(W(zLoc), 23);
    CHECK_INT(W(zCode), 23); /* the middle dot is one column */
    CHECK_INT(W("（全角）"), 8);
    CHECK_INT(W("ｶ"), 1);         /* halfwidth katakana */
    CHECK_INT(W("e\xCC\x81"), 1);  /* e + combining acute */
    CHECK_INT(W("a\xE2\x80\x8B" "b"), 2); /* zero-width space */
    CHECK_INT(W("━┃┏"), 3);
    CHECK_INT(W("한글"), 4);
    CHECK_INT(W("\xF0\x9F\x98\x80"), 2); /* U+1F600 */
    CHECK_INT(W("\xF0\xA0\x80\x80"), 2); /* U+20000, CJK extension B */
    CHECK_INT(W("\xFF" "a"), 2);         /* an invalid byte counts one */
    CHECK_INT(W("\x1b"), 0);
#undef W
}

static qc_buf sOut; /* what clean() and snippet() return */

static const char *clean(const char *z, int mode)
{
    qc_buf_reset(&sOut);
    qc_text_add_clean(&sOut, z, strlen(z), mode);
    return qc_buf_str(&sOut);
}

static const char *snippet(const char *z, int style)
{
    qc_buf_reset(&sOut);
    qc_text_add_snippet(&sOut, z, strlen(z), style);
    return qc_buf_str(&sOut);
}

static void test_clean(void)
{
    CHECK_STR(clean("a\x1b[31mb", QC_TEXT_ONE_LINE), "a\xEF\xBF\xBD[31mb");
    CHECK_STR(clean("x\ny\tz\r", QC_TEXT_ONE_LINE), "x y z ");
    CHECK_STR(clean("x\r\ny\tz\n", QC_TEXT_KEEP_LINES), "x\ny\tz\n");
    CHECK_STR(clean("\xC2\x9B" "2J", QC_TEXT_KEEP_LINES), "\xEF\xBF\xBD" "2J"); /* C1 CSI */
    CHECK_STR(clean("a\xE2\x80\xAE" "b", QC_TEXT_ONE_LINE), "a\xEF\xBF\xBD" "b"); /* RLO */
    CHECK_STR(clean("\xC0\xAF", QC_TEXT_ONE_LINE), "\xEF\xBF\xBD\xEF\xBF\xBD"); /* overlong */
    CHECK_STR(clean("\xED\xA0\x80", QC_TEXT_ONE_LINE), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* surrogate */
    CHECK_STR(clean("\xE7\xB2", QC_TEXT_ONE_LINE), "\xEF\xBF\xBD\xEF\xBF\xBD"); /* truncated */
    CHECK_STR(clean(zCode, QC_TEXT_ONE_LINE), zCode);
}

static void test_snippet(void)
{
    CHECK_STR(snippet("…开展<mark>精准扶贫</mark>工作 &lt;a&gt; &amp; &quot;x&quot; &#39;y&#39; &#x4E2D;&#25991;",
                      QC_MARK_BRACKETS),
              "…开展【精准扶贫】工作 <a> & \"x\" 'y' 中文");
    CHECK_STR(snippet("<mark>扶贫</mark>", QC_MARK_ANSI), QC_ANSI_BOLD "扶贫" QC_ANSI_RESET);
    CHECK_STR(snippet("a<mark>b", QC_MARK_ANSI), "a" QC_ANSI_BOLD "b" QC_ANSI_RESET); /* closed */
    CHECK_STR(snippet("a</mark>b<mark><mark>c</mark>", QC_MARK_BRACKETS), "ab【c】");
    CHECK_STR(snippet("<b>x</b> &nbsp; &#; &# &", QC_MARK_BRACKETS), "<b>x</b> &nbsp; &#; &# &");
    CHECK_STR(snippet("&#0;&#27;[2J&#xD800;&#99999999;", QC_MARK_BRACKETS),
              "\xEF\xBF\xBD\xEF\xBF\xBD[2J\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK_STR(snippet("x\x1b]0;title\x07y", QC_MARK_BRACKETS), "x\xEF\xBF\xBD]0;title\xEF\xBF\xBDy");
    CHECK_STR(snippet("  县扶贫办文件\n\n为深入贯彻 <mark>精准</mark>\r\n ", QC_MARK_BRACKETS),
              "县扶贫办文件 为深入贯彻 【精准】");
    CHECK_STR(snippet("", QC_MARK_ANSI), "");
}

/* ---- formatting ----------------------------------------------------- */

static const char zSearchAns[] =
    "{\"total\": 15, \"total_exact\": true, \"took_ms\": 3.21, \"offset\": 0, \"limit\": 2,"
    " \"hits\": [{\"code\": \"Z031-WS·2017-Y-BGS-0001\", \"title\": \"关于开展精准扶贫工作的通知\","
    "   \"author\": \"县扶贫办\", \"date\": \"20170305\", \"year\": 2017, \"location\": \"1号库-3列-2节-4层-015盒\","
    "   \"pages\": [7, 2, 5, 6], \"exact\": true,"
    "   \"snippet\": \"…开展<mark>精准扶贫</mark>工作 &amp; &lt;b&gt;…\"},"
    "  {\"code\": \"Z031-WS·2018-Y-BGS-0002\", \"title\": \"脱贫攻坚\", \"date\": \"20180101\","
    "   \"location\": \"\", \"pages\": [], \"exact\": false, \"snippet\": \"<mark>脱贫</mark>攻坚\"}],"
    " \"facets\": {\"fonds\": {\"Z031\": 15}, \"year\": {\"2018\": 3, \"2017\": 12}, \"carrier\": {},"
    "   \"category\": {\"KJ\": 5, \"WS\": 10}, \"vendor\": {\"v1\": 1}},"
    " \"facets_complete\": false}";

static void test_format_search(void)
{
    qc_buf b;
    char zErr[256];
    json_t *o = load(zSearchAns);
    qc_buf_init(&b, 0);
    CHECK_INT(qc_format_search(&b, o, QC_MARK_BRACKETS, zErr, sizeof zErr), PS_OK);
    const char *z = qc_buf_str(&b);
    CHECK(strncmp(z, "共 15 件，用时 3.2 毫秒\n显示第 1-2 件；下一页：--page 2\n", strlen("共 15 件，用时 3.2 毫秒\n显示第 1-2 件；下一页：--page 2\n")) == 0);
    CHECK_HAS(z, "\n  1. Z031-WS·2017-Y-BGS-0001\n"
                 "     题名      关于开展精准扶贫工作的通知\n"
                 "     日期      20170305\n"
                 "     存放位置  1号库-3列-2节-4层-015盒\n"
                 "     匹配页    2, 5-7\n"
                 "     …开展【精准扶贫】工作 & <b>…\n");
    CHECK_HAS(z, "  2. Z031-WS·2018-Y-BGS-0002  （近似匹配：有一个字不同）\n");
    CHECK_HAS(z, "     存放位置  （未登记）\n");
    CHECK_HAS(z, "     匹配页    （无：在著录项中检出）\n");
    CHECK_HAS(z, "     【脱贫】攻坚\n");
    CHECK_HAS(z, "\n年度: 2017 (12), 2018 (3)\n全宗号: Z031 (15)\n门类: WS (10), KJ (5)\nvendor: v1 (1)\n");
    CHECK_LACKS(z, "载体");
    CHECK_HAS(z, "（以上计数只统计了前面一部分检索结果）\n");
    CHECK_LACKS(z, "\033");

    qc_buf_reset(&b);
    json_object_set_new(o, "total_exact", json_false());
    json_object_set_new(o, "facets_complete", json_true());
    json_object_set_new(o, "offset", json_integer(14));
    json_object_set_new(o, "took_ms", json_real(0.456));
    CHECK_INT(qc_format_search(&b, o, QC_MARK_ANSI, zErr, sizeof zErr), PS_OK);
    z = qc_buf_str(&b);
    CHECK(strncmp(z, "约 15 件，用时 0.46 毫秒\n显示第 15-16 件\n", strlen("约 15 件，用时 0.46 毫秒\n显示第 15-16 件\n")) == 0);
    CHECK_HAS(z, " 15. Z031-WS·2017-Y-BGS-0001\n");
    CHECK_HAS(z, "…开展" QC_ANSI_BOLD "精准扶贫" QC_ANSI_RESET "工作");
    CHECK_LACKS(z, "【");
    CHECK_LACKS(z, "以上计数");
    CHECK_LACKS(z, "下一页");
    json_decref(o);

    /* a record of scans waiting for its catalog row (待挂接): marked, and
     * its 档号 stands in for the 题名 it does not have */
    qc_buf_reset(&b);
    o = load("{\"total\": 2, \"total_exact\": true, \"took_ms\": 1, \"hits\": ["
             " {\"code\": \"Z031-WS·2019-Y-BGS-9001\", \"title\": \"\", \"pages\": [1], \"exact\": true,"
             "  \"unlinked\": true, \"snippet\": \"<mark>易地搬迁</mark>\"},"
             " {\"code\": \"Z031-WS·2019-Y-BGS-9002\", \"unlinked\": false, \"pages\": [1]}], \"facets\": {}}");
    CHECK_INT(qc_format_search(&b, o, QC_MARK_BRACKETS, zErr, sizeof zErr), PS_OK);
    z = qc_buf_str(&b);
    CHECK_HAS(z, "\n  1. Z031-WS·2019-Y-BGS-9001  【待挂接】\n"
                 "     题名      Z031-WS·2019-Y-BGS-9001（未著录题名）\n");
    CHECK_HAS(z, "\n  2. Z031-WS·2019-Y-BGS-9002\n"
                 "     题名      Z031-WS·2019-Y-BGS-9002（未著录题名）\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"total\": 1, \"total_exact\": true, \"took_ms\": 12, \"hits\": [], \"facets\": {}}");
    CHECK_INT(qc_format_search(&b, o, QC_MARK_ANSI, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "共 1 件，用时 12 毫秒\n第 1 件及以后没有结果\n");
    json_decref(o);
    qc_buf_release(&b);
}

static void test_banner(void)
{
    qc_buf b;
    qc_buf_init(&b, 0);
    CHECK_INT(qc_format_banner(&b, "存放位置", zLoc), PS_OK);
    /* " 存放位置  " + 23 columns + " " = 35 columns */
    CHECK_STR(qc_buf_str(&b), "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓\n"
                              "┃ 存放位置  1号库-3列-2节-4层-015盒 ┃\n"
                              "┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛\n");
    qc_buf_reset(&b);
    CHECK_INT(qc_format_banner(&b, "存放位置", "  "), PS_OK);
    /* " 存放位置  （未登记） " = 22 columns */
    CHECK_STR(qc_buf_str(&b), "┏━━━━━━━━━━━━━━━━━━━━━━┓\n"
                              "┃ 存放位置  （未登记） ┃\n"
                              "┗━━━━━━━━━━━━━━━━━━━━━━┛\n");
    qc_buf_reset(&b);
    CHECK_INT(qc_format_banner(&b, "存放位置", NULL), PS_OK);
    CHECK_HAS(qc_buf_str(&b), "┃ 存放位置  （未登记） ┃");
    qc_buf_reset(&b);
    /* a line break or an escape in the data must not break the box */
    CHECK_INT(qc_format_banner(&b, "存放位置", "A库\n\x1b[2J盒"), PS_OK);
    CHECK_STR(qc_buf_str(&b), "┏━━━━━━━━━━━━━━━━━━━━━━┓\n"
                              "┃ 存放位置  A库 \xEF\xBF\xBD[2J盒 ┃\n"
                              "┗━━━━━━━━━━━━━━━━━━━━━━┛\n");
    qc_buf_release(&b);
}

static void test_format_record(void)
{
    qc_buf b;
    char zErr[256];
    json_t *o = load("{\"code\": \"Z031-WS·2017-Y-BGS-0001\", \"fonds\": \"Z031\", \"category\": \"WS\","
                     " \"year\": 2017, \"retention\": \"Y\", \"org\": \"BGS\", \"item_no\": 1,"
                     " \"title\": \"关于开展精准扶贫工作的通知\", \"author\": \"县扶贫办\", \"date\": \"20170305\","
                     " \"pages\": 3, \"location\": \"1号库-3列-2节-4层-015盒\", \"doc_no\": \"\","
                     " \"stored_pages\": [1, 2, 3, 5], \"vendor_batch\": \"B7\"}");
    qc_buf_init(&b, 0);
    CHECK_INT(qc_format_record(&b, o, zErr, sizeof zErr), PS_OK);
    const char *z = qc_buf_str(&b);
    CHECK(strncmp(z, "档号          Z031-WS·2017-Y-BGS-0001\n题名          关于开展精准扶贫工作的通知\n"
                     "责任者        县扶贫办\n文号          —\n日期          20170305\n页数          3\n",
                  strlen("档号          Z031-WS·2017-Y-BGS-0001\n题名          关于开展精准扶贫工作的通知\n"
                         "责任者        县扶贫办\n文号          —\n日期          20170305\n页数          3\n")) == 0);
    CHECK_HAS(z, "\n保管期限      Y (永久)\n");
    CHECK_HAS(z, "\n机构（问题）  BGS\n");
    CHECK_HAS(z, "\n件号          1\n");
    CHECK_HAS(z, "\n密级          —\n");
    CHECK_HAS(z, "\nvendor_batch  B7\n");
    CHECK_HAS(z, "\n已录全文页    1-3, 5（共 4 页）\n\n┏");
    CHECK_HAS(z, "┃ 存放位置  1号库-3列-2节-4层-015盒 ┃\n┗");
    CHECK_LACKS(z, "location"); /* shown in the box, not as a stray key */

    qc_buf_reset(&b);
    json_object_del(o, "location");
    json_object_set_new(o, "stored_pages", json_array());
    CHECK_INT(qc_format_record(&b, o, zErr, sizeof zErr), PS_OK);
    CHECK_HAS(qc_buf_str(&b), "\n已录全文页    无\n");
    CHECK_HAS(qc_buf_str(&b), "┃ 存放位置  （未登记） ┃");

    /* what may be opened, the catalog row's findings, the history, in Chinese */
    qc_buf_reset(&b);
    json_object_set_new(o, "access", load("{\"text\": false, \"approval\": {\"required\": true, \"status\": \"pending\"}}"));
    json_object_set_new(o, "findings", load("[{\"line\": 4, \"field\": \"日期\", \"key\": \"date\", \"rule\": \"date_form\","
                                            " \"severity\": \"error\", \"written\": \"2017-3-5\", \"understood\": \"20170305\","
                                            " \"reason\": \"日期写法不规范，按 20170305 读取\"}]"));
    json_object_set_new(o, "history", load("[{\"at\": \"2026-12-01T10:00:00+08:00\", \"source\": \"目录导入（替换）\", \"by\": \"li\","
                                           " \"changed\": [{\"field\": \"题名\", \"key\": \"title\", \"kept\": \"旧题名\","
                                           " \"offered\": \"新题名\"}, {\"field\": \"页数\", \"key\": \"pages\", \"kept\": 2,"
                                           " \"offered\": 3}]}, {\"at\": \"2026-12-02T09:00:00+08:00\", \"source\": \"目录导入\","
                                           " \"hidden\": true}]"));
    json_object_set_new(o, "unlinked", json_true());
    json_object_set_new(o, "unlinked_from", load("{\"at\": \"2026-12-01T09:00:00+08:00\", \"source\": \"扫描件（第1批）\"}"));
    CHECK_INT(qc_format_record(&b, o, zErr, sizeof zErr), PS_OK);
    z = qc_buf_str(&b);
    CHECK_HAS(z, "\n挂接          待挂接：扫描件已读入（扫描件（第1批），2026-12-01T09:00:00+08:00），目录中尚无此档号的条目\n");
    CHECK_LACKS(z, "unlinked");
    CHECK_HAS(z, "\n查阅          页面须经管理员审批后查看（审批状态：待审批）\n");
    CHECK_HAS(z, "\n著录问题      目录第 4 行 日期【日期写法不规范】日期写法不规范，按 20170305 读取（原著录“2017-3-5”）\n");
    CHECK_HAS(z, "\n修改记录      2026-12-01T10:00:00+08:00 目录导入（替换）（li）：题名 “旧题名” → “新题名”；页数 “2” → “3”\n");
    CHECK_HAS(z, "\n              2026-12-02T09:00:00+08:00 目录导入：原著录的密级高于当前账号，内容不显示\n");
    CHECK_LACKS(z, "access");
    CHECK_LACKS(z, "findings");
    CHECK_LACKS(z, "date_form");

    qc_buf_reset(&b);
    json_object_set_new(o, "code", json_integer(3));
    CHECK_INT(qc_format_record(&b, o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的应答不是一件档案（没有档号）");
    json_decref(o);
    qc_buf_release(&b);
}

static void test_format_import(void)
{
    qc_buf b;
    char zErr[256];
    long long nRej = -1;
    json_t *o = load("{\"imported\": 3, \"replaced\": 1, \"encoding\": \"gb18030\", \"rejected_count\": 2,"
                     " \"rejected\": [{\"line\": 5, \"field\": \"日期\", \"key\": \"date\","
                     "   \"reason\": \"日期 '2017-3-5' must be 8 digits\"}],"
                     " \"warnings_count\": 1, \"warnings\": [{\"line\": 4, \"field\": \"\", \"key\": \"author\","
                     "   \"reason\": \"责任者 is missing\"}]}");
    qc_buf_init(&b, 0);
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRej, 2);
    CHECK_STR(qc_buf_str(&b), "导入 3 件（其中替换 1 件），未导入 2 行，警告 1 条，编码 gb18030\n"
                              "未导入    第 5 行：日期：日期 '2017-3-5' must be 8 digits\n"
                              "… 另有 1 行未导入，未列出\n"
                              "警告      第 4 行：author：责任者 is missing\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"imported\": 2, \"replaced\": 0, \"encoding\": \"utf-8\", \"rejected\": [], \"warnings\": []}");
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRej, 0);
    CHECK_STR(qc_buf_str(&b), "导入 2 件（其中替换 0 件），未导入 0 行，警告 0 条，编码 utf-8\n");
    json_decref(o);

    /* rows that linked scans waiting for them (待挂接) */
    qc_buf_reset(&b);
    o = load("{\"imported\": 2, \"replaced\": 0, \"linked\": 1, \"rejected\": [], \"warnings\": []}");
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "导入 2 件（其中替换 0 件，挂接待挂接件 1 件），未导入 0 行，警告 0 条\n");
    json_decref(o);

    /* findings and conflicts: the rows kept as in the archive, field by field */
    qc_buf_reset(&b);
    o = load("{\"imported\": 1, \"replaced\": 0, \"rejected\": [], \"warnings\": [],"
             " \"findings_count\": 2, \"findings\": [{\"line\": 5, \"field\": \"日期\", \"key\": \"date\","
             "   \"reason\": \"日期写法不规范，按 20170305 读取\"}],"
             " \"conflicts_count\": 1, \"conflicts\": [{\"line\": 6, \"code\": \"Z031-WS·2017-Y-BGS-0001\","
             "   \"fields\": [{\"field\": \"题名\", \"key\": \"title\", \"kept\": \"通知\", \"offered\": \"通知（修订）\"},"
             "              {\"field\": \"页数\", \"key\": \"pages\", \"kept\": 3, \"offered\": 4}]}]}");
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_OK);
    CHECK_INT(nRej, 1); /* the conflict counts */
    CHECK_STR(qc_buf_str(&b), "导入 1 件（其中替换 0 件），未导入 0 行，警告 0 条\n"
                              "著录问题  第 5 行：日期：日期写法不规范，按 20170305 读取\n"
                              "… 另有 1 条著录问题未列出\n"
                              "冲突      第 6 行：Z031-WS·2017-Y-BGS-0001 保留档案中的著录（加 --replace 则以本行替换）："
                              " 题名 \"通知\" → \"通知（修订）\"； 页数 3 → 4；\n");
    json_decref(o);

    /* notes (read as the rules say) are no irregular entries */
    qc_buf_reset(&b);
    o = load("{\"imported\": 1, \"replaced\": 0, \"rejected\": [], \"warnings\": [], \"findings_count\": 2,"
             " \"findings\": [{\"line\": 2, \"field\": \"门类\", \"severity\": \"note\", \"reason\": \"门类按名称“文书”著录，按代码 WS 读取\"},"
             "              {\"line\": 2, \"field\": \"日期\", \"severity\": \"error\", \"reason\": \"日期写法不规范\"}]}");
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "导入 1 件（其中替换 0 件），未导入 0 行，警告 0 条\n"
                              "著录问题  第 2 行：日期：日期写法不规范\n"
                              "说明      第 2 行：门类：门类按名称“文书”著录，按代码 WS 读取\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"imported\": \"2\"}");
    CHECK_INT(qc_format_import(&b, o, &nRej, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的导入应答没有说明导入了多少件档案");
    json_decref(o);
    qc_buf_release(&b);
}

static void test_format_other(void)
{
    qc_buf b;
    char zErr[256];
    json_t *o = load("{\"code\": \"Z031-WS·2017-Y-BGS-0001\", \"page\": 3, \"confidence\": 91.5,"
                     " \"text\": \"第一行\\r\\n\\u001b[2J第二行\"}");
    qc_buf_init(&b, 0);
    CHECK_INT(qc_format_page(&b, o, 0, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "第一行\r\n\x1b[2J第二行"); /* exactly as stored, for a file */
    qc_buf_reset(&b);
    CHECK_INT(qc_format_page(&b, o, 1, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "Z031-WS·2017-Y-BGS-0001，第 3 页，识别可信度 91.5\n\n"
                              "第一行\n\xEF\xBF\xBD[2J第二行\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"code\": \"Z031-WS·2017-Y-BGS-0001\", \"page\": 3}");
    CHECK_INT(qc_format_page(&b, o, 1, zErr, sizeof zErr), PS_INVALID);
    CHECK_INT(qc_format_page_stored(&b, o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "已录入 Z031-WS·2017-Y-BGS-0001 第 3 页的全文（新录入）\n");
    json_object_set_new(o, "replaced", json_true());
    qc_buf_reset(&b);
    CHECK_INT(qc_format_page_stored(&b, o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "已录入 Z031-WS·2017-Y-BGS-0001 第 3 页的全文（替换了原有全文）\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"status\": \"ok\", \"records\": 1234, \"version\": \"0.1.0\"}");
    CHECK_INT(qc_format_health(&b, o, "http://h:1", zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "indexd（http://h:1）：ok，档案 1234 件，版本 0.1.0\n");
    json_decref(o);
    qc_buf_release(&b);
}

static void test_format_report(void)
{
    qc_buf b;
    char zErr[256];
    qc_buf_init(&b, 0);
    json_t *o = load("{\"total\": 4, \"digitized\": 2, \"rate\": 0.5, \"points\": 1.6667,"
                     " \"pages\": {\"total\": 8, \"scanned\": 5, \"rate\": 0.625},"
                     " \"excluded\": {\"d10\": 1, \"not_paper\": 2}, \"carrier_unknown\": 3,"
                     " \"by_fonds\": [{\"key\": \"Z099\", \"digitized\": 2, \"total\": 4, \"rate\": 0.5}],"
                     " \"missing_total\": 2, \"missing_hidden\": 1,"
                     " \"missing\": [{\"code\": \"Z099-WS·2017-Y-BGS-0002\", \"location\": \"1号库-02列-1节-1层-002盒\","
                     "   \"scanned\": 1, \"pages\": 2, \"title\": \"通知\"}]}");
    CHECK_INT(qc_format_report(&b, "coverage", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "数字化率（保管期限为永久、30年的纸质档案）：50.00%（已数字化 2 / 4 件）\n"
                              "得分（第 22 项）：1.67 / 2 分\n"
                              "页数：已扫描 5 / 8 页（62.50%）\n"
                              "不计入：10年期 1 件、非纸质 2 件；未填载体按纸质计：3 件\n"
                              "\n按全宗\n  Z099  2 / 4  50.00%\n"
                              "\n待数字化：3 件\n"
                              "  Z099-WS·2017-Y-BGS-0002  1号库-02列-1节-1层-002盒  已扫描 1 / 2 页  通知\n"
                              "  … 完整清单请用 --format csv 或 --format html\n"
                              "  （另有 1 件档案的密级高于您的查阅权限，未列出）\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"rows\": 10, \"complete\": 9, \"entry_rate\": 0.9, \"errors\": 1, \"warnings\": 1, \"score\": 4.8,"
             " \"irregular_total\": 2, \"irregular\": [{\"line\": 3, \"code\": \"Z099-WS·2017-Y-BGS-0001\","
             "   \"rule\": \"date\", \"reason\": \"日期不是 8 位数字\", \"severity\": \"error\"},"
             "  {\"line\": 7, \"rule\": \"length\", \"reason\": \"备注过长\", \"severity\": \"warning\"}]}");
    CHECK_INT(qc_format_report(&b, "catalog", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "录入率（必填项完整的条目）：90.00%（9 / 10 条）\n"
                              "不规范 1 处，警告 1 处\n得分（第 9 项）：4.80 / 5 分\n"
                              "  不规范 第 3 行  Z099-WS·2017-Y-BGS-0001  日期不规范：日期不是 8 位数字\n"
                              "  警告   第 7 行  —  内容超长：备注过长\n");
    json_decref(o);

    /* every rule of the audit in Chinese, as `query get` shows a record's
     * findings; with several catalogs, the file of each line */
    qc_buf_reset(&b);
    o = load("{\"rows\": 4, \"complete\": 4, \"entry_rate\": 1, \"errors\": 5, \"warnings\": 1, \"score\": 4,"
             " \"catalogs\": [{\"file\": \"000001-a.csv\", \"rows\": 3}, {\"file\": \"000002-b.csv\", \"rows\": 2}],"
             " \"irregular_total\": 6, \"irregular\": ["
             "  {\"file\": \"000001-a.csv\", \"line\": 2, \"rule\": \"code_form\", \"reason\": \"档号写法\", \"severity\": \"error\"},"
             "  {\"file\": \"000001-a.csv\", \"line\": 3, \"rule\": \"duplicate\", \"reason\": \"重号\", \"severity\": \"error\"},"
             "  {\"file\": \"000002-b.csv\", \"name\": \"目录（修订）.csv\", \"line\": 2, \"rule\": \"unclosed_quote\","
             "   \"reason\": \"引号\", \"severity\": \"error\"},"
             "  {\"file\": \"000002-b.csv\", \"name\": \"目录（修订）.csv\", \"line\": 3, \"rule\": \"shape\", \"reason\": \"字段\","
             "   \"severity\": \"error\"},"
             "  {\"file\": \"000002-b.csv\", \"name\": \"目录（修订）.csv\", \"line\": 4, \"rule\": \"item_gap\", \"reason\": \"断号\","
             "   \"severity\": \"warning\"},"
             "  {\"file\": \"000002-b.csv\", \"name\": \"目录（修订）.csv\", \"line\": 5, \"rule\": \"mandatory\", \"reason\": \"缺\","
             "   \"severity\": \"error\"}]}");
    CHECK_INT(qc_format_report(&b, "catalog", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "录入率（必填项完整的条目）：100.00%（4 / 4 条）\n"
                              "不规范 5 处，警告 1 处\n得分（第 9 项）：4.00 / 5 分\n"
                              "  目录文件 000001-a.csv\n"
                              "  不规范 第 2 行  —  档号写法不规范：档号写法\n"
                              "  不规范 第 3 行  —  档号重复：重号\n"
                              "  目录文件 目录（修订）.csv\n"
                              "  不规范 第 2 行  —  引号未闭合：引号\n"
                              "  不规范 第 3 行  —  行格式不规范：字段\n"
                              "  警告   第 4 行  —  件号不连续：断号\n"
                              "  不规范 第 5 行  —  必填项缺失：缺\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"delivery\": \"2019批\", \"passed\": false, \"checks\": [{\"count\": 0, \"severity\": \"fail\","
             " \"title\": \"缺页\"}, {\"count\": 12, \"severity\": \"fail\", \"title\": \"空白页过多\"},"
             " {\"count\": 3, \"severity\": \"note\", \"title\": \"空白页\"}]}");
    CHECK_INT(qc_format_report(&b, "acceptance", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "交付批次 2019批：验收不通过\n"
                              "  通过        0  缺页\n"
                              "  不通过     12  空白页过多\n"
                              "  提示        3  空白页\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"deliveries\": [{\"name\": \"2019批\", \"passed\": true, \"files\": 3, \"pages\": 9,"
             " \"received_at\": \"2019-06-01T08:00:00Z\"}]}");
    CHECK_INT(qc_format_report(&b, "acceptance", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "2019批  验收通过  文件 3 个，9 页  接收时间 2019-06-01T08:00:00Z\n");
    json_decref(o);
    qc_buf_reset(&b);
    o = load("{\"deliveries\": []}");
    CHECK_INT(qc_format_report(&b, "acceptance", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "尚无交付批次（由 ingest 提交）\n");
    json_decref(o);

    qc_buf_reset(&b);
    o = load("{\"total\": 2, \"entries\": [{\"seq\": 7, \"time\": \"2024-05-01 10:00\", \"user\": \"li\", \"kind\": \"text\","
             " \"code\": \"Z099-WS·2017-Y-BGS-0001\", \"page\": 1, \"purpose\": \"测试查阅\", \"approval\": 4}]}");
    CHECK_INT(qc_format_report(&b, "register", o, zErr, sizeof zErr), PS_OK);
    CHECK_STR(qc_buf_str(&b), "利用登记簿：共 2 条\n"
                              "      7  2024-05-01 10:00  li  全文  Z099-WS·2017-Y-BGS-0001 第 1 页  测试查阅  （审批第 4 号）\n"
                              "  … 完整的登记簿请用 --format csv 或 --format html\n");
    json_decref(o);

    /* answers lacking what is needed */
    o = load("{}");
    CHECK_INT(qc_format_report(&b, "coverage", o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的数字化率报告中没有总件数");
    CHECK_INT(qc_format_report(&b, "catalog", o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的目录检查报告中没有条目数");
    CHECK_INT(qc_format_report(&b, "acceptance", o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的验收报告中没有检查项");
    CHECK_INT(qc_format_report(&b, "register", o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的利用登记簿中没有登记条目");
    CHECK_INT(qc_format_report(&b, "ledger", o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "indexd 的统计台账中没有数据行");
    json_decref(o);
    qc_buf_release(&b);
}

/* Answers of the wrong shape are reported or shown as far as they go,
 * never crashed on. */
static void test_format_robust(void)
{
    static const char *const azAns[] = {
        "{}", "{\"hits\": \"x\"}", "{\"hits\": [1, \"x\", null, [], {}]}",
        "{\"hits\": [{\"code\": 5, \"pages\": [\"a\", {}], \"snippet\": 7, \"exact\": \"no\"}],"
        " \"total\": \"many\", \"took_ms\": \"fast\", \"facets\": {\"year\": [1], \"fonds\": {\"Z\": \"x\"}}}",
        "{\"hits\": [], \"facets\": [1, 2]}",
        "{\"code\": \"C\", \"title\": {\"a\": [1]}, \"pages\": -1, \"stored_pages\": {\"1\": 1},"
        " \"retention\": 9, \"location\": 42, \"year\": 2.5, \"note\": true, \"author\": null}",
        "{\"imported\": 1, \"rejected\": {\"line\": 1}, \"warnings\": [7, {\"line\": \"x\"}],"
        " \"rejected_count\": -3, \"encoding\": 8}",
        "{\"text\": 1, \"status\": 2, \"page\": \"3\"}",
        "[]", "null", "\"string\"", "12",
    };
    for (size_t i = 0; i < sizeof azAns / sizeof azAns[0]; i++) {
        json_error_t je;
        json_t *o = json_loads(azAns[i], JSON_DECODE_ANY, &je);
        qc_buf b;
        char zErr[256];
        long long nRej;
        CHECK(o != NULL);
        qc_buf_init(&b, 0);
        int rc = qc_format_search(&b, o, QC_MARK_ANSI, zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        rc = qc_format_record(&b, o, zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        rc = qc_format_import(&b, o, &nRej, zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        rc = qc_format_page(&b, o, 1, zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        rc = qc_format_page_stored(&b, o, zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        rc = qc_format_health(&b, o, "http://h", zErr, sizeof zErr);
        CHECK(rc == PS_OK || rc == PS_INVALID);
        qc_buf_release(&b);
        json_decref(o);
    }
    /* a specific case: the record with odd values is still shown */
    {
        json_t *o = json_loads(azAns[5], 0, NULL);
        qc_buf b;
        char zErr[256];
        qc_buf_init(&b, 0);
        CHECK_INT(qc_format_record(&b, o, zErr, sizeof zErr), PS_OK);
        CHECK_HAS(qc_buf_str(&b), "题名          {\"a\":[1]}\n");
        CHECK_HAS(qc_buf_str(&b), "（未登记）");
        qc_buf_release(&b);
        json_decref(o);
    }
}

/* ---- error bodies --------------------------------------------------- */

/* what strerror would say in English reaches people in Chinese */
static void test_errno_cn(void)
{
    CHECK_STR(proto_errno_cn(ENOENT), "文件或文件夹不存在");
    CHECK_STR(proto_errno_cn(EISDIR), "这是文件夹，不是文件");
    CHECK_STR(proto_errno_cn(ENOSPC), "磁盘空间不足");
    const char *z = proto_errno_cn(EXDEV);
    CHECK(strncmp(z, "系统错误 ", strlen("系统错误 ")) == 0);
}

static void test_errors(void)
{
    char zErr[512], zSmall[8];
    json_t *o = load("{\"error\": {\"status\": \"invalid\", \"code\": 2, \"message\": \"日期 '2017-03-05' must be 8 digits\","
                     " \"field\": \"date\", \"line\": 12, \"param\": \"q\", \"offset\": 7}}");
    CHECK_INT(qc_client_describe_error(400, o, zErr, sizeof zErr), PS_INVALID);
    CHECK_STR(zErr, "日期 '2017-03-05' must be 8 digits（字段 date，第 12 行，参数 q，位置 7）");
    json_decref(o);

    o = load("{\"error\": {\"status\": \"not_found\", \"message\": \"no record with 档号 X\"}}");
    CHECK_INT(qc_client_describe_error(404, o, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_STR(zErr, "no record with 档号 X");
    json_decref(o);

    o = load("{\"error\": {\"status\": \"conflict\", \"code\": 99}}"); /* unknown code: the name counts */
    CHECK_INT(qc_client_describe_error(500, o, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_STR(zErr, proto_strerror(PS_CONFLICT)); /* no message: the status's own */
    json_decref(o);

    o = load("{\"error\": {\"status\": \"weird\", \"code\": 0, \"message\": \"x\\u001b[0m\", \"line\": \"7\"}}");
    CHECK_INT(qc_client_describe_error(503, o, zErr, sizeof zErr), PS_UNAVAILABLE);
    CHECK_STR(zErr, "x\xEF\xBF\xBD[0m");
    json_decref(o);

    CHECK_INT(qc_client_describe_error(502, NULL, zErr, sizeof zErr), PS_INTERNAL);
    CHECK_STR(zErr, "indexd 应答 HTTP 502，应答内容不是 JSON");
    o = load("{\"error\": \"gone\"}");
    CHECK_INT(qc_client_describe_error(404, o, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_STR(zErr, "indexd 应答 HTTP 404，没有错误说明");
    json_decref(o);

    o = load("{\"error\": {\"code\": 7, \"message\": \"精准扶贫\"}}");
    CHECK_INT(qc_client_describe_error(400, o, zSmall, sizeof zSmall), PS_BAD_QUERY);
    CHECK_STR(zSmall, "精准"); /* cut between characters, not inside one */
    json_decref(o);
}

/* ---- allocation failures -------------------------------------------- */

typedef int (*format_fn)(qc_buf *b, const json_t *o);
static int fmt_search(qc_buf *b, const json_t *o)
{
    char zErr[256];
    return qc_format_search(b, o, QC_MARK_ANSI, zErr, sizeof zErr);
}
static int fmt_record(qc_buf *b, const json_t *o)
{
    char zErr[256];
    return qc_format_record(b, json_array_get(json_object_get(o, "hits"), 0), zErr, sizeof zErr);
}

/* Make the 1st, 2nd, ... allocation fail: each run must end in PS_NOMEM or
 * give the same text as a run without failures. */
static void fault_loop(const char *zName, format_fn f, const json_t *o)
{
    qc_buf want, b;
    int nNomem = 0, done = 0;
    qc_buf_init(&want, 0);
    CHECK_INT(f(&want, o), PS_OK);
    for (long n = 1; n < 500 && !done; n++) {
        qc_buf_init(&b, 0);
        px_fail_after(n);
        int rc = f(&b, o);
        px_fail_reset();
        if (rc == PS_NOMEM) nNomem++;
        else if (rc == PS_OK) {
            done = 1;
            CHECK_STR(qc_buf_str(&b), qc_buf_str(&want));
        } else {
            fprintf(stderr, "%s: allocation %ld failing gave status %d\n", zName, n, rc);
            CHECK(0);
        }
        qc_buf_release(&b);
    }
    CHECK(done);
    CHECK(nNomem > 0);
    qc_buf_release(&want);
}

static void test_alloc_failures(void)
{
    json_t *o = load(zSearchAns);
    fault_loop("search", fmt_search, o);
    fault_loop("record", fmt_record, o);
    json_decref(o);

    qc_args a;
    char zErr[256];
    px_fail_after(1);
    CHECK_INT(parse(&a, zErr, sizeof zErr, "health", (char *)NULL), PS_NOMEM);
    px_fail_reset();
    qc_args_clear(&a);
}

/* ---- HTTP against a one-shot server ---------------------------------- */

/* A listening socket on a free loopback port. */
static int listen_any(int *pPort, int doListen)
{
    struct sockaddr_in sa;
    socklen_t n = sizeof sa;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 || (doListen && listen(s, 4) != 0) ||
        getsockname(s, (struct sockaddr *)&sa, &n) != 0) {
        perror("test server");
        exit(1);
    }
    *pPort = ntohs(sa.sin_port);
    return s;
}

/* Serve one request with zAnswer (a whole HTTP answer) in a child process;
 * the request's head and body come back in zReq. */
static int call_canned(const char *zAnswer, const char *zMethod, const char *zPath, const char *zType,
                       FILE *pBody, qc_answer *pAns, char *zErr, size_t nErr, char *zReq, size_t nReq)
{
    int port, fd[2];
    int s = listen_any(&port, 1);
    if (pipe(fd) != 0) exit(1);
    pid_t pid = fork();
    if (pid == 0) {
        char zBuf[8192];
        size_t n = 0;
        alarm(10);
        close(fd[0]);
        int c = accept(s, NULL, NULL);
        /* Read until the head is in and a body as long as announced. */
        for (;;) {
            ssize_t r = read(c, zBuf + n, sizeof zBuf - 1 - n);
            if (r <= 0) break;
            n += (size_t)r;
            zBuf[n] = 0;
            char *zEnd = strstr(zBuf, "\r\n\r\n");
            if (!zEnd) continue;
            char *zLen = strstr(zBuf, "Content-Length: ");
            size_t nBody = zLen && zLen < zEnd ? strtoul(zLen + 16, NULL, 10) : 0;
            if (strstr(zBuf, "chunked") && !strstr(zEnd, "\r\n0\r\n\r\n")) continue;
            if (n >= (size_t)(zEnd + 4 - zBuf) + nBody) break;
        }
        if (write(fd[1], zBuf, n) < 0) _exit(1);
        if (write(c, zAnswer, strlen(zAnswer)) < 0) _exit(1);
        shutdown(c, SHUT_WR);
        while (read(c, zBuf, sizeof zBuf) > 0) {
        }
        _exit(0);
    }
    close(s);
    close(fd[1]);
    char zBase[64];
    qc_client *c = NULL;
    snprintf(zBase, sizeof zBase, "http://127.0.0.1:%d", port);
    CHECK_INT(qc_client_new(zBase, &c), PS_OK);
    int rc = qc_client_call(c, zMethod, zPath, zType, pBody, pAns, zErr, nErr);
    qc_client_free(c);
    ssize_t n = read(fd[0], zReq, nReq - 1);
    zReq[n > 0 ? n : 0] = 0;
    close(fd[0]);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return rc;
}

#define HTTP_JSON(status, body) \
    "HTTP/1.1 " status "\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" body

static void test_http(void)
{
    qc_answer ans;
    char zErr[512], zReq[8192], zPath[128];
    qc_answer_init(&ans);
    snprintf(zPath, sizeof zPath, "/api/v1/records/%s", zCodeEsc);

    CHECK_INT(call_canned(HTTP_JSON("200 OK", "{\"code\":\"Z031-WS·2017-Y-BGS-0001\"}"), "GET", zPath, NULL, NULL,
                          &ans, zErr, sizeof zErr, zReq, sizeof zReq),
              PS_OK);
    CHECK_INT(ans.http, 200);
    CHECK_STR(json_string_value(json_object_get(ans.pJson, "code")), zCode);
    CHECK(strncmp(zReq, "GET /api/v1/records/Z031-WS%C2%B72017-Y-BGS-0001 HTTP/1.1\r\n", 58) == 0);

    CHECK_INT(call_canned(HTTP_JSON("200 OK", "<html>oops</html>"), "GET", "/healthz", NULL, NULL, &ans, zErr,
                          sizeof zErr, zReq, sizeof zReq),
              PS_INVALID);
    CHECK_HAS(zErr, "indexd 的应答（HTTP 200，17 字节）不是 JSON 对象：");
    CHECK_STR(qc_buf_str(&ans.body), "<html>oops</html>");

    CHECK_INT(call_canned(HTTP_JSON("200 OK", "[1,2]"), "GET", "/healthz", NULL, NULL, &ans, zErr, sizeof zErr,
                          zReq, sizeof zReq),
              PS_INVALID);
    CHECK_HAS(zErr, "不是 JSON 对象：是 JSON 值，但不是对象");
    CHECK_INT(call_canned(HTTP_JSON("200 OK", "{\"hits\": [1,"), "GET", "/healthz", NULL, NULL, &ans, zErr,
                          sizeof zErr, zReq, sizeof zReq),
              PS_INVALID);

    CHECK_INT(call_canned(HTTP_JSON("400 Bad Request",
                                    "{\"error\":{\"status\":\"bad_query\",\"code\":7,\"message\":\"unbalanced (\","
                                    "\"param\":\"q\",\"offset\":3}}"),
                          "GET", "/api/v1/search?q=(", NULL, NULL, &ans, zErr, sizeof zErr, zReq, sizeof zReq),
              PS_BAD_QUERY);
    CHECK_STR(zErr, "unbalanced (（参数 q，位置 3）");
    CHECK_INT(ans.http, 400);

    CHECK_INT(call_canned("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<h1>502</h1>",
                          "GET", "/healthz", NULL, NULL, &ans, zErr, sizeof zErr, zReq, sizeof zReq),
              PS_INTERNAL);
    CHECK_STR(zErr, "indexd 应答 HTTP 502，应答内容不是 JSON");

    /* an announced answer over the limit is refused before it is read */
    CHECK_INT(call_canned("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{",
                          "GET", "/healthz", NULL, NULL, &ans, zErr, sizeof zErr, zReq, sizeof zReq),
              PS_TOO_BIG);
    CHECK_STR(zErr, "indexd 的应答超过 256 MiB 的上限");

    /* a body from a file: PUT text/plain with its length */
    FILE *f = tmpfile();
    if (!f) exit(1);
    fputs("第一页的文字\n", f);
    rewind(f);
    CHECK_INT(call_canned(HTTP_JSON("201 Created", "{\"code\":\"x\",\"page\":2,\"replaced\":false}"), "PUT",
                          "/api/v1/records/x/pages/2", "text/plain; charset=utf-8", f, &ans, zErr, sizeof zErr, zReq,
                          sizeof zReq),
              PS_OK);
    fclose(f);
    CHECK(strncmp(zReq, "PUT /api/v1/records/x/pages/2 HTTP/1.1\r\n", 40) == 0);
    CHECK_HAS(zReq, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
    CHECK_HAS(zReq, "\r\nContent-Length: 19\r\n");
    CHECK_HAS(zReq, "\r\n\r\n第一页的文字\n");
    CHECK_LACKS(zReq, "Expect:");

    /* POST from a pipe: no length known, sent chunked */
    int fd[2];
    if (pipe(fd) != 0) exit(1);
    if (write(fd[1], "档号,题名\n", 14) != 14) exit(1);
    close(fd[1]);
    if (!(f = fdopen(fd[0], "rb"))) exit(1);
    CHECK_INT(call_canned(HTTP_JSON("200 OK", "{\"imported\":0}"), "POST", "/api/v1/catalog", "text/csv", f, &ans,
                          zErr, sizeof zErr, zReq, sizeof zReq),
              PS_OK);
    fclose(f);
    CHECK(strncmp(zReq, "POST /api/v1/catalog HTTP/1.1\r\n", 31) == 0);
    CHECK_HAS(zReq, "\r\nContent-Type: text/csv\r\n");
    CHECK_HAS(zReq, "Transfer-Encoding: chunked");
    CHECK_HAS(zReq, "档号,题名\n");

    /* nobody listening */
    int port;
    int s = listen_any(&port, 0);
    char zBase[128];
    qc_client *c = NULL;
    snprintf(zBase, sizeof zBase, "http://127.0.0.1:%d", port);
    CHECK_INT(qc_client_new(zBase, &c), PS_OK);
    CHECK_INT(qc_client_call(c, "GET", "/healthz", NULL, NULL, &ans, zErr, sizeof zErr), PS_NET);
    snprintf(zBase, sizeof zBase, "无法连接检索服务 indexd（http://127.0.0.1:%d）：", port);
    CHECK(strncmp(zErr, zBase, strlen(zBase)) == 0);
    CHECK_INT(ans.http, 0);
    qc_client_free(c);
    close(s);
    qc_answer_clear(&ans);
}

int main(void)
{
    px_install_json_allocator();
    qc_buf_init(&sOut, 0);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
    test_args();
    test_path();
    test_buf();
    test_width();
    test_clean();
    test_snippet();
    test_format_search();
    test_banner();
    test_format_record();
    test_format_import();
    test_format_other();
    test_format_report();
    test_format_robust();
    test_errors();
    test_errno_cn();
    test_alloc_failures();
    test_http();
    qc_buf_release(&sOut);
    curl_global_cleanup();
    fprintf(stderr, "%d checks, %d failed\n", nCheck, nFail);
    return nFail ? 1 : 0;
}
