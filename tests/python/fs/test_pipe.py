"""fs/pipe.c (cpp/fs/pipe.cpp): pipe(2)/pipe2(2), the ring of page buffers, readers and writers
sleeping on rd_wait / wr_wait, end of file, EPIPE + SIGPIPE, O_NONBLOCK, packet mode (O_DIRECT),
PIPE_BUF atomicity, close-on-exec, pipelines built with fork, dup2 and execve, and the views."""
import errno
import fcntl as F
import os
import resource
import select
import signal as S

import pytest

import glasskernel as gk
from gktest import errname, errno_of, fork_wait, run_checked, spawn_run, wstatus


def test_pipe_gives_lowest_fds_and_carries_bytes_in_order(k):
    """pipe(2): the read end gets the lower number; bytes come out in the order they went in."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["fds"] = (r, w)
        await sys.write(w, b"one ")
        await sys.write(w, b"two")
        got["read"] = await sys.read(r, 100)
    spawn_run(k, main, clean=True)
    assert got == {"fds": (3, 4), "read": b"one two"}
    assert k.pipes == []  # exit closed both ends: the inode is freed


def test_reader_sleeps_on_rd_wait_until_a_writer_writes(k):
    """pipe_read: an empty pipe with writers puts the reader to sleep, exclusive, on pipe->rd_wait;
    the write wakes it through autoremove_wake_function."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        pid = await sys.fork()
        if pid == 0:
            got["data"] = await sys.read(r, 100)
            got["woke at"] = await sys.clock_gettime()
            await sys.exit(0)
        got["child"] = pid
        await sys.nanosleep(0.01)
        got["wrote at"] = await sys.clock_gettime()
        await sys.write(w, b"ping")
        await sys.wait()
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=5_000_000)
    child = k.task(got["child"])
    assert child.state == "S" and child.wchan == "pipe_read"
    pipe = k.pipe(child.pid, 3)
    assert [(e.task.pid, e.func, e.exclusive) for e in pipe.rd_wait] == [(child.pid, "autoremove_wake_function", True)]
    assert pipe.wr_wait == [] and (pipe.readers, pipe.writers, pipe.occupancy) == (1, 1, 0)
    run_checked(k)
    assert got["data"] == b"ping" and got["woke at"] >= got["wrote at"]
    tree = k.trace.tree("pipe_write", args=False)
    assert "__wake_up" in tree and "autoremove_wake_function" in tree and "try_to_wake_up" in tree


def test_end_of_file_only_when_the_last_writer_closes(k):
    """A reader sees b'' only after every write end is closed: a forked child's inherited copy
    keeps the pipe open until the child closes it."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        pid = await sys.fork()
        if pid == 0:
            await sys.close(r)
            await sys.nanosleep(0.02)
            await sys.write(w, b"late")
            await sys.exit(0)  # closes the child's write end
        await sys.close(w)
        got["first"] = await sys.read(r, 100)
        got["eof"] = await sys.read(r, 100)
        got["eof at"] = await sys.clock_gettime()
        await sys.wait()
    spawn_run(k, main, clean=True)
    assert got["first"] == b"late" and got["eof"] == b"" and got["eof at"] >= 0.02


def test_write_without_readers_kills_with_sigpipe(k, child_status):
    """pipe_write with no reader: send_sig(SIGPIPE), whose default action kills the writer."""
    async def child(sys):
        r, w = await sys.pipe()
        await sys.close(r)
        await sys.write(w, b"x")
    assert wstatus(child_status(child)) == ("killed", S.SIGPIPE, False)


def test_write_without_readers_is_epipe_with_a_user_sigpipe(k):
    """With SIGPIPE blocked the write fails with EPIPE, and the pending SIGPIPE is SI_USER from
    the writer itself (send_sig(SIGPIPE, current, 0))."""
    got = {}

    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, [S.SIGPIPE])
        r, w = await sys.pipe()
        await sys.close(r)
        got["write"] = await errno_of(sys.write(w, b"x"))
        info = await sys.sigwaitinfo([S.SIGPIPE], 0)
        got["info"] = (info.si_signo, info.si_code, info.si_pid == await sys.getpid())
    spawn_run(k, main, clean=True)
    assert got == {"write": "EPIPE", "info": (S.SIGPIPE, gk.SI_USER, True)}


def test_blocked_writer_sleeps_on_wr_wait_until_the_reader_drains(k):
    """A blocking write larger than the pipe fills 16 pages, sleeps on wr_wait, and finishes once
    the reader makes room; it returns the whole count."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        pid = await sys.fork()
        if pid == 0:
            await sys.close(r)
            got["wrote"] = await sys.write(w, b"w" * 100000)
            await sys.exit(0)
        got["child"] = pid
        await sys.close(w)
        await sys.nanosleep(0.01)
        total = 0
        while chunk := await sys.read(r, 65536):
            total += len(chunk)
        got["read"] = total
        await sys.wait()
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=5_000_000)
    pipe = k.pipes[0]
    assert (pipe.occupancy, sum(b.len for b in pipe.bufs)) == (16, 65536)
    assert [(e.task.pid, e.func) for e in pipe.wr_wait] == [(got["child"], "autoremove_wake_function")]
    assert k.task(got["child"]).wchan == "pipe_write"
    run_checked(k)
    assert got["wrote"] == 100000 and got["read"] == 100000


