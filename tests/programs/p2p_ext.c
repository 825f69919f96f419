/* Point-to-point and requests beyond the basics: persistent requests in every mode, the
 * buffered-send buffer in guest memory, matched probes, request status queries, cancellation,
 * statuses set by hand, Sendrecv_replace, partial receives of derived types, status arrays
 * ignored, and generalized requests (guest query/free/cancel functions the host MPI calls back).
 *
 * Each exchange runs on every communicator of the conformance harness: on an
 * intracommunicator every rank sends to rank+1 and receives from rank-1 (itself on one
 * process); on an intercommunicator local rank r pairs with remote rank r, and a rank without
 * a partner talks to MPI_PROC_NULL, so its checks are those of an empty receive. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

enum { N = 8 };

static void peers(MPI_Comm comm, int *me, int *dest, int *src)
{
    int size;
    MPI_Comm_rank(comm, me);
    MPI_Comm_size(comm, &size);
    if (cf_is_inter(comm)) {
        int rsize;
        MPI_Comm_remote_size(comm, &rsize);
        *dest = *src = *me < rsize ? *me : MPI_PROC_NULL;
    } else {
        *dest = (*me + 1) % size;
        *src = (*me + size - 1) % size;
    }
}

/* what rank r sends in round k at index i: distinct per sender, round and position */
static int val(int r, int k, int i) { return 100000 * k + 1000 * r + i + 1; }

static void fill(int *b, int n, int r, int k)
{
    for (int i = 0; i < n; i++) b[i] = val(r, k, i);
}

/* n values from `src` in round k, or (MPI_PROC_NULL) the buffer untouched at -1 */
static void check_buf(const int *b, int n, int src, int k, const char *what)
{
    for (int i = 0; i < n; i++) {
        int want = src == MPI_PROC_NULL ? -1 : val(src, k, i);
        EXPECT(b[i] == want, "%s: [%d] = %d, want %d", what, i, b[i], want);
    }
}

/* a receive's status: from src with tag and n ints, or the empty status of MPI_PROC_NULL */
static void check_status(const MPI_Status *st, int src, int tag, int n, const char *what)
{
    int count = -7;
    MPI_Get_count(st, MPI_INT, &count);
    if (src == MPI_PROC_NULL || src == MPI_ANY_SOURCE) {
        EXPECT(st->MPI_SOURCE == src && st->MPI_TAG == MPI_ANY_TAG && count == 0,
               "%s: empty status is source %d tag %d count %d, want source %d", what,
               st->MPI_SOURCE, st->MPI_TAG, count, src);
        return;
    }
    EXPECT(st->MPI_SOURCE == src && st->MPI_TAG == tag && count == n,
           "%s: status source %d tag %d count %d, want %d %d %d", what, st->MPI_SOURCE,
           st->MPI_TAG, count, src, tag, n);
}

/* A persistent receive from MPI_PROC_NULL: MPICH 5.0 completes it with the empty status
 * (source MPI_ANY_SOURCE) where the standard and Open MPI give source MPI_PROC_NULL; natively
 * the same, so the bridge passes it through; only MPICH is let off. */
static int host_is_mpich(void)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    return strncmp(v, "MPICH", 5) == 0;
}

static void check_persistent_status(const MPI_Status *st, int src, int tag, int n,
                                    const char *what)
{
    if (src == MPI_PROC_NULL && st->MPI_SOURCE == MPI_ANY_SOURCE && host_is_mpich())
        src = MPI_ANY_SOURCE;
    check_status(st, src, tag, n, what);
}

/* the standard's empty status (a null or inactive request) */
static void check_empty(const MPI_Status *st, const char *what)
{
    check_status(st, MPI_ANY_SOURCE, 0, 0, what);
    int flag = -1;
    MPI_Test_cancelled(st, &flag);
    EXPECT(flag == 0, "%s: empty status cancelled = %d", what, flag);
}

/* ---- persistent requests ------------------------------------------------------------------ */

