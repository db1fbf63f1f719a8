// Models kernel/sys.c (v6.1): process ids, process groups and sessions (setpgid/setsid with Linux's
// errno rules), credentials (setuid), resource limits, getrusage, prctl and get/setpriority.
#include <cstring>

#include "glasskernel/syscalls.h"

namespace gk {

static bool capable(const task_struct* t) { return t->real_cred->euid == 0; }
bool capable_setid(const task_struct* t) { return capable(t); }

SYSCALL_DEFINE0(getpid) { return current->tgid; }
SYSCALL_DEFINE0(gettid) { return current->pid; }
SYSCALL_DEFINE0(getppid) { return current->real_parent ? current->real_parent->tgid : 0; }
SYSCALL_DEFINE0(getuid) { return current->real_cred->uid; }
SYSCALL_DEFINE0(geteuid) { return current->real_cred->euid; }
SYSCALL_DEFINE0(getgid) { return current->real_cred->gid; }
SYSCALL_DEFINE0(getegid) { return current->real_cred->egid; }

SYSCALL_DEFINE0(getpgrp) { return pid_nr(task_pid_type(current, PIDTYPE_PGID)); }

// do_getpgid / ksys_getsid: pid 0 is the caller; a negative pid finds nothing.
static long do_getpgid(pid_t nr, pid_type type) {
    task_struct* p = nr == 0 ? current : (nr > 0 ? find_task_by_vpid(nr) : nullptr);
    if (!p) return -ESRCH;
    return pid_nr(task_pid_type(p, type));
}
SYSCALL_DEFINE1(getpgid, pid_t, pid) { return do_getpgid(pid, PIDTYPE_PGID); }
SYSCALL_DEFINE1(getsid, pid_t, pid) { return do_getpgid(pid, PIDTYPE_SID); }

// A process may move itself or a child that has not exec'd yet, within its own session, into
// an existing group of that session or a new group named after the mover.
SYSCALL_DEFINE2(setpgid, pid_t, pid, pid_t, pgid) {
    task_struct* group_leader = current->group_leader;
    if (!pid) pid = group_leader->pid;
    if (!pgid) pgid = pid;
    if (pgid < 0) return -EINVAL;
    task_struct* p = pid > 0 ? find_task_by_vpid(pid) : nullptr;
    if (!p) return -ESRCH;
    if (p->group_leader != p) return -EINVAL;
    if (p->real_parent == group_leader) {
        if (task_pid_type(p, PIDTYPE_SID) != task_pid_type(group_leader, PIDTYPE_SID)) return -EPERM;
        if (!(p->flags & PF_FORKNOEXEC)) return -EACCES;
    } else if (p != group_leader) {
        return -ESRCH;
    }
    if (p->signal->leader) return -EPERM;  // a session leader cannot change group
    struct pid* pgrp = p->thread_pid;
    if (pgid != pid) {
        pgrp = find_pid_ns(&this_kernel->init_pid_ns, pgid);
        task_struct* g = pid_task(pgrp, PIDTYPE_PGID);
        if (!g || task_pid_type(g, PIDTYPE_SID) != task_pid_type(group_leader, PIDTYPE_SID)) return -EPERM;
    }
    change_pid(p, PIDTYPE_PGID, pgrp);
    return 0;
}

SYSCALL_DEFINE0(setsid) {
    task_struct* group_leader = current->group_leader;
    struct pid* sid = group_leader->thread_pid;
    if (group_leader->signal->leader) return -EPERM;
    // Fail if a process group already uses the number the new session would take.
    if (pid_task(sid, PIDTYPE_PGID)) return -EPERM;
    group_leader->signal->leader = 1;
    change_pid(group_leader, PIDTYPE_SID, sid);
    change_pid(group_leader, PIDTYPE_PGID, sid);
    return sid->nr;
}

// Root sets all three ids; others may only set the effective id to their real or saved id.
// A uid of -1 (the "no change" value of setresuid) is not a valid uid: EINVAL.
SYSCALL_DEFINE1(setuid, uid_t, uid) {
    if (uid == static_cast<uid_t>(-1)) return -EINVAL;
    task_struct* t = current;
    auto neu = std::make_shared<cred>(*t->real_cred);
    uid_t kuid = static_cast<uid_t>(uid);
    if (capable(t)) {
        if (kuid != neu->uid) {
            Kernel* k = this_kernel;
            k->user_processes[neu->uid]--;
            k->user_processes[kuid]++;
        }
        neu->uid = neu->suid = kuid;
    } else if (kuid != neu->uid && kuid != neu->suid) {
        return -EPERM;
    }
    neu->euid = neu->fsuid = kuid;
    t->real_cred = neu;
    return 0;
}

SYSCALL_DEFINE1(setgid, gid_t, gid) {
    if (gid == static_cast<gid_t>(-1)) return -EINVAL;
    task_struct* t = current;
    auto neu = std::make_shared<cred>(*t->real_cred);
    uid_t kgid = static_cast<uid_t>(gid);
    if (capable(t))
        neu->gid = neu->sgid = kgid;
    else if (kgid != neu->gid && kgid != neu->sgid)
        return -EPERM;
    neu->egid = neu->fsgid = kgid;
    t->real_cred = neu;
    return 0;
}

static constexpr u64 sysctl_nr_open = 1024 * 1024;

static long do_prlimit(task_struct* tsk, unsigned resource, const rlimit* new_rlim, rlimit* old_rlim) {
    trace_scope ts("do_prlimit", "resource=%u", resource);
    if (resource >= RLIM_NLIMITS) return ts.ret(-EINVAL);
    rlimit* rlim = &tsk->signal->rlim[resource];
    if (new_rlim) {
        if (new_rlim->rlim_cur > new_rlim->rlim_max) return ts.ret(-EINVAL);
        if (resource == RLIMIT_NOFILE && new_rlim->rlim_max > sysctl_nr_open) return ts.ret(-EPERM);
        if (new_rlim->rlim_max > rlim->rlim_max && !capable(current)) return ts.ret(-EPERM);
    }
    if (old_rlim) *old_rlim = *rlim;
    if (new_rlim) *rlim = *new_rlim;
    return ts.ret(0);
}

SYSCALL_DEFINE2(getrlimit, unsigned int, resource, struct rlimit __user *, rlim) {
    struct rlimit value;
    long ret = do_prlimit(current, resource, nullptr, &value);
    if (!ret && copy_to_user(rlim, &value, sizeof value)) return -EFAULT;
    return ret;
}

SYSCALL_DEFINE2(setrlimit, unsigned int, resource, struct rlimit __user *, rlim) {
    struct rlimit new_rlim;
    if (copy_from_user(&new_rlim, rlim, sizeof new_rlim)) return -EFAULT;
    return do_prlimit(current, resource, &new_rlim, nullptr);
}

// Another process's limits need its credentials to match ours entirely (or CAP_SYS_RESOURCE).
static bool check_prlimit_permission(task_struct* task) {
    const cred* c = current->real_cred.get();
    const cred* tc = task->real_cred.get();
    if (current == task) return true;
    if (c->uid == tc->euid && c->uid == tc->suid && c->uid == tc->uid && c->gid == tc->egid && c->gid == tc->sgid &&
        c->gid == tc->gid)
        return true;
    return capable(current);
}

SYSCALL_DEFINE4(prlimit64, pid_t, pid, unsigned int, resource, const struct rlimit64 __user *, new_rlim,
                struct rlimit64 __user *, old_rlim) {
    struct rlimit64 old64, new64;
    struct rlimit old, neu;
    if (new_rlim) {
        if (copy_from_user(&new64, new_rlim, sizeof new64)) return -EFAULT;
        neu.rlim_cur = new64.rlim_cur;
        neu.rlim_max = new64.rlim_max;
    }
    task_struct* tsk = pid ? (pid > 0 ? find_task_by_vpid(pid) : nullptr) : current;
    if (!tsk) return -ESRCH;
    if (!check_prlimit_permission(tsk)) return -EPERM;
    long ret = do_prlimit(tsk, resource, new_rlim ? &neu : nullptr, old_rlim ? &old : nullptr);
    if (!ret && old_rlim) {
        old64.rlim_cur = old.rlim_cur;
        old64.rlim_max = old.rlim_max;
        if (copy_to_user(old_rlim, &old64, sizeof old64)) ret = -EFAULT;
    }
    return ret;
}

static void ns_to_timeval(u64 ns, __kernel_old_timeval* tv) {
    tv->tv_sec = static_cast<long>(ns / NSEC_PER_SEC);
    tv->tv_usec = static_cast<long>(ns % NSEC_PER_SEC / NSEC_PER_USEC);
}

// The resource usage of p (RUSAGE_SELF), of its reaped children (RUSAGE_CHILDREN), or both
// (RUSAGE_BOTH: what wait4 reports for a reaped child).
void getrusage(task_struct* p, int who, struct rusage* r) {
    *r = rusage{};
    u64 utime = 0, stime = 0;
    signal_struct* sig = p->signal.get();
    if (who == RUSAGE_CHILDREN || who == RUSAGE_BOTH) {
        utime += sig->cutime;
        stime += sig->cstime;
        r->ru_nvcsw += static_cast<long>(sig->cnvcsw);
        r->ru_nivcsw += static_cast<long>(sig->cnivcsw);
    }
    if (who == RUSAGE_SELF || who == RUSAGE_BOTH) {
        utime += p->utime;
        stime += p->stime;
        r->ru_nvcsw += static_cast<long>(p->nvcsw);
        r->ru_nivcsw += static_cast<long>(p->nivcsw);
    }
    ns_to_timeval(utime, &r->ru_utime);
    ns_to_timeval(stime, &r->ru_stime);
}

SYSCALL_DEFINE2(getrusage, int, who, struct rusage __user *, ru) {
    if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD) return -EINVAL;
    struct rusage r;
    getrusage(current, who == RUSAGE_THREAD ? RUSAGE_SELF : who, &r);
    return copy_to_user(ru, &r, sizeof r) ? -EFAULT : 0;
}

