"""Preemption models (none / voluntary / full), kernel preemption when preempt_count drops to zero,
Python kernel threads, interrupts deferred by local_irq_disable, pt_regs, per-CPU variables."""
import errno

import pytest

import glasskernel as gk
from gktest import run_checked

MS = 1_000_000


def _latency_scenario(model, hog_body=None, seed=0):
    """An interactive task sleeps 5 ms ten times while a kernel thread busy-waits 20 x 2 ms in
    kernel mode; returns each wake-up's latency in microseconds."""
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
    k, h, lat = _latency_scenario("none")
    # The first wake-up waits for the whole 40 ms loop: nothing in it is a preemption point.
    assert lat[0] > 30_000
    assert max(lat[1:]) < 10
    assert h.task.nivcsw == 0


def test_preempt_voluntary_switches_at_might_sleep():
    k, h, lat = _latency_scenario("voluntary")
    # Woken in the middle of a 2 ms mdelay, the reader waits for the next might_sleep().
    assert max(lat) <= 2_000 and max(lat) > 500
    assert h.task.nivcsw >= 5


def test_preempt_full_switches_as_the_wakeup_interrupt_returns():
    k, h, lat = _latency_scenario("full")
    assert max(lat) < 10
    assert h.task.nivcsw >= 5
    names = {e.name for e in k.trace.events}
    assert "preempt_schedule_irq" in names


def test_preemption_scenario_is_deterministic():
    a = _latency_scenario("voluntary", seed=3)
    b = _latency_scenario("voluntary", seed=3)
    assert a[2] == b[2]
    assert [(e.ts, e.name) for e in a[0].trace.events] == [(e.ts, e.name) for e in b[0].trace.events]


def test_cond_resched_is_a_preemption_point_even_under_none():
    async def polite(kt):
        for _ in range(20):
            await kt.mdelay(1)
            await kt.cond_resched()

    k, h, lat = _latency_scenario("none", polite)
    assert max(lat) <= 1_000


def test_preempt_enable_switches_when_the_count_drops_to_zero_under_full():
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


def test_local_irq_disable_defers_an_interrupt_until_enable():
    k = gk.Kernel()
    seen = []

    def top(ctx):
        seen.append((k.clock(0), ctx.regs, ctx.state))
        return True

    k.irq.request_irq(5, top, "dev")
    marks = {}

    async def body(kt):
        flags = await kt.local_irq_save()
        marks["off"] = (kt.now, kt.irqs_disabled)
        await kt.mdelay(3)
        marks["on"] = kt.now
        await kt.local_irq_restore(flags)

    k.kthread_run(body, "irqoff")
    k.irq.raise_irq(5, at_ns=k.now + MS)
    run_checked(k)
    when, regs, state = seen[0]
    assert marks["off"][1] is True
    assert when >= marks["on"] > marks["off"][0] + 3 * MS - 1
    # The interrupt hit kernel code: a kernel frame, with ~vector in orig_ax.
    assert regs.user_mode is False and regs.cs == 0x10
    assert regs.vector == 0x35 and regs.orig_ax == (~0x35) & (2**64 - 1)
    assert state.in_hardirq and state.in_interrupt and state.hardirq_count == 1
    assert state.irqs_disabled
    assert k.irq.regs(0) is None  # no interrupt in progress any more


def test_interrupt_from_user_mode_saves_user_registers():
    k = gk.Kernel()
    seen = []
    k.irq.request_irq(3, lambda ctx: seen.append((ctx.regs, ctx.task.comm)) or True, "dev")

    @k.program("/bin/spin")
    async def spin(sys):
        await sys.compute(5 * MS)

    k.spawn("/bin/spin")
    k.run(for_ns=100_000)
    k.irq.raise_irq(3, at_ns=k.now + MS)
    run_checked(k)
    regs, comm = seen[0]
    assert comm == "spin"
    assert regs.user_mode is True and regs.cs == 0x33 and regs.ss == 0x2b
    assert regs.interrupts_enabled and regs.vector == 0x33