static void persistent(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int sbuf[N], rbuf[N];
    /* Bsend_init needs an attached buffer: room for every round, as a sent message may hold
     * its space until the library notices its transfer completed */
    int psz = 0;
    EXPECT_OK(MPI_Pack_size(N, MPI_INT, comm, &psz));
    int bsize = 3 * (psz + MPI_BSEND_OVERHEAD);
    char *bbuf = malloc((size_t)bsize);
    EXPECT_OK(MPI_Buffer_attach(bbuf, bsize));

    MPI_Request recv, send[4];
    EXPECT_OK(MPI_Recv_init(rbuf, N, MPI_INT, src, MPI_ANY_TAG, comm, &recv));
    EXPECT_OK(MPI_Send_init(sbuf, N, MPI_INT, dest, 11, comm, &send[0]));
    EXPECT_OK(MPI_Ssend_init(sbuf, N, MPI_INT, dest, 12, comm, &send[1]));
    EXPECT_OK(MPI_Rsend_init(sbuf, N, MPI_INT, dest, 13, comm, &send[2]));
    EXPECT_OK(MPI_Bsend_init(sbuf, N, MPI_INT, dest, 14, comm, &send[3]));
    static const char *const mode[4] = {"Send_init", "Ssend_init", "Rsend_init", "Bsend_init"};
    for (int m = 0; m < 4; m++)
        for (int k = 0; k < 3; k++) { /* each request restarted after it completed */
            fill(sbuf, N, me, k + 10 * m);
            memset(rbuf, 0xff, sizeof rbuf);
            MPI_Status st[2];
            char what[64];
            snprintf(what, sizeof what, "%s round %d", mode[m], k);
            if (m == 2) { /* ready mode: every receive is posted before any send starts */
                EXPECT_OK(MPI_Start(&recv));
                EXPECT_OK(MPI_Barrier(comm));
                EXPECT_OK(MPI_Start(&send[m]));
                MPI_Request both[2] = {recv, send[m]};
                EXPECT_OK(MPI_Waitall(2, both, st));
                EXPECT(both[0] == recv && both[1] == send[m], "%s: Waitall changed a handle",
                       what);
            } else {
                MPI_Request both[2] = {recv, send[m]};
                EXPECT_OK(MPI_Startall(2, both));
                if (k == 1) {
                    int flag = 0;
                    while (!flag)
                        EXPECT_OK(MPI_Testall(2, both, &flag, st));
                } else {
                    EXPECT_OK(MPI_Waitall(2, both, st));
                }
                EXPECT(both[0] != MPI_REQUEST_NULL && both[1] != MPI_REQUEST_NULL,
                       "%s: a completed persistent request was nulled", what);
                recv = both[0];
                send[m] = both[1];
            }
            check_persistent_status(&st[0], src, 11 + m, N, what);
            check_buf(rbuf, N, src, k + 10 * m, what);
        }
    /* inactive persistent requests: Request_free releases them at once */
    EXPECT_OK(MPI_Request_free(&recv));
    EXPECT(recv == MPI_REQUEST_NULL, "Request_free did not null the receive");
    for (int m = 0; m < 4; m++) {
        EXPECT_OK(MPI_Request_free(&send[m]));
        EXPECT(send[m] == MPI_REQUEST_NULL, "Request_free did not null %s", mode[m]);
    }
    void *addr = NULL;
    int sz = 0;
    EXPECT_OK(MPI_Buffer_detach(&addr, &sz));
    EXPECT(addr == bbuf && sz == bsize, "detach gave %p %d, attached %p %d", addr, sz,
           (void *)bbuf, bsize);
    free(bbuf);
}

/* Start on one persistent request (not Startall) and Waitall over several inactive ones */
static void persistent_start(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int sbuf[N], rbuf[N];
    MPI_Request r[2];
    EXPECT_OK(MPI_Recv_init(rbuf, N, MPI_INT, src, 15, comm, &r[0]));
    EXPECT_OK(MPI_Send_init(sbuf, N, MPI_INT, dest, 15, comm, &r[1]));
    /* inactive persistent requests complete at once with an empty status */
    MPI_Status st[2];
    EXPECT_OK(MPI_Waitall(2, r, st));
    check_empty(&st[0], "Waitall on inactive requests");
    check_empty(&st[1], "Waitall on inactive requests");
    EXPECT(r[0] != MPI_REQUEST_NULL && r[1] != MPI_REQUEST_NULL,
           "Waitall nulled inactive persistent requests");
    for (int k = 0; k < 4; k++) {
        fill(sbuf, N, me, k);
        memset(rbuf, 0xff, sizeof rbuf);
        EXPECT_OK(MPI_Start(&r[0]));
        EXPECT_OK(MPI_Start(&r[1]));
        MPI_Status s;
        EXPECT_OK(MPI_Wait(&r[1], MPI_STATUS_IGNORE));
        EXPECT_OK(MPI_Wait(&r[0], &s));
        EXPECT(r[0] != MPI_REQUEST_NULL, "Wait nulled a persistent request");
        check_persistent_status(&s, src, 15, N, "Start");
        check_buf(rbuf, N, src, k, "Start");
    }
    EXPECT_OK(MPI_Request_free(&r[0]));
    EXPECT_OK(MPI_Request_free(&r[1]));
    EXPECT(r[0] == MPI_REQUEST_NULL && r[1] == MPI_REQUEST_NULL, "Request_free");
}

/* ---- buffered sends (the guest's buffer stands for a host one) ------------------------------- */

