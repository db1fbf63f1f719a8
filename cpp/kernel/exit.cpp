// Models kernel/exit.c (v6.1): do_exit, exit_notify, forget_original_parent and the reaper search,
// release_task, and the wait family: do_wait, wait_consider_task, wait_task_zombie, wait4, waitid.
#include "glasskernel/linux.h"

namespace gk {

static void __unhash_process(task_struct* p) {
    detach_pid(p, PIDTYPE_PID);
    detach_pid(p, PIDTYPE_TGID);
    detach_pid(p, PIDTYPE_PGID);
    detach_pid(p, PIDTYPE_SID);
    p->thread_pid = nullptr;
    Kernel* k = p->kernel;
    k->tasks.erase(k->tasks.iterator_to(*p));
    if (static_cast<sibling_hook*>(p)->is_linked()) p->real_parent->children.erase(p->real_parent->children.iterator_to(*p));
}

// The last step of a task's life: its pid is freed and the kernel drops its reference.
void release_task(task_struct* p) {
    trace_scope ts("release_task", "pid=%d", p->pid);
    Kernel* k = p->kernel;
    std::shared_ptr<task_struct> hold = p->self;
    int& nproc = k->user_processes[p->real_cred->uid];
    if (nproc > 0) nproc--;
    trace_point("sched_process_free", "comm=%s pid=%d prio=%d", p->comm.c_str(), p->pid, p->prio);
    flush_sigqueue(&p->pending);  // __exit_signal: queued siginfos give back their charge
    flush_sigqueue(&p->signal->shared_pending);
    __unhash_process(p);
    p->exit_state = EXIT_DEAD;
    p->real_parent = p->parent = nullptr;
    p->reaped = true;
    if (p == current) {
        // Reaping itself (its parent ignores SIGCHLD): its fiber still runs on this task, so the
        // last reference goes when it has switched out, as finish_task_switch() drops it.
        k->dead_task = std::move(p->self);
        return;
    }
    put_task_struct(p);
}

// Walks up from the dying task for the nearest ancestor that is a child subreaper
// (prctl(PR_SET_CHILD_SUBREAPER)) and still alive; init otherwise.
task_struct* find_new_reaper(task_struct* father, task_struct* child_reaper) {
    trace_scope ts("find_new_reaper", "father=%d", father->pid);
    if (father->signal->has_child_subreaper) {
        for (task_struct* r = father->real_parent; r && r != child_reaper; r = r->real_parent) {
            if (r->signal->is_child_subreaper && !(r->flags & PF_EXITING)) {
                ts.ret(r->pid);
                return r;
            }
        }
    }
    ts.ret(child_reaper->pid);
    return child_reaper;
}

// Gives the dying task's children a new parent. A child that is already a zombie must be
// announced to its new parent, or nobody would ever reap it.
static void forget_original_parent(task_struct* father, std::vector<task_struct*>* dead) {
    trace_scope ts("forget_original_parent", "pid=%d", father->pid);
    Kernel* k = father->kernel;
    if (father->children.empty()) return;
    task_struct* reaper = find_new_reaper(father, k->child_reaper);
    while (!father->children.empty()) {
        task_struct* p = &father->children.front();
        father->children.pop_front();
        p->real_parent = reaper;
        if (p->parent == father) p->parent = reaper;
        reaper->children.push_back(*p);
        if (p->pdeath_signal) send_signal_locked(p->pdeath_signal, nullptr, p, PIDTYPE_TGID);
        // reparent_leader: the exit_signal was chosen for the old parent. A child made with
        // clone(SIGUSR1) or clone(0) would tell the reaper with that signal, or none, and init,
        // asleep in sigwaitinfo() for SIGCHLD, would never reap it: the new parent gets SIGCHLD.
        p->exit_signal = SIGCHLD;
        if (p->exit_state == EXIT_ZOMBIE) {
            if (do_notify_parent(p, p->exit_signal)) {
                p->exit_state = EXIT_DEAD;
                dead->push_back(p);
            }
        }
    }
}

// A process group is orphaned (POSIX) when no member has a parent in another group of the same
// session: nobody is left to continue it, so terminal stop signals are ignored there. Members
// that have exited, and those whose parent is init, do not count.
static bool will_become_orphaned_pgrp(struct pid* pgrp, task_struct* ignored_task) {
    for (auto& p : pgrp->tasks_pgid) {
        task_struct* parent = p.real_parent;
        if (&p == ignored_task || p.exit_state || !parent || parent->pid == 1) continue;
        if (task_pid_type(parent, PIDTYPE_PGID) != pgrp && task_pid_type(parent, PIDTYPE_SID) == task_pid_type(&p, PIDTYPE_SID))
            return false;
    }
    return true;
}

bool is_current_pgrp_orphaned() { return will_become_orphaned_pgrp(task_pid_type(current, PIDTYPE_PGID), nullptr); }

static void exit_notify(task_struct* tsk) {
    trace_scope ts("exit_notify", "pid=%d", tsk->pid);
    std::vector<task_struct*> dead;
    forget_original_parent(tsk, &dead);
    tsk->exit_state = EXIT_ZOMBIE;
    bool autoreap = do_notify_parent(tsk, tsk->exit_signal);
    if (autoreap) {
        tsk->exit_state = EXIT_DEAD;
        dead.push_back(tsk);
    }
    for (task_struct* p : dead) release_task(p);
}

static void exit_mm() {
    trace_scope ts("exit_mm");
    task_struct* tsk = current;
    exit_mm_release(tsk, tsk->mm.get());
    if (!tsk->mm) return;
    this_kernel->charge(this_kernel->costs.exit_mm);
    tsk->mm.reset();  // mmput: the address space goes with its last user
    // The program's user-mode state may hold Python objects: they are freed on the host stack.
    if (tsk->thread.image) this_kernel->deferred_images.push_back(std::move(tsk->thread.image));
}

// Unlike Linux's do_exit, this returns: its callers unwind straight to the task's entry loop,
// which then calls do_task_dead(). That closes every trace scope on the way out.
void do_exit(long code) {
    trace_scope ts("do_exit", "code=%#lx", code);
    task_struct* tsk = current;
    Kernel* k = tsk->kernel;
    if (tsk->flags & PF_EXITING) return;
    tsk->flags |= PF_EXITING;
    // make_task_dead's repairs: a thread that dies holding interrupts or preemption off must not
    // take them down with it.
    if (irqs_disabled()) {
        printk("note: %s[%d] exited with irqs disabled", tsk->comm.c_str(), tsk->pid);
        local_irq_enable();
    }
    if (tsk->thread_info.preempt_count) {
        printk("note: %s[%d] exited with preempt_count %d", tsk->comm.c_str(), tsk->pid, tsk->thread_info.preempt_count);
        tsk->thread_info.preempt_count = 0;
    }
    tsk->signal->live--;
    if (tsk == k->child_reaper) {
        char buf[96];
        snprintf(buf, sizeof buf, "Attempted to kill init! exitcode=0x%08lx", code);
        k->panic(buf);
    }
    tsk->exit_code = static_cast<int>(code);
    // The group is dead (one task per group here): its interval timers stop (exit_itimers).
    hrtimer_cancel(&tsk->signal->real_timer);
    tsk->signal->it[0] = tsk->signal->it[1] = cpu_itimer();
    exit_mm();
    if (tsk->files) {
        tsk->files->count--;
        exit_files(tsk);
    }
    if (tsk->sighand) tsk->sighand->count--;
    trace_point("sched_process_exit", "comm=%s pid=%d prio=%d", tsk->comm.c_str(), tsk->pid, tsk->prio);
    exit_notify(tsk);
}

// Ends every thread of the group; with one task per group, that is this one.
void do_group_exit(int exit_code) {
    trace_scope ts("do_group_exit", "code=%#x", exit_code);
    signal_struct* sig = current->signal.get();
    if (sig->flags & SIGNAL_GROUP_EXIT) {
        exit_code = sig->group_exit_code;
    } else {
        sig->group_exit_code = exit_code;
        sig->flags = SIGNAL_GROUP_EXIT;
    }
    do_exit(exit_code);
}

// ---- wait ----

// A child changed state (exited, stopped, continued): wake the parent's wait4()/waitid().
void __wake_up_parent(task_struct* p, task_struct* parent) {
    __wake_up(&parent->signal->wait_chldexit, TASK_INTERRUPTIBLE, 1, p);
}

static bool eligible_pid(wait_opts* wo, task_struct* p) {
    return wo->wo_type == PIDTYPE_MAX || task_pid_type(p, wo->wo_type) == wo->wo_pid;
}

static int eligible_child(wait_opts* wo, bool ptrace, task_struct* p) {
    if (!eligible_pid(wo, p)) return 0;
    if ((wo->wo_flags & __WNOTHREAD) && wo->child_wait.private_ != p->parent) return 0;
    // __WCLONE waits only for "clone" children (those that signal something other than SIGCHLD
    // at exit), the default only for the others; __WALL for both.
    if (ptrace || (wo->wo_flags & __WALL)) return 1;
    if ((p->exit_signal != SIGCHLD) ^ ((wo->wo_flags & __WCLONE) != 0)) return 0;
    return 1;
}


static long wait_task_zombie(wait_opts* wo, task_struct* p) {
    trace_scope ts("wait_task_zombie", "pid=%d", p->pid);
    pid_t pid = p->pid;
    uid_t p_uid = p->real_cred->uid;
    if (!(wo->wo_flags & WEXITED)) return ts.ret(0);
    int status = (p->signal->flags & SIGNAL_GROUP_EXIT) ? p->signal->group_exit_code : p->exit_code;
    if (wo->wo_flags & WNOWAIT) {
        // Report, but leave the child a zombie for a later wait.
        if (wo->wo_rusage) getrusage(p, RUSAGE_BOTH, wo->wo_rusage);
    } else {
        p->exit_state = EXIT_DEAD;
        // The parent inherits the child's CPU time (and its reaped children's): RUSAGE_CHILDREN.
        signal_struct* psig = current->signal.get();
        psig->cutime += p->utime + p->signal->cutime;
        psig->cstime += p->stime + p->signal->cstime;
        psig->cnvcsw += p->nvcsw + p->signal->cnvcsw;
        psig->cnivcsw += p->nivcsw + p->signal->cnivcsw;
        if (wo->wo_rusage) getrusage(p, RUSAGE_BOTH, wo->wo_rusage);
        release_task(p);
    }
    wo->wo_stat = status;
    if (wo->wo_info) {
        kernel_siginfo* info = wo->wo_info;
        if ((status & 0x7f) == 0) {
            info->si_code = CLD_EXITED;
            info->si_status = status >> 8;
        } else {
            info->si_code = (status & 0x80) ? CLD_DUMPED : CLD_KILLED;
            info->si_status = status & 0x7f;
        }
        info->si_pid = pid;
        info->si_uid = p_uid;
        info->si_signo = SIGCHLD;
    }
    return ts.ret(pid);
}

static void fill_cld_info(wait_opts* wo, task_struct* p, int code, int status) {
    if (!wo->wo_info) return;
    wo->wo_info->si_signo = SIGCHLD;
    wo->wo_info->si_code = code;
    wo->wo_info->si_status = status;
    wo->wo_info->si_pid = p->pid;
    wo->wo_info->si_uid = p->real_cred->uid;
}

// WUNTRACED: report a stop once (the code is consumed unless WNOWAIT), as status 0x<sig>7f.
static long wait_task_stopped(wait_opts* wo, task_struct* p) {
    if (!(wo->wo_flags & WUNTRACED)) return 0;
    signal_struct* sig = p->signal.get();
    if (!(sig->flags & SIGNAL_STOP_STOPPED) || !sig->group_exit_code) return 0;
    trace_scope ts("wait_task_stopped", "pid=%d", p->pid);
    int exit_code = sig->group_exit_code;
    if (!(wo->wo_flags & WNOWAIT)) sig->group_exit_code = 0;
    if (wo->wo_rusage) getrusage(p, RUSAGE_BOTH, wo->wo_rusage);
    wo->wo_stat = (exit_code << 8) | 0x7f;
    fill_cld_info(wo, p, CLD_STOPPED, exit_code);
    return ts.ret(p->pid);
}

// WCONTINUED: report a SIGCONT once, as status 0xffff.
static long wait_task_continued(wait_opts* wo, task_struct* p) {
    if (!(wo->wo_flags & WCONTINUED)) return 0;
    if (!(p->signal->flags & SIGNAL_STOP_CONTINUED)) return 0;
    trace_scope ts("wait_task_continued", "pid=%d", p->pid);
    if (!(wo->wo_flags & WNOWAIT)) p->signal->flags &= ~SIGNAL_STOP_CONTINUED;
    if (wo->wo_rusage) getrusage(p, RUSAGE_BOTH, wo->wo_rusage);
    wo->wo_stat = 0xffff;
    fill_cld_info(wo, p, CLD_CONTINUED, SIGCONT);
    return ts.ret(p->pid);
}

static long wait_consider_task(wait_opts* wo, bool ptrace, task_struct* p) {
    trace_scope ts("wait_consider_task", "pid=%d state=%s", p->pid, task_state_to_char(p));
    int exit_state = p->exit_state;
    if (exit_state == EXIT_DEAD) return ts.ret(0);
    int ret = eligible_child(wo, ptrace, p);
    if (!ret) return ts.ret(ret);
    if (exit_state == EXIT_ZOMBIE) return ts.ret(wait_task_zombie(wo, p));
    // An eligible child exists, so the caller will get 0 (WNOHANG) or sleep rather than ECHILD.
    wo->notask_error = 0;
    long r = wait_task_stopped(wo, p);
    if (r) return ts.ret(r);
    return ts.ret(wait_task_continued(wo, p));
}

static long do_wait_thread(wait_opts* wo, task_struct* tsk) {
    for (auto it = tsk->children.begin(); it != tsk->children.end();) {
        task_struct* p = &*it;
        ++it;  // wait_task_zombie may release p
        long ret = wait_consider_task(wo, false, p);
        if (ret) return ret;
    }
    return 0;
}

// Wakes the waiter only if the exiting child is one it waits for.
static int child_wait_callback(wait_queue_entry* wait, unsigned mode, int sync, void* key) {
    wait_opts* wo = reinterpret_cast<wait_opts*>(reinterpret_cast<char*>(wait) - offsetof(wait_opts, child_wait));
    task_struct* p = static_cast<task_struct*>(key);
    if (p) {
        if (!eligible_pid(wo, p)) return 0;
        if ((wo->wo_flags & __WNOTHREAD) && wait->private_ != p->parent) return 0;
    }
    return default_wake_function(wait, mode, sync, key);
}
WAKE_FUNCTION_NAME(child_wait_callback);

long do_wait(wait_opts* wo) {
    trace_scope ts("do_wait", "flags=%#x", wo->wo_flags);
    task_struct* me = current;
    trace_point("sched_process_wait", "comm=%s pid=%d prio=%d", me->comm.c_str(), pid_nr(wo->wo_pid), me->prio);
    wo->child_wait.func = child_wait_callback;
    wo->child_wait.private_ = me;
    wo->child_wait.flags = 0;
    add_wait_queue(&me->signal->wait_chldexit, &wo->child_wait);
    long retval;
    for (;;) {
        wo->notask_error = -ECHILD;
        if (wo->wo_type < PIDTYPE_MAX && (!wo->wo_pid || !pid_has_task(wo->wo_pid, wo->wo_type))) {
            retval = wo->notask_error;
        } else {
            set_current_state(TASK_INTERRUPTIBLE);
            retval = do_wait_thread(wo, me);
            if (retval) break;
            retval = wo->notask_error;
        }
        if (retval || (wo->wo_flags & WNOHANG)) break;
        retval = -ERESTARTSYS;
        if (signal_pending(me)) break;
        schedule();
    }
    __set_current_state(TASK_RUNNING);
    remove_wait_queue(&me->signal->wait_chldexit, &wo->child_wait);
    return ts.ret(retval);
}

}  // namespace gk

