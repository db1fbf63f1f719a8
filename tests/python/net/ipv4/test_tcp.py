"""net/ipv4/tcp*.c (cpp/net/ipv4/tcp*.cpp): the handshake and teardown state by state, the call
chains of connect and of a blocking read and its wake-up, resets, half-close, TIME_WAIT, the
accept queue, Nagle and delayed ACKs, retransmission (RTO backoff, fast retransmit) and congestion
control, and transfers over lossy links that deliver every byte in order."""
import errno
import select
import signal as S
import socket as PS

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import glasskernel as gk
from glasskernel import _core
from gktest import errname, errno_of, run_checked, spawn_run, two_hosts

AF_INET, SOCK_STREAM = 2, 1


def states(k):
    """Every inet_sock_set_state event as (sport, dport, oldstate, newstate), in order."""
    out = []
    for e in k.trace.events:
        if e.name == "inet_sock_set_state":
            f = dict(kv.split("=") for kv in e.args.split())
            out.append((int(f["sport"]), int(f["dport"]), f["oldstate"], f["newstate"]))
    return out


def echo_pair(k, server_body, client_body, port=8000):
    """Spawn a server (bind, listen, accept, then `server_body(sys, conn)`) and a client (connect,
    then `client_body(sys, fd)`) on one kernel over loopback; returns the result dict."""
    got = {}

    @k.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(s, ("127.0.0.1", port))
        await sys.listen(s, 8)
        c, peer = await sys.accept(s)
        got["peer"] = peer
        await server_body(sys, c, got)

    @k.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(s, ("127.0.0.1", port))
        got["local"] = await sys.getsockname(s)
        await client_body(sys, s, got)

    k.spawn("/bin/srv")
    k.spawn("/bin/cli")
    run_checked(k)
    return got


def in_order(tree, names):
    """Each name appears as a call in the tree after the one before it."""
    lines = [line.strip().lstrip("|-").split("(")[0] for line in tree.splitlines()]
    i = 0
    for line in lines:
        if i < len(names) and line == names[i]:
            i += 1
    return i == len(names)


async def listening(sys):
    """A TCP socket listening on port 80 of every address."""
    s = await sys.socket(AF_INET, SOCK_STREAM)
    await sys.bind(s, ("0.0.0.0", 80))
    await sys.listen(s)
    return s


async def connected(sys):
    """A TCP socket connected to port 80 of the second host (10.0.0.2)."""
    s = await sys.socket(AF_INET, SOCK_STREAM)
    await sys.connect(s, ("10.0.0.2", 80))
    return s


async def read_all(sys, fd, n=65536):
    data = bytearray()
    while chunk := await sys.recv(fd, n):
        data += chunk
    return bytes(data)


def test_handshake_and_teardown_state_by_state(k):
    """connect/accept: SYN_SENT → ESTABLISHED and SYN_RECV → ESTABLISHED; the active closer goes
    FIN_WAIT1 → FIN_WAIT2 → TIME_WAIT, the passive one CLOSE_WAIT → LAST_ACK → CLOSE."""
    k.net.sysctl("glasskernel.tcp_timewait_len_ms", 2000)

    async def server(sys, c, got):
        got["data"] = await read_all(sys, c)
        await sys.close(c)

    async def client(sys, s, got):
        await sys.send(s, b"hello")
        await sys.close(s)

    got = echo_pair(k, server, client)
    port = got["local"][1]
    assert got["data"] == b"hello" and got["peer"] == ("127.0.0.1", port)
    tr = states(k)
    client_side = [(o, n) for sp, dp, o, n in tr if dp == 8000]  # the first has sport 0: no port chosen yet
    server_side = [(o, n) for sp, dp, o, n in tr if sp == 8000 and dp == port]
    assert client_side == [("CLOSE", "SYN_SENT"), ("SYN_SENT", "ESTABLISHED"), ("ESTABLISHED", "FIN_WAIT1"),
                           ("FIN_WAIT1", "FIN_WAIT2"), ("FIN_WAIT2", "CLOSE")]  # the sock gives way to a TIME_WAIT sock
    assert server_side == [("CLOSE", "SYN_RECV"), ("SYN_RECV", "ESTABLISHED"), ("ESTABLISHED", "CLOSE_WAIT"),
                           ("CLOSE_WAIT", "LAST_ACK"), ("LAST_ACK", "CLOSE")]
    assert any(e.name == "tcp_time_wait" for e in k.trace.events)
    # TIME_WAIT lasted the configured 2 s, then nothing was left.
    assert k.net.sockets == [] and k.now >= 2_000_000_000


