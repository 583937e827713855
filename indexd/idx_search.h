/* Search: parse an archivist's query, run it as two passes (exact matches
 * first, then records where an unquoted Chinese run is nearly there), and
 * build the JSON answer with hits, matching pages, snippets and facets. */
#ifndef IDX_SEARCH_H
#define IDX_SEARCH_H

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
    int restricted;                /* 1: leave out records whose 密级 is above clearance */
    int clearance;                 /* 0 公开 … 5 绝密 (idx_clearance_level) */
    int maskIds;                   /* 1: ID numbers masked in snippets */
} idx_search_req;

/* Name on the wire ("fonds") of a filter, and the lookup the other way. */
const char *idx_filter_name(int f);
int idx_filter_lookup(const char *zName);

/* On PS_OK, *ppOut is the answer object (yours).  On PS_BAD_QUERY or
 * PS_INVALID, zErr says what is wrong, *pzParam names the parameter and
 * *pOffset the character (1-based) of q where the problem is, or 0. */
int idx_search(idx_index *p, const idx_search_req *pReq, json_t **ppOut,
               const char **pzParam, unsigned *pOffset, char *zErr, size_t nErr);

#endif
