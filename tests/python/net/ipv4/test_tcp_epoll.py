"""An epoll-driven TCP echo server on one host and clients on another over a lossy link: every
message comes back whole, and the wake-up runs from the NIC interrupt through tcp_v4_rcv,
tcp_rcv_established, tcp_data_ready and sock_def_readable to ep_poll_callback and epoll_wait."""
import select
import socket as PS

import pytest

from gktest import two_hosts

EPOLLIN, EPOLLET = select.EPOLLIN, select.EPOLLET


def echo_world(loss=0.02, clients=3, messages=20, seed=2):
    net, a, b = two_hosts(latency_ns=500_000, loss=loss, seed=seed)
    got = {"echoed": {}, "server": {}}

    @b.program("/bin/echod")
    async def echod(sys):
        lfd = await sys.socket(2, PS.SOCK_STREAM | PS.SOCK_NONBLOCK)
        await sys.bind(lfd, ("0.0.0.0", 7))
        await sys.listen(lfd, 16)
        ep = await sys.epoll_create1()
        await sys.epoll_ctl(ep, 1, lfd, EPOLLIN)
        got["server"]["pid"] = await sys.getpid()
        open_conns, served = 0, 0
        while served < clients or open_conns:
            for fd, events in await sys.epoll_wait(ep, 16):
                if fd == lfd:
                    while True:
                        try:
                            c, _ = await sys.accept4(lfd, PS.SOCK_NONBLOCK)
                        except BlockingIOError:
                            break
                        await sys.epoll_ctl(ep, 1, c, EPOLLIN)
                        open_conns += 1
                        served += 1
                    continue
                try:
                    data = await sys.recv(fd, 4096)
                except BlockingIOError:
                    continue
                if data:
                    await sys.send(fd, data)
                else:
                    await sys.epoll_ctl(ep, 2, fd)
                    await sys.close(fd)
                    open_conns -= 1
        got["server"]["done"] = True

    def make_client(i):
        async def client(sys):
            await sys.nanosleep(0.001 * (i + 1))
            s = await sys.socket(2, PS.SOCK_STREAM)
            await sys.connect(s, ("10.0.0.2", 7))
            back = []
            for m in range(messages):
                msg = f"client {i} message {m};".encode()
                await sys.send(s, msg)
                data = b""
                while len(data) < len(msg):
                    data += await sys.recv(s, len(msg) - len(data))
                back.append(data)
            await sys.close(s)
            got["echoed"][i] = back
        return client

    for i in range(clients):
        a.program(f"/bin/client{i}")(make_client(i))
        a.spawn(f"/bin/client{i}")
    b.spawn("/bin/echod")
    return net, a, b, got


def test_epoll_echo_server_over_a_lossy_link():
    """Every message of every client comes back whole and in order, despite 2% loss; the server
    saw all clients close and finished; the network is consistent throughout."""
    clients, messages = 3, 20
    net, a, b, got = echo_world(clients=clients, messages=messages)
    net.run(check=True)
    assert got["server"].get("done")
    for i in range(clients):
        assert got["echoed"][i] == [f"client {i} message {m};".encode() for m in range(messages)]
    assert a.net.snmp["Tcp"]["RetransSegs"] + b.net.snmp["Tcp"]["RetransSegs"] > 0


def test_wakeup_chain_from_the_nic_to_epoll_wait():
    """The server sleeps in epoll_wait (ep_poll); a segment's interrupt leads through the NET_RX
    softirq to tcp_v4_rcv → tcp_v4_do_rcv → tcp_rcv_established → tcp_queue_rcv → tcp_data_ready →
    sock_def_readable → ep_poll_callback, which wakes it."""
    net, a, b, got = echo_world(loss=0.0, clients=1, messages=2)
    net.run(for_ns=1_500_000, check=True)
    srv = b.task(got["server"]["pid"])
    assert srv.state == "S" and "ep_poll" in srv.kernel_stack
    net.run(check=True)
    names = [(e.name, e.ctx) for e in b.trace.events]
    chain = ["common_interrupt", "net_rx_action", "gknic_poll", "__netif_receive_skb", "ip_rcv", "ip_local_deliver",
             "tcp_v4_rcv", "tcp_v4_do_rcv", "tcp_rcv_established", "tcp_queue_rcv", "tcp_data_ready",
             "sock_def_readable", "ep_poll_callback", "try_to_wake_up"]
    i = 0
    for name, ctx in names:
        if i < len(chain) and name == chain[i]:
            i += 1
    assert i == len(chain), chain[i:]
    assert b.trace.find("ep_poll_callback").ctx == "softirq"
