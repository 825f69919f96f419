/* Directories and the namespace, with output that is the same on every engine
 * (tests/integration/test_engines.py): a listing of many entries (so that readdir resumes from
 * a cookie across several fd_readdir calls), seekdir/telldir/rewinddir, mkdir, rmdir, rename,
 * link, symlink, readlink, unlink, stat, fstat, lstat, utimes, and a read-only grant that
 * refuses every change. Usage: wasi_dirs.wasm RWDIR RODIR; RODIR holds r.txt and rsub/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <wasi/api.h>

static const char *rw, *ro;

static const char *P(const char *d, const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", d, name);
    return buf[k];
}

static void rc(const char *what, int r)
{
    if (r < 0)
        printf("%s = -1 %s\n", what, strerror(errno));
    else
        printf("%s = %d\n", what, r);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *type_name(unsigned char t)
{
    switch (t) {
    case DT_REG: return "reg";
    case DT_DIR: return "dir";
    case DT_LNK: return "lnk";
    default: return "other";
    }
}

/* The entries of a directory, sorted (the host's order is not the engines' to decide). */
static void list(const char *d)
{
    DIR *dp = opendir(d);
    if (!dp) {
        printf("opendir %s: %s\n", d, strerror(errno));
        return;
    }
    char *names[1024];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && n < 1024) {
        char *s = malloc(strlen(de->d_name) + 8);
        sprintf(s, "%s %s", de->d_name, type_name(de->d_type));
        names[n++] = s;
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp);
    printf("list %s: %d entries:", d, n);
    for (int i = 0; i < n; i++) {
        printf(" %s;", names[i]);
        free(names[i]);
    }
    printf("\n");
}

/* fd_readdir itself, with buffers too small for one entry and resumed from each entry's
 * cookie, as a libc with a tiny buffer would: the same names, the same truncations. */
static void raw_readdir(const char *d)
{
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    uint8_t buf[40];
    __wasi_dircookie_t cookie = 0;
    int calls = 0, names = 0, truncated = 0;
    unsigned sum = 0;
    for (;;) {
        __wasi_size_t used = 0;
        __wasi_errno_t e = __wasi_fd_readdir((__wasi_fd_t)fd, buf, sizeof buf, cookie, &used);
        calls++;
        if (e || used == 0) {
            printf("raw readdir: end %d after %d calls\n", (int)e, calls);
            break;
        }
        __wasi_dirent_t de;
        memcpy(&de, buf, used < sizeof de ? used : sizeof de);
        if (used < sizeof de + de.d_namlen)
            truncated++;
        if (used >= sizeof de) {
            if (names < 2) { /* "." and "..": what do they say of the directory? */
                struct stat st;
                fstat(fd, &st);
                printf("raw readdir entry %d: type %d, the directory's inode %d, next %llu\n",
                       names, de.d_type, de.d_ino == st.st_ino, (unsigned long long)de.d_next);
            }
            names++;
            for (unsigned i = 0; i < de.d_namlen && sizeof de + i < used; i++)
                sum = sum * 31 + buf[sizeof de + i];
            cookie = de.d_next;
        } else {
            break;
        }
    }
    printf("raw readdir: %d entries, %d truncated, name hash %08x\n", names, truncated, sum);
    __wasi_size_t used = 7;
    __wasi_errno_t e = __wasi_fd_readdir((__wasi_fd_t)fd, buf, sizeof buf, 100000, &used);
    printf("raw readdir past the end = %d used %u\n", (int)e, (unsigned)used);
    e = __wasi_fd_readdir((__wasi_fd_t)fd, buf, 0, 0, &used);
    printf("raw readdir, no room = %d used %u\n", (int)e, (unsigned)used);
    close(fd);
}

