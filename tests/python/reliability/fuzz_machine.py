"""The stateful fuzzer: a Hypothesis state machine that drives one machine the way a hostile
notebook would. Rules spawn programs running random system calls (valid and invalid arguments,
signals, forks, sockets, epoll, timers), install callbacks that change kernel state (interrupt
handlers scheduling tasklets and re-arming timers, and trying what is forbidden), set breakpoints,
step, and run for random bounds. After every rule -- and after every engine step of every run --
the self-check must hold; any exception other than the documented ones fails.

Used by test_fuzz.py (bounded, in CI) and tests/fuzz/run.py (`make fuzz`: long batches in
subprocesses, crashes and hangs counted, seeds saved)."""
from __future__ import annotations

import errno
import os
import signal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import glasskernel as gk

STATS = {"syscalls": 0, "runs": 0, "steps": 0, "programs": 0}

SIGS = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGCHLD, signal.SIGALRM, signal.SIGSTOP, signal.SIGCONT,
        signal.SIGKILL, signal.SIGRTMIN, 0, 65, -1]
FDS = [0, 1, 2, 3, 4, 5, 6, 7, 99, -1]
PIDS = ["self", "parent", "child", "init", 0, -1, 4000000, 2]
STEP_NAMES = ["copy_process", "do_wait", "__x64_sys_kill", "schedule", "sched_switch", "do_exit", "udp_sendmsg",
              "tick_sched_timer", "__do_softirq", "get_signal", "release_task", "exit_notify", "ep_poll_callback",
              "tcp_v4_rcv", "tcp_rcv_state_process", "sk_wait_data", "pipe_read", "pipe_write", "do_select", "do_poll"]

# One system call a program makes: (name, arguments). Arguments reach the kernel as C would pass
# them (often invalid); PIDS entries are resolved at run time.
op = st.one_of(
    st.tuples(st.just("kill"), st.sampled_from(PIDS), st.sampled_from(SIGS)),
    st.tuples(st.just("sigaction"), st.sampled_from(SIGS), st.sampled_from(["handler", "ign", "dfl", 12345])),
    st.tuples(st.just("sigprocmask"), st.sampled_from([0, 1, 2, 7]), st.lists(st.sampled_from(SIGS[:9]), max_size=3)),
    st.tuples(st.just("fork"), st.integers(0, 3)),
    st.tuples(st.just("waitpid"), st.sampled_from([-1, 0, "child", 4000000]),
              st.sampled_from([0, os.WNOHANG, os.WUNTRACED | os.WNOHANG, os.WCONTINUED | os.WNOHANG, 0x7fffffff])),
    st.tuples(st.just("nanosleep"), st.sampled_from([0.0, 1e-6, 1e-3, 0.02, -1.0])),
    st.tuples(st.just("compute"), st.sampled_from([0, 1000, 100_000, 3_000_000])),
    st.tuples(st.just("setpgid"), st.sampled_from([0, "child", 4000000]), st.sampled_from([0, "self", 4000000])),
    st.tuples(st.just("setsid")),
    st.tuples(st.just("setpriority"), st.integers(-25, 25)),
    st.tuples(st.just("sched_setscheduler"), st.sampled_from([0, 1, 2, 3, 5, 7]), st.sampled_from([0, 1, 50, 99, 100])),
    st.tuples(st.just("sched_yield")),
    st.tuples(st.just("alarm"), st.sampled_from([0, 1])),
    st.tuples(st.just("setitimer"), st.sampled_from([0, 1, 2, 5]), st.sampled_from([0.0, 0.001, 0.5]), st.sampled_from([0.0, 0.002])),
    st.tuples(st.just("socket"), st.sampled_from([1, 2, 3, 5]), st.sampled_from([0, 1, 17, 255])),
    st.tuples(st.just("bind"), st.sampled_from(FDS), st.sampled_from(["127.0.0.1", "0.0.0.0", "10.9.9.9"]), st.sampled_from([0, 80, 7000])),
    st.tuples(st.just("sendto"), st.sampled_from(FDS), st.sampled_from([0, 10, 2000, 70000]), st.sampled_from(["127.0.0.1", "0.0.0.0", "127.255.255.255"])),
    st.tuples(st.just("recv"), st.sampled_from(FDS), st.sampled_from([0, 1, 100])),
    st.tuples(st.just("close"), st.sampled_from(FDS)),
    st.tuples(st.just("dup2"), st.sampled_from(FDS), st.sampled_from(FDS)),
    st.tuples(st.just("epoll"), st.sampled_from(FDS), st.sampled_from([1, 2, 3, 9])),
    st.tuples(st.just("epoll_wait"), st.sampled_from(FDS), st.sampled_from([0, 1, -1])),
    st.tuples(st.just("write"), st.sampled_from([1, 2, 3, -1]), st.binary(max_size=40)),
    st.tuples(st.just("pipe2"), st.sampled_from([0, os.O_NONBLOCK, os.O_CLOEXEC, os.O_DIRECT, 0x1])),
    st.tuples(st.just("read"), st.sampled_from(FDS), st.sampled_from([0, 1, 5000])),
    st.tuples(st.just("fcntl"), st.sampled_from(FDS), st.sampled_from([0, 1, 2, 3, 4, 1030, 1031, 1032, 99]), st.sampled_from([0, 1, 4096, os.O_NONBLOCK, -1])),
    st.tuples(st.just("listen"), st.sampled_from(FDS), st.sampled_from([0, 1, 128, -1])),
    st.tuples(st.just("connect"), st.sampled_from(FDS), st.sampled_from(["127.0.0.1", "0.0.0.0", "10.9.9.9"]), st.sampled_from([0, 80, 7000])),
    st.tuples(st.just("accept"), st.sampled_from(FDS)),
    st.tuples(st.just("shutdown"), st.sampled_from(FDS), st.sampled_from([0, 1, 2, 3])),
    st.tuples(st.just("send"), st.sampled_from(FDS), st.sampled_from([0, 10, 70000])),
    st.tuples(st.just("poll"), st.lists(st.sampled_from(FDS), max_size=3), st.sampled_from([0, 1, -1])),
    st.tuples(st.just("select"), st.lists(st.sampled_from(FDS[:8]), max_size=3), st.sampled_from([0.0, 0.001, None])),
    st.tuples(st.just("raw"), st.integers(-2, 460), st.lists(st.integers(-2**63, 2**64 - 1), max_size=3)),
    st.tuples(st.just("huge"), st.sampled_from(["kill", "compute", "nanosleep"])),
    st.tuples(st.just("pause")),
    st.tuples(st.just("exit"), st.integers(-5, 300)),
)


