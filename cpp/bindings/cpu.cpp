// The simulator's Python binding. Python views of what each CPU is doing: preempt_count and its fields (in_interrupt() and
// friends), whether interrupts are off, pending softirqs, the registers the current interrupt
// saved (get_irq_regs), per-CPU variables, the preemption model, and the kernel log (dmesg).
#include "bindings/views.h"

namespace gk {

static preempt_model parse_preempt_model(const std::string& s) {
    if (s == "none") return PREEMPT_NONE;
    if (s == "voluntary") return PREEMPT_VOLUNTARY;
    if (s == "full") return PREEMPT_FULL;
    throw py::value_error("preempt must be 'none', 'voluntary' or 'full', not '" + s + "'");
}

static void check_cpu(const Kernel& k, int cpu) {
    if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu) + " (this kernel has " + std::to_string(k.cfg.cpus) + ")");
}

preempt_model preempt_model_from_string(const std::string& s) { return parse_preempt_model(s); }

// One CPU's state as in_interrupt() and friends see it, taken when asked (a snapshot: kept from
// inside a handler, it still says what the handler saw).
struct CpuStateView {
    int cpu = 0;
    std::optional<TaskView> curr;
    int pc = 0;
    bool irqs_disabled = false, need_resched = false;
    u32 softirq_pending = 0;
    u64 clock = 0;
};

static CpuStateView cpu_state_of(const std::shared_ptr<Kernel>& k, int cpu) {
    CpuStateView v;
    rq* r = k->cpu_rq(cpu);
    task_struct* t = r->curr;
    v.cpu = cpu;
    v.curr = task_or_none(k, t);
    v.pc = t ? t->thread_info.preempt_count : 0;
    v.irqs_disabled = k->irqs_off[cpu];
    v.need_resched = t && need_resched_task(t);
    v.softirq_pending = per_cpu(k->softirq_pending, cpu);
    v.clock = r->clock;
    return v;
}

// A run queue (struct rq) and its CFS and RT parts, read live.
struct RunQueueView {
    std::shared_ptr<Kernel> k;
    int cpu;
    rq* r() const { return k->cpu_rq(cpu); }
};
struct CfsRqView {
    std::shared_ptr<Kernel> k;
    int cpu;
};
struct RtRqView {
    std::shared_ptr<Kernel> k;
    int cpu;
};

// A user program killed by its own fault, as the kernel log reported it.
struct CrashView {
    u64 seq, ts;
    int pid;
    std::string comm, traceback;
};

