"""kernel/fork.c and kernel/exit.c through the program API: fork returns twice, zombies stay
until their parent waits, and wait4/waitpid/waitid report status exactly as Linux encodes it."""
import errno
import os

import pytest

import glasskernel as gk
from gktest import lines, run_checked, spawn_run


def test_crash_is_reported_as_sigsegv(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            raise RuntimeError("boom")
        _, status = await sys.waitpid(pid, 0)
        await sys.print(os.WIFSIGNALED(status), os.WTERMSIG(status), os.WCOREDUMP(status))
    spawn_run(k, main)
    assert lines(k) == ["True 11 False"]


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
