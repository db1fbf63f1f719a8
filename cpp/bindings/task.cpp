// The simulator's Python binding. Python views of task_struct, signal_struct and wait queues, with Linux's field names.
#include "bindings/user_python.h"
#include "bindings/views.h"

namespace gk {

py::object task_or_none(const std::shared_ptr<Kernel>& k, task_struct* t) {
    if (!t) return py::none();
    if (t->self) return py::cast(TaskView{k, t->self});
    return py::none();
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

static py::list siginfo_list(const sigpending& p) {
    py::list out;
    for (auto& q : p.list) out.append(py::make_tuple(q.info.si_signo, q.info.si_code, q.info.si_pid, q.info.si_uid, q.info.si_value));
    return out;
}

void bind_task(py::module_& m) {
    py::class_<TaskView>(m, "Task", "A view of one task_struct.")
        .def_property_readonly("pid", [](const TaskView& v) { return v.t->pid; })
        .def_property_readonly("tgid", [](const TaskView& v) { return v.t->tgid; })
        .def_property_readonly("comm", [](const TaskView& v) { return v.t->comm; })
        .def_property_readonly("state", [](const TaskView& v) { return std::string(task_state_letter(v.t.get())); },
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
        .def_property_readonly("se", [](const TaskView& v) {
            py::dict d;
            d["vruntime"] = v.t->se.vruntime;
            d["sum_exec_runtime"] = task_sched_runtime(v.t.get());
            d["weight"] = v.t->se.load.weight;
            d["on_rq"] = v.t->se.on_rq;
            return d;
        }, "The CFS sched_entity: vruntime, sum_exec_runtime, load weight, on_rq.")
        .def_property_readonly("pt_regs", [](const TaskView& v) { return pt_regs_dict(v.t->thread.pt); },
                               "task_pt_regs(): user mode's registers as the last entry to the kernel saved them.")
        .def_property_readonly("thread_info", [](const TaskView& v) {
            py::dict d;
            d["flags"] = v.t->thread_info.flags;
            d["preempt_count"] = v.t->thread_info.preempt_count;
            return d;
        })
        .def_property_readonly("uid", [](const TaskView& v) { return v.t->real_cred->uid; })
        .def_property_readonly("euid", [](const TaskView& v) { return v.t->real_cred->euid; })
        .def_property_readonly("suid", [](const TaskView& v) { return v.t->real_cred->suid; })
        .def_property_readonly("gid", [](const TaskView& v) { return v.t->real_cred->gid; })
        .def_property_readonly("argv", [](const TaskView& v) { return v.t->argv; })
        .def_property_readonly("reaped", [](const TaskView& v) { return v.t->reaped; },
                               "True once release_task() has freed this task; the view stays readable.")
        .def_property_readonly("is_kthread", [](const TaskView& v) { return (v.t->flags & PF_KTHREAD) != 0; })
        .def_property_readonly("traceback", [](const TaskView& v) -> py::object {
            if (v.t->crash_report.empty()) return py::none();
            return py::str(v.t->crash_report);
        }, "Why the program crashed (the uncaught exception's traceback), or None.")
        .def_property_readonly("signal", [](const TaskView& v) -> py::object {
            if (!v.t->signal) return py::none();
            return py::cast(SignalView{v.k, v.t->signal});
        })
        .def_property_readonly("blocked", [](const TaskView& v) { return sigset_py(v.t->blocked.sig); })
        .def_property_readonly("pending", [](const TaskView& v) { return sigset_py(v.t->pending.signal.sig); })
        .def_property_readonly("pending_queue", [](const TaskView& v) { return siginfo_list(v.t->pending); },
                               "The queued kernel_siginfos of task->pending: (signo, code, pid, uid, value).")
        .def_property_readonly("sighand", [](const TaskView& v) {
            py::dict d;
            if (!v.t->sighand) return d;
            for (int sig = 1; sig <= _NSIG; sig++) {
                const k_sigaction& ka = v.t->sighand->action[sig - 1];
                if (ka.sa_handler == SIG_DFL && !ka.sa_flags && !ka.sa_mask.sig) continue;
                py::dict a;
                a["handler"] = ka.sa_handler == SIG_DFL ? py::object(py::str("SIG_DFL"))
                             : ka.sa_handler == SIG_IGN ? py::object(py::str("SIG_IGN")) : py::object(py::int_(ka.sa_handler));
                a["sa_flags"] = ka.sa_flags;
                a["sa_mask"] = sigset_py(ka.sa_mask.sig);
                d[py::int_(sig)] = a;
            }
            return d;
        }, "sighand->action for every signal not left at SIG_DFL: handler (an address for caught ones), flags, mask.")
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
            for (auto& f : v.t->thread.sigframes) {
                py::dict d;
                d["sig"] = f.sig;
                d["uc_sigmask"] = sigset_py(f.uc_sigmask.sig);
                d["sa_flags"] = f.flags;
                d["restart"] = f.restart;
                d["ax"] = f.ax;
                d["interrupted_syscall"] = f.in_syscall ? py::object(py::int_(f.regs.nr)) : py::object(py::none());
                d["si_code"] = f.info.si_code;
                d["si_pid"] = f.info.si_pid;
                out.append(d);
            }
            return out;
        }, "The rt_sigframes setup_rt_frame pushed, outermost first: the saved mask and interrupted state.")
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
        .def_property_readonly("exe", [](const TaskView& v) -> py::object {
            if (!v.t->mm) return py::none();
            return py::str(v.t->mm->exe_file);
        })
        .def_property_readonly("syscall_log_length", [](const TaskView& v) -> size_t {
            auto* img = dynamic_cast<py_image*>(v.t->thread.image.get());
            return img ? img->log_size() : 0;
        }, "System calls recorded since exec: what a fork child would replay.")
        .def_property_readonly("fds", [](const TaskView& v) {
            py::list out;
            if (v.t->files)
                for (size_t i = 0; i < v.t->files->fdt.size(); i++)
                    if (v.t->files->fdt[i].f) out.append(py::make_tuple(i, v.t->files->fdt[i].f->name));
            return out;
        })
        .def("__eq__", [](const TaskView& a, const TaskView& b) { return a.t == b.t; })
        .def("__hash__", [](const TaskView& v) { return std::hash<void*>()(v.t.get()); })
        .def("__repr__", [](const TaskView& v) {
            return "<task " + std::to_string(v.t->pid) + " " + v.t->comm + " " + task_state_letter(v.t.get()) +
                   (v.t->reaped ? " reaped" : "") + ">";
        });

    py::class_<SignalView>(m, "SignalStruct", "A view of a signal_struct (shared by a thread group).")
        .def_property_readonly("wait_chldexit", [](const SignalView& v) {
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

    py::class_<WaitQueueView>(m, "WaitQueue", "A view of a wait_queue_head and the tasks sleeping on it.")
        .def_property_readonly("name", [](const WaitQueueView& v) { return std::string(v.wq->name); })
        .def_property_readonly("waiters", [](const WaitQueueView& v) {
            py::list out;
            for (auto& e : v.wq->head) {
                py::dict d;
                d["task"] = task_or_none(v.k, e.private_);
                d["exclusive"] = (e.flags & WQ_FLAG_EXCLUSIVE) != 0;
                out.append(d);
            }
            return out;
        }, "One entry per wait_queue_entry, in queue order: the sleeping task and whether it is exclusive.")
        .def("__len__", [](const WaitQueueView& v) {
            size_t n = 0;
            for (auto it = v.wq->head.begin(); it != v.wq->head.end(); ++it) n++;
            return n;
        });
}

}  // namespace gk
