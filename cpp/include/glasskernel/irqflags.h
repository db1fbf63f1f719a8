// Models include/linux/irqflags.h (v6.1): the running CPU's interrupt-enable flag. The raw forms
// only set or clear the flag, for the entry code and the scheduler, which flip it where Linux's
// hardware does (interrupt entry, iret, the unlock at the end of a context switch); what came due
// is then taken at the next point where the simulator takes interrupts (a delay,
// might_sleep/cond_resched, local_irq_enable, the idle loop, or the way back to user mode). The
// everyday local_irq_enable() (kernel/irq/handle.cpp) also takes at once the interrupts that came
// due while the flag was off, as `sti` lets them in on real hardware.
#pragma once
#include "glasskernel/smp.h"

namespace gk {

inline void raw_local_irq_disable() { this_kernel->irqs_off[smp_processor_id()] = true; }
inline void raw_local_irq_enable() { this_kernel->irqs_off[smp_processor_id()] = false; }

// The everyday forms (kernel/irq/handle.cpp): enabling also takes what came due meanwhile.
void local_irq_disable();
void local_irq_enable();
unsigned long local_irq_save();
void local_irq_restore(unsigned long flags);
bool irqs_disabled();

}  // namespace gk
