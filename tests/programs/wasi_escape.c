/* Confinement and error answers of WASI path calls, printed as the raw preview1 errno of each
 * call (0: success), so that both engines can be compared answer by answer.
 * Grants (in this order): fd 3 = a read-write tree, fd 4 = a read-only tree; the tree is made
 * by tests/integration/wasi_tree.py:
 *   rw/file.txt  rw/sub/inner.txt  rw/sub/link_parent -> ../file.txt  rw/empty/
 *   rw/link_in -> file.txt  rw/link_out -> /etc  rw/link_up -> ../outside/secret.txt
 *   rw/link_subup -> sub/../../outside  rw/dangling -> missing  rw/loop -> loop
 *   outside/secret.txt (next to rw, never reachable)  ro/r.txt  ro/rsub/ */
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define RW 3
#define RO 4
#define RIGHTS_ALL ((__wasi_rights_t)0x1fffffff)

static void show(const char *what, __wasi_errno_t e) { printf("%-44s %d\n", what, (int)e); }

static void open_(int dir, const char *path, int follow, int oflags, __wasi_rights_t rights,
                  int fdflags)
{
    __wasi_fd_t fd = 0;
    __wasi_errno_t e = __wasi_path_open((__wasi_fd_t)dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
                                        path, (__wasi_oflags_t)oflags, rights, rights,
                                        (__wasi_fdflags_t)fdflags, &fd);
    char what[160];
    snprintf(what, sizeof what, "open %d %s%s o%d r%s f%d", dir, path, follow ? "" : " nofollow",
             oflags, rights == RIGHTS_ALL ? "all" : rights & __WASI_RIGHTS_FD_WRITE ? "w" : "r",
             fdflags);
    show(what, e);
    if (e == 0)
        (void)!__wasi_fd_close(fd);
}

#define RD (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_GET)
#define WR (RD | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE)
#define O_CREAT_ __WASI_OFLAGS_CREAT
#define O_DIR_ __WASI_OFLAGS_DIRECTORY
#define O_EXCL_ __WASI_OFLAGS_EXCL
#define O_TRUNC_ __WASI_OFLAGS_TRUNC

static void stat_(int dir, const char *path, int follow)
{
    __wasi_filestat_t st;
    char what[160];
    snprintf(what, sizeof what, "stat %d %s%s", dir, path, follow ? "" : " nofollow");
    __wasi_errno_t e = __wasi_path_filestat_get((__wasi_fd_t)dir,
                                                follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0,
                                                path, &st);
    if (e == 0)
        printf("%-44s 0 type %d size %llu\n", what, st.filetype,
               st.filetype == __WASI_FILETYPE_DIRECTORY ? 0ULL : (unsigned long long)st.size);
    else
        show(what, e);
}

#define CALL(text, expr) show(text, (expr))

static void close_(__wasi_fd_t fd) { (void)!__wasi_fd_close(fd); }

