// Models kernel/time/posix-timers.c, posix-cpu-timers.c's clocks and hrtimer.c's system calls
// (v6.1): clock_gettime (the fixed clocks and any process's or thread's CPU clock), nanosleep.
#include "glasskernel/syscalls.h"
#include "glasskernel/time64.h"

namespace gk {

// CLOCK_REALTIME starts at a fixed instant so that runs are reproducible.
static constexpr u64 REALTIME_AT_BOOT = 1767225600ULL * NSEC_PER_SEC;  // 2026-01-01T00:00:00Z
using clockid_t = int;
enum { CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3,
       CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7,
       CLOCK_TAI = 11 };

// A negative clockid names a CPU clock: ~pid in the high bits (0: the caller), bit 2 per-thread,
// the low two bits which time (include/linux/posix-timers.h); low bits 3 name a clock device by
// file descriptor (CLOCKFD: PTP clocks, none here).
enum { CPUCLOCK_PROF = 0, CPUCLOCK_VIRT = 1, CPUCLOCK_SCHED = 2, CPUCLOCK_MAX = 3, CPUCLOCK_PERTHREAD_MASK = 4,
       CPUCLOCK_CLOCK_MASK = 3, CLOCKFD = 3, CLOCKFD_MASK = CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_CLOCK_MASK };
static pid_t CPUCLOCK_PID(clockid_t clock) { return ~(clock >> 3); }
static int CPUCLOCK_WHICH(clockid_t clock) { return clock & CPUCLOCK_CLOCK_MASK; }

// posix_cpu_clock_get: lookup_task (pid 0 is the caller), then the time it asks for. A thread
// group is one task in the model, so the process and thread clocks agree.
static int posix_cpu_clock_get(clockid_t clock, u64* ns) {
    if (CPUCLOCK_WHICH(clock) >= CPUCLOCK_MAX) return -EINVAL;
    pid_t pid = CPUCLOCK_PID(clock);
    task_struct* p = pid == 0 ? current : find_task_by_vpid(pid);
    if (!p) return -EINVAL;
    switch (CPUCLOCK_WHICH(clock)) {
    case CPUCLOCK_PROF: *ns = p->utime + p->stime; break;
    case CPUCLOCK_VIRT: *ns = p->utime; break;
    default: *ns = task_sched_runtime(p); break;
    }
    return 0;
}

static int posix_get_timespec(clockid_t which_clock, u64* ns) {
    if (which_clock < 0) {
        // clockid_to_kclock: a clock device by fd (none is modeled: get_clock_desc finds no
        // posix clock behind the fd), or a CPU clock.
        if ((which_clock & CLOCKFD_MASK) == CLOCKFD) return -EINVAL;
        return posix_cpu_clock_get(which_clock, ns);
    }
    switch (which_clock) {
    // CLOCK_TAI: the TAI offset is 0 until adjtimex sets it (no NTP here).
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_TAI: *ns = REALTIME_AT_BOOT + ktime_get(); return 0;
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME: *ns = ktime_get(); return 0;
    case CLOCK_PROCESS_CPUTIME_ID: case CLOCK_THREAD_CPUTIME_ID: *ns = task_sched_runtime(current); return 0;
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
