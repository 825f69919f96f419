/* One-sided communication: windows on guest memory (Win_create, Win_allocate, dynamic windows,
 * shared windows on single-rank groups), every synchronization mode, every RMA operation with
 * its result checked, window queries, attributes and error handlers, and displacements outside
 * a window refused on the origin with MPI_ERR_RMA_RANGE. Every case runs on the conformance
 * harness's communicators; windows need an intracommunicator, so the intercommunicator case
 * only checks that window creation refuses it. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

#define NEED_INTRA(comm) \
    do { \
        if (cf_is_inter(comm)) \
            SKIP_CASE("windows need an intracommunicator (MPI_ERR_COMM: see errors)"); \
    } while (0)
#define RANKS(comm) \
    int rank, size; \
    MPI_Comm_rank(comm, &rank); \
    MPI_Comm_size(comm, &size); \
    int right = (rank + 1) % size, left = (rank + size - 1) % size; \
    (void)right; (void)left

/* read `n` ints of this rank's own window memory at `p` consistently after others wrote it */
static void read_own(MPI_Win w, int rank, const int *p, int *out, int n)
{
    MPI_Win_lock(MPI_LOCK_SHARED, rank, 0, w);
    memcpy(out, p, sizeof(int) * (size_t)n);
    MPI_Win_unlock(rank, w);
}

static void fence(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    enum { N = 8 };
    int buf[N];
    for (int i = 0; i < N; i++) buf[i] = rank * 10 + i;
    MPI_Win w;
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, comm, &w));
    /* predefined attributes: guest addresses and values in guest memory */
    void *base = NULL;
    MPI_Aint *wsize = NULL;
    int *unit = NULL, *flavor = NULL, *model = NULL, flag = 0;
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_BASE, &base, &flag));
    EXPECT(flag && base == buf, "WIN_BASE %p, buffer %p", base, (void *)buf);
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_SIZE, &wsize, &flag));
    EXPECT(flag && *wsize == (MPI_Aint)sizeof buf, "WIN_SIZE %ld", (long)*wsize);
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_DISP_UNIT, &unit, &flag));
    EXPECT(flag && *unit == (int)sizeof(int), "WIN_DISP_UNIT %d", *unit);
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    EXPECT(flag && *flavor == MPI_WIN_FLAVOR_CREATE, "WIN_CREATE_FLAVOR %d", *flavor);
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_MODEL, &model, &flag));
    EXPECT(flag && (*model == MPI_WIN_UNIFIED || *model == MPI_WIN_SEPARATE), "WIN_MODEL %d",
           *model);
    MPI_Group wg, cg;
    int cmp = -1;
    EXPECT_OK(MPI_Win_get_group(w, &wg));
    EXPECT_OK(MPI_Comm_group(comm, &cg));
    EXPECT_OK(MPI_Group_compare(wg, cg, &cmp));
    EXPECT(cmp == MPI_IDENT, "Win_get_group compare = %d", cmp);
    MPI_Group_free(&wg);
    MPI_Group_free(&cg);

    /* put into the right neighbour's [0,4), get the left neighbour's [4,8) */
    int out[4], in[4] = {-1, -1, -1, -1};
    for (int i = 0; i < 4; i++) out[i] = 1000 + rank * 100 + i;
    EXPECT_OK(MPI_Win_fence(MPI_MODE_NOPRECEDE, w));
    EXPECT_OK(MPI_Put(out, 4, MPI_INT, right, 0, 4, MPI_INT, w));
    EXPECT_OK(MPI_Get(in, 4, MPI_INT, left, 4, 4, MPI_INT, w));
    EXPECT_OK(MPI_Put(out, 4, MPI_INT, MPI_PROC_NULL, 1 << 30, 4, MPI_INT, w)); /* a no-op */
    EXPECT_OK(MPI_Win_fence(0, w));
    for (int i = 0; i < 4; i++) {
        EXPECT(buf[i] == 1000 + left * 100 + i, "buf[%d] = %d", i, buf[i]);
        EXPECT(in[i] == left * 10 + 4 + i, "got[%d] = %d", i, in[i]);
    }
    /* a strided origin and target: every other int of the right neighbour, in two fences */
    MPI_Datatype every2;
    EXPECT_OK(MPI_Type_vector(4, 1, 2, MPI_INT, &every2));
    EXPECT_OK(MPI_Type_commit(&every2));
    int src[8];
    for (int i = 0; i < 8; i++) src[i] = -(rank * 8 + i);
    EXPECT_OK(MPI_Win_fence(0, w));
    EXPECT_OK(MPI_Put(src, 1, every2, right, 1, 1, every2, w));
    /* modes translated as a bitmask; nothing was stored locally nor follows */
    EXPECT_OK(MPI_Win_fence(MPI_MODE_NOSTORE | MPI_MODE_NOSUCCEED, w));
    for (int i = 0; i < 4; i++)
        EXPECT(buf[1 + 2 * i] == -(left * 8 + 2 * i), "strided buf[%d] = %d", 1 + 2 * i,
               buf[1 + 2 * i]);
    EXPECT_OK(MPI_Type_free(&every2));
    EXPECT_OK(MPI_Win_free(&w));
    EXPECT(w == MPI_WIN_NULL, "Win_free did not null the handle");
}

