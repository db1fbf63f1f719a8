"""fs/file.c and fs/read_write.c (cpp/fs/file.cpp, read_write.cpp): the descriptor table. A bad
descriptor is EBADF; dup and dup2 make descriptors that write where the original does; fork
copies the table (dup_fd) and exec keeps it."""
from gktest import errno_of, lines, spawn_run


def test_fd_errors_and_dup(k):
    """read/write/close/dup of a descriptor not open: EBADF; dup and dup2 copies write where fd 1 does; closed fd 1: EBADF."""
    got = {}

    async def main(sys):
        got["bad fds"] = [await errno_of(call) for call in (sys.write(9, b"x"), sys.read(7, 1), sys.close(5), sys.dup(8))]
        fd = await sys.dup(1)
        await sys.write(fd, b"via dup\n")
        await sys.dup2(1, 10)
        await sys.write(10, b"via dup2\n")
        await sys.close(1)
        got["print after close(1)"] = await errno_of(sys.print("lost"))
        await sys.write(2, b"fd 2 still open\n")
    spawn_run(k, main)
    assert got == {"bad fds": ["EBADF"] * 4, "print after close(1)": "EBADF"}
    assert lines(k) == ["via dup", "via dup2", "fd 2 still open"]


def test_fork_shares_descriptors_exec_keeps_them(k):
    """dup_fd: a forked child has the parent's descriptors, and they stay open across execve (no close-on-exec)."""
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
