/* What a record keeps per scanned page besides its text: a web-friendly
 * copy of the page image (so the archive keeps working once the delivery
 * drive is unplugged) and, in the page JSON written by the OCR pipeline,
 * the boxes of the characters, from which the boxes of a query's hits on
 * the page are computed and the personal numbers are blacked out.
 *
 * Page images live outside the index, under <data_dir>/images/<hh>/<档号>/
 * as <n>.jpg or <n>.png; the redacted copy that callers without the ids
 * right see lies beside it as <n>.r<key>.jpg|png, <key> a hash of the
 * image file's identity and the boxes it hides.  Every file is written
 * durably (idx_file_replace). */
#ifndef IDX_PAGES_H
#define IDX_PAGES_H

#include <jansson.h>
#include <stddef.h>

#define IDX_IMAGE_MAX (64u << 20)              /* bytes of one page image */
#define IDX_IMAGE_PIXELS_MAX 60000000u         /* pixels: A4 at 600 dpi is 35 million */
#define IDX_IMAGE_SIDE_MAX 30000               /* pixels of one side */
#define IDX_DECODE_MAX 2                       /* images decoded at once in the process */
#define IDX_DECODE_WAIT_MS 10000u              /* longest wait for a decode */

/* Store a page image for record zCode (canonical 档号), page n, replacing
 * the page's previous image and removing its redacted copies.  The image
 * must be a JPEG or PNG that decodes completely (it is decoded once here,
 * a header alone proves nothing), within IDX_IMAGE_PIXELS_MAX pixels and
 * IDX_IMAGE_SIDE_MAX a side.  Returns PS_OK, PS_UNSUPPORTED (not a
 * decodable JPEG or PNG), PS_TOO_BIG (bytes or pixels, zErr says which),
 * PS_UNAVAILABLE (decodes busy for IDX_DECODE_WAIT_MS), or PS_IO; zErr
 * tells why. */
int idx_page_image_put(const char *zDataDir, const char *zCode, unsigned n, const char *z,
                       size_t len, char *zErr, size_t nErr);

/* The file of a stored page image into zPath, its MIME type in *pzType.
 * Returns PS_OK or PS_NOT_FOUND. */
int idx_page_image_path(const char *zDataDir, const char *zCode, unsigned n, char *zPath,
                        size_t nPath, const char **pzType);

/* The file to send for a view of page n's image: the original when mask is 0
 * or nothing on the page is hidden, else the redacted copy (made on first
 * view).  zPath receives the path, *pzType the MIME type.  PS_OK,
 * PS_NOT_FOUND (no image), PS_UNAVAILABLE (too many decodes waiting),
 * PS_IO (zErr; the caller must not send the original instead).
 *
 * pPage is the page JSON as stored (may be NULL): the hidden characters
 * of its "text" (idx_mask_find: ID, card, account and phone digits, in any
 * notation) are blacked out, opaque, where "boxes" ([x,y,w,h,offset] in
 * pixels of "width" x "height") places them; a number without boxes stays
 * visible on the scan.  The copy is made once, under the decode bound
 * (idx_page_decode_begin), and found again by its name while neither the
 * image nor the hidden boxes change; a copy for earlier boxes is removed
 * when a new one is made.  PS_NOMEM too (zErr). */
int idx_page_image_view(const char *zDataDir, const char *zCode, unsigned n, const json_t *pPage, int mask,
                        char *zPath, size_t nPath, const char **pzType, char *zErr, size_t nErr);

/* Remove every stored image of a record and its copies (when it is deleted). */
void idx_page_image_remove_all(const char *zDataDir, const char *zCode);

/* Take one of the IDX_DECODE_MAX decode slots of the process, waiting at
 * most msWait ms: PS_OK (give it back with idx_page_decode_end) or
 * PS_UNAVAILABLE.  A decode of a page image may hold a quarter of a GB. */
int idx_page_decode_begin(unsigned msWait);
void idx_page_decode_end(void);

/* The boxes of the hits of zQuery on a page.  pPage is the page JSON as
 * stored: "text", and "boxes": [[x,y,w,h,offset],…] with offset the byte
 * of the character in "text" (boxes in pixels of the page image the OCR
 * read, whose size is "width" x "height").  Words and quoted phrases of the
 * query's full-text parts are found in the text as search finds them (case,
 * full-width forms, line breaks between Chinese characters); each hit gives
 * one box per line it covers.
 * Returns {"width":W,"height":H,"boxes":[{"x","y","w","h","term"}…]}
 * (empty when the page has no boxes), or NULL with *pRc set: PS_BAD_QUERY
 * (zErr, *pOffset) or PS_NOMEM. */
json_t *idx_page_boxes(const json_t *pPage, const char *zQuery, int *pRc, unsigned *pOffset,
                       char *zErr, size_t nErr);

#endif
