/* Process topologies and neighborhood collectives, on every communicator of the conformance
 * harness: Cartesian (coordinates, ranks, shifts with MPI_PROC_NULL at the edges, sub-grids,
 * map), graph (get, neighbours, map), distributed graph (weighted, MPI_UNWEIGHTED,
 * MPI_WEIGHTS_EMPTY, the general constructor), Dims_create, Topo_test, and every blocking and
 * nonblocking neighborhood collective on periodic and non-periodic grids and on distributed
 * graphs, with values that identify sender and block. On an intercommunicator: the errors. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

static int count_true(int x, MPI_Comm comm)
{
    int n = 0;
    MPI_Allreduce(&x, &n, 1, MPI_INT, MPI_SUM, comm);
    return n;
}

#define CANARY (-1)
#define MAXN 8

/* ---- neighborhood collectives ------------------------------------------------------------- */

/* A topology's neighbours in the order of the neighborhood collectives; MPI_PROC_NULL for a
 * missing Cartesian neighbour. out_of[s*(MAXN+1)] is process s's out-degree, then its
 * out-neighbours: a received block is correct when it came from the in-neighbour of its slot
 * and was sent from a slot of that sender that points here. */
typedef struct {
    int indeg, outdeg, src[MAXN], dst[MAXN];
    int *out_of;
} nbrs;

static int get_nbrs(MPI_Comm t, nbrs *x)
{
    int topo = MPI_UNDEFINED, size;
    MPI_Topo_test(t, &topo);
    MPI_Comm_size(t, &size);
    if (topo == MPI_CART) {
        int nd = 0;
        MPI_Cartdim_get(t, &nd);
        for (int i = 0; i < nd; i++)
            MPI_Cart_shift(t, i, 1, &x->src[2 * i], &x->src[2 * i + 1]);
        x->indeg = x->outdeg = 2 * nd;
        memcpy(x->dst, x->src, sizeof x->src);
    } else {
        int weighted, w[MAXN];
        MPI_Dist_graph_neighbors_count(t, &x->indeg, &x->outdeg, &weighted);
        if (x->indeg > MAXN || x->outdeg > MAXN)
            return 1;
        MPI_Dist_graph_neighbors(t, x->indeg, x->src, w, x->outdeg, x->dst, w);
    }
    int mine[MAXN + 1];
    mine[0] = x->outdeg;
    memcpy(mine + 1, x->dst, sizeof(int) * MAXN);
    x->out_of = malloc(sizeof(int) * (MAXN + 1) * (size_t)size);
    MPI_Allgather(mine, MAXN + 1, MPI_INT, x->out_of, MAXN + 1, MPI_INT, t);
    return 0;
}

/* the value of element e of the block that process s sends from its out-slot j */
static int val(int s, int j, int e) { return s * 1000 + j * 100 + e; }

/* Check a received block (n ints at p with a stride) from in-slot k; an alltoall block's
 * sender slot is decoded and must be a slot of the sender that points here, used once. */
static void check_block(const nbrs *x, int me, int k, const int *p, int n, int stride,
                        int alltoall, int *used, const char *what)
{
    int s = x->src[k];
    if (s == MPI_PROC_NULL) {
        for (int e = 0; e < n; e++)
            EXPECT(p[e * stride] == CANARY, "%s: block %d from MPI_PROC_NULL written", what, k);
        return;
    }
    int j = alltoall ? (p[0] / 100) % 10 : 0;
    for (int e = 0; e < n; e++)
        EXPECT(p[e * stride] == val(s, j, e), "%s: block %d elt %d = %d, want %d", what, k, e,
               p[e * stride], val(s, j, e));
    if (alltoall) {
        const int *o = x->out_of + (MAXN + 1) * s;
        EXPECT(j < o[0] && o[1 + j] == me, "%s: block %d came from slot %d of %d", what, k, j,
               s);
        for (int q = 0; q < k; q++)
            EXPECT(used[q] != s * MAXN + j, "%s: blocks %d and %d are one message", what, q, k);
        used[k] = s * MAXN + j;
    }
}

static int cnt(int s) { return s % 2 + 1; } /* elements a process sends per block (v variants) */

