// A small PNG's rows by libdeflate (the shim's own use; see png_inflate.c).
#pragma once
#include "decode_rows.h"

/// The largest PNG (inflated, with its filter bytes) taken by one libdeflate call under the decoder memory cap
/// `cap`: 16 MiB (about a 2048 × 2048 RGBA picture) and at most half the cap.
static inline uint64_t cpix_png_inflate_max_raw(uint64_t cap) {
    uint64_t limit = (uint64_t)16 << 20;
    return cap / 2 < limit ? cap / 2 : limit;
}

/// Inflates and unfilters an 8-bit RGB or RGBA PNG that is not interlaced, has no tRNS chunk and inflates to at
/// most `max_raw` bytes, handing rows 0…`last_row` to `sink` as 8-bit RGBA (alpha 255 for RGB). `checked`: also
/// the checks of a validation (see png_inflate.c). CPIX_OK when every row was sent; CPIX_ERR_ARGUMENT, before any
/// row is sent, when the image is not one this path takes or any check fails (use libpng then, which reports the
/// error); CPIX_ERR_MEMORY when a buffer could not be had.
int cpix_png_inflate_rows(const uint8_t *data, size_t length, uint64_t max_raw, uint32_t last_row, int checked,
                          cpix_row_sink sink, void *sink_context);
