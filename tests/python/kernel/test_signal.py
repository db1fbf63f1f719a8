"""kernel/signal.c (cpp/kernel/signal.cpp): generation (kill's four pid rules and permissions,
tgkill, sigqueue, coalescing vs. queueing, RLIMIT_SIGPENDING, ignored signals dropped at
generation, uncatchable SIGKILL/SIGSTOP), dequeue order, SIGCHLD to the parent, job control
(stop, continue, orphaned groups), and delivery to handlers: the mask sigaction installs,
SA_SIGINFO, SA_RESETHAND, SA_NODEFER, nesting, pause, sigsuspend, sigtimedwait."""
import os
import resource
import signal as S

import glasskernel as gk
from gktest import errname, errno_of, run_checked, spawn_run, wstatus


# ---- generation: kill(2), tgkill(2), sigqueue ----

def test_kill_terminates_with_the_signal_in_the_status(k):
    """kill(2): SIGTERM, SIGKILL and SIGQUIT's default actions end the process; the wait status names the signal."""
    got = {}

    async def main(sys):
        for sig in (S.SIGTERM, S.SIGKILL, S.SIGQUIT):
            pid = await sys.fork()
            if pid == 0:
                await sys.nanosleep(10)
                await sys.exit(0)
            await sys.kill(pid, sig)
            _, st = await sys.waitpid(pid, 0)
            got[sig] = wstatus(st)
    spawn_run(k, main)
    assert got == {S.SIGTERM: ("killed", S.SIGTERM, False), S.SIGKILL: ("killed", S.SIGKILL, False),
                   S.SIGQUIT: ("killed", S.SIGQUIT, False)}


def test_kill_errors_and_signal_zero(k):
    """kill(2): signal 0 only checks the target; a bad signal is EINVAL, no such pid or group ESRCH (LTP kill03, kill04)."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(10)
            await sys.exit(0)
        got["signal 0"] = await sys.kill(pid, 0)
        got["errors"] = [await errno_of(sys.kill(*args)) for args in (
            (pid, 65), (pid, -1), (99999, S.SIGTERM), (-99999, S.SIGTERM), (-(2**31), S.SIGTERM))]
        await sys.kill(pid, S.SIGKILL)
        await sys.waitpid(pid, 0)
        got["signal 0 after reaping"] = await errno_of(sys.kill(pid, 0))
    spawn_run(k, main)
    assert got == {"signal 0": None, "errors": ["EINVAL", "EINVAL", "ESRCH", "ESRCH", "ESRCH"],
                   "signal 0 after reaping": "ESRCH"}


def test_kill_permission_by_uid(k):
    """kill(2): an unprivileged sender needs its uid to match the target's: EPERM on root's processes and init (LTP kill05)."""
    got = {}

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
            except PermissionError as e:
                got["user kills root's process"] = errname(e)
            try:
                await sys.kill(1, S.SIGTERM)
            except PermissionError as e:
                got["user kills init"] = errname(e)
            await sys.nanosleep(1)
            await sys.exit(0)
        await sys.nanosleep(0.1)
        await sys.kill(user_child, S.SIGTERM)  # root may signal anyone
        await sys.kill(root_child, S.SIGTERM)
        sigs = []
        for _ in range(2):
            _, st = await sys.wait()
            sigs.append(os.WTERMSIG(st))
        got["root's kills"] = sigs
    spawn_run(k, main)
    assert got == {"user kills root's process": "EPERM", "user kills init": "EPERM", "root's kills": [15, 15]}


def test_kill_process_group_and_own_group(k):
    """kill(0, sig) signals the caller's process group, kill(-pgid, sig) another group."""
    got = {}

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
        group = []
        for _ in range(2):
            _, st = await sys.waitpid(0, 0)
            group.append(os.WTERMSIG(st))
        got["own group"] = group
        await sys.kill(-other, S.SIGTERM)
        _, st = await sys.waitpid(other, 0)
        got["other group"] = os.WTERMSIG(st)
    spawn_run(k, main)
    assert got == {"own group": [S.SIGUSR1, S.SIGUSR1], "other group": S.SIGTERM}


