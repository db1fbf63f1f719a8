// The simulator's machine: CPUs with virtual clocks, the task list, the pid namespace, the program
// "filesystem", the console, the trace buffer, and the engine that runs fibers and user programs.
#pragma once
#include <exception>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "glasskernel/hrtimer.h"
#include "glasskernel/interrupt.h"
#include "glasskernel/net/netdevice.h"
#include "glasskernel/percpu.h"
#include "glasskernel/preempt.h"
#include "glasskernel/timer.h"
#include "glasskernel/workqueue.h"
#include "glasskernel/sched.h"
#include "glasskernel/trace.h"

namespace gk {

struct kernel_config {
    int cpus = 1;
    u64 seed = 0;
    int hz = 250;
    preempt_model preempt = PREEMPT_VOLUNTARY;  // live: sched_dynamic_update() changes it
    int pid_max = 32768;
    size_t stack_size = 16384;  // THREAD_SIZE
    bool guard_pages = true;    // a PROT_NONE page below each kernel stack
    bool trace = true;
};

// Modeled cost, in virtual nanoseconds, of kernel work. Tunable; documented in the README.
struct cost_table {
    u64 syscall = 60;           // entry + exit of any system call
    u64 function = 15;          // each modeled function (trace scope) entered
    u64 context_switch = 700;   // context_switch(): switch_mm + switch_to
    u64 copy_mm = 6000;         // duplicating an address space at fork
    u64 exec = 20000;           // loading a new image at execve
    u64 exit_mm = 2000;         // tearing an address space down at exit
    u64 irq = 200;              // interrupt entry + exit
};

enum class host_act : u8 { NONE, RET_USER, SWITCH, IDLE, BREAK, UPCALL, DEAD, YIELD };
enum class step_mode : u8 { NONE, FUNCTION, SYSCALL, SWITCH, TICK };

// Python (or any host code) that kernel context asks the host to run: a breakpoint's
// predicate, a lesson's own handler. It runs on the host stack; the fiber waits for the result.
struct upcall_fn {
    virtual ~upcall_fn() = default;
    virtual long call(Kernel& k) = 0;
};

struct breakpoint {
    int id = 0;
    std::string func;
    std::shared_ptr<upcall_fn> when;
    u64 hits = 0;
    bool enabled = true;
};

struct stop_info {
    bool stopped = false;
    std::string reason;   // "breakpoint", "step", "until"
    trace_event ev;
    int cpu = 0;
    std::shared_ptr<task_struct> task;
    int breakpoint = 0;
};

struct console_record {
    u64 ts;
    pid_t pid;
    int fd;  // the stream written: 1 (stdout) or 2 (stderr)
    std::string data;
};

// A registered executable: the simulator's filesystem maps a path to a loader that builds a
// fresh user image (a Python coroutine program or a C++ built-in).
struct program {
    std::string path;
    std::string kind;  // "python" or "builtin"
    std::function<std::unique_ptr<user_image>(const std::vector<std::string>& argv,
                                              const std::vector<std::string>& envp)> load;
};

struct run_result {
    bool stopped = false;   // stopped at a breakpoint / step / until
    bool quiescent = false; // nothing runnable and no timer pending
    bool time_limit = false;
};

class stack_cache;
struct boot_state;
struct pipe_inode_info;
struct net;
struct host_objects;

class Kernel {
public:
    explicit Kernel(const kernel_config& cfg = kernel_config());
    ~Kernel();
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    // Members are grouped by what they model; within a group they follow Linux's own global or
    // per-CPU variables. The order matters: per-CPU variables register with percpu_vars, and
    // teardown (~Kernel) empties the lists that link objects of several groups first.

    // ---- configuration ----
    kernel_config cfg;
    cost_table costs;

    // ---- per-CPU areas (mm/percpu.c) and the scheduler (kernel/sched) ----
    std::vector<percpu_var_base*> percpu_vars;  // every DEFINE_PER_CPU, for the views
    DEFINE_PER_CPU(rq, runqueues);
    DEFINE_PER_CPU(hrtimer_cpu_base, hrtimer_bases);
    DEFINE_PER_CPU(hrtimer, tick_timers);   // tick_cpu_sched.sched_timer
    DEFINE_PER_CPU(u64, watchdog_touch_ts);   // the soft-lockup detector (kernel/watchdog.c)
    DEFINE_PER_CPU(u64, watchdog_report_ts);
    u64 jiffies = 0;

    // ---- processes (kernel/pid.c, fork.c, user.c) ----
    pid_namespace init_pid_ns;
    std::unique_ptr<pid> init_struct_pid;  // pid 0: the idle tasks, and the group and session
                                          // that init and kthreadd start in
    task_list_t tasks;              // every task, like init_task.tasks
    task_struct* init_task = nullptr;     // swapper/0, pid 0
    task_struct* child_reaper = nullptr;  // init, pid 1
    task_struct* kthreadd_task = nullptr; // pid 2
    std::map<uid_t, int> user_processes;  // user_struct.processes, per real uid
    std::map<uid_t, long> user_sigpending;  // queued siginfos per user (RLIMIT_SIGPENDING)

