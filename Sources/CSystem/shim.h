// glibc facilities that Swift's Glibc module does not expose, and C vector built-ins that
// Swift's SIMD types do not reach.
#include <malloc.h>

/// Keeps freed blocks of up to `mmap_threshold` bytes in the heap for reuse instead of
/// returning them to the kernel (see ProcessSetup.swift).
static inline void splatkit_tune_allocator(int mmap_threshold, int trim_threshold, int top_pad) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_TRIM_THRESHOLD, trim_threshold);
    mallopt(M_TOP_PAD, top_pad);
}

/// Eight floats as a clang vector (imported into Swift as SIMD8<Float>).
typedef float splatkit_float8 __attribute__((ext_vector_type(8)));

/// The lane-wise square root of eight floats, correctly rounded like sqrtf, as vector
/// instructions (sqrtps): Swift's SIMD8.squareRoot() calls sqrtf once per lane, since glibc's
/// sqrtf may set errno.
static inline splatkit_float8 splatkit_square_root8(splatkit_float8 x) {
    return __builtin_elementwise_sqrt(x);
}
