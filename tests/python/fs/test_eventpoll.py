"""fs/eventpoll.c (cpp/fs/eventpoll.cpp) over UDP sockets and the console: epoll_ctl's rules and
errno, level- and edge-triggered and one-shot readiness, timeouts and signals, ep_poll_callback
fired by sock_def_readable from the receive softirq, nested epoll sets, and watched files leaving
their sets when closed."""
import errno
import select

import pytest

import glasskernel as gk
from gktest import run_checked, spawn_run, udp_client

IN, OUT, ET, ONESHOT = select.EPOLLIN, select.EPOLLOUT, select.EPOLLET, select.EPOLLONESHOT
ADD, DEL, MOD = gk.EPOLL_CTL_ADD, gk.EPOLL_CTL_DEL, gk.EPOLL_CTL_MOD


def test_epoll_ctl_and_wait_errors():
    """epoll_create1/epoll_ctl/epoll_wait: EINVAL, EBADF, ENOENT and EEXIST exactly where Linux gives them."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        async def err(name, coro):
            try:
                await coro
                res[name] = 0
            except OSError as e:
                res[name] = e.errno
        await err("flags", sys.epoll_create1(1))
        await err("size", sys.epoll_create(0))
        e = await sys.epoll_create1()
        s = await sys.socket()
        await err("badepfd", sys.epoll_ctl(99, ADD, s, IN))
        await err("badfd", sys.epoll_ctl(e, ADD, 99, IN))
        await err("notepoll", sys.epoll_ctl(s, ADD, s, IN))
        await err("self", sys.epoll_ctl(e, ADD, e, IN))
        await err("op", sys.epoll_ctl(e, 9, s, IN))
        await err("del_missing", sys.epoll_ctl(e, DEL, s))
        await err("mod_missing", sys.epoll_ctl(e, MOD, s, IN))
        await sys.epoll_ctl(e, ADD, s, IN)
        await err("exists", sys.epoll_ctl(e, ADD, s, IN))
        await err("maxevents", sys.epoll_wait(e, 0, 0))
        await err("wait_notepoll", sys.epoll_wait(s, 1, 0))
        res["empty"] = await sys.epoll_wait(e, 8, 0)

    spawn_run(k, prog, clean=True)
    assert res == {"flags": errno.EINVAL, "size": errno.EINVAL, "badepfd": errno.EBADF, "badfd": errno.EBADF,
                   "notepoll": errno.EINVAL, "self": errno.EINVAL, "op": errno.EINVAL,
                   "del_missing": errno.ENOENT, "mod_missing": errno.ENOENT, "exists": errno.EEXIST,
                   "maxevents": errno.EINVAL, "wait_notepoll": errno.EINVAL, "empty": []}


def test_level_edge_and_oneshot():
    """Level-triggered reports while data is queued, EPOLLET only on new data, EPOLLONESHOT once until EPOLL_CTL_MOD."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        lt, et, one = await sys.socket(), await sys.socket(), await sys.socket()
        for i, s in enumerate((lt, et, one)):
            await sys.bind(s, ("127.0.0.1", 7100 + i))
        c = await sys.socket()
        e = await sys.epoll_create1()
        await sys.epoll_ctl(e, ADD, lt, IN, data=100)
        await sys.epoll_ctl(e, ADD, et, IN | ET, data=200)
        await sys.epoll_ctl(e, ADD, one, IN | ONESHOT, data=300)
        for i in range(3):
            await sys.sendto(c, b"x", ("127.0.0.1", 7100 + i))
        res["first"] = sorted(await sys.epoll_wait(e, 10, 0))
        res["second"] = sorted(await sys.epoll_wait(e, 10, 0))   # only level-triggered stays
        await sys.sendto(c, b"y", ("127.0.0.1", 7101))
        await sys.sendto(c, b"y", ("127.0.0.1", 7102))
        res["third"] = sorted(await sys.epoll_wait(e, 10, 0))    # new data: ET fires again; oneshot stays off
        await sys.epoll_ctl(e, MOD, one, IN | ONESHOT, data=301)  # re-arm
        res["rearmed"] = sorted(await sys.epoll_wait(e, 10, 0))
        res["out"] = await sys.epoll_wait(await sys.epoll_create1(), 1, 0)
        e2 = await sys.epoll_create1()
        await sys.epoll_ctl(e2, ADD, c, OUT)
        res["writable"] = await sys.epoll_wait(e2, 4, 0)

    spawn_run(k, prog, clean=True)
    assert res["first"] == [(100, IN), (200, IN), (300, IN)]
    assert res["second"] == [(100, IN)]
    assert res["third"] == [(100, IN), (200, IN)]
    assert res["rearmed"] == [(100, IN), (301, IN)]
    assert res["out"] == [] and res["writable"] == [(6, OUT)]


