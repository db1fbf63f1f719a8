// The simulator's Python binding. Python values to and from the uapi structures in user memory, by their C type.
#include "bindings/uapi_convert.h"

#include <cmath>
#include <cstring>

#include "bindings/user_python.h"
#include "glasskernel/net/ip.h"

namespace gk {

static py::object& namedtuple_slot(const char* name) {
    static py::object* siginfo = new py::object();  // leaked on purpose: lives as long as Python
    (void)name;
    return *siginfo;
}

py::object siginfo_type() { return namedtuple_slot("SigInfo"); }

void init_uapi_types(py::module_& m) {
    py::object namedtuple = py::module_::import("collections").attr("namedtuple");
    py::object si = namedtuple("SigInfo", py::make_tuple("si_signo", "si_code", "si_pid", "si_uid", "si_status", "si_value"));
    si.attr("__doc__") = "A siginfo_t as user memory holds it (include/uapi/asm-generic/siginfo.h).";
    si.attr("__module__") = "glasskernel";
    namedtuple_slot("SigInfo") = si;
    m.attr("SigInfo") = si;
}

[[noreturn]] static void raise(PyObject* type, const std::string& msg) {
    PyErr_SetString(type, msg.c_str());
    throw py::error_already_set();
}

unsigned long scalar_from_python(py::handle v, unsigned size, bool is_signed, const char* what) {
    if (!PyLong_Check(v.ptr())) {
        PyObject* idx = PyNumber_Index(v.ptr());  // ints in disguise (numpy, enums) are welcome
        if (!idx) {
            PyErr_Clear();
            raise(PyExc_TypeError, std::string(what) + " must be an int, not " + Py_TYPE(v.ptr())->tp_name);
        }
        py::object o = py::reinterpret_steal<py::object>(idx);
        return scalar_from_python(o, size, is_signed, what);
    }
    int overflow = 0;
    long long s = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow < 0) raise(PyExc_OverflowError, std::string(what) + " is less than the minimum of its C type");
    unsigned long long u = 0;
    if (overflow > 0) {
        if (is_signed || size < 8) raise(PyExc_OverflowError, std::string(what) + " is greater than the maximum of its C type");
        u = PyLong_AsUnsignedLongLong(v.ptr());
        if (PyErr_Occurred()) {
            PyErr_Clear();
            raise(PyExc_OverflowError, std::string(what) + " is greater than the maximum of its C type");
        }
        return u;
    }
    if (size < 8) {
        long long bits = 8LL * size;
        long long smin = -(1LL << (bits - 1)), smax = (1LL << (bits - 1)) - 1, umax = (1LL << bits) - 1;
        // An unsigned parameter takes what C would convert to it: the signed range too.
        if (s < smin || s > (is_signed ? smax : umax))
            raise(PyExc_OverflowError, std::string(what) + " is out of range for a " + std::to_string(size * 8) + "-bit " +
                                           (is_signed ? "signed" : "unsigned") + " C integer");
    }
    return static_cast<unsigned long>(s);
}

static u64 sigset_from_python(py::handle v, const char* what) {
    if (PyLong_Check(v.ptr())) return scalar_from_python(v, 8, false, what);  // a raw mask
    if (PyUnicode_Check(v.ptr()) || PyBytes_Check(v.ptr()))
        raise(PyExc_TypeError, std::string(what) + " must be a set of signal numbers, like {signal.SIGCHLD}");
    PyObject* it = PyObject_GetIter(v.ptr());
    if (!it) {
        PyErr_Clear();
        raise(PyExc_TypeError, std::string(what) + " must be a set of signal numbers, like {signal.SIGCHLD}");
    }
    py::object iter = py::reinterpret_steal<py::object>(it);
    u64 mask = 0;
    while (PyObject* item = PyIter_Next(iter.ptr())) {
        py::object o = py::reinterpret_steal<py::object>(item);
        long sig = static_cast<long>(scalar_from_python(o, 4, true, "a signal number"));
        // sigaddset(3) refuses these with EINVAL before any system call is made.
        if (sig < 1 || sig > _NSIG) raise(PyExc_ValueError, "signal " + std::to_string(sig) + " is out of range (1.." + std::to_string(_NSIG) + ")");
        mask |= sigmask(static_cast<int>(sig));
    }
    if (PyErr_Occurred()) throw py::error_already_set();
    return mask;
}

static py::object sigset_to_python(u64 mask) {
    py::set s;
    for (int sig = 1; sig <= _NSIG; sig++)
        if (mask & sigmask(sig)) s.add(py::int_(sig));
    return s;
}

