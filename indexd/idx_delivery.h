/* Vendor deliveries and their acceptance check (DA/T 31): ingest sends the
 * account of a delivery it read (PUT /api/v1/deliveries/{name}); the
 * daemon keeps it (<data_dir>/deliveries/<name>.json) and turns it into
 * the acceptance report a vendor hands over and an archivist checks on
 * receipt. */
#ifndef IDX_DELIVERY_H
#define IDX_DELIVERY_H

#include <jansson.h>
#include <stddef.h>

#define IDX_DELIVERY_MAX (64u << 20) /* bytes of one delivery's account */
#define IDX_DELIVERY_COUNT_MAX 10000 /* deliveries kept */

/* A delivery name: 1-100 bytes of letters, digits, CJK, '.', '_', '-', not
 * starting with '.'. */
int idx_delivery_name_ok(const char *z);

/* Keep pAccount (ingest's report, an object) as delivery zName, durably,
 * replacing an earlier one; "received_at" is added.  PS_OK; PS_TOO_BIG when
 * the account as kept would pass IDX_DELIVERY_MAX; PS_CONFLICT when
 * IDX_DELIVERY_COUNT_MAX other deliveries are kept already; PS_IO; PS_NOMEM
 * (zErr; nothing is changed). */
int idx_delivery_put(const char *zDataDir, const char *zName, const json_t *pAccount, char *zErr,
                     size_t nErr);

/* Without zName: {"deliveries":[{"name","folder","received_at","pages","files","failed_checks"}]}.
 * With: {"delivery":…,"folder":…,"received_at":…,"passed":bool,
 *        "checks":[{"check","title","severity":"fail"|"note","count","items":[…]}]}.
 * "folder" is the path ingest read the delivery from, on its machine; with
 * fullFolder 0 (callers other than admins and archivists: a vendor has no
 * business with the server's folders) only its last component.
 * PS_NOT_FOUND for an unknown delivery. */
int idx_report_acceptance(const char *zDataDir, const char *zName, int fullFolder, json_t **ppOut, char *zErr,
                          size_t nErr);

#endif
