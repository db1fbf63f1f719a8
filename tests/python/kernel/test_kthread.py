"""kernel/kthread.c (cpp/kernel/kthread.cpp): kthread_stop() waits for a thread that polls
kthread_should_stop() and returns its exit code; kthread_bind() pins a thread to a CPU so that
sched_setaffinity(2) refuses to move it."""
import errno

import pytest

import glasskernel as gk
from gktest import run_checked

MS = 1_000_000


def test_kthread_stop_and_should_stop():
    """kthread_stop(): the thread sees kthread_should_stop(), returns, and its return value is kthread_stop's."""
    k = gk.Kernel()
    loops = []

    async def worker(kt):
        while not await kt.should_stop():
            loops.append(kt.now)
            await kt.msleep(4)
        return 3

    h = k.kthread_run(worker, "worker")
    k.run(for_ns=20 * MS)
    assert not h.exited and len(loops) >= 3
    # msleep(4) at HZ=250 sleeps at least 4 ms: one jiffy added, rounded up.
    gaps = [b - a for a, b in zip(loops, loops[1:])]
    assert all(4 * MS <= g <= 12 * MS for g in gaps)
    assert k.kthread_stop(h) == 3
    assert h.exited and h.task.state in ("Z", "X")

    async def stubborn(kt):
        while True:
            await kt.msleep(10)

    h2 = k.kthread_run(stubborn, "stubborn")
    with pytest.raises(TimeoutError, match="should_stop"):
        k.kthread_stop(h2, for_ns=50 * MS)
    with pytest.raises(TypeError):
        k.kthread_stop(object())


def test_kthread_bind_pins_the_thread_and_refuses_setaffinity():
    """kthread_bind(): the thread runs only on its CPU (PF_NO_SETAFFINITY), and sched_setaffinity(2) on it is EINVAL."""
    k = gk.Kernel(cpus=2)
    cpus = []

    async def pinned(kt):
        for _ in range(5):
            cpus.append(kt.cpu)
            await kt.msleep(1)

    h = k.kthread_run(pinned, "pinned", cpu=1)
    res = {}

    @k.program("/bin/aff")
    async def aff(sys, argv0, pid):
        try:
            await sys.sched_setaffinity(int(pid), [0])
        except OSError as e:
            res["errno"] = e.errno

    k.spawn("/bin/aff", ["/bin/aff", str(h.pid)])
    run_checked(k)
    assert cpus == [1] * 5
    assert res["errno"] == errno.EINVAL