def test_connect_follows_linux_call_chain(k):
    """connect(2) → __sys_connect → inet_stream_connect → tcp_v4_connect → tcp_connect →
    tcp_transmit_skb → ip_queue_xmit → ip_local_out → NF_HOOK(LOCAL_OUT) → dst_output → ip_output."""
    async def server(sys, c, got):
        pass

    async def client(sys, s, got):
        pass

    echo_pair(k, server, client)
    tree = k.trace.tree("__sys_connect", args=False)
    chain = ["inet_stream_connect", "__inet_stream_connect", "tcp_v4_connect", "tcp_connect", "tcp_transmit_skb",
             "__tcp_transmit_skb", "ip_queue_xmit", "ip_local_out", "__ip_local_out", "NF_HOOK", "dst_output", "ip_output",
             "ip_finish_output", "ip_finish_output2"]
    assert in_order(tree, chain), tree


def test_blocking_read_sleeps_in_sk_wait_data_and_is_woken_by_the_softirq(k):
    """A read of an empty stream sleeps in sk_wait_data (woken_wake_function on sk_wq); the data
    arrives through tcp_v4_rcv → tcp_v4_do_rcv → tcp_rcv_established → tcp_queue_rcv →
    tcp_data_ready → sock_def_readable, which wakes it."""
    got = {}

    @k.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(s, ("127.0.0.1", 8000))
        await sys.listen(s, 8)
        c, _ = await sys.accept(s)
        got["pid"] = await sys.getpid()
        got["data"] = await sys.read(c, 100)

    @k.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(s, ("127.0.0.1", 8000))
        await sys.nanosleep(0.02)
        await sys.write(s, b"ping")
        await sys.close(s)

    srv_task = k.spawn("/bin/srv")
    k.spawn("/bin/cli")
    k.run(until_ns=10_000_000)
    assert srv_task.state == "S" and srv_task.wchan == "wait_woken"
    stack = srv_task.kernel_stack
    for f in ("ksys_read", "vfs_read", "sock_read_iter", "sock_recvmsg", "inet_recvmsg", "tcp_recvmsg", "sk_wait_data"):
        assert f in stack, (f, stack)
    conn = [s for s in k.net.sockets if s.state_name == "ESTABLISHED" and s.local[1] == 8000][0]
    assert [t.pid for t in conn.waiters] == [srv_task.pid]
    run_checked(k)
    assert got["data"] == b"ping"
    # The tcp_v4_rcv that carried the data: the one whose tree reaches tcp_queue_rcv.
    i, wake = 0, ""
    while "tcp_queue_rcv" not in wake:
        wake = k.trace.tree("tcp_v4_rcv", nth=i, args=False)
        i += 1
    chain = ["tcp_v4_do_rcv", "tcp_rcv_established", "tcp_queue_rcv", "tcp_data_ready", "sock_def_readable", "__wake_up",
             "woken_wake_function", "try_to_wake_up"]
    assert in_order(wake, chain), wake


def test_connect_to_a_closed_port_is_refused(k):
    """A SYN to a port nobody listens on is answered with RST|ACK: ECONNREFUSED, blocking or not."""
    got = {}

    async def main(sys):
        s = await sys.socket(AF_INET, SOCK_STREAM)
        got["blocking"] = await errno_of(sys.connect(s, ("127.0.0.1", 9)))
        s2 = await sys.socket(AF_INET, SOCK_STREAM | PS.SOCK_NONBLOCK)
        got["nonblocking"] = await errno_of(sys.connect(s2, ("127.0.0.1", 9)))
        got["revents"] = await sys.poll([(s2, select.POLLOUT)], 100)
        got["so_error"] = await sys.getsockopt(s2, PS.SOL_SOCKET, PS.SO_ERROR)
    spawn_run(k, main, clean=True)
    assert got["blocking"] == "ECONNREFUSED"
    assert got["nonblocking"] in ("EINPROGRESS", "ECONNREFUSED")
    assert got["so_error"] in (errno.ECONNREFUSED, 0)
    assert k.net.snmp["Tcp"]["OutRsts"] >= 2 and k.net.snmp["Tcp"]["AttemptFails"] >= 2


