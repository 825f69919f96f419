/* MPI-4 functions of the host MPI, found at run time.
 *
 * The bridge is compiled against the host's <mpi.h>, which may predate MPI-4 (Open MPI 4.1) or
 * lack the large-count `_c` variants (Open MPI 5.0), so it never names an MPI-4 function: each
 * is looked up with dlsym in the host libmpi at start-up and called through a pointer typed
 * with the host's types (gen/host4.h). The bridge is loaded RTLD_LOCAL, so RTLD_DEFAULT may
 * not see libmpi: the library is found through the address of a function it surely has. */
#define _GNU_SOURCE
#include "bridge.h"

#include <dlfcn.h>

_Static_assert(sizeof(MPI_Count) == 8, "guest MPI_Count arrays are passed as they are");

void *host4_fn[H4_LAST];
static uint8_t reported[H4_LAST];
static char libpath[512];

static void *libmpi(void)
{
    Dl_info info;
    if (!dladdr((void *)&PMPI_Send, &info) || !info.dli_fname)
        return NULL;
    snprintf(libpath, sizeof libpath, "%s", info.dli_fname);
    void *h = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    return h ? h : dlopen(info.dli_fname, RTLD_LAZY);
}

static void *find(void *lib, const char *name)
{
    char pname[128];
    snprintf(pname, sizeof pname, "P%s", name);
    void *f = lib ? dlsym(lib, pname) : NULL;
    if (!f && lib)
        f = dlsym(lib, name);
    return f;
}

void host4_resolve(void)
{
    static int done_;
    if (done_)
        return;
    done_ = 1;
    void *lib = libmpi();
    for (int i = 0; i < H4_LAST; i++)
        host4_fn[i] = find(lib, host4_names[i]);
}

wasm_trap_t *host4_missing(wasmtime_val_raw_t *a, int idx, int32_t errslot, const char *fn)
{
    if (!reported[idx]) {
        reported[idx] = 1;
        fprintf(stderr, "wasmpi: rank %d: %s: the host MPI library (%s) does not provide %s "
                "(MPI_ERR_UNSUPPORTED_OPERATION)\n", g_rank, fn,
                libpath[0] ? libpath : "libmpi", host4_names[idx]);
    }
    return fail(a, ABI_ERR_UNSUPPORTED_OPERATION, errslot, fn);
}

/* Whether the host MPI provides MPI function `name` (for `wasmpi inspect --coverage`; needs
 * no MPI_Init). */
__attribute__((visibility("default"))) int wasmpi_bridge_host_has(const char *name)
{
    static void *lib;
    if (!lib)
        lib = libmpi();
    return find(lib, name) != NULL;
}
