/* Reduction operations. User ops are guest functions: the host MPI calls one of a fixed set of
 * trampolines (its MPI_User_function has no context argument), which stages the operands in
 * guest memory when the host passes its own buffers and calls the guest function through the
 * function table. Binary128 long double has no host type: predefined ops on the guest's long
 * double types run as bridge-internal user ops over _Float128 (gcc on x86-64 and aarch64). */
#include "bridge.h"

#define N_TRAMP 64
/* A user op, and the datatype of the reduction that last used it (reduce_op records it): the
 * host hands the op only a host datatype, which several guest types can share (MPI_INT32_T and
 * MPI_AINT, MPI_INT and MPI_LONG), and finding the guest's by a scan and asking MPI for its
 * layout on every call cost more than the guest function on short vectors. */
static struct {
    uint32_t fn;
    int used;
    MPI_Datatype dt;    /* host handle; MPI_DATATYPE_NULL: nothing recorded */
    int32_t dt_guest;
    int64_t extent, true_lb, true_extent;
} tramp[N_TRAMP];

/* Guest pointer for `n` elements of `dt` at host address p: p itself when it lies in linear
 * memory, else a staging copy (copied in when `copy_in`). */
static uint32_t stage(void *p, int64_t lo, int64_t hi, int which, int copy_in, int *staged)
{
    *staged = 0;
    if (hi <= lo || (in_guest((uint8_t *)p + lo, (size_t)(hi - lo)) && (uint8_t *)p >= g_base))
        return GOFF(p);
    uint32_t s = guest_staging(which, (uint32_t)(hi - lo));
    if (!s)
        return 0;
    if (copy_in)
        memcpy(GPTR(s), (uint8_t *)p + lo, (size_t)(hi - lo));
    *staged = 1;
    return s - (uint32_t)lo;
}

static void user_op(int k, void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int64_t n = *len;
    if (n <= 0)
        return;
    int64_t extent, tlb, text;
    int32_t gdt;
    if (*dt == tramp[k].dt && *dt != MPI_DATATYPE_NULL) {
        gdt = tramp[k].dt_guest;
        extent = tramp[k].extent;
        tlb = tramp[k].true_lb;
        text = tramp[k].true_extent;
    } else { /* a datatype of the host's own making, or a reduction of another type since */
        MPI_Aint lb_, ext_, tlb_, text_;
        MPI_Type_get_extent(*dt, &lb_, &ext_);
        MPI_Type_get_true_extent(*dt, &tlb_, &text_);
        extent = ext_;
        tlb = tlb_;
        text = text_;
        gdt = guest_of(K_DATATYPE, (host_h){.datatype = *dt});
    }
    int64_t step = (n - 1) * (int64_t)extent;
    int64_t lo = tlb + (step < 0 ? step : 0), hi = tlb + text + (step > 0 ? step : 0);
    int si, sio;
    uint32_t gin = stage(in, lo, hi, STAGE_OP_IN, 1, &si);
    uint32_t gio = stage(inout, lo, hi, STAGE_OP_INOUT, 1, &sio);
    uint32_t args = guest_staging(STAGE_ARGS, 16);
    if ((si && !gin) || (sio && !gio) || !args) {
        fprintf(stderr, "wasmpi: rank %d: user reduction function: no guest memory to stage "
                        "%lld bytes (the module exports no malloc, or it failed)\n", g_rank,
                (long long)(hi - lo));
        abort_job(MPI_COMM_WORLD, 1);
        return;
    }
    store_i32(args, (int32_t)n);
    store_i32(args + 4, gdt);
    int32_t argv[4] = {(int32_t)gin, (int32_t)gio, (int32_t)args, (int32_t)(args + 4)};
    upcall(tramp[k].fn, argv, 4, NULL, "user reduction function (MPI_Op_create)");
    if (sio)
        memcpy((uint8_t *)inout + lo, (uint8_t *)GPTR(gio) + lo, (size_t)(hi - lo));
}

