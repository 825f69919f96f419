/* The sandbox's directory grants, for host calls that take a guest path (MPI_File_open,
 * MPI_File_delete, the command of MPI_Comm_spawn).
 *
 * A guest path names a file as WASI shows it to the guest: the grant (`--dir HOST::GUEST`)
 * whose guest path is the longest component-wise prefix of it, and the rest below that
 * grant's host directory. The bridge never resolves a path as a string on the host: it opens
 * every grant's host directory once at start-up (O_PATH) and resolves the rest relative to
 * that descriptor, so that nothing outside the grants can be reached, whatever the guest (or
 * another process) does to the tree meanwhile:
 *  - openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux >= 5.6):
 *    `..` above the grant, absolute symlinks and symlinks leading out are refused by the
 *    kernel, atomically with the open;
 *  - otherwise (or with the option --no-openat2, WASMPI_NO_OPENAT2=1) a component walk: every
 *    directory is opened with O_NOFOLLOW relative to the previous one, symlinks are read and expanded by the
 *    bridge (relative targets only), `..` pops a directory this walk opened and is refused at
 *    the grant's root, and the last component is opened with O_NOFOLLOW.
 * Refusals (outside every grant, escapes) are ABI_ERR_NO_SUCH_FILE: a guest learns nothing
 * about the host beyond its grants. Opening for writing, creating or deleting under a
 * read-only grant is ABI_ERR_READ_ONLY. */
#define _GNU_SOURCE /* O_PATH */
#include "bridge.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

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
#define MAX_SYMLINKS 40

/* Split `path` at '/' into `out` (pointers into the copy `buf`), dropping empty and "."
 * components; -1 if there are too many. */
static int split_path(char *buf, char **out, int cap)
{
    int n = 0;
    for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
        if (!strcmp(tok, "."))
            continue;
        if (n == cap)
            return -1;
        out[n++] = tok;
    }
    return n;
}

