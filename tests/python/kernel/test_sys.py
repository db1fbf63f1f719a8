"""kernel/sys.c (cpp/kernel/sys.cpp): sessions and process groups (setsid, getsid, setpgid) with
Linux's errno rules, and the resource limits (getrlimit, setrlimit, prlimit)."""
import resource

from gktest import errname, errno_of, spawn_run


def test_setsid_and_getsid(k):
    """setsid(2): a non-leader becomes session and group leader; a leader gets EPERM, as does its setpgid (LTP setsid01)."""
    got = {}

    async def main(sys):
        got["in init's session and group"] = (await sys.getsid(0) == 1, await sys.getpgrp() == 1)
        pid = await sys.fork()
        if pid == 0:
            sid = await sys.setsid()
            got["new session"] = (sid == await sys.getpid(), await sys.getpgrp() == sid)
            got["setsid again"] = await errno_of(sys.setsid())
            got["leader's setpgid"] = await errno_of(sys.setpgid(0, 0))
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        await sys.setpgid(0, 0)  # become a group leader
        got["group leader's setsid"] = await errno_of(sys.setsid())
        got["getsid of no process"] = await errno_of(sys.getsid(99999))
    spawn_run(k, main)
    assert got == {"in init's session and group": (True, True), "new session": (True, True), "setsid again": "EPERM",
                   "leader's setpgid": "EPERM", "group leader's setsid": "EPERM", "getsid of no process": "ESRCH"}


def test_setpgid_rules(k):
    """setpgid(2): EACCES after the child's exec, ESRCH, EINVAL for pgid < 0, EPERM for no such group (LTP setpgid02, setpgid03)."""
    got = {}

    @k.program("/bin/sleeper")
    async def sleeper(sys):
        await sys.nanosleep(0.01)

    async def main(sys):
        a = await sys.fork()
        if a == 0:
            await sys.nanosleep(0.01)
            await sys.exit(0)
        b = await sys.fork()
        if b == 0:
            await sys.execve("/bin/sleeper")
        await sys.nanosleep(0.001)
        await sys.setpgid(a, a)
        got["a leads"] = await sys.getpgid(a) == a
        got["errors"] = [await errno_of(sys.setpgid(pid, pgid))
                         for pid, pgid in ((b, b), (1, 1), (a, -1), (a, 99999), (99998, 0))]
        await sys.setpgid(0, a)  # join the child's group: same session, it exists
        got["joined"] = await sys.getpgrp() == a
        await sys.waitpid(-1, 0)
        await sys.waitpid(-1, 0)
    spawn_run(k, main)
    assert got == {"a leads": True, "errors": ["EACCES", "ESRCH", "EINVAL", "EPERM", "ESRCH"], "joined": True}


def test_rlimit_errors(k):
    """setrlimit(2): EINVAL for a bad resource or soft > hard, EPERM raising a hard limit; prlimit(2) of init unprivileged: EPERM."""
    got = {}

    async def main(sys):
        got["RLIMIT_NOFILE"] = await sys.getrlimit(resource.RLIMIT_NOFILE)
        got["errors"] = [await errno_of(sys.setrlimit(res, lim))
                         for res, lim in ((99, (1, 1)), (resource.RLIMIT_NOFILE, (10, 5)))]
        await sys.setrlimit(resource.RLIMIT_CORE, (0, 10))
        await sys.setuid(1000)
        try:
            await sys.setrlimit(resource.RLIMIT_CORE, (0, 20))
        except PermissionError as e:
            got["raising the hard limit"] = errname(e)
        got["prlimit(0)"] = await sys.prlimit(0, resource.RLIMIT_CORE)
        try:
            await sys.prlimit(1, resource.RLIMIT_CORE)
        except PermissionError as e:
            got["prlimit(init)"] = errname(e)
    spawn_run(k, main)
    assert got == {"RLIMIT_NOFILE": (1024, 4096), "errors": ["EINVAL", "EINVAL"], "raising the hard limit": "EPERM",
                   "prlimit(0)": (0, 10), "prlimit(init)": "EPERM"}
