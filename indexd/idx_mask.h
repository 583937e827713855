/* Personal numbers in text, hidden from callers without the `ids` right
 * (proto/README.md "Access control"): 身份证号, bank card and account
 * numbers, mobile phone numbers.  One detector serves the masking of every
 * answer (text, titles, snippets, exports, the register), the blacking out
 * of page images, the tokenizer (a number written with separators is one
 * word, idx_text.h) and the refusal of searches by such a number.
 *
 * What is a number.  Digits are half-width (0-9) or full-width (０-９); a
 * number is bounded by non-digits on both sides (a longer digit run is not
 * one) and may be written in groups joined by runs of one to five
 * separators.  Spaces of every width, hyphens and dashes, '/' and '_', and
 * the invisible soft hyphen, joiners and BOM join every kind; dots (. ． ·
 * ・ •) every kind but accounts; line breaks, tabs, list punctuation (, ，
 * 、 : ： ~ ～ 〜) and bars (| ｜) only ID numbers.
 * - 身份证号: 17 digits and a digit or X (X x Ｘ ｘ, and × Ⅹ and the
 *   Cyrillic and Greek letters that OCR reads for it), contiguous or as
 *   6-8-4 or its halves.  It is one when its ISO 7064 MOD 11-2 check digit
 *   is right, and ALSO when the check digit is wrong but digits 7-14 are a
 *   real date 19000101-20991231: an OCR misread of one digit must still be
 *   hidden, and masking an unrelated number is the safer error.  In any
 *   other grouping (2 to 6 groups: 4-4-4-4-2, a space out of place) both
 *   must hold.  Hidden: the 8 birth-date digits (110101********1234).
 *   The 15-digit numbers of before 1999 (a region, YYMMDD of a real day,
 *   3 digits), contiguous or 6-6-3: the 6 birth-date digits.
 * - bank card: 16-19 digits, contiguous or in groups of 4 (the last 1-3),
 *   starting with 62 (UnionPay), or passing the Luhn check and starting
 *   as cards do (3-6, 9, or 2221-2720: four years in a row, 2017 2018 2019
 *   2020, may pass Luhn but are no card); a UnionPay number (62…) in any
 *   grouping of 2 to 6 groups; not an ID number.  Hidden: all
 *   but the first 6 and last 4 digits.
 * - account: 8-30 digits that follow one of 账号 帐号 账户 帐户 卡号 存折
 *   折号 银行卡 一卡通 (traditional forms too; a label padded with spaces,
 *   账　　号, too) within 16 characters (none a digit), contiguous or in
 *   groups of at most 6 digits (6228 4800 1234 567), and not followed by
 *   an amount's unit or decimal point (余额 12340000 元).  Hidden: all but the first 6
 *   and last 4 digits; of 10 digits or fewer, all but the last 4.
 * - mobile phone: 1[3-9] and 9 digits, optionally after 86 (+86), contiguous
 *   or as 3-4-4, 3-8 or 7-4.  Hidden: digits 4-7 (138****5678).  Landlines (0571-
 *   88888888) are left alone: they are offices' numbers; so are other
 *   groupings (1381 2345 678 reads as a count as often as a phone).
 * Numbers may overlap (a chain of groups read two ways): every reading
 * hides its digits.
 *
 * Masking keeps a text's length in bytes: an ASCII digit becomes '*', a
 * full-width one '＊' (U+FF0A, three bytes like the digit).  Masking is
 * idempotent: the visible part of a masked number next to a mask character
 * never starts or ends a number written with separators.  Every function
 * here works in one pass, in time linear in the text and constant memory,
 * and none allocates (but idx_mask_query_refused), so out of memory can
 * never leave a number visible. */
#ifndef IDX_MASK_H
#define IDX_MASK_H

#include <jansson.h>
#include <stddef.h>

enum { IDX_PII_ID = 1, IDX_PII_CARD = 2, IDX_PII_ACCOUNT = 4, IDX_PII_PHONE = 8 };

