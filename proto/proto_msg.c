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

const char *proto_json_why(const json_error_t *je)
{
    switch (json_error_code(je)) {
    case json_error_duplicate_key: return "有重复的键";
    case json_error_invalid_utf8: return "含有无效的 UTF-8";
    case json_error_null_character:
    case json_error_null_byte_in_key: return "含有 NUL 字符";
    case json_error_premature_end_of_input: return "内容不完整";
    case json_error_end_of_input_expected: return "结尾之后还有内容";
    case json_error_numeric_overflow: return "数值超出范围";
    case json_error_stack_overflow: return "嵌套层数过多";
    case json_error_out_of_memory: return "内存不足";
    default: return "语法错误";
    }
}
