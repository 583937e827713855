/* Catalog CSV import on libcsv, with encoding detection through iconv. */
#include "idx_csv.h"
#include "proto_alloc.h"
#include "proto_code.h"
#include "proto_enc.h"
#include "proto_status.h"
#include "idx_text.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COL_MAX 256 /* columns read; wide spreadsheet exports trail many empty ones */
#define BATCH 4096 /* rows written together, each shard's share by its own thread */
#define CSV_ROW_NOT_BEGUN 0 /* libcsv's parser states (libcsv.c): between rows */
#define CSV_FIELD_NOT_BEGUN 1 /* after a delimiter */
#define CSV_FIELD_BEGUN 2 /* inside a field */
#define CSV_FIELD_MIGHT_HAVE_ENDED 3 /* after a quote in a quoted field */
#define NOT_WRITTEN (-1) /* an idx_put_item the index did not get to */
#define ROW_FIND_MAX 128 /* findings of one row: the reader's, then proto_record_normalise's */

/* ---- rows ----------------------------------------------------------- */

typedef struct {
    char *z;        /* the field's bytes, NULs included, NUL-terminated */
    size_t n, nAlloc;
} cell;

/* The codes seen in this file, to tell a repeated row from a replaced
 * record: open addressing over string hashes. */
typedef struct {
    char **az;
    long *aLine;
    unsigned char *aWritten; /* a row with this code has been written */
    size_t nSlot, nUsed;
} code_set;

static unsigned long hash_str(const char *z)
{
    unsigned long h = 5381;
    while (*z) h = h * 33 + (unsigned char)*z++;
    return h;
}

static void set_clear(code_set *s)
{
    for (size_t i = 0; i < s->nSlot; i++) px_free(s->az[i]);
    px_free(s->az);
    px_free(s->aLine);
    px_free(s->aWritten);
    memset(s, 0, sizeof *s);
}

/* Insert z; returns the line it was first seen on, 0 if new, -1 on OOM. */
static long set_add(code_set *s, const char *z, long line)
{
    if ((s->nUsed + 1) * 2 > s->nSlot) {
        code_set t = {0};
        t.nSlot = s->nSlot ? s->nSlot * 2 : 1024;
        t.az = px_calloc(t.nSlot, sizeof(char *));
        t.aLine = px_calloc(t.nSlot, sizeof(long));
        t.aWritten = px_calloc(t.nSlot, 1);
        if (!t.az || !t.aLine || !t.aWritten) {
            px_free(t.az);
            px_free(t.aLine);
            px_free(t.aWritten);
            return -1;
        }
        for (size_t i = 0; i < s->nSlot; i++) {
            if (!s->az[i]) continue;
            size_t k = hash_str(s->az[i]) & (t.nSlot - 1);
            while (t.az[k]) k = (k + 1) & (t.nSlot - 1);
            t.az[k] = s->az[i];
            t.aLine[k] = s->aLine[i];
            t.aWritten[k] = s->aWritten[i];
        }
        t.nUsed = s->nUsed;
        px_free(s->az);
        px_free(s->aLine);
        px_free(s->aWritten);
        *s = t;
    }
    size_t k = hash_str(z) & (s->nSlot - 1);
    while (s->az[k]) {
        if (strcmp(s->az[k], z) == 0) return s->aLine[k];
        k = (k + 1) & (s->nSlot - 1);
    }
    if (!(s->az[k] = px_strdup(z))) return -1;
    s->aLine[k] = line;
    s->nUsed++;
    return 0;
}

/* Note that a row with code z (in the set) was written; returns whether
 * one had been before, so that a record is counted once. */
static int set_mark_written(code_set *s, const char *z)
{
    if (!s->nSlot) return 0;
    size_t k = hash_str(z) & (s->nSlot - 1);
    while (s->az[k] && strcmp(s->az[k], z) != 0) k = (k + 1) & (s->nSlot - 1);
    if (!s->az[k]) return 0;
    int was = s->aWritten[k];
    s->aWritten[k] = 1;
    return was;
}

/* Rows checked and waiting to be written together. */
typedef struct {
    proto_record aRec[BATCH];
    json_t *apFind[BATCH];    /* each row's findings, kept with its record (NULL: none) */
    long aLine[BATCH];
    int aRc[BATCH];           /* each row's status in the last pass */
    unsigned char aRefused[BATCH], aReplaced[BATCH]; /* aReplaced: its catalog values changed */
    unsigned char aLinked[BATCH]; /* it linked a record of scans waiting for its row */
    unsigned aAbsent[BATCH];  /* fields with no column in the catalog (idx_put_item.absent) */
    unsigned aFilled[BATCH];  /* of those, the ones the archive's record filled */
    char azSource[BATCH][256]; /* each row's source for the history: the catalog and line */
    idx_put_item aItem[BATCH];
    int aRow[BATCH];          /* the row of each item */
} write_batch;

typedef struct {
    idx_index *pIdx;
    const idx_guard *pGuard; /* the writer's rules, checked with each write */
    int rc;                 /* a fatal error stops the import */
    char *zErr;
    size_t nErr;
    long fatalLine;
    long line;              /* line being fed to the parser */
    long rowLine;           /* line where the current row started */
    long quoteLine;         /* line where the quoted field left open began */
    size_t rowOff;          /* where the current row starts in the buffer being fed */
    int depth;              /* re-readings of rows with a quote left open, nested */
    long pendLine;          /* the row re-read without its open quote (0: none) */
    int pendField;          /* the field that quote opened, -1 unknown */
    long pendQuoteLine;
    char zPendWritten[160]; /* that row's text as written, cut */
    char zExtra[512];       /* the fields after the header's, as written, joined by commas */
    size_t nExtra, nExtraFull; /* its bytes; up to the last non-empty field */
    int extraCut, extraCutFull; /* not all of them fitted */
    unsigned nLineFields;   /* fields ended on the line being fed */
    int discard;            /* the row being parsed is dropped: ignore libcsv */
    cell aCell[COL_MAX];    /* the row's first COL_MAX fields */
    int nField;             /* fields of the row, kept or not */
    int lastFull;           /* the row's last non-empty field, -1 if none */
    int nHeader;            /* fields of the header row, kept or not */
    int aColField[COL_MAX]; /* proto_field per column, -1 ignored */
    int haveHeader;
    unsigned long nImported, nReplaced, nLinked;
    json_t *pRejected, *pWarnings;
    json_t *pList;          /* good rows {code, pages, line}, when asked for */
    idx_csv_row_fn xRow;    /* scan mode: rows go here, nothing is written */
    idx_csv_row_ex_fn xRowEx; /* the same, with the reader's findings */
    void *pRowCtx;
    unsigned long nRejected, nWarnings, nFindings, nFurniture, nConflicts;
    json_t *pFindings;      /* what was normalised or is irregular, row by row */
    json_t *pConflicts;     /* rows that differ from the record kept: not written */
    int keep;               /* 1 unless replacing was asked for */
    code_set seen;          /* the 档号 of this file's rows, with the first line of each */
    code_set same;          /* the rows themselves (normalised), with the first line of each */
    char *zKey;             /* a row as a key of `same` */
    size_t nKeyAlloc;
    int gb;                 /* the file is GB18030 */
    long *aKept;            /* lines its encoding could not read, kept as written (sorted) */
    size_t nKept;
    proto_finding aF[ROW_FIND_MAX]; /* the row's findings */
    char *zLine;            /* a line as fed to libcsv (unspace) */
    size_t nLineAlloc;
    write_batch *pB;        /* import mode only */
    int nBatch;
} import_state;

static int header_cols(const import_state *s) { return s->nHeader < COL_MAX ? s->nHeader : COL_MAX; }

