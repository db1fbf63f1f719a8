"""mm/percpu.c (cpp/mm/percpu.cpp): setup_per_cpu_areas gives each per-CPU variable one copy per
CPU, and k.sched.per_cpu() shows them by their Linux names."""
import pytest

import glasskernel as gk


def test_per_cpu_variables_are_visible():
    """DEFINE_PER_CPU: runqueues, softirq_pending, ksoftirqd, ... exist once per CPU with their boot values."""
    k = gk.Kernel(cpus=2)
    names = k.sched.per_cpu_names()
    for n in ("runqueues", "softirq_pending", "ksoftirqd", "tasklet_vec", "timer_bases", "__irq_regs"):
        assert n in names
    ks = k.sched.per_cpu("ksoftirqd")
    assert len(ks) == 2 and ks[0].startswith("ksoftirqd/0/") and ks[1].startswith("ksoftirqd/1/")
    assert k.sched.per_cpu("softirq_pending") == [0, 0]
    assert k.sched.per_cpu("__irq_regs") == ["NULL", "NULL"]
    with pytest.raises(KeyError, match="per_cpu_names"):
        k.sched.per_cpu("nope")
    with pytest.raises(TypeError):
        k.sched.per_cpu(3)
