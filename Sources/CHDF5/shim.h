// HDF5's C API. Its type and property-list "constants" are macros over `*_g` globals that
// Swift cannot import; these inline functions return them instead.
#include <hdf5.h>

static inline hid_t splatkit_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t splatkit_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t splatkit_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t splatkit_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t splatkit_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t splatkit_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t splatkit_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t splatkit_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t splatkit_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t splatkit_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t splatkit_h5p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t splatkit_h5p_group_create(void) { return H5P_GROUP_CREATE; }
static inline H5F_libver_t splatkit_h5f_libver_v18(void) { return H5F_LIBVER_V18; }
static inline H5F_libver_t splatkit_h5f_libver_latest(void) { return H5F_LIBVER_LATEST; }
static inline hid_t splatkit_h5s_all(void) { return H5S_ALL; }
static inline unsigned splatkit_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned splatkit_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned splatkit_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline size_t splatkit_h5t_variable(void) { return H5T_VARIABLE; }
static inline H5E_auto2_t splatkit_h5e_no_auto(void) { return NULL; }
static inline hid_t splatkit_h5e_default(void) { return H5E_DEFAULT; }
static inline hsize_t splatkit_h5s_unlimited(void) { return H5S_UNLIMITED; }

// The type of the link `name` under `loc` (H5L_TYPE_HARD, H5L_TYPE_SOFT, ...), or -1 on failure.
// Wrapped here because H5Lget_info/H5L_info_t are version macros (1.10 vs 1.12+) in C.
static inline int splatkit_h5l_link_type(hid_t loc, const char *name) {
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
    return (int)info.type;
}
