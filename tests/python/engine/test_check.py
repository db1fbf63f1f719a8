"""cpp/engine/check.cpp: the kernel's self-check (the simulator's CONFIG_DEBUG_LIST-style
invariants) holds at every stop, including stops inside a function whose call chain is half way
through a change Linux makes under a lock: an exiting task runs on, queued, to its last
__schedule(); a self-reaping child is released by exit_notify and runs on to its last switch."""
import os

import pytest

import glasskernel as gk
from gktest import STEP_MODES, fork_exit_wait, sigchld_ignored, step_checked, zombies


@pytest.mark.parametrize("cpus", [1, 2])
@pytest.mark.parametrize("mode", STEP_MODES)
def test_check_holds_at_every_step_of_fork_exit_wait(mode, cpus):
    """do_exit: an exiting task runs on, queued, to its last __schedule(); its stack goes at the switch away."""
    k = gk.Kernel(cpus=cpus, seed=0)
    t = fork_exit_wait(k)
    stops = step_checked(k, mode)
    assert stops
    assert t.reaped and os.WEXITSTATUS(t.exit_code) == 3 and zombies(k) == []


@pytest.mark.parametrize("cpus", [1, 2])
@pytest.mark.parametrize("mode", STEP_MODES)
def test_check_holds_at_every_step_of_a_self_reaping_child(mode, cpus):
    """SIGCHLD = SIG_IGN: exit_notify releases the child itself, which runs on to its last schedule()."""
    k = gk.Kernel(cpus=cpus, seed=0)
    t = sigchld_ignored(k)
    stops = step_checked(k, mode)
    assert all(task is not None for _, task in stops)
    assert t.reaped and zombies(k) == []


def test_check_holds_at_every_traced_point():
    """Every entry and tracepoint of fork, exit, wait, migration and a policy change passes k.check()."""
    k = gk.Kernel(cpus=2, seed=0)
    fork_exit_wait(k)
    sigchld_ignored(k)

    @k.program("/bin/move")
    async def move(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.compute(3_000_000)
            await sys.exit(1)
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
        await sys.compute(1_000_000)
        await sys.sched_setscheduler(0, os.SCHED_OTHER, 0)
        await sys.sched_setaffinity(pid, [1])
        await sys.sched_setaffinity(0, [1])
        await sys.compute(1_000_000)
        await sys.waitpid(pid, 0)
    k.spawn("/bin/move")
    for name in gk.trace_names:
        try:
            k.break_at(name)
        except ValueError:
            pass  # a name pattern, not a name
    names = set()
    while st := k.run():                     # a Stop at each breakpoint, until the end
        k.check()
        names.add(st.event.name)
        assert len(names) < 10000
    k.check()
    assert {"release_task", "free_pid", "sched_process_free", "sched_migrate_task", "dequeue_task",
            "enqueue_task", "exit_notify", "sched_switch"} <= names
    assert zombies(k) == []
