"""drivers/tty (cpp/drivers/tty/console.cpp): the console is fds 0, 1 and 2. A read sleeps in
tty_read until the host types; writes to fd 1 and fd 2 are kept apart (k.stdout, k.stderr) and
interleaved on k.console; the console keeps only the newest output and counts what it dropped."""
import pytest

from gktest import run_checked


def test_console_read_blocks_until_input(k):
    """read(2) of the console sleeps on its wait queue in tty_read until input comes; after EOF it returns b""."""
    got = {}

    async def main(sys):
        got["read"] = await sys.read(0, 100)
        got["after eof"] = await sys.read(0, 100)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run()
    assert t.state == "S" and "tty_read" in t.kernel_stack
    assert [w.task for w in k._k.console_wait.waiters] == [t]
    k.console_input("hello", eof=True)
    run_checked(k)
    assert got == {"read": b"hello", "after eof": b""}


def test_stdout_and_stderr_are_kept_apart_and_dup2_merges_them(k):
    """fd 2 is the console's own open: k.stderr has what went there, k.stdout fd 1's; dup2(1, 2) (2>&1) merges them."""
    # k.console shows both interleaved, as a terminal does.
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
    """The console keeps the newest output (at most 2 MiB between trims, 16384 writes) and counts what it let go."""
    # A program printing without end cannot exhaust the machine.
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
