/* Communicators beyond comm.c, on every communicator of the conformance harness:
 * intercommunicators (create, merge with high/low ordering, remote size and group, MPI_ERR_COMM
 * for remote queries on an intracommunicator), MPI_Comm_idup (Wait, Test loop, Testall of two),
 * info hints, names, split_type, create_group and every group call on the communicator's group,
 * with values checked against what the harness built. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

static int wrank, wsize;

/* Rank r of comm holds r: an intracommunicator's Allreduce gives the sum of its ranks, an
 * intercommunicator's the sum over the remote group. */
static int rank_sum(MPI_Comm c)
{
    int r, sum = -1;
    MPI_Comm_rank(c, &r);
    MPI_Allreduce(&r, &sum, 1, MPI_INT, MPI_SUM, c);
    return sum;
}

static int tri(int n) { return n * (n - 1) / 2; }

/* The harness's intercommunicator joins the halves of MPI_COMM_WORLD: the first
 * (wsize + 1) / 2 world ranks, then the others, each half in reversed world order. */
static int harness_low(void) { return wrank < (wsize + 1) / 2; }

static void intercomm_create(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("Intercomm_create needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (size < 2) SKIP_CASE("needs two processes");
    int nlow = size / 2, high = rank >= nlow, lrank = high ? rank - nlow : rank;
    int nmine = high ? size - nlow : nlow, nother = size - nmine;
    MPI_Comm local, ic, ic2, m;
    EXPECT_OK(MPI_Comm_split(comm, high, rank, &local));
    EXPECT_OK(MPI_Intercomm_create(local, 0, comm, high ? 0 : nlow, 42, &ic));
    int flag = -1, n = -1, r = -1;
    EXPECT_OK(MPI_Comm_test_inter(ic, &flag));
    EXPECT(flag == 1, "Comm_test_inter = %d", flag);
    EXPECT_OK(MPI_Comm_size(ic, &n));
    EXPECT_OK(MPI_Comm_rank(ic, &r));
    EXPECT(n == nmine && r == lrank, "local size/rank %d %d, want %d %d", n, r, nmine, lrank);
    EXPECT_OK(MPI_Comm_remote_size(ic, &n));
    EXPECT(n == nother, "remote size %d, want %d", n, nother);
    /* the remote group, translated into comm's group: the other half in order */
    MPI_Group rg, cg;
    EXPECT_OK(MPI_Comm_remote_group(ic, &rg));
    EXPECT_OK(MPI_Comm_group(comm, &cg));
    EXPECT_OK(MPI_Group_size(rg, &n));
    EXPECT_OK(MPI_Group_rank(rg, &r));
    EXPECT(n == nother && r == MPI_UNDEFINED, "remote group size %d rank %d", n, r);
    int in[4], out[4];
    for (int i = 0; i < nother && i < 4; i++) in[i] = i;
    EXPECT_OK(MPI_Group_translate_ranks(rg, nother < 4 ? nother : 4, in, cg, out));
    for (int i = 0; i < nother && i < 4; i++)
        EXPECT(out[i] == (high ? i : nlow + i), "remote %d is comm rank %d", i, out[i]);
    EXPECT_OK(MPI_Group_free(&rg));
    EXPECT_OK(MPI_Group_free(&cg));
    /* an intercommunicator collective reaches the remote group */
    int want = high ? tri(nlow) : tri(size - nlow);
    EXPECT(rank_sum(ic) == want, "Allreduce over the intercomm, want %d", want);
    /* merge, the low half first: merged ranks are comm's */
    EXPECT_OK(MPI_Intercomm_merge(ic, high, &m));
    EXPECT_OK(MPI_Comm_size(m, &n));
    EXPECT_OK(MPI_Comm_rank(m, &r));
    EXPECT_OK(MPI_Comm_test_inter(m, &flag));
    EXPECT(n == size && r == rank && flag == 0, "merge(high): size %d rank %d inter %d", n, r,
           flag);
    EXPECT(rank_sum(m) == tri(size), "Allreduce on the merged comm");
    EXPECT_OK(MPI_Comm_free(&m));
    /* merge, the high half first */
    EXPECT_OK(MPI_Intercomm_merge(ic, !high, &m));
    EXPECT_OK(MPI_Comm_rank(m, &r));
    want = high ? lrank : (size - nlow) + rank;
    EXPECT(r == want, "merge(low): rank %d, want %d", r, want);
    EXPECT_OK(MPI_Comm_free(&m));
    /* the peer communicator is significant only at the leaders: others pass MPI_COMM_NULL */
    EXPECT_OK(MPI_Intercomm_create(local, 0, lrank == 0 ? comm : MPI_COMM_NULL,
                                   high ? 0 : nlow, 43, &ic2));
    EXPECT_OK(MPI_Comm_remote_size(ic2, &n));
    EXPECT(n == nother, "second intercomm: remote size %d", n);
    EXPECT_OK(MPI_Comm_free(&ic2));
    EXPECT_OK(MPI_Comm_free(&ic));
    EXPECT_OK(MPI_Comm_free(&local));
}

static void inter_queries(MPI_Comm comm)
{
    int inter = -1, n = -7, cls;
    EXPECT_OK(MPI_Comm_test_inter(comm, &inter));
    MPI_Comm c = returning(comm), m = MPI_COMM_NULL, x = MPI_COMM_NULL;
    MPI_Group g = MPI_GROUP_NULL;
    if (!inter) {
        /* MPICH crashes on Intercomm_merge of an intracommunicator; the bridge says MPI_ERR_COMM */
        cls = err_class(MPI_Comm_remote_size(c, &n));
        EXPECT(cls == MPI_ERR_COMM && n == -7, "remote_size on an intracomm: class %d", cls);
        cls = err_class(MPI_Comm_remote_group(c, &g));
        EXPECT(cls == MPI_ERR_COMM && g == MPI_GROUP_NULL, "remote_group: class %d", cls);
        cls = err_class(MPI_Intercomm_merge(c, 0, &m));
        EXPECT(cls == MPI_ERR_COMM && m == MPI_COMM_NULL, "merge of an intracomm: class %d", cls);
    } else {
        int size, rank, nlow = (wsize + 1) / 2, low = harness_low();
        EXPECT_OK(MPI_Comm_size(c, &size));
        EXPECT_OK(MPI_Comm_rank(c, &rank));
        EXPECT(size == (low ? nlow : wsize - nlow), "local size %d", size);
        EXPECT_OK(MPI_Comm_remote_size(c, &n));
        EXPECT(n == wsize - size, "remote size %d", n);
        EXPECT_OK(MPI_Comm_remote_group(c, &g));
        int gs = -1;
        EXPECT_OK(MPI_Group_size(g, &gs));
        EXPECT(gs == n, "remote group size %d", gs);
        /* the remote group's rank 0 is the other half's highest world rank (reversed order) */
        MPI_Group wg;
        int zero = 0, w0 = -1;
        EXPECT_OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
        EXPECT_OK(MPI_Group_translate_ranks(g, 1, &zero, wg, &w0));
        EXPECT(w0 == (low ? wsize - 1 : nlow - 1), "remote rank 0 is world %d", w0);
        EXPECT_OK(MPI_Group_free(&wg));
        EXPECT_OK(MPI_Group_free(&g));
        /* Open MPI crashes on Comm_create_group over an intercommunicator */
        MPI_Group lg;
        EXPECT_OK(MPI_Comm_group(c, &lg));
        cls = err_class(MPI_Comm_create_group(c, lg, 5, &x));
        EXPECT(cls == MPI_ERR_COMM, "create_group on an intercomm: class %d", cls);
        EXPECT_OK(MPI_Group_free(&lg));
        /* merge: the low half (high = 0) first, each half in its local order */
        EXPECT_OK(MPI_Intercomm_merge(c, !low, &m));
        int mr = -1, ms = -1;
        EXPECT_OK(MPI_Comm_rank(m, &mr));
        EXPECT_OK(MPI_Comm_size(m, &ms));
        EXPECT(ms == wsize && mr == (low ? rank : nlow + rank), "merged rank %d of %d", mr, ms);
        EXPECT(rank_sum(m) == tri(wsize), "Allreduce on the merged comm");
        EXPECT_OK(MPI_Comm_free(&m));
    }
    EXPECT_OK(MPI_Comm_free(&c));
}

static void idup(MPI_Comm comm)
{
    int inter = cf_is_inter(comm), size, res = -1, flag = 0;
    MPI_Comm_size(comm, &size);
    int want = inter ? -1 : tri(size);
    if (inter) {
        int rs;
        MPI_Comm_remote_size(comm, &rs);
        want = tri(rs);
    }
    MPI_Comm a, b, c, d;
    MPI_Request r, rr[2];
    EXPECT_OK(MPI_Comm_idup(comm, &a, &r));
    EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
    EXPECT(r == MPI_REQUEST_NULL, "Wait did not null the request");
    EXPECT(a != MPI_COMM_NULL && a != comm, "idup handle");
    EXPECT_OK(MPI_Comm_compare(comm, a, &res));
    EXPECT(res == MPI_CONGRUENT, "compare(comm, idup) = %d", res);
    EXPECT(rank_sum(a) == want, "Allreduce on the idup comm, want %d", want);
    /* the new communicator inherits the error handler */
    EXPECT_OK(MPI_Comm_set_errhandler(a, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Comm_idup(a, &b, &r));
    do
        EXPECT_OK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE));
    while (!flag);
    EXPECT(r == MPI_REQUEST_NULL, "Test did not null the request");
    MPI_Errhandler eh;
    EXPECT_OK(MPI_Comm_get_errhandler(b, &eh));
    EXPECT(eh == MPI_ERRORS_RETURN, "idup did not inherit MPI_ERRORS_RETURN");
    EXPECT_OK(MPI_Errhandler_free(&eh));
    if (!inter) { /* and the handler acts */
        int cls = err_class(MPI_Comm_remote_size(b, &res));
        EXPECT(cls == MPI_ERR_COMM, "error on the idup comm: class %d", cls);
    }
    /* two at once, completed by Testall */
    EXPECT_OK(MPI_Comm_idup(comm, &c, &rr[0]));
    EXPECT_OK(MPI_Comm_idup(b, &d, &rr[1]));
    flag = 0;
    while (!flag)
        EXPECT_OK(MPI_Testall(2, rr, &flag, MPI_STATUSES_IGNORE));
    EXPECT(rr[0] == MPI_REQUEST_NULL && rr[1] == MPI_REQUEST_NULL, "Testall requests");
    EXPECT(c != d && c != MPI_COMM_NULL && d != MPI_COMM_NULL, "two idups, two handles");
    EXPECT_OK(MPI_Comm_compare(c, d, &res));
    EXPECT(res == MPI_CONGRUENT, "compare(idup, idup) = %d", res);
    EXPECT(rank_sum(c) == want && rank_sum(d) == want, "Allreduce on both");
    MPI_Comm all[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) EXPECT_OK(MPI_Comm_free(&all[i]));
}