def test_timer_interrupt_vector_and_syscall_registers():
    k = gk.Kernel()
    got = {}

    @k.program("/bin/k")
    async def prog(sys):
        me = await sys.getpid()
        await sys.kill(me, 0)

    k.break_at("__x64_sys_kill")
    t = k.spawn("/bin/k")
    stop = k.run()
    assert stop and stop.function == "__x64_sys_kill"
    regs = t.pt_regs
    assert regs.orig_ax == 62 and regs.syscall == 62
    assert regs.di == t.pid and regs.si == 0
    assert regs.ax == (-errno.ENOSYS) & (2**64 - 1)   # until the call returns
    assert regs.user_mode
    k.run()
    assert t.pt_regs.ax == 0


def test_scheduling_while_atomic_is_reported_and_repaired():
    k = gk.Kernel()

    async def bad(kt):
        await kt.preempt_disable()
        await kt.might_sleep()
        await kt.msleep(2)       # sleeping with preemption off
        return kt.preempt_count

    h = k.kthread_run(bad, "bad")
    run_checked(k)
    log = k.dmesg()
    assert "BUG: sleeping function called from invalid context: in_atomic(): 1, irqs_disabled(): 0" in log
    assert "BUG: scheduling while atomic: bad/" in log
    assert h.exit_code == 0   # the count was reset when it slept


def test_a_failing_thread_body_oopses_and_the_kernel_survives():
    k = gk.Kernel()

    async def broken(kt):
        await kt.mdelay(1)
        raise RuntimeError("bad pointer")

    h = k.kthread_run(broken, "broken")
    run_checked(k)
    assert h.exited and h.exit_code == 11
    assert "RuntimeError: bad pointer" in h.oops
    assert f"Oops: kernel thread broken[{h.pid}] failed:" in k.dmesg()

    async def foreign(kt):
        import asyncio
        await asyncio.sleep(0)

    h2 = k.kthread_run(foreign, "foreign")
    run_checked(k)
    assert h2.exited and "may only await its KThread's primitives" in h2.oops


def test_kthread_stop_and_should_stop():
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


def test_kthread_bad_arguments():
    k = gk.Kernel(cpus=2)

    def not_async(kt):
        pass

    with pytest.raises(TypeError, match="async def"):
        k.kthread_run(not_async)

    async def ok(kt):
        pass

    with pytest.raises(ValueError, match="no cpu 2"):
        k.kthread_run(ok, "x", cpu=2)
    with pytest.raises(ValueError):
        k.kthread_run(ok, "")
    kt = gk.kthread.KThread(k, "t")
    with pytest.raises(ValueError):
        kt.mdelay(-1)
    with pytest.raises(TypeError):
        kt.mdelay(1.5)
    with pytest.raises(ValueError):
        kt.raise_softirq(10)
    k.check()


def test_kthread_bind_pins_the_thread_and_refuses_setaffinity():
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


def test_per_cpu_variables_are_visible():
    k = gk.Kernel(cpus=2)
    names = k.sched.per_cpu_names()
    for n in ("runqueues", "softirq_pending", "ksoftirqd", "tasklet_vec", "timer_bases", "__irq_regs"):
        assert n in names
    ks = k.sched.per_cpu("ksoftirqd")
    assert len(ks) == 2 and ks[0].startswith("ksoftirqd/0/") and ks[1].startswith("ksoftirqd/1/")
    assert k.sched.per_cpu("softirq_pending") == [0, 0]
    assert k.sched.per_cpu("__irq_regs") == ["NULL", "NULL"]
    with pytest.raises(KeyError, match="per_cpu_names"):
        k.sched.per_cpu("nope")
    with pytest.raises(TypeError):
        k.sched.per_cpu(3)


def test_cpu_state_inside_softirq_and_hardirq():
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


def test_tasklet_lists_irq_descs_and_rt_priority_array():
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

    k.irq.request_irq(6, lambda ctx: True, "dev")
    k.irq.raise_irq(6)
    run_checked(k)
    descs = {d.irq: d for d in k.irq.descs}
    assert [a.name for a in descs[6].actions] == ["dev"] and descs[6].kstat_irqs == [1]
    assert descs[6].chip == "IO-APIC-sim" and descs[6].irqs_unhandled == 0

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
