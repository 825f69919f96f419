/* MPI-IO through the sandbox's grants.
 *
 *   io conformance DIR      every access method (explicit offset, individual and shared file
 *                           pointers; blocking, nonblocking, collective, split collective)
 *                           writes through a strided view and reads back; views, positions,
 *                           sizes, amodes, atomicity, error handlers, data representations.
 *                           Files stay in DIR as METHOD_pP_TAG.dat for the host to check: in
 *                           "per-rank" files int i holds BASE + i; shared files see io test.
 *   io escape DATA RO OUT   paths that leave the grants (.., absolute host paths, symlinks)
 *                           and write access under the read-only grant RO are refused.
 *   io race DATA N          N rounds of open/create/write/delete through DATA/race/dir/victim
 *                           and DATA/race/flink while the host swaps those symlinks.
 */
#include <mpi.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conformance.h"

static const char *dir;
static int seq; /* cases run in the same order everywhere: a file name per case and comm */

enum { B = 4, K = 3 };         /* blocks of 2 ints per tile and rank; tiles per rank */
enum { PER = 2 * B * K };      /* ints per rank */

/* A name unique to this call of a case on this communicator: the tag says which. */
static void file_name(MPI_Comm comm, const char *method, char *out, size_t cap)
{
    int size, wrank, leader, csize;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(comm, &csize);
    leader = wrank;
    MPI_Bcast(&leader, 1, MPI_INT, 0, comm);
    MPI_Comm_size(MPI_COMM_WORLD, &csize);
    snprintf(out, cap, "%s/%s_p%d_c%d_l%d.dat", dir, method, size, seq, leader);
}

/* rank r's view: ints, blocks of 2 at r*2 in tiles of 2*B*size ints */
static MPI_Datatype strided(int size)
{
    MPI_Datatype v, t;
    MPI_Type_vector(B, 2, 2 * size, MPI_INT, &v);
    MPI_Type_create_resized(v, 0, (MPI_Aint)(2 * B * size * sizeof(int)), &t);
    MPI_Type_commit(&t);
    MPI_Type_free(&v);
    return t;
}

/* the file index of element j of rank r's view */
static int where(int j, int r, int size)
{
    int t = j / (2 * B), q = j % (2 * B);
    return t * 2 * B * size + (q / 2) * 2 * size + r * 2 + q % 2;
}

static int base_of(const char *method)
{
    int h = 0;
    for (const char *c = method; *c; c++)
        h = (h * 31 + *c) % 1000;
    return 1000000 * (1 + h % 7) + h * 1000;
}

typedef struct {
    const char *name;
    int (*write)(MPI_File, int *, int, int);   /* (fh, data, n, first element index) */
    int (*read)(MPI_File, int *, int, int);
} method_t;

static int w_at(MPI_File f, int *d, int n, int at) { return MPI_File_write_at(f, at, d, n, MPI_INT, MPI_STATUS_IGNORE); }
static int r_at(MPI_File f, int *d, int n, int at) { return MPI_File_read_at(f, at, d, n, MPI_INT, MPI_STATUS_IGNORE); }
static int w_ind(MPI_File f, int *d, int n, int at) { MPI_Status s; int c = -1, rc = MPI_File_write(f, d, n, MPI_INT, &s); MPI_Get_count(&s, MPI_INT, &c); (void)at; return rc ? rc : c == n ? 0 : -1; }
static int r_ind(MPI_File f, int *d, int n, int at) { MPI_Status s; int c = -1, rc = MPI_File_read(f, d, n, MPI_INT, &s); MPI_Get_count(&s, MPI_INT, &c); (void)at; return rc ? rc : c == n ? 0 : -1; }
static int w_at_all(MPI_File f, int *d, int n, int at) { return MPI_File_write_at_all(f, at, d, n, MPI_INT, MPI_STATUS_IGNORE); }
static int r_at_all(MPI_File f, int *d, int n, int at) { return MPI_File_read_at_all(f, at, d, n, MPI_INT, MPI_STATUS_IGNORE); }
static int w_all(MPI_File f, int *d, int n, int at) { (void)at; return MPI_File_write_all(f, d, n, MPI_INT, MPI_STATUS_IGNORE); }
static int r_all(MPI_File f, int *d, int n, int at) { (void)at; return MPI_File_read_all(f, d, n, MPI_INT, MPI_STATUS_IGNORE); }
#define WAITED(call) do { MPI_Request r_; int rc_ = (call); if (rc_) return rc_; return MPI_Wait(&r_, MPI_STATUS_IGNORE); } while (0)
static int w_iat(MPI_File f, int *d, int n, int at) { WAITED(MPI_File_iwrite_at(f, at, d, n, MPI_INT, &r_)); }
static int r_iat(MPI_File f, int *d, int n, int at) { WAITED(MPI_File_iread_at(f, at, d, n, MPI_INT, &r_)); }
static int w_i(MPI_File f, int *d, int n, int at) { (void)at; WAITED(MPI_File_iwrite(f, d, n, MPI_INT, &r_)); }
static int r_i(MPI_File f, int *d, int n, int at) { (void)at; WAITED(MPI_File_iread(f, d, n, MPI_INT, &r_)); }
static int w_iat_all(MPI_File f, int *d, int n, int at) { WAITED(MPI_File_iwrite_at_all(f, at, d, n, MPI_INT, &r_)); }
static int r_iat_all(MPI_File f, int *d, int n, int at) { WAITED(MPI_File_iread_at_all(f, at, d, n, MPI_INT, &r_)); }
static int w_iall(MPI_File f, int *d, int n, int at) { (void)at; WAITED(MPI_File_iwrite_all(f, d, n, MPI_INT, &r_)); }
static int r_iall(MPI_File f, int *d, int n, int at) { (void)at; WAITED(MPI_File_iread_all(f, d, n, MPI_INT, &r_)); }
static int w_sat(MPI_File f, int *d, int n, int at)
{
    int rc = MPI_File_write_at_all_begin(f, at, d, n, MPI_INT);
    return rc ? rc : MPI_File_write_at_all_end(f, d, MPI_STATUS_IGNORE);
}
static int r_sat(MPI_File f, int *d, int n, int at)
{
    int rc = MPI_File_read_at_all_begin(f, at, d, n, MPI_INT);
    return rc ? rc : MPI_File_read_at_all_end(f, d, MPI_STATUS_IGNORE);
}
static int w_sall(MPI_File f, int *d, int n, int at)
{
    (void)at;
    int rc = MPI_File_write_all_begin(f, d, n, MPI_INT);
    return rc ? rc : MPI_File_write_all_end(f, d, MPI_STATUS_IGNORE);
}
static int r_sall(MPI_File f, int *d, int n, int at)
{
    (void)at;
    int rc = MPI_File_read_all_begin(f, d, n, MPI_INT);
    return rc ? rc : MPI_File_read_all_end(f, d, MPI_STATUS_IGNORE);
}

