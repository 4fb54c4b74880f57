#pragma once
// Umbrella header of the C shim: the parts of libcurl, libpng and libjpeg that Swift cannot
// call directly (variadic functions, setjmp/longjmp error handling).
#include "cpix_image.h"
#include "cpix_webp.h"
#include "cpix_resize.h"
#include "cpix_curl.h"
#include "cpix_crc32.h"