/* generalized active target: each rank exposes to its left neighbour, accesses its right */
static void pscw(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    int buf[2] = {-1, -1};
    MPI_Win w;
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, comm, &w));
    MPI_Group cg, from, to;
    EXPECT_OK(MPI_Comm_group(comm, &cg));
    EXPECT_OK(MPI_Group_incl(cg, 1, &left, &from));
    EXPECT_OK(MPI_Group_incl(cg, 1, &right, &to));
    for (int round = 0; round < 2; round++) {
        int v = 100 * round + rank;
        EXPECT_OK(MPI_Win_post(from, 0, w));
        EXPECT_OK(MPI_Win_start(to, 0, w));
        EXPECT_OK(MPI_Put(&v, 1, MPI_INT, right, round, 1, MPI_INT, w));
        EXPECT_OK(MPI_Win_complete(w));
        if (round == 0) {
            EXPECT_OK(MPI_Win_wait(w));
        } else { /* the test variant: poll until the exposure epoch is over */
            int flag = 0;
            for (long spins = 0; !flag && spins < 100000000L; spins++)
                EXPECT_OK(MPI_Win_test(w, &flag));
            EXPECT(flag, "Win_test never completed");
        }
        EXPECT(buf[round] == 100 * round + left, "round %d: buf = %d", round, buf[round]);
    }
    MPI_Group_free(&from);
    MPI_Group_free(&to);
    MPI_Group_free(&cg);
    EXPECT_OK(MPI_Win_free(&w));
}

/* passive target: a read-modify-write under an exclusive lock, then accumulates under shared
 * locks, on memory from MPI_Win_allocate */
static void locks(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    int *mem = NULL;
    MPI_Win w;
    EXPECT_OK(MPI_Win_allocate(2 * sizeof(int), sizeof(int), MPI_INFO_NULL, comm, &mem, &w));
    EXPECT(mem != NULL, "Win_allocate gave no memory");
    int *flavor = NULL, flag = 0;
    void *base = NULL;
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    EXPECT(flag && *flavor == MPI_WIN_FLAVOR_ALLOCATE, "flavor %d", *flavor);
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_BASE, &base, &flag));
    EXPECT(flag && base == mem, "WIN_BASE %p, baseptr %p", base, (void *)mem);
    EXPECT_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w));
    mem[0] = mem[1] = 0;
    EXPECT_OK(MPI_Win_unlock(rank, w));
    MPI_Barrier(comm);
    for (int t = 0; t < size; t++) { /* everyone increments everyone's mem[0] */
        int v = -1;
        EXPECT_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, t, 0, w));
        EXPECT_OK(MPI_Get(&v, 1, MPI_INT, t, 0, 1, MPI_INT, w));
        EXPECT_OK(MPI_Win_flush(t, w));
        v += rank + 1;
        EXPECT_OK(MPI_Put(&v, 1, MPI_INT, t, 0, 1, MPI_INT, w));
        EXPECT_OK(MPI_Win_unlock(t, w));
        int one = 1;
        EXPECT_OK(MPI_Win_lock(MPI_LOCK_SHARED, t, 0, w));
        EXPECT_OK(MPI_Accumulate(&one, 1, MPI_INT, t, 1, 1, MPI_INT, MPI_SUM, w));
        EXPECT_OK(MPI_Win_unlock(t, w));
    }
    MPI_Barrier(comm);
    int got[2];
    read_own(w, rank, mem, got, 2);
    EXPECT(got[0] == size * (size + 1) / 2, "exclusive sum %d", got[0]);
    EXPECT(got[1] == size, "shared accumulate %d", got[1]);
    EXPECT_OK(MPI_Win_free(&w));
}

