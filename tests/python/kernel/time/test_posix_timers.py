"""kernel/time/posix-timers.c (cpp/kernel/time/posix-timers.cpp): clock_gettime and nanosleep on
the virtual clock; a handler interrupts nanosleep with EINTR and the time left."""
import errno
import signal as S
import time

from gktest import errno_of, spawn_run


def test_clock_and_sleep_use_virtual_time(k):
    """nanosleep(2) sleeps exactly its time on CLOCK_MONOTONIC, which is the virtual clock, and returns 0."""
    got = {}

    async def main(sys):
        t0 = await sys.clock_gettime(time.CLOCK_MONOTONIC)
        done = await sys.nanosleep(0.25)
        t1 = await sys.clock_gettime(time.CLOCK_MONOTONIC)
        got["slept"] = (round(t1 - t0, 3), done)
    spawn_run(k, main)
    assert got == {"slept": (0.25, None)}


def test_nanosleep_interrupted_raises_eintr_with_the_time_left(k):
    """nanosleep(2): a handler interrupts the sleep with EINTR and rem holds what was left (LTP nanosleep02)."""
    got = {}

    async def main(sys):
        async def h(sys, signo):
            pass
        await sys.sigaction(S.SIGALRM, h)
        await sys.setitimer(S.ITIMER_REAL, 0.25)
        try:
            await sys.nanosleep(1.0)
        except InterruptedError as e:
            got["nanosleep"] = (e.errno == errno.EINTR, round(e.remaining, 3))
        await sys.alarm(1)
        got["sleep(3)"] = await sys.sleep(3)
    spawn_run(k, main)
    # 1.99999 s were left of sleep(3): glibc returns the whole seconds, fractions dropped.
    assert got == {"nanosleep": (True, 0.75), "sleep(3)": 1}


def test_a_negative_nanosleep_is_einval_as_linux_answers_a_c_caller(k):
    """nanosleep(2) refuses a negative time with EINVAL (an OSError: a C caller can pass one)."""
    got = {}

    async def main(sys):
        # Checked on this machine's Linux with ctypes.
        got["nanosleep(-1)"] = await errno_of(sys.nanosleep(-1))
    spawn_run(k, main)
    assert got == {"nanosleep(-1)": "EINVAL"}
