// Models the prototypes include/linux/*.h (v6.1) declares for the modeled kernel functions, grouped
// here by the Linux file that holds each function, and `current` (arch/x86/include/asm/current.h).
// Kernel .cpp files include this last.
#pragma once
#include <string>
#include <vector>

#include "glasskernel/irqflags.h"
#include "glasskernel/kernel.h"
#include "glasskernel/preempt.h"
#include "glasskernel/smp.h"
#include "glasskernel/timekeeping.h"
#include "glasskernel/uaccess.h"

namespace gk {

inline task_struct* get_current() { return this_kernel ? this_kernel->running : nullptr; }
#define current (::gk::get_current())

// kernel/sched/core.cpp
void schedule();
void __schedule(bool preempt);
void schedule_idle();
void sched_fork(task_struct* p, task_struct* parent);
void wake_up_new_task(task_struct* p);
int try_to_wake_up(task_struct* p, unsigned state, int wake_flags);
int wake_up_process(task_struct* p);
int wake_up_state(task_struct* p, unsigned state);
void set_current_state(unsigned state);
void __set_current_state(unsigned state);
void resched_curr(rq* rq);
void set_tsk_need_resched(task_struct* t);
inline bool need_resched_task(const task_struct* t) { return t->thread_info.flags & TIF_NEED_RESCHED; }
void scheduler_tick();
void do_set_cpus_allowed(task_struct* p, u64 mask);
void activate_task(rq* rq, task_struct* p, int flags);
void deactivate_task(rq* rq, task_struct* p, int flags);
void do_task_dead();
void finish_task_switch(task_struct* prev);
bool is_idle_task(const task_struct* p);
long do_sched_yield();
const char* task_state_to_char(const task_struct* t);
std::string get_wchan(task_struct* p);  // /proc/PID/wchan; "" when running
u64 task_sched_runtime(task_struct* p);
void set_user_nice(task_struct* p, int nice);
// kernel/sched/rt.cpp
unsigned sched_rr_timeslice();
// kernel/sched/fair.cpp
void update_curr_fair(rq* rq);
extern const int sched_prio_to_weight[40];
// kernel/sched/idle.cpp
void do_idle();

// kernel/fork.cpp
struct kernel_clone_args {
    u64 flags = 0;
    int exit_signal = SIGCHLD;
    int (*fn)(void*) = nullptr;  // kernel thread function
    void* fn_arg = nullptr;
    bool user_mode_thread = false;  // a kernel-started task that will exec into user mode
};
long kernel_clone(kernel_clone_args* args, task_struct* parent);
task_struct* copy_process(kernel_clone_args* args, task_struct* parent, long* err);
pid_t kernel_thread(int (*fn)(void*), void* arg, const char* name, u64 flags);
void put_task_struct(task_struct* t);
void exit_mm_release(task_struct* tsk, mm_struct* mm);
void exec_mm_release(task_struct* tsk, mm_struct* mm);
void complete_vfork_done(task_struct* tsk);

// kernel/exit.cpp
void do_exit(long code);
void do_group_exit(int exit_code);
void release_task(task_struct* p);
struct wait_opts {
    pid_type wo_type = PIDTYPE_MAX;
    int wo_flags = 0;
    struct pid* wo_pid = nullptr;
    kernel_siginfo* wo_info = nullptr;
    int wo_stat = 0;
    struct rusage* wo_rusage = nullptr;
    wait_queue_entry child_wait;
    long notask_error = 0;
};
long do_wait(wait_opts* wo);
task_struct* find_new_reaper(task_struct* father, task_struct* child_reaper);
void __wake_up_parent(task_struct* p, task_struct* parent);
bool is_current_pgrp_orphaned();

// kernel/pid.cpp: see pid.h

// kernel/sys.cpp
bool capable_setid(const task_struct* t);
void getrusage(task_struct* p, int who, struct rusage* r);
u64 task_rlimit(const task_struct* t, int resource);

// kernel/signal.cpp: see signal.h; also
bool do_notify_parent(task_struct* tsk, int sig);
void do_notify_parent_cldstop(task_struct* tsk, int why);

// kernel/kthread.cpp
int kthreadd(void* unused);
task_struct* kthread_create_on_node(int (*threadfn)(void*), void* data, int node, const char* name);
#define NUMA_NO_NODE (-1)
inline task_struct* kthread_create(int (*threadfn)(void*), void* data, const char* name) {
    return kthread_create_on_node(threadfn, data, NUMA_NO_NODE, name);
}
task_struct* kthread_run(int (*threadfn)(void*), void* data, const char* name);
task_struct* kthread_create_from_host(Kernel* k, int (*threadfn)(void*), void* data, const std::string& name);
void kthread_bind(task_struct* p, int cpu);
enum : unsigned long { KTHREAD_SHOULD_STOP = 1 };  // task_struct.kthread_flags
bool kthread_should_stop();
void kthread_stop_request(task_struct* k);
// kernel/printk/printk.cpp
int printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// net/core/net_namespace.cpp
void net_ns_init(Kernel* k);
// mm/percpu.cpp
void setup_per_cpu_areas(Kernel* k);
// arch/x86/lib/delay.cpp: busy-waiting in kernel mode
void __delay(u64 ns);
inline void ndelay(u64 ns) { __delay(ns); }
inline void udelay(u64 us) { __delay(us * NSEC_PER_USEC); }
inline void mdelay(u64 ms) { __delay(ms * NSEC_PER_MSEC); }
// kernel/time/timer.cpp
long schedule_timeout(long timeout);
void msleep(unsigned msecs);
unsigned long msecs_to_jiffies(unsigned msecs);

// kernel/time
void tick_sched_timer_start(int cpu);
void tick_nohz_idle_stop_tick(int cpu);
void tick_nohz_restart(int cpu);
void touch_softlockup_watchdog_sched();
void watchdog_check_softlockup();
hrtimer_restart tick_sched_timer(hrtimer* timer);
long hrtimer_nanosleep(u64 ns);

// kernel/entry/common.cpp
void ret_from_fork_body();
// arch/x86/kernel/signal.cpp
void arch_do_signal_or_restart(pt_regs* regs);
// arch/x86/kernel/apic/apic.cpp
void sysvec_apic_timer_interrupt();

// arch/x86/entry/entry_64.cpp
long entry_SYSCALL_64(const syscall_regs& regs);
// arch/x86/entry/syscall_64.cpp
void do_syscall_64(pt_regs* regs, long nr);
const char* syscall_name(long nr);

// fs/coredump.cpp
void do_coredump(const kernel_siginfo* siginfo);

// fs/exec.cpp
long kernel_execve(const std::string& filename, const std::vector<std::string>& argv,
                   const std::vector<std::string>& envp);

// drivers/tty/console.cpp
std::shared_ptr<file> console_file(Kernel* k, unsigned flags, int stream = 1);

// include/linux/sched/signal.h: whether a signal ends a sleep in `state`.
inline bool signal_pending_state(unsigned state, task_struct* p) {
    if (!(state & (TASK_INTERRUPTIBLE | TASK_WAKEKILL))) return false;
    if (!signal_pending(p)) return false;
    return (state & TASK_INTERRUPTIBLE) || fatal_signal_pending(p);
}

// kernel/sched/wait.cpp: on the queue and in `state`, or -ERESTARTSYS (and off the queue) when a
// signal is already pending.
long prepare_to_wait_event(wait_queue_head* wq_head, wait_queue_entry* wq_entry, unsigned state);

// include/linux/wait.h's ___wait_event for an interruptible exclusive sleep: wait on wq until
// cond() holds; -ERESTARTSYS if a signal comes first. An exclusive waiter is woken one at a time.
template <class Cond>
long wait_event_interruptible_exclusive(wait_queue_head* wq, Cond cond) {
    wait_queue_entry wait;
    init_wait_entry(&wait, WQ_FLAG_EXCLUSIVE);
    for (;;) {
        long intr = prepare_to_wait_event(wq, &wait, TASK_INTERRUPTIBLE);
        if (cond()) break;
        if (intr) return intr;
        schedule();
    }
    finish_wait(wq, &wait);
    return 0;
}

}  // namespace gk