/* lock_all with every flush, and Win_sync for local loads */
static void lock_all(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    int *mem = NULL;
    MPI_Win w;
    EXPECT_OK(MPI_Win_allocate((MPI_Aint)(3 * size * sizeof(int)), sizeof(int), MPI_INFO_NULL,
                               comm, &mem, &w));
    EXPECT_OK(MPI_Win_lock_all(0, w));
    for (int i = 0; i < 3 * size; i++) mem[i] = -1;
    EXPECT_OK(MPI_Win_sync(w));
    EXPECT_OK(MPI_Win_unlock_all(w));
    MPI_Barrier(comm);
    EXPECT_OK(MPI_Win_lock_all(MPI_MODE_NOCHECK, w));
    int v = rank + 1, back = -1, one = 1;
    EXPECT_OK(MPI_Put(&v, 1, MPI_INT, right, rank, 1, MPI_INT, w));
    EXPECT_OK(MPI_Win_flush(right, w));
    EXPECT_OK(MPI_Get(&back, 1, MPI_INT, right, rank, 1, MPI_INT, w));
    EXPECT_OK(MPI_Win_flush_local(right, w));
    EXPECT(back == rank + 1, "Get after flush: %d", back);
    for (int t = 0; t < size; t++)
        EXPECT_OK(MPI_Accumulate(&one, 1, MPI_INT, t, size + rank, 1, MPI_INT, MPI_REPLACE, w));
    EXPECT_OK(MPI_Win_flush_all(w));
    int w2 = 7;
    for (int t = 0; t < size; t++)
        EXPECT_OK(MPI_Put(&w2, 1, MPI_INT, t, 2 * size + rank, 1, MPI_INT, w));
    EXPECT_OK(MPI_Win_flush_local_all(w));
    EXPECT_OK(MPI_Win_flush_all(w));
    MPI_Barrier(comm);
    EXPECT_OK(MPI_Win_sync(w)); /* local loads see what others stored */
    EXPECT(mem[left] == left + 1, "mem[left] = %d", mem[left]);
    for (int r = 0; r < size; r++) {
        EXPECT(mem[size + r] == 1, "replace from %d: %d", r, mem[size + r]);
        EXPECT(mem[2 * size + r] == 7, "put from %d: %d", r, mem[2 * size + r]);
    }
    EXPECT_OK(MPI_Win_unlock_all(w));
    EXPECT_OK(MPI_Win_free(&w));
}

/* Accumulate (SUM, REPLACE, on a derived target type) and Get_accumulate, in fences */
static void accumulate(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    enum { N = 12 };
    int buf[N];
    for (int i = 0; i < N; i++) buf[i] = 0;
    MPI_Win w;
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, comm, &w));
    MPI_Datatype strided; /* ints 0 and 2 of a target triple */
    EXPECT_OK(MPI_Type_vector(2, 1, 2, MPI_INT, &strided));
    EXPECT_OK(MPI_Type_commit(&strided));
    int add[4] = {rank + 1, rank + 1, rank + 1, rank + 1}, mine = rank + 100, two[2] = {1, 2};
    int fetched = -1, inc = 1;
    EXPECT_OK(MPI_Win_fence(0, w));
    for (int t = 0; t < size; t++) {
        EXPECT_OK(MPI_Accumulate(add, 4, MPI_INT, t, 0, 4, MPI_INT, MPI_SUM, w));
        EXPECT_OK(MPI_Accumulate(&mine, 1, MPI_INT, t, 4, 1, MPI_INT, MPI_REPLACE, w));
        EXPECT_OK(MPI_Accumulate(two, 2, MPI_INT, t, 5, 1, strided, MPI_SUM, w));
    }
    EXPECT_OK(MPI_Get_accumulate(&inc, 1, MPI_INT, &fetched, 1, MPI_INT, 0, 9, 1, MPI_INT,
                                 MPI_SUM, w));
    EXPECT_OK(MPI_Win_fence(0, w));
    int tri = size * (size + 1) / 2;
    for (int i = 0; i < 4; i++) EXPECT(buf[i] == tri, "SUM buf[%d] = %d", i, buf[i]);
    EXPECT(buf[4] >= 100 && buf[4] < 100 + size, "REPLACE left %d", buf[4]);
    EXPECT(buf[5] == size && buf[6] == 0 && buf[7] == 2 * size, "strided: %d %d %d", buf[5],
           buf[6], buf[7]);
    /* Get_accumulate: each rank fetched a distinct earlier value of rank 0's counter */
    int sum = 0, expect = size * (size - 1) / 2;
    MPI_Allreduce(&fetched, &sum, 1, MPI_INT, MPI_SUM, comm);
    EXPECT(fetched >= 0 && fetched < size && sum == expect, "fetched %d, sum %d", fetched, sum);
    if (rank == 0) EXPECT(buf[9] == size, "counter %d", buf[9]);
    /* MPI_NO_OP reads atomically */
    int now = -1;
    EXPECT_OK(MPI_Win_fence(0, w));
    EXPECT_OK(MPI_Get_accumulate(NULL, 0, MPI_INT, &now, 1, MPI_INT, 0, 9, 1, MPI_INT,
                                 MPI_NO_OP, w));
    EXPECT_OK(MPI_Win_fence(0, w));
    EXPECT(now == size, "NO_OP read %d", now);
    EXPECT_OK(MPI_Type_free(&strided));
    EXPECT_OK(MPI_Win_free(&w));
}

