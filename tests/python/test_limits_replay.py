"""RLIMIT_NPROC and pid exhaustion give EAGAIN; the pid allocator wraps at pid_max without
reusing a live pid; fork's replay is exact and a divergence is reported clearly."""
import errno
import os
import resource

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run

shared = []  # module globals are shared by every process, like MAP_SHARED memory


def test_replay_suppresses_output_and_shares_globals(k):
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
