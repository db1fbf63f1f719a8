// The simulator's Python binding. The user-mode driver for Python programs (engine, host side): drives a program's coroutine with
// PyIter_Send; turns each request it yields into registers and user memory by the system call's
// declared argument types, as a libc wrapper would; reads the out-arguments back by type; records
// every call in the process's log, and rebuilds a fork child's coroutine by replaying that log in
// a tight loop.
#include "bindings/user_python.h"

#include "bindings/errors.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "bindings/uapi_convert.h"
#include "glasskernel/asm/unistd_64.h"

namespace gk {

// ---- the markers a request can carry ----

static PyObject* compute_marker = nullptr; // COMPUTE: user-mode CPU time, not a system call
static PyObject* raw_marker = nullptr;     // RAW: syscall(2), registers as given

static py::object& sys_class() {
    static py::object* cls = new py::object();  // leaked on purpose: lives as long as Python
    return *cls;
}
void set_user_api(py::object c) { sys_class() = std::move(c); }

// Handlers are "addresses" in the program's text: one 16-byte slot per distinct function.
static constexpr unsigned long USER_TEXT = 0x401000;

py_image::py_image(std::shared_ptr<py_program> p, std::vector<std::string> a, std::vector<std::string> e)
    : prog(std::move(p)), argv(std::move(a)), envp(std::move(e)), log(std::make_shared<log_segment>()) {}

py_image::~py_image() {
    // Dropping a suspended coroutine would run its `finally` blocks; a process image that is
    // gone runs nothing, so errors raised by the close are discarded.
    if (!Py_IsInitialized()) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        if (!it->coro || finished) continue;
        PyObject* r = PyObject_CallMethod(it->coro.ptr(), "close", nullptr);
        if (!r) PyErr_Clear();
        Py_XDECREF(r);
    }
    PyErr_Restore(type, value, tb);
}

unsigned long py_image::handler_token(PyObject* fn) {
    for (size_t i = 0; i < handlers.size(); i++)
        if (handlers[i].ptr() == fn) return USER_TEXT + 16 * i;
    handlers.push_back(py::reinterpret_borrow<py::object>(fn));
    return USER_TEXT + 16 * (handlers.size() - 1);
}

py::object py_image::handler_object(unsigned long token) const {
    if (token < USER_TEXT || (token - USER_TEXT) % 16) return py::object();
    size_t i = (token - USER_TEXT) / 16;
    return i < handlers.size() ? handlers[i] : py::object();
}

size_t py_image::log_size() const {
    size_t n = log->entries.size();
    for (const log_segment* s = log.get(); s->prev; s = s->prev.get()) n += s->prev_len;
    return n;
}

// Called on a kernel fiber (copy_thread): only reference counts change, no Python code runs.
std::unique_ptr<user_image> py_image::dup_image() {
    auto child = std::make_unique<py_image>(prog, argv, envp);
    auto seg = std::make_shared<log_segment>();
    seg->prev = log;
    seg->prev_len = log->entries.size();
    child->log = std::move(seg);
    child->replay_pending = true;
    child->fork_req = stack.back().last_req;
    // The child's memory is a copy of ours, so the calls pending in each frame have their
    // arguments at the same addresses: the rebuilt frames take over where to read them.
    child->stack.reserve(stack.size());
    for (const user_frame& f : stack) {
        user_frame c;
        c.frame_id = f.frame_id;
        c.sp = f.sp;
        c.outs = f.outs;
        c.maps = f.maps;
        child->stack.push_back(std::move(c));
    }
    return child;
}

// ---- comparing and describing requests ----

static bool requests_equal(PyObject* a, PyObject* b) {
    if (a == b) return true;
    if (PyTuple_CheckExact(a) && PyTuple_CheckExact(b)) {
        Py_ssize_t n = PyTuple_GET_SIZE(a);
        if (n != PyTuple_GET_SIZE(b)) return false;
        for (Py_ssize_t i = 0; i < n; i++)
            if (!requests_equal(PyTuple_GET_ITEM(a, i), PyTuple_GET_ITEM(b, i))) return false;
        return true;
    }
    // A callable handed to the kernel (a signal handler) is a new object in the child's
    // replay; it is the same code.
    if (PyFunction_Check(a) && PyFunction_Check(b)) return PyFunction_GET_CODE(a) == PyFunction_GET_CODE(b);
    if (is_user_arg(a) && is_user_arg(b))
        return user_arg_equal(reinterpret_cast<user_arg*>(a), reinterpret_cast<user_arg*>(b), requests_equal);
    int r = PyObject_RichCompareBool(a, b, Py_EQ);
    if (r < 0) {
        PyErr_Clear();
        return false;
    }
    return r == 1;
}

static std::string describe(PyObject* req) {
    PyObject* r = PyObject_Repr(req);
    if (!r) {
        PyErr_Clear();
        return "<unprintable>";
    }
    std::string s = PyUnicode_AsUTF8(r);
    Py_DECREF(r);
    if (PyTuple_Check(req) && PyTuple_GET_SIZE(req) > 0) {
        PyObject* first = PyTuple_GET_ITEM(req, 0);
        if (first == compute_marker) return "compute" + s;
        if (PyLong_Check(first)) {
            const char* name = syscall_name(PyLong_AsLong(first));
            if (name) s = std::string(name) + s;
        }
    }
    return s;
}