/* libcsv drops the spaces and TABs around a field unless told that none
 * are: a cell is read as written, and proto_record_normalise trims it, the
 * one place that does, with a finding ("trimmed").  The spaces outside a
 * cell's quotes are no part of it: unspace() takes them out first. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Whether the run of spaces and TABs at z[i] (n bytes in all) stands
 * outside a cell's quotes: after a delimiter and before an opening quote
 * (afterQuote 0), or after a closing quote and before a delimiter or the
 * line's end (afterQuote 1).  *pEnd is where the run ends. */
static int blank_outside(const char *z, size_t n, size_t i, int afterQuote, size_t *pEnd)
{
    size_t k = i;
    while (k < n && is_blank(z[k])) k++;
    *pEnd = k;
    if (!afterQuote) return k < n && z[k] == '"';
    return k == n || z[k] == ',' || z[k] == '\r' || z[k] == '\n';
}

/* Line z[0..n) as libcsv is to read it (it starts inside a quoted field
 * when inQuote), into zOut: without the spaces and TABs outside a cell's
 * quotes, which libcsv (told of no spaces) would otherwise read as text,
 * and then a quote after them as an ordinary character or the delimiter
 * after them as part of the quoted cell.  Returns the bytes written. */
static size_t unspace(int inQuote, const char *z, size_t n, char *zOut)
{
    enum { START, PLAIN, QUOTED, AFTER } st = inQuote ? QUOTED : START;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (is_blank(c) && (st == START || st == AFTER)) {
            size_t k;
            if (blank_outside(z, n, i, st == AFTER, &k)) {
                i = k - 1;
                continue;
            }
            memcpy(zOut + j, z + i, k - i); /* text: a plain cell, or the quoted one goes on */
            j += k - i;
            i = k - 1;
            st = st == START ? PLAIN : QUOTED;
            continue;
        }
        zOut[j++] = c;
        int end = c == ',' || c == '\r' || c == '\n';
        switch (st) {
        case START: st = c == '"' ? QUOTED : end ? START : PLAIN; break;
        case PLAIN: st = end ? START : PLAIN; break;
        case QUOTED: st = c == '"' ? AFTER : QUOTED; break;
        case AFTER: st = c == '"' ? QUOTED : end ? START : QUOTED; break;
        }
    }
    return j;
}

static void csv_setup(struct csv_parser *p)
{
    csv_set_realloc_func(p, px_realloc);
    csv_set_free_func(p, px_free);
    csv_set_space_func(p, no_space);
}

/* The length of z's first nMax bytes or fewer that ends on a character
 * boundary, so that a message quoting a cut value stays UTF-8. */
static int utf8_cut(const char *z, size_t nMax)
{
    size_t n = strnlen(z, nMax);
    if (n == nMax && z[n] != 0)
        while (n > 0 && ((unsigned char)z[n] & 0xC0) == 0x80) n--;
    return (int)n;
}

/* A message cut to its buffer ends between characters, not inside one. */
static void utf8_tidy(char *z)
{
    size_t n = strlen(z), k = n;
    while (k > 0 && n - k < 4 && !proto_utf8_valid(z, k)) k--;
    if (proto_utf8_valid(z, k)) z[k] = 0;
}

/* Bytes z[0..n) for people: well-formed UTF-8 as it is, any other byte as
 * \xHH (every byte over 0x7F with hexHigh: text in another encoding, whose
 * bytes may happen to look like UTF-8 too), cut to nOut with "…" (also
 * when `more`: there was more). */
static void show_bytes(char *zOut, size_t nOut, const char *z, size_t n, int more, int hexHigh)
{
    size_t i = 0, j = 0;
    while (i < n) {
        size_t k = 0;
        if (!hexHigh) k = proto_utf8_prefix(z + i, n - i);
        else while (i + k < n && (unsigned char)z[i + k] < 0x80) k++;
        if (k == 0) {
            if (j + 4 + 4 > nOut) break;
            snprintf(zOut + j, nOut - j, "\\x%02X", (unsigned char)z[i]);
            j += 4;
            i++;
            continue;
        }
        /* the good characters that fit */
        size_t m = k < nOut - 4 - j ? k : nOut - 4 - j;
        while (m > 0 && m < k && ((unsigned char)z[i + m] & 0xC0) == 0x80) m--;
        memcpy(zOut + j, z + i, m);
        j += m;
        i += m;
        if (m < k) break;
    }
    if (i < n || more) memcpy(zOut + j, "\xE2\x80\xA6", 3), j += 3;
    zOut[j] = 0;
}

static void report(json_t *pList, unsigned long *pCount, long line, int field,
                   const char *zReason)
{
    (*pCount)++;
    if (json_array_size(pList) >= IDX_CSV_REPORT_MAX) return;
    /* a reason cut to its buffer may end inside a character */
    size_t n = strlen(zReason);
    while (n > 0 && !proto_utf8_valid(zReason, n)) n--;
    json_t *o = json_pack("{s:I,s:s,s:s,s:s%}", "line", (json_int_t)line, "field",
                          field >= 0 ? proto_field_cn(field) : "", "key",
                          field >= 0 ? proto_field_key(field) : "", "reason", zReason, n);
    if (o) json_array_append_new(pList, o);
}

/* The JSON of a finding of row `line` (its 档号 zCode, canonical, may be
 * NULL: not set), or NULL when out of memory. */
static json_t *finding_json(long line, const char *zCode, const proto_finding *f)
{
    static const char *const azSev[] = {"note", "warning", "error"};
    return json_pack("{s:I,s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "line", (json_int_t)line, "code", zCode, "field",
                     f->field >= 0 ? proto_field_cn(f->field) : "", "key", f->field >= 0 ? proto_field_key(f->field) : "",
                     "rule", f->zRule, "rule_cn", proto_rule_cn(f->zRule), "severity",
                     azSev[f->severity < 0 || f->severity > 2 ? 2 : f->severity], "written", f->zWritten, "understood",
                     f->zUnderstood, "reason", f->zReason);
}

static void report_finding(import_state *s, long line, const char *zCode, const proto_finding *f)
{
    s->nFindings++;
    if (json_array_size(s->pFindings) >= IDX_CSV_REPORT_MAX) return;
    json_t *o = finding_json(line, zCode, f);
    if (o) json_array_append_new(s->pFindings, o);
}

/* Spreadsheet furniture, not a row of the catalog: a repeated header, a
 * 合计/总计/小计 line without a 档号. */
static int furniture(const import_state *s, int nCol)
{
    int iCode = -1;
    for (int i = 0; i < nCol; i++)
        if (s->aColField[i] == PF_CODE) iCode = i;
    for (int i = 0; i < nCol; i++) {
        const char *z = s->aCell[i].z;
        if (!z || !s->aCell[i].n) continue;
        size_t n = s->aCell[i].n;
        for (;;) { /* spaces around the word do not hide it */
            if (n && (*z == ' ' || *z == '\t')) z++, n--;
            else if (n >= 3 && memcmp(z, "\xE3\x80\x80", 3) == 0) z += 3, n -= 3;
            else if (n && (z[n - 1] == ' ' || z[n - 1] == '\t')) n--;
            else if (n >= 3 && memcmp(z + n - 3, "\xE3\x80\x80", 3) == 0) n -= 3;
            else break;
        }
        if (i == iCode && n == strlen("档号") && memcmp(z, "档号", n) == 0) return 1;
        /* a 合计 row: the word in the 档号 column, or anywhere in a row without a 档号 */
        if ((iCode < 0 || !s->aCell[iCode].n || i == iCode) &&
            (strncmp(z, "合计", 6) == 0 || strncmp(z, "总计", 6) == 0 || strncmp(z, "小计", 6) == 0))
            return 1;
    }
    return 0;
}

