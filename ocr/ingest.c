/* ingest: turn a vendor's delivery folder into searchable page texts.
 *
 *   ingest [options] FOLDER
 *
 * Imports the catalog through indexd, links every scan to its catalog row
 * by 档号, reads every page in worker processes (oc_pool) and sends text,
 * measurements and a web copy of the page image to indexd.  Stopped at any
 * moment (Ctrl-C, kill -9) it resumes where it was: a journal in the state
 * folder remembers every page sent, by file identity (path, size, mtime),
 * so a changed file is read again.  Ends with a report on screen and as
 * JSON. */
#include "oc_delivery.h"
#include "oc_pool.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_record.h"
#include "proto_status.h"
#include "qc_args.h"
#include "qc_buf.h"
#include "qc_client.h"
#include "qc_path.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_DONE = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_PROBLEMS = 3, EXIT_STOPPED = 130 };

typedef struct {
    const char *zFolder, *zServer, *zState, *zReport, *zCatalog, *zDelivery;
    int nWorker, timeoutS, lowConf, minDpi, quiet, replace;
    long memMb;
    double maxSkew;
    oc_opts o;
} opts;

static volatile sig_atomic_t gStop;

static void on_signal(int sig)
{
    (void)sig;
    gStop = 1;
}

static const char zUsage[] =
    "用法：ingest [选项] 交付文件夹\n"
    "\n"
    "把数字化外包服务企业移交的数字化成果（目录 CSV 和按档号命名的扫描件）\n"
    "导入 indexd。中途停止后再次运行同一命令即可接着导入：已读取的页不再重复读取。\n"
    "\n"
    "  --server 地址       indexd 的地址；默认取 $INDEXD_URL，否则为 " QC_DEFAULT_SERVER "\n"
    "  --catalog 文件      目录 CSV 文件（默认：交付文件夹中的目录文件）\n"
    "  --workers N         识别进程数（默认：CPU 核数）\n"
    "  --lang 语言         Tesseract 识别语言（默认 chi_sim；如 chi_sim+eng）\n"
    "  --timeout 秒数      每页读取的时限（默认 180）\n"
    "  --mem-mb 兆字节     每个识别进程的内存上限（默认 2048）\n"
    "  --max-mpixels 数值  超过此像素数（百万像素）的图像不予读取（默认 120）\n"
    "  --low-conf 数值     识别可信度低于此值的页列入报告（默认 60）\n"
    "  --min-dpi 数值      分辨率低于此值（dpi）的页列入报告（默认 200）\n"
    "  --state 文件夹      断点记录和日志所在的文件夹（默认为 交付文件夹/.ingest；\n"
    "                      交付文件夹只读时为 ./var/ingest/<交付文件夹名>）\n"
    "  --report 文件       另将报告以 JSON 格式写入此文件\n"
    "  --delivery 名称     indexd 保存本批次交付记录所用的名称（默认：交付文件夹名）\n"
    "  --replace           目录条目与档案中已有的著录不同时，以目录条目和本批次的扫描件\n"
    "                      替换（原著录记入该条记录的修改历史）；不加此项则保留档案中的\n"
    "                      著录和页面，该件的扫描件不发送，每处不同记为一处冲突，验收不通过\n"
    "  --quiet             不显示进度，只输出报告\n"
    "\n"
    "档号的写法：扫描件和文件夹的名称按目录导入的读法读取档号（全角字符、小写字母、\n"
    "以“-”代“·”、件号未补足 4 位等均可读取，并在报告中列出）。\n"
    "\n"
    "令牌：导入须用档案员或管理员的 API 令牌（环境变量 INDEXD_TOKEN，由档案员或管理员\n"
    "在服务器上用 indexd users token 用户名 生成）；数字化厂商的账号无权导入，只能查看\n"
    "数字化率报告和验收报告。\n"
    "\n"
    "退出状态：0 全部读取；3 已读取但有问题（读取出错、目录中有未导入的条目、目录条目\n"
    "与档案中的著录冲突，详见报告）；1 出错停止（如无法连接 indexd、目录未能导入）；\n"
    "2 命令行有误；130 已中断（再次运行同一命令即可接着导入）。\n";

/* ---- the work list ---------------------------------------------------------- */

typedef struct {
    size_t iFile;     /* in the delivery */
    char zKind[16];
    int nPages;       /* -1 until probed */
    int failed;
    int held;         /* its record's catalog row conflicted: not read, not sent (no --replace) */
    int firstPage;    /* page number of its first page in the record */
} file_state;

typedef struct {
    const opts *o;
    oc_delivery d;
    file_state *aF;
    oc_journal *pJ;
    qc_client *pC;
    oc_pool *pPool;
    json_t *pCatalog;   /* 档号 -> 页数 (or null) of the catalog rows */
    json_t *pHeld;      /* 档号 -> true: the row conflicted with the archive's; its scans are held back */
    json_t *pStored;    /* 档号 -> the page numbers indexd holds (asked once per item) */
    json_t *pOthers;    /* 档号 -> true: not in this catalog, but catalogued in the archive: held back */
    int conflictsCut;   /* more conflicts than the import's answer lists: a 档号 not listed may be one */
    char zName[128];    /* the delivery's name in indexd */
    json_t *pImport;    /* the import answer */
    json_t *pProblems;  /* lists by kind */
    char zTmp[4096];
    /* progress */
    size_t nItems, nItemsDone, nPages, nPagesDone, nPagesRead, nErrors;
    double t0, tLast;
    int tty;
} run;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void problem(run *r, const char *zList, json_t *o)
{
    json_t *a = json_object_get(r->pProblems, zList);
    if (!a) {
        a = json_array();
        json_object_set_new(r->pProblems, zList, a);
    }
    json_array_append_new(a, o);
}

static void file_key(char *z, size_t n, const char *zOp, const oc_file *f, int i)
{
    if (i < 0) snprintf(z, n, "%s\t%s\t%lld\t%lld", zOp, f->zRel, f->size, f->mtimeNs);
    else snprintf(z, n, "%s\t%s\t%lld\t%lld\t%d", zOp, f->zRel, f->size, f->mtimeNs, i);
}

/* ---- progress ----------------------------------------------------------------- */

/* The reading rate and the time left, once there is a rate to speak of:
 * pages read in this run (a resumed run's earlier pages are not this run's
 * speed) over at least 5 seconds.  zRate is "" until then ("每分钟 0 页"
 * would say that nothing moves), else zSep + "每分钟 N 页"; zLeft "未知"
 * until then. */
static void progress_rate(double secs, size_t nRead, size_t nLeft, const char *zSep, char *zRate, size_t nRate,
                          char *zLeft, size_t nLeftBuf)
{
    snprintf(zRate, nRate, "%s", "");
    snprintf(zLeft, nLeftBuf, "%s", nLeft ? "未知" : " 0 分钟");
    if (secs < 5 || nRead == 0) return;
    double ppm = (double)nRead * 60.0 / secs;
    if (ppm >= 10) snprintf(zRate, nRate, "%s每分钟 %.0f 页", zSep, ppm);
    else snprintf(zRate, nRate, "%s每分钟 %.1f 页", zSep, ppm);
    if (!nLeft) return;
    double m = (double)nLeft / ppm;
    if (m < 1) snprintf(zLeft, nLeftBuf, "不到 1 分钟");
    else if (m < 120) snprintf(zLeft, nLeftBuf, "约 %.0f 分钟", m);
    else snprintf(zLeft, nLeftBuf, "约 %.1f 小时", m / 60);
}