static void section_many(void)
{
    rc("mkdir many", mkdir(P(rw, "many"), 0755));
    char name[256];
    /* long names: a 4 KiB readdir buffer holds a few dozen, so 300 need many fd_readdir calls */
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "%s/many/entry_%03d_%s", rw, i,
                 "padding_padding_padding_padding_padding_padding");
        int fd = open(name, O_WRONLY | O_CREAT, 0644);
        if (fd < 0) {
            printf("create %d: %s\n", i, strerror(errno));
            return;
        }
        close(fd);
    }
    DIR *dp = opendir(P(rw, "many"));
    int n = 0, sum = 0;
    struct dirent *de;
    long mid = -1;
    char mid_name[256] = "";
    while ((de = readdir(dp))) {
        if (n == 150) {
            mid = telldir(dp);
            de = readdir(dp);
            if (!de)
                break;
            snprintf(mid_name, sizeof mid_name, "%s", de->d_name);
        }
        n++;
        if (de->d_name[0] == 'e')
            sum += atoi(de->d_name + 6);
    }
    printf("many: %d entries, index sum %d\n", n, sum);
    seekdir(dp, mid);
    de = readdir(dp);
    printf("seekdir back: same entry %d\n", de && !strcmp(de->d_name, mid_name));
    rewinddir(dp);
    n = 0;
    while (readdir(dp))
        n++;
    printf("after rewinddir: %d entries\n", n);
    closedir(dp);
    /* entries removed while listing */
    dp = opendir(P(rw, "many"));
    int removed = 0;
    while ((de = readdir(dp)))
        if (de->d_name[0] == 'e' && unlinkat(dirfd(dp), de->d_name, 0) == 0)
            removed++;
    closedir(dp);
    printf("removed while listing: %d\n", removed);
    raw_readdir(P(rw, "many"));
    list(P(rw, "many"));
    for (int pass = 0; pass < 10 && removed < 300; pass++) {
        dp = opendir(P(rw, "many"));
        while ((de = readdir(dp)))
            if (de->d_name[0] == 'e' && unlinkat(dirfd(dp), de->d_name, 0) == 0)
                removed++;
        closedir(dp);
    }
    printf("removed in all: %d\n", removed);
    rc("rmdir many", rmdir(P(rw, "many")));
}

static void show_stat(const char *what, int r, const struct stat *st)
{
    if (r < 0) {
        printf("%s = -1 %s\n", what, strerror(errno));
        return;
    }
    printf("%s = 0 %s size %lld nlink %lu\n", what,
           S_ISREG(st->st_mode) ? "reg" : S_ISDIR(st->st_mode) ? "dir" :
           S_ISLNK(st->st_mode) ? "lnk" : "other",
           S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size, (unsigned long)st->st_nlink);
}

