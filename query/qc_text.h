/* Text for a terminal: display width of UTF-8 (CJK characters take two
 * columns), cleaning of what the daemon sends before it reaches a terminal,
 * and the rendering of search snippets.  Pure functions, no locale needed. */
#ifndef QC_TEXT_H
#define QC_TEXT_H

#include "qc_buf.h"

#include <stddef.h>

/* Columns taken by n bytes of UTF-8.  Each invalid byte counts 1 (it is
 * shown as U+FFFD). */
size_t qc_text_width(const char *z, size_t n);

/* How qc_text_add_clean() treats line breaks and tabs. */
enum { QC_TEXT_ONE_LINE = 0, QC_TEXT_KEEP_LINES = 1 };

/* Append n bytes of text from the daemon so that it cannot drive the
 * terminal: control characters (C0 but tab and line feed, DEL, C1), the
 * bidirectional overrides and invalid UTF-8 become U+FFFD.  With
 * QC_TEXT_ONE_LINE, tab, CR and LF become a space; with QC_TEXT_KEEP_LINES
 * tab and LF stay and CR is dropped.  Returns b->rc. */
int qc_text_add_clean(qc_buf *b, const char *z, size_t n, int mode);

/* Append z, then spaces up to nCols columns (nothing when z is wider). */
int qc_text_add_padded(qc_buf *b, const char *z, size_t nCols);

/* How the hits of a snippet are shown. */
enum { QC_MARK_BRACKETS = 0, QC_MARK_ANSI = 1 };
#define QC_ANSI_BOLD "\033[1m"
#define QC_ANSI_RESET "\033[0m"

/* Append a snippet as the daemon sends it (HTML-escaped text with the hits
 * in <mark>…</mark>) on one line: <mark> becomes bold (QC_MARK_ANSI) or
 * 【…】 (QC_MARK_BRACKETS), the entities &lt; &gt; &amp; &quot; &#39;
 * &apos; and &#N; / &#xH; are decoded, other tags are kept as written, and
 * the result is cleaned as by qc_text_add_clean().  An unclosed <mark> is
 * closed at the end; runs of spaces and line breaks become one space, and
 * the ends are trimmed.  Returns b->rc. */
int qc_text_add_snippet(qc_buf *b, const char *z, size_t n, int markStyle);

/* Write a message into zErr (nErr bytes) and return PS_INVALID, for the
 * checks of arguments and of the daemon's answers. */
int qc_invalid(char *zErr, size_t nErr, const char *zFmt, ...) __attribute__((format(printf, 3, 4)));

#endif
