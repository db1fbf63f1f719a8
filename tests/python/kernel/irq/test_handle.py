"""kernel/irq/handle.c, chip.c and manage.c (cpp/kernel/irq/handle.cpp): a device line's top half
runs in hard-interrupt context with the interrupted task and its registers visible; shared lines,
request_irq's errors and free_irq, spurious-interrupt accounting, threaded handlers, interrupts
held back while local_irq_save() is in force, and the irq_desc views."""
import errno

import pytest

import glasskernel as gk
from glasskernel import interrupts as I
from gktest import run_checked

MS = 1_000_000


def test_top_half_interrupts_a_user_task_and_schedules_a_tasklet(k):
    """common_interrupt -> handle_edge_irq -> handle_irq_event: the handler sees the interrupted task; tasklets run on irq_exit."""
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
    """An interrupt on an idle CPU interrupts its idle task (swapper/0), at the time it was raised."""
    seen = []
    k.irq.request_irq(3, lambda ctx: seen.append(ctx.task.comm) or True)
    start = k.now
    k.irq.raise_irq(3, at_ns=start + 50_000_000)
    k.run()
    assert seen == ["swapper/0"] and k.clock(0) >= start + 50_000_000


def test_shared_lines_and_request_irq_errors(k):
    """request_irq(): EBUSY unless IRQF_SHARED, EINVAL for no such line or no dev_id; an IRQ_NONE alone counts as spurious."""
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


def test_threaded_irq_runs_its_thread_function_in_process_context(k):
    """request_threaded_irq(): IRQ_WAKE_THREAD from the top half wakes irq/N-name, which runs thread_fn in process context."""
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


def test_irq_descs():
    """irq_desc: a requested line shows its action, its chip and a per-CPU count of interrupts (kstat_irqs)."""
    k = gk.Kernel()
    k.irq.request_irq(6, lambda ctx: True, "dev")
    k.irq.raise_irq(6)
    run_checked(k)
    descs = {d.irq: d for d in k.irq.descs}
    assert [a.name for a in descs[6].actions] == ["dev"] and descs[6].kstat_irqs == [1]
    assert descs[6].chip == "IO-APIC-sim" and descs[6].irqs_unhandled == 0


def test_local_irq_disable_defers_an_interrupt_until_enable():
    """local_irq_save() holds a device interrupt back until local_irq_restore(); it then saves a kernel-mode frame."""
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
    """An interrupt taken in user mode saves the user frame (cs 0x33, ss 0x2b, IF set) with the line's vector."""
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
