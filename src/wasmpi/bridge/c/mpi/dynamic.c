/* Process management without spawn: ports, names and MPI_Comm_join. Port names are the host
 * MPI's; the bridge refuses one the host cannot have made before any rank waits on it (see
 * docs/dynamic.md). MPI_Comm_join is a documented error (the table): its socket would be a
 * WASI descriptor, which is no host file descriptor. */
#include "bridge.h"

/* Whether `port` has the form of the host MPI's port names. Open MPI's MPI_Comm_connect waits
 * forever on a malformed one and MPICH returns MPI_ERR_OTHER, where the standard says
 * MPI_ERR_PORT. */
static int port_ok(const char *port)
{
#if defined(OPEN_MPI)
    unsigned job, vpid, tag; /* "jobid.vpid:tag" (ompi_dpm_open_port) */
    int end = 0;
    return sscanf(port, "%u.%u:%u%n", &job, &vpid, &tag, &end) == 3 && port[end] == 0
           && port[0] >= '0' && port[0] <= '9';
#elif defined(MPICH_VERSION)
    return strstr(port, "tag#") != NULL && strchr(port, '$') != NULL; /* "tag#N$...$" */
#else
    (void)port;
    return 1;
#endif
}

static wasm_trap_t *accept_connect(wasmtime_val_raw_t *a, int connect, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 3);
    const slot_t *cs = COMM_SLOT(comm);
    if (cs->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    HANDLE_ARG(K_INFO, info, info, si, 1);
    int root = a[2].i32;
    if (root < 0 || root >= cs->size)
        return fail(a, ABI_ERR_ROOT, errslot, FN);
    CHECK_OUT(a[4].i32, 4);
    const char *port = "";
    int good = 1;
    if (cs->rank == root) { /* significant at the root only */
        CHECK_STR(port, a[0].i32);
        good = port_ok(port);
    }
    /* every rank learns the root's verdict: a root that returned alone would leave the
     * others waiting in the host call for ever */
    int rc = MPI_Bcast(&good, 1, MPI_INT, root, comm);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (!good)
        return fail(a, ABI_ERR_PORT, errslot, FN);
    MPI_Comm nc;
    rc = connect ? MPI_Comm_connect(port, info, root, comm, &nc)
                 : MPI_Comm_accept(port, info, root, comm, &nc);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[4].i32, new_comm(nc, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Comm_accept) { return accept_connect(a, 0, "MPI_Comm_accept"); }
CALLBACK(MPI_Comm_connect) { return accept_connect(a, 1, "MPI_Comm_connect"); }

CALLBACK(MPI_Close_port)
{
#define FN "MPI_Close_port"
    ERRSLOT;
    const char *port;
    CHECK_STR(port, a[0].i32);
    if (!port_ok(port))
        return fail(a, ABI_ERR_PORT, errslot, FN);
    return done(a, MPI_Close_port(port), errslot, FN);
#undef FN
}

/* Unpublishing a name that is not published is MPI_ERR_SERVICE (MPI-3.1 10.4.4); Open MPI
 * returns success, so the bridge looks the name up first. */
CALLBACK(MPI_Unpublish_name)
{
#define FN "MPI_Unpublish_name"
    ERRSLOT;
    const char *service, *port;
    CHECK_STR(service, a[0].i32);
    HANDLE_ARG(K_INFO, info, info, si, 1);
    CHECK_STR(port, a[2].i32);
    char found[MPI_MAX_PORT_NAME + 1];
    if (MPI_Lookup_name(service, info, found) != MPI_SUCCESS)
        return fail(a, ABI_ERR_SERVICE, errslot, FN);
    return done(a, MPI_Unpublish_name(service, info, port), errslot, FN);
#undef FN
}
