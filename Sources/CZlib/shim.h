// zlib: raw deflate/inflate for the entries of .npz (zip) archives.
#include <zlib.h>

// `inflateInit2` and `deflateInit2` are function-like macros (they pass ZLIB_VERSION and
// sizeof(z_stream) to the real functions), which Swift cannot import: wrap them.
static inline int czlib_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int czlib_deflateInit2(z_streamp stream, int level, int method, int windowBits,
                                     int memLevel, int strategy) {
    return deflateInit2(stream, level, method, windowBits, memLevel, strategy);
}