@pytest.mark.net2(latency_ns=30_000)
def test_epoll_wait_sleeps_until_data_arrives_from_another_host(net2):
    """epoll_wait sleeps until ep_poll_callback, called by sock_def_readable in the NET_RX softirq, wakes it."""
    net, a, b = net2
    got = {}

    @b.program("/bin/server")
    async def server(sys):
        s1, s2 = await sys.socket(), await sys.socket()
        await sys.bind(s1, ("0.0.0.0", 8001))
        await sys.bind(s2, ("0.0.0.0", 8002))
        e = await sys.epoll_create1()
        await sys.epoll_ctl(e, ADD, s1, IN)
        await sys.epoll_ctl(e, ADD, s2, IN)
        got["events"] = await sys.epoll_wait(e, 8, -1)
        got["data"] = await sys.recvfrom(got["events"][0][0], 100)

    srv = b.spawn("/bin/server")
    udp_client(a, ("10.0.0.2", 8002), [b"wake up"], delay=0.002, path="/bin/client")
    net.run(for_ns=1_000_000, check=True)
    ep = b.net.epoll(srv.pid, 5)
    assert srv.state == "S" and [t.pid for t in ep.waiters] == [srv.pid]
    assert [i.fd for i in ep.items] == [3, 4] and ep.rdllist == []
    assert all(i.wait_queues == 1 for i in ep.items)
    net.run(check=True)
    assert got["events"] == [(4, IN)] and got["data"][0] == b"wake up"
    names = [e.name for e in b.trace.events]
    chain = ["net_rx_action", "__udp_enqueue_schedule_skb", "sock_def_readable", "ep_poll_callback", "try_to_wake_up"]
    i = 0
    for n in chain:  # each one after the previous
        i = names.index(n, i)
    assert b.trace.find("ep_poll_callback").ctx == "softirq"


def test_timeout_signal_and_close_remove():
    """epoll_wait: the timeout is in jiffies; a caught signal is EINTR even with SA_RESTART; close() removes the file."""
    import signal
    k = gk.Kernel()
    res = {}

    async def on_alarm(sys, signo):
        pass

    async def prog(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 7200))
        e = await sys.epoll_create1()
        await sys.epoll_ctl(e, ADD, s, IN)
        t0 = await sys.clock_gettime()
        res["timeout"] = await sys.epoll_wait(e, 4, 20)
        res["waited"] = await sys.clock_gettime() - t0
        await sys.signal(signal.SIGALRM, on_alarm)  # SA_RESTART, yet epoll_wait is not restarted
        await sys.alarm(1)
        try:
            await sys.epoll_wait(e, 4, -1)
        except OSError as err:
            res["eintr"] = err.errno
        pid = await sys.getpid()
        res["before"] = len(k.net.epoll(pid, e).items)
        await sys.close(s)
        res["after"] = len(k.net.epoll(pid, e).items)
        await sys.close(e)

    spawn_run(k, prog, clean=True)
    assert res["timeout"] == [] and 0.019 <= res["waited"] < 0.030  # 20 ms in jiffies, from a jiffy boundary
    assert res["eintr"] == errno.EINTR
    assert res["before"] == 1 and res["after"] == 0
    with pytest.raises(ValueError):
        k.net.epoll(1, 0)


def test_epoll_on_the_console_and_nested_epoll():
    """The console is pollable, and so is an epoll set itself: an outer set reports the inner one readable."""
    k = gk.Kernel()
    res = {}

    async def prog(sys):
        e = await sys.epoll_create1()
        await sys.epoll_ctl(e, ADD, 0, IN)          # the console: readable once the host types
        outer = await sys.epoll_create1()
        await sys.epoll_ctl(outer, ADD, e, IN)      # an epoll set is itself pollable
        res["outer"] = await sys.epoll_wait(outer, 4, -1)
        res["inner"] = await sys.epoll_wait(e, 4, 0)
        res["line"] = await sys.read(0, 100)

    k.program("/bin/t")(prog)
    t = k.spawn("/bin/t")
    run_checked(k)
    assert t.state == "S"
    k.console_input("hello\n")
    run_checked(k)
    assert res == {"outer": [(3, IN)], "inner": [(0, IN)], "line": b"hello\n"}
