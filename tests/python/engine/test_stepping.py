"""cpp/engine/run_loop.cpp's stepping: k.step() stops at the next traced function, system call,
context switch or tick, and k.run() goes on from there."""
from gktest import forker, run_checked


def test_step_function_by_function(k):
    """k.step(): from kernel_clone, the next stops are copy_process, dup_task_struct and sched_fork, as Linux calls them."""
    t = forker(k)
    k.break_at("kernel_clone", when=lambda ev: ev.pid == t.pid)
    k.run()
    names = [k.step().function for _ in range(3)]
    assert names == ["copy_process", "dup_task_struct", "sched_fork"]
    k.breakpoints[0].remove()
    k.run()
    assert t.reaped


def test_step_syscall_and_switch(k):
    """k.step("syscall") stops at the next __x64_sys_* entry, k.step("switch") at the next sched_switch."""
    t = forker(k)
    s = k.step("syscall")
    assert s.function.startswith("__x64_sys_") and s.task == t
    s = k.step("switch")
    assert s.function == "sched_switch" and "prev_pid" in s.event.args
    run_checked(k)
