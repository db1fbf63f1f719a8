"""The Kernel: one simulated machine, and the verbs to script it (program, spawn, run, step)."""
from __future__ import annotations

import inspect
import operator
from typing import Any, Callable, Sequence

from . import _core
from ._util import check_int, check_ns
from . import interrupts as _interrupts
from . import kthread as _kthread
from . import net as _net
from . import sched_view as _sched
from .display import kernel_html, proc_status, ps_table, pstree_text
from .program import Sys
from .trace import Event, Trace

_core._set_user_api(Sys)

STEP_MODES = ("function", "syscall", "switch", "tick")


KernelInconsistency = _core.KernelInconsistency
KernelInconsistency.__doc__ = "The kernel's self-check found a broken invariant (an AssertionError); the message names it."
KernelPanic = _core.KernelPanic
KernelPanic.__doc__ = "The machine panicked (panic()); it will not run again. A RuntimeError."
KernelOutOfMemory = _core.KernelOutOfMemory
KernelOutOfMemory.__doc__ = "The machine panicked because the host had no memory for kernel code: a KernelPanic and a MemoryError."
ReplayDivergence = _core.ReplayDivergence
ReplayDivergence.__doc__ = """A fork child's replay of its parent's system calls took another path.

Programs must be deterministic given their syscall results. The child is killed with SIGKILL;
the message names the first call that differed."""


Stop = _core.Stop
Breakpoint = _core.Breakpoint


_check_int = check_int