// ---- arguments into registers and user memory ----

[[noreturn]] static void raise(PyObject* type, const std::string& msg) {
    PyErr_SetString(type, msg.c_str());
    throw py::error_already_set();
}

// Bigger arguments than this go to a mapping of their own, as malloc hands large blocks to mmap.
static constexpr unsigned long STACK_ARG_MAX = 64 * 1024;

struct marshal {
    task_struct* t;
    py_image* img;
    user_frame* frame;
    unsigned long cursor;  // arguments are placed below it, going down

    // Room for len bytes: on the stack below the frame, or a mapping of its own.
    unsigned long room(unsigned long len) {
        mm_struct* mm = t->mm.get();
        if (len > STACK_ARG_MAX) {
            long addr = get_unmapped_area(mm, len);
            unsigned long size = (len + PAGE_SIZE - 1) & PAGE_MASK;
            if (addr < 0 || insert_vm_struct(mm, static_cast<unsigned long>(addr), static_cast<unsigned long>(addr) + size, VM_READ | VM_WRITE))
                raise(PyExc_MemoryError, "no room in the address space for a " + std::to_string(len) + "-byte argument");
            frame->maps.emplace_back(static_cast<unsigned long>(addr), static_cast<unsigned long>(addr) + size);
            return static_cast<unsigned long>(addr);
        }
        vm_area_struct* stack = find_vma(mm, cursor - 1);
        unsigned long addr = (cursor - len) & ~15UL;
        if (!stack || addr < stack->vm_start + PAGE_SIZE)
            raise(PyExc_MemoryError, "the arguments of this call do not fit on the user stack");
        cursor = addr;
        return addr;
    }

    unsigned long put(const void* data, unsigned long len) {
        unsigned long addr = room(len ? len : 1);
        if (len && access_user_memory(t->mm.get(), addr, const_cast<void*>(data), len, true))
            raise(PyExc_MemoryError, "user memory refused an argument");
        return addr;
    }

    unsigned long put_string(py::handle v) {
        if (PyUnicode_Check(v.ptr())) {
            Py_ssize_t n;
            const char* s = PyUnicode_AsUTF8AndSize(v.ptr(), &n);
            if (!s) throw py::error_already_set();
            std::string z(s, static_cast<size_t>(n));
            z.push_back('\0');
            return put(z.data(), z.size());
        }
        char* buf;
        Py_ssize_t n;
        if (PyBytes_AsStringAndSize(v.ptr(), &buf, &n) < 0) throw py::error_already_set();
        std::string z(buf, static_cast<size_t>(n));
        z.push_back('\0');
        return put(z.data(), z.size());
    }

    // const char *const *: the strings, then the NULL-terminated array of their addresses.
    unsigned long put_string_array(py::handle v, const char* what) {
        if (!PyList_Check(v.ptr()) && !PyTuple_Check(v.ptr())) raise(PyExc_TypeError, std::string(what) + " must be a list of str");
        py::sequence seq = py::reinterpret_borrow<py::sequence>(v);
        std::vector<unsigned long> ptrs;
        for (py::handle item : seq) {
            if (!PyUnicode_Check(item.ptr()) && !PyBytes_Check(item.ptr()))
                raise(PyExc_TypeError, std::string(what) + " entries must be str or bytes");
            ptrs.push_back(put_string(item));
        }
        ptrs.push_back(0);
        return put(ptrs.data(), ptrs.size() * sizeof(unsigned long));
    }

    // A buffer-like value (bytes, bytearray, memoryview): a view of its bytes, no copy.
    struct buffer {
        const void* p = nullptr;
        size_t n = 0;
        Py_buffer view{};
        bool held = false;
        ~buffer() {
            if (held) PyBuffer_Release(&view);
        }
    };
    static bool as_buffer(py::handle v, buffer* out) {
        if (PyBytes_Check(v.ptr())) {
            out->p = PyBytes_AS_STRING(v.ptr());
            out->n = static_cast<size_t>(PyBytes_GET_SIZE(v.ptr()));
            return true;
        }
        if (PyByteArray_Check(v.ptr()) || PyMemoryView_Check(v.ptr())) {
            if (PyObject_GetBuffer(v.ptr(), &out->view, PyBUF_SIMPLE) < 0) throw py::error_already_set();
            out->held = true;
            out->p = out->view.buf;
            out->n = static_cast<size_t>(out->view.len);
            return true;
        }
        return false;
    }

