/* Bounded growable buffer with a sticky error. */
#include "qc_buf.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void qc_buf_init(qc_buf *b, size_t nMax)
{
    b->z = NULL;
    b->n = b->nAlloc = 0;
    b->nMax = nMax ? nMax : QC_BUF_MAX_DEFAULT;
    b->rc = PS_OK;
}

/* Make room for n more bytes and the NUL. */
static int grow(qc_buf *b, size_t n)
{
    if (b->rc != PS_OK) return b->rc;
    if (n > b->nMax || b->n > b->nMax - n) return b->rc = PS_TOO_BIG;
    if (b->n + n + 1 <= b->nAlloc) return PS_OK;
    size_t nNew = b->nAlloc ? b->nAlloc : 256;
    while (nNew < b->n + n + 1) nNew *= 2; /* cannot overflow: n + b->n <= nMax */
    if (nNew > b->nMax + 1) nNew = b->nMax + 1;
    char *z = px_realloc(b->z, nNew);
    if (!z) return b->rc = PS_NOMEM;
    b->z = z;
    b->nAlloc = nNew;
    return PS_OK;
}

int qc_buf_add(qc_buf *b, const void *p, size_t n)
{
    int rc = grow(b, n);
    if (rc != PS_OK) return rc;
    if (n) memcpy(b->z + b->n, p, n);
    b->n += n;
    b->z[b->n] = 0;
    return PS_OK;
}

int qc_buf_adds(qc_buf *b, const char *z) { return qc_buf_add(b, z, strlen(z)); }

int qc_buf_addf(qc_buf *b, const char *zFmt, ...)
{
    char zSmall[256];
    va_list ap;
    if (b->rc != PS_OK) return b->rc;
    va_start(ap, zFmt);
    int n = vsnprintf(zSmall, sizeof zSmall, zFmt, ap);
    va_end(ap);
    if (n < 0) return b->rc = PS_INTERNAL;
    if ((size_t)n < sizeof zSmall) return qc_buf_add(b, zSmall, (size_t)n);
    int rc = grow(b, (size_t)n);
    if (rc != PS_OK) return rc;
    va_start(ap, zFmt);
    vsnprintf(b->z + b->n, (size_t)n + 1, zFmt, ap);
    va_end(ap);
    b->n += (size_t)n;
    return PS_OK;
}

int qc_buf_repeat(qc_buf *b, const char *z, size_t n)
{
    size_t len = strlen(z);
    for (size_t i = 0; i < n; i++)
        if (qc_buf_add(b, z, len) != PS_OK) break;
    return b->rc;
}

const char *qc_buf_str(const qc_buf *b) { return b->z ? b->z : ""; }

void qc_buf_reset(qc_buf *b)
{
    b->n = 0;
    if (b->z) b->z[0] = 0;
    b->rc = PS_OK;
}

void qc_buf_release(qc_buf *b)
{
    px_free(b->z);
    qc_buf_init(b, b->nMax);
}
