// Models kernel/pid.c (v6.1): alloc_pid with a cyclic idr cursor that wraps at pid_max, attach_pid
// / detach_pid on the per-type task lists, and lookups by number.
#include "glasskernel/linux.h"

namespace gk {

pid_namespace::~pid_namespace() {
    for (auto& [nr, p] : idr) delete p;
}

// Numbers are handed out cyclically after the last one, so a freed pid is not reused until the
// counter comes round again; after the first wrap the search restarts at RESERVED_PIDS, keeping
// the low numbers for early daemons.
long alloc_pid(pid_namespace* ns, pid** out) {
    trace_scope ts("alloc_pid");
    int pid_min = 1;
    if (ns->last_pid >= RESERVED_PIDS && ns->pid_max > RESERVED_PIDS) pid_min = RESERVED_PIDS;
    int span = ns->pid_max - pid_min;
    if (span <= 0) return ts.ret(-EAGAIN);
    int nr = ns->last_pid + 1;
    for (int i = 0; i < span; i++, nr++) {
        if (nr >= ns->pid_max || nr < pid_min) nr = pid_min;
        if (!ns->idr.count(nr)) {
            auto p = std::make_unique<pid>();
            p->nr = nr;
            ns->idr.emplace(nr, p.get());  // may fail for want of memory: p is freed then
            ns->last_pid = nr;
            *out = p.release();
            return ts.ret(nr);
        }
    }
    return ts.ret(-EAGAIN);  // idr_alloc_cyclic's -ENOSPC becomes -EAGAIN for fork()
}

void free_pid(pid_namespace* ns, pid* p) {
    trace_scope ts("free_pid", "nr=%d", p->nr);
    ns->idr.erase(p->nr);
    delete p;
}

pid* find_pid_ns(pid_namespace* ns, int nr) {
    auto it = ns->idr.find(nr);
    return it == ns->idr.end() ? nullptr : it->second;
}

pid* task_pid_type(task_struct* t, pid_type type) {
    if (type == PIDTYPE_PID) return t->thread_pid;
    return t->signal ? t->signal->pids[type] : nullptr;
}

void attach_pid(task_struct* task, pid_type type) {
    pid* p = task_pid_type(task, type);
    switch (type) {
    case PIDTYPE_PID: p->tasks_pid.push_back(*task); break;
    case PIDTYPE_TGID: p->tasks_tgid.push_back(*task); break;
    case PIDTYPE_PGID: p->tasks_pgid.push_back(*task); break;
    case PIDTYPE_SID: p->tasks_sid.push_back(*task); break;
    default: break;
    }
}

void detach_pid(task_struct* task, pid_type type) {
    pid* p = task_pid_type(task, type);
    if (!p) return;
    switch (type) {
    case PIDTYPE_PID: p->tasks_pid.erase(p->tasks_pid.iterator_to(*task)); break;
    case PIDTYPE_TGID: p->tasks_tgid.erase(p->tasks_tgid.iterator_to(*task)); break;
    case PIDTYPE_PGID: p->tasks_pgid.erase(p->tasks_pgid.iterator_to(*task)); break;
    case PIDTYPE_SID: p->tasks_sid.erase(p->tasks_sid.iterator_to(*task)); break;
    default: break;
    }
    if (p->unused() && p->nr != 0) free_pid(&task->kernel->init_pid_ns, p);
}

void change_pid(task_struct* task, pid_type type, pid* p) {
    // Detaching frees the old number if no other task uses it in any role.
    pid* old = task_pid_type(task, type);
    if (old == p) return;
    detach_pid(task, type);
    task->signal->pids[type] = p;
    attach_pid(task, type);
}

task_struct* pid_task(pid* p, pid_type type) {
    if (!p) return nullptr;
    switch (type) {
    case PIDTYPE_PID: return p->tasks_pid.empty() ? nullptr : &p->tasks_pid.front();
    case PIDTYPE_TGID: return p->tasks_tgid.empty() ? nullptr : &p->tasks_tgid.front();
    case PIDTYPE_PGID: return p->tasks_pgid.empty() ? nullptr : &p->tasks_pgid.front();
    case PIDTYPE_SID: return p->tasks_sid.empty() ? nullptr : &p->tasks_sid.front();
    default: return nullptr;
    }
}

bool pid_has_task(pid* p, pid_type type) { return pid_task(p, type) != nullptr; }

task_struct* find_task_by_vpid(int nr) {
    return pid_task(find_pid_ns(&this_kernel->init_pid_ns, nr), PIDTYPE_PID);
}

}  // namespace gk