def make_program(ops: tuple, counter: dict):
    """A program running `ops` in order. It depends only on its system calls' results, as fork
    replay needs: a forked child runs the rest of the list too (a limited number of forks)."""

    async def main(sys):
        me = await sys.getpid()
        parent = await sys.getppid()
        child = 0
        forks = 0

        def pid_of(p):
            return {"self": me, "parent": parent, "child": child, "init": 1}.get(p, p)

        async def handler(sys, signo):
            counter["handled"] = counter.get("handled", 0) + 1

        for o in ops:
            counter["syscalls"] = counter.get("syscalls", 0) + 1
            name = o[0]
            try:
                if name == "kill":
                    await sys.kill(pid_of(o[1]), o[2])
                elif name == "sigaction":
                    h = {"handler": handler, "ign": signal.SIG_IGN, "dfl": signal.SIG_DFL}.get(o[2], o[2])
                    await sys.sigaction(o[1], h)
                elif name == "sigprocmask":
                    await sys.sigprocmask(o[1], o[2])
                elif name == "fork":
                    if forks >= 2:
                        continue
                    forks += 1
                    pid = await sys.fork()
                    if pid == 0:
                        me = await sys.getpid()
                        if o[1] == 0:
                            await sys.exit(7)
                    else:
                        child = pid
                elif name == "waitpid":
                    await sys.waitpid(pid_of(o[1]), o[2])
                elif name == "nanosleep":
                    await sys.nanosleep(o[1])
                elif name == "compute":
                    await sys.compute(o[1])
                elif name == "setpgid":
                    await sys.setpgid(pid_of(o[1]), pid_of(o[2]))
                elif name == "setsid":
                    await sys.setsid()
                elif name == "setpriority":
                    await sys.setpriority(0, 0, o[1])
                elif name == "sched_setscheduler":
                    await sys.sched_setscheduler(0, o[1], o[2])
                elif name == "sched_yield":
                    await sys.sched_yield()
                elif name == "alarm":
                    await sys.alarm(o[1])
                elif name == "setitimer":
                    await sys.setitimer(o[1], o[2], o[3])
                elif name == "socket":
                    await sys.socket(2, o[1], o[2])
                elif name == "bind":
                    await sys.bind(o[1], (o[2], o[3]))
                elif name == "sendto":
                    await sys.sendto(o[1], bytes(o[2]), (o[3], 7000), 0x40)
                elif name == "recv":
                    await sys.recvfrom(o[1], o[2], 0x40)
                elif name == "close":
                    await sys.close(o[1])
                elif name == "dup2":
                    await sys.dup2(o[1], o[2])
                elif name == "epoll":
                    ep = await sys.epoll_create1()
                    await sys.epoll_ctl(ep, o[2], o[1], 1)
                elif name == "epoll_wait":
                    await sys.epoll_wait(o[1], 4, o[2])
                elif name == "write":
                    await sys.write(o[1], o[2])
                elif name == "pipe2":
                    await sys.pipe2(o[1])
                elif name == "read":
                    await sys.read(o[1], o[2])
                elif name == "fcntl":
                    await sys.fcntl(o[1], o[2], o[3] & 0xFFFFFFFFFFFFFFFF)
                elif name == "listen":
                    await sys.listen(o[1], o[2])
                elif name == "connect":
                    await sys.connect(o[1], (o[2], o[3]))
                elif name == "accept":
                    await sys.accept4(o[1], 0o4000)  # SOCK_NONBLOCK: an empty queue is EAGAIN, not a hang
                elif name == "shutdown":
                    await sys.shutdown(o[1], o[2])
                elif name == "send":
                    await sys.send(o[1], bytes(o[2]), 0x4040)  # MSG_DONTWAIT | MSG_NOSIGNAL
                elif name == "poll":
                    await sys.poll([(fd, 0x3F) for fd in o[1]], o[2])
                elif name == "select":
                    await sys.select(o[1], o[1], [], o[2])
                elif name == "raw":
                    await sys.syscall(o[1], *o[2])
                elif name == "huge":
                    await {"kill": lambda: sys.kill(2**64, 9), "compute": lambda: sys.compute(2**64),
                           "nanosleep": lambda: sys.nanosleep(1e300)}[o[1]]()
                elif name == "pause":
                    await sys.pause()
                elif name == "exit":
                    await sys.exit(o[1])
            except (OSError, OverflowError, TypeError, ValueError) as e:
                if isinstance(e, OSError):
                    assert e.errno in errno.errorcode, e
                counter["errors"] = counter.get("errors", 0) + 1

    return main


