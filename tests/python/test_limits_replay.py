"""RLIMIT_NPROC and pid exhaustion give EAGAIN; the pid allocator wraps at pid_max without
reusing a live pid; fork's replay is exact and a divergence is reported clearly."""
import errno
import os
import resource

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run

shared = []  # module globals are shared by every process, like MAP_SHARED memory


def test_rlimit_nproc_eagain_for_non_root(k):
    async def main(sys):
        await sys.setrlimit(resource.RLIMIT_NPROC, (3, 3))
        await sys.setuid(1000)
        await sys.print("uid", await sys.getuid(), await sys.geteuid())
        kids = []
        try:
            while True:
                pid = await sys.fork()
                if pid == 0:
                    await sys.nanosleep(0.01)
                    await sys.exit(0)
                kids.append(pid)
        except BlockingIOError as e:
            await sys.print("EAGAIN after", len(kids), e.errno == errno.EAGAIN)
        for p in kids:
            await sys.waitpid(p, 0)
        try:
            await sys.setuid(0)
        except PermissionError:
            await sys.print("cannot become root again")
    spawn_run(k, main)
    # the limit counts the user's processes: this one plus two children
    assert lines(k) == ["uid 1000 1000", "EAGAIN after 2 True", "cannot become root again"]


def test_root_ignores_rlimit_nproc(k):
    async def main(sys):
        await sys.setrlimit(resource.RLIMIT_NPROC, (1, 1))
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        await sys.print("ok")
    spawn_run(k, main)
    assert lines(k) == ["ok"]


def test_rlimit_errors(k):
    async def main(sys):
        await sys.print(await sys.getrlimit(resource.RLIMIT_NOFILE))
        for res, lim in ((99, (1, 1)), (resource.RLIMIT_NOFILE, (10, 5))):
            try:
                await sys.setrlimit(res, lim)
            except OSError as e:
                await sys.print(errno.errorcode[e.errno])
        await sys.setrlimit(resource.RLIMIT_CORE, (0, 10))
        await sys.setuid(1000)
        try:
            await sys.setrlimit(resource.RLIMIT_CORE, (0, 20))
        except PermissionError:
            await sys.print("EPERM raising hard limit")
        await sys.print(await sys.prlimit(0, resource.RLIMIT_CORE))
        try:
            await sys.prlimit(1, resource.RLIMIT_CORE)
        except PermissionError:
            await sys.print("EPERM on init")
    spawn_run(k, main)
    assert lines(k) == ["(1024, 4096)", "EINVAL", "EINVAL", "EPERM raising hard limit", "(0, 10)", "EPERM on init"]


def test_pid_exhaustion_is_eagain():
    k = gk.Kernel(pid_max=16)

    @k.program("/bin/t")
    async def main(sys):
        n = 0
        try:
            while True:
                pid = await sys.fork()
                if pid == 0:
                    await sys.nanosleep(1)
                    await sys.exit(0)
                n += 1
        except BlockingIOError:
            await sys.print("EAGAIN after", n)
        while True:
            try:
                await sys.waitpid(-1, 0)
            except ChildProcessError:
                break
    k.spawn("/bin/t")
    run_checked(k)
    # pids 1..15 exist below pid_max=16; init, kthreadd, ksoftirqd, kworker and the parent hold 5
    assert lines(k) == ["EAGAIN after 10"]


def test_pids_wrap_and_skip_live_ones():
    k = gk.Kernel(pid_max=32)

    @k.program("/bin/t")
    async def main(sys):
        keeper = await sys.fork()
        if keeper == 0:
            await sys.nanosleep(1)
            await sys.exit(0)
        seen = []
        for _ in range(40):
            pid = await sys.fork()
            if pid == 0:
                await sys.exit(0)
            await sys.waitpid(pid, 0)
            seen.append(pid)
        await sys.print(keeper not in seen, max(seen) < 32, min(seen) >= 1, len(seen))
        await sys.waitpid(keeper, 0)
    k.spawn("/bin/t")
    run_checked(k)
    assert lines(k) == ["True True True 40"]


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