def test_writes_up_to_pipe_buf_are_atomic_larger_ones_interleave(k):
    """PIPE_BUF (4096): each such write lands whole, whatever other writers do; two 100000-byte
    writers woken in turn by a slow reader interleave their bytes."""
    got = {}

    async def writer(sys, w, letter, size, count):
        for _ in range(count):
            await sys.write(w, letter * size)

    async def main(sys):
        for name, size, count in (("small", 4096, 24), ("large", 100000, 1)):
            r, w = await sys.pipe()
            for letter in (b"a", b"b"):
                if await sys.fork() == 0:
                    await sys.close(r)
                    await writer(sys, w, letter, size, count)
                    await sys.exit(0)
            await sys.close(w)
            data = b""
            while chunk := await sys.read(r, 4096):
                data += chunk
                await sys.nanosleep(0.0001)
            await sys.wait()
            await sys.wait()
            await sys.close(r)
            got[name] = data
    spawn_run(k, main, clean=True)
    small = got["small"]
    assert len(small) == 2 * 24 * 4096
    assert all(len(set(small[i:i + 4096])) == 1 for i in range(0, len(small), 4096))
    large = got["large"]
    assert sorted(large) == sorted(b"a" * 100000 + b"b" * 100000)
    assert b"b" in large[:100000]  # the first 100000 bytes are not all one writer's


def test_nonblocking_ends_say_eagain(k):
    """O_NONBLOCK: reading an empty pipe with writers and writing a full one fail with EAGAIN; a
    large write into a partly full pipe writes what fits."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe2(os.O_NONBLOCK)
        got["empty read"] = await errno_of(sys.read(r, 10))
        got["first write"] = await sys.write(w, b"x" * 5000)
        got["big write"] = await sys.write(w, b"y" * 100000)
        got["full write"] = await errno_of(sys.write(w, b"z"))
        await sys.close(w)
        total = 0
        while chunk := await sys.read(r, 100000):
            total += len(chunk)
        got["drained"] = total
    spawn_run(k, main, clean=True)
    # 5000 bytes take a full page and 904 bytes of a second; the big write's last 100000 & 4095 =
    # 1696 bytes merge into that second page first, then 14 free pages take 57344 more.
    assert got == {"empty read": "EAGAIN", "first write": 5000, "big write": 1696 + 14 * 4096, "full write": "EAGAIN",
                   "drained": 5000 + 1696 + 14 * 4096}


def test_small_writes_merge_into_the_last_page(k):
    """A write whose tail fits in the last buffer's page is appended there (PIPE_BUF_FLAG_CAN_MERGE):
    100 + 100 + 5000 bytes take two slots, not three."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["fds"] = (r, w)
        await sys.write(w, b"a" * 100)
        await sys.write(w, b"b" * 100)
        await sys.write(w, b"c" * 5000)
        await sys.pause()
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until_ns=1_000_000)
    pipe = k.pipe(t.pid, got["fds"][0])
    # The last 5000 & 4095 = 904 bytes of the third write merge first; the rest fills a page.
    assert [(b.slot, b.offset, b.len, b.flags) for b in pipe.bufs] == [
        (0, 0, 1104, "PIPE_BUF_FLAG_CAN_MERGE"), (1, 0, 4096, "PIPE_BUF_FLAG_CAN_MERGE")]
    assert pipe.bufs[0].data == b"a" * 100 + b"b" * 100 + b"c" * 904
    assert pipe.bytes_written == 5200 and pipe.poll_usage is False


