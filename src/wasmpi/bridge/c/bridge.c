/* wasmpi MPI bridge: every MPI import of a wasm32 guest as a native wasmtime callback.
 *
 * Built on first use with the selected MPI's compiler wrapper (see bridge/build.py) and loaded
 * by the rank process. Each callback has wasmtime's "unchecked" signature: arguments arrive as
 * wasmtime_val_raw_t slots and the result overwrites slot 0. Guest pointers are offsets into
 * the one linear memory, whose base never moves (Config.memory_may_move = false), so buffers
 * are handed to MPI zero-copy after a bounds check against the current memory size.
 *
 * Guest handles are 32-bit: the MPI 5.0 ABI values for predefined handles, (kind << 24 | slot)
 * for everything created at run time. A bad handle is an MPI error class, a pointer outside
 * linear memory is a trap naming the function and the range.
 */
#include <mpi.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The subset of the wasmtime C API that the bridge touches; the pointers come from the
 * loader at start-up, so the bridge does not link against libwasmtime. */
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    void *funcref;
} wasmtime_val_raw_t;
typedef wasm_trap_t *(*trap_new_fn)(const char *msg, size_t len);
typedef size_t (*memory_size_fn)(const void *context, const void *memory);

typedef wasm_trap_t *(*callback_fn)(void *env, wasmtime_caller_t *caller,
                                    wasmtime_val_raw_t *a, size_t n);
typedef struct {
    const char *name, *params, *results;
    callback_fn cb;
} bridge_entry;

#define CALLBACK(name) \
    static wasm_trap_t *cb_##name(void *env_, wasmtime_caller_t *caller_, \
                                  wasmtime_val_raw_t *a, size_t n_)

/* ---- guest memory -------------------------------------------------------------------- */

static uint8_t *g_base;
static uint64_t g_size;
static const void *g_ctx, *g_mem;
static memory_size_fn g_memory_size;
static trap_new_fn g_trap_new;
static int g_rank = -1;

#define GPTR(p) ((void *)(g_base + (uint32_t)(p)))

/* Memory only grows: re-read its size only when a range fails the cached bound. */
static int fits(uint64_t hi)
{
    if (hi <= g_size)
        return 1;
    g_size = g_memory_size(g_ctx, g_mem);
    return hi <= g_size;
}

static wasm_trap_t *trap(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return g_trap_new(msg, strlen(msg));
}

static wasm_trap_t *range_trap(const char *fn, const char *what, int64_t lo, int64_t hi)
{
    return trap("%s: %s [%lld, %lld) is outside linear memory (%llu bytes)", fn, what,
                (long long)lo, (long long)hi, (unsigned long long)g_size);
}

#define CHECK_RANGE(lo, hi, what) \
    do { \
        int64_t rlo_ = (lo), rhi_ = (hi); \
        if (rlo_ < 0 || !fits((uint64_t)rhi_)) \
            return range_trap(FN, what, rlo_, rhi_); \
    } while (0)
#define CHECK_OUT(p, len) CHECK_RANGE((uint32_t)(p), (int64_t)(uint32_t)(p) + (len), "argument")
#define CHECK_ARRAY(p, count, elsize, what) \
    CHECK_RANGE((uint32_t)(p), (int64_t)(uint32_t)(p) + (int64_t)(count) * (elsize), what)
#define CHECK_STR(var, p) \
    do { \
        uint32_t p_ = (uint32_t)(p); \
        fits(p_ + 1); \
        if (p_ >= g_size || !memchr(g_base + p_, 0, g_size - p_)) \
            return trap("%s: string at %u is not terminated inside linear memory (%llu bytes)", \
                        FN, p_, (unsigned long long)g_size); \
        var = (const char *)(g_base + p_); \
    } while (0)

/* ---- handle tables ------------------------------------------------------------------- */

enum { K_COMM = 1, K_GROUP, K_DATATYPE, K_OP, K_REQUEST, K_ERRHANDLER, K_INFO, K_WIN, K_FILE,
       K_MESSAGE, K_LAST };

typedef union {
    MPI_Comm comm;
    MPI_Group group;
    MPI_Datatype datatype;
    MPI_Op op;
    MPI_Request request;
    MPI_Errhandler errhandler;
    MPI_Info info;
    MPI_Win win;
    MPI_File file;
    MPI_Message message;
} host_h;

typedef struct {
    host_h h;
    int32_t guest;      /* the guest's value for this handle */
    int32_t next_free;  /* free-list link while the slot is unused */
    uint8_t live, predefined;
    const char *name;   /* predefined only */
    /* datatype: layout for bounds checks */
    int64_t lb, extent, true_lb, true_extent;
    /* comm: error handler (guest value), local size, remote size (intercomm) or 0, rank */
    int32_t eh, size, rsize, rank;
    /* request: slot of its communicator, whose error handler reports its completion */
    int32_t cslot;
} slot_t;

typedef struct {
    slot_t *s;
    int32_t n, cap, free_head;
} table_t;

static table_t T[K_LAST];
static int32_t pre_map[0x400]; /* predefined guest value -> (kind << 24 | slot) */

#define ABI_COMM_NULL 0x100
#define ABI_COMM_WORLD 0x101
#define ABI_REQUEST_NULL 0x180
#define ABI_ERRORS_ARE_FATAL 0x141
#define ABI_ERRORS_RETURN 0x143
#define ABI_UNDEFINED (-32766)
#define ABI_ERR_IN_STATUS 19
#define ABI_ERR_OTHER 16

static int32_t guest_null[K_LAST];
static host_h host_null[K_LAST];

static int same_handle(int kind, host_h x, host_h y)
{
    switch (kind) {
    case K_COMM: return x.comm == y.comm;
    case K_GROUP: return x.group == y.group;
    case K_DATATYPE: return x.datatype == y.datatype;
    case K_OP: return x.op == y.op;
    case K_REQUEST: return x.request == y.request;
    case K_ERRHANDLER: return x.errhandler == y.errhandler;
    case K_INFO: return x.info == y.info;
    case K_WIN: return x.win == y.win;
    case K_FILE: return x.file == y.file;
    case K_MESSAGE: return x.message == y.message;
    }
    return 0;
}

