"""kernel/fork.c (cpp/kernel/fork.cpp): fork returns twice, vfork suspends the parent until the
child execs or exits, copy_process enforces RLIMIT_NPROC and starts the child with no pending
signals."""
import errno
import resource
import signal as S

from gktest import errname, run_checked, spawn_run, wstatus


def test_fork_returns_twice(k):
    """fork(2): the parent gets the child's pid, the child gets 0 and sees its parent in getppid (LTP fork01)."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        pid = await sys.fork()
        if pid == 0:
            got["child"] = (await sys.getpid(), await sys.getppid())
            return 0
        got["parent"] = (me, pid)
        await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    assert got == {"parent": (t.pid, t.pid + 1), "child": (t.pid + 1, t.pid)}


def test_vfork_parent_waits_for_exit(k):
    """vfork(2): the parent is suspended until the child exits; it then reaps the child's status."""
    order, got = [], {}

    async def main(sys):
        pid = await sys.vfork()
        if pid == 0:
            await sys.nanosleep(0.002)
            order.append("child exits")
            await sys.exit(5)
        order.append("parent resumes")
        _, st = await sys.waitpid(pid, 0)
        got["status"] = wstatus(st)
    spawn_run(k, main)
    assert order == ["child exits", "parent resumes"]
    assert got == {"status": ("exited", 5)}


def test_vfork_parent_resumes_at_exec(k):
    """vfork(2): the parent sleeps in wait_for_vfork_done (TASK_UNINTERRUPTIBLE) only until the child execs."""
    order = []

    @k.program("/bin/slow")
    async def slow(sys):
        await sys.nanosleep(0.005)
        order.append("exec'd child done")

    async def main(sys):
        pid = await sys.vfork()
        if pid == 0:
            await sys.execve("/bin/slow")
        order.append("parent resumed")
        await sys.waitpid(pid, 0)
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: parent.state == "D")
    assert "wait_for_vfork_done" in parent.kernel_stack
    run_checked(k)
    assert order == ["parent resumed", "exec'd child done"]


def test_fork_child_does_not_inherit_pending(k):
    """fork(2): the child starts with an empty pending set but the parent's signal mask (copy_process)."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR1})
        await sys.kill(me, S.SIGUSR1)
        pid = await sys.fork()
        if pid == 0:
            got["child"] = (sorted(await sys.sigpending()), sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
            return 0
        await sys.waitpid(pid, 0)
        got["parent"] = sorted(await sys.sigpending())
    spawn_run(k, main)
    assert got == {"child": ([], [S.SIGUSR1]), "parent": [S.SIGUSR1]}


def test_rlimit_nproc_eagain_for_non_root(k):
    """fork(2): EAGAIN once a non-root user has RLIMIT_NPROC processes; setuid(0) back is EPERM."""
    got = {}

    async def main(sys):
        await sys.setrlimit(resource.RLIMIT_NPROC, (3, 3))
        await sys.setuid(1000)
        got["uid"] = (await sys.getuid(), await sys.geteuid())
        kids = []
        try:
            while True:
                pid = await sys.fork()
                if pid == 0:
                    await sys.nanosleep(0.01)
                    await sys.exit(0)
                kids.append(pid)
        except BlockingIOError as e:
            got["eagain after"] = (len(kids), e.errno == errno.EAGAIN)
        for p in kids:
            await sys.waitpid(p, 0)
        try:
            await sys.setuid(0)
        except PermissionError as e:
            got["setuid(0)"] = errname(e)
    spawn_run(k, main)
    # the limit counts the user's processes: this one plus two children
    assert got == {"uid": (1000, 1000), "eagain after": (2, True), "setuid(0)": "EPERM"}


def test_root_ignores_rlimit_nproc(k):
    """fork(2): RLIMIT_NPROC does not apply to root (CAP_SYS_RESOURCE / CAP_SYS_ADMIN)."""
    got = {}

    async def main(sys):
        await sys.setrlimit(resource.RLIMIT_NPROC, (1, 1))
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        _, st = await sys.waitpid(pid, 0)
        got["status"] = wstatus(st)
    spawn_run(k, main)
    assert got == {"status": ("exited", 0)}