static int info_value(MPI_Info info, const char *key, char *value, int cap)
{
    int flag = 0;
    value[0] = 0;
    MPI_Info_get(info, key, cap - 1, value, &flag);
    return flag;
}

static void infos(MPI_Comm comm)
{
    MPI_Info in, used;
    MPI_Comm c;
    char v[64];
    EXPECT_OK(MPI_Info_create(&in));
    EXPECT_OK(MPI_Info_set(in, "mpi_assert_no_any_source", "true"));
    EXPECT_OK(MPI_Comm_dup_with_info(comm, in, &c));
    EXPECT_OK(MPI_Info_free(&in));
    int res = -1;
    EXPECT_OK(MPI_Comm_compare(comm, c, &res));
    EXPECT(res == MPI_CONGRUENT, "compare(comm, dup_with_info) = %d", res);
    EXPECT_OK(MPI_Comm_get_info(c, &used));
    EXPECT(used != MPI_INFO_NULL, "Comm_get_info gave MPI_INFO_NULL");
    EXPECT(info_value(used, "mpi_assert_no_any_source", v, sizeof v) && strcmp(v, "true") == 0,
           "dup_with_info hint: '%s'", v);
    EXPECT_OK(MPI_Info_free(&used));
    /* Comm_set_info: a standard hint both libraries report back */
    MPI_Comm d;
    EXPECT_OK(MPI_Comm_dup(comm, &d));
    EXPECT_OK(MPI_Comm_get_info(d, &used));
    int set = info_value(used, "mpi_assert_no_any_source", v, sizeof v);
    EXPECT(!set || strcmp(v, "false") == 0, "plain dup has the hint: '%s'", v);
    EXPECT_OK(MPI_Info_free(&used));
    EXPECT_OK(MPI_Info_create(&in));
    EXPECT_OK(MPI_Info_set(in, "mpi_assert_no_any_source", "true"));
    EXPECT_OK(MPI_Comm_set_info(d, in));
    EXPECT_OK(MPI_Info_free(&in));
    EXPECT_OK(MPI_Comm_get_info(d, &used));
    EXPECT(info_value(used, "mpi_assert_no_any_source", v, sizeof v) && strcmp(v, "true") == 0,
           "set_info hint: '%s'", v);
    int nkeys = -1;
    EXPECT_OK(MPI_Info_get_nkeys(used, &nkeys));
    EXPECT(nkeys >= 1, "nkeys %d", nkeys);
    EXPECT_OK(MPI_Info_free(&used));
    EXPECT_OK(MPI_Comm_free(&d));
    EXPECT_OK(MPI_Comm_free(&c));
}

