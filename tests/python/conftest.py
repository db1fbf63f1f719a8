import errno
import os

import pytest

import glasskernel as gk


@pytest.fixture
def k():
    kernel = gk.Kernel(cpus=1, seed=0)
    yield kernel
    kernel.check()
    assert "BUG:" not in kernel.dmesg(), kernel.dmesg()


def run_checked(k, **kw):
    """Run to quiescence with the kernel's self-check after every engine step."""
    def check(kk):
        kk.check()
        return False
    return k.run(until=check, **kw)


def spawn_run(k, fn, path="/bin/t", argv=None):
    """Install `fn` at `path`, spawn it, run with checks; returns the task."""
    k.program(path)(fn)
    t = k.spawn(path, argv)
    run_checked(k)
    return t


def lines(k):
    return k.console.splitlines()
