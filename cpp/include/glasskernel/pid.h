// Models include/linux/pid.h and kernel/pid.c (v6.1): struct pid, the pid idr and the per-type task
// lists.
#pragma once
#include <map>

#include "glasskernel/types.h"

namespace gk {

struct task_struct;

enum pid_type : int { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID, PIDTYPE_SID, PIDTYPE_MAX };

struct pid;  // defined in sched.h, where task_struct is complete

struct pid_namespace {
    std::map<int, pid*> idr;  // nr -> pid
    int pid_max = 32768;
    int last_pid = 0;  // the idr cursor: allocation continues after it, cyclically
    ~pid_namespace();
};

constexpr int RESERVED_PIDS = 300;

long alloc_pid(pid_namespace* ns, pid** out);  // 0 or -EAGAIN when the pid space is exhausted
void free_pid(pid_namespace* ns, pid* p);
pid* find_pid_ns(pid_namespace* ns, int nr);
void attach_pid(task_struct* task, pid_type type);
void detach_pid(task_struct* task, pid_type type);
void change_pid(task_struct* task, pid_type type, pid* p);
task_struct* pid_task(pid* p, pid_type type);
bool pid_has_task(pid* p, pid_type type);
task_struct* find_task_by_vpid(int nr);
pid* task_pid_type(task_struct* t, pid_type type);
int pid_nr(const pid* p);

}  // namespace gk
