"""Stepping and breakpoints: the engine stops at any modeled function, Python reads the stopped
task's state and kernel call chain, and k.run() continues. Runs are deterministic."""
import os

import pytest

import glasskernel as gk
from gktest import lines, run_checked


def forker(k):
    @k.program("/bin/forker")
    async def forker(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(2)
        await sys.waitpid(pid, 0)
        await sys.print("done")
    return k.spawn("/bin/forker")


def test_break_at_copy_process_shows_call_chain(k):
    t = forker(k)
    bp = k.break_at("copy_process", when=lambda ev: ev.pid == t.pid)
    stop = k.run()
    assert stop.reason == "breakpoint" and stop.function == "copy_process"
    assert stop.task == t and stop.event.type == "entry"
    assert stop.backtrace == ["entry_SYSCALL_64", "__x64_sys_clone", "kernel_clone", "copy_process"]
    assert t.kernel_stack == stop.backtrace and t.mode == "kernel"
    assert k.stopped is not None
    assert len(t.children) == 0  # not forked yet
    with pytest.raises(RuntimeError, match="stopped inside copy_process"):
        k.spawn("/bin/true")
    k.check()
    assert bp.hits == 1
    bp.remove()
    assert k.breakpoints == []
    end = k.run()
    assert not end and end.reason == "finished" and end.blocked == []
    assert lines(k) == ["done"] and t.reaped


def test_step_function_by_function(k):
    t = forker(k)
    k.break_at("kernel_clone", when=lambda ev: ev.pid == t.pid)
    k.run()
    names = [k.step().function for _ in range(3)]
    assert names == ["copy_process", "dup_task_struct", "sched_fork"]
    k.breakpoints[0].remove()
    k.run()
    assert t.reaped


def test_step_syscall_and_switch(k):
    t = forker(k)
    s = k.step("syscall")
    assert s.function.startswith("__x64_sys_") and s.task == t
    s = k.step("switch")
    assert s.function == "sched_switch" and "prev_pid" in s.event.args
    run_checked(k)


def test_when_predicate_sees_event_and_task(k):
    t = forker(k)
    seen = []

    def when(ev, task):
        seen.append((ev.name, task.pid))
        return task.pid != t.pid  # stop in the child only

    k.break_at("do_exit", when)
    s = k.run()
    assert s.task.pid == t.pid + 1 and s.function == "do_exit"
    assert "code=0x200" in s.event.args
    assert seen[-1] == ("do_exit", t.pid + 1)
    k.breakpoints[0].remove()
    run_checked(k)


def test_predicate_error_is_raised_and_kernel_stays_consistent(k):
    t = forker(k)
    k.break_at("copy_process", when=lambda ev: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        k.run()
    k.check()
    k.breakpoints[0].remove()
    k.run()
    assert t.reaped


def test_run_until_predicate_and_time(k):
    @k.program("/bin/sleeper")
    async def sleeper(sys):
        await sys.nanosleep(0.5)
    t = k.spawn("/bin/sleeper")
    start = k.now
    stop = k.run(for_ns=1_000_000)
    assert not stop and stop.reason == "time_limit"
    assert t.state == "S" and k.now <= start + 1_000_000
    k.run(until=lambda k: t.reaped)
    assert t.reaped and k.now >= start + 500_000_000


def test_nested_run_from_callback_is_refused(k):
    forker(k)
    with pytest.raises(RuntimeError, match="already running"):
        k.run(until=lambda kk: kk.run())


def trace_of_run(seed):
    k = gk.Kernel(seed=seed)

    @k.program("/bin/t")
    async def main(sys):
        for i in range(3):
            if await sys.fork() == 0:
                await sys.compute(100_000 * (i + 1))
                await sys.exit(i)
        for _ in range(3):
            await sys.wait()
    k.spawn("/bin/t")
    k.run()
    return [(e.ts, e.cpu, e.pid, e.type, e.name, e.args, e.ret) for e in k.trace.events], k.console


def test_same_program_same_seed_same_trace():
    a, b = trace_of_run(0), trace_of_run(0)
    assert a == b and len(a[0]) > 100


def test_function_graph_and_tree_render(k):
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
    t = forker(k)
    k.run()
    names = [e.name for e in k.trace.events if e.type == "point"]
    for tp in ("sched_process_fork", "sched_process_exit", "sched_process_wait", "sched_process_free", "sched_switch",
               "sched_wakeup", "sched_wakeup_new", "sched_process_exec"):
        assert tp in names, tp


def test_two_cpus_run_children_in_parallel():
    k = gk.Kernel(cpus=2)

    @k.program("/bin/par")
    async def par(sys):
        kids = []
        for _ in range(2):
            pid = await sys.fork()
            if pid == 0:
                await sys.compute(10_000_000)
                await sys.exit(0)
            kids.append(pid)
        for p in kids:
            await sys.waitpid(p, 0)
    start = k.now
    t = k.spawn("/bin/par")
    cpus_seen = set()
    k.run(until=lambda k: (cpus_seen.update(c.cpu for c in t.children if c.state == "R"), False)[1])
    assert t.reaped and cpus_seen == {0, 1}
    # 20 ms of work on 2 CPUs finishes in about 10 ms of virtual time
    assert k.now - start < 15_000_000
    k.check()


def test_seed_changes_only_tie_breaking_and_is_reproducible():
    def run(seed):
        k = gk.Kernel(cpus=2, seed=seed)

        @k.program("/bin/p")
        async def p(sys):
            for i in range(4):
                if await sys.fork() == 0:
                    await sys.print("child", i)
                    await sys.exit(0)
            for _ in range(4):
                await sys.wait()
        k.spawn("/bin/p")
        k.run()
        return k.console, [(e.ts, e.cpu, e.name) for e in k.trace.events]
    assert run(1) == run(1)
    assert sorted(run(1)[0].splitlines()) == sorted(run(2)[0].splitlines())


def test_break_at_a_name_no_trace_has_is_refused_with_close_matches(k):
    """A breakpoint on a name no event can have would never stop: refused, with suggestions."""
    with pytest.raises(ValueError, match=r"did you mean: copy_process"):
        k.break_at("copy_proces")
    with pytest.raises(ValueError, match="glasskernel.trace_names"):
        k.break_at("no_such_function_anywhere")
    assert k.breakpoints == []
    assert "copy_process" in gk.trace_names and "__x64_sys_wait4" in gk.trace_names and "sched_switch" in gk.trace_names


def test_every_traced_name_is_listed_and_bottom_half_scopes_appear(k):
    """The names a rich run traces are all in trace_names (the list is complete), including the
    softirq entry points the lessons name: irq_exit_rcu, the softirq_raise tracepoint and
    __local_bh_enable_ip (local_bh_enable's body)."""
    net = gk.Network()
    a, b = net.host("a"), net.host("b")
    net.link(a, b)

    @b.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        await sys.recvfrom(s, 100, 0)

    @a.program("/bin/cli")
    async def cli(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        s = await sys.socket()
        await sys.sendto(s, b"hi", ("10.0.0.2", 9000))

    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(for_ns=50_000_000)
    names = {e.name for h in (a, b) for e in h.trace.events}
    assert names <= set(gk.trace_names), names - set(gk.trace_names)
    for fn in ("irq_exit_rcu", "softirq_raise", "__local_bh_enable_ip", "__do_softirq", "net_rx_action"):
        assert fn in names, fn


def test_run_says_finished_or_deadlock_with_each_blocked_task_and_its_wchan(k):
    """When nothing can run and no timer is pending, tasks still asleep stay so: k.run() reports a
    deadlock listing them with /proc/PID/wchan's function (checked against this machine's Linux:
    pause() sleeps in __do_sys_pause, waitpid in do_wait, nanosleep in hrtimer_nanosleep)."""
    import signal

    @k.program("/bin/family")
    async def family(sys):
        child = await sys.fork()
        if child == 0:
            await sys.pause()
        await sys.waitpid(child, 0)

    @k.program("/bin/napper")
    async def napper(sys):
        await sys.nanosleep(0.01)

    t = k.spawn("/bin/family")
    n = k.spawn("/bin/napper")
    stop = k.run(for_ns=1_000_000)
    assert stop.reason == "time_limit" and n.wchan == "hrtimer_nanosleep"
    stop = k.run()
    child = t.children[0]
    assert not stop and stop.reason == "deadlock"
    assert [(x.pid, x.state, x.wchan) for x in stop.blocked] == [(t.pid, "S", "do_wait"), (child.pid, "S", "__do_sys_pause")]
    assert f"family/{t.pid} (S in do_wait)" in repr(stop) and n.reaped and n.wchan is None

    @k.program("/bin/killer")
    async def killer(sys, argv0, pid):
        await sys.kill(int(pid), signal.SIGTERM)
    k.spawn("/bin/killer", ["/bin/killer", str(child.pid)])
    stop = k.run()
    assert stop.reason == "finished" and stop.blocked == [] and t.reaped


def test_run_until_a_breakpoint_passes_over_the_others(k):
    """k.run(until=k.break_at(name)) runs to that breakpoint, as gdb's advance does: other
    breakpoints stay set but do not stop this run."""
    t = forker(k)
    other = k.break_at("__x64_sys_getpid")
    early = k.break_at("sched_fork")
    stop = k.run(until=k.break_at("copy_process"))
    assert stop.reason == "breakpoint" and stop.function == "copy_process" and stop.task == t
    assert early.hits == 0 and early.enabled and other.enabled
    stop = k.run()
    assert stop.function == "sched_fork" and early.hits == 1
    early.disable()
    with pytest.raises(ValueError, match="disabled"):
        k.run(until=early)
