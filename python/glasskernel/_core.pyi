# The typed stub of glasskernel._core, written by tools/gen_core_stub.py from the module itself: do not edit,
# regenerate with `make stub` (tests/python/bindings/test_core_stub.py fails when it is stale).
"""glasskernel's compiled core: the simulated kernel and its views."""

from typing import List, NamedTuple, Optional, final

SA_NOCLDSTOP: int
SA_NOCLDWAIT: int
SA_SIGINFO: int
SA_RESTORER: int
SA_ONSTACK: int
SA_RESTART: int
SA_NODEFER: int
SA_RESETHAND: int
SI_USER: int
SI_KERNEL: int
SI_QUEUE: int
SI_TKILL: int
CLD_EXITED: int
CLD_KILLED: int
CLD_DUMPED: int
CLD_TRAPPED: int
CLD_STOPPED: int
CLD_CONTINUED: int
__WNOTHREAD: int
__WALL: int
__WCLONE: int
PR_SET_PDEATHSIG: int
PR_GET_PDEATHSIG: int
PR_SET_NAME: int
PR_GET_NAME: int
PR_SET_CHILD_SUBREAPER: int
PR_GET_CHILD_SUBREAPER: int
EPOLL_CTL_ADD: int
EPOLL_CTL_DEL: int
EPOLL_CTL_MOD: int
SO_REUSEADDR: int
SO_REUSEPORT: int
SO_BROADCAST: int
SO_SNDBUF: int
SO_RCVBUF: int
SO_TYPE: int
SO_ERROR: int
SO_PROTOCOL: int
SO_DOMAIN: int
IP_TTL: int
IP_HDRINCL: int
MSG_PEEK: int
MSG_TRUNC: int
MSG_DONTWAIT: int
IPPROTO_MAX: int
IRQ_NONE: int
IRQ_HANDLED: int
IRQ_WAKE_THREAD: int
NR_IRQS: int
HI_SOFTIRQ: int
TIMER_SOFTIRQ: int
NET_TX_SOFTIRQ: int
NET_RX_SOFTIRQ: int
BLOCK_SOFTIRQ: int
IRQ_POLL_SOFTIRQ: int
TASKLET_SOFTIRQ: int
SCHED_SOFTIRQ: int
HRTIMER_SOFTIRQ: int
RCU_SOFTIRQ: int
NR_SOFTIRQS: int
NF_DROP: int
NF_ACCEPT: int
NF_INET_PRE_ROUTING: int
NF_INET_LOCAL_IN: int
NF_INET_FORWARD: int
NF_INET_LOCAL_OUT: int
NF_INET_POST_ROUTING: int
softirq_to_name: tuple[str, ...]
COMPUTE: object
RAW: object
trace_names: tuple[str, ...]
KT_EXIT: int
KT_OOPS: int
KT_DELAY: int
KT_MSLEEP: int
KT_MIGHT_SLEEP: int
KT_COND_RESCHED: int
KT_YIELD: int
KT_PREEMPT_DISABLE: int
KT_PREEMPT_ENABLE: int
KT_IRQ_DISABLE: int
KT_IRQ_ENABLE: int
KT_IRQ_SAVE: int
KT_IRQ_RESTORE: int
KT_BH_DISABLE: int
KT_BH_ENABLE: int
KT_RAISE_SOFTIRQ: int
KT_SHOULD_STOP: int
KT_NR_OPS: int

class ReplayDivergence(RuntimeError):
    """A fork child's replay of its parent's system calls took another path.

    Programs must be deterministic given their syscall results. The child is killed with SIGKILL;
    the message names the first call that differed."""

class KernelInconsistency(AssertionError):
    """The kernel's self-check found a broken invariant (an AssertionError); the message names it."""

class KernelPanic(RuntimeError):
    """The machine panicked (panic()); it will not run again. A RuntimeError."""

class KernelOutOfMemory(KernelPanic, MemoryError):
    """The machine panicked because the host had no memory for kernel code: a KernelPanic and a MemoryError."""

class SigInfo(NamedTuple):
    """A siginfo_t as user memory holds it (include/uapi/asm-generic/siginfo.h)."""
    si_signo: int
    si_code: int
    si_pid: int
    si_uid: int
    si_status: int
    si_value: int

@final
class UserArg:
    """A system call argument that names user memory: Out(n), OutBuf(n), InOut(value) or Buf(data)."""
    def __hash__(self) -> int: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    @property
    def kind(self) -> str:
        """Out, OutBuf, InOut or Buf"""
    @property
    def count(self) -> int | None:
        """how many elements (None: one value)"""
    @property
    def value(self) -> object:
        """what InOut or Buf passes"""

