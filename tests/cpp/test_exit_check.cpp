// The self-check (cpp/engine/check.cpp) over kernel/exit.c's states: every function-entry stop of
// fork/exit/wait passes it, and a zombie in a state no exit path makes still fails it.
#include <gtest/gtest.h>

#include "glasskernel/builtin.h"
#include "glasskernel/linux.h"

using namespace gk;

// fork(); the child exits 7; the parent waits for it and exits 3.
class fork_exit_wait : public builtin<fork_exit_wait> {
    int pc = 0;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        switch (pc++) {
        case 0: return sys(t, r, __NR_fork);
        case 1:
            if (ret == 0) return sys(t, r, __NR_exit_group, 7);
            return sys(t, r, __NR_wait4, static_cast<unsigned long>(ret), 0, 0, 0);
        }
        return sys(t, r, __NR_exit_group, 3);
    }
};

// fork(); the child exits 3; the parent never waits (pause() forever).
class lazy_parent : public builtin<lazy_parent> {
    int pc = 0;
public:
    user_step step(task_struct* t, long ret, syscall_regs* r) override {
        switch (pc++) {
        case 0: return sys(t, r, __NR_fork);
        case 1:
            if (ret == 0) return sys(t, r, __NR_exit_group, 3);
            return sys(t, r, __NR_pause);
        }
        return sys(t, r, __NR_pause);
    }
};

TEST(ExitCheck, EveryFunctionStopOfForkExitWaitPasses) {
    Kernel k;
    k.register_program(program{"/bin/few", "builtin", [](const auto&, const auto&) { return std::make_unique<fork_exit_wait>(); }});
    long err;
    auto t = k.spawn("/bin/few", {}, {}, &err);
    ASSERT_TRUE(t);
    int stops = 0;
    for (;;) {
        k.step = step_mode::FUNCTION;
        k.update_stop_armed();
        run_result res = k.run(KTIME_MAX, nullptr);
        if (!res.stopped) break;
        ASSERT_EQ(k.check(), "") << "at " << k.stop.ev.name;
        ASSERT_LT(++stops, 100000);
    }
    EXPECT_GT(stops, 50);
    EXPECT_TRUE(t->reaped);
    EXPECT_EQ(t->exit_code, 3 << 8);
    EXPECT_EQ(k.check(), "");
}

TEST(ExitCheck, ZombieOutsideItsExitPathStillFails) {
    Kernel k;
    k.register_program(program{"/bin/lazy", "builtin", [](const auto&, const auto&) { return std::make_unique<lazy_parent>(); }});
    long err;
    auto parent = k.spawn("/bin/lazy", {}, {}, &err);
    ASSERT_TRUE(parent);
    EXPECT_TRUE(k.run(KTIME_MAX, nullptr).quiescent);
    ASSERT_EQ(parent->children.size(), 1u);
    task_struct* z = &parent->children.front();
    ASSERT_EQ(z->exit_state, EXIT_ZOMBIE);  // init reaps only its own children
    EXPECT_EQ(k.check(), "");

    // Not stopped anywhere: no exit path is running, so a zombie may be neither running nor
    // queued. Each corruption is undone before the next.
    z->__state = TASK_RUNNING;
    EXPECT_NE(k.check().find("is not TASK_DEAD"), std::string::npos) << k.check();
    z->__state = TASK_DEAD;
    z->on_rq = 1;
    EXPECT_NE(k.check().find("is on a run queue"), std::string::npos) << k.check();
    z->on_rq = 0;
    z->exit_state = EXIT_DEAD;
    EXPECT_NE(k.check().find("EXIT_DEAD but still hashed"), std::string::npos) << k.check();
    z->exit_state = EXIT_ZOMBIE;
    EXPECT_EQ(k.check(), "");
}
