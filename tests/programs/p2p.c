/* Point-to-point: every send mode, every completion call, probes, statuses, PROC_NULL,
 * cancellation and rendezvous-sized messages, between ranks 0 and 1 (other ranks only join
 * the barriers and the ring exchanges). Exits nonzero with a message on the first mismatch. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;

#include "check_return.h"

static int blocking(void)
{
    int buf[20];
    MPI_Status st;
    int count;
    if (rank == 0) {
        for (int i = 0; i < 10; i++) buf[i] = 100 + i;
        OK(MPI_Send(buf, 10, MPI_INT, 1, 7, MPI_COMM_WORLD));
        for (int i = 0; i < 5; i++) buf[i] = 200 + i;
        OK(MPI_Ssend(buf, 5, MPI_INT, 1, 8, MPI_COMM_WORLD));
        OK(MPI_Send(buf, 3, MPI_INT, 1, 9, MPI_COMM_WORLD));
    } else if (rank == 1) {
        memset(buf, 0, sizeof buf);
        /* larger receive buffer than the message; wildcards in source and tag */
        OK(MPI_Recv(buf, 20, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
        CHECK(st.MPI_SOURCE == 0, "source %d", st.MPI_SOURCE);
        CHECK(st.MPI_TAG == 7, "tag %d", st.MPI_TAG);
        OK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 10, "count %d", count);
        OK(MPI_Get_elements(&st, MPI_INT, &count));
        CHECK(count == 10, "elements %d", count);
        OK(MPI_Get_count(&st, MPI_BYTE, &count));
        CHECK(count == 40, "byte count %d", count);
        for (int i = 0; i < 10; i++) CHECK(buf[i] == 100 + i, "buf[%d]=%d", i, buf[i]);
        CHECK(buf[10] == 0, "wrote past the message");
        OK(MPI_Recv(buf, 5, MPI_INT, 0, 8, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int i = 0; i < 5; i++) CHECK(buf[i] == 200 + i, "ssend buf[%d]=%d", i, buf[i]);
        /* 3 ints received as pairs: Get_count is MPI_UNDEFINED, Get_elements is 3 */
        MPI_Datatype pair;
        OK(MPI_Type_contiguous(2, MPI_INT, &pair));
        OK(MPI_Type_commit(&pair));
        OK(MPI_Recv(buf, 2, pair, 0, 9, MPI_COMM_WORLD, &st));
        OK(MPI_Get_count(&st, pair, &count));
        CHECK(count == MPI_UNDEFINED, "partial count %d", count);
        OK(MPI_Get_elements(&st, pair, &count));
        CHECK(count == 3, "partial elements %d", count);
        OK(MPI_Type_free(&pair));
        CHECK(pair == MPI_DATATYPE_NULL, "Type_free did not null the handle");
    }
    return 0;
}

static int ready_mode(void)
{
    int v[4] = {0}, w[4] = {0};
    MPI_Request r[2];
    MPI_Status st;
    if (rank == 1) {
        OK(MPI_Irecv(v, 4, MPI_INT, 0, 21, MPI_COMM_WORLD, &r[0]));
        OK(MPI_Irecv(w, 4, MPI_INT, 0, 22, MPI_COMM_WORLD, &r[1]));
    }
    MPI_Barrier(MPI_COMM_WORLD); /* both receives are posted before the ready sends */
    if (rank == 0) {
        int a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
        MPI_Request q;
        OK(MPI_Rsend(a, 4, MPI_INT, 1, 21, MPI_COMM_WORLD));
        OK(MPI_Irsend(b, 4, MPI_INT, 1, 22, MPI_COMM_WORLD, &q));
        OK(MPI_Wait(&q, MPI_STATUS_IGNORE));
        CHECK(q == MPI_REQUEST_NULL, "Wait did not null the request");
    } else if (rank == 1) {
        OK(MPI_Wait(&r[0], &st));
        CHECK(r[0] == MPI_REQUEST_NULL, "Wait did not null the request");
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 21, "status %d %d", st.MPI_SOURCE, st.MPI_TAG);
        OK(MPI_Wait(&r[1], &st));
        CHECK(st.MPI_TAG == 22, "tag %d", st.MPI_TAG);
        for (int i = 0; i < 4; i++) CHECK(v[i] == i + 1 && w[i] == i + 5, "rsend data at %d", i);
    }
    return 0;
}

