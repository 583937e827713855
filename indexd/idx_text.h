/* Text analysis shared by indexing, query parsing and snippets.
 *
 * Text is scanned into tokens: words (runs of letters and digits, folded to
 * lower case, full-width forms to ASCII), Han runs (consecutive CJK
 * ideographs; white space between two ideographs is layout, as a line break
 * in a scanned page, and does not split the run) and breaks (punctuation).
 * A personal number written with separators (idx_mask.h: 110101 19900101
 * 1234, 138-1234-5678, 6228 4800 1234 5678) is one word, its digits
 * joined: the index, the search form, snippets, hit boxes and queries all
 * see the whole number, so that part of it (the hidden birth date) can
 * never be searched alone.
 *
 * Index terms: see idx_text_index below.  The search form (below) is what
 * a page's hits and snippets are found with once the index has found the
 * record. */
#ifndef IDX_TEXT_H
#define IDX_TEXT_H

#include "proto_enc.h"

#include <stddef.h>

typedef enum { IDX_TOK_WORD, IDX_TOK_HAN, IDX_TOK_BREAK } idx_tok_kind;

/* Called per token: z/n the folded UTF-8 text (empty for a break), nChar
 * its length in characters, and [iStart, iEnd) its bytes in the input.
 * Return non-zero to stop the scan (idx_text_scan then returns that). */
typedef int (*idx_tok_fn)(void *ctx, idx_tok_kind kind, const char *z, size_t n,
                          unsigned nChar, size_t iStart, size_t iEnd);

/* Scan z[0..n).  Invalid UTF-8 bytes are treated as breaks.  A word over
 * 256 bytes is cut (the token holds its start; [iStart, iEnd) spans all of
 * it).  A number written with separators comes as one IDX_TOK_WORD of its
 * digits, [iStart, iEnd) spanning the number as written.  Returns 0 or a
 * callback's non-zero value. */
int idx_text_scan(const char *z, size_t n, idx_tok_fn xTok, void *ctx);

/* How many bytes of z[0..n) an index term keeps after a prefix of nPrefix
 * bytes: all of them, or fewer, cut at a character boundary, so that the
 * term is at most IDX_TERM_MAX bytes (idx_schema.h) and Xapian never
 * refuses it.  Indexing and queries cut alike: a long word still finds
 * itself; words that agree on their first IDX_TERM_MAX bytes share a term
 * (the search form tells them apart in phrases). */
size_t idx_term_cut(size_t nPrefix, const char *z, size_t n);

/* Encode c into z (4 bytes room); returns the number of bytes. */
size_t idx_utf8_put(char *z, unsigned c);

/* Index terms (idx_text_index).  The text is a stream of units, words and
 * Han characters, numbered with consecutive positions; punctuation ends a
 * segment of the stream, white space does not (a line break inside a Han
 * run, the space between two words).  Each unit is a term, and so is each
 * pair of neighbouring units of a segment (idx_pair_term).  One of the two
 * carries positions: with IDX_POSITIONS_ON_PAIRS, a pair has the position
 * of its first unit and a unit none, so that a phrase of n >= 3 units is
 * exactly its n - 1 pairs at consecutive positions (Xapian's phrase
 * operator), two units are one pair term and one unit is one term: every
 * phrase is found exactly by the index alone, on any backend. */
#define IDX_POSITIONS_ON_PAIRS 1

/* The pair term of two neighbouring units: two Han characters side by side,
 * otherwise the two with a space between (no unit holds a space).  Returns
 * its length, or 0 if nOut is too small. */
size_t idx_pair_term(char *zOut, size_t nOut, const char *zA, size_t nA, int hanA, const char *zB, size_t nB,
                     int hanB);

/* Receives index terms: pos 0 for a term without a position (once per
 * occurrence), else the term at position pos. */
typedef int (*idx_term_fn)(void *ctx, const char *zTerm, size_t n, unsigned pos);

/* Index z[0..n) with every term prefixed by zPrefix ("" for none), each
 * cut by idx_term_cut.  Units take the positions from *pPos on (1 if
 * *pPos is 0 or pPos NULL); *pPos is left past them with a gap, for the
 * next field or page.  Index a field under two prefixes by calling twice
 * with the same start.  Returns 0 or the first non-zero status of xTerm. */
int idx_text_index(const char *z, size_t n, const char *zPrefix, unsigned *pPos, idx_term_fn xTerm, void *ctx);

/* A search form of text: words wrapped in \x01, Han characters as they are,
 * breaks as \x1F, white space dropped.  A phrase occurs in a text exactly
 * when the phrase's form occurs in the text's form (memmem).
 * aiOrig[k] is the byte in the original text where the k-th byte of the form
 * comes from, aiOrigEnd[k] where that character ends.  All three arrays are
 * allocated with px_malloc; free with idx_form_clear(). */
typedef struct {
    char *z;
    size_t n;
    size_t *aiOrig, *aiOrigEnd;
    size_t nAlloc;
} idx_form;

int idx_form_build(idx_form *p, const char *z, size_t n, int withMap);
/* Append zSep and then the form of z[0..n) to p (no map).  Start from a
 * zeroed idx_form.  On failure p is unchanged up to what was appended. */
int idx_form_append(idx_form *p, const char *zSep, const char *z, size_t n);
void idx_form_clear(idx_form *p);

#endif