/* Whether the index refused one row for what it holds (a term over its
 * length limit, a field it cannot store) rather than failing as a whole
 * (I/O, a lock, out of memory), which no later row would escape either. */
static int row_fault(int rc)
{
    return rc == PS_INVALID || rc == PS_TOO_BIG || rc == PS_ENCODING;
}

/* Stop the import at line `line`.  Rows written before stay written, so
 * the message says how many there are. */
static void fatal_at(import_state *s, int rc, long line, const char *zMsg)
{
    if (s->pIdx)
        snprintf(s->zErr, s->nErr, "第 %ld 行：%s；导入在此停止，此前已写入 %lu 行", line, zMsg, s->nImported);
    else
        snprintf(s->zErr, s->nErr, "第 %ld 行：%s", line, zMsg);
    utf8_tidy(s->zErr);
    s->rc = rc;
    s->fatalLine = line;
}

/* Write the rows collected so far and commit them.  A row the index
 * refuses is rejected with its line and the index's reason, and the others
 * stay written; an error of the index as a whole stops the import.
 *
 * When Xapian refuses a document it drops every uncommitted change of that
 * database, so the rows written before it in the same shard are gone too:
 * the rows not refused are written again until a pass has no refusal
 * (writing a row twice replaces it by its 档号), and each batch is committed
 * so that nothing of an earlier one can be dropped that way. */
static void flush_batch(import_state *s)
{
    write_batch *b = s->pB;
    char zMsg[256];
    int iFatal = -1;
    if (s->nBatch == 0) return;
    memset(b->aRefused, 0, (size_t)s->nBatch);
    memset(b->aFilled, 0, (size_t)s->nBatch * sizeof b->aFilled[0]);
    for (int pass = 0; iFatal < 0; pass++) {
        size_t nItem = 0;
        for (int i = 0; i < s->nBatch; i++) {
            if (b->aRefused[i]) continue;
            memset(&b->aItem[nItem], 0, sizeof b->aItem[nItem]);
            b->aItem[nItem].r = &b->aRec[i];
            b->aItem[nItem].keep = s->keep;
            b->aItem[nItem].pFindings = b->apFind[i];
            /* the history says from which import, and which line of it */
            if (s->pGuard && s->pGuard->zFrom)
                snprintf(b->azSource[i], sizeof b->azSource[i], "%s：%.*s 第 %ld 行", s->keep ? "目录导入" : "目录导入（替换）",
                         utf8_cut(s->pGuard->zFrom, 200), s->pGuard->zFrom, b->aLine[i]);
            else
                snprintf(b->azSource[i], sizeof b->azSource[i], "%s：第 %ld 行", s->keep ? "目录导入" : "目录导入（替换）",
                         b->aLine[i]);
            b->aItem[nItem].zSource = b->azSource[i];
            b->aItem[nItem].absent = b->aAbsent[i];
            b->aItem[nItem].rc = NOT_WRITTEN;
            b->aRow[nItem++] = i;
        }
        zMsg[0] = 0;
        if (nItem > 0) idx_index_put_batch(s->pIdx, b->aItem, nItem, 0, s->pGuard, zMsg, sizeof zMsg);
        int nRefused = 0;
        for (size_t k = 0; k < nItem; k++) {
            idx_put_item *it = &b->aItem[k];
            int i = b->aRow[k];
            b->aRc[i] = it->rc;
            /* the first pass sees the index as it was before this batch */
            if (pass == 0) b->aReplaced[i] = it->rc == PS_OK && it->changed;
            if (pass == 0) b->aLinked[i] = it->rc == PS_OK && it->linked;
            b->aFilled[i] = it->rc == PS_OK ? it->filled : 0;
            if (it->rc == PS_OK) continue;
            if (it->rc == PS_CONFLICT && it->pConflict) {
                /* the archive's row is kept; what this row offers is reported */
                s->nConflicts++;
                json_t *o = json_pack("{s:I,s:s,s:o,s:s}", "line", (json_int_t)b->aLine[i], "code",
                                      b->aRec[i].az[PF_CODE], "fields", it->pConflict, "reason", it->zErr);
                it->pConflict = NULL;
                if (!o || json_array_size(s->pConflicts) >= IDX_CSV_REPORT_MAX || json_array_append_new(s->pConflicts, o) != 0)
                    json_decref(o);
                b->aRefused[i] = 1;
                continue;
            }
            if (it->rc == PS_NOT_FOUND || it->rc == PS_FORBIDDEN) {
                /* the writer's guard: nothing reached the index */
                report(s->pRejected, &s->nRejected, b->aLine[i], it->rc == PS_FORBIDDEN ? PF_CLASSIFICATION : -1,
                       it->zErr[0] ? it->zErr : "不允许写入此行");
                b->aRefused[i] = 1;
                continue;
            }
            if (it->rc == PS_UNAVAILABLE) {
                /* its remote shard does not answer: this row is not written, the others go on */
                report(s->pRejected, &s->nRejected, b->aLine[i], -1, it->zErr);
                b->aRefused[i] = 1;
                continue;
            }
            if (row_fault(it->rc)) {
                char zWhy[256];
                snprintf(zWhy, sizeof zWhy, "检索索引拒绝写入此行：%s", it->zErr);
                report(s->pRejected, &s->nRejected, b->aLine[i], -1, zWhy);
                b->aRefused[i] = 1;
                nRefused++;
            } else if (iFatal < 0) {
                iFatal = i;
                if (it->rc == NOT_WRITTEN && !zMsg[0]) snprintf(zMsg, sizeof zMsg, "检索索引未写入此行");
                else if (it->rc != NOT_WRITTEN)
                    snprintf(zMsg, sizeof zMsg, "%s", it->zErr[0] ? it->zErr : proto_strerror(it->rc));
            }
        }
        if (nRefused == 0) break;
    }
    if (iFatal < 0 && idx_index_commit(s->pIdx, zMsg, sizeof zMsg) != PS_OK) {
        fatal_at(s, PS_INDEX, b->aLine[0], zMsg);
        goto out;
    }
    for (int i = 0; i < s->nBatch; i++) {
        const proto_record *r = &b->aRec[i];
        /* a mandatory field the catalog has no column for is missing only
         * when the archive's record did not fill it */
        size_t k;
        json_t *x;
        json_array_foreach(b->apFind[i], k, x) {
            const char *zRule = json_string_value(json_object_get(x, "rule"));
            const char *zKey = json_string_value(json_object_get(x, "key"));
            int f = zKey && *zKey ? proto_field_lookup(zKey) : -1;
            if (!zRule || strcmp(zRule, "mandatory") != 0 || f < 0 || !(b->aAbsent[i] & (1u << f))) continue;
            if (!b->aRefused[i] && b->aRc[i] == PS_OK && (b->aFilled[i] & (1u << f))) continue;
            s->nFindings++;
            json_t *o = json_deep_copy(x);
            if (o) json_object_set_new(o, "code", json_string(r->az[PF_CODE]));
            if (!o || json_array_size(s->pFindings) >= IDX_CSV_REPORT_MAX || json_array_append_new(s->pFindings, o) != 0)
                json_decref(o);
        }
        if (b->aRefused[i] || b->aRc[i] != PS_OK) continue;
        if (!set_mark_written(&s->seen, r->az[PF_CODE])) {
            s->nImported++;
            s->nReplaced += b->aReplaced[i];
            s->nLinked += b->aLinked[i];
        }
        if (s->pList && s->rc == PS_OK) {
            json_t *o = json_pack("{s:s,s:I}", "code", r->az[PF_CODE], "line", (json_int_t)b->aLine[i]);
            if (o && r->az[PF_PAGES]) json_object_set_new(o, "pages", json_integer(atoll(r->az[PF_PAGES])));
            if (!o || json_array_append_new(s->pList, o) != 0) fatal_at(s, PS_NOMEM, b->aLine[i], "内存不足");
        }
    }
    if (iFatal >= 0 && s->rc == PS_OK)
        fatal_at(s, b->aRc[iFatal] == NOT_WRITTEN ? PS_INDEX : b->aRc[iFatal], b->aLine[iFatal], zMsg);
out:
    for (int i = 0; i < s->nBatch; i++) {
        proto_record_clear(&b->aRec[i]);
        json_decref(b->apFind[i]);
        b->apFind[i] = NULL;
    }
    s->nBatch = 0;
}

