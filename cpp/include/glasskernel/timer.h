// Models include/linux/timer.h and kernel/time/timer.c's timer wheel (v6.1): timer_list timers in
// jiffies, hashed into LVL_DEPTH levels of 64 buckets whose granularity grows 8x per level,
// expired from TIMER_SOFTIRQ.
#pragma once
#include <boost/intrusive/list.hpp>
#include <climits>
#include <memory>
#include <string>

#include "glasskernel/interrupt.h"

namespace gk {

constexpr int LVL_CLK_SHIFT = 3, LVL_BITS = 6, LVL_SIZE = 1 << LVL_BITS, LVL_DEPTH = 9;
constexpr unsigned long LVL_MASK = LVL_SIZE - 1;
constexpr int WHEEL_SIZE = LVL_SIZE * LVL_DEPTH;
constexpr long MAX_SCHEDULE_TIMEOUT = LONG_MAX;

struct timer_list {
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>> entry;
    unsigned long expires = 0;  // in jiffies
    void (*function)(timer_list*) = nullptr;
    std::string name;  // the simulator's label for traces and views
    unsigned idx = 0;  // the wheel bucket it hashed to
    int cpu = -1;      // the CPU whose wheel holds it
    u64 fired_at_jiffies = 0;
    u64 runs = 0;
};

using timer_bucket = boost::intrusive::list<
    timer_list, boost::intrusive::member_hook<timer_list, decltype(timer_list::entry), &timer_list::entry>,
    boost::intrusive::constant_time_size<false>>;

struct timer_base {
    unsigned long clk = 0;  // the next jiffy to process
    timer_bucket vectors[WHEEL_SIZE];
    unsigned pending = 0;   // timers queued
};

// from_timer: the structure a timer_list is embedded in, from inside its function.
#define from_timer(type, timer, member) container_of(timer, type, member)

void add_timer(timer_list* timer);
int mod_timer(timer_list* timer, unsigned long expires);
int del_timer(timer_list* timer);
bool timer_pending(const timer_list* timer);
void run_local_timers();
unsigned long __next_timer_interrupt(const timer_base* base);
void init_timers(Kernel* k);

}  // namespace gk