static const method_t methods[] = {
    {"at", w_at, r_at}, {"ind", w_ind, r_ind}, {"at_all", w_at_all, r_at_all},
    {"all", w_all, r_all}, {"iat", w_iat, r_iat}, {"i", w_i, r_i},
    {"iat_all", w_iat_all, r_iat_all}, {"iall", w_iall, r_iall},
    {"split_at", w_sat, r_sat}, {"split_all", w_sall, r_sall},
};

static int intra_only(MPI_Comm comm) { return !cf_is_inter(comm); }

/* every per-rank access method: write PER ints in two halves, read them back in two halves */
static void per_rank(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Datatype ft = strided(size);
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        seq++;
        char name[256];
        file_name(comm, methods[m].name, name, sizeof name);
        MPI_File fh;
        EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
        EXPECT_OK(MPI_File_set_view(fh, (MPI_Offset)(rank * 2 * sizeof(int)), MPI_INT, ft,
                                    "native", MPI_INFO_NULL));
        int base = base_of(methods[m].name), data[PER], back[PER];
        for (int j = 0; j < PER; j++)
            data[j] = base + where(j, rank, size);
        EXPECT_OK(methods[m].write(fh, data, PER / 2, 0));
        EXPECT_OK(methods[m].write(fh, data + PER / 2, PER / 2, PER / 2));
        EXPECT_OK(MPI_File_sync(fh));
        MPI_Barrier(comm);
        EXPECT_OK(MPI_File_sync(fh));
        MPI_Offset sz = -1;
        EXPECT_OK(MPI_File_get_size(fh, &sz));
        EXPECT(sz == (MPI_Offset)(PER * size * sizeof(int)), "%s: size %lld", methods[m].name,
               (long long)sz);
        EXPECT_OK(MPI_File_seek(fh, 0, MPI_SEEK_SET));
        memset(back, 0, sizeof back);
        EXPECT_OK(methods[m].read(fh, back, PER / 2, 0));
        EXPECT_OK(methods[m].read(fh, back + PER / 2, PER / 2, PER / 2));
        for (int j = 0; j < PER; j++)
            EXPECT(back[j] == data[j], "%s: read back [%d] = %d, wrote %d", methods[m].name, j,
                   back[j], data[j]);
        EXPECT_OK(MPI_File_close(&fh));
        EXPECT(fh == MPI_FILE_NULL, "close did not null the handle");
    }
    MPI_Type_free(&ft);
}

/* the shared pointer's common view: blocks of 2 ints, one int hole after each */
static MPI_Datatype holey(void)
{
    MPI_Datatype v, t;
    MPI_Type_vector(1, 2, 3, MPI_INT, &v);
    MPI_Type_create_resized(v, 0, 3 * sizeof(int), &t);
    MPI_Type_commit(&t);
    MPI_Type_free(&v);
    return t;
}
static int hole_where(int v) { return (v / 2) * 3 + v % 2; }

enum { M = 6 }; /* ints per rank and shared access */