def test_packet_mode_reads_one_write_at_a_time(k):
    """pipe2(O_DIRECT): each write is a packet; a read returns at most one, and a short read drops
    the rest of it."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe2(os.O_DIRECT | os.O_NONBLOCK)
        await sys.write(w, b"abc")
        await sys.write(w, b"defgh")
        await sys.write(w, b"ij")
        got["reads"] = [await sys.read(r, 100), await sys.read(r, 2), await sys.read(r, 100)]
        got["then"] = await errno_of(sys.read(r, 100))
        got["flags"] = (await sys.fcntl(r, F.F_GETFL), await sys.fcntl(w, F.F_GETFL))
    spawn_run(k, main, clean=True)
    assert got["reads"] == [b"abc", b"de", b"ij"] and got["then"] == "EAGAIN"
    assert got["flags"] == (os.O_RDONLY | os.O_NONBLOCK, os.O_WRONLY | os.O_NONBLOCK | os.O_DIRECT)


def test_close_on_exec_ends_vanish_at_execve(k):
    """pipe2(O_CLOEXEC) and F_SETFD FD_CLOEXEC ends are closed by execve; the others survive."""
    got = {}

    @k.program("/bin/probe")
    async def probe(sys, prog, *fds):
        got["after exec"] = {int(fd): await errno_of(sys.fcntl(int(fd), F.F_GETFD)) for fd in fds}

    async def main(sys):
        r1, w1 = await sys.pipe2(os.O_CLOEXEC)
        r2, w2 = await sys.pipe()
        await sys.fcntl(w2, F.F_SETFD, F.FD_CLOEXEC)
        got["before"] = [await sys.fcntl(fd, F.F_GETFD) for fd in (r1, w1, r2, w2)]
        await sys.execve("/bin/probe", ["/bin/probe"] + [str(fd) for fd in (r1, w1, r2, w2)])
    spawn_run(k, main, clean=True)
    assert got["before"] == [F.FD_CLOEXEC, F.FD_CLOEXEC, 0, F.FD_CLOEXEC]
    assert got["after exec"] == {3: "EBADF", 4: "EBADF", 5: None, 6: "EBADF"}


def test_shell_pipeline_with_fork_dup2_and_execve(k):
    """producer | upper: two execve'd programs joined by a pipe on fds 1 and 0, as a shell does it;
    the consumer stops at end of file when the producer exits."""
    @k.program("/bin/producer")
    async def producer(sys):
        for word in ("alpha", "beta", "gamma"):
            await sys.write(1, word + "\n")
            await sys.nanosleep(0.001)

    @k.program("/bin/upper")
    async def upper(sys):
        data = b""
        while chunk := await sys.read(0, 4096):
            data += chunk
        await sys.write(2, data.upper())

    got = {}

    async def shell(sys):
        r, w = await sys.pipe()
        if await sys.fork() == 0:
            await sys.dup2(w, 1)
            await sys.close(r)
            await sys.close(w)
            await sys.execve("/bin/producer")
        if await sys.fork() == 0:
            await sys.dup2(r, 0)
            await sys.close(r)
            await sys.close(w)
            await sys.execve("/bin/upper")
        await sys.close(r)
        await sys.close(w)
        got["statuses"] = sorted([wstatus((await sys.wait())[1]), wstatus((await sys.wait())[1])])
    spawn_run(k, shell, clean=True)
    assert got["statuses"] == [("exited", 0), ("exited", 0)]
    assert k.stderr == "ALPHA\nBETA\nGAMMA\n"


@pytest.mark.parametrize("flags, expect", [(0, ("EINTR", None)), (gk.SA_RESTART, (None, b"late"))])
def test_a_signal_interrupts_a_blocked_read(k, flags, expect):
    """A handled signal ends a sleeping pipe_read with -ERESTARTSYS: EINTR, or the read is made
    again and waits on with SA_RESTART."""
    got = {}

    async def on_alarm(sys, signo):
        got["handled"] = signo

    async def main(sys):
        await sys.sigaction(S.SIGALRM, on_alarm, flags=flags)
        r, w = await sys.pipe()
        if await sys.fork() == 0:
            await sys.close(r)
            await sys.nanosleep(0.02)
            await sys.write(w, b"late")
            await sys.exit(0)
        await sys.close(w)
        await sys.setitimer(S.ITIMER_REAL, 0.01)  # SIGALRM at 10 ms
        try:
            got["read"] = await sys.read(r, 10)
        except OSError as e:
            got["error"] = errname(e)
        await sys.wait()
    spawn_run(k, main, clean=True)
    assert got["handled"] == S.SIGALRM
    assert (got.get("error"), got.get("read")) == expect


def test_epoll_reports_pipe_events_and_et_wakes_per_write(k):
    """pipe_poll through epoll: EPOLLIN when data is there, EPOLLHUP once writers are gone,
    EPOLLOUT and then EPOLLERR on the write end; with EPOLLET every write is a new event
    (pipe->poll_usage), not only the first into an empty pipe."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        ep = await sys.epoll_create1()
        await sys.epoll_ctl(ep, gk.EPOLL_CTL_ADD, r, select.EPOLLIN | select.EPOLLET)
        await sys.write(w, b"1")
        got["first"] = await sys.epoll_wait(ep, 8, 0)
        got["again, nothing new"] = await sys.epoll_wait(ep, 8, 0)
        await sys.write(w, b"2")
        got["second write"] = await sys.epoll_wait(ep, 8, 0)
        ep2 = await sys.epoll_create1()
        await sys.epoll_ctl(ep2, gk.EPOLL_CTL_ADD, w, select.EPOLLOUT)
        got["write end"] = await sys.epoll_wait(ep2, 8, 0)
        await sys.close(r)
        got["reader gone"] = await sys.epoll_wait(ep2, 8, 0)
    spawn_run(k, main, clean=True)
    IN, OUT, ERR = select.EPOLLIN, select.EPOLLOUT, select.EPOLLERR
    assert got["first"] == [(3, IN)] and got["again, nothing new"] == []
    assert got["second write"] == [(3, IN)]
    assert got["write end"] == [(4, OUT)] and got["reader gone"] == [(4, OUT | ERR)]