def test_kill_minus_one_spares_init_kthreads_and_caller(k):
    """kill(-1, sig) signals every process the caller may signal except init and itself; kernel threads are spared."""
    got = {}

    async def main(sys):
        await sys.setuid(1000)
        for _ in range(2):
            if await sys.fork() == 0:
                await sys.nanosleep(10)
                await sys.exit(0)
        await sys.nanosleep(0.001)
        await sys.kill(-1, S.SIGTERM)
        sigs = []
        for _ in range(2):
            _, st = await sys.wait()
            sigs.append(os.WTERMSIG(st))
        got["children"] = sigs
    t = spawn_run(k, main)
    assert got == {"children": [15, 15]} and t.exit_code == 0
    assert [x.pid for x in k.tasks] == [1, 2, 3, 4]


def test_root_kill_minus_one_does_not_touch_init_or_kthreads(k):
    """kill(2): even root's SIGKILL to -1, to kthreadd or to init leaves init and the kernel threads alone."""
    got = {}

    async def main(sys):
        await sys.kill(-1, S.SIGKILL)
        await sys.kill(2, S.SIGKILL)
        await sys.kill(1, S.SIGKILL)
        got["still here"] = True
    spawn_run(k, main)
    assert got == {"still here": True} and not k.panicked
    assert [t.comm for t in k.tasks] == ["init", "kthreadd", "ksoftirqd/0", "kworker/0:0"]


def test_sigkill_and_sigstop_cannot_be_caught_blocked_or_ignored(k):
    """sigaction(2) on SIGKILL or SIGSTOP is EINVAL; sigprocmask(2) silently leaves them unblocked; a bad `how` is EINVAL."""
    got = {}

    async def main(sys):
        got["sigaction"] = [await errno_of(sys.sigaction(sig, S.SIG_IGN)) for sig in (S.SIGKILL, S.SIGSTOP)]
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGKILL, S.SIGSTOP, S.SIGUSR1})
        got["blocked"] = sorted(await sys.sigprocmask(S.SIG_BLOCK, None))
        got["bad how"] = await errno_of(sys.sigprocmask(7, {S.SIGUSR1}))
    spawn_run(k, main)
    assert got == {"sigaction": ["EINVAL", "EINVAL"], "blocked": [S.SIGUSR1], "bad how": "EINVAL"}


def test_ignored_signal_is_dropped_at_generation(k):
    """sig_ignored(): a signal whose action is SIG_IGN is dropped when sent, never pending (TRACE_SIGNAL_IGNORED)."""
    got = {}

    async def main(sys):
        got["old action was SIG_DFL"] = await sys.sigaction(S.SIGTERM, S.SIG_IGN) == S.SIG_DFL
        await sys.kill(await sys.getpid(), S.SIGTERM)
        got["pending after kill"] = await sys.sigpending()
    spawn_run(k, main)
    assert got == {"old action was SIG_DFL": True, "pending after kill": set()}
    gen = [e for e in k.trace.events if e.name == "signal_generate" and "sig=15" in e.args]
    assert gen[0].args.endswith("res=1")


def test_standard_signals_coalesce_realtime_signals_queue(k):
    """A blocked standard signal sent thrice is pending once (first siginfo); real-time signals queue each one, in order."""
    rt = S.SIGRTMIN
    got = {}

    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR1, rt})
        for v in (1, 2, 3):
            await sys.sigqueue(me, S.SIGUSR1, v)
            await sys.sigqueue(me, rt, v * 10)
        infos = []
        while True:
            try:
                i = await sys.sigwaitinfo({S.SIGUSR1, rt}, 0)
            except BlockingIOError:
                break
            infos.append((i.si_signo, i.si_value, i.si_code, i.si_pid == me))
        got["dequeued"] = infos
    spawn_run(k, main)
    # SIGUSR1 once (the first siginfo), then the real-time one three times in order
    assert got == {"dequeued": [(10, 1, -1, True), (rt, 10, -1, True), (rt, 20, -1, True), (rt, 30, -1, True)]}


