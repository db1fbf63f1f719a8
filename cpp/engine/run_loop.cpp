// The simulator's run loop: always advance the CPU with the smallest virtual clock by one step
// (resume its current task's kernel fiber, or run its program in user mode), deliver expired
// timers at points where that CPU takes interrupts, and stop at breakpoints or when quiescent.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "glasskernel/linux.h"

namespace gk {

// A CPU busy in user mode may run ahead of the others by at most this much before it yields,
// so that a wake-up sent from another CPU is noticed close to when it was sent.
static constexpr u64 SYNC_QUANTUM = 10 * NSEC_PER_USEC;

// How far this CPU may run on its own before the others must catch up.
u64 Kernel::next_key() {
    u64 best = KTIME_MAX;
    for (int c = 0; c < cfg.cpus; c++) best = std::min(best, cpu_key(c));
    return best;
}

u64 Kernel::run_ahead_limit(int cpu) {
    // Never past the run's own bound either: a CPU busy in the kernel (a delay loop) must give the
    // run loop its turn there, or k.run(for_ns=...) would wait for the loop to end.
    u64 limit = std::min(horizon, run_until);
    u64 clock = runqueues[cpu].clock;
    for (int c = 0; c < cfg.cpus; c++)
        if (c != cpu) {
            u64 k = cpu_key(c);
            if (k != KTIME_MAX) limit = std::min(limit, std::max(k, clock) + SYNC_QUANTUM);
        }
    return limit;
}

u64 Kernel::cpu_key(int cpu) {
    rq* r = cpu_rq(cpu);
    task_struct* t = r->curr;
    if (t == r->idle && t->thread.where == kstate::KERNEL && r->idle_waiting && !need_resched_task(t))
        return next_event(cpu);
    return r->clock;
}

// The CPU with the smallest clock goes next. CPUs whose clocks are equal are taken in an order
// drawn from the kernel's seed: another seed, another (equally valid) interleaving.
int Kernel::pick_cpu(u64* key) {
    int best = -1;
    u64 best_key = KTIME_MAX;
    int ties = 0;
    for (int c = 0; c < cfg.cpus; c++) {
        u64 k = cpu_key(c);
        if (k < best_key) {
            best_key = k;
            best = c;
            ties = 1;
        } else if (k == best_key && k != KTIME_MAX) {
            ties++;
        }
    }
    if (ties > 1) {
        // xorshift64*: a tiny deterministic generator, advanced only on ties.
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        int pick = static_cast<int>((rng * 2685821657736338717ULL) >> 33) % ties;
        for (int c = 0; c < cfg.cpus; c++)
            if (cpu_key(c) == best_key && pick-- == 0) {
                best = c;
                break;
            }
    }
    *key = best_key;
    return best;
}

// One step on one CPU. Returns false if it could not make progress.
bool Kernel::run_cpu_once(int cpu) {
    rq* r = cpu_rq(cpu);
    this_cpu = cpu;
    task_struct* t = r->curr;

    if (t == r->idle && r->idle_waiting) {
        // NOHZ idle: the clock jumps to the next event; the idle loop takes the interrupt.
        u64 next = next_event(cpu);
        if (!need_resched_task(t) && next != KTIME_MAX && next > r->clock) {
            r->idle_time += next - r->clock;
            r->clock = next;
        }
        r->idle_waiting = false;
        resume(t);
    } else if (t->thread.where == kstate::USER) {
        bool irq = next_event(cpu) <= r->clock;
        if (irq || (t->thread_info.flags & (TIF_NEED_RESCHED | TIF_SIGPENDING))) {
            // An interrupt (or a reschedule IPI) taken from user mode.
            t->thread.entry = kentry::IRQ;
            resume(t);
        } else if (t->thread.compute_left) {
            u64 limit = std::min(next_event(cpu), run_ahead_limit(cpu));
            u64 slice = t->thread.compute_left;
            if (limit != KTIME_MAX && limit > r->clock) slice = std::min(slice, limit - r->clock);
            r->clock += slice;
            t->utime += slice;
            t->thread.compute_left -= slice;
        } else {
            user_step st = t->thread.image->run_user(t, &t->thread.regs);
            switch (st.why) {
            case user_exit::SYSCALL:
                t->thread.entry = kentry::SYSCALL;
                resume(t);
                break;
            case user_exit::COMPUTE:
                t->thread.compute_left = st.ns;
                t->thread.ax = 0;
                break;
            case user_exit::CRASH:
                t->crash_report = t->thread.image->crash_report;
                t->thread.entry = kentry::CRASH;
                resume(t);
                break;
            case user_exit::KILLED:
                t->crash_report = t->thread.image->crash_report;
                t->thread.entry = kentry::KILL;
                resume(t);
                break;
            }
        }
    } else if (t->thread.where == kstate::DEAD) {
        return false;  // cannot happen: a dead task is never rq->curr
    } else {
        resume(t);
    }

    switch (act) {
    case host_act::RET_USER:
        r->curr->thread.where = kstate::USER;
        break;
    case host_act::IDLE:
        r->idle_waiting = true;
        break;
    default:
        break;
    }
    return true;
}

void refuse_while_running(Kernel& k, const char* what) {
    if (k.in_run || k.in_network_run || k.running)
        throw std::runtime_error(std::string(what) + " cannot be called while the kernel runs (from a program or a callback); "
                                 "do it after k.run() returns");
    if (k.stop.stopped)
        throw std::runtime_error(std::string(what) + ": the kernel is stopped inside " + k.stop.ev.name +
                                 "; call k.run() or k.step() to let it reach a safe point first");
}

// A run bounded in time ends at its bound: every CPU with nothing to do before it has been idle
// until then, so its clock reads the bound (k.now moves on even on a quiet machine).
void Kernel::advance_idle_clocks(u64 t) {
    for (rq& r : runqueues)
        if (r.clock < t) r.clock = t;
}

run_result Kernel::run(u64 until_ns, const std::function<bool()>& until) {
    // A program or callback runs on the host stack inside this loop; running the loop again from
    // there would resume fibers that are already running.
    if (in_run)
        throw std::runtime_error("this kernel is already running (called from a program or callback inside k.run()); "
                                 "return from it instead");
    if (in_network_run && !lockstep)
        throw std::runtime_error("this machine is running as part of its Network (net.run()); return from the program or "
                                 "callback instead");
    in_run = true;
    run_until = until_ns;
    struct clear_in_run {
        Kernel* k;
        ~clear_in_run() {
            k->in_run = false;
            k->run_until = KTIME_MAX;
        }
    } clear{this};
    kernel_context ctx(this);
    run_result res;
    if (panicked) return res;
    if (stop.stopped) {
        // Continue the fiber that stopped. The stop holds its task, even one that has reaped
        // itself and is already unhashed (at its last sched_switch, say).
        std::shared_ptr<task_struct> t = stop.task;
        stop.stopped = false;
        stop.task.reset();
        if (!t) throw std::logic_error("glasskernel: a stop without its task cannot be resumed (engine bug)");
        int cpu = t->cpu;
        this_cpu = cpu;
        resume(t.get());
        rq* r = cpu_rq(cpu);
        if (act == host_act::RET_USER) r->curr->thread.where = kstate::USER;
        if (act == host_act::IDLE) r->idle_waiting = true;
    }
    for (;;) {
        if (host_error) {
            std::exception_ptr e = host_error;
            host_error = nullptr;
            std::rethrow_exception(e);
        }
        if (act == host_act::BREAK || stop.stopped) {
            act = host_act::NONE;
            res.stopped = true;
            return res;
        }
        if (panicked) return res;
        if (until && until()) {
            res.stopped = true;
            return res;
        }
        u64 key;
        int cpu = pick_cpu(&key);
        if (cpu < 0) {
            res.quiescent = true;
            if (until_ns != KTIME_MAX && !lockstep) advance_idle_clocks(until_ns);
            return res;
        }
        if ((until_ns != KTIME_MAX && key >= until_ns) || key > horizon) {
            res.time_limit = true;
            if (until_ns != KTIME_MAX && key >= until_ns && !lockstep) advance_idle_clocks(until_ns);
            return res;
        }
        run_cpu_once(cpu);
        if ((++host_iterations & 1023) == 0 && check_interrupts) check_interrupts();
    }
}

void Kernel::update_stop_armed() {
    bool any = step != step_mode::NONE;
    for (auto& b : breakpoints) any = any || b.enabled;
    stop_armed = any;
}

static bool is_syscall_entry(const char* name) { return std::strncmp(name, "__x64_sys_", 10) == 0; }

// The reference a stop holds on the task whose fiber it suspends. A task that reaped itself
// (its parent ignores SIGCHLD) has given its own reference to dead_task and runs on to its last
// schedule(): the stop shares that one, so the task is still there when k.run() resumes it.
static std::shared_ptr<task_struct> running_task_ref(Kernel* k) {
    task_struct* t = k->running;
    if (t->self) return t->self;
    if (k->dead_task.get() == t) return k->dead_task;
    return nullptr;
}

void Kernel::maybe_stop(const trace_event& ev) {
    if (!running || stop.stopped) return;
    bool hit = false;
    const char* reason = "step";
    int bp_id = 0;
    switch (step) {
    case step_mode::FUNCTION: hit = ev.type == ev_type::ENTRY; break;
    case step_mode::SYSCALL: hit = ev.type == ev_type::ENTRY && is_syscall_entry(ev.name); break;
    case step_mode::SWITCH: hit = ev.type == ev_type::POINT && std::strcmp(ev.name, "sched_switch") == 0; break;
    case step_mode::TICK: hit = ev.type == ev_type::ENTRY && std::strcmp(ev.name, "tick_sched_timer") == 0; break;
    case step_mode::NONE: break;
    }
    if (hit) step = step_mode::NONE;
    for (size_t i = 0; !hit && i < breakpoints.size(); i++) {
        breakpoint& b = breakpoints[i];
        if (!b.enabled || b.func != ev.name) continue;
        if (b.when) {
            // The predicate sees the event and the task as a stop would show them.
            stop.ev = ev;
            stop.cpu = this_cpu;
            stop.task = running_task_ref(this);
            int id = b.id;
            std::shared_ptr<upcall_fn> when = b.when;
            long r = upcall(when);
            stop.task.reset();
            // The predicate may have removed breakpoints: look ours up again by id.
            auto it = std::find_if(breakpoints.begin(), breakpoints.end(), [id](const breakpoint& x) { return x.id == id; });
            if (!r) continue;
            if (it != breakpoints.end()) it->hits++;
            hit = true;
            reason = "breakpoint";
            bp_id = id;
            break;
        } else {
            b.hits++;
        }
        hit = true;
        reason = "breakpoint";
        bp_id = b.id;
    }
    update_stop_armed();
    if (!hit) return;
    stop.stopped = true;
    stop.reason = reason;
    stop.ev = ev;
    stop.cpu = this_cpu;
    stop.task = running_task_ref(this);
    stop.breakpoint = bp_id;
    switch_to_host(host_act::BREAK);
}

}  // namespace gk
