/* The sandbox's directory grants, for host calls that take a guest path (MPI_File_open,
 * MPI_File_delete, the command of MPI_Comm_spawn).
 *
 * A guest path names a file as WASI shows it to the guest: the grant (`--dir HOST::GUEST`)
 * whose guest path is the longest component-wise prefix of it, and the rest below that
 * grant's host directory. The bridge never resolves a path as a string on the host: it opens
 * every grant's host directory once at start-up (O_PATH) and resolves the rest relative to
 * that descriptor (beneath.c, shared with the LLVM tier's WASI), so that nothing outside the
 * grants can be reached, whatever the guest (or another process) does to the tree meanwhile:
 * openat2(RESOLVE_BENEATH) where the kernel has it, otherwise (or with the option
 * --no-openat2, WASMPI_NO_OPENAT2=1) a component walk with O_NOFOLLOW.
 * Refusals (outside every grant, escapes) are ABI_ERR_NO_SUCH_FILE: a guest learns nothing
 * about the host beyond its grants. Opening for writing, creating or deleting under a
 * read-only grant is ABI_ERR_READ_ONLY. */
#define _GNU_SOURCE /* O_PATH */
#include "bridge.h"
#include "beneath.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int fd;            /* O_PATH descriptor of the host directory */
    int readonly;
    char *text;        /* the guest path's text, which `comp` points into */
    char **comp;       /* the guest path's components ("." and empty ones dropped) */
    int ncomp;
} grant_t;

static grant_t *g_grants;
static int g_ngrants;
static int g_no_openat2; /* 1: the component walk (forced, or the kernel lacks openat2) */

#define MAX_COMPONENTS 256

static void drop_grants(void)
{
    for (int i = 0; i < g_ngrants; i++) {
        close(g_grants[i].fd);
        free(g_grants[i].text);
        free(g_grants[i].comp);
    }
    free(g_grants);
    g_grants = NULL;
    g_ngrants = 0;
}

/* The loader hands over the grants once, before the guest runs (bridge/loader.py), with the
 * openat2 option (config.py; off forces the component walk). Returns 0, or the errno of a grant
 * directory that cannot be opened. */
__attribute__((visibility("default"))) int wasmpi_bridge_set_grants(
    int n, const char *const *host, const char *const *guest, const int *readonly, int openat2)
{
    g_no_openat2 = !openat2;
    drop_grants();
    g_grants = calloc((size_t)(n > 0 ? n : 1), sizeof *g_grants);
    if (!g_grants)
        return ENOMEM;
    for (int i = 0; i < n; i++) {
        grant_t *g = &g_grants[i];
        g->fd = open(host[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (g->fd < 0) {
            int e = errno;
            g_ngrants = i;
            drop_grants();
            return e;
        }
        g->readonly = readonly[i];
        g_ngrants = i + 1;
        char *buf = g->text = strdup(guest[i]);
        char *parts[MAX_COMPONENTS];
        int k = buf ? beneath_split(buf, parts, MAX_COMPONENTS) : -1;
        g->comp = k >= 0 ? calloc((size_t)(k > 0 ? k : 1), sizeof *g->comp) : NULL;
        if (!g->comp) {
            drop_grants();
            return k < 0 ? ENAMETOOLONG : ENOMEM;
        }
        memcpy(g->comp, parts, (size_t)k * sizeof *parts);
        g->ncomp = k;
    }
    /* a kernel without openat2 says ENOSYS; a seccomp filter may say EPERM */
    if (!g_no_openat2 && n > 0 && !beneath_has_openat2(g_grants[0].fd))
        g_no_openat2 = 1;
    return 0;
}

int sandbox_uses_openat2(void) { return !g_no_openat2; }

/* errno of a failed resolution or open -> ABI error class */
static int class_of_errno(int e)
{
    switch (e) {
    case ENOENT: case ENOTDIR: case EXDEV: case ELOOP: return ABI_ERR_NO_SUCH_FILE;
    case EACCES: case EPERM: return ABI_ERR_ACCESS;
    case EEXIST: return ABI_ERR_FILE_EXISTS;
    case EROFS: return ABI_ERR_READ_ONLY;
    case ENOSPC: return ABI_ERR_NO_SPACE;
    case EDQUOT: return ABI_ERR_QUOTA;
    case ENOMEM: return ABI_ERR_NO_MEM;
    case EISDIR: case ENAMETOOLONG: return ABI_ERR_BAD_FILE;
    case ETXTBSY: case EBUSY: return ABI_ERR_FILE_IN_USE;
    }
    return ABI_ERR_IO;
}

/* The grant of a guest path and the rest of the path below it (components, in `rest`).
 * Relative guest paths are taken relative to the guest's root, as wasi-libc does before any
 * chdir (the guest's libmpi makes paths absolute with the guest's working directory). */
static const grant_t *match_grant(char *buf, char **rest, int *nrest)
{
    char *comp[MAX_COMPONENTS];
    int n = beneath_split(buf, comp, MAX_COMPONENTS);
    if (n < 0)
        return NULL;
    const grant_t *best = NULL;
    for (int i = 0; i < g_ngrants; i++) {
        const grant_t *g = &g_grants[i];
        if (g->ncomp > n || (best && g->ncomp < best->ncomp))
            continue;
        int k = 0;
        while (k < g->ncomp && !strcmp(g->comp[k], comp[k]))
            k++;
        if (k == g->ncomp) /* a later grant of the same guest path shadows an earlier one */
            best = g;
    }
    if (!best)
        return NULL;
    *nrest = n - best->ncomp;
    memcpy(rest, comp + best->ncomp, (size_t)*nrest * sizeof *rest);
    return best;
}

/* Open the components `rest` beneath the grant's descriptor. */
static int open_rest(int dirfd, char **rest, int nrest, int flags, mode_t mode)
{
    char path[PATH_MAX];
    size_t len = 0;
    strcpy(path, ".");
    for (int i = 0; i < nrest; i++) {
        size_t l = strlen(rest[i]);
        if (len + l + 2 > sizeof path) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (i)
            path[len++] = '/';
        memcpy(path + len, rest[i], l + 1);
        len += l;
    }
    return beneath_open(dirfd, path, flags, mode, g_no_openat2);
}

/* ---- the API ----------------------------------------------------------------------------- */

static int writes(int flags)
{
    return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC));
}

