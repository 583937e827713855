/* HTTP transport of the client: libcurl easy handle, bounded answers. */
#include "qc_client.h"
#include "proto_alloc.h"
#include "proto_errno.h"
#include "proto_status.h"
#include "qc_text.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct qc_client {
    CURL *pCurl;
    char *zBase;
    char zCurlErr[CURL_ERROR_SIZE]; /* libcurl's message of the last call */
    char *zAuth;                    /* "Authorization: Bearer …" or NULL */
};

typedef struct {
    FILE *f;
    int err; /* errno of a failed read, 0 otherwise */
} body_src;

int qc_client_new(const char *zBase, qc_client **ppOut)
{
    qc_client *c = px_calloc(1, sizeof *c);
    int rc = PS_NOMEM;
    *ppOut = NULL;
    if (!c) goto out;
    if (!(c->zBase = px_strdup(zBase))) goto out;
    {
        /* the API token: from the environment, never from the command line
         * (where other users of the machine could read it) */
        const char *zTok = getenv("INDEXD_TOKEN");
        if (zTok && *zTok) {
            size_t n = strlen(zTok) + 32;
            if (!(c->zAuth = px_malloc(n))) goto out;
            snprintf(c->zAuth, n, "Authorization: Bearer %s", zTok);
        }
    }
    if (!(c->pCurl = curl_easy_init())) {
        rc = PS_INTERNAL;
        goto out;
    }
    *ppOut = c;
    c = NULL;
    rc = PS_OK;
out:
    qc_client_free(c);
    return rc;
}

void qc_client_free(qc_client *c)
{
    if (!c) return;
    if (c->pCurl) curl_easy_cleanup(c->pCurl);
    px_free(c->zBase);
    px_free(c->zAuth);
    px_free(c);
}

void qc_answer_init(qc_answer *a)
{
    a->http = 0;
    qc_buf_init(&a->body, QC_ANSWER_MAX);
    a->pJson = NULL;
}

void qc_answer_clear(qc_answer *a)
{
    qc_buf_release(&a->body);
    json_decref(a->pJson);
    a->pJson = NULL;
    a->http = 0;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    qc_buf *b = ud;
    return qc_buf_add(b, p, size * n) == PS_OK ? size * n : 0; /* 0 aborts the transfer */
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    body_src *s = ud;
    size_t got = fread(p, 1, size * n, s->f);
    if (got == 0 && ferror(s->f)) {
        s->err = errno ? errno : EIO;
        return CURL_READFUNC_ABORT;
    }
    return got;
}


/* Why the daemon could not be reached, for people: the common cases in
 * Chinese (for the others libcurl's own sentence follows in brackets). */
static const char *curl_cn(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT: return "连接被拒绝：该地址上没有运行 indexd，或防火墙阻止了连接";
    case CURLE_COULDNT_RESOLVE_HOST: return "无法解析服务器名称";
    case CURLE_OPERATION_TIMEDOUT: return "等待应答超时";
    case CURLE_URL_MALFORMAT: return "服务器地址格式不正确";
    case CURLE_UNSUPPORTED_PROTOCOL: return "服务器地址须以 http:// 或 https:// 开头";
    case CURLE_GOT_NOTHING: return "服务器关闭了连接，没有应答";
    case CURLE_SEND_ERROR: return "发送请求时连接中断";
    case CURLE_RECV_ERROR: return "接收应答时连接中断";
    case CURLE_SSL_CONNECT_ERROR: return "无法建立加密连接";
    case CURLE_PEER_FAILED_VERIFICATION: return "服务器证书未通过验证";
    default: return "网络错误";
    }
}

/* Copy z into zOut (nOut > 0), cut at a character boundary if it is too long. */
static void copy_utf8(char *zOut, size_t nOut, const char *z)
{
    size_t n = strlen(z);
    if (n >= nOut) {
        n = nOut - 1;
        while (n > 0 && ((unsigned char)z[n] & 0xC0) == 0x80) n--;
    }
    memcpy(zOut, z, n);
    zOut[n] = 0;
}

static int status_for_http(long http)
{
    switch (http) {
    case 400: return PS_INVALID;
    case 401: return PS_UNAUTHORIZED;
    case 403: return PS_FORBIDDEN;
    case 404: return PS_NOT_FOUND;
    case 405: return PS_METHOD;
    case 409: return PS_CONFLICT;
    case 413: return PS_TOO_BIG;
    case 415: return PS_UNSUPPORTED;
    case 428: return PS_PURPOSE;
    case 429: return PS_TOO_MANY;
    case 503: return PS_UNAVAILABLE;
    default: return http >= 400 && http < 500 ? PS_INVALID : PS_INTERNAL;
    }
}

