"""kernel/exit.c's states from exit to release: init reaps what it adopts, a live parent's unwaited
child stays a zombie, and the self-check accepts every state a task passes through on its way out
(kernel/sched/core.c: an exiting task runs on until its last schedule())."""
import gc
import os
import signal

import pytest

import glasskernel as gk
from glasskernel.syscalls import NR
from gktest import lines, run_checked

EXIT_DEAD, EXIT_ZOMBIE = 0x10, 0x20
STEP_MODES = ("function", "syscall", "switch", "tick")


def zombies(k):
    return [t.pid for t in k.tasks if t.state == "Z"]


def fork_exit_wait(k):
    @k.program("/bin/few")
    async def few(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.compute(10_000_000)    # long enough for ticks
            await sys.exit(7)
        await sys.waitpid(pid, 0)
        pid = await sys.fork()
        if pid == 0:
            if await sys.fork() == 0:
                await sys.nanosleep(0.001)   # an orphan by then
                await sys.exit(9)
            await sys.exit(8)
        await sys.nanosleep(0.0005)          # its child is a zombie meanwhile
        await sys.waitpid(pid, 0)
        await sys.exit(3)
    return k.spawn("/bin/few")


def sigchld_ignored(k):
    @k.program("/bin/ign")
    async def ign(sys):
        await sys.sigaction(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
        for _ in range(2):
            if await sys.fork() == 0:
                await sys.compute(5_000_000)
                await sys.exit(0)
        await sys.nanosleep(0.02)
    return k.spawn("/bin/ign")


def step_checked(k, mode):
    """Step in `mode` to the end, with the self-check at every stop; returns the stops."""
    stops = []
    while (st := k.step(mode)) is not None:
        k.check()
        stops.append((st.event.name, st.task))
        assert len(stops) < 20000
    k.check()
    return stops


@pytest.mark.parametrize("cpus", [1, 2])
@pytest.mark.parametrize("mode", STEP_MODES)
def test_check_holds_at_every_step_of_fork_exit_wait(mode, cpus):
    """An exiting task runs on, queued, to its last __schedule(); its stack goes at the switch away."""
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


def test_kernel_dropped_while_stopped_in_a_self_reaped_task():
    """Teardown unwinds a self-released task's suspended kernel stack while its stack cache exists."""
    k = gk.Kernel(cpus=1, seed=0)
    sigchld_ignored(k)
    while (st := k.step("switch")) is not None and not (st.task is not None and st.task.reaped):
        pass
    assert st is not None
    child = st.task
    del k, st
    gc.collect()
    assert child.reaped and child.exit_code == 0   # the view outlives the kernel's own references


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


def test_same_seed_same_trace_with_init_reaping():
    """Same program and seed, same trace: init's reaping included, event for event."""
    def trace(seed):
        k = gk.Kernel(cpus=2, seed=seed)
        fork_exit_wait(k)
        sigchld_ignored(k)
        k.run()
        return k.trace.function_graph()
    assert trace(1) == trace(1)
