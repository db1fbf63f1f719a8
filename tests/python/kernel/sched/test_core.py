"""kernel/sched/core.c (cpp/kernel/sched/core.cpp): the policy, priority, affinity and yield system
calls with Linux's errno and permission rules, nice's weight, __schedule's checks (scheduling while
atomic), newidle_balance pulling work to an idle CPU, and finish_task_switch dropping a dead task's
last reference."""
import os

import glasskernel as gk
from gktest import EXIT_DEAD, errname, errno_of, run_checked, sigchld_ignored, spawn_run


def test_sched_setscheduler_errors(k):
    """sched_setscheduler(2): EINVAL for a bad policy or priority, ESRCH, EPERM unprivileged (LTP sched_setscheduler01)."""
    got = {}

    async def main(sys):
        got["errors"] = [await errno_of(sys.sched_setscheduler(*args)) for args in (
            (0, 9, 0), (0, os.SCHED_FIFO, 0), (0, os.SCHED_FIFO, 100), (0, os.SCHED_OTHER, 5), (-1, os.SCHED_FIFO, 1),
            (99999, os.SCHED_FIFO, 1))]
        got["priority range"] = (await sys.sched_get_priority_max(os.SCHED_RR),
                                 await sys.sched_get_priority_min(os.SCHED_FIFO),
                                 await sys.sched_get_priority_max(os.SCHED_OTHER))
        await sys.setuid(1000)
        try:
            await sys.sched_setscheduler(0, os.SCHED_FIFO, 1)
        except PermissionError as e:
            got["FIFO without RLIMIT_RTPRIO"] = errname(e)
        try:
            await sys.sched_setscheduler(1, os.SCHED_OTHER, 0)
        except PermissionError as e:
            got["another user's task"] = errname(e)
    spawn_run(k, main)
    assert got == {"errors": ["EINVAL", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "ESRCH"], "priority range": (99, 1, 0),
                   "FIFO without RLIMIT_RTPRIO": "EPERM", "another user's task": "EPERM"}


def test_affinity_pins_and_moves_a_running_task():
    """sched_setaffinity(2) moves the caller to an allowed CPU at once; a mask with no online CPU is EINVAL."""
    k = gk.Kernel(cpus=2)
    got = {}

    @k.program("/bin/pin")
    async def pin(sys):
        got["mask"] = sorted(await sys.sched_getaffinity(0))
        await sys.sched_setaffinity(0, {1})
        await sys.compute(1_000_000)
        got["now"] = sorted(await sys.sched_getaffinity(0))
        got["no such cpu"] = await errno_of(sys.sched_setaffinity(0, {5}))
    t = k.spawn("/bin/pin")
    seen = set()
    k.run(until=lambda k: (seen.add(t.cpu) if t.state == "R" else None, False)[1])
    assert got == {"mask": [0, 1], "now": [1], "no such cpu": "EINVAL"}
    assert t.cpu == 1 and 1 in seen
    k.check()


def test_sched_yield_alternates(k):
    """sched_yield(2): two equal CFS tasks on one CPU take turns, one step each."""
    order = []

    async def main(sys):
        pid = await sys.fork()
        tag = "child" if pid == 0 else "parent"
        for i in range(3):
            order.append((tag, i))
            await sys.sched_yield()
        if pid:
            await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert order == [("parent", 0), ("child", 0), ("parent", 1), ("child", 1), ("parent", 2), ("child", 2)]


def test_nice_changes_weight_and_needs_privilege_to_lower(k):
    """nice(2) sets the CFS weight (nice 5: 335) and prio; lowering it unprivileged fails; setpriority's bad `which` is EINVAL."""
    got = {}

    async def main(sys):
        got["nice(5)"] = await sys.nice(5)
        got["getpriority"] = await sys.getpriority(os.PRIO_PROCESS, 0)
        await sys.setuid(1000)
        try:
            await sys.nice(-10)
        except PermissionError as e:
            got["nice(-10)"] = errname(e)
        got["setpriority(7, ...)"] = await errno_of(sys.setpriority(7, 0, 0))
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: "getpriority" in got)
    assert t.se.weight == 335 and t.nice == 5 and t.prio == 125
    run_checked(k)
    # The kernel says EACCES (RLIMIT_NICE); glibc's nice(3) reports it as EPERM.
    assert got == {"nice(5)": 5, "getpriority": 5, "nice(-10)": "EPERM", "setpriority(7, ...)": "EINVAL"}


def test_scheduling_while_atomic_is_reported_and_repaired():
    """__might_sleep and __schedule_bug: sleeping with preemption off is reported as Linux words it, and the count reset."""
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


def test_stop_at_a_self_reaped_tasks_last_switch_keeps_the_task(k):
    """finish_task_switch: a self-released task lives until its last switch, which drops the last reference."""
    t = sigchld_ignored(k)
    seen = []
    while (st := k.step("switch")) is not None:
        if st.task is not None and st.task.reaped:
            seen.append(st.task)
            assert st.task.exit_state == EXIT_DEAD and st.task.real_parent is None
            assert st.task.pid != t.pid and st.task.comm == "ign"
    assert len(seen) == 2 and all(x.exit_code == 0 for x in seen)
    assert t.reaped


def test_idle_cpu_pulls_waiting_work():
    """newidle_balance (in the model's core.cpp): a CPU going idle pulls a waiting task from a busy CPU's queue."""
    k = gk.Kernel(cpus=2)

    @k.program("/bin/p")
    async def p(sys):
        await sys.sched_setaffinity(0, {0})  # all forked on cpu 0 ...
        kids = []
        for _ in range(3):
            pid = await sys.fork()
            if pid == 0:
                await sys.sched_setaffinity(0, {0, 1})  # ... then free to move
                await sys.compute(20_000_000)
                return 0
            kids.append(pid)
        for c in kids:
            await sys.waitpid(c, 0)
    k.spawn("/bin/p")
    k.run()
    migrations = [e for e in k.trace.events if e.name == "sched_migrate_task"]
    assert migrations and any("dest_cpu=1" in e.args for e in migrations)
    assert k.sched.runqueue(1).nr_switches > 0
    k.check()