static void names(MPI_Comm comm)
{
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    EXPECT_OK(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len));
    EXPECT(strcmp(name, "MPI_COMM_WORLD") == 0 && len == 14, "WORLD: '%s' %d", name, len);
    EXPECT_OK(MPI_Comm_get_name(MPI_COMM_SELF, name, &len));
    EXPECT(strcmp(name, "MPI_COMM_SELF") == 0 && len == 13, "SELF: '%s' %d", name, len);
    MPI_Comm c;
    EXPECT_OK(MPI_Comm_dup(comm, &c));
    EXPECT_OK(MPI_Comm_set_name(c, "topo's communicator"));
    EXPECT_OK(MPI_Comm_get_name(c, name, &len));
    EXPECT(strcmp(name, "topo's communicator") == 0 && len == 19, "'%s' %d", name, len);
    /* a name longer than the host keeps (Open MPI: 63 characters) comes back truncated */
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    EXPECT_OK(MPI_Comm_set_name(c, longname));
    memset(name, '#', sizeof name);
    EXPECT_OK(MPI_Comm_get_name(c, name, &len));
    EXPECT(len > 0 && len < MPI_MAX_OBJECT_NAME && (int)strlen(name) == len
           && strncmp(name, longname, (size_t)len) == 0, "long name: length %d", len);
    /* names are per communicator: the original keeps its own */
    if (comm == MPI_COMM_WORLD) {
        EXPECT_OK(MPI_Comm_get_name(comm, name, &len));
        EXPECT(strcmp(name, "MPI_COMM_WORLD") == 0, "WORLD renamed to '%s'", name);
    }
    EXPECT_OK(MPI_Comm_free(&c));
}

