// Models kernel/sys.c: process ids, process groups and sessions (setpgid/setsid with Linux's
// errno rules), credentials (setuid), resource limits, getrusage, prctl and get/setpriority.
#include <cstring>

#include "glasskernel/syscalls.h"

namespace gk {

static bool capable(const task_struct* t) { return t->real_cred->euid == 0; }
bool capable_setid(const task_struct* t) { return capable(t); }

SYSCALL_DEFINE(getpid) { return current->tgid; }
SYSCALL_DEFINE(gettid) { return current->pid; }
SYSCALL_DEFINE(getppid) { return current->real_parent ? current->real_parent->tgid : 0; }
SYSCALL_DEFINE(getuid) { return current->real_cred->uid; }
SYSCALL_DEFINE(geteuid) { return current->real_cred->euid; }
SYSCALL_DEFINE(getgid) { return current->real_cred->gid; }
SYSCALL_DEFINE(getegid) { return current->real_cred->egid; }

SYSCALL_DEFINE(getpgrp) { return pid_nr(task_pid_type(current, PIDTYPE_PGID)); }

static long do_getpgid_or_sid(long nr, pid_type type) {
    task_struct* p = nr == 0 ? current : find_task_by_vpid(static_cast<int>(nr));
    if (!p || nr < 0) return -ESRCH;
    return pid_nr(task_pid_type(p, type));
}
SYSCALL_DEFINE(getpgid) { return do_getpgid_or_sid(regs.args[0], PIDTYPE_PGID); }
SYSCALL_DEFINE(getsid) { return do_getpgid_or_sid(regs.args[0], PIDTYPE_SID); }

// A process may move itself or a child that has not exec'd yet, within its own session, into
// an existing group of that session or a new group named after the mover.
SYSCALL_DEFINE(setpgid) {
    task_struct* group_leader = current->group_leader;
    long pid = regs.args[0], pgid = regs.args[1];
    if (!pid) pid = group_leader->pid;
    if (!pgid) pgid = pid;
    if (pgid < 0) return -EINVAL;
    task_struct* p = pid > 0 && pid <= INT_MAX ? find_task_by_vpid(static_cast<int>(pid)) : nullptr;
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
        pgrp = pgid <= INT_MAX ? find_pid_ns(&this_kernel->init_pid_ns, static_cast<int>(pgid)) : nullptr;
        task_struct* g = pid_task(pgrp, PIDTYPE_PGID);
        if (!g || task_pid_type(g, PIDTYPE_SID) != task_pid_type(group_leader, PIDTYPE_SID)) return -EPERM;
    }
    change_pid(p, PIDTYPE_PGID, pgrp);
    return 0;
}

