/* Info objects: the special cases. */
#include "bridge.h"

#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

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

/* MPI_INFO_ENV and MPI_Info_create_env: the guest's view of its start, never the host's.
 * The host MPI's environment info describes the host process (Open MPI: the Python command,
 * `wasmpi exec`'s argv with the bridge's cache path, the host working directory, a session
 * directory in ompi_positioned_file_dir). The bridge builds its own from what the guest sees:
 * command and argv are the guest's, wdir its working directory (a guest path), host what its
 * gethostname says, arch "wasm32" (the machine the guest is compiled for), maxprocs and soft
 * the world size, thread_level what the guest's MPI_Init(_thread) provided. No other key: the
 * standard's `file` names a host file mpiexec was given, and implementations' own keys are
 * the host's business. */
static char **g_guest_argv;
static int g_guest_argc;
static char *g_guest_wdir;
static MPI_Info g_env_info = MPI_INFO_NULL;

/* The guest's argv (argv[0] its module name) and working directory, before init. */
EXPORT int wasmpi_bridge_set_guest(int argc, const char *const *argv, const char *wdir)
{
    g_guest_argv = calloc((size_t)argc + 1, sizeof *g_guest_argv);
    if (!g_guest_argv || !(g_guest_wdir = strdup(wdir ? wdir : "/")))
        return -1;
    for (int i = 0; i < argc; i++)
        if (!(g_guest_argv[i] = strdup(argv[i])))
            return -1;
    g_guest_argc = argc;
    return 0;
}

static const char *thread_level_name(int level)
{
    return level == ABI_THREAD_MULTIPLE ? "MPI_THREAD_MULTIPLE"
         : level == ABI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
         : level == ABI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED" : "MPI_THREAD_SINGLE";
}

/* A value longer than the host's MPI_MAX_INFO_VAL (Open MPI: 256) is cut to it: no info can
 * hold more, and a long guest command line must not fail MPI_INFO_ENV. */
static int set_capped(MPI_Info info, const char *key, const char *value)
{
    size_t n = strlen(value);
    if (n < MPI_MAX_INFO_VAL)
        return MPI_Info_set(info, key, value);
    char *cut = malloc(MPI_MAX_INFO_VAL);
    if (!cut)
        return MPI_ERR_NO_MEM;
    memcpy(cut, value, MPI_MAX_INFO_VAL - 1);
    cut[MPI_MAX_INFO_VAL - 1] = 0;
    int rc = MPI_Info_set(info, key, cut);
    free(cut);
    return rc;
}

/* command = argv[0], argv = the others joined by spaces (as MPICH and Open MPI join them) */
static int fill_env_info(MPI_Info info, int argc, char *const *argv, int thread_level)
{
    int rc = MPI_SUCCESS, size = 1;
    if (argc > 0 && argv[0])
        rc = set_capped(info, "command", argv[0]);
    size_t len = 1;
    for (int i = 1; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *joined = malloc(len);
    if (!joined)
        return MPI_ERR_NO_MEM;
    joined[0] = 0;
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            strcat(joined, " ");
        strcat(joined, argv[i]);
    }
    if (rc == MPI_SUCCESS && argc > 1)
        rc = set_capped(info, "argv", joined);
    free(joined);
    char host[256], num[16];
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "localhost");
    host[sizeof host - 1] = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    snprintf(num, sizeof num, "%d", size);
    if (rc == MPI_SUCCESS)
        rc = MPI_Info_set(info, "maxprocs", num);
    if (rc == MPI_SUCCESS)
        rc = MPI_Info_set(info, "soft", num);
    if (rc == MPI_SUCCESS)
        rc = MPI_Info_set(info, "host", host);
    if (rc == MPI_SUCCESS)
        rc = MPI_Info_set(info, "arch", "wasm32");
    if (rc == MPI_SUCCESS)
        rc = set_capped(info, "wdir", g_guest_wdir ? g_guest_wdir : "/");
    if (rc == MPI_SUCCESS)
        rc = MPI_Info_set(info, "thread_level", thread_level_name(thread_level));
    return rc;
}

/* At init: MPI_INFO_ENV names the bridge's info from now on (the host's is never seen). */
void init_env_info(void)
{
    if (MPI_Info_create(&g_env_info) != MPI_SUCCESS)
        return;
    fill_env_info(g_env_info, g_guest_argc, g_guest_argv, ABI_THREAD_SINGLE);
    slot_t *s = lookup(K_INFO, ABI_INFO_ENV);
    if (s)
        s->h.info = g_env_info;
}

/* The guest's MPI_Init(_thread) provided `level`. */
void env_info_thread(int level)
{
    if (g_env_info != MPI_INFO_NULL)
        MPI_Info_set(g_env_info, "thread_level", thread_level_name(level));
}

/* MPI-4: the guest's argv (an array of guest pointers; NULL, as C allows, means the guest's
 * own), never the host MPI's MPI_Info_create_env, which adds host facts. */
CALLBACK(MPI_Info_create_env)
{
#define FN "MPI_Info_create_env"
    ERRSLOT;
    SCRATCH_FRAME;
    int argc = a[0].i32;
    uint32_t argv_p = (uint32_t)a[1].i32, out = (uint32_t)a[2].i32;
    CHECK_OUT(out, 4);
    if (argc < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    char **argv = g_guest_argv;
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
    } else {
        argc = g_guest_argc;
    }
    int level = ABI_THREAD_SINGLE;
    if (g_guest_state == 1)
        level = guest_thread_level();
    MPI_Info info;
    int rc = MPI_Info_create(&info);
    if (rc == MPI_SUCCESS) {
        rc = fill_env_info(info, argc, argv, level);
        if (rc != MPI_SUCCESS)
            MPI_Info_free(&info);
    }
    if (rc == MPI_SUCCESS)
        store_i32(out, new_handle(K_INFO, (host_h){.info = info}));
    return done(a, rc, errslot, FN);
#undef FN
}

/* MPI-4.0: buflen is in/out (the value buffer's size; the value's length with its NUL) */
CALLBACK(MPI_Info_get_string)
{
#define FN "MPI_Info_get_string"
    ERRSLOT;
    NEED_HOST4(MPI_Info_get_string);
    HANDLE_ARG(K_INFO, info, info, si, 0);
    const char *key;
    CHECK_STR(key, a[1].i32);
    uint32_t lp = (uint32_t)a[2].i32;
    CHECK_OUT(lp, 4);
    CHECK_OUT(a[4].i32, 4);
    int n = load_i32(lp);
    if (n < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    char none[1] = {0};
    char *value = none; /* a zero-length buffer may be any pointer: the host never sees it */
    if (n > 0) {
        CHECK_OUT(a[3].i32, n);
        value = (char *)GPTR(a[3].i32);
    }
    int flag = 0;
    int rc = HOST4(MPI_Info_get_string)(info, key, &n, value, &flag);
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[4].i32, flag);
        if (flag)
            store_i32(lp, n);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
