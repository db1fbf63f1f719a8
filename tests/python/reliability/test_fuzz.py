"""The stateful fuzzer, bounded for every test run (`make fuzz` runs it for long, in batches): random
programs, callbacks, breakpoints, steps and runs on one machine; the self-check after every step."""
from hypothesis import HealthCheck, settings

from .fuzz_machine import STATS, KernelMachine


class TestKernelFuzz(KernelMachine.TestCase):
    settings = settings(max_examples=20, stateful_step_count=12, deadline=None, derandomize=True, database=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_the_fuzzer_exercised_the_kernel():
    """Guards the guard: the bounded fuzz run above really made system calls and steps (run after it)."""
    assert STATS["runs"] == 0 or STATS["syscalls"] > 0