def test_nonblocking_connect_completes_and_becomes_writable(net2):
    """O_NONBLOCK connect: EINPROGRESS, EALREADY while the handshake runs, then POLLOUT with SO_ERROR 0
    and the next connect() returns 0, the one after EISCONN."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        await sys.accept(s)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(AF_INET, SOCK_STREAM | PS.SOCK_NONBLOCK)
        got["first"] = await errno_of(sys.connect(s, ("10.0.0.2", 80)))
        got["again"] = await errno_of(sys.connect(s, ("10.0.0.2", 80)))
        got["poll"] = await sys.poll([(s, select.POLLOUT)], 1000)
        got["so_error"] = await sys.getsockopt(s, PS.SOL_SOCKET, PS.SO_ERROR)
        got["third"] = await errno_of(sys.connect(s, ("10.0.0.2", 80)))
        got["fourth"] = await errno_of(sys.connect(s, ("10.0.0.2", 80)))
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got == {"first": "EINPROGRESS", "again": "EALREADY", "poll": [(3, select.POLLOUT)], "so_error": 0,
                   "third": None, "fourth": "EISCONN"}


def test_half_close_and_end_of_stream(k):
    """shutdown(SHUT_WR) sends FIN: the peer reads b'' at the end but can still send back;
    sending after our own SHUT_WR is EPIPE (SIGPIPE blocked here)."""
    async def server(sys, c, got):
        got["server read"] = await read_all(sys, c)
        await sys.send(c, b"answer")
        await sys.close(c)

    async def client(sys, s, got):
        await sys.sigprocmask(S.SIG_BLOCK, [S.SIGPIPE])
        await sys.send(s, b"question")
        await sys.shutdown(s, PS.SHUT_WR)
        got["send after shutdown"] = await errno_of(sys.send(s, b"more"))
        got["client read"] = await read_all(sys, s)
        got["again"] = await sys.recv(s, 10)
    got = echo_pair(k, server, client)
    assert got["server read"] == b"question" and got["client read"] == b"answer" and got["again"] == b""
    assert got["send after shutdown"] == "EPIPE"


def test_close_with_unread_data_resets_and_peer_sees_econnreset(k):
    """close() with unread data sends RST (RFC 2525): the peer's next recv fails with ECONNRESET and a
    send after that is EPIPE, killing it with SIGPIPE unless MSG_NOSIGNAL."""
    async def server(sys, c, got):
        await sys.nanosleep(0.01)  # the client's data arrives and is never read
        await sys.close(c)

    async def client(sys, s, got):
        await sys.send(s, b"unread")
        await sys.nanosleep(0.02)
        got["recv"] = await errno_of(sys.recv(s, 10))
        got["send nosignal"] = await errno_of(sys.send(s, b"x", PS.MSG_NOSIGNAL))
        got["send"] = await errno_of(sys.send(s, b"x"))
        got["survived"] = True
    got = echo_pair(k, server, client)
    assert got["recv"] == "ECONNRESET" and got["send nosignal"] == "EPIPE"
    assert "survived" not in got  # SIGPIPE's default action killed the client
    assert k.net.snmp["TcpExt"]["TCPAbortOnClose"] == 1


def test_socket_state_errnos(k):
    """accept on UDP is EOPNOTSUPP, on a non-listening stream EINVAL; recv on an unconnected stream
    ENOTCONN; listen on a connected one EINVAL; getpeername unconnected ENOTCONN; connect twice EISCONN."""
    got = {}

    async def main(sys):
        u = await sys.socket(AF_INET, PS.SOCK_DGRAM)
        t = await sys.socket(AF_INET, SOCK_STREAM)
        got["accept udp"] = await errno_of(sys.accept(u))
        got["accept unlistened"] = await errno_of(sys.accept(t))
        got["recv unconnected"] = await errno_of(sys.recv(t, 10))
        got["getpeername"] = await errno_of(sys.getpeername(t))
        got["accept4 flags"] = await errno_of(sys.accept4(t, 1))
        l = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(l, ("127.0.0.1", 7000))
        await sys.listen(l, 4)
        c = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(c, ("127.0.0.1", 7000))
        got["connect twice"] = await errno_of(sys.connect(c, ("127.0.0.1", 7000)))
        got["listen connected"] = await errno_of(sys.listen(c, 4))
        n, peer = await sys.accept(l)
        got["accepted peer"] = peer == await sys.getsockname(c)
        got["bind in use"] = await errno_of(sys.bind(await sys.socket(AF_INET, SOCK_STREAM), ("127.0.0.1", 7000)))
    spawn_run(k, main, clean=True)
    assert got == {"accept udp": errno.errorcode[errno.EOPNOTSUPP], "accept unlistened": "EINVAL", "recv unconnected": "ENOTCONN",
                   "getpeername": "ENOTCONN", "accept4 flags": "EINVAL", "connect twice": "EISCONN",
                   "listen connected": "EINVAL", "accepted peer": True, "bind in use": "EADDRINUSE"}


def test_time_wait_holds_the_port_unless_so_reuseaddr(k):
    """After an active close the port stays in TIME_WAIT: bind() is EADDRINUSE without SO_REUSEADDR,
    succeeds with it on both sockets, and after TIME_WAIT ends succeeds anyway."""
    k.net.sysctl("glasskernel.tcp_timewait_len_ms", 500)
    got = {}

    async def main(sys):
        l = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.setsockopt(l, PS.SOL_SOCKET, PS.SO_REUSEADDR, 1)
        await sys.bind(l, ("127.0.0.1", 7001))
        await sys.listen(l)
        c = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(c, ("127.0.0.1", 7001))
        n, _ = await sys.accept(l)
        await sys.close(l)
        await sys.close(n)       # the server closes first: its side goes to TIME_WAIT
        await sys.nanosleep(0.01)
        await sys.close(c)
        await sys.nanosleep(0.01)
        fresh = await sys.socket(AF_INET, SOCK_STREAM)
        got["no reuse"] = await errno_of(sys.bind(fresh, ("127.0.0.1", 7001)))
        await sys.setsockopt(fresh, PS.SOL_SOCKET, PS.SO_REUSEADDR, 1)
        got["reuse"] = await errno_of(sys.bind(fresh, ("127.0.0.1", 7001)))
        await sys.close(fresh)
        await sys.nanosleep(0.6)
        got["after"] = await errno_of(sys.bind(await sys.socket(AF_INET, SOCK_STREAM), ("127.0.0.1", 7001)))
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=100_000_000)
    assert [s.state_name for s in k.net.sockets if s.local[1] == 7001] == ["TIME_WAIT"]
    run_checked(k)
    assert got == {"no reuse": "EADDRINUSE", "reuse": None, "after": None}


def test_accept_queue_overflow_drops_syns_until_accept_makes_room(k):
    """listen(fd, 1): two connections complete (Linux allows backlog + 1); the next SYN is dropped
    (ListenOverflows) and retried after the initial RTO, completing once accept() has made room."""
    got = {}

    @k.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(s, ("127.0.0.1", 8000))
        await sys.listen(s, 1)
        await sys.nanosleep(0.5)
        for i in range(3):
            await sys.accept(s)
        got["accepted at"] = round(await sys.clock_gettime(), 1)

    @k.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        fds = []
        for i in range(3):
            s = await sys.socket(AF_INET, SOCK_STREAM | PS.SOCK_NONBLOCK)
            await errno_of(sys.connect(s, ("127.0.0.1", 8000)))
            fds.append(s)
        await sys.nanosleep(0.1)
        got["writable at 0.1 s"] = len(await sys.poll([(f, select.POLLOUT) for f in fds], 0))
        await sys.nanosleep(2)
    k.spawn("/bin/srv")
    k.spawn("/bin/cli")
    run_checked(k)
    assert got["writable at 0.1 s"] == 2
    assert k.net.snmp["TcpExt"]["ListenOverflows"] >= 1
    assert got["accepted at"] == 1.0  # the third SYN was retransmitted after TCP_TIMEOUT_INIT


@pytest.mark.net2(latency_ns=5_000_000)
def test_nagle_holds_a_small_segment_until_the_ack_unless_nodelay(net2):
    """Nagle: a second small write waits for the first's ACK (one RTT, 10 ms here); with TCP_NODELAY
    it goes at once."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        for name in ("nagle", "nodelay"):
            c, _ = await sys.accept(s)
            await sys.recv(c, 1)
            t0 = await sys.clock_gettime()
            data = await sys.recv(c, 10)
            got[name] = (data, round((await sys.clock_gettime() - t0) * 1000))

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        for nodelay in (0, 1):
            s = await sys.socket(AF_INET, SOCK_STREAM)
            await sys.setsockopt(s, PS.IPPROTO_TCP, PS.TCP_NODELAY, nodelay)
            await sys.connect(s, ("10.0.0.2", 80))
            await sys.nanosleep(0.05)
            await sys.send(s, b"a")
            await sys.send(s, b"b")
            await sys.nanosleep(0.1)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got["nagle"] == (b"b", 10)   # held for a round trip
    assert got["nodelay"] == (b"b", 0)  # sent right behind the first


