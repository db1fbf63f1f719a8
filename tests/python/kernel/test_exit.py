"""kernel/exit.c (cpp/kernel/exit.cpp): zombies stay until their parent waits; wait4/waitpid/waitid
report exit, stop and continue with Linux's status encoding and errno; orphans are reparented to
init or a child subreaper (forget_original_parent) and reaped; SIGCHLD ignored means autoreap; and
do_exit repairs what a dying thread left behind."""
import os
import signal

import pytest

import glasskernel as gk
from glasskernel.syscalls import NR
from gktest import EXIT_ZOMBIE, errname, errno_of, run_checked, spawn_run, wstatus, zombies

S = signal


# ---- zombies and wait4/waitpid ----

def test_child_is_zombie_until_parent_waits(k):
    """exit(2): the child stays EXIT_ZOMBIE with its exit code until the parent's wait4 reaps it (LTP wait401)."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(3)
        await sys.nanosleep(0.01)
        got["slept"] = True
        wpid, status = await sys.waitpid(pid, 0)
        got["waited"] = (wpid == pid, wstatus(status))
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: not got and any(c.state == "Z" for c in parent.children))
    child = parent.children[0]
    assert child.state == "Z" and child.exit_state == EXIT_ZOMBIE
    assert child.exit_code == 3 << 8
    assert parent.signal.wait_chldexit is not None
    run_checked(k)
    assert got == {"slept": True, "waited": (True, ("exited", 3))}
    assert child.reaped and child.state == "X"


def test_wait_sleeps_on_wait_chldexit(k):
    """wait4(2): a parent with a live child sleeps in do_wait on signal->wait_chldexit until the child exits."""
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.005)
            await sys.exit(0)
        await sys.waitpid(pid, 0)
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: parent.state == "S" and len(parent.signal.wait_chldexit) == 1)
    waiters = parent.signal.wait_chldexit.waiters
    assert [w.task.pid for w in waiters] == [parent.pid]
    assert "do_wait" in parent.kernel_stack
    run_checked(k)
    assert parent.reaped


@pytest.mark.parametrize("code", [0, 1, 7, 255, 256 + 4])
def test_exit_status_encoding(child_status, code):
    """exit(2)/wait4(2): the status is (code & 0xff) << 8, WIFEXITED and not WIFSIGNALED."""
    async def body(sys):
        await sys.exit(code)
    status = child_status(body)
    assert status == (code & 0xff) << 8
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == code & 0xff and not os.WIFSIGNALED(status)


def test_waitpid_any_and_order(k):
    """waitpid(-1): reaps children in the order they exit; with none left it fails with ECHILD (LTP waitpid06)."""
    got = {}

    async def main(sys):
        for c in (1, 2, 3):
            if await sys.fork() == 0:
                await sys.nanosleep(c * 0.001)
                await sys.exit(c)
        order = []
        for _ in range(3):
            pid, status = await sys.waitpid(-1, 0)
            order.append(os.WEXITSTATUS(status))
        got["order"] = order
        try:
            await sys.waitpid(-1, 0)
        except ChildProcessError as e:
            got["then"] = errname(e)
    spawn_run(k, main)
    assert got == {"order": [1, 2, 3], "then": "ECHILD"}


def test_wnohang_returns_zero_while_child_runs(k):
    """waitpid(WNOHANG): returns (0, 0) while the child still runs; a blocking waitpid then reaps it."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        got["nohang"] = await sys.waitpid(pid, os.WNOHANG)
        got["reaped"] = (await sys.waitpid(pid, 0))[0] == pid
    spawn_run(k, main)
    assert got == {"nohang": (0, 0), "reaped": True}


def test_waitpid_by_process_group(k):
    """waitpid(-pgid) waits for that group's children, waitpid(0) for the caller's group; no such group is ECHILD."""
    got = {}

    async def main(sys):
        a = await sys.fork()
        if a == 0:
            await sys.setpgid(0, 0)
            await sys.nanosleep(0.002)
            await sys.exit(10)
        b = await sys.fork()
        if b == 0:
            await sys.nanosleep(0.001)
            await sys.exit(20)
        await sys.setpgid(a, a)  # race-free: the parent also moves it
        pid, st = await sys.waitpid(-a, 0)
        got["group"] = (pid == a, os.WEXITSTATUS(st))
        pid, st = await sys.waitpid(0, 0)  # our own group: b
        got["own"] = (pid == b, os.WEXITSTATUS(st))
        got["no such group"] = await errno_of(sys.waitpid(-12345, 0))
    spawn_run(k, main)
    assert got == {"group": (True, 10), "own": (True, 20), "no such group": "ECHILD"}


