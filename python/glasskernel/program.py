"""The program side: the `sys` object a user program receives, one awaitable per system call.

Each call yields a request tuple ``(syscall number, args...)`` (x86_64 numbers) to the engine,
which runs the system call in kernel mode on the task's kernel stack and sends back the result
(or throws ``OSError`` into the program). The awaitables are generator-based coroutines so that a
call costs as little as Python allows.
"""
from __future__ import annotations

import inspect
import operator
import os
import types
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

__all__ = ["Sys", "COMPUTE", "SigInfo", "EPOLL_CTL_ADD", "EPOLL_CTL_DEL", "EPOLL_CTL_MOD"]


class SigInfo(NamedTuple):
    """A dequeued kernel_siginfo."""

    si_signo: int
    si_code: int
    si_pid: int
    si_uid: int
    si_status: int
    si_value: int

COMPUTE = -1  # not a system call: user-mode CPU time, modeled by the engine
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3  # the EPOLL* event bits are in Python's select module


def _sockaddr(address) -> bytes:
    """A struct sockaddr_in for (host, port); None gives AF_UNSPEC. Raw bytes pass unchanged."""
    import socket as _socket
    import struct as _struct
    if address is None:
        return _struct.pack("<H", 0) + bytes(14)
    if isinstance(address, (bytes, bytearray)):
        return bytes(address)
    if not (isinstance(address, tuple) and len(address) == 2 and isinstance(address[0], str)):
        raise TypeError("an AF_INET address is a (host, port) tuple, like ('10.0.0.2', 9000)")
    host, port = address
    port = _int(port, "port")
    if not 0 <= port <= 65535:
        raise OverflowError("port must be 0-65535")
    try:
        packed = _socket.inet_aton(host if host else "0.0.0.0")
    except OSError:
        raise ValueError(f"not an IPv4 address: {host!r}") from None
    return _struct.pack("<H", 2) + _struct.pack("!H", port) + packed + bytes(8)


def _int(v: Any, what: str) -> int:
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(v).__name__}") from None


def _sigmask(signals: Iterable[int], what: str = "signal set") -> int:
    if isinstance(signals, (str, bytes)) or not hasattr(signals, "__iter__"):
        raise TypeError(f"{what} must be an iterable of signal numbers, like {{signal.SIGCHLD}}")
    mask = 0
    for s in signals:
        s = _int(s, "a signal number")
        if not 1 <= s <= 64:
            raise ValueError(f"signal {s} is out of range (1..64)")
        mask |= 1 << (s - 1)
    return mask


