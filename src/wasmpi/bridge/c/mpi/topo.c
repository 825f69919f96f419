/* Topology special cases. MPICH writes every dimension (MPI_Cart_get) and every neighbour
 * (MPI_Graph_neighbors) whatever maxdims or maxneighbors say, so the host writes into bridge
 * memory and the guest gets at most what its arrays hold; Open MPI reads past its dimensions
 * for an MPI_Cart_shift direction out of range, so the bridge checks it; Open MPI's
 * MPI_Cart_map and MPI_Graph_map place processes that are not in the grid. */
#include "bridge.h"

static int min_int(int x, int y) { return x < y ? x : y; }

CALLBACK(MPI_Cart_get)
{
#define FN "MPI_Cart_get"
    COMM_ARG(comm, 0);
    int max = a[1].i32;
    if (max < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[2].i32, max, 4, "dims array");
    CHECK_ARRAY(a[3].i32, max, 4, "periods array");
    CHECK_ARRAY(a[4].i32, max, 4, "coords array");
    int topo = MPI_UNDEFINED;
    MPI_Topo_test(comm, &topo);
    if (topo != MPI_CART) /* MPICH 5.0 segfaults on a communicator without a topology */
        return fail(a, ABI_ERR_TOPOLOGY, errslot, FN);
    int n = cart_ndims(comm);
    SCRATCH_FRAME;
    SCRATCH(v, int, 3 * n);
    int rc = MPI_Cart_get(comm, n, v, v + n, v + 2 * n);
    if (rc == MPI_SUCCESS)
        for (int k = 0; k < 3; k++)
            memcpy(GPTR(a[2 + k].i32), v + k * n, sizeof(int) * (size_t)min_int(n, max));
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Graph_neighbors)
{
#define FN "MPI_Graph_neighbors"
    COMM_ARG(comm, 0);
    int rank = in_rank(a[1].i32), max = a[2].i32;
    if (max < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[3].i32, max, 4, "neighbors array");
    int n = 0, rc = MPI_Graph_neighbors_count(comm, rank, &n);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    SCRATCH_FRAME;
    SCRATCH(v, int, n);
    rc = MPI_Graph_neighbors(comm, rank, n, v);
    if (rc == MPI_SUCCESS)
        memcpy(GPTR(a[3].i32), v, sizeof(int) * (size_t)min_int(n, max));
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Cart_shift)
{
#define FN "MPI_Cart_shift"
    COMM_ARG(comm, 0);
    int direction = a[1].i32, disp = a[2].i32;
    CHECK_OUT(a[3].i32, 4);
    CHECK_OUT(a[4].i32, 4);
    int topo = MPI_UNDEFINED;
    if (MPI_Topo_test(comm, &topo) == MPI_SUCCESS && topo == MPI_CART
        && (direction < 0 || direction >= cart_ndims(comm)))
        return fail(a, ABI_ERR_ARG, errslot, FN);
    int src = 0, dst = 0;
    int rc = MPI_Cart_shift(comm, direction, disp, &src, &dst);
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[3].i32, out_rank(src));
        store_i32((uint32_t)a[4].i32, out_rank(dst));
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* Open MPI (5.0) maps every process, also those past the grid's nodes, onto its own rank; the
 * standard gives them MPI_UNDEFINED. */
static int32_t mapped(int r, int64_t nodes)
{
    return out_rank(r != MPI_UNDEFINED && r >= nodes ? MPI_UNDEFINED : r);
}

CALLBACK(MPI_Cart_map)
{
#define FN "MPI_Cart_map"
    COMM_ARG(comm, 0);
    if (COMM_SLOT(comm)->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    int ndims = a[1].i32;
    CHECK_ARRAY(a[2].i32, ndims, 4, "dims array");
    CHECK_ARRAY(a[3].i32, ndims, 4, "periods array");
    CHECK_OUT(a[4].i32, 4);
    const int *dims = (const int *)GPTR(a[2].i32);
    int r = MPI_UNDEFINED;
    int rc = MPI_Cart_map(comm, ndims, dims, (const int *)GPTR(a[3].i32), &r);
    if (rc == MPI_SUCCESS) {
        int64_t nodes = 1;
        for (int i = 0; i < ndims && nodes <= INT32_MAX; i++)
            nodes *= dims[i];
        store_i32((uint32_t)a[4].i32, mapped(r, nodes));
    }
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Graph_map)
{
#define FN "MPI_Graph_map"
    COMM_ARG(comm, 0);
    if (COMM_SLOT(comm)->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    int nnodes = a[1].i32;
    CHECK_ARRAY(a[2].i32, nnodes, 4, "indx array");
    int64_t nedges = ints_last((uint32_t)a[2].i32, nnodes);
    if (nedges < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    CHECK_ARRAY(a[3].i32, nedges, 4, "edges array");
    CHECK_OUT(a[4].i32, 4);
    int r = MPI_UNDEFINED;
    int rc = MPI_Graph_map(comm, nnodes, (const int *)GPTR(a[2].i32),
                           (const int *)GPTR(a[3].i32), &r);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[4].i32, mapped(r, nnodes));
    return done(a, rc, errslot, FN);
#undef FN
}