static int nonblocking(void)
{
    double x[8], y[8];
    MPI_Request r;
    MPI_Status st;
    int flag, count;
    if (rank == 0) {
        for (int i = 0; i < 8; i++) x[i] = i * 0.5;
        OK(MPI_Isend(x, 8, MPI_DOUBLE, 1, 31, MPI_COMM_WORLD, &r));
        OK(MPI_Wait(&r, &st));
        for (int i = 0; i < 8; i++) x[i] = -i;
        OK(MPI_Issend(x, 8, MPI_DOUBLE, 1, 32, MPI_COMM_WORLD, &r));
        do OK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE)); while (!flag);
        CHECK(r == MPI_REQUEST_NULL, "Test did not null the request");
    } else if (rank == 1) {
        OK(MPI_Irecv(y, 8, MPI_DOUBLE, 0, 31, MPI_COMM_WORLD, &r));
        OK(MPI_Wait(&r, &st));
        OK(MPI_Get_count(&st, MPI_DOUBLE, &count));
        CHECK(count == 8 && st.MPI_SOURCE == 0 && st.MPI_TAG == 31, "count %d", count);
        for (int i = 0; i < 8; i++) CHECK(y[i] == i * 0.5, "y[%d]=%g", i, y[i]);
        OK(MPI_Irecv(y, 8, MPI_DOUBLE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &r));
        do OK(MPI_Test(&r, &flag, &st)); while (!flag);
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 32, "status %d %d", st.MPI_SOURCE, st.MPI_TAG);
        for (int i = 0; i < 8; i++) CHECK(y[i] == -i, "issend y[%d]=%g", i, y[i]);
    }
    return 0;
}

/* Test/Testall/Testany/Testsome report "not yet" while the sender waits at a barrier. */
static int tests_pending(void)
{
    int v[4] = {0};
    MPI_Request r[4];
    MPI_Status sts[4], st;
    int flag = -1, idx = -1, outcount = -1, indices[4];
    if (rank == 1) {
        for (int i = 0; i < 4; i++)
            OK(MPI_Irecv(&v[i], 1, MPI_INT, 0, 40 + i, MPI_COMM_WORLD, &r[i]));
        OK(MPI_Test(&r[0], &flag, &st));
        CHECK(flag == 0, "Test flag %d before the send", flag);
        CHECK(r[0] != MPI_REQUEST_NULL, "pending request nulled");
        OK(MPI_Testall(4, r, &flag, sts));
        CHECK(flag == 0, "Testall flag %d before the send", flag);
        OK(MPI_Testany(4, r, &idx, &flag, &st));
        CHECK(flag == 0, "Testany flag %d before the send", flag);
        OK(MPI_Testsome(4, r, &outcount, indices, sts));
        CHECK(outcount == 0, "Testsome outcount %d before the send", outcount);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        for (int i = 0; i < 4; i++) {
            int x = 1000 + i;
            OK(MPI_Send(&x, 1, MPI_INT, 1, 40 + i, MPI_COMM_WORLD));
        }
    } else if (rank == 1) {
        /* first completion through Testany, then Testsome, then Testall for the rest */
        do OK(MPI_Testany(4, r, &idx, &flag, &st)); while (!flag);
        CHECK(idx >= 0 && idx < 4 && r[idx] == MPI_REQUEST_NULL, "Testany idx %d", idx);
        CHECK(st.MPI_TAG == 40 + idx && v[idx] == 1000 + idx, "Testany status/data");
        int done = 1;
        outcount = 0;
        while (outcount == 0) {
            OK(MPI_Testsome(4, r, &outcount, indices, sts));
            CHECK(outcount != MPI_UNDEFINED, "Testsome says all inactive");
        }
        for (int k = 0; k < outcount; k++) {
            int i = indices[k];
            CHECK(i != idx && r[i] == MPI_REQUEST_NULL, "Testsome index %d", i);
            CHECK(sts[k].MPI_TAG == 40 + i && v[i] == 1000 + i, "Testsome status/data %d", i);
        }
        done += outcount;
        do OK(MPI_Testall(4, r, &flag, MPI_STATUSES_IGNORE)); while (!flag);
        for (int i = 0; i < 4; i++) {
            CHECK(r[i] == MPI_REQUEST_NULL, "Testall left request %d", i);
            CHECK(v[i] == 1000 + i, "v[%d]=%d", i, v[i]);
        }
        /* all inactive: Testany -> flag 1, MPI_UNDEFINED; Testsome -> MPI_UNDEFINED */
        OK(MPI_Testany(4, r, &idx, &flag, &st));
        CHECK(flag == 1 && idx == MPI_UNDEFINED, "Testany on nulls: flag %d idx %d", flag, idx);
        OK(MPI_Testsome(4, r, &outcount, indices, sts));
        CHECK(outcount == MPI_UNDEFINED, "Testsome on nulls: %d", outcount);
        OK(MPI_Testall(4, r, &flag, sts));
        CHECK(flag == 1, "Testall on nulls: %d", flag);
        (void)done;
    }
    return 0;
}