    // A user_msghdr and everything it points to: (name, iov, control) where name is None, an
    // address (sendmsg) or an int room (recvmsg), and iov a list of bytes (sendmsg) or of room
    // sizes (recvmsg).
    unsigned long put_msghdr(py::handle v) {
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 3)
            raise(PyExc_TypeError, "a msghdr is a (name, iov, control) triple");
        py::handle name = PyTuple_GET_ITEM(v.ptr(), 0), iov = PyTuple_GET_ITEM(v.ptr(), 1);
        user_msghdr h{};
        if (PyLong_Check(name.ptr())) {
            h.msg_namelen = static_cast<int>(scalar_from_python(name, 4, true, "msg_namelen"));
            h.msg_name = reinterpret_cast<void __user*>(room(static_cast<unsigned long>(std::max(h.msg_namelen, 1))));
        } else if (!name.is_none()) {
            std::string a = uapi_from_python(&uapi_desc<struct sockaddr>::value, name, img, "msg_name");
            h.msg_name = reinterpret_cast<void __user*>(put(a.data(), a.size()));
            h.msg_namelen = static_cast<int>(a.size());
        }
        if (!PyList_Check(iov.ptr())) raise(PyExc_TypeError, "msg_iov must be a list of buffers (or of sizes to receive into)");
        std::vector<iovec> vec;
        for (py::handle b : py::reinterpret_borrow<py::list>(iov)) {
            buffer data;
            if (as_buffer(b, &data)) {
                vec.push_back(iovec{reinterpret_cast<void __user*>(put(data.p, data.n)), data.n});
            } else {
                unsigned long n = scalar_from_python(b, 8, false, "an iovec size");
                vec.push_back(iovec{reinterpret_cast<void __user*>(room(n ? n : 1)), n});
            }
        }
        h.msg_iovlen = vec.size();
        if (!vec.empty()) h.msg_iov = reinterpret_cast<iovec __user*>(put(vec.data(), vec.size() * sizeof(iovec)));
        return put(&h, sizeof h);
    }

    // One argument: its register value.
    unsigned long arg(const uapi_type* type, const char* name, py::handle v) {
        if (v.is_none()) return 0;
        if (is_user_arg(v.ptr())) return marker(type, name, reinterpret_cast<user_arg*>(v.ptr()));
        bool pointer = !type || type->kind == uapi_kind::POINTER;
        const uapi_type* to = type ? type->pointee : nullptr;
        // An int for a pointer to bytes (or any argument of syscall()) is an address, as a C
        // caller may pass any; for a pointer to a value (a timespec, a sigset) it is that value.
        bool address = !to || to->kind == uapi_kind::CHAR || to->kind == uapi_kind::VOID;
        if ((PyLong_Check(v.ptr()) && (!pointer || address)) || (!pointer && !PyUnicode_Check(v.ptr()) && !PyBytes_Check(v.ptr()))) {
            if (pointer) return scalar_from_python(v, 8, false, name);
            return scalar_from_python(v, type->size, type->is_signed, name);
        }
        if (!pointer) raise(PyExc_TypeError, std::string(name) + " must be an int, not " + Py_TYPE(v.ptr())->tp_name);
        buffer data;
        if (as_buffer(v, &data)) return put(data.p, data.n);
        if (PyUnicode_Check(v.ptr())) {
            if (to && to->kind != uapi_kind::CHAR) raise(PyExc_TypeError, std::string(name) + " does not take a str");
            return put_string(v);
        }
        if (!to) raise(PyExc_TypeError, std::string(name) + ": syscall() takes ints, bytes, str or None");
        if (to->kind == uapi_kind::POINTER && to->pointee && to->pointee->kind == uapi_kind::CHAR) return put_string_array(v, name);
        if (to->kind == uapi_kind::USER_MSGHDR) return put_msghdr(v);
        std::string bytes = uapi_from_python(to, v, img, name);
        return put(bytes.data(), bytes.size());
    }

    // Kinds whose InOut value may be a list of elements (a list is not already one value of them).
    static bool is_array_kind(uapi_kind k) { return k == uapi_kind::POLLFD || k == uapi_kind::EPOLL_EVENT || k == uapi_kind::SCALAR; }

    unsigned long marker(const uapi_type* type, const char* name, user_arg* a) {
        const uapi_type* to = type && type->kind == uapi_kind::POINTER ? type->pointee : nullptr;
        if (a->kind == user_arg::BUF) {
            buffer data;
            if (!as_buffer(a->value, &data)) return put_string(a->value);
            return put(data.p, data.n);
        }
        if (!to) to = &uapi_desc<char>::value;  // an untyped argument: room for bytes
        out_slot s;
        s.type = to;
        s.count = a->count;
        s.trunc = a->kind == user_arg::OUTBUF;
        unsigned long elem = to->kind == uapi_kind::VOID ? 1 : to->size;
        if (a->kind == user_arg::INOUT) {
            s.in_value = py::reinterpret_borrow<py::object>(a->value);
            if (to->kind == uapi_kind::USER_MSGHDR) {
                s.addr = put_msghdr(a->value);
            } else if (PyList_Check(a->value) && is_array_kind(to->kind)) {
                // An array the kernel reads and rewrites (poll's struct pollfd[]): one element
                // per item, read back as a list.
                std::string bytes;
                for (py::handle item : py::reinterpret_borrow<py::list>(a->value)) bytes += uapi_from_python(to, item, img, name);
                s.addr = put(bytes.data(), bytes.size());
                s.count = PyList_GET_SIZE(a->value);
            } else {
                buffer data;
                std::string bytes;
                if (as_buffer(a->value, &data)) {
                    s.addr = put(data.p, data.n);
                } else {
                    bytes = uapi_from_python(to, a->value, img, name);
                    s.addr = put(bytes.data(), bytes.size());
                    data.n = bytes.size();
                }
                if (to->kind == uapi_kind::CHAR || to->kind == uapi_kind::VOID) s.count = static_cast<long>(data.n);
            }
        } else {
            unsigned long n = a->count < 0 ? 1 : static_cast<unsigned long>(a->count);
            if (n && elem > ~0UL / n) raise(PyExc_OverflowError, std::string(name) + ": too large a buffer");
            s.addr = room(n * elem != 0 ? n * elem : 1);
        }
        frame->outs.push_back(std::move(s));
        return frame->outs.back().addr;
    }
};

