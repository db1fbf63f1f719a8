// Unit tests of the modeled structures on their own: the pid allocator, wait queues with
// exclusive waiters, CFS ordering and weights, and hrtimer ordering.
#include <gtest/gtest.h>

#include "glasskernel/linux.h"

using namespace gk;

TEST(Pid, CyclicAllocationWrapsAndSkipsUsedNumbers) {
    Kernel k;  // boot used pids 1..3
    kernel_context ctx(&k);
    pid_namespace ns;
    ns.pid_max = 8;
    std::vector<pid*> got;
    for (int i = 0; i < 7; i++) {
        pid* p = nullptr;
        ASSERT_EQ(alloc_pid(&ns, &p), i + 1);
        got.push_back(p);
    }
    pid* p = nullptr;
    EXPECT_EQ(alloc_pid(&ns, &p), -EAGAIN);  // 1..7 are all taken
    free_pid(&ns, got[2]);                    // free 3
    EXPECT_EQ(alloc_pid(&ns, &p), 3);         // the cursor wraps to the only free number
    free_pid(&ns, got[5]);                    // free 6
    EXPECT_EQ(alloc_pid(&ns, &p), 6);
}

TEST(Pid, WrapRestartsAtReservedPids) {
    Kernel k;
    kernel_context ctx(&k);
    pid_namespace ns;
    ns.pid_max = 400;
    ns.last_pid = 399;  // the counter has gone past RESERVED_PIDS once
    pid* p = nullptr;
    EXPECT_EQ(alloc_pid(&ns, &p), RESERVED_PIDS);
}

namespace {
struct wq_test {
    wait_queue_head wq{"test"};
    std::vector<int> woken;
};
wq_test* g_wq;
int record_wake(wait_queue_entry* e, unsigned, int, void*) {
    g_wq->woken.push_back(static_cast<int>(reinterpret_cast<intptr_t>(e->private_)));
    return 1;
}
}  // namespace

TEST(WaitQueue, ExclusiveWaitersWokenOneAtATime) {
    Kernel k;
    kernel_context ctx(&k);
    wq_test t;
    g_wq = &t;
    wait_queue_entry e[4];
    for (int i = 0; i < 4; i++) {
        e[i].func = record_wake;
        e[i].private_ = reinterpret_cast<task_struct*>(static_cast<intptr_t>(i + 1));
    }
    add_wait_queue_exclusive(&t.wq, &e[0]);
    add_wait_queue_exclusive(&t.wq, &e[1]);
    add_wait_queue(&t.wq, &e[2]);  // non-exclusive waiters go first and are all woken
    add_wait_queue(&t.wq, &e[3]);
    __wake_up(&t.wq, TASK_NORMAL, 1, nullptr);
    EXPECT_EQ(t.woken, (std::vector<int>{4, 3, 1}));
    t.woken.clear();
    __wake_up(&t.wq, TASK_NORMAL, 0, nullptr);
    EXPECT_EQ(t.woken, (std::vector<int>{4, 3, 1, 2}));
    for (auto& x : e) remove_wait_queue(&t.wq, &x);
    EXPECT_FALSE(waitqueue_active(&t.wq));
}

TEST(Cfs, WeightTableFollowsNice) {
    EXPECT_EQ(sched_prio_to_weight[20], 1024);  // nice 0
    EXPECT_EQ(sched_prio_to_weight[25], 335);   // nice 5
    EXPECT_EQ(sched_prio_to_weight[0], 88761);  // nice -20
    EXPECT_EQ(sched_prio_to_weight[39], 15);    // nice 19
    for (int i = 1; i < 40; i++) EXPECT_LT(sched_prio_to_weight[i], sched_prio_to_weight[i - 1]);
}

TEST(Cfs, TimelineOrdersByVruntimeThenEnqueueOrder) {
    cfs_rq cfs;
    sched_entity a, b, c;
    a.vruntime = 300;
    b.vruntime = 100;
    c.vruntime = 100;
    b.enqueue_seq = 2;
    c.enqueue_seq = 1;
    cfs.tasks_timeline.insert(a);
    cfs.tasks_timeline.insert(b);
    cfs.tasks_timeline.insert(c);
    std::vector<sched_entity*> order;
    for (auto& se : cfs.tasks_timeline) order.push_back(&se);
    EXPECT_EQ(order, (std::vector<sched_entity*>{&c, &b, &a}));
    cfs.tasks_timeline.clear();
}

namespace {
std::vector<int> fired;
hrtimer_restart fire(hrtimer* t) {
    fired.push_back(static_cast<int>(reinterpret_cast<intptr_t>(t->data)));
    return HRTIMER_NORESTART;
}
}  // namespace

TEST(Hrtimer, ExpireInTimeOrderThenStartOrder) {
    Kernel k;
    kernel_context ctx(&k);
    hrtimer t[3];
    for (int i = 0; i < 3; i++) {
        hrtimer_init(&t[i], fire, "test");
        t[i].data = reinterpret_cast<void*>(static_cast<intptr_t>(i));
    }
    u64 now = k.cpu_rq(0)->clock;
    hrtimer_start(&t[0], now + 500, 0);
    hrtimer_start(&t[1], now + 100, 0);
    hrtimer_start(&t[2], now + 100, 0);
    EXPECT_TRUE(hrtimer_cancel(&t[0]));
    EXPECT_FALSE(hrtimer_cancel(&t[0]));
    k.cpu_rq(0)->clock = now + 1000;
    fired.clear();
    hrtimer_interrupt(0);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}
