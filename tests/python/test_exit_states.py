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


def test_init_reaps_spawned_programs(k):
    """init adopts what k.spawn() starts and reaps it (sigwaitinfo(SIGCHLD), wait4(-1, WNOHANG) loop)."""
    @k.program("/bin/seven")
    async def seven(sys):
        await sys.exit(7)

    @k.program("/bin/crash")
    async def crash(sys):
        raise RuntimeError("boom")

    @k.program("/bin/victim")
    async def victim(sys):
        await sys.pause()

    @k.program("/bin/killer")
    async def killer(sys, _argv0, victim_pid):
        await sys.kill(int(victim_pid), signal.SIGKILL)

    ts = [k.spawn("/bin/seven"), k.spawn("/bin/true"), k.spawn("/bin/false"), k.spawn("/bin/crash")]
    v = k.spawn("/bin/victim")
    assert all(t.real_parent.pid == 1 for t in ts + [v])
    k.run()
    ts.append(k.spawn("/bin/killer", ["/bin/killer", str(v.pid)]))
    run_checked(k)
    assert zombies(k) == [] and k.init.children == []
    for t in ts + [v]:
        # The view keeps the task_struct: its exit status outlives release_task.
        assert t.reaped and t.state == "X" and t.exit_state == EXIT_DEAD
    seven, true, false, crashed, killer_t = ts
    assert os.WIFEXITED(seven.exit_code) and os.WEXITSTATUS(seven.exit_code) == 7
    assert os.WEXITSTATUS(true.exit_code) == 0 and os.WEXITSTATUS(false.exit_code) == 1
    assert os.WIFSIGNALED(crashed.exit_code) and os.WTERMSIG(crashed.exit_code) == signal.SIGSEGV
    assert os.WIFSIGNALED(v.exit_code) and os.WTERMSIG(v.exit_code) == signal.SIGKILL
    assert killer_t.exit_code == 0


def test_init_reaps_orphans_and_zombie_orphans(k):
    """forget_original_parent: orphans go to init, a zombie one announced at once; init reaps all."""
    @k.program("/bin/t")
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(5)                # a zombie when its parent exits
        if await sys.fork() == 0:
            await sys.nanosleep(0.002)       # outlives its parent
            await sys.print("ppid", await sys.getppid())
            await sys.exit(6)
        await sys.nanosleep(0.001)
        await sys.exit(0)
    parent = k.spawn("/bin/t")
    zombie, orphan = None, None

    def parent_gone(kk):
        nonlocal zombie, orphan
        if zombie is None:
            kids = parent.children
            if len(kids) == 2:
                zombie, orphan = kids
        return parent.reaped
    k.run(until=parent_gone)
    assert orphan.real_parent.pid == 1 and orphan in k.init.children
    run_checked(k)
    assert lines(k) == ["ppid 1"]
    assert zombies(k) == [] and k.init.children == []
    assert zombie.reaped and os.WEXITSTATUS(zombie.exit_code) == 5
    assert orphan.reaped and os.WEXITSTATUS(orphan.exit_code) == 6


def test_orphan_made_with_another_exit_signal_is_reaped_by_init(k):
    """reparent_leader: an orphan's exit_signal becomes SIGCHLD, so init hears of its death."""
    @k.program("/bin/t")
    async def main(sys):
        pid = await sys.syscall(NR.clone, signal.SIGUSR1, 0, 0, 0, 0)
        if pid == 0:
            await sys.nanosleep(0.002)
            await sys.exit(4)
        await sys.exit(0)
    parent = k.spawn("/bin/t")
    k.run(until=lambda kk: len(parent.children) == 1)
    child = parent.children[0]
    assert child.exit_signal == signal.SIGUSR1
    k.run(until=lambda kk: parent.reaped)
    assert child.real_parent.pid == 1 and child.exit_signal == signal.SIGCHLD
    run_checked(k)
    assert zombies(k) == [] and child.reaped and os.WEXITSTATUS(child.exit_code) == 4


def test_unwaited_child_of_a_live_parent_stays_a_zombie(k):
    """A live parent's unwaited child stays EXIT_ZOMBIE until that parent waits or exits (wait(2))."""
    @k.program("/bin/lazy")
    async def lazy(sys):
        if await sys.fork() == 0:
            await sys.exit(3)
        await sys.pause()                    # never waits

    @k.program("/bin/patient")
    async def patient(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(9)
        await sys.nanosleep(0.005)
        wpid, status = await sys.waitpid(pid, 0)
        await sys.print("waited", wpid == pid, os.WEXITSTATUS(status))

    lazy_t = k.spawn("/bin/lazy")
    assert not k.run()                       # nothing left to run: lazy sleeps in pause()
    (z,) = lazy_t.children
    assert z.state == "Z" and z.exit_state == EXIT_ZOMBIE and not z.reaped
    assert z.real_parent.pid == lazy_t.pid and os.WEXITSTATUS(z.exit_code) == 3

    patient_t = k.spawn("/bin/patient")
    k.run(until=lambda kk: any(c.state == "Z" for c in patient_t.children))
    (pz,) = patient_t.children
    assert pz.exit_state == EXIT_ZOMBIE      # still there: its parent sleeps, then waits
    run_checked(k)
    assert lines(k) == ["waited True 9"]
    assert pz.reaped and patient_t.reaped
    assert zombies(k) == [z.pid]             # lazy's child waits for lazy

    @k.program("/bin/kill")
    async def kill(sys, _argv0, pid):
        await sys.kill(int(pid), signal.SIGKILL)
    k.spawn("/bin/kill", ["/bin/kill", str(lazy_t.pid)])
    run_checked(k)                           # lazy dies: init adopts its zombie and reaps it
    assert zombies(k) == [] and z.reaped and lazy_t.reaped


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


def test_stop_at_a_self_reaped_tasks_last_switch_keeps_the_task(k):
    """A self-released task lives until its last switch (finish_task_switch drops the last reference)."""
    t = sigchld_ignored(k)
    seen = []
    while (st := k.step("switch")) is not None:
        if st.task is not None and st.task.reaped:
            seen.append(st.task)
            assert st.task.exit_state == EXIT_DEAD and st.task.real_parent is None
            assert st.task.pid != t.pid and st.task.comm == "ign"
    assert len(seen) == 2 and all(x.exit_code == 0 for x in seen)
    assert t.reaped


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
