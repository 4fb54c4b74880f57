// PNG and JPEG decoders used by validation.
// Memory stays bounded: dimensions are checked from the header before the libraries allocate
// anything, pixels are streamed one row at a time through a single row buffer, and the only other
// output is a small gray grid (area-averaged) from which Swift computes the difference hash.
// Every libpng/libjpeg error is caught here with setjmp; no longjmp ever reaches Swift.
#include "cpix_image.h"
#include "cpix_webp.h"
#include "decode_rows.h"
#include "png_inflate.h"

#include <libdeflate.h>

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <limits.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static int cpix_decode_status(cpix_status *status, int code, const char *message) {
    if (status) {
        status->code = code;
        snprintf(status->message, sizeof(status->message), "%s", message ? message : "");
    }
    return code;
}

// MARK: - Limits

static int cpix_check_limits(uint32_t width, uint32_t height, const cpix_decode_options *options,
                             cpix_status *status) {
    char message[160];
    if (width == 0 || height == 0) {
        snprintf(message, sizeof(message), "image declares %ux%u pixels", width, height);
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, message);
    }
    if (!options) return CPIX_OK;
    uint64_t pixels = (uint64_t)width * (uint64_t)height;
    if (options->max_pixels && pixels > options->max_pixels) {
        snprintf(message, sizeof(message), "%ux%u exceeds the pixel budget of %llu pixels", width, height,
                 (unsigned long long)options->max_pixels);
        return cpix_decode_status(status, CPIX_ERR_TOO_LARGE, message);
    }
    if ((options->max_width && width > options->max_width) || (options->max_height && height > options->max_height)) {
        snprintf(message, sizeof(message), "%ux%u exceeds the maximum %ux%u", width, height, options->max_width,
                 options->max_height);
        return cpix_decode_status(status, CPIX_ERR_TOO_LARGE, message);
    }
    return CPIX_OK;
}

// MARK: - Memory cap
//
// Every decoder estimates its working memory from the header before the library allocates it and
// calls cpix_decode_check_memory; where the library has an allocator limit of its own (libjpeg's
// max_memory_to_use, libpng's chunk malloc limit) it is set to the same cap as a backstop.

uint64_t cpix_decode_memory_cap(const cpix_decode_options *options) {
    if (!options || options->max_memory == 0) return CPIX_DEFAULT_MAX_MEMORY;
    return options->max_memory;
}

int cpix_decode_check_memory(uint64_t needed, const char *what, const cpix_decode_options *options,
                             cpix_status *status) {
    uint64_t cap = cpix_decode_memory_cap(options);
    if (needed <= cap) return CPIX_OK;
    char message[200];
    snprintf(message, sizeof(message), "%s needs %llu bytes of decoder memory, more than the cap of %llu bytes",
             what ? what : "image", (unsigned long long)needed, (unsigned long long)cap);
    return cpix_decode_status(status, CPIX_ERR_MEMORY, message);
}

/// Bytes the gray grid's per-column tables take for a `width`-pixel row (see cpix_grid_prepare).
static uint64_t cpix_grid_memory(uint32_t width, const cpix_decode_options *options) {
    if (!options || !options->grid || !options->grid_width || !options->grid_height) return 0;
    return (uint64_t)width * 2 * sizeof(uint32_t) +
           (uint64_t)options->grid_width * (3 * sizeof(uint32_t) + 3 * sizeof(uint64_t)) +
           (uint64_t)options->grid_width * options->grid_height * sizeof(double);
}

// MARK: - Gray grid
//
// Area-weighted box averaging of a W×H image into a GW×GH grid, fed one row (or one Adam7 pass row)
// at a time. In "units", a source pixel spans GW horizontally and a grid cell spans W, so every cell
// receives a total weight of W×H. Channels are summed separately and turned into gray per cell
// (gray is linear in R, G, B), which keeps the per-pixel work to a few additions.

enum {
    CPIX_LAYOUT_GRAY = 0,        // gray first, `stride` bytes per pixel (gray, gray+alpha, unknown)
    CPIX_LAYOUT_RGB = 1,         // R, G, B first, `stride` bytes per pixel (RGB, RGBA)
    CPIX_LAYOUT_CMYK_ADOBE = 2,  // inverted CMYK as Adobe writes it, 4 bytes per pixel
};

typedef struct {
    uint32_t width, height, grid_width, grid_height;
    uint32_t *column_cell;    // first grid column each source column touches
    uint32_t *column_weight;  // that column's share of the source column's GW units
    uint32_t *inner_start;    // per grid column: first source column lying wholly inside it
    uint32_t *inner_end;      // per grid column: end of those source columns
    uint32_t *straddling;     // source columns that straddle a cell border (downscaling only)
    uint32_t straddling_count;
    int downscaling;          // grid_width <= width: a source column touches at most two cells
    uint64_t *row_sums;       // 3 × grid_width weighted channel sums (R, G, B) of the current row
    double *sums;             // grid_width × grid_height weighted gray sums, scaled by 65536
} cpix_grid;

static void cpix_grid_release(cpix_grid *grid) {
    free(grid->column_cell);
    free(grid->column_weight);
    free(grid->inner_start);
    free(grid->inner_end);
    free(grid->straddling);
    free(grid->row_sums);
    free(grid->sums);
    memset(grid, 0, sizeof(*grid));
}

