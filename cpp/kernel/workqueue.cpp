// Models kernel/workqueue.c (v6.1): queue_work puts a work item on a CPU's worker pool and wakes its
// kworker, which runs the item in process context (it may sleep); flush_work waits for an item;
// delayed work is queued by a timer.
#include "glasskernel/linux.h"

namespace gk {

static worker_pool* pool_of(int cpu) { return &this_kernel->cpu_worker_pools[cpu]; }

// A work item is queued at most once at a time: WORK_STRUCT_PENDING.
bool queue_work_on(int cpu, work_struct* work) {
    trace_scope ts("queue_work_on", "cpu=%d work=%s", cpu, work->name.c_str());
    if (work->data & WORK_STRUCT_PENDING) return ts.ret(false);
    work->data |= WORK_STRUCT_PENDING;
    worker_pool* pool = pool_of(cpu);
    trace_point("workqueue_queue_work", "work=%s cpu=%d", work->name.c_str(), cpu);
    pool->worklist.push_back(work);
    if (pool->worker) wake_up_process(pool->worker);
    return ts.ret(true);
}

bool queue_work(work_struct* work) { return queue_work_on(smp_processor_id(), work); }

static hrtimer_restart delayed_work_timer_fn(hrtimer* timer) {
    auto* dwork = static_cast<delayed_work*>(timer->data);
    queue_work_on(dwork->cpu, &dwork->work);
    return HRTIMER_NORESTART;
}

bool queue_delayed_work(delayed_work* dwork, u64 delay_ns) {
    trace_scope ts("queue_delayed_work", "work=%s delay=%llu", dwork->work.name.c_str(), static_cast<unsigned long long>(delay_ns));
    if (dwork->work.data & WORK_STRUCT_PENDING) return ts.ret(false);
    if (!delay_ns) return ts.ret(queue_work(&dwork->work));
    if (hrtimer_active(&dwork->timer)) return ts.ret(false);
    dwork->cpu = smp_processor_id();
    hrtimer_init(&dwork->timer, delayed_work_timer_fn, "delayed_work_timer_fn");
    dwork->timer.data = dwork;
    hrtimer_start(&dwork->timer, ktime_get() + delay_ns, dwork->cpu);
    return ts.ret(true);
}

static void process_one_work(worker_pool* pool, work_struct* work) {
    pool->current_work = work;
    work->data &= ~WORK_STRUCT_PENDING;  // it may be queued again while it runs
    trace_point("workqueue_execute_start", "work=%s", work->name.c_str());
    work->runs++;
    if (work->func) work->func(work);
    trace_point("workqueue_execute_end", "work=%s", work->name.c_str());
    pool->current_work = nullptr;
    __wake_up(&pool->flush_wait, TASK_NORMAL, 0, nullptr);
}

static int worker_thread(void* arg) {
    worker_pool* pool = static_cast<worker_pool*>(arg);
    for (;;) {
        set_current_state(TASK_IDLE);
        if (pool->worklist.empty()) {
            schedule();
            continue;
        }
        __set_current_state(TASK_RUNNING);
        while (!pool->worklist.empty()) {
            work_struct* work = pool->worklist.front();
            pool->worklist.pop_front();
            process_one_work(pool, work);
            cond_resched();
        }
    }
    return 0;
}

// Wait until the work item is neither queued nor running. True if it had to wait.
bool flush_work(work_struct* work) {
    trace_scope ts("flush_work", "work=%s", work->name.c_str());
    Kernel* k = this_kernel;
    bool waited = false;
    for (worker_pool& pool : k->cpu_worker_pools) {
        wait_queue_entry wait;
        init_wait_entry(&wait, 0);
        for (;;) {
            bool queued = false;
            for (work_struct* w : pool.worklist) queued = queued || w == work;
            if (!queued && pool.current_work != work) break;
            waited = true;
            prepare_to_wait(&pool.flush_wait, &wait, TASK_UNINTERRUPTIBLE);
            schedule();
        }
        finish_wait(&pool.flush_wait, &wait);
    }
    return ts.ret(waited);
}

// Called from kernel_init: one bound kworker per CPU ("kworker/N:0").
void workqueue_init(Kernel* k) {
    trace_scope ts("workqueue_init");
    for (int cpu = 0; cpu < k->cfg.cpus; cpu++) {
        worker_pool* pool = &k->cpu_worker_pools[cpu];
        std::string* name = new std::string("kworker/" + std::to_string(cpu) + ":0");
        k->boot_names.emplace_back(name);
        task_struct* t = kthread_create(worker_thread, pool, name->c_str());
        if (!t) continue;
        t->cpu = cpu;
        t->cpus_mask = 1ULL << cpu;
        pool->worker = t;
        wake_up_process(t);
    }
}

}  // namespace gk
