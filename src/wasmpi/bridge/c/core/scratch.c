/* Scratch memory for translated arguments (Aint and handle arrays, request arrays, ...).
 * A stack of frames in blocks that never move: a callback marks the stack on entry and
 * releases back to its mark on return (SCRATCH_FRAME), so a callback that re-enters MPI from
 * a guest callback (a user op calling MPI_Type_size, an error handler calling
 * MPI_Comm_rank) gets fresh memory above its caller's, which stays intact. */
#include "bridge.h"

typedef struct block {
    struct block *next, *prev;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} block_t;

static block_t *cur;

scratch_mark_t scratch_mark(void)
{
    return (scratch_mark_t){cur, cur ? cur->used : 0};
}

void scratch_release(scratch_mark_t *m)
{
    block_t *b = m->block;
    if (!b) { /* everything since an empty stack */
        for (b = cur; b && b->prev; b = b->prev)
            b->used = 0;
        if (b)
            b->used = 0;
        cur = b;
        return;
    }
    for (block_t *x = cur; x && x != b; x = x->prev)
        x->used = 0;
    b->used = m->used;
    cur = b;
}

void *scratch_alloc(size_t bytes)
{
    bytes = (bytes + 15) & ~(size_t)15;
    while (cur && cur->used + bytes > cur->size && cur->next)
        cur = cur->next; /* a later block kept from an earlier, deeper frame */
    if (!cur || cur->used + bytes > cur->size) {
        size_t size = bytes > 65536 ? bytes : 65536;
        block_t *b = malloc(sizeof *b + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        b->prev = cur;
        b->next = cur ? cur->next : NULL;
        if (cur)
            cur->next = b;
        if (b->next)
            b->next->prev = b;
        cur = b;
    }
    void *p = cur->data + cur->used;
    cur->used += bytes;
    return p;
}
