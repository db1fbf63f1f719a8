// Models include/linux/types.h (v6.1) and the uapi constants the process code needs (x86_64
// values).
#pragma once
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <climits>
// libc defines many of the uapi names below as macros; take them in first, then drop the
// macros so that the kernel's own definitions (in namespace gk) are the ones in force.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#undef CSIGNAL
#undef CLONE_VM
#undef CLONE_FS
#undef CLONE_FILES
#undef CLONE_SIGHAND
#undef CLONE_PTRACE
#undef CLONE_VFORK
#undef CLONE_PARENT
#undef CLONE_THREAD
#undef CLONE_UNTRACED
#undef WNOHANG
#undef WUNTRACED
#undef WSTOPPED
#undef WEXITED
#undef WCONTINUED
#undef WNOWAIT
#undef __WNOTHREAD
#undef __WALL
#undef __WCLONE
#undef CLD_EXITED
#undef CLD_KILLED
#undef CLD_DUMPED
#undef CLD_TRAPPED
#undef CLD_STOPPED
#undef CLD_CONTINUED
#undef SI_USER
#undef SI_KERNEL
#undef SI_QUEUE
#undef SI_TKILL
#undef RLIM_NLIMITS
#undef RLIM_INFINITY
#undef RUSAGE_SELF
#undef RUSAGE_CHILDREN
#undef _NSIG
#undef SIGRTMIN
#undef SIGRTMAX
#undef SIG_BLOCK
#undef SIG_UNBLOCK
#undef SIG_SETMASK
#undef SIG_DFL
#undef SIG_IGN
#undef SA_NOCLDSTOP
#undef SA_NOCLDWAIT
#undef SA_SIGINFO
#undef SA_RESTORER
#undef SA_ONSTACK
#undef SA_RESTART
#undef SA_NODEFER
#undef SA_RESETHAND
#undef sigmask
#undef O_RDONLY
#undef O_WRONLY
#undef O_RDWR
#undef O_ACCMODE
#undef O_NONBLOCK
#undef O_CLOEXEC
#undef FD_CLOEXEC
#undef O_EXCL
#undef O_APPEND
#undef FASYNC
#undef O_DIRECT
#undef O_LARGEFILE
#undef O_NOATIME
#undef F_DUPFD
#undef F_GETFD
#undef F_SETFD
#undef F_GETFL
#undef F_SETFL
#undef F_DUPFD_CLOEXEC
#undef F_SETPIPE_SZ
#undef F_GETPIPE_SZ
#undef FD_SETSIZE
#undef PIPE_BUF
#undef CLOCK_REALTIME
#undef CLOCK_MONOTONIC
#undef CLOCK_PROCESS_CPUTIME_ID
#undef CLOCK_THREAD_CPUTIME_ID
#undef CLOCK_MONOTONIC_RAW
#undef CLOCK_REALTIME_COARSE
#undef CLOCK_MONOTONIC_COARSE
#undef CLOCK_BOOTTIME
#undef SIGHUP
#undef SIGINT
#undef SIGQUIT
#undef SIGILL
#undef SIGTRAP
#undef SIGABRT
#undef SIGBUS
#undef SIGFPE
#undef SIGKILL
#undef SIGUSR1
#undef SIGSEGV
#undef SIGUSR2
#undef SIGPIPE
#undef SIGALRM
#undef SIGTERM
#undef SIGSTKFLT
#undef SIGCHLD
#undef SIGCONT
#undef SIGSTOP
#undef SIGTSTP
#undef SIGTTIN
#undef SIGTTOU
#undef SIGURG
#undef SIGXCPU
#undef SIGXFSZ
#undef SIGVTALRM
#undef SIGPROF
#undef SIGWINCH
#undef SIGIO
#undef SIGPWR
#undef SIGSYS
#undef SIGIOT
#undef SIGPOLL
#undef SIGCLD
#undef si_pid
#undef si_uid
#undef si_status
#undef si_value
#undef si_utime
#undef si_stime
#undef sa_handler
#undef SCHED_NORMAL
#undef SCHED_RESET_ON_FORK
#undef SCHED_OTHER
#undef SCHED_FIFO
#undef SCHED_RR
#undef SCHED_BATCH
#undef SCHED_IDLE
#undef SCHED_DEADLINE
#undef CLOCK_TAI
#undef P_ALL
#undef P_PID
#undef P_PGID
#undef P_PIDFD
#undef PRIO_PROCESS
#undef PRIO_PGRP
#undef PRIO_USER
#undef PATH_MAX

