"""kernel/pid.c (cpp/kernel/pid.cpp): alloc_pid hands out each live pid once, wraps at pid_max
skipping pids still in use, fails with EAGAIN when none is free, and a process group's pid lives as
long as a member uses it."""
import glasskernel as gk
from gktest import run_checked, spawn_run


def test_many_forks_reuse_nothing_live(k):
    """alloc_pid: twenty children alive at once get twenty different pids."""
    got = {}

    async def main(sys):
        pids = []
        for _ in range(20):
            pid = await sys.fork()
            if pid == 0:
                await sys.exit(0)
            pids.append(pid)
        for p in pids:
            await sys.waitpid(p, 0)
        got["distinct pids"] = len(set(pids))
    spawn_run(k, main)
    assert got == {"distinct pids": 20}


def test_pid_exhaustion_is_eagain():
    """fork(2): EAGAIN when alloc_pid finds no free pid below pid_max."""
    k = gk.Kernel(pid_max=16)
    got = {}

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
            got["eagain after"] = n
        while True:
            try:
                await sys.waitpid(-1, 0)
            except ChildProcessError:
                break
    k.spawn("/bin/t")
    run_checked(k)
    # pids 1..15 exist below pid_max=16; init, kthreadd, ksoftirqd, kworker and the parent hold 5
    assert got == {"eagain after": 10}


def test_pids_wrap_and_skip_live_ones():
    """alloc_pid: pids wrap around at pid_max and skip the ones still in use."""
    k = gk.Kernel(pid_max=32)
    got = {}

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
        got["pids"] = (keeper not in seen, max(seen) < 32, min(seen) >= 1, len(seen))
        await sys.waitpid(keeper, 0)
    k.spawn("/bin/t")
    run_checked(k)
    assert got == {"pids": (True, True, True, 40)}


def test_pgid_outlives_its_leader(k):
    """A process group keeps its pgid after its leader exits, while a member remains (struct pid's PIDTYPE_PGID)."""
    got = {}

    async def main(sys):
        a = await sys.fork()
        if a == 0:
            await sys.setpgid(0, 0)
            if await sys.fork() == 0:
                await sys.nanosleep(0.005)
                got["member's pgid"] = await sys.getpgrp()
                await sys.exit(0)
            await sys.exit(0)
        await sys.waitpid(a, 0)  # the leader is gone, its group lives on
        await sys.nanosleep(0.01)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    run_checked(k)
    assert got == {"member's pgid": t.pid + 1}
