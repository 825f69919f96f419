/* Communicators and groups: dup, split (with MPI_UNDEFINED), split_type, create, create_group,
 * compare, names, error handlers; group construction, comparison and rank translation; info
 * objects. Every new communicator is exercised with a collective. Works on any rank count. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;

#include "check_return.h"

/* The communicator works: an Allreduce of 1 gives its size, of the rank gives the sum. */
static int works(MPI_Comm c, int expect_size)
{
    int n = -1, r = -1, one = 1, sum = 0, rsum = 0;
    OK(MPI_Comm_size(c, &n));
    OK(MPI_Comm_rank(c, &r));
    CHECK(n == expect_size, "size %d expected %d", n, expect_size);
    CHECK(r >= 0 && r < n, "rank %d of %d", r, n);
    OK(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, c));
    OK(MPI_Allreduce(&r, &rsum, 1, MPI_INT, MPI_SUM, c));
    CHECK(sum == n && rsum == n * (n - 1) / 2, "Allreduce on the new comm: %d %d", sum, rsum);
    return 0;
}

static int basics(void)
{
    int n, r, flag = -1, res = -1;
    OK(MPI_Comm_size(MPI_COMM_SELF, &n));
    OK(MPI_Comm_rank(MPI_COMM_SELF, &r));
    CHECK(n == 1 && r == 0, "COMM_SELF %d %d", n, r);
    OK(MPI_Comm_test_inter(MPI_COMM_WORLD, &flag));
    CHECK(flag == 0, "WORLD is an intercommunicator?");
    OK(MPI_Topo_test(MPI_COMM_WORLD, &res));
    CHECK(res == MPI_UNDEFINED, "Topo_test %d", res);
    OK(MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_WORLD, &res));
    CHECK(res == MPI_IDENT, "compare(WORLD, WORLD) = %d", res);
    OK(MPI_Comm_compare(MPI_COMM_WORLD, MPI_COMM_SELF, &res));
    CHECK(res == (size == 1 ? MPI_CONGRUENT : MPI_UNEQUAL), "compare(WORLD, SELF) = %d", res);
    return 0;
}

static int dup_and_names(void)
{
    MPI_Comm d, dd;
    int res = -1, len = -1;
    char name[MPI_MAX_OBJECT_NAME];
    OK(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len));
    CHECK(strcmp(name, "MPI_COMM_WORLD") == 0 && len == 14, "WORLD name '%s' %d", name, len);
    OK(MPI_Comm_get_name(MPI_COMM_SELF, name, &len));
    CHECK(strcmp(name, "MPI_COMM_SELF") == 0, "SELF name '%s'", name);
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &d));
    CHECK(d != MPI_COMM_WORLD && d != MPI_COMM_NULL, "dup handle");
    OK(MPI_Comm_compare(MPI_COMM_WORLD, d, &res));
    CHECK(res == MPI_CONGRUENT, "compare(WORLD, dup) = %d", res);
    OK(MPI_Comm_compare(d, d, &res));
    CHECK(res == MPI_IDENT, "compare(dup, dup) = %d", res);
    if (works(d, size)) return 1;
    OK(MPI_Comm_set_name(d, "my dup"));
    OK(MPI_Comm_get_name(d, name, &len));
    CHECK(strcmp(name, "my dup") == 0 && len == 6, "dup name '%s' %d", name, len);

    /* error handlers: default fatal; set on the dup; inherited by a dup of the dup */
    MPI_Errhandler eh;
    OK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh));
    CHECK(eh == MPI_ERRORS_ARE_FATAL, "WORLD errhandler %p", (void *)eh);
    OK(MPI_Errhandler_free(&eh));
    CHECK(eh == MPI_ERRHANDLER_NULL, "Errhandler_free did not null");
    OK(MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN));
    OK(MPI_Comm_get_errhandler(d, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "dup errhandler %p", (void *)eh);
    OK(MPI_Errhandler_free(&eh));
    OK(MPI_Comm_dup(d, &dd));
    OK(MPI_Comm_get_errhandler(dd, &eh));
    CHECK(eh == MPI_ERRORS_RETURN, "dup of dup did not inherit the errhandler");
    OK(MPI_Errhandler_free(&eh));
    OK(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &eh));
    CHECK(eh == MPI_ERRORS_ARE_FATAL, "setting on a dup changed WORLD");
    OK(MPI_Errhandler_free(&eh));
    /* the handler acts: a bad rank returns MPI_ERR_RANK on the dup */
    int x = 0, cls = -1;
    int rc = MPI_Send(&x, 1, MPI_INT, size + 5, 0, dd);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_RANK, "bad rank on ERRORS_RETURN comm: class %d", cls);
    OK(MPI_Comm_compare(d, dd, &res));
    CHECK(res == MPI_CONGRUENT, "compare(dup, dupdup) = %d", res);
    OK(MPI_Comm_free(&dd));
    CHECK(dd == MPI_COMM_NULL, "Comm_free did not null");
    OK(MPI_Comm_free(&d));
    CHECK(d == MPI_COMM_NULL, "Comm_free did not null");
    return 0;
}

