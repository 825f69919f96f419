/* MPI-4 calls that codes already use: large-count `_c` point-to-point, collectives (blocking,
 * nonblocking, persistent) and datatype sizes/packing, the persistent collectives,
 * MPI_Isendrecv(_replace), MPI_Comm_idup_with_info and MPI_Info_create_env, values checked on
 * every communicator of the conformance harness.
 *
 * The host MPI may lack some of them. The test passes, as arguments, the functions the host
 * library lacks (wasmpi's own probe, `wasmpi inspect --coverage`): a call the host cannot serve
 * must return MPI_ERR_UNSUPPORTED_OPERATION (rank 0 then prints "UNSUPPORTED <name>"), every
 * other call must succeed with the right values. A `_c` function the host lacks runs as its
 * int-count version while the counts fit in an int. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

static char **missing;
static int nmissing;

static int host_has(const char *f)
{
    for (int i = 0; i < nmissing; i++)
        if (!strcmp(missing[i], f))
            return 0;
    return 1;
}

/* whether a call of f whose counts fit in an int is served */
static int works(const char *f)
{
    if (host_has(f))
        return 1;
    size_t n = strlen(f);
    if (n < 3 || strcmp(f + n - 2, "_c"))
        return 0;
    char base[64];
    snprintf(base, sizeof base, "%.*s", (int)(n - 2), f);
    /* the int-count version is itself MPI-4 for the persistent and Isendrecv families */
    int mpi4 = strstr(base, "_init") || !strncmp(base, "MPI_Isendrecv", 13);
    return !mpi4 || host_has(base);
}

static int wrank_;
static char reported[64][40];
static int nreported;

/* the outcome of calling f: 1 when it ran and its results are to be checked */
static int outcome(const char *f, int rc, int served)
{
    if (served) {
        EXPECT(rc == MPI_SUCCESS, "%s returned %d", f, rc);
        return rc == MPI_SUCCESS;
    }
    EXPECT(err_class(rc) == MPI_ERR_UNSUPPORTED_OPERATION,
           "%s on a host without it returned %d, not MPI_ERR_UNSUPPORTED_OPERATION", f, rc);
    int seen = 0;
    for (int i = 0; i < nreported; i++)
        seen |= !strcmp(reported[i], f);
    if (!seen && nreported < 64) {
        snprintf(reported[nreported++], sizeof reported[0], "%s", f);
        if (wrank_ == 0)
            printf("UNSUPPORTED %s\n", f);
    }
    return 0;
}
#define RAN(f, call) outcome(#f, (call), works(#f))

static int is_inter(MPI_Comm comm) { return cf_is_inter(comm); }

/* in the harness's intercommunicator, the group that holds world rank 0 (the low half) */
static int low_half(void)
{
    int wsize;
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    return wrank_ < (wsize + 1) / 2;
}

/* One collective in its four MPI-4 forms: v = 0 blocking _c, 1 nonblocking _c, 2 persistent,
 * 3 persistent _c. A persistent request is started twice, with new input each round (SETUP
 * sees k), and freed. CHECK sees the results of round k. */
#define FORMS(N0, N1, N2, N3, SETUP, C0, C1, C2, C3, CHECK) \
    for (int v = 0; v < 4; v++) { \
        const char *fn_ = v == 0 ? N0 : v == 1 ? N1 : v == 2 ? N2 : N3; \
        MPI_Request req_ = MPI_REQUEST_NULL; \
        int rc_ = 0; \
        if (v >= 2) { \
            int k = 0; \
            (void)k; \
            SETUP; \
            rc_ = v == 2 ? (C2) : (C3); \
            if (!outcome(fn_, rc_, works(fn_))) \
                continue; \
        } \
        for (int k = 0; k < (v >= 2 ? 2 : 1); k++) { \
            SETUP; \
            if (v == 0) { \
                rc_ = (C0); \
            } else if (v == 1) { \
                rc_ = (C1); \
                if (rc_ == MPI_SUCCESS) rc_ = MPI_Wait(&req_, MPI_STATUS_IGNORE); \
            } else { \
                rc_ = MPI_Start(&req_); \
                if (rc_ == MPI_SUCCESS) rc_ = MPI_Wait(&req_, MPI_STATUS_IGNORE); \
            } \
            if (!outcome(fn_, rc_, v >= 2 || works(fn_))) \
                break; \
            CHECK; \
        } \
        if (v >= 2) { \
            EXPECT_OK(MPI_Request_free(&req_)); \
            EXPECT(req_ == MPI_REQUEST_NULL, "%s: Request_free left the handle", fn_); \
        } \
    }

enum { N = 5, MAXP = 8 };

/* ---- point-to-point -------------------------------------------------------------------- */

/* the peers of this rank: a ring on an intracommunicator; local rank r and remote rank r on
 * an intercommunicator (MPI_PROC_NULL when the other group is smaller) */
static void ring(MPI_Comm comm, int *dest, int *src)
{
    int rank, size, rsize;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (is_inter(comm)) {
        MPI_Comm_remote_size(comm, &rsize);
        *dest = *src = rank < rsize ? rank : MPI_PROC_NULL;
    } else {
        *dest = (rank + 1) % size;
        *src = (rank + size - 1) % size;
    }
}

static void fill(int *b, int who, int round)
{
    for (int i = 0; i < N; i++)
        b[i] = 1000 * who + 10 * round + i;
}

/* b holds what `src` sent in `round` (nothing from MPI_PROC_NULL: b untouched, -1) */
static int got(const int *b, int src, int round)
{
    for (int i = 0; i < N; i++)
        if (b[i] != (src == MPI_PROC_NULL ? -1 : 1000 * src + 10 * round + i))
            return 0;
    return 1;
}

