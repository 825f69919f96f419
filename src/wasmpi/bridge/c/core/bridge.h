/* wasmpi MPI bridge: shared definitions of the core, the chapter files and generated code.
 *
 * Every MPI import of a wasm32 guest is a native wasmtime callback ("unchecked" signature:
 * arguments arrive as wasmtime_val_raw_t slots, the result overwrites slot 0). Guest pointers
 * are offsets into the one linear memory, whose base never moves (memory_may_move = false), so
 * buffers go to MPI zero-copy after a bounds check against the current memory size.
 *
 * Guest handles are 32-bit: the MPI 5.0 ABI values for predefined handles, (kind << 24 | slot)
 * for everything created at run time. A bad handle is an MPI error class, a pointer outside
 * linear memory is a trap naming the function and the range. ABI values come from the
 * generated gen/abi.h (ABI_ prefix), host values from the host's <mpi.h> (MPI_ prefix).
 */
#ifndef WASMPI_BRIDGE_H
#define WASMPI_BRIDGE_H

#include <mpi.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "abi.h" /* generated: ABI_ constants, handle kinds */
#include "host4.h" /* generated: the MPI-4 host functions, resolved at run time */

/* ---- the wasmtime C API, as far as the bridge uses it ------------------------------------
 * The loader hands the function pointers over at start-up (wasmpi_host_api), so the bridge
 * does not link against libwasmtime. Layouts follow wasmtime's C headers (v50). */
typedef struct wasm_trap_t wasm_trap_t;
typedef struct wasmtime_caller wasmtime_caller_t;
typedef struct wasmtime_context wasmtime_context_t;
typedef struct wasmtime_error wasmtime_error_t;
typedef union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    uint32_t anyref, externref, exnref;
    void *funcref;
} wasmtime_val_raw_t;
typedef struct {
    uint64_t store_id;
    void *private_;
} wasmtime_func_t;
typedef struct {
    struct {
        uint64_t store_id;
        uint32_t private1;
    } anon;
    uint32_t private2;
} wasmtime_table_t;
typedef struct {
    uint8_t kind;
    union {
        int32_t i32;
        int64_t i64;
        double f64;
        wasmtime_func_t funcref;
        uint8_t any[24];
    } of;
} wasmtime_val_t;
#define WASMTIME_I32 0
#define WASMTIME_FUNCREF 5
typedef struct {
    size_t size;
    char *data;
} wasm_byte_vec_t;
typedef struct wasm_functype_t wasm_functype_t;
typedef struct wasm_valtype_t wasm_valtype_t;
typedef struct {
    size_t size;
    wasm_valtype_t **data;
} wasm_valtype_vec_t;
#define WASM_I32 0

typedef struct {
    wasm_trap_t *(*trap_new)(const char *msg, size_t len);
    size_t (*memory_data_size)(const wasmtime_context_t *ctx, const void *memory);
    wasmtime_context_t *(*caller_context)(wasmtime_caller_t *caller);
    _Bool (*table_get)(wasmtime_context_t *ctx, const wasmtime_table_t *table, uint64_t index,
                     wasmtime_val_t *val);
    wasmtime_error_t *(*func_call)(wasmtime_context_t *ctx, const wasmtime_func_t *func,
                                   const wasmtime_val_t *args, size_t nargs,
                                   wasmtime_val_t *results, size_t nresults, wasm_trap_t **trap);
    void (*trap_message)(const wasm_trap_t *trap, wasm_byte_vec_t *out);
    void (*trap_delete)(wasm_trap_t *trap);
    void (*error_message)(const wasmtime_error_t *err, wasm_byte_vec_t *out);
    void (*error_delete)(wasmtime_error_t *err);
    void (*byte_vec_delete)(wasm_byte_vec_t *vec);
    _Bool (*error_exit_status)(const wasmtime_error_t *err, int *status);
    /* upcalls check a guest function's type once, then call it unchecked (upcall.c) */
    wasmtime_error_t *(*func_call_unchecked)(wasmtime_context_t *ctx, const wasmtime_func_t *func,
                                             wasmtime_val_raw_t *args_and_results, size_t len,
                                             wasm_trap_t **trap);
    wasm_functype_t *(*func_type)(const wasmtime_context_t *ctx, const wasmtime_func_t *func);
    const wasm_valtype_vec_t *(*functype_params)(const wasm_functype_t *type);
    const wasm_valtype_vec_t *(*functype_results)(const wasm_functype_t *type);
    uint8_t (*valtype_kind)(const wasm_valtype_t *type);
    void (*functype_delete)(wasm_functype_t *type);
} wasmpi_host_api;

