"""`make bench`: ns per operation of the simulated kernel next to the same operation on this
machine's real kernel, measured in the same run. No thresholds: figures to read and record."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types

import glasskernel as gk


def timeit(fn, ops: int, repeat: int = 3) -> float:
    """Best of `repeat` runs, in ns per op."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        fn()
        best = min(best, (time.perf_counter_ns() - t0) / ops)
    return best


# ---- Python programs on the simulated kernel ----

def sim_py_getpid(n: int) -> float:
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/b")
        async def b(sys):
            for _ in range(n):
                await sys.getpid()
        k.spawn("/bin/b")
        k.run()
    return timeit(once, n)


def coroutine_floor(n: int) -> float:
    @types.coroutine
    def op():
        return (yield (gk.NR.getpid,))

    async def prog():
        for _ in range(n):
            await op()

    def once():
        c = prog()
        v = None
        try:
            while True:
                c.send(v)
                v = 1
        except StopIteration:
            pass
    return timeit(once, n)


def sim_py_fork(n: int) -> float:
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/f")
        async def f(sys):
            for _ in range(n):
                pid = await sys.fork()
                if pid == 0:
                    await sys.exit(0)
                await sys.waitpid(pid, 0)
        k.spawn("/bin/f")
        k.run()
    return timeit(once, n)


def sim_py_first_fork(n: int) -> float:
    """n processes that each fork once: fork cost without a long log to replay."""
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/f1")
        async def f1(sys):
            pid = await sys.fork()
            if pid == 0:
                await sys.exit(0)
            await sys.waitpid(pid, 0)
        for _ in range(n):
            k.spawn("/bin/f1")
            k.run()  # one at a time: init's wait4 scans all its children, as Linux's does
    return timeit(once, n)


def sim_py_signal(n: int) -> float:
    import signal

    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/s")
        async def s(sys):
            async def h(sys, signo):
                pass
            await sys.sigaction(signal.SIGUSR1, h)
            me = await sys.getpid()
            for _ in range(n):
                await sys.kill(me, signal.SIGUSR1)
        k.spawn("/bin/s")
        k.run()
    return timeit(once, n)


def real_py_signal(n: int) -> float:
    import signal
    count = [0]

    def h(signo, frame):
        count[0] += 1
    old = signal.signal(signal.SIGUSR1, h)
    me = os.getpid()

    def once():
        for _ in range(n):
            os.kill(me, signal.SIGUSR1)
    try:
        return timeit(once, n)
    finally:
        signal.signal(signal.SIGUSR1, old)


# ---- the real kernel, from Python ----

def real_py_getpid(n: int) -> float:
    def once():
        g = os.getpid
        for _ in range(n):
            g()
    return timeit(once, n)


def sim_py_udp(n: int) -> float:
    """A Python program sends a 64-byte datagram to itself over lo and receives it, n times."""
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/u")
        async def u(sys):
            srv, cli = await sys.socket(), await sys.socket()
            await sys.bind(srv, ("127.0.0.1", 9000))
            payload = bytes(64)
            for _ in range(n):
                await sys.sendto(cli, payload, ("127.0.0.1", 9000))
                await sys.recvfrom(srv, 2048)
        k.spawn("/bin/u")
        k.run()
    return timeit(once, n)


def sim_py_udp_two(rounds: int) -> float:
    """Two Python programs ping-pong a 64-byte datagram over lo; per datagram."""
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/srv")
        async def srv(sys):
            s = await sys.socket()
            await sys.bind(s, ("127.0.0.1", 9000))
            for _ in range(rounds):
                data, addr = await sys.recvfrom(s, 2048)
                await sys.sendto(s, data, addr)

        @k.program("/bin/cli")
        async def cli(sys):
            await sys.nanosleep(0.000001)
            s = await sys.socket()
            payload = bytes(64)
            for _ in range(rounds):
                await sys.sendto(s, payload, ("127.0.0.1", 9000))
                await sys.recvfrom(s, 2048)
        k.spawn("/bin/srv")
        k.spawn("/bin/cli")
        k.run()
    return timeit(once, 2 * rounds)


