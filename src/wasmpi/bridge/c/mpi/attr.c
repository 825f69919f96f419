/* Attribute caching. Keyvals are guest ints: the standard ABI's predefined ones (MPI_TAG_UB,
 * ...) and, for keyvals the guest creates, KEYVAL_BASE + index into a table that holds the host
 * keyval and the guest's copy/delete functions. The host MPI keeps the attributes and calls
 * the bridge's copy/delete trampolines (extra_state = the table index), which call the guest's
 * functions. Attribute values are guest pointers (32-bit), kept zero-extended in the host. */
#include "bridge.h"

#define KEYVAL_BASE 0x10000
/* guest callback values of MPI_*_DUP_FN and MPI_*_NULL_*_FN (guest mpi.h) */
#define DUP_FN 0xffffffffu
#define NULL_FN 0u

enum { KV_COMM, KV_TYPE, KV_WIN };
static const char *const COPY_WHAT[] = {
    "attribute copy function (MPI_Comm_create_keyval)",
    "attribute copy function (MPI_Type_create_keyval)",
    "attribute copy function (MPI_Win_create_keyval)",
};
static const char *const DELETE_WHAT[] = {
    "attribute delete function (MPI_Comm_create_keyval)",
    "attribute delete function (MPI_Type_create_keyval)",
    "attribute delete function (MPI_Win_create_keyval)",
};

/* Entries are never reused: a freed keyval's callbacks still run for the attributes that use
 * it (the host keeps it alive until the last one is deleted), and the host may hand out the
 * same host keyval again afterwards, so nothing but the index identifies an entry. */
typedef struct {
    int host, kind, freed;
    uint32_t copy, del;
    int32_t extra;
} keyval_t;
static keyval_t *kv;
static int n_kv, cap_kv;

static keyval_t *user_keyval(int32_t g)
{
    int64_t i = (int64_t)g - KEYVAL_BASE;
    return i >= 0 && i < n_kv && !kv[i].freed ? &kv[i] : NULL;
}

int get_keyval(int32_t g, int *host)
{
    switch (g) {
    case ABI_TAG_UB: *host = MPI_TAG_UB; return 1;
    case ABI_HOST: *host = MPI_HOST; return 1;
    case ABI_IO: *host = MPI_IO; return 1;
    case ABI_WTIME_IS_GLOBAL: *host = MPI_WTIME_IS_GLOBAL; return 1;
    case ABI_APPNUM: *host = MPI_APPNUM; return 1;
    case ABI_UNIVERSE_SIZE: *host = MPI_UNIVERSE_SIZE; return 1;
    case ABI_LASTUSEDCODE: *host = MPI_LASTUSEDCODE; return 1;
    }
    keyval_t *k = user_keyval(g);
    if (!k)
        return 0;
    *host = k->host;
    return 1;
}

/* A guest callback's return value (an ABI error code) as a host error code. */
static int host_code(int32_t rc)
{
    if (rc == 0)
        return MPI_SUCCESS;
    int h = abi_to_class(rc);
    if (h < 0)
        h = user_error_host_code(rc);
    return h > 0 ? h : MPI_ERR_OTHER;
}

static int copy_cb(int32_t obj, void *extra, void *in, void *out, int *flag)
{
    int i = (int)(intptr_t)extra;
    keyval_t k = kv[i]; /* a copy: the guest function may create keyvals (kv moves) */
    *flag = 0;
    if (k.copy == NULL_FN)
        return MPI_SUCCESS;
    if (k.copy == DUP_FN) {
        *(void **)out = in;
        *flag = 1;
        return MPI_SUCCESS;
    }
    uint32_t st = guest_alloc(8); /* attribute_val_out, flag */
    if (!st)
        return MPI_ERR_NO_MEM;
    store_i32(st, 0);
    store_i32(st + 4, 0);
    int32_t argv[6] = {obj, KEYVAL_BASE + i, k.extra, (int32_t)(uint32_t)(uintptr_t)in,
                       (int32_t)st, (int32_t)(st + 4)};
    int32_t rc = 0;
    if (upcall(k.copy, argv, 6, &rc, COPY_WHAT[k.kind]) != 0)
        rc = ABI_ERR_OTHER;
    *flag = rc == 0 && load_i32(st + 4) != 0;
    *(void **)out = (void *)(uintptr_t)(uint32_t)load_i32(st);
    guest_free(st);
    return host_code(rc);
}

