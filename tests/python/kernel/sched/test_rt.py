"""kernel/sched/rt.c (cpp/kernel/sched/rt.cpp): SCHED_FIFO runs before SCHED_NORMAL and starves it, a
higher real-time priority preempts at wake-up, SCHED_RR rotates every 100 ms, and the run queue keeps
one FIFO list per priority with a bitmap of the non-empty ones."""
import os

import glasskernel as gk
from gktest import run_checked, spawn_run

MS = 1_000_000


def test_fifo_starves_normal_tasks(k):
    """SCHED_FIFO: a running real-time task keeps the CPU from SCHED_NORMAL tasks until it is done."""
    order = []

    async def main(sys):
        normal = await sys.fork()
        if normal == 0:
            order.append("normal ran")
            return 0
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
        order.append(("rt policy", await sys.sched_getscheduler(0) == os.SCHED_FIFO, await sys.sched_getparam(0)))
        await sys.compute(50_000_000)  # 50 ms without yielding: the normal child must wait
        order.append("rt done")
        await sys.waitpid(normal, 0)
    spawn_run(k, main)
    assert order == [("rt policy", True, 10), "rt done", "normal ran"]


def test_higher_rt_priority_preempts_at_wakeup(k):
    """SCHED_FIFO: a higher-priority task preempts a lower one as soon as it wakes."""
    order = []

    async def main(sys):
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
        pid = await sys.fork()  # inherits FIFO 10
        if pid == 0:
            await sys.sched_setscheduler(0, os.SCHED_FIFO, 50)
            await sys.nanosleep(0.001)
            order.append("high prio woke and ran first")
            return 0
        await sys.nanosleep(0.0001)  # let the child raise itself and sleep
        await sys.compute(10_000_000)
        order.append("low prio finished")
        await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert order == ["high prio woke and ran first", "low prio finished"]


def test_rr_rotates_every_100ms(k):
    """SCHED_RR: sched_rr_get_interval(2) is 100 ms, and equal-priority tasks take turns by that slice."""
    got, order = {}, []

    async def main(sys):
        await sys.sched_setscheduler(0, os.SCHED_RR, 5)
        got["interval"] = await sys.sched_rr_get_interval(0)
        kids = []
        for name in "ab":
            pid = await sys.fork()
            if pid == 0:
                for i in range(3):
                    await sys.compute(100_000_000)
                    order.append((name, i, round(await sys.clock_gettime(), 2)))
                return 0
            kids.append(pid)
        for p in kids:
            await sys.waitpid(p, 0)
    spawn_run(k, main)
    assert got == {"interval": 0.1}
    assert [name for name, _, _ in order] == ["a", "b", "a", "b", "a", "b"]


def test_rt_priority_array():
    """rt_prio_array: one FIFO list per priority (prio = 99 - rt_priority) and a bitmap of the non-empty lists."""
    k = gk.Kernel()

    @k.program("/bin/rt")
    async def rt(sys, argv0, prio):
        await sys.sched_setscheduler(0, 1, int(prio))   # SCHED_FIFO
        await sys.nanosleep(0.001)
        await sys.compute(MS)

    for p in ("10", "10", "20"):
        k.spawn("/bin/rt", ["/bin/rt", p])
    k.run(for_ns=1_300_000)
    rq = k.sched.runqueue(0)
    # rt_priority 20 runs (prio 99 - 20 = 79); the two at 10 wait in FIFO order at prio 89.
    assert rq.curr.comm == "rt" and rq.curr.prio == 79
    assert [t.pid for t in rq.rt.queue[89]] == sorted(t.pid for t in rq.rt.queue[89])
    assert len(rq.rt.queue[89]) == 2 and rq.rt.rt_nr_running == 3
    assert rq.rt.bitmap[1] & (1 << (89 - 64))
    run_checked(k)
