// Models include/linux/workqueue.h (v6.1): work items run in process context by per-CPU kworker threads.
#pragma once
#include <deque>
#include <memory>
#include <string>

#include "glasskernel/hrtimer.h"
#include "glasskernel/interrupt.h"
#include "glasskernel/wait.h"

namespace gk {

struct task_struct;

enum : unsigned long { WORK_STRUCT_PENDING = 1 };

struct work_struct {
    unsigned long data = 0;  // WORK_STRUCT_PENDING while queued
    void (*func)(work_struct*) = nullptr;
    std::string name;  // the simulator's label for traces and views
    u64 runs = 0;
};

struct delayed_work {
    work_struct work;
    hrtimer timer;
    int cpu = 0;
};

// One worker pool per CPU, with one kworker thread (the simulator does not grow pools).
struct worker_pool {
    int cpu = 0;
    std::deque<work_struct*> worklist;
    task_struct* worker = nullptr;
    work_struct* current_work = nullptr;
    wait_queue_head flush_wait{"worker_pool.flush"};
};

bool queue_work_on(int cpu, work_struct* work);
bool queue_work(work_struct* work);
bool queue_delayed_work(delayed_work* dwork, u64 delay_ns);
bool flush_work(work_struct* work);
void workqueue_init(Kernel* k);

}  // namespace gk
