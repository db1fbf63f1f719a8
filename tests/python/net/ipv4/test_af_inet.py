"""net/ipv4/af_inet.c (cpp/net/ipv4/af_inet.cpp): inet_init registers the family, its socket types
and protocols; inet_bind's rules; inet_shutdown waking sleepers."""
import errno
import socket as S

import glasskernel as gk
from gktest import spawn_run

SOL_SOCKET, SO_REUSEADDR = 1, 2


def test_inet_init_registers_the_tables():
    """inet_init: AF_INET is registered, inetsw has TCP, UDP and RAW with their ops, inet_protos icmp and udp."""
    k = gk.Kernel()
    p = k.net.protocols
    assert p.net_families == [S.AF_INET]
    sw = [(e.type, e.protocol, e.prot, e.ops, e.flags) for e in p.inetsw]
    assert (S.SOCK_STREAM, S.IPPROTO_TCP, "TCP", "inet_stream_ops", 6) in sw
    assert (S.SOCK_DGRAM, S.IPPROTO_UDP, "UDP", "inet_dgram_ops", 2) in sw
    assert (S.SOCK_RAW, 0, "RAW", "inet_sockraw_ops", 1) in sw
    assert p.inet_protos == {1: "icmp", 6: "tcp", 17: "udp"}
    assert list(p.proto_list) == ["TCP", "UDP", "RAW"]
    assert k.net.devices["lo"].ip == "127.0.0.1"


def test_bind_rules():
    """bind(2): EADDRINUSE, EINVAL (bound, short address), EADDRNOTAVAIL, SO_REUSEADDR, EACCES below 1024 (LTP bind01)."""
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

    spawn_run(k, prog, clean=True)
    assert res["inuse"] == errno.EADDRINUSE and res["again"] == errno.EINVAL
    assert res["notavail"] == errno.EADDRNOTAVAIL and res["short"] == errno.EINVAL
    assert res["reuse"] == (("0.0.0.0", 6000), ("0.0.0.0", 6000))
    assert res["acces"] == errno.EACCES


def test_shutdown_wakes_a_sleeping_reader_of_a_shared_socket(k):
    """inet_shutdown: SHUT_RD wakes each sleeping reader (it reads b""), though an unconnected UDP socket says ENOTCONN."""
    res = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4444))
        pid = await sys.fork()
        if pid == 0:
            res["child read"] = await sys.recv(s, 10)  # sleeps: nothing will be sent
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

    t = spawn_run(k, prog, clean=True)
    assert res["sleeping"] == "S" and res["waiters"] == [t.pid + 1]
    assert res["after_close"] == "S" and res["status"] == 0 and res["shutdown"] == errno.ENOTCONN
    assert res["child read"] == b""