static void progress(run *r, int force)
{
    double t = now_s();
    if (r->o->quiet || (!force && t - r->tLast < (r->tty ? 0.5 : 10.0))) return;
    r->tLast = t;
    char zRate[64], zLeft[64];
    progress_rate(t - r->t0, r->nPagesRead, r->nPages > r->nPagesDone ? r->nPages - r->nPagesDone : 0, r->tty ? "  " : "，",
                  zRate, sizeof zRate, zLeft, sizeof zLeft);
    if (r->tty) {
        int width = 30, fill = r->nPages ? (int)(width * (double)r->nPagesDone / (double)r->nPages) : 0;
        char zBar[64];
        for (int i = 0; i < width; i++) zBar[i] = i < fill ? '#' : '.';
        zBar[width] = 0;
        fprintf(stderr, "\r[%s] 件 %zu/%zu  页 %zu/%zu%s  剩余时间%s  出错 %zu 处 \033[K",
                zBar, r->nItemsDone, r->nItems, r->nPagesDone, r->nPages, zRate, zLeft, r->nErrors);
    } else {
        fprintf(stderr, "ingest: 件 %zu/%zu，页 %zu/%zu%s，剩余时间%s，出错 %zu 处\n",
                r->nItemsDone, r->nItems, r->nPagesDone, r->nPages, zRate, zLeft, r->nErrors);
    }
}

/* ---- catalog -------------------------------------------------------------------- */

static int import_catalog(run *r, const char *zPath, char *zErr, size_t nErr)
{
    FILE *f = fopen(zPath, "rb");
    if (!f) {
        snprintf(zErr, nErr, "无法打开目录文件 %.300s：%s", zPath, proto_errno_cn(errno));
        return PS_IO;
    }
    qc_answer a;
    qc_answer_init(&a);
    /* the history of each record names the delivery and its catalog */
    qc_buf path;
    qc_buf_init(&path, 0);
    const char *zBase = strrchr(zPath, '/');
    qc_buf name;
    qc_buf_init(&name, 0);
    qc_buf_adds(&name, r->zName);
    qc_buf_adds(&name, "/");
    qc_buf_adds(&name, zBase ? zBase + 1 : zPath);
    /* indexd takes at most 200 bytes: cut between characters */
    size_t nName = name.rc == PS_OK ? name.n : 0;
    if (nName > 200) nName = 200;
    while (nName > 0 && !proto_utf8_valid(qc_buf_str(&name), nName)) nName--;
    char zName[204];
    memcpy(zName, qc_buf_str(&name), nName);
    zName[nName] = 0;
    qc_buf_release(&name);
    qc_buf_adds(&path, r->o->replace ? "/api/v1/catalog?list=1&replace=1&name=" : "/api/v1/catalog?list=1&name=");
    qc_path_escape(&path, zName);
    int rc = qc_client_call(r->pC, "POST", path.rc == PS_OK ? qc_buf_str(&path) : "/api/v1/catalog?list=1", "text/csv", f,
                            &a, zErr, nErr);
    qc_buf_release(&path);
    fclose(f);
    if (rc != PS_OK) {
        char zWhy[512];
        snprintf(zWhy, sizeof zWhy, "%.500s", zErr);
        snprintf(zErr, nErr, "目录文件 %.300s 未能导入：%s", zPath, zWhy);
        qc_answer_clear(&a);
        return rc;
    }
    r->pImport = json_incref(a.pJson);
    json_t *pRec;
    size_t i;
    json_array_foreach(json_object_get(a.pJson, "records"), i, pRec) {
        json_t *pPages = json_object_get(pRec, "pages");
        json_object_set(r->pCatalog, json_string_value(json_object_get(pRec, "code")), pPages ? pPages : json_null());
    }
    json_t *pRej;
    json_array_foreach(json_object_get(a.pJson, "rejected"), i, pRej) {
        json_t *o = json_deep_copy(pRej);
        json_object_set_new(o, "file", json_string(zPath));
        problem(r, "catalog_rejected", o);
    }
    json_t *pConf;
    json_array_foreach(json_object_get(a.pJson, "conflicts"), i, pConf) {
        /* the archive's row was kept: what this delivery offers differs;
         * the record is there (its count of pages is not checked against a
         * 页数 in dispute) */
        json_t *o = json_deep_copy(pConf);
        json_object_set_new(o, "file", json_string(zPath));
        problem(r, "catalog_conflicts", o);
        const char *zCode = json_string_value(json_object_get(pConf, "code"));
        if (zCode && !json_object_get(r->pCatalog, zCode)) json_object_set_new(r->pCatalog, zCode, json_null());
        /* and the archive's pages stay too: the delivery's scans of that
         * record are not sent over them (--replace takes the delivery's) */
        if (zCode && !r->o->replace) json_object_set_new(r->pHeld, zCode, json_true());
    }
    json_int_t nConflicts = json_integer_value(json_object_get(a.pJson, "conflicts_count"));
    r->conflictsCut = !r->o->replace && nConflicts > (json_int_t)json_array_size(json_object_get(a.pJson, "conflicts"));
    json_object_del(r->pImport, "records");
    qc_answer_clear(&a);
    return PS_OK;
}

/* The delivery's name in indexd: --name, else the folder's last part,
 * ASCII other than letters, digits and . _ - made '_'. */
