// Models kernel/sched/sched.h (v6.1), the scheduler's private header: the accessors for the
// per-CPU run queues. cpu_rq() and this_rq() are the running machine's; task_rq() is the queue of
// the task's own machine and CPU, so it also serves host code that looks at a task.
#pragma once
#include "glasskernel/linux.h"

namespace gk {

// task_struct.on_rq: queued, or being moved to another CPU's queue by move_queued_task (off the
// old queue and not yet on the new one; nobody else may see it then, in Linux for the rq locks).
enum : int { TASK_ON_RQ_QUEUED = 1, TASK_ON_RQ_MIGRATING = 2 };

inline rq* cpu_rq(int cpu) { return &this_kernel->runqueues[cpu]; }
inline rq* this_rq() { return cpu_rq(smp_processor_id()); }
inline rq* task_rq(const task_struct* p) { return &p->kernel->runqueues[task_cpu(p)]; }

}  // namespace gk