static void split_type(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("Comm_split_type needs an intracommunicator");
    int rank, size, r = -1, n = -1, res = -1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Comm c;
    /* no two wasm ranks can share memory: each rank is its own shared-memory group */
    EXPECT_OK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, size - rank, MPI_INFO_NULL, &c));
    EXPECT_OK(MPI_Comm_size(c, &n));
    EXPECT_OK(MPI_Comm_rank(c, &r));
    EXPECT(n == 1 && r == 0, "shared: size %d rank %d", n, r);
    EXPECT_OK(MPI_Comm_compare(MPI_COMM_SELF, c, &res));
    EXPECT(res == MPI_CONGRUENT, "compare = %d", res);
    EXPECT(rank_sum(c) == 0, "Allreduce on the shared comm");
    EXPECT_OK(MPI_Comm_free(&c));
    /* MPI_UNDEFINED on rank 0 only; the others' groups are as above */
    EXPECT_OK(MPI_Comm_split_type(comm, rank == 0 ? MPI_UNDEFINED : MPI_COMM_TYPE_SHARED, rank,
                                  MPI_INFO_NULL, &c));
    if (rank == 0) {
        EXPECT(c == MPI_COMM_NULL, "MPI_UNDEFINED gave a communicator");
    } else {
        EXPECT_OK(MPI_Comm_size(c, &n));
        EXPECT(n == 1, "shared without rank 0: size %d", n);
        EXPECT_OK(MPI_Comm_free(&c));
    }
}

