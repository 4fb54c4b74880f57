#pragma once
#include "cpix_image.h"

/// The image uses a feature the shim refuses (an animated WebP).
enum { CPIX_ERR_UNSUPPORTED = 6 };

// MARK: - WebP (libwebp)
//
// Animated WebP is refused (CPIX_ERR_UNSUPPORTED) by every function: validating only a first frame
// would accept files whose later frames are damaged.

/// Reads a WebP's dimensions from its RIFF header (VP8, VP8L or VP8X chunk) without allocating
/// or decoding anything. CPIX_ERR_CORRUPT when the header is invalid, CPIX_ERR_UNSUPPORTED for an
/// animation. `components` is 4 when the image has alpha, 3 otherwise; `progressive` is 0.
int cpix_webp_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status);

/// The working memory in bytes a WebP decode of `width × height` needs beyond its output: lossless
/// bitstreams keep the whole image as 32-bit ARGB (backward references reach anywhere), lossy alpha
/// planes one byte per pixel; lossy colour is decoded macroblock row by macroblock row.
uint64_t cpix_webp_working_memory(uint32_t width, uint32_t height, int lossless, int alpha);

/// Decodes a WebP held in memory: every compressed byte is read and every pixel reconstructed at
/// full size, then area-averaged on the fly by libwebp's rescaler into the gray grid of `options`
/// (no full frame is held for lossy images). Dimensions are checked against `options` from the header
/// before libwebp allocates anything; `options->max_memory` bounds `cpix_webp_working_memory`.
/// Truncated or corrupt data is CPIX_ERR_CORRUPT.
int cpix_webp_decode(const uint8_t *data, size_t length, const cpix_decode_options *options,
                     cpix_image_header *header, cpix_status *status);

/// Encodes 8-bit RGB pixels as lossy WebP at `quality` (0-100), single-threaded so the same pixels
/// always give the same bytes.
int cpix_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int quality, uint8_t **out,
                     size_t *out_len, cpix_status *status);

/// Encodes 8-bit RGB pixels as lossless WebP.
int cpix_webp_encode_lossless(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t **out,
                              size_t *out_len, cpix_status *status);
