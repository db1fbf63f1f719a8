"""net/ipv4/raw.c (cpp/net/ipv4/raw.cpp): a SOCK_RAW ICMP socket sends what the program built and
receives replies with their IP header."""
import socket as S


def test_raw_icmp_ping_and_echo_reply(net2):
    """A SOCK_RAW ICMP socket sends an echo request and receives the reply with its IP header (icmp_echo on the other host)."""
    net, a, b = net2
    res = {}

    @a.program("/bin/ping")
    async def ping(sys):
        import struct
        s = await sys.socket(S.AF_INET, S.SOCK_RAW, S.IPPROTO_ICMP)
        body = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"payload!"
        csum = 0
        for i in range(0, len(body), 2):
            csum += (body[i] << 8) + body[i + 1]
        csum = (csum & 0xffff) + (csum >> 16)
        body = body[:2] + struct.pack("!H", ~csum & 0xffff) + body[4:]
        t0 = await sys.clock_gettime()
        await sys.sendto(s, body, ("10.0.0.2", 0))
        data, addr = await sys.recvfrom(s, 200)
        res["rtt"] = await sys.clock_gettime() - t0
        res["reply"] = (data, addr)

    a.spawn("/bin/ping")
    net.run(check=True)
    net.check()
    data, addr = res["reply"]
    assert addr == ("10.0.0.2", 0)
    ihl = (data[0] & 0xf) * 4
    assert data[9] == 1 and data[ihl] == 0  # ICMP echo reply, IP header included
    assert data[ihl + 4:ihl + 6] == b"\x12\x34" and data[ihl + 8:] == b"payload!"
    assert 2 * 10e-6 < res["rtt"] < 1e-3  # two link latencies and a bit
    assert b.net.snmp["Icmp"]["InEchos"] == 1 and b.net.snmp["Icmp"]["OutEchoReps"] == 1
