"""net/ipv4/arp.c (cpp/net/ipv4/arp.cpp) with the neighbour table: who-has requests, the arp_queue
of packets waiting for a reply, replies learnt by both sides, and a FAILED entry after three
unanswered probes."""
import pytest

from gktest import udp_server


@pytest.mark.net2(arp=True)
def test_arp_resolves_queues_and_fails_with_host_unreachable(net2, tmp_path):
    """ARP: packets wait in the arp_queue (sendto does not); three unanswered probes make the entry FAILED: host unreachable."""
    net, a, b = net2
    res = {}
    _, got = udp_server(b, 9000, count=2, path="/bin/s")

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.nanosleep(0.001)
        t0 = await sys.clock_gettime()
        await sys.sendto(s, b"one", ("10.0.0.2", 9000))   # waits in the arp_queue ...
        await sys.sendto(s, b"two", ("10.0.0.2", 9000))   # ... behind the first
        res["sendto_returned_after"] = await sys.clock_gettime() - t0
        nobody = await sys.socket()
        await sys.connect(nobody, ("10.0.0.9", 9000))
        await sys.send(nobody, b"lost")                   # nobody answers who-has 10.0.0.9

    cap = a.net.capture("eth0")
    a.spawn("/bin/c")
    net.run(until_ns=1_200_000, check=True)
    assert ("10.0.0.9", "00:00:00:00:00:00", "eth0", "INCOMPLETE") in [(n.ip, n.mac, n.dev, n.state) for n in a.net.neighbours]
    net.run(check=True)
    assert [d for d, _ in got] == [b"one", b"two"]
    assert res["sendto_returned_after"] < 0.0001  # sendto does not wait for ARP
    neigh = {n.ip: n.state for n in a.net.neighbours}
    assert neigh == {"10.0.0.2": "REACHABLE", "10.0.0.9": "FAILED"}
    assert ("10.0.0.1", "02:00:00:00:00:01", "eth0", "REACHABLE") in [(n.ip, n.mac, n.dev, n.state) for n in b.net.neighbours]  # learnt from the request
    path = str(tmp_path / "arp.pcap")
    cap.write_pcap(path)
    scapy = pytest.importorskip("scapy.all")
    kinds = [p.summary() for p in scapy.rdpcap(path)]
    assert kinds[0] == "Ether / ARP who has 10.0.0.2 says 10.0.0.1"
    assert "Ether / ARP is at 02:00:00:00:00:02 says 10.0.0.2" in kinds
    assert sum("who has 10.0.0.9" in k for k in kinds) == 3  # three probes, a second apart
    assert a.net.snmp["Icmp"]["InDestUnreachs"] == 1  # host unreachable, to ourselves
