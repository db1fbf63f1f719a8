"""net/socket.c (cpp/net/socket.cpp): the socket system calls. socket(2) through sock_create to
the family's create, with Linux's errno for each bad argument; read/write on a socket through
sock_read_iter; and random sequences of socket calls (hypothesis) that must each succeed or fail
with an errno while the kernel's self-check holds."""
import errno
import socket as S

from hypothesis import given, settings, strategies as st

import glasskernel as gk
from gktest import run_checked, spawn_run


def test_socket_creation_chain_and_errors():
    """socket(2): __sys_socket -> sock_create -> inet_create; bad arguments, EMFILE and unprivileged SOCK_RAW fail (LTP socket01)."""
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

    spawn_run(k, prog, clean=True)
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


def test_read_on_a_socket_follows_seed_001s_chain():
    """read(2) of a UDP socket goes vfs_read -> sock_read_iter -> sock_recvmsg -> inet_recvmsg -> udp_recvmsg."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 4300))
        c = await sys.socket()
        await sys.connect(c, ("127.0.0.1", 4300))
        res["write"] = await sys.write(c, b"via write")
        res["read"] = await sys.read(s, 100)

    spawn_run(k, prog, clean=True)
    assert res == {"write": 9, "read": b"via write"}
    tree = k.trace.tree("ksys_read", args=False)
    chain = ["vfs_read", "new_sync_read", "sock_read_iter", "sock_recvmsg", "sock_recvmsg_nosec", "inet_recvmsg",
             "udp_recvmsg", "__skb_recv_udp", "__skb_recv_datagram"]
    pos = [tree.index("|-" + n) for n in chain]
    assert pos == sorted(pos)


# ---- random sequences of socket calls ----

HOSTS = ["127.0.0.1", "0.0.0.0", "10.1.1.1", "255.255.255.255", "127.0.0.2"]
op = st.one_of(
    st.tuples(st.just("socket"), st.sampled_from([1, 2, 3, 5, 99, -1]), st.sampled_from([0, 1, 6, 17, 255, 999])),
    st.tuples(st.just("bind"), st.integers(0, 7), st.sampled_from(HOSTS), st.sampled_from([0, 80, 5000, 65535])),
    st.tuples(st.just("connect"), st.integers(0, 7), st.sampled_from(HOSTS + [None]), st.sampled_from([0, 5000])),
    st.tuples(st.just("sendto"), st.integers(0, 7), st.sampled_from([0, 1, 1500, 4000, 70000]), st.sampled_from(HOSTS),
              st.sampled_from([5000, 0])),
    st.tuples(st.just("recv"), st.integers(0, 7), st.sampled_from([0, 1, 100, 100000])),
    st.tuples(st.just("close"), st.integers(0, 7)),
    st.tuples(st.just("shutdown"), st.integers(0, 7), st.integers(-1, 3)),
    st.tuples(st.just("setsockopt"), st.integers(0, 7), st.sampled_from([0, 1, 99]), st.integers(0, 40), st.integers(-2, 1 << 20)),
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(op, max_size=25))
def test_random_socket_calls_keep_the_kernel_consistent(ops):
    """Whatever the arguments, each socket call succeeds or fails with an errno; program and kernel survive, self-checked."""
    k = gk.Kernel()
    seen_errnos = set()

    @k.program("/bin/fuzz")
    async def fuzz(sys):
        for o in ops:
            try:
                if o[0] == "socket":
                    await sys.socket(2, o[1], o[2])
                elif o[0] == "bind":
                    await sys.bind(o[1], (o[2], o[3]))
                elif o[0] == "connect":
                    await sys.connect(o[1], None if o[2] is None else (o[2], o[3]))
                elif o[0] == "sendto":
                    await sys.sendto(o[1], bytes(o[2]), (o[3], o[4]), 0x40)
                elif o[0] == "recv":
                    await sys.recvfrom(o[1], o[2], 0x40)
                elif o[0] == "close":
                    await sys.close(o[1])
                elif o[0] == "shutdown":
                    await sys.shutdown(o[1], o[2])
                else:
                    await sys.setsockopt(o[1], o[2], o[3], o[4])
            except OSError as e:
                seen_errnos.add(e.errno)

    t = k.spawn("/bin/fuzz")
    run_checked(k)
    assert t.traceback is None, t.traceback
    assert seen_errnos <= set(errno.errorcode)
    assert k.net.sockets == []  # every socket closed when the program exited
    assert k.net.snmp["live_skbs"] == 0