def sim_py_pipe_pingpong(rounds: int, use_epoll: bool = False) -> float:
    """Two Python programs bounce a byte over two pipes; per message (each one a wake-up of a
    reader sleeping in pipe_read, or in epoll_wait with use_epoll)."""
    def once():
        k = gk.Kernel(trace=False)

        @k.program("/bin/pp")
        async def pp(sys):
            a_r, a_w = await sys.pipe()
            b_r, b_w = await sys.pipe()
            mine, peer = (a_r, b_w) if await sys.fork() == 0 else (b_r, a_w)
            child = mine == a_r
            if use_epoll:
                ep = await sys.epoll_create1()
                await sys.epoll_ctl(ep, gk.EPOLL_CTL_ADD, mine, 1)
            if not child:
                await sys.write(peer, b"x")
            for _ in range(rounds):
                if use_epoll:
                    await sys.epoll_wait(ep, 1)
                await sys.read(mine, 1)
                await sys.write(peer, b"x")
        k.spawn("/bin/pp")
        k.run()
    return timeit(once, 2 * rounds)


def real_py_pipe_pingpong(rounds: int, use_epoll: bool = False) -> float:
    import select
    def once():
        a_r, a_w = os.pipe()
        b_r, b_w = os.pipe()
        pid = os.fork()
        mine, peer = (a_r, b_w) if pid == 0 else (b_r, a_w)
        if use_epoll:
            ep = select.epoll()
            ep.register(mine, select.EPOLLIN)
        if pid:
            os.write(peer, b"x")
        for _ in range(rounds):
            if use_epoll:
                ep.poll(-1, 1)
            os.read(mine, 1)
            os.write(peer, b"x")
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        for fd in (a_r, a_w, b_r, b_w):
            os.close(fd)
    return timeit(once, 2 * rounds)


def _sim_tcp(serve, talk, nodelay=False):
    """One connection between two hosts (10 us apart): b accepts on port 80 and hands the socket to
    `serve(sys, c)`; a connects and hands its socket to `talk(sys, s)`, then closes it."""
    net = gk.Network(seed=0)
    a, b = net.host("a", trace=False), net.host("b", trace=False)
    net.link(a, b, latency_ns=10_000)

    @b.program("/bin/srv")
    async def srv(sys):
        s = await sys.socket(2, 1)
        await sys.bind(s, ("0.0.0.0", 80))
        await sys.listen(s)
        c, _ = await sys.accept(s)
        if nodelay:
            await sys.setsockopt(c, 6, 1, 1)
        await serve(sys, c)

    @a.program("/bin/cli")
    async def cli(sys):
        await sys.nanosleep(0.0001)
        s = await sys.socket(2, 1)
        if nodelay:
            await sys.setsockopt(s, 6, 1, 1)
        await sys.connect(s, ("10.0.0.2", 80))
        await talk(sys, s)
        await sys.close(s)
    b.spawn("/bin/srv")
    a.spawn("/bin/cli")
    net.run()


def _real_tcp(serve, talk, nodelay=False):
    """The same on this machine over loopback: a forked child serves, this process talks."""
    import socket
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen()
    pid = os.fork()
    if pid == 0:
        c, _ = l.accept()
        if nodelay:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        serve(c)
        os._exit(0)
    s = socket.create_connection(l.getsockname())
    if nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    talk(s)
    s.close()
    os.waitpid(pid, 0)
    l.close()


def sim_py_tcp_rr(rounds: int) -> float:
    """A 64-byte request and its response between two hosts over TCP; per round trip (wall time)."""
    async def echo(sys, c):
        while data := await sys.recv(c, 64):
            await sys.send(c, data)

    async def ask(sys, s):
        msg = bytes(64)
        for _ in range(rounds):
            await sys.send(s, msg)
            await sys.recv(s, 64)
    return timeit(lambda: _sim_tcp(echo, ask, nodelay=True), rounds)


