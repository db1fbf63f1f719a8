// The user-mode driver for Python programs (engine, host side): drives a program's coroutine with
// PyIter_Send, turns what it yields into syscall registers, records every call in the process's
// log, and rebuilds a fork child's coroutine by replaying that log in a tight loop.
#include "bindings/user_python.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>

#include "glasskernel/linux.h"
#include "glasskernel/net/ip.h"

namespace gk {

static py::object& sys_class() {
    static py::object* cls = new py::object();  // leaked on purpose: lives as long as Python
    return *cls;
}
void set_user_api(py::object c) { sys_class() = std::move(c); }

py_mm::py_mm(std::shared_ptr<py_program> p, std::vector<std::string> a, std::vector<std::string> e)
    : prog(std::move(p)), argv(std::move(a)), envp(std::move(e)), log(std::make_shared<log_segment>()) {}

py_mm::~py_mm() {
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

long py_mm::handler_token(PyObject* fn) {
    for (size_t i = 0; i < handlers.size(); i++)
        if (handlers[i].ptr() == fn) return static_cast<long>(i) + 2;
    handlers.push_back(py::reinterpret_borrow<py::object>(fn));
    return static_cast<long>(handlers.size()) + 1;
}

py::object py_mm::handler_object(long token) const {
    if (token < 2 || static_cast<size_t>(token - 2) >= handlers.size()) return py::object();
    return handlers[token - 2];
}

size_t py_mm::log_size() const {
    size_t n = log->entries.size();
    for (const log_segment* s = log.get(); s->prev; s = s->prev.get()) n += s->prev_len;
    return n;
}

// Called on a kernel fiber (copy_mm): only shared_ptr copies, no Python API.
std::unique_ptr<mm_struct> py_mm::dup_mm(const syscall_regs&) {
    auto child = std::make_unique<py_mm>(prog, argv, envp);
    auto seg = std::make_shared<log_segment>();
    seg->prev = log;
    seg->prev_len = log->entries.size();
    child->log = std::move(seg);
    child->replay_pending = true;
    child->fork_req = stack.back().last_req;  // a reference count only: no Python code runs on a fiber
    return child;
}

bool requests_equal(PyObject* a, PyObject* b) {
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
    if (PyTuple_Check(req) && PyTuple_GET_SIZE(req) > 0 && PyLong_Check(PyTuple_GET_ITEM(req, 0))) {
        long nr = PyLong_AsLong(PyTuple_GET_ITEM(req, 0));
        const char* name = nr == -1 ? "compute" : syscall_name(nr);
        if (name) s = std::string(name) + s;
    }
    return s;
}

bool parse_request(py_mm* mm, PyObject* req, syscall_regs* regs, std::string* why) {
    if (!PyTuple_CheckExact(req) || PyTuple_GET_SIZE(req) < 1 || !PyLong_Check(PyTuple_GET_ITEM(req, 0))) {
        *why = "a program may only await glasskernel system calls (sys.getpid(), sys.fork(), ...); it awaited something that yielded " + describe(req);
        return false;
    }
    regs->nr = PyLong_AsLong(PyTuple_GET_ITEM(req, 0));
    for (long& a : regs->args) a = 0;
    regs->data.clear();
    regs->data2.clear();
    int bi = 0;
    regs->argv.clear();
    regs->envp.clear();
    int ai = 0, vi = 0;
    Py_ssize_t n = PyTuple_GET_SIZE(req);
    for (Py_ssize_t i = 1; i < n; i++) {
        PyObject* o = PyTuple_GET_ITEM(req, i);
        if (PyLong_Check(o)) {
            if (ai >= 6) continue;
            long v = PyLong_AsLong(o);
            if (v == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                v = static_cast<long>(PyLong_AsUnsignedLongMask(o));
            }
            regs->args[ai++] = v;
        } else if (PyBytes_Check(o)) {
            (bi++ == 0 ? regs->data : regs->data2).assign(PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
        } else if (PyUnicode_Check(o)) {
            Py_ssize_t len;
            const char* s = PyUnicode_AsUTF8AndSize(o, &len);
            if (!s) {
                PyErr_Clear();
                *why = "a string argument could not be encoded as UTF-8";
                return false;
            }
            regs->data.assign(s, len);
        } else if (PyTuple_Check(o) || PyList_Check(o)) {
            std::vector<std::string>& v = vi++ == 0 ? regs->argv : regs->envp;
            PyObject* seq = PySequence_Fast(o, "");
            for (Py_ssize_t j = 0; j < PySequence_Fast_GET_SIZE(seq); j++) {
                PyObject* s = PySequence_Fast_GET_ITEM(seq, j);
                const char* c = PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : (PyBytes_Check(s) ? PyBytes_AS_STRING(s) : nullptr);
                if (!c) {
                    PyErr_Clear();
                    Py_DECREF(seq);
                    *why = "argv and env entries must be str or bytes";
                    return false;
                }
                v.emplace_back(c);
            }
            Py_DECREF(seq);
        } else if (o == Py_None) {
            if (ai < 6) regs->args[ai++] = 0;
        } else if (PyCallable_Check(o)) {
            // A handler handed to the kernel: the kernel keeps its "address" in this image.
            if (ai < 6) regs->args[ai++] = mm->handler_token(o);
        }
    }
    return true;
}

static py::object sigset_to_py(u64 mask) {
    py::set s;
    for (int sig = 1; sig <= 64; sig++)
        if (mask & (1ULL << (sig - 1))) s.add(py::int_(sig));
    return py::object(std::move(s));
}

static double ns_to_s(long ns) { return static_cast<double>(ns) / 1e9; }

static py::object rusage(long utime, long stime, long nvcsw, long nivcsw) {
    static py::object* cls = new py::object(py::module_::import("resource").attr("struct_rusage"));
    py::tuple t(16);
    t[0] = py::float_(ns_to_s(utime));
    t[1] = py::float_(ns_to_s(stime));
    for (int i = 2; i < 14; i++) t[i] = py::int_(0);
    t[14] = py::int_(nvcsw);
    t[15] = py::int_(nivcsw);
    return (*cls)(t);
}

py::object syscall_result(py_mm* mm, long nr, const py::tuple& req, long ret, const user_out& out) {
    switch (nr) {
    case 0: return py::bytes(out.data);
    case 3: case 24: case 105: case 106: case 109: case 141: case 160: return py::none();
    case 14: case 127: return sigset_to_py(static_cast<u64>(out.v[0]));
    case 35: return py::float_(ns_to_s(out.v[0]));
    case 61:
        if (req.size() > 3 && PyObject_IsTrue(req[3].ptr()))
            return py::make_tuple(ret, out.v[0], rusage(out.v[1], out.v[2], out.v[3], out.v[4]));
        return py::make_tuple(ret, out.v[0]);
    case 97: case 302: return py::make_tuple(out.v[0], out.v[1]);
    case 98: return rusage(out.v[0], out.v[1], out.v[2], out.v[3]);
    case 140: return py::int_(20 - ret);
    case 157: {
        long option = req.size() > 1 ? req[1].cast<long>() : 0;
        if (option == PR_GET_CHILD_SUBREAPER || option == PR_GET_PDEATHSIG) return py::int_(out.v[0]);
        if (option == PR_GET_NAME) return py::str(out.data);
        return py::none();
    }
    case 228: return py::float_(ns_to_s(out.v[0]));
    case 128:
        if (req.size() > 3 && PyObject_IsTrue(req[3].ptr())) {
            static py::object* cls = new py::object(py::module_::import("glasskernel.program").attr("SigInfo"));
            return (*cls)(out.v[0], out.v[1], out.v[2], out.v[3], out.v[4], out.v[5]);
        }
        return py::int_(ret);
    case 13: {
        if (out.v[0] >= 2) {
            py::object fn = mm->handler_object(out.v[0]);
            if (fn) return fn;
        }
        static py::object* handlers = new py::object(py::module_::import("signal").attr("Handlers"));
        return (*handlers)(out.v[0]);
    }
    case 36: case 38: return py::make_tuple(ns_to_s(out.v[0]), ns_to_s(out.v[1]));
    case 62: case 129: case 200: case 234: case 142: case 144: case 203: return py::none();
    case 148: return py::float_(ns_to_s(out.v[0]));
    case 204: {
        py::set cpus;
        for (int c = 0; c < 64; c++)
            if (static_cast<u64>(out.v[0]) & (1ULL << c)) cpus.add(py::int_(c));
        return py::object(std::move(cpus));
    }
    case 247: {
        if (out.v[0] == 0) return py::none();
        static py::object* cls = new py::object(py::module_::import("os").attr("waitid_result"));
        return (*cls)(py::make_tuple(out.v[0], out.v[1], out.v[2], out.v[3], out.v[4]));
    }
    case 42: case 48: case 49: case 50: case 54: return py::none();
    case 45: {
        // recvfrom: the bytes and the sender; recvmsg's form (a 5th request field) adds the
        // return value and msg_flags.
        py::object addr = py::none();
        if (out.v[0] >= 16 && out.v[1] == 2) addr = py::make_tuple(ip_str(static_cast<u32>(out.v[3])), out.v[2]);
        if (req.size() > 5 && PyObject_IsTrue(req[5].ptr())) return py::make_tuple(py::bytes(out.data), ret, out.v[4], addr);
        return py::make_tuple(py::bytes(out.data), addr);
    }
    case 51: case 52: return py::make_tuple(ip_str(static_cast<u32>(out.v[3])), out.v[2]);
    case 55: return py::int_(out.v[0]);
    case 232: {
        // struct epoll_event is packed: 4 bytes of events, 8 of data.
        py::list evs;
        for (size_t i = 0; i + 12 <= out.data.size(); i += 12) {
            u32 events;
            u64 data;
            memcpy(&events, out.data.data() + i, 4);
            memcpy(&data, out.data.data() + i + 4, 8);
            evs.append(py::make_tuple(data, events));
        }
        return py::object(std::move(evs));
    }
    case 233: return py::none();
    default: return py::int_(ret);
    }
}

static py::object make_oserror(int err) {
    return py::reinterpret_steal<py::object>(
        PyObject_CallFunction(PyExc_OSError, "is", err, strerror(err)));
}

// Resume the coroutine with a value, or throw OSError(err) into it; like PyIter_Send, returns
// PYGEN_NEXT (a yielded request in *result), PYGEN_RETURN (main's return value) or PYGEN_ERROR.
static int send_or_throw(PyObject* coro, PyObject* value, int err, PyObject** result) {
    if (!err) return PyIter_Send(coro, value, result);
    py::object exc = make_oserror(err);
    *result = PyObject_CallMethod(coro, "throw", "O", exc.ptr());
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

// A fresh coroutine of the program, main(sys, *argv[1:]), as the only frame on the user stack.
bool py_mm::make_coroutine(std::string* why) {
    py::object coro;
    try {
        sys = sys_class()(argv, envp);
        py::tuple a(argv.size() > 0 ? argv.size() : 1);
        a[0] = sys;
        for (size_t i = 1; i < argv.size(); i++) a[i] = py::str(argv[i]);
        coro = prog->fn(*a);
    } catch (py::error_already_set& e) {
        *why = std::string("could not start ") + prog->path + ": " + e.what();
        return false;
    }
    if (!PyCoro_CheckExact(coro.ptr()) && !PyGen_Check(coro.ptr())) {
        *why = prog->path + ": main must be an `async def` function";
        return false;
    }
    stack.clear();
    stack.push_back(user_frame{coro, py::object(), false, 0});
    return true;
}

static py::tuple& sigreturn_req() {
    static py::tuple* t = new py::tuple(py::make_tuple(15));
    return *t;
}

static py::object siginfo_object(const kernel_siginfo& i) {
    static py::object* cls = new py::object(py::module_::import("glasskernel.program").attr("SigInfo"));
    return (*cls)(i.si_signo, i.si_code, i.si_pid, i.si_uid, i.si_status, i.si_value);
}

// setup_rt_frame built a frame for a handler: start the handler's coroutine on top of the stack,
// handler(sys, signo), or handler(sys, signo, info) with SA_SIGINFO.
bool py_mm::push_handler(const rt_sigframe& f, std::string* why) {
    py::object fn = handler_object(f.handler);
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
    stack.push_back(user_frame{coro, py::object(), false, f.id});
    return true;
}

user_step py_mm::crash(const std::string& why, bool kill) {
    crash_report = why;
    finished = true;
    if (kill && why.rfind("fork replay", 0) == 0 && this_kernel && !this_kernel->host_error) {
        // The child dies (SIGKILL) and run() raises, so the divergence cannot go unnoticed.
        try {
            py::object exc = py::module_::import("glasskernel.kernel").attr("ReplayDivergence");
            PyErr_SetObject(exc.ptr(), py::str(prog->path + ": " + why).ptr());
            throw py::error_already_set();
        } catch (py::error_already_set&) {
            this_kernel->host_error = std::current_exception();
        }
    }
    return user_step{kill ? user_exit::KILLED : user_exit::CRASH, 0};
}

// What the coroutine did after a send/throw: made a call, returned, or raised.
user_step py_mm::outcome(task_struct* t, int status, PyObject* result, syscall_regs* regs) {
    (void)t;
    if (status == PYGEN_NEXT) {
        py::object req = py::reinterpret_steal<py::object>(result);
        std::string why;
        if (!parse_request(this, req.ptr(), regs, &why)) return crash("TypeError: " + why, false);
        stack.back().last_req = std::move(req);
        if (regs->nr == -1) return user_step{user_exit::COMPUTE, static_cast<u64>(std::max(0L, regs->args[0]))};
        return user_step{user_exit::SYSCALL, 0};
    }
    long code = 0;
    if (status == PYGEN_RETURN && stack.size() > 1) {
        // A handler returned: like the restorer trampoline, make rt_sigreturn.
        Py_XDECREF(result);
        stack.back().last_req = sigreturn_req();
        regs->nr = 15;
        for (long& a : regs->args) a = 0;
        return user_step{user_exit::SYSCALL, 0};
    }
    if (status == PYGEN_RETURN) {
        // Returning from main is exit(): libc calls exit_group with main's value.
        py::object v = py::reinterpret_steal<py::object>(result);
        if (v.is_none()) code = 0;
        else if (PyLong_Check(v.ptr())) code = PyLong_AsLong(v.ptr());
        else code = 1;
    } else {
        if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            PyObject* c = value ? PyObject_GetAttrString(value, "code") : nullptr;
            if (!c) PyErr_Clear();
            code = (!c || c == Py_None) ? 0 : (PyLong_Check(c) ? PyLong_AsLong(c) : 1);
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
                py::list lines = fmt(e.value());
                for (auto l : lines) tb += l.cast<std::string>();
            } catch (py::error_already_set&) {
                tb = e.what();
            }
            return crash(tb, false);
        }
    }
    finished = true;
    regs->nr = 231;  // exit_group
    for (long& a : regs->args) a = 0;
    regs->args[0] = code;
    stack.back().last_req = py::make_tuple(231, code);
    return user_step{user_exit::SYSCALL, 0};
}

user_step py_mm::start_top(task_struct* t, syscall_regs* regs) {
    PyObject* result = nullptr;
    stack.back().started = true;
    int status = PyIter_Send(stack.back().coro.ptr(), Py_None, &result);
    return outcome(t, status, result, regs);
}

user_step py_mm::deliver(task_struct* t, py::object value, int err, syscall_regs* regs) {
    user_frame& top = stack.back();
    log->entries.push_back(log_entry{top.last_req, value, err});
    PyObject* result = nullptr;
    int status = send_or_throw(top.coro.ptr(), value.ptr(), err, &result);
    return outcome(t, status, result, regs);
}

static std::string diverged(size_t index, PyObject* want, const std::string& got) {
    return "fork replay diverged at system call #" + std::to_string(index) + ": the parent made " + describe(want) +
           " but the child's program made " + got +
           ". A program must make the same calls given the same results (take time and randomness from syscalls).";
}

// Rebuild a fork child's user state: run a fresh coroutine of the same program, answering each
// call from the parent's log without entering the kernel, re-entering the same signal handlers
// at the same points, until it reaches the fork.
user_step py_mm::replay(task_struct* t, long ret, const user_out& out, syscall_regs* regs) {
    replay_pending = false;
    std::vector<std::pair<const log_segment*, size_t>> chain;  // segments, oldest first
    for (const log_segment* s = log->prev.get(), *child = log.get(); s; child = s, s = s->prev.get())
        chain.emplace_back(s, child->prev_len);
    std::reverse(chain.begin(), chain.end());
    std::string why;
    if (!make_coroutine(&why)) return crash("fork replay: " + why, true);
    // Drive the top coroutine to its next request (stored in last_req).
    auto next_request = [&](PyObject* value, int err, bool start, std::string* what) -> bool {
        user_frame& top = stack.back();
        PyObject* result = nullptr;
        int status = start ? PyIter_Send(top.coro.ptr(), Py_None, &result) : send_or_throw(top.coro.ptr(), value, err, &result);
        top.started = true;
        if (status == PYGEN_NEXT) {
            top.last_req = py::reinterpret_steal<py::object>(result);
            syscall_regs scratch;
            std::string bad;
            parse_request(this, top.last_req.ptr(), &scratch, &bad);  // rebinds handler addresses
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
                py::object fn = handler_object(e.token);
                if (!fn) return crash("fork replay diverged: the child has no handler for signal " + std::to_string(e.signo), true);
                py::object coro;
                try {
                    coro = e.info.is_none() ? fn(sys, e.signo) : fn(sys, e.signo, e.info);
                } catch (py::error_already_set& err) {
                    return crash(std::string("fork replay: a handler could not start: ") + err.what(), true);
                }
                stack.push_back(user_frame{coro, py::object(), false, e.frame_id});
                continue;
            }
            index++;
            user_frame& top = stack.back();
            std::string what;
            if (!top.started && !next_request(nullptr, 0, true, &what)) return crash(diverged(index, e.req.ptr(), what), true);
            if (!requests_equal(stack.back().last_req.ptr(), e.req.ptr()))
                return crash(diverged(index, e.req.ptr(), describe(stack.back().last_req.ptr())), true);
            if (e.req.ptr() == sigreturn_req().ptr() || requests_equal(e.req.ptr(), sigreturn_req().ptr())) {
                stack.pop_back();
                continue;
            }
            // The request obtained here is compared with the next entry, or with the fork.
            if (!next_request(e.result.ptr(), e.err, false, &what)) return crash(diverged(index + 1, e.req.ptr(), what), true);
        }
    }
    // The next request must be the fork itself; from there the child runs for real.
    user_frame& top = stack.back();
    std::string what;
    if (!top.started && !next_request(nullptr, 0, true, &what)) return crash(diverged(index + 1, fork_req.ptr(), what), true);
    if (!requests_equal(stack.back().last_req.ptr(), fork_req.ptr()))
        return crash(diverged(index + 1, fork_req.ptr(), describe(stack.back().last_req.ptr())), true);
    stack.back().last_req = fork_req;
    fork_req = py::object();
    long nr = PyLong_AsLong(PyTuple_GET_ITEM(stack.back().last_req.ptr(), 0));
    return deliver(t, syscall_result(this, nr, py::reinterpret_borrow<py::tuple>(stack.back().last_req), ret, out), 0, regs);
}

user_step py_mm::run_user(task_struct* t, long ret, const user_out& out, syscall_regs* regs) {
    if (finished) return crash("the program has already ended", true);
    if (replay_pending) {
        regs->nr = PyLong_AsLong(PyTuple_GET_ITEM(fork_req.ptr(), 0));
        return replay(t, ret, out, regs);
    }
    std::string why;
    if (stack.empty()) {
        if (!make_coroutine(&why)) return crash(why, false);
        return start_top(t, regs);
    }
    const std::vector<rt_sigframe>& frames = t->thread.sigframes;
    // The common case: no signal frames, main is running, and the registers still hold the call
    // its pending request made.
    if (stack.size() == 1 && frames.empty() && stack.back().started) return answer(t, regs->nr, ret, out, regs);
    if (stack.size() > 1 && stack.back().last_req.ptr() == sigreturn_req().ptr()) {
        size_t depth = stack.size() - 1;
        bool still_there = frames.size() >= depth && frames[depth - 1].id == stack.back().frame_id;
        if (!still_there) {
            // rt_sigreturn completed: the handler's frame is gone.
            log->entries.push_back(log_entry{sigreturn_req(), py::int_(ret), 0});
            stack.pop_back();
        }
    }
    if (stack.size() - 1 > frames.size()) return crash("the user stack lost a signal frame", true);
    bool pushed = false;
    for (size_t i = stack.size() - 1; i < frames.size(); i++) {
        if (!push_handler(frames[i], &why)) return crash(why, false);
        pushed = true;
    }
    if (pushed || !stack.back().started) return start_top(t, regs);
    // After a sigreturn the answer is the interrupted call's restored result; its number comes
    // from the request, not regs->nr, since a handler's calls came between.
    return answer(t, PyLong_AsLong(PyTuple_GET_ITEM(stack.back().last_req.ptr(), 0)), ret, out, regs);
}

// Give the top coroutine the kernel's answer to the request (number nr) it is blocked on.
user_step py_mm::answer(task_struct* t, long nr, long ret, const user_out& out, syscall_regs* regs) {
    const py::object& req = stack.back().last_req;
    if (nr == -1) return deliver(t, py::none(), 0, regs);  // user-mode work done: compute() returns None
    if (nr == 35 && ret == -EINTR) ret = 0;                // nanosleep returns the time left instead
    if (ret < 0 && ret >= -4095) return deliver(t, py::none(), static_cast<int>(-ret), regs);
    return deliver(t, syscall_result(this, nr, py::reinterpret_borrow<py::tuple>(req), ret, out), 0, regs);
}

}  // namespace gk