def test_dequeue_order_lowest_standard_first_then_realtime(k):
    """next_signal(): the lowest pending standard signal is dequeued first, then real-time signals by number."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        sigs = {S.SIGUSR2, S.SIGUSR1, S.SIGRTMIN + 1, S.SIGRTMIN}
        await sys.sigprocmask(S.SIG_BLOCK, sigs)
        for s in (S.SIGRTMIN + 1, S.SIGUSR2, S.SIGRTMIN, S.SIGUSR1):
            await sys.kill(me, s)
        got["order"] = [await sys.sigtimedwait(sigs, 0) for _ in range(4)]
    spawn_run(k, main)
    assert got == {"order": [S.SIGUSR1, S.SIGUSR2, S.SIGRTMIN, S.SIGRTMIN + 1]}


def test_synchronous_signals_are_dequeued_first(k):
    """next_signal(): synchronous signals (SIGSEGV, ...) are dequeued before lower-numbered others."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        sigs = {S.SIGHUP, S.SIGSEGV, S.SIGINT}
        await sys.sigprocmask(S.SIG_BLOCK, sigs)
        for s in (S.SIGHUP, S.SIGINT, S.SIGSEGV):
            await sys.kill(me, s)
        got["order"] = [await sys.sigtimedwait(sigs, 0) for _ in range(3)]
    spawn_run(k, main)
    assert got == {"order": [S.SIGSEGV, S.SIGHUP, S.SIGINT]}


def test_private_and_shared_pending(k):
    """tgkill(2) queues on the thread's private pending set, kill(2) on the process's shared_pending."""
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
    """RLIMIT_SIGPENDING: sigqueue beyond it is EAGAIN; kill beyond it still sends the signal, without its siginfo."""
    rt = S.SIGRTMIN
    got = {}

    async def main(sys):
        me = await sys.getpid()
        await sys.setrlimit(resource.RLIMIT_SIGPENDING, (2, 2))
        await sys.sigprocmask(S.SIG_BLOCK, {rt, rt + 1})
        got["sigqueue"] = [await errno_of(sys.sigqueue(me, rt, v)) for v in range(3)]
        await sys.kill(me, rt + 1)  # over the limit from kill(): sent, siginfo lost
        got["pending"] = sorted(await sys.sigpending())
    spawn_run(k, main)
    assert got == {"sigqueue": [None, None, "EAGAIN"], "pending": [rt, rt + 1]}


def test_tgkill_rules(k):
    """tgkill(2): tgid or tid <= 0 and a bad signal are EINVAL; a thread not in that group is ESRCH."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        await sys.sigaction(S.SIGUSR1, S.SIG_IGN)
        got["own thread"] = await errno_of(sys.tgkill(me, me, S.SIGUSR1))
        got["errors"] = [await errno_of(sys.tgkill(*args))
                         for args in ((0, me, S.SIGUSR1), (me, 0, S.SIGUSR1), (1, me, S.SIGUSR1), (me, me, 99))]
    spawn_run(k, main)
    assert got == {"own thread": None, "errors": ["EINVAL", "EINVAL", "ESRCH", "EINVAL"]}


def test_sigcont_allowed_within_the_session_across_uids(k):
    """check_kill_permission: SIGCONT may go to any process of the sender's session, other signals need a uid match."""
    got = {}

    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        other = await sys.fork()
        if other == 0:
            await sys.setuid(1000)
            try:
                await sys.kill(pid, S.SIGTERM)
            except PermissionError as e:
                got["SIGTERM"] = errname(e)
            got["SIGCONT"] = await errno_of(sys.kill(pid, S.SIGCONT))  # same session: allowed
            await sys.exit(0)
        await sys.waitpid(other, 0)
        await sys.waitpid(pid, 0)
    spawn_run(k, main)
    assert got == {"SIGTERM": "EPERM", "SIGCONT": None}


# ---- SIGCHLD to the parent: do_notify_parent ----

def test_sigchld_is_generated_and_ignored_by_default(k):
    """do_notify_parent: a child's exit sends SIGCHLD, whose default action (ignore) drops it at generation."""
    async def main(sys):
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        await sys.waitpid(pid, 0)
    t = spawn_run(k, main)
    gen = [e for e in k.trace.events if e.name == "signal_generate" and f"pid={t.pid} " in e.args]
    assert gen and "sig=17" in gen[0].args and gen[0].args.endswith("res=1")  # TRACE_SIGNAL_IGNORED


