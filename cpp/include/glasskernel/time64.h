// Models include/linux/time64.h and ktime.h (v6.1): the checks and conversions system calls apply
// to the times user memory holds. A time too large for the clock saturates at KTIME_SEC_MAX, as
// timespec64_to_ktime does, instead of wrapping.
#pragma once
#include "glasskernel/uapi/time_types.h"

namespace gk {

constexpr long long KTIME_SEC_MAX = static_cast<long long>(INT64_MAX / static_cast<long long>(NSEC_PER_SEC));
constexpr u64 KTIME_NS_MAX = static_cast<u64>(INT64_MAX);  // Linux's KTIME_MAX

inline bool timespec64_valid(const __kernel_timespec* ts) {
    return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < static_cast<long long>(NSEC_PER_SEC);
}
inline bool timeval_valid(const __kernel_old_timeval* tv) {
    return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < static_cast<long>(NSEC_PER_SEC / NSEC_PER_USEC);
}
inline u64 timespec64_to_ns(const __kernel_timespec* ts) {
    if (ts->tv_sec >= KTIME_SEC_MAX) return KTIME_NS_MAX;
    return static_cast<u64>(ts->tv_sec) * NSEC_PER_SEC + static_cast<u64>(ts->tv_nsec);
}
inline u64 timeval_to_ns(const __kernel_old_timeval* tv) {
    if (tv->tv_sec >= KTIME_SEC_MAX) return KTIME_NS_MAX;
    return static_cast<u64>(tv->tv_sec) * NSEC_PER_SEC + static_cast<u64>(tv->tv_usec) * NSEC_PER_USEC;
}
// ktime_add_safe: a sum past the clock's range is KTIME_MAX, not a wrapped time in the past.
inline u64 ktime_add_safe(u64 lhs, u64 rhs) {
    u64 res = lhs + rhs;
    return (res < lhs || res > KTIME_NS_MAX) ? KTIME_NS_MAX : res;
}
inline __kernel_timespec ns_to_timespec64(u64 ns) {
    return __kernel_timespec{static_cast<long long>(ns / NSEC_PER_SEC), static_cast<long long>(ns % NSEC_PER_SEC)};
}
inline __kernel_old_timeval ns_to_kernel_old_timeval(u64 ns) {
    return __kernel_old_timeval{static_cast<long>(ns / NSEC_PER_SEC), static_cast<long>(ns % NSEC_PER_SEC / NSEC_PER_USEC)};
}

}  // namespace gk