class Task:
    """A view of one task_struct."""
    @property
    def pid(self) -> int: ...
    @property
    def tgid(self) -> int: ...
    @property
    def comm(self) -> str: ...
    @property
    def state(self) -> str:
        """The state letter ps shows: R, S, D, I, T, Z or X."""
    @property
    def __state(self) -> int: ...
    @property
    def exit_state(self) -> int: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def exit_signal(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def real_parent(self) -> Optional[Task]: ...
    @property
    def parent(self) -> Optional[Task]: ...
    @property
    def children(self) -> list: ...
    @property
    def sibling(self) -> list:
        """The other children of this task's parent (the list the sibling link is on)."""
    @property
    def group_leader(self) -> Optional[Task]: ...
    @property
    def pgid(self) -> int: ...
    @property
    def sid(self) -> int: ...
    @property
    def prio(self) -> int: ...
    @property
    def static_prio(self) -> int: ...
    @property
    def normal_prio(self) -> int: ...
    @property
    def nice(self) -> int: ...
    @property
    def policy(self) -> int: ...
    @property
    def sched_class(self) -> str: ...
    @property
    def on_rq(self) -> int: ...
    @property
    def on_cpu(self) -> int: ...
    @property
    def cpu(self) -> int: ...
    @property
    def nvcsw(self) -> int: ...
    @property
    def nivcsw(self) -> int: ...
    @property
    def utime(self) -> int:
        """User CPU time, ns."""
    @property
    def stime(self) -> int:
        """System CPU time, ns."""
    @property
    def start_time(self) -> int: ...
    @property
    def se(self) -> SchedEntity:
        """The CFS sched_entity."""
    @property
    def pt_regs(self) -> PtRegs:
        """task_pt_regs(): user mode's registers as the last entry to the kernel saved them."""
    @property
    def thread_info(self) -> ThreadInfo: ...
    @property
    def uid(self) -> int: ...
    @property
    def euid(self) -> int: ...
    @property
    def suid(self) -> int: ...
    @property
    def gid(self) -> int: ...
    @property
    def argv(self) -> List[str]: ...
    @property
    def reaped(self) -> bool:
        """True once release_task() has freed this task; the view stays readable."""
    @property
    def is_kthread(self) -> bool: ...
    @property
    def traceback(self) -> Optional[str]:
        """Why the program crashed (the uncaught exception's traceback), or None."""
    @property
    def signal(self) -> Optional[SignalStruct]: ...
    @property
    def blocked(self) -> set: ...
    @property
    def pending(self) -> set: ...
    @property
    def pending_queue(self) -> list:
        """The queued siginfos of task->pending, oldest first."""
    @property
    def sighand(self) -> dict:
        """sighand->action by signal number, for every signal not left at SIG_DFL."""
    @property
    def sig_masks(self) -> dict: ...
    @property
    def signal_frames(self) -> list:
        """The rt_sigframes setup_rt_frame pushed, outermost first: the saved mask and interrupted state."""
    @property
    def wchan(self) -> Optional[str]:
        """/proc/PID/wchan: the function a sleeping task waits in (scheduler functions skipped), or None."""
    @property
    def kernel_stack(self) -> List[str]:
        """The modeled functions open on this task's kernel stack, outermost first."""
    @property
    def mode(self) -> str:
        """Where the task's engine state is: new, user, kernel or dead."""
    @property
    def exe(self) -> Optional[str]: ...
    @property
    def syscall_log_length(self) -> int:
        """System calls recorded since exec: what a fork child would replay."""
    @property
    def fds(self) -> dict:
        """The open files by descriptor, as ls -l /proc/PID/fd names them."""
    def __eq__(self, arg0: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __repr__(self) -> str: ...

class SignalStruct:
    """A view of a signal_struct (shared by a thread group)."""
    @property
    def wait_chldexit(self) -> WaitQueue: ...
    @property
    def shared_pending(self) -> set: ...
    @property
    def shared_queue(self) -> list: ...
    @property
    def group_exit_code(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def is_child_subreaper(self) -> bool: ...
    @property
    def has_child_subreaper(self) -> bool: ...
    @property
    def leader(self) -> bool: ...
    @property
    def cutime(self) -> int: ...
    @property
    def cstime(self) -> int: ...
    @property
    def rlim(self) -> list: ...

class WaitQueue:
    """A view of a wait_queue_head and the tasks sleeping on it."""
    @property
    def name(self) -> str: ...
    @property
    def waiters(self) -> list:
        """One entry per wait_queue_entry, in queue order: the sleeping task, its wake function and whether it is exclusive."""
    def __len__(self) -> int: ...

class PtRegs:
    """struct pt_regs: the registers saved on entry to the kernel."""
    def _repr_html_(self) -> str: ...
    @property
    def r15(self) -> int: ...
    @property
    def r14(self) -> int: ...
    @property
    def r13(self) -> int: ...
    @property
    def r12(self) -> int: ...
    @property
    def bp(self) -> int: ...
    @property
    def bx(self) -> int: ...
    @property
    def r11(self) -> int: ...
    @property
    def r10(self) -> int: ...
    @property
    def r9(self) -> int: ...
    @property
    def r8(self) -> int: ...
    @property
    def ax(self) -> int: ...
    @property
    def cx(self) -> int: ...
    @property
    def dx(self) -> int: ...
    @property
    def si(self) -> int: ...
    @property
    def di(self) -> int: ...
    @property
    def orig_ax(self) -> int: ...
    @property
    def ip(self) -> int: ...
    @property
    def cs(self) -> int: ...
    @property
    def flags(self) -> int: ...
    @property
    def sp(self) -> int: ...
    @property
    def ss(self) -> int: ...
    @property
    def user_mode(self) -> bool:
        """user_mode(regs): CS's privilege level is 3"""
    @property
    def interrupts_enabled(self) -> bool:
        """EFLAGS.IF"""
    @property
    def vector(self) -> object:
        """the interrupt vector, when an interrupt saved these (orig_ax = ~vector)"""
    @property
    def syscall(self) -> object:
        """the system call number, when a system call saved these (orig_ax)"""
    def __repr__(self) -> str: ...

class SchedEntity:
    """struct sched_entity: what CFS keeps for one task."""
    def _repr_html_(self) -> str: ...
    @property
    def task(self) -> Task: ...
    @property
    def vruntime(self) -> int: ...
    @property
    def sum_exec_runtime(self) -> int: ...
    @property
    def weight(self) -> int:
        """load.weight, from the nice value"""
    @property
    def on_rq(self) -> bool: ...
    def __repr__(self) -> str: ...

class ThreadInfo:
    """struct thread_info: the TIF_ flags and preempt_count."""
    def _repr_html_(self) -> str: ...
    @property
    def flags(self) -> int: ...
    @property
    def preempt_count(self) -> int: ...
    def __repr__(self) -> str: ...

class Sigaction:
    """One k_sigaction of sighand->action."""
    def _repr_html_(self) -> str: ...
    @property
    def sig(self) -> int: ...
    @property
    def handler(self) -> object:
        """'SIG_DFL', 'SIG_IGN' or the handler's address"""
    @property
    def sa_flags(self) -> int: ...
    @property
    def sa_mask(self) -> set: ...
    def __repr__(self) -> str: ...

class SigFrame:
    """An rt_sigframe setup_rt_frame pushed for a handler."""
    def _repr_html_(self) -> str: ...
    @property
    def sig(self) -> int: ...
    @property
    def sp(self) -> int:
        """the frame's address on the user stack"""
    @property
    def uc_sigmask(self) -> set:
        """the mask sigreturn restores"""
    @property
    def sa_flags(self) -> int: ...
    @property
    def restart(self) -> bool:
        """sigreturn makes the interrupted call again"""
    @property
    def ax(self) -> int:
        """the interrupted call's return value"""
    @property
    def interrupted_syscall(self) -> object: ...
    @property
    def info(self) -> object: ...
    def __repr__(self) -> str: ...

class WaitQueueEntry:
    """One wait_queue_entry: a sleeper on a wait queue."""
    def _repr_html_(self) -> str: ...
    @property
    def task(self) -> Optional[Task]: ...
    @property
    def exclusive(self) -> bool:
        """WQ_FLAG_EXCLUSIVE: woken one at a time"""
    @property
    def func(self) -> str:
        """the wake function __wake_up calls: autoremove_wake_function (a sleeping task), ep_poll_callback (an epoll set), pollwake (poll/select), ..."""
    def __repr__(self) -> str: ...

class ConsoleWrite:
    """One write to the console: when, by whom, to which stream, what."""
    def _repr_html_(self) -> str: ...
    @property
    def ts(self) -> int:
        """virtual ns"""
    @property
    def pid(self) -> int: ...
    @property
    def fd(self) -> int:
        """1: stdout, 2: stderr"""
    @property
    def data(self) -> bytes: ...
    def __repr__(self) -> str: ...

class Kernel:
    def __init__(self, cpus: int = 1, seed: int = 0, hz: int = 250, pid_max: int = 32768, stack_size: int = 16384, guard_pages: bool = True, trace: bool = True, preempt: str = 'voluntary') -> None: ...
    def _request_irq(self, arg0: int, arg1: object, arg2: object, arg3: bool, arg4: str, arg5: object, /) -> None: ...
    def _free_irq(self, arg0: int, arg1: object, /) -> None: ...
    def _irq_set_affinity(self, arg0: int, arg1: int, /) -> None: ...
    def _raise_irq(self, arg0: int, arg1: int, arg2: int, /) -> None: ...
    def _new_tasklet(self, arg0: str, arg1: object, /) -> TaskletStruct: ...
    def _new_timer(self, arg0: str, arg1: object, /) -> TimerList: ...
    def _new_work(self, arg0: str, arg1: object, /) -> WorkStruct: ...
    def _open_softirq(self, arg0: int, arg1: object, /) -> None: ...
    def _raise_softirq(self, arg0: int, arg1: int, /) -> None: ...
    def _irq_descs(self) -> list: ...
    def _softirq_stats(self) -> list: ...
    def _softirq_pending(self) -> List[int]: ...
    def _cpu_state(self, arg0: int, /) -> CpuState: ...
    def runqueue(self, cpu: int) -> RunQueue:
        """The struct rq of a CPU."""
    def _tasklet_lists(self, arg0: int, /) -> dict: ...
    def _irq_regs(self, arg0: int, /) -> object: ...
    def _per_cpu_names(self) -> List[str]: ...
    def _per_cpu(self, arg0: str, /) -> list: ...
    @property
    def preempt_model(self) -> str:
        """The preemption model: 'none', 'voluntary' or 'full' (settable, as PREEMPT_DYNAMIC's /sys/kernel/debug/sched/preempt is)."""
    @preempt_model.setter
    def preempt_model(self, value: str, /) -> None: ...
    @property
    def crash_seq(self) -> int: ...
    def _crashes(self, after: int = 0) -> list: ...
    def _dmesg(self) -> list: ...
    def _kthread_run(self, arg0: object, arg1: str, arg2: int, /) -> HostKThread: ...
    def _net_devices(self) -> list: ...
    def _net_routes(self) -> list: ...
    def _net_neigh(self) -> list: ...
    def _net_socks(self) -> list: ...
    def _sock_of_fd(self, arg0: int, arg1: int, /) -> object: ...
    def _epoll_of_fd(self, arg0: int, arg1: int, /) -> EventPoll: ...
    def _net_protocols(self) -> NetProtocols: ...
    def _net_snmp(self) -> dict: ...
    def _sysctl(self, arg0: str, arg1: object, /) -> object: ...
    def _ip_route_add(self, arg0: str, arg1: int, arg2: object, arg3: str, /) -> None: ...
    def _nf_register(self, arg0: int, arg1: object, arg2: int, arg3: str, /) -> int: ...
    def _nf_unregister(self, arg0: int, /) -> None: ...
    def _nf_hook_stats(self, arg0: int, /) -> tuple: ...
    def _capture_start(self, arg0: str, /) -> int: ...
    def _capture_frames(self, arg0: int, /) -> list: ...
    def _capture_stop(self, arg0: int, /) -> None: ...
    def _pipes(self) -> list: ...
    def _pipe_of_fd(self, arg0: int, arg1: int, /) -> Pipe: ...
    @property
    def trace_enabled(self) -> bool: ...
    @trace_enabled.setter
    def trace_enabled(self, value: bool, /) -> None: ...
    @property
    def trace_limit(self) -> int: ...
    @trace_limit.setter
    def trace_limit(self, value: int, /) -> None: ...
    @property
    def trace_dropped(self) -> int: ...
    def trace_clear(self) -> None:
        """Empty the trace buffer."""
    def trace_size(self) -> int:
        """The number of events in the trace buffer."""
    def trace_select(self, name: Optional[str] = None, pid: Optional[int] = None, cpu: Optional[int] = None, type: Optional[str] = None, since_ns: Optional[int] = None, until_ns: Optional[int] = None, limit: Optional[int] = None) -> list:
        """The events matching every given filter, oldest first, at most limit of them."""
    def trace_call(self, name: str, pid: Optional[int] = None, nth: int = 0) -> list:
        """The events of the nth call of name (by pid), from its entry to its return, nested calls included."""
    def trace_calls(self, name: str, pid: Optional[int] = None) -> list:
        """Every call of name (by pid) in the trace, each as trace_call returns it."""
    def run(self, until_ns: int = -1, until: object = None) -> Stop:
        """Run until virtual time until_ns (-1: no limit), until(k) is true, a breakpoint, a crash, a deadlock or all tasks finish; returns the Stop."""
    def step(self, mode: str = 'function', until_ns: int = -1) -> Stop:
        """Run to the next traced function ('function'), function entry ('into'), return ('out') or system call ('syscall'); returns the Stop."""
    def break_at(self, func: str, when: object = None) -> Breakpoint:
        """Stop whenever func (a traced function or tracepoint) is entered and when(stop) is true; returns the Breakpoint."""
    @property
    def breakpoints(self) -> list: ...
    @property
    def stopped(self) -> object:
        """The stop the kernel is in (inside a function, at a breakpoint or step), or None."""
    def stop_info(self) -> object:
        """The event and task a breakpoint's when predicate is being asked about, or None."""
    def register_python_program(self, path: str, fn: object, takes_argv: bool) -> None:
        """Register a Python coroutine function as the executable at path (what @k.program does)."""
    def programs(self) -> dict:
        """The registered executables: {path: kind}."""
    def spawn(self, path: str, argv: List[str], envp: List[str]) -> Task:
        """Start a process running path as a child of init (fork + execve by init); raises OSError with execve's errno."""
    @property
    def tasks(self) -> list: ...
    def task(self, pid: int) -> Optional[Task]:
        """find_task_by_vpid: the task with this pid (0: CPU 0's idle task), or None."""
    def idle_task(self, cpu: int) -> Task:
        """The idle task (swapper/N) of a CPU."""
    def current(self, cpu: int) -> Optional[Task]:
        """The task running on a CPU (rq->curr)."""
    @property
    def console(self) -> str: ...
    @property
    def console_log(self) -> list: ...
    def console_stream(self, fd: int, pid: int = -1) -> str:
        """What was written to the console on fd (1 or 2), by one pid or all."""
    @property
    def console_dropped(self) -> int: ...
    def console_input(self, data: bytes, eof: bool = False) -> None:
        """Type bytes on the console (fd 0 of every program); eof=True ends input."""
    @property
    def console_wait(self) -> WaitQueue: ...
    def check(self) -> None:
        """The self-check: raises KernelInconsistency naming the first broken invariant."""
    @property
    def cpus(self) -> int: ...
    @property
    def hz(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def jiffies(self) -> int: ...
    @property
    def pid_max(self) -> int: ...
    def clock(self, cpu: int = 0) -> int:
        """rq->clock of a CPU: its virtual time in nanoseconds."""
    @property
    def panicked(self) -> bool: ...
    @property
    def panic_message(self) -> str: ...
    def costs(self) -> dict:
        """The virtual time (ns) each kind of kernel work costs: {name: ns}."""
    def set_cost(self, name: str, ns: int) -> None:
        """Set the virtual time (ns) a kind of kernel work costs; names as in costs()."""

class IrqAction:
    """struct irqaction: one handler on a line (more than one if IRQF_SHARED)."""
    def _repr_html_(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def flags(self) -> int: ...
    @property
    def shared(self) -> bool: ...
    @property
    def count(self) -> int:
        """times its handler ran"""
    @property
    def thread(self) -> Optional[Task]:
        """the irq/N-name thread, if threaded"""
    @property
    def thread_runs(self) -> int: ...
    def __repr__(self) -> str: ...

class IrqDesc:
    """struct irq_desc: one interrupt line."""
    def _repr_html_(self) -> str: ...
    @property
    def irq(self) -> int: ...
    @property
    def kstat_irqs(self) -> List[int]:
        """interrupts taken, per CPU"""
    @property
    def chip(self) -> str: ...
    @property
    def handler(self) -> str:
        """the flow handler: edge"""
    @property
    def actions(self) -> list: ...
    @property
    def irqs_unhandled(self) -> int:
        """spurious: no handler said IRQ_HANDLED"""
    @property
    def masked(self) -> bool: ...
    @property
    def depth(self) -> int:
        """disable_irq() nesting"""
    @property
    def affinity(self) -> int:
        """the CPU its interrupts go to"""
    def __repr__(self) -> str: ...

class HostCall:
    """What a Python callback is told about the kernel's call."""
    @property
    def kind(self) -> str:
        """irq, irq_thread, tasklet, timer, work, softirq or nf_hook"""
    @property
    def irq(self) -> int: ...
    @property
    def cpu(self) -> int: ...

class TaskletStruct:
    """A tasklet_struct whose callback is Python."""
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def runs(self) -> int: ...
    def schedule(self, hi: bool = False) -> None: ...
    def disable(self) -> None: ...
    def enable(self) -> None: ...

class TimerList:
    """A timer_list on a timer wheel whose function is Python."""
    @property
    def name(self) -> str: ...
    @property
    def expires(self) -> int: ...
    @property
    def pending(self) -> bool: ...
    @property
    def runs(self) -> int: ...
    @property
    def fired_at(self) -> int: ...
    @property
    def bucket(self) -> int: ...
    def mod(self, expires: int) -> int:
        """mod_timer: (re)arm to fire at jiffies value expires; returns whether it was pending."""
    def delete(self) -> int: ...

class WorkStruct:
    """A work_struct (delayed_work) whose function is Python."""
    @property
    def name(self) -> str: ...
    @property
    def runs(self) -> int: ...
    @property
    def pending(self) -> bool: ...
    def queue(self, cpu: int = 0, delay_ns: int = 0) -> bool: ...

class Crash:
    """A user program killed by SIGSEGV for an uncaught exception (what dmesg logged)."""
    def _repr_html_(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def ts(self) -> int:
        """virtual ns"""
    @property
    def pid(self) -> int: ...
    @property
    def comm(self) -> str: ...
    @property
    def traceback(self) -> str: ...
    def __repr__(self) -> str: ...

class CpuState:
    """What one CPU was doing when asked: its current task and preempt_count's fields."""
    def _repr_html_(self) -> str: ...
    @property
    def cpu(self) -> int: ...
    @property
    def curr(self) -> Optional[Task]: ...
    @property
    def preempt_count(self) -> int: ...
    @property
    def preempt_disable_depth(self) -> int:
        """PREEMPT_MASK: preempt_disable() nesting"""
    @property
    def softirq_count(self) -> int: ...
    @property
    def hardirq_count(self) -> int: ...
    @property
    def nmi_count(self) -> int: ...
    @property
    def in_interrupt(self) -> bool: ...
    @property
    def in_softirq(self) -> bool: ...
    @property
    def in_serving_softirq(self) -> bool: ...
    @property
    def in_hardirq(self) -> bool: ...
    @property
    def in_atomic(self) -> bool: ...
    @property
    def irqs_disabled(self) -> bool: ...
    @property
    def need_resched(self) -> bool: ...
    @property
    def softirq_pending(self) -> int:
        """bit n: softirq n raised"""
    @property
    def clock(self) -> int: ...
    def __repr__(self) -> str: ...

class CfsRq:
    """struct cfs_rq: the CFS tasks of one CPU in vruntime order."""
    def _repr_html_(self) -> str: ...
    @property
    def min_vruntime(self) -> int: ...
    @property
    def nr_running(self) -> int: ...
    @property
    def tasks_timeline(self) -> list:
        """the runnable entities, leftmost (smallest vruntime, next to run) first; the current task is not in it"""
    def __repr__(self) -> str: ...

class RtRq:
    """struct rt_rq: the real-time priority array of one CPU."""
    def _repr_html_(self) -> str: ...
    @property
    def rt_nr_running(self) -> int: ...
    @property
    def bitmap(self) -> tuple:
        """bit p set: the FIFO list of priority p is not empty"""
    @property
    def queue(self) -> dict:
        """each non-empty priority's FIFO list, by priority (0 is the highest)"""
    def __repr__(self) -> str: ...

class RunQueue:
    """struct rq: one CPU's run queue."""
    def _repr_html_(self) -> str: ...
    @property
    def cpu(self) -> int: ...
    @property
    def curr(self) -> Optional[Task]: ...
    @property
    def nr_running(self) -> int: ...
    @property
    def nr_switches(self) -> int: ...
    @property
    def clock(self) -> int: ...
    @property
    def idle_time(self) -> int: ...
    @property
    def cfs(self) -> CfsRq: ...
    @property
    def rt(self) -> RtRq: ...
    def __repr__(self) -> str: ...

class HostKThread:
    """A kernel thread whose body is a Python coroutine."""
    @property
    def exited(self) -> bool: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def should_stop(self) -> bool: ...
    @property
    def oops(self) -> object: ...
    @property
    def ops(self) -> int: ...
    @property
    def task(self) -> Task: ...
    def stop(self) -> None: ...

class SkBuff:
    """An sk_buff as it was when read: its length, layout (offsets from head) and bytes."""
    def _repr_html_(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def len(self) -> int: ...
    @property
    def truesize(self) -> int:
        """what it is charged to the socket: data plus overhead"""
    @property
    def arrival(self) -> int: ...
    @property
    def data_off(self) -> int:
        """skb->data - skb->head"""
    @property
    def tail(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def mac_header(self) -> int: ...
    @property
    def network_header(self) -> int: ...
    @property
    def transport_header(self) -> int: ...
    @property
    def protocol(self) -> int: ...
    @property
    def cloned(self) -> bool: ...
    @property
    def data(self) -> bytes:
        """the bytes from skb->data, len of them"""
    def __repr__(self) -> str: ...

class Socket:
    """struct socket: the file side of a socket."""
    def _repr_html_(self) -> str: ...
    @property
    def state(self) -> int:
        """socket_state: SS_UNCONNECTED 1, SS_CONNECTED 3, ..."""
    @property
    def type(self) -> int: ...
    @property
    def ops(self) -> str:
        """the proto_ops table, e.g. inet_dgram_ops"""
    @property
    def ino(self) -> int: ...
    @property
    def file(self) -> str: ...
    def __repr__(self) -> str: ...

class TcpSock:
    """struct tcp_sock as it was when read: sequence numbers, windows, congestion state, queues and timers (include/linux/tcp.h)."""
    def _repr_html_(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def snd_una(self) -> int:
        """first byte not yet acknowledged"""
    @property
    def snd_nxt(self) -> int:
        """next sequence number to send"""
    @property
    def snd_wnd(self) -> int:
        """the peer's receive window, in bytes"""
    @property
    def write_seq(self) -> int:
        """sequence number after the last byte the application wrote"""
    @property
    def rcv_nxt(self) -> int:
        """next sequence number expected"""
    @property
    def rcv_wnd(self) -> int:
        """the window last advertised"""
    @property
    def copied_seq(self) -> int:
        """what the application has read up to"""
    @property
    def rcv_wup(self) -> int:
        """rcv_nxt when the window was last advertised"""
    @property
    def snd_cwnd(self) -> int:
        """congestion window, in segments"""
    @property
    def snd_ssthresh(self) -> int:
        """slow-start threshold, in segments"""
    @property
    def srtt_us(self) -> int:
        """smoothed round-trip time"""
    @property
    def rttvar_us(self) -> int: ...
    @property
    def rto_ms(self) -> float:
        """retransmission timeout (icsk_rto)"""
    @property
    def ato_ms(self) -> float:
        """delayed-ACK timeout (icsk_ack.ato)"""
    @property
    def mss_cache(self) -> int:
        """current MSS"""
    @property
    def advmss(self) -> int:
        """the MSS we advertised"""
    @property
    def packets_out(self) -> int:
        """segments sent and not acknowledged"""
    @property
    def retrans_out(self) -> int: ...
    @property
    def lost_out(self) -> int: ...
    @property
    def dupacks(self) -> int:
        """duplicate ACKs in a row"""
    @property
    def total_retrans(self) -> int: ...
    @property
    def snd_wscale(self) -> int: ...
    @property
    def rcv_wscale(self) -> int: ...
    @property
    def retransmits(self) -> int:
        """icsk_retransmits: RTOs in a row"""
    @property
    def backoff(self) -> int:
        """icsk_backoff"""
    @property
    def probes_out(self) -> int: ...
    @property
    def ca_state(self) -> str:
        """icsk_ca_state: Open, Disorder, CWR, Recovery, Loss"""
    @property
    def congestion_control(self) -> str:
        """cubic or reno"""
    @property
    def nonagle(self) -> int:
        """TCP_NAGLE_OFF 1 (TCP_NODELAY), TCP_NAGLE_CORK 2, TCP_NAGLE_PUSH 4"""
    @property
    def max_ack_backlog(self) -> int:
        """listener: listen()'s backlog (sk_max_ack_backlog)"""
    @property
    def delayed_ack_pending(self) -> bool: ...
    @property
    def quickack(self) -> bool: ...
    @property
    def pingpong(self) -> bool: ...
    @property
    def owned_by_user(self) -> bool:
        """a process holds the socket lock"""
    @property
    def bytes_acked(self) -> int: ...
    @property
    def bytes_received(self) -> int: ...
    @property
    def segs_in(self) -> int: ...
    @property
    def segs_out(self) -> int: ...
    @property
    def data_segs_in(self) -> int: ...
    @property
    def data_segs_out(self) -> int: ...
    @property
    def write_queue(self) -> list:
        """(seq, end_seq, len, flags, marks) of each segment not yet sent"""
    @property
    def rtx_queue(self) -> list:
        """(seq, end_seq, len, flags, marks) of each segment sent and not acknowledged"""
    @property
    def out_of_order_queue(self) -> list:
        """segments received ahead of rcv_nxt"""
    @property
    def backlog(self) -> list:
        """segments that arrived while a process held the socket"""
    @property
    def timers(self) -> list:
        """(timer, ms until it fires) of each pending timer"""
    @property
    def syn_queue(self) -> list:
        """listener: (address, port, SYN-ACK retransmits) of half-open connections"""
    @property
    def accept_queue(self) -> list:
        """listener: (address, port) of connections waiting for accept()"""
    def __repr__(self) -> str: ...

class Sock:
    """A struct sock as it was when read: addresses, state, refcount, buffers, queue, sleepers."""
    def _repr_html_(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def family(self) -> int: ...
    @property
    def type(self) -> int: ...
    @property
    def protocol(self) -> int: ...
    @property
    def prot(self) -> str:
        """sk->sk_prot's name: UDP, RAW, ..."""
    @property
    def state(self) -> int:
        """sk_state (TCP_ESTABLISHED 1 for a connected UDP sock, TCP_CLOSE 7)"""
    @property
    def state_name(self) -> str:
        """sk_state by name: ESTABLISHED, LISTEN, TIME_WAIT, ..."""
    @property
    def tcp(self) -> object:
        """a TCP sock's tcp_sock (TcpSock), else None"""
    @property
    def local(self) -> tuple:
        """(address, port)"""
    @property
    def remote(self) -> tuple:
        """(address, port)"""
    @property
    def refcnt(self) -> int: ...
    @property
    def wmem_alloc(self) -> int: ...
    @property
    def rmem_alloc(self) -> int: ...
    @property
    def rcvbuf(self) -> int: ...
    @property
    def sndbuf(self) -> int: ...
    @property
    def drops(self) -> int: ...
    @property
    def err(self) -> int: ...
    @property
    def shutdown(self) -> int: ...
    @property
    def dead(self) -> bool: ...
    @property
    def hashed(self) -> bool:
        """in its protocol's lookup table (bound)"""
    @property
    def reuseaddr(self) -> bool: ...
    @property
    def reuseport(self) -> bool: ...
    @property
    def ino(self) -> int: ...
    @property
    def uid(self) -> int: ...
    @property
    def sk_data_ready(self) -> str: ...
    @property
    def receive_queue(self) -> list:
        """sk_receive_queue's sk_buffs, oldest first"""
    @property
    def waiters(self) -> list:
        """the tasks sleeping on sk->sk_wq->wait"""
    @property
    def socket(self) -> object:
        """its struct socket (when looked up through a file descriptor)"""
    def __repr__(self) -> str: ...

class DeviceStats:
    """A net_device's counters (rtnl_link_stats64, as ip -s link shows)."""
    def _repr_html_(self) -> str: ...
    @property
    def rx_packets(self) -> int: ...
    @property
    def tx_packets(self) -> int: ...
    @property
    def rx_bytes(self) -> int: ...
    @property
    def tx_bytes(self) -> int: ...
    @property
    def rx_dropped(self) -> int: ...
    @property
    def tx_dropped(self) -> int: ...
    def __repr__(self) -> str: ...

class NetDevice:
    """A struct net_device, read live: addresses, counters, qdisc, rings, NAPI, link."""
    def _repr_html_(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def ifindex(self) -> int: ...
    @property
    def flags(self) -> int:
        """IFF_UP 0x1, IFF_BROADCAST 0x2, IFF_LOOPBACK 0x8, IFF_RUNNING 0x40"""
    @property
    def mtu(self) -> int: ...
    @property
    def mac(self) -> str: ...
    @property
    def ip(self) -> str: ...
    @property
    def prefix_len(self) -> int: ...
    @property
    def irq(self) -> int: ...
    @property
    def stats(self) -> DeviceStats: ...
    @property
    def qdisc_kind(self) -> str: ...
    @property
    def qdisc_qlen(self) -> int: ...
    @property
    def qdisc_drops(self) -> int: ...
    @property
    def qdisc_enqueued(self) -> int: ...
    @property
    def queue_stopped(self) -> bool:
        """netif_stop_queue() in effect"""
    @property
    def rx_ring(self) -> list: ...
    @property
    def tx_ring(self) -> list: ...
    @property
    def napi_scheduled(self) -> bool: ...
    @property
    def napi_polls(self) -> int: ...
    @property
    def napi_weight(self) -> int: ...
    @property
    def link(self) -> object:
        """the cable to another machine (None for lo)"""
    def __repr__(self) -> str: ...

class Link:
    """The simulated cable behind a NIC, seen from one end."""
    def _repr_html_(self) -> str: ...
    @property
    def latency_ns(self) -> int: ...
    @property
    def bandwidth_bps(self) -> int: ...
    @property
    def loss(self) -> float: ...
    @property
    def frames(self) -> int:
        """frames this end sent"""
    @property
    def lost(self) -> int:
        """of those, lost on the wire"""
    def __repr__(self) -> str: ...

class Route:
    """A FIB entry, as ip route shows it."""
    def _repr_html_(self) -> str: ...
    @property
    def dst(self) -> str: ...
    @property
    def prefix_len(self) -> int: ...
    @property
    def gateway(self) -> object:
        """None: on-link"""
    @property
    def dev(self) -> str: ...
    @property
    def table(self) -> str:
        """'main' or 'local'"""
    @property
    def type(self) -> str:
        """'unicast' or 'local'"""
    def __repr__(self) -> str: ...

class Neighbour:
    """A neighbour table entry, as ip neigh shows it."""
    def _repr_html_(self) -> str: ...
    @property
    def ip(self) -> str: ...
    @property
    def mac(self) -> str: ...
    @property
    def dev(self) -> str: ...
    @property
    def state(self) -> str:
        """NUD state: PERMANENT, REACHABLE, INCOMPLETE, FAILED"""
    def __repr__(self) -> str: ...

class EpItem:
    """An epitem: one file watched by an eventpoll."""
    def _repr_html_(self) -> str: ...
    @property
    def fd(self) -> int: ...
    @property
    def file(self) -> str: ...
    @property
    def events(self) -> int:
        """the EPOLL* mask asked for"""
    @property
    def data(self) -> int:
        """epoll_event.data, returned with each event"""
    @property
    def ready(self) -> bool:
        """on the ready list (rdllist)"""
    @property
    def wakeups(self) -> int:
        """how often ep_poll_callback queued it"""
    @property
    def wait_queues(self) -> int:
        """wait queues it hooks (pwqlist)"""
    def __repr__(self) -> str: ...

class EventPoll:
    """A struct eventpoll as it was when read."""
    def _repr_html_(self) -> str: ...
    @property
    def items(self) -> list:
        """the watched files (the rbr tree)"""
    @property
    def rdllist(self) -> list:
        """fds of the ready items, in the order they became ready"""
    @property
    def waiters(self) -> list:
        """tasks sleeping in epoll_wait"""
    def __repr__(self) -> str: ...

class InetProtosw:
    """An inetsw entry: what socket(AF_INET, type, protocol) creates."""
    def _repr_html_(self) -> str: ...
    @property
    def type(self) -> int: ...
    @property
    def protocol(self) -> int: ...
    @property
    def prot(self) -> str: ...
    @property
    def ops(self) -> str: ...
    @property
    def flags(self) -> int: ...
    def __repr__(self) -> str: ...

class NetProtocols:
    """The protocol tables socket(2) goes through."""
    def _repr_html_(self) -> str: ...
    @property
    def net_families(self) -> list:
        """the address families registered with sock_register"""
    @property
    def inetsw(self) -> list:
        """AF_INET's (type, protocol) -> proto, proto_ops entries"""
    @property
    def inet_protos(self) -> dict:
        """IP protocol number -> its net_protocol (the receive side)"""
    @property
    def proto_list(self) -> dict:
        """each registered proto and how many socks use it (/proc/net/protocols)"""
    def __repr__(self) -> str: ...

class PipeBuffer:
    """One occupied slot of a pipe's ring (struct pipe_buffer): a page and the bytes of it not yet read."""
    def _repr_html_(self) -> str: ...
    @property
    def slot(self) -> int:
        """index in pipe->bufs"""
    @property
    def offset(self) -> int:
        """where the unread bytes start in the page"""
    @property
    def len(self) -> int:
        """how many bytes are unread"""
    @property
    def flags(self) -> str:
        """PIPE_BUF_FLAG_*"""
    @property
    def data(self) -> bytes:
        """the unread bytes"""
    def __repr__(self) -> str: ...

class Pipe:
    """A snapshot of a pipe (struct pipe_inode_info, fs/pipe.c): the ring between tail and head, and who waits on it."""
    def _repr_html_(self) -> str: ...
    @property
    def ino(self) -> int:
        """the pipefs inode number: the N of pipe:[N]"""
    @property
    def readers(self) -> int:
        """open files of the read end"""
    @property
    def writers(self) -> int:
        """open files of the write end"""
    @property
    def head(self) -> int:
        """where the next write goes (free-running)"""
    @property
    def tail(self) -> int:
        """where the next read takes from (free-running)"""
    @property
    def occupancy(self) -> int:
        """slots holding data: head - tail"""
    @property
    def ring_size(self) -> int:
        """slots in the ring (a power of two)"""
    @property
    def max_usage(self) -> int:
        """slots writers may fill: F_GETPIPE_SZ / PAGE_SIZE"""
    @property
    def bufs(self) -> list:
        """the occupied slots, oldest first"""
    @property
    def rd_wait(self) -> list:
        """entries on pipe->rd_wait: readers sleeping in pipe_read, pollers"""
    @property
    def wr_wait(self) -> list:
        """entries on pipe->wr_wait: writers sleeping in pipe_write, pollers"""
    @property
    def poll_usage(self) -> bool:
        """someone has polled it: every write wakes the readers"""
    @property
    def tmp_page(self) -> bool:
        """a freed page kept for the next write"""
    @property
    def bytes_written(self) -> int: ...
    @property
    def bytes_read(self) -> int: ...
    def __repr__(self) -> str: ...

class Event:
    """One trace record: a modeled function's entry or exit, or a tracepoint."""
    def _repr_html_(self) -> str: ...
    @property
    def seq(self) -> int:
        """order of recording, over the machine's whole run"""
    @property
    def ts(self) -> int:
        """virtual ns on the event's CPU"""
    @property
    def cpu(self) -> int: ...
    @property
    def pid(self) -> int:
        """-1: host context (e.g. k.spawn)"""
    @property
    def type(self) -> str:
        """'entry', 'exit' or 'point'"""
    @property
    def ctx(self) -> str:
        """'task', 'softirq', 'hardirq' or 'host'"""
    @property
    def depth(self) -> int:
        """call depth on the task's kernel stack"""
    @property
    def name(self) -> str: ...
    @property
    def args(self) -> str:
        """the arguments (entry) or the tracepoint's fields"""
    @property
    def ret(self) -> int:
        """the return value (exit)"""
    def __repr__(self) -> str: ...
    def __eq__(self, arg0: object, /) -> bool: ...
    def __hash__(self) -> int: ...

class Stop:
    """Why a run ended. True when the kernel stopped on the way (breakpoint, step, until); false when the run is over (time_limit, finished, deadlock)."""
    def _repr_html_(self) -> str: ...
    @property
    def reason(self) -> str:
        """'breakpoint', 'step' or 'until' (stopped on the way); 'time_limit'; 'finished' (nothing left to run); 'deadlock' (nothing runnable, no timer pending, yet user tasks blocked: see blocked)"""
    @property
    def stopped(self) -> bool:
        """the kernel stopped on the way and can be continued"""
    @property
    def event(self) -> object:
        """the trace event it stopped at (breakpoint, step)"""
    @property
    def function(self) -> object: ...
    @property
    def task(self) -> object:
        """the task it stopped in (None: host context)"""
    @property
    def cpu(self) -> int: ...
    @property
    def breakpoint(self) -> int:
        """the id of the breakpoint that stopped it, or 0"""
    @property
    def backtrace(self) -> List[str]:
        """the modeled functions open on the stopped task's kernel stack, outermost first"""
    @property
    def blocked(self) -> list:
        """for a deadlock: the user tasks blocked for good (each with state and wchan)"""
    @property
    def now(self) -> int:
        """virtual time when the run ended, ns"""
    def __bool__(self) -> bool: ...
    def __repr__(self) -> str: ...

class Breakpoint:
    """A breakpoint on a modeled function or tracepoint (k.break_at)."""
    def _repr_html_(self) -> str: ...
    @property
    def id(self) -> int: ...
    @property
    def func(self) -> str: ...
    @property
    def hits(self) -> int: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def conditional(self) -> bool:
        """it has a `when` predicate"""
    def __repr__(self) -> str: ...
    def remove(self) -> None: ...
    def enable(self) -> None: ...
    def disable(self) -> None: ...
    def __eq__(self, arg0: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def Out(n: int | None = None, /) -> UserArg:
    """Out(n=None): room for what the kernel writes: one value of the argument's type, or n of them."""
def OutBuf(n: int, /) -> UserArg:
    """OutBuf(n): room for n elements, of which the call's return value says how many are valid (read, recv)."""
def InOut(value: object, /) -> UserArg:
    """InOut(value): a value the kernel reads and may rewrite (addrlen, optlen)."""
def Buf(data: bytes | bytearray | memoryview | str, /) -> UserArg:
    """Buf(data): bytes (or a NUL-terminated str) placed in user memory and passed by address."""
def _run_network(arg0: List[Kernel], arg1: int, arg2: int, arg3: bool, /) -> object: ...
def _link(arg0: Kernel, arg1: Kernel, arg2: str, arg3: str, arg4: int, arg5: int, arg6: int, arg7: float, arg8: int, arg9: int, arg10: int, arg11: int, arg12: int, arg13: bool, arg14: int, /) -> tuple: ...
def _set_user_api(arg0: object, /) -> None:
    """Install the class of the `sys` object programs receive."""
def syscall_name(nr: int) -> object:
    """The name of x86_64 system call nr, or None."""
def sys_call_table() -> list:
    """The x86_64 system call table: one (nr, name, entry, implemented, types, args) per number."""
