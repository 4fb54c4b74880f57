// PNG: the IHDR read, the validation decode (row by row, interlaced pass by pass), the thumbnail and the resize.
#include "image_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_header_and_decode(data, size, cpix_png_read_header, cpix_png_decode);
    fuzz_thumbnail_and_resize(data, size, CPIX_FORMAT_PNG);
    return 0;
}
