/* File I/O in all its forms inside a writable grant, with output that is the same on every
 * engine (tests/integration/test_engines.py compares it): stdio, POSIX descriptors, O_APPEND,
 * O_EXCL, positioned I/O, truncation, a multi-MiB transfer checked by checksum, fsync, and the
 * flags and rights a descriptor reports. Usage: wasi_files.wasm DIR (a guest directory). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wasi/api.h>

static char path_buf[256];
static const char *dir;

static const char *P(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

static void rc(const char *what, long r)
{
    /* an errno name is the same on both engines only if both fail for the same reason */
    if (r < 0)
        printf("%s = -1 %s\n", what, strerror(errno));
    else
        printf("%s = %ld\n", what, r);
}

static uint64_t fnv(const unsigned char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void section_stdio(void)
{
    FILE *f = fopen(P("stdio.txt"), "w");
    printf("fopen w: %s\n", f ? "ok" : strerror(errno));
    for (int i = 0; i < 5; i++)
        fprintf(f, "line %d: %s %.3f\n", i, "text", i * 1.5);
    size_t k = fwrite("binary\0tail\n", 1, 12, f);
    printf("fwrite = %zu\n", k);
    rc("fclose", fclose(f));
    f = fopen(P("stdio.txt"), "r");
    char line[128];
    while (fgets(line, sizeof line, f))
        printf("fgets: %s", line[0] == 'b' ? "binary...\n" : line);
    printf("feof = %d ferror = %d\n", feof(f) != 0, ferror(f) != 0);
    rewind(f);
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf, f);
    printf("fread = %zu fnv %016llx\n", n, (unsigned long long)fnv((unsigned char *)buf, n, 14695981039346656037ull));
    rc("fseek end", fseek(f, -5, SEEK_END));
    rc("ftell", ftell(f));
    fclose(f);
    f = fopen(P("stdio.txt"), "a");
    fputs("appended\n", f);
    fclose(f);
    f = fopen(P("stdio.txt"), "r+");
    fseek(f, 0, SEEK_SET);
    fputs("LINE", f);
    fclose(f);
    f = fopen(P("stdio.txt"), "r");
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    printf("after a and r+: %zu bytes, starts %.6s, ends %s", n, buf, buf + n - 9);
    printf("fopen missing: %s\n", fopen(P("missing.txt"), "r") ? "ok" : strerror(errno));
    printf("fopen x twice: ");
    f = fopen(P("excl.txt"), "wx");
    printf("%s, ", f ? "ok" : strerror(errno));
    if (f)
        fclose(f);
    f = fopen(P("excl.txt"), "wx");
    printf("%s\n", f ? "ok" : strerror(errno));
}

