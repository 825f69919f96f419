#include "bridge.h"
#include <fcntl.h>
#include <unistd.h>
int sandbox_open(const char *guest_path, int flags, mode_t mode, int *fd_out)
{
    *fd_out = open(guest_path, flags, mode);
    return *fd_out >= 0 ? ABI_SUCCESS : ABI_ERR_NO_SUCH_FILE;
}
