/* Collective special cases: reduce-scatter (the receive size depends on the rank and on
 * MPI_IN_PLACE) and the alltoallw family (a datatype per peer; the nonblocking and persistent
 * ones keep their translated datatype arrays alive until the request completes or is freed),
 * each blocking, nonblocking and persistent (MPI-4: the host function is looked up at run
 * time). */
#include "bridge.h"

/* how a collective is started: blocking, nonblocking (I...) or persistent (..._init: an info
 * argument, then the request) */
enum { BLOCKING, NONBLOCKING, PERSISTENT };

/* the request out-argument of a nonblocking or persistent call whose communicator is at
 * argument `c` (persistent ones have an info argument between them); checks the info */
#define REQUEST_OUT(rp, c, mode) \
    /* a blocking call has no such argument: a[] ends with the communicator */ \
    uint32_t rp = (mode) == BLOCKING ? 0 \
                  : (uint32_t)a[(c) + ((mode) == PERSISTENT ? 2 : 1)].i32; \
    MPI_Info info_ = MPI_INFO_NULL; \
    if ((mode) == PERSISTENT) { \
        HANDLE_ARG(K_INFO, info, i_, si_, (c) + 1); \
        info_ = i_; \
    } \
    if ((mode) != BLOCKING) CHECK_OUT(rp, 4)

/* The host function of a large-count form, by mode (blocking, nonblocking, persistent): the
 * host may lack it, and then the int-count function serves counts that fit in an int. */
static const int rs_c[3] = {H4_MPI_Reduce_scatter_c, H4_MPI_Ireduce_scatter_c,
                            H4_MPI_Reduce_scatter_init_c};
static const int rsb_c[3] = {H4_MPI_Reduce_scatter_block_c, H4_MPI_Ireduce_scatter_block_c,
                             H4_MPI_Reduce_scatter_block_init_c};

/* whether the large-count form `h4c` runs as itself; else (the int-count fallback) the
 * persistent int-count function `h4i` (-1: an MPI-3.1 one) must be there, and the call reports
 * the large-count function as missing otherwise */
#define LARGE_OR_FALLBACK(use_c, large, h4c, h4i) \
    int use_c = (large) && host4_fn[h4c]; \
    if (!use_c && (h4i) >= 0 && !host4_fn[h4i]) \
        return host4_missing(a, (large) ? (h4c) : (h4i), errslot, FN)

static inline int64_t add_sat(int64_t x, int64_t y) { return x > INT64_MAX - y ? INT64_MAX : x + y; }

