#pragma once

/// Flushes the file system holding the open file or directory `descriptor`: every dirty file, directory and
/// their data, written back by the kernel's flusher (Linux `syncfs`, which Swift's Glibc module leaves out; on
/// other systems `sync` and 0). Returns 0, or -1 with `errno` set.
int cpix_syncfs(int descriptor);