static void create_group(MPI_Comm comm)
{
    if (cf_is_inter(comm)) SKIP_CASE("checked by inter_queries: MPI_ERR_COMM");
    int rank, size, n = -1, r = -1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Group g, evens;
    int range[1][3] = {{0, size - 1, 2}};
    EXPECT_OK(MPI_Comm_group(comm, &g));
    EXPECT_OK(MPI_Group_range_incl(g, 1, range, &evens));
    MPI_Comm c = MPI_COMM_NULL;
    if (rank % 2 == 0) { /* only the members call it */
        EXPECT_OK(MPI_Comm_create_group(comm, evens, 11, &c));
        EXPECT_OK(MPI_Comm_size(c, &n));
        EXPECT_OK(MPI_Comm_rank(c, &r));
        EXPECT(n == (size + 1) / 2 && r == rank / 2, "create_group: size %d rank %d", n, r);
        EXPECT(rank_sum(c) == tri(n), "Allreduce on the new comm");
        EXPECT_OK(MPI_Comm_free(&c));
    }
    /* Comm_create with a group that is not within comm's: MPI_ERR_GROUP everywhere */
    MPI_Group wg;
    int res = -1;
    EXPECT_OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    EXPECT_OK(MPI_Group_compare(g, wg, &res));
    if (res == MPI_UNEQUAL) {
        MPI_Comm e = returning(comm);
        int cls = err_class(MPI_Comm_create(e, wg, &c));
        EXPECT(cls == MPI_ERR_GROUP, "Comm_create outside the group: class %d", cls);
        EXPECT_OK(MPI_Comm_free(&e));
    }
    EXPECT_OK(MPI_Group_free(&wg));
    EXPECT_OK(MPI_Group_free(&evens));
    EXPECT_OK(MPI_Group_free(&g));
}