static void bsend(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int psz = 0;
    EXPECT_OK(MPI_Pack_size(N, MPI_INT, comm, &psz));
    int bsize = 2 * (psz + MPI_BSEND_OVERHEAD);
    char *bbuf = malloc((size_t)bsize);
    EXPECT_OK(MPI_Buffer_attach(bbuf, bsize));
    /* a hostile guest overwrites what a host MPI would keep in its attached buffer (MPICH:
     * segment headers with pointers); the host must not be using guest memory for it */
    memset(bbuf, 0x41, (size_t)bsize);
    int s1[N], s2[N], r1[N], r2[N];
    fill(s1, N, me, 1);
    fill(s2, N, me, 2);
    memset(r1, 0xff, sizeof r1);
    memset(r2, 0xff, sizeof r2);
    MPI_Request ib;
    EXPECT_OK(MPI_Bsend(s1, N, MPI_INT, dest, 21, comm));
    memset(s1, 0, sizeof s1); /* the message was copied into the attached buffer */
    memset(bbuf, 0x41, (size_t)bsize);
    EXPECT_OK(MPI_Ibsend(s2, N, MPI_INT, dest, 22, comm, &ib));
    EXPECT_OK(MPI_Wait(&ib, MPI_STATUS_IGNORE));
    EXPECT(ib == MPI_REQUEST_NULL, "Wait did not null the Ibsend request");
    memset(s2, 0, sizeof s2);
    MPI_Status st;
    EXPECT_OK(MPI_Recv(r2, N, MPI_INT, src, 22, comm, &st)); /* out of order: by tag */
    check_status(&st, src, 22, N, "Ibsend");
    check_buf(r2, N, src, 2, "Ibsend");
    EXPECT_OK(MPI_Recv(r1, N, MPI_INT, src, 21, comm, &st));
    check_status(&st, src, 21, N, "Bsend");
    check_buf(r1, N, src, 1, "Bsend");
    void *addr = NULL;
    int sz = 0;
    EXPECT_OK(MPI_Buffer_detach(&addr, &sz));
    EXPECT(addr == bbuf, "detach gave address %p, attached %p", addr, (void *)bbuf);
    EXPECT(sz == bsize, "detach gave size %d, attached %d", sz, bsize);
    /* a second attach/detach cycle with another buffer gives that one back */
    char *other = malloc((size_t)bsize + 64);
    EXPECT_OK(MPI_Buffer_attach(other + 64, bsize));
    EXPECT_OK(MPI_Buffer_detach(&addr, &sz));
    EXPECT(addr == other + 64 && sz == bsize, "second detach gave %p %d", addr, sz);
    free(other);
    free(bbuf);
}

/* ---- matched probes ------------------------------------------------------------------------ */

static void matched_probe(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int s1[N], s2[N / 2], rbuf[N];
    fill(s1, N, me, 1);
    fill(s2, N / 2, me, 2);
    MPI_Request sr[2];
    EXPECT_OK(MPI_Isend(s1, N, MPI_INT, dest, 31, comm, &sr[0]));
    EXPECT_OK(MPI_Isend(s2, N / 2, MPI_INT, dest, 32, comm, &sr[1]));
    MPI_Status st;
    MPI_Message m = MPI_MESSAGE_NULL;
    int flag = -1;
    if (src != MPI_PROC_NULL) {
        /* nobody sends tag 39 */
        EXPECT_OK(MPI_Improbe(src, 39, comm, &flag, &m, &st));
        EXPECT(flag == 0 && m == MPI_MESSAGE_NULL, "Improbe of no message: flag %d", flag);
        flag = 0;
        while (!flag)
            EXPECT_OK(MPI_Improbe(src, 32, comm, &flag, &m, &st));
        EXPECT(m != MPI_MESSAGE_NULL && m != MPI_MESSAGE_NO_PROC, "Improbe gave no message");
        check_status(&st, src, 32, N / 2, "Improbe");
        MPI_Request r;
        memset(rbuf, 0xff, sizeof rbuf);
        EXPECT_OK(MPI_Imrecv(rbuf, N, MPI_INT, &m, &r));
        EXPECT(m == MPI_MESSAGE_NULL, "Imrecv did not null the message");
        EXPECT_OK(MPI_Wait(&r, &st));
        check_status(&st, src, 32, N / 2, "Imrecv");
        check_buf(rbuf, N / 2, src, 2, "Imrecv");
        EXPECT(rbuf[N / 2] == -1, "Imrecv wrote past the message");

        EXPECT_OK(MPI_Mprobe(src, MPI_ANY_TAG, comm, &m, &st));
        check_status(&st, src, 31, N, "Mprobe");
        memset(rbuf, 0xff, sizeof rbuf);
        EXPECT_OK(MPI_Mrecv(rbuf, N, MPI_INT, &m, &st));
        EXPECT(m == MPI_MESSAGE_NULL, "Mrecv did not null the message");
        check_status(&st, src, 31, N, "Mrecv");
        check_buf(rbuf, N, src, 1, "Mrecv");
    }
    EXPECT_OK(MPI_Waitall(2, sr, MPI_STATUSES_IGNORE));

    /* MPI_PROC_NULL: the no-process message, which receives nothing */
    m = MPI_MESSAGE_NULL;
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    EXPECT_OK(MPI_Mprobe(MPI_PROC_NULL, 31, comm, &m, &st));
    EXPECT(m == MPI_MESSAGE_NO_PROC, "Mprobe(PROC_NULL) message %#x", (unsigned)(uintptr_t)m);
    check_status(&st, MPI_PROC_NULL, 0, 0, "Mprobe(PROC_NULL)");
    memset(rbuf, 0xff, sizeof rbuf);
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    EXPECT_OK(MPI_Mrecv(rbuf, N, MPI_INT, &m, &st));
    EXPECT(m == MPI_MESSAGE_NULL, "Mrecv(NO_PROC) did not null the message");
    check_status(&st, MPI_PROC_NULL, 0, 0, "Mrecv(NO_PROC)");
    check_buf(rbuf, N, MPI_PROC_NULL, 0, "Mrecv(NO_PROC)");
    flag = 0;
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    EXPECT_OK(MPI_Improbe(MPI_PROC_NULL, MPI_ANY_TAG, comm, &flag, &m, &st));
    EXPECT(flag == 1 && m == MPI_MESSAGE_NO_PROC, "Improbe(PROC_NULL) flag %d", flag);
    check_status(&st, MPI_PROC_NULL, 0, 0, "Improbe(PROC_NULL)");
    MPI_Request r;
    EXPECT_OK(MPI_Imrecv(rbuf, N, MPI_INT, &m, &r));
    EXPECT(m == MPI_MESSAGE_NULL, "Imrecv(NO_PROC) did not null the message");
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    EXPECT_OK(MPI_Wait(&r, &st));
    check_status(&st, MPI_PROC_NULL, 0, 0, "Imrecv(NO_PROC)");
    check_buf(rbuf, N, MPI_PROC_NULL, 0, "Imrecv(NO_PROC)");
}

