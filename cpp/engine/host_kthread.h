// The simulator's kernel threads whose body is host code (a lesson's Python coroutine): each
// await names one kernel primitive, which runs in the thread's own kernel context.
#pragma once
#include <memory>
#include <string>

#include "glasskernel/types.h"

namespace gk {

class Kernel;
struct task_struct;

enum kthread_opcode : int {
    KT_EXIT = 0,        // the body returned: do_exit(arg)
    KT_OOPS,            // the body raised: an oops kills the thread
    KT_DELAY,           // __delay(arg ns): mdelay/udelay/ndelay
    KT_MSLEEP,          // msleep(arg ms)
    KT_MIGHT_SLEEP,
    KT_COND_RESCHED,    // -> 1 if it switched
    KT_YIELD,           // yield(): let the others go first
    KT_PREEMPT_DISABLE,
    KT_PREEMPT_ENABLE,
    KT_IRQ_DISABLE,
    KT_IRQ_ENABLE,
    KT_IRQ_SAVE,        // -> flags
    KT_IRQ_RESTORE,     // arg: flags
    KT_BH_DISABLE,
    KT_BH_ENABLE,
    KT_RAISE_SOFTIRQ,   // arg: nr
    KT_SHOULD_STOP,     // -> kthread_should_stop()
    KT_NR_OPS
};

struct kthread_op {
    int op = KT_OOPS;
    long arg = 0;
    std::string oops;  // the traceback, for KT_OOPS
};

// The host side: runs the coroutine to its next await, answering the previous one with `value`.
struct kthread_body {
    virtual ~kthread_body() = default;
    virtual kthread_op step(Kernel& k, long value) = 0;
};

struct host_kthread {
    std::shared_ptr<kthread_body> body;
    std::shared_ptr<task_struct> task;  // kept for views after it exits
    bool exited = false;
    int exit_code = 0;
    std::string oops;
    u64 ops = 0;
};

// kthread_run from the host: -errno or the new thread's pid. cpu < 0: not bound.
long host_kthread_run(Kernel* k, host_kthread* kt, const std::string& name, int cpu);
// kthread_stop's first half (the host then runs the kernel until the thread has exited).
void host_kthread_stop(host_kthread* kt);

}  // namespace gk
