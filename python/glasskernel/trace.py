"""Renderings of the kernel's trace buffer: ftrace's function_graph text, indented ``|-`` call
trees, and Chrome/Perfetto JSON."""
from __future__ import annotations

import json
from typing import Iterable

from . import _core
from ._util import check_int


Event = _core.Event  # one record: seq, ts, cpu, pid, type, ctx, depth, name, args, ret


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
        """Every event in the buffer, oldest first (select() filters without copying them all)."""
        return self._k.trace_select()

    @property
    def dropped(self) -> int:
        """Events the buffer dropped (oldest first) to stay within its limit."""
        return self._k.trace_dropped

    @property
    def limit(self) -> int:
        """How many events the buffer keeps; the oldest go first. Lowering it keeps the newest."""
        return self._k.trace_limit

    @limit.setter
    def limit(self, n: int) -> None:
        self._k.trace_limit = n

    def select(self, name: str | None = None, pid: int | None = None, cpu: int | None = None, type: str | None = None,
               since_ns: int | None = None, until_ns: int | None = None, limit: int | None = None) -> list[Event]:
        """The events matching every given filter (function or tracepoint name, pid, cpu, 'entry' /
        'exit' / 'point', a time window), oldest first, at most `limit`."""
        pid = None if pid is None else check_int(pid, "pid")
        cpu = None if cpu is None else check_int(cpu, "cpu")
        since_ns = None if since_ns is None else check_int(since_ns, "since_ns", "long")
        until_ns = None if until_ns is None else check_int(until_ns, "until_ns", "long")
        limit = None if limit is None else check_int(limit, "limit", "long")
        return self._k.trace_select(name, pid, cpu, type, since_ns, until_ns, limit)

    def find(self, name: str, pid: int | None = None, nth: int = 0) -> Event | None:
        """The nth entry (or tracepoint) named `name`, optionally of one pid."""
        evs = [e for e in self._k.trace_select(name, pid) if e.type != "exit"]
        return evs[nth] if len(evs) > nth else None

    def calls(self, name: str, pid: int | None = None) -> list[list[Event]]:
        """Every call of `name` as the list of its own task's events, entry to matching exit."""
        return self._k.trace_calls(name, pid)

    def function_graph(self, root: str | None = None, pid: int | None = None, nth: int = 0,
                       events: Iterable[Event] | None = None) -> str:
        """ftrace function_graph text: the whole buffer, or the nth call of `root`."""
        evs = list(events) if events is not None else self._select(root, pid, nth)
        return function_graph(evs)

    def tree(self, root: str, pid: int | None = None, nth: int = 0, args: bool = True) -> str:
        """The indented call tree (``|-name(args)``, one line per call) of the nth call of `root`."""
        return call_tree(self._select(root, pid, nth), args=args)

    def _select(self, root: str | None, pid: int | None, nth: int) -> list[Event]:
        if root is None:
            return self._k.trace_select(None, pid)
        return self._k.trace_call(root, pid, nth)

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
    """One ``|-function(args)`` line per call, two spaces per level."""
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
