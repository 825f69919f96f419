/* Communicator special cases: intercommunicator-only queries (some host MPIs assert on an
 * intracommunicator instead of returning MPI_ERR_COMM). */
#include "bridge.h"

CALLBACK(MPI_Comm_remote_size)
{
#define FN "MPI_Comm_remote_size"
    COMM_ARG(comm, 0);
    CHECK_OUT(a[1].i32, 4);
    if (!COMM_SLOT(comm)->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    int n = 0;
    int rc = MPI_Comm_remote_size(comm, &n);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[1].i32, n);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Comm_remote_group)
{
#define FN "MPI_Comm_remote_group"
    COMM_ARG(comm, 0);
    CHECK_OUT(a[1].i32, 4);
    if (!COMM_SLOT(comm)->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    MPI_Group g;
    int rc = MPI_Comm_remote_group(comm, &g);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[1].i32, new_handle(K_GROUP, (host_h){.group = g}));
    return done(a, rc, errslot, FN);
#undef FN
}