SYSCALL_DEFINE5(prctl, int, option, unsigned long, arg2, unsigned long, arg3, unsigned long, arg4,
                unsigned long, arg5) {
    (void)arg3, (void)arg4, (void)arg5;
    task_struct* me = current;
    switch (option) {
    case PR_SET_CHILD_SUBREAPER:
        me->signal->is_child_subreaper = arg2 != 0;
        if (!arg2) return 0;
        // Tell the descendants that a subreaper sits above them (walk_process_tree).
        {
            std::vector<task_struct*> stack{me};
            while (!stack.empty()) {
                task_struct* t = stack.back();
                stack.pop_back();
                for (auto& c : t->children) {
                    c.signal->has_child_subreaper = true;
                    stack.push_back(&c);
                }
            }
        }
        return 0;
    case PR_GET_CHILD_SUBREAPER:
        return put_user(me->signal->is_child_subreaper ? 1 : 0, reinterpret_cast<int __user*>(arg2));
    case PR_SET_PDEATHSIG:
        if (!valid_signal(arg2)) return -EINVAL;
        me->pdeath_signal = static_cast<int>(arg2);
        return 0;
    case PR_GET_PDEATHSIG:
        return put_user(me->pdeath_signal, reinterpret_cast<int __user*>(arg2));
    case PR_SET_NAME: {
        // TASK_COMM_LEN bytes are read, and the last is forced to NUL.
        char comm[TASK_COMM_LEN] = {};
        if (strncpy_from_user(comm, reinterpret_cast<const char __user*>(arg2), TASK_COMM_LEN - 1) < 0) return -EFAULT;
        comm[TASK_COMM_LEN - 1] = 0;
        me->comm = comm;
        return 0;
    }
    case PR_GET_NAME: {
        char comm[TASK_COMM_LEN] = {};
        me->comm.copy(comm, TASK_COMM_LEN - 1);
        return copy_to_user(reinterpret_cast<char __user*>(arg2), comm, sizeof comm) ? -EFAULT : 0;
    }
    default:
        return -EINVAL;
    }
}

