"""The views (cpp/bindings/task.cpp, cpu.cpp, net_views.cpp, view_html.cpp and python/glasskernel's
display.py and sched_view.py): ps and pstree, the scheduler's timeline and Gantt chart,
/proc/sched_debug and /proc/PID/sched, and each view's HTML for Jupyter."""
import glasskernel as gk
from gktest import run_checked


def test_ps_and_pstree(k):
    """ps and pstree list tasks as procps does (a zombie as <defunct>, kernel threads in brackets); views render as HTML."""
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(0)
        await sys.nanosleep(0.001)
        await sys.wait()
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: any(c.state == "Z" for c in t.children))
    tree = k.pstree()
    assert "init(1)" in tree and f"t({t.pid + 1}) Z <defunct>" in tree and "[kthreadd](2)" in tree
    ps = k.ps()
    assert ps.splitlines()[0].split()[:3] == ["PID", "PPID", "PGID"]
    assert "<table>" in k._repr_html_() and "task_struct" in t._repr_html_()
    run_checked(k)


def test_timeline_gantt_and_dumps(tmp_path):
    """k.sched.timeline() has each CPU's slices, gantt() draws them; sched_debug and proc_sched are Linux's files."""
    k = gk.Kernel(cpus=2)

    @k.program("/bin/two")
    async def two(sys):
        pid = await sys.fork()
        await sys.compute(8_000_000)
        if pid:
            await sys.waitpid(pid, 0)
    t = k.spawn("/bin/two")
    k.run()
    slices = k.sched.timeline()
    assert {s[0] for s in slices} == {0, 1}
    assert all(end >= start for _, _, _, start, end in slices)
    busy = sum(end - start for cpu, pid, _, start, end in slices if pid in (t.pid, t.pid + 1))
    assert busy >= 16_000_000
    png = tmp_path / "gantt.png"
    k.sched.gantt(str(png))
    assert png.stat().st_size > 1000
    assert "cfs_rq[0]" in k.sched.sched_debug()
    assert "nr_voluntary_switches" in k.sched.proc_sched(1)


def test_net_views_render_as_html(k):
    """k.net and a NetDevice render as HTML tables in Jupyter, naming lo and its address."""
    h = k.net._repr_html_()
    assert "lo" in h and "127.0.0.1" in h
    assert "<b>NetDevice</b>" in k.net.devices["lo"]._repr_html_() and "127.0.0.1" in k.net.devices["lo"]._repr_html_()
