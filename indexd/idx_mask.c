/* Personal numbers in text (see idx_mask.h).
 *
 * The text is read once, character by character.  Digits make groups (a
 * maximal run of digits, and an X after them when no digit follows); a
 * group joined to the one before by exactly one separator continues a
 * chain.  When a group's right side is known (the next group starts, or a
 * character that cannot join or glue arrives), every reading of the chain
 * that ends there is checked against the shapes of the kinds (a handful
 * of group lengths each) and the account keyword context; a reading that
 * holds marks its hidden digits.  Groups are reported (their hidden
 * characters, the numbers they make up) once no later reading can reach
 * them: a reading is at most IDX_MASK_DIGITS groups long, so a window of
 * groups suffices and memory stays constant. */
#include "idx_mask.h"
#include "idx_text.h"
#include "proto_alloc.h"
#include "proto_enc.h"

#include <limits.h>
#include <string.h>

#define KW_GAP 16             /* characters between an account keyword and its number */
#define KW_NONE UINT_MAX
#define KEEP (IDX_MASK_DIGITS + 2) /* groups kept behind the newest one */
#define ACCT_GROUP_MAX 6      /* digits of one group of an account written in groups */
#define QUERY_ACCT_MIN 11     /* digits of a run a query cannot hold */
#define READING_MAX 6         /* groups of one ID, card or phone reading */
#define SEP_RUN_MAX 5         /* separators that may stand between two groups */

enum { C_END, C_DIGIT, C_X, C_SEP, C_MASK, C_OTHER };

enum {
    G_JOINED = 1,    /* one separator joins it to the group before */
    G_KW = 2,        /* the first digits after an account keyword */
    G_GLUED_L = 4,   /* the tail of a masked number: a mask character before it */
    G_GLUED_R = 8,   /* the head of a masked number: a mask character after it */
    G_X = 16,        /* ends with X */
    G_IN = 32,       /* part of a number */
    G_LINK = 64,     /* part of the same number as the next group */
};

_Static_assert((IDX_MASK_WINDOW & (IDX_MASK_WINDOW - 1)) == 0, "the window is a power of 2");
_Static_assert(IDX_MASK_WINDOW >= KEEP + 2, "the window holds every group a reading can reach");

static idx_mask_group *grp(idx_mask_iter *p, unsigned long k)
{
    return &p->aG[k & (IDX_MASK_WINDOW - 1)];
}

/* ---- characters ------------------------------------------------------ */

static int is_entity_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '#';
}

#define ALL_KINDS (IDX_PII_ID | IDX_PII_CARD | IDX_PII_ACCOUNT | IDX_PII_PHONE)

/* What may stand between the groups of one number as people and OCR write
 * it, and the kinds of number it may join (0: it is no separator).
 * Spaces of every width, hyphens and dashes, slashes and underscores join
 * every kind.  Dots (. ． · ・ •) join all but accounts: after an account
 * keyword "余额 12345678.90" is an amount.  Line breaks and tabs (a number
 * wrapped at the end of a line, a table's columns) and the punctuation of
 * lists (, ， 、 : ： ~ ～) join only ID numbers, whose check digit and
 * birth date make a chance match rare; in a table two columns of numbers
 * would otherwise make phone numbers. */
static unsigned sep_kinds(unsigned c)
{
    if (c == ' ' || c == 0x3000 || c == 0xA0 || (c >= 0x2000 && c <= 0x200D) || c == 0x202F || c == 0x205F || c == '-' ||
        c == 0xFF0D || (c >= 0x2010 && c <= 0x2015) || c == 0x2212 || c == '/' || c == 0xFF0F || c == '_' ||
        c == 0xAD || c == 0x2060 || c == 0xFEFF) /* and the invisible ones: soft hyphen, joiners, BOM */
        return ALL_KINDS;
    if (c == '.' || c == 0xFF0E || c == 0xB7 || c == 0x30FB || c == 0xFF65 || c == 0x2022)
        return IDX_PII_ID | IDX_PII_CARD | IDX_PII_PHONE;
    if (c == '\t' || c == '\n' || c == '\r' || c == ',' || c == 0xFF0C || c == 0x3001 || c == ':' || c == 0xFF1A ||
        c == '~' || c == 0xFF5E || c == 0x301C || c == '|' || c == 0xFF5C)
        return IDX_PII_ID;
    return 0;
}

