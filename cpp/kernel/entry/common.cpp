// Models kernel/entry/common.c and arch/x86/kernel/process.c's ret_from_fork: the loop every task
// runs on its kernel stack. Return to user mode (where need_resched and pending signals are
// handled first), take a system call or an interrupt, and go round again until the task exits.
#include "glasskernel/linux.h"

namespace gk {

bool sig_kernel_coredump(int sig) {
    switch (sig) {
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return true;
    default:
        return false;
    }
}

static bool sig_kernel_stop(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

// Delivery of signals whose action is the default or ignore. (Handlers run in user mode through
// setup_rt_frame; they arrive with the signals work.) Returns after do_group_exit for a fatal one.
static void get_signal() {
    trace_scope ts("get_signal");
    task_struct* t = current;
    for (;;) {
        kernel_siginfo info;
        int sig = dequeue_signal(t, &t->blocked, &info);
        if (!sig) break;
        k_sigaction* ka = &t->sighand->action[sig - 1];
        trace_point("signal_deliver", "sig=%d errno=%d code=%d sa_handler=%lx sa_flags=%lx", sig, info.si_errno, info.si_code,
                    ka->sa_handler, ka->sa_flags);
        if (ka->sa_handler == SIG_IGN) continue;
        if (sig_kernel_ignore(sig)) continue;
        if ((t->signal->flags & SIGNAL_UNKILLABLE) && !sig_kernel_only(sig)) continue;
        if (sig_kernel_stop(sig)) continue;  // job control stops arrive with the signals work
        // Everything else is fatal. No core is written (RLIMIT_CORE is 0), so no 0x80 bit.
        t->flags |= PF_SIGNALED;
        do_group_exit(sig);
        return;
    }
}

void exit_to_user_mode_prepare() {
    task_struct* t = current;
    for (;;) {
        unsigned flags = t->thread_info.flags;
        if (!(flags & (TIF_NEED_RESCHED | TIF_SIGPENDING))) break;
        if (flags & TIF_NEED_RESCHED) preempt_schedule_irq();
        if (t->thread_info.flags & TIF_SIGPENDING) {
            get_signal();
            if (t->flags & PF_EXITING) return;
            recalc_sigpending_tsk(t);
            if (t->thread_info.flags & TIF_SIGPENDING && !(t->thread_info.flags & TIF_NEED_RESCHED)) break;
        }
    }
}

// The timer interrupt of the local APIC: run this CPU's expired hrtimers in hardirq context.
void sysvec_apic_timer_interrupt() {
    Kernel* k = this_kernel;
    task_struct* t = current;
    k->charge(k->costs.irq);
    t->thread_info.preempt_count += 0x10000;  // HARDIRQ_OFFSET: in_hardirq() is true
    {
        trace_scope ts("sysvec_apic_timer_interrupt");
        hrtimer_interrupt(k->this_cpu);
    }
    t->thread_info.preempt_count -= 0x10000;
}

static void force_sig(int sig) {
    trace_scope ts("force_sig", "sig=%d", sig);
    task_struct* t = current;
    // A forced signal cannot stay blocked or ignored: the fault must kill the task.
    k_sigaction* ka = &t->sighand->action[sig - 1];
    if (ka->sa_handler == SIG_IGN || sigismember(&t->blocked, sig)) {
        ka->sa_handler = SIG_DFL;
        sigdelset(&t->blocked, sig);
    }
    t->signal->flags &= ~SIGNAL_UNKILLABLE;
    kernel_siginfo info;
    info.si_code = SI_KERNEL;
    send_signal_locked(sig, &info, t, PIDTYPE_PID);
    recalc_sigpending_tsk(t);
}

static bool is_restart(long ax) {
    return ax == -ERESTARTSYS || ax == -ERESTARTNOINTR || ax == -ERESTARTNOHAND || ax == -ERESTART_RESTARTBLOCK;
}

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
        long ax = t->thread.ax;
        if (is_restart(ax) && !signal_pending(t)) {
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
            t->thread.uout.data.clear();
            t->thread.ax = do_syscall_64(t->thread.regs);
            break;
        case kentry::IRQ:
            if (k->hrtimer_bases[k->this_cpu].next_expiry() <= k->now()) sysvec_apic_timer_interrupt();
            break;  // a reschedule IPI needs no handler: exit_to_user_mode does the work
        case kentry::CRASH:
            force_sig(SIGSEGV);
            break;
        case kentry::KILL:
            force_sig(SIGKILL);
            break;
        case kentry::NONE:
            break;
        }
        t->thread.entry = kentry::NONE;
        if (t->flags & PF_EXITING) return;
    }
}

}  // namespace gk
