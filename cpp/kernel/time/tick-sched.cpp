// Models kernel/time/tick-sched.c and tick-common.c (v6.1): the periodic tick as a per-CPU hrtimer
// (tick_sched_timer), jiffies, and NOHZ idle stopping the tick while a CPU has nothing to run.
#include "glasskernel/linux.h"

namespace gk {

static u64 tick_nsec(Kernel* k) { return NSEC_PER_SEC / static_cast<u64>(k->cfg.hz); }

void run_posix_cpu_timers();

// tick_do_update_jiffies64: bring jiffies up to the clock (after NOHZ idle, too).
void update_jiffies() {
    Kernel* k = this_kernel;
    u64 j = ktime_get() / tick_nsec(k);
    if (j > k->jiffies) k->jiffies = j;
}

static void update_process_times() {
    trace_scope ts("update_process_times");
    run_local_timers();
    scheduler_tick();
    run_posix_cpu_timers();
}

hrtimer_restart tick_sched_timer(hrtimer* timer) {
    trace_scope ts("tick_sched_timer");
    Kernel* k = this_kernel;
    // tick_do_update_jiffies64: whichever CPU ticks brings jiffies up to date (NOHZ-safe).
    u64 j = ktime_get() / tick_nsec(k);
    if (j > k->jiffies) k->jiffies = j;
    update_process_times();
    timer->expires += tick_nsec(k);
    return HRTIMER_RESTART;
}

// Ticks fall on multiples of TICK_NSEC, as after hrtimer_forward().
void tick_sched_timer_start(int cpu) {
    Kernel* k = this_kernel;
    update_jiffies();
    hrtimer* t = &k->tick_timers[cpu];
    if (hrtimer_active(t)) return;
    u64 tn = tick_nsec(k);
    u64 now = k->cpu_rq(cpu)->clock;
    hrtimer_start(t, (now / tn + 1) * tn, cpu);
}

// NOHZ idle stops the tick, unless the timer wheel has work: its jiffies must keep coming.
void tick_nohz_idle_stop_tick(int cpu) {
    Kernel* k = this_kernel;
    if (k->timer_bases[cpu].pending) {
        tick_sched_timer_start(cpu);
        return;
    }
    hrtimer_cancel(&k->tick_timers[cpu]);
}

}  // namespace gk
