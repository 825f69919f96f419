/* Opens link/f.txt many times while the harness swaps `link` between a directory inside the
 * grant and one outside it (tests/integration/test_wasi_c.py): every open must either read
 * the inside file or fail; the outside file must never be read. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    int inside = 0, refused = 0, leaked = 0;
    for (int i = 0; i < 4000; i++) {
        int fd = open("link/f.txt", O_RDONLY);
        if (fd < 0) {
            refused++;
            continue;
        }
        char buf[16] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0 && !strncmp(buf, "inside", 6))
            inside++;
        else
            leaked++;
    }
    printf("leaked %d\n", leaked);
    fprintf(stderr, "inside %d refused %d\n", inside, refused);
    return leaked != 0;
}
