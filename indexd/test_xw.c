/* Unit tests of the Xapian wrapper: errors become statuses, queries and
 * result sets behave as the header says. */
#include "proto_alloc.h"
#include "proto_status.h"
#include "px_test.h"
#include "xw.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int keep_2019(void *ctx, xw_docview *v)
{
    const char *z;
    size_t n;
    (void)ctx;
    CHECK_INT(xw_docview_value(v, 99, &z, &n), PS_INVALID);
    return xw_docview_value(v, 1, &z, &n) == PS_OK && n == 4 && memcmp(z, "2019", 4) == 0;
}

int main(void)
{
    char zDir[] = "/tmp/test_xw_XXXXXX";
    char zErr[256], zPath[300];
    xw_wdb *w = NULL, *w2 = NULL;
    xw_rdb *r = NULL;
    CHECK(mkdtemp(zDir) != NULL);
    snprintf(zPath, sizeof zPath, "%s/db", zDir);

    /* A path that is a file, not a database: an error with a message. */
    char zFile[300];
    snprintf(zFile, sizeof zFile, "%s/file", zDir);
    FILE *f = fopen(zFile, "w");
    fputs("not a database", f);
    fclose(f);
    CHECK(xw_wdb_open(zFile, &w, zErr, sizeof zErr) != PS_OK);
    CHECK(w == NULL);
    CHECK(strlen(zErr) > 0);
    const char *azBad[] = {zFile};
    CHECK(xw_rdb_open(azBad, 1, &r, zErr, sizeof zErr) != PS_OK);

    CHECK_INT(xw_wdb_open(zPath, &w, zErr, sizeof zErr), PS_OK);
    /* A second writer on the same database is refused, not crashed. */
    CHECK_INT(xw_wdb_open(zPath, &w2, zErr, sizeof zErr), PS_CONFLICT);
    CHECK_CONTAINS(zErr, "locked");

    const char *azWords[][3] = {{"red", "apple", "2017"}, {"green", "apple", "2018"}, {"red", "car", "2019"}};
    for (int i = 0; i < 3; i++) {
        xw_doc *d = xw_doc_new();
        char zId[16], zData[32];
        snprintf(zId, sizeof zId, "Q%d", i);
        snprintf(zData, sizeof zData, "doc%d", i);
        xw_doc_add_boolean(d, zId);
        xw_doc_add_posting(d, azWords[i][0], strlen(azWords[i][0]), 1);
        xw_doc_add_posting(d, azWords[i][1], strlen(azWords[i][1]), 2);
        xw_doc_set_value(d, 1, azWords[i][2], 4);
        xw_doc_set_data(d, zData, strlen(zData));
        int replaced = -1;
        CHECK_INT(xw_wdb_replace(w, zId, d, &replaced, zErr, sizeof zErr), PS_OK);
        CHECK_INT(replaced, 0);
        if (i == 0) {
            CHECK_INT(xw_wdb_replace(w, zId, d, &replaced, zErr, sizeof zErr), PS_OK);
            CHECK_INT(replaced, 1);
        }
        xw_doc_free(d);
    }
    char *z;
    size_t n;
    CHECK_INT(xw_wdb_get_data(w, "Q1", &z, &n, zErr, sizeof zErr), PS_OK);  /* uncommitted */
    CHECK_STR(z, "doc1");
    px_free(z);
    CHECK_INT(xw_wdb_get_data(w, "Q9", &z, &n, zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_doccount(w), 3);

    const char *azPath[] = {zPath};
    CHECK_INT(xw_rdb_open(azPath, 1, &r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 3);
    CHECK_INT(xw_rdb_termfreq(r, "apple"), 2);

    /* Phrase: in order and adjacent. */
    xw_query *a[2] = {xw_q_term("red", 3), xw_q_term("apple", 5)};
    xw_query *pPhrase = xw_q_phrase(a, 2);
    xw_query *b[2] = {a[1], a[0]};
    xw_query *pRev = xw_q_phrase(b, 2);
    xw_search_opts o = {0, 10, -1, 0, 10, NULL, 0, NULL, NULL, 1, 0, 0};
    xw_mset *m = NULL;
    CHECK_INT(xw_search(r, pPhrase, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    const char *zD;
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(n == 4 && memcmp(zD, "doc0", 4) == 0);
    CHECK_INT(xw_mset_data(m, 5, &zD, &n), PS_NOT_FOUND);
    CHECK_INT(xw_mset_value(m, 0, &zD, &n), PS_OK);
    CHECK(n == 4 && memcmp(zD, "2017", 4) == 0);
    xw_mset_free(m);
    CHECK_INT(xw_search(r, pRev, &o, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 0);
    xw_mset_free(m);

    /* Value range, sort, facets. */
    xw_query *pRange = xw_q_value_range(1, "2018", "2019");
    unsigned aSlot[] = {1};
    xw_search_opts o2 = {0, 10, 1, 1, 10, aSlot, 1, NULL, NULL, -1, 0, 0};
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_estimated(m), 2);
    CHECK(xw_mset_exact(m));
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(memcmp(zD, "doc2", 4) == 0);  /* 2019 first, descending */
    CHECK_INT(xw_mset_facet_size(m, 0), 2);
    unsigned long c;
    xw_mset_facet_get(m, 0, 0, &zD, &n, &c);
    CHECK(n == 4 && memcmp(zD, "2018", 4) == 0 && c == 1);
    CHECK_INT(xw_mset_facet_seen(m), 2);
    xw_mset_free(m);

    /* A decider sees each candidate's values and drops what it refuses; the
     * facets count only what it keeps. */
    o2.xDecide = keep_2019;
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    CHECK_INT(xw_mset_data(m, 0, &zD, &n), PS_OK);
    CHECK(memcmp(zD, "doc2", 4) == 0);
    CHECK_INT(xw_mset_facet_size(m, 0), 1);
    xw_mset_free(m);

    /* The same, unranked: candidates in index order, checked in chunks. */
    o2.nFacet = 0;
    o2.unranked = 1;
    CHECK_INT(xw_search(r, pRange, &o2, &m, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_mset_size(m), 1);
    CHECK_INT(xw_mset_estimated(m), 1);
    CHECK(xw_mset_exact(m));
    xw_mset_free(m);

    char *zDesc = xw_q_describe(pPhrase);
    CHECK_CONTAINS(zDesc, "PHRASE 2");
    px_free(zDesc);
    CHECK(!xw_q_is_none(pPhrase));
    xw_query *pNone = xw_q_none();
    CHECK(xw_q_is_none(pNone));

    /* The reader follows the writer after reopen. */
    CHECK_INT(xw_wdb_delete(w, "Q0", zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_wdb_delete(w, "Q0", zErr, sizeof zErr), PS_NOT_FOUND);
    CHECK_INT(xw_wdb_commit(w, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 3);
    CHECK_INT(xw_rdb_reopen(r, zErr, sizeof zErr), PS_OK);
    CHECK_INT(xw_rdb_doccount(r), 2);
    CHECK_INT(xw_rdb_get_data(r, "Q0", &z, &n, zErr, sizeof zErr), PS_NOT_FOUND);

    xw_q_free(a[0]);
    xw_q_free(a[1]);
    xw_q_free(pPhrase);
    xw_q_free(pRev);
    xw_q_free(pRange);
    xw_q_free(pNone);
    xw_rdb_close(r);
    xw_wdb_close(w);
    px_test_rmdir(zDir);
    return px_test_done();
}
