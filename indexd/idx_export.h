/* Reports for people: CSV for spreadsheets (UTF-8 with a BOM, or GB18030,
 * the default of Chinese spreadsheet tools) and a printable HTML page with
 * its charts drawn as inline SVG (no external resources: it works on a
 * closed office network and prints on A4). */
#ifndef IDX_EXPORT_H
#define IDX_EXPORT_H

#include <jansson.h>
#include <stddef.h>

typedef enum { IDX_REPORT_COVERAGE, IDX_REPORT_LEDGER, IDX_REPORT_CATALOG, IDX_REPORT_ACCEPTANCE,
               IDX_REPORT_TIMED, IDX_REPORT_REGISTER } idx_report_kind;

/* Rows of a printed (HTML) list; the CSV export gives every row. */
#define IDX_EXPORT_HTML_ROWS 5000

/* The line under a coverage list that leaves out records above the reader's
 * 密级 (printf format of their number, a long long). */
#define IDX_EXPORT_HIDDEN_NOTE "另有 %lld 件档案的密级高于您的查阅权限，未列出。"

/* *pz is a new buffer of *pn bytes (free(); NUL-terminated).  Returns
 * PS_OK, PS_NOMEM, or PS_ENCODING when a value cannot be written in GB18030
 * (it can write all of Unicode, so only for invalid input).  A text cell
 * starting with = + - @ TAB or CR gets a leading ' so that a spreadsheet
 * shows it as text instead of running a formula; numbers are written as
 * numbers (-3 stays -3). */
int idx_export_csv(idx_report_kind k, const json_t *pRep, int gb18030, char **pz, size_t *pn);

/* The printable page; PS_OK or PS_NOMEM.  The use register prints one row
 * per user, record, day and purpose, the first IDX_EXPORT_HTML_ROWS of
 * them, with a line saying how many more there are. */
int idx_export_html(idx_report_kind k, const json_t *pRep, char **pz, size_t *pn);

#endif
