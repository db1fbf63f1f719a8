// Models kernel/irq/handle.c, chip.c and manage.c (v6.1): the flow from a device's line to its
// handlers (common_interrupt → handle_edge_irq → handle_irq_event → handle_irq_event_percpu →
// __handle_irq_event_percpu), spurious-interrupt accounting, request_irq/free_irq, and a
// simulated interrupt controller.
#include "glasskernel/linux.h"

namespace gk {

// The simulated controller: masking a line holds its interrupts; ack and eoi are counted by
// the trace only (the simulator has no in-service register to clear).
static void sim_mask(irq_desc* d) { d->masked = true; }
static void sim_unmask(irq_desc* d) { d->masked = false; }
static void sim_ack(irq_desc*) {}
static void sim_eoi(irq_desc*) {}
static const irq_chip sim_ioapic = {"IO-APIC-sim", sim_mask, sim_unmask, sim_ack, sim_eoi};

void init_irq_descs(Kernel* k) {
    k->irq_descs.resize(NR_IRQS);
    for (int i = 0; i < NR_IRQS; i++) {
        k->irq_descs[i].irq = i;
        k->irq_descs[i].chip = &sim_ioapic;
        k->irq_descs[i].kstat_irqs.assign(k->cfg.cpus, 0);
    }
    k->irqs_off.assign(k->cfg.cpus, false);
    k->irq_arrivals.resize(k->cfg.cpus);
}

bool in_interrupt() { task_struct* t = current; return t && (t->thread_info.preempt_count & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)); }
bool in_softirq() { task_struct* t = current; return t && (t->thread_info.preempt_count & SOFTIRQ_MASK); }
bool in_serving_softirq() { task_struct* t = current; return t && (t->thread_info.preempt_count & SOFTIRQ_OFFSET); }
bool in_hardirq() { task_struct* t = current; return t && (t->thread_info.preempt_count & HARDIRQ_MASK); }
bool in_atomic() { task_struct* t = current; return t && t->thread_info.preempt_count != 0; }

bool irqs_disabled() { return this_kernel->irqs_off[smp_processor_id()]; }
void local_irq_disable() { raw_local_irq_disable(); }
// Enabling interrupts lets a pending one in at once, as `sti` does on real hardware.
void local_irq_enable() {
    raw_local_irq_enable();
    if (current) handle_pending_interrupts();
}
unsigned long local_irq_save() {
    unsigned long flags = irqs_disabled();
    local_irq_disable();
    return flags;
}
void local_irq_restore(unsigned long flags) {
    if (!flags) local_irq_enable();
}

static irqreturn __handle_irq_event_percpu(irq_desc* desc) {
    trace_scope ts("__handle_irq_event_percpu", "irq=%d", desc->irq);
    irqreturn retval = IRQ_NONE;
    std::vector<std::shared_ptr<irqaction>> chain = desc->action;
    for (auto& a : chain) {
        trace_point("irq_handler_entry", "irq=%d name=%s", desc->irq, a->name.c_str());
        irqreturn res = a->handler(desc->irq, a->dev_id);
        trace_point("irq_handler_exit", "irq=%d ret=%s", desc->irq, res == IRQ_NONE ? "unhandled" : "handled");
        if (res == IRQ_WAKE_THREAD && a->thread) {
            // __irq_wake_thread: the rest of the work runs in the irq thread, in process context.
            a->run_thread = true;
            wake_up_process(a->thread);
        }
        if (res != IRQ_NONE) a->count++;
        retval = static_cast<irqreturn>(retval | res);
    }
    return static_cast<irqreturn>(ts.ret(retval));
}

static void note_interrupt(irq_desc* desc, irqreturn ret) {
    if (ret == IRQ_NONE) desc->irqs_unhandled++;  // "nobody cared": a spurious interrupt
}

static void handle_irq_event_percpu(irq_desc* desc) {
    trace_scope ts("handle_irq_event_percpu", "irq=%d", desc->irq);
    irqreturn ret = __handle_irq_event_percpu(desc);
    note_interrupt(desc, ret);
}

