/* Reduction operations: user-defined ops (guest functions the host MPI calls back through the
 * bridge), commutative and not, on predefined and derived types, in blocking, nonblocking and
 * local reductions, on every communicator of the conformance harness. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "conformance.h"

static int calls; /* how often the guest ops ran on this rank */

/* a commutative op: element-wise sum of ints */
static void add_ints(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    calls++;
    const int *x = in;
    int *y = inout;
    int sz = 0;
    MPI_Type_size(*dt, &sz); /* an MPI call from inside the op re-enters the bridge */
    for (int i = 0; i < *len * (sz / (int)sizeof(int)); i++)
        y[i] += x[i];
}

/* a non-commutative op: 2x2 integer matrix product, inout = in * inout */
typedef struct { int a, b, c, d; } mat;
static void matmul(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    calls++;
    const mat *x = in;
    mat *y = inout;
    for (int i = 0; i < *len; i++) {
        mat r = {x[i].a * y[i].a + x[i].b * y[i].c, x[i].a * y[i].b + x[i].b * y[i].d,
                 x[i].c * y[i].a + x[i].d * y[i].c, x[i].c * y[i].b + x[i].d * y[i].d};
        y[i] = r;
    }
}

static int is_inter(MPI_Comm comm) { return cf_is_inter(comm); }

static void user_sum(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("Allreduce result differs on intercommunicators");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Op op;
    EXPECT_OK(MPI_Op_create(add_ints, 1, &op));
    int commute = 0;
    EXPECT_OK(MPI_Op_commutative(op, &commute));
    EXPECT(commute == 1, "Op_commutative = %d", commute);
    enum { N = 1000 };
    int *v = malloc(N * sizeof *v), *r = malloc(N * sizeof *r);
    for (int i = 0; i < N; i++) v[i] = rank + i;
    EXPECT_OK(MPI_Allreduce(v, r, N, MPI_INT, op, comm));
    for (int i = 0; i < N; i++)
        EXPECT(r[i] == size * (size - 1) / 2 + size * i, "Allreduce r[%d] = %d", i, r[i]);
    /* in place, on a derived type (pairs of ints) */
    MPI_Datatype pair;
    EXPECT_OK(MPI_Type_contiguous(2, MPI_INT, &pair));
    EXPECT_OK(MPI_Type_commit(&pair));
    for (int i = 0; i < N; i++) r[i] = 1;
    EXPECT_OK(MPI_Allreduce(MPI_IN_PLACE, r, N / 2, pair, op, comm));
    for (int i = 0; i < N; i++) EXPECT(r[i] == size, "in place r[%d] = %d", i, r[i]);
    /* nonblocking: the op runs inside MPI_Wait */
    MPI_Request req;
    EXPECT_OK(MPI_Iallreduce(v, r, N, MPI_INT, op, comm, &req));
    EXPECT_OK(MPI_Wait(&req, MPI_STATUS_IGNORE));
    EXPECT(r[N - 1] == size * (size - 1) / 2 + size * (N - 1), "Iallreduce r = %d", r[N - 1]);
    /* Reduce_local calls the op once, on guest buffers */
    int before = calls, a[3] = {1, 2, 3}, b[3] = {10, 20, 30};
    EXPECT_OK(MPI_Reduce_local(a, b, 3, MPI_INT, op));
    EXPECT(b[0] == 11 && b[1] == 22 && b[2] == 33, "Reduce_local = %d %d %d", b[0], b[1], b[2]);
    EXPECT(calls == before + 1, "Reduce_local called the op %d times", calls - before);
    EXPECT_OK(MPI_Type_free(&pair));
    EXPECT_OK(MPI_Op_free(&op));
    EXPECT(op == MPI_OP_NULL, "Op_free did not null the handle");
    free(v);
    free(r);
}

static void noncommutative(MPI_Comm comm)
{
    if (is_inter(comm)) SKIP_CASE("scan needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Datatype mt;
    EXPECT_OK(MPI_Type_contiguous(4, MPI_INT, &mt));
    EXPECT_OK(MPI_Type_commit(&mt));
    MPI_Op op;
    EXPECT_OK(MPI_Op_create(matmul, 0, &op));
    int commute = 1;
    EXPECT_OK(MPI_Op_commutative(op, &commute));
    EXPECT(commute == 0, "Op_commutative = %d", commute);
    /* rank r holds [[1, r+1], [0, 1]]; the ordered product is [[1, sum(r+1)], [0, 1]] and a
     * misordered product of these commuting matrices would still agree, so use
     * [[r+1, 1], [0, 1]] whose products do not commute */
    mat m = {rank + 1, 1, 0, 1}, res = {0, 0, 0, 0};
    EXPECT_OK(MPI_Reduce(&m, &res, 1, mt, op, 0, comm));
    if (rank == 0) {
        mat want = {1, 0, 0, 1};
        for (int r = 0; r < size; r++) { /* want = want * m_r, in rank order */
            mat x = {r + 1, 1, 0, 1};
            mat w = {want.a * x.a + want.b * x.c, want.a * x.b + want.b * x.d,
                     want.c * x.a + want.d * x.c, want.c * x.b + want.d * x.d};
            want = w;
        }
        EXPECT(res.a == want.a && res.b == want.b && res.c == want.c && res.d == want.d,
               "ordered product [[%d %d][%d %d]], want [[%d %d][%d %d]]", res.a, res.b, res.c,
               res.d, want.a, want.b, want.c, want.d);
    }
    mat sc;
    EXPECT_OK(MPI_Scan(&m, &sc, 1, mt, op, comm));
    mat want = {1, 0, 0, 1};
    for (int r = 0; r <= rank; r++) {
        mat x = {r + 1, 1, 0, 1};
        mat w = {want.a * x.a + want.b * x.c, want.a * x.b + want.b * x.d,
                 want.c * x.a + want.d * x.c, want.c * x.b + want.d * x.d};
        want = w;
    }
    EXPECT(sc.a == want.a && sc.b == want.b, "Scan [[%d %d]...], want [[%d %d]...]", sc.a, sc.b,
           want.a, want.b);
    EXPECT_OK(MPI_Op_free(&op));
    EXPECT_OK(MPI_Type_free(&mt));
}

static void predefined_not_freed(MPI_Comm comm)
{
    (void)comm;
    /* an error without a communicator goes to MPI_COMM_WORLD's handler */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    MPI_Op sum = MPI_SUM;
    int rc = MPI_Op_free(&sum);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    EXPECT(cls == MPI_ERR_OP, "freeing MPI_SUM: class %d", cls);
    EXPECT(sum == MPI_SUM, "a failed Op_free changed the handle");
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    for_each_comm(user_sum, "user_sum");
    for_each_comm(noncommutative, "noncommutative");
    run_case(predefined_not_freed, "predefined_not_freed", MPI_COMM_SELF, "self");
    return finish();
}