static void shared(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Datatype ft = holey();
    const char *kinds[] = {"ordered", "ordered_split", "shared", "ishared"};
    for (int k = 0; k < 4; k++) {
        seq++;
        char name[256];
        file_name(comm, kinds[k], name, sizeof name);
        MPI_File fh;
        EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
        EXPECT_OK(MPI_File_set_view(fh, 0, MPI_INT, ft, "native", MPI_INFO_NULL));
        MPI_Offset pos = -1;
        EXPECT_OK(MPI_File_get_position_shared(fh, &pos));
        EXPECT(pos == 0, "%s: shared position %lld after set_view", kinds[k], (long long)pos);
        MPI_Barrier(comm); /* before anyone moves it */
        int data[M], back[M * 8];
        if (k < 2) { /* rank order: element j of rank r at view position r*M + j */
            for (int j = 0; j < M; j++)
                data[j] = base_of(kinds[k]) + hole_where(rank * M + j);
            if (k == 0) {
                EXPECT_OK(MPI_File_write_ordered(fh, data, M, MPI_INT, MPI_STATUS_IGNORE));
            } else {
                EXPECT_OK(MPI_File_write_ordered_begin(fh, data, M, MPI_INT));
                EXPECT_OK(MPI_File_write_ordered_end(fh, data, MPI_STATUS_IGNORE));
            }
        } else { /* any order: runs of rank*1000 + j */
            for (int j = 0; j < M; j++)
                data[j] = base_of(kinds[k]) + rank * 1000 + j;
            if (k == 2) {
                MPI_Status st;
                int c = -1;
                EXPECT_OK(MPI_File_write_shared(fh, data, M, MPI_INT, &st));
                MPI_Get_count(&st, MPI_INT, &c);
                EXPECT(c == M, "write_shared count %d", c);
            } else {
                MPI_Request r;
                EXPECT_OK(MPI_File_iwrite_shared(fh, data, M, MPI_INT, &r));
                EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
            }
        }
        MPI_Barrier(comm);
        EXPECT_OK(MPI_File_get_position_shared(fh, &pos));
        EXPECT(pos == M * size, "%s: shared position %lld, want %d", kinds[k], (long long)pos,
               M * size);
        /* back to the start, collectively, and read it all in rank order */
        EXPECT_OK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
        memset(back, 0, sizeof back);
        if (k < 2) {
            if (k == 0) {
                EXPECT_OK(MPI_File_read_ordered(fh, back, M, MPI_INT, MPI_STATUS_IGNORE));
            } else {
                EXPECT_OK(MPI_File_read_ordered_begin(fh, back, M, MPI_INT));
                EXPECT_OK(MPI_File_read_ordered_end(fh, back, MPI_STATUS_IGNORE));
            }
            for (int j = 0; j < M; j++)
                EXPECT(back[j] == data[j], "%s: read_ordered [%d] = %d, want %d", kinds[k], j,
                       back[j], data[j]);
        } else {
            /* each rank reads one run with read_shared / iread_shared: someone's whole run */
            if (k == 2) {
                EXPECT_OK(MPI_File_read_shared(fh, back, M, MPI_INT, MPI_STATUS_IGNORE));
            } else {
                MPI_Request r;
                EXPECT_OK(MPI_File_iread_shared(fh, back, M, MPI_INT, &r));
                EXPECT_OK(MPI_Wait(&r, MPI_STATUS_IGNORE));
            }
            int who = (back[0] - base_of(kinds[k])) / 1000;
            EXPECT(who >= 0 && who < size, "%s: read_shared got %d", kinds[k], back[0]);
            for (int j = 0; j < M; j++)
                EXPECT(back[j] == base_of(kinds[k]) + who * 1000 + j,
                       "%s: read_shared [%d] = %d", kinds[k], j, back[j]);
            /* and every run exactly once */
            int runs[64] = {0}, all[64];
            runs[who] = 1;
            MPI_Allreduce(runs, all, 64, MPI_INT, MPI_SUM, comm);
            for (int r = 0; r < size; r++)
                EXPECT(all[r] == 1, "%s: rank %d's run read %d times", kinds[k], r, all[r]);
        }
        /* seek_shared relative to the current position and to the end */
        EXPECT_OK(MPI_File_seek_shared(fh, -2, MPI_SEEK_CUR));
        EXPECT_OK(MPI_File_get_position_shared(fh, &pos));
        EXPECT(pos == M * size - 2, "%s: after SEEK_CUR -2: %lld", kinds[k], (long long)pos);
        EXPECT_OK(MPI_File_seek_shared(fh, 0, MPI_SEEK_END));
        EXPECT_OK(MPI_File_get_position_shared(fh, &pos));
        EXPECT(pos == M * size, "%s: after SEEK_END: %lld", kinds[k], (long long)pos);
        EXPECT_OK(MPI_File_close(&fh));
    }
    MPI_Type_free(&ft);
}

