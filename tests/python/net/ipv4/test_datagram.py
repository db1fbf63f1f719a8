"""net/ipv4/datagram.c (cpp/net/ipv4/datagram.cpp), with af_inet.c's inet_autobind and udp.c's
disconnect: connect(2) on a UDP socket sets its default peer, AF_UNSPEC dissolves it."""
import errno

import glasskernel as gk
from gktest import spawn_run


def test_autobind_connect_disconnect():
    """UDP: no destination is EDESTADDRREQ; sendto autobinds an ephemeral port; connect sets the peer, AF_UNSPEC drops it."""
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

    spawn_run(k, prog, clean=True)
    assert res["destaddr"] == errno.EDESTADDRREQ
    host, port = res["auto"]
    assert host == "0.0.0.0" and 32768 <= port <= 60999
    assert res["peer"] == ("127.0.0.1", 7000)
    assert [d for d, _ in res["got"]] == [b"one", b"two"]
    assert res["got"][0][1] == ("127.0.0.1", port)
    assert res["notconn"] == errno.ENOTCONN and res["port0"] == errno.EINVAL