// ---- system calls ----
#include "glasskernel/syscalls.h"

namespace gk {

SYSCALL_DEFINE1(exit, int, error_code) {
    do_exit((error_code & 0xff) << 8);
    return 0;
}

SYSCALL_DEFINE1(exit_group, int, error_code) {
    do_group_exit((error_code & 0xff) << 8);
    return 0;
}

long kernel_wait4(pid_t upid, int __user* stat_addr, int options, struct rusage* ru) {
    trace_scope ts("kernel_wait4", "pid=%d options=%#x", upid, options);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) return ts.ret(-EINVAL);
    if (upid == INT_MIN) return ts.ret(-ESRCH);  // -INT_MIN is not defined
    pid_namespace* ns = &this_kernel->init_pid_ns;
    wait_opts wo;
    if (upid == -1) {
        wo.wo_type = PIDTYPE_MAX;
    } else if (upid < 0) {
        wo.wo_type = PIDTYPE_PGID;
        wo.wo_pid = find_pid_ns(ns, -upid);
    } else if (upid == 0) {
        wo.wo_type = PIDTYPE_PGID;
        wo.wo_pid = task_pid_type(current, PIDTYPE_PGID);
    } else {
        wo.wo_type = PIDTYPE_PID;
        wo.wo_pid = find_pid_ns(ns, upid);
    }
    wo.wo_flags = options | WEXITED;
    wo.wo_rusage = ru;
    long ret = do_wait(&wo);
    // The status is written after the child is reaped: a bad stat_addr loses it (EFAULT).
    if (ret > 0 && stat_addr && put_user(wo.wo_stat, stat_addr)) ret = -EFAULT;
    return ts.ret(ret);
}

