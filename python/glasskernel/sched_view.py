"""Scheduler pictures and dumps (kernel/sched/debug.c in spirit): who ran where over virtual time
(from the sched_switch tracepoint), a Gantt chart, /proc/PID/sched and a sched_debug-like dump."""
from __future__ import annotations

import re
from typing import Any

from ._util import check_int

_SWITCH = re.compile(r"prev_comm=(?P<pc>\S*) prev_pid=(?P<pp>\d+) .* next_comm=(?P<nc>\S*) next_pid=(?P<np>\d+)")


def timeline(k, include_idle: bool = False) -> list[tuple[int, int, str, int, int]]:
    """(cpu, pid, comm, start_ns, end_ns) slices from the sched_switch events in the trace."""
    running: dict[int, tuple[int, str, int]] = {}
    out = []
    for e in k.trace.select(name="sched_switch", type="point"):
        m = _SWITCH.search(e.args)
        if not m:
            continue
        prev = running.get(e.cpu)
        if prev is not None and (include_idle or prev[0] != 0):
            out.append((e.cpu, prev[0], prev[1], prev[2], e.ts))
        running[e.cpu] = (int(m["np"]), m["nc"], e.ts)
    end = k.now
    for cpu, (pid, comm, start) in running.items():
        if include_idle or pid != 0:
            out.append((cpu, pid, comm, start, max(end, start)))
    return sorted(out, key=lambda s: (s[3], s[0]))


def gantt(k, path: str | None = None, include_idle: bool = False, ax: Any = None):
    """A Gantt chart of which task ran on which CPU (matplotlib). Returns the figure."""
    import matplotlib
    if path is not None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    slices = timeline(k, include_idle)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 1 + 0.6 * k.cpus))
    pids = sorted({s[1] for s in slices})
    colors = {pid: plt.cm.tab20(i % 20) for i, pid in enumerate(pids)}
    for cpu, pid, comm, start, end in slices:
        ax.broken_barh([(start / 1e6, (end - start) / 1e6)], (cpu - 0.4, 0.8), color=colors[pid])
        if end - start > (k.now or 1) / 40:
            ax.text((start + end) / 2e6, cpu, f"{comm}:{pid}", ha="center", va="center", fontsize=7)
    ax.set_yticks(range(k.cpus))
    ax.set_yticklabels([f"CPU{c}" for c in range(k.cpus)])
    ax.set_xlabel("virtual time (ms)")
    if path is not None and fig is not None:
        fig.savefig(path, bbox_inches="tight")
    return fig


def proc_sched(k, pid: int) -> str:
    """Like /proc/PID/sched."""
    t = k.task(pid)
    if t is None:
        raise ValueError(f"no task with pid {pid}")
    se = t.se
    rows = [f"{t.comm} ({t.pid}, #threads: 1)", "-" * 60,
            f"{'se.exec_start':<40}: {k.clock(t.cpu)}",
            f"{'se.vruntime':<40}: {se.vruntime}",
            f"{'se.sum_exec_runtime':<40}: {se.sum_exec_runtime}",
            f"{'nr_switches':<40}: {t.nvcsw + t.nivcsw}",
            f"{'nr_voluntary_switches':<40}: {t.nvcsw}",
            f"{'nr_involuntary_switches':<40}: {t.nivcsw}",
            f"{'se.load.weight':<40}: {se.weight}",
            f"{'policy':<40}: {t.policy}",
            f"{'prio':<40}: {t.prio}"]
    return "\n".join(rows) + "\n"


def sched_debug(k) -> str:
    """A sched_debug-like dump: each run queue, its CFS tree in vruntime order, the RT tasks."""
    out = []
    for c in range(k.cpus):
        rq = k.sched.runqueue(c)
        curr = rq.curr
        out.append(f"cpu#{c}\n  .nr_running : {rq.nr_running}\n  .nr_switches : {rq.nr_switches}\n"
                   f"  .clock : {rq.clock}\n  .curr->pid : {curr.pid if curr is not None else 0}\n"
                   f"cfs_rq[{c}]:\n  .min_vruntime : {rq.cfs.min_vruntime}")
        for se in rq.cfs.tasks_timeline:
            out.append(f"    {se.task.comm:>16} {se.task.pid:>6} vruntime={se.vruntime} weight={se.weight}")
    return "\n".join(out) + "\n"


class SchedView:
    """`k.sched`: the scheduler's per-CPU state: run queues, what each CPU is doing
    (preempt_count, interrupts), the preemption model, DEFINE_PER_CPU variables, and the
    timeline / sched_debug / /proc/PID/sched renderings."""

    def __init__(self, k):
        self._k = k

    def runqueue(self, cpu: int = 0):
        """The run queue (struct rq) of `cpu`: curr, nr_running, its cfs_rq (tasks_timeline in
        vruntime order) and rt_rq (the priority array)."""
        return self._k._k.runqueue(check_int(cpu, "cpu"))

    def cpu_state(self, cpu: int = 0):
        """What `cpu` is doing now (a snapshot): curr, preempt_count and its fields, in_interrupt(),
        in_softirq(), in_hardirq(), in_atomic(), irqs_disabled(), need_resched, pending softirqs."""
        return self._k._k._cpu_state(check_int(cpu, "cpu"))

    @property
    def preempt_model(self) -> str:
        """'none', 'voluntary' or 'full'; assigning switches it live, as PREEMPT_DYNAMIC does."""
        return self._k._k.preempt_model

    @preempt_model.setter
    def preempt_model(self, mode: str) -> None:
        if not isinstance(mode, str):
            raise TypeError("the preemption model is 'none', 'voluntary' or 'full'")
        self._k._k.preempt_model = mode

    def per_cpu_names(self) -> list[str]:
        """The DEFINE_PER_CPU variables of this kernel."""
        return self._k._k._per_cpu_names()

    def per_cpu(self, name: str) -> list:
        """per_cpu(name, cpu) for every CPU: numbers as ints, tasks as 'comm/pid', others summarized."""
        if not isinstance(name, str):
            raise TypeError("name must be a str; k.sched.per_cpu_names() lists them")
        return self._k._k._per_cpu(name)

    def timeline(self, include_idle: bool = False) -> list:
        """(cpu, pid, comm, start_ns, end_ns) for every stretch a task ran, from sched_switch."""
        return timeline(self._k, include_idle)

    def gantt(self, path: str | None = None, include_idle: bool = False):
        """A matplotlib Gantt chart of which task ran on which CPU over virtual time."""
        return gantt(self._k, path, include_idle)

    def proc_sched(self, pid: int) -> str:
        """Like /proc/PID/sched."""
        return proc_sched(self._k, pid)

    def sched_debug(self) -> str:
        """Like /proc/sched_debug: each run queue and its CFS tree."""
        return sched_debug(self._k)

    def __repr__(self) -> str:
        return f"<sched: {self._k.cpus} CPU(s), preempt={self.preempt_model}>"
