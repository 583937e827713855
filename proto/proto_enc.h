/* Text files from the field (catalogs, born-digital page texts) come in
 * UTF-8 with or without BOM, GB18030, or UTF-16 with or without BOM. */
#ifndef PROTO_ENC_H
#define PROTO_ENC_H

#include <stddef.h>

/* Convert z to UTF-8: *pzOut is a new buffer (px_free, NUL-terminated
 * after *pnOut bytes) and *pzEncoding names what the input was ("utf-8",
 * "utf-8-bom", "gb18030", "utf-16" with a BOM, "utf-16le" or "utf-16be"
 * without one, told by the NUL byte that ASCII characters carry in UTF-16).
 * Every leading BOM is dropped (some tools add one to a file that has one).
 * The text is converted, not checked: NULs and other control characters
 * pass through for the caller to refuse (proto_text_check).  On
 * PS_ENCODING, zErr names the line or byte of the first undecodable byte;
 * nothing is allocated on failure. */
int proto_to_utf8(const char *z, size_t n, char **pzOut, size_t *pnOut, const char **pzEncoding,
                char *zErr, size_t nErr);

/* Decode one code point at z[*pi] (n bytes in all), advancing *pi.
 * Returns the code point, or 0xFFFD (advancing one byte) for bad UTF-8. */
unsigned proto_utf8_next(const char *z, size_t n, size_t *pi);
/* The number of code points in z (n bytes). */
size_t proto_utf8_count(const char *z, size_t n);
/* A CJK ideograph (the unified blocks, extensions, compatibility, and 〇). */
int proto_is_han(unsigned c);

#endif