SYSCALL_DEFINE4(wait4, pid_t, upid, int __user *, stat_addr, int, options, struct rusage __user *, ru) {
    struct rusage r;
    long err = kernel_wait4(upid, stat_addr, options, ru ? &r : nullptr);
    if (err > 0 && ru && copy_to_user(ru, &r, sizeof r)) return -EFAULT;
    return err;
}

static long kernel_waitid(int which, pid_t upid, kernel_siginfo* info, int options, struct rusage* ru) {
    trace_scope ts("kernel_waitid", "which=%d pid=%d options=%#x", which, upid, options);
    if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return ts.ret(-EINVAL);
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return ts.ret(-EINVAL);
    pid_namespace* ns = &this_kernel->init_pid_ns;
    wait_opts wo;
    switch (which) {
    case P_ALL:
        wo.wo_type = PIDTYPE_MAX;
        break;
    case P_PID:
        wo.wo_type = PIDTYPE_PID;
        if (upid <= 0) return ts.ret(-EINVAL);
        wo.wo_pid = find_pid_ns(ns, upid);
        break;
    case P_PGID:
        wo.wo_type = PIDTYPE_PGID;
        if (upid < 0) return ts.ret(-EINVAL);
        wo.wo_pid = upid ? find_pid_ns(ns, upid) : task_pid_type(current, PIDTYPE_PGID);
        break;
    case P_PIDFD:
        // pidfd_get_pid: no pidfds exist here, so any descriptor is EBADF (a negative one EINVAL).
        if (upid < 0) return ts.ret(-EINVAL);
        return ts.ret(-EBADF);
    default:
        return ts.ret(-EINVAL);
    }
    wo.wo_flags = options;
    wo.wo_info = info;
    wo.wo_rusage = ru;
    return ts.ret(do_wait(&wo));
}

// infop is written even when the wait failed or found nothing (all zeros then), so a bad infop
// turns ECHILD into EFAULT, as in Linux.
SYSCALL_DEFINE5(waitid, int, which, pid_t, upid, struct siginfo __user *, infop, int, options,
                struct rusage __user *, ru) {
    struct rusage r;
    kernel_siginfo info;
    long err = kernel_waitid(which, upid, &info, options, ru ? &r : nullptr);
    int signo = 0;
    if (err > 0) {
        signo = SIGCHLD;
        err = 0;
        if (ru && copy_to_user(ru, &r, sizeof r)) return -EFAULT;
    } else {
        info = kernel_siginfo{};
    }
    if (!infop) return err;
    siginfo_t u{};
    u.si_signo = signo;
    u.si_code = info.si_code;
    u._sifields._sigchld._pid = info.si_pid;
    u._sifields._sigchld._uid = info.si_uid;
    u._sifields._sigchld._status = info.si_status;
    if (copy_to_user(infop, &u, offsetof(siginfo_t, _sifields._sigchld._status) + sizeof(int))) return -EFAULT;
    return err;
}

}  // namespace gk
