// Models kernel/sched/idle.c (v6.1): the idle task's loop and the idle scheduling class.
#include "glasskernel/linux.h"

namespace gk {

// The idle task of each CPU: take interrupts until something needs the CPU, then schedule.
// The simulator's cpuidle is a switch to the host, which moves this CPU's clock to its next
// timer (NOHZ idle: the periodic tick is off while idle).
void do_idle() {
    Kernel* k = this_kernel;
    for (;;) {
        while (!need_resched_task(current)) {
            int cpu = smp_processor_id();
            if (k->next_event(cpu) <= ktime_get()) {
                handle_pending_interrupts();  // timer and device interrupts, taken while idle
                continue;
            }
            touch_softlockup_watchdog_sched();  // an idle CPU is not locked up
            tick_nohz_idle_stop_tick(cpu);
            k->switch_to_host(host_act::IDLE);
            // tick_nohz_irq_enter → tick_nohz_update_jiffies: the CPU comes out of a long idle,
            // which is not a lock-up however long it was.
            touch_softlockup_watchdog_sched();
        }
        schedule_idle();
    }
}

static void enqueue_task_idle(rq*, task_struct*, int) {}
static void dequeue_task_idle(rq*, task_struct*, int) {}
static void yield_task_idle(rq*) {}
static void check_preempt_curr_idle(rq* rq, task_struct*, int) { resched_curr(rq); }
static task_struct* pick_next_task_idle(rq* rq) { return rq->idle; }
static void put_prev_task_idle(rq*, task_struct*) {}
static void set_next_task_idle(rq*, task_struct*, bool) {}
static void task_tick_idle(rq*, task_struct*, int) {}
static void update_curr_idle(rq*) {}

// Only the idle task is in this class, and it is never queued: enqueue, dequeue and yield do
// nothing (Linux leaves them out and warns if dequeue is reached; the model's core calls them).
DEFINE_SCHED_CLASS(idle) = {
    .name = "idle",
    .next = nullptr,
    .enqueue_task = enqueue_task_idle,
    .dequeue_task = dequeue_task_idle,
    .yield_task = yield_task_idle,
    .check_preempt_curr = check_preempt_curr_idle,
    .pick_next_task = pick_next_task_idle,
    .put_prev_task = put_prev_task_idle,
    .set_next_task = set_next_task_idle,
    .task_tick = task_tick_idle,
    .update_curr = update_curr_idle,
};

}  // namespace gk
