"""The socket call chain: socket(2) through inet_create, UDP over loopback and across simulated
links, the errno of every rule, IP fragmentation, netfilter, forwarding, raw ICMP, captures."""
import errno
import os
import socket as S

import pytest

import glasskernel as gk
from gktest import run_checked

MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT = 2, 0x20, 0x40
SOL_SOCKET, SO_REUSEADDR, SO_RCVBUF, SO_REUSEPORT = 1, 2, 8, 15


def run_prog(k, fn, argv=None):
    k.program("/bin/t")(fn)
    t = k.spawn("/bin/t", argv)
    run_checked(k)
    assert t.traceback is None, t.traceback
    return t


def pair(**link):
    net = gk.Network()
    a, b = net.host("alice"), net.host("bob")
    net.link(a, b, **link)
    return net, a, b


def test_inet_init_registers_the_tables():
    k = gk.Kernel()
    p = k.net.protocols
    assert p.net_families == [S.AF_INET]
    sw = [(e.type, e.protocol, e.prot, e.ops, e.flags) for e in p.inetsw]
    assert (S.SOCK_STREAM, S.IPPROTO_TCP, "TCP", "inet_stream_ops", 6) in sw
    assert (S.SOCK_DGRAM, S.IPPROTO_UDP, "UDP", "inet_dgram_ops", 2) in sw
    assert (S.SOCK_RAW, 0, "RAW", "inet_sockraw_ops", 1) in sw
    assert p.inet_protos == {1: "icmp", 17: "udp"}
    assert list(p.proto_list) == ["TCP", "UDP", "RAW"]
    assert k.net.devices["lo"].ip == "127.0.0.1"


def test_socket_creation_chain_and_errors():
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        fd = await sys.socket(S.AF_INET, S.SOCK_DGRAM, 0)
        res["fd"] = fd
        for name, args in [("family", (99, S.SOCK_DGRAM, 0)), ("inet6", (S.AF_INET6, S.SOCK_DGRAM, 0)),
                           ("type", (S.AF_INET, 99, 0)), ("flags", (S.AF_INET, S.SOCK_DGRAM | 0x100, 0)),
                           ("seqpacket", (S.AF_INET, S.SOCK_SEQPACKET, 0)), ("proto", (S.AF_INET, S.SOCK_DGRAM, S.IPPROTO_TCP)),
                           ("raw0", (S.AF_INET, S.SOCK_RAW, 0)), ("badproto", (S.AF_INET, S.SOCK_DGRAM, 300))]:
            try:
                await sys.socket(*args)
                res[name] = 0
            except OSError as e:
                res[name] = e.errno
        for name, fd_ in [("notsock", 1), ("badf", 77)]:
            try:
                await sys.bind(fd_, ("0.0.0.0", 0))
            except OSError as e:
                res[name] = e.errno
        await sys.setrlimit(7, (fd + 1, fd + 1))  # RLIMIT_NOFILE: no room for another
        try:
            await sys.socket()
        except OSError as e:
            res["emfile"] = e.errno
        await sys.setuid(1000)
        try:
            await sys.socket(S.AF_INET, S.SOCK_RAW, S.IPPROTO_ICMP)
        except OSError as e:
            res["raw_user"] = e.errno

    run_prog(k, prog)
    assert res["fd"] == 3
    assert res["family"] == errno.EAFNOSUPPORT and res["inet6"] == errno.EAFNOSUPPORT
    assert res["type"] == errno.EINVAL and res["flags"] == errno.EINVAL and res["badproto"] == errno.EINVAL
    assert res["seqpacket"] == errno.ESOCKTNOSUPPORT
    assert res["proto"] == errno.EPROTONOSUPPORT and res["raw0"] == errno.EPROTONOSUPPORT
    assert res["notsock"] == errno.ENOTSOCK and res["badf"] == errno.EBADF
    assert res["emfile"] == errno.EMFILE
    assert res["raw_user"] == errno.EPERM
    names = [e.name for e in k.trace.events if e.type == "entry"]
    chain = ["__sys_socket", "sock_create", "__sock_create", "sock_alloc", "inet_create", "sk_alloc", "sock_init_data"]
    pos = [names.index(n) for n in chain]
    assert pos == sorted(pos)
    assert k.net.sockets == []  # every socket closed at exit


