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
    /* 9: the search form of the record in indexes before format 2; unused */
    IDX_SLOT_PAGES = 10,   /* 页数 as the catalog gives it ("" unknown) */
    IDX_SLOT_SCANNED = 11, /* pages stored without a gap from page 1 */
    IDX_SLOT_STORED = 12,  /* pages stored */
    IDX_SLOT_TALLY = 13,   /* what the record counts for in the reports, below */
};

/* The tally value (idx_report_tally): nine fields separated by
 * IDX_TALLY_SEP, a byte no catalog value holds (control characters are
 * refused), so that the distinct tally values over a query's matches, with
 * their counts (a ValueCountMatchSpy), give every figure of the coverage
 * report and the ledger without reading a document:
 *   全宗 SEP 门类 SEP 年度 SEP 保管期限 SEP carrier class (IDX_CARRIER_*:
 *   P paper, N not paper, U unknown) SEP 页数 known (1/0) SEP 页数 (0 when
 *   unknown) SEP pages scanned from page 1, capped at 页数 (0 when 页数 is
 *   unknown) SEP digitized (1/0).
 * An index written before the slot existed has no tally: the reports then
 * fail (PS_INDEX) rather than count wrong; the records must be written again. */
#define IDX_TALLY_SEP '\x1F'
#define IDX_TALLY_FIELDS 9

/* Term prefixes.  Free text (titles, authors, document numbers, notes and
 * page text) is indexed without a prefix; the catalog fields that a query
 * can name are indexed again under their own prefix, at the same positions
 * (idx_text.h: units, pairs and positions). */
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
/* Terms (alone, no value) of the reports (idx_report.h), so that queries
 * find these records without reading any:
 * a record digitized by the rule of idx_report_digitized(), */
#define IDX_TERM_DIGITIZED "XD"
/* a record with any page stored (the timed test draws among these), */
#define IDX_TERM_HAS_PAGES "XH"
/* a record the coverage report counts (idx_report_scope(): 永久 or 30年,
 * paper or no 载体 given). */
#define IDX_TERM_IN_COVERAGE "XV"

/* The longest term Xapian accepts is 245 bytes; terms are cut below it
 * (idx_text.c) so that no text can fail a write. */
#define IDX_TERM_MAX 240

#define IDX_PAGE_MAX 65535u  /* pages of one record */

#endif
