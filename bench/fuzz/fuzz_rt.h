/* Guest side of the bridge fuzzer: PRNG, scratch memory, handle pools and the value
 * generators that the generated callers (fuzz.py) draw every argument from.
 *
 * Every argument comes from a seeded xorshift PRNG, so a run is reproduced by its seed. Most
 * pointers land in scratch memory (in bounds) and most counts are small, so that a call usually
 * returns and a campaign makes many calls per process; a wild pointer or a wild count is drawn
 * rarely, because it ends the rank with a (clean) trap. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fz_state = 88172645463325252ull;
static uint32_t fz_wild_ppm = 200; /* wild pointers/counts per million draws */

static uint32_t fz_u32(void)
{
    fz_state ^= fz_state << 13;
    fz_state ^= fz_state >> 7;
    fz_state ^= fz_state << 17;
    return (uint32_t)(fz_state >> 16);
}
static uint32_t fz_below(uint32_t n) { return n ? fz_u32() % n : 0; }
static int fz_chance(uint32_t ppm) { return fz_below(1000000) < ppm; }

/* ---- scratch memory: one slot per parameter, plus a data area for buffers ------------- */
#define FZ_SLOT 4096
#define FZ_SLOTS 16
/* buffers start in the first FZ_DATA bytes; datatypes the campaign keeps span at most
 * FZ_SPAN bytes, so 17 elements stay inside fz_data and never hit the fuzzer's own state */
#define FZ_DATA (1 << 18)
#define FZ_SPAN 4096
static _Alignas(16) unsigned char fz_slots[FZ_SLOTS][FZ_SLOT];
static _Alignas(16) unsigned char fz_data[FZ_DATA + 2 * 17 * FZ_SPAN];

static uint32_t fz_wild_addr(void)
{
    switch (fz_below(4)) {
    case 0: return fz_u32();                               /* anywhere in 4 GiB */
    case 1: return 0xffffffffu - fz_below(64);             /* the top of the address space */
    case 2: return (uint32_t)__builtin_wasm_memory_size(0) * 65536u - fz_below(16); /* the end */
    default: return (uint32_t)__builtin_wasm_memory_size(0) * 65536u + fz_below(1 << 20);
    }
}

/* a buffer: mostly in the data area, sometimes NULL or a sentinel, rarely wild */
static void *fz_buf(void)
{
    if (fz_chance(fz_wild_ppm))
        return (void *)(uintptr_t)fz_wild_addr();
    if (fz_below(128) == 0)
        return NULL;
    if (fz_below(16) == 0)
        return MPI_IN_PLACE;
    return fz_data + 17 * FZ_SPAN + 8 * fz_below(FZ_DATA / 8);
}

/* the slot of parameter i (in/out arrays, out scalars), rarely NULL or wild */
static void *fz_slot(int i)
{
    if (fz_chance(fz_wild_ppm))
        return (void *)(uintptr_t)fz_wild_addr();
    if (fz_below(64) == 0)
        return NULL;
    return fz_slots[i];
}

/* ---- integers ------------------------------------------------------------------------ */
static const int32_t fz_edge[] = {0, 1, 2, 3, -1, -2, -3, 0x7fffffff, (int32_t)0x80000000,
                                  0xffff, 0x10000, 4096, 1 << 20, 0x7ffffff0};

/* a count: small or negative; an edge value (huge, INT_MIN, ...) rarely, since a huge count
 * of a buffer reaches past the end of memory and traps */
static int32_t fz_count(void)
{
    if (fz_chance(fz_wild_ppm * 5))
        return fz_edge[fz_below(sizeof fz_edge / sizeof fz_edge[0])];
    if (fz_chance(fz_wild_ppm * 5))
        return (int32_t)fz_u32();
    return fz_below(10) ? (int32_t)fz_below(17) : -(int32_t)fz_below(4) - 1;
}
static int64_t fz_count64(void)
{
    if (fz_chance(fz_wild_ppm))
        return (int64_t)(((uint64_t)fz_u32() << 32) | fz_u32());
    return fz_count();
}
static int32_t fz_int(void)
{
    uint32_t r = fz_below(100);
    if (r < 50)
        return (int32_t)fz_below(9) - 2;
    if (r < 80)
        return fz_edge[fz_below(sizeof fz_edge / sizeof fz_edge[0])];
    return (int32_t)fz_u32();
}
static int32_t fz_rank(void)
{
    static const int32_t v[] = {0, 1, 2, -1, MPI_PROC_NULL, MPI_ANY_SOURCE, MPI_ROOT, 7, -100};
    return fz_below(8) ? v[fz_below(sizeof v / sizeof v[0])] : fz_int();
}
/* a peer for a blocking point-to-point call: never this rank, so it cannot wait forever */
static int32_t fz_rank_noblock(void)
{
    static const int32_t v[] = {MPI_PROC_NULL, 1, 2, 7, -100, 0x7fffffff};
    return v[fz_below(sizeof v / sizeof v[0])];
}
static int32_t fz_tag(void)
{
    static const int32_t v[] = {0, 1, 99, MPI_ANY_TAG, -5, 0x7fffffff, 1 << 24};
    return fz_below(8) ? v[fz_below(sizeof v / sizeof v[0])] : fz_int();
}

