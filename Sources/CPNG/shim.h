// libpng's simplified API (png_image_*), which needs no setjmp/longjmp across Swift frames.
#include <png.h>

static inline png_uint_32 splatkit_png_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline png_uint_32 splatkit_png_format_rgb_linear16(void) { return PNG_FORMAT_LINEAR_RGB; }
static inline png_uint_32 splatkit_png_image_version(void) { return PNG_IMAGE_VERSION; }
static inline png_uint_32 splatkit_png_format_rgba(void) { return PNG_FORMAT_RGBA; }
static inline png_uint_32 splatkit_png_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline png_uint_32 splatkit_png_format_gray_alpha(void) { return PNG_FORMAT_GA; }
static inline png_uint_32 splatkit_png_format_linear_gray(void) { return PNG_FORMAT_LINEAR_Y; }
static inline png_uint_32 splatkit_png_format_linear_rgb_alpha(void) { return PNG_FORMAT_LINEAR_RGB_ALPHA; }
static inline png_uint_32 splatkit_png_format_flag_alpha(void) { return PNG_FORMAT_FLAG_ALPHA; }
static inline png_uint_32 splatkit_png_format_flag_linear(void) { return PNG_FORMAT_FLAG_LINEAR; }
static inline png_uint_32 splatkit_png_format_flag_colormap(void) { return PNG_FORMAT_FLAG_COLORMAP; }
