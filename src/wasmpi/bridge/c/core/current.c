/* Where the rank is: the MPI function being served, for the time limit's report.
 *
 * The loader's watchdog thread calls wasmpi_bridge_current while the rank's own thread runs
 * the guest or waits inside the host MPI. The callback writes g_call_args before g_call and
 * clears g_call on return (bridge.h), so a name read here always has had its slots stored; the
 * slots are copied and the name read again, so a call that ended meanwhile is not reported
 * with another call's arguments. The slots live on the rank's native stack, which stays
 * mapped: a stale read yields old values, never a fault. */
#include "bridge.h"

#define EXPORT __attribute__((visibility("default")))

const char *volatile g_call;
wasmtime_val_raw_t *volatile g_call_args;

/* The current MPI function's name (NULL when none) and its first `n` argument slots. */
EXPORT const char *wasmpi_bridge_current(int64_t *slots, int n)
{
    for (int tries = 0; tries < 64; tries++) {
        const char *call = g_call;
        if (!call)
            return NULL;
        wasmtime_val_raw_t *a = g_call_args;
        for (int i = 0; i < n; i++)
            slots[i] = a[i].i64;
        if (g_call == call && g_call_args == a)
            return call;
    }
    return NULL; /* calls follow each other too fast to catch one: the rank is computing */
}
