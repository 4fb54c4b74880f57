// Thumbnails for the dashboard: libjpeg's scaled decode (or libpng's simplified reader), a box filter and the
// shim's JPEG encoder. Every libjpeg error is caught here with setjmp; no longjmp ever reaches Swift.
#include "cpix_thumbnail.h"

#include <stdio.h>  // before jpeglib.h, which uses FILE
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>

#include <jpeglib.h>
#include <png.h>

static void cpix_thumb_status(cpix_status *status, int code, const char *message) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, sizeof status->message, "%s", message);
}

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} cpix_thumb_jpeg_error;

static void cpix_thumb_jpeg_exit(j_common_ptr cinfo) {
    cpix_thumb_jpeg_error *error = (cpix_thumb_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

static void cpix_thumb_jpeg_silent(j_common_ptr cinfo) { (void)cinfo; }

/// Decodes a JPEG to RGB at the smallest DCT scale whose longer side still reaches `max_side`.
static int cpix_thumb_decode_jpeg(const uint8_t *data, size_t length, uint32_t max_side, uint64_t max_pixels,
                                  uint8_t **pixels, uint32_t *width, uint32_t *height, cpix_status *status) {
    struct jpeg_decompress_struct cinfo;
    cpix_thumb_jpeg_error error;
    error.message[0] = 0;
    uint8_t *volatile buffer = NULL;
    cinfo.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = cpix_thumb_jpeg_exit;
    error.manager.output_message = cpix_thumb_jpeg_silent;
    if (setjmp(error.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        cpix_thumb_status(status, CPIX_ERR_CORRUPT, error.message[0] ? error.message : "libjpeg error");
        return CPIX_ERR_CORRUPT;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    if (max_pixels && (uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        cpix_thumb_status(status, CPIX_ERR_TOO_LARGE, "image exceeds the pixel budget");
        return CPIX_ERR_TOO_LARGE;
    }
    uint32_t longer = cinfo.image_width > cinfo.image_height ? cinfo.image_width : cinfo.image_height;
    unsigned int denominator = 1;
    while (denominator < 8 && longer / (denominator * 2) >= max_side) denominator *= 2;
    cinfo.scale_num = 1;
    cinfo.scale_denom = denominator;
    cinfo.out_color_space = JCS_RGB;
    cinfo.dct_method = JDCT_IFAST;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * 3;
    buffer = malloc(stride * cinfo.output_height);
    if (!buffer) {
        jpeg_destroy_decompress(&cinfo);
        cpix_thumb_status(status, CPIX_ERR_MEMORY, "out of memory");
        return CPIX_ERR_MEMORY;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = (JSAMPROW)(buffer + (size_t)cinfo.output_scanline * stride);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    *width = cinfo.output_width;
    *height = cinfo.output_height;
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *pixels = buffer;
    return CPIX_OK;
}

/// Decodes a PNG to RGB (alpha composited on white) with libpng's simplified API, which handles its own errors.
static int cpix_thumb_decode_png(const uint8_t *data, size_t length, uint64_t max_pixels, uint8_t **pixels,
                                 uint32_t *width, uint32_t *height, cpix_status *status) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, length)) {
        cpix_thumb_status(status, CPIX_ERR_CORRUPT, image.message[0] ? image.message : "libpng error");
        png_image_free(&image);
        return CPIX_ERR_CORRUPT;
    }
    if (max_pixels && (uint64_t)image.width * image.height > max_pixels) {
        png_image_free(&image);
        cpix_thumb_status(status, CPIX_ERR_TOO_LARGE, "image exceeds the pixel budget");
        return CPIX_ERR_TOO_LARGE;
    }
    image.format = PNG_FORMAT_RGB;
    uint8_t *buffer = malloc(PNG_IMAGE_SIZE(image));
    if (!buffer) {
        png_image_free(&image);
        cpix_thumb_status(status, CPIX_ERR_MEMORY, "out of memory");
        return CPIX_ERR_MEMORY;
    }
    png_color white = {255, 255, 255};
    if (!png_image_finish_read(&image, &white, buffer, 0, NULL)) {
        cpix_thumb_status(status, CPIX_ERR_CORRUPT, image.message[0] ? image.message : "libpng error");
        png_image_free(&image);
        free(buffer);
        return CPIX_ERR_CORRUPT;
    }
    *width = image.width;
    *height = image.height;
    *pixels = buffer;
    return CPIX_OK;
}

/// Box-averages RGB pixels from `width`×`height` down to `new_width`×`new_height` (each at most the source's).
static void cpix_thumb_shrink(const uint8_t *source, uint32_t width, uint32_t height, uint8_t *target,
                              uint32_t new_width, uint32_t new_height) {
    for (uint32_t y = 0; y < new_height; y++) {
        uint32_t y0 = (uint32_t)((uint64_t)y * height / new_height);
        uint32_t y1 = (uint32_t)((uint64_t)(y + 1) * height / new_height);
        if (y1 <= y0) y1 = y0 + 1;
        for (uint32_t x = 0; x < new_width; x++) {
            uint32_t x0 = (uint32_t)((uint64_t)x * width / new_width);
            uint32_t x1 = (uint32_t)((uint64_t)(x + 1) * width / new_width);
            if (x1 <= x0) x1 = x0 + 1;
            uint64_t sum[3] = {0, 0, 0};
            for (uint32_t sy = y0; sy < y1; sy++) {
                const uint8_t *row = source + ((size_t)sy * width + x0) * 3;
                for (uint32_t sx = x0; sx < x1; sx++, row += 3) {
                    sum[0] += row[0];
                    sum[1] += row[1];
                    sum[2] += row[2];
                }
            }
            uint64_t count = (uint64_t)(y1 - y0) * (x1 - x0);
            uint8_t *pixel = target + ((size_t)y * new_width + x) * 3;
            for (int c = 0; c < 3; c++) pixel[c] = (uint8_t)((sum[c] + count / 2) / count);
        }
    }
}

int cpix_thumbnail(const uint8_t *data, size_t length, uint32_t max_side, uint64_t max_pixels, int quality,
                   uint8_t **out, size_t *out_len, uint32_t *out_width, uint32_t *out_height, cpix_status *status) {
    if (!data || length < 8 || max_side == 0 || !out || !out_len || !out_width || !out_height) {
        cpix_thumb_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
        return CPIX_ERR_ARGUMENT;
    }
    uint8_t *pixels = NULL;
    uint32_t width = 0, height = 0;
    int result;
    if (data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        result = cpix_thumb_decode_jpeg(data, length, max_side, max_pixels, &pixels, &width, &height, status);
    } else if (memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        result = cpix_thumb_decode_png(data, length, max_pixels, &pixels, &width, &height, status);
    } else {
        cpix_thumb_status(status, CPIX_ERR_ARGUMENT, "thumbnails are made of JPEG and PNG images only");
        return CPIX_ERR_ARGUMENT;
    }
    if (result != CPIX_OK) return result;
    uint32_t new_width = width, new_height = height;
    if (width > max_side || height > max_side) {
        if (width >= height) {
            new_width = max_side;
            new_height = (uint32_t)(((uint64_t)height * max_side + width / 2) / width);
        } else {
            new_height = max_side;
            new_width = (uint32_t)(((uint64_t)width * max_side + height / 2) / height);
        }
        if (new_width == 0) new_width = 1;
        if (new_height == 0) new_height = 1;
        uint8_t *small = malloc((size_t)new_width * new_height * 3);
        if (!small) {
            free(pixels);
            cpix_thumb_status(status, CPIX_ERR_MEMORY, "out of memory");
            return CPIX_ERR_MEMORY;
        }
        cpix_thumb_shrink(pixels, width, height, small, new_width, new_height);
        free(pixels);
        pixels = small;
    }
    result = cpix_jpeg_encode(pixels, new_width, new_height, 3, quality, out, out_len, status);
    free(pixels);
    if (result == CPIX_OK) {
        *out_width = new_width;
        *out_height = new_height;
    }
    return result;
}
