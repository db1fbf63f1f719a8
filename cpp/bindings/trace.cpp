// The simulator's Python binding. The trace buffer: events as Event objects, queried (by name,
// pid, cpu, type and time) and cut into calls in C++, so Python never copies the whole buffer to
// find a few events.
#include <climits>
#include <optional>

#include "bindings/views.h"

namespace gk {

struct EventView {
    trace_event e;
};

static const char* type_name(ev_type t) {
    static const char* names[] = {"entry", "exit", "point"};
    return names[static_cast<int>(t)];
}

static const char* ctx_name(ev_ctx c) {
    static const char* names[] = {"task", "softirq", "hardirq", "host"};
    return names[static_cast<int>(c)];
}

py::object event_object(const trace_event& e) { return py::cast(EventView{e}); }

static py::list event_list(const trace_buffer& b, const std::vector<size_t>& idx) {
    py::list out;
    for (size_t i : idx) out.append(EventView{b.at(i)});
    return out;
}

static int parse_type(const std::optional<std::string>& t) {
    if (!t) return -1;
    if (*t == "entry") return static_cast<int>(ev_type::ENTRY);
    if (*t == "exit") return static_cast<int>(ev_type::EXIT);
    if (*t == "point") return static_cast<int>(ev_type::POINT);
    throw py::value_error("type is 'entry', 'exit' or 'point' (got '" + *t + "')");
}

static trace_filter make_filter(const std::optional<std::string>& name, std::optional<int> pid, std::optional<int> cpu,
                                const std::optional<std::string>& type, std::optional<long long> since, std::optional<long long> until) {
    trace_filter f;
    if (name) {
        if (name->empty()) throw py::value_error("name must not be empty");
        f.name = *name;
    }
    if (pid) {
        f.by_pid = true;
        f.pid = *pid;
    }
    if (cpu) {
        if (*cpu < 0) throw py::value_error("cpu must be >= 0");
        f.cpu = *cpu;
    }
    f.type = parse_type(type);
    if (since) f.since = *since < 0 ? 0 : static_cast<u64>(*since);
    if (until) {
        if (*until < 0) throw py::value_error("until_ns must be >= 0");
        f.until = static_cast<u64>(*until);
    }
    return f;
}

// The calls of `name` (entries only) by pid, in order.
static std::vector<size_t> call_entries(const trace_buffer& b, const std::string& name, std::optional<int> pid) {
    trace_filter f = make_filter(name, pid, std::nullopt, std::string("entry"), std::nullopt, std::nullopt);
    return trace_select(b, f);
}

void bind_trace(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    view_class<EventView>(m, "Event", "One trace record: a modeled function's entry or exit, or a tracepoint.")
        .field("seq", [](const EventView& v) { return v.e.seq; }, "order of recording, over the machine's whole run")
        .field("ts", [](const EventView& v) { return v.e.ts; }, "virtual ns on the event's CPU")
        .field("cpu", [](const EventView& v) { return v.e.cpu; })
        .field("pid", [](const EventView& v) { return v.e.pid; }, "-1: host context (e.g. k.spawn)")
        .field("type", [](const EventView& v) { return type_name(v.e.type); }, "'entry', 'exit' or 'point'")
        .field("ctx", [](const EventView& v) { return ctx_name(v.e.ctx); }, "'task', 'softirq', 'hardirq' or 'host'")
        .field("depth", [](const EventView& v) { return v.e.depth; }, "call depth on the task's kernel stack")
        .field("name", [](const EventView& v) { return v.e.name; })
        .field("args", [](const EventView& v) { return v.e.args; }, "the arguments (entry) or the tracepoint's fields")
        .field("ret", [](const EventView& v) { return v.e.ret; }, "the return value (exit)")
        .repr({"seq", "ts", "cpu", "pid", "type", "name", "args"})
        .def("__eq__", [](const EventView& a, py::object other) {
            if (!py::isinstance<EventView>(other)) return false;
            const trace_event& b = other.cast<const EventView&>().e;
            return a.e.seq == b.seq && a.e.ts == b.ts && a.e.name == b.name && a.e.type == b.type && a.e.cpu == b.cpu;
        })
        .def("__hash__", [](const EventView& v) { return std::hash<u64>()(v.e.seq); });

    cls.def_property("trace_enabled", [](Kernel& k) { return k.trace.enabled; }, [](Kernel& k, bool on) { k.trace.enabled = on; })
        .def_property("trace_limit", [](Kernel& k) { return k.trace.limit; }, [](Kernel& k, long long n) {
            if (n < 1) throw py::value_error("trace_limit must be at least 1");
            k.trace.set_limit(static_cast<size_t>(n));
        })
        .def_property_readonly("trace_dropped", [](Kernel& k) { return k.trace.dropped; })
        .def("trace_clear", [](Kernel& k) { k.trace.clear(); }, "Empty the trace buffer.")
        .def("trace_size", [](Kernel& k) { return k.trace.size(); }, "The number of events in the trace buffer.")
        .def("trace_select", [](Kernel& k, std::optional<std::string> name, std::optional<int> pid, std::optional<int> cpu,
                                std::optional<std::string> type, std::optional<long long> since_ns, std::optional<long long> until_ns,
                                std::optional<long long> limit) {
            if (limit && *limit < 0) throw py::value_error("limit must be >= 0");
            trace_filter f = make_filter(name, pid, cpu, type, since_ns, until_ns);
            return event_list(k.trace, trace_select(k.trace, f, limit ? static_cast<size_t>(*limit) : SIZE_MAX));
        }, py::arg("name") = py::none(), py::arg("pid") = py::none(), py::arg("cpu") = py::none(), py::arg("type") = py::none(),
           py::arg("since_ns") = py::none(), py::arg("until_ns") = py::none(), py::arg("limit") = py::none(),
           "The events matching every given filter, oldest first, at most limit of them.")
        .def("trace_call", [](Kernel& k, const std::string& name, std::optional<int> pid, long long nth) {
            if (nth < 0) throw py::value_error("nth must be >= 0");
            auto entries = call_entries(k.trace, name, pid);
            if (static_cast<size_t>(nth) >= entries.size()) {
                PyErr_SetString(PyExc_LookupError, ("no call #" + std::to_string(nth) + " of " + name +
                                                    (pid ? " by pid " + std::to_string(*pid) : std::string()) + " in the trace")
                                                       .c_str());
                throw py::error_already_set();
            }
            return event_list(k.trace, trace_call(k.trace, entries[static_cast<size_t>(nth)]));
        }, py::arg("name"), py::arg("pid") = py::none(), py::arg("nth") = 0,
           "The events of the nth call of name (by pid), from its entry to its return, nested calls included.")
        .def("trace_calls", [](Kernel& k, const std::string& name, std::optional<int> pid) {
            py::list out;
            for (size_t i : call_entries(k.trace, name, pid)) out.append(event_list(k.trace, trace_call(k.trace, i)));
            return out;
        }, py::arg("name"), py::arg("pid") = py::none(), "Every call of name (by pid) in the trace, each as trace_call returns it.");
}

}  // namespace gk