/* The character at byte i, after the tags an HTML text has there: its
 * class, bytes [*pA, *pB) and code point (*pDigit: the digit's ASCII). */
static int read_char(idx_mask_iter *p, size_t i, size_t *pA, size_t *pB, unsigned *pCode, char *pDigit)
{
    const char *z = p->z;
    size_t n = p->n;
    if (p->html) {
        while (i < n && z[i] == '<' && i < p->iNoTag) {
            const char *e = memchr(z + i, '>', n - i);
            if (!e) {
                p->iNoTag = i; /* no tag ends after here: every later '<' is text */
                break;
            }
            i = (size_t)(e - z) + 1;
        }
    }
    if (i >= n) return C_END;
    *pA = i;
    if (p->html && z[i] == '&') {
        /* an entity is one character, never a digit (&#49; included) */
        size_t k = i + 1;
        while (k < n && k - i <= 12 && is_entity_char(z[k])) k++;
        if (k < n && k > i + 1 && z[k] == ';') {
            *pB = k + 1;
            *pCode = '&';
            return C_OTHER;
        }
    }
    unsigned c = proto_utf8_next(z, n, &i);
    *pB = i;
    *pCode = c;
    if (c >= '0' && c <= '9') {
        *pDigit = (char)c;
        return C_DIGIT;
    }
    if (c >= 0xFF10 && c <= 0xFF19) {
        *pDigit = (char)('0' + (c - 0xFF10));
        return C_DIGIT;
    }
    /* X as written and as OCR reads it: ×, Ⅹ, Cyrillic and Greek capitals and small letters */
    if (c == 'X' || c == 'x' || c == 0xFF38 || c == 0xFF58 || c == 0xD7 || c == 0x2169 || c == 0x2179 || c == 0x425 ||
        c == 0x445 || c == 0x3A7 || c == 0x3C7)
        return C_X;
    if (sep_kinds(c)) return C_SEP;
    if (c == '*' || c == 0xFF0A) return C_MASK;
    return C_OTHER;
}

/* ---- the kinds -------------------------------------------------------- */

static int all_digits(const char *s, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return 0;
    return 1;
}

static int real_date(const char *s)
{
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
    static const int aDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2099 || m < 1 || m > 12 || d < 1 || d > aDays[m - 1]) return 0;
    return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

/* 18 characters: the check digit holds, or (an OCR misread) the birth
 * date is real; with strict, both (a number written in unusual groups). */
