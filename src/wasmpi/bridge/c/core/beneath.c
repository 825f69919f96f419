/* Opening a path beneath a directory descriptor (see beneath.h).
 *
 * Two resolvers with the same answers:
 *  - openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it (Linux >= 5.6):
 *    `..` above the descriptor, absolute paths and symlinks and symlinks leading out are
 *    refused by the kernel (EXDEV), atomically with the open;
 *  - otherwise a component walk: every directory is opened with O_NOFOLLOW relative to the
 *    previous one, symlinks are read and expanded here (relative targets only), `..` pops a
 *    directory this walk opened and is refused at the starting descriptor, and the last
 *    component is opened with O_NOFOLLOW. Another process may swap symlinks meanwhile: each
 *    step only ever follows what it read into its own queue, so it cannot leave the tree. */
#define _GNU_SOURCE /* O_PATH */
#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#define MAX_COMPONENTS 256
#define MAX_SYMLINKS 40

/* ---- openat2 ------------------------------------------------------------------------------- */

static int open_kernel(int dirfd, const char *path, int flags, mode_t mode)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* openat2 refuses what open ignores: O_PATH with other flags, a mode without creation */
    how.flags = (uint64_t)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
    how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    while (fd < 0 && errno == EAGAIN); /* a rename elsewhere raced the lookup: retry */
    return (int)fd;
#else
    (void)dirfd; (void)path; (void)flags; (void)mode;
    errno = ENOSYS;
    return -1;
#endif
}

int beneath_has_openat2(int dirfd)
{
    int fd = open_kernel(dirfd, ".", O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return 0; /* ENOSYS: an old kernel; EPERM: a seccomp filter */
    close(fd);
    return 1;
}

/* ---- the component walk --------------------------------------------------------------------- */

/* A path being walked: a queue of components still to resolve. Symlink targets are spliced in
 * front of what remains; their text is kept in `store` until the walk ends. */
typedef struct {
    char *comp[MAX_COMPONENTS];
    int head, n;  /* comp[head .. head+n) remain */
    char *store[MAX_SYMLINKS + 1];
    int nstore;
    int dir_only; /* the last expansion (or the path) ended in '/': the end must be a directory */
} walk_t;

int beneath_split(char *buf, char **out, int cap)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
        if (!strcmp(tok, "."))
            continue;
        if (n == cap)
            return -1;
        out[n++] = tok;
    }
    return n;
}

static int ends_in_slash(const char *s)
{
    size_t l = strlen(s);
    return l > 0 && s[l - 1] == '/';
}