int main(void)
{
    /* reading: inside, escapes, symlinks */
    static const char *reads[] = {
        "file.txt", "./file.txt", "sub/../file.txt", "sub/inner.txt", "sub/link_parent",
        "link_in", "../outside/secret.txt", "/etc/passwd", "/file.txt", "sub/../../outside/secret.txt",
        "..", ".", "", "link_out", "link_out/passwd", "link_up", "link_subup", "link_subup/secret.txt",
        "dangling", "loop", "missing", "file.txt/x", "missing/x", "sub/", "file.txt/",
        "sub/./inner.txt", "sub//inner.txt", "empty/../../rw/file.txt",
    };
    for (size_t i = 0; i < sizeof reads / sizeof *reads; i++) {
        open_(RW, reads[i], 1, 0, RD, 0);
        open_(RW, reads[i], 0, 0, RD, 0);
    }
    open_(RW, "sub", 1, O_DIR_, RD, 0);
    open_(RW, "file.txt", 1, O_DIR_, RD, 0);
    open_(RW, "link_in", 1, O_DIR_, RD, 0);
    open_(RW, "sub", 1, 0, WR, 0);
    open_(RW, "file.txt", 1, O_CREAT_ | O_EXCL_, WR, 0);
    open_(RW, "link_in", 1, O_CREAT_ | O_EXCL_, WR, 0);
    open_(RW, "dangling", 1, O_CREAT_, WR, 0);
    open_(RW, "../new.txt", 1, O_CREAT_, WR, 0);
    open_(RW, "/new.txt", 1, O_CREAT_, WR, 0);
    open_(RW, "link_out/new.txt", 1, O_CREAT_, WR, 0);
    open_(RW, "missing/new.txt", 1, O_CREAT_, WR, 0);
    open_(RW, "new.txt", 1, O_CREAT_ | O_DIR_, WR, 0);
    open_(RW, "file.txt", 1, O_TRUNC_, RD, 0);
    open_(1, "file.txt", 1, 0, RD, 0);
    open_(99, "file.txt", 1, 0, RD, 0);

    /* stat */
    static const char *stats[] = {"file.txt", "sub", ".", "..", "/", "../outside", "link_in",
                                  "link_out", "link_up", "dangling", "loop", "missing", "file.txt/"};
    for (size_t i = 0; i < sizeof stats / sizeof *stats; i++) {
        stat_(RW, stats[i], 1);
        stat_(RW, stats[i], 0);
    }

    /* directory and link operations: ordinary errors and escapes */
    CALL("mkdir file.txt", __wasi_path_create_directory(RW, "file.txt"));
    CALL("mkdir sub", __wasi_path_create_directory(RW, "sub"));
    CALL("mkdir ../x", __wasi_path_create_directory(RW, "../x"));
    CALL("mkdir /x", __wasi_path_create_directory(RW, "/x"));
    CALL("mkdir link_out/x", __wasi_path_create_directory(RW, "link_out/x"));
    CALL("mkdir missing/x", __wasi_path_create_directory(RW, "missing/x"));
    CALL("mkdir dangling", __wasi_path_create_directory(RW, "dangling"));
    CALL("mkdir .", __wasi_path_create_directory(RW, "."));
    CALL("rmdir sub", __wasi_path_remove_directory(RW, "sub"));
    CALL("rmdir file.txt", __wasi_path_remove_directory(RW, "file.txt"));
    CALL("rmdir missing", __wasi_path_remove_directory(RW, "missing"));
    CALL("rmdir ..", __wasi_path_remove_directory(RW, ".."));
    CALL("rmdir .", __wasi_path_remove_directory(RW, "."));
    CALL("rmdir link_in", __wasi_path_remove_directory(RW, "link_in"));
    CALL("rmdir ../outside", __wasi_path_remove_directory(RW, "../outside"));
    CALL("unlink sub", __wasi_path_unlink_file(RW, "sub"));
    CALL("unlink missing", __wasi_path_unlink_file(RW, "missing"));
    CALL("unlink ../outside/secret.txt", __wasi_path_unlink_file(RW, "../outside/secret.txt"));
    CALL("unlink link_up/", __wasi_path_unlink_file(RW, "link_up/"));
    CALL("unlink file.txt/", __wasi_path_unlink_file(RW, "file.txt/"));
    CALL("unlink /etc/passwd", __wasi_path_unlink_file(RW, "/etc/passwd"));
    CALL("rename file.txt ../stolen", __wasi_path_rename(RW, "file.txt", RW, "../stolen"));
    CALL("rename ../outside/secret.txt got", __wasi_path_rename(RW, "../outside/secret.txt", RW, "got"));
    CALL("rename missing x", __wasi_path_rename(RW, "missing", RW, "x"));
    CALL("rename sub file.txt", __wasi_path_rename(RW, "sub", RW, "file.txt"));
    CALL("rename file.txt sub", __wasi_path_rename(RW, "file.txt", RW, "sub"));
    CALL("rename empty sub", __wasi_path_rename(RW, "empty", RW, "sub"));
    CALL("rename file.txt link_out/x", __wasi_path_rename(RW, "file.txt", RW, "link_out/x"));
    CALL("link file.txt ../hard", __wasi_path_link(RW, 0, "file.txt", RW, "../hard"));
    CALL("link ../outside/secret.txt hard", __wasi_path_link(RW, 0, "../outside/secret.txt", RW, "hard"));
    CALL("link file.txt sub", __wasi_path_link(RW, 0, "file.txt", RW, "sub"));
    CALL("link sub sub2", __wasi_path_link(RW, 0, "sub", RW, "sub2"));
    CALL("link missing x", __wasi_path_link(RW, 0, "missing", RW, "x"));
    CALL("link link_out follow x", __wasi_path_link(RW, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "link_out", RW, "x"));
    CALL("symlink /etc/passwd abs", __wasi_path_symlink("/etc/passwd", RW, "abs"));
    CALL("symlink x ../sym", __wasi_path_symlink("x", RW, "../sym"));
    CALL("symlink x file.txt", __wasi_path_symlink("x", RW, "file.txt"));
    CALL("symlink ../outside up2", __wasi_path_symlink("../outside", RW, "up2"));
    CALL("unlink up2", __wasi_path_unlink_file(RW, "up2"));
    CALL("unlink abs", __wasi_path_unlink_file(RW, "abs"));
    {
        char buf[64];
        __wasi_size_t n = 0;
        static const char *links[] = {"link_out", "link_in", "dangling", "file.txt", "missing",
                                      "../outside", "sub/link_parent", "link_out/passwd"};
        for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
            __wasi_errno_t e = __wasi_path_readlink(RW, links[i], (uint8_t *)buf, sizeof buf, &n);
            char what[100];
            snprintf(what, sizeof what, "readlink %s", links[i]);
            if (e == 0)
                printf("%-44s 0 %.*s\n", what, (int)n, buf);
            else
                show(what, e);
        }
        CALL("readlink short buffer", __wasi_path_readlink(RW, "sub/link_parent", (uint8_t *)buf, 2, &n));
        printf("readlink short n %u\n", (unsigned)n);
    }
    CALL("utimes ../outside/secret.txt",
         __wasi_path_filestat_set_times(RW, 0, "../outside/secret.txt", 0, 0,
                                        __WASI_FSTFLAGS_MTIM_NOW));
    CALL("utimes link_out", __wasi_path_filestat_set_times(RW, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW,
                                                           "link_out", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));

    /* the read-only grant */
    open_(RO, "r.txt", 1, 0, RD, 0);
    open_(RO, "r.txt", 1, 0, WR, 0);
    open_(RO, "r.txt", 1, 0, RD, __WASI_FDFLAGS_APPEND);
    open_(RO, "r.txt", 1, O_TRUNC_, RD, 0);
    open_(RO, "new.txt", 1, O_CREAT_, RD, 0);
    open_(RO, "new.txt", 1, O_CREAT_, WR, 0);
    open_(RO, "rsub", 1, O_DIR_, RD, 0);
    CALL("ro mkdir x", __wasi_path_create_directory(RO, "x"));
    CALL("ro mkdir rsub", __wasi_path_create_directory(RO, "rsub"));
    CALL("ro rmdir rsub", __wasi_path_remove_directory(RO, "rsub"));
    CALL("ro unlink r.txt", __wasi_path_unlink_file(RO, "r.txt"));
    CALL("ro unlink missing", __wasi_path_unlink_file(RO, "missing"));
    CALL("ro rename r.txt r2", __wasi_path_rename(RO, "r.txt", RO, "r2.txt"));
    CALL("rename rw->ro", __wasi_path_rename(RW, "sub/inner.txt", RO, "inner.txt"));
    CALL("rename ro->rw", __wasi_path_rename(RO, "r.txt", RW, "r.txt"));
    CALL("ro link r.txt r2", __wasi_path_link(RO, 0, "r.txt", RO, "r2.txt"));
    CALL("link rw->ro", __wasi_path_link(RW, 0, "file.txt", RO, "f.txt"));
    CALL("ro symlink", __wasi_path_symlink("r.txt", RO, "s"));
    CALL("ro utimes r.txt", __wasi_path_filestat_set_times(RO, 0, "r.txt", 0, 0,
                                                             __WASI_FSTFLAGS_MTIM_NOW));
    {
        __wasi_fd_t fd;
        __wasi_errno_t e = __wasi_path_open(RO, 0, "r.txt", 0, RIGHTS_ALL, RIGHTS_ALL, 0, &fd);
        show("ro open rights all", e);
        if (e == 0) {
            char c = 'x';
            __wasi_ciovec_t v = {(const uint8_t *)&c, 1};
            __wasi_size_t n;
            CALL("ro write", __wasi_fd_write(fd, &v, 1, &n));
            CALL("ro pwrite", __wasi_fd_pwrite(fd, &v, 1, 0, &n));
            CALL("ro ftruncate", __wasi_fd_filestat_set_size(fd, 0));
            CALL("ro futimes", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
            CALL("ro allocate", __wasi_fd_allocate(fd, 0, 10));
            CALL("ro set append", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
            CALL("ro sync", __wasi_fd_sync(fd));
            CALL("ro datasync", __wasi_fd_datasync(fd));
            close_(fd);
        }
    }
    {
        /* a file opened for reading only, in the read-write grant */
        __wasi_fd_t fd;
        __wasi_errno_t e = __wasi_path_open(RW, 0, "file.txt", 0, RD, 0, 0, &fd);
        show("rw open read-only", e);
        char c = 'x';
        __wasi_ciovec_t v = {(const uint8_t *)&c, 1};
        __wasi_size_t n;
        CALL("write on read-only fd", __wasi_fd_write(fd, &v, 1, &n));
        CALL("ftruncate on read-only fd", __wasi_fd_filestat_set_size(fd, 0));
        CALL("readdir on a file", __wasi_fd_readdir(fd, (uint8_t *)&c, 1, 0, &n));
        close_(fd);
        CALL("close again", __wasi_fd_close(fd));
        e = __wasi_path_open(RW, 0, "file.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd);
        show("rw open write-only", e);
        __wasi_iovec_t rv = {(uint8_t *)&c, 1};
        CALL("read on write-only fd", __wasi_fd_read(fd, &rv, 1, &n));
        close_(fd);
        CALL("write on a dir fd", __wasi_fd_write(RW, &v, 1, &n));
        CALL("read on a dir fd", __wasi_fd_read(RW, &rv, 1, &n));
        __wasi_filesize_t off;
        CALL("seek on a dir fd", __wasi_fd_seek(RW, 0, __WASI_WHENCE_CUR, &off));
        CALL("read bad fd", __wasi_fd_read(77, &rv, 1, &n));
        CALL("close stdin dup", 0);
        CALL("renumber bad", __wasi_fd_renumber(77, 3));
        CALL("prestat of stdout", __wasi_fd_prestat_get(1, &(__wasi_prestat_t){0}));
        CALL("sock_shutdown", __wasi_sock_shutdown(1, __WASI_SDFLAGS_RD));
        CALL("sock_accept", __wasi_sock_accept(3, 0, &fd));
    }
    return 0;
}
