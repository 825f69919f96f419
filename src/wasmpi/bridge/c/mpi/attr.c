/* Attribute caching. Keyvals are guest ints: the standard ABI's predefined ones (MPI_TAG_UB,
 * ...) and, for keyvals the guest creates, KEYVAL_BASE + index into a table that holds the host
 * keyval and the guest's copy/delete functions. The host MPI keeps the attributes and calls
 * the bridge's copy/delete trampolines (extra_state = the table index), which call the guest's
 * functions. Attribute values are guest pointers (32-bit), kept zero-extended in the host. */
#include "bridge.h"

#define KEYVAL_BASE 0x10000
#define MAX_KEYVALS 1024
/* guest callback values of MPI_*_DUP_FN and MPI_*_NULL_*_FN (guest mpi.h) */
#define DUP_FN 0xffffffffu
#define NULL_FN 0u

enum { KV_COMM, KV_TYPE, KV_WIN };
static struct {
    int host, kind, used;
    uint32_t copy, del;
    int32_t extra;
} kv[MAX_KEYVALS];

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
    int i = g - KEYVAL_BASE;
    if (i < 0 || i >= MAX_KEYVALS || !kv[i].used)
        return 0;
    *host = kv[i].host;
    return 1;
}

static int guest_keyval_of(int host)
{
    for (int i = 0; i < MAX_KEYVALS; i++)
        if (kv[i].used && kv[i].host == host)
            return KEYVAL_BASE + i;
    return host;
}

/* The guest's copy function: returns its MPI error class (as a host class). */
static int copy_cb(int kind, int32_t obj, int keyval, void *extra, void *in, void *out,
                   int *flag)
{
    int i = (int)(intptr_t)extra;
    *flag = 0;
    if (kv[i].copy == NULL_FN)
        return MPI_SUCCESS;
    if (kv[i].copy == DUP_FN) {
        *(void **)out = in;
        *flag = 1;
        return MPI_SUCCESS;
    }
    uint32_t st = guest_alloc(8);
    if (!st)
        return MPI_ERR_NO_MEM;
    store_i32(st, 0);
    store_i32(st + 4, 0);
    int32_t argv[6] = {obj, guest_keyval_of(keyval), kv[i].extra,
                       (int32_t)(uint32_t)(uintptr_t)in, (int32_t)st, (int32_t)(st + 4)};
    int32_t rc = 0;
    const char *what = kind == KV_COMM ? "attribute copy function (MPI_Comm_create_keyval)"
                                       : "attribute copy function (MPI_Type_create_keyval)";
    if (upcall(kv[i].copy, argv, 6, &rc, what) != 0)
        rc = ABI_ERR_OTHER;
    *(void **)out = (void *)(uintptr_t)(uint32_t)load_i32(st);
    *flag = load_i32(st + 4) != 0;
    guest_free(st);
    if (rc == 0)
        return MPI_SUCCESS;
    int h = abi_to_class(rc);
    return h > 0 ? h : MPI_ERR_OTHER;
}

static int delete_cb(int kind, int32_t obj, int keyval, void *val, void *extra)
{
    int i = (int)(intptr_t)extra;
    if (kv[i].del == NULL_FN)
        return MPI_SUCCESS;
    int32_t argv[4] = {obj, guest_keyval_of(keyval), (int32_t)(uint32_t)(uintptr_t)val,
                       kv[i].extra};
    int32_t rc = 0;
    const char *what = kind == KV_COMM ? "attribute delete function (MPI_Comm_create_keyval)"
                                       : "attribute delete function (MPI_Type_create_keyval)";
    if (upcall(kv[i].del, argv, 4, &rc, what) != 0)
        rc = ABI_ERR_OTHER;
    if (rc == 0)
        return MPI_SUCCESS;
    int h = abi_to_class(rc);
    return h > 0 ? h : MPI_ERR_OTHER;
}

static int comm_copy(MPI_Comm c, int k, void *extra, void *in, void *out, int *flag)
{
    return copy_cb(KV_COMM, guest_of(K_COMM, (host_h){.comm = c}), k, extra, in, out, flag);
}
static int comm_delete(MPI_Comm c, int k, void *val, void *extra)
{
    return delete_cb(KV_COMM, guest_of(K_COMM, (host_h){.comm = c}), k, val, extra);
}
static int type_copy(MPI_Datatype t, int k, void *extra, void *in, void *out, int *flag)
{
    return copy_cb(KV_TYPE, guest_of(K_DATATYPE, (host_h){.datatype = t}), k, extra, in, out,
                   flag);
}
static int type_delete(MPI_Datatype t, int k, void *val, void *extra)
{
    return delete_cb(KV_TYPE, guest_of(K_DATATYPE, (host_h){.datatype = t}), k, val, extra);
}

static wasm_trap_t *create_keyval(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[2].i32, 4);
    int i = 0;
    while (i < MAX_KEYVALS && kv[i].used)
        i++;
    if (i == MAX_KEYVALS)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    void *extra = (void *)(intptr_t)i;
    int host = MPI_KEYVAL_INVALID, rc;
    if (kind == KV_COMM)
        rc = MPI_Comm_create_keyval(comm_copy, comm_delete, &host, extra);
    else
        rc = MPI_Type_create_keyval(type_copy, type_delete, &host, extra);
    if (rc == MPI_SUCCESS) {
        kv[i].used = 1;
        kv[i].host = host;
        kv[i].kind = kind;
        kv[i].copy = (uint32_t)a[0].i32;
        kv[i].del = (uint32_t)a[1].i32;
        kv[i].extra = a[3].i32;
        store_i32((uint32_t)a[2].i32, KEYVAL_BASE + i);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_create_keyval) { return create_keyval(a, KV_COMM, "MPI_Comm_create_keyval"); }
