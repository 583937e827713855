/* The files the daemon keeps beside the index (catalogs, deliveries, timed
 * tests): a folder's entries of one suffix, in name order. */
#ifndef IDX_DIR_H
#define IDX_DIR_H

#include <stddef.h>

/* Names in zDir ending in zSuffix (hidden ones left out), sorted; a folder
 * that does not exist is empty.  *pazName is yours: idx_dir_free().
 * Returns PS_OK, PS_IO or PS_NOMEM. */
int idx_dir_list(const char *zDir, const char *zSuffix, char ***pazName, size_t *pn);
void idx_dir_free(char **az, size_t n);

#endif