extern wasmpi_host_api W;

typedef wasm_trap_t *(*callback_fn)(void *env, wasmtime_caller_t *caller,
                                    wasmtime_val_raw_t *a, size_t n);
typedef struct {
    const char *name, *params, *results;
    callback_fn cb;
} bridge_entry;

/* The caller of the running callback (NULL outside any): an upcall into the guest re-enters
 * the store through it. Each callback sets it on entry and clears it on return; an upcall
 * clears it while guest code runs and restores it after. */
extern wasmtime_caller_t *g_caller;

/* The MPI function being served (NULL outside any) and its argument slots: a watchdog thread
 * reads them when the time limit fires, to say where the rank waits (core/current.c). Each
 * callback sets them on entry and clears g_call on return; upcall() restores the outer ones.
 * volatile: the stores must happen, in this order, even around a body that calls nothing. */
extern const char *volatile g_call;
extern wasmtime_val_raw_t *volatile g_call_args;

/* Set by SIGTERM / SIGINT; the next MPI call flushes the guest's stdout and exits (stop.c). */
extern volatile sig_atomic_t g_stop_signal;
void stop_now(void);
/* Flush the guest's stdio from inside a callback (before MPI_Finalize). */
void flush_guest(void);
/* Wait up to `ms` for the launcher to read this rank's stdout/stderr (before a failing exit). */
void drain_output(int ms);
void stop_install(void);

/* CALLBACK(MPI_X) { body using `a` } defines cb_MPI_X with wasmtime's signature. g_caller is
 * cleared on the way out: while wasm runs it is NULL, which tells the stop handler that it
 * must not enter the store. */
#define CALLBACK(name) \
    static inline wasm_trap_t *body_##name(wasmtime_val_raw_t *a); \
    wasm_trap_t *cb_##name(void *env_, wasmtime_caller_t *caller_, wasmtime_val_raw_t *a, \
                           size_t n_) \
    { \
        (void)env_; (void)n_; \
        g_caller = caller_; \
        g_call_args = a; \
        g_call = #name; \
        if (__builtin_expect(g_stop_signal != 0, 0)) \
            stop_now(); \
        wasm_trap_t *t_ = body_##name(a); \
        g_call = NULL; \
        g_caller = NULL; \
        return t_; \
    } \
    static inline wasm_trap_t *body_##name(wasmtime_val_raw_t *a)

/* ---- guest memory ---------------------------------------------------------------------- */

extern uint8_t *g_base;
extern uint64_t g_size;
extern int g_rank;

#define GPTR(p) ((void *)(g_base + (uint32_t)(p)))
/* guest offset of a host pointer that lies in linear memory */
#define GOFF(hp) ((uint32_t)((uint8_t *)(hp) - g_base))

uint64_t memory_size_now(void);
/* Memory only grows: re-read its size only when a range fails the cached bound. */
static inline int fits(uint64_t hi)
{
    if (hi <= g_size)
        return 1;
    g_size = memory_size_now();
    return hi <= g_size;
}
static inline int in_guest(const void *p, size_t len)
{
    const uint8_t *q = (const uint8_t *)p;
    return q >= g_base && (uint64_t)(q - g_base) + len <= g_size;
}

static inline int32_t load_i32(uint32_t p) { int32_t v; memcpy(&v, GPTR(p), 4); return v; }
static inline void store_i32(uint32_t p, int32_t v) { memcpy(GPTR(p), &v, 4); }
static inline int64_t load_i64(uint32_t p) { int64_t v; memcpy(&v, GPTR(p), 8); return v; }
static inline void store_i64(uint32_t p, int64_t v) { memcpy(GPTR(p), &v, 8); }

wasm_trap_t *trap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
wasm_trap_t *range_trap(const char *fn, const char *what, int64_t lo, int64_t hi);

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
        fits((uint64_t)p_ + 1); \
        if (p_ >= g_size || !memchr(g_base + p_, 0, g_size - p_)) \
            return trap("%s: string at %u is not terminated inside linear memory (%llu bytes)", \
                        FN, p_, (unsigned long long)g_size); \
        var = (const char *)(g_base + p_); \
    } while (0)

