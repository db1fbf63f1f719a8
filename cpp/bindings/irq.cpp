// Python access to interrupts: top halves, tasklets and softirq actions written in Python (run as
// upcalls from interrupt context), devices raising lines at virtual times, /proc/interrupts.
#include "bindings/views.h"

namespace gk {

// Calls a Python wrapper that returns (irqreturn, [(kind, arg), ...]): the actions are carried
// out by the kernel when the upcall returns (0 raise_softirq, 1 tasklet_schedule, 2 tasklet_hi).
struct py_irq_upcall : irq_upcall {
    py::object fn;
    py::object dev_id;
    int call(Kernel& k, int irq, long data) override {
        py::object r = fn(irq, k.this_cpu, data);
        py::tuple t = r.cast<py::tuple>();
        for (auto item : t[1].cast<py::list>()) {
            py::tuple a = item.cast<py::tuple>();
            int kind = a[0].cast<int>();
            long arg = a[1].cast<long>();
            if (kind == 0 && (arg < 0 || arg >= NR_SOFTIRQS)) throw py::value_error("no softirq " + std::to_string(arg));
            if (kind == 1 || kind == 2) {
                if (arg < 0 || static_cast<size_t>(arg) >= k.py_tasklets.size()) throw py::value_error("no such tasklet");
                arg = reinterpret_cast<long>(k.py_tasklets[arg].get());
            } else if (kind == 5) {
                if ((arg & 0xffff) >= static_cast<long>(k.py_timers.size())) throw py::value_error("no such timer");
            } else if (kind == 3 || kind == 4) {
                long id = kind == 4 ? (arg & 0xffff) : arg;
                if (id < 0 || static_cast<size_t>(id) >= k.py_works.size()) throw py::value_error("no such work item");
            }
            k.upcall_actions.emplace_back(kind, arg);
        }
        return t[0].cast<int>();
    }
};

static void refuse(Kernel& k) {
    if (k.stop.stopped) throw std::runtime_error("the kernel is stopped inside a function; call k.run() first");
}

void bind_irq(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    (void)m;
    cls.def("_request_irq", [](Kernel& k, int irq, py::object wrapper, bool shared, const std::string& name, py::object dev_id) {
           refuse(k);
           auto up = std::make_shared<py_irq_upcall>();
           up->fn = wrapper;
           up->dev_id = dev_id;
           kernel_context ctx(&k);
           unsigned long flags = shared ? static_cast<unsigned long>(IRQF_SHARED) : 0ul;
           int r = request_py_irq(irq, up, flags, name, dev_id.is_none() ? nullptr : dev_id.ptr());
           if (r < 0) {
               PyErr_SetObject(PyExc_OSError, py::make_tuple(-r, std::string(strerror(-r)) + ": request_irq " + std::to_string(irq)).ptr());
               throw py::error_already_set();
           }
       })
        .def("_request_threaded_irq", [](Kernel& k, int irq, py::object wrapper, py::object thread_wrapper, bool shared,
                                         const std::string& name, py::object dev_id) {
            refuse(k);
            auto up = std::make_shared<py_irq_upcall>();
            up->fn = wrapper;
            up->dev_id = dev_id;
            auto th = std::make_shared<py_irq_upcall>();
            th->fn = thread_wrapper;
            th->dev_id = dev_id;
            kernel_context ctx(&k);
            unsigned long flags = shared ? static_cast<unsigned long>(IRQF_SHARED) : 0ul;
            int r = request_py_threaded_irq(&k, irq, up, th, flags, name, dev_id.is_none() ? nullptr : dev_id.ptr());
            if (r < 0) {
                PyErr_SetObject(PyExc_OSError, py::make_tuple(-r, std::string(strerror(-r)) + ": request_threaded_irq " + std::to_string(irq)).ptr());
                throw py::error_already_set();
            }
        })
        .def("_free_irq", [](Kernel& k, int irq, py::object dev_id) {
            refuse(k);
            kernel_context ctx(&k);
            int r = free_irq(irq, dev_id.is_none() ? nullptr : dev_id.ptr());
            if (r < 0) {
                PyErr_SetObject(PyExc_OSError, py::make_tuple(-r, std::string(strerror(-r)) + ": free_irq " + std::to_string(irq)).ptr());
                throw py::error_already_set();
            }
        })
        .def("_irq_set_affinity", [](Kernel& k, int irq, int cpu) {
            refuse(k);
            kernel_context ctx(&k);
            if (irq_set_affinity(irq, cpu) < 0)
                throw py::value_error("irq must be 0.." + std::to_string(NR_IRQS - 1) + " and cpu 0.." + std::to_string(k.cfg.cpus - 1));
        })
        .def("_raise_irq", [](Kernel& k, int irq, long long at_ns, int cpu) {
            if (irq < 0 || irq >= NR_IRQS) throw py::value_error("irq must be 0.." + std::to_string(NR_IRQS - 1));
            if (cpu < 0) cpu = k.irq_descs[irq].affinity;
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            u64 when = at_ns < 0 ? k.cpu_rq(cpu)->clock : static_cast<u64>(at_ns);
            k.irq_arrivals[cpu].emplace(when, irq);
        })
        .def("_new_tasklet", [](Kernel& k, const std::string& name, py::object wrapper) {
            auto t = std::make_unique<tasklet_struct>();
            t->name = name;
            auto up = std::make_shared<py_irq_upcall>();
            up->fn = wrapper;
            t->py_func = up;
            t->data = k.py_tasklets.size();
            k.py_tasklets.push_back(std::move(t));
            return k.py_tasklets.size() - 1;
        })
        .def("_tasklet_info", [](Kernel& k, size_t id) {
            if (id >= k.py_tasklets.size()) throw py::value_error("no such tasklet");
            tasklet_struct* t = k.py_tasklets[id].get();
            py::dict d;
            d["name"] = t->name;
            d["state"] = t->state;
            d["count"] = t->count;
            d["runs"] = t->runs;
            return d;
        })
        .def("_tasklet_op", [](Kernel& k, size_t id, const std::string& op) {
            refuse(k);
            if (id >= k.py_tasklets.size()) throw py::value_error("no such tasklet");
            tasklet_struct* t = k.py_tasklets[id].get();
            kernel_context ctx(&k);
            if (op == "schedule") tasklet_schedule(t);
            else if (op == "hi_schedule") tasklet_hi_schedule(t);
            else if (op == "disable") tasklet_disable(t);
            else if (op == "enable") tasklet_enable(t);
            else throw py::value_error("unknown tasklet operation " + op);
        })
        .def("_open_softirq", [](Kernel& k, int nr, py::object fn) {
            if (nr < 0 || nr >= NR_SOFTIRQS) throw py::value_error("softirq numbers are 0..9 (HI .. RCU)");
            if (k.softirq_vec[nr].action) throw py::value_error(std::string(softirq_to_name[nr]) + " already has the kernel's action");
            k.softirq_vec[nr].py_action = std::make_shared<std::function<void()>>([fn]() { fn(); });
        })
        .def("_raise_softirq", [](Kernel& k, int nr, int cpu) {
            refuse(k);
            if (nr < 0 || nr >= NR_SOFTIRQS) throw py::value_error("softirq numbers are 0..9");
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            kernel_context ctx(&k);
            k.this_cpu = cpu;
            raise_softirq(nr);
        })
        .def("_irq_descs", [](Kernel& k) {
            py::list out;
            for (auto& d : k.irq_descs) {
                if (d.action.empty() && !d.irq_count) continue;
                py::list names;
                for (auto& a : d.action) names.append(a->name);
                out.append(py::make_tuple(d.irq, d.kstat_irqs, d.chip->name, d.name, names, d.irqs_unhandled, d.masked, d.depth,
                                          d.affinity));
            }
            return out;
        })
        .def("_softirq_stats", [](Kernel& k) {
            py::list out;
            for (int i = 0; i < NR_SOFTIRQS; i++) out.append(py::make_tuple(softirq_to_name[i], k.kstat_softirqs[i]));
            return out;
        })
        .def("_new_work", [](Kernel& k, const std::string& name, py::object wrapper) {
            if (k.py_works.size() >= 0xffff) throw py::value_error("too many work items");
            auto w = std::make_unique<delayed_work>();
            w->work.name = name;
            auto up = std::make_shared<py_irq_upcall>();
            up->fn = wrapper;
            w->work.py_func = up;
            w->work.id = static_cast<long>(k.py_works.size());
            k.py_works.push_back(std::move(w));
            return k.py_works.size() - 1;
        })
        .def("_work_info", [](Kernel& k, size_t id) {
            if (id >= k.py_works.size()) throw py::value_error("no such work item");
            py::dict d;
            d["runs"] = k.py_works[id]->work.runs;
            d["pending"] = (k.py_works[id]->work.data & WORK_STRUCT_PENDING) != 0;
            return d;
        })
        .def("_queue_work", [](Kernel& k, size_t id, int cpu, long long delay_ns) {
            refuse(k);
            if (id >= k.py_works.size()) throw py::value_error("no such work item");
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            if (delay_ns < 0) throw py::value_error("delay must be >= 0 ns");
            kernel_context ctx(&k);
            k.this_cpu = cpu;
            return delay_ns ? queue_delayed_work(k.py_works[id].get(), static_cast<u64>(delay_ns)) : queue_work_on(cpu, &k.py_works[id]->work);
        })
        .def("_new_timer", [](Kernel& k, const std::string& name, py::object wrapper) {
            if (k.py_timers.size() >= 0xffff) throw py::value_error("too many timers");
            auto t = std::make_unique<timer_list>();
            t->name = name;
            auto up = std::make_shared<py_irq_upcall>();
            up->fn = wrapper;
            t->py_function = up;
            t->id = static_cast<long>(k.py_timers.size());
            k.py_timers.push_back(std::move(t));
            return k.py_timers.size() - 1;
        })
        .def("_timer_info", [](Kernel& k, size_t id) {
            if (id >= k.py_timers.size()) throw py::value_error("no such timer");
            timer_list* t = k.py_timers[id].get();
            py::dict d;
            d["expires"] = t->expires;
            d["pending"] = timer_pending(t);
            d["runs"] = t->runs;
            d["fired_at"] = t->fired_at_jiffies;
            d["bucket"] = t->idx;
            return d;
        })
        .def("_timer_op", [](Kernel& k, size_t id, const std::string& op, long long expires) {
            refuse(k);
            if (id >= k.py_timers.size()) throw py::value_error("no such timer");
            kernel_context ctx(&k);
            k.this_cpu = 0;
            if (op == "mod") {
                if (expires < 0) throw py::value_error("expires is a jiffies value >= 0");
                return mod_timer(k.py_timers[id].get(), static_cast<unsigned long>(expires));
            }
            if (op == "del") return del_timer(k.py_timers[id].get());
            throw py::value_error("unknown timer operation " + op);
        })
        .def("_softirq_pending", [](Kernel& k) { return std::vector<u32>(k.softirq_pending.begin(), k.softirq_pending.end()); });
}

}  // namespace gk
