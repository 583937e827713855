/* query: the command-line client of indexd for archivists, evaluators and
 * vendors.  Parses the command line, makes one HTTP call, prints the answer
 * for people (or the daemon's JSON with --json) and chooses the exit status.
 * Everything else lives in the qc_* modules, which never print. */
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_status.h"
#include "qc_args.h"
#include "qc_buf.h"
#include "qc_client.h"
#include "qc_format.h"
#include "qc_path.h"
#include "qc_text.h"
#include "qc_timed.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    EXIT_DONE = 0,
    EXIT_ERROR = 1,    /* the daemon refused, cannot be reached, or answered nonsense */
    EXIT_USAGE = 2,    /* the command line is wrong */
    EXIT_REJECTED = 3, /* import: some rows were rejected or conflict with the archive's */
};

#define SERVER_MAX 2048

/* Snippet hits in bold on a terminal, in 【】 when piped (or NO_COLOR, or a
 * dumb terminal). */
static int mark_style(void)
{
    const char *zTerm = getenv("TERM"), *zNoColor = getenv("NO_COLOR");
    if (!isatty(STDOUT_FILENO)) return QC_MARK_BRACKETS;
    if ((zNoColor && *zNoColor) || (zTerm && strcmp(zTerm, "dumb") == 0)) return QC_MARK_BRACKETS;
    return QC_MARK_ANSI;
}

static int write_out(const char *z, size_t n)
{
    if ((n && fwrite(z, 1, n, stdout) != n) || fflush(stdout) != 0) {
        fprintf(stderr, "query: 无法写出结果：%s\n", proto_errno_cn(errno));
        return EXIT_ERROR;
    }
    return EXIT_DONE;
}

/* The Chinese name of a report, for messages. */
static const char *report_cn(const char *zName)
{
    static const char *const az[][2] = {{"coverage", "数字化率报告"}, {"catalog", "目录检查报告"}, {"ledger", "统计台账"},
                                        {"acceptance", "验收报告"}, {"register", "利用登记簿"}};
    for (size_t i = 0; i < sizeof az / sizeof az[0]; i++)
        if (strcmp(zName, az[i][0]) == 0) return az[i][1];
    return zName;
}

/* Open the body file of import or put-page; "-" is stdin. */
static FILE *open_body(const char *zPath)
{
    if (strcmp(zPath, "-") == 0) return stdin;
    FILE *f = fopen(zPath, "rb");
    if (!f) fprintf(stderr, "query: 无法打开 %s：%s\n", zPath, proto_errno_cn(errno));
    return f;
}

