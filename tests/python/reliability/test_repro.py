"""Regression tests from the reproducers of faults found by trying glasskernel as a hostile user
would (callbacks that change kernel state, re-entrant runs, absurd values, long runs): each must
now give a clear error or Linux's behaviour, and leave the interpreter and the kernel alive."""
import os

import pytest

import glasskernel as gk


def test_setpriority_on_a_realtime_task_only_stores_its_nice_value():
    """set_user_nice(): a SCHED_FIFO task keeps its priority and its place on the RT list; the nice
    value is stored (static_prio) and counts again once the task is SCHED_OTHER."""
    k = gk.Kernel(cpus=1)
    seen = {}

    @k.program("/bin/rt")
    async def rt(sys):
        me = await sys.getpid()
        await sys.sched_setscheduler(0, os.SCHED_FIFO, 1)
        await sys.setpriority(os.PRIO_PROCESS, 0, 5)
        t = k.task(me)
        seen["rt"] = (t.prio, t.static_prio, t.se.weight)
        await sys.sched_yield()
        await sys.sched_setscheduler(0, os.SCHED_OTHER, 0)
        seen["other"] = (t.prio, t.static_prio, t.se.weight, await sys.getpriority(os.PRIO_PROCESS, 0))

    k.spawn("/bin/rt")
    stop = k.run(until=lambda kk: kk.check() or False)
    assert stop.reason == "finished"
    assert seen["rt"][:2] == (98, 125)          # prio from rt_priority 1; nice 5 stored
    assert seen["other"] == (125, 125, 335, 5)  # back to CFS: nice 5's weight


@pytest.mark.parametrize("what", ["timer", "msleep"])
def test_an_idle_cpu_sleeps_through_to_a_far_timer_instead_of_ticking_every_jiffy(what):
    """NOHZ idle: with only a distant timer_list (or msleep) pending, the tick is set for the
    wheel's next expiry (get_next_timer_interrupt), and __run_timers skips empty jiffies; the timer
    still fires no earlier than asked, rounded up to its wheel level's granularity."""
    k = gk.Kernel(cpus=1)
    start = k.jiffies
    if what == "timer":
        tm = k.timers.timer(lambda ctx: None, "far")
        tm.mod(start + 10**9)
    else:
        async def sleeper(kt):
            await kt.msleep(10**9)   # 10**6 s = 2.5e8 jiffies at HZ=250
        k.kthread_run(sleeper, "sleeper")
    stop = k.run()
    assert stop.reason == "finished"
    want = start + (10**9 if what == "timer" else 250_000_000)
    fired = tm.fired_at if what == "timer" else k.jiffies
    assert want <= fired <= want * 1.01                    # never early; at most a level's rounding late
    assert len(k.trace.select(name="tick_sched_timer")) < 10  # not one tick per jiffy
    k.check()


@pytest.mark.parametrize("preempt,pre,lockup", [
    ("voluntary", "", True),               # a kernel loop without cond_resched: Linux reports it
    ("full", "", False),                   # preemptible: the stopper thread would get in
    ("full", "preempt_disable", True),
    ("voluntary", "local_irq_disable", False),  # no tick at all (the NMI hard-lockup detector is not modeled)
])
def test_a_kernel_thread_that_never_sleeps_is_bounded_and_reported_as_a_soft_lockup(preempt, pre, lockup):
    """k.run(for_ns=...) returns whatever kernel code does; kernel/watchdog.c's soft-lockup
    detector reports a CPU stuck in the kernel for more than 20 s ("BUG: soft lockup")."""
    k = gk.Kernel(cpus=1, preempt=preempt)

    async def spin(kt):
        if pre:
            await getattr(kt, pre)()
        while True:
            await kt.mdelay(1)

    k.kthread_run(spin, "spin")
    stop = k.run(for_ns=45 * 10**9)
    assert stop.reason == "time_limit" and 45 * 10**9 <= k.now < 46 * 10**9
    reports = [line for line in k.dmesg().splitlines() if "soft lockup" in line]
    if lockup:
        assert len(reports) == 2 and "watchdog: BUG: soft lockup - CPU#0 stuck for 20s! [spin:5]" in reports[0]
    else:
        assert reports == []


