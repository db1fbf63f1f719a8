// The simulator's Python binding. Python views of kernel objects. Each view holds shared references to the kernel and to the
// object it shows, so it never dangles: a reaped task stays readable and says it is reaped.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings/errors.h"
#include "glasskernel/linux.h"

namespace gk {
namespace py = pybind11;

struct KernelView;

struct TaskView {
    std::shared_ptr<Kernel> k;
    std::shared_ptr<task_struct> t;
};

struct WaitQueueView {
    std::shared_ptr<Kernel> k;
    std::shared_ptr<void> owner;  // keeps the structure that holds the queue alive
    wait_queue_head* wq;
};

struct SignalView {
    std::shared_ptr<Kernel> k;
    std::shared_ptr<signal_struct> sig;
};

py::object task_or_none(const std::shared_ptr<Kernel>& k, task_struct* t);
void bind_task(py::module_& m);
void bind_kernel(py::module_& m);
py::dict pt_regs_dict(const pt_regs& r);
preempt_model preempt_model_from_string(const std::string& s);

}  // namespace gk
