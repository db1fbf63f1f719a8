// Models kernel/time/tick-sched.c and tick-common.c (v6.1): the periodic tick as a per-CPU hrtimer
// (tick_sched_timer), jiffies, and NOHZ idle stopping the tick while a CPU has nothing to run.
#include <algorithm>

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
    watchdog_check_softlockup();
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

// NOHZ idle (tick_nohz_idle_stop_tick -> tick_nohz_next_event): the tick stops, and the CPU
// sleeps until its next event -- an hrtimer, or the timer wheel's next expiry
// (get_next_timer_interrupt), for which the tick timer is set. jiffies catch up when it fires.
void tick_nohz_idle_stop_tick(int cpu) {
    Kernel* k = this_kernel;
    hrtimer* t = &k->tick_timers[cpu];
    unsigned long next_jiffy = __next_timer_interrupt(&k->timer_bases[cpu]);
    if (next_jiffy == ~0UL) {
        hrtimer_cancel(t);
        return;
    }
    u64 tn = tick_nsec(k);
    u64 now = k->cpu_rq(cpu)->clock;
    u64 when = next_jiffy > (KTIME_MAX - tn) / tn ? KTIME_MAX - tn : static_cast<u64>(next_jiffy) * tn;
    u64 next_tick = (now / tn + 1) * tn;
    when = std::max(when, next_tick);
    if (hrtimer_active(t) && t->expires == when) return;
    hrtimer_cancel(t);
    hrtimer_start(t, when, cpu);
}

// tick_nohz_idle_exit / wake_up_nohz_cpu: back to a tick every jiffy, at the next boundary.
void tick_nohz_restart(int cpu) {
    Kernel* k = this_kernel;
    hrtimer* t = &k->tick_timers[cpu];
    u64 tn = tick_nsec(k);
    u64 next_tick = (k->cpu_rq(cpu)->clock / tn + 1) * tn;
    if (hrtimer_active(t) && t->expires <= next_tick) return;
    hrtimer_cancel(t);
    tick_sched_timer_start(cpu);
}

}  // namespace gk
