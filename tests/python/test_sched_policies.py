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