/* Put the target of the symlink `name` in `dirfd` in front of the remaining components. */
static int push_link(walk_t *w, int dirfd, const char *name)
{
    if (w->nstore == MAX_SYMLINKS + 1) {
        errno = ELOOP;
        return -1;
    }
    char target[PATH_MAX];
    ssize_t l = readlinkat(dirfd, name, target, sizeof target - 1);
    if (l < 0)
        return -1;
    target[l] = 0;
    if (target[0] == '/') { /* an absolute target names the host's root: never beneath */
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
    int k = beneath_split(copy, parts, MAX_COMPONENTS);
    if (k < 0 || k + w->n > MAX_COMPONENTS) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* a target ending in '/' must resolve to a directory when it ends the path */
    if (w->n == 0)
        w->dir_only = w->dir_only || ends_in_slash(target);
    memmove(w->comp + MAX_COMPONENTS - w->n, w->comp + w->head, (size_t)w->n * sizeof(char *));
    w->head = MAX_COMPONENTS - w->n - k;
    memcpy(w->comp + w->head, parts, (size_t)k * sizeof(char *));
    w->n += k;
    return 0;
}

/* Resolve components as directories until `keep` remain; `stack` holds the directories opened
 * (stack[0] is the caller's descriptor, never closed here). */
static int walk_dirs(walk_t *w, int *stack, int *depth, int keep)
{
    while (w->n > keep) {
        char *c = w->comp[w->head];
        w->head++;
        w->n--;
        int cur = stack[*depth - 1];
        if (!strcmp(c, "..")) {
            if (*depth == 1) {
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
            int r = push_link(w, fd, "");
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

static int open_walk(int dirfd, const char *path, int flags, mode_t mode)
{
    if (path[0] == '/') {
        errno = EXDEV;
        return -1;
    }
    if (path[0] == 0) {
        errno = ENOENT;
        return -1;
    }
    char *buf = strdup(path);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    walk_t w;
    memset(&w, 0, sizeof w);
    w.store[w.nstore++] = buf;
    w.dir_only = ends_in_slash(path);
    int n = beneath_split(buf, w.comp, MAX_COMPONENTS);
    int stack[MAX_COMPONENTS], depth = 1, fd = -1, e = 0;
    stack[0] = dirfd;
    if (n < 0) {
        e = ENAMETOOLONG;
        goto out;
    }
    w.n = n;
    int follow = !(flags & O_NOFOLLOW);
    for (;;) {
        /* a path ending in '/' (or in a link whose target does) is all directories */
        if (walk_dirs(&w, stack, &depth, w.dir_only ? 0 : 1) < 0) {
            e = errno;
            break;
        }
        int cur = stack[depth - 1];
        if (w.n == 0) { /* the path ends in a directory of the walk */
            fd = openat(cur, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC | O_NOCTTY, mode);
            e = errno;
            break;
        }
        char *last = w.comp[w.head];
        if (!strcmp(last, "..")) {
            if (walk_dirs(&w, stack, &depth, 0) < 0) {
                e = errno;
                break;
            }
            continue;
        }
        fd = openat(cur, last, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        e = errno;
        if (!follow)
            break;
        /* O_NOFOLLOW met a symlink: refused (ELOOP, or ENOTDIR with O_DIRECTORY), or opened
         * as the link itself (O_PATH). Expand it inside the walk. O_CREAT | O_EXCL never
         * follows (the kernel says EEXIST). */
        struct stat st;
        if (fd >= 0) {
            if (!(flags & O_PATH) || fstat(fd, &st) != 0 || !S_ISLNK(st.st_mode))
                break;
            close(fd);
            fd = -1;
        } else if ((e != ELOOP && e != ENOTDIR) ||
                   fstatat(cur, last, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
            break;
        }
        w.head++;
        w.n--;
        if (push_link(&w, cur, last) < 0) {
            e = errno;
            break;
        }
    }
out:
    for (int i = depth - 1; i >= 1; i--)
        close(stack[i]);
    for (int i = 0; i < w.nstore; i++)
        free(w.store[i]);
    if (fd < 0)
        errno = e;
    return fd;
}

/* ---- the API -------------------------------------------------------------------------------- */

int beneath_open(int dirfd, const char *path, int flags, mode_t mode, int walk)
{
    if (!walk) {
        int fd = open_kernel(dirfd, path, flags, mode);
        if (fd >= 0 || errno != ENOSYS)
            return fd;
    }
    return open_walk(dirfd, path, flags, mode);
}

int beneath_parent(int dirfd, char *path, const char **last, int *trailing, int walk)
{
    size_t l = strlen(path);
    *trailing = 0;
    while (l > 1 && path[l - 1] == '/') {
        path[--l] = 0;
        *trailing = 1;
    }
    if (l == 0) {
        errno = ENOENT;
        return -1;
    }
    char *slash = strrchr(path, '/');
    if (!slash) {
        *last = path;
        return beneath_open(dirfd, ".", O_PATH | O_DIRECTORY, 0, walk);
    }
    *last = slash + 1;
    if (slash == path) { /* "/name": absolute */
        errno = EXDEV;
        return -1;
    }
    *slash = 0;
    int fd = beneath_open(dirfd, path, O_PATH | O_DIRECTORY, 0, walk);
    *slash = '/';
    if (fd >= 0)
        *slash = 0;
    return fd;
}
