/* Datatypes: sizes, extents and names of the predefined types as the wasm32 guest lays them
 * out (ILP32, binary128 long double); contiguous, vector, indexed and dup'ed types sent between
 * ranks, with the received layout checked element by element (holes untouched). */
#include <complex.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int rank, size, nerr;

#include "check_count.h"

/* size = bytes of data, extent = sizeof the C object (padding included) */
static void expect(MPI_Datatype dt, const char *name, int size_, int extent)
{
    int sz = -1, len = -1;
    MPI_Count szx = -1;
    MPI_Aint lb = -1, ext = -1, tlb = -1, text = -1;
    char got[MPI_MAX_OBJECT_NAME];
    OK(MPI_Type_size(dt, &sz));
    OK(MPI_Type_size_x(dt, &szx));
    OK(MPI_Type_get_extent(dt, &lb, &ext));
    OK(MPI_Type_get_true_extent(dt, &tlb, &text));
    OK(MPI_Type_get_name(dt, got, &len));
    CHECK(sz == size_ && szx == size_, "%s: Type_size %d / %lld, expected %d", name, sz,
          (long long)szx, size_);
    CHECK(lb == 0 && ext == extent, "%s: extent (%ld, %ld), expected (0, %d)", name, (long)lb,
          (long)ext, extent);
    CHECK(tlb == 0 && text >= size_ && text <= extent, "%s: true extent (%ld, %ld)", name,
          (long)tlb, (long)text);
    CHECK(strcmp(got, name) == 0 && len == (int)strlen(name), "name '%s' (%d), expected '%s'",
          got, len, name);
}

