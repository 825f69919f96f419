/* What a rank sees of the host: argv, environment, granted directories. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *keys[] = {"WASMPI_T_SET", "WASMPI_T_PASS", "HOME", "PATH"};
    for (int i = 0; i < 4; i++) {
        const char *v = getenv(keys[i]);
        printf("env %s=%s\n", keys[i], v ? v : "<unset>");
    }
    /* write into the writable grant, read from the read-only one */
    FILE *f = fopen("/out/result.txt", "w");
    printf("write /out: %s\n", f ? "ok" : strerror(errno));
    if (f) { fputs("written by wasm\n", f); fclose(f); }
    f = fopen("/in/input.txt", "r");
    char line[64] = "";
    if (f) { fgets(line, sizeof line, f); fclose(f); }
    printf("read /in: %s", f ? line : "failed\n");
    f = fopen("/in/new.txt", "w");
    printf("write /in: %s\n", f ? "ok" : "denied");
    f = fopen("/etc/passwd", "r");
    printf("read /etc/passwd: %s\n", f ? "ok" : "denied");
    return 0;
}
