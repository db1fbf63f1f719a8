"""fs/select.c (cpp/fs/select.cpp): poll(2) and select(2) over pipes and sockets -- pollwake
entries on every wait queue a file names, time-outs in virtual time, POLLNVAL and EBADF for closed
descriptors, EINTR (never restarted after a handler, even with SA_RESTART), the restart that keeps
the original end time when no handler ran, and select's write-back of the time left."""
import os
import resource
import select
import signal as S
import types

import glasskernel as gk
from glasskernel import InOut
from gktest import errname, errno_of, run_checked, spawn_run

POLLIN, POLLOUT, POLLHUP, POLLERR, POLLNVAL = select.POLLIN, select.POLLOUT, select.POLLHUP, select.POLLERR, select.POLLNVAL


@types.coroutine
def call(*request):
    """A typed request as the Sys methods make them, for results the methods do not return."""
    return (yield request)


def test_poll_times_out_in_virtual_time(k):
    """poll(2) on an empty pipe with a 20 ms time-out returns nothing after 20 ms of virtual time;
    a zero time-out does not sleep at all."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        t0 = await sys.clock_gettime()
        got["zero"] = await sys.poll([(r, POLLIN)], 0)
        t1 = await sys.clock_gettime()
        got["20 ms"] = await sys.poll([(r, POLLIN)], 20)
        t2 = await sys.clock_gettime()
        got["waited"] = (t1 - t0 < 0.0001, 0.020 <= t2 - t1 < 0.0205)
    spawn_run(k, main, clean=True)
    assert got == {"zero": [], "20 ms": [], "waited": (True, True)}


def test_poll_sleeps_on_pollwake_entries_until_a_write(k):
    """The first pass hangs a pollwake entry on each queue pipe_poll names (rd_wait for a read end);
    a write wakes the poller, which polls again and reports POLLIN."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["pid"] = await sys.getpid()
        if await sys.fork() == 0:
            await sys.nanosleep(0.01)
            await sys.write(w, b"x")
            await sys.exit(0)
        got["ready"] = await sys.poll([(r, POLLIN)], -1)
        got["at"] = await sys.clock_gettime()
        await sys.wait()
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=5_000_000)
    poller = k.task(got["pid"])
    assert poller.state == "S"
    pipe = k.pipe(poller.pid, 3)
    assert [(e.task.pid, e.func, e.exclusive) for e in pipe.rd_wait] == [(poller.pid, "pollwake", False)]
    assert pipe.wr_wait == []  # a read end is woken through rd_wait only
    run_checked(k)
    assert got["ready"] == [(3, POLLIN)] and got["at"] >= 0.01
    assert "pollwake" in k.trace.tree("pipe_write", args=False)
    assert k.pipes == []


def test_poll_reports_hangup_error_and_invalid(k):
    """revents: POLLHUP on a read end without writers (with POLLIN while data is left), POLLERR on a
    write end without readers, POLLNVAL for a closed descriptor, nothing for a negative one; POLLHUP
    and POLLERR are reported even when not asked for."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        r2, w2 = await sys.pipe()
        await sys.write(w, b"left")
        await sys.close(w)
        await sys.close(r2)
        got["poll"] = await sys.poll([(r, 0), (w2, POLLOUT), (w, POLLIN), (-1, POLLIN)], 0)
        got["map"] = await sys.poll({r: POLLIN}, 0)
    spawn_run(k, main, clean=True)
    assert got["poll"] == [(3, POLLHUP), (6, POLLOUT | POLLERR), (4, POLLNVAL)]
    assert got["map"] == [(3, POLLIN | POLLHUP)]


def test_poll_is_not_restarted_after_a_handler_even_with_sa_restart(k):
    """A handled signal ends poll with EINTR whatever SA_RESTART says (-ERESTARTNOHAND)."""
    got = {}

    async def on_alarm(sys, signo):
        got["handled"] = signo

    async def main(sys):
        await sys.sigaction(S.SIGALRM, on_alarm, flags=gk.SA_RESTART)
        r, w = await sys.pipe()
        await sys.setitimer(S.ITIMER_REAL, 0.01)
        got["poll"] = await errno_of(sys.poll([(r, POLLIN)], 1000))
        got["at"] = round(await sys.clock_gettime(), 3)
    spawn_run(k, main, clean=True)
    assert got == {"handled": S.SIGALRM, "poll": "EINTR", "at": 0.01}


def test_poll_stopped_and_continued_keeps_its_end_time(k):
    """A stop and continue with no handler restarts poll through restart_syscall (do_restart_poll),
    which keeps the original end time: a 50 ms poll stopped from 10 to 30 ms still ends at 50 ms."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["pid"] = await sys.getpid()
        if await sys.fork() == 0:
            parent = await sys.getppid()
            await sys.nanosleep(0.01)
            await sys.kill(parent, S.SIGSTOP)
            await sys.nanosleep(0.02)
            await sys.kill(parent, S.SIGCONT)
            await sys.exit(0)
        t0 = await sys.clock_gettime()
        got["poll"] = await sys.poll([(r, POLLIN)], 50)
        got["took"] = round(await sys.clock_gettime() - t0, 3)
        await sys.wait()
    spawn_run(k, main, clean=True)
    assert got["poll"] == [] and got["took"] == 0.05
    assert "do_restart_poll" in k.trace.tree("__x64_sys_restart_syscall", args=False)


