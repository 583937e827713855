/* Durable replacement and creation of the daemon's side files. */
#include "idx_file.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *z, size_t n)
{
    const char *p = z;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* fsync the folder holding zPath, so that a rename or a new name lasts. */
static int sync_parent(const char *zPath)
{
    char zDir[4096];
    const char *zSlash = strrchr(zPath, '/');
    if (!zSlash) snprintf(zDir, sizeof zDir, ".");
    else if (zSlash == zPath) snprintf(zDir, sizeof zDir, "/");
    else snprintf(zDir, sizeof zDir, "%.*s", (int)(zSlash - zPath), zPath);
    int fd = open(zDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write, fsync and close fd; 0 or -1 with errno set. */
static int finish(int fd, const void *z, size_t n)
{
    int ok = write_all(fd, z, n) == 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) return -1;
    errno = e;
    return ok ? 0 : -1;
}

int idx_file_replace(const char *zPath, const void *z, size_t n, int mode, char *zErr, size_t nErr)
{
    size_t nPath = strlen(zPath);
    char *zTmp = px_malloc(nPath + 32);
    if (!zTmp) return PS_NOMEM;
    /* unique per process and call: two writers never share a temporary */
    static unsigned long nSeq;
    snprintf(zTmp, nPath + 32, "%s.%ld.%lu.tmp", zPath, (long)getpid(), __atomic_fetch_add(&nSeq, 1, __ATOMIC_RELAXED));
    int fd = open(zTmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    int rc = PS_OK;
    if (fd < 0 || finish(fd, z, n) != 0 || rename(zTmp, zPath) != 0 || sync_parent(zPath) != 0) {
        snprintf(zErr, nErr, "无法写入 %s：%s", zPath, proto_errno_cn(errno));
        if (fd >= 0) unlink(zTmp);
        rc = PS_IO;
    }
    px_free(zTmp);
    return rc;
}

int idx_file_create(const char *zPath, const void *z, size_t n, int mode, char *zErr, size_t nErr)
{
    int fd = open(zPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            snprintf(zErr, nErr, "%s 已存在", zPath);
            return PS_CONFLICT;
        }
        snprintf(zErr, nErr, "无法创建 %s：%s", zPath, proto_errno_cn(errno));
        return PS_IO;
    }
    if (finish(fd, z, n) != 0 || sync_parent(zPath) != 0) {
        snprintf(zErr, nErr, "无法写入 %s：%s", zPath, proto_errno_cn(errno));
        unlink(zPath);
        return PS_IO;
    }
    return PS_OK;
}

int idx_file_rename(const char *zOld, const char *zNew, char *zErr, size_t nErr)
{
    if (rename(zOld, zNew) != 0 || sync_parent(zNew) != 0) {
        snprintf(zErr, nErr, "无法重命名 %s：%s", zOld, proto_errno_cn(errno));
        return PS_IO;
    }
    return PS_OK;
}

int idx_file_remove(const char *zPath, char *zErr, size_t nErr)
{
    if (unlink(zPath) != 0) {
        snprintf(zErr, nErr, "无法删除 %s：%s", zPath, proto_errno_cn(errno));
        return errno == ENOENT ? PS_NOT_FOUND : PS_IO;
    }
    if (sync_parent(zPath) != 0) {
        snprintf(zErr, nErr, "无法将 %s 所在文件夹同步到磁盘：%s", zPath, proto_errno_cn(errno));
        return PS_IO;
    }
    return PS_OK;
}

int idx_file_read(const char *zPath, size_t nMax, char **pz, size_t *pn, char *zErr, size_t nErr)
{
    *pz = NULL;
    *pn = 0;
    int fd = open(zPath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(zErr, nErr, "无法读取 %s：%s", zPath, proto_errno_cn(errno));
        return errno == ENOENT ? PS_NOT_FOUND : PS_IO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(zErr, nErr, "无法读取 %s：%s", zPath, proto_errno_cn(errno));
        close(fd);
        return PS_IO;
    }
    if ((unsigned long long)st.st_size > nMax) {
        snprintf(zErr, nErr, "%s 超过 %zu 字节", zPath, nMax);
        close(fd);
        return PS_TOO_BIG;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *z = px_malloc(n + 1);
    if (!z) {
        close(fd);
        return PS_NOMEM;
    }
    while (got < n) {
        ssize_t k = read(fd, z + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (got != n) {
        snprintf(zErr, nErr, "无法读取 %s：读取期间文件发生了变化", zPath);
        px_free(z);
        return PS_IO;
    }
    z[n] = 0;
    *pz = z;
    *pn = n;
    return PS_OK;
}

int idx_file_mkdirs(const char *zDir, int mode, char *zErr, size_t nErr)
{
    char z[4096];
    size_t n = strlen(zDir);
    if (n == 0 || n >= sizeof z) {
        snprintf(zErr, nErr, "文件夹名称有误");
        return PS_INVALID;
    }
    memcpy(z, zDir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (z[i] != '/' && z[i] != 0) continue;
        char c = z[i];
        z[i] = 0;
        if (mkdir(z, (mode_t)mode) != 0 && errno != EEXIST) {
            snprintf(zErr, nErr, "无法创建 %s：%s", z, proto_errno_cn(errno));
            return PS_IO;
        }
        z[i] = c;
    }
    return PS_OK;
}

const char *idx_file_reason(const char *zE)
{
    const char *z = NULL;
    for (const char *q = strstr(zE, "："); q; q = strstr(q + 3, "：")) z = q + 3;
    if (!z && (z = strrchr(zE, ':')) != NULL) z++;
    while (z && *z == ' ') z++;
    return z && *z ? z : NULL;
}