static int splits(void)
{
    MPI_Comm c;
    int res, r, n;
    /* parity, reversed by key */
    OK(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, -rank, &c));
    int same = (size - rank % 2 + 1) / 2; /* ranks with my parity */
    if (works(c, same)) return 1;
    OK(MPI_Comm_rank(c, &r));
    int after = 0; /* ranks of my parity above me come first */
    for (int q = rank + 2; q < size; q += 2) after++;
    CHECK(r == after, "split rank %d expected %d", r, after);
    OK(MPI_Comm_compare(MPI_COMM_WORLD, c, &res));
    CHECK(res == (size == 1 ? MPI_CONGRUENT : MPI_UNEQUAL), "compare(WORLD, parity) = %d", res);
    OK(MPI_Comm_free(&c));
    /* one color, keys reversed: same group, other order -> MPI_SIMILAR */
    OK(MPI_Comm_split(MPI_COMM_WORLD, 3, size - rank, &c));
    OK(MPI_Comm_rank(c, &r));
    CHECK(r == size - 1 - rank, "reversed split rank %d", r);
    OK(MPI_Comm_compare(MPI_COMM_WORLD, c, &res));
    CHECK(res == (size == 1 ? MPI_CONGRUENT : MPI_SIMILAR), "compare(WORLD, reversed) = %d", res);
    OK(MPI_Comm_free(&c));
    /* one color, same keys: congruent */
    OK(MPI_Comm_split(MPI_COMM_WORLD, 0, 0, &c));
    OK(MPI_Comm_compare(MPI_COMM_WORLD, c, &res));
    CHECK(res == MPI_CONGRUENT, "compare(WORLD, split same order) = %d", res);
    OK(MPI_Comm_free(&c));
    /* MPI_UNDEFINED color: rank 0 gets MPI_COMM_NULL */
    OK(MPI_Comm_split(MPI_COMM_WORLD, rank == 0 ? MPI_UNDEFINED : 1, rank, &c));
    if (rank == 0) {
        CHECK(c == MPI_COMM_NULL, "MPI_UNDEFINED color gave a communicator");
    } else {
        CHECK(c != MPI_COMM_NULL, "got MPI_COMM_NULL");
        if (works(c, size - 1)) return 1;
        OK(MPI_Comm_rank(c, &r));
        CHECK(r == rank - 1, "rank %d", r);
        OK(MPI_Comm_free(&c));
    }
    /* split_type: a wasm rank shares its memory with no other rank, so each is alone */
    MPI_Info info;
    OK(MPI_Info_create(&info));
    OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, info, &c));
    OK(MPI_Info_free(&info));
    CHECK(info == MPI_INFO_NULL, "Info_free did not null");
    if (works(c, 1)) return 1;
    OK(MPI_Comm_compare(MPI_COMM_SELF, c, &res));
    CHECK(res == MPI_CONGRUENT, "compare(SELF, shared) = %d", res);
    OK(MPI_Comm_free(&c));
    OK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_UNDEFINED, rank, MPI_INFO_NULL, &c));
    CHECK(c == MPI_COMM_NULL, "split_type MPI_UNDEFINED gave a communicator");
    OK(MPI_Comm_size(MPI_COMM_WORLD, &n));
    return 0;
}