static void handle_irq_event(irq_desc* desc) {
    trace_scope ts("handle_irq_event", "irq=%d", desc->irq);
    handle_irq_event_percpu(desc);
}

// The flow handler for edge-triggered lines: ack first, so a new edge during the handler is
// not lost.
static void handle_edge_irq(irq_desc* desc) {
    trace_scope ts("handle_edge_irq", "irq=%d", desc->irq);
    desc->irq_count++;
    desc->kstat_irqs[smp_processor_id()]++;
    desc->chip->irq_ack(desc);
    if (desc->action.empty() || desc->depth > 0) {
        desc->irqs_unhandled++;
        return;
    }
    handle_irq_event(desc);
}

void common_interrupt(int irq) {
    Kernel* k = this_kernel;
    pt_regs frame;
    pt_regs* old = irqentry_enter(ISA_IRQ_VECTOR(irq), &frame);
    {
        trace_scope ts("common_interrupt", "irq=%d", irq);
        handle_edge_irq(&k->irq_descs[irq]);
    }
    irqentry_exit(old);
}

// Take every interrupt that is due on this CPU: expired timers and device lines. The simulator
// calls this wherever the interrupted code had interrupts enabled: user mode, the idle loop, and
// the points where kernel code lets time pass (delays, cond_resched, local_irq_enable).
void handle_pending_interrupts(bool from_user) {
    Kernel* k = this_kernel;
    int cpu = smp_processor_id();
    task_struct* t = current;
    for (;;) {
        u64 now = ktime_get();
        if (k->irqs_off[cpu]) return;
        t->thread.irq_from_user = from_user;
        if (k->hrtimer_bases[cpu].next_expiry() <= now) {
            sysvec_apic_timer_interrupt();
            continue;
        }
        // A masked line holds its interrupt until unmasked (the controller's IRR).
        auto& q = k->irq_arrivals[cpu];
        auto it = q.begin();
        while (it != q.end() && it->first <= now && k->irq_descs[it->second].masked) ++it;
        if (it == q.end() || it->first > now) break;
        int irq = it->second;
        q.erase(it);
        common_interrupt(irq);
    }
    t->thread.irq_from_user = false;
    if (!from_user) irqentry_exit_cond_resched();
}

u64 Kernel::next_event(int cpu) const {
    u64 t = hrtimer_bases[cpu].next_expiry();
    for (const auto& [when, irq] : irq_arrivals[cpu])
        if (!irq_descs[irq].masked) return std::min(t, when);
    return t;
}

// ---- manage.c ----

static int __setup_irq(int irq, std::shared_ptr<irqaction> action) {
    trace_scope ts("__setup_irq", "irq=%d name=%s", irq, action->name.c_str());
    Kernel* k = this_kernel;
    irq_desc* desc = &k->irq_descs[irq];
    if (!desc->action.empty()) {
        // Sharing needs every action to agree to share.
        bool all_shared = action->flags & IRQF_SHARED;
        for (auto& a : desc->action) all_shared = all_shared && (a->flags & IRQF_SHARED);
        if (!all_shared) return ts.ret(-EBUSY);
    }
    desc->action.push_back(std::move(action));
    if (desc->action.size() == 1) desc->chip->irq_unmask(desc);
    return ts.ret(0);
}

// The bottom half of a threaded handler, in the irq thread's process context.
static irqreturn irq_thread_fn(irqaction* a) {
    trace_scope ts("irq_thread_fn", "irq=%d", a->irq);
    a->thread_runs++;
    return a->thread_fn(a->irq, a->dev_id);
}

