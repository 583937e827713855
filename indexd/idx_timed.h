/* The timed retrieval test (evaluation item 7): records drawn by the
 * daemon, trials timed by the daemon, and runs kept with their verdict.
 *
 * A draw is made and kept by the daemon (who drew, with which role, when,
 * the records and phrases handed out) under <data_dir>/timed-tests/draws/.
 * It lasts IDX_TIMED_DRAW_TTL_S and serves one run, by the user who made
 * it.  Each trial of a drawn record (full text, paper) can be timed by the
 * daemon: started and stopped with one call each, one trial at a time,
 * never twice.  A run names its draw: trials of records or phrases not in
 * it are refused, the daemon's timings replace whatever the run says of
 * the same trials (and a trial it timed cannot be left out), and the
 * trials' total time may not exceed the time since the draw.
 *
 * A full-text trial passes when the record is found within 60 seconds, a
 * paper trial when the file is in hand within 180 seconds.  A run by a user
 * with the evaluator role, every trial timed by the daemon, every drawn
 * record tried, with full-text and paper trials both, scores 3 points when
 * every trial passed, else 0; other runs ("practice", "unverified",
 * "incomplete") score nothing.  Runs are kept under
 * <data_dir>/timed-tests/, one JSON file each, never changed, at most
 * IDX_TIMED_RUNS_MAX of them.
 *
 * Times are the wall clock in seconds since the epoch (with a fraction),
 * passed in as `now` so that tests can set the clock; the daemon passes
 * idx_timed_now().  Calls are serialized by one lock in this module. */
#ifndef IDX_TIMED_H
#define IDX_TIMED_H

#include "idx_auth.h"
#include "idx_index.h"

#include <jansson.h>
#include <stddef.h>

#define IDX_TIMED_FULLTEXT_S 60.0
#define IDX_TIMED_PAPER_S 180.0
#define IDX_TIMED_POINTS 3
#define IDX_TIMED_DRAW_TTL_S 7200     /* a draw serves a run for 2 hours */
#define IDX_TIMED_DRAW_KEEP_S 86400   /* its file stays a day past that, for clear refusals */
#define IDX_TIMED_OPEN_PER_USER 20    /* open draws (unused, unexpired) of one user */
#define IDX_TIMED_DRAWS_MAX 1000      /* open draws (unused, unexpired) of all users */
#define IDX_TIMED_RUNS_MAX 10000      /* runs kept */
#define IDX_TIMED_ALLOWANCE_S 2.0     /* trial time a run may claim past the time since its draw */
#define IDX_TIMED_ID_LEN 33           /* "20261123T020102Z-" and 16 hex digits */

enum { IDX_TRIAL_FULLTEXT, IDX_TRIAL_PAPER };

/* The wall clock, in seconds since the epoch. */
double idx_timed_now(void);
/* "fulltext" or "paper" to IDX_TRIAL_*; -1 for anything else. */
int idx_timed_kind(const char *z);
/* Is z shaped like a draw id (so that it can name a file)? */
int idx_timed_id_ok(const char *z);

/* Pick n records at random (seeded by seed; 0: the clock) among those with
 * pages stored, of 全宗 zFonds (NULL or "": all): the same seed on the same
 * index makes the same draw; each try reads one record, and a draw gives up
 * after n x 10 + 100 tries (fewer records when most are passed over).  Or
 * the records of the codes in pCodes (an array of strings, may be NULL; a
 * 档号 named twice is refused), each with a phrase of 4-6 Chinese characters from its
 * text (its title when it has none; a record with neither is not drawn at
 * random, and a named one has a null phrase: a paper trial only):
 * {"records":[{"code","title","location","phrase","page","classification"}]}.
 * xMay says whether the caller may be given a record (its stored record
 * object): PS_OK, or the status of a refusal (PS_NOT_FOUND for a record
 * they may not see, PS_APPROVAL for text they may not open); such records
 * are never drawn, and a named one answers with that status.  Nothing is
 * kept: idx_timed_keep_draw() makes the picks a draw. */
typedef int (*idx_draw_fn)(void *ctx, const char *zCode, const json_t *pRec);
int idx_timed_draw(idx_index *p, unsigned n, unsigned long seed, const json_t *pCodes, const char *zFonds,
                   idx_draw_fn xMay, void *pMayCtx, json_t **ppOut, char *zErr, size_t nErr);

