"""Fork's replay (cpp/bindings/user_python.cpp with engine/user_image.h): a fork child's Python
coroutine is rebuilt by replaying the parent's recorded system calls from the program's start.
Replayed output is suppressed, module globals are shared (like MAP_SHARED memory), signal handlers
are rebound to the child's own closures, and a program that takes another path in the replay is
killed with a clear report. These tests are about the console on purpose: what the replay prints
is the behaviour."""
import os
import signal as S

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run

shared = []  # module globals are shared by every process, like MAP_SHARED memory


def test_replay_suppresses_output_and_shares_globals(k):
    """The child's replay writes nothing to the console, but its Python side effects on globals happen again."""
    shared.clear()

    async def main(sys):
        await sys.print("once")
        shared.append("parent side effect")
        pid = await sys.fork()
        if pid == 0:
            await sys.print("child sees", len(shared))
            return 0
        await sys.waitpid(pid, 0)
    spawn_run(k, main)
    # the child re-ran the program from the start: its replayed print made no output, but its
    # Python side effect on a module global happened again (globals are shared memory)
    assert lines(k) == ["once", "child sees 2"]


def test_replay_divergence_is_reported_and_kills_the_child(k):
    """A child whose replay makes another system call than the parent did is SIGKILLed; k.run() raises ReplayDivergence."""
    calls = []

    async def main(sys):
        calls.append(1)
        if len(calls) == 1:
            await sys.getpid()
        else:
            await sys.getppid()  # the replayed child takes another path
        pid = await sys.fork()
        if pid == 0:
            await sys.print("child ran")
            return 0
        _, st = await sys.waitpid(pid, 0)
        await sys.print("child killed by", os.WTERMSIG(st))
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    with pytest.raises(gk.ReplayDivergence, match=r"system call #1: the parent made getpid\(39,\) but the child's program made getppid\(110,\)"):
        k.run()
    k.check()
    child = k.task(parent.pid + 1)
    run_checked(k)  # the kernel goes on: the parent reaps the killed child
    assert lines(k) == ["child killed by 9"]
    assert "diverged" in child.traceback


def test_fork_child_replays_deliveries_and_rebinds_handlers(k):
    """A handler that ran before the fork is replayed silently in the child; the child's own copy then handles its signals."""
    async def main(sys):
        async def h(sys, signo):
            await sys.print("handler in", await sys.getpid())
        await sys.sigaction(S.SIGUSR1, h)
        me = await sys.getpid()
        await sys.kill(me, S.SIGUSR1)  # delivered before the fork: replayed silently in the child
        pid = await sys.fork()
        if pid == 0:
            child = await sys.getpid()
            await sys.kill(child, S.SIGUSR1)  # the child's own copy of the handler runs
            await sys.print("child done", (await sys.sigaction(S.SIGUSR1)) is h)
            return 0
        await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    c = t.pid + 1
    assert lines(k) == [f"handler in {t.pid}", f"handler in {c}", "child done True"]


def test_fork_inside_a_handler(k):
    """fork(2) from inside a signal handler: the child's replay re-enters the handler and returns 0 there."""
    async def main(sys):
        async def h(sys, signo):
            pid = await sys.fork()
            if pid == 0:
                await sys.print("child in handler")
                await sys.exit(3)
            _, st = await sys.waitpid(pid, 0)
            await sys.print("parent handler reaped", os.WEXITSTATUS(st))
        await sys.sigaction(S.SIGUSR1, h)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
        await sys.print("main continues")
    spawn_run(k, main)
    assert lines(k) == ["child in handler", "parent handler reaped 3", "main continues"]
