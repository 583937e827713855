/* Search: parse an archivist's query, run it as two passes (exact matches
 * first, then records where an unquoted Chinese run is nearly there), and
 * build the JSON answer with hits, matching pages, snippets and facets. */
#ifndef IDX_SEARCH_H
#define IDX_SEARCH_H

#include "idx_access.h"
#include "idx_index.h"

#include <jansson.h>

#define IDX_FILTER_MAX 16  /* values of one filter parameter */

enum { IDX_SORT_RELEVANCE, IDX_SORT_DATE, IDX_SORT_DATE_DESC };
enum { IDX_F_FONDS, IDX_F_CATEGORY, IDX_F_YEAR, IDX_F_RETENTION, IDX_F_CARRIER,
       IDX_F_CLASSIFICATION, IDX_F_ORG, IDX_F__COUNT };

typedef struct {
    const char *zQuery;            /* may be NULL or empty: everything */
    const char *azFilter[IDX_F__COUNT][IDX_FILTER_MAX]; /* OR within, AND across */
    int anFilter[IDX_F__COUNT];
    const char *zYearFrom, *zYearTo; /* NULL: open */
    int sort;
    unsigned offset, limit;
    int facets;                    /* 1: count facets */
    unsigned facetCheck;           /* matches the facet counts look at, at least */
    const idx_scope *pScope;       /* what the caller may match (idx_access.h); NULL: everything */
    int maskIds;                   /* 1: personal numbers masked in snippets */
} idx_search_req;

/* Name on the wire ("fonds") of a filter, and the lookup the other way. */
const char *idx_filter_name(int f);
int idx_filter_lookup(const char *zName);

/* The most index terms one query may look for (near variants included):
 * past it the query is refused as too complex, so that no single request
 * holds a worker and a gigabyte for seconds. */
#define IDX_QUERY_TERMS_MAX 1000
/* Unquoted Chinese runs of this many characters at most get near matches. */
#define IDX_NEAR_CHARS_MAX 12

/* On PS_OK, *ppOut is the answer object (yours).  A hit whose page text
 * was shown from a record that needs an approval (the caller's scope holds
 * it as approved) carries "_view": its page number, for the register: the
 * caller writes the view and removes the key before answering.  On PS_BAD_QUERY or
 * PS_INVALID, zErr says what is wrong, *pzParam names the parameter and
 * *pOffset the character (1-based) of q where the problem is, or 0. */
int idx_search(idx_index *p, const idx_search_req *pReq, json_t **ppOut,
               const char **pzParam, unsigned *pOffset, char *zErr, size_t nErr);

#endif