def _bulk(loss, size, latency_ns=1_000_000, seed=1, cc=None, jitter_ns=0):
    """A client on one host sends `size` bytes to a server on another over a link with the given
    loss and jitter; returns (what arrived, the payload, the hosts)."""
    net, a, b = two_hosts(latency_ns=latency_ns, loss=loss, seed=seed, jitter_ns=jitter_ns)
    if cc:
        a.net.sysctl("net.ipv4.tcp_congestion_control", cc)
    payload = bytes((i * 7 + 3) % 251 for i in range(size))
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        c, _ = await sys.accept(s)
        got["data"] = await read_all(sys, c)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await connected(sys)
        got["sent"] = await sys.send(s, payload)
        got["tcp"] = [x.tcp for x in a.net.sockets if x.tcp and x.tcp.state == "ESTABLISHED"]
        await sys.close(s)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(until_ns=3_600_000_000_000)
    net.check()
    return got, payload, a, b


@settings(max_examples=16, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(loss=st.sampled_from([0.0, 0.01, 0.05, 0.1]), size=st.integers(1, 300_000), latency_us=st.integers(10, 20_000),
       jitter_us=st.sampled_from([0, 0, 50, 2_000]), seed=st.integers(0, 1000))
def test_lossy_reordering_links_deliver_every_byte_in_order(loss, size, latency_us, jitter_us, seed):
    """Whatever the loss, delay, reordering (jitter) and size, the receiver reads exactly the
    bytes sent, in order."""
    got, payload, a, b = _bulk(loss, size, latency_us * 1000, seed, jitter_ns=jitter_us * 1000)
    assert got.get("data") == payload and got.get("sent") == size


def test_reordered_segments_wait_in_the_out_of_order_queue():
    """A jittery link delivers segments out of order: they wait in the out-of-order queue
    (TCPOFOQueue), duplicate ACKs may trigger spurious fast retransmits, and the data still
    arrives exactly once, in order."""
    got, payload, a, b = _bulk(0.0, 500_000, latency_ns=1_000_000, seed=3, jitter_ns=1_000_000)
    assert got["data"] == payload
    assert b.net.snmp["TcpExt"]["TCPOFOQueue"] > 0


def test_loss_is_repaired_by_retransmission_and_cwnd_reacts():
    """With 3% loss every byte still arrives; segments were retransmitted (fast retransmit or RTO) and
    the slow-start threshold fell below its initial infinity."""
    got, payload, a, b = _bulk(0.03, 400_000, seed=5)
    assert got["data"] == payload
    snmp = a.net.snmp
    assert snmp["Tcp"]["RetransSegs"] > 0
    assert snmp["TcpExt"]["TCPFastRetrans"] + snmp["TcpExt"]["TCPTimeouts"] > 0
    assert min(t.snd_ssthresh for t in got["tcp"]) < 0x7fffffff


@pytest.mark.parametrize("cc", ["cubic", "reno"])
def test_congestion_control_is_selectable(cc):
    """net.ipv4.tcp_congestion_control picks the algorithm new connections use (cubic by default)."""
    got, payload, a, b = _bulk(0.02, 200_000, seed=7, cc=cc)
    assert got["data"] == payload
    assert {t.congestion_control for t in got["tcp"]} == {cc}


def test_retransmission_timeout_backs_off_exponentially(k):
    """Segments to a peer that has gone silent are retransmitted after RTO, 2×RTO, 4×RTO, ...; after
    tcp_retries2 the connection dies with ETIMEDOUT."""
    k.net.sysctl("net.ipv4.tcp_retries2", 4)
    got = {}

    async def main(sys):
        l = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(l, ("127.0.0.1", 7002))
        await sys.listen(l)
        c = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(c, ("127.0.0.1", 7002))
        await sys.accept(l)
        await sys.nanosleep(0.01)
        await sys.send(c, b"into the void")
        got["recv"] = await errno_of(sys.recv(c, 10))
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=5_000_000)
    # From now on nothing arrives: NF_INET_LOCAL_IN drops every packet.
    hook = k.net.nf_register_hook(_core.NF_INET_LOCAL_IN, lambda hook, data, i, o: _core.NF_DROP)
    run_checked(k)
    # The first five: four retransmissions, then giving up (the closes that follow retransmit FINs).
    times = [e.ts for e in k.trace.events if e.name == "tcp_retransmit_timer" and e.type == "entry"][:5]
    gaps = [round((b - a) / 1e6) for a, b in zip(times, times[1:])]
    # Doubling, within the timer wheel's slack: a timeout of seconds lands in a level whose buckets are
    # 64 jiffies wide, so it may fire up to 12.5% late, as in Linux.
    assert all(1.9 * g1 <= g2 <= 2.25 * g1 for g1, g2 in zip(gaps, gaps[1:])), gaps
    assert got["recv"] == "ETIMEDOUT" and hook.dropped >= 5