#define TR(k) \
    static void tramp_##k(void *i, void *io, int *l, MPI_Datatype *d) { user_op(k, i, io, l, d); }
TR(0)
TR(1)
TR(2)
TR(3)
TR(4)
TR(5)
TR(6)
TR(7)
TR(8)
TR(9)
TR(10)
TR(11)
TR(12)
TR(13)
TR(14)
TR(15)
TR(16)
TR(17)
TR(18)
TR(19)
TR(20)
TR(21)
TR(22)
TR(23)
TR(24)
TR(25)
TR(26)
TR(27)
TR(28)
TR(29)
TR(30)
TR(31)
TR(32)
TR(33)
TR(34)
TR(35)
TR(36)
TR(37)
TR(38)
TR(39)
TR(40)
TR(41)
TR(42)
TR(43)
TR(44)
TR(45)
TR(46)
TR(47)
TR(48)
TR(49)
TR(50)
TR(51)
TR(52)
TR(53)
TR(54)
TR(55)
TR(56)
TR(57)
TR(58)
TR(59)
TR(60)
TR(61)
TR(62)
TR(63)
static MPI_User_function *const tramp_fn[N_TRAMP] = {
    tramp_0,
    tramp_1,
    tramp_2,
    tramp_3,
    tramp_4,
    tramp_5,
    tramp_6,
    tramp_7,
    tramp_8,
    tramp_9,
    tramp_10,
    tramp_11,
    tramp_12,
    tramp_13,
    tramp_14,
    tramp_15,
    tramp_16,
    tramp_17,
    tramp_18,
    tramp_19,
    tramp_20,
    tramp_21,
    tramp_22,
    tramp_23,
    tramp_24,
    tramp_25,
    tramp_26,
    tramp_27,
    tramp_28,
    tramp_29,
    tramp_30,
    tramp_31,
    tramp_32,
    tramp_33,
    tramp_34,
    tramp_35,
    tramp_36,
    tramp_37,
    tramp_38,
    tramp_39,
    tramp_40,
    tramp_41,
    tramp_42,
    tramp_43,
    tramp_44,
    tramp_45,
    tramp_46,
    tramp_47,
    tramp_48,
    tramp_49,
    tramp_50,
    tramp_51,
    tramp_52,
    tramp_53,
    tramp_54,
    tramp_55,
    tramp_56,
    tramp_57,
    tramp_58,
    tramp_59,
    tramp_60,
    tramp_61,
    tramp_62,
    tramp_63,
};

