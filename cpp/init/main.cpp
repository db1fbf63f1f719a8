// Models init/main.c (v6.1): start_kernel's per-CPU idle tasks, rest_init creating init (pid 1) and
// kthreadd (pid 2), kernel_init opening the console and exec'ing /sbin/init; plus the simulator's
// Kernel object around them (construction, spawn, teardown).
#include <stdexcept>

#include "engine/errors.h"
#include "engine/host_callback.h"
#include "engine/stack_cache.h"
#include "glasskernel/builtin.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

void* new_kthreadd_state();
void init_irq_descs(Kernel* k);
void init_signal_timers(signal_struct* sig, task_struct* leader);
void free_kthreadd_state(void* p);

static completion* kthreadd_done_of(Kernel* k);

struct boot_state {
    completion kthreadd_done;
};

// init_task's resource limits (INIT_RLIMITS); NPROC and SIGPENDING are max_threads / 2.
static void init_rlimits(signal_struct* sig) {
    const u64 inf = RLIM_INFINITY;
    const u64 nproc = 63461;
    rlimit defaults[RLIM_NLIMITS] = {
        {inf, inf}, {inf, inf}, {inf, inf}, {8ULL << 20, inf}, {0, inf}, {inf, inf}, {nproc, nproc}, {1024, 4096},
        {8ULL << 20, 8ULL << 20}, {inf, inf}, {inf, inf}, {nproc, nproc}, {819200, 819200}, {0, 0}, {0, 0}, {inf, inf},
    };
    for (int i = 0; i < RLIM_NLIMITS; i++) sig->rlim[i] = defaults[i];
}

// Linux opens /dev/console once and dups it to fds 0, 1 and 2. Here fd 2 is an open of its own
// (what `2>/dev/console` would make), so the console can keep stderr apart from stdout; fds 0
// and 1 still share one open file description, and dup2(1, 2) still sends stderr to stdout.
static void console_on_rootfs() {
    trace_scope ts("console_on_rootfs");
    task_struct* t = current;
    auto f = console_file(this_kernel, O_RDWR, 1);
    auto err = console_file(this_kernel, O_RDWR, 2);
    t->files->fdt.clear();
    for (int fd = 0; fd < 3; fd++) fd_install_lowest(t->files.get(), fd < 2 ? f : err, false, 1024);
}

static int run_ksoftirqd(void* arg) {
    // smpboot_thread_fn for ksoftirqd/N: runs its CPU's softirqs when irq_exit handed them over.
    Kernel* k = this_kernel;
    int cpu = static_cast<int>(reinterpret_cast<intptr_t>(arg));
    for (;;) {
        set_current_state(TASK_INTERRUPTIBLE);
        if (!k->softirq_pending[cpu]) schedule();
        __set_current_state(TASK_RUNNING);
        trace_scope ts("run_ksoftirqd");
        local_irq_disable();
        if (k->softirq_pending[cpu]) __do_softirq();
        local_irq_enable();
        cond_resched();
    }
    return 0;
}

static void spawn_ksoftirqd() {
    trace_scope ts("spawn_ksoftirqd");
    Kernel* k = this_kernel;
    int cpu;
    for_each_possible_cpu(cpu) {
        std::string* name = new std::string("ksoftirqd/" + std::to_string(cpu));
        k->boot_names.emplace_back(name);
        task_struct* t = kthread_create(run_ksoftirqd, reinterpret_cast<void*>(static_cast<intptr_t>(cpu)), name->c_str());
        if (!t) continue;
        t->cpu = cpu;  // kthread_bind
        t->cpus_mask = 1ULL << cpu;
        k->ksoftirqd[cpu] = t;
        wake_up_process(t);
    }
}

static int kernel_init(void*) {
    Kernel* k = this_kernel;
    wait_for_completion(kthreadd_done_of(k));
    current->comm = "init";
    console_on_rootfs();
    spawn_ksoftirqd();
    workqueue_init(k);
    current->signal->flags |= SIGNAL_UNKILLABLE;
    if (kernel_execve("/sbin/init", {"/sbin/init"}, {"HOME=/", "TERM=linux"}) == 0) return 0;
    k->panic("No working init found.");
    return -1;
}

static pid_t user_mode_thread(int (*fn)(void*), void* arg, u64 flags) {
    kernel_clone_args args;
    args.flags = (flags & ~CSIGNAL) | CLONE_VM | CLONE_UNTRACED;
    args.exit_signal = static_cast<int>(flags & CSIGNAL);
    args.fn = fn;
    args.fn_arg = arg;
    args.user_mode_thread = true;
    return static_cast<pid_t>(kernel_clone(&args, current));
}

static void rest_init() {
    trace_scope ts("rest_init");
    Kernel* k = this_kernel;
    pid_t pid = user_mode_thread(kernel_init, nullptr, CLONE_FS);
    k->child_reaper = find_task_by_vpid(pid);
    pid = kernel_thread(kthreadd, new_kthreadd_state(), "kthreadd", CLONE_FS | CLONE_FILES);
    k->kthreadd_task = find_task_by_vpid(pid);
    complete(kthreadd_done_of(k));
}