/* views, positions, offsets, sizes and the other queries */
static void queries(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    seq++;
    char name[256];
    file_name(comm, "queries", name, sizeof name);
    MPI_File fh;
    /* RDWR: OMPIO's preallocate reads what it extends */
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_UNIQUE_OPEN,
                            MPI_INFO_NULL, &fh));
    int amode = 0;
    EXPECT_OK(MPI_File_get_amode(fh, &amode));
    EXPECT(amode == (MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_UNIQUE_OPEN), "amode %d", amode);
    MPI_Group g, cg;
    int cmp = -1;
    EXPECT_OK(MPI_File_get_group(fh, &g));
    MPI_Comm_group(comm, &cg);
    MPI_Group_compare(g, cg, &cmp);
    EXPECT(cmp == MPI_IDENT, "file group compares %d", cmp);
    MPI_Group_free(&g);
    MPI_Group_free(&cg);
    /* the default view: bytes from 0 */
    MPI_Offset disp = -1;
    MPI_Datatype et, ft;
    char rep[MPI_MAX_DATAREP_STRING];
    EXPECT_OK(MPI_File_get_view(fh, &disp, &et, &ft, rep));
    EXPECT(disp == 0 && et == MPI_BYTE && ft == MPI_BYTE && !strcmp(rep, "native"),
           "default view %lld %s", (long long)disp, rep);
    MPI_Datatype mine = strided(size);
    MPI_Offset d0 = 64 + rank * 2 * sizeof(int);
    EXPECT_OK(MPI_File_set_view(fh, d0, MPI_INT, mine, "native", MPI_INFO_NULL));
    EXPECT_OK(MPI_File_get_view(fh, &disp, &et, &ft, rep));
    EXPECT(disp == d0 && et == MPI_INT, "view disp %lld", (long long)disp);
    int ni, na, nd, comb = -1;
    MPI_Type_get_envelope(ft, &ni, &na, &nd, &comb);
    EXPECT(comb == MPI_COMBINER_RESIZED || comb == MPI_COMBINER_DUP, "filetype combiner %d", comb);
    MPI_Aint lb, ext;
    MPI_Type_get_extent(ft, &lb, &ext);
    EXPECT(ext == (MPI_Aint)(2 * B * size * sizeof(int)), "filetype extent %ld", (long)ext);
    if (ft != mine)
        MPI_Type_free(&ft);
    MPI_Aint fext = -1;
    EXPECT_OK(MPI_File_get_type_extent(fh, MPI_DOUBLE, &fext));
    EXPECT(fext == 8, "file extent of double %ld", (long)fext);
    MPI_Offset byte = -1;
    EXPECT_OK(MPI_File_get_byte_offset(fh, 5, &byte));
    EXPECT(byte == d0 + where(5, 0, size) * (MPI_Offset)sizeof(int), "byte offset of 5: %lld",
           (long long)byte);
    int data[5] = {1, 2, 3, 4, 5};
    MPI_Offset pos = -1;
    EXPECT_OK(MPI_File_write(fh, data, 5, MPI_INT, MPI_STATUS_IGNORE));
    EXPECT_OK(MPI_File_get_position(fh, &pos));
    EXPECT(pos == 5, "position %lld after 5 ints", (long long)pos);
    EXPECT_OK(MPI_File_seek(fh, -2, MPI_SEEK_CUR));
    EXPECT_OK(MPI_File_get_position(fh, &pos));
    EXPECT(pos == 3, "position %lld after SEEK_CUR -2", (long long)pos);
    EXPECT_OK(MPI_File_seek(fh, 1, MPI_SEEK_SET));
    EXPECT_OK(MPI_File_get_position(fh, &pos));
    EXPECT(pos == 1, "position %lld after SEEK_SET 1", (long long)pos);
    /* sizes: set_size truncates or extends, preallocate only extends */
    EXPECT_OK(MPI_File_set_size(fh, 1000));
    MPI_Offset sz = -1;
    EXPECT_OK(MPI_File_get_size(fh, &sz));
    EXPECT(sz == 1000, "size %lld after set_size 1000", (long long)sz);
    MPI_Barrier(comm);
    EXPECT_OK(MPI_File_preallocate(fh, 4096));
    EXPECT_OK(MPI_File_get_size(fh, &sz));
    EXPECT(sz == 4096, "size %lld after preallocate 4096", (long long)sz);
    EXPECT_OK(MPI_File_preallocate(fh, 10));
    EXPECT_OK(MPI_File_get_size(fh, &sz));
    EXPECT(sz == 4096, "size %lld after preallocate 10", (long long)sz);
    MPI_Barrier(comm); /* every rank saw it before anyone shrinks it */
    EXPECT_OK(MPI_File_set_size(fh, 200));
    EXPECT_OK(MPI_File_get_size(fh, &sz));
    EXPECT(sz == 200, "size %lld after set_size 200", (long long)sz);
    /* atomicity */
    int flag = -1;
    EXPECT_OK(MPI_File_get_atomicity(fh, &flag));
    EXPECT(flag == 0, "default atomicity %d", flag);
    EXPECT_OK(MPI_File_set_atomicity(fh, 1));
    EXPECT_OK(MPI_File_get_atomicity(fh, &flag));
    EXPECT(flag == 1, "atomicity %d after setting it", flag);
    EXPECT_OK(MPI_File_write_at_all(fh, 0, data, 2, MPI_INT, MPI_STATUS_IGNORE));
    EXPECT_OK(MPI_File_set_atomicity(fh, 0));
    /* hints */
    MPI_Info info, used;
    MPI_Info_create(&info);
    MPI_Info_set(info, "access_style", "write_once");
    EXPECT_OK(MPI_File_set_info(fh, info));
    EXPECT_OK(MPI_File_get_info(fh, &used));
    int nkeys = -1;
    EXPECT_OK(MPI_Info_get_nkeys(used, &nkeys));
    EXPECT(nkeys >= 0, "nkeys %d", nkeys);
    MPI_Info_free(&used);
    MPI_Info_free(&info);
    EXPECT_OK(MPI_File_close(&fh));
    MPI_Type_free(&mine);
}