// irq_thread: sleeps until the top half returns IRQ_WAKE_THREAD, then runs the thread function;
// returns when free_irq stops it. It holds its own reference to the action.
static int irq_thread(void* data) {
    std::unique_ptr<std::shared_ptr<irqaction>> ref(static_cast<std::shared_ptr<irqaction>*>(data));
    irqaction* a = ref->get();
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (kthread_should_stop()) {
            __set_current_state(TASK_RUNNING);
            return 0;
        }
        if (!a->run_thread) {
            schedule();
            continue;
        }
        __set_current_state(TASK_RUNNING);
        a->run_thread = false;
        irq_thread_fn(a);
    }
    return 0;
}

// setup_irq_thread: a kernel thread (child of kthreadd) named irq/N-name, asleep until woken.
static int setup_irq_thread(const std::shared_ptr<irqaction>& a) {
    std::string name = "irq/" + std::to_string(a->irq) + "-" + a->name;
    Kernel* k = this_kernel;
    auto* ref = new std::shared_ptr<irqaction>(a);
    task_struct* t = current ? kthread_create(irq_thread, ref, name.c_str()) : kthread_create_from_host(k, irq_thread, ref, name);
    if (!t) {
        delete ref;
        return -EAGAIN;  // no pid or task left for the thread
    }
    a->thread = t;
    return 0;
}

int request_threaded_irq(int irq, irq_handler_t handler, irq_handler_t thread_fn, unsigned long flags, const std::string& name,
                         void* dev_id) {
    trace_scope ts("request_threaded_irq", "irq=%d name=%s", irq, name.c_str());
    // Sharing needs a dev_id: free_irq could not tell the handlers apart otherwise.
    if (((flags & IRQF_SHARED) && !dev_id) || irq < 0 || irq >= NR_IRQS) return ts.ret(-EINVAL);
    if (!handler && !thread_fn) return ts.ret(-EINVAL);
    auto a = std::make_shared<irqaction>();
    a->handler = handler;
    a->thread_fn = thread_fn;
    a->flags = flags;
    a->name = name;
    a->dev_id = dev_id;
    a->irq = irq;
    if (thread_fn) {
        int err = setup_irq_thread(a);
        if (err) return ts.ret(err);
    }
    task_struct* thread = a->thread;
    int r = __setup_irq(irq, std::move(a));
    if (thread) {
        if (r)
            kthread_stop_request(thread);  // never needed: it returns as soon as it runs
        else
            wake_up_process(thread);
    }
    return ts.ret(r);
}


int free_irq(int irq, void* dev_id) {
    trace_scope ts("free_irq", "irq=%d", irq);
    Kernel* k = this_kernel;
    if (irq < 0 || irq >= NR_IRQS) return ts.ret(-EINVAL);
    irq_desc* desc = &k->irq_descs[irq];
    for (auto it = desc->action.begin(); it != desc->action.end(); ++it) {
        if ((*it)->dev_id == dev_id) {
            std::shared_ptr<irqaction> a = *it;
            desc->action.erase(it);
            if (desc->action.empty()) desc->chip->irq_mask(desc);
            if (a->thread) kthread_stop_request(a->thread);
            return ts.ret(0);
        }
    }
    return ts.ret(-ENOENT);  // Linux WARNs "Trying to free already-free IRQ"
}

// Where the controller sends the line's interrupts from now on (interrupts already raised stay
// with the CPU they were sent to).
int irq_set_affinity(int irq, int cpu) {
    Kernel* k = this_kernel;
    if (irq < 0 || irq >= NR_IRQS || cpu < 0 || cpu >= k->cfg.cpus) return -EINVAL;
    k->irq_descs[irq].affinity = cpu;
    trace_point("irq_set_affinity", "irq=%d cpu=%d", irq, cpu);
    return 0;
}

void disable_irq(int irq) {
    irq_desc* d = &this_kernel->irq_descs[irq];
    if (d->depth++ == 0) d->chip->irq_mask(d);
}

void enable_irq(int irq) {
    irq_desc* d = &this_kernel->irq_descs[irq];
    if (d->depth > 0 && --d->depth == 0) d->chip->irq_unmask(d);
}

}  // namespace gk
