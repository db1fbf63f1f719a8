"""cpp/bindings/user_python.cpp (with uapi_convert.cpp and python/glasskernel/program.py): the
user-mode driver for Python programs. main's return value and SystemExit are exit(2); an uncaught
exception, a crashing handler or a misused API kills the process with SIGSEGV and keeps the
traceback; each request becomes registers and user memory by the C types its SYSCALL_DEFINE
declares, so a value no C caller could pass is an OverflowError and a wrong type a TypeError
naming the argument."""
import asyncio
import os
import signal as S

from gktest import run_checked, spawn_run, wstatus


# ---- how a program ends ----

def test_main_return_value_is_exit_code(k):
    """main's return value is the process's exit code, as C's exit(main(...)) does."""
    async def main(sys):
        return 42
    t = spawn_run(k, main)
    assert t.exit_code == 42 << 8 and t.reaped


def test_system_exit_is_exit(k):
    """SystemExit(n) is exit(n): a clean exit with that code and no traceback."""
    async def main(sys):
        raise SystemExit(4)
    t = spawn_run(k, main)
    assert t.exit_code == 4 << 8 and t.traceback is None


def test_crash_is_reported_as_sigsegv(child_status):
    """An uncaught exception is a fault: the parent's wait status says killed by SIGSEGV, without a core dump."""
    async def body(sys):
        raise RuntimeError("boom")
    status = child_status(body)
    assert wstatus(status) == ("killed", S.SIGSEGV, False)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 11 and not os.WCOREDUMP(status)


def test_uncaught_exception_kills_with_sigsegv_and_keeps_traceback(k):
    """An uncaught exception kills with SIGSEGV; the task keeps its traceback, what it printed stays, the kernel runs on."""
    async def main(sys):
        await sys.print("about to fail")
        {}["missing"]
    t = spawn_run(k, main)
    assert t.exit_code == S.SIGSEGV and t.reaped
    assert "KeyError: 'missing'" in t.traceback and "about to fail" in k.console
    # the kernel keeps running
    t2 = k.spawn("/bin/true")
    run_checked(k)
    assert t2.reaped and t2.exit_code == 0


def test_program_misuse_crashes_only_that_process(k):
    """A system call with an argument of the wrong type raises TypeError in the program, which dies of SIGSEGV alone."""
    async def main(sys):
        await sys.waitpid("1", 0)
    t = spawn_run(k, main)
    assert t.exit_code == S.SIGSEGV
    assert "TypeError: wait4() argument 'upid' must be an int, not str" in t.traceback


def test_awaiting_something_else_crashes_with_a_clear_reason(k):
    """A program may await only glasskernel system calls; awaiting asyncio kills it with a traceback saying so."""
    async def main(sys):
        await asyncio.sleep(0)
    t = spawn_run(k, main)
    assert t.exit_code == S.SIGSEGV
    assert "may only await glasskernel system calls" in t.traceback


def test_handler_crash_kills_with_sigsegv(k):
    """An exception in a signal handler is a fault in the program: SIGSEGV, with the handler's traceback."""
    async def main(sys):
        async def h(sys, signo):
            raise ValueError("bad handler")
        await sys.sigaction(S.SIGUSR1, h)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
    t = spawn_run(k, main)
    assert t.exit_code == S.SIGSEGV and "bad handler" in t.traceback


def test_handler_must_be_async(k):
    """sigaction() with a plain function as handler is refused: a handler is an async def."""
    async def main(sys):
        def h(sys, signo):
            pass
        await sys.sigaction(S.SIGUSR1, h)
    t = spawn_run(k, main)
    assert "async def handler" in t.traceback


# ---- arguments converted by their C types ----

def test_arguments_outside_their_c_type_raise_overflowerror(k):
    """A value outside the argument's C type raises OverflowError in the program, as Python's os functions do."""
    # Nothing is truncated into another value.
    got = {}

    async def main(sys):
        raised = []
        for call in (lambda: sys.kill(2**64, 9), lambda: sys.kill(2**31, 9), lambda: sys.waitpid(-1, 2**64 | 1),
                     lambda: sys.clock_gettime(2**64 + 1), lambda: sys.compute(2**64)):
            try:
                await call()
                raised.append(None)
            except OverflowError as e:
                raised.append(type(e).__name__)
        got["raised"] = raised
        got["still works"] = await sys.getpid() > 1
    t = spawn_run(k, main)
    assert got == {"raised": ["OverflowError"] * 5, "still works": True}
    assert t.exit_code == 0


def test_wrong_argument_type_names_the_argument(k):
    """The boundary says which argument of which call was wrong, and the program can catch it."""
    got = {}

    async def main(sys):
        try:
            await sys.kill("1", 9)
        except TypeError as e:
            got["TypeError"] = str(e)
    spawn_run(k, main)
    assert got == {"TypeError": "kill() argument 'pid' must be an int, not str"}


def test_large_buffers_get_their_own_mapping(k):
    """Arguments too large for the stack are mapped for the call and unmapped after it: a 1 MiB write arrives whole."""
    got = {}

    async def main(sys):
        big = bytes(range(256)) * 4096  # 1 MiB
        got["wrote it all"] = await sys.write(1, big) == len(big)
    spawn_run(k, main)
    assert got == {"wrote it all": True}
    assert len(k.console_log[0].data) == 1 << 20 and k.console_log[0].data[:4] == bytes(range(4))
