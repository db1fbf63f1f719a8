// Models kernel/sched/core.c (v6.1): __schedule, pick_next_task, context_switch, enqueue_task,
// dequeue_task, set_task_cpu, try_to_wake_up, wake_up_new_task, sched_fork, scheduler_tick,
// sched_yield, set_user_nice, sched_setscheduler and affinity.
#include <algorithm>
#include <cstring>

#include "kernel/sched/sched.h"

namespace gk {

void set_tsk_need_resched(task_struct* t) { t->thread_info.flags |= TIF_NEED_RESCHED; }
static void clear_tsk_need_resched(task_struct* t) { t->thread_info.flags &= ~TIF_NEED_RESCHED; }

void resched_curr(rq* rq) { set_tsk_need_resched(rq->curr); }

bool is_idle_task(const task_struct* p) { return p->flags & PF_IDLE; }

// The only place a task sets its own sleep state; the matching schedule() call then takes
// it off the run queue unless a wake-up already set it back to TASK_RUNNING.
void set_current_state(unsigned state) { current->__state = state; }
void __set_current_state(unsigned state) { current->__state = state; }

// Onto and off its class's run queue. The classes keep their own counts; rq->nr_running (all
// classes) is kept by activate_task/deactivate_task in the model (add_nr_running in Linux's
// classes), so that a requeue for a policy change leaves it alone.
static void enqueue_task(rq* rq, task_struct* p, int flags) {
    trace_scope ts("enqueue_task", "pid=%d flags=%#x", p->pid, flags);
    p->sched_class->enqueue_task(rq, p, flags);
}

static void dequeue_task(rq* rq, task_struct* p, int flags) {
    trace_scope ts("dequeue_task", "pid=%d flags=%#x", p->pid, flags);
    p->sched_class->dequeue_task(rq, p, flags);
}

void activate_task(rq* rq, task_struct* p, int flags) {
    enqueue_task(rq, p, flags);
    p->on_rq = TASK_ON_RQ_QUEUED;
    rq->nr_running++;
}

// A task going to sleep is off the queue at once; one taken off to be queued elsewhere stays
// TASK_ON_RQ_MIGRATING (runnable, between queues) until activate_task on the new CPU.
void deactivate_task(rq* rq, task_struct* p, int flags) {
    p->on_rq = (flags & DEQUEUE_SLEEP) ? 0 : TASK_ON_RQ_MIGRATING;
    dequeue_task(rq, p, flags);
    rq->nr_running--;
}

static void __set_task_cpu(task_struct* p, int cpu) { p->cpu = cpu; }

// p moves to another CPU's run queue (it is off every queue now): its class adjusts what is
// relative to the old queue, and the move counts as a migration.
static void set_task_cpu(task_struct* p, int new_cpu) {
    trace_point("sched_migrate_task", "comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d", p->comm.c_str(), p->pid, p->prio, p->cpu,
                new_cpu);
    if (p->cpu != new_cpu) {
        if (p->sched_class->migrate_task_rq) p->sched_class->migrate_task_rq(p, new_cpu);
        p->se.nr_migrations++;
    }
    __set_task_cpu(p, new_cpu);
}

static int class_rank(const sched_class* c) { return c == &rt_sched_class ? 2 : c == &fair_sched_class ? 1 : 0; }

// A task of a higher class always preempts; within a class, the class decides.
static void check_preempt_curr(rq* rq, task_struct* p, int flags) {
    if (p->sched_class == rq->curr->sched_class)
        p->sched_class->check_preempt_curr(rq, p, flags);
    else if (class_rank(p->sched_class) > class_rank(rq->curr->sched_class))
        resched_curr(rq);
}

static void move_queued_task(rq* src, task_struct* p, int dst_cpu) {
    Kernel* k = p->kernel;
    rq* dst = k->cpu_rq(dst_cpu);
    deactivate_task(src, p, 0);
    set_task_cpu(p, dst_cpu);
    if (dst->curr == dst->idle && dst->clock < src->clock) {
        dst->idle_time += src->clock - dst->clock;
        dst->clock = src->clock;
    }
    activate_task(dst, p, 0);
    check_preempt_curr(dst, p, 0);
}

static int first_allowed_cpu(const task_struct* p) {
    u64 m = p->cpus_mask & ((p->kernel->cfg.cpus >= 64) ? ~0ULL : ((1ULL << p->kernel->cfg.cpus) - 1));
    return m ? __builtin_ctzll(m) : 0;
}

// newidle_balance: a CPU about to go idle pulls a waiting fair task from the busiest CPU.
static task_struct* newidle_balance(rq* this_rq) {
    if (nr_cpu_ids == 1) return nullptr;
    rq* busiest = nullptr;
    int c;
    for_each_possible_cpu(c) {
        rq* r = cpu_rq(c);
        if (r == this_rq || r->cfs.tasks_timeline.empty()) continue;
        if (!busiest || r->nr_running > busiest->nr_running) busiest = r;
    }
    if (!busiest) return nullptr;
    for (auto it = busiest->cfs.tasks_timeline.rbegin(); it != busiest->cfs.tasks_timeline.rend(); ++it) {
        task_struct* p = it->task;
        if (!(p->cpus_mask & (1ULL << this_rq->cpu))) continue;
        trace_scope ts("newidle_balance", "pulled=%d from=%d", p->pid, busiest->cpu);
        move_queued_task(busiest, p, this_rq->cpu);
        return p;
    }
    return nullptr;
}

// Linux walks stop -> rt -> fair -> idle; the first class with a runnable task wins.
static task_struct* pick_next_task(rq* rq, task_struct* prev) {
    trace_scope ts("pick_next_task", "prev=%d", prev->pid);
    prev->sched_class->put_prev_task(rq, prev);
    for (int pass = 0; pass < 2; pass++) {
        for (const sched_class* c = &rt_sched_class; c != &idle_sched_class; c = c->next) {
            task_struct* p = c->pick_next_task(rq);
            if (p) return p;
        }
        if (pass == 0 && !newidle_balance(rq)) break;
    }
    return rq->idle;
}

const char* task_state_to_char(const task_struct* t) {
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
    task_struct* cur = current;
    int cpu = smp_processor_id();
    // The run queue lock is dropped with interrupts enabled (raw_spin_rq_unlock_irq): a task
    // always comes back from schedule() with interrupts on.
    raw_local_irq_enable();
    // Leaving idle restarts the periodic tick that NOHZ idle had stopped or set for later.
    if (!is_idle_task(cur)) tick_nohz_restart(cpu);
}

// Switch from prev's kernel stack to next's. prev's call of this function returns only when it
// is scheduled again (and finish_task_switch then runs on its behalf).
static void context_switch(rq* rq, task_struct* prev, task_struct* next) {
    trace_scope ts("context_switch", "prev=%d next=%d", prev->pid, next->pid);
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

// schedule_debug: sleeping with preemption disabled or inside an interrupt is a bug; Linux says
// so and carries on with the count reset, and so do we.
static void schedule_debug(task_struct* prev) {
    if (prev->thread_info.preempt_count && prev->__state != TASK_DEAD) {
        printk("BUG: scheduling while atomic: %s/%d/0x%08x", prev->comm.c_str(), prev->pid, prev->thread_info.preempt_count);
        prev->thread_info.preempt_count = 0;
    }
}

void __schedule(bool preempt) {
    trace_scope ts("__schedule", "preempt=%d", preempt);
    touch_softlockup_watchdog_sched();
    rq* rq = this_rq();
    task_struct* prev = rq->curr;
    if (!is_idle_task(prev)) schedule_debug(prev);
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
    if (prev->migrate_pending && prev->on_rq) {
        // Its affinity no longer allows this CPU (sched_setaffinity): move it as it leaves.
        prev->migrate_pending = false;
        prev->sched_class->put_prev_task(rq, prev);
        move_queued_task(rq, prev, first_allowed_cpu(prev));
    }
    task_struct* next = pick_next_task(rq, prev);
    clear_tsk_need_resched(prev);
    if (prev == next) return;
    rq->nr_switches++;
    rq->curr = next;
    if (!is_idle_task(prev) || prev_state == TASK_DEAD) ++*switch_count;
    trace_point("sched_switch", "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d",
                prev->comm.c_str(), prev->pid, prev->prio, prev->__state == TASK_RUNNING && preempt ? "R+" : task_state_to_char(prev),
                next->comm.c_str(), next->pid, next->prio);
    context_switch(rq, prev, next);
}

void schedule() {
    trace_scope ts("schedule");
    __schedule(false);
}

void schedule_idle() { __schedule(false); }

void do_task_dead() {
    current->__state = TASK_DEAD;
    __schedule(false);
}

static int select_task_rq(task_struct* p, int wake_flags) {
    if (nr_cpu_ids == 1) return p->cpu;
    if (!(p->cpus_mask & (1ULL << p->cpu))) return first_allowed_cpu(p);
    int c;
    if (!(wake_flags & WF_FORK)) {
        // select_idle_sibling: a wakee whose CPU is busy goes to an idle CPU it may use.
        rq* prev = task_rq(p);
        if (prev->curr == prev->idle && prev->nr_running == 0) return p->cpu;
        for_each_possible_cpu(c) {
            rq* r = cpu_rq(c);
            if ((p->cpus_mask & (1ULL << c)) && r->curr == r->idle && r->nr_running == 0) return c;
        }
        return p->cpu;
    }
    // Fork balancing: start the child on the CPU with the fewest runnable tasks (the parent's
    // own CPU on a tie, then the lowest number). A running task is counted in nr_running.
    int best = p->cpu;
    unsigned best_load = cpu_rq(best)->nr_running;
    for_each_possible_cpu(c) {
        rq* r = cpu_rq(c);
        if (!(p->cpus_mask & (1ULL << c))) continue;
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
    rq* src = this_rq();
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
    int cpu = select_task_rq(p, WF_TTWU);
    if (cpu != p->cpu) set_task_cpu(p, cpu);
    rq* rq = task_rq(p);
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
    p->cpus_mask = parent->cpus_mask;
    if ((parent->policy == SCHED_FIFO || parent->policy == SCHED_RR) && !parent->sched_reset_on_fork) {
        // The child inherits its parent's real-time policy and priority.
        p->policy = parent->policy;
        p->rt_priority = parent->rt_priority;
        p->prio = p->normal_prio = parent->normal_prio;
        p->sched_class = &rt_sched_class;
    } else if (parent->sched_reset_on_fork) {
        p->policy = SCHED_NORMAL;
        p->prio = p->normal_prio = p->static_prio = parent->static_prio < DEFAULT_PRIO ? DEFAULT_PRIO : parent->static_prio;
    }
    p->se = sched_entity();
    p->se.task = p;
    p->se.load = parent->flags & PF_IDLE ? load_weight{} : parent->se.load;
    p->on_rq = 0;
    p->on_cpu = 0;
    p->cpu = parent->cpu;
    if (!(p->cpus_mask & (1ULL << p->cpu))) p->cpu = first_allowed_cpu(p);
    p->rt_time_slice = sched_rr_timeslice();  // __sched_fork: a full RR slice to start with
    if (p->sched_class->task_fork) p->sched_class->task_fork(p);
}

void wake_up_new_task(task_struct* p) {
    trace_scope ts("wake_up_new_task", "pid=%d", p->pid);
    p->__state = TASK_RUNNING;
    // Fork balancing. Linux sets the CPU with __set_task_cpu() here, not set_task_cpu(): a
    // child that has never run is not a migration (no sched_migrate_task, no nr_migrations).
    // Its vruntime, which task_fork_fair left relative to the parent's queue, becomes one on
    // the new queue as enqueue_entity adds that queue's min_vruntime; the model keeps vruntime
    // absolute, so it asks the class for the same rebase a migration makes.
    int cpu = select_task_rq(p, WF_FORK);
    if (cpu != p->cpu && p->sched_class->migrate_task_rq) p->sched_class->migrate_task_rq(p, cpu);
    __set_task_cpu(p, cpu);
    rq* rq = cpu_rq(cpu);
    sync_idle_clock(rq);
    activate_task(rq, p, ENQUEUE_INITIAL);
    trace_point("sched_wakeup_new", "comm=%s pid=%d prio=%d target_cpu=%03d", p->comm.c_str(), p->pid, p->prio, cpu);
    check_preempt_curr(rq, p, WF_FORK);
}

void scheduler_tick() {
    trace_scope ts("scheduler_tick");
    rq* rq = this_rq();
    task_struct* curr = rq->curr;
    curr->sched_class->task_tick(rq, curr, 0);
}

long do_sched_yield() {
    trace_scope ts("do_sched_yield");
    rq* rq = this_rq();
    rq->curr->sched_class->yield_task(rq);
    schedule();
    return 0;
}

u64 task_sched_runtime(task_struct* p) {
    rq* rq = task_rq(p);
    u64 ns = p->se.sum_exec_runtime;
    if (rq->curr == p && p->on_cpu && p->sched_class == &fair_sched_class) ns += rq->clock - p->se.exec_start;
    return ns;
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE0(sched_yield) { return do_sched_yield(); }

}  // namespace gk

// ---- scheduling policy and affinity system calls ----

namespace gk {

static constexpr long SCHED_RESET_ON_FORK = 0x40000000;

static bool rt_policy(long policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
static bool valid_policy(long policy) {
    return policy == SCHED_NORMAL || rt_policy(policy) || policy == SCHED_BATCH || policy == SCHED_IDLE;
}

static task_struct* find_process_by_pid(pid_t pid) {
    return pid ? find_task_by_vpid(pid) : current;
}

// The caller may change p if it is root or p's owner (check_same_owner).
static bool check_same_owner(task_struct* p) {
    const cred* c = current->real_cred.get();
    const cred* pc = p->real_cred.get();
    return c->euid == 0 || c->euid == pc->euid || c->euid == pc->uid;
}

// Move p to a new class/priority, off and back onto its run queue (the pattern Linux repeats
// in __sched_setscheduler, set_user_nice and rt_mutex_setprio).
static void __setscheduler(task_struct* p, int policy, unsigned rt_priority) {
    rq* rq = task_rq(p);
    bool queued = p->on_rq, running = rq->curr == p;
    if (running) p->sched_class->update_curr(rq);
    if (queued) dequeue_task(rq, p, 0);
    if (running) p->sched_class->put_prev_task(rq, p);
    p->policy = policy;
    p->rt_priority = rt_priority;
    if (rt_policy(policy)) {
        p->prio = p->normal_prio = MAX_RT_PRIO - 1 - static_cast<int>(rt_priority);
        p->sched_class = &rt_sched_class;
        p->rt_time_slice = sched_rr_timeslice();
    } else {
        p->prio = p->normal_prio = p->static_prio;
        p->sched_class = &fair_sched_class;
        // set_load_weight: the nice value may have changed while the task was real-time.
        p->se.load.weight = static_cast<unsigned long>(sched_prio_to_weight[p->static_prio - DEFAULT_PRIO + 20]);
    }
    if (queued) enqueue_task(rq, p, 0);
    if (running) {
        p->sched_class->set_next_task(rq, p, false);
        resched_curr(rq);  // let __schedule pick again under the new policy
    } else if (queued) {
        check_preempt_curr(rq, p, 0);
    }
}

// A new nice value: a new weight for CFS, and maybe a different task deserves the CPU.
void set_user_nice(task_struct* p, int nice) {
    trace_scope ts("set_user_nice", "pid=%d nice=%d", p->pid, nice);
    if (task_nice(p) == nice || nice < MIN_NICE || nice > MAX_NICE) return;
    // A real-time task keeps its priority (sched_setscheduler sets that); its nice value is only
    // stored, and counts again once the task is SCHED_OTHER.
    if (rt_policy(p->policy)) {
        p->static_prio = DEFAULT_PRIO + nice;
        return;
    }
    rq* rq = task_rq(p);
    bool running = rq->curr == p;
    if (running) update_curr_fair(rq);
    int old = task_nice(p);
    unsigned long w = static_cast<unsigned long>(sched_prio_to_weight[nice + 20]);
    if (p->se.on_rq) rq->cfs.load.weight = rq->cfs.load.weight - p->se.load.weight + w;
    p->se.load.weight = w;
    p->static_prio = p->normal_prio = p->prio = DEFAULT_PRIO + nice;
    // A task that got more important may now deserve the CPU; one that got less, may not.
    if ((running && nice > old) || (!running && p->on_rq && nice < old)) resched_curr(rq);
}

static long __sched_setscheduler(task_struct* p, long policy, long priority, bool keep_policy) {
    trace_scope ts("__sched_setscheduler", "pid=%d policy=%ld prio=%ld", p->pid, policy, priority);
    bool reset_on_fork = p->sched_reset_on_fork;
    if (keep_policy) {
        policy = p->policy;
    } else {
        reset_on_fork = policy & SCHED_RESET_ON_FORK;
        policy &= ~SCHED_RESET_ON_FORK;
        if (!valid_policy(policy)) return ts.ret(-EINVAL);
    }
    // Real-time policies take 1..99; the others only 0.
    if (priority < 0 || priority > MAX_RT_PRIO - 1 || (rt_policy(policy) != (priority != 0))) return ts.ret(-EINVAL);
    if (current->real_cred->euid != 0) {
        if (rt_policy(policy)) {
            u64 rlim = task_rlimit(p, RLIMIT_RTPRIO);
            // Without CAP_SYS_NICE: only up to RLIMIT_RTPRIO, and never higher than now.
            if (policy != static_cast<long>(p->policy) && !rlim) return ts.ret(-EPERM);
            if (static_cast<u64>(priority) > p->rt_priority && static_cast<u64>(priority) > rlim) return ts.ret(-EPERM);
        }
        if (!check_same_owner(p)) return ts.ret(-EPERM);
        if (p->sched_reset_on_fork && !reset_on_fork) return ts.ret(-EPERM);
    }
    p->sched_reset_on_fork = reset_on_fork;
    __setscheduler(p, static_cast<int>(policy), static_cast<unsigned>(priority));
    trace_point("sched_setscheduler", "pid=%d policy=%ld rt_priority=%ld", p->pid, policy, priority);
    return ts.ret(0);
}

}  // namespace gk

namespace gk {

static constexpr int SETPARAM_POLICY = -1;

static int do_sched_setscheduler(pid_t pid, int policy, struct sched_param __user* param) {
    if (!param || pid < 0) return -EINVAL;
    struct sched_param lparam;
    if (copy_from_user(&lparam, param, sizeof lparam)) return -EFAULT;
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    return __sched_setscheduler(p, policy, lparam.sched_priority, policy == SETPARAM_POLICY);
}

SYSCALL_DEFINE3(sched_setscheduler, pid_t, pid, int, policy, struct sched_param __user *, param) {
    if (policy < 0) return -EINVAL;
    return do_sched_setscheduler(pid, policy, param);
}

SYSCALL_DEFINE2(sched_setparam, pid_t, pid, struct sched_param __user *, param) {
    return do_sched_setscheduler(pid, SETPARAM_POLICY, param);
}

SYSCALL_DEFINE1(sched_getscheduler, pid_t, pid) {
    if (pid < 0) return -EINVAL;
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    return p->policy | (p->sched_reset_on_fork ? SCHED_RESET_ON_FORK : 0);
}

SYSCALL_DEFINE2(sched_getparam, pid_t, pid, struct sched_param __user *, param) {
    if (!param || pid < 0) return -EINVAL;
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    struct sched_param lp{rt_policy(p->policy) ? static_cast<int>(p->rt_priority) : 0};
    return copy_to_user(param, &lp, sizeof lp) ? -EFAULT : 0;
}

// SCHED_DEADLINE has no priorities: 0, as for the fair policies (its class is not modeled, so
// sched_setscheduler refuses it).
SYSCALL_DEFINE1(sched_get_priority_max, int, policy) {
    switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR: return MAX_RT_PRIO - 1;
    case SCHED_DEADLINE:
    case SCHED_NORMAL:
    case SCHED_BATCH:
    case SCHED_IDLE: return 0;
    default: return -EINVAL;
    }
}

SYSCALL_DEFINE1(sched_get_priority_min, int, policy) {
    switch (policy) {
    case SCHED_FIFO:
    case SCHED_RR: return 1;
    case SCHED_DEADLINE:
    case SCHED_NORMAL:
    case SCHED_BATCH:
    case SCHED_IDLE: return 0;
    default: return -EINVAL;
    }
}

// The round-robin interval (SCHED_RR: RR_TIMESLICE; SCHED_FIFO and the fair classes: 0 here).
SYSCALL_DEFINE2(sched_rr_get_interval, pid_t, pid, struct __kernel_timespec __user *, interval) {
    if (pid < 0) return -EINVAL;
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    u64 ns = p->policy == SCHED_RR ? static_cast<u64>(RR_TIMESLICE_MS) * NSEC_PER_MSEC : 0;
    __kernel_timespec t = ns_to_timespec64(ns);
    return copy_to_user(interval, &t, sizeof t) ? -EFAULT : 0;
}

// With CPUMASK_OFFSTACK (Debian's configuration) a cpumask is as long as the CPUs need: one
// unsigned long for up to 64.
static constexpr unsigned cpumask_size = sizeof(unsigned long);

static u64 cpu_online_mask() {
    return nr_cpu_ids >= 64 ? ~0ULL : ((1ULL << nr_cpu_ids) - 1);
}

static long sched_setaffinity(pid_t pid, u64 in_mask) {
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    trace_scope ts("sched_setaffinity", "pid=%d mask=%#llx", p->pid, static_cast<unsigned long long>(in_mask));
    if (p->flags & PF_NO_SETAFFINITY) return ts.ret(-EINVAL);  // a per-CPU kernel thread
    if (!check_same_owner(p)) return ts.ret(-EPERM);
    u64 mask = in_mask & cpu_online_mask();
    if (!mask) return ts.ret(-EINVAL);
    do_set_cpus_allowed(p, mask);
    return ts.ret(0);
}

// A shorter mask than the kernel's is taken as zeros beyond it; a longer one is cut.
SYSCALL_DEFINE3(sched_setaffinity, pid_t, pid, unsigned int, len, unsigned long __user *, user_mask_ptr) {
    unsigned long new_mask = 0;
    if (len > cpumask_size) len = cpumask_size;
    if (copy_from_user(&new_mask, user_mask_ptr, len)) return -EFAULT;
    return sched_setaffinity(pid, new_mask);
}

// A task running on a CPU it may no longer use moves off it as it leaves; a queued one moves now.
void do_set_cpus_allowed(task_struct* p, u64 mask) {
    p->cpus_mask = mask;
    if (mask & (1ULL << p->cpu)) return;
    rq* rq = task_rq(p);
    if (rq->curr == p) {
        p->migrate_pending = true;
        resched_curr(rq);
    } else if (p->on_rq) {
        move_queued_task(rq, p, first_allowed_cpu(p));
    }
}

// Returns the size of the mask it wrote (glibc turns that into 0).
SYSCALL_DEFINE3(sched_getaffinity, pid_t, pid, unsigned int, len, unsigned long __user *, user_mask_ptr) {
    if (len * 8u < nr_cpu_ids) return -EINVAL;  // 32-bit, as in Linux
    if (len & (sizeof(unsigned long) - 1)) return -EINVAL;
    task_struct* p = find_process_by_pid(pid);
    if (!p) return -ESRCH;
    unsigned long mask = p->cpus_mask & cpu_online_mask();
    unsigned retlen = std::min(len, cpumask_size);
    if (copy_to_user(user_mask_ptr, &mask, retlen)) return -EFAULT;
    return retlen;
}

}  // namespace gk

namespace gk {

// The scheduler's own functions (Linux puts them in the .sched.text section with __sched):
// get_wchan skips them to name where the task chose to sleep.
static bool in_sched_functions(const char* fn) {
    static const char* const sched_text[] = {
        "schedule", "__schedule", "context_switch", "pick_next_task", "dequeue_task", "enqueue_task", "__cond_resched",
        "preempt_schedule", "preempt_schedule_irq", "schedule_timeout", "schedule_hrtimeout", "do_nanosleep",
        "wait_for_completion", "wait_for_completion_killable",
    };
    for (const char* s : sched_text)
        if (std::strcmp(fn, s) == 0) return true;
    return false;
}

// /proc/PID/wchan: the function a sleeping task waits in, or "" if it is running (or has no
// kernel frames, e.g. stopped on its way back to user mode). A system call's own body shows as
// Linux names it: x86's __x64_sys_NAME wrapper calls the SYSCALL_DEFINE body __do_sys_NAME,
// which the model's one scope stands for.
std::string get_wchan(task_struct* p) {
    if (!p || p->__state == TASK_RUNNING || p->exit_state) return "";
    for (auto it = p->thread.kstack.rbegin(); it != p->thread.kstack.rend(); ++it) {
        if (in_sched_functions(*it)) continue;
        static const char prefix[] = "__x64_sys_";
        if (std::strncmp(*it, prefix, sizeof prefix - 1) == 0) return std::string("__do_sys_") + (*it + sizeof prefix - 1);
        return *it;
    }
    return "";
}

}  // namespace gk
