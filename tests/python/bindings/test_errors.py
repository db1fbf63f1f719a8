"""cpp/bindings/errors.cpp: one errno translation at the Python boundary (an OSError subclass with
Linux's errno and what failed), and the simulator's own exception classes, each defined once by
the compiled core."""
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
    """KernelInconsistency is an AssertionError, KernelPanic and ReplayDivergence RuntimeErrors, each defined once by _core."""
    # Raised by the core itself, so no message is parsed back.
    from glasskernel import _core
    assert gk.KernelInconsistency is _core.KernelInconsistency and issubclass(gk.KernelInconsistency, AssertionError)
    assert gk.KernelPanic is _core.KernelPanic and issubclass(gk.KernelPanic, RuntimeError)
    assert gk.ReplayDivergence is _core.ReplayDivergence and issubclass(gk.ReplayDivergence, RuntimeError)
