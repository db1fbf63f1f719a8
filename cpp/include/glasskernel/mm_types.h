// Models include/linux/mm_types.h in spirit: struct mm_struct stands for the user side of a process.
// The simulator has no page tables; a process's "memory" is its user program's state (a Python
// coroutine or a C++ state machine), and the registers a syscall uses travel in syscall_regs.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/types.h"

namespace gk {

struct task_struct;

// What user mode hands the kernel on `syscall`: the number in rax, arguments in rdi, rsi, ...
// Strings and string vectors stand for the user buffers a pointer argument would name.
struct syscall_regs {
    long nr = -1;
    long args[6] = {0, 0, 0, 0, 0, 0};
    std::string data;                 // a buffer or a path
    std::string data2;                // a second buffer: a socket address (struct sockaddr_in)
    std::vector<std::string> argv;    // execve's argv
    std::vector<std::string> envp;    // execve's envp
};

// What the kernel copy_to_user()s besides the return value (status words, rusage, siginfo, bytes).
struct user_out {
    long v[20] = {};
    std::string data;
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

// The user image. Each process owns one; fork makes a copy (copy_mm), exec replaces it
// (exec_mmap), exit drops it (exit_mm). Methods run on the host stack, never on a kernel fiber.
class mm_struct {
public:
    virtual ~mm_struct() = default;
    // Run user mode from where the program stopped until it enters the kernel again.
    // `ret` is rax on return to user mode; `out` what the syscall copied to user memory.
    virtual user_step run_user(task_struct* t, long ret, const user_out& out, syscall_regs* regs) = 0;
    // fork(): the child's copy of this image, resumed at the syscall in `regs` returning 0.
    virtual std::unique_ptr<mm_struct> dup_mm(const syscall_regs& fork_regs) = 0;
    virtual const char* kind() const = 0;
    std::string exe_file;
    std::string crash_report;  // the traceback or reason kept when the program crashed
};

}  // namespace gk
