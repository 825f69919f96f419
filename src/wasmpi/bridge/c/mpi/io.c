/* MPI-IO: the special cases. docs/io.md has the design; in short:
 *  - a file name is a guest path: MPI_File_open resolves it through the sandbox's grants
 *    (core/sandbox.c) to a descriptor, and the host MPI opens "/proc/self/fd/N", a name that
 *    nothing can redirect. The amode bits that act on the name (CREATE, EXCL,
 *    DELETE_ON_CLOSE) are the bridge's, never the host's; APPEND and SEQUENTIAL too, because
 *    the shared file pointer is the bridge's;
 *  - the shared file pointer lives in the bridge: an MPI_Offset in a small window at rank 0 of
 *    the file's group, claimed with MPI_Fetch_and_op; shared and ordered reads and writes are
 *    explicit-offset calls at the claimed offset. The hosts' own shared file pointers derive
 *    helper files from the name (ROMIO: ".NAME.shfp.*", OMPIO: "NAME-*.lock"), which neither
 *    works with a /proc name nor would stay inside the grants;
 *  - errors of a file call go to the file's error handler; errors of MPI_File_open,
 *    MPI_File_delete and calls on a bad handle to MPI_FILE_NULL's (MPI_ERRORS_RETURN unless the
 *    guest changes it), which new files inherit. */
#include "bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int32_t amode;       /* the guest's */
    int fd;              /* the descriptor the host's name refers to; open until close */
    int dirfd;           /* DELETE_ON_CLOSE (rank 0 of the group): directory and name */
    char *last;
    MPI_Comm comm;       /* a duplicate of the open's communicator, for the bridge's collectives */
    MPI_Win win;         /* the shared file pointer (etype units, at rank 0), in a lock_all epoch */
    MPI_Count etype_size;
    int split;           /* pending split collective: 0 none, 1 the host's own, 2 ordered */
    void *split_buf;     /* the buffer of the pending begin (checked there) */
} file_t;

int in_whence(int x)
{
    switch (x) {
    case ABI_SEEK_SET: return MPI_SEEK_SET;
    case ABI_SEEK_CUR: return MPI_SEEK_CUR;
    case ABI_SEEK_END: return MPI_SEEK_END;
    }
    return -1; /* the host refuses it: MPI_ERR_ARG */
}

void init_io(void)
{
    slot_t *s = lookup(K_FILE, ABI_FILE_NULL);
    if (s)
        s->eh = ABI_ERRORS_RETURN; /* the standard's default for files */
}