def test_epoll_sees_hangup_when_the_writer_closes(k):
    """A read end in an epoll set reports EPOLLHUP (with EPOLLIN while data is left) once the last
    writer has closed; the wake-up reaches ep_poll_callback from pipe_release."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        ep = await sys.epoll_create1()
        await sys.epoll_ctl(ep, gk.EPOLL_CTL_ADD, r, select.EPOLLIN)
        got["pid"] = await sys.getpid()
        if await sys.fork() == 0:
            await sys.close(r)
            await sys.nanosleep(0.01)
            await sys.write(w, b"bye")
            await sys.exit(0)
        await sys.close(w)
        got["data"] = await sys.epoll_wait(ep, 8, -1)
        await sys.wait()
        got["hup"] = await sys.epoll_wait(ep, 8, -1)
        await sys.read(r, 10)
        got["hup only"] = await sys.epoll_wait(ep, 8, -1)
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    k.run(until_ns=5_000_000)
    pipe = k.pipe(got["pid"], 3)
    assert [e.func for e in pipe.rd_wait] == ["ep_poll_callback"] and pipe.wr_wait == []
    run_checked(k)
    IN, HUP = select.EPOLLIN, select.EPOLLHUP
    assert got["data"] == [(3, IN)] and got["hup"] == [(3, IN | HUP)] and got["hup only"] == [(3, HUP)]


def test_pipe_size_follows_f_setpipe_sz(k):
    """F_SETPIPE_SZ rounds up to a power-of-two number of pages and resizes the ring; shrinking
    below what the pipe holds is EBUSY; beyond pipe-max-size (1 MiB) only root may go (EPERM)."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["default"] = await sys.fcntl(r, F.F_GETPIPE_SZ)
        got["5000"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 5000)
        got["1"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 1)
        await sys.write(w, b"x" * 3000)
        got["0"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 0)
        got["4 MiB as root"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 4 << 20)
        await sys.write(w, b"y" * 8192)
        got["shrink below data"] = await errno_of(sys.fcntl(w, F.F_SETPIPE_SZ, 4096))
        got["held"] = await sys.read(r, 20000)
        await sys.setuid(1000)
        got["shrinking as a user"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 65536)
        got["2 MiB as a user"] = await errno_of(sys.fcntl(w, F.F_SETPIPE_SZ, 2 << 20))
        got["1 MiB as a user"] = await sys.fcntl(w, F.F_SETPIPE_SZ, 1 << 20)
        got["too big"] = await errno_of(sys.fcntl(w, F.F_SETPIPE_SZ, (1 << 31) + 1))
    spawn_run(k, main, clean=True)
    assert got["default"] == 65536 and got["5000"] == 8192 and got["1"] == 4096 and got["0"] == 4096
    assert got["4 MiB as root"] == 4 << 20 and got["shrink below data"] == "EBUSY"
    assert got["held"] == b"x" * 3000 + b"y" * 8192
    assert got["shrinking as a user"] == 65536 and got["2 MiB as a user"] == "EPERM" and got["1 MiB as a user"] == 1 << 20 and got["too big"] == "EINVAL"


