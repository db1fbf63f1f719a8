// The simulator's Python binding. Conversions between Python values and the uapi structures user memory holds, by type: what a
// program passes for a `struct timespec __user *` becomes 16 bytes in its memory, and what the
// kernel wrote to a `struct rusage __user *` comes back as resource.struct_rusage.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "glasskernel/syscalls.h"

namespace gk {
namespace py = pybind11;

class py_image;

// A bad value raises TypeError, ValueError or OverflowError (as Python's os functions do): the
// boundary throws it into the program at the call.
std::string uapi_from_python(const uapi_type* t, py::handle v, py_image* img, const char* what);
// `data` holds what user memory has at the address (n bytes, at least t->size).
py::object uapi_to_python(const uapi_type* t, const u8* data, size_t n, py_image* img);
// A Python int as a value of a C integer type of `size` bytes: OverflowError if no C caller
// could pass it (an unsigned type also takes the negative values C converts implicitly).
unsigned long scalar_from_python(py::handle v, unsigned size, bool is_signed, const char* what);

// The namedtuple types the boundary returns (created once, in _core).
py::object siginfo_type();
void init_uapi_types(py::module_& m);

}  // namespace gk
