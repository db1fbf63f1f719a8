// Models arch/x86/entry/syscall_64.c and common.c (v6.1): sys_call_table, built from
// syscall_64.tbl, and do_syscall_64, which entry_SYSCALL_64 calls with the registers saved in
// pt_regs.
#include <array>
#include <cstdio>

#include "glasskernel/asm/unistd_64.h"
#include "glasskernel/syscalls.h"

namespace gk {

// Every entry point the table names, declared weak: one that no SYSCALL_DEFINE provides stays
// null and becomes sys_ni_syscall, as Linux's cond_syscall does for calls configured out.
#define __SYSCALL(nr, name, entry)                                                                 \
    extern long __x64_##entry(const struct pt_regs*) __attribute__((weak, visibility("hidden")));  \
    extern const syscall_metadata __syscall_meta_##entry __attribute__((weak, visibility("hidden")));
#include "glasskernel/asm/syscalls_64.h"
#undef __SYSCALL

long sys_ni_syscall() { return -ENOSYS; }
long __x64_sys_ni_syscall(const struct pt_regs*) { return sys_ni_syscall(); }

struct sys_call_table_t {
    std::array<syscall_table_entry, __NR_syscalls> e{};
    sys_call_table_t() {
        for (long nr = 0; nr < __NR_syscalls; nr++) e[nr] = {nr, nullptr, "sys_ni_syscall", __x64_sys_ni_syscall, nullptr};
#define __SYSCALL(nr, name, entry)                                  \
    if (&__x64_##entry != nullptr)                                  \
        e[nr] = {nr, #name, #entry, __x64_##entry, &__syscall_meta_##entry}; \
    else                                                            \
        e[nr] = {nr, #name, #entry, __x64_sys_ni_syscall, nullptr};
#include "glasskernel/asm/syscalls_64.h"
#undef __SYSCALL
    }
};
static const sys_call_table_t sys_call_table;

long syscall_table_size() { return __NR_syscalls; }

const syscall_table_entry* syscall_entry(long nr) {
    if (nr < 0 || nr >= __NR_syscalls) return nullptr;
    return &sys_call_table.e[static_cast<size_t>(nr)];
}

std::string syscall_trace_args(const void* m, const void* r) {
    auto* meta = static_cast<const syscall_metadata*>(m);
    auto* regs = static_cast<const pt_regs*>(r);
    const unsigned long vals[6] = {regs->di, regs->si, regs->dx, regs->r10, regs->r8, regs->r9};
    std::string out;
    char buf[64];
    for (int i = 0; i < meta->nb_args; i++) {
        const uapi_type* t = meta->utypes[i];
        if (t->kind == uapi_kind::POINTER)
            snprintf(buf, sizeof buf, "%#lx", vals[i]);
        else if (t->is_signed)
            snprintf(buf, sizeof buf, "%ld", t->size == 8 ? static_cast<long>(vals[i]) : static_cast<long>(static_cast<int>(vals[i])));
        else
            snprintf(buf, sizeof buf, "%#lx", t->size == 8 ? vals[i] : static_cast<unsigned long>(static_cast<unsigned>(vals[i])));
        if (i) out += ' ';
        out += meta->args[i];
        out += '=';
        out += buf;
    }
    return out;
}

// Called by entry_SYSCALL_64 with the registers it saved: run the table's entry point, whose
// return value goes back to user mode in ax. The number is unsigned here, as in
// do_syscall_x64: a negative one is simply out of range.
void do_syscall_64(pt_regs* regs, long nr) {
    Kernel* k = this_kernel;
    k->charge(k->costs.syscall);
    unsigned long unr = static_cast<unsigned long>(nr);
    long ret = unr < static_cast<unsigned long>(__NR_syscalls) ? sys_call_table.e[unr].fn(regs) : sys_ni_syscall();
    regs->ax = static_cast<unsigned long>(ret);
}

const char* syscall_name(long nr) {
    const syscall_table_entry* e = syscall_entry(nr);
    return e ? e->name : nullptr;
}

}  // namespace gk