CALLBACK(MPI_Op_create)
{
#define FN "MPI_Op_create"
    ERRSLOT;
    CHECK_OUT(a[2].i32, 4);
    uint32_t fn = (uint32_t)a[0].i32;
    if (fn == 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    /* A freed op may still be applied by a pending nonblocking reduction (MPI_Op_free only
     * marks it), and the host calls its trampoline: hand out trampolines round robin, so a
     * freed one is reused as late as possible. */
    static int next;
    int k = N_TRAMP;
    for (int i = 0; i < N_TRAMP; i++)
        if (!tramp[(next + i) % N_TRAMP].used) {
            k = (next + i) % N_TRAMP;
            break;
        }
    if (k == N_TRAMP) {
        fprintf(stderr, "wasmpi: rank %d: MPI_Op_create: more than %d user ops at once\n",
                g_rank, N_TRAMP);
        return fail(a, ABI_ERR_INTERN, errslot, FN);
    }
    MPI_Op op;
    int rc = MPI_Op_create(tramp_fn[k], a[1].i32, &op);
    if (rc == MPI_SUCCESS) {
        int32_t idx;
        slot_t *s = slot_alloc(K_OP, &idx);
        s->h.op = op;
        s->fn = fn;
        s->tramp = k;
        tramp[k].used = 1;
        tramp[k].fn = fn;
        next = k + 1;
        tramp[k].dt = MPI_DATATYPE_NULL;
        store_i32((uint32_t)a[2].i32, s->guest);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Op_free)
{
#define FN "MPI_Op_free"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    slot_t *s = lookup(K_OP, load_i32((uint32_t)a[0].i32));
    if (!s || s->predefined)
        return fail(a, ABI_ERR_OP, errslot, FN);
    int rc = MPI_Op_free(&s->h.op);
    if (rc == MPI_SUCCESS) {
        if (s->tramp >= 0)
            tramp[s->tramp].used = 0;
        slot_free(K_OP, s);
        store_i32((uint32_t)a[0].i32, ABI_OP_NULL);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- predefined ops on binary128 long double ---------------------------------------------- */

typedef _Float128 ld_t;
/* wasm32 layouts: a real is 16 bytes; a complex 32 (re, im); long double + int 20 bytes of data
 * in a 32-byte element, and the host's buffers may end right after the last element's 20
 * bytes, so only the fields are ever written. Guest buffers need no 16-byte alignment (wasm has
 * no alignment rule) and a _Float128 access through a pointer may be an aligned SSE move, which
 * segfaulted on an 8-byte-aligned buffer (MPI_Reduce_local, found by the fuzzer): every value
 * is copied in and out. */
#define LD 16
static inline ld_t ld_get(const char *p)
{
    ld_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void ld_put(char *p, ld_t v) { memcpy(p, &v, sizeof v); }

enum { LD_REAL = 1, LD_COMPLEX, LD_INT }; /* slot_t.tramp of the guest's long double types */
enum { O_SUM, O_PROD, O_MIN, O_MAX, O_LAND, O_LOR, O_LXOR, O_MINLOC, O_MAXLOC, O_N };
static MPI_Op ld_ops[O_N];
static const int32_t ld_guest[O_N] = {ABI_SUM, ABI_PROD, ABI_MIN, ABI_MAX, ABI_LAND, ABI_LOR,
                                      ABI_LXOR, ABI_MINLOC, ABI_MAXLOC};

static int ld_kind(MPI_Datatype dt)
{
    slot_t *s = lookup(K_DATATYPE, guest_of(K_DATATYPE, (host_h){.datatype = dt}));
    return s && s->predefined ? s->tramp : 0;
}

#define LD_OP(o, ...) \
    static void ld_##o(void *in_, void *io_, int *len, MPI_Datatype *dt) \
    { \
        int kind = ld_kind(*dt); \
        const char *in = in_; \
        char *io = io_; \
        for (int j = 0; j < *len; j++) { __VA_ARGS__ } \
    }
#define REAL_ONLY(...) \
    if (kind == LD_REAL) { \
        ld_t x = ld_get(in + LD * j), y = ld_get(io + LD * j); \
        __VA_ARGS__; \
        ld_put(io + LD * j, y); \
    }
#define COMPLEX(...) \
    if (kind == LD_COMPLEX) { \
        const char *xp = in + 2 * LD * j; \
        char *yp = io + 2 * LD * j; \
        ld_t xr = ld_get(xp), xi = ld_get(xp + LD), yr = ld_get(yp), yi = ld_get(yp + LD); \
        __VA_ARGS__; \
        ld_put(yp, yr); \
        ld_put(yp + LD, yi); \
    }
#define LOC(better) \
    if (kind == LD_INT) { \
        const char *xp = in + 2 * LD * j; \
        char *yp = io + 2 * LD * j; \
        ld_t x = ld_get(xp), y = ld_get(yp); \
        int32_t xi, yi; \
        memcpy(&xi, xp + LD, 4); \
        memcpy(&yi, yp + LD, 4); \
        if (x better y || (x == y && xi < yi)) { \
            ld_put(yp, x); \
            memcpy(yp + LD, &xi, 4); \
        } \
    }
LD_OP(sum, COMPLEX(yr += xr; yi += xi) else REAL_ONLY(y += x))
LD_OP(prod, COMPLEX(ld_t re = xr * yr - xi * yi; yi = xr * yi + xi * yr; yr = re)
            else REAL_ONLY(y *= x))
LD_OP(min, REAL_ONLY(if (x < y) y = x))
LD_OP(max, REAL_ONLY(if (x > y) y = x))
LD_OP(land, REAL_ONLY(y = (x != 0) && (y != 0)))
LD_OP(lor, REAL_ONLY(y = (x != 0) || (y != 0)))
LD_OP(lxor, REAL_ONLY(y = (x != 0) != (y != 0)))
LD_OP(minloc, LOC(<))
LD_OP(maxloc, LOC(>))

/* Which (op, datatype) pairs the bridge computes itself, per the standard's op/type table. */
static int ld_allowed(int o, int kind)
{
    switch (o) {
    case O_SUM: case O_PROD: return kind == LD_REAL || kind == LD_COMPLEX;
    case O_MIN: case O_MAX: case O_LAND: case O_LOR: case O_LXOR: return kind == LD_REAL;
    default: return kind == LD_INT;
    }
}

void init_ops(void)
{
    static MPI_User_function *const fns[O_N] = {ld_sum, ld_prod, ld_min, ld_max, ld_land,
                                                ld_lor, ld_lxor, ld_minloc, ld_maxloc};
    for (int o = 0; o < O_N; o++)
        MPI_Op_create(fns[o], 1, &ld_ops[o]);
    /* MPI_REAL16 and MPI_COMPLEX32 are binary128 in the guest too. The host computes them
     * as its long double (x87 on x86-64 MPICH: wrong digits) or with aligned SSE moves (Open
     * MPI 5.0.11 segfaulted in MPI_Reduce_local on an 8-byte-aligned guest buffer, fuzz seeds
     * 622, 823): the bridge computes them, where the host's type has the binary128 size (Open
     * MPI's MPI_COMPLEX32 has size 0 without a Fortran REAL*16, and stays the host's). */
    static const struct { int32_t g; int kind; int size; } ld_types[] = {
        {ABI_LONG_DOUBLE, LD_REAL, 16}, {ABI_C_LONG_DOUBLE_COMPLEX, LD_COMPLEX, 32},
        {ABI_CXX_LONG_DOUBLE_COMPLEX, LD_COMPLEX, 32}, {ABI_LONG_DOUBLE_INT, LD_INT, 20},
        {ABI_REAL16, LD_REAL, 16}, {ABI_COMPLEX32, LD_COMPLEX, 32}};
    for (size_t i = 0; i < sizeof ld_types / sizeof ld_types[0]; i++) {
        slot_t *s = lookup(K_DATATYPE, ld_types[i].g);
        int size = -1;
        if (s && MPI_Type_size(s->h.datatype, &size) == MPI_SUCCESS && size == ld_types[i].size)
            s->tramp = ld_types[i].kind;
    }
}

/* The host op to reduce `type` with `op`: the op itself, or the bridge's long double op.
 * Returns MPI_OP_NULL for a predefined op the standard does not define on that type. */
MPI_Op reduce_op(const slot_t *op, const slot_t *type)
{
    if (op->tramp >= 0 && op->tramp < N_TRAMP && type) {
        tramp[op->tramp].dt = type->h.datatype;
        tramp[op->tramp].dt_guest = type->guest;
        tramp[op->tramp].extent = type->extent;
        tramp[op->tramp].true_lb = type->true_lb;
        tramp[op->tramp].true_extent = type->true_extent;
    }
    if (!type || !type->predefined || type->tramp <= 0 || !op->predefined)
        return op->h.op;
    for (int o = 0; o < O_N; o++)
        if (op->guest == ld_guest[o])
            return ld_allowed(o, type->tramp) ? ld_ops[o] : MPI_OP_NULL;
    return op->guest == ABI_REPLACE || op->guest == ABI_NO_OP ? op->h.op : MPI_OP_NULL;
}
