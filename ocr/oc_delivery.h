/* A vendor's delivery folder (see "Digitization deliveries" in DOMAIN.md):
 * the catalog CSV and the scans, linked to catalog rows by 档号 in their
 * names:
 *   <档号>/0001.jpg …        a folder per item, one file per page
 *   <档号>.tif, <档号>.pdf    one multi-page file per item (or born-digital)
 *   <档号>-0001.jpg …        one file per page, flat
 * Names are read as the catalog import reads a 档号 (proto_record_normalise:
 * look-alike separators, full-width, lower case, '-' for '·', 件号 without
 * zero padding), and such names are listed; the files' types are told
 * later by their content, never by extension.
 * And a resume journal: what was read already, by file identity. */
#ifndef OC_DELIVERY_H
#define OC_DELIVERY_H

#include "proto_code.h"

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char *zRel;        /* path under the delivery folder */
    char *zCode;       /* canonical 档号 */
    int page;          /* page number from the name; 0 when the name has none */
    long long size;
    long long mtimeNs;
} oc_file;

/* A name whose 档号 was read leniently, or that reads two ways. */
typedef struct {
    char *zRel;      /* the file, or the folder whose name is the 档号 */
    char *zWritten;  /* the 档号 as the name writes it */
    char *zCode;     /* the canonical 档号 it was read as */
    char *zReason;   /* for people: what was read, or why the file was not read */
} oc_name_note;

typedef struct {
    oc_file *a;        /* sorted by 档号, page, name */
    size_t n, nAlloc;
    char **azCatalog;  /* catalog candidates: top-level text files whose first line has 档号 */
    size_t nCatalog;
    char **azStray;    /* files whose names are no 档号 */
    size_t nStray;
    oc_name_note *aLenient;   /* names whose 档号 is written otherwise than canonically (read; sorted by zRel) */
    size_t nLenient;
    oc_name_note *aAmbiguous; /* names that read as two different 档号: not read (sorted by zRel) */
    size_t nAmbiguous;
} oc_delivery;

/* Walk zRoot (hidden entries skipped).  Returns PS_OK, PS_IO (zErr) or
 * PS_NOMEM. */
int oc_delivery_scan(const char *zRoot, oc_delivery *p, char *zErr, size_t nErr);
void oc_delivery_clear(oc_delivery *p);

/* How a file name was read (oc_name_read). */
enum { OC_NAME_NONE = 0, OC_NAME_CODE = 1, OC_NAME_AMBIGUOUS = 2 };

typedef struct {
    char zCode[PROTO_CODE_MAX];  /* the canonical 档号 */
    int page;                    /* page number from the name; 0 when the name has none */
    int inDir;                   /* the 档号 is the name of the folder holding the file */
    int lenient;                 /* written otherwise than canonically (zWritten) */
    char zWritten[256];          /* the part of the name (or the folder's name) read as the 档号 */
    char zOther[PROTO_CODE_MAX]; /* OC_NAME_AMBIGUOUS: the second reading's 档号 … */
    int otherPage;               /* … and page */
} oc_name;

/* The 档号 and page number a file name gives: zDir is the name of the
 * folder holding it ("" at the top).  A 档号 is read as the catalog import
 * reads one (proto_record_normalise): look-alike separators, full-width
 * characters, lower case, '-' for '·', a 件号 without zero padding.  The
 * forms tried: <档号>.ext, <档号>-<page>.ext (also '_', '－'), and a page
 * number (or any name) in a folder named <档号>; a reading that the strict
 * parser accepts comes first, in that order, as before lenient reading.
 * When the name read leniently gives two different 档号 (z031-ws·2019-y-
 * 0001-2: 机构 0001 件号 0002, or 件号 0001 page 2) it is OC_NAME_AMBIGUOUS
 * (zCode the first, zOther/otherPage the second) and must be renamed.
 * Returns OC_NAME_*, or -1 when out of memory. */
int oc_name_read(const char *zDir, const char *zName, oc_name *p);

/* oc_name_read's 档号 (PROTO_CODE_MAX bytes) and page: 1 when the name
 * gives one 档号, else 0. */
int oc_name_code(const char *zDir, const char *zName, char *zCode, int *pPage);

/* The journal: an append-only file of JSON lines {"k":key,"v":value}, the
 * last value of a key winning; each append reaches the disk before
 * oc_journal_put returns, and a line cut short by a crash is dropped. */
typedef struct oc_journal oc_journal;

int oc_journal_open(const char *zPath, oc_journal **ppOut, char *zErr, size_t nErr);
/* The value of zKey (borrowed), or NULL. */
json_t *oc_journal_get(oc_journal *j, const char *zKey);
/* Record zKey = pVal (borrowed). */
int oc_journal_put(oc_journal *j, const char *zKey, json_t *pVal, char *zErr, size_t nErr);
/* Every key and value (borrowed object). */
json_t *oc_journal_all(oc_journal *j);
void oc_journal_close(oc_journal *j);

#endif
