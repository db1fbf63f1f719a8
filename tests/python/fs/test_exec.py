"""fs/exec.c (cpp/fs/exec.cpp): execve keeps the pid and hands the new program its argv and
environment, a missing file is ENOENT, the call chain has Linux's names, and begin_new_exec resets
caught signals to SIG_DFL while ignored ones and the mask survive."""
import signal as S

from gktest import errname, spawn_run


def test_exec_keeps_pid_and_passes_argv_env(k):
    """execve(2): same pid, the new program gets argv and envp, comm is its name; nothing after it runs (LTP execve01)."""
    got = {}

    @k.program("/bin/echoargs")
    async def echoargs(sys, *args):
        got["exec'd"] = (await sys.getpid(), list(args), sys.argv[0], sys.environ.get("X"))

    async def main(sys):
        got["before"] = await sys.getpid()
        await sys.execve("/bin/echoargs", ["/bin/echoargs", "a", "b"], {"X": "1"})
        got["not reached"] = True
    t = spawn_run(k, main)
    # main(sys, *argv) gets argv[0] too, as C's main does.
    assert got == {"before": t.pid, "exec'd": (t.pid, ["/bin/echoargs", "a", "b"], "/bin/echoargs", "1")}
    assert t.comm == "echoargs" and t.argv == ["/bin/echoargs", "a", "b"]


def test_exec_missing_program_is_enoent(k):
    """execve(2) of a path that does not exist fails with ENOENT and the caller goes on."""
    got = {}

    async def main(sys):
        try:
            await sys.execve("/bin/nothing")
        except FileNotFoundError as e:
            got["execve"] = errname(e)
    t = spawn_run(k, main)
    assert got == {"execve": "ENOENT"} and t.exit_code == 0


def test_exec_is_traced_with_linux_names(k):
    """execve(2) runs do_execveat_common -> bprm_execve -> ... -> begin_new_exec and emits sched_process_exec."""
    async def main(sys):
        await sys.execve("/bin/true")
    spawn_run(k, main)
    tree = k.trace.tree("__x64_sys_execve", args=False)
    for fn in ("do_execveat_common", "bprm_execve", "exec_binprm", "search_binary_handler", "load_elf_binary",
               "begin_new_exec", "exec_mmap"):
        assert fn in tree
    assert any(e.name == "sched_process_exec" for e in k.trace.events)


def test_exec_resets_caught_keeps_ignored_and_mask(k):
    """execve(2): ignored signals stay ignored and the signal mask is kept (flush_signal_handlers)."""
    got = {}

    @k.program("/bin/show")
    async def show(sys):
        got["after exec"] = (await sys.sigaction(S.SIGTERM) == S.SIG_IGN, sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))

    async def main(sys):
        await sys.sigaction(S.SIGTERM, S.SIG_IGN)
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR2})
        await sys.execve("/bin/show")
    spawn_run(k, main)
    assert got == {"after exec": (True, [S.SIGUSR2])}