/* ---- handle tables ------------------------------------------------------------------------
 * Kinds (K_COMM, ...), the host_h union and the error class of each kind are generated. */

typedef struct {
    host_h h;
    int32_t guest;      /* the guest's value for this handle */
    int32_t next_free;  /* free-list link while the slot is unused */
    uint8_t live, predefined;
    /* datatype: made by a constructor and not yet committed (MPI_ERR_TYPE as data: Open MPI 5
     * loops or segfaults in its convertor on one) */
    uint8_t uncommitted;
    /* request: of a nonblocking (1) or persistent (2) collective, which MPI_Cancel must not be
     * given (MPICH asserts, Open MPI 5 waits forever), nor MPI_Request_free unless it is an
     * inactive persistent one (Open MPI 5 corrupted its libnbc request list) */
    uint8_t collective;
    /* request: the request-array call that last saw it (a request twice in one array) */
    uint32_t mark;
    const char *name;   /* predefined only */
    /* datatype: layout for bounds checks */
    int64_t lb, extent, true_lb, true_extent;
    /* comm: error handler (guest value), local size, remote size (intercomm) or 0, rank */
    int32_t eh, size, rsize, rank;
    /* request: slot of its communicator (error handler), and what to do on completion */
    int32_t cslot;
    void (*on_complete)(void *state, int ok);
    void *state;
    /* op and errhandler: the guest function (table index); op: user op trampoline slot */
    uint32_t fn;
    int32_t tramp;
} slot_t;

typedef struct {
    slot_t *s;
    int32_t n, cap, free_head, n_predefined;
    /* live slots, predefined included: kept as a count because a sampling thread reads it
     * (wasmpi_bridge_live_handles) and must not walk a slab the guest's thread may realloc */
    int32_t n_live;
} table_t;

extern table_t T[K_LAST];
extern int32_t pre_map[0x400]; /* predefined guest value -> (kind << 24 | slot) */
extern int32_t guest_null[K_LAST];
extern host_h host_null[K_LAST];
extern int32_t g_world_slot;
/* MPI_GROUP_EMPTY as group constructors returned it: a reference the guest may free (Open MPI
 * counts them; mpi/group.c) */
extern int32_t g_empty_group_refs;

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
static inline int32_t slot_index(int kind, const slot_t *s) { return (int32_t)(s - T[kind].s); }

slot_t *slot_alloc(int kind, int32_t *idx_out);
void slot_free(int kind, slot_t *s);
int32_t new_handle(int kind, host_h h);
int32_t new_comm(MPI_Comm c, int32_t parent_slot);
int32_t new_request(MPI_Request r, int32_t comm_slot);
/* marks it (slot_t.collective: 1 nonblocking, 2 persistent); returns it */
int32_t collective_request(int32_t guest, int persistent);
/* a datatype a constructor made (uncommitted = 1) or Type_dup (the original's state) */
int32_t new_type(MPI_Datatype t, int uncommitted);
/* the guest handle of an existing host handle (predefined first), or the null handle */
int32_t guest_of(int kind, host_h h);
void datatype_layout(slot_t *s);
void predefine(int kind, int32_t guest, const char *name, host_h h);
void predefine_bytes(int32_t guest, const char *name, int size, int extent);
void init_predefined(void);
void init_handles(void);

#define world_slot() g_world_slot
#define COMM_SLOT(var) (&T[K_COMM].s[cs_##var])
#define TYPE_SLOT(var) (&T[K_DATATYPE].s[ts_##var])

/* ---- constants that differ between the standard ABI and the host MPI ------------------- */