static void section_posix(void)
{
    int fd = open(P("posix.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    rc("open", fd >= 0 ? 0 : -1);
    rc("write", write(fd, "0123456789abcdef", 16));
    rc("lseek cur", lseek(fd, 0, SEEK_CUR));
    rc("lseek set 4", lseek(fd, 4, SEEK_SET));
    char b[32] = {0};
    rc("read 6", read(fd, b, 6));
    printf("  got %.6s\n", b);
    rc("pwrite @10", pwrite(fd, "XYZ", 3, 10));
    rc("lseek cur after pwrite", lseek(fd, 0, SEEK_CUR));
    memset(b, 0, sizeof b);
    rc("pread @8 8", pread(fd, b, 8, 8));
    printf("  got %.8s\n", b);
    rc("pread past end", pread(fd, b, 8, 100));
    rc("lseek end +8", lseek(fd, 8, SEEK_END));
    rc("write after hole", write(fd, "!", 1));
    struct stat st;
    rc("fstat", fstat(fd, &st));
    printf("  size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    memset(b, 1, sizeof b);
    rc("pread hole", pread(fd, b, 4, 17));
    printf("  hole bytes %d %d %d %d\n", b[0], b[1], b[2], b[3]);
    rc("ftruncate 5", ftruncate(fd, 5));
    rc("fstat", fstat(fd, &st));
    printf("  size %lld\n", (long long)st.st_size);
    rc("ftruncate 4096", ftruncate(fd, 4096));
    rc("fstat", fstat(fd, &st));
    printf("  size %lld\n", (long long)st.st_size);
    rc("lseek negative", lseek(fd, -1, SEEK_SET));
    rc("fsync", fsync(fd));
    rc("fdatasync", fdatasync(fd));
    rc("close", close(fd));
    rc("close again", close(fd));
    rc("read closed", read(fd, b, 1));

    fd = open(P("posix.bin"), O_RDONLY);
    rc("write on O_RDONLY", write(fd, "x", 1));
    close(fd);
    fd = open(P("posix.bin"), O_WRONLY);
    rc("read on O_WRONLY", read(fd, b, 1));
    close(fd);

    fd = open(P("vec.txt"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    struct iovec wv[3] = {{"gather ", 7}, {"", 0}, {"write\n", 6}};
    rc("writev", (long)writev(fd, wv, 3));
    char r1[4] = {0}, r2[16] = {0};
    struct iovec rv[2] = {{r1, 3}, {r2, sizeof r2 - 1}};
    rc("preadv @0", (long)preadv(fd, rv, 2, 0));
    printf("  [%s|%s]\n", r1, r2);
    rc("pwritev @7", (long)pwritev(fd, wv + 2, 1, 7));
    lseek(fd, 0, SEEK_SET);
    memset(r2, 0, sizeof r2);
    rc("readv", (long)readv(fd, rv, 2));
    printf("  [%s|%s]\n", r1, r2);
    close(fd);

    fd = open(P("append.txt"), O_WRONLY | O_CREAT | O_APPEND, 0644);
    rc("append open", fd >= 0 ? 0 : -1);
    write(fd, "one\n", 4);
    lseek(fd, 0, SEEK_SET);
    write(fd, "two\n", 4);
    rc("fcntl O_APPEND", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    rc("fcntl clear O_APPEND", fcntl(fd, F_SETFL, 0));
    rc("fcntl O_APPEND after", (fcntl(fd, F_GETFL) & O_APPEND) != 0);
    lseek(fd, 0, SEEK_SET);
    write(fd, "TWO", 3);
    close(fd);
    fd = open(P("append.txt"), O_RDONLY);
    memset(b, 0, sizeof b);
    rc("read append.txt", read(fd, b, sizeof b));
    printf("  %s", b);
    close(fd);

    fd = open(P("excl.bin"), O_WRONLY | O_CREAT | O_EXCL, 0644);
    rc("O_EXCL new", fd >= 0 ? 0 : -1);
    close(fd);
    rc("O_EXCL again", open(P("excl.bin"), O_WRONLY | O_CREAT | O_EXCL, 0644));
    rc("O_TRUNC|O_RDONLY on missing", open(P("nope.bin"), O_RDONLY | O_TRUNC));
    rc("O_DIRECTORY on file", open(P("excl.bin"), O_RDONLY | O_DIRECTORY));
    rc("O_CREAT on a directory", open(dir, O_WRONLY | O_CREAT, 0644));
    rc("open dir O_RDONLY", (fd = open(dir, O_RDONLY)) >= 0 ? 0 : -1);
    rc("read a directory", read(fd, b, 1));
    rc("lseek a directory", lseek(fd, 0, SEEK_SET));
    close(fd);
}

/* Several MiB through a few large calls and many small ones; the checksums must agree. */
static void section_large(void)
{
    const size_t n = 6u << 20;
    unsigned char *buf = malloc(n), *back = malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    uint64_t h = fnv(buf, n, 14695981039346656037ull);
    printf("large: %zu bytes fnv %016llx\n", n, (unsigned long long)h);
    int fd = open(P("large.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(fd, buf + done, n - done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    printf("large write %zu\n", done);
    rc("large fsync", fsync(fd));
    rc("large lseek", lseek(fd, 0, SEEK_SET));
    memset(back, 0, n);
    done = 0;
    while (done < n) {
        ssize_t k = read(fd, back + done, n - done);
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    printf("large read %zu fnv %016llx equal %d\n", done,
           (unsigned long long)fnv(back, done, 14695981039346656037ull), memcmp(buf, back, n) == 0);
    /* 4 KiB pread chunks backwards */
    memset(back, 0, n);
    for (size_t off = n; off > 0; off -= 4096)
        pread(fd, back + off - 4096, 4096, (off_t)(off - 4096));
    printf("large pread chunks equal %d\n", memcmp(buf, back, n) == 0);
    close(fd);
    FILE *f = fopen(P("large.bin"), "rb");
    memset(back, 0, n);
    size_t k = fread(back, 1, n, f);
    fclose(f);
    printf("large fread %zu equal %d\n", k, memcmp(buf, back, n) == 0);
    free(buf);
    free(back);
}

/* What the descriptor layer reports: fdstat flags and rights (wasmtime derives them from how
 * a descriptor was opened, not from the rights asked for), fd_allocate, fd_advise,
 * fd_fdstat_set_rights. */
static void show_fdstat(const char *what, int fd)
{
    __wasi_fdstat_t st;
    __wasi_errno_t e = __wasi_fd_fdstat_get((__wasi_fd_t)fd, &st);
    if (e)
        printf("fdstat %s = %d\n", what, (int)e);
    else
        printf("fdstat %s = 0 type %d flags %d base %llx inh %llx\n", what, st.fs_filetype,
               st.fs_flags, (unsigned long long)st.fs_rights_base,
               (unsigned long long)st.fs_rights_inheriting);
}

static void wasi_open(const char *what, const char *name, int oflags, __wasi_rights_t base,
                      __wasi_rights_t inh, int fdflags)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(3, 0, name, (__wasi_oflags_t)oflags, base, inh,
                                        (__wasi_fdflags_t)fdflags, &fd);
    if (e) {
        printf("fdstat %s = open %d\n", what, (int)e);
        return;
    }
    show_fdstat(what, (int)fd);
    __wasi_fd_close(fd);
}

static void section_fdstat(void)
{
    int fd = open(P("posix.bin"), O_RDWR | O_APPEND);
    show_fdstat("rw|append", fd);
    rc("fd_allocate", (long)__wasi_fd_allocate((__wasi_fd_t)fd, 0, 8192));
    rc("posix_fadvise", posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL));
    rc("set_rights same", (long)__wasi_fd_fdstat_set_rights((__wasi_fd_t)fd, 0x3fffffff, 0x3fffffff));
    rc("set_rights fewer", (long)__wasi_fd_fdstat_set_rights((__wasi_fd_t)fd, 2, 0));
    show_fdstat("after set_rights", fd);
    rc("write after set_rights", write(fd, "", 0));
    close(fd);
    fd = open(P("posix.bin"), O_RDONLY);
    show_fdstat("ro", fd);
    rc("fd_allocate ro", (long)__wasi_fd_allocate((__wasi_fd_t)fd, 0, 8192));
    close(fd);
    fd = open(P("posix.bin"), O_WRONLY);
    show_fdstat("wo", fd);
    close(fd);
    fd = open(P("posix.bin"), O_WRONLY | O_SYNC);
    show_fdstat("wo|sync", fd);
    close(fd);
    fd = open(P("posix.bin"), O_WRONLY | O_DSYNC);
    show_fdstat("wo|dsync", fd);
    close(fd);
    fd = open(P("posix.bin"), O_RDONLY | O_NONBLOCK);
    show_fdstat("ro|nonblock", fd);
    close(fd);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    show_fdstat("dir", fd);
    rc("fd_allocate dir", (long)__wasi_fd_allocate((__wasi_fd_t)fd, 0, 8192));
    close(fd);
    show_fdstat("preopen", 3);
    wasi_open("rights 0", "posix.bin", 0, 0, 0, 0);
    wasi_open("rights read", "posix.bin", 0, __WASI_RIGHTS_FD_READ, 0, 0);
    wasi_open("rights write", "posix.bin", 0, __WASI_RIGHTS_FD_WRITE, 0, 0);
    wasi_open("rights dir 0", ".", __WASI_OFLAGS_DIRECTORY, 0, 0, 0);
    wasi_open("rights dir all", ".", __WASI_OFLAGS_DIRECTORY, 0x3fffffff, 0x3fffffff, 0);
    show_fdstat("bad fd", 99);
}

/* Descriptor numbers (which one a new open gets after closes), renumbering, prestat names,
 * and odd but valid uses: the numbers are the guest's to see, so they must agree. */
static void section_fds(void)
{
    int a = open(P("posix.bin"), O_RDONLY), b = open(P("posix.bin"), O_RDONLY);
    int c = open(P("posix.bin"), O_RDONLY);
    printf("fds a b c: %d %d %d\n", a, b, c);
    close(b);
    int d = open(P("posix.bin"), O_RDONLY);
    printf("after closing b, a new open gets %d\n", d);
    close(a);
    close(c);
    int e = open(P("posix.bin"), O_RDONLY), f = open(P("posix.bin"), O_RDONLY);
    printf("after closing a and c: %d %d\n", e, f);
    rc("renumber e -> d", (long)__wasi_fd_renumber((__wasi_fd_t)e, (__wasi_fd_t)d));
    rc("read renumbered", (long)lseek(d, 0, SEEK_CUR));
    rc("read old number", (long)lseek(e, 0, SEEK_CUR));
    rc("renumber to a free number", (long)__wasi_fd_renumber((__wasi_fd_t)d, 40));
    rc("renumber to itself", (long)__wasi_fd_renumber((__wasi_fd_t)f, (__wasi_fd_t)f));
    int g = open(P("posix.bin"), O_RDONLY);
    printf("next open: %d\n", g);
    close(d);
    close(f);
    close(g);
    __wasi_prestat_t ps;
    rc("prestat 3", (long)__wasi_fd_prestat_get(3, &ps));
    printf("  tag %d len %u\n", ps.tag, (unsigned)ps.u.dir.pr_name_len);
    char name[64] = {0};
    rc("prestat_dir_name short", (long)__wasi_fd_prestat_dir_name(3, (uint8_t *)name, 2));
    rc("prestat_dir_name", (long)__wasi_fd_prestat_dir_name(3, (uint8_t *)name, sizeof name));
    printf("  name %s\n", name);
    rc("prestat of a file", (long)__wasi_fd_prestat_get(0, &ps));
    /* many descriptors at once */
    int fds[200], n = 0;
    for (; n < 200; n++)
        if ((fds[n] = open(P("posix.bin"), O_RDONLY)) < 0)
            break;
    printf("opened %d at once, last %d\n", n, n ? fds[n - 1] : -1);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    rc("open trailing slash on a file", open(P("posix.bin/"), O_RDONLY));
    rc("open empty path", open("", O_RDONLY));
    rc("O_CREAT|O_DIRECTORY", open(P("newdir"), O_RDONLY | O_CREAT | O_DIRECTORY, 0755));
    rc("rename file over dir", rename(P("posix.bin"), dir));
    int fd = open(P("posix.bin"), O_RDWR | O_APPEND);
    rc("tell after append open", (long)lseek(fd, 0, SEEK_CUR));
    write(fd, "zz", 2);
    rc("tell after append write", (long)lseek(fd, 0, SEEK_CUR));
    rc("seek past end", (long)lseek(fd, 1 << 20, SEEK_END));
    rc("pwrite on O_APPEND", (long)pwrite(fd, "P", 1, 0));
    struct stat st;
    fstat(fd, &st);
    printf("  size after %lld\n", (long long)st.st_size);
    close(fd);
}

int main(int argc, char **argv)
{
    dir = argc > 1 ? argv[1] : "/data";
    section_stdio();
    section_posix();
    section_large();
    section_fdstat();
    section_fds();
    printf("done\n");
    return 0;
}
