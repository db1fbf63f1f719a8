// Models kernel/sched/rt.c (v6.1): SCHED_FIFO and SCHED_RR. A runnable real-time task always runs before
// any SCHED_NORMAL one; among them the highest priority runs; FIFO runs until it blocks or yields,
// RR rotates equal priorities every RR_TIMESLICE (100 ms).
#include "glasskernel/linux.h"

namespace gk {

// RR_TIMESLICE in ticks (jiffies): how long a SCHED_RR task runs before others of its priority.
unsigned sched_rr_timeslice() { return static_cast<unsigned>(RR_TIMESLICE_MS * this_kernel->cfg.hz / 1000); }

static void enqueue_task_rt(rq* rq, task_struct* p, int flags) {
    (void)flags;
    int idx = p->prio;
    rq->rt.queue[idx].push_back(*p);
    rq->rt.bitmap[idx / 64] |= 1ULL << (idx % 64);
    rq->rt.rt_nr_running++;
}

static void dequeue_task_rt(rq* rq, task_struct* p, int flags) {
    (void)flags;
    int idx = p->prio;
    auto& q = rq->rt.queue[idx];
    q.erase(q.iterator_to(*p));
    if (q.empty()) rq->rt.bitmap[idx / 64] &= ~(1ULL << (idx % 64));
    rq->rt.rt_nr_running--;
}

static void requeue_task_rt(rq* rq, task_struct* p) {
    auto& q = rq->rt.queue[p->prio];
    q.erase(q.iterator_to(*p));
    q.push_back(*p);
}

static void yield_task_rt(rq* rq) { requeue_task_rt(rq, rq->curr); }

static void check_preempt_curr_rt(rq* rq, task_struct* p, int flags) {
    (void)flags;
    if (p->prio < rq->curr->prio) resched_curr(rq);
}

// The running task stays on its list (as in Linux); the head of the best list runs.
static void update_curr_rt(rq* rq);

static task_struct* pick_next_task_rt(rq* rq) {
    for (int w = 0; w < 2; w++) {
        if (!rq->rt.bitmap[w]) continue;
        int idx = w * 64 + __builtin_ctzll(rq->rt.bitmap[w]);
        task_struct* p = &rq->rt.queue[idx].front();
        p->se.exec_start = rq->clock;
        return p;
    }
    return nullptr;
}

static void put_prev_task_rt(rq* rq, task_struct* p) {
    (void)p;
    update_curr_rt(rq);
}
static void set_next_task_rt(rq*, task_struct*, bool) {}

static void task_tick_rt(rq* rq, task_struct* p, int queued) {
    (void)queued;
    update_curr_rt(rq);
    if (p->policy != SCHED_RR) return;
    if (p->rt_time_slice && --p->rt_time_slice) return;
    p->rt_time_slice = sched_rr_timeslice();
    // Only rotate if something else waits at this priority.
    auto& q = rq->rt.queue[p->prio];
    if (&q.front() != &q.back()) {
        requeue_task_rt(rq, p);
        resched_curr(rq);
    }
}

static void update_curr_rt(rq* rq) {
    task_struct* curr = rq->curr;
    if (curr->sched_class != &rt_sched_class) return;
    u64 now = rq->clock;
    if (now > curr->se.exec_start) curr->se.sum_exec_runtime += now - curr->se.exec_start;
    curr->se.exec_start = now;
}

DEFINE_SCHED_CLASS(rt) = {
    .name = "rt",
    .next = &fair_sched_class,
    .enqueue_task = enqueue_task_rt,
    .dequeue_task = dequeue_task_rt,
    .yield_task = yield_task_rt,
    .check_preempt_curr = check_preempt_curr_rt,
    .pick_next_task = pick_next_task_rt,
    .put_prev_task = put_prev_task_rt,
    .set_next_task = set_next_task_rt,
    .task_tick = task_tick_rt,
    .update_curr = update_curr_rt,
};

}  // namespace gk