def test_bind_rules():
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        a = await sys.socket()
        await sys.bind(a, ("0.0.0.0", 5000))
        b = await sys.socket()
        for name, call in [("inuse", sys.bind(b, ("127.0.0.1", 5000))), ("again", sys.bind(a, ("0.0.0.0", 5001))),
                           ("notavail", sys.bind(b, ("10.9.9.9", 5002))), ("short", sys.bind(b, b"\x02\x00"))]:
            try:
                await call
            except OSError as e:
                res[name] = e.errno
        c, d = await sys.socket(), await sys.socket()
        for s in (c, d):
            await sys.setsockopt(s, SOL_SOCKET, SO_REUSEADDR, 1)
            await sys.bind(s, ("0.0.0.0", 6000))
        res["reuse"] = (await sys.getsockname(c), await sys.getsockname(d))
        await sys.setuid(1000)
        e = await sys.socket()
        try:
            await sys.bind(e, ("0.0.0.0", 80))
        except OSError as ex:
            res["acces"] = ex.errno
        await sys.bind(e, ("0.0.0.0", 8080))

    run_prog(k, prog)
    assert res["inuse"] == errno.EADDRINUSE and res["again"] == errno.EINVAL
    assert res["notavail"] == errno.EADDRNOTAVAIL and res["short"] == errno.EINVAL
    assert res["reuse"] == (("0.0.0.0", 6000), ("0.0.0.0", 6000))
    assert res["acces"] == errno.EACCES


def test_autobind_connect_disconnect():
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket()
        try:
            await sys.send(s, b"x")
        except OSError as e:
            res["destaddr"] = e.errno
        srv = await sys.socket()
        await sys.bind(srv, ("127.0.0.1", 7000))
        await sys.sendto(s, b"one", ("127.0.0.1", 7000))
        res["auto"] = await sys.getsockname(s)
        await sys.connect(s, ("127.0.0.1", 7000))
        res["peer"] = await sys.getpeername(s)
        await sys.send(s, b"two")
        res["got"] = [await sys.recvfrom(srv, 10), await sys.recvfrom(srv, 10)]
        await sys.connect(s, None)  # AF_UNSPEC
        try:
            await sys.getpeername(s)
        except OSError as e:
            res["notconn"] = e.errno
        try:
            await sys.sendto(s, b"p", ("127.0.0.1", 0))
        except OSError as e:
            res["port0"] = e.errno

    run_prog(k, prog)
    assert res["destaddr"] == errno.EDESTADDRREQ
    host, port = res["auto"]
    assert host == "0.0.0.0" and 32768 <= port <= 60999
    assert res["peer"] == ("127.0.0.1", 7000)
    assert [d for d, _ in res["got"]] == [b"one", b"two"]
    assert res["got"][0][1] == ("127.0.0.1", port)
    assert res["notconn"] == errno.ENOTCONN and res["port0"] == errno.EINVAL


