/* Environment: init and finalize (the host MPI is initialized before the guest runs),
 * versions, error classes and strings, timers. */
#include "bridge.h"

int g_guest_state; /* 0 before MPI_Init, 1 initialized, 2 finalized */
static int g_guest_thread;

CALLBACK(MPI_Init)
{
#define FN "MPI_Init"
    ERRSLOT;
    if (g_guest_state != 0)
        return fail(a, ABI_ERR_OTHER, errslot, FN);
    g_guest_state = 1;
    env_info_thread(g_guest_thread);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Init_thread)
{
#define FN "MPI_Init_thread"
    ERRSLOT;
    uint32_t prov = (uint32_t)a[3].i32;
    CHECK_OUT(prov, 4);
    if (g_guest_state != 0)
        return fail(a, ABI_ERR_OTHER, errslot, FN);
    g_guest_state = 1;
    /* A wasm32-wasi guest has exactly one thread, so every level is trivially provided. */
    int req = a[2].i32;
    g_guest_thread = req >= ABI_THREAD_MULTIPLE ? ABI_THREAD_MULTIPLE
                   : req >= ABI_THREAD_SERIALIZED ? ABI_THREAD_SERIALIZED
                   : req >= ABI_THREAD_FUNNELED ? ABI_THREAD_FUNNELED : ABI_THREAD_SINGLE;
    store_i32(prov, g_guest_thread);
    env_info_thread(g_guest_thread);
    return ok(a);
#undef FN
}

/* Store one int in the guest's out-argument a[0] (the MPI_Initialized-style queries). */
static wasm_trap_t *put_int(wasmtime_val_raw_t *a, int32_t value, const char *fn)
{
#define FN fn
    CHECK_OUT(a[0].i32, 4);
    store_i32((uint32_t)a[0].i32, value);
    return ok(a);
#undef FN
}

int guest_thread_level(void) { return g_guest_thread; }

CALLBACK(MPI_Initialized) { return put_int(a, g_guest_state >= 1, "MPI_Initialized"); }
CALLBACK(MPI_Finalized) { return put_int(a, g_guest_state == 2, "MPI_Finalized"); }
CALLBACK(MPI_Query_thread) { return put_int(a, g_guest_thread, "MPI_Query_thread"); }
CALLBACK(MPI_Is_thread_main) { return put_int(a, 1, "MPI_Is_thread_main"); }

CALLBACK(MPI_Finalize)
{
#define FN "MPI_Finalize"
    ERRSLOT;
    static int finalizing;
    if (g_guest_state != 1 || finalizing)
        return fail(a, ABI_ERR_OTHER, errslot, FN);
    /* The host first deletes MPI_COMM_SELF's attributes, whose guest delete functions may
     * still call MPI: until it returns, MPI is not finalized. */
    finalizing = 1;
    flush_guest(); /* a rank that exits nonzero next ends the job: its peers' output is out */
    int rc = MPI_Finalize();
    finalizing = 0;
    if (rc == MPI_SUCCESS)
        g_guest_state = 2;
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Abort)
{
#define FN "MPI_Abort"
    COMM_ARG(comm, 0);
    return done(a, abort_job(comm, a[1].i32), errslot, FN);
#undef FN
}

CALLBACK(MPI_Wtime)
{
    a[0].f64 = MPI_Wtime();
    return NULL;
}

CALLBACK(MPI_Wtick)
{
    a[0].f64 = MPI_Wtick();
    return NULL;
}

CALLBACK(MPI_Get_version)
{
#define FN "MPI_Get_version"
    CHECK_OUT(a[0].i32, 4);
    CHECK_OUT(a[1].i32, 4);
    /* the guest sees the MPI-3.1 API of its mpi.h, whatever the host library implements */
    store_i32((uint32_t)a[0].i32, 3);
    store_i32((uint32_t)a[1].i32, 1);
    return ok(a);
#undef FN
}

static wasm_trap_t *string_query(wasmtime_val_raw_t *a, const char *text, int rc, int cap,
                                 const char *fn)
{
#define FN fn
    CHECK_OUT(a[0].i32, cap);
    CHECK_OUT(a[1].i32, 4);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[1].i32, put_string((uint32_t)a[0].i32, text, cap));
    return done(a, rc, world_slot(), FN);
#undef FN
}

CALLBACK(MPI_Get_processor_name)
{
    char name[MPI_MAX_PROCESSOR_NAME + 1] = "";
    int len = 0;
    int rc = MPI_Get_processor_name(name, &len);
    return string_query(a, name, rc, ABI_MAX_PROCESSOR_NAME, "MPI_Get_processor_name");
}

CALLBACK(MPI_Get_library_version)
{
    static char text[MPI_MAX_LIBRARY_VERSION_STRING + 1];
    int len = 0;
    int rc = MPI_Get_library_version(text, &len);
    return string_query(a, text, rc, ABI_MAX_LIBRARY_VERSION_STRING, "MPI_Get_library_version");
}

/* The guest only ever sees error classes, so codes are classes, plus the classes and codes
 * it added itself (MPI_Add_error_class/code), kept here with their strings. They are numbered
 * from MPI_ERR_LASTCODE + 1 up: the standard has MPI_LASTUSEDCODE (attr.c) report the largest
 * of them, and never less than MPI_ERR_LASTCODE. Each is also added to the host MPI, so that a
 * guest callback (an attribute copy function, ...) can fail with it through a host call. */
