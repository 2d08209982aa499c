// libpng's simplified API (png_image_*), which needs no setjmp/longjmp across Swift frames.
#include <png.h>

static inline png_uint_32 splatkit_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 splatkit_png_format_rgb_linear16(void) { return PNG_FORMAT_LINEAR_RGB; }
static inline png_uint_32 splatkit_png_image_version(void) { return PNG_IMAGE_VERSION; }