def test_select_reports_ready_sets_and_time_left(k):
    """select(2) returns the ready descriptors of each set; Linux writes the time left back into
    the caller's timeval."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["write end"] = await sys.select([r], [w], [], 0)
        if await sys.fork() == 0:
            await sys.nanosleep(0.03)
            await sys.write(w, b"x")
            await sys.exit(0)
        n, rset, wset, xset, left = await call(gk.NR.select, r + 1, InOut([r]), InOut([]), InOut([]), InOut(0.1))
        got["select"] = (n, rset, wset, xset, round(left, 3))
        got["timed out"] = await sys.select([r, w], [], [], 0.0)
        await sys.wait()
    spawn_run(k, main, clean=True)
    assert got["write end"] == ([], [4], [])
    assert got["select"] == (1, [3], [], [], 0.07)
    assert got["timed out"] == ([3], [], [])


def test_select_and_poll_errnos(k):
    """select: a closed descriptor in a set is EBADF, a negative n or timeval EINVAL, bits beyond
    the table's capacity are ignored; poll: more entries than RLIMIT_NOFILE is EINVAL."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["closed fd"] = await errno_of(sys.select([r, 9], [], [], 0))
        got["negative n"] = await errno_of(call(gk.NR.select, -1, None, None, None, None))
        got["negative usec"] = await errno_of(call(gk.NR.select, r + 1, InOut([r]), None, None, InOut((0, -1))))
        got["beyond max_fds"] = await call(gk.NR.select, 1024, InOut([r, 1000]), None, None, InOut(0.0))
        await sys.setrlimit(resource.RLIMIT_NOFILE, (8, 8))
        got["poll nfds"] = await errno_of(call(gk.NR.poll, InOut([(r, POLLIN)] * 9), 9, 0))
        got["poll 8"] = len(await sys.poll([(r, POLLIN)] * 8, 0))
    spawn_run(k, main, clean=True)
    assert got["closed fd"] == "EBADF" and got["negative n"] == "EINVAL" and got["negative usec"] == "EINVAL"
    # fd 1000 lies past the 64-descriptor table: select looks no further than fdt->max_fds, and
    # neither reads nor rewrites the bitmap past it (fd 3's bit is cleared, 1000's left as given).
    assert got["beyond max_fds"][:2] == (0, [1000])
    assert got["poll nfds"] == "EINVAL" and got["poll 8"] == 0


def test_select_on_a_udp_socket(k):
    """sock_poll through select: a UDP socket is writable at once and readable when a datagram
    waits."""
    got = {}

    async def main(sys):
        s = await sys.socket()
        await sys.bind(s, ("127.0.0.1", 9000))
        got["idle"] = await sys.select([s], [s], [], 0)
        await sys.sendto(s, b"hi", ("127.0.0.1", 9000))
        got["datagram"] = await sys.select([s], [], [], None)
    spawn_run(k, main, clean=True)
    assert got == {"idle": ([], [3], []), "datagram": ([3], [], [])}
