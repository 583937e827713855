/* API paths for the client's commands. */
#include "qc_path.h"
#include "proto_status.h"

#include <curl/curl.h>
#include <limits.h>
#include <string.h>

int qc_path_escape(qc_buf *b, const char *z)
{
    size_t n = strlen(z);
    if (n > INT_MAX) return b->rc = PS_TOO_BIG;
    /* Since libcurl 7.82 the handle argument is ignored and may be NULL. */
    char *zEsc = curl_easy_escape(NULL, z, (int)n);
    if (!zEsc) return b->rc = PS_NOMEM;
    qc_buf_adds(b, zEsc);
    curl_free(zEsc);
    return b->rc;
}

/* Append "&name=value" ('?' for the first parameter). */
static void param(qc_buf *b, int *pFirst, const char *zName, const char *zVal)
{
    qc_buf_adds(b, *pFirst ? "?" : "&");
    *pFirst = 0;
    qc_buf_adds(b, zName);
    qc_buf_adds(b, "=");
    qc_path_escape(b, zVal);
}

int qc_path_search(qc_buf *b, const qc_args *a)
{
    int first = 1;
    qc_buf_adds(b, "/api/v1/search");
    if (a->nWord > 0) {
        qc_buf q;
        qc_buf_init(&q, b->nMax);
        for (int i = 0; i < a->nWord; i++) {
            if (i) qc_buf_adds(&q, " ");
            qc_buf_adds(&q, a->azWord[i]);
        }
        if (q.rc != PS_OK) b->rc = q.rc;
        else param(b, &first, "q", qc_buf_str(&q));
        qc_buf_release(&q);
    }
    for (int f = 0; f < QC_F__COUNT; f++)
        for (int i = 0; i < a->anFilter[f]; i++) param(b, &first, qc_filter_param(f), a->azFilter[f][i]);
    if (a->zYearFrom) param(b, &first, "year_from", a->zYearFrom);
    if (a->zYearTo) param(b, &first, "year_to", a->zYearTo);
    if (a->zSort) param(b, &first, "sort", a->zSort);
    long offset = qc_args_offset(a);
    if (offset > 0) {
        qc_buf_addf(b, "%soffset=%ld", first ? "?" : "&", offset);
        first = 0;
    }
    if (a->limit > 0) {
        qc_buf_addf(b, "%slimit=%ld", first ? "?" : "&", a->limit);
        first = 0;
    }
    if (a->noFacets) param(b, &first, "facets", "0");
    return b->rc;
}

int qc_path_record(qc_buf *b, const char *zCode)
{
    qc_buf_adds(b, "/api/v1/records/");
    return qc_path_escape(b, zCode);
}

int qc_path_page(qc_buf *b, const char *zCode, const char *zPageNo)
{
    qc_path_record(b, zCode);
    qc_buf_adds(b, "/pages/");
    return qc_path_escape(b, zPageNo);
}

int qc_path_report(qc_buf *b, const qc_args *a)
{
    int first = 1;
    if (strcmp(a->azPos[0], "register") == 0) qc_buf_adds(b, "/api/v1/register");
    else qc_buf_addf(b, "/api/v1/reports/%s", a->azPos[0]);
    if (a->anFilter[QC_F_FONDS] > 0) param(b, &first, "fonds", a->azFilter[QC_F_FONDS][0]);
    if (a->zFormat) param(b, &first, "format", a->zFormat);
    if (a->gb18030) param(b, &first, "encoding", "gb18030");
    if (a->zDelivery) param(b, &first, "delivery", a->zDelivery);
    /* on screen: the first records still to digitize; the rest in CSV or HTML */
    if (!a->zFormat && !a->json) param(b, &first, "limit", "20");
    return b->rc;
}
