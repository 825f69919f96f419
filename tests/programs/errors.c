/* Error handling. Default mode: MPI_ERRORS_RETURN on a communicator makes bad arguments
 * (freed or garbage handles, bad ranks/counts/roots, truncation) return the right MPI error
 * class, first on a dup'ed communicator while MPI_COMM_WORLD stays fatal, then on
 * MPI_COMM_WORLD itself. Modes "fatal-comm" and "fatal-rank": an error under the default
 * MPI_ERRORS_ARE_FATAL must end the whole job (the other ranks are blocked in MPI calls that
 * would never return). */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int rank, size, nerr;

#include "check_count.h"
/* the call must fail with error class `cls` */
#define ERR(cls, call) \
    do { \
        int rc_ = (call), c_ = -1; \
        if (rc_ == MPI_SUCCESS) { \
            FAIL("%s succeeded, expected %s", #call, #cls); \
        } else { \
            MPI_Error_class(rc_, &c_); \
            CHECK(c_ == (cls), "%s: error class %d, expected %s (%d)", #call, c_, #cls, cls); \
        } \
    } while (0)

#define GARBAGE(T) ((T)(uintptr_t)0x7a5a5a5a)

/* MPI_COMM_WORLD keeps MPI_ERRORS_ARE_FATAL; the errors happen on a dup with ERRORS_RETURN,
 * whose handler decides even when another argument is the bad one. */
static void on_dup(void)
{
    MPI_Comm d;
    int x[4] = {1, 2, 3, 4}, y[4] = {0};
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    OK(MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN));
    ERR(MPI_ERR_TYPE, MPI_Send(x, 1, GARBAGE(MPI_Datatype), 0, 0, d));
    ERR(MPI_ERR_TYPE, MPI_Recv(y, 1, GARBAGE(MPI_Datatype), 0, 0, d, MPI_STATUS_IGNORE));
    ERR(MPI_ERR_OP, MPI_Allreduce(x, y, 1, MPI_INT, GARBAGE(MPI_Op), d));
    ERR(MPI_ERR_TYPE, MPI_Bcast(x, 1, GARBAGE(MPI_Datatype), 0, d));
    ERR(MPI_ERR_COUNT, MPI_Send(x, -1, MPI_INT, 0, 0, d));
    ERR(MPI_ERR_RANK, MPI_Send(x, 1, MPI_INT, size + 5, 0, d));
    ERR(MPI_ERR_TAG, MPI_Send(x, 1, MPI_INT, 0, -5, d));
    ERR(MPI_ERR_ROOT, MPI_Bcast(x, 1, MPI_INT, size + 3, d));
    ERR(MPI_ERR_OP, MPI_Allreduce(x, y, 1, MPI_INT, MPI_OP_NULL, d));
    /* truncation: 4 ints into room for 2, with Recv, with Irecv+Wait, inside Waitall */
    if (size >= 2 && rank == 0) {
        for (int tag = 1; tag <= 3; tag++) OK(MPI_Send(x, 4, MPI_INT, 1, tag, d));
        OK(MPI_Send(x, 1, MPI_INT, 1, 4, d));
    } else if (size >= 2 && rank == 1) {
        MPI_Status st;
        MPI_Request r[2];
        MPI_Status sts[2];
        ERR(MPI_ERR_TRUNCATE, MPI_Recv(y, 2, MPI_INT, 0, 1, d, &st));
        OK(MPI_Irecv(y, 2, MPI_INT, 0, 2, d, &r[0]));
        ERR(MPI_ERR_TRUNCATE, MPI_Wait(&r[0], &st));
        OK(MPI_Irecv(y, 2, MPI_INT, 0, 3, d, &r[0]));
        OK(MPI_Irecv(y + 2, 2, MPI_INT, 0, 4, d, &r[1]));
        sts[0].MPI_ERROR = sts[1].MPI_ERROR = -1;
        ERR(MPI_ERR_IN_STATUS, MPI_Waitall(2, r, sts));
        int c0 = -1;
        MPI_Error_class(sts[0].MPI_ERROR, &c0);
        CHECK(c0 == MPI_ERR_TRUNCATE, "Waitall status[0].MPI_ERROR class %d", c0);
        CHECK(sts[1].MPI_ERROR == MPI_SUCCESS || sts[1].MPI_ERROR == MPI_ERR_PENDING,
              "Waitall status[1].MPI_ERROR %d", sts[1].MPI_ERROR);
    }
    OK(MPI_Barrier(d)); /* still usable after all that */
    OK(MPI_Comm_free(&d));
}

static void on_world(void)
{
    int x = 1, y = 0, n = -1;
    MPI_Comm d, freed, w = MPI_COMM_WORLD, cnull = MPI_COMM_NULL;
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));

    /* communicators: freed, garbage, null; freeing the predefined ones */
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    freed = d;
    OK(MPI_Comm_free(&d));
    ERR(MPI_ERR_COMM, MPI_Send(&x, 1, MPI_INT, 0, 0, freed));
    ERR(MPI_ERR_COMM, MPI_Barrier(freed));
    ERR(MPI_ERR_COMM, MPI_Send(&x, 1, MPI_INT, 0, 0, GARBAGE(MPI_Comm)));
    ERR(MPI_ERR_COMM, MPI_Comm_size(GARBAGE(MPI_Comm), &n));
    ERR(MPI_ERR_COMM, MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, GARBAGE(MPI_Comm)));
    ERR(MPI_ERR_COMM, MPI_Send(&x, 1, MPI_INT, 0, 0, MPI_COMM_NULL));
    ERR(MPI_ERR_COMM, MPI_Comm_rank(MPI_COMM_NULL, &n));
    ERR(MPI_ERR_COMM, MPI_Comm_free(&w));
    CHECK(w == MPI_COMM_WORLD, "failed Comm_free changed the handle");
    ERR(MPI_ERR_COMM, MPI_Comm_free(&cnull));
    MPI_Comm self = MPI_COMM_SELF;
    ERR(MPI_ERR_COMM, MPI_Comm_free(&self));

    /* datatypes */
    MPI_Datatype t, tfreed;
    OK(MPI_Type_contiguous(2, MPI_INT, &t));
    OK(MPI_Type_commit(&t));
    tfreed = t;
    OK(MPI_Type_free(&t));
    ERR(MPI_ERR_TYPE, MPI_Send(&x, 1, GARBAGE(MPI_Datatype), 0, 0, MPI_COMM_WORLD));
    ERR(MPI_ERR_TYPE, MPI_Send(&x, 1, MPI_DATATYPE_NULL, 0, 0, MPI_COMM_WORLD));
    ERR(MPI_ERR_TYPE, MPI_Send(&x, 1, tfreed, 0, 0, MPI_COMM_WORLD));
    ERR(MPI_ERR_TYPE, MPI_Type_size(GARBAGE(MPI_Datatype), &n));
    MPI_Datatype pre = MPI_INT;
    ERR(MPI_ERR_TYPE, MPI_Type_free(&pre));
    CHECK(pre == MPI_INT, "failed Type_free changed the handle");

    /* requests */
    MPI_Request r = GARBAGE(MPI_Request), rs[2];
    int flag = -1;
    ERR(MPI_ERR_REQUEST, MPI_Wait(&r, MPI_STATUS_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Test(&r, &flag, MPI_STATUS_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Request_free(&r));
    ERR(MPI_ERR_REQUEST, MPI_Cancel(&r));
    MPI_Request done;
    OK(MPI_Isend(&x, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &done));
    MPI_Request stale = done;
    OK(MPI_Wait(&done, MPI_STATUS_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Wait(&stale, MPI_STATUS_IGNORE));
    rs[0] = MPI_REQUEST_NULL;
    rs[1] = GARBAGE(MPI_Request);
    ERR(MPI_ERR_REQUEST, MPI_Waitall(2, rs, MPI_STATUSES_IGNORE));

    /* groups, ops, error handlers */
    ERR(MPI_ERR_GROUP, MPI_Group_size(GARBAGE(MPI_Group), &n));
    MPI_Group gnull = MPI_GROUP_NULL;
    ERR(MPI_ERR_GROUP, MPI_Group_free(&gnull));
    ERR(MPI_ERR_OP, MPI_Reduce(&x, &y, 1, MPI_INT, GARBAGE(MPI_Op), 0, MPI_COMM_WORLD));
    int commute = -1;
    ERR(MPI_ERR_OP, MPI_Op_commutative(GARBAGE(MPI_Op), &commute));
    CHECK(commute == -1, "failed Op_commutative wrote %d", commute);
    /* the remote side of no communicator (intercommunicators, which have one, cannot be made
     * yet: these check the bridge's handle lookup) */
    MPI_Group remote = MPI_GROUP_NULL;
    n = -1;
    ERR(MPI_ERR_COMM, MPI_Comm_remote_size(MPI_COMM_NULL, &n));
    CHECK(n == -1, "failed Comm_remote_size wrote %d", n);
    ERR(MPI_ERR_COMM, MPI_Comm_remote_group(GARBAGE(MPI_Comm), &remote));
    CHECK(remote == MPI_GROUP_NULL, "failed Comm_remote_group wrote a group");
    ERR(MPI_ERR_RANK, MPI_Recv(&y, 1, MPI_INT, size, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    int rc = MPI_Comm_set_errhandler(MPI_COMM_WORLD, GARBAGE(MPI_Errhandler));
    CHECK(rc != MPI_SUCCESS, "set_errhandler(garbage) succeeded");

    /* every error class has a message */
    int classes[] = {MPI_ERR_COMM, MPI_ERR_TYPE, MPI_ERR_REQUEST, MPI_ERR_RANK, MPI_ERR_TRUNCATE,
                     MPI_ERR_OP, MPI_ERR_GROUP, MPI_ERR_IN_STATUS};
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        char msg[MPI_MAX_ERROR_STRING];
        int len = -1;
        OK(MPI_Error_string(classes[i], msg, &len));
        CHECK(len > 0 && (int)strlen(msg) == len, "Error_string(%d): '%s' %d", classes[i], msg, len);
    }
    /* the world survived */
    OK(MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD));
    CHECK(y == size, "Allreduce after the errors: %d", y);
}

/* Arguments the bridge rejects before the host MPI sees them, found by the bridge fuzzer
 * (bench/fuzz, docs/security.md): Open MPI 5.0 looped or segfaulted on each of them. */
static void fuzz_found(void)
{
    int x[8] = {0}, y[8] = {0}, counts[64], displs[64], n = -1;
    for (int i = 0; i < size; i++)
        counts[i] = 1, displs[i] = i;
    OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    /* an uncommitted datatype: sizes of its packed form, and data of it */
    MPI_Datatype t, u;
    MPI_Aint asz = -1;
    MPI_Count csz = -1;
    MPI_Request r;
    OK(MPI_Type_contiguous(2, MPI_INT, &t));
    OK(MPI_Type_dup(t, &u));
    ERR(MPI_ERR_TYPE, MPI_Pack_external_size("external32", 8, t, &asz));
    ERR(MPI_ERR_TYPE, MPI_Pack_external_size_c("external32", 3, u, &csz));
    ERR(MPI_ERR_TYPE, MPI_Pack_size(7, t, MPI_COMM_WORLD, &n));
    ERR(MPI_ERR_TYPE, MPI_Pack_size_c(7, u, MPI_COMM_WORLD, &csz));
    ERR(MPI_ERR_TYPE, MPI_Send(x, 1, t, MPI_PROC_NULL, 0, MPI_COMM_WORLD));
    ERR(MPI_ERR_TYPE, MPI_Iallgatherv(x, 2, MPI_INT, y, counts, displs, u, MPI_COMM_WORLD, &r));
    CHECK(asz == -1 && csz == -1, "a failed Pack_external_size wrote its size");
    OK(MPI_Type_commit(&t));
    OK(MPI_Pack_external_size("external32", 8, t, &asz));
    CHECK(asz == 64, "Pack_external_size(8 x 2 ints) = %ld", (long)asz);
    MPI_Datatype v;
    OK(MPI_Type_dup(t, &v)); /* a duplicate of a committed type is committed */
    OK(MPI_Pack_size(1, v, MPI_COMM_WORLD, &n));
    CHECK(n >= 8, "Pack_size(committed dup) = %d", n);
    OK(MPI_Type_free(&v));
    OK(MPI_Type_free(&u));
    OK(MPI_Type_free(&t));
    /* a window's rank outside the window; MPI_PROC_NULL is no target (nothing to do) */
    MPI_Win w;
    OK(MPI_Win_create(x, sizeof x, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    OK(MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN));
    OK(MPI_Win_lock_all(0, w));
    ERR(MPI_ERR_RANK, MPI_Win_flush(size, w));
    ERR(MPI_ERR_RANK, MPI_Win_flush_local(-2, w));
    OK(MPI_Win_flush(MPI_PROC_NULL, w));
    OK(MPI_Win_flush_local(MPI_PROC_NULL, w));
    OK(MPI_Win_flush(rank, w));
    OK(MPI_Win_unlock_all(w));
    ERR(MPI_ERR_RANK, MPI_Win_lock(MPI_LOCK_SHARED, size + 1, 0, w));
    ERR(MPI_ERR_RANK, MPI_Win_unlock(-7, w));
    OK(MPI_Win_free(&w));
    /* a negative rank that is no constant is invalid (-2 is a host's MPI_PROC_NULL or
     * MPI_ANY_SOURCE) */
    ERR(MPI_ERR_RANK, MPI_Send(x, 1, MPI_INT, -2, 0, MPI_COMM_WORLD));
    /* the bridge's own long double reductions on buffers only 8-byte aligned (wasm needs no
     * alignment; an aligned SSE access segfaulted in the host) */
    static _Alignas(16) unsigned char in[104], io[104];
    long double a3[3] = {1.5L, 2.25L, -4.0L}, b3[3] = {0.5L, 0.75L, 1.0L}, got[3];
    memcpy(in + 8, a3, sizeof a3);
    memcpy(io + 8, b3, sizeof b3);
    OK(MPI_Reduce_local(in + 8, io + 8, 3, MPI_LONG_DOUBLE, MPI_SUM));
    memcpy(got, io + 8, sizeof got);
    CHECK(got[0] == 2.0L && got[1] == 3.0L && got[2] == -3.0L, "unaligned long double sum");
    struct { long double v; int i; } li[2] = {{3.0L, 1}, {5.0L, 2}}, lo[2] = {{4.0L, 0}, {5.0L, 0}};
    memcpy(in + 8, li, sizeof li[0]);
    memcpy(io + 8, lo, sizeof lo[0]);
    OK(MPI_Reduce_local(in + 8, io + 8, 1, MPI_LONG_DOUBLE_INT, MPI_MINLOC));
    memcpy(lo, io + 8, sizeof lo[0]);
    CHECK(lo[0].v == 3.0L && lo[0].i == 1, "unaligned long double minloc");
    /* MPI_REAL16 is binary128 like the guest's long double: the bridge reduces it too (Open
     * MPI 5.0.11 segfaulted on an 8-byte-aligned buffer, MPICH computed x87 digits) */
    memcpy(in + 8, a3, sizeof a3);
    memcpy(io + 8, b3, sizeof b3);
    OK(MPI_Reduce_local(in + 8, io + 8, 3, MPI_REAL16, MPI_MAX));
    memcpy(got, io + 8, sizeof got);
    CHECK(got[0] == 1.5L && got[1] == 2.25L && got[2] == 1.0L, "unaligned REAL16 max");
    OK(MPI_Reduce_local_c(in + 8, io + 8, 3, MPI_REAL16, MPI_PROD));
    memcpy(got, io + 8, sizeof got);
    CHECK(got[0] == 2.25L && got[1] == 5.0625L && got[2] == -4.0L, "unaligned REAL16 prod");
    long double third = 1.0L / 3.0L, sum3 = 0;
    memcpy(in + 8, &third, sizeof third);
    memcpy(io + 8, &sum3, sizeof sum3);
    OK(MPI_Reduce_local(in + 8, io + 8, 1, MPI_REAL16, MPI_SUM));
    memcpy(&sum3, io + 8, sizeof sum3);
    CHECK(sum3 == third, "REAL16 sum lost binary128 digits");
    ERR(MPI_ERR_OP, MPI_Reduce_local(in + 8, io + 8, 1, MPI_REAL16, MPI_BAND));
    int c32 = 0;
    OK(MPI_Type_size(MPI_COMPLEX32, &c32));
    if (c32 == 32) { /* Open MPI's has size 0 without a Fortran REAL*16 */
        long double zc[2] = {1.0L, 2.0L}, wc[2] = {3.0L, -1.0L};
        memcpy(in + 8, zc, sizeof zc);
        memcpy(io + 8, wc, sizeof wc);
        OK(MPI_Reduce_local(in + 8, io + 8, 1, MPI_COMPLEX32, MPI_PROD));
        memcpy(wc, io + 8, sizeof wc);
        CHECK(wc[0] == 5.0L && wc[1] == 5.0L, "unaligned COMPLEX32 prod");
    }
    /* a type from MPI_Type_get_contents may be used at once: Open MPI's is a copy of the
     * uncommitted inner type, and its MPI_Gather segfaulted in the convertor */
    MPI_Datatype ix, outer, inner[1];
    int bl[2] = {1, 1}, dp[2] = {0, 2}, ci[1], gx[2] = {7, 9}, gy[4] = {-1, -1, -1, -1};
    MPI_Aint ca[1];
    OK(MPI_Type_indexed(2, bl, dp, MPI_INT, &ix));
    OK(MPI_Type_contiguous(1, ix, &outer));
    OK(MPI_Type_commit(&outer));
    OK(MPI_Type_get_contents(outer, 1, 0, 1, ci, ca, inner));
    OK(MPI_Gather(gx, 2, MPI_INT, gy, 1, inner[0], 0, MPI_COMM_SELF));
    CHECK(gy[0] == 7 && gy[1] == -1 && gy[2] == 9, "Gather into a get_contents type: %d %d %d",
          gy[0], gy[1], gy[2]);
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN));
    ERR(MPI_ERR_TYPE, MPI_Gather(gx, 2, MPI_INT, gy, 1, ix, 0, MPI_COMM_SELF)); /* uncommitted */
    OK(MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL));
    OK(MPI_Type_free(&inner[0]));
    OK(MPI_Type_free(&outer));
    OK(MPI_Type_free(&ix));
    /* a request twice in one array (Open MPI 5.0.11's Testall freed a libnbc request twice,
     * and a later nonblocking collective segfaulted); freeing a nonblocking collective's
     * request, or starting or freeing a running persistent one, is erroneous */
    MPI_Request two[2];
    int done2 = 0;
    OK(MPI_Ibarrier(MPI_COMM_WORLD, &two[0]));
    two[1] = two[0];
    ERR(MPI_ERR_REQUEST, MPI_Testall(2, two, &done2, MPI_STATUSES_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Waitall(2, two, MPI_STATUSES_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Request_free(&two[0]));
    OK(MPI_Wait(&two[0], MPI_STATUS_IGNORE));
    MPI_Request pr;
    OK(MPI_Barrier_init(MPI_COMM_WORLD, MPI_INFO_NULL, &pr));
    OK(MPI_Start(&pr));
    OK(MPI_Wait(&pr, MPI_STATUS_IGNORE));
    OK(MPI_Request_free(&pr)); /* inactive: freed */
    CHECK(pr == MPI_REQUEST_NULL, "Request_free of a persistent collective left its handle");
    /* cancelling a collective's request is erroneous (MPICH asserted, Open MPI waited) */
    OK(MPI_Ibarrier(MPI_COMM_WORLD, &r));
    ERR(MPI_ERR_REQUEST, MPI_Cancel(&r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    OK(MPI_Barrier_init(MPI_COMM_WORLD, MPI_INFO_NULL, &r));
    ERR(MPI_ERR_REQUEST, MPI_Cancel(&r));
    OK(MPI_Request_free(&r));
    /* a long name on a predefined communicator (Open MPI 5.0.11 wrote it past the end of a
     * heap buffer, and glibc aborted in MPI_Finalize); the bridge keeps it */
    char longname[101], got_name[MPI_MAX_OBJECT_NAME];
    memset(longname, 'w', 100);
    longname[100] = 0;
    OK(MPI_Comm_set_name(MPI_COMM_WORLD, longname));
    OK(MPI_Comm_set_name(MPI_COMM_SELF, "a self of a longer name than its own"));
    OK(MPI_Comm_get_name(MPI_COMM_WORLD, got_name, &n));
    CHECK(n == 100 && strcmp(got_name, longname) == 0, "WORLD's name back: %d", n);
    OK(MPI_Comm_get_name(MPI_COMM_SELF, got_name, &n));
    CHECK(strcmp(got_name, "a self of a longer name than its own") == 0, "SELF's name back");
    /* MPI_Grequest_complete of a request that is no generalized request (Open MPI 5.0.11
     * segfaulted) */
    OK(MPI_Isend(x, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &r));
    ERR(MPI_ERR_REQUEST, MPI_Grequest_complete(r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    /* MPI_T_finalize without MPI_T_init_thread (Open MPI 5.0.11 then segfaulted in
     * MPI_Finalize) */
    CHECK(MPI_T_finalize() == MPI_T_ERR_NOT_INITIALIZED, "MPI_T_finalize without init");
    /* a matched receive of MPI_MESSAGE_NULL (Open MPI raised it under its fatal default) */
    MPI_Message m = MPI_MESSAGE_NULL;
    ERR(MPI_ERR_REQUEST, MPI_Mrecv(y, 1, MPI_INT, &m, MPI_STATUS_IGNORE));
    ERR(MPI_ERR_REQUEST, MPI_Imrecv(y, 1, MPI_INT, &m, &r));
    CHECK(m == MPI_MESSAGE_NULL, "a failed Mrecv changed the message");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *mode = argc > 1 ? argv[1] : "return";
    int x = 42;
    if (strcmp(mode, "fatal-comm") == 0) {
        /* rank 1 passes a freed communicator; rank 0 waits for a message that never comes */
        if (rank == 1) {
            MPI_Comm d, stale;
            MPI_Comm_dup(MPI_COMM_SELF, &d);
            stale = d;
            MPI_Comm_free(&d);
            printf("rank 1: sending on a bad communicator\n");
            fflush(stdout);
            MPI_Send(&x, 1, MPI_INT, 0, 0, stale);
            printf("rank 1: MPI_Send returned\n");
        } else if (rank == 0) {
            MPI_Recv(&x, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            printf("rank 0: MPI_Recv returned\n");
        }
        MPI_Finalize();
        return 0;
    }
    if (strcmp(mode, "fatal-rank") == 0) {
        if (rank == 0) {
            MPI_Send(&x, 1, MPI_INT, size + 5, 0, MPI_COMM_WORLD);
            printf("rank 0: MPI_Send returned\n");
        }
        MPI_Barrier(MPI_COMM_WORLD);
        printf("rank %d: passed the barrier\n", rank);
        MPI_Finalize();
        return 0;
    }
    RUN(on_dup);
    RUN(on_world);
    RUN(fuzz_found);
    if (nerr) {
        printf("rank %d: %d failures\n", rank, nerr);
        return 1;
    }
    if (rank == 0) printf("errors done on %d ranks\n", size);
    MPI_Finalize();
    return 0;
}