/* amodes: the bridge's own bits (CREATE, EXCL, DELETE_ON_CLOSE, APPEND) and bad ones */
static void amodes(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    seq++;
    char name[256];
    file_name(comm, "amodes", name, sizeof name);
    MPI_File fh;
    int rc = MPI_File_open(comm, name, MPI_MODE_RDONLY | MPI_MODE_CREATE, MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_AMODE, "RDONLY|CREATE: class %d", err_class(rc));
    rc = MPI_File_open(comm, name, MPI_MODE_RDWR | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_AMODE, "RDWR|WRONLY: class %d", err_class(rc));
    rc = MPI_File_open(comm, name, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_NO_SUCH_FILE, "missing file: class %d", err_class(rc));
    /* one exclusive create for the group, then it exists */
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_EXCL | MPI_MODE_WRONLY,
                            MPI_INFO_NULL, &fh));
    int v[3] = {7, 8, 9};
    if (rank == 0)
        EXPECT_OK(MPI_File_write_at(fh, 0, v, 3, MPI_INT, MPI_STATUS_IGNORE));
    EXPECT_OK(MPI_File_close(&fh));
    rc = MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_EXCL | MPI_MODE_WRONLY,
                       MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_FILE_EXISTS, "EXCL on an existing file: class %d",
           err_class(rc));
    /* APPEND: both pointers start at the end */
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_APPEND | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    MPI_Offset pos = -1;
    EXPECT_OK(MPI_File_get_position(fh, &pos));
    EXPECT(pos == 12, "APPEND: individual position %lld", (long long)pos);
    EXPECT_OK(MPI_File_get_position_shared(fh, &pos));
    EXPECT(pos == 12, "APPEND: shared position %lld", (long long)pos);
    EXPECT_OK(MPI_File_write_ordered(fh, &v[rank % 3], 1, MPI_INT, MPI_STATUS_IGNORE));
    EXPECT_OK(MPI_File_sync(fh)); /* every rank's data is in the file */
    MPI_Barrier(comm);
    EXPECT_OK(MPI_File_sync(fh));
    MPI_Offset sz = -1;
    EXPECT_OK(MPI_File_get_size(fh, &sz));
    EXPECT(sz == 12 + 4 * size, "APPEND: size %lld after ordered appends", (long long)sz);
    EXPECT_OK(MPI_File_close(&fh));
    /* DELETE_ON_CLOSE: gone afterwards */
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_RDONLY | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL,
                            &fh));
    EXPECT_OK(MPI_File_close(&fh));
    MPI_Barrier(comm);
    rc = MPI_File_open(comm, name, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_NO_SUCH_FILE, "after DELETE_ON_CLOSE: class %d",
           err_class(rc));
    /* File_delete, and deleting what is not there */
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh));
    EXPECT_OK(MPI_File_close(&fh));
    MPI_Barrier(comm);
    if (rank == 0)
        EXPECT_OK(MPI_File_delete(name, MPI_INFO_NULL));
    MPI_Barrier(comm);
    rc = MPI_File_delete(name, MPI_INFO_NULL);
    EXPECT(err_class(rc) == MPI_ERR_NO_SUCH_FILE, "deleting a deleted file: class %d",
           err_class(rc));
    /* a file handle that is not one */
    MPI_File bad = MPI_FILE_NULL;
    rc = MPI_File_get_size(bad, &sz);
    EXPECT(err_class(rc) == MPI_ERR_FILE, "get_size(MPI_FILE_NULL): class %d", err_class(rc));
}

static int eh_calls, eh_code;
static MPI_File eh_file;
static void on_error(MPI_File *fh, int *code, ...)
{
    eh_calls++;
    eh_code = *code;
    eh_file = *fh;
}

