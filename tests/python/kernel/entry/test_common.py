"""kernel/entry/common.c (cpp/kernel/entry/common.cpp): a program that raises an uncaught exception
dies like a process that faulted: SIGSEGV, and a line in the kernel log as x86's show_signal_msg
writes for a segfault, with its traceback (bounded in the log, whole on the task's view)."""
import os
import signal


def test_the_traceback_goes_to_the_kernel_log_and_survives_reaping(k):
    """The crash is in dmesg and k.crashes after the task is reaped; it died of SIGSEGV."""
    @k.program("/bin/bad")
    async def bad(sys):
        await sys.print("about to fail")
        {}["missing"]

    t = k.spawn("/bin/bad")
    k.run()
    assert t.reaped and os.WIFSIGNALED(t.exit_code) and os.WTERMSIG(t.exit_code) == signal.SIGSEGV
    log = k.dmesg()
    assert f"bad[{t.pid}]: uncaught exception in user mode, killed by SIGSEGV" in log
    assert "Traceback (most recent call last):" in log and "KeyError: 'missing'" in log
    (c,) = k.crashes
    assert (c.pid, c.comm) == (t.pid, "bad") and c.traceback == t.traceback and "{}[\"missing\"]" in c.traceback


def test_a_huge_traceback_is_cut_in_the_log_but_whole_on_the_view(k):
    """Logging stays bounded: at most 40 traceback lines per crash reach the log."""
    @k.program("/bin/loud")
    async def loud(sys):
        raise ValueError("\n".join(f"line {i}" for i in range(500)))

    t = k.spawn("/bin/loud")
    k.run()
    assert "line 499" in t.traceback and "line 499" not in k.dmesg()
    assert "more lines (the task's traceback view has them all)" in k.dmesg()


def test_on_crash_is_given_each_new_crash_once(k):
    """k.on_crash is called once for each new crash, in order, across runs."""
    seen = []
    k.on_crash = seen.append

    @k.program("/bin/bad")
    async def bad(sys, argv0, n):
        raise RuntimeError(f"crash {n}")

    for n in "12":
        k.spawn("/bin/bad", ["/bin/bad", n])
    k.run()
    k.run()
    assert [c.traceback.strip().splitlines()[-1] for c in seen] == ["RuntimeError: crash 1", "RuntimeError: crash 2"]