static int idle_entry(void* arg) {
    if (arg) rest_init();  // the boot CPU's idle task is where start_kernel ran
    do_idle();
    return 0;
}

static completion* kthreadd_done_of(Kernel* k) { return &k->boot->kthreadd_done; }

Kernel::Kernel(const kernel_config& c) : cfg(c) {
    if (cfg.cpus < 1 || cfg.cpus > 64) throw std::invalid_argument("cpus must be between 1 and 64");
    if (cfg.hz < 10 || cfg.hz > 10000) throw std::invalid_argument("hz must be between 10 and 10000");
    if (cfg.pid_max < 16 || cfg.pid_max > 4194304) throw std::invalid_argument("pid_max must be between 16 and 4194304 (PID_MAX_LIMIT)");
    if (cfg.stack_size < 8192 || cfg.stack_size > (1u << 24)) throw std::invalid_argument("stack_size must be between 8 KiB and 16 MiB");
#if defined(__SANITIZE_ADDRESS__)
    // Like KASAN's KASAN_STACK_ORDER, which doubles THREAD_SIZE: redzones make frames larger.
    cfg.stack_size *= 4;
#endif
    stacks = std::make_unique<stack_cache>(cfg.stack_size, cfg.guard_pages);
    boot = std::make_unique<boot_state>();
    host = std::make_unique<host_objects>();
    setup_per_cpu_areas(this);
    for (int i = 0; i < cfg.cpus; i++) {
        per_cpu(runqueues, i).cpu = i;
        per_cpu(cpu_worker_pools, i).cpu = i;
        hrtimer_init(&per_cpu(tick_timers, i), tick_sched_timer, "tick_sched_timer");
    }
    init_pid_ns.pid_max = cfg.pid_max;
    init_irq_descs(this);
    softirq_init(this);
    init_timers(this);
    net_ns_init(this);
    rng ^= cfg.seed * 0xBF58476D1CE4E5B9ULL;
    if (!rng) rng = 1;
    trace.enabled = cfg.trace;
    register_builtin_programs(this);
    start_kernel();
}

// The idle tasks (pid 0, swapper/N) are built by hand, as init_task is static in Linux.
void Kernel::start_kernel() {
    std::unique_ptr<kernel_context> ctx = std::make_unique<kernel_context>(this);
    auto root = std::make_shared<cred>();
    auto sig = std::make_shared<signal_struct>();
    init_rlimits(sig.get());
    auto sighand = std::make_shared<sighand_struct>();
    auto files = std::make_shared<files_struct>();
    init_signal_timers(sig.get(), nullptr);
    init_struct_pid = std::make_unique<pid>();
    for (int type = PIDTYPE_TGID; type < PIDTYPE_MAX; type++) sig->pids[type] = init_struct_pid.get();
    for (int cpu = 0; cpu < cfg.cpus; cpu++) {
        auto t = std::make_shared<task_struct>();
        t->kernel = this;
        t->self = t;
        t->comm = "swapper/" + std::to_string(cpu);
        t->flags = PF_IDLE | PF_KTHREAD;
        t->__state = TASK_RUNNING;
        t->cpu = cpu;
        t->on_cpu = 1;
        t->sched_class = &idle_sched_class;
        t->prio = t->static_prio = t->normal_prio = MAX_RT_PRIO + 40;
        t->se.task = t.get();
        t->real_cred = root;
        t->signal = sig;
        t->sighand = sighand;
        t->files = files;
        t->thread_pid = init_struct_pid.get();
        t->thread.kthread_fn = idle_entry;
        t->thread.kthread_data = cpu == 0 ? this : nullptr;
        if (!new_task_fiber(t.get())) throw std::bad_alloc();  // no machine without its idle tasks
        per_cpu(runqueues, cpu).idle = t.get();
        per_cpu(runqueues, cpu).curr = t.get();
        idle_tasks.push_back(t);
    }
    init_task = idle_tasks[0].get();
    init_struct_pid->tasks_pid.push_back(*init_task);
    init_struct_pid->tasks_tgid.push_back(*init_task);
    init_struct_pid->tasks_pgid.push_back(*init_task);
    init_struct_pid->tasks_sid.push_back(*init_task);
    ctx.reset();
    run(KTIME_MAX, nullptr);  // boot until init sleeps and everything is quiet
    booted = true;
    if (panicked) throw kernel_panic("Kernel panic during boot - not syncing: " + panic_msg);
}

void Kernel::register_program(program p) {
    if (p.path.empty() || p.path[0] != '/') throw std::invalid_argument("a program path must be absolute, like /bin/demo");
    programs[p.path] = std::move(p);
}

void throw_if_panicked(const Kernel& k) {
    if (!k.panicked) return;
    if (k.panic_oom) throw kernel_oom_panic("Kernel panic - not syncing: " + k.panic_msg);
    throw kernel_panic("Kernel panic - not syncing: " + k.panic_msg);
}