    // ---- files (fs/inode.c, fs/pipe.c) ----
    unsigned long last_ino = 10000;  // get_next_ino(): pipefs and sockfs inode numbers
    std::map<unsigned long, pipe_inode_info*> pipes;  // every live pipe by inode number

    // ---- tracing (kernel/trace) ----
    trace_buffer trace;

    // ---- the console (drivers/tty) ----
    // What programs wrote, all streams interleaved, and each write as a record. Both keep the
    // newest output only (CONSOLE_KEEP bytes, CONSOLE_RECORDS writes), so a program printing in a
    // loop cannot exhaust the machine; console_dropped counts the bytes let go.
    static constexpr size_t CONSOLE_KEEP = 1 << 20, CONSOLE_RECORDS = 16384;
    std::string console_out;
    std::deque<console_record> console_log;
    u64 console_dropped = 0;
    std::string console_in;
    bool console_eof = false;
    wait_queue_head console_wait{"console.wait"};

    // ---- the executables exec can load (the simulator's filesystem) ----
    std::map<std::string, program> programs;
    void register_program(program p);

    // ---- the engine: fibers, the run loop, upcalls, stops ----
    task_struct* running = nullptr;  // the task whose fiber is executing; nullptr on the host
    int this_cpu = 0;
    host_act act = host_act::NONE;
    std::shared_ptr<upcall_fn> pending_upcall;
    long upcall_result = 0;
    std::vector<breakpoint> breakpoints;
    int next_breakpoint_id = 1;
    step_mode step = step_mode::NONE;
    bool stop_armed = false;  // any breakpoint or step request is active
    stop_info stop;
    std::vector<std::unique_ptr<user_image>> deferred_images;  // freed on the host stack
    std::shared_ptr<task_struct> dead_task;  // a self-reaped task, kept until its fiber ends
    std::exception_ptr host_error;  // raised by run() once the kernel is consistent again
    bool tearing_down = false;
    bool booted = false;
    u64 host_iterations = 0;
    u64 rng = 0x9E3779B97F4A7C15ULL;  // seeded from cfg.seed; breaks ties between CPUs
    std::unique_ptr<stack_cache> stacks;
    std::function<void()> check_interrupts;  // host hook: Ctrl-C in Python
    std::unique_ptr<boot_state> boot;
    std::vector<std::shared_ptr<task_struct>> idle_tasks;  // swapper/N
    std::vector<std::unique_ptr<std::string>> boot_names;  // kernel threads' names made on the host

    // ---- printk and panic (kernel/printk, kernel/panic.c) ----
    bool panicked = false;
    bool panic_oom = false;  // the panic was the host running out of memory
    std::vector<std::pair<u64, std::string>> log_buf;  // printk records: (time, line)
    std::string panic_msg;
    // User programs killed by a fault of their own (an uncaught exception in a Python program),
    // the newest kept: what show_signal_msg logged, for the host to show. crash_seq counts all.
    struct crash_record {
        u64 seq, ts;
        pid_t pid;
        std::string comm, report;
    };
    std::deque<crash_record> crash_log;
    u64 crash_seq = 0;

    // ---- interrupts and softirqs (kernel/irq, kernel/softirq.c) ----
    DEFINE_PER_CPU(u32, softirq_pending);  // irq_stat.__softirq_pending
    std::vector<irq_desc> irq_descs;
    std::vector<bool> irqs_off;              // per CPU: local_irq_disable() in effect
    std::vector<std::multimap<u64, int>> irq_arrivals;  // per CPU: device interrupts not yet taken
    softirq_action softirq_vec[NR_SOFTIRQS];
    std::vector<std::vector<u64>> kstat_softirqs;  // [softirq][cpu]
    DEFINE_PER_CPU(tasklet_struct*, tasklet_vec);     // list heads
    DEFINE_PER_CPU(tasklet_struct*, tasklet_hi_vec);
    DEFINE_PER_CPU(task_struct*, ksoftirqd);
    DEFINE_PER_CPU(pt_regs*, __irq_regs);  // the interrupted context's registers (get_irq_regs)

    // ---- workqueues and timers (kernel/workqueue.c, kernel/time/timer.c) ----
    DEFINE_PER_CPU(worker_pool, cpu_worker_pools);  // system_wq's pools
    DEFINE_PER_CPU(timer_base, timer_bases);  // the timer wheels

    // ---- networking (net/) ----
    DEFINE_PER_CPU(::gk::softnet_data, softnet_data);  // the network receive and completion queues
    std::unique_ptr<struct net> init_net;       // this machine's network state

