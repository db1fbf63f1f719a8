// The simulator's report of a run that can go no further, in the spirit of kernel/hung_task.c
// (v6.1): when nothing is runnable and no timer is pending, every user task still asleep or
// stopped will stay so; they are listed with the function they wait in (get_wchan).
#include "engine/hung_task.h"

#include "glasskernel/linux.h"

namespace gk {

std::vector<std::shared_ptr<task_struct>> find_blocked_tasks(Kernel& k) {
    std::vector<std::shared_ptr<task_struct>> out;
    for (auto& t : k.task_snapshot()) {
        // Kernel threads sleep by design (kthreadd, ksoftirqd, kworkers), and so does init
        // between reaping its children; zombies are done.
        if ((t->flags & PF_KTHREAD) || t.get() == k.child_reaper || t->exit_state) continue;
        if (t->__state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE | __TASK_STOPPED | __TASK_TRACED)) out.push_back(t);
    }
    return out;
}

}  // namespace gk
