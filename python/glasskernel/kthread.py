"""Kernel threads written in Python (kernel/kthread.c). The thread's body is an ``async def``
taking a KThread; each ``await kt.<primitive>(...)`` runs that kernel primitive in the thread's own
kernel context -- busy-waiting, sleeping, preemption and interrupt control -- and resumes the body
with its result. Between two awaits the thread is running kernel code with whatever interrupt and
preemption state it set up."""
from __future__ import annotations

import inspect
import traceback
from typing import Any, Callable

from ._core import (KT_BH_DISABLE, KT_BH_ENABLE, KT_COND_RESCHED, KT_DELAY, KT_EXIT, KT_IRQ_DISABLE, KT_IRQ_ENABLE,
                    KT_IRQ_RESTORE, KT_IRQ_SAVE, KT_MIGHT_SLEEP, KT_MSLEEP, KT_NR_OPS, KT_OOPS, KT_PREEMPT_DISABLE,
                    KT_PREEMPT_ENABLE, KT_RAISE_SOFTIRQ, KT_SHOULD_STOP, KT_YIELD)
from ._util import check_int
from .interrupts import SOFTIRQS


class _Op:
    __slots__ = ("req",)

    def __init__(self, req: tuple):
        self.req = req

    def __await__(self):
        return (yield self.req)


def _amount(v: Any, name: str) -> int:
    n = check_int(v, name, "long")
    if n < 0:
        raise ValueError(f"{name} must be >= 0")
    return n


class KThread:
    """What a Python kernel thread's body gets: the kernel primitives it may await, and a look
    at its own state (preempt_count, interrupts, CPU)."""

    def __init__(self, k, name: str):
        self._k = k
        self.name = name
        self.task = None  # set once kthread_run has created it

    # ---- time passing in kernel mode ----
    def mdelay(self, ms: int) -> _Op:
        """Busy-wait `ms` milliseconds in kernel mode (no sleep: the CPU stays busy)."""
        return _Op((KT_DELAY, _amount(ms, "ms") * 1_000_000))

    def udelay(self, us: int) -> _Op:
        return _Op((KT_DELAY, _amount(us, "us") * 1_000))

    def ndelay(self, ns: int) -> _Op:
        return _Op((KT_DELAY, _amount(ns, "ns")))

    def msleep(self, ms: int) -> _Op:
        """Sleep (TASK_UNINTERRUPTIBLE) for at least `ms` milliseconds, on the timer wheel."""
        return _Op((KT_MSLEEP, _amount(ms, "ms")))

    # ---- preemption points ----
    def might_sleep(self) -> _Op:
        """What a function that may sleep says first; a preemption point under PREEMPT_VOLUNTARY."""
        return _Op((KT_MIGHT_SLEEP, 0))

    def cond_resched(self) -> _Op:
        """An explicit preemption point; returns 1 if another task ran meanwhile."""
        return _Op((KT_COND_RESCHED, 0))

    def yield_(self) -> _Op:
        """yield(): stay runnable but let the others go first."""
        return _Op((KT_YIELD, 0))

    # ---- preemption and interrupt control ----
    def preempt_disable(self) -> _Op:
        return _Op((KT_PREEMPT_DISABLE, 0))

    def preempt_enable(self) -> _Op:
        """Under PREEMPT_FULL, dropping the count to zero with a reschedule pending switches here."""
        return _Op((KT_PREEMPT_ENABLE, 0))

    def local_irq_disable(self) -> _Op:
        return _Op((KT_IRQ_DISABLE, 0))

    def local_irq_enable(self) -> _Op:
        """Interrupts that arrived while they were off are taken at once."""
        return _Op((KT_IRQ_ENABLE, 0))

    def local_irq_save(self) -> _Op:
        """Disable interrupts; returns the flags for local_irq_restore."""
        return _Op((KT_IRQ_SAVE, 0))

    def local_irq_restore(self, flags: int) -> _Op:
        return _Op((KT_IRQ_RESTORE, _amount(flags, "flags")))

    def local_bh_disable(self) -> _Op:
        return _Op((KT_BH_DISABLE, 0))

    def local_bh_enable(self) -> _Op:
        """Runs the softirqs raised meanwhile."""
        return _Op((KT_BH_ENABLE, 0))

    def raise_softirq(self, nr: int) -> _Op:
        if not isinstance(nr, int) or not 0 <= nr < len(SOFTIRQS):
            raise ValueError("softirq numbers are 0..9 (gk.interrupts.NET_RX_SOFTIRQ, ...)")
        return _Op((KT_RAISE_SOFTIRQ, nr))

    def should_stop(self) -> _Op:
        """kthread_should_stop(): True once k.kthread_stop() asked this thread to end."""
        return _Op((KT_SHOULD_STOP, 0))

    # ---- looking at itself (read while the body runs) ----
    @property
    def cpu(self) -> int:
        return self.task.cpu

    def _state(self):
        return self._k._k._cpu_state(self.task.cpu)

    @property
    def preempt_count(self) -> int:
        return self.task.thread_info.preempt_count

    @property
    def irqs_disabled(self) -> bool:
        return self._state().irqs_disabled

    @property
    def in_atomic(self) -> bool:
        return self.preempt_count != 0

    @property
    def now(self) -> int:
        """This CPU's virtual clock, ns."""
        return self._k.clock(self.task.cpu)


