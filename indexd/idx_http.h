/* The HTTP/JSON API on libmicrohttpd: the transport and the route table
 * (routes in proto/README.md; handlers in idx_h_*.c, see idx_api.h). */
#ifndef IDX_HTTP_H
#define IDX_HTTP_H

#include "idx_api.h"
#include "idx_config.h"

typedef struct idx_http idx_http;

/* Start serving pSrv (which must outlive the server) on the configured
 * address.  *pPort receives the port bound (useful with port 0). */
int idx_http_start(idx_srv *pSrv, const idx_config *pCfg, idx_http **ppOut, unsigned *pPort, char *zErr, size_t nErr);
/* Stop accepting, let the requests in flight finish (up to waitSec), stop. */
void idx_http_stop(idx_http *p, int waitSec);
/* Every route of the table, one line each: "PUT /api/v1/records/{code} |
 * import | 1 MiB" (method and pattern, the rights that may use it, the
 * body limit, and "| HEAD" where HEAD is answered too). */
void idx_http_routes(void (*xEach)(void *ctx, const char *zLine), void *ctx);

#endif
