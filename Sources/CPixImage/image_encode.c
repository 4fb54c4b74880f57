// PNG and JPEG encoders used by the fixture internet and the demo source.
// Every libpng/libjpeg error is caught here with setjmp; no longjmp ever reaches Swift.
#include "cpix_image.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

void cpix_free(void *pointer) { free(pointer); }

static void cpix_set_status(cpix_status *status, int code, const char *message) {
    if (!status) return;
    status->code = code;
    snprintf(status->message, sizeof(status->message), "%s", message ? message : "");
}

// MARK: - PNG

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
    int failed;
} cpix_buffer;

static void cpix_png_write(png_structp png, png_bytep bytes, png_size_t length) {
    cpix_buffer *buffer = (cpix_buffer *)png_get_io_ptr(png);
    if (buffer->failed) return;
    if (buffer->length + length > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity * 2 : 65536;
        while (capacity < buffer->length + length) capacity *= 2;
        uint8_t *grown = realloc(buffer->data, capacity);
        if (!grown) { buffer->failed = 1; return; }
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
}

static void cpix_png_flush(png_structp png) { (void)png; }

typedef struct {
    jmp_buf jump;
    char message[200];
} cpix_png_error_context;

static void cpix_png_error(png_structp png, png_const_charp message) {
    cpix_png_error_context *context = (cpix_png_error_context *)png_get_error_ptr(png);
    snprintf(context->message, sizeof(context->message), "%s", message);
    longjmp(context->jump, 1);
}

static void cpix_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

int cpix_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                    uint8_t **out, size_t *out_len, cpix_status *status) {
    return cpix_png_encode_level(pixels, width, height, channels, 6, out, out_len, status);
}

int cpix_png_encode_level(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int level,
                          uint8_t **out, size_t *out_len, cpix_status *status) {
    if (!pixels || !out || !out_len || width == 0 || height == 0) {
        cpix_set_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
        return CPIX_ERR_ARGUMENT;
    }
    int color_type;
    switch (channels) {
    case 1: color_type = PNG_COLOR_TYPE_GRAY; break;
    case 3: color_type = PNG_COLOR_TYPE_RGB; break;
    case 4: color_type = PNG_COLOR_TYPE_RGBA; break;
    default:
        cpix_set_status(status, CPIX_ERR_ARGUMENT, "channels must be 1, 3 or 4");
        return CPIX_ERR_ARGUMENT;
    }
    cpix_png_error_context context;
    context.message[0] = 0;
    cpix_buffer buffer = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, cpix_png_error, cpix_png_warning);
    if (!png) {
        cpix_set_status(status, CPIX_ERR_MEMORY, "png_create_write_struct failed");
        return CPIX_ERR_MEMORY;
    }
    png_infop info = png_create_info_struct(png);
    if (!info || setjmp(context.jump)) {
        png_destroy_write_struct(&png, info ? &info : NULL);
        free(buffer.data);
        cpix_set_status(status, CPIX_ERR_LIBRARY, context.message[0] ? context.message : "libpng error");
        return CPIX_ERR_LIBRARY;
    }
    png_set_write_fn(png, &buffer, cpix_png_write, cpix_png_flush);
    png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, level < 0 ? 0 : (level > 9 ? 9 : level));
    png_write_info(png, info);
    size_t stride = (size_t)width * (size_t)channels;
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * stride));
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    if (buffer.failed) {
        free(buffer.data);
        cpix_set_status(status, CPIX_ERR_MEMORY, "out of memory while encoding PNG");
        return CPIX_ERR_MEMORY;
    }
    *out = buffer.data;
    *out_len = buffer.length;
    cpix_set_status(status, CPIX_OK, "");
    return CPIX_OK;
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} cpix_jpeg_error_context;

static void cpix_jpeg_error_exit(j_common_ptr cinfo) {
    cpix_jpeg_error_context *context = (cpix_jpeg_error_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, context->message);
    longjmp(context->jump, 1);
}

static void cpix_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

int cpix_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                     uint8_t **out, size_t *out_len, cpix_status *status) {
    if (!pixels || !out || !out_len || width == 0 || height == 0 || (channels != 1 && channels != 3)) {
        cpix_set_status(status, CPIX_ERR_ARGUMENT, "invalid arguments (channels must be 1 or 3)");
        return CPIX_ERR_ARGUMENT;
    }
    struct jpeg_compress_struct cinfo;
    cpix_jpeg_error_context context;
    context.message[0] = 0;
    unsigned char *memory = NULL;
    unsigned long memory_len = 0;
    cinfo.err = jpeg_std_error(&context.manager);
    context.manager.error_exit = cpix_jpeg_error_exit;
    context.manager.output_message = cpix_jpeg_output_message;
    if (setjmp(context.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(memory);
        cpix_set_status(status, CPIX_ERR_LIBRARY, context.message[0] ? context.message : "libjpeg error");
        return CPIX_ERR_LIBRARY;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &memory, &memory_len);
    cinfo.image_width = width;
    cinfo.image_height = height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    // jpeg_mem_dest allocates with malloc; hand the buffer over as is.
    *out = memory;
    *out_len = (size_t)memory_len;
    cpix_set_status(status, CPIX_OK, "");
    return CPIX_OK;
}