/* recvcounts are guest ints, or MPI_Counts in the large-count forms (`large`) */
static wasm_trap_t *reduce_scatter(wasmtime_val_raw_t *a, int mode, int large, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    REQUEST_OUT(rp, 5, mode);
    GET_TYPE(dt, 3);
    GET_OP(op, 4, dt);
    LARGE_OR_FALLBACK(use_c, large, rs_c[mode],
                      mode == PERSISTENT ? H4_MPI_Reduce_scatter_init : -1);
    slot_t *c = COMM_SLOT(comm);
    int np = c->size;
    uint32_t cp = (uint32_t)a[2].i32;
    CHECK_ARRAY(cp, np, large ? 8 : 4, "recvcounts array");
    int64_t total = 0, mine = 0;
    int narrow = 1;
    for (int i = 0; i < np; i++) {
        int64_t n = large ? load_i64(cp + 8 * (uint32_t)i) : load_i32(cp + 4 * (uint32_t)i);
        if (n < 0)
            return fail(a, ABI_ERR_COUNT, errslot, FN);
        total = add_sat(total, n);
        if (i == c->rank)
            mine = n;
        narrow &= n == (int)n;
    }
    int in_place = (uint32_t)a[0].i32 == ABI_IN_PLACE;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : mine, TYPE_SLOT(dt), 0);
    KEEP_FRAME;
    const int *counts = (const int *)GPTR(cp);
    if (large && !use_c) { /* the host may read the narrowed counts until the request ends */
        if (!narrow)
            return host4_missing(a, rs_c[mode], errslot, FN);
        KEEP(w, int, np);
        for (int i = 0; i < np; i++)
            w[i] = (int)load_i64(cp + 8 * (uint32_t)i);
        counts = w;
    }
    const MPI_Count *ccounts = (const MPI_Count *)GPTR(cp);
    MPI_Request r = MPI_REQUEST_NULL;
    int rc;
    if (mode == BLOCKING)
        rc = use_c ? HOST4(MPI_Reduce_scatter_c)(sbuf, rbuf, ccounts, dt, op, comm)
                   : MPI_Reduce_scatter(sbuf, rbuf, counts, dt, op, comm);
    else if (mode == NONBLOCKING)
        rc = use_c ? HOST4(MPI_Ireduce_scatter_c)(sbuf, rbuf, ccounts, dt, op, comm, &r)
                   : MPI_Ireduce_scatter(sbuf, rbuf, counts, dt, op, comm, &r);
    else
        rc = use_c ? HOST4(MPI_Reduce_scatter_init_c)(sbuf, rbuf, ccounts, dt, op, comm, info_,
                                                      &r)
                   : HOST4(MPI_Reduce_scatter_init)(sbuf, rbuf, counts, dt, op, comm, info_, &r);
    if (mode != BLOCKING && rc == MPI_SUCCESS) {
        int32_t g = new_request(r, errslot);
        if (keep_.n)
            keep_attach(&keep_, g);
        store_i32(rp, g);
    }
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Reduce_scatter) { return reduce_scatter(a, BLOCKING, 0, "MPI_Reduce_scatter"); }
CALLBACK(MPI_Ireduce_scatter)
{
    return reduce_scatter(a, NONBLOCKING, 0, "MPI_Ireduce_scatter");
}
CALLBACK(MPI_Reduce_scatter_init)
{
    return reduce_scatter(a, PERSISTENT, 0, "MPI_Reduce_scatter_init");
}
CALLBACK(MPI_Reduce_scatter_c) { return reduce_scatter(a, BLOCKING, 1, "MPI_Reduce_scatter_c"); }
CALLBACK(MPI_Ireduce_scatter_c)
{
    return reduce_scatter(a, NONBLOCKING, 1, "MPI_Ireduce_scatter_c");
}
CALLBACK(MPI_Reduce_scatter_init_c)
{
    return reduce_scatter(a, PERSISTENT, 1, "MPI_Reduce_scatter_init_c");
}