// "wait4() argument 'upid'" for error messages, made once per system call, not per call made.
static const char* const* argument_names(long nr) {
    static std::vector<std::array<std::string, 6>> texts;
    static std::vector<std::array<const char*, 6>> ptrs;
    if (texts.empty()) {
        long n = syscall_table_size();
        texts.resize(static_cast<size_t>(n) + 1);
        ptrs.resize(static_cast<size_t>(n) + 1);
        for (long i = 0; i <= n; i++) {
            const syscall_table_entry* e = i < n ? syscall_entry(i) : nullptr;
            for (int k = 0; k < 6; k++) {
                std::string& s = texts[static_cast<size_t>(i)][k];
                if (e && e->meta && k < e->meta->nb_args)
                    s = std::string(e->name) + "() argument '" + e->meta->args[k] + "'";
                else
                    s = "argument " + std::to_string(k + 1);
                ptrs[static_cast<size_t>(i)][k] = s.c_str();
            }
        }
    }
    size_t idx = nr < 0 || nr >= syscall_table_size() ? texts.size() - 1 : static_cast<size_t>(nr);
    return ptrs[idx].data();
}

// The request a program yielded, as the registers of a `syscall` instruction; a bad argument
// raises into the program (TypeError, OverflowError, ...), as the libc wrapper would.
static void marshal_request(py_image* img, task_struct* t, user_frame* frame, PyObject* req, syscall_regs* regs) {
    frame->outs.clear();
    if (!PyTuple_CheckExact(req) || PyTuple_GET_SIZE(req) < 1)
        raise(PyExc_TypeError, "a program may only await glasskernel system calls (sys.getpid(), sys.fork(), ...); it awaited something that yielded " + describe(req));
    PyObject* first = PyTuple_GET_ITEM(req, 0);
    Py_ssize_t n = PyTuple_GET_SIZE(req);
    Py_ssize_t base = 1;
    bool raw = first == raw_marker;
    if (raw) {
        if (n < 2) raise(PyExc_TypeError, "syscall() takes the system call number first");
        first = PyTuple_GET_ITEM(req, 1);
        base = 2;
    }
    if (!PyLong_Check(first)) raise(PyExc_TypeError, "a system call number must be an int, like NR.getpid");
    int overflow = 0;
    long nr = PyLong_AsLongAndOverflow(first, &overflow);
    if (overflow) raise(PyExc_OverflowError, "a system call number must fit a long");
    if (n - base > 6) raise(PyExc_TypeError, "a system call takes at most 6 arguments");
    const syscall_table_entry* e = syscall_entry(nr);
    const syscall_metadata* meta = e && !raw ? e->meta : nullptr;
    if (meta && n - base > meta->nb_args)
        raise(PyExc_TypeError, std::string(e->name) + "() takes " + std::to_string(meta->nb_args) + " arguments (" +
                                   std::to_string(n - base) + " given)");
    marshal m{t, img, frame, frame->sp};
    regs->nr = nr;
    unsigned long args[6] = {0, 0, 0, 0, 0, 0};
    const char* const* names = argument_names(meta ? nr : -1);
    for (Py_ssize_t i = base; i < n; i++) {
        int k = static_cast<int>(i - base);
        const uapi_type* type = meta ? meta->utypes[k] : nullptr;
        args[k] = m.arg(type, names[k], PyTuple_GET_ITEM(req, i));
    }
    regs->set_args(args);
    regs->sp = m.cursor & ~15UL;
}

// During replay the requests are not carried out, but the handlers they name must get the same
// addresses in the child's image as they had in the parent's, in the same order.
static void rebind_handlers(py_image* img, PyObject* o) {
    if (PyTuple_Check(o)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o); i++) rebind_handlers(img, PyTuple_GET_ITEM(o, i));
    } else if (is_user_arg(o)) {
        auto* a = reinterpret_cast<user_arg*>(o);
        if (a->value) rebind_handlers(img, a->value);
    } else if (PyFunction_Check(o) || (PyCallable_Check(o) && !PyType_Check(o) && !PyLong_Check(o))) {
        img->handler_token(o);
    }
}

static log_entry call_entry(py::object req, py::object result, int err) {
    log_entry e;
    e.req = std::move(req);
    e.result = std::move(result);
    e.err = err;
    return e;
}

// ---- results back into Python values ----

static std::string read_user(task_struct* t, unsigned long addr, unsigned long n) {
    std::string buf(n, '\0');
    access_user_memory(t->mm.get(), addr, buf.data(), n, false);
    return buf;
}

