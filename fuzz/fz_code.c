/* The 档号 parser, fed by URLs, JSON and catalogs.  Its canonical form names
 * files of page images, so besides re-parsing to itself it must never hold
 * anything a path could climb with; its error messages go out in JSON, so
 * they must stay UTF-8 when the input was, even cut to a caller's buffer. */
#include "fz_check.h"
#include "proto_code.h"
#include "proto_record.h"
#include "proto_status.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

static int canonical_chars(const char *z)
{
    for (size_t i = 0; z[i]; i++) {
        unsigned char c = (unsigned char)z[i];
        if (isalnum(c) || c == '-') continue;
        if (c == 0xC2 && (unsigned char)z[i + 1] == 0xB7) { i++; continue; }
        return 0;
    }
    return 1;
}

static int all(const char *z, int (*pred)(int))
{
    for (; *z; z++)
        if (!pred((unsigned char)*z)) return 0;
    return 1;
}

static int is_upper_alnum(int c) { return isupper(c) || isdigit(c); }

static void check_parsed(const proto_code *c)
{
    char z[PROTO_CODE_MAX * 2];
    size_t nFonds = strlen(c->zFonds), nCat = strlen(c->zCategory), nOrg = strlen(c->zOrg);
    FZ_CHECK(nFonds >= 1 && nFonds <= 16 && all(c->zFonds, isalnum));
    FZ_CHECK(nCat >= 1 && nCat <= 8 && all(c->zCategory, isupper));
    FZ_CHECK(nOrg <= 16 && all(c->zOrg, is_upper_alnum));
    FZ_CHECK(c->year >= 1900 && c->year <= 2099);
    FZ_CHECK(c->itemNo >= 1 && c->itemNo <= 9999);
    FZ_CHECK(strcmp(c->zRetention, "Y") == 0 || strcmp(c->zRetention, "D30") == 0 ||
             strcmp(c->zRetention, "D10") == 0);
    /* the canonical form is the parts, and only letters, digits, - and · */
    snprintf(z, sizeof z, "%s-%s\xC2\xB7%04d-%s%s%s-%04d", c->zFonds, c->zCategory, c->year, c->zRetention,
             nOrg ? "-" : "", c->zOrg, c->itemNo);
    FZ_CHECK(strcmp(z, c->zCanonical) == 0);
    FZ_CHECK(strlen(c->zCanonical) < PROTO_CODE_MAX);
    FZ_CHECK(canonical_chars(c->zCanonical));
    FZ_CHECK(!strchr(c->zCanonical, '/') && !strchr(c->zCanonical, '\\') && !strstr(c->zCanonical, ".."));
}

/* The canonical form with its '·' written as another accepted separator
 * must parse to the same code. */
static void check_separator(const proto_code *c, const char *zDot)
{
    char z[PROTO_CODE_MAX * 2], zErr[256];
    const char *zMid = strstr(c->zCanonical, "\xC2\xB7");
    FZ_CHECK(zMid != NULL);
    snprintf(z, sizeof z, "%.*s%s%s", (int)(zMid - c->zCanonical), c->zCanonical, zDot, zMid + 2);
    proto_code c2;
    FZ_CHECK(proto_code_parse(z, &c2, zErr, sizeof zErr) == PS_OK);
    FZ_CHECK(strcmp(c2.zCanonical, c->zCanonical) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    char *z = malloc(n + 1);
    if (!z) return 0;
    memcpy(z, d, n);
    z[n] = 0;
    size_t len = strlen(z);  /* a C string ends at its first NUL */
    int utf8 = proto_utf8_valid(z, len);

    proto_code c, c2;
    char zErr[256], zShort[160];
    memset(zErr, 0x55, sizeof zErr);
    int rc = proto_code_parse(z, &c, zErr, sizeof zErr);
    FZ_CHECK(rc == PS_OK || rc == PS_INVALID);
    if (rc == PS_OK) {
        check_parsed(&c);
        FZ_CHECK(proto_code_parse(c.zCanonical, &c2, zErr, sizeof zErr) == PS_OK);
        FZ_CHECK(memcmp(&c, &c2, sizeof c) == 0);
        check_separator(&c, ".");
        check_separator(&c, "\xEF\xBC\x8E");  /* ． */
    } else {
        FZ_CHECK(memchr(zErr, 0, sizeof zErr) != NULL && zErr[0]);
        if (utf8) FZ_CHECK(proto_utf8_valid(zErr, strlen(zErr)));
        /* a smaller buffer, as the catalog audit gives: cut, still UTF-8 */
        FZ_CHECK(proto_code_parse(z, &c2, zShort, sizeof zShort) == PS_INVALID);
        if (utf8) FZ_CHECK(proto_utf8_valid(zShort, strlen(zShort)));
    }

    const char *zRet = proto_retention_code(z);
    FZ_CHECK(!zRet || strcmp(zRet, "Y") == 0 || strcmp(zRet, "D30") == 0 || strcmp(zRet, "D10") == 0);
    free(z);
    return 0;
}