static int delete_cb(int32_t obj, void *val, void *extra)
{
    int i = (int)(intptr_t)extra;
    keyval_t k = kv[i];
    /* No guest call in progress: the host MPI is finalizing for a guest that returned from
     * main without MPI_Finalize. As natively, such a program's delete functions never run. */
    if (k.del == NULL_FN || !g_caller)
        return MPI_SUCCESS;
    int32_t argv[4] = {obj, KEYVAL_BASE + i, (int32_t)(uint32_t)(uintptr_t)val, k.extra};
    int32_t rc = 0;
    if (upcall(k.del, argv, 4, &rc, DELETE_WHAT[k.kind]) != 0)
        rc = ABI_ERR_OTHER;
    return host_code(rc);
}

static int comm_copy(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag)
{
    (void)k;
    return copy_cb(guest_of(K_COMM, (host_h){.comm = c}), extra, in, out, flag);
}
static int comm_delete(MPI_Comm c, int k, void *val, void *extra)
{
    (void)k;
    return delete_cb(guest_of(K_COMM, (host_h){.comm = c}), val, extra);
}
static int type_copy(MPI_Datatype t, int k, void *extra, void *in, void *out, int *flag)
{
    (void)k;
    return copy_cb(guest_of(K_DATATYPE, (host_h){.datatype = t}), extra, in, out, flag);
}
static int type_delete(MPI_Datatype t, int k, void *val, void *extra)
{
    (void)k;
    return delete_cb(guest_of(K_DATATYPE, (host_h){.datatype = t}), val, extra);
}
static int win_copy(MPI_Win w, int k, void *extra, void *in, void *out, int *flag)
{
    (void)k;
    return copy_cb(guest_of(K_WIN, (host_h){.win = w}), extra, in, out, flag);
}
static int win_delete(MPI_Win w, int k, void *val, void *extra)
{
    (void)k;
    return delete_cb(guest_of(K_WIN, (host_h){.win = w}), val, extra);
}

static wasm_trap_t *create_keyval(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[2].i32, 4);
    if (n_kv == cap_kv) {
        int cap = cap_kv ? 2 * cap_kv : 64;
        keyval_t *t = cap < INT32_MAX - KEYVAL_BASE ? realloc(kv, (size_t)cap * sizeof *t) : NULL;
        if (!t)
            return fail(a, ABI_ERR_NO_MEM, errslot, FN);
        kv = t;
        cap_kv = cap;
    }
    int i = n_kv;
    void *extra = (void *)(intptr_t)i;
    int host = MPI_KEYVAL_INVALID, rc;
    if (kind == KV_COMM)
        rc = MPI_Comm_create_keyval(comm_copy, comm_delete, &host, extra);
    else if (kind == KV_TYPE)
        rc = MPI_Type_create_keyval(type_copy, type_delete, &host, extra);
    else
        rc = MPI_Win_create_keyval(win_copy, win_delete, &host, extra);
    if (rc == MPI_SUCCESS) {
        kv[i] = (keyval_t){host, kind, 0, (uint32_t)a[0].i32, (uint32_t)a[1].i32, a[3].i32};
        n_kv++;
        store_i32((uint32_t)a[2].i32, KEYVAL_BASE + i);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_create_keyval) { return create_keyval(a, KV_COMM, "MPI_Comm_create_keyval"); }
CALLBACK(MPI_Keyval_create) { return create_keyval(a, KV_COMM, "MPI_Keyval_create"); }
CALLBACK(MPI_Type_create_keyval) { return create_keyval(a, KV_TYPE, "MPI_Type_create_keyval"); }
CALLBACK(MPI_Win_create_keyval) { return create_keyval(a, KV_WIN, "MPI_Win_create_keyval"); }

