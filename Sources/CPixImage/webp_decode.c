// WebP header reading, validation decode and encoding through libwebp.
// libwebp reports errors through return codes (no longjmp); dimensions and working memory are checked
// from the header before it allocates anything, and the validation decode lets libwebp's rescaler
// area-average every reconstructed row into the tiny gray grid, so no full frame is held for lossy images.
#include "cpix_webp.h"
#include "decode_rows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/encode.h>

static int cpix_webp_status(cpix_status *status, int code, const char *message) {
    if (status) {
        status->code = code;
        snprintf(status->message, sizeof(status->message), "%s", message ? message : "");
    }
    return code;
}

static const char *cpix_webp_reason(VP8StatusCode code) {
    switch (code) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt WebP bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported WebP feature";
    case VP8_STATUS_SUSPENDED: return "WebP decoding suspended";
    case VP8_STATUS_USER_ABORT: return "WebP decoding aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "premature end of WebP data (truncated)";
    default: return "WebP decoder error";
    }
}

static int cpix_webp_fail(VP8StatusCode code, cpix_status *status) {
    int result = code == VP8_STATUS_OUT_OF_MEMORY ? CPIX_ERR_MEMORY
                 : code == VP8_STATUS_INVALID_PARAM ? CPIX_ERR_ARGUMENT
                                                    : CPIX_ERR_CORRUPT;
    return cpix_webp_status(status, result, cpix_webp_reason(code));
}

/// Reads the bitstream features; an animation is refused.
static int cpix_webp_features(const uint8_t *data, size_t length, WebPBitstreamFeatures *features,
                              cpix_status *status) {
    if (!data || !length) return cpix_webp_status(status, CPIX_ERR_ARGUMENT, "no data");
    VP8StatusCode code = WebPGetFeatures(data, length, features);
    if (code != VP8_STATUS_OK) return cpix_webp_fail(code, status);
    if (features->has_animation)
        return cpix_webp_status(status, CPIX_ERR_UNSUPPORTED, "animated WebP is not accepted");
    if (features->width <= 0 || features->height <= 0)
        return cpix_webp_status(status, CPIX_ERR_CORRUPT, "WebP declares no pixels");
    return CPIX_OK;
}

static void cpix_webp_fill_header(const WebPBitstreamFeatures *features, cpix_image_header *header) {
    if (!header) return;
    header->width = (uint32_t)features->width;
    header->height = (uint32_t)features->height;
    header->components = features->has_alpha ? 4 : 3;
    header->bit_depth = 8;
    header->progressive = 0;
}

int cpix_webp_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status) {
    WebPBitstreamFeatures features;
    int result = cpix_webp_features(data, length, &features, status);
    if (result != CPIX_OK) return result;
    cpix_webp_fill_header(&features, header);
    return CPIX_OK;
}

uint64_t cpix_webp_working_memory(uint32_t width, uint32_t height, int lossless, int alpha) {
    uint64_t pixels = (uint64_t)width * height;
    if (lossless) return pixels * 4;
    return alpha ? pixels : 0;
}

/// Pixel budget, maximum sides and the memory cap, all from the header: the decoder's working memory plus
/// `output` bytes the caller holds beside it.
static int cpix_webp_check(const WebPBitstreamFeatures *features, const cpix_decode_options *options,
                           uint64_t output, cpix_status *status) {
    char message[200];
    uint32_t width = (uint32_t)features->width, height = (uint32_t)features->height;
    if (!options) return CPIX_OK;
    uint64_t pixels = (uint64_t)width * height;
    if (options->max_pixels && pixels > options->max_pixels) {
        snprintf(message, sizeof(message), "%ux%u exceeds the pixel budget of %llu pixels", width, height,
                 (unsigned long long)options->max_pixels);
        return cpix_webp_status(status, CPIX_ERR_TOO_LARGE, message);
    }
    if ((options->max_width && width > options->max_width) || (options->max_height && height > options->max_height)) {
        snprintf(message, sizeof(message), "%ux%u exceeds the maximum %ux%u", width, height, options->max_width,
                 options->max_height);
        return cpix_webp_status(status, CPIX_ERR_TOO_LARGE, message);
    }
    uint64_t memory = cpix_webp_working_memory(width, height, features->format == 2, features->has_alpha) + output;
    if (options->max_memory && memory > options->max_memory) {
        snprintf(message, sizeof(message), "decoding %ux%u needs %llu bytes, above the decoder memory cap of %llu",
                 width, height, (unsigned long long)memory, (unsigned long long)options->max_memory);
        return cpix_webp_status(status, CPIX_ERR_TOO_LARGE, message);
    }
    return CPIX_OK;
}

/// Decodes single-threaded into a new buffer of `rows` rows of `stride` bytes in `colorspace` (`*out`, the caller
/// frees it); on failure nothing is left allocated.
static int cpix_webp_decode_into(const uint8_t *data, size_t length, WebPDecoderConfig *config,
                                 WEBP_CSP_MODE colorspace, size_t stride, uint32_t rows, uint8_t **out,
                                 cpix_status *status) {
    uint8_t *pixels = malloc(stride * rows);
    if (!pixels) return cpix_webp_status(status, CPIX_ERR_MEMORY, "out of memory");
    config->options.use_threads = 0;
    cpix_webp_output_to(config, colorspace, pixels, stride, rows);
    VP8StatusCode code = WebPDecode(data, length, config);
    WebPFreeDecBuffer(&config->output);
    if (code != VP8_STATUS_OK) {
        free(pixels);
        return cpix_webp_fail(code, status);
    }
    *out = pixels;
    return CPIX_OK;
}

