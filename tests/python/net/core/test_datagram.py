"""net/core/datagram.c (cpp/net/core/datagram.cpp): a reader asleep in __skb_wait_for_more_packets
is interrupted by a caught signal (EINTR) or restarted (SA_RESTART)."""
import errno

import glasskernel as gk
from gktest import spawn_run


def test_a_signal_interrupts_or_restarts_a_blocked_recvfrom():
    """__skb_wait_for_more_packets: a caught signal ends a blocked recvfrom with EINTR, or restarts it under SA_RESTART."""
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

    spawn_run(k, prog, clean=True)
    assert res["eintr"] == errno.EINTR and k.console.count("alarm") == 2
    assert res["restarted"][0] == b"late"
