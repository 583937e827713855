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
 * pass through for the caller to refuse (proto_text_check).  A file that
 * is not UTF-8 is read in the encoding that reads most of its lines (a line
 * in UTF-8 counts for UTF-8), GB18030 only when it reads every line.  On
 * PS_ENCODING, zErr names the first line (or byte) the encoding of most
 * lines cannot read; nothing is allocated on failure. */
int proto_to_utf8(const char *z, size_t n, char **pzOut, size_t *pnOut, const char **pzEncoding,
                char *zErr, size_t nErr);

/* As proto_to_utf8, for a catalog, where one bad cell must not cost the
 * whole file: a file that is UTF-8 (or GB18030) but for some lines (a title
 * pasted from another file, a stray Latin-1 byte) is read in the encoding
 * that reads most of its lines (UTF-8 when it starts with a UTF-8 BOM), and
 * each line that encoding cannot read is kept byte for byte, not UTF-8 then
 * in general, for the reader to deal with cell by cell.  *paKept (px_free;
 * NULL when none) lists those lines, *pnKept how many: 1-based, lines
 * ended by LF, CR LF or a lone CR, counted from the first after the BOMs.
 * Only a file that is mostly not text (more than half of its lines read in
 * neither encoding) is refused: PS_ENCODING, zErr naming the first such
 * line, *pBadLine that line (0 when the error names none).  UTF-16, and a
 * file that reads whole, as proto_to_utf8. */
int proto_to_utf8_lenient(const char *z, size_t n, char **pzOut, size_t *pnOut, const char **pzEncoding,
                          long **paKept, size_t *pnKept, long *pBadLine, char *zErr, size_t nErr);

/* z (n bytes) read as GB18030 into a new UTF-8 buffer (px_free, NUL-
 * terminated after *pnOut bytes).  PS_OK, PS_ENCODING when z is not
 * GB18030 (nothing allocated), PS_NOMEM. */
int proto_from_gb18030(const char *z, size_t n, char **pzOut, size_t *pnOut);

/* z (n bytes) read as UTF-8 (gb 0) or GB18030 (gb 1), whatever that
 * cannot read replaced by U+FFFD, a byte at a time: a new buffer (px_free,
 * NUL-terminated after *pnOut bytes), *pnBad the bytes replaced.  PS_OK,
 * PS_NOMEM. */
int proto_decode_lossy(const char *z, size_t n, int gb, char **pzOut, size_t *pnOut, size_t *pnBad);

/* The bytes of z's longest prefix that is well-formed UTF-8 (n: all). */
size_t proto_utf8_prefix(const char *z, size_t n);

/* Decode one code point at z[*pi] (n bytes in all), advancing *pi.
 * Returns the code point, or 0xFFFD (advancing one byte) for bad UTF-8. */
unsigned proto_utf8_next(const char *z, size_t n, size_t *pi);
/* The number of code points in z (n bytes). */
size_t proto_utf8_count(const char *z, size_t n);
/* A CJK ideograph (the unified blocks, extensions, compatibility, and 〇). */
int proto_is_han(unsigned c);

#endif
