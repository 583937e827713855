/* Names, messages and HTTP codes of the project-wide status enum. */
#include "proto_status.h"

#include <string.h>

static const struct {
    const char *zName;
    const char *zMsg;
    int http;
} aStatus[PS__COUNT] = {
    [PS_OK] = {"ok", "success", 200},
    [PS_NOMEM] = {"nomem", "out of memory", 500},
    [PS_INVALID] = {"invalid", "invalid input", 400},
    [PS_NOT_FOUND] = {"not_found", "not found", 404},
    [PS_TOO_BIG] = {"too_big", "input is over its size limit", 413},
    [PS_IO] = {"io", "input/output error", 500},
    [PS_INDEX] = {"index", "search index error", 500},
    [PS_BAD_QUERY] = {"bad_query", "the search expression cannot be parsed", 400},
    [PS_ENCODING] = {"encoding", "text is neither UTF-8 nor GB18030", 400},
    [PS_METHOD] = {"method", "method not allowed", 405},
    [PS_UNSUPPORTED] = {"unsupported", "unsupported media type", 415},
    [PS_UNAVAILABLE] = {"unavailable", "service unavailable", 503},
    [PS_CONFIG] = {"config", "invalid configuration", 400},
    [PS_INTERNAL] = {"internal", "internal error", 500},
    [PS_CONFLICT] = {"conflict", "conflicts with the stored state", 409},
    [PS_NET] = {"net", "cannot reach the daemon", 503},
    [PS_UNAUTHORIZED] = {"unauthorized", "log in or give an API token", 401},
    [PS_FORBIDDEN] = {"forbidden", "your role may not do this", 403},
    [PS_TOO_MANY] = {"too_many", "too many failed logins; wait and try again", 429},
    [PS_PURPOSE] = {"purpose_required", "give the purpose of use first", 428},
    [PS_APPROVAL] = {"approval_required", "this record needs an approval first", 403},
};

const char *proto_status_name(int status)
{
    if (status < 0 || status >= PS__COUNT) return "unknown";
    return aStatus[status].zName;
}

const char *proto_strerror(int status)
{
    if (status < 0 || status >= PS__COUNT) return "unknown status";
    return aStatus[status].zMsg;
}

int proto_status_http(int status)
{
    if (status < 0 || status >= PS__COUNT) return 500;
    return aStatus[status].http;
}

int proto_status_from_name(const char *zName)
{
    for (int i = 0; i < PS__COUNT; i++)
        if (zName && strcmp(zName, aStatus[i].zName) == 0) return i;
    return PS_INTERNAL;
}
