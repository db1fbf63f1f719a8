"""kernel/time/itimer.c (cpp/kernel/time/itimer.cpp): alarm, setitimer and getitimer. ITIMER_REAL
counts wall time and sends SIGALRM, ITIMER_VIRTUAL user time (SIGVTALRM), ITIMER_PROF user and
system time (SIGPROF); with Linux's errno."""
import signal as S

from gktest import errno_of, spawn_run


def test_alarm_kills_with_sigalrm_and_returns_remaining(k):
    """alarm(2) returns the seconds left of the previous alarm (rounded); SIGALRM's default action kills."""
    got = {}

    async def main(sys):
        got["first alarm"] = await sys.alarm(5)
        await sys.nanosleep(1.2)
        got["second alarm"] = await sys.alarm(1)
        await sys.nanosleep(10)
        got["not reached"] = True
    t = spawn_run(k, main)
    assert got == {"first alarm": 0, "second alarm": 4}
    assert t.exit_code == S.SIGALRM


def test_setitimer_real_with_interval(k):
    """setitimer(ITIMER_REAL) with an interval re-arms after each SIGALRM; getitimer shows both; a bad `which` is EINVAL."""
    got = {}

    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGALRM})
        t0 = await sys.clock_gettime()
        await sys.setitimer(S.ITIMER_REAL, 0.01, 0.02)
        for _ in range(3):
            await sys.sigwaitinfo({S.SIGALRM})
        t1 = await sys.clock_gettime()
        value, interval = await sys.getitimer(S.ITIMER_REAL)
        got["three expiries"] = (round(t1 - t0, 4), interval, 0 < value <= 0.02)
        got["disarm returns the old value"] = await sys.setitimer(S.ITIMER_REAL, 0)
        got["bad which"] = await errno_of(sys.setitimer(9, 1))
    spawn_run(k, main)
    assert got["three expiries"] == (0.05, 0.02, True)
    assert isinstance(got["disarm returns the old value"], tuple) and got["bad which"] == "EINVAL"


def test_itimer_virtual_counts_user_time_only(k):
    """ITIMER_VIRTUAL counts only user CPU time: a sleep does not advance it, computing does; SIGVTALRM kills."""
    got = {}

    async def main(sys):
        await sys.setitimer(S.ITIMER_VIRTUAL, 0.02)
        await sys.nanosleep(0.1)  # sleeping uses no CPU: no signal
        got["slept"] = True
        await sys.compute(50_000_000)
        got["not reached"] = True
    t = spawn_run(k, main)
    assert got == {"slept": True} and t.exit_code == S.SIGVTALRM
    assert 20_000_000 <= t.utime <= 25_000_000  # stopped at the first tick past 20 ms


def test_itimer_prof_counts_user_and_system_time(k):
    """ITIMER_PROF expires on process CPU time and sends SIGPROF; a one-shot timer is disarmed after it."""
    got = {}

    async def main(sys):
        async def h(sys, signo):
            got["handler"] = signo
        await sys.sigaction(S.SIGPROF, h)
        await sys.setitimer(S.ITIMER_PROF, 0.01)
        await sys.compute(30_000_000)
        v, i = await sys.getitimer(S.ITIMER_PROF)
        got["disarmed"] = v == 0.0 and i == 0.0
    spawn_run(k, main)
    assert got == {"handler": S.SIGPROF, "disarmed": True}


def test_a_negative_itimer_is_einval_as_linux_answers_a_c_caller(k):
    """setitimer(2) refuses a negative value or interval with EINVAL (an OSError: a C caller can pass one)."""
    got = {}

    async def main(sys):
        # Checked on this machine's Linux with ctypes.
        got["errors"] = [await errno_of(call()) for call in (lambda: sys.setitimer(S.ITIMER_REAL, -1.0),
                                                             lambda: sys.setitimer(S.ITIMER_REAL, 0.5, -2.0))]
    spawn_run(k, main)
    assert got == {"errors": ["EINVAL", "EINVAL"]}
