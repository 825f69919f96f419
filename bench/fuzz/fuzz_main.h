/* Fuzzer helpers that need the generated handle kinds (fuzz.py includes this after them). */
static fz_pool_t fz_keyvals, fz_mems;

#define fz_fill_with(i, expr) \
    do { \
        int32_t *p_ = (int32_t *)fz_slots[i]; \
        for (int j_ = 0; j_ < 64; j_++) \
            p_[j_] = (expr); \
    } while (0)

static void fz_fill_count64(int i)
{
    int64_t *p = (int64_t *)fz_slots[i];
    for (int j = 0; j < 64; j++)
        p[j] = fz_chance(fz_wild_ppm * 20) ? fz_count64() : (int64_t)fz_below(5);
}

static void fz_fill_strs(int i)
{
    const char **p = (const char **)fz_slots[i];
    for (int j = 0; j < 64; j++)
        p[j] = !fz_chance(fz_wild_ppm * 20) ? fz_words[fz_below(sizeof fz_words / sizeof fz_words[0])]
                           : (const char *)(uintptr_t)fz_u32();
}

static int32_t fz_keyval(void)
{
    uint32_t r = fz_below(4);
    if (r == 0 && fz_keyvals.n)
        return fz_keyvals.v[fz_below(fz_keyvals.n < FZ_POOL ? fz_keyvals.n : FZ_POOL)];
    if (r == 1)
        return fz_pre_keyvals[fz_below(sizeof fz_pre_keyvals / sizeof fz_pre_keyvals[0])];
    return fz_int();
}

/* never a fatal handler: it would end the run at the next error class */
static int32_t fz_errhandler(void)
{
    uint32_t r = fz_below(4);
    if (r == 0)
        return (int32_t)MPI_ERRORS_RETURN;
    if (r == 1 && fz_k[FZ_K_ERRHANDLER].pool.n) /* a user handler (guest callback) */
        return fz_k[FZ_K_ERRHANDLER].pool.v[fz_below(fz_k[FZ_K_ERRHANDLER].pool.n < FZ_POOL
                                                      ? fz_k[FZ_K_ERRHANDLER].pool.n : FZ_POOL)];
    return fz_bad();
}

/* what MPI_Alloc_mem returned, or NULL */
static void *fz_mem(void)
{
    if (!fz_mems.n || fz_below(4) == 0)
        return NULL;
    uint32_t i = fz_below(fz_mems.n < FZ_POOL ? fz_mems.n : FZ_POOL);
    int32_t v = fz_mems.v[i];
    fz_mems.v[i] = 0; /* freed once */
    return (void *)(uintptr_t)(uint32_t)v;
}

/* a new datatype joins the pool only if 17 elements of it stay inside the data area, so that
 * receives into it never overwrite the fuzzer's own state (huge types are still made and
 * used once, by the call that made them) */
static void fz_keep_type(int32_t t)
{
    MPI_Aint lb, ext, tlb, text;
    if (MPI_Type_get_extent((MPI_Datatype)t, &lb, &ext) != MPI_SUCCESS ||
        MPI_Type_get_true_extent((MPI_Datatype)t, &tlb, &text) != MPI_SUCCESS)
        return;
    if (ext < -FZ_SPAN || ext > FZ_SPAN || tlb < -FZ_SPAN || tlb + text > FZ_SPAN || text < 0)
        return;
    fz_keep(&fz_k[FZ_K_DATATYPE].pool, t);
}

/* windows start with MPI_ERRORS_ARE_FATAL, which would end the run at their first error */
static void fz_keep_win(int32_t w)
{
    MPI_Win_set_errhandler((MPI_Win)w, MPI_ERRORS_RETURN);
    fz_keep(&fz_k[FZ_K_WIN].pool, w);
}
