// Models kernel/time/tick-sched.c and tick-common.c: the periodic tick as a per-CPU hrtimer
// (tick_sched_timer), jiffies, and NOHZ idle stopping the tick while a CPU has nothing to run.
#include "glasskernel/linux.h"

namespace gk {

static u64 tick_nsec(Kernel* k) { return NSEC_PER_SEC / static_cast<u64>(k->cfg.hz); }

void run_posix_cpu_timers();

static void update_process_times() {
    trace_scope ts("update_process_times");
    scheduler_tick();
    run_posix_cpu_timers();
}

hrtimer_restart tick_sched_timer(hrtimer* timer) {
    trace_scope ts("tick_sched_timer");
    Kernel* k = this_kernel;
    // tick_do_update_jiffies64: whichever CPU ticks brings jiffies up to date (NOHZ-safe).
    u64 j = k->now() / tick_nsec(k);
    if (j > k->jiffies) k->jiffies = j;
    update_process_times();
    timer->expires += tick_nsec(k);
    return HRTIMER_RESTART;
}

// Ticks fall on multiples of TICK_NSEC, as after hrtimer_forward().
void tick_sched_timer_start(int cpu) {
    Kernel* k = this_kernel;
    hrtimer* t = &k->tick_timers[cpu];
    if (hrtimer_active(t)) return;
    u64 tn = tick_nsec(k);
    u64 now = k->cpu_rq(cpu)->clock;
    hrtimer_start(t, (now / tn + 1) * tn, cpu);
}

void tick_nohz_idle_stop_tick(int cpu) {
    Kernel* k = this_kernel;
    hrtimer_cancel(&k->tick_timers[cpu]);
}

}  // namespace gk
