/* Process management: spawn, ports, names and MPI_Comm_join. Port names are the host MPI's; the bridge refuses one the host cannot have made before any rank waits on it (see
 * docs/dynamic.md). MPI_Comm_join is a documented error (the table): its socket would be a
 * WASI descriptor, which is no host file descriptor. */
#include "bridge.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

/* Whether `port` has the form of the host MPI's port names. Open MPI's MPI_Comm_connect waits
 * forever on a malformed one and MPICH returns MPI_ERR_OTHER, where the standard says
 * MPI_ERR_PORT. */
static int port_ok(const char *port)
{
#if defined(OPEN_MPI)
    unsigned job, vpid, tag; /* "jobid.vpid:tag" (ompi_dpm_open_port) */
    int end = 0;
    return sscanf(port, "%u.%u:%u%n", &job, &vpid, &tag, &end) == 3 && port[end] == 0
           && port[0] >= '0' && port[0] <= '9';
#elif defined(MPICH_VERSION)
    return strstr(port, "tag#") != NULL && strchr(port, '$') != NULL; /* "tag#N$...$" */
#else
    (void)port;
    return 1;
#endif
}

static wasm_trap_t *accept_connect(wasmtime_val_raw_t *a, int connect, const char *fn)
{
#define FN fn
    COMM_ARG(comm, 3);
    const slot_t *cs = COMM_SLOT(comm);
    if (cs->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    HANDLE_ARG(K_INFO, info, info, si, 1);
    int root = a[2].i32;
    if (root < 0 || root >= cs->size)
        return fail(a, ABI_ERR_ROOT, errslot, FN);
    CHECK_OUT(a[4].i32, 4);
    const char *port = "";
    int good = 1;
    if (cs->rank == root) { /* significant at the root only */
        CHECK_STR(port, a[0].i32);
        good = port_ok(port);
    }
    /* every rank learns the root's verdict: a root that returned alone would leave the
     * others waiting in the host call for ever */
    int rc = MPI_Bcast(&good, 1, MPI_INT, root, comm);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    if (!good)
        return fail(a, ABI_ERR_PORT, errslot, FN);
    MPI_Comm nc;
    rc = connect ? MPI_Comm_connect(port, info, root, comm, &nc)
                 : MPI_Comm_accept(port, info, root, comm, &nc);
    if (rc == MPI_SUCCESS)
        store_i32((uint32_t)a[4].i32, new_comm(nc, errslot));
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_Comm_accept) { return accept_connect(a, 0, "MPI_Comm_accept"); }
CALLBACK(MPI_Comm_connect) { return accept_connect(a, 1, "MPI_Comm_connect"); }

CALLBACK(MPI_Close_port)
{
#define FN "MPI_Close_port"
    ERRSLOT;
    const char *port;
    CHECK_STR(port, a[0].i32);
    if (!port_ok(port))
        return fail(a, ABI_ERR_PORT, errslot, FN);
    return done(a, MPI_Close_port(port), errslot, FN);
#undef FN
}

/* Unpublishing a name that is not published is MPI_ERR_SERVICE (MPI-3.1 10.4.4); Open MPI
 * returns success, so the bridge looks the name up first. */
CALLBACK(MPI_Unpublish_name)
{
#define FN "MPI_Unpublish_name"
    ERRSLOT;
    const char *service, *port;
    CHECK_STR(service, a[0].i32);
    HANDLE_ARG(K_INFO, info, info, si, 1);
    CHECK_STR(port, a[2].i32);
    char found[MPI_MAX_PORT_NAME + 1];
    if (MPI_Lookup_name(service, info, found) != MPI_SUCCESS)
        return fail(a, ABI_ERR_SERVICE, errslot, FN);
    return done(a, MPI_Unpublish_name(service, info, port), errslot, FN);
#undef FN
}

/* ---- MPI_Comm_spawn and MPI_Comm_spawn_multiple: the children are further wasm ranks.
 *
 * A command is a guest path naming a wasm module inside the parent's directory grants
 * (resolved like MPI_File_open's names, core/sandbox.c). The host MPI spawns `wasmpi exec` on
 * the module with the parent's sandbox options, which the loader hands over at start-up
 * (wasmpi_bridge_set_spawn): a child sees exactly the grants and environment its parent sees.
 * Info keys that name host paths (wdir, path, file, hostfile) are dropped: a guest has no host
 * paths to give. Spawn errors (no such module, outside every grant, not wasm) are
 * MPI_ERR_SPAWN. */

/* argv of the host command that runs one child rank, up to (not including) the module path */
static char **g_prefix;
static int g_nprefix;

__attribute__((visibility("default"))) int wasmpi_bridge_set_spawn(int n, const char *const *argv)
{
    g_prefix = calloc((size_t)n + 1, sizeof *g_prefix);
    if (!g_prefix)
        return -1;
    for (int i = 0; i < n; i++)
        if (!(g_prefix[i] = strdup(argv[i])))
            return -1;
    g_nprefix = n;
    return 0;
}

static const char *const HOST_PATH_KEYS[] = {"wdir", "path", "file", "hostfile"};

/* A host copy of the guest's info without the keys that name host paths (MPI_INFO_NULL if
 * the guest gave none); *owned says whether the caller must free it. */
static int spawn_info(MPI_Info in, MPI_Info *out, int *owned)
{
    *out = in;
    *owned = 0;
    if (in == MPI_INFO_NULL)
        return MPI_SUCCESS;
    int rc = MPI_Info_dup(in, out);
    if (rc != MPI_SUCCESS)
        return rc;
    *owned = 1;
    for (size_t i = 0; i < sizeof HOST_PATH_KEYS / sizeof *HOST_PATH_KEYS; i++) {
        int len, flag = 0;
        MPI_Info_get_valuelen(*out, HOST_PATH_KEYS[i], &len, &flag);
        if (flag)
            MPI_Info_delete(*out, HOST_PATH_KEYS[i]);
    }
    return MPI_SUCCESS;
}

/* The host path of the module a guest command names, checked to be wasm; an ABI class (the
 * reason is on stderr). */
static int resolve_module(const char *guest_path, char *host, size_t cap, const char *fn)
{
    int fd = -1;
    if (sandbox_open(guest_path, O_RDONLY, 0, &fd) != ABI_SUCCESS) {
        fprintf(stderr, "wasmpi: rank %d: %s: %s: no such file inside the directory grants\n",
                g_rank, fn, guest_path);
        return ABI_ERR_SPAWN;
    }
    unsigned char magic[4];
    char link[64];
    int cls = ABI_ERR_SPAWN;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t l = readlink(link, host, cap - 1);
    if (pread(fd, magic, 4, 0) != 4 || memcmp(magic, "\0asm", 4))
        fprintf(stderr, "wasmpi: rank %d: %s: %s: not a wasm module\n", g_rank, fn, guest_path);
    else if (l > 0) {
        host[l] = 0;
        cls = ABI_SUCCESS;
    }
    close(fd);
    return cls;
}

/* The host argv of a child into *out (prefix, module, then the guest's arguments), or NULL
 * with the ABI class in *cls. A guest string or array outside memory is a trap. */
static wasm_trap_t *child_argv(uint32_t gcmd, uint32_t gargv, char ***out, int *cls,
                               const char *FN)
{
    *out = NULL;
    const char *cmd;
    CHECK_STR(cmd, gcmd);
    int nargs = 0;
    while (gargv) { /* the guest's argv ends with a NULL pointer (or is MPI_ARGV_NULL) */
        CHECK_ARRAY(gargv, nargs + 1, 4, "argv");
        uint32_t p = (uint32_t)load_i32(gargv + 4u * (uint32_t)nargs);
        if (!p)
            break;
        const char *arg;
        CHECK_STR(arg, p);
        (void)arg;
        nargs++;
    }
    if (!g_nprefix) {
        fprintf(stderr, "wasmpi: rank %d: %s: this rank was not started by `wasmpi run`, so it "
                        "has no command to start wasm ranks with\n", g_rank, FN);
        *cls = ABI_ERR_SPAWN;
        return NULL;
    }
    char **argv = calloc((size_t)g_nprefix + (size_t)nargs + 1, sizeof *argv);
    char *host = malloc(PATH_MAX);
    *cls = argv && host ? resolve_module(cmd, host, PATH_MAX, FN) : ABI_ERR_NO_MEM;
    if (*cls != ABI_SUCCESS) {
        free(argv);
        free(host);
        return NULL;
    }
    /* argv[] of MPI_Comm_spawn excludes the command itself (g_prefix[0]) */
    for (int i = 1; i < g_nprefix; i++)
        argv[i - 1] = g_prefix[i];
    argv[g_nprefix - 1] = host;
    for (int i = 0; i < nargs; i++)
        argv[g_nprefix + i] = (char *)GPTR(load_i32(gargv + 4u * (uint32_t)i));
    *out = argv;
    return NULL;
}

static void free_child_argv(char **argv)
{
    if (argv) {
        free(argv[g_nprefix - 1]);
        free(argv);
    }
}

/* An ABI error class when a spawn cannot be made on communicator `c` with `root`. */
static int spawn_comm(const slot_t *c, int root)
{
    if (c->rsize) /* an intercommunicator */
        return ABI_ERR_COMM;
    return root < 0 || root >= c->size ? ABI_ERR_ROOT : ABI_SUCCESS;
}

/* The end of a spawn: the intercommunicator to guest argument `iout` (inheriting the error
 * handler of the communicator in `cslot`), the host error codes of the `n` children as ABI
 * codes to the array at argument `ierr` (unless it is MPI_ERRCODES_IGNORE). */
static wasm_trap_t *spawned(wasmtime_val_raw_t *a, int rc, MPI_Comm inter, int32_t cslot,
                            int iout, int ierr, int *codes, int n, const char *fn)
{
    if (rc == MPI_SUCCESS) {
        store_i32((uint32_t)a[iout].i32, new_comm(inter, cslot));
        for (int i = 0; a[ierr].i32 && i < n; i++)
            store_i32((uint32_t)a[ierr].i32 + 4u * (uint32_t)i,
                      codes[i] == MPI_SUCCESS ? 0 : abi_error(codes[i]));
    }
    free(codes);
    return done(a, rc, cslot, fn);
}

/* The spawn itself, once each side knows its arguments: every rank of `comm` learns the
 * root's outcome and the total number of children (the length of array_of_errcodes). */
static int root_outcome(int cls, int total, int root, MPI_Comm comm, int *total_out)
{
    int v[2] = {cls, total};
    int rc = MPI_Bcast(v, 2, MPI_INT, root, comm);
    *total_out = v[1];
    return rc != MPI_SUCCESS ? abi_error(rc) : v[0];
}

CALLBACK(MPI_Comm_spawn)
{
#define FN "MPI_Comm_spawn"
    COMM_ARG(comm, 5);
    int root = a[4].i32, rank = COMM_SLOT(comm)->rank, bad = spawn_comm(COMM_SLOT(comm), root);
    if (bad)
        return fail(a, bad, errslot, FN);
    CHECK_OUT(a[6].i32, 4);
    char **argv = NULL;
    int cls = ABI_SUCCESS, maxprocs = 0, owned = 0;
    MPI_Info info = MPI_INFO_NULL;
    if (rank == root) {
        maxprocs = a[2].i32;
        slot_t *si = lookup(K_INFO, a[3].i32);
        wasm_trap_t *t = NULL;
        if (maxprocs <= 0)
            cls = ABI_ERR_ARG;
        else if (!si)
            cls = ABI_ERR_INFO;
        else if ((t = child_argv((uint32_t)a[0].i32, (uint32_t)a[1].i32, &argv, &cls, FN)))
            return t; /* the other ranks wait in the broadcast below: the trap ends the job */
        else if (argv && spawn_info(si->h.info, &info, &owned) != MPI_SUCCESS)
            cls = ABI_ERR_INFO;
    }
    int total = 0;
    cls = root_outcome(cls, maxprocs, root, comm, &total);
    if (cls == ABI_SUCCESS && a[7].i32)
        CHECK_ARRAY(a[7].i32, total, 4, "array_of_errcodes");
    int *codes = cls == ABI_SUCCESS ? calloc((size_t)total, sizeof *codes) : NULL;
    if (cls == ABI_SUCCESS && !codes)
        cls = ABI_ERR_NO_MEM;
    if (cls != ABI_SUCCESS) {
        free_child_argv(argv);
        if (owned)
            MPI_Info_free(&info);
        free(codes);
        return fail(a, cls, errslot, FN);
    }
    MPI_Comm inter = MPI_COMM_NULL;
    int rc = MPI_Comm_spawn(rank == root ? g_prefix[0] : NULL, rank == root ? argv + 0 : NULL,
                            total, info, root, comm, &inter, codes);
    free_child_argv(argv);
    if (owned)
        MPI_Info_free(&info);
    return spawned(a, rc, inter, cs_comm, 6, 7, codes, total, FN);
#undef FN
}

CALLBACK(MPI_Comm_spawn_multiple)
{
#define FN "MPI_Comm_spawn_multiple"
    COMM_ARG(comm, 6);
    int root = a[5].i32, rank = COMM_SLOT(comm)->rank, bad = spawn_comm(COMM_SLOT(comm), root);
    if (bad)
        return fail(a, bad, errslot, FN);
    CHECK_OUT(a[7].i32, 4);
    int count = 0, total = 0, cls = ABI_SUCCESS;
    char **cmds = NULL, ***argvs = NULL;
    int *maxprocs = NULL;
    MPI_Info *infos = NULL;
    if (rank == root) {
        count = a[0].i32;
        if (count <= 0)
            cls = ABI_ERR_ARG;
        else {
            CHECK_ARRAY(a[1].i32, count, 4, "array_of_commands");
            if (a[2].i32)
                CHECK_ARRAY(a[2].i32, count, 4, "array_of_argv");
            CHECK_ARRAY(a[3].i32, count, 4, "array_of_maxprocs");
            CHECK_ARRAY(a[4].i32, count, 4, "array_of_info");
            cmds = calloc((size_t)count, sizeof *cmds);
            argvs = calloc((size_t)count, sizeof *argvs);
            maxprocs = calloc((size_t)count, sizeof *maxprocs);
            infos = calloc((size_t)count, sizeof *infos);
            if (!cmds || !argvs || !maxprocs || !infos)
                cls = ABI_ERR_NO_MEM;
        }
        for (int i = 0; cls == ABI_SUCCESS && i < count; i++) {
            infos[i] = MPI_INFO_NULL;
            maxprocs[i] = load_i32((uint32_t)a[3].i32 + 4u * (uint32_t)i);
            slot_t *si = lookup(K_INFO, load_i32((uint32_t)a[4].i32 + 4u * (uint32_t)i));
            if (maxprocs[i] <= 0) {
                cls = ABI_ERR_ARG;
                break;
            }
            if (!si) {
                cls = ABI_ERR_INFO;
                break;
            }
            total += maxprocs[i];
            uint32_t gargv = a[2].i32 ? (uint32_t)load_i32((uint32_t)a[2].i32 + 4u * (uint32_t)i) : 0;
            wasm_trap_t *t = child_argv((uint32_t)load_i32((uint32_t)a[1].i32 + 4u * (uint32_t)i),
                                        gargv, &argvs[i], &cls, FN);
            if (t)
                return t; /* the other ranks wait in the broadcast below: the trap ends the job */
            int owned; /* a copy, or MPI_INFO_NULL: the cleanup below frees what is not null */
            if (cls == ABI_SUCCESS && spawn_info(si->h.info, &infos[i], &owned) != MPI_SUCCESS)
                cls = ABI_ERR_INFO;
            cmds[i] = g_prefix ? g_prefix[0] : NULL;
        }
    }
    cls = root_outcome(cls, total, root, comm, &total);
    if (cls == ABI_SUCCESS && a[8].i32)
        CHECK_ARRAY(a[8].i32, total, 4, "array_of_errcodes");
    int *codes = cls == ABI_SUCCESS ? calloc((size_t)total, sizeof *codes) : NULL;
    if (cls == ABI_SUCCESS && !codes)
        cls = ABI_ERR_NO_MEM;
    int rc = MPI_SUCCESS;
    MPI_Comm inter = MPI_COMM_NULL;
    if (cls == ABI_SUCCESS)
        rc = MPI_Comm_spawn_multiple(count, cmds, argvs, maxprocs, infos, root, comm, &inter,
                                     codes);
    for (int i = 0; i < count && argvs; i++) {
        free_child_argv(argvs[i]);
        if (infos && infos[i] != MPI_INFO_NULL)
            MPI_Info_free(&infos[i]);
    }
    free(cmds);
    free(argvs);
    free(maxprocs);
    free(infos);
    if (cls != ABI_SUCCESS) {
        free(codes);
        return fail(a, cls, errslot, FN);
    }
    return spawned(a, rc, inter, cs_comm, 7, 8, codes, total, FN);
#undef FN
}

/* The same guest handle every time (a spawned program may compare them), a new one only after
 * the guest freed or disconnected the last. */
CALLBACK(MPI_Comm_get_parent)
{
#define FN "MPI_Comm_get_parent"
    ERRSLOT;
    CHECK_OUT(a[0].i32, 4);
    MPI_Comm parent;
    int rc = MPI_Comm_get_parent(&parent);
    if (rc == MPI_SUCCESS) {
        int32_t g = guest_of(K_COMM, (host_h){.comm = parent});
        store_i32((uint32_t)a[0].i32, g != ABI_COMM_NULL ? g : new_comm(parent, -1));
    }
    return done(a, rc, errslot, FN);
#undef FN
}
