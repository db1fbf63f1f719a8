// Models arch/x86/kernel/apic/apic.c (v6.1): sysvec_apic_timer_interrupt, the local APIC timer's
// interrupt, whose clock event handler is hrtimer_interrupt (high-resolution mode).
#include "glasskernel/linux.h"

namespace gk {

// Run this CPU's expired hrtimers in hardirq context. Linux's DEFINE_IDTENTRY_SYSVEC makes this
// the entry point that brackets the handler with irqentry_enter/irqentry_exit; the traced part
// (Linux's __sysvec_apic_timer_interrupt, through local_apic_timer_interrupt to the clock event's
// handler) runs inside, in hardirq context.
void sysvec_apic_timer_interrupt() {
    pt_regs frame;
    pt_regs* old = irqentry_enter(LOCAL_TIMER_VECTOR, &frame);
    {
        trace_scope ts("sysvec_apic_timer_interrupt");
        hrtimer_interrupt(smp_processor_id());
    }
    irqentry_exit(old);
}

}  // namespace gk
