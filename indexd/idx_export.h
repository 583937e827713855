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

/* *pz is a new buffer (free()).  Returns PS_OK, PS_NOMEM, or PS_ENCODING
 * when a value cannot be written in GB18030 (it can write all of Unicode,
 * so only for invalid input). */
int idx_export_csv(idx_report_kind k, const json_t *pRep, int gb18030, char **pz, size_t *pn);
int idx_export_html(idx_report_kind k, const json_t *pRep, char **pz, size_t *pn);

#endif