static int waits(void)
{
    int v[6] = {0};
    MPI_Request r[6];
    MPI_Status sts[6], st;
    int idx, outcount, indices[6];
    if (rank == 0) {
        int x[6];
        for (int i = 0; i < 6; i++) {
            x[i] = 50 + i;
            OK(MPI_Isend(&x[i], 1, MPI_INT, 1, 60 + i, MPI_COMM_WORLD, &r[i]));
        }
        OK(MPI_Waitall(3, r, MPI_STATUSES_IGNORE));
        OK(MPI_Waitall(3, r + 3, sts));
        for (int i = 0; i < 6; i++) CHECK(r[i] == MPI_REQUEST_NULL, "Waitall left %d", i);
    } else if (rank == 1) {
        for (int i = 0; i < 6; i++)
            OK(MPI_Irecv(&v[i], 1, MPI_INT, 0, 60 + i, MPI_COMM_WORLD, &r[i]));
        /* Waitall with statuses over the first two */
        OK(MPI_Waitall(2, r, sts));
        for (int i = 0; i < 2; i++)
            CHECK(sts[i].MPI_SOURCE == 0 && sts[i].MPI_TAG == 60 + i && v[i] == 50 + i,
                  "Waitall status %d: %d %d", i, sts[i].MPI_SOURCE, sts[i].MPI_TAG);
        /* Waitany twice over all six (two are already null) */
        int seen[6] = {0};
        for (int k = 0; k < 2; k++) {
            OK(MPI_Waitany(6, r, &idx, &st));
            CHECK(idx >= 2 && idx < 6 && !seen[idx], "Waitany idx %d", idx);
            seen[idx] = 1;
            CHECK(r[idx] == MPI_REQUEST_NULL, "Waitany did not null %d", idx);
            CHECK(st.MPI_TAG == 60 + idx && v[idx] == 50 + idx, "Waitany status/data %d", idx);
        }
        int left = 2;
        while (left > 0) {
            OK(MPI_Waitsome(6, r, &outcount, indices, sts));
            CHECK(outcount >= 1 && outcount <= left, "Waitsome outcount %d", outcount);
            for (int k = 0; k < outcount; k++) {
                int i = indices[k];
                CHECK(!seen[i] && r[i] == MPI_REQUEST_NULL, "Waitsome index %d", i);
                seen[i] = 1;
                CHECK(sts[k].MPI_TAG == 60 + i && v[i] == 50 + i, "Waitsome status/data %d", i);
            }
            left -= outcount;
        }
        OK(MPI_Waitany(6, r, &idx, &st));
        CHECK(idx == MPI_UNDEFINED, "Waitany on nulls: %d", idx);
        OK(MPI_Waitsome(6, r, &outcount, indices, MPI_STATUSES_IGNORE));
        CHECK(outcount == MPI_UNDEFINED, "Waitsome on nulls: %d", outcount);
    }
    return 0;
}

static int null_request(void)
{
    MPI_Request r = MPI_REQUEST_NULL;
    MPI_Status st;
    int flag = 0, count = -1;
    st.MPI_SOURCE = st.MPI_TAG = 12345;
    OK(MPI_Wait(&r, &st));
    CHECK(r == MPI_REQUEST_NULL, "null request changed");
    CHECK(st.MPI_SOURCE == MPI_ANY_SOURCE && st.MPI_TAG == MPI_ANY_TAG,
          "empty status %d %d", st.MPI_SOURCE, st.MPI_TAG);
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 0, "empty status count %d", count);
    OK(MPI_Test(&r, &flag, &st));
    CHECK(flag == 1, "Test on null: flag %d", flag);
    MPI_Request rs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    OK(MPI_Waitall(2, rs, MPI_STATUSES_IGNORE));
    OK(MPI_Waitall(0, rs, MPI_STATUSES_IGNORE));
    return 0;
}

