"""Scaffolding shared by the Python tests, imported as `from gktest import ...` (pyproject.toml puts
this directory on pytest's `pythonpath`, so no test imports conftest). The fixtures in
tests/python/conftest.py are built on these.

Collecting values from programs: a program is an `async def` closure, so it can store what it
measures in a dict of the test (`got["status"] = st`) and the test compares the dict. fork()
rebuilds the child by replaying the program from its start with the parent's recorded results, so
code before a fork runs again in the child, with the same values: store under a key naming what was
measured (the replay writes the same value again), never append to a list before a fork, never
rewrite a key after a fork that a later child would replay, and give what a child measures keys of
its own. Console output is suppressed in that replay; other Python side effects are not.
"""
from __future__ import annotations

import errno
import os
import signal

import glasskernel as gk

__all__ = ["EXIT_DEAD", "EXIT_ZOMBIE", "STEP_MODES", "run_checked", "spawn_run", "lines", "errname", "errno_of",
           "wstatus", "zombies", "step_checked", "fork_wait", "two_hosts", "udp_server", "udp_client",
           "fork_exit_wait", "sigchld_ignored", "forker"]

EXIT_DEAD, EXIT_ZOMBIE = 0x10, 0x20          # task_struct.exit_state
STEP_MODES = ("function", "syscall", "switch", "tick")


def run_checked(k, **kw):
    """Run to quiescence with the kernel's self-check after every engine step."""
    def check(kk):
        kk.check()
        return False
    return k.run(until=check, **kw)


def spawn_run(k, fn, path="/bin/t", argv=None, *, clean=False):
    """Install `fn` at `path`, spawn it and run with the self-check after every step; returns the
    task. With clean=True the program must not have died of an uncaught exception."""
    k.program(path)(fn)
    t = k.spawn(path, argv)
    run_checked(k)
    if clean:
        assert t.traceback is None, t.traceback
    return t


def lines(k):
    """The console's text, line by line (for tests about what reached the console)."""
    return k.console.splitlines()


def errname(e: OSError) -> str:
    """An OSError's errno by its name: 'ECHILD'."""
    return errno.errorcode[e.errno]


async def errno_of(call):
    """In a program: await one system call; the name of the errno it failed with, or None when it
    succeeded."""
    try:
        await call
    except OSError as e:
        return errname(e)
    return None


def wstatus(status: int):
    """A wait status as a comparable value: ("exited", code), ("killed", signal, core dumped),
    ("stopped", signal) or ("continued",)."""
    if os.WIFEXITED(status):
        return ("exited", os.WEXITSTATUS(status))
    if os.WIFSIGNALED(status):
        return ("killed", signal.Signals(os.WTERMSIG(status)), os.WCOREDUMP(status))
    if os.WIFSTOPPED(status):
        return ("stopped", signal.Signals(os.WSTOPSIG(status)))
    if os.WIFCONTINUED(status):
        return ("continued",)
    raise ValueError(f"not a wait status: {status:#x}")


def zombies(k):
    """The pids of the tasks in EXIT_ZOMBIE."""
    return [t.pid for t in k.tasks if t.state == "Z"]


def step_checked(k, mode):
    """Step in `mode` to the end, with the self-check at every stop; returns (event name, task) of
    each stop."""
    stops = []
    while (st := k.step(mode)) is not None:
        k.check()
        stops.append((st.event.name, st.task))
        assert len(stops) < 20000
    k.check()
    return stops


async def fork_wait(sys, child, options=0):
    """In a program: fork; the child runs `await child(sys)` and exits 0 if that returns; the
    parent waits for it and returns waitpid's (pid, status)."""
    pid = await sys.fork()
    if pid == 0:
        await child(sys)
        await sys.exit(0)
    return await sys.waitpid(pid, options)


def two_hosts(names=("alice", "bob"), host_args=(None, None), seed=0, **link):
    """A gk.Network (seeded with `seed`) of two hosts joined by one link: 10.0.0.1 and 10.0.0.2 on
    eth0. `host_args` are each host's Kernel arguments (cpus=2, ...); `link` goes to net.link
    (latency_ns, bandwidth_bps, loss, arp). Returns (net, a, b)."""
    net = gk.Network(seed=seed)
    a, b = (net.host(n, **(args or {})) for n, args in zip(names, host_args))
    net.link(a, b, **link)
    return net, a, b


def udp_server(host, port, count=1, path="/bin/udp-server", bufsize=100):
    """Install and spawn on `host` a program that binds a UDP socket to 0.0.0.0:`port` and
    receives `count` datagrams; returns (task, got), got filling with recvfrom's (data, (ip, port))."""
    got = []

    @host.program(path)
    async def server(sys):
        s = await sys.socket()
        await sys.bind(s, ("0.0.0.0", port))
        for _ in range(count):
            got.append(await sys.recvfrom(s, bufsize))

    return host.spawn(path), got


def udp_client(host, dest, payloads, delay=0.001, path="/bin/udp-client"):
    """Install and spawn on `host` a program that makes one UDP socket, sleeps `delay` seconds (so
    that a server can bind first) and sends each payload to `dest`; returns the task."""
    @host.program(path)
    async def client(sys):
        s = await sys.socket()
        if delay:
            await sys.nanosleep(delay)
        for p in payloads:
            await sys.sendto(s, p, dest)

    return host.spawn(path)


# ---- scenarios several areas step through ----

def fork_exit_wait(k):
    """Spawn a program that forks and waits, then forks a child that forks and exits (orphaning
    its own child), and exits 3: every path of fork, exit and wait once. Returns the task."""
    @k.program("/bin/few")
    async def few(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.compute(10_000_000)    # long enough for ticks
            await sys.exit(7)
        await sys.waitpid(pid, 0)
        pid = await sys.fork()
        if pid == 0:
            if await sys.fork() == 0:
                await sys.nanosleep(0.001)   # an orphan by then
                await sys.exit(9)
            await sys.exit(8)
        await sys.nanosleep(0.0005)          # its child is a zombie meanwhile
        await sys.waitpid(pid, 0)
        await sys.exit(3)
    return k.spawn("/bin/few")


def sigchld_ignored(k):
    """Spawn a program that sets SIGCHLD to SIG_IGN and forks two children, which reap
    themselves. Returns the task."""
    @k.program("/bin/ign")
    async def ign(sys):
        await sys.sigaction(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
        for _ in range(2):
            if await sys.fork() == 0:
                await sys.compute(5_000_000)
                await sys.exit(0)
        await sys.nanosleep(0.02)
    return k.spawn("/bin/ign")


def forker(k):
    """Spawn a program that forks a child which exits 2, waits for it and prints "done". Returns
    the task."""
    @k.program("/bin/forker")
    async def forker(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(2)
        await sys.waitpid(pid, 0)
        await sys.print("done")
    return k.spawn("/bin/forker")
