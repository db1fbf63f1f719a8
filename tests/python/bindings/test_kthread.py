"""cpp/bindings/kthread.cpp and python/glasskernel/kthread.py: k.kthread_run() and the KThread
primitives check their arguments before anything reaches the kernel."""
import pytest

import glasskernel as gk


def test_kthread_bad_arguments():
    """kthread_run() needs an async def body, an existing CPU and a name; the primitives refuse bad values."""
    k = gk.Kernel(cpus=2)

    def not_async(kt):
        pass

    with pytest.raises(TypeError, match="async def"):
        k.kthread_run(not_async)

    async def ok(kt):
        pass

    with pytest.raises(ValueError, match="no cpu 2"):
        k.kthread_run(ok, "x", cpu=2)
    with pytest.raises(ValueError):
        k.kthread_run(ok, "")
    kt = gk.kthread.KThread(k, "t")
    with pytest.raises(ValueError):
        kt.mdelay(-1)
    with pytest.raises(TypeError):
        kt.mdelay(1.5)
    with pytest.raises(ValueError):
        kt.raise_softirq(10)
    k.check()
