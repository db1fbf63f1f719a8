// The simulator's C++ user programs ("built-in binaries"): explicit state machines whose whole
// state is the object, so fork copies it, as fork copies a process's memory.
#pragma once
#include "glasskernel/kernel.h"

namespace gk {

class builtin_program : public mm_struct {
public:
    user_step run_user(task_struct* t, long ret, const user_out& out, syscall_regs* regs) override {
        (void)t;
        return step(ret, out, regs);
    }
    // Called with the previous syscall's result; sets up the next request.
    virtual user_step step(long ret, const user_out& out, syscall_regs* regs) = 0;
    const char* kind() const override { return "builtin"; }

protected:
    static user_step sys(syscall_regs* r, long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0) {
        r->nr = nr;
        r->args[0] = a0;
        r->args[1] = a1;
        r->args[2] = a2;
        r->args[3] = a3;
        return user_step{user_exit::SYSCALL, 0};
    }
    static user_step compute(u64 ns) { return user_step{user_exit::COMPUTE, ns}; }
};

// CRTP helper: fork's copy of a program is a copy of its object.
template <typename T>
class builtin : public builtin_program {
public:
    std::unique_ptr<mm_struct> dup_mm(const syscall_regs&) override {
        return std::make_unique<T>(static_cast<const T&>(*this));
    }
};

// x86_64 numbers of the calls built-in programs make.
enum : long { NR_read = 0, NR_write = 1, NR_rt_sigprocmask = 14, NR_sched_yield = 24, NR_nanosleep = 35, NR_getpid = 39, NR_setsid = 112,
              NR_clone = 56, NR_fork = 57, NR_vfork = 58, NR_execve = 59, NR_exit = 60, NR_wait4 = 61,
              NR_rt_sigtimedwait = 128, NR_exit_group = 231, NR_waitid = 247 };

void register_builtin_programs(Kernel* k);

}  // namespace gk
