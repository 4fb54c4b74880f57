// WebP: the RIFF header read, the validation decode through libwebp's rescaler and the resize.
#include "cpix_webp.h"
#include "image_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_header_and_decode(data, size, cpix_webp_read_header, cpix_webp_decode);
    fuzz_thumbnail_and_resize(data, size, CPIX_FORMAT_WEBP);
    return 0;
}