/* ---- request status, cancellation ---------------------------------------------------------- */

static void request_status(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int sbuf[N], rbuf[N];
    fill(sbuf, N, me, 4);
    memset(rbuf, 0xff, sizeof rbuf);
    MPI_Request r;
    MPI_Status st;
    int flag = -1;
    EXPECT_OK(MPI_Irecv(rbuf, N, MPI_INT, src, 41, comm, &r));
    if (src != MPI_PROC_NULL) { /* nothing is sent before the barrier */
        EXPECT_OK(MPI_Request_get_status(r, &flag, &st));
        EXPECT(flag == 0, "Request_get_status before the send: flag %d", flag);
    }
    EXPECT_OK(MPI_Barrier(comm));
    EXPECT_OK(MPI_Send(sbuf, N, MPI_INT, dest, 41, comm));
    flag = 0;
    while (!flag)
        EXPECT_OK(MPI_Request_get_status(r, &flag, &st));
    EXPECT(r != MPI_REQUEST_NULL, "Request_get_status freed the request");
    check_status(&st, src, 41, N, "Request_get_status");
    /* the request is still there: Wait completes it and gives the same status */
    MPI_Status st2;
    EXPECT_OK(MPI_Wait(&r, &st2));
    EXPECT(r == MPI_REQUEST_NULL, "Wait did not null the request");
    check_status(&st2, src, 41, N, "Wait after Request_get_status");
    check_buf(rbuf, N, src, 4, "Request_get_status");
    /* the null request: flag 1, empty status */
    flag = 0;
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    EXPECT_OK(MPI_Request_get_status(MPI_REQUEST_NULL, &flag, &st));
    EXPECT(flag == 1, "Request_get_status(MPI_REQUEST_NULL) flag %d", flag);
    check_empty(&st, "Request_get_status(MPI_REQUEST_NULL)");
}

static void cancel_recv(MPI_Comm comm)
{
    int rbuf[N];
    MPI_Request r;
    MPI_Status st;
    /* nobody sends tag 49: the receive stays unmatched and the cancel succeeds */
    EXPECT_OK(MPI_Irecv(rbuf, N, MPI_INT, MPI_ANY_SOURCE, 49, comm, &r));
    EXPECT_OK(MPI_Cancel(&r));
    EXPECT(r != MPI_REQUEST_NULL, "Cancel nulled the request");
    EXPECT_OK(MPI_Wait(&r, &st));
    EXPECT(r == MPI_REQUEST_NULL, "Wait did not null the cancelled request");
    int flag = 0;
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 1, "Test_cancelled after a cancelled Irecv: %d", flag);
    /* and a receive that completed normally is not cancelled */
    int me, dest, src, one;
    peers(comm, &me, &dest, &src);
    EXPECT_OK(MPI_Sendrecv(&me, 1, MPI_INT, dest, 48, &one, 1, MPI_INT, src, 48, comm, &st));
    flag = -1;
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 0, "Test_cancelled after a normal receive: %d", flag);
}

/* ---- statuses set by hand ------------------------------------------------------------------- */

