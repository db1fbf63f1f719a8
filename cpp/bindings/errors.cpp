// The simulator's Python binding. The one errno and exception translator (see errors.h).
#include "bindings/errors.h"

#include <cstring>

#include "bindings/user_python.h"
#include "engine/errors.h"

namespace gk {

void raise_errno(int err, const std::string& what) { throw errno_error(err, what); }

py::object make_oserror(int err, const std::string& what) {
    std::string text = strerror(err);
    if (!what.empty()) text += ": " + what;
    PyObject* exc = PyObject_CallFunction(PyExc_OSError, "is", err, text.c_str());
    if (!exc) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(exc);
}

void register_errors(py::module_& m) {
    py::register_exception<replay_divergence>(m, "ReplayDivergence", PyExc_RuntimeError);
    py::register_exception<kernel_inconsistency>(m, "KernelInconsistency", PyExc_AssertionError);
    py::register_exception<kernel_panic>(m, "KernelPanic", PyExc_RuntimeError);
    // A panic for want of host memory is a KernelPanic and a MemoryError.
    py::object bases = py::make_tuple(m.attr("KernelPanic"), py::handle(PyExc_MemoryError));
    PyObject* oom = PyErr_NewException("glasskernel._core.KernelOutOfMemory", bases.ptr(), nullptr);
    if (!oom) throw py::error_already_set();
    m.attr("KernelOutOfMemory") = py::reinterpret_steal<py::object>(oom);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const kernel_oom_panic& e) {
            static PyObject* cls = py::module_::import("glasskernel._core").attr("KernelOutOfMemory").ptr();
            PyErr_SetString(cls, e.what());
        } catch (const errno_error& e) {
            py::object exc = make_oserror(e.err, e.msg);
            PyErr_SetObject(PyExc_OSError, exc.ptr());
        }
    });
}

}  // namespace gk
