/* Unit tests of the tokenizer, the index terms and the search form. */
#include "idx_schema.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "px_test.h"

#include <stdio.h>

static char zOut[8192];
static size_t nOut;

static int tok_cb(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar,
                  size_t iStart, size_t iEnd)
{
    (void)ctx; (void)nChar; (void)iStart; (void)iEnd;
    nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%s%.*s|",
                             kind == IDX_TOK_WORD ? "W:" : kind == IDX_TOK_HAN ? "H:" : "B", (int)n, z);
    return 0;
}

static const char *toks(const char *z)
{
    nOut = 0;
    zOut[0] = 0;
    idx_text_scan(z, strlen(z), tok_cb, NULL);
    return zOut;
}

static int term_cb(void *ctx, const char *z, size_t n, unsigned pos)
{
    (void)ctx;
    if (pos) nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%.*s@%u ", (int)n, z, pos);
    else nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%.*s ", (int)n, z);
    return 0;
}

/* The longest term and whether every term ends at a character boundary. */
static size_t nLongest;
static int allWhole;
static int long_cb(void *ctx, const char *z, size_t n, unsigned pos)
{
    (void)ctx;
    (void)pos;
    if (n > nLongest) nLongest = n;
    for (size_t i = 0; i < n;) {  /* the last character is complete */
        unsigned char c = (unsigned char)z[i];
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        if (i + k > n) allWhole = 0;
        i += k;
    }
    return 0;
}

/* [iStart, iEnd) of the first word token. */
static size_t iWordStart, iWordEnd;
static int wordSeen;
static int span_cb(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar, size_t iStart,
                   size_t iEnd)
{
    (void)ctx, (void)z, (void)n, (void)nChar;
    if (kind == IDX_TOK_WORD && !wordSeen) {
        wordSeen = 1;
        iWordStart = iStart;
        iWordEnd = iEnd;
    }
    return 0;
}

static int nPair;
static int count_cb(void *ctx, const char *z, size_t n, unsigned pos)
{
    (void)ctx;
    (void)z;
    nPair += n == 6 && pos > 0;
    return 0;
}

static const char *terms(const char *z, const char *zPrefix)
{
    nOut = 0;
    zOut[0] = 0;
    unsigned pos = 0;
    idx_text_index(z, strlen(z), zPrefix, &pos, term_cb, NULL);
    return zOut;
}

