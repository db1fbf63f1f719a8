"""glasskernel: a Linux kernel you can open.

An executable model of Linux's processes, signals, scheduler and sockets, written in C++ that
reads like the Linux source, driven from Python. Start with ``gk.Kernel()``.
"""
from . import _core
from ._core import (  # the uapi constants Python's os, signal and socket modules lack
    CLD_CONTINUED, CLD_DUMPED, CLD_EXITED, CLD_KILLED, CLD_STOPPED, CLD_TRAPPED, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
    EPOLL_CTL_MOD, PR_GET_CHILD_SUBREAPER, PR_GET_NAME, PR_GET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NAME,
    PR_SET_PDEATHSIG, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART, SA_RESTORER,
    SA_SIGINFO, SI_KERNEL, SI_QUEUE, SI_TKILL, SI_USER, __WALL, __WCLONE, __WNOTHREAD, Buf, InOut, Out, OutBuf,
    ReplayDivergence, SigInfo,
)
from .kernel import Breakpoint, Kernel, KernelInconsistency, KernelOutOfMemory, KernelPanic, Stop
from .net import Network
from . import kthread, net
from .program import Sys
from .syscalls import NR, sys_call_table
trace_names = _core.trace_names  # every name a trace event can have (k.break_at accepts these)
from .trace import Event, Trace

__all__ = ["Kernel", "Network", "Stop", "Breakpoint", "KernelInconsistency", "KernelPanic", "KernelOutOfMemory", "ReplayDivergence", "Sys", "Event", "Trace",
           "NR", "sys_call_table", "trace_names", "SigInfo", "Out", "OutBuf", "InOut", "Buf"]
__version__ = "0.1.0"