CALLBACK(MPI_Keyval_create) { return create_keyval(a, KV_COMM, "MPI_Keyval_create"); }
CALLBACK(MPI_Type_create_keyval) { return create_keyval(a, KV_TYPE, "MPI_Type_create_keyval"); }

static wasm_trap_t *free_keyval(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    int i = load_i32((uint32_t)a[0].i32) - KEYVAL_BASE;
    if (i < 0 || i >= MAX_KEYVALS || !kv[i].used || kv[i].kind != kind)
        return fail(a, ABI_ERR_KEYVAL, errslot, FN);
    int host = kv[i].host;
    int rc = kind == KV_COMM ? MPI_Comm_free_keyval(&host) : MPI_Type_free_keyval(&host);
    if (rc == MPI_SUCCESS) {
        /* the host keeps a freed keyval while attributes use it: so does the table entry,
         * whose callbacks may still run; it is only hidden from the guest */
        store_i32((uint32_t)a[0].i32, ABI_KEYVAL_INVALID);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_free_keyval) { return free_keyval(a, KV_COMM, "MPI_Comm_free_keyval"); }
CALLBACK(MPI_Keyval_free) { return free_keyval(a, KV_COMM, "MPI_Keyval_free"); }
CALLBACK(MPI_Type_free_keyval) { return free_keyval(a, KV_TYPE, "MPI_Type_free_keyval"); }

/* object argument of the attribute calls: a communicator or a datatype */
#define ATTR_OBJ(kind) \
    int32_t errslot = world_slot(); \
    host_h obj; \
    if (kind == KV_COMM) { \
        int32_t cs = comm_slot(a[0].i32); \
        if (cs < 0) return fail(a, ABI_ERR_COMM, errslot, FN); \
        errslot = cs; \
        obj.comm = T[K_COMM].s[cs].h.comm; \
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
    int rc = kind == KV_COMM ? MPI_Comm_set_attr(obj.comm, hk, val)
                             : MPI_Type_set_attr(obj.datatype, hk, val);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_set_attr) { return set_attr(a, KV_COMM, "MPI_Comm_set_attr"); }
CALLBACK(MPI_Attr_put) { return set_attr(a, KV_COMM, "MPI_Attr_put"); }
CALLBACK(MPI_Type_set_attr) { return set_attr(a, KV_TYPE, "MPI_Type_set_attr"); }

static wasm_trap_t *delete_attr(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ATTR_OBJ(kind);
    int rc = kind == KV_COMM ? MPI_Comm_delete_attr(obj.comm, hk)
                             : MPI_Type_delete_attr(obj.datatype, hk);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Comm_delete_attr) { return delete_attr(a, KV_COMM, "MPI_Comm_delete_attr"); }
CALLBACK(MPI_Attr_delete) { return delete_attr(a, KV_COMM, "MPI_Attr_delete"); }
CALLBACK(MPI_Type_delete_attr) { return delete_attr(a, KV_TYPE, "MPI_Type_delete_attr"); }

/* Values of the predefined attributes live in guest memory (the guest gets a pointer). */
static uint32_t predefined_values;

static int predefined_value(int32_t g, const void *host_val, int32_t *out)
{
    int v = *(const int *)host_val;
    switch (g) {
    case ABI_HOST: case ABI_IO: *out = out_rank(v); return 1;
    case ABI_LASTUSEDCODE: {
        extern int wasmpi_last_used_code(void);
        *out = wasmpi_last_used_code();
        return 1;
    }
    case ABI_TAG_UB: case ABI_WTIME_IS_GLOBAL: case ABI_APPNUM: case ABI_UNIVERSE_SIZE:
        *out = v;
        return 1;
    }
    return 0;
}

static wasm_trap_t *get_attr(wasmtime_val_raw_t *a, int kind, const char *fn)
{
#define FN fn
    ATTR_OBJ(kind);
    CHECK_OUT(a[2].i32, 4);
    CHECK_OUT(a[3].i32, 4);
    void *val = NULL;
    int flag = 0;
    int rc = kind == KV_COMM ? MPI_Comm_get_attr(obj.comm, hk, &val, &flag)
                             : MPI_Type_get_attr(obj.datatype, hk, &val, &flag);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    int32_t gval = (int32_t)(uint32_t)(uintptr_t)val;
    int32_t pre;
    if (kind == KV_COMM && a[1].i32 == ABI_LASTUSEDCODE) {
        flag = 1; /* the guest's own codes: the bridge keeps them */
        val = &flag;
    }
    if (flag && kind == KV_COMM && predefined_value(a[1].i32, val, &pre)) {
        if (!predefined_values && !(predefined_values = guest_alloc(4 * 16)))
            return fail(a, ABI_ERR_NO_MEM, errslot, FN);
        uint32_t slot = predefined_values + 4 * (uint32_t)(a[1].i32 - ABI_TAG_UB);
        store_i32(slot, pre);
        gval = (int32_t)slot;
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

void init_attrs(void) {}
