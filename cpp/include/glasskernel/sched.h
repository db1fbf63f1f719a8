// Models include/linux/sched.h, sched/signal.h, cred.h and kernel/sched/sched.h (v6.1):
// task_struct, signal_struct, cred, struct pid's task lists, sched_entity, sched_class, cfs_rq and
// rq.
#pragma once
#include <boost/context/fiber.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/set.hpp>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/fs.h"
#include "glasskernel/hrtimer.h"
#include "glasskernel/mm_types.h"
#include "glasskernel/pid.h"
#include "glasskernel/ptrace.h"
#include "glasskernel/signal.h"
#include "glasskernel/types.h"
#include "glasskernel/uapi/resource.h"
#include "glasskernel/wait.h"

namespace gk {

class Kernel;
struct rq;
struct completion;

// task_struct.__state
enum : unsigned {
    TASK_RUNNING = 0x0000,
    TASK_INTERRUPTIBLE = 0x0001,
    TASK_UNINTERRUPTIBLE = 0x0002,
    __TASK_STOPPED = 0x0004,
    __TASK_TRACED = 0x0008,
    TASK_PARKED = 0x0040,
    TASK_DEAD = 0x0080,
    TASK_WAKEKILL = 0x0100,
    TASK_NOLOAD = 0x0400,
    TASK_NEW = 0x0800,
    TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE,
    TASK_STOPPED = TASK_WAKEKILL | __TASK_STOPPED,
    TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE,
    TASK_IDLE = TASK_UNINTERRUPTIBLE | TASK_NOLOAD,
};
// task_struct.exit_state
enum : int { EXIT_DEAD = 0x0010, EXIT_ZOMBIE = 0x0020, EXIT_TRACE = EXIT_ZOMBIE | EXIT_DEAD };
// task_struct.flags
enum : unsigned {
    PF_IDLE = 0x00000002,
    PF_EXITING = 0x00000004,
    PF_FORKNOEXEC = 0x00000040,
    PF_SUPERPRIV = 0x00000100,
    PF_SIGNALED = 0x00000400,
    PF_KTHREAD = 0x00200000,
    PF_NO_SETAFFINITY = 0x04000000,
};
// thread_info.flags
enum : unsigned { TIF_SIGPENDING = 1u << 2, TIF_NEED_RESCHED = 1u << 3, TIF_RESTORE_SIGMASK = 1u << 4 };
// signal_struct.flags
enum : unsigned {
    SIGNAL_STOP_STOPPED = 0x00000001,    // the job control stop is in effect
    SIGNAL_STOP_CONTINUED = 0x00000002,  // SIGCONT since WCONTINUED was reported
    SIGNAL_GROUP_EXIT = 0x00000004,
    SIGNAL_CLD_STOPPED = 0x00000010,     // the parent is yet to be told: stopped ...
    SIGNAL_CLD_CONTINUED = 0x00000020,   // ... or continued
    SIGNAL_CLD_MASK = SIGNAL_CLD_STOPPED | SIGNAL_CLD_CONTINUED,
    SIGNAL_UNKILLABLE = 0x00000040,
};
// scheduling policies
enum : unsigned { SCHED_NORMAL = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6 };
constexpr int MAX_RT_PRIO = 100;
constexpr int DEFAULT_PRIO = MAX_RT_PRIO + 20;  // nice 0
constexpr int MIN_NICE = -20, MAX_NICE = 19;
constexpr unsigned long NICE_0_LOAD = 1024;

struct thread_info {
    unsigned flags = 0;
    int preempt_count = 0;
};

struct cred {
    uid_t uid = 0, euid = 0, suid = 0, fsuid = 0;
    uid_t gid = 0, egid = 0, sgid = 0, fsgid = 0;
};

struct load_weight {
    unsigned long weight = NICE_0_LOAD;
    u32 inv_weight = 0;
};

using rb_hook = boost::intrusive::set_member_hook<>;

struct sched_entity {
    load_weight load;
    rb_hook run_node;  // position in cfs_rq.tasks_timeline, keyed by vruntime
    bool on_rq = false;
    u64 exec_start = 0;
    u64 sum_exec_runtime = 0;
    u64 prev_sum_exec_runtime = 0;
    u64 vruntime = 0;
    u64 nr_migrations = 0;
    u64 enqueue_seq = 0;
    struct task_struct* task = nullptr;  // container_of(se, struct task_struct, se)  // breaks vruntime ties in enqueue order, so the tree order is deterministic
};

// The engine's side of a task: its kernel stack (a fiber) and where it is suspended.
enum class kstate : u8 {
    NEW,     // created, not yet run: will start in ret_from_fork
    KERNEL,  // suspended in kernel mode (context_switch or a breakpoint)
    USER,    // in user mode: the host runs its program
    DEAD,    // its fiber has ended
};
enum class kentry : u8 { NONE, SYSCALL, IRQ, CRASH, KILL };

struct thread_struct {
    boost::context::fiber fiber;  // this task's kernel stack, suspended
    boost::context::fiber host;   // the host's continuation while this task runs in kernel mode
    kstate where = kstate::NEW;
    kentry entry = kentry::NONE;  // why the host entered the kernel for this task
    syscall_regs regs;            // the pending system call
    pt_regs pt;                   // task_pt_regs(): user mode's registers, saved at entry
    bool irq_from_user = false;   // entered from user mode by an interrupt not yet taken
    long ax = 0;                  // the return value for user mode
    std::unique_ptr<user_image> image;  // the program exec loaded, run by the host in user mode
    u64 compute_left = 0;         // user-mode CPU time still to burn
    std::vector<const char*> kstack;  // open trace scopes: this task's kernel call chain
    std::vector<rt_sigframe> sigframes;  // signal frames, innermost last
    u64 next_frame_id = 1;
    bool in_syscall = false;          // the kernel was entered by a system call (vs. an interrupt)
    unsigned long* stack_end = nullptr;   // STACK_END_MAGIC lives here
    const void* stack_bottom = nullptr;   // for AddressSanitizer's fiber-switch annotations
    size_t stack_size = 0;
    // Destructors now on this stack that run kernel code (~file's release): an exception may not
    // pass through them, so teardown abandons such a stack instead of unwinding it.
    int in_destructor = 0;
    int (*kthread_fn)(void*) = nullptr;
    void* kthread_data = nullptr;
};

struct signal_struct;

// What restart_syscall() continues after an interrupted sleep (-ERESTART_RESTARTBLOCK).
struct restart_block {
    long (*fn)(restart_block*) = nullptr;
    u64 expires = 0;  // nanosleep: the absolute wake-up time
    void* rmtp = nullptr;  // nanosleep: where user memory wants the time left (__user)
    void* ufds = nullptr;  // poll: the caller's struct pollfd array (__user), nfds of them
    unsigned nfds = 0;
    bool has_timeout = false;  // poll: whether `expires` is its end time
};

namespace bi = boost::intrusive;
struct sibling_tag;
struct tasks_tag;
struct run_list_tag;
template <int T> struct pid_link_tag;
using sibling_hook = bi::list_base_hook<bi::tag<sibling_tag>>;
using tasks_hook = bi::list_base_hook<bi::tag<tasks_tag>>;
using run_list_hook = bi::list_base_hook<bi::tag<run_list_tag>>;
template <int T> using pid_hook = bi::list_base_hook<bi::tag<pid_link_tag<T>>>;

struct task_struct;
using children_list = bi::list<task_struct, bi::base_hook<sibling_hook>>;
template <int T> using pid_task_list = bi::list<task_struct, bi::base_hook<pid_hook<T>>>;

// Intrusive links play list_head: sibling puts a task in its parent's children list, tasks in
// the global task list, pid_hook<type> in the list of tasks using a struct pid in that role.
struct task_struct : sibling_hook, tasks_hook, run_list_hook, pid_hook<PIDTYPE_PID>,
                     pid_hook<PIDTYPE_TGID>, pid_hook<PIDTYPE_PGID>, pid_hook<PIDTYPE_SID> {
    ::gk::thread_info thread_info;
    unsigned __state = TASK_NEW;
    unsigned flags = 0;
    int on_cpu = 0;
    int cpu = 0;
    int on_rq = 0;
    int prio = DEFAULT_PRIO, static_prio = DEFAULT_PRIO, normal_prio = DEFAULT_PRIO;
    unsigned rt_priority = 0;
    unsigned policy = SCHED_NORMAL;
    const struct sched_class* sched_class = nullptr;
    sched_entity se;
    unsigned rt_time_slice = 0;  // SCHED_RR: ticks left in its slice
    u64 cpus_mask = ~0ULL;       // the CPUs it may run on (sched_setaffinity)
    bool migrate_pending = false;
    bool sched_reset_on_fork = false;

    int exit_state = 0;
    int exit_code = 0;
    int exit_signal = 0;
    int pdeath_signal = 0;
    pid_t pid = 0;
    pid_t tgid = 0;

    task_struct* real_parent = nullptr;  // who forked us (or the reaper after reparenting)
    task_struct* parent = nullptr;       // who gets SIGCHLD and wait4 (differs only under ptrace)
    children_list children;
    task_struct* group_leader = this;
    struct pid* thread_pid = nullptr;

    u64 nvcsw = 0, nivcsw = 0;
    u64 utime = 0, stime = 0;
    u64 start_time = 0;
    std::shared_ptr<cred> real_cred;

    std::string comm;
    std::vector<std::string> argv;

    std::shared_ptr<signal_struct> signal;
    std::shared_ptr<sighand_struct> sighand;
    sigset_t blocked, real_blocked, saved_sigmask;
    sigpending pending;

    std::shared_ptr<files_struct> files;
    std::shared_ptr<mm_struct> mm;
    completion* vfork_done = nullptr;
    ::gk::restart_block restart_block;

    thread_struct thread;
    Kernel* kernel = nullptr;
    // The kernel's own reference (the task list's); dropped by release_task so that only
    // Python views keep a reaped task alive.
    std::shared_ptr<task_struct> self;
    bool reaped = false;
    std::string crash_report;  // why a crashing program died: its traceback (simulator only)
    unsigned long kthread_flags = 0;  // struct kthread's flags: KTHREAD_SHOULD_STOP
};

using task_list_t = bi::list<task_struct, bi::base_hook<tasks_hook>>;
using run_list_t = bi::list<task_struct, bi::base_hook<run_list_hook>>;

// The tasks that use one pid number, per role. A pid number stays allocated while any task
// uses it in any role (a process group id outlives its leader while members remain), which is
// why pid reuse can never hit a live group.
struct pid {
    int nr = 0;
    pid_task_list<PIDTYPE_PID> tasks_pid;
    pid_task_list<PIDTYPE_TGID> tasks_tgid;
    pid_task_list<PIDTYPE_PGID> tasks_pgid;
    pid_task_list<PIDTYPE_SID> tasks_sid;
    bool unused() const { return tasks_pid.empty() && tasks_tgid.empty() && tasks_pgid.empty() && tasks_sid.empty(); }
};
inline int pid_nr(const pid* p) { return p ? p->nr : 0; }

// An interval timer: ITIMER_REAL counts virtual wall time on an hrtimer; ITIMER_VIRTUAL and
// ITIMER_PROF count the process's user (and system) CPU time, checked at each tick.
struct cpu_itimer {
    u64 expires = 0;  // 0: disarmed; else the CPU time (ns) at which it fires
    u64 incr = 0;
};

struct signal_struct {
    int nr_threads = 1;
    int live = 1;
    wait_queue_head wait_chldexit{"signal.wait_chldexit"};  // wait4() sleeps here
    sigpending shared_pending;
    int group_exit_code = 0;
    unsigned flags = 0;
    struct pid* pids[PIDTYPE_MAX] = {};
    bool is_child_subreaper = false;
    bool has_child_subreaper = false;
    u64 cutime = 0, cstime = 0;  // CPU time of reaped children
    u64 cnvcsw = 0, cnivcsw = 0;
    rlimit rlim[RLIM_NLIMITS];
    int leader = 0;  // session leader
    hrtimer real_timer;  // ITIMER_REAL
    u64 it_real_incr = 0;
    cpu_itimer it[2];    // ITIMER_PROF (0) and ITIMER_VIRTUAL (1), as Linux's CPUCLOCK order
    task_struct* leader_task = nullptr;
};

// A scheduling class: the operations core.c calls, in v6.1's member order (the ones the model
// needs). pick_next_task walks the classes in Linux's order: stop, rt, fair, idle. This model
// has rt, fair and idle (the stop class only matters for CPU hotplug and migration threads).
// Linux orders the classes by their place in the kernel image (DEFINE_SCHED_CLASS puts each in
// its own linker section); the model links them with `next`. `name` is the model's, for views.
struct sched_class {
    const char* name;
    const sched_class* next;
    void (*enqueue_task)(rq* rq, task_struct* p, int flags);
    void (*dequeue_task)(rq* rq, task_struct* p, int flags);
    void (*yield_task)(rq* rq);
    void (*check_preempt_curr)(rq* rq, task_struct* p, int flags);
    task_struct* (*pick_next_task)(rq* rq);
    void (*put_prev_task)(rq* rq, task_struct* p);
    void (*set_next_task)(rq* rq, task_struct* p, bool first);
    void (*migrate_task_rq)(task_struct* p, int new_cpu) = nullptr;  // optional
    void (*task_tick)(rq* rq, task_struct* p, int queued);
    void (*task_fork)(task_struct* p) = nullptr;                     // optional
    void (*update_curr)(rq* rq);
};
#define DEFINE_SCHED_CLASS(name) const sched_class name##_sched_class
extern const sched_class rt_sched_class;
extern const sched_class fair_sched_class;
extern const sched_class idle_sched_class;

struct se_less {
    bool operator()(const sched_entity& a, const sched_entity& b) const {
        if (a.vruntime != b.vruntime) return static_cast<s64>(a.vruntime - b.vruntime) < 0;
        return a.enqueue_seq < b.enqueue_seq;
    }
};
using cfs_timeline = boost::intrusive::multiset<
    sched_entity, boost::intrusive::member_hook<sched_entity, rb_hook, &sched_entity::run_node>,
    boost::intrusive::compare<se_less>>;

struct cfs_rq {
    load_weight load{0, 0};
    unsigned nr_running = 0;
    u64 min_vruntime = 0;
    cfs_timeline tasks_timeline;
    sched_entity* curr = nullptr;
    sched_entity* skip = nullptr;  // the skip buddy set by sched_yield()
    u64 seq = 0;
};

// The real-time run queue: one FIFO list per priority and a bitmap of the non-empty ones, so
// picking the highest priority is a find-first-bit (the O(1) scheduler's idea, kept by rt.c).
constexpr int RR_TIMESLICE_MS = 100;
struct rt_rq {
    run_list_t queue[MAX_RT_PRIO];
    u64 bitmap[2] = {0, 0};
    unsigned rt_nr_running = 0;
    ~rt_rq() {
        for (auto& q : queue) q.clear();
    }
};

struct rq {
    int cpu = 0;
    unsigned nr_running = 0;
    u64 nr_switches = 0;
    u64 clock = 0;  // this CPU's virtual clock, ns
    task_struct* curr = nullptr;
    task_struct* idle = nullptr;
    cfs_rq cfs;
    rt_rq rt;
    u64 idle_time = 0;
    bool idle_waiting = false;  // the idle task sits in its cpuidle point (simulator)
};

inline int task_nice(const task_struct* p) { return p->static_prio - DEFAULT_PRIO; }
inline int task_cpu(const task_struct* p) { return p->cpu; }

// include/linux/sched/signal.h: TIF_SIGPENDING, and an interruptible sleeper woken to notice it;
// a fatal signal wakes TASK_KILLABLE sleepers too.
inline void signal_wake_up(task_struct* t, bool fatal) { signal_wake_up_state(t, fatal ? static_cast<unsigned>(TASK_WAKEKILL) : 0u); }

// Enqueue/dequeue flags.
enum : int { ENQUEUE_WAKEUP = 0x01, ENQUEUE_INITIAL = 0x80, DEQUEUE_SLEEP = 0x01 };
enum : int { WF_FORK = 0x04, WF_TTWU = 0x08 };

}  // namespace gk
