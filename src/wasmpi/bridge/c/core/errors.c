/* Errors: the one choke point that turns a host MPI return code into what the guest sees. */
#include "bridge.h"

#include <unistd.h>

static const char *abi_class_text(int c)
{
    switch (c) {
    case ABI_ERR_BUFFER: return "invalid buffer pointer";
    case ABI_ERR_COUNT: return "invalid count argument";
    case ABI_ERR_TYPE: return "invalid datatype";
    case ABI_ERR_COMM: return "invalid communicator";
    case ABI_ERR_REQUEST: return "invalid request";
    case ABI_ERR_GROUP: return "invalid group";
    case ABI_ERR_OP: return "invalid reduce operation";
    case ABI_ERR_ARG: return "invalid argument";
    case ABI_ERR_INFO: return "invalid info object";
    case ABI_ERR_KEYVAL: return "invalid keyval";
    case ABI_ERR_NO_MEM: return "out of memory";
    case ABI_ERR_UNSUPPORTED_OPERATION: return "operation not supported by wasmpi";
    case ABI_ERR_WIN: return "invalid window";
    case ABI_ERR_RMA_RANGE: return "target memory is not part of the window";
    case ABI_ERR_RMA_SHARED: return "memory cannot be shared";
    case ABI_ERR_RMA_FLAVOR: return "wrong window flavor";
    case ABI_ERR_ASSERT: return "invalid assert argument";
    case ABI_ERR_LOCKTYPE: return "invalid lock type";
    }
    return "error";
}

/* Abort the job after giving the launcher a moment to forward what this rank just wrote:
 * mpiexec (Hydra in particular) may tear the job down before it relays a dying rank's last
 * stderr lines, which are exactly the ones that say why. Failure path only. */
int abort_job(MPI_Comm comm, int code)
{
    fflush(stdout);
    fflush(stderr);
    usleep(200 * 1000);
    return MPI_Abort(comm, code);
}

int abi_error(int rc)
{
    int cls = rc, g = user_error_guest_code(rc);
    if (g >= 0) /* the guest's own code, e.g. returned by its attribute copy function */
        return g;
    if (MPI_Error_class(rc, &cls) != MPI_SUCCESS)
        return ABI_ERR_OTHER;
    g = user_error_guest_code(cls);
    return g >= 0 ? g : class_to_abi(cls);
}

slot_t *errslot_object(int32_t errslot, int *kind)
{
    if (errslot < 0)
        return NULL;
    int k = errslot >> 24 ? errslot >> 24 : K_COMM;
    int32_t i = errslot & 0xffffff;
    if (k >= K_LAST || i >= T[k].n || !T[k].s[i].live)
        return NULL;
    *kind = k;
    return &T[k].s[i];
}

/* Report an error of ABI class `cls` to the guest: return it under MPI_ERRORS_RETURN, call the
 * guest's own handler, or print and abort the job under MPI_ERRORS_ARE_FATAL (the default). */
static wasm_trap_t *raise_error(wasmtime_val_raw_t *a, int cls, const char *text, int32_t cslot,
                                const char *fn)
{
    if (cslot == ERRSLOT_RETURN) {
        a[0].i32 = cls;
        return NULL;
    }
    int kind = K_COMM;
    slot_t *s = errslot_object(cslot, &kind);
    if (!s || s->guest == guest_null[kind]) { /* no object: MPI_COMM_WORLD's */
        s = &T[K_COMM].s[world_slot()];
        kind = K_COMM;
    }
    int32_t eh = s->eh;
    if (eh == ABI_ERRORS_RETURN) {
        a[0].i32 = cls;
        return NULL;
    }
    if (eh != ABI_ERRORS_ARE_FATAL && eh != ABI_ERRORS_ABORT
            && call_errhandler(eh, kind, s->guest, cls)) {
        a[0].i32 = cls;
        return NULL;
    }
    fprintf(stderr, "wasmpi: rank %d: %s: %s (MPI error class %d); aborting the job\n", g_rank,
            fn, text, cls);
    abort_job(MPI_COMM_WORLD, cls);
    return trap("%s: MPI_Abort returned", fn);
}

wasm_trap_t *fail(wasmtime_val_raw_t *a, int cls, int32_t cslot, const char *fn)
{
    return raise_error(a, cls, abi_class_text(cls), cslot, fn);
}

wasm_trap_t *done_error(wasmtime_val_raw_t *a, int rc, int32_t cslot, const char *fn)
{
    if (cslot == ERRSLOT_RETURN)
        return raise_error(a, tool_error(rc), "", cslot, fn);
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", rc);
    return raise_error(a, abi_error(rc), text, cslot, fn);
}

wasm_trap_t *ok(wasmtime_val_raw_t *a)
{
    a[0].i32 = 0;
    return NULL;
}