// Seconds as an int or float, or an explicit (tv_sec, tv_nsec) pair; negative values reach the
// kernel, which answers EINVAL as it does a C caller's.
static __kernel_timespec timespec_from_python(py::handle v, const char* what) {
    if (PyTuple_Check(v.ptr()) && PyTuple_GET_SIZE(v.ptr()) == 2) {
        return __kernel_timespec{static_cast<long long>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 0), 8, true, what)),
                                 static_cast<long long>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 8, true, what))};
    }
    if (PyFloat_Check(v.ptr())) {
        double d = PyFloat_AS_DOUBLE(v.ptr());
        if (!std::isfinite(d)) raise(PyExc_ValueError, std::string(what) + " must be a finite number of seconds");
        double sec = std::floor(d);
        if (sec >= 9.2e18 || sec < -9.2e18) raise(PyExc_OverflowError, std::string(what) + " is too large for a struct timespec");
        long long nsec = static_cast<long long>(std::llround((d - sec) * 1e9));
        long long s = static_cast<long long>(sec);
        if (nsec >= 1000000000LL) {
            s++;
            nsec -= 1000000000LL;
        }
        return __kernel_timespec{s, nsec};
    }
    return __kernel_timespec{static_cast<long long>(scalar_from_python(v, 8, true, what)), 0};
}

static double timespec_to_python(const __kernel_timespec& ts) {
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

static __kernel_old_timeval timeval_from_python(py::handle v, const char* what) {
    __kernel_timespec ts = timespec_from_python(v, what);
    return __kernel_old_timeval{static_cast<long>(ts.tv_sec), static_cast<long>(ts.tv_nsec / 1000)};
}

static double timeval_to_python(const __kernel_old_timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

static py::object rlim_to_python(u64 v) { return v == RLIM_INFINITY ? py::int_(-1) : py::int_(v); }
static u64 rlim_from_python(py::handle v, const char* what) {
    if (PyLong_Check(v.ptr()) && PyLong_AsLongLong(v.ptr()) == -1 && !PyErr_Occurred()) return RLIM_INFINITY;
    PyErr_Clear();
    return scalar_from_python(v, 8, false, what);
}

// A (host, port) pair as Python's socket module writes it; None is AF_UNSPEC.
static std::string sockaddr_from_python(py::handle v, const char* what) {
    sockaddr_in sin{};
    if (v.is_none()) return std::string(reinterpret_cast<const char*>(&sin), sizeof sin);
    if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2 || !PyUnicode_Check(PyTuple_GET_ITEM(v.ptr(), 0)))
        raise(PyExc_TypeError, std::string(what) + ": an AF_INET address is a (host, port) tuple, like ('10.0.0.2', 9000)");
    std::string host = py::cast<std::string>(PyTuple_GET_ITEM(v.ptr(), 0));
    long port = static_cast<long>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 4, true, "port"));
    if (port < 0 || port > 65535) raise(PyExc_OverflowError, "port must be 0-65535");
    u32 addr = 0;
    if (!host.empty() && !ip_parse(host, &addr)) raise(PyExc_ValueError, "not an IPv4 address: '" + host + "'");
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<u16>(port));
    sin.sin_addr.s_addr = htonl(addr);
    return std::string(reinterpret_cast<const char*>(&sin), sizeof sin);
}

static py::object sockaddr_to_python(const u8* data, size_t n) {
    if (n < sizeof(sa_family_t)) return py::none();
    sa_family_t family;
    memcpy(&family, data, sizeof family);
    if (family == AF_INET && n >= sizeof(sockaddr_in)) {
        sockaddr_in sin;
        memcpy(&sin, data, sizeof sin);
        return py::make_tuple(ip_str(ntohl(sin.sin_addr.s_addr)), ntohs(sin.sin_port));
    }
    if (family == AF_UNSPEC) return py::none();
    return py::bytes(reinterpret_cast<const char*>(data), n);
}

static py::object handler_to_python(unsigned long h, py_image* img) {
    if (img && h >= 2) {
        py::object fn = img->handler_object(h);
        if (fn) return fn;
    }
    static py::object* handlers = new py::object(py::module_::import("signal").attr("Handlers"));
    if (h <= 1) return (*handlers)(h);
    return py::int_(h);  // an address the program never installed as a handler
}