def real_py_tcp_rr(rounds: int) -> float:
    def echo(c):
        while data := c.recv(64):
            c.sendall(data)

    def ask(s):
        msg = bytes(64)
        for _ in range(rounds):
            s.sendall(msg)
            s.recv(64)
    return timeit(lambda: _real_tcp(echo, ask, nodelay=True), rounds)


def sim_py_tcp_bulk(nbytes: int) -> float:
    """Bulk TCP transfer between two hosts (1 Gb/s link): wall ns per MiB moved."""
    payload = bytes(1 << 20)

    async def drain(sys, c):
        while await sys.recv(c, 1 << 20):
            pass

    async def pour(sys, s):
        for _ in range(nbytes >> 20):
            await sys.send(s, payload)
    return timeit(lambda: _sim_tcp(drain, pour), nbytes >> 20, repeat=2)


def real_py_tcp_bulk(nbytes: int) -> float:
    payload = bytes(1 << 20)

    def drain(c):
        while c.recv(1 << 20):
            pass

    def pour(s):
        for _ in range(nbytes >> 20):
            s.sendall(payload)
    return timeit(lambda: _real_tcp(drain, pour), nbytes >> 20, repeat=2)


def real_py_udp_two(rounds: int) -> float:
    import socket
    def once():
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        addr = srv.getsockname()
        pid = os.fork()
        if pid == 0:
            for _ in range(rounds):
                data, peer = srv.recvfrom(2048)
                srv.sendto(data, peer)
            os._exit(0)
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        payload = bytes(64)
        for _ in range(rounds):
            cli.sendto(payload, addr)
            cli.recvfrom(2048)
        os.waitpid(pid, 0)
        srv.close()
        cli.close()
    return timeit(once, 2 * rounds)


def real_py_udp(n: int) -> float:
    import socket
    def once():
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        addr = srv.getsockname()
        payload = bytes(64)
        for _ in range(n):
            cli.sendto(payload, addr)
            srv.recvfrom(2048)
        srv.close()
        cli.close()
    return timeit(once, n)


def real_py_fork(n: int) -> float:
    def once():
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
    return timeit(once, n, repeat=2)


