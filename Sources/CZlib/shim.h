// zlib: raw deflate/inflate for the entries of .npz (zip) archives.
#include <zlib.h>
