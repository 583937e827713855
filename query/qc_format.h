/* The human-readable form of the daemon's answers, as query prints them.
 * Each function appends to a buffer and prints nothing itself.  They take
 * any JSON without crashing: an answer lacking what is needed gives
 * PS_INVALID with a sentence in zErr; missing details are shown as "—".
 * Otherwise they return PS_OK or the buffer's failure (PS_NOMEM, PS_TOO_BIG). */
#ifndef QC_FORMAT_H
#define QC_FORMAT_H

#include "qc_buf.h"

#include <jansson.h>
#include <stddef.h>

#define QC_FACET_SHOW 12 /* values shown per facet */

/* A search answer: "N records (exact|about) in T ms", one block per hit
 * (档号, 题名, 日期, 存放位置, matched pages, snippet with its hits shown as
 * by markStyle, QC_MARK_ANSI or QC_MARK_BRACKETS), then one line per facet. */
int qc_format_search(qc_buf *b, const json_t *pAns, int markStyle, char *zErr, size_t nErr);

/* A record: every catalog field with its Chinese name, the stored pages,
 * and the 存放位置 in a box (see qc_format_banner()). */
int qc_format_record(qc_buf *b, const json_t *pAns, char *zErr, size_t nErr);

/* Three lines boxing "zLabel  zValue", sized in terminal columns; a NULL
 * or blank zValue shows "(no store location recorded)". */
int qc_format_banner(qc_buf *b, const char *zLabel, const char *zValue);

/* A catalog import: "imported N (M replaced), R rejected, W warnings,
 * encoding E", then one line per rejected row and per warning.  *pnRejected
 * is set to R (the caller's exit status depends on it). */
int qc_format_import(qc_buf *b, const json_t *pAns, long long *pnRejected, char *zErr, size_t nErr);

/* A page.  For a terminal (tty != 0): a heading and the text cleaned of
 * control characters; otherwise the text exactly as stored, so that it can
 * be saved and sent back with put-page. */
int qc_format_page(qc_buf *b, const json_t *pAns, int tty, char *zErr, size_t nErr);

/* The answer to put-page: "stored page N of 档号 (new|replaced …)". */
int qc_format_page_stored(qc_buf *b, const json_t *pAns, char *zErr, size_t nErr);

/* The answer of /healthz: "indexd at URL: ok, N records, version V". */
int qc_format_health(qc_buf *b, const json_t *pAns, const char *zServer, char *zErr, size_t nErr);

/* A report (coverage or ledger) for people. */
int qc_format_report(qc_buf *b, const char *zName, const json_t *pAns, char *zErr, size_t nErr);

#endif
