"""fs/exec.c and vfork: exec keeps the pid and resets what Linux resets; a vfork parent sleeps
until its child execs or exits."""
import errno
import os

from gktest import lines, run_checked, spawn_run


def test_exec_keeps_pid_and_passes_argv_env(k):
    @k.program("/bin/echoargs")
    async def echoargs(sys, *args):
        await sys.print("echo", await sys.getpid(), list(args), sys.argv[0], sys.environ.get("X"))

    async def main(sys):
        me = await sys.getpid()
        await sys.print("before", me)
        await sys.execve("/bin/echoargs", ["/bin/echoargs", "a", "b"], {"X": "1"})
        await sys.print("not reached")
    t = spawn_run(k, main)
    # main(sys, *argv) gets argv[0] too, as C's main does.
    assert lines(k) == [f"before {t.pid}", f"echo {t.pid} ['/bin/echoargs', 'a', 'b'] /bin/echoargs 1"]
    assert t.comm == "echoargs" and t.argv == ["/bin/echoargs", "a", "b"]


def test_exec_missing_program_is_enoent(k):
    async def main(sys):
        try:
            await sys.execve("/bin/nothing")
        except FileNotFoundError as e:
            await sys.print("ENOENT", e.errno == errno.ENOENT)
    t = spawn_run(k, main)
    assert lines(k) == ["ENOENT True"] and t.exit_code == 0


def test_exec_builtin_true_and_false(k):
    async def main(sys):
        for prog in ("/bin/true", "/bin/false"):
            pid = await sys.fork()
            if pid == 0:
                await sys.execve(prog)
            _, st = await sys.waitpid(pid, 0)
            await sys.print(prog, os.WEXITSTATUS(st))
    spawn_run(k, main)
    assert lines(k) == ["/bin/true 0", "/bin/false 1"]


def test_exec_is_traced_with_linux_names(k):
    async def main(sys):
        await sys.execve("/bin/true")
    spawn_run(k, main)
    tree = k.trace.tree("__x64_sys_execve", args=False)
    for fn in ("do_execveat_common", "bprm_execve", "exec_binprm", "search_binary_handler", "load_elf_binary",
               "begin_new_exec", "exec_mmap"):
        assert fn in tree
    assert any(e.name == "sched_process_exec" for e in k.trace.events)


def test_vfork_parent_waits_for_exit(k):
    async def main(sys):
        pid = await sys.vfork()
        if pid == 0:
            await sys.nanosleep(0.002)
            await sys.print("child first")
            await sys.exit(5)
        await sys.print("parent after")
        _, st = await sys.waitpid(pid, 0)
        await sys.print(os.WEXITSTATUS(st))
    spawn_run(k, main)
    assert lines(k) == ["child first", "parent after", "5"]


def test_vfork_parent_resumes_at_exec(k):
    @k.program("/bin/slow")
    async def slow(sys):
        await sys.nanosleep(0.005)
        await sys.print("exec'd child done")

    async def main(sys):
        pid = await sys.vfork()
        if pid == 0:
            await sys.execve("/bin/slow")
        await sys.print("parent resumed")
        await sys.waitpid(pid, 0)
    k.program("/bin/t")(main)
    parent = k.spawn("/bin/t")
    k.run(until=lambda k: parent.state == "D")
    assert "wait_for_vfork_done" in parent.kernel_stack
    run_checked(k)
    assert lines(k) == ["parent resumed", "exec'd child done"]
