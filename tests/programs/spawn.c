/* Dynamic processes: a parent job spawns wasm children (MPI_Comm_spawn and
 * MPI_Comm_spawn_multiple), they exchange data over the intercommunicator and over its merge,
 * and commands the sandbox cannot run fail with MPI_ERR_SPAWN.
 *     spawn GUEST_PATH_OF_THIS_MODULE NOT_WASM_GUEST_PATH OUTSIDE_PATH
 * Children get "child TAG". Prints "ok <section>" per passed section, FAILED lines otherwise. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            failures++; \
            printf("FAILED line %d: ", __LINE__); \
            printf(__VA_ARGS__); \
            printf("\n"); \
        } \
    } while (0)

/* Both sides: broadcast from the parents' rank 0, then every process of the merged
 * communicator adds (1, its tag); returns the number of failures on the whole merge. */
static int exchange(MPI_Comm inter, int is_child, int tag, int *value, long sums[2])
{
    int rank;
    MPI_Comm_rank(inter, &rank);
    if (is_child)
        MPI_Bcast(value, 1, MPI_INT, 0, inter);
    else
        MPI_Bcast(value, 1, MPI_INT, rank == 0 ? MPI_ROOT : MPI_PROC_NULL, inter);
    MPI_Comm all;
    MPI_Intercomm_merge(inter, is_child, &all);
    long mine[2] = {1, tag};
    MPI_Allreduce(mine, sums, 2, MPI_LONG, MPI_SUM, all);
    int worst = 0;
    MPI_Allreduce(&failures, &worst, 1, MPI_INT, MPI_MAX, all);
    MPI_Comm_free(&all);
    return worst;
}

static int child(MPI_Comm parent, int argc, char **argv)
{
    CHECK(argc == 3 && !strcmp(argv[1], "child"), "child argv: argc = %d", argc);
    int tag = argc == 3 ? atoi(argv[2]) : -1, again, value = 0, inter = 0;
    long sums[2];
    MPI_Comm p2;
    MPI_Comm_get_parent(&p2);
    CHECK(p2 == parent, "MPI_Comm_get_parent returned another handle the second time");
    MPI_Comm_test_inter(parent, &inter);
    CHECK(inter, "the parent communicator is not an intercommunicator");
    MPI_Comm_size(MPI_COMM_WORLD, &again);
    exchange(parent, 1, tag, &value, sums);
    CHECK(value == 4242, "child received %d from the parent", value);
    MPI_Comm_disconnect(&parent);
    MPI_Finalize();
    return failures != 0;
}

static void spawn_one(const char *self, int nparents)
{
    char *args[] = {"child", "7", NULL};
    int codes[2] = {-1, -1}, value = 4242, rsize = 0;
    long sums[2];
    MPI_Comm inter;
    int rc = MPI_Comm_spawn(self, args, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, codes);
    CHECK(rc == MPI_SUCCESS, "MPI_Comm_spawn returned %d", rc);
    if (rc != MPI_SUCCESS)
        return;
    CHECK(codes[0] == MPI_SUCCESS && codes[1] == MPI_SUCCESS, "errcodes %d %d", codes[0],
          codes[1]);
    MPI_Comm_remote_size(inter, &rsize);
    CHECK(rsize == 2, "remote size %d", rsize);
    int worst = exchange(inter, 0, 0, &value, sums);
    CHECK(worst == 0, "a child failed its checks");
    CHECK(sums[0] == nparents + 2 && sums[1] == 2 * 7, "merged sums %ld %ld", sums[0], sums[1]);
    MPI_Comm_disconnect(&inter);
}

static void spawn_multiple(const char *self, int nparents)
{
    char *cmds[2] = {(char *)self, (char *)self};
    char *a1[] = {"child", "11", NULL}, *a2[] = {"child", "22", NULL};
    char **argvs[2] = {a1, a2};
    int maxprocs[2] = {1, 2}, codes[3], value = 4242;
    MPI_Info infos[2];
    MPI_Info_create(&infos[0]);
    MPI_Info_set(infos[0], "wdir", "/somewhere/on/the/host"); /* dropped: a host path */
    infos[1] = MPI_INFO_NULL;
    long sums[2];
    MPI_Comm inter;
    int rc = MPI_Comm_spawn_multiple(2, cmds, argvs, maxprocs, infos, 0, MPI_COMM_WORLD, &inter,
                                     codes);
    MPI_Info_free(&infos[0]);
    CHECK(rc == MPI_SUCCESS, "MPI_Comm_spawn_multiple returned %d", rc);
    if (rc != MPI_SUCCESS)
        return;
    int worst = exchange(inter, 0, 0, &value, sums);
    CHECK(worst == 0, "a child failed its checks");
    CHECK(sums[0] == nparents + 3 && sums[1] == 11 + 2 * 22, "merged sums %ld %ld", sums[0],
          sums[1]);
    MPI_Comm_disconnect(&inter);
}

static void refused(const char *what, const char *cmd)
{
    MPI_Comm inter = MPI_COMM_NULL;
    int codes[1];
    int rc = MPI_Comm_spawn(cmd, MPI_ARGV_NULL, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter,
                            codes);
    int cls = -1;
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_SPAWN, "%s (%s): class %d, not MPI_ERR_SPAWN", what, cmd, cls);
    CHECK(inter == MPI_COMM_NULL || rc != MPI_SUCCESS, "%s: an intercommunicator anyway", what);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    if (parent != MPI_COMM_NULL)
        return child(parent, argc, argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 4) {
        printf("FAILED usage: spawn SELF NOT_WASM OUTSIDE\n");
        MPI_Finalize();
        return 1;
    }
    int sections[3];
    int before = failures;
    spawn_one(argv[1], size);
    sections[0] = failures == before;
    before = failures;
    spawn_multiple(argv[1], size);
    sections[1] = failures == before;
    before = failures;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    refused("not wasm", argv[2]);
    refused("outside the grants", argv[3]);
    refused("no such module", "/no/such/module.wasm");
    sections[2] = failures == before;
    const char *names[] = {"spawn", "spawn_multiple", "refused"};
    int all[3];
    MPI_Allreduce(sections, all, 3, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    for (int i = 0; rank == 0 && i < 3; i++)
        if (all[i])
            printf("ok %s\n", names[i]);
    MPI_Finalize();
    return failures != 0;
}
