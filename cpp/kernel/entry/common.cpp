// Models kernel/entry/common.c and arch/x86/kernel/process.c's ret_from_fork: the loop every task
// runs on its kernel stack. Return to user mode (where need_resched and pending signals are
// handled first), take a system call or an interrupt, and go round again until the task exits.
#include "glasskernel/linux.h"

namespace gk {

static bool is_restart(long ax) {
    return ax == -ERESTARTSYS || ax == -ERESTARTNOINTR || ax == -ERESTARTNOHAND || ax == -ERESTART_RESTARTBLOCK;
}

// Push the frame the handler will return through, and leave the mask the handler runs with.
static void setup_rt_frame(ksignal* ksig, const sigset_t* oldset, long ax, bool restart) {
    trace_scope ts("setup_rt_frame", "sig=%d", ksig->sig);
    task_struct* t = current;
    rt_sigframe f;
    f.id = t->thread.next_frame_id++;
    f.sig = ksig->sig;
    f.info = ksig->info;
    f.handler = ksig->ka.sa_handler;
    f.flags = ksig->ka.sa_flags;
    f.uc_sigmask = *oldset;
    f.ax = ax;
    f.restart = restart;
    f.in_syscall = t->thread.in_syscall;
    f.compute_left = t->thread.compute_left;
    f.regs = t->thread.regs;
    // get_sigframe: below the interrupted stack's red zone, room for the FPU state and the
    // frame, aligned so that ((sp + 8) & 15) == 0 when the handler starts.
    unsigned long sp = t->thread.pt.sp - 128;
    sp = (sp - FPSTATE_SIZE) & ~63UL;
    sp -= RT_SIGFRAME_SIZE;
    f.sp = ((sp + 8) & ~15UL) - 8;
    t->thread.sigframes.push_back(std::move(f));
    t->thread.compute_left = 0;
    t->thread.in_syscall = false;
    t->thread.ax = 0;
}

static void handle_signal(ksignal* ksig) {
    trace_scope ts("handle_signal", "sig=%d", ksig->sig);
    task_struct* t = current;
    long ax = t->thread.ax;
    bool restart = false;
    // Was the interrupted syscall to be restarted? (arch_do_signal_or_restart's switch)
    if (t->thread.in_syscall) {
        switch (-ax) {
        case ERESTART_RESTARTBLOCK:
        case ERESTARTNOHAND:
            ax = -EINTR;
            break;
        case ERESTARTSYS:
            if (!(ksig->ka.sa_flags & SA_RESTART)) {
                ax = -EINTR;
                break;
            }
            restart = true;
            break;
        case ERESTARTNOINTR:
            restart = true;
            break;
        default:
            break;
        }
    }
    // sigsuspend() ran with a temporary mask: the handler's frame restores the original one.
    setup_rt_frame(ksig, sigmask_to_save(), ax, restart);
    signal_setup_done(0, ksig, 0);
}

void exit_to_user_mode_prepare() {
    task_struct* t = current;
    for (;;) {
        unsigned flags = t->thread_info.flags;
        if (!(flags & (TIF_NEED_RESCHED | TIF_SIGPENDING))) break;
        if (flags & TIF_NEED_RESCHED) preempt_schedule_irq();
        if (t->thread_info.flags & TIF_SIGPENDING) {
            trace_scope ts("arch_do_signal_or_restart");
            ksignal ksig;
            if (get_signal(&ksig)) handle_signal(&ksig);
            if (t->flags & PF_EXITING) return;
            recalc_sigpending_tsk(t);
            if (t->thread_info.flags & TIF_SIGPENDING && !(t->thread_info.flags & TIF_NEED_RESCHED)) break;
        }
    }
}

// The timer interrupt of the local APIC: run this CPU's expired hrtimers in hardirq context.
void sysvec_apic_timer_interrupt() {
    Kernel* k = this_kernel;
    pt_regs frame;
    pt_regs* old = irqentry_enter(LOCAL_TIMER_VECTOR, &frame);
    {
        trace_scope ts("sysvec_apic_timer_interrupt");
        hrtimer_interrupt(k->this_cpu);
    }
    irqentry_exit(old);
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
    k->irqs_off[k->this_cpu] = true;
    return old;
}

// irqentry_exit: interrupts back on, irq_exit (which runs pending softirqs), and the previous
// interrupt's registers (if this one nested) become current again.
void irqentry_exit(pt_regs* old_irq_regs) {
    Kernel* k = this_kernel;
    k->irqs_off[k->this_cpu] = false;
    irq_exit();
    this_cpu_write(k->__irq_regs, old_irq_regs);
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
        exit_to_user_mode_prepare();
        if (t->flags & PF_EXITING) return;
        if (t->thread_info.flags & TIF_RESTORE_SIGMASK) {
            // No handler ran: sigsuspend's temporary mask goes away, which may unblock a
            // pending signal: deliver it first.
            restore_saved_sigmask();
            if (signal_pending(t)) continue;
        }
        long ax = t->thread.ax;
        if (is_restart(ax) && t->thread.in_syscall && !signal_pending(t)) {
            // No handler ran: the interrupted call is simply made again (restart_syscall for
            // a restart block, which continues with what was left).
            if (ax == -ERESTART_RESTARTBLOCK && t->restart_block.fn) {
                k->charge(k->costs.syscall);
                trace_scope ts("__x64_sys_restart_syscall");
                t->thread.ax = ts.ret(t->restart_block.fn(&t->restart_block));
            } else {
                t->thread.ax = do_syscall_64(t->thread.regs);
            }
            continue;
        }
        if (is_restart(ax)) t->thread.ax = -EINTR;
        k->switch_to_host(host_act::RET_USER);
        switch (t->thread.entry) {
        case kentry::SYSCALL:
            t->thread.in_syscall = true;
            t->thread.ax = do_syscall_64(t->thread.regs);
            break;
        case kentry::IRQ:
            t->thread.in_syscall = false;
            if (k->next_event(k->this_cpu) <= k->now()) handle_pending_interrupts(true);
            else t->thread.pt.orig_ax = ~static_cast<unsigned long>(RESCHEDULE_VECTOR);
            break;  // a reschedule IPI needs no handler: exit_to_user_mode does the work
        case kentry::CRASH:
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
