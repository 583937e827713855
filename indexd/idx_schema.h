/* The index schema: every value slot and term prefix the daemon writes and
 * reads, in one place.  A document is one record (件); its data is JSON
 * {"r":{record},"p":{"1":{page},...}} (idx_index.h). */
#ifndef IDX_SCHEMA_H
#define IDX_SCHEMA_H

/* Value slots. */
enum {
    IDX_SLOT_DATE = 0, IDX_SLOT_YEAR = 1, IDX_SLOT_FONDS = 2, IDX_SLOT_CATEGORY = 3,
    IDX_SLOT_RETENTION = 4, IDX_SLOT_CARRIER = 5, IDX_SLOT_CLASSIFICATION = 6,
    IDX_SLOT_ORG = 7, IDX_SLOT_CODE = 8,
    IDX_SLOT_FORM = 9,     /* the search form of the record, see below */
    IDX_SLOT_PAGES = 10,   /* 页数 as the catalog gives it ("" unknown) */
    IDX_SLOT_SCANNED = 11, /* pages stored without a gap from page 1 */
    IDX_SLOT_STORED = 12,  /* pages stored */
};

/* Term prefixes.  Free text (titles, authors, document numbers, notes and
 * page text) is indexed without a prefix; the catalog fields that a query
 * can name are indexed again under their own prefix. */
#define IDX_PFX_ID "Q"              /* unique: the canonical 档号 */
#define IDX_PFX_TITLE "S"           /* 题名 words */
#define IDX_PFX_AUTHOR "A"          /* 责任者 words */
#define IDX_PFX_DOCNO "XN"          /* 文号 words */
#define IDX_PFX_NOTE "XT"           /* 备注 words */
/* Boolean (filter) terms: prefix + the field's value as stored. */
#define IDX_PFX_FONDS "XF"
#define IDX_PFX_CATEGORY "XC"
#define IDX_PFX_YEAR "Y"
#define IDX_PFX_RETENTION "XR"
#define IDX_PFX_ORG "XO"
#define IDX_PFX_CARRIER "XK"
#define IDX_PFX_CLASSIFICATION "XM"
#define IDX_PFX_PARENT "XP"
/* The term (alone, no value) of a record made from scans that no catalog
 * row names yet (待挂接); its data holds "u": {"at", "source"}. */
#define IDX_TERM_UNLINKED "XU"

/* The longest term Xapian accepts is 245 bytes; terms are cut below it
 * (idx_text.c) so that no text can fail a write. */
#define IDX_TERM_MAX 240

/* The search form of a record (idx_text.h) is kept in a value slot so that a
 * phrase can be checked without parsing the stored JSON: one section per
 * field, each "\x1E" + tag + form, a page's tag followed by its number and
 * "\x1D"; the tags are upper case, which no form contains, so nothing
 * matches across sections.  The catalog sections come first, the pages
 * after them. */
#define IDX_TAG_TITLE "S"
#define IDX_TAG_AUTHOR "A"
#define IDX_TAG_DOCNO "N"
#define IDX_TAG_NOTE "O"
#define IDX_TAG_PAGE "P"

#define IDX_PAGE_MAX 65535u  /* pages of one record */

#endif