def cpp_results(binary: str) -> dict[str, float]:
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_min_time=0.5"], check=True,
                         capture_output=True, text=True).stdout
    res = {}
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    for b in json.loads(out)["benchmarks"]:
        per_iter = b.get("ops_per_iter", 1.0) or 1.0
        res[b["name"]] = b["real_time"] * scale[b["time_unit"]] / per_iter
    return res


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cpp", help="path of the gk_bench binary")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    scale = 10 if a.quick else 1
    rows = []
    if a.cpp:
        c = cpp_results(a.cpp)
        rows.append(("context switch (C++ kthreads ping-pong on a wait queue)", c["BM_sim_context_switch"],
                     "pipe ping-pong, 2 processes (per switch)", c["BM_real_pipe_pingpong"]))
        rows.append(("fork+exit+wait, C++ program", c["BM_sim_fork_exit_wait"], "fork/_exit/waitpid (C)",
                     c["BM_real_fork_exit_wait"]))
        rows.append(("getpid, C++ program", c["BM_sim_getpid"], "raw getpid syscall (C)", c["BM_real_getpid"]))
        rows.append(("signal to self + handler, C++ program", c["BM_sim_signal_roundtrip"], "kill(getpid()) + handler (C)",
                     c["BM_real_signal_roundtrip"]))
        # No user-space equivalent of a hardware interrupt exists; the signal round trip is the
        # nearest asynchronous entry into a handler that the host offers.
        rows.append(("interrupt entry+handler+exit (common_interrupt)", c["BM_sim_irq_entry_exit"],
                     "nearest: signal to self + handler (C)", c["BM_real_signal_roundtrip"]))
        rows.append(("softirq raise + handle (local_bh_enable)", c["BM_sim_softirq_raise_handle"],
                     "nearest: signal to self + handler (C)", c["BM_real_signal_roundtrip"]))
        rows.append(("UDP datagram over lo, send+receive, C++ (kernel sockets)", c["BM_sim_udp_loopback"],
                     "UDP over this machine's loopback (C)", c["BM_real_udp_loopback"]))
        rows.append(("UDP ping-pong between two C++ programs, per datagram", c["BM_sim_udp_two_programs"],
                     "two processes ping-pong over loopback (C)", c["BM_real_udp_two_processes"]))
        rows.append(("pipe ping-pong between two C++ programs, per message", c["BM_sim_pipe_pingpong"],
                     "pipe ping-pong, 2 processes (C)", c["BM_real_pipe_pingpong"]))
        rows.append(("scheduling decision: sched_yield, alone on the CPU", c["BM_sim_sched_yield_alone"],
                     "sched_yield() (C)", c["BM_real_sched_yield"]))
        rows.append(("sched_yield with 8 runnable (decision + switch)", c["BM_sim_sched_yield_8"],
                     "sched_yield() (C)", c["BM_real_sched_yield"]))
    floor = coroutine_floor(200_000 // scale)
    rows.append(("getpid, Python program", sim_py_getpid(200_000 // scale), "bare coroutine driver (floor)", floor))
    rows.append(("getpid, Python program", sim_py_getpid(200_000 // scale), "os.getpid() from Python", real_py_getpid(1_000_000 // scale)))
    rows.append(("signal to self + handler, Python program", sim_py_signal(20_000 // scale), "os.kill(os.getpid()) + handler",
                 real_py_signal(20_000 // scale)))
    rows.append(("UDP datagram over lo, send+receive, Python program", sim_py_udp(20_000 // scale),
                 "UDP over this machine's loopback (Python)", real_py_udp(20_000 // scale)))
    rows.append(("UDP ping-pong between two Python programs, per datagram", sim_py_udp_two(10_000 // scale),
                 "two processes ping-pong over loopback (Python)", real_py_udp_two(10_000 // scale)))
    rows.append(("pipe ping-pong between two Python programs, per message", sim_py_pipe_pingpong(10_000 // scale),
                 "os.pipe ping-pong, 2 processes (Python)", real_py_pipe_pingpong(10_000 // scale)))
    rows.append(("epoll wake-up round trip over pipes, Python, per wake-up", sim_py_pipe_pingpong(10_000 // scale, True),
                 "select.epoll on os.pipe, 2 processes (Python)", real_py_pipe_pingpong(10_000 // scale, True)))
    rows.append(("TCP request/response between two hosts, Python, per round trip", sim_py_tcp_rr(5_000 // scale),
                 "loopback TCP ping-pong, 2 processes (Python)", real_py_tcp_rr(5_000 // scale)))
    rows.append(("TCP bulk transfer between two hosts, Python, per MiB", sim_py_tcp_bulk((32 // scale) << 20),
                 "loopback TCP bulk, 2 processes (Python), per MiB", real_py_tcp_bulk((32 // scale) << 20)))
    real_fork = real_py_fork(300 // scale)
    rows.append(("fork+exit+wait, Python, 1st fork of a process", sim_py_first_fork(2000 // scale), "os.fork/os.waitpid", real_fork))
    rows.append(("fork+exit+wait, Python, loop of 100 (replay grows)", sim_py_fork(100), "os.fork/os.waitpid", real_fork))
    rows.append(("fork+exit+wait, Python, loop of 1000 (replay grows)", sim_py_fork(1000 // scale), "os.fork/os.waitpid", real_fork))
    w = max(len(r[0]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    print(f"{'simulated operation':<{w}} {'ns/op':>10}   {'compared with':<{w2}} {'ns/op':>10} {'sim/real':>9}")
    for name, sim, other, real in rows:
        print(f"{name:<{w}} {sim:>10.0f}   {other:<{w2}} {real:>10.0f} {sim / real:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
