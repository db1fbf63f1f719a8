"""Breakpoints (cpp/trace/scope.cpp's hook that stops the engine at a traced function, and
cpp/bindings/stop.cpp's Breakpoint and Stop views): k.break_at() stops at any modeled function
with the stopped task's state and kernel call chain readable, optionally only when a predicate
holds; k.run() continues."""
import pytest

import glasskernel as gk
from gktest import forker, lines, run_checked


def test_break_at_copy_process_shows_call_chain(k):
    """A stop in copy_process shows the fork's kernel call chain, entry_SYSCALL_64 -> __x64_sys_clone -> kernel_clone."""
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


def test_when_predicate_sees_event_and_task(k):
    """A breakpoint's predicate gets the event and the task, and the run stops only where it is true."""
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
    """An exception in a breakpoint's predicate comes out of k.run(); the kernel stays consistent and can run on."""
    t = forker(k)
    k.break_at("copy_process", when=lambda ev: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        k.run()
    k.check()
    k.breakpoints[0].remove()
    k.run()
    assert t.reaped


def test_break_at_a_name_no_trace_has_is_refused_with_close_matches(k):
    """A breakpoint on a name no event can have would never stop: refused, with suggestions."""
    with pytest.raises(ValueError, match=r"did you mean: copy_process"):
        k.break_at("copy_proces")
    with pytest.raises(ValueError, match="glasskernel.trace_names"):
        k.break_at("no_such_function_anywhere")
    assert k.breakpoints == []
    assert "copy_process" in gk.trace_names and "__x64_sys_wait4" in gk.trace_names and "sched_switch" in gk.trace_names


def test_run_until_a_breakpoint_passes_over_the_others(k):
    """k.run(until=k.break_at(name)) runs to that breakpoint, as gdb's advance does; the others stay set but do not stop it."""
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