static int cpix_grid_prepare(cpix_grid *grid, uint32_t width, uint32_t height, uint32_t grid_width,
                             uint32_t grid_height) {
    memset(grid, 0, sizeof(*grid));
    grid->width = width;
    grid->height = height;
    grid->grid_width = grid_width;
    grid->grid_height = grid_height;
    grid->downscaling = grid_width <= width;
    grid->column_cell = malloc(sizeof(uint32_t) * width);
    grid->column_weight = malloc(sizeof(uint32_t) * width);
    grid->inner_start = calloc(grid_width, sizeof(uint32_t));
    grid->inner_end = calloc(grid_width, sizeof(uint32_t));
    grid->straddling = malloc(sizeof(uint32_t) * grid_width);
    grid->row_sums = calloc((size_t)grid_width * 3, sizeof(uint64_t));
    grid->sums = calloc((size_t)grid_width * grid_height, sizeof(double));
    if (!grid->column_cell || !grid->column_weight || !grid->inner_start || !grid->inner_end || !grid->straddling ||
        !grid->row_sums || !grid->sums) {
        cpix_grid_release(grid);
        return CPIX_ERR_MEMORY;
    }
    for (uint32_t x = 0; x < width; x++) {
        uint64_t start = (uint64_t)x * grid_width;
        uint64_t cell = start / width;
        uint64_t cell_end = (cell + 1) * width;
        uint64_t end = start + grid_width;
        grid->column_cell[x] = (uint32_t)cell;
        grid->column_weight[x] = (uint32_t)((end < cell_end ? end : cell_end) - start);
    }
    if (grid->downscaling) {
        // Source columns wholly inside one cell are contiguous; the few others straddle a border.
        uint32_t previous = UINT32_MAX;
        for (uint32_t x = 0; x < width; x++) {
            uint32_t cell = grid->column_cell[x];
            if (grid->column_weight[x] < grid_width) {
                grid->straddling[grid->straddling_count++] = x;
                continue;
            }
            if (cell != previous) {
                grid->inner_start[cell] = x;
                previous = cell;
            }
            grid->inner_end[cell] = x + 1;
        }
    }
    return CPIX_OK;
}

/// Adds one pixel's channel values with its horizontal weights (general path).
static inline void cpix_grid_add_pixel(cpix_grid *grid, uint32_t x, uint32_t r, uint32_t g, uint32_t b) {
    uint32_t cell = grid->column_cell[x];
    uint32_t weight = grid->column_weight[x];
    uint32_t remaining = grid->grid_width;
    for (;;) {
        uint64_t *target = grid->row_sums + (size_t)cell * 3;
        target[0] += (uint64_t)r * weight;
        target[1] += (uint64_t)g * weight;
        target[2] += (uint64_t)b * weight;
        remaining -= weight;
        if (!remaining) break;
        cell++;
        weight = remaining < grid->width ? remaining : grid->width;
    }
}

#if defined(__SSE2__)
/// The sum of a register's two 64-bit lanes.
static inline uint64_t cpix_lane_sum(__m128i lanes) {
    uint64_t both[2];
    _mm_storeu_si128((__m128i *)both, lanes);
    return both[0] + both[1];
}
#endif

