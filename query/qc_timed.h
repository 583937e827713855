/* The timed retrieval test (evaluation item 7), run at the archivist's
 * desk.  indexd draws the records (or takes those named with --codes) and
 * keeps the draw; for each record:
 *
 * full text: the phrase drawn from the record's text is searched; the
 *   trial passes when the record is among the hits within 60 s;
 * paper (on a terminal only): the record's store location is shown in
 *   large type with a running clock; the evaluator presses Enter when the
 *   file is in hand (n when it cannot be found); it passes within 180 s.
 *
 * indexd times every trial itself (a start and a stop call around it), and
 * the run it keeps names the draw: the user of the token or session is the
 * evaluator, and only a user with the evaluator role scores (3 points when
 * every trial passed, else 0); other roles' runs are practice. */
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