#define FILE_ARG(var, idx) \
    OBJ_ARG(K_FILE, file, var, sl_##var, idx); \
    file_t *f_##var = (file_t *)sl_##var->state

/* ---- open, close, delete ---------------------------------------------------------------- */

static int host_amode(int32_t m)
{
    int h = 0;
    if (m & ABI_MODE_RDONLY) h |= MPI_MODE_RDONLY;
    if (m & ABI_MODE_WRONLY) h |= MPI_MODE_WRONLY;
    if (m & ABI_MODE_RDWR) h |= MPI_MODE_RDWR;
    if (m & ABI_MODE_UNIQUE_OPEN) h |= MPI_MODE_UNIQUE_OPEN;
    return h;
}

static int amode_class(int32_t m)
{
    const int32_t known = ABI_MODE_RDONLY | ABI_MODE_WRONLY | ABI_MODE_RDWR | ABI_MODE_CREATE |
                          ABI_MODE_EXCL | ABI_MODE_DELETE_ON_CLOSE | ABI_MODE_UNIQUE_OPEN |
                          ABI_MODE_SEQUENTIAL | ABI_MODE_APPEND;
    int acc = !!(m & ABI_MODE_RDONLY) + !!(m & ABI_MODE_WRONLY) + !!(m & ABI_MODE_RDWR);
    if ((m & ~known) || acc != 1)
        return ABI_ERR_AMODE;
    if ((m & ABI_MODE_RDONLY) && (m & (ABI_MODE_CREATE | ABI_MODE_EXCL)))
        return ABI_ERR_AMODE;
    if ((m & ABI_MODE_RDWR) && (m & ABI_MODE_SEQUENTIAL))
        return ABI_ERR_AMODE;
    return 0;
}

static int open_flags(int32_t m)
{
    int fl = (m & ABI_MODE_RDONLY) ? O_RDONLY : (m & ABI_MODE_WRONLY) ? O_WRONLY : O_RDWR;
    return fl;
}

static void file_state_free(file_t *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    if (f->dirfd >= 0)
        close(f->dirfd);
    free(f->last);
    free(f);
}

/* The shared file pointer's window, initialized to `start` (at rank 0), and the duplicate
 * communicator, both collective over the file's group. */
static int shared_init(file_t *f, MPI_Comm comm, MPI_Offset start)
{
    int rank, rc = MPI_Comm_dup(comm, &f->comm);
    if (rc != MPI_SUCCESS)
        return rc;
    MPI_Comm_set_errhandler(f->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(f->comm, &rank);
    MPI_Offset *base = NULL;
    rc = MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(MPI_Offset) : 0, sizeof(MPI_Offset),
                          MPI_INFO_NULL, f->comm, &base, &f->win);
    if (rc != MPI_SUCCESS)
        return rc;
    MPI_Win_set_errhandler(f->win, MPI_ERRORS_RETURN);
    if (rank == 0)
        *base = start;
    rc = MPI_Win_lock_all(MPI_MODE_NOCHECK, f->win);
    if (rc == MPI_SUCCESS)
        rc = MPI_Barrier(f->comm); /* nobody claims before rank 0 stored the start */
    return rc;
}

static void shared_free(file_t *f)
{
    if (f->win != MPI_WIN_NULL) {
        MPI_Win_unlock_all(f->win);
        MPI_Win_free(&f->win);
    }
    if (f->comm != MPI_COMM_NULL)
        MPI_Comm_free(&f->comm);
}

/* Rank 0 of the communicator decides an exclusive create (O_EXCL) alone, the others open what
 * it made: MPI_MODE_EXCL is one create for the whole group. Every rank then learns the worst
 * outcome, so that either all ranks open the file in the host MPI or none does. */
static int resolve_open(MPI_Comm comm, int rank, const char *path, int32_t amode, file_t *f)
{
    int fl = open_flags(amode), cls = amode_class(amode);
    if (!cls && (amode & ABI_MODE_DELETE_ON_CLOSE)) {
        int ro = 0;
        char last[NAME_MAX + 1];
        cls = sandbox_open_parent(path, &f->dirfd, last, sizeof last, &ro);
        if (!cls && ro)
            cls = ABI_ERR_READ_ONLY; /* closing would delete it */
        if (!cls && rank == 0 && !(f->last = strdup(last)))
            cls = ABI_ERR_NO_MEM;
    }
    if (amode & ABI_MODE_EXCL) {
        int first = cls;
        if (rank == 0 && !first)
            first = sandbox_open(path, fl | O_CREAT | O_EXCL, 0666, &f->fd);
        MPI_Bcast(&first, 1, MPI_INT, 0, comm);
        if (first)
            cls = first;
        else if (rank != 0)
            cls = sandbox_open(path, fl, 0, &f->fd);
    } else if (!cls) {
        cls = sandbox_open(path, fl | ((amode & ABI_MODE_CREATE) ? O_CREAT : 0), 0666, &f->fd);
    }
    if (!cls && f->fd >= 0) {
        struct stat st;
        if (fstat(f->fd, &st) == 0 && S_ISDIR(st.st_mode))
            cls = ABI_ERR_BAD_FILE;
    }
    int worst = cls;
    MPI_Allreduce(&cls, &worst, 1, MPI_INT, MPI_MAX, comm);
    return cls ? cls : worst;
}

CALLBACK(MPI_File_open)
{
#define FN "MPI_File_open"
    int32_t errslot = null_errslot(K_FILE);
    slot_t *cs = lookup(K_COMM, a[0].i32);
    if (!cs || cs->guest == ABI_COMM_NULL || cs->rsize)
        return fail(a, ABI_ERR_COMM, errslot, FN);
    MPI_Comm comm = cs->h.comm;
    const char *path;
    CHECK_STR(path, a[1].i32);
    int32_t amode = a[2].i32;
    HANDLE_ARG(K_INFO, info, info, si, 3);
    uint32_t fhp = (uint32_t)a[4].i32;
    CHECK_OUT(fhp, 4);
    file_t *f = calloc(1, sizeof *f);
    if (!f)
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    f->fd = f->dirfd = -1;
    f->comm = MPI_COMM_NULL;
    f->win = MPI_WIN_NULL;
    f->amode = amode;
    f->etype_size = 1;
    int cls = resolve_open(comm, cs->rank, path, amode, f);
    if (cls) {
        file_state_free(f);
        return fail(a, cls, errslot, FN);
    }
    char name[32];
    snprintf(name, sizeof name, "/proc/self/fd/%d", f->fd);
    MPI_File fh = MPI_FILE_NULL;
    int rc = MPI_File_open(comm, name, host_amode(amode), info, &fh);
    MPI_Offset start = 0;
    if (rc == MPI_SUCCESS) {
        MPI_File_set_errhandler(fh, MPI_ERRORS_RETURN);
        if (amode & ABI_MODE_APPEND) { /* both file pointers start at the end */
            rc = MPI_File_seek(fh, 0, MPI_SEEK_END);
            if (rc == MPI_SUCCESS)
                rc = MPI_File_get_position(fh, &start);
        }
    }
    if (rc == MPI_SUCCESS)
        rc = shared_init(f, comm, start);
    if (rc != MPI_SUCCESS) {
        shared_free(f);
        if (fh != MPI_FILE_NULL)
            MPI_File_close(&fh);
        file_state_free(f);
        return done(a, rc, errslot, FN);
    }
    int32_t idx;
    slot_t *s = slot_alloc(K_FILE, &idx);
    s->h.file = fh;
    s->state = f;
    slot_t *null = lookup(K_FILE, ABI_FILE_NULL);
    s->eh = null ? null->eh : ABI_ERRORS_RETURN;
    store_i32(fhp, s->guest);
    return ok(a);
#undef FN
}

CALLBACK(MPI_File_close)
{
#define FN "MPI_File_close"
    uint32_t fhp = (uint32_t)a[0].i32;
    int32_t errslot = null_errslot(K_FILE);
    CHECK_OUT(fhp, 4);
    slot_t *s = lookup(K_FILE, load_i32(fhp));
    if (!s || s->predefined)
        return fail(a, ABI_ERR_FILE, errslot, FN);
    errslot = OBJ_ERRSLOT(K_FILE, s);
    file_t *f = s->state;
    int rc = MPI_File_close(&s->h.file);
    if (rc != MPI_SUCCESS)
        return done(a, rc, errslot, FN);
    shared_free(f);
    int cls = 0;
    if (f->last && f->dirfd >= 0 && unlinkat(f->dirfd, f->last, 0) != 0)
        cls = ABI_ERR_IO;
    file_state_free(f);
    s->state = NULL;
    slot_free(K_FILE, s);
    store_i32(fhp, ABI_FILE_NULL);
    if (cls)
        return fail(a, cls, null_errslot(K_FILE), FN);
    return ok(a);
#undef FN
}

CALLBACK(MPI_File_delete)
{
#define FN "MPI_File_delete"
    int32_t errslot = null_errslot(K_FILE);
    const char *path;
    CHECK_STR(path, a[0].i32);
    HANDLE_ARG(K_INFO, info, info, si, 1);
    (void)info;
    int cls = sandbox_unlink(path);
    return cls ? fail(a, cls, errslot, FN) : ok(a);
#undef FN
}

/* The bridge's own: OMPIO 5.0's preallocate lets each rank decide from the file's size
 * whether to take part in its last collective while rank 0 is already extending the file, so
 * ranks can leave it at different points and the job hangs. Here rank 0 extends the file
 * through the descriptor it opened (posix_fallocate never shrinks it nor changes data). */
CALLBACK(MPI_File_preallocate)
{
#define FN "MPI_File_preallocate"
    FILE_ARG(fh, 0);
    (void)fh;
    MPI_Offset size = (MPI_Offset)a[1].i64;
    if (size < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    int rank, cls = 0, rc = MPI_Barrier(f_fh->comm); /* after every rank's earlier writes */
    MPI_Comm_rank(f_fh->comm, &rank);
    if (rc == MPI_SUCCESS && rank == 0) {
        int e = (f_fh->amode & ABI_MODE_RDONLY) ? EBADF : posix_fallocate(f_fh->fd, 0, size);
        cls = !e ? 0 : e == EBADF ? ABI_ERR_ACCESS : e == ENOSPC ? ABI_ERR_NO_SPACE
                                                    : e == EDQUOT ? ABI_ERR_QUOTA : ABI_ERR_IO;
    }
    if (rc == MPI_SUCCESS)
        rc = MPI_Bcast(&cls, 1, MPI_INT, 0, f_fh->comm);
    if (rc == MPI_SUCCESS && cls)
        return fail(a, cls, errslot, FN);
    return done(a, rc, errslot, FN);
#undef FN
}

CALLBACK(MPI_File_get_amode)
{
#define FN "MPI_File_get_amode"
    FILE_ARG(fh, 0);
    (void)fh;
    CHECK_OUT(a[1].i32, 4);
    store_i32((uint32_t)a[1].i32, f_fh->amode);
    return ok(a);
#undef FN
}

/* ---- views -------------------------------------------------------------------------------- */

/* Data representations the guest registered. The bridge keeps them to itself: a view with one
 * of them is refused (MPI_ERR_UNSUPPORTED_DATAREP, as ROMIO refuses any but the predefined
 * three), so the host never calls a conversion function and no guest callback runs. */
static char **g_dreps;
static int g_ndreps;

static int is_predefined_datarep(const char *d)
{
    return !strcmp(d, "native") || !strcmp(d, "internal") || !strcmp(d, "external32");
}

static int user_datarep(const char *d)
{
    for (int i = 0; i < g_ndreps; i++)
        if (!strcmp(g_dreps[i], d))
            return 1;
    return 0;
}

CALLBACK(MPI_Register_datarep)
{
#define FN "MPI_Register_datarep"
    int32_t errslot = null_errslot(K_FILE); /* an I/O error without a file */
    const char *d;
    CHECK_STR(d, a[0].i32);
    if (!*d || strlen(d) >= ABI_MAX_DATAREP_STRING)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    if (is_predefined_datarep(d) || user_datarep(d))
        return fail(a, ABI_ERR_DUP_DATAREP, errslot, FN);
    char **more = realloc(g_dreps, (size_t)(g_ndreps + 1) * sizeof *more);
    char *copy = strdup(d);
    if (!more || !copy) {
        free(copy);
        if (more)
            g_dreps = more;
        return fail(a, ABI_ERR_NO_MEM, errslot, FN);
    }
    g_dreps = more;
    g_dreps[g_ndreps++] = copy;
    return ok(a);
#undef FN
}

/* Set the shared file pointer to `pos` (rank 0), between two barriers: every claim that
 * precedes the collective call in some rank's program order is done before, none that
 * follows it starts before. */
static int shared_set(file_t *f, MPI_Offset pos)
{
    int rank, rc = MPI_Barrier(f->comm);
    MPI_Comm_rank(f->comm, &rank);
    if (rc == MPI_SUCCESS && rank == 0) {
        MPI_Offset old;
        rc = MPI_Fetch_and_op(&pos, &old, MPI_INT64_T, 0, 0, MPI_REPLACE, f->win);
        if (rc == MPI_SUCCESS)
            rc = MPI_Win_flush(0, f->win);
    }
    if (rc == MPI_SUCCESS)
        rc = MPI_Barrier(f->comm);
    return rc;
}

CALLBACK(MPI_File_set_view)
{
#define FN "MPI_File_set_view"
    FILE_ARG(fh, 0);
    MPI_Offset disp = (MPI_Offset)a[1].i64;
    if (disp == ABI_DISPLACEMENT_CURRENT)
        disp = MPI_DISPLACEMENT_CURRENT;
    HANDLE_ARG(K_DATATYPE, datatype, etype, se, 2);
    HANDLE_ARG(K_DATATYPE, datatype, ftype, sf, 3);
    const char *drep;
    CHECK_STR(drep, a[4].i32);
    HANDLE_ARG(K_INFO, info, info, si, 5);
    if (user_datarep(drep))
        return fail(a, ABI_ERR_UNSUPPORTED_DATAREP, errslot, FN);
    int rc = MPI_File_set_view(fh, disp, etype, ftype, drep, info);
    if (rc == MPI_SUCCESS) {
        MPI_Count sz = 1;
        MPI_Type_size_x(etype, &sz);
        f_fh->etype_size = sz > 0 ? sz : 1;
        rc = shared_set(f_fh, 0);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* a datatype the host returned: the predefined guest handle, or a new one the guest frees */
static int32_t returned_type(MPI_Datatype t)
{
    int ni, na, nd, comb;
    if (MPI_Type_get_envelope(t, &ni, &na, &nd, &comb) == MPI_SUCCESS && comb == MPI_COMBINER_NAMED)
        return guest_of(K_DATATYPE, (host_h){.datatype = t});
    return new_handle(K_DATATYPE, (host_h){.datatype = t});
}

CALLBACK(MPI_File_get_view)
{
#define FN "MPI_File_get_view"
    OBJ_ARG(K_FILE, file, fh, sl_fh, 0);
    uint32_t pd = (uint32_t)a[1].i32, pe = (uint32_t)a[2].i32, pf = (uint32_t)a[3].i32,
             pr = (uint32_t)a[4].i32;
    CHECK_OUT(pd, 8);
    CHECK_OUT(pe, 4);
    CHECK_OUT(pf, 4);
    CHECK_OUT(pr, ABI_MAX_DATAREP_STRING);
    MPI_Offset disp;
    MPI_Datatype et, ft;
    char rep[MPI_MAX_DATAREP_STRING + 1];
    rep[0] = 0;
    int rc = MPI_File_get_view(fh, &disp, &et, &ft, rep);
    if (rc == MPI_SUCCESS) {
        store_i64(pd, disp);
        store_i32(pe, returned_type(et));
        store_i32(pf, returned_type(ft));
        put_string(pr, rep, ABI_MAX_DATAREP_STRING);
    }
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- the shared file pointer ---------------------------------------------------------------- */

/* etypes in `count` elements of `type` (whole etypes only, as the view requires) */
static int etypes_of(const file_t *f, int count, MPI_Datatype type, MPI_Offset *n)
{
    MPI_Count sz = 0;
    if (count < 0)
        return ABI_ERR_COUNT;
    if (MPI_Type_size_x(type, &sz) != MPI_SUCCESS)
        return ABI_ERR_TYPE;
    MPI_Offset bytes = (MPI_Offset)count * sz;
    if (bytes % f->etype_size)
        return ABI_ERR_ARG;
    *n = bytes / f->etype_size;
    return 0;
}

/* claim `n` etypes at the shared file pointer: *at gets where they start */
static int shared_claim(file_t *f, MPI_Offset n, MPI_Offset *at)
{
    int rc = MPI_Fetch_and_op(&n, at, MPI_INT64_T, 0, 0, n ? MPI_SUM : MPI_NO_OP, f->win);
    return rc == MPI_SUCCESS ? MPI_Win_flush(0, f->win) : rc;
}

/* the ordered calls' offsets: ranks claim in rank order, all at once. The reduction cannot
 * complete at rank 0 before every rank has entered the call, so claims that precede it in
 * any rank's program order come first. */
static int ordered_claim(file_t *f, MPI_Offset n, MPI_Offset *at)
{
    MPI_Offset before = 0, total = 0, base = 0;
    int rank;
    MPI_Comm_rank(f->comm, &rank);
    int rc = MPI_Exscan(&n, &before, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (rc == MPI_SUCCESS)
        rc = MPI_Allreduce(&n, &total, 1, MPI_INT64_T, MPI_SUM, f->comm);
    if (rc == MPI_SUCCESS && rank == 0)
        rc = shared_claim(f, total, &base);
    if (rc == MPI_SUCCESS)
        rc = MPI_Bcast(&base, 1, MPI_INT64_T, 0, f->comm);
    *at = base + (rank == 0 ? 0 : before);
    return rc;
}

/* buffer and count arguments of a read/write at a[1..3] */
#define RW_ARGS() \
    int count = a[2].i32; \
    HANDLE_ARG(K_DATATYPE, datatype, type, st, 3); \
    BUF(buf, 1, count, st, 0)

/* a[0] fh, a[1] buf, a[2] count, a[3] datatype, a[4] status */
#define SHARED_RW(NAME, HOSTCALL, ORDERED) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        RW_ARGS(); \
        STATUS_ARG(sts, 4); \
        MPI_Offset n = 0, at = 0; \
        int cls = etypes_of(f_fh, count, type, &n); \
        if (cls) \
            return fail(a, cls, errslot, FN); \
        int rc = ORDERED ? ordered_claim(f_fh, n, &at) : shared_claim(f_fh, n, &at); \
        if (rc == MPI_SUCCESS) \
            rc = HOSTCALL(fh, at, buf, count, type, sts ? sts : MPI_STATUS_IGNORE); \
        STATUS_DONE(sts, rc); \
        return done(a, rc, errslot, FN); \
    }

#define FN fn_
SHARED_RW(MPI_File_read_shared, MPI_File_read_at, 0)
SHARED_RW(MPI_File_write_shared, MPI_File_write_at, 0)
SHARED_RW(MPI_File_read_ordered, MPI_File_read_at_all, 1)
SHARED_RW(MPI_File_write_ordered, MPI_File_write_at_all, 1)

/* a[0] fh, a[1] buf, a[2] count, a[3] datatype, a[4] request */
#define SHARED_IRW(NAME, HOSTCALL) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        RW_ARGS(); \
        uint32_t rp = (uint32_t)a[4].i32; \
        CHECK_OUT(rp, 4); \
        MPI_Offset n = 0, at = 0; \
        int cls = etypes_of(f_fh, count, type, &n); \
        if (cls) \
            return fail(a, cls, errslot, FN); \
        MPI_Request r = MPI_REQUEST_NULL; \
        int rc = shared_claim(f_fh, n, &at); \
        if (rc == MPI_SUCCESS) \
            rc = HOSTCALL(fh, at, buf, count, type, &r); \
        if (rc == MPI_SUCCESS) \
            store_i32(rp, new_request(r, errslot)); \
        return done(a, rc, errslot, FN); \
    }

SHARED_IRW(MPI_File_iread_shared, MPI_File_iread_at)
SHARED_IRW(MPI_File_iwrite_shared, MPI_File_iwrite_at)
#undef FN

CALLBACK(MPI_File_get_position_shared)
{
#define FN "MPI_File_get_position_shared"
    FILE_ARG(fh, 0);
    (void)fh;
    CHECK_OUT(a[1].i32, 8);
    MPI_Offset at = 0;
    int rc = shared_claim(f_fh, 0, &at);
    if (rc == MPI_SUCCESS)
        store_i64((uint32_t)a[1].i32, at);
    return done(a, rc, errslot, FN);
#undef FN
}

/* The view position of the end of the file: the first etype of the view that starts at or
 * after it (a view's displacements never decrease, so a binary search through the host's own
 * position -> byte map finds it). OMPIO's SEEK_END counts the view's holes as etypes. */
static int view_end(MPI_File fh, const file_t *f, MPI_Offset *end)
{
    MPI_Offset size = 0, disp = 0, byte = 0;
    MPI_Datatype et, ft;
    char rep[MPI_MAX_DATAREP_STRING + 1];
    int rc = MPI_File_get_size(fh, &size);
    if (rc == MPI_SUCCESS)
        rc = MPI_File_get_view(fh, &disp, &et, &ft, rep);
    if (rc != MPI_SUCCESS)
        return rc;
    int ni, na, nd, comb;
    MPI_Type_get_envelope(ft, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED)
        MPI_Type_free(&ft);
    MPI_Type_get_envelope(et, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_NAMED)
        MPI_Type_free(&et);
    MPI_Offset lo = 0, hi = size > disp ? (size - disp) / f->etype_size + 1 : 0;
    while (lo < hi) {
        MPI_Offset mid = lo + (hi - lo) / 2;
        rc = MPI_File_get_byte_offset(fh, mid, &byte);
        if (rc != MPI_SUCCESS)
            return rc;
        if (byte >= size)
            hi = mid;
        else
            lo = mid + 1;
    }
    *end = lo;
    return MPI_SUCCESS;
}

CALLBACK(MPI_File_seek_shared)
{
#define FN "MPI_File_seek_shared"
    FILE_ARG(fh, 0);
    MPI_Offset off = (MPI_Offset)a[1].i64, pos = 0;
    int whence = a[2].i32, rc = MPI_SUCCESS;
    if (whence == ABI_SEEK_SET) {
        pos = off;
    } else if (whence == ABI_SEEK_CUR) {
        /* between barriers: every earlier claim is counted, as shared_set orders them */
        rc = MPI_Barrier(f_fh->comm);
        if (rc == MPI_SUCCESS)
            rc = shared_claim(f_fh, 0, &pos);
        if (rc == MPI_SUCCESS)
            rc = MPI_Bcast(&pos, 1, MPI_INT64_T, 0, f_fh->comm);
        pos += off;
    } else if (whence == ABI_SEEK_END) {
        rc = view_end(fh, f_fh, &pos);
        pos += off;
    } else {
        return fail(a, ABI_ERR_ARG, errslot, FN);
    }
    if (rc == MPI_SUCCESS && pos < 0)
        return fail(a, ABI_ERR_ARG, errslot, FN);
    if (rc == MPI_SUCCESS)
        rc = shared_set(f_fh, pos);
    return done(a, rc, errslot, FN);
#undef FN
}

/* ---- split collectives: the end gets the begin's (checked) buffer ---------------------------- */

#define SPLIT_BEGIN(NAME, HOSTCALL) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        RW_ARGS(); \
        int rc = HOSTCALL(fh, buf, count, type); \
        if (rc == MPI_SUCCESS) { \
            f_fh->split = 1; \
            f_fh->split_buf = buf; \
        } \
        return done(a, rc, errslot, FN); \
    }
/* the explicit-offset ones: a[1] offset, then buf, count, datatype */
#define SPLIT_BEGIN_AT(NAME, HOSTCALL) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        MPI_Offset off = (MPI_Offset)a[1].i64; \
        int count = a[3].i32; \
        HANDLE_ARG(K_DATATYPE, datatype, type, st, 4); \
        BUF(buf, 2, count, st, 0); \
        int rc = HOSTCALL(fh, off, buf, count, type); \
        if (rc == MPI_SUCCESS) { \
            f_fh->split = 1; \
            f_fh->split_buf = buf; \
        } \
        return done(a, rc, errslot, FN); \
    }
#define SPLIT_BEGIN_ORDERED(NAME, HOSTCALL) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        RW_ARGS(); \
        MPI_Offset n = 0, at = 0; \
        int cls = etypes_of(f_fh, count, type, &n); \
        if (cls) \
            return fail(a, cls, errslot, FN); \
        int rc = ordered_claim(f_fh, n, &at); \
        if (rc == MPI_SUCCESS) \
            rc = HOSTCALL(fh, at, buf, count, type); \
        if (rc == MPI_SUCCESS) { \
            f_fh->split = 2; \
            f_fh->split_buf = buf; \
        } \
        return done(a, rc, errslot, FN); \
    }
/* a[0] fh, a[1] buf (the begin's is used), a[2] status */
#define SPLIT_END(NAME, HOSTCALL) \
    CALLBACK(NAME) \
    { \
        const char *fn_ = #NAME; \
        FILE_ARG(fh, 0); \
        STATUS_ARG(sts, 2); \
        int rc = HOSTCALL(fh, f_fh->split_buf, sts ? sts : MPI_STATUS_IGNORE); \
        if (rc == MPI_SUCCESS) { \
            f_fh->split = 0; \
            f_fh->split_buf = NULL; \
        } \
        STATUS_DONE(sts, rc); \
        return done(a, rc, errslot, FN); \
    }

#define FN fn_
SPLIT_BEGIN(MPI_File_read_all_begin, MPI_File_read_all_begin)
SPLIT_BEGIN(MPI_File_write_all_begin, MPI_File_write_all_begin)
SPLIT_BEGIN_AT(MPI_File_read_at_all_begin, MPI_File_read_at_all_begin)
SPLIT_BEGIN_AT(MPI_File_write_at_all_begin, MPI_File_write_at_all_begin)
SPLIT_BEGIN_ORDERED(MPI_File_read_ordered_begin, MPI_File_read_at_all_begin)
SPLIT_BEGIN_ORDERED(MPI_File_write_ordered_begin, MPI_File_write_at_all_begin)
SPLIT_END(MPI_File_read_all_end, MPI_File_read_all_end)
SPLIT_END(MPI_File_write_all_end, MPI_File_write_all_end)
SPLIT_END(MPI_File_read_at_all_end, MPI_File_read_at_all_end)
SPLIT_END(MPI_File_write_at_all_end, MPI_File_write_at_all_end)
/* an ordered begin was an explicit-offset begin in the host */
SPLIT_END(MPI_File_read_ordered_end, MPI_File_read_at_all_end)
SPLIT_END(MPI_File_write_ordered_end, MPI_File_write_at_all_end)
#undef FN

/* ---- error handlers of files ------------------------------------------------------------------ */

/* the file at a[0], which may be MPI_FILE_NULL (the default handler of new files) */
#define FILE_OR_NULL(sv) \
    int32_t errslot = null_errslot(K_FILE); \
    slot_t *sv = lookup(K_FILE, a[0].i32); \
    if (!sv) \
        return fail(a, ABI_ERR_FILE, errslot, FN); \
    errslot = OBJ_ERRSLOT(K_FILE, sv)

CALLBACK(MPI_File_set_errhandler)
{
#define FN "MPI_File_set_errhandler"
    FILE_OR_NULL(s);
    return errhandler_set(a, s, K_FILE, errslot, FN);
#undef FN
}

CALLBACK(MPI_File_get_errhandler)
{
#define FN "MPI_File_get_errhandler"
    FILE_OR_NULL(s);
    return errhandler_get(a, s, FN);
#undef FN
}

CALLBACK(MPI_File_call_errhandler)
{
#define FN "MPI_File_call_errhandler"
    FILE_OR_NULL(s);
    (void)s;
    return errhandler_call(a, errslot, FN);
#undef FN
}
