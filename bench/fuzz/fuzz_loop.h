/* The fuzzer's main loop: argv = seed, calls, wild pointers per million draws, and "trace" to
 * print each call before making it (to find the call that ended a run). */
static unsigned long fz_classes[128];

int main(int argc, char **argv)
{
    unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;
    long calls = argc > 2 ? strtol(argv[2], NULL, 10) : 1000;
    fz_wild_ppm = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : fz_wild_ppm;
    int trace = argc > 4 && strcmp(argv[4], "trace") == 0;
    fz_state ^= seed * 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 8; i++)
        fz_u32();
    MPI_Init(&argc, &argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    fz_corpus();
    /* each progress line lists the imports (indices into fz_names) of the calls since the
     * previous one, so the driver counts calls per import even when a later call ends the run */
    static unsigned short made[100];
    int nmade = 0;
    for (long i = 0; i <= calls; i++) {
        if (i % 100 == 0 || i == calls) {
            printf("P %ld", i);
            for (int j = 0; j < nmade; j++)
                printf(" %u", made[j]);
            printf("\n");
            fflush(stdout);
            nmade = 0;
        }
        if (i == calls)
            break;
        uint32_t k = fz_below(FZ_N);
        made[nmade++] = (unsigned short)k;
        if (trace) {
            printf("T %ld %s\n", i, fz_names[k]);
            fflush(stdout);
        }
        int rc = fz_calls[k]();
        fz_classes[(unsigned)rc < 128 ? rc : 127]++;
    }
    printf("DONE %ld\n", calls);
    for (int c = 0; c < 128; c++)
        if (fz_classes[c])
            printf("C %d %lu\n", c, fz_classes[c]);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
