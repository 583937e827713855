/* Worker processes: fork, pipes, poll, kill, replace. */
#define _GNU_SOURCE /* close_range */
#include "oc_pool.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_status.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_MAX (64u << 20) /* bytes of one answer line */

/* AddressSanitizer reserves terabytes of address space: no limit under it
 * (the pixel limit still refuses decompression bombs before decoding). */
#if defined(__SANITIZE_ADDRESS__)
#define AS_LIMIT 0
#else
#define AS_LIMIT 1
#endif

typedef struct {
    pid_t pid;
    int fdIn, fdOut; /* to the worker, from the worker */
    int busy;
    void *pTag;
    double deadline;
    char *zBuf;
    size_t nBuf, nAlloc;
    char *zJob;      /* the job's description, for messages */
} worker;

struct oc_pool {
    oc_pool_opts o;
    worker *a;
    int n;
    char zFatal[512];
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int spawn(oc_pool *p, worker *w, char *zErr, size_t nErr)
{
    int aIn[2], aOut[2];
    if (pipe2(aIn, O_CLOEXEC) != 0) goto fail;
    if (pipe2(aOut, O_CLOEXEC) != 0) {
        close(aIn[0]);
        close(aIn[1]);
        goto fail;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(aIn[0]), close(aIn[1]), close(aOut[0]), close(aOut[1]);
        goto fail;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_IGN); /* Ctrl-C is for the parent to handle */
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* and a parent killed with -9 takes its readers along */
        if (getppid() == 1) _exit(1);
        signal(SIGPIPE, SIG_DFL);
        dup2(aIn[0], 0);
        dup2(aOut[1], 1);
        int fdLog = open(p->o.zLog ? p->o.zLog : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0640);
        if (fdLog >= 0) dup2(fdLog, 2);
        close_range(3, ~0U, 0);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)p->o.memMb << 20;
        if (p->o.memMb > 0 && AS_LIMIT) setrlimit(RLIMIT_AS, &rl);
        rl.rlim_cur = rl.rlim_max = 0;
        setrlimit(RLIMIT_CORE, &rl);
        _exit(oc_worker_main(&p->o.o, 0, 1));
    }
    close(aIn[0]);
    close(aOut[1]);
    w->pid = pid;
    w->fdIn = aIn[1];
    w->fdOut = aOut[0];
    w->busy = 0;
    w->nBuf = 0;
    return PS_OK;
fail:
    snprintf(zErr, nErr, "无法启动识别进程：%s", proto_errno_cn(errno));
    return PS_INTERNAL;
}

/* Kill w and reap it; returns a sentence on how it ended. */
static void reap(worker *w, int kill9, char *zWhy, size_t nWhy)
{
    int st = 0;
    if (w->pid <= 0) return;
    if (kill9) kill(w->pid, SIGKILL);
    close(w->fdIn);
    close(w->fdOut);
    while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR) {
    }
    w->pid = 0;
    if (!zWhy) return;
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        const char *zSig = sigabbrev_np(sig);
        snprintf(zWhy, nWhy, "%s（信号 %d，SIG%s）",
                 sig == SIGABRT ? "识别进程中止，通常是内存不足" :
                 sig == SIGSEGV || sig == SIGBUS ? "识别进程读取此文件时崩溃" :
                 sig == SIGXCPU ? "识别进程用尽了 CPU 时间" : "识别进程被终止",
                 sig, zSig ? zSig : "?");
    } else {
        snprintf(zWhy, nWhy, "识别进程意外退出，退出状态 %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
}

int oc_pool_new(const oc_pool_opts *o, oc_pool **ppOut, char *zErr, size_t nErr)
{
    oc_pool *p = px_calloc(1, sizeof *p);
    if (!p) return PS_NOMEM;
    p->o = *o;
    p->n = o->nWorker > 0 ? o->nWorker : 1;
    p->a = px_calloc((size_t)p->n, sizeof *p->a);
    if (!p->a) {
        px_free(p);
        return PS_NOMEM;
    }
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < p->n; i++) {
        int rc = spawn(p, &p->a[i], zErr, nErr);
        if (rc != PS_OK) {
            oc_pool_free(p);
            return rc;
        }
    }
    *ppOut = p;
    return PS_OK;
}

void oc_pool_free(oc_pool *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) {
        reap(&p->a[i], 1, NULL, 0);
        px_free(p->a[i].zBuf);
        px_free(p->a[i].zJob);
    }
    px_free(p->a);
    px_free(p);
}