/// Adds `count` pixels of one row, located at image columns x0, x0+dx, … on image row `y`.
static void cpix_grid_add_row(cpix_grid *grid, const uint8_t *row, uint32_t count, int layout, int stride,
                              uint32_t x0, uint32_t dx, uint32_t y) {
    int rgb = layout != CPIX_LAYOUT_GRAY;
    if (layout != CPIX_LAYOUT_CMYK_ADOBE && grid->downscaling && x0 == 0 && dx == 1 && count == grid->width) {
        // Fast path: plain sums over the columns wholly inside each cell, then the straddling ones.
        for (uint32_t cell = 0; cell < grid->grid_width; cell++) {
            const uint8_t *pixel = row + (size_t)grid->inner_start[cell] * stride;
            uint32_t n = grid->inner_end[cell] - grid->inner_start[cell];
            uint64_t *target = grid->row_sums + (size_t)cell * 3;
            if (rgb) {
                uint64_t r = 0, g = 0, b = 0;
                uint32_t i = 0;
#if defined(__SSE2__)
                if (stride == 4) {
                    // Four-byte pixels (the resize decoders' rows), four at a time: each channel's bytes masked out
                    // and summed by PSADBW into 64-bit lanes.
                    const __m128i zero = _mm_setzero_si128(), red = _mm_set1_epi32(0xFF),
                                  green = _mm_set1_epi32(0xFF00), blue = _mm_set1_epi32(0xFF0000);
                    __m128i sr = zero, sg = zero, sb = zero;
                    for (; i + 4 <= n; i += 4, pixel += 16) {
                        __m128i v = _mm_loadu_si128((const __m128i *)pixel);
                        sr = _mm_add_epi64(sr, _mm_sad_epu8(_mm_and_si128(v, red), zero));
                        sg = _mm_add_epi64(sg, _mm_sad_epu8(_mm_and_si128(v, green), zero));
                        sb = _mm_add_epi64(sb, _mm_sad_epu8(_mm_and_si128(v, blue), zero));
                    }
                    r = cpix_lane_sum(sr);
                    g = cpix_lane_sum(sg);
                    b = cpix_lane_sum(sb);
                }
#endif
                for (; i < n; i++, pixel += stride) {
                    r += pixel[0];
                    g += pixel[1];
                    b += pixel[2];
                }
                target[0] += r * grid->grid_width;
                target[1] += g * grid->grid_width;
                target[2] += b * grid->grid_width;
            } else {
                uint64_t g = 0;
                for (uint32_t i = 0; i < n; i++, pixel += stride) g += pixel[0];
                target[1] += g * grid->grid_width;
            }
        }
        for (uint32_t i = 0; i < grid->straddling_count; i++) {
            uint32_t x = grid->straddling[i];
            const uint8_t *pixel = row + (size_t)x * stride;
            if (rgb) cpix_grid_add_pixel(grid, x, pixel[0], pixel[1], pixel[2]);
            else cpix_grid_add_pixel(grid, x, 0, pixel[0], 0);
        }
    } else {
        uint32_t x = x0;
        for (uint32_t i = 0; i < count; i++, row += stride, x += dx) {
            if (layout == CPIX_LAYOUT_CMYK_ADOBE) {
                uint32_t k = row[3];
                cpix_grid_add_pixel(grid, x, row[0] * k / 255, row[1] * k / 255, row[2] * k / 255);
            } else if (rgb) {
                cpix_grid_add_pixel(grid, x, row[0], row[1], row[2]);
            } else {
                cpix_grid_add_pixel(grid, x, 0, row[0], 0);
            }
        }
    }
    // Turn the row's channel sums into gray (×65536) and spread them over the grid rows it overlaps.
    uint64_t start = (uint64_t)y * grid->grid_height;
    uint64_t remaining = grid->grid_height;
    uint64_t cell = start / grid->height;
    while (remaining) {
        uint64_t cell_end = (cell + 1) * grid->height;
        uint64_t part = start + remaining < cell_end ? remaining : cell_end - start;
        double *target = grid->sums + cell * grid->grid_width;
        for (uint32_t i = 0; i < grid->grid_width; i++) {
            const uint64_t *channel = grid->row_sums + (size_t)i * 3;
            uint64_t gray = rgb ? 19595u * channel[0] + 38470u * channel[1] + 7471u * channel[2] : 65536u * channel[1];
            target[i] += (double)gray * (double)part;
        }
        start += part;
        remaining -= part;
        cell++;
    }
    memset(grid->row_sums, 0, sizeof(uint64_t) * 3 * grid->grid_width);
}

static void cpix_grid_finish(const cpix_grid *grid, uint8_t *out) {
    double total = (double)grid->width * (double)grid->height * 65536.0;
    size_t cells = (size_t)grid->grid_width * grid->grid_height;
    for (size_t i = 0; i < cells; i++) {
        uint64_t value = (uint64_t)(grid->sums[i] / total + 0.5);
        out[i] = (uint8_t)(value > 255 ? 255 : value);
    }
}

static int cpix_wants_grid(const cpix_decode_options *options) {
    return options && options->grid && options->grid_width && options->grid_height;
}

// MARK: - PNG header


int cpix_png_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status) {
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (!data || !header) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    if (length < 8 || memcmp(data, signature, 8) != 0)
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "not a PNG signature");
    if (length < 33) return cpix_decode_status(status, CPIX_ERR_CORRUPT, "premature end of PNG data in IHDR");
    const uint8_t *chunk = data + 8;
    if (cpix_be32(chunk) != 13 || memcmp(chunk + 4, "IHDR", 4) != 0)
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "PNG does not start with a valid IHDR chunk");
    if (libdeflate_crc32(0, chunk + 4, 17) != cpix_be32(chunk + 21))
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "IHDR: CRC error");
    const uint8_t *fields = chunk + 8;
    uint32_t width = cpix_be32(fields), height = cpix_be32(fields + 4);
    uint8_t depth = fields[8], color = fields[9], compression = fields[10], filter = fields[11], interlace = fields[12];
    if (width == 0 || height == 0 || width > 0x7FFFFFFFu || height > 0x7FFFFFFFu)
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "IHDR: invalid image dimensions");
    uint32_t components;
    int depth_ok;
    switch (color) {
    case 0: components = 1; depth_ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16; break;
    case 3: components = 1; depth_ok = depth == 1 || depth == 2 || depth == 4 || depth == 8; break;
    case 2: components = 3; depth_ok = depth == 8 || depth == 16; break;
    case 4: components = 2; depth_ok = depth == 8 || depth == 16; break;
    case 6: components = 4; depth_ok = depth == 8 || depth == 16; break;
    default: return cpix_decode_status(status, CPIX_ERR_CORRUPT, "IHDR: invalid colour type");
    }
    if (!depth_ok) return cpix_decode_status(status, CPIX_ERR_CORRUPT, "IHDR: invalid bit depth for colour type");
    if (compression != 0 || filter != 0 || interlace > 1)
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "IHDR: unknown compression, filter or interlace method");
    header->width = width;
    header->height = height;
    header->components = components;
    header->bit_depth = depth;
    header->progressive = interlace;
    return cpix_decode_status(status, CPIX_OK, "");
}

