"""Interrupts from Python (kernel/irq, kernel/softirq.c, kernel/time/timer.c, kernel/workqueue.c):
top halves, threaded handlers, tasklets, timers, work items and softirq actions written in Python.
Each is installed in Linux's own function pointer through the engine's trampoline and runs as an
upcall in its context; what it asks of the kernel happens in that context when it returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import _core

SOFTIRQS = _core.softirq_to_name
from ._core import (BLOCK_SOFTIRQ, HI_SOFTIRQ, HRTIMER_SOFTIRQ, IRQ_POLL_SOFTIRQ, NET_RX_SOFTIRQ,  # noqa: E402
                    NET_TX_SOFTIRQ, RCU_SOFTIRQ, SCHED_SOFTIRQ, TASKLET_SOFTIRQ, TIMER_SOFTIRQ)
IRQ_NONE, IRQ_HANDLED, IRQ_WAKE_THREAD = _core.IRQ_NONE, _core.IRQ_HANDLED, _core.IRQ_WAKE_THREAD


@dataclass
class IrqContext:
    """What a Python callback sees: the line (for a handler), the CPU, the interrupted task.

    Its kernel calls (raise_softirq, tasklet_schedule, queue_work, and a tasklet's, timer's or work
    item's own methods) are carried out in kernel context when the callback returns: the
    callback runs on the host, outside the kernel's context, and these are calls Linux allows in
    any context. Calls that may sleep (request_irq, free_irq, kthread_run, nf_register, spawning
    programs) raise RuntimeError from a callback."""

    irq: int
    cpu: int
    task: Any
    kind: str = ""
    _k: Any = None

    @property
    def regs(self):
        """get_irq_regs(): the registers of the interrupted context (orig_ax = ~vector; cs tells
        user from kernel mode; see user_mode)."""
        return self._k._k._irq_regs(self.cpu) if self._k is not None else None

    @property
    def state(self):
        """This CPU's preempt_count and its fields, in_interrupt(), in_hardirq(), irqs_disabled()..."""
        return self._k._k._cpu_state(self.cpu)

    def in_interrupt(self) -> bool:
        return self.state.in_interrupt

    def in_hardirq(self) -> bool:
        return self.state.in_hardirq

    def in_serving_softirq(self) -> bool:
        return self.state.in_serving_softirq

    def raise_softirq(self, nr: int) -> None:
        if not isinstance(nr, int) or not 0 <= nr < len(SOFTIRQS):
            raise ValueError("softirq numbers are 0..9 (gk.interrupts.NET_RX_SOFTIRQ, ...)")
        self._k._k._raise_softirq(nr, self.cpu)

    def tasklet_schedule(self, t: "Tasklet") -> None:
        t.schedule()

    def tasklet_hi_schedule(self, t: "Tasklet") -> None:
        t.hi_schedule()

    def queue_work(self, w: "Work", delay_ns: int = 0) -> None:
        """queue_work / queue_delayed_work: the work runs later in a kworker (process context)."""
        if delay_ns < 0:
            raise ValueError("delay must be >= 0 ns")
        w.queue(self.cpu, delay_ns)


class Timer:
    """A timer_list on CPU 0's timer wheel whose function is Python: func(ctx), run from
    TIMER_SOFTIRQ."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self._t = k._k._new_timer(name, _wrap(k, func, tasklet=True))

    def mod(self, expires: int) -> int:
        """mod_timer(): fire when jiffies reaches `expires`; 1 if it was pending."""
        if not isinstance(expires, int) or expires < 0:
            raise ValueError("expires is a jiffies value >= 0")
        return self._t.mod(expires)

    def delete(self) -> int:
        """del_timer(): 1 if it was pending."""
        return self._t.delete()

    @property
    def pending(self) -> bool:
        return self._t.pending

    @property
    def runs(self) -> int:
        return self._t.runs

    @property
    def fired_at(self) -> int:
        """The jiffies value when it last ran."""
        return self._t.fired_at

    @property
    def bucket(self) -> int:
        """The wheel bucket (level * 64 + slot) it hashed into."""
        return self._t.bucket

    def __repr__(self) -> str:
        return f"<timer {self.name} pending={self.pending} runs={self.runs}>"


class Work:
    """A work_struct (or delayed_work) whose function is Python: func(ctx), run by kworker/N."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self._w = k._k._new_work(name, _wrap(k, func, tasklet=True))

    @property
    def runs(self) -> int:
        return self._w.runs

    @property
    def pending(self) -> bool:
        return self._w.pending

    def queue(self, cpu: int = 0, delay_ns: int = 0) -> bool:
        """Queue it (after `delay_ns` as delayed work); False if it was already pending."""
        if not isinstance(delay_ns, int) or delay_ns < 0:
            raise ValueError("delay must be >= 0 ns")
        return self._w.queue(cpu, delay_ns)

    def __repr__(self) -> str:
        return f"<work {self.name} runs={self.runs} pending={self.pending}>"


class Tasklet:
    """A tasklet_struct whose function is Python: func(ctx), run from TASKLET_SOFTIRQ (or HI)."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self._t = k._k._new_tasklet(name, _wrap(k, func, tasklet=True))

    @property
    def state(self) -> int:
        return self._t.state

    @property
    def runs(self) -> int:
        return self._t.runs

    @property
    def count(self) -> int:
        return self._t.count

    def schedule(self) -> None:
        self._t.schedule(False)

    def hi_schedule(self) -> None:
        self._t.schedule(True)

    def disable(self) -> None:
        self._t.disable()

    def enable(self) -> None:
        self._t.enable()

    def __repr__(self) -> str:
        return f"<tasklet {self.name} state={self.state} runs={self.runs}>"


def _wrap(k, handler: Callable, tasklet: bool = False) -> Callable:
    """The host code behind the function pointer: builds the IrqContext, calls the lesson's
    function, and turns a handler's answer into an irqreturn."""
    def call(c) -> int:
        ctx = IrqContext(c.irq, c.cpu, k._k.current(c.cpu), c.kind, k)
        r = handler(ctx)
        if tasklet:
            return 0
        if r is None or r is True or r == IRQ_HANDLED:
            return IRQ_HANDLED
        if r == IRQ_WAKE_THREAD and r is not True:
            return IRQ_WAKE_THREAD
        return IRQ_NONE
    return call


def proc_interrupts(k) -> str:
    """Like /proc/interrupts: per-CPU counts, the chip, the flow, the handlers."""
    cpus = k.cpus
    out = ["     " + "".join(f"{'CPU' + str(c):>11}" for c in range(cpus))]
    for d in k._k._irq_descs():
        out.append(f"{d.irq:>3}: " + "".join(f"{n:>11}" for n in d.kstat_irqs) + f"  {d.chip:<12} {d.handler:<6} "
                   + ", ".join(a.name for a in d.actions))
    return "\n".join(out) + "\n"


def proc_softirqs(k) -> str:
    """Like /proc/softirqs: how often each softirq ran on each CPU."""
    out = ["          " + "".join(f"{'CPU' + str(c):>11}" for c in range(k.cpus))]
    for name, counts in k._k._softirq_stats():
        out.append(f"{name + ':':>9} " + "".join(f"{n:>11}" for n in counts))
    return "\n".join(out) + "\n"