int cpix_webp_decode(const uint8_t *data, size_t length, const cpix_decode_options *options,
                     cpix_image_header *header, cpix_status *status) {
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) return cpix_webp_status(status, CPIX_ERR_LIBRARY, "libwebp version mismatch");
    int result = cpix_webp_features(data, length, &config.input, status);
    if (result != CPIX_OK) return result;
    result = cpix_webp_check(&config.input, options, 0, status);
    if (result != CPIX_OK) return result;
    cpix_webp_fill_header(&config.input, header);

    int grid = options && options->grid && options->grid_width && options->grid_height;
    uint32_t out_width = grid ? options->grid_width : 1, out_height = grid ? options->grid_height : 1;
    config.options.use_scaling = 1;
    config.options.scaled_width = (int)out_width;
    config.options.scaled_height = (int)out_height;
    uint8_t *rgb;
    result = cpix_webp_decode_into(data, length, &config, MODE_RGB, (size_t)out_width * 3, out_height, &rgb, status);
    if (result != CPIX_OK) return result;
    if (grid) {
        size_t cells = (size_t)out_width * out_height;
        for (size_t i = 0; i < cells; i++) {
            const uint8_t *pixel = rgb + i * 3;
            uint32_t gray = (19595u * pixel[0] + 38470u * pixel[1] + 7471u * pixel[2] + 32768u) >> 16;
            options->grid[i] = (uint8_t)(gray > 255 ? 255 : gray);
        }
    }
    free(rgb);
    return CPIX_OK;
}

void cpix_webp_output_to(WebPDecoderConfig *config, WEBP_CSP_MODE colorspace, uint8_t *pixels, size_t stride,
                         uint32_t rows) {
    config->output.colorspace = colorspace;
    config->output.is_external_memory = 1;
    config->output.u.RGBA.rgba = pixels;
    config->output.u.RGBA.stride = (int)stride;
    config->output.u.RGBA.size = stride * rows;
}

int cpix_webp_decode_rgba(const uint8_t *data, size_t length, const cpix_decode_options *options,
                          uint64_t extra_memory, uint8_t **rgba, cpix_image_header *header, cpix_status *status) {
    WebPDecoderConfig config;
    if (!rgba) return cpix_webp_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    *rgba = NULL;
    if (!WebPInitDecoderConfig(&config)) return cpix_webp_status(status, CPIX_ERR_LIBRARY, "libwebp version mismatch");
    int result = cpix_webp_features(data, length, &config.input, status);
    if (result != CPIX_OK) return result;
    size_t stride = (size_t)config.input.width * 4;
    uint32_t height = (uint32_t)config.input.height;
    result = cpix_webp_check(&config.input, options, (uint64_t)stride * height + extra_memory, status);
    if (result != CPIX_OK) return result;
    result = cpix_webp_decode_into(data, length, &config, MODE_RGBA, stride, height, rgba, status);
    if (result != CPIX_OK) return result;
    cpix_webp_fill_header(&config.input, header);
    return cpix_webp_status(status, CPIX_OK, "");
}

static int cpix_webp_finish_encode(size_t size, uint8_t *encoded, uint8_t **out, size_t *out_len,
                                   cpix_status *status) {
    if (!size || !encoded) return cpix_webp_status(status, CPIX_ERR_LIBRARY, "WebP encoding failed");
    *out = encoded;
    *out_len = size;
    return CPIX_OK;
}

static int cpix_webp_encode_with(const uint8_t *pixels, uint32_t width, uint32_t height, int lossless, int quality,
                                 uint8_t **out, size_t *out_len, cpix_status *status) {
    if (!pixels || !width || !height || !out || !out_len || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
        return cpix_webp_status(status, CPIX_ERR_ARGUMENT, "invalid WebP encode arguments");
    WebPConfig config;
    WebPPicture picture;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&picture))
        return cpix_webp_status(status, CPIX_ERR_LIBRARY, "libwebp version mismatch");
    config.lossless = lossless;
    config.quality = lossless ? 70.0f : (float)(quality < 0 ? 0 : quality > 100 ? 100 : quality);
    config.thread_level = 0;
    picture.use_argb = lossless;
    picture.width = (int)width;
    picture.height = (int)height;
    WebPMemoryWriter writer;
    WebPMemoryWriterInit(&writer);
    picture.writer = WebPMemoryWrite;
    picture.custom_ptr = &writer;
    int ok = WebPPictureImportRGB(&picture, pixels, (int)width * 3) && WebPEncode(&config, &picture);
    WebPPictureFree(&picture);
    if (!ok) {
        WebPMemoryWriterClear(&writer);
        return cpix_webp_status(status, CPIX_ERR_LIBRARY, "WebP encoding failed");
    }
    return cpix_webp_finish_encode(writer.size, writer.mem, out, out_len, status);
}

int cpix_webp_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int quality, uint8_t **out,
                     size_t *out_len, cpix_status *status) {
    return cpix_webp_encode_with(pixels, width, height, 0, quality, out, out_len, status);
}

int cpix_webp_encode_lossless(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t **out,
                              size_t *out_len, cpix_status *status) {
    return cpix_webp_encode_with(pixels, width, height, 1, 0, out, out_len, status);
}