/* each send form against a receive posted first (so MPI_Rsend_c is correct) */
static void p2p_sends(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    int rank, dest, src;
    MPI_Comm_rank(c, &rank);
    ring(c, &dest, &src);
    int sbuf[N], rbuf[N];
    int bsize = 4 * (N * 4 + MPI_BSEND_OVERHEAD);
    char *bb = malloc((size_t)bsize);
    EXPECT_OK(MPI_Buffer_attach(bb, bsize));
    for (int form = 0; form < 12; form++) {
        fill(sbuf, rank, form);
        for (int i = 0; i < N; i++) rbuf[i] = -1;
        MPI_Request rr, sr = MPI_REQUEST_NULL;
        MPI_Status st;
        EXPECT_OK(MPI_Irecv_c(rbuf, N, MPI_INT, src, form, c, &rr));
        EXPECT_OK(MPI_Barrier(c));
        int rc = 0, served = 1, persistent = 0;
        const char *fn = "";
#define FORM(i, f, call) case i: fn = #f; served = works(#f); rc = (call); break
        switch (form) {
        FORM(0, MPI_Send_c, MPI_Send_c(sbuf, N, MPI_INT, dest, form, c));
        FORM(1, MPI_Ssend_c, MPI_Ssend_c(sbuf, N, MPI_INT, dest, form, c));
        FORM(2, MPI_Rsend_c, MPI_Rsend_c(sbuf, N, MPI_INT, dest, form, c));
        FORM(3, MPI_Bsend_c, MPI_Bsend_c(sbuf, N, MPI_INT, dest, form, c));
        FORM(4, MPI_Isend_c, MPI_Isend_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(5, MPI_Issend_c, MPI_Issend_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(6, MPI_Irsend_c, MPI_Irsend_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(7, MPI_Ibsend_c, MPI_Ibsend_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(8, MPI_Send_init_c, MPI_Send_init_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(9, MPI_Ssend_init_c, MPI_Ssend_init_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(10, MPI_Rsend_init_c, MPI_Rsend_init_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        FORM(11, MPI_Bsend_init_c, MPI_Bsend_init_c(sbuf, N, MPI_INT, dest, form, c, &sr));
        }
#undef FORM
        persistent = form >= 8 && form <= 11;
        if (!outcome(fn, rc, served)) {
            MPI_Cancel(&rr);
            MPI_Wait(&rr, MPI_STATUS_IGNORE);
            continue;
        }
        if (persistent)
            EXPECT_OK(MPI_Start(&sr));
        EXPECT_OK(MPI_Wait(&sr, MPI_STATUS_IGNORE));
        EXPECT_OK(MPI_Wait(&rr, &st));
        EXPECT(got(rbuf, src, form), "%s: received %d %d ...", fn, rbuf[0], rbuf[1]);
        MPI_Count n = -1;
        EXPECT_OK(MPI_Get_count_c(&st, MPI_INT, &n));
        EXPECT(n == (src == MPI_PROC_NULL ? 0 : N), "Get_count_c = %lld", (long long)n);
        EXPECT_OK(MPI_Get_elements_c(&st, MPI_INT, &n));
        EXPECT(n == (src == MPI_PROC_NULL ? 0 : N), "Get_elements_c = %lld", (long long)n);
        if (persistent)
            EXPECT_OK(MPI_Request_free(&sr));
    }
    void *p;
    int sz;
    EXPECT_OK(MPI_Buffer_detach(&p, &sz));
    free(bb);
    MPI_Comm_free(&c);
}

/* the receive forms, and the combined send-receives */
static void p2p_recvs(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    int rank, dest, src;
    MPI_Comm_rank(c, &rank);
    ring(c, &dest, &src);
    int sbuf[N], rbuf[N];
    MPI_Status st;
    for (int form = 0; form < 9; form++) {
        fill(sbuf, rank, form);
        for (int i = 0; i < N; i++) rbuf[i] = -1;
        MPI_Request sr, rr = MPI_REQUEST_NULL;
        const char *fn = "";
        int rc = 0, served = 1;
        if (form < 5)
            EXPECT_OK(MPI_Isend(sbuf, N, MPI_INT, dest, form, c, &sr));
        switch (form) {
        case 0:
            fn = "MPI_Recv_c";
            rc = MPI_Recv_c(rbuf, N, MPI_INT, src, form, c, &st);
            break;
        case 1:
            fn = "MPI_Recv_init_c";
            rc = MPI_Recv_init_c(rbuf, N, MPI_INT, src, form, c, &rr);
            if (rc == MPI_SUCCESS) {
                EXPECT_OK(MPI_Start(&rr));
                EXPECT_OK(MPI_Wait(&rr, &st));
                EXPECT_OK(MPI_Request_free(&rr));
            }
            break;
        case 2: {
            fn = "MPI_Mrecv_c";
            MPI_Message m;
            EXPECT_OK(MPI_Mprobe(src, form, c, &m, &st));
            rc = MPI_Mrecv_c(rbuf, N, MPI_INT, &m, &st);
            break;
        }
        case 3: {
            fn = "MPI_Imrecv_c";
            MPI_Message m;
            EXPECT_OK(MPI_Mprobe(src, form, c, &m, &st));
            rc = MPI_Imrecv_c(rbuf, N, MPI_INT, &m, &rr);
            if (rc == MPI_SUCCESS)
                EXPECT_OK(MPI_Wait(&rr, &st));
            break;
        }
        case 4:
            fn = "MPI_Irecv_c";
            rc = MPI_Irecv_c(rbuf, N, MPI_INT, src, form, c, &rr);
            if (rc == MPI_SUCCESS)
                EXPECT_OK(MPI_Wait(&rr, &st));
            break;
        case 5:
            fn = "MPI_Sendrecv_c";
            rc = MPI_Sendrecv_c(sbuf, N, MPI_INT, dest, form, rbuf, N, MPI_INT, src, form, c, &st);
            break;
        case 6:
            fn = "MPI_Sendrecv_replace_c";
            memcpy(rbuf, sbuf, sizeof rbuf);
            if (src == MPI_PROC_NULL)
                for (int i = 0; i < N; i++) rbuf[i] = -1;
            rc = MPI_Sendrecv_replace_c(rbuf, N, MPI_INT, dest, form, src, form, c, &st);
            break;
        case 7:
            fn = "MPI_Isendrecv";
            served = works(fn);
            rc = MPI_Isendrecv(sbuf, N, MPI_INT, dest, form, rbuf, N, MPI_INT, src, form, c,
                               &rr);
            if (rc == MPI_SUCCESS)
                EXPECT_OK(MPI_Wait(&rr, &st));
            break;
        case 8:
            fn = "MPI_Isendrecv_c";
            served = works(fn);
            rc = MPI_Isendrecv_c(sbuf, N, MPI_INT, dest, form, rbuf, N, MPI_INT, src, form, c,
                                 &rr);
            if (rc == MPI_SUCCESS)
                EXPECT_OK(MPI_Wait(&rr, &st));
            break;
        }
        if (form < 5)
            EXPECT_OK(MPI_Wait(&sr, MPI_STATUS_IGNORE));
        if (!outcome(fn, rc, served))
            continue;
        EXPECT(got(rbuf, src, form), "%s: received %d %d ...", fn, rbuf[0], rbuf[1]);
        EXPECT(src == MPI_PROC_NULL || st.MPI_SOURCE == src, "%s: status source %d", fn,
               st.MPI_SOURCE);
    }
    /* Isendrecv_replace and its _c form: the buffer is sent, then overwritten */
    for (int form = 0; form < 2; form++) {
        const char *fn = form ? "MPI_Isendrecv_replace_c" : "MPI_Isendrecv_replace";
        fill(rbuf, rank, 20 + form);
        if (src == MPI_PROC_NULL)
            for (int i = 0; i < N; i++) rbuf[i] = -1;
        MPI_Request rr;
        int rc = form ? MPI_Isendrecv_replace_c(rbuf, N, MPI_INT, dest, 9, src, 9, c, &rr)
                      : MPI_Isendrecv_replace(rbuf, N, MPI_INT, dest, 9, src, 9, c, &rr);
        if (!outcome(fn, rc, works(fn)))
            continue;
        EXPECT_OK(MPI_Wait(&rr, &st));
        EXPECT(got(rbuf, src, 20 + form), "%s: received %d %d ...", fn, rbuf[0], rbuf[1]);
    }
    MPI_Comm_free(&c);
}

/* counts beyond int: a datatype of size and extent 0 makes 2^33 elements legal without the
 * memory; only a host with the `_c` function can serve it. A count that cannot fit in linear
 * memory is MPI_ERR_COUNT, before the host is asked. */
static void big_counts(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("the same calls as on the intracommunicators");
    MPI_Comm c = returning(comm);
    MPI_Datatype empty;
    EXPECT_OK(MPI_Type_contiguous(0, MPI_INT, &empty));
    EXPECT_OK(MPI_Type_commit(&empty));
    int x = 0;
    MPI_Count big = (MPI_Count)1 << 33;
    MPI_Status st;
    outcome("MPI_Send_c", MPI_Send_c(&x, big, empty, MPI_PROC_NULL, 0, c), host_has("MPI_Send_c"));
    outcome("MPI_Recv_c", MPI_Recv_c(&x, big, empty, MPI_PROC_NULL, 0, c, &st),
            host_has("MPI_Recv_c"));
    int rc = MPI_Send_c(&x, big, MPI_INT, MPI_PROC_NULL, 0, c);
    EXPECT(err_class(rc) == MPI_ERR_COUNT, "Send_c of 2^33 ints: %d", rc);
    rc = MPI_Bcast_c(&x, big, MPI_INT, 0, c);
    EXPECT(err_class(rc) == MPI_ERR_COUNT, "Bcast_c of 2^33 ints: %d", rc);
    MPI_Count counts[MAXP];
    MPI_Aint displs[MAXP];
    for (int i = 0; i < MAXP; i++) { counts[i] = big; displs[i] = 0; }
    rc = MPI_Allgatherv_c(&x, 0, MPI_INT, &x, counts, displs, MPI_INT, c);
    EXPECT(err_class(rc) == MPI_ERR_COUNT, "Allgatherv_c of 2^33 ints: %d", rc);
    EXPECT_OK(MPI_Type_free(&empty));
    MPI_Comm_free(&c);
}

/* ---- collectives -------------------------------------------------------------------------- */

static void bcast(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    int rank, inter = is_inter(c);
    MPI_Comm_rank(c, &rank);
    /* on the intercommunicator the low half's rank 0 is the root */
    int root = inter ? (low_half() ? (rank == 0 ? MPI_ROOT : MPI_PROC_NULL) : 0) : 0;
    int sender = inter ? root == MPI_ROOT : rank == 0;
    int untouched = inter && root == MPI_PROC_NULL;
    int b[N];
    FORMS("MPI_Bcast_c", "MPI_Ibcast_c", "MPI_Bcast_init", "MPI_Bcast_init_c",
          { if (sender) fill(b, 7, k); else for (int i = 0; i < N; i++) b[i] = -1; },
          MPI_Bcast_c(b, N, MPI_INT, root, c),
          MPI_Ibcast_c(b, N, MPI_INT, root, c, &req_),
          MPI_Bcast_init(b, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          MPI_Bcast_init_c(b, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          EXPECT(untouched ? b[0] == -1 : got(b, 7, k), "%s round %d: %d %d", fn_, k, b[0], b[1]));
    MPI_Comm_free(&c);
}

static void barrier(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    MPI_Request r;
    if (RAN(MPI_Barrier_init, MPI_Barrier_init(c, MPI_INFO_NULL, &r))) {
        for (int k = 0; k < 2; k++) {
            EXPECT_OK(MPI_Start(&r));
            EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        }
        EXPECT_OK(MPI_Request_free(&r));
    }
    MPI_Comm_free(&c);
}

/* sums over the group that contributes: the remote group on an intercommunicator */
static void reductions(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    int rank, size, inter = is_inter(c), rsize;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    rsize = size;
    if (inter) MPI_Comm_remote_size(c, &rsize);
    int s[N], r[N];
    /* Allreduce: every rank gets the sum of (rank + 1) * (10 k + i) over the other group */
#define SETUP_R { for (int i = 0; i < N; i++) { s[i] = (rank + 1) * (10 * k + i); r[i] = -1; } }
#define TOTAL(n, i) ((n) * ((n) + 1) / 2 * (10 * k + (i)))
    FORMS("MPI_Allreduce_c", "MPI_Iallreduce_c", "MPI_Allreduce_init", "MPI_Allreduce_init_c",
          SETUP_R, MPI_Allreduce_c(s, r, N, MPI_INT, MPI_SUM, c),
          MPI_Iallreduce_c(s, r, N, MPI_INT, MPI_SUM, c, &req_),
          MPI_Allreduce_init(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          MPI_Allreduce_init_c(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          for (int i = 0; i < N; i++)
              EXPECT(r[i] == TOTAL(rsize, i), "%s round %d: r[%d] = %d", fn_, k, i, r[i]));
    if (inter) {
        MPI_Comm_free(&c);
        return; /* reduce, scan and the reduce-scatters: on intracommunicators below */
    }
    FORMS("MPI_Reduce_c", "MPI_Ireduce_c", "MPI_Reduce_init", "MPI_Reduce_init_c", SETUP_R,
          MPI_Reduce_c(s, r, N, MPI_INT, MPI_SUM, size - 1, c),
          MPI_Ireduce_c(s, r, N, MPI_INT, MPI_SUM, size - 1, c, &req_),
          MPI_Reduce_init(s, r, N, MPI_INT, MPI_SUM, size - 1, c, MPI_INFO_NULL, &req_),
          MPI_Reduce_init_c(s, r, N, MPI_INT, MPI_SUM, size - 1, c, MPI_INFO_NULL, &req_),
          for (int i = 0; i < N; i++)
              EXPECT(r[i] == (rank == size - 1 ? TOTAL(size, i) : -1), "%s: r[%d] = %d", fn_,
                     i, r[i]));
    FORMS("MPI_Scan_c", "MPI_Iscan_c", "MPI_Scan_init", "MPI_Scan_init_c", SETUP_R,
          MPI_Scan_c(s, r, N, MPI_INT, MPI_SUM, c),
          MPI_Iscan_c(s, r, N, MPI_INT, MPI_SUM, c, &req_),
          MPI_Scan_init(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          MPI_Scan_init_c(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          for (int i = 0; i < N; i++)
              EXPECT(r[i] == TOTAL(rank + 1, i), "%s: r[%d] = %d", fn_, i, r[i]));
    FORMS("MPI_Exscan_c", "MPI_Iexscan_c", "MPI_Exscan_init", "MPI_Exscan_init_c", SETUP_R,
          MPI_Exscan_c(s, r, N, MPI_INT, MPI_SUM, c),
          MPI_Iexscan_c(s, r, N, MPI_INT, MPI_SUM, c, &req_),
          MPI_Exscan_init(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          MPI_Exscan_init_c(s, r, N, MPI_INT, MPI_SUM, c, MPI_INFO_NULL, &req_),
          for (int i = 0; i < N; i++)
              EXPECT(rank == 0 || r[i] == TOTAL(rank, i), "%s: r[%d] = %d", fn_, i, r[i]));
    /* reduce-scatter: rank j gets j + 1 sums (block: 2 each) */
    int counts[MAXP], total = 0;
    for (int j = 0; j < size; j++) { counts[j] = j + 1; total += j + 1; }
    int *big = malloc(sizeof(int) * (size_t)total * 2), *out = malloc(sizeof(int) * (size_t)total);
    MPI_Request q;
    for (int form = 0; form < 2; form++) {
        const char *fn = form ? "MPI_Reduce_scatter_block_init" : "MPI_Reduce_scatter_init";
        int per = form ? 2 * size : total;
        for (int i = 0; i < per; i++) big[i] = (rank + 1) * i;
        int rc = form ? MPI_Reduce_scatter_block_init(big, out, 2, MPI_INT, MPI_SUM, c,
                                                      MPI_INFO_NULL, &q)
                      : MPI_Reduce_scatter_init(big, out, counts, MPI_INT, MPI_SUM, c,
                                                MPI_INFO_NULL, &q);
        if (!outcome(fn, rc, works(fn)))
            continue;
        for (int k = 1; k <= 2; k++) {
            for (int i = 0; i < per; i++) big[i] = (rank + 1) * i * k;
            EXPECT_OK(MPI_Start(&q));
            EXPECT_OK(MPI_Wait(&q, MPI_STATUS_IGNORE));
            int first = form ? 2 * rank : rank * (rank + 1) / 2, mine = form ? 2 : rank + 1;
            for (int i = 0; i < mine; i++)
                EXPECT(out[i] == size * (size + 1) / 2 * (first + i) * k, "%s: out[%d] = %d",
                       fn, i, out[i]);
        }
        EXPECT_OK(MPI_Request_free(&q));
    }
    free(big);
    free(out);
    /* Reduce_local_c */
    int a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
    if (RAN(MPI_Reduce_local_c, MPI_Reduce_local_c(a, b, 3, MPI_INT, MPI_SUM)))
        EXPECT(b[0] == 11 && b[1] == 22 && b[2] == 33, "Reduce_local_c %d %d %d", b[0], b[1],
               b[2]);
#undef SETUP_R
#undef TOTAL
    MPI_Comm_free(&c);
}

/* gathers: rank j contributes j + 1 elements of 100 j + 10 k + i (v forms) or N of them */
static void gathers(MPI_Comm comm)
{
    MPI_Comm c = returning(comm);
    int rank, size, rsize, inter = is_inter(c);
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    rsize = size;
    if (inter) MPI_Comm_remote_size(c, &rsize);
    int s[N], r[MAXP * N];
    FORMS("MPI_Allgather_c", "MPI_Iallgather_c", "MPI_Allgather_init", "MPI_Allgather_init_c",
          { fill(s, rank, k); for (int i = 0; i < MAXP * N; i++) r[i] = -1; },
          MPI_Allgather_c(s, N, MPI_INT, r, N, MPI_INT, c),
          MPI_Iallgather_c(s, N, MPI_INT, r, N, MPI_INT, c, &req_),
          MPI_Allgather_init(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          MPI_Allgather_init_c(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          for (int j = 0; j < rsize; j++)
              EXPECT(got(r + N * j, j, k), "%s round %d: block %d = %d", fn_, k, j, r[N * j]));
    if (inter) {
        MPI_Comm_free(&c);
        return;
    }
    MPI_Count vc[MAXP];
    MPI_Aint vd[MAXP];
    int ic[MAXP], id[MAXP];
    /* blocks in reverse order, one element apart: displacements are checked */
    for (int j = 0, at = 0; j < size; j++) {
        vc[j] = ic[j] = N;
        at = (size - 1 - j) * (N + 1);
        vd[j] = id[j] = at;
    }
#define VCHECK(at_j) \
    for (int j = 0; j < size; j++) \
        EXPECT(got(r + (at_j), j, k), "%s round %d: block %d = %d", fn_, k, j, r[(at_j)])
#define CLEAR { fill(s, rank, k); for (int i = 0; i < MAXP * N + MAXP; i++) rv[i] = -1; }
    int rv[MAXP * N + MAXP];
    {
        int *r = rv;
        FORMS("MPI_Allgatherv_c", "MPI_Iallgatherv_c", "MPI_Allgatherv_init",
              "MPI_Allgatherv_init_c", CLEAR,
              MPI_Allgatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c),
              MPI_Iallgatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c, &req_),
              MPI_Allgatherv_init(s, N, MPI_INT, r, ic, id, MPI_INT, c, MPI_INFO_NULL, &req_),
              MPI_Allgatherv_init_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c, MPI_INFO_NULL, &req_),
              VCHECK(id[j]));
        int root = size - 1, me = rank == root;
        FORMS("MPI_Gather_c", "MPI_Igather_c", "MPI_Gather_init", "MPI_Gather_init_c", CLEAR,
              MPI_Gather_c(s, N, MPI_INT, r, N, MPI_INT, root, c),
              MPI_Igather_c(s, N, MPI_INT, r, N, MPI_INT, root, c, &req_),
              MPI_Gather_init(s, N, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
              MPI_Gather_init_c(s, N, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
              if (me) VCHECK(N * j); else EXPECT(r[0] == -1, "%s: non-root written", fn_));
        FORMS("MPI_Gatherv_c", "MPI_Igatherv_c", "MPI_Gatherv_init", "MPI_Gatherv_init_c", CLEAR,
              MPI_Gatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, root, c),
              MPI_Igatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, root, c, &req_),
              MPI_Gatherv_init(s, N, MPI_INT, r, ic, id, MPI_INT, root, c, MPI_INFO_NULL, &req_),
              MPI_Gatherv_init_c(s, N, MPI_INT, r, vc, vd, MPI_INT, root, c, MPI_INFO_NULL,
                                 &req_),
              if (me) VCHECK(id[j]); else EXPECT(r[0] == -1, "%s: non-root written", fn_));
    }
#undef VCHECK
#undef CLEAR
    MPI_Comm_free(&c);
}

/* scatters and all-to-alls: the block for rank j from rank i holds 1000 i + 10 k + j-th block */
static void scatters(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("checked on intracommunicators (allgather and bcast cover "
                                  "the intercommunicator translation)");
    MPI_Comm c = returning(comm);
    int rank, size;
    MPI_Comm_rank(c, &rank);
    MPI_Comm_size(c, &size);
    int s[MAXP * N + MAXP], r[MAXP * N + MAXP];
    MPI_Count vc[MAXP];
    MPI_Aint vd[MAXP];
    int ic[MAXP], id[MAXP];
    for (int j = 0; j < size; j++) {
        vc[j] = ic[j] = N;
        vd[j] = id[j] = (size - 1 - j) * (N + 1);
    }
    int root = 0;
    /* send blocks: block for j at displacement d_j holds fill(rank * 10 + j) */
#define SEND(at_j) { for (int j = 0; j < size; j++) fill(s + (at_j), rank * 10 + j, k); \
                     for (int i = 0; i < MAXP * N + MAXP; i++) r[i] = -1; }
#define FROM(i_, at_j) for (int j = 0; j < size; j++) \
        EXPECT(got(r + (at_j), (i_) * 10 + rank, k), "%s round %d: from %d: %d", fn_, k, j, \
               r[(at_j)])
    FORMS("MPI_Scatter_c", "MPI_Iscatter_c", "MPI_Scatter_init", "MPI_Scatter_init_c",
          SEND(N * j), MPI_Scatter_c(s, N, MPI_INT, r, N, MPI_INT, root, c),
          MPI_Iscatter_c(s, N, MPI_INT, r, N, MPI_INT, root, c, &req_),
          MPI_Scatter_init(s, N, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          MPI_Scatter_init_c(s, N, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          EXPECT(got(r, root * 10 + rank, k), "%s round %d: %d", fn_, k, r[0]));
    FORMS("MPI_Scatterv_c", "MPI_Iscatterv_c", "MPI_Scatterv_init", "MPI_Scatterv_init_c",
          SEND(id[j]), MPI_Scatterv_c(s, vc, vd, MPI_INT, r, N, MPI_INT, root, c),
          MPI_Iscatterv_c(s, vc, vd, MPI_INT, r, N, MPI_INT, root, c, &req_),
          MPI_Scatterv_init(s, ic, id, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          MPI_Scatterv_init_c(s, vc, vd, MPI_INT, r, N, MPI_INT, root, c, MPI_INFO_NULL, &req_),
          EXPECT(got(r, root * 10 + rank, k), "%s round %d: %d", fn_, k, r[0]));
    FORMS("MPI_Alltoall_c", "MPI_Ialltoall_c", "MPI_Alltoall_init", "MPI_Alltoall_init_c",
          SEND(N * j), MPI_Alltoall_c(s, N, MPI_INT, r, N, MPI_INT, c),
          MPI_Ialltoall_c(s, N, MPI_INT, r, N, MPI_INT, c, &req_),
          MPI_Alltoall_init(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          MPI_Alltoall_init_c(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          FROM(j, N * j));
    FORMS("MPI_Alltoallv_c", "MPI_Ialltoallv_c", "MPI_Alltoallv_init", "MPI_Alltoallv_init_c",
          SEND(id[j]), MPI_Alltoallv_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c),
          MPI_Ialltoallv_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c, &req_),
          MPI_Alltoallv_init(s, ic, id, MPI_INT, r, ic, id, MPI_INT, c, MPI_INFO_NULL, &req_),
          MPI_Alltoallv_init_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c, MPI_INFO_NULL, &req_),
          FROM(j, id[j]));
    /* Alltoallw_init: byte displacements, a datatype per peer */
    int bd[MAXP];
    MPI_Datatype ty[MAXP];
    for (int j = 0; j < size; j++) { bd[j] = id[j] * (int)sizeof(int); ty[j] = MPI_INT; }
    MPI_Request q;
    int k = 0;
    if (RAN(MPI_Alltoallw_init, MPI_Alltoallw_init(s, ic, bd, ty, r, ic, bd, ty, c,
                                                   MPI_INFO_NULL, &q))) {
        for (k = 0; k < 2; k++) {
            const char *fn_ = "MPI_Alltoallw_init";
            SEND(id[j]);
            EXPECT_OK(MPI_Start(&q));
            EXPECT_OK(MPI_Wait(&q, MPI_STATUS_IGNORE));
            FROM(j, id[j]);
        }
        EXPECT_OK(MPI_Request_free(&q));
    }
#undef SEND
#undef FROM
    MPI_Comm_free(&c);
}

/* a neighbor's block b, or nothing from MPI_PROC_NULL */
static int nb(int who, int b) { return who == MPI_PROC_NULL ? MPI_PROC_NULL : who * 10 + b; }

/* neighborhood collectives on a ring (a 1-D Cartesian topology over the communicator): the
 * left neighbor's block comes first, then the right one's. The ring is periodic from 3
 * processes on: with fewer, a neighbor would be the same process in both directions, which
 * Open MPI 5.0's nonblocking neighborhood all-to-all gets wrong natively (blocks swapped). */
static void neighbors(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("no process topology on an intercommunicator");
    MPI_Comm c0 = returning(comm), c;
    int size, rank, dims[1], periods[1];
    MPI_Comm_size(c0, &size);
    dims[0] = size;
    periods[0] = size >= 3;
    EXPECT_OK(MPI_Cart_create(c0, 1, dims, periods, 0, &c));
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    MPI_Comm_rank(c, &rank);
    int left, right;
    EXPECT_OK(MPI_Cart_shift(c, 0, 1, &left, &right));
    int s[2 * N + 2], r[2 * N + 2];
    MPI_Count vc[2] = {N, N};
    MPI_Aint vd[2] = {N + 1, 0};
    int ic[2] = {N, N}, id[2] = {N + 1, 0};
#define CLEAR(blocks) { for (int b = 0; b < (blocks); b++) fill(s + b * (N + 1), rank * 10 + b, k); \
                        for (int i = 0; i < 2 * N + 2; i++) r[i] = -1; }
    FORMS("MPI_Neighbor_allgather_c", "MPI_Ineighbor_allgather_c", "MPI_Neighbor_allgather_init",
          "MPI_Neighbor_allgather_init_c", CLEAR(1),
          MPI_Neighbor_allgather_c(s, N, MPI_INT, r, N, MPI_INT, c),
          MPI_Ineighbor_allgather_c(s, N, MPI_INT, r, N, MPI_INT, c, &req_),
          MPI_Neighbor_allgather_init(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          MPI_Neighbor_allgather_init_c(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          EXPECT(got(r, nb(left, 0), k) && got(r + N, nb(right, 0), k), "%s round %d: %d %d", fn_,
                 k, r[0], r[N]));
    FORMS("MPI_Neighbor_allgatherv_c", "MPI_Ineighbor_allgatherv_c",
          "MPI_Neighbor_allgatherv_init", "MPI_Neighbor_allgatherv_init_c", CLEAR(1),
          MPI_Neighbor_allgatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c),
          MPI_Ineighbor_allgatherv_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c, &req_),
          MPI_Neighbor_allgatherv_init(s, N, MPI_INT, r, ic, id, MPI_INT, c, MPI_INFO_NULL,
                                       &req_),
          MPI_Neighbor_allgatherv_init_c(s, N, MPI_INT, r, vc, vd, MPI_INT, c, MPI_INFO_NULL,
                                         &req_),
          EXPECT(got(r + N + 1, nb(left, 0), k) && got(r, nb(right, 0), k), "%s round %d: %d %d",
                 fn_, k, r[N + 1], r[0]));
    /* alltoall: block 0 goes left, block 1 right; from the left comes its block 1 */
    FORMS("MPI_Neighbor_alltoall_c", "MPI_Ineighbor_alltoall_c", "MPI_Neighbor_alltoall_init",
          "MPI_Neighbor_alltoall_init_c",
          { fill(s, rank * 10, k); fill(s + N, rank * 10 + 1, k);
            for (int i = 0; i < 2 * N + 2; i++) r[i] = -1; },
          MPI_Neighbor_alltoall_c(s, N, MPI_INT, r, N, MPI_INT, c),
          MPI_Ineighbor_alltoall_c(s, N, MPI_INT, r, N, MPI_INT, c, &req_),
          MPI_Neighbor_alltoall_init(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          MPI_Neighbor_alltoall_init_c(s, N, MPI_INT, r, N, MPI_INT, c, MPI_INFO_NULL, &req_),
          EXPECT(got(r, nb(left, 1), k) && got(r + N, nb(right, 0), k), "%s round %d: %d %d",
                 fn_, k, r[0], r[N]));
    FORMS("MPI_Neighbor_alltoallv_c", "MPI_Ineighbor_alltoallv_c",
          "MPI_Neighbor_alltoallv_init", "MPI_Neighbor_alltoallv_init_c", CLEAR(2),
          MPI_Neighbor_alltoallv_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c),
          MPI_Ineighbor_alltoallv_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c, &req_),
          MPI_Neighbor_alltoallv_init(s, ic, id, MPI_INT, r, ic, id, MPI_INT, c, MPI_INFO_NULL,
                                      &req_),
          MPI_Neighbor_alltoallv_init_c(s, vc, vd, MPI_INT, r, vc, vd, MPI_INT, c,
                                        MPI_INFO_NULL, &req_),
          /* to the left goes the block at N + 1 (b = 1), to the right the one at 0 (b = 0) */
          EXPECT(got(r + N + 1, nb(left, 0), k) && got(r, nb(right, 1), k),
                 "%s round %d: %d %d", fn_, k, r[N + 1], r[0]));
    MPI_Aint bd[2] = {(N + 1) * (MPI_Aint)sizeof(int), 0};
    MPI_Datatype ty[2] = {MPI_INT, MPI_INT};
    MPI_Request q;
    if (RAN(MPI_Neighbor_alltoallw_init, MPI_Neighbor_alltoallw_init(
                s, ic, bd, ty, r, ic, bd, ty, c, MPI_INFO_NULL, &q))) {
        for (int k = 0; k < 2; k++) {
            CLEAR(2);
            EXPECT_OK(MPI_Start(&q));
            EXPECT_OK(MPI_Wait(&q, MPI_STATUS_IGNORE));
            EXPECT(got(r + N + 1, nb(left, 0), k) && got(r, nb(right, 1), k),
                   "Neighbor_alltoallw_init round %d: %d %d", k, r[N + 1], r[0]);
        }
        EXPECT_OK(MPI_Request_free(&q));
    }
#undef CLEAR
    MPI_Comm_free(&c);
    MPI_Comm_free(&c0);
}

/* ---- datatypes, communicators, info -------------------------------------------------------- */

static void datatypes(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("local calls: run on the intracommunicators");
    MPI_Comm c = returning(comm);
    MPI_Datatype vec;
    EXPECT_OK(MPI_Type_vector(3, 2, 4, MPI_INT, &vec)); /* 6 ints over 10 */
    EXPECT_OK(MPI_Type_commit(&vec));
    MPI_Count size = -1, lb = -1, ext = -1;
    if (RAN(MPI_Type_size_c, MPI_Type_size_c(vec, &size)))
        EXPECT(size == 24, "Type_size_c = %lld", (long long)size);
    if (RAN(MPI_Type_get_extent_c, MPI_Type_get_extent_c(vec, &lb, &ext)))
        EXPECT(lb == 0 && ext == 40, "Type_get_extent_c = %lld %lld", (long long)lb,
               (long long)ext);
    if (RAN(MPI_Type_get_true_extent_c, MPI_Type_get_true_extent_c(vec, &lb, &ext)))
        EXPECT(lb == 0 && ext == 40, "Type_get_true_extent_c = %lld %lld", (long long)lb,
               (long long)ext);
    MPI_Count psize = -1;
    if (RAN(MPI_Pack_size_c, MPI_Pack_size_c(2, vec, c, &psize)))
        EXPECT(psize >= 48, "Pack_size_c = %lld", (long long)psize);
    int in[20], out[20];
    for (int i = 0; i < 20; i++) { in[i] = i; out[i] = -1; }
    char packed[256];
    MPI_Count pos = 0;
    if (RAN(MPI_Pack_c, MPI_Pack_c(in, 2, vec, packed, sizeof packed, &pos, c))) {
        EXPECT(pos == 48, "Pack_c position %lld", (long long)pos);
        MPI_Count upos = 0;
        if (RAN(MPI_Unpack_c, MPI_Unpack_c(packed, pos, &upos, out, 2, vec, c))) {
            EXPECT(upos == 48, "Unpack_c position %lld", (long long)upos);
            for (int i = 0; i < 20; i++)
                EXPECT(out[i] == (i % 10 % 4 < 2 ? i : -1), "Unpack_c out[%d] = %d", i, out[i]);
        }
    }
    MPI_Count esize = -1;
    if (RAN(MPI_Pack_external_size_c, MPI_Pack_external_size_c("external32", 2, vec, &esize)))
        EXPECT(esize == 48, "Pack_external_size_c = %lld", (long long)esize);
    pos = 0;
    if (RAN(MPI_Pack_external_c, MPI_Pack_external_c("external32", in, 2, vec, packed,
                                                     sizeof packed, &pos))) {
        EXPECT(pos == 48 && packed[3] == 0 && packed[7] == 1, "Pack_external_c: %lld, %d %d",
               (long long)pos, packed[3], packed[7]); /* big-endian ints */
        MPI_Count upos = 0;
        for (int i = 0; i < 20; i++) out[i] = -1;
        if (RAN(MPI_Unpack_external_c, MPI_Unpack_external_c("external32", packed, pos, &upos,
                                                             out, 2, vec))) {
            EXPECT(upos == 48, "Unpack_external_c position %lld", (long long)upos);
            for (int i = 0; i < 20; i++)
                EXPECT(out[i] == (i % 10 % 4 < 2 ? i : -1), "Unpack_external_c out[%d] = %d", i,
                       out[i]);
        }
    }
    EXPECT_OK(MPI_Type_free(&vec));
    MPI_Comm_free(&c);
}

static void idup_with_info(MPI_Comm comm)
{
    MPI_Comm c = returning(comm), d = MPI_COMM_NULL;
    MPI_Info info;
    EXPECT_OK(MPI_Info_create(&info));
    EXPECT_OK(MPI_Info_set(info, "mpi_assert_no_any_tag", "true"));
    MPI_Request r;
    if (RAN(MPI_Comm_idup_with_info, MPI_Comm_idup_with_info(c, info, &d, &r))) {
        EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
        int cmp = -1;
        EXPECT_OK(MPI_Comm_compare(c, d, &cmp));
        EXPECT(cmp == MPI_CONGRUENT, "Comm_compare = %d", cmp);
        /* the new communicator works, and inherited the errors-return handler */
        int x = 1, y = 0, size, rsize;
        MPI_Comm_size(d, &size);
        rsize = size;
        if (is_inter(d)) MPI_Comm_remote_size(d, &rsize);
        EXPECT_OK(MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, d));
        EXPECT(y == rsize, "Allreduce on the new communicator = %d", y);
        int rc = MPI_Send(&x, 1, MPI_INT, 1 << 20, 0, d);
        EXPECT(err_class(rc) == MPI_ERR_RANK, "bad rank on the new communicator: %d", rc);
        EXPECT_OK(MPI_Comm_free(&d));
    }
    EXPECT_OK(MPI_Info_free(&info));
    MPI_Comm_free(&c);
}

static void info_env(MPI_Comm comm)
{
    if (comm != MPI_COMM_WORLD) SKIP_CASE("not a communicator call: once, on world");
    /* no communicator: errors go to MPI_COMM_WORLD's handler */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Info info = MPI_INFO_NULL;
    char *args[] = {"mpi4", "x", NULL};
    if (RAN(MPI_Info_create_env, MPI_Info_create_env(2, args, &info))) {
        int nkeys = -1;
        EXPECT_OK(MPI_Info_get_nkeys(info, &nkeys));
        EXPECT(nkeys >= 0, "nkeys = %d", nkeys);
        EXPECT(info != MPI_INFO_NULL, "no info");
        EXPECT_OK(MPI_Info_free(&info));
    }
    if (RAN(MPI_Info_create_env, MPI_Info_create_env(0, NULL, &info)))
        EXPECT_OK(MPI_Info_free(&info));
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank_);
    missing = argv + 1;
    nmissing = argc - 1;
    for_each_comm(p2p_sends, "p2p_sends");
    for_each_comm(p2p_recvs, "p2p_recvs");
    for_each_comm(big_counts, "big_counts");
    for_each_comm(bcast, "bcast");
    for_each_comm(barrier, "barrier");
    for_each_comm(reductions, "reductions");
    for_each_comm(gathers, "gathers");
    for_each_comm(scatters, "scatters");
    for_each_comm(neighbors, "neighbors");
    for_each_comm(datatypes, "datatypes");
    for_each_comm(idup_with_info, "idup_with_info");
    for_each_comm(info_env, "info_env");
    return finish();
}
