// The simulator's C++ user programs ("built-in binaries"): explicit state machines whose whole
// state is the object, so fork copies it, as fork copies a process's memory.
#pragma once
#include "glasskernel/kernel.h"

namespace gk {

// x86_64 numbers of the calls built-in programs make.
enum : long { NR_rt_sigaction = 13, NR_rt_sigreturn = 15, NR_kill = 62, NR_read = 0, NR_write = 1, NR_rt_sigprocmask = 14, NR_sched_yield = 24, NR_nanosleep = 35, NR_getpid = 39, NR_setsid = 112,
              NR_clone = 56, NR_fork = 57, NR_vfork = 58, NR_execve = 59, NR_exit = 60, NR_wait4 = 61,
              NR_rt_sigtimedwait = 128, NR_exit_group = 231, NR_waitid = 247 };

class builtin_program : public mm_struct {
public:
    // Signal handlers of built-ins are plain C++ calls that make no system calls: when the
    // kernel has set up a new frame, run handle_signal() and return through rt_sigreturn.
    user_step run_user(task_struct* t, long ret, const user_out& out, syscall_regs* regs) override {
        size_t frames = t->thread.sigframes.size();
        if (in_handler && frames < depth) {
            depth--;  // rt_sigreturn popped our frame; `ret` is the interrupted call's result
            in_handler = depth > 0;
        }
        if (frames > depth) {
            depth = frames;
            in_handler = true;
            handle_signal(t->thread.sigframes.back().sig);
            return sys(regs, NR_rt_sigreturn);
        }
        if (compute_pending) {
            compute_pending = false;
            ret = 0;
        }
        user_step st = step(ret, out, regs);
        compute_pending = st.why == user_exit::COMPUTE;
        return st;
    }
    virtual void handle_signal(int sig) { (void)sig; }
    // Called with the previous syscall's result; sets up the next request.
    virtual user_step step(long ret, const user_out& out, syscall_regs* regs) = 0;
    const char* kind() const override { return "builtin"; }

protected:
    size_t depth = 0;  // signal frames this program has entered
    bool in_handler = false;
    bool compute_pending = false;
    static user_step sys(syscall_regs* r, long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0) {
        r->nr = nr;
        r->args[0] = a0;
        r->args[1] = a1;
        r->args[2] = a2;
        r->args[3] = a3;
        r->args[4] = a4;
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

void register_builtin_programs(Kernel* k);

}  // namespace gk