// user_msghdr after recvmsg: (the sender's address, the received bytes per buffer, msg_flags).
static py::object read_msghdr(task_struct* t, const out_slot& s, long ret, py_image* img) {
    std::string raw = read_user(t, s.addr, sizeof(user_msghdr));
    user_msghdr h;
    memcpy(&h, raw.data(), sizeof h);
    py::object name = py::none();
    if (h.msg_name && h.msg_namelen > 0) {
        std::string a = read_user(t, reinterpret_cast<unsigned long>(h.msg_name), static_cast<unsigned long>(std::min(h.msg_namelen, 128)));
        name = uapi_to_python(&uapi_desc<struct sockaddr>::value, reinterpret_cast<const u8*>(a.data()), a.size(), img);
    }
    py::list bufs;
    unsigned long left = ret > 0 ? static_cast<unsigned long>(ret) : 0;
    if (h.msg_iovlen) {
        std::string v = read_user(t, reinterpret_cast<unsigned long>(h.msg_iov), h.msg_iovlen * sizeof(iovec));
        for (size_t i = 0; i < h.msg_iovlen; i++) {
            iovec io;
            memcpy(&io, v.data() + i * sizeof(iovec), sizeof io);
            unsigned long n = std::min<unsigned long>(left, io.iov_len);
            bufs.append(py::bytes(read_user(t, reinterpret_cast<unsigned long>(io.iov_base), n)));
            left -= n;
        }
    }
    return py::make_tuple(name, bufs, h.msg_flags);
}

static py::object read_out(task_struct* t, const out_slot& s, long ret, py_image* img) {
    const uapi_type* to = s.type;
    if (to->kind == uapi_kind::USER_MSGHDR) return read_msghdr(t, s, ret, img);
    unsigned long elem = to->kind == uapi_kind::VOID ? 1 : to->size;
    bool bytes = to->kind == uapi_kind::CHAR || to->kind == uapi_kind::VOID;
    long count = s.count < 0 ? 1 : s.count;
    if (s.trunc) count = std::max(0L, std::min(count, ret));
    unsigned long n = static_cast<unsigned long>(count) * elem;
    if (bytes) {
        // Straight from user memory into the bytes object the program gets.
        PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
        if (!b) throw py::error_already_set();
        access_user_memory(t->mm.get(), s.addr, PyBytes_AS_STRING(b), n, false);
        return py::reinterpret_steal<py::object>(b);
    }
    std::string data = read_user(t, s.addr, n);
    const u8* p = reinterpret_cast<const u8*>(data.data());
    if (s.count < 0) return uapi_to_python(to, p, data.size(), img);
    py::list items;
    for (long i = 0; i < count; i++) items.append(uapi_to_python(to, p + i * elem, elem, img));
    return items;
}

// The OSError a failed call raises (InterruptedError, ChildProcessError, ... by errno), with the
// out-arguments attached when there are any (nanosleep's time left).
static py::object syscall_oserror(int err, py::handle outs) {
    py::object exc = make_oserror(err, "");
    if (outs && !outs.is_none()) PyObject_SetAttrString(exc.ptr(), "outs", outs.ptr());
    return exc;
}

// ---- driving the coroutines ----

// Resume the coroutine with a value, or throw an exception into it; like PyIter_Send, returns
// PYGEN_NEXT (a yielded request in *result), PYGEN_RETURN (its return value) or PYGEN_ERROR.
static int send_or_throw(PyObject* coro, PyObject* value, PyObject* exc, PyObject** result) {
    if (!exc) return PyIter_Send(coro, value, result);
    *result = PyObject_CallMethod(coro, "throw", "O", exc);
    if (*result) return PYGEN_NEXT;
    if (!PyErr_ExceptionMatches(PyExc_StopIteration)) return PYGEN_ERROR;
    PyObject *type, *val, *tb;
    PyErr_Fetch(&type, &val, &tb);
    PyErr_NormalizeException(&type, &val, &tb);
    *result = val ? PyObject_GetAttrString(val, "value") : nullptr;
    if (!*result) {
        PyErr_Clear();
        Py_INCREF(Py_None);
        *result = Py_None;
    }
    Py_XDECREF(type);
    Py_XDECREF(val);
    Py_XDECREF(tb);
    return PYGEN_RETURN;
}

// A fresh coroutine of the program, main(sys, *argv): the whole argv, argv[0] included, as C's
// main and Python's sys.argv have it.
bool py_image::make_coroutine(py::object* out, std::string* why) {
    py::object coro;
    try {
        sys = sys_class()(argv, envp);
        py::tuple a(prog->takes_argv ? argv.size() + 1 : 1);
        a[0] = sys;
        for (size_t i = 0; prog->takes_argv && i < argv.size(); i++) a[i + 1] = py::str(argv[i]);
        coro = prog->fn(*a);
    } catch (py::error_already_set& e) {
        *why = std::string("could not start ") + prog->path + ": " + e.what();
        return false;
    }
    if (!PyCoro_CheckExact(coro.ptr()) && !PyGen_Check(coro.ptr())) {
        *why = prog->path + ": main must be an `async def` function";
        return false;
    }
    *out = std::move(coro);
    return true;
}

static py::tuple& sigreturn_req() {
    static py::tuple* t = new py::tuple(py::make_tuple(__NR_rt_sigreturn));
    return *t;
}

static py::object siginfo_object(const kernel_siginfo& i) {
    return siginfo_type()(i.si_signo, i.si_code, i.si_pid, i.si_uid, i.si_status, i.si_value);
}