static void errhandlers(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    seq++;
    char name[256];
    file_name(comm, "errh", name, sizeof name);
    MPI_Errhandler eh, got;
    EXPECT_OK(MPI_File_get_errhandler(MPI_FILE_NULL, &got));
    EXPECT(got == MPI_ERRORS_RETURN, "MPI_FILE_NULL's handler is not MPI_ERRORS_RETURN");
    EXPECT_OK(MPI_File_create_errhandler(on_error, &eh));
    MPI_File fh;
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    EXPECT_OK(MPI_File_get_errhandler(fh, &got));
    EXPECT(got == MPI_ERRORS_RETURN, "a new file's handler is not MPI_ERRORS_RETURN");
    EXPECT_OK(MPI_File_set_errhandler(fh, eh));
    EXPECT_OK(MPI_File_get_errhandler(fh, &got));
    EXPECT(got == eh, "get_errhandler after set");
    eh_calls = 0;
    EXPECT_OK(MPI_File_call_errhandler(fh, MPI_ERR_OTHER));
    EXPECT(eh_calls == 1 && eh_code == MPI_ERR_OTHER && eh_file == fh,
           "call_errhandler: %d calls, code %d", eh_calls, eh_code);
    /* a real error of a file call reaches the file's handler */
    int rc = MPI_File_seek(fh, 0, 12345);
    EXPECT(eh_calls == 2 && err_class(eh_code) == MPI_ERR_ARG,
           "bad whence: %d calls, class %d", eh_calls, err_class(eh_code));
    EXPECT(err_class(rc) == MPI_ERR_ARG, "bad whence returned class %d", err_class(rc));
    EXPECT_OK(MPI_File_close(&fh));
    /* MPI_FILE_NULL's handler: open errors, and inherited by new files */
    EXPECT_OK(MPI_File_set_errhandler(MPI_FILE_NULL, eh));
    char missing[300];
    snprintf(missing, sizeof missing, "%s/no/such/file", dir);
    rc = MPI_File_open(comm, missing, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    EXPECT(eh_calls == 3 && err_class(eh_code) == MPI_ERR_NO_SUCH_FILE,
           "open error: %d calls, class %d", eh_calls, err_class(eh_code));
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    EXPECT_OK(MPI_File_get_errhandler(fh, &got));
    EXPECT(got == eh, "a new file did not inherit MPI_FILE_NULL's handler");
    EXPECT_OK(MPI_File_close(&fh));
    EXPECT_OK(MPI_File_set_errhandler(MPI_FILE_NULL, MPI_ERRORS_RETURN));
    EXPECT_OK(MPI_Errhandler_free(&eh));
}

static int conv(void *u, MPI_Datatype t, int c, void *f, MPI_Offset p, void *x)
{
    (void)u; (void)t; (void)c; (void)f; (void)p; (void)x;
    abort(); /* never called: the bridge refuses views with user representations */
}
static int extent_fn(MPI_Datatype t, MPI_Aint *e, void *x) { (void)x; return MPI_Type_get_extent(t, &(MPI_Aint){0}, e); }

/* data representations: native always; internal and external32 as the host has them */
static void datareps(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    int rank;
    MPI_Comm_rank(comm, &rank);
    seq++;
    char name[256];
    file_name(comm, "datarep", name, sizeof name);
    MPI_File fh;
    EXPECT_OK(MPI_File_open(comm, name, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    static int registered;
    if (!registered++) {
        EXPECT_OK(MPI_Register_datarep("wasmpi_rep", conv, conv, extent_fn, NULL));
        int rc = MPI_Register_datarep("wasmpi_rep", conv, conv, extent_fn, NULL);
        EXPECT(err_class(rc) == MPI_ERR_DUP_DATAREP, "registering twice: class %d", err_class(rc));
        rc = MPI_Register_datarep("native", conv, conv, extent_fn, NULL);
        EXPECT(err_class(rc) == MPI_ERR_DUP_DATAREP, "registering native: class %d", err_class(rc));
    }
    int rc = MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "wasmpi_rep", MPI_INFO_NULL);
    EXPECT(err_class(rc) == MPI_ERR_UNSUPPORTED_DATAREP, "user datarep view: class %d",
           err_class(rc));
    const char *reps[] = {"native", "internal", "external32"};
    char why[200] = "";
    for (int i = 0; i < 3; i++) {
        rc = MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, reps[i], MPI_INFO_NULL);
        int ok = rc == MPI_SUCCESS, all_ok;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
        if (!all_ok) {
            EXPECT(i > 0, "native view refused: class %d", err_class(rc));
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s: class %d; ", reps[i],
                     err_class(rc));
            continue;
        }
        int v[2] = {0x01020304, rank}, w[2] = {0, 0};
        rc = MPI_File_write_at(fh, 2 * rank, v, 2, MPI_INT, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) {
            snprintf(why + strlen(why), sizeof why - strlen(why), "%s write: class %d; ",
                     reps[i], err_class(rc));
            EXPECT(i > 0, "native write: class %d", err_class(rc));
            continue;
        }
        MPI_File_sync(fh);
        MPI_Barrier(comm);
        MPI_File_sync(fh);
        EXPECT_OK(MPI_File_read_at(fh, 2 * rank, w, 2, MPI_INT, MPI_STATUS_IGNORE));
        EXPECT(w[0] == v[0] && w[1] == rank, "%s: read back %x %d", reps[i], w[0], w[1]);
        char got[MPI_MAX_DATAREP_STRING];
        MPI_Offset d;
        MPI_Datatype e, f;
        EXPECT_OK(MPI_File_get_view(fh, &d, &e, &f, got));
        /* "internal" is the implementation's choice: ROMIO's is native */
        EXPECT(!strcmp(got, reps[i]) || (i == 1 && !strcmp(got, "native")),
               "get_view datarep %s, want %s", got, reps[i]);
        if (i == 2) { /* external32 is big-endian on disk */
            unsigned char raw[4] = {0};
            EXPECT_OK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
            EXPECT_OK(MPI_File_read_at(fh, 8 * rank, raw, 4, MPI_BYTE, MPI_STATUS_IGNORE));
            EXPECT(raw[0] == 1 && raw[3] == 4, "external32 bytes %02x %02x", raw[0], raw[3]);
        }
    }
    EXPECT_OK(MPI_File_close(&fh));
    if (rank == 0 && why[0] && comm == MPI_COMM_WORLD) {
        printf("NOTE datarep unsupported by the host: %s\n", why);
        fflush(stdout);
    }
}

