/* The timed retrieval test (evaluation item 7), run at the archivist's
 * desk.  Records are drawn by indexd (or named with --codes); for each:
 *
 * full text: a phrase from the record's text (drawn; on a terminal the
 *   evaluator may type another) is searched; the trial passes when the
 *   record is among the hits within 60 s, timed from request to answer;
 * paper (on a terminal only): the record's store location is shown in
 *   large type with a running clock; the evaluator presses Enter when the
 *   file is in hand; it passes within 180 s.
 *
 * The run goes to indexd (POST /api/v1/timed-tests), which keeps it and
 * gives each trial and the item its verdict (3 points, or 0). */
#ifndef QC_TIMED_H
#define QC_TIMED_H

#include "qc_args.h"
#include "qc_client.h"

#include <stdio.h>

/* Run the test: prompts and clock on fIn/fOut when interactive (fIn a
 * terminal and not --auto), full-text trials only otherwise.  Returns
 * PS_OK (the verdict in *pPassed) or a status with zErr. */
int qc_timed_run(qc_client *c, const qc_args *a, FILE *fIn, FILE *fOut, int *pPassed, char *zErr, size_t nErr);

#endif