static void delivery_name(const opts *o, char *zName, size_t nName)
{
    const char *zBase = strrchr(o->zFolder, '/');
    snprintf(zName, nName, "%s", o->zDelivery ? o->zDelivery : zBase && zBase[1] ? zBase + 1 : o->zFolder);
    for (char *q = zName; *q; q++)
        if ((unsigned char)*q < 0x80 && !((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z') ||
                                          (*q >= 'a' && *q <= 'z') || *q == '.' || *q == '_' || *q == '-'))
            *q = '_';
    if (zName[0] == '.') zName[0] = '_';
}

/* ---- sending a page --------------------------------------------------------------- */

/* PUT the web image of a page (zWeb, removed afterwards). */
static int send_image(run *r, const oc_file *f, const char *zNo, const char *zWeb, qc_answer *pA, char *zErr,
                      size_t nErr)
{
    qc_buf path;
    qc_buf_init(&path, 0);
    int rc = qc_path_page(&path, f->zCode, zNo);
    if (rc == PS_OK) rc = qc_buf_add(&path, "/image", 6);
    FILE *fi = rc == PS_OK ? fopen(zWeb, "rb") : NULL;
    if (rc == PS_OK && !fi) rc = PS_IO;
    if (rc == PS_OK) rc = qc_client_call(r->pC, "PUT", qc_buf_str(&path), "image/jpeg", fi, pA, zErr, nErr);
    if (fi) fclose(fi);
    unlink(zWeb);
    qc_buf_release(&path);
    return rc;
}

/* Send a page read: its web image and its text.  A page of a scan that no
 * catalog row names is sent with ?unlinked=DELIVERY, which makes its record
 * (待挂接) when absent; the text goes first then, so that the record exists
 * before its image. */
static int send_page(run *r, const oc_file *f, int pageNo, json_t *pPage, const char *zWeb, char *zErr,
                     size_t nErr)
{
    qc_buf path;
    qc_answer a;
    char zNo[16];
    int rc = PS_OK;
    int unlinked = !json_object_get(r->pCatalog, f->zCode);
    int image = zWeb && access(zWeb, R_OK) == 0;
    qc_buf_init(&path, 0);
    qc_answer_init(&a);
    snprintf(zNo, sizeof zNo, "%d", pageNo);
    if (image && !unlinked && (rc = send_image(r, f, zNo, zWeb, &a, zErr, nErr)) != PS_OK) goto out;
    rc = qc_path_page(&path, f->zCode, zNo);
    if (rc == PS_OK && unlinked) {
        qc_buf_adds(&path, "?unlinked=");
        rc = qc_path_escape(&path, r->zName);
    }
    char *zJson = rc == PS_OK ? json_dumps(pPage, JSON_COMPACT) : NULL;
    if (rc == PS_OK && !zJson) rc = PS_NOMEM;
    if (rc == PS_OK) {
        FILE *fb = fmemopen(zJson, strlen(zJson), "rb");
        if (!fb) rc = PS_NOMEM;
        else {
            rc = qc_client_call(r->pC, "PUT", qc_buf_str(&path), "application/json", fb, &a, zErr, nErr);
            fclose(fb);
        }
    }
    free(zJson);
    if (rc == PS_OK && image && unlinked) rc = send_image(r, f, zNo, zWeb, &a, zErr, nErr);
out:
    if (image && rc != PS_OK) unlink(zWeb);
    qc_answer_clear(&a);
    qc_buf_release(&path);
    return rc;
}

/* What the report keeps of a page read (also in the journal, for resumed runs). */
static json_t *page_summary(const oc_file *f, int i, int pageNo, const json_t *pPage)
{
    json_t *s = json_pack("{s:s,s:s,s:i,s:i}", "code", f->zCode, "file", f->zRel, "file_page", i + 1, "page", pageNo);
    const char *azKey[] = {"source", "dpi", "confidence", "skew", "blank"};
    for (size_t k = 0; k < sizeof azKey / sizeof azKey[0]; k++) {
        json_t *v = json_object_get(pPage, azKey[k]);
        if (v) json_object_set(s, azKey[k], v);
    }
    return s;
}

/* ---- the run ------------------------------------------------------------------------ */

typedef struct {
    size_t iFile;
    int index;   /* page index in the file; -1: probe */
    int pageNo;
} job_tag;

/* Was page pageNo of f read and sent in an earlier run?  The journal says
 * so, and indexd holds the page: a delivery folder copied with its journal,
 * or an archive restored from an older backup, would otherwise keep scans
 * out without a word.  indexd is asked once per item. */
static int page_sent(run *r, const oc_file *f, int pageNo, const char *zKey)
{
    if (!oc_journal_get(r->pJ, zKey)) return 0;
    json_t *pPages = json_object_get(r->pStored, f->zCode);
    if (!pPages) {
        qc_buf path;
        qc_answer a;
        char zErr[256];
        qc_buf_init(&path, 0);
        qc_answer_init(&a);
        int rc = qc_path_record(&path, f->zCode);
        if (rc == PS_OK) rc = qc_client_call(r->pC, "GET", qc_buf_str(&path), NULL, NULL, &a, zErr, sizeof zErr);
        json_t *p = rc == PS_OK ? json_object_get(a.pJson, "stored_pages") : NULL;
        /* not there (or not readable): the pages are sent again */
        pPages = json_is_array(p) ? json_deep_copy(p) : json_array();
        json_object_set_new(r->pStored, f->zCode, pPages);
        qc_answer_clear(&a);
        qc_buf_release(&path);
    }
    size_t i;
    json_t *v;
    json_array_foreach(pPages, i, v) if (json_integer_value(v) == pageNo) return 1;
    return 0;
}

/* Does the archive hold a catalogued record (not one waiting for its row)
 * with this 档号, which this delivery's catalog does not name?  Its scans
 * would change it without a word: they are held back.  Asked once per 档号. */
static int catalogued_elsewhere(run *r, const char *zCode)
{
    json_t *v = json_object_get(r->pOthers, zCode);
    if (v) return json_is_true(v);
    qc_buf path;
    qc_answer a;
    char zErr[256];
    qc_buf_init(&path, 0);
    qc_answer_init(&a);
    int rc = qc_path_record(&path, zCode);
    if (rc == PS_OK) rc = qc_client_call(r->pC, "GET", qc_buf_str(&path), NULL, NULL, &a, zErr, sizeof zErr);
    int yes = rc == PS_OK && json_is_object(a.pJson) && json_object_get(a.pJson, "code") &&
              !json_is_true(json_object_get(a.pJson, "unlinked"));
    json_object_set_new(r->pOthers, zCode, json_boolean(yes));
    qc_answer_clear(&a);
    qc_buf_release(&path);
    return yes;
}

static int next_job(run *r, size_t *piFile, int *piPage, json_t **ppJob, job_tag *t)
{
    char zKey[8400];
    for (; *piFile < r->d.n; (*piFile)++, *piPage = -1) {
        file_state *fs = &r->aF[*piFile];
        const oc_file *f = &r->d.a[*piFile];
        if (fs->failed || fs->held) continue;
        if (*piPage < 0) {
            *piPage = 0;
            if (fs->nPages < 0) {
                char zPath[8192];
                snprintf(zPath, sizeof zPath, "%s/%s", r->o->zFolder, f->zRel);
                *ppJob = json_pack("{s:s,s:s}", "op", "probe", "path", zPath);
                t->iFile = *piFile;
                t->index = -1;
                return 1;
            }
        }
        if (fs->nPages < 0) return 0; /* its probe is still running */
        while (*piPage < fs->nPages) {
            int i = (*piPage)++;
            file_key(zKey, sizeof zKey, "page", f, i);
            if (page_sent(r, f, fs->firstPage + i, zKey)) continue; /* read in an earlier run */
            char zPath[8192], zWeb[4200];
            snprintf(zPath, sizeof zPath, "%s/%s", r->o->zFolder, f->zRel);
            snprintf(zWeb, sizeof zWeb, "%s/page-%zu-%d.jpg", r->zTmp, *piFile, i);
            *ppJob = json_pack("{s:s,s:s,s:s,s:i,s:s}", "op", "page", "path", zPath, "kind", fs->zKind,
                               "index", i, "web", zWeb);
            t->iFile = *piFile;
            t->index = i;
            t->pageNo = fs->firstPage + i;
            return 1;
        }
    }
    return 0;
}

/* Page numbers: a file named with a page number starts there; the others
 * follow the item's pages so far.  Counts pages to do for the progress. */
static void number_pages(run *r)
{
    const char *zCode = NULL;
    int next = 1;
    r->nPages = r->nPagesDone = 0;
    for (size_t i = 0; i < r->d.n; i++) {
        const oc_file *f = &r->d.a[i];
        file_state *fs = &r->aF[i];
        if (!zCode || strcmp(zCode, f->zCode) != 0) {
            zCode = f->zCode;
            next = 1;
        }
        if (fs->nPages < 0 || fs->failed || fs->held) continue;
        if (f->page > 0 && f->page < next)
            /* 0001.jpg and 0001.png, or a page file after a whole-item file: kept, further on */
            problem(r, "page_conflicts", json_pack("{s:s,s:s,s:i,s:i}", "code", f->zCode, "file", f->zRel,
                                                   "named_page", f->page, "stored_as", next));
        if (f->page > next) {
            json_t *a = json_array();
            for (int k = next; k < f->page && k < next + 1000; k++) json_array_append_new(a, json_integer(k));
            problem(r, "missing_pages", json_pack("{s:s,s:s,s:o}", "code", f->zCode, "before_file", f->zRel, "pages", a));
        }
        fs->firstPage = f->page > 0 && f->page >= next ? f->page : next;
        next = fs->firstPage + fs->nPages;
        r->nPages += (size_t)fs->nPages;
        char zKey[8400];
        for (int k = 0; k < fs->nPages; k++) {
            file_key(zKey, sizeof zKey, "page", f, k);
            if (page_sent(r, f, fs->firstPage + k, zKey)) r->nPagesDone++;
        }
    }
}

static void on_answer(run *r, job_tag *t, json_t *a)
{
    const oc_file *f = &r->d.a[t->iFile];
    file_state *fs = &r->aF[t->iFile];
    char zKey[8400], zErr[512];
    int ok = json_is_true(json_object_get(a, "ok"));
    if (t->index < 0) {
        if (!ok) {
            fs->failed = 1;
            r->nErrors++;
            json_t *o = json_pack("{s:s,s:s,s:O,s:O}", "file", f->zRel, "code", f->zCode,
                                  "status", json_object_get(a, "status"), "reason", json_object_get(a, "error"));
            if (json_object_get(a, "mime")) json_object_set(o, "type", json_object_get(a, "mime"));
            problem(r, "unreadable_files", o);
            return;
        }
        snprintf(fs->zKind, sizeof fs->zKind, "%s", json_string_value(json_object_get(a, "kind")));
        fs->nPages = (int)json_integer_value(json_object_get(a, "pages"));
        file_key(zKey, sizeof zKey, "probe", f, -1);
        json_t *v = json_pack("{s:s,s:i}", "kind", fs->zKind, "pages", fs->nPages);
        oc_journal_put(r->pJ, zKey, v, zErr, sizeof zErr);
        json_decref(v);
        return;
    }
    if (!ok) {
        r->nErrors++;
        problem(r, "unreadable_files", json_pack("{s:s,s:s,s:i,s:O,s:O}", "file", f->zRel, "code", f->zCode,
                                                 "file_page", t->index + 1, "status", json_object_get(a, "status"),
                                                 "reason", json_object_get(a, "error")));
        r->nPagesDone++;
        return;
    }
    json_t *pPage = json_object_get(a, "page");
    json_object_set_new(pPage, "file", json_string(f->zRel));
    json_object_set_new(pPage, "file_page", json_integer(t->index + 1));
    char zWeb[4200];
    snprintf(zWeb, sizeof zWeb, "%s/page-%zu-%d.jpg", r->zTmp, t->iFile, t->index);
    int rc = send_page(r, f, t->pageNo, pPage, zWeb, zErr, sizeof zErr);
    if (rc != PS_OK) {
        r->nErrors++;
        problem(r, "send_failed", json_pack("{s:s,s:s,s:i,s:s}", "file", f->zRel, "code", f->zCode, "page",
                                            t->pageNo, "reason", zErr));
        if (rc == PS_NET) gStop = 2; /* the daemon is gone: stop, resume later */
        return;
    }
    json_t *s = page_summary(f, t->index, t->pageNo, pPage);
    file_key(zKey, sizeof zKey, "page", f, t->index);
    if (oc_journal_put(r->pJ, zKey, s, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        gStop = 2;
    }
    json_decref(s);
    r->nPagesDone++;
    r->nPagesRead++;
}

/* The report's lists from the journal and the delivery. */
static void build_report(run *r)
{
    const opts *o = r->o;
    json_t *pAll = oc_journal_all(r->pJ);
    json_t *pFound = json_object(); /* 档号 -> pages found */
    char zKey[8400];
    json_t *pHeldFiles = json_object(); /* 档号 -> files held back */
    for (size_t i = 0; i < r->d.n; i++) {
        const oc_file *f = &r->d.a[i];
        const file_state *fs = &r->aF[i];
        if (fs->held) {
            /* the archive's row and pages are kept: nothing of this file was sent */
            char zWhy[512];
            if (json_is_true(json_object_get(r->pOthers, f->zCode)))
                snprintf(zWhy, sizeof zWhy, "%s", "档案中已有此档号的目录条目，而本批目录未列此档号：保留档案中的著录和页面，"
                                                  "此扫描件未读取、未发送；确属此件时，请将其目录条目列入本批目录后重新运行");
            else if (json_object_get(r->pHeld, f->zCode))
                snprintf(zWhy, sizeof zWhy, "%s", "此档号的目录条目与档案中已有的著录冲突：保留档案中的著录和页面（文字和图像），"
                                                  "此扫描件未读取、未发送；确认以本批次为准时，请加 --replace 重新运行");
            else
                snprintf(zWhy, sizeof zWhy,
                         "目录冲突共 %lld 条，导入应答只列出 %zu 条，无法确定此档号是否在冲突之列：为免覆盖档案中的页面，"
                         "此扫描件未读取、未发送；请先处理冲突，或加 --replace 以本批次为准，再重新运行",
                         (long long)json_integer_value(json_object_get(r->pImport, "conflicts_count")),
                         json_array_size(json_object_get(r->pImport, "conflicts")));
            problem(r, "scans_held_back", json_pack("{s:s,s:s,s:s}", "file", f->zRel, "code", f->zCode, "reason", zWhy));
            json_object_set_new(pHeldFiles, f->zCode,
                                json_integer(json_integer_value(json_object_get(pHeldFiles, f->zCode)) + 1));
            continue;
        }
        if (!json_object_get(r->pCatalog, f->zCode))
            /* read all the same, and kept as a record waiting for its row */
            problem(r, "scans_without_catalog_row",
                    json_pack("{s:s,s:s,s:s}", "file", f->zRel, "code", f->zCode, "reason",
                              "目录中没有此档号：扫描件已读入，作为待挂接件保存，目录条目导入后自动挂接"));
        if (fs->nPages < 0 || fs->failed) continue;
        json_t *n = json_object_get(pFound, f->zCode);
        json_object_set_new(pFound, f->zCode, json_integer(json_integer_value(n) + fs->nPages));
        for (int k = 0; k < fs->nPages; k++) {
            file_key(zKey, sizeof zKey, "page", f, k);
            json_t *s = json_object_get(pAll, zKey);
            if (!s) continue;
            json_int_t dpi = json_integer_value(json_object_get(s, "dpi"));
            const char *zSrc = json_string_value(json_object_get(s, "source"));
            int scan = zSrc && strcmp(zSrc, "ocr") == 0;
            if (scan && dpi > 0 && dpi < o->minDpi) problem(r, "low_dpi", json_deep_copy(s));
            if (scan && dpi == 0) problem(r, "unknown_dpi", json_deep_copy(s));
            if (json_is_true(json_object_get(s, "blank"))) problem(r, "blank_pages", json_deep_copy(s));
            else if (scan && json_integer_value(json_object_get(s, "confidence")) < o->lowConf)
                problem(r, "low_confidence", json_deep_copy(s));
            if (scan && fabs(json_number_value(json_object_get(s, "skew"))) > o->maxSkew)
                problem(r, "skewed", json_deep_copy(s));
        }
    }
    const char *zCode;
    json_t *v;
    json_object_foreach(r->pCatalog, zCode, v) {
        json_t *n = json_object_get(pFound, zCode);
        if (!n) {
            int any = 0;
            for (size_t i = 0; i < r->d.n && !any; i++) any = strcmp(r->d.a[i].zCode, zCode) == 0;
            if (!any) problem(r, "catalog_rows_without_scans", json_pack("{s:s}", "code", zCode));
            continue;
        }
        if (json_is_integer(v) && json_integer_value(v) != json_integer_value(n))
            problem(r, "page_count_mismatch", json_pack("{s:s,s:O,s:O}", "code", zCode, "catalog_pages", v,
                                                        "scanned_pages", n));
    }
    /* each conflict says how many of its scans were held back */
    json_t *pConf;
    size_t iConf;
    json_array_foreach(json_object_get(r->pProblems, "catalog_conflicts"), iConf, pConf) {
        json_t *n = json_object_get(pHeldFiles, json_string_value(json_object_get(pConf, "code")));
        if (n) json_object_set(pConf, "scans_held", n);
    }
    json_decref(pHeldFiles);
    for (size_t i = 0; i < r->d.nStray; i++)
        problem(r, "unrecognised_files", json_pack("{s:s,s:s}", "file", r->d.azStray[i], "reason",
                                                   "文件名不是档号，也不是“档号-页号”或档号文件夹中的页号"));
    for (size_t i = 0; i < r->d.nAmbiguous; i++)
        problem(r, "unrecognised_files", json_pack("{s:s,s:s}", "file", r->d.aAmbiguous[i].zRel, "reason",
                                                   r->d.aAmbiguous[i].zReason));
    /* names read leniently, as the catalog import reads a 档号: read, and said so */
    for (size_t i = 0; i < r->d.nLenient; i++) {
        const oc_name_note *x = &r->d.aLenient[i];
        problem(r, "names_read_leniently", json_pack("{s:s,s:s,s:s,s:s,s:s}", "file", x->zRel, "written", x->zWritten,
                                                     "code", x->zCode, "rule", "code_form", "reason", x->zReason));
    }
    json_decref(pFound);
}

static const struct { const char *zKey, *zTitle; } aSection[] = {
    {"catalog_rejected", "目录中不合格、未导入的条目"},
    {"catalog_conflicts", "目录条目与档案中已有著录不同（保留原著录；加 --replace 则以目录条目替换）"},
    {"scans_held_back", "目录条目冲突、未发送的扫描件（保留档案中的著录和页面；加 --replace 则以本批次为准）"},
    {"scans_without_catalog_row", "扫描件无对应目录条目（已读入，待挂接）"},
    {"catalog_rows_without_scans", "目录条目无扫描件"},
    {"page_count_mismatch", "扫描页数与目录著录的页数不符"},
    {"missing_pages", "同一件的扫描件之间缺页（页号不连续）"},
    {"page_conflicts", "两个扫描件页号相同（后一个顺延存为后面的页）"},
    {"unreadable_files", "无法读取或不支持的文件"},
    {"unrecognised_files", "未按档号命名的文件"},
    {"names_read_leniently", "文件名中的档号写法不规范（已按规范档号读取）"},
    {"send_failed", "indexd 未接收的页"},
    {"low_dpi", "分辨率低于下限的页"},
    {"unknown_dpi", "文件未注明分辨率的页"},
    {"low_confidence", "识别可信度低的页"},
    {"blank_pages", "空白页"},
    {"skewed", "偏斜超过限度的页"},
};

/* What a person reads for each key of a problem (the JSON keeps the key). */
static const struct { const char *zKey, *zLabel; } aLabel[] = {
    {"code", "档号"},          {"file", "文件"},             {"file_page", "文件内页次"},
    {"page", "页号"},          {"status", "状态"},           {"reason", "说明"},
    {"type", "文件类型"},      {"named_page", "文件名中的页号"}, {"stored_as", "存为页号"},
    {"before_file", "位于此文件之前"}, {"pages", "缺页"},    {"catalog_pages", "目录页数"},
    {"scanned_pages", "扫描页数"}, {"source", "来源"},       {"dpi", "分辨率（dpi）"},
    {"confidence", "识别可信度"}, {"skew", "偏斜（度）"},    {"blank", "空白页"},
    {"line", "行"},            {"field", "字段"},            {"key", "字段代码"},
    {"rule", "规则"},          {"severity", "严重程度"},     {"written", "原文"},
    {"understood", "理解为"},  {"fields", "不同之处"},        {"scans_held", "未发送的扫描件（个）"},
};

static void print_json(FILE *out, const json_t *v)
{
    char *z = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    fputs(z ? z : "?", out);
    free(z);
}

/* A status name of the wire ("invalid") as a person reads it, said of a
 * file where the project's sentence (proto_strerror) reads otherwise;
 * NULL when it is no status name. */
static const char *status_cn(const char *zName)
{
    static const struct {
        int status;
        const char *zCn;
    } aFile[] = {{PS_INVALID, "无法读取"}, {PS_UNSUPPORTED, "不支持的文件类型"}, {PS_UNAVAILABLE, "读取超时"}};
    int s = proto_status_from_name(zName);
    if (!zName || strcmp(proto_status_name(s), zName) != 0) return NULL;
    for (size_t k = 0; k < sizeof aFile / sizeof aFile[0]; k++)
        if (aFile[k].status == s) return aFile[k].zCn;
    return proto_strerror(s);
}

/* The words of a code that the JSON keeps for programs (a finding's
 * severity, where a page's text came from); NULL when it is none of them. */
static const char *code_cn(const char *zKey, const char *z)
{
    static const struct {
        const char *zKey, *zCode, *zCn;
    } a[] = {
        {"severity", "error", "不规范"}, {"severity", "warning", "警告"}, {"severity", "note", "提示"},
        {"source", "ocr", "文字识别"}, {"source", "pdf-text", "PDF 文字层"}, {"source", "text", "文本文件"},
        {"source", "ofd", "OFD 文件"},
    };
    if (strcmp(zKey, "status") == 0) return status_cn(z);
    for (size_t k = 0; z && k < sizeof a / sizeof a[0]; k++)
        if (strcmp(a[k].zKey, zKey) == 0 && strcmp(a[k].zCode, z) == 0) return a[k].zCn;
    return NULL;
}

static void print_item(FILE *out, const json_t *o)
{
    const char *zKey;
    json_t *v;
    int first = 1;
    fputs("    ", out);
    json_object_foreach((json_t *)o, zKey, v) {
        const char *zLabel = zKey;
        /* codes for programs (the JSON keeps them): the reason and the
         * field's Chinese name say it for people */
        if ((strcmp(zKey, "rule") == 0 || strcmp(zKey, "key") == 0) && json_object_get(o, "reason")) continue;
        const char *zCn = json_is_string(v) ? code_cn(zKey, json_string_value(v)) : NULL;
        for (size_t k = 0; k < sizeof aLabel / sizeof aLabel[0]; k++)
            if (strcmp(aLabel[k].zKey, zKey) == 0) zLabel = aLabel[k].zLabel;
        fprintf(out, "%s%s：", first ? "" : "  ", zLabel);
        if (zCn) {
            fputs(zCn, out);
        } else if (json_is_real(v)) {
            fprintf(out, "%.2f", json_real_value(v));
        } else if (json_is_string(v)) {
            fputs(json_string_value(v), out);
        } else if (json_is_boolean(v)) {
            fputs(json_is_true(v) ? "是" : "否", out);
        } else if (json_is_array(v)) {
            /* page numbers as 2、3; a conflict's fields as 题名 "kept" → "offered" */
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (i) fputs(json_is_object(e) ? "；" : "、", out);
                if (json_is_object(e) && json_object_get(e, "field")) {
                    const json_t *pF = json_object_get(e, "field");
                    if (json_is_string(pF)) fputs(json_string_value(pF), out);
                    else print_json(out, pF);
                    fputs(" 档案中为 ", out);
                    print_json(out, json_object_get(e, "kept"));
                    fputs("，本批次为 ", out);
                    print_json(out, json_object_get(e, "offered"));
                } else {
                    print_json(out, e);
                }
            }
        } else {
            print_json(out, v);
        }
        first = 0;
    }
    fputc('\n', out);
}

static void print_report(const run *r, const json_t *pRep, FILE *out)
{
    /* notes (a 门类 by its name, spaces trimmed) were read as the rules say:
     * no irregular entries */
    long long nNotes = 0, nFind = json_integer_value(json_object_get(r->pImport, "findings_count"));
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(r->pImport, "findings"), i, x) {
        const char *zSev = json_string_value(json_object_get(x, "severity"));
        nNotes += zSev && strcmp(zSev, "note") == 0;
    }
    fprintf(out, "\n数字化成果导入报告：%s\n", r->o->zFolder);
    fprintf(out, "  目录：导入 %lld 条，替换 %lld 条，不合格未导入 %lld 条，冲突 %lld 条，著录不规范 %lld 处，"
                 "按规范读取（说明）%lld 处\n",
            (long long)json_integer_value(json_object_get(r->pImport, "imported")),
            (long long)json_integer_value(json_object_get(r->pImport, "replaced")),
            (long long)json_integer_value(json_object_get(r->pImport, "rejected_count")),
            (long long)json_integer_value(json_object_get(r->pImport, "conflicts_count")), nFind - nNotes, nNotes);
    fprintf(out, "  扫描件：%zu 个文件，对应 %zu 件；共 %zu 页，本次读取 %zu 页，出错 %zu 处\n", r->d.n, r->nItems,
            r->nPages, r->nPagesRead, r->nErrors);
    const json_t *pP = json_object_get(pRep, "problems");
    for (size_t s = 0; s < sizeof aSection / sizeof aSection[0]; s++) {
        const json_t *a = json_object_get(pP, aSection[s].zKey);
        if (!json_array_size(a)) continue;
        fprintf(out, "  %s：%zu\n", aSection[s].zTitle, json_array_size(a));
        size_t i;
        json_t *o;
        json_array_foreach((json_t *)a, i, o) {
            if (i == 20 && json_array_size(a) > 21) {
                fprintf(out, "    …… 另有 %zu 项，详见 JSON 报告\n", json_array_size(a) - 20);
                break;
            }
            print_item(out, o);
        }
    }
}

