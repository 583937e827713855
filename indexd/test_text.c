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

static int term_cb(void *ctx, const char *z, size_t n, unsigned pos)
{
    (void)ctx;
    if (pos) nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%.*s@%u ", (int)n, z, pos);
    else nOut += (size_t)snprintf(zOut + nOut, sizeof zOut - nOut, "%.*s ", (int)n, z);
    return 0;
}

static const char *terms(const char *z, const char *zPrefix)
{
    unsigned pos = 1;
    nOut = 0;
    zOut[0] = 0;
    idx_text_index(z, strlen(z), zPrefix, &pos, 1000, term_cb, NULL, NULL);
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

    /* Pairs at the position of their first character; single characters
     * without position; edges touching a word get a position too. */
    CHECK_STR(terms("扶贫办", ""), "扶 贫 扶贫@1 办 贫办@2 ");
    CHECK_STR(terms("扶贫，工作", ""), "扶 贫 扶贫@1 工 作 工作@4 ");
    CHECK_STR(terms("GB2312编码", "S"), "Sgb2312@1 S编 S编@2 S码 S编码@2 ");
    CHECK_STR(terms("编码abc", ""), "编 码 编码@1 码@2 abc@3 ");
    CHECK_STR(terms("12号", ""), "12@1 号 号@2 ");

    unsigned pos = 1;
    int truncated = 0;
    nOut = 0;
    idx_text_index("一二三四五六七八九十", strlen("一二三四五六七八九十"), "", &pos, 5, term_cb, NULL, &truncated);
    CHECK(truncated);

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
