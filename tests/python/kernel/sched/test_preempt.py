"""kernel/sched/preempt.cpp (the preemption parts of kernel/sched/core.c and kernel/entry/common.c):
the three PREEMPT_DYNAMIC models (none / voluntary / full) decide which preemption points are live:
might_sleep(), cond_resched(), preempt_enable() when the count drops to zero, and the return from an
interrupt to kernel code."""
import pytest

import glasskernel as gk
from gktest import run_checked

MS = 1_000_000


def _latency_scenario(model, hog_body=None, seed=0):
    """An interactive task sleeps 5 ms ten times while a kernel thread busy-waits 20 x 2 ms in
    kernel mode; returns (kernel, thread handle, each wake-up's latency in microseconds)."""
    k = gk.Kernel(preempt=model, seed=seed)
    lat = []

    @k.program("/bin/inter")
    async def inter(sys):
        for _ in range(10):
            t0 = await sys.clock_gettime()
            await sys.nanosleep(0.005)
            t1 = await sys.clock_gettime()
            lat.append(round((t1 - t0 - 0.005) * 1e6))

    async def hog(kt):
        for _ in range(20):
            await kt.mdelay(2)
            await kt.might_sleep()

    k.spawn("/bin/inter")
    k.run(for_ns=100_000)
    h = k.kthread_run(hog_body or hog, "hog")
    run_checked(k)
    assert h.exited and h.exit_code == 0
    return k, h, lat


def test_preempt_none_lets_a_kernel_loop_run_to_its_end():
    """preempt=none: kernel code is never preempted; a woken task waits for the whole kernel loop."""
    k, h, lat = _latency_scenario("none")
    # The first wake-up waits for the whole 40 ms loop: nothing in it is a preemption point.
    assert lat[0] > 30_000
    assert max(lat[1:]) < 10
    assert h.task.nivcsw == 0


def test_preempt_voluntary_switches_at_might_sleep():
    """preempt=voluntary: might_sleep() is a preemption point, so a woken task waits at most to the next one."""
    k, h, lat = _latency_scenario("voluntary")
    # Woken in the middle of a 2 ms mdelay, the reader waits for the next might_sleep().
    assert max(lat) <= 2_000 and max(lat) > 500
    assert h.task.nivcsw >= 5


def test_preempt_full_switches_as_the_wakeup_interrupt_returns():
    """preempt=full: the wake-up interrupt's return to kernel code preempts at once (preempt_schedule_irq)."""
    k, h, lat = _latency_scenario("full")
    assert max(lat) < 10
    assert h.task.nivcsw >= 5
    names = {e.name for e in k.trace.events}
    assert "preempt_schedule_irq" in names


def test_preemption_scenario_is_deterministic():
    """The same preemption scenario and seed give the same latencies and the same trace."""
    a = _latency_scenario("voluntary", seed=3)
    b = _latency_scenario("voluntary", seed=3)
    assert a[2] == b[2]
    assert [(e.ts, e.name) for e in a[0].trace.events] == [(e.ts, e.name) for e in b[0].trace.events]


def test_cond_resched_is_a_preemption_point_even_under_none():
    """__cond_resched(): cond_resched() switches to a woken task in every model, preempt=none included."""
    async def polite(kt):
        for _ in range(20):
            await kt.mdelay(1)
            await kt.cond_resched()

    k, h, lat = _latency_scenario("none", polite)
    assert max(lat) <= 1_000


def test_preempt_enable_switches_when_the_count_drops_to_zero_under_full():
    """preempt=full: a wake-up in preempt_disable() waits; preempt_enable() dropping the count to 0 calls preempt_schedule()."""
    k = gk.Kernel(preempt="full")
    woke = []

    @k.program("/bin/sleeper")
    async def sleeper(sys):
        await sys.nanosleep(0.001)
        woke.append(await sys.clock_gettime())

    async def critical(kt):
        await kt.preempt_disable()
        await kt.mdelay(5)       # the sleeper's timer fires at 1 ms, in here
        await kt.preempt_enable()
        await kt.mdelay(1)

    k.spawn("/bin/sleeper")
    k.run(for_ns=10_000)
    start = k.now
    h = k.kthread_run(critical, "critical")
    run_checked(k)
    # Not at 1 ms (preemption is off) but as soon as preempt_enable() runs, 5 ms later.
    assert 5 * MS <= woke[0] * 1e9 - start < 5.1 * MS
    assert h.task.nivcsw == 1
    assert "preempt_schedule" in {e.name for e in k.trace.events}


def test_preempt_model_switches_live_and_rejects_bad_names():
    """PREEMPT_DYNAMIC: the model can change at run time (logged as "Dynamic Preempt: full"); unknown names are refused."""
    k = gk.Kernel()
    assert k.sched.preempt_model == "voluntary"
    k.sched.preempt_model = "full"
    assert k.sched.preempt_model == "full"
    assert "Dynamic Preempt: full" in k.dmesg()
    with pytest.raises(ValueError, match="none', 'voluntary' or 'full"):
        k.sched.preempt_model = "lazy"
    with pytest.raises(ValueError):
        gk.Kernel(preempt="rt")
    with pytest.raises(TypeError):
        gk.Kernel(preempt=2)
    assert k.sched.preempt_model == "full"
