"""Renderings of the kernel's trace buffer: ftrace's function_graph text, the seeds' indented
``|-`` call trees, and Chrome/Perfetto JSON."""
from __future__ import annotations

import json
from typing import Iterable, NamedTuple


class Event(NamedTuple):
    """One trace record: a function entry or exit, or a tracepoint."""

    seq: int
    ts: int  # virtual ns on the event's CPU
    cpu: int
    pid: int  # -1: host context (e.g. k.spawn)
    type: str  # "entry", "exit" or "point"
    ctx: str  # "task", "softirq", "hardirq" or "host"
    depth: int
    name: str
    args: str
    ret: int


class Trace:
    """The kernel's trace buffer (`k.trace`)."""

    def __init__(self, core):
        self._k = core

    @property
    def enabled(self) -> bool:
        return self._k.trace_enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._k.trace_enabled = bool(on)

    def clear(self) -> None:
        self._k.trace_clear()

    def __len__(self) -> int:
        return self._k.trace_size()

    @property
    def events(self) -> list[Event]:
        return [Event(*e) for e in self._k.trace_events(0)]

    def find(self, name: str, pid: int | None = None, nth: int = 0) -> Event | None:
        """The nth entry (or tracepoint) named `name`, optionally of one pid."""
        seen = 0
        for e in self.events:
            if e.name == name and e.type in ("entry", "point") and (pid is None or e.pid == pid):
                if seen == nth:
                    return e
                seen += 1
        return None

    def calls(self, name: str, pid: int | None = None) -> list[list[Event]]:
        """Every call of `name` as the list of its own task's events, entry to matching exit."""
        evs = self.events
        out = []
        for i, e in enumerate(evs):
            if e.type == "entry" and e.name == name and (pid is None or e.pid == pid):
                out.append(_subtree(evs, i))
        return out

    def function_graph(self, root: str | None = None, pid: int | None = None, nth: int = 0,
                       events: Iterable[Event] | None = None) -> str:
        """ftrace function_graph text: the whole buffer, or the nth call of `root`."""
        evs = list(events) if events is not None else self._select(root, pid, nth)
        return function_graph(evs)

    def tree(self, root: str, pid: int | None = None, nth: int = 0, args: bool = True) -> str:
        """The seeds' indented call tree (``|-name(args)``) of the nth call of `root`."""
        return call_tree(self._select(root, pid, nth), args=args)

    def _select(self, root: str | None, pid: int | None, nth: int) -> list[Event]:
        evs = self.events
        if root is None:
            return [e for e in evs if pid is None or e.pid == pid]
        seen = 0
        for i, e in enumerate(evs):
            if e.type == "entry" and e.name == root and (pid is None or e.pid == pid):
                if seen == nth:
                    return _subtree(evs, i)
                seen += 1
        raise LookupError(f"no call #{nth} of {root}" + (f" by pid {pid}" if pid is not None else "") + " in the trace")

    def perfetto(self, path: str | None = None) -> dict:
        """Chrome trace-event JSON (open in ui.perfetto.dev or chrome://tracing)."""
        out = []
        for e in self.events:
            base = {"name": e.name, "pid": 0, "tid": e.pid, "ts": e.ts / 1000.0, "cat": e.ctx}
            if e.type == "entry":
                out.append({**base, "ph": "B", "args": {"args": e.args}})
            elif e.type == "exit":
                out.append({**base, "ph": "E", "args": {"ret": e.ret}})
            else:
                out.append({**base, "ph": "i", "s": "t", "args": {"fields": e.args}})
        doc = {"traceEvents": out, "displayTimeUnit": "ns"}
        if path:
            with open(path, "w") as f:
                json.dump(doc, f)
        return doc


def _subtree(evs: list[Event], i: int) -> list[Event]:
    """Events of one call: from entry i to the exit at the same depth, same task only."""
    start = evs[i]
    out = [start]
    for e in evs[i + 1:]:
        if e.pid != start.pid or e.cpu != start.cpu and e.ctx == "host":
            continue
        out.append(e)
        if e.type == "exit" and e.depth == start.depth and e.name == start.name:
            break
    return out


def _us(ns: int) -> str:
    return f"{ns / 1000:.3f} us"


def function_graph(evs: list[Event]) -> str:
    lines = [
        "# tracer: function_graph",
        "#",
        "# CPU   TASK     DURATION                  FUNCTION CALLS",
        "# |     |         |   |                     |   |   |   |",
    ]
    base = min((e.depth for e in evs), default=0)
    i = 0
    last_pid = {}
    while i < len(evs):
        e = evs[i]
        indent = "  " * (e.depth - base)
        who = f"{e.pid:>6}" if e.pid >= 0 else "  host"
        prev = last_pid.get(e.cpu)
        if prev is not None and prev != e.pid:
            lines.append(f" {e.cpu})  ------------------------------------------")
            lines.append(f" {e.cpu})  {prev:>6} => {e.pid:<6}")
            lines.append(f" {e.cpu})  ------------------------------------------")
        last_pid[e.cpu] = e.pid
        nxt = evs[i + 1] if i + 1 < len(evs) else None
        if e.type == "entry" and nxt is not None and nxt.type == "exit" and nxt.name == e.name and nxt.pid == e.pid:
            lines.append(f" {e.cpu}) {who} | {_us(nxt.ts - e.ts):>12} |  {indent}{e.name}();")
            i += 2
            continue
        if e.type == "entry":
            lines.append(f" {e.cpu}) {who} | {'':>12} |  {indent}{e.name}() {{")
        elif e.type == "exit":
            start = _matching_entry(evs, i)
            dur = _us(e.ts - start.ts) if start else ""
            lines.append(f" {e.cpu}) {who} | {dur:>12} |  {indent}}} /* {e.name} = {e.ret} */")
        else:
            lines.append(f" {e.cpu}) {who} | {'':>12} |  {indent}/* {e.name}: {e.args} */")
        i += 1
    return "\n".join(lines) + "\n"


def _matching_entry(evs: list[Event], i: int) -> Event | None:
    x = evs[i]
    for e in reversed(evs[:i]):
        if e.type == "entry" and e.name == x.name and e.depth == x.depth and e.pid == x.pid:
            return e
    return None


def call_tree(evs: list[Event], args: bool = True) -> str:
    """The seeds' notation: one ``|-function(args)`` line per call, two spaces per level."""
    if not evs:
        return ""
    base = evs[0].depth
    lines = []
    for e in evs:
        if e.type != "entry":
            continue
        level = e.depth - base
        text = f"{e.name}({e.args})" if args else e.name
        lines.append(("  " * (level - 1) + "|-" + text) if level else text)
    return "\n".join(lines) + "\n"
