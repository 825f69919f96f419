/* is: an NPB-IS-like parallel integer sort (bucket sort with an all-to-all key exchange).
 *
 *   is [T|S|W|A|B]     keys / max key: S 2^16 / 2^11, W 2^20 / 2^16, A 2^23 / 2^19 (default),
 *                      B 2^25 / 2^21; 10 timed iterations; T is S under another name (tests)
 *
 * What follows NPB IS's specification: the keys (NPB's 46-bit linear congruential generator,
 * seed 314159265, multiplier 5^13, each key MAX_KEY/4 times the sum of four uniforms; rank p
 * generates its block of the one global sequence by skipping ahead), one untimed iteration, then
 * 10 timed ones, each of which first sets keys[it] = it and keys[it + 10] = MAX_KEY - it, and
 * ranks all keys; the partial verification of 5 test keys' ranks per iteration against the
 * published values; a full sort checked for order after the timed loop; Mop/s = 10 * keys /
 * time / 1e6. The ranking itself is this file's: local bucket counts, an Allreduce of the
 * bucket totals, contiguous bucket ranges per rank, Alltoall of counts and Alltoallv of keys,
 * then a counting sort of the received key range. */
#include "kernel.h"

#define ITERATIONS 10

/* -DIS_PHASES: CPU or wall seconds per phase of the timed loop on stderr, per rank (for
 * docs/performance.md, "IS on the LLVM tier"); nothing otherwise */
#ifdef IS_PHASES
static const char *const phase_name[] = {"bucket-count", "bucket-scatter", "allreduce+ranges",
                                         "alltoall(v)", "key-count", "prefix-sum", "other"};
static double phase_t[7], phase_last;
static int phase_on;
#define PHASE(n) do { double t_ = MPI_Wtime(); if (phase_on) phase_t[n] += t_ - phase_last; \
                      phase_last = t_; } while (0)
#else
#define PHASE(n) ((void)0)
#endif
#define TESTS 5

static const int test_index[4][TESTS] = {
    {48427, 17148, 23627, 62548, 4431},                 /* S */
    {357773, 934767, 875723, 898999, 404505},          /* W */
    {2112377, 662041, 5336171, 3642833, 4250760},      /* A */
    {41869, 812306, 5102857, 18232239, 26860214},      /* B */
};
static const int test_rank[4][TESTS] = {
    {0, 18, 346, 64917, 65463},
    {1249, 11698, 1039987, 1043896, 1048018},
    {104, 17523, 123928, 8288932, 8388264},
    {33422937, 10244, 59149, 33135281, 99},
};

/* the published ranks drift with the iteration number, differently per class and test key */
static int expected_rank(int cls, int t, int it)
{
    int r = test_rank[cls][t];
    switch (cls) {
    case 0: return t <= 2 ? r + it : r - it;
    case 1: return t < 2 ? r + (it - 2) : r - it;
    case 2: return t <= 2 ? r + (it - 1) : r - (it - 1);
    default: return (t == 1 || t == 2 || t == 4) ? r + it : r - it;
    }
}

#define LCG_MASK ((1ULL << 46) - 1)

/* a^n mod 2^46: the generator's multiplier for a jump of n steps */
static uint64_t lcg_pow(uint64_t a, uint64_t n)
{
    uint64_t r = 1;
    while (n) {
        if (n & 1) r = (r * a) & LCG_MASK;
        a = (a * a) & LCG_MASK;
        n >>= 1;
    }
    return r;
}

typedef struct {
    int cls_index, max_key, shift, nbuckets;
    int64_t total;           /* keys, all ranks */
    int64_t first;           /* this rank's first global key index */
    int nkeys;               /* this rank's keys */
    int *keys;
    int *by_bucket;          /* local keys grouped by bucket, sent from here */
    int *recv;               /* keys received: this rank's key range */
    int recv_cap, nrecv;
    int *count;              /* over this rank's key range: keys <= k, after the prefix sum */
    int count_cap;
    int key_lo;              /* first key of this rank's range */
    int64_t lesser;          /* keys on lower ranks */
    int *bucket, *bucket_ptr, *bucket_lo;   /* nbuckets; bucket_lo: size + 1 */
    int64_t *totals;         /* nbuckets + TESTS: bucket totals then the test keys' values */
    int *scount, *sdispl, *rcount, *rdispl;
} sorter;

