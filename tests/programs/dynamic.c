/* Process management without spawn: the parent of a job not spawned, ports between the two
 * halves of a job with data over the resulting intercommunicator, published names, and the
 * documented errors (docs/dynamic.md). With the argument "maybe-noport" the host may be unable
 * to open ports (MPICH's UCX netmod): MPI_Open_port may then fail, with MPI_ERR_OTHER, and the
 * port cases are skipped; without it, ports must work. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "conformance.h"

static int no_port, ports_failed;

static void parent(MPI_Comm comm)
{
    (void)comm;
    MPI_Comm p = MPI_COMM_WORLD;
    EXPECT_OK(MPI_Comm_get_parent(&p));
    EXPECT(p == MPI_COMM_NULL, "get_parent of a job not spawned");
}

/* The case's communicator is split in two halves; the first half opens a port at its rank 0
 * and accepts, the second connects; the intercommunicator carries data both ways. */
static void accept_connect(MPI_Comm comm)
{
    if (cf_is_inter(comm))
        SKIP_CASE("accept and connect take an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size < 2)
        SKIP_CASE("needs two processes (on some ranks)");
    MPI_Comm c = returning(comm), half, inter = MPI_COMM_NULL;
    int first = rank < size / 2, hrank, hsize;
    MPI_Comm_split(c, first, rank, &half);
    MPI_Comm_rank(half, &hrank);
    MPI_Comm_size(half, &hsize);
    char port[MPI_MAX_PORT_NAME] = "";
    int rc = MPI_SUCCESS;
    if (rank == 0) { /* a call without a communicator reports on MPI_COMM_WORLD */
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        memset(port, 'x', sizeof port);
        rc = MPI_Open_port(MPI_INFO_NULL, port);
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, c);
    if (rc != MPI_SUCCESS) {
        EXPECT(no_port && err_class(rc) == MPI_ERR_OTHER, "Open_port: class %d", err_class(rc));
        ports_failed = 1;
        MPI_Comm_free(&half);
        MPI_Comm_free(&c);
        if (no_port)
            SKIP_CASE("the host MPI cannot open ports here (documented: MPI_ERR_OTHER)");
        return;
    }
    EXPECT(rank != 0 || memchr(port, 0, sizeof port) != NULL, "port name not terminated");
    MPI_Bcast(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, c);
    if (first)
        EXPECT_OK(MPI_Comm_accept(port, MPI_INFO_NULL, 0, half, &inter));
    else
        EXPECT_OK(MPI_Comm_connect(port, MPI_INFO_NULL, 0, half, &inter));
    int inter_flag = 0, rsize = 0;
    MPI_Comm_test_inter(inter, &inter_flag);
    MPI_Comm_remote_size(inter, &rsize);
    EXPECT(inter_flag && rsize == size - hsize, "intercomm: inter %d remote size %d", inter_flag,
           rsize);
    /* each process of the first half sends its rank + 1000 to the peer of the same rank */
    int peers = hsize < rsize ? hsize : rsize, got = -1, mine = hrank + 1000;
    if (hrank < peers)
        EXPECT_OK(MPI_Sendrecv(&mine, 1, MPI_INT, hrank, 5, &got, 1, MPI_INT, hrank, 5, inter,
                               MPI_STATUS_IGNORE));
    EXPECT(hrank >= peers || got == hrank + 1000, "received %d", got);
    int sum = 0, one = 1;
    EXPECT_OK(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, inter));
    EXPECT(sum == rsize, "Allreduce over the intercomm: %d", sum);
    EXPECT_OK(MPI_Comm_disconnect(&inter));
    EXPECT(inter == MPI_COMM_NULL, "disconnect left the handle");
    if (rank == 0)
        EXPECT_OK(MPI_Close_port(port));
    MPI_Comm_free(&half);
    MPI_Comm_free(&c);
}