static int run(const qc_args *a, const char *zServer)
{
    qc_client *pClient = NULL;
    qc_answer ans;
    qc_buf path, out;
    FILE *pBody = NULL;
    const char *zMethod = "GET", *zType = NULL;
    char zErr[1024];
    long long nRejected = 0;
    int rc, ex = EXIT_ERROR;

    qc_answer_init(&ans);
    qc_buf_init(&path, 0);
    qc_buf_init(&out, 0);
    zErr[0] = 0;
    switch (a->cmd) {
    case QC_CMD_SEARCH: qc_path_search(&path, a); break;
    case QC_CMD_GET: qc_path_record(&path, a->azPos[0]); break;
    case QC_CMD_PAGE: qc_path_page(&path, a->azPos[0], a->azPos[1]); break;
    case QC_CMD_HEALTH: qc_buf_adds(&path, "/healthz"); break;
    case QC_CMD_IMPORT:
        qc_buf_adds(&path, a->replace ? "/api/v1/catalog?replace=1&name=" : "/api/v1/catalog?name=");
        {   /* the file's name, for each record's history ('-': 标准输入) */
            const char *zF = a->azPos[0], *zSlash = strrchr(zF, '/');
            qc_path_escape(&path, strcmp(zF, "-") == 0 ? "标准输入" : zSlash ? zSlash + 1 : zF);
        }
        zMethod = "POST";
        zType = "text/csv; charset=utf-8";
        if (!(pBody = open_body(a->azPos[0]))) goto out;
        break;
    case QC_CMD_PUT_PAGE:
        qc_path_page(&path, a->azPos[0], a->azPos[1]);
        zMethod = "PUT";
        zType = "text/plain; charset=utf-8";
        if (!(pBody = open_body(a->azPos[2]))) goto out;
        break;
    case QC_CMD_REPORT: qc_path_report(&path, a); break;
    case QC_CMD_TIMED: {
        int passed = 0;
        if ((rc = qc_client_new(zServer, &pClient)) != PS_OK) {
            fprintf(stderr, "query: %s\n", proto_strerror(rc));
            goto out;
        }
        rc = qc_timed_run(pClient, a, stdin, stdout, &passed, zErr, sizeof zErr);
        if (rc != PS_OK) {
            fprintf(stderr, "query: %s\n", zErr);
            goto out;
        }
        ex = passed ? EXIT_DONE : EXIT_REJECTED;
        goto out;
    }
    case QC_CMD_NONE: break;
    }
    if (path.rc != PS_OK) {
        fprintf(stderr, "query: %s\n", proto_strerror(path.rc));
        goto out;
    }
    if ((rc = qc_client_new(zServer, &pClient)) != PS_OK) {
        fprintf(stderr, "query: %s\n", proto_strerror(rc));
        goto out;
    }
    rc = qc_client_call(pClient, zMethod, qc_buf_str(&path), zType, pBody, &ans, zErr, sizeof zErr);
    if (a->cmd == QC_CMD_REPORT && a->zFormat && rc == PS_INVALID && ans.http == 200) {
        /* CSV or HTML: the daemon's bytes, to the file or standard output */
        FILE *f = a->zOut ? fopen(a->zOut, "wb") : stdout;
        if (!f) {
            fprintf(stderr, "query: 无法写入 %s：%s\n", a->zOut, proto_errno_cn(errno));
            goto out;
        }
        int ok = fwrite(ans.body.z, 1, ans.body.n, f) == ans.body.n;
        ok = (f == stdout ? fflush(f) : fclose(f)) == 0 && ok;
        if (!ok) {
            fprintf(stderr, "query: 无法写入 %s：%s\n", a->zOut ? a->zOut : "标准输出", proto_errno_cn(errno));
            goto out;
        }
        if (a->zOut) fprintf(stderr, "query: %s已写入 %s\n", report_cn(a->azPos[0]), a->zOut);
        ex = EXIT_DONE;
        goto out;
    }
    if (rc != PS_OK) {
        fprintf(stderr, "query: %s\n", zErr);
        goto out;
    }

    switch (a->cmd) {
    case QC_CMD_SEARCH: rc = qc_format_search(&out, ans.pJson, mark_style(), zErr, sizeof zErr); break;
    case QC_CMD_GET: rc = qc_format_record(&out, ans.pJson, zErr, sizeof zErr); break;
    case QC_CMD_IMPORT: rc = qc_format_import(&out, ans.pJson, &nRejected, zErr, sizeof zErr); break;
    case QC_CMD_PAGE: rc = qc_format_page(&out, ans.pJson, isatty(STDOUT_FILENO), zErr, sizeof zErr); break;
    case QC_CMD_PUT_PAGE: rc = qc_format_page_stored(&out, ans.pJson, zErr, sizeof zErr); break;
    case QC_CMD_HEALTH: rc = qc_format_health(&out, ans.pJson, zServer, zErr, sizeof zErr); break;
    case QC_CMD_REPORT: rc = qc_format_report(&out, a->azPos[0], ans.pJson, zErr, sizeof zErr); break;
    case QC_CMD_TIMED: rc = PS_INTERNAL; break;
    case QC_CMD_NONE: rc = PS_INTERNAL; break;
    }
    if (rc != PS_OK && rc != PS_INVALID) snprintf(zErr, sizeof zErr, "%s", proto_strerror(rc));
    if (a->json) {
        /* The daemon's own bytes; it was checked to be a JSON object. */
        if ((ex = write_out(ans.body.z, ans.body.n)) == EXIT_DONE && ans.body.n && ans.body.z[ans.body.n - 1] != '\n')
            ex = write_out("\n", 1);
        if (ex != EXIT_DONE) goto out;
        if (a->cmd == QC_CMD_IMPORT && rc == PS_INVALID) {
            fprintf(stderr, "query: %s\n", zErr);
            ex = EXIT_ERROR;
            goto out;
        }
    } else {
        if (rc != PS_OK) {
            fprintf(stderr, "query: %s\n", zErr);
            goto out;
        }
        if ((ex = write_out(out.z, out.n)) != EXIT_DONE) goto out;
    }
    ex = a->cmd == QC_CMD_IMPORT && nRejected > 0 ? EXIT_REJECTED : EXIT_DONE;
out:
    if (pBody && pBody != stdin) fclose(pBody);
    qc_client_free(pClient);
    qc_answer_clear(&ans);
    qc_buf_release(&path);
    qc_buf_release(&out);
    return ex;
}

int main(int argc, char **argv)
{
    qc_args args;
    char zErr[512], zServer[SERVER_MAX];
    int ex;

    px_install_json_allocator();
    int rc = qc_args_parse(&args, argc, argv, zErr, sizeof zErr);
    if (rc == PS_OK && args.help) {
        fputs(qc_args_usage(), stdout);
        ex = EXIT_DONE;
        goto out;
    }
    if (rc == PS_OK) rc = qc_args_server(&args, getenv("INDEXD_URL"), zServer, sizeof zServer, zErr, sizeof zErr);
    if (rc == PS_NOMEM) {
        fprintf(stderr, "query: 内存不足\n");
        ex = EXIT_ERROR;
        goto out;
    }
    if (rc != PS_OK) {
        fprintf(stderr, "query: %s\n\n%s", zErr, qc_args_usage());
        ex = EXIT_USAGE;
        goto out;
    }
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, px_malloc, px_free, px_realloc, px_strdup, px_calloc) != CURLE_OK) {
        fprintf(stderr, "query: libcurl 无法启动\n");
        ex = EXIT_ERROR;
        goto out;
    }
    ex = run(&args, zServer);
    curl_global_cleanup();
out:
    qc_args_clear(&args);
    return ex;
}
