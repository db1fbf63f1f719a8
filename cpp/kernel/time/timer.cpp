// Models kernel/time/timer.c (v6.1): the timer wheel. A timer hashes into the level whose range covers
// its timeout; each level is 8 times coarser, so far-away timers may fire up to one granule late
// (the wheel trades precision for O(1) insertion). The tick raises TIMER_SOFTIRQ when the next
// jiffy is due, and run_timer_softirq expires the buckets of every jiffy passed.
#include <algorithm>

#include "glasskernel/linux.h"
#include "glasskernel/timer.h"

namespace gk {

static int LVL_SHIFT(int n) { return n * LVL_CLK_SHIFT; }
static unsigned long LVL_GRAN(int n) { return 1UL << LVL_SHIFT(n); }
static unsigned long LVL_START(int n) { return (LVL_SIZE - 1UL) << ((n - 1) * LVL_CLK_SHIFT); }
static int LVL_OFFS(int n) { return n * LVL_SIZE; }

static timer_base* base_of(int cpu) { return &this_kernel->timer_bases[cpu]; }

static unsigned calc_index(unsigned long expires, int lvl) {
    expires = (expires + LVL_GRAN(lvl)) >> LVL_SHIFT(lvl);  // round up: never fire early
    return static_cast<unsigned>(LVL_OFFS(lvl) + (expires & LVL_MASK));
}

static unsigned calc_wheel_index(unsigned long expires, unsigned long clk) {
    long delta = static_cast<long>(expires - clk);
    if (delta < 0) return static_cast<unsigned>(clk & LVL_MASK);
    for (int lvl = 0; lvl < LVL_DEPTH - 1; lvl++)
        if (static_cast<unsigned long>(delta) < LVL_START(lvl + 1)) return lvl == 0 ? static_cast<unsigned>(expires & LVL_MASK) : calc_index(expires, lvl);
    // Beyond the wheel: park at the last level's farthest slot (WHEEL_TIMEOUT_CUTOFF).
    unsigned long cutoff = clk + LVL_START(LVL_DEPTH) - 1;
    return calc_index(std::min(expires, cutoff), LVL_DEPTH - 1);
}

static void enqueue_timer(timer_base* base, timer_list* timer) {
    timer->cpu = smp_processor_id();
    timer->idx = calc_wheel_index(timer->expires, base->clk);
    base->vectors[timer->idx].push_back(*timer);
    base->pending++;
}

bool timer_pending(const timer_list* timer) { return timer->entry.is_linked(); }

int del_timer(timer_list* timer) {
    trace_scope ts("del_timer");
    if (!timer_pending(timer)) return ts.ret(0);
    timer->entry.unlink();
    if (timer->cpu >= 0) base_of(timer->cpu)->pending--;
    return ts.ret(1);
}

void update_jiffies();

int mod_timer(timer_list* timer, unsigned long expires) {
    trace_scope ts("mod_timer", "name=%s expires=%lu", timer->name.c_str(), expires);
    update_jiffies();
    int was = del_timer(timer);
    timer->expires = expires;
    timer_base* base = base_of(smp_processor_id());
    // A jiffy already passed is processed next (base->clk catches up to jiffies first).
    if (base->clk < this_kernel->jiffies && base->pending == 0) base->clk = this_kernel->jiffies;
    enqueue_timer(base, timer);
    // An idle CPU has stopped its tick or set it for a later expiry (NOHZ): the wheel needs it
    // again (wake_up_nohz_cpu); going idle again sets it for the next expiry.
    tick_nohz_restart(smp_processor_id());
    trace_point("timer_start", "timer=%s expires=%lu now=%llu", timer->name.c_str(), expires,
                static_cast<unsigned long long>(this_kernel->jiffies));
    return ts.ret(was);
}

void add_timer(timer_list* timer) { mod_timer(timer, timer->expires); }

static void call_timer_fn(timer_list* timer) {
    Kernel* k = this_kernel;
    // The function may free the timer (ip_expire frees its queue, timer included): nothing of it
    // is read once the function has run.
    std::string name = timer->name;
    trace_point("timer_expire_entry", "timer=%s now=%llu", name.c_str(), static_cast<unsigned long long>(k->jiffies));
    timer->runs++;
    timer->fired_at_jiffies = k->jiffies;
    if (timer->function) timer->function(timer);
    trace_point("timer_expire_exit", "timer=%s", name.c_str());
}

// __next_timer_interrupt: the first jiffy >= base->clk at which __run_timers finds a non-empty
// bucket (~0UL: the wheel is empty). Level L is looked at only on jiffies that are multiples of
// 8^L, in the slot those jiffies' level-L clock selects.
unsigned long __next_timer_interrupt(const timer_base* base) {
    unsigned long next = ~0UL;
    if (!base->pending) return next;
    for (int lvl = 0; lvl < LVL_DEPTH; lvl++) {
        int shift = lvl * LVL_CLK_SHIFT;
        unsigned long first = (base->clk + (1UL << shift) - 1) >> shift;  // level clock of the first look
        for (unsigned slot = 0; slot < LVL_SIZE; slot++) {
            if (base->vectors[lvl * LVL_SIZE + static_cast<int>(slot)].empty()) continue;
            unsigned long lclk = first + ((slot - (first & LVL_MASK)) & LVL_MASK);
            next = std::min(next, lclk << shift);
        }
    }
    return next;
}

// Take the buckets that expire at base->clk: level 0's bucket, and each coarser level's when
// clk sits on that level's boundary. Jiffies whose buckets are all empty are skipped at once
// (base->next_expiry in Linux), so a wheel that slept through a NOHZ idle stretch catches up in
// one step instead of one jiffy at a time.
static void __run_timers(timer_base* base) {
    Kernel* k = this_kernel;
    while (base->clk <= k->jiffies) {
        unsigned long next = __next_timer_interrupt(base);
        if (next > k->jiffies) {
            base->clk = k->jiffies + 1;
            break;
        }
        base->clk = next;
        unsigned long clk = base->clk;
        // expire_timers: the due buckets move to a local list and are taken one at a time, so a
        // callback may delete (or free) any timer still waiting there.
        timer_bucket expired;
        for (int i = 0; i < LVL_DEPTH; i++) {
            unsigned idx = static_cast<unsigned>((clk & LVL_MASK) + i * LVL_SIZE);
            expired.splice(expired.end(), base->vectors[idx]);
            if (clk & ((1UL << LVL_CLK_SHIFT) - 1)) break;
            clk >>= LVL_CLK_SHIFT;
        }
        base->clk++;
        for (auto& t : expired) {
            t.cpu = -1;  // off the wheel: del_timer unlinks it without touching the count
            base->pending--;
        }
        while (!expired.empty()) {
            timer_list* t = &expired.front();
            expired.pop_front();
            call_timer_fn(t);
        }
    }
}

static void run_timer_softirq(softirq_action*) {
    trace_scope ts("run_timer_softirq");
    __run_timers(base_of(smp_processor_id()));
}

// From the tick: anything to do for the wheel? Then TIMER_SOFTIRQ will run it on irq_exit.
void run_local_timers() {
    timer_base* base = base_of(smp_processor_id());
    if (base->pending && this_kernel->jiffies >= base->clk) raise_softirq_irqoff(TIMER_SOFTIRQ);
    else if (!base->pending) base->clk = this_kernel->jiffies + 1;
}

// ---- sleeping for a number of jiffies ----

struct process_timer : timer_list {
    task_struct* task = nullptr;
};

static void process_timeout(timer_list* t) { wake_up_process(static_cast<process_timer*>(t)->task); }

// Sleep (in the state the caller set) until woken or `timeout` jiffies pass; returns the
// jiffies left, 0 if the time ran out.
long schedule_timeout(long timeout) {
    trace_scope ts("schedule_timeout", "timeout=%ld", timeout);
    Kernel* k = this_kernel;
    if (timeout == MAX_SCHEDULE_TIMEOUT) {
        schedule();
        return ts.ret(timeout);
    }
    if (timeout < 0) {
        printk("schedule_timeout: wrong timeout value %lx", static_cast<unsigned long>(timeout));
        __set_current_state(TASK_RUNNING);
        return ts.ret(0);
    }
    update_jiffies();
    unsigned long expire = k->jiffies + static_cast<unsigned long>(timeout);
    process_timer timer;
    timer.function = process_timeout;
    timer.name = "process_timeout";
    timer.task = current;
    mod_timer(&timer, expire);
    schedule();
    del_timer(&timer);
    update_jiffies();
    long left = static_cast<long>(expire - k->jiffies);
    return ts.ret(left < 0 ? 0 : left);
}

unsigned long msecs_to_jiffies(unsigned msecs) {
    unsigned long hz = static_cast<unsigned long>(this_kernel->cfg.hz);
    return (static_cast<unsigned long>(msecs) * hz + 999) / 1000;
}

// At least `msecs`: the timeout is rounded up and one jiffy added, as the current one is partly gone.
void msleep(unsigned msecs) {
    trace_scope ts("msleep", "msecs=%u", msecs);
    long timeout = static_cast<long>(msecs_to_jiffies(msecs)) + 1;
    while (timeout) {
        set_current_state(TASK_UNINTERRUPTIBLE);
        timeout = schedule_timeout(timeout);
    }
}

void init_timers(Kernel* k) {
    k->softirq_vec[TIMER_SOFTIRQ].action = run_timer_softirq;
}

}  // namespace gk
