// The simulator's user mode. A process's user-mode code is a program the host runs (a Python
// coroutine, or a C++ state machine for the built-in binaries); it stops when it makes a system
// call, leaving the number and arguments in registers as the `syscall` instruction does.
#pragma once
#include <memory>
#include <string>

#include "glasskernel/types.h"

namespace gk {

struct task_struct;

// rax and the six argument registers at the `syscall` instruction. The stack pointer goes with
// them: the kernel builds signal frames below it.
struct syscall_regs {
    long nr = -1;  // rax
    unsigned long di = 0, si = 0, dx = 0, r10 = 0, r8 = 0, r9 = 0;
    unsigned long sp = 0;
    // The x86_64 calling convention's order of argument registers.
    void set_args(const unsigned long (&a)[6]) { di = a[0], si = a[1], dx = a[2], r10 = a[3], r8 = a[4], r9 = a[5]; }
};

enum class user_exit : u8 {
    SYSCALL,   // the program made a system call (regs is filled)
    COMPUTE,   // the program burns CPU in user mode for `ns`
    CRASH,     // the program faulted (an uncaught exception): the kernel kills it with SIGSEGV
    KILLED,    // the kernel must kill it with SIGKILL (fork replay diverged, say)
};

struct user_step {
    user_exit why = user_exit::SYSCALL;
    u64 ns = 0;
};

// What exec loaded into a process and runs in user mode. Each task has one; fork makes the
// child's copy, exec replaces it, exit drops it. Its methods run on the host stack, except
// dup_image, which copy_process calls on a kernel stack and must not run Python.
class user_image {
public:
    virtual ~user_image() = default;
    // Run user mode from where the program stopped until it enters the kernel again. The last
    // system call's result is t->thread.ax; its out-arguments are in t's user memory.
    virtual user_step run_user(task_struct* t, syscall_regs* regs) = 0;
    // fork(): the child's copy, which resumes at the same system call, returning 0.
    virtual std::unique_ptr<user_image> dup_image() = 0;
    virtual const char* kind() const = 0;
    std::string crash_report;  // the traceback or reason kept when the program crashed
};

}  // namespace gk
