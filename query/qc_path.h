/* Paths and query strings of the daemon's API, percent-encoded: a 档号 is
 * UTF-8 with a U+00B7 middle dot, which must travel as %C2%B7. */
#ifndef QC_PATH_H
#define QC_PATH_H

#include "qc_args.h"
#include "qc_buf.h"

/* Append z percent-encoded as one path segment or query value (everything
 * but A-Z a-z 0-9 - . _ ~ is escaped).  Returns b->rc. */
int qc_path_escape(qc_buf *b, const char *z);

/* Append "/api/v1/search?q=…&year=…" for a search command line. */
int qc_path_search(qc_buf *b, const qc_args *a);

/* Append "/api/v1/records/{档号}". */
int qc_path_record(qc_buf *b, const char *zCode);

/* Append "/api/v1/records/{档号}/pages/{n}". */
int qc_path_page(qc_buf *b, const char *zCode, const char *zPageNo);

/* /api/v1/reports/{name} with --fonds, --format, --gb18030. */
int qc_path_report(qc_buf *b, const qc_args *a);

#endif