int oc_pool_has_idle(const oc_pool *p)
{
    for (int i = 0; i < p->n; i++)
        if (!p->a[i].busy) return 1;
    return 0;
}

int oc_pool_busy(const oc_pool *p)
{
    int n = 0;
    for (int i = 0; i < p->n; i++) n += p->a[i].busy;
    return n;
}

int oc_pool_submit(oc_pool *p, const json_t *pJob, void *pTag, char *zErr, size_t nErr)
{
    worker *w = NULL;
    for (int i = 0; i < p->n && !w; i++)
        if (!p->a[i].busy) w = &p->a[i];
    if (!w) {
        snprintf(zErr, nErr, "没有空闲的识别进程");
        return PS_INTERNAL;
    }
    if (w->pid <= 0) {
        int rc = spawn(p, w, zErr, nErr);
        if (rc != PS_OK) return rc;
    }
    char *z = json_dumps(pJob, JSON_COMPACT);
    if (!z) return PS_NOMEM;
    size_t n = strlen(z), off = 0;
    z[n] = '\n'; /* the NUL becomes the line end */
    int ok = 1;
    while (off < n + 1 && ok) {
        ssize_t k = write(w->fdIn, z + off, n + 1 - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) ok = 0;
        else off += (size_t)k;
    }
    free(z);
    w->busy = 1;
    w->pTag = pTag;
    w->nBuf = 0;
    w->deadline = now_s() + (p->o.timeoutS > 0 ? p->o.timeoutS : 3600);
    /* A worker that could not take the job has died: what it wrote before
     * (a fatal line saying why it could not start) is still to be read, and
     * the wait reads it, or the end of its output, at once. */
    if (!ok) w->deadline = now_s() + 5;
    return PS_OK;
}

static json_t *failure(const char *zStatus, const char *zWhy)
{
    return json_pack("{s:b,s:s,s:s}", "ok", 0, "status", zStatus, "error", zWhy);
}

int oc_pool_wait(oc_pool *p, int waitMs, void **ppTag, json_t **ppAnswer, char *zErr, size_t nErr)
{
    struct pollfd aFd[64];
    int aIdx[64];
    double tEnd = now_s() + waitMs / 1000.0;
    for (;;) {
        int nFd = 0;
        double tNext = tEnd;
        for (int i = 0; i < p->n && nFd < 64; i++) {
            worker *w = &p->a[i];
            if (!w->busy) continue;
            if (now_s() >= w->deadline) {
                char zWhy[512];
                int timedOut = w->deadline > 0;
                reap(w, 1, zWhy, sizeof zWhy);
                if (timedOut) snprintf(zWhy, sizeof zWhy, "读取超过 %d 秒，已中止", p->o.timeoutS);
                w->busy = 0;
                *ppTag = w->pTag;
                *ppAnswer = failure(timedOut ? "unavailable" : "invalid", zWhy);
                return *ppAnswer ? 1 : PS_NOMEM;
            }
            if (w->deadline < tNext) tNext = w->deadline;
            aFd[nFd].fd = w->fdOut;
            aFd[nFd].events = POLLIN;
            aFd[nFd].revents = 0;
            aIdx[nFd++] = i;
        }
        if (nFd == 0) return 0;
        double tLeft = tNext - now_s();
        int ms = tLeft <= 0 ? 0 : (int)(tLeft * 1000) + 1;
        int r = poll(aFd, (nfds_t)nFd, ms);
        if (r < 0 && errno != EINTR) {
            snprintf(zErr, nErr, "等待识别进程时出错（poll）：%s", proto_errno_cn(errno));
            return PS_INTERNAL;
        }
        for (int k = 0; k < nFd && r > 0; k++) {
            if (!aFd[k].revents) continue;
            worker *w = &p->a[aIdx[k]];
            if (w->nBuf + 65536 + 1 > w->nAlloc) {
                size_t nNew = w->nAlloc ? w->nAlloc * 2 : 131072;
                char *z = nNew <= ANSWER_MAX ? px_realloc(w->zBuf, nNew) : NULL;
                if (!z) {
                    reap(w, 1, NULL, 0);
                    w->busy = 0;
                    *ppTag = w->pTag;
                    *ppAnswer = failure("too_big", "识别进程返回的此文件结果过大");
                    return *ppAnswer ? 1 : PS_NOMEM;
                }
                w->zBuf = z;
                w->nAlloc = nNew;
            }
            ssize_t got = read(w->fdOut, w->zBuf + w->nBuf, 65536);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                char zWhy[512];
                reap(w, 0, zWhy, sizeof zWhy);
                w->busy = 0;
                *ppTag = w->pTag;
                if (strncmp(p->zFatal, "", 1) != 0) {
                    snprintf(zErr, nErr, "%s", p->zFatal);
                    return PS_INTERNAL;
                }
                *ppAnswer = failure("invalid", zWhy);
                return *ppAnswer ? 1 : PS_NOMEM;
            }
            w->nBuf += (size_t)got;
            char *zEol = memchr(w->zBuf, '\n', w->nBuf);
            if (!zEol) continue;
            json_error_t je;
            json_t *a = json_loadb(w->zBuf, (size_t)(zEol - w->zBuf), 0, &je);
            w->busy = 0;
            w->nBuf = 0;
            *ppTag = w->pTag;
            if (a && json_is_string(json_object_get(a, "fatal"))) {
                snprintf(zErr, nErr, "%s", json_string_value(json_object_get(a, "fatal")));
                snprintf(p->zFatal, sizeof p->zFatal, "%s", zErr);
                json_decref(a);
                reap(w, 1, NULL, 0);
                return PS_INTERNAL;
            }
            if (!a) a = failure("internal", "识别进程返回的结果不是 JSON");
            *ppAnswer = a;
            return a ? 1 : PS_NOMEM;
        }
        if (now_s() >= tEnd) return 0;
    }
}

