"""net/core/dev.c (cpp/net/core/dev.cpp): a capture on a device sees each frame it sends and
receives (dev_queue_xmit_nit's taps) and writes them as a pcap file."""
import pytest


def test_pcap_capture_decodes_with_scapy(net2, tmp_path):
    """A capture on a device (dev_queue_xmit_nit's taps) writes a pcap scapy decodes, with Linux's IP and UDP checksums."""
    scapy = pytest.importorskip("scapy.all")
    net, a, b = net2

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 53))
        data, addr = await sys.recvfrom(s, 100)
        await sys.sendto(s, data[::-1], addr)

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.nanosleep(0.001)
        await sys.sendto(s, b"abc", ("10.0.0.2", 53))
        await sys.recvfrom(s, 100)

    cap = a.net.capture("eth0")
    b.spawn("/bin/s")
    a.spawn("/bin/c")
    net.run(check=True)
    path = str(tmp_path / "eth0.pcap")
    assert cap.write_pcap(path) == 2
    pkts = scapy.rdpcap(path)
    assert len(pkts) == 2
    q, r = pkts
    assert q[scapy.IP].src == "10.0.0.1" and q[scapy.IP].dst == "10.0.0.2" and q[scapy.UDP].dport == 53
    assert bytes(q[scapy.UDP].payload) == b"abc" and bytes(r[scapy.UDP].payload) == b"cba"
    for p in pkts:  # our checksums are what scapy computes
        fresh = scapy.Ether(bytes(p))
        del fresh[scapy.IP].chksum
        del fresh[scapy.UDP].chksum
        rebuilt = scapy.Ether(bytes(fresh))
        assert rebuilt[scapy.IP].chksum == p[scapy.IP].chksum and rebuilt[scapy.UDP].chksum == p[scapy.UDP].chksum
    assert float(r.time) > float(q.time)
