// The simulator's C++ user programs ("built-in binaries"): explicit state machines whose whole
// state is the object, so fork copies it, as fork copies a process's memory. What they pass the
// kernel by address (a status word, a signal set, a socket address) lives in their own user
// memory, on their stack, as a C program's locals do.
#pragma once
#include <cstring>

#include "glasskernel/asm/unistd_64.h"
#include "engine/user_image.h"
#include "glasskernel/kernel.h"
#include "glasskernel/linux.h"

namespace gk {

class builtin_program : public user_image {
public:
    // Signal handlers of built-ins are plain C++ calls that make no system calls: when the
    // kernel has set up a new frame, run handle_signal() and return through rt_sigreturn.
    user_step run_user(task_struct* t, syscall_regs* regs) override {
        long ret = t->thread.ax;
        size_t frames = t->thread.sigframes.size();
        if (in_handler && frames < depth) {
            depth--;  // rt_sigreturn popped our frame; `ret` is the interrupted call's result
            in_handler = depth > 0;
        }
        if (frames > depth) {
            depth = frames;
            in_handler = true;
            handle_signal(t->thread.sigframes.back().sig);
            user_step st = sys(t, regs, __NR_rt_sigreturn);
            regs->sp = t->thread.sigframes.back().sp;  // as the restorer is reached: sp at the frame
            return st;
        }
        if (compute_pending) {
            compute_pending = false;
            ret = 0;
        }
        user_step st = step(t, ret, regs);
        compute_pending = st.why == user_exit::COMPUTE;
        return st;
    }
    virtual void handle_signal(int sig) { (void)sig; }
    // Called with the previous syscall's result; sets up the next request.
    virtual user_step step(task_struct* t, long ret, syscall_regs* regs) = 0;
    const char* kind() const override { return "builtin"; }

protected:
    size_t depth = 0;  // signal frames this program has entered
    bool in_handler = false;
    bool compute_pending = false;

    // The address of local variable `slot` (256 bytes each, 200 of them) at the top of the
    // stack; the stack pointer sits below them all, so signal frames never overlap them.
    static constexpr unsigned LOCAL_SLOT = 256, LOCAL_SLOTS = 200;
    static unsigned long local(task_struct* t, unsigned slot) { return t->mm->start_stack - LOCAL_SLOT * (slot + 1); }
    // User-mode stores and loads of the program's own memory.
    template <typename T>
    static void store(task_struct* t, unsigned long addr, const T& v) {
        access_user_memory(t->mm.get(), addr, const_cast<T*>(&v), sizeof(T), true);
    }
    template <typename T>
    static T load(task_struct* t, unsigned long addr) {
        T v{};
        access_user_memory(t->mm.get(), addr, &v, sizeof(T), false);
        return v;
    }
    static user_step sys(task_struct* t, syscall_regs* r, long nr, unsigned long a0 = 0, unsigned long a1 = 0, unsigned long a2 = 0,
                         unsigned long a3 = 0, unsigned long a4 = 0, unsigned long a5 = 0) {
        r->nr = nr;
        r->set_args({a0, a1, a2, a3, a4, a5});
        r->sp = t->mm ? t->mm->start_stack - LOCAL_SLOT * (LOCAL_SLOTS + 1) : 0;  // below the locals
        return user_step{user_exit::SYSCALL, 0};
    }
    static user_step compute(u64 ns) { return user_step{user_exit::COMPUTE, ns}; }
};

// CRTP helper: fork's copy of a program is a copy of its object.
template <typename T>
class builtin : public builtin_program {
public:
    std::unique_ptr<user_image> dup_image() override { return std::make_unique<T>(static_cast<const T&>(*this)); }
};

void register_builtin_programs(Kernel* k);

}  // namespace gk