def test_ctrl_c_stops_an_unbounded_run_of_a_cpu_that_never_sleeps():
    """Every long run is interruptible: SIGINT during k.run() of a busy-waiting kernel thread raises
    KeyboardInterrupt within a moment, and the kernel is still consistent."""
    import subprocess
    import sys
    import signal
    import time
    child = r'''
import signal, sys, glasskernel as gk
# A test run started in the background (make test &) inherits SIGINT ignored, and Python then
# installs no KeyboardInterrupt handler: install it, as an interactive session has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
k = gk.Kernel(cpus=1)
async def spin(kt):
    while True:
        await kt.mdelay(1)
k.kthread_run(spin, "spin")
print("running", flush=True)
try:
    k.run()
except KeyboardInterrupt:
    k.check()
    print("interrupted", flush=True)
'''
    p = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "running"
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert "interrupted" in out, err


@pytest.mark.parametrize("call", [
    lambda k: k.irq.raise_irq(2**70), lambda k: k.irq.request_irq(2**40, lambda c: True), lambda k: k.sched.runqueue(2**70),
    lambda k: k.task(2**70), lambda k: k.timers.timer(lambda c: None).mod(2**70), lambda k: k.clock(2**64),
    lambda k: k.run(for_ns=2**70), lambda k: k.trace.select(pid=2**40), lambda k: gk.Kernel(seed=2**64),
])
def test_a_value_no_c_caller_could_pass_is_an_overflowerror_at_every_entry_point(call):
    """Out of its C type's range, an argument is an OverflowError (as os.kill(2**70, 0) is), never
    pybind's "incompatible function arguments" nor a silently masked value."""
    k = gk.Kernel()
    with pytest.raises(OverflowError, match="does not fit a C"):
        call(k)
    k.check()


def test_console_input_refuses_what_is_not_bytes_or_str(k):
    """console_input(123) used to type 123 NUL bytes (bytes(123))."""
    with pytest.raises(TypeError, match="bytes or str"):
        k.console_input(123)


@pytest.mark.parametrize("call,exc", [
    ("kill", OverflowError), ("waitpid", OverflowError), ("clock_gettime", OverflowError), ("compute", OverflowError),
    ("setitimer", OverflowError), ("syscall", OverflowError),
])
def test_huge_values_in_a_program_are_refused_there_not_masked(k, call, exc):
    """kill(2**64, SIGKILL) was taken as kill(0, SIGKILL) and killed the caller's process group;
    waitpid/clock_gettime/compute masked their arguments; a huge system call number left a
    SystemError behind. Each now raises in the program, which can catch it."""
    import signal
    seen = []

    @k.program("/bin/huge")
    async def huge(sys):
        calls = {
            "kill": lambda: sys.kill(2**64, signal.SIGKILL), "waitpid": lambda: sys.waitpid(-1, 2**64 | os.WNOHANG),
            "clock_gettime": lambda: sys.clock_gettime(2**64 + 1), "compute": lambda: sys.compute(2**64),
            "setitimer": lambda: sys.setitimer(signal.ITIMER_REAL, 1e30), "syscall": lambda: sys.syscall(2**70),
        }
        try:
            await calls[call]()
        except Exception as e:
            seen.append(type(e))
        seen.append(await sys.getpid())

    t = k.spawn("/bin/huge")
    stop = k.run()
    assert stop.reason == "finished" and seen == [exc, t.pid] and t.exit_code == 0
    k.check()