// setup_rt_frame built a frame for a handler: start the handler's coroutine on top of the stack,
// handler(sys, signo), or handler(sys, signo, info) with SA_SIGINFO.
bool py_image::push_handler(task_struct*, const rt_sigframe& f, std::string* why) {
    py::object fn = handler_object(static_cast<unsigned long>(f.handler));
    if (!fn) {
        *why = "signal " + std::to_string(f.sig) + " has a handler address this program never installed";
        return false;
    }
    py::object info = (f.flags & SA_SIGINFO) ? siginfo_object(f.info) : py::none();
    py::object coro;
    try {
        coro = (f.flags & SA_SIGINFO) ? fn(sys, f.sig, info) : fn(sys, f.sig);
    } catch (py::error_already_set& e) {
        *why = std::string("the handler of signal ") + std::to_string(f.sig) + " could not start: " + e.what();
        return false;
    }
    if (!PyCoro_CheckExact(coro.ptr()) && !PyGen_Check(coro.ptr())) {
        *why = "a signal handler must be an `async def handler(sys, signo)` function";
        return false;
    }
    log_entry e;
    e.deliver = true;
    e.token = f.handler;
    e.signo = f.sig;
    e.info = info;
    e.frame_id = f.id;
    log->entries.push_back(std::move(e));
    user_frame uf;
    uf.coro = coro;
    uf.frame_id = f.id;
    uf.sp = f.sp;
    stack.push_back(std::move(uf));
    return true;
}

user_step py_image::crash(const std::string& why, bool kill) {
    crash_report = why;
    finished = true;
    if (kill && why.rfind("fork replay", 0) == 0 && this_kernel && !this_kernel->host_error) {
        // The child dies (SIGKILL) and run() raises, so the divergence cannot go unnoticed.
        this_kernel->host_error = std::make_exception_ptr(replay_divergence(prog->path + ": " + why));
    }
    return user_step{kill ? user_exit::KILLED : user_exit::CRASH, 0};
}

// Resume the top coroutine (with a value, an errno, or a Python exception) and see what it did.
user_step py_image::resume(task_struct* t, PyObject* value, int err, PyObject* exc, syscall_regs* regs) {
    py::object e;
    if (err > 0) {
        e = syscall_oserror(err, value);
        exc = e.ptr();
    }
    PyObject* result = nullptr;
    int status = send_or_throw(stack.back().coro.ptr(), value, exc, &result);
    return outcome(t, status, result, regs);
}

// What the coroutine did after a send/throw: made a call, returned, or raised.
user_step py_image::outcome(task_struct* t, int status, PyObject* result, syscall_regs* regs) {
    for (;;) {
        if (status == PYGEN_NEXT) {
            py::object req = py::reinterpret_steal<py::object>(result);
            user_frame& top = stack.back();
            top.last_req = req;
            PyObject* r0 = PyTuple_Check(req.ptr()) && PyTuple_GET_SIZE(req.ptr()) == 2 ? PyTuple_GET_ITEM(req.ptr(), 0) : nullptr;
            try {
                if (r0 == compute_marker) {
                    long long ns = PyLong_Check(PyTuple_GET_ITEM(req.ptr(), 1)) ? PyLong_AsLongLong(PyTuple_GET_ITEM(req.ptr(), 1)) : -1;
                    if (ns < 0 || PyErr_Occurred()) {
                        PyErr_Clear();
                        raise(PyExc_ValueError, "compute() takes a number of nanoseconds from 0 to 2**63-1");
                    }
                    top.outs.clear();
                    regs->nr = -1;
                    return user_step{user_exit::COMPUTE, static_cast<u64>(ns)};
                }
                marshal_request(this, t, &top, req.ptr(), regs);
                return user_step{user_exit::SYSCALL, 0};
            } catch (py::error_already_set& err) {
                // Raised in the program where it made the call; recorded so that a fork
                // child's replay raises it at the same point.
                py::object exc = err.value();
                for (auto& [start, end] : top.maps) do_munmap(t->mm.get(), start, end - start);
                top.maps.clear();
                top.outs.clear();
                log->entries.push_back(call_entry(req, exc, PYEXC));
                result = nullptr;
                status = send_or_throw(top.coro.ptr(), nullptr, exc.ptr(), &result);
                continue;
            }
        }
        break;
    }
    if (status == PYGEN_RETURN && stack.size() > 1) {
        // A handler returned: like the restorer trampoline, make rt_sigreturn.
        Py_XDECREF(result);
        stack.back().last_req = sigreturn_req();
        stack.back().outs.clear();
        regs->nr = __NR_rt_sigreturn;
        regs->set_args({0, 0, 0, 0, 0, 0});
        regs->sp = stack.back().sp;
        return user_step{user_exit::SYSCALL, 0};
    }
    long code = 0;
    if (status == PYGEN_RETURN) {
        // Returning from main is exit(): libc calls exit_group with main's value.
        py::object v = py::reinterpret_steal<py::object>(result);
        if (v.is_none()) code = 0;
        else if (PyLong_Check(v.ptr())) code = static_cast<long>(PyLong_AsUnsignedLongLongMask(v.ptr()) & 0xff);
        else code = 1;
    } else if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject* c = value ? PyObject_GetAttrString(value, "code") : nullptr;
        if (!c) PyErr_Clear();
        code = (!c || c == Py_None) ? 0 : (PyLong_Check(c) ? static_cast<long>(PyLong_AsUnsignedLongLongMask(c) & 0xff) : 1);
        Py_XDECREF(c);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
    } else if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        // KeyboardInterrupt and friends belong to the person at the keyboard: the process
        // is killed and the exception is raised from run() once the kernel is consistent.
        py::error_already_set e;
        if (this_kernel && !this_kernel->host_error) this_kernel->host_error = std::make_exception_ptr(e);
        return crash("killed: " + std::string(e.what()), true);
    } else {
        py::error_already_set e;
        std::string tb;
        try {
            py::object fmt = py::module_::import("traceback").attr("format_exception");
            py::list lines = fmt(e.type(), e.value(), e.trace());
            for (auto l : lines) tb += l.cast<std::string>();
        } catch (py::error_already_set&) {
            tb = e.what();
        }
        return crash(tb, false);
    }
    finished = true;
    regs->nr = __NR_exit_group;
    regs->set_args({static_cast<unsigned long>(code), 0, 0, 0, 0, 0});
    stack.back().last_req = py::make_tuple(__NR_exit_group, code);
    stack.back().outs.clear();
    return user_step{user_exit::SYSCALL, 0};
}