def test_blocking_reader_is_woken_by_sock_def_readable_across_a_link():
    net, a, b = pair(latency_ns=50_000)
    got = []

    @b.program("/bin/server")
    async def server(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        got.append(await sys.recvfrom(s, 100))

    @a.program("/bin/client")
    async def client(sys):
        s = await sys.socket()
        await sys.nanosleep(0.002)
        await sys.sendto(s, b"ping", ("10.0.0.2", 9000))

    srv = b.spawn("/bin/server")
    a.spawn("/bin/client")
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


def test_nonblocking_peek_and_trunc():
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

    run_prog(k, prog)
    assert res["nonblock"] == errno.EAGAIN and res["dontwait"] == errno.EAGAIN
    assert res["peek"][0] == b"0123456789"
    data, ret, flags, _ = res["trunc"]
    assert data == b"0123" and ret == 10 and flags & MSG_TRUNC
    data, ret, flags, _ = res["cut"]
    assert data == b"abc" and ret == 3 and flags & MSG_TRUNC


def test_rcvbuf_limit_drops_and_counts():
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

    run_prog(k, prog)
    assert res["rcvbuf"] == 2304
    # Each 500-byte datagram costs 500 + overhead of the buffer: two fit, the rest are dropped.
    assert res["got"] == [0, 1]
    assert k.net.snmp["Udp"]["RcvbufErrors"] == 3
    assert "SOCKET_RCVBUFF" in " ".join(e.args for e in k.trace.events if e.name == "kfree_skb")


def test_icmp_port_unreachable_refuses_a_connected_socket_only():
    net, a, b = pair()
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


def test_emsgsize_and_fragmentation_across_a_link():
    net, a, b = pair()
    got, res = [], {}

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        got.append(await sys.recvfrom(s, 10000))

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
    b.spawn("/bin/s")
    a.spawn("/bin/c")
    net.run(check=True)
    net.check()
    assert res == {"big": errno.EMSGSIZE, "sent": 4096}
    assert got[0][0] == bytes(range(256)) * 16
    assert len(cap.frames) == 3  # 4104 bytes of UDP in 1480-byte pieces
    assert a.net.snmp["Ip"]["FragCreates"] == 3 and b.net.snmp["Ip"]["ReasmOKs"] == 1


def test_pcap_capture_decodes_with_scapy(tmp_path):
    scapy = pytest.importorskip("scapy.all")
    net, a, b = pair()

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


def test_netfilter_hook_drops_and_counts():
    net, a, b = pair()
    seen = []

    def drop_udp_to_9000(hook, packet, indev, outdev):
        seen.append((hook, indev, len(packet)))
        return gk.net.NF_DROP if packet[9] == 17 and packet[22:24] == b"\x23\x28" else gk.net.NF_ACCEPT

    hook = b.net.nf_register_hook(gk.net.NF_INET_LOCAL_IN, drop_udp_to_9000)
    got = []

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        got.append(await sys.recvfrom(s, 100, MSG_DONTWAIT) if False else None)

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.sendto(s, b"blocked", ("10.0.0.2", 9000))
        await sys.sendto(s, b"other", ("10.0.0.2", 9001))

    a.spawn("/bin/c")
    net.run(check=True)
    assert hook.dropped == 1 and hook.accepted == 1
    assert seen[0][0] == gk.net.NF_INET_LOCAL_IN and seen[0][1] == "eth0"
    assert b.net.snmp["Udp"]["NoPorts"] == 1  # the second reached UDP and found no socket
    hook.unregister()
    with pytest.raises(ValueError):
        b.net.nf_register_hook(7, lambda *a: 1)
    net.check()


def test_forwarding_through_a_router_decrements_ttl():
    net = gk.Network()
    a, r, b = net.host("a"), net.host("router"), net.host("b")
    net.link(a, r, "10.0.1.0/24")
    net.link(r, b, "10.0.2.0/24")
    a.net.route_add("10.0.2.0/24", via="10.0.1.2")
    b.net.route_add("10.0.1.0/24", via="10.0.2.1")
    got = []

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 7))
        got.append(await sys.recvfrom(s, 100))

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.nanosleep(0.001)
        await sys.sendto(s, b"via router", ("10.0.2.2", 7))

    cap = b.net.capture("eth0")
    b.spawn("/bin/s")
    a.spawn("/bin/c")
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


def test_raw_icmp_ping_and_echo_reply():
    net, a, b = pair()
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


def test_close_path_and_refcounts():
    k = gk.Kernel()
    seen = {}

    async def prog(sys):
        s = await sys.socket()
        pid = await sys.getpid()
        seen["unbound"] = k.net.socket(pid, s).refcnt
        await sys.bind(s, ("0.0.0.0", 1234))
        seen["bound"] = k.net.socket(pid, s).refcnt
        await sys.close(s)
        seen["after"] = [x for x in k.net.sockets if x.local[1] == 1234]

    run_prog(k, prog)
    assert seen["unbound"] == 1 and seen["bound"] == 2  # the socket's and the hash table's
    assert seen["after"] == []
    ev = [e.name for e in k.trace.events if e.type == "entry"]
    chain = ["close_fd", "sock_close", "__sock_release", "inet_release", "udp_lib_close", "sk_common_release",
             "udp_lib_unhash", "sock_orphan", "__sk_free"]
    pos = [ev.index(n) for n in chain]
    assert pos == sorted(pos)