static void status_set(MPI_Comm comm)
{
    (void)comm;
    MPI_Status st;
    memset(&st, 0, sizeof st);
    st.MPI_SOURCE = 3;
    st.MPI_TAG = 77;
    int n = -1, flag = -1;
    MPI_Count x = -1;
    EXPECT_OK(MPI_Status_set_elements(&st, MPI_INT, 5));
    EXPECT_OK(MPI_Get_count(&st, MPI_INT, &n));
    EXPECT(n == 5, "Get_count(INT) = %d", n);
    EXPECT_OK(MPI_Get_count(&st, MPI_BYTE, &n));
    EXPECT(n == 20, "Get_count(BYTE) = %d", n);
    EXPECT_OK(MPI_Get_elements(&st, MPI_SHORT, &n));
    EXPECT(n == 10, "Get_elements(SHORT) = %d", n);
    EXPECT_OK(MPI_Get_elements_x(&st, MPI_INT, &x));
    EXPECT(x == 5, "Get_elements_x(INT) = %lld", (long long)x);
    EXPECT_OK(MPI_Get_count(&st, MPI_DOUBLE, &n));
    EXPECT(n == MPI_UNDEFINED, "Get_count(DOUBLE) of 20 bytes = %d", n);
    EXPECT(st.MPI_SOURCE == 3 && st.MPI_TAG == 77, "set_elements changed source/tag");
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 0, "fresh status cancelled = %d", flag);
    EXPECT_OK(MPI_Status_set_cancelled(&st, 1));
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 1, "after set_cancelled(1): %d", flag);
    EXPECT_OK(MPI_Get_count(&st, MPI_INT, &n));
    EXPECT(n == 5, "set_cancelled changed the count: %d", n);
    EXPECT_OK(MPI_Status_set_cancelled(&st, 0));
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 0, "after set_cancelled(0): %d", flag);
    /* a count beyond int: Get_count and Get_elements cannot say it, Get_elements_x can */
    MPI_Count big = (MPI_Count)3 << 31;
    EXPECT_OK(MPI_Status_set_elements_x(&st, MPI_BYTE, big));
    EXPECT_OK(MPI_Get_elements_x(&st, MPI_BYTE, &x));
    EXPECT(x == big, "Get_elements_x = %lld, want %lld", (long long)x, (long long)big);
    EXPECT_OK(MPI_Get_count(&st, MPI_BYTE, &n));
    EXPECT(n == MPI_UNDEFINED, "Get_count of 6 GiB = %d", n);
    EXPECT_OK(MPI_Get_elements(&st, MPI_BYTE, &n));
    EXPECT(n == MPI_UNDEFINED, "Get_elements of 6 GiB = %d", n);
    /* elements of a derived type: 7 ints set through pairs of ints */
    MPI_Datatype pair;
    EXPECT_OK(MPI_Type_contiguous(2, MPI_INT, &pair));
    EXPECT_OK(MPI_Type_commit(&pair));
    EXPECT_OK(MPI_Status_set_elements_x(&st, MPI_INT, 7));
    EXPECT_OK(MPI_Get_count(&st, pair, &n));
    EXPECT(n == MPI_UNDEFINED, "Get_count(pair) of 7 ints = %d", n);
    EXPECT_OK(MPI_Get_elements_x(&st, pair, &x));
    EXPECT(x == 7, "Get_elements_x(pair) = %lld", (long long)x);
    /* the count set is in basic elements: 4 ints are 2 pairs */
    EXPECT_OK(MPI_Status_set_elements(&st, pair, 4));
    EXPECT_OK(MPI_Get_elements(&st, pair, &n));
    EXPECT(n == 4, "Get_elements(pair) after set_elements(pair, 4) = %d", n);
    EXPECT_OK(MPI_Get_count(&st, pair, &n));
    EXPECT(n == 2, "Get_count(pair) after set_elements(pair, 4) = %d", n);
    EXPECT_OK(MPI_Get_count(&st, MPI_INT, &n));
    EXPECT(n == 4, "Get_count(INT) after set_elements(pair, 4) = %d", n);
    EXPECT_OK(MPI_Type_free(&pair));
}

/* ---- Sendrecv_replace, partial receives, ignored status arrays ------------------------------ */

static void sendrecv_replace(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    int buf[N];
    fill(buf, N, me, 5);
    MPI_Status st;
    EXPECT_OK(MPI_Sendrecv_replace(buf, N, MPI_INT, dest, 51, src, 51, comm, &st));
    check_status(&st, src, 51, N, "Sendrecv_replace");
    for (int i = 0; i < N; i++) {
        int want = val(src == MPI_PROC_NULL ? me : src, 5, i);
        EXPECT(buf[i] == want, "Sendrecv_replace [%d] = %d, want %d", i, buf[i], want);
    }
    /* through a strided type: only every other int travels, the rest stays */
    MPI_Datatype every2;
    EXPECT_OK(MPI_Type_vector(N / 2, 1, 2, MPI_INT, &every2));
    EXPECT_OK(MPI_Type_commit(&every2));
    fill(buf, N, me, 6);
    EXPECT_OK(MPI_Sendrecv_replace(buf, 1, every2, dest, 52, src, 52, comm, &st));
    for (int i = 0; i < N; i++) {
        int from = i % 2 == 0 && src != MPI_PROC_NULL ? src : me;
        EXPECT(buf[i] == val(from, 6, i), "strided Sendrecv_replace [%d] = %d, want %d", i,
               buf[i], val(from, 6, i));
    }
    int n = -1;
    EXPECT_OK(MPI_Get_count(&st, every2, &n));
    EXPECT(n == (src == MPI_PROC_NULL ? 0 : 1), "Get_count(vector) = %d", n);
    EXPECT_OK(MPI_Type_free(&every2));
}

