// Models include/linux/syscalls.h and arch/x86/include/asm/syscall_wrapper.h (v6.1):
// SYSCALL_DEFINEn, which names every argument with its C type, and struct syscall_metadata (what
// ftrace's syscall events print). SYSCALL_DEFINE4(wait4, pid_t, upid, int __user *, stat_addr, ...)
// makes
//   __x64_sys_wait4(const struct pt_regs *)  the table's entry: reads di, si, dx, r10, r8, r9,
//   __se_sys_wait4(long, ...)                 casts each register to its declared type,
//   __do_sys_wait4(pid_t upid, ...)           the body written after the macro,
// and __syscall_meta_sys_wait4, which the Python boundary also uses to convert a program's
// arguments by their declared types (an int must fit an int; a struct rusage __user * names
// user memory the kernel fills with a struct rusage).
#pragma once
#include <string>
#include <type_traits>

#include "glasskernel/linux.h"
#include "glasskernel/net/sock.h"
#include "glasskernel/time64.h"
#include "glasskernel/uaccess.h"
#include "glasskernel/uapi/eventpoll.h"
#include "glasskernel/uapi/poll.h"
#include "glasskernel/uapi/resource.h"
#include "glasskernel/uapi/sched.h"
#include "glasskernel/uapi/signal.h"
#include "glasskernel/uapi/socket.h"
#include "glasskernel/uapi/time_types.h"

namespace gk {

// How a value of a C type lives in user memory, for the Python boundary: scalars by size and
// sign, pointers by what they point to, and the uapi structures by name.
enum class uapi_kind : u8 {
    SCALAR, POINTER, VOID, CHAR,
    SIGSET, SIGINFO, SIGACTION, RUSAGE, RLIMIT, RLIMIT64, TIMESPEC, OLD_ITIMERVAL,
    SOCKADDR, EPOLL_EVENT, SCHED_PARAM, USER_MSGHDR, POLLFD, FD_SET, OLD_TIMEVAL,
};

struct uapi_type {
    const char* name;  // a structure's C name ("" for scalars and pointers)
    uapi_kind kind;
    unsigned short size;
    bool is_signed;
    const uapi_type* pointee;  // POINTER: what it points to
};

template <typename T> struct uapi_desc;
template <typename T> requires std::is_integral_v<T> struct uapi_desc<T> {
    static constexpr uapi_type value{"", uapi_kind::SCALAR, sizeof(T), std::is_signed_v<T>, nullptr};
};
template <typename T> struct uapi_desc<T*> {
    static constexpr uapi_type value{"", uapi_kind::POINTER, sizeof(void*), false, &uapi_desc<std::remove_cv_t<T>>::value};
};
#define GK_UAPI_STRUCT(T, kind_, cname)                                                     \
    template <> struct uapi_desc<T> {                                                       \
        static constexpr uapi_type value{cname, uapi_kind::kind_, sizeof(T), false, nullptr}; \
    }
template <> struct uapi_desc<void> { static constexpr uapi_type value{"void", uapi_kind::VOID, 1, false, nullptr}; };
template <> struct uapi_desc<char> { static constexpr uapi_type value{"char", uapi_kind::CHAR, 1, true, nullptr}; };
GK_UAPI_STRUCT(sigset_t, SIGSET, "sigset_t");
GK_UAPI_STRUCT(siginfo_t, SIGINFO, "siginfo_t");
GK_UAPI_STRUCT(struct sigaction, SIGACTION, "struct sigaction");
GK_UAPI_STRUCT(struct rusage, RUSAGE, "struct rusage");
GK_UAPI_STRUCT(struct rlimit, RLIMIT, "struct rlimit");
GK_UAPI_STRUCT(struct rlimit64, RLIMIT64, "struct rlimit64");
GK_UAPI_STRUCT(__kernel_timespec, TIMESPEC, "struct __kernel_timespec");
GK_UAPI_STRUCT(__kernel_old_itimerval, OLD_ITIMERVAL, "struct __kernel_old_itimerval");
GK_UAPI_STRUCT(struct sockaddr, SOCKADDR, "struct sockaddr");
GK_UAPI_STRUCT(struct epoll_event, EPOLL_EVENT, "struct epoll_event");
GK_UAPI_STRUCT(struct sched_param, SCHED_PARAM, "struct sched_param");
GK_UAPI_STRUCT(struct user_msghdr, USER_MSGHDR, "struct user_msghdr");
GK_UAPI_STRUCT(struct pollfd, POLLFD, "struct pollfd");
GK_UAPI_STRUCT(fd_set, FD_SET, "fd_set");
GK_UAPI_STRUCT(__kernel_old_timeval, OLD_TIMEVAL, "struct __kernel_old_timeval");
#undef GK_UAPI_STRUCT

// A register as the argument's declared type: an int takes the low 32 bits, as in Linux.
template <typename T>
inline T __sc_cast(long v) {
    if constexpr (std::is_pointer_v<T>)
        return reinterpret_cast<T>(v);
    else
        return static_cast<T>(v);
}

struct syscall_metadata {
    const char* name;   // "sys_wait4"
    int nb_args;
    const char* types[6];  // "pid_t", "int __user *", ...
    const char* args[6];   // "upid", "stat_addr", ...
    const uapi_type* utypes[6];
};

// The arguments of a system call by name, for its trace scope (formatted only when read).
std::string syscall_trace_args(const void* meta, const void* regs);

#define __MAP0(m, ...)
#define __MAP1(m, t, a, ...) m(t, a)
#define __MAP2(m, t, a, ...) m(t, a), __MAP1(m, __VA_ARGS__)
#define __MAP3(m, t, a, ...) m(t, a), __MAP2(m, __VA_ARGS__)
#define __MAP4(m, t, a, ...) m(t, a), __MAP3(m, __VA_ARGS__)
#define __MAP5(m, t, a, ...) m(t, a), __MAP4(m, __VA_ARGS__)
#define __MAP6(m, t, a, ...) m(t, a), __MAP5(m, __VA_ARGS__)
#define __MAP(n, ...) __MAP##n(__VA_ARGS__)

#define __SC_DECL(t, a) t a
#define __SC_LONG(t, a) long a
#define __SC_CAST(t, a) ::gk::__sc_cast<std::remove_cv_t<t>>(a)
#define __SC_ARGS(t, a) a
#define __SC_STR_ADECL(t, a) #a
#define __SC_STR_TDECL(t, a) #t
#define __SC_UTYPE(t, a) &::gk::uapi_desc<t>::value
// x86_64 passes the arguments in rdi, rsi, rdx, r10, r8, r9.
#define SC_X86_64_REGS_TO_ARGS(x, ...) \
    __MAP(x, __SC_ARGS, , (long)regs->di, , (long)regs->si, , (long)regs->dx, , (long)regs->r10, , (long)regs->r8, , (long)regs->r9)

#define SYSCALL_METADATA(sname, nb, ...)                                                           \
    extern const ::gk::syscall_metadata __syscall_meta_sys##sname;                                \
    const ::gk::syscall_metadata __syscall_meta_sys##sname = {                                    \
        "sys" #sname, nb, {__MAP(nb, __SC_STR_TDECL, __VA_ARGS__)}, {__MAP(nb, __SC_STR_ADECL, __VA_ARGS__)}, \
        {__MAP(nb, __SC_UTYPE, __VA_ARGS__)}};

