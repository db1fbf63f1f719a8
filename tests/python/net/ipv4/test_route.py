"""net/ipv4/route.c (cpp/net/ipv4/route.cpp): the local and main routing tables; the host's own
addresses are routed through lo."""


def test_sending_to_our_own_link_address_goes_through_lo(net2):
    """The local routing table sends a datagram to the host's own link address through lo, not out of eth0."""
    net, a, b = net2
    got = []

    @a.program("/bin/self")
    async def me(sys):
        s = await sys.socket()
        await sys.bind(s, ("10.0.0.1", 5000))
        c = await sys.socket()
        await sys.sendto(c, b"to myself", ("10.0.0.1", 5000))
        got.append(await sys.recvfrom(s, 100))

    cap = a.net.capture("eth0")
    a.spawn("/bin/self")
    net.run(check=True)
    assert got == [(b"to myself", ("10.0.0.1", 32768))]
    assert cap.frames == [] and a.net.devices["lo"].stats.tx_packets == 1
    routes = {(r.dst, r.prefix_len, r.table) for r in a.net.routes}
    assert ("10.0.0.1", 32, "local") in routes and ("10.0.0.0", 24, "main") in routes