static int make_state_dir(opts *o, char *zBuf, size_t nBuf)
{
    if (!o->zState) {
        snprintf(zBuf, nBuf, "%s/.ingest", o->zFolder);
        if (mkdir(zBuf, 0750) != 0 && errno != EEXIST) {
            const char *zBase = strrchr(o->zFolder, '/');
            zBase = zBase && zBase[1] ? zBase + 1 : o->zFolder;
            mkdir("var", 0750);
            mkdir("var/ingest", 0750);
            snprintf(zBuf, nBuf, "var/ingest/%s", zBase);
        }
        o->zState = zBuf;
    }
    if (mkdir(o->zState, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "ingest: 无法创建断点记录文件夹 %s：%s\n", o->zState, proto_errno_cn(errno));
        return -1;
    }
    return 0;
}

static int parse_args(opts *o, int argc, char **argv)
{
    static const struct option aLong[] = {
        {"server", 1, 0, 's'}, {"catalog", 1, 0, 'c'}, {"workers", 1, 0, 'w'}, {"lang", 1, 0, 'l'},
        {"timeout", 1, 0, 't'}, {"mem-mb", 1, 0, 'm'}, {"max-mpixels", 1, 0, 'x'}, {"low-conf", 1, 0, 'C'},
        {"min-dpi", 1, 0, 'D'}, {"state", 1, 0, 'S'}, {"report", 1, 0, 'r'}, {"quiet", 0, 0, 'q'},
        {"delivery", 1, 0, 'n'}, {"replace", 0, 0, 'R'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    long nCpu = sysconf(_SC_NPROCESSORS_ONLN);
    oc_opts_default(&o->o);
    o->nWorker = nCpu > 0 ? (int)nCpu : 1;
    o->timeoutS = 180;
    o->memMb = 2048;
    o->lowConf = 60;
    o->minDpi = 200;
    o->maxSkew = 3.0;
    int c;
    while ((c = getopt_long(argc, argv, "", aLong, NULL)) != -1) {
        char *e = NULL;
        long v = optarg ? strtol(optarg, &e, 10) : 0;
        int bad = optarg && (e == optarg || *e);
        switch (c) {
        case 's': o->zServer = optarg; break;
        case 'c': o->zCatalog = optarg; break;
        case 'l': o->o.zLang = optarg; break;
        case 'S': o->zState = optarg; break;
        case 'r': o->zReport = optarg; break;
        case 'n': o->zDelivery = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'R': o->replace = 1; break;
        case 'w': if (bad || v < 1 || v > 64) goto bad; o->nWorker = (int)v; break;
        case 't': if (bad || v < 1 || v > 86400) goto bad; o->timeoutS = (int)v; break;
        case 'm': if (bad || v < 256 || v > 1 << 20) goto bad; o->memMb = v; break;
        case 'x': if (bad || v < 1 || v > 10000) goto bad; o->o.maxPixels = v * 1000000; break;
        case 'C': if (bad || v < 0 || v > 100) goto bad; o->lowConf = (int)v; break;
        case 'D': if (bad || v < 1 || v > 10000) goto bad; o->minDpi = (int)v; break;
        case 'h': fputs(zUsage, stdout); exit(EXIT_DONE);
        default: fputs(zUsage, stderr); return -1;
        }
        continue;
    bad:
        for (int k = 0; aLong[k].name; k++)
            if (aLong[k].val == c) fprintf(stderr, "ingest: --%s 的值“%s”超出范围或不是数字\n", aLong[k].name, optarg);
        return -1;
    }
    if (optind != argc - 1) {
        fputs(zUsage, stderr);
        return -1;
    }
    o->zFolder = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    /* Tesseract is linked with OpenMP, which reads OMP_THREAD_LIMIT when the
     * process starts; without it every page is 5-6 times slower.  Start
     * again with it set. */
    if (!getenv("OMP_THREAD_LIMIT")) {
        setenv("OMP_THREAD_LIMIT", "1", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "ingest: 警告：无法以 OMP_THREAD_LIMIT=1 重新启动（%s），文字识别会很慢\n",
                proto_errno_cn(errno));
    }
    opts o;
    memset(&o, 0, sizeof o);
    if (parse_args(&o, argc, argv) != 0) return EXIT_USAGE;
    struct stat st;
    if (stat(o.zFolder, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ingest: %s 不是文件夹\n", o.zFolder);
        return EXIT_USAGE;
    }
    char *zAbs = realpath(o.zFolder, NULL); /* the readers need whole paths */
    if (!zAbs) {
        fprintf(stderr, "ingest: %s：%s\n", o.zFolder, proto_errno_cn(errno));
        return EXIT_USAGE;
    }
    o.zFolder = zAbs;
    char zErr[1024], zServer[2048], zStateBuf[4096], zPath[8192];
    qc_args qa;
    memset(&qa, 0, sizeof qa);
    qa.zServer = o.zServer;
    if (qc_args_server(&qa, getenv("INDEXD_URL"), zServer, sizeof zServer, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        return EXIT_USAGE;
    }
    if (make_state_dir(&o, zStateBuf, sizeof zStateBuf) != 0) return EXIT_ERROR;

    run r;
    int exitCode = EXIT_DONE;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.tty = isatty(STDERR_FILENO);
    r.pCatalog = json_object();
    r.pHeld = json_object();
    r.pOthers = json_object();
    r.pStored = json_object();
    r.pProblems = json_object();
    int rc = oc_delivery_scan(o.zFolder, &r.d, zErr, sizeof zErr);
    if (rc != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        exitCode = EXIT_ERROR;
        goto done;
    }
    const char *zCatalog = o.zCatalog;
    if (!zCatalog && r.d.nCatalog > 1) {
        fprintf(stderr, "ingest: %s 中有 %zu 个目录文件（%s、%s 等）；请用 --catalog 指定其中一个\n", o.zFolder,
                r.d.nCatalog, r.d.azCatalog[0], r.d.azCatalog[1]);
        exitCode = EXIT_USAGE;
        goto done;
    }
    if (!zCatalog && r.d.nCatalog == 0) {
        fprintf(stderr, "ingest: %s 中没有目录文件（第一行含“档号”列名的 CSV 文件）；请用 --catalog 指定\n",
                o.zFolder);
        exitCode = EXIT_USAGE;
        goto done;
    }
    if (!zCatalog) {
        snprintf(zPath, sizeof zPath, "%s/%s", o.zFolder, r.d.azCatalog[0]);
        zCatalog = zPath;
    }
    r.aF = px_calloc(r.d.n + 1, sizeof *r.aF);
    if (!r.aF) {
        exitCode = EXIT_ERROR;
        goto done;
    }
    snprintf(r.zTmp, sizeof r.zTmp, "%s/tmp", o.zState);
    mkdir(r.zTmp, 0750);
    char zJournal[4200], zLog[4200];
    snprintf(zJournal, sizeof zJournal, "%s/journal.ndjson", o.zState);
    snprintf(zLog, sizeof zLog, "%s/readers.log", o.zState);
    if (oc_journal_open(zJournal, &r.pJ, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        exitCode = EXIT_ERROR;
        goto done;
    }
    /* Files probed in an earlier run keep their answer while unchanged. */
    for (size_t i = 0; i < r.d.n; i++) {
        char zKey[8400];
        r.aF[i].nPages = -1;
        file_key(zKey, sizeof zKey, "probe", &r.d.a[i], -1);
        json_t *v = oc_journal_get(r.pJ, zKey);
        if (v) {
            snprintf(r.aF[i].zKind, sizeof r.aF[i].zKind, "%s", json_string_value(json_object_get(v, "kind")));
            r.aF[i].nPages = (int)json_integer_value(json_object_get(v, "pages"));
        }
    }
    /* Workers first: fork before libcurl starts anything. */
    oc_pool_opts po = {o.nWorker, o.memMb, o.timeoutS, zLog, o.o};
    if (oc_pool_new(&po, &r.pPool, zErr, sizeof zErr) != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        exitCode = EXIT_ERROR;
        goto done;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || qc_client_new(zServer, &r.pC) != PS_OK) {
        fprintf(stderr, "ingest: 无法启动 HTTP 客户端\n");
        exitCode = EXIT_ERROR;
        goto done;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    delivery_name(&o, r.zName, sizeof r.zName);
    if ((rc = import_catalog(&r, zCatalog, zErr, sizeof zErr)) != PS_OK) {
        fprintf(stderr, "ingest: %s\n", zErr);
        if (rc == PS_FORBIDDEN)
            /* importing is an archivist's or an admin's (proto/README.md, Roles) */
            fputs("ingest: 数字化成果（目录和扫描件）须用档案员或管理员的令牌导入：请档案员或管理员在服务器上用"
                  " indexd users token 用户名 为自己生成令牌，设为 INDEXD_TOKEN 后运行 ingest"
                  "（数字化厂商的账号可查看数字化率报告和验收报告）\n",
                  stderr);
        exitCode = EXIT_ERROR;
        goto done;
    }
    const char *zPrev = NULL;
    size_t nUnlinked = 0, nHeld = 0;
    for (size_t i = 0; i < r.d.n; i++) {
        const char *zC = r.d.a[i].zCode;
        int inCatalog = json_object_get(r.pCatalog, zC) != NULL;
        /* a conflicting row keeps the archive's pages: its scans wait for
         * --replace; so do those of a 档号 that may be an unlisted conflict */
        r.aF[i].held = json_object_get(r.pHeld, zC) != NULL || (r.conflictsCut && !inCatalog) ||
                       (!inCatalog && catalogued_elsewhere(&r, zC));
        if (!zPrev || strcmp(zPrev, zC) != 0) {
            r.nItems++;
            if (r.aF[i].held) nHeld++;
            else nUnlinked += !inCatalog;
        }
        zPrev = zC;
    }
    r.t0 = r.tLast = now_s();
    if (!o.quiet) {
        fprintf(stderr, "ingest: %s：扫描件 %zu 个文件，共 %zu 件", o.zFolder, r.d.n, r.nItems);
        if (nUnlinked || nHeld) fputs("（其中 ", stderr);
        if (nUnlinked) fprintf(stderr, "%zu 件目录中没有，读入后作为待挂接件保存", nUnlinked);
        if (nUnlinked && nHeld) fputs("；", stderr);
        if (nHeld) fprintf(stderr, "%zu 件的目录条目与档案中的著录冲突，扫描件不发送", nHeld);
        if (nUnlinked || nHeld) fputs("）", stderr);
        fprintf(stderr, "；识别进程 %d 个，识别语言 %s\n", o.nWorker, o.o.zLang);
    }

    /* Two passes: what every file is (quick), then every page. */
    for (int pass = 0; pass < 2 && !gStop; pass++) {
        size_t iFile = 0, doneCursor = 0;
        int iPage = -1;
        int more = 1;
        if (pass == 1) number_pages(&r);
        while (!gStop) {
            while (more && oc_pool_has_idle(r.pPool)) {
                json_t *pJob = NULL;
                job_tag *t = px_calloc(1, sizeof *t);
                if (!t) break;
                if (pass == 0) {
                    /* probes only */
                    while (iFile < r.d.n && (r.aF[iFile].nPages >= 0 || r.aF[iFile].held)) iFile++;
                    if (iFile < r.d.n) {
                        snprintf(zPath, sizeof zPath, "%s/%s", o.zFolder, r.d.a[iFile].zRel);
                        pJob = json_pack("{s:s,s:s}", "op", "probe", "path", zPath);
                        t->iFile = iFile++;
                        t->index = -1;
                    }
                } else if (!next_job(&r, &iFile, &iPage, &pJob, t)) {
                    pJob = NULL;
                }
                if (!pJob) {
                    px_free(t);
                    more = 0;
                    break;
                }
                rc = oc_pool_submit(r.pPool, pJob, t, zErr, sizeof zErr);
                json_decref(pJob);
                if (rc != PS_OK) {
                    px_free(t);
                    fprintf(stderr, "ingest: %s\n", zErr);
                    gStop = 2;
                    break;
                }
            }
            if (!more && oc_pool_busy(r.pPool) == 0) {
                if (pass == 1) r.nItemsDone = r.nItems; /* every file given out and answered */
                break;
            }
            void *pTag = NULL;
            json_t *a = NULL;
            rc = oc_pool_wait(r.pPool, 500, &pTag, &a, zErr, sizeof zErr);
            if (rc == 1) {
                on_answer(&r, pTag, a);
                json_decref(a);
                px_free(pTag);
                /* Items whose files have all been given out. */
                while (pass == 1 && doneCursor < iFile && doneCursor < r.d.n) {
                    const char *zC = r.d.a[doneCursor].zCode;
                    if (doneCursor + 1 == r.d.n || strcmp(zC, r.d.a[doneCursor + 1].zCode) != 0)
                        r.nItemsDone++;
                    doneCursor++;
                }
                progress(&r, 0);
            } else if (rc != 0) {
                fprintf(stderr, "\ningest: %s\n", zErr);
                px_free(pTag);
                exitCode = EXIT_ERROR;
                gStop = 2;
            } else {
                progress(&r, 0);
            }
        }
    }
    if (!o.quiet) {
        progress(&r, 1);
        if (r.tty) fputc('\n', stderr);
    }
    if (gStop) {
        fprintf(stderr, "ingest: 已停止；已完成 %zu / %zu 页。再次运行同一命令即可接着导入。\n",
                r.nPagesDone, r.nPages);
        if (exitCode == EXIT_DONE) exitCode = EXIT_STOPPED;
        goto done;
    }
    build_report(&r);
    double mins = (now_s() - r.t0) / 60.0;
    json_t *pRep = json_pack("{s:s,s:O,s:{s:I,s:I,s:I,s:I,s:I,s:f,s:i,s:s},s:O}", "folder", o.zFolder, "catalog",
                             r.pImport ? r.pImport : json_null(), "scans", "files", (json_int_t)r.d.n, "items",
                             (json_int_t)r.nItems, "pages", (json_int_t)r.nPages, "pages_read_now",
                             (json_int_t)r.nPagesRead, "errors", (json_int_t)r.nErrors, "pages_per_minute",
                             mins > 0 ? r.nPagesRead / mins : 0.0, "workers", o.nWorker, "lang", o.o.zLang,
                             "problems", r.pProblems);
    print_report(&r, pRep, stdout);
    /* indexd keeps the account: the acceptance report (DA/T 31) is made from it */
    {
        const char *zName = r.zName;
        qc_buf path;
        qc_answer a;
        qc_buf_init(&path, 0);
        qc_answer_init(&a);
        qc_buf_adds(&path, "/api/v1/deliveries/");
        qc_path_escape(&path, zName);
        char *zJson = json_dumps(pRep, JSON_COMPACT);
        FILE *fb = zJson ? fmemopen(zJson, strlen(zJson), "rb") : NULL;
        if (!fb || qc_client_call(r.pC, "PUT", qc_buf_str(&path), "application/json", fb, &a, zErr, sizeof zErr) != PS_OK) {
            fprintf(stderr, "ingest: indexd 未能保存本批次的交付记录：%s\n", fb ? zErr : "内存不足");
            exitCode = EXIT_ERROR;
        } else {
            printf("  验收报告：%s/api/v1/reports/acceptance?delivery=", zServer);
            for (const unsigned char *q = (const unsigned char *)zName; *q; q++)
                printf(*q < 0x80 ? "%c" : "%%%02X", *q);
            printf("&format=html\n");
        }
        if (fb) fclose(fb);
        free(zJson);
        qc_answer_clear(&a);
        qc_buf_release(&path);
    }
    char zRepPath[4200];
    snprintf(zRepPath, sizeof zRepPath, "%s/report.json", o.zState);
    for (int k = 0; k < 2; k++) {
        const char *zOut = k == 0 ? zRepPath : o.zReport;
        if (!zOut) continue;
        if (json_dump_file(pRep, zOut, JSON_INDENT(1)) != 0) {
            fprintf(stderr, "ingest: 无法写入报告 %s\n", zOut);
            exitCode = EXIT_ERROR;
        } else {
            printf("  报告（JSON）：%s\n", zOut);
        }
    }
    /* read errors, catalog rows that name no item (the vendor must mend
     * them), and catalog rows that differ from the archive's (a person must
     * decide; their scans were held back) are problems */
    if (exitCode == EXIT_DONE && (r.nErrors || json_integer_value(json_object_get(r.pImport, "rejected_count")) ||
                                  json_integer_value(json_object_get(r.pImport, "conflicts_count")) ||
                                  json_array_size(json_object_get(r.pProblems, "scans_held_back"))))
        exitCode = EXIT_PROBLEMS;
    json_decref(pRep);
done:
    oc_pool_free(r.pPool);
    qc_client_free(r.pC);
    curl_global_cleanup();
    oc_journal_close(r.pJ);
    px_free(r.aF);
    oc_delivery_clear(&r.d);
    json_decref(r.pCatalog);
    json_decref(r.pStored);
    json_decref(r.pHeld);
    json_decref(r.pOthers);
    json_decref(r.pProblems);
    json_decref(r.pImport);
    rmdir(r.zTmp);
    free(zAbs);
    return exitCode;
}
