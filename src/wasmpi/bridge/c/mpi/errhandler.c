/* Error handlers. The host MPI always returns (MPI_ERRORS_RETURN on every host object); the
 * bridge applies the guest's handler of the communicator: return the class, call the guest's
 * own handler function (an upcall), or abort the job (core/errors.c). */
#include "bridge.h"

/* Call user handler `eh` for object `guest` of handle kind `kind` and class `cls`; 0 if `eh`
 * is none. Every kind's handler has the type (HANDLE *, int *, ...). */
int call_errhandler(int32_t eh, int kind, int32_t guest, int cls)
{
    slot_t *e = lookup(K_ERRHANDLER, eh);
    if (!e || e->predefined || !e->fn)
        return 0;
    uint32_t args = guest_alloc(8);
    if (!args)
        return 0;
    store_i32(args, guest);
    store_i32(args + 4, cls);
    int32_t argv[2] = {(int32_t)args, (int32_t)(args + 4)};
    upcall_variadic(e->fn, argv, 2,
                    kind == K_WIN    ? "window error handler (MPI_Win_create_errhandler)"
                    : kind == K_FILE ? "file error handler (MPI_File_create_errhandler)"
                                     : "communicator error handler (MPI_Comm_create_errhandler)");
    guest_free(args);
    return 1;
}

int call_comm_errhandler(int32_t eh, int32_t comm_guest, int cls)
{
    return call_errhandler(eh, K_COMM, comm_guest, cls);
}

/* Comm, window and file error handlers are guest functions the bridge calls; each may only be
 * attached to the kind of object it was created for. */
static wasm_trap_t *create_errhandler(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[1].i32, 4);
    if (a[0].i32 == 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    int32_t idx;
    slot_t *s = slot_alloc(K_ERRHANDLER, &idx);
    s->h.errhandler = MPI_ERRHANDLER_NULL; /* the bridge calls it; the host never sees it */
    s->fn = (uint32_t)a[0].i32;
    s->cslot = kind; /* the kind of object it may be attached to */
    store_i32((uint32_t)a[1].i32, s->guest);
    return ok(a);
#undef FN
}
CALLBACK(MPI_Comm_create_errhandler)
{
    return create_errhandler(a, K_COMM, "MPI_Comm_create_errhandler");
}
CALLBACK(MPI_Win_create_errhandler)
{
    return create_errhandler(a, K_WIN, "MPI_Win_create_errhandler");
}
CALLBACK(MPI_File_create_errhandler)
{
    return create_errhandler(a, K_FILE, "MPI_File_create_errhandler");
}

/* ---- set, get, call: the same for every kind of object with a handler ----------------------
 * The object's slot `s` keeps its handler (eh); `errslot` is where errors of the call go.
 * Predefined handlers fit every kind, a user handler only the kind it was created for. */
wasm_trap_t *errhandler_set(wasmtime_val_raw_t *a, slot_t *s, int kind, int32_t errslot,
                            const char *FN)
{
    slot_t *e = lookup(K_ERRHANDLER, a[1].i32);
    if (!e || e->guest == ABI_ERRHANDLER_NULL || (!e->predefined && e->cslot != kind))
        return fail(a, ABI_ERR_ARG, errslot, FN);
    s->eh = e->guest;
    return ok(a);
}

wasm_trap_t *errhandler_get(wasmtime_val_raw_t *a, const slot_t *s, const char *FN)
{
    CHECK_OUT(a[1].i32, 4);
    store_i32((uint32_t)a[1].i32, s->eh);
    return ok(a);
}

wasm_trap_t *errhandler_call(wasmtime_val_raw_t *a, int32_t errslot, const char *FN)
{
    wasm_trap_t *t = fail(a, a[1].i32, errslot, FN);
    if (!t)
        a[0].i32 = 0; /* the handler was called (or returned): success */
    return t;
}

CALLBACK(MPI_Comm_set_errhandler)
{
#define FN "MPI_Comm_set_errhandler"
    COMM_ARG(comm, 0);
    (void)comm;
    return errhandler_set(a, COMM_SLOT(comm), K_COMM, errslot, FN);
#undef FN
}

CALLBACK(MPI_Comm_get_errhandler)
{
#define FN "MPI_Comm_get_errhandler"
    COMM_ARG(comm, 0);
    (void)comm;
    return errhandler_get(a, COMM_SLOT(comm), FN);
#undef FN
}

CALLBACK(MPI_Comm_call_errhandler)
{
#define FN "MPI_Comm_call_errhandler"
    COMM_ARG(comm, 0);
    (void)comm;
    return errhandler_call(a, errslot, FN);
#undef FN
}

/* A user handler stays usable by the communicators it is attached to: freeing it only nulls
 * the guest's handle (handlers are few and small). */
CALLBACK(MPI_Errhandler_free)
{
#define FN "MPI_Errhandler_free"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    slot_t *s = lookup(K_ERRHANDLER, load_i32((uint32_t)a[0].i32));
    if (!s || s->guest == ABI_ERRHANDLER_NULL)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    store_i32((uint32_t)a[0].i32, ABI_ERRHANDLER_NULL);
    return ok(a);
#undef FN
}

/* ---- window error handlers ------------------------------------------------------------------
 * A window's handler is kept in its slot (eh) like a communicator's; the host window always
 * returns errors (mpi/rma.c). */
#define WIN_ARG(sv, idx) \
    OBJ_ARG(K_WIN, win, host_##sv, sv, idx); \
    (void)host_##sv

CALLBACK(MPI_Win_set_errhandler)
{
#define FN "MPI_Win_set_errhandler"
    WIN_ARG(w, 0);
    return errhandler_set(a, w, K_WIN, errslot, FN);
#undef FN
}

CALLBACK(MPI_Win_get_errhandler)
{
#define FN "MPI_Win_get_errhandler"
    WIN_ARG(w, 0);
    return errhandler_get(a, w, FN);
#undef FN
}

CALLBACK(MPI_Win_call_errhandler)
{
#define FN "MPI_Win_call_errhandler"
    WIN_ARG(w, 0);
    (void)w;
    return errhandler_call(a, errslot, FN);
#undef FN
}
