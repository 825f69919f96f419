/* Regression corpus: calls that once crashed or aborted the host, run first in every
 * campaign job. Each must now end in an MPI error class (or a clean trap: then it is last). */
static void fz_corpus(void)
{
}
