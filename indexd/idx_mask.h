/* Personal numbers in text, hidden from callers without the `ids` right
 * (proto/README.md "Access control"): 身份证号, bank card and account
 * numbers, mobile phone numbers.  One detector serves the masking of every
 * answer (text, titles, snippets, exports, the register), the blacking out
 * of page images and the refusal of searches by such a number.
 *
 * Masking keeps a text's length in bytes: an ASCII digit becomes '*', a
 * full-width one '＊' (U+FF0A, three bytes like the digit).  Hidden:
 * the 8 birth-date digits of an ID number (110101********1234); all
 * but the first 6 and last 4 digits of a card or account number; digits
 * 4-7 of a mobile number (138****5678). */
#ifndef IDX_MASK_H
#define IDX_MASK_H

#include <jansson.h>
#include <stddef.h>

enum { IDX_PII_ID = 1, IDX_PII_CARD = 2, IDX_PII_ACCOUNT = 4, IDX_PII_PHONE = 8 };

/* Called for each hidden character: [a, b) are its bytes in the text. */
typedef void (*idx_mask_fn)(void *ctx, size_t a, size_t b, int kind);

/* Find the personal numbers of z[0..n) and report their hidden characters
 * to xHide (may be NULL).  With html, <…> tags are skipped over and do not
 * break a number (a snippet's <mark>).  Returns the numbers found. */
unsigned idx_mask_find(const char *z, size_t n, int html, idx_mask_fn xHide, void *ctx);

/* Mask in place, length unchanged; returns the numbers masked. */
unsigned idx_mask_text(char *z, size_t n, int html);

/* Every string in o, in place (the value of a "snippet" key is HTML). */
void idx_mask_json(json_t *o);

/* 1 when searching zQuery would let a caller who may not see these
 * numbers confirm one: the query, read as the index reads text, holds a
 * whole number of a kind that is masked.  Also 1 when out of memory. */
int idx_mask_query_refused(const char *zQuery);

#endif
