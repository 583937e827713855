/* A system error (errno) in the words a person reads: the one place where
 * ocr/ and query/ (and anything else that tells a person why a file could
 * not be opened, read or written) turn an errno into Chinese. */
#ifndef PROTO_ERRNO_H
#define PROTO_ERRNO_H

/* The common errno values in Chinese ("文件或文件夹不存在"); any other as
 * "系统错误 N（strerror's sentence）" in a buffer of the calling thread,
 * valid until its next call.  Never NULL. */
const char *proto_errno_cn(int err);

#endif
