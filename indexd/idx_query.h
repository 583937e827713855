/* The query language an archivist types (see proto/README.md): words,
 * "quoted phrases", AND / OR / NOT / -word, parentheses, and fields with
 * ':' or '：' (题名:扶贫, 年度:2016..2018).  Parsed into a small tree that
 * idx_search turns into Xapian queries. */
#ifndef IDX_QUERY_H
#define IDX_QUERY_H

#include <stddef.h>

typedef enum {
    IQ_AND,    /* pA AND pB */
    IQ_OR,     /* pA OR pB */
    IQ_NOT,    /* pA AND NOT pB; pA NULL: everything but pB */
    IQ_WORDS,  /* unquoted text in field zPrefix */
    IQ_PHRASE, /* quoted text in field zPrefix */
    IQ_FILTER, /* boolean term zPrefix + z */
    IQ_RANGE,  /* year z..zHi */
} iq_kind;

typedef struct iq_node {
    iq_kind kind;
    const char *zPrefix; /* term prefix: "" free text, "S" 题名, ... */
    int filter;          /* IDX_F_* of a filter, -1 otherwise */
    char *z, *zHi;
    unsigned offset;     /* 1-based character position in the query */
    int iLeaf;           /* for idx_search: its checks of this text leaf */
    struct iq_node *pA, *pB;
} iq_node;

/* Parse zQuery.  *ppOut is NULL for an empty query (everything).  On error
 * returns PS_BAD_QUERY with the reason in zErr and the 1-based character
 * position in *pOffset; PS_NOMEM if out of memory. */
int idx_query_parse(const char *zQuery, iq_node **ppOut, unsigned *pOffset, char *zErr,
                    size_t nErr);
void idx_query_free(iq_node *p);
/* A compact description of the tree, for tests: AND(WORDS(:扶贫),FILTER(Y2017)).
 * px_free() it. */
char *idx_query_describe(const iq_node *p);

#endif