static int id_number(const char *s, int strict)
{
    static const int aW[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    if (!all_digits(s, 17) || (s[17] != 'X' && (s[17] < '0' || s[17] > '9'))) return 0;
    for (int k = 0; k < 17; k++) sum += (s[k] - '0') * aW[k];
    int check = "10X98765432"[sum % 11] == s[17], date = real_date(s + 6);
    return strict ? check && date : check || date;
}

/* A 15-digit 身份证号 of before 1999: a region, then YYMMDD of a real
 * day, then 3 digits. */
static int old_id_number(const char *s)
{
    if (!all_digits(s, 15) || s[0] < '1' || s[0] > '8') return 0;
    int m = (s[8] - '0') * 10 + (s[9] - '0'), d = (s[10] - '0') * 10 + (s[11] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int luhn(const char *s, unsigned n)
{
    unsigned sum = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned d = (unsigned)(s[n - 1 - k] - '0');
        if (k % 2) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

/* Card numbers start with 3-6 or 9 (national), or 2221-2720 (Mastercard):
 * a run of years (2017 2018 2019 2020) is no card though it may pass Luhn. */
static int card_prefix(const char *s)
{
    if (s[0] == '2') {
        int k = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        return k >= 221 && k <= 720;
    }
    return (s[0] >= '3' && s[0] <= '6') || s[0] == '9';
}

/* 1: the usual ways to write an ID number (whole, 6-8-4 and its halves);
 * 2: any other grouping of 18 characters into at most 6 groups (4-4-4-4-2,
 * 3-3-4-4-4, a space in the wrong place), which must then pass both
 * checks. */
static int shape_id(const unsigned *L, int k)
{
    if ((k == 1 && L[0] == 18) || (k == 2 && ((L[0] == 6 && L[1] == 12) || (L[0] == 14 && L[1] == 4))) ||
        (k == 3 && L[0] == 6 && L[1] == 8 && L[2] == 4))
        return 1;
    unsigned t = 0;
    for (int j = 0; j < k; j++) t += L[j];
    return k >= 2 && k <= READING_MAX && t == 18 ? 2 : 0;
}

static int shape_card(const unsigned *L, int k)
{
    if (k == 1) return L[0] >= 16 && L[0] <= 19;
    if (k != 4 && k != 5) return 0;
    if (L[0] != 4 || L[1] != 4 || L[2] != 4 || L[3] != 4) return 0;
    return k == 4 || (L[4] >= 1 && L[4] <= 3);
}

/* The offset of the 11 digits of a mobile number in s, or -1. */
static int shape_phone(const unsigned *L, int k, const char *s, unsigned n)
{
    int o = -1, cc = n >= 2 && s[0] == '8' && s[1] == '6';
    if (k == 1 && L[0] == 11) o = 0;
    else if (k == 1 && L[0] == 13 && cc) o = 2;
    else if (k == 2 && L[0] == 2 && L[1] == 11 && cc) o = 2;
    else if (k == 3 && L[0] == 3 && L[1] == 4 && L[2] == 4) o = 0;
    else if (k == 2 && ((L[0] == 3 && L[1] == 8) || (L[0] == 7 && L[1] == 4))) o = 0;
    else if (k == 3 && L[0] == 5 && L[1] == 4 && L[2] == 4 && cc) o = 2;
    else if (k == 4 && L[0] == 2 && L[1] == 3 && L[2] == 4 && L[3] == 4 && cc) o = 2;
    if (o < 0 || !all_digits(s, n) || s[o] != '1' || s[o + 1] < '3' || s[o + 1] > '9') return -1;
    return o;
}

/* Hide characters [from, to) of the reading made of groups s..e. */
static void mark(idx_mask_iter *p, unsigned long s, unsigned long e, int kind, unsigned from, unsigned to)
{
    unsigned pos = 0;
    for (unsigned long k = s; k <= e; k++) {
        idx_mask_group *g = grp(p, k);
        for (unsigned j = 0; j < g->nChar; j++, pos++)
            if (pos >= from && pos < to) g->aHide[j] |= (unsigned char)kind;
        g->flags |= G_IN;
        if (k < e) g->flags |= G_LINK;
    }
}

/* A reading of several groups may not begin with the tail of a masked
 * number nor end with its head: masking again finds nothing new. */
static int ends_free(idx_mask_iter *p, unsigned long s, unsigned long e)
{
    return s == e || (!(grp(p, s)->flags & G_GLUED_L) && !(grp(p, e)->flags & G_GLUED_R));
}

/* The ID, card and phone readings that end with group e. */
static void eval_fixed(idx_mask_iter *p, unsigned long e)
{
    unsigned long s0 = e;
    while (e - s0 < READING_MAX - 1 && s0 > p->g0 && (grp(p, s0)->flags & G_JOINED)) s0--;
    for (unsigned long s = s0; s <= e; s++) {
        unsigned L[READING_MAX], T = 0, kinds = ALL_KINDS;
        int k = 0;
        char zS[20];
        for (unsigned long j = s; j <= e; j++) {
            L[k++] = grp(p, j)->nChar;
            T += grp(p, j)->nChar;
            if (j > s) kinds &= grp(p, j)->join; /* what the separators before it may join */
        }
        if (T < 11 || T > 19 || !ends_free(p, s, e)) continue;
        unsigned at = 0;
        for (unsigned long j = s; j <= e; j++) {
            memcpy(zS + at, grp(p, j)->zDig, grp(p, j)->nChar);
            at += grp(p, j)->nChar;
        }
        int sid = T == 18 && (kinds & IDX_PII_ID) ? shape_id(L, k) : 0;
        if (sid && id_number(zS, sid == 2)) {
            mark(p, s, e, IDX_PII_ID, 6, 14);
            continue;
        }
        if (T == 15 && (kinds & IDX_PII_ID) && (k == 1 || (k == 3 && L[0] == 6 && L[1] == 6)) && old_id_number(zS)) {
            mark(p, s, e, IDX_PII_ID, 6, 12);
            continue;
        }
        int unionPay = T >= 16 && zS[0] == '6' && zS[1] == '2' && all_digits(zS, T);
        if ((kinds & IDX_PII_CARD) && ((shape_card(L, k) && all_digits(zS, T) && ((card_prefix(zS) && luhn(zS, T)) || unionPay)) ||
                                       (k >= 2 && unionPay))) {
            mark(p, s, e, IDX_PII_CARD, 6, T - 4);
            continue;
        }
        int o = kinds & IDX_PII_PHONE ? shape_phone(L, k, zS, T) : -1;
        if (o >= 0) mark(p, s, e, IDX_PII_PHONE, (unsigned)o + 3, (unsigned)o + 7);
    }
}

/* Does an amount's unit or decimal point follow the digits that end at
 * byte i (spaces between)?  "余额 12345678 元" is no account number. */
static int amount_follows(idx_mask_iter *p, size_t i)
{
    size_t a, b;
    unsigned c;
    char d;
    for (int k = 0; k < 3; k++, i = b) {
        int cls = read_char(p, i, &a, &b, &c, &d);
        if (cls == C_END) return 0;
        if (c == ' ' || c == 0x3000) continue;
        return c == '.' || c == 0xFF0E || c == 0x5143 /* 元 */ || c == 0x4E07 /* 万 */ || c == 0x89D2 /* 角 */;
    }
    return 0;
}

static void account_close(idx_mask_iter *p)
{
    unsigned T = p->acctDigits;
    if (T >= 8 && ends_free(p, p->acctFirst, p->acctLast) && !amount_follows(p, grp(p, p->acctLast)->b))
        mark(p, p->acctFirst, p->acctLast, IDX_PII_ACCOUNT, T <= 10 ? 0 : 6, T - 4);
    p->acctOpen = 0;
}

/* An account reading is as long as its chain allows: it grows group by
 * group and is checked once the next group cannot join it. */
static void account_step(idx_mask_iter *p, unsigned long g, int joinedNext)
{
    idx_mask_group *q = grp(p, g);
    int usable = !(q->flags & G_X) && q->nChar <= IDX_MASK_DIGITS;
    if (p->acctOpen) {
        unsigned widest = q->nChar > p->acctWidest ? q->nChar : p->acctWidest;
        if (usable && (q->flags & G_JOINED) && (q->join & IDX_PII_ACCOUNT) && p->acctLast + 1 == g && p->acctDigits + q->nChar <= IDX_MASK_DIGITS &&
            widest <= ACCT_GROUP_MAX) {
            p->acctLast = g;
            p->acctDigits += q->nChar;
            p->acctWidest = widest;
        } else {
            account_close(p);
        }
    }
    if (!p->acctOpen && (q->flags & G_KW) && usable) {
        p->acctOpen = 1;
        p->acctFirst = p->acctLast = g;
        p->acctDigits = p->acctWidest = q->nChar;
    }
    if (p->acctOpen && !joinedNext) account_close(p);
}

/* ---- reporting -------------------------------------------------------- */

static void emit_one(idx_mask_iter *p)
{
    idx_mask_group *g = grp(p, p->g0);
    if (p->xHide && (g->flags & G_IN)) {
        size_t i = g->a, a, b;
        unsigned j = 0, c;
        char d;
        while (i < g->b && j < g->nChar) {
            int cls = read_char(p, i, &a, &b, &c, &d);
            if (cls == C_END) break;
            i = b;
            if (cls != C_DIGIT && cls != C_X) continue;
            if (j < IDX_MASK_DIGITS && g->aHide[j]) p->xHide(p->ctx, a, b, g->aHide[j]);
            j++;
        }
    }
    if (g->flags & G_IN) {
        if (!p->compOpen) {
            p->compOpen = 1;
            p->compA = g->a;
            p->compGroups = 0;
        }
        p->compGroups++;
        p->compB = g->b;
        if (!(g->flags & G_LINK)) {
            p->nFound++;
            if (p->compGroups > 1 && p->nSpan < IDX_MASK_WINDOW) {
                p->aSpan[p->nSpan][0] = p->compA;
                p->aSpan[p->nSpan][1] = p->compB;
                p->nSpan++;
            }
            p->compOpen = 0;
        }
    }
    p->g0++;
}

/* The right side of the newest group is known: check the readings that
 * end with it, and report what no later reading can reach. */
static void settle(idx_mask_iter *p, int joinedNext)
{
    unsigned long g = p->gN - 1;
    eval_fixed(p, g);
    account_step(p, g, joinedNext);
    if (!joinedNext)
        while (p->g0 < p->gN) emit_one(p);
    else
        while (p->g0 + KEEP < p->gN) emit_one(p);
    p->pending = 0;
}

/* ---- reading ---------------------------------------------------------- */

static void group_start(idx_mask_iter *p, size_t a)
{
    unsigned flags = 0;
    if (p->pending) {
        int run = p->nBetween > 0;
        if (run && p->firstMask) grp(p, p->gN - 1)->flags |= G_GLUED_R;
        if (run && p->lastMask) flags |= G_GLUED_L;
        /* one to five separators join (", ", "\r\n", " - ", a few spaces of
         * alignment) when each may join some kind; more end the number */
        if (p->nBetween >= 1 && p->nBetween <= SEP_RUN_MAX && p->nSepBetween == p->nBetween && p->joinKinds)
            flags |= G_JOINED;
        settle(p, (flags & G_JOINED) != 0);
    }
    /* a mask character right before it: the tail of a masked number, also
     * when nothing but the mask is before it ("账号 *****0067") */
    if (p->prevMask) flags |= G_GLUED_L;
    if (p->kwDist <= KW_GAP) flags |= G_KW;
    if (p->gN - p->g0 == IDX_MASK_WINDOW) emit_one(p); /* cannot happen: settle keeps fewer */
    idx_mask_group *g = grp(p, p->gN++);
    g->a = g->b = a;
    g->nChar = 0;
    g->flags = flags;
    g->join = (unsigned char)(flags & G_JOINED ? p->joinKinds : 0);
    memset(g->aHide, 0, sizeof g->aHide);
    p->inGroup = 1;
}

static void group_add(idx_mask_iter *p, char ch, size_t b)
{
    idx_mask_group *g = grp(p, p->gN - 1);
    if (g->nChar < IDX_MASK_DIGITS) g->zDig[g->nChar] = ch;
    g->nChar++;
    g->b = b;
    if (ch == 'X') g->flags |= G_X;
}

static void group_end(idx_mask_iter *p)
{
    p->inGroup = 0;
    p->pending = 1;
    p->nBetween = p->nSepBetween = 0;
    p->firstMask = p->lastMask = 0;
    p->joinKinds = ALL_KINDS;
}

/* 账号 帐号 账户 帐户 卡号 存折 折号 (and the traditional 賬號 帳號 賬戶
 * 帳戶 卡號 摺號), 银行卡, 一卡通 */
static int keyword_ends(const unsigned *h)
{
    static const unsigned aKw[][2] = {{0x8D26, 0x53F7}, {0x5E10, 0x53F7}, {0x8D26, 0x6237}, {0x5E10, 0x6237},
                                      {0x5361, 0x53F7}, {0x5B58, 0x6298}, {0x6298, 0x53F7}, {0x8CEC, 0x865F},
                                      {0x5E33, 0x865F}, {0x8CEC, 0x6236}, {0x5E33, 0x6236}, {0x5361, 0x865F},
                                      {0x647A, 0x865F}};
    for (size_t k = 0; k < sizeof aKw / sizeof aKw[0]; k++)
        if (h[1] == aKw[k][0] && h[2] == aKw[k][1]) return 1;
    return (h[0] == 0x94F6 && h[1] == 0x884C && h[2] == 0x5361) || (h[0] == 0x4E00 && h[1] == 0x5361 && h[2] == 0x901A);
}

static void history(idx_mask_iter *p, unsigned c, int digit)
{
    /* a label padded to the width of others ("账　　号") is still one */
    if (!digit && (c == ' ' || c == 0x3000) && p->kwDist == KW_NONE) return;
    p->aHist[0] = p->aHist[1];
    p->aHist[1] = p->aHist[2];
    p->aHist[2] = c;
    if (digit) p->kwDist = KW_NONE;
    else if (keyword_ends(p->aHist)) p->kwDist = 0;
    else if (p->kwDist != KW_NONE) p->kwDist = p->kwDist < KW_GAP ? p->kwDist + 1 : KW_NONE;
}

static void finish(idx_mask_iter *p)
{
    if (p->inGroup) group_end(p);
    if (p->pending) settle(p, 0);
    while (p->g0 < p->gN) emit_one(p);
    p->i = p->n + 1; /* done */
}

/* Read one character; 0 once the text is read. */
static int step(idx_mask_iter *p)
{
    size_t a, b;
    unsigned c = 0;
    char d = 0;
    if (p->i > p->n) return 0;
    int cls = read_char(p, p->i, &a, &b, &c, &d);
    if (cls == C_END) {
        finish(p);
        return 0;
    }
    p->i = b;
    if (cls == C_X && p->inGroup && !(grp(p, p->gN - 1)->flags & G_X)) {
        /* X ends an ID number: a digit after it makes it a letter */
        size_t a2, b2;
        unsigned c2;
        char d2;
        if (read_char(p, b, &a2, &b2, &c2, &d2) != C_DIGIT) {
            group_add(p, 'X', b);
            group_end(p);
            history(p, c, 1);
            return 1;
        }
    }
    if (cls == C_DIGIT) {
        if (!p->inGroup) group_start(p, a);
        p->prevMask = 0;
        group_add(p, d, b);
        history(p, c, 1);
        return 1;
    }
    if (p->inGroup) group_end(p);
    p->prevMask = cls == C_MASK;
    if (p->pending) {
        p->nBetween++;
        if (cls == C_SEP) {
            p->nSepBetween++;
            p->joinKinds &= sep_kinds(c);
        }
        if (p->nBetween == 1) p->firstMask = cls == C_MASK;
        p->lastMask = cls == C_MASK;
        if (cls != C_SEP && cls != C_MASK) settle(p, 0); /* neither joined nor glued */
    }
    history(p, c, 0);
    return 1;
}

static void iter_init(idx_mask_iter *p, const char *z, size_t n, int html)
{
    memset(p, 0, offsetof(idx_mask_iter, aSpan));
    p->z = z;
    p->n = n;
    p->html = html;
    p->iNoTag = (size_t)-1;
    p->kwDist = KW_NONE;
}

void idx_mask_iter_init(idx_mask_iter *p, const char *z, size_t n)
{
    iter_init(p, z, n, 0);
}

int idx_mask_iter_next(idx_mask_iter *p, size_t *pA, size_t *pB)
{
    while (p->iSpan == p->nSpan) {
        p->iSpan = p->nSpan = 0;
        if (!step(p) && p->nSpan == 0) return 0;
    }
    *pA = p->aSpan[p->iSpan][0];
    *pB = p->aSpan[p->iSpan][1];
    p->iSpan++;
    return 1;
}

/* ---- the public functions --------------------------------------------- */

unsigned idx_mask_find(const char *z, size_t n, int html, idx_mask_fn xHide, void *ctx)
{
    idx_mask_iter it;
    iter_init(&it, z, n, html);
    it.xHide = xHide;
    it.ctx = ctx;
    while (step(&it)) it.nSpan = 0;
    return it.nFound;
}

static void hide_in_place(void *ctx, size_t a, size_t b, int kind)
{
    char *z = ctx;
    (void)kind;
    if (b - a == 1) z[a] = '*';
    else memcpy(z + a, "\xEF\xBC\x8A", 3); /* ＊ for a full-width digit */
}

unsigned idx_mask_text(char *z, size_t n, int html)
{
    return idx_mask_find(z, n, html, hide_in_place, z);
}

static void mask_string(json_t *v, int html)
{
    /* In the string's own bytes (the length does not change): no copy, so
     * no allocation that could fail and leave a number visible. */
    char *z = (char *)json_string_value(v);
    if (z) idx_mask_text(z, json_string_length(v), html);
}

/* Keys that hold a personal number (a search's facet counts are keyed by
 * the field's values) are replaced by their masked form. */
static void mask_keys(json_t *o)
{
    const char *zKey;
    json_t *v;
    void *tmp;
    json_t *pMasked = NULL;
    json_object_foreach_safe(o, tmp, zKey, v) {
        if (!idx_mask_find(zKey, strlen(zKey), 0, NULL, NULL)) continue;
        if (!pMasked && !(pMasked = json_object())) return;
        size_t n = strlen(zKey);
        char *z = px_malloc(n + 1);
        if (!z) continue;
        memcpy(z, zKey, n + 1);
        idx_mask_text(z, n, 0);
        json_t *pOld = json_object_get(pMasked, z);
        /* two values that differ only in hidden digits: one key, counts added */
        if (pOld && json_is_integer(pOld) && json_is_integer(v))
            json_object_set_new(pMasked, z, json_integer(json_integer_value(pOld) + json_integer_value(v)));
        else
            json_object_set(pMasked, z, v);
        px_free(z);
        json_object_del(o, zKey);
    }
    if (pMasked) {
        json_object_update(o, pMasked);
        json_decref(pMasked);
    }
}

/* Keys whose values are ids the daemon made itself (a draw's, a run's):
 * random hex digits may look like a phone number, and an id must come back
 * as it was given. */
static int own_id_key(const char *zKey)
{
    return strcmp(zKey, "id") == 0 || strcmp(zKey, "draw") == 0 || strcmp(zKey, "scored_run") == 0 ||
           strcmp(zKey, "run") == 0;
}

void idx_mask_json(json_t *o)
{
    if (json_is_object(o)) mask_keys(o);
    size_t i;
    const char *zKey;
    json_t *v;
    if (json_is_object(o)) {
        json_object_foreach(o, zKey, v) {
            if (json_is_string(v) && own_id_key(zKey)) continue;
            if (json_is_string(v)) mask_string(v, strcmp(zKey, "snippet") == 0);
            else idx_mask_json(v);
        }
    } else if (json_is_array(o)) {
        json_array_foreach(o, i, v) {
            if (json_is_string(v)) mask_string(v, 0);
            else idx_mask_json(v);
        }
    }
}

/* The query as the index reads it: its tokens, a break or a boundary
 * between two tokens as one \x1F, so that the detector sees the numbers
 * the index holds (and an account keyword no farther than in the text). */
typedef struct {
    char *z;
    size_t n, nAlloc;
    int lastBreak;
    int longRun;   /* a word holds a run of QUERY_ACCT_MIN..30 digits */
} query_reading;

static int query_tok(void *ctx, idx_tok_kind kind, const char *z, size_t n, unsigned nChar, size_t iStart,
                     size_t iEnd)
{
    query_reading *r = ctx;
    (void)nChar, (void)iStart, (void)iEnd;
    int sep = kind == IDX_TOK_BREAK || (r->n > 0 && !r->lastBreak);
    if (r->n + n + 2 > r->nAlloc) return 1; /* cannot happen: sized for the worst case */
    if (sep) r->z[r->n++] = '\x1F';
    r->lastBreak = kind == IDX_TOK_BREAK;
    if (kind == IDX_TOK_BREAK) return 0;
    memcpy(r->z + r->n, z, n);
    r->n += n;
    if (kind == IDX_TOK_WORD) {
        unsigned nRun = 0;
        for (size_t k = 0; k <= n; k++) {
            if (k < n && z[k] >= '0' && z[k] <= '9') {
                nRun++;
                continue;
            }
            if (nRun >= QUERY_ACCT_MIN && nRun <= IDX_MASK_DIGITS) r->longRun = 1;
            nRun = 0;
        }
    }
    return 0;
}

int idx_mask_query_refused(const char *zQuery)
{
    if (!zQuery || !*zQuery) return 0;
    size_t n = strlen(zQuery);
    /* A token is never longer than its text (folding only shortens), and
     * each one adds at most one \x1F. */
    query_reading r = {NULL, 0, 2 * n + 2, 1, 0};
    if (n > ((size_t)-1) / 2 - 2 || !(r.z = px_malloc(r.nAlloc))) return 1;
    int rc = idx_text_scan(zQuery, n, query_tok, &r);
    int refused = rc != 0 || r.longRun || idx_mask_find(r.z, r.n, 0, NULL, NULL) > 0;
    px_free(r.z);
    return refused;
}