#define SYSCALL_DEFINE0(sname)                                                          \
    SYSCALL_METADATA(_##sname, 0)                                                       \
    static long __do_sys_##sname();                                                     \
    long __x64_sys_##sname(const struct pt_regs*) {                                     \
        ::gk::trace_scope ts("__x64_sys_" #sname);                                      \
        return ts.ret(__do_sys_##sname());                                              \
    }                                                                                   \
    static long __do_sys_##sname()

#define SYSCALL_DEFINE1(name, ...) SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE2(name, ...) SYSCALL_DEFINEx(2, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE3(name, ...) SYSCALL_DEFINEx(3, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE4(name, ...) SYSCALL_DEFINEx(4, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE5(name, ...) SYSCALL_DEFINEx(5, _##name, __VA_ARGS__)
#define SYSCALL_DEFINE6(name, ...) SYSCALL_DEFINEx(6, _##name, __VA_ARGS__)

#define SYSCALL_DEFINEx(x, sname, ...)                                                     \
    SYSCALL_METADATA(sname, x, __VA_ARGS__)                                                \
    static long __se_sys##sname(__MAP(x, __SC_LONG, __VA_ARGS__));                        \
    static long __do_sys##sname(__MAP(x, __SC_DECL, __VA_ARGS__));                         \
    long __x64_sys##sname(const struct pt_regs* regs) {                                    \
        ::gk::trace_scope ts("__x64_sys" #sname, ::gk::syscall_trace_args, &__syscall_meta_sys##sname, regs);        \
        return ts.ret(__se_sys##sname(SC_X86_64_REGS_TO_ARGS(x, __VA_ARGS__)));            \
    }                                                                                      \
    static long __se_sys##sname(__MAP(x, __SC_LONG, __VA_ARGS__)) {                        \
        return __do_sys##sname(__MAP(x, __SC_CAST, __VA_ARGS__));                          \
    }                                                                                      \
    static long __do_sys##sname(__MAP(x, __SC_DECL, __VA_ARGS__))

// The table (arch/x86/entry/syscall_64.cpp, generated from syscall_64.tbl).
using sys_call_ptr_t = long (*)(const struct pt_regs*);
struct syscall_table_entry {
    long nr;
    const char* name;          // "wait4"
    const char* entry;         // "sys_wait4" as the table names it
    sys_call_ptr_t fn;         // sys_ni_syscall's entry when not implemented
    const syscall_metadata* meta;  // nullptr when not implemented
};
const syscall_table_entry* syscall_entry(long nr);  // nullptr outside the table
long syscall_table_size();                         // __NR_syscalls
long sys_ni_syscall();

}  // namespace gk
