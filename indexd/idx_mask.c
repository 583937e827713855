/* Personal numbers in text (see idx_mask.h). */
#include "idx_mask.h"
#include "proto_alloc.h"

#include <string.h>

static unsigned mask_ids_ascii(char *z, size_t n, int html)
{
    size_t aPos[19];
    unsigned nRun = 0, nMasked = 0;
    int longRun = 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = i < n ? z[i] : 0;
        if (html && ch == '<') {
            const char *e = memchr(z + i, '>', n - i);
            if (e) { i = (size_t)(e - z); continue; }
        }
        int digit = ch >= '0' && ch <= '9';
        int x = (ch == 'X' || ch == 'x') && nRun == 17;
        if (digit || x) {
            if (nRun < 19) aPos[nRun++] = i;
            else longRun = 1;
            if (!x) continue;
            /* an X ends a number */
            i++;
            ch = i < n ? z[i] : 0;
            if (ch >= '0' && ch <= '9') longRun = 1;
            i--;
            if (!longRun && nRun == 18) {
                for (int k = 6; k < 14; k++) z[aPos[k]] = '*';
                nMasked++;
            }
            nRun = 0, longRun = 0;
            continue;
        }
        if (nRun == 18 && !longRun) {
            for (int k = 6; k < 14; k++) z[aPos[k]] = '*';
            nMasked++;
        }
        nRun = 0, longRun = 0;
    }
    return nMasked;
}

unsigned idx_mask_text(char *z, size_t n, int html)
{
    return mask_ids_ascii(z, n, html);
}

typedef struct {
    const char *zOrig;
    char *zCopy;
    idx_mask_fn xHide;
    void *ctx;
} find_ctx;

unsigned idx_mask_find(const char *z, size_t n, int html, idx_mask_fn xHide, void *ctx)
{
    char *zCopy = px_malloc(n + 1);
    if (!zCopy) return 0;
    memcpy(zCopy, z, n);
    zCopy[n] = 0;
    unsigned nFound = mask_ids_ascii(zCopy, n, html);
    for (size_t i = 0; i < n && xHide; i++)
        if (zCopy[i] == '*' && z[i] != '*') xHide(ctx, i, i + 1, IDX_PII_ID);
    px_free(zCopy);
    return nFound;
}

int idx_mask_query_refused(const char *zQuery)
{
    if (!zQuery || !*zQuery) return 0;
    size_t n = strlen(zQuery);
    char *z = px_malloc(n + 1);
    if (!z) return 1;
    /* full-width digits (０-９) count as digits, as the index folds them */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)zQuery[i];
        if (a == 0xEF && i + 2 < n && (unsigned char)zQuery[i + 1] == 0xBC && (unsigned char)zQuery[i + 2] >= 0x90 &&
            (unsigned char)zQuery[i + 2] <= 0x99) {
            z[k++] = (char)('0' + ((unsigned char)zQuery[i + 2] - 0x90));
            i += 2;
        } else if (a == 0xEF && i + 2 < n && (unsigned char)zQuery[i + 1] == 0xBC && (unsigned char)zQuery[i + 2] == 0xB8) {
            z[k++] = 'X';
            i += 2;
        } else {
            z[k++] = zQuery[i];
        }
    }
    z[k] = 0;
    unsigned nId = mask_ids_ascii(z, k, 0);
    px_free(z);
    return nId > 0;
}

static void mask_string(json_t *v, int html)
{
    size_t n = json_string_length(v);
    char *z = px_malloc(n + 1);
    if (!z) return;
    memcpy(z, json_string_value(v), n + 1);
    if (idx_mask_text(z, n, html)) json_string_setn_nocheck(v, z, n);
    px_free(z);
}

void idx_mask_json(json_t *o)
{
    size_t i;
    const char *zKey;
    json_t *v;
    if (json_is_object(o)) {
        json_object_foreach(o, zKey, v) {
            if (json_is_string(v)) mask_string(v, strcmp(zKey, "snippet") == 0);
            else idx_mask_json(v);
        }
    } else if (json_is_array(o)) {
        json_array_foreach(o, i, v) {
            if (json_is_string(v)) mask_string(v, 0);
            else idx_mask_json(v);
        }
    }
}