/* Whether the row being read (lines s->rowLine to s->line) is on a line
 * that the file's encoding could not read, kept as written. */
static int row_on_kept_line(const import_state *s)
{
    size_t lo = 0, hi = s->nKept;
    while (lo < hi) { /* the first kept line at or after the row's first */
        size_t mid = (lo + hi) / 2;
        if (s->aKept[mid] < s->rowLine) lo = mid + 1;
        else hi = mid;
    }
    return lo < s->nKept && s->aKept[lo] <= s->line;
}

/* Replace a cell's text by z (n bytes, yours). */
static void cell_take(cell *c, char *z, size_t n)
{
    px_free(c->z);
    c->z = z;
    c->n = n;
    c->nAlloc = n + 1;
}

/* A cell on a line that the file's encoding could not read, kept as
 * written, that is not UTF-8: read as GB18030 when it is that (a title
 * pasted from a GB18030 file; said so unless the file is GB18030 itself),
 * else read in whichever of the two loses fewer bytes, each byte lost
 * replaced by U+FFFD, so that the item is kept, and said so.  zWhere
 * names the cell ("“题名”", "第 3 列").  1 with *pF set (field f), 0
 * without a finding, -1 when out of memory. */
static int cell_repair(import_state *s, cell *c, int f, const char *zWhere, proto_finding *pF)
{
    char zShow[64];
    if (proto_utf8_prefix(c->z, c->n) == c->n) return 0;
    char *zNew = NULL;
    size_t nNew = 0;
    int rc = proto_from_gb18030(c->z, c->n, &zNew, &nNew);
    if (rc == PS_NOMEM) return -1;
    if (rc == PS_OK && !proto_utf8_valid(zNew, nNew)) {
        px_free(zNew);
        rc = PS_ENCODING;
    }
    size_t nBad = 0;
    int gbRead = rc == PS_OK;
    if (rc != PS_OK) {
        /* neither: read as the encoding that loses fewer bytes (the file's
         * on a tie), each byte lost a U+FFFD */
        char *zU = NULL, *zG = NULL;
        size_t nU = 0, nG = 0, nBadU = 0, nBadG = 0;
        if (proto_decode_lossy(c->z, c->n, 0, &zU, &nU, &nBadU) != PS_OK) return -1;
        rc = proto_decode_lossy(c->z, c->n, 1, &zG, &nG, &nBadG);
        if (rc == PS_NOMEM) {
            px_free(zU);
            return -1;
        }
        gbRead = rc == PS_OK && (nBadG < nBadU || (nBadG == nBadU && s->gb));
        if (gbRead) zNew = zG, nNew = nG, nBad = nBadG, px_free(zU);
        else zNew = zU, nNew = nU, nBad = nBadU, px_free(zG);
        rc = PS_ENCODING;
    }
    if (rc == PS_OK && s->gb) {
        /* the file's own encoding: the reading expected */
        cell_take(c, zNew, nNew);
        return 0;
    }
    memset(pF, 0, sizeof *pF);
    pF->field = f;
    pF->zRule = "encoding";
    pF->severity = rc == PS_OK ? PROTO_FINDING_WARNING : PROTO_FINDING_ERROR;
    show_bytes(pF->zWritten, sizeof pF->zWritten, c->z, c->n, 0, gbRead);
    show_bytes(pF->zUnderstood, sizeof pF->zUnderstood, zNew, nNew, 0, 0);
    show_bytes(zShow, sizeof zShow, zNew, nNew, 0, 0);
    if (rc == PS_OK)
        snprintf(pF->zReason, sizeof pF->zReason, "第 %ld 行%s不是 UTF-8 编码，按 GB18030 读作“%s”，请核对", s->rowLine,
                 zWhere, zShow);
    else
        snprintf(pF->zReason, sizeof pF->zReason,
                 "第 %ld 行%s有 %zu 个字节既不是 UTF-8 也不是 GB18030 编码，已换成“\xEF\xBF\xBD”：“%s”，请按原件更正",
                 s->rowLine, zWhere, nBad, zShow);
    utf8_tidy(pF->zReason);
    cell_take(c, zNew, nNew);
    return 1;
}

/* A cell's text must be what the row says: a NUL would cut it short where
 * it is stored, other control characters break the JSON of the record or
 * what a reader's terminal shows.  0 if clean, else the reason in zWhy. */
static int cell_bad(const cell *c, char *zWhy, size_t nWhy, const char *zColumn)
{
    size_t off = 0;
    int rc = proto_text_check(c->z, c->n, &off);
    if (rc == PS_OK) return 0;
    if (rc == PS_ENCODING)
        snprintf(zWhy, nWhy, "%s在单元格第 %zu 字节处不是有效的 UTF-8", zColumn, off + 1);
    else
        snprintf(zWhy, nWhy, "%s在单元格第 %zu 字节处含控制字符 0x%02X（只允许制表符和换行）", zColumn, off + 1,
                 (unsigned char)c->z[off]);
    return 1;
}

static void header_row(import_state *s)
{
    char zMsg[300];
    int seen[PF__COUNT] = {0};
    s->nHeader = s->nField;
    for (int i = 0; i < header_cols(s); i++) {
        /* Tolerate spaces and the '*' some templates put on mandatory columns. */
        char zName[128];
        char zCol[32];
        size_t n = 0;
        s->aColField[i] = -1;
        snprintf(zCol, sizeof zCol, "第 %d 列", i + 1);
        proto_finding fEnc;
        int k = cell_repair(s, &s->aCell[i], -1, zCol, &fEnc);
        if (k < 0) {
            fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
            return;
        }
        if (k > 0) report(s->pWarnings, &s->nWarnings, s->rowLine, -1, fEnc.zReason);
        if (cell_bad(&s->aCell[i], zMsg, sizeof zMsg, zCol)) {
            report(s->pWarnings, &s->nWarnings, s->rowLine, -1, zMsg);
            continue;
        }
        for (size_t k = 0; k < s->aCell[i].n && n + 1 < sizeof zName; k++) {
            char c = s->aCell[i].z[k];
            if (c == ' ' || c == '*' || c == '\t') continue;
            zName[n++] = c;
        }
        zName[n] = 0;
        zName[utf8_cut(zName, sizeof zName - 4)] = 0;
        int f = proto_field_lookup(zName);
        if (f >= 0 && seen[f]) {
            snprintf(zMsg, sizeof zMsg, "第 %d 列“%s”与前面的%s列重复，已忽略", i + 1, zName, proto_field_cn(f));
            report(s->pWarnings, &s->nWarnings, s->rowLine, f, zMsg);
            f = -1;
        } else if (f < 0 && n > 0 && strcmp(zName, "序号") != 0 && strcmp(zName, "顺序号") != 0) {
            /* a 序号 column is spreadsheet furniture: ignored without a word */
            snprintf(zMsg, sizeof zMsg, "第 %d 列“%.*s”不是目录著录项，已忽略", i + 1, utf8_cut(zName, 100), zName);
            report(s->pWarnings, &s->nWarnings, s->rowLine, -1, zMsg);
        }
        if (f >= 0) seen[f] = 1;
        s->aColField[i] = f;
    }
    if (s->nHeader > COL_MAX) {
        snprintf(zMsg, sizeof zMsg, "表头有 %d 列；第 %d 列之后的列已忽略", s->nHeader, COL_MAX);
        report(s->pWarnings, &s->nWarnings, s->rowLine, -1, zMsg);
    }
    if (!seen[PF_CODE] && !(seen[PF_FONDS] && seen[PF_CATEGORY] && seen[PF_YEAR] &&
                            seen[PF_RETENTION] && seen[PF_ITEM_NO])) {
        snprintf(s->zErr, s->nErr, "目录没有档号列（也没有可组成档号的全宗号、门类、年度、保管期限、件号列）；"
                 "第一行应为各列的名称");
        s->rc = PS_INVALID;
        s->fatalLine = s->rowLine;
    }
    s->haveHeader = 1;
}