static int groups(void)
{
    MPI_Group world, g, h, u;
    int n = -1, r = -1, res = -1;
    OK(MPI_Comm_group(MPI_COMM_WORLD, &world));
    OK(MPI_Group_size(world, &n));
    OK(MPI_Group_rank(world, &r));
    CHECK(n == size && r == rank, "world group %d %d", n, r);

    /* incl {last, 0}: order follows the list */
    int pair[2] = {size - 1, 0};
    OK(MPI_Group_incl(world, size > 1 ? 2 : 1, pair, &g));
    OK(MPI_Group_size(g, &n));
    OK(MPI_Group_rank(g, &r));
    CHECK(n == (size > 1 ? 2 : 1), "incl size %d", n);
    int want = rank == size - 1 ? 0 : rank == 0 ? 1 : MPI_UNDEFINED;
    CHECK(r == want, "incl rank %d expected %d", r, want);
    OK(MPI_Group_free(&g));
    CHECK(g == MPI_GROUP_NULL, "Group_free did not null");

    /* excl {0} */
    int zero = 0;
    OK(MPI_Group_excl(world, 1, &zero, &g));
    OK(MPI_Group_size(g, &n));
    OK(MPI_Group_rank(g, &r));
    CHECK(n == size - 1 && r == (rank == 0 ? MPI_UNDEFINED : rank - 1), "excl %d %d", n, r);
    OK(MPI_Group_free(&g));

    /* even ranks by range; odd ranks by range_excl of the evens' range */
    int range[1][3] = {{0, size - 1, 2}};
    MPI_Group even, odd;
    OK(MPI_Group_range_incl(world, 1, range, &even));
    OK(MPI_Group_range_excl(world, 1, range, &odd));
    OK(MPI_Group_size(even, &n));
    CHECK(n == (size + 1) / 2, "range_incl size %d", n);
    OK(MPI_Group_size(odd, &n));
    CHECK(n == size / 2, "range_excl size %d", n);
    OK(MPI_Group_rank(even, &r));
    CHECK(r == (rank % 2 ? MPI_UNDEFINED : rank / 2), "range_incl rank %d", r);

    /* translate world ranks (plus PROC_NULL) into the even group */
    int *in = malloc((size + 1) * sizeof(int)), *out = malloc((size + 1) * sizeof(int));
    for (int i = 0; i < size; i++) in[i] = i;
    in[size] = MPI_PROC_NULL;
    OK(MPI_Group_translate_ranks(world, size + 1, in, even, out));
    for (int i = 0; i < size; i++)
        CHECK(out[i] == (i % 2 ? MPI_UNDEFINED : i / 2), "translate %d -> %d", i, out[i]);
    CHECK(out[size] == MPI_PROC_NULL, "translate PROC_NULL -> %d", out[size]);
    free(in);
    free(out);

    /* union / intersection / difference / compare */
    OK(MPI_Group_union(even, odd, &u));
    OK(MPI_Group_size(u, &n));
    CHECK(n == size, "union size %d", n);
    OK(MPI_Group_compare(u, world, &res));
    CHECK(res == (size <= 2 ? MPI_IDENT : MPI_SIMILAR), "compare(union, world) = %d", res);
    OK(MPI_Group_free(&u));
    OK(MPI_Group_intersection(even, world, &h));
    OK(MPI_Group_compare(h, even, &res));
    CHECK(res == MPI_IDENT, "compare(even & world, even) = %d", res);
    OK(MPI_Group_free(&h));
    OK(MPI_Group_difference(world, even, &h));
    OK(MPI_Group_compare(h, odd, &res));
    CHECK(res == MPI_IDENT, "compare(world - even, odd) = %d", res);
    OK(MPI_Group_free(&h));
    OK(MPI_Group_intersection(even, odd, &h));
    OK(MPI_Group_size(h, &n));
    CHECK(n == 0, "even & odd size %d", n);
    OK(MPI_Group_compare(h, MPI_GROUP_EMPTY, &res));
    CHECK(res == MPI_IDENT, "compare(empty, GROUP_EMPTY) = %d", res);
    if (h != MPI_GROUP_EMPTY) OK(MPI_Group_free(&h));
    OK(MPI_Group_size(MPI_GROUP_EMPTY, &n));
    OK(MPI_Group_rank(MPI_GROUP_EMPTY, &r));
    CHECK(n == 0 && r == MPI_UNDEFINED, "GROUP_EMPTY %d %d", n, r);
    if (size > 1) {
        OK(MPI_Group_compare(even, world, &res));
        CHECK(res == MPI_UNEQUAL, "compare(even, world) = %d", res);
    }
    int rev_n = size, *rev = malloc(size * sizeof(int));
    for (int i = 0; i < size; i++) rev[i] = size - 1 - i;
    OK(MPI_Group_incl(world, rev_n, rev, &h));
    free(rev);
    OK(MPI_Group_compare(h, world, &res));
    CHECK(res == (size == 1 ? MPI_IDENT : MPI_SIMILAR), "compare(reversed, world) = %d", res);
    OK(MPI_Group_free(&h));

    /* Comm_create over the evens: odd ranks get MPI_COMM_NULL */
    MPI_Comm c;
    OK(MPI_Comm_create(MPI_COMM_WORLD, even, &c));
    if (rank % 2) {
        CHECK(c == MPI_COMM_NULL, "Comm_create gave a non-member a communicator");
    } else {
        if (works(c, (size + 1) / 2)) return 1;
        MPI_Group cg;
        OK(MPI_Comm_group(c, &cg));
        OK(MPI_Group_compare(cg, even, &res));
        CHECK(res == MPI_IDENT, "group of created comm: %d", res);
        OK(MPI_Group_free(&cg));
        OK(MPI_Comm_free(&c));
    }
    /* Comm_create_group: only the members of the odd group call it */
    if (rank % 2) {
        OK(MPI_Comm_create_group(MPI_COMM_WORLD, odd, 17, &c));
        if (works(c, size / 2)) return 1;
        OK(MPI_Comm_rank(c, &r));
        CHECK(r == rank / 2, "create_group rank %d", r);
        OK(MPI_Comm_free(&c));
    }
    OK(MPI_Group_free(&even));
    OK(MPI_Group_free(&odd));
    OK(MPI_Group_free(&world));
    return 0;
}

