#pragma once
#include <stddef.h>
#include <stdint.h>

/// Whether `cpix_crc32_folded` can run on this CPU (x86-64 with PCLMULQDQ and SSE4.1).
int cpix_crc32_folded_available(void);

/// CRC-32 (ISO 3309, the ZIP and gzip polynomial) of `length` bytes by carry-less multiplication folding,
/// continuing from `crc` (0 to start), as zlib's `crc32(crc, data, length)` would return it.
/// Requires `cpix_crc32_folded_available()`, `length >= 64` and `length % 16 == 0`; callers finish the rest with
/// zlib's `crc32`.
uint32_t cpix_crc32_folded(uint32_t crc, const uint8_t *data, size_t length);