static int open_beneath(int dirfd, char **rest, int nrest, int flags, mode_t mode);

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
        int k = buf ? split_path(buf, parts, MAX_COMPONENTS) : -1;
        g->comp = k >= 0 ? calloc((size_t)(k > 0 ? k : 1), sizeof *g->comp) : NULL;
        if (!g->comp) {
            drop_grants();
            return k < 0 ? ENAMETOOLONG : ENOMEM;
        }
        memcpy(g->comp, parts, (size_t)k * sizeof *parts);
        g->ncomp = k;
    }
    /* a kernel without openat2 says ENOSYS; a seccomp filter may say EPERM */
    if (!g_no_openat2 && n > 0) {
        int fd = open_beneath(g_grants[0].fd, NULL, 0, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
            g_no_openat2 = 1;
        else
            close(fd);
    }
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
    int n = split_path(buf, comp, MAX_COMPONENTS);
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

/* ---- openat2 ----------------------------------------------------------------------------- */

static int open_beneath(int dirfd, char **rest, int nrest, int flags, mode_t mode)
{
#ifdef SYS_openat2
    char path[PATH_MAX];
    size_t len = 0;
    path[0] = 0;
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
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = syscall(SYS_openat2, dirfd, nrest ? path : ".", &how, sizeof how);
    return (int)fd;
#else
    (void)dirfd; (void)rest; (void)nrest; (void)flags; (void)mode;
    errno = ENOSYS;
    return -1;
#endif
}

/* ---- the component walk (no openat2) ------------------------------------------------------- */

/* A path being walked: a queue of components still to resolve. Symlink targets are spliced in
 * front of what remains; their text is kept in `store` until the walk ends. */
typedef struct {
    char *comp[MAX_COMPONENTS];
    int head, n;  /* comp[head .. head+n) remain */
    char *store[MAX_SYMLINKS];
    int nstore;
} walk_t;

static int walk_push_link(walk_t *w, int dirfd, const char *name)
{
    if (w->nstore == MAX_SYMLINKS) {
        errno = ELOOP;
        return -1;
    }
    char target[PATH_MAX];
    ssize_t l = readlinkat(dirfd, name, target, sizeof target - 1);
    if (l < 0)
        return -1;
    target[l] = 0;
    if (target[0] == '/') { /* absolute targets name the host's root, never inside a grant */
        errno = EXDEV;
        return -1;
    }
    char *copy = strdup(target);
    if (!copy) {
        errno = ENOMEM;
        return -1;
    }
    w->store[w->nstore++] = copy;
    char *parts[MAX_COMPONENTS];
    int k = split_path(copy, parts, MAX_COMPONENTS);
    if (k < 0 || k + w->n > MAX_COMPONENTS) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* compact the remaining components to the end, then put the target's in front */
    memmove(w->comp + MAX_COMPONENTS - w->n, w->comp + w->head, (size_t)w->n * sizeof(char *));
    w->head = MAX_COMPONENTS - w->n - k;
    memcpy(w->comp + w->head, parts, (size_t)k * sizeof(char *));
    w->n += k;
    return 0;
}

/* Resolve everything but the last component; `stack` holds the directories opened below the
 * grant (stack[0] is the grant's own descriptor, never closed here). Returns the depth, or -1. */
static int walk_dirs(walk_t *w, int *stack, int *depth, int keep_last)
{
    while (w->n > keep_last) {
        char *c = w->comp[w->head];
        w->head++;
        w->n--;
        int cur = stack[*depth - 1];
        if (!strcmp(c, "..")) {
            if (*depth == 1) { /* above the grant's directory */
                errno = EXDEV;
                return -1;
            }
            close(stack[--*depth]);
            continue;
        }
        int fd = openat(cur, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return -1;
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            return -1;
        }
        if (S_ISLNK(st.st_mode)) {
            int r = walk_push_link(w, fd, "");
            close(fd);
            if (r < 0)
                return -1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            close(fd);
            errno = ENOTDIR;
            return -1;
        }
        if (*depth == MAX_COMPONENTS) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        stack[(*depth)++] = fd;
    }
    return 0;
}

static void walk_end(walk_t *w, int *stack, int depth)
{
    for (int i = depth - 1; i >= 1; i--)
        close(stack[i]);
    for (int i = 0; i < w->nstore; i++)
        free(w->store[i]);
}

static void walk_start(walk_t *w, char **rest, int nrest)
{
    memset(w, 0, sizeof *w);
    memcpy(w->comp, rest, (size_t)nrest * sizeof *rest);
    w->n = nrest;
}

static int open_walk(int grantfd, char **rest, int nrest, int flags, mode_t mode)
{
    walk_t w;
    int stack[MAX_COMPONENTS], depth = 1, fd = -1, e = 0;
    stack[0] = grantfd;
    walk_start(&w, rest, nrest);
    for (;;) {
        if (walk_dirs(&w, stack, &depth, 1) < 0) {
            e = errno;
            break;
        }
        int cur = stack[depth - 1];
        if (w.n == 0) { /* the path ends in a directory of the walk */
            fd = openat(cur, ".", flags | O_CLOEXEC | O_NOCTTY);
            e = errno;
            break;
        }
        char *last = w.comp[w.head];
        if (!strcmp(last, "..")) {
            /* resolve it as a directory step, then open what remains (the directory) */
            if (walk_dirs(&w, stack, &depth, 0) < 0) {
                e = errno;
                break;
            }
            continue;
        }
        fd = openat(cur, last, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (fd >= 0)
            break;
        e = errno;
        /* O_NOFOLLOW refused a symlink: expand it inside the walk, unless the caller asked for
         * a new file (O_EXCL never follows a symlink) */
        if (e != ELOOP || (flags & O_EXCL))
            break;
        struct stat st;
        if (fstatat(cur, last, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
            break;
        w.head++;
        w.n--;
        if (walk_push_link(&w, cur, last) < 0) {
            e = errno;
            break;
        }
    }
    walk_end(&w, stack, depth);
    if (fd < 0)
        errno = e;
    return fd;
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
        int fd = -1;
        if (!g_no_openat2) {
            fd = open_beneath(g->fd, rest, nrest, flags, mode);
            if (fd < 0 && errno == ENOSYS)
                g_no_openat2 = 1; /* an old kernel: the walk from now on */
        }
        if (g_no_openat2)
            fd = open_walk(g->fd, rest, nrest, flags, mode);
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
        int fd = -1, flags = O_PATH | O_DIRECTORY;
        if (!g_no_openat2) {
            fd = open_beneath(g->fd, rest, nrest - 1, flags, 0);
            if (fd < 0 && errno == ENOSYS)
                g_no_openat2 = 1;
        }
        if (g_no_openat2)
            fd = open_walk(g->fd, rest, nrest - 1, flags, 0);
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
