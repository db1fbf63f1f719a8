// Models kernel/softirq.c (v6.1): the ten softirqs, raise_softirq, irq_exit → invoke_softirq →
// __do_softirq with its restart and time limits, ksoftirqd taking over, local_bh_disable/enable,
// and tasklets (hi and normal lists, SCHED/RUN state bits, a disable count).
#include "glasskernel/linux.h"

namespace gk {

const char* const softirq_to_name[NR_SOFTIRQS] = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"};

static constexpr int MAX_SOFTIRQ_RESTART = 10;
static constexpr u64 MAX_SOFTIRQ_TIME = 2 * NSEC_PER_MSEC;

static u32& local_softirq_pending() { return *this_cpu_ptr(this_kernel->softirq_pending); }

void open_softirq(int nr, void (*action)(softirq_action*)) { this_kernel->softirq_vec[nr].action = action; }

static void wakeup_softirqd() {
    Kernel* k = this_kernel;
    task_struct* tsk = this_cpu_read(k->ksoftirqd);
    if (tsk && tsk->__state != TASK_RUNNING) wake_up_process(tsk);
}

void raise_softirq_irqoff(int nr) {
    trace_point("softirq_raise", "vec=%d [action=%s]", nr, softirq_to_name[nr]);
    local_softirq_pending() |= 1u << nr;
    // Outside interrupt context nobody will run it on the way out: ksoftirqd must.
    if (!in_interrupt()) wakeup_softirqd();
}

void raise_softirq(int nr) {
    trace_scope ts("raise_softirq", "nr=%d", nr);
    unsigned long flags = local_irq_save();
    raise_softirq_irqoff(nr);
    local_irq_restore(flags);
}

void __do_softirq() {
    trace_scope ts("__do_softirq");
    Kernel* k = this_kernel;
    task_struct* t = current;
    u64 end = ktime_get() + MAX_SOFTIRQ_TIME;
    int max_restart = MAX_SOFTIRQ_RESTART;
    t->thread_info.preempt_count += SOFTIRQ_OFFSET;  // in_serving_softirq()
    for (;;) {
        u32 pending = local_softirq_pending();
        local_softirq_pending() = 0;
        raw_local_irq_enable();  // softirqs run with interrupts enabled
        while (pending) {
            int nr = __builtin_ctz(pending);
            pending &= pending - 1;
            softirq_action* h = &k->softirq_vec[nr];
            k->kstat_softirqs[nr][smp_processor_id()]++;
            trace_point("softirq_entry", "vec=%d [action=%s]", nr, softirq_to_name[nr]);
            if (h->action) h->action(h);
            trace_point("softirq_exit", "vec=%d [action=%s]", nr, softirq_to_name[nr]);
        }
        raw_local_irq_disable();
        if (!local_softirq_pending()) break;
        // Raised again while we ran: go round, but not for ever; then ksoftirqd takes over,
        // so that a softirq storm cannot starve user tasks.
        if (ktime_get() < end && !need_resched_task(t) && --max_restart) continue;
        wakeup_softirqd();
        break;
    }
    t->thread_info.preempt_count -= SOFTIRQ_OFFSET;
    raw_local_irq_enable();
}

void do_softirq() {
    trace_scope ts("do_softirq");
    if (in_interrupt()) return;
    unsigned long flags = local_irq_save();
    if (local_softirq_pending()) __do_softirq();
    local_irq_restore(flags);
}

static void invoke_softirq() {
    trace_scope ts("invoke_softirq");
    __do_softirq();
}

// Leaving hardirq context (irqentry_exit's caller does it in Linux's idtentry; see there).
void irq_exit_rcu() {
    trace_scope ts("irq_exit_rcu");
    task_struct* t = current;
    t->thread_info.preempt_count -= HARDIRQ_OFFSET;
    if (!in_interrupt() && local_softirq_pending()) invoke_softirq();
}

void local_bh_disable() { current->thread_info.preempt_count += SOFTIRQ_DISABLE_OFFSET; }

// Re-enabling bottom halves runs the softirqs raised meanwhile (local_bh_enable() is the inline
// wrapper that passes SOFTIRQ_DISABLE_OFFSET).
void __local_bh_enable_ip(unsigned long ip, unsigned cnt) {
    trace_scope ts("__local_bh_enable_ip", "cnt=%#x", cnt);
    (void)ip;
    task_struct* t = current;
    t->thread_info.preempt_count -= cnt;
    if (!in_interrupt() && local_softirq_pending()) do_softirq();
    if (t->thread_info.preempt_count == 0 && need_resched_task(t)) preempt_schedule();  // preempt_check_resched
}

// ---- tasklets ----

static void __tasklet_schedule_common(tasklet_struct* t, per_cpu_var<tasklet_struct*>& heads, int softirq_nr) {
    unsigned long flags = local_irq_save();
    t->next = nullptr;
    // Append to this CPU's list (the tail pointer of Linux's tasklet_head).
    tasklet_struct** tail = &heads[smp_processor_id()];
    while (*tail) tail = &(*tail)->next;
    *tail = t;
    raise_softirq_irqoff(softirq_nr);
    local_irq_restore(flags);
}

// A tasklet is queued once however often it is scheduled before it runs (TASKLET_STATE_SCHED).
void tasklet_schedule(tasklet_struct* t) {
    trace_scope ts("tasklet_schedule", "name=%s", t->name.c_str());
    if (t->state & TASKLET_STATE_SCHED) return;
    t->state |= TASKLET_STATE_SCHED;
    __tasklet_schedule_common(t, this_kernel->tasklet_vec, TASKLET_SOFTIRQ);
}

void tasklet_hi_schedule(tasklet_struct* t) {
    trace_scope ts("tasklet_hi_schedule", "name=%s", t->name.c_str());
    if (t->state & TASKLET_STATE_SCHED) return;
    t->state |= TASKLET_STATE_SCHED;
    __tasklet_schedule_common(t, this_kernel->tasklet_hi_vec, HI_SOFTIRQ);
}

static void run_tasklet(tasklet_struct* t) {
    trace_point("tasklet_entry", "tasklet=%s", t->name.c_str());
    t->runs++;
    if (t->use_callback)
        t->callback(t);
    else if (t->func)
        t->func(t->data);
    trace_point("tasklet_exit", "tasklet=%s", t->name.c_str());
}

void tasklet_setup(tasklet_struct* t, void (*callback)(tasklet_struct*)) {
    t->next = nullptr;
    t->state = 0;
    t->count = 0;
    t->use_callback = true;
    t->callback = callback;
    t->data = 0;
}

static void tasklet_action_common(per_cpu_var<tasklet_struct*>& heads, int softirq_nr) {
    int cpu = smp_processor_id();
    tasklet_struct* list = heads[cpu];
    heads[cpu] = nullptr;
    while (list) {
        tasklet_struct* t = list;
        list = list->next;
        // RUN guards against running on two CPUs at once; a disabled one is re-queued.
        if (!(t->state & TASKLET_STATE_RUN)) {
            t->state |= TASKLET_STATE_RUN;
            if (!t->count) {
                t->state &= ~TASKLET_STATE_SCHED;
                run_tasklet(t);
                t->state &= ~TASKLET_STATE_RUN;
                continue;
            }
            t->state &= ~TASKLET_STATE_RUN;
        }
        t->next = nullptr;
        tasklet_struct** tail = &heads[cpu];
        while (*tail) tail = &(*tail)->next;
        *tail = t;
        local_softirq_pending() |= 1u << softirq_nr;
    }
}

static void tasklet_action(softirq_action*) {
    trace_scope ts("tasklet_action");
    tasklet_action_common(this_kernel->tasklet_vec, TASKLET_SOFTIRQ);
}

static void tasklet_hi_action(softirq_action*) {
    trace_scope ts("tasklet_hi_action");
    tasklet_action_common(this_kernel->tasklet_hi_vec, HI_SOFTIRQ);
}

void tasklet_disable(tasklet_struct* t) { t->count++; }
void tasklet_enable(tasklet_struct* t) {
    if (t->count > 0) t->count--;
}

// Wait until the tasklet is neither queued nor running (it may not be scheduled again).
void tasklet_kill(tasklet_struct* t) {
    trace_scope ts("tasklet_kill", "name=%s", t->name.c_str());
    while (t->state & (TASKLET_STATE_SCHED | TASKLET_STATE_RUN)) schedule();
}

void softirq_init(Kernel* k) {
    k->kstat_softirqs.assign(NR_SOFTIRQS, std::vector<u64>(k->cfg.cpus, 0));
    k->softirq_vec[TASKLET_SOFTIRQ].action = tasklet_action;
    k->softirq_vec[HI_SOFTIRQ].action = tasklet_hi_action;
}

}  // namespace gk