/* ---- the worker ----------------------------------------------------------- */

static int answer(int fd, json_t *a)
{
    char *z = a ? json_dumps(a, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    json_decref(a);
    if (!z) z = strdup("{\"ok\":false,\"status\":\"nomem\",\"error\":\"内存不足\"}");
    if (!z) return -1;
    size_t n = strlen(z), off = 0;
    int ok = 1;
    while (off < n && ok) {
        ssize_t k = write(fd, z + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) ok = 0;
        else off += (size_t)k;
    }
    free(z);
    return ok && write(fd, "\n", 1) == 1 ? 0 : -1;
}

int oc_worker_main(const oc_opts *o, int fdIn, int fdOut)
{
    char zErr[512];
    oc_engine *e = NULL;
    int rc = oc_engine_new(o, &e, zErr, sizeof zErr);
    if (rc != PS_OK) {
        answer(fdOut, json_pack("{s:s}", "fatal", zErr));
        return 2;
    }
    FILE *fIn = fdopen(fdIn, "r");
    char *zLine = NULL;
    size_t nLine = 0;
    while (fIn && getline(&zLine, &nLine, fIn) > 0) {
        json_error_t je;
        json_t *pJob = json_loads(zLine, 0, &je);
        const char *zOp = json_string_value(json_object_get(pJob, "op"));
        const char *zPath = json_string_value(json_object_get(pJob, "path"));
        json_t *a = NULL;
        zErr[0] = 0;
        if (!zOp || !zPath) {
            a = failure("internal", "格式错误的任务");
        } else if (strcmp(zOp, "probe") == 0) {
            oc_kind k;
            int n;
            char zMime[128];
            rc = oc_probe(e, zPath, &k, &n, zMime, sizeof zMime, zErr, sizeof zErr);
            a = rc == PS_OK ? json_pack("{s:b,s:s,s:i,s:s}", "ok", 1, "kind", oc_kind_name(k), "pages", n, "mime", zMime)
                            : json_pack("{s:b,s:s,s:s,s:s,s:s}", "ok", 0, "status", proto_status_name(rc), "error", zErr,
                                        "mime", zMime, "kind", oc_kind_name(k));
        } else {
            json_t *pPage = NULL;
            oc_kind k = oc_kind_from_name(json_string_value(json_object_get(pJob, "kind")));
            int i = (int)json_integer_value(json_object_get(pJob, "index"));
            rc = oc_read_page(e, zPath, k, i, json_string_value(json_object_get(pJob, "web")), &pPage, zErr, sizeof zErr);
            a = rc == PS_OK ? json_pack("{s:b,s:o}", "ok", 1, "page", pPage) : failure(proto_status_name(rc), zErr);
        }
        json_decref(pJob);
        if (answer(fdOut, a) != 0) break;
    }
    free(zLine);
    if (fIn) fclose(fIn);
    oc_engine_free(e);
    return 0;
}