/* Make the 档号 from its parts when the catalog has no 档号 column. */
static int compose_code(proto_record *r)
{
    char z[PROTO_CODE_MAX * 2];
    if (r->az[PF_CODE] || !r->az[PF_FONDS] || !r->az[PF_CATEGORY] || !r->az[PF_YEAR] ||
        !r->az[PF_RETENTION] || !r->az[PF_ITEM_NO])
        return PS_OK;
    const char *zRet = proto_retention_code(r->az[PF_RETENTION]);
    long item = strtol(r->az[PF_ITEM_NO], NULL, 10);
    snprintf(z, sizeof z, "%s-%s\xC2\xB7%s-%s%s%s-%04ld", r->az[PF_FONDS], r->az[PF_CATEGORY],
             r->az[PF_YEAR], zRet ? zRet : r->az[PF_RETENTION], r->az[PF_ORG] ? "-" : "",
             r->az[PF_ORG] ? r->az[PF_ORG] : "", item);
    return proto_record_set(r, PF_CODE, z, strlen(z));
}

/* A row that cannot be read as written (wrong shape, an unterminated
 * quote, a control character): rejected, and in scan mode handed on
 * without a record so that the audit counts it. */
static void reject_row(import_state *s, int field, const char *zWhy, int nFields)
{
    report(s->pRejected, &s->nRejected, s->rowLine, field, zWhy);
    if (s->xRow && s->xRow(s->pRowCtx, s->rowLine, NULL, nFields) != 0)
        fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
}

/* A normalised row as one string, the key of `same` (control characters,
 * the separators here, are gone from every field). */
static int row_key(import_state *s, const proto_record *r)
{
    size_t n = 1;
    for (int f = 0; f < PF__COUNT; f++) n += (r->az[f] ? strlen(r->az[f]) : 0) + 2;
    if (n > s->nKeyAlloc) {
        char *z = px_realloc(s->zKey, n);
        if (!z) return PS_NOMEM;
        s->zKey = z;
        s->nKeyAlloc = n;
    }
    size_t j = 0;
    for (int f = 0; f < PF__COUNT; f++) {
        if (!r->az[f]) {
            s->zKey[j++] = '\x1E';
        } else {
            size_t k = strlen(r->az[f]);
            memcpy(s->zKey + j, r->az[f], k);
            j += k;
        }
        s->zKey[j++] = '\x1F';
    }
    s->zKey[j] = 0;
    return PS_OK;
}

