"""kernel/sched/fair.c (cpp/kernel/sched/fair.cpp): CFS shares a CPU by weight and the tick preempts a
task that has had its slice."""
import glasskernel as gk
from gktest import spawn_run


def test_cfs_shares_by_weight_nice0_vs_nice5():
    """CFS: two CPU hogs at nice 0 and nice 5 get CPU time in the ratio of their weights, 1024 : 335."""
    k = gk.Kernel(trace=False)

    @k.program("/bin/hog")
    async def hog(sys, argv0, nice):
        await sys.nice(int(nice))
        while True:
            await sys.compute(10_000_000)
    a = k.spawn("/bin/hog", ["/bin/hog", "0"])
    b = k.spawn("/bin/hog", ["/bin/hog", "5"])
    k.run(for_ns=5_000_000_000)
    ratio = a.se.sum_exec_runtime / b.se.sum_exec_runtime
    assert abs(ratio - 1024 / 335) / (1024 / 335) < 0.03
    k.check()


def test_tick_preempts_cpu_bound_tasks(k):
    """check_preempt_tick: two CPU-bound tasks on one CPU are preempted by the tick (involuntary switches)."""
    async def main(sys):
        pid = await sys.fork()
        await sys.compute(50_000_000)
        if pid:
            await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    assert t.nivcsw >= 3  # preempted by the tick while computing
    assert k.jiffies >= 25  # 100 ms of virtual CPU time at HZ=250

