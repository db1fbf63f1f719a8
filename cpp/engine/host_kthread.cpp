// The simulator's kernel threads whose body is host code (a lesson's Python coroutine). The
// thread's kernel stack runs this loop: an upcall runs the coroutine on the host stack to its next await, which names a kernel
// primitive (mdelay, msleep, preempt_disable, local_irq_save, ...); the primitive runs here, in
// the thread's own context, and its result goes back in on the next upcall.
#include "engine/host_kthread.h"
#include "glasskernel/linux.h"

namespace gk {

struct kthread_step_call : upcall_fn {
    host_kthread* kt = nullptr;
    long value = 0;
    kthread_op result;
    long call(Kernel& k) override {
        result = kt->body->step(k, value);
        return 0;
    }
};

// One primitive; returns what the coroutine gets back.
static long kthread_do_op(const kthread_op& op) {
    switch (op.op) {
    case KT_DELAY: __delay(static_cast<u64>(op.arg)); return 0;
    case KT_MSLEEP: msleep(static_cast<unsigned>(op.arg)); return 0;
    case KT_MIGHT_SLEEP: might_sleep(); return 0;
    case KT_COND_RESCHED: {
        u64 before = current->nivcsw;
        cond_resched();
        return current->nivcsw != before;
    }
    case KT_YIELD: do_sched_yield(); return 0;
    case KT_PREEMPT_DISABLE: preempt_disable(); return 0;
    case KT_PREEMPT_ENABLE: preempt_enable(); return 0;
    case KT_IRQ_DISABLE: local_irq_disable(); return 0;
    case KT_IRQ_ENABLE: local_irq_enable(); return 0;
    case KT_IRQ_SAVE: return static_cast<long>(local_irq_save());
    case KT_IRQ_RESTORE: local_irq_restore(static_cast<unsigned long>(op.arg)); return 0;
    case KT_BH_DISABLE: local_bh_disable(); return 0;
    case KT_BH_ENABLE: local_bh_enable(); return 0;
    case KT_RAISE_SOFTIRQ: raise_softirq(static_cast<int>(op.arg)); return 0;
    case KT_SHOULD_STOP: return kthread_should_stop();
    default: return 0;
    }
}

static int host_kthread_fn(void* data) {
    auto* kt = static_cast<host_kthread*>(data);
    Kernel* k = this_kernel;
    long value = 0;
    for (;;) {
        auto call = std::make_shared<kthread_step_call>();
        call->kt = kt;
        call->value = value;
        k->upcall(call);
        const kthread_op& op = call->result;
        kt->ops++;
        if (op.op == KT_EXIT) {
            kt->exit_code = static_cast<int>(op.arg);
            kt->exited = true;
            return kt->exit_code;
        }
        if (op.op == KT_OOPS || op.op < 0 || op.op >= KT_NR_OPS) {
            // An oops in process context kills the thread (make_task_dead), not the kernel.
            task_struct* t = current;
            kt->oops = op.oops.empty() ? "the thread's body failed" : op.oops;
            printk("Oops: kernel thread %s[%d] failed:", t->comm.c_str(), t->pid);
            size_t start = 0;
            while (start < kt->oops.size()) {
                size_t end = kt->oops.find('\n', start);
                if (end == std::string::npos) end = kt->oops.size();
                if (end > start) printk("  %s", kt->oops.substr(start, end - start).c_str());
                start = end + 1;
            }
            kt->exit_code = SIGSEGV;
            kt->exited = true;
            return SIGSEGV;
        }
        value = kthread_do_op(op);
        // Between two primitives the thread runs kernel code: interrupts that came due are
        // taken there if enabled, and under the full model their exit may preempt it.
        handle_pending_interrupts();
    }
}

// The host cannot sleep in kthread_create_on_node waiting for kthreadd, so the thread is cloned
// straight from kthreadd (the trace shows that kernel_clone).
long host_kthread_run(Kernel* k, host_kthread* kt, const std::string& name, int cpu) {
    task_struct* t = kthread_create_from_host(k, host_kthread_fn, kt, name);
    if (!t) return -EAGAIN;
    if (cpu >= 0) kthread_bind(t, cpu);
    kt->task = t->self;
    return t->pid;
}

// kthread_stop's first half: ask, and wake the thread so it can see it. (The host then runs the
// kernel until the thread has exited.)
void host_kthread_stop(host_kthread* kt) {
    task_struct* t = kt->task.get();
    if (t && !kt->exited) kthread_stop_request(t);
}

}  // namespace gk