template <typename T>
static std::string raw(const T& v) {
    return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string uapi_from_python(const uapi_type* t, py::handle v, py_image* img, const char* what) {
    switch (t->kind) {
    case uapi_kind::SCALAR: {
        unsigned long x = scalar_from_python(v, t->size, t->is_signed, what);
        return std::string(reinterpret_cast<const char*>(&x), t->size);
    }
    case uapi_kind::SIGSET: return raw(sigset_t{sigset_from_python(v, what)});
    case uapi_kind::TIMESPEC: return raw(timespec_from_python(v, what));
    case uapi_kind::OLD_ITIMERVAL: {
        // (value, interval), the order Python's setitimer takes them in.
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2)
            raise(PyExc_TypeError, std::string(what) + " must be a (value, interval) pair of seconds");
        __kernel_old_itimerval it{timeval_from_python(PyTuple_GET_ITEM(v.ptr(), 1), "interval"),
                                  timeval_from_python(PyTuple_GET_ITEM(v.ptr(), 0), "value")};
        return raw(it);
    }
    case uapi_kind::RLIMIT:
    case uapi_kind::RLIMIT64: {
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2)
            raise(PyExc_TypeError, std::string(what) + " must be a (soft, hard) pair; -1 is RLIM_INFINITY");
        rlimit64 r{rlim_from_python(PyTuple_GET_ITEM(v.ptr(), 0), "soft limit"), rlim_from_python(PyTuple_GET_ITEM(v.ptr(), 1), "hard limit")};
        return raw(r);
    }
    case uapi_kind::SCHED_PARAM: return raw(sched_param{static_cast<int>(scalar_from_python(v, 4, true, what))});
    case uapi_kind::SOCKADDR: return sockaddr_from_python(v, what);
    case uapi_kind::POLLFD: {
        // (fd, events): revents is the kernel's to fill in.
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2)
            raise(PyExc_TypeError, std::string(what) + ": each struct pollfd is an (fd, events) pair");
        pollfd p{static_cast<int>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 0), 4, true, "fd")),
                 static_cast<short>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 2, false, "events")), 0};
        return raw(p);
    }
    case uapi_kind::FD_SET: {
        // The descriptors in the set; like Python's select(), one outside 0..FD_SETSIZE-1 is a
        // ValueError (C's FD_SET would write past the bitmap).
        fd_set s{};
        py::iterator it = py::iter(v);
        for (py::handle item : it) {
            long fd = static_cast<long>(scalar_from_python(item, 8, true, "a descriptor in an fd_set"));
            if (fd < 0 || fd >= FD_SETSIZE) raise(PyExc_ValueError, "filedescriptor out of range in select()");
            s.fds_bits[fd / 64] |= 1UL << (fd % 64);
        }
        return raw(s);
    }
    case uapi_kind::OLD_TIMEVAL: {
        // Seconds, or an explicit (tv_sec, tv_usec) pair.
        if (PyTuple_Check(v.ptr()) && PyTuple_GET_SIZE(v.ptr()) == 2)
            return raw(__kernel_old_timeval{static_cast<long>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 0), 8, true, what)),
                                            static_cast<long>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 8, true, what))});
        return raw(timeval_from_python(v, what));
    }
    case uapi_kind::EPOLL_EVENT: {
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 2)
            raise(PyExc_TypeError, std::string(what) + " must be an (events, data) pair");
        epoll_event ev{static_cast<u32>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 0), 4, false, "events")),
                       static_cast<u64>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 8, false, "data"))};
        return raw(ev);
    }
    case uapi_kind::SIGACTION: {
        // (handler, flags, mask): the handler an `async def` (its address in the image),
        // signal.SIG_DFL / SIG_IGN, or an int address.
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 3)
            raise(PyExc_TypeError, std::string(what) + " must be a (handler, flags, mask) triple");
        py::handle h = PyTuple_GET_ITEM(v.ptr(), 0);
        struct sigaction sa{};
        if (PyLong_Check(h.ptr()))
            sa.sa_handler = scalar_from_python(h, 8, false, "handler");
        else if (img && PyCallable_Check(h.ptr()))
            sa.sa_handler = img->handler_token(h.ptr());
        else
            raise(PyExc_TypeError, "a signal handler must be signal.SIG_DFL, signal.SIG_IGN or an `async def handler(sys, signo)`");
        sa.sa_flags = scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 8, false, "flags");
        sa.sa_mask = sigset_from_python(PyTuple_GET_ITEM(v.ptr(), 2), "mask");
        return raw(sa);
    }
    case uapi_kind::SIGINFO: {
        // (si_signo, si_code, si_pid, si_uid, si_status, si_value), as SigInfo reads back.
        if (!PyTuple_Check(v.ptr()) || PyTuple_GET_SIZE(v.ptr()) != 6)
            raise(PyExc_TypeError, std::string(what) + " must be a SigInfo (signo, code, pid, uid, status, value)");
        siginfo_t si{};
        si.si_signo = static_cast<int>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 0), 4, true, "si_signo"));
        si.si_code = static_cast<int>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 1), 4, true, "si_code"));
        si._sifields._rt._pid = static_cast<int>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 2), 4, true, "si_pid"));
        si._sifields._rt._uid = static_cast<unsigned>(scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 3), 4, false, "si_uid"));
        si._sifields._rt._sigval.sival_ptr = scalar_from_python(PyTuple_GET_ITEM(v.ptr(), 5), 8, true, "si_value");
        return raw(si);
    }
    default:
        raise(PyExc_TypeError, std::string(what) + ": " + (t->name[0] ? t->name : "this argument") +
                                   " takes bytes, an address (int) or None");
    }
}

