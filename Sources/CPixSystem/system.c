// libc calls Swift's Glibc module does not declare (it is built without _GNU_SOURCE).
#define _GNU_SOURCE
#include "cpix_system.h"

#include <unistd.h>

int cpix_syncfs(int descriptor) {
#if defined(__linux__)
    return syncfs(descriptor);
#else
    (void)descriptor;
    sync();
    return 0;
#endif
}
