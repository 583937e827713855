/* Handler of the web client's files: served to anyone, they hold no data. */
#include "idx_api.h"
#include "proto_alloc.h"
#include "proto_status.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int idx_h_static(idx_srv *s, idx_req *r, idx_resp *o)
{
    static const struct { const char *zExt, *zType; } aType[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    char zPath[4096];
    const char *zName = r->zName && *r->zName ? r->zName : "index.html";
    const char *zType = NULL;
    if (!s->zWebDir || zName[0] == '.' || strchr(zName, '/') || strstr(zName, ".."))
        return idx_resp_error(o, PS_NOT_FOUND, "没有这个页面", NULL, 0, NULL, 0);
    for (size_t i = 0; i < sizeof aType / sizeof aType[0]; i++) {
        size_t n = strlen(zName), m = strlen(aType[i].zExt);
        if (n > m && strcmp(zName + n - m, aType[i].zExt) == 0) zType = aType[i].zType;
    }
    if (!zType) return idx_resp_error(o, PS_NOT_FOUND, "没有这个页面", NULL, 0, NULL, 0);
    snprintf(zPath, sizeof zPath, "%s/%s", s->zWebDir, zName);
    int fd = open(zPath, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        return idx_resp_error(o, PS_NOT_FOUND, "没有这个页面", NULL, 0, NULL, 0);
    }
    return idx_resp_file(o, 200, fd, (uint64_t)st.st_size, zType);
}