static void partial_elements(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    /* 3 ints at stride 2 (extent 5 ints); 4 ints fill one and a third of it */
    MPI_Datatype vec;
    EXPECT_OK(MPI_Type_vector(3, 1, 2, MPI_INT, &vec));
    EXPECT_OK(MPI_Type_commit(&vec));
    int sbuf[4], rbuf[10];
    fill(sbuf, 4, me, 7);
    memset(rbuf, 0xff, sizeof rbuf);
    MPI_Status st;
    EXPECT_OK(MPI_Sendrecv(sbuf, 4, MPI_INT, dest, 61, rbuf, 2, vec, src, 61, comm, &st));
    int n = -2;
    MPI_Count x = -2;
    EXPECT_OK(MPI_Get_count(&st, vec, &n));
    int empty = src == MPI_PROC_NULL;
    EXPECT(n == (empty ? 0 : MPI_UNDEFINED), "Get_count(vector) = %d", n);
    EXPECT_OK(MPI_Get_elements(&st, vec, &n));
    EXPECT(n == (empty ? 0 : 4), "Get_elements(vector) = %d", n);
    EXPECT_OK(MPI_Get_elements_x(&st, vec, &x));
    EXPECT(x == (empty ? 0 : 4), "Get_elements_x(vector) = %lld", (long long)x);
    static const int at[4] = {0, 2, 4, 5};
    int k = 0;
    for (int i = 0; i < 10; i++) {
        int want = !empty && k < 4 && at[k] == i ? val(src, 7, k) : -1;
        if (!empty && k < 4 && at[k] == i)
            k++;
        EXPECT(rbuf[i] == want, "partial receive [%d] = %d, want %d", i, rbuf[i], want);
    }
    EXPECT_OK(MPI_Type_free(&vec));
}

static void statuses_ignore(MPI_Comm comm)
{
    int me, dest, src;
    peers(comm, &me, &dest, &src);
    enum { M = 3 };
    int sbuf[M][N], rbuf[M][N];
    MPI_Request r[2 * M];
    for (int round = 0; round < 3; round++) {
        for (int j = 0; j < M; j++) {
            fill(sbuf[j], N, me, 10 * round + j);
            memset(rbuf[j], 0xff, sizeof rbuf[j]);
            EXPECT_OK(MPI_Irecv(rbuf[j], N, MPI_INT, src, 70 + j, comm, &r[j]));
        }
        for (int j = 0; j < M; j++)
            EXPECT_OK(MPI_Isend(sbuf[j], N, MPI_INT, dest, 70 + j, comm, &r[M + j]));
        if (round == 0) {
            EXPECT_OK(MPI_Waitall(2 * M, r, MPI_STATUSES_IGNORE));
        } else if (round == 1) {
            int flag = 0;
            while (!flag)
                EXPECT_OK(MPI_Testall(2 * M, r, &flag, MPI_STATUSES_IGNORE));
        } else {
            int left = 2 * M, idx[2 * M], outcount = 0;
            while (left > 0) {
                EXPECT_OK(MPI_Waitsome(2 * M, r, &outcount, idx, MPI_STATUSES_IGNORE));
                EXPECT(outcount > 0 && outcount <= left, "Waitsome outcount %d", outcount);
                if (outcount <= 0)
                    break;
                left -= outcount;
            }
        }
        for (int j = 0; j < 2 * M; j++)
            EXPECT(r[j] == MPI_REQUEST_NULL, "round %d: request %d not nulled", round, j);
        for (int j = 0; j < M; j++)
            check_buf(rbuf[j], N, src, 10 * round + j, "statuses ignored");
    }
}

/* ---- generalized requests -------------------------------------------------------------------- */

typedef struct {
    int queries, frees, cancels, cancel_complete, cancelled;
    int source, tag, elements, query_rc;
} greq_state;

static int g_query(void *extra, MPI_Status *status)
{
    greq_state *s = extra;
    s->queries++;
    status->MPI_SOURCE = s->source;
    status->MPI_TAG = s->tag;
    MPI_Status_set_elements(status, MPI_INT, s->elements);
    MPI_Status_set_cancelled(status, s->cancelled);
    return s->query_rc;
}

static int g_free(void *extra)
{
    ((greq_state *)extra)->frees++;
    return MPI_SUCCESS;
}

static int g_cancel(void *extra, int complete)
{
    greq_state *s = extra;
    s->cancels++;
    s->cancel_complete = complete;
    if (!complete)
        s->cancelled = 1; /* not yet complete: this request can still be cancelled */
    return MPI_SUCCESS;
}

