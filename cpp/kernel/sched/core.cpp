// Models kernel/sched/core.c: __schedule, context_switch, try_to_wake_up, wake_up_new_task,
// sched_fork, scheduler_tick, sched_yield and nice.
#include <algorithm>

#include "glasskernel/linux.h"

namespace gk {

void set_tsk_need_resched(task_struct* t) { t->thread_info.flags |= TIF_NEED_RESCHED; }
static void clear_tsk_need_resched(task_struct* t) { t->thread_info.flags &= ~TIF_NEED_RESCHED; }

void resched_curr(rq* rq) { set_tsk_need_resched(rq->curr); }

task_struct* idle_task(int cpu) { return this_kernel->cpu_rq(cpu)->idle; }
bool is_idle_task(const task_struct* p) { return p->flags & PF_IDLE; }

// The only place a task sets its own sleep state; the matching schedule() call then takes
// it off the run queue unless a wake-up already set it back to TASK_RUNNING.
void set_current_state(unsigned state) { current->__state = state; }
void __set_current_state(unsigned state) { current->__state = state; }

void activate_task(rq* rq, task_struct* p, int flags) {
    p->sched_class->enqueue_task(rq, p, flags);
    p->on_rq = 1;
    rq->nr_running++;
}

void deactivate_task(rq* rq, task_struct* p, int flags) {
    p->on_rq = 0;
    p->sched_class->dequeue_task(rq, p, flags);
    rq->nr_running--;
}

static void check_preempt_curr(rq* rq, task_struct* p, int flags) {
    if (p->sched_class == rq->curr->sched_class)
        p->sched_class->check_preempt_curr(rq, p, flags);
    else if (rq->curr->sched_class == &idle_sched_class)
        resched_curr(rq);
}

// Linux walks stop -> rt -> fair -> idle; the first class with a runnable task wins.
static task_struct* pick_next_task(rq* rq, task_struct* prev) {
    prev->sched_class->put_prev_task(rq, prev);
    for (const sched_class* c = &fair_sched_class; c; c = c->next) {
        task_struct* p = c->pick_next_task(rq);
        if (p) return p;
    }
    return rq->idle;
}

const char* task_state_letter(const task_struct* t) {
    if (t->exit_state & EXIT_ZOMBIE) return "Z";
    if (t->exit_state & EXIT_DEAD) return "X";
    unsigned s = t->__state;
    if (s == TASK_RUNNING) return "R";
    if (s & TASK_INTERRUPTIBLE) return "S";
    if (s & TASK_UNINTERRUPTIBLE) return (s & TASK_NOLOAD) ? "I" : "D";
    if (s & __TASK_STOPPED) return "T";
    if (s & __TASK_TRACED) return "t";
    if (s & TASK_DEAD) return "X";
    if (s & TASK_NEW) return "N";
    return "?";
}

void finish_task_switch(task_struct* prev) {
    (void)prev;
    Kernel* k = this_kernel;
    task_struct* cur = current;
    // Leaving idle restarts the periodic tick that NOHZ idle had stopped.
    if (!is_idle_task(cur) && !hrtimer_active(&k->tick_timers[k->this_cpu])) tick_sched_timer_start(k->this_cpu);
}

static void context_switch(rq* rq, task_struct* prev, task_struct* next) {
    Kernel* k = this_kernel;
    k->charge(k->costs.context_switch);
    prev->on_cpu = 0;
    next->on_cpu = 1;
    (void)rq;
    // A dead task does not come back: its caller, do_task_dead(), ends the fiber instead.
    if (prev->__state == TASK_DEAD) return;
    k->switch_to_host(host_act::SWITCH);
    finish_task_switch(prev);
}

static void __schedule(bool preempt) {
    Kernel* k = this_kernel;
    rq* rq = k->this_rq();
    task_struct* prev = rq->curr;
    u64* switch_count = &prev->nivcsw;
    unsigned prev_state = prev->__state;
    if (!preempt && prev_state != TASK_RUNNING) {
        if ((prev_state & TASK_INTERRUPTIBLE) && signal_pending(prev) && prev_state != TASK_DEAD) {
            prev->__state = TASK_RUNNING;  // a signal arrived before we slept: don't sleep
        } else {
            deactivate_task(rq, prev, DEQUEUE_SLEEP);
        }
        switch_count = &prev->nvcsw;
    }
    task_struct* next = pick_next_task(rq, prev);
    clear_tsk_need_resched(prev);
    if (prev == next) return;
    rq->nr_switches++;
    rq->curr = next;
    if (!is_idle_task(prev) || prev_state == TASK_DEAD) ++*switch_count;
    trace_point("sched_switch", "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d",
                prev->comm.c_str(), prev->pid, prev->prio, prev->__state == TASK_RUNNING && preempt ? "R+" : task_state_letter(prev),
                next->comm.c_str(), next->pid, next->prio);
    context_switch(rq, prev, next);
}

void schedule() {
    trace_scope ts("schedule");
    __schedule(false);
}

void schedule_idle() { __schedule(false); }

// Preemption on the way back to user mode (or from an interrupt): the task stays runnable.
void preempt_schedule_irq() {
    trace_scope ts("preempt_schedule_irq");
    __schedule(true);
}

void do_task_dead() {
    current->__state = TASK_DEAD;
    __schedule(false);
}

static int select_task_rq(task_struct* p, int wake_flags) {
    Kernel* k = this_kernel;
    if (!(wake_flags & WF_FORK) || k->cfg.cpus == 1) return p->cpu;
    // Fork balancing: start the child on the CPU with the fewest runnable tasks (the parent's
    // own CPU on a tie, then the lowest number). A running task is counted in nr_running.
    int best = p->cpu;
    unsigned best_load = k->cpu_rq(best)->nr_running;
    for (int c = 0; c < k->cfg.cpus; c++) {
        rq* r = k->cpu_rq(c);
        unsigned load = r->nr_running;
        if (load < best_load) {
            best = c;
            best_load = load;
        }
    }
    return best;
}

// The target CPU may be idle with a clock far behind: it wakes at the waker's time.
static void sync_idle_clock(rq* target) {
    Kernel* k = this_kernel;
    rq* src = k->this_rq();
    if (target != src && target->curr == target->idle && target->clock < src->clock) {
        target->idle_time += src->clock - target->clock;
        target->clock = src->clock;
    }
}

int try_to_wake_up(task_struct* p, unsigned state, int wake_flags) {
    trace_scope ts("try_to_wake_up", "pid=%d comm=%s", p->pid, p->comm.c_str());
    if (!(p->__state & state)) return ts.ret(0);
    trace_point("sched_waking", "comm=%s pid=%d prio=%d", p->comm.c_str(), p->pid, p->prio);
    if (p->on_rq) {
        // Still on its run queue (it set its state but has not scheduled out yet).
        p->__state = TASK_RUNNING;
        return ts.ret(1);
    }
    Kernel* k = this_kernel;
    rq* rq = k->cpu_rq(p->cpu);
    sync_idle_clock(rq);
    activate_task(rq, p, ENQUEUE_WAKEUP);
    p->__state = TASK_RUNNING;
    trace_point("sched_wakeup", "comm=%s pid=%d prio=%d target_cpu=%03d", p->comm.c_str(), p->pid, p->prio, p->cpu);
    check_preempt_curr(rq, p, wake_flags);
    return ts.ret(1);
}

int wake_up_process(task_struct* p) { return try_to_wake_up(p, TASK_NORMAL, 0); }
int wake_up_state(task_struct* p, unsigned state) { return try_to_wake_up(p, state, 0); }

void sched_fork(task_struct* p, task_struct* parent) {
    trace_scope ts("sched_fork");
    p->__state = TASK_NEW;
    p->prio = parent->normal_prio;
    p->static_prio = parent->static_prio;
    p->normal_prio = parent->normal_prio;
    p->policy = parent->policy == SCHED_IDLE ? SCHED_IDLE : SCHED_NORMAL;
    if (parent->flags & PF_IDLE) {
        p->policy = SCHED_NORMAL;
        p->prio = p->static_prio = p->normal_prio = DEFAULT_PRIO;
    }
    p->sched_class = &fair_sched_class;
    p->se = sched_entity();
    p->se.task = p;
    p->se.load = parent->flags & PF_IDLE ? load_weight{} : parent->se.load;
    p->on_rq = 0;
    p->on_cpu = 0;
    p->cpu = parent->cpu;
    p->sched_class->task_fork(p);
}

void wake_up_new_task(task_struct* p) {
    trace_scope ts("wake_up_new_task", "pid=%d", p->pid);
    Kernel* k = this_kernel;
    p->__state = TASK_RUNNING;
    int cpu = select_task_rq(p, WF_FORK);
    if (cpu != p->cpu) {
        // place the vruntime relative to the new CPU's queue
        p->se.vruntime = p->se.vruntime - k->cpu_rq(p->cpu)->cfs.min_vruntime + k->cpu_rq(cpu)->cfs.min_vruntime;
        p->cpu = cpu;
    }
    rq* rq = k->cpu_rq(cpu);
    sync_idle_clock(rq);
    activate_task(rq, p, ENQUEUE_INITIAL);
    trace_point("sched_wakeup_new", "comm=%s pid=%d prio=%d target_cpu=%03d", p->comm.c_str(), p->pid, p->prio, cpu);
    check_preempt_curr(rq, p, WF_FORK);
}

void scheduler_tick() {
    trace_scope ts("scheduler_tick");
    rq* rq = this_kernel->this_rq();
    task_struct* curr = rq->curr;
    curr->sched_class->task_tick(rq, curr, 0);
}

long do_sched_yield() {
    trace_scope ts("do_sched_yield");
    rq* rq = this_kernel->this_rq();
    rq->curr->sched_class->yield_task(rq);
    schedule();
    return 0;
}

u64 task_sched_runtime(task_struct* p) {
    Kernel* k = p->kernel;
    rq* rq = k->cpu_rq(p->cpu);
    u64 ns = p->se.sum_exec_runtime;
    if (rq->curr == p && p->on_cpu && p->sched_class == &fair_sched_class) ns += rq->clock - p->se.exec_start;
    return ns;
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE(sched_yield) { return do_sched_yield(); }

}  // namespace gk
