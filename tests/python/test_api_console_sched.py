"""The Python API's errors for misuse, the console (fds 0, 1, 2), descriptors, sched_yield,
preemption by the tick, nice, and crashing programs."""
import errno
import os
import signal

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


# ---- API misuse: clear TypeError / ValueError, the kernel unharmed ----

def test_kernel_argument_errors():
    with pytest.raises(ValueError, match="cpus"):
        gk.Kernel(cpus=0)
    with pytest.raises(TypeError, match="cpus must be an int"):
        gk.Kernel(cpus="2")
    with pytest.raises(ValueError, match="pid_max"):
        gk.Kernel(pid_max=3)
    with pytest.raises(ValueError, match="seed"):
        gk.Kernel(seed=-1)


def test_program_and_spawn_errors(k):
    with pytest.raises(TypeError, match="async def"):
        k.program("/bin/x")(lambda sys: None)
    with pytest.raises(ValueError, match="absolute"):
        k.program("bin/x")
    with pytest.raises(FileNotFoundError):
        k.spawn("/bin/missing")
    with pytest.raises(TypeError, match="argv"):
        k.spawn("/bin/true", "not-a-list")
    with pytest.raises(ValueError, match="until must be one of"):
        k.step("sometimes")
    with pytest.raises(TypeError, match="until must be"):
        k.run(until=5)
    with pytest.raises(TypeError, match="function name"):
        k.break_at(None)
    bp = k.break_at("copy_process")
    bp.remove()
    with pytest.raises(ValueError, match="was removed"):
        bp.remove()
    with pytest.raises(ValueError, match="unknown cost"):
        k.set_cost("nope", 1)
    with pytest.raises(ValueError, match="no cpu"):
        k.sched.runqueue(3)
    assert k.task(4242) is None
    k.check()


def test_program_misuse_crashes_only_that_process(k):
    async def main(sys):
        await sys.waitpid("1", 0)
    t = spawn_run(k, main)
    assert t.exit_code == signal.SIGSEGV
    assert "TypeError: wait4() argument 'upid' must be an int, not str" in t.traceback


def test_awaiting_something_else_crashes_with_a_clear_reason(k):
    import asyncio

    async def main(sys):
        await asyncio.sleep(0)
    t = spawn_run(k, main)
    assert t.exit_code == signal.SIGSEGV
    assert "may only await glasskernel system calls" in t.traceback


def test_uncaught_exception_kills_with_sigsegv_and_keeps_traceback(k):
    async def main(sys):
        await sys.print("about to fail")
        {}["missing"]
    t = spawn_run(k, main)
    assert t.exit_code == signal.SIGSEGV and t.reaped
    assert "KeyError: 'missing'" in t.traceback and "about to fail" in k.console
    # the kernel keeps running
    t2 = k.spawn("/bin/true")
    run_checked(k)
    assert t2.reaped and t2.exit_code == 0


# ---- console and descriptors ----

def test_console_read_blocks_until_input(k):
    async def main(sys):
        data = await sys.read(0, 100)
        await sys.print("got", data)
        await sys.print("eof", await sys.read(0, 100))
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run()
    assert t.state == "S" and "tty_read" in t.kernel_stack
    assert [w.task for w in k._k.console_wait.waiters] == [t]
    k.console_input("hello", eof=True)
    run_checked(k)
    assert lines(k) == ["got b'hello'", "eof b''"]


def test_fd_errors_and_dup(k):
    async def main(sys):
        for call in (sys.write(9, b"x"), sys.read(7, 1), sys.close(5), sys.dup(8)):
            try:
                await call
            except OSError as e:
                await sys.print(errno.errorcode[e.errno])
        fd = await sys.dup(1)
        await sys.write(fd, b"via dup\n")
        await sys.dup2(1, 10)
        await sys.write(10, b"via dup2\n")
        await sys.close(1)
        try:
            await sys.print("lost")
        except OSError as e:
            await sys.write(2, f"closed: {errno.errorcode[e.errno]}\n")
    spawn_run(k, main)
    assert lines(k) == ["EBADF", "EBADF", "EBADF", "EBADF", "via dup", "via dup2", "closed: EBADF"]


def test_fork_shares_descriptors_exec_keeps_them(k):
    @k.program("/bin/writer")
    async def writer(sys):
        await sys.write(5, b"inherited fd 5\n")

    async def main(sys):
        await sys.dup2(1, 5)
        pid = await sys.fork()
        if pid == 0:
            await sys.execve("/bin/writer")
        await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert lines(k) == ["inherited fd 5"]


# ---- scheduling ----

def test_ps_and_pstree(k):
    async def main(sys):
        if await sys.fork() == 0:
            await sys.exit(0)
        await sys.nanosleep(0.001)
        await sys.wait()
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: any(c.state == "Z" for c in t.children))
    tree = k.pstree()
    assert "init(1)" in tree and f"t({t.pid + 1}) Z <defunct>" in tree and "[kthreadd](2)" in tree
    ps = k.ps()
    assert ps.splitlines()[0].split()[:3] == ["PID", "PPID", "PGID"]
    assert "<table>" in k._repr_html_() and "task_struct" in t._repr_html_()
    run_checked(k)


def test_stdout_and_stderr_are_kept_apart_and_dup2_merges_them(k):
    """fd 2 is the console too, but its own open: k.stderr has what went there, k.stdout what went
    to fd 1; after dup2(1, 2) (the shell's 2>&1) stderr goes where stdout goes. k.console shows
    both interleaved, as a terminal does."""
    @k.program("/bin/io")
    async def io(sys):
        await sys.print("out 1")
        await sys.print("err 1", fd=2)
        pid = await sys.fork()
        if pid == 0:
            await sys.print("child err", fd=2)
            await sys.exit(0)
        await sys.waitpid(pid, 0)
        await sys.dup2(1, 2)
        await sys.print("err 2, now to stdout", fd=2)

    t = k.spawn("/bin/io")
    k.run()
    assert k.console == "out 1\nerr 1\nchild err\nerr 2, now to stdout\n"
    assert k.stdout == "out 1\nerr 2, now to stdout\n"
    assert k.stderr == "err 1\nchild err\n"
    assert k.output(t.pid, 2) == "err 1\n" and k.output(t.pid + 1, 2) == "child err\n"
    assert [(w.pid, w.fd) for w in k.console_log] == [(t.pid, 1), (t.pid, 2), (t.pid + 1, 2), (t.pid, 1)]
    with pytest.raises(ValueError):
        k.output(t.pid, 0)


def test_the_console_keeps_only_the_newest_output(k):
    """A program printing without end cannot exhaust the machine: the console keeps the newest
    output (at most 2 MiB between trims, 16384 writes) and counts what it let go."""
    @k.program("/bin/flood")
    async def flood(sys):
        line = b"x" * 199 + b"\n"
        for _ in range(20000):
            await sys.write(1, line)
        await sys.write(1, b"last\n")

    k.spawn("/bin/flood")
    k.run()
    assert len(k.console) <= 2 << 20 and k.console.endswith("x\nlast\n")
    assert k._k.console_dropped + len(k.console) == 20000 * 200 + 5
    assert len(k.console_log) == 16384 and k.console_log[-1].data == b"last\n"
