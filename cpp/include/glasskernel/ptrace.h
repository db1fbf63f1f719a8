// Models arch/x86/include/asm/ptrace.h (v6.1): struct pt_regs, the registers entry code saves on
// the kernel stack. A system call's number and arguments travel in it; an interrupt stores the
// complement of its vector in orig_ax; cs says whether user or kernel mode was interrupted.
#pragma once
#include "glasskernel/types.h"

namespace gk {

struct pt_regs {
    unsigned long r15 = 0, r14 = 0, r13 = 0, r12 = 0, bp = 0, bx = 0;
    unsigned long r11 = 0, r10 = 0, r9 = 0, r8 = 0, ax = 0, cx = 0, dx = 0, si = 0, di = 0;
    unsigned long orig_ax = 0;  // syscall number, or ~vector for an interrupt
    unsigned long ip = 0, cs = 0, flags = 0, sp = 0, ss = 0;
};

// Segment selectors (arch/x86/include/asm/segment.h) and the interrupt-enable flag.
constexpr unsigned long __KERNEL_CS = 0x10, __KERNEL_DS = 0x18, __USER_DS = 0x2b, __USER_CS = 0x33;
constexpr unsigned long X86_EFLAGS_FIXED = 0x2, X86_EFLAGS_IF = 0x200;

// Vectors (arch/x86/include/asm/irq_vectors.h): legacy lines sit at ISA_IRQ_VECTOR(irq).
constexpr int FIRST_EXTERNAL_VECTOR = 0x20, LOCAL_TIMER_VECTOR = 0xec, RESCHEDULE_VECTOR = 0xfd;
constexpr int ISA_IRQ_VECTOR(int irq) { return ((FIRST_EXTERNAL_VECTOR + 16) & ~15) + irq; }

inline bool user_mode(const pt_regs* regs) { return (regs->cs & 3) == 3; }

}  // namespace gk
