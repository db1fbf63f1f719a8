"""python/glasskernel/kernel.py over cpp/bindings/module.cpp: the Kernel facade. Its top level
keeps what every lesson uses and each subsystem has a namespace; misuse of the host API is a
clear TypeError or ValueError and leaves the kernel unharmed."""
import pytest

import glasskernel as gk


def test_the_facade_keeps_a_few_top_level_names_and_subsystem_namespaces(k):
    """k.sched, k.irq, k.timers, k.workqueue and k.net hold each subsystem's verbs; the top level what every lesson uses."""
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


def test_kernel_argument_errors():
    """gk.Kernel() refuses no CPUs, a non-int cpus, a pid_max below what boot needs and a negative seed."""
    with pytest.raises(ValueError, match="cpus"):
        gk.Kernel(cpus=0)
    with pytest.raises(TypeError, match="cpus must be an int"):
        gk.Kernel(cpus="2")
    with pytest.raises(ValueError, match="pid_max"):
        gk.Kernel(pid_max=3)
    with pytest.raises(ValueError, match="seed"):
        gk.Kernel(seed=-1)


def test_program_and_spawn_errors(k):
    """program, spawn, step, run, break_at, set_cost and runqueue refuse bad arguments clearly; the kernel stays consistent."""
    with pytest.raises(TypeError, match="async def"):
        k.program("/bin/x")(lambda sys: None)
    with pytest.raises(ValueError, match="absolute"):
        k.program("bin/x")
    with pytest.raises(FileNotFoundError):
        k.spawn("/bin/missing")
    with pytest.raises(TypeError, match="argv"):
        k.spawn("/bin/true", "not-a-list")
    with pytest.raises(ValueError, match="until must be one of"):
        k.step("sometimes")
    with pytest.raises(TypeError, match="until must be"):
        k.run(until=5)
    with pytest.raises(TypeError, match="function name"):
        k.break_at(None)
    bp = k.break_at("copy_process")
    bp.remove()
    with pytest.raises(ValueError, match="was removed"):
        bp.remove()
    with pytest.raises(ValueError, match="unknown cost"):
        k.set_cost("nope", 1)
    with pytest.raises(ValueError, match="no cpu"):
        k.sched.runqueue(3)
    assert k.task(4242) is None
    k.check()
