"""cpp/engine/network.cpp: a network of machines. net.link() makes a cable (and checks its
parameters), the hosts run in lock-step, a lossy link drops frames by the network's seed, and the
same programs and seed give the same traces on every host."""
import pytest

import glasskernel as gk
from gktest import two_hosts


def test_link_loss_is_seeded_and_deterministic():
    """A lossy link drops frames by the network's seed: the same seed loses the same frames."""
    def run(seed):
        net, a, b = two_hosts(("a", "b"), seed=seed, loss=0.5)

        @a.program("/bin/c")
        async def cli(sys):
            s = await sys.socket()
            for i in range(40):
                await sys.sendto(s, b"x", ("10.0.0.2", 9))

        a.spawn("/bin/c")
        net.run(check=True)
        return a.net.devices["eth0"].link.lost, b.net.snmp["Udp"]["NoPorts"]

    lost, arrived = run(1)
    assert 5 < lost < 35 and lost + arrived == 40
    assert run(1) == (lost, arrived)


def test_link_argument_errors():
    """net.link() refuses latency < 1 us, loss outside [0, 1), a self-link, a foreign kernel, bad subnets, a taken irq line."""
    net = gk.Network()
    a, b = net.host("a"), net.host("b")
    with pytest.raises(ValueError, match="latency"):
        net.link(a, b, latency_ns=10)
    with pytest.raises(ValueError, match="loss"):
        net.link(a, b, loss=1.5)
    with pytest.raises(ValueError):
        net.link(a, a)
    with pytest.raises(ValueError):
        net.host("a")
    other = gk.Kernel()
    with pytest.raises(ValueError):
        net.link(a, other)
    for bad in ("10.0.0.0", "10.0.0/24", "10.0.0.300/24", "x/24"):
        with pytest.raises(ValueError, match="subnet"):
            net.link(a, b, bad)
    with pytest.raises(ValueError, match="same subnet"):
        net.link(a, b, "10.0.5.0/24", ips=("10.0.5.1", "10.0.6.2"))
    with pytest.raises(TypeError):
        net.link(a, b, ips=["10.0.9.1", "10.0.9.2"])
    assert net.link(a, b, "10.0.7.0/24", ips=("10.0.7.10", "10.0.7.20")) == ("eth0", "eth0")
    assert a.net.devices["eth0"].ip == "10.0.7.10"
    c, d = net.host("c"), net.host("d")
    d.irq.request_irq(11, lambda ctx: True, "busy")  # the line d's NIC would use
    with pytest.raises(ValueError, match="irq 11"):
        net.link(c, d)
    assert list(c.net.devices) == ["lo"] and c.irq.descs == []  # nothing half-made left behind


def test_self_check_runs_inside_network_runs(net2):
    """net.run(check=True) runs every host's self-check after each step and returns None when all is quiet."""
    net, a, b = net2
    assert net.run(check=True) is None
    net.check()


def test_same_programs_and_seed_give_the_same_traces_on_every_host():
    """The network runs its hosts in lock-step: the same programs and seed give the same trace on every host."""
    def run():
        net, a, b = two_hosts(("a", "b"), seed=7, loss=0.3)

        @b.program("/bin/s")
        async def srv(sys):
            s = await sys.socket()
            await sys.bind(s, ("0.0.0.0", 9))
            e = await sys.epoll_create1()
            await sys.epoll_ctl(e, gk.EPOLL_CTL_ADD, s, 1)
            while await sys.epoll_wait(e, 4, 50):
                await sys.recvfrom(s, 2000)

        @a.program("/bin/c")
        async def cli(sys):
            s = await sys.socket()
            for i in range(30):
                await sys.sendto(s, bytes(i * 100), ("10.0.0.2", 9))
                await sys.nanosleep(0.0001)

        b.spawn("/bin/s")
        a.spawn("/bin/c")
        net.run(check=True)
        return [[(e.ts, e.cpu, e.pid, e.name, e.args) for e in k.trace.events] for k in (a, b)]

    first, second = run(), run()
    assert first == second and len(first[1]) > 1000
