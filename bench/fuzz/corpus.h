/* Regression corpus: calls that once crashed or aborted the host MPI, run first in every
 * campaign job. Each must now return its MPI error class; a wrong class prints a CORPUS line,
 * which the driver counts as a FAILURE. */
static int fz_corpus_bad;

static void fz_expect(const char *what, int rc, int want)
{
    if (rc != want) {
        printf("CORPUS %s: got %d, want %d\n", what, rc, want);
        fz_corpus_bad++;
    }
}

static void fz_corpus(void)
{
    int dims[4], periods[4], coords[4], pos;
    /* MPICH 5.0 segfaulted: MPI_Cart_get on a communicator without a topology */
    fz_expect("Cart_get(WORLD)", MPI_Cart_get(MPI_COMM_WORLD, 0, dims, periods, coords),
              MPI_ERR_TOPOLOGY);
    /* MPICH asserted (dt_ptr): data of MPI_DATATYPE_NULL */
    fz_expect("Allreduce_c(DATATYPE_NULL)",
              MPI_Allreduce_c(fz_data, fz_data + 64, 11, MPI_DATATYPE_NULL, MPI_MINLOC,
                              MPI_COMM_SELF), MPI_ERR_TYPE);
    int counts[1] = {1}, displs[1] = {0};
    fz_expect("Allgatherv(DATATYPE_NULL)",
              MPI_Allgatherv(fz_data, 1, MPI_INT, fz_data + 64, counts, displs,
                             MPI_DATATYPE_NULL, MPI_COMM_SELF), MPI_ERR_TYPE);
    /* the host read or wrote the pack buffer at an unchecked position, outside linear memory */
    MPI_Count cpos = 0x7ffff0000000ll;
    fz_expect("Unpack_external_c(position)",
              MPI_Unpack_external_c("external32", fz_data, 16, &cpos, fz_data + 64, 1, MPI_INT),
              MPI_ERR_ARG);
    pos = -(1 << 30);
    fz_expect("Pack(position)",
              MPI_Pack(fz_data, 1, MPI_INT, fz_data + 64, 16, &pos, MPI_COMM_SELF), MPI_ERR_ARG);
    pos = 17;
    fz_expect("Unpack(position)",
              MPI_Unpack(fz_data, 16, &pos, fz_data + 64, 1, MPI_INT, MPI_COMM_SELF),
              MPI_ERR_ARG);
    /* Open MPI 5.0 looped or segfaulted in its convertor on an uncommitted datatype */
    MPI_Datatype t;
    MPI_Aint asz;
    MPI_Request req;
    MPI_Type_contiguous(4, MPI_INT, &t);
    fz_expect("Pack_external_size(uncommitted)",
              MPI_Pack_external_size("external32", 8, t, &asz), MPI_ERR_TYPE);
    fz_expect("Pack_size(uncommitted)", MPI_Pack_size(7, t, MPI_COMM_SELF, &pos), MPI_ERR_TYPE);
    fz_expect("Iallgatherv(uncommitted)",
              MPI_Iallgatherv(fz_data, 1, MPI_INT, fz_data + 64, counts, displs, t,
                              MPI_COMM_SELF, &req), MPI_ERR_TYPE);
    MPI_Type_free(&t);
    /* Open MPI 5.0 segfaulted: MPI_Win_flush(_local) of a rank outside the window */
    MPI_Win w;
    if (MPI_Win_create(fz_data, 64, 1, MPI_INFO_NULL, MPI_COMM_SELF, &w) == MPI_SUCCESS) {
        MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
        fz_expect("Win_flush(3)", MPI_Win_flush(3, w), MPI_ERR_RANK);
        fz_expect("Win_flush_local(-2)", MPI_Win_flush_local(-2, w), MPI_ERR_RANK);
        fz_expect("Win_flush_local(PROC_NULL)", MPI_Win_flush_local(MPI_PROC_NULL, w),
                  MPI_SUCCESS);
        MPI_Win_free(&w);
    }
    /* Open MPI 5.0 raised this on no communicator: a fatal abort under MPI_ERRORS_RETURN */
    MPI_Message msg = MPI_MESSAGE_NULL;
    fz_expect("Mrecv(MESSAGE_NULL)", MPI_Mrecv(fz_data, 1, MPI_INT, &msg, MPI_STATUS_IGNORE),
              MPI_ERR_REQUEST);
    /* MPICH asserted, Open MPI 5.0 waited forever: MPI_Cancel of a collective's request */
    MPI_Request creq;
    if (MPI_Ibarrier(MPI_COMM_SELF, &creq) == MPI_SUCCESS) {
        fz_expect("Cancel(Ibarrier)", MPI_Cancel(&creq), MPI_ERR_REQUEST);
        MPI_Wait(&creq, MPI_STATUS_IGNORE);
    }
    /* Open MPI 5.0.11 segfaulted: its MPI_REAL16 reductions on an 8-byte-aligned buffer
     * (seeds 622, 823); the bridge computes them in binary128 */
    memset(fz_data, 0, 128);
    fz_expect("Reduce_local(REAL16 at +8, MAX)",
              MPI_Reduce_local(fz_data + 8, fz_data + 72, 2, MPI_REAL16, MPI_MAX), MPI_SUCCESS);
    /* Open MPI 5.0.11 segfaulted: a type from MPI_Type_get_contents is a copy of an
     * uncommitted inner type (seed 933); the bridge commits what it hands the guest */
    MPI_Datatype ix, outer, inner[1];
    int bl[2] = {1, 1}, dp[2] = {0, 2}, ci[1];
    MPI_Aint ca[1];
    MPI_Type_indexed(2, bl, dp, MPI_INT, &ix);
    MPI_Type_contiguous(1, ix, &outer);
    MPI_Type_commit(&outer);
    if (MPI_Type_get_contents(outer, 1, 0, 1, ci, ca, inner) == MPI_SUCCESS) {
        fz_expect("Gather(Type_get_contents type)",
                  MPI_Gather(fz_data, 2, MPI_INT, fz_data + 64, 1, inner[0], 0, MPI_COMM_SELF),
                  MPI_SUCCESS);
        MPI_Type_free(&inner[0]);
    }
    MPI_Type_free(&outer);
    MPI_Type_free(&ix);
    /* Open MPI 5.0.11: MPI_Testall with one libnbc request twice freed it twice, and a later
     * nonblocking collective segfaulted (seed 47) */
    MPI_Request twice[2];
    int flag2 = 0;
    if (MPI_Ibarrier(MPI_COMM_SELF, &twice[0]) == MPI_SUCCESS) {
        twice[1] = twice[0];
        fz_expect("Testall(same request twice)",
                  MPI_Testall(2, twice, &flag2, MPI_STATUSES_IGNORE), MPI_ERR_REQUEST);
        fz_expect("Request_free(Ibarrier)", MPI_Request_free(&twice[0]), MPI_ERR_REQUEST);
        MPI_Wait(&twice[0], MPI_STATUS_IGNORE);
    }
    printf("CORPUS done, %d bad\n", fz_corpus_bad);
}
