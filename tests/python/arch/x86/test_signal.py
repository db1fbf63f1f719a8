"""arch/x86/kernel/signal.c: rt_sigreturn whose stack pointer is not at a signal frame (none at
all, or a handler calling it itself) is a bad frame: signal_fault() logs it and sends SIGSEGV
with force_sig(), which a handler may catch; a blocked or ignored SIGSEGV is unblocked and reset
to SIG_DFL, so the process dies."""
import os
import signal as S

import pytest

import glasskernel as gk
from gktest import lines, spawn_run

SI_KERNEL = 0x80


def _status_of_child(k, child):
    """Run `child` in a forked process; print how it ended, as the parent's wait4() saw it."""
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await child(sys)
            await sys.print("child survived")
            return 0
        _, st = await sys.waitpid(pid, 0)
        await sys.print("signaled", os.WIFSIGNALED(st) and S.Signals(os.WTERMSIG(st)).name, "core", os.WCOREDUMP(st))
    spawn_run(k, main)
    return lines(k)


def test_rt_sigreturn_without_a_frame_kills_with_sigsegv(k):
    """signal_fault(): force_sig(SIGSEGV); with the default action the process dies (no core:
    RLIMIT_CORE is 0), and the kernel log names the bad frame."""
    async def child(sys):
        await sys.syscall(gk.NR.rt_sigreturn)
    assert _status_of_child(k, child) == ["signaled SIGSEGV core False"]
    assert "bad frame in rt_sigreturn" in k.dmesg()


def test_rt_sigreturn_bad_frame_sigsegv_is_caught_by_a_handler(k):
    """force_sig() keeps an installed, unblocked handler: it runs with si_code SI_KERNEL, and the
    program continues after its rt_sigreturn, which returned 0."""
    async def main(sys):
        async def on_segv(sys, signo, info):
            await sys.print("handler", S.Signals(signo).name, info.si_code == SI_KERNEL)
        await sys.sigaction(S.SIGSEGV, on_segv, gk.SA_SIGINFO)
        ret = await sys.syscall(gk.NR.rt_sigreturn)
        await sys.print("returned", ret, sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
    t = spawn_run(k, main)
    assert lines(k) == ["handler SIGSEGV True", "returned 0 []"]
    assert t.exit_code == 0


@pytest.mark.parametrize("how", ["blocked", "ignored"])
def test_rt_sigreturn_bad_frame_sigsegv_cannot_be_blocked_or_ignored(k, how):
    """force_sig_info_to_task(): a blocked or ignored SIGSEGV is unblocked and reset to SIG_DFL,
    never delivered to a handler the program had blocked."""
    async def child(sys):
        async def on_segv(sys, signo):
            await sys.print("handler ran")
        if how == "blocked":
            await sys.sigaction(S.SIGSEGV, on_segv)
            await sys.sigprocmask(S.SIG_BLOCK, {S.SIGSEGV})
        else:
            await sys.sigaction(S.SIGSEGV, S.SIG_IGN)
        await sys.syscall(gk.NR.rt_sigreturn)
    assert _status_of_child(k, child) == ["signaled SIGSEGV core False"]


def test_rt_sigreturn_made_by_a_handler_itself_is_a_bad_frame(k):
    """The frame is found through the stack pointer: a handler making rt_sigreturn itself has sp
    below its frame, not at it, so the frame it names is bad: SIGSEGV."""
    async def child(sys):
        async def on_usr1(sys, signo):
            await sys.syscall(gk.NR.rt_sigreturn)
            await sys.print("handler survived")
        await sys.sigaction(S.SIGUSR1, on_usr1)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
    assert _status_of_child(k, child) == ["signaled SIGSEGV core False"]


def test_rt_sigreturn_from_a_handler_returns_to_the_interrupted_call(k):
    """The good frame, for contrast: the handler's own return goes through rt_sigreturn, which
    restores the mask and gives the interrupted kill() its result."""
    async def main(sys):
        async def on_usr1(sys, signo):
            await sys.print("in handler", sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
        await sys.sigaction(S.SIGUSR1, on_usr1)
        await sys.print("kill", await sys.kill(await sys.getpid(), S.SIGUSR1))
        await sys.print("after", sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
    spawn_run(k, main)
    assert lines(k) == ["in handler [10]", "kill None", "after []"]
    assert "bad frame" not in k.dmesg()
