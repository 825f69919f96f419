/* The program's object file; main is in libmain.a, or nowhere. */
int work(int rank) { return 10 + rank; }