void bind_cpu(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    view_class<CrashView>(m, "Crash", "A user program killed by SIGSEGV for an uncaught exception (what dmesg logged).")
        .member("seq", &CrashView::seq)
        .member("ts", &CrashView::ts, "virtual ns")
        .member("pid", &CrashView::pid)
        .member("comm", &CrashView::comm)
        .member("traceback", &CrashView::traceback)
        .repr({"pid", "comm", "ts"});

    view_class<CpuStateView>(m, "CpuState", "What one CPU was doing when asked: its current task and preempt_count's fields.")
        .field("cpu", [](const CpuStateView& v) { return v.cpu; })
        .field("curr", [](const CpuStateView& v) { return v.curr; })
        .field("preempt_count", [](const CpuStateView& v) { return v.pc; })
        .field("preempt_disable_depth", [](const CpuStateView& v) { return v.pc & 0xff; }, "PREEMPT_MASK: preempt_disable() nesting")
        .field("softirq_count", [](const CpuStateView& v) { return (v.pc & SOFTIRQ_MASK) >> 8; })
        .field("hardirq_count", [](const CpuStateView& v) { return (v.pc & HARDIRQ_MASK) >> 16; })
        .field("nmi_count", [](const CpuStateView& v) { return (v.pc & NMI_MASK) >> 20; })
        .field("in_interrupt", [](const CpuStateView& v) { return (v.pc & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK)) != 0; })
        .field("in_softirq", [](const CpuStateView& v) { return (v.pc & SOFTIRQ_MASK) != 0; })
        .field("in_serving_softirq", [](const CpuStateView& v) { return (v.pc & SOFTIRQ_OFFSET) != 0; })
        .field("in_hardirq", [](const CpuStateView& v) { return (v.pc & HARDIRQ_MASK) != 0; })
        .field("in_atomic", [](const CpuStateView& v) { return v.pc != 0; })
        .field("irqs_disabled", [](const CpuStateView& v) { return v.irqs_disabled; })
        .field("need_resched", [](const CpuStateView& v) { return v.need_resched; })
        .field("softirq_pending", [](const CpuStateView& v) { return v.softirq_pending; }, "bit n: softirq n raised")
        .field("clock", [](const CpuStateView& v) { return v.clock; })
        .repr({"cpu", "curr", "preempt_count", "irqs_disabled"});

    view_class<CfsRqView>(m, "CfsRq", "struct cfs_rq: the CFS tasks of one CPU in vruntime order.")
        .field("min_vruntime", [](const CfsRqView& v) { return v.k->cpu_rq(v.cpu)->cfs.min_vruntime; })
        .field("nr_running", [](const CfsRqView& v) { return v.k->cpu_rq(v.cpu)->cfs.nr_running; })
        .field("tasks_timeline", [](const CfsRqView& v) {
            py::list tree;
            for (auto& se : v.k->cpu_rq(v.cpu)->cfs.tasks_timeline) tree.append(sched_entity_object(v.k, se.task));
            return tree;
        }, "the runnable entities, leftmost (smallest vruntime, next to run) first; the current task is not in it")
        .repr({"nr_running", "min_vruntime"});

    view_class<RtRqView>(m, "RtRq", "struct rt_rq: the real-time priority array of one CPU.")
        .field("rt_nr_running", [](const RtRqView& v) { return v.k->cpu_rq(v.cpu)->rt.rt_nr_running; })
        .field("bitmap", [](const RtRqView& v) {
            auto& b = v.k->cpu_rq(v.cpu)->rt.bitmap;
            return py::make_tuple(b[0], b[1]);
        }, "bit p set: the FIFO list of priority p is not empty")
        .field("queue", [](const RtRqView& v) {
            py::dict rt;
            auto& rq_rt = v.k->cpu_rq(v.cpu)->rt;
            for (int prio = 0; prio < MAX_RT_PRIO; prio++) {
                if (rq_rt.queue[prio].empty()) continue;
                py::list q;
                for (auto& t : rq_rt.queue[prio]) q.append(TaskView{v.k, t.self});
                rt[py::int_(prio)] = q;
            }
            return rt;
        }, "each non-empty priority's FIFO list, by priority (0 is the highest)")
        .repr({"rt_nr_running"});

    view_class<RunQueueView>(m, "RunQueue", "struct rq: one CPU's run queue.")
        .field("cpu", [](const RunQueueView& v) { return v.cpu; })
        .field("curr", [](const RunQueueView& v) { return task_or_none(v.k, v.r()->curr); })
        .field("nr_running", [](const RunQueueView& v) { return v.r()->nr_running; })
        .field("nr_switches", [](const RunQueueView& v) { return v.r()->nr_switches; })
        .field("clock", [](const RunQueueView& v) { return v.r()->clock; })
        .field("idle_time", [](const RunQueueView& v) { return v.r()->idle_time; })
        .field("cfs", [](const RunQueueView& v) { return CfsRqView{v.k, v.cpu}; })
        .field("rt", [](const RunQueueView& v) { return RtRqView{v.k, v.cpu}; })
        .repr({"cpu", "curr", "nr_running"});

    cls.def("_cpu_state", [](std::shared_ptr<Kernel> k, int cpu) {
           check_cpu(*k, cpu);
           return cpu_state_of(k, cpu);
       })
        .def("runqueue", [](std::shared_ptr<Kernel> k, int cpu) {
            check_cpu(*k, cpu);
            return RunQueueView{k, cpu};
        }, py::arg("cpu"), "The struct rq of a CPU.")
        .def("_tasklet_lists", [](Kernel& k, int cpu) {
            check_cpu(k, cpu);
            py::dict d;
            const char* names[2] = {"hi", "normal"};
            tasklet_struct* heads[2] = {per_cpu(k.tasklet_hi_vec, cpu), per_cpu(k.tasklet_vec, cpu)};
            for (int i = 0; i < 2; i++) {
                py::list l;
                for (tasklet_struct* t = heads[i]; t; t = t->next) l.append(t->name);
                d[names[i]] = l;
            }
            return d;
        })
        .def("_irq_regs", [](Kernel& k, int cpu) -> py::object {
            check_cpu(k, cpu);
            pt_regs* r = per_cpu(k.__irq_regs, cpu);
            if (!r) return py::none();
            return pt_regs_object(*r);
        })
        .def("_per_cpu_names", [](Kernel& k) {
            std::vector<std::string> v;
            for (percpu_var_base* p : k.percpu_vars) v.emplace_back(p->name);
            return v;
        })
        .def("_per_cpu", [](Kernel& k, const std::string& name) {
            for (percpu_var_base* p : k.percpu_vars) {
                if (name != p->name) continue;
                py::list out;
                for (int c = 0; c < k.cfg.cpus; c++) {
                    long v;
                    if (p->as_long(c, &v)) out.append(v);
                    else out.append(p->show(c));
                }
                return out;
            }
            throw py::key_error("no per-CPU variable '" + name + "'; k.per_cpu_names() lists them");
        })
        .def_property("preempt_model", [](Kernel& k) { return std::string(preempt_model_name(k.cfg.preempt)); },
                      [](Kernel& k, const std::string& s) {
                          preempt_model m = parse_preempt_model(s);
                          kernel_context ctx(&k);
                          sched_dynamic_update(m);
                      },
                      "The preemption model: 'none', 'voluntary' or 'full' (settable, as PREEMPT_DYNAMIC's "
                      "/sys/kernel/debug/sched/preempt is).")
        .def_property_readonly("crash_seq", [](Kernel& k) { return k.crash_seq; })
        .def("_crashes", [](Kernel& k, u64 after) {
            py::list out;
            for (auto& c : k.crash_log)
                if (c.seq > after) out.append(CrashView{c.seq, c.ts, c.pid, c.comm, c.report});
            return out;
        }, py::arg("after") = 0)
        .def("_dmesg", [](Kernel& k) {
            py::list out;
            for (auto& [ts, line] : k.log_buf) out.append(py::make_tuple(ts, line));
            return out;
        });
}

}  // namespace gk