/* atomics: a shared counter (Fetch_and_op) and a one-winner election (Compare_and_swap) */
static void atomics(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    long long *mem = NULL;
    MPI_Win w;
    EXPECT_OK(MPI_Win_allocate(2 * sizeof(long long), sizeof(long long), MPI_INFO_NULL, comm,
                               &mem, &w));
    EXPECT_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w));
    mem[0] = 0;
    mem[1] = -1;
    EXPECT_OK(MPI_Win_unlock(rank, w));
    MPI_Barrier(comm);
    enum { K = 5 };
    long long one = 1, got[K], mysum = 0;
    EXPECT_OK(MPI_Win_lock_all(0, w));
    for (int k = 0; k < K; k++) {
        EXPECT_OK(MPI_Fetch_and_op(&one, &got[k], MPI_LONG_LONG, 0, 0, MPI_SUM, w));
        EXPECT_OK(MPI_Win_flush(0, w));
        mysum += got[k];
        if (k) EXPECT(got[k] > got[k - 1], "fetched %lld after %lld", got[k], got[k - 1]);
    }
    long long me = rank, old = 0, minus1 = -1;
    EXPECT_OK(MPI_Compare_and_swap(&me, &minus1, &old, MPI_LONG_LONG, 0, 1, w));
    EXPECT_OK(MPI_Win_flush(0, w));
    EXPECT_OK(MPI_Win_unlock_all(w));
    MPI_Barrier(comm);
    long long total = 0, n = (long long)K * size;
    MPI_Allreduce(&mysum, &total, 1, MPI_LONG_LONG, MPI_SUM, comm);
    EXPECT(total == n * (n - 1) / 2, "fetched values sum to %lld", total);
    int won = old == -1, winners = 0;
    MPI_Allreduce(&won, &winners, 1, MPI_INT, MPI_SUM, comm);
    EXPECT(winners == 1, "%d ranks won the compare-and-swap", winners);
    long long final[2] = {-9, -9}, dummy = 0;
    EXPECT_OK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
    EXPECT_OK(MPI_Fetch_and_op(&dummy, &final[0], MPI_LONG_LONG, 0, 0, MPI_NO_OP, w));
    EXPECT_OK(MPI_Get(&final[1], 1, MPI_LONG_LONG, 0, 1, 1, MPI_LONG_LONG, w));
    EXPECT_OK(MPI_Win_unlock(0, w));
    EXPECT(final[0] == n, "counter %lld, expected %lld", final[0], n);
    int winner = won ? rank : -1, who = -1;
    MPI_Allreduce(&winner, &who, 1, MPI_INT, MPI_MAX, comm);
    EXPECT(final[1] == who, "swapped in %lld, winner %d", final[1], who);
    EXPECT_OK(MPI_Win_free(&w));
}

