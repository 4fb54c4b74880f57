// The validation decoders with a row sink, for resizing that is also the full-depth validation (the shim's own
// use; not part of the module's public headers). Every check, limit and error of the validation decode applies;
// the sink also receives each decoded row, top to bottom, as 4-byte pixels (R, G, B, then alpha for a PNG and an
// unused byte for a JPEG), after the gray grid has read it, and may change it.
#pragma once
#include "cpix_image.h"

#include <webp/decode.h>

typedef void (*cpix_row_sink)(void *context, uint8_t *row, uint32_t y, uint32_t width);

/// A big-endian 32-bit word (PNG lengths, dimensions and CRCs).
static inline uint32_t cpix_be32(const uint8_t *bytes) {
    return ((uint32_t)bytes[0] << 24) | ((uint32_t)bytes[1] << 16) | ((uint32_t)bytes[2] << 8) | bytes[3];
}

/// Adobe's inverted CMYK, four bytes a pixel, turned into RGB in place (value × K / 255; the fourth byte stays).
static inline void cpix_cmyk_to_rgbx(uint8_t *row, uint32_t width) {
    for (uint32_t x = 0; x < width; x++) {
        uint8_t *p = row + (size_t)x * 4;
        for (int c = 0; c < 3; c++) p[c] = (uint8_t)(p[c] * p[3] / 255);
    }
}

/// A JPEG at DCT scale `scale_eighths`/8 (1-8), full colour, entropy-complete up to EOI.
int cpix_jpeg_decode_rows(const uint8_t *data, size_t length, uint32_t scale_eighths,
                          const cpix_decode_options *options, cpix_row_sink sink, void *sink_context,
                          cpix_image_header *header, cpix_status *status);

/// A PNG that is not interlaced (CPIX_ERR_ARGUMENT for an Adam7 one), every row as 8-bit RGBA, up to IEND.
int cpix_png_decode_rows(const uint8_t *data, size_t length, const cpix_decode_options *options,
                         cpix_row_sink sink, void *sink_context, cpix_image_header *header, cpix_status *status);

/// A WebP decoded whole into 8-bit RGBA (`*rgba`, width × 4 bytes a row, the caller frees it), with the checks of
/// cpix_webp_decode; the output, the working memory and `extra_memory` together stay under `options->max_memory`.
int cpix_webp_decode_rgba(const uint8_t *data, size_t length, const cpix_decode_options *options,
                          uint64_t extra_memory, uint8_t **rgba, cpix_image_header *header, cpix_status *status);

/// A WebP decoded whole (cpix_webp_decode_rgba), every row handed on as 8-bit RGBA after the grid has read it.
int cpix_webp_decode_rows(const uint8_t *data, size_t length, const cpix_decode_options *options,
                          cpix_row_sink sink, void *sink_context, cpix_image_header *header, cpix_status *status);

/// Points libwebp's output at caller memory: `rows` rows of `stride` bytes in `colorspace`.
void cpix_webp_output_to(WebPDecoderConfig *config, WEBP_CSP_MODE colorspace, uint8_t *pixels, size_t stride,
                         uint32_t rows);
