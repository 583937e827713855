/* Names, messages and HTTP codes of the project-wide status enum. */
#include "proto_status.h"

#include <string.h>

static const struct {
    const char *zName;
    const char *zMsg;
    int http;
} aStatus[PS__COUNT] = {
    [PS_OK] = {"ok", "成功", 200},
    [PS_NOMEM] = {"nomem", "内存不足", 500},
    [PS_INVALID] = {"invalid", "输入无效", 400},
    [PS_NOT_FOUND] = {"not_found", "未找到", 404},
    [PS_TOO_BIG] = {"too_big", "输入超过大小限制", 413},
    [PS_IO] = {"io", "读写错误", 500},
    [PS_INDEX] = {"index", "检索索引出错", 500},
    [PS_BAD_QUERY] = {"bad_query", "检索式无法解析", 400},
    [PS_ENCODING] = {"encoding", "文本既不是 UTF-8 也不是 GB18030 编码", 400},
    [PS_METHOD] = {"method", "不允许该请求方法", 405},
    [PS_UNSUPPORTED] = {"unsupported", "不支持的媒体类型", 415},
    [PS_UNAVAILABLE] = {"unavailable", "服务暂不可用", 503},
    [PS_CONFIG] = {"config", "配置无效", 400},
    [PS_INTERNAL] = {"internal", "内部错误", 500},
    [PS_CONFLICT] = {"conflict", "与已保存的内容冲突", 409},
    [PS_NET] = {"net", "无法连接检索服务", 503},
    [PS_UNAUTHORIZED] = {"unauthorized", "请先登录，或提供 API 令牌", 401},
    [PS_FORBIDDEN] = {"forbidden", "您的角色无权进行此操作", 403},
    [PS_TOO_MANY] = {"too_many", "登录失败次数过多，请稍后再试", 429},
    [PS_PURPOSE] = {"purpose_required", "请先填写利用目的", 428},
    [PS_APPROVAL] = {"approval_required", "查阅此档案须先经审批", 403},
};

const char *proto_status_name(int status)
{
    if (status < 0 || status >= PS__COUNT) return "unknown";
    return aStatus[status].zName;
}

const char *proto_strerror(int status)
{
    if (status < 0 || status >= PS__COUNT) return "未知状态";
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