static inline int in_rank(int r)
{
    if (r >= 0) return r;
    switch (r) {
    case ABI_ANY_SOURCE: return MPI_ANY_SOURCE;
    case ABI_PROC_NULL: return MPI_PROC_NULL;
    case ABI_ROOT: return MPI_ROOT;
    }
    /* any other negative rank is invalid, and must not be passed as it is: -2 is Open MPI's
     * MPI_PROC_NULL and MPICH's MPI_ANY_SOURCE (a receive from anyone instead of an error) */
    return -0x7fff0000;
}
static inline int out_rank(int r)
{
    if (r >= 0) return r;
    if (r == MPI_ANY_SOURCE) return ABI_ANY_SOURCE;
    if (r == MPI_PROC_NULL) return ABI_PROC_NULL;
    if (r == MPI_ROOT) return ABI_ROOT;
    if (r == MPI_UNDEFINED) return ABI_UNDEFINED;
    return r;
}
static inline int in_tag(int t) { return t == ABI_ANY_TAG ? MPI_ANY_TAG : t; }
static inline int out_tag(int t) { return t == MPI_ANY_TAG ? ABI_ANY_TAG : t; }
static inline int in_undef(int x) { return x == ABI_UNDEFINED ? MPI_UNDEFINED : x; }
static inline int out_undef(int x) { return x == MPI_UNDEFINED ? ABI_UNDEFINED : x; }
int in_split_type(int x);
int in_thread(int x);
int in_order(int x);
int in_distrib(int x);
int in_darg(int x);
int out_cmp(int x);
int out_topo(int x);
int out_combiner(int x);

/* ---- errors: one choke point (core/errors.c) ---------------------------------------------- */

int class_to_abi(int host_class);
int abi_to_class(int abi_class);
int abi_error(int host_rc);
int abort_job(MPI_Comm comm, int code);
/* Report ABI error class `cls` on the communicator in slot `cslot` (its error handler decides:
 * return it, call the guest's handler, or abort the job). */
wasm_trap_t *fail(wasmtime_val_raw_t *a, int cls, int32_t cslot, const char *fn);
wasm_trap_t *done_error(wasmtime_val_raw_t *a, int rc, int32_t cslot, const char *fn);
static inline wasm_trap_t *done(wasmtime_val_raw_t *a, int rc, int32_t cslot, const char *fn)
{
    if (rc == MPI_SUCCESS) {
        a[0].i32 = 0;
        return NULL;
    }
    return done_error(a, rc, cslot, fn);
}
wasm_trap_t *ok(wasmtime_val_raw_t *a);

/* Every callback starts with the communicator slot whose error handler decides; calls
 * without a communicator report on MPI_COMM_WORLD. A call about another object with its own
 * error handler (a window, a file) reports to that object: its errslot carries the handle
 * kind in the high byte, as guest handles do (a communicator's is its plain slot index). */
#define OBJ_ERRSLOT(kind, s) ((int32_t)((uint32_t)(kind) << 24 | (uint32_t)slot_index(kind, s)))
/* the live object an errslot names (and its kind), or NULL */
slot_t *errslot_object(int32_t errslot, int *kind);
#define ERRSLOT int32_t errslot __attribute__((unused)) = world_slot()
/* MPI_T functions return their error codes and never call an error handler (MPI-3.1 14.3):
 * fail() and done() with this slot return the (MPI_T) error code as it is (mpi/tool.c). */
#define ERRSLOT_RETURN (-2)
/* The guest's MPI_T_init_thread calls not yet finalized: MPI_T functions need one (MPICH
 * counts its own MPI_Init as one, and Open MPI does not; the guest sees the standard). */
extern int g_tool_inits;
#define TOOL_ERRSLOT \
    int32_t errslot __attribute__((unused)) = ERRSLOT_RETURN; \
    if (g_tool_inits <= 0) \
        return fail(a, ABI_T_ERR_NOT_INITIALIZED, errslot, FN)
int tool_error(int host_rc);
/* the guest's predefined datatype of an MPI_T variable's host type: the same size */
int32_t tool_datatype(MPI_Datatype h);
/* 0 for an index of the host's variables, categories or enum items, else an ABI MPI_T code */
int cvar_index_check(int i);
int pvar_index_check(int i);
int cat_index_check(int i);
int enum_index_check(MPI_T_enum e, int i);
static inline int32_t comm_slot(int32_t g)
{
    slot_t *s = lookup(K_COMM, g);
    return s ? slot_index(K_COMM, s) : -1;
}
/* where errors about a null or bad handle of kind K go: MPI_FILE_NULL's handler for files
 * (the standard's default for file errors), MPI_COMM_WORLD's for other kinds */
int32_t null_errslot(int kind);
/* object argument `var` (kind K, field `low`) at argument `idx`, the object the call is about:
 * declares errslot; a null or bad handle reports to the null handle's error handler */
