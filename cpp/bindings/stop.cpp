// The simulator's Python binding. Running and stopping: k.run()/k.step() return a Stop that says
// why the run ended (a breakpoint, a step, the caller's predicate, the time bound, nothing left
// to run, or tasks blocked for good), breakpoints are Breakpoint views.
#include <algorithm>
#include <set>

#include "bindings/user_python.h"
#include "bindings/views.h"
#include "engine/errors.h"
#include "engine/hung_task.h"
#include "glasskernel/trace_names.h"

namespace gk {

// A Python callable run by kernel context on the host stack (a breakpoint's `when`).
struct py_upcall : upcall_fn {
    py::object fn;
    explicit py_upcall(py::object f) : fn(std::move(f)) {}
    long call(Kernel&) override { return PyObject_IsTrue(fn().ptr()) == 1; }
};

struct StopView {
    std::string reason;  // breakpoint, step, until, time_limit, finished, deadlock
    py::object event = py::none(), task = py::none();
    int cpu = 0, breakpoint = 0;
    std::vector<std::string> backtrace;
    py::list blocked;
    u64 now = 0;
    bool stopped() const { return reason == "breakpoint" || reason == "step" || reason == "until"; }
};

struct BreakpointView {
    std::shared_ptr<Kernel> k;
    int id;
    breakpoint* find() const {
        for (auto& b : k->breakpoints)
            if (b.id == id) return &b;
        return nullptr;
    }
    breakpoint& get() const {
        breakpoint* b = find();
        if (!b) throw py::value_error("breakpoint " + std::to_string(id) + " was removed");
        return *b;
    }
};

static u64 machine_now(const Kernel& k) {
    u64 now = 0;
    for (int c = 0; c < k.cfg.cpus; c++) now = std::max(now, const_cast<Kernel&>(k).cpu_rq(c)->clock);
    return now;
}

// The stop the kernel is in (a breakpoint or step inside a function), as a Stop.
static StopView stop_in_kernel(const std::shared_ptr<Kernel>& k) {
    StopView s;
    s.reason = k->stop.reason;
    s.event = event_object(k->stop.ev);
    s.cpu = k->stop.cpu;
    s.breakpoint = k->stop.breakpoint;
    if (k->stop.task) {
        s.task = py::cast(TaskView{k, k->stop.task});
        for (const char* f : k->stop.task->thread.kstack) s.backtrace.emplace_back(f);
    }
    s.now = machine_now(*k);
    return s;
}

static StopView stop_of(const std::shared_ptr<Kernel>& k, const run_result& r) {
    if (r.stopped && k->stop.stopped) return stop_in_kernel(k);
    StopView s;
    s.now = machine_now(*k);
    if (r.stopped) {
        s.reason = "until";
    } else if (r.time_limit) {
        s.reason = "time_limit";
    } else {
        for (auto& t : find_blocked_tasks(*k)) s.blocked.append(TaskView{k, t});
        s.reason = s.blocked.empty() ? "finished" : "deadlock";
    }
    return s;
}

static step_mode parse_step(const std::string& s) {
    if (s == "function") return step_mode::FUNCTION;
    if (s == "syscall") return step_mode::SYSCALL;
    if (s == "switch") return step_mode::SWITCH;
    if (s == "tick") return step_mode::TICK;
    throw py::value_error("until must be one of 'function', 'syscall', 'switch', 'tick' (got '" + s + "')");
}

static run_result do_run(const std::shared_ptr<Kernel>& k, long long until_ns, py::object until) {
    throw_if_panicked(*k);
    std::function<bool()> pred;
    if (!until.is_none()) pred = [until]() { return PyObject_IsTrue(until().ptr()) == 1; };
    u64 limit = until_ns < 0 ? KTIME_MAX : static_cast<u64>(until_ns);
    run_result r = k->run(limit, pred);
    throw_if_panicked(*k);
    return r;
}

// Every name a trace event can have (generated from the sources: cpp/trace/tracenames.py).
static bool is_trace_name(const std::string& name) {
    static const std::set<std::string> names(std::begin(trace_names), std::end(trace_names));
    return names.count(name) != 0;
}

static std::string stop_repr(const StopView& s) {
    std::string out = "<Stop " + s.reason;
    if (!s.event.is_none()) {
        std::string name = s.event.attr("name").cast<std::string>(), type = s.event.attr("type").cast<std::string>();
        std::string who = "host";
        if (!s.task.is_none())
            who = "pid " + std::to_string(s.task.attr("pid").cast<int>()) + " (" + s.task.attr("comm").cast<std::string>() + ")";
        out += " at " + name + " (" + type + ") on cpu" + std::to_string(s.cpu) + " in " + who + " t=" +
               std::to_string(s.event.attr("ts").cast<u64>()) + "ns";
    } else {
        out += " t=" + std::to_string(s.now) + "ns";
    }
    if (!s.blocked.empty()) {
        out += ":";
        for (auto t : s.blocked) {
            py::object w = t.attr("wchan");
            out += " " + t.attr("comm").cast<std::string>() + "/" + std::to_string(t.attr("pid").cast<int>()) + " (" +
                   t.attr("state").cast<std::string>() + (w.is_none() ? "" : " in " + w.cast<std::string>()) + ")";
        }
    }
    return out + ">";
}

void bind_stop(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    view_class<StopView>(m, "Stop",
                         "Why a run ended. True when the kernel stopped on the way (breakpoint, step, until); false when the "
                         "run is over (time_limit, finished, deadlock).")
        .field("reason", [](const StopView& s) { return s.reason; },
               "'breakpoint', 'step' or 'until' (stopped on the way); 'time_limit'; 'finished' (nothing left to run); "
               "'deadlock' (nothing runnable, no timer pending, yet user tasks blocked: see blocked)")
        .field("stopped", [](const StopView& s) { return s.stopped(); }, "the kernel stopped on the way and can be continued")
        .field("event", [](const StopView& s) { return s.event; }, "the trace event it stopped at (breakpoint, step)")
        .field("function", [](const StopView& s) -> py::object { return s.event.is_none() ? py::object(py::none()) : py::object(s.event.attr("name")); })
        .field("task", [](const StopView& s) { return s.task; }, "the task it stopped in (None: host context)")
        .field("cpu", [](const StopView& s) { return s.cpu; })
        .field("breakpoint", [](const StopView& s) { return s.breakpoint; }, "the id of the breakpoint that stopped it, or 0")
        .field("backtrace", [](const StopView& s) { return s.backtrace; },
               "the modeled functions open on the stopped task's kernel stack, outermost first")
        .field("blocked", [](const StopView& s) { return s.blocked; },
               "for a deadlock: the user tasks blocked for good (each with state and wchan)")
        .field("now", [](const StopView& s) { return s.now; }, "virtual time when the run ended, ns")
        .def("__bool__", [](const StopView& s) { return s.stopped(); })
        .def("__repr__", &stop_repr);

    view_class<BreakpointView>(m, "Breakpoint", "A breakpoint on a modeled function or tracepoint (k.break_at).")
        .field("id", [](const BreakpointView& b) { return b.id; })
        .field("func", [](const BreakpointView& b) { return b.get().func; })
        .field("hits", [](const BreakpointView& b) { return b.get().hits; })
        .field("enabled", [](const BreakpointView& b) { return b.get().enabled; })
        .field("conditional", [](const BreakpointView& b) { return static_cast<bool>(b.get().when); }, "it has a `when` predicate")
        .repr({"id", "func"})
        .def("remove", [](const BreakpointView& b) {
            auto& bps = b.k->breakpoints;
            auto it = std::find_if(bps.begin(), bps.end(), [&](const breakpoint& x) { return x.id == b.id; });
            if (it == bps.end()) throw py::value_error("breakpoint " + std::to_string(b.id) + " was removed");
            bps.erase(it);
            b.k->update_stop_armed();
        })
        .def("enable", [](const BreakpointView& b) {
            b.get().enabled = true;
            b.k->update_stop_armed();
        })
        .def("disable", [](const BreakpointView& b) {
            b.get().enabled = false;
            b.k->update_stop_armed();
        })
        .def("__eq__", [](const BreakpointView& a, py::object o) {
            return py::isinstance<BreakpointView>(o) && o.cast<const BreakpointView&>().id == a.id &&
                   o.cast<const BreakpointView&>().k == a.k;
        })
        .def("__hash__", [](const BreakpointView& b) { return std::hash<int>()(b.id); });

    cls.def("run", [](std::shared_ptr<Kernel> k, long long until_ns, py::object until) {
           return stop_of(k, do_run(k, until_ns, until));
       }, py::arg("until_ns") = -1, py::arg("until") = py::none(),
       "Run until virtual time until_ns (-1: no limit), until(k) is true, a breakpoint, a crash, a deadlock or all tasks finish; returns the Stop.")
        .def("step", [](std::shared_ptr<Kernel> k, const std::string& mode, long long until_ns) {
            k->step = parse_step(mode);
            k->update_stop_armed();
            run_result r;
            try {
                r = do_run(k, until_ns, py::none());
            } catch (...) {
                k->step = step_mode::NONE;
                k->update_stop_armed();
                throw;
            }
            k->step = step_mode::NONE;
            k->update_stop_armed();
            return stop_of(k, r);
        }, py::arg("mode") = "function", py::arg("until_ns") = -1,
           "Run to the next traced function ('function'), function entry ('into'), return ('out') or system call ('syscall'); returns the Stop.")
        .def("break_at", [](std::shared_ptr<Kernel> k, const std::string& func, py::object when) {
            if (!is_trace_name(func)) {
                py::list names;
                for (const char* n : trace_names) names.append(n);
                py::list close = py::module_::import("difflib").attr("get_close_matches")(func, names, 5, 0.6);
                std::string hint;
                for (auto n : close) hint += (hint.empty() ? "" : ", ") + n.cast<std::string>();
                throw py::value_error("no traced function or tracepoint is named '" + func + "', so the breakpoint would never stop" +
                                      (hint.empty() ? std::string(" (glasskernel.trace_names lists them)") : "; did you mean: " + hint + "?"));
            }
            breakpoint b;
            b.id = k->next_breakpoint_id++;
            b.func = func;
            if (!when.is_none()) b.when = std::make_shared<py_upcall>(when);
            k->breakpoints.push_back(b);
            k->update_stop_armed();
            return BreakpointView{k, b.id};
        }, py::arg("func"), py::arg("when") = py::none(),
           "Stop whenever func (a traced function or tracepoint) is entered and when(stop) is true; returns the Breakpoint.")
        .def_property_readonly("breakpoints", [](std::shared_ptr<Kernel> k) {
            py::list out;
            for (auto& b : k->breakpoints) out.append(BreakpointView{k, b.id});
            return out;
        })
        .def_property_readonly("stopped", [](std::shared_ptr<Kernel> k) -> py::object {
            if (!k->stop.stopped) return py::none();
            return py::cast(stop_in_kernel(k));
        }, "The stop the kernel is in (inside a function, at a breakpoint or step), or None.")
        .def("stop_info", [](std::shared_ptr<Kernel> k) -> py::object {
            // What a breakpoint's `when` predicate is asked about: the event and the task.
            if (!k->stop.task && !k->stop.stopped) return py::none();
            return py::cast(stop_in_kernel(k));
        }, "The event and task a breakpoint's when predicate is being asked about, or None.");
}

}  // namespace gk
