"""Orphans are reparented to init (or a child subreaper) and reaped; process groups and sessions
follow Linux's errno rules."""
import errno
import os

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def test_orphan_is_reparented_to_init_and_reaped(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.01)
            await sys.print("orphan's parent is", await sys.getppid())
            await sys.exit(0)
        await sys.print("grandchild", pid)
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: parent.reaped)
    orphan = k.tasks[-1]
    assert orphan.real_parent.pid == 1
    assert orphan in k.init.children
    run_checked(k)
    assert lines(k)[-1] == "orphan's parent is 1"
    assert orphan.reaped
    assert [t.pid for t in k.tasks] == [1, 2, 3, 4]


def test_child_subreaper_adopts_orphans(k):
    async def main(sys):
        await sys.prctl(gk.PR_SET_CHILD_SUBREAPER, 1)
        await sys.print("subreaper", await sys.prctl(gk.PR_GET_CHILD_SUBREAPER))
        mid = await sys.fork()
        if mid == 0:
            if await sys.fork() == 0:
                await sys.nanosleep(0.005)
                await sys.print("ppid", await sys.getppid())
                await sys.exit(6)
            await sys.exit(0)
        await sys.waitpid(mid, 0)
        pid, st = await sys.waitpid(-1, 0)
        await sys.print("adopted", os.WEXITSTATUS(st))
    t = spawn_run(k, main)
    assert lines(k) == ["subreaper 1", f"ppid {t.pid}", "adopted 6"]


def test_zombie_orphan_is_reaped_by_init(k):
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(1)
        await sys.nanosleep(0.002)  # the child is a zombie now; we exit without waiting
    t = spawn_run(k, main)
    assert [x.pid for x in k.tasks] == [1, 2, 3, 4]


def test_setsid_and_getsid(k):
    async def main(sys):
        me = await sys.getpid()
        await sys.print(await sys.getsid(0) == 1, await sys.getpgrp() == 1)
        pid = await sys.fork()
        if pid == 0:
            sid = await sys.setsid()
            await sys.print("new session", sid == await sys.getpid(), await sys.getpgrp() == sid)
            try:
                await sys.setsid()
            except PermissionError:
                await sys.print("EPERM again")
            try:
                await sys.setpgid(0, 0)
            except PermissionError:
                await sys.print("leader cannot setpgid")
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        await sys.setpgid(0, 0)  # become a group leader
        try:
            await sys.setsid()
        except PermissionError:
            await sys.print("group leader EPERM")
        try:
            await sys.getsid(99999)
        except ProcessLookupError:
            await sys.print("ESRCH")
    spawn_run(k, main)
    assert lines(k) == ["True True", "new session True True", "EPERM again", "leader cannot setpgid",
                        "group leader EPERM", "ESRCH"]


def test_setpgid_rules(k):
    @k.program("/bin/sleeper")
    async def sleeper(sys):
        await sys.nanosleep(0.01)

    async def main(sys):
        def code(e):
            return errno.errorcode[e.errno]
        a = await sys.fork()
        if a == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        b = await sys.fork()
        if b == 0:
            await sys.execve("/bin/sleeper")
        await sys.nanosleep(0.001)
        await sys.setpgid(a, a)
        await sys.print("a leads", await sys.getpgid(a) == a)
        for pid, pgid in ((b, b), (1, 1), (a, -1), (a, 99999), (99998, 0)):
            try:
                await sys.setpgid(pid, pgid)
            except OSError as e:
                await sys.print(code(e))
        await sys.setpgid(0, a)  # join the child's group: same session, it exists
        await sys.print("joined", await sys.getpgrp() == a)
        await sys.waitpid(-1, 0)
        await sys.waitpid(-1, 0)
    spawn_run(k, main)
    assert lines(k) == ["a leads True", "EACCES", "ESRCH", "EINVAL", "EPERM", "ESRCH", "joined True"]


def test_pgid_outlives_its_leader(k):
    async def main(sys):
        a = await sys.fork()
        if a == 0:
            await sys.setpgid(0, 0)
            if await sys.fork() == 0:
                await sys.nanosleep(0.005)
                await sys.print("member pgid", await sys.getpgrp())
                await sys.exit(0)
            await sys.exit(0)
        await sys.waitpid(a, 0)  # the leader is gone, its group lives on
        await sys.nanosleep(0.01)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    run_checked(k)
    assert lines(k) == [f"member pgid {t.pid + 1}"]
