// Models include/uapi/asm-generic/siginfo.h and arch/x86/include/uapi/asm/signal.h (v6.1):
// siginfo_t and struct sigaction as user memory holds them (x86_64 layout).
#pragma once
#include "glasskernel/types.h"

namespace gk {

union sigval {
    int sival_int;
    unsigned long sival_ptr;  // a user address
};

// 128 bytes: three ints, then a union whose member depends on si_code (kill, rt, sigchld, fault).
struct siginfo {
    int si_signo;
    int si_errno;
    int si_code;
    int __pad0;
    union {
        int _pad[28];
        struct { pid_t _pid; uid_t _uid; } _kill;
        struct { pid_t _pid; uid_t _uid; sigval _sigval; } _rt;
        struct { pid_t _pid; uid_t _uid; int _status; int __pad1; long _utime; long _stime; } _sigchld;
        struct { unsigned long _addr; } _sigfault;
    } _sifields;
};
using siginfo_t = siginfo;
static_assert(sizeof(siginfo_t) == 128);

// The kernel's struct sigaction on x86_64 (what rt_sigaction copies): the handler is a user
// address (SIG_DFL 0, SIG_IGN 1), and sa_restorer the code the handler returns to.
struct sigaction {
    unsigned long sa_handler;
    unsigned long sa_flags;
    unsigned long sa_restorer;
    u64 sa_mask;
};
static_assert(sizeof(struct sigaction) == 32);

}  // namespace gk
