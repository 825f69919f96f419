/* WASI preview1 for the LLVM engine tier (see wasi.h and docs/engines.md).
 *
 * Every guest pointer is checked against the linear memory's current size before use; a
 * pointer outside it traps (wasm_rt_trap(WASM_RT_TRAP_OOB)), as wasmtime's preview1 does.
 * Reads and writes go straight between the host descriptor and linear memory (readv/writev
 * on iovecs that point into it): no bytes are copied. */
#define _GNU_SOURCE
#include "wasi.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* ---- the preview1 ABI ----------------------------------------------------------------------- */

enum {
    E_SUCCESS = 0, E_2BIG = 1, E_ACCES = 2, E_AGAIN = 6, E_BADF = 8, E_BUSY = 10, E_EXIST = 20,
    E_FAULT = 21, E_FBIG = 22, E_INTR = 27, E_INVAL = 28, E_IO = 29, E_ISDIR = 31, E_LOOP = 32,
    E_MFILE = 33, E_MLINK = 34, E_NAMETOOLONG = 37, E_NFILE = 41, E_NODEV = 43, E_NOENT = 44,
    E_NOMEM = 48, E_NOSPC = 51, E_NOSYS = 52, E_NOTCONN = 53, E_NOTDIR = 54, E_NOTEMPTY = 55,
    E_NOTSOCK = 57, E_NOTSUP = 58, E_NOTTY = 59, E_NXIO = 60, E_OVERFLOW = 61, E_PERM = 63,
    E_PIPE = 64, E_RANGE = 68, E_ROFS = 69, E_SPIPE = 70, E_TXTBSY = 74, E_XDEV = 75,
    E_NOTCAPABLE = 76, E_DQUOT = 19, E_ILSEQ = 25,
};

enum {
    FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_REG = 4, FT_SOCK_DGRAM = 5,
    FT_SOCK_STREAM = 6, FT_SYMLINK = 7,
};

#define R(n) ((uint64_t)1 << (n))
#define R_FD_DATASYNC R(0)
#define R_FD_READ R(1)
#define R_FD_SEEK R(2)
#define R_FD_FDSTAT_SET_FLAGS R(3)
#define R_FD_SYNC R(4)
#define R_FD_TELL R(5)
#define R_FD_WRITE R(6)
#define R_FD_ADVISE R(7)
#define R_FD_ALLOCATE R(8)
#define R_PATH_CREATE_DIRECTORY R(9)
#define R_PATH_CREATE_FILE R(10)
#define R_PATH_LINK_SOURCE R(11)
#define R_PATH_LINK_TARGET R(12)
#define R_PATH_OPEN R(13)
#define R_FD_READDIR R(14)
#define R_PATH_READLINK R(15)
#define R_PATH_RENAME_SOURCE R(16)
#define R_PATH_RENAME_TARGET R(17)
#define R_PATH_FILESTAT_GET R(18)
#define R_PATH_FILESTAT_SET_SIZE R(19)
#define R_PATH_FILESTAT_SET_TIMES R(20)
#define R_FD_FILESTAT_GET R(21)
#define R_FD_FILESTAT_SET_SIZE R(22)
#define R_FD_FILESTAT_SET_TIMES R(23)
#define R_PATH_SYMLINK R(24)
#define R_PATH_REMOVE_DIRECTORY R(25)
#define R_PATH_UNLINK_FILE R(26)
#define R_POLL_FD_READWRITE R(27)
#define R_SOCK_SHUTDOWN R(28)
#define R_SOCK_ACCEPT R(29)
#define R_ALL (R(30) - 1)

#define FDFLAG_APPEND 1
#define FDFLAG_DSYNC 2
#define FDFLAG_NONBLOCK 4
#define FDFLAG_RSYNC 8
#define FDFLAG_SYNC 16

/* ---- state ---------------------------------------------------------------------------------- */

typedef struct {
    int used;
    int host;              /* host descriptor */
    uint8_t type;          /* FT_* */
    int readonly;          /* from a read-only grant (inherited by what is opened below it) */
    char *preopen;         /* the guest path of a grant's directory, else NULL */
    uint64_t rights_base, rights_inh;
} fd_entry;