// MARK: - JPEG header

int cpix_jpeg_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status) {
    if (!data || !header) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    if (length < 4 || data[0] != 0xFF || data[1] != 0xD8)
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, "not a JPEG file (no SOI marker)");
    size_t position = 2;
    for (;;) {
        // Find the next marker; tolerate garbage and fill bytes as libjpeg does.
        while (position < length && data[position] != 0xFF) position++;
        while (position < length && data[position] == 0xFF) position++;
        if (position >= length)
            return cpix_decode_status(status, CPIX_ERR_CORRUPT, "premature end of JPEG data before the frame header");
        uint8_t marker = data[position++];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // standalone markers
        if (marker == 0xD8) return cpix_decode_status(status, CPIX_ERR_CORRUPT, "invalid JPEG: two SOI markers");
        if (marker == 0xD9 || marker == 0xDA)
            return cpix_decode_status(status, CPIX_ERR_CORRUPT, "JPEG has no frame header before its image data");
        if (length - position < 2)
            return cpix_decode_status(status, CPIX_ERR_CORRUPT, "premature end of JPEG data before the frame header");
        size_t segment = ((size_t)data[position] << 8) | data[position + 1];
        if (segment < 2) return cpix_decode_status(status, CPIX_ERR_CORRUPT, "invalid JPEG marker length");
        int is_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (is_frame) {
            if (segment < 8 || length - position < 8)
                return cpix_decode_status(status, CPIX_ERR_CORRUPT, "premature end of JPEG data in the frame header");
            const uint8_t *frame = data + position + 2;
            uint32_t height = ((uint32_t)frame[1] << 8) | frame[2];
            uint32_t width = ((uint32_t)frame[3] << 8) | frame[4];
            if (width == 0 || height == 0)
                return cpix_decode_status(status, CPIX_ERR_CORRUPT, "JPEG frame header declares an empty image");
            if (frame[5] == 0) return cpix_decode_status(status, CPIX_ERR_CORRUPT, "JPEG frame has no components");
            if (frame[5] > CPIX_JPEG_MAX_COMPONENTS) {
                char message[120];
                snprintf(message, sizeof(message), "JPEG frame has %u components (at most %d are decoded)", frame[5],
                         CPIX_JPEG_MAX_COMPONENTS);
                return cpix_decode_status(status, CPIX_ERR_CORRUPT, message);
            }
            header->width = width;
            header->height = height;
            header->components = frame[5];
            header->bit_depth = frame[0];
            header->progressive = marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE;
            return cpix_decode_status(status, CPIX_OK, "");
        }
        if (length - position < segment)
            return cpix_decode_status(status, CPIX_ERR_CORRUPT, "premature end of JPEG data before the frame header");
        position += segment;
    }
}

// MARK: - JPEG decode

enum { CPIX_JPEG_MAX_SCANS = 500 };  // progressive scan count limit (as TurboJPEG's TJFLAG_LIMITSCANS)

typedef struct {
    struct jpeg_error_mgr manager;  // first: libjpeg hands back this pointer
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int code;
    char message[JMSG_LENGTH_MAX];
    // Resources released after a longjmp; reachable through cinfo->err, so never cached in registers.
    uint8_t *row;
    cpix_grid grid;
} cpix_jpeg_context;

static void cpix_jpeg_fail(j_common_ptr cinfo, int code) {
    cpix_jpeg_context *context = (cpix_jpeg_context *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, context->message);
    context->code = code;
    longjmp(context->jump, 1);
}

static void cpix_jpeg_decode_error_exit(j_common_ptr cinfo) {
    int code = cinfo->err->msg_code;
    if (code == JERR_NO_BACKING_STORE || code == JERR_OUT_OF_MEMORY) {
        // jmemnobs has no backing store: a whole-image buffer over max_memory_to_use ends here.
        cpix_jpeg_context *context = (cpix_jpeg_context *)cinfo->err;
        long limit = cinfo->mem ? cinfo->mem->max_memory_to_use : 0L;
        if (limit > 0)
            snprintf(context->message, sizeof(context->message),
                     "JPEG needs more decoder memory than allowed (%ld bytes)", limit);
        else
            snprintf(context->message, sizeof(context->message), "out of memory while decoding JPEG");
        context->code = CPIX_ERR_MEMORY;
        longjmp(context->jump, 1);
    }
    cpix_jpeg_fail(cinfo, CPIX_ERR_CORRUPT);
}

static void cpix_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    int code = cinfo->err->msg_code;
    if (code == JWRN_JFIF_MAJOR || code == JWRN_ADOBE_XFORM || code == JWRN_BOGUS_ICC) {
        cinfo->err->num_warnings++;  // metadata only: the pixels are unaffected
        return;
    }
    cpix_jpeg_fail(cinfo, CPIX_ERR_CORRUPT);  // premature end, bad Huffman code, extraneous bytes, ...
}

static void cpix_jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > CPIX_JPEG_MAX_SCANS) {
        cpix_jpeg_context *context = (cpix_jpeg_context *)cinfo->err;
        snprintf(context->message, sizeof(context->message), "JPEG has more than %d progressive scans",
                 CPIX_JPEG_MAX_SCANS);
        context->code = CPIX_ERR_CORRUPT;
        longjmp(context->jump, 1);
    }
}