def test_blocked_sigchld_stays_pending_and_sigtimedwait_takes_it(k):
    """A blocked SIGCHLD stays pending until sigtimedwait(2) takes it; with none pending its timeout is EAGAIN."""
    got = {}

    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        pid = await sys.fork()
        if pid == 0:
            await sys.exit(0)
        got["taken"] = await sys.sigtimedwait({S.SIGCHLD})
        got["pending after"] = await sys.sigpending()
        await sys.waitpid(pid, 0)
        got["timed out"] = await errno_of(sys.sigtimedwait({S.SIGCHLD}, 0.001))
    spawn_run(k, main)
    assert got == {"taken": S.SIGCHLD, "pending after": set(), "timed out": "EAGAIN"}


def test_pending_sigchld_is_visible_on_the_task(k):
    """A blocked SIGCHLD sits in the parent's signal->shared_pending, as sigpending(2) reports."""
    got = {}

    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        if await sys.fork() == 0:
            await sys.exit(0)
        await sys.nanosleep(0.01)
        got["sigpending"] = await sys.sigpending()
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: S.SIGCHLD in t.signal.shared_pending)
    assert S.SIGCHLD in t.blocked
    run_checked(k)
    assert got == {"sigpending": {S.SIGCHLD}}


# ---- job control: do_signal_stop, prepare_signal ----

def test_stopped_task_state_and_sigchld_info(k):
    """do_signal_stop: the task is TASK_STOPPED off the run queue; the parent gets SIGCHLD with CLD_STOPPED, then CLD_CONTINUED."""
    got = {}

    async def main(sys):
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        # A job of its own, whose parent (in another group of the session) can continue it:
        # its group is not orphaned, so SIGTSTP stops it (the spawned program's group is).
        await sys.setpgid(pid, pid)
        await sys.kill(pid, S.SIGTSTP)
        info = await sys.sigwaitinfo({S.SIGCHLD})
        got["stopped"] = (info.si_code == os.CLD_STOPPED, info.si_status, info.si_pid == pid)
        await sys.nanosleep(0.01)
        await sys.kill(pid, S.SIGCONT)
        info = await sys.sigwaitinfo({S.SIGCHLD})
        got["continued"] = (info.si_code == os.CLD_CONTINUED, info.si_status)
        await sys.waitpid(pid, 0)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: len(t.children) == 1 and t.children[0].state == "T")
    child = t.children[0]
    assert child.state == "T" and child.on_rq == 0
    run_checked(k)
    assert got == {"stopped": (True, S.SIGTSTP, True), "continued": (True, S.SIGCONT)}


def test_sa_nocldstop_suppresses_the_stop_sigchld(k):
    """SA_NOCLDSTOP: no SIGCHLD when a child stops; a stopped child still dies of SIGKILL, which sends one."""
    got = {}

    async def main(sys):
        await sys.sigaction(S.SIGCHLD, S.SIG_DFL, gk.SA_NOCLDSTOP)
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGCHLD})
        pid = await sys.fork()
        if pid == 0:
            await sys.nanosleep(0.05)
            await sys.exit(0)
        await sys.kill(pid, S.SIGSTOP)
        await sys.waitpid(pid, os.WUNTRACED)
        got["pending after stop"] = await sys.sigpending()
        await sys.kill(pid, S.SIGKILL)  # a stopped process still dies of SIGKILL
        _, st = await sys.waitpid(pid, 0)
        got["killed"] = (os.WTERMSIG(st), await sys.sigpending())
    spawn_run(k, main)
    assert got == {"pending after stop": set(), "killed": (S.SIGKILL, {S.SIGCHLD})}


def test_sigcont_discards_pending_stops_and_stop_discards_sigcont(k):
    """prepare_signal: a new SIGCONT discards pending stop signals, a new stop signal discards a pending SIGCONT."""
    got = {}

    async def main(sys):
        me = await sys.getpid()
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGTSTP, S.SIGCONT})
        await sys.kill(me, S.SIGTSTP)
        got["after SIGTSTP"] = sorted(await sys.sigpending())
        await sys.kill(me, S.SIGCONT)
        got["after SIGCONT"] = sorted(await sys.sigpending())
        await sys.kill(me, S.SIGTSTP)
        got["after SIGTSTP again"] = sorted(await sys.sigpending())
    spawn_run(k, main)
    assert got == {"after SIGTSTP": [S.SIGTSTP], "after SIGCONT": [S.SIGCONT], "after SIGTSTP again": [S.SIGTSTP]}


