"""Signal delivery with handlers (issue 3): get_signal -> handle_signal -> setup_rt_frame, the
handler as a nested user-mode call with the mask Linux installs, rt_sigreturn, SA_RESTART vs
EINTR, SA_SIGINFO, SA_RESETHAND, SA_NODEFER, nesting, sigsuspend/pause, and replay at fork."""
import errno
import os
import signal as S

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def test_handler_crash_kills_with_sigsegv(k):
    async def main(sys):
        async def h(sys, signo):
            raise ValueError("bad handler")
        await sys.sigaction(S.SIGUSR1, h)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
    t = spawn_run(k, main)
    assert t.exit_code == S.SIGSEGV and "bad handler" in t.traceback


def test_handler_must_be_async(k):
    async def main(sys):
        def h(sys, signo):
            pass
        await sys.sigaction(S.SIGUSR1, h)
    t = spawn_run(k, main)
    assert "async def handler" in t.traceback


def test_fork_child_replays_deliveries_and_rebinds_handlers(k):
    async def main(sys):
        async def h(sys, signo):
            await sys.print("handler in", await sys.getpid())
        await sys.sigaction(S.SIGUSR1, h)
        me = await sys.getpid()
        await sys.kill(me, S.SIGUSR1)  # delivered before the fork: replayed silently in the child
        pid = await sys.fork()
        if pid == 0:
            child = await sys.getpid()
            await sys.kill(child, S.SIGUSR1)  # the child's own copy of the handler runs
            await sys.print("child done", (await sys.sigaction(S.SIGUSR1)) is h)
            return 0
        await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    c = t.pid + 1
    assert lines(k) == [f"handler in {t.pid}", f"handler in {c}", "child done True"]


def test_fork_inside_a_handler(k):
    async def main(sys):
        async def h(sys, signo):
            pid = await sys.fork()
            if pid == 0:
                await sys.print("child in handler")
                await sys.exit(3)
            _, st = await sys.waitpid(pid, 0)
            await sys.print("parent handler reaped", os.WEXITSTATUS(st))
        await sys.sigaction(S.SIGUSR1, h)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
        await sys.print("main continues")
    spawn_run(k, main)
    assert lines(k) == ["child in handler", "parent handler reaped 3", "main continues"]
