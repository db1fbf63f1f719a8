// Models arch/x86/entry/syscall_64.c and common.c: sys_call_table and do_syscall_64.
#include <array>

#include "glasskernel/syscalls.h"

namespace gk {

using sys_call_ptr_t = long (*)(const syscall_regs&);
constexpr int NR_syscalls = 335;

struct syscall_table {
    std::array<sys_call_ptr_t, NR_syscalls> fn{};
    std::array<const char*, NR_syscalls> name{};
    syscall_table() {
#define FILL(nr, sym) fn[nr] = __x64_sys_##sym; name[nr] = #sym;
        SYSCALLS(FILL)
#undef FILL
    }
};
static const syscall_table sys_call_table;

const char* syscall_name(long nr) {
    if (nr < 0 || nr >= NR_syscalls || !sys_call_table.name[nr]) return nullptr;
    return sys_call_table.name[nr];
}

// entry_SYSCALL_64 saves user mode's registers in the task's pt_regs: the number arrives in rax
// and is kept in orig_ax (ax starts as -ENOSYS and ends as the return value), the arguments in
// rdi, rsi, rdx, r10, r8, r9. The model has no user addresses, so ip and sp stay 0.
static pt_regs* save_user_regs(const syscall_regs& regs) {
    pt_regs* pt = &current->thread.pt;
    pt->orig_ax = static_cast<unsigned long>(regs.nr);
    pt->ax = static_cast<unsigned long>(-ENOSYS);
    pt->di = static_cast<unsigned long>(regs.args[0]);
    pt->si = static_cast<unsigned long>(regs.args[1]);
    pt->dx = static_cast<unsigned long>(regs.args[2]);
    pt->r10 = static_cast<unsigned long>(regs.args[3]);
    pt->r8 = static_cast<unsigned long>(regs.args[4]);
    pt->r9 = static_cast<unsigned long>(regs.args[5]);
    pt->cs = __USER_CS;
    pt->ss = __USER_DS;
    pt->flags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
    return pt;
}

long do_syscall_64(const syscall_regs& regs) {
    Kernel* k = this_kernel;
    k->charge(k->costs.syscall);
    pt_regs* pt = save_user_regs(regs);
    long nr = regs.nr;
    long ret = -ENOSYS;
    if (nr >= 0 && nr < NR_syscalls && sys_call_table.fn[nr]) ret = sys_call_table.fn[nr](regs);
    pt->ax = static_cast<unsigned long>(ret);
    return ret;
}

}  // namespace gk
