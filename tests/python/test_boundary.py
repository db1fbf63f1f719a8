"""The Python boundary: one errno translation (OSError with Linux's errno), the simulator's own
exception classes registered once by the compiled core, and views that are classes."""
import errno

import pytest

import glasskernel as gk


def test_errnos_become_oserror_with_the_errno_and_what_failed(k):
    """execve(2) of a missing file is ENOENT; the message names the path."""
    with pytest.raises(FileNotFoundError) as e:
        k.spawn("/bin/nonexistent")
    assert e.value.errno == errno.ENOENT and "/bin/nonexistent" in str(e.value)
    with pytest.raises(OSError) as e:
        k.irq.request_irq(5, lambda c: True, shared=True)  # a shared line needs a dev_id
    assert e.value.errno == errno.EINVAL


def test_the_simulators_exceptions_come_from_the_core():
    """KernelInconsistency is an AssertionError, KernelPanic and ReplayDivergence RuntimeErrors,
    each defined once (by _core) and raised by it, so no message is parsed back."""
    from glasskernel import _core
    assert gk.KernelInconsistency is _core.KernelInconsistency and issubclass(gk.KernelInconsistency, AssertionError)
    assert gk.KernelPanic is _core.KernelPanic and issubclass(gk.KernelPanic, RuntimeError)
    assert gk.ReplayDivergence is _core.ReplayDivergence and issubclass(gk.ReplayDivergence, RuntimeError)


def test_the_facade_keeps_a_few_top_level_names_and_subsystem_namespaces(k):
    """k.sched, k.irq, k.timers, k.workqueue and k.net hold each subsystem's verbs and views; the
    top level keeps what every lesson uses."""
    public = {n for n in dir(k) if not n.startswith("_")}
    for gone in ("request_irq", "runqueue", "cpu_state", "timer", "work", "tasklet", "proc_interrupts", "preempt_model"):
        assert gone not in public, gone
    for name in ("program", "spawn", "run", "step", "break_at", "tasks", "task", "console", "stdout", "stderr", "trace",
                 "check", "now", "jiffies", "dmesg", "ps", "pstree", "kthread_run"):
        assert name in public, name
    assert k.sched.runqueue(0).cpu == 0 and k.sched.preempt_model == "voluntary"
    k.sched.preempt_model = "full"
    assert k.sched.preempt_model == "full" and k.sched.cpu_state(0).cpu == 0
    t = k.timers.timer(lambda ctx: None, "t")
    assert t.mod(k.timers.jiffies + 1) == 0 and k.timers.hz == 250
    k.irq.request_irq(5, lambda ctx: True, name="dev")
    assert [d.irq for d in k.irq.descs] == [5] and "dev" in k.irq.proc_interrupts()
    w = k.workqueue.work(lambda ctx: None)
    assert w.queue() is True
    k.run()
    assert t.runs == 1 and w.runs == 1 and "devices" in dir(k.net)
