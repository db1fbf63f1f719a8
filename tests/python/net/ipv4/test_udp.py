"""net/ipv4/udp.c (cpp/net/ipv4/udp.cpp): the UDP send and receive paths, from sendto(2) to the
NIC and from the NET_RX softirq to a sleeping reader; MSG_PEEK, MSG_TRUNC and non-blocking reads;
the receive buffer limit; SO_REUSEPORT groups; SO_BROADCAST."""
import errno
import socket as S

import pytest

import glasskernel as gk
from gktest import spawn_run, udp_server

MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT = 2, 0x20, 0x40
SOL_SOCKET, SO_RCVBUF, SO_REUSEPORT = 1, 8, 15


def test_nonblocking_peek_and_trunc():
    """udp_recvmsg: EAGAIN with O_NONBLOCK or MSG_DONTWAIT; MSG_PEEK leaves the datagram; a short buffer gets MSG_TRUNC."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket(S.AF_INET, S.SOCK_DGRAM | S.SOCK_NONBLOCK)
        await sys.bind(s, ("127.0.0.1", 4000))
        try:
            await sys.recvfrom(s, 10)
        except OSError as e:
            res["nonblock"] = e.errno
        b = await sys.socket()
        try:
            await sys.recvfrom(b, 10, MSG_DONTWAIT)
        except OSError as e:
            res["dontwait"] = e.errno
        await sys.sendto(b, b"0123456789", ("127.0.0.1", 4000))
        res["peek"] = await sys.recvfrom(s, 100, MSG_PEEK)
        res["trunc"] = await sys.recvmsg(s, 4, MSG_TRUNC)
        await sys.sendto(b, b"abcdef", ("127.0.0.1", 4000))
        res["cut"] = await sys.recvmsg(s, 3)

    spawn_run(k, prog, clean=True)
    assert res["nonblock"] == errno.EAGAIN and res["dontwait"] == errno.EAGAIN
    assert res["peek"][0] == b"0123456789"
    data, ret, flags, _ = res["trunc"]
    assert data == b"0123" and ret == 10 and flags & MSG_TRUNC
    data, ret, flags, _ = res["cut"]
    assert data == b"abc" and ret == 3 and flags & MSG_TRUNC


def test_rcvbuf_limit_drops_and_counts():
    """__udp_enqueue_schedule_skb: past SO_RCVBUF (minimum 2304) datagrams are dropped and counted as RcvbufErrors."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.setsockopt(s, SOL_SOCKET, SO_RCVBUF, 1)  # the minimum: 2304
        res["rcvbuf"] = await sys.getsockopt(s, SOL_SOCKET, SO_RCVBUF)
        await sys.bind(s, ("127.0.0.1", 4001))
        c = await sys.socket()
        for i in range(5):
            await sys.sendto(c, bytes([i]) * 500, ("127.0.0.1", 4001))
        got = []
        while True:
            try:
                got.append((await sys.recvfrom(s, 1000, MSG_DONTWAIT))[0][0])
            except OSError:
                break
        res["got"] = got

    spawn_run(k, prog, clean=True)
    assert res["rcvbuf"] == 2304
    # Each 500-byte datagram costs 500 + overhead of the buffer: two fit, the rest are dropped.
    assert res["got"] == [0, 1]
    assert k.net.snmp["Udp"]["RcvbufErrors"] == 3
    assert "SOCKET_RCVBUFF" in " ".join(e.args for e in k.trace.events if e.name == "kfree_skb")


@pytest.mark.net2(latency_ns=50_000)
def test_blocking_reader_is_woken_by_sock_def_readable_across_a_link(net2, udp_pair):
    """A reader asleep in recvfrom is woken by sock_def_readable from the NET_RX softirq, after ip_rcv -> udp_rcv."""
    net, a, b = net2
    srv, got = udp_pair(9000, [b"ping"], delay=0.002)
    net.run(for_ns=1_000_000, check=True)
    # The reader sleeps on its socket's wait queue.
    sk = b.net.socket(srv.pid, 3)
    assert srv.state == "S" and [t.pid for t in sk.waiters] == [srv.pid]
    assert sk.sk_data_ready == "sock_def_readable" and sk.socket.ops == "inet_dgram_ops"
    assert b.net.proc_net_udp().splitlines()[1].split()[1] == "00000000:2328"
    net.run(check=True)
    net.check()
    assert got == [(b"ping", ("10.0.0.1", 32768))]
    ev = [e.name for e in b.trace.events]
    chain = ["common_interrupt", "net_rx_action", "gknic_poll", "__netif_receive_skb", "ip_rcv", "ip_rcv_finish",
             "ip_local_deliver", "ip_local_deliver_finish", "udp_rcv", "__udp4_lib_rcv", "udp_queue_rcv_skb",
             "__udp_enqueue_schedule_skb", "sock_def_readable"]
    pos = [ev.index(n) for n in chain]
    assert pos == sorted(pos)
    send = [e.name for e in a.trace.events]
    chain = ["__sys_sendto", "sock_sendmsg", "inet_sendmsg", "inet_autobind", "udp_sendmsg", "ip_make_skb",
             "__ip_append_data", "udp_send_skb", "ip_send_skb", "ip_local_out", "ip_output", "ip_finish_output",
             "ip_finish_output2", "__dev_queue_xmit", "dev_hard_start_xmit", "gknic_xmit"]
    pos = [send.index(n) for n in chain]
    assert pos == sorted(pos)
    wake = b.trace.find("sock_def_readable")
    assert wake.ctx == "softirq"
    # The datagram left alice at 2 ms and arrived 50 us (latency) + wire time later.
    assert b.net.devices["eth0"].stats.rx_packets == 1


def test_reuseport_spreads_flows(k):
    """SO_REUSEPORT: sockets bound to one port share its datagrams, each flow hashed to one of them."""
    counts = {}

    async def prog(sys):
        socks = []
        for _ in range(2):
            s = await sys.socket()
            await sys.setsockopt(s, SOL_SOCKET, SO_REUSEPORT, 1)
            await sys.bind(s, ("127.0.0.1", 5353))
            socks.append(s)
        for i in range(16):
            c = await sys.socket()
            await sys.sendto(c, b"q", ("127.0.0.1", 5353))
            await sys.close(c)
        for s in socks:
            n = 0
            while True:
                try:
                    await sys.recvfrom(s, 10, MSG_DONTWAIT)
                    n += 1
                except OSError:
                    break
            counts[s] = n

    spawn_run(k, prog, clean=True)
    assert sum(counts.values()) == 16 and all(n > 0 for n in counts.values())


def test_broadcast_needs_so_broadcast(net2):
    """udp_sendmsg: a datagram to a broadcast address is EACCES without SO_BROADCAST; with it, it goes to ff:ff:ff:ff:ff:ff."""
    net, a, b = net2
    res = {}
    _, got = udp_server(b, 6666, count=2, path="/bin/s")

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.nanosleep(0.001)
        try:
            await sys.sendto(s, b"all", ("10.0.0.255", 6666))
        except OSError as e:
            res["noflag"] = e.errno
        await sys.setsockopt(s, SOL_SOCKET, 6, 1)  # SO_BROADCAST
        await sys.sendto(s, b"subnet", ("10.0.0.255", 6666))
        await sys.sendto(s, b"limited", ("255.255.255.255", 6666))

    cap = b.net.capture("eth0")
    a.spawn("/bin/c")
    net.run(check=True)
    assert res["noflag"] == errno.EACCES
    assert [d for d, _ in got] == [b"subnet", b"limited"]
    assert all(frame[:6] == b"\xff" * 6 for _, frame in cap.frames)