def test_waitpid_not_a_child_is_echild(k):
    """wait4(2): a pid that is not the caller's child (init, or no process at all) is ECHILD (LTP wait402)."""
    got = {}

    async def main(sys):
        got["errnos"] = [await errno_of(sys.waitpid(pid, 0)) for pid in (1, 99999)]
    spawn_run(k, main)
    assert got == {"errnos": ["ECHILD", "ECHILD"]}


def test_wait4_option_and_pid_errors(k):
    """wait4(2): an unknown option bit is EINVAL; pid INT_MIN (which cannot be negated) is ESRCH."""
    got = {}

    async def main(sys):
        got["errnos"] = [await errno_of(sys.wait4(pid, opt)) for pid, opt in ((-1, 0x1000), (-(2**31), 0))]
    spawn_run(k, main)
    assert got == {"errnos": ["EINVAL", "ESRCH"]}


def test_wait4_rusage_comes_from_the_virtual_clock(k):
    """wait4(2) and getrusage(RUSAGE_CHILDREN): the reaped child's user time, as the virtual clock counted it."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.compute(3_000_000)
            await sys.exit(0)
        _, _, ru = await sys.wait4(pid, 0)
        got["wait4"] = (ru.ru_utime, ru.ru_stime > 0)
        got["children"] = (await sys.getrusage(-1)).ru_utime
    spawn_run(k, main)
    assert got == {"wait4": (0.003, True), "children": 0.003}


def test_wait4_bad_status_address_reaps_then_efault(k):
    """kernel_wait4 writes the status after reaping: a bad stat_addr loses it (EFAULT), and the child is gone."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(3)
        await sys.nanosleep(0.001)
        got["bad stat_addr"] = await errno_of(sys.syscall(gk.NR.wait4, pid, 0x10, 0, 0))
        got["then"] = await errno_of(sys.waitpid(pid, 0))
    spawn_run(k, main)
    assert got == {"bad stat_addr": "EFAULT", "then": "ECHILD"}


def test_waitid_variants(k):
    """waitid(2): WNOWAIT leaves the zombie, P_ALL reaps it, WNOHANG with nothing ready returns None; bad arguments: EINVAL."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(9)
        await sys.nanosleep(0.001)
        r = await sys.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        got["nowait"] = (r.si_pid == pid, r.si_code == os.CLD_EXITED, r.si_status, r.si_signo)
        r = await sys.waitid(os.P_ALL, 0, os.WEXITED)
        got["reaped"] = (r.si_pid == pid, r.si_status)
        pid2 = await sys.fork()
        if pid2 == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        got["nohang"] = await sys.waitid(os.P_PGID, 0, os.WEXITED | os.WNOHANG)
        got["errors"] = [await errno_of(sys.waitid(*args)) for args in (
            (os.P_PID, pid2, 0), (os.P_PID, 0, os.WEXITED), (os.P_PGID, -1, os.WEXITED), (7, 0, os.WEXITED),
            (os.P_PID, pid2, os.WEXITED | 0x1000))]
        await sys.waitid(os.P_PID, pid2, os.WEXITED)
    spawn_run(k, main)
    assert got == {"nowait": (True, True, 9, S.SIGCHLD), "reaped": (True, 9), "nohang": None,
                   "errors": ["EINVAL"] * 5}


def test_wclone_waits_only_for_clone_children(k):
    """wait4(__WCLONE) waits only for children whose exit signal is not SIGCHLD: ECHILD here; __WALL waits for all."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        got["__WCLONE"] = await errno_of(sys.waitpid(pid, gk.__WCLONE))
        got["__WALL"] = (await sys.waitpid(pid, gk.__WALL))[0] == pid
    spawn_run(k, main)
    assert got == {"__WCLONE": "ECHILD", "__WALL": True}


# ---- stopped and continued children (wait_task_stopped, wait_task_continued) ----

