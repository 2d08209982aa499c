// glibc facilities that Swift's Glibc module does not expose.
#include <malloc.h>

/// Keeps freed blocks of up to `mmap_threshold` bytes in the heap for reuse instead of
/// returning them to the kernel (see ProcessSetup.swift).
static inline void splatkit_tune_allocator(int mmap_threshold, int trim_threshold, int top_pad) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_TOP_PAD, top_pad);
}
