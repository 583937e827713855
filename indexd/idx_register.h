/* The use register (利用登记簿) and approvals of use (利用审批).
 *
 * Both are append-only NDJSON files under <data_dir>/register/: uses.ndjson
 * (one line per view or export) and approvals.ndjson (one line per request
 * and per decision; the state of each request is the replay of its lines).
 * Every line is written and fdatasync()ed before the call returns, so a view
 * whose answer was sent is never lost in a crash; a line cut short by a crash
 * (its answer never went out) is skipped when reading and closed off with a
 * newline when the file is opened again. */
#ifndef IDX_REGISTER_H
#define IDX_REGISTER_H

#include "idx_auth.h"

#include <jansson.h>

typedef struct idx_register idx_register;

int idx_register_open(const char *zDataDir, idx_register **ppOut, char *zErr, size_t nErr);
void idx_register_close(idx_register *p);

/* One use: a view of page text ("text") or of a page image ("image"), or an
 * export ("export", zCode names the report).  approval 0: none needed. */
typedef struct {
    const char *zCode, *zTitle, *zKind;
    unsigned page;
    long approval;
    const char *zClassification; /* the record's 密级 (NULL: none, or an export) */
} idx_use;

/* Append an entry (the purpose is the caller's).  PS_IO with zErr if it
 * cannot be made durable: the view must then be refused. */
int idx_register_append(idx_register *p, const idx_caller *c, const idx_use *u, char *zErr, size_t nErr);

typedef struct {
    const char *zUser, *zCode;  /* NULL or "": any */
    const char *zFrom, *zTo;    /* YYYYMMDD, inclusive; NULL: open */
    unsigned offset, limit;     /* limit 0: all */
} idx_register_filter;

/* Is an entry about a record the reader may not see?  zCode is the entry's
 * 档号 (or an export's name), zClassification the record's 密级 when the
 * entry was written (NULL in entries of older versions). */
typedef int (*idx_entry_hidden_fn)(void *ctx, const char *zCode, const char *zClassification);

/* {"total": N, "entries": [...], "hidden_total": H}, oldest first.  Entries
 * for which xHidden (may be NULL) says 1 are neither listed nor counted in
 * total; H counts them, but for a list of one record's entries (zCode), where
 * it would tell a hidden record from an absent one. */
int idx_register_list(idx_register *p, const idx_register_filter *f, idx_entry_hidden_fn xHidden, void *pHiddenCtx,
                      json_t **ppOut, char *zErr, size_t nErr);

/* ---- approvals ----
 * A request is the requester's: it records their uid (idx_caller.zUid),
 * and only that uid finds it, so a user deleted and added again under the
 * same name (a new uid) inherits none of the old requests or approvals.
 * Lines written before uids were recorded match no one (an approval lasts
 * approval_days, so they run out anyway); admins still see them all. */

/* A new request by c for a record → the request object (yours). */
int idx_approval_request(idx_register *p, const idx_caller *c, const char *zCode, const char *zTitle,
                         const char *zPurpose, json_t **ppOut, char *zErr, size_t nErr);
/* An admin's decision; an approval lasts `days`.  PS_NOT_FOUND, or
 * PS_CONFLICT when the request was already decided. */
int idx_approval_decide(idx_register *p, const idx_caller *c, long id, int approve, const char *zNote, long days,
                        json_t **ppOut, char *zErr, size_t nErr);
/* Requests, newest first: all (c NULL) or those of c's uid; zStatus
 * filters ("pending", "approved", "denied", "expired") or NULL.  NULL when
 * out of memory; yours. */
json_t *idx_approval_list(idx_register *p, const idx_caller *c, const char *zStatus);
/* The state of c's latest request for zCode: "none", "pending",
 * "approved", "denied" or "expired"; its id in *pId (0 for none). */
const char *idx_approval_status(idx_register *p, const idx_caller *c, const char *zCode, long *pId);

#endif