/* ---- handles ------------------------------------------------------------------------- */
#define FZ_POOL 64
typedef struct {
    int32_t v[FZ_POOL];
    uint32_t n;
} fz_pool_t;

/* per handle kind (FZ_K_*), generated: the predefined values of each kind */
typedef struct {
    const int32_t *pre;
    int npre;
    fz_pool_t pool;
} fz_kind_t;

static void fz_keep(fz_pool_t *p, int32_t v) { p->v[p->n++ % FZ_POOL] = v; }

static int32_t fz_pick(fz_kind_t *k)
{
    uint32_t r = fz_below(100);
    if (r < 40 && k->pool.n)
        return k->pool.v[fz_below(k->pool.n < FZ_POOL ? k->pool.n : FZ_POOL)];
    if (r < 75 && k->npre)
        return k->pre[fz_below((uint32_t)k->npre)];
    if (r < 85 && k->npre)
        return k->pre[fz_below((uint32_t)k->npre)] + (int32_t)fz_below(7) - 3;
    if (r < 90)
        return 0;
    if (r < 95 && k->pool.n) /* the slot next to a live handle, or in another kind */
        return k->pool.v[fz_below(k->pool.n < FZ_POOL ? k->pool.n : FZ_POOL)] +
               (fz_below(2) ? 1 : 0x1000000);
    return (int32_t)fz_u32();
}

/* a handle that is surely not a usable object of its kind (for calls that would block) */
static int32_t fz_bad(void)
{
    static const int32_t v[] = {-1, 0x7fffffff, 0x3ff, 0x0effffff};
    return fz_below(2) ? v[fz_below(4)] : (int32_t)(fz_u32() | 0x80000000u);
}

/* ---- strings ------------------------------------------------------------------------- */
static const char *const fz_words[] = {
    "", "a", "no_locks", "cb_nodes", "striping_factor", "host", "wdir", "path", "file",
    "arch", "soft", "mpi_assert_no_any_tag", "mpi_memory_alloc_kinds", "accumulate_ordering",
    "same_size", "../../etc/passwd", "/etc/passwd", "/proc/self/mem", "/tmp/wasmpi-fuzz",
    "%s%s%s%n", "ofi", "native", "internal", "external32", "true", "false", "-1", "8",
    "x=y", "key with spaces",
};
static char *fz_str(int i)
{
    char *s = (char *)fz_slots[i];
    switch (fz_below(8)) {
    case 0: { /* long: past MPI_MAX_INFO_KEY and friends */
        uint32_t n = 1 + fz_below(FZ_SLOT - 2);
        memset(s, 'k', n);
        s[n] = 0;
        break;
    }
    case 1: /* random bytes, NUL somewhere */
        for (int j = 0; j < 64; j++)
            s[j] = (char)fz_u32();
        s[63] = 0;
        break;
    default:
        strcpy(s, fz_words[fz_below(sizeof fz_words / sizeof fz_words[0])]);
    }
    return s;
}

/* ---- callbacks: guest function-table indices ----------------------------------------- */
static void fz_target(void) {}
static void *fz_fn(void)
{
    uint32_t r = fz_below(20);
    if (r < 12)
        return NULL;
    if (r < 14)
        return (void *)fz_target; /* a real function of the wrong type */
    if (r < 17)
        return (void *)(uintptr_t)(1 + fz_below(4096));
    return (void *)(uintptr_t)fz_u32();
}

/* fills slot i with n random elements of an array (el_size bytes each; plausible ints) */
static void fz_fill_ints(int i)
{
    int32_t *p = (int32_t *)fz_slots[i];
    for (int j = 0; j < 256; j++)
        p[j] = fz_chance(fz_wild_ppm * 20) ? fz_int() : (int32_t)fz_below(5) - (fz_below(16) == 0);
}
static void fz_fill_bytes(int i)
{
    uint32_t *p = (uint32_t *)fz_slots[i];
    for (int j = 0; j < 64; j++)
        p[j] = fz_u32();
}
