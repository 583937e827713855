/* Listing the daemon's side folders. */
#include "idx_dir.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void idx_dir_free(char **az, size_t n)
{
    for (size_t i = 0; i < n; i++) px_free(az[i]);
    px_free(az);
}

int idx_dir_list(const char *zDir, const char *zSuffix, char ***pazName, size_t *pn)
{
    char **az = NULL;
    size_t n = 0, nAlloc = 0, nSuf = strlen(zSuffix);
    *pazName = NULL;
    *pn = 0;
    DIR *d = opendir(zDir);
    if (!d) return errno == ENOENT ? PS_OK : PS_IO;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= nSuf || strcmp(e->d_name + len - nSuf, zSuffix) != 0) continue;
        /* doubling: folders of thousands of deliveries or catalogs */
        if (n == nAlloc) {
            size_t nNew = nAlloc ? nAlloc * 2 : 16;
            char **a = px_realloc(az, nNew * sizeof *a);
            if (!a) {
                idx_dir_free(az, n);
                closedir(d);
                return PS_NOMEM;
            }
            az = a;
            nAlloc = nNew;
        }
        if (!(az[n] = px_strdup(e->d_name))) {
            idx_dir_free(az, n);
            closedir(d);
            return PS_NOMEM;
        }
        n++;
    }
    closedir(d);
    if (n) qsort(az, n, sizeof *az, cmp_name);
    *pazName = az;
    *pn = n;
    return PS_OK;
}