static void groups(MPI_Comm comm)
{
    MPI_Group g, rev, rev2, excl, evens, odds, u, x, wg;
    int n = -1, r = -1, res = -1, size, rank;
    EXPECT_OK(MPI_Comm_group(comm, &g)); /* the local group of an intercommunicator */
    EXPECT_OK(MPI_Comm_size(comm, &size));
    EXPECT_OK(MPI_Comm_rank(comm, &rank));
    EXPECT_OK(MPI_Group_size(g, &n));
    EXPECT_OK(MPI_Group_rank(g, &r));
    EXPECT(n == size && r == rank, "group size %d rank %d", n, r);
    /* reversed by incl and by a negative-stride range: IDENT to each other, SIMILAR to g */
    int *list = malloc(sizeof(int) * (size_t)(size + 1));
    int *out = malloc(sizeof(int) * (size_t)(size + 1));
    for (int i = 0; i < size; i++) list[i] = size - 1 - i;
    EXPECT_OK(MPI_Group_incl(g, size, list, &rev));
    int down[1][3] = {{size - 1, 0, -1}};
    EXPECT_OK(MPI_Group_range_incl(g, 1, down, &rev2));
    EXPECT_OK(MPI_Group_rank(rev, &r));
    EXPECT(r == size - 1 - rank, "reversed rank %d", r);
    EXPECT_OK(MPI_Group_compare(rev, rev2, &res));
    EXPECT(res == MPI_IDENT, "compare(incl reversed, range reversed) = %d", res);
    EXPECT_OK(MPI_Group_compare(g, rev, &res));
    EXPECT(res == (size == 1 ? MPI_IDENT : MPI_SIMILAR), "compare(g, reversed) = %d", res);
    /* excl of rank 0 */
    int zero = 0;
    EXPECT_OK(MPI_Group_excl(g, 1, &zero, &excl));
    EXPECT_OK(MPI_Group_size(excl, &n));
    EXPECT_OK(MPI_Group_rank(excl, &r));
    EXPECT(n == size - 1 && r == (rank == 0 ? MPI_UNDEFINED : rank - 1), "excl %d %d", n, r);
    EXPECT_OK(MPI_Group_compare(g, excl, &res));
    EXPECT(res == MPI_UNEQUAL, "compare(g, excl) = %d", res);
    /* evens by range_incl, odds by range_excl of the same range */
    int step2[1][3] = {{0, size - 1, 2}};
    EXPECT_OK(MPI_Group_range_incl(g, 1, step2, &evens));
    EXPECT_OK(MPI_Group_range_excl(g, 1, step2, &odds));
    EXPECT_OK(MPI_Group_size(evens, &n));
    EXPECT(n == (size + 1) / 2, "evens size %d", n);
    EXPECT_OK(MPI_Group_size(odds, &n));
    EXPECT(n == size / 2, "odds size %d", n);
    /* translate every rank and MPI_PROC_NULL into the evens */
    for (int i = 0; i < size; i++) list[i] = i;
    list[size] = MPI_PROC_NULL;
    EXPECT_OK(MPI_Group_translate_ranks(g, size + 1, list, evens, out));
    for (int i = 0; i < size; i++)
        EXPECT(out[i] == (i % 2 ? MPI_UNDEFINED : i / 2), "translate %d -> %d", i, out[i]);
    EXPECT(out[size] == MPI_PROC_NULL, "translate MPI_PROC_NULL -> %d", out[size]);
    /* my rank in the world group */
    EXPECT_OK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    EXPECT_OK(MPI_Group_translate_ranks(g, 1, &rank, wg, out));
    EXPECT(out[0] == wrank, "my rank in world: %d", out[0]);
    /* union, intersection, difference */
    EXPECT_OK(MPI_Group_union(evens, odds, &u));
    EXPECT_OK(MPI_Group_compare(u, g, &res));
    EXPECT(res == (size <= 2 ? MPI_IDENT : MPI_SIMILAR), "compare(evens | odds, g) = %d", res);
    EXPECT_OK(MPI_Group_free(&u));
    EXPECT_OK(MPI_Group_union(g, MPI_GROUP_EMPTY, &u));
    EXPECT_OK(MPI_Group_compare(u, g, &res));
    EXPECT(res == MPI_IDENT, "compare(g | empty, g) = %d", res);
    EXPECT_OK(MPI_Group_free(&u));
    EXPECT_OK(MPI_Group_intersection(evens, odds, &x));
    EXPECT_OK(MPI_Group_compare(x, MPI_GROUP_EMPTY, &res));
    EXPECT(res == MPI_IDENT, "compare(evens & odds, empty) = %d", res);
    if (x != MPI_GROUP_EMPTY) EXPECT_OK(MPI_Group_free(&x));
    EXPECT_OK(MPI_Group_intersection(g, wg, &x));
    EXPECT_OK(MPI_Group_compare(x, g, &res));
    EXPECT(res == MPI_IDENT, "compare(g & world, g) = %d", res);
    EXPECT_OK(MPI_Group_free(&x));
    EXPECT_OK(MPI_Group_difference(g, evens, &x));
    EXPECT_OK(MPI_Group_compare(x, odds, &res));
    EXPECT(res == MPI_IDENT, "compare(g - evens, odds) = %d", res);
    EXPECT_OK(MPI_Group_free(&x));
    EXPECT_OK(MPI_Group_size(MPI_GROUP_EMPTY, &n));
    EXPECT_OK(MPI_Group_rank(MPI_GROUP_EMPTY, &r));
    EXPECT(n == 0 && r == MPI_UNDEFINED, "GROUP_EMPTY %d %d", n, r);
    /* a rank outside group1 (Open MPI crashes natively); errors without a communicator go to
     * MPI_COMM_WORLD's handler */
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
    list[0] = size;
    int cls = err_class(MPI_Group_translate_ranks(g, 1, list, evens, out));
    EXPECT(cls == MPI_ERR_RANK, "translate of rank %d: class %d", size, cls);
    EXPECT_OK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL));
    MPI_Group all[7] = {g, rev, rev2, excl, evens, odds, wg};
    for (int i = 0; i < 7; i++) {
        EXPECT_OK(MPI_Group_free(&all[i]));
        EXPECT(all[i] == MPI_GROUP_NULL, "Group_free did not null");
    }
    free(list);
    free(out);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    for_each_comm(intercomm_create, "intercomm_create");
    for_each_comm(inter_queries, "inter_queries");
    for_each_comm(idup, "idup");
    for_each_comm(infos, "infos");
    for_each_comm(names, "names");
    for_each_comm(split_type, "split_type");
    for_each_comm(create_group, "create_group");
    for_each_comm(groups, "groups");
    return finish();
}
