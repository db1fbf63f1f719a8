// Models include/linux/smp.h and the possible-CPU part of include/linux/cpumask.h (v6.1): which
// CPU the running code is on, how many CPUs the machine has, and the loop over them; thin
// accessors over the simulated machine (the running Kernel).
#pragma once
#include "glasskernel/kernel.h"

namespace gk {

// The CPU the caller runs on. As in Linux, it is only stable while the caller cannot be moved
// to another CPU: in interrupt context, with preemption off, or until it next sleeps.
inline int smp_processor_id() { return this_kernel->this_cpu; }

// nr_cpu_ids: every CPU of this machine is possible, present and online (no hotplug).
#define nr_cpu_ids (static_cast<unsigned>(::gk::this_kernel->cfg.cpus))
#define for_each_possible_cpu(cpu) for ((cpu) = 0; static_cast<unsigned>(cpu) < nr_cpu_ids; (cpu)++)

}  // namespace gk