def test_orphaned_group_ignores_terminal_stops(k):
    """get_signal: SIGTSTP (and SIGTTIN, SIGTTOU) to a process of an orphaned process group does not stop it."""
    got = {}

    async def main(sys):
        await sys.setsid()  # a new session and group: its only member's parent (init) is outside
        await sys.kill(await sys.getpid(), S.SIGTSTP)
        got["not stopped"] = True
    t = spawn_run(k, main)
    assert got == {"not stopped": True} and t.exit_code == 0


# ---- delivery to handlers: get_signal, signal_delivered ----

def test_handler_runs_with_signal_blocked_and_mask_restored(k):
    """sigaction(2): the handler runs with its signal and sa_mask blocked; the old mask is back after it returns."""
    got = {}

    async def main(sys):
        async def on_usr1(sys, signo):
            got["handler"] = (signo, sorted(await sys.sigprocmask(S.SIG_BLOCK, None)))
        old = await sys.sigaction(S.SIGUSR1, on_usr1, 0, {S.SIGUSR2})
        got["old"] = (old == S.SIG_DFL, (await sys.sigaction(S.SIGUSR1)) is on_usr1)
        await sys.kill(await sys.getpid(), S.SIGUSR1)
        got["after"] = sorted(await sys.sigprocmask(S.SIG_BLOCK, None))
    spawn_run(k, main)
    assert got == {"old": (True, True), "handler": (S.SIGUSR1, [S.SIGUSR1, S.SIGUSR2]), "after": []}


def test_pause_returns_eintr_after_the_handler(k):
    """pause(2) sleeps until a caught signal's handler has run, then fails with EINTR (LTP pause01)."""
    events = []

    async def main(sys):
        async def h(sys, signo):
            events.append(("caught", signo))
        await sys.sigaction(S.SIGALRM, h)
        await sys.alarm(1)
        events.append(("pause", await errno_of(sys.pause())))
    spawn_run(k, main)
    assert events == [("caught", S.SIGALRM), ("pause", "EINTR")]


def test_siginfo_handler_gets_sender_and_value(k):
    """SA_SIGINFO: the handler gets a siginfo with sigqueue's SI_QUEUE code, the sender's pid and the value."""
    got = {}

    async def main(sys):
        async def h(sys, signo, info):
            got["handler"] = (signo, info.si_code, info.si_value, info.si_pid == await sys.getpid())
        await sys.sigaction(S.SIGRTMIN, h, gk.SA_SIGINFO)
        await sys.sigqueue(await sys.getpid(), S.SIGRTMIN, 42)
    spawn_run(k, main)
    assert got == {"handler": (S.SIGRTMIN, -1, 42, True)}


def test_resethand_runs_once_then_default(k):
    """SA_RESETHAND: the handler runs once and the action is reset to SIG_DFL, so the next SIGTERM kills."""
    got = {}

    async def main(sys):
        async def h(sys, signo):
            got["handler runs"] = got.get("handler runs", 0) + 1
        await sys.signal_oneshot(S.SIGTERM, h)
        me = await sys.getpid()
        await sys.kill(me, S.SIGTERM)
        got["back to SIG_DFL"] = (await sys.sigaction(S.SIGTERM)) == S.SIG_DFL
        await sys.kill(me, S.SIGTERM)
        got["not reached"] = True
    t = spawn_run(k, main)
    assert got == {"handler runs": 1, "back to SIG_DFL": True} and t.exit_code == S.SIGTERM


