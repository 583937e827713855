/* Error bodies. */
#include "proto_msg.h"
#include "proto_record.h"
#include "proto_status.h"

#include <string.h>

json_t *proto_error_body(int status, const char *zMessage, const char *zField, long line,
                         const char *zParam, unsigned offset)
{
    const char *zMsg = zMessage ? zMessage : proto_strerror(status);
    /* a message cut to its buffer may end inside a character (Chinese takes
     * three bytes each): the character is left out, not the message */
    size_t n = strlen(zMsg), k = n;
    while (k > 0 && n - k < 4 && !proto_utf8_valid(zMsg, k)) k--;
    if (!proto_utf8_valid(zMsg, k)) k = n;
    json_t *e = json_pack("{s:s,s:i,s:s%}", "status", proto_status_name(status), "code", status,
                          "message", zMsg, k);
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
