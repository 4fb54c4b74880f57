// PNG: the IHDR read, the validation decode (row by row, interlaced pass by pass), the thumbnail and the resize.
#include "image_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cpix_image_header header = {0};
    cpix_status status = {0};
    fuzz_check_status(cpix_png_read_header(data, size, &header, &status), &status);

    uint8_t grid[9 * 8];
    cpix_decode_options options = {
        .max_pixels = FUZZ_MAX_PIXELS, .max_memory = 16 << 20, .grid = grid, .grid_width = 9, .grid_height = 8};
    memset(&header, 0, sizeof(header));
    int result = cpix_png_decode(data, size, &options, &header, &status);
    fuzz_check_status(result, &status);
    fuzz_check_header(result, &header, &options);
    fuzz_thumbnail_and_resize(data, size, CPIX_FORMAT_PNG);
    return 0;
}
