/* A small conformance harness for the chapter test programs, reporting like MPI
 * implementations' own suites: one line per case and communicator,
 *     PASS <case> <comm>      FAIL <case> <comm>: <why>      SKIP <case> <comm>: <why>
 * printed by rank 0 after all ranks agreed on the outcome, then "DONE <passed> <failed>
 * <skipped>". Usage:
 *     static void sum_ints(MPI_Comm comm) { ...; EXPECT(x == 3, "x = %d", x); }
 *     int main(...) { MPI_Init(...); for_each_comm(sum_ints, "sum_ints"); return finish(); }
 * A case runs on MPI_COMM_WORLD, MPI_COMM_SELF, a duplicate of MPI_COMM_WORLD, a split of it
 * (two halves, reversed order) and, with two or more processes, an intercommunicator between
 * the halves. SKIP_CASE(why) inside a case skips it on that communicator (e.g. a case that
 * needs an intracommunicator). The program exits 1 if any case failed. */
#ifndef WASMPI_CONFORMANCE_H
#define WASMPI_CONFORMANCE_H

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int cf_bad, cf_skip, cf_pass_n, cf_fail_n, cf_skip_n;
static char cf_why[256];

/* record a failure on this rank (the first message is reported); the case goes on */
#define EXPECT(cond, ...) \
    do { \
        if (!(cond) && !cf_bad++) { \
            int n_ = snprintf(cf_why, sizeof cf_why, "line %d: ", __LINE__); \
            snprintf(cf_why + n_, sizeof cf_why - (size_t)n_, __VA_ARGS__); \
        } \
    } while (0)
/* an MPI call that must succeed; on failure the case stops here */
#define EXPECT_OK(call) \
    do { \
        int rc_ = (call); \
        if (rc_ != MPI_SUCCESS) { \
            EXPECT(0, "%s returned %d", #call, rc_); \
            return; \
        } \
    } while (0)
#define SKIP_CASE(...) \
    do { \
        cf_skip = 1; \
        snprintf(cf_why, sizeof cf_why, __VA_ARGS__); \
        return; \
    } while (0)

/* the error class of a return code */
static inline int err_class(int rc)
{
    int c = -1;
    MPI_Error_class(rc, &c);
    return c;
}

/* a duplicate of comm that returns errors instead of aborting (the caller frees it) */
static inline MPI_Comm returning(MPI_Comm comm)
{
    MPI_Comm c;
    MPI_Comm_dup(comm, &c);
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    return c;
}

static int cf_is_inter(MPI_Comm comm)
{
    int inter = 0;
    MPI_Comm_test_inter(comm, &inter);
    return inter;
}

/* Run one case on `comm` (named `cname`) and report it. */
static void run_case(void (*fn)(MPI_Comm), const char *name, MPI_Comm comm, const char *cname)
{
    int wrank;
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    cf_bad = cf_skip = 0;
    cf_why[0] = 0;
    fn(comm);
    int mine[2] = {cf_bad != 0, cf_skip}, all[2] = {0, 0};
    MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    /* the first failing rank's reason reaches rank 0 */
    int who = cf_bad ? wrank : 1 << 30, first = 0;
    MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (all[0] && first != 0 && first != 1 << 30) {
        if (wrank == first)
            MPI_Send(cf_why, (int)sizeof cf_why, MPI_CHAR, 0, 999, MPI_COMM_WORLD);
        if (wrank == 0)
            MPI_Recv(cf_why, (int)sizeof cf_why, MPI_CHAR, first, 999, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
    }
    if (wrank == 0) {
        if (all[0]) {
            printf("FAIL %s %s: rank %d: %s\n", name, cname, first, cf_why);
            cf_fail_n++;
        } else if (all[1]) {
            printf("SKIP %s %s: %s\n", name, cname, cf_why);
            cf_skip_n++;
        } else {
            printf("PASS %s %s\n", name, cname);
            cf_pass_n++;
        }
        fflush(stdout);
    }
}

/* Run a case on every communicator of the list in the header comment. */
static void for_each_comm(void (*fn)(MPI_Comm), const char *name)
{
    int wrank, wsize;
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    run_case(fn, name, MPI_COMM_WORLD, "world");
    run_case(fn, name, MPI_COMM_SELF, "self");
    MPI_Comm dup, half, inter = MPI_COMM_NULL;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    run_case(fn, name, dup, "dup");
    int color = wrank < (wsize + 1) / 2 ? 0 : 1;
    MPI_Comm_split(MPI_COMM_WORLD, color, wsize - wrank, &half);
    run_case(fn, name, half, "split");
    if (wsize >= 2) {
        /* local leaders: rank 0 of each half, which is its highest world rank (reversed) */
        int remote_leader = color == 0 ? wsize - 1 : (wsize + 1) / 2 - 1;
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, remote_leader, 77, &inter);
        run_case(fn, name, inter, "inter");
        MPI_Comm_free(&inter);
    }
    MPI_Comm_free(&half);
    MPI_Comm_free(&dup);
}

/* Report the totals; the exit status of main. */
static int finish(void)
{
    int wrank;
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    if (wrank == 0)
        printf("DONE %d %d %d\n", cf_pass_n, cf_fail_n, cf_skip_n);
    fflush(stdout);
    int failed = cf_fail_n;
    MPI_Bcast(&failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return failed ? 1 : 0;
}

#endif