#define E(dt, ctype) expect(dt, #dt, (int)sizeof(ctype), (int)sizeof(ctype))
#define PAIR(dt, vtype) \
    do { \
        struct p_ { vtype v; int i; }; \
        expect(dt, #dt, (int)(sizeof(vtype) + sizeof(int)), (int)sizeof(struct p_)); \
    } while (0)

static void predefined(void)
{
    E(MPI_CHAR, char);
    E(MPI_SIGNED_CHAR, signed char);
    E(MPI_UNSIGNED_CHAR, unsigned char);
    E(MPI_BYTE, unsigned char);
    E(MPI_WCHAR, wchar_t);
    E(MPI_SHORT, short);
    E(MPI_UNSIGNED_SHORT, unsigned short);
    E(MPI_INT, int);
    E(MPI_UNSIGNED, unsigned);
    E(MPI_LONG, long);
    E(MPI_UNSIGNED_LONG, unsigned long);
    E(MPI_LONG_LONG, long long);
    E(MPI_UNSIGNED_LONG_LONG, unsigned long long);
    E(MPI_FLOAT, float);
    E(MPI_DOUBLE, double);
    E(MPI_LONG_DOUBLE, long double);
    E(MPI_C_BOOL, bool);
    E(MPI_INT8_T, int8_t);
    E(MPI_UINT8_T, uint8_t);
    E(MPI_INT16_T, int16_t);
    E(MPI_UINT16_T, uint16_t);
    E(MPI_INT32_T, int32_t);
    E(MPI_UINT32_T, uint32_t);
    E(MPI_INT64_T, int64_t);
    E(MPI_UINT64_T, uint64_t);
    E(MPI_AINT, MPI_Aint);
    E(MPI_OFFSET, MPI_Offset);
    E(MPI_COUNT, MPI_Count);
    E(MPI_C_FLOAT_COMPLEX, float _Complex);
    E(MPI_C_DOUBLE_COMPLEX, double _Complex);
    E(MPI_C_LONG_DOUBLE_COMPLEX, long double _Complex);
    PAIR(MPI_FLOAT_INT, float);
    PAIR(MPI_DOUBLE_INT, double);
    PAIR(MPI_LONG_INT, long);
    PAIR(MPI_2INT, int);
    PAIR(MPI_SHORT_INT, short);
    PAIR(MPI_LONG_DOUBLE_INT, long double);
    CHECK(sizeof(long) == 4 && sizeof(MPI_Aint) == 4 && sizeof(void *) == 4, "not ILP32");
    /* a committed predefined type stays usable */
    MPI_Datatype t = MPI_INT;
    OK(MPI_Type_commit(&t));
    CHECK(t == MPI_INT, "Type_commit changed a predefined handle");
}

#define ROWS 4
#define COLS 5

static void derived_layouts(void)
{
    MPI_Datatype contig, column, idx, dup, pair;
    MPI_Aint lb, ext;
    int sz, len = -1;
    char name[MPI_MAX_OBJECT_NAME];
    OK(MPI_Type_contiguous(3, MPI_DOUBLE, &contig));
    OK(MPI_Type_commit(&contig));
    OK(MPI_Type_size(contig, &sz));
    OK(MPI_Type_get_extent(contig, &lb, &ext));
    CHECK(sz == 24 && lb == 0 && ext == 24, "contiguous(3, DOUBLE): %d %ld %ld", sz, (long)lb, (long)ext);
    OK(MPI_Type_get_name(contig, name, &len));
    CHECK(len == 0 && name[0] == 0, "unnamed derived type is called '%s'", name);

    OK(MPI_Type_vector(ROWS, 1, COLS, MPI_INT, &column));
    OK(MPI_Type_commit(&column));
    OK(MPI_Type_size(column, &sz));
    OK(MPI_Type_get_extent(column, &lb, &ext));
    CHECK(sz == ROWS * 4 && ext == ((ROWS - 1) * COLS + 1) * 4, "vector: size %d extent %ld", sz, (long)ext);

    int blens[3] = {2, 1, 3}, displs[3] = {0, 4, 7};
    OK(MPI_Type_indexed(3, blens, displs, MPI_SHORT, &idx));
    OK(MPI_Type_commit(&idx));
    OK(MPI_Type_size(idx, &sz));
    OK(MPI_Type_get_extent(idx, &lb, &ext));
    CHECK(sz == 6 * 2 && lb == 0 && ext == 10 * 2, "indexed: size %d lb %ld extent %ld", sz, (long)lb, (long)ext);

    OK(MPI_Type_dup(column, &dup));
    OK(MPI_Type_size(dup, &sz));
    CHECK(sz == ROWS * 4, "dup size %d", sz);

    OK(MPI_Type_contiguous(2, column, &pair)); /* nested: two interleaved columns */
    OK(MPI_Type_commit(&pair));
    OK(MPI_Type_size(pair, &sz));
    CHECK(sz == 2 * ROWS * 4, "contiguous of vector: %d", sz);

    OK(MPI_Type_free(&contig));
    OK(MPI_Type_free(&idx));
    OK(MPI_Type_free(&dup));
    OK(MPI_Type_free(&pair));
    OK(MPI_Type_free(&column));
    CHECK(contig == MPI_DATATYPE_NULL && column == MPI_DATATYPE_NULL, "Type_free did not null");
}

/* Rank 0 sends strided and indexed data to rank 1; holes in the receive buffers are checked. */
static void transfers(void)
{
    if (size < 2) return;
    MPI_Datatype column, idx;
    MPI_Status st;
    int count = -1;
    OK(MPI_Type_vector(ROWS, 1, COLS, MPI_INT, &column));
    OK(MPI_Type_commit(&column));
    int blens[3] = {2, 1, 3}, displs[3] = {0, 4, 7};
    OK(MPI_Type_indexed(3, blens, displs, MPI_INT, &idx));
    OK(MPI_Type_commit(&idx));
    int m[ROWS][COLS];
    if (rank == 0) {
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++) m[r][c] = 10 * r + c;
        /* column 2 as a vector -> contiguous on the receiver */
        OK(MPI_Send(&m[0][2], 1, column, 1, 1, MPI_COMM_WORLD));
        /* contiguous -> column 3 on the receiver */
        int v[ROWS] = {-1, -2, -3, -4};
        OK(MPI_Send(v, ROWS, MPI_INT, 1, 2, MPI_COMM_WORLD));
        /* columns 0 and 1 as two vector elements, received as two vectors */
        OK(MPI_Send(&m[0][0], 1, column, 1, 3, MPI_COMM_WORLD));
        OK(MPI_Send(&m[0][1], 1, column, 1, 3, MPI_COMM_WORLD));
        /* indexed -> contiguous, and contiguous -> indexed */
        int a[10];
        for (int i = 0; i < 10; i++) a[i] = 100 + i;
        OK(MPI_Send(a, 1, idx, 1, 4, MPI_COMM_WORLD));
        int b[6] = {1, 2, 3, 4, 5, 6};
        OK(MPI_Send(b, 6, MPI_INT, 1, 5, MPI_COMM_WORLD));
        /* two indexed elements back to back (extent 10 ints) */
        int aa[20];
        for (int i = 0; i < 20; i++) aa[i] = 200 + i;
        OK(MPI_Send(aa, 2, idx, 1, 6, MPI_COMM_WORLD));
    } else if (rank == 1) {
        int col[ROWS];
        OK(MPI_Recv(col, ROWS, MPI_INT, 0, 1, MPI_COMM_WORLD, &st));
        for (int r = 0; r < ROWS; r++) CHECK(col[r] == 10 * r + 2, "column recv [%d]=%d", r, col[r]);
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++) m[r][c] = 7777;
        OK(MPI_Recv(&m[0][3], 1, column, 0, 2, MPI_COMM_WORLD, &st));
        OK(MPI_Get_count(&st, column, &count));
        CHECK(count == 1, "Get_count(column) %d", count);
        OK(MPI_Get_elements(&st, column, &count));
        CHECK(count == ROWS, "Get_elements(column) %d", count);
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++)
                CHECK(m[r][c] == (c == 3 ? -(r + 1) : 7777), "strided recv m[%d][%d]=%d", r, c, m[r][c]);
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++) m[r][c] = 7777;
        OK(MPI_Recv(&m[0][0], 1, column, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        OK(MPI_Recv(&m[0][4], 1, column, 0, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++) {
                int want = c == 0 ? 10 * r : c == 4 ? 10 * r + 1 : 7777;
                CHECK(m[r][c] == want, "column to column m[%d][%d]=%d", r, c, m[r][c]);
            }
        int a[6], b[10];
        OK(MPI_Recv(a, 6, MPI_INT, 0, 4, MPI_COMM_WORLD, &st));
        OK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 6, "indexed -> contiguous count %d", count);
        int wa[6] = {100, 101, 104, 107, 108, 109};
        for (int i = 0; i < 6; i++) CHECK(a[i] == wa[i], "indexed recv a[%d]=%d", i, a[i]);
        for (int i = 0; i < 10; i++) b[i] = -1;
        OK(MPI_Recv(b, 1, idx, 0, 5, MPI_COMM_WORLD, &st));
        int wb[10] = {1, 2, -1, -1, 3, -1, -1, 4, 5, 6};
        for (int i = 0; i < 10; i++) CHECK(b[i] == wb[i], "indexed layout b[%d]=%d", i, b[i]);
        int c2[12];
        OK(MPI_Recv(c2, 12, MPI_INT, 0, 6, MPI_COMM_WORLD, &st));
        OK(MPI_Get_count(&st, MPI_INT, &count));
        CHECK(count == 12, "2 x indexed count %d", count);
        for (int i = 0; i < 12; i++) {
            int want = (i < 6 ? 200 : 210) + wa[i % 6] - 100;
            CHECK(c2[i] == want, "2 x indexed c2[%d]=%d want %d", i, c2[i], want);
        }
    }
    /* a derived type in a collective: broadcast column 1 of rank 0's matrix into column 1 */
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) m[r][c] = rank == 0 ? 10 * r + c : -9;
    OK(MPI_Bcast(&m[0][1], 1, column, 0, MPI_COMM_WORLD));
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++)
            CHECK(m[r][c] == (rank == 0 || c == 1 ? 10 * r + c : -9), "Bcast(column) m[%d][%d]=%d",
                  r, c, m[r][c]);
    OK(MPI_Type_free(&column));
    OK(MPI_Type_free(&idx));
}


int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    RUN(predefined);
    RUN(derived_layouts);
    RUN(transfers);
    if (nerr) {
        printf("rank %d: %d failures\n", rank, nerr);
        return 1;
    }
    if (rank == 0) printf("types done on %d ranks\n", size);
    MPI_Finalize();
    return 0;
}
