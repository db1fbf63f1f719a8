"""kernel/time/timer.c (cpp/kernel/time/timer.cpp): the timer wheel. A timer fires in the TIMER
softirq at its expiry jiffy; one far away is hashed into a coarser level and may fire late, never
early; del_timer() removes a pending one."""


def test_timer_wheel_fires_at_expiry_and_coarser_far_away(k):
    """mod_timer(): a near timer fires at its jiffy, one 1000 jiffies away up to 64 (its level's granule) late; del_timer() cancels."""
    fired = []
    near = k.timers.timer(lambda ctx: fired.append(("near", k.jiffies, ctx.task.comm)), "near")
    far = k.timers.timer(lambda ctx: fired.append(("far", k.jiffies, ctx.task.comm)), "far")
    gone = k.timers.timer(lambda ctx: fired.append(("gone", k.jiffies, "")), "gone")
    j0 = k.jiffies
    near.mod(j0 + 10)
    far.mod(j0 + 1000)  # beyond level 0's 63 jiffies: hashed into a coarser level
    gone.mod(j0 + 20)
    assert near.bucket < 64 <= far.bucket
    assert gone.delete() == 1 and not gone.pending
    k.run()
    names = [f[0] for f in fired]
    assert names == ["near", "far"]
    assert near.fired_at == j0 + 10
    # a level-2 timer (granularity 64 jiffies) is rounded up, never early
    assert j0 + 1000 <= far.fired_at <= j0 + 1000 + 64
    assert "timer_expire_entry" in [e.name for e in k.trace.events]
    assert "TIMER:" in k.irq.proc_softirqs()
    k.check()
