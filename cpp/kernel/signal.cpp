// Models kernel/signal.c, the parts the process code needs: generation (send_signal,
// __send_signal, complete_signal, signal_wake_up) with the ignore check done at generation,
// dequeue_signal, sigprocmask, sigtimedwait, do_notify_parent, and default-action delivery.
#include "glasskernel/linux.h"

namespace gk {

static bool has_pending_signals(const sigset_t* signal, const sigset_t* blocked) {
    return signal->sig & ~blocked->sig;
}

void recalc_sigpending_tsk(task_struct* t) {
    if (has_pending_signals(&t->pending.signal, &t->blocked) ||
        has_pending_signals(&t->signal->shared_pending.signal, &t->blocked) ||
        (t->signal->flags & SIGNAL_GROUP_EXIT))
        t->thread_info.flags |= TIF_SIGPENDING;
    else
        t->thread_info.flags &= ~TIF_SIGPENDING;
}

bool signal_pending(task_struct* t) { return t->thread_info.flags & TIF_SIGPENDING; }

bool fatal_signal_pending(task_struct* t) {
    return signal_pending(t) && (sigismember(&t->pending.signal, SIGKILL) || sigismember(&t->signal->shared_pending.signal, SIGKILL));
}

// A sleeping task must notice the signal: set TIF_SIGPENDING and wake an interruptible sleep
// (a fatal signal also wakes TASK_KILLABLE sleeps).
void signal_wake_up(task_struct* t, bool fatal) {
    trace_scope ts("signal_wake_up", "pid=%d", t->pid);
    t->thread_info.flags |= TIF_SIGPENDING;
    unsigned state = TASK_INTERRUPTIBLE | (fatal ? static_cast<unsigned>(TASK_WAKEKILL) : 0u);
    if (t->__state & state) wake_up_state(t, state);
}

static long handler_of(task_struct* t, int sig) { return t->sighand->action[sig - 1].sa_handler; }

// Blocked signals are never ignored at generation: they must be pending when unblocked.
static bool sig_ignored(task_struct* t, int sig, bool force) {
    if (sigismember(&t->blocked, sig) || sigismember(&t->real_blocked, sig)) return false;
    long handler = handler_of(t, sig);
    // init (SIGNAL_UNKILLABLE) only gets the signals it installed handlers for.
    if ((t->signal->flags & SIGNAL_UNKILLABLE) && handler == SIG_DFL && !(force && sig_kernel_only(sig))) return true;
    return handler == SIG_IGN || (handler == SIG_DFL && sig_kernel_ignore(sig));
}

static bool legacy_queue(sigpending* signals, int sig) { return sig < SIGRTMIN && sigismember(&signals->signal, sig); }

enum { TRACE_SIGNAL_DELIVERED, TRACE_SIGNAL_IGNORED, TRACE_SIGNAL_ALREADY_PENDING, TRACE_SIGNAL_OVERFLOW_FAIL, TRACE_SIGNAL_LOSE_INFO };

static void complete_signal(int sig, task_struct* p, pid_type type) {
    trace_scope ts("complete_signal", "sig=%d pid=%d", sig, p->pid);
    (void)type;
    // Only one thread per group here: it takes the signal unless it blocks it.
    if (sigismember(&p->blocked, sig)) return;
    signal_wake_up(p, sig == SIGKILL);
}

static int __send_signal(int sig, kernel_siginfo* info, task_struct* t, pid_type type, bool force) {
    trace_scope ts("__send_signal", "sig=%d pid=%d", sig, t->pid);
    int result = TRACE_SIGNAL_IGNORED;
    sigpending* pending = nullptr;
    if (!sig_ignored(t, sig, force)) {
        pending = type != PIDTYPE_PID ? &t->signal->shared_pending : &t->pending;
        result = TRACE_SIGNAL_ALREADY_PENDING;
        if (!legacy_queue(pending, sig)) {
            sigqueue q;
            if (info) q.info = *info;
            q.info.si_signo = sig;
            pending->list.push_back(q);
            sigaddset(&pending->signal, sig);
            result = TRACE_SIGNAL_DELIVERED;
        }
    }
    trace_point("signal_generate", "sig=%d errno=%d code=%d comm=%s pid=%d grp=%d res=%d", sig, info ? info->si_errno : 0,
                info ? info->si_code : SI_USER, t->comm.c_str(), t->pid, type != PIDTYPE_PID, result);
    if (result == TRACE_SIGNAL_DELIVERED) complete_signal(sig, t, type);
    return ts.ret(0);
}

int send_signal_locked(int sig, kernel_siginfo* info, task_struct* t, pid_type type) {
    trace_scope ts("send_signal", "sig=%d pid=%d", sig, t->pid);
    if (t->exit_state) return ts.ret(0);  // a zombie takes no signals
    return ts.ret(__send_signal(sig, info, t, type, info && info->si_code == SI_KERNEL));
}

static int next_signal(sigpending* pending, const sigset_t* mask) {
    u64 x = pending->signal.sig & ~mask->sig;
    if (!x) return 0;
    return __builtin_ctzll(x) + 1;  // the lowest-numbered signal first
}

static int __dequeue_signal(sigpending* pending, const sigset_t* mask, kernel_siginfo* info) {
    int sig = next_signal(pending, mask);
    if (!sig) return 0;
    bool found = false, more = false;
    for (auto it = pending->list.begin(); it != pending->list.end();) {
        if (it->info.si_signo != sig) { ++it; continue; }
        if (found) { more = true; break; }
        *info = it->info;
        it = pending->list.erase(it);
        found = true;
    }
    if (!more) sigdelset(&pending->signal, sig);
    if (!found) *info = kernel_siginfo{sig, 0, SI_USER, 0, 0, 0, 0, 0, 0};
    return sig;
}

// Private signals are taken before shared ones.
int dequeue_signal(task_struct* tsk, const sigset_t* mask, kernel_siginfo* info) {
    trace_scope ts("dequeue_signal");
    int sig = __dequeue_signal(&tsk->pending, mask, info);
    if (!sig) sig = __dequeue_signal(&tsk->signal->shared_pending, mask, info);
    recalc_sigpending_tsk(tsk);
    return ts.ret(sig);
}

// exec: handlers go back to SIG_DFL; ignored signals stay ignored.
void flush_signal_handlers(task_struct* t, bool force_default) {
    for (auto& ka : t->sighand->action) {
        if (force_default || ka.sa_handler != SIG_IGN) ka.sa_handler = SIG_DFL;
        ka.sa_flags = 0;
        sigemptyset(&ka.sa_mask);
    }
}

long sys_rt_sigprocmask(int how, const sigset_t* set, sigset_t* oset) {
    task_struct* t = current;
    if (oset) *oset = t->blocked;
    if (!set) return 0;
    sigset_t newset = *set;
    // SIGKILL and SIGSTOP can never be blocked; they are silently left out.
    sigdelset(&newset, SIGKILL);
    sigdelset(&newset, SIGSTOP);
    switch (how) {
    case SIG_BLOCK: t->blocked.sig |= newset.sig; break;
    case SIG_UNBLOCK: t->blocked.sig &= ~newset.sig; break;
    case SIG_SETMASK: t->blocked = newset; break;
    default: return -EINVAL;
    }
    recalc_sigpending_tsk(t);
    return 0;
}

void __wake_up_parent(task_struct* p, task_struct* parent) {
    __wake_up(&parent->signal->wait_chldexit, TASK_INTERRUPTIBLE, 1, p);
}

// Tells the parent a child died: SIGCHLD (or the child's exit_signal) and a wake-up on its
// wait_chldexit. Returns true when the child should be reaped at once (the parent ignores
// SIGCHLD or set SA_NOCLDWAIT), in which case wait() will report ECHILD.
int do_notify_parent(task_struct* tsk, int sig) {
    trace_scope ts("do_notify_parent", "pid=%d sig=%d", tsk->pid, sig);
    kernel_siginfo info;
    info.si_signo = sig;
    info.si_pid = tsk->pid;
    info.si_uid = tsk->real_cred->uid;
    info.si_utime = tsk->utime + tsk->signal->cutime;
    info.si_stime = tsk->stime + tsk->signal->cstime;
    int status = tsk->exit_code;
    if ((status & 0x7f) == 0) {
        info.si_code = CLD_EXITED;
        info.si_status = status >> 8;
    } else {
        info.si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
        info.si_status = status & 0x7f;
    }
    task_struct* parent = tsk->parent;
    sighand_struct* psig = parent->sighand.get();
    bool autoreap = false;
    if (sig == SIGCHLD && (psig->action[SIGCHLD - 1].sa_handler == SIG_IGN || (psig->action[SIGCHLD - 1].sa_flags & SA_NOCLDWAIT))) {
        autoreap = true;
        if (psig->action[SIGCHLD - 1].sa_handler == SIG_IGN) sig = 0;
    }
    if (valid_signal(sig) && sig) __send_signal(sig, &info, parent, PIDTYPE_TGID, false);
    __wake_up_parent(tsk, parent);
    return ts.ret(autoreap);
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

long schedule_hrtimeout(u64 expires_abs, unsigned state);

// args: how, new mask, whether a new mask is given. Out: the old mask.
SYSCALL_DEFINE(rt_sigprocmask) {
    sigset_t set{static_cast<u64>(regs.args[1])}, old;
    int how = static_cast<int>(regs.args[0]);
    if (regs.args[2] && how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) return -EINVAL;
    long r = sys_rt_sigprocmask(how, regs.args[2] ? &set : nullptr, &old);
    current->thread.uout.v[0] = static_cast<long>(old.sig);
    return r;
}

SYSCALL_DEFINE(rt_sigpending) {
    task_struct* t = current;
    u64 pending = (t->pending.signal.sig | t->signal->shared_pending.signal.sig) & t->blocked.sig;
    t->thread.uout.v[0] = static_cast<long>(pending);
    return 0;
}

// args: the set to wait for, a time-out in ns (-1: none). Out: the siginfo.
SYSCALL_DEFINE(rt_sigtimedwait) {
    task_struct* tsk = current;
    sigset_t mask{static_cast<u64>(regs.args[0])};
    sigdelset(&mask, SIGKILL);
    sigdelset(&mask, SIGSTOP);
    long timeout = regs.args[1];
    if (timeout < -1) return -EINVAL;
    sigset_t notmask{~mask.sig};
    kernel_siginfo info;
    long ret = -EAGAIN;
    int sig = dequeue_signal(tsk, &notmask, &info);
    if (!sig && timeout != 0) {
        // Unblock the awaited signals for the sleep, so that their arrival wakes us.
        tsk->real_blocked = tsk->blocked;
        tsk->blocked.sig &= ~mask.sig;
        recalc_sigpending_tsk(tsk);
        u64 expires = timeout < 0 ? KTIME_MAX : this_kernel->now() + static_cast<u64>(timeout);
        long woke = -EINTR;
        if (!signal_pending(tsk)) woke = schedule_hrtimeout(expires, TASK_INTERRUPTIBLE);
        tsk->blocked = tsk->real_blocked;
        sigemptyset(&tsk->real_blocked);
        recalc_sigpending_tsk(tsk);
        sig = dequeue_signal(tsk, &notmask, &info);
        ret = woke ? -EINTR : -EAGAIN;
    }
    if (sig) {
        user_out& out = tsk->thread.uout;
        out.v[0] = info.si_signo;
        out.v[1] = info.si_code;
        out.v[2] = info.si_pid;
        out.v[3] = info.si_uid;
        out.v[4] = info.si_status;
        out.v[5] = info.si_value;
        return sig;
    }
    return ret;
}

}  // namespace gk