def test_shutdown_wakes_a_sleeping_reader_of_a_shared_socket():
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4444))
        pid = await sys.fork()
        if pid == 0:
            data = await sys.recv(s, 10)  # sleeps: nothing will be sent
            await sys.print("child read", data)
            await sys.exit(0)
        await sys.nanosleep(0.001)
        res["sleeping"] = k.task(pid).state
        sk = [x for x in k.net.sockets if x.local[1] == 4444][0]
        res["waiters"] = [w.pid for w in sk.waiters]
        d = await sys.dup(s)
        await sys.close(d)  # the file still has other references: nothing happens
        await sys.nanosleep(0.001)
        res["after_close"] = k.task(pid).state
        try:
            await sys.shutdown(s, S.SHUT_RD)  # sk_state_change wakes every sleeper ...
        except OSError as e:
            res["shutdown"] = e.errno       # ... though an unconnected socket says ENOTCONN
        _, status = await sys.waitpid(pid, 0)
        res["status"] = status

    t = run_prog(k, prog)
    assert res["sleeping"] == "S" and res["waiters"] == [t.pid + 1]
    assert res["after_close"] == "S" and res["status"] == 0 and res["shutdown"] == errno.ENOTCONN
    assert "child read b''" in k.console


def test_link_loss_is_seeded_and_deterministic():
    def run(seed):
        net = gk.Network(seed=seed)
        a, b = net.host("a"), net.host("b")
        net.link(a, b, loss=0.5)

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


def test_reuseport_spreads_flows_and_html_views():
    k = gk.Kernel()
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

    run_prog(k, prog)
    assert sum(counts.values()) == 16 and all(n > 0 for n in counts.values())
    h = k.net._repr_html_()
    assert "lo" in h and "127.0.0.1" in h
    assert "<b>NetDevice</b>" in k.net.devices["lo"]._repr_html_() and "127.0.0.1" in k.net.devices["lo"]._repr_html_()


def test_sndbuf_full_gives_eagain_on_a_slow_link():
    net, a, b = pair(bandwidth_bps=1_000_000)  # 1 Mbit/s: each 1 KB frame takes 8 ms
    res = {}

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.setsockopt(s, SOL_SOCKET, 7, 4096)  # SO_SNDBUF: 8192 after doubling
        sent = 0
        try:
            for _ in range(50):
                await sys.sendto(s, bytes(1000), ("10.0.0.2", 9), MSG_DONTWAIT)
                sent += 1
        except OSError as e:
            res["err"] = e.errno
        res["sent"] = sent

    a.spawn("/bin/c")
    net.run(check=True)
    assert res["err"] == errno.EAGAIN and 2 <= res["sent"] < 10
    assert a.net.devices["eth0"].stats.tx_packets == res["sent"]


def test_self_check_runs_inside_network_runs():
    net, a, b = pair()
    assert net.run(check=True) is None
    net.check()


def test_skb_view_shows_the_buffer_layout():
    k = gk.Kernel()
    seen = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4100))
        c = await sys.socket()
        await sys.sendto(c, b"layout", ("127.0.0.1", 4100))
        seen["sock"] = k.net.socket(await sys.getpid(), s)

    run_prog(k, prog)
    (skb,) = seen["sock"].receive_queue
    # Queued for UDP: data starts at the UDP header, after the Ethernet and IP headers.
    assert skb.transport_header == skb.data_off == skb.network_header + 20 == skb.mac_header + 34
    assert skb.len == 8 + 6 and skb.tail == skb.data_off + skb.len <= skb.end
    assert skb.data[8:] == b"layout" and skb.protocol == 0x0800
    assert seen["sock"].rmem_alloc == skb.truesize


