// Models kernel/time/hrtimer.c (v6.1): per-CPU timer queues on the virtual clock,
// hrtimer_interrupt, and the sleepers behind nanosleep and schedule_hrtimeout.
#include "glasskernel/linux.h"
#include "glasskernel/time64.h"

namespace gk {

static u64 hrtimer_seq = 0;

void hrtimer_init(hrtimer* timer, hrtimer_restart (*fn)(hrtimer*), const char* name) {
    timer->function = fn;
    timer->name = name;
    timer->cpu = -1;
}

void hrtimer_start(hrtimer* timer, u64 expires_abs, int cpu) {
    Kernel* k = this_kernel;
    hrtimer_cancel(timer);
    timer->expires = expires_abs;
    timer->seq = hrtimer_seq++;
    timer->cpu = cpu;
    k->hrtimer_bases[cpu].active.insert(*timer);
}

bool hrtimer_cancel(hrtimer* timer) {
    if (timer->cpu < 0) return false;
    Kernel* k = this_kernel;
    auto& q = k->hrtimer_bases[timer->cpu].active;
    q.erase(q.iterator_to(*timer));
    timer->cpu = -1;
    return true;
}

void hrtimer_interrupt(int cpu) {
    trace_scope ts("hrtimer_interrupt");
    Kernel* k = this_kernel;
    auto& q = k->hrtimer_bases[cpu].active;
    u64 now = k->cpu_rq(cpu)->clock;
    while (!q.empty() && q.begin()->expires <= now) {
        hrtimer* t = &*q.begin();
        q.erase(q.begin());
        t->cpu = -1;
        trace_point("hrtimer_expire_entry", "hrtimer=%s now=%llu", t->name, static_cast<unsigned long long>(now));
        hrtimer_restart r = t->function(t);
        trace_point("hrtimer_expire_exit", "hrtimer=%s", t->name);
        if (r == HRTIMER_RESTART && t->cpu < 0) hrtimer_start(t, t->expires, cpu);
    }
}

struct hrtimer_sleeper {
    hrtimer timer;
    task_struct* task;
};

static hrtimer_restart hrtimer_wakeup(hrtimer* timer) {
    auto* s = reinterpret_cast<hrtimer_sleeper*>(timer);
    task_struct* t = s->task;
    s->task = nullptr;
    if (t) wake_up_process(t);
    return HRTIMER_NORESTART;
}

// Sleep until `expires` (absolute), or until a signal. Returns 0 on time-out, -EINTR otherwise.
static long do_nanosleep(u64 expires, unsigned state) {
    trace_scope ts("do_nanosleep");
    task_struct* t = current;
    hrtimer_sleeper s;
    hrtimer_init(&s.timer, hrtimer_wakeup, "hrtimer_wakeup");
    s.task = t;
    set_current_state(state);
    hrtimer_start(&s.timer, expires, smp_processor_id());
    if (s.task && !signal_pending(t)) schedule();
    hrtimer_cancel(&s.timer);
    __set_current_state(TASK_RUNNING);
    return ts.ret(s.task ? -EINTR : 0);
}

// A sleep cut short tells user memory how much was left (rmtp, if the caller gave one); one
// cut short when no time was left anyway counts as completed.
static long nanosleep_copyout(restart_block* restart, u64 expires) {
    u64 now = ktime_get();
    if (expires <= now) return 0;
    __kernel_timespec left = ns_to_timespec64(expires - now);
    if (restart->rmtp && copy_to_user(restart->rmtp, &left, sizeof left)) return -EFAULT;
    return -ERESTART_RESTARTBLOCK;
}

static long hrtimer_nanosleep_restart(restart_block* rb) {
    trace_scope ts("hrtimer_nanosleep_restart");
    long r = do_nanosleep(rb->expires, TASK_INTERRUPTIBLE);
    if (r == 0) return ts.ret(0);
    return ts.ret(nanosleep_copyout(rb, rb->expires));
}

// The caller has set restart_block.rmtp. The wake-up time saturates rather than wraps.
long hrtimer_nanosleep(u64 ns) {
    trace_scope ts("hrtimer_nanosleep", "ns=%llu", static_cast<unsigned long long>(ns));
    u64 expires = ktime_add_safe(ktime_get(), ns);
    long r = do_nanosleep(expires, TASK_INTERRUPTIBLE);
    if (r == 0) return ts.ret(0);
    restart_block* restart = &current->restart_block;
    restart->fn = hrtimer_nanosleep_restart;
    restart->expires = expires;
    return ts.ret(nanosleep_copyout(restart, expires));
}

// Sleep in `state` until expires_abs (KTIME_MAX: no time-out) or a wake-up.
// Returns 0 when the time ran out, -EINTR when woken first.
long schedule_hrtimeout(u64 expires_abs, unsigned state) {
    trace_scope ts("schedule_hrtimeout");
    if (expires_abs == KTIME_MAX) {
        set_current_state(state);
        schedule();
        return ts.ret(-EINTR);
    }
    return ts.ret(do_nanosleep(expires_abs, state));
}

}  // namespace gk
