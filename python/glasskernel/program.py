"""The program side: the `sys` object a user program receives, one awaitable per system call.

Each method yields a request ``(NR.<call>, arg, ...)`` with the arguments in the order and the C
types of the kernel's ``SYSCALL_DEFINE`` for that call; the engine converts each one by its
declared type (an ``int`` must fit a C ``int``; a ``struct timespec __user *`` becomes 16 bytes in
the process's user memory), runs the call in kernel mode, and sends back the return value, with
what the kernel wrote to ``Out(...)`` arguments read back by type (or throws ``OSError`` into the
program). The methods then shape the result as Python's ``os``, ``signal`` and ``socket`` modules
do. They are generator-based coroutines so that a call costs as little as Python allows.
"""
from __future__ import annotations

import errno as _errno
import inspect
import operator
import types
from typing import Any, Iterable, Mapping, Sequence

from . import _core
from ._core import COMPUTE, RAW, Buf, InOut, Out, OutBuf, SigInfo
from .syscalls import NR

# The request of a call without arguments is one tuple made once: a program that loops on
# getpid() allocates nothing per call, and its replay log holds the same object each time.
_NOARGS = {nr: (nr,) for nr in (NR.vfork, NR.getpid, NR.getppid, NR.gettid, NR.getpgrp, NR.setsid, NR.getuid, NR.geteuid, NR.getgid, NR.getegid)}

__all__ = ["Sys", "SigInfo", "Out", "OutBuf", "InOut", "Buf"]

_SIGSETSIZE = 8  # sizeof(sigset_t) on x86_64: what rt_sig* calls are told
# Markers used on every call are made once (they are immutable).
_OUT = Out()
_STATUS = InOut(0)              # int status = 0, as Python's os.waitpid starts it
_RUSAGE = InOut(bytes(144))     # struct rusage, zeroed as os.wait4 does when nothing is reaped
_ADDR = InOut(bytes(16))        # room for a struct sockaddr_in, zeroed (AF_UNSPEC if nothing is written)
_ADDRLEN = InOut(16)            # socklen_t addrlen = sizeof(struct sockaddr_in)
_SIGCHLD = 17
_PIPEFDS = Out(2)              # int fildes[2]
_SA_RESTART = _core.SA_RESTART
_SOCKADDR_IN = 16  # sizeof(struct sockaddr_in)
_PR_SET_NAME, _PR_GET_NAME = _core.PR_SET_NAME, _core.PR_GET_NAME
_PR_GET_PDEATHSIG, _PR_GET_CHILD_SUBREAPER = _core.PR_GET_PDEATHSIG, _core.PR_GET_CHILD_SUBREAPER


def _int(v: Any, what: str) -> int:
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(v).__name__}") from None


def _env_list(env: Mapping[str, str] | Sequence[str] | None) -> list[str]:
    if env is None:
        return []
    if isinstance(env, Mapping):
        return [f"{k}={v}" for k, v in env.items()]
    return [str(e) for e in env]


def _addr(address) -> tuple[Any, int]:
    """A socket address and its length: (host, port) and None (AF_UNSPEC) are sockaddr_in's 16
    bytes; raw bytes pass as they are, with their own length."""
    if isinstance(address, (bytes, bytearray)):
        return bytes(address), len(address)
    if address is None:
        return bytes(_SOCKADDR_IN), _SOCKADDR_IN  # sa_family 0: AF_UNSPEC
    return address, _SOCKADDR_IN


def _bytes(data: Any, what: str) -> bytes:
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} takes bytes or str, not {type(data).__name__}")


