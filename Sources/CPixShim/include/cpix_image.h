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

/// Encodes 8-bit pixels (channels: 1 gray or 3 RGB) as baseline JPEG at `quality` (1-100).
int cpix_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int channels, int quality,
                     uint8_t **out, size_t *out_len, cpix_status *status);
