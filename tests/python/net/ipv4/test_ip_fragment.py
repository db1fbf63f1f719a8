"""net/ipv4/ip_fragment.c (cpp/net/ipv4/ip_fragment.cpp): reassembly, and ip_expire dropping an
incomplete datagram after ipfrag_time with ICMP time exceeded."""
import glasskernel as gk


def test_incomplete_datagram_expires_with_icmp_time_exceeded(net2):
    """ip_expire: a datagram missing a fragment is dropped after ipfrag_time (30 s) with ICMP time exceeded."""
    net, a, b = net2

    def drop_last_fragment(hook, packet, indev, outdev):
        frag = int.from_bytes(packet[6:8], "big")
        more, offset = frag & 0x2000, frag & 0x1fff
        return gk.net.NF_DROP if offset and not more else gk.net.NF_ACCEPT

    hook = b.net.nf_register_hook(gk.net.NF_INET_PRE_ROUTING, drop_last_fragment)

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.sendto(s, bytes(4000), ("10.0.0.2", 9))

    a.spawn("/bin/c")
    net.run(until_ns=1_000_000_000, check=True)
    assert b.net.snmp["Ip"]["ReasmFails"] == 0 and hook.dropped == 1  # still waiting
    net.run(check=True)
    assert b.net.snmp["Ip"]["ReasmFails"] == 1 and b.net.snmp["Icmp"]["OutTimeExcds"] == 1
    assert a.net.snmp["Icmp"]["InTimeExcds"] == 1
    assert 30e9 <= b.trace.find("ip_expire").ts < 31e9  # ipfrag_time
    assert b.net.snmp["live_skbs"] == 0