def test_a_handler_address_the_program_never_installed_faults_on_delivery(k):
    """sigaction(2) takes any handler address; delivering to one that is not a handler of the
    program is a fault (SIGSEGV), not an error escaping from every later k.run()."""
    import signal

    @k.program("/bin/x")
    async def x(sys):
        old = await sys.sigaction(signal.SIGUSR1, 12345)
        assert (await sys.sigaction(signal.SIGUSR1, old)) == 12345
        await sys.sigaction(signal.SIGUSR1, 12345)
        await sys.kill(await sys.getpid(), signal.SIGUSR1)

    t = k.spawn("/bin/x")
    assert k.run().reason == "finished"
    assert os.WIFSIGNALED(t.exit_code) and os.WTERMSIG(t.exit_code) == signal.SIGSEGV
    assert "handler address this program never installed" in t.traceback
    assert k.run().reason == "finished"


def test_sleeping_past_the_end_of_time_clamps_the_clock_instead_of_wrapping(k):
    """ktime arithmetic saturates at KTIME_MAX (ktime_add_safe): CLOCK_MONOTONIC never goes
    backwards, and a sleep that cannot end returns with nothing left."""
    import time as T
    seen = []

    @k.program("/bin/forever")
    async def forever(sys):
        for _ in range(3):
            before = await sys.clock_gettime(T.CLOCK_MONOTONIC)
            await sys.nanosleep(9.2e9)
            seen.append((before, await sys.clock_gettime(T.CLOCK_MONOTONIC)))

    k.spawn("/bin/forever")
    k.run()
    assert len(seen) == 3 and all(b <= a for b, a in seen) and seen[1][0] <= seen[2][1]
    assert all(a > 9.2e9 for _, a in seen)


OOM_CHILD = r"""
import resource, sys, glasskernel as gk
k = gk.Kernel(pid_max=4194304, trace=sys.argv[1] == "trace")
vm = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
hard = resource.getrlimit(resource.RLIMIT_AS)[1]
resource.setrlimit(resource.RLIMIT_AS, (vm + int(sys.argv[2]) * 2**20, hard))
res = {}
@k.program("/bin/forker")
async def forker(sys):
    n = 0
    while True:
        try:
            pid = await sys.fork()
        except OSError as e:
            res["errno"] = e.errno
            res["n"] = n
            break
        if pid == 0:
            await sys.pause()
        n += 1
k.spawn("/bin/forker")
try:
    stop = k.run(until=lambda kk: "errno" in res)
    print("program", stop.reason, res["errno"], res["n"] > 100, flush=True)
except MemoryError as e:  # KernelPanic for out of memory is a MemoryError too
    print("memoryerror", type(e).__name__, flush=True)
resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
print("alive", flush=True)
"""


def _oom_child(trace, headroom_mib):
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", OOM_CHILD, trace, str(headroom_mib)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.split()


@pytest.mark.parametrize("headroom_mib", [24, 96])
def test_running_out_of_host_memory_is_enomem_to_the_program_not_an_abort(headroom_mib):
    """fork(2) is ENOMEM when copy_process cannot allocate (a kernel stack, or mprotect failing to
    split off its guard page at vm.max_map_count, a task_struct, a sighand, a pid), as Linux's
    is, after many forks succeeded; the interpreter lives on. A child process under a tight
    RLIMIT_AS, tracing off: then the forks' own allocations are the ones that fail."""
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("AddressSanitizer itself needs memory the tight RLIMIT_AS leaves it no room for")
    assert _oom_child("notrace", headroom_mib) == ["program", "until", "12", "True", "alive"]


def test_the_22nd_link_of_a_host_says_it_has_no_line_left():
    """A host's NICs take interrupt lines 11..31: the 22nd link is refused with that reason (it
    said "irq 32 is taken"), and nothing half-made is left on either host."""
    net = gk.Network()
    a, b = net.host("a"), net.host("b")
    for i in range(21):
        net.link(a, b, f"10.0.{i}.0/24")
    with pytest.raises(ValueError, match="no interrupt line left"):
        net.link(a, b, "10.0.99.0/24")
    assert len(a.net.devices) == len(b.net.devices) == 22
    net.check()