// ---- nice ----

enum { PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2 };

static bool can_nice(const task_struct* p, int nice) {
    u64 nice_rlim = static_cast<u64>(20 - nice);  // nice_to_rlimit
    return nice_rlim <= task_rlimit(p, RLIMIT_NICE) || capable(current);
}

static long set_one_prio(task_struct* p, int niceval, long error) {
    const cred* c = current->real_cred.get();
    const cred* pc = p->real_cred.get();
    if (pc->uid != c->euid && pc->euid != c->euid && !capable(current)) return -EPERM;
    if (niceval < task_nice(p) && !can_nice(p, niceval)) return -EACCES;
    set_user_nice(p, niceval);
    return error == -ESRCH ? 0 : error;
}

template <typename F>
static void for_each_prio_target(long which, long who, F&& f) {
    Kernel* k = this_kernel;
    if (which == PRIO_PROCESS) {
        task_struct* p = who ? find_task_by_vpid(static_cast<int>(who)) : current;
        if (p) f(p);
        return;
    }
    struct pid* pgrp = nullptr;
    uid_t uid = 0;
    if (which == PRIO_PGRP) pgrp = who ? find_pid_ns(&k->init_pid_ns, static_cast<int>(who)) : task_pid_type(current, PIDTYPE_PGID);
    else uid = who ? static_cast<uid_t>(who) : current->real_cred->uid;
    for (auto& t : k->tasks) {
        if (t.exit_state || (t.flags & PF_KTHREAD) || (t.flags & PF_IDLE)) continue;
        if (which == PRIO_PGRP ? task_pid_type(&t, PIDTYPE_PGID) == pgrp && pgrp : t.real_cred->uid == uid) f(&t);
    }
}

SYSCALL_DEFINE3(setpriority, int, which, int, who, int, niceval) {
    if (which > PRIO_USER || which < PRIO_PROCESS) return -EINVAL;
    if (who < 0) return -ESRCH;
    niceval = std::max(-20, std::min(19, niceval));
    long error = -ESRCH;
    for_each_prio_target(which, who, [&](task_struct* p) { error = set_one_prio(p, niceval, error); });
    return error;
}

// Returns 20 - nice (1..40) so that no valid value looks like an error; libc converts.
SYSCALL_DEFINE2(getpriority, int, which, int, who) {
    if (which > PRIO_USER || which < PRIO_PROCESS) return -EINVAL;
    if (who < 0) return -ESRCH;
    long retval = -ESRCH;
    for_each_prio_target(which, who, [&](task_struct* p) { retval = std::max(retval, static_cast<long>(20 - task_nice(p))); });
    return retval;
}

}  // namespace gk
