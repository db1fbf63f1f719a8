// Models kernel/sched/fair.c (v6.1): CFS. Each runnable entity's vruntime grows by its runtime scaled
// by NICE_0_LOAD / weight; the entity with the smallest vruntime (leftmost in the red-black
// tree) runs next. The running entity is kept out of the tree, as in Linux.
#include "kernel/sched/sched.h"

namespace gk {

// sched_prio_to_weight[]: nice -20 .. 19; each step is ~10% of CPU share (1.25x weight).
const int sched_prio_to_weight[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,    36,    29,    23,    18,    15,
};

static constexpr u64 sysctl_sched_latency = 6 * NSEC_PER_MSEC;
static constexpr u64 sysctl_sched_min_granularity = 750 * NSEC_PER_USEC;
static constexpr u64 sysctl_sched_wakeup_granularity = 1 * NSEC_PER_MSEC;
static constexpr unsigned sched_nr_latency = 8;

static u64 calc_delta_fair(u64 delta, const sched_entity* se) {
    if (se->load.weight == NICE_0_LOAD) return delta;
    return delta * NICE_0_LOAD / se->load.weight;
}

static cfs_rq* cfs_of(rq* rq) { return &rq->cfs; }

static void update_min_vruntime(cfs_rq* cfs) {
    u64 vruntime = cfs->min_vruntime;
    bool have = false;
    if (cfs->curr && cfs->curr->on_rq) {
        vruntime = cfs->curr->vruntime;
        have = true;
    }
    if (!cfs->tasks_timeline.empty()) {
        u64 left = cfs->tasks_timeline.begin()->vruntime;
        vruntime = have ? std::min(vruntime, left) : left;
        have = true;
    }
    // min_vruntime only ever moves forward.
    if (have && static_cast<s64>(vruntime - cfs->min_vruntime) > 0) cfs->min_vruntime = vruntime;
}

static void update_curr(cfs_rq* cfs, rq* rq) {
    sched_entity* curr = cfs->curr;
    if (!curr) return;
    u64 now = rq->clock;
    s64 delta = static_cast<s64>(now - curr->exec_start);
    if (delta <= 0) return;
    curr->exec_start = now;
    curr->sum_exec_runtime += delta;
    curr->vruntime += calc_delta_fair(delta, curr);
    update_min_vruntime(cfs);
}

void update_curr_fair(rq* rq) { update_curr(cfs_of(rq), rq); }

static u64 sched_period(unsigned nr_running) {
    if (nr_running > sched_nr_latency) return nr_running * sysctl_sched_min_granularity;
    return sysctl_sched_latency;
}

// The wall-time slice this entity gets out of one period, in proportion to its weight.
static u64 sched_slice(cfs_rq* cfs, sched_entity* se) {
    unsigned nr = cfs->nr_running + (se->on_rq ? 0 : 1);
    u64 slice = sched_period(nr);
    unsigned long load = cfs->load.weight + (se->on_rq ? 0 : se->load.weight);
    if (load) slice = slice * se->load.weight / load;
    return slice;
}

static void place_entity(cfs_rq* cfs, sched_entity* se, bool initial) {
    u64 vruntime = cfs->min_vruntime;
    if (initial) {
        vruntime += calc_delta_fair(sched_slice(cfs, se), se);  // START_DEBIT: a new task waits its turn
    } else {
        vruntime -= sysctl_sched_latency / 2;  // GENTLE_FAIR_SLEEPERS: a sleeper gets half a period of credit
    }
    // Never gain time by sleeping: keep the larger of the two (max_vruntime).
    if (static_cast<s64>(vruntime - se->vruntime) > 0) se->vruntime = vruntime;
}

static void enqueue_task_fair(rq* rq, task_struct* p, int flags) {
    cfs_rq* cfs = cfs_of(rq);
    sched_entity* se = &p->se;
    update_curr(cfs, rq);
    if (flags & ENQUEUE_WAKEUP) place_entity(cfs, se, false);
    cfs->load.weight += se->load.weight;
    cfs->nr_running++;
    se->on_rq = true;
    se->enqueue_seq = cfs->seq++;
    if (se != cfs->curr) cfs->tasks_timeline.insert(*se);
    update_min_vruntime(cfs);
}

static void dequeue_task_fair(rq* rq, task_struct* p, int flags) {
    (void)flags;
    cfs_rq* cfs = cfs_of(rq);
    sched_entity* se = &p->se;
    update_curr(cfs, rq);
    if (se != cfs->curr) cfs->tasks_timeline.erase(cfs->tasks_timeline.iterator_to(*se));
    se->on_rq = false;
    cfs->load.weight -= se->load.weight;
    cfs->nr_running--;
    update_min_vruntime(cfs);
}

static sched_entity* skip_buddy(rq* rq, sched_entity* se);

static task_struct* pick_next_task_fair(rq* rq) {
    cfs_rq* cfs = cfs_of(rq);
    if (cfs->tasks_timeline.empty()) return nullptr;
    sched_entity* se = &*cfs->tasks_timeline.begin();
    se = skip_buddy(rq, se);
    cfs->tasks_timeline.erase(cfs->tasks_timeline.iterator_to(*se));
    cfs->curr = se;
    se->exec_start = rq->clock;
    se->prev_sum_exec_runtime = se->sum_exec_runtime;
    return se->task;
}

// sched_yield() marks the yielder as the skip buddy: pick the next entity instead, if any.
static sched_entity* skip_buddy(rq* rq, sched_entity* se) {
    sched_entity*& skip = rq->cfs.skip;
    if (skip == se) {
        auto it = std::next(rq->cfs.tasks_timeline.iterator_to(*se));
        skip = nullptr;
        if (it != rq->cfs.tasks_timeline.end()) return &*it;
    }
    skip = nullptr;
    return se;
}

static void put_prev_task_fair(rq* rq, task_struct* prev) {
    cfs_rq* cfs = cfs_of(rq);
    sched_entity* se = &prev->se;
    if (cfs->curr != se) return;
    update_curr(cfs, rq);
    if (se->on_rq) cfs->tasks_timeline.insert(*se);
    cfs->curr = nullptr;
}

static void set_next_task_fair(rq* rq, task_struct* p, bool first) {
    (void)first;
    cfs_rq* cfs = cfs_of(rq);
    sched_entity* se = &p->se;
    if (se->on_rq) cfs->tasks_timeline.erase(cfs->tasks_timeline.iterator_to(*se));
    cfs->curr = se;
    se->exec_start = rq->clock;
}

static void yield_task_fair(rq* rq) {
    cfs_rq* cfs = cfs_of(rq);
    if (cfs->nr_running <= 1) return;
    update_curr(cfs, rq);
    cfs->skip = cfs->curr;
}

static void check_preempt_tick(cfs_rq* cfs, rq* rq, sched_entity* curr) {
    u64 ideal_runtime = sched_slice(cfs, curr);
    u64 delta_exec = curr->sum_exec_runtime - curr->prev_sum_exec_runtime;
    if (delta_exec > ideal_runtime) {
        resched_curr(rq);
        return;
    }
    if (delta_exec < sysctl_sched_min_granularity || cfs->tasks_timeline.empty()) return;
    s64 delta = static_cast<s64>(curr->vruntime - cfs->tasks_timeline.begin()->vruntime);
    if (delta > static_cast<s64>(ideal_runtime)) resched_curr(rq);
}

static void task_tick_fair(rq* rq, task_struct* curr, int queued) {
    (void)queued;
    cfs_rq* cfs = cfs_of(rq);
    update_curr(cfs, rq);
    trace_point("sched_stat_runtime", "comm=%s pid=%d runtime=%llu vruntime=%llu", curr->comm.c_str(), curr->pid,
                static_cast<unsigned long long>(curr->se.sum_exec_runtime), static_cast<unsigned long long>(curr->se.vruntime));
    if (cfs->nr_running > 1) check_preempt_tick(cfs, rq, &curr->se);
}

static void check_preempt_wakeup(rq* rq, task_struct* p, int wake_flags) {
    (void)wake_flags;
    task_struct* curr = rq->curr;
    if (curr->sched_class != &fair_sched_class) return;
    cfs_rq* cfs = cfs_of(rq);
    update_curr(cfs, rq);
    s64 vdiff = static_cast<s64>(curr->se.vruntime - p->se.vruntime);
    if (vdiff > static_cast<s64>(calc_delta_fair(sysctl_sched_wakeup_granularity, &p->se))) resched_curr(rq);
}

// p moves to new_cpu's run queue. Linux keeps a task's vruntime relative to its queue's
// min_vruntime while it is off every queue and adds the new queue's when it is enqueued there;
// the model keeps vruntime absolute, so the move is one rebase from the old queue's
// min_vruntime to the new one's: the task keeps its lead or lag, not its raw number.
// (The queues are the task's own machine's, not the running one's: host code binding a new
// kernel thread to a CPU moves it too.)
static void migrate_task_rq_fair(task_struct* p, int new_cpu) {
    cfs_rq* from = cfs_of(task_rq(p));
    cfs_rq* to = cfs_of(&p->kernel->runqueues[new_cpu]);
    p->se.vruntime = p->se.vruntime - from->min_vruntime + to->min_vruntime;
}

static void task_fork_fair(task_struct* p) {
    rq* rq = task_rq(p);
    cfs_rq* cfs = cfs_of(rq);
    task_struct* parent = current;
    update_curr(cfs, rq);
    if (parent && cfs->curr == &parent->se) p->se.vruntime = parent->se.vruntime;
    place_entity(cfs, &p->se, true);
}

DEFINE_SCHED_CLASS(fair) = {
    .name = "fair",
    .next = &idle_sched_class,
    .enqueue_task = enqueue_task_fair,
    .dequeue_task = dequeue_task_fair,
    .yield_task = yield_task_fair,
    .check_preempt_curr = check_preempt_wakeup,
    .pick_next_task = pick_next_task_fair,
    .put_prev_task = put_prev_task_fair,
    .set_next_task = set_next_task_fair,
    .migrate_task_rq = migrate_task_rq_fair,
    .task_tick = task_tick_fair,
    .task_fork = task_fork_fair,
    .update_curr = update_curr_fair,
};

}  // namespace gk
