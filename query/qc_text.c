/* Display width, cleaning and snippets of UTF-8 text. */
#include "qc_text.h"
#include "proto_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    unsigned long lo, hi;
} cp_range;

/* Zero-width: combining marks, zero-width spaces and joiners, variation
 * selectors.  Checked before the wide ranges (U+302A-U+302D sit in one). */
static const cp_range aZero[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F}, {0x2028, 0x202E}, {0x2060, 0x2064},
    {0x20D0, 0x20FF}, {0x302A, 0x302D}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
    {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

/* East Asian Wide (W) and Fullwidth (F), Unicode 15, merged where the gaps
 * do not matter for archive text. */
static const cp_range aWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

static int in_ranges(unsigned long c, const cp_range *a, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < a[mid].lo) hi = mid;
        else if (c > a[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

static int is_control(unsigned long c) { return c < 0x20 || (c >= 0x7F && c < 0xA0); }

/* The bidirectional embeddings, overrides and isolates: they can make text
 * display in an order other than the one it has. */
static int is_bidi(unsigned long c)
{
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

static int cp_width(unsigned long c)
{
    if (is_control(c)) return 0;
    if (c < 0x300) return 1;
    if (in_ranges(c, aZero, sizeof aZero / sizeof aZero[0])) return 0;
    if (in_ranges(c, aWide, sizeof aWide / sizeof aWide[0])) return 2;
    return 1;
}

/* Decode one UTF-8 sequence at z (n > 0 bytes).  Returns its length and
 * sets *pc, or 0 for an invalid sequence (overlong, surrogate, too large,
 * truncated). */
static size_t utf8_next(const unsigned char *z, size_t n, unsigned long *pc)
{
    unsigned long c = z[0];
    size_t len;
    unsigned long min;
    if (c < 0x80) {
        *pc = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; c &= 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; c &= 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((z[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (z[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *pc = c;
    return len;
}

size_t qc_text_width(const char *z, size_t n)
{
    const unsigned char *p = (const unsigned char *)z;
    size_t w = 0, i = 0;
    while (i < n) {
        unsigned long c;
        size_t len = utf8_next(p + i, n - i, &c);
        if (len == 0) {
            w += 1;
            i += 1;
            continue;
        }
        w += (size_t)cp_width(c);
        i += len;
    }
    return w;
}

static const char zReplacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

int qc_text_add_clean(qc_buf *b, const char *z, size_t n, int mode)
{
    const unsigned char *p = (const unsigned char *)z;
    size_t i = 0, run = 0; /* bytes from run to i are copied as they are */
    while (i < n && b->rc == PS_OK) {
        unsigned long c;
        size_t len = utf8_next(p + i, n - i, &c);
        if (len && !is_control(c) && !is_bidi(c)) {
            i += len;
            continue;
        }
        qc_buf_add(b, z + run, i - run);
        if (len == 0) {
            qc_buf_add(b, zReplacement, 3);
            len = 1;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            if (mode == QC_TEXT_ONE_LINE) qc_buf_add(b, " ", 1);
            else if (c != '\r') qc_buf_add(b, z + i, 1);
        } else {
            qc_buf_add(b, zReplacement, 3);
        }
        i += len;
        run = i;
    }
    qc_buf_add(b, z + run, i - run);
    return b->rc;
}

int qc_text_add_padded(qc_buf *b, const char *z, size_t nCols)
{
    size_t n = strlen(z), w = qc_text_width(z, n);
    qc_text_add_clean(b, z, n, QC_TEXT_ONE_LINE);
    if (w < nCols) qc_buf_repeat(b, " ", nCols - w);
    return b->rc;
}

/* Append code point c as UTF-8 (c < 0x110000, not a surrogate). */
static void add_cp(qc_buf *b, unsigned long c)
{
    char z[4];
    size_t n;
    if (c < 0x80) { z[0] = (char)c; n = 1; }
    else if (c < 0x800) { z[0] = (char)(0xC0 | (c >> 6)); z[1] = (char)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
        z[0] = (char)(0xE0 | (c >> 12));
        z[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        z[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        z[0] = (char)(0xF0 | (c >> 18));
        z[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        z[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        z[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    qc_text_add_clean(b, z, n, QC_TEXT_ONE_LINE);
}

/* Decode the entity at z ('&', n bytes left).  Returns its length and sets
 * *pc, or 0 when it is not one we know (the '&' is then kept as text). */
static size_t entity(const char *z, size_t n, unsigned long *pc)
{
    static const struct {
        const char *zName;
        unsigned long c;
    } aNamed[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t k = 0; k < sizeof aNamed / sizeof aNamed[0]; k++) {
        size_t len = strlen(aNamed[k].zName);
        if (n >= len && memcmp(z, aNamed[k].zName, len) == 0) {
            *pc = aNamed[k].c;
            return len;
        }
    }
    if (n < 4 || z[1] != '#') return 0;
    int hex = z[2] == 'x' || z[2] == 'X';
    size_t i = hex ? 3 : 2, nDigit = 0;
    unsigned long c = 0;
    for (; i < n && nDigit < 8; i++, nDigit++) {
        char ch = z[i];
        int d;
        if (ch >= '0' && ch <= '9') d = ch - '0';
        else if (hex && ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
        else if (hex && ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
        else break;
        c = c * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (nDigit == 0 || i >= n || z[i] != ';') return 0;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    *pc = c;
    return i + 1;
}

/* Render the snippet into b; spaces are collapsed by the caller. */
static void render_snippet(qc_buf *b, const char *z, size_t n, int markStyle)
{
    static const char zOpen[] = "<mark>", zClose[] = "</mark>";
    const char *zOn = markStyle == QC_MARK_ANSI ? QC_ANSI_BOLD : "【";
    const char *zOff = markStyle == QC_MARK_ANSI ? QC_ANSI_RESET : "】";
    int inMark = 0;
    size_t i = 0, run = 0;
    while (i < n && b->rc == PS_OK) {
        if (z[i] != '<' && z[i] != '&') {
            i++;
            continue;
        }
        qc_text_add_clean(b, z + run, i - run, QC_TEXT_ONE_LINE);
        unsigned long c;
        size_t len;
        if (n - i >= sizeof zOpen - 1 && memcmp(z + i, zOpen, sizeof zOpen - 1) == 0) {
            if (!inMark) qc_buf_adds(b, zOn);
            inMark = 1;
            i += sizeof zOpen - 1;
        } else if (n - i >= sizeof zClose - 1 && memcmp(z + i, zClose, sizeof zClose - 1) == 0) {
            if (inMark) qc_buf_adds(b, zOff);
            inMark = 0;
            i += sizeof zClose - 1;
        } else if (z[i] == '&' && (len = entity(z + i, n - i, &c)) > 0) {
            add_cp(b, c);
            i += len;
        } else {
            qc_buf_add(b, z + i, 1);
            i++;
        }
        run = i;
    }
    qc_text_add_clean(b, z + run, i - run, QC_TEXT_ONE_LINE);
    if (inMark) qc_buf_adds(b, zOff);
}

int qc_text_add_snippet(qc_buf *b, const char *z, size_t n, int markStyle)
{
    qc_buf t;
    qc_buf_init(&t, b->nMax);
    render_snippet(&t, z, n, markStyle);
    if (t.rc != PS_OK) {
        b->rc = t.rc;
        goto out;
    }
    /* Line breaks of the page became spaces: one space between words, none
     * at the ends. */
    size_t i = 0, start;
    while (i < t.n && t.z[i] == ' ') i++;
    while (i < t.n) {
        start = i;
        while (i < t.n && t.z[i] != ' ') i++;
        qc_buf_add(b, t.z + start, i - start);
        while (i < t.n && t.z[i] == ' ') i++;
        if (i < t.n) qc_buf_add(b, " ", 1);
    }
out:
    qc_buf_release(&t);
    return b->rc;
}

int qc_invalid(char *zErr, size_t nErr, const char *zFmt, ...)
{
    va_list ap;
    va_start(ap, zFmt);
    int n = vsnprintf(zErr, nErr, zFmt, ap);
    va_end(ap);
    if (nErr > 1 && n >= 0 && (size_t)n >= nErr) {
        /* cut short: drop a character cut in two at the end */
        size_t k = nErr - 2;
        unsigned long c;
        while (k > 0 && ((unsigned char)zErr[k] & 0xC0) == 0x80) k--;
        if (utf8_next((const unsigned char *)zErr + k, nErr - 1 - k, &c) == 0) zErr[k] = 0;
    }
    return PS_INVALID;
}
