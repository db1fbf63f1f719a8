"""arch/x86/kernel/signal.c (cpp/arch/x86/kernel/signal.cpp): handle_signal builds the rt frame
(setup_rt_frame) and decides, by SA_RESTART, whether an interrupted call restarts or fails with
EINTR; rt_sigreturn whose stack pointer is not at a signal frame (none at all, or a handler
calling it itself) is a bad frame: signal_fault() logs it and sends SIGSEGV with force_sig(),
which a handler may catch; a blocked or ignored SIGSEGV is unblocked and reset to SIG_DFL, so the
process dies."""
import signal as S

import pytest

import glasskernel as gk
from gktest import run_checked, spawn_run, wstatus

SI_KERNEL = 0x80


def test_frame_is_visible_while_the_handler_runs(k):
    """setup_rt_frame: while the handler runs, its frame holds the signal, the saved mask and the interrupted call."""
    async def main(sys):
        async def h(sys, signo):
            await sys.nanosleep(0.01)
        await sys.sigaction(S.SIGUSR1, h)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: t.signal_frames and t.state == "S")
    f = t.signal_frames[0]
    assert f.sig == S.SIGUSR1 and f.uc_sigmask == set() and f.interrupted_syscall == 62
    assert S.SIGUSR1 in t.blocked
    assert any(e.name == "setup_rt_frame" for e in k.trace.events)
    run_checked(k)
    assert any(e.name == "__x64_sys_rt_sigreturn" for e in k.trace.events)


@pytest.mark.parametrize("flags,expect", [(0, "EINTR"), (gk.SA_RESTART, "restarted")])
def test_sa_restart_vs_eintr_for_wait4(k, flags, expect):
    """handle_signal: a wait4 interrupted by a handler fails with EINTR, or restarts when the action has SA_RESTART."""
    events = []

    async def main(sys):
        async def h(sys, signo):
            events.append("handler")
        await sys.sigaction(S.SIGUSR1, h, flags)
        me = await sys.getpid()
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.001)
            await sys.kill(me, S.SIGUSR1)
            await sys.nanosleep(0.002)
            await sys.exit(4)
        try:
            _, st = await sys.waitpid(pid, 0)
            events.append(("restarted", wstatus(st)))
        except InterruptedError:
            events.append("EINTR")
            await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert events == ["handler", "EINTR" if expect == "EINTR" else ("restarted", ("exited", 4))]


def test_sa_restart_for_console_read(k):
    """handle_signal: SA_RESTART restarts a read(2) of the console that a handler interrupted."""
    events = []

    async def main(sys):
        async def h(sys, signo):
            events.append("tick")
        await sys.sigaction(S.SIGALRM, h, gk.SA_RESTART)
        await sys.setitimer(S.ITIMER_REAL, 0.01)
        events.append(("read", await sys.read(0, 10)))
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: "tick" in events and t.state == "S")
    k.console_input("typed")
    run_checked(k)
    assert events == ["tick", ("read", b"typed")]


def test_rt_sigreturn_without_a_frame_kills_with_sigsegv(k, child_status):
    """signal_fault(): force_sig(SIGSEGV) kills (no core: RLIMIT_CORE is 0), and the log names the bad frame."""
    async def child(sys):
        await sys.syscall(gk.NR.rt_sigreturn)
    assert wstatus(child_status(child)) == ("killed", S.SIGSEGV, False)
    assert "bad frame in rt_sigreturn" in k.dmesg()


def test_rt_sigreturn_bad_frame_sigsegv_is_caught_by_a_handler(k):
    """force_sig() keeps an installed, unblocked handler: it runs with SI_KERNEL, and the bad rt_sigreturn returns 0."""
    got = {}

    async def main(sys):
        async def on_segv(sys, signo, info):
            got["handler"] = (signo, info.si_code == SI_KERNEL)
        await sys.sigaction(S.SIGSEGV, on_segv, gk.SA_SIGINFO)
        ret = await sys.syscall(gk.NR.rt_sigreturn)
        got["returned"] = (ret, sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
    t = spawn_run(k, main)
    assert got == {"handler": (S.SIGSEGV, True), "returned": (0, [])}
    assert t.exit_code == 0


@pytest.mark.parametrize("how", ["blocked", "ignored"])
def test_rt_sigreturn_bad_frame_sigsegv_cannot_be_blocked_or_ignored(k, child_status, how):
    """force_sig_info_to_task(): a blocked or ignored SIGSEGV is unblocked and reset to SIG_DFL, and it kills."""
    ran = []

    async def child(sys):
        async def on_segv(sys, signo):
            ran.append("handler")
        if how == "blocked":
            await sys.sigaction(S.SIGSEGV, on_segv)
            await sys.sigprocmask(S.SIG_BLOCK, {S.SIGSEGV})
        else:
            await sys.sigaction(S.SIGSEGV, S.SIG_IGN)
        await sys.syscall(gk.NR.rt_sigreturn)
    assert wstatus(child_status(child)) == ("killed", S.SIGSEGV, False)
    assert ran == []   # never delivered to the handler the program had blocked


def test_rt_sigreturn_made_by_a_handler_itself_is_a_bad_frame(k, child_status):
    """The frame is found through sp: a handler's own rt_sigreturn has sp below its frame, so the frame is bad: SIGSEGV."""
    survived = []

    async def child(sys):
        async def on_usr1(sys, signo):
            await sys.syscall(gk.NR.rt_sigreturn)
            survived.append("handler")
        await sys.sigaction(S.SIGUSR1, on_usr1)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
    assert wstatus(child_status(child)) == ("killed", S.SIGSEGV, False)
    assert survived == []


def test_rt_sigreturn_from_a_handler_returns_to_the_interrupted_call(k):
    """The good frame, for contrast: the handler's return restores the mask and gives the interrupted kill() its result."""
    got = {}

    async def main(sys):
        async def on_usr1(sys, signo):
            got["in handler"] = sorted(await sys.sigprocmask(S.SIG_BLOCK, None))
        await sys.sigaction(S.SIGUSR1, on_usr1)
        got["kill"] = await sys.kill(await sys.getpid(), S.SIGUSR1)
        got["after"] = sorted(await sys.sigprocmask(S.SIG_BLOCK, None))
    spawn_run(k, main)
    assert got == {"in handler": [S.SIGUSR1], "kill": None, "after": []}
    assert "bad frame" not in k.dmesg()
