"""kernel/signal.c's generation side and default actions (issue 3, first part): kill's four pid
rules and permissions, tgkill, sigqueue, coalescing vs. queueing, RLIMIT_SIGPENDING, ignored
signals dropped at generation, uncatchable SIGKILL/SIGSTOP, and the interval timers."""
import errno
import os
import resource
import signal

import pytest

from gktest import lines, run_checked, spawn_run

S = signal


def code(e):
    return errno.errorcode[e.errno]


def test_kill_terminates_with_the_signal_in_the_status(k):
    async def main(sys):
        for sig in (S.SIGTERM, S.SIGKILL, S.SIGQUIT):
            pid = await sys.fork()
            if pid == 0:
                await sys.nanosleep(10)
                await sys.exit(0)
            await sys.kill(pid, sig)
            _, st = await sys.waitpid(pid, 0)
            await sys.print(os.WIFSIGNALED(st), os.WTERMSIG(st))
    spawn_run(k, main)
    assert lines(k) == ["True 15", "True 9", "True 3"]


def test_kill_errors_and_signal_zero(k):
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(10)
            await sys.exit(0)
        await sys.print("exists", await sys.kill(pid, 0))
        for args in ((pid, 65), (pid, -1), (99999, S.SIGTERM), (-99999, S.SIGTERM), (-(2**31), S.SIGTERM)):
            try:
                await sys.kill(*args)
            except OSError as e:
                await sys.print(code(e))
        await sys.kill(pid, S.SIGKILL)
        await sys.waitpid(pid, 0)
        try:
            await sys.kill(pid, 0)
        except ProcessLookupError:
            await sys.print("gone")
    spawn_run(k, main)
    assert lines(k) == ["exists None", "EINVAL", "EINVAL", "ESRCH", "ESRCH", "ESRCH", "gone"]


def test_kill_permission_by_uid(k):
    async def main(sys):
        root_child = await sys.fork()
        if root_child == 0:
            await sys.nanosleep(1)
            await sys.exit(0)
        user_child = await sys.fork()
        if user_child == 0:
            await sys.setuid(1000)
            try:
                await sys.kill(root_child, 0)
            except PermissionError:
                await sys.print("EPERM on root's process")
            try:
                await sys.kill(1, S.SIGTERM)
            except PermissionError:
                await sys.print("EPERM on init")
            await sys.nanosleep(1)
            await sys.exit(0)
        await sys.nanosleep(0.1)
        await sys.kill(user_child, S.SIGTERM)  # root may signal anyone
        await sys.kill(root_child, S.SIGTERM)
        for _ in range(2):
            _, st = await sys.wait()
            await sys.print(os.WTERMSIG(st))
    spawn_run(k, main)
    assert lines(k) == ["EPERM on root's process", "EPERM on init", "15", "15"]


def test_kill_process_group_and_own_group(k):
    async def main(sys):
        await sys.sigaction(S.SIGUSR1, S.SIG_IGN)  # we are in our own group too
        kids = []
        for _ in range(2):
            pid = await sys.fork()
            if pid == 0:
                await sys.sigaction(S.SIGUSR1, S.SIG_DFL)
                await sys.nanosleep(10)
                await sys.exit(0)
            kids.append(pid)
        other = await sys.fork()
        if other == 0:
            await sys.setpgid(0, 0)
            await sys.nanosleep(0.05)
            await sys.exit(7)
        await sys.nanosleep(0.001)
        await sys.kill(0, S.SIGUSR1)  # our group: both kids (we ignore it)
        for _ in range(2):
            _, st = await sys.waitpid(0, 0)
            await sys.print("group", os.WTERMSIG(st))
        await sys.kill(-other, S.SIGTERM)
        _, st = await sys.waitpid(other, 0)
        await sys.print("other", os.WTERMSIG(st))
    spawn_run(k, main)
    assert lines(k) == ["group 10", "group 10", "other 15"]


def test_kill_minus_one_spares_init_kthreads_and_caller(k):
    async def main(sys):
        await sys.setuid(1000)
        for _ in range(2):
            if await sys.fork() == 0:
                await sys.nanosleep(10)
                await sys.exit(0)
        await sys.nanosleep(0.001)
        await sys.kill(-1, S.SIGTERM)
        for _ in range(2):
            _, st = await sys.wait()
            await sys.print(os.WTERMSIG(st))
    t = spawn_run(k, main)
    assert lines(k) == ["15", "15"] and t.exit_code == 0
    assert [x.pid for x in k.tasks] == [1, 2, 3, 4]


