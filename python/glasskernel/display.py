"""Text and HTML renderings: ps, pstree, and the _repr_html_ of the kernel, a task, a wait queue."""
from __future__ import annotations

import html

from . import _core
from .helpers.sched import for_each_process, is_zombie, list_for_each_child
from .helpers.wait import waitqueue_for_each_task

STATE_NAMES = {"R": "running", "S": "sleeping", "D": "disk sleep", "I": "idle", "T": "stopped",
               "t": "tracing stop", "Z": "zombie", "X": "dead", "N": "new"}


def _name(t) -> str:
    return f"[{t.comm}]" if t.is_kthread else t.comm


def ps_table(k) -> str:
    """Like `ps -eo pid,ppid,pgid,sid,uid,stat,nvcsw,nivcsw,comm`."""
    rows = [f"{'PID':>5} {'PPID':>5} {'PGID':>5} {'SID':>5} {'UID':>5} {'S':<1} {'NVCSW':>6} {'NIVCSW':>6} CMD"]
    for t in for_each_process(k):
        pp = t.real_parent.tgid if t.real_parent is not None else 0
        rows.append(f"{t.pid:>5} {pp:>5} {t.pgid:>5} {t.sid:>5} {t.uid:>5} {t.state:<1} {t.nvcsw:>6} {t.nivcsw:>6} {_name(t)}")
    return "\n".join(rows) + "\n"


def pstree_text(k, pid: int = 0) -> str:
    """The process tree from `pid` (0: from the idle task, so init and kthreadd both show)."""
    root = k.task(pid)
    if root is None:
        raise ValueError(f"no task with pid {pid}")
    lines: list[str] = []

    def walk(t, prefix: str, last: bool, top: bool) -> None:
        label = f"{_name(t)}({t.pid}) {t.state}"
        if is_zombie(t):
            label += " <defunct>"
        lines.append(label if top else prefix + ("└─" if last else "├─") + label)
        kids = list(list_for_each_child(t))
        for i, c in enumerate(kids):
            walk(c, prefix if top else prefix + ("  " if last else "│ "), i == len(kids) - 1, False)

    walk(root, "", True, True)
    return "\n".join(lines) + "\n"


def proc_status(t) -> str:
    """The signal lines of /proc/PID/status for a task."""
    m = t.sig_masks
    q, lim = m["SigQ"]
    lines = [f"Name:\t{t.comm}", f"State:\t{t.state} ({STATE_NAMES.get(t.state, '?')})", f"Pid:\t{t.pid}",
             f"PPid:\t{t.real_parent.pid if t.real_parent is not None else 0}", f"SigQ:\t{q}/{lim}"]
    for key in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"):
        lines.append(f"{key}:\t{m[key]:016x}")
    return "\n".join(lines) + "\n"


def sigpending_html(t) -> str:
    def rows(queue):
        return "".join(f"<tr><td>{q.si_signo}</td><td>{q.si_code}</td><td>{q.si_pid}</td><td>{q.si_uid}</td><td>{q.si_value}</td></tr>"
                       for q in queue)
    head = "<tr><th>si_signo</th><th>si_code</th><th>si_pid</th><th>si_uid</th><th>si_value</th></tr>"
    return (f"<div><b>pending</b> {sorted(t.pending)} <table>{head}{rows(t.pending_queue)}</table>"
            f"<b>signal->shared_pending</b> {sorted(t.signal.shared_pending)} <table>{head}{rows(t.signal.shared_queue)}</table>"
            f"<b>blocked</b> {sorted(t.blocked)}</div>")


def task_html(t) -> str:
    rows = [("pid", t.pid), ("tgid", t.tgid), ("comm", t.comm), ("state", f"{t.state} ({STATE_NAMES.get(t.state, '?')})"),
            ("exit_state", t.exit_state), ("exit_code", hex(t.exit_code)),
            ("real_parent", t.real_parent.pid if t.real_parent is not None else None),
            ("children", ", ".join(str(c.pid) for c in t.children)), ("pgid / sid", f"{t.pgid} / {t.sid}"),
            ("prio / nice", f"{t.prio} / {t.nice}"), ("on_rq / cpu", f"{t.on_rq} / {t.cpu}"),
            ("nvcsw / nivcsw", f"{t.nvcsw} / {t.nivcsw}"), ("utime / stime", f"{t.utime} ns / {t.stime} ns"),
            ("kernel stack", " → ".join(t.kernel_stack)), ("reaped", t.reaped),
            ("blocked", sorted(t.blocked)), ("pending / shared", f"{sorted(t.pending)} / {sorted(t.signal.shared_pending) if t.signal else []}"),
            ("signal frames", [f.sig for f in t.signal_frames])]
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(a))}</th><td style='text-align:left'>{html.escape(str(b))}</td></tr>"
                   for a, b in rows)
    return f"<table><caption>task_struct {t.pid} ({html.escape(t.comm)})</caption>{body}</table>"


def waitqueue_html(w) -> str:
    items = "".join(f"<li>{html.escape(repr(e.task))}{' (exclusive)' if e.exclusive else ''}</li>" for e in w.waiters)
    return f"<div><b>wait_queue_head {html.escape(w.name)}</b><ol>{items or '<i>no waiters</i>'}</ol></div>"


def kernel_html(k) -> str:
    head = f"<b>glasskernel</b>: {k.cpus} CPU(s), t = {k.now} ns, jiffies = {k.jiffies}"
    rows = "".join(
        f"<tr><td>{t.pid}</td><td>{t.real_parent.pid if t.real_parent is not None else ''}</td><td>{t.state}</td>"
        f"<td>{html.escape(_name(t))}</td></tr>" for t in k.tasks)
    return (f"<div>{head}<table><tr><th>PID</th><th>PPID</th><th>S</th><th>CMD</th></tr>{rows}</table>"
            f"<pre>{html.escape(k.pstree())}</pre></div>")


_core.Task._repr_html_ = task_html
_core.WaitQueue._repr_html_ = waitqueue_html
_core.WaitQueue.__repr__ = lambda w: f"<wait_queue_head {w.name}: {list(waitqueue_for_each_task(w))}>"
