/* A module without MPI (no bridge): `spin forever` computes until stopped, `spin` prints. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "forever")) {
        volatile unsigned long x = 0;
        for (;;)
            x++;
    }
    printf("spin done\n");
    return 0;
}