def test_views_proc_net_tcp_and_ss(k):
    """The TcpSock view, /proc/net/tcp and `ss -tanp` agree on states, queues and owners: 1000 unread
    bytes show as the server's Recv-Q and rx_queue, the listener's Send-Q is its backlog."""
    @k.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(s, ("127.0.0.1", 8000))
        await sys.listen(s, 8)
        await sys.accept(s)
        await sys.pause()

    @k.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.connect(s, ("127.0.0.1", 8000))
        await sys.send(s, b"x" * 1000)
        await sys.pause()
    srv_t = k.spawn("/bin/srv")
    k.spawn("/bin/cli")
    k.run(until_ns=50_000_000)
    ss = k.net.ss().splitlines()
    assert ss[0].split() == ["State", "Recv-Q", "Send-Q", "Local", "Address:Port", "Peer", "Address:Port", "Process"]
    assert ss[1].split() == ["LISTEN", "0", "8", "127.0.0.1:8000", "*:*", f'users:(("srv",pid={srv_t.pid},fd=3))']
    rows = {r.split()[3]: r.split() for r in ss[2:]}
    client_port = [s.local[1] for s in k.net.sockets if s.local[1] != 8000][0]
    assert rows["127.0.0.1:8000"][:3] == ["ESTAB", "1000", "0"]
    assert rows[f"127.0.0.1:{client_port}"][:3] == ["ESTAB", "0", "0"]
    proc = k.net.proc_net_tcp().splitlines()
    assert proc[1].split()[1:4] == ["0100007F:1F40", "00000000:0000", "0A"]
    server_conn = [l for l in proc[2:] if l.split()[1] == "0100007F:1F40"][0]
    assert server_conn.split()[3:5] == ["01", "00000000:000003E8"]
    t = [s for s in k.net.sockets if s.local == ("127.0.0.1", 8000) and s.state_name == "ESTABLISHED"][0].tcp
    assert t.rcv_nxt - t.copied_seq == 1000 and t.congestion_control == "cubic" and t.snd_cwnd == 10
    # The MSS: loopback's 65495, bounded by half the largest window the peer offered (65536 here).
    assert t.mss_cache == 32768 and t.advmss == 65495 and t.rcv_wscale == 7 and t.ca_state == "Open"


