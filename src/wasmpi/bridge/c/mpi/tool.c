/* The MPI_T tool information interface: the special cases. Variables are the host library's;
 * the bridge translates indices' metadata (generated), the object a handle is bound to, and
 * records each handle's size in bytes so that reads and writes are bounds-checked exactly.
 * MPI_T functions return their error codes and never call an error handler (ERRSLOT_RETURN). */
#include "bridge.h"

int tool_error(int rc)
{
    int t = t_error_to_abi(rc), cls;
    if (t)
        return t;
    /* a host may wrap an MPI_T code into one of its error codes */
    if (MPI_Error_class(rc, &cls) == MPI_SUCCESS && (t = t_error_to_abi(cls)))
        return t;
    return abi_error(rc);
}

int32_t tool_datatype(MPI_Datatype h)
{
    /* wasm32 is ILP32: a host long or MPI_Aint of 8 bytes is the guest's 8-byte type, so that
     * the guest's count * MPI_Type_size is what the host reads and writes */
    if (sizeof(long) == 8 && h == MPI_LONG)
        return ABI_LONG_LONG;
    if (sizeof(long) == 8 && h == MPI_UNSIGNED_LONG)
        return ABI_UNSIGNED_LONG_LONG;
    if (sizeof(MPI_Aint) == 8 && h == MPI_AINT)
        return ABI_INT64_T;
    if (h == MPI_OFFSET)
        return ABI_INT64_T;
    return guest_of(K_DATATYPE, (host_h){.datatype = h});
}

static int in_range(int rc, int n, int i)
{
    if (rc != MPI_SUCCESS)
        return tool_error(rc); /* e.g. MPI_T not initialized */
    return i >= 0 && i < n ? 0 : ABI_T_ERR_INVALID_INDEX;
}

int cvar_index_check(int i)
{
    int n = 0, rc = MPI_T_cvar_get_num(&n);
    return in_range(rc, n, i);
}

int pvar_index_check(int i)
{
    int n = 0, rc = MPI_T_pvar_get_num(&n);
    return in_range(rc, n, i);
}

int cat_index_check(int i)
{
    int n = 0, rc = MPI_T_category_get_num(&n);
    return in_range(rc, n, i);
}

/* MPI-3.1 calls an item out of range MPI_T_ERR_INVALID_ITEM, MPI-4 (whose ABI values the guest
 * has) MPI_T_ERR_INVALID_INDEX, as MPICH does: the bridge answers the latter */
int enum_index_check(MPI_T_enum e, int i)
{
    int n = 0, zero = 0, rc = MPI_T_enum_get_info(e, &n, NULL, &zero);
    return in_range(rc, n, i);
}

/* The MPI object a variable with host binding `bind` is bound to: obj_handle (guest pointer
 * `p`) points to a guest handle of that kind, which becomes a host handle in `*h`; `*obj` is
 * what the host gets (NULL for MPI_T_BIND_NO_OBJECT, where obj_handle is ignored). Returns 0 or
 * an ABI MPI_T error code. */
static int bound_object(int bind, uint32_t p, host_h *h, void **obj)
{
    static const struct { int bind, kind; } kinds[] = {
        {MPI_T_BIND_MPI_COMM, K_COMM}, {MPI_T_BIND_MPI_DATATYPE, K_DATATYPE},
        {MPI_T_BIND_MPI_ERRHANDLER, K_ERRHANDLER}, {MPI_T_BIND_MPI_FILE, K_FILE},
        {MPI_T_BIND_MPI_GROUP, K_GROUP}, {MPI_T_BIND_MPI_OP, K_OP},
        {MPI_T_BIND_MPI_REQUEST, K_REQUEST}, {MPI_T_BIND_MPI_WIN, K_WIN},
        {MPI_T_BIND_MPI_MESSAGE, K_MESSAGE}, {MPI_T_BIND_MPI_INFO, K_INFO},
    };
    *obj = NULL;
    if (bind == MPI_T_BIND_NO_OBJECT)
        return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i].bind != bind)
            continue;
        if (!p)
            return ABI_T_ERR_INVALID_HANDLE;
        int32_t g = load_i32(p);
        slot_t *s = lookup(kinds[i].kind, g);
        if (!s || g == guest_null[kinds[i].kind]) /* no object to bind to */
            return ABI_T_ERR_INVALID_HANDLE;
        *h = s->h;
        *obj = h; /* every member of the union starts at its address */
        return 0;
    }
    return ABI_T_ERR_INVALID; /* a binding MPI-3.1 does not have (MPI_T_BIND_MPI_SESSION) */
}

