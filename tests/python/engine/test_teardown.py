"""Teardown (the Kernel object's in cpp/init/main.cpp, the network's in cpp/engine/network.cpp):
dropping a kernel, or a network of them, at any point is safe: tasks asleep in nanosleep,
recvfrom, epoll_wait, a kernel thread in msleep, frames in flight on a link, a stop inside a
self-reaped task. Each of these once risked destroying a queued timer or wait entry still linked."""
import gc
import select

import glasskernel as gk
from gktest import sigchld_ignored, two_hosts


def _sleepers(k):
    @k.program("/bin/nap")
    async def nap(sys):
        await sys.nanosleep(5)

    @k.program("/bin/reader")
    async def reader(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 5000))
        await sys.recvfrom(s, 10)

    @k.program("/bin/poller")
    async def poller(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 5001))
        e = await sys.epoll_create1()
        await sys.epoll_ctl(e, gk.EPOLL_CTL_ADD, s, select.EPOLLIN)
        await sys.epoll_wait(e, 1, -1)

    async def napper(kt):
        while True:
            await kt.msleep(100)

    for p in ("/bin/nap", "/bin/reader", "/bin/poller"):
        k.spawn(p)
    k.kthread_run(napper, "napper")


def test_dropping_a_kernel_with_sleepers():
    """A kernel dropped with tasks asleep on timers, sockets, an epoll set and a kthread in msleep frees cleanly."""
    for _ in range(3):
        k = gk.Kernel(cpus=2)
        _sleepers(k)
        k.run(for_ns=2_000_000)
        k.check()
        assert sum(t.state == "S" or t.state == "D" for t in k.tasks) >= 4
        del k
        gc.collect()


def test_dropping_a_network_mid_flight():
    """A network dropped with frames on the wire frees cleanly in either order; the survivor's NIC loses its carrier."""
    for order in ("ab", "ba"):
        net, a, b = two_hosts(("a", "b"), latency_ns=500_000)
        _sleepers(b)

        @a.program("/bin/burst")
        async def burst(sys):
            s = await sys.socket()
            for i in range(20):
                await sys.sendto(s, b"x" * 1000, ("10.0.0.2", 5000))

        a.spawn("/bin/burst")
        net.run(for_ns=600_000)  # frames are on the wire
        assert b.net.devices["eth0"].rx_ring or a.net.devices["eth0"].tx_ring
        hosts = [a, b] if order == "ab" else [b, a]
        del net, a, b
        first, second = hosts
        del hosts
        del first
        gc.collect()
        second.check()
        second.run(for_ns=1_000_000)  # the peer is gone: its NIC has no carrier
        del second
        gc.collect()


def test_kernel_dropped_while_stopped_in_a_self_reaped_task():
    """Teardown unwinds a self-released task's suspended kernel stack while its stack cache exists."""
    k = gk.Kernel(cpus=1, seed=0)
    sigchld_ignored(k)
    while (st := k.step("switch")) is not None and not (st.task is not None and st.task.reaped):
        pass
    assert st is not None
    child = st.task
    del k, st
    gc.collect()
    assert child.reaped and child.exit_code == 0   # the view outlives the kernel's own references


def test_dropping_a_kernel_stopped_in_a_real_time_task():
    """A stop holds its task: a SCHED_FIFO task stopped inside sched_yield is still on its rt_rq
    list when the kernel is dropped, and must be unlinked before it is freed (it was freed linked
    after the destructor's body: the fuzzer's seed 947673, a Boost.Intrusive assertion)."""
    import subprocess
    import sys
    child = r'''
import gc, os, glasskernel as gk
k = gk.Kernel()
@k.program("/bin/rt")
async def rt(sys):
    await sys.sched_setscheduler(0, os.SCHED_FIFO, 10)
    while True:
        await sys.sched_yield()
k.spawn("/bin/rt")
stop = k.run(until=k.break_at("do_sched_yield"))
print(stop.reason, stop.task.policy, flush=True)
del stop, k
gc.collect()
print("dropped", flush=True)
'''
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["breakpoint", "1", "dropped"]
