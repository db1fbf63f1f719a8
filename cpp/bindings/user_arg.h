// The simulator's Python binding. The markers a system call request carries in place of a value, for the arguments that name
// user memory (a plain CPython type: a program creates several per call, so they must be cheap):
//   Out(n=None)  room in user memory for what the kernel writes: one of the pointee type, or n;
//   OutBuf(n)    room for n, of which the call's return value says how many are valid;
//   InOut(value) a value the kernel reads and may rewrite (addrlen, optlen);
//   Buf(data)    bytes placed in user memory and passed by address, whatever the argument's type.
#pragma once
#include <Python.h>
#include <pybind11/pybind11.h>

namespace gk {

struct user_arg {
    PyObject_HEAD
    enum kind_t : unsigned char { OUT, OUTBUF, INOUT, BUF };
    unsigned char kind;
    long count;       // elements (OUT, OUTBUF); -1: one, returned as a value, not a list
    PyObject* value;  // INOUT, BUF (owned)
};

extern PyTypeObject* user_arg_type;
inline bool is_user_arg(PyObject* o) { return Py_TYPE(o) == user_arg_type; }
bool user_arg_equal(const user_arg* a, const user_arg* b, bool (*equal)(PyObject*, PyObject*));
void bind_user_arg(pybind11::module_& m);

}  // namespace gk