/* recvcount is a guest int, or an MPI_Count (wasm i64) in the large-count forms */
static wasm_trap_t *reduce_scatter_block(wasmtime_val_raw_t *a, int mode, int large,
                                         const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    REQUEST_OUT(rp, 5, mode);
    GET_TYPE(dt, 3);
    GET_OP(op, 4, dt);
    LARGE_OR_FALLBACK(use_c, large, rsb_c[mode],
                      mode == PERSISTENT ? H4_MPI_Reduce_scatter_block_init : -1);
    slot_t *c = COMM_SLOT(comm);
    int64_t n = large ? a[2].i64 : a[2].i32;
    int64_t total = count_mul(n, c->size);
    int in_place = (uint32_t)a[0].i32 == ABI_IN_PLACE;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : n, TYPE_SLOT(dt), 0);
    if (large && !use_c && n != (int)n)
        return host4_missing(a, rsb_c[mode], errslot, FN);
    MPI_Request r = MPI_REQUEST_NULL;
    int rc;
    if (mode == BLOCKING)
        rc = use_c ? HOST4(MPI_Reduce_scatter_block_c)(sbuf, rbuf, n, dt, op, comm)
                   : MPI_Reduce_scatter_block(sbuf, rbuf, (int)n, dt, op, comm);
    else if (mode == NONBLOCKING)
        rc = use_c ? HOST4(MPI_Ireduce_scatter_block_c)(sbuf, rbuf, n, dt, op, comm, &r)
                   : MPI_Ireduce_scatter_block(sbuf, rbuf, (int)n, dt, op, comm, &r);
    else
        rc = use_c ? HOST4(MPI_Reduce_scatter_block_init_c)(sbuf, rbuf, n, dt, op, comm, info_,
                                                            &r)
                   : HOST4(MPI_Reduce_scatter_block_init)(sbuf, rbuf, (int)n, dt, op, comm,
                                                          info_, &r);
    if (mode != BLOCKING && rc == MPI_SUCCESS)
        store_i32(rp, new_request(r, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Reduce_scatter_block)
{
    return reduce_scatter_block(a, BLOCKING, 0, "MPI_Reduce_scatter_block");
}
CALLBACK(MPI_Ireduce_scatter_block)
{
    return reduce_scatter_block(a, NONBLOCKING, 0, "MPI_Ireduce_scatter_block");
}
CALLBACK(MPI_Reduce_scatter_block_init)
{
    return reduce_scatter_block(a, PERSISTENT, 0, "MPI_Reduce_scatter_block_init");
}
CALLBACK(MPI_Reduce_scatter_block_c)
{
    return reduce_scatter_block(a, BLOCKING, 1, "MPI_Reduce_scatter_block_c");
}
CALLBACK(MPI_Ireduce_scatter_block_c)
{
    return reduce_scatter_block(a, NONBLOCKING, 1, "MPI_Ireduce_scatter_block_c");
}
CALLBACK(MPI_Reduce_scatter_block_init_c)
{
    return reduce_scatter_block(a, PERSISTENT, 1, "MPI_Reduce_scatter_block_init_c");
}

/* ---- alltoallw: per-peer datatypes, displacements in bytes ------------------------------------ */

typedef struct {
    MPI_Datatype *types; /* send types then receive types, host handles */
    MPI_Aint *displs;    /* send then receive displacements, widened */
    int *counts;         /* the large-count forms' int-count fallback: the counts narrowed */
} w_state;

static void w_state_free(void *p, int ok)
{
    (void)ok;
    w_state *w = p;
    free(w->types);
    free(w->displs);
    free(w->counts);
    free(w);
}

/* Check one side's buffer at guest address `base`: counts[i] elements of types_g[i] at byte
 * displacement displs[i]. Translates the types into `out`. Returns 0 when it is fine, else an
 * ABI error class, or -1 when the buffer leaves linear memory ([*lo, *hi) is then the guest
 * range it needs). */
static int w_side(uint32_t base, const int32_t *types_g, const int64_t *counts,
                  const int64_t *displs, int n, MPI_Datatype *out, int64_t *lo, int64_t *hi)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        slot_t *t = lookup(K_DATATYPE, types_g[i]);
        if (!t)
            return ABI_ERR_TYPE;
        out[i] = t->h.datatype;
        if (counts[i] < 0 || (counts[i] > BIG_COUNT && t->extent))
            return ABI_ERR_COUNT;
        if (counts[i] == 0)
            continue;
        int64_t l, h;
        span(t, counts[i], &l, &h);
        l += displs[i];
        h += displs[i];
        if (!any || l < *lo) *lo = l;
        if (!any || h > *hi) *hi = h;
        any = 1;
    }
    if (!any)
        return 0;
    *lo += base;
    *hi += base;
    return *lo < 0 || !fits((uint64_t)*hi) ? -1 : 0;
}

/* the large-count forms' host functions, by [neighbor][mode] */
static const int w_c[2][3] = {
    {H4_MPI_Alltoallw_c, H4_MPI_Ialltoallw_c, H4_MPI_Alltoallw_init_c},
    {H4_MPI_Neighbor_alltoallw_c, H4_MPI_Ineighbor_alltoallw_c, H4_MPI_Neighbor_alltoallw_init_c},
};

/* alltoallw over `ns` send and `nr` receive peers; displacements are ints (alltoallw) or Aints
 * (neighbor_alltoallw and the large-count forms), in bytes, 32-bit in the guest either way;
 * counts are ints, or MPI_Counts in the large-count forms (`large`). Argument order is the
 * standard's for all. */
