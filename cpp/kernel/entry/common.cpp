// Models kernel/entry/common.c and arch/x86/kernel/process.c's ret_from_fork (v6.1): the loop every
// task runs on its kernel stack. Return to user mode (where need_resched and pending signals are
// handled first), take a system call or an interrupt, and go round again until the task exits.
#include "glasskernel/asm/unistd_64.h"
#include "glasskernel/linux.h"

namespace gk {

// include/linux/entry-common.h: the thread flags that send exit_to_user_mode_loop round.
constexpr unsigned EXIT_TO_USER_MODE_WORK = TIF_SIGPENDING | TIF_NEED_RESCHED;

static bool is_restart(long ax) {
    return ax == -ERESTARTSYS || ax == -ERESTARTNOINTR || ax == -ERESTARTNOHAND || ax == -ERESTART_RESTARTBLOCK;
}

// The work to do before user mode may run: reschedule, and deliver pending signals (default
// actions, or a handler's frame). The flags are read again after each round, since the work
// itself may bring more (a wake-up while we slept in schedule(), a signal unblocked).
static void exit_to_user_mode_loop(pt_regs* regs, unsigned ti_work) {
    task_struct* t = current;
    while (ti_work & EXIT_TO_USER_MODE_WORK) {
        if (ti_work & TIF_NEED_RESCHED) preempt_schedule_irq();
        if (t->thread_info.flags & TIF_SIGPENDING) {
            arch_do_signal_or_restart(regs);
            if (t->flags & PF_EXITING) return;
            recalc_sigpending_tsk(t);
            // The model returns to user mode after each handler frame it sets up, so that the
            // handler starts at once; another pending signal is delivered on the next return
            // (Linux loops and stacks the frames). Only a reschedule keeps the loop going.
            if ((t->thread_info.flags & TIF_SIGPENDING) && !(t->thread_info.flags & TIF_NEED_RESCHED)) break;
        }
        ti_work = t->thread_info.flags;
    }
}

// A user program faulted (its Python code raised and nothing caught it): log it as x86's
// show_signal_msg logs an unhandled segfault ("comm[pid]: segfault at ..."), with the traceback
// in place of the faulting address, then SIGSEGV kills it. The traceback is cut to a bound so a
// runaway program cannot flood the log.
static void show_signal_msg(task_struct* t) {
    static constexpr int MAX_LINES = 40;
    static constexpr size_t CRASH_LOG = 64;
    Kernel* k = this_kernel;
    const std::string& report = t->crash_report;
    printk("%s[%d]: uncaught exception in user mode, killed by SIGSEGV", t->comm.c_str(), t->pid);
    size_t start = 0;
    int lines = 0, total = 0;
    for (size_t i = 0; i <= report.size(); i++) {
        if (i < report.size() && report[i] != '\n') continue;
        if (i > start) {
            if (lines < MAX_LINES) {
                printk("  %s", report.substr(start, i - start).c_str());
                lines++;
            }
            total++;
        }
        start = i + 1;
    }
    if (total > lines) printk("  ... %d more lines (the task's traceback view has them all)", total - lines);
    if (k->crash_log.size() >= CRASH_LOG) k->crash_log.pop_front();
    k->crash_log.push_back({++k->crash_seq, ktime_get(), t->pid, t->comm, report});
}

static void exit_to_user_mode_prepare(pt_regs* regs) {
    unsigned ti_work = current->thread_info.flags;
    if (ti_work & EXIT_TO_USER_MODE_WORK) exit_to_user_mode_loop(regs, ti_work);
}

// What every interrupt does first (irqentry_enter, irq_enter_rcu): note where the registers of
// the interrupted context are, for get_irq_regs(): the task's own pt_regs at the top of its
// kernel stack if user mode was interrupted, otherwise a frame pushed on the kernel stack. Then
// hardirq context begins, with interrupts off.
pt_regs* irqentry_enter(int vector, pt_regs* kernel_frame) {
    Kernel* k = this_kernel;
    task_struct* t = current;
    k->charge(k->costs.irq);
    pt_regs* regs = kernel_frame;
    if (t->thread.irq_from_user) {
        t->thread.irq_from_user = false;
        regs = &t->thread.pt;
    } else {
        regs->cs = __KERNEL_CS;
        regs->ss = __KERNEL_DS;
        regs->flags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
    }
    regs->orig_ax = ~static_cast<unsigned long>(vector);
    pt_regs* old = this_cpu_read(k->__irq_regs);
    this_cpu_write(k->__irq_regs, regs);
    t->thread_info.preempt_count += HARDIRQ_OFFSET;  // in_hardirq() is true
    raw_local_irq_disable();  // the CPU cleared IF as it took the interrupt
    return old;
}

// irqentry_exit: the previous interrupt's registers (if this one nested) become current again,
// interrupts back on, and irq_exit_rcu runs pending softirqs. (Linux's idtentry calls
// irq_exit_rcu itself just before irqentry_exit; the model keeps the two together.)
void irqentry_exit(pt_regs* old_irq_regs) {
    Kernel* k = this_kernel;
    // The handler's own set_irq_regs(old_regs) comes first (x86's sysvec bodies end with it):
    // the softirqs irq_exit_rcu runs are no longer inside the interrupt.
    this_cpu_write(k->__irq_regs, old_irq_regs);
    raw_local_irq_enable();  // as the iret will: irq_exit runs softirqs with interrupts on
    irq_exit_rcu();
}

pt_regs* get_irq_regs() { return this_cpu_read(this_kernel->__irq_regs); }

// The body of every task's kernel stack, from ret_from_fork to do_task_dead.
void ret_from_fork_body() {
    Kernel* k = this_kernel;
    task_struct* t = current;
    finish_task_switch(nullptr);  // schedule_tail
    if (t->thread.kthread_fn) {
        // A kernel thread runs its function; a user-mode thread (spawn) execs and falls
        // through to user mode when its function returns 0.
        int ret = t->thread.kthread_fn(t->thread.kthread_data);
        if (t->flags & PF_EXITING) return;
        if ((t->flags & PF_KTHREAD) || ret != 0 || !t->mm) {
            do_exit(ret);
            return;
        }
    }
    for (;;) {
        exit_to_user_mode_prepare(&t->thread.pt);
        if (t->flags & PF_EXITING) return;
        // The no-handler half of Linux's arch_do_signal_or_restart, done here (see there).
        if (t->thread_info.flags & TIF_RESTORE_SIGMASK) {
            // No handler ran: sigsuspend's temporary mask goes away, which may unblock a
            // pending signal: deliver it first.
            restore_saved_sigmask();
            if (signal_pending(t)) continue;
        }
        long ax = t->thread.ax;
        if (is_restart(ax) && t->thread.in_syscall && !signal_pending(t)) {
            // No handler ran: the interrupted call is made again (restart_syscall for a
            // restart block, which continues with what was left). Linux moves ip back over the
            // syscall instruction and user mode executes it again; the program here is still
            // waiting for its call's result, so the call re-enters through entry_SYSCALL_64
            // without going back to it.
            if (ax == -ERESTART_RESTARTBLOCK && t->restart_block.fn) {
                syscall_regs restart = t->thread.regs;
                restart.nr = __NR_restart_syscall;
                t->thread.ax = entry_SYSCALL_64(restart);
            } else {
                t->thread.ax = entry_SYSCALL_64(t->thread.regs);
            }
            continue;
        }
        if (is_restart(ax)) t->thread.ax = -EINTR;
        k->switch_to_host(host_act::RET_USER);
        switch (t->thread.entry) {
        case kentry::SYSCALL:
            t->thread.in_syscall = true;
            t->thread.ax = entry_SYSCALL_64(t->thread.regs);
            break;
        case kentry::IRQ:
            t->thread.in_syscall = false;
            if (k->next_event(smp_processor_id()) <= ktime_get()) handle_pending_interrupts(true);
            else t->thread.pt.orig_ax = ~static_cast<unsigned long>(RESCHEDULE_VECTOR);
            break;  // a reschedule IPI needs no handler: exit_to_user_mode does the work
        case kentry::CRASH:
            show_signal_msg(t);
            force_fatal_sig(SIGSEGV);
            break;
        case kentry::KILL:
            force_fatal_sig(SIGKILL);
            break;
        case kentry::NONE:
            break;
        }
        t->thread.entry = kentry::NONE;
        if (t->flags & PF_EXITING) return;
    }
}

}  // namespace gk