/* Keep pPicked (as idx_timed_draw made it; not taken) as a draw by caller
 * w at time now.  Draw files a day past their expiry are removed first.
 * PS_TOO_MANY when w has IDX_TIMED_OPEN_PER_USER open draws, or when
 * IDX_TIMED_DRAWS_MAX draws of all users are open; PS_IO.  On
 * PS_OK, *ppOut (yours) is the answer: {"draw","user","role","drawn_at",
 * "expires_at","lifetime_seconds","records":[…]}. */
/* Is there room for one more draw by w (its open draws, all draws)?  Asked
 * before the records are picked, so that a refused draw costs nothing:
 * PS_OK, or PS_TOO_MANY / PS_IO with zErr.  idx_timed_keep_draw checks
 * again. */
int idx_timed_draw_room(const char *zDataDir, const idx_caller *w, double now, char *zErr, size_t nErr);
int idx_timed_keep_draw(const char *zDataDir, const idx_caller *w, const json_t *pPicked, double now, json_t **ppOut,
                        char *zErr, size_t nErr);

/* Start the trial of kind IDX_TRIAL_* of record n (1-based, in the draw's
 * order) of draw zDraw, by caller w, at now; stop it, found (the record
 * among the hits, the file in hand) or not.  Refusals (zErr says which):
 * PS_NOT_FOUND no such draw (or removed), no record n; PS_FORBIDDEN the
 * draw is another user's; PS_CONFLICT the draw was used or has expired, a
 * full-text trial of a record without a phrase, a trial started twice,
 * another trial of the draw still running, a stop without a start or
 * after one.  A full-text trial stopped as found is checked with xFound
 * (may be NULL): 1 the drawn phrase, searched as the caller, finds record
 * zCode; 0 it does not, and the trial counts as not found; -1 it could
 * not be checked.  On PS_OK, *ppOut (yours) describes the trial:
 * {"draw","n","kind","code","started_at","limit_seconds"} (stop adds
 * "stopped_at","seconds","found","passed", and "search_found" when
 * checked). */
int idx_timed_start(const char *zDataDir, const idx_caller *w, const char *zDraw, unsigned n, int kind, double now,
                    json_t **ppOut, char *zErr, size_t nErr);
typedef int (*idx_found_fn)(void *ctx, const char *zCode, const char *zPhrase);
int idx_timed_stop(const char *zDataDir, const idx_caller *w, const char *zDraw, unsigned n, int kind, int found,
                   idx_found_fn xFound, void *pFoundCtx, double now, json_t **ppOut, char *zErr, size_t nErr);

/* Keep a run by caller w arriving at now: {"draw": id, "note"?: text,
 * "evaluator"?: text (kept as the note: the evaluator is w), "trials"?:
 * [{"code","kind","seconds","found","phrase"}]}.  Every trial the daemon
 * timed in the draw is in the run with its times (a running one stops
 * now, not found); a trial of the body it did not time keeps the body's
 * seconds and found ("timed_by":"client").  Refusals: those of
 * idx_timed_start for the draw; PS_INVALID a malformed body (*pzField
 * "draw" or "trials"); PS_CONFLICT a trial of a record not drawn, a phrase
 * other than the drawn one, more trial time than has passed since the draw
 * (plus IDX_TIMED_ALLOWANCE_S); PS_TOO_BIG IDX_TIMED_RUNS_MAX runs are
 * kept; PS_IO.  On PS_OK the draw is used up and *ppOut (yours) is the run
 * as kept. */
int idx_timed_put(const char *zDataDir, const idx_caller *w, const json_t *pRun, double now, json_t **ppOut,
                  const char **pzField, char *zErr, size_t nErr);

/* {"rule","points": <of the latest scored run, or null>, "scored_run": id
 * or null, "runs":[…as kept, oldest first]}.  Runs kept before draws
 * existed are "mode":"unverified" and score nothing.  When w is not NULL,
 * the phrase and store location of a trial whose record is above w's 密级
 * are not shown. */
int idx_report_timed(const char *zDataDir, const idx_caller *w, json_t **ppOut, char *zErr, size_t nErr);

#endif
