/* Soak guest (bench/soak.py): mixed MPI traffic in a loop for SECONDS, so that a leak in the
 * bridge (a handle slot, a host request, a scratch buffer) shows as growing RSS or handle
 * counts. Every handle it creates in an iteration is freed in the same iteration: the bridge's
 * live handle counts must return to the same values every time.
 *
 *     soak SECONDS
 *
 * Any number of ranks (a ring); bench/soak.py uses 2. Prints "SOAK iterations N seconds S" on
 * rank 0 at the end.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 1024 /* doubles per message: a few pages, so leaked buffers would show in RSS */

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "soak: %s failed (%d)\n", what, rc);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
}

static void p2p(MPI_Comm comm, int rank, int size, double *a, double *b, int it)
{
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    MPI_Status st;
    for (int i = 0; i < N; i++)
        a[i] = rank + i + it;
    check(MPI_Sendrecv(a, N, MPI_DOUBLE, right, 1, b, N, MPI_DOUBLE, left, 1, comm, &st),
          "Sendrecv");
    if (b[N - 1] != left + N - 1 + it) {
        fprintf(stderr, "soak: wrong data from rank %d\n", left);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    /* blocking pair: even ranks send first (a ring of 2 is one pair) */
    if (size > 1) {
        if (rank % 2 == 0) {
            check(MPI_Send(a, N, MPI_DOUBLE, right, 2, comm), "Send");
            check(MPI_Recv(b, N, MPI_DOUBLE, left, 2, comm, MPI_STATUS_IGNORE), "Recv");
        } else {
            check(MPI_Recv(b, N, MPI_DOUBLE, left, 2, comm, MPI_STATUS_IGNORE), "Recv");
            check(MPI_Send(a, N, MPI_DOUBLE, right, 2, comm), "Send");
        }
    }
    /* nonblocking, completed by Waitall, Test and Waitany */
    MPI_Request r[4];
    check(MPI_Irecv(b, N, MPI_DOUBLE, left, 3, comm, &r[0]), "Irecv");
    check(MPI_Isend(a, N, MPI_DOUBLE, right, 3, comm, &r[1]), "Isend");
    check(MPI_Waitall(2, r, MPI_STATUSES_IGNORE), "Waitall");
    int x = it, y = -1, flag = 0, idx;
    check(MPI_Irecv(&y, 1, MPI_INT, left, 4, comm, &r[2]), "Irecv");
    check(MPI_Issend(&x, 1, MPI_INT, right, 4, comm, &r[3]), "Issend");
    while (!flag)
        check(MPI_Test(&r[3], &flag, MPI_STATUS_IGNORE), "Test");
    check(MPI_Waitany(1, &r[2], &idx, &st), "Waitany");
    /* persistent requests, started twice and freed */
    MPI_Request pr[2];
    check(MPI_Recv_init(b, N, MPI_DOUBLE, left, 5, comm, &pr[0]), "Recv_init");
    check(MPI_Send_init(a, N, MPI_DOUBLE, right, 5, comm, &pr[1]), "Send_init");
    for (int k = 0; k < 2; k++) {
        check(MPI_Startall(2, pr), "Startall");
        check(MPI_Waitall(2, pr, MPI_STATUSES_IGNORE), "Waitall");
    }
    check(MPI_Request_free(&pr[0]), "Request_free");
    check(MPI_Request_free(&pr[1]), "Request_free");
}

static void coll(MPI_Comm comm, int size, double *a, double *b)
{
    check(MPI_Bcast(a, N, MPI_DOUBLE, 0, comm), "Bcast");
    check(MPI_Allreduce(a, b, N, MPI_DOUBLE, MPI_SUM, comm), "Allreduce");
    check(MPI_Alltoall(a, N / size, MPI_DOUBLE, b, N / size, MPI_DOUBLE, comm), "Alltoall");
    check(MPI_Allgather(a, N / size, MPI_DOUBLE, b, N / size, MPI_DOUBLE, comm), "Allgather");
    MPI_Request r;
    check(MPI_Iallreduce(a, b, N, MPI_DOUBLE, MPI_MAX, comm, &r), "Iallreduce");
    check(MPI_Wait(&r, MPI_STATUS_IGNORE), "Wait");
    check(MPI_Ibarrier(comm, &r), "Ibarrier");
    check(MPI_Wait(&r, MPI_STATUS_IGNORE), "Wait");
}

static void comms(int rank, double *a, double *b)
{
    MPI_Comm dup, split;
    check(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "Comm_dup");
    check(MPI_Allreduce(a, b, 16, MPI_DOUBLE, MPI_SUM, dup), "Allreduce(dup)");
    check(MPI_Comm_split(dup, rank % 2, -rank, &split), "Comm_split");
    check(MPI_Barrier(split), "Barrier(split)");
    MPI_Group g, g1;
    int zero = 0;
    check(MPI_Comm_group(split, &g), "Comm_group");
    check(MPI_Group_incl(g, 1, &zero, &g1), "Group_incl");
    check(MPI_Group_free(&g1), "Group_free");
    check(MPI_Group_free(&g), "Group_free");
    check(MPI_Comm_free(&split), "Comm_free");
    check(MPI_Comm_free(&dup), "Comm_free");
}

static void types(MPI_Comm comm, int rank, int size, double *a, double *b)
{
    MPI_Datatype vec, st;
    check(MPI_Type_vector(N / 4, 2, 4, MPI_DOUBLE, &vec), "Type_vector");
    check(MPI_Type_commit(&vec), "Type_commit");
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    check(MPI_Sendrecv(a, 1, vec, right, 6, b, 1, vec, left, 6, comm, MPI_STATUS_IGNORE),
          "Sendrecv(vector)");
    int bl[2] = {1, 3};
    MPI_Aint disp[2] = {0, 8};
    MPI_Datatype tys[2] = {MPI_INT, MPI_DOUBLE};
    check(MPI_Type_create_struct(2, bl, disp, tys, &st), "Type_create_struct");
    check(MPI_Type_commit(&st), "Type_commit");
    check(MPI_Bcast(a, 4, st, 0, comm), "Bcast(struct)");
    check(MPI_Type_free(&st), "Type_free");
    check(MPI_Type_free(&vec), "Type_free");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    double seconds = argc > 1 ? atof(argv[1]) : 10.0;
    double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    if (!a || !b)
        MPI_Abort(MPI_COMM_WORLD, 1);
    memset(b, 0, N * sizeof *b);
    double t0 = MPI_Wtime();
    int it = 0, go = 1;
    while (go) {
        p2p(MPI_COMM_WORLD, rank, size, a, b, it);
        coll(MPI_COMM_WORLD, size, a, b);
        comms(rank, a, b);
        types(MPI_COMM_WORLD, rank, size, a, b);
        it++;
        /* rank 0's clock decides for everyone, so that all ranks stop after the same iteration */
        go = MPI_Wtime() - t0 < seconds;
        check(MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD), "Bcast(go)");
    }
    if (rank == 0)
        printf("SOAK iterations %d seconds %.1f\n", it, MPI_Wtime() - t0);
    free(a);
    free(b);
    MPI_Finalize();
    return 0;
}
