/* A growable byte buffer with a size limit: it holds the daemon's answers
 * (so that a runaway answer is an error, not an exhausted machine) and the
 * text the client is about to print.  Allocation goes through px_*. */
#ifndef QC_BUF_H
#define QC_BUF_H

#include <stddef.h>

#define QC_BUF_MAX_DEFAULT (64u << 20) /* bytes of printed text */

typedef struct {
    char *z;       /* contents, always NUL-terminated once anything was added; NULL before */
    size_t n;      /* bytes held, the NUL excluded */
    size_t nAlloc; /* bytes allocated */
    size_t nMax;   /* most bytes it may hold */
    int rc;        /* PS_OK, or the first failure (PS_NOMEM, PS_TOO_BIG) */
} qc_buf;

/* An empty buffer that may grow to nMax bytes (0: QC_BUF_MAX_DEFAULT). */
void qc_buf_init(qc_buf *b, size_t nMax);

/* Append n bytes.  Returns PS_OK, PS_NOMEM or PS_TOO_BIG.  A failure sticks
 * in b->rc: later appends do nothing and return it, so a formatter may
 * append freely and look at b->rc once at the end.  On failure the bytes
 * already held stay as they were. */
int qc_buf_add(qc_buf *b, const void *p, size_t n);
int qc_buf_adds(qc_buf *b, const char *z);
int qc_buf_addf(qc_buf *b, const char *zFmt, ...) __attribute__((format(printf, 2, 3)));
/* Append the same string n times (padding, box rules). */
int qc_buf_repeat(qc_buf *b, const char *z, size_t n);

/* The contents; "" while empty.  Valid until the next append or release. */
const char *qc_buf_str(const qc_buf *b);

/* Empty the buffer and forget a failure; the memory is kept. */
void qc_buf_reset(qc_buf *b);

/* Free the memory; the buffer is empty and usable again with the same limit. */
void qc_buf_release(qc_buf *b);

#endif