class Kernel:
    """A simulated Linux machine: boots init (pid 1), kthreadd (pid 2), ksoftirqd/N and kworker/N:0.

    >>> k = Kernel(cpus=1, seed=0)
    >>> @k.program("/bin/hello")
    ... async def hello(sys):
    ...     await sys.print("hello from", await sys.getpid())
    >>> t = k.spawn("/bin/hello"); k.run(); k.console
    """

    # What new kernels report program crashes to (their on_crash); the command line sets it.
    default_on_crash: Callable[[Any], Any] | None = None

    def __init__(self, cpus: int = 1, seed: int = 0, hz: int = 250, pid_max: int = 32768,
                 stack_size: int = 16384, guard_pages: bool = True, trace: bool = True, preempt: str = "voluntary"):
        for name, v in (("cpus", cpus), ("hz", hz), ("pid_max", pid_max)):
            _check_int(v, name)
        if _check_int(seed, "seed", "unsigned long" if isinstance(seed, int) and seed >= 0 else "long") < 0:
            raise ValueError("seed must be >= 0")
        check_int(stack_size, "stack_size", "unsigned long")
        if not isinstance(preempt, str):
            raise TypeError("preempt must be 'none', 'voluntary' or 'full'")
        self._k = _core.Kernel(cpus=cpus, seed=seed, hz=hz, pid_max=pid_max, stack_size=stack_size,
                               guard_pages=bool(guard_pages), trace=bool(trace), preempt=preempt)
        self.trace = Trace(self._k)
        self.net = _net.NetView(self)
        self.sched = _sched.SchedView(self)
        self.irq = _interrupts.IrqView(self)
        self.timers = _interrupts.TimersView(self)
        self.workqueue = _interrupts.WorkqueueView(self)
        self.hostname = "glasskernel"
        self.on_crash: Callable[[Any], Any] | None = Kernel.default_on_crash
        self._crash_seen = 0

    # ---- programs and processes ----
    def program(self, path: str) -> Callable:
        """Decorator: install an ``async def main(sys, *args)`` as the executable at `path`."""
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"a program path must be an absolute path like '/bin/demo', not {path!r}")

        def install(fn):
            if not inspect.iscoroutinefunction(fn):
                raise TypeError(f"{getattr(fn, '__name__', fn)!r} must be an `async def` function taking (sys, *args)")
            self._k.register_python_program(path, fn, _takes_argv(fn))
            return fn

        return install

    @property
    def programs(self) -> dict[str, str]:
        return self._k.programs()

    def spawn(self, path: str, argv: Sequence[str] | None = None, env: dict | Sequence[str] | None = None):
        """Start the program at `path` as a new child of init; returns its task."""
        if not isinstance(path, str):
            raise TypeError("path must be a str, like '/bin/demo'")
        if argv is None:
            argv = [path]
        elif isinstance(argv, (str, bytes)) or not all(isinstance(a, str) for a in argv):
            raise TypeError("argv must be a list of str, like ['/bin/demo', '-v']")
        if env is None:
            envp = ["HOME=/", "PATH=/bin:/sbin"]
        elif isinstance(env, dict):
            envp = [f"{k}={v}" for k, v in env.items()]
        else:
            envp = [str(e) for e in env]
        return self._k.spawn(path, list(argv), envp)

    # ---- running and stopping ----
    def run(self, until: str | Breakpoint | Callable[["Kernel"], bool] | None = None, *, for_ns: int | None = None,
            until_ns: int | None = None) -> Stop | None:
        """Run until nothing is left to run, a breakpoint, or a bound; returns a Stop saying why.

        The Stop's reason is "finished" (nothing runnable, no timer pending), "deadlock" (the same,
        but user tasks are blocked for good: stop.blocked lists them with their wchan),
        "time_limit" (`for_ns` / `until_ns` of virtual time reached), "breakpoint", "step", or
        "until". A Stop is true when the kernel stopped on the way and can be continued.

        `until` is a Breakpoint (run to it: the other breakpoints are passed over), a predicate
        called with the kernel between steps, or a step mode ("function", "syscall", "switch",
        "tick", as k.step(): None when the kernel finished first).
        """
        limit = -1
        if for_ns is not None and until_ns is not None:
            raise ValueError("give for_ns or until_ns, not both")
        if for_ns is not None:
            limit = min(self.now + check_ns(for_ns, "for_ns"), (1 << 63) - 1)
        if until_ns is not None:
            limit = check_ns(until_ns, "until_ns")
        if isinstance(until, str):
            return self.step(until, _limit=limit)
        if isinstance(until, Breakpoint):
            return self._run_to(until, limit)
        if until is not None and not callable(until):
            raise TypeError("until must be a Breakpoint, a step mode string or a callable taking the kernel")
        pred = (lambda: until(self)) if until is not None else None
        try:
            return self._k.run(limit, pred)
        finally:
            self._report_crashes()

    def _report_crashes(self) -> None:
        """Give on_crash every program crash logged since the last report."""
        if self.on_crash is None or self._k.crash_seq == self._crash_seen:
            return
        new = self._k._crashes(self._crash_seen)
        self._crash_seen = self._k.crash_seq
        for c in new:
            self.on_crash(c)

    @property
    def crashes(self) -> list:
        """The programs killed by an uncaught exception (newest 64): pid, comm, time, traceback.
        Each is also in dmesg(), as Linux logs a segfault. Set `on_crash` to a callable to be
        given each new one when a run returns (the shell prints them)."""
        return self._k._crashes(0)

    def _run_to(self, bp: Breakpoint, limit: int) -> Stop:
        if bp not in self.breakpoints:
            raise ValueError(f"{bp!r} is not a breakpoint of this kernel (removed?)")
        if not bp.enabled:
            raise ValueError(f"{bp!r} is disabled; enable it to run to it")
        others = [b for b in self.breakpoints if b.enabled and b != bp]
        for b in others:
            b.disable()
        try:
            return self._k.run(limit, None)
        finally:
            for b in others:
                if b in self.breakpoints:
                    b.enable()
            self._report_crashes()

    def step(self, until: str = "function", *, _limit: int = -1) -> Stop | None:
        """Run to the next `until` point: "function" (any modeled function), "syscall", "switch",
        "tick". Returns the Stop there, or None when the kernel finished (or reached the time
        bound) first."""
        if until not in STEP_MODES:
            raise ValueError(f"until must be one of {', '.join(STEP_MODES)} (got {until!r})")
        try:
            stop = self._k.step(until, _limit)
        finally:
            self._report_crashes()
        return stop if stop else None

    @property
    def stopped(self) -> Stop | None:
        """The stop the kernel is in (inside a function, at a breakpoint or a step), or None."""
        return self._k.stopped

    def break_at(self, func: str, when: Callable[[Event], bool] | None = None) -> Breakpoint:
        """Stop when a modeled function named `func` is entered, or a tracepoint of that name fires
        (and `when(event)` -- or `when(event, task)` -- is true). A name no trace event can have is
        a ValueError naming close matches; `glasskernel.trace_names` lists them all."""
        if not isinstance(func, str) or not func:
            raise TypeError("break_at takes a function name, like 'copy_process'")
        if when is not None and not callable(when):
            raise TypeError("when must be a callable taking the event")
        pred = None
        if when is not None:
            def pred():
                info = self._k.stop_info()
                return bool(when(info.event) if _arity(when) == 1 else when(info.event, info.task))
        return self._k.break_at(func, pred)

    @property
    def breakpoints(self) -> list[Breakpoint]:
        return self._k.breakpoints

    # ---- inspection ----
    @property
    def sys_call_table(self) -> list:
        """The x86_64 system call table: (nr, name, entry, implemented, types, args) per number,
        as arch/x86/entry/syscalls/syscall_64.tbl lists them; `signature` gives the SYSCALL_DEFINE."""
        from .syscalls import sys_call_table
        return sys_call_table

    @property
    def tasks(self) -> list:
        """Every task on the task list (pid >= 1), in creation order."""
        return self._k.tasks

    def task(self, pid: int):
        """The task with this pid (0: the boot CPU's idle task), or None."""
        return self._k.task(_check_int(pid, "pid"))

    @property
    def pipes(self) -> list:
        """Every live pipe (Pipe snapshots, by inode number): its ring of buffers between tail and
        head, readers and writers, and the wait-queue entries on rd_wait and wr_wait."""
        return self._k._pipes()

    def pipe(self, pid: int, fd: int):
        """The pipe behind a process's fd (either end), as a Pipe snapshot."""
        return self._k._pipe_of_fd(_check_int(pid, "pid"), _check_int(fd, "fd"))

    def current(self, cpu: int = 0):
        return self._k.current(_check_int(cpu, "cpu"))

    @property
    def init(self):
        return self._k.task(1)

    @property
    def console(self) -> str:
        """Everything programs wrote to the console, stdout and stderr interleaved as a terminal
        shows them (the newest 1 MiB; console_dropped counts older bytes let go)."""
        return self._k.console

    @property
    def console_log(self) -> list:
        """Every write to the console (the newest 16384): ConsoleWrite records with ts, pid, fd
        (1 stdout, 2 stderr) and the bytes."""
        return self._k.console_log

    @property
    def stdout(self) -> str:
        """What programs wrote to their stdout (fd 1 and its dups), in order."""
        return self._k.console_stream(1)

    @property
    def stderr(self) -> str:
        """What programs wrote to their stderr (fd 2, opened on its own at boot), in order."""
        return self._k.console_stream(2)

    def output(self, pid: int, fd: int = 1) -> str:
        """What process `pid` wrote to its stdout (fd=1) or stderr (fd=2)."""
        if _check_int(fd, "fd") not in (1, 2):
            raise ValueError("fd is 1 (stdout) or 2 (stderr)")
        return self._k.console_stream(fd, _check_int(pid, "pid"))

    def console_input(self, data: bytes | str, eof: bool = False) -> None:
        """Type on the console: readers of fd 0 get `data`; `eof` makes reads return b''."""
        if isinstance(data, str):
            data = data.encode()
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"console input is bytes or str, not {type(data).__name__}")
        self._k.console_input(bytes(data), bool(eof))

    @property
    def now(self) -> int:
        """Virtual time in ns: the furthest of the CPU clocks."""
        return max(self._k.clock(c) for c in range(self._k.cpus))

    def clock(self, cpu: int = 0) -> int:
        return self._k.clock(_check_int(cpu, "cpu"))

    @property
    def cpus(self) -> int:
        return self._k.cpus

    @property
    def jiffies(self) -> int:
        return self._k.jiffies

    @property
    def costs(self) -> dict[str, int]:
        return self._k.costs()

    def set_cost(self, name: str, ns: int) -> None:
        self._k.set_cost(name, check_ns(ns, "ns"))

    def check(self) -> None:
        """The kernel's self-check; raises KernelInconsistency naming the first broken invariant."""
        self._k.check()

    @property
    def panicked(self) -> bool:
        return self._k.panicked

    def proc_status(self, pid: int) -> str:
        """The signal part of /proc/PID/status: SigQ, SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt."""
        t = self.task(pid)
        if t is None:
            raise ValueError(f"no task with pid {pid}")
        return proc_status(t)

    def dmesg(self) -> str:
        """The kernel log, as dmesg prints it: [seconds.micros] message."""
        return "".join(f"[{ts // 1_000_000_000:5d}.{ts // 1000 % 1_000_000:06d}] {line}\n" for ts, line in self._k._dmesg())

    # ---- kernel threads ----
    def kthread_run(self, fn: Callable, name: str = "kthread", cpu: int | None = None) -> "_kthread.KThreadHandle":
        """Create and wake a kernel thread whose body is ``async def fn(kt)`` (a child of kthreadd,
        named `name`); with `cpu` it is bound there (kthread_bind)."""
        return _kthread.kthread_run(self, fn, name, cpu)

    def kthread_stop(self, t: "_kthread.KThreadHandle", for_ns: int = 1_000_000_000) -> int:
        """kthread_stop(): ask the thread to stop, wake it, and run the kernel until it has exited
        (at most `for_ns` of virtual time); returns its exit code."""
        if not isinstance(t, _kthread.KThreadHandle):
            raise TypeError("kthread_stop takes what k.kthread_run() returned")
        t._view.stop()
        deadline = min(self.now + check_ns(for_ns, "for_ns"), (1 << 63) - 1)
        if not t.exited:
            self.run(until=lambda k: t.exited, until_ns=deadline)
        if not t.exited and self.stopped:
            raise RuntimeError(f"the kernel stopped at {self.stopped.function} before {t.task.comm} exited; "
                               "k.run() on, then read handle.exit_code")
        if not t.exited:
            raise TimeoutError(f"{t.task.comm} did not exit within {for_ns} ns; its body must check `await kt.should_stop()`")
        return t.exit_code

    def ps(self) -> str:
        return ps_table(self)

    def pstree(self, pid: int = 0) -> str:
        return pstree_text(self, pid)

    def _repr_html_(self) -> str:
        return kernel_html(self)

    def __repr__(self) -> str:
        return f"<Kernel cpus={self.cpus} tasks={len(self.tasks)} t={self.now}ns>"


def _arity(fn: Callable) -> int:
    try:
        return len([p for p in inspect.signature(fn).parameters.values()
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    except (TypeError, ValueError):
        return 1


def _takes_argv(fn: Callable) -> bool:
    """Whether main takes the arguments after sys: main(sys, *argv) or main(sys, argv0, ...), as
    C's int main(int argc, char **argv); main(sys) alone is C's int main(void)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return True
    return len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) > 1