/* Called for each hidden character: [a, b) are its bytes in the text (one
 * digit), kind the IDX_PII_* kinds (OR'ed) of the numbers hiding it.
 * Characters come in text order, each once. */
typedef void (*idx_mask_fn)(void *ctx, size_t a, size_t b, int kind);

/* Find the personal numbers of z[0..n) and report their hidden characters
 * to xHide (may be NULL).  With html, <…> tags are skipped over and do not
 * break a number (a snippet's <mark>), and an entity (&…;) is one character
 * that is never a digit.  Returns the numbers found (overlapping readings
 * of one chain of groups count once). */
unsigned idx_mask_find(const char *z, size_t n, int html, idx_mask_fn xHide, void *ctx);

/* Mask in place, length unchanged; returns the numbers masked. */
unsigned idx_mask_text(char *z, size_t n, int html);

/* Every string in o, in place (the value of a "snippet" key is HTML), but
 * the ids the daemon makes ("id", "draw", "run", "scored_run"). */
void idx_mask_json(json_t *o);

/* 1 when searching zQuery would let a caller who may not see these
 * numbers confirm one: the query, read as the index reads it (the tokens
 * of idx_text_scan: full-width folded, ｘ as x, a number written with
 * separators as one word), holds a whole number of a kind that is masked.
 * Because the index cannot tell which of its numbers followed an account
 * keyword, a run of 11-30 digits counts as an account number in a query
 * even without one (an 8-10 digit run only after a keyword: dates such as
 * 20170305 stay searchable).  Also 1 when out of memory. */
int idx_mask_query_refused(const char *zQuery);

/* ---- the numbers written with separators, for the tokenizer ----------- */

#define IDX_MASK_DIGITS 30  /* the longest number (an account) */
#define IDX_MASK_WINDOW 64  /* groups of digits kept while reading */

/* One run of digits (private to idx_mask.c). */
typedef struct {
    size_t a, b;                        /* its bytes [a, b) */
    unsigned nChar;                     /* digits, and a final X */
    unsigned flags;
    unsigned char join;                 /* kinds its separators before it may join */
    char zDig[IDX_MASK_DIGITS + 1];     /* its first characters as ASCII */
    unsigned char aHide[IDX_MASK_DIGITS]; /* per character: kinds hiding it */
} idx_mask_group;

/* A reader of one text (fields private to idx_mask.c; it lives on the
 * caller's stack, about 8 KiB). */
typedef struct {
    const char *z;
    size_t n, i, iNoTag;
    int html;
    unsigned long g0, gN;               /* groups g0..gN-1 are kept */
    int inGroup, pending;               /* gN-1 grows / its right side is open */
    unsigned nBetween, nSepBetween;
    unsigned joinKinds;                 /* kinds the separators read may join */
    int firstMask, lastMask;
    int prevMask;       /* the last character read was a mask character */
    unsigned kwDist;
    unsigned aHist[3];
    int acctOpen;
    unsigned long acctFirst, acctLast;
    unsigned acctDigits, acctWidest;
    int compOpen;
    size_t compA, compB;
    unsigned compGroups;
    unsigned nFound;
    idx_mask_fn xHide;
    void *ctx;
    unsigned nSpan, iSpan;
    size_t aSpan[IDX_MASK_WINDOW][2];   /* found, not yet taken */
    idx_mask_group aG[IDX_MASK_WINDOW];
} idx_mask_iter;

/* Read z[0..n) (not HTML) for idx_mask_iter_next. */
void idx_mask_iter_init(idx_mask_iter *p, const char *z, size_t n);

/* The next number written with separators (more than one group of digits,
 * or overlapping readings that span several), in text order: its bytes
 * [*pA, *pB), from its first digit to its last digit or X.  0 when there
 * is none left. */
int idx_mask_iter_next(idx_mask_iter *p, size_t *pA, size_t *pB);

#endif
