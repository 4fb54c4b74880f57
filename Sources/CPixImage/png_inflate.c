// Small PNGs: the zlib stream inflated in one libdeflate call (about twice zlib's speed on photos) and the rows
// unfiltered here. libpng cannot be given another inflater, and libdeflate needs the whole output in one buffer,
// so this path takes only 8-bit RGB or RGBA images that are not interlaced, have no tRNS chunk and inflate to at
// most `max_raw` bytes; everything else (and anything malformed) is left to libpng, which also reports the
// errors. Unchecked (resized exports, of images validation already decoded), chunk CRCs are not read. Checked
// (validation), the file must be exactly what libpng accepts without a word: IHDR, consecutive IDATs and an empty
// IEND and no other chunk, every CRC right, and one zlib stream that ends with the last IDAT and inflates to exactly
// the image's rows; anything else goes to libpng.
#include "png_inflate.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

/// The Paeth predictor of one byte from its left (a), upper (b) and upper-left (c) neighbours.
static inline int cpix_paeth(int a, int b, int c) {
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/// Unfilters one row in place (`bytes` bytes of 3- or 4-byte pixels); `prev` is the row above, unfiltered. The
/// left and upper-left pixels are carried in variables, one per channel: through memory, each byte would wait
/// on the store of the one before it.
static void cpix_png_unfilter(uint8_t filter, uint8_t *cur, const uint8_t *prev, size_t bytes, size_t bpp) {
    int four = bpp == 4;
    int a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    switch (filter) {
    case 1:
        for (size_t i = 0; i < bytes; i += bpp) {
            a0 = cur[i] = (uint8_t)(cur[i] + a0);
            a1 = cur[i + 1] = (uint8_t)(cur[i + 1] + a1);
            a2 = cur[i + 2] = (uint8_t)(cur[i + 2] + a2);
            if (four) a3 = cur[i + 3] = (uint8_t)(cur[i + 3] + a3);
        }
        break;
    case 2:
        for (size_t i = 0; i < bytes; i++) cur[i] = (uint8_t)(cur[i] + prev[i]);
        break;
    case 3:
        for (size_t i = 0; i < bytes; i += bpp) {
            a0 = cur[i] = (uint8_t)(cur[i] + ((a0 + prev[i]) >> 1));
            a1 = cur[i + 1] = (uint8_t)(cur[i + 1] + ((a1 + prev[i + 1]) >> 1));
            a2 = cur[i + 2] = (uint8_t)(cur[i + 2] + ((a2 + prev[i + 2]) >> 1));
            if (four) a3 = cur[i + 3] = (uint8_t)(cur[i + 3] + ((a3 + prev[i + 3]) >> 1));
        }
        break;
    case 4:
        for (size_t i = 0; i < bytes; i += bpp) {
            int b0 = prev[i], b1 = prev[i + 1], b2 = prev[i + 2];
            a0 = cur[i] = (uint8_t)(cur[i] + cpix_paeth(a0, b0, c0));
            a1 = cur[i + 1] = (uint8_t)(cur[i + 1] + cpix_paeth(a1, b1, c1));
            a2 = cur[i + 2] = (uint8_t)(cur[i + 2] + cpix_paeth(a2, b2, c2));
            c0 = b0;
            c1 = b1;
            c2 = b2;
            if (four) {
                int b3 = prev[i + 3];
                a3 = cur[i + 3] = (uint8_t)(cur[i + 3] + cpix_paeth(a3, b3, c3));
                c3 = b3;
            }
        }
        break;
    default: break;
    }
}

int cpix_png_inflate_rows(const uint8_t *data, size_t length, uint64_t max_raw, uint32_t last_row, int checked,
                          cpix_row_sink sink, void *sink_context) {
    // IHDR first (its fields were checked by cpix_png_read_header), then the chunks up to IEND.
    if (length < 33 || cpix_be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0) return CPIX_ERR_ARGUMENT;
    uint32_t width = cpix_be32(data + 16), height = cpix_be32(data + 20);
    uint8_t depth = data[24], color = data[25], interlace = data[28];
    if (depth != 8 || (color != 2 && color != 6) || interlace != 0 || width == 0 || height == 0)
        return CPIX_ERR_ARGUMENT;
    size_t bpp = color == 6 ? 4 : 3;
    uint64_t stride = (uint64_t)width * bpp;
    uint64_t raw_size = (stride + 1) * height;
    if (raw_size > max_raw) return CPIX_ERR_ARGUMENT;
    const uint8_t *single = NULL;
    size_t idat_total = 0, idat_chunks = 0, pos = 8;
    int ended = 0;
    int previous_idat = 0;
    while (!ended && pos + 12 <= length) {
        uint32_t size = cpix_be32(data + pos);
        const uint8_t *type = data + pos + 4;
        if (size > length - pos - 12) return CPIX_ERR_ARGUMENT;
        if (checked && libdeflate_crc32(0, type, 4 + (size_t)size) != cpix_be32(data + pos + 8 + size))
            return CPIX_ERR_ARGUMENT;
        int idat = memcmp(type, "IDAT", 4) == 0;
        if (idat) {
            if (checked && idat_chunks && !previous_idat) return CPIX_ERR_ARGUMENT;
            if (idat_chunks++ == 0) single = data + pos + 8;
            idat_total += size;
        } else if (memcmp(type, "tRNS", 4) == 0) {
            return CPIX_ERR_ARGUMENT;
        } else if (memcmp(type, "IEND", 4) == 0) {
            if (checked && size != 0) return CPIX_ERR_ARGUMENT;
            ended = 1;
        } else if (checked && !(pos == 8 && memcmp(type, "IHDR", 4) == 0)) {
            return CPIX_ERR_ARGUMENT;
        }
        previous_idat = idat;
        pos += 12 + (size_t)size;
    }
    if (!ended || idat_total == 0) return CPIX_ERR_ARGUMENT;
    uint8_t *joined = NULL;
    if (idat_chunks > 1) {
        joined = malloc(idat_total);
        if (!joined) return CPIX_ERR_MEMORY;
        size_t at = 0;
        for (pos = 8; at < idat_total; pos += 12 + (size_t)cpix_be32(data + pos)) {
            uint32_t size = cpix_be32(data + pos);
            if (memcmp(data + pos + 4, "IDAT", 4) == 0) {
                memcpy(joined + at, data + pos + 8, size);
                at += size;
            }
        }
        single = joined;
    }
    uint8_t *raw = malloc((size_t)raw_size);
    uint8_t *zero = calloc((size_t)stride, 1);
    uint8_t *rgba = malloc((size_t)width * 4);
    struct libdeflate_decompressor *inflater = libdeflate_alloc_decompressor();
    int code = raw && zero && rgba && inflater ? CPIX_OK : CPIX_ERR_MEMORY;
    size_t consumed = 0, produced = 0;
    if (code == CPIX_OK &&
        (libdeflate_zlib_decompress_ex(inflater, single, idat_total, raw, (size_t)raw_size, &consumed, &produced) !=
             LIBDEFLATE_SUCCESS ||
         produced != raw_size || (checked && consumed != idat_total)))
        code = CPIX_ERR_ARGUMENT;
    // Every filter byte is checked before the first row goes out, so a failure never leaves half the rows sent.
    for (uint32_t y = 0; code == CPIX_OK && y < height; y++)
        if (raw[(size_t)y * (stride + 1)] > 4) code = CPIX_ERR_ARGUMENT;
    uint32_t rows = last_row < height ? last_row + 1 : height;
    for (uint32_t y = 0; code == CPIX_OK && y < rows; y++) {
        uint8_t *line = raw + (size_t)y * (stride + 1);
        const uint8_t *above = y ? raw + (size_t)(y - 1) * (stride + 1) + 1 : zero;
        cpix_png_unfilter(line[0], line + 1, above, (size_t)stride, bpp);
        if (bpp == 4) {
            memcpy(rgba, line + 1, (size_t)stride);
        } else {
            const uint8_t *p = line + 1;
            for (uint32_t x = 0; x < width; x++, p += 3) {
                rgba[x * 4] = p[0];
                rgba[x * 4 + 1] = p[1];
                rgba[x * 4 + 2] = p[2];
                rgba[x * 4 + 3] = 255;
            }
        }
        sink(sink_context, rgba, y, width);
    }
    if (inflater) libdeflate_free_decompressor(inflater);
    free(joined);
    free(raw);
    free(zero);
    free(rgba);
    return code;
}