def test_root_kill_minus_one_does_not_touch_init_or_kthreads(k):
    async def main(sys):
        await sys.kill(-1, S.SIGKILL)
        await sys.kill(2, S.SIGKILL)
        await sys.kill(1, S.SIGKILL)
        await sys.print("still here")
    spawn_run(k, main)
    assert lines(k) == ["still here"] and not k.panicked
    assert [t.comm for t in k.tasks] == ["init", "kthreadd", "ksoftirqd/0", "kworker/0:0"]


def test_sigkill_and_sigstop_cannot_be_caught_blocked_or_ignored(k):
    async def main(sys):
        for sig in (S.SIGKILL, S.SIGSTOP):
            try:
                await sys.sigaction(sig, S.SIG_IGN)
            except OSError as e:
                await sys.print(code(e))
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGKILL, S.SIGSTOP, S.SIGUSR1})
        await sys.print(sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
        try:
            await sys.sigprocmask(7, {S.SIGUSR1})
        except OSError as e:
            await sys.print(code(e))
    spawn_run(k, main)
    assert lines(k) == ["EINVAL", "EINVAL", "[10]", "EINVAL"]


def test_ignored_signal_is_dropped_at_generation(k):
    async def main(sys):
        old = await sys.sigaction(S.SIGTERM, S.SIG_IGN)
        await sys.print(old == S.SIG_DFL)
        await sys.kill(await sys.getpid(), S.SIGTERM)
        await sys.print("survived", await sys.sigpending())
    t = spawn_run(k, main)
    assert lines(k) == ["True", "survived set()"]
    gen = [e for e in k.trace.events if e.name == "signal_generate" and "sig=15" in e.args]
    assert gen[0].args.endswith("res=1")


def test_standard_signals_coalesce_realtime_signals_queue(k):
    rt = S.SIGRTMIN

    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR1, rt})
        for v in (1, 2, 3):
            await sys.sigqueue(me, S.SIGUSR1, v)
            await sys.sigqueue(me, rt, v * 10)
        got = []
        while True:
            try:
                i = await sys.sigwaitinfo({S.SIGUSR1, rt}, 0)
            except BlockingIOError:
                break
            got.append((i.si_signo, i.si_value, i.si_code, i.si_pid == me))
        await sys.print(got)
    spawn_run(k, main)
    # SIGUSR1 once (the first siginfo), then the real-time one three times in order
    assert lines(k) == [f"[(10, 1, -1, True), ({rt}, 10, -1, True), ({rt}, 20, -1, True), ({rt}, 30, -1, True)]"]


def test_dequeue_order_lowest_standard_first_then_realtime(k):
    async def main(sys):
        me = await sys.getpid()
        sigs = {S.SIGUSR2, S.SIGUSR1, S.SIGRTMIN + 1, S.SIGRTMIN}
        await sys.sigprocmask(S.SIG_BLOCK, sigs)
        for s in (S.SIGRTMIN + 1, S.SIGUSR2, S.SIGRTMIN, S.SIGUSR1):
            await sys.kill(me, s)
        await sys.print([await sys.sigtimedwait(sigs, 0) for _ in range(4)])
    spawn_run(k, main)
    assert lines(k) == [f"[10, 12, {S.SIGRTMIN}, {S.SIGRTMIN + 1}]"]


def test_private_and_shared_pending(k):
    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR1, S.SIGUSR2})
        await sys.tgkill(me, me, S.SIGUSR1)  # to the thread: private
        await sys.kill(me, S.SIGUSR2)        # to the process: shared
        await sys.nanosleep(0.01)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: t.state == "S")
    assert t.pending == {S.SIGUSR1} and t.signal.shared_pending == {S.SIGUSR2}
    run_checked(k)