def test_a_signal_interrupts_or_restarts_a_blocked_recvfrom():
    import signal
    k = gk.Kernel()
    res = {}

    async def on_alarm(sys, signo):
        await sys.print("alarm")  # console output is not repeated by a fork child's replay

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4200))
        await sys.sigaction(signal.SIGALRM, on_alarm, 0)  # no SA_RESTART: EINTR
        await sys.alarm(1)
        try:
            await sys.recvfrom(s, 10)
        except OSError as e:
            res["eintr"] = e.errno
        await sys.signal(signal.SIGALRM, on_alarm)        # SA_RESTART: the call goes on
        await sys.alarm(1)
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(1.5)
            c = await sys.socket()
            await sys.sendto(c, b"late", ("127.0.0.1", 4200))
            await sys.exit(0)
        res["restarted"] = await sys.recvfrom(s, 10)
        await sys.waitpid(pid, 0)

    run_prog(k, prog)
    assert res["eintr"] == errno.EINTR and k.console.count("alarm") == 2
    assert res["restarted"][0] == b"late"


def test_ttl_expiring_at_a_router_sends_time_exceeded():
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


def test_broadcast_needs_so_broadcast():
    net, a, b = pair()
    got, res = [], {}

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 6666))
        got.append(await sys.recvfrom(s, 100))
        got.append(await sys.recvfrom(s, 100))

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
    b.spawn("/bin/s")
    a.spawn("/bin/c")
    net.run(check=True)
    assert res["noflag"] == errno.EACCES
    assert [d for d, _ in got] == [b"subnet", b"limited"]
    assert all(frame[:6] == b"\xff" * 6 for _, frame in cap.frames)


def test_sending_to_our_own_link_address_goes_through_lo():
    net, a, b = pair()
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


def test_read_on_a_socket_follows_seed_001s_chain():
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4300))
        c = await sys.socket()
        await sys.connect(c, ("127.0.0.1", 4300))
        res["write"] = await sys.write(c, b"via write")
        res["read"] = await sys.read(s, 100)

    run_prog(k, prog)
    assert res == {"write": 9, "read": b"via write"}
    tree = k.trace.tree("ksys_read", args=False)
    chain = ["vfs_read", "new_sync_read", "sock_read_iter", "sock_recvmsg", "sock_recvmsg_nosec", "inet_recvmsg",
             "udp_recvmsg", "__skb_recv_udp", "__skb_recv_datagram"]
    pos = [tree.index("|-" + n) for n in chain]
    assert pos == sorted(pos)


def test_same_programs_and_seed_give_the_same_traces_on_every_host():
    def run():
        net = gk.Network(seed=7)
        a, b = net.host("a"), net.host("b")
        net.link(a, b, loss=0.3)

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


def test_arp_resolves_queues_and_fails_with_host_unreachable(tmp_path):
    net, a, b = pair(arp=True)
    got, res = [], {}

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9000))
        got.append(await sys.recvfrom(s, 100))
        got.append(await sys.recvfrom(s, 100))

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
    b.spawn("/bin/s")
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


def test_incomplete_datagram_expires_with_icmp_time_exceeded():
    net, a, b = pair()

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


def test_nic_interrupt_affinity_moves_net_rx_to_another_cpu():
    net = gk.Network()
    a, b = net.host("a"), net.host("b", cpus=2)
    net.link(a, b)
    irq = b.net.devices["eth0"].irq
    b.irq.set_affinity(irq, 1)
    with pytest.raises(ValueError):
        b.irq.set_affinity(irq, 2)
    got = []

    @b.program("/bin/s")
    async def srv(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", 9))
        got.append(await sys.recvfrom(s, 100))

    @a.program("/bin/c")
    async def cli(sys):
        s = await sys.socket()
        await sys.nanosleep(0.001)
        await sys.sendto(s, b"to cpu1", ("10.0.0.2", 9))

    b.spawn("/bin/s")
    a.spawn("/bin/c")
    net.run(check=True)
    assert got[0][0] == b"to cpu1"
    desc = {d.irq: d for d in b.irq.descs}[irq]
    assert desc.affinity == 1 and desc.kstat_irqs[0] == 0 and desc.kstat_irqs[1] >= 1
    rx = b.trace.find("net_rx_action")
    assert rx.cpu == 1 and rx.ctx == "softirq"
    assert "NET_RX" in b.irq.proc_softirqs()
