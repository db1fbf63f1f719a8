// Models arch/x86/lib/delay.c (v6.1): udelay/mdelay busy-wait in kernel mode. Time passes on this
// CPU; with interrupts enabled the interrupts that come due meanwhile are taken, and under the full
// preemption model their exit may switch the waiter out. As with delay_tsc, time spent switched out
// counts towards the delay.
#include <algorithm>

#include "glasskernel/linux.h"

namespace gk {

void __delay(u64 ns) {
    Kernel* k = this_kernel;
    trace_scope ts("__delay", "ns=%llu", static_cast<unsigned long long>(ns));
    int cpu = smp_processor_id();
    u64 end = ktime_get() + ns;
    // The simulator's part: a long busy-wait gives the host loop a turn each millisecond of
    // virtual time, so Ctrl-C and k.run()'s bounds reach a CPU that never sleeps.
    static constexpr u64 HOST_TURN_NS = NSEC_PER_MSEC;
    u64 host_turn = ktime_get() + HOST_TURN_NS;
    while (ktime_get() < end) {
        u64 now = ktime_get();
        u64 until = std::min({end, k->run_ahead_limit(cpu), std::max(host_turn, now)});
        if (!irqs_disabled()) until = std::min(until, std::max(k->next_event(cpu), now));
        if (until > now) k->charge(until - now);
        u64 left = end - std::min(end, ktime_get());
        handle_pending_interrupts();
        if (smp_processor_id() != cpu) {
            // Migrated while switched out: the other CPU's clock is its own; wait out the rest.
            cpu = smp_processor_id();
            end = ktime_get() + left;
        }
        if (ktime_get() < end && ktime_get() >= std::min(k->run_ahead_limit(cpu), host_turn)) {
            k->switch_to_host(host_act::YIELD);
            host_turn = ktime_get() + HOST_TURN_NS;
        }
    }
}

}  // namespace gk