class Sys:
    """The system call interface a program sees: ``await sys.getpid()``.

    ``argv`` and ``environ`` are the process's arguments and environment from execve.
    """

    __slots__ = ("argv", "environ")

    def __init__(self, argv: list[str], envp: list[str]):
        self.argv = list(argv)
        self.environ = dict(e.split("=", 1) if "=" in e else (e, "") for e in envp)

    # ---- the raw interface ----
    @types.coroutine
    def syscall(self, nr: int, *args: Any):
        """syscall(2): call number `nr` with register values as given (ints, or bytes/str placed
        in user memory, or Out(...)/OutBuf(...) for room the kernel writes to, whose contents
        come back after the return value). Unused registers are 0."""
        return (yield (RAW, _int(nr, "nr"), *args))

    # ---- processes ----
    @types.coroutine
    def fork(self):
        """fork(): the child's pid in the parent, 0 in the child (glibc's clone(SIGCHLD))."""
        return (yield (NR.clone, _SIGCHLD, 0, None, None, 0))

    @types.coroutine
    def vfork(self):
        """vfork(): like fork, but sharing the address space; the parent sleeps until the child
        execs or exits."""
        return (yield _NOARGS[NR.vfork])

    @types.coroutine
    def execve(self, path: str, argv: Sequence[str] | None = None, env=None):
        """Replace this program with the one at `path`; the pid stays. Does not return on success."""
        if not isinstance(path, (str, bytes)):
            raise TypeError("path must be a str, like '/bin/true'")
        argv = [path] if argv is None else list(argv)
        return (yield (NR.execve, path, argv, _env_list(env)))

    @types.coroutine
    def exit(self, code: int = 0):
        """_exit(2): ends this task with status (code & 0xff)."""
        return (yield (NR.exit, code))

    @types.coroutine
    def exit_group(self, code: int = 0):
        return (yield (NR.exit_group, code))

    @types.coroutine
    def getpid(self):
        return (yield _NOARGS[NR.getpid])

    @types.coroutine
    def getppid(self):
        return (yield _NOARGS[NR.getppid])

    @types.coroutine
    def gettid(self):
        return (yield _NOARGS[NR.gettid])

    @types.coroutine
    def getpgrp(self):
        return (yield _NOARGS[NR.getpgrp])

    @types.coroutine
    def getpgid(self, pid: int = 0):
        return (yield (NR.getpgid, pid))

    @types.coroutine
    def setpgid(self, pid: int, pgid: int):
        yield (NR.setpgid, pid, pgid)

    @types.coroutine
    def getsid(self, pid: int = 0):
        return (yield (NR.getsid, pid))

    @types.coroutine
    def setsid(self):
        """setsid() -> the new session id."""
        return (yield _NOARGS[NR.setsid])

    @types.coroutine
    def waitpid(self, pid: int, options: int = 0):
        """waitpid(pid, options) -> (pid, status), decoded with os.WIFEXITED etc.; (0, 0) when
        WNOHANG finds nothing ready."""
        pid, status = yield (NR.wait4, pid, _STATUS, options, None)
        return pid, status

    @types.coroutine
    def wait(self):
        pid, status = yield (NR.wait4, -1, _STATUS, 0, None)
        return pid, status

    @types.coroutine
    def wait4(self, pid: int, options: int = 0):
        """wait4(pid, options) -> (pid, status, resource.struct_rusage)."""
        return (yield (NR.wait4, pid, _STATUS, options, _RUSAGE))

    @types.coroutine
    def waitid(self, idtype: int, id: int, options: int):
        """waitid(idtype, id, options) -> os.waitid_result, or None (WNOHANG, nothing ready)."""
        _, info = yield (NR.waitid, idtype, id, _OUT, options, None)
        if info.si_pid == 0:
            return None
        return _waitid_result((info.si_pid, info.si_uid, info.si_signo, info.si_status, info.si_code))

    @types.coroutine
    def sched_yield(self):
        yield (NR.sched_yield,)

    @types.coroutine
    def sched_setscheduler(self, pid: int, policy: int, priority: int = 0):
        """os.SCHED_OTHER/BATCH/IDLE (priority 0) or os.SCHED_FIFO/RR (priority 1..99)."""
        yield (NR.sched_setscheduler, pid, policy, priority)

    @types.coroutine
    def sched_getscheduler(self, pid: int = 0):
        return (yield (NR.sched_getscheduler, pid))

    @types.coroutine
    def sched_setparam(self, pid: int, priority: int):
        yield (NR.sched_setparam, pid, priority)

    @types.coroutine
    def sched_getparam(self, pid: int = 0):
        """The real-time priority (0 for the normal policies)."""
        _, prio = yield (NR.sched_getparam, pid, _OUT)
        return prio

    @types.coroutine
    def sched_get_priority_max(self, policy: int):
        return (yield (NR.sched_get_priority_max, policy))

    @types.coroutine
    def sched_get_priority_min(self, policy: int):
        return (yield (NR.sched_get_priority_min, policy))

    @types.coroutine
    def sched_rr_get_interval(self, pid: int = 0):
        """The round-robin time slice, in seconds."""
        _, interval = yield (NR.sched_rr_get_interval, pid, _OUT)
        return interval

    @types.coroutine
    def sched_setaffinity(self, pid: int, cpus: Iterable[int]):
        """Allow `pid` (0: this process) only on `cpus`; CPUs the machine lacks are ignored."""
        mask = 0
        for c in cpus:
            c = _int(c, "a cpu number")
            if c < 0:
                raise ValueError("negative CPU number")
            mask |= 1 << c
        words = max(1, (mask.bit_length() + 63) // 64)
        raw = mask.to_bytes(8 * words, "little")
        yield (NR.sched_setaffinity, pid, len(raw), raw)

    @types.coroutine
    def sched_getaffinity(self, pid: int = 0):
        """-> the set of CPUs `pid` may run on."""
        _, mask = yield (NR.sched_getaffinity, pid, 8, _OUT)
        return {c for c in range(64) if mask >> c & 1}

    @types.coroutine
    def getpriority(self, which: int = 0, who: int = 0):
        """The nice value (-20..19) of a process, group or user (os.PRIO_*); the kernel returns
        20 - nice so that no valid value looks like an error, and libc converts back."""
        return 20 - (yield (NR.getpriority, which, who))

    @types.coroutine
    def setpriority(self, which: int, who: int, prio: int):
        yield (NR.setpriority, which, who, prio)

    @types.coroutine
    def nice(self, inc: int):
        """Add `inc` to this process's nice value and return the new one (glibc's nice():
        getpriority, setpriority, getpriority; EACCES is reported as EPERM)."""
        inc = _int(inc, "increment")
        cur = 20 - (yield (NR.getpriority, 0, 0))
        try:
            yield (NR.setpriority, 0, 0, max(-(2**31), min(2**31 - 1, cur + inc)))
        except PermissionError as e:
            if e.errno == _errno.EACCES:
                raise PermissionError(_errno.EPERM, "Operation not permitted") from None
            raise
        return 20 - (yield (NR.getpriority, 0, 0))

    @types.coroutine
    def compute(self, ns: int):
        """Burn `ns` nanoseconds of CPU in user mode (the tick and preemption happen meanwhile)."""
        ns = _int(ns, "ns")
        if ns < 0:
            raise ValueError("compute() takes a number of nanoseconds >= 0")
        if ns >= 2**63:
            raise OverflowError("compute() takes at most 2**63-1 nanoseconds")
        yield (COMPUTE, ns)

    # ---- credentials and limits ----
    @types.coroutine
    def getuid(self):
        return (yield _NOARGS[NR.getuid])

    @types.coroutine
    def geteuid(self):
        return (yield _NOARGS[NR.geteuid])

    @types.coroutine
    def getgid(self):
        return (yield _NOARGS[NR.getgid])

    @types.coroutine
    def getegid(self):
        return (yield _NOARGS[NR.getegid])

    @types.coroutine
    def setuid(self, uid: int):
        yield (NR.setuid, uid)

    @types.coroutine
    def setgid(self, gid: int):
        yield (NR.setgid, gid)

    @types.coroutine
    def getrlimit(self, resource: int):
        """-> (soft, hard); resource.RLIM_INFINITY (-1) means no limit."""
        _, limits = yield (NR.getrlimit, resource, _OUT)
        return limits

    @types.coroutine
    def setrlimit(self, resource: int, limits: tuple[int, int]):
        yield (NR.setrlimit, resource, tuple(limits))

    @types.coroutine
    def prlimit(self, pid: int, resource: int, limits: tuple[int, int] | None = None):
        """-> the old (soft, hard); sets new limits when given."""
        _, old = yield (NR.prlimit64, pid, resource, None if limits is None else tuple(limits), _OUT)
        return old

    @types.coroutine
    def getrusage(self, who: int):
        _, usage = yield (NR.getrusage, who, _OUT)
        return usage

    @types.coroutine
    def prctl(self, option: int, arg2: int | str = 0):
        """prctl(): PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER, PR_SET/GET_PDEATHSIG, PR_SET/GET_NAME."""
        option = _int(option, "option")
        if option == _PR_SET_NAME:
            if not isinstance(arg2, (str, bytes)):
                raise TypeError("PR_SET_NAME takes the name as a str")
            name = arg2.encode("utf-8", "surrogateescape") if isinstance(arg2, str) else arg2
            yield (NR.prctl, option, Buf(name + b"\0"), 0, 0, 0)
            return None
        if option == _PR_GET_NAME:
            _, comm = yield (NR.prctl, option, Out(16), 0, 0, 0)
            return comm.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        if option in (_PR_GET_PDEATHSIG, _PR_GET_CHILD_SUBREAPER):
            _, raw = yield (NR.prctl, option, Out(4), 0, 0, 0)
            return int.from_bytes(raw, "little", signed=True)
        return (yield (NR.prctl, option, arg2, 0, 0, 0))

    # ---- signals ----
    @types.coroutine
    def sigprocmask(self, how: int, signals: Iterable[int] | None):
        """-> the old blocked set. `how` is signal.SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK."""
        _, old = yield (NR.rt_sigprocmask, how, signals, _OUT, _SIGSETSIZE)
        return old

    @types.coroutine
    def sigpending(self):
        _, pending = yield (NR.rt_sigpending, _OUT, _SIGSETSIZE)
        return pending

    @types.coroutine
    def sigtimedwait(self, signals: Iterable[int], timeout: float | None = None):
        """Wait for one of `signals` and return its number; OSError(EAGAIN) on time-out."""
        return (yield (NR.rt_sigtimedwait, signals, None, timeout, _SIGSETSIZE))

    @types.coroutine
    def sigwaitinfo(self, signals: Iterable[int], timeout: float | None = None):
        """Like sigtimedwait, but returns the SigInfo (si_signo, si_code, si_pid, si_uid, si_status, si_value)."""
        _, info = yield (NR.rt_sigtimedwait, signals, _OUT, timeout, _SIGSETSIZE)
        return info

    @types.coroutine
    def kill(self, pid: int, sig: int):
        """kill(pid, sig): pid > 0 one process, 0 our group, -1 everyone we may signal, < -1 group -pid."""
        yield (NR.kill, pid, sig)

    @types.coroutine
    def tgkill(self, tgid: int, tid: int, sig: int):
        yield (NR.tgkill, tgid, tid, sig)

    @types.coroutine
    def sigqueue(self, pid: int, sig: int, value: int = 0):
        """Queue `sig` with an integer value (si_value); real-time signals queue in order. As
        glibc does: the siginfo says SI_QUEUE and who sends it."""
        me = yield (NR.getpid,)
        uid = yield (NR.getuid,)
        yield (NR.rt_sigqueueinfo, pid, sig, SigInfo(sig, _core.SI_QUEUE, me, uid, 0, value))

    @types.coroutine
    def sigaction(self, sig: int, handler=None, flags: int = 0, mask: Iterable[int] = ()):
        """Set the action of `sig`: signal.SIG_DFL, signal.SIG_IGN, or an ``async def handler(sys, signo)``
        (``handler(sys, signo, info)`` with SA_SIGINFO), with SA_* flags and a mask blocked while it
        runs. Returns the old handler; handler=None only reads it."""
        if handler is None:
            _, old = yield (NR.rt_sigaction, sig, None, _OUT, _SIGSETSIZE)
            return old[0]
        if callable(handler) and not isinstance(handler, int) and not inspect.iscoroutinefunction(handler):
            raise TypeError("a signal handler must be an `async def handler(sys, signo)` function")
        _, old = yield (NR.rt_sigaction, sig, (handler, flags, mask), _OUT, _SIGSETSIZE)
        return old[0]

    def signal(self, sig: int, handler):
        """signal(sig, handler): sigaction with SA_RESTART, as glibc's signal() does."""
        return self.sigaction(sig, handler, _SA_RESTART)

    def signal_oneshot(self, sig: int, handler):
        """The System V signal(): SA_ONESHOT | SA_NOMASK (SA_RESETHAND | SA_NODEFER)."""
        return self.sigaction(sig, handler, _core.SA_RESETHAND | _core.SA_NODEFER)

    @types.coroutine
    def pause(self):
        """Sleep until a signal is caught; raises InterruptedError (EINTR) after its handler."""
        yield (NR.pause,)

    @types.coroutine
    def sigsuspend(self, signals: Iterable[int]):
        """Replace the mask with `signals` and sleep until a handler runs; EINTR afterwards."""
        yield (NR.rt_sigsuspend, signals, _SIGSETSIZE)

    @types.coroutine
    def alarm(self, seconds: int):
        """Deliver SIGALRM after `seconds`; returns the seconds left on the previous alarm."""
        return (yield (NR.alarm, seconds))

    @types.coroutine
    def setitimer(self, which: int, value: float, interval: float = 0.0):
        """-> the old (value, interval) in seconds. which: ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF."""
        _, old = yield (NR.setitimer, which, (value, interval), _OUT)
        return old

    @types.coroutine
    def getitimer(self, which: int):
        _, cur = yield (NR.getitimer, which, _OUT)
        return cur

    # ---- time ----
    @types.coroutine
    def nanosleep(self, seconds: float):
        """Sleep. A handler that interrupts the sleep makes it raise InterruptedError (EINTR)
        whose `remaining` is the time that was left, in seconds (nanosleep(2)'s rem)."""
        try:
            yield (NR.nanosleep, seconds, _OUT)
        except InterruptedError as e:
            e.remaining = e.outs[0] if getattr(e, "outs", None) else 0.0
            raise

    @types.coroutine
    def sleep(self, seconds: int):
        """sleep(3): whole seconds; returns the seconds left unslept if a handler interrupted it
        (glibc returns the remaining tv_sec, fractions dropped)."""
        try:
            yield (NR.nanosleep, (seconds, 0), _OUT)
        except InterruptedError as e:
            return int(e.outs[0]) if getattr(e, "outs", None) else 0
        return 0

    @types.coroutine
    def clock_gettime(self, clock: int = 1):
        """Seconds on `clock` (time.CLOCK_MONOTONIC by default) of the virtual clock."""
        _, t = yield (NR.clock_gettime, clock, _OUT)
        return t

    # ---- files ----
    @types.coroutine
    def read(self, fd: int, n: int):
        """read(2): at most `n` bytes."""
        n = _int(n, "count")
        data = yield (NR.read, fd, OutBuf(n if n >= 0 else 0), n)
        return data[1]

    @types.coroutine
    def write(self, fd: int, data: bytes | str):
        """write(2) -> the number of bytes written."""
        data = _bytes(data, "write()")
        return (yield (NR.write, fd, data, len(data)))

    @types.coroutine
    def close(self, fd: int):
        yield (NR.close, fd)

    @types.coroutine
    def dup(self, fd: int):
        return (yield (NR.dup, fd))

    @types.coroutine
    def dup2(self, fd: int, fd2: int):
        return (yield (NR.dup2, fd, fd2))

    @types.coroutine
    def dup3(self, fd: int, fd2: int, flags: int):
        return (yield (NR.dup3, fd, fd2, flags))

    @types.coroutine
    def pipe(self):
        """pipe(2) -> (read_fd, write_fd), as os.pipe()."""
        _, fds = yield (NR.pipe, _PIPEFDS)
        return fds[0], fds[1]

    @types.coroutine
    def pipe2(self, flags: int = 0):
        """pipe2(2) -> (read_fd, write_fd); flags: os.O_CLOEXEC, os.O_NONBLOCK, os.O_DIRECT (packets)."""
        _, fds = yield (NR.pipe2, _PIPEFDS, flags)
        return fds[0], fds[1]

    @types.coroutine
    def fcntl(self, fd: int, cmd: int, arg: int = 0):
        """fcntl(2) with an int argument, as fcntl.fcntl(): F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD,
        F_GETFL/F_SETFL, F_GETPIPE_SZ/F_SETPIPE_SZ (constants from Python's fcntl module)."""
        return (yield (NR.fcntl, fd, cmd, arg))

    @types.coroutine
    def lseek(self, fd: int, pos: int, how: int):
        """lseek(2) -> the new offset; a pipe, socket or terminal has none (ESPIPE)."""
        return (yield (NR.lseek, fd, pos, how))

    @types.coroutine
    def pread(self, fd: int, n: int, offset: int):
        """pread64(2): at most `n` bytes from `offset`."""
        n = _int(n, "count")
        data = yield (NR.pread64, fd, OutBuf(n if n >= 0 else 0), n, offset)
        return data[1]

    @types.coroutine
    def pwrite(self, fd: int, data: bytes | str, offset: int):
        """pwrite64(2) -> the number of bytes written at `offset`."""
        data = _bytes(data, "pwrite()")
        return (yield (NR.pwrite64, fd, data, len(data), offset))

    @types.coroutine
    def poll(self, fds: Iterable[tuple[int, int]] | Mapping[int, int], timeout: int = -1):
        """poll(2) on [(fd, events), ...] (or {fd: events}); timeout in ms, negative waits for ever.
        Returns [(fd, revents), ...] for the descriptors with something to report, as
        select.poll().poll() does (constants from Python's select module)."""
        items = list(fds.items()) if isinstance(fds, Mapping) else [tuple(p) for p in fds]
        ret, pfds = yield (NR.poll, InOut(items), len(items), timeout)
        return [(fd, rev) for fd, _, rev in pfds if rev]

    @types.coroutine
    def select(self, rlist: Iterable[int], wlist: Iterable[int], xlist: Iterable[int], timeout: float | None = None):
        """select(2) -> (readable, writable, exceptional), as select.select(); timeout in seconds,
        None waits for ever."""
        sets = [sorted({_int(fd, "a descriptor") for fd in s}) for s in (rlist, wlist, xlist)]
        n = max((s[-1] for s in sets if s), default=-1) + 1
        tv = None if timeout is None else InOut(timeout)
        res = yield (NR.select, n, InOut(sets[0]), InOut(sets[1]), InOut(sets[2]), tv)
        return res[1], res[2], res[3]

    # ---- sockets (net/socket.c); addresses are (host, port) tuples, as in Python's socket ----
    @types.coroutine
    def socket(self, family: int = 2, type: int = 2, proto: int = 0):
        """socket(2): AF_INET (2) with SOCK_DGRAM (2, UDP), SOCK_RAW (3) or SOCK_STREAM (1); returns the fd."""
        return (yield (NR.socket, family, type, proto))

    @types.coroutine
    def bind(self, fd: int, address):
        addr, length = _addr(address)
        yield (NR.bind, fd, addr, length)

    @types.coroutine
    def connect(self, fd: int, address):
        """connect(2); address None dissolves the association (AF_UNSPEC)."""
        addr, length = _addr(address)
        yield (NR.connect, fd, addr, length)

    @types.coroutine
    def listen(self, fd: int, backlog: int = 128):
        yield (NR.listen, fd, backlog)

    @types.coroutine
    def accept(self, fd: int):
        """accept(2) -> (new fd, (host, port) of the peer), as socket.accept() gives them."""
        newfd, addr, _ = yield (NR.accept, fd, _ADDR, _ADDRLEN)
        return newfd, addr

    @types.coroutine
    def accept4(self, fd: int, flags: int = 0):
        """accept4(2): flags SOCK_NONBLOCK / SOCK_CLOEXEC for the new descriptor."""
        newfd, addr, _ = yield (NR.accept4, fd, _ADDR, _ADDRLEN, flags)
        return newfd, addr

    @types.coroutine
    def sendto(self, fd: int, data: bytes | str, address=None, flags: int = 0):
        """sendto(2): returns the number of bytes sent; address None uses the connected peer."""
        data = _bytes(data, "sendto()")
        if address is None:
            return (yield (NR.sendto, fd, data, len(data), flags, None, 0))
        addr, length = _addr(address)
        return (yield (NR.sendto, fd, data, len(data), flags, addr, length))

    def send(self, fd: int, data: bytes | str, flags: int = 0):
        return self.sendto(fd, data, None, flags)

    @types.coroutine
    def recvfrom(self, fd: int, bufsize: int, flags: int = 0):
        """recvfrom(2): (data, (host, port)); blocks until a datagram comes unless MSG_DONTWAIT."""
        bufsize = _int(bufsize, "bufsize")
        _, data, addr, _ = yield (NR.recvfrom, fd, OutBuf(max(bufsize, 0)), bufsize, flags, _ADDR,
                                  _ADDRLEN)
        return data, addr

    @types.coroutine
    def recv(self, fd: int, bufsize: int, flags: int = 0):
        bufsize = _int(bufsize, "bufsize")
        _, data = yield (NR.recvfrom, fd, OutBuf(max(bufsize, 0)), bufsize, flags, None, None)
        return data

    @types.coroutine
    def recvmsg(self, fd: int, bufsize: int, flags: int = 0):
        """recvmsg(2) -> (data, return value, msg_flags, (host, port)): with MSG_TRUNC the return
        value is the datagram's real length, and msg_flags has MSG_TRUNC when it was cut."""
        ret, (addr, bufs, msg_flags) = yield (NR.recvmsg, fd, InOut((_SOCKADDR_IN, [max(_int(bufsize, "bufsize"), 0)], None)), flags)
        return b"".join(bufs), ret, msg_flags, addr

    @types.coroutine
    def sendmsg(self, fd: int, buffers: Sequence[bytes], address=None, flags: int = 0):
        """sendmsg(2): the buffers gathered into one datagram; returns the bytes sent."""
        bufs = [_bytes(b, "sendmsg()") for b in buffers]
        return (yield (NR.sendmsg, fd, (address, bufs, None), flags))

    @types.coroutine
    def getsockname(self, fd: int):
        _, addr, _ = yield (NR.getsockname, fd, _ADDR, _ADDRLEN)
        return addr

    @types.coroutine
    def getpeername(self, fd: int):
        _, addr, _ = yield (NR.getpeername, fd, _ADDR, _ADDRLEN)
        return addr

    @types.coroutine
    def setsockopt(self, fd: int, level: int, option: int, value: int | bytes):
        """An int value goes as a C int; bytes as they are."""
        if isinstance(value, (bytes, bytearray)):
            yield (NR.setsockopt, fd, level, option, bytes(value), len(value))
            return
        value = _int(value, "value")
        if not -(2**31) <= value < 2**31:
            raise OverflowError("an int socket option must fit a C int")
        yield (NR.setsockopt, fd, level, option, value.to_bytes(4, "little", signed=True), 4)

    @types.coroutine
    def getsockopt(self, fd: int, level: int, option: int, buflen: int | None = None):
        """An int option as an int; with `buflen`, the raw bytes (at most buflen)."""
        room = 4 if buflen is None else max(_int(buflen, "buflen"), 0)
        _, raw, optlen = yield (NR.getsockopt, fd, level, option, Out(room), InOut(room if buflen is None else buflen))
        raw = raw[:max(0, min(optlen, len(raw)))]
        if buflen is not None:
            return raw
        return int.from_bytes(raw, "little", signed=True)

    @types.coroutine
    def shutdown(self, fd: int, how: int):
        yield (NR.shutdown, fd, how)

    # ---- epoll (fs/eventpoll.c); constants as in Python's select module ----
    @types.coroutine
    def epoll_create1(self, flags: int = 0):
        return (yield (NR.epoll_create1, flags))

    @types.coroutine
    def epoll_create(self, size: int = 1):
        return (yield (NR.epoll_create, size))

    @types.coroutine
    def epoll_ctl(self, epfd: int, op: int, fd: int, events: int = 0, data: int | None = None):
        """EPOLL_CTL_ADD / MOD / DEL; `data` (default: the fd) comes back from epoll_wait."""
        fd = _int(fd, "fd")
        ev = (_int(events, "events") & 0xFFFFFFFF, (fd if data is None else _int(data, "data")) & 0xFFFFFFFFFFFFFFFF)
        yield (NR.epoll_ctl, epfd, op, fd, ev)

    @types.coroutine
    def epoll_wait(self, epfd: int, maxevents: int = 64, timeout: int = -1):
        """[(data, events), ...] of the ready items; timeout in ms, -1 waits for ever."""
        maxevents = _int(maxevents, "maxevents")
        _, events = yield (NR.epoll_wait, epfd, OutBuf(max(maxevents, 0)), maxevents, timeout)
        return events

    @types.coroutine
    def print(self, *args: Any, sep: str = " ", end: str = "\n", fd: int = 1):
        """Like print(): one write() of the formatted line to fd 1 (the console)."""
        data = (sep.join(str(a) for a in args) + end).encode()
        return (yield (NR.write, fd, data, len(data)))


def _waitid_result(fields):
    import os
    return os.waitid_result(fields)
