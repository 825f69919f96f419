/* Info objects: the special cases. */
#include "bridge.h"

/* A value longer than valuelen is truncated, as the standard says. MPICH truncates too but
 * returns MPI_ERR_INFO_VALUE, Open MPI does not: the bridge reads the whole value and truncates
 * it itself, so that the guest sees the standard's behaviour on either. */
CALLBACK(MPI_Info_get)
{
#define FN "MPI_Info_get"
    ERRSLOT;
    SCRATCH_FRAME;
    HANDLE_ARG(K_INFO, info, info, si, 0);
    const char *key;
    CHECK_STR(key, a[1].i32);
    int valuelen = a[2].i32;
    uint32_t value = (uint32_t)a[3].i32, flag_p = (uint32_t)a[4].i32;
    if (valuelen < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_OUT(value, (int64_t)valuelen + 1);
    CHECK_OUT(flag_p, 4);
    int len = 0, flag = 0;
    int rc = MPI_Info_get_valuelen(info, key, &len, &flag);
    if (rc == MPI_SUCCESS && flag) {
        SCRATCH(whole, char, (int64_t)len + 1);
        rc = MPI_Info_get(info, key, len, whole, &flag);
        if (rc == MPI_SUCCESS && flag) {
            size_t n = (size_t)(len < valuelen ? len : valuelen);
            memcpy(GPTR(value), whole, n);
            ((char *)GPTR(value))[n] = 0;
        }
    }
    if (rc == MPI_SUCCESS)
        store_i32(flag_p, flag);
    return done(a, rc, errslot, FN);
#undef FN
}

/* MPI-4. The guest's argv is an array of guest pointers: each string is checked and passed as
 * a host pointer (NULL argv, as C allows, stays NULL). */
CALLBACK(MPI_Info_create_env)
{
#define FN "MPI_Info_create_env"
    ERRSLOT;
    SCRATCH_FRAME;
    NEED_HOST4(MPI_Info_create_env);
    int argc = a[0].i32;
    uint32_t argv_p = (uint32_t)a[1].i32, out = (uint32_t)a[2].i32;
    CHECK_OUT(out, 4);
    if (argc < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    char **argv = NULL;
    if (argv_p) {
        CHECK_ARRAY(argv_p, argc, 4, "argv array");
        SCRATCH(v, char *, (int64_t)argc + 1);
        for (int i = 0; i < argc; i++) {
            const char *s;
            CHECK_STR(s, load_i32(argv_p + 4 * (uint32_t)i));
            v[i] = (char *)s;
        }
        v[argc] = NULL;
        argv = v;
    }
    MPI_Info info;
    int rc = HOST4(MPI_Info_create_env)(argc, argv, &info);
    if (rc == MPI_SUCCESS)
        store_i32(out, new_handle(K_INFO, (host_h){.info = info}));
    return done(a, rc, errslot, FN);
#undef FN
}
