"""Job control (issue 3): stop signals stop the process (TASK_STOPPED), the parent gets SIGCHLD
with CLD_STOPPED unless SA_NOCLDSTOP, waitpid reports stops and continues with Linux's status
encoding, SIGCONT resumes, and stop/continue signals cancel each other at generation."""
import os
import signal as S

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def sleeper_child():
    async def child(sys):
        for i in range(3):
            await sys.nanosleep(0.01)
        await sys.exit(5)
    return child


def test_stopped_task_state_and_sigchld_info(k):
    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        # A job of its own, whose parent (in another group of the session) can continue it:
        # its group is not orphaned, so SIGTSTP stops it (the spawned program's group is).
        await sys.setpgid(pid, pid)
        await sys.kill(pid, S.SIGTSTP)
        info = await sys.sigwaitinfo({S.SIGCHLD})
        await sys.print(info.si_code == os.CLD_STOPPED, info.si_status, info.si_pid == pid)
        await sys.nanosleep(0.01)
        await sys.kill(pid, S.SIGCONT)
        info = await sys.sigwaitinfo({S.SIGCHLD})
        await sys.print(info.si_code == os.CLD_CONTINUED, info.si_status)
        await sys.waitpid(pid, 0)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: len(t.children) == 1 and t.children[0].state == "T")
    child = t.children[0]
    assert child.state == "T" and child.on_rq == 0
    run_checked(k)
    assert lines(k) == ["True 20 True", "True 18"]


def test_sa_nocldstop_suppresses_the_stop_sigchld(k):
    async def main(sys):
        await sys.sigaction(S.SIGCHLD, S.SIG_DFL, gk.SA_NOCLDSTOP)
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        await sys.kill(pid, S.SIGSTOP)
        await sys.waitpid(pid, os.WUNTRACED)
        await sys.print("pending after stop", await sys.sigpending())
        await sys.kill(pid, S.SIGKILL)  # a stopped process still dies of SIGKILL
        _, st = await sys.waitpid(pid, 0)
        await sys.print(os.WTERMSIG(st), await sys.sigpending())
    spawn_run(k, main)
    assert lines(k) == ["pending after stop set()", "9 {17}"]


def test_sigcont_discards_pending_stops_and_stop_discards_sigcont(k):
    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGTSTP, S.SIGCONT})
        await sys.kill(me, S.SIGTSTP)
        await sys.print(sorted(await sys.sigpending()))
        await sys.kill(me, S.SIGCONT)
        await sys.print(sorted(await sys.sigpending()))
        await sys.kill(me, S.SIGTSTP)
        await sys.print(sorted(await sys.sigpending()))
    spawn_run(k, main)
    assert lines(k) == ["[20]", "[18]", "[20]"]


def test_orphaned_group_ignores_terminal_stops(k):
    async def main(sys):
        await sys.setsid()  # a new session and group: its only member's parent (init) is outside
        await sys.kill(await sys.getpid(), S.SIGTSTP)
        await sys.print("not stopped: orphaned group")
    t = spawn_run(k, main)
    assert lines(k) == ["not stopped: orphaned group"]