py::object uapi_to_python(const uapi_type* t, const u8* data, size_t n, py_image* img) {
    auto get = [&](auto* out) {
        *out = {};
        std::memcpy(static_cast<void*>(out), data, std::min(n, sizeof *out));
    };
    switch (t->kind) {
    case uapi_kind::SCALAR: {
        if (t->is_signed) {
            long long v = 0;
            if (t->size == 1) v = static_cast<int8_t>(data[0]);
            else if (t->size == 2) { int16_t x; get(&x); v = x; }
            else if (t->size == 4) { int x; get(&x); v = x; }
            else { long long x; get(&x); v = x; }
            return py::int_(v);
        }
        unsigned long long v = 0;
        std::memcpy(&v, data, std::min<size_t>(n, t->size));
        return py::int_(v);
    }
    case uapi_kind::CHAR:
    case uapi_kind::VOID: return py::bytes(reinterpret_cast<const char*>(data), n);
    case uapi_kind::SIGSET: { sigset_t s; get(&s); return sigset_to_python(s.sig); }
    case uapi_kind::TIMESPEC: { __kernel_timespec ts; get(&ts); return py::float_(timespec_to_python(ts)); }
    case uapi_kind::OLD_ITIMERVAL: {
        __kernel_old_itimerval it;
        get(&it);
        return py::make_tuple(timeval_to_python(it.it_value), timeval_to_python(it.it_interval));
    }
    case uapi_kind::RLIMIT:
    case uapi_kind::RLIMIT64: { rlimit64 r; get(&r); return py::make_tuple(rlim_to_python(r.rlim_cur), rlim_to_python(r.rlim_max)); }
    case uapi_kind::SCHED_PARAM: { sched_param p; get(&p); return py::int_(p.sched_priority); }
    case uapi_kind::SOCKADDR: return sockaddr_to_python(data, n);
    case uapi_kind::POLLFD: { pollfd p; get(&p); return py::make_tuple(p.fd, p.events, static_cast<unsigned short>(p.revents)); }
    case uapi_kind::FD_SET: {
        fd_set s;
        get(&s);
        py::list fds;
        for (int fd = 0; fd < FD_SETSIZE; fd++)
            if (s.fds_bits[fd / 64] >> (fd % 64) & 1) fds.append(fd);
        return fds;
    }
    case uapi_kind::OLD_TIMEVAL: { __kernel_old_timeval tv; get(&tv); return py::float_(timeval_to_python(tv)); }
    case uapi_kind::EPOLL_EVENT: {
        // (data, events), the order Python's select.epoll.poll() reports them in.
        epoll_event ev;
        get(&ev);
        u64 d = ev.data;
        u32 e = ev.events;
        return py::make_tuple(d, e);
    }
    case uapi_kind::RUSAGE: {
        struct rusage r;
        get(&r);
        static py::object* cls = new py::object(py::module_::import("resource").attr("struct_rusage"));
        py::tuple f(16);
        f[0] = timeval_to_python(r.ru_utime);
        f[1] = timeval_to_python(r.ru_stime);
        const long* rest = &r.ru_maxrss;
        for (int i = 0; i < 14; i++) f[2 + i] = py::int_(rest[i]);
        return (*cls)(f);
    }
    case uapi_kind::SIGINFO: {
        siginfo_t si;
        get(&si);
        bool chld = si.si_signo == SIGCHLD && si.si_code > 0;
        return siginfo_type()(si.si_signo, si.si_code, si._sifields._kill._pid, si._sifields._kill._uid,
                              chld ? si._sifields._sigchld._status : 0, chld ? 0L : static_cast<long>(si._sifields._rt._sigval.sival_ptr));
    }
    case uapi_kind::SIGACTION: {
        struct sigaction sa;
        get(&sa);
        return py::make_tuple(handler_to_python(sa.sa_handler, img), sa.sa_flags, sigset_to_python(sa.sa_mask));
    }
    default: return py::bytes(reinterpret_cast<const char*>(data), n);
    }
}

}  // namespace gk