@pytest.mark.parametrize("flags, expect", [(0, ("EINTR", None)), (gk.SA_RESTART, (None, b"late"))])
def test_a_signal_interrupts_a_blocked_tcp_read(k, flags, expect):
    """sk_wait_data is interruptible: a handled signal ends the read with EINTR, or restarts it
    with SA_RESTART (sock_intr_errno: -ERESTARTSYS when there is no time-out)."""
    async def on_alarm(sys, signo):
        pass

    async def server(sys, c, got):
        await sys.nanosleep(0.05)
        await sys.send(c, b"late")

    async def client(sys, s, got):
        await sys.sigaction(S.SIGALRM, on_alarm, flags=flags)
        await sys.setitimer(S.ITIMER_REAL, 0.01)
        try:
            got["read"] = await sys.recv(s, 10)
        except OSError as e:
            got["error"] = errname(e)
    got = echo_pair(k, server, client)
    assert (got.get("error"), got.get("read")) == expect


def test_so_rcvtimeo_ends_a_read_with_eagain(k):
    """SO_RCVTIMEO: a read that waits longer than the time-out fails with EAGAIN, after it."""
    async def server(sys, c, got):
        await sys.nanosleep(0.2)

    async def client(sys, s, got):
        await sys.setsockopt(s, PS.SOL_SOCKET, PS.SO_RCVTIMEO, (0).to_bytes(8, "little") + (50_000).to_bytes(8, "little"))
        t0 = await sys.clock_gettime()
        got["read"] = await errno_of(sys.recv(s, 10))
        got["waited"] = round(await sys.clock_gettime() - t0, 2)
    got = echo_pair(k, server, client)
    assert got["read"] == "EAGAIN" and got["waited"] == 0.05