/// Working memory a decode of this frame needs beyond libjpeg's small fixed tables: the whole-image
/// coefficient buffer of a multi-scan JPEG (64 coefficients of 2 bytes per block, blocks rounded up to
/// the sampling factors as jdcoefct.c allocates them), a full-width row and the grid.
static uint64_t cpix_jpeg_memory(j_decompress_ptr cinfo, const cpix_decode_options *options) {
    uint64_t needed = (uint64_t)cinfo->image_width * 4 + 1;
    needed += cpix_grid_memory(cinfo->image_width, options);
    if (!jpeg_has_multiple_scans(cinfo)) return needed;
    for (int i = 0; i < cinfo->num_components; i++) {
        const jpeg_component_info *component = cinfo->comp_info + i;
        uint64_t h = component->h_samp_factor > 0 ? (uint64_t)component->h_samp_factor : 1;
        uint64_t v = component->v_samp_factor > 0 ? (uint64_t)component->v_samp_factor : 1;
        uint64_t columns = ((uint64_t)component->width_in_blocks + h - 1) / h * h;
        uint64_t rows = ((uint64_t)component->height_in_blocks + v - 1) / v * v;
        needed += columns * rows * DCTSIZE2 * sizeof(JCOEF);
    }
    return needed;
}

/// Decodes rows for a sink at scale k/8 (the third mode, beside CPIX_JPEG_SCALED and CPIX_JPEG_FULL).
enum { CPIX_JPEG_ROWS = 2 };

static int cpix_jpeg_decode_with(const uint8_t *data, size_t length, int mode, uint32_t scale,
                                 const cpix_decode_options *options, cpix_row_sink sink, void *sink_context,
                                 cpix_image_header *header, cpix_status *status);

int cpix_jpeg_decode(const uint8_t *data, size_t length, int mode, const cpix_decode_options *options,
                     cpix_image_header *header, cpix_status *status) {
    if (mode != CPIX_JPEG_SCALED && mode != CPIX_JPEG_FULL)
        return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    return cpix_jpeg_decode_with(data, length, mode, 8, options, NULL, NULL, header, status);
}

int cpix_jpeg_decode_rows(const uint8_t *data, size_t length, uint32_t scale_eighths,
                          const cpix_decode_options *options, cpix_row_sink sink, void *sink_context,
                          cpix_image_header *header, cpix_status *status) {
    if (!sink || scale_eighths < 1 || scale_eighths > 8)
        return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    return cpix_jpeg_decode_with(data, length, CPIX_JPEG_ROWS, scale_eighths, options, sink, sink_context, header,
                                 status);
}

