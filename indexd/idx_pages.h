/* What a record keeps per scanned page besides its text: a web-friendly
 * copy of the page image (so the archive keeps working once the delivery
 * drive is unplugged) and, in the page JSON written by the OCR pipeline,
 * the boxes of the characters, from which the boxes of a query's hits on
 * the page are computed.
 *
 * Page images live outside the index, under <data_dir>/images/<hh>/<档号>/
 * as <n>.jpg or <n>.png, written to a temporary file and renamed. */
#ifndef IDX_PAGES_H
#define IDX_PAGES_H

#include <jansson.h>
#include <stddef.h>

#define IDX_IMAGE_MAX (64u << 20) /* bytes of one page image */

/* Store a page image (JPEG or PNG, told by its signature) for record zCode
 * (canonical 档号), page n.  Replaces the page's previous image.  Returns
 * PS_OK, PS_UNSUPPORTED (not JPEG/PNG), PS_TOO_BIG, or PS_IO with zErr. */
int idx_page_image_put(const char *zDataDir, const char *zCode, unsigned n, const char *z,
                       size_t len, char *zErr, size_t nErr);

/* The file of a stored page image into zPath, its MIME type in *pzType.
 * Returns PS_OK or PS_NOT_FOUND. */
int idx_page_image_path(const char *zDataDir, const char *zCode, unsigned n, char *zPath,
                        size_t nPath, const char **pzType);

/* Remove every stored image of a record (when it is deleted). */
void idx_page_image_remove_all(const char *zDataDir, const char *zCode);

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

/* A page image with the hidden digits of the ID numbers in its text (as
 * idx_mask_ids hides them) blacked out, where the page JSON has their
 * boxes.  *pz (free()) is the image, re-encoded in its own format, *pn its
 * length; PS_OK with *pz NULL when there is nothing to hide (send the file
 * as it is).  PS_IO when the image cannot be read: the caller must then not
 * send it. */
int idx_page_image_redacted(const char *zPath, const json_t *pPage, char **pz, size_t *pn);

#endif