def test_stop_and_continue_reported_by_waitpid(k):
    """waitpid(WUNTRACED) reports a stop as 0x137f (SIGSTOP), WCONTINUED a continue as 0xffff, then the exit."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(5)
        await sys.kill(pid, S.SIGSTOP)
        _, got["stopped"] = await sys.waitpid(pid, os.WUNTRACED)
        await sys.kill(pid, S.SIGCONT)
        _, got["continued"] = await sys.waitpid(pid, os.WCONTINUED)
        _, got["exited"] = await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert os.WIFSTOPPED(got["stopped"]) and os.WSTOPSIG(got["stopped"]) == S.SIGSTOP and got["stopped"] == 0x137f
    assert os.WIFCONTINUED(got["continued"]) and got["continued"] == 0xffff
    assert os.WEXITSTATUS(got["exited"]) == 5


def test_waitid_wstopped_and_wcontinued(k):
    """waitid(WSTOPPED) gives CLD_STOPPED with the stop signal, waitid(WCONTINUED) CLD_CONTINUED with SIGCONT."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        await sys.kill(pid, S.SIGSTOP)
        r = await sys.waitid(os.P_PID, pid, os.WSTOPPED)
        got["stopped"] = (r.si_code == os.CLD_STOPPED, r.si_status)
        await sys.kill(pid, S.SIGCONT)
        r = await sys.waitid(os.P_PID, pid, os.WCONTINUED)
        got["continued"] = (r.si_code == os.CLD_CONTINUED, r.si_status)
        await sys.waitid(os.P_PID, pid, os.WEXITED)
    spawn_run(k, main)
    assert got == {"stopped": (True, S.SIGSTOP), "continued": (True, S.SIGCONT)}


# ---- SIGCHLD ignored: the child reaps itself ----

def test_sigchld_ignored_means_autoreap_and_echild(k):
    """exit_notify: with SIGCHLD set to SIG_IGN the child is released at exit, so waitpid gets ECHILD."""
    got = {}

    async def main(sys):
        await sys.sigaction(S.SIGCHLD, S.SIG_IGN)
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(3)
        await sys.nanosleep(0.01)
        got["waitpid"] = await errno_of(sys.waitpid(pid, 0))
    k.program("/bin/t")(main)
    k.spawn("/bin/t")
    run_checked(k)
    assert got == {"waitpid": "ECHILD"}


def test_sa_nocldwait_reaps_children_at_once(k):
    """exit_notify: SA_NOCLDWAIT on SIGCHLD releases children at exit, so wait gets ECHILD."""
    got = {}

    async def main(sys):
        await sys.sigaction(S.SIGCHLD, S.SIG_DFL, gk.SA_NOCLDWAIT)
        if await sys.fork() == 0:
            await sys.exit(0)
        await sys.nanosleep(0.01)
        got["wait"] = await errno_of(sys.wait())
    spawn_run(k, main)
    assert got == {"wait": "ECHILD"}


# ---- orphans: forget_original_parent, find_child_reaper ----

def test_orphan_is_reparented_to_init_and_reaped(k):
    """forget_original_parent: a child whose parent exits is adopted by init (getppid() is 1) and reaped by it."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.01)
            got["orphan's ppid"] = await sys.getppid()
            await sys.exit(0)
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: parent.reaped)
    orphan = k.tasks[-1]
    assert orphan.real_parent.pid == 1
    assert orphan in k.init.children
    run_checked(k)
    assert got == {"orphan's ppid": 1}
    assert orphan.reaped
    assert [t.pid for t in k.tasks] == [1, 2, 3, 4]


def test_zombie_orphan_is_reaped_by_init(k):
    """forget_original_parent: a zombie whose parent exits without waiting goes to init, which reaps it."""
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(1)
        await sys.nanosleep(0.002)  # the child is a zombie now; we exit without waiting
    spawn_run(k, main)
    assert [x.pid for x in k.tasks] == [1, 2, 3, 4]


def test_init_reaps_orphans_and_zombie_orphans(k):
    """forget_original_parent: orphans go to init, a zombie one announced at once; init reaps all."""
    got = {}

    @k.program("/bin/t")
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(5)                # a zombie when its parent exits
        if await sys.fork() == 0:
            await sys.nanosleep(0.002)       # outlives its parent
            got["orphan's ppid"] = await sys.getppid()
            await sys.exit(6)
        await sys.nanosleep(0.001)
        await sys.exit(0)
    parent = k.spawn("/bin/t")
    zombie, orphan = None, None

    def parent_gone(kk):
        nonlocal zombie, orphan
        if zombie is None:
            kids = parent.children
            if len(kids) == 2:
                zombie, orphan = kids
        return parent.reaped
    k.run(until=parent_gone)
    assert orphan.real_parent.pid == 1 and orphan in k.init.children
    run_checked(k)
    assert got == {"orphan's ppid": 1}
    assert zombies(k) == [] and k.init.children == []
    assert zombie.reaped and os.WEXITSTATUS(zombie.exit_code) == 5
    assert orphan.reaped and os.WEXITSTATUS(orphan.exit_code) == 6


def test_orphan_made_with_another_exit_signal_is_reaped_by_init(k):
    """reparent_leader: an orphan's exit_signal becomes SIGCHLD, so init hears of its death."""
    @k.program("/bin/t")
    async def main(sys):
        pid = await sys.syscall(NR.clone, signal.SIGUSR1, 0, 0, 0, 0)
        if pid == 0:
            await sys.nanosleep(0.002)
            await sys.exit(4)
        await sys.exit(0)
    parent = k.spawn("/bin/t")
    k.run(until=lambda kk: len(parent.children) == 1)
    child = parent.children[0]
    assert child.exit_signal == signal.SIGUSR1
    k.run(until=lambda kk: parent.reaped)
    assert child.real_parent.pid == 1 and child.exit_signal == signal.SIGCHLD
    run_checked(k)
    assert zombies(k) == [] and child.reaped and os.WEXITSTATUS(child.exit_code) == 4