static void neighbor_colls(MPI_Comm t, const char *name)
{
    nbrs x;
    int me;
    MPI_Comm_rank(t, &me);
    if (get_nbrs(t, &x)) {
        EXPECT(0, "%s: more than %d neighbours", name, MAXN);
        return;
    }
    int in = x.indeg, out = x.outdeg, used[MAXN];
    enum { B = 2, BIG = 4 * MAXN * 4 };
    int sbuf[BIG], rbuf[BIG], scount[MAXN], sdisp[MAXN], rcount[MAXN], rdisp[MAXN];
    MPI_Aint sdw[MAXN], rdw[MAXN];
    MPI_Datatype stypes[MAXN], rtypes[MAXN], vec;
    MPI_Type_vector(B, 1, 2, MPI_INT, &vec); /* a block received with a hole after each int */
    MPI_Type_commit(&vec);
    for (int nb = 0; nb < 2; nb++) {
        MPI_Request r = MPI_REQUEST_NULL;
        MPI_Request *rq = nb ? &r : NULL;
#define RUN_COLL(blocking, nonblocking) \
    do { \
        if (rq) { \
            EXPECT_OK(nonblocking); \
            EXPECT_OK(MPI_Wait(rq, MPI_STATUS_IGNORE)); \
        } else { \
            EXPECT_OK(blocking); \
        } \
    } while (0)
        const char *what = nb ? "Ineighbor" : "Neighbor";
        /* allgather: B ints from each in-neighbour */
        for (int e = 0; e < B; e++) sbuf[e] = val(me, 0, e);
        for (int i = 0; i < BIG; i++) rbuf[i] = CANARY;
        RUN_COLL(MPI_Neighbor_allgather(sbuf, B, MPI_INT, rbuf, B, MPI_INT, t),
                 MPI_Ineighbor_allgather(sbuf, B, MPI_INT, rbuf, B, MPI_INT, t, rq));
        for (int k = 0; k < in; k++) check_block(&x, me, k, rbuf + B * k, B, 1, 0, used, what);
        EXPECT(rbuf[B * in] == CANARY, "%s_allgather wrote past its blocks", what);
        /* allgatherv: cnt(sender) ints, blocks in reverse order with a gap after each */
        for (int e = 0; e < cnt(me); e++) sbuf[e] = val(me, 0, e);
        int pos = 0;
        for (int k = in - 1; k >= 0; k--) {
            rcount[k] = x.src[k] == MPI_PROC_NULL ? 1 : cnt(x.src[k]);
            rdisp[k] = pos;
            pos += rcount[k] + 1;
        }
        for (int i = 0; i < BIG; i++) rbuf[i] = CANARY;
        RUN_COLL(MPI_Neighbor_allgatherv(sbuf, cnt(me), MPI_INT, rbuf, rcount, rdisp, MPI_INT, t),
                 MPI_Ineighbor_allgatherv(sbuf, cnt(me), MPI_INT, rbuf, rcount, rdisp, MPI_INT, t,
                                          rq));
        for (int k = 0; k < in; k++) {
            check_block(&x, me, k, rbuf + rdisp[k], rcount[k], 1, 0, used, what);
            EXPECT(rbuf[rdisp[k] + rcount[k]] == CANARY, "%s_allgatherv gap %d", what, k);
        }
        /* alltoall: block j to out-neighbour j */
        for (int j = 0; j < out; j++)
            for (int e = 0; e < B; e++) sbuf[B * j + e] = val(me, j, e);
        for (int i = 0; i < BIG; i++) rbuf[i] = CANARY;
        RUN_COLL(MPI_Neighbor_alltoall(sbuf, B, MPI_INT, rbuf, B, MPI_INT, t),
                 MPI_Ineighbor_alltoall(sbuf, B, MPI_INT, rbuf, B, MPI_INT, t, rq));
        for (int k = 0; k < in; k++) check_block(&x, me, k, rbuf + B * k, B, 1, 1, used, what);
        /* alltoallv: cnt(me) ints to each, both sides in reverse order with gaps */
        pos = 0;
        for (int j = out - 1; j >= 0; j--) {
            scount[j] = cnt(me);
            sdisp[j] = pos;
            for (int e = 0; e < cnt(me); e++) sbuf[pos + e] = val(me, j, e);
            pos += cnt(me) + 1;
        }
        for (int i = 0; i < BIG; i++) rbuf[i] = CANARY;
        RUN_COLL(MPI_Neighbor_alltoallv(sbuf, scount, sdisp, MPI_INT, rbuf, rcount, rdisp,
                                        MPI_INT, t),
                 MPI_Ineighbor_alltoallv(sbuf, scount, sdisp, MPI_INT, rbuf, rcount, rdisp,
                                         MPI_INT, t, rq));
        for (int k = 0; k < in; k++)
            check_block(&x, me, k, rbuf + rdisp[k], rcount[k], 1, 1, used, what);
        /* alltoallw: B ints sent, received as one strided vector; byte displacements */
        for (int j = 0; j < out; j++) {
            scount[j] = B;
            stypes[j] = MPI_INT;
            sdw[j] = (MPI_Aint)(sizeof(int) * (size_t)(B + 1) * (size_t)(out - 1 - j));
            for (int e = 0; e < B; e++) sbuf[(B + 1) * (out - 1 - j) + e] = val(me, j, e);
        }
        for (int k = 0; k < in; k++) {
            rcount[k] = 1;
            rtypes[k] = vec;
            rdw[k] = (MPI_Aint)(sizeof(int) * 2 * B * (size_t)(in - 1 - k));
        }
        for (int i = 0; i < BIG; i++) rbuf[i] = CANARY;
        RUN_COLL(MPI_Neighbor_alltoallw(sbuf, scount, sdw, stypes, rbuf, rcount, rdw, rtypes, t),
                 MPI_Ineighbor_alltoallw(sbuf, scount, sdw, stypes, rbuf, rcount, rdw, rtypes, t,
                                         rq));
        for (int k = 0; k < in; k++) {
            int *p = rbuf + 2 * B * (in - 1 - k);
            check_block(&x, me, k, p, B, 2, 1, used, what);
            EXPECT(p[1] == CANARY && p[3] == CANARY, "%s_alltoallw wrote a hole", what);
        }
#undef RUN_COLL
    }
    MPI_Type_free(&vec);
    free(x.out_of);
}