def test_handlers_nest(k):
    """A signal not blocked by the running handler's mask interrupts it: its handler runs nested, inside the first."""
    events = []

    async def main(sys):
        me = await sys.getpid()

        async def on_usr2(sys, signo):
            events.append("usr2 inside usr1")

        async def on_usr1(sys, signo):
            events.append("usr1 start")
            await sys.kill(me, S.SIGUSR2)
            events.append("usr1 end")
        await sys.sigaction(S.SIGUSR1, on_usr1)
        await sys.sigaction(S.SIGUSR2, on_usr2)
        await sys.kill(me, S.SIGUSR1)
        events.append("main")
    spawn_run(k, main)
    assert events == ["usr1 start", "usr2 inside usr1", "usr1 end", "main"]


def test_nodefer_lets_the_same_signal_nest(k):
    """SA_NODEFER: the signal is not blocked while its handler runs, so the handler nests within itself."""
    events = []

    async def main(sys):
        me = await sys.getpid()
        depth = []

        async def h(sys, signo):
            depth.append(1)
            d = len(depth)
            if d < 3:
                await sys.kill(me, S.SIGUSR1)
            events.append(("depth", d))
        await sys.sigaction(S.SIGUSR1, h, gk.SA_NODEFER)
        await sys.kill(me, S.SIGUSR1)
    spawn_run(k, main)
    assert events == [("depth", 3), ("depth", 2), ("depth", 1)]


def test_sigsuspend_waits_and_restores_the_mask(k):
    """sigsuspend(2): the temporary mask lets the pending signal's handler run, then EINTR with the old mask back."""
    events = []

    async def main(sys):
        async def h(sys, signo):
            events.append(("handled with mask", sorted(await sys.sigprocmask(S.SIG_BLOCK, None))))
        await sys.sigaction(S.SIGUSR1, h)
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR1})
        await sys.kill(await sys.getpid(), S.SIGUSR1)  # stays pending: blocked
        try:
            await sys.sigsuspend(set())
        except InterruptedError as e:
            events.append((errname(e), "mask", sorted(await sys.sigprocmask(S.SIG_BLOCK, None))))
    spawn_run(k, main)
    assert events == [("handled with mask", [S.SIGUSR1]), ("EINTR", "mask", [S.SIGUSR1])]


def test_sigtimedwait_is_interrupted_by_a_caught_signal(k):
    """sigtimedwait(2) fails with EINTR when a signal outside its set is caught by a handler."""
    events = []

    async def main(sys):
        async def h(sys, signo):
            events.append(("caught", signo))
        await sys.sigaction(S.SIGALRM, h)
        await sys.alarm(1)
        events.append(("sigtimedwait", await errno_of(sys.sigtimedwait({S.SIGUSR1}, 5))))
    spawn_run(k, main)
    assert events == [("caught", S.SIGALRM), ("sigtimedwait", "EINTR")]


def test_proc_status_and_pending_views(k):
    """/proc/PID/status's SigQ, SigPnd, ShdPnd, SigIgn and SigCgt lines and the pending/sighand views agree with what was sent."""
    async def main(sys):
        async def h(sys, signo):
            pass
        me = await sys.getpid()
        await sys.sigaction(S.SIGUSR1, h)
        await sys.sigaction(S.SIGTERM, S.SIG_IGN)
        await sys.sigprocmask(S.SIG_BLOCK, {S.SIGUSR2, S.SIGRTMIN})
        await sys.sigqueue(me, S.SIGRTMIN, 7)
        await sys.sigqueue(me, S.SIGRTMIN, 8)
        await sys.tgkill(me, me, S.SIGUSR2)
        await sys.nanosleep(0.01)
    k.program("/bin/t")(main)
    t = k.spawn("/bin/t")
    k.run(until=lambda k: t.state == "S" and len(t.signal.shared_queue) == 2)
    status = k.proc_status(t.pid)
    assert "SigQ:\t3/" in status
    assert "SigPnd:\t0000000000000800" in status           # SIGUSR2, private (tgkill)
    assert f"ShdPnd:\t{1 << (S.SIGRTMIN - 1):016x}" in status
    assert "SigIgn:\t0000000000004000" in status and "SigCgt:\t0000000000000200" in status
    assert [q.si_value for q in t.signal.shared_queue] == [7, 8]
    assert t.sighand[S.SIGTERM].handler == "SIG_IGN" and isinstance(t.sighand[S.SIGUSR1].handler, int)
    assert "shared_pending" in gk.display.sigpending_html(t)
    run_checked(k)