/* A new guest MPI_T handle of `kind` for host handle `h` that covers `count` elements of
 * host type `type`: the slot's extent is the variable's size in bytes (read and write check
 * exactly that range). */
static int32_t new_var_handle(int kind, host_h h, int count, MPI_Datatype type)
{
    int32_t g = new_handle(kind, h);
    slot_t *s = lookup(kind, g);
    int size = 0;
    if (MPI_Type_size(type, &size) != MPI_SUCCESS)
        size = 0;
    if (s && !s->predefined)
        s->extent = (int64_t)(count > 0 ? count : 0) * size;
    return g;
}

CALLBACK(MPI_T_cvar_handle_alloc)
{
#define FN "MPI_T_cvar_handle_alloc"
    TOOL_ERRSLOT;
    int index = a[0].i32, e = cvar_index_check(index);
    if (e)
        return fail(a, e, errslot, FN);
    uint32_t obj_p = (uint32_t)a[1].i32, handle_p = (uint32_t)a[2].i32;
    uint32_t count_p = (uint32_t)a[3].i32;
    CHECK_OUT(handle_p, 4);
    CHECK_OUT(count_p, 4);
    int zero = 0, zero2 = 0, verbosity, bind, scope;
    MPI_Datatype type;
    MPI_T_enum en;
    int rc = MPI_T_cvar_get_info(index, NULL, &zero, &verbosity, &type, &en, NULL, &zero2,
                                 &bind, &scope);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (bind != MPI_T_BIND_NO_OBJECT)
        CHECK_OUT(obj_p, 4);
    host_h obj_h;
    void *obj;
    int cls = bound_object(bind, obj_p, &obj_h, &obj);
    if (cls)
        return fail(a, cls, errslot, FN);
    MPI_T_cvar_handle h;
    int count = 0;
    rc = MPI_T_cvar_handle_alloc(index, obj, &h, &count);
    if (rc == MPI_SUCCESS) {
        store_i32(handle_p, new_var_handle(K_T_CVAR_HANDLE, (host_h){.t_cvar_handle = h}, count,
                                           type));
        store_i32(count_p, count);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_T_pvar_handle_alloc)
{
#define FN "MPI_T_pvar_handle_alloc"
    TOOL_ERRSLOT;
    HANDLE_ARG(K_T_PVAR_SESSION, t_pvar_session, session, ss, 0);
    int index = a[1].i32, e = pvar_index_check(index);
    if (e)
        return fail(a, e, errslot, FN);
    uint32_t obj_p = (uint32_t)a[2].i32, handle_p = (uint32_t)a[3].i32;
    uint32_t count_p = (uint32_t)a[4].i32;
    CHECK_OUT(handle_p, 4);
    CHECK_OUT(count_p, 4);
    int zero = 0, zero2 = 0, verbosity, var_class, bind, readonly, continuous, atomic;
    MPI_Datatype type;
    MPI_T_enum en;
    int rc = MPI_T_pvar_get_info(index, NULL, &zero, &verbosity, &var_class, &type, &en, NULL,
                                 &zero2, &bind, &readonly, &continuous, &atomic);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (bind != MPI_T_BIND_NO_OBJECT)
        CHECK_OUT(obj_p, 4);
    host_h obj_h;
    void *obj;
    int cls = bound_object(bind, obj_p, &obj_h, &obj);
    if (cls)
        return fail(a, cls, errslot, FN);
    MPI_T_pvar_handle h;
    int count = 0;
    rc = MPI_T_pvar_handle_alloc(session, index, obj, &h, &count);
    if (rc == MPI_SUCCESS) {
        int32_t g = new_var_handle(K_T_PVAR_HANDLE, (host_h){.t_pvar_handle = h}, count, type);
        slot_t *hs = lookup(K_T_PVAR_HANDLE, g);
        if (hs)
            hs->cslot = slot_index(K_T_PVAR_SESSION, ss); /* its session (generated checks) */
        store_i32(handle_p, g);
        store_i32(count_p, count);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* Free the guest handles of `kind` that the host freed with something else: a session's pvar
 * handles (session slot `session`), or all (session -1). */
static void drop_handles(int kind, int32_t session)
{
    table_t *t = &T[kind];
    for (int32_t i = t->n_predefined; i < t->n; i++)
        if (t->s[i].live && (session < 0 || t->s[i].cslot == session))
            slot_free(kind, &t->s[i]);
}

CALLBACK(MPI_T_pvar_session_free)
{
#define FN "MPI_T_pvar_session_free"
    TOOL_ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32;
    CHECK_OUT(p, 4);
    slot_t *s = lookup(K_T_PVAR_SESSION, load_i32(p));
    if (!s)
        return fail(a, ABI_T_ERR_INVALID_SESSION, errslot, FN);
    MPI_T_pvar_session h = s->h.t_pvar_session;
    int rc = MPI_T_pvar_session_free(&h);
    if (rc == MPI_SUCCESS) {
        drop_handles(K_T_PVAR_HANDLE, slot_index(K_T_PVAR_SESSION, s));
        slot_free(K_T_PVAR_SESSION, s);
        store_i32(p, guest_null[K_T_PVAR_SESSION]);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

int g_tool_inits;

CALLBACK(MPI_T_init_thread)
{
#define FN "MPI_T_init_thread"
    int32_t errslot = ERRSLOT_RETURN;
    uint32_t prov = (uint32_t)a[1].i32;
    CHECK_OUT(prov, 4);
    int provided = MPI_THREAD_SINGLE;
    int rc = MPI_T_init_thread(in_thread(a[0].i32), &provided);
    if (rc == MPI_SUCCESS) {
        g_tool_inits++;
        store_i32(prov, out_thread_level(provided));
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* The guest's last MPI_T_finalize ends every MPI_T object it made: the bridge frees them on
 * the host, where the interface may stay open (MPICH's MPI_Init holds it). */
CALLBACK(MPI_T_finalize)
{
#define FN "MPI_T_finalize"
    TOOL_ERRSLOT;
    /* one more finalize than inits would take the host's own reference (Open MPI 5 then
     * segfaulted in MPI_Finalize; fuzz seed 238) */
    if (g_tool_inits <= 0)
        return fail(a, ABI_T_ERR_NOT_INITIALIZED, errslot, FN);
    if (g_tool_inits == 1) {
        table_t *t = &T[K_T_CVAR_HANDLE];
        for (int32_t i = t->n_predefined; i < t->n; i++)
            if (t->s[i].live)
                MPI_T_cvar_handle_free(&t->s[i].h.t_cvar_handle);
        t = &T[K_T_PVAR_SESSION];
        for (int32_t i = t->n_predefined; i < t->n; i++)
            if (t->s[i].live)
                MPI_T_pvar_session_free(&t->s[i].h.t_pvar_session); /* and its handles */
        drop_handles(K_T_CVAR_HANDLE, -1);
        drop_handles(K_T_PVAR_HANDLE, -1);
        drop_handles(K_T_PVAR_SESSION, -1);
        drop_handles(K_T_ENUM, -1);
    }
    int rc = MPI_T_finalize();
    if (rc == MPI_SUCCESS)
        g_tool_inits--;
    return done(a, rc, errslot, FN);
#undef FN
}
