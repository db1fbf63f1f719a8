// The simulator's Python binding. Python views of kernel objects. Each view holds shared references to the kernel and to the
// object it shows, so it never dangles: a reaped task stays readable and says it is reaped.
#pragma once
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// A view's HTML for Jupyter: a table of its attributes, each shown by its own repr.
std::string view_html(py::handle self, const std::string& title, const std::vector<std::string>& fields);

// A view class whose read-only attributes are also its __repr__ and _repr_html_ rows: each view
// describes itself once, the notebook rendering and the text repr follow.
template <class T, class... Opts>
class view_class : public py::class_<T, Opts...> {
public:
    view_class(py::handle scope, const char* name, const char* doc)
        : py::class_<T, Opts...>(scope, name, doc), fields_(std::make_shared<std::vector<std::string>>()), title_(name) {
        auto fields = fields_;
        std::string title = title_;
        this->def("_repr_html_", [fields, title](py::object self) { return view_html(self, title, *fields); });
    }
    template <class Getter>
    view_class& field(const char* name, Getter&& g, const char* doc = "") {
        this->def_property_readonly(name, std::forward<Getter>(g), doc);
        fields_->push_back(name);
        return *this;
    }
    template <class C, class D>
    view_class& member(const char* name, D C::*pm, const char* doc = "") {
        this->def_readonly(name, pm, doc);
        fields_->push_back(name);
        return *this;
    }
    // __repr__ as <Title a=1 b=2> over the given fields (the identifying ones).
    view_class& repr(std::vector<std::string> keys) {
        std::string title = title_;
        this->def("__repr__", [title, keys](py::object self) {
            std::string out = "<" + title;
            for (auto& key : keys) out += " " + key + "=" + py::repr(self.attr(key.c_str())).cast<std::string>();
            return out + ">";
        });
        return *this;
    }

private:
    std::shared_ptr<std::vector<std::string>> fields_;
    std::string title_;
};

py::object event_object(const trace_event& e);
std::optional<TaskView> task_or_none(const std::shared_ptr<Kernel>& k, task_struct* t);
void bind_task(py::module_& m);
void bind_kernel(py::module_& m);
py::object pt_regs_object(const pt_regs& r);
py::object sched_entity_object(const std::shared_ptr<Kernel>& k, task_struct* t);
preempt_model preempt_model_from_string(const std::string& s);

}  // namespace gk