struct w2c_wasi__snapshot__preview1 {
    wasm_rt_memory_t *mem;
    int argc, envc;
    char **argv, **envp;
    uint32_t argv_bytes, envp_bytes;
    fd_entry *fds;
    uint32_t nfds;
    int no_openat2;
};

typedef struct w2c_wasi__snapshot__preview1 wasi_t;

/* ---- guest memory --------------------------------------------------------------------------- */

/* A pointer to `len` bytes of linear memory at `off`, or a trap. */
static uint8_t *mem_at(wasi_t *w, uint32_t off, uint64_t len)
{
    if ((uint64_t)off + len > w->mem->size)
        wasm_rt_trap(WASM_RT_TRAP_OOB);
    return w->mem->data + off;
}

static void put_u8(wasi_t *w, uint32_t off, uint8_t v) { *mem_at(w, off, 1) = v; }
static void put_u16(wasi_t *w, uint32_t off, uint16_t v) { memcpy(mem_at(w, off, 2), &v, 2); }
static void put_u32(wasi_t *w, uint32_t off, uint32_t v) { memcpy(mem_at(w, off, 4), &v, 4); }
static void put_u64(wasi_t *w, uint32_t off, uint64_t v) { memcpy(mem_at(w, off, 8), &v, 8); }
static uint32_t get_u32(wasi_t *w, uint32_t off)
{
    uint32_t v;
    memcpy(&v, mem_at(w, off, 4), 4);
    return v;
}

/* host errno -> WASI errno */
static uint32_t werr(int e)
{
    switch (e) {
    case 0: return E_SUCCESS;
    case E2BIG: return E_2BIG;
    case EACCES: return E_ACCES;
    case EAGAIN: return E_AGAIN;
    case EBADF: return E_BADF;
    case EBUSY: return E_BUSY;
    case EDQUOT: return E_DQUOT;
    case EEXIST: return E_EXIST;
    case EFAULT: return E_FAULT;
    case EFBIG: return E_FBIG;
    case EILSEQ: return E_ILSEQ;
    case EINTR: return E_INTR;
    case EINVAL: return E_INVAL;
    case EIO: return E_IO;
    case EISDIR: return E_ISDIR;
    case ELOOP: return E_LOOP;
    case EMFILE: return E_MFILE;
    case EMLINK: return E_MLINK;
    case ENAMETOOLONG: return E_NAMETOOLONG;
    case ENFILE: return E_NFILE;
    case ENODEV: return E_NODEV;
    case ENOENT: return E_NOENT;
    case ENOMEM: return E_NOMEM;
    case ENOSPC: return E_NOSPC;
    case ENOSYS: return E_NOSYS;
    case ENOTDIR: return E_NOTDIR;
    case ENOTEMPTY: return E_NOTEMPTY;
    case ENOTSOCK: return E_NOTSOCK;
    case EOPNOTSUPP: return E_NOTSUP;
    case ENOTTY: return E_NOTTY;
    case ENXIO: return E_NXIO;
    case EOVERFLOW: return E_OVERFLOW;
    case EPERM: return E_PERM;
    case EPIPE: return E_PIPE;
    case ERANGE: return E_RANGE;
    case EROFS: return E_ROFS;
    case ESPIPE: return E_SPIPE;
    case ETXTBSY: return E_TXTBSY;
    case EXDEV: return E_XDEV;
    }
    return E_IO;
}

static fd_entry *get_fd(wasi_t *w, uint32_t fd)
{
    if (fd >= w->nfds || !w->fds[fd].used)
        return NULL;
    return &w->fds[fd];
}

/* The lowest free guest descriptor, growing the table; -1 if out of memory. */
static int64_t alloc_fd(wasi_t *w)
{
    for (uint32_t i = 0; i < w->nfds; i++)
        if (!w->fds[i].used)
            return i;
    uint32_t n = w->nfds ? w->nfds * 2 : 8;
    fd_entry *t = realloc(w->fds, n * sizeof *t);
    if (!t)
        return -1;
    memset(t + w->nfds, 0, (n - w->nfds) * sizeof *t);
    w->fds = t;
    uint32_t fd = w->nfds;
    w->nfds = n;
    return fd;
}

