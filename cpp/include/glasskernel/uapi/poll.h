// Models include/uapi/asm-generic/poll.h and linux/posix_types.h (v6.1): struct pollfd, what
// poll(2) reads and fills in, and fd_set, select(2)'s bitmap of 1024 descriptors.
#pragma once
#include "glasskernel/types.h"

namespace gk {

struct pollfd {
    int fd;
    short events;
    short revents;
};

constexpr int FD_SETSIZE = 1024;
struct fd_set {
    unsigned long fds_bits[FD_SETSIZE / (8 * sizeof(unsigned long))];
};

}  // namespace gk