#define OBJ_ARG(K, low, var, sv, idx) \
    slot_t *sv = lookup(K, a[idx].i32); \
    int32_t errslot __attribute__((unused)) = \
        sv && !sv->predefined ? OBJ_ERRSLOT(K, sv) : null_errslot(K); \
    if (!sv || sv->predefined) \
        return fail(a, kind_error[K], errslot, FN); \
    __typeof__(sv->h.low) var = sv->h.low
/* communicator argument `var` at argument `idx`; declares errslot (one lookup for both).
 * MPI_COMM_NULL is no call's communicator: MPI_ERR_COMM (Open MPI 5's persistent collectives
 * dereference it unchecked) */
#define COMM_ARG(var, idx) \
    int32_t cs_##var = a[idx].i32 == ABI_COMM_NULL ? -1 : comm_slot(a[idx].i32); \
    int32_t errslot __attribute__((unused)) = cs_##var >= 0 ? cs_##var : world_slot(); \
    if (cs_##var < 0) \
        return fail(a, ABI_ERR_COMM, errslot, FN); \
    MPI_Comm var = T[K_COMM].s[cs_##var].h.comm

/* handle argument of kind K (lowercase field `low`) at a[idx] into host `var`, slot `sv` */
#define HANDLE_ARG(K, low, var, sv, idx) \
    slot_t *sv = lookup(K, a[idx].i32); \
    if (!sv) \
        return fail(a, kind_error[K], errslot, FN); \
    __typeof__(sv->h.low) var = sv->h.low
#define GET_TYPE(var, idx) \
    int32_t ts_##var; MPI_Datatype var; \
    do { \
        slot_t *s_ = lookup(K_DATATYPE, a[idx].i32); \
        if (!s_) return fail(a, ABI_ERR_TYPE, errslot, FN); \
        ts_##var = slot_index(K_DATATYPE, s_); var = s_->h.datatype; \
    } while (0)
/* reduction op argument for datatype `tvar` (GET_TYPE): the bridge's own op for long double */
#define GET_OP(var, idx, tvar) \
    MPI_Op var; \
    do { \
        slot_t *s_ = lookup(K_OP, a[idx].i32); \
        if (!s_) return fail(a, ABI_ERR_OP, errslot, FN); \
        var = reduce_op(s_, TYPE_SLOT(tvar)); \
    } while (0)
MPI_Op reduce_op(const slot_t *op, const slot_t *type);

/* ---- buffers ------------------------------------------------------------------------------ */

/* The byte range [lo, hi) that `count` elements of a datatype touch, relative to the buffer. */
static inline void span(const slot_t *t, int64_t count, int64_t *lo, int64_t *hi)
{
    int64_t step = (count - 1) * t->extent;
    *lo = t->true_lb + (step < 0 ? step : 0);
    *hi = t->true_lb + t->true_extent + (step > 0 ? step : 0);
}
int vspan(const slot_t *t, const int *counts, const int *displs, int n, int64_t *lo,
          int64_t *hi);
/* Element counts above this cannot fit in a 32-bit linear memory unless the datatype has
 * extent 0: larger MPI_Count values are MPI_ERR_COUNT before any span is computed. */
#define BIG_COUNT ((int64_t)1 << 32)
int vspan_c(const slot_t *t, const int64_t *counts, const int *displs, int n, int64_t *lo,
            int64_t *hi);
/* count * n without overflow (saturates: BUF then reports MPI_ERR_COUNT) */
static inline int64_t count_mul(int64_t c, int64_t n)
{
    return n > 0 && c > INT64_MAX / n ? INT64_MAX : c * n;
}

/* buffer argument `var` at argument `idx`, holding `count` elements of datatype slot `ts`;
 * ts == NULL: `count` bytes */
#define BUF(var, idx, count, ts, place_ok) \
    void *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        int64_t c_ = (count); \
        if ((place_ok) && p_ == ABI_IN_PLACE) { var = MPI_IN_PLACE; break; } \
        if (c_ < 0) return fail(a, ABI_ERR_COUNT, errslot, FN); \
        var = GPTR(p_); \
        if (c_ > 0) { \
            int64_t lo_ = 0, hi_ = c_; \
            const slot_t *t_ = (ts); \
            /* MPICH asserts (aborts) on data of MPI_DATATYPE_NULL instead of an error */ \
            if (t_ && (t_->h.datatype == MPI_DATATYPE_NULL || t_->uncommitted)) \
                return fail(a, ABI_ERR_TYPE, errslot, FN); \
            if (c_ > BIG_COUNT && (!t_ || t_->extent)) \
                return fail(a, ABI_ERR_COUNT, errslot, FN); \
            if (t_) span(t_, c_, &lo_, &hi_); \
            CHECK_RANGE((int64_t)p_ + lo_, (int64_t)p_ + hi_, "buffer"); \
        } \
    } while (0)
#define VBUF(var, idx, counts, displs, n, ts, place_ok) \
    void *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        if ((place_ok) && p_ == ABI_IN_PLACE) { var = MPI_IN_PLACE; break; } \
        var = GPTR(p_); \
        int64_t lo_ = 0, hi_ = 0; \
        int any_ = (n) > 0 ? vspan((ts), (counts), (displs), (n), &lo_, &hi_) : 0; \
        if (any_ < 0) return fail(a, ABI_ERR_COUNT, errslot, FN); \
        if (any_ && ((ts)->h.datatype == MPI_DATATYPE_NULL || (ts)->uncommitted)) \
            return fail(a, ABI_ERR_TYPE, errslot, FN); \
        if (any_) CHECK_RANGE((int64_t)p_ + lo_, (int64_t)p_ + hi_, "buffer"); \
    } while (0)