static void data_row(import_state *s)
{
    proto_record rec;
    proto_finding *aF = s->aF;
    int nF = 0, nRd = 0, nN = 0;
    char zMsg[512];
    int rc;

    if (s->lastFull < 0) return;  /* blank rows are common at the end of exports */
    int nCol = s->nField < header_cols(s) ? s->nField : header_cols(s);
    int scan = s->xRow || s->xRowEx;
    int pend = s->pendLine == s->rowLine;
    if (pend && !scan) nRd++; /* the open quote's finding comes first, filled in below */
    /* cells that are not in the file's encoding: read all the same, and said so */
    int utf8InGb = 0;
    char zUtf8Fields[128] = "";
    for (int i = 0; i < nCol; i++) {
        int f = s->aColField[i];
        if (f < 0) continue;
        char zWhere[64];
        snprintf(zWhere, sizeof zWhere, "“%s”", proto_field_cn(f));
        cell *c = &s->aCell[i];
        size_t k = 0;
        while (k < c->n && (unsigned char)c->z[k] < 0x80) k++;
        if (k < c->n && s->gb && proto_utf8_prefix(c->z, c->n) == c->n && row_on_kept_line(s)) {
            /* UTF-8 on a line GB18030 cannot read: read as UTF-8 */
            size_t m = strlen(zUtf8Fields);
            if (m + strlen(proto_field_cn(f)) + 8 < sizeof zUtf8Fields)
                snprintf(zUtf8Fields + m, sizeof zUtf8Fields - m, "%s%s", utf8InGb ? "、" : "", proto_field_cn(f));
            utf8InGb++;
            continue;
        }
        int r = cell_repair(s, c, f, zWhere, &aF[nRd]);
        if (r < 0) {
            fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
            return;
        }
        nRd += r; /* one column per field: at most PF__COUNT */
    }
    if (utf8InGb) {
        proto_finding *f = &aF[nRd++];
        memset(f, 0, sizeof *f);
        f->field = -1;
        f->zRule = "encoding";
        f->severity = PROTO_FINDING_WARNING;
        snprintf(f->zReason, sizeof f->zReason, "第 %ld 行不是本文件的 GB18030 编码，而是 UTF-8：其中的%s按 UTF-8 读取，请核对",
                 s->rowLine, zUtf8Fields);
        utf8_tidy(f->zReason);
    }
    /* a repeated header, a 合计 row: no catalog entry, in an import or an audit */
    if (furniture(s, nCol)) {
        s->nFurniture++;
        if (pend) s->pendLine = 0;
        return;
    }
    if (s->lastFull >= s->nHeader) {
        snprintf(zMsg, sizeof zMsg, "该行有 %d 个字段，多于表头的 %d 个", s->nField, s->nHeader);
        if (s->xRow) {
            /* idx_csv_scan: such a row is handed on without a record */
            reject_row(s, -1, zMsg, s->nField);
            return;
        }
        /* the columns the header names are read; what lies beyond is listed */
        proto_finding *f = &aF[nRd++];
        memset(f, 0, sizeof *f);
        f->field = -1;
        f->zRule = "extra_fields";
        f->severity = PROTO_FINDING_WARNING;
        show_bytes(f->zWritten, sizeof f->zWritten, s->zExtra, s->nExtraFull, s->extraCutFull, 0);
        snprintf(f->zReason, sizeof f->zReason, "该行有 %d 个字段，多于表头的 %d 个：按表头的各列读入，多出的字段没有对应的列，原样列出",
                 s->nField, s->nHeader);
    }
    proto_record_init(&rec);
    for (int i = 0; i < nCol; i++) {
        int f = s->aColField[i];
        if (f < 0) continue;
        cell *c = &s->aCell[i];
        /* a NUL would cut the text short: it becomes another control
         * character, which the reading removes and records like any */
        for (char *q = memchr(c->z, 0, c->n); q; q = memchr(q, 0, c->n - (size_t)(q - c->z))) *q = 0x1A;
        /* an import reads the cell as written (proto_record_normalise trims
         * it, and says so); the audit's scan gets it trimmed */
        rc = scan ? proto_record_set(&rec, f, c->z, c->n) : proto_record_set_as_written(&rec, f, c->z, c->n);
        if (rc != PS_OK) goto oom;
    }
    if (scan) {
        /* the row as written, before any check or completion */
        int nFields = pend ? -1 : s->nField < s->nHeader ? s->nField : 0;
        int bad = s->xRowEx ? s->xRowEx(s->pRowCtx, s->rowLine, &rec, nFields, aF, nRd)
                            : s->xRow(s->pRowCtx, s->rowLine, &rec, nFields);
        if (bad) fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
        proto_record_clear(&rec);
        return;
    }
    rc = proto_record_normalise(&rec, aF + nRd, ROW_FIND_MAX - nRd, &nN, NULL);
    if (rc == PS_NOMEM) goto oom;
    nF = nRd + (nN < ROW_FIND_MAX - nRd ? nN : ROW_FIND_MAX - nRd);
    if (rc != PS_OK) {
        /* names no item: kept in the import's account with its reasons */
        for (int i = nRd; i < nF; i++)
            if (aF[i].field == PF_CODE) report(s->pRejected, &s->nRejected, s->rowLine, PF_CODE, aF[i].zReason);
        if (pend) s->pendLine = 0;
        proto_record_clear(&rec);
        return;
    }
    if (pend) {
        /* the quote left open, read as an ordinary character (listed first:
         * it explains the fields that follow it) */
        proto_finding *f = &aF[0];
        memset(f, 0, sizeof *f);
        f->field = s->pendField;
        f->zRule = "unclosed_quote";
        f->severity = PROTO_FINDING_WARNING;
        snprintf(f->zReason, sizeof f->zReason,
                 "第 %ld 行%s%s%s的引号没有闭合：该引号已按普通字符去掉，此行按逗号分列读入，请核对各列",
                 s->pendQuoteLine, s->pendField >= 0 ? "“" : "", s->pendField >= 0 ? proto_field_cn(s->pendField) : "",
                 s->pendField >= 0 ? "”开头" : "");
        snprintf(f->zWritten, sizeof f->zWritten, "%s", s->zPendWritten);
        if (s->pendField >= 0 && rec.az[s->pendField])
            snprintf(f->zUnderstood, sizeof f->zUnderstood, "%.*s", utf8_cut(rec.az[s->pendField], 90),
                     rec.az[s->pendField]);
        s->pendLine = 0;
    }
    /* a row the same as an earlier one of this file: one record, one
     * warning; its findings are those of the first, which the record keeps */
    if (row_key(s, &rec) != PS_OK) { rc = PS_NOMEM; goto oom; }
    long same = set_add(&s->same, s->zKey, s->rowLine);
    if (same < 0) { rc = PS_NOMEM; goto oom; }
    if (same > 0) {
        snprintf(zMsg, sizeof zMsg, "与本文件第 %ld 行完全相同（重复的行）：只作一条档案，此行不再写入，其问题见第 %ld 行", same,
                 same);
        report(s->pWarnings, &s->nWarnings, s->rowLine, PF_CODE, zMsg);
        proto_record_clear(&rec);
        return;
    }
    /* a field no column of this catalog gives keeps what the archive holds */
    unsigned absent = 0;
    for (int f = 0; f < PF__COUNT; f++) {
        int col = 0;
        for (int i = 0; i < header_cols(s) && !col; i++) col = s->aColField[i] == f;
        if (!col && !rec.az[f]) absent |= 1u << f;
    }
    /* such a field is missing only if the archive has no value for it
     * either: that is known once the row is written (flush_batch) */
    for (int i = 0; i < nF; i++)
        if (!(strcmp(aF[i].zRule, "mandatory") == 0 && aF[i].field >= 0 && (absent & (1u << aF[i].field))))
            report_finding(s, s->rowLine, rec.az[PF_CODE], &aF[i]);
    s->nFindings += (unsigned long)(nRd + nN - nF); /* past the room: counted */
    long prev = set_add(&s->seen, rec.az[PF_CODE], s->rowLine);
    if (prev < 0) { rc = PS_NOMEM; goto oom; }
    if (prev > 0) {
        snprintf(zMsg, sizeof zMsg, "档号 %s 已见于本文件第 %ld 行，两行的著录不同", rec.az[PF_CODE], prev);
        report(s->pWarnings, &s->nWarnings, s->rowLine, PF_CODE, zMsg);
    }
    /* the findings stay with the record until a corrected row replaces it */
    json_t *pFind = NULL;
    if (nF > 0) {
        if (!(pFind = json_array())) { rc = PS_NOMEM; goto oom; }
        for (int i = 0; i < nF; i++) {
            json_t *o = finding_json(s->rowLine, NULL, &aF[i]);
            if (!o || json_array_append_new(pFind, o) != 0) {
                json_decref(pFind);
                rc = PS_NOMEM;
                goto oom;
            }
        }
    }
    s->pB->aRec[s->nBatch] = rec;  /* the batch owns its strings now */
    s->pB->apFind[s->nBatch] = pFind;
    s->pB->aAbsent[s->nBatch] = absent;
    s->pB->aLine[s->nBatch] = s->rowLine;
    if (++s->nBatch == BATCH) flush_batch(s);
    return;
oom:
    proto_record_clear(&rec);
    fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
}

/* A field after the header's last: kept as written for the row's finding. */
static void extra_add(import_state *s, int i, const char *z, size_t n)
{
    size_t room = sizeof s->zExtra - 1 - s->nExtra;
    if (i > s->nHeader) {
        if (room > 0) s->zExtra[s->nExtra++] = ',', room--;
        else s->extraCut = 1;
    }
    size_t k = n < room ? n : room;
    if (k > 0) memcpy(s->zExtra + s->nExtra, z, k);
    s->nExtra += k;
    if (k < n) s->extraCut = 1;
    if (n > 0) {
        s->nExtraFull = s->nExtra;
        s->extraCutFull = s->extraCut;
    }
}

static void on_field(void *zField, size_t n, void *ctx)
{
    import_state *s = ctx;
    if (s->rc != PS_OK || s->discard) return;
    int i = s->nField++;
    s->nLineFields++;
    if (n > 0) s->lastFull = i;
    if (s->haveHeader && i >= s->nHeader) extra_add(s, i, zField, n);
    if (i >= COL_MAX) return;  /* counted, never kept nor read */
    cell *c = &s->aCell[i];
    if (n + 1 > c->nAlloc) {
        size_t nNew = n + 1 > 64 ? n + 1 : 64;
        char *z = px_realloc(c->z, nNew);
        if (!z) {
            fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
            return;
        }
        c->z = z;
        c->nAlloc = nNew;
    }
    if (n) memcpy(c->z, zField, n);
    c->z[n] = 0;
    c->n = n;
}

static void row_reset(import_state *s, long nextLine)
{
    s->nField = 0;
    s->lastFull = -1;
    s->rowLine = nextLine;
    s->nExtra = s->nExtraFull = 0;
    s->extraCut = s->extraCutFull = 0;
}

static void on_row(int term, void *ctx)
{
    import_state *s = ctx;
    (void)term;
    if (s->discard) return;
    if (s->rc == PS_OK) {
        if (!s->haveHeader) header_row(s);
        else data_row(s);
    }
    if (s->pendLine == s->rowLine) s->pendLine = 0;
    row_reset(s, s->line + 1);  /* the next row starts on the next line */
}

/* ---- lines and unterminated quotes ----------------------------------- */

/* Bytes of the line at z: up to and with its end, LF, CR LF or a lone CR
 * (spreadsheets on old Macs end lines with CR alone). */