static std::string diverged(size_t index, PyObject* want, const std::string& got) {
    return "fork replay diverged at system call #" + std::to_string(index) + ": the parent made " + describe(want) +
           " but the child's program made " + got +
           ". A program must make the same calls given the same results (take time and randomness from syscalls).";
}

// Rebuild a fork child's user state: run a fresh coroutine of the same program, answering each
// call from the parent's log without entering the kernel, re-entering the same signal handlers
// at the same points, until it reaches the fork.
user_step py_image::replay(task_struct* t, syscall_regs* regs) {
    replay_pending = false;
    std::vector<user_frame> inherited;  // the parent's frames at the fork: where pending calls keep their arguments
    inherited.swap(stack);
    std::vector<std::pair<const log_segment*, size_t>> chain;  // segments, oldest first
    for (const log_segment* s = log->prev.get(), *child = log.get(); s; child = s, s = s->prev.get())
        chain.emplace_back(s, child->prev_len);
    std::reverse(chain.begin(), chain.end());
    std::string why;
    user_frame main;
    if (!make_coroutine(&main.coro, &why)) return crash("fork replay: " + why, true);
    main.sp = inherited.empty() ? t->mm->start_stack : inherited[0].sp;
    stack.push_back(std::move(main));
    // Drive the top coroutine to its next request (stored in last_req).
    auto next_request = [&](PyObject* value, PyObject* exc, bool start, std::string* what) -> bool {
        user_frame& top = stack.back();
        PyObject* result = nullptr;
        int status = start ? PyIter_Send(top.coro.ptr(), Py_None, &result) : send_or_throw(top.coro.ptr(), value, exc, &result);
        top.started = true;
        if (status == PYGEN_NEXT) {
            top.last_req = py::reinterpret_steal<py::object>(result);
            // Only sigaction hands the kernel a handler.
            PyObject* r = top.last_req.ptr();
            if (PyTuple_Check(r) && PyTuple_GET_SIZE(r) > 2 && PyLong_Check(PyTuple_GET_ITEM(r, 0)) &&
                PyLong_AsLong(PyTuple_GET_ITEM(r, 0)) == __NR_rt_sigaction)
                rebind_handlers(this, r);
            return true;
        }
        Py_XDECREF(result);
        PyErr_Clear();
        if (status == PYGEN_RETURN && stack.size() > 1) {
            top.last_req = sigreturn_req();
            return true;
        }
        *what = "nothing (it ended)";
        return false;
    };
    size_t index = 0;
    for (auto& [seg, len] : chain) {
        for (size_t i = 0; i < len; i++) {
            const log_entry& e = seg->entries[i];
            if (e.deliver) {
                py::object fn = handler_object(static_cast<unsigned long>(e.token));
                if (!fn) return crash("fork replay diverged: the child has no handler for signal " + std::to_string(e.signo), true);
                py::object coro;
                try {
                    coro = e.info.is_none() ? fn(sys, e.signo) : fn(sys, e.signo, e.info);
                } catch (py::error_already_set& err) {
                    return crash(std::string("fork replay: a handler could not start: ") + err.what(), true);
                }
                user_frame f;
                f.coro = coro;
                f.frame_id = e.frame_id;
                stack.push_back(std::move(f));
                continue;
            }
            index++;
            user_frame& top = stack.back();
            std::string what;
            if (!top.started && !next_request(nullptr, nullptr, true, &what)) return crash(diverged(index, e.req.ptr(), what), true);
            if (!requests_equal(stack.back().last_req.ptr(), e.req.ptr()))
                return crash(diverged(index, e.req.ptr(), describe(stack.back().last_req.ptr())), true);
            if (requests_equal(e.req.ptr(), sigreturn_req().ptr()) && stack.size() > 1) {
                stack.pop_back();
                continue;
            }
            // The request obtained here is compared with the next entry, or with the fork.
            py::object exc;
            if (e.err == PYEXC) exc = e.result;
            else if (e.err > 0) exc = syscall_oserror(e.err, e.result);
            bool ok = next_request(e.err ? nullptr : e.result.ptr(), exc ? exc.ptr() : nullptr, false, &what);
            if (!ok) return crash(diverged(index + 1, e.req.ptr(), what), true);
        }
    }
    // The next request must be the fork itself; from there the child runs for real.
    user_frame& top = stack.back();
    std::string what;
    if (!top.started && !next_request(nullptr, nullptr, true, &what)) return crash(diverged(index + 1, fork_req.ptr(), what), true);
    if (!requests_equal(stack.back().last_req.ptr(), fork_req.ptr()))
        return crash(diverged(index + 1, fork_req.ptr(), describe(stack.back().last_req.ptr())), true);
    if (stack.size() != inherited.size()) return crash("fork replay rebuilt " + std::to_string(stack.size()) + " frames where the parent had " + std::to_string(inherited.size()), true);
    for (size_t i = 0; i < stack.size(); i++) {
        stack[i].sp = inherited[i].sp;
        stack[i].outs = std::move(inherited[i].outs);
        stack[i].maps = std::move(inherited[i].maps);
    }
    stack.back().last_req = fork_req;
    fork_req = py::object();
    return answer(t, regs);
}