static void section_namespace(void)
{
    struct stat st, st2;
    rc("mkdir a", mkdir(P(rw, "a"), 0755));
    rc("mkdir a again", mkdir(P(rw, "a"), 0755));
    rc("mkdir a/b", mkdir(P(rw, "a/b"), 0755));
    rc("mkdir missing/x", mkdir(P(rw, "missing/x"), 0755));
    FILE *f = fopen(P(rw, "a/file.txt"), "w");
    fputs("contents\n", f);
    fclose(f);
    show_stat("stat a/file.txt", stat(P(rw, "a/file.txt"), &st), &st);
    show_stat("stat a", stat(P(rw, "a"), &st), &st);
    rc("rmdir a (not empty)", rmdir(P(rw, "a")));
    rc("rmdir a/file.txt (a file)", rmdir(P(rw, "a/file.txt")));
    rc("unlink a/b (a dir)", unlink(P(rw, "a/b")));
    rc("rename file", rename(P(rw, "a/file.txt"), P(rw, "a/b/moved.txt")));
    rc("rename missing", rename(P(rw, "a/nothing"), P(rw, "a/x")));
    rc("rename dir", rename(P(rw, "a/b"), P(rw, "c")));
    rc("rename dir onto nonempty", rename(P(rw, "a"), P(rw, "c")));
    rc("rename into own subdir", rename(P(rw, "c"), P(rw, "c/inner")));
    rc("link", link(P(rw, "c/moved.txt"), P(rw, "hard.txt")));
    rc("link exists", link(P(rw, "c/moved.txt"), P(rw, "hard.txt")));
    show_stat("stat hard.txt", stat(P(rw, "hard.txt"), &st), &st);
    int fd = open(P(rw, "hard.txt"), O_RDONLY);
    show_stat("fstat hard.txt", fstat(fd, &st2), &st2);
    rc("fstat same ino", st.st_ino == st2.st_ino);
    close(fd);
    rc("symlink", symlink("c/moved.txt", P(rw, "soft")));
    rc("symlink dangling", symlink("nowhere", P(rw, "dangling")));
    rc("symlink exists", symlink("x", P(rw, "soft")));
    char buf[64];
    ssize_t n = readlink(P(rw, "soft"), buf, sizeof buf);
    printf("readlink soft = %zd %.*s\n", n, n > 0 ? (int)n : 0, buf);
    n = readlink(P(rw, "soft"), buf, 4);
    printf("readlink soft, 4 bytes = %zd %.*s\n", n, n > 0 ? (int)n : 0, buf);
    n = readlink(P(rw, "hard.txt"), buf, sizeof buf);
    printf("readlink a file = %zd %s\n", n, n < 0 ? strerror(errno) : "");
    show_stat("stat soft", stat(P(rw, "soft"), &st), &st);
    show_stat("lstat soft", lstat(P(rw, "soft"), &st), &st);
    show_stat("stat dangling", stat(P(rw, "dangling"), &st), &st);
    show_stat("lstat dangling", lstat(P(rw, "dangling"), &st), &st);
    f = fopen(P(rw, "soft"), "r");
    printf("read through soft: %s", f && fgets(buf, sizeof buf, f) ? buf : "failed\n");
    if (f)
        fclose(f);
    /* times: set, read back exactly (no clock involved) */
    struct timeval tv[2] = {{1000000000, 250000}, {1234567890, 500000}};
    rc("utimes", utimes(P(rw, "hard.txt"), tv));
    stat(P(rw, "hard.txt"), &st);
    printf("  atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atim.tv_sec,
           st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1500000000, 123456789}};
    rc("utimensat mtime only", utimensat(AT_FDCWD, P(rw, "hard.txt"), ts, 0));
    fd = open(P(rw, "hard.txt"), O_RDONLY);
    struct timespec ts2[2] = {{1600000000, 1}, {0, UTIME_OMIT}};
    rc("futimens atime only", futimens(fd, ts2));
    fstat(fd, &st);
    close(fd);
    printf("  atime %lld.%09ld mtime %lld.%09ld\n", (long long)st.st_atim.tv_sec,
           st.st_atim.tv_nsec, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    rc("utimensat nofollow on symlink", utimensat(AT_FDCWD, P(rw, "soft"), ts, AT_SYMLINK_NOFOLLOW));
    lstat(P(rw, "soft"), &st);
    printf("  link mtime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    list(rw);
    list(P(rw, "c"));
    rc("unlink soft", unlink(P(rw, "soft")));
    rc("unlink dangling", unlink(P(rw, "dangling")));
    rc("unlink hard.txt", unlink(P(rw, "hard.txt")));
    rc("unlink missing", unlink(P(rw, "hard.txt")));
    show_stat("stat c/moved.txt", stat(P(rw, "c/moved.txt"), &st), &st);
    rc("chdir c", chdir(P(rw, "c")));
    f = fopen("moved.txt", "r");
    printf("relative open after chdir: %s\n", f ? "ok" : strerror(errno));
    if (f)
        fclose(f);
    char cwd[256];
    printf("getcwd: %s\n", getcwd(cwd, sizeof cwd) ? cwd : strerror(errno));
    rc("chdir back", chdir(rw));
    list(rw);
}

/* A read-only grant: reading works, every change is refused. */
static void section_readonly(void)
{
    struct stat st;
    list(ro);
    FILE *f = fopen(P(ro, "r.txt"), "r");
    char buf[64] = "";
    printf("read r.txt: %s", f && fgets(buf, sizeof buf, f) ? buf : "failed\n");
    if (f)
        fclose(f);
    show_stat("stat r.txt", stat(P(ro, "r.txt"), &st), &st);
    rc("open r.txt O_WRONLY", open(P(ro, "r.txt"), O_WRONLY));
    rc("open r.txt O_RDWR", open(P(ro, "r.txt"), O_RDWR));
    rc("open r.txt O_TRUNC", open(P(ro, "r.txt"), O_RDONLY | O_TRUNC));
    rc("open r.txt O_APPEND", open(P(ro, "r.txt"), O_WRONLY | O_APPEND));
    rc("create new.txt", open(P(ro, "new.txt"), O_WRONLY | O_CREAT, 0644));
    f = fopen(P(ro, "r.txt"), "a");
    printf("fopen a: %s\n", f ? "ok" : strerror(errno));
    rc("mkdir", mkdir(P(ro, "d"), 0755));
    rc("rmdir rsub", rmdir(P(ro, "rsub")));
    rc("unlink r.txt", unlink(P(ro, "r.txt")));
    rc("rename in ro", rename(P(ro, "r.txt"), P(ro, "s.txt")));
    rc("rename ro -> rw", rename(P(ro, "r.txt"), P(rw, "stolen.txt")));
    rc("rename rw -> ro", rename(P(rw, "c/moved.txt"), P(ro, "planted.txt")));
    rc("link ro -> rw", link(P(ro, "r.txt"), P(rw, "hl.txt")));
    rc("symlink in ro", symlink("r.txt", P(ro, "sl")));
    struct timeval tv[2] = {{1, 0}, {2, 0}};
    rc("utimes r.txt", utimes(P(ro, "r.txt"), tv));
    int fd = open(P(ro, "r.txt"), O_RDONLY);
    rc("ftruncate", ftruncate(fd, 0));
    rc("write", (int)write(fd, "x", 1));
    rc("fcntl O_APPEND", fcntl(fd, F_SETFL, O_APPEND));
    struct timespec ts[2] = {{1, 0}, {2, 0}};
    rc("futimens", futimens(fd, ts));
    rc("fsync", fsync(fd));
    close(fd);
    list(ro);
    show_stat("stat r.txt after", stat(P(ro, "r.txt"), &st), &st);
}

/* The raw path calls on edge cases (trailing slashes, ".", "..", empty names, dangling
 * links), relative to a directory the guest opened, printing each errno. */
#define SHOW(what, call) printf("%-34s %d\n", what, (int)(call))
static void section_edges(void)
{
    mkdir(P(rw, "edge"), 0755);
    __wasi_fd_t e = (__wasi_fd_t)open(P(rw, "edge"), O_RDONLY | O_DIRECTORY), o;
    SHOW("mkdir sub", __wasi_path_create_directory(e, "sub"));
    FILE *f = fopen(P(rw, "edge/f.txt"), "w");
    fputs("xyzw\n", f);
    fclose(f);
    __wasi_filestat_t st;
    SHOW("open O_TRUNC with read rights", __wasi_path_open(e, 0, "f.txt", __WASI_OFLAGS_TRUNC,
                                                           __WASI_RIGHTS_FD_READ, 0, 0, &o));
    __wasi_path_filestat_get(e, 0, "f.txt", &st);
    printf("  size %llu\n", (unsigned long long)st.size);
    SHOW("stat empty path", __wasi_path_filestat_get(e, 0, "", &st));
    SHOW("stat .", __wasi_path_filestat_get(e, 0, ".", &st));
    SHOW("stat sub/", __wasi_path_filestat_get(e, 0, "sub/", &st));
    SHOW("stat f.txt/", __wasi_path_filestat_get(e, 0, "f.txt/", &st));
    const char *mk[] = {"nd/", "nd2//", "sub/", "f.txt/", "missing/nd/", "sub/nd3/", "nd4/.", "",
                        "."};
    char what[64];
    for (int i = 0; i < 9; i++) {
        snprintf(what, sizeof what, "mkdir [%s]", mk[i]);
        SHOW(what, __wasi_path_create_directory(e, mk[i]));
    }
    mkdir(P(rw, "edge/empty"), 0755);
    mkdir(P(rw, "edge/full"), 0755);
    mkdir(P(rw, "edge/full/x"), 0755);
    const char *rm[] = {"nd/", "nd2//", "missing/", "f.txt/", "empty/", "full/", "sub/nd3/",
                        "nd4/.", "nd4/..", "sub/..", ".", "empty", "nd"};
    for (int i = 0; i < 13; i++) {
        snprintf(what, sizeof what, "rmdir [%s]", rm[i]);
        SHOW(what, __wasi_path_remove_directory(e, rm[i]));
    }
    const char *ul[] = {"f.txt/", "missing/", "sub", "sub/", "sub/."};
    for (int i = 0; i < 5; i++) {
        snprintf(what, sizeof what, "unlink [%s]", ul[i]);
        SHOW(what, __wasi_path_unlink_file(e, ul[i]));
    }
    SHOW("times ATIM|ATIM_NOW", __wasi_path_filestat_set_times(e, 0, "f.txt", 0, 0,
         __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    SHOW("symlink ln -> target", __wasi_path_symlink("target", e, "ln"));
    uint8_t b[8];
    __wasi_size_t u = 99;
    SHOW("readlink, no room", __wasi_path_readlink(e, "ln", b, 0, &u));
    printf("  used %u\n", (unsigned)u);
    SHOW("readlink, 3 bytes", __wasi_path_readlink(e, "ln", b, 3, &u));
    printf("  used %u\n", (unsigned)u);
    SHOW("symlink to an absolute path", __wasi_path_symlink("/abs", e, "abs"));
    SHOW("symlink to nothing", __wasi_path_symlink("", e, "emptyln"));
    SHOW("symlink [sl/]", __wasi_path_symlink("f.txt", e, "sl/"));
    SHOW("rename to itself", __wasi_path_rename(e, "f.txt", e, "f.txt"));
    SHOW("rename dir over file", __wasi_path_rename(e, "sub", e, "f.txt"));
    SHOW("rename file over dir", __wasi_path_rename(e, "f.txt", e, "sub"));
    SHOW("rename [sub/] [sub2/]", __wasi_path_rename(e, "sub/", e, "sub2/"));
    SHOW("rename [sub2] [sub3/]", __wasi_path_rename(e, "sub2", e, "sub3/"));
    SHOW("rename [f.txt/]", __wasi_path_rename(e, "f.txt/", e, "g.txt"));
    SHOW("rename to [g.txt/]", __wasi_path_rename(e, "f.txt", e, "g.txt/"));
    SHOW("link a directory", __wasi_path_link(e, 0, "sub3", e, "sublink"));
    SHOW("link to [h.txt/]", __wasi_path_link(e, 0, "f.txt", e, "h.txt/"));
    SHOW("link from [f.txt/]", __wasi_path_link(e, 0, "f.txt/", e, "h.txt"));
    SHOW("open a dir with APPEND", __wasi_path_open(e, 0, "sub3", 0, __WASI_RIGHTS_FD_READ, 0,
                                                    __WASI_FDFLAGS_APPEND, &o));
    SHOW("open a file O_DIRECTORY", __wasi_path_open(e, 0, "f.txt", __WASI_OFLAGS_DIRECTORY,
                                                     __WASI_RIGHTS_FD_READ, 0, 0, &o));
    SHOW("open dangling, nofollow", __wasi_path_open(e, 0, "ln", 0, __WASI_RIGHTS_FD_READ, 0, 0,
                                                     &o));
    SHOW("open dangling, follow", __wasi_path_open(e, 1, "ln", 0, __WASI_RIGHTS_FD_READ, 0, 0,
                                                   &o));
    SHOW("create through dangling, nofollow", __wasi_path_open(e, 0, "ln", __WASI_OFLAGS_CREAT,
                                                               __WASI_RIGHTS_FD_WRITE, 0, 0, &o));
    SHOW("create through dangling, follow", __wasi_path_open(e, 1, "ln", __WASI_OFLAGS_CREAT,
                                                             __WASI_RIGHTS_FD_WRITE, 0, 0, &o));
    close((int)e);
    list(P(rw, "edge"));
}

int main(int argc, char **argv)
{
    rw = argc > 1 ? argv[1] : "/data";
    ro = argc > 2 ? argv[2] : "/ro";
    section_many();
    section_namespace();
    section_edges();
    section_readonly();
    printf("done\n");
    return 0;
}