void Kernel::panic(const std::string& msg) {
    panicked = true;
    try {
        panic_msg = msg;
    } catch (const std::bad_alloc&) {
        panic_msg.clear();  // the panic itself may be for want of memory
    }
    trace_point("panic", "%s", msg.c_str());
    // Like Linux, a panicked machine stops: this CPU never leaves panic().
    if (running)
        for (;;) switch_to_host(host_act::BREAK);
}

struct umh_info {
    std::string path;
    std::vector<std::string> argv, envp;
};

// The child side of spawn: a user-mode thread that execs the program, as
// call_usermodehelper_exec_async does.
static int call_usermodehelper_exec_async(void* arg) {
    std::unique_ptr<umh_info> info(static_cast<umh_info*>(arg));
    trace_scope ts("call_usermodehelper_exec_async");
    return static_cast<int>(ts.ret(kernel_execve(info->path, info->argv, info->envp)));
}

std::shared_ptr<task_struct> Kernel::spawn(const std::string& path, const std::vector<std::string>& argv,
                                           const std::vector<std::string>& envp, long* err) {
    *err = 0;
    if (panicked) { *err = -EIO; return nullptr; }
    if (stop.stopped) { *err = -EBUSY; return nullptr; }
    if (!programs.count(path)) { *err = -ENOENT; return nullptr; }
    kernel_context ctx(this);
    this_cpu = child_reaper->cpu;
    kernel_clone_args args;
    args.exit_signal = SIGCHLD;
    args.fn = call_usermodehelper_exec_async;
    args.fn_arg = new umh_info{path, argv.empty() ? std::vector<std::string>{path} : argv, envp};
    args.user_mode_thread = true;
    long nr = kernel_clone(&args, child_reaper);
    if (nr < 0) {
        delete static_cast<umh_info*>(args.fn_arg);
        *err = nr;
        return nullptr;
    }
    task_struct* t = find_task_by_vpid_in(this, static_cast<int>(nr));
    return t ? t->self : nullptr;
}

task_struct* find_task_by_vpid_in(Kernel* k, int nr) {
    return pid_task(find_pid_ns(&k->init_pid_ns, nr), PIDTYPE_PID);
}

std::vector<std::shared_ptr<task_struct>> Kernel::task_snapshot() {
    std::vector<std::shared_ptr<task_struct>> v;
    for (auto& t : tasks) v.push_back(t.self);
    return v;
}

Kernel::~Kernel() {
    kernel_context ctx(this);
    tearing_down = true;
    std::vector<std::shared_ptr<task_struct>> all = task_snapshot();
    for (auto& t : idle_tasks) all.push_back(t);
    // A task that released itself is on no list, but its fiber may still be suspended (stopped
    // on its way to its last schedule()): it is unwound with the others, while the stack cache
    // still exists, however long a stop or a Python view keeps the task_struct.
    if (dead_task) all.push_back(dead_task);
    // Unwinding a suspended fiber runs the destructors on its stack (Boost's forced_unwind);
    // trace scopes and wait entries clean up after themselves.
    // Timers may live on the stacks about to be unwound (a sleeper's hrtimer_sleeper): empty the
    // queues first, so that no queued timer is destroyed still linked.
    for (auto& b : hrtimer_bases) b.active.clear();
    for (auto& t : all) destroy_task_fiber(t.get());
    // Open sockets close while the network they belong to still exists.
    for (auto& t : all) t->files.reset();
    // Empty every intrusive container before the tasks in it are freed.
    for (rq& r : runqueues) {
        r.cfs.tasks_timeline.clear();
        r.cfs.curr = nullptr;
        // The real-time lists too: a task kept alive by a stop or a Python view outlives this
        // destructor's body, and must not be freed still linked into a run queue.
        for (auto& q : r.rt.queue) q.clear();
    }
    for (auto& b : hrtimer_bases) b.active.clear();
    for (auto& w : host->works) w->dwork.timer.cpu = -1;
    for (timer_base& b : timer_bases)
        for (auto& v : b.vectors) v.clear();
    for (auto& t : all) {
        t->children.clear();
        t->mm.reset();
        if (t->thread.image) deferred_images.push_back(std::move(t->thread.image));
        t->self.reset();
    }
    tasks.clear();
    std::vector<pid*> pids{init_struct_pid.get()};
    for (auto& [nr, p] : init_pid_ns.idr) pids.push_back(p);
    for (pid* p : pids) {
        p->tasks_pid.clear();
        p->tasks_tgid.clear();
        p->tasks_pgid.clear();
        p->tasks_sid.clear();
    }
    for (auto& b : hrtimer_bases) b.active.clear();
    if (kthreadd_task) free_kthreadd_state(kthreadd_task->thread.kthread_data);
    deferred_images.clear();
    dead_task.reset();
    stop.task.reset();
    idle_tasks.clear();
}

}  // namespace gk