class KernelMachine(RuleBasedStateMachine):
    """One kernel driven by random rules; the self-check holds at every step."""

    def __init__(self):
        super().__init__()
        self.k = None
        self.n = 0
        self.counter: dict = {}

    @initialize(cpus=st.integers(1, 3), preempt=st.sampled_from(["none", "voluntary", "full"]), seed=st.integers(0, 3))
    def boot(self, cpus, preempt, seed):
        self.k = gk.Kernel(cpus=cpus, seed=seed, preempt=preempt)
        self.k.trace.limit = 20_000  # bounded: a long fuzz run must not grow without limit

    def _to_safe_point(self):
        # Bounded like every run here: with a periodic timer armed the machine never goes quiet.
        while self.k.stopped:
            self.k.run(for_ns=1_000_000)

    def _run(self, **kw):
        def check(kk):
            STATS["steps"] += 1
            kk.check()
            return False
        try:
            return self.k.run(until=check, **kw)
        except RuntimeError as e:
            # What a callback may not do is refused with a RuntimeError saying so; the kernel stays consistent.
            assert "cannot be called while the kernel runs" in str(e) or "already running" in str(e), e
        finally:
            STATS["runs"] += 1

    @rule(ops=st.lists(op, min_size=1, max_size=12))
    def spawn(self, ops):
        self._to_safe_point()
        self.n += 1
        path = f"/bin/p{self.n}"
        self.k.program(path)(make_program(tuple(ops), self.counter))
        try:
            self.k.spawn(path)
            STATS["programs"] += 1
        except OSError as e:
            assert e.errno in (errno.EAGAIN, errno.ENOMEM), e

    @rule(for_ns=st.sampled_from([1, 1000, 100_000, 5_000_000, 50_000_000]))
    def run_for(self, for_ns):
        self._run(for_ns=for_ns)

    @rule(mode=st.sampled_from(["function", "syscall", "switch", "tick"]), n=st.integers(1, 20))
    def step(self, mode, n):
        for _ in range(n):
            # Bounded: with a periodic timer armed the machine never goes quiet, so a step to a
            # point no task will reach (a syscall while every task sleeps) would run forever.
            s = self.k.run(mode, for_ns=200_000_000)
            STATS["steps"] += 1
            self.k.check()
            if s is None:
                break

    @rule(name=st.sampled_from(STEP_NAMES))
    def break_and_run(self, name):
        bp = self.k.break_at(name)
        self._run(for_ns=20_000_000)
        bp.remove()
        self.k.check()

    @rule(irq=st.integers(3, 9), mode=st.sampled_from(["tasklet", "timer", "forbidden", "raise"]))
    def interrupt(self, irq, mode):
        k = self.k
        self._to_safe_point()
        tl = k.irq.tasklet(lambda ctx: None, "fz")
        tm = k.timers.timer(lambda ctx: None, "fz")

        def handler(ctx):
            if mode == "tasklet":
                ctx.tasklet_schedule(tl)
            elif mode == "timer":
                tm.mod(k.jiffies + 2)
            elif mode == "forbidden":
                k.irq.free_irq(irq, dev_id="fz")  # refused: RuntimeError from k.run
            else:
                k.irq.raise_softirq(gk.interrupts.TASKLET_SOFTIRQ)
            return True

        try:
            k.irq.request_irq(irq, handler, name="fz", shared=True, dev_id="fz")
        except OSError as e:
            assert e.errno in (errno.EBUSY, errno.EINVAL), e
            return
        k.irq.raise_irq(irq, at_ns=k.now + 10_000)
        self._run(for_ns=1_000_000)
        self._to_safe_point()
        try:
            k.irq.free_irq(irq, dev_id="fz")
        except OSError:
            pass

    @precondition(lambda self: self.k is not None)
    @invariant()
    def consistent(self):
        self.k.check()

    def teardown(self):
        if self.k is not None:
            if not self.k.stopped:
                self._run(for_ns=100_000_000)
            self.k.check()
        STATS["syscalls"] += self.counter.get("syscalls", 0)