static slot_t *slot_alloc(int kind, int32_t *idx_out)
{
    table_t *t = &T[kind];
    int32_t idx;
    if (t->free_head >= 0) {
        idx = t->free_head;
        t->free_head = t->s[idx].next_free;
    } else {
        if (t->n == t->cap) {
            int32_t cap = t->cap ? 2 * t->cap : 64;
            slot_t *s = realloc(t->s, (size_t)cap * sizeof *s);
            if (!s) {
                fprintf(stderr, "wasmpi: out of memory for MPI handles\n");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            t->s = s;
            t->cap = cap;
        }
        idx = t->n++;
    }
    slot_t *s = &t->s[idx];
    memset(s, 0, sizeof *s);
    s->live = 1;
    s->guest = (kind << 24) | idx;
    s->eh = ABI_ERRORS_ARE_FATAL;
    *idx_out = idx;
    return s;
}

static void slot_free(int kind, slot_t *s)
{
    table_t *t = &T[kind];
    s->live = 0;
    s->next_free = t->free_head;
    t->free_head = (int32_t)(s - t->s);
}

static inline slot_t *lookup(int kind, int32_t g)
{
    uint32_t u = (uint32_t)g;
    if (u < 0x400)
        u = (uint32_t)pre_map[u];
    if ((int)(u >> 24) != kind)
        return NULL;
    uint32_t idx = u & 0xffffff;
    table_t *t = &T[kind];
    if (idx >= (uint32_t)t->n || !t->s[idx].live)
        return NULL;
    return &t->s[idx];
}

static void datatype_layout(slot_t *s)
{
    MPI_Count lb = 0, ext = 0, tlb = 0, text = 0;
    if (s->h.datatype != MPI_DATATYPE_NULL) {
        MPI_Type_get_extent_x(s->h.datatype, &lb, &ext);
        MPI_Type_get_true_extent_x(s->h.datatype, &tlb, &text);
    }
    s->lb = lb; s->extent = ext; s->true_lb = tlb; s->true_extent = text;
}

static void comm_info(slot_t *s)
{
    int inter = 0;
    s->size = s->rsize = 0;
    s->rank = -1;
    if (s->h.comm == MPI_COMM_NULL)
        return;
    MPI_Comm_size(s->h.comm, &s->size);
    MPI_Comm_rank(s->h.comm, &s->rank);
    MPI_Comm_test_inter(s->h.comm, &inter);
    if (inter)
        MPI_Comm_remote_size(s->h.comm, &s->rsize);
}

/* The guest value for a host handle that an MPI call just created. */
static int32_t new_handle(int kind, host_h h)
{
    if (same_handle(kind, h, host_null[kind]))
        return guest_null[kind];
    int32_t idx;
    slot_t *s = slot_alloc(kind, &idx);
    s->h = h;
    if (kind == K_DATATYPE)
        datatype_layout(s);
    return s->guest;
}

static int32_t new_request(MPI_Request r, int32_t comm_slot)
{
    int32_t g = new_handle(K_REQUEST, (host_h){.request = r});
    slot_t *s = lookup(K_REQUEST, g);
    if (s && !s->predefined)
        s->cslot = comm_slot;
    return g;
}

static int32_t new_comm(MPI_Comm c, int32_t parent_slot)
{
    host_h h = {.comm = c};
    int32_t g = new_handle(K_COMM, h);
    slot_t *s = lookup(K_COMM, g);
    if (s && !s->predefined) {
        comm_info(s);
        slot_t *p = parent_slot >= 0 ? &T[K_COMM].s[parent_slot] : NULL;
        s->eh = p ? p->eh : ABI_ERRORS_ARE_FATAL;
    }
    return g;
}

static void predefine(int kind, int32_t guest, const char *name, host_h h)
{
    int32_t idx;
    slot_t *s = slot_alloc(kind, &idx);
    s->h = h;
    s->guest = guest;
    s->predefined = 1;
    s->name = name;
    pre_map[guest] = (kind << 24) | idx;
    if (kind == K_DATATYPE)
        datatype_layout(s);
    if (kind == K_COMM)
        comm_info(s);
    if (strstr(name, "_NULL") && !strstr(name, "PROC_NULL")) {
        guest_null[kind] = guest;
        host_null[kind] = h;
    }
}

/* A guest type with no host equivalent of the same layout (binary128 long double): `size`
 * bytes of data in an `extent`-byte element, moved as bytes, so point-to-point and
 * gather-style calls work and reductions report MPI_ERR_OP. */
static void predefine_bytes(int32_t guest, const char *name, int size, int extent)
{
    host_h h;
    MPI_Type_contiguous(size, MPI_BYTE, &h.datatype);
    if (extent != size) {
        MPI_Datatype t = h.datatype;
        MPI_Type_create_resized(t, 0, extent, &h.datatype);
        MPI_Type_free(&t);
    }
    MPI_Type_commit(&h.datatype);
    predefine(K_DATATYPE, guest, name, h);
}

#define GETTER(low, KIND, ctype) \
    static inline int get_##low(int32_t g, ctype *h, int32_t *slot) \
    { \
        slot_t *s = lookup(KIND, g); \
        if (!s) \
            return 0; \
        *h = s->h.low; \
        *slot = (int32_t)(s - T[KIND].s); \
        return 1; \
    }
GETTER(comm, K_COMM, MPI_Comm)
GETTER(group, K_GROUP, MPI_Group)
GETTER(datatype, K_DATATYPE, MPI_Datatype)
GETTER(op, K_OP, MPI_Op)
GETTER(request, K_REQUEST, MPI_Request)
GETTER(errhandler, K_ERRHANDLER, MPI_Errhandler)
GETTER(info, K_INFO, MPI_Info)
GETTER(win, K_WIN, MPI_Win)
GETTER(file, K_FILE, MPI_File)
GETTER(message, K_MESSAGE, MPI_Message)

static int32_t world_slot(void) { return (int32_t)(pre_map[ABI_COMM_WORLD] & 0xffffff); }

/* ---- constants that differ between the standard ABI and the host MPI ------------------- */

static inline int in_rank(int r)
{
    if (r >= 0) return r;
    switch (r) {
    case -1: return MPI_ANY_SOURCE;
    case -3: return MPI_PROC_NULL;
    case -4: return MPI_ROOT;
    }
    return r;
}
static inline int out_rank(int r)
{
    if (r >= 0) return r;
    if (r == MPI_ANY_SOURCE) return -1;
    if (r == MPI_PROC_NULL) return -3;
    if (r == MPI_ROOT) return -4;
    if (r == MPI_UNDEFINED) return ABI_UNDEFINED;
    return r;
}
static inline int in_tag(int t) { return t == -2 ? MPI_ANY_TAG : t; }
static inline int out_tag(int t) { return t == MPI_ANY_TAG ? -2 : t; }
static inline int in_undef(int x) { return x == ABI_UNDEFINED ? MPI_UNDEFINED : x; }
static inline int out_undef(int x) { return x == MPI_UNDEFINED ? ABI_UNDEFINED : x; }
static inline int in_split_type(int x)
{
    return x == 221 ? MPI_COMM_TYPE_SHARED : in_undef(x);
}
static inline int out_cmp(int x)
{
    if (x == MPI_IDENT) return 201;
    if (x == MPI_CONGRUENT) return 202;
    if (x == MPI_SIMILAR) return 203;
    if (x == MPI_UNEQUAL) return 204;
    return x;
}
static inline int in_thread(int x)
{
    return x >= 4096 ? MPI_THREAD_MULTIPLE : x >= 2048 ? MPI_THREAD_SERIALIZED
         : x >= 1024 ? MPI_THREAD_FUNNELED : MPI_THREAD_SINGLE;
}

static int class_to_abi(int c);
static int abi_to_class(int c);
static void init_predefined(void);

/* ---- errors: one choke point ---------------------------------------------------------- */

static const char *abi_class_text(int c)
{
    switch (c) {
    case 1: return "invalid buffer pointer";
    case 2: return "invalid count argument";
    case 3: return "invalid datatype";
    case 5: return "invalid communicator";
    case 7: return "invalid request";
    case 9: return "invalid group";
    case 10: return "invalid reduce operation";
    case 13: return "invalid argument";
    case 34: return "invalid info object";
    }
    return "error";
}

/* Abort the job after giving the launcher a moment to forward what this rank just wrote:
 * mpiexec (Hydra in particular) may tear the job down before it relays a dying rank's last
 * stderr lines, which are exactly the ones that say why. Failure path only. */
static int abort_job(MPI_Comm comm, int code)
{
    fflush(stdout);
    fflush(stderr);
    usleep(200 * 1000);
    return MPI_Abort(comm, code);
}

/* Report an error of ABI class `cls` to the guest: return it under MPI_ERRORS_RETURN, or print
 * and abort the job under MPI_ERRORS_ARE_FATAL (the default). */
static wasm_trap_t *raise(wasmtime_val_raw_t *a, int cls, const char *text, int32_t cslot,
                          const char *fn)
{
    slot_t *s = cslot >= 0 && cslot < T[K_COMM].n ? &T[K_COMM].s[cslot] : NULL;
    if (!s || s->guest == ABI_COMM_NULL) /* no communicator to speak of: MPI_COMM_WORLD's */
        s = &T[K_COMM].s[world_slot()];
    int32_t eh = s->eh;
    if (eh == ABI_ERRORS_RETURN) {
        a[0].i32 = cls;
        return NULL;
    }
    fprintf(stderr, "wasmpi: rank %d: %s: %s (MPI error class %d); aborting the job\n", g_rank,
            fn, text, cls);
    abort_job(MPI_COMM_WORLD, cls);
    return trap("%s: MPI_Abort returned", fn);
}

static wasm_trap_t *fail(wasmtime_val_raw_t *a, int cls, int32_t cslot, const char *fn)
{
    return raise(a, cls, abi_class_text(cls), cslot, fn);
}

static int abi_error(int rc)
{
    int cls = rc;
    if (MPI_Error_class(rc, &cls) != MPI_SUCCESS)
        return ABI_ERR_OTHER;
    return class_to_abi(cls);
}

static wasm_trap_t *done(wasmtime_val_raw_t *a, int rc, int32_t cslot, const char *fn)
{
    if (rc == MPI_SUCCESS) {
        a[0].i32 = 0;
        return NULL;
    }
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", rc);
    return raise(a, abi_error(rc), text, cslot, fn);
}

/* Every callback starts with the communicator slot whose error handler decides; calls
 * without a communicator report on MPI_COMM_WORLD. A call with a communicator argument looks
 * it up first (COMM_ARG), so that a bad datatype or op passed with a valid communicator is
 * reported to that communicator's handler. */
#define ERRSLOT int32_t errslot __attribute__((unused)) = world_slot()
static inline int32_t comm_slot(int32_t g)
{
    slot_t *s = lookup(K_COMM, g);
    return s ? (int32_t)(s - T[K_COMM].s) : -1;
}
/* communicator argument `var` at argument `idx`; declares errslot (one lookup for both) */
#define COMM_ARG(var, idx) \
    int32_t cs_##var = comm_slot(a[idx].i32); \
    int32_t errslot __attribute__((unused)) = cs_##var >= 0 ? cs_##var : world_slot(); \
    if (cs_##var < 0) \
        return fail(a, 5, errslot, FN); \
    MPI_Comm var = T[K_COMM].s[cs_##var].h.comm

/* ---- arguments -------------------------------------------------------------------------- */

#define GET(low, var, slot, idx, cls) \
    if (!get_##low(a[idx].i32, &var, &slot)) \
        return fail(a, cls, errslot, FN)
#define GET_COMM(var, idx) \
    MPI_Comm var; int32_t cs_##var; \
    if (!get_comm(a[idx].i32, &var, &cs_##var)) \
        return fail(a, 5, errslot, FN); \
    errslot = cs_##var
#define GET_TYPE(var, idx) \
    MPI_Datatype var; int32_t ts_##var; GET(datatype, var, ts_##var, idx, 3)
#define GET_OP(var, idx) \
    MPI_Op var; int32_t os_##var; GET(op, var, os_##var, idx, 10)
#define TYPE_SLOT(var) (&T[K_DATATYPE].s[ts_##var])
#define COMM_SLOT(var) (&T[K_COMM].s[cs_##var])

/* The byte range [lo, hi) that `count` elements of a datatype touch, relative to the buffer. */
static inline void span(const slot_t *t, int64_t count, int64_t *lo, int64_t *hi)
{
    int64_t step = (count - 1) * t->extent;
    *lo = t->true_lb + (step < 0 ? step : 0);
    *hi = t->true_lb + t->true_extent + (step > 0 ? step : 0);
}

#define IN_PLACE_PTR 1u
/* buffer argument `var` at argument `idx`, holding `count` elements of datatype slot `ts` */
#define BUF(var, idx, count, ts, place_ok) \
    void *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        int64_t c_ = (count); \
        if ((place_ok) && p_ == IN_PLACE_PTR) { var = MPI_IN_PLACE; break; } \
        if (c_ < 0) return fail(a, 2, errslot, FN); \
        var = GPTR(p_); \
        if (c_ > 0) { \
            int64_t lo_ = 0, hi_ = 0; \
            span((ts), c_, &lo_, &hi_); \
            CHECK_RANGE((int64_t)p_ + lo_, (int64_t)p_ + hi_, "buffer"); \
        } \
    } while (0)

/* Check a v-collective buffer: counts[i] elements at displs[i] extents, i < n. */
static int vspan(const slot_t *t, const int *counts, const int *displs, int n, int64_t *lo,
                 int64_t *hi)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (counts[i] < 0)
            return -1;
        if (counts[i] == 0)
            continue;
        int64_t l, h, off = (int64_t)(displs ? displs[i] : 0) * t->extent;
        span(t, counts[i], &l, &h);
        if (!any || off + l < *lo) *lo = off + l;
        if (!any || off + h > *hi) *hi = off + h;
        any = 1;
    }
    return any;
}

#define VBUF(var, idx, counts, displs, n, ts, place_ok) \
    void *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        if ((place_ok) && p_ == IN_PLACE_PTR) { var = MPI_IN_PLACE; break; } \
        var = GPTR(p_); \
        int64_t lo_ = 0, hi_ = 0; \
        int any_ = vspan((ts), (counts), (displs), (n), &lo_, &hi_); \
        if (any_ < 0) return fail(a, 2, errslot, FN); \
        if (any_) CHECK_RANGE((int64_t)p_ + lo_, (int64_t)p_ + hi_, "buffer"); \
    } while (0)

#define INTS(var, idx, n, what) \
    const int *var = NULL; \
    do { \
        CHECK_ARRAY(a[idx].i32, (n), 4, what); \
        var = (const int *)GPTR(a[idx].i32); \
    } while (0)

/* ---- MPI_Status: guest layout {SOURCE, TAG, ERROR, internal[5]} ---------------------------
 * The host status's other words (its element count and cancelled flag, in the host MPI's own
 * encoding: 2 words in MPICH, 3 in Open MPI) travel in the guest's internal words, so a status
 * round-trips exactly and completing a receive costs no extra MPI call. A host status too large
 * for that falls back to {count_lo, count_hi, cancelled} read through MPI calls. */

#define STATUS_SIZE 32

static int opaque_word[5], n_opaque = -1;

static void status_layout(void)
{
    if (sizeof(MPI_Status) % 4 != 0)
        return;
    int k = 0;
    for (size_t w = 0; w < sizeof(MPI_Status) / 4; w++) {
        size_t off = 4 * w;
        if (off == offsetof(MPI_Status, MPI_SOURCE) || off == offsetof(MPI_Status, MPI_TAG) ||
            off == offsetof(MPI_Status, MPI_ERROR))
            continue;
        if (k == 5)
            return;
        opaque_word[k++] = (int)w;
    }
    n_opaque = k;
}

static void status_out(uint32_t gp, const MPI_Status *hs, int with_error)
{
    int32_t *g = (int32_t *)GPTR(gp);
    if (n_opaque >= 0) {
        const int32_t *h = (const int32_t *)hs;
        g[0] = out_rank(hs->MPI_SOURCE);
        g[1] = out_tag(hs->MPI_TAG);
        if (with_error)
            g[2] = hs->MPI_ERROR == MPI_SUCCESS ? 0 : abi_error(hs->MPI_ERROR);
        for (int k = 0; k < 5; k++)
            g[3 + k] = k < n_opaque ? h[opaque_word[k]] : 0;
        return;
    }
    MPI_Count bytes = 0;
    int cancelled = 0;
    MPI_Get_elements_x(hs, MPI_BYTE, &bytes);
    MPI_Test_cancelled(hs, &cancelled);
    g[0] = out_rank(hs->MPI_SOURCE);
    g[1] = out_tag(hs->MPI_TAG);
    if (with_error)
        g[2] = hs->MPI_ERROR == MPI_SUCCESS ? 0 : abi_error(hs->MPI_ERROR);
    g[3] = (int32_t)(uint32_t)((uint64_t)bytes & 0xffffffffu);
    g[4] = (int32_t)(uint32_t)((uint64_t)bytes >> 32);
    g[5] = cancelled;
}

static void status_in(uint32_t gp, MPI_Status *hs)
{
    const int32_t *g = (const int32_t *)GPTR(gp);
    memset(hs, 0, sizeof *hs);
    hs->MPI_SOURCE = in_rank(g[0]);
    hs->MPI_TAG = in_tag(g[1]);
    hs->MPI_ERROR = MPI_SUCCESS;
    if (n_opaque >= 0) {
        int32_t *h = (int32_t *)hs;
        for (int k = 0; k < n_opaque; k++)
            h[opaque_word[k]] = g[3 + k];
        return;
    }
    MPI_Status_set_elements_x(hs, MPI_BYTE,
                              (MPI_Count)(((uint64_t)(uint32_t)g[4] << 32) | (uint32_t)g[3]));
    MPI_Status_set_cancelled(hs, g[5]);
}

/* A status out-argument: `st` is the host status to pass, NULL for MPI_STATUS_IGNORE. */
#define STATUS_ARG(var, idx) \
    MPI_Status var##_h, *var = NULL; \
    uint32_t var##_p = (uint32_t)a[idx].i32; \
    if (var##_p) { CHECK_OUT(var##_p, STATUS_SIZE); var = &var##_h; }
#define STATUS_DONE(var, rc) \
    if (var && (rc) == MPI_SUCCESS) status_out(var##_p, var, 0)

/* Scratch arrays for the multi-request calls; grow-only, the guest is single-threaded. */
static MPI_Request *scratch_req;
static MPI_Status *scratch_st;
static int *scratch_idx;
static int scratch_cap;

static int scratch(int n)
{
    if (n <= scratch_cap)
        return 1;
    int cap = n < 64 ? 64 : n;
    MPI_Request *r = realloc(scratch_req, (size_t)cap * sizeof *r);
    if (r) scratch_req = r;
    MPI_Status *s = realloc(scratch_st, (size_t)cap * sizeof *s);
    if (s) scratch_st = s;
    int *x = realloc(scratch_idx, (size_t)cap * sizeof *x);
    if (x) scratch_idx = x;
    if (!r || !s || !x)
        return 0;
    scratch_cap = cap;
    return 1;
}

/* ---- environment ---------------------------------------------------------------------- */

static int g_guest_state; /* 0 before MPI_Init, 1 initialized, 2 finalized */
static int g_guest_thread = 0;

CALLBACK(MPI_Init)
{
#define FN "MPI_Init"
    ERRSLOT;
    if (g_guest_state != 0)
        return fail(a, ABI_ERR_OTHER, errslot, FN);
    g_guest_state = 1;
    a[0].i32 = 0;
    return NULL;
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
    g_guest_thread = req < 0 ? 0 : req > 4096 ? 4096 : req;
    *(int32_t *)GPTR(prov) = g_guest_thread;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

/* Store one int in the guest's out-argument a[0] (the MPI_Initialized-style queries). */
static wasm_trap_t *put_int(wasmtime_val_raw_t *a, int32_t value, const char *fn)
{
#define FN fn
    CHECK_OUT(a[0].i32, 4);
    *(int32_t *)GPTR(a[0].i32) = value;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

CALLBACK(MPI_Initialized) { return put_int(a, g_guest_state >= 1, "MPI_Initialized"); }
CALLBACK(MPI_Finalized) { return put_int(a, g_guest_state == 2, "MPI_Finalized"); }
CALLBACK(MPI_Query_thread) { return put_int(a, g_guest_thread, "MPI_Query_thread"); }
CALLBACK(MPI_Is_thread_main) { return put_int(a, 1, "MPI_Is_thread_main"); }

CALLBACK(MPI_Finalize)
{
#define FN "MPI_Finalize"
    ERRSLOT;
    if (g_guest_state != 1)
        return fail(a, ABI_ERR_OTHER, errslot, FN);
    g_guest_state = 2;
    return done(a, MPI_Finalize(), errslot, FN);
#undef FN
}

CALLBACK(MPI_Abort)
{
#define FN "MPI_Abort"
    ERRSLOT;
    GET_COMM(comm, 0);
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
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    CHECK_OUT(a[1].i32, 4);
    /* the guest sees the MPI-3.1 API of its mpi.h, whatever the host library implements */
    *(int32_t *)GPTR(a[0].i32) = 3;
    *(int32_t *)GPTR(a[1].i32) = 1;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

/* Copy a host string into a guest char buffer of `cap` bytes and store its length. */
static void put_string(uint32_t dst, uint32_t lenp, const char *src, int cap)
{
    int len = (int)strlen(src);
    if (len > cap - 1)
        len = cap - 1;
    memcpy(GPTR(dst), src, (size_t)len);
    ((char *)GPTR(dst))[len] = 0;
    *(int32_t *)GPTR(lenp) = len;
}

CALLBACK(MPI_Get_processor_name)
{
#define FN "MPI_Get_processor_name"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 256);
    CHECK_OUT(a[1].i32, 4);
    char name[MPI_MAX_PROCESSOR_NAME + 1];
    int len = 0;
    int rc = MPI_Get_processor_name(name, &len);
    if (rc == MPI_SUCCESS)
        put_string((uint32_t)a[0].i32, (uint32_t)a[1].i32, name, 256);
    return done(a, rc, world_slot(), FN);
#undef FN
}

CALLBACK(MPI_Get_library_version)
{
#define FN "MPI_Get_library_version"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 8192);
    CHECK_OUT(a[1].i32, 4);
    static char text[MPI_MAX_LIBRARY_VERSION_STRING + 1];
    int len = 0;
    int rc = MPI_Get_library_version(text, &len);
    if (rc == MPI_SUCCESS)
        put_string((uint32_t)a[0].i32, (uint32_t)a[1].i32, text, 8192);
    return done(a, rc, world_slot(), FN);
#undef FN
}

CALLBACK(MPI_Error_class)
{
#define FN "MPI_Error_class"
    ERRSLOT;
    CHECK_OUT(a[1].i32, 4);
    int code = a[0].i32;
    /* the guest only ever sees error classes: codes are classes */
    if (code < 0 || code > 0x3fff)
        return fail(a, 13, errslot, FN);
    *(int32_t *)GPTR(a[1].i32) = code;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

CALLBACK(MPI_Error_string)
{
#define FN "MPI_Error_string"
    ERRSLOT;
    CHECK_OUT(a[1].i32, 512);
    CHECK_OUT(a[2].i32, 4);
    int host = abi_to_class(a[0].i32);
    if (host < 0)
        return fail(a, 13, errslot, FN);
    char text[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    int rc = MPI_Error_string(host, text, &len);
    if (rc == MPI_SUCCESS)
        put_string((uint32_t)a[1].i32, (uint32_t)a[2].i32, text, 512);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- communicators and groups ------------------------------------------------------------ */

CALLBACK(MPI_Comm_free)
{
#define FN "MPI_Comm_free"
    ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32;
    CHECK_OUT(p, 4);
    slot_t *s = lookup(K_COMM, *(int32_t *)GPTR(p));
    if (!s || s->predefined)
        return fail(a, 5, errslot, FN);
    int rc = MPI_Comm_free(&s->h.comm);
    if (rc == MPI_SUCCESS) {
        slot_free(K_COMM, s);
        *(int32_t *)GPTR(p) = ABI_COMM_NULL;
    }
    return done(a, rc, errslot, FN);
#undef FN
}

static wasm_trap_t *free_handle(wasmtime_val_raw_t *a, int kind, int cls, const char *fn)
{
#define FN fn
    ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32;
    CHECK_OUT(p, 4);
    slot_t *s = lookup(kind, *(int32_t *)GPTR(p));
    if (s && s->predefined && kind == K_ERRHANDLER) {
        /* predefined error handlers are never freed on the host; the guest's copy is nulled */
        *(int32_t *)GPTR(p) = guest_null[kind];
        a[0].i32 = 0;
        return NULL;
    }
    if (!s || s->predefined)
        return fail(a, cls, errslot, FN);
    int rc = MPI_SUCCESS;
    switch (kind) {
    case K_GROUP: rc = MPI_Group_free(&s->h.group); break;
    case K_DATATYPE: rc = MPI_Type_free(&s->h.datatype); break;
    case K_INFO: rc = MPI_Info_free(&s->h.info); break;
    case K_ERRHANDLER: rc = MPI_Errhandler_free(&s->h.errhandler); break;
    case K_REQUEST: rc = MPI_Request_free(&s->h.request); break;
    }
    if (rc == MPI_SUCCESS) {
        slot_free(kind, s);
        *(int32_t *)GPTR(p) = guest_null[kind];
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Group_free) { return free_handle(a, K_GROUP, 9, "MPI_Group_free"); }
CALLBACK(MPI_Type_free) { return free_handle(a, K_DATATYPE, 3, "MPI_Type_free"); }
CALLBACK(MPI_Info_free) { return free_handle(a, K_INFO, 34, "MPI_Info_free"); }
CALLBACK(MPI_Errhandler_free) { return free_handle(a, K_ERRHANDLER, 13, "MPI_Errhandler_free"); }
CALLBACK(MPI_Request_free) { return free_handle(a, K_REQUEST, 7, "MPI_Request_free"); }

CALLBACK(MPI_Comm_set_errhandler)
{
#define FN "MPI_Comm_set_errhandler"
    ERRSLOT;
    GET_COMM(comm, 0);
    slot_t *e = lookup(K_ERRHANDLER, a[1].i32);
    if (!e || e->guest == guest_null[K_ERRHANDLER])
        return fail(a, 13, errslot, FN);
    if (!e->predefined)  /* user error handlers call guest code: not in this bridge yet */
        return fail(a, 13, errslot, FN);
    (void)comm;
    COMM_SLOT(comm)->eh = e->guest;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

CALLBACK(MPI_Comm_get_errhandler)
{
#define FN "MPI_Comm_get_errhandler"
    ERRSLOT;
    GET_COMM(comm, 0);
    (void)comm;
    CHECK_OUT(a[1].i32, 4);
    *(int32_t *)GPTR(a[1].i32) = COMM_SLOT(comm)->eh;
    (void)errslot;
    a[0].i32 = 0;
    return NULL;
#undef FN
}

CALLBACK(MPI_Comm_get_name)
{
#define FN "MPI_Comm_get_name"
    ERRSLOT;
    GET_COMM(comm, 0);
    CHECK_OUT(a[1].i32, 128);
    CHECK_OUT(a[2].i32, 4);
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    int rc = MPI_Comm_get_name(comm, name, &len);
    if (rc == MPI_SUCCESS)
        put_string((uint32_t)a[1].i32, (uint32_t)a[2].i32, name, 128);
    return done(a, rc, errslot, FN);
#undef FN
}

static wasm_trap_t *group_ranks(wasmtime_val_raw_t *a, int excl, const char *fn)
{
#define FN fn
    ERRSLOT;
    int32_t gs;
    MPI_Group g, ng;
    GET(group, g, gs, 0, 9);
    int n = a[1].i32;
    if (n < 0)
        return fail(a, 13, errslot, FN);
    INTS(ranks, 2, n, "ranks array");
    CHECK_OUT(a[3].i32, 4);
    int rc = excl ? MPI_Group_excl(g, n, ranks, &ng) : MPI_Group_incl(g, n, ranks, &ng);
    if (rc == MPI_SUCCESS)
        *(int32_t *)GPTR(a[3].i32) = new_handle(K_GROUP, (host_h){.group = ng});
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Group_incl) { return group_ranks(a, 0, "MPI_Group_incl"); }
CALLBACK(MPI_Group_excl) { return group_ranks(a, 1, "MPI_Group_excl"); }

static wasm_trap_t *group_range(wasmtime_val_raw_t *a, int excl, const char *fn)
{
#define FN fn
    ERRSLOT;
    int32_t gs;
    MPI_Group g, ng;
    GET(group, g, gs, 0, 9);
    int n = a[1].i32;
    if (n < 0)
        return fail(a, 13, errslot, FN);
    INTS(ranges, 2, 3 * (int64_t)n, "ranges array");
    CHECK_OUT(a[3].i32, 4);
    int rc = excl ? MPI_Group_range_excl(g, n, (int(*)[3])ranges, &ng)
                  : MPI_Group_range_incl(g, n, (int(*)[3])ranges, &ng);
    if (rc == MPI_SUCCESS)
        *(int32_t *)GPTR(a[3].i32) = new_handle(K_GROUP, (host_h){.group = ng});
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Group_range_incl) { return group_range(a, 0, "MPI_Group_range_incl"); }
CALLBACK(MPI_Group_range_excl) { return group_range(a, 1, "MPI_Group_range_excl"); }

CALLBACK(MPI_Group_translate_ranks)
{
#define FN "MPI_Group_translate_ranks"
    ERRSLOT;
    int32_t s1, s2;
    MPI_Group g1, g2;
    GET(group, g1, s1, 0, 9);
    int n = a[1].i32;
    if (n < 0)
        return fail(a, 13, errslot, FN);
    INTS(r1, 2, n, "ranks1 array");
    GET(group, g2, s2, 3, 9);
    CHECK_ARRAY(a[4].i32, n, 4, "ranks2 array");
    int *r2 = (int *)GPTR(a[4].i32);
    if (!scratch(n))
        return fail(a, 39, errslot, FN);
    for (int i = 0; i < n; i++)
        scratch_idx[i] = in_rank(r1[i]);
    int rc = MPI_Group_translate_ranks(g1, n, scratch_idx, g2, r2);
    if (rc == MPI_SUCCESS)
        for (int i = 0; i < n; i++)
            r2[i] = out_rank(r2[i]);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- point to point ------------------------------------------------------------------- */

typedef int (*send_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm);
typedef int (*isend_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *);

static inline wasm_trap_t *send_common(wasmtime_val_raw_t *a, send_fn f, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    return done(a, f(buf, a[1].i32, dt, in_rank(a[3].i32), a[4].i32, comm), errslot, FN);
#undef FN
}
CALLBACK(MPI_Send) { return send_common(a, MPI_Send, "MPI_Send"); }
CALLBACK(MPI_Ssend) { return send_common(a, MPI_Ssend, "MPI_Ssend"); }
CALLBACK(MPI_Rsend) { return send_common(a, MPI_Rsend, "MPI_Rsend"); }

static inline wasm_trap_t *isend_common(wasmtime_val_raw_t *a, isend_fn f, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    uint32_t rp = (uint32_t)a[6].i32;
    CHECK_OUT(rp, 4);
    MPI_Request r;
    int rc = f(buf, a[1].i32, dt, in_rank(a[3].i32), a[4].i32, comm, &r);
    if (rc == MPI_SUCCESS)
        *(int32_t *)GPTR(rp) = new_request(r, cs_comm);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Isend) { return isend_common(a, MPI_Isend, "MPI_Isend"); }
CALLBACK(MPI_Issend) { return isend_common(a, MPI_Issend, "MPI_Issend"); }
CALLBACK(MPI_Irsend) { return isend_common(a, MPI_Irsend, "MPI_Irsend"); }

CALLBACK(MPI_Recv)
{
#define FN "MPI_Recv"
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    STATUS_ARG(st, 6);
    int rc = MPI_Recv(buf, a[1].i32, dt, in_rank(a[3].i32), in_tag(a[4].i32), comm,
                      st ? st : MPI_STATUS_IGNORE);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Irecv)
{
#define FN "MPI_Irecv"
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    uint32_t rp = (uint32_t)a[6].i32;
    CHECK_OUT(rp, 4);
    MPI_Request r;
    int rc = MPI_Irecv(buf, a[1].i32, dt, in_rank(a[3].i32), in_tag(a[4].i32), comm, &r);
    if (rc == MPI_SUCCESS)
        *(int32_t *)GPTR(rp) = new_request(r, cs_comm);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Sendrecv)
{
#define FN "MPI_Sendrecv"
    COMM_ARG(comm, 10);
    GET_TYPE(st_, 2);
    GET_TYPE(rt_, 7);
    BUF(sbuf, 0, a[1].i32, TYPE_SLOT(st_), 0);
    BUF(rbuf, 5, a[6].i32, TYPE_SLOT(rt_), 0);
    STATUS_ARG(st, 11);
    int rc = MPI_Sendrecv(sbuf, a[1].i32, st_, in_rank(a[3].i32), a[4].i32, rbuf, a[6].i32, rt_,
                          in_rank(a[8].i32), in_tag(a[9].i32), comm, st ? st : MPI_STATUS_IGNORE);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Sendrecv_replace)
{
#define FN "MPI_Sendrecv_replace"
    COMM_ARG(comm, 7);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    STATUS_ARG(st, 8);
    int rc = MPI_Sendrecv_replace(buf, a[1].i32, dt, in_rank(a[3].i32), a[4].i32,
                                  in_rank(a[5].i32), in_tag(a[6].i32), comm,
                                  st ? st : MPI_STATUS_IGNORE);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Probe)
{
#define FN "MPI_Probe"
    ERRSLOT;
    GET_COMM(comm, 2);
    STATUS_ARG(st, 3);
    int rc = MPI_Probe(in_rank(a[0].i32), in_tag(a[1].i32), comm, st ? st : MPI_STATUS_IGNORE);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Iprobe)
{
#define FN "MPI_Iprobe"
    ERRSLOT;
    GET_COMM(comm, 2);
    CHECK_OUT(a[3].i32, 4);
    int *flag = (int *)GPTR(a[3].i32);
    STATUS_ARG(st, 4);
    int rc = MPI_Iprobe(in_rank(a[0].i32), in_tag(a[1].i32), comm, flag,
                        st ? st : MPI_STATUS_IGNORE);
    if (*flag)
        STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

static wasm_trap_t *count_common(wasmtime_val_raw_t *a, int elements, const char *fn)
{
#define FN fn
    ERRSLOT;
    CHECK_OUT(a[0].i32, STATUS_SIZE);
    GET_TYPE(dt, 1);
    CHECK_OUT(a[2].i32, 4);
    MPI_Status hs;
    status_in((uint32_t)a[0].i32, &hs);
    int *out = (int *)GPTR(a[2].i32);
    int rc = elements ? MPI_Get_elements(&hs, dt, out) : MPI_Get_count(&hs, dt, out);
    if (rc == MPI_SUCCESS)
        *out = out_undef(*out);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Get_count) { return count_common(a, 0, "MPI_Get_count"); }
CALLBACK(MPI_Get_elements) { return count_common(a, 1, "MPI_Get_elements"); }

CALLBACK(MPI_Test_cancelled)
{
#define FN "MPI_Test_cancelled"
    ERRSLOT;
    CHECK_OUT(a[0].i32, STATUS_SIZE);
    CHECK_OUT(a[1].i32, 4);
    MPI_Status hs;
    status_in((uint32_t)a[0].i32, &hs);
    return done(a, MPI_Test_cancelled(&hs, (int *)GPTR(a[1].i32)), errslot, FN);
#undef FN
}

CALLBACK(MPI_Cancel)
{
#define FN "MPI_Cancel"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    slot_t *s = lookup(K_REQUEST, *(int32_t *)GPTR(a[0].i32));
    if (!s)
        return fail(a, 7, errslot, FN);
    return done(a, MPI_Cancel(&s->h.request), errslot, FN);
#undef FN
}

/* The communicator slot whose error handler reports on a request (MPI_COMM_WORLD's for
 * MPI_REQUEST_NULL, or when the communicator is gone). */
static int32_t request_errslot(const slot_t *r)
{
    int32_t c = r ? r->cslot : 0;
    if (c > 0 && c < T[K_COMM].n && T[K_COMM].s[c].live)
        return c;
    return world_slot();
}

/* After a completion call: free the slot of a finished request and null the guest handle. */
static inline void request_settle(int32_t *g, slot_t *s, MPI_Request h)
{
    if (s->predefined)
        return;
    if (h == MPI_REQUEST_NULL) {
        slot_free(K_REQUEST, s);
        *g = ABI_REQUEST_NULL;
    } else {
        s->h.request = h; /* persistent requests stay */
    }
}

CALLBACK(MPI_Wait)
{
#define FN "MPI_Wait"
    ERRSLOT;
    uint32_t rp = (uint32_t)a[0].i32;
    CHECK_OUT(rp, 4);
    STATUS_ARG(st, 1);
    int32_t *g = (int32_t *)GPTR(rp);
    slot_t *s = lookup(K_REQUEST, *g);
    if (!s)
        return fail(a, 7, errslot, FN);
    errslot = request_errslot(s);
    MPI_Request h = s->h.request;
    int rc = MPI_Wait(&h, st ? st : MPI_STATUS_IGNORE);
    request_settle(g, s, h);
    STATUS_DONE(st, rc);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Test)
{
#define FN "MPI_Test"
    ERRSLOT;
    uint32_t rp = (uint32_t)a[0].i32;
    CHECK_OUT(rp, 4);
    CHECK_OUT(a[1].i32, 4);
    int *flag = (int *)GPTR(a[1].i32);
    STATUS_ARG(st, 2);
    int32_t *g = (int32_t *)GPTR(rp);
    slot_t *s = lookup(K_REQUEST, *g);
    if (!s)
        return fail(a, 7, errslot, FN);
    errslot = request_errslot(s);
    MPI_Request h = s->h.request;
    int rc = MPI_Test(&h, flag, st ? st : MPI_STATUS_IGNORE);
    if (*flag) {
        request_settle(g, s, h);
        STATUS_DONE(st, rc);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* Translate a guest request array into scratch_req; returns 0 on a bad handle. */
static int requests_in(const int32_t *g, int n)
{
    for (int i = 0; i < n; i++) {
        slot_t *s = lookup(K_REQUEST, g[i]);
        if (!s)
            return 0;
        scratch_req[i] = s->h.request;
    }
    return 1;
}

static int32_t requests_errslot(const int32_t *g, int n)
{
    for (int i = 0; i < n; i++) {
        slot_t *s = lookup(K_REQUEST, g[i]);
        if (s && !s->predefined)
            return request_errslot(s);
    }
    return world_slot();
}

static void request_out(int32_t *g, int i)
{
    slot_t *s = lookup(K_REQUEST, g[i]);
    if (s)
        request_settle(&g[i], s, scratch_req[i]);
}

#define MULTI_ARGS(nidx, ridx) \
    int n = a[nidx].i32; \
    if (n < 0) return fail(a, 13, errslot, FN); \
    CHECK_ARRAY(a[ridx].i32, n, 4, "request array"); \
    int32_t *g = (int32_t *)GPTR(a[ridx].i32); \
    if (!scratch(n)) return fail(a, 39, errslot, FN); \
    if (!requests_in(g, n)) return fail(a, 7, errslot, FN); \
    errslot = requests_errslot(g, n)
#define STATUSES_ARG(idx, n) \
    uint32_t sp = (uint32_t)a[idx].i32; \
    if (sp) CHECK_ARRAY(sp, (n), STATUS_SIZE, "status array"); \
    MPI_Status *hst = sp ? scratch_st : MPI_STATUSES_IGNORE

CALLBACK(MPI_Waitall)
{
#define FN "MPI_Waitall"
    ERRSLOT;
    MULTI_ARGS(0, 1);
    STATUSES_ARG(2, n);
    int rc = MPI_Waitall(n, scratch_req, hst);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    for (int i = 0; i < n; i++) {
        request_out(g, i);
        if (sp && (rc == MPI_SUCCESS || in_status))
            status_out(sp + (uint32_t)i * STATUS_SIZE, &scratch_st[i], in_status);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Testall)
{
#define FN "MPI_Testall"
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    int *flag = (int *)GPTR(a[2].i32);
    STATUSES_ARG(3, n);
    int rc = MPI_Testall(n, scratch_req, flag, hst);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if (*flag || in_status)
        for (int i = 0; i < n; i++) {
            request_out(g, i);
            if (sp)
                status_out(sp + (uint32_t)i * STATUS_SIZE, &scratch_st[i], in_status);
        }
    return done(a, rc, errslot, FN);
#undef FN
}

static wasm_trap_t *any_common(wasmtime_val_raw_t *a, int test, const char *fn)
{
#define FN fn
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    int *idx = (int *)GPTR(a[2].i32);
    int *flag = NULL;
    int sidx = 3;
    if (test) {
        CHECK_OUT(a[3].i32, 4);
        flag = (int *)GPTR(a[3].i32);
        sidx = 4;
    }
    STATUS_ARG(st, sidx);
    int rc = test ? MPI_Testany(n, scratch_req, idx, flag, st ? st : MPI_STATUS_IGNORE)
                  : MPI_Waitany(n, scratch_req, idx, st ? st : MPI_STATUS_IGNORE);
    if (*idx != MPI_UNDEFINED && *idx >= 0 && *idx < n)
        request_out(g, *idx);
    if (!test || *flag)
        STATUS_DONE(st, rc);
    *idx = out_undef(*idx);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Waitany) { return any_common(a, 0, "MPI_Waitany"); }
CALLBACK(MPI_Testany) { return any_common(a, 1, "MPI_Testany"); }

static wasm_trap_t *some_common(wasmtime_val_raw_t *a, int test, const char *fn)
{
#define FN fn
    ERRSLOT;
    MULTI_ARGS(0, 1);
    CHECK_OUT(a[2].i32, 4);
    int *outcount = (int *)GPTR(a[2].i32);
    CHECK_ARRAY(a[3].i32, n, 4, "index array");
    int *indices = (int *)GPTR(a[3].i32);
    STATUSES_ARG(4, n);
    int rc = test ? MPI_Testsome(n, scratch_req, outcount, indices, hst)
                  : MPI_Waitsome(n, scratch_req, outcount, indices, hst);
    int in_status = rc != MPI_SUCCESS && abi_error(rc) == ABI_ERR_IN_STATUS;
    if (*outcount != MPI_UNDEFINED)
        for (int k = 0; k < *outcount; k++) {
            request_out(g, indices[k]);
            if (sp)
                status_out(sp + (uint32_t)k * STATUS_SIZE, &scratch_st[k], in_status);
        }
    *outcount = out_undef(*outcount);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Waitsome) { return some_common(a, 0, "MPI_Waitsome"); }
CALLBACK(MPI_Testsome) { return some_common(a, 1, "MPI_Testsome"); }

/* ---- collectives ---------------------------------------------------------------------- */

static inline int is_root(const slot_t *c, int root)
{
    return c->rsize ? root == MPI_ROOT : c->rank == root;
}
/* number of entries in per-process arrays (counts, displacements) of a collective */
static inline int peers(const slot_t *c) { return c->rsize ? c->rsize : c->size; }

CALLBACK(MPI_Bcast)
{
#define FN "MPI_Bcast"
    COMM_ARG(comm, 4);
    GET_TYPE(dt, 2);
    BUF(buf, 0, a[1].i32, TYPE_SLOT(dt), 0);
    return done(a, MPI_Bcast(buf, a[1].i32, dt, in_rank(a[3].i32), comm), errslot, FN);
#undef FN
}

CALLBACK(MPI_Reduce)
{
#define FN "MPI_Reduce"
    COMM_ARG(comm, 6);
    GET_TYPE(dt, 3);
    GET_OP(op, 4);
    int root = in_rank(a[5].i32);
    int count = a[2].i32;
    int at_root = is_root(COMM_SLOT(comm), root);
    BUF(sbuf, 0, count, TYPE_SLOT(dt), at_root);
    BUF(rbuf, 1, at_root ? count : 0, TYPE_SLOT(dt), 0);
    return done(a, MPI_Reduce(sbuf, rbuf, count, dt, op, root, comm), errslot, FN);
#undef FN
}

CALLBACK(MPI_Allreduce)
{
#define FN "MPI_Allreduce"
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 3);
    GET_OP(op, 4);
    BUF(sbuf, 0, a[2].i32, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, a[2].i32, TYPE_SLOT(dt), 0);
    return done(a, MPI_Allreduce(sbuf, rbuf, a[2].i32, dt, op, comm), errslot, FN);
#undef FN
}

typedef int (*scan_fn)(const void *, void *, int, MPI_Datatype, MPI_Op, MPI_Comm);
static wasm_trap_t *scan_common(wasmtime_val_raw_t *a, scan_fn f, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 3);
    GET_OP(op, 4);
    BUF(sbuf, 0, a[2].i32, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, a[2].i32, TYPE_SLOT(dt), 0);
    return done(a, f(sbuf, rbuf, a[2].i32, dt, op, comm), errslot, FN);
#undef FN
}
CALLBACK(MPI_Scan) { return scan_common(a, MPI_Scan, "MPI_Scan"); }
CALLBACK(MPI_Exscan) { return scan_common(a, MPI_Exscan, "MPI_Exscan"); }

CALLBACK(MPI_Gather)
{
#define FN "MPI_Gather"
    COMM_ARG(comm, 7);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 5);
    slot_t *c = COMM_SLOT(comm);
    int root = in_rank(a[6].i32);
    int at_root = is_root(c, root);
    BUF(sbuf, 0, c->rsize && at_root ? 0 : a[1].i32, TYPE_SLOT(stype), at_root);
    BUF(rbuf, 3, at_root ? (int64_t)a[4].i32 * peers(c) : 0, TYPE_SLOT(rtype), 0);
    return done(a, MPI_Gather(sbuf, a[1].i32, stype, rbuf, a[4].i32, rtype, root, comm), errslot,
                FN);
#undef FN
}

CALLBACK(MPI_Scatter)
{
#define FN "MPI_Scatter"
    COMM_ARG(comm, 7);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 5);
    slot_t *c = COMM_SLOT(comm);
    int root = in_rank(a[6].i32);
    int at_root = is_root(c, root);
    BUF(sbuf, 0, at_root ? (int64_t)a[1].i32 * peers(c) : 0, TYPE_SLOT(stype), 0);
    BUF(rbuf, 3, c->rsize && at_root ? 0 : a[4].i32, TYPE_SLOT(rtype), at_root);
    return done(a, MPI_Scatter(sbuf, a[1].i32, stype, rbuf, a[4].i32, rtype, root, comm), errslot,
                FN);
#undef FN
}

CALLBACK(MPI_Allgather)
{
#define FN "MPI_Allgather"
    COMM_ARG(comm, 6);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 5);
    slot_t *c = COMM_SLOT(comm);
    BUF(sbuf, 0, a[1].i32, TYPE_SLOT(stype), 1);
    BUF(rbuf, 3, (int64_t)a[4].i32 * peers(c), TYPE_SLOT(rtype), 0);
    return done(a, MPI_Allgather(sbuf, a[1].i32, stype, rbuf, a[4].i32, rtype, comm), errslot,
                FN);
#undef FN
}

CALLBACK(MPI_Alltoall)
{
#define FN "MPI_Alltoall"
    COMM_ARG(comm, 6);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 5);
    slot_t *c = COMM_SLOT(comm);
    BUF(sbuf, 0, (int64_t)a[1].i32 * peers(c), TYPE_SLOT(stype), 1);
    BUF(rbuf, 3, (int64_t)a[4].i32 * peers(c), TYPE_SLOT(rtype), 0);
    return done(a, MPI_Alltoall(sbuf, a[1].i32, stype, rbuf, a[4].i32, rtype, comm), errslot,
                FN);
#undef FN
}

CALLBACK(MPI_Gatherv)
{
#define FN "MPI_Gatherv"
    COMM_ARG(comm, 8);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 6);
    slot_t *c = COMM_SLOT(comm);
    int root = in_rank(a[7].i32);
    int at_root = is_root(c, root);
    int np = at_root ? peers(c) : 0;
    INTS(counts, 4, np, "recvcounts array");
    INTS(displs, 5, np, "displs array");
    BUF(sbuf, 0, c->rsize && at_root ? 0 : a[1].i32, TYPE_SLOT(stype), at_root);
    VBUF(rbuf, 3, counts, displs, np, TYPE_SLOT(rtype), 0);
    return done(a, MPI_Gatherv(sbuf, a[1].i32, stype, rbuf, counts, displs, rtype, root, comm),
                errslot, FN);
#undef FN
}

CALLBACK(MPI_Scatterv)
{
#define FN "MPI_Scatterv"
    COMM_ARG(comm, 8);
    GET_TYPE(stype, 3);
    GET_TYPE(rtype, 6);
    slot_t *c = COMM_SLOT(comm);
    int root = in_rank(a[7].i32);
    int at_root = is_root(c, root);
    int np = at_root ? peers(c) : 0;
    INTS(counts, 1, np, "sendcounts array");
    INTS(displs, 2, np, "displs array");
    VBUF(sbuf, 0, counts, displs, np, TYPE_SLOT(stype), 0);
    BUF(rbuf, 4, c->rsize && at_root ? 0 : a[5].i32, TYPE_SLOT(rtype), at_root);
    return done(a, MPI_Scatterv(sbuf, counts, displs, stype, rbuf, a[5].i32, rtype, root, comm),
                errslot, FN);
#undef FN
}

CALLBACK(MPI_Allgatherv)
{
#define FN "MPI_Allgatherv"
    COMM_ARG(comm, 7);
    GET_TYPE(stype, 2);
    GET_TYPE(rtype, 6);
    int np = peers(COMM_SLOT(comm));
    INTS(counts, 4, np, "recvcounts array");
    INTS(displs, 5, np, "displs array");
    BUF(sbuf, 0, a[1].i32, TYPE_SLOT(stype), 1);
    VBUF(rbuf, 3, counts, displs, np, TYPE_SLOT(rtype), 0);
    return done(a, MPI_Allgatherv(sbuf, a[1].i32, stype, rbuf, counts, displs, rtype, comm),
                errslot, FN);
#undef FN
}

CALLBACK(MPI_Alltoallv)
{
#define FN "MPI_Alltoallv"
    COMM_ARG(comm, 8);
    GET_TYPE(stype, 3);
    GET_TYPE(rtype, 7);
    int np = peers(COMM_SLOT(comm));
    INTS(scounts, 1, np, "sendcounts array");
    INTS(sdispls, 2, np, "sdispls array");
    INTS(rcounts, 5, np, "recvcounts array");
    INTS(rdispls, 6, np, "rdispls array");
    VBUF(sbuf, 0, scounts, sdispls, np, TYPE_SLOT(stype), 1);
    VBUF(rbuf, 4, rcounts, rdispls, np, TYPE_SLOT(rtype), 0);
    return done(a, MPI_Alltoallv(sbuf, scounts, sdispls, stype, rbuf, rcounts, rdispls, rtype,
                                 comm), errslot, FN);
#undef FN
}

CALLBACK(MPI_Reduce_scatter)
{
#define FN "MPI_Reduce_scatter"
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 3);
    GET_OP(op, 4);
    slot_t *c = COMM_SLOT(comm);
    int np = c->size;
    INTS(counts, 2, np, "recvcounts array");
    int64_t total = 0;
    for (int i = 0; i < np; i++) {
        if (counts[i] < 0)
            return fail(a, 2, errslot, FN);
        total += counts[i];
    }
    int in_place = (uint32_t)a[0].i32 == IN_PLACE_PTR;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : counts[c->rank], TYPE_SLOT(dt), 0);
    return done(a, MPI_Reduce_scatter(sbuf, rbuf, counts, dt, op, comm), errslot, FN);
#undef FN
}

CALLBACK(MPI_Reduce_scatter_block)
{
#define FN "MPI_Reduce_scatter_block"
    COMM_ARG(comm, 5);
    GET_TYPE(dt, 3);
    GET_OP(op, 4);
    slot_t *c = COMM_SLOT(comm);
    int64_t total = (int64_t)a[2].i32 * c->size;
    int in_place = (uint32_t)a[0].i32 == IN_PLACE_PTR;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : a[2].i32, TYPE_SLOT(dt), 0);
    return done(a, MPI_Reduce_scatter_block(sbuf, rbuf, a[2].i32, dt, op, comm), errslot, FN);
#undef FN
}

/* ---- datatypes ----------------------------------------------------------------------------- */

CALLBACK(MPI_Type_indexed)
{
#define FN "MPI_Type_indexed"
    ERRSLOT;
    int n = a[0].i32;
    if (n < 0)
        return fail(a, 2, errslot, FN);
    INTS(blens, 1, n, "blocklengths array");
    INTS(displs, 2, n, "displacements array");
    GET_TYPE(old, 3);
    CHECK_OUT(a[4].i32, 4);
    MPI_Datatype nt;
    int rc = MPI_Type_indexed(n, blens, displs, old, &nt);
    if (rc == MPI_SUCCESS)
        *(int32_t *)GPTR(a[4].i32) = new_handle(K_DATATYPE, (host_h){.datatype = nt});
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Type_commit)
{
#define FN "MPI_Type_commit"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    slot_t *s = lookup(K_DATATYPE, *(int32_t *)GPTR(a[0].i32));
    if (!s || s->guest == guest_null[K_DATATYPE])
        return fail(a, 3, errslot, FN);
    if (s->predefined) {
        a[0].i32 = 0;
        return NULL;
    }
    int rc = MPI_Type_commit(&s->h.datatype);
    if (rc == MPI_SUCCESS)
        datatype_layout(s);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Type_get_name)
{
#define FN "MPI_Type_get_name"
    ERRSLOT;
    GET_TYPE(dt, 0);
    CHECK_OUT(a[1].i32, 128);
    CHECK_OUT(a[2].i32, 4);
    slot_t *s = TYPE_SLOT(dt);
    if (s->predefined) {
        put_string((uint32_t)a[1].i32, (uint32_t)a[2].i32, s->name, 128);
        a[0].i32 = 0;
        return NULL;
    }
    char name[MPI_MAX_OBJECT_NAME + 1];
    int len = 0;
    int rc = MPI_Type_get_name(dt, name, &len);
    if (rc == MPI_SUCCESS)
        put_string((uint32_t)a[1].i32, (uint32_t)a[2].i32, name, 128);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- host services for the guest support library --------------------------------------- */

static wasm_trap_t *cb_host_gethostname(void *env_, wasmtime_caller_t *caller_,
                                        wasmtime_val_raw_t *a, size_t n_)
{
#define FN "gethostname"
    ERRSLOT;
    uint32_t p = (uint32_t)a[0].i32, len = (uint32_t)a[1].i32;
    CHECK_OUT(p, len);
    char name[256];
    if (gethostname(name, sizeof name) != 0)
        strcpy(name, "localhost");
    name[sizeof name - 1] = 0;
    size_t l = strlen(name);
    if (l + 1 > len) {
        a[0].i32 = -1;
        return NULL;
    }
    memcpy(GPTR(p), name, l + 1);
    a[0].i32 = 0;
    return NULL;
#undef FN
}

#include "bridge_gen.h"

/* ---- interface to the loader (see bridge/loader.py and bridge/_bridge.pyi) -------------- */

int wasmpi_bridge_count(void) { return (int)(sizeof ENTRIES / sizeof ENTRIES[0]); }

const bridge_entry *wasmpi_bridge_entry(int i) { return &ENTRIES[i]; }

void *wasmpi_bridge_host_gethostname(void) { return (void *)cb_host_gethostname; }

/* Initialize the host MPI (once per rank, before the guest runs) and the handle tables. */
int wasmpi_bridge_init(trap_new_fn trap_new, memory_size_fn memory_size)
{
    g_trap_new = trap_new;
    g_memory_size = memory_size;
    int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided);
    if (rc != MPI_SUCCESS)
        return rc;
    /* The bridge applies the guest's error handlers; the host always returns. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    for (int k = 0; k < K_LAST; k++)
        T[k].free_head = -1;
    init_predefined();
    status_layout();
    return MPI_SUCCESS;
}

void wasmpi_bridge_set_memory(uint8_t *base, uint64_t size, const void *context,
                              const void *memory)
{
    g_base = base;
    g_size = size;
    g_ctx = context;
    g_mem = memory;
}

int wasmpi_bridge_rank(void) { return g_rank; }

/* End of the rank: finalize for a guest that exited 0 without MPI_Finalize; abort the job for
 * a guest that failed, so the other ranks never hang. */
void wasmpi_bridge_exit(int status)
{
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin)
        return;
    if (status != 0)
        abort_job(MPI_COMM_WORLD, status);
    else
        MPI_Finalize();
}
