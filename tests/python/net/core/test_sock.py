"""net/core/sock.c (cpp/net/core/sock.cpp): a socket's references and its release path on close;
the send buffer limit (SO_SNDBUF) on a slow link."""
import errno

import glasskernel as gk
from gktest import spawn_run, two_hosts

SOL_SOCKET = 1
MSG_DONTWAIT = 0x40


def test_close_path_and_refcounts():
    """close(2): sock_close -> inet_release -> udp_lib_close -> sk_common_release -> __sk_free; the hash holds a reference."""
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

    spawn_run(k, prog, clean=True)
    assert seen["unbound"] == 1 and seen["bound"] == 2  # the socket's and the hash table's
    assert seen["after"] == []
    ev = [e.name for e in k.trace.events if e.type == "entry"]
    chain = ["close_fd", "sock_close", "__sock_release", "inet_release", "udp_lib_close", "sk_common_release",
             "udp_lib_unhash", "sock_orphan", "__sk_free"]
    pos = [ev.index(n) for n in chain]
    assert pos == sorted(pos)


def test_sndbuf_full_gives_eagain_on_a_slow_link():
    """sock_alloc_send_skb: with SO_SNDBUF full on a slow link, a MSG_DONTWAIT send is EAGAIN."""
    net, a, b = two_hosts(bandwidth_bps=1_000_000)  # 1 Mbit/s: each 1 KB frame takes 8 ms
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
