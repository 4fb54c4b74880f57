#pragma once
#include <stddef.h>
#include <stdint.h>

/// Result codes shared by every image function of the shim.
enum {
    CPIX_OK = 0,
    CPIX_ERR_ARGUMENT = 1,   // bad arguments (null pointer, zero size, unsupported channel count)
    CPIX_ERR_MEMORY = 2,     // allocation failed
    CPIX_ERR_LIBRARY = 3,    // libpng/libjpeg reported an error (message filled)
    CPIX_ERR_CORRUPT = 4,    // data is truncated or corrupt (message filled)
    CPIX_ERR_TOO_LARGE = 5,  // declared dimensions exceed the caller's budget
};

/// Error detail filled by the shim; `message` is always NUL-terminated.
typedef struct {
    int code;
    char message[256];
} cpix_status;

/// Frees a buffer returned by an encode function.
void cpix_free(void *pointer);

/// Encodes 8-bit pixels (channels: 1 gray, 3 RGB, 4 RGBA) as PNG into a malloc'd buffer.
/// Returns CPIX_OK and sets *out/*out_len, or an error code with `status` filled. No longjmp escapes.
int cpix_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels,
                    uint8_t **out, size_t *out_len, cpix_status *status);

/// Like `cpix_png_encode` with a zlib compression level (0-9) instead of 6.
int cpix_png_encode_level(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int level,
                          uint8_t **out, size_t *out_len, cpix_status *status);

/// Encodes 8-bit pixels (channels: 1 gray or 3 RGB) as baseline JPEG at `quality` (1-100).
int cpix_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                     uint8_t **out, size_t *out_len, cpix_status *status);

// MARK: - Decoding (validation)
//
// Every decode function is reentrant (no global state) and may run on many threads at once.
// All libpng/libjpeg errors are caught in C; the functions return a CPIX_* code and fill `status`.

/// What a header read or a decode learned about an image.
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t components;   // samples per pixel as stored (PNG: 1 gray/palette, 2, 3, 4; JPEG: 1, 3 or 4)
    uint32_t bit_depth;    // bits per sample as stored
    uint32_t progressive;  // 1 for a progressive JPEG or an Adam7-interlaced PNG
} cpix_image_header;

/// Reads a PNG's dimensions from its signature and IHDR chunk (the first 33 bytes) and checks the
/// IHDR CRC. Allocates nothing and decodes nothing. CPIX_ERR_CORRUPT when the header is invalid.
int cpix_png_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status);

/// Reads a JPEG's dimensions from its first SOF marker by walking the marker segments.
/// Allocates nothing and decodes nothing. CPIX_ERR_CORRUPT when no frame header can be found.
int cpix_jpeg_read_header(const uint8_t *data, size_t length, cpix_image_header *header, cpix_status *status);

/// How much of a JPEG `cpix_jpeg_decode` reconstructs.
enum {
    /// Entropy-complete at 1/8 scale: every Huffman-coded coefficient is read (so truncation and
    /// corrupt data are still caught), but only DC values are transformed, in gray.
    CPIX_JPEG_SCALED = 0,
    /// Full size, full colour, one scanline at a time.
    CPIX_JPEG_FULL = 1,
};

/// Limits and optional output of a decode.
typedef struct {
    uint64_t max_pixels;   // width*height above this: CPIX_ERR_TOO_LARGE before any allocation (0 = none)
    uint32_t max_width;    // 0 = no limit
    uint32_t max_height;   // 0 = no limit
    uint64_t max_memory;   // decoder working-memory cap in bytes (progressive JPEGs buffer every
                           // coefficient: about 2 bytes per sample); 0 = CPIX_DEFAULT_MAX_MEMORY
    uint8_t *grid;         // optional: receives grid_width*grid_height gray samples (row-major), the
                           // area-weighted average of the whole image, gray = 0.299 R + 0.587 G + 0.114 B
    uint32_t grid_width;
    uint32_t grid_height;
} cpix_decode_options;

/// The working-memory cap a decode uses when `options` gives none (64 MiB): always on.
#define CPIX_DEFAULT_MAX_MEMORY ((uint64_t)64 << 20)

/// Most components a JPEG frame may declare (gray 1, YCbCr/RGB 3, CMYK/YCCK 4); more is refused.
#define CPIX_JPEG_MAX_COMPONENTS 4

/// The working-memory cap of a decode with `options` (CPIX_DEFAULT_MAX_MEMORY when unset).
uint64_t cpix_decode_memory_cap(const cpix_decode_options *options);

/// The one memory check every decoder makes before its library allocates: `needed` is the working
/// memory estimated from the header (`what` names the format in the message). CPIX_ERR_MEMORY with
/// `status` filled when it exceeds the cap, CPIX_OK otherwise.
int cpix_decode_check_memory(uint64_t needed, const char *what, const cpix_decode_options *options,
                             cpix_status *status);

/// Decodes a JPEG held in memory. Dimensions are checked against `options` from the frame header
/// before libjpeg allocates anything (CPIX_ERR_TOO_LARGE). Any libjpeg error or data warning
/// (premature end, bad Huffman code, extraneous bytes, ...) is CPIX_ERR_CORRUPT; metadata-only
/// warnings (unknown JFIF revision, unknown Adobe transform, bad ICC marker) are ignored.
/// `header` (optional) receives the full-size dimensions.
int cpix_jpeg_decode(const uint8_t *data, size_t length, int mode, const cpix_decode_options *options,
                     cpix_image_header *header, cpix_status *status);

/// Decodes a PNG held in memory, row by row into one row buffer (interlaced images pass by pass,
/// still one row buffer). Dimensions are checked from IHDR before libpng allocates anything.
/// CRC errors in any chunk, truncation, zlib errors and checksum mismatches are CPIX_ERR_CORRUPT.
/// Ancillary chunks are skipped (but their CRCs are still verified). A small plain PNG (8-bit RGB or RGBA, not
/// interlaced, only IHDR, IDAT and IEND, every CRC right, inflating to at most 16 MiB and half the memory cap) is
/// inflated in one libdeflate call instead, about twice as fast; any other, and any failure, is left to libpng.
int cpix_png_decode(const uint8_t *data, size_t length, const cpix_decode_options *options,
                    cpix_image_header *header, cpix_status *status);
