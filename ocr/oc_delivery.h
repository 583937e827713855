/* A vendor's delivery folder (see "Digitization deliveries" in DOMAIN.md):
 * the catalog CSV and the scans, linked to catalog rows by 档号 in their
 * names:
 *   <档号>/0001.jpg …        a folder per item, one file per page
 *   <档号>.tif, <档号>.pdf    one multi-page file per item (or born-digital)
 *   <档号>-0001.jpg …        one file per page, flat
 * Names are matched after look-alike separators are mended (proto_code);
 * the files' types are told later by their content, never by extension.
 * And a resume journal: what was read already, by file identity. */
#ifndef OC_DELIVERY_H
#define OC_DELIVERY_H

#include <jansson.h>
#include <stddef.h>

typedef struct {
    char *zRel;        /* path under the delivery folder */
    char *zCode;       /* canonical 档号 */
    int page;          /* page number from the name; 0 when the name has none */
    long long size;
    long long mtimeNs;
} oc_file;

typedef struct {
    oc_file *a;        /* sorted by 档号, page, name */
    size_t n, nAlloc;
    char **azCatalog;  /* catalog candidates: top-level text files whose first line has 档号 */
    size_t nCatalog;
    char **azStray;    /* files whose names are no 档号 */
    size_t nStray;
} oc_delivery;

/* Walk zRoot (hidden entries skipped).  Returns PS_OK or PS_IO (zErr). */
int oc_delivery_scan(const char *zRoot, oc_delivery *p, char *zErr, size_t nErr);
void oc_delivery_clear(oc_delivery *p);

/* The 档号 and page number a file name gives: zDir is the name of the
 * folder holding it ("" at the top).  Returns 1 with zCode (PROTO_CODE_MAX)
 * and *pPage set, or 0 when the name says nothing. */
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
