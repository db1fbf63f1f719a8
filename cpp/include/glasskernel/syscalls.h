// Models include/linux/syscalls.h: SYSCALL_DEFINE and the __x64_sys_* entry points.
#pragma once
#include "glasskernel/linux.h"

namespace gk {

// Like Linux's SYSCALL_DEFINEn: the __x64_sys_ wrapper takes the registers, the __do_sys_ body
// does the work. One trace scope per system call, named as ftrace shows it.
#define SYSCALL_DEFINE(name)                                                   \
    static long __do_sys_##name(const syscall_regs& regs);                     \
    long __x64_sys_##name(const syscall_regs& regs) {                          \
        trace_scope ts("__x64_sys_" #name);                                    \
        return ts.ret(__do_sys_##name(regs));                                  \
    }                                                                          \
    static long __do_sys_##name([[maybe_unused]] const syscall_regs& regs)

#define SYSCALLS(X) \
    X(0, read) X(1, write) X(3, close) X(14, rt_sigprocmask) X(24, sched_yield) X(32, dup) X(33, dup2) \
    X(35, nanosleep) X(39, getpid) X(56, clone) X(57, fork) X(58, vfork) X(59, execve) X(60, exit)       \
    X(61, wait4) X(97, getrlimit) X(98, getrusage) X(102, getuid) X(104, getgid) X(105, setuid)          \
    X(106, setgid) X(107, geteuid) X(108, getegid) X(109, setpgid) X(110, getppid) X(111, getpgrp)       \
    X(112, setsid) X(121, getpgid) X(124, getsid) X(127, rt_sigpending) X(128, rt_sigtimedwait)          \
    X(140, getpriority) X(141, setpriority) X(157, prctl) X(160, setrlimit) X(186, gettid)              \
    X(228, clock_gettime) X(231, exit_group) X(247, waitid) X(302, prlimit64) X(62, kill) X(234, tgkill)  \
    X(200, tkill) X(129, rt_sigqueueinfo) X(13, rt_sigaction) X(37, alarm) X(38, setitimer) X(36, getitimer) \
    X(15, rt_sigreturn) X(34, pause) X(130, rt_sigsuspend) X(142, sched_setparam) X(143, sched_getparam) \
    X(144, sched_setscheduler) X(145, sched_getscheduler) X(146, sched_get_priority_max)                 \
    X(147, sched_get_priority_min) X(148, sched_rr_get_interval) X(203, sched_setaffinity) X(204, sched_getaffinity) \
    X(41, socket) X(42, connect) X(44, sendto) X(45, recvfrom) X(48, shutdown) X(49, bind) X(50, listen)       \
    X(51, getsockname) X(52, getpeername) X(54, setsockopt) X(55, getsockopt) X(213, epoll_create)                \
    X(232, epoll_wait) X(233, epoll_ctl) X(291, epoll_create1)

#define DECLARE_SYSCALL(nr, name) long __x64_sys_##name(const syscall_regs& regs);
SYSCALLS(DECLARE_SYSCALL)
#undef DECLARE_SYSCALL

}  // namespace gk
