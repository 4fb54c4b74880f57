// Checks shared by the image decoder targets: what every shim function promises whatever the input.
#pragma once
#include <stdlib.h>
#include <string.h>

#include "cpix_image.h"
#include "cpix_resize.h"
#include "cpix_thumbnail.h"

/// Pixel budget of the targets: small enough that every input decodes in milliseconds.
#define FUZZ_MAX_PIXELS ((uint64_t)1 << 20)

/// A status message is always NUL-terminated, and an error always names its code.
static void fuzz_check_status(int result, const cpix_status *status) {
    if (memchr(status->message, 0, sizeof(status->message)) == NULL) abort();
    if (result != CPIX_OK && status->code != result) abort();
}

/// A successful decode reports dimensions within the budget it was given.
static void fuzz_check_header(int result, const cpix_image_header *header, const cpix_decode_options *options) {
    if (result != CPIX_OK) return;
    if (header->width == 0 || header->height == 0) abort();
    if ((uint64_t)header->width * header->height > options->max_pixels) abort();
}

/// The decode options of the targets: the budget above, a 16 MiB working-memory cap and a hash grid.
#define FUZZ_DECODE_OPTIONS(grid) \
    {.max_pixels = FUZZ_MAX_PIXELS, .max_memory = 16 << 20, .grid = (grid), .grid_width = 9, .grid_height = 8}

/// The header read, then the validation decode, of a format whose two functions have these shapes (PNG, WebP).
static void fuzz_header_and_decode(
    const uint8_t *data, size_t size,
    int (*read_header)(const uint8_t *, size_t, cpix_image_header *, cpix_status *),
    int (*decode)(const uint8_t *, size_t, const cpix_decode_options *, cpix_image_header *, cpix_status *)) {
    cpix_image_header header = {0};
    cpix_status status = {0};
    fuzz_check_status(read_header(data, size, &header, &status), &status);

    uint8_t grid[9 * 8];
    cpix_decode_options options = FUZZ_DECODE_OPTIONS(grid);
    memset(&header, 0, sizeof(header));
    int result = decode(data, size, &options, &header, &status);
    fuzz_check_status(result, &status);
    fuzz_check_header(result, &header, &options);
}

/// The dashboard thumbnail and the export resize of the same bytes (`format` is a CPIX_FORMAT_*).
static void fuzz_thumbnail_and_resize(const uint8_t *data, size_t size, int format) {
    cpix_status status = {0};
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (format != CPIX_FORMAT_WEBP) {
        uint32_t width = 0, height = 0;
        int result = cpix_thumbnail(data, size, 32, FUZZ_MAX_PIXELS, 80, &out, &out_len, &width, &height, &status);
        fuzz_check_status(result, &status);
        if (result == CPIX_OK && (width == 0 || height == 0 || width > 32 || height > 32 || out_len == 0)) abort();
        cpix_free(out);
        out = NULL;
    }
    cpix_resize_options options = {
        .size = 24, .mode = CPIX_RESIZE_CENTER_CROP, .only_if_bigger = 0, .encoding = CPIX_ENCODE_PNG,
        .quality = 80, .max_pixels = FUZZ_MAX_PIXELS};
    cpix_resize_result resized = {0};
    int result = cpix_resize_image(data, size, format, &options, &out, &out_len, &resized, &status);
    fuzz_check_status(result, &status);
    if (result == CPIX_OK && (resized.output_width != 24 || resized.output_height != 24 || out_len == 0)) abort();
    // The same resize as the validation (crawl-time resizing): whatever it accepts, the plain resize gave the
    // same bytes.
    uint8_t grid[72];
    options.validate = 1;
    options.grid = grid;
    options.grid_width = 9;
    options.grid_height = 8;
    uint8_t *checked = NULL;
    size_t checked_len = 0;
    int validated = cpix_resize_image(data, size, format, &options, &checked, &checked_len, &resized, &status);
    fuzz_check_status(validated, &status);
    if (validated == CPIX_OK && (result != CPIX_OK || checked_len != out_len || memcmp(checked, out, out_len) != 0))
        abort();
    cpix_free(checked);
    cpix_free(out);
}