def test_child_subreaper_adopts_orphans(k):
    """find_child_reaper: an orphan goes to the nearest PR_SET_CHILD_SUBREAPER ancestor, which can wait for it."""
    got = {}

    async def main(sys):
        await sys.prctl(gk.PR_SET_CHILD_SUBREAPER, 1)
        got["subreaper"] = await sys.prctl(gk.PR_GET_CHILD_SUBREAPER)
        mid = await sys.fork()
        if mid == 0:
            if await sys.fork() == 0:
                await sys.nanosleep(0.005)
                got["orphan's ppid"] = await sys.getppid()
                await sys.exit(6)
            await sys.exit(0)
        await sys.waitpid(mid, 0)
        _, st = await sys.waitpid(-1, 0)
        got["adopted"] = wstatus(st)
    t = spawn_run(k, main)
    assert got == {"subreaper": 1, "orphan's ppid": t.pid, "adopted": ("exited", 6)}


def test_unwaited_child_of_a_live_parent_stays_a_zombie(k):
    """A live parent's unwaited child stays EXIT_ZOMBIE until that parent waits or exits (wait(2))."""
    got = {}

    @k.program("/bin/lazy")
    async def lazy(sys):
        if await sys.fork() == 0:
            await sys.exit(3)
        await sys.pause()                    # never waits

    @k.program("/bin/patient")
    async def patient(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(9)
        await sys.nanosleep(0.005)
        wpid, status = await sys.waitpid(pid, 0)
        got["waited"] = (wpid == pid, wstatus(status))

    lazy_t = k.spawn("/bin/lazy")
    assert not k.run()                       # nothing left to run: lazy sleeps in pause()
    (z,) = lazy_t.children
    assert z.state == "Z" and z.exit_state == EXIT_ZOMBIE and not z.reaped
    assert z.real_parent.pid == lazy_t.pid and os.WEXITSTATUS(z.exit_code) == 3

    patient_t = k.spawn("/bin/patient")
    k.run(until=lambda kk: any(c.state == "Z" for c in patient_t.children))
    (pz,) = patient_t.children
    assert pz.exit_state == EXIT_ZOMBIE      # still there: its parent sleeps, then waits
    run_checked(k)
    assert got == {"waited": (True, ("exited", 9))}
    assert pz.reaped and patient_t.reaped
    assert zombies(k) == [z.pid]             # lazy's child waits for lazy

    @k.program("/bin/kill")
    async def kill(sys, _argv0, pid):
        await sys.kill(int(pid), signal.SIGKILL)
    k.spawn("/bin/kill", ["/bin/kill", str(lazy_t.pid)])
    run_checked(k)                           # lazy dies: init adopts its zombie and reaps it
    assert zombies(k) == [] and z.reaped and lazy_t.reaped


# ---- do_exit's repairs ----

def test_exiting_with_interrupts_off_is_repaired():
    """do_exit: a thread exiting with interrupts off or preempt_count raised is noted in the log and repaired."""
    k = gk.Kernel()

    async def leaky(kt):
        await kt.local_irq_disable()
        await kt.preempt_disable()

    h = k.kthread_run(leaky, "leaky")
    run_checked(k)
    log = k.dmesg()
    assert f"note: leaky[{h.pid}] exited with irqs disabled" in log
    assert f"note: leaky[{h.pid}] exited with preempt_count 1" in log
    assert not k.sched.cpu_state(0).irqs_disabled

    @k.program("/bin/after")
    async def after(sys):
        await sys.print("still running")
    k.spawn("/bin/after")
    run_checked(k)
    assert "still running" in k.console
