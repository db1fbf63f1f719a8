"""cpp/engine/run_loop.cpp: k.run() advances the CPU with the smallest virtual clock, so CPUs run in
parallel in virtual time; it stops on a predicate, a time bound, or when nothing can run (finished,
or a deadlock naming each blocked task); it refuses to be re-entered; and the same programs and
seed give the same run, event for event."""
import pytest

import glasskernel as gk
from gktest import fork_exit_wait, forker, sigchld_ignored


def test_run_until_predicate_and_time(k):
    """k.run(for_ns=...) stops at the time bound with the sleeper still asleep; k.run(until=...) when the predicate holds."""
    @k.program("/bin/sleeper")
    async def sleeper(sys):
        await sys.nanosleep(0.5)
    t = k.spawn("/bin/sleeper")
    start = k.now
    stop = k.run(for_ns=1_000_000)
    assert not stop and stop.reason == "time_limit"
    assert t.state == "S" and k.now <= start + 1_000_000
    k.run(until=lambda k: t.reaped)
    assert t.reaped and k.now >= start + 500_000_000


def test_nested_run_from_callback_is_refused(k):
    """k.run() from inside k.run() (a predicate, a callback, a program) is refused: the kernel is already running."""
    forker(k)
    with pytest.raises(RuntimeError, match="already running"):
        k.run(until=lambda kk: kk.run())


def test_run_says_finished_or_deadlock_with_each_blocked_task_and_its_wchan(k):
    """With nothing runnable and no timer pending, k.run() reports a deadlock listing each sleeper and its /proc/PID/wchan."""
    # Checked against this machine's Linux: pause() sleeps in __do_sys_pause, waitpid in do_wait,
    # nanosleep in hrtimer_nanosleep.
    import signal

    @k.program("/bin/family")
    async def family(sys):
        child = await sys.fork()
        if child == 0:
            await sys.pause()
        await sys.waitpid(child, 0)

    @k.program("/bin/napper")
    async def napper(sys):
        await sys.nanosleep(0.01)

    t = k.spawn("/bin/family")
    n = k.spawn("/bin/napper")
    stop = k.run(for_ns=1_000_000)
    assert stop.reason == "time_limit" and n.wchan == "hrtimer_nanosleep"
    stop = k.run()
    child = t.children[0]
    assert not stop and stop.reason == "deadlock"
    assert [(x.pid, x.state, x.wchan) for x in stop.blocked] == [(t.pid, "S", "do_wait"), (child.pid, "S", "__do_sys_pause")]
    assert f"family/{t.pid} (S in do_wait)" in repr(stop) and n.reaped and n.wchan is None

    @k.program("/bin/killer")
    async def killer(sys, argv0, pid):
        await sys.kill(int(pid), signal.SIGTERM)
    k.spawn("/bin/killer", ["/bin/killer", str(child.pid)])
    stop = k.run()
    assert stop.reason == "finished" and stop.blocked == [] and t.reaped


def test_two_cpus_run_children_in_parallel():
    """Two CPUs: two CPU-bound children run at once, so 20 ms of work takes about 10 ms of virtual time."""
    k = gk.Kernel(cpus=2)

    @k.program("/bin/par")
    async def par(sys):
        kids = []
        for _ in range(2):
            pid = await sys.fork()
            if pid == 0:
                await sys.compute(10_000_000)
                await sys.exit(0)
            kids.append(pid)
        for p in kids:
            await sys.waitpid(p, 0)
    start = k.now
    t = k.spawn("/bin/par")
    cpus_seen = set()
    k.run(until=lambda k: (cpus_seen.update(c.cpu for c in t.children if c.state == "R"), False)[1])
    assert t.reaped and cpus_seen == {0, 1}
    # 20 ms of work on 2 CPUs finishes in about 10 ms of virtual time
    assert k.now - start < 15_000_000
    k.check()


def trace_of_run(seed):
    """Fork three children that compute and exit; the whole trace and the console."""
    k = gk.Kernel(seed=seed)

    @k.program("/bin/t")
    async def main(sys):
        for i in range(3):
            if await sys.fork() == 0:
                await sys.compute(100_000 * (i + 1))
                await sys.exit(i)
        for _ in range(3):
            await sys.wait()
    k.spawn("/bin/t")
    k.run()
    return [(e.ts, e.cpu, e.pid, e.type, e.name, e.args, e.ret) for e in k.trace.events], k.console


def test_same_program_same_seed_same_trace():
    """Determinism: the same program and seed give the same trace, field for field."""
    a, b = trace_of_run(0), trace_of_run(0)
    assert a == b and len(a[0]) > 100


def test_seed_changes_only_tie_breaking_and_is_reproducible():
    """The seed breaks ties between CPUs: the same seed repeats the run; another seed changes only the order."""
    def run(seed):
        k = gk.Kernel(cpus=2, seed=seed)

        @k.program("/bin/p")
        async def p(sys):
            for i in range(4):
                if await sys.fork() == 0:
                    await sys.print("child", i)
                    await sys.exit(0)
            for _ in range(4):
                await sys.wait()
        k.spawn("/bin/p")
        k.run()
        return k.console, [(e.ts, e.cpu, e.name) for e in k.trace.events]
    assert run(1) == run(1)
    assert sorted(run(1)[0].splitlines()) == sorted(run(2)[0].splitlines())


def test_same_seed_same_trace_with_init_reaping():
    """Determinism: the same programs and seed give the same trace, init's reaping included, event for event."""
    def trace(seed):
        k = gk.Kernel(cpus=2, seed=seed)
        fork_exit_wait(k)
        sigchld_ignored(k)
        k.run()
        return k.trace.function_graph()
    assert trace(1) == trace(1)
