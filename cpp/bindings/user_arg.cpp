// The simulator's Python binding. The Out / OutBuf / InOut / Buf markers (see user_arg.h).
#include "bindings/user_arg.h"

#include <string>

namespace gk {

static const char* const kind_names[] = {"Out", "OutBuf", "InOut", "Buf"};

static PyObject* make(unsigned char kind, long count, PyObject* value) {
    user_arg* a = PyObject_New(user_arg, user_arg_type);
    if (!a) return nullptr;
    a->kind = kind;
    a->count = count;
    Py_XINCREF(value);
    a->value = value;
    return reinterpret_cast<PyObject*>(a);
}

static void dealloc(PyObject* self) {
    Py_XDECREF(reinterpret_cast<user_arg*>(self)->value);
    PyTypeObject* type = Py_TYPE(self);
    PyObject_Free(self);
    Py_DECREF(type);  // instances of a heap type hold a reference to it
}

static PyObject* repr(PyObject* self) {
    auto* a = reinterpret_cast<user_arg*>(self);
    if (a->value) return PyUnicode_FromFormat("%s(%R)", kind_names[a->kind], a->value);
    if (a->count < 0) return PyUnicode_FromFormat("%s()", kind_names[a->kind]);
    return PyUnicode_FromFormat("%s(%ld)", kind_names[a->kind], a->count);
}

bool user_arg_equal(const user_arg* a, const user_arg* b, bool (*equal)(PyObject*, PyObject*)) {
    if (a->kind != b->kind || a->count != b->count) return false;
    if (a->value == b->value) return true;
    return a->value && b->value && equal(a->value, b->value);
}

static bool plain_equal(PyObject* x, PyObject* y) {
    int r = PyObject_RichCompareBool(x, y, Py_EQ);
    if (r < 0) PyErr_Clear();
    return r == 1;
}

static PyObject* richcompare(PyObject* self, PyObject* other, int op) {
    if ((op != Py_EQ && op != Py_NE) || !is_user_arg(other)) Py_RETURN_NOTIMPLEMENTED;
    bool eq = user_arg_equal(reinterpret_cast<user_arg*>(self), reinterpret_cast<user_arg*>(other), plain_equal);
    if (eq == (op == Py_EQ)) Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static Py_hash_t hash(PyObject* self) {
    auto* a = reinterpret_cast<user_arg*>(self);
    Py_hash_t h = a->kind * 1000003 + a->count;
    if (a->value) {
        Py_hash_t v = PyObject_Hash(a->value);
        if (v == -1) return -1;
        h ^= v;
    }
    return h == -1 ? -2 : h;
}

static PyObject* get_kind(PyObject* self, void*) { return PyUnicode_FromString(kind_names[reinterpret_cast<user_arg*>(self)->kind]); }
static PyObject* get_count(PyObject* self, void*) {
    long c = reinterpret_cast<user_arg*>(self)->count;
    if (c < 0) Py_RETURN_NONE;
    return PyLong_FromLong(c);
}
static PyObject* get_value(PyObject* self, void*) {
    PyObject* v = reinterpret_cast<user_arg*>(self)->value;
    if (!v) Py_RETURN_NONE;
    Py_INCREF(v);
    return v;
}

static PyGetSetDef getset[] = {
    {"kind", get_kind, nullptr, "Out, OutBuf, InOut or Buf", nullptr},
    {"count", get_count, nullptr, "how many elements (None: one value)", nullptr},
    {"value", get_value, nullptr, "what InOut or Buf passes", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyTypeObject* user_arg_type = nullptr;

static PyType_Slot slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(repr)},
    {Py_tp_hash, reinterpret_cast<void*>(hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(richcompare)},
    {Py_tp_getset, getset},
    {Py_tp_doc, const_cast<char*>("A system call argument that names user memory: Out(n), OutBuf(n), InOut(value) or Buf(data).")},
    {0, nullptr},
};

static PyType_Spec spec = {"glasskernel.UserArg", sizeof(user_arg), 0, Py_TPFLAGS_DEFAULT, slots};

// A count: a non-negative int that fits a long.
static bool get_count_arg(PyObject* o, long* out, const char* what) {
    if (!PyLong_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s takes an int, not %s", what, Py_TYPE(o)->tp_name);
        return false;
    }
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred()) return false;
    if (v < 0) {
        PyErr_Format(PyExc_ValueError, "%s must be >= 0", what);
        return false;
    }
    *out = v;
    return true;
}

static PyObject* Out(PyObject*, PyObject* const* args, Py_ssize_t n) {
    if (n > 1) return PyErr_Format(PyExc_TypeError, "Out() takes at most 1 argument (%zd given)", n);
    long count = -1;
    if (n == 1 && args[0] != Py_None && !get_count_arg(args[0], &count, "Out(n)")) return nullptr;
    return make(user_arg::OUT, count, nullptr);
}

static PyObject* OutBuf(PyObject*, PyObject* const* args, Py_ssize_t n) {
    if (n != 1) return PyErr_Format(PyExc_TypeError, "OutBuf() takes exactly 1 argument (%zd given)", n);
    long count;
    if (!get_count_arg(args[0], &count, "OutBuf(n)")) return nullptr;
    return make(user_arg::OUTBUF, count, nullptr);
}

static PyObject* InOut(PyObject*, PyObject* const* args, Py_ssize_t n) {
    if (n != 1) return PyErr_Format(PyExc_TypeError, "InOut() takes exactly 1 argument (%zd given)", n);
    return make(user_arg::INOUT, -1, args[0]);
}

static PyObject* Buf(PyObject*, PyObject* const* args, Py_ssize_t n) {
    if (n != 1) return PyErr_Format(PyExc_TypeError, "Buf() takes exactly 1 argument (%zd given)", n);
    PyObject* v = args[0];
    if (!PyBytes_Check(v) && !PyByteArray_Check(v) && !PyMemoryView_Check(v) && !PyUnicode_Check(v))
        return PyErr_Format(PyExc_TypeError, "Buf() takes bytes or str, not %s", Py_TYPE(v)->tp_name);
    return make(user_arg::BUF, -1, v);
}

static PyMethodDef methods[] = {
    {"Out", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Out)), METH_FASTCALL,
     "Out(n=None): room for what the kernel writes: one value of the argument's type, or n of them."},
    {"OutBuf", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(OutBuf)), METH_FASTCALL,
     "OutBuf(n): room for n elements, of which the call's return value says how many are valid (read, recv)."},
    {"InOut", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(InOut)), METH_FASTCALL,
     "InOut(value): a value the kernel reads and may rewrite (addrlen, optlen)."},
    {"Buf", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Buf)), METH_FASTCALL,
     "Buf(data): bytes (or a NUL-terminated str) placed in user memory and passed by address."},
    {nullptr, nullptr, 0, nullptr},
};

void bind_user_arg(pybind11::module_& m) {
    user_arg_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));  // kept for the life of the process
    if (!user_arg_type) throw pybind11::error_already_set();
    m.attr("UserArg") = pybind11::handle(reinterpret_cast<PyObject*>(user_arg_type));
    for (PyMethodDef* d = methods; d->ml_name; d++) {
        PyObject* f = PyCFunction_NewEx(d, nullptr, m.attr("__name__").ptr());
        if (!f) throw pybind11::error_already_set();
        m.attr(d->ml_name) = pybind11::reinterpret_steal<pybind11::object>(f);
    }
}

}  // namespace gk
