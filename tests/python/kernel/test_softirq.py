"""kernel/softirq.c (cpp/kernel/softirq.cpp): softirqs run on irq_exit or, raised outside an
interrupt or after __do_softirq's restart limit, in ksoftirqd; preempt_count's SOFTIRQ and HARDIRQ
fields say which context runs; tasklets run once per schedule, on their hi or normal list, and not
while disabled."""
import pytest

import glasskernel as gk
from glasskernel import interrupts as I
from gktest import run_checked


def test_tasklet_runs_once_per_schedule_and_respects_disable(k):
    """tasklet_schedule(): a second schedule while TASKLET_STATE_SCHED is set adds no run; a disabled tasklet waits for enable."""
    runs = []
    t = k.irq.tasklet(lambda ctx: runs.append(1), "once")
    t.schedule()
    t.schedule()  # already TASKLET_STATE_SCHED: no second run
    k.run()
    assert t.runs == 1 and t.state == 0
    t.disable()
    t.schedule()
    k.run(for_ns=10_000_000)
    assert t.runs == 1 and t.state & 1  # still scheduled, not run
    t.enable()
    t.schedule()
    k.irq.raise_softirq(I.TASKLET_SOFTIRQ)
    k.run()
    assert t.runs == 2


def test_tasklet_lists():
    """tasklet_hi_schedule() queues on the per-CPU hi list, tasklet_schedule() on the normal one, in order; both empty after."""
    k = gk.Kernel()
    a = k.irq.tasklet(lambda ctx: None, "alpha")
    b = k.irq.tasklet(lambda ctx: None, "beta")
    h = k.irq.tasklet(lambda ctx: None, "hipri")
    a.schedule()
    b.schedule()
    h.hi_schedule()
    assert k.irq.tasklet_lists(0) == {"hi": ["hipri"], "normal": ["alpha", "beta"]}
    run_checked(k)
    assert k.irq.tasklet_lists(0) == {"hi": [], "normal": []}
    assert a.runs == b.runs == h.runs == 1


def test_softirq_raised_outside_interrupts_runs_in_ksoftirqd(k):
    """raise_softirq() outside interrupt context wakes ksoftirqd, which runs the softirq (counted in /proc/softirqs)."""
    ran_in = []
    k.irq.open_softirq(I.BLOCK_SOFTIRQ, lambda: ran_in.append(k.current(0).comm))
    k.irq.raise_softirq(I.BLOCK_SOFTIRQ)
    k.run()
    assert ran_in == ["ksoftirqd/0"]
    assert "BLOCK:           1" in k.irq.proc_softirqs()
    names = [e.name for e in k.trace.events]
    assert names.index("raise_softirq") < names.index("softirq_raise") < names.index("softirq_entry")


def test_softirq_storm_is_handed_to_ksoftirqd_and_users_still_run(k):
    """__do_softirq: past MAX_SOFTIRQ_RESTART it stops and wakes ksoftirqd, so user tasks still get the CPU."""
    count = [0]

    def storm(ctx):
        # A tasklet that reschedules itself 200 times: a softirq storm.
        count[0] += 1
        if count[0] < 200:
            ctx.tasklet_schedule(t)

    t = k.irq.tasklet(storm, "storm")
    ran = []

    @k.program("/bin/user")
    async def user(sys):
        await sys.compute(1_000_000)
        ran.append("user")

    k.irq.request_irq(4, lambda ctx: (ctx.tasklet_schedule(t), True)[1])
    k.spawn("/bin/user")
    k.irq.raise_irq(4)
    k.run()
    assert count[0] == 200 and ran == ["user"]
    # __do_softirq gave up after its restart limit and woke ksoftirqd
    assert any(e.name == "run_ksoftirqd" for e in k.trace.events)
    k.check()


def test_cpu_state_inside_softirq_and_hardirq():
    """preempt_count: a softirq runs with SOFTIRQ_OFFSET, interrupts on; a hardirq handler with HARDIRQ_OFFSET, interrupts off."""
    k = gk.Kernel()
    states = {}

    def net_rx():
        states["softirq"] = k.sched.cpu_state(0)

    def top(ctx):
        states["hardirq"] = ctx.state
        ctx.raise_softirq(gk.interrupts.BLOCK_SOFTIRQ)
        return True

    k.irq.open_softirq(gk.interrupts.BLOCK_SOFTIRQ, net_rx)
    k.irq.request_irq(9, top, "nic")
    k.irq.raise_irq(9)
    run_checked(k)
    s, h = states["softirq"], states["hardirq"]
    assert s.in_serving_softirq and s.in_interrupt and not s.in_hardirq and not s.irqs_disabled
    assert s.softirq_count == 1
    assert h.in_hardirq and h.irqs_disabled and not h.in_serving_softirq
    idle = k.sched.cpu_state(0)
    assert idle.preempt_count == 0 and not idle.in_interrupt
    with pytest.raises(ValueError):
        k.sched.cpu_state(1)
