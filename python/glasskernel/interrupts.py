"""Interrupts from Python (kernel/irq, kernel/softirq.c, kernel/time/timer.c, kernel/workqueue.c):
top halves, threaded handlers, tasklets, timers, work items and softirq actions written in Python.
Each is installed in Linux's own function pointer through the engine's trampoline and runs as an
upcall in its context; what it asks of the kernel happens in that context when it returns."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import _core
from ._util import check_int, check_ns

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
        if check_int(nr, "nr") not in range(len(SOFTIRQS)):
            raise ValueError("softirq numbers are 0..9 (gk.interrupts.NET_RX_SOFTIRQ, ...)")
        self._k._k._raise_softirq(nr, self.cpu)

    def tasklet_schedule(self, t: "Tasklet") -> None:
        t.schedule()

    def tasklet_hi_schedule(self, t: "Tasklet") -> None:
        t.hi_schedule()

    def queue_work(self, w: "Work", delay_ns: int = 0) -> None:
        """queue_work / queue_delayed_work: the work runs later in a kworker (process context)."""
        w.queue(self.cpu, check_ns(delay_ns, "delay_ns"))


class Timer:
    """A timer_list on CPU 0's timer wheel whose function is Python: func(ctx), run from
    TIMER_SOFTIRQ."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self._t = k._k._new_timer(name, _wrap(k, func, tasklet=True))

    def mod(self, expires: int) -> int:
        """mod_timer(): fire when jiffies reaches `expires`; 1 if it was pending."""
        expires = check_int(expires, "expires", "unsigned long")  # a C caller passes unsigned long
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
        return self._w.queue(check_int(cpu, "cpu"), check_ns(delay_ns, "delay_ns"))

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


class IrqView:
    """`k.irq`: interrupt lines (request_irq, free_irq, a device raising a line), their irq_desc
    table, softirqs and tasklets; /proc/interrupts and /proc/softirqs."""

    def __init__(self, k):
        self._k = k

    def request_irq(self, irq: int, handler: Callable, name: str = "device", shared: bool = False, dev_id: Any = None,
                    thread_fn: Callable | None = None) -> None:
        """Install a Python top half on line `irq`: handler(ctx) returns True (IRQ_HANDLED) or False.

        With `thread_fn` the line is threaded (request_threaded_irq): a handler returning
        gk.interrupts.IRQ_WAKE_THREAD wakes the kernel thread irq/N-name, which runs thread_fn(ctx)
        in process context.
        """
        if not callable(handler):
            raise TypeError("handler must be a callable taking the IrqContext")
        check_int(irq, "irq")
        if thread_fn is not None and not callable(thread_fn):
            raise TypeError("thread_fn must be a callable taking the IrqContext")
        self._k._k._request_irq(irq, _wrap(self._k, handler), None if thread_fn is None else _wrap(self._k, thread_fn, tasklet=True),
                                bool(shared), str(name), dev_id)

    def free_irq(self, irq: int, dev_id: Any = None) -> None:
        """free_irq(): remove the handler installed with this dev_id (the only one if not shared)."""
        self._k._k._free_irq(check_int(irq, "irq"), dev_id)

    def raise_irq(self, irq: int, at_ns: int | None = None, cpu: int | None = None) -> None:
        """A device asserts line `irq` at virtual time `at_ns` (default: now), delivered to `cpu`
        (default: the line's affinity)."""
        if cpu is not None and check_int(cpu, "cpu") < 0:
            raise ValueError(f"no cpu {cpu}")
        self._k._k._raise_irq(check_int(irq, "irq"), -1 if at_ns is None else check_ns(at_ns, "at_ns"),
                              -1 if cpu is None else check_int(cpu, "cpu"))

    def set_affinity(self, irq: int, cpu: int) -> None:
        """irq_set_affinity(): send line `irq`'s interrupts to `cpu` (what writing
        /proc/irq/N/smp_affinity does)."""
        self._k._k._irq_set_affinity(check_int(irq, "irq"), check_int(cpu, "cpu"))

    @property
    def descs(self) -> list:
        """The irq_desc table (lines in use): IrqDesc views with per-CPU counts, chip, flow handler,
        actions, spurious count."""
        return self._k._k._irq_descs()

    def regs(self, cpu: int = 0):
        """get_irq_regs(): the PtRegs the interrupt being handled on `cpu` saved, or None."""
        return self._k._k._irq_regs(check_int(cpu, "cpu"))

    def tasklet(self, func: Callable, name: str = "tasklet") -> "Tasklet":
        """A tasklet_struct whose function is Python: func(ctx)."""
        if not callable(func):
            raise TypeError("a tasklet function must be callable")
        return Tasklet(self._k, func, name)

    def tasklet_lists(self, cpu: int = 0) -> dict:
        """The tasklets scheduled on `cpu`, in run order: {"hi": [...], "normal": [...]}."""
        return self._k._k._tasklet_lists(check_int(cpu, "cpu"))

    def open_softirq(self, nr: int, action: Callable[[], Any]) -> None:
        """Give a softirq that the kernel does not use yet (e.g. BLOCK) a Python action."""
        if not callable(action):
            raise TypeError("a softirq action is a callable taking no arguments")
        self._k._k._open_softirq(check_int(nr, "nr"), lambda call: action())

    def raise_softirq(self, nr: int, cpu: int = 0) -> None:
        """raise_softirq(): mark softirq `nr` pending on `cpu`."""
        self._k._k._raise_softirq(check_int(nr, "nr"), check_int(cpu, "cpu"))

    @property
    def softirq_pending(self) -> list[int]:
        """Each CPU's pending-softirq bitmask (irq_stat.__softirq_pending)."""
        return list(self._k._k._softirq_pending())

    def proc_interrupts(self) -> str:
        return proc_interrupts(self._k)

    def proc_softirqs(self) -> str:
        return proc_softirqs(self._k)

    def __repr__(self) -> str:
        return f"<irq: {len(self.descs)} line(s) in use>"


class TimersView:
    """`k.timers`: timer_list timers on the timer wheel."""

    def __init__(self, k):
        self._k = k

    def timer(self, func: Callable, name: str = "timer") -> Timer:
        """A timer_list whose function is Python: func(ctx), run from TIMER_SOFTIRQ."""
        if not callable(func):
            raise TypeError("a timer function must be callable")
        return Timer(self._k, func, name)

    @property
    def jiffies(self) -> int:
        return self._k._k.jiffies

    @property
    def hz(self) -> int:
        return self._k._k.hz


class WorkqueueView:
    """`k.workqueue`: work items run by the per-CPU kworker threads (system_wq)."""

    def __init__(self, k):
        self._k = k

    def work(self, func: Callable, name: str = "work") -> Work:
        """A work item whose function is Python: func(ctx), run by a kworker in process context."""
        if not callable(func):
            raise TypeError("a work function must be callable")
        return Work(self._k, func, name)
