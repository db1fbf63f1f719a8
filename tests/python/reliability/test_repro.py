"""Regression tests from the reproducers of faults found by trying glasskernel as a hostile user
would (callbacks that change kernel state, re-entrant runs, absurd values, long runs): each must
now give a clear error or Linux's behaviour, and leave the interpreter and the kernel alive."""
import os

import pytest

import glasskernel as gk


def test_setpriority_on_a_realtime_task_only_stores_its_nice_value():
    """set_user_nice(): a SCHED_FIFO task keeps its priority and its place on the RT list; the nice
    value is stored (static_prio) and counts again once the task is SCHED_OTHER."""
    k = gk.Kernel(cpus=1)
    seen = {}

    @k.program("/bin/rt")
    async def rt(sys):
        me = await sys.getpid()
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 1)
        await sys.setpriority(os.PRIO_PROCESS, 0, 5)
        t = k.task(me)
        seen["rt"] = (t.prio, t.static_prio, t.se.weight)
        await sys.sched_yield()
        await sys.sched_setscheduler(0, os.SCHED_OTHER, 0)
        seen["other"] = (t.prio, t.static_prio, t.se.weight, await sys.getpriority(os.PRIO_PROCESS, 0))

    k.spawn("/bin/rt")
    stop = k.run(until=lambda kk: kk.check() or False)
    assert stop.reason == "finished"
    assert seen["rt"][:2] == (98, 125)          # prio from rt_priority 1; nice 5 stored
    assert seen["other"] == (125, 125, 335, 5)  # back to CFS: nice 5's weight