/* request-based operations, completed with MPI_Wait */
static void requests(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    int *mem = NULL;
    MPI_Win w;
    EXPECT_OK(MPI_Win_allocate(4 * sizeof(int), sizeof(int), MPI_INFO_NULL, comm, &mem, &w));
    EXPECT_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, rank, 0, w));
    for (int i = 0; i < 4; i++) mem[i] = 0;
    EXPECT_OK(MPI_Win_unlock(rank, w));
    MPI_Barrier(comm);
    MPI_Request r;
    int v = rank + 1, one = 1;
    EXPECT_OK(MPI_Win_lock_all(0, w));
    EXPECT_OK(MPI_Rput(&v, 1, MPI_INT, right, 0, 1, MPI_INT, w, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(r == MPI_REQUEST_NULL, "Wait did not null the Rput request");
    for (int t = 0; t < size; t++) {
        EXPECT_OK(MPI_Raccumulate(&one, 1, MPI_INT, t, 1, 1, MPI_INT, MPI_SUM, w, &r));
        EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    }
    EXPECT_OK(MPI_Win_unlock_all(w));
    MPI_Barrier(comm);
    EXPECT_OK(MPI_Win_lock_all(0, w));
    int got = -1, ten = 10, old = -1, after = -1;
    EXPECT_OK(MPI_Rget(&got, 1, MPI_INT, right, 0, 1, MPI_INT, w, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(got == rank + 1, "Rget %d", got);
    EXPECT_OK(MPI_Rget_accumulate(&ten, 1, MPI_INT, &old, 1, MPI_INT, right, 2, 1, MPI_INT,
                                  MPI_SUM, w, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(old == 0, "Rget_accumulate fetched %d", old);
    EXPECT_OK(MPI_Win_flush(right, w));
    EXPECT_OK(MPI_Rget(&after, 1, MPI_INT, right, 2, 1, MPI_INT, w, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(after == 10, "after Rget_accumulate %d", after);
    EXPECT_OK(MPI_Rget(&after, 1, MPI_INT, rank, 1, 1, MPI_INT, w, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(after == size, "Raccumulate total %d", after);
    EXPECT_OK(MPI_Win_unlock_all(w));
    EXPECT_OK(MPI_Win_free(&w));
}

/* dynamic windows: displacements are addresses, exchanged by MPI; memory attached after the
 * linear memory grew is reachable; addresses outside every rank's memory are refused */
static void dynamic(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    MPI_Win w;
    EXPECT_OK(MPI_Win_create_dynamic(MPI_INFO_NULL, comm, &w));
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    int *flavor = NULL, flag = 0;
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    EXPECT(flag && *flavor == MPI_WIN_FLAVOR_DYNAMIC, "flavor %d", *flavor);
    int *small = calloc(4, sizeof(int));
    enum { BIG = 8 << 20 }; /* grows linear memory past its size at creation */
    int *big = calloc(BIG / sizeof(int), sizeof(int));
    EXPECT_OK(MPI_Win_attach(w, small, 4 * sizeof(int)));
    EXPECT_OK(MPI_Win_attach(w, big, BIG));
    MPI_Aint mine[2], *all = malloc(2 * sizeof(MPI_Aint) * (size_t)size);
    EXPECT_OK(MPI_Get_address(small, &mine[0]));
    EXPECT_OK(MPI_Get_address(&big[BIG / sizeof(int) - 1], &mine[1]));
    EXPECT_OK(MPI_Allgather(mine, 2, MPI_AINT, all, 2, MPI_AINT, comm));
    int v = rank + 1, w2 = rank + 1000;
    EXPECT_OK(MPI_Win_lock_all(0, w));
    EXPECT_OK(MPI_Put(&v, 1, MPI_INT, right, MPI_Aint_add(all[2 * right], sizeof(int)), 1,
                      MPI_INT, w));
    EXPECT_OK(MPI_Put(&w2, 1, MPI_INT, right, all[2 * right + 1], 1, MPI_INT, w));
    EXPECT_OK(MPI_Win_flush(right, w));
    /* nowhere near any rank's memory: refused on the origin, before the host sees it */
    int rc = MPI_Put(&v, 1, MPI_INT, right, (MPI_Aint)0x7ffffff0, 1, MPI_INT, w);
    EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "wild address: class %d", err_class(rc));
    rc = MPI_Get(&v, 1, MPI_INT, right, (MPI_Aint)-16, 1, MPI_INT, w);
    EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "negative address: class %d", err_class(rc));
    EXPECT_OK(MPI_Win_unlock_all(w));
    MPI_Barrier(comm);
    EXPECT_OK(MPI_Win_lock_all(0, w));
    EXPECT_OK(MPI_Win_sync(w));
    EXPECT(small[1] == left + 1, "small[1] = %d", small[1]);
    EXPECT(big[BIG / sizeof(int) - 1] == left + 1000, "big end = %d", big[BIG / sizeof(int) - 1]);
    EXPECT_OK(MPI_Win_unlock_all(w));
    MPI_Barrier(comm);
    EXPECT_OK(MPI_Win_detach(w, big));
    EXPECT_OK(MPI_Win_detach(w, small));
    /* attach needs a dynamic window */
    int buf[2];
    MPI_Win sw;
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, 1, MPI_INFO_NULL, comm, &sw));
    MPI_Win_set_errhandler(sw, MPI_ERRORS_RETURN);
    rc = MPI_Win_attach(sw, small, sizeof(int));
    EXPECT(err_class(rc) == MPI_ERR_RMA_FLAVOR, "attach to a created window: %d",
           err_class(rc));
    EXPECT_OK(MPI_Win_free(&sw));
    EXPECT_OK(MPI_Win_free(&w));
    free(all);
    free(big);
    free(small);
}

/* shared-memory windows: each rank is its own shared-memory domain */
static void shared(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    MPI_Comm node;
    EXPECT_OK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
    int nsize = -1;
    EXPECT_OK(MPI_Comm_size(node, &nsize));
    EXPECT(nsize == 1, "shared-memory communicator of %d ranks", nsize);
    double *mem = NULL;
    MPI_Win w;
    EXPECT_OK(MPI_Win_allocate_shared(4 * sizeof(double), sizeof(double), MPI_INFO_NULL, node,
                                      &mem, &w));
    for (int i = 0; i < 4; i++) mem[i] = rank + i / 4.0;
    MPI_Aint qsize = -1;
    int unit = -1;
    double *q = NULL;
    EXPECT_OK(MPI_Win_shared_query(w, MPI_PROC_NULL, &qsize, &unit, &q));
    EXPECT(q == mem && qsize == 4 * (MPI_Aint)sizeof(double) && unit == (int)sizeof(double),
           "query(PROC_NULL): %p %ld %d", (void *)q, (long)qsize, unit);
    EXPECT_OK(MPI_Win_shared_query(w, 0, &qsize, &unit, &q));
    EXPECT(q == mem && q[3] == rank + 0.75, "query(0): %p, q[3] = %g", (void *)q, q[3]);
    int *flavor = NULL, flag = 0;
    EXPECT_OK(MPI_Win_get_attr(w, MPI_WIN_CREATE_FLAVOR, &flavor, &flag));
    EXPECT(flag && *flavor == MPI_WIN_FLAVOR_SHARED, "flavor %d", *flavor);
    double got = -1;
    EXPECT_OK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, w));
    EXPECT_OK(MPI_Get(&got, 1, MPI_DOUBLE, 0, 2, 1, MPI_DOUBLE, w));
    EXPECT_OK(MPI_Win_unlock(0, w));
    EXPECT(got == rank + 0.5, "Get on the shared window: %g", got);
    EXPECT_OK(MPI_Win_free(&w));
    EXPECT_OK(MPI_Comm_free(&node));
    /* more than one rank cannot share memory; a created window has no shared query */
    MPI_Comm c = returning(comm);
    if (size > 1) {
        int rc = MPI_Win_allocate_shared(8, 1, MPI_INFO_NULL, c, &mem, &w);
        EXPECT(err_class(rc) == MPI_ERR_RMA_SHARED, "allocate_shared on %d ranks: class %d",
               size, err_class(rc));
    }
    int buf[1];
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, 1, MPI_INFO_NULL, c, &w));
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    int rc = MPI_Win_shared_query(w, 0, &qsize, &unit, &q);
    EXPECT(err_class(rc) == MPI_ERR_RMA_FLAVOR, "shared_query on a created window: %d",
           err_class(rc));
    EXPECT_OK(MPI_Win_free(&w));
    MPI_Comm_free(&c);
}

/* ---- queries, attributes, error handlers ---------------------------------------------------- */

static int deleted, handled, handled_class;
static MPI_Win handled_win;

static int count_delete(MPI_Win w, int k, void *val, void *extra)
{
    (void)w; (void)k; (void)extra;
    deleted += *(int *)val;
    return MPI_SUCCESS;
}

static void on_error(MPI_Win *w, int *code, ...)
{
    handled++;
    handled_win = *w;
    MPI_Error_class(*code, &handled_class);
}

static void on_comm_error(MPI_Comm *c, int *code, ...)
{
    (void)c; (void)code;
}

static void noop_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)in; (void)inout; (void)len; (void)dt;
}

