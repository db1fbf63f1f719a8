// Models kernel/watchdog.c (v6.1): the soft-lockup detector. A CPU that runs kernel code for more
// than 2 * watchdog_thresh (20 s) without scheduling is reported as Linux reports it:
// "watchdog: BUG: soft lockup - CPU#N stuck for Ns! [comm:pid]", and again each 20 s it stays so.
// Linux checks from a per-CPU hrtimer every 4 s and notices scheduling by the stopper thread it
// queues; the model checks from the tick (which NOHZ stops on an idle CPU, so an idle machine
// stays quiet) and notes every pass through __schedule.
#include "glasskernel/linux.h"

namespace gk {

static constexpr u64 watchdog_thresh_ns = 10 * NSEC_PER_SEC;
static constexpr u64 softlockup_thresh_ns = 2 * watchdog_thresh_ns;

// The CPU scheduled (or went idle): it is not locked up.
void touch_softlockup_watchdog_sched() {
    Kernel* k = this_kernel;
    int cpu = smp_processor_id();
    per_cpu(k->watchdog_touch_ts, cpu) = per_cpu(k->watchdog_report_ts, cpu) = ktime_get();
}

// watchdog_timer_fn's check, from the tick's hard interrupt.
void watchdog_check_softlockup() {
    Kernel* k = this_kernel;
    int cpu = smp_processor_id();
    u64 now = ktime_get();
    // Under full preemption, an interrupt returning to preemptible kernel code would let the
    // stopper thread in at once: that CPU is not locked up.
    if (preempt_model_full() && preempt_count() == HARDIRQ_OFFSET) {
        touch_softlockup_watchdog_sched();
        return;
    }
    u64 touch = per_cpu(k->watchdog_touch_ts, cpu);
    if (now - per_cpu(k->watchdog_report_ts, cpu) <= softlockup_thresh_ns) return;
    per_cpu(k->watchdog_report_ts, cpu) = now;
    task_struct* t = current;
    printk("watchdog: BUG: soft lockup - CPU#%d stuck for %llus! [%s:%d]", cpu,
           static_cast<unsigned long long>((now - touch) / NSEC_PER_SEC), t->comm.c_str(), t->pid);
}

}  // namespace gk
