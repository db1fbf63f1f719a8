// Models include/uapi/linux/time_types.h (v6.1): the time structures system calls copy to and from
// user memory, in the x86_64 layout.
#pragma once
#include "glasskernel/types.h"

namespace gk {

struct __kernel_timespec {
    long long tv_sec;
    long long tv_nsec;
};

struct __kernel_old_timeval {
    long tv_sec;
    long tv_usec;
};

struct __kernel_old_itimerval {
    __kernel_old_timeval it_interval;  // the reload value
    __kernel_old_timeval it_value;     // the time to the next expiry
};

}  // namespace gk