/* VBUF with MPI_Count counts (the large-count `_c` functions) */
#define VBUF_C(var, idx, counts, displs, n, ts, place_ok) \
    void *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        if ((place_ok) && p_ == ABI_IN_PLACE) { var = MPI_IN_PLACE; break; } \
        var = GPTR(p_); \
        int64_t lo_ = 0, hi_ = 0; \
        int any_ = (n) > 0 ? vspan_c((ts), (counts), (displs), (n), &lo_, &hi_) : 0; \
        if (any_ < 0) return fail(a, ABI_ERR_COUNT, errslot, FN); \
        if (any_ && ((ts)->h.datatype == MPI_DATATYPE_NULL || (ts)->uncommitted)) \
            return fail(a, ABI_ERR_TYPE, errslot, FN); \
        if (any_) CHECK_RANGE((int64_t)p_ + lo_, (int64_t)p_ + hi_, "buffer"); \
    } while (0)
#define INTS(var, idx, n, what) \
    const int *var = NULL; \
    do { \
        CHECK_ARRAY(a[idx].i32, (n), 4, what); \
        var = (const int *)GPTR(a[idx].i32); \
    } while (0)

/* topology weights at argument `idx` (`n` ints, in or out) into host `var`: the guest's
 * MPI_UNWEIGHTED and MPI_WEIGHTS_EMPTY become the host's */
#define WEIGHTS(var, idx, n, what) \
    int *var; \
    do { \
        uint32_t p_ = (uint32_t)a[idx].i32; \
        if (p_ == ABI_UNWEIGHTED) { var = MPI_UNWEIGHTED; break; } \
        if (p_ == ABI_WEIGHTS_EMPTY) { var = MPI_WEIGHTS_EMPTY; break; } \
        CHECK_ARRAY(p_, (n), 4, what); \
        var = (int *)GPTR(p_); \
    } while (0)

static inline int is_root(const slot_t *c, int root)
{
    return c->rsize ? root == MPI_ROOT : c->rank == root;
}
/* number of entries in per-process arrays (counts, displacements) of a collective */
static inline int peers(const slot_t *c) { return c->rsize ? c->rsize : c->size; }
int cart_ndims(MPI_Comm comm);
int nbr_degree(MPI_Comm comm, int out);
int has_topology(MPI_Comm comm);
/* sum of `n` guest ints at `p`, or their last element when they never decrease (graph
 * index arrays); -1 when one is negative or the index decreases */
int64_t ints_sum(uint32_t p, int64_t n);
int64_t ints_last(uint32_t p, int64_t n);

/* ---- statuses: guest layout {SOURCE, TAG, ERROR, internal[5]} (core/status.c) ---------- */

#define STATUS_SIZE 32
void status_out(uint32_t gp, const MPI_Status *hs, int with_error);
void status_in(uint32_t gp, MPI_Status *hs);
void status_layout(void);