int sandbox_open(const char *guest_path, int flags, mode_t mode, int *fd_out)
{
    *fd_out = -1;
    char *buf = strdup(guest_path), *rest[MAX_COMPONENTS];
    if (!buf)
        return ABI_ERR_NO_MEM;
    int nrest = 0;
    const grant_t *g = match_grant(buf, rest, &nrest);
    int cls = 0;
    if (!g)
        cls = ABI_ERR_NO_SUCH_FILE;
    else if (g->readonly && writes(flags))
        cls = ABI_ERR_READ_ONLY;
    else {
        int fd = open_rest(g->fd, rest, nrest, flags, mode);
        if (fd < 0)
            cls = class_of_errno(errno);
        else
            *fd_out = fd;
    }
    free(buf);
    return cls;
}

int sandbox_open_parent(const char *guest_path, int *dirfd_out, char *last, size_t cap,
                        int *readonly_out)
{
    *dirfd_out = -1;
    char *buf = strdup(guest_path), *rest[MAX_COMPONENTS];
    if (!buf)
        return ABI_ERR_NO_MEM;
    int nrest = 0, cls = 0;
    const grant_t *g = match_grant(buf, rest, &nrest);
    if (!g || nrest == 0 || !strcmp(rest[nrest - 1], "..")) {
        cls = ABI_ERR_NO_SUCH_FILE; /* a grant's own directory is never a file of it */
    } else if (strlen(rest[nrest - 1]) + 1 > cap) {
        cls = ABI_ERR_BAD_FILE;
    } else {
        strcpy(last, rest[nrest - 1]);
        *readonly_out = g->readonly;
        int fd = open_rest(g->fd, rest, nrest - 1, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
            cls = class_of_errno(errno);
        else
            *dirfd_out = fd;
    }
    free(buf);
    return cls;
}

int sandbox_unlink(const char *guest_path)
{
    int dirfd, ro = 0;
    char last[NAME_MAX + 1];
    int cls = sandbox_open_parent(guest_path, &dirfd, last, sizeof last, &ro);
    if (cls)
        return cls;
    if (ro)
        cls = ABI_ERR_READ_ONLY;
    else if (unlinkat(dirfd, last, 0) != 0)
        cls = errno == EISDIR ? ABI_ERR_BAD_FILE : class_of_errno(errno);
    close(dirfd);
    return cls;
}
