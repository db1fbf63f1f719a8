"""kernel/sched/rt.c and the policy/affinity system calls (issue 4, scheduler part): SCHED_FIFO
runs before SCHED_NORMAL and starves it, SCHED_RR rotates every 100 ms, CFS shares the CPU by
weight, and affinity pins tasks; with Linux's errno and permission rules."""
import errno
import os

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def code(e):
    return errno.errorcode[e.errno]


def test_cfs_shares_by_weight_nice0_vs_nice5():
    k = gk.Kernel(trace=False)

    @k.program("/bin/hog")
    async def hog(sys, argv0, nice):
        await sys.nice(int(nice))
        while True:
            await sys.compute(10_000_000)
    a = k.spawn("/bin/hog", ["/bin/hog", "0"])
    b = k.spawn("/bin/hog", ["/bin/hog", "5"])
    k.run(for_ns=5_000_000_000)
    ratio = a.se.sum_exec_runtime / b.se.sum_exec_runtime
    assert abs(ratio - 1024 / 335) / (1024 / 335) < 0.03
    k.check()


def test_fifo_starves_normal_tasks(k):
    async def main(sys):
        normal = await sys.fork()
        if normal == 0:
            await sys.print("normal ran")
            return 0
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
        await sys.print("rt policy", await sys.sched_getscheduler(0) == os.SCHED_FIFO, await sys.sched_getparam(0))
        await sys.compute(50_000_000)  # 50 ms without yielding: the normal child must wait
        await sys.print("rt done")
        await sys.waitpid(normal, 0)
    spawn_run(k, main)
    assert lines(k) == ["rt policy True 10", "rt done", "normal ran"]


def test_higher_rt_priority_preempts_at_wakeup(k):
    async def main(sys):
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
        pid = await sys.fork()  # inherits FIFO 10
        if pid == 0:
            await sys.sched_setscheduler(0, os.SCHED_FIFO, 50)
            await sys.nanosleep(0.001)
            await sys.print("high prio woke and ran first")
            return 0
        await sys.nanosleep(0.0001)  # let the child raise itself and sleep
        await sys.compute(10_000_000)
        await sys.print("low prio finished")
        await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert lines(k) == ["high prio woke and ran first", "low prio finished"]


def test_rr_rotates_every_100ms(k):
    async def main(sys):
        await sys.sched_setscheduler(0, os.SCHED_RR, 5)
        await sys.print("interval", await sys.sched_rr_get_interval(0))
        kids = []
        for name in "ab":
            pid = await sys.fork()
            if pid == 0:
                for i in range(3):
                    await sys.compute(100_000_000)
                    await sys.print(name, i, round(await sys.clock_gettime(), 2))
                return 0
            kids.append(pid)
        for p in kids:
            await sys.waitpid(p, 0)
    spawn_run(k, main)
    out = lines(k)
    assert out[0] == "interval 0.1"
    order = [l.split()[0] for l in out[1:]]
    assert order == ["a", "b", "a", "b", "a", "b"]


def test_sched_setscheduler_errors(k):
    async def main(sys):
        for args in ((0, 9, 0), (0, os.SCHED_FIFO, 0), (0, os.SCHED_FIFO, 100), (0, os.SCHED_OTHER, 5), (-1, os.SCHED_FIFO, 1),
                     (99999, os.SCHED_FIFO, 1)):
            try:
                await sys.sched_setscheduler(*args)
            except OSError as e:
                await sys.print(code(e))
        await sys.print(await sys.sched_get_priority_max(os.SCHED_RR), await sys.sched_get_priority_min(os.SCHED_FIFO),
                        await sys.sched_get_priority_max(os.SCHED_OTHER))
        await sys.setuid(1000)
        try:
            await sys.sched_setscheduler(0, os.SCHED_FIFO, 1)
        except PermissionError:
            await sys.print("EPERM without RLIMIT_RTPRIO")
        try:
            await sys.sched_setscheduler(1, os.SCHED_OTHER, 0)
        except PermissionError:
            await sys.print("EPERM on another user's task")
    spawn_run(k, main)
    assert lines(k) == ["EINVAL", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "ESRCH", "99 1 0",
                        "EPERM without RLIMIT_RTPRIO", "EPERM on another user's task"]


def test_affinity_pins_and_moves_a_running_task():
    k = gk.Kernel(cpus=2)

    @k.program("/bin/pin")
    async def pin(sys):
        await sys.print("mask", sorted(await sys.sched_getaffinity(0)))
        await sys.sched_setaffinity(0, {1})
        await sys.compute(1_000_000)
        await sys.print("now", sorted(await sys.sched_getaffinity(0)))
        try:
            await sys.sched_setaffinity(0, {5})
        except OSError as e:
            await sys.print(code(e))
    t = k.spawn("/bin/pin")
    seen = set()
    k.run(until=lambda k: (seen.add(t.cpu) if t.state == "R" else None, False)[1])
    assert lines(k) == ["mask [0, 1]", "now [1]", "EINVAL"]
    assert t.cpu == 1 and 1 in seen
    k.check()


def test_idle_cpu_pulls_waiting_work():
    k = gk.Kernel(cpus=2)

    @k.program("/bin/p")
    async def p(sys):
        await sys.sched_setaffinity(0, {0})  # all forked on cpu 0 ...
        kids = []
        for _ in range(3):
            pid = await sys.fork()
            if pid == 0:
                await sys.sched_setaffinity(0, {0, 1})  # ... then free to move
                await sys.compute(20_000_000)
                return 0
            kids.append(pid)
        for c in kids:
            await sys.waitpid(c, 0)
    t = k.spawn("/bin/p")
    k.run()
    migrations = [e for e in k.trace.events if e.name == "sched_migrate_task"]
    assert migrations and any("dest_cpu=1" in e.args for e in migrations)
    assert k.sched.runqueue(1).nr_switches > 0
    k.check()


def test_timeline_gantt_and_dumps(tmp_path):
    k = gk.Kernel(cpus=2)

    @k.program("/bin/two")
    async def two(sys):
        pid = await sys.fork()
        await sys.compute(8_000_000)
        if pid:
            await sys.waitpid(pid, 0)
    t = k.spawn("/bin/two")
    k.run()
    slices = k.sched.timeline()
    assert {s[0] for s in slices} == {0, 1}
    assert all(end >= start for _, _, _, start, end in slices)
    busy = sum(end - start for cpu, pid, _, start, end in slices if pid in (t.pid, t.pid + 1))
    assert busy >= 16_000_000
    png = tmp_path / "gantt.png"
    k.sched.gantt(str(png))
    assert png.stat().st_size > 1000
    assert "cfs_rq[0]" in k.sched.sched_debug()
    assert "nr_voluntary_switches" in k.sched.proc_sched(1)