namespace gk {

// include/linux/container_of.h: the structure a member is embedded in.
#define container_of(ptr, type, member) \
    (reinterpret_cast<type*>(reinterpret_cast<char*>(ptr) - offsetof(type, member)))

// Byte order (include/uapi/linux/byteorder): the machine is little-endian, the wire big-endian.
constexpr uint16_t htons(uint16_t x) { return __builtin_bswap16(x); }
constexpr uint16_t ntohs(uint16_t x) { return __builtin_bswap16(x); }
constexpr uint32_t htonl(uint32_t x) { return __builtin_bswap32(x); }
constexpr uint32_t ntohl(uint32_t x) { return __builtin_bswap32(x); }

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using s64 = int64_t;
using pid_t = int;
using uid_t = unsigned;

constexpr u64 NSEC_PER_USEC = 1000;
constexpr u64 NSEC_PER_MSEC = 1000000;
constexpr u64 NSEC_PER_SEC = 1000000000;
constexpr u64 KTIME_MAX = UINT64_MAX;

// Kernel-internal errno values that never reach user space (include/linux/errno.h).
enum : int { ERESTARTSYS = 512, ERESTARTNOINTR = 513, ERESTARTNOHAND = 514, ERESTART_RESTARTBLOCK = 516 };

// Errors inside the kernel are negative errno values, as in Linux.
inline bool IS_ERR_VALUE(long v) { return v < 0 && v >= -4095; }

// clone(2) flags (include/uapi/linux/sched.h).
enum : u64 {
    CSIGNAL = 0x000000ff,
    CLONE_VM = 0x00000100,
    CLONE_FS = 0x00000200,
    CLONE_FILES = 0x00000400,
    CLONE_SIGHAND = 0x00000800,
    CLONE_PTRACE = 0x00002000,
    CLONE_VFORK = 0x00004000,
    CLONE_PARENT = 0x00008000,
    CLONE_THREAD = 0x00010000,
    CLONE_UNTRACED = 0x00800000,
};

// wait(2) options (include/uapi/linux/wait.h).
enum : int {
    WNOHANG = 0x00000001,
    WUNTRACED = 0x00000002,
    WSTOPPED = WUNTRACED,
    WEXITED = 0x00000004,
    WCONTINUED = 0x00000008,
    WNOWAIT = 0x01000000,
    __WNOTHREAD = 0x20000000,
    __WALL = 0x40000000,
    __WCLONE = static_cast<int>(0x80000000u),
};
enum : int { P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3 };

// si_code values for SIGCHLD (include/uapi/asm-generic/siginfo.h).
enum : int { CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3, CLD_TRAPPED = 4, CLD_STOPPED = 5, CLD_CONTINUED = 6 };
enum : int { SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TKILL = -6 };

// prctl(2) options we model.
enum : int { PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_SET_NAME = 15, PR_GET_NAME = 16,
             PR_SET_CHILD_SUBREAPER = 36, PR_GET_CHILD_SUBREAPER = 37 };

// Resource limits (include/uapi/asm-generic/resource.h).
enum : int { RLIMIT_CPU = 0, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS,
             RLIMIT_NPROC, RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING,
             RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIM_NLIMITS };
constexpr u64 RLIM_INFINITY = ~0ULL;

enum : int { RUSAGE_SELF = 0, RUSAGE_CHILDREN = -1, RUSAGE_BOTH = -2, RUSAGE_THREAD = 1 };
constexpr int TASK_COMM_LEN = 16;
using gid_t = unsigned;

// include/uapi/linux/limits.h and binfmts.h
constexpr long PATH_MAX = 4096;
constexpr long MAX_ARG_STRLEN = 32 * 4096;
constexpr int MAX_ARG_STRINGS = 0x7FFFFFFF;

}  // namespace gk
