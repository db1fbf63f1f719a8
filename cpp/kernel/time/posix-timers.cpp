// Models kernel/time/posix-timers.c and hrtimer.c's system calls (v6.1): clock_gettime, nanosleep.
#include "glasskernel/syscalls.h"
#include "glasskernel/time64.h"

namespace gk {

// CLOCK_REALTIME starts at a fixed instant so that runs are reproducible.
static constexpr u64 REALTIME_AT_BOOT = 1767225600ULL * NSEC_PER_SEC;  // 2026-01-01T00:00:00Z
using clockid_t = int;
enum { CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
       CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7 };

static int posix_get_timespec(clockid_t which_clock, u64* ns) {
    task_struct* t = current;
    switch (which_clock) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: *ns = REALTIME_AT_BOOT + ktime_get(); return 0;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME: *ns = ktime_get(); return 0;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID: *ns = t->utime + t->stime; return 0;
    default: return -EINVAL;
    }
}

SYSCALL_DEFINE2(clock_gettime, const clockid_t, which_clock, struct __kernel_timespec __user *, tp) {
    u64 ns;
    int error = posix_get_timespec(which_clock, &ns);
    if (error) return error;
    __kernel_timespec kernel_tp = ns_to_timespec64(ns);
    return copy_to_user(tp, &kernel_tp, sizeof kernel_tp) ? -EFAULT : 0;
}

// A sleep a signal cuts short writes what was left to rmtp (nanosleep_copyout) and returns
// -ERESTART_RESTARTBLOCK: EINTR if a handler runs, otherwise restart_syscall sleeps on.
SYSCALL_DEFINE2(nanosleep, struct __kernel_timespec __user *, rqtp, struct __kernel_timespec __user *, rmtp) {
    __kernel_timespec tu;
    if (copy_from_user(&tu, rqtp, sizeof tu)) return -EFAULT;
    if (!timespec64_valid(&tu)) return -EINVAL;
    current->restart_block.fn = nullptr;
    current->restart_block.rmtp = rmtp;
    return hrtimer_nanosleep(timespec64_to_ns(&tu));
}

}  // namespace gk