static size_t line_len(const char *z, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (z[i] == '\n') return i + 1;
        if (z[i] == '\r') return i + 1 < n && z[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

/* libcsv is inside a quoted field: the line fed last ended within it. */
static int in_quote(const struct csv_parser *p)
{
    return p->quoted && p->pstate == CSV_FIELD_BEGUN;
}

typedef struct {
    const import_state *s;
    proto_record rec;
    int nField;
    int rc;
} peek_state;

static void peek_field(void *zField, size_t n, void *ctx)
{
    peek_state *k = ctx;
    int i = k->nField++;
    if (k->rc != PS_OK || i >= header_cols(k->s) || k->s->aColField[i] < 0 || !zField) return;
    k->rc = proto_record_set(&k->rec, k->s->aColField[i], zField, n);
}

static void peek_row(int term, void *ctx)
{
    (void)term;
    (void)ctx;
}

/* Whether line z[0..n), read on its own, is a catalog row: it ends outside
 * any quote and gives a valid 档号 (or the parts to make one).  A quoted
 * field that runs into such a line was not closed; the continuation line
 * of a field that legitimately spans lines (a 备注 in two paragraphs) has
 * no 档号 where the header puts it.  1 yes, 0 no, -1 out of memory. */
static int looks_like_row(const import_state *s, const char *z, size_t n)
{
    struct csv_parser csv;
    peek_state k = {s, {{0}}, 0, PS_OK};
    proto_code code;
    char zE[8];
    int yes = 0;
    if (!s->haveHeader) return 0;
    char *zLine = NULL;
    if (memchr(z, '"', n)) {
        if (!(zLine = px_malloc(n ? n : 1))) return -1;
        n = unspace(0, z, n, zLine);
        z = zLine;
    }
    if (csv_init(&csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        px_free(zLine);
        return -1;
    }
    csv_setup(&csv);
    proto_record_init(&k.rec);
    if (csv_parse(&csv, z, n, peek_field, peek_row, &k) != n) k.rc = PS_NOMEM;
    int open = in_quote(&csv);
    csv_fini(&csv, peek_field, peek_row, &k);
    if (k.rc == PS_OK) k.rc = compose_code(&k.rec);
    if (k.rc == PS_OK && !open && k.rec.az[PF_CODE])
        yes = proto_code_parse(k.rec.az[PF_CODE], &code, zE, sizeof zE) == PS_OK;
    csv_free(&csv);
    proto_record_clear(&k.rec);
    px_free(zLine);
    return k.rc == PS_OK ? yes : -1;
}

#define REREAD_MAX 8 /* open quotes one row may have, each re-read once */

static void feed(import_state *s, struct csv_parser *pCsv, const char *z, size_t n);

/* Where the quote left open in row z[0..n) begins: the last field that
 * libcsv starts as quoted.  n if none is found. */
static size_t open_quote_at(const char *z, size_t n)
{
    struct csv_parser csv;
    size_t at = n;
    if (csv_init(&csv, 0) != 0) return n;
    csv_setup(&csv);
    for (size_t i = 0; i < n; i++) {
        int was = csv.quoted;
        size_t k;
        /* the spaces outside quotes, as unspace() leaves them out */
        if (is_blank(z[i]) && (csv.pstate == CSV_ROW_NOT_BEGUN || csv.pstate == CSV_FIELD_NOT_BEGUN ||
                               csv.pstate == CSV_FIELD_MIGHT_HAVE_ENDED) &&
            blank_outside(z, n, i, csv.pstate == CSV_FIELD_MIGHT_HAVE_ENDED, &k)) {
            i = k - 1;
            continue;
        }
        if (csv_parse(&csv, z + i, 1, NULL, NULL, NULL) != 1) break;
        if (!was && csv.quoted) at = i;
    }
    csv_free(&csv);
    return at;
}

/* The row being parsed, z[s->rowOff..end), has a quoted field that was
 * never closed (the next line reads as a row of its own, or the text ends).
 * What libcsv holds of it is dropped and the row is read again with that
 * quote taken as an ordinary character, so that the item it names is kept;
 * the row's findings say so.  A header cannot be read that way. */
static void reread_open_row(import_state *s, struct csv_parser *pCsv, const char *z, size_t end, int atEnd)
{
    char zMsg[300];
    int f = s->nField < header_cols(s) ? s->aColField[s->nField] : -1;
    s->discard = 1;
    csv_fini(pCsv, on_field, on_row, s);
    s->discard = 0;
    if (!s->haveHeader) {
        if (atEnd) snprintf(zMsg, sizeof zMsg, "表头行第 %ld 行的引号没有闭合，直到文件末尾", s->quoteLine);
        else snprintf(zMsg, sizeof zMsg, "表头行第 %ld 行的引号没有闭合（第 %ld 行已是另一行）", s->quoteLine, s->line + 1);
        snprintf(s->zErr, s->nErr, "%s，无法读出各列的名称；请在表格软件中改正表头后重新导入", zMsg);
        s->rc = PS_INVALID;
        s->fatalLine = s->rowLine;
        return;
    }
    const char *zRow = z + s->rowOff;
    size_t nRow = end - s->rowOff;
    size_t q = open_quote_at(zRow, nRow);
    if (q >= nRow || s->depth >= REREAD_MAX) {
        if (atEnd) snprintf(zMsg, sizeof zMsg, "第 %ld 行开始的引号没有闭合，直到文件末尾；此行无法分列", s->quoteLine);
        else snprintf(zMsg, sizeof zMsg, "第 %ld 行开始的引号没有闭合（第 %ld 行已是另一行）；此行无法分列",
                      s->quoteLine, s->line + 1);
        reject_row(s, f, zMsg, 0);
        row_reset(s, s->line + 1);
        return;
    }
    char *zCopy = px_malloc(nRow);
    if (!zCopy) {
        fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
        return;
    }
    memcpy(zCopy, zRow, q);
    memcpy(zCopy + q, zRow + q + 1, nRow - q - 1);
    /* the row as written, for its finding: its first line, from the quote on */
    size_t nShow = line_len(zRow + q, nRow - q);
    while (nShow > 0 && (zRow[q + nShow - 1] == '\n' || zRow[q + nShow - 1] == '\r')) nShow--;
    show_bytes(s->zPendWritten, sizeof s->zPendWritten, zRow + q, nShow, 0, 0);
    long lastLine = s->line;
    s->pendLine = s->rowLine;
    s->pendField = f;
    s->pendQuoteLine = s->quoteLine;
    s->line = s->rowLine;
    row_reset(s, s->rowLine);
    s->depth++;
    feed(s, pCsv, zCopy, nRow - 1);
    s->depth--;
    px_free(zCopy);
    /* a row that ended without its line's end stays open in libcsv: the
     * lines after it start a new one */
    if (s->rc == PS_OK && !atEnd) {
        csv_fini(pCsv, on_field, on_row, s);
        s->line = lastLine;
        row_reset(s, lastLine + 1);
    }
    s->line = lastLine;
}

/* Feed z[0..n) one line at a time so that each row knows the line it
 * starts on, and a quoted field left open at a line's end is seen there. */
static void feed(import_state *s, struct csv_parser *pCsv, const char *z, size_t n)
{
    size_t i = 0;
    int wasOpen = 0;
    s->rowOff = 0;
    while (i < n && s->rc == PS_OK) {
        size_t len = line_len(z + i, n - i);
        s->nLineFields = 0;
        if (pCsv->pstate == CSV_ROW_NOT_BEGUN && !s->nField) s->rowOff = i;
        const char *zFeed = z + i;
        size_t nFeed = len;
        if (memchr(z + i, '"', len)) {
            if (len > s->nLineAlloc) {
                char *zNew = px_realloc(s->zLine, len);
                if (!zNew) {
                    fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
                    return;
                }
                s->zLine = zNew;
                s->nLineAlloc = len;
            }
            nFeed = unspace(in_quote(pCsv), z + i, len, s->zLine);
            zFeed = s->zLine;
        }
        if (csv_parse(pCsv, zFeed, nFeed, on_field, on_row, s) != nFeed) {
            if (s->rc == PS_OK)
                fatal_at(s, csv_error(pCsv) == CSV_ENOMEM ? PS_NOMEM : PS_INVALID, s->line,
                         csv_error(pCsv) == CSV_ENOMEM ? "内存不足" : "无法按 CSV 读出此行");
            return;
        }
        i += len;
        int open = in_quote(pCsv);
        if (open && (!wasOpen || s->nLineFields > 0)) s->quoteLine = s->line;
        if (open && i < n && s->rc == PS_OK) {
            int yes = looks_like_row(s, z + i, line_len(z + i, n - i));
            if (yes < 0) {
                fatal_at(s, PS_NOMEM, s->rowLine, "内存不足");
                return;
            }
            if (yes) {
                reread_open_row(s, pCsv, z, i, 0);
                open = 0;
            }
        }
        wasOpen = open;
        if (i < n) s->line++;
    }
    if (s->rc == PS_OK && in_quote(pCsv)) reread_open_row(s, pCsv, z, n, 1);
}

static int parse_csv(idx_index *p, const char *zIn, size_t nIn, int flags, const idx_guard *pGuard,
                     idx_csv_row_fn xRow, idx_csv_row_ex_fn xRowEx, void *pRowCtx, json_t **ppResult, long *pLine,
                     char *zErr, size_t nErr);

int idx_csv_import(idx_index *p, const char *zIn, size_t nIn, int flags, const idx_guard *pGuard, json_t **ppResult,
                   long *pLine, char *zErr, size_t nErr)
{
    return parse_csv(p, zIn, nIn, flags, pGuard, NULL, NULL, NULL, ppResult, pLine, zErr, nErr);
}

int idx_csv_scan(const char *zIn, size_t nIn, idx_csv_row_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                 char *zErr, size_t nErr)
{
    return parse_csv(NULL, zIn, nIn, 0, NULL, xRow, NULL, pCtx, ppResult, pLine, zErr, nErr);
}

int idx_csv_scan_ex(const char *zIn, size_t nIn, idx_csv_row_ex_fn xRow, void *pCtx, json_t **ppResult, long *pLine,
                    char *zErr, size_t nErr)
{
    return parse_csv(NULL, zIn, nIn, 0, NULL, NULL, xRow, pCtx, ppResult, pLine, zErr, nErr);
}

static int parse_csv(idx_index *p, const char *zIn, size_t nIn, int flags, const idx_guard *pGuard,
                     idx_csv_row_fn xRow, idx_csv_row_ex_fn xRowEx, void *pRowCtx, json_t **ppResult, long *pLine,
                     char *zErr, size_t nErr)
{
    int listRecords = flags & IDX_CSV_LIST;
    struct csv_parser csv;
    char *z = NULL;
    size_t n = 0;
    const char *zEnc = NULL;
    import_state *pS = px_calloc(1, sizeof *pS);
    int rc;

    *ppResult = NULL;
    *pLine = 0;
    snprintf(zErr, nErr, "内存不足");  /* until a failure says more */
    if (!pS) return PS_NOMEM;
    /* a line the file's encoding cannot read is kept as written, for the
     * rows on it to be read cell by cell (cell_repair) */
    if ((rc = proto_to_utf8_lenient(zIn, nIn, &z, &n, &zEnc, &pS->aKept, &pS->nKept, pLine, zErr, nErr)) != PS_OK) {
        px_free(pS);
        return rc;
    }
    pS->gb = strcmp(zEnc, "gb18030") == 0;
    if (csv_init(&csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
        px_free(z);
        px_free(pS->aKept);
        px_free(pS);
        return PS_NOMEM;
    }
    csv_setup(&csv);
    pS->pIdx = p;
    pS->pGuard = pGuard;
    pS->xRow = xRow;
    pS->xRowEx = xRowEx;
    pS->pRowCtx = pRowCtx;
    pS->rc = PS_OK;
    pS->zErr = zErr;
    pS->nErr = nErr;
    pS->line = 1;
    row_reset(pS, 1);
    pS->pRejected = json_array();
    pS->pWarnings = json_array();
    pS->pFindings = json_array();
    pS->pConflicts = json_array();
    pS->keep = !(flags & IDX_CSV_REPLACE);
    if (listRecords) pS->pList = json_array();
    if (p) pS->pB = px_malloc(sizeof *pS->pB);  /* large: not on the stack */
    if (!pS->pRejected || !pS->pWarnings || !pS->pFindings || !pS->pConflicts || (listRecords && !pS->pList) ||
        (p && !pS->pB)) {
        rc = PS_NOMEM;
        goto out;
    }

    feed(pS, &csv, z, n);
    if (pS->rc == PS_OK) csv_fini(&csv, on_field, on_row, pS);
    if (pS->rc == PS_OK) flush_batch(pS);
    if (pS->rc == PS_OK && !pS->haveHeader) {
        snprintf(zErr, nErr, "目录为空：没有表头行");
        pS->rc = PS_INVALID;
    }
    rc = pS->rc;
    char zCommitErr[256];
    int rcCommit = p ? idx_index_commit(p, zCommitErr, sizeof zCommitErr) : PS_OK;
    if (rcCommit != PS_OK) {
        if (rc == PS_OK) {
            snprintf(zErr, nErr, "提交失败：%s；已写入的 %lu 行可能丢失", zCommitErr, pS->nImported);
            rc = rcCommit;
        } else {
            size_t k = strlen(zErr);
            snprintf(zErr + k, nErr - k, "；提交也失败了，这些行可能丢失：%s", zCommitErr);
        }
        utf8_tidy(zErr);
    }
    if (rc != PS_OK) {
        *pLine = pS->fatalLine;
        goto out;
    }
    *ppResult = json_pack("{s:I,s:I,s:s,s:I,s:O,s:I,s:O}", "imported", (json_int_t)pS->nImported,
                          "replaced", (json_int_t)pS->nReplaced, "encoding", zEnc,
                          "rejected_count", (json_int_t)pS->nRejected, "rejected", pS->pRejected,
                          "warnings_count", (json_int_t)pS->nWarnings, "warnings", pS->pWarnings);
    if (*ppResult && pS->pList) json_object_set(*ppResult, "records", pS->pList);
    if (*ppResult && (json_object_set_new(*ppResult, "findings_count", json_integer((json_int_t)pS->nFindings)) != 0 ||
                      json_object_set(*ppResult, "findings", pS->pFindings) != 0 ||
                      json_object_set_new(*ppResult, "furniture_rows", json_integer((json_int_t)pS->nFurniture)) != 0 ||
                      json_object_set_new(*ppResult, "linked", json_integer((json_int_t)pS->nLinked)) != 0 ||
                      json_object_set_new(*ppResult, "conflicts_count", json_integer((json_int_t)pS->nConflicts)) != 0 ||
                      json_object_set(*ppResult, "conflicts", pS->pConflicts) != 0)) {
        json_decref(*ppResult);
        *ppResult = NULL;
    }
    if (!*ppResult) rc = PS_NOMEM;
    else if (nErr) zErr[0] = 0;
out:
    csv_free(&csv);
    for (int k = 0; k < COL_MAX; k++) px_free(pS->aCell[k].z);
    set_clear(&pS->seen);
    set_clear(&pS->same);
    px_free(pS->zKey);
    px_free(pS->aKept);
    px_free(pS->zLine);
    json_decref(pS->pRejected);
    json_decref(pS->pWarnings);
    json_decref(pS->pFindings);
    json_decref(pS->pConflicts);
    json_decref(pS->pList);
    for (int k = 0; k < pS->nBatch; k++) {
        proto_record_clear(&pS->pB->aRec[k]);
        json_decref(pS->pB->apFind[k]);
    }
    px_free(pS->pB);
    px_free(z);
    px_free(pS);
    return rc;
}
