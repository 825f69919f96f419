/* wasmpi compat header: force-included (-include) into every C/C++ file `wasmpi cc` compiles,
 * after nothing and before everything, so that legacy code finds what glibc gives it and
 * wasi-libc's headers hide or lack. Nothing here edits or shadows the sysroot's headers. */
#ifndef WASMPI_COMPAT_H
#define WASMPI_COMPAT_H
#if !defined(__ASSEMBLER__)

#include <errno.h>
#include <sys/types.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* wasi-libc's errno is a _Thread_local variable, which `extern int errno;` in user code
 * contradicts. glibc's errno is an lvalue macro, which makes that line a harmless
 * redeclaration of a function; do the same (errno.h's include guard keeps this). Not
 * __errno_location: Debian's wasi-libc does not define it. */
#undef errno
__attribute__((__const__)) int *__wasmpi_errno(void);
#define errno (*__wasmpi_errno())

/* Old code calls time() without <time.h> (srand(time(NULL))). Natively the implicit
 * `int time()` works by luck; in wasm its i32 result does not match time_t's i64 and the
 * module does not validate. Declare it, as <time.h> would. */
time_t time(time_t *t);

/* wasi-libc hides these behind __wasilibc_unmodified_upstream; the support library defines
 * them (one user, who cannot create device nodes). */
uid_t getuid(void);
uid_t geteuid(void);
gid_t getgid(void);
gid_t getegid(void);
int mknod(const char *path, mode_t mode, dev_t dev);
int mknodat(int fd, const char *path, mode_t mode, dev_t dev);

/* fcntl record locks: wasi-libc has struct flock but no commands, and answers unknown
 * commands with EINVAL. Give the Linux command numbers and route fcntl through the support
 * library, which fails the lock commands with ENOSYS (as a file system without locks does)
 * and passes every other command to wasi-libc. */
#ifndef F_GETLK
#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#endif
#ifndef F_RDLCK
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#endif
int wasmpi_fcntl(int fd, int cmd, ...);
#define fcntl wasmpi_fcntl

#if defined(__cplusplus)
}
#endif

#endif /* !__ASSEMBLER__ */
#endif /* WASMPI_COMPAT_H */
