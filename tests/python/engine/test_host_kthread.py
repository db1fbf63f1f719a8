"""cpp/engine/host_kthread.cpp: kernel threads whose body is a Python coroutine. A body that raises,
or awaits anything but its KThread's primitives, oopses the thread, and the kernel survives."""
import glasskernel as gk
from gktest import run_checked


def test_a_failing_thread_body_oopses_and_the_kernel_survives():
    """A kernel thread whose body fails dies with an Oops in the log (exit code 11, as a kernel fault); others run on."""
    k = gk.Kernel()

    async def broken(kt):
        await kt.mdelay(1)
        raise RuntimeError("bad pointer")

    h = k.kthread_run(broken, "broken")
    run_checked(k)
    assert h.exited and h.exit_code == 11
    assert "RuntimeError: bad pointer" in h.oops
    assert f"Oops: kernel thread broken[{h.pid}] failed:" in k.dmesg()

    async def foreign(kt):
        import asyncio
        await asyncio.sleep(0)

    h2 = k.kthread_run(foreign, "foreign")
    run_checked(k)
    assert h2.exited and "may only await its KThread's primitives" in h2.oops
