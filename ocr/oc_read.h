/* Reading one page of one scan: what the file is (libmagic, by content),
 * its pages, and a page's text with its measurements.  This runs inside a
 * worker process (oc_pool): a hostile file may crash or hang it, and only
 * that file is lost.
 *
 * Images (JPEG, PNG, TIFF incl. Group 4 and multi-page, BMP, PNM, WebP as
 * Leptonica reads them) and PDF pages without text (the page's one scanned
 * image taken as it is, else the page rendered) are cleaned up (deskewed,
 * the angle kept; grey) and read with Tesseract.  Born-digital files give
 * their own text: a PDF page with a text layer, plain text (UTF-8,
 * GB18030, UTF-16; pages split at form feeds), OFD (GB/T 33190). */
#ifndef OC_READ_H
#define OC_READ_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    OC_UNSUPPORTED = 0,
    OC_IMAGE,
    OC_PDF,
    OC_TEXT,
    OC_OFD,
    OC_EMPTY,
} oc_kind;

const char *oc_kind_name(oc_kind k);

oc_kind oc_kind_from_name(const char *z);

typedef struct {
    const char *zLang;     /* Tesseract languages, "chi_sim" by default */
    const char *zDataPath; /* tessdata folder, NULL for the default */
    long maxPixels;        /* larger images are refused before decoding */
    int renderDpi;         /* PDF pages rendered at this resolution */
    int webWidth;          /* web copy at most this wide, in pixels */
    int webQuality;        /* its JPEG quality */
    int upscaleBelowDpi;   /* scans under this resolution are enlarged for OCR */
} oc_opts;

void oc_opts_default(oc_opts *o);

typedef struct oc_engine oc_engine;

/* One engine per worker: libmagic and Tesseract loaded once and reused.
 * Returns PS_OK, or PS_INTERNAL with zErr (e.g. language data missing). */
int oc_engine_new(const oc_opts *o, oc_engine **ppOut, char *zErr, size_t nErr);
void oc_engine_free(oc_engine *e);

/* What zPath is and how many pages it has.  zMime receives the MIME type
 * libmagic saw.  Returns PS_OK; PS_UNSUPPORTED (a file type we don't read,
 * zErr says which), PS_INVALID (corrupt or truncated), PS_TOO_BIG (an image
 * over maxPixels), PS_IO. */
int oc_probe(oc_engine *e, const char *zPath, oc_kind *pKind, int *pnPages, char *zMime,
             size_t nMime, char *zErr, size_t nErr);

/* Read page i (0-based) of zPath of kind k.  *ppPage receives the page JSON
 * sent to indexd: "text", "source" (ocr, pdf-text, text, ofd), and for
 * scans "confidence" (0-100), "skew" (degrees corrected), "dpi" (0 when the
 * file does not say), "width"/"height" (pixels the boxes refer to),
 * "boxes" ([x,y,w,h,byte offset in text] per character), "blank".  When
 * zWebPath is set and the page has an image, a JPEG copy at most webWidth
 * wide is written there ("web_width" in the JSON). */
int oc_read_page(oc_engine *e, const char *zPath, oc_kind k, int i, const char *zWebPath,
                 json_t **ppPage, char *zErr, size_t nErr);

#endif