static greq_state fresh(int source, int tag, int elements)
{
    greq_state s;
    memset(&s, 0, sizeof s);
    s.source = source;
    s.tag = tag;
    s.elements = elements;
    s.cancel_complete = -1;
    return s;
}

static void grequest_wait(MPI_Comm comm)
{
    int me;
    MPI_Comm_rank(comm, &me);
    greq_state s = fresh(me, 81, 7);
    MPI_Request r = MPI_REQUEST_NULL;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &s, &r));
    EXPECT(r != MPI_REQUEST_NULL, "Grequest_start gave the null request");
    int flag = -1;
    MPI_Status st;
    EXPECT_OK(MPI_Request_get_status(r, &flag, &st));
    EXPECT(flag == 0, "incomplete generalized request: Request_get_status flag %d", flag);
    EXPECT_OK(MPI_Grequest_complete(r));
    EXPECT(s.frees == 0, "free_fn called before the request was waited for");
    EXPECT_OK(MPI_Wait(&r, &st));
    EXPECT(r == MPI_REQUEST_NULL, "Wait did not null the generalized request");
    EXPECT(s.queries >= 1, "query_fn never called");
    EXPECT(s.frees == 1, "free_fn called %d times", s.frees);
    EXPECT(s.cancels == 0, "cancel_fn called %d times", s.cancels);
    EXPECT(st.MPI_SOURCE == me && st.MPI_TAG == 81, "status source %d tag %d", st.MPI_SOURCE,
           st.MPI_TAG);
    int n = -1;
    EXPECT_OK(MPI_Get_count(&st, MPI_INT, &n));
    EXPECT(n == 7, "Get_count of the query's status = %d", n);
    EXPECT_OK(MPI_Get_count(&st, MPI_BYTE, &n));
    EXPECT(n == 28, "Get_count(BYTE) of the query's status = %d", n);
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 0, "Test_cancelled = %d", flag);
}

static void grequest_test(MPI_Comm comm)
{
    (void)comm;
    greq_state s = fresh(5, 82, 3);
    MPI_Request r;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &s, &r));
    int flag = -1;
    MPI_Status st;
    EXPECT_OK(MPI_Test(&r, &flag, &st));
    EXPECT(flag == 0 && r != MPI_REQUEST_NULL, "Test of an incomplete request: flag %d", flag);
    EXPECT_OK(MPI_Grequest_complete(r));
    /* Request_get_status queries but does not free */
    flag = 0;
    EXPECT_OK(MPI_Request_get_status(r, &flag, &st));
    EXPECT(flag == 1, "Request_get_status after complete: flag %d", flag);
    EXPECT(st.MPI_SOURCE == 5 && st.MPI_TAG == 82, "get_status source %d tag %d",
           st.MPI_SOURCE, st.MPI_TAG);
    EXPECT(s.frees == 0, "Request_get_status freed the request");
    s.tag = 83; /* a later query gives a fresh status */
    flag = 0;
    while (!flag)
        EXPECT_OK(MPI_Test(&r, &flag, &st));
    EXPECT(r == MPI_REQUEST_NULL, "Test did not null the request");
    EXPECT(st.MPI_SOURCE == 5 && st.MPI_TAG == 83, "Test status source %d tag %d",
           st.MPI_SOURCE, st.MPI_TAG);
    int n = -1;
    EXPECT_OK(MPI_Get_elements(&st, MPI_INT, &n));
    EXPECT(n == 3, "Get_elements = %d", n);
    EXPECT(s.frees == 1, "free_fn called %d times", s.frees);
}

static void grequest_cancel(MPI_Comm comm)
{
    (void)comm;
    /* cancelled before completion: cancel_fn sees complete = 0 */
    greq_state s = fresh(1, 84, 0);
    MPI_Request r;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &s, &r));
    EXPECT_OK(MPI_Cancel(&r));
    EXPECT(s.cancels == 1 && s.cancel_complete == 0, "cancel_fn: %d calls, complete %d",
           s.cancels, s.cancel_complete);
    EXPECT_OK(MPI_Grequest_complete(r));
    MPI_Status st;
    EXPECT_OK(MPI_Wait(&r, &st));
    int flag = -1;
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 1, "Test_cancelled after a cancel before completion: %d", flag);
    EXPECT(s.frees == 1, "free_fn called %d times", s.frees);
    /* cancelled after completion: complete = 1, and the query says not cancelled */
    greq_state t = fresh(2, 85, 1);
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &t, &r));
    EXPECT_OK(MPI_Grequest_complete(r));
    EXPECT_OK(MPI_Cancel(&r));
    EXPECT(t.cancels == 1 && t.cancel_complete == 1, "cancel_fn: %d calls, complete %d",
           t.cancels, t.cancel_complete);
    EXPECT_OK(MPI_Wait(&r, &st));
    EXPECT_OK(MPI_Test_cancelled(&st, &flag));
    EXPECT(flag == 0, "Test_cancelled after a cancel of a complete request: %d", flag);
    EXPECT(t.frees == 1, "free_fn called %d times", t.frees);
}

