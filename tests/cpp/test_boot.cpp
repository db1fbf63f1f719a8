// Boot and the process lifecycle through the C++ API: init and kthreadd exist, a spawned
// /bin/true is reaped by init, and a forking C++ program sees fork return twice.
#include <gtest/gtest.h>

#include "glasskernel/builtin.h"
#include "glasskernel/linux.h"

using namespace gk;

TEST(Boot, InitAndKthreaddExist) {
    Kernel k;
    EXPECT_EQ(k.check(), "");
    task_struct* init = find_task_by_vpid_in(&k, 1);
    ASSERT_NE(init, nullptr);
    EXPECT_EQ(init->comm, "init");
    EXPECT_STREQ(task_state_to_char(init), "S");
    task_struct* kthreadd = find_task_by_vpid_in(&k, 2);
    ASSERT_NE(kthreadd, nullptr);
    EXPECT_EQ(kthreadd->comm, "kthreadd");
    EXPECT_TRUE(kthreadd->flags & PF_KTHREAD);
    task_struct* ksoftirqd = find_task_by_vpid_in(&k, 3);
    ASSERT_NE(ksoftirqd, nullptr);
    EXPECT_EQ(ksoftirqd->comm, "ksoftirqd/0");
    EXPECT_EQ(ksoftirqd->real_parent, kthreadd);
}

TEST(Boot, SpawnTrueIsReapedByInit) {
    Kernel k;
    long err;
    auto t = k.spawn("/bin/false", {}, {}, &err);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->real_parent, k.child_reaper);
    k.run(KTIME_MAX, nullptr);
    EXPECT_TRUE(t->reaped);
    EXPECT_EQ(t->exit_code, 1 << 8);
    EXPECT_EQ(k.check(), "");
}

TEST(Boot, SpawnMissingProgramIsENOENT) {
    Kernel k;
    long err;
    auto t = k.spawn("/bin/nope", {}, {}, &err);
    EXPECT_FALSE(t);
    EXPECT_EQ(err, -ENOENT);
}

// fork(); the child exits 7, the parent waits (the status lands in its own memory) and exits
// with the child's status byte.
class fork_wait : public builtin<fork_wait> {
    int pc = 0;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        unsigned long status = local(t, 0);
        switch (pc++) {
        case 0: return sys(t, r, __NR_fork);
        case 1:
            if (ret == 0) return sys(t, r, __NR_exit_group, 7);
            return sys(t, r, __NR_wait4, static_cast<unsigned long>(ret), status, 0, 0);
        case 2: return sys(t, r, __NR_exit_group, static_cast<unsigned long>((load<int>(t, status) >> 8) & 0xff));
        }
        return sys(t, r, __NR_exit_group, 99);
    }
};

TEST(Fork, ReturnsTwiceAndWaitGetsStatus) {
    Kernel k;
    k.register_program(program{"/bin/fw", "builtin", [](const auto&, const auto&) { return std::make_unique<fork_wait>(); }});
    long err;
    auto t = k.spawn("/bin/fw", {}, {}, &err);
    ASSERT_TRUE(t);
    k.run(KTIME_MAX, nullptr);
    EXPECT_TRUE(t->reaped);
    EXPECT_EQ(t->exit_code, 7 << 8);
    EXPECT_EQ(k.check(), "");
}

// sigaction(SIGUSR1, handler), kill(getpid(), SIGUSR1) three times: each handler returns through
// rt_sigreturn with its stack pointer at the frame setup_rt_frame built.
class signal_thrice : public builtin<signal_thrice> {
    int pc = 0;
    long me = 0;
public:
    int handled = 0;
    void handle_signal(int sig) override { handled += sig == SIGUSR1; }
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        switch (pc++) {
        case 0: return sys(t, r, __NR_getpid);
        case 1: {
            me = ret;
            gk::sigaction act{0x401000 /* the handler's address */, 0, 0, 0};
            store(t, local(t, 0), act);
            return sys(t, r, __NR_rt_sigaction, SIGUSR1, local(t, 0), 0, sizeof(gk::sigset_t));
        }
        case 2: case 3: case 4: return sys(t, r, __NR_kill, static_cast<unsigned long>(me), SIGUSR1);
        }
        return sys(t, r, __NR_exit_group, static_cast<unsigned long>(handled));
    }
};

TEST(Signal, BuiltinHandlerReturnsThroughItsFrame) {
    Kernel k;
    k.register_program(program{"/bin/sig3", "builtin", [](const auto&, const auto&) { return std::make_unique<signal_thrice>(); }});
    long err;
    auto t = k.spawn("/bin/sig3", {}, {}, &err);
    ASSERT_TRUE(t);
    k.run(KTIME_MAX, nullptr);
    EXPECT_TRUE(t->reaped);
    EXPECT_EQ(t->exit_code, 3 << 8);  // three handlers ran, and no bad frame killed it
    EXPECT_EQ(k.check(), "");
}
