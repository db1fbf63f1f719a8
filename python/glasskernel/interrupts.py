"""Interrupts from Python (kernel/irq, kernel/softirq.c): top halves, tasklets and softirq actions
written in Python run as upcalls in interrupt context; what they ask for (raise a softirq,
schedule a tasklet) happens in kernel context when they return."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

SOFTIRQS = ("HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU")
HI_SOFTIRQ, TIMER_SOFTIRQ, NET_TX_SOFTIRQ, NET_RX_SOFTIRQ, BLOCK_SOFTIRQ, IRQ_POLL_SOFTIRQ, TASKLET_SOFTIRQ, \
    SCHED_SOFTIRQ, HRTIMER_SOFTIRQ, RCU_SOFTIRQ = range(10)
IRQ_NONE, IRQ_HANDLED, IRQ_WAKE_THREAD = 0, 1, 2


@dataclass
class IrqContext:
    """What a Python handler sees: the line, the CPU, the interrupted task; and its requests."""

    irq: int
    cpu: int
    task: Any
    _actions: list = field(default_factory=list)
    _k: Any = None

    @property
    def regs(self) -> dict | None:
        """get_irq_regs(): the registers of the interrupted context (orig_ax = ~vector; cs tells
        user from kernel mode; see user_mode)."""
        return self._k._k._irq_regs(self.cpu) if self._k is not None else None

    @property
    def state(self) -> dict:
        """This CPU's preempt_count and its fields, in_interrupt(), in_hardirq(), irqs_disabled()..."""
        return self._k._k._cpu_state(self.cpu)

    def in_interrupt(self) -> bool:
        return self.state["in_interrupt"]

    def in_hardirq(self) -> bool:
        return self.state["in_hardirq"]

    def in_serving_softirq(self) -> bool:
        return self.state["in_serving_softirq"]

    def raise_softirq(self, nr: int) -> None:
        if not isinstance(nr, int) or not 0 <= nr < 10:
            raise ValueError("softirq numbers are 0..9 (gk.interrupts.NET_RX_SOFTIRQ, ...)")
        self._actions.append((0, nr))

    def tasklet_schedule(self, t: "Tasklet") -> None:
        self._actions.append((1, t.id))

    def tasklet_hi_schedule(self, t: "Tasklet") -> None:
        self._actions.append((2, t.id))

    def queue_work(self, w: "Work", delay_ns: int = 0) -> None:
        """queue_work / queue_delayed_work: the work runs later in a kworker (process context)."""
        if delay_ns < 0:
            raise ValueError("delay must be >= 0 ns")
        self._actions.append((4, w.id | (int(delay_ns) << 16)) if delay_ns else (3, w.id))


class Timer:
    """A timer_list on CPU 0's timer wheel whose function is Python: func(ctx)."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self.id = k._k._new_timer(name, _wrap(k, func, tasklet=True))

    def _info(self) -> dict:
        return self._k._k._timer_info(self.id)

    def mod(self, expires: int) -> int:
        """mod_timer(): fire when jiffies reaches `expires`; 1 if it was pending."""
        return self._k._k._timer_op(self.id, "mod", expires)

    def delete(self) -> int:
        """del_timer(): 1 if it was pending."""
        return self._k._k._timer_op(self.id, "del", 0)

    @property
    def pending(self) -> bool:
        return self._info()["pending"]

    @property
    def runs(self) -> int:
        return self._info()["runs"]

    @property
    def fired_at(self) -> int:
        """The jiffies value when it last ran."""
        return self._info()["fired_at"]

    @property
    def bucket(self) -> int:
        """The wheel bucket (level * 64 + slot) it hashed into."""
        return self._info()["bucket"]


class Work:
    """A work_struct (or delayed_work) whose function is Python: func(ctx), run by kworker/N."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self.id = k._k._new_work(name, _wrap(k, func, tasklet=True))

    @property
    def runs(self) -> int:
        return self._k._k._work_info(self.id)["runs"]

    @property
    def pending(self) -> bool:
        return self._k._k._work_info(self.id)["pending"]

    def queue(self, cpu: int = 0, delay_ns: int = 0) -> bool:
        """Queue it (after `delay_ns` as delayed work); False if it was already pending."""
        return self._k._k._queue_work(self.id, cpu, delay_ns)

    def __repr__(self) -> str:
        return f"<work {self.name} runs={self.runs} pending={self.pending}>"


class Tasklet:
    """A tasklet_struct whose function is Python: func(ctx)."""

    def __init__(self, k, func: Callable[[IrqContext], Any], name: str):
        self._k = k
        self.name = name
        self.id = k._k._new_tasklet(name, _wrap(k, func, tasklet=True))

    @property
    def state(self) -> int:
        return self._k._k._tasklet_info(self.id)["state"]

    @property
    def runs(self) -> int:
        return self._k._k._tasklet_info(self.id)["runs"]

    @property
    def count(self) -> int:
        return self._k._k._tasklet_info(self.id)["count"]

    def schedule(self) -> None:
        self._k._k._tasklet_op(self.id, "schedule")

    def hi_schedule(self) -> None:
        self._k._k._tasklet_op(self.id, "hi_schedule")

    def disable(self) -> None:
        self._k._k._tasklet_op(self.id, "disable")

    def enable(self) -> None:
        self._k._k._tasklet_op(self.id, "enable")

    def __repr__(self) -> str:
        return f"<tasklet {self.name} state={self.state} runs={self.runs}>"


def _wrap(k, handler: Callable, tasklet: bool = False) -> Callable:
    def call(irq: int, cpu: int, data: int):
        ctx = IrqContext(irq, cpu, k._k.current(cpu), [], k)
        r = handler(ctx)
        if tasklet:
            ret = 0
        elif r is None or r is True or r == IRQ_HANDLED:
            ret = IRQ_HANDLED
        elif r == IRQ_WAKE_THREAD and r is not True:
            ret = IRQ_WAKE_THREAD
        else:
            ret = IRQ_NONE
        return (ret, ctx._actions)
    return call


def proc_interrupts(k) -> str:
    """Like /proc/interrupts: per-CPU counts, the chip, the flow, the handlers."""
    cpus = k.cpus
    out = ["     " + "".join(f"{'CPU' + str(c):>11}" for c in range(cpus))]
    for irq, counts, chip, flow, names, unhandled, masked, depth, affinity in k._k._irq_descs():
        out.append(f"{irq:>3}: " + "".join(f"{n:>11}" for n in counts) + f"  {chip:<12} {flow:<6} {', '.join(names)}")
    return "\n".join(out) + "\n"


def proc_softirqs(k) -> str:
    """Like /proc/softirqs: how often each softirq ran on each CPU."""
    out = ["          " + "".join(f"{'CPU' + str(c):>11}" for c in range(k.cpus))]
    for name, counts in k._k._softirq_stats():
        out.append(f"{name + ':':>9} " + "".join(f"{n:>11}" for n in counts))
    return "\n".join(out) + "\n"
