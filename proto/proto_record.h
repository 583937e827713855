/* The catalog record of one item (件), as imported from a catalog and sent
 * on the wire.  Keys on the wire are English (code, fonds, ...); the
 * Chinese names of DA/T 22 appear in messages and in the CSV headers. */
#ifndef PROTO_RECORD_H
#define PROTO_RECORD_H

#include <jansson.h>
#include <stddef.h>

#define PROTO_FIELD_MAX 4096 /* bytes of any one text field */

typedef enum {
    PF_CODE, PF_FONDS, PF_CATEGORY, PF_YEAR, PF_RETENTION, PF_ORG, PF_ITEM_NO,
    PF_TITLE, PF_AUTHOR, PF_DOC_NO, PF_DATE, PF_PAGES, PF_CLASSIFICATION,
    PF_CARRIER, PF_LOCATION, PF_NOTE, PF_PARENT,
    PF__COUNT
} proto_field;

/* Wire key ("doc_no") and Chinese name ("文号") of a field. */
const char *proto_field_key(proto_field f);
const char *proto_field_cn(proto_field f);
/* Field for a wire key, a Chinese catalog header or a common alias
 * ("文件编号", "机构(问题)"), or -1. */
int proto_field_lookup(const char *zName);

/* All values are kept as text as the catalog wrote them (after trimming);
 * proto_record_check() validates and canonicalises them.  Unset fields are
 * NULL.  The record owns its strings. */
typedef struct {
    char *az[PF__COUNT];
} proto_record;

void proto_record_init(proto_record *r);
/* Free every field; the record can be reused. */
void proto_record_clear(proto_record *r);
/* Set a field to a copy of z (n bytes); an empty value unsets it. */
int proto_record_set(proto_record *r, proto_field f, const char *z, size_t n);

/* A problem found in a record: the field at fault and why. */
typedef struct {
    int field;          /* proto_field, or -1 for the record as a whole */
    char zReason[256];
} proto_problem;

/* Validate r and bring it to canonical form: the 档号 is parsed and written
 * canonically, its parts fill 全宗号/门类/年度/保管期限/机构/件号 where they are
 * empty and must agree where they are not, 保管期限 becomes Y/D30/D10, the
 * 日期 must be YYYYMMDD (00 for an unknown month or day), 页数 a number, 密级
 * one of the known levels.  Returns PS_OK, or PS_INVALID with *pErr filled
 * (the record is then unchanged or partly canonicalised; don't store it).
 * Missing 日期 or 责任者, mandatory in DA/T 18 but common in old catalogs,
 * are not errors: they are reported in aWarn (up to nWarnMax), *pnWarn set. */
int proto_record_check(proto_record *r, proto_problem *pErr,
                       proto_problem *aWarn, int nWarnMax, int *pnWarn);

/* A catalog audit (evaluation item 9) looks at a row as written and lists
 * every rule it breaks, not only the first.  zRule is a stable key:
 * mandatory (档号, 题名, 责任者, 日期, 页数, 保管期限 — 保管期限 may come from
 * the 档号, and the 档号 from its parts), code (档号 structure), code_parts
 * (a column disagrees with its part of the 档号), date, pages (页数 not a
 * positive whole number), year, item_no, retention, classification. */
enum { PROTO_FINDING_NOTE, PROTO_FINDING_WARNING, PROTO_FINDING_ERROR };

typedef struct {
    int field;          /* proto_field, -1 for the row */
    const char *zRule;
    int severity;       /* PROTO_FINDING_*: a note (normalised, nothing
                         * irregular) is not an irregular entry */
    char zReason[256];  /* in Chinese, for people */
    char zWritten[160]; /* what the row said ("" when nothing), cut with "…" */
    char zUnderstood[96]; /* what is kept instead ("" when nothing) */
} proto_finding;

/* Up to nMax findings of r (unchanged) into a; returns how many there are
 * in all (may exceed nMax).  *pComplete: every mandatory field present.
 * The findings of proto_record_normalise on a copy of r. */
int proto_record_audit(const proto_record *r, proto_finding *a, int nMax, int *pComplete);

/* Read a catalog row as office software writes it (r as written, its
 * fields set from the columns) and bring it to canonical form where that
 * is unambiguous, recording every change and every irregularity in a (up
 * to nMax; *pn is how many there are in all):
 * - control characters removed ("control"); a field over PROTO_FIELD_MAX
 *   kept whole ("length", a warning);
 * - 门类 by its DA/T 22 name (文书 → WS; "category_name", a note);
 * - 保管期限 as 永久/30年/10年 or Y/D30/D10 (else "retention");
 * - the 档号 as written, or made of its parts; look-alike separators, full-
 *   width characters, lower case, '-' for '·', a 件号 without zero padding
 *   ("code_form": written and understood); one that cannot be read even so
 *   ("code") or none at all ("mandatory") means the row names no item;
 * - a column that disagrees with its part of the 档号 ("code_parts": what
 *   was written is kept in the finding, the 档号's part in the record);
 * - 日期 as 20170307, 2017-3-7, 2017/3/7, 2017.03.07, 2017年3月7日, full-
 *   width digits too ("date_form"); one that cannot be read is left out
 *   ("date");
 * - 页数 with a unit, 3页 ("pages_form"); not a positive number ("pages");
 * - 密级 not a known level ("classification": kept as written, so that no
 *   reader sees the record until it is corrected);
 * - 题名, 责任者, 日期, 页数, 保管期限 missing ("mandatory").
 * Every irregularity is listed once.  PS_OK when the row names an item (a
 * readable 档号), PS_INVALID when it does not (the findings say why),
 * PS_NOMEM.  *pComplete (may be NULL): every mandatory field present. */
int proto_record_normalise(proto_record *r, proto_finding *a, int nMax, int *pn, int *pComplete);

/* The 门类代码 of a 门类 name: the unit's own (below) first, then DA/T 22's
 * (文书 → WS); NULL when neither knows it. */
const char *proto_category_code(const char *zName);

/* Set the unit's own 门类 names from "名称=代码,名称=代码" (config key
 * category_names; "" for none).  Call once at start-up, before any thread
 * reads them.  PS_CONFIG with a message in Chinese in zErr, and the names
 * set before unchanged, when the text is not of that form. */
int proto_category_names_set(const char *zSpec, char *zErr, size_t nErr);

/* New JSON object of the record (integers for year, item_no and pages).
 * NULL if out of memory. */
json_t *proto_record_to_json(const proto_record *r);
/* Fill r from a JSON object; unknown keys are an error (a typo must not pass
 * silently).  Does not validate: call proto_record_check() next. */
int proto_record_from_json(proto_record *r, const json_t *pObj, proto_problem *pErr);

/* Check that z is well-formed UTF-8 of n bytes.  Returns 1 if it is. */
int proto_utf8_valid(const char *z, size_t n);

/* Text a caller hands over (a field, a page, a purpose, a note): well-formed
 * UTF-8 holding no NUL and no other control character than TAB, LF and CR
 * (C0 and DEL).  Returns PS_OK, PS_ENCODING (not UTF-8) or PS_INVALID (a
 * control character), with the 0-based offset of the first bad byte in
 * *pOffset (may be NULL). */
int proto_text_check(const char *z, size_t n, size_t *pOffset);

#endif
