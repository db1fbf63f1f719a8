// The simulator's Python binding. Python access to interrupts: top halves, threaded handlers, tasklets, timers, work items and
// softirq actions written in Python (host code behind Linux's function pointers: see
// engine/host_callback.h), devices raising lines at virtual times, /proc/interrupts.
#include "bindings/views.h"
#include "engine/host_callback.h"

namespace gk {

// What a Python callback learns about its call (what host_call says).
struct HostCallView {
    std::string kind;
    int irq = -1;
    int cpu = 0;
};

// Host code in Python: the wrapper made in python/glasskernel/interrupts.py, called with the
// HostCallView; its int result is the irqreturn (or the netfilter verdict).
struct py_host_fn : host_fn {
    py::object fn;
    explicit py_host_fn(py::object f) : fn(std::move(f)) {}
    long call(Kernel&, const host_call& c, std::vector<host_request>*) override {
        py::object r = fn(HostCallView{c.kind, c.irq, c.cpu});
        return r.is_none() ? 0 : r.cast<long>();
    }
};

std::shared_ptr<host_fn> make_py_host_fn(py::object fn) { return std::make_shared<py_host_fn>(std::move(fn)); }

// Inside a callback, host code's kernel calls are queued and carried out in kernel context when
// it returns (they are calls Linux allows in any context). Anywhere else while the kernel runs,
// or stopped inside a function, they would run in the middle of kernel code: refused.
static bool defer_or_refuse(Kernel& k, const host_request& r, const char* what) {
    if (host_defer(&k, r)) return true;
    refuse_while_running(k, what);
    return false;
}

struct TaskletView {
    std::shared_ptr<Kernel> k;
    host_tasklet* h;
};
struct TimerView {
    std::shared_ptr<Kernel> k;
    host_timer* h;
};
struct WorkView {
    std::shared_ptr<Kernel> k;
    host_work* h;
};

// An interrupt line (struct irq_desc) and its actions, read live.
struct IrqDescView {
    std::shared_ptr<Kernel> k;
    int irq;
    irq_desc& d() const { return k->irq_descs[irq]; }
};
struct IrqActionView {
    std::shared_ptr<Kernel> k;
    std::shared_ptr<irqaction> a;
};

static void bind_irq_desc(py::module_& m) {
    view_class<IrqActionView>(m, "IrqAction", "struct irqaction: one handler on a line (more than one if IRQF_SHARED).")
        .field("name", [](const IrqActionView& v) { return v.a->name; })
        .field("flags", [](const IrqActionView& v) { return v.a->flags; })
        .field("shared", [](const IrqActionView& v) { return (v.a->flags & IRQF_SHARED) != 0; })
        .field("count", [](const IrqActionView& v) { return v.a->count; }, "times its handler ran")
        .field("thread", [](const IrqActionView& v) { return task_or_none(v.k, v.a->thread); }, "the irq/N-name thread, if threaded")
        .field("thread_runs", [](const IrqActionView& v) { return v.a->thread_runs; })
        .repr({"name", "count"});

    view_class<IrqDescView>(m, "IrqDesc", "struct irq_desc: one interrupt line.")
        .field("irq", [](const IrqDescView& v) { return v.irq; })
        .field("kstat_irqs", [](const IrqDescView& v) { return v.d().kstat_irqs; }, "interrupts taken, per CPU")
        .field("chip", [](const IrqDescView& v) { return std::string(v.d().chip->name); })
        .field("handler", [](const IrqDescView& v) { return v.d().name; }, "the flow handler: edge")
        .field("actions", [](const IrqDescView& v) {
            py::list out;
            for (auto& a : v.d().action) out.append(IrqActionView{v.k, a});
            return out;
        })
        .field("irqs_unhandled", [](const IrqDescView& v) { return v.d().irqs_unhandled; }, "spurious: no handler said IRQ_HANDLED")
        .field("masked", [](const IrqDescView& v) { return v.d().masked; })
        .field("depth", [](const IrqDescView& v) { return v.d().depth; }, "disable_irq() nesting")
        .field("affinity", [](const IrqDescView& v) { return v.d().affinity; }, "the CPU its interrupts go to")
        .repr({"irq", "chip", "handler", "actions"});
}

void bind_irq(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    bind_irq_desc(m);
    py::class_<HostCallView>(m, "HostCall", "What a Python callback is told about the kernel's call.")
        .def_readonly("kind", &HostCallView::kind, "irq, irq_thread, tasklet, timer, work, softirq or nf_hook")
        .def_readonly("irq", &HostCallView::irq)
        .def_readonly("cpu", &HostCallView::cpu);

    py::class_<TaskletView>(m, "TaskletStruct", "A tasklet_struct whose callback is Python.")
        .def_property_readonly("name", [](const TaskletView& v) { return v.h->tasklet.name; })
        .def_property_readonly("state", [](const TaskletView& v) { return v.h->tasklet.state; })
        .def_property_readonly("count", [](const TaskletView& v) { return v.h->tasklet.count; })
        .def_property_readonly("runs", [](const TaskletView& v) { return v.h->tasklet.runs; })
        .def("schedule", [](const TaskletView& v, bool hi) {
            if (defer_or_refuse(*v.k, tasklet_schedule_req{&v.h->tasklet, hi}, "scheduling a tasklet")) return;
            kernel_context ctx(v.k.get());
            hi ? tasklet_hi_schedule(&v.h->tasklet) : tasklet_schedule(&v.h->tasklet);
        }, py::arg("hi") = false)
        .def("disable", [](const TaskletView& v) {
            refuse_while_running(*v.k, "disabling a tasklet");
            tasklet_disable(&v.h->tasklet);
        })
        .def("enable", [](const TaskletView& v) {
            refuse_while_running(*v.k, "enabling a tasklet");
            tasklet_enable(&v.h->tasklet);
        });

    py::class_<TimerView>(m, "TimerList", "A timer_list on a timer wheel whose function is Python.")
        .def_property_readonly("name", [](const TimerView& v) { return v.h->timer.name; })
        .def_property_readonly("expires", [](const TimerView& v) { return v.h->timer.expires; })
        .def_property_readonly("pending", [](const TimerView& v) { return timer_pending(&v.h->timer); })
        .def_property_readonly("runs", [](const TimerView& v) { return v.h->timer.runs; })
        .def_property_readonly("fired_at", [](const TimerView& v) { return v.h->timer.fired_at_jiffies; })
        .def_property_readonly("bucket", [](const TimerView& v) { return v.h->timer.idx; })
        .def("mod", [](const TimerView& v, unsigned long expires) -> int {
            int was = timer_pending(&v.h->timer);
            if (defer_or_refuse(*v.k, mod_timer_req{&v.h->timer, expires}, "mod_timer")) return was;
            kernel_context ctx(v.k.get());
            v.k->this_cpu = 0;
            return mod_timer(&v.h->timer, expires);
        }, py::arg("expires"), "mod_timer: (re)arm to fire at jiffies value expires; returns whether it was pending.")
        .def("delete", [](const TimerView& v) -> int {
            int was = timer_pending(&v.h->timer);
            if (defer_or_refuse(*v.k, del_timer_req{&v.h->timer}, "del_timer")) return was;
            kernel_context ctx(v.k.get());
            return del_timer(&v.h->timer);
        });

    py::class_<WorkView>(m, "WorkStruct", "A work_struct (delayed_work) whose function is Python.")
        .def_property_readonly("name", [](const WorkView& v) { return v.h->dwork.work.name; })
        .def_property_readonly("runs", [](const WorkView& v) { return v.h->dwork.work.runs; })
        .def_property_readonly("pending", [](const WorkView& v) { return (v.h->dwork.work.data & WORK_STRUCT_PENDING) != 0; })
        .def("queue", [](const WorkView& v, int cpu, u64 delay_ns) -> bool {
            if (cpu < 0 || cpu >= v.k->cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            bool idle = !(v.h->dwork.work.data & WORK_STRUCT_PENDING) && !hrtimer_active(&v.h->dwork.timer);
            if (defer_or_refuse(*v.k, queue_work_req{&v.h->dwork, cpu, delay_ns}, "queue_work")) return idle;
            kernel_context ctx(v.k.get());
            v.k->this_cpu = cpu;
            return delay_ns ? queue_delayed_work(&v.h->dwork, delay_ns) : queue_work_on(cpu, &v.h->dwork.work);
        }, py::arg("cpu") = 0, py::arg("delay_ns") = 0);

    cls.def("_request_irq", [](Kernel& k, int irq, py::object handler, py::object thread_fn, bool shared, const std::string& name,
                               py::object dev_id) {
           refuse_while_running(k, thread_fn.is_none() ? "request_irq()" : "request_threaded_irq()");
           kernel_context ctx(&k);
           unsigned long flags = shared ? static_cast<unsigned long>(IRQF_SHARED) : 0ul;
           int r = host_request_irq(&k, irq, make_py_host_fn(handler), thread_fn.is_none() ? nullptr : make_py_host_fn(thread_fn),
                                    flags, name, dev_id.is_none() ? nullptr : dev_id.ptr());
           if (r < 0) raise_errno(-r, "request_irq " + std::to_string(irq));
       })
        .def("_free_irq", [](Kernel& k, int irq, py::object dev_id) {
            refuse_while_running(k, "free_irq()");
            kernel_context ctx(&k);
            int r = host_free_irq(&k, irq, dev_id.is_none() ? nullptr : dev_id.ptr());
            if (r < 0) raise_errno(-r, "free_irq " + std::to_string(irq));
        })
        .def("_irq_set_affinity", [](Kernel& k, int irq, int cpu) {
            refuse_while_running(k, "irq_set_affinity()");
            kernel_context ctx(&k);
            if (irq_set_affinity(irq, cpu) < 0)
                throw py::value_error("irq must be 0.." + std::to_string(NR_IRQS - 1) + " and cpu 0.." + std::to_string(k.cfg.cpus - 1));
        })
        .def("_raise_irq", [](Kernel& k, int irq, long long at_ns, int cpu) {
            // The device's side of the wire: allowed anywhere, it only queues an arrival.
            if (irq < 0 || irq >= NR_IRQS) throw py::value_error("irq must be 0.." + std::to_string(NR_IRQS - 1));
            if (cpu < 0) cpu = k.irq_descs[irq].affinity;
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            u64 when = at_ns < 0 ? k.cpu_rq(cpu)->clock : static_cast<u64>(at_ns);
            k.irq_arrivals[cpu].emplace(when, irq);
        })
        .def("_new_tasklet", [](std::shared_ptr<Kernel> k, const std::string& name, py::object fn) {
            return TaskletView{k, host_tasklet_new(k.get(), name, make_py_host_fn(fn))};
        })
        .def("_new_timer", [](std::shared_ptr<Kernel> k, const std::string& name, py::object fn) {
            return TimerView{k, host_timer_new(k.get(), name, make_py_host_fn(fn))};
        })
        .def("_new_work", [](std::shared_ptr<Kernel> k, const std::string& name, py::object fn) {
            return WorkView{k, host_work_new(k.get(), name, make_py_host_fn(fn))};
        })
        .def("_open_softirq", [](Kernel& k, int nr, py::object fn) {
            refuse_while_running(k, "open_softirq()");
            if (nr < 0 || nr >= NR_SOFTIRQS) throw py::value_error("softirq numbers are 0..9 (HI .. RCU)");
            if (host_open_softirq(&k, nr, make_py_host_fn(fn)) == -EBUSY)
                throw py::value_error(std::string(softirq_to_name[nr]) + " already has an action");
        })
        .def("_raise_softirq", [](Kernel& k, int nr, int cpu) {
            if (nr < 0 || nr >= NR_SOFTIRQS) throw py::value_error("softirq numbers are 0..9");
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            if (defer_or_refuse(k, raise_softirq_req{nr}, "raise_softirq()")) return;
            kernel_context ctx(&k);
            k.this_cpu = cpu;
            raise_softirq(nr);
        })
        .def("_irq_descs", [](std::shared_ptr<Kernel> k) {
            py::list out;
            for (auto& d : k->irq_descs)
                if (!d.action.empty() || d.irq_count) out.append(IrqDescView{k, d.irq});
            return out;
        })
        .def("_softirq_stats", [](Kernel& k) {
            py::list out;
            for (int i = 0; i < NR_SOFTIRQS; i++) out.append(py::make_tuple(softirq_to_name[i], k.kstat_softirqs[i]));
            return out;
        })
        .def("_softirq_pending", [](Kernel& k) { return std::vector<u32>(k.softirq_pending.begin(), k.softirq_pending.end()); });
}

}  // namespace gk
