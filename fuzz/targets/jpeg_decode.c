// JPEG: the header walk, the validation decode at both depths, EXIF orientation, the thumbnail and the resize.
#include "image_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cpix_image_header header = {0};
    cpix_status status = {0};
    fuzz_check_status(cpix_jpeg_read_header(data, size, &header, &status), &status);
    (void)cpix_jpeg_exif_orientation(data, size);

    uint8_t grid[9 * 8];
    cpix_decode_options options = FUZZ_DECODE_OPTIONS(grid);
    for (int mode = CPIX_JPEG_SCALED; mode <= CPIX_JPEG_FULL; mode++) {
        memset(&header, 0, sizeof(header));
        int result = cpix_jpeg_decode(data, size, mode, &options, &header, &status);
        fuzz_check_status(result, &status);
        fuzz_check_header(result, &header, &options);
    }
    fuzz_thumbnail_and_resize(data, size, CPIX_FORMAT_JPEG);
    return 0;
}
