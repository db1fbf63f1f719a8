// The simulator's Python binding. Python views of task_struct, signal_struct and wait queues, with Linux's field names.
#include "bindings/uapi_convert.h"
#include "bindings/user_python.h"
#include "bindings/views.h"

namespace gk {

std::optional<TaskView> task_or_none(const std::shared_ptr<Kernel>& k, task_struct* t) {
    if (!t || !t->self) return std::nullopt;
    return TaskView{k, t->self};
}

static py::list task_list(const std::shared_ptr<Kernel>& k, children_list& l) {
    py::list out;
    for (auto& c : l) out.append(TaskView{k, c.self});
    return out;
}

static py::set sigset_py(u64 mask) {
    py::set s;
    for (int sig = 1; sig <= 64; sig++)
        if (mask & (1ULL << (sig - 1))) s.add(py::int_(sig));
    return s;
}

// A queued kernel_siginfo as the SigInfo user space would read it.
static py::object siginfo_object(const kernel_siginfo& i) {
    return siginfo_type()(i.si_signo, i.si_code, i.si_pid, i.si_uid, i.si_status, i.si_value);
}

static py::list siginfo_list(const sigpending& p) {
    py::list out;
    for (auto& q : p.list) out.append(siginfo_object(q.info));
    return out;
}

struct PtRegsView {
    pt_regs r;
};
struct SchedEntityView {
    std::shared_ptr<Kernel> k;
    std::shared_ptr<task_struct> t;
};
struct ThreadInfoView {
    std::shared_ptr<task_struct> t;
};
struct SigactionView {
    int sig;
    k_sigaction ka;
};
struct SigframeView {
    rt_sigframe f;
};
struct WaitEntryView {
    std::shared_ptr<Kernel> k;
    std::optional<TaskView> task;
    bool exclusive;
    std::string func;
};

py::object wait_entry_object(const std::shared_ptr<Kernel>& k, const wait_queue_entry& e) {
    return py::cast(WaitEntryView{k, task_or_none(k, e.private_), (e.flags & WQ_FLAG_EXCLUSIVE) != 0, wake_function_name(e.func)});
}

py::object pt_regs_object(const pt_regs& r) { return py::cast(PtRegsView{r}); }

py::object sched_entity_object(const std::shared_ptr<Kernel>& k, task_struct* t) {
    if (!t || !t->self) return py::none();
    return py::cast(SchedEntityView{k, t->self});
}

static void bind_task_parts(py::module_& m) {
    auto regs = view_class<PtRegsView>(m, "PtRegs", "struct pt_regs: the registers saved on entry to the kernel.");
#define REG(x) regs.field(#x, [](const PtRegsView& v) { return v.r.x; });
    REG(r15) REG(r14) REG(r13) REG(r12) REG(bp) REG(bx) REG(r11) REG(r10) REG(r9) REG(r8)
    REG(ax) REG(cx) REG(dx) REG(si) REG(di) REG(orig_ax) REG(ip) REG(cs) REG(flags) REG(sp) REG(ss)
#undef REG
    regs.field("user_mode", [](const PtRegsView& v) { return user_mode(&v.r); }, "user_mode(regs): CS's privilege level is 3")
        .field("interrupts_enabled", [](const PtRegsView& v) { return (v.r.flags & X86_EFLAGS_IF) != 0; }, "EFLAGS.IF")
        // orig_ax holds ~vector for an interrupt, the number for a system call.
        .field("vector", [](const PtRegsView& v) -> py::object {
            long oa = static_cast<long>(v.r.orig_ax);
            return oa < 0 ? py::object(py::int_(~oa)) : py::none();
        }, "the interrupt vector, when an interrupt saved these (orig_ax = ~vector)")
        .field("syscall", [](const PtRegsView& v) -> py::object {
            long oa = static_cast<long>(v.r.orig_ax);
            return oa >= 0 ? py::object(py::int_(oa)) : py::none();
        }, "the system call number, when a system call saved these (orig_ax)")
        .repr({"ip", "sp", "ax", "orig_ax", "user_mode"});

    view_class<SchedEntityView>(m, "SchedEntity", "struct sched_entity: what CFS keeps for one task.")
        .field("task", [](const SchedEntityView& v) { return TaskView{v.k, v.t}; })
        .field("vruntime", [](const SchedEntityView& v) { return v.t->se.vruntime; })
        .field("sum_exec_runtime", [](const SchedEntityView& v) { return task_sched_runtime(v.t.get()); })
        .field("weight", [](const SchedEntityView& v) { return v.t->se.load.weight; }, "load.weight, from the nice value")
        .field("on_rq", [](const SchedEntityView& v) { return v.t->se.on_rq; })
        .repr({"task", "vruntime", "weight"});

    view_class<ThreadInfoView>(m, "ThreadInfo", "struct thread_info: the TIF_ flags and preempt_count.")
        .field("flags", [](const ThreadInfoView& v) { return v.t->thread_info.flags; })
        .field("preempt_count", [](const ThreadInfoView& v) { return v.t->thread_info.preempt_count; })
        .repr({"flags", "preempt_count"});

    view_class<SigactionView>(m, "Sigaction", "One k_sigaction of sighand->action.")
        .field("sig", [](const SigactionView& v) { return v.sig; })
        .field("handler", [](const SigactionView& v) -> py::object {
            if (v.ka.sa_handler == SIG_DFL) return py::str("SIG_DFL");
            if (v.ka.sa_handler == SIG_IGN) return py::str("SIG_IGN");
            return py::int_(v.ka.sa_handler);
        }, "'SIG_DFL', 'SIG_IGN' or the handler's address")
        .field("sa_flags", [](const SigactionView& v) { return v.ka.sa_flags; })
        .field("sa_mask", [](const SigactionView& v) { return sigset_py(v.ka.sa_mask.sig); })
        .repr({"sig", "handler", "sa_flags", "sa_mask"});

    view_class<SigframeView>(m, "SigFrame", "An rt_sigframe setup_rt_frame pushed for a handler.")
        .field("sig", [](const SigframeView& v) { return v.f.sig; })
        .field("sp", [](const SigframeView& v) { return v.f.sp; }, "the frame's address on the user stack")
        .field("uc_sigmask", [](const SigframeView& v) { return sigset_py(v.f.uc_sigmask.sig); }, "the mask sigreturn restores")
        .field("sa_flags", [](const SigframeView& v) { return v.f.flags; })
        .field("restart", [](const SigframeView& v) { return v.f.restart; }, "sigreturn makes the interrupted call again")
        .field("ax", [](const SigframeView& v) { return v.f.ax; }, "the interrupted call's return value")
        .field("interrupted_syscall", [](const SigframeView& v) -> py::object {
            return v.f.in_syscall ? py::object(py::int_(v.f.regs.nr)) : py::none();
        })
        .field("info", [](const SigframeView& v) { return siginfo_object(v.f.info); })
        .repr({"sig", "sp", "restart", "ax"});

    view_class<WaitEntryView>(m, "WaitQueueEntry", "One wait_queue_entry: a sleeper on a wait queue.")
        .field("task", [](const WaitEntryView& v) { return v.task; })
        .field("exclusive", [](const WaitEntryView& v) { return v.exclusive; }, "WQ_FLAG_EXCLUSIVE: woken one at a time")
        .field("func", [](const WaitEntryView& v) { return v.func; },
               "the wake function __wake_up calls: autoremove_wake_function (a sleeping task), ep_poll_callback (an epoll set), pollwake (poll/select), ...")
        .repr({"task", "func", "exclusive"});
}

void bind_task(py::module_& m) {
    // Declared before any signature names them, so that pybind11 shows Task, SignalStruct and
    // WaitQueue (not the C++ view types) wherever they appear.
    py::class_<TaskView> task(m, "Task", "A view of one task_struct.");
    py::class_<SignalView> signal(m, "SignalStruct", "A view of a signal_struct (shared by a thread group).");
    py::class_<WaitQueueView> waitqueue(m, "WaitQueue", "A view of a wait_queue_head and the tasks sleeping on it.");
    bind_task_parts(m);
    task.def_property_readonly("pid", [](const TaskView& v) { return v.t->pid; })
        .def_property_readonly("tgid", [](const TaskView& v) { return v.t->tgid; })
        .def_property_readonly("comm", [](const TaskView& v) { return v.t->comm; })
        .def_property_readonly("state", [](const TaskView& v) { return std::string(task_state_to_char(v.t.get())); },
                               "The state letter ps shows: R, S, D, I, T, Z or X.")
        .def_property_readonly("__state", [](const TaskView& v) { return v.t->__state; })
        .def_property_readonly("exit_state", [](const TaskView& v) { return v.t->exit_state; })
        .def_property_readonly("exit_code", [](const TaskView& v) { return v.t->exit_code; })
        .def_property_readonly("exit_signal", [](const TaskView& v) { return v.t->exit_signal; })
        .def_property_readonly("flags", [](const TaskView& v) { return v.t->flags; })
        .def_property_readonly("real_parent", [](const TaskView& v) { return task_or_none(v.k, v.t->real_parent); })
        .def_property_readonly("parent", [](const TaskView& v) { return task_or_none(v.k, v.t->parent); })
        .def_property_readonly("children", [](const TaskView& v) { return task_list(v.k, v.t->children); })
        .def_property_readonly("sibling", [](const TaskView& v) {
            py::list out;
            if (v.t->real_parent)
                for (auto& c : v.t->real_parent->children)
                    if (&c != v.t.get()) out.append(TaskView{v.k, c.self});
            return out;
        }, "The other children of this task's parent (the list the sibling link is on).")
        .def_property_readonly("group_leader", [](const TaskView& v) { return task_or_none(v.k, v.t->group_leader); })
        .def_property_readonly("pgid", [](const TaskView& v) { return v.t->signal ? pid_nr(v.t->signal->pids[PIDTYPE_PGID]) : 0; })
        .def_property_readonly("sid", [](const TaskView& v) { return v.t->signal ? pid_nr(v.t->signal->pids[PIDTYPE_SID]) : 0; })
        .def_property_readonly("prio", [](const TaskView& v) { return v.t->prio; })
        .def_property_readonly("static_prio", [](const TaskView& v) { return v.t->static_prio; })
        .def_property_readonly("normal_prio", [](const TaskView& v) { return v.t->normal_prio; })
        .def_property_readonly("nice", [](const TaskView& v) { return v.t->static_prio - DEFAULT_PRIO; })
        .def_property_readonly("policy", [](const TaskView& v) { return v.t->policy; })
        .def_property_readonly("sched_class", [](const TaskView& v) { return std::string(v.t->sched_class ? v.t->sched_class->name : ""); })
        .def_property_readonly("on_rq", [](const TaskView& v) { return v.t->on_rq; })
        .def_property_readonly("on_cpu", [](const TaskView& v) { return v.t->on_cpu; })
        .def_property_readonly("cpu", [](const TaskView& v) { return v.t->cpu; })
        .def_property_readonly("nvcsw", [](const TaskView& v) { return v.t->nvcsw; })
        .def_property_readonly("nivcsw", [](const TaskView& v) { return v.t->nivcsw; })
        .def_property_readonly("utime", [](const TaskView& v) { return v.t->utime; }, "User CPU time, ns.")
        .def_property_readonly("stime", [](const TaskView& v) { return v.t->stime; }, "System CPU time, ns.")
        .def_property_readonly("start_time", [](const TaskView& v) { return v.t->start_time; })
        .def_property_readonly("se", [](const TaskView& v) { return SchedEntityView{v.k, v.t}; }, "The CFS sched_entity.")
        .def_property_readonly("pt_regs", [](const TaskView& v) { return PtRegsView{v.t->thread.pt}; },
                               "task_pt_regs(): user mode's registers as the last entry to the kernel saved them.")
        .def_property_readonly("thread_info", [](const TaskView& v) { return ThreadInfoView{v.t}; })
        .def_property_readonly("uid", [](const TaskView& v) { return v.t->real_cred->uid; })
        .def_property_readonly("euid", [](const TaskView& v) { return v.t->real_cred->euid; })
        .def_property_readonly("suid", [](const TaskView& v) { return v.t->real_cred->suid; })
        .def_property_readonly("gid", [](const TaskView& v) { return v.t->real_cred->gid; })
        .def_property_readonly("argv", [](const TaskView& v) { return v.t->argv; })
        .def_property_readonly("reaped", [](const TaskView& v) { return v.t->reaped; },
                               "True once release_task() has freed this task; the view stays readable.")
        .def_property_readonly("is_kthread", [](const TaskView& v) { return (v.t->flags & PF_KTHREAD) != 0; })
        .def_property_readonly("traceback", [](const TaskView& v) -> std::optional<std::string> {
            if (v.t->crash_report.empty()) return std::nullopt;
            return v.t->crash_report;
        }, "Why the program crashed (the uncaught exception's traceback), or None.")
        .def_property_readonly("signal", [](const TaskView& v) -> std::optional<SignalView> {
            if (!v.t->signal) return std::nullopt;
            return SignalView{v.k, v.t->signal};
        })
        .def_property_readonly("blocked", [](const TaskView& v) { return sigset_py(v.t->blocked.sig); })
        .def_property_readonly("pending", [](const TaskView& v) { return sigset_py(v.t->pending.signal.sig); })
        .def_property_readonly("pending_queue", [](const TaskView& v) { return siginfo_list(v.t->pending); },
                               "The queued siginfos of task->pending, oldest first.")
        .def_property_readonly("sighand", [](const TaskView& v) {
            py::dict d;
            if (!v.t->sighand) return d;
            for (int sig = 1; sig <= _NSIG; sig++) {
                const k_sigaction& ka = v.t->sighand->action[sig - 1];
                if (ka.sa_handler == SIG_DFL && !ka.sa_flags && !ka.sa_mask.sig) continue;
                d[py::int_(sig)] = SigactionView{sig, ka};
            }
            return d;
        }, "sighand->action by signal number, for every signal not left at SIG_DFL.")
        .def_property_readonly("sig_masks", [](const TaskView& v) {
            // The raw masks /proc/PID/status prints.
            py::dict d;
            u64 ign = 0, cgt = 0;
            if (v.t->sighand)
                for (int sig = 1; sig <= _NSIG; sig++) {
                    long h = v.t->sighand->action[sig - 1].sa_handler;
                    if (h == SIG_IGN) ign |= sigmask(sig);
                    else if (h != SIG_DFL) cgt |= sigmask(sig);
                }
            d["SigPnd"] = v.t->pending.signal.sig;
            d["ShdPnd"] = v.t->signal ? v.t->signal->shared_pending.signal.sig : 0;
            d["SigBlk"] = v.t->blocked.sig;
            d["SigIgn"] = ign;
            d["SigCgt"] = cgt;
            long queued = 0;
            auto it = v.k->user_sigpending.find(v.t->real_cred->uid);
            if (it != v.k->user_sigpending.end()) queued = it->second;
            d["SigQ"] = py::make_tuple(queued, v.t->signal ? static_cast<long long>(v.t->signal->rlim[RLIMIT_SIGPENDING].rlim_cur) : 0);
            return d;
        })
        .def_property_readonly("signal_frames", [](const TaskView& v) {
            py::list out;
            for (auto& f : v.t->thread.sigframes) out.append(SigframeView{f});
            return out;
        }, "The rt_sigframes setup_rt_frame pushed, outermost first: the saved mask and interrupted state.")
        .def_property_readonly("wchan", [](const TaskView& v) -> std::optional<std::string> {
            std::string w = get_wchan(v.t.get());
            if (w.empty()) return std::nullopt;
            return w;
        }, "/proc/PID/wchan: the function a sleeping task waits in (scheduler functions skipped), or None.")
        .def_property_readonly("kernel_stack", [](const TaskView& v) {
            std::vector<std::string> out;
            for (const char* f : v.t->thread.kstack) out.emplace_back(f);
            return out;
        }, "The modeled functions open on this task's kernel stack, outermost first.")
        .def_property_readonly("mode", [](const TaskView& v) {
            switch (v.t->thread.where) {
            case kstate::NEW: return "new";
            case kstate::USER: return "user";
            case kstate::KERNEL: return "kernel";
            case kstate::DEAD: return "dead";
            }
            return "?";
        }, "Where the task's engine state is: new, user, kernel or dead.")
        .def_property_readonly("exe", [](const TaskView& v) -> std::optional<std::string> {
            if (!v.t->mm) return std::nullopt;
            return v.t->mm->exe_file;
        })
        .def_property_readonly("syscall_log_length", [](const TaskView& v) -> size_t {
            auto* img = dynamic_cast<py_image*>(v.t->thread.image.get());
            return img ? img->log_size() : 0;
        }, "System calls recorded since exec: what a fork child would replay.")
        .def_property_readonly("fds", [](const TaskView& v) {
            py::dict out;
            if (v.t->files)
                for (size_t i = 0; i < v.t->files->fdt.size(); i++)
                    if (v.t->files->fdt[i].f) out[py::int_(i)] = v.t->files->fdt[i].f->name;
            return out;
        }, "The open files by descriptor, as ls -l /proc/PID/fd names them.")
        .def("__eq__", [](const TaskView& a, py::object b) { return py::isinstance<TaskView>(b) && b.cast<const TaskView&>().t == a.t; })
        .def("__hash__", [](const TaskView& v) { return std::hash<void*>()(v.t.get()); })
        .def("__repr__", [](const TaskView& v) {
            return "<task " + std::to_string(v.t->pid) + " " + v.t->comm + " " + task_state_to_char(v.t.get()) +
                   (v.t->reaped ? " reaped" : "") + ">";
        });

    signal.def_property_readonly("wait_chldexit", [](const SignalView& v) {
            return WaitQueueView{v.k, v.sig, &v.sig->wait_chldexit};
        })
        .def_property_readonly("shared_pending", [](const SignalView& v) { return sigset_py(v.sig->shared_pending.signal.sig); })
        .def_property_readonly("shared_queue", [](const SignalView& v) { return siginfo_list(v.sig->shared_pending); })
        .def_property_readonly("group_exit_code", [](const SignalView& v) { return v.sig->group_exit_code; })
        .def_property_readonly("flags", [](const SignalView& v) { return v.sig->flags; })
        .def_property_readonly("is_child_subreaper", [](const SignalView& v) { return v.sig->is_child_subreaper; })
        .def_property_readonly("has_child_subreaper", [](const SignalView& v) { return v.sig->has_child_subreaper; })
        .def_property_readonly("leader", [](const SignalView& v) { return v.sig->leader != 0; })
        .def_property_readonly("cutime", [](const SignalView& v) { return v.sig->cutime; })
        .def_property_readonly("cstime", [](const SignalView& v) { return v.sig->cstime; })
        .def_property_readonly("rlim", [](const SignalView& v) {
            py::list out;
            for (auto& r : v.sig->rlim)
                out.append(py::make_tuple(r.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_cur),
                                          r.rlim_max == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_max)));
            return out;
        });

    waitqueue.def_property_readonly("name", [](const WaitQueueView& v) { return std::string(v.wq->name); })
        .def_property_readonly("waiters", [](const WaitQueueView& v) {
            py::list out;
            for (auto& e : v.wq->head) out.append(wait_entry_object(v.k, e));
            return out;
        }, "One entry per wait_queue_entry, in queue order: the sleeping task, its wake function and whether it is exclusive.")
        .def("__len__", [](const WaitQueueView& v) {
            size_t n = 0;
            for (auto it = v.wq->head.begin(); it != v.wq->head.end(); ++it) n++;
            return n;
        });
}

}  // namespace gk
