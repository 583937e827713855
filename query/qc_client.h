/* HTTP calls to indexd: one request, a bounded answer, its JSON parsed and
 * the daemon's error body turned into a status and a sentence. */
#ifndef QC_CLIENT_H
#define QC_CLIENT_H

#include "qc_buf.h"

#include <jansson.h>
#include <stdio.h>

#define QC_ANSWER_MAX (256u << 20) /* bytes of one answer; a bigger one is an error */
#define QC_CONNECT_TIMEOUT_S 10L

typedef struct qc_client qc_client;

/* A client of the daemon at zBase ("http://host:port", no trailing slash),
 * copied.  Returns PS_OK, PS_NOMEM, or PS_INTERNAL when libcurl cannot make
 * a handle.  The caller has called curl_global_init() and owns *ppOut:
 * release it with qc_client_free(). */
int qc_client_new(const char *zBase, qc_client **ppOut);
void qc_client_free(qc_client *c);

/* An answer of the daemon. */
typedef struct {
    long http;     /* HTTP status code; 0 when none came */
    qc_buf body;   /* the body as received, up to QC_ANSWER_MAX bytes */
    json_t *pJson; /* the body parsed, when it is a JSON object; else NULL */
} qc_answer;

void qc_answer_init(qc_answer *a);
/* Free the body and the JSON; the answer can be reused. */
void qc_answer_clear(qc_answer *a);

/* Send zMethod (GET, POST, PUT) for zPath ("/api/v1/…", already
 * percent-encoded) and read the answer into *pAns (cleared first).  When
 * pBody is not NULL it is sent as the body with Content-Type zType, read
 * to its end (a regular file is sent with its length, anything else
 * chunked).
 *
 * Returns PS_OK for a 2xx answer whose body is a JSON object.  Otherwise a
 * status with a sentence in zErr:
 *   PS_NET       the daemon cannot be reached ("cannot reach indexd at …: …")
 *   PS_TOO_BIG   the answer is over QC_ANSWER_MAX
 *   PS_IO        pBody could not be read
 *   PS_INVALID   a 2xx answer that is not a JSON object
 *   any other    the daemon's error answer, as by qc_client_describe_error()
 * pAns holds whatever was received in every case. */
int qc_client_call(qc_client *c, const char *zMethod, const char *zPath, const char *zType,
                   FILE *pBody, qc_answer *pAns, char *zErr, size_t nErr);

/* For an error answer (HTTP status http, body pJson, may be NULL or of any
 * shape): write "<message> (field …, line …, param …, offset …)" to zErr
 * and return its status — the body's "code", else its "status" name, else
 * one derived from the HTTP status. */
int qc_client_describe_error(long http, const json_t *pJson, char *zErr, size_t nErr);

#endif
