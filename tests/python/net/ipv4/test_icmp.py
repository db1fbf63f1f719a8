"""net/ipv4/icmp.c (cpp/net/ipv4/icmp.cpp): ICMP destination unreachable for a closed UDP port,
reported to a connected socket as ECONNREFUSED."""
import errno

MSG_DONTWAIT = 0x40


def test_icmp_port_unreachable_refuses_a_connected_socket_only(net2):
    """A datagram to a closed port draws ICMP port unreachable; only a connected socket sees it, as ECONNREFUSED."""
    net, a, b = net2
    res = {}

    @a.program("/bin/c")
    async def c(sys):
        conn = await sys.socket()
        await sys.connect(conn, ("10.0.0.2", 9999))
        free = await sys.socket()
        await sys.sendto(free, b"x", ("10.0.0.2", 9999))
        await sys.send(conn, b"x")
        await sys.nanosleep(0.001)
        try:
            await sys.recvfrom(conn, 10)
        except OSError as e:
            res["conn"] = e.errno
        try:
            await sys.recvfrom(free, 10, MSG_DONTWAIT)
        except OSError as e:
            res["free"] = e.errno

    a.spawn("/bin/c")
    net.run(check=True)
    net.check()
    assert res == {"conn": errno.ECONNREFUSED, "free": errno.EAGAIN}
    assert b.net.snmp["Udp"]["NoPorts"] == 2 and b.net.snmp["Icmp"]["OutDestUnreachs"] == 2
    assert a.net.snmp["Icmp"]["InDestUnreachs"] == 2