SYSCALL_DEFINE(setsid) {
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
SYSCALL_DEFINE(setuid) {
    long uid = regs.args[0];
    if (uid < 0 || uid > 0xfffffffeL) return -EINVAL;
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

SYSCALL_DEFINE(setgid) {
    long gid = regs.args[0];
    if (gid < 0 || gid > 0xfffffffeL) return -EINVAL;
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

static u64 from_user_rlim(long v) { return v < 0 ? RLIM_INFINITY : static_cast<u64>(v); }

static void put_rlim(const rlimit& r) {
    user_out& out = current->thread.uout;
    out.v[0] = static_cast<long>(r.rlim_cur);
    out.v[1] = static_cast<long>(r.rlim_max);
}

SYSCALL_DEFINE(getrlimit) {
    rlimit old;
    long r = do_prlimit(current, static_cast<unsigned>(regs.args[0]), nullptr, &old);
    if (!r) put_rlim(old);
    return r;
}

SYSCALL_DEFINE(setrlimit) {
    rlimit neu{from_user_rlim(regs.args[1]), from_user_rlim(regs.args[2])};
    return do_prlimit(current, static_cast<unsigned>(regs.args[0]), &neu, nullptr);
}

// args: pid, resource, whether a new limit is given, its soft and hard values.
SYSCALL_DEFINE(prlimit64) {
    long pid = regs.args[0];
    task_struct* tsk = pid ? (pid > 0 && pid <= INT_MAX ? find_task_by_vpid(static_cast<int>(pid)) : nullptr) : current;
    if (!tsk) return -ESRCH;
    if (tsk != current) {
        const cred* c = current->real_cred.get();
        const cred* tc = tsk->real_cred.get();
        bool same = c->uid == tc->uid && c->uid == tc->euid && c->uid == tc->suid && c->gid == tc->gid;
        if (!same && !capable(current)) return -EPERM;
    }
    rlimit neu{from_user_rlim(regs.args[3]), from_user_rlim(regs.args[4])}, old;
    long r = do_prlimit(tsk, static_cast<unsigned>(regs.args[1]), regs.args[2] ? &neu : nullptr, &old);
    if (!r) put_rlim(old);
    return r;
}

// Out: utime, stime (ns), nvcsw, nivcsw.
SYSCALL_DEFINE(getrusage) {
    task_struct* t = current;
    long who = regs.args[0];
    user_out& out = t->thread.uout;
    if (who == RUSAGE_SELF) {
        out.v[0] = static_cast<long>(t->utime);
        out.v[1] = static_cast<long>(t->stime);
        out.v[2] = static_cast<long>(t->nvcsw);
        out.v[3] = static_cast<long>(t->nivcsw);
    } else if (who == RUSAGE_CHILDREN) {
        out.v[0] = static_cast<long>(t->signal->cutime);
        out.v[1] = static_cast<long>(t->signal->cstime);
        out.v[2] = static_cast<long>(t->signal->cnvcsw);
        out.v[3] = static_cast<long>(t->signal->cnivcsw);
    } else {
        return -EINVAL;
    }
    return 0;
}

SYSCALL_DEFINE(prctl) {
    task_struct* me = current;
    long option = regs.args[0], arg2 = regs.args[1];
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
        me->thread.uout.v[0] = me->signal->is_child_subreaper;
        return 0;
    case PR_SET_PDEATHSIG:
        if (!valid_signal(arg2)) return -EINVAL;
        me->pdeath_signal = static_cast<int>(arg2);
        return 0;
    case PR_GET_PDEATHSIG:
        me->thread.uout.v[0] = me->pdeath_signal;
        return 0;
    case PR_SET_NAME:
        me->comm = regs.data.substr(0, 15);
        return 0;
    case PR_GET_NAME:
        me->thread.uout.data = me->comm;
        return 0;
    default:
        return -EINVAL;
    }
}

// ---- nice ----

enum { PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2 };
static int task_nice(const task_struct* p) { return p->static_prio - DEFAULT_PRIO; }



void set_user_nice(task_struct* p, int nice) {
    trace_scope ts("set_user_nice", "pid=%d nice=%d", p->pid, nice);
    rq* rq = p->kernel->cpu_rq(p->cpu);
    bool running = rq->curr == p;
    if (running) update_curr_fair(rq);
    int old = task_nice(p);
    unsigned long w = static_cast<unsigned long>(sched_prio_to_weight[nice + 20]);
    if (p->se.on_rq) rq->cfs.load.weight = rq->cfs.load.weight - p->se.load.weight + w;
    p->se.load.weight = w;
    p->static_prio = p->normal_prio = p->prio = DEFAULT_PRIO + nice;
    // A task that got more important may now deserve the CPU; one that got less, may not.
    if ((running && nice > old) || (!running && p->on_rq && nice < old)) resched_curr(rq);
}

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

SYSCALL_DEFINE(setpriority) {
    long which = regs.args[0], who = regs.args[1], niceval = regs.args[2];
    if (which > PRIO_USER || which < PRIO_PROCESS) return -EINVAL;
    if (who < 0 || who > INT_MAX) return -ESRCH;
    niceval = std::max(-20L, std::min(19L, niceval));
    long error = -ESRCH;
    for_each_prio_target(which, who, [&](task_struct* p) { error = set_one_prio(p, static_cast<int>(niceval), error); });
    return error;
}

// Returns 20 - nice (1..40) so that no valid value looks like an error; libc converts.
SYSCALL_DEFINE(getpriority) {
    long which = regs.args[0], who = regs.args[1];
    if (which > PRIO_USER || which < PRIO_PROCESS) return -EINVAL;
    if (who < 0 || who > INT_MAX) return -ESRCH;
    long retval = -ESRCH;
    for_each_prio_target(which, who, [&](task_struct* p) { retval = std::max(retval, static_cast<long>(20 - task_nice(p))); });
    return retval;
}

}  // namespace gk