static wasm_trap_t *alltoallw(wasmtime_val_raw_t *a, int neighbor, int mode, int large,
                              const char *fn)
{
#define FN fn
    COMM_ARG(comm, 8);
    REQUEST_OUT(rp, 8, mode);
    int h4i = mode != PERSISTENT ? -1
              : neighbor ? H4_MPI_Neighbor_alltoallw_init : H4_MPI_Alltoallw_init;
    LARGE_OR_FALLBACK(use_c, large, w_c[neighbor][mode], h4i);
    slot_t *c = COMM_SLOT(comm);
    if (neighbor && c->rsize) /* MPICH asserts on an intercommunicator */
        return fail(a, ABI_ERR_COMM, errslot, FN);
    if (neighbor && !has_topology(comm))
        return fail(a, ABI_ERR_TOPOLOGY, errslot, FN);
    int ns = neighbor ? nbr_degree(comm, 1) : peers(c);
    int nr = neighbor ? nbr_degree(comm, 0) : peers(c);
    int in_place = !neighbor && (uint32_t)a[0].i32 == ABI_IN_PLACE;
    int csize = large ? 8 : 4;
    if (!in_place) {
        CHECK_ARRAY(a[1].i32, ns, csize, "sendcounts array");
        CHECK_ARRAY(a[2].i32, ns, 4, "sdispls array");
        CHECK_ARRAY(a[3].i32, ns, 4, "sendtypes array");
    }
    CHECK_ARRAY(a[5].i32, nr, csize, "recvcounts array");
    CHECK_ARRAY(a[6].i32, nr, 4, "rdispls array");
    CHECK_ARRAY(a[7].i32, nr, 4, "recvtypes array");
    size_t n1 = (size_t)(ns + nr + 1);
    w_state *w = calloc(1, sizeof *w);
    if (w) {
        w->types = malloc(sizeof(MPI_Datatype) * n1);
        w->displs = malloc(sizeof(MPI_Aint) * n1);
    }
    int64_t *d64 = malloc(sizeof(int64_t) * n1), *c64 = malloc(sizeof(int64_t) * n1);
    if (!w || !w->types || !w->displs || !d64 || !c64) {
        if (w) w_state_free(w, 0);
        free(d64);
        free(c64);
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    }
    int narrow = 1;
    for (int i = 0; i < ns + nr; i++) {
        int send = i < ns;
        uint32_t k = (uint32_t)(send ? i : i - ns);
        if (in_place && send) { d64[i] = c64[i] = 0; continue; }
        d64[i] = load_i32((uint32_t)a[send ? 2 : 6].i32 + 4 * k);
        w->displs[i] = (MPI_Aint)d64[i];
        uint32_t cp = (uint32_t)a[send ? 1 : 5].i32;
        c64[i] = large ? load_i64(cp + 8 * k) : load_i32(cp + 4 * k);
        narrow &= c64[i] == (int)c64[i];
    }
    int64_t lo = 0, hi = 0;
    int rc = in_place ? 0 : w_side((uint32_t)a[0].i32, (const int32_t *)GPTR(a[3].i32), c64, d64,
                                   ns, w->types, &lo, &hi);
    if (rc == 0)
        rc = w_side((uint32_t)a[4].i32, (const int32_t *)GPTR(a[7].i32), c64 + ns, d64 + ns, nr,
                    w->types + ns, &lo, &hi);
    if (rc == 0 && large && !use_c) {
        if (!narrow)
            rc = -2;
        else if (!(w->counts = malloc(sizeof(int) * n1)))
            rc = ABI_ERR_NO_MEM;
        else
            for (int i = 0; i < ns + nr; i++)
                w->counts[i] = (int)c64[i];
    }
    free(d64);
    free(c64);
    if (rc != 0) {
        w_state_free(w, 0);
        if (rc == -2)
            return host4_missing(a, w_c[neighbor][mode], errslot, FN);
        if (rc < 0)
            return range_trap(FN, "buffer", lo, hi);
        return fail(a, rc, errslot, FN);
    }
    const void *sbuf = in_place ? MPI_IN_PLACE : GPTR(a[0].i32);
    void *rbuf = GPTR(a[4].i32);
    /* int counts: the guest's, or narrowed; MPI_Counts: the guest's */
    const int *scounts = in_place ? NULL : w->counts ? w->counts : (const int *)GPTR(a[1].i32);
    const int *rcounts = w->counts ? w->counts + ns : (const int *)GPTR(a[5].i32);
    const MPI_Count *scc = in_place ? NULL : (const MPI_Count *)GPTR(a[1].i32);
    const MPI_Count *rcc = (const MPI_Count *)GPTR(a[5].i32);
    /* int displacements for alltoallw: the guest's (an MPI_Aint is 32-bit there too) */
    const int *sd = in_place ? NULL : (const int *)GPTR(a[2].i32);
    const int *rd = (const int *)GPTR(a[6].i32);
    MPI_Datatype *st = in_place ? NULL : w->types, *rt = w->types + ns;
    MPI_Aint *sa = w->displs, *ra = w->displs + ns;
    if (!neighbor && !c->rsize && c->size == 1 && !in_place) {
        /* Open MPI's coll/self (5.0) scales alltoallw's byte displacements by the extent and
         * so writes outside the range checked above: fold them into the buffer addresses */
        static const int zero_displ[1] = {0};
        sbuf = (const char *)sbuf + sd[0];
        rbuf = (char *)rbuf + rd[0];
        sd = rd = zero_displ;
        sa[0] = ra[0] = 0;
    }
    MPI_Request r = MPI_REQUEST_NULL;
    if (use_c && neighbor) {
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Neighbor_alltoallw_init_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm,
                                                      info_, &r);
        else if (mode == NONBLOCKING)
            rc = HOST4(MPI_Ineighbor_alltoallw_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm, &r);
        else
            rc = HOST4(MPI_Neighbor_alltoallw_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm);
    } else if (use_c) {
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Alltoallw_init_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm, info_,
                                             &r);
        else if (mode == NONBLOCKING)
            rc = HOST4(MPI_Ialltoallw_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm, &r);
        else
            rc = HOST4(MPI_Alltoallw_c)(sbuf, scc, sa, st, rbuf, rcc, ra, rt, comm);
    } else if (neighbor) {
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Neighbor_alltoallw_init)(sbuf, scounts, sa, st, rbuf, rcounts, ra, rt,
                                                    comm, info_, &r);
        else if (mode == NONBLOCKING)
            rc = MPI_Ineighbor_alltoallw(sbuf, scounts, sa, st, rbuf, rcounts, ra, rt, comm, &r);
        else
            rc = MPI_Neighbor_alltoallw(sbuf, scounts, sa, st, rbuf, rcounts, ra, rt, comm);
    } else {
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Alltoallw_init)(sbuf, scounts, sd, st, rbuf, rcounts, rd, rt, comm,
                                           info_, &r);
        else if (mode == NONBLOCKING)
            rc = MPI_Ialltoallw(sbuf, scounts, sd, st, rbuf, rcounts, rd, rt, comm, &r);
        else
            rc = MPI_Alltoallw(sbuf, scounts, sd, st, rbuf, rcounts, rd, rt, comm);
    }
    if (mode != BLOCKING && rc == MPI_SUCCESS) {
        int32_t g = new_request(r, errslot);
        slot_t *s = lookup(K_REQUEST, g);
        if (s && !s->predefined) {
            s->on_complete = w_state_free;
            s->state = w;
            w = NULL;
        }
        store_i32((uint32_t)rp, g);
    }
    if (w)
        w_state_free(w, rc == MPI_SUCCESS);
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Alltoallw) { return alltoallw(a, 0, BLOCKING, 0, "MPI_Alltoallw"); }
CALLBACK(MPI_Ialltoallw) { return alltoallw(a, 0, NONBLOCKING, 0, "MPI_Ialltoallw"); }
CALLBACK(MPI_Alltoallw_init) { return alltoallw(a, 0, PERSISTENT, 0, "MPI_Alltoallw_init"); }
CALLBACK(MPI_Alltoallw_c) { return alltoallw(a, 0, BLOCKING, 1, "MPI_Alltoallw_c"); }
CALLBACK(MPI_Ialltoallw_c) { return alltoallw(a, 0, NONBLOCKING, 1, "MPI_Ialltoallw_c"); }
CALLBACK(MPI_Alltoallw_init_c) { return alltoallw(a, 0, PERSISTENT, 1, "MPI_Alltoallw_init_c"); }
CALLBACK(MPI_Neighbor_alltoallw) { return alltoallw(a, 1, BLOCKING, 0, "MPI_Neighbor_alltoallw"); }
CALLBACK(MPI_Ineighbor_alltoallw)
{
    return alltoallw(a, 1, NONBLOCKING, 0, "MPI_Ineighbor_alltoallw");
}
CALLBACK(MPI_Neighbor_alltoallw_init)
{
    return alltoallw(a, 1, PERSISTENT, 0, "MPI_Neighbor_alltoallw_init");
}
CALLBACK(MPI_Neighbor_alltoallw_c)
{
    return alltoallw(a, 1, BLOCKING, 1, "MPI_Neighbor_alltoallw_c");
}
CALLBACK(MPI_Ineighbor_alltoallw_c)
{
    return alltoallw(a, 1, NONBLOCKING, 1, "MPI_Ineighbor_alltoallw_c");
}
CALLBACK(MPI_Neighbor_alltoallw_init_c)
{
    return alltoallw(a, 1, PERSISTENT, 1, "MPI_Neighbor_alltoallw_init_c");
}
