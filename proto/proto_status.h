/* One status enum for the whole project.  The same codes travel on the wire
 * (as their names) and map to HTTP status codes.  Add new codes last; never
 * renumber: clients and stored reports depend on the numbers. */
#ifndef PROTO_STATUS_H
#define PROTO_STATUS_H

typedef enum {
    PS_OK = 0,
    PS_NOMEM = 1,        /* an allocation failed */
    PS_INVALID = 2,      /* a field, parameter or body is malformed */
    PS_NOT_FOUND = 3,    /* no such record, page or route */
    PS_TOO_BIG = 4,      /* a body, field or file is over its limit */
    PS_IO = 5,           /* reading or writing a file failed */
    PS_INDEX = 6,        /* the search index reported an error */
    PS_BAD_QUERY = 7,    /* the search expression cannot be parsed */
    PS_ENCODING = 8,     /* text is neither UTF-8 nor GB18030 */
    PS_METHOD = 9,       /* the method is not allowed on this path */
    PS_UNSUPPORTED = 10, /* unsupported media type */
    PS_UNAVAILABLE = 11, /* the daemon is shutting down or busy */
    PS_CONFIG = 12,      /* a configuration key or flag is invalid */
    PS_INTERNAL = 13,    /* a bug: an invariant did not hold */
    PS_CONFLICT = 14,    /* the request contradicts the stored state */
    PS_NET = 15,         /* the client could not reach the daemon */
    PS_UNAUTHORIZED = 16, /* no valid session or token; a wrong password */
    PS_FORBIDDEN = 17,   /* the caller's role may not do this */
    PS_TOO_MANY = 18,    /* too many failed logins: wait */
    PS_PURPOSE = 19,     /* a view needs a purpose of use */
    PS_APPROVAL = 20,    /* the record needs an admin's approval first */
    PS__COUNT
} proto_status;

/* Short, stable, lower-case name used on the wire ("invalid", "not_found"). */
const char *proto_status_name(int status);
/* A sentence for people. Never NULL, also for unknown codes. */
const char *proto_strerror(int status);
/* The HTTP status code that carries this status. */
int proto_status_http(int status);
/* Reverse of proto_status_name(); PS_INTERNAL for unknown names. */
int proto_status_from_name(const char *zName);

#endif
