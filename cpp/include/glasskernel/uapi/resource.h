// Models include/uapi/linux/resource.h (v6.1): struct rusage, struct rlimit and struct rlimit64.
#pragma once
#include "glasskernel/uapi/time_types.h"

namespace gk {

struct rusage {
    __kernel_old_timeval ru_utime;
    __kernel_old_timeval ru_stime;
    long ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, ru_majflt, ru_nswap;
    long ru_inblock, ru_oublock, ru_msgsnd, ru_msgrcv, ru_nsignals, ru_nvcsw, ru_nivcsw;
};
static_assert(sizeof(rusage) == 144);

struct rlimit {
    unsigned long rlim_cur;
    unsigned long rlim_max;
};

struct rlimit64 {
    u64 rlim_cur;
    u64 rlim_max;
};

}  // namespace gk
