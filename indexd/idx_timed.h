/* The timed retrieval test (evaluation item 7): records drawn for the
 * trials, and the runs kept with their verdict.
 *
 * A full-text trial passes when the record is found within 60 seconds, a
 * paper trial when the file is in hand within 180 seconds; the item scores
 * 3 points when every trial of the run passed, else 0.  Runs are kept under
 * <data_dir>/timed-tests/, one JSON file each, never changed. */
#ifndef IDX_TIMED_H
#define IDX_TIMED_H

#include "idx_index.h"

#include <jansson.h>
#include <stddef.h>

#define IDX_TIMED_FULLTEXT_S 60.0
#define IDX_TIMED_PAPER_S 180.0

/* n records drawn at random (seeded by seed; 0: the clock), or the records
 * of the codes in pCodes (an array of strings, may be NULL), each with a
 * phrase of 4-6 Chinese characters from its text (its title when it has
 * none): {"records":[{"code","title","location","phrase","page"}]}.
 * xMay says whether the caller may be given a record (its stored record
 * object): PS_OK, or the status of a refusal (PS_NOT_FOUND for a record
 * they may not see, PS_APPROVAL for text they may not open); such records
 * are never drawn, and a named one answers with that status. */
typedef int (*idx_draw_fn)(void *ctx, const char *zCode, const json_t *pRec);
int idx_timed_draw(idx_index *p, unsigned n, unsigned long seed, const json_t *pCodes, const char *zFonds,
                   idx_draw_fn xMay, void *pMayCtx, json_t **ppOut, char *zErr, size_t nErr);

/* Keep a run: {"evaluator":…,"trials":[{"code","kind":"fulltext"|"paper",
 * "seconds":…,"found":bool (fulltext), "phrase":…}]}; each trial's verdict
 * and the run's points are computed here.  *ppOut: the run as kept. */
int idx_timed_put(const char *zDataDir, const json_t *pRun, json_t **ppOut, char *zErr, size_t nErr);

/* {"runs":[…as kept, oldest first],"points":<of the last run>} */
int idx_report_timed(const char *zDataDir, json_t **ppOut, char *zErr, size_t nErr);

#endif
