/* errno in Chinese. */
#include "proto_errno.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *proto_errno_cn(int err)
{
    switch (err) {
    case ENOENT: return "文件或文件夹不存在";
    case EACCES:
    case EPERM: return "没有访问权限";
    case ENOTDIR: return "路径中有一项不是文件夹";
    case EISDIR: return "这是文件夹，不是文件";
    case EEXIST: return "已存在同名的文件或文件夹";
    case ENOTEMPTY: return "文件夹不是空的";
    case ENOSPC: return "磁盘空间不足";
    case EDQUOT: return "超出磁盘配额";
    case EFBIG: return "文件过大";
    case EROFS: return "文件系统只读";
    case EIO: return "读写出错（输入/输出错误）";
    case ENOMEM: return "内存不足";
    case EMFILE:
    case ENFILE: return "打开的文件过多";
    case ENAMETOOLONG: return "文件名过长";
    case ELOOP: return "符号链接层数过多";
    case EAGAIN: return "资源暂时不可用";
    case EBUSY: return "设备或文件正被占用";
    case ETXTBSY: return "文件正被执行，不能写入";
    case EINVAL: return "参数无效";
    case EPIPE: return "输出的另一端已关闭";
    case EINTR: return "操作被信号中断";
    case ENXIO:
    case ENODEV: return "设备不存在或未连接";
    case ESTALE: return "网络文件系统上的文件已失效";
    case ETIMEDOUT: return "操作超时";
    case ECONNREFUSED: return "连接被拒绝";
    case ECONNRESET: return "连接被对方重置";
    case EHOSTUNREACH:
    case ENETUNREACH: return "网络不可达";
    default: break;
    }
    /* the rare others: the number, and the system's own sentence after it */
    static _Thread_local char zBuf[160];
    char zSys[120];
#if (_POSIX_C_SOURCE >= 200112L) && !defined(_GNU_SOURCE)
    if (strerror_r(err, zSys, sizeof zSys) != 0) snprintf(zSys, sizeof zSys, "未知错误");
    const char *z = zSys;
#else
    const char *z = strerror_r(err, zSys, sizeof zSys);
#endif
    snprintf(zBuf, sizeof zBuf, "系统错误 %d（%s）", err, z ? z : "");
    return zBuf;
}