static int probes(void)
{
    double d[17];
    MPI_Status st;
    int flag = -1, count;
    if (rank == 1) {
        OK(MPI_Iprobe(0, 71, MPI_COMM_WORLD, &flag, &st));
        CHECK(flag == 0, "Iprobe found a message that was not sent yet");
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        for (int i = 0; i < 17; i++) d[i] = i * 1.25;
        OK(MPI_Send(d, 17, MPI_DOUBLE, 1, 70, MPI_COMM_WORLD));
        OK(MPI_Send(d, 5, MPI_DOUBLE, 1, 71, MPI_COMM_WORLD));
    } else if (rank == 1) {
        OK(MPI_Probe(MPI_ANY_SOURCE, 70, MPI_COMM_WORLD, &st));
        CHECK(st.MPI_SOURCE == 0 && st.MPI_TAG == 70, "Probe status %d %d", st.MPI_SOURCE,
              st.MPI_TAG);
        OK(MPI_Get_count(&st, MPI_DOUBLE, &count));
        CHECK(count == 17, "Probe count %d", count);
        double *buf = malloc(count * sizeof *buf);
        OK(MPI_Recv(buf, count, MPI_DOUBLE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, &st));
        for (int i = 0; i < 17; i++) CHECK(buf[i] == i * 1.25, "probed buf[%d]", i);
        free(buf);
        do OK(MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st)); while (!flag);
        CHECK(st.MPI_TAG == 71 && st.MPI_SOURCE == 0, "Iprobe status %d %d", st.MPI_SOURCE,
              st.MPI_TAG);
        OK(MPI_Get_count(&st, MPI_DOUBLE, &count));
        CHECK(count == 5, "Iprobe count %d", count);
        OK(MPI_Recv(d, 5, MPI_DOUBLE, 0, 71, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    return 0;
}

/* Ring exchange on every rank. */
static int sendrecv(void)
{
    int right = (rank + 1) % size, left = (rank + size - 1) % size;
    int out[3] = {rank, rank * 10, rank * 100}, in[3] = {-1, -1, -1};
    MPI_Status st;
    OK(MPI_Sendrecv(out, 3, MPI_INT, right, 80, in, 3, MPI_INT, left, 80, MPI_COMM_WORLD, &st));
    CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 80, "Sendrecv status %d %d", st.MPI_SOURCE,
          st.MPI_TAG);
    CHECK(in[0] == left && in[1] == left * 10 && in[2] == left * 100, "Sendrecv data %d", in[0]);
    long buf[2] = {rank, -rank};
    OK(MPI_Sendrecv_replace(buf, 2, MPI_LONG, right, 81, MPI_ANY_SOURCE, MPI_ANY_TAG,
                            MPI_COMM_WORLD, &st));
    CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 81, "Sendrecv_replace status");
    CHECK(buf[0] == left && buf[1] == -left, "Sendrecv_replace data %ld %ld", buf[0], buf[1]);
    int count;
    OK(MPI_Get_count(&st, MPI_LONG, &count));
    CHECK(count == 2, "Sendrecv_replace count %d", count);
    return 0;
}

static int proc_null(void)
{
    int x = 5, y = 77, count = -1, flag = 0;
    MPI_Status st;
    MPI_Request r;
    OK(MPI_Send(&x, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    OK(MPI_Ssend(&x, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD));
    OK(MPI_Recv(&y, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &st));
    CHECK(y == 77, "Recv from PROC_NULL wrote the buffer");
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL, "PROC_NULL source %d", st.MPI_SOURCE);
    CHECK(st.MPI_TAG == MPI_ANY_TAG, "PROC_NULL tag %d", st.MPI_TAG);
    OK(MPI_Get_count(&st, MPI_INT, &count));
    CHECK(count == 0, "PROC_NULL count %d", count);
    OK(MPI_Isend(&x, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &r));
    OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    OK(MPI_Irecv(&y, 1, MPI_INT, MPI_PROC_NULL, MPI_ANY_TAG, MPI_COMM_WORLD, &r));
    do OK(MPI_Test(&r, &flag, &st)); while (!flag);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG, "Irecv PROC_NULL status");
    OK(MPI_Probe(MPI_PROC_NULL, 3, MPI_COMM_WORLD, &st));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL, "Probe PROC_NULL source %d", st.MPI_SOURCE);
    OK(MPI_Sendrecv(&x, 1, MPI_INT, MPI_PROC_NULL, 2, &y, 1, MPI_INT, MPI_PROC_NULL, 2,
                    MPI_COMM_WORLD, &st));
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && y == 77, "Sendrecv PROC_NULL");
    return 0;
}

