// Models the preemption parts of kernel/sched/core.c and kernel/entry/common.c (v6.1):
// preempt_enable() calling preempt_schedule() when the count drops to zero, an interrupt returning
// to kernel code calling preempt_schedule_irq(), __cond_resched() and might_sleep()'s
// might_resched(), and the three models of PREEMPT_DYNAMIC that decide which of these points are
// live.
#include "glasskernel/linux.h"

namespace gk {

const char* preempt_model_name(preempt_model m) {
    switch (m) {
    case PREEMPT_NONE: return "none";
    case PREEMPT_VOLUNTARY: return "voluntary";
    case PREEMPT_FULL: return "full";
    }
    return "?";
}

bool preempt_model_none() { return this_kernel->cfg.preempt == PREEMPT_NONE; }
bool preempt_model_voluntary() { return this_kernel->cfg.preempt == PREEMPT_VOLUNTARY; }
bool preempt_model_full() { return this_kernel->cfg.preempt == PREEMPT_FULL; }

// PREEMPT_DYNAMIC switches the static calls behind cond_resched, might_resched, preempt_schedule
// and irqentry_exit_cond_resched; here the model is one field they all read.
void sched_dynamic_update(preempt_model mode) {
    this_kernel->cfg.preempt = mode;
    printk("Dynamic Preempt: %s", preempt_model_name(mode));
}

int preempt_count() {
    task_struct* t = current;
    return t ? t->thread_info.preempt_count : 0;
}

static bool preemptible() { return preempt_count() == 0 && !irqs_disabled(); }

// preempt_schedule_common: switch while the task stays runnable, until nobody asks again.
static void preempt_schedule_common() {
    do {
        __schedule(true);
    } while (need_resched_task(current));
}

void preempt_disable() { current->thread_info.preempt_count += PREEMPT_OFFSET; }

void preempt_enable_no_resched() { current->thread_info.preempt_count -= PREEMPT_OFFSET; }

void preempt_enable() {
    task_struct* t = current;
    t->thread_info.preempt_count -= PREEMPT_OFFSET;
    if (t->thread_info.preempt_count == 0 && need_resched_task(t)) preempt_schedule();
}

// Kernel preemption proper: only the full model switches here; the others wait for a
// voluntary point or the return to user mode.
void preempt_schedule() {
    if (!preempt_model_full() || !preemptible()) return;
    trace_scope ts("preempt_schedule");
    preempt_schedule_common();
}

// Preemption on the way back to user mode, or out of an interrupt that hit kernel code.
void preempt_schedule_irq() {
    trace_scope ts("preempt_schedule_irq");
    preempt_schedule_common();
}

// The interrupt is over and kernel code resumes: under the full model a pending reschedule
// (from the tick, a wake-up, or another CPU's IPI) takes effect right here. The idle task runs
// with preemption disabled in Linux; it reschedules from its own loop.
void irqentry_exit_cond_resched() {
    task_struct* t = current;
    if (!preempt_model_full() || is_idle_task(t) || !preemptible()) return;
    if (need_resched_task(t)) preempt_schedule_irq();
}

// An explicit preemption point in a long kernel loop.
int __cond_resched() {
    if (preempt_count() == 0 && need_resched_task(current)) {
        trace_scope ts("__cond_resched");
        preempt_schedule_common();
        return 1;
    }
    return 0;
}

// The simulator's part: kernel code that let time pass takes the interrupts that came due
// meanwhile, then lets the run loop see the time go by (so k.run(for_ns=...) can stop it).
// Under the full model cond_resched() itself is a no-op in Linux: kernel preemption has already
// switched wherever this would.
void cond_resched() {
    Kernel* k = this_kernel;
    handle_pending_interrupts();
    if (!preempt_model_full() && __cond_resched()) return;
    k->switch_to_host(host_act::YIELD);
}

// might_sleep(): a function that may sleep says so. Calling one in atomic context is a bug
// (__might_sleep's message); under the voluntary model it is also a preemption point.
void might_sleep() {
    task_struct* t = current;
    if (preempt_count() || irqs_disabled()) {
        printk("BUG: sleeping function called from invalid context: in_atomic(): %d, irqs_disabled(): %d, pid: %d, name: %s",
               in_atomic() ? 1 : 0, irqs_disabled() ? 1 : 0, t->pid, t->comm.c_str());
        return;
    }
    if (preempt_model_voluntary()) __cond_resched();
}

}  // namespace gk
