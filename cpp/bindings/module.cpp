// The simulator's Python binding. The glasskernel._core module: the Kernel (a simulated machine) and its host API. The public
// Python API wraps this in python/glasskernel.
#include <exception>
#include <pybind11/functional.h>

#include <algorithm>
#include <set>

#include "bindings/errors.h"
#include "bindings/uapi_convert.h"
#include "bindings/user_python.h"
#include "bindings/views.h"
#include "engine/errors.h"
#include "glasskernel/trace_names.h"

namespace gk {

static void refuse_if_running(Kernel* k, const char* what) { refuse_while_running(*k, what); }

void bind_constants(py::module_& m);
void bind_irq(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_cpu(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_kthread(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_net(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_fs(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_trace(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);
void bind_stop(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls);

// One write(2) to the console.
struct ConsoleWriteView {
    u64 ts;
    int pid, fd;
    py::bytes data;
};

void bind_kernel(py::module_& m) {
    view_class<ConsoleWriteView>(m, "ConsoleWrite", "One write to the console: when, by whom, to which stream, what.")
        .member("ts", &ConsoleWriteView::ts, "virtual ns")
        .member("pid", &ConsoleWriteView::pid)
        .member("fd", &ConsoleWriteView::fd, "1: stdout, 2: stderr")
        .member("data", &ConsoleWriteView::data)
        .repr({"ts", "pid", "fd", "data"});
    py::class_<Kernel, std::shared_ptr<Kernel>> cls(m, "Kernel");
    py::tuple names(std::size(trace_names));
    for (size_t i = 0; i < std::size(trace_names); i++) names[i] = trace_names[i];
    m.attr("trace_names") = names;
    bind_irq(m, cls);
    bind_cpu(m, cls);
    bind_kthread(m, cls);
    bind_net(m, cls);
    bind_fs(m, cls);
    bind_trace(m, cls);
    bind_stop(m, cls);
    cls
        .def(py::init([](int cpus, unsigned long long seed, int hz, int pid_max, size_t stack_size, bool guard_pages, bool trace,
                         const std::string& preempt) {
                 kernel_config c;
                 c.preempt = preempt_model_from_string(preempt);
                 c.cpus = cpus;
                 c.seed = seed;
                 c.hz = hz;
                 c.pid_max = pid_max;
                 c.stack_size = stack_size;
                 c.guard_pages = guard_pages;
                 c.trace = trace;
                 auto k = std::make_shared<Kernel>(c);
                 k->check_interrupts = [] {
                     if (PyErr_CheckSignals() != 0) throw py::error_already_set();
                 };
                 return k;
             }),
             py::arg("cpus") = 1, py::arg("seed") = 0, py::arg("hz") = 250, py::arg("pid_max") = 32768,
             py::arg("stack_size") = 16384, py::arg("guard_pages") = true, py::arg("trace") = true,
             py::arg("preempt") = "voluntary")
        .def("register_python_program", [](Kernel& k, const std::string& path, py::object fn, bool takes_argv) {
            if (k.in_run || k.in_network_run || k.running)
                throw std::runtime_error("registering a program cannot be done while the kernel runs (from a program or a callback); "
                                         "do it after k.run() returns");
            auto prog = std::make_shared<py_program>(py_program{path, fn, takes_argv});
            k.register_program(program{path, "python", [prog](const std::vector<std::string>& argv, const std::vector<std::string>& envp) {
                                           return std::make_unique<py_image>(prog, argv, envp);
                                       }});
        }, py::arg("path"), py::arg("fn"), py::arg("takes_argv"),
           "Register a Python coroutine function as the executable at path (what @k.program does).")
        .def("programs", [](Kernel& k) {
            py::dict d;
            for (auto& [path, p] : k.programs) d[py::str(path)] = p.kind;
            return d;
        }, "The registered executables: {path: kind}.")
        .def("spawn", [](std::shared_ptr<Kernel> k, const std::string& path, std::vector<std::string> argv,
                         std::vector<std::string> envp) {
            refuse_if_running(k.get(), "spawning a process");
            throw_if_panicked(*k);
            if (k->stop.stopped)
                throw std::runtime_error(std::string("the kernel is stopped inside ") + k->stop.ev.name +
                                         "; call k.run() or k.step() to let it reach a safe point before spawning");
            long err;
            auto t = k->spawn(path, argv, envp, &err);
            if (!t) raise_errno(static_cast<int>(-err), path);
            return TaskView{k, t};
        }, py::arg("path"), py::arg("argv"), py::arg("envp"),
           "Start a process running path as a child of init (fork + execve by init); raises OSError with execve's errno.")
        .def_property_readonly("tasks", [](std::shared_ptr<Kernel> k) {
            py::list out;
            for (auto& t : k->task_snapshot()) out.append(TaskView{k, t});
            return out;
        })
        .def("task", [](std::shared_ptr<Kernel> k, long pid) -> std::optional<TaskView> {
            if (pid == 0) return TaskView{k, k->idle_tasks[0]};
            if (pid < 0 || pid > INT_MAX) return std::nullopt;
            return task_or_none(k, find_task_by_vpid_in(k.get(), static_cast<int>(pid)));
        }, py::arg("pid"), "find_task_by_vpid: the task with this pid (0: CPU 0's idle task), or None.")
        .def("idle_task", [](std::shared_ptr<Kernel> k, int cpu) {
            if (cpu < 0 || cpu >= k->cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            return TaskView{k, k->idle_tasks[cpu]};
        }, py::arg("cpu"), "The idle task (swapper/N) of a CPU.")
        .def("current", [](std::shared_ptr<Kernel> k, int cpu) {
            if (cpu < 0 || cpu >= k->cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            return task_or_none(k, k->cpu_rq(cpu)->curr);
        }, py::arg("cpu"), "The task running on a CPU (rq->curr).")
        .def_property_readonly("console", [](Kernel& k) {
            // Programs may write any bytes; the view shows what is not UTF-8 as U+FFFD.
            PyObject* s = PyUnicode_DecodeUTF8(k.console_out.data(), static_cast<Py_ssize_t>(k.console_out.size()), "replace");
            if (!s) throw py::error_already_set();
            return py::reinterpret_steal<py::str>(s);
        })
        .def_property_readonly("console_log", [](Kernel& k) {
            py::list out;
            for (auto& r : k.console_log) out.append(ConsoleWriteView{r.ts, r.pid, r.fd, py::bytes(r.data)});
            return out;
        })
        .def("console_stream", [](Kernel& k, int fd, int pid) {
            std::string out;
            for (auto& r : k.console_log)
                if (r.fd == fd && (pid < 0 || r.pid == pid)) out += r.data;
            PyObject* s = PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), "replace");
            if (!s) throw py::error_already_set();
            return py::reinterpret_steal<py::str>(s);
        }, py::arg("fd"), py::arg("pid") = -1, "What was written to the console on fd (1 or 2), by one pid or all.")
        .def_property_readonly("console_dropped", [](Kernel& k) { return k.console_dropped; })
        .def("console_input", [](std::shared_ptr<Kernel> k, py::bytes data, bool eof) {
            refuse_if_running(k.get(), "typing on the console");
            k->console_in += std::string(data);
            if (eof) k->console_eof = true;
            kernel_context ctx(k.get());
            __wake_up(&k->console_wait, TASK_INTERRUPTIBLE, 0, nullptr);
        }, py::arg("data"), py::arg("eof") = false, "Type bytes on the console (fd 0 of every program); eof=True ends input.")
        .def_property_readonly("console_wait", [](std::shared_ptr<Kernel> k) { return WaitQueueView{k, k, &k->console_wait}; })
        .def("check", [](Kernel& k) {
            std::string e = k.check();
            if (!e.empty()) throw kernel_inconsistency(e);
        }, "The self-check: raises KernelInconsistency naming the first broken invariant.")
        .def_property_readonly("cpus", [](Kernel& k) { return k.cfg.cpus; })
        .def_property_readonly("hz", [](Kernel& k) { return k.cfg.hz; })
        .def_property_readonly("seed", [](Kernel& k) { return k.cfg.seed; })
        .def_property_readonly("jiffies", [](Kernel& k) { return k.jiffies; })
        .def_property_readonly("pid_max", [](Kernel& k) { return k.init_pid_ns.pid_max; })
        .def("clock", [](Kernel& k, int cpu) {
            if (cpu < 0 || cpu >= k.cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
            return k.cpu_rq(cpu)->clock;
        }, py::arg("cpu") = 0, "rq->clock of a CPU: its virtual time in nanoseconds.")
        .def_property_readonly("panicked", [](Kernel& k) { return k.panicked; })
        .def_property_readonly("panic_message", [](Kernel& k) { return k.panic_msg; })
        .def("costs", [](Kernel& k) {
            py::dict d;
            d["syscall"] = k.costs.syscall;
            d["function"] = k.costs.function;
            d["context_switch"] = k.costs.context_switch;
            d["copy_mm"] = k.costs.copy_mm;
            d["exec"] = k.costs.exec;
            d["exit_mm"] = k.costs.exit_mm;
            d["irq"] = k.costs.irq;
            return d;
        }, "The virtual time (ns) each kind of kernel work costs: {name: ns}.")
        .def("set_cost", [](Kernel& k, const std::string& name, long long ns) {
            if (ns < 0) throw py::value_error("a cost is a number of nanoseconds >= 0");
            u64* f = name == "syscall" ? &k.costs.syscall : name == "function" ? &k.costs.function
                   : name == "context_switch" ? &k.costs.context_switch : name == "copy_mm" ? &k.costs.copy_mm
                   : name == "exec" ? &k.costs.exec : name == "exit_mm" ? &k.costs.exit_mm : name == "irq" ? &k.costs.irq : nullptr;
            if (!f) throw py::value_error("unknown cost '" + name + "'; see k.costs for the names");
            *f = static_cast<u64>(ns);
        }, py::arg("name"), py::arg("ns"), "Set the virtual time (ns) a kind of kernel work costs; names as in costs().");

}

}  // namespace gk

PYBIND11_MODULE(_core, m) {
    namespace py = pybind11;
    m.doc() = "glasskernel's compiled core: the simulated kernel and its views.";
    // libstdc++ keeps its exception state in thread-local storage that glibc allocates on first
    // use. Touch it now: if the first use were the first std::bad_alloc of a host out of memory,
    // glibc could not allocate it and would abort the process.
    (void)std::uncaught_exceptions();
    gk::register_errors(m);
    gk::bind_constants(m);
    gk::init_uapi_types(m);
    gk::bind_user_api(m);
    gk::bind_task(m);
    gk::bind_kernel(m);
    m.def("_set_user_api", &gk::set_user_api, "Install the class of the `sys` object programs receive.");
    m.def("syscall_name", [](long nr) -> py::object {
        const char* n = gk::syscall_name(nr);
        if (!n) return py::none();
        return py::str(n);
    }, py::arg("nr"), "The name of x86_64 system call nr, or None.");
    m.def("sys_call_table", [] {
        // (nr, name, entry point, implemented, argument types, argument names) for every number.
        py::list out;
        for (long nr = 0; nr < gk::syscall_table_size(); nr++) {
            const gk::syscall_table_entry* e = gk::syscall_entry(nr);
            if (!e->name) continue;
            py::list types, args;
            if (e->meta)
                for (int i = 0; i < e->meta->nb_args; i++) {
                    types.append(e->meta->types[i]);
                    args.append(e->meta->args[i]);
                }
            out.append(py::make_tuple(nr, e->name, e->entry, e->meta != nullptr, py::tuple(types), py::tuple(args)));
        }
        return out;
    }, "The x86_64 system call table: one (nr, name, entry, implemented, types, args) per number.");
}