/* a relative name counts from the guest's working directory */
static void relative(MPI_Comm comm)
{
    if (comm != MPI_COMM_WORLD) SKIP_CASE("once is enough");
    char old[512];
    getcwd(old, sizeof old);
    if (chdir(dir) != 0) SKIP_CASE("chdir %s: %s", dir, strerror(errno));
    MPI_File fh;
    int rc = MPI_File_open(comm, "relative.dat", MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL,
                           &fh);
    chdir(old);
    EXPECT_OK(rc);
    int rank;
    MPI_Comm_rank(comm, &rank);
    EXPECT_OK(MPI_File_write_at_all(fh, rank, "R", 1, MPI_CHAR, MPI_STATUS_IGNORE));
    EXPECT_OK(MPI_File_close(&fh));
}

static int conformance(void)
{
    for_each_comm(per_rank, "per_rank");
    for_each_comm(shared, "shared");
    for_each_comm(queries, "queries");
    for_each_comm(amodes, "amodes");
    for_each_comm(errhandlers, "errhandlers");
    for_each_comm(datareps, "datareps");
    for_each_comm(relative, "relative");
    return finish();
}

/* ---- escapes ------------------------------------------------------------------------------ */

static const char *data_dir, *ro_dir, *outside;

/* `path` cannot be opened in any mode; with `del`, not deleted either (a symlink that is the
 * last component is the grant's own entry: deleting it removes the link, never its target).
 * An exclusive create of an existing entry (a symlink) may say MPI_ERR_FILE_EXISTS. */
static void expect_refused_(const char *path, int cls, MPI_Comm comm, int del)
{
    MPI_File fh;
    int modes[] = {MPI_MODE_RDONLY, MPI_MODE_WRONLY, MPI_MODE_RDWR | MPI_MODE_CREATE,
                   MPI_MODE_WRONLY | MPI_MODE_CREATE | MPI_MODE_EXCL,
                   MPI_MODE_RDONLY | MPI_MODE_DELETE_ON_CLOSE};
    for (int i = 0; i < 5; i++) {
        int rc = MPI_File_open(comm, path, modes[i], MPI_INFO_NULL, &fh);
        int c = rc == MPI_SUCCESS ? 0 : err_class(rc);
        EXPECT(c == cls || (i == 3 && c == MPI_ERR_FILE_EXISTS),
               "open %s mode %d: class %d, want %d", path, modes[i], c, cls);
        if (rc == MPI_SUCCESS)
            MPI_File_close(&fh);
    }
    if (!del)
        return;
    int rc = MPI_File_delete(path, MPI_INFO_NULL);
    EXPECT(rc != MPI_SUCCESS && err_class(rc) == cls, "delete %s: class %d, want %d", path,
           rc == MPI_SUCCESS ? 0 : err_class(rc), cls);
}
#define expect_refused(path, cls, comm) expect_refused_(path, cls, comm, 1)
#define expect_refused_link(path, cls, comm) expect_refused_(path, cls, comm, 0)

