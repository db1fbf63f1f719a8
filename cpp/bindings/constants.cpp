// The simulator's Python binding. The uapi constants Python's os, signal, socket and select modules lack, exported from the
// definitions the kernel model itself uses, so that they are written once.
#include <pybind11/pybind11.h>

#include "glasskernel/eventpoll.h"
#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"
#include "glasskernel/net/sock.h"

namespace gk {
namespace py = pybind11;

void bind_constants(py::module_& m) {
#define C(name) m.attr(#name) = static_cast<long long>(name)
    // sigaction flags (arch/x86/include/uapi/asm/signal.h)
    C(SA_NOCLDSTOP); C(SA_NOCLDWAIT); C(SA_SIGINFO); C(SA_RESTORER); C(SA_ONSTACK); C(SA_RESTART);
    C(SA_NODEFER); C(SA_RESETHAND);
    // si_code values (include/uapi/asm-generic/siginfo.h)
    C(SI_USER); C(SI_KERNEL); C(SI_QUEUE); C(SI_TKILL);
    C(CLD_EXITED); C(CLD_KILLED); C(CLD_DUMPED); C(CLD_TRAPPED); C(CLD_STOPPED); C(CLD_CONTINUED);
    // wait options Python lacks (include/uapi/linux/wait.h)
    C(__WNOTHREAD); C(__WALL);
    m.attr("__WCLONE") = static_cast<long long>(__WCLONE);  // 0x80000000 in an int: negative
    // prctl options (include/uapi/linux/prctl.h)
    C(PR_SET_PDEATHSIG); C(PR_GET_PDEATHSIG); C(PR_SET_NAME); C(PR_GET_NAME);
    C(PR_SET_CHILD_SUBREAPER); C(PR_GET_CHILD_SUBREAPER);
    // epoll_ctl opcodes (include/uapi/linux/eventpoll.h)
    C(EPOLL_CTL_ADD); C(EPOLL_CTL_DEL); C(EPOLL_CTL_MOD);
    // socket options and flags the model implements (include/uapi/asm-generic/socket.h, in.h)
    C(SO_REUSEADDR); C(SO_REUSEPORT); C(SO_BROADCAST); C(SO_SNDBUF); C(SO_RCVBUF); C(SO_TYPE);
    C(SO_ERROR); C(SO_PROTOCOL); C(SO_DOMAIN); C(IP_TTL); C(IP_HDRINCL);
    C(MSG_PEEK); C(MSG_TRUNC); C(MSG_DONTWAIT); C(IPPROTO_MAX);
    // interrupts (include/linux/irqreturn.h, interrupt.h) and netfilter verdicts and hooks
    C(IRQ_NONE); C(IRQ_HANDLED); C(IRQ_WAKE_THREAD); C(NR_IRQS);
    C(HI_SOFTIRQ); C(TIMER_SOFTIRQ); C(NET_TX_SOFTIRQ); C(NET_RX_SOFTIRQ); C(BLOCK_SOFTIRQ); C(IRQ_POLL_SOFTIRQ);
    C(TASKLET_SOFTIRQ); C(SCHED_SOFTIRQ); C(HRTIMER_SOFTIRQ); C(RCU_SOFTIRQ); C(NR_SOFTIRQS);
    C(NF_DROP); C(NF_ACCEPT);
    C(NF_INET_PRE_ROUTING); C(NF_INET_LOCAL_IN); C(NF_INET_FORWARD); C(NF_INET_LOCAL_OUT); C(NF_INET_POST_ROUTING);
#undef C
    py::list names;
    for (int i = 0; i < NR_SOFTIRQS; i++) names.append(softirq_to_name[i]);
    m.attr("softirq_to_name") = py::tuple(names);
}

}  // namespace gk
