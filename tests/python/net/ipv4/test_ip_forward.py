"""net/ipv4/ip_forward.c (cpp/net/ipv4/ip_forward.cpp): a router forwards only with
net.ipv4.ip_forward on, decrements the TTL, and answers a TTL running out with ICMP time exceeded."""
import errno

import pytest

import glasskernel as gk
from gktest import udp_client, udp_server


def test_ttl_expiring_at_a_router_sends_time_exceeded():
    """ip_forward: a packet whose TTL would reach 0 is dropped with ICMP time exceeded; IP_TTL takes 1..255."""
    net = gk.Network()
    a, r, b = net.host("a"), net.host("router"), net.host("b")
    net.link(a, r, "10.0.1.0/24")
    net.link(r, b, "10.0.2.0/24")
    a.net.route_add("10.0.2.0/24", via="10.0.1.2")
    r.net.sysctl("net.ipv4.ip_forward", 1)
    res = {}

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.setsockopt(s, 0, 2, 1)  # IP_TTL 1: the router may not pass it on
        res["ttl"] = await sys.getsockopt(s, 0, 2)
        await sys.sendto(s, b"short-lived", ("10.0.2.2", 7))
        try:
            await sys.setsockopt(s, 0, 2, 256)
        except OSError as e:
            res["bad"] = e.errno

    a.spawn("/bin/c")
    net.run(check=True)
    assert res == {"ttl": 1, "bad": errno.EINVAL}
    assert r.net.snmp["Icmp"]["OutTimeExcds"] == 1 and a.net.snmp["Icmp"]["InTimeExcds"] == 1
    assert b.net.snmp["Ip"]["InReceives"] == 0


def test_forwarding_through_a_router_decrements_ttl():
    """ip_forward: a router drops others' packets while net.ipv4.ip_forward is 0; with it 1, it forwards them with TTL - 1."""
    net = gk.Network()
    a, r, b = net.host("a"), net.host("router"), net.host("b")
    net.link(a, r, "10.0.1.0/24")
    net.link(r, b, "10.0.2.0/24")
    a.net.route_add("10.0.2.0/24", via="10.0.1.2")
    b.net.route_add("10.0.1.0/24", via="10.0.2.1")
    cap = b.net.capture("eth0")
    _, got = udp_server(b, 7, path="/bin/s")
    udp_client(a, ("10.0.2.2", 7), [b"via router"], path="/bin/c")
    net.run(check=True)
    assert got == []  # ip_forward is off: the router drops it
    assert r.net.snmp["Ip"]["InAddrErrors"] == 1
    assert r.net.sysctl("net.ipv4.ip_forward", 1) == 1
    a.spawn("/bin/c")
    net.run(check=True)
    net.check()
    assert got == [(b"via router", ("10.0.1.1", 32769))]
    assert cap.frames[-1][1][14 + 8] == 63  # TTL 64, decremented once
    assert r.net.snmp["Ip"]["ForwDatagrams"] == 1
    with pytest.raises(KeyError):
        r.net.sysctl("net.ipv4.nope")
