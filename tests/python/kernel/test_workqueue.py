"""kernel/workqueue.c (cpp/kernel/workqueue.cpp): queue_work runs an item in a kworker, in process
context; delayed work is queued by a timer, and a pending item is not queued twice."""


def test_workqueue_runs_work_in_a_kworker_and_delayed_work_later(k):
    """queue_work() runs the item in kworker/0:0; queue_delayed_work() not before its delay, and only once while pending."""
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
