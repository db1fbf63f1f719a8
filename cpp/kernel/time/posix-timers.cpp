// Models kernel/time/posix-timers.c and hrtimer.c's system calls: clock_gettime, nanosleep.
#include "glasskernel/syscalls.h"

namespace gk {

// CLOCK_REALTIME starts at a fixed instant so that runs are reproducible.
static constexpr u64 REALTIME_AT_BOOT = 1767225600ULL * NSEC_PER_SEC;  // 2026-01-01T00:00:00Z
enum { CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
       CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7 };

SYSCALL_DEFINE(clock_gettime) {
    Kernel* k = this_kernel;
    task_struct* t = current;
    u64 ns;
    switch (regs.args[0]) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: ns = REALTIME_AT_BOOT + k->now(); break;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME: ns = k->now(); break;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID: ns = t->utime + t->stime; break;
    default: return -EINVAL;
    }
    t->thread.uout.v[0] = static_cast<long>(ns);
    return 0;
}

// args: the duration in ns. Out: what was left if a signal cut it short.
SYSCALL_DEFINE(nanosleep) {
    long ns = regs.args[0];
    if (ns < 0) return -EINVAL;
    u64 rem = 0;
    long r = hrtimer_nanosleep(static_cast<u64>(ns), &rem);
    current->thread.uout.v[0] = static_cast<long>(rem);
    return r;
}

}  // namespace gk
