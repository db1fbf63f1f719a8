// Models arch/x86/kernel/signal.c (v6.1): arch_do_signal_or_restart, handle_signal,
// setup_rt_frame with get_sigframe, rt_sigreturn and signal_fault.
#include "glasskernel/linux.h"
#include "glasskernel/syscalls.h"

namespace gk {

// The x86_64 ABI: a function starts with ((sp + 8) & 15) == 0, as if just called.
constexpr unsigned long FRAME_ALIGNMENT = 16;

// Round down to the alignment, then 8 below it, where a call would have pushed the return
// address (here: the frame's pretcode, sa_restorer).
static unsigned long align_sigframe(unsigned long sp) { return (sp & ~(FRAME_ALIGNMENT - 1)) - 8; }

// Where the frame goes on the user stack: below the interrupted code's red zone (128 bytes the
// ABI lets leaf functions use under sp), under room for the FPU state (64-byte aligned, as
// fpu__alloc_mathframe keeps it), aligned for the handler's entry. The model has no sigaltstack,
// so SA_ONSTACK changes nothing.
static unsigned long get_sigframe(const k_sigaction* ka, const pt_regs* regs, unsigned long frame_size,
                                  unsigned long* fpstate) {
    (void)ka;
    unsigned long sp = regs->sp;
    sp -= 128;
    sp = (sp - FPSTATE_SIZE) & ~63UL;
    *fpstate = sp;
    return align_sigframe(sp - frame_size);
}

// Push the frame the handler will return through: the mask to restore (sigmask_to_save) and
// the interrupted context. Linux writes it to the user stack as struct rt_sigframe (pretcode,
// ucontext, siginfo); the model keeps its contents with the task, at the address get_sigframe
// chose (the handler's stack starts below it; fork copies it as it copies the stack). An
// interrupted system call that must be made again after the handler is `restart` here where
// Linux sets regs->ax = orig_ax and moves ip back over the syscall instruction.
static int setup_rt_frame(ksignal* ksig, pt_regs* regs, long ax, bool restart) {
    trace_scope ts("setup_rt_frame", "sig=%d", ksig->sig);
    task_struct* t = current;
    unsigned long fpstate;
    rt_sigframe f;
    f.sp = get_sigframe(&ksig->ka, regs, RT_SIGFRAME_SIZE, &fpstate);
    f.id = t->thread.next_frame_id++;
    f.sig = ksig->sig;
    f.info = ksig->info;
    f.handler = ksig->ka.sa_handler;
    f.flags = ksig->ka.sa_flags;
    f.uc_sigmask = *sigmask_to_save();
    f.ax = ax;
    f.restart = restart;
    f.in_syscall = t->thread.in_syscall;
    f.compute_left = t->thread.compute_left;
    f.regs = t->thread.regs;
    t->thread.sigframes.push_back(std::move(f));
    // The handler starts afresh: no user-mode work pending, not inside a system call.
    t->thread.compute_left = 0;
    t->thread.in_syscall = false;
    t->thread.ax = 0;
    return ts.ret(0);
}

// Decide what becomes of an interrupted system call, build the frame, and block what the
// handler must run with blocked.
static void handle_signal(ksignal* ksig, pt_regs* regs) {
    trace_scope ts("handle_signal", "sig=%d", ksig->sig);
    task_struct* t = current;
    long ax = t->thread.ax;
    bool restart = false;
    // Are we from a system call? If so, check system call restarting: -ERESTARTSYS is made
    // again only under SA_RESTART, -ERESTARTNOINTR always; the others become EINTR.
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
    bool failed = setup_rt_frame(ksig, regs, ax, restart) < 0;
    signal_setup_done(failed, ksig, 0);
}

// On the way back to user mode with TIF_SIGPENDING: deliver a signal to its handler if one has
// a handler (get_signal carries out default actions on the way). When none has, Linux also
// arranges here for an interrupted system call to be made again and puts sigsuspend's saved
// mask back; the model's task entry loop (ret_from_fork_body) does both once the exit work is
// done, because making the call again is its job there (the program cannot rerun its syscall
// instruction).
void arch_do_signal_or_restart(pt_regs* regs) {
    trace_scope ts("arch_do_signal_or_restart");
    ksignal ksig;
    if (get_signal(&ksig)) handle_signal(&ksig, regs);
}

// A frame that cannot be what setup_rt_frame built: say so in the log and send SIGSEGV, which
// the task may catch (force_sig leaves a handler it has installed and not blocked).
static void signal_fault(const pt_regs* regs, unsigned long frame, const char* where) {
    task_struct* me = current;
    printk("%s[%d] bad frame in %s frame:%#lx ip:%lx sp:%lx orax:%lx", me->comm.c_str(), me->pid, where, frame, regs->ip,
           regs->sp, regs->orig_ax);
    force_sig(SIGSEGV);
}

// The handler returned (through sa_restorer, libc's __restore_rt): restore the mask and the
// interrupted context from its frame, and return what the interrupted code is to see in ax.
// The frame is found through the stack pointer. Linux reads it at regs->sp - 8 (the handler's
// ret popped pretcode on the way to the restorer); the model's user-mode drivers return with sp
// at the frame itself. A call whose sp is not at the innermost frame (a program making
// rt_sigreturn on its own, in a handler or outside any) finds no frame there: a bad frame.
SYSCALL_DEFINE0(rt_sigreturn) {
    task_struct* t = current;
    pt_regs* regs = &t->thread.pt;  // current_pt_regs()
    unsigned long frame = regs->sp;
    if (t->thread.sigframes.empty() || t->thread.sigframes.back().sp != frame) {
        signal_fault(regs, frame, "rt_sigreturn");
        return 0;
    }
    rt_sigframe f = std::move(t->thread.sigframes.back());
    t->thread.sigframes.pop_back();
    sigset_t set = f.uc_sigmask;
    set_current_blocked(&set);
    // restore_sigcontext: the interrupted context is back, and a restart block left over from
    // before the handler must not be continued (do_no_restart_syscall).
    t->thread.compute_left = f.compute_left;
    t->thread.in_syscall = f.in_syscall;
    t->restart_block.fn = nullptr;
    if (f.restart) {
        t->thread.regs = f.regs;
        return -ERESTARTNOINTR;  // the entry loop makes the interrupted call again
    }
    return f.ax;
}

}  // namespace gk