/* ---- cases ---------------------------------------------------------------------------------- */

static void dims_create(MPI_Comm comm)
{
    (void)comm;
    int d2[2] = {0, 0}, d3[3] = {0, 3, 0}, d1[2] = {0, 0}, dd[3] = {0, 0, 0}, bad[2] = {0, 3};
    EXPECT_OK(MPI_Dims_create(6, 2, d2));
    EXPECT(d2[0] == 3 && d2[1] == 2, "Dims_create(6, 2) = %d %d", d2[0], d2[1]);
    EXPECT_OK(MPI_Dims_create(12, 3, d3));
    EXPECT(d3[0] == 2 && d3[1] == 3 && d3[2] == 2, "Dims_create(12, {0 3 0}) = %d %d %d", d3[0],
           d3[1], d3[2]);
    EXPECT_OK(MPI_Dims_create(7, 2, d1));
    EXPECT(d1[0] == 7 && d1[1] == 1, "Dims_create(7, 2) = %d %d", d1[0], d1[1]);
    EXPECT_OK(MPI_Dims_create(1, 3, dd));
    EXPECT(dd[0] == 1 && dd[1] == 1 && dd[2] == 1, "Dims_create(1, 3) = %d %d %d", dd[0], dd[1],
           dd[2]);
    /* 13 nodes cannot fill a fixed dimension of 3 */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    int cls = err_class(MPI_Dims_create(13, 2, bad));
    EXPECT(cls == MPI_ERR_DIMS, "Dims_create(13, {0 3}): class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

/* On an intercommunicator every topology constructor and neighborhood collective fails with
 * MPI_ERR_COMM (MPICH asserts on a neighborhood collective natively). */
static void inter_errors(MPI_Comm comm)
{
    MPI_Comm c = returning(comm), n = MPI_COMM_NULL;
    int one = 1, zero = 0, x = 0, y = 0, cls;
    cls = err_class(MPI_Cart_create(c, 1, &one, &zero, 0, &n));
    EXPECT(cls == MPI_ERR_COMM, "Cart_create: class %d", cls);
    cls = err_class(MPI_Graph_create(c, 1, &zero, &zero, 0, &n));
    EXPECT(cls == MPI_ERR_COMM, "Graph_create: class %d", cls);
    cls = err_class(MPI_Dist_graph_create_adjacent(c, 0, &x, MPI_UNWEIGHTED, 0, &x,
                                                   MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &n));
    EXPECT(cls == MPI_ERR_COMM, "Dist_graph_create_adjacent: class %d", cls);
    cls = err_class(MPI_Cart_map(c, 1, &one, &zero, &x));
    EXPECT(cls == MPI_ERR_COMM, "Cart_map: class %d", cls);
    cls = err_class(MPI_Neighbor_allgather(&x, 1, MPI_INT, &y, 1, MPI_INT, c));
    EXPECT(cls == MPI_ERR_COMM, "Neighbor_allgather: class %d", cls);
    MPI_Aint d = 0;
    MPI_Datatype t = MPI_INT;
    cls = err_class(MPI_Neighbor_alltoallw(&x, &one, &d, &t, &y, &one, &d, &t, c));
    EXPECT(cls == MPI_ERR_COMM, "Neighbor_alltoallw: class %d", cls);
    EXPECT(n == MPI_COMM_NULL, "a failed constructor set the handle");
    EXPECT_OK(MPI_Comm_free(&c));
}

static void no_topology(MPI_Comm comm)
{
    int t = -1;
    EXPECT_OK(MPI_Topo_test(comm, &t));
    EXPECT(t == MPI_UNDEFINED, "Topo_test = %d", t);
    if (cf_is_inter(comm)) {
        inter_errors(comm);
        return;
    }
    /* a neighborhood collective needs a topology: MPI_ERR_TOPOLOGY on both libraries */
    MPI_Comm c = returning(comm);
    int x = 1, y = 0, nd = -1;
    int cls = err_class(MPI_Neighbor_allgather(&x, 1, MPI_INT, &y, 1, MPI_INT, c));
    EXPECT(cls == MPI_ERR_TOPOLOGY, "Neighbor_allgather without a topology: class %d", cls);
    cls = err_class(MPI_Cartdim_get(c, &nd));
    EXPECT(cls == MPI_ERR_TOPOLOGY, "Cartdim_get without a topology: class %d", cls);
    EXPECT_OK(MPI_Comm_free(&c));
}

static void cart(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("Cartesian topologies need an intracommunicator");
    int rank, size, t = -1, nd = -1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int dims[2] = {0, 0}, periods[2] = {1, 0};
    EXPECT_OK(MPI_Dims_create(size, 2, dims));
    EXPECT(dims[0] * dims[1] == size && dims[0] >= dims[1], "dims %d %d", dims[0], dims[1]);
    MPI_Comm c;
    EXPECT_OK(MPI_Cart_create(comm, 2, dims, periods, 0, &c));
    EXPECT_OK(MPI_Topo_test(c, &t));
    EXPECT(t == MPI_CART, "Topo_test = %d", t);
    EXPECT_OK(MPI_Cartdim_get(c, &nd));
    EXPECT(nd == 2, "Cartdim_get = %d", nd);
    int d[3] = {CANARY, CANARY, CANARY}, p[3] = {CANARY, CANARY, CANARY};
    int co[3] = {CANARY, CANARY, CANARY};
    int c0 = rank / dims[1], c1 = rank % dims[1]; /* row-major, no reordering */
    EXPECT_OK(MPI_Cart_get(c, 2, d, p, co));
    EXPECT(d[0] == dims[0] && d[1] == dims[1] && p[0] == 1 && p[1] == 0 && co[0] == c0
           && co[1] == c1 && d[2] == CANARY, "Cart_get dims %d %d periods %d %d coords %d %d",
           d[0], d[1], p[0], p[1], co[0], co[1]);
    /* maxdims 1: one entry each, the rest untouched (MPICH writes all natively) */
    d[1] = p[1] = co[1] = CANARY;
    EXPECT_OK(MPI_Cart_get(c, 1, d, p, co));
    EXPECT(d[0] == dims[0] && d[1] == CANARY && p[1] == CANARY && co[1] == CANARY,
           "Cart_get(maxdims 1) wrote %d %d %d", d[1], p[1], co[1]);
    for (int q = 0; q < size; q++) {
        int cc[2] = {CANARY, CANARY}, r = -1;
        EXPECT_OK(MPI_Cart_coords(c, q, 2, cc));
        EXPECT(cc[0] == q / dims[1] && cc[1] == q % dims[1], "coords of %d: %d %d", q, cc[0],
               cc[1]);
        EXPECT_OK(MPI_Cart_rank(c, cc, &r));
        EXPECT(r == q, "Cart_rank(%d %d) = %d", cc[0], cc[1], r);
    }
    /* the periodic dimension wraps, the other does not */
    int wrap[2] = {-1, c1}, r = -1;
    EXPECT_OK(MPI_Cart_rank(c, wrap, &r));
    EXPECT(r == (dims[0] - 1) * dims[1] + c1, "Cart_rank(-1, %d) = %d", c1, r);
    MPI_Comm e = returning(c);
    int off[2] = {c0, dims[1]}, cls = err_class(MPI_Cart_rank(e, off, &r));
    EXPECT(cls == MPI_ERR_ARG, "Cart_rank off the non-periodic edge: class %d", cls);
    int src = -5, dst = -5;
    EXPECT_OK(MPI_Cart_shift(c, 0, 1, &src, &dst));
    EXPECT(src == ((c0 + dims[0] - 1) % dims[0]) * dims[1] + c1
           && dst == ((c0 + 1) % dims[0]) * dims[1] + c1, "shift(0, 1) = %d %d", src, dst);
    EXPECT_OK(MPI_Cart_shift(c, 1, 1, &src, &dst));
    EXPECT(src == (c1 == 0 ? MPI_PROC_NULL : rank - 1)
           && dst == (c1 == dims[1] - 1 ? MPI_PROC_NULL : rank + 1), "shift(1, 1) = %d %d", src,
           dst);
    EXPECT_OK(MPI_Cart_shift(c, 1, -1, &src, &dst));
    EXPECT(dst == (c1 == 0 ? MPI_PROC_NULL : rank - 1)
           && src == (c1 == dims[1] - 1 ? MPI_PROC_NULL : rank + 1), "shift(1, -1) = %d %d", src,
           dst);
    /* a direction past the dimensions (Open MPI reads past its arrays natively) */
    cls = err_class(MPI_Cart_shift(e, 2, 1, &src, &dst));
    EXPECT(cls == MPI_ERR_ARG, "shift in direction 2: class %d", cls);
    EXPECT_OK(MPI_Comm_free(&e));
    /* sub-grids: my row and my column */
    int keep_row[2] = {0, 1}, keep_col[2] = {1, 0};
    MPI_Comm row, col;
    int n = -1;
    EXPECT_OK(MPI_Cart_sub(c, keep_row, &row));
    EXPECT_OK(MPI_Comm_size(row, &n));
    EXPECT_OK(MPI_Comm_rank(row, &r));
    EXPECT_OK(MPI_Cartdim_get(row, &nd));
    EXPECT(n == dims[1] && r == c1 && nd == 1, "row: size %d rank %d ndims %d", n, r, nd);
    EXPECT_OK(MPI_Cart_sub(c, keep_col, &col));
    EXPECT_OK(MPI_Comm_size(col, &n));
    EXPECT_OK(MPI_Comm_rank(col, &r));
    EXPECT_OK(MPI_Topo_test(col, &t));
    EXPECT(n == dims[0] && r == c0 && t == MPI_CART, "column: size %d rank %d", n, r);
    EXPECT_OK(MPI_Comm_free(&row));
    EXPECT_OK(MPI_Comm_free(&col));
    /* Cart_map: a permutation of the grid's ranks; one node takes one process */
    EXPECT_OK(MPI_Cart_map(comm, 2, dims, periods, &r));
    EXPECT(r >= 0 && r < size, "Cart_map = %d", r);
    int sum = -1;
    EXPECT_OK(MPI_Allreduce(&r, &sum, 1, MPI_INT, MPI_SUM, comm));
    EXPECT(sum == size * (size - 1) / 2, "Cart_map ranks sum to %d", sum);
    int one = 1, zero = 0;
    EXPECT_OK(MPI_Cart_map(comm, 1, &one, &zero, &r));
    EXPECT(r == 0 || r == MPI_UNDEFINED, "Cart_map onto one node = %d", r);
    EXPECT(count_true(r == 0, comm) == 1, "one process maps onto one node");
    /* a grid smaller than the communicator: the others get MPI_COMM_NULL */
    MPI_Comm small;
    int sdim = size > 1 ? size - 1 : 1;
    EXPECT_OK(MPI_Cart_create(comm, 1, &sdim, &zero, 0, &small));
    EXPECT((small == MPI_COMM_NULL) == (rank >= sdim), "rank %d of a %d-node grid", rank, sdim);
    if (small != MPI_COMM_NULL) EXPECT_OK(MPI_Comm_free(&small));
    /* three dimensions, one of them fixed */
    int d3[3] = {0, 1, 0}, p3[3] = {0, 0, 0};
    EXPECT_OK(MPI_Dims_create(size, 3, d3));
    EXPECT(d3[1] == 1 && d3[0] * d3[2] == size, "Dims_create(%d, {0 1 0}) = %d %d %d", size,
           d3[0], d3[1], d3[2]);
    EXPECT_OK(MPI_Cart_create(comm, 3, d3, p3, 1, &small));
    EXPECT_OK(MPI_Cartdim_get(small, &nd));
    EXPECT(nd == 3, "3-d Cartdim_get = %d", nd);
    EXPECT_OK(MPI_Comm_free(&small));
    EXPECT_OK(MPI_Comm_free(&c));
}

/* Neighborhood collectives on a periodic grid and on one with MPI_PROC_NULL neighbours. */
static void cart_neighbors(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("topologies need an intracommunicator");
    int size;
    MPI_Comm_size(comm, &size);
    int dims[2] = {0, 0}, periodic[2] = {1, 1}, open[2] = {1, 0};
    MPI_Dims_create(size, 2, dims);
    MPI_Comm c;
    EXPECT_OK(MPI_Cart_create(comm, 2, dims, periodic, 0, &c));
    neighbor_colls(c, "periodic");
    EXPECT_OK(MPI_Comm_free(&c));
    int ring = size;
    EXPECT_OK(MPI_Cart_create(comm, 1, &ring, &open[1], 0, &c));
    neighbor_colls(c, "open");
    EXPECT_OK(MPI_Comm_free(&c));
}

static void graph(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("graph topologies need an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    /* a ring: no edges on one node, one on two, both neighbours from three */
    int idx[8], edges[16], ne = 0;
    for (int i = 0; i < size; i++) {
        if (size == 2) edges[ne++] = 1 - i;
        if (size >= 3) {
            edges[ne++] = (i + size - 1) % size;
            edges[ne++] = (i + 1) % size;
        }
        idx[i] = ne;
    }
    MPI_Comm g;
    EXPECT_OK(MPI_Graph_create(comm, size, idx, edges, 0, &g));
    int t = -1, nn = -1, nedges = -1;
    EXPECT_OK(MPI_Topo_test(g, &t));
    EXPECT(t == MPI_GRAPH, "Topo_test = %d", t);
    EXPECT_OK(MPI_Graphdims_get(g, &nn, &nedges));
    EXPECT(nn == size && nedges == ne, "Graphdims_get = %d %d", nn, nedges);
    int idx2[8], edges2[16];
    EXPECT_OK(MPI_Graph_get(g, size, ne, idx2, edges2));
    for (int i = 0; i < size; i++) EXPECT(idx2[i] == idx[i], "index[%d] = %d", i, idx2[i]);
    for (int i = 0; i < ne; i++) EXPECT(edges2[i] == edges[i], "edges[%d] = %d", i, edges2[i]);
    for (int q = 0; q < size; q++) {
        int deg = idx[q] - (q ? idx[q - 1] : 0), n = -1, nb[4] = {CANARY, CANARY, CANARY};
        EXPECT_OK(MPI_Graph_neighbors_count(g, q, &n));
        EXPECT(n == deg, "degree of %d = %d", q, n);
        EXPECT_OK(MPI_Graph_neighbors(g, q, 4, nb));
        for (int i = 0; i < deg; i++)
            EXPECT(nb[i] == edges[idx[q] - deg + i], "neighbour %d of %d = %d", i, q, nb[i]);
        if (deg == 2) { /* maxneighbors 1: MPICH writes both natively */
            nb[1] = CANARY;
            EXPECT_OK(MPI_Graph_neighbors(g, q, 1, nb));
            EXPECT(nb[1] == CANARY, "Graph_neighbors(max 1) wrote %d", nb[1]);
        }
    }
    /* a neighborhood collective follows Graph_neighbors' order */
    int deg = idx[rank] - (rank ? idx[rank - 1] : 0), got[2] = {CANARY, CANARY};
    int mine = 100 + rank;
    EXPECT_OK(MPI_Neighbor_allgather(&mine, 1, MPI_INT, got, 1, MPI_INT, g));
    for (int i = 0; i < deg; i++)
        EXPECT(got[i] == 100 + edges[idx[rank] - deg + i], "from neighbour %d: %d", i, got[i]);
    EXPECT_OK(MPI_Comm_free(&g));
    /* Graph_map: a permutation; a one-node graph takes one process */
    int r = -1, sum = -1, zero = 0;
    EXPECT_OK(MPI_Graph_map(comm, size, idx, edges, &r));
    EXPECT(r >= 0 && r < size, "Graph_map = %d", r);
    EXPECT_OK(MPI_Allreduce(&r, &sum, 1, MPI_INT, MPI_SUM, comm));
    EXPECT(sum == size * (size - 1) / 2, "Graph_map ranks sum to %d", sum);
    EXPECT_OK(MPI_Graph_map(comm, 1, &zero, edges, &r));
    EXPECT(r == 0 || r == MPI_UNDEFINED, "Graph_map onto one node = %d", r);
    EXPECT(count_true(r == 0, comm) == 1, "one process maps onto one node");
    /* fewer nodes than processes: the others get MPI_COMM_NULL */
    if (size > 1) {
        int none[8] = {0};
        EXPECT_OK(MPI_Graph_create(comm, size - 1, none, edges, 0, &g));
        EXPECT((g == MPI_COMM_NULL) == (rank == size - 1), "rank %d of %d nodes", rank,
               size - 1);
        if (g != MPI_COMM_NULL) EXPECT_OK(MPI_Comm_free(&g));
    }
    /* a decreasing index is MPI_ERR_ARG, not a read past the edges */
    if (size >= 2) {
        MPI_Comm e = returning(comm);
        int bad[2] = {5, 1};
        int cls = err_class(MPI_Graph_create(e, 2, bad, edges, 0, &g));
        EXPECT(cls == MPI_ERR_ARG, "decreasing index: class %d", cls);
        EXPECT_OK(MPI_Comm_free(&e));
    }
}

/* r sends to r+1 and r+2, receives from r-1 and r-2 (one edge on one process) */
static int ring_degree(int size) { return size == 1 ? 1 : 2; }

static void dist_graph(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("graph topologies need an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int deg = ring_degree(size), src[2], dst[2], sw[2], dw[2];
    for (int j = 0; j < deg; j++) {
        dst[j] = (rank + j + 1) % size;
        src[j] = (rank - j - 1 + 2 * size) % size;
        sw[j] = 10 + j;
        dw[j] = 20 + j;
    }
    /* weighted, adjacent */
    MPI_Comm g;
    EXPECT_OK(MPI_Dist_graph_create_adjacent(comm, deg, src, sw, deg, dst, dw, MPI_INFO_NULL, 0,
                                             &g));
    int t = -1, in = -1, out = -1, weighted = -1;
    EXPECT_OK(MPI_Topo_test(g, &t));
    EXPECT(t == MPI_DIST_GRAPH, "Topo_test = %d", t);
    EXPECT_OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &weighted));
    EXPECT(in == deg && out == deg && weighted == 1, "counts %d %d %d", in, out, weighted);
    int s2[3], w2[3], d2[3], w3[3];
    for (int i = 0; i < 3; i++) s2[i] = w2[i] = d2[i] = w3[i] = CANARY;
    EXPECT_OK(MPI_Dist_graph_neighbors(g, deg, s2, w2, deg, d2, w3));
    for (int j = 0; j < deg; j++)
        EXPECT(s2[j] == src[j] && w2[j] == sw[j] && d2[j] == dst[j] && w3[j] == dw[j],
               "neighbour %d: %d(%d) %d(%d)", j, s2[j], w2[j], d2[j], w3[j]);
    EXPECT(s2[deg] == CANARY && w3[deg] == CANARY, "Dist_graph_neighbors wrote past");
    neighbor_colls(g, "weighted");
    EXPECT_OK(MPI_Comm_free(&g));
    /* unweighted, adjacent, with MPI_UNWEIGHTED in the query too */
    EXPECT_OK(MPI_Dist_graph_create_adjacent(comm, deg, src, MPI_UNWEIGHTED, deg, dst,
                                             MPI_UNWEIGHTED, MPI_INFO_NULL, 1, &g));
    EXPECT_OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &weighted));
    EXPECT(in == deg && out == deg && weighted == 0, "unweighted counts %d %d %d", in, out,
           weighted);
    /* reordering allowed: neighbour_colls takes the neighbours from the new communicator */
    EXPECT_OK(MPI_Dist_graph_neighbors(g, deg, s2, MPI_UNWEIGHTED, deg, d2, MPI_UNWEIGHTED));
    neighbor_colls(g, "unweighted");
    EXPECT_OK(MPI_Comm_free(&g));
    /* a chain with MPI_WEIGHTS_EMPTY at its ends: 0 receives nothing, size-1 sends nothing */
    int cin = rank > 0, cout = rank < size - 1, cs = rank - 1, cd = rank + 1, one = 1;
    EXPECT_OK(MPI_Dist_graph_create_adjacent(comm, cin, &cs, cin ? &one : MPI_WEIGHTS_EMPTY,
                                             cout, &cd, cout ? &one : MPI_WEIGHTS_EMPTY,
                                             MPI_INFO_NULL, 0, &g));
    EXPECT_OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &weighted));
    EXPECT(in == cin && out == cout && weighted == 1, "chain counts %d %d %d", in, out,
           weighted);
    neighbor_colls(g, "chain");
    EXPECT_OK(MPI_Comm_free(&g));
    /* the general constructor: each process names edges r -> r+1 (weight r+1), and rank 0
     * also names size-1 -> 0 (weight 7), a second edge between those two */
    int gsrc[2] = {rank, size - 1}, gdeg[2] = {1, 1}, gdst[2] = {(rank + 1) % size, 0};
    int gw[2] = {rank + 1, 7};
    EXPECT_OK(MPI_Dist_graph_create(comm, rank == 0 ? 2 : 1, gsrc, gdeg, gdst, gw,
                                    MPI_INFO_NULL, 0, &g));
    int win = 1 + (rank == 0), wout = 1 + (rank == size - 1);
    EXPECT_OK(MPI_Dist_graph_neighbors_count(g, &in, &out, &weighted));
    EXPECT(in == win && out == wout && weighted == 1, "general counts %d %d %d", in, out,
           weighted);
    if (in == win && out == wout) {
        EXPECT_OK(MPI_Dist_graph_neighbors(g, in, s2, w2, out, d2, w3));
        /* the order is the library's: compare as sets of (neighbour, weight) */
        int prev = (rank + size - 1) % size, hits = 0;
        for (int i = 0; i < in; i++)
            hits += (s2[i] == prev && w2[i] == prev + 1) + (rank == 0 && s2[i] == size - 1
                                                             && w2[i] == 7);
        EXPECT(hits == win, "sources %d(%d) %d(%d)", s2[0], w2[0], s2[1], w2[1]);
        hits = 0;
        for (int i = 0; i < out; i++)
            hits += (d2[i] == (rank + 1) % size && w3[i] == rank + 1)
                    + (rank == size - 1 && d2[i] == 0 && w3[i] == 7);
        EXPECT(hits == wout, "destinations %d(%d) %d(%d)", d2[0], w3[0], d2[1], w3[1]);
    }
    neighbor_colls(g, "general");
    EXPECT_OK(MPI_Comm_free(&g));
    /* a negative degree is MPI_ERR_ARG, not a read of a huge destination list */
    MPI_Comm e = returning(comm);
    int neg = -1;
    int cls = err_class(MPI_Dist_graph_create(e, 1, gsrc, &neg, gdst, MPI_UNWEIGHTED,
                                              MPI_INFO_NULL, 0, &g));
    EXPECT(cls == MPI_ERR_ARG, "negative degree: class %d", cls);
    /* a neighbour outside [0, size) is MPI_ERR_RANK (MPICH asserted on it); every rank makes
     * the same call, so none enters the collective */
    int me = rank, out_of_range[2] = {size, -1};
    for (int k = 0; k < 2; k++) {
        int bad = out_of_range[k];
        cls = err_class(MPI_Dist_graph_create(e, 1, &bad, &one, &me, MPI_UNWEIGHTED,
                                              MPI_INFO_NULL, 0, &g));
        EXPECT(cls == MPI_ERR_RANK, "Dist_graph_create source %d: class %d", bad, cls);
        cls = err_class(MPI_Dist_graph_create(e, 1, &me, &one, &bad, MPI_UNWEIGHTED,
                                              MPI_INFO_NULL, 0, &g));
        EXPECT(cls == MPI_ERR_RANK, "Dist_graph_create destination %d: class %d", bad, cls);
        cls = err_class(MPI_Dist_graph_create_adjacent(e, 1, &bad, MPI_UNWEIGHTED, 1, &me,
                                                       MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &g));
        EXPECT(cls == MPI_ERR_RANK, "Dist_graph_create_adjacent source %d: class %d", bad,
               cls);
        cls = err_class(MPI_Dist_graph_create_adjacent(e, 1, &me, MPI_UNWEIGHTED, 1, &bad,
                                                       MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &g));
        EXPECT(cls == MPI_ERR_RANK, "Dist_graph_create_adjacent destination %d: class %d",
               bad, cls);
    }
    /* a negative count is MPI_ERR_COUNT, not a trap on the array's range */
    cls = err_class(MPI_Dist_graph_create(e, -1, &me, &one, &me, MPI_UNWEIGHTED,
                                          MPI_INFO_NULL, 0, &g));
    EXPECT(cls == MPI_ERR_COUNT, "Dist_graph_create n = -1: class %d", cls);
    cls = err_class(MPI_Dist_graph_create_adjacent(e, -4, &me, MPI_UNWEIGHTED, 1, &me,
                                                   MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &g));
    EXPECT(cls == MPI_ERR_COUNT, "Dist_graph_create_adjacent indegree -4: class %d", cls);
    EXPECT_OK(MPI_Comm_free(&e));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    run_case(dims_create, "dims_create", MPI_COMM_SELF, "self");
    for_each_comm(no_topology, "no_topology");
    for_each_comm(cart, "cart");
    for_each_comm(cart_neighbors, "cart_neighbors");
    for_each_comm(graph, "graph");
    for_each_comm(dist_graph, "dist_graph");
    return finish();
}
