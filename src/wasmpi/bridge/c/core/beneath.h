/* Opening a path beneath a directory descriptor, never above it: the one resolver shared by
 * the bridge's MPI-IO grants (core/sandbox.c) and the LLVM tier's WASI (runtime/llvm/c/wasi.c).
 * Knows neither MPI nor the bridge. */
#ifndef WASMPI_BENEATH_H
#define WASMPI_BENEATH_H

#include <sys/types.h>

/* 1 if openat2(RESOLVE_BENEATH) works here (Linux >= 5.6, not refused by a seccomp filter). */
int beneath_has_openat2(int dirfd);

/* Open `path` relative to `dirfd` like openat(dirfd, path, flags, mode), except that nothing
 * outside `dirfd` can be reached: an absolute path, `..` above `dirfd`, an absolute symlink or
 * a symlink leading out fail with EXDEV. O_NOFOLLOW in `flags` applies to the last component
 * only (an O_PATH open then yields the link itself); a trailing '/' requires a directory.
 * `walk`: 1 resolves one component at a time with openat(O_NOFOLLOW), expanding symlinks here;
 * 0 asks the kernel (openat2 RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) and falls back to the
 * walk where the kernel lacks openat2. Returns the descriptor (O_CLOEXEC), or -1 with errno. */
int beneath_open(int dirfd, const char *path, int flags, mode_t mode, int walk);

/* Split `buf` at '/' into `out` (pointers into `buf`, which is modified), dropping empty and
 * "." components; the count, or -1 if there are more than `cap`. */
int beneath_split(char *buf, char **out, int cap);

/* Split `path` into the directory that holds its last component, opened beneath `dirfd`
 * (O_PATH | O_DIRECTORY), and that component (a pointer into `path`, which is modified: the
 * separator before it and trailing slashes become NUL). `*trailing` says whether the path
 * ended in '/'. The last component may be "." or ".." (callers decide what that means);
 * an empty path fails with ENOENT. Returns the descriptor or -1 with errno. */
int beneath_parent(int dirfd, char *path, const char **last, int *trailing, int walk);

#endif
