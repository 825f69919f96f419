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

static wasm_trap_t *reduce_scatter(wasmtime_val_raw_t *a, int mode, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    REQUEST_OUT(rp, 5, mode);
    GET_TYPE(dt, 3);
    GET_OP(op, 4, dt);
    slot_t *c = COMM_SLOT(comm);
    int np = c->size;
    INTS(counts, 2, np, "recvcounts array");
    int64_t total = 0;
    for (int i = 0; i < np; i++) {
        if (counts[i] < 0)
            return fail(a, ABI_ERR_COUNT, errslot, FN);
        total += counts[i];
    }
    int in_place = (uint32_t)a[0].i32 == ABI_IN_PLACE;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : (c->rank >= 0 && c->rank < np ? counts[c->rank] : 0),
        TYPE_SLOT(dt), 0);
    if (mode == BLOCKING)
        return done(a, MPI_Reduce_scatter(sbuf, rbuf, counts, dt, op, comm), errslot, FN);
    MPI_Request r;
    int rc;
    if (mode == PERSISTENT) {
        NEED_HOST4(MPI_Reduce_scatter_init);
        rc = HOST4(MPI_Reduce_scatter_init)(sbuf, rbuf, counts, dt, op, comm, info_, &r);
    } else {
        rc = MPI_Ireduce_scatter(sbuf, rbuf, counts, dt, op, comm, &r);
    }
    if (rc == MPI_SUCCESS)
        store_i32(rp, new_request(r, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Reduce_scatter) { return reduce_scatter(a, BLOCKING, "MPI_Reduce_scatter"); }
CALLBACK(MPI_Ireduce_scatter) { return reduce_scatter(a, NONBLOCKING, "MPI_Ireduce_scatter"); }
CALLBACK(MPI_Reduce_scatter_init)
{
    return reduce_scatter(a, PERSISTENT, "MPI_Reduce_scatter_init");
}

static wasm_trap_t *reduce_scatter_block(wasmtime_val_raw_t *a, int mode, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 5);
    REQUEST_OUT(rp, 5, mode);
    GET_TYPE(dt, 3);
    GET_OP(op, 4, dt);
    slot_t *c = COMM_SLOT(comm);
    int64_t total = (int64_t)a[2].i32 * c->size;
    int in_place = (uint32_t)a[0].i32 == ABI_IN_PLACE;
    BUF(sbuf, 0, total, TYPE_SLOT(dt), 1);
    BUF(rbuf, 1, in_place ? total : a[2].i32, TYPE_SLOT(dt), 0);
    if (mode == BLOCKING)
        return done(a, MPI_Reduce_scatter_block(sbuf, rbuf, a[2].i32, dt, op, comm), errslot,
                    FN);
    MPI_Request r;
    int rc;
    if (mode == PERSISTENT) {
        NEED_HOST4(MPI_Reduce_scatter_block_init);
        rc = HOST4(MPI_Reduce_scatter_block_init)(sbuf, rbuf, a[2].i32, dt, op, comm, info_,
                                                  &r);
    } else {
        rc = MPI_Ireduce_scatter_block(sbuf, rbuf, a[2].i32, dt, op, comm, &r);
    }
    if (rc == MPI_SUCCESS)
        store_i32(rp, new_request(r, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}
CALLBACK(MPI_Reduce_scatter_block)
{
    return reduce_scatter_block(a, BLOCKING, "MPI_Reduce_scatter_block");
}
CALLBACK(MPI_Ireduce_scatter_block)
{
    return reduce_scatter_block(a, NONBLOCKING, "MPI_Ireduce_scatter_block");
}
CALLBACK(MPI_Reduce_scatter_block_init)
{
    return reduce_scatter_block(a, PERSISTENT, "MPI_Reduce_scatter_block_init");
}

/* ---- alltoallw: per-peer datatypes, displacements in bytes ------------------------------------ */

typedef struct {
    MPI_Datatype *types; /* send types then receive types, host handles */
    MPI_Aint *displs;    /* neighbor_alltoallw: send then receive displacements, widened */
} w_state;

static void w_state_free(void *p, int ok)
{
    (void)ok;
    w_state *w = p;
    free(w->types);
    free(w->displs);
    free(w);
}

/* Check one side's buffer at guest address `base`: counts[i] elements of types_g[i] at byte
 * displacement displs[i]. Translates the types into `out`. Returns 0 when it is fine, else an
 * ABI error class, or -1 when the buffer leaves linear memory ([*lo, *hi) is then the guest
 * range it needs). */
static int w_side(uint32_t base, const int32_t *types_g, const int *counts,
                  const int64_t *displs, int n, MPI_Datatype *out, int64_t *lo, int64_t *hi)
{
    int any = 0;
    for (int i = 0; i < n; i++) {
        slot_t *t = lookup(K_DATATYPE, types_g[i]);
        if (!t)
            return ABI_ERR_TYPE;
        out[i] = t->h.datatype;
        if (counts[i] < 0)
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

/* alltoallw over `ns` send and `nr` receive peers; displacements are ints (alltoallw) or Aints
 * (neighbor_alltoallw), in bytes. Argument order is the standard's for both. */
static wasm_trap_t *alltoallw(wasmtime_val_raw_t *a, int neighbor, int mode, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 8);
    REQUEST_OUT(rp, 8, mode);
    if (mode == PERSISTENT && neighbor) {
        NEED_HOST4(MPI_Neighbor_alltoallw_init);
    } else if (mode == PERSISTENT) {
        NEED_HOST4(MPI_Alltoallw_init);
    }
    slot_t *c = COMM_SLOT(comm);
    if (neighbor && c->rsize) /* MPICH asserts on an intercommunicator */
        return fail(a, ABI_ERR_COMM, errslot, FN);
    if (neighbor && !has_topology(comm))
        return fail(a, ABI_ERR_TOPOLOGY, errslot, FN);
    int ns = neighbor ? nbr_degree(comm, 1) : peers(c);
    int nr = neighbor ? nbr_degree(comm, 0) : peers(c);
    int in_place = !neighbor && (uint32_t)a[0].i32 == ABI_IN_PLACE;
    if (!in_place) {
        CHECK_ARRAY(a[1].i32, ns, 4, "sendcounts array");
        CHECK_ARRAY(a[2].i32, ns, 4, "sdispls array");
        CHECK_ARRAY(a[3].i32, ns, 4, "sendtypes array");
    }
    CHECK_ARRAY(a[5].i32, nr, 4, "recvcounts array");
    CHECK_ARRAY(a[6].i32, nr, 4, "rdispls array");
    CHECK_ARRAY(a[7].i32, nr, 4, "recvtypes array");
    w_state *w = calloc(1, sizeof *w);
    if (w) {
        w->types = malloc(sizeof(MPI_Datatype) * (size_t)(ns + nr + 1));
        w->displs = malloc(sizeof(MPI_Aint) * (size_t)(ns + nr + 1));
    }
    int64_t *d64 = malloc(sizeof(int64_t) * (size_t)(ns + nr + 1));
    if (!w || !w->types || !w->displs || !d64) {
        if (w) w_state_free(w, 0);
        free(d64);
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    }
    for (int i = 0; i < ns + nr; i++) {
        uint32_t base = i < ns ? (uint32_t)a[2].i32 : (uint32_t)a[6].i32;
        int k = i < ns ? i : i - ns;
        if (in_place && i < ns) { d64[i] = 0; continue; }
        d64[i] = load_i32(base + 4 * (uint32_t)k); /* Aint and int are both 32-bit here */
        w->displs[i] = (MPI_Aint)d64[i];
    }
    int64_t lo = 0, hi = 0;
    int rc = in_place ? 0 : w_side((uint32_t)a[0].i32, (const int32_t *)GPTR(a[3].i32),
                                   (const int *)GPTR(a[1].i32), d64, ns, w->types, &lo, &hi);
    if (rc == 0)
        rc = w_side((uint32_t)a[4].i32, (const int32_t *)GPTR(a[7].i32),
                    (const int *)GPTR(a[5].i32), d64 + ns, nr, w->types + ns, &lo, &hi);
    free(d64);
    if (rc != 0) {
        w_state_free(w, 0);
        if (rc < 0)
            return range_trap(FN, "buffer", lo, hi);
        return fail(a, rc, errslot, FN);
    }
    const void *sbuf = in_place ? MPI_IN_PLACE : GPTR(a[0].i32);
    void *rbuf = GPTR(a[4].i32);
    const int *scounts = in_place ? NULL : (const int *)GPTR(a[1].i32);
    const int *rcounts = (const int *)GPTR(a[5].i32);
    MPI_Request r = MPI_REQUEST_NULL;
    if (neighbor) {
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Neighbor_alltoallw_init)(sbuf, scounts, w->displs, w->types, rbuf,
                                                    rcounts, w->displs + ns, w->types + ns,
                                                    comm, info_, &r);
        else if (mode == NONBLOCKING)
            rc = MPI_Ineighbor_alltoallw(sbuf, scounts, w->displs, w->types, rbuf, rcounts,
                                         w->displs + ns, w->types + ns, comm, &r);
        else
            rc = MPI_Neighbor_alltoallw(sbuf, scounts, w->displs, w->types, rbuf, rcounts,
                                        w->displs + ns, w->types + ns, comm);
    } else {
        /* int displacements for alltoallw: reuse the guest arrays as they are */
        const int *sd = in_place ? NULL : (const int *)GPTR(a[2].i32);
        const int *rd = (const int *)GPTR(a[6].i32);
        if (!c->rsize && c->size == 1 && !in_place) {
            /* Open MPI's coll/self (5.0) scales alltoallw's byte displacements by the extent and
             * so writes outside the range checked above: fold them into the buffer addresses */
            static const int zero_displ[1] = {0};
            sbuf = (const char *)sbuf + sd[0];
            rbuf = (char *)rbuf + rd[0];
            sd = rd = zero_displ;
        }
        if (mode == PERSISTENT)
            rc = HOST4(MPI_Alltoallw_init)(sbuf, scounts, sd, in_place ? NULL : w->types, rbuf,
                                           rcounts, rd, w->types + ns, comm, info_, &r);
        else if (mode == NONBLOCKING)
            rc = MPI_Ialltoallw(sbuf, scounts, sd, in_place ? NULL : w->types, rbuf, rcounts,
                                rd, w->types + ns, comm, &r);
        else
            rc = MPI_Alltoallw(sbuf, scounts, sd, in_place ? NULL : w->types, rbuf, rcounts, rd,
                               w->types + ns, comm);
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
CALLBACK(MPI_Alltoallw) { return alltoallw(a, 0, BLOCKING, "MPI_Alltoallw"); }
CALLBACK(MPI_Ialltoallw) { return alltoallw(a, 0, NONBLOCKING, "MPI_Ialltoallw"); }
CALLBACK(MPI_Alltoallw_init) { return alltoallw(a, 0, PERSISTENT, "MPI_Alltoallw_init"); }
CALLBACK(MPI_Neighbor_alltoallw) { return alltoallw(a, 1, BLOCKING, "MPI_Neighbor_alltoallw"); }
CALLBACK(MPI_Ineighbor_alltoallw)
{
    return alltoallw(a, 1, NONBLOCKING, "MPI_Ineighbor_alltoallw");
}
CALLBACK(MPI_Neighbor_alltoallw_init)
{
    return alltoallw(a, 1, PERSISTENT, "MPI_Neighbor_alltoallw_init");
}
