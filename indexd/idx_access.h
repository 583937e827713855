/* Access decisions, each made here and nowhere else: who may see a record
 * (密级 clearance; an unknown level is hidden from everyone), who may write
 * it, whether its text needs an admin's approval first, what is masked,
 * and which reads are views for the use register.  Search, snippets,
 * facets, totals, reports, draws, exports, the register and every write
 * path call these functions.  No HTTP here: the rights of a role to use a
 * route are checked by the route table (idx_http.c) before any of this. */
#ifndef IDX_ACCESS_H
#define IDX_ACCESS_H

#include "idx_auth.h"
#include "idx_register.h"

#include <jansson.h>
#include <stddef.h>

typedef struct idx_access idx_access;

typedef struct {
    const char *zApprovalCategories; /* 门类 codes whose records need approval, comma separated */
    int approvalClassified;          /* 1: so does any record with a 密级 other than 公开 */
} idx_access_opts;

/* pReg (may be NULL in tests: no approvals then) answers whether a caller
 * holds an approval; it must outlive the access rules. */
int idx_access_open(const idx_access_opts *o, idx_register *pReg, idx_access **ppOut);
void idx_access_close(idx_access *p);

/* ---- seeing ------------------------------------------------------------ */

/* May the caller see a record of this 密级?  A 密级 that is no known level
 * (a catalog's own word) counts as the top: only the top clearance. */
int idx_access_level_ok(const idx_caller *w, const char *zClassification);
/* The same for a stored record object ({"code":…,"classification":…}). */
int idx_access_sees(const idx_caller *w, const json_t *pRec);
/* May the caller see records made of scans that wait for their catalog row
 * (待挂接)?  Those who import catalogs link them: admins and archivists. */
int idx_access_sees_unlinked(const idx_caller *w);
/* idx_access_sees and the rule above, for a record's stored data
 * ({"r": record, "u": present when unlinked, …}). */
int idx_access_sees_stored(const idx_caller *w, const json_t *pData);
/* The known 密级 names the caller may see, for a search filter: fills
 * azOut (6 entries) and returns their number.  Records with no 密级 are
 * seen by everyone and are not in the list. */
int idx_access_visible_levels(const idx_caller *w, const char **azOut);

/* ---- writing ----------------------------------------------------------- */

enum {
    IDX_WRITE_OK = 0,
    IDX_WRITE_HIDDEN, /* the stored record is above the caller: as if absent */
    IDX_WRITE_ABOVE,  /* the new 密级 is above the caller's clearance */
};
/* May the caller replace, change or delete a stored record of 密级
 * zOld (bOld 0: no record stored; zOld NULL with bOld 1: the stored data
 * cannot be read, which only a caller cleared for 绝密 may overwrite)
 * and leave it at 密级 zNew (NULL: unchanged)? */
int idx_access_write(const idx_caller *w, int bOld, const char *zOld, const char *zNew);
/* The message of a refused write of 档号 zCode, the same whatever the
 * reason a stored record is hidden, so that a refusal tells no more than
 * that the 档号 is not the caller's to write. */
void idx_access_write_message(int decision, const char *zCode, char *z, size_t n);

/* ---- opening text, images and boxes ------------------------------------ */

/* Does this record need an admin's approval before its page text, boxes
 * or images are opened by the caller (callers who decide approvals need
 * none)? */
int idx_access_needs_approval(const idx_access *p, const idx_caller *w, const json_t *pRec);

enum { IDX_READ_TEXT, IDX_READ_IMAGE, IDX_READ_BOXES };
typedef struct {
    int rc;         /* PS_OK, PS_APPROVAL or PS_PURPOSE */
    long approval;  /* the approval that allows it (0: none needed) */
    char zWhy[320]; /* for a refusal */
} idx_verdict;
/* May the caller open the text, image or boxes of record zCode (pRec its
 * record object, already checked with idx_access_sees)?  Text and images
 * need a purpose of use; every kind needs the approval where the record
 * needs one. */
void idx_access_open_page(const idx_access *p, const idx_caller *w, const char *zCode, const json_t *pRec, int kind,
                          idx_verdict *v);
/* Is a read of this kind a view written in the use register? */
int idx_access_is_view(int kind);
/* {"text": bool, "approval": {"required", "status", "id"}}: what the caller
 * may open of a record, for its catalog answer; NULL if out of memory. */
json_t *idx_access_record_json(const idx_access *p, const idx_caller *w, const char *zCode, const json_t *pRec);

/* Whose approval requests the caller may list: NULL (everyone's) for one
 * who decides them, else the caller's own. */
const idx_caller *idx_access_approvals_of(const idx_caller *w);
/* May the caller see every 密级 (no record is hidden from them)? */
int idx_access_sees_all(const idx_caller *w);
/* May the caller be told the server's paths (a delivery's folder)?  Admins
 * and archivists, who run the imports; not vendors or evaluators. */
int idx_access_server_paths(const idx_caller *w);

/* ---- masking ----------------------------------------------------------- */

/* Are personal numbers masked for the caller? */
int idx_access_masks(const idx_caller *w);

/* Hide personal numbers in every string of o unless the caller may see them. */
void idx_access_mask(const idx_caller *w, json_t *o);
/* Would this search let the caller confirm a hidden personal number? */
int idx_access_query_refused(const idx_caller *w, const char *zQuery);

/* ---- what a search may match -------------------------------------------- */

/* A caller's scope in a search: the 密级 levels shown, and the records
 * that need an approval the caller does not hold.  Those are matched by
 * their catalog fields only (their text stays closed: no snippet from it,
 * no page numbers), except the ones approved for the caller, whose text
 * shown in a hit is a view for the register. */
typedef struct {
    const char *azLevel[6];  /* 密级 names shown (records without one always are) */
    int nLevel;
    int restrict_;           /* 1: some records need approval for this caller */
    char **azCategory;       /* 门类 codes whose records need approval */
    int nCategory;
    const char *azClsLevel[6]; /* 密级 names (shown ones) whose records need approval */
    int nClsLevel;
    char **azApproved;       /* 档号 approved for the caller (a purpose given) */
    int nApproved;
    int hideUnlinked;        /* 1: records waiting for their catalog row are not shown */
    int allLevels;           /* 1: cleared for the top: every 密级 shown, unknown ones too */
} idx_scope;

int idx_access_scope(const idx_access *p, const idx_caller *w, idx_scope *pOut);
void idx_scope_clear(idx_scope *p);
/* For a record with these values (not NUL-terminated): 0 open, 1 needs an
 * approval the caller lacks, 2 approved for the caller. */
int idx_scope_restricted(const idx_scope *p, const char *zCat, size_t nCat, const char *zCls, size_t nCls,
                         const char *zCode, size_t nCode);

#endif