    // ---- host code behind kernel objects (a lesson's Python timers, tasklets, work, irq
    // handlers, softirq actions and kernel threads: engine/host_callback.h) ----
    std::unique_ptr<host_objects> host;

    u64 next_event(int cpu) const;
    rq* cpu_rq(int cpu) { return &runqueues[cpu]; }
    rq* this_rq() { return &runqueues[this_cpu]; }
    u64 now() const { return runqueues[this_cpu].clock; }
    inline void charge(u64 ns);

    // Host API.
    std::shared_ptr<task_struct> spawn(const std::string& path, const std::vector<std::string>& argv,
                                       const std::vector<std::string>& envp, long* err);
    run_result run(u64 until_ns, const std::function<bool()>& until);
    void advance_idle_clocks(u64 t);
    void update_stop_armed();
    void panic(const std::string& msg);
    std::vector<std::shared_ptr<task_struct>> task_snapshot();
    std::string check();  // the self-check: "" when every invariant holds
    std::string check_net();
    std::string check_files();

    // Engine internals used by kernel code.
    bool new_task_fiber(task_struct* t);  // false: no memory for a kernel stack
    void destroy_task_fiber(task_struct* t);  // teardown: unwinds a suspended kernel stack
    void switch_to_host(host_act a);  // on a fiber: suspend, let the host act
    long upcall(std::shared_ptr<upcall_fn> fn);
    u64 run_ahead_limit(int cpu);
    u64 next_key();             // when this machine next has something to do (KTIME_MAX: never)
    u64 horizon = KTIME_MAX;    // no CPU runs ahead of this (several machines in lock-step)
    bool lockstep = false;      // run by a network: a frame sent to another machine lowers horizon
    bool in_run = false;          // run() is executing: host code called from it may not run it again
    u64 run_until = KTIME_MAX;    // the running run()'s time bound: kernel code busy past it yields
    bool in_network_run = false;  // a lock-step network run (engine/network.h) owns this machine
    void maybe_stop(const trace_event& ev);

private:
    void start_kernel();
    bool start_task_fiber(task_struct* t);
    void resume(task_struct* t);
    bool run_cpu_once(int cpu);
    int pick_cpu(u64* key);
    u64 cpu_key(int cpu);
    void release_deferred();
};

// Host code may change a machine only between runs: from a program or a callback the kernel is in
// the middle of something (walking the list the change would touch, say), and stopped inside a
// function it is too. Throws std::runtime_error naming `what` and what to do instead.
void refuse_while_running(Kernel& k, const char* what);

// constinit: no dynamic initialisation, so no TLS wrapper call on every access (it is read by
// every trace scope and every `current`). initial-exec: the variable lives in the static TLS
// block, so an access is one load, never a __tls_get_addr call -- which, after Python has
// dlopen()ed another extension module, must grow this thread's TLS vector with malloc and
// aborts the process (glibc: "cannot allocate memory for thread-local data") when that fails.
extern constinit thread_local Kernel* this_kernel __attribute__((tls_model("initial-exec")));

// Kernel work costs modeled time: the task running it is charged system time.
__attribute__((always_inline)) inline void Kernel::charge(u64 ns) {
    task_struct* t = running;
    if (!t) return;  // host context (spawn): costs nobody's time
    runqueues[this_cpu].clock += ns;
    if (!(t->flags & PF_IDLE)) t->stime += ns;
}

__attribute__((always_inline)) inline bool trace_scope::enter_quietly(const char* name) {
    Kernel* k = k_;
    if (!k || k->tearing_down || k->trace.enabled || k->stop_armed) return false;
    k->charge(k->costs.function);
    if (task_struct* t = k->running) {
        std::vector<const char*>& ks = t->thread.kstack;
        if (ks.size() < ks.capacity() || kstack_grow(ks)) {
            ks.push_back(name);  // there is room: cannot throw
            pushed_ = true;
        }
    }
    return true;
}

__attribute__((always_inline)) inline trace_scope::trace_scope(const char* name) : k_(this_kernel), name_(name) {
    if (!enter_quietly(name)) enter(name, std::string());
}

__attribute__((always_inline)) inline trace_scope::~trace_scope() {
    Kernel* k = k_;
    if (!k || k->tearing_down) return;
    task_struct* t = k->running;
    if (pushed_ && t && !t->thread.kstack.empty()) t->thread.kstack.pop_back();
    if (recorded_) exit_recorded();
}

// Host code that calls kernel functions directly (tests, benchmarks) enters the kernel's
// context with this, as the engine does around every fiber it resumes.
class kernel_context {
public:
    explicit kernel_context(Kernel* k);
    ~kernel_context();
    kernel_context(const kernel_context&) = delete;
    kernel_context& operator=(const kernel_context&) = delete;

private:
    Kernel* saved_;
};
task_struct* find_task_by_vpid_in(Kernel* k, int nr);

}  // namespace gk