int qc_client_describe_error(long http, const json_t *pJson, char *zErr, size_t nErr)
{
    const json_t *e = json_is_object(pJson) ? json_object_get(pJson, "error") : NULL;
    int status = status_for_http(http);
    qc_buf b;
    if (!json_is_object(e)) {
        snprintf(zErr, nErr, "indexd 应答 HTTP %ld，%s", http,
                 pJson ? "没有错误说明" : "应答内容不是 JSON");
        return status;
    }
    const json_t *pCode = json_object_get(e, "code"), *pName = json_object_get(e, "status");
    if (json_is_integer(pCode) && json_integer_value(pCode) > 0 && json_integer_value(pCode) < PS__COUNT)
        status = (int)json_integer_value(pCode);
    else if (json_is_string(pName) && proto_status_from_name(json_string_value(pName)) != PS_INTERNAL)
        status = proto_status_from_name(json_string_value(pName));
    if (status == PS_OK) status = PS_INTERNAL;

    const json_t *pMsg = json_object_get(e, "message");
    const char *zMsg = json_is_string(pMsg) && *json_string_value(pMsg) ? json_string_value(pMsg)
                                                                        : proto_strerror(status);
    qc_buf_init(&b, 0);
    qc_text_add_clean(&b, zMsg, strlen(zMsg), QC_TEXT_ONE_LINE);
    static const struct {
        const char *zKey;
        int isText; /* else a positive integer */
        const char *zBefore, *zAfter; /* the words around the value */
    } aDetail[] = {{"field", 1, "字段 ", ""}, {"line", 0, "第 ", " 行"}, {"param", 1, "参数 ", ""}, {"offset", 0, "位置 ", ""}};
    int nDetail = 0;
    for (size_t k = 0; k < sizeof aDetail / sizeof aDetail[0]; k++) {
        const json_t *v = json_object_get(e, aDetail[k].zKey);
        if (aDetail[k].isText ? !(json_is_string(v) && *json_string_value(v))
                              : !(json_is_integer(v) && json_integer_value(v) > 0))
            continue;
        qc_buf_addf(&b, "%s%s", nDetail++ ? "，" : "（", aDetail[k].zBefore);
        if (json_is_string(v)) qc_text_add_clean(&b, json_string_value(v), json_string_length(v), QC_TEXT_ONE_LINE);
        else qc_buf_addf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        qc_buf_adds(&b, aDetail[k].zAfter);
    }
    if (nDetail) qc_buf_adds(&b, "）");
    if (status == PS_UNAUTHORIZED)
        qc_buf_adds(&b, getenv("INDEXD_TOKEN") ? "——令牌 INDEXD_TOKEN 未被接受；请在服务器上用 indexd users token 用户名 生成新令牌"
                                              : "——请将 INDEXD_TOKEN 设为在服务器上用 indexd users token 用户名 生成的令牌");
    copy_utf8(zErr, nErr, b.rc == PS_OK ? qc_buf_str(&b) : zMsg);
    qc_buf_release(&b);
    return status;
}

#define SET(opt, val) \
    do { \
        if (cc == CURLE_OK) cc = curl_easy_setopt(h, opt, val); \
    } while (0)

