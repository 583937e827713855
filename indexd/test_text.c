/* Unit tests of the tokenizer, the index terms and the search form. */
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

static int term_cb(void *ctx, const char *z, size_t n)
{
    (void)ctx;
    nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%.*s ", (int)n, z);
    return 0;
}

static int nPair;
static int count_cb(void *ctx, const char *z, size_t n)
{
    (void)ctx;
    (void)z;
    nPair += n == 6;
    return 0;
}

static const char *terms(const char *z, const char *zPrefix)
{
    nOut = 0;
    zOut[0] = 0;
    idx_text_index(z, strlen(z), zPrefix, term_cb, NULL);
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

    /* Each character and each pair of neighbours; words whole; nothing
     * across punctuation. */
    CHECK_STR(terms("扶贫办", ""), "扶 贫 扶贫 办 贫办 ");
    CHECK_STR(terms("扶贫，工作", ""), "扶 贫 扶贫 工 作 工作 ");
    CHECK_STR(terms("GB2312编码", "S"), "Sgb2312 S编 S码 S编码 ");
    CHECK_STR(terms("精准扶\n贫", ""), "精 准 精准 扶 准扶 贫 扶贫 ");

    /* A run too long to take at once is cut, but no pair is lost at the cut. */
    char zLong[3 * 1500 + 1];
    for (int i = 0; i < 1500; i++) memcpy(zLong + 3 * i, i % 2 ? "贫" : "扶", 3);
    zLong[3 * 1500] = 0;
    nOut = 0;
    idx_text_index(zLong, strlen(zLong), "", count_cb, NULL);
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

    /* Out of memory in the form is reported. */
    px_fail_after(1);
    CHECK(idx_form_build(&f, zText, strlen(zText), 1) != 0);
    px_fail_reset();
    return px_test_done();
}