def test_a_writer_blocks_until_the_reader_makes_room(k):
    """A reader that does not read: the receive window closes, the sender's buffer fills and send
    sleeps in sk_stream_wait_memory; zero-window probes keep asking; once the reader drains, every
    byte arrives."""
    size = 3_000_000

    async def server(sys, c, got):
        await sys.nanosleep(1.0)
        got["data"] = len(await read_all(sys, c))

    async def client(sys, s, got):
        got["sent"] = await sys.send(s, b"z" * size)
        await sys.close(s)

    result = echo_pair(k, server, client)
    assert result["sent"] == size and result["data"] == size
    names = {e.name for e in k.trace.events}
    assert "sk_stream_wait_memory" in names and "tcp_probe_timer" in names


def test_keepalive_gives_up_on_a_silent_peer(k):
    """SO_KEEPALIVE with TCP_KEEPIDLE/KEEPINTVL/KEEPCNT: after idle + count × interval of unanswered
    probes the connection is reset and a blocked read fails with ETIMEDOUT."""
    got = {}

    async def main(sys):
        l = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.bind(l, ("127.0.0.1", 7003))
        await sys.listen(l)
        c = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.setsockopt(c, PS.SOL_SOCKET, PS.SO_KEEPALIVE, 1)
        await sys.setsockopt(c, PS.IPPROTO_TCP, PS.TCP_KEEPIDLE, 2)
        await sys.setsockopt(c, PS.IPPROTO_TCP, PS.TCP_KEEPINTVL, 1)
        await sys.setsockopt(c, PS.IPPROTO_TCP, PS.TCP_KEEPCNT, 3)
        await sys.connect(c, ("127.0.0.1", 7003))
        await sys.accept(l)
        t0 = await sys.clock_gettime()
        got["read"] = await errno_of(sys.recv(c, 10))
        got["after"] = round(await sys.clock_gettime() - t0)
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=10_000_000)
    hook = k.net.nf_register_hook(_core.NF_INET_LOCAL_IN, lambda hook, data, i, o: _core.NF_DROP)
    run_checked(k)
    assert got["read"] == "ETIMEDOUT" and got["after"] == 2 + 3 * 1
    assert hook.dropped >= 3


def test_sendmsg_recvmsg_peek_and_trunc_over_tcp(k):
    """sendmsg(2) gathers several buffers into the stream; recvmsg(2) returns bytes up to its buffer
    (msg_flags 0, no peer address on a connected stream); MSG_PEEK leaves them queued; on a stream
    MSG_TRUNC discards what it would have copied."""
    async def server(sys, c, got):
        await sys.nanosleep(0.01)
        got["peek"] = await sys.recv(c, 5, PS.MSG_PEEK)
        got["peek again"] = await sys.recv(c, 5, PS.MSG_PEEK)
        data, ret, flags, addr = await sys.recvmsg(c, 4)
        got["recvmsg"] = (data, ret, flags)
        got["trunc"] = await sys.recv(c, 3, PS.MSG_TRUNC)
        got["rest"] = await read_all(sys, c)

    async def client(sys, s, got):
        got["sent"] = await sys.sendmsg(s, [b"abc", b"defg", b"hij"])
        await sys.close(s)
    got = echo_pair(k, server, client)
    assert got["sent"] == 10 and got["peek"] == got["peek again"] == b"abcde"
    assert got["recvmsg"] == (b"abcd", 4, 0)
    assert len(got["trunc"]) == 3 and got["rest"] == b"hij"