static uint8_t filetype_of(mode_t m)
{
    if (S_ISREG(m)) return FT_REG;
    if (S_ISDIR(m)) return FT_DIR;
    if (S_ISCHR(m)) return FT_CHAR;
    if (S_ISBLK(m)) return FT_BLOCK;
    if (S_ISLNK(m)) return FT_SYMLINK;
    if (S_ISSOCK(m)) return FT_SOCK_STREAM;
    return FT_UNKNOWN;
}

/* ---- set-up --------------------------------------------------------------------------------- */

static char **copy_strings(int n, const char *const *src, uint32_t *bytes)
{
    char **out = calloc((size_t)n + 1, sizeof *out);
    if (!out)
        return NULL;
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!(out[i] = strdup(src[i])))
            return NULL;
        total += strlen(src[i]) + 1;
    }
    *bytes = (uint32_t)total;
    return out;
}

wasi_t *wasi_new(const wasi_config *cfg, char *err, size_t errlen)
{
    wasi_t *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->argc = cfg->argc;
    w->envc = cfg->envc;
    w->argv = copy_strings(cfg->argc, cfg->argv, &w->argv_bytes);
    w->envp = copy_strings(cfg->envc, cfg->envp, &w->envp_bytes);
    w->no_openat2 = cfg->no_openat2;
    if (!w->argv || !w->envp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        int64_t fd = alloc_fd(w);
        if (fd < 0) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        fd_entry *e = &w->fds[fd];
        struct stat st;
        e->used = 1;
        e->host = i;
        e->type = fstat(i, &st) == 0 ? filetype_of(st.st_mode) : FT_UNKNOWN;
        e->rights_base = R_ALL;
    }
    for (int i = 0; i < cfg->ngrants; i++) {
        const wasi_grant *g = &cfg->grants[i];
        int h = open(g->host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h < 0) {
            snprintf(err, errlen, "cannot open the granted directory %s: %s", g->host,
                     strerror(errno));
            return NULL;
        }
        int64_t fd = alloc_fd(w);
        if (fd < 0 || !(w->fds[fd].preopen = strdup(g->guest))) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        fd_entry *e = &w->fds[fd];
        e->used = 1;
        e->host = h;
        e->type = FT_DIR;
        e->readonly = g->readonly;
        e->rights_base = R_ALL;
        e->rights_inh = R_ALL;
    }
    return w;
}

void wasi_set_memory(wasi_t *w, wasm_rt_memory_t *memory) { w->mem = memory; }

/* ---- args and environment ------------------------------------------------------------------- */

static uint32_t put_strings(wasi_t *w, char **s, int n, uint32_t bytes, uint32_t ptrs,
                            uint32_t buf)
{
    mem_at(w, ptrs, (uint64_t)n * 4);
    uint8_t *dst = mem_at(w, buf, bytes);
    uint32_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(s[i]) + 1;
        memcpy(dst + off, s[i], l);
        put_u32(w, ptrs + 4 * (uint32_t)i, buf + off);
        off += (uint32_t)l;
    }
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_args_get(wasi_t *w, uint32_t argv, uint32_t buf)
{
    return put_strings(w, w->argv, w->argc, w->argv_bytes, argv, buf);
}

uint32_t w2c_wasi__snapshot__preview1_args_sizes_get(wasi_t *w, uint32_t argc, uint32_t size)
{
    put_u32(w, argc, (uint32_t)w->argc);
    put_u32(w, size, w->argv_bytes);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_environ_get(wasi_t *w, uint32_t env, uint32_t buf)
{
    return put_strings(w, w->envp, w->envc, w->envp_bytes, env, buf);
}

uint32_t w2c_wasi__snapshot__preview1_environ_sizes_get(wasi_t *w, uint32_t envc, uint32_t size)
{
    put_u32(w, envc, (uint32_t)w->envc);
    put_u32(w, size, w->envp_bytes);
    return E_SUCCESS;
}

/* ---- clocks, random, process ---------------------------------------------------------------- */

static int host_clock(uint32_t id, clockid_t *out)
{
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return 0;
    case 1: *out = CLOCK_MONOTONIC; return 0;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return 0;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return 0;
    }
    return -1;
}

