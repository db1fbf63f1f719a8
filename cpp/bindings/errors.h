// The simulator's Python binding. One translation of errors to Python exceptions: an errno
// becomes OSError (as os.* calls raise it), the engine's exceptions (engine/errors.h) become
// glasskernel's own classes, registered once here.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

namespace gk {
namespace py = pybind11;

// An errno for Python: OSError(err, "<strerror>: <what>").
struct errno_error : std::exception {
    int err;
    std::string msg;
    errno_error(int e, std::string w) : err(e), msg(std::move(w)) {}
    const char* what() const noexcept override { return msg.c_str(); }
};

// Throws errno_error; err is the positive errno (a kernel return of -err).
[[noreturn]] void raise_errno(int err, const std::string& what);
// The OSError object itself, for callers that attach more (a system call's outputs).
py::object make_oserror(int err, const std::string& what);
void register_errors(py::module_& m);

}  // namespace gk
