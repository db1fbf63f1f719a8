"""cpp/engine/host_callback.cpp (and run_loop.cpp's refusals): what host code (a lesson's Python
callbacks and programs) may do while the kernel runs it.

Calls Linux allows in any context (mod_timer, del_timer, tasklet_schedule, queue_work) are
carried out in kernel context when the callback returns. Calls that would change a list the
kernel is walking (free_irq, request_irq, nf_unregister_net_hook) or run the kernel again are
refused with a RuntimeError saying what to do instead, and the kernel stays consistent."""
import pytest

import glasskernel as gk
from gktest import two_hosts


def test_a_timer_rearms_itself_from_its_callback(k):
    """mod_timer() from the timer's own callback re-arms it (carried out when the callback returns)."""
    fired = []

    def fn(ctx):
        fired.append(k.jiffies)
        if len(fired) < 3:
            t.mod(k.jiffies + 2)

    t = k.timers.timer(fn, "rearm")
    t.mod(k.jiffies + 1)
    k.run()
    assert t.runs == 3
    assert fired[1] - fired[0] == 2 and fired[2] - fired[1] == 2
    assert not t.pending


def test_a_callback_schedules_a_tasklet_and_queues_work_which_run_after_it(k):
    """tasklet_schedule() and queue_work() from a timer callback run after it: the tasklet in that softirq, the work in a kworker."""
    log = []
    tl = k.irq.tasklet(lambda ctx: log.append(("tasklet", ctx.in_serving_softirq(), ctx.in_interrupt())), "bh")
    w = k.workqueue.work(lambda ctx: log.append(("work", ctx.in_serving_softirq(), ctx.in_interrupt())), "wq")

    def fn(ctx):
        tl.schedule()
        w.queue()
        log.append(("timer", ctx.in_serving_softirq(), tl.state))

    t = k.timers.timer(fn, "t")
    t.mod(k.jiffies + 1)
    k.run()
    # The requests were queued while the timer ran (the tasklet not yet scheduled: state 0) and
    # carried out when it returned: the tasklet in the same softirq pass, the work in a kworker.
    assert log == [("timer", True, 0), ("tasklet", True, True), ("work", False, False)]
    names = [(e.name, e.ctx) for e in k.trace.events]
    i = names.index(("tasklet_schedule", "softirq"))  # in the kernel's context, not the host's
    assert names.index(("timer_expire_entry", "softirq")) < i < names.index(("timer_expire_exit", "softirq"))


def test_free_irq_from_its_own_handler_is_refused_and_the_line_keeps_working(k):
    """free_irq() from the line's own handler is refused (RuntimeError); the line keeps working and is freed after the run."""
    calls = []

    def handler(ctx):
        calls.append(ctx.irq)
        if len(calls) == 1:
            k.irq.free_irq(5, dev_id="dev")
        return True

    k.irq.request_irq(5, handler, name="nic", shared=True, dev_id="dev")
    k.irq.raise_irq(5, at_ns=k.now + 1000)
    with pytest.raises(RuntimeError, match=r"free_irq\(\) cannot be called while the kernel runs"):
        k.run()
    k.check()
    assert "nic" in k.irq.proc_interrupts()
    k.irq.raise_irq(5, at_ns=k.now + 1000)
    k.run()
    assert calls == [5, 5]
    k.irq.free_irq(5, dev_id="dev")  # after the run it is allowed
    assert "nic" not in k.irq.proc_interrupts()


def test_request_irq_and_open_softirq_from_a_callback_are_refused(k):
    """request_irq() and open_softirq() from a callback are refused: they change lists the kernel may be walking."""
    errors = []

    def fn(ctx):
        for call in (lambda: k.irq.request_irq(6, lambda c: True), lambda: k.irq.open_softirq(gk.interrupts.NET_TX_SOFTIRQ, lambda c: None)):
            try:
                call()
            except RuntimeError as e:
                errors.append(str(e).split(" cannot")[0])

    k.timers.timer(fn, "t").mod(k.jiffies + 1)
    k.run()
    assert errors == ["request_irq()", "open_softirq()"]
    assert k.irq.descs == []


def test_a_netfilter_hook_cannot_unregister_itself_during_the_run():
    """nf_unregister_net_hook() from the hook itself is refused during the run, allowed between runs."""
    net, a, b = two_hosts(("a", "b"))
    hooks = {}

    def hook(hooknum, packet, indev, outdev):
        hooks["h"].unregister()

    hooks["h"] = b.net.nf_register_hook(gk.net.NF_INET_LOCAL_IN, hook)

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.sendto(s, b"x", ("10.0.0.2", 9000))

    a.spawn("/bin/c")
    with pytest.raises(RuntimeError, match=r"nf_unregister_net_hook\(\) cannot be called while the kernel runs"):
        net.run()
    net.check()
    hooks["h"].unregister()  # between runs it is allowed
    net.run()
    net.check()


@pytest.mark.parametrize("inner", ["net.run", "a.run", "b.run", "b.spawn"])
def test_a_program_cannot_run_or_change_the_network_it_runs_in(inner):
    """A program cannot run its network or a host of it, nor spawn on one, while it runs; each machine runs alone afterwards."""
    net, a, b = two_hosts(("a", "b"))
    seen = []

    @a.program("/bin/m")
    async def m(sys):
        try:
            {"net.run": lambda: net.run(for_ns=1000), "a.run": lambda: a.run(for_ns=1000),
             "b.run": lambda: b.run(for_ns=1000), "b.spawn": lambda: b.spawn("/bin/true")}[inner]()
        except RuntimeError as e:
            seen.append(str(e))
        await sys.print("after")

    a.spawn("/bin/m")
    assert net.run() is None
    assert len(seen) == 1 and ("running" in seen[0] or "runs" in seen[0]), seen
    assert a.console == "after\n"
    net.check()
    a.run()  # each machine runs alone again afterwards