user_step py_image::run_user(task_struct* t, syscall_regs* regs) {
    if (finished) return crash("the program has already ended", true);
    if (replay_pending) return replay(t, regs);
    std::string why;
    if (stack.empty()) {
        user_frame f;
        if (!make_coroutine(&f.coro, &why)) return crash(why, false);
        f.sp = t->mm->start_stack;
        stack.push_back(std::move(f));
        stack.back().started = true;
        PyObject* result = nullptr;
        int status = PyIter_Send(stack.back().coro.ptr(), Py_None, &result);
        return outcome(t, status, result, regs);
    }
    const std::vector<rt_sigframe>& frames = t->thread.sigframes;
    // The common case: no signal frames, main is running, and its call has returned.
    if (stack.size() == 1 && frames.empty() && stack.back().started) return answer(t, regs);
    if (stack.size() > 1 && stack.back().last_req.ptr() == sigreturn_req().ptr()) {
        size_t depth = stack.size() - 1;
        bool still_there = frames.size() >= depth && frames[depth - 1].id == stack.back().frame_id;
        if (!still_there) {
            // rt_sigreturn completed: the handler's frame is gone.
            log->entries.push_back(call_entry(sigreturn_req(), py::int_(t->thread.ax), 0));
            stack.pop_back();
        }
    }
    if (stack.size() - 1 > frames.size()) return crash("the user stack lost a signal frame", true);
    bool pushed = false;
    for (size_t i = stack.size() - 1; i < frames.size(); i++) {
        if (!push_handler(t, frames[i], &why)) return crash(why, false);
        pushed = true;
    }
    if (pushed || !stack.back().started) {
        stack.back().started = true;
        PyObject* result = nullptr;
        int status = PyIter_Send(stack.back().coro.ptr(), Py_None, &result);
        return outcome(t, status, result, regs);
    }
    // After a sigreturn the answer is the interrupted call's restored result.
    return answer(t, regs);
}

// Give the top coroutine the kernel's answer to the call it is blocked on: the return value,
// with the out-arguments read back from user memory by type; or OSError for -errno.
user_step py_image::answer(task_struct* t, syscall_regs* regs) {
    user_frame& top = stack.back();
    long ret = t->thread.ax;
    py::object value;
    int err = 0;
    PyObject* r0 = PyTuple_Check(top.last_req.ptr()) && PyTuple_GET_SIZE(top.last_req.ptr()) ? PyTuple_GET_ITEM(top.last_req.ptr(), 0) : nullptr;
    if (r0 == compute_marker) {
        value = py::none();  // user-mode work done: compute() returns None
    } else if (ret < 0 && ret >= -4095) {
        err = static_cast<int>(-ret);
        // A failed call's outs (nanosleep's time left) go with the OSError.
        bool any = false;
        for (const out_slot& s : top.outs) any = any || !s.trunc;
        if (any) {
            py::tuple outs(top.outs.size());
            for (size_t i = 0; i < top.outs.size(); i++) outs[i] = top.outs[i].trunc ? py::none() : read_out(t, top.outs[i], 0, this);
            value = std::move(outs);
        } else {
            value = py::none();
        }
    } else if (top.outs.empty()) {
        value = py::int_(ret);
    } else {
        py::tuple v(top.outs.size() + 1);
        v[0] = py::int_(ret);
        for (size_t i = 0; i < top.outs.size(); i++) v[i + 1] = read_out(t, top.outs[i], ret, this);
        value = std::move(v);
    }
    // Large arguments had mappings of their own: the call is over, they go (free → munmap).
    for (auto& [start, end] : top.maps) do_munmap(t->mm.get(), start, end - start);
    top.maps.clear();
    top.outs.clear();
    log->entries.push_back(call_entry(top.last_req, value, err));
    return resume(t, value.ptr(), err, nullptr, regs);
}

// ---- the Python side of the markers ----

void bind_user_api(py::module_& m) {
    bind_user_arg(m);
    py::object object = py::module_::import("builtins").attr("object");
    py::object compute = object(), raw = object();
    m.attr("COMPUTE") = compute;
    m.attr("RAW") = raw;
    compute_marker = compute.release().ptr();
    raw_marker = raw.release().ptr();
}

}  // namespace gk
