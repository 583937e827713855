/* The HTTP/JSON API on libmicrohttpd (routes in proto/README.md). */
#ifndef IDX_HTTP_H
#define IDX_HTTP_H

#include "idx_config.h"
#include "idx_index.h"

typedef struct idx_http idx_http;

/* Start serving on the configured address.  *pPort receives the port bound
 * (useful with port 0). */
int idx_http_start(idx_index *pIdx, const idx_config *pCfg, idx_http **ppOut, unsigned *pPort,
                   char *zErr, size_t nErr);
/* Stop accepting, let the requests in flight finish (up to waitSec), stop. */
void idx_http_stop(idx_http *p, int waitSec);

#endif
