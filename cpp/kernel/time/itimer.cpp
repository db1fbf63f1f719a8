// Models kernel/time/itimer.c and the itimer part of posix-cpu-timers.c (v6.1): alarm, setitimer,
// getitimer; ITIMER_REAL fires SIGALRM from an hrtimer (it_real_fn), ITIMER_VIRTUAL and ITIMER_PROF
// fire SIGVTALRM / SIGPROF when the process's CPU time passes them, checked at the tick.
#include "glasskernel/syscalls.h"
#include "glasskernel/time64.h"

namespace gk {

enum { ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2 };
enum { CPUCLOCK_PROF = 0, CPUCLOCK_VIRT = 1 };

hrtimer_restart it_real_fn(hrtimer* timer) {
    trace_scope ts("it_real_fn");
    auto* sig = static_cast<signal_struct*>(timer->data);
    trace_point("itimer_expire", "which=%d pid=%d now=%llu", ITIMER_REAL, sig->leader_task ? sig->leader_task->pid : 0,
                static_cast<unsigned long long>(ktime_get()));
    kernel_siginfo info;
    info.si_signo = SIGALRM;
    info.si_code = SI_KERNEL;
    if (sig->leader_task) kill_pid_info(SIGALRM, &info, sig->leader_task->thread_pid);
    if (sig->it_real_incr) {
        timer->expires += sig->it_real_incr;
        return HRTIMER_RESTART;
    }
    return HRTIMER_NORESTART;
}

void init_signal_timers(signal_struct* sig, task_struct* leader) {
    hrtimer_init(&sig->real_timer, it_real_fn, "it_real_fn");
    sig->real_timer.data = sig;
    sig->leader_task = leader;
}

static u64 process_cputime(task_struct* t, int clock) {
    u64 ns = t->utime;
    return clock == CPUCLOCK_PROF ? ns + t->stime : ns;
}

// At each tick, on the running task: has its CPU time passed an armed CPU itimer?
void run_posix_cpu_timers() {
    task_struct* t = current;
    if (!t || !t->signal || (t->flags & (PF_KTHREAD | PF_IDLE | PF_EXITING))) return;
    static const int sigs[2] = {SIGPROF, SIGVTALRM};
    for (int c = CPUCLOCK_PROF; c <= CPUCLOCK_VIRT; c++) {
        cpu_itimer* it = &t->signal->it[c];
        if (!it->expires) continue;
        u64 now = process_cputime(t, c);
        if (now < it->expires) continue;
        // Linux's check_cpu_itimer() (kernel/time/posix-cpu-timers.c), written out here; its
        // scope opens only for a timer that expired, so that ticks without one stay quiet.
        INLINED_SCOPE(ts, "check_cpu_itimer", "which=%d", c == CPUCLOCK_PROF ? ITIMER_PROF : ITIMER_VIRTUAL);
        it->expires = it->incr ? it->expires + it->incr : 0;
        if (it->expires && it->expires <= now) it->expires = now + it->incr;
        kernel_siginfo info;
        info.si_signo = sigs[c];
        info.si_code = SI_KERNEL;
        send_signal_locked(sigs[c], &info, t, PIDTYPE_TGID);
    }
}

static void get_itimer(task_struct* t, int which, u64* value, u64* interval) {
    signal_struct* sig = t->signal.get();
    if (which == ITIMER_REAL) {
        u64 now = ktime_get();
        *value = hrtimer_active(&sig->real_timer) ? (sig->real_timer.expires > now ? sig->real_timer.expires - now : 1) : 0;
        *interval = sig->it_real_incr;
        return;
    }
    int c = which == ITIMER_PROF ? CPUCLOCK_PROF : CPUCLOCK_VIRT;
    u64 now = process_cputime(t, c);
    cpu_itimer* it = &sig->it[c];
    *value = it->expires ? (it->expires > now ? it->expires - now : 1) : 0;
    *interval = it->incr;
}

static long do_setitimer(int which, u64 value, u64 interval, u64* ovalue, u64* ointerval) {
    trace_scope ts("do_setitimer", "which=%d value=%llu interval=%llu", which, static_cast<unsigned long long>(value),
                   static_cast<unsigned long long>(interval));
    task_struct* t = current;
    signal_struct* sig = t->signal.get();
    if (which < ITIMER_REAL || which > ITIMER_PROF) return ts.ret(-EINVAL);
    get_itimer(t, which, ovalue, ointerval);
    if (which == ITIMER_REAL) {
        hrtimer_cancel(&sig->real_timer);
        sig->it_real_incr = interval;
        if (value) hrtimer_start(&sig->real_timer, ktime_add_safe(ktime_get(), value), smp_processor_id());
        return ts.ret(0);
    }
    int c = which == ITIMER_PROF ? CPUCLOCK_PROF : CPUCLOCK_VIRT;
    sig->it[c].incr = interval;
    sig->it[c].expires = value ? ktime_add_safe(process_cputime(t, c), value) : 0;
    return ts.ret(0);
}

static int get_itimerval(u64* value, u64* interval, const __kernel_old_itimerval __user* i) {
    __kernel_old_itimerval v;
    if (copy_from_user(&v, i, sizeof v)) return -EFAULT;
    if (!timeval_valid(&v.it_value) || !timeval_valid(&v.it_interval)) return -EINVAL;
    *value = timeval_to_ns(&v.it_value);
    *interval = timeval_to_ns(&v.it_interval);
    return 0;
}

static int put_itimerval(__kernel_old_itimerval __user* o, u64 value, u64 interval) {
    __kernel_old_itimerval v{ns_to_kernel_old_timeval(interval), ns_to_kernel_old_timeval(value)};
    return copy_to_user(o, &v, sizeof v) ? -EFAULT : 0;
}

// A NULL new value disarms the timer (a misfeature Linux keeps, with a warning).
SYSCALL_DEFINE3(setitimer, int, which, struct __kernel_old_itimerval __user *, value,
                struct __kernel_old_itimerval __user *, ovalue) {
    u64 v = 0, i = 0, ov = 0, oi = 0;
    if (value) {
        int error = get_itimerval(&v, &i, value);
        if (error) return error;
    }
    long error = do_setitimer(which, v, i, &ov, &oi);
    if (error || !ovalue) return error;
    return put_itimerval(ovalue, ov, oi);
}

SYSCALL_DEFINE2(getitimer, int, which, struct __kernel_old_itimerval __user *, value) {
    if (which < ITIMER_REAL || which > ITIMER_PROF) return -EINVAL;
    u64 v, i;
    get_itimer(current, which, &v, &i);
    return put_itimerval(value, v, i);
}

// alarm(seconds): ITIMER_REAL without interval; returns the seconds left on the old one,
// rounded to the nearest second but never 0 for a pending alarm.
SYSCALL_DEFINE1(alarm, unsigned int, seconds) {
    u64 ov = 0, oi = 0;
    do_setitimer(ITIMER_REAL, static_cast<u64>(seconds) * NSEC_PER_SEC, 0, &ov, &oi);
    u64 secs = ov / NSEC_PER_SEC, rem_us = (ov % NSEC_PER_SEC) / NSEC_PER_USEC;
    if ((!secs && rem_us) || rem_us >= 500000) secs++;
    return static_cast<long>(secs);
}

}  // namespace gk
