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
/* The same without trimming: a catalog cell exactly as written (no NUL in
 * it), for proto_record_normalise, which trims it and says so. */
int proto_record_set_as_written(proto_record *r, proto_field f, const char *z, size_t n);
/* What trimming takes from a value's ends: ASCII spaces, TABs, line breaks
 * and the ideographic space U+3000 (the rule of proto_record_set and of
 * proto_record_normalise).  Returns the length of z[0..n) without them,
 * *pStart where the rest begins. */
size_t proto_trim_span(const char *z, size_t n, size_t *pStart);

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

/* What the lenient reading of a catalog row found (evaluation item 9: a
 * catalog audit lists every rule a row breaks, not only the first).  zRule
 * is a stable key; the severity says whether it is an irregular entry:
 * - notes, normalised and nothing irregular: trimmed (spaces at a field's
 *   ends removed), length (a field over PROTO_FIELD_MAX bytes, kept whole),
 *   category_name (门类 by its name);
 * - errors, irregular entries under DA/T 18/22: control (control
 *   characters removed), retention, code_form (档号 written irregularly,
 *   read all the same), code (档号 unreadable: the row names no item),
 *   code_parts (a column disagrees with its part of the 档号: zWritten the
 *   column as written, zUnderstood the 档号's part, which the record keeps),
 *   date_form, date, pages_form, pages, classification, mandatory (档号,
 *   题名, 责任者, 日期, 页数, 保管期限 missing — 保管期限 may come from the
 *   档号, and the 档号 from its parts);
 * - found by the catalog reader (idx_csv), not by proto_record_normalise:
 *   unclosed_quote and extra_fields (warnings: the row's shape), encoding
 *   (a cell that was not UTF-8: read as GB18030, a warning, or its bad
 *   bytes replaced by U+FFFD, an error). */
enum { PROTO_FINDING_NOTE, PROTO_FINDING_WARNING, PROTO_FINDING_ERROR };

typedef struct {
    int field;          /* proto_field, -1 for the row */
    const char *zRule;  /* a string literal */
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
 * fields set from the columns with proto_record_set_as_written; values set
 * with proto_record_set come trimmed already) and bring it to canonical
 * form where that is unambiguous, recording every change and every
 * irregularity in a (up to nMax; *pn is how many there are in all):
 * - control characters removed ("control"); spaces, full-width spaces,
 *   TABs and line breaks at a field's ends removed ("trimmed", a note:
 *   written with them, understood without); a field over PROTO_FIELD_MAX
 *   kept whole ("length", a note);
 * - 门类 by its DA/T 22 name (文书 → WS; "category_name", a note);
 * - 保管期限 as 永久/30年/10年 or Y/D30/D10 (else "retention");
 * - the 档号 as written, or made of its parts; look-alike separators, full-
 *   width characters, lower case, '-' for '·', a 件号 without zero padding
 *   or with too much (00015; its number 1-9999) ("code_form": written and
 *   understood); one that cannot be read even so ("code") or none at all
 *   ("mandatory") means the row names no item;
 * - a column that disagrees with its part of the 档号, compared as read
 *   (30年 as D30, 照片 as ZP, 16 as 0016) ("code_parts": the column exactly
 *   as written in the finding, the 档号's part in the record);
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

/* The Chinese name of a finding's rule (date_form → 日期写法不规范), for
 * people: the import's rules and the catalog audit's (duplicate, item_gap,
 * shape); an unknown rule is returned as it is. */
const char *proto_rule_cn(const char *zRule);

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
