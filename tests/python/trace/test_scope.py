"""cpp/trace/scope.cpp (with bindings/trace.cpp's views): the function_graph tracer's entry/exit
records and the TRACE_EVENT tracepoints, in a bounded buffer like kernel/trace's ring buffer.
Queries are filtered in the core, calls are cut out of the buffer and rendered as a function graph
or a tree, every name a run can trace is listed in gk.trace_names, and the lifecycle's
tracepoints are Linux's."""
import pytest

import glasskernel as gk
from gktest import forker, udp_server


def getpid_loop(k, n):
    """Spawn a program that makes `n` getpid() calls; returns the task."""
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
    """Like the ftrace ring buffer, the oldest events are overwritten; resizing keeps the newest ones, in order."""
    # Raising the limit after a wrap used to put new events mid-buffer.
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


def test_function_graph_and_tree_render(k):
    """function_graph renders a call as ftrace's function_graph tracer does; tree() as an indented call tree."""
    t = forker(k)
    k.run()
    fg = k.trace.function_graph("__x64_sys_clone", pid=t.pid)
    assert "copy_process() {" in fg and "dup_task_struct();" in fg and "} /* __x64_sys_clone =" in fg
    tree = k.trace.tree("__x64_sys_wait4", pid=t.pid, args=False)
    assert tree.splitlines()[0] == "__x64_sys_wait4" and "|-kernel_wait4" in tree and "|-wait_task_zombie" in tree
    with pytest.raises(LookupError):
        k.trace.tree("no_such_function")
    doc = k.trace.perfetto()
    assert any(e["ph"] == "B" and e["name"] == "copy_process" for e in doc["traceEvents"])


def test_tracepoints_of_the_lifecycle(k):
    """include/trace/events/sched.h: fork, exec, exit and wait emit sched_process_*, sched_switch and the wakeup tracepoints."""
    forker(k)
    k.run()
    names = [e.name for e in k.trace.events if e.type == "point"]
    for tp in ("sched_process_fork", "sched_process_exit", "sched_process_wait", "sched_process_free", "sched_switch",
               "sched_wakeup", "sched_wakeup_new", "sched_process_exec"):
        assert tp in names, tp


def test_every_traced_name_is_listed_and_bottom_half_scopes_appear(net2):
    """Every name a rich run traces is in gk.trace_names, including the softirq entry points the lessons name."""
    # irq_exit_rcu, the softirq_raise tracepoint and __local_bh_enable_ip (local_bh_enable's body).
    net, a, b = net2
    udp_server(b, 9000)

    @a.program("/bin/cli")
    async def cli(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        s = await sys.socket()
        await sys.sendto(s, b"hi", ("10.0.0.2", 9000))

    a.spawn("/bin/cli")
    net.run(for_ns=50_000_000)
    names = {e.name for h in (a, b) for e in h.trace.events}
    assert names <= set(gk.trace_names), names - set(gk.trace_names)
    for fn in ("irq_exit_rcu", "softirq_raise", "__local_bh_enable_ip", "__do_softirq", "net_rx_action"):
        assert fn in names, fn