static void rank_keys(sorter *s, const kernel_env *e, int it, int *passed)
{
    const int nb = s->nbuckets, P = e->size;
    int i, j;
    /* the NPB per-iteration alteration, on whichever rank holds those global indices */
    for (j = 0; j < 2; j++) {
        int64_t g = j == 0 ? it : it + ITERATIONS;
        if (g >= s->first && g < s->first + s->nkeys)
            s->keys[g - s->first] = j == 0 ? it : s->max_key - it;
    }

    PHASE(6);
    memset(s->bucket, 0, sizeof(int) * nb);
    for (i = 0; i < s->nkeys; i++) s->bucket[s->keys[i] >> s->shift]++;
    PHASE(0);
    s->bucket_ptr[0] = 0;
    for (i = 1; i < nb; i++) s->bucket_ptr[i] = s->bucket_ptr[i - 1] + s->bucket[i - 1];
    for (i = 0; i < s->nkeys; i++) {
        int k = s->keys[i];
        s->by_bucket[s->bucket_ptr[k >> s->shift]++] = k;
    }

    PHASE(1);
    /* bucket totals and the test keys' values (0 from ranks not holding them) in one reduction */
    int64_t *loc = s->totals + nb + TESTS;
    for (i = 0; i < nb; i++) loc[i] = s->bucket[i];
    for (i = 0; i < TESTS; i++) {
        int64_t g = test_index[s->cls_index][i];
        loc[nb + i] = (g >= s->first && g < s->first + s->nkeys) ? s->keys[g - s->first] : 0;
    }
    MPI_Allreduce(loc, s->totals, nb + TESTS, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);

    /* rank j gets buckets [bucket_lo[j], bucket_lo[j+1]): cut where the running total passes
     * j+1 equal shares */
    int64_t acc = 0;
    s->bucket_lo[0] = 0;
    for (i = 0, j = 0; i < nb; i++) {
        acc += s->totals[i];
        while (j < P - 1 && acc >= (int64_t)(j + 1) * (s->total / P)) s->bucket_lo[++j] = i + 1;
    }
    while (j < P) s->bucket_lo[++j] = nb;

    for (j = 0; j < P; j++) {
        int c = 0;
        for (i = s->bucket_lo[j]; i < s->bucket_lo[j + 1]; i++) c += s->bucket[i];
        s->scount[j] = c;
        s->sdispl[j] = j ? s->sdispl[j - 1] + s->scount[j - 1] : 0;
    }
    PHASE(2);
    MPI_Alltoall(s->scount, 1, MPI_INT, s->rcount, 1, MPI_INT, MPI_COMM_WORLD);
    for (j = 0, s->nrecv = 0; j < P; j++) {
        s->rdispl[j] = s->nrecv;
        s->nrecv += s->rcount[j];
    }
    if (s->nrecv > s->recv_cap) {
        free(s->recv);
        s->recv_cap = s->nrecv + s->nrecv / 8;
        s->recv = (int *)kernel_alloc(sizeof(int) * s->recv_cap);
    }
    MPI_Alltoallv(s->by_bucket, s->scount, s->sdispl, MPI_INT, s->recv, s->rcount, s->rdispl,
                  MPI_INT, MPI_COMM_WORLD);

    PHASE(3);
    /* count the received keys over this rank's key range; prefix sums give each key's rank */
    const int blo = s->bucket_lo[e->rank], bhi = s->bucket_lo[e->rank + 1];
    const int range = (bhi - blo) << s->shift;
    s->key_lo = blo << s->shift;
    if (range > s->count_cap) {
        free(s->count);
        s->count_cap = range;
        s->count = (int *)kernel_alloc(sizeof(int) * (range ? range : 1));
    }
    int *restrict cnt = s->count;
    const int *restrict rk = s->recv;
    memset(cnt, 0, sizeof(int) * range);
    for (i = 0; i < s->nrecv; i++) cnt[rk[i] - s->key_lo]++;
    PHASE(4);
    for (i = 1; i < range; i++) cnt[i] += cnt[i - 1];
    PHASE(5);
    for (i = 0, s->lesser = 0; i < blo; i++) s->lesser += s->totals[i];

    PHASE(6);
    /* partial verification: the rank holding a test key's value checks its global rank */
    for (i = 0; i < TESTS; i++) {
        int64_t k = s->totals[nb + i];
        if (k > 0 && k <= s->total - 1 && k >= s->key_lo && k < s->key_lo + range) {
            int64_t r = s->lesser + (k > s->key_lo ? cnt[k - 1 - s->key_lo] : 0);
            if (r == expected_rank(s->cls_index, i, it))
                (*passed)++;
            else
                fprintf(stderr, "is: iteration %d, test key %d: rank %lld, expected %d\n", it,
                        i, (long long)r, expected_rank(s->cls_index, i, it));
        }
    }
}

/* sort the last iteration's keys with its counts and check the order, locally and across ranks */
static int full_verify(sorter *s, const kernel_env *e, int corrupt)
{
    int i, ok = 1;
    int *sorted = (int *)kernel_alloc(sizeof(int) * (s->nrecv ? s->nrecv : 1));
    for (i = 0; i < s->nrecv; i++) {
        int k = s->recv[i];
        sorted[--s->count[k - s->key_lo]] = k;
    }
    if (corrupt && s->nrecv > 1) {
        int t = sorted[0];
        sorted[0] = sorted[s->nrecv - 1];
        sorted[s->nrecv - 1] = t;
    }
    for (i = 1; i < s->nrecv; i++)
        if (sorted[i - 1] > sorted[i]) ok = 0;
    /* per rank: count, first, last; ranks' ranges must follow each other */
    int64_t mine[3] = {s->nrecv, s->nrecv ? sorted[0] : 0, s->nrecv ? sorted[s->nrecv - 1] : 0};
    int64_t *all = (int64_t *)kernel_alloc(sizeof(int64_t) * 3 * e->size);
    MPI_Allgather(mine, 3, MPI_INT64_T, all, 3, MPI_INT64_T, MPI_COMM_WORLD);
    int64_t sum = 0, last = -1;
    for (i = 0; i < e->size; i++) {
        sum += all[3 * i];
        if (all[3 * i] == 0) continue;
        if (all[3 * i + 1] < last) ok = 0;
        last = all[3 * i + 2];
    }
    if (sum != s->total) ok = 0;
    if (!ok) fprintf(stderr, "is: rank %d: keys out of order or lost\n", e->rank);
    free(all);
    free(sorted);
    return ok;
}

