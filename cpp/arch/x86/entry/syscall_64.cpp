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

long do_syscall_64(const syscall_regs& regs) {
    Kernel* k = this_kernel;
    k->charge(k->costs.syscall);
    long nr = regs.nr;
    if (nr < 0 || nr >= NR_syscalls || !sys_call_table.fn[nr]) return -ENOSYS;
    return sys_call_table.fn[nr](regs);
}

}  // namespace gk
