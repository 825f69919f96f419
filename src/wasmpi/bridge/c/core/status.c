/* MPI_Status in the guest: {SOURCE, TAG, ERROR, internal[5]}, 32 bytes.
 * The host status's other words (its element count and cancelled flag, in the host MPI's own
 * encoding: 2 words in MPICH, 3 in Open MPI) travel in the guest's internal words, so a status
 * round-trips exactly and completing a receive costs no extra MPI call. A host status too large
 * for that falls back to {count_lo, count_hi, cancelled} read through MPI calls. */
#include "bridge.h"

static int opaque_word[5], n_opaque = -1;

void status_layout(void)
{
    if (sizeof(MPI_Status) % 4 != 0)
        return;
    int k = 0;
    for (size_t w = 0; w < sizeof(MPI_Status) / 4; w++) {
        size_t off = 4 * w;
        if (off == offsetof(MPI_Status, MPI_SOURCE) || off == offsetof(MPI_Status, MPI_TAG) ||
            off == offsetof(MPI_Status, MPI_ERROR))
            continue;
        if (k == 5)
            return;
        opaque_word[k++] = (int)w;
    }
    n_opaque = k;
}

void status_out(uint32_t gp, const MPI_Status *hs, int with_error)
{
    int32_t g[8];
    g[0] = out_rank(hs->MPI_SOURCE);
    g[1] = out_tag(hs->MPI_TAG);
    /* MPI_ERROR is only written by the multiple-completion calls that report per-request errors */
    g[2] = with_error ? (hs->MPI_ERROR == MPI_SUCCESS ? 0 : abi_error(hs->MPI_ERROR))
                      : load_i32(gp + 8);
    if (n_opaque >= 0) {
        const int32_t *h = (const int32_t *)hs;
        for (int k = 0; k < 5; k++)
            g[3 + k] = k < n_opaque ? h[opaque_word[k]] : 0;
    } else {
        MPI_Count bytes = 0;
        int cancelled = 0;
        MPI_Get_elements_x(hs, MPI_BYTE, &bytes);
        MPI_Test_cancelled(hs, &cancelled);
        g[3] = (int32_t)(uint32_t)((uint64_t)bytes & 0xffffffffu);
        g[4] = (int32_t)(uint32_t)((uint64_t)bytes >> 32);
        g[5] = cancelled;
    }
    memcpy(GPTR(gp), g, sizeof g);
}

void status_in(uint32_t gp, MPI_Status *hs)
{
    int32_t g[8];
    memcpy(g, GPTR(gp), sizeof g);
    memset(hs, 0, sizeof *hs);
    hs->MPI_SOURCE = in_rank(g[0]);
    hs->MPI_TAG = in_tag(g[1]);
    hs->MPI_ERROR = MPI_SUCCESS;
    if (n_opaque >= 0) {
        int32_t *h = (int32_t *)hs;
        for (int k = 0; k < n_opaque; k++)
            h[opaque_word[k]] = g[3 + k];
        return;
    }
    MPI_Status_set_elements_x(hs, MPI_BYTE,
                              (MPI_Count)(((uint64_t)(uint32_t)g[4] << 32) | (uint32_t)g[3]));
    MPI_Status_set_cancelled(hs, g[5]);
}
