// Models include/linux/preempt.h and kernel/Kconfig.preempt (v6.1): the preemption models (chosen
// at boot or changed later, as PREEMPT_DYNAMIC allows), which decide the points in kernel code
// that may switch tasks.
#pragma once
#include "glasskernel/types.h"

namespace gk {

// none: only on the way back to user mode and at explicit cond_resched() calls (servers);
// voluntary: also wherever might_sleep() stands (desktops, Debian's default);
// full: also whenever preempt_count drops to zero and on return from an interrupt to kernel code.
enum preempt_model : u8 { PREEMPT_NONE = 0, PREEMPT_VOLUNTARY = 1, PREEMPT_FULL = 2 };
const char* preempt_model_name(preempt_model m);

bool preempt_model_none();
bool preempt_model_voluntary();
bool preempt_model_full();
void sched_dynamic_update(preempt_model mode);

int preempt_count();
void preempt_disable();
void preempt_enable();
void preempt_enable_no_resched();
void preempt_schedule();             // preempt_enable's slow path
void preempt_schedule_irq();         // from an interrupt's exit, or on the way to user mode
void irqentry_exit_cond_resched();   // an interrupt returning to kernel code
int __cond_resched();
void cond_resched();
void might_sleep();

}  // namespace gk
