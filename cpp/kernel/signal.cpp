// Models kernel/signal.c (v6.1): generation (send_signal_locked, __send_signal_locked,
// complete_signal, signal_wake_up_state) with the ignore check done at generation,
// dequeue_signal, sigprocmask, sigtimedwait, do_notify_parent, and default-action delivery.
#include "glasskernel/linux.h"

namespace gk {

static bool has_pending_signals(const sigset_t* signal, const sigset_t* blocked) {
    return signal->sig & ~blocked->sig;
}

// Returns whether TIF_SIGPENDING is set. Unlike Linux's, this one also clears the flag when
// nothing is deliverable (Linux leaves that to recalc_sigpending() on current).
bool recalc_sigpending_tsk(task_struct* t) {
    if (has_pending_signals(&t->pending.signal, &t->blocked) ||
        has_pending_signals(&t->signal->shared_pending.signal, &t->blocked) ||
        (t->signal->flags & SIGNAL_GROUP_EXIT)) {
        t->thread_info.flags |= TIF_SIGPENDING;
        return true;
    }
    t->thread_info.flags &= ~TIF_SIGPENDING;
    return false;
}

// Another task's mask changed: if a signal became deliverable, it must notice.
static void recalc_sigpending_and_wake(task_struct* t) {
    if (recalc_sigpending_tsk(t)) signal_wake_up(t, false);
}

bool signal_pending(task_struct* t) { return t->thread_info.flags & TIF_SIGPENDING; }

bool fatal_signal_pending(task_struct* t) {
    return signal_pending(t) && (sigismember(&t->pending.signal, SIGKILL) || sigismember(&t->signal->shared_pending.signal, SIGKILL));
}

// A sleeping task must notice the signal: set TIF_SIGPENDING and wake an interruptible sleep
// (and one in `state` too: TASK_WAKEKILL for a fatal signal). Linux leaves the state test to
// wake_up_state(); the model makes it first, so that a target that is not asleep shows no
// try_to_wake_up in the trace.
void signal_wake_up_state(task_struct* t, unsigned state) {
    trace_scope ts("signal_wake_up_state", "pid=%d", t->pid);
    t->thread_info.flags |= TIF_SIGPENDING;
    state |= TASK_INTERRUPTIBLE;
    if (t->__state & state) wake_up_state(t, state);
}

static long sig_handler(task_struct* t, int sig) { return t->sighand->action[sig - 1].sa_handler; }

// Blocked signals are never ignored at generation: they must be pending when unblocked.
static bool sig_ignored(task_struct* t, int sig, bool force) {
    if (sigismember(&t->blocked, sig) || sigismember(&t->real_blocked, sig)) return false;
    long handler = sig_handler(t, sig);
    // Nothing can kill or stop the global init, not even the kernel.
    if (t == t->kernel->child_reaper && sig_kernel_only(sig)) return true;
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

static void uncharge(sigqueue* q) {
    if (q->counted) this_kernel->user_sigpending[q->user]--;
    q->counted = false;
}

void flush_sigqueue(sigpending* queue) {
    for (auto& q : queue->list) uncharge(&q);
    queue->list.clear();
    sigemptyset(&queue->signal);
}

// Kernel threads ignore every signal (kthreadd calls this; its children inherit it).
void ignore_signals(task_struct* t) {
    for (auto& ka : t->sighand->action) ka.sa_handler = SIG_IGN;
    flush_sigqueue(&t->pending);
}

static void flush_sigqueue_mask(u64 mask, sigpending* q) {
    if (!(q->signal.sig & mask)) return;
    for (auto it = q->list.begin(); it != q->list.end();) {
        if (sigmask(it->info.si_signo) & mask) {
            uncharge(&*it);
            it = q->list.erase(it);
        } else {
            ++it;
        }
    }
    q->signal.sig &= ~mask;
}

// Job control happens at generation, whatever the action: a stop signal discards pending
// SIGCONTs; SIGCONT discards pending stops and resumes a stopped group (even if SIGCONT itself
// is ignored or blocked), noting what the parent must be told.
static bool prepare_signal(int sig, task_struct* p, bool force) {
    signal_struct* signal = p->signal.get();
    if (signal->flags & SIGNAL_GROUP_EXIT) {
        return sig == SIGKILL;
    } else if (sig_kernel_stop(sig)) {
        flush_sigqueue_mask(sigmask(SIGCONT), &signal->shared_pending);
        flush_sigqueue_mask(sigmask(SIGCONT), &p->pending);
    } else if (sig == SIGCONT) {
        flush_sigqueue_mask(SIG_KERNEL_STOP_MASK, &signal->shared_pending);
        flush_sigqueue_mask(SIG_KERNEL_STOP_MASK, &p->pending);
        recalc_sigpending_tsk(p);
        wake_up_state(p, __TASK_STOPPED);
        unsigned why = 0;
        if (signal->flags & SIGNAL_STOP_STOPPED) why = SIGNAL_CLD_CONTINUED;
        if (why) {
            signal->flags = why | SIGNAL_STOP_CONTINUED | (signal->flags & SIGNAL_UNKILLABLE);
            signal->group_exit_code = 0;
        }
    }
    return !sig_ignored(p, sig, force);
}

static int __send_signal_locked(int sig, kernel_siginfo* info, task_struct* t, pid_type type, bool force) {
    trace_scope ts("__send_signal_locked", "sig=%d pid=%d", sig, t->pid);
    int result = TRACE_SIGNAL_IGNORED;
    int ret = 0;
    sigpending* pending = nullptr;
    if (prepare_signal(sig, t, force)) {
        pending = type != PIDTYPE_PID ? &t->signal->shared_pending : &t->pending;
        result = TRACE_SIGNAL_ALREADY_PENDING;
        if (!legacy_queue(pending, sig)) {
            // Each queued siginfo is charged to the target's user. Standard signals sent by
            // a user may exceed RLIMIT_SIGPENDING; real-time ones may not: sigqueue() gets
            // EAGAIN, kill() still sets the bit but loses the siginfo.
            Kernel* k = this_kernel;
            uid_t uid = t->real_cred->uid;
            int code = info ? info->si_code : SI_USER;
            bool override_rlimit = sig < SIGRTMIN && code >= 0;
            bool fits = static_cast<u64>(k->user_sigpending[uid]) < task_rlimit(t, RLIMIT_SIGPENDING);
            if (fits || override_rlimit) {
                sigqueue q;
                if (info) q.info = *info;
                q.info.si_signo = sig;
                q.counted = true;
                q.user = uid;
                k->user_sigpending[uid]++;
                pending->list.push_back(q);
                result = TRACE_SIGNAL_DELIVERED;
            } else if (sig >= SIGRTMIN && code != SI_USER) {
                result = TRACE_SIGNAL_OVERFLOW_FAIL;
                ret = -EAGAIN;
            } else {
                result = TRACE_SIGNAL_LOSE_INFO;
            }
            if (ret == 0) sigaddset(&pending->signal, sig);
        }
    }
    trace_point("signal_generate", "sig=%d errno=%d code=%d comm=%s pid=%d grp=%d res=%d", sig, info ? info->si_errno : 0,
                info ? info->si_code : SI_USER, t->comm.c_str(), t->pid, type != PIDTYPE_PID, result);
    if (result == TRACE_SIGNAL_DELIVERED || result == TRACE_SIGNAL_LOSE_INFO) complete_signal(sig, t, type);
    return ts.ret(ret);
}

// The caller holds the target's siglock in Linux (hence the name); here nothing runs
// concurrently with kernel code on the same machine, so there is no lock to hold. A signal from
// the kernel itself (SI_KERNEL) is forced: init's SIGNAL_UNKILLABLE does not filter it out.
int send_signal_locked(int sig, kernel_siginfo* info, task_struct* t, pid_type type) {
    trace_scope ts("send_signal_locked", "sig=%d pid=%d", sig, t->pid);
    if (t->exit_state) return ts.ret(0);  // a zombie takes no signals
    return ts.ret(__send_signal_locked(sig, info, t, type, info && info->si_code == SI_KERNEL));
}

// Faults (synchronous signals) go first: the faulting instruction cannot continue without them.
static constexpr u64 SYNCHRONOUS_MASK = (1ULL << (SIGSEGV - 1)) | (1ULL << (SIGBUS - 1)) | (1ULL << (SIGILL - 1)) |
                                        (1ULL << (SIGTRAP - 1)) | (1ULL << (SIGFPE - 1)) | (1ULL << (SIGSYS - 1));

static int next_signal(sigpending* pending, const sigset_t* mask) {
    u64 x = pending->signal.sig & ~mask->sig;
    if (!x) return 0;
    if (x & SYNCHRONOUS_MASK) x &= SYNCHRONOUS_MASK;
    return __builtin_ctzll(x) + 1;  // then the lowest-numbered signal first
}

static int __dequeue_signal(sigpending* pending, const sigset_t* mask, kernel_siginfo* info) {
    int sig = next_signal(pending, mask);
    if (!sig) return 0;
    bool found = false, more = false;
    for (auto it = pending->list.begin(); it != pending->list.end();) {
        if (it->info.si_signo != sig) { ++it; continue; }
        if (found) { more = true; break; }
        *info = it->info;
        uncharge(&*it);
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

// Which handler force_sig_info_to_task leaves in place: the task's own (a fault it may catch),
// or SIG_DFL whatever the task installed. (v6.1's third kind, HANDLER_EXIT for force_exit_sig,
// has no user in the model.)
enum sig_handler { HANDLER_CURRENT, HANDLER_SIG_DFL };

// A signal the task cannot ignore: if it is blocked or ignored, it is unblocked and its action
// reset to SIG_DFL (never a handler the task had blocked), so that it is delivered or kills.
// SIGNAL_UNKILLABLE goes too, so that not even init survives a recursive fault.
static int force_sig_info_to_task(kernel_siginfo* info, task_struct* t, enum sig_handler handler) {
    int sig = info->si_signo;
    k_sigaction* action = &t->sighand->action[sig - 1];
    bool ignored = action->sa_handler == SIG_IGN;
    bool blocked = sigismember(&t->blocked, sig);
    if (blocked || ignored || handler != HANDLER_CURRENT) {
        action->sa_handler = SIG_DFL;
        if (blocked) {
            sigdelset(&t->blocked, sig);
            recalc_sigpending_and_wake(t);
        }
    }
    if (action->sa_handler == SIG_DFL) t->signal->flags &= ~SIGNAL_UNKILLABLE;
    return send_signal_locked(sig, info, t, PIDTYPE_PID);
}

static int force_sig_info(kernel_siginfo* info) { return force_sig_info_to_task(info, current, HANDLER_CURRENT); }

static kernel_siginfo kernel_info(int sig) {
    kernel_siginfo info;
    info.si_signo = sig;
    info.si_code = SI_KERNEL;
    return info;
}

int send_sig(int sig, task_struct* p, int priv) {
    trace_scope ts("send_sig", "sig=%d pid=%d", sig, p->pid);
    kernel_siginfo info;
    info.si_signo = sig;
    info.si_code = priv ? SI_KERNEL : SI_USER;
    if (!priv && current) {
        info.si_pid = current->tgid;
        info.si_uid = current->real_cred->uid;
    }
    return ts.ret(send_signal_locked(sig, &info, p, PIDTYPE_PID));
}

void force_sig(int sig) {
    trace_scope ts("force_sig", "sig=%d", sig);
    kernel_siginfo info = kernel_info(sig);
    force_sig_info(&info);
}

// The model uses it where a task's user state is gone (a program that crashed, a fork replay
// that diverged): no handler could run, so the signal kills whatever the action.
void force_fatal_sig(int sig) {
    trace_scope ts("force_fatal_sig", "sig=%d", sig);
    kernel_siginfo info = kernel_info(sig);
    force_sig_info_to_task(&info, current, HANDLER_SIG_DFL);
}

// Delivering `sig` failed (no room for its frame): SIGSEGV, which must not be caught if the
// failure was delivering SIGSEGV itself.
void force_sigsegv(int sig) {
    if (sig == SIGSEGV)
        force_fatal_sig(SIGSEGV);
    else
        force_sig(SIGSEGV);
}

// exec: handlers go back to SIG_DFL; ignored signals stay ignored.
void flush_signal_handlers(task_struct* t, bool force_default) {
    for (auto& ka : t->sighand->action) {
        if (force_default || ka.sa_handler != SIG_IGN) ka.sa_handler = SIG_DFL;
        ka.sa_flags = 0;
        sigemptyset(&ka.sa_mask);
    }
}

void __set_current_blocked(const sigset_t* newset) {
    task_struct* t = current;
    t->blocked = *newset;
    recalc_sigpending_tsk(t);
}

// A new mask for the running task; SIGKILL and SIGSTOP can never be in it.
void set_current_blocked(sigset_t* newset) {
    sigdelset(newset, SIGKILL);
    sigdelset(newset, SIGSTOP);
    __set_current_blocked(newset);
}

sigset_t* sigmask_to_save() {
    task_struct* t = current;
    return (t->thread_info.flags & TIF_RESTORE_SIGMASK) ? &t->saved_sigmask : &t->blocked;
}

void restore_saved_sigmask() {
    task_struct* t = current;
    if (!(t->thread_info.flags & TIF_RESTORE_SIGMASK)) return;
    t->thread_info.flags &= ~TIF_RESTORE_SIGMASK;
    __set_current_blocked(&t->saved_sigmask);
}

// sigprocmask(): the kernel's own interface (it could block SIGKILL; the system call removes it
// first).
int sigprocmask(int how, sigset_t* set, sigset_t* oldset) {
    task_struct* t = current;
    if (oldset) *oldset = t->blocked;
    switch (how) {
    case SIG_BLOCK: t->blocked.sig |= set->sig; break;
    case SIG_UNBLOCK: t->blocked.sig &= ~set->sig; break;
    case SIG_SETMASK: t->blocked = *set; break;
    default: return -EINVAL;
    }
    recalc_sigpending_tsk(t);
    return 0;
}

// A child stopped or continued: SIGCHLD to the parent (unless SA_NOCLDSTOP), and a wake-up for
// waitpid(WUNTRACED | WCONTINUED).
void do_notify_parent_cldstop(task_struct* tsk, int why) {
    trace_scope ts("do_notify_parent_cldstop", "pid=%d why=%d", tsk->pid, why);
    task_struct* parent = tsk->real_parent;
    if (!parent) return;
    kernel_siginfo info;
    info.si_signo = SIGCHLD;
    info.si_code = why;
    info.si_pid = tsk->pid;
    info.si_uid = tsk->real_cred->uid;
    info.si_status = why == CLD_CONTINUED ? SIGCONT : (tsk->signal->group_exit_code & 0x7f);
    k_sigaction* ka = &parent->sighand->action[SIGCHLD - 1];
    if (ka->sa_handler != SIG_IGN && !(ka->sa_flags & SA_NOCLDSTOP)) __send_signal_locked(SIGCHLD, &info, parent, PIDTYPE_TGID, false);
    __wake_up_parent(tsk, parent);
}

// Tells the parent a child died: SIGCHLD (or the child's exit_signal) and a wake-up on its
// wait_chldexit. Returns true when the child should be reaped at once (the parent ignores
// SIGCHLD or set SA_NOCLDWAIT), in which case wait() will report ECHILD.
bool do_notify_parent(task_struct* tsk, int sig) {
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
    if (valid_signal(sig) && sig) __send_signal_locked(sig, &info, parent, PIDTYPE_TGID, false);
    __wake_up_parent(tsk, parent);
    return ts.ret(autoreap);
}

// ---- delivery ----

// The group stops (one task per group here): TASK_STOPPED until SIGCONT or SIGKILL.
static void do_signal_stop(int signr) {
    trace_scope ts("do_signal_stop", "sig=%d", signr);
    task_struct* t = current;
    signal_struct* sig = t->signal.get();
    sig->group_exit_code = signr;
    sig->flags = SIGNAL_STOP_STOPPED | (sig->flags & SIGNAL_UNKILLABLE);
    t->exit_code = signr;
    set_current_state(TASK_STOPPED);
    do_notify_parent_cldstop(t, CLD_STOPPED);
    schedule();
}

// Dequeue the next deliverable signal and carry out default actions (ignore, stop, terminate)
// until one has a handler: that one is returned for handle_signal(). Returns false if none, or
// after do_group_exit for a fatal one (Linux's do_group_exit does not return; the model's
// unwinds to the task's entry loop, which ends the task).
bool get_signal(ksignal* ksig) {
    trace_scope ts("get_signal");
    task_struct* t = current;
    for (;;) {
        if (t->signal->flags & SIGNAL_CLD_MASK) {
            // We were continued (or stopped) since the parent last heard: tell it now.
            int why = (t->signal->flags & SIGNAL_CLD_CONTINUED) ? CLD_CONTINUED : CLD_STOPPED;
            t->signal->flags &= ~SIGNAL_CLD_MASK;
            do_notify_parent_cldstop(t, why);
        }
        if (fatal_signal_pending(t) || (t->signal->flags & SIGNAL_GROUP_EXIT)) {
            kernel_siginfo info;
            dequeue_signal(t, &t->blocked, &info);
            t->flags |= PF_SIGNALED;
            do_group_exit(SIGKILL);
            return false;
        }
        kernel_siginfo info;
        int sig = dequeue_signal(t, &t->blocked, &info);
        if (!sig) return false;
        k_sigaction* ka = &t->sighand->action[sig - 1];
        trace_point("signal_deliver", "sig=%d errno=%d code=%d sa_handler=%lx sa_flags=%lx", sig, info.si_errno, info.si_code,
                    ka->sa_handler, ka->sa_flags);
        if (ka->sa_handler == SIG_IGN) continue;
        if (ka->sa_handler != SIG_DFL) {
            ksig->sig = sig;
            ksig->info = info;
            ksig->ka = *ka;
            // SA_RESETHAND (signal()'s SA_ONESHOT): the handler runs once, then SIG_DFL.
            if (ka->sa_flags & SA_RESETHAND) ka->sa_handler = SIG_DFL;
            return true;
        }
        if (sig_kernel_ignore(sig)) continue;
        // init gets only the signals it installed handlers for (and SIGKILL/SIGSTOP from the kernel).
        if ((t->signal->flags & SIGNAL_UNKILLABLE) && !sig_kernel_only(sig)) continue;
        if (sig_kernel_stop(sig)) {
            // Terminal stops do nothing in an orphaned process group; SIGSTOP always works.
            if (sig != SIGSTOP && is_current_pgrp_orphaned()) continue;
            do_signal_stop(sig);
            continue;
        }
        // Everything else is fatal. The "core" signals dump core when RLIMIT_CORE allows one
        // (it is 0 by default), and the status word then carries 0x80 (WCOREDUMP).
        t->flags |= PF_SIGNALED;
        if (sig_kernel_coredump(sig)) do_coredump(&info);
        do_group_exit(sig);
        return false;
    }
}

// The handler's frame is built: block sa_mask and the signal itself (unless SA_NODEFER) while
// it runs. The frame holds the mask to restore, so sigsuspend's TIF_RESTORE_SIGMASK is done.
static void signal_delivered(ksignal* ksig, int stepping) {
    (void)stepping;  // no ptrace single-stepping in the model
    task_struct* t = current;
    t->thread_info.flags &= ~TIF_RESTORE_SIGMASK;  // clear_restore_sigmask
    sigset_t blocked{t->blocked.sig | ksig->ka.sa_mask.sig};
    if (!(ksig->ka.sa_flags & SA_NODEFER)) sigaddset(&blocked, ksig->sig);
    set_current_blocked(&blocked);
}

void signal_setup_done(int failed, ksignal* ksig, int stepping) {
    if (failed)
        force_sigsegv(ksig->sig);
    else
        signal_delivered(ksig, stepping);
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"
#include "glasskernel/time64.h"

namespace gk {

// ---- kill(2) and friends ----

// The sender's real or effective uid must match the target's real or saved uid (or be root).
static bool kill_ok_by_cred(task_struct* t) {
    const cred* c = current->real_cred.get();
    const cred* tc = t->real_cred.get();
    return c->euid == tc->suid || c->euid == tc->uid || c->uid == tc->suid || c->uid == tc->uid || c->euid == 0;
}

static int check_kill_permission(int sig, kernel_siginfo* info, task_struct* t) {
    if (!valid_signal(sig)) return -EINVAL;
    if (info && info->si_code > 0) return 0;  // !si_fromuser(): the kernel may always signal
    if (current != t && !kill_ok_by_cred(t)) {
        // SIGCONT may be sent to anything in the sender's session (job control).
        if (sig == SIGCONT && task_pid_type(t, PIDTYPE_SID) == task_pid_type(current, PIDTYPE_SID)) return 0;
        return -EPERM;
    }
    return 0;
}

int group_send_sig_info(int sig, kernel_siginfo* info, task_struct* p, pid_type type) {
    trace_scope ts("group_send_sig_info", "sig=%d pid=%d", sig, p->pid);
    int ret = check_kill_permission(sig, info, p);
    if (!ret && sig) ret = send_signal_locked(sig, info, p, type);
    return ts.ret(ret);
}

int kill_pid_info(int sig, kernel_siginfo* info, struct pid* pid) {
    task_struct* p = pid_task(pid, PIDTYPE_PID);
    if (!p) return -ESRCH;
    return group_send_sig_info(sig, info, p, PIDTYPE_TGID);
}

static int __kill_pgrp_info(int sig, kernel_siginfo* info, struct pid* pgrp) {
    trace_scope ts("__kill_pgrp_info", "sig=%d pgrp=%d", sig, pid_nr(pgrp));
    if (!pgrp || pgrp->tasks_pgid.empty()) return ts.ret(-ESRCH);
    bool success = false;
    int retval = -ESRCH;
    std::vector<task_struct*> members;
    for (auto& t : pgrp->tasks_pgid) members.push_back(&t);
    for (task_struct* p : members) {
        int err = group_send_sig_info(sig, info, p, PIDTYPE_PGID);
        success |= !err;
        retval = err;
    }
    return ts.ret(success ? 0 : retval);
}

// kill()'s four cases: pid > 0 one process; 0 the caller's process group; -1 every process the
// caller may signal except init and itself; < -1 the process group -pid.
static int kill_something_info(int sig, kernel_siginfo* info, pid_t pid) {
    trace_scope ts("kill_something_info", "sig=%d pid=%d", sig, pid);
    Kernel* k = this_kernel;
    if (pid > 0) return ts.ret(kill_pid_info(sig, info, find_pid_ns(&k->init_pid_ns, pid)));
    if (pid == INT_MIN) return ts.ret(-ESRCH);  // -INT_MIN is undefined
    if (pid != -1) {
        struct pid* pgrp = pid ? find_pid_ns(&k->init_pid_ns, -pid) : task_pid_type(current, PIDTYPE_PGID);
        return ts.ret(__kill_pgrp_info(sig, info, pgrp));
    }
    int retval = 0, count = 0;
    std::vector<task_struct*> all;
    for (auto& p : k->tasks)
        if (p.pid > 1 && &p != current->group_leader && !p.exit_state) all.push_back(&p);
    for (task_struct* p : all) {
        int err = group_send_sig_info(sig, info, p, PIDTYPE_MAX);
        ++count;
        if (err != -EPERM) retval = err;
    }
    return ts.ret(count ? retval : -ESRCH);
}

// The sender's identity, as kill() reports it (do_tkill fills in the same with SI_TKILL).
static void prepare_kill_siginfo(int sig, kernel_siginfo* info) {
    *info = kernel_siginfo{};
    info->si_signo = sig;
    info->si_code = SI_USER;
    info->si_pid = current->tgid;
    info->si_uid = current->real_cred->uid;
}

// The signal number is not checked here: the target is looked up first, so kill(2) answers a
// missing target with ESRCH whatever the signal, and check_kill_permission says EINVAL.
SYSCALL_DEFINE2(kill, pid_t, pid, int, sig) {
    kernel_siginfo info;
    prepare_kill_siginfo(sig, &info);
    return kill_something_info(sig, &info, pid);
}

// do_send_specific: one task, which must belong to tgid when one is given.
static int do_send_specific(pid_t tgid, pid_t pid, int sig, kernel_siginfo* info) {
    trace_scope ts("do_send_specific", "tgid=%d pid=%d sig=%d", tgid, pid, sig);
    int error = -ESRCH;
    task_struct* p = find_task_by_vpid(pid);
    if (p && (tgid <= 0 || p->tgid == tgid)) {
        error = check_kill_permission(sig, info, p);
        // The null signal only probes that the task exists and may be signalled.
        if (!error && sig) error = send_signal_locked(sig, info, p, PIDTYPE_PID);
    }
    return ts.ret(error);
}

static int do_tkill(pid_t tgid, pid_t pid, int sig) {
    trace_scope ts("do_tkill", "tgid=%d pid=%d sig=%d", tgid, pid, sig);
    kernel_siginfo info;
    info.si_signo = sig;
    info.si_code = SI_TKILL;
    info.si_pid = current->tgid;
    info.si_uid = current->real_cred->uid;
    return ts.ret(do_send_specific(tgid, pid, sig, &info));
}

SYSCALL_DEFINE3(tgkill, pid_t, tgid, pid_t, pid, int, sig) {
    if (pid <= 0 || tgid <= 0) return -EINVAL;  // only valid for single tasks
    return do_tkill(tgid, pid, sig);
}

SYSCALL_DEFINE2(tkill, pid_t, pid, int, sig) {
    if (pid <= 0) return -EINVAL;
    return do_tkill(0, pid, sig);
}

// A siginfo from user memory: its si_signo is the signal sent, whatever the struct says.
static int __copy_siginfo_from_user(int signo, kernel_siginfo* to, const siginfo_t __user* from) {
    siginfo_t u;
    if (copy_from_user(&u, from, sizeof u)) return -EFAULT;
    *to = kernel_siginfo{};
    to->si_signo = signo;
    to->si_errno = u.si_errno;
    to->si_code = u.si_code;
    to->si_pid = u._sifields._rt._pid;
    to->si_uid = u._sifields._rt._uid;
    to->si_value = static_cast<long>(u._sifields._rt._sigval.sival_ptr);
    return 0;
}

// Not even root may pretend to be the kernel or kill()/tkill() (which add the sender) when
// signalling another process: si_code >= 0 or SI_TKILL is refused.
static int do_rt_sigqueueinfo(pid_t pid, int sig, kernel_siginfo* info) {
    if ((info->si_code >= 0 || info->si_code == SI_TKILL) && current->pid != pid) return -EPERM;  // the caller's TID
    return kill_pid_info(sig, info, find_pid_ns(&this_kernel->init_pid_ns, pid));
}

SYSCALL_DEFINE3(rt_sigqueueinfo, pid_t, pid, int, sig, siginfo_t __user *, uinfo) {
    kernel_siginfo info;
    int ret = __copy_siginfo_from_user(sig, &info, uinfo);
    if (ret) return ret;
    return do_rt_sigqueueinfo(pid, sig, &info);
}

// copy_siginfo_to_user: the 128-byte user layout, with the union member the code implies.
int copy_siginfo_to_user(siginfo_t __user* to, const kernel_siginfo* from) {
    siginfo_t u{};
    u.si_signo = from->si_signo;
    u.si_errno = from->si_errno;
    u.si_code = from->si_code;
    u._sifields._kill._pid = from->si_pid;
    u._sifields._kill._uid = from->si_uid;
    if (from->si_signo == SIGCHLD && from->si_code > 0) {
        u._sifields._sigchld._status = from->si_status;
        u._sifields._sigchld._utime = static_cast<long>(from->si_utime / (NSEC_PER_SEC / USER_HZ));
        u._sifields._sigchld._stime = static_cast<long>(from->si_stime / (NSEC_PER_SEC / USER_HZ));
    } else {
        u._sifields._rt._sigval.sival_ptr = static_cast<unsigned long>(from->si_value);
    }
    return copy_to_user(to, &u, sizeof u) ? -EFAULT : 0;
}

// ---- sigaction(2) ----

static long do_sigaction(int sig, const k_sigaction* act, k_sigaction* oact) {
    trace_scope ts("do_sigaction", "sig=%d", sig);
    task_struct* p = current;
    if (!valid_signal(sig) || sig < 1 || (act && sig_kernel_only(sig))) return ts.ret(-EINVAL);
    k_sigaction* k = &p->sighand->action[sig - 1];
    if (oact) *oact = *k;
    if (act) {
        *k = *act;
        sigdelset(&k->sa_mask, SIGKILL);
        sigdelset(&k->sa_mask, SIGSTOP);
        // POSIX: setting a pending signal's action to ignore discards it.
        if (k->sa_handler == SIG_IGN || (k->sa_handler == SIG_DFL && sig_kernel_ignore(sig))) {
            for (sigpending* q : {&p->pending, &p->signal->shared_pending}) {
                if (!sigismember(&q->signal, sig)) continue;
                for (auto it = q->list.begin(); it != q->list.end();) {
                    if (it->info.si_signo == sig) {
                        uncharge(&*it);
                        it = q->list.erase(it);
                    } else {
                        ++it;
                    }
                }
                sigdelset(&q->signal, sig);
            }
            recalc_sigpending_tsk(p);
        }
    }
    return ts.ret(0);
}

SYSCALL_DEFINE4(rt_sigaction, int, sig, const struct sigaction __user *, act, struct sigaction __user *, oact,
                size_t, sigsetsize) {
    if (sigsetsize != sizeof(sigset_t)) return -EINVAL;
    k_sigaction new_sa, old_sa;
    if (act) {
        struct sigaction u;
        if (copy_from_user(&u, act, sizeof u)) return -EFAULT;
        new_sa.sa_handler = static_cast<long>(u.sa_handler);
        new_sa.sa_flags = u.sa_flags & UAPI_SA_FLAGS;  // unknown bits are dropped (how programs probe for them)
        new_sa.sa_restorer = u.sa_restorer;
        new_sa.sa_mask.sig = u.sa_mask;
    }
    long ret = do_sigaction(sig, act ? &new_sa : nullptr, oact ? &old_sa : nullptr);
    if (ret) return ret;
    if (oact) {
        struct sigaction u{static_cast<unsigned long>(old_sa.sa_handler), old_sa.sa_flags, old_sa.sa_restorer, old_sa.sa_mask.sig};
        if (copy_to_user(oact, &u, sizeof u)) return -EFAULT;
    }
    return 0;
}

// ---- masks, pending sets and waiting for signals ----

SYSCALL_DEFINE4(rt_sigprocmask, int, how, sigset_t __user *, nset, sigset_t __user *, oset, size_t, sigsetsize) {
    if (sigsetsize != sizeof(sigset_t)) return -EINVAL;
    sigset_t old_set = current->blocked, new_set;
    if (nset) {
        if (copy_from_user(&new_set, nset, sizeof new_set)) return -EFAULT;
        // SIGKILL and SIGSTOP can never be blocked; they are silently left out.
        sigdelset(&new_set, SIGKILL);
        sigdelset(&new_set, SIGSTOP);
        int error = sigprocmask(how, &new_set, nullptr);
        if (error) return error;
    }
    if (oset && copy_to_user(oset, &old_set, sizeof old_set)) return -EFAULT;
    return 0;
}

// The signals both pending and blocked.
SYSCALL_DEFINE2(rt_sigpending, sigset_t __user *, uset, size_t, sigsetsize) {
    if (sigsetsize > sizeof(sigset_t)) return -EINVAL;
    task_struct* t = current;
    sigset_t set{(t->pending.signal.sig | t->signal->shared_pending.signal.sig) & t->blocked.sig};
    return copy_to_user(uset, &set, sigsetsize) ? -EFAULT : 0;
}

long schedule_hrtimeout(u64 expires_abs, unsigned state);

// Take one of `which` off the queues, sleeping for it until the time-out (NULL: for ever).
static int do_sigtimedwait(const sigset_t* which, kernel_siginfo* info, const __kernel_timespec* ts) {
    trace_scope ts_("do_sigtimedwait");
    task_struct* tsk = current;
    u64 timeout = KTIME_MAX;
    if (ts) {
        if (!timespec64_valid(ts)) return ts_.ret(-EINVAL);
        timeout = timespec64_to_ns(ts);
    }
    sigset_t mask = *which;
    sigdelset(&mask, SIGKILL);
    sigdelset(&mask, SIGSTOP);
    sigset_t notmask{~mask.sig};
    int sig = dequeue_signal(tsk, &notmask, info);
    long ret = 0;
    if (!sig && timeout) {
        // Unblock the awaited signals for the sleep, so that their arrival wakes us.
        tsk->real_blocked = tsk->blocked;
        tsk->blocked.sig &= ~mask.sig;
        recalc_sigpending_tsk(tsk);
        u64 expires = timeout == KTIME_MAX ? KTIME_MAX : ktime_add_safe(ktime_get(), timeout);
        ret = -EINTR;
        if (!signal_pending(tsk)) ret = schedule_hrtimeout(expires, TASK_INTERRUPTIBLE);
        tsk->blocked = tsk->real_blocked;
        sigemptyset(&tsk->real_blocked);
        recalc_sigpending_tsk(tsk);
        sig = dequeue_signal(tsk, &notmask, info);
    }
    if (sig) return ts_.ret(sig);
    return ts_.ret(ret ? -EINTR : -EAGAIN);
}

SYSCALL_DEFINE4(rt_sigtimedwait, const sigset_t __user *, uthese, siginfo_t __user *, uinfo,
                const struct __kernel_timespec __user *, uts, size_t, sigsetsize) {
    if (sigsetsize != sizeof(sigset_t)) return -EINVAL;
    sigset_t these;
    if (copy_from_user(&these, uthese, sizeof these)) return -EFAULT;
    __kernel_timespec ts;
    if (uts && copy_from_user(&ts, uts, sizeof ts)) return -EFAULT;
    kernel_siginfo info;
    int ret = do_sigtimedwait(&these, &info, uts ? &ts : nullptr);
    if (ret > 0 && uinfo && copy_siginfo_to_user(uinfo, &info)) ret = -EFAULT;
    return ret;
}

// What the entry loop calls instead of an interrupted call that returned
// -ERESTART_RESTARTBLOCK when no handler ran: it continues with what the call left in
// restart_block (nanosleep: the rest of the sleep). Called with nothing to continue (the
// program making it itself, or after a handler), it fails with EINTR (do_no_restart_syscall).
SYSCALL_DEFINE0(restart_syscall) {
    restart_block* restart = &current->restart_block;
    if (!restart->fn) return -EINTR;
    return restart->fn(restart);
}

SYSCALL_DEFINE0(pause) {
    while (!signal_pending(current)) {
        __set_current_state(TASK_INTERRUPTIBLE);
        schedule();
    }
    return -ERESTARTNOHAND;
}

// Sleep with a temporary mask until a signal is delivered; the frame of the handler that runs
// restores the original mask (TIF_RESTORE_SIGMASK).
static int sigsuspend(sigset_t* set) {
    task_struct* t = current;
    t->saved_sigmask = t->blocked;
    sigdelset(set, SIGKILL);
    sigdelset(set, SIGSTOP);
    t->blocked = *set;
    recalc_sigpending_tsk(t);
    while (!signal_pending(t)) {
        __set_current_state(TASK_INTERRUPTIBLE);
        schedule();
    }
    t->thread_info.flags |= TIF_RESTORE_SIGMASK;
    return -ERESTARTNOHAND;
}

SYSCALL_DEFINE2(rt_sigsuspend, sigset_t __user *, unewset, size_t, sigsetsize) {
    if (sigsetsize != sizeof(sigset_t)) return -EINVAL;
    sigset_t newset;
    if (copy_from_user(&newset, unewset, sizeof newset)) return -EFAULT;
    return sigsuspend(&newset);
}

}  // namespace gk
