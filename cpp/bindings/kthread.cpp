// The simulator's Python binding. Python kernel threads: the coroutine driver lives in python/glasskernel/kthread.py; this binds
// its step function as a kthread_body (engine/host_kthread.h) and exposes kthread_run /
// kthread_stop and the thread's state.
#include "bindings/views.h"
#include "engine/host_callback.h"

namespace gk {

// step(value) -> (opcode, arg); for an oops the arg is the traceback text.
struct py_kthread_body : kthread_body {
    py::object step_fn;
    kthread_op step(Kernel&, long value) override {
        kthread_op op;
        py::object r = step_fn(value);
        py::tuple t = r.cast<py::tuple>();
        op.op = t[0].cast<int>();
        if (op.op == KT_OOPS) op.oops = py::str(t[1]).cast<std::string>();
        else op.arg = t[1].cast<long>();
        return op;
    }
};

struct KThreadView {
    std::shared_ptr<Kernel> k;
    host_kthread* kt;
};

void bind_kthread(py::module_& m, py::class_<Kernel, std::shared_ptr<Kernel>>& cls) {
    // The opcodes a Python body's awaits name (engine/host_kthread.h).
#define OP(name) m.attr(#name) = static_cast<int>(name)
    OP(KT_EXIT); OP(KT_OOPS); OP(KT_DELAY); OP(KT_MSLEEP); OP(KT_MIGHT_SLEEP); OP(KT_COND_RESCHED); OP(KT_YIELD);
    OP(KT_PREEMPT_DISABLE); OP(KT_PREEMPT_ENABLE); OP(KT_IRQ_DISABLE); OP(KT_IRQ_ENABLE); OP(KT_IRQ_SAVE);
    OP(KT_IRQ_RESTORE); OP(KT_BH_DISABLE); OP(KT_BH_ENABLE); OP(KT_RAISE_SOFTIRQ); OP(KT_SHOULD_STOP); OP(KT_NR_OPS);
#undef OP
    py::class_<KThreadView>(m, "HostKThread", "A kernel thread whose body is a Python coroutine.")
        .def_property_readonly("exited", [](const KThreadView& v) { return v.kt->exited; })
        .def_property_readonly("exit_code", [](const KThreadView& v) { return v.kt->exit_code; })
        .def_property_readonly("should_stop", [](const KThreadView& v) {
            return v.kt->task && (v.kt->task->kthread_flags & KTHREAD_SHOULD_STOP);
        })
        .def_property_readonly("oops", [](const KThreadView& v) -> py::object {
            return v.kt->oops.empty() ? py::object(py::none()) : py::object(py::str(v.kt->oops));
        })
        .def_property_readonly("ops", [](const KThreadView& v) { return v.kt->ops; })
        .def_property_readonly("task", [](const KThreadView& v) { return TaskView{v.k, v.kt->task}; })
        .def("stop", [](const KThreadView& v) {
            refuse_while_running(*v.k, "kthread_stop()");
            kernel_context ctx(v.k.get());
            host_kthread_stop(v.kt);
        });
    cls.def("_kthread_run", [](std::shared_ptr<Kernel> k, py::object step, const std::string& name, int cpu) {
        refuse_while_running(*k, "kthread_run()");
        if (cpu >= k->cfg.cpus) throw py::value_error("no cpu " + std::to_string(cpu));
        auto body = std::make_shared<py_kthread_body>();
        body->step_fn = step;
        auto kt = std::make_unique<host_kthread>();
        kt->body = body;
        host_kthread* raw = kt.get();
        k->host->kthreads.push_back(std::move(kt));
        long r;
        {
            kernel_context ctx(k.get());
            r = host_kthread_run(k.get(), raw, name, cpu);
        }
        if (r < 0) {
            k->host->kthreads.pop_back();
            raise_errno(static_cast<int>(-r), "kthread_run " + name);
        }
        return KThreadView{k, raw};
    });
}

}  // namespace gk