int main(int argc, char **argv)
{
    kernel_env e = kernel_init(&argc, &argv, "is", "TSWAB", 'A');
    int keys_log2, max_log2, it, i, passed = 0;
    const int buckets_log2 = 10;
    sorter s;
    memset(&s, 0, sizeof s);
    switch (e.cls) {
    case 'T': case 'S': keys_log2 = 16; max_log2 = 11; s.cls_index = 0; break;
    case 'W': keys_log2 = 20; max_log2 = 16; s.cls_index = 1; break;
    case 'B': keys_log2 = 25; max_log2 = 21; s.cls_index = 3; break;
    default: keys_log2 = 23; max_log2 = 19; s.cls_index = 2; break;
    }
    s.total = (int64_t)1 << keys_log2;
    s.max_key = 1 << max_log2;
    s.nbuckets = 1 << buckets_log2;
    s.shift = max_log2 - buckets_log2;
    /* NPB's block: ceil(total / ranks) keys each, the last rank fewer */
    int64_t per = (s.total + e.size - 1) / e.size;
    s.first = per * e.rank;
    s.nkeys = s.first >= s.total ? 0 : (int)(s.total - s.first < per ? s.total - s.first : per);
    s.keys = (int *)kernel_alloc(sizeof(int) * (s.nkeys ? s.nkeys : 1));
    s.by_bucket = (int *)kernel_alloc(sizeof(int) * (s.nkeys ? s.nkeys : 1));
    s.bucket = (int *)kernel_alloc(sizeof(int) * s.nbuckets);
    s.bucket_ptr = (int *)kernel_alloc(sizeof(int) * s.nbuckets);
    s.bucket_lo = (int *)kernel_alloc(sizeof(int) * (e.size + 1));
    s.totals = (int64_t *)kernel_alloc(sizeof(int64_t) * 2 * (s.nbuckets + TESTS));
    s.scount = (int *)kernel_alloc(sizeof(int) * 4 * e.size);
    s.sdispl = s.scount + e.size;
    s.rcount = s.sdispl + e.size;
    s.rdispl = s.rcount + e.size;

    /* the generator: x <- 5^13 x mod 2^46, uniform x / 2^46; skip 4 draws per earlier key */
    const uint64_t a = 1220703125ULL;
    uint64_t x = (314159265ULL * lcg_pow(a, 4 * (uint64_t)s.first)) & LCG_MASK;
    const double r46 = 1.0 / 70368744177664.0;
    const int quarter = s.max_key / 4;
    for (i = 0; i < s.nkeys; i++) {
        double u;
        x = (x * a) & LCG_MASK; u = (double)x * r46;
        x = (x * a) & LCG_MASK; u += (double)x * r46;
        x = (x * a) & LCG_MASK; u += (double)x * r46;
        x = (x * a) & LCG_MASK; u += (double)x * r46;
        s.keys[i] = (int)(quarter * u);
    }

    rank_keys(&s, &e, 1, &passed);   /* untimed warm-up, as NPB */
    passed = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
#ifdef IS_PHASES
    phase_on = 1;
    phase_last = t0;
#endif
    for (it = 1; it <= ITERATIONS; it++) rank_keys(&s, &e, it, &passed);
    double seconds = MPI_Wtime() - t0;
#ifdef IS_PHASES
    phase_on = 0;
    for (i = 0; i < 7; i++)
        fprintf(stderr, "PHASE rank=%d %s %.4f\n", e.rank, phase_name[i], phase_t[i]);
#endif

    int ok = full_verify(&s, &e, e.corrupt && e.rank == 0), total_passed = 0;
    MPI_Allreduce(&passed, &total_passed, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (total_passed != TESTS * ITERATIONS) {
        if (e.rank == 0)
            fprintf(stderr, "is: partial verification: %d of %d passed\n", total_passed,
                    TESTS * ITERATIONS);
        ok = 0;
    }
    free(s.keys); free(s.by_bucket); free(s.recv); free(s.count); free(s.bucket);
    free(s.bucket_ptr); free(s.bucket_lo); free(s.totals); free(s.scount);
    return kernel_finish(&e, "is", "Mop/s", (double)ITERATIONS * s.total / 1e6, seconds, ok);
}
