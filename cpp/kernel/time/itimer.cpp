// Models kernel/time/itimer.c and the itimer part of posix-cpu-timers.c: alarm, setitimer,
// getitimer; ITIMER_REAL fires SIGALRM from an hrtimer (it_real_fn), ITIMER_VIRTUAL and
// ITIMER_PROF fire SIGVTALRM / SIGPROF when the process's CPU time passes them, checked at the tick.
#include "glasskernel/syscalls.h"

namespace gk {

enum { ITIMER_REAL = 0, ITIMER_VIRTUAL = 1, ITIMER_PROF = 2 };
enum { CPUCLOCK_PROF = 0, CPUCLOCK_VIRT = 1 };

hrtimer_restart it_real_fn(hrtimer* timer) {
    trace_scope ts("it_real_fn");
    auto* sig = static_cast<signal_struct*>(timer->data);
    trace_point("itimer_expire", "which=%d pid=%d now=%llu", ITIMER_REAL, sig->leader_task ? sig->leader_task->pid : 0,
                static_cast<unsigned long long>(this_kernel->now()));
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
        trace_scope ts("check_cpu_itimer", "which=%d", c == CPUCLOCK_PROF ? ITIMER_PROF : ITIMER_VIRTUAL);
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
        u64 now = this_kernel->now();
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
        if (value) hrtimer_start(&sig->real_timer, this_kernel->now() + value, this_kernel->this_cpu);
        return ts.ret(0);
    }
    int c = which == ITIMER_PROF ? CPUCLOCK_PROF : CPUCLOCK_VIRT;
    sig->it[c].incr = interval;
    sig->it[c].expires = value ? process_cputime(t, c) + value : 0;
    return ts.ret(0);
}

static constexpr long MAX_ITIMER_NS = static_cast<long>(INT_MAX) * static_cast<long>(NSEC_PER_SEC);

// args: which, value ns, interval ns. Out: the old value and interval.
SYSCALL_DEFINE(setitimer) {
    if (regs.args[1] < 0 || regs.args[2] < 0 || regs.args[1] > MAX_ITIMER_NS || regs.args[2] > MAX_ITIMER_NS) return -EINVAL;
    u64 ov = 0, oi = 0;
    long r = do_setitimer(static_cast<int>(regs.args[0]), static_cast<u64>(regs.args[1]), static_cast<u64>(regs.args[2]), &ov, &oi);
    current->thread.uout.v[0] = static_cast<long>(ov);
    current->thread.uout.v[1] = static_cast<long>(oi);
    return r;
}

SYSCALL_DEFINE(getitimer) {
    int which = static_cast<int>(regs.args[0]);
    if (which < ITIMER_REAL || which > ITIMER_PROF) return -EINVAL;
    u64 v, i;
    get_itimer(current, which, &v, &i);
    current->thread.uout.v[0] = static_cast<long>(v);
    current->thread.uout.v[1] = static_cast<long>(i);
    return 0;
}

// alarm(seconds): ITIMER_REAL without interval; returns the seconds left on the old one,
// rounded to the nearest second but never 0 for a pending alarm.
SYSCALL_DEFINE(alarm) {
    long seconds = regs.args[0];
    if (seconds < 0) seconds = 0;
    if (seconds > INT_MAX) seconds = INT_MAX;
    u64 ov = 0, oi = 0;
    do_setitimer(ITIMER_REAL, static_cast<u64>(seconds) * NSEC_PER_SEC, 0, &ov, &oi);
    u64 secs = ov / NSEC_PER_SEC, rem_us = (ov % NSEC_PER_SEC) / NSEC_PER_USEC;
    if ((!secs && rem_us) || rem_us >= 500000) secs++;
    return static_cast<long>(secs);
}

}  // namespace gk