static int cpix_jpeg_decode_with(const uint8_t *data, size_t length, int mode, uint32_t scale,
                                 const cpix_decode_options *options, cpix_row_sink sink, void *sink_context,
                                 cpix_image_header *header, cpix_status *status) {
    if (!data || length == 0) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    // Cheap header walk first: a bomb is refused before libjpeg allocates anything.
    cpix_image_header probed;
    int result = cpix_jpeg_read_header(data, length, &probed, status);
    if (result != CPIX_OK) return result;
    result = cpix_check_limits(probed.width, probed.height, options, status);
    if (result != CPIX_OK) return result;

    struct jpeg_decompress_struct cinfo;
    cpix_jpeg_context context;
    memset(&context, 0, sizeof(context));
    cinfo.err = jpeg_std_error(&context.manager);
    context.manager.error_exit = cpix_jpeg_decode_error_exit;
    context.manager.emit_message = cpix_jpeg_emit_message;
    if (setjmp(context.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(context.row);
        cpix_grid_release(&context.grid);
        return cpix_decode_status(status, context.code ? context.code : CPIX_ERR_CORRUPT,
                                  context.message[0] ? context.message : "libjpeg error");
    }
    jpeg_create_decompress(&cinfo);
    context.progress.progress_monitor = cpix_jpeg_progress;
    cinfo.progress = &context.progress;
    uint64_t cap = cpix_decode_memory_cap(options);
    cinfo.mem->max_memory_to_use = cap > (uint64_t)LONG_MAX ? LONG_MAX : (long)cap;
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(context.message, sizeof(context.message), "JPEG holds tables but no image");
        context.code = CPIX_ERR_CORRUPT;
        longjmp(context.jump, 1);
    }
    // libjpeg's own view of the frame is authoritative; check it again.
    result = cpix_check_limits(cinfo.image_width, cinfo.image_height, options, status);
    if (result != CPIX_OK) {
        jpeg_destroy_decompress(&cinfo);
        return result;
    }
    if (cinfo.num_components > CPIX_JPEG_MAX_COMPONENTS) {
        jpeg_destroy_decompress(&cinfo);
        char message[120];
        snprintf(message, sizeof(message), "JPEG frame has %d components (at most %d are decoded)",
                 cinfo.num_components, CPIX_JPEG_MAX_COMPONENTS);
        return cpix_decode_status(status, CPIX_ERR_CORRUPT, message);
    }
    // A progressive (or multi-scan) JPEG buffers every coefficient of the whole image: refuse it here,
    // with the exact size, rather than midway through the scans.
    result = cpix_decode_check_memory(cpix_jpeg_memory(&cinfo, options), "JPEG", options, status);
    if (result != CPIX_OK) {
        jpeg_destroy_decompress(&cinfo);
        return result;
    }
    if (header) {
        header->width = cinfo.image_width;
        header->height = cinfo.image_height;
        header->components = (uint32_t)cinfo.num_components;
        header->bit_depth = (uint32_t)cinfo.data_precision;
        header->progressive = cinfo.progressive_mode ? 1 : 0;
    }
    J_COLOR_SPACE source = cinfo.jpeg_color_space;
    int is_cmyk = source == JCS_CMYK || source == JCS_YCCK;
    if (mode == CPIX_JPEG_SCALED) {
        cinfo.scale_num = 1;
        cinfo.scale_denom = 8;
        cinfo.dct_method = JDCT_IFAST;
        cinfo.do_fancy_upsampling = FALSE;
        cinfo.do_block_smoothing = FALSE;
        if (source == JCS_GRAYSCALE || source == JCS_YCbCr || source == JCS_RGB) cinfo.out_color_space = JCS_GRAYSCALE;
        else if (is_cmyk) cinfo.out_color_space = JCS_CMYK;
    } else if (mode == CPIX_JPEG_ROWS) {
        cinfo.scale_num = scale;
        cinfo.scale_denom = 8;
        cinfo.out_color_space = is_cmyk ? JCS_CMYK : JCS_EXT_RGBX;  // four bytes a pixel either way
    } else {
        if (source == JCS_YCbCr || source == JCS_RGB) cinfo.out_color_space = JCS_RGB;
        else if (is_cmyk) cinfo.out_color_space = JCS_CMYK;
    }
    jpeg_start_decompress(&cinfo);
    int layout = CPIX_LAYOUT_GRAY;
    if (cinfo.out_color_space == JCS_RGB || cinfo.out_color_space == JCS_EXT_RGBX) layout = CPIX_LAYOUT_RGB;
    else if (cinfo.out_color_space == JCS_CMYK) layout = CPIX_LAYOUT_CMYK_ADOBE;
    int stride = cinfo.output_components;
    // libjpeg-turbo's SIMD colour converters write 16-byte-aligned rows with non-temporal stores,
    // which push the row out of the cache right before we read it for the grid (measured: full-size
    // decode twice as slow). An odd offset makes them use ordinary stores.
    context.row = malloc((size_t)cinfo.output_width * (size_t)stride + 1);
    if (!context.row) {
        snprintf(context.message, sizeof(context.message), "out of memory for a JPEG row");
        context.code = CPIX_ERR_MEMORY;
        longjmp(context.jump, 1);
    }
    int grid = cpix_wants_grid(options);
    if (grid && cpix_grid_prepare(&context.grid, cinfo.output_width, cinfo.output_height, options->grid_width,
                                  options->grid_height) != CPIX_OK) {
        snprintf(context.message, sizeof(context.message), "out of memory for the gray grid");
        context.code = CPIX_ERR_MEMORY;
        longjmp(context.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JDIMENSION y = cinfo.output_scanline;
        JSAMPROW row = context.row + 1;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(context.message, sizeof(context.message), "libjpeg returned no scanline");
            context.code = CPIX_ERR_CORRUPT;
            longjmp(context.jump, 1);
        }
        if (grid) cpix_grid_add_row(&context.grid, row, cinfo.output_width, layout, stride, 0, 1, y);
        if (sink) {
            if (layout == CPIX_LAYOUT_CMYK_ADOBE) cpix_cmyk_to_rgbx(row, cinfo.output_width);
            sink(sink_context, row, y, cinfo.output_width);
        }
    }
    jpeg_finish_decompress(&cinfo);  // reads up to EOI: a missing end is "premature end of JPEG file"
    if (grid) cpix_grid_finish(&context.grid, options->grid);
    jpeg_destroy_decompress(&cinfo);
    free(context.row);
    cpix_grid_release(&context.grid);
    return cpix_decode_status(status, CPIX_OK, "");
}

// MARK: - PNG decode

typedef struct {
    jmp_buf jump;
    int code;
    char message[200];
    // Input.
    const uint8_t *data;
    size_t length;
    size_t offset;
    // Resources released after a longjmp; reachable through the error pointer.
    uint8_t *row;
    cpix_grid grid;
} cpix_png_context;

static void cpix_png_decode_error(png_structp png, png_const_charp message) {
    cpix_png_context *context = (cpix_png_context *)png_get_error_ptr(png);
    snprintf(context->message, sizeof(context->message), "%s", message);
    if (!context->code) context->code = CPIX_ERR_CORRUPT;
    longjmp(context->jump, 1);
}

/// Warnings that mean the image data itself is damaged (libpng reports some as "benign" errors).
static int cpix_png_warning_is_corruption(const char *message) {
    static const char *const markers[] = {"CRC", "data check", "image data", "invalid", "too far back", "Z_"};
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
        if (strstr(message, markers[i])) return 1;
    return 0;
}

