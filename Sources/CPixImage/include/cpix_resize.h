#pragma once
#include "cpix_image.h"

// MARK: - Resizing (exports)
//
// Decode at the smallest libjpeg-turbo DCT scale of 1/8, 2/8, 4/8 or 8/8 still at least 1.25 times the target,
// only the window (a JPEG's columns cropped and rows above skipped by libjpeg-turbo), stream rows through an
// area resampler (bilinear when enlarging), apply EXIF orientation, and re-encode. Memory: one ring of
// a few resampled rows plus the output image, and what the source's decoder keeps, at most `max_memory`:
// interlaced PNGs are decoded once per band of rows that fits it, a lossless WebP (whose decoder keeps the
// whole frame) or a multi-scan JPEG (every coefficient) needing more is refused; a WebP's crop window is held
// decoded up to 16 MP, a larger window first reduced by libwebp's scaler.

/// How the target size applies (img2dataset's `--resize_mode`).
enum {
    CPIX_RESIZE_NO = 0,                  // keep the size, re-encode only
    CPIX_RESIZE_KEEP_RATIO = 1,          // the shorter side becomes `size`
    CPIX_RESIZE_KEEP_RATIO_LARGEST = 2,  // the longer side becomes `size`
    CPIX_RESIZE_CENTER_CROP = 3,         // the centred square, `size` × `size`
    CPIX_RESIZE_BORDER = 4,              // the longer side becomes `size`, padded with white to `size` × `size`
};

/// Output encodings.
enum { CPIX_ENCODE_JPEG = 0, CPIX_ENCODE_PNG = 1, CPIX_ENCODE_WEBP = 2 };

/// Input formats.
enum { CPIX_FORMAT_JPEG = 0, CPIX_FORMAT_PNG = 1, CPIX_FORMAT_WEBP = 2 };

/// What to make of an image.
typedef struct {
    uint32_t size;           // target size N (1...16384)
    int mode;                // CPIX_RESIZE_*
    int only_if_bigger;      // never enlarge: a smaller image keeps its size (still cropped or padded)
    int encoding;            // CPIX_ENCODE_*
    int quality;             // JPEG/WebP quality 1-100
    uint64_t max_pixels;     // pixel budget of the input (0 = none)
    uint64_t max_memory;     // decoder memory for the source in bytes (0 = CPIX_DEFAULT_MAX_MEMORY)
    int validate;            // nonzero: also the full-depth validation — every compressed byte is read, decoder warnings are errors
    uint8_t *grid;           // with `validate` (optional): receives the gray grid of the whole image, as
    uint32_t grid_width;     // `cpix_decode_options.grid` does (from the decoded rows, not a 1/8 gray decode)
    uint32_t grid_height;
} cpix_resize_options;

/// What a resize did.
typedef struct {
    uint32_t original_width;   // as displayed (after EXIF orientation)
    uint32_t original_height;
    uint32_t output_width;
    uint32_t output_height;
    uint32_t orientation;      // EXIF orientation applied (1 = none)
    uint32_t jpeg_scale;       // DCT scale numerator over 8 used for a JPEG (8 = full size); 0 otherwise
} cpix_resize_result;

/// The EXIF orientation (1-8) a JPEG's APP1 segment declares, 1 when there is none.
uint32_t cpix_jpeg_exif_orientation(const uint8_t *data, size_t length);

/// Resizes and re-encodes one image into a malloc'd buffer (free with `cpix_free`). The same input and
/// options always give the same bytes. With `validate`, the decode is also the validation decode at depth
/// `full`, with its limits, memory checks and errors (`cpix_jpeg_decode`, `cpix_png_decode`, `cpix_webp_decode`):
/// a JPEG, a non-interlaced PNG or a WebP whose whole frame fits the memory cap (at most 16 MP) is decoded once,
/// every row to the end; an interlaced PNG or a larger WebP is first validated by its validation decode, then
/// resized. Errors: CPIX_ERR_CORRUPT (undecodable), CPIX_ERR_TOO_LARGE (budget), CPIX_ERR_MEMORY (out of memory,
/// or the source needs more decoder memory than `max_memory`), CPIX_ERR_ARGUMENT, CPIX_ERR_LIBRARY (encoding
/// failed).
int cpix_resize_image(const uint8_t *data, size_t length, int format, const cpix_resize_options *options,
                      uint8_t **out, size_t *out_len, cpix_resize_result *result, cpix_status *status);
