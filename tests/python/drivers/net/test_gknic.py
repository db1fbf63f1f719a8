"""cpp/drivers/net/gknic.cpp: the simulated NIC. Its interrupt goes to the CPU its affinity names,
and the NAPI poll it schedules runs in that CPU's NET_RX softirq."""
import pytest


@pytest.mark.net2(host_args=(None, {"cpus": 2}))
def test_nic_interrupt_affinity_moves_net_rx_to_another_cpu(net2, udp_pair):
    """The NIC's interrupt goes to the CPU of its affinity (cpu 1 here), and NAPI's NET_RX softirq runs there too."""
    net, a, b = net2
    irq = b.net.devices["eth0"].irq
    b.irq.set_affinity(irq, 1)
    with pytest.raises(ValueError):
        b.irq.set_affinity(irq, 2)
    _, got = udp_pair(9, [b"to cpu1"])
    net.run(check=True)
    assert got[0][0] == b"to cpu1"
    desc = {d.irq: d for d in b.irq.descs}[irq]
    assert desc.affinity == 1 and desc.kstat_irqs[0] == 0 and desc.kstat_irqs[1] >= 1
    rx = b.trace.find("net_rx_action")
    assert rx.cpu == 1 and rx.ctx == "softirq"
    assert "NET_RX" in b.irq.proc_softirqs()
