// Python kernel threads: the coroutine driver lives in python/glasskernel/kthread.py; this binds
// its step function as a kthread_body and exposes kthread_run / kthread_stop and the thread's state.
#include "bindings/views.h"

namespace gk {

// step(value) -> (opcode, arg); for an oops the arg is the traceback text.
struct py_kthread_body : kthread_body {
    py::object step_fn;
    kthread_op step(Kernel& k, long value) override {
        (void)k;
        kthread_op op;
        py::object r = step_fn(value);
        py::tuple t = r.cast<py::tuple>();
        op.op = t[0].cast<int>();
        if (op.op == KT_OOPS) op.oops = py::str(t[1]).cast<std::string>();
        else op.arg = t[1].cast<long>();
        return op;
    }
};

static py_kthread* kthread_of(Kernel& k, long id) {
    if (id < 0 || static_cast<size_t>(id) >= k.py_kthreads.size()) throw py::value_error("no such kernel thread");
    return k.py_kthreads[id].get();
}

void bind_kthread(py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    cls.def("_kthread_run", [](std::shared_ptr<Kernel> k, py::object step, const std::string& name, int cpu) {
           if (k->running || k->stop.stopped)
               throw std::runtime_error("the kernel is stopped inside a function; call k.run() first");
           if (cpu >= k->cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
           auto body = std::make_shared<py_kthread_body>();
           body->step_fn = step;
           auto kt = std::make_unique<py_kthread>();
           kt->body = body;
           py_kthread* raw = kt.get();
           k->py_kthreads.push_back(std::move(kt));
           long r;
           {
               kernel_context ctx(k.get());
               r = py_kthread_run(k.get(), raw, name, cpu);
           }
           if (r < 0) {
               k->py_kthreads.pop_back();
               PyErr_SetObject(PyExc_OSError, py::make_tuple(-r, std::string(strerror(static_cast<int>(-r))) + ": kthread_run " + name).ptr());
               throw py::error_already_set();
           }
           return py::make_tuple(static_cast<long>(k->py_kthreads.size() - 1), TaskView{k, raw->task});
       })
        .def("_kthread_info", [](Kernel& k, long id) {
            py_kthread* kt = kthread_of(k, id);
            py::dict d;
            d["exited"] = kt->exited;
            d["exit_code"] = kt->exit_code;
            d["should_stop"] = kt->should_stop;
            d["oops"] = kt->oops.empty() ? py::object(py::none()) : py::object(py::str(kt->oops));
            d["ops"] = kt->ops;
            return d;
        })
        .def("_kthread_stop", [](Kernel& k, long id) {
            if (k.running || k.stop.stopped) throw std::runtime_error("the kernel is stopped inside a function; call k.run() first");
            py_kthread* kt = kthread_of(k, id);
            kernel_context ctx(&k);
            py_kthread_stop(&k, kt);
        });
}

}  // namespace gk
