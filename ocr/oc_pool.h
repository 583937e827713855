/* Worker processes that read untrusted files.  Each worker is a forked
 * child with an address-space limit, holding one oc_engine (one Tesseract)
 * reused across pages.  A job that crashes its worker, runs out of memory
 * or runs past its time limit costs that job only: the worker is killed
 * and replaced, and the job's answer says what happened.
 *
 * Jobs and answers are JSON lines over pipes:
 *   {"op":"probe","path":P}                 -> {"ok":true,"kind":K,"pages":N,"mime":M}
 *   {"op":"page","path":P,"kind":K,"index":I,"web":W}
 *                                           -> {"ok":true,"page":{…}}
 * and on failure {"ok":false,"status":"<status name>","error":"…"}. */
#ifndef OC_POOL_H
#define OC_POOL_H

#include "oc_read.h"

#include <jansson.h>

typedef struct {
    int nWorker;     /* processes */
    long memMb;      /* address-space limit of each, MiB */
    int timeoutS;    /* wall-clock limit of one job */
    const char *zLog;/* the workers' stderr goes here (NULL: /dev/null) */
    oc_opts o;
} oc_pool_opts;

typedef struct oc_pool oc_pool;

/* Fork the workers.  Call before starting threads. */
int oc_pool_new(const oc_pool_opts *o, oc_pool **ppOut, char *zErr, size_t nErr);
/* Kill the workers and free the pool. */
void oc_pool_free(oc_pool *p);

/* Whether a worker is free for a job. */
int oc_pool_has_idle(const oc_pool *p);
/* Jobs running. */
int oc_pool_busy(const oc_pool *p);
/* Give pJob (borrowed) to an idle worker; pTag comes back with the answer. */
int oc_pool_submit(oc_pool *p, const json_t *pJob, void *pTag, char *zErr, size_t nErr);
/* Wait up to waitMs for an answer.  Returns 1 with *ppTag and *ppAnswer
 * (yours) set, 0 when none came in time, or PS_INTERNAL when a worker
 * cannot start at all (zErr: e.g. the language data is missing). */
int oc_pool_wait(oc_pool *p, int waitMs, void **ppTag, json_t **ppAnswer, char *zErr, size_t nErr);

/* The worker side, for a worker process: serve jobs from fdIn, answer on
 * fdOut, until fdIn closes. */
int oc_worker_main(const oc_opts *o, int fdIn, int fdOut);

#endif