_OPS = frozenset(range(KT_DELAY, KT_NR_OPS))


def _driver(fn: Callable, kt: KThread) -> Callable[[int], tuple]:
    """The step function the kernel calls: run the body to its next await."""
    coro = None

    def step(value: int) -> tuple:
        nonlocal coro
        try:
            if coro is None:
                coro = fn(kt)
                req = coro.send(None)
            else:
                req = coro.send(value)
        except StopIteration as e:
            code = e.value if isinstance(e.value, int) and not isinstance(e.value, bool) else 0
            return (KT_EXIT, code)
        except Exception:
            return (KT_OOPS, traceback.format_exc())
        if not (isinstance(req, tuple) and len(req) == 2 and req[0] in _OPS and isinstance(req[1], int)):
            coro.close()
            return (KT_OOPS, f"TypeError: a kernel thread may only await its KThread's primitives (kt.mdelay(), ...), got {req!r}")
        return req

    return step


class KThreadHandle:
    """A Python kernel thread, as kthread_run returned it."""

    def __init__(self, k, view, kt: KThread):
        self._k = k
        self._view = view
        self.task = view.task
        self.kthread = kt

    @property
    def pid(self) -> int:
        return self.task.pid

    @property
    def exited(self) -> bool:
        return self._view.exited

    @property
    def exit_code(self) -> int:
        return self._view.exit_code

    @property
    def oops(self) -> str | None:
        """The traceback if the body raised (the thread died of it, the kernel did not)."""
        return self._view.oops

    def __repr__(self) -> str:
        state = "exited" if self.exited else self.task.state
        return f"<kthread {self.task.comm} pid={self.pid} {state}>"


def kthread_run(k, fn: Callable, name: str, cpu: int | None) -> KThreadHandle:
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"{getattr(fn, '__name__', fn)!r} must be an `async def` taking the KThread")
    if not isinstance(name, str) or not name:
        raise ValueError("a kernel thread needs a name, like 'mythread'")
    if cpu is not None:
        cpu = check_int(cpu, "cpu")
        if not 0 <= cpu < k.cpus:
            raise ValueError(f"no cpu {cpu} (this kernel has {k.cpus})")
    kt = KThread(k, name)
    view = k._k._kthread_run(_driver(fn, kt), name, -1 if cpu is None else cpu)
    kt.task = view.task
    return KThreadHandle(k, view, kt)