static void cpix_png_decode_warning(png_structp png, png_const_charp message) {
    if (!cpix_png_warning_is_corruption(message)) return;
    cpix_png_context *context = (cpix_png_context *)png_get_error_ptr(png);
    snprintf(context->message, sizeof(context->message), "%s", message);
    context->code = CPIX_ERR_CORRUPT;
    longjmp(context->jump, 1);
}

static void cpix_png_read(png_structp png, png_bytep out, size_t count) {
    cpix_png_context *context = (cpix_png_context *)png_get_io_ptr(png);
    if (count > context->length - context->offset) png_error(png, "premature end of PNG data");
    memcpy(out, context->data + context->offset, count);
    context->offset += count;
}

static int cpix_png_decode_with(const uint8_t *data, size_t length, const cpix_decode_options *options,
                                cpix_row_sink sink, void *sink_context, cpix_image_header *header,
                                cpix_status *status);

int cpix_png_decode(const uint8_t *data, size_t length, const cpix_decode_options *options,
                    cpix_image_header *header, cpix_status *status) {
    return cpix_png_decode_with(data, length, options, NULL, NULL, header, status);
}

int cpix_png_decode_rows(const uint8_t *data, size_t length, const cpix_decode_options *options,
                         cpix_row_sink sink, void *sink_context, cpix_image_header *header, cpix_status *status) {
    if (!sink) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    return cpix_png_decode_with(data, length, options, sink, sink_context, header, status);
}

// MARK: - WebP rows

int cpix_webp_decode_rows(const uint8_t *data, size_t length, const cpix_decode_options *options,
                          cpix_row_sink sink, void *sink_context, cpix_image_header *header, cpix_status *status) {
    if (!sink) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    cpix_image_header probed;
    uint8_t *rgba;
    int wants_grid = cpix_wants_grid(options);
    int code = cpix_webp_read_header(data, length, &probed, status);
    if (code != CPIX_OK) return code;
    code = cpix_webp_decode_rgba(data, length, options, cpix_grid_memory(probed.width, options), &rgba, &probed,
                                 status);
    if (code != CPIX_OK) return code;
    cpix_grid grid;
    if (wants_grid &&
        cpix_grid_prepare(&grid, probed.width, probed.height, options->grid_width, options->grid_height) != CPIX_OK) {
        free(rgba);
        return cpix_decode_status(status, CPIX_ERR_MEMORY, "out of memory for the gray grid");
    }
    size_t stride = (size_t)probed.width * 4;
    for (uint32_t y = 0; y < probed.height; y++) {
        uint8_t *row = rgba + y * stride;
        if (wants_grid) cpix_grid_add_row(&grid, row, probed.width, CPIX_LAYOUT_RGB, 4, 0, 1, y);
        sink(sink_context, row, y, probed.width);
    }
    if (wants_grid) {
        cpix_grid_finish(&grid, options->grid);
        cpix_grid_release(&grid);
    }
    free(rgba);
    if (header) *header = probed;
    return cpix_decode_status(status, CPIX_OK, "");
}

/// Rows of the libdeflate path: into the grid, then to the caller's sink.
typedef struct {
    cpix_grid *grid;
    cpix_row_sink sink;
    void *sink_context;
} cpix_png_fast_rows;

static void cpix_png_fast_row(void *context, uint8_t *row, uint32_t y, uint32_t width) {
    cpix_png_fast_rows *rows = context;
    if (rows->grid) cpix_grid_add_row(rows->grid, row, width, CPIX_LAYOUT_RGB, 4, 0, 1, y);
    if (rows->sink) rows->sink(rows->sink_context, row, y, width);
}

/// A small, plain 8-bit RGB or RGBA PNG through libdeflate, with every check libpng would make of it (see
/// png_inflate.c). CPIX_OK with the grid written when it passed; CPIX_ERR_ARGUMENT when libpng must decide.
static int cpix_png_decode_fast(const uint8_t *data, size_t length, const cpix_image_header *probed,
                                const cpix_decode_options *options, cpix_row_sink sink, void *sink_context,
                                cpix_status *status) {
    uint64_t max_raw = cpix_png_inflate_max_raw(cpix_decode_memory_cap(options));
    cpix_grid grid;
    int wants_grid = cpix_wants_grid(options);
    if (wants_grid &&
        cpix_grid_prepare(&grid, probed->width, probed->height, options->grid_width, options->grid_height) != CPIX_OK)
        return cpix_decode_status(status, CPIX_ERR_MEMORY, "out of memory for the gray grid");
    cpix_png_fast_rows rows = {wants_grid ? &grid : NULL, sink, sink_context};
    int code = cpix_png_inflate_rows(data, length, max_raw, UINT32_MAX, 1, cpix_png_fast_row, &rows);
    if (code == CPIX_OK && wants_grid) cpix_grid_finish(&grid, options->grid);
    if (wants_grid) cpix_grid_release(&grid);
    if (code == CPIX_ERR_MEMORY) return cpix_decode_status(status, code, "out of memory for the PNG");
    return code == CPIX_OK ? cpix_decode_status(status, CPIX_OK, "") : CPIX_ERR_ARGUMENT;
}

