"""cpp/usr/builtin.cpp: the binaries every kernel boots with. /sbin/init adopts and reaps what
k.spawn() starts (sigwaitinfo(SIGCHLD), then wait4(-1, WNOHANG) until none is left); /bin/true
exits 0 and /bin/false 1."""
import os
import signal

from gktest import EXIT_DEAD, run_checked, spawn_run, wstatus, zombies


def test_init_reaps_spawned_programs(k):
    """init(1) is the parent of every spawned program and reaps it however it ended: exit, crash or signal."""
    @k.program("/bin/seven")
    async def seven(sys):
        await sys.exit(7)

    @k.program("/bin/crash")
    async def crash(sys):
        raise RuntimeError("boom")

    @k.program("/bin/victim")
    async def victim(sys):
        await sys.pause()

    @k.program("/bin/killer")
    async def killer(sys, _argv0, victim_pid):
        await sys.kill(int(victim_pid), signal.SIGKILL)

    ts = [k.spawn("/bin/seven"), k.spawn("/bin/true"), k.spawn("/bin/false"), k.spawn("/bin/crash")]
    v = k.spawn("/bin/victim")
    assert all(t.real_parent.pid == 1 for t in ts + [v])
    k.run()
    ts.append(k.spawn("/bin/killer", ["/bin/killer", str(v.pid)]))
    run_checked(k)
    assert zombies(k) == [] and k.init.children == []
    for t in ts + [v]:
        # The view keeps the task_struct: its exit status outlives release_task.
        assert t.reaped and t.state == "X" and t.exit_state == EXIT_DEAD
    seven_t, true, false, crashed, killer_t = ts
    assert os.WIFEXITED(seven_t.exit_code) and os.WEXITSTATUS(seven_t.exit_code) == 7
    assert os.WEXITSTATUS(true.exit_code) == 0 and os.WEXITSTATUS(false.exit_code) == 1
    assert os.WIFSIGNALED(crashed.exit_code) and os.WTERMSIG(crashed.exit_code) == signal.SIGSEGV
    assert os.WIFSIGNALED(v.exit_code) and os.WTERMSIG(v.exit_code) == signal.SIGKILL
    assert killer_t.exit_code == 0


def test_exec_builtin_true_and_false(k):
    """true(1) exits 0 and false(1) exits 1, exec'd from a forked child."""
    got = {}

    async def main(sys):
        for prog in ("/bin/true", "/bin/false"):
            pid = await sys.fork()
            if pid == 0:
                await sys.execve(prog)
            _, st = await sys.waitpid(pid, 0)
            got[prog] = wstatus(st)
    spawn_run(k, main)
    assert got == {"/bin/true": ("exited", 0), "/bin/false": ("exited", 1)}