/* A status out-argument: `st` is the host status to pass, NULL for MPI_STATUS_IGNORE. */
#define STATUS_ARG(var, idx) \
    MPI_Status var##_h, *var = NULL; \
    uint32_t var##_p = (uint32_t)a[idx].i32; \
    if (var##_p) { CHECK_OUT(var##_p, STATUS_SIZE); var = &var##_h; }
#define STATUS_DONE(var, rc) \
    if (var && (rc) == MPI_SUCCESS) status_out(var##_p, var, 0)

/* ---- scratch: a stack of frames, safe when a callback re-enters MPI (core/scratch.c) ----- */

typedef struct { void *block; size_t used; } scratch_mark_t;
scratch_mark_t scratch_mark(void);
void scratch_release(scratch_mark_t *m);
void *scratch_alloc(size_t bytes); /* NULL when out of memory; 16-byte aligned */
/* a mark that releases nothing, for a frame taken only on a slow path */
#define SCRATCH_UNMARKED ((scratch_mark_t){NULL, SIZE_MAX})
static inline void scratch_release_if(scratch_mark_t *m)
{
    if (m->used != SIZE_MAX)
        scratch_release(m);
}
/* every allocation made after SCRATCH_FRAME is released when the callback returns */
#define SCRATCH_FRAME \
    scratch_mark_t frame_ __attribute__((cleanup(scratch_release))) = scratch_mark()
#define SCRATCH(var, type, n) \
    type *var = (type *)scratch_alloc(sizeof(type) * (size_t)((n) > 0 ? (n) : 1)); \
    if (!var) return fail(a, ABI_ERR_NO_MEM, errslot, FN)

/* ---- keep: arrays a nonblocking or persistent call hands the host MPI ---------------------
 * Host copies of guest arrays (widened displacements, narrowed counts) must outlive the call
 * while the request lives: they are malloc'd into the callback's keep_ and either released
 * when it returns (blocking call, error) or handed to the request, which frees them when it
 * is completed (nonblocking) or freed (persistent). */
#define KEEP_MAX 6
typedef struct { void *p[KEEP_MAX]; int n; } keep_t;
void keep_release(keep_t *k);
void *keep_alloc(keep_t *k, size_t bytes);
void keep_attach(keep_t *k, int32_t request); /* the request owns them from now on */
#define KEEP_FRAME keep_t keep_ __attribute__((cleanup(keep_release))) = {{0}, 0}
#define KEEP(var, type, n) \
    type *var = (type *)keep_alloc(&keep_, sizeof(type) * (size_t)((n) > 0 ? (n) : 1)); \
    if (!var) return fail(a, ABI_ERR_NO_MEM, errslot, FN)

/* ---- MPI-4 host functions (core/host4.c) --------------------------------------------------- */

extern void *host4_fn[H4_LAST];
void host4_resolve(void);
/* MPI_ERR_UNSUPPORTED_OPERATION through the error handler, and a line on stderr (once per
 * function and rank) naming the host function `idx` that is missing */
wasm_trap_t *host4_missing(wasmtime_val_raw_t *a, int idx, int32_t errslot, const char *fn);
/* the host's MPI-4 function NAME through its typed pointer (NULL when the host lacks it) */
#define HOST4(name) ((h4t_##name)host4_fn[H4_##name])
#define NEED_HOST4(name) \
    if (!host4_fn[H4_##name]) return host4_missing(a, H4_##name, errslot, FN)

/* ---- strings ------------------------------------------------------------------------------ */

/* Copy a host string into a guest char buffer of `cap` bytes; returns the stored length. */
int put_string(uint32_t dst, const char *src, int cap);

/* ---- the sandbox's directory grants (core/sandbox.c) ------------------------------------
 * A guest path (absolute; relative ones count from the guest's root) resolves through the
 * grant with the longest matching guest path, below that grant's host directory, never
 * outside it. Each returns 0 or an ABI error class: ABI_ERR_NO_SUCH_FILE outside every grant
 * and for escapes (`..` above a grant, symlinks leading out, absolute symlinks),
 * ABI_ERR_READ_ONLY for write access (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC) under a read-only
 * grant, else the class of the failing open's errno. */
/* open(2) `flags` / `mode` of a guest path: *fd_out gets the host descriptor */
int sandbox_open(const char *guest_path, int flags, mode_t mode, int *fd_out);
/* the directory holding a guest path's last component (O_PATH descriptor) and that name
 * (`cap` bytes at `last`); *readonly_out: whether its grant is read-only */
int sandbox_open_parent(const char *guest_path, int *dirfd_out, char *last, size_t cap,
                        int *readonly_out);
/* remove a guest path's directory entry (a symlink itself, never its target) */
int sandbox_unlink(const char *guest_path);
int sandbox_uses_openat2(void);

/* ---- upcalls into the guest (upcall.c) ----------------------------------------------------- */

/* Call guest function `fn` (a table index) with `nargs` i32 arguments; `result` gets the i32
 * result when the function has one. A trap in the guest function ends the job with a message
 * naming `what`. Returns 0 on success, an ABI error class when the call cannot be made. */
int upcall(uint32_t fn, const int32_t *args, int nargs, int32_t *result, const char *what);
/* The same for a C variadic function without a result, called without variadic arguments
 * (wasm32 passes them as one more pointer): error handlers, (MPI_Comm *, int *, ...). A
 * function defined without the `...` and cast to the handler type is called as what it is. */
int upcall_variadic(uint32_t fn, const int32_t *args, int nargs, const char *what);
/* Guest memory for upcall arguments, from the guest's own malloc; 0 when there is none. */
uint32_t guest_alloc(uint32_t bytes);
int guest_has_malloc(void); /* whether the module exports malloc */
void guest_free(uint32_t p);
/* A per-purpose staging buffer in guest memory that grows as needed (0 when impossible). */
uint32_t guest_staging(int which, uint32_t bytes);
enum { STAGE_ARGS, STAGE_OP_IN, STAGE_OP_INOUT, STAGE_LAST };
void upcall_set_exports(const wasmtime_table_t *table, const wasmtime_func_t *malloc_fn,
                        const wasmtime_func_t *free_fn);

/* ---- chapter hooks -------------------------------------------------------------------------- */

extern int g_guest_state; /* 0 before MPI_Init, 1 initialized, 2 finalized */
void init_ops(void);
int get_keyval(int32_t g, int *host);
/* error codes the guest added (mpi/env.c): the largest one, and the guest <-> host codes */
int wasmpi_last_used_code(void);
int user_error_host_code(int guest_code);  /* -1: not the guest's */
int user_error_guest_code(int host_code);  /* -1: not the guest's */
/* apply the guest error handler `eh` of a communicator to error class `cls`: 1 = return it */
int call_comm_errhandler(int32_t eh, int32_t comm_guest, int cls);
/* the same for an object of handle kind `kind` (K_COMM, K_WIN, ...) */
int call_errhandler(int32_t eh, int kind, int32_t guest, int cls);
/* MPI_X_set/get/call_errhandler of an object whose slot `s` keeps its handler (mpi/errhandler.c);
 * the handler to set or the code to raise is a[1] */
wasm_trap_t *errhandler_set(wasmtime_val_raw_t *a, slot_t *s, int kind, int32_t errslot,
                            const char *fn);
wasm_trap_t *errhandler_get(wasmtime_val_raw_t *a, const slot_t *s, const char *fn);
wasm_trap_t *errhandler_call(wasmtime_val_raw_t *a, int32_t errslot, const char *fn);
/* One-sided (mpi/rma.c): MPI_MODE_* bitmasks and MPI_LOCK_* (-1 for an undefined value); the
 * target check of a displacement (0 or an ABI error class; *host_disp is what the host gets);
 * the predefined window attributes (1 when `keyval` is one, *val its guest value). */
int in_assert(int x);
int in_lock_type(int x);
int win_member(const slot_t *win, int rank);
int rma_target(const slot_t *win, int rank, int32_t disp, int64_t count, const slot_t *type,
               MPI_Aint *host_disp);
int win_attr(const slot_t *win, int32_t keyval, int32_t *val);
/* MPI-IO (mpi/io.c): MPI_SEEK_* of the guest -> host; set-up at MPI start */
int in_whence(int x);
void init_io(void);
/* mpi/info.c: MPI_INFO_ENV is the guest's view (argv, working directory), set at init */
void init_env_info(void);
void env_info_thread(int level);
int guest_thread_level(void); /* mpi/env.c */
/* Request completion bookkeeping (mpi/request.c). */
void request_settle(int32_t *g, slot_t *s, MPI_Request h, int ok);
int32_t request_errslot(const slot_t *r);

#endif