static wasm_trap_t *free_keyval(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    keyval_t *k = user_keyval(load_i32((uint32_t)a[0].i32));
    if (!k || k->kind != kind)
        return fail(a, ABI_ERR_KEYVAL, errslot, FN);
    int host = k->host;
    int rc = kind == KV_COMM ? MPI_Comm_free_keyval(&host)
           : kind == KV_TYPE ? MPI_Type_free_keyval(&host) : MPI_Win_free_keyval(&host);
    if (rc == MPI_SUCCESS) {
        k->freed = 1; /* hidden from the guest; its callbacks still run (see keyval_t) */
        store_i32((uint32_t)a[0].i32, ABI_KEYVAL_INVALID);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_free_keyval) { return free_keyval(a, KV_COMM, "MPI_Comm_free_keyval"); }
CALLBACK(MPI_Keyval_free) { return free_keyval(a, KV_COMM, "MPI_Keyval_free"); }
CALLBACK(MPI_Type_free_keyval) { return free_keyval(a, KV_TYPE, "MPI_Type_free_keyval"); }
CALLBACK(MPI_Win_free_keyval) { return free_keyval(a, KV_WIN, "MPI_Win_free_keyval"); }

/* object argument of the attribute calls: a communicator, a datatype or a window; errors are
 * reported on the communicator or the window, as the host would */
#define ATTR_OBJ(kind) \
    int32_t errslot = world_slot(); \
    host_h obj; \
    slot_t *ws = NULL; \
    if (kind == KV_COMM) { \
        int32_t cs = comm_slot(a[0].i32); \
        if (cs < 0) return fail(a, ABI_ERR_COMM, errslot, FN); \
        errslot = cs; \
        obj.comm = T[K_COMM].s[cs].h.comm; \
    } else if (kind == KV_WIN) { \
        ws = lookup(K_WIN, a[0].i32); \
        if (!ws || ws->predefined) return fail(a, ABI_ERR_WIN, errslot, FN); \
        errslot = OBJ_ERRSLOT(K_WIN, ws); \
        obj.win = ws->h.win; \
    } else { \
        slot_t *ts = lookup(K_DATATYPE, a[0].i32); \
        if (!ts) return fail(a, ABI_ERR_TYPE, errslot, FN); \
        obj.datatype = ts->h.datatype; \
    } \
    int hk; \
    if (!get_keyval(a[1].i32, &hk)) \
        return fail(a, ABI_ERR_KEYVAL, errslot, FN)

static wasm_trap_t *set_attr(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ATTR_OBJ(kind);
    void *val = (void *)(uintptr_t)(uint32_t)a[2].i32;
    (void)ws;
    int rc = kind == KV_COMM ? MPI_Comm_set_attr(obj.comm, hk, val)
           : kind == KV_WIN ? MPI_Win_set_attr(obj.win, hk, val)
                            : MPI_Type_set_attr(obj.datatype, hk, val);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_set_attr) { return set_attr(a, KV_COMM, "MPI_Comm_set_attr"); }
CALLBACK(MPI_Attr_put) { return set_attr(a, KV_COMM, "MPI_Attr_put"); }
CALLBACK(MPI_Type_set_attr) { return set_attr(a, KV_TYPE, "MPI_Type_set_attr"); }
CALLBACK(MPI_Win_set_attr) { return set_attr(a, KV_WIN, "MPI_Win_set_attr"); }

static wasm_trap_t *delete_attr(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ATTR_OBJ(kind);
    (void)ws;
    int rc = kind == KV_COMM ? MPI_Comm_delete_attr(obj.comm, hk)
           : kind == KV_WIN ? MPI_Win_delete_attr(obj.win, hk)
                            : MPI_Type_delete_attr(obj.datatype, hk);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_delete_attr) { return delete_attr(a, KV_COMM, "MPI_Comm_delete_attr"); }
CALLBACK(MPI_Attr_delete) { return delete_attr(a, KV_COMM, "MPI_Attr_delete"); }
CALLBACK(MPI_Type_delete_attr) { return delete_attr(a, KV_TYPE, "MPI_Type_delete_attr"); }
CALLBACK(MPI_Win_delete_attr) { return delete_attr(a, KV_WIN, "MPI_Win_delete_attr"); }

/* The guest value of predefined attribute `g`, whose host value (an int) is at `host_val`. */
static int32_t predefined_value(int32_t g, const int *host_val)
{
    switch (g) {
    case ABI_HOST: case ABI_IO: return out_rank(*host_val);
    case ABI_LASTUSEDCODE: return wasmpi_last_used_code(); /* the bridge keeps the guest's */
    }
    return *host_val;
}

/* Values of the predefined attributes live in guest memory, one int per keyval, so that the
 * guest can read them through the pointer it gets. */
static uint32_t predefined_values;
enum { N_PREDEFINED = ABI_UNIVERSE_SIZE - ABI_TAG_UB + 1 };

/* the predefined window attributes are the bridge's (guest addresses, guest memory) */
static wasm_trap_t *predefined_win_attr(wasmtime_val_raw_t *a, const slot_t *w, int *done_,
                                        const char *fn)
{
#define FN fn
    ERRSLOT;
    int32_t gval = 0;
    int rc = win_attr(w, a[1].i32, &gval);
    if ((*done_ = rc >= 0) == 0)
        return NULL;
    errslot = OBJ_ERRSLOT(K_WIN, w);
    CHECK_OUT(a[2].i32, 4);
    CHECK_OUT(a[3].i32, 4);
    if (rc > 0)
        return fail(a, rc, errslot, FN);
    store_i32((uint32_t)a[2].i32, gval);
    store_i32((uint32_t)a[3].i32, 1);
    return ok(a);
#undef FN
}

static wasm_trap_t *get_attr(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    if (kind == KV_WIN) {
        slot_t *w = lookup(K_WIN, a[0].i32);
        int handled = 0;
        wasm_trap_t *t = w && !w->predefined ? predefined_win_attr(a, w, &handled, fn) : NULL;
        if (handled)
            return t;
    }
    ATTR_OBJ(kind);
    CHECK_OUT(a[2].i32, 4);
    CHECK_OUT(a[3].i32, 4);
    void *val = NULL;
    int flag = 0;
    (void)ws;
    int rc = kind == KV_COMM ? MPI_Comm_get_attr(obj.comm, hk, &val, &flag)
           : kind == KV_WIN ? MPI_Win_get_attr(obj.win, hk, &val, &flag)
                            : MPI_Type_get_attr(obj.datatype, hk, &val, &flag);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    int32_t gval = (int32_t)(uint32_t)(uintptr_t)val;
    int32_t g = a[1].i32;
    if (flag && kind == KV_COMM && g >= ABI_TAG_UB && g <= ABI_UNIVERSE_SIZE) {
        if (!predefined_values && !(predefined_values = guest_alloc(4 * N_PREDEFINED)))
            return fail(a, ABI_ERR_NO_MEM, errslot, FN);
        uint32_t p = predefined_values + 4 * (uint32_t)(g - ABI_TAG_UB);
        store_i32(p, predefined_value(g, (const int *)val));
        gval = (int32_t)p;
    }
    store_i32((uint32_t)a[3].i32, flag);
    if (flag)
        store_i32((uint32_t)a[2].i32, gval);
    return ok(a);
#undef FN
}
CALLBACK(MPI_Comm_get_attr) { return get_attr(a, KV_COMM, "MPI_Comm_get_attr"); }
CALLBACK(MPI_Attr_get) { return get_attr(a, KV_COMM, "MPI_Attr_get"); }
CALLBACK(MPI_Type_get_attr) { return get_attr(a, KV_TYPE, "MPI_Type_get_attr"); }
CALLBACK(MPI_Win_get_attr) { return get_attr(a, KV_WIN, "MPI_Win_get_attr"); }

