"""glasskernel: a Linux kernel you can open.

An executable model of Linux's processes, signals, scheduler and sockets, written in C++ that
reads like the Linux source, driven from Python. Start with ``gk.Kernel()``.
"""
from . import _core
from .kernel import Breakpoint, Kernel, KernelInconsistency, ReplayDivergence, Stop
from .net import Network
from . import kthread, net
from .program import EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, Sys
from .trace import Event, Trace

# Constants Python's os/signal modules lack.
SA_NOCLDSTOP = 0x00000001
SA_NOCLDWAIT = 0x00000002
SA_SIGINFO = 0x00000004
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
__WNOTHREAD = 0x20000000
__WALL = 0x40000000
__WCLONE = 0x80000000
PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_NAME = 15
PR_GET_NAME = 16
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37

__all__ = ["Kernel", "Network", "Stop", "Breakpoint", "KernelInconsistency", "ReplayDivergence", "Sys", "Event", "Trace"]
__version__ = "0.1.0"