#define USER_ERROR_BASE (ABI_ERR_LASTCODE + 1)
typedef struct {
    int cls;    /* the guest class of the code (itself for a class) */
    int host;   /* the host's code for it */
    char *text; /* MPI_Add_error_string, or NULL */
} user_error_t;
static user_error_t *user_error;
static int n_user_errors, cap_user_errors;

static user_error_t *user_error_of(int code)
{
    int64_t i = (int64_t)code - USER_ERROR_BASE;
    return i >= 0 && i < n_user_errors ? &user_error[i] : NULL;
}

int wasmpi_last_used_code(void) { return USER_ERROR_BASE + n_user_errors - 1; }

int user_error_host_code(int code)
{
    user_error_t *u = user_error_of(code);
    return u ? u->host : -1;
}

int user_error_guest_code(int host_code)
{
    for (int i = 0; i < n_user_errors; i++)
        if (user_error[i].host == host_code)
            return USER_ERROR_BASE + i;
    return -1;
}

CALLBACK(MPI_Error_class)
{
#define FN "MPI_Error_class"
    ERRSLOT;
    CHECK_OUT(a[1].i32, 4);
    int code = a[0].i32;
    user_error_t *u = user_error_of(code);
    if (u)
        code = u->cls;
    else if (code < 0 || code > ABI_ERR_LASTCODE || (code != 0 && abi_to_class(code) < 0))
        return fail(a, ABI_ERR_ARG, errslot, FN);
    store_i32((uint32_t)a[1].i32, code);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Error_string)
{
#define FN "MPI_Error_string"
    ERRSLOT;
    CHECK_OUT(a[1].i32, ABI_MAX_ERROR_STRING);
    CHECK_OUT(a[2].i32, 4);
    user_error_t *u = user_error_of(a[0].i32);
    if (u) {
        const char *t = u->text ? u->text : "";
        store_i32((uint32_t)a[2].i32, put_string((uint32_t)a[1].i32, t, ABI_MAX_ERROR_STRING));
        return ok(a);
    }
    int host = abi_to_class(a[0].i32);
    if (host < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    char text[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    int rc = MPI_Error_string(host, text, &len);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[2].i32,
                  put_string((uint32_t)a[1].i32, text, ABI_MAX_ERROR_STRING));
    return done(a, rc, errslot, FN);
#undef FN
}

/* Add a class (cls < 0) or a code of guest class `cls`; the new value goes to guest `out`. */
static wasm_trap_t *add_error(wasmtime_val_raw_t *a, int cls, uint32_t out, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(out, 4);
    if (n_user_errors == cap_user_errors) {
        int cap = cap_user_errors ? 2 * cap_user_errors : 16;
        user_error_t *t = cap < INT32_MAX - USER_ERROR_BASE
                              ? realloc(user_error, (size_t)cap * sizeof *t) : NULL;
        if (!t)
            return fail(a, ABI_ERR_NO_MEM, errslot, FN);
        user_error = t;
        cap_user_errors = cap;
    }
    int host = 0, rc;
    if (cls < 0) {
        rc = MPI_Add_error_class(&host);
    } else {
        user_error_t *uc = user_error_of(cls);
        rc = MPI_Add_error_code(uc ? uc->host : abi_to_class(cls), &host);
    }
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    int code = USER_ERROR_BASE + n_user_errors;
    user_error[n_user_errors++] = (user_error_t){cls < 0 ? code : cls, host, NULL};
    store_i32(out, code);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Add_error_class)
{
    return add_error(a, -1, (uint32_t)a[0].i32, "MPI_Add_error_class");
}

CALLBACK(MPI_Add_error_code)
{
#define FN "MPI_Add_error_code"
    ERRSLOT;
    int cls = a[0].i32;
    user_error_t *u = user_error_of(cls);
    if (u ? u->cls != cls : (cls <= 0 || abi_to_class(cls) < 0))
        return fail(a, ABI_ERR_ARG, errslot, FN);
    return add_error(a, cls, (uint32_t)a[1].i32, FN);
#undef FN
}

CALLBACK(MPI_Add_error_string)
{
#define FN "MPI_Add_error_string"
    ERRSLOT;
    const char *s;
    CHECK_STR(s, a[1].i32);
    user_error_t *u = user_error_of(a[0].i32);
    if (!u || strlen(s) >= ABI_MAX_ERROR_STRING) /* predefined strings are not the guest's */
        return fail(a, ABI_ERR_ARG, errslot, FN);
    char *t = strdup(s);
    if (!t)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    free(u->text);
    u->text = t;
    return ok(a);
#undef FN
}

/* MPI_Alloc_mem is served by the guest's own allocator: the memory must be guest memory. */
CALLBACK(MPI_Alloc_mem)
{
#define FN "MPI_Alloc_mem"
    ERRSLOT;
    uint32_t size = (uint32_t)a[0].i32;
    if (a[0].i32 < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    if (!lookup(K_INFO, a[1].i32))
        return fail(a, ABI_ERR_INFO, errslot, FN);
    CHECK_OUT(a[2].i32, 4);
    if (!guest_has_malloc()) {
        fprintf(stderr, "wasmpi: rank %d: MPI_Alloc_mem: the module exports no malloc, which "
                        "serves MPI_Alloc_mem; rebuild it with this wasmpi's `wasmpi cc`\n",
                g_rank);
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    }
    uint32_t p = guest_alloc(size ? size : 1);
    if (!p)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    store_i32((uint32_t)a[2].i32, (int32_t)p);
    return ok(a);
#undef FN
}

CALLBACK(MPI_Free_mem)
{
#define FN "MPI_Free_mem"
    ERRSLOT;
    guest_free((uint32_t)a[0].i32);
    return ok(a);
#undef FN
}
