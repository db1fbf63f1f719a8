"""kernel/fork.c and kernel/exit.c through the program API: fork returns twice, zombies stay
until their parent waits, and wait4/waitpid/waitid report status exactly as Linux encodes it."""
import errno
import os

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def test_fork_returns_twice(k):
    async def main(sys):
        me = await sys.getpid()
        pid = await sys.fork()
        if pid == 0:
            await sys.print("child", await sys.getpid(), "parent", await sys.getppid())
            return 0
        await sys.print("parent", me, "child", pid)
        await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    assert sorted(lines(k)) == sorted([f"parent {t.pid} child {t.pid + 1}", f"child {t.pid + 1} parent {t.pid}"])


def test_child_is_zombie_until_parent_waits(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(3)
        await sys.nanosleep(0.01)
        await sys.print("waiting")
        wpid, status = await sys.waitpid(pid, 0)
        await sys.print(wpid == pid, os.WIFEXITED(status), os.WEXITSTATUS(status))
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: k.console == "" and any(c.state == "Z" for c in parent.children))
    child = parent.children[0]
    assert child.state == "Z" and child.exit_state == 0x20
    assert child.exit_code == 3 << 8
    assert parent.signal.wait_chldexit is not None
    run_checked(k)
    assert lines(k) == ["waiting", "True True 3"]
    assert child.reaped and child.state == "X"


def test_wait_sleeps_on_wait_chldexit(k):
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
def test_exit_status_encoding(k, code):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(code)
        _, status = await sys.waitpid(pid, 0)
        await sys.print(status)
    spawn_run(k, main)
    status = int(k.console)
    assert status == (code & 0xff) << 8
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == code & 0xff and not os.WIFSIGNALED(status)


def test_crash_is_reported_as_sigsegv(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            raise RuntimeError("boom")
        _, status = await sys.waitpid(pid, 0)
        await sys.print(os.WIFSIGNALED(status), os.WTERMSIG(status), os.WCOREDUMP(status))
    spawn_run(k, main)
    assert lines(k) == ["True 11 False"]


def test_waitpid_any_and_order(k):
    async def main(sys):
        for c in (1, 2, 3):
            if await sys.fork() == 0:
                await sys.nanosleep(c * 0.001)
                await sys.exit(c)
        got = []
        for _ in range(3):
            pid, status = await sys.waitpid(-1, 0)
            got.append(os.WEXITSTATUS(status))
        await sys.print(got)
        try:
            await sys.waitpid(-1, 0)
        except ChildProcessError as e:
            await sys.print("ECHILD", e.errno == errno.ECHILD)
    spawn_run(k, main)
    assert lines(k) == ["[1, 2, 3]", "ECHILD True"]


def test_wnohang_returns_zero_while_child_runs(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        await sys.print(await sys.waitpid(pid, os.WNOHANG))
        await sys.print((await sys.waitpid(pid, 0))[0] == pid)
    spawn_run(k, main)
    assert lines(k) == ["(0, 0)", "True"]


def test_waitpid_by_process_group(k):
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
        await sys.print("group", pid == a, os.WEXITSTATUS(st))
        pid, st = await sys.waitpid(0, 0)  # our own group: b
        await sys.print("own", pid == b, os.WEXITSTATUS(st))
        try:
            await sys.waitpid(-12345, 0)
        except OSError as e:
            await sys.print(errno.errorcode[e.errno])
    spawn_run(k, main)
    assert lines(k) == ["group True 10", "own True 20", "ECHILD"]


def test_waitpid_not_a_child_is_echild(k):
    async def main(sys):
        for pid in (1, 99999):
            try:
                await sys.waitpid(pid, 0)
            except OSError as e:
                await sys.print(errno.errorcode[e.errno])
    spawn_run(k, main)
    assert lines(k) == ["ECHILD", "ECHILD"]


def test_wait4_option_and_pid_errors(k):
    async def main(sys):
        for pid, opt in ((-1, 0x1000), (-(2**31), 0)):
            try:
                await sys.wait4(pid, opt)
            except OSError as e:
                await sys.print(errno.errorcode[e.errno])
    spawn_run(k, main)
    assert lines(k) == ["EINVAL", "ESRCH"]


def test_wait4_rusage_comes_from_the_virtual_clock(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.compute(3_000_000)
            await sys.exit(0)
        _, _, ru = await sys.wait4(pid, 0)
        await sys.print(ru.ru_utime, ru.ru_stime > 0)
        children = await sys.getrusage(-1)
        await sys.print(children.ru_utime)
    spawn_run(k, main)
    assert lines(k) == ["0.003 True", "0.003"]


def test_waitid_variants(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(9)
        await sys.nanosleep(0.001)
        r = await sys.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        await sys.print("nowait", r.si_pid == pid, r.si_code == os.CLD_EXITED, r.si_status, r.si_signo)
        r = await sys.waitid(os.P_ALL, 0, os.WEXITED)
        await sys.print("reaped", r.si_pid == pid, r.si_status)
        pid2 = await sys.fork()
        if pid2 == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        await sys.print("nohang", await sys.waitid(os.P_PGID, 0, os.WEXITED | os.WNOHANG))
        for args in ((os.P_PID, pid2, 0), (os.P_PID, 0, os.WEXITED), (os.P_PGID, -1, os.WEXITED), (7, 0, os.WEXITED),
                     (os.P_PID, pid2, os.WEXITED | 0x1000)):
            try:
                await sys.waitid(*args)
            except OSError as e:
                await sys.print(errno.errorcode[e.errno])
        await sys.waitid(os.P_PID, pid2, os.WEXITED)
    spawn_run(k, main)
    assert lines(k) == ["nowait True True 9 17", "reaped True 9", "nohang None", "EINVAL", "EINVAL", "EINVAL", "EINVAL", "EINVAL"]


def test_wclone_waits_only_for_clone_children(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        try:
            await sys.waitpid(pid, gk.__WCLONE)
        except OSError as e:
            await sys.print(errno.errorcode[e.errno])
        await sys.print((await sys.waitpid(pid, gk.__WALL))[0] == pid)
    spawn_run(k, main)
    assert lines(k) == ["ECHILD", "True"]


def test_main_return_value_is_exit_code(k):
    async def main(sys):
        return 42
    t = spawn_run(k, main)
    assert t.exit_code == 42 << 8 and t.reaped


def test_system_exit_is_exit(k):
    async def main(sys):
        raise SystemExit(4)
    t = spawn_run(k, main)
    assert t.exit_code == 4 << 8 and t.traceback is None


def test_many_forks_reuse_nothing_live(k):
    async def main(sys):
        pids = []
        for _ in range(20):
            pid = await sys.fork()
            if pid == 0:
                await sys.exit(0)
            pids.append(pid)
        for p in pids:
            await sys.waitpid(p, 0)
        await sys.print(len(set(pids)))
    spawn_run(k, main)
    assert lines(k) == ["20"]
