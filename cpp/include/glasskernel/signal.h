// Models include/linux/signal.h, signal_types.h and sched/signal.h (v6.1): sigset_t, sigpending,
// k_sigaction and sighand_struct, and the generation side of kernel/signal.c the process code uses.
#pragma once
#include <array>
#include <list>

#include "engine/user_image.h"
#include "glasskernel/uapi/signal.h"
#include "glasskernel/types.h"

namespace gk {

struct task_struct;

constexpr int _NSIG = 64;
constexpr u64 USER_HZ = 100;  // the unit of clock_t in siginfo's si_utime and times()
enum : int {
    SIGHUP = 1, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV,
    SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU,
    SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS,
    SIGRTMIN = 32, SIGRTMAX = _NSIG,
};
inline bool valid_signal(long sig) { return sig >= 0 && sig <= _NSIG; }

// Bit (sig - 1) stands for signal sig, as in Linux's sigset_t on 64-bit.
struct sigset_t {
    u64 sig = 0;
    bool operator==(const sigset_t& o) const { return sig == o.sig; }
};
inline u64 sigmask(int sig) { return 1ULL << (sig - 1); }
inline bool sigismember(const sigset_t* s, int sig) { return s->sig & sigmask(sig); }
inline void sigaddset(sigset_t* s, int sig) { s->sig |= sigmask(sig); }
inline void sigdelset(sigset_t* s, int sig) { s->sig &= ~sigmask(sig); }
inline void sigemptyset(sigset_t* s) { s->sig = 0; }

enum : int { SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2 };

struct kernel_siginfo {
    int si_signo = 0;
    int si_errno = 0;
    int si_code = 0;
    pid_t si_pid = 0;
    uid_t si_uid = 0;
    int si_status = 0;
    long si_value = 0;
    u64 si_utime = 0, si_stime = 0;
};

struct sigqueue {
    kernel_siginfo info;
    bool counted = false;  // charged to `user` against RLIMIT_SIGPENDING
    uid_t user = 0;
};

// A pending set: the mask says which signals are pending, the list keeps their siginfo.
struct sigpending {
    std::list<sigqueue> list;
    sigset_t signal;
};

// Handler values: SIG_DFL and SIG_IGN as in Linux; anything larger names a user handler
// that lives in the process's user image (its "address space").
constexpr long SIG_DFL = 0;
constexpr long SIG_IGN = 1;

enum : unsigned long {
    SA_NOCLDSTOP = 0x00000001,
    SA_NOCLDWAIT = 0x00000002,
    SA_SIGINFO = 0x00000004,
    SA_RESTORER = 0x04000000,
    SA_ONSTACK = 0x08000000,
    SA_RESTART = 0x10000000,
    SA_NODEFER = 0x40000000,
    SA_RESETHAND = 0x80000000,
    SA_EXPOSE_TAGBITS = 0x00000800,
};
constexpr unsigned long UAPI_SA_FLAGS = SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER |
                                        SA_RESETHAND | SA_EXPOSE_TAGBITS | SA_RESTORER;

struct k_sigaction {
    long sa_handler = SIG_DFL;
    unsigned long sa_flags = 0;
    unsigned long sa_restorer = 0;  // user code the handler returns to (libc's __restore_rt)
    sigset_t sa_mask;
};

// The frame setup_rt_frame() pushes for a handler: what sigreturn must restore. In Linux it sits
// on the user stack; here it is kept with the task (it is still user memory: fork copies it).
struct rt_sigframe {
    u64 id = 0;
    int sig = 0;
    kernel_siginfo info;
    long handler = 0;
    unsigned long flags = 0;
    sigset_t uc_sigmask;  // the mask to restore
    long ax = 0;          // the interrupted context: the syscall's return value ...
    bool restart = false; // ... or "make the interrupted call again"
    bool in_syscall = false;
    u64 compute_left = 0; // user-mode work the signal interrupted
    syscall_regs regs;    // the interrupted system call, for a restart
    unsigned long sp = 0; // where the frame sits on the user stack: the handler's stack starts below
};

// x86_64's struct rt_sigframe (pretcode, ucontext, siginfo) and the FXSAVE area below it.
constexpr unsigned long RT_SIGFRAME_SIZE = 440, FPSTATE_SIZE = 512;

struct sighand_struct {
    int count = 1;
    std::array<k_sigaction, _NSIG> action;  // action[sig - 1]
};

// The default actions of the standard signals (signal(7)), as include/linux/signal.h classifies
// them with one mask per action. Real-time signals are in none of the masks: their default is
// to terminate, without a core dump.
constexpr u64 rt_sigmask(int sig) { return 1ULL << (sig - 1); }
constexpr bool siginmask(int sig, u64 mask) { return sig > 0 && sig < SIGRTMIN && (rt_sigmask(sig) & mask); }
constexpr u64 SIG_KERNEL_ONLY_MASK = rt_sigmask(SIGKILL) | rt_sigmask(SIGSTOP);
constexpr u64 SIG_KERNEL_STOP_MASK = rt_sigmask(SIGSTOP) | rt_sigmask(SIGTSTP) | rt_sigmask(SIGTTIN) | rt_sigmask(SIGTTOU);
constexpr u64 SIG_KERNEL_COREDUMP_MASK = rt_sigmask(SIGQUIT) | rt_sigmask(SIGILL) | rt_sigmask(SIGTRAP) |
                                         rt_sigmask(SIGABRT) | rt_sigmask(SIGFPE) | rt_sigmask(SIGSEGV) |
                                         rt_sigmask(SIGBUS) | rt_sigmask(SIGSYS) | rt_sigmask(SIGXCPU) | rt_sigmask(SIGXFSZ);
constexpr u64 SIG_KERNEL_IGNORE_MASK = rt_sigmask(SIGCONT) | rt_sigmask(SIGCHLD) | rt_sigmask(SIGWINCH) | rt_sigmask(SIGURG);
// SIGKILL and SIGSTOP: never caught, blocked or ignored.
constexpr bool sig_kernel_only(int sig) { return siginmask(sig, SIG_KERNEL_ONLY_MASK); }
// Terminate and dump core (when RLIMIT_CORE allows one).
constexpr bool sig_kernel_coredump(int sig) { return siginmask(sig, SIG_KERNEL_COREDUMP_MASK); }
// Ignored unless caught.
constexpr bool sig_kernel_ignore(int sig) { return siginmask(sig, SIG_KERNEL_IGNORE_MASK); }
// Stop the group (job control).
constexpr bool sig_kernel_stop(int sig) { return siginmask(sig, SIG_KERNEL_STOP_MASK); }

// A signal on its way to a handler: what get_signal() dequeued and the action it found
// (include/linux/signal_types.h).
struct ksignal {
    k_sigaction ka;
    kernel_siginfo info;
    int sig = 0;
};

enum pid_type : int;
// Generation (kernel/signal.c). Return 0 or a negative errno.
int send_signal_locked(int sig, kernel_siginfo* info, task_struct* t, pid_type type);
bool signal_pending(task_struct* t);
bool fatal_signal_pending(task_struct* t);
bool recalc_sigpending_tsk(task_struct* t);
void signal_wake_up_state(task_struct* t, unsigned state);  // signal_wake_up() is in sched.h
int dequeue_signal(task_struct* tsk, const sigset_t* mask, kernel_siginfo* info);
// Signals the kernel sends a task about itself (a fault, a bad signal frame): force_sig may be
// caught by a handler the task has installed and not blocked; force_fatal_sig kills whatever
// the action; force_sigsegv picks the one that cannot recurse.
void force_sig(int sig);
// send_sig(sig, p, 0): a signal "from user space" (SI_USER) with the current task as sender, to
// the one thread p -- what a write to a pipe without readers sends the writer (SIGPIPE).
int send_sig(int sig, task_struct* p, int priv);
void force_fatal_sig(int sig);
void force_sigsegv(int sig);
// Delivery (kernel/signal.c): the next signal with a handler, default actions done on the way.
bool get_signal(ksignal* ksig);
void signal_setup_done(int failed, ksignal* ksig, int stepping);
void set_current_blocked(sigset_t* newset);
void __set_current_blocked(const sigset_t* newset);
// include/linux/sched/signal.h: the mask a handler's frame must restore (sigsuspend's original
// one while TIF_RESTORE_SIGMASK is set), and putting that original mask back when no handler ran.
sigset_t* sigmask_to_save();
void restore_saved_sigmask();
void flush_signal_handlers(task_struct* t, bool force_default);
int sigprocmask(int how, sigset_t* set, sigset_t* oldset);
int copy_siginfo_to_user(siginfo_t* to, const kernel_siginfo* from);
int group_send_sig_info(int sig, kernel_siginfo* info, task_struct* p, pid_type type);
int kill_pid_info(int sig, kernel_siginfo* info, struct pid* pid);
void flush_sigqueue(sigpending* queue);
void ignore_signals(task_struct* t);

}  // namespace gk