uint32_t w2c_wasi__snapshot__preview1_clock_res_get(wasi_t *w, uint32_t id, uint32_t out)
{
    clockid_t c;
    struct timespec ts;
    if (host_clock(id, &c) < 0)
        return E_INVAL;
    if (clock_getres(c, &ts) != 0)
        return werr(errno);
    put_u64(w, out, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_clock_time_get(wasi_t *w, uint32_t id, uint64_t precision,
                                                     uint32_t out)
{
    (void)precision;
    clockid_t c;
    struct timespec ts;
    if (host_clock(id, &c) < 0)
        return E_INVAL;
    if (clock_gettime(c, &ts) != 0)
        return werr(errno);
    put_u64(w, out, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_random_get(wasi_t *w, uint32_t buf, uint32_t len)
{
    uint8_t *p = mem_at(w, buf, len);
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return werr(errno);
        }
        p += n;
        len -= (uint32_t)n;
    }
    return E_SUCCESS;
}

void w2c_wasi__snapshot__preview1_proc_exit(wasi_t *w, uint32_t code)
{
    (void)w;
    wasmpi_runner_exit((int)code);
}

uint32_t w2c_wasi__snapshot__preview1_proc_raise(wasi_t *w, uint32_t sig)
{
    (void)w; (void)sig;
    return E_NOSYS;
}

uint32_t w2c_wasi__snapshot__preview1_sched_yield(wasi_t *w)
{
    (void)w;
    sched_yield();
    return E_SUCCESS;
}

/* ---- descriptors ---------------------------------------------------------------------------- */

#define MAX_IOV 1024

/* Translate the guest's iovec array into host iovecs pointing into linear memory. */
static uint32_t load_iovs(wasi_t *w, uint32_t iovs, uint32_t n, struct iovec *out)
{
    if (n > MAX_IOV)
        return E_INVAL;
    mem_at(w, iovs, (uint64_t)n * 8);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = get_u32(w, iovs + 8 * i), len = get_u32(w, iovs + 8 * i + 4);
        out[i].iov_base = mem_at(w, buf, len);
        out[i].iov_len = len;
    }
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_write(wasi_t *w, uint32_t fd, uint32_t iovs,
                                               uint32_t n, uint32_t nwritten)
{
    struct iovec v[MAX_IOV];
    fd_entry *e = get_fd(w, fd);
    if (!e)
        return E_BADF;
    uint32_t r = load_iovs(w, iovs, n, v);
    if (r)
        return r;
    mem_at(w, nwritten, 4);
    if (e->type == FT_DIR)
        return E_BADF;
    ssize_t k = writev(e->host, v, (int)n);
    if (k < 0)
        return werr(errno);
    put_u32(w, nwritten, (uint32_t)k);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_read(wasi_t *w, uint32_t fd, uint32_t iovs, uint32_t n,
                                              uint32_t nread)
{
    struct iovec v[MAX_IOV];
    fd_entry *e = get_fd(w, fd);
    if (!e)
        return E_BADF;
    uint32_t r = load_iovs(w, iovs, n, v);
    if (r)
        return r;
    mem_at(w, nread, 4);
    if (e->type == FT_DIR)
        return E_BADF;
    ssize_t k = readv(e->host, v, (int)n);
    if (k < 0)
        return werr(errno);
    put_u32(w, nread, (uint32_t)k);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_close(wasi_t *w, uint32_t fd)
{
    fd_entry *e = get_fd(w, fd);
    if (!e)
        return E_BADF;
    if (e->host > 2)
        close(e->host);
    free(e->preopen);
    memset(e, 0, sizeof *e);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_fdstat_get(wasi_t *w, uint32_t fd, uint32_t out)
{
    fd_entry *e = get_fd(w, fd);
    mem_at(w, out, 24);
    if (!e)
        return E_BADF;
    uint16_t flags = 0;
    if (e->type != FT_DIR) {
        int fl = fcntl(e->host, F_GETFL);
        if (fl >= 0) {
            if (fl & O_APPEND) flags |= FDFLAG_APPEND;
            if (fl & O_NONBLOCK) flags |= FDFLAG_NONBLOCK;
            if ((fl & O_SYNC) == O_SYNC) flags |= FDFLAG_SYNC | FDFLAG_RSYNC;
            else if (fl & O_DSYNC) flags |= FDFLAG_DSYNC;
        }
    }
    memset(mem_at(w, out, 24), 0, 24);
    put_u8(w, out, e->type);
    put_u16(w, out + 2, flags);
    put_u64(w, out + 8, e->rights_base);
    put_u64(w, out + 16, e->rights_inh);
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_prestat_get(wasi_t *w, uint32_t fd, uint32_t out)
{
    fd_entry *e = get_fd(w, fd);
    mem_at(w, out, 8);
    if (!e || !e->preopen)
        return E_BADF;
    memset(mem_at(w, out, 8), 0, 8);
    put_u32(w, out + 4, (uint32_t)strlen(e->preopen));
    return E_SUCCESS;
}

uint32_t w2c_wasi__snapshot__preview1_fd_prestat_dir_name(wasi_t *w, uint32_t fd, uint32_t path,
                                                          uint32_t len)
{
    fd_entry *e = get_fd(w, fd);
    if (!e || !e->preopen)
        return E_BADF;
    size_t l = strlen(e->preopen);
    if (len < l)
        return E_NAMETOOLONG;
    memcpy(mem_at(w, path, l), e->preopen, l);
    return E_SUCCESS;
}

/* ---- not yet implemented (a guest linking them still loads) ---------------------------------- */

#define NOSYS(name, ...)                                                                        \
    uint32_t w2c_wasi__snapshot__preview1_##name(wasi_t *w, __VA_ARGS__) { (void)w; return E_NOSYS; }

NOSYS(fd_advise, uint32_t a, uint64_t b, uint64_t c, uint32_t d)
NOSYS(fd_allocate, uint32_t a, uint64_t b, uint64_t c)
NOSYS(fd_datasync, uint32_t a)
NOSYS(fd_fdstat_set_flags, uint32_t a, uint32_t b)
NOSYS(fd_fdstat_set_rights, uint32_t a, uint64_t b, uint64_t c)
NOSYS(fd_filestat_get, uint32_t a, uint32_t b)
NOSYS(fd_filestat_set_size, uint32_t a, uint64_t b)
NOSYS(fd_filestat_set_times, uint32_t a, uint64_t b, uint64_t c, uint32_t d)
NOSYS(fd_pread, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e)
NOSYS(fd_pwrite, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e)
NOSYS(fd_readdir, uint32_t a, uint32_t b, uint32_t c, uint64_t d, uint32_t e)
NOSYS(fd_renumber, uint32_t a, uint32_t b)
NOSYS(fd_seek, uint32_t a, uint64_t b, uint32_t c, uint32_t d)
NOSYS(fd_sync, uint32_t a)
NOSYS(fd_tell, uint32_t a, uint32_t b)
NOSYS(path_create_directory, uint32_t a, uint32_t b, uint32_t c)
NOSYS(path_filestat_get, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
NOSYS(path_filestat_set_times, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint64_t e,
      uint64_t f, uint32_t g)
NOSYS(path_link, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f,
      uint32_t g)
NOSYS(path_open, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint64_t f,
      uint64_t g, uint32_t h, uint32_t i)
NOSYS(path_readlink, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f)
NOSYS(path_remove_directory, uint32_t a, uint32_t b, uint32_t c)
NOSYS(path_rename, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f)
NOSYS(path_symlink, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
NOSYS(path_unlink_file, uint32_t a, uint32_t b, uint32_t c)
NOSYS(poll_oneoff, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
NOSYS(sock_accept, uint32_t a, uint32_t b, uint32_t c)
NOSYS(sock_recv, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e, uint32_t f)
NOSYS(sock_send, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
NOSYS(sock_shutdown, uint32_t a, uint32_t b)