static int cpix_png_decode_with(const uint8_t *data, size_t length, const cpix_decode_options *options,
                                cpix_row_sink sink, void *sink_context, cpix_image_header *header,
                                cpix_status *status) {
    if (!data || length == 0) return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "invalid arguments");
    // Cheap IHDR read first: a bomb is refused before libpng allocates anything.
    cpix_image_header probed;
    int result = cpix_png_read_header(data, length, &probed, status);
    if (result != CPIX_OK) return result;
    result = cpix_check_limits(probed.width, probed.height, options, status);
    if (result != CPIX_OK) return result;
    if (sink && probed.progressive)
        return cpix_decode_status(status, CPIX_ERR_ARGUMENT, "an interlaced PNG has no rows to hand on in order");
    if (header) *header = probed;
    // libpng keeps the current and the previous raw row, our row holds the transformed one (at most
    // 8 bytes per pixel before png_set_strip_16), plus zlib's 32 KiB window.
    uint64_t raw_row = ((uint64_t)probed.width * probed.components * probed.bit_depth + 7) / 8 + 1;
    uint64_t needed = 2 * raw_row + (uint64_t)probed.width * 4 + 1 + (32u << 10) +
                      cpix_grid_memory(probed.width, options);
    result = cpix_decode_check_memory(needed, "PNG", options, status);
    if (result != CPIX_OK) return result;
    if (!probed.progressive) {
        result = cpix_png_decode_fast(data, length, &probed, options, sink, sink_context, status);
        if (result != CPIX_ERR_ARGUMENT) return result;
    }

    cpix_png_context context;
    memset(&context, 0, sizeof(context));
    context.data = data;
    context.length = length;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, cpix_png_decode_error,
                                             cpix_png_decode_warning);
    if (!png) return cpix_decode_status(status, CPIX_ERR_MEMORY, "png_create_read_struct failed");
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return cpix_decode_status(status, CPIX_ERR_MEMORY, "png_create_info_struct failed");
    }
    if (setjmp(context.jump)) {
        png_destroy_read_struct(&png, &info, NULL);
        free(context.row);
        cpix_grid_release(&context.grid);
        return cpix_decode_status(status, context.code ? context.code : CPIX_ERR_CORRUPT,
                                  context.message[0] ? context.message : "libpng error");
    }
    png_set_read_fn(png, &context, cpix_png_read);
    // Row buffers were checked above; chunk data is capped here too, so no chunk makes libpng allocate
    // past the cap.
    uint64_t cap = cpix_decode_memory_cap(options);
    png_set_chunk_malloc_max(png, cap > (uint64_t)PNG_SIZE_MAX ? PNG_SIZE_MAX : (png_alloc_size_t)cap);
    // A CRC error in any chunk, critical or ancillary, is fatal.
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    // Skip every ancillary chunk except tRNS (no text or ICC inflation); their CRCs are still checked.
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_read_info(png, info);

    uint32_t width = png_get_image_width(png, info);
    uint32_t height = png_get_image_height(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int color_type = png_get_color_type(png, info);
    int interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (sink) {
        // 8-bit RGBA whatever the source: the gray grid reads the same values (gray = R = G = B).
        png_set_tRNS_to_alpha(png);
        png_set_gray_to_rgb(png);
        png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
    }
    // No png_set_interlace_handling: each Adam7 pass is read as its own sub-image, so one row
    // buffer suffices and every pixel is placed into the grid at its real position.
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    context.row = malloc(png_get_rowbytes(png, info));
    if (!context.row) {
        snprintf(context.message, sizeof(context.message), "out of memory for a PNG row");
        context.code = CPIX_ERR_MEMORY;
        longjmp(context.jump, 1);
    }
    int grid = cpix_wants_grid(options);
    if (grid && cpix_grid_prepare(&context.grid, width, height, options->grid_width, options->grid_height) != CPIX_OK) {
        snprintf(context.message, sizeof(context.message), "out of memory for the gray grid");
        context.code = CPIX_ERR_MEMORY;
        longjmp(context.jump, 1);
    }
    int layout = channels >= 3 ? CPIX_LAYOUT_RGB : CPIX_LAYOUT_GRAY;
    if (!interlaced) {
        for (uint32_t y = 0; y < height; y++) {
            png_read_row(png, context.row, NULL);
            if (grid) cpix_grid_add_row(&context.grid, context.row, width, layout, channels, 0, 1, y);
            if (sink) sink(sink_context, context.row, y, width);
        }
    } else {
        for (int pass = 0; pass < 7; pass++) {
            uint32_t columns = PNG_PASS_COLS(width, pass);
            uint32_t rows = PNG_PASS_ROWS(height, pass);
            if (columns == 0 || rows == 0) continue;  // libpng skips empty passes too
            for (uint32_t j = 0; j < rows; j++) {
                png_read_row(png, context.row, NULL);
                if (grid)
                    cpix_grid_add_row(&context.grid, context.row, columns, layout, channels, PNG_PASS_START_COL(pass),
                                      1u << PNG_PASS_COL_SHIFT(pass), PNG_ROW_FROM_PASS_ROW(j, pass));
            }
        }
    }
    png_read_end(png, NULL);  // trailing chunks up to IEND: their CRCs and the zlib checksum
    if (grid) cpix_grid_finish(&context.grid, options->grid);
    png_destroy_read_struct(&png, &info, NULL);
    free(context.row);
    cpix_grid_release(&context.grid);
    return cpix_decode_status(status, CPIX_OK, "");
}
