#pragma once
#include <stddef.h>
#include <stdint.h>

#include "cpix_image.h"

// MARK: - Thumbnails (dashboard)
//
// Reentrant; every libpng/libjpeg error is caught in C and returned as a CPIX_* code with `status` filled.

/// Makes a baseline JPEG thumbnail, at most `max_side` pixels on its longer side, of a JPEG or PNG held in
/// memory (the format is read from the magic bytes). A JPEG is decoded with libjpeg's DCT scaling at the
/// smallest of 1/8, 1/4, 1/2 or 1 that still covers `max_side`, so a large photo costs little more than its
/// entropy decoding; the result is then box-averaged down. Images over `max_pixels` (0 = no limit) are
/// CPIX_ERR_TOO_LARGE before anything is allocated. On success `*out` is a malloc'd buffer (free it with
/// `cpix_free`) and `*out_width` / `*out_height` its dimensions.
int cpix_thumbnail(const uint8_t *data, size_t length, uint32_t max_side, uint64_t max_pixels, int quality,
                   uint8_t **out, size_t *out_len, uint32_t *out_width, uint32_t *out_height, cpix_status *status);