int qc_client_call(qc_client *c, const char *zMethod, const char *zPath, const char *zType,
                   FILE *pBody, qc_answer *pAns, char *zErr, size_t nErr)
{
    CURL *h = c->pCurl;
    CURLcode cc = CURLE_OK;
    struct curl_slist *pHdr = NULL, *pNew;
    char *zCurlErr = c->zCurlErr;
    body_src src = {pBody, 0};
    qc_buf url, ct;
    int rc = PS_NOMEM;

    qc_answer_clear(pAns);
    qc_buf_init(&url, 0);
    qc_buf_init(&ct, 0);
    zErr[0] = zCurlErr[0] = 0;
    qc_buf_adds(&url, c->zBase);
    qc_buf_adds(&url, zPath);
    qc_buf_addf(&ct, "Content-Type: %s", zType ? zType : "application/octet-stream");
    if (url.rc != PS_OK || ct.rc != PS_OK) {
        snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    static const char *const azHdr[] = {"Accept: application/json", "Expect:"};
    for (size_t i = 0; i < sizeof azHdr / sizeof azHdr[0] + (pBody != NULL); i++) {
        if (!(pNew = curl_slist_append(pHdr, i < 2 ? azHdr[i] : qc_buf_str(&ct)))) {
            snprintf(zErr, nErr, "内存不足");
            goto out;
        }
        pHdr = pNew;
    }
    if (c->zAuth) {
        if (!(pNew = curl_slist_append(pHdr, c->zAuth))) {
            snprintf(zErr, nErr, "内存不足");
            goto out;
        }
        pHdr = pNew;
    }

    curl_easy_reset(h);
    SET(CURLOPT_URL, url.z);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT, QC_CONNECT_TIMEOUT_S);
    SET(CURLOPT_ERRORBUFFER, zCurlErr);
    SET(CURLOPT_HTTPHEADER, pHdr);
    SET(CURLOPT_USERAGENT, "query/0.1.0");
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, &pAns->body);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)QC_ANSWER_MAX);
    if (pBody) {
        struct stat st;
        curl_off_t size = -1; /* unknown: chunked */
        if (fstat(fileno(pBody), &st) == 0 && S_ISREG(st.st_mode)) size = (curl_off_t)st.st_size;
        SET(CURLOPT_READFUNCTION, on_read);
        SET(CURLOPT_READDATA, &src);
        if (strcmp(zMethod, "PUT") == 0) {
            SET(CURLOPT_UPLOAD, 1L);
            SET(CURLOPT_INFILESIZE_LARGE, size);
        } else {
            SET(CURLOPT_POST, 1L);
            SET(CURLOPT_POSTFIELDSIZE_LARGE, size);
            if (strcmp(zMethod, "POST") != 0) SET(CURLOPT_CUSTOMREQUEST, zMethod);
        }
    } else if (strcmp(zMethod, "GET") != 0) {
        SET(CURLOPT_CUSTOMREQUEST, zMethod);
    }
    if (cc != CURLE_OK) {
        rc = PS_INTERNAL;
        snprintf(zErr, nErr, "libcurl 不接受一个选项：%s", curl_easy_strerror(cc));
        goto out;
    }

    cc = curl_easy_perform(h);
    if (src.err) {
        rc = PS_IO;
        snprintf(zErr, nErr, "无法读取要发送的内容：%s", proto_errno_cn(src.err));
        goto out;
    }
    if (pAns->body.rc == PS_TOO_BIG || cc == CURLE_FILESIZE_EXCEEDED) {
        rc = PS_TOO_BIG;
        snprintf(zErr, nErr, "indexd 的应答超过 %u MiB 的上限", QC_ANSWER_MAX >> 20);
        goto out;
    }
    if (pAns->body.rc == PS_NOMEM || cc == CURLE_OUT_OF_MEMORY) {
        rc = PS_NOMEM;
        snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    if (cc != CURLE_OK) {
        size_t n = strlen(zCurlErr);
        while (n > 0 && zCurlErr[n - 1] == '\n') zCurlErr[--n] = 0;
        rc = PS_NET;
        /* the address may be long: cut the sentence between characters */
        qc_buf msg;
        qc_buf_init(&msg, 0);
        qc_buf_addf(&msg, "无法连接检索服务 indexd（%s）：%s", c->zBase, curl_cn(cc));
        /* libcurl's own sentence only where no Chinese one says more */
        if (strcmp(curl_cn(cc), "网络错误") == 0)
            qc_buf_addf(&msg, "（libcurl：%s）", zCurlErr[0] ? zCurlErr : curl_easy_strerror(cc));
        copy_utf8(zErr, nErr, msg.rc == PS_OK ? qc_buf_str(&msg) : "无法连接检索服务 indexd");
        qc_buf_release(&msg);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &pAns->http);

    json_error_t je;
    json_t *o = json_loadb(qc_buf_str(&pAns->body), pAns->body.n, 0, &je);
    if (!o && json_error_code(&je) == json_error_out_of_memory) {
        rc = PS_NOMEM;
        snprintf(zErr, nErr, "内存不足");
        goto out;
    }
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
        snprintf(je.text, sizeof je.text, "是 JSON 值，但不是对象");
    }
    pAns->pJson = o;
    if (pAns->http >= 200 && pAns->http < 300) {
        if (!o) {
            rc = PS_INVALID;
            snprintf(zErr, nErr, "indexd 的应答（HTTP %ld，%zu 字节）不是 JSON 对象：%s",
                     pAns->http, pAns->body.n, je.text);
            goto out;
        }
        rc = PS_OK;
    } else {
        rc = qc_client_describe_error(pAns->http, o, zErr, nErr);
    }
out:
    curl_easy_reset(h); /* forget the pointers to this call's header list and buffers */
    curl_slist_free_all(pHdr);
    qc_buf_release(&url);
    qc_buf_release(&ct);
    return rc;
}
