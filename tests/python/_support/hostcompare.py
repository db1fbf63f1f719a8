"""Running one scenario on this machine's Linux and on the model, for the *_vs_host tests.

A scenario is an `async def scenario(s, out)`: `s` is the adapter of one side, and the scenario
stores what it saw in `out`. On the host it runs in a forked child whose descriptor table is
cleaned to 0, 1 and 2; the host adapter's calls never suspend, so the coroutine is driven by one
send(). In the model it runs as a program whose `sys` the model adapter wraps. Each test file
subclasses HostSide and ModelSide with the calls its scenarios use, and passes its classes to
on_host / on_model / compare.

Scenarios follow gktest's rule for fork: a model child replays the scenario from its start, so a
scenario writes `out` only with values the replay writes again, and a child records nothing (what
it did comes back through its wait status)."""
import ctypes
import errno
import os
import pickle
import select
import signal
import struct
import time
import traceback

import glasskernel as gk
from gktest import errname, spawn_run, wstatus

RESULT_FD = 200          # where the host child writes its results, above every number a scenario uses

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for _f in ("send", "recv", "sendto", "recvfrom"):
    getattr(libc, _f).restype = ctypes.c_ssize_t


def c(ret):
    """A libc call's return value, or OSError with its errno."""
    if ret == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return ret


def raw(nr, *args):
    """A raw system call on the host, with integer arguments."""
    return c(libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args]))


def pollfds(items):
    """[(fd, events)] as an array of struct pollfd."""
    return b"".join(struct.pack("ihh", fd, ev, 0) for fd, ev in items)


def revents(buf, n):
    return [struct.unpack_from("ihh", buf, 8 * i)[2] & 0xFFFF for i in range(n)]


class HostSide:
    """The calls both host adapters make the same way. pipe and fcntl go to the system calls
    themselves: Python makes os.pipe's ends close-on-exec and fcntl.fcntl refuses fd -1 and cuts
    its argument to 32 bits."""

    async def pipe(self):
        fds = (ctypes.c_int * 2)()
        c(libc.syscall(ctypes.c_long(gk.NR.pipe), fds))
        return fds[0], fds[1]

    async def fcntl(self, fd, cmd, arg=0):
        return raw(gk.NR.fcntl, fd, cmd, arg)

    async def read(self, fd, n):
        return os.read(fd, n)

    async def write(self, fd, data):
        return os.write(fd, data)

    async def close(self, fd):
        os.close(fd)

    async def listen(self, fd, backlog):
        c(libc.listen(fd, backlog))

    async def shutdown(self, fd, how):
        c(libc.shutdown(fd, how))

    async def epoll_ctl(self, epfd, op, fd, events):
        c(libc.epoll_ctl(epfd, op, fd, struct.pack("<IQ", events, fd)))

    async def epoll_wait(self, epfd, timeout):
        buf = ctypes.create_string_buffer(12 * 16)
        n = c(libc.epoll_wait(epfd, buf, 16, timeout))
        return [struct.unpack_from("<IQ", buf.raw, 12 * i)[::-1] for i in range(n)]

    async def poll(self, items, timeout):
        """-> (poll's return value, every entry's revents)."""
        buf = ctypes.create_string_buffer(pollfds(items))
        n = c(libc.poll(buf, len(items), timeout))
        return n, revents(buf.raw, len(items))

    async def select(self, r, w, x, timeout):
        return select.select(r, w, x, timeout)

    async def sigprocmask(self, how, sigs):
        signal.pthread_sigmask(how, sigs)

    async def sigpending(self):
        return sorted(int(x) for x in signal.sigpending())

    async def fork(self):
        pid = os.fork()
        if pid == 0:                 # a child that hung would keep the result pipe open
            os.close(RESULT_FD)
            signal.alarm(30)
        return pid

    async def exit(self, code):
        os._exit(code)

    async def waitpid(self, pid):
        return os.waitpid(pid, 0)

    async def nanosleep(self, seconds):
        time.sleep(seconds)


class ModelSide:
    """The model's side: the program's `sys`, with the host adapter's signatures. PASS names the
    calls whose signatures already match, taken from `sys` as they are."""
    PASS = ()

    def __init__(self, sys):
        self.sys = sys
        for name in self.PASS:
            setattr(self, name, getattr(sys, name))

    async def poll(self, items, timeout):
        n, buf = await self.sys.syscall(gk.NR.poll, gk.InOut(pollfds(items)), len(items), timeout)
        return n, revents(buf, len(items))

    async def epoll_wait(self, epfd, timeout):
        return [tuple(e) for e in await self.sys.epoll_wait(epfd, 16, timeout)]

    async def sigprocmask(self, how, sigs):
        await self.sys.sigprocmask(how, sigs)

    async def sigpending(self):
        return sorted(int(x) for x in await self.sys.sigpending())


async def res(call):
    """In a scenario: the call's result, or the name of the errno it failed with."""
    try:
        return await call
    except OSError as e:
        return "EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errname(e)   # Python names 95 ENOTSUP


def plain(v):
    """Results in one comparable form: tuples as lists, int enums as ints."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, bool) or not isinstance(v, int):
        return v
    return int(v)


def _host_child(scenario, host, wfd):
    os.dup2(wfd, RESULT_FD)
    os.closerange(3, RESULT_FD)
    os.closerange(RESULT_FD + 1, 1 << 20)
    for fd in (0, 1, 2):             # a fresh process's table, as the model's program has
        try:
            os.fstat(fd)
        except OSError:
            os.open("/dev/null", os.O_RDWR)
    for sig in (signal.SIGPIPE, signal.SIGALRM):   # Python itself ignores SIGPIPE
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.alarm(30)                 # a scenario that blocks for ever dies, and the parent sees EOF
    me = os.getpid()
    out = {}
    try:
        coro = scenario(host(), out)
        try:
            coro.send(None)
        except StopIteration:
            pass
        else:
            raise RuntimeError("a host call suspended")
    except BaseException:
        out = {"__traceback__": traceback.format_exc()}
    if os.getpid() != me:            # a scenario's child ran off the end instead of exiting
        os._exit(99)
    os.write(RESULT_FD, pickle.dumps(out))
    os._exit(0)


def on_host(scenario, host):
    """Run the scenario on this machine's kernel, in a forked child, with a `host()` adapter; its `out`."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _host_child(scenario, host, w)
        finally:
            os._exit(98)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert status == 0 and data, f"host child: {wstatus(status)}"
    out = pickle.loads(data)
    assert "__traceback__" not in out, out["__traceback__"]
    return plain(out)


def on_model(k, scenario, model):
    """Run the scenario as a program in the model, with a `model(sys)` adapter; its `out`."""
    out = {}

    async def main(sys):
        await scenario(model(sys), out)
    spawn_run(k, main, clean=True)
    return plain(out)


def compare(k, scenario, host, model):
    """Both sides' results, asserted equal; returns the host's."""
    on_h = on_host(scenario, host)
    on_m = on_model(k, scenario, model)
    assert on_m == on_h
    return on_h


class HostDiffers(Exception):
    """A known difference between the host and the model showed: what an xfail test expects."""


def agree_but(model, host, known):
    """For a test marked xfail(raises=HostDiffers): every result outside `known` must agree (an
    AssertionError otherwise, a real failure); then HostDiffers if the `known` ones differ."""
    assert {k: v for k, v in model.items() if k not in known} == {k: v for k, v in host.items() if k not in known}
    diff = {k: (host.get(k), model.get(k)) for k in known if host.get(k) != model.get(k)}
    if diff:
        raise HostDiffers("(host, model): " + repr(diff))
