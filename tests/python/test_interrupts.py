"""kernel/irq and kernel/softirq.c (issue 4, interrupt part): a device line's top half runs in
hard-interrupt context with the interrupted task visible, shared lines, errors of request_irq,
spurious accounting, softirqs on irq_exit or in ksoftirqd, the restart limit, and tasklets."""
import errno

import pytest

import glasskernel as gk
from glasskernel import interrupts as I


def test_top_half_interrupts_a_user_task_and_schedules_a_tasklet(k):
    log = []
    t = k.irq.tasklet(lambda ctx: log.append(("bottom", ctx.task.comm)), "bh")

    def top(ctx):
        log.append(("top", ctx.irq, ctx.task.comm))
        ctx.tasklet_schedule(t)
        return True

    @k.program("/bin/busy")
    async def busy(sys):
        await sys.compute(5_000_000)

    k.irq.request_irq(7, top, name="nic")
    k.spawn("/bin/busy")
    k.irq.raise_irq(7, at_ns=k.now + 1_000_000)
    k.run()
    assert log == [("top", 7, "busy"), ("bottom", "busy")]
    assert "  7:           1  IO-APIC-sim  edge   nic" in k.irq.proc_interrupts()
    names = [e.name for e in k.trace.events]
    for fn in ("common_interrupt", "handle_edge_irq", "handle_irq_event", "handle_irq_event_percpu", "irq_handler_entry",
               "invoke_softirq", "__do_softirq", "softirq_entry", "tasklet_entry"):
        assert fn in names, fn
    k.check()


def test_device_interrupt_wakes_an_idle_cpu(k):
    seen = []
    k.irq.request_irq(3, lambda ctx: seen.append(ctx.task.comm) or True)
    start = k.now
    k.irq.raise_irq(3, at_ns=start + 50_000_000)
    k.run()
    assert seen == ["swapper/0"] and k.clock(0) >= start + 50_000_000


def test_shared_lines_and_request_irq_errors(k):
    calls = []
    a, b = object(), object()
    k.irq.request_irq(9, lambda ctx: calls.append("a") or True, name="a", shared=True, dev_id=a)
    k.irq.request_irq(9, lambda ctx: calls.append("b") or False, name="b", shared=True, dev_id=b)
    with pytest.raises(OSError) as e:
        k.irq.request_irq(9, lambda ctx: True, name="c")  # not shared: the line is taken
    assert e.value.errno == errno.EBUSY
    with pytest.raises(OSError) as e:
        k.irq.request_irq(99, lambda ctx: True)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        k.irq.request_irq(10, lambda ctx: True, shared=True)  # shared needs a dev_id
    assert e.value.errno == errno.EINVAL
    k.irq.raise_irq(9)
    k.run()
    assert calls == ["a", "b"]
    k.irq.free_irq(9, a)
    with pytest.raises(OSError):
        k.irq.free_irq(9, a)
    k.irq.raise_irq(9)
    k.run()
    assert calls == ["a", "b", "b"]
    # b said IRQ_NONE the second time with nobody else there: a spurious interrupt
    desc = [d for d in k.irq.descs if d.irq == 9][0]
    assert desc.irqs_unhandled == 1


def test_tasklet_runs_once_per_schedule_and_respects_disable(k):
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


def test_softirq_raised_outside_interrupts_runs_in_ksoftirqd(k):
    ran_in = []
    k.irq.open_softirq(I.BLOCK_SOFTIRQ, lambda: ran_in.append(k.current(0).comm))
    k.irq.raise_softirq(I.BLOCK_SOFTIRQ)
    k.run()
    assert ran_in == ["ksoftirqd/0"]
    assert "BLOCK:           1" in k.irq.proc_softirqs()
    names = [e.name for e in k.trace.events]
    assert names.index("raise_softirq") < names.index("softirq_raise") < names.index("softirq_entry")


def test_softirq_storm_is_handed_to_ksoftirqd_and_users_still_run(k):
    count = [0]

    def storm(ctx):
        # A tasklet that reschedules itself 200 times: a softirq storm.
        count[0] += 1
        if count[0] < 200:
            ctx.tasklet_schedule(t)

    t = k.irq.tasklet(storm, "storm")

    @k.program("/bin/user")
    async def user(sys):
        await sys.compute(1_000_000)
        await sys.print("user ran")

    k.irq.request_irq(4, lambda ctx: (ctx.tasklet_schedule(t), True)[1])
    k.spawn("/bin/user")
    k.irq.raise_irq(4)
    k.run()
    assert count[0] == 200 and "user ran" in k.console
    # __do_softirq gave up after its restart limit and woke ksoftirqd
    assert any(e.name == "run_ksoftirqd" for e in k.trace.events)
    k.check()


def test_workqueue_runs_work_in_a_kworker_and_delayed_work_later(k):
    assert [t.comm for t in k.tasks if t.comm.startswith("kworker")] == ["kworker/0:0"]
    ran = []
    w = k.workqueue.work(lambda ctx: ran.append((ctx.task.comm, k.now)), "deferred")
    k.irq.request_irq(6, lambda ctx: (ctx.queue_work(w), True)[1], name="dev")
    k.irq.raise_irq(6)
    k.run()
    assert ran and ran[0][0] == "kworker/0:0" and w.runs == 1 and not w.pending
    start = k.now
    assert w.queue(delay_ns=5_000_000) is True
    assert w.queue(delay_ns=5_000_000) is False  # the timer is already armed
    k.run()
    assert w.runs == 2 and ran[1][1] >= start + 5_000_000
    names = [e.name for e in k.trace.events]
    assert "workqueue_execute_start" in names and "workqueue_queue_work" in names
    k.check()


def test_timer_wheel_fires_at_expiry_and_coarser_far_away(k):
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


def test_threaded_irq_runs_its_thread_function_in_process_context(k):
    seen = []
    k.irq.request_irq(11, lambda ctx: (seen.append(("top", ctx.task.comm)), I.IRQ_WAKE_THREAD)[1], name="disk",
                  thread_fn=lambda ctx: seen.append(("thread", ctx.task.comm)))
    thread = [t for t in k.tasks if t.comm == "irq/11-disk"]
    k.run()  # the new thread runs once and goes to sleep waiting for its interrupt
    assert thread and thread[0].is_kthread and thread[0].state == "S"
    k.irq.raise_irq(11)
    k.run()
    assert seen == [("top", "swapper/0"), ("thread", "irq/11-disk")]
    k.check()
