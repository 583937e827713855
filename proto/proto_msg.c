/* Error bodies. */
#include "proto_msg.h"
#include "proto_status.h"

json_t *proto_error_body(int status, const char *zMessage, const char *zField, long line,
                         const char *zParam, unsigned offset)
{
    json_t *e = json_pack("{s:s,s:i,s:s}", "status", proto_status_name(status), "code", status,
                          "message", zMessage ? zMessage : proto_strerror(status));
    if (!e) return NULL;
    if (zField) json_object_set_new(e, "field", json_string(zField));
    if (line > 0) json_object_set_new(e, "line", json_integer(line));
    if (zParam) json_object_set_new(e, "param", json_string(zParam));
    if (offset > 0) json_object_set_new(e, "offset", json_integer(offset));
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "error", e) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