static void queries(MPI_Comm comm)
{
    NEED_INTRA(comm);
    RANKS(comm);
    int buf[4];
    MPI_Win w;
    MPI_Info info;
    EXPECT_OK(MPI_Info_create(&info));
    EXPECT_OK(MPI_Info_set(info, "no_locks", "false"));
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, 1, info, comm, &w));
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    EXPECT_OK(MPI_Win_set_name(w, "halo window"));
    EXPECT_OK(MPI_Win_get_name(w, name, &len));
    EXPECT(strcmp(name, "halo window") == 0 && len == 11, "name '%s' (%d)", name, len);
    MPI_Info used = MPI_INFO_NULL;
    int nkeys = -1;
    EXPECT_OK(MPI_Win_set_info(w, info));
    EXPECT_OK(MPI_Win_get_info(w, &used));
    EXPECT(used != MPI_INFO_NULL, "Win_get_info gave MPI_INFO_NULL");
    EXPECT_OK(MPI_Info_get_nkeys(used, &nkeys));
    EXPECT(nkeys >= 0, "nkeys %d", nkeys);
    MPI_Info_free(&used);
    MPI_Info_free(&info);
    /* user attributes: the delete function runs on delete and on Win_free */
    int key = MPI_KEYVAL_INVALID, one = 1, ten = 10, *val = NULL, flag = 0;
    EXPECT_OK(MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, count_delete, &key, NULL));
    deleted = 0;
    EXPECT_OK(MPI_Win_set_attr(w, key, &one));
    EXPECT_OK(MPI_Win_get_attr(w, key, &val, &flag));
    EXPECT(flag && val == &one, "get_attr: flag %d, %p", flag, (void *)val);
    EXPECT_OK(MPI_Win_delete_attr(w, key));
    EXPECT(deleted == 1, "delete function: %d", deleted);
    EXPECT_OK(MPI_Win_get_attr(w, key, &val, &flag));
    EXPECT(!flag, "attribute still there after delete");
    EXPECT_OK(MPI_Win_set_attr(w, key, &ten));
    /* predefined window attributes cannot be set */
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    int rc = MPI_Win_set_attr(w, MPI_WIN_BASE, &one);
    EXPECT(err_class(rc) == MPI_ERR_KEYVAL, "set WIN_BASE: class %d", err_class(rc));
    EXPECT_OK(MPI_Win_free(&w));
    EXPECT(deleted == 11, "delete function at Win_free: %d", deleted);
    EXPECT_OK(MPI_Win_free_keyval(&key));
}

