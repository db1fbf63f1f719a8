// Models include/linux/timekeeping.h (v6.1): ktime_get(), the monotonic clock in nanoseconds.
// The simulated machine keeps one virtual clock per CPU; ktime_get() reads the running CPU's.
#pragma once
#include "glasskernel/kernel.h"

namespace gk {

inline u64 ktime_get() { return this_kernel->now(); }

}  // namespace gk