static void escapes(MPI_Comm comm)
{
    if (!intra_only(comm)) SKIP_CASE("MPI_File_open needs an intracommunicator");
    char p[600];
    const int nf = MPI_ERR_NO_SUCH_FILE;
    snprintf(p, sizeof p, "%s/../outside/secret", data_dir);
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/sub/../../outside/secret", data_dir);
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/sub/../../../../../../%s/secret", data_dir, outside);
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/secret", outside); /* the host's absolute path */
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/link_dir/secret", data_dir); /* dir symlink -> outside */
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/link_file", data_dir); /* file symlink -> outside/secret */
    expect_refused_link(p, nf, comm);
    snprintf(p, sizeof p, "%s/link_abs", data_dir); /* absolute symlink, even into the grant */
    expect_refused_link(p, nf, comm);
    snprintf(p, sizeof p, "%s/link_up/secret", data_dir); /* relative symlink: ../outside */
    expect_refused(p, nf, comm);
    snprintf(p, sizeof p, "%s/link_proc", data_dir); /* -> /proc/self/root/... */
    expect_refused_link(p, nf, comm);
    expect_refused("/proc/self/cwd/secret", nf, comm);
    expect_refused("/etc/passwd", nf, comm);
    /* creating through a dangling symlink that points outside */
    snprintf(p, sizeof p, "%s/link_new", data_dir);
    expect_refused_link(p, nf, comm);
    /* read-only grant: reading works, nothing that writes does */
    snprintf(p, sizeof p, "%s/readme", ro_dir);
    MPI_File fh;
    EXPECT_OK(MPI_File_open(comm, p, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    char buf[8] = {0};
    EXPECT_OK(MPI_File_read_at(fh, 0, buf, 5, MPI_CHAR, MPI_STATUS_IGNORE));
    EXPECT(!memcmp(buf, "hello", 5), "read-only grant read %s", buf);
    int rc = MPI_File_set_size(fh, 0);
    EXPECT(rc != MPI_SUCCESS, "set_size on a read-only file succeeded");
    rc = MPI_File_preallocate(fh, 100);
    EXPECT(rc != MPI_SUCCESS, "preallocate on a read-only file succeeded");
    EXPECT_OK(MPI_File_close(&fh));
    int modes[] = {MPI_MODE_WRONLY, MPI_MODE_RDWR, MPI_MODE_RDWR | MPI_MODE_CREATE,
                   MPI_MODE_RDONLY | MPI_MODE_DELETE_ON_CLOSE};
    for (int i = 0; i < 4; i++) {
        rc = MPI_File_open(comm, p, modes[i], MPI_INFO_NULL, &fh);
        EXPECT(err_class(rc) == MPI_ERR_READ_ONLY, "ro open mode %d: class %d", modes[i],
               err_class(rc));
    }
    snprintf(p, sizeof p, "%s/newfile", ro_dir);
    rc = MPI_File_open(comm, p, MPI_MODE_WRONLY | MPI_MODE_CREATE, MPI_INFO_NULL, &fh);
    EXPECT(err_class(rc) == MPI_ERR_READ_ONLY, "ro create: class %d", err_class(rc));
    snprintf(p, sizeof p, "%s/readme", ro_dir);
    rc = MPI_File_delete(p, MPI_INFO_NULL);
    EXPECT(err_class(rc) == MPI_ERR_READ_ONLY, "ro delete: class %d", err_class(rc));
    /* a symlink that stays inside its grant works (sub/target) */
    snprintf(p, sizeof p, "%s/link_in", data_dir);
    EXPECT_OK(MPI_File_open(comm, p, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    EXPECT_OK(MPI_File_read_at(fh, 0, buf, 6, MPI_CHAR, MPI_STATUS_IGNORE));
    EXPECT(!memcmp(buf, "inside", 6), "link_in read %s", buf);
    EXPECT_OK(MPI_File_close(&fh));
    /* `..` that stays inside the grant is fine */
    snprintf(p, sizeof p, "%s/sub/../sub/target", data_dir);
    EXPECT_OK(MPI_File_open(comm, p, MPI_MODE_RDONLY, MPI_INFO_NULL, &fh));
    EXPECT_OK(MPI_File_close(&fh));
}

static int escape_main(void)
{
    for_each_comm(escapes, "escapes");
    return finish();
}

/* ---- the race: the host swaps DATA/race/dir and DATA/race/flink meanwhile ------------------ */

static int race_main(int rounds)
{
    int rank, opened = 0, refused = 0, other = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char victim[600], flink[600];
    snprintf(victim, sizeof victim, "%s/race/dir/victim%d", data_dir, rank);
    snprintf(flink, sizeof flink, "%s/race/flink", data_dir);
    for (int i = 0; i < rounds; i++) {
        MPI_File fh;
        const char *path = i % 2 ? flink : victim;
        int mode = i % 4 < 2 ? MPI_MODE_CREATE | MPI_MODE_WRONLY : MPI_MODE_RDWR;
        if (i % 8 == 7)
            mode |= MPI_MODE_DELETE_ON_CLOSE;
        int rc = MPI_File_open(MPI_COMM_SELF, path, mode, MPI_INFO_NULL, &fh);
        if (rc == MPI_SUCCESS) {
            opened++;
            MPI_File_write_at(fh, 0, "PWNED", 5, MPI_CHAR, MPI_STATUS_IGNORE);
            MPI_File_set_size(fh, 3);
            MPI_File_close(&fh);
        } else if (err_class(rc) == MPI_ERR_NO_SUCH_FILE) {
            refused++;
        } else {
            other++;
        }
        rc = MPI_File_delete(path, MPI_INFO_NULL);
        (void)rc;
    }
    int mine[3] = {opened, refused, other}, all[3];
    MPI_Reduce(mine, all, 3, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        printf("RACE opened %d refused %d other %d\n", all[0], all[1], all[2]);
    MPI_Finalize();
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc >= 3 && !strcmp(argv[1], "conformance")) {
        dir = argv[2];
        return conformance();
    }
    if (argc >= 5 && !strcmp(argv[1], "escape")) {
        data_dir = argv[2];
        ro_dir = argv[3];
        outside = argv[4];
        return escape_main();
    }
    if (argc >= 4 && !strcmp(argv[1], "race")) {
        data_dir = argv[2];
        return race_main(atoi(argv[3]));
    }
    fprintf(stderr, "usage: io conformance DIR | escape DATA RO OUT | race DATA N\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
    return 2;
}