int main(void)
{
    /* Words fold case and full-width forms; a line break inside a Han run
     * does not split it; punctuation does. */
    CHECK_STR(toks("Hello ＷＯＲＬＤ 2017"), "W:hello|W:world|W:2017|");
    CHECK_STR(toks("精准扶\n贫，工作"), "H:精准扶贫|B|H:工作|");
    CHECK_STR(toks("GB2312编码"), "W:gb2312|H:编码|");
    CHECK_STR(toks("扶贫 办〔2017〕12号"), "H:扶贫办|B|W:2017|B|W:12|H:号|");
    CHECK_STR(toks("二〇一七年"), "H:二〇一七年|");
    CHECK_STR(toks("bad\xFFutf8"), "W:bad|B|W:utf8|");

    /* Each unit (a character, a word) without position, and each pair of
     * neighbouring units at the position of its first; a word and its
     * neighbour with a space between; nothing across punctuation, which
     * leaves a gap in the positions. */
    CHECK_STR(terms("扶贫办", ""), "扶 贫 扶贫@1 办 贫办@2 ");
    CHECK_STR(terms("扶贫，工作", ""), "扶 贫 扶贫@1 工 作 工作@4 ");
    CHECK_STR(terms("GB2312编码", "S"), "Sgb2312 S编 Sgb2312 编@1 S码 S编码@2 ");
    CHECK_STR(terms("精准扶\n贫", ""), "精 准 精准@1 扶 准扶@2 贫 扶贫@3 ");
    CHECK_STR(terms("第3号 hello world", ""), "第 3 第 3@1 号 3 号@2 hello 号 hello@3 world hello world@4 ");
    char zPair[64];
    CHECK_INT(idx_pair_term(zPair, sizeof zPair, "扶", 3, 1, "贫", 3, 1), 6);
    CHECK_STR(zPair, "扶贫");
    CHECK_INT(idx_pair_term(zPair, sizeof zPair, "12", 2, 0, "号", 3, 1), 6);
    CHECK_STR(zPair, "12 号");
    CHECK_INT(idx_pair_term(zPair, 4, "12", 2, 0, "号", 3, 1), 0);
    /* Positions go on from where the caller left them, past a gap. */
    unsigned pos = 10;
    nOut = 0;
    CHECK_INT(idx_text_index("扶贫", strlen("扶贫"), "", &pos, term_cb, NULL), 0);
    CHECK_STR(zOut, "扶 贫 扶贫@10 ");
    CHECK_INT(pos, 14);

    /* A run too long to take at once is cut, but no pair is lost at the cut. */
    char zLong[3 * 1500 + 1];
    for (int i = 0; i < 1500; i++) memcpy(zLong + 3 * i, i % 2 ? "贫" : "扶", 3);
    zLong[3 * 1500] = 0;
    nOut = 0;
    idx_text_index(zLong, strlen(zLong), "", NULL, count_cb, NULL);
    CHECK_INT(nPair, 1499);
    idx_form f2;
    CHECK_INT(idx_form_build(&f2, zLong, strlen(zLong), 0), 0);
    CHECK_INT(f2.n, strlen(zLong));
    idx_form_clear(&f2);

    /* Forms appended section by section. */
    idx_form g;
    memset(&g, 0, sizeof g);
    CHECK_INT(idx_form_append(&g, "\x1ES", "题名 Ａ", strlen("题名 Ａ")), 0);
    CHECK_INT(idx_form_append(&g, "\x1EP", "正文", strlen("正文")), 0);
    CHECK_STR(g.z, "\x1ES题名\x01" "a" "\x01\x1EP正文");
    idx_form_clear(&g);

    /* The search form and its map back to the original bytes. */
    idx_form f;
    const char *zText = "开展精准扶\n贫工作。GB2312";
    CHECK_INT(idx_form_build(&f, zText, strlen(zText), 1), 0);
    CHECK_STR(f.z, "开展精准扶贫工作\x1F\x01gb2312\x01");
    const char *zHit = strstr(f.z, "扶贫");
    size_t k = (size_t)(zHit - f.z);
    CHECK_INT(f.aiOrig[k], strlen("开展精准"));
    CHECK_INT(f.aiOrigEnd[k + 3], strlen("开展精准扶\n贫"));  /* 贫 ends after the line break */
    idx_form_clear(&f);

    /* A personal number written with separators is one word (idx_mask.h):
     * its digits joined, folded; [iStart, iEnd) spans it as written. */
    CHECK_STR(toks("身份证110101 19900307 1233号"), "H:身份证|W:110101199003071233|H:号|");
    CHECK_STR(toks("证号110101-19900307-123X。"), "H:证号|W:11010119900307123x|B|");
    CHECK_STR(toks("１１０１０１　１９９００３０７　１２３ｘ"), "W:11010119900307123x|");
    CHECK_STR(toks("电话 138-1234-5678，+86 138 1234 5678"), "H:电话|W:13812345678|B|B|W:8613812345678|");
    CHECK_STR(toks("卡6228 4800 1234 5678 901"), "H:卡|W:6228480012345678901|");
    CHECK_STR(toks("开户行账号：6228 4800 1234 567"), "H:开户行账号|B|W:622848001234567|");
    CHECK_STR(toks("ID110101 19900307 1233abc"), "W:id|W:110101199003071233|W:abc|");
    /* what is not a number stays apart: dates, six spaces, no keyword, a
     * phone number's groups on three lines */
    CHECK_STR(toks("2017 0305 2018"), "W:2017|W:0305|W:2018|");
    CHECK_STR(toks("110101      19900307      1233"), "W:110101|W:19900307|W:1233|");
    CHECK_STR(toks("138\n1234\n5678"), "W:138|W:1234|W:5678|");
    /* a number wrapped at the end of a line is one word: its middle cannot be searched alone */
    CHECK_STR(toks("110101  19900307\n1233"), "W:110101199003071233|");
    CHECK_STR(toks("6228 4800 1234 567"), "W:6228|W:4800|W:1234|W:567|");
    CHECK_STR(toks("138 1234"), "W:138|W:1234|");
    const char *zNum = "号码：110101 19900307 1233。";
    wordSeen = 0;
    idx_text_scan(zNum, strlen(zNum), span_cb, NULL);
    CHECK_INT(iWordStart, strlen("号码："));
    CHECK_INT(iWordEnd, strlen("号码：110101 19900307 1233"));
    /* so the hidden birth date is no term, and the form holds the whole number */
    CHECK_STR(terms("户主110101 19900307 1233", ""), "户 主 户主@1 110101199003071233 主 110101199003071233@2 ");
    idx_form fn;
    CHECK_INT(idx_form_build(&fn, zNum, strlen(zNum), 1), 0);
    CHECK_STR(fn.z, "号码\x1F\x01" "110101199003071233\x01\x1F");
    CHECK_INT(fn.aiOrig[strlen("号码\x1F\x01")], strlen("号码："));
    CHECK_INT(fn.aiOrigEnd[strlen("号码\x1F\x01" "110101199003071233") - 1], strlen("号码：110101 19900307 1233"));
    idx_form_clear(&fn);

    /* Terms are cut to IDX_TERM_MAX bytes with their prefix, at a character
     * boundary: a 300-letter word, a 300-digit run, 100 kana. */
    char zWord[1024];
    memset(zWord, 'l', 300);
    zWord[300] = 0;
    CHECK_INT(idx_term_cut(0, zWord, 300), IDX_TERM_MAX);
    CHECK_INT(idx_term_cut(2, zWord, 300), IDX_TERM_MAX - 2);
    CHECK_INT(idx_term_cut(2, "abc", 3), 3);
    nLongest = 0;
    CHECK_INT(idx_text_index(zWord, 300, "XN", NULL, long_cb, NULL), 0);
    CHECK_INT(nLongest, IDX_TERM_MAX);
    memset(zWord, '7', 300);
    nLongest = 0;
    CHECK_INT(idx_text_index(zWord, 300, "S", NULL, long_cb, NULL), 0);
    CHECK_INT(nLongest, IDX_TERM_MAX);
    for (int i = 0; i < 100; i++) memcpy(zWord + 3 * i, "\xE3\x81\x82", 3); /* あ */
    zWord[300] = 0;
    nLongest = 0;
    allWhole = 1;
    CHECK_INT(idx_text_index(zWord, 300, "S", NULL, long_cb, NULL), 0);
    CHECK(nLongest <= IDX_TERM_MAX && nLongest > IDX_TERM_MAX - 3);
    CHECK_INT((nLongest - 1) % 3, 0);
    CHECK(allWhole);
    CHECK_INT(idx_term_cut(1, zWord, 300), 237);

    /* Out of memory in the form is reported. */
    px_fail_after(1);
    CHECK(idx_form_build(&f, zText, strlen(zText), 1) != 0);
    px_fail_reset();
    return px_test_done();
}
