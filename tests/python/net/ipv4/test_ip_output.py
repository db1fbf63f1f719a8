"""net/ipv4/ip_output.c (cpp/net/ipv4/ip_output.cpp): __ip_append_data's EMSGSIZE and
ip_fragment splitting a datagram bigger than the MTU (which the receiver reassembles)."""
import errno

from gktest import udp_server


def test_emsgsize_and_fragmentation_across_a_link(net2):
    """A UDP datagram over 65507 bytes is EMSGSIZE; one over the MTU leaves in 1480-byte fragments and is reassembled."""
    net, a, b = net2
    res = {}
    _, got = udp_server(b, 9000, bufsize=10000, path="/bin/s")

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        try:
            await sys.sendto(s, bytes(65508), ("10.0.0.2", 9000))
        except OSError as e:
            res["big"] = e.errno
        await sys.nanosleep(0.001)
        res["sent"] = await sys.sendto(s, bytes(range(256)) * 16, ("10.0.0.2", 9000))

    cap = b.net.capture("eth0")
    a.spawn("/bin/c")
    net.run(check=True)
    net.check()
    assert res == {"big": errno.EMSGSIZE, "sent": 4096}
    assert got[0][0] == bytes(range(256)) * 16
    assert len(cap.frames) == 3  # 4104 bytes of UDP in 1480-byte pieces
    assert a.net.snmp["Ip"]["FragCreates"] == 3 and b.net.snmp["Ip"]["ReasmOKs"] == 1