static void errors(MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int buf[4] = {0, 0, 0, 0};
    MPI_Win w;
    if (cf_is_inter(comm)) {
        MPI_Comm c = returning(comm);
        int rc = MPI_Win_create(buf, sizeof buf, 1, MPI_INFO_NULL, c, &w);
        EXPECT(err_class(rc) == MPI_ERR_COMM, "Win_create on an intercomm: class %d",
               err_class(rc));
        MPI_Comm_free(&c);
        return;
    }
    EXPECT_OK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, comm, &w));
    /* the default is MPI_ERRORS_ARE_FATAL, whatever the communicator's handler */
    MPI_Errhandler eh = MPI_ERRHANDLER_NULL;
    EXPECT_OK(MPI_Win_get_errhandler(w, &eh));
    EXPECT(eh == MPI_ERRORS_ARE_FATAL, "default window handler is another");
    /* a user handler: called with the window and MPI_ERR_RMA_RANGE */
    MPI_Errhandler mine;
    EXPECT_OK(MPI_Win_create_errhandler(on_error, &mine));
    EXPECT_OK(MPI_Win_set_errhandler(w, mine));
    EXPECT_OK(MPI_Win_get_errhandler(w, &eh));
    EXPECT(eh == mine, "Win_get_errhandler gave another handler");
    int v = 1, target = size - 1 - rank;
    handled = 0;
    EXPECT_OK(MPI_Win_fence(0, w));
    int rc = MPI_Put(&v, 1, MPI_INT, target, 4, 1, MPI_INT, w); /* one past the end */
    EXPECT(handled == 1 && handled_win == w && handled_class == MPI_ERR_RMA_RANGE,
           "handler: %d calls, class %d", handled, handled_class);
    EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "returned class %d", err_class(rc));
    EXPECT_OK(MPI_Win_call_errhandler(w, MPI_ERR_OTHER));
    EXPECT(handled == 2 && handled_class == MPI_ERR_OTHER, "call_errhandler: %d, %d", handled,
           handled_class);
    /* from here on errors return; a communicator's handler does not fit a window */
    EXPECT_OK(MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN));
    MPI_Errhandler ceh;
    EXPECT_OK(MPI_Comm_create_errhandler(on_comm_error, &ceh));
    rc = MPI_Win_set_errhandler(w, ceh);
    EXPECT(err_class(rc) == MPI_ERR_ARG, "a comm handler on a window: class %d", err_class(rc));
    EXPECT_OK(MPI_Errhandler_free(&ceh));
    /* wild and negative displacements, bad ranks, ops and modes: classes, never a crash */
    struct { int disp, count; } wild[] = {{1 << 30, 1}, {-1, 1}, {-(1 << 30), 1}, {3, 2},
                                          {0x7fffffff, 1}};
    for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
        int big[2] = {9, 9};
        rc = MPI_Put(big, wild[i].count, MPI_INT, target, wild[i].disp, wild[i].count, MPI_INT,
                     w);
        EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "Put at %d: class %d", wild[i].disp,
               err_class(rc));
        rc = MPI_Get(big, wild[i].count, MPI_INT, target, wild[i].disp, wild[i].count, MPI_INT,
                     w);
        EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "Get at %d: class %d", wild[i].disp,
               err_class(rc));
        rc = MPI_Accumulate(big, wild[i].count, MPI_INT, target, wild[i].disp, wild[i].count,
                            MPI_INT, MPI_SUM, w);
        EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "Accumulate at %d: class %d", wild[i].disp,
               err_class(rc));
    }
    /* a target type with a negative lower bound reaches before the window */
    MPI_Datatype before;
    int bl[2] = {1, 1}, dl[2] = {-1, 0};
    EXPECT_OK(MPI_Type_indexed(2, bl, dl, MPI_INT, &before));
    EXPECT_OK(MPI_Type_commit(&before));
    int two[2] = {5, 5};
    rc = MPI_Put(two, 2, MPI_INT, target, 0, 1, before, w);
    EXPECT(err_class(rc) == MPI_ERR_RMA_RANGE, "negative lb: class %d", err_class(rc));
    EXPECT_OK(MPI_Put(two, 2, MPI_INT, target, 2, 1, before, w)); /* ints [1, 3): inside */
    EXPECT_OK(MPI_Type_free(&before));
    rc = MPI_Put(&v, 1, MPI_INT, size, 0, 1, MPI_INT, w);
    EXPECT(err_class(rc) == MPI_ERR_RANK, "rank %d: class %d", size, err_class(rc));
    MPI_Op user;
    EXPECT_OK(MPI_Op_create(noop_op, 1, &user));
    rc = MPI_Accumulate(&v, 1, MPI_INT, target, 0, 1, MPI_INT, user, w);
    EXPECT(err_class(rc) == MPI_ERR_OP, "user op in Accumulate: class %d", err_class(rc));
    int res = 0;
    rc = MPI_Fetch_and_op(&v, &res, MPI_INT, target, 0, MPI_OP_NULL, w);
    EXPECT(err_class(rc) == MPI_ERR_OP, "MPI_OP_NULL: class %d", err_class(rc));
    EXPECT_OK(MPI_Op_free(&user));
    rc = MPI_Win_fence(1 << 20, w);
    EXPECT(err_class(rc) == MPI_ERR_ASSERT, "fence assert: class %d", err_class(rc));
    EXPECT_OK(MPI_Win_fence(0, w));
    EXPECT(buf[0] == 0 && buf[3] == 0, "a refused access wrote: %d %d", buf[0], buf[3]);
    EXPECT(buf[1] == 5 && buf[2] == 5, "negative-lb type inside: %d %d", buf[1], buf[2]);
    rc = MPI_Win_lock(12345, target, 0, w);
    EXPECT(err_class(rc) == MPI_ERR_LOCKTYPE, "lock type: class %d", err_class(rc));
    EXPECT_OK(MPI_Win_free(&w));
    EXPECT_OK(MPI_Errhandler_free(&mine));
    /* creation errors go to the communicator */
    MPI_Comm c = returning(comm);
    rc = MPI_Win_create(buf, -4, 1, MPI_INFO_NULL, c, &w);
    EXPECT(err_class(rc) == MPI_ERR_SIZE, "negative size: class %d", err_class(rc));
    rc = MPI_Win_create(buf, 4, 0, MPI_INFO_NULL, c, &w);
    EXPECT(err_class(rc) == MPI_ERR_DISP, "disp_unit 0: class %d", err_class(rc));
    MPI_Comm_free(&c);
}

/* `rma.wasm fatal`: under the default MPI_ERRORS_ARE_FATAL, a wild displacement ends the job
 * with the error class, before the host touches any memory */
static int fatal(void)
{
    int rank, size, buf[2] = {0, 0}, v = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN); /* the window's still fatal */
    MPI_Win w;
    MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &w);
    MPI_Win_fence(0, w);
    MPI_Put(&v, 1, MPI_INT, size - 1, rank == 0 ? 1 << 30 : 0, 1, MPI_INT, w);
    MPI_Win_fence(0, w);
    printf("not reached: rank %d\n", rank);
    MPI_Win_free(&w);
    MPI_Finalize();
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc > 1 && strcmp(argv[1], "fatal") == 0)
        return fatal();
    for_each_comm(fence, "fence");
    for_each_comm(pscw, "pscw");
    for_each_comm(locks, "locks");
    for_each_comm(lock_all, "lock_all");
    for_each_comm(accumulate, "accumulate");
    for_each_comm(atomics, "atomics");
    for_each_comm(requests, "requests");
    for_each_comm(dynamic, "dynamic");
    for_each_comm(shared, "shared");
    for_each_comm(queries, "queries");
    for_each_comm(errors, "errors");
    return finish();
}