/* Malformed port names are MPI_ERR_PORT on every process of the call, never a wait. */
static void bad_port(MPI_Comm comm)
{
    if (cf_is_inter(comm))
        SKIP_CASE("accept and connect take an intracommunicator");
    MPI_Comm c = returning(comm), inter = MPI_COMM_NULL;
    int rc = MPI_Comm_connect("wasmpi-not-a-port", MPI_INFO_NULL, 0, c, &inter);
    EXPECT(err_class(rc) == MPI_ERR_PORT, "connect: class %d", err_class(rc));
    rc = MPI_Comm_accept("wasmpi-not-a-port", MPI_INFO_NULL, 0, c, &inter);
    EXPECT(err_class(rc) == MPI_ERR_PORT, "accept: class %d", err_class(rc));
    EXPECT(inter == MPI_COMM_NULL, "a failed connect made a communicator");
    int size;
    MPI_Comm_size(c, &size);
    rc = MPI_Comm_connect("wasmpi-not-a-port", MPI_INFO_NULL, size, c, &inter);
    EXPECT(err_class(rc) == MPI_ERR_ROOT, "root out of range: class %d", err_class(rc));
    MPI_Comm_free(&c);
}

/* Names: publish at one process, look up everywhere, unpublish; the errors of the standard. */
static void names(MPI_Comm comm)
{
    if (comm != MPI_COMM_WORLD)
        SKIP_CASE("names are global: once is enough");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rank;
    MPI_Comm_rank(comm, &rank);
    const char *fake = ports_failed ? "wasmpi-no-port" : NULL; /* any string is published */
    char port[MPI_MAX_PORT_NAME] = "";
    if (rank == 0 && !fake)
        EXPECT_OK(MPI_Open_port(MPI_INFO_NULL, port));
    if (fake)
        strcpy(port, fake);
    MPI_Bcast(port, MPI_MAX_PORT_NAME, MPI_CHAR, 0, comm);
    if (rank == 0)
        EXPECT_OK(MPI_Publish_name("wasmpi-test-service", MPI_INFO_NULL, port));
    MPI_Barrier(comm);
    char found[MPI_MAX_PORT_NAME] = "";
    EXPECT_OK(MPI_Lookup_name("wasmpi-test-service", MPI_INFO_NULL, found));
    EXPECT(strcmp(found, port) == 0, "looked up \"%s\", published \"%s\"", found, port);
    MPI_Barrier(comm);
    if (rank == 0)
        EXPECT_OK(MPI_Unpublish_name("wasmpi-test-service", MPI_INFO_NULL, port));
    MPI_Barrier(comm);
    int rc = MPI_Lookup_name("wasmpi-test-service", MPI_INFO_NULL, found);
    EXPECT(err_class(rc) == MPI_ERR_NAME, "lookup after unpublish: class %d", err_class(rc));
    rc = MPI_Lookup_name("wasmpi-never-published", MPI_INFO_NULL, found);
    EXPECT(err_class(rc) == MPI_ERR_NAME, "lookup: class %d", err_class(rc));
    if (rank == 0) {
        rc = MPI_Unpublish_name("wasmpi-never-published", MPI_INFO_NULL, port);
        EXPECT(err_class(rc) == MPI_ERR_SERVICE, "unpublish: class %d", err_class(rc));
        if (!fake)
            EXPECT_OK(MPI_Close_port(port));
        rc = MPI_Close_port("wasmpi-not-a-port");
        EXPECT(err_class(rc) == MPI_ERR_PORT, "close_port: class %d", err_class(rc));
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

/* A guest socket is a WASI descriptor, which the host MPI cannot use. */
static void join(MPI_Comm comm)
{
    (void)comm;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm inter = MPI_COMM_NULL;
    int rc = MPI_Comm_join(3, &inter);
    EXPECT(err_class(rc) == MPI_ERR_UNSUPPORTED_OPERATION, "join: class %d", err_class(rc));
    EXPECT(inter == MPI_COMM_NULL, "join made a communicator");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    no_port = argc > 1 && strcmp(argv[1], "maybe-noport") == 0;
    run_case(parent, "parent", MPI_COMM_WORLD, "world");
    for_each_comm(accept_connect, "accept_connect");
    for_each_comm(bad_port, "bad_port");
    run_case(names, "names", MPI_COMM_WORLD, "world");
    run_case(join, "join", MPI_COMM_WORLD, "world");
    return finish();
}