def _env_list(env: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if env is None:
        return []
    if isinstance(env, Mapping):
        return [f"{k}={v}" for k, v in env.items()]
    return [str(e) for e in env]


def _limit(v: int) -> int:
    v = _int(v, "a resource limit")
    return -1 if v < 0 else v


class Sys:
    """The system call interface a program sees: ``await sys.getpid()``.

    ``argv`` and ``environ`` are the process's arguments and environment from execve.
    """

    __slots__ = ("argv", "environ")

    def __init__(self, argv: list[str], envp: list[str]):
        self.argv = list(argv)
        self.environ = dict(e.split("=", 1) if "=" in e else (e, "") for e in envp)

    # ---- processes ----
    @types.coroutine
    def fork(self):
        """fork(): the child's pid in the parent, 0 in the child (glibc's clone(SIGCHLD))."""
        return (yield (56, 17))

    @types.coroutine
    def vfork(self):
        """vfork(): like fork, but the parent sleeps until the child execs or exits."""
        return (yield (58,))

    @types.coroutine
    def execve(self, path: str, argv: Sequence[str] | None = None, env=None):
        """Replace this program with the one at `path`; the pid stays. Does not return on success."""
        if not isinstance(path, str):
            raise TypeError("path must be a str, like '/bin/true'")
        argv = [path] if argv is None else [str(a) for a in argv]
        return (yield (59, path, argv, _env_list(env)))

    @types.coroutine
    def exit(self, code: int = 0):
        return (yield (60, _int(code, "exit code")))

    @types.coroutine
    def exit_group(self, code: int = 0):
        return (yield (231, _int(code, "exit code")))

    @types.coroutine
    def getpid(self):
        return (yield (39,))

    @types.coroutine
    def getppid(self):
        return (yield (110,))

    @types.coroutine
    def gettid(self):
        return (yield (186,))

    @types.coroutine
    def getpgrp(self):
        return (yield (111,))

    @types.coroutine
    def getpgid(self, pid: int = 0):
        return (yield (121, _int(pid, "pid")))

    @types.coroutine
    def setpgid(self, pid: int, pgid: int):
        return (yield (109, _int(pid, "pid"), _int(pgid, "pgid")))

    @types.coroutine
    def getsid(self, pid: int = 0):
        return (yield (124, _int(pid, "pid")))

    @types.coroutine
    def setsid(self):
        return (yield (112,))

    @types.coroutine
    def waitpid(self, pid: int, options: int = 0):
        """waitpid(pid, options) -> (pid, status), decoded with os.WIFEXITED etc."""
        return (yield (61, _int(pid, "pid"), _int(options, "options"), 0))

    @types.coroutine
    def wait(self):
        return (yield (61, -1, 0, 0))

    @types.coroutine
    def wait4(self, pid: int, options: int = 0):
        """wait4(pid, options) -> (pid, status, resource.struct_rusage)."""
        return (yield (61, _int(pid, "pid"), _int(options, "options"), 1))

    @types.coroutine
    def waitid(self, idtype: int, id: int, options: int):
        """waitid(idtype, id, options) -> os.waitid_result, or None (WNOHANG, nothing ready)."""
        return (yield (247, _int(idtype, "idtype"), _int(id, "id"), _int(options, "options")))

    @types.coroutine
    def sched_yield(self):
        return (yield (24,))

    @types.coroutine
    def sched_setscheduler(self, pid: int, policy: int, priority: int = 0):
        """os.SCHED_OTHER/BATCH/IDLE (priority 0) or os.SCHED_FIFO/RR (priority 1..99)."""
        return (yield (144, _int(pid, "pid"), _int(policy, "policy"), _int(priority, "priority")))

    @types.coroutine
    def sched_getscheduler(self, pid: int = 0):
        return (yield (145, _int(pid, "pid")))

    @types.coroutine
    def sched_setparam(self, pid: int, priority: int):
        return (yield (142, _int(pid, "pid"), _int(priority, "priority")))

    @types.coroutine
    def sched_getparam(self, pid: int = 0):
        """The real-time priority (0 for the normal policies)."""
        return (yield (143, _int(pid, "pid")))

    @types.coroutine
    def sched_get_priority_max(self, policy: int):
        return (yield (146, _int(policy, "policy")))

    @types.coroutine
    def sched_get_priority_min(self, policy: int):
        return (yield (147, _int(policy, "policy")))

    @types.coroutine
    def sched_rr_get_interval(self, pid: int = 0):
        return (yield (148, _int(pid, "pid")))

    @types.coroutine
    def sched_setaffinity(self, pid: int, cpus: Iterable[int]):
        mask = 0
        for c in cpus:
            c = _int(c, "a cpu number")
            if not 0 <= c < 64:
                raise ValueError(f"cpu {c} is out of range (0..63)")
            mask |= 1 << c
        return (yield (203, _int(pid, "pid"), mask))

    @types.coroutine
    def sched_getaffinity(self, pid: int = 0):
        return (yield (204, _int(pid, "pid")))

    @types.coroutine
    def getpriority(self, which: int = 0, who: int = 0):
        """The nice value (-20..19) of a process, group or user (os.PRIO_*)."""
        return (yield (140, _int(which, "which"), _int(who, "who")))

    @types.coroutine
    def setpriority(self, which: int, who: int, prio: int):
        return (yield (141, _int(which, "which"), _int(who, "who"), _int(prio, "priority")))

    @types.coroutine
    def nice(self, inc: int):
        """Add `inc` to this process's nice value and return the new one (glibc's nice())."""
        inc = _int(inc, "increment")
        cur = yield (140, 0, 0)
        yield (141, 0, 0, max(-20, min(19, cur + inc)))
        return (yield (140, 0, 0))

    @types.coroutine
    def compute(self, ns: int):
        """Burn `ns` nanoseconds of CPU in user mode (the tick and preemption happen meanwhile)."""
        ns = _int(ns, "ns")
        if ns < 0:
            raise ValueError("compute() takes a number of nanoseconds >= 0")
        return (yield (COMPUTE, ns))

    # ---- credentials and limits ----
    @types.coroutine
    def getuid(self):
        return (yield (102,))

    @types.coroutine
    def geteuid(self):
        return (yield (107,))

    @types.coroutine
    def getgid(self):
        return (yield (104,))

    @types.coroutine
    def getegid(self):
        return (yield (108,))

    @types.coroutine
    def setuid(self, uid: int):
        return (yield (105, _int(uid, "uid")))

    @types.coroutine
    def setgid(self, gid: int):
        return (yield (106, _int(gid, "gid")))

    @types.coroutine
    def getrlimit(self, resource: int):
        """-> (soft, hard); resource.RLIM_INFINITY (-1) means no limit."""
        return (yield (97, _int(resource, "resource")))

    @types.coroutine
    def setrlimit(self, resource: int, limits: tuple[int, int]):
        soft, hard = limits
        return (yield (160, _int(resource, "resource"), _limit(soft), _limit(hard)))

    @types.coroutine
    def prlimit(self, pid: int, resource: int, limits: tuple[int, int] | None = None):
        """-> the old (soft, hard); sets new limits when given."""
        if limits is None:
            return (yield (302, _int(pid, "pid"), _int(resource, "resource"), 0, 0, 0))
        soft, hard = limits
        return (yield (302, _int(pid, "pid"), _int(resource, "resource"), 1, _limit(soft), _limit(hard)))

    @types.coroutine
    def getrusage(self, who: int):
        return (yield (98, _int(who, "who")))

    @types.coroutine
    def prctl(self, option: int, arg2: int | str = 0):
        """prctl(): PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET/GET_PDEATHSIG, PR_SET/GET_NAME."""
        option = _int(option, "option")
        if isinstance(arg2, str):
            return (yield (157, option, 0, arg2))
        return (yield (157, option, _int(arg2, "arg2")))

    # ---- signals (the generation side; handlers arrive with the signals work) ----
    @types.coroutine
    def sigprocmask(self, how: int, signals: Iterable[int] | None):
        """-> the old blocked set. `how` is signal.SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK."""
        how = _int(how, "how")
        if signals is None:
            return (yield (14, how, 0, 0))
        return (yield (14, how, _sigmask(signals), 1))

    @types.coroutine
    def sigpending(self):
        return (yield (127,))

    @types.coroutine
    def sigtimedwait(self, signals: Iterable[int], timeout: float | None = None):
        """Wait for one of `signals` and return its number; OSError(EAGAIN) on time-out."""
        ns = -1 if timeout is None else int(timeout * 1e9)
        if timeout is not None and ns < 0:
            raise ValueError("timeout must be >= 0 seconds")
        return (yield (128, _sigmask(signals), ns))

    @types.coroutine
    def kill(self, pid: int, sig: int):
        """kill(pid, sig): pid > 0 one process, 0 our group, -1 everyone we may signal, < -1 group -pid."""
        return (yield (62, _int(pid, "pid"), _int(sig, "signal")))

    @types.coroutine
    def tgkill(self, tgid: int, tid: int, sig: int):
        return (yield (234, _int(tgid, "tgid"), _int(tid, "tid"), _int(sig, "signal")))

    @types.coroutine
    def sigqueue(self, pid: int, sig: int, value: int = 0):
        """Queue `sig` with an integer value (si_value); real-time signals queue in order."""
        return (yield (129, _int(pid, "pid"), _int(sig, "signal"), _int(value, "value")))

    @types.coroutine
    def sigaction(self, sig: int, handler=None, flags: int = 0, mask: Iterable[int] = ()):
        """Set the action of `sig`: signal.SIG_DFL, signal.SIG_IGN, or an ``async def handler(sys, signo)``
        (``handler(sys, signo, info)`` with SA_SIGINFO), with SA_* flags and a mask blocked while it
        runs. Returns the old handler; handler=None only reads it."""
        sig = _int(sig, "signal")
        if handler is None:
            return (yield (13, sig, 0, 0, 0, 0))
        if callable(handler) and not isinstance(handler, int):
            if not inspect.iscoroutinefunction(handler):
                raise TypeError("a signal handler must be an `async def handler(sys, signo)` function")
            return (yield (13, sig, handler, _int(flags, "flags"), _sigmask(mask, "mask"), 1))
        return (yield (13, sig, _int(handler, "handler"), _int(flags, "flags"), _sigmask(mask, "mask"), 1))

    def signal(self, sig: int, handler):
        """signal(sig, handler): sigaction with SA_RESTART, as glibc's signal() does."""
        return self.sigaction(sig, handler, 0x10000000)

    def signal_oneshot(self, sig: int, handler):
        """The System V signal() of seed 003: SA_ONESHOT | SA_NOMASK (SA_RESETHAND | SA_NODEFER)."""
        return self.sigaction(sig, handler, 0x80000000 | 0x40000000)

    @types.coroutine
    def pause(self):
        """Sleep until a signal is caught; raises InterruptedError (EINTR) after its handler."""
        return (yield (34,))

    @types.coroutine
    def sigsuspend(self, signals: Iterable[int]):
        """Replace the mask with `signals` and sleep until a handler runs; EINTR afterwards."""
        return (yield (130, _sigmask(signals)))

    @types.coroutine
    def alarm(self, seconds: int):
        """Deliver SIGALRM after `seconds`; returns the seconds left on the previous alarm."""
        return (yield (37, _int(seconds, "seconds")))

    @types.coroutine
    def setitimer(self, which: int, value: float, interval: float = 0.0):
        """-> the old (value, interval) in seconds. which: ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF."""
        v, i = int(value * 1e9), int(interval * 1e9)
        if v < 0 or i < 0:
            raise ValueError("itimer values must be >= 0 seconds")
        return (yield (38, _int(which, "which"), v, i))

    @types.coroutine
    def getitimer(self, which: int):
        return (yield (36, _int(which, "which")))

    @types.coroutine
    def sigwaitinfo(self, signals: Iterable[int], timeout: float | None = None):
        """Like sigtimedwait, but returns the SigInfo (si_signo, si_code, si_pid, si_uid, si_status, si_value)."""
        ns = -1 if timeout is None else int(timeout * 1e9)
        if timeout is not None and ns < 0:
            raise ValueError("timeout must be >= 0 seconds")
        return (yield (128, _sigmask(signals), ns, 1))

    # ---- time ----
    @types.coroutine
    def nanosleep(self, seconds: float):
        """Sleep; returns the time left (0.0 unless interrupted)."""
        ns = int(seconds * 1e9)
        if ns < 0:
            raise ValueError("cannot sleep a negative time")
        return (yield (35, ns))

    sleep = nanosleep

    @types.coroutine
    def clock_gettime(self, clock: int = 1):
        """Seconds on `clock` (time.CLOCK_MONOTONIC by default) of the virtual clock."""
        return (yield (228, _int(clock, "clock id")))

    # ---- files ----
    @types.coroutine
    def read(self, fd: int, n: int):
        return (yield (0, _int(fd, "fd"), _int(n, "count")))

    @types.coroutine
    def write(self, fd: int, data: bytes | str):
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"write() takes bytes or str, not {type(data).__name__}")
        return (yield (1, _int(fd, "fd"), bytes(data)))

    @types.coroutine
    def close(self, fd: int):
        return (yield (3, _int(fd, "fd")))

    @types.coroutine
    def dup(self, fd: int):
        return (yield (32, _int(fd, "fd")))

    @types.coroutine
    def dup2(self, fd: int, fd2: int):
        return (yield (33, _int(fd, "fd"), _int(fd2, "fd2")))

    # ---- sockets (net/socket.c); addresses are (host, port) tuples, as in Python's socket ----
    @types.coroutine
    def socket(self, family: int = 2, type: int = 2, proto: int = 0):
        """socket(2): AF_INET (2) with SOCK_DGRAM (2, UDP), SOCK_RAW (3) or SOCK_STREAM (1); returns the fd."""
        return (yield (41, _int(family, "family"), _int(type, "type"), _int(proto, "proto")))

    @types.coroutine
    def bind(self, fd: int, address):
        raw = _sockaddr(address)
        return (yield (49, _int(fd, "fd"), len(raw), b"", raw))

    @types.coroutine
    def connect(self, fd: int, address):
        """connect(2); address None dissolves the association (AF_UNSPEC)."""
        raw = _sockaddr(address)
        return (yield (42, _int(fd, "fd"), len(raw), b"", raw))

    @types.coroutine
    def listen(self, fd: int, backlog: int = 128):
        return (yield (50, _int(fd, "fd"), _int(backlog, "backlog")))

    @types.coroutine
    def sendto(self, fd: int, data: bytes | str, address=None, flags: int = 0):
        """sendto(2): returns the number of bytes sent; address None uses the connected peer."""
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"sendto() takes bytes or str, not {type(data).__name__}")
        raw = _sockaddr(address) if address is not None else b""
        return (yield (44, _int(fd, "fd"), _int(flags, "flags"), len(raw), bytes(data), raw))

    def send(self, fd: int, data: bytes | str, flags: int = 0):
        return self.sendto(fd, data, None, flags)

    @types.coroutine
    def recvfrom(self, fd: int, bufsize: int, flags: int = 0):
        """recvfrom(2): (data, (host, port)); blocks until a datagram comes unless MSG_DONTWAIT."""
        return (yield (45, _int(fd, "fd"), _int(bufsize, "bufsize"), _int(flags, "flags")))

    @types.coroutine
    def recvmsg(self, fd: int, bufsize: int, flags: int = 0):
        """(data, return value, msg_flags, (host, port)): with MSG_TRUNC the return value is the
        datagram's real length, and msg_flags has MSG_TRUNC when it was cut."""
        return (yield (45, _int(fd, "fd"), _int(bufsize, "bufsize"), _int(flags, "flags"), None, True))

    async def recv(self, fd: int, bufsize: int, flags: int = 0) -> bytes:
        data, _ = await self.recvfrom(fd, bufsize, flags)
        return data

    @types.coroutine
    def getsockname(self, fd: int):
        return (yield (51, _int(fd, "fd")))

    @types.coroutine
    def getpeername(self, fd: int):
        return (yield (52, _int(fd, "fd")))

    @types.coroutine
    def setsockopt(self, fd: int, level: int, option: int, value: int):
        return (yield (54, _int(fd, "fd"), _int(level, "level"), _int(option, "option"), _int(value, "value")))

    @types.coroutine
    def getsockopt(self, fd: int, level: int, option: int):
        return (yield (55, _int(fd, "fd"), _int(level, "level"), _int(option, "option")))

    # ---- epoll (fs/eventpoll.c); constants as in Python's select module ----
    @types.coroutine
    def epoll_create1(self, flags: int = 0):
        return (yield (291, _int(flags, "flags")))

    @types.coroutine
    def epoll_create(self, size: int = 1):
        return (yield (213, _int(size, "size")))

    @types.coroutine
    def epoll_ctl(self, epfd: int, op: int, fd: int, events: int = 0, data: int | None = None):
        """EPOLL_CTL_ADD / MOD / DEL; `data` (default: the fd) comes back from epoll_wait."""
        fd = _int(fd, "fd")
        return (yield (233, _int(epfd, "epfd"), _int(op, "op"), fd, _int(events, "events") & 0xFFFFFFFF,
                       fd if data is None else _int(data, "data")))

    @types.coroutine
    def epoll_wait(self, epfd: int, maxevents: int = 64, timeout: int = -1):
        """[(data, events), ...] of the ready items; timeout in ms, -1 waits for ever."""
        return (yield (232, _int(epfd, "epfd"), _int(maxevents, "maxevents"), _int(timeout, "timeout")))

    @types.coroutine
    def shutdown(self, fd: int, how: int):
        return (yield (48, _int(fd, "fd"), _int(how, "how")))

    @types.coroutine
    def print(self, *args: Any, sep: str = " ", end: str = "\n", fd: int = 1):
        """Like print(): one write() of the formatted line to fd 1 (the console)."""
        return (yield (1, fd, (sep.join(str(a) for a in args) + end).encode()))
