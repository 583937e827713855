/* Small JSON messages shared by the daemon and its clients. */
#ifndef PROTO_MSG_H
#define PROTO_MSG_H

#include <jansson.h>

/* {"error":{"status":"invalid","code":2,"message":"…",…}}.  zField, zParam
 * may be NULL, line and offset 0 when they don't apply.  NULL if out of
 * memory. */
/* What jansson found wrong with a JSON text, in Chinese for the messages
 * (its own text is English): "有重复的键", "内容不完整", … */
const char *proto_json_why(const json_error_t *je);

json_t *proto_error_body(int status, const char *zMessage, const char *zField, long line,
                         const char *zParam, unsigned offset);

#endif