static int free_and_cancel(void)
{
    static int payload[16];
    MPI_Request r;
    MPI_Status st;
    int flag = -1;
    if (rank == 0) {
        for (int i = 0; i < 16; i++) payload[i] = i * i;
        OK(MPI_Isend(payload, 16, MPI_INT, 1, 90, MPI_COMM_WORLD, &r));
        OK(MPI_Request_free(&r));
        CHECK(r == MPI_REQUEST_NULL, "Request_free did not null the request");
    } else if (rank == 1) {
        int in[16];
        OK(MPI_Recv(in, 16, MPI_INT, 0, 90, MPI_COMM_WORLD, &st));
        for (int i = 0; i < 16; i++) CHECK(in[i] == i * i, "freed-request data %d", i);
        OK(MPI_Test_cancelled(&st, &flag));
        CHECK(flag == 0, "completed receive reported cancelled");
    }
    /* a receive nobody matches, cancelled */
    int never;
    OK(MPI_Irecv(&never, 1, MPI_INT, MPI_ANY_SOURCE, 4242, MPI_COMM_WORLD, &r));
    OK(MPI_Cancel(&r));
    CHECK(r != MPI_REQUEST_NULL, "Cancel nulled the request");
    OK(MPI_Wait(&r, &st));
    CHECK(r == MPI_REQUEST_NULL, "Wait after Cancel left the request");
    OK(MPI_Test_cancelled(&st, &flag));
    CHECK(flag == 1, "cancelled Irecv: Test_cancelled %d", flag);
    return 0;
}

#define BIG (1 << 20) /* ints: 4 MiB */

static int large(void)
{
    int *a = malloc(BIG * sizeof(int)), *b = malloc(BIG * sizeof(int));
    CHECK(a && b, "malloc");
    MPI_Status st;
    int count;
    if (rank <= 1) {
        for (int i = 0; i < BIG; i++) { a[i] = i ^ (rank << 24); b[i] = -1; }
    }
    if (rank == 0) {
        OK(MPI_Send(a, BIG, MPI_INT, 1, 100, MPI_COMM_WORLD));
        OK(MPI_Ssend(a, BIG, MPI_INT, 1, 101, MPI_COMM_WORLD));
    } else if (rank == 1) {
        OK(MPI_Recv(b, BIG, MPI_INT, 0, 100, MPI_COMM_WORLD, &st));
        OK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == BIG, "large count %d", count);
        for (int i = 0; i < BIG; i++) CHECK(b[i] == i, "large Send b[%d]=%d", i, b[i]);
        memset(b, 0, BIG * sizeof(int));
        OK(MPI_Recv(b, BIG, MPI_INT, 0, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int i = 0; i < BIG; i++) CHECK(b[i] == i, "large Ssend b[%d]=%d", i, b[i]);
    }
    /* simultaneous exchange: both post Irecv + Isend of 4 MiB, then Waitall */
    if (rank <= 1) {
        MPI_Request r[2];
        MPI_Status sts[2];
        int peer = 1 - rank;
        OK(MPI_Irecv(b, BIG, MPI_INT, peer, 102, MPI_COMM_WORLD, &r[0]));
        OK(MPI_Isend(a, BIG, MPI_INT, peer, 102, MPI_COMM_WORLD, &r[1]));
        OK(MPI_Waitall(2, r, sts));
        CHECK(sts[0].MPI_SOURCE == peer && sts[0].MPI_TAG == 102, "exchange status");
        OK(MPI_Get_count(&sts[0], MPI_INT, &count));
        CHECK(count == BIG, "exchange count %d", count);
        for (int i = 0; i < BIG; i++)
            CHECK(b[i] == (i ^ (peer << 24)), "exchange b[%d]=%d", i, b[i]);
    }
    free(a);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        printf("needs at least 2 ranks\n");
        return 2;
    }
    RUN(blocking);
    RUN(ready_mode);
    RUN(nonblocking);
    RUN(tests_pending);
    RUN(waits);
    RUN(null_request);
    RUN(probes);
    RUN(sendrecv);
    RUN(proc_null);
    RUN(free_and_cancel);
    RUN(large);
    if (rank == 0) printf("p2p done on %d ranks\n", size);
    MPI_Finalize();
    return 0;
}
