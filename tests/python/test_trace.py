"""The trace buffer (kernel/trace's ring buffer and trace_pipe filters): queries filtered in the
core, calls cut out of the buffer, a bounded buffer that keeps the newest events in order."""
import pytest

import glasskernel as gk


def getpid_loop(k, n):
    @k.program("/bin/loop")
    async def loop(sys):
        for _ in range(n):
            await sys.getpid()
    return k.spawn("/bin/loop")


def test_select_filters_by_name_pid_cpu_type_and_time(k):
    """select() returns exactly what filtering every event in Python would."""
    t = getpid_loop(k, 20)
    k.run()
    every = k.trace.events
    assert [e.seq for e in every] == sorted(e.seq for e in every)
    mid = every[len(every) // 2].ts
    cases = [
        (dict(name="__x64_sys_getpid"), lambda e: e.name == "__x64_sys_getpid"),
        (dict(pid=t.pid, type="exit"), lambda e: e.pid == t.pid and e.type == "exit"),
        (dict(cpu=0, type="point"), lambda e: e.cpu == 0 and e.type == "point"),
        (dict(since_ns=mid), lambda e: e.ts >= mid),
        (dict(until_ns=mid, name="sched_switch"), lambda e: e.ts <= mid and e.name == "sched_switch"),
    ]
    for kw, pred in cases:
        assert k.trace.select(**kw) == [e for e in every if pred(e)], kw
    assert len(k.trace.select(name="__x64_sys_getpid", type="entry")) == 20
    assert len(k.trace.select(name="__x64_sys_getpid", limit=3)) == 3
    with pytest.raises(ValueError, match="type"):
        k.trace.select(type="enter")


def test_a_call_is_its_entry_to_its_exit_on_its_own_task(k):
    """calls()/function_graph cut one call out: entry first, the matching exit last."""
    t = getpid_loop(k, 3)
    k.run()
    calls = k.trace.calls("__x64_sys_getpid", pid=t.pid)
    assert len(calls) == 3
    for c in calls:
        assert (c[0].type, c[0].name) == ("entry", "__x64_sys_getpid")
        assert (c[-1].type, c[-1].name, c[-1].ret) == ("exit", "__x64_sys_getpid", t.pid)
        assert {e.pid for e in c} == {t.pid}
    with pytest.raises(LookupError, match="no call #3 of __x64_sys_getpid"):
        k.trace.tree("__x64_sys_getpid", pid=t.pid, nth=3)


def test_the_buffer_stays_bounded_and_in_order_when_its_limit_changes(k):
    """Like the ftrace ring buffer, the oldest events are overwritten; changing the size keeps the
    newest ones, in order (raising the limit after a wrap used to put new events mid-buffer)."""
    getpid_loop(k, 2000)
    k.trace.limit = 300
    k.run(for_ns=40_000)
    assert len(k.trace) == 300 and k.trace.dropped > 0
    newest = [e.seq for e in k.trace.events][-50:]
    k.trace.limit = 100_000
    k.run()
    seqs = [e.seq for e in k.trace.events]
    assert seqs == sorted(seqs) and seqs[:50] != newest and set(newest) <= set(seqs)
    dropped = k.trace.dropped
    k.trace.limit = 100  # shrinking keeps the newest 100
    assert [e.seq for e in k.trace.events] == seqs[-100:] and k.trace.dropped == dropped + len(seqs) - 100
    with pytest.raises(ValueError):
        k.trace.limit = 0


def test_an_event_is_a_view_with_attributes_and_html(k):
    """An Event shows its fields as attributes, in its repr and as an HTML table in Jupyter."""
    getpid_loop(k, 1)
    k.run()
    e = k.trace.find("__x64_sys_getpid")
    assert isinstance(e, gk.Event) and e.type == "entry" and e.ctx == "task"
    html = e._repr_html_()
    for f in ("seq", "ts", "cpu", "pid", "type", "ctx", "depth", "name", "args", "ret"):
        assert f"<th style=\"text-align:left\">{f}</th>" in html
    assert "__x64_sys_getpid" in repr(e) and e == k.trace.find("__x64_sys_getpid") and e != k.trace.find("__x64_sys_getpid", nth=0).seq