def test_close_after_half_close_in_fin_wait2_hands_over_to_time_wait(net2):
    """shutdown(SHUT_WR), the peer's ACK (FIN_WAIT2), then close() before the peer's FIN: the sock
    gives way to a FIN_WAIT2 timewait sock exactly once (it used to be destroyed twice), which
    takes the peer's FIN and then holds TIME_WAIT."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        c, _ = await sys.accept(s)
        got["eof"] = await sys.recv(c, 10)
        await sys.nanosleep(0.3)
        await sys.close(c)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await connected(sys)
        await sys.shutdown(s, PS.SHUT_WR)
        await sys.nanosleep(0.1)  # the peer's (delayed) ACK of our FIN: FIN_WAIT2
        got["state at close"] = [x.state_name for x in a.net.sockets]
        await sys.close(s)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(for_ns=150_000_000, check=True)
    assert got["state at close"] == ["FIN_WAIT2"]
    assert [s.state_name for s in a.net.sockets] == ["TIME_WAIT"]  # a timewait sock, substate FIN_WAIT2
    puts = [e.args for e in a.trace.events if e.name == "inet_csk_destroy_sock" and e.type == "entry"]
    assert len(puts) == 1
    net.run(check=True)
    assert got["eof"] == b"" and a.net.sockets == []


def test_a_slow_reader_of_tiny_segments_loses_nothing(net2):
    """1000 one-byte segments (TCP_NODELAY) to a reader that sleeps: the window opens only for
    segments worth their memory and consecutive ones are coalesced in the receive queue, so none is
    dropped for want of buffer and the reader gets all 1000 bytes without a single time-out."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        c, _ = await sys.accept(s)
        await sys.nanosleep(100)
        got["data"] = await read_all(sys, c)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        s = await sys.socket(AF_INET, SOCK_STREAM)
        await sys.setsockopt(s, PS.IPPROTO_TCP, PS.TCP_NODELAY, 1)
        await sys.connect(s, ("10.0.0.2", 80))
        for _ in range(1000):
            await sys.send(s, b"x")
            await sys.nanosleep(0.003)
        await sys.close(s)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got["data"] == b"x" * 1000
    assert a.net.snmp["TcpExt"]["TCPTimeouts"] == 0


def test_accept_holds_its_descriptor_number_while_it_sleeps(net2):
    """accept reserves the new descriptor before it sleeps (get_unused_fd_flags): a thread sharing
    the table that opens a pipe meanwhile gets other numbers, and dup2 onto the held one is EBUSY."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        pid = await sys.syscall(gk.NR.clone, 0x400 | 17, 0, None, None, 0)  # CLONE_FILES | SIGCHLD
        if pid == 0:
            await sys.nanosleep(0.005)
            got["thread's pipe"] = await sys.pipe()
            got["dup2 onto the held number"] = await errno_of(sys.dup2(0, 4))
            await sys.exit(0)
        c, _ = await sys.accept(s)
        got["accepted"] = c
        await sys.waitpid(pid)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.02)
        await connected(sys)
        await sys.nanosleep(0.1)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got == {"thread's pipe": (5, 6), "dup2 onto the held number": "EBUSY", "accepted": 4}


def test_the_passive_side_measures_the_handshake_rtt():
    """tcp_synack_rtt_meas: the accepted socket's first RTT sample is the SYN-ACK's round trip, so
    its RTO starts at srtt + max(rttvar, TCP_RTO_MIN) like the connecting side's, not at 1 s."""
    net, a, b = two_hosts(latency_ns=2_000_000)
    rtos = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        await sys.accept(s)
        rtos["server"] = [x.tcp.rto_ms for x in b.net.sockets if x.tcp and x.tcp.state == "ESTABLISHED"]
        await sys.nanosleep(0.01)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        await connected(sys)
        rtos["client"] = [x.tcp.rto_ms for x in a.net.sockets if x.tcp and x.tcp.state == "ESTABLISHED"]
        await sys.nanosleep(0.01)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert rtos["server"] == rtos["client"] and 200 <= rtos["client"][0] <= 212


@pytest.mark.net2(latency_ns=50_000_000)
def test_so_linger_makes_close_wait_for_the_fins_ack(net2):
    """SO_LINGER {on, 5 s}: close() returns once the FIN is acknowledged (one round trip, 100 ms
    here); without it close() returns at once."""
    net, a, b = net2
    got = {}

    @b.program("/bin/srv")
    async def srv(sys):
        s = await listening(sys)
        for _ in range(2):
            c, _ = await sys.accept(s)
            await read_all(sys, c)
            await sys.close(c)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.001)
        for linger in (False, True):
            s = await sys.socket(AF_INET, SOCK_STREAM)
            await sys.connect(s, ("10.0.0.2", 80))
            if linger:
                await sys.setsockopt(s, PS.SOL_SOCKET, PS.SO_LINGER, (1).to_bytes(4, "little") + (5).to_bytes(4, "little"))
            t0 = await sys.clock_gettime()
            await sys.close(s)
            got[linger] = round((await sys.clock_gettime() - t0) * 1000)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run(check=True)
    assert got[False] == 0 and 100 <= got[True] <= 110
