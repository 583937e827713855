/* Unit tests of the masking of personal numbers (idx_mask). */
#include "idx_mask.h"
#include "proto_status.h"
#include "px_test.h"

#include <stdio.h>
#include <string.h>

static void test_mask(void)
{
    char z[256];
    snprintf(z, sizeof z, "户主身份证号110101199003071234，电话13800138000。");
    CHECK_INT(idx_mask_text(z, strlen(z), 0), 1);
    CHECK_STR(z, "户主身份证号110101********1234，电话13800138000。");
    snprintf(z, sizeof z, "11010119900307123X and 11010119900307123x.");
    CHECK_INT(idx_mask_text(z, strlen(z), 0), 2);
    CHECK_STR(z, "110101********123X and 110101********123x.");
    /* longer runs (account numbers) and shorter ones are left alone */
    snprintf(z, sizeof z, "6222021101019900307123 1101011990030712 11010119900307123X9");
    CHECK_INT(idx_mask_text(z, strlen(z), 0), 0);
    /* a number split by a snippet's <mark> */
    snprintf(z, sizeof z, "号<mark>110101</mark>199003071234<mark>户</mark>");
    CHECK_INT(idx_mask_text(z, strlen(z), 1), 1);
    CHECK_STR(z, "号<mark>110101</mark>********1234<mark>户</mark>");
    snprintf(z, sizeof z, "110101199003071234");
    CHECK_INT(idx_mask_text(z, strlen(z), 0), 1);
    CHECK_STR(z, "110101********1234");
    CHECK_INT(idx_mask_text(z, 0, 0), 0);
}

int main(void)
{
    test_mask();
    return px_test_done();
}
