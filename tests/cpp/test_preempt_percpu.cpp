// Per-CPU variables and kernel preemption through the C++ API: DEFINE_PER_CPU gives each CPU
// its own copy; under PREEMPT_FULL a kernel thread busy in mdelay() is preempted by a wake-up
// at the interrupt's exit, under PREEMPT_NONE it runs its loop to the end.
#include <gtest/gtest.h>

#include "glasskernel/linux.h"

using namespace gk;

TEST(PerCpu, EachCpuHasItsOwnCopy) {
    kernel_config c;
    c.cpus = 3;
    Kernel k(c);
    kernel_context ctx(&k);
    for (int cpu = 0; cpu < 3; cpu++) EXPECT_EQ(per_cpu(k.runqueues, cpu).cpu, cpu);
    EXPECT_NE(per_cpu_ptr(k.softirq_pending, 0), per_cpu_ptr(k.softirq_pending, 1));
    k.this_cpu = 2;
    this_cpu_write(k.softirq_pending, 1u << NET_RX_SOFTIRQ);
    EXPECT_EQ(per_cpu(k.softirq_pending, 2), 1u << NET_RX_SOFTIRQ);
    EXPECT_EQ(per_cpu(k.softirq_pending, 0), 0u);
    long v = 0;
    bool found = false;
    for (percpu_var_base* p : k.percpu_vars)
        if (std::string(p->name) == "softirq_pending") found = p->as_long(2, &v);
    EXPECT_TRUE(found);
    EXPECT_EQ(v, 1L << NET_RX_SOFTIRQ);
    per_cpu(k.softirq_pending, 2) = 0u;
}

namespace {

struct race {
    u64 hog_start = 0, hog_end = 0, woke = 0;
};

int hog(void* p) {
    auto* r = static_cast<race*>(p);
    r->hog_start = this_kernel->now();
    for (int i = 0; i < 10; i++) mdelay(1);
    r->hog_end = this_kernel->now();
    return 0;
}

int sleeper(void* p) {
    auto* r = static_cast<race*>(p);
    msleep(2);
    r->woke = this_kernel->now();
    return 0;
}

race run_race(preempt_model m) {
    kernel_config c;
    c.preempt = m;
    c.trace = false;
    Kernel k(c);
    race r;
    {
        kernel_context ctx(&k);
        kthread_create_from_host(&k, sleeper, &r, "sleeper");
    }
    k.run(k.now() + 100000, nullptr);
    {
        kernel_context ctx(&k);
        kthread_create_from_host(&k, hog, &r, "hog");
    }
    k.run(KTIME_MAX, nullptr);
    EXPECT_EQ(k.check(), "");
    return r;
}

}  // namespace

TEST(Preempt, FullPreemptsABusyKernelLoopNoneDoesNot) {
    race none = run_race(PREEMPT_NONE);
    EXPECT_GE(none.woke, none.hog_end);  // waited for the whole loop
    race full = run_race(PREEMPT_FULL);
    EXPECT_LT(full.woke, full.hog_end);  // ran in the middle of it
    EXPECT_GT(full.woke, full.hog_start);
}