static int infos(void)
{
    MPI_Info a, b;
    int nkeys = -1;
    OK(MPI_Info_create(&a));
    OK(MPI_Info_get_nkeys(a, &nkeys));
    CHECK(nkeys == 0, "new info has %d keys", nkeys);
    OK(MPI_Info_set(a, "alpha", "1"));
    OK(MPI_Info_set(a, "beta", "two"));
    OK(MPI_Info_set(a, "alpha", "3"));
    OK(MPI_Info_get_nkeys(a, &nkeys));
    CHECK(nkeys == 2, "nkeys %d", nkeys);
    OK(MPI_Info_dup(a, &b));
    OK(MPI_Info_delete(a, "alpha"));
    OK(MPI_Info_get_nkeys(a, &nkeys));
    CHECK(nkeys == 1, "after delete: %d", nkeys);
    OK(MPI_Info_get_nkeys(b, &nkeys));
    CHECK(nkeys == 2, "dup changed by delete: %d", nkeys);
    OK(MPI_Info_free(&a));
    OK(MPI_Info_free(&b));
    CHECK(a == MPI_INFO_NULL && b == MPI_INFO_NULL, "Info_free did not null");
    return 0;
}

/* Many communicators created and freed: handle slots are recycled without confusion. */
static int churn(void)
{
    MPI_Comm keep, c[8];
    OK(MPI_Comm_dup(MPI_COMM_WORLD, &keep));
    OK(MPI_Comm_set_name(keep, "keeper"));
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 8; i++) OK(MPI_Comm_split(MPI_COMM_WORLD, (rank + i) % 2, rank, &c[i]));
        for (int i = 7; i >= 0; i -= 2) OK(MPI_Comm_free(&c[i]));
        for (int i = 0; i < 8; i += 2) OK(MPI_Comm_free(&c[i]));
    }
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    OK(MPI_Comm_get_name(keep, name, &len));
    CHECK(strcmp(name, "keeper") == 0, "name after churn '%s'", name);
    if (works(keep, size)) return 1;
    OK(MPI_Comm_free(&keep));
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    RUN(basics);
    RUN(dup_and_names);
    RUN(splits);
    RUN(groups);
    RUN(infos);
    RUN(churn);
    if (rank == 0) printf("comm done on %d ranks\n", size);
    MPI_Finalize();
    return 0;
}
