/* The 档号 (archival code) of an item, DA/T 22-2015:
 *   全宗号-门类代码·年度-保管期限代码[-机构（问题）代码]-件号
 * e.g. Z031-WS·2017-Y-BGS-0001.  The parser splits a code into its parts,
 * accepts the look-alike separators that spreadsheets and input methods
 * produce (·・•．. and －), and writes the canonical form with U+00B7.
 * On failure it says which part is wrong and why. */
#ifndef PROTO_CODE_H
#define PROTO_CODE_H

#include <stddef.h>

#define PROTO_CODE_MAX 96 /* bytes of a canonical code, NUL included */

typedef struct {
    char zFonds[17];    /* 全宗号: letters and digits, 1-16 */
    char zCategory[9];  /* 门类代码: upper-case letters, 1-8 */
    int year;           /* 年度: 1900-2099 */
    char zRetention[4]; /* 保管期限代码: "Y", "D30" or "D10" */
    char zOrg[17];      /* 机构（问题）代码, "" when absent */
    int itemNo;         /* 件号: 1-9999, written as 4 digits */
    char zCanonical[PROTO_CODE_MAX];
} proto_code;

/* Parse z.  Returns PS_OK and fills *pOut, or PS_INVALID with a message in
 * zErr (naming the part: "件号 '12' must be 4 digits, zero-padded"). */
int proto_code_parse(const char *z, proto_code *pOut, char *zErr, size_t nErr);

/* Map a retention as written in catalogs (Y, D30, D10, 永久, 30年, 10年,
 * 长期 is refused) to its code, or NULL when unknown. */
const char *proto_retention_code(const char *z);

#endif