def test_rlimit_sigpending(k):
    rt = S.SIGRTMIN

    async def main(sys):
        me = await sys.getpid()
        await sys.setrlimit(resource.RLIMIT_SIGPENDING, (2, 2))
        await sys.sigprocmask(S.SIG_BLOCK, {rt, rt + 1})
        for v in range(3):
            try:
                await sys.sigqueue(me, rt, v)
            except BlockingIOError:
                await sys.print("EAGAIN at", v)
        await sys.kill(me, rt + 1)  # over the limit from kill(): sent, siginfo lost
        await sys.print(sorted(await sys.sigpending()))
    spawn_run(k, main)
    assert lines(k) == ["EAGAIN at 2", f"[{rt}, {rt + 1}]"]


def test_tgkill_rules(k):
    async def main(sys):
        me = await sys.getpid()
        await sys.sigaction(S.SIGUSR1, S.SIG_IGN)
        await sys.tgkill(me, me, S.SIGUSR1)
        for args in ((0, me, S.SIGUSR1), (me, 0, S.SIGUSR1), (1, me, S.SIGUSR1), (me, me, 99)):
            try:
                await sys.tgkill(*args)
            except OSError as e:
                await sys.print(code(e))
    spawn_run(k, main)
    assert lines(k) == ["EINVAL", "EINVAL", "ESRCH", "EINVAL"]


def test_alarm_kills_with_sigalrm_and_returns_remaining(k):
    async def main(sys):
        await sys.print(await sys.alarm(5))
        await sys.nanosleep(1.2)
        await sys.print(await sys.alarm(1))
        await sys.nanosleep(10)
        await sys.print("not reached")
    t = spawn_run(k, main)
    assert lines(k) == ["0", "4"]
    assert t.exit_code == S.SIGALRM


def test_setitimer_real_with_interval(k):
    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGALRM})
        t0 = await sys.clock_gettime()
        await sys.setitimer(S.ITIMER_REAL, 0.01, 0.02)
        for _ in range(3):
            await sys.sigwaitinfo({S.SIGALRM})
        t1 = await sys.clock_gettime()
        value, interval = await sys.getitimer(S.ITIMER_REAL)
        await sys.print(round(t1 - t0, 4), interval, 0 < value <= 0.02)
        await sys.print(await sys.setitimer(S.ITIMER_REAL, 0))
        try:
            await sys.setitimer(9, 1)
        except OSError as e:
            await sys.print(code(e))
    spawn_run(k, main)
    out = lines(k)
    assert out[0] == "0.05 0.02 True"
    assert out[1].startswith("(") and out[2] == "EINVAL"


def test_itimer_virtual_counts_user_time_only(k):
    async def main(sys):
        await sys.setitimer(S.ITIMER_VIRTUAL, 0.02)
        await sys.nanosleep(0.1)  # sleeping uses no CPU: no signal
        await sys.print("slept")
        await sys.compute(50_000_000)
        await sys.print("not reached")
    t = spawn_run(k, main)
    assert lines(k) == ["slept"] and t.exit_code == S.SIGVTALRM
    assert 20_000_000 <= t.utime <= 25_000_000  # stopped at the first tick past 20 ms


def test_core_signals_dump_core_only_with_rlimit_core(k):
    async def main(sys):
        for core in (0, 1 << 20):
            pid = await sys.fork()
            if pid == 0:
                await sys.setrlimit(resource.RLIMIT_CORE, (core, resource.RLIM_INFINITY))
                await sys.nanosleep(1)
                await sys.exit(0)
            await sys.nanosleep(0.001)
            await sys.kill(pid, S.SIGQUIT)
            _, st = await sys.waitpid(pid, 0)
            await sys.print(os.WTERMSIG(st), os.WCOREDUMP(st))
    spawn_run(k, main)
    assert lines(k) == ["3 False", "3 True"]


def test_synchronous_signals_are_dequeued_first(k):
    async def main(sys):
        me = await sys.getpid()
        sigs = {S.SIGHUP, S.SIGSEGV, S.SIGINT}
        await sys.sigprocmask(S.SIG_BLOCK, sigs)
        for s in (S.SIGHUP, S.SIGINT, S.SIGSEGV):
            await sys.kill(me, s)
        await sys.print([await sys.sigtimedwait(sigs, 0) for _ in range(3)])
    spawn_run(k, main)
    assert lines(k) == ["[11, 1, 2]"]
