// Models arch/x86/entry/entry_64.S (v6.1): entry_SYSCALL_64, where the syscall instruction
// enters the kernel.
#include "glasskernel/linux.h"

namespace gk {

// The syscall instruction has switched to kernel mode; save user mode's registers in the task's
// pt_regs at the top of its kernel stack (PUSH_AND_CLEAR_REGS): the number arrives in rax and is
// kept in orig_ax, ax starts as -ENOSYS and ends as the return value, the arguments are in rdi,
// rsi, rdx, r10, r8, r9. Then do_syscall_64, and back to user mode with ax (sysretq). The model's
// exit work (signals, rescheduling) runs in the task's entry loop before the next return to user
// mode, where Linux runs it at the end of do_syscall_64.
long entry_SYSCALL_64(const syscall_regs& regs) {
    trace_scope ts("entry_SYSCALL_64", "nr=%ld", regs.nr);
    pt_regs* pt = &current->thread.pt;
    pt->orig_ax = static_cast<unsigned long>(regs.nr);
    pt->ax = static_cast<unsigned long>(-ENOSYS);
    pt->di = regs.di;
    pt->si = regs.si;
    pt->dx = regs.dx;
    pt->r10 = regs.r10;
    pt->r8 = regs.r8;
    pt->r9 = regs.r9;
    pt->sp = regs.sp;
    pt->cs = __USER_CS;
    pt->ss = __USER_DS;
    pt->flags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
    do_syscall_64(pt, regs.nr);
    return ts.ret(static_cast<long>(pt->ax));
}

}  // namespace gk