def test_fcntl_dupfd_and_flags(k):
    """F_DUPFD takes the lowest free number at or above its argument; F_SETFL changes only
    O_NONBLOCK-like flags; the access mode stays."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["dupfd 10"] = await sys.fcntl(r, F.F_DUPFD, 10)
        got["dupfd 10 again"] = await sys.fcntl(r, F.F_DUPFD, 10)
        got["dupfd_cloexec"] = await sys.fcntl(w, F.F_DUPFD_CLOEXEC, 0)
        got["its fd flags"] = await sys.fcntl(got["dupfd_cloexec"], F.F_GETFD)
        await sys.fcntl(r, F.F_SETFL, os.O_NONBLOCK | os.O_WRONLY)
        got["getfl"] = await sys.fcntl(r, F.F_GETFL)
        got["shared by the dup"] = await sys.fcntl(got["dupfd 10"], F.F_GETFL)
        got["nonblocking read"] = await errno_of(sys.read(r, 1))
    spawn_run(k, main, clean=True)
    assert got == {"dupfd 10": 10, "dupfd 10 again": 11, "dupfd_cloexec": 5, "its fd flags": F.FD_CLOEXEC,
                   "getfl": os.O_RDONLY | os.O_NONBLOCK, "shared by the dup": os.O_RDONLY | os.O_NONBLOCK,
                   "nonblocking read": "EAGAIN"}


def test_pipe_errnos(k):
    """The wrong end is EBADF; a pipe has no position (ESPIPE); socket calls on it are ENOTSOCK;
    it is no epoll set (EINVAL); bad pipe2 flags are EINVAL; no room for two descriptors is EMFILE
    and leaves none behind."""
    got = {}

    async def main(sys):
        r, w = await sys.pipe()
        got["read write end"] = await errno_of(sys.read(w, 1))
        got["write read end"] = await errno_of(sys.write(r, b"x"))
        got["lseek"] = await errno_of(sys.lseek(r, 0, os.SEEK_SET))
        got["lseek bad whence"] = await errno_of(sys.lseek(r, 0, 99))
        got["pread"] = await errno_of(sys.pread(r, 1, 0))
        got["pwrite"] = await errno_of(sys.pwrite(w, b"x", 0))
        got["pread negative"] = await errno_of(sys.pread(r, 1, -1))
        got["getsockname"] = await errno_of(sys.getsockname(r))
        got["send"] = await errno_of(sys.send(w, b"x"))
        got["epoll_ctl on a pipe"] = await errno_of(sys.epoll_ctl(r, gk.EPOLL_CTL_ADD, w, select.EPOLLIN))
        got["pipe2 bad flags"] = await errno_of(sys.pipe2(os.O_APPEND))
        got["notification pipe"] = await errno_of(sys.pipe2(0o200))
        await sys.setrlimit(resource.RLIMIT_NOFILE, (6, 6))  # fds 0..5, of which 0..4 are taken
        got["emfile"] = await errno_of(sys.pipe())
        got["next free"] = await sys.dup(0)
    spawn_run(k, main, clean=True)
    assert got == {"read write end": "EBADF", "write read end": "EBADF", "lseek": "ESPIPE", "lseek bad whence": "EINVAL",
                   "pread": "ESPIPE", "pwrite": "ESPIPE", "pread negative": "EINVAL", "getsockname": "ENOTSOCK",
                   "send": "ENOTSOCK", "epoll_ctl on a pipe": "EINVAL", "pipe2 bad flags": "EINVAL",
                   "notification pipe": "ENOPKG", "emfile": "EMFILE", "next free": 5}


def test_pipe_views_name_the_inode_and_ends(k):
    """Task.fds names both ends pipe:[N]; k.pipe(pid, fd) refuses what is not a pipe."""
    got = {}

    async def main(sys):
        got["fds"] = await sys.pipe()
        await sys.pause()
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until_ns=1_000_000)
    r, w = got["fds"]
    ino = k.pipes[0].ino
    assert t.fds[r] == t.fds[w] == f"pipe:[{ino}]"
    assert k.pipe(t.pid, r).ino == k.pipe(t.pid, w).ino == ino
    with pytest.raises(ValueError, match="not a pipe"):
        k.pipe(t.pid, 1)
    with pytest.raises(ValueError, match="no fd"):
        k.pipe(t.pid, 99)
    k.check()


def test_a_kernel_stopped_inside_a_files_release_can_be_dropped():
    """A stop at pipe_release while exit closes the task's descriptors leaves a file's destructor
    on the task's kernel stack; dropping the kernel there must not unwind through it (that aborted
    the interpreter), and the self-check holds at every step down to free_pipe_info."""
    import gc
    k = gk.Kernel(cpus=1, seed=0)

    async def main(sys):
        await sys.pipe()
    k.program("/bin/p")(main)
    k.spawn("/bin/p")
    k.break_at("pipe_release")
    stop = k.run()
    assert stop.function == "pipe_release"
    assert stop.backtrace[-3:] == ["do_exit", "exit_files", "pipe_release"]
    for _ in range(12):
        stop = k.step("function")
        k.check()
        if stop.function == "free_pipe_info":
            break
    assert stop.function == "free_pipe_info" and "pipe_release" in stop.backtrace
    del k, stop
    gc.collect()