static void grequest_many(MPI_Comm comm)
{
    (void)comm;
    /* Waitall over generalized and ordinary requests; a null callback is a no-op */
    greq_state s[3] = {fresh(0, 86, 1), fresh(1, 87, 2), fresh(2, 88, 3)};
    MPI_Request r[4];
    for (int i = 0; i < 3; i++)
        EXPECT_OK(MPI_Grequest_start(g_query, g_free, i == 2 ? NULL : g_cancel, &s[i], &r[i]));
    int y = 0;
    EXPECT_OK(MPI_Irecv(&y, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_SELF, &r[3]));
    for (int i = 2; i >= 0; i--)
        EXPECT_OK(MPI_Grequest_complete(r[i]));
    MPI_Status st[4];
    EXPECT_OK(MPI_Waitall(4, r, st));
    for (int i = 0; i < 3; i++) {
        int n = -1;
        MPI_Get_count(&st[i], MPI_INT, &n);
        EXPECT(st[i].MPI_SOURCE == i && st[i].MPI_TAG == 86 + i && n == i + 1,
               "Waitall status %d: source %d tag %d count %d", i, st[i].MPI_SOURCE,
               st[i].MPI_TAG, n);
        EXPECT(s[i].frees == 1, "request %d: free_fn called %d times", i, s[i].frees);
        EXPECT(r[i] == MPI_REQUEST_NULL, "request %d not nulled", i);
    }
    check_status(&st[3], MPI_PROC_NULL, 0, 0, "Waitall PROC_NULL receive");
}

static void grequest_free(MPI_Comm comm)
{
    (void)comm;
    /* freed before completion: free_fn runs in Grequest_complete, called with a copy of the
     * handle (the standard's "whichever happens last") */
    greq_state s = fresh(0, 90, 0);
    MPI_Request r, copy;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &s, &r));
    copy = r;
    EXPECT_OK(MPI_Request_free(&r));
    EXPECT(r == MPI_REQUEST_NULL, "Request_free did not null the handle");
    EXPECT(s.frees == 0, "free_fn ran before the request completed");
    /* another request meanwhile must not take the freed one's place */
    greq_state t = fresh(0, 91, 0);
    MPI_Request other;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &t, &other));
    EXPECT(other != copy, "a new request reused a handle that is still to be completed");
    EXPECT_OK(MPI_Grequest_complete(copy));
    EXPECT(s.frees == 1, "free_fn called %d times after Grequest_complete", s.frees);
    EXPECT(t.frees == 0, "the other request was freed");
    /* completed, then freed: free_fn runs in Request_free */
    EXPECT_OK(MPI_Grequest_complete(other));
    EXPECT(t.frees == 0, "free_fn ran before the request was freed");
    EXPECT_OK(MPI_Request_free(&other));
    EXPECT(other == MPI_REQUEST_NULL, "Request_free did not null the handle");
    EXPECT(t.frees == 1, "free_fn called %d times after Request_free", t.frees);
    EXPECT(s.cancels == 0 && t.cancels == 0, "cancel_fn called");
}

static void grequest_error(MPI_Comm comm)
{
    (void)comm;
    /* the query function's error code is what Wait returns */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    greq_state s = fresh(0, 89, 0);
    s.query_rc = MPI_ERR_ARG;
    MPI_Request r;
    EXPECT_OK(MPI_Grequest_start(g_query, g_free, g_cancel, &s, &r));
    EXPECT_OK(MPI_Grequest_complete(r));
    int rc = MPI_Wait(&r, MPI_STATUS_IGNORE), cls = -1;
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_ARG, "Wait returned class %d, want MPI_ERR_ARG", cls);
    EXPECT(s.frees == 1, "free_fn called %d times", s.frees);
    /* a request that is not one */
    MPI_Request bogus = (MPI_Request)0x7654321;
    rc = MPI_Grequest_complete(bogus);
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_REQUEST, "Grequest_complete(bogus): class %d", cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    for_each_comm(persistent, "persistent");
    for_each_comm(persistent_start, "persistent_start");
    for_each_comm(bsend, "bsend");
    for_each_comm(matched_probe, "matched_probe");
    for_each_comm(request_status, "request_status");
    for_each_comm(cancel_recv, "cancel_recv");
    for_each_comm(status_set, "status_set");
    for_each_comm(sendrecv_replace, "sendrecv_replace");
    for_each_comm(partial_elements, "partial_elements");
    for_each_comm(statuses_ignore, "statuses_ignore");
    /* generalized requests belong to no communicator */
    run_case(grequest_wait, "grequest_wait", MPI_COMM_WORLD, "world");
    run_case(grequest_test, "grequest_test", MPI_COMM_SELF, "self");
    run_case(grequest_cancel, "grequest_cancel", MPI_COMM_SELF, "self");
    run_case(grequest_many, "grequest_many", MPI_COMM_SELF, "self");
    run_case(grequest_free, "grequest_free", MPI_COMM_SELF, "self");
    run_case(grequest_error, "grequest_error", MPI_COMM_SELF, "self");
    return finish();
}
