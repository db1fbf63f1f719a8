// Models include/linux/hrtimer.h (v6.1): high-resolution timers on each CPU's virtual clock.
#pragma once
#include <boost/intrusive/set.hpp>

#include "glasskernel/types.h"

namespace gk {

struct hrtimer;
enum hrtimer_restart { HRTIMER_NORESTART, HRTIMER_RESTART };

struct hrtimer {
    boost::intrusive::set_member_hook<> node;
    u64 expires = 0;
    u64 seq = 0;  // insertion order breaks ties between equal expiry times
    hrtimer_restart (*function)(hrtimer*) = nullptr;
    void* data = nullptr;
    const char* name = "hrtimer";
    int cpu = -1;  // the CPU whose base holds it, -1 when not queued
};

struct hrtimer_less {
    bool operator()(const hrtimer& a, const hrtimer& b) const {
        return a.expires != b.expires ? a.expires < b.expires : a.seq < b.seq;
    }
};
using hrtimer_queue = boost::intrusive::multiset<
    hrtimer, boost::intrusive::member_hook<hrtimer, boost::intrusive::set_member_hook<>, &hrtimer::node>,
    boost::intrusive::compare<hrtimer_less>>;

struct hrtimer_cpu_base {
    hrtimer_queue active;
    u64 next_expiry() const { return active.empty() ? KTIME_MAX : active.begin()->expires; }
};

void hrtimer_init(hrtimer* timer, hrtimer_restart (*fn)(hrtimer*), const char* name);
void hrtimer_start(hrtimer* timer, u64 expires_abs, int cpu);
bool hrtimer_cancel(hrtimer* timer);
inline bool hrtimer_active(const hrtimer* t) { return t->cpu >= 0; }
void hrtimer_interrupt(int cpu);

}  // namespace gk
